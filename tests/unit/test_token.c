/*
 * test_token.c: the online signer's one-time tokens.  A good token
 * round-trips; a table of tokens, each signed properly unless the row
 * is about the signature, is refused with the stable reason it must
 * give (expired, not yet valid, lifetime, audience, issuer, signature,
 * algorithm, malformed claims); the edges of the time window are
 * exact; ca_token_make refuses what the verifier would.
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
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "../../ca/token.h"

#define AUD	"https://ca.lab.internal:8443"
#define T	1700000000LL	/* iat of the table's tokens */

static struct {
	uint8_t			 web_sk[64], db_sk[64], rogue_sk[64];
	struct ca_jws_key	*web, *db;
	char			 web_kid[CA_JWS_THUMBPRINT_LEN];
	EVP_PKEY		*es;
	struct ca_token_issuer	 iss[2];
} K;

static int
setup(void **state)
{
	uint8_t pk[32];
	struct kr_error err;

	(void)state;
	crypto_sign_keypair(pk, K.web_sk);
	if (ca_jws_key_from_ed25519(pk, &K.web, &err) != KR_OK)
		return -1;
	crypto_sign_keypair(pk, K.db_sk);
	if (ca_jws_key_from_ed25519(pk, &K.db, &err) != KR_OK)
		return -1;
	crypto_sign_keypair(pk, K.rogue_sk);
	ca_jws_key_thumbprint(K.web, K.web_kid);
	if ((K.es = EVP_EC_gen("P-256")) == NULL)
		return -1;
	K.iss[0].name = "db";
	K.iss[0].key = K.db;
	K.iss[1].name = "web";
	K.iss[1].key = K.web;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ca_jws_key_free(K.web);
	ca_jws_key_free(K.db);
	EVP_PKEY_free(K.es);
	return 0;
}

static void
test_err_codes(void **state)
{
	static const char *const want[] = {
		"ok", "token_malformed", "token_algorithm", "token_issuer",
		"token_signature", "token_audience", "token_expired",
		"token_not_yet_valid", "token_lifetime", "token_replayed",
		"token_internal",
	};
	size_t i;

	(void)state;
	/* The numbers are part of the interface too. */
	assert_int_equal(CA_TOKEN_MALFORMED, 1);
	assert_int_equal(CA_TOKEN_INTERNAL, 10);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(ca_token_err_code((enum ca_token_err)i),
		    want[i]);
	assert_string_equal(ca_token_err_code((enum ca_token_err)99),
	    "token_internal");
}

