/*
 * test_jws.c: compact JWS and JWKs.  Known answers from the RFCs (RFC
 * 8037 A.4 EdDSA sign and verify, RFC 8037 A.3 and RFC 7638 3.1
 * thumbprints, RFC 7515 A.2 RS256 and A.3 ES256), strict base64url,
 * round trips for every algorithm, a table of malformed and forged tokens each with the
 * error it must give, a table of bad JWKs, and key lookup by "kid".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "../../ca/jws.h"

/* RFC 8037 appendix A.1/A.2: the Ed25519 example key. */
#define RFC8037_D	"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define RFC8037_X	"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC8037_JWK	"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" \
			RFC8037_X "\"}"
/* RFC 8037 A.3: its thumbprint. */
#define RFC8037_THUMB	"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
/* RFC 8037 A.4: the JWS of "Example of Ed25519 signing". */
#define RFC8037_INPUT	"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
#define RFC8037_SIG	"hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4" \
			"iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
/*
 * The signature as it was once copied into an issue: same R, wrong S.
 * It must not verify.
 */
#define MISCOPIED_SIG	"hgyY0il_MGCjP0JzlnLWG1PPOt7-09PMcKVC9ZYdBRMjTyCDAvWq" \
			"zOBJgFmk8F3m6PclEJyMnqGtPVG8y4oVBA"

/* RFC 7515 appendix A.3: ES256. */
#define RFC7515_A3_JWK	"{\"kty\":\"EC\",\"crv\":\"P-256\"," \
	"\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"," \
	"\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}"
#define RFC7515_A3_JWS	"eyJhbGciOiJFUzI1NiJ9." \
	"eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt" \
	"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ." \
	"DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA" \
	"pmWQxfKTUJqPP3-Kg6NU1Q"
#define RFC7515_PAYLOAD	"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n " \
	"\"http://example.com/is_root\":true}"
/* RFC 7515 appendix A.2: RS256. */
#define RFC7515_A2_JWK	"{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"" \
	"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw" \
	"-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b3269" \
	"0r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS" \
	"-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aG" \
	"hyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXp" \
	"oQ\"}"
#define RFC7515_A2_JWS	"eyJhbGciOiJSUzI1NiJ9." \
	"eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt" \
	"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ." \
	"cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7" \
	"AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4" \
	"BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K" \
	"0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv" \
	"hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB" \
	"p0igcN_IoypGlUPQGe77Rw"
/* The same point with the last character of y changed: off the curve. */
#define OFF_CURVE_JWK	"{\"kty\":\"EC\",\"crv\":\"P-256\"," \
	"\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"," \
	"\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4\"}"

/* RFC 7638 section 3.1. */
#define RFC7638_N_HEAD	"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4" \
	"cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64t" \
	"Z_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368Q" \
	"QMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-" \
	"bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-" \
	"kEgU8awapJzKnqDKg"
#define RFC7638_N	RFC7638_N_HEAD "w"
#define RFC7638_JWK	"{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\"," \
	"\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}"
#define RFC7638_THUMB	"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

/* Keys made once for all tests. */
static struct {
	uint8_t			 ed_sk[64];	/* RFC 8037 key */
	uint8_t			 ed2_sk[64];	/* another one */
	struct ca_jws_key	*ed, *ed2, *es256, *es384, *rsa;
	EVP_PKEY		*es256_priv, *es384_priv, *rsa_priv;
	char			*rsa1024_jwk;
} K;

static void
decode(const char *b64, uint8_t *out, size_t want)
{
	struct kr_error err;
	size_t n;

	assert_int_equal(ca_jws_b64_decode(b64, strlen(b64), out, want, &n,
	    "test", &err), KR_OK);
	assert_int_equal(n, want);
}

static char *
b64(const uint8_t *buf, size_t len)
{
	char *s = malloc(ca_jws_b64_len(len) + 1);

	assert_non_null(s);
	ca_jws_b64_encode(buf, len, s);
	return s;
}

/* An RSA-1024 public key as a JWK, to be refused. */
static char *
rsa1024_jwk(void)
{
	EVP_PKEY *pk = EVP_RSA_gen(1024);
	BIGNUM *n = NULL, *e = NULL;
	uint8_t nb[128], eb[8];
	char *ns, *es, *out;
	int nl, el;
	size_t n2;

	assert_non_null(pk);
	assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n),
	    1);
	assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e),
	    1);
	nl = BN_bn2bin(n, nb);
	el = BN_bn2bin(e, eb);
	ns = b64(nb, (size_t)nl);
	es = b64(eb, (size_t)el);
	n2 = strlen(ns) + strlen(es) + 64;
	out = malloc(n2);
	assert_non_null(out);
	snprintf(out, n2, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", ns,
	    es);
	free(ns);
	free(es);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pk);
	return out;
}

