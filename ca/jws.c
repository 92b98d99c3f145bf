/*
 * jws.c: compact JWS (RFC 7515) verification and signing, and public
 * JWKs (RFC 7517, RFC 7518 section 6, RFC 8037), on OpenSSL and
 * libsodium.  See jws.h for the contract and docs/jws.md for why this
 * is not libjose.
 *
 * Every input is checked before it is used and every check has its own
 * message, so a refused token says why.  Ed25519 goes through libsodium
 * (which also refuses small-order keys and non-canonical signatures);
 * ECDSA and RSA through OpenSSL's EVP interface.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "jws.h"

#define ED25519_LEN	32
#define EC_MAX_LEN	48		/* P-384 coordinate */
#define RSA_MAX_LEN	(CA_JWS_RSA_MAX_BITS / 8)
#define RSA_E_MAX_LEN	4		/* exponent below 2^32 */
#define KID_MAX		256		/* characters of a "kid" we keep */
#define THUMB_INPUT_MAX	(64 + 2 * ((RSA_MAX_LEN + 2) / 3 * 4))

enum kty {
	KTY_OKP = 1,
	KTY_EC,
	KTY_RSA,
};

struct ca_jws_key {
	enum kty	 kty;
	enum ca_jws_alg	 alg;		/* the one algorithm this key fits */
	const char	*crv;		/* "Ed25519", "P-256", "P-384", NULL */
	/* OKP: a = x.  EC: a = x, b = y.  RSA: a = n, b = e. */
	uint8_t		 a[RSA_MAX_LEN];
	size_t		 alen;
	uint8_t		 b[EC_MAX_LEN];
	size_t		 blen;
	char		*kid;
	EVP_PKEY	*pkey;
};

/* Header parameter names RFC 7515 and RFC 7518 register for JWS. */
static const char *const registered_params[] = {
	"alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ",
	"cty", "crit", NULL,
};

/* JWK members that hold private key material (RFC 7518 section 6). */
static const char *const private_members[] = {
	"d", "p", "q", "dp", "dq", "qi", "oth", "k", NULL,
};

const char *
ca_jws_alg_name(enum ca_jws_alg alg)
{
	switch (alg) {
	case CA_JWS_EDDSA:
		return "EdDSA";
	case CA_JWS_ES256:
		return "ES256";
	case CA_JWS_ES384:
		return "ES384";
	case CA_JWS_RS256:
		return "RS256";
	}
	return NULL;
}

/* The algorithm called name (len bytes), or 0. */
static enum ca_jws_alg
alg_from_name(const char *name, size_t len)
{
	static const enum ca_jws_alg all[] = {
		CA_JWS_EDDSA, CA_JWS_ES256, CA_JWS_ES384, CA_JWS_RS256,
	};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *n = ca_jws_alg_name(all[i]);

		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return all[i];
	}
	return 0;
}

/* Bytes of a raw signature for alg (0 for RS256: the modulus decides). */
static size_t
sig_len_of(enum ca_jws_alg alg)
{
	switch (alg) {
	case CA_JWS_EDDSA:
	case CA_JWS_ES256:
		return 64;
	case CA_JWS_ES384:
		return 96;
	case CA_JWS_RS256:
		break;
	}
	return 0;
}

static int
in_list(const char *const *list, const char *s)
{
	size_t i;

	if (list == NULL)
		return 0;
	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* ---- base64url ---- */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

size_t
ca_jws_b64_len(size_t len)
{
	return len / 3 * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
}

void
ca_jws_b64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
}

enum kr_err
ca_jws_b64_decode(const char *in, size_t len, uint8_t *out, size_t max,
    size_t *outlen, const char *what, struct kr_error *err)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, o = 0;
	int v;

	*outlen = 0;
	for (i = 0; i < len; i++) {
		if (in[i] == '=')
			return kr_fail(err, KR_E_PARSE, "%s: base64url "
			    "padding ('=') is not allowed", what);
		if (b64_value((unsigned char)in[i]) < 0)
			return kr_fail(err, KR_E_PARSE, "%s: character %zu is "
			    "not base64url", what, i + 1);
	}
	if (len % 4 == 1)
		return kr_fail(err, KR_E_PARSE, "%s: %zu base64url characters "
		    "cannot encode whole bytes", what, len);
	if (len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1) > max)
		return kr_fail(err, KR_E_PARSE, "%s: longer than %zu bytes",
		    what, max);
	for (i = 0; i < len; i++) {
		v = b64_value((unsigned char)in[i]);
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* The 2 or 4 bits left over must be zero: one encoding per value. */
	if ((acc & ((1u << bits) - 1)) != 0) {
		sodium_memzero(out, o);
		sodium_memzero(&acc, sizeof(acc));
		return kr_fail(err, KR_E_PARSE, "%s: non-canonical base64url "
		    "(unused bits in the last character are not zero)", what);
	}
	sodium_memzero(&acc, sizeof(acc));
	*outlen = o;
	return KR_OK;
}