static void
test_good_token(void **state)
{
	static const char *const sans[] = { "a.web.lab.internal",
	    "10.20.0.5" };
	struct ca_token_req r = { "web", AUD, "a.web.lab.internal", sans, 2,
	    (time_t)T, 300, 0 };
	struct ca_token_claims *c, *c2;
	struct kr_error err;
	uint8_t jti[64];
	char *tok, *tok2;
	size_t n;

	(void)state;
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_OK);
	if (ca_token_verify(tok, strlen(tok), K.iss, 2, AUD, (time_t)T + 10,
	    &c, &err) != CA_TOKEN_OK)
		fail_msg("%s", err.msg);
	assert_string_equal(c->iss, "web");
	assert_string_equal(c->aud, AUD);
	assert_string_equal(c->sub, "a.web.lab.internal");
	assert_int_equal(c->nsans, 2);
	assert_string_equal(c->sans[0], "a.web.lab.internal");
	assert_string_equal(c->sans[1], "10.20.0.5");
	assert_int_equal(c->iat, T);
	assert_int_equal(c->nbf, T);
	assert_int_equal(c->exp, T + 300);
	assert_string_equal(c->kid, K.web_kid);
	assert_int_equal(ca_jws_b64_decode(c->jti, strlen(c->jti), jti,
	    sizeof(jti), &n, "jti", &err), KR_OK);
	assert_int_equal(n, CA_TOKEN_JTI_BYTES);
	/*
	 * Replay protection is the caller's: the same token verifies
	 * again, with the same jti and exp to remember.
	 */
	assert_int_equal(ca_token_verify(tok, strlen(tok), K.iss, 2, AUD,
	    (time_t)T + 20, &c2, &err), CA_TOKEN_OK);
	assert_string_equal(c->jti, c2->jti);
	assert_int_equal(c->exp, c2->exp);
	ca_token_claims_free(c2);
	/* A second token gets a fresh jti. */
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok2, &err), KR_OK);
	assert_int_equal(ca_token_verify(tok2, strlen(tok2), K.iss, 2, AUD,
	    (time_t)T, &c2, &err), CA_TOKEN_OK);
	assert_string_not_equal(c->jti, c2->jti);
	ca_token_claims_free(c2);
	ca_token_claims_free(c);
	free(tok2);
	/* Only the web provisioner's key is known: still fine. */
	assert_int_equal(ca_token_verify(tok, strlen(tok), &K.iss[1], 1, AUD,
	    (time_t)T, &c, &err), CA_TOKEN_OK);
	ca_token_claims_free(c);
	/* Only db's: the key is unknown. */
	assert_int_equal(ca_token_verify(tok, strlen(tok), &K.iss[0], 1, AUD,
	    (time_t)T, &c, &err), CA_TOKEN_ISSUER);
	assert_null(c);
	free(tok);
	/* Without sans, sans is { sub }; with nbf. */
	r.sans = NULL;
	r.nbf = (time_t)T + 100;
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_OK);
	assert_int_equal(ca_token_verify(tok, strlen(tok), K.iss, 2, AUD,
	    (time_t)T + 100, &c, &err), CA_TOKEN_OK);
	assert_int_equal(c->nsans, 1);
	assert_string_equal(c->sans[0], "a.web.lab.internal");
	assert_int_equal(c->nbf, T + 100);
	ca_token_claims_free(c);
	free(tok);
}

/*
 * A server known by two URLs (keyrited's public one and its listen
 * address) takes a token made for either, checking the signature once;
 * a token for neither is refused, and the error names both.
 */
static void
test_two_audiences(void **state)
{
	static const char *const aud[] = { "https://127.0.0.1:8443",
	    AUD };
	struct ca_token_req r = { "web", AUD, "a.web.lab.internal", NULL, 0,
	    (time_t)T, 300, 0 };
	struct ca_token_claims *c = NULL;
	struct kr_error err;
	char *tok;

	(void)state;
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_OK);
	/* For the second URL. */
	if (ca_token_verify_aud(tok, strlen(tok), K.iss, 2, aud, 2,
	    (time_t)T + 10, &c, &err) != CA_TOKEN_OK)
		fail_msg("%s", err.msg);
	assert_string_equal(c->aud, AUD);
	ca_token_claims_free(c);
	/* Not for the first alone. */
	assert_int_equal(ca_token_verify_aud(tok, strlen(tok), K.iss, 2, aud,
	    1, (time_t)T + 10, &c, &err), CA_TOKEN_AUDIENCE);
	assert_null(c);
	free(tok);
	/* For the first URL. */
	r.aud = aud[0];
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_OK);
	assert_int_equal(ca_token_verify_aud(tok, strlen(tok), K.iss, 2, aud,
	    2, (time_t)T + 10, &c, &err), CA_TOKEN_OK);
	assert_string_equal(c->aud, aud[0]);
	ca_token_claims_free(c);
	free(tok);
	/* For neither: the error names both. */
	r.aud = "https://elsewhere.lab.internal";
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_OK);
	assert_int_equal(ca_token_verify_aud(tok, strlen(tok), K.iss, 2, aud,
	    2, (time_t)T + 10, &c, &err), CA_TOKEN_AUDIENCE);
	assert_null(c);
	assert_non_null(strstr(err.msg, aud[0]));
	assert_non_null(strstr(err.msg, AUD));
	/* No audience at all is the caller's mistake. */
	assert_int_equal(ca_token_verify_aud(tok, strlen(tok), K.iss, 2, aud,
	    0, (time_t)T + 10, &c, &err), CA_TOKEN_INTERNAL);
	free(tok);
}