static int
setup(void **state)
{
	struct kr_error err;
	uint8_t seed[32], pk[32];

	(void)state;
	decode(RFC8037_D, seed, 32);
	crypto_sign_seed_keypair(pk, K.ed_sk, seed);
	if (ca_jws_key_from_ed25519(pk, &K.ed, &err) != KR_OK)
		return -1;
	crypto_sign_keypair(pk, K.ed2_sk);
	if (ca_jws_key_from_ed25519(pk, &K.ed2, &err) != KR_OK)
		return -1;
	K.es256_priv = EVP_EC_gen("P-256");
	K.es384_priv = EVP_EC_gen("P-384");
	K.rsa_priv = EVP_RSA_gen(2048);
	if (K.es256_priv == NULL || K.es384_priv == NULL ||
	    K.rsa_priv == NULL ||
	    ca_jws_key_from_pkey(K.es256_priv, &K.es256, &err) != KR_OK ||
	    ca_jws_key_from_pkey(K.es384_priv, &K.es384, &err) != KR_OK ||
	    ca_jws_key_from_pkey(K.rsa_priv, &K.rsa, &err) != KR_OK)
		return -1;
	K.rsa1024_jwk = rsa1024_jwk();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ca_jws_key_free(K.ed);
	ca_jws_key_free(K.ed2);
	ca_jws_key_free(K.es256);
	ca_jws_key_free(K.es384);
	ca_jws_key_free(K.rsa);
	EVP_PKEY_free(K.es256_priv);
	EVP_PKEY_free(K.es384_priv);
	EVP_PKEY_free(K.rsa_priv);
	free(K.rsa1024_jwk);
	return 0;
}

static struct ca_jws_key *
parse_key(const char *jwk)
{
	struct ca_jws_key *k;
	struct kr_error err;

	if (ca_jws_key_parse(jwk, strlen(jwk), &k, &err) != KR_OK)
		fail_msg("JWK: %s", err.msg);
	return k;
}

/* ---- base64url ---- */

static void
test_b64(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} v[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" }, { "\xfb\xff", "-_8" },
	};
	static const struct {
		const char	*in;
		const char	*msg;
	} bad[] = {
		{ "Zg==", "padding" },
		{ "Zm8=", "padding" },
		{ "Zh", "non-canonical" },	/* 'h' leaves a 1 bit over */
		{ "Zm9", "non-canonical" },
		{ "Z", "cannot encode whole bytes" },
		{ "Zm9vY", "cannot encode whole bytes" },
		{ "Zm9v+g", "not base64url" },
		{ "Zm9v/w", "not base64url" },
		{ "Zm 9", "character 3 is not base64url" },
		{ "Zm9v\nA", "character 5 is not base64url" },
	};
	uint8_t buf[16], all[256];
	struct kr_error err;
	char enc[400];
	size_t i, n, len;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		len = strlen(v[i].in);
		assert_int_equal(ca_jws_b64_len(len), strlen(v[i].out));
		ca_jws_b64_encode((const uint8_t *)v[i].in, len, enc);
		assert_string_equal(enc, v[i].out);
		assert_int_equal(ca_jws_b64_decode(enc, strlen(enc), buf,
		    sizeof(buf), &n, "t", &err), KR_OK);
		assert_int_equal(n, len);
		assert_memory_equal(buf, v[i].in, len);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ca_jws_b64_decode(bad[i].in,
		    strlen(bad[i].in), buf, sizeof(buf), &n, "t", &err),
		    KR_E_PARSE);
		if (strstr(err.msg, bad[i].msg) == NULL)
			fail_msg("\"%s\": %s", bad[i].in, err.msg);
	}
	/* Too long for the buffer. */
	assert_int_equal(ca_jws_b64_decode("Zm9vYmFy", 8, buf, 5, &n, "t",
	    &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "longer than 5"));
	/* Every byte value round-trips. */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)i;
	ca_jws_b64_encode(all, sizeof(all), enc);
	assert_int_equal(ca_jws_b64_decode(enc, strlen(enc), all, sizeof(all),
	    &n, "t", &err), KR_OK);
	for (i = 0; i < sizeof(all); i++)
		assert_int_equal(all[i], i);
}

/* ---- known answers ---- */

static void
test_rfc8037(void **state)
{
	const char *tok = RFC8037_INPUT "." RFC8037_SIG;
	const char *bad = RFC8037_INPUT "." MISCOPIED_SIG;
	struct ca_jws_verifier v = { CA_JWS_EDDSA, NULL, NULL, NULL, NULL };
	struct ca_jws_key *k = parse_key(RFC8037_JWK);
	char thumb[CA_JWS_THUMBPRINT_LEN], *out;
	struct ca_jws *j;
	struct kr_error err;

	(void)state;
	/* A.3: thumbprint; the seed's key is the JWK's. */
	ca_jws_key_thumbprint(k, thumb);
	assert_string_equal(thumb, RFC8037_THUMB);
	assert_true(ca_jws_key_equal(k, K.ed));
	/* A.4: verify. */
	v.key = k;
	if (ca_jws_verify(tok, strlen(tok), &v, &j, &err) != KR_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(j->alg, CA_JWS_EDDSA);
	assert_null(j->kid);
	assert_int_equal(j->payload_len, 26);
	assert_memory_equal(j->payload, "Example of Ed25519 signing", 26);
	ca_jws_free(j);
	/* A.4: sign (Ed25519 is deterministic). */
	assert_int_equal(ca_jws_sign_ed25519(NULL,
	    (const uint8_t *)"Example of Ed25519 signing", 26, K.ed_sk, &out,
	    &err), KR_OK);
	assert_string_equal(out, tok);
	free(out);
	/* The same through OpenSSL's Ed25519. */
	{
		EVP_PKEY *pk;
		uint8_t seed[32];

		decode(RFC8037_D, seed, 32);
		pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
		    32);
		assert_non_null(pk);
		assert_int_equal(ca_jws_sign_pkey(CA_JWS_EDDSA, NULL,
		    (const uint8_t *)"Example of Ed25519 signing", 26, pk,
		    &out, &err), KR_OK);
		assert_string_equal(out, tok);
		free(out);
		EVP_PKEY_free(pk);
	}
	/* The mis-copied signature is a forgery. */
	assert_int_equal(ca_jws_verify(bad, strlen(bad), &v, &j, &err),
	    KR_E_VERIFY);
	assert_null(j);
	ca_jws_key_free(k);
}