/* Decode into a new malloc'd buffer with a NUL after the bytes. */
static enum kr_err
b64_decode_alloc(const char *in, size_t len, uint8_t **out, size_t *outlen,
    const char *what, struct kr_error *err)
{
	size_t max = len / 4 * 3 + 3;
	enum kr_err rc;
	uint8_t *buf;

	*out = NULL;
	if ((buf = malloc(max + 1)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	rc = ca_jws_b64_decode(in, len, buf, max, outlen, what, err);
	if (rc != KR_OK) {
		free(buf);
		return rc;
	}
	buf[*outlen] = '\0';
	*out = buf;
	return KR_OK;
}

/* A new malloc'd base64url string of buf. */
static char *
b64_alloc(const uint8_t *buf, size_t len)
{
	char *s;

	if ((s = malloc(ca_jws_b64_len(len) + 1)) != NULL)
		ca_jws_b64_encode(buf, len, s);
	return s;
}

/* ---- keys ---- */

void
ca_jws_key_free(struct ca_jws_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k->kid);
	free(k);
}

enum ca_jws_alg
ca_jws_key_alg(const struct ca_jws_key *k)
{
	return k->alg;
}

const char *
ca_jws_key_kid(const struct ca_jws_key *k)
{
	return k->kid;
}

EVP_PKEY *
ca_jws_key_pkey(const struct ca_jws_key *k)
{
	return k->pkey;
}

int
ca_jws_key_equal(const struct ca_jws_key *a, const struct ca_jws_key *b)
{
	return a->kty == b->kty && a->alg == b->alg && a->alen == b->alen &&
	    a->blen == b->blen && memcmp(a->a, b->a, a->alen) == 0 &&
	    memcmp(a->b, b->b, a->blen) == 0;
}

/* An EVP_PKEY of type name ("EC", "RSA") from params. */
static enum kr_err
pkey_fromdata(const char *name, OSSL_PARAM_BLD *bld, EVP_PKEY **out,
    struct kr_error *err)
{
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM *params = NULL;
	enum kr_err rc;

	*out = NULL;
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot make an %s key",
		    name);
		goto out;
	}
	if (EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		rc = kr_fail_ossl(err, KR_E_PARSE, "not a valid %s public key",
		    name);
		goto out;
	}
	rc = KR_OK;
out:
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* OpenSSL's full public key check (for EC: on the curve, not infinity). */
static int
pkey_public_ok(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx;
	int ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		return 0;
	ok = EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/*
 * Whether n is odd and has no prime factor below 1000.  OpenSSL's
 * EVP_PKEY_public_check for RSA is a Miller-Rabin test with random
 * bases, so the same odd-looking modulus could pass one run and fail
 * the next; a key is accepted or refused the same way every time here.
 */
static int
rsa_modulus_ok(const BIGNUM *n)
{
	BN_ULONG p, d;

	if (!BN_is_odd(n))
		return 0;
	for (p = 3; p < 1000; p += 2) {
		for (d = 3; d * d <= p && p % d != 0; d += 2)
			;
		if (d * d > p && BN_mod_word(n, p) == 0)
			return 0;
	}
	return 1;
}

/*
 * Fill k->pkey from k's components, checking them.  Shared by the JWK
 * parser and ca_jws_key_from_pkey so both accept exactly the same keys.
 */
static enum kr_err
key_build(struct ca_jws_key *k, struct kr_error *err)
{
	OSSL_PARAM_BLD *bld = NULL;
	uint8_t point[1 + 2 * EC_MAX_LEN];
	BIGNUM *n = NULL, *e = NULL;
	enum kr_err rc;
	unsigned bits;
	uint32_t ev;
	size_t i;

	switch (k->kty) {
	case KTY_OKP:
		if (crypto_core_ed25519_is_valid_point(k->a) != 1)
			return kr_fail(err, KR_E_PARSE, "JWK: \"x\" is not a "
			    "valid Ed25519 public key (not canonical, small "
			    "order or off the curve)");
		k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    k->a, k->alen);
		if (k->pkey == NULL)
			return kr_fail_ossl(err, KR_E_CRYPTO,
			    "cannot make an Ed25519 key");
		return KR_OK;
	case KTY_EC:
		point[0] = 0x04;
		memcpy(point + 1, k->a, k->alen);
		memcpy(point + 1 + k->alen, k->b, k->blen);
		if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
		    OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, k->crv, 0) != 1 ||
		    OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, point,
		    1 + k->alen + k->blen) != 1) {
			rc = kr_fail_ossl(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		rc = pkey_fromdata("EC", bld, &k->pkey, err);
		if (rc != KR_OK || !pkey_public_ok(k->pkey)) {
			ERR_clear_error();
			rc = kr_fail(err, KR_E_PARSE, "JWK: (x, y) is not a "
			    "point on %s", k->crv);
			goto out;
		}
		break;
	case KTY_RSA:
		if (k->alen == 0 || k->a[0] == 0 || k->blen == 0 ||
		    k->b[0] == 0) {
			rc = kr_fail(err, KR_E_PARSE, "JWK: \"n\" and \"e\" "
			    "must be unsigned big-endian without leading "
			    "zero octets");
			goto out;
		}
		for (bits = (unsigned)k->alen * 8, i = 0x80; i != 0 &&
		    !(k->a[0] & i); i >>= 1)
			bits--;
		if (bits < CA_JWS_RSA_MIN_BITS || bits > CA_JWS_RSA_MAX_BITS) {
			rc = kr_fail(err, KR_E_POLICY, "JWK: RSA key of %u "
			    "bits; %d to %d are accepted", bits,
			    CA_JWS_RSA_MIN_BITS, CA_JWS_RSA_MAX_BITS);
			goto out;
		}
		for (ev = 0, i = 0; i < k->blen; i++)
			ev = ev << 8 | k->b[i];
		if (k->blen > RSA_E_MAX_LEN || ev <= 65536 || (ev & 1) == 0) {
			rc = kr_fail(err, KR_E_PARSE, "JWK: RSA exponent must "
			    "be odd, above 2^16 and below 2^32");
			goto out;
		}
		if ((n = BN_bin2bn(k->a, (int)k->alen, NULL)) == NULL ||
		    (e = BN_bin2bn(k->b, (int)k->blen, NULL)) == NULL ||
		    (bld = OSSL_PARAM_BLD_new()) == NULL ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N,
		    n) != 1 ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E,
		    e) != 1) {
			rc = kr_fail_ossl(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		if (!rsa_modulus_ok(n)) {
			rc = kr_fail(err, KR_E_PARSE, "JWK: \"n\" is not an "
			    "RSA modulus (even, or a prime below 1000 divides "
			    "it)");
			goto out;
		}
		if ((rc = pkey_fromdata("RSA", bld, &k->pkey, err)) != KR_OK)
			goto out;
		break;
	}
	rc = KR_OK;
out:
	BN_free(n);
	BN_free(e);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

/*
 * Decode the string member name of jwk into buf: exactly want bytes
 * when want != 0, else 1..max bytes.
 */
static enum kr_err
jwk_bytes(const json_t *jwk, const char *name, uint8_t *buf, size_t max,
    size_t want, size_t *len, struct kr_error *err)
{
	const json_t *v = json_object_get(jwk, name);
	char what[32];
	enum kr_err rc;

	if (!json_is_string(v))
		return kr_fail(err, KR_E_PARSE, "JWK: \"%s\" missing or not "
		    "a string", name);
	snprintf(what, sizeof(what), "JWK \"%s\"", name);
	rc = ca_jws_b64_decode(json_string_value(v), json_string_length(v),
	    buf, max, len, what, err);
	if (rc != KR_OK)
		return rc;
	if (want != 0 && *len != want)
		return kr_fail(err, KR_E_PARSE, "JWK: \"%s\" is %zu bytes; "
		    "it must be %zu", name, *len, want);
	if (*len == 0)
		return kr_fail(err, KR_E_PARSE, "JWK: \"%s\" is empty", name);
	return KR_OK;
}

/* The string member name, or NULL; a non-string is an error. */
static enum kr_err
opt_string(const json_t *o, const char *name, const char *where,
    const char **out, struct kr_error *err)
{
	const json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL)
		return KR_OK;
	if (!json_is_string(v) || strlen(json_string_value(v)) !=
	    json_string_length(v))
		return kr_fail(err, KR_E_PARSE, "%s: \"%s\" must be a string",
		    where, name);
	*out = json_string_value(v);
	return KR_OK;
}