/* The edges of the window, with the 60 s skew, are exact. */
static void
test_time_window(void **state)
{
	static const struct {
		long long	 now;
		long long	 nbf;	/* 0: none */
		enum ca_token_err want;
	} t[] = {
		{ T - 61, 0, CA_TOKEN_NOT_YET_VALID },
		{ T - 60, 0, CA_TOKEN_OK },
		{ T + 300 + 59, 0, CA_TOKEN_OK },
		{ T + 300 + 60, 0, CA_TOKEN_EXPIRED },
		{ T + 100000, 0, CA_TOKEN_EXPIRED },
		{ 0, 0, CA_TOKEN_NOT_YET_VALID },
		{ T + 39, T + 100, CA_TOKEN_NOT_YET_VALID },
		{ T + 40, T + 100, CA_TOKEN_OK },
		{ T - 60, T + 100, CA_TOKEN_NOT_YET_VALID },
	};
	struct ca_token_req r = { "web", AUD, "a.web.lab.internal", NULL, 0,
	    (time_t)T, 300, 0 };
	struct ca_token_claims *c;
	struct kr_error err;
	enum ca_token_err te;
	size_t i;
	char *tok;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r.nbf = (time_t)t[i].nbf;
		assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err),
		    KR_OK);
		te = ca_token_verify(tok, strlen(tok), K.iss, 2, AUD,
		    (time_t)t[i].now, &c, &err);
		if (te != t[i].want)
			fail_msg("row %zu: %s, want %s (%s)", i,
			    ca_token_err_code(te), ca_token_err_code(t[i].want),
			    err.msg);
		ca_token_claims_free(c);
		free(tok);
	}
}

/* ---- the table ---- */

enum hdr { H_OK, H_NO_KID, H_NO_TYP, H_BAD_TYP, H_JWT_TYP };
enum signer { S_WEB, S_ROGUE, S_ES256 };

struct bad {
	const char		*name;
	const char		*claims;
	enum hdr		 hdr;
	enum signer		 signer;
	const char		*aud;	/* NULL: AUD */
	long long		 now;
	enum ca_token_err	 want;
	const char		*msg;
};

#define JTI	"\"jti\":\"AAECAwQFBgcICQoLDA0ODw\""
#define SANS	"\"sans\":[\"a.web.lab.internal\"]"
#define CL(iss, aud, iat, exp, rest) \
	"{\"iss\":\"" iss "\",\"aud\":\"" aud "\"," \
	"\"sub\":\"a.web.lab.internal\",\"iat\":" #iat ",\"exp\":" #exp rest "}"
#define GOOD(rest)	CL("web", AUD, 1700000000, 1700000300, rest)