static void
test_rfc7515_a3(void **state)
{
	const char *tok = RFC7515_A3_JWS;
	struct ca_jws_verifier v = { CA_JWS_ES256, NULL, NULL, NULL, NULL };
	struct ca_jws_key *k = parse_key(RFC7515_A3_JWK);
	struct kr_error err;
	struct ca_jws *j;

	(void)state;
	v.key = k;
	assert_int_equal(ca_jws_key_alg(k), CA_JWS_ES256);
	if (ca_jws_verify(tok, strlen(tok), &v, &j, &err) != KR_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(j->payload_len, strlen(RFC7515_PAYLOAD));
	assert_memory_equal(j->payload, RFC7515_PAYLOAD, j->payload_len);
	assert_string_equal(json_string_value(json_object_get(j->header,
	    "alg")), "ES256");
	ca_jws_free(j);
	/* Not when only EdDSA is allowed. */
	v.algs = CA_JWS_EDDSA;
	assert_int_equal(ca_jws_verify(tok, strlen(tok), &v, &j, &err),
	    KR_E_POLICY);
	ca_jws_key_free(k);
}

static void
test_rfc7515_a2(void **state)
{
	const char *tok = RFC7515_A2_JWS;
	struct ca_jws_verifier v = { CA_JWS_RS256, NULL, NULL, NULL, NULL };
	struct ca_jws_key *k = parse_key(RFC7515_A2_JWK);
	struct kr_error err;
	struct ca_jws *j;
	char *t2;

	(void)state;
	v.key = k;
	if (ca_jws_verify(tok, strlen(tok), &v, &j, &err) != KR_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(j->alg, CA_JWS_RS256);
	assert_memory_equal(j->payload, RFC7515_PAYLOAD, j->payload_len);
	ca_jws_free(j);
	/* The last signature byte changed: a forgery. */
	t2 = strdup(tok);
	t2[strlen(t2) - 2] = 'x';
	assert_int_equal(ca_jws_verify(t2, strlen(t2), &v, &j, &err),
	    KR_E_VERIFY);
	free(t2);
	ca_jws_key_free(k);
}

static void
test_rfc7638(void **state)
{
	struct ca_jws_key *k = parse_key(RFC7638_JWK), *k2;
	char thumb[CA_JWS_THUMBPRINT_LEN];
	struct kr_error err;
	json_t *o;
	char *s;

	(void)state;
	assert_int_equal(ca_jws_key_alg(k), CA_JWS_RS256);
	assert_int_equal(EVP_PKEY_get_bits(ca_jws_key_pkey(k)), 2048);
	assert_string_equal(ca_jws_key_kid(k), "2011-04-29");
	ca_jws_key_thumbprint(k, thumb);
	assert_string_equal(thumb, RFC7638_THUMB);
	/* to_json keeps the required members and kid, and reads back. */
	assert_int_equal(ca_jws_key_to_json(k, &o, &err), KR_OK);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"e\":\"AQAB\",\"kid\":\"2011-04-29\","
	    "\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\"}");
	assert_int_equal(ca_jws_key_from_json(o, &k2, &err), KR_OK);
	assert_true(ca_jws_key_equal(k, k2));
	assert_false(ca_jws_key_equal(k, K.rsa));
	free(s);
	json_decref(o);
	ca_jws_key_free(k2);
	ca_jws_key_free(k);
}

/* Sign and verify with every algorithm, and the other keys refuse. */
static void
test_round_trips(void **state)
{
	static const char payload[] = "{\"hello\":\"world\"}";
	struct {
		enum ca_jws_alg		 alg;
		EVP_PKEY		*priv;
		struct ca_jws_key	*pub;
		size_t			 siglen;
	} c[] = {
		{ CA_JWS_ES256, K.es256_priv, K.es256, 64 },
		{ CA_JWS_ES384, K.es384_priv, K.es384, 96 },
		{ CA_JWS_RS256, K.rsa_priv, K.rsa, 256 },
	};
	struct ca_jws_verifier v = { CA_JWS_ALG_ALL, NULL, NULL, NULL, NULL };
	struct kr_error err;
	struct ca_jws *j;
	json_t *hdr;
	size_t i, n;
	char *tok;
	uint8_t sig[512];

	(void)state;
	hdr = json_pack("{s:s, s:s}", "kid", "k1", "nonce", "abc");
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(ca_jws_sign_pkey(c[i].alg, hdr,
		    (const uint8_t *)payload, strlen(payload), c[i].priv, &tok,
		    &err), KR_OK);
		assert_int_equal(ca_jws_b64_decode(strrchr(tok, '.') + 1,
		    strlen(strrchr(tok, '.') + 1), sig, sizeof(sig), &n, "t",
		    &err), KR_OK);
		assert_int_equal(n, c[i].siglen);
		v.key = c[i].pub;
		if (ca_jws_verify(tok, strlen(tok), &v, &j, &err) != KR_OK)
			fail_msg("%s: %s", ca_jws_alg_name(c[i].alg), err.msg);
		assert_string_equal(j->kid, "k1");
		assert_int_equal(j->alg, c[i].alg);
		assert_memory_equal(j->payload, payload, strlen(payload));
		assert_string_equal(json_string_value(json_object_get(
		    j->header, "nonce")), "abc");
		ca_jws_free(j);
		/* Each other key refuses it. */
		v.key = c[(i + 1) % 3].pub;
		assert_int_equal(ca_jws_verify(tok, strlen(tok), &v, &j, &err),
		    KR_E_POLICY);
		free(tok);
	}
	/* The signer refuses a key that does not fit the algorithm. */
	assert_int_equal(ca_jws_sign_pkey(CA_JWS_ES384, NULL,
	    (const uint8_t *)"x", 1, K.es256_priv, &tok, &err), KR_E_USAGE);
	/* And header members that are not the caller's. */
	json_object_set_new(hdr, "crit", json_pack("[s]", "nonce"));
	assert_int_equal(ca_jws_sign_ed25519(hdr, (const uint8_t *)"x", 1,
	    K.ed_sk, &tok, &err), KR_E_USAGE);
	json_decref(hdr);
	/* An empty payload (ACME's POST-as-GET) is fine. */
	assert_int_equal(ca_jws_sign_ed25519(NULL, (const uint8_t *)"", 0,
	    K.ed_sk, &tok, &err), KR_OK);
	v.key = K.ed;
	assert_int_equal(ca_jws_verify(tok, strlen(tok), &v, &j, &err), KR_OK);
	assert_int_equal(j->payload_len, 0);
	ca_jws_free(j);
	free(tok);
}