enum kr_err
ca_jws_key_from_json(const json_t *jwk, struct ca_jws_key **out,
    struct kr_error *err)
{
	const char *kty, *crv, *use, *alg, *kid;
	struct ca_jws_key *k = NULL;
	enum ca_jws_alg a;
	enum kr_err rc;
	size_t i;

	*out = NULL;
	if (!json_is_object(jwk))
		return kr_fail(err, KR_E_PARSE, "JWK: not a JSON object");
	for (i = 0; private_members[i] != NULL; i++)
		if (json_object_get(jwk, private_members[i]) != NULL)
			return kr_fail(err, KR_E_PARSE, "JWK: has the private "
			    "member \"%s\"; give the public key only",
			    private_members[i]);
	if ((rc = opt_string(jwk, "kty", "JWK", &kty, err)) != KR_OK ||
	    (rc = opt_string(jwk, "crv", "JWK", &crv, err)) != KR_OK ||
	    (rc = opt_string(jwk, "use", "JWK", &use, err)) != KR_OK ||
	    (rc = opt_string(jwk, "alg", "JWK", &alg, err)) != KR_OK ||
	    (rc = opt_string(jwk, "kid", "JWK", &kid, err)) != KR_OK)
		return rc;
	if (kty == NULL)
		return kr_fail(err, KR_E_PARSE, "JWK: \"kty\" is missing");
	if (use != NULL && strcmp(use, "sig") != 0)
		return kr_fail(err, KR_E_POLICY, "JWK: \"use\" is \"%s\", not "
		    "\"sig\"", use);
	if (kid != NULL && strlen(kid) > KID_MAX)
		return kr_fail(err, KR_E_PARSE, "JWK: \"kid\" is longer than "
		    "%d characters", KID_MAX);
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");

