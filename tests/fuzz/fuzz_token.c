/*
 * fuzz_token.c: libFuzzer target for ca/token.c.  A fuzzer cannot forge
 * Ed25519 signatures, so to reach the claims parser the target signs
 * what it is given.  By the input's first byte:
 *
 *   '{'  the claims: signed with the fixed provisioner key under a good
 *        header, then verified;
 *   '!'  the protected header (after the '!'): signed over fixed good
 *        claims, then verified;
 *   else a whole token, verified as it is.
 *
 * Whatever is accepted must honour the token rules (lifetime, window,
 * audience, issuer, jti, sans), whatever is refused must return nothing
 * and a known code.  Seeds: tests/fuzz/corpus/token/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../../ca/token.h"

#define AUD	"https://ca.lab.internal:8443"
#define NOW	1700000100

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* RFC 8037's seed: the provisioner "web". */
static const uint8_t seed[32] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60,
	0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
	0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19,
	0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};

static const char good_claims[] =
    "{\"iss\":\"web\",\"aud\":\"" AUD "\",\"sub\":\"a.web.lab.internal\","
    "\"sans\":[\"a.web.lab.internal\"],\"iat\":1700000000,"
    "\"exp\":1700000300,\"jti\":\"AAECAwQFBgcICQoLDA0ODw\"}";

static uint8_t sk[64];
static struct ca_jws_key *key;
static char kid[CA_JWS_THUMBPRINT_LEN];
static struct ca_token_issuer iss;

static void
init(void)
{
	uint8_t pk[32];
	struct kr_error err;

	if (key != NULL)
		return;
	if (sodium_init() < 0)
		abort();
	crypto_sign_seed_keypair(pk, sk, seed);
	if (ca_jws_key_from_ed25519(pk, &key, &err) != KR_OK)
		abort();
	ca_jws_key_thumbprint(key, kid);
	iss.name = "web";
	iss.key = key;
}

/* b64(hdr).b64(claims).sig, signed with sk; malloc'd. */
static char *
sign_raw(const uint8_t *hdr, size_t hlen, const uint8_t *cl, size_t clen)
{
	size_t hl = ca_jws_b64_len(hlen), cll = ca_jws_b64_len(clen);
	uint8_t sig[64];
	char *t;

	if ((t = malloc(hl + 1 + cll + 1 + 86 + 1)) == NULL)
		return NULL;
	ca_jws_b64_encode(hdr, hlen, t);
	t[hl] = '.';
	ca_jws_b64_encode(cl, clen, t + hl + 1);
	crypto_sign_detached(sig, NULL, (const uint8_t *)t, hl + 1 + cll, sk);
	t[hl + 1 + cll] = '.';
	ca_jws_b64_encode(sig, sizeof(sig), t + hl + 1 + cll + 1);
	return t;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_token_claims *c = (struct ca_token_claims *)&iss;
	struct kr_error err;
	enum ca_token_err te;
	char hdr[128], *tok;
	size_t i, tlen;

	init();
	if (size > CA_JWS_MAX)
		return 0;
	if (size > 0 && data[0] == '{') {
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"typ\":\"%s\","
		    "\"kid\":\"%s\"}", CA_TOKEN_TYP, kid);
		tok = sign_raw((const uint8_t *)hdr, strlen(hdr), data, size);
	} else if (size > 0 && data[0] == '!')
		tok = sign_raw(data + 1, size - 1,
		    (const uint8_t *)good_claims, strlen(good_claims));
	else if ((tok = malloc(size + 1)) != NULL) {
		memcpy(tok, data, size);
		tok[size] = '\0';
	}
	if (tok == NULL)
		return 0;
	tlen = size > 0 && (data[0] == '{' || data[0] == '!') ? strlen(tok) :
	    size;
	te = ca_token_verify(tok, tlen, &iss, 1, AUD, NOW, &c, &err);
	if (te == CA_TOKEN_OK) {
		if (c == NULL || strcmp(c->iss, "web") != 0 ||
		    strcmp(c->aud, AUD) != 0 || c->exp <= c->iat ||
		    c->exp - c->iat > CA_TOKEN_LIFETIME_MAX ||
		    NOW >= c->exp + CA_TOKEN_SKEW ||
		    NOW < c->nbf - CA_TOKEN_SKEW || c->nbf < c->iat ||
		    c->nsans == 0 || c->nsans > CA_TOKEN_SANS_MAX ||
		    strcmp(c->kid, kid) != 0 || strlen(c->jti) < 22)
			abort();
		for (i = 0; i < c->nsans; i++)
			if (c->sans[i] == NULL || c->sans[i][0] == '\0')
				abort();
		ca_token_claims_free(c);
	} else if (c != NULL ||
	    strncmp(ca_token_err_code(te), "token_", 6) != 0)
		abort();
	free(tok);
	return 0;
}