/* ---- the table of bad tokens ---- */

enum signer { S_ED, S_ED2, S_ES256, S_ES256_DER, S_ES384, S_RSA };
enum keysel { K_ED, K_ES256, K_ES384, K_RSA, K_JWK };
enum mutation {
	M_NONE,
	M_HDR_BADCHAR,		/* first header character becomes '*' */
	M_SIG_PAD,		/* "==" after the signature */
	M_SIG_NONCANON,		/* unused bits of the last character set */
	M_TWO_PARTS,		/* signature and its dot removed */
	M_FOUR_PARTS,		/* ".AAAA" appended */
	M_EMPTY_SIG,		/* "header.payload." */
	M_SIG_SHORT,		/* last signature byte dropped */
	M_SIG_FLIP,		/* one signature bit flipped */
	M_PAYLOAD_FLIP,		/* one payload bit flipped after signing */
	M_OVERSIZE,		/* payload padded beyond CA_JWS_MAX */
};

struct bad {
	const char	*name;
	const char	*hdr;		/* raw protected header text */
	enum signer	 signer;
	enum mutation	 mut;
	enum keysel	 key;
	const char	*jwk;		/* K_JWK: "@rsa1024" or JSON */
	unsigned	 algs;
	enum kr_err	 rc;
	const char	*msg;		/* in err.msg */
};

#define ED	"{\"alg\":\"EdDSA\"}"
#define ES	"{\"alg\":\"ES256\"}"
#define ALL	CA_JWS_ALG_ALL