	if (strcmp(kty, "OKP") == 0) {
		k->kty = KTY_OKP;
		k->alg = CA_JWS_EDDSA;
		if (crv == NULL || strcmp(crv, "Ed25519") != 0) {
			rc = kr_fail(err, KR_E_POLICY, "JWK: OKP curve %s%s%s "
			    "is not supported; use Ed25519", crv ? "\"" : "",
			    crv ? crv : "(none)", crv ? "\"" : "");
			goto out;
		}
		k->crv = "Ed25519";
		rc = jwk_bytes(jwk, "x", k->a, sizeof(k->a), ED25519_LEN,
		    &k->alen, err);
	} else if (strcmp(kty, "EC") == 0) {
		size_t clen;

		k->kty = KTY_EC;
		if (crv != NULL && strcmp(crv, "P-256") == 0) {
			k->alg = CA_JWS_ES256;
			k->crv = "P-256";
			clen = 32;
		} else if (crv != NULL && strcmp(crv, "P-384") == 0) {
			k->alg = CA_JWS_ES384;
			k->crv = "P-384";
			clen = 48;
		} else {
			rc = kr_fail(err, KR_E_POLICY, "JWK: EC curve %s%s%s "
			    "is not supported; use P-256 or P-384",
			    crv ? "\"" : "", crv ? crv : "(none)",
			    crv ? "\"" : "");
			goto out;
		}
		if ((rc = jwk_bytes(jwk, "x", k->a, sizeof(k->a), clen,
		    &k->alen, err)) != KR_OK)
			goto out;
		rc = jwk_bytes(jwk, "y", k->b, sizeof(k->b), clen, &k->blen,
		    err);
	} else if (strcmp(kty, "RSA") == 0) {
		k->kty = KTY_RSA;
		k->alg = CA_JWS_RS256;
		if (crv != NULL) {
			rc = kr_fail(err, KR_E_PARSE, "JWK: an RSA key has no "
			    "\"crv\"");
			goto out;
		}
		if ((rc = jwk_bytes(jwk, "n", k->a, sizeof(k->a), 0,
		    &k->alen, err)) != KR_OK)
			goto out;
		rc = jwk_bytes(jwk, "e", k->b, RSA_E_MAX_LEN + 1, 0, &k->blen,
		    err);
	} else {
		rc = kr_fail(err, KR_E_POLICY, "JWK: key type \"%s\" is not "
		    "supported (OKP, EC or RSA)", kty);
		goto out;
	}
	if (rc != KR_OK)
		goto out;
	if (alg != NULL) {
		a = alg_from_name(alg, strlen(alg));
		if (a != k->alg) {
			rc = kr_fail(err, KR_E_POLICY, "JWK: \"alg\" is \"%s\" "
			    "but this key signs %s", alg,
			    ca_jws_alg_name(k->alg));
			goto out;
		}
	}
	if (kid != NULL && (k->kid = strdup(kid)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = key_build(k, err)) != KR_OK)
		goto out;
	*out = k;
	k = NULL;
	rc = KR_OK;
out:
	ca_jws_key_free(k);
	return rc;
}

enum kr_err
ca_jws_key_parse(const char *text, size_t len, struct ca_jws_key **out,
    struct kr_error *err)
{
	json_error_t je;
	enum kr_err rc;
	json_t *o;

	*out = NULL;
	if (len > CA_JWS_KEY_MAX)
		return kr_fail(err, KR_E_PARSE, "JWK: longer than %d bytes",
		    CA_JWS_KEY_MAX);
	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return kr_fail(err, KR_E_PARSE, "JWK: not JSON: %s (column %d)",
		    je.text, je.column);
	rc = ca_jws_key_from_json(o, out, err);
	json_decref(o);
	return rc;
}

enum kr_err
ca_jws_key_from_ed25519(const uint8_t pk[32], struct ca_jws_key **out,
    struct kr_error *err)
{
	struct ca_jws_key *k;
	enum kr_err rc;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	k->kty = KTY_OKP;
	k->alg = CA_JWS_EDDSA;
	k->crv = "Ed25519";
	memcpy(k->a, pk, ED25519_LEN);
	k->alen = ED25519_LEN;
	if ((rc = key_build(k, err)) != KR_OK) {
		ca_jws_key_free(k);
		return rc;
	}
	*out = k;
	return KR_OK;
}

/* The algorithm pkey fits, or 0. */
static enum ca_jws_alg
pkey_alg(EVP_PKEY *pkey)
{
	char group[64];
	int nid;

	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_ED25519:
		return CA_JWS_EDDSA;
	case EVP_PKEY_RSA:
		return CA_JWS_RS256;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(pkey,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
		    NULL) != 1) {
			ERR_clear_error();
			return 0;
		}
		nid = OBJ_txt2nid(group);
		if (nid == NID_X9_62_prime256v1)
			return CA_JWS_ES256;
		if (nid == NID_secp384r1)
			return CA_JWS_ES384;
		return 0;
	}
	return 0;
}

/* The big number parameter name of pkey into buf, padded to pad if set. */
static enum kr_err
pkey_bn(EVP_PKEY *pkey, const char *name, uint8_t *buf, size_t max,
    size_t pad, size_t *len, struct kr_error *err)
{
	BIGNUM *bn = NULL;
	int n;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		return kr_fail_ossl(err, KR_E_CRYPTO, "cannot read the key's "
		    "%s", name);
	if ((size_t)BN_num_bytes(bn) > max) {
		BN_free(bn);
		return kr_fail(err, KR_E_POLICY, "key's %s is too large",
		    name);
	}
	n = pad != 0 ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	if (n < 0)
		return kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode %s", name);
	*len = (size_t)n;
	return KR_OK;
}