static const struct bad bad[] = {
	{ "control", GOOD("," SANS "," JTI), H_OK, S_WEB, NULL, T,
	    CA_TOKEN_OK, "" },
	{ "expired", GOOD("," SANS "," JTI), H_OK, S_WEB, NULL, T + 3600,
	    CA_TOKEN_EXPIRED, "expired 3300 s ago" },
	{ "not yet valid", GOOD("," SANS "," JTI), H_OK, S_WEB, NULL,
	    T - 3600, CA_TOKEN_NOT_YET_VALID, "valid only in 3600 s" },
	{ "exp - iat = 301", CL("web", AUD, 1700000000, 1700000301,
	    "," SANS "," JTI), H_OK, S_WEB, NULL, T, CA_TOKEN_LIFETIME,
	    "lives 301 s" },
	{ "exp - iat = 1 day", CL("web", AUD, 1700000000, 1700086400,
	    "," SANS "," JTI), H_OK, S_WEB, NULL, T, CA_TOKEN_LIFETIME,
	    "lives 86400 s" },
	{ "exp = iat", CL("web", AUD, 1700000000, 1700000000,
	    "," SANS "," JTI), H_OK, S_WEB, NULL, T, CA_TOKEN_LIFETIME,
	    "lives 0 s" },
	{ "exp - iat = 300", CL("web", AUD, 1700000000, 1700000300,
	    "," SANS "," JTI), H_OK, S_WEB, NULL, T, CA_TOKEN_OK, "" },
	{ "wrong audience", GOOD("," SANS "," JTI), H_OK, S_WEB,
	    "https://ca2.lab.internal:8443", T, CA_TOKEN_AUDIENCE,
	    "not for this server" },
	{ "audience with a trailing slash", GOOD("," SANS "," JTI), H_OK,
	    S_WEB, AUD "/", T, CA_TOKEN_AUDIENCE, "not for this server" },
	{ "iss names another provisioner", CL("db", AUD, 1700000000,
	    1700000300, "," SANS "," JTI), H_OK, S_WEB, NULL, T,
	    CA_TOKEN_ISSUER, "\"iss\" is \"db\" but the key is provisioner "
	    "\"web\"'s" },
	{ "iss unknown", CL("mail", AUD, 1700000000, 1700000300,
	    "," SANS "," JTI), H_OK, S_WEB, NULL, T, CA_TOKEN_ISSUER,
	    "\"iss\" is \"mail\"" },
	{ "signed by another key under web's kid", GOOD("," SANS "," JTI),
	    H_OK, S_ROGUE, NULL, T, CA_TOKEN_SIGNATURE, "does not verify" },
	{ "ES256 token", GOOD("," SANS "," JTI), H_OK, S_ES256, NULL, T,
	    CA_TOKEN_ALGORITHM, "\"ES256\" is not accepted" },
	{ "no kid", GOOD("," SANS "," JTI), H_NO_KID, S_WEB, NULL, T,
	    CA_TOKEN_MALFORMED, "no \"kid\"" },
	{ "no typ", GOOD("," SANS "," JTI), H_NO_TYP, S_WEB, NULL, T,
	    CA_TOKEN_MALFORMED, "\"typ\" is not" },
	{ "typ JWT", GOOD("," SANS "," JTI), H_JWT_TYP, S_WEB, NULL, T,
	    CA_TOKEN_MALFORMED, "\"typ\" is not" },
	{ "typ not a string", GOOD("," SANS "," JTI), H_BAD_TYP, S_WEB, NULL,
	    T, CA_TOKEN_MALFORMED, "\"typ\" is not" },
	{ "missing jti", GOOD("," SANS), H_OK, S_WEB, NULL, T,
	    CA_TOKEN_MALFORMED, "\"jti\" missing" },
	{ "jti of 15 bytes", GOOD("," SANS ",\"jti\":\"AAECAwQFBgcICQoLDA0O\""),
	    H_OK, S_WEB, NULL, T, CA_TOKEN_MALFORMED, "\"jti\" has 15 bytes" },
	{ "jti not base64url", GOOD("," SANS ",\"jti\":\"AAECAwQFBgcI+QoLDA0ODw\""),
	    H_OK, S_WEB, NULL, T, CA_TOKEN_MALFORMED, "not base64url" },
	{ "jti a number", GOOD("," SANS ",\"jti\":12345"),
	    H_OK, S_WEB, NULL, T, CA_TOKEN_MALFORMED, "\"jti\" missing or" },
	{ "exp too big for JSON", CL("web", AUD, 1700000000,
	    12345678901234567890, "," SANS "," JTI), H_OK, S_WEB, NULL, T,
	    CA_TOKEN_MALFORMED, "too big" },
	{ "exp after 9999", CL("web", AUD, 253402300800, 253402300900,
	    "," SANS "," JTI), H_OK, S_WEB, NULL, T, CA_TOKEN_MALFORMED,
	    "\"iat\" missing or" },
	{ "sans not strings", GOOD(",\"sans\":[\"a.web.lab.internal\",7],"
	    JTI), H_OK, S_WEB, NULL, T, CA_TOKEN_MALFORMED,
	    "\"sans\" entry 2 is not a string" },
	{ "sans a string", GOOD(",\"sans\":\"a.web.lab.internal\"," JTI),
	    H_OK, S_WEB, NULL, T, CA_TOKEN_MALFORMED, "not an array" },
	{ "sans empty", GOOD(",\"sans\":[]," JTI), H_OK, S_WEB, NULL, T,
	    CA_TOKEN_MALFORMED, "1 to 100 names" },
	{ "sans missing", GOOD("," JTI), H_OK, S_WEB, NULL, T,
	    CA_TOKEN_MALFORMED, "\"sans\" missing" },
	{ "sans with a duplicate",
	    GOOD(",\"sans\":[\"a.web.lab.internal\",\"a.web.lab.internal\"],"
	    JTI), H_OK, S_WEB, NULL, T, CA_TOKEN_MALFORMED, "twice" },
	{ "sans entry with a space", GOOD(",\"sans\":[\"a b\"]," JTI), H_OK,
	    S_WEB, NULL, T, CA_TOKEN_MALFORMED, "entry 1 is not a name" },
	{ "unknown claim", GOOD("," SANS "," JTI ",\"admin\":true"), H_OK,
	    S_WEB, NULL, T, CA_TOKEN_MALFORMED, "unknown claim \"admin\"" },
	{ "duplicate claim", GOOD("," SANS "," JTI ",\"sub\":\"x\""), H_OK,
	    S_WEB, NULL, T, CA_TOKEN_MALFORMED, "duplicate object key" },
	{ "iat a string", "{\"iss\":\"web\",\"aud\":\"" AUD "\",\"sub\":\"a\","
	    "\"iat\":\"1700000000\",\"exp\":1700000300," SANS "," JTI "}",
	    H_OK, S_WEB, NULL, T, CA_TOKEN_MALFORMED, "\"iat\" missing or" },
	{ "exp a fraction", "{\"iss\":\"web\",\"aud\":\"" AUD "\",\"sub\":\"a\","
	    "\"iat\":1700000000,\"exp\":1700000300.0," SANS "," JTI "}",
	    H_OK, S_WEB, NULL, T, CA_TOKEN_MALFORMED, "\"exp\" missing or" },
	{ "exp negative", CL("web", AUD, 1700000000, -1, "," SANS "," JTI),
	    H_OK, S_WEB, NULL, T, CA_TOKEN_MALFORMED, "\"exp\" missing or" },
	{ "nbf after exp", GOOD("," SANS "," JTI ",\"nbf\":1700000300"), H_OK,
	    S_WEB, NULL, T, CA_TOKEN_MALFORMED, "\"nbf\" is not between" },
	{ "nbf before iat", GOOD("," SANS "," JTI ",\"nbf\":1699999999"),
	    H_OK, S_WEB, NULL, T, CA_TOKEN_MALFORMED, "\"nbf\" is not between" },
	{ "aud an array", "{\"iss\":\"web\",\"aud\":[\"" AUD "\"],"
	    "\"sub\":\"a\",\"iat\":1700000000,\"exp\":1700000300," SANS ","
	    JTI "}", H_OK, S_WEB, NULL, T, CA_TOKEN_MALFORMED,
	    "\"aud\" missing or" },
	{ "sub missing", "{\"iss\":\"web\",\"aud\":\"" AUD "\","
	    "\"iat\":1700000000,\"exp\":1700000300," SANS "," JTI "}", H_OK,
	    S_WEB, NULL, T, CA_TOKEN_MALFORMED, "\"sub\" missing or" },
	{ "claims not an object", "[1]", H_OK, S_WEB, NULL, T,
	    CA_TOKEN_MALFORMED, "not a JSON object" },
};