static const struct bad bad[] = {
	{ "control: valid EdDSA", ED, S_ED, M_NONE, K_ED, NULL, ALL, KR_OK,
	    "" },
	{ "control: valid ES256", ES, S_ES256, M_NONE, K_ES256, NULL, ALL,
	    KR_OK, "" },
	{ "control: valid RS256", "{\"alg\":\"RS256\"}", S_RSA, M_NONE, K_RSA,
	    NULL, ALL, KR_OK, "" },
	{ "bad base64url in header", ED, S_ED, M_HDR_BADCHAR, K_ED, NULL, ALL,
	    KR_E_PARSE, "JWS header: character 1 is not base64url" },
	{ "padding on the signature", ED, S_ED, M_SIG_PAD, K_ED, NULL, ALL,
	    KR_E_PARSE, "padding ('=') is not allowed" },
	{ "non-canonical last character", ED, S_ED, M_SIG_NONCANON, K_ED,
	    NULL, ALL, KR_E_PARSE, "non-canonical base64url" },
	{ "2 parts", ED, S_ED, M_TWO_PARTS, K_ED, NULL, ALL, KR_E_PARSE,
	    "2 parts" },
	{ "4 parts", ED, S_ED, M_FOUR_PARTS, K_ED, NULL, ALL, KR_E_PARSE,
	    "4 parts" },
	{ "empty signature", ED, S_ED, M_EMPTY_SIG, K_ED, NULL, ALL,
	    KR_E_PARSE, "empty signature" },
	{ "alg none", "{\"alg\":\"none\"}", S_ED, M_NONE, K_ED, NULL, ALL,
	    KR_E_POLICY, "\"none\") is never accepted" },
	{ "alg not allowed", ES, S_ES256, M_NONE, K_ES256, NULL,
	    CA_JWS_EDDSA | CA_JWS_RS256, KR_E_POLICY,
	    "\"ES256\" is not accepted" },
	{ "alg unknown (HS256)", "{\"alg\":\"HS256\"}", S_ED, M_NONE, K_ED,
	    NULL, ALL, KR_E_POLICY, "\"HS256\" is not accepted" },
	{ "alg in the wrong case", "{\"alg\":\"eddsa\"}", S_ED, M_NONE, K_ED,
	    NULL, ALL, KR_E_POLICY, "\"eddsa\" is not accepted" },
	{ "alg ES256 with an Ed25519 key", ES, S_ES256, M_NONE, K_ED, NULL,
	    ALL, KR_E_POLICY, "\"alg\" is ES256 but the key is for EdDSA" },
	{ "alg EdDSA with a P-256 key", ED, S_ED, M_NONE, K_ES256, NULL, ALL,
	    KR_E_POLICY, "\"alg\" is EdDSA but the key is for ES256" },
	{ "ES256 signature of 63 bytes", ES, S_ES256, M_SIG_SHORT, K_ES256,
	    NULL, ALL, KR_E_PARSE, "signature of 63 bytes; ES256" },
	{ "ES256 signature in DER", ES, S_ES256_DER, M_NONE, K_ES256, NULL,
	    ALL, KR_E_PARSE, "bytes; ES256 with this key makes 64" },
	{ "ES384 signature of ES256 length", "{\"alg\":\"ES384\"}", S_ES256,
	    M_NONE, K_ES384, NULL, ALL, KR_E_PARSE,
	    "signature of 64 bytes; ES384 with this key makes 96" },
	{ "RS256 signature a byte short", "{\"alg\":\"RS256\"}", S_RSA,
	    M_SIG_SHORT, K_RSA, NULL, ALL, KR_E_PARSE,
	    "signature of 255 bytes; RS256 with this key makes 256" },
	{ "EdDSA signature bit flipped", ED, S_ED, M_SIG_FLIP, K_ED, NULL,
	    ALL, KR_E_VERIFY, "does not verify" },
	{ "EdDSA payload bit flipped", ED, S_ED, M_PAYLOAD_FLIP, K_ED, NULL,
	    ALL, KR_E_VERIFY, "does not verify" },
	{ "ES256 signature bit flipped", ES, S_ES256, M_SIG_FLIP, K_ES256,
	    NULL, ALL, KR_E_VERIFY, "does not verify" },
	{ "ES256 payload bit flipped", ES, S_ES256, M_PAYLOAD_FLIP, K_ES256,
	    NULL, ALL, KR_E_VERIFY, "does not verify" },
	{ "RS256 signature bit flipped", "{\"alg\":\"RS256\"}", S_RSA,
	    M_SIG_FLIP, K_RSA, NULL, ALL, KR_E_VERIFY, "does not verify" },
	{ "signed by another Ed25519 key", ED, S_ED2, M_NONE, K_ED, NULL, ALL,
	    KR_E_VERIFY, "does not verify" },
	{ "header not JSON", "alg=EdDSA", S_ED, M_NONE, K_ED, NULL, ALL,
	    KR_E_PARSE, "JWS header: not a JSON object" },
	{ "header a JSON array", "[\"EdDSA\"]", S_ED, M_NONE, K_ED, NULL, ALL,
	    KR_E_PARSE, "JWS header: not a JSON object" },
	{ "header with trailing garbage", ED "x", S_ED, M_NONE, K_ED, NULL,
	    ALL, KR_E_PARSE, "JWS header: not a JSON object" },
	{ "duplicate header member", "{\"alg\":\"EdDSA\",\"alg\":\"EdDSA\"}",
	    S_ED, M_NONE, K_ED, NULL, ALL, KR_E_PARSE, "duplicate" },
	{ "duplicate alg, second one none",
	    "{\"alg\":\"EdDSA\",\"alg\":\"none\"}", S_ED, M_NONE, K_ED, NULL,
	    ALL, KR_E_PARSE, "duplicate" },
	{ "alg missing", "{\"typ\":\"JWT\"}", S_ED, M_NONE, K_ED, NULL, ALL,
	    KR_E_PARSE, "\"alg\" missing or not a string" },
	{ "alg not a string", "{\"alg\":1}", S_ED, M_NONE, K_ED, NULL, ALL,
	    KR_E_PARSE, "\"alg\" missing or not a string" },
	{ "kid not a string", "{\"alg\":\"EdDSA\",\"kid\":7}", S_ED, M_NONE,
	    K_ED, NULL, ALL, KR_E_PARSE, "\"kid\" must be a string" },
	{ "crit with an unknown extension",
	    "{\"alg\":\"EdDSA\",\"crit\":[\"exp\"],\"exp\":1}", S_ED, M_NONE,
	    K_ED, NULL, ALL, KR_E_POLICY,
	    "critical header parameter \"exp\" is not understood" },
	{ "crit naming a standard parameter",
	    "{\"alg\":\"EdDSA\",\"crit\":[\"kid\"],\"kid\":\"a\"}", S_ED,
	    M_NONE, K_ED, NULL, ALL, KR_E_PARSE, "the standard parameter" },
	{ "crit naming an absent parameter",
	    "{\"alg\":\"EdDSA\",\"crit\":[\"x\"]}", S_ED, M_NONE, K_ED, NULL,
	    ALL, KR_E_PARSE, "which the header does not have" },
	{ "crit empty", "{\"alg\":\"EdDSA\",\"crit\":[]}", S_ED, M_NONE, K_ED,
	    NULL, ALL, KR_E_PARSE, "non-empty array" },
	{ "crit not an array", "{\"alg\":\"EdDSA\",\"crit\":\"x\",\"x\":1}",
	    S_ED, M_NONE, K_ED, NULL, ALL, KR_E_PARSE, "non-empty array" },
	{ "b64 false in crit",
	    "{\"alg\":\"EdDSA\",\"b64\":false,\"crit\":[\"b64\"]}", S_ED,
	    M_NONE, K_ED, NULL, ALL, KR_E_POLICY,
	    "unencoded payloads (\"b64\": false)" },
	{ "b64 false alone", "{\"alg\":\"EdDSA\",\"b64\":false}", S_ED,
	    M_NONE, K_ED, NULL, ALL, KR_E_POLICY,
	    "unencoded payloads (\"b64\": false)" },
	{ "b64 true in crit",
	    "{\"alg\":\"EdDSA\",\"b64\":true,\"crit\":[\"b64\"]}", S_ED,
	    M_NONE, K_ED, NULL, ALL, KR_E_POLICY,
	    "\"b64\" is not understood" },
	{ "oversized", ED, S_ED, M_OVERSIZE, K_ED, NULL, ALL, KR_E_PARSE,
	    "at most 16384 are accepted" },
	{ "JWK point not on the curve", ES, S_ES256, M_NONE, K_JWK,
	    OFF_CURVE_JWK, ALL, KR_E_PARSE, "(x, y) is not a point on P-256" },
	{ "JWK RSA 1024", "{\"alg\":\"RS256\"}", S_RSA, M_NONE, K_JWK,
	    "@rsa1024", ALL, KR_E_POLICY, "RSA key of 1024 bits" },
};