enum kr_err
ca_jws_key_from_pkey(EVP_PKEY *pkey, struct ca_jws_key **out,
    struct kr_error *err)
{
	struct ca_jws_key *k;
	enum kr_err rc;
	size_t clen;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	switch ((k->alg = pkey_alg(pkey))) {
	case CA_JWS_EDDSA:
		k->kty = KTY_OKP;
		k->crv = "Ed25519";
		k->alen = ED25519_LEN;
		if (EVP_PKEY_get_raw_public_key(pkey, k->a, &k->alen) != 1 ||
		    k->alen != ED25519_LEN) {
			rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot read the "
			    "Ed25519 public key");
			goto out;
		}
		break;
	case CA_JWS_ES256:
	case CA_JWS_ES384:
		k->kty = KTY_EC;
		k->crv = k->alg == CA_JWS_ES256 ? "P-256" : "P-384";
		clen = k->alg == CA_JWS_ES256 ? 32 : 48;
		if ((rc = pkey_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_X, k->a, clen,
		    clen, &k->alen, err)) != KR_OK ||
		    (rc = pkey_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, k->b, clen,
		    clen, &k->blen, err)) != KR_OK)
			goto out;
		break;
	case CA_JWS_RS256:
		k->kty = KTY_RSA;
		if ((rc = pkey_bn(pkey, OSSL_PKEY_PARAM_RSA_N, k->a,
		    sizeof(k->a), 0, &k->alen, err)) != KR_OK ||
		    (rc = pkey_bn(pkey, OSSL_PKEY_PARAM_RSA_E, k->b,
		    RSA_E_MAX_LEN, 0, &k->blen, err)) != KR_OK)
			goto out;
		break;
	default:
		rc = kr_fail(err, KR_E_POLICY, "key type is not supported "
		    "(Ed25519, P-256, P-384 or RSA)");
		goto out;
	}
	if ((rc = key_build(k, err)) != KR_OK)
		goto out;
	*out = k;
	k = NULL;
	rc = KR_OK;
out:
	ca_jws_key_free(k);
	return rc;
}

/* Set member name of o to the base64url of buf. */
static int
set_b64(json_t *o, const char *name, const uint8_t *buf, size_t len)
{
	char *s;
	int r;

	if ((s = b64_alloc(buf, len)) == NULL)
		return -1;
	r = json_object_set_new(o, name, json_string(s));
	free(s);
	return r;
}

enum kr_err
ca_jws_key_to_json(const struct ca_jws_key *k, json_t **out,
    struct kr_error *err)
{
	json_t *o;
	int bad = 0;

	*out = NULL;
	if ((o = json_object()) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	switch (k->kty) {
	case KTY_OKP:
	case KTY_EC:
		bad |= json_object_set_new(o, "kty",
		    json_string(k->kty == KTY_OKP ? "OKP" : "EC"));
		bad |= json_object_set_new(o, "crv", json_string(k->crv));
		bad |= set_b64(o, "x", k->a, k->alen);
		if (k->kty == KTY_EC)
			bad |= set_b64(o, "y", k->b, k->blen);
		break;
	case KTY_RSA:
		bad |= json_object_set_new(o, "kty", json_string("RSA"));
		bad |= set_b64(o, "n", k->a, k->alen);
		bad |= set_b64(o, "e", k->b, k->blen);
		break;
	}
	if (k->kid != NULL)
		bad |= json_object_set_new(o, "kid", json_string(k->kid));
	if (bad) {
		json_decref(o);
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	}
	*out = o;
	return KR_OK;
}

/* Append "name":"b64(buf)" to s at *pos. */
static void
thumb_member(char *s, size_t *pos, const char *name, const uint8_t *buf,
    size_t len)
{
	*pos += (size_t)snprintf(s + *pos, THUMB_INPUT_MAX - *pos, "\"%s\":\"",
	    name);
	ca_jws_b64_encode(buf, len, s + *pos);
	*pos += ca_jws_b64_len(len);
	s[(*pos)++] = '"';
	s[*pos] = '\0';
}

void
ca_jws_key_thumbprint(const struct ca_jws_key *k,
    char out[CA_JWS_THUMBPRINT_LEN])
{
	uint8_t h[crypto_hash_sha256_BYTES];
	char s[THUMB_INPUT_MAX];
	size_t pos = 0;

	/* RFC 7638 section 3.2: required members, sorted, no spaces. */
	s[pos++] = '{';
	switch (k->kty) {
	case KTY_OKP:
	case KTY_EC:
		pos += (size_t)snprintf(s + pos, sizeof(s) - pos,
		    "\"crv\":\"%s\",\"kty\":\"%s\",", k->crv,
		    k->kty == KTY_OKP ? "OKP" : "EC");
		thumb_member(s, &pos, "x", k->a, k->alen);
		if (k->kty == KTY_EC) {
			s[pos++] = ',';
			thumb_member(s, &pos, "y", k->b, k->blen);
		}
		break;
	case KTY_RSA:
		thumb_member(s, &pos, "e", k->b, k->blen);
		pos += (size_t)snprintf(s + pos, sizeof(s) - pos,
		    ",\"kty\":\"RSA\",");
		thumb_member(s, &pos, "n", k->a, k->alen);
		break;
	}
	s[pos++] = '}';
	crypto_hash_sha256(h, (const uint8_t *)s, pos);
	ca_jws_b64_encode(h, sizeof(h), out);
}

/* ---- verification ---- */

void
ca_jws_free(struct ca_jws *j)
{
	if (j == NULL)
		return;
	json_decref(j->header);
	free(j->payload);
	free(j);
}

/* Convert a raw r || s ECDSA signature to DER for OpenSSL. */
static enum kr_err
ecdsa_raw_to_der(const uint8_t *sig, size_t len, uint8_t **der,
    size_t *derlen, struct kr_error *err)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *p = NULL;
	int n;