static char *
forge(const struct bad *b)
{
	struct kr_error err;
	json_t *hdr;
	char *tok;

	hdr = json_object();
	if (b->hdr != H_NO_TYP)
		json_object_set_new(hdr, "typ", b->hdr == H_BAD_TYP ?
		    json_integer(1) : json_string(b->hdr == H_JWT_TYP ? "JWT" :
		    CA_TOKEN_TYP));
	if (b->hdr != H_NO_KID)
		json_object_set_new(hdr, "kid", json_string(K.web_kid));
	if (b->signer == S_ES256)
		assert_int_equal(ca_jws_sign_pkey(CA_JWS_ES256, hdr,
		    (const uint8_t *)b->claims, strlen(b->claims), K.es, &tok,
		    &err), KR_OK);
	else
		assert_int_equal(ca_jws_sign_ed25519(hdr,
		    (const uint8_t *)b->claims, strlen(b->claims),
		    b->signer == S_WEB ? K.web_sk : K.rogue_sk, &tok, &err),
		    KR_OK);
	json_decref(hdr);
	return tok;
}

static void
test_bad_tokens(void **state)
{
	struct ca_token_claims *c;
	struct kr_error err;
	enum ca_token_err te;
	size_t i;
	char *tok;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad *b = &bad[i];

		memset(&err, 0, sizeof(err));
		tok = forge(b);
		c = (struct ca_token_claims *)&err;
		te = ca_token_verify(tok, strlen(tok), K.iss, 2,
		    b->aud ? b->aud : AUD, (time_t)b->now, &c, &err);
		if (te != b->want || (te != CA_TOKEN_OK &&
		    strstr(err.msg, b->msg) == NULL))
			fail_msg("%s: %s (%s), want %s (%s)", b->name,
			    ca_token_err_code(te), err.msg,
			    ca_token_err_code(b->want), b->msg);
		if (te == CA_TOKEN_OK)
			assert_non_null(c);
		else
			assert_null(c);
		print_message("%-40s %-20s %s\n", b->name,
		    ca_token_err_code(te), te ? err.msg : "");
		ca_token_claims_free(c);
		free(tok);
	}
	/* Not a JWS at all. */
	te = ca_token_verify("abc", 3, K.iss, 2, AUD, (time_t)T, &c, &err);
	assert_int_equal(te, CA_TOKEN_MALFORMED);
	/* No issuers: every key is unknown. */
	tok = forge(&bad[0]);
	te = ca_token_verify(tok, strlen(tok), K.iss, 0, AUD, (time_t)T, &c,
	    &err);
	assert_int_equal(te, CA_TOKEN_ISSUER);
	free(tok);
}