/* Raw signature of msg by signer into sig; returns its length. */
static size_t
raw_sign(enum signer s, const char *msg, uint8_t *sig)
{
	const BIGNUM *r, *sv;
	EVP_MD_CTX *ctx;
	EVP_PKEY *pk;
	uint8_t der[600];
	const unsigned char *p = der;
	size_t len = sizeof(der), half;
	ECDSA_SIG *es;

	switch (s) {
	case S_ED:
	case S_ED2:
		crypto_sign_detached(sig, NULL, (const uint8_t *)msg,
		    strlen(msg), s == S_ED ? K.ed_sk : K.ed2_sk);
		return 64;
	case S_ES256:
	case S_ES256_DER:
	case S_ES384:
	case S_RSA:
		break;
	}
	pk = s == S_RSA ? K.rsa_priv : s == S_ES384 ? K.es384_priv :
	    K.es256_priv;
	ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, s == S_ES384 ?
	    EVP_sha384() : EVP_sha256(), NULL, pk), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &len, (const uint8_t *)msg,
	    strlen(msg)), 1);
	EVP_MD_CTX_free(ctx);
	if (s == S_RSA || s == S_ES256_DER) {
		memcpy(sig, der, len);
		return len;
	}
	half = s == S_ES384 ? 48 : 32;
	es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	assert_non_null(es);
	ECDSA_SIG_get0(es, &r, &sv);
	BN_bn2binpad(r, sig, (int)half);
	BN_bn2binpad(sv, sig + half, (int)half);
	ECDSA_SIG_free(es);
	return 2 * half;
}

/* Build the token a row describes. */
static char *
forge(const struct bad *b)
{
	static const char payload[] = "{\"sub\":\"a.web.lab.internal\"}";
	size_t plen = strlen(payload), siglen, i, cap;
	char *h, *p, *s, *tok, *pl;
	uint8_t sig[600];

	pl = malloc(CA_JWS_MAX + 1);
	assert_non_null(pl);
	memcpy(pl, payload, plen + 1);
	if (b->mut == M_OVERSIZE) {
		for (i = plen; i < CA_JWS_MAX * 3 / 4; i++)
			pl[i] = ' ';
		pl[i] = '\0';
		plen = i;
	}
	h = b64((const uint8_t *)b->hdr, strlen(b->hdr));
	p = b64((const uint8_t *)pl, plen);
	cap = strlen(h) + strlen(p) + 1200;
	tok = malloc(cap);
	assert_non_null(tok);
	snprintf(tok, cap, "%s.%s", h, p);
	siglen = raw_sign(b->signer, tok, sig);
	if (b->mut == M_SIG_SHORT)
		siglen--;
	if (b->mut == M_SIG_FLIP)
		sig[siglen / 2] ^= 0x10;
	if (b->mut == M_PAYLOAD_FLIP) {
		pl[3] ^= 0x01;
		free(p);
		p = b64((const uint8_t *)pl, plen);
	}
	s = b64(sig, siglen);
	snprintf(tok, cap, "%s.%s.%s", h, p, s);
	switch (b->mut) {
	case M_HDR_BADCHAR:
		tok[0] = '*';
		break;
	case M_SIG_PAD:
		memcpy(tok + strlen(tok), "==", 3);
		break;
	case M_SIG_NONCANON:
		/* 64 bytes: the last character carries 2 bits + 4 zero. */
		assert_int_equal(siglen % 3, 1);
		tok[strlen(tok) - 1] = tok[strlen(tok) - 1] == 'A' ? 'B' :
		    tok[strlen(tok) - 1] + 1;
		break;
	case M_TWO_PARTS:
		*strrchr(tok, '.') = '\0';
		break;
	case M_FOUR_PARTS:
		memcpy(tok + strlen(tok), ".AAAA", 6);
		break;
	case M_EMPTY_SIG:
		strrchr(tok, '.')[1] = '\0';
		break;
	default:
		break;
	}
	free(h);
	free(p);
	free(s);
	free(pl);
	return tok;
}