	*der = NULL;
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(sig, (int)(len / 2), NULL)) == NULL ||
	    (s = BN_bin2bn(sig + len / 2, (int)(len / 2), NULL)) == NULL ||
	    ECDSA_SIG_set0(es, r, s) != 1) {
		ECDSA_SIG_free(es);
		BN_free(r);
		BN_free(s);
		return kr_fail_ossl(err, KR_E_NOMEM, "out of memory");
	}
	n = i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode an "
		    "ECDSA signature");
	*der = p;
	*derlen = (size_t)n;
	return KR_OK;
}

/* Whether sig is k's signature over msg with alg (already matched). */
static enum kr_err
verify_sig(const struct ca_jws_key *k, const uint8_t *msg, size_t len,
    const uint8_t *sig, size_t siglen, struct kr_error *err)
{
	EVP_MD_CTX *ctx = NULL;
	const EVP_MD *md;
	uint8_t *der = NULL;
	size_t derlen = 0;
	enum kr_err rc;
	int ok;

	if (k->alg == CA_JWS_EDDSA) {
		if (crypto_sign_verify_detached(sig, msg, len, k->a) != 0)
			return kr_fail(err, KR_E_VERIFY, "JWS: the signature "
			    "does not verify");
		return KR_OK;
	}
	md = k->alg == CA_JWS_ES384 ? EVP_sha384() : EVP_sha256();
	if (k->alg != CA_JWS_RS256) {
		if ((rc = ecdsa_raw_to_der(sig, siglen, &der, &derlen,
		    err)) != KR_OK)
			return rc;
		sig = der;
		siglen = derlen;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, k->pkey) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot start verifying");
		goto out;
	}
	ok = EVP_DigestVerify(ctx, sig, siglen, msg, len);
	ERR_clear_error();
	if (ok != 1) {
		rc = kr_fail(err, KR_E_VERIFY, "JWS: the signature does not "
		    "verify");
		goto out;
	}
	rc = KR_OK;
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return rc;
}

/*
 * Check "crit" (RFC 7515 section 4.1.11) and "b64" (RFC 7797, which we
 * do not implement) in hdr.
 */
static enum kr_err
check_crit(const json_t *hdr, const char *const *known, struct kr_error *err)
{
	const json_t *crit, *b64, *v, *w;
	const char *name;
	size_t i, j;

	b64 = json_object_get(hdr, "b64");
	if (b64 != NULL && !json_is_true(b64))
		return kr_fail(err, KR_E_POLICY, "JWS: unencoded payloads "
		    "(\"b64\": false) are not supported");
	if ((crit = json_object_get(hdr, "crit")) == NULL)
		return KR_OK;
	if (!json_is_array(crit) || json_array_size(crit) == 0)
		return kr_fail(err, KR_E_PARSE, "JWS: \"crit\" must be a "
		    "non-empty array of names");
	json_array_foreach(crit, i, v) {
		if (!json_is_string(v))
			return kr_fail(err, KR_E_PARSE, "JWS: \"crit\" must "
			    "hold only strings");
		name = json_string_value(v);
		for (j = 0; j < i; j++) {
			w = json_array_get(crit, j);
			if (json_equal((json_t *)v, (json_t *)w))
				return kr_fail(err, KR_E_PARSE, "JWS: \"crit\" "
				    "names \"%s\" twice", name);
		}
		if (in_list(registered_params, name))
			return kr_fail(err, KR_E_PARSE, "JWS: \"crit\" names "
			    "the standard parameter \"%s\"", name);
		if (json_object_get(hdr, name) == NULL)
			return kr_fail(err, KR_E_PARSE, "JWS: \"crit\" names "
			    "\"%s\", which the header does not have", name);
		if (strcmp(name, "b64") == 0 || !in_list(known, name))
			return kr_fail(err, KR_E_POLICY, "JWS: critical header "
			    "parameter \"%s\" is not understood", name);
	}
	return KR_OK;
}

enum kr_err
ca_jws_verify(const char *jws, size_t len, const struct ca_jws_verifier *v,
    struct ca_jws **out, struct kr_error *err)
{
	const struct ca_jws_key *key = NULL;
	const char *d1, *d2, *d3, *kid, *an;
	uint8_t *hbuf = NULL, *sig = NULL, *payload = NULL;
	size_t hlen, slen, plen, want, parts;
	struct ca_jws *j = NULL;
	const json_t *algv;
	json_t *hdr = NULL;
	enum ca_jws_alg alg;
	json_error_t je;
	enum kr_err rc;

