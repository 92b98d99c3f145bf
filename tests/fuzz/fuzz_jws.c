/*
 * fuzz_jws.c: libFuzzer target for ca/jws.c.  By the input's first
 * byte:
 *
 *   '{'  a JWK: what parses must serialise and parse back to an equal
 *        key with the same thumbprint;
 *   '~'  base64url (after the '~'): what decodes must encode back to
 *        exactly the input (one encoding per byte string);
 *   else a compact JWS, verified with every algorithm allowed and the
 *        key chosen by "alg" among fixed ones (the RFC 8037, RFC 7515
 *        A.3 and A.2 keys and a P-384 key), or taken from a "jwk"
 *        header member as ACME does; what verifies must be consistent.
 *
 * Seeds: tests/fuzz/corpus/jws/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../../ca/jws.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fixed_jwks[] = {
	/* RFC 8037 A.2 */
	"{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	"\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
	/* RFC 7515 A.3 */
	"{\"kty\":\"EC\",\"crv\":\"P-256\","
	"\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
	"\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
	/* made for the seeds */
	"{\"kty\":\"EC\",\"crv\":\"P-384\","
	"\"x\":\"ZVCHiRlhxxQvyG2BttQ5j_Yi-iuinC_E-gF49gpuA3KZO_6qP3l9ZzpfsaxElAik\","
	"\"y\":\"luQR91CZf0mqojie9fam8CXlZPBaBWFu2xPAPLoEzBj5FYgXHMua_uYuFcZ9BGUA\"}",
	/* RFC 7515 A.2 */
	"{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\""
	"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw"
	"-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b3269"
	"0r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS"
	"-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aG"
	"hyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXp"
	"oQ\"}",
};
#define NKEYS	(sizeof(fixed_jwks) / sizeof(fixed_jwks[0]))

static struct ca_jws_key *keys[NKEYS];
static struct ca_jws_key *embedded;	/* from a "jwk" header member */

static void
init(void)
{
	struct kr_error err;
	size_t i;

	if (keys[0] != NULL)
		return;
	if (sodium_init() < 0)
		abort();
	for (i = 0; i < NKEYS; i++)
		if (ca_jws_key_parse(fixed_jwks[i], strlen(fixed_jwks[i]),
		    &keys[i], &err) != KR_OK)
			abort();
}

static enum kr_err
lookup(void *arg, const char *kid, const json_t *hdr,
    const struct ca_jws_key **key, struct kr_error *err)
{
	const char *alg = json_string_value(json_object_get(hdr, "alg"));
	const json_t *jwk = json_object_get(hdr, "jwk");
	enum kr_err rc;
	size_t i;

	(void)arg;
	(void)kid;
	if (jwk != NULL) {
		if ((rc = ca_jws_key_from_json(jwk, &embedded, err)) != KR_OK)
			return rc;
		*key = embedded;
		return KR_OK;
	}
	for (i = 0; i < NKEYS; i++)
		if (alg != NULL && strcmp(ca_jws_alg_name(
		    ca_jws_key_alg(keys[i])), alg) == 0) {
			*key = keys[i];
			return KR_OK;
		}
	return kr_fail(err, KR_E_NOTFOUND, "no key");
}

static void
jwk_round_trip(const uint8_t *data, size_t size)
{
	char t1[CA_JWS_THUMBPRINT_LEN], t2[CA_JWS_THUMBPRINT_LEN];
	struct ca_jws_key *k = NULL, *k2 = NULL;
	struct kr_error err;
	json_t *o = NULL;
	char *s;

	if (ca_jws_key_parse((const char *)data, size, &k, &err) != KR_OK)
		return;
	if (ca_jws_key_to_json(k, &o, &err) != KR_OK ||
	    (s = json_dumps(o, JSON_COMPACT)) == NULL)
		abort();
	if (ca_jws_key_parse(s, strlen(s), &k2, &err) != KR_OK ||
	    !ca_jws_key_equal(k, k2))
		abort();	/* what we write we must read */
	ca_jws_key_thumbprint(k, t1);
	ca_jws_key_thumbprint(k2, t2);
	if (strcmp(t1, t2) != 0 || strlen(t1) != 43)
		abort();
	free(s);
	json_decref(o);
	ca_jws_key_free(k);
	ca_jws_key_free(k2);
}

static void
b64_round_trip(const uint8_t *data, size_t size)
{
	struct kr_error err;
	uint8_t *buf;
	char *enc;
	size_t n;

	if ((buf = malloc(size)) == NULL)
		return;
	if (ca_jws_b64_decode((const char *)data, size, buf, size, &n, "fuzz",
	    &err) == KR_OK) {
		if (ca_jws_b64_len(n) != size || (enc = malloc(size + 1)) ==
		    NULL)
			abort();
		ca_jws_b64_encode(buf, n, enc);
		if (memcmp(enc, data, size) != 0)
			abort();	/* two encodings of one value */
		free(enc);
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_jws_verifier v = { CA_JWS_ALG_ALL, NULL, lookup, NULL,
	    NULL };
	struct kr_error err;
	struct ca_jws *j = NULL;

	init();
	if (size > 0 && data[0] == '{') {
		jwk_round_trip(data, size);
		return 0;
	}
	if (size > 0 && data[0] == '~') {
		b64_round_trip(data + 1, size - 1);
		return 0;
	}
	if (ca_jws_verify((const char *)data, size, &v, &j, &err) == KR_OK) {
		if (j == NULL || j->header == NULL || j->payload == NULL ||
		    j->payload_len >= size || j->payload[j->payload_len] != 0 ||
		    ca_jws_alg_name(j->alg) == NULL)
			abort();
		ca_jws_free(j);
	} else if (j != NULL)
		abort();	/* nothing is returned on error */
	ca_jws_key_free(embedded);
	embedded = NULL;
	return 0;
}