static void
test_bad_tokens(void **state)
{
	struct ca_jws_verifier v = { 0, NULL, NULL, NULL, NULL };
	struct ca_jws_key *jk = NULL;
	struct kr_error err;
	struct ca_jws *j;
	const char *jwk;
	enum kr_err rc;
	size_t i;
	char *tok;

	(void)state;
	assert_true(sizeof(bad) / sizeof(bad[0]) >= 20);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad *b = &bad[i];

		memset(&err, 0, sizeof(err));
		tok = forge(b);
		switch (b->key) {
		case K_ED:
			v.key = K.ed;
			break;
		case K_ES256:
			v.key = K.es256;
			break;
		case K_ES384:
			v.key = K.es384;
			break;
		case K_RSA:
			v.key = K.rsa;
			break;
		case K_JWK:
			jwk = strcmp(b->jwk, "@rsa1024") == 0 ? K.rsa1024_jwk :
			    b->jwk;
			rc = ca_jws_key_parse(jwk, strlen(jwk), &jk, &err);
			if (rc != b->rc || strstr(err.msg, b->msg) == NULL)
				fail_msg("%s: JWK gave %d (%s), want %d (%s)",
				    b->name, rc, err.msg, b->rc, b->msg);
			assert_null(jk);
			print_message("%-36s %s\n", b->name, err.msg);
			free(tok);
			continue;
		}
		v.algs = b->algs;
		j = (struct ca_jws *)&v;	/* must be reset to NULL */
		rc = ca_jws_verify(tok, strlen(tok), &v, &j, &err);
		if (rc != b->rc || (rc != KR_OK && strstr(err.msg, b->msg) ==
		    NULL))
			fail_msg("%s: gave %d (%s), want %d (%s)", b->name, rc,
			    rc ? err.msg : "ok", b->rc, b->msg);
		if (rc == KR_OK)
			assert_non_null(j);
		else
			assert_null(j);
		print_message("%-36s %s\n", b->name, rc ? err.msg : "ok");
		ca_jws_free(j);
		free(tok);
	}
}

/* ---- bad JWKs ---- */

static void
test_bad_jwks(void **state)
{
	static const struct {
		const char	*jwk;
		enum kr_err	 rc;
		const char	*msg;
	} t[] = {
		{ "[]", KR_E_PARSE, "not a JSON object" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}", KR_E_PARSE,
		    "\"x\" missing" },
		{ "{\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\"}", KR_E_PARSE,
		    "\"kty\" is missing" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
		    "\",\"d\":\"" RFC8037_D "\"}", KR_E_PARSE,
		    "private member \"d\"" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"" RFC8037_X "\"}",
		    KR_E_POLICY, "curve \"Ed448\" is not supported" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}",
		    KR_E_PARSE, "\"x\" is 3 bytes; it must be 32" },
		/* The identity point (small order). */
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":"
		    "\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
		    KR_E_PARSE, "not a valid Ed25519 public key" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
		    "\",\"alg\":\"ES256\"}", KR_E_POLICY,
		    "\"alg\" is \"ES256\" but this key signs EdDSA" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
		    "\",\"use\":\"enc\"}", KR_E_POLICY, "\"use\" is \"enc\"" },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
		    "\",\"kty\":\"OKP\"}", KR_E_PARSE, "not JSON" },
		{ "{\"kty\":\"oct\",\"k\":\"AAAA\"}", KR_E_PARSE,
		    "private member \"k\"" },
		{ "{\"kty\":\"XYZ\"}", KR_E_POLICY, "key type \"XYZ\"" },
		{ "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}",
		    KR_E_POLICY, "curve \"P-521\" is not supported" },
		/* x one byte short (leading zero dropped). */
		{ "{\"kty\":\"EC\",\"crv\":\"P-256\","
		    "\"x\":\"83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
		    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
		    KR_E_PARSE, "\"x\"" },
		{ OFF_CURVE_JWK, KR_E_PARSE, "not a point on P-256" },
		/* P-256 coordinates on a P-384 key: wrong length. */
		{ "{\"kty\":\"EC\",\"crv\":\"P-384\","
		    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
		    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
		    KR_E_PARSE, "is 32 bytes; it must be 48" },
		{ "{\"kty\":\"RSA\",\"n\":\"AA" RFC7638_N "\",\"e\":\"AQAB\"}",
		    KR_E_PARSE, "" },	/* not a whole number of bytes */
		{ "{\"kty\":\"RSA\",\"n\":\"AAA" RFC7638_N "\",\"e\":\"AQAB\"}",
		    KR_E_PARSE, "" },
		/* The last bit of n cleared: even. */
		{ "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N_HEAD "g\",\"e\":\"AQAB\"}",
		    KR_E_PARSE, "is not an RSA modulus" },
		{ "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AAEAAQ\"}",
		    KR_E_PARSE, "without leading zero octets" },
		{ "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"Aw\"}",
		    KR_E_PARSE, "exponent must be odd, above 2^16" },
		{ "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAA\"}",
		    KR_E_PARSE, "exponent must be odd" },
		{ "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\","
		    "\"alg\":\"PS256\"}", KR_E_POLICY, "\"alg\" is \"PS256\"" },
		{ "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\","
		    "\"crv\":\"P-256\"}", KR_E_PARSE, "no \"crv\"" },
		{ "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\","
		    "\"p\":\"AQAB\"}", KR_E_PARSE, "private member \"p\"" },
	};
	struct ca_jws_key *k;
	struct kr_error err;
	enum kr_err rc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		k = (struct ca_jws_key *)&err;
		memset(&err, 0, sizeof(err));
		rc = ca_jws_key_parse(t[i].jwk, strlen(t[i].jwk), &k, &err);
		if (rc != t[i].rc || strstr(err.msg, t[i].msg) == NULL)
			fail_msg("JWK %zu: gave %d (%s), want %d (%s)", i, rc,
			    err.msg, t[i].rc, t[i].msg);
		assert_null(k);
	}
	/* n times 997: odd, but with a small factor. */
	{
		uint8_t nb[300];
		BIGNUM *n = BN_new();
		char *ns, js[600];
		int nl;

		decode(RFC7638_N, nb, 256);
		assert_non_null(BN_bin2bn(nb, 256, n));
		assert_int_equal(BN_mul_word(n, 997), 1);
		nl = BN_bn2bin(n, nb);
		ns = b64(nb, (size_t)nl);
		snprintf(js, sizeof(js), "{\"kty\":\"RSA\",\"n\":\"%s\","
		    "\"e\":\"AQAB\"}", ns);
		assert_int_equal(ca_jws_key_parse(js, strlen(js), &k, &err),
		    KR_E_PARSE);
		assert_non_null(strstr(err.msg, "is not an RSA modulus"));
		free(ns);
		BN_free(n);
	}
	/* A key with its own "alg", and an EVP_PKEY that is not allowed. */
	k = parse_key("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
	    "\",\"alg\":\"EdDSA\",\"use\":\"sig\",\"x5u\":\"ignored\"}");
	ca_jws_key_free(k);
	{
		EVP_PKEY *p = EVP_EC_gen("secp256k1"), *r = EVP_RSA_gen(1024);
		char *tok = NULL;

		assert_int_equal(ca_jws_key_from_pkey(p, &k, &err),
		    KR_E_POLICY);
		assert_int_equal(ca_jws_key_from_pkey(r, &k, &err),
		    KR_E_POLICY);
		assert_non_null(strstr(err.msg, "1024 bits"));
		assert_int_equal(ca_jws_sign_pkey(CA_JWS_RS256, NULL,
		    (const uint8_t *)"x", 1, r, &tok, &err),
		    KR_E_POLICY);
		assert_null(tok);
		EVP_PKEY_free(p);
		EVP_PKEY_free(r);
	}
}