	*out = NULL;
	if (len == 0) {
		rc = kr_fail(err, KR_E_PARSE, "JWS: empty");
		goto out;
	}
	if (len > CA_JWS_MAX) {
		rc = kr_fail(err, KR_E_PARSE, "JWS: %zu bytes; at most %d "
		    "are accepted", len, CA_JWS_MAX);
		goto out;
	}
	d1 = memchr(jws, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jws)) : NULL;
	d3 = d2 ? memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jws)) : NULL;
	if (d1 == NULL || d2 == NULL || d3 != NULL) {
		for (parts = 1, hlen = 0; hlen < len; hlen++)
			parts += jws[hlen] == '.';
		rc = kr_fail(err, KR_E_PARSE, "JWS: %zu parts; a compact JWS "
		    "has 3 (header.payload.signature)", parts);
		goto out;
	}
	hlen = (size_t)(d1 - jws);
	plen = (size_t)(d2 - d1 - 1);
	slen = len - (size_t)(d2 + 1 - jws);
	if (hlen == 0 || slen == 0) {
		rc = kr_fail(err, KR_E_PARSE, "JWS: empty %s",
		    hlen == 0 ? "header" : "signature");
		goto out;
	}

	/* The protected header. */
	if ((rc = b64_decode_alloc(jws, hlen, &hbuf, &hlen, "JWS header",
	    err)) != KR_OK)
		goto out;
	if ((hdr = json_loadb((const char *)hbuf, hlen,
	    JSON_REJECT_DUPLICATES, &je)) == NULL) {
		rc = kr_fail(err, KR_E_PARSE, "JWS header: not a JSON object: "
		    "%s", je.text);
		goto out;
	}
	if (!json_is_object(hdr)) {
		rc = kr_fail(err, KR_E_PARSE, "JWS header: not a JSON object");
		goto out;
	}
	algv = json_object_get(hdr, "alg");
	if (!json_is_string(algv)) {
		rc = kr_fail(err, KR_E_PARSE, "JWS header: \"alg\" missing or "
		    "not a string");
		goto out;
	}
	an = json_string_value(algv);
	if (strcmp(an, "none") == 0 && json_string_length(algv) == 4) {
		rc = kr_fail(err, KR_E_POLICY, "JWS: unsigned (\"alg\": "
		    "\"none\") is never accepted");
		goto out;
	}
	alg = alg_from_name(an, json_string_length(algv));
	if (alg == 0 || (v->algs & (unsigned)alg) == 0) {
		rc = kr_fail(err, KR_E_POLICY, "JWS: algorithm \"%.32s\" is "
		    "not accepted here", an);
		goto out;
	}
	if ((rc = check_crit(hdr, v->crit, err)) != KR_OK)
		goto out;
	if ((rc = opt_string(hdr, "kid", "JWS header", &kid, err)) != KR_OK)
		goto out;

	/* The key. */
	if (v->key != NULL)
		key = v->key;
	else if (v->lookup != NULL) {
		if ((rc = v->lookup(v->arg, kid, hdr, &key, err)) != KR_OK)
			goto out;
		if (key == NULL) {
			rc = kr_fail(err, KR_E_INTERNAL, "JWS: key lookup "
			    "returned no key");
			goto out;
		}
	} else {
		rc = kr_fail(err, KR_E_INTERNAL, "JWS: no key to verify with");
		goto out;
	}
	if (key->alg != alg) {
		rc = kr_fail(err, KR_E_POLICY, "JWS: \"alg\" is %s but the "
		    "key is for %s", ca_jws_alg_name(alg),
		    ca_jws_alg_name(key->alg));
		goto out;
	}

	/* The signature, over the ASCII of header.payload as sent. */
	if ((rc = b64_decode_alloc(d2 + 1, slen, &sig, &slen, "JWS signature",
	    err)) != KR_OK)
		goto out;
	want = alg == CA_JWS_RS256 ? (size_t)EVP_PKEY_get_size(key->pkey) :
	    sig_len_of(alg);
	if (slen != want) {
		rc = kr_fail(err, KR_E_PARSE, "JWS: signature of %zu bytes; "
		    "%s with this key makes %zu", slen, ca_jws_alg_name(alg),
		    want);
		goto out;
	}
	if ((rc = verify_sig(key, (const uint8_t *)jws, (size_t)(d2 - jws),
	    sig, slen, err)) != KR_OK)
		goto out;

	if ((rc = b64_decode_alloc(d1 + 1, plen, &payload, &plen,
	    "JWS payload", err)) != KR_OK)
		goto out;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	j->header = hdr;
	j->alg = alg;
	j->kid = kid;
	j->payload = payload;
	j->payload_len = plen;
	hdr = NULL;
	payload = NULL;
	*out = j;
	rc = KR_OK;
out:
	json_decref(hdr);
	free(hbuf);
	free(sig);
	free(payload);
	return rc;
}

/* ---- signing ---- */

/* base64url of the protected header {"alg":...} + hdr, malloc'd. */
static enum kr_err
header_b64(enum ca_jws_alg alg, const json_t *hdr, char **out,
    struct kr_error *err)
{
	const char *name;
	json_t *o, *val;
	enum kr_err rc;
	char *s = NULL;