static void
test_make_refuses(void **state)
{
	static const char *const dup[] = { "a", "a" };
	static const char *const space[] = { "a b" };
	struct ca_token_req ok = { "web", AUD, "a.web.lab.internal", NULL, 0,
	    (time_t)T, 300, 0 }, r;
	struct kr_error err;
	char *tok = NULL;

	(void)state;
	r = ok;
	r.lifetime = 301;
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_E_USAGE);
	r.lifetime = 0;
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_E_USAGE);
	r = ok;
	r.sans = dup;
	r.nsans = 2;
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_E_USAGE);
	r.sans = space;
	r.nsans = 1;
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_E_USAGE);
	r.nsans = 0;
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_E_USAGE);
	r = ok;
	r.nbf = (time_t)T + 300;
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_E_USAGE);
	r.nbf = (time_t)T - 1;
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_E_USAGE);
	r = ok;
	r.iss = "";
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_E_USAGE);
	r = ok;
	r.aud = "https://x y";
	assert_int_equal(ca_token_make(&r, K.web_sk, &tok, &err), KR_E_USAGE);
	assert_null(tok);
	assert_int_equal(ca_token_make(&ok, K.web_sk, &tok, &err), KR_OK);
	free(tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_codes),
		cmocka_unit_test(test_good_token),
		cmocka_unit_test(test_two_audiences),
		cmocka_unit_test(test_time_window),
		cmocka_unit_test(test_bad_tokens),
		cmocka_unit_test(test_make_refuses),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