/* ---- lookup by kid ---- */

static enum kr_err
lookup(void *arg, const char *kid, const json_t *hdr,
    const struct ca_jws_key **key, struct kr_error *err)
{
	int *calls = arg;

	(void)hdr;
	(*calls)++;
	if (kid != NULL && strcmp(kid, "ed") == 0) {
		*key = K.ed;
		return KR_OK;
	}
	if (kid != NULL && strcmp(kid, "es") == 0) {
		*key = K.es256;
		return KR_OK;
	}
	return kr_fail(err, KR_E_NOTFOUND, "no key %s", kid ? kid : "(none)");
}

static void
test_lookup(void **state)
{
	int calls = 0;
	struct ca_jws_verifier v = { CA_JWS_ALG_ALL, NULL, lookup, &calls,
	    NULL };
	struct kr_error err;
	struct ca_jws *j;
	json_t *hdr;
	char *tok;

	(void)state;
	hdr = json_pack("{s:s}", "kid", "ed");
	assert_int_equal(ca_jws_sign_ed25519(hdr, (const uint8_t *)"p", 1,
	    K.ed_sk, &tok, &err), KR_OK);
	assert_int_equal(ca_jws_verify(tok, strlen(tok), &v, &j, &err), KR_OK);
	assert_string_equal(j->kid, "ed");
	assert_int_equal(calls, 1);
	ca_jws_free(j);
	free(tok);
	/* The kid names an ES256 key: the EdDSA token is refused. */
	json_object_set_new(hdr, "kid", json_string("es"));
	assert_int_equal(ca_jws_sign_ed25519(hdr, (const uint8_t *)"p", 1,
	    K.ed_sk, &tok, &err), KR_OK);
	assert_int_equal(ca_jws_verify(tok, strlen(tok), &v, &j, &err),
	    KR_E_POLICY);
	free(tok);
	/* Unknown kid, and none. */
	json_object_set_new(hdr, "kid", json_string("zz"));
	assert_int_equal(ca_jws_sign_ed25519(hdr, (const uint8_t *)"p", 1,
	    K.ed_sk, &tok, &err), KR_OK);
	assert_int_equal(ca_jws_verify(tok, strlen(tok), &v, &j, &err),
	    KR_E_NOTFOUND);
	assert_string_equal(err.msg, "no key zz");
	free(tok);
	assert_int_equal(ca_jws_sign_ed25519(NULL, (const uint8_t *)"p", 1,
	    K.ed_sk, &tok, &err), KR_OK);
	assert_int_equal(ca_jws_verify(tok, strlen(tok), &v, &j, &err),
	    KR_E_NOTFOUND);
	assert_string_equal(err.msg, "no key (none)");
	free(tok);
	json_decref(hdr);
	/* Allowed "crit" names pass. */
	{
		static const char *const known[] = { "exp", NULL };
		struct bad b = { "crit known",
		    "{\"alg\":\"EdDSA\",\"crit\":[\"exp\"],\"exp\":1}", S_ED,
		    M_NONE, K_ED, NULL, ALL, KR_OK, "" };

		static const char *const b64_too[] = { "exp", "b64", NULL };
		struct bad b2 = { "crit b64 even when the caller lists it",
		    "{\"alg\":\"EdDSA\",\"b64\":true,\"crit\":[\"b64\"]}", S_ED,
		    M_NONE, K_ED, NULL, ALL, KR_E_POLICY, "" };

		v.key = K.ed;
		v.crit = known;
		tok = forge(&b);
		assert_int_equal(ca_jws_verify(tok, strlen(tok), &v, &j, &err),
		    KR_OK);
		ca_jws_free(j);
		free(tok);
		/* RFC 7797 (unencoded payloads) is refused, whatever the caller says. */
		v.crit = b64_too;
		tok = forge(&b2);
		assert_int_equal(ca_jws_verify(tok, strlen(tok), &v, &j, &err),
		    KR_E_POLICY);
		assert_non_null(strstr(err.msg, "\"b64\" is not understood"));
		free(tok);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_rfc8037),
		cmocka_unit_test(test_rfc7515_a3),
		cmocka_unit_test(test_rfc7515_a2),
		cmocka_unit_test(test_rfc7638),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_bad_tokens),
		cmocka_unit_test(test_bad_jwks),
		cmocka_unit_test(test_lookup),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