	*out = NULL;
	if (hdr != NULL && !json_is_object(hdr))
		return kr_fail(err, KR_E_USAGE, "JWS header: not an object");
	if ((o = json_object()) == NULL ||
	    json_object_set_new(o, "alg", json_string(ca_jws_alg_name(alg))))
	{
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (hdr != NULL) {
		json_object_foreach((json_t *)hdr, name, val) {
			if (strcmp(name, "alg") == 0 ||
			    strcmp(name, "crit") == 0 ||
			    strcmp(name, "b64") == 0) {
				rc = kr_fail(err, KR_E_USAGE, "JWS header: "
				    "\"%s\" is not the caller's to set", name);
				goto out;
			}
			if (json_object_set(o, name, val) != 0) {
				rc = kr_fail(err, KR_E_NOMEM, "out of memory");
				goto out;
			}
		}
	}
	if ((s = json_dumps(o, JSON_COMPACT)) == NULL ||
	    (*out = b64_alloc((const uint8_t *)s, strlen(s))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	rc = KR_OK;
out:
	free(s);
	json_decref(o);
	return rc;
}

/*
 * The signing input header.payload, malloc'd with room for the
 * signature's base64url (siglen bytes) after it.
 */
static enum kr_err
signing_input(enum ca_jws_alg alg, const json_t *hdr, const uint8_t *payload,
    size_t len, size_t siglen, char **out, size_t *inlen,
    struct kr_error *err)
{
	char *h = NULL, *s;
	size_t hl, pl;
	enum kr_err rc;

	*out = NULL;
	if (len > CA_JWS_MAX)
		return kr_fail(err, KR_E_USAGE, "JWS payload: %zu bytes is "
		    "too long", len);
	if ((rc = header_b64(alg, hdr, &h, err)) != KR_OK)
		return rc;
	hl = strlen(h);
	pl = ca_jws_b64_len(len);
	if ((s = malloc(hl + 1 + pl + 1 + ca_jws_b64_len(siglen) + 1)) ==
	    NULL) {
		free(h);
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	}
	memcpy(s, h, hl);
	s[hl] = '.';
	ca_jws_b64_encode(payload, len, s + hl + 1);
	free(h);
	*inlen = hl + 1 + pl;
	*out = s;
	return KR_OK;
}

/* Append ".b64(sig)" to the signing input s of inlen bytes. */
static void
append_sig(char *s, size_t inlen, const uint8_t *sig, size_t siglen)
{
	s[inlen] = '.';
	ca_jws_b64_encode(sig, siglen, s + inlen + 1);
}

enum kr_err
ca_jws_sign_ed25519(const json_t *hdr, const uint8_t *payload, size_t len,
    const uint8_t sk[CA_JWS_ED25519_SK_LEN], char **out,
    struct kr_error *err)
{
	uint8_t sig[crypto_sign_BYTES];
	enum kr_err rc;
	size_t inlen;
	char *s;

	*out = NULL;
	if ((rc = signing_input(CA_JWS_EDDSA, hdr, payload, len, sizeof(sig),
	    &s, &inlen, err)) != KR_OK)
		return rc;
	if (crypto_sign_detached(sig, NULL, (const uint8_t *)s, inlen,
	    sk) != 0) {
		free(s);
		return kr_fail(err, KR_E_CRYPTO, "Ed25519 signing failed");
	}
	append_sig(s, inlen, sig, sizeof(sig));
	*out = s;
	return KR_OK;
}

enum kr_err
ca_jws_sign_pkey(enum ca_jws_alg alg, const json_t *hdr,
    const uint8_t *payload, size_t len, EVP_PKEY *pkey, char **out,
    struct kr_error *err)
{
	const BIGNUM *r, *sv;
	EVP_MD_CTX *ctx = NULL;
	const unsigned char *p;
	uint8_t *der = NULL, *raw = NULL;
	ECDSA_SIG *es = NULL;
	size_t inlen, derlen, rawlen;
	const EVP_MD *md;
	enum kr_err rc;
	char *s = NULL;

	*out = NULL;
	if (ca_jws_alg_name(alg) == NULL || pkey_alg(pkey) != alg)
		return kr_fail(err, KR_E_USAGE, "JWS: the key cannot sign %s",
		    ca_jws_alg_name(alg) ? ca_jws_alg_name(alg) : "this");
	if (alg == CA_JWS_RS256 && EVP_PKEY_get_bits(pkey) <
	    CA_JWS_RSA_MIN_BITS)
		return kr_fail(err, KR_E_POLICY, "JWS: RSA key of %d bits; at "
		    "least %d", EVP_PKEY_get_bits(pkey), CA_JWS_RSA_MIN_BITS);
	rawlen = alg == CA_JWS_RS256 ? (size_t)EVP_PKEY_get_size(pkey) :
	    sig_len_of(alg);
	md = alg == CA_JWS_EDDSA ? NULL : alg == CA_JWS_ES384 ?
	    EVP_sha384() : EVP_sha256();
	if ((rc = signing_input(alg, hdr, payload, len, rawlen, &s, &inlen,
	    err)) != KR_OK)
		return rc;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, md, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &derlen, (const uint8_t *)s,
	    inlen) != 1 || (der = malloc(derlen)) == NULL ||
	    EVP_DigestSign(ctx, der, &derlen, (const uint8_t *)s,
	    inlen) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "JWS: %s signing failed",
		    ca_jws_alg_name(alg));
		goto out;
	}
	if (alg == CA_JWS_EDDSA || alg == CA_JWS_RS256) {
		if (derlen != rawlen) {
			rc = kr_fail(err, KR_E_INTERNAL, "JWS: signature of "
			    "%zu bytes, not %zu", derlen, rawlen);
			goto out;
		}
		append_sig(s, inlen, der, derlen);
	} else {
		/* JOSE wants r || s, each the size of the group order. */
		p = der;
		if ((es = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL ||
		    (raw = malloc(rawlen)) == NULL) {
			rc = kr_fail_ossl(err, KR_E_CRYPTO, "JWS: cannot "
			    "decode the ECDSA signature");
			goto out;
		}
		ECDSA_SIG_get0(es, &r, &sv);
		if (BN_bn2binpad(r, raw, (int)(rawlen / 2)) < 0 ||
		    BN_bn2binpad(sv, raw + rawlen / 2, (int)(rawlen / 2)) < 0) {
			rc = kr_fail(err, KR_E_INTERNAL, "JWS: ECDSA "
			    "signature does not fit");
			goto out;
		}
		append_sig(s, inlen, raw, rawlen);
	}
	*out = s;
	s = NULL;
	rc = KR_OK;
out:
	EVP_MD_CTX_free(ctx);
	ECDSA_SIG_free(es);
	free(der);
	free(raw);
	free(s);
	return rc;
}
