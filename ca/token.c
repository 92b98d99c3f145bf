/*
 * token.c: making and verifying the online signer's one-time tokens
 * (see token.h and docs/jws.md).  The JWS work is jws.c's; this file
 * is the claims, their limits, and a stable reason for every refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "token.h"

/* Times past 9999-12-31 are refused, so exp + skew cannot overflow. */
#define TIME_MAX	253402300799LL

static const char *const claim_names[] = {
	"iss", "aud", "sub", "sans", "iat", "nbf", "exp", "jti", NULL,
};

const char *
ca_token_err_code(enum ca_token_err e)
{
	switch (e) {
	case CA_TOKEN_OK:
		return "ok";
	case CA_TOKEN_MALFORMED:
		return "token_malformed";
	case CA_TOKEN_ALGORITHM:
		return "token_algorithm";
	case CA_TOKEN_ISSUER:
		return "token_issuer";
	case CA_TOKEN_SIGNATURE:
		return "token_signature";
	case CA_TOKEN_AUDIENCE:
		return "token_audience";
	case CA_TOKEN_EXPIRED:
		return "token_expired";
	case CA_TOKEN_NOT_YET_VALID:
		return "token_not_yet_valid";
	case CA_TOKEN_LIFETIME:
		return "token_lifetime";
	case CA_TOKEN_REPLAYED:
		return "token_replayed";
	case CA_TOKEN_INTERNAL:
		break;
	}
	return "token_internal";
}

void
ca_token_claims_free(struct ca_token_claims *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->iss);
	free(c->aud);
	free(c->sub);
	for (i = 0; i < c->nsans; i++)
		free(c->sans[i]);
	free(c->sans);
	free(c->jti);
	free(c);
}

/* 1..max characters of printable ASCII without spaces. */
static int
printable(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return i > 0;
}

/* Whether sans (n entries) are acceptable names, pairwise distinct. */
static int
sans_ok(const char *const *sans, size_t n, char *why, size_t whylen)
{
	size_t i, j;

	if (n == 0 || n > CA_TOKEN_SANS_MAX) {
		snprintf(why, whylen, "\"sans\" must have 1 to %d names",
		    CA_TOKEN_SANS_MAX);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (!printable(sans[i], CA_TOKEN_NAME_MAX)) {
			snprintf(why, whylen, "\"sans\" entry %zu is not a "
			    "name (1 to %d printable characters)", i + 1,
			    CA_TOKEN_NAME_MAX);
			return 0;
		}
		for (j = 0; j < i; j++)
			if (strcmp(sans[i], sans[j]) == 0) {
				snprintf(why, whylen, "\"sans\" has \"%s\" "
				    "twice", sans[i]);
				return 0;
			}
	}
	return 1;
}

/* ---- making ---- */

enum kr_err
ca_token_make(const struct ca_token_req *r,
    const uint8_t sk[CA_JWS_ED25519_SK_LEN], char **out, struct kr_error *err)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], jti[CA_TOKEN_JTI_BYTES];
	char jtis[CA_JWS_THUMBPRINT_LEN], kid[CA_JWS_THUMBPRINT_LEN];
	const char *const *sans = r->sans ? r->sans : &r->sub;
	size_t nsans = r->sans ? r->nsans : 1, i;
	struct ca_jws_key *key = NULL;
	json_t *hdr = NULL, *c = NULL, *a = NULL;
	char why[128], *s = NULL;
	enum kr_err rc;
	int bad = 0;

	*out = NULL;
	if (r->iss == NULL || !printable(r->iss, CA_TOKEN_ISS_MAX) ||
	    r->aud == NULL || !printable(r->aud, CA_TOKEN_AUD_MAX) ||
	    r->sub == NULL || !printable(r->sub, CA_TOKEN_NAME_MAX))
		return kr_fail(err, KR_E_USAGE, "token: iss, aud and sub must "
		    "be printable and not too long");
	if (!sans_ok(sans, nsans, why, sizeof(why)))
		return kr_fail(err, KR_E_USAGE, "token: %s", why);
	if (r->lifetime < 1 || r->lifetime > CA_TOKEN_LIFETIME_MAX)
		return kr_fail(err, KR_E_USAGE, "token: lifetime of %ld s; "
		    "1 to %d are allowed", r->lifetime, CA_TOKEN_LIFETIME_MAX);
	if (r->now < 0 || (long long)r->now > TIME_MAX - r->lifetime ||
	    (r->nbf != 0 && (r->nbf < r->now ||
	    r->nbf >= r->now + r->lifetime)))
		return kr_fail(err, KR_E_USAGE, "token: time out of range");

	crypto_sign_ed25519_sk_to_pk(pk, sk);
	if ((rc = ca_jws_key_from_ed25519(pk, &key, err)) != KR_OK)
		return rc;
	ca_jws_key_thumbprint(key, kid);
	ca_jws_key_free(key);
	randombytes_buf(jti, sizeof(jti));
	ca_jws_b64_encode(jti, sizeof(jti), jtis);

	if ((hdr = json_object()) == NULL || (c = json_object()) == NULL ||
	    (a = json_array()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	bad |= json_object_set_new(hdr, "typ", json_string(CA_TOKEN_TYP));
	bad |= json_object_set_new(hdr, "kid", json_string(kid));
	for (i = 0; i < nsans; i++)
		bad |= json_array_append_new(a, json_string(sans[i]));
	bad |= json_object_set_new(c, "iss", json_string(r->iss));
	bad |= json_object_set_new(c, "aud", json_string(r->aud));
	bad |= json_object_set_new(c, "sub", json_string(r->sub));
	bad |= json_object_set(c, "sans", a);
	bad |= json_object_set_new(c, "iat", json_integer(r->now));
	if (r->nbf != 0)
		bad |= json_object_set_new(c, "nbf", json_integer(r->nbf));
	bad |= json_object_set_new(c, "exp",
	    json_integer(r->now + r->lifetime));
	bad |= json_object_set_new(c, "jti", json_string(jtis));
	if (bad || (s = json_dumps(c, JSON_COMPACT)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	rc = ca_jws_sign_ed25519(hdr, (const uint8_t *)s, strlen(s), sk, out,
	    err);
out:
	free(s);
	json_decref(a);
	json_decref(c);
	json_decref(hdr);
	return rc;
}

/* ---- verifying ---- */

struct lookup {
	const struct ca_token_issuer	*issuers;
	size_t				 n;
	const struct ca_token_issuer	*found;
};

/* Find the issuer whose key's thumbprint is the token's kid. */
static enum kr_err
lookup_kid(void *arg, const char *kid, const json_t *hdr,
    const struct ca_jws_key **key, struct kr_error *err)
{
	char t[CA_JWS_THUMBPRINT_LEN];
	struct lookup *l = arg;
	size_t i;

	(void)hdr;
	*key = NULL;
	if (kid == NULL)
		return kr_fail(err, KR_E_PARSE, "token: the header has no "
		    "\"kid\"");
	for (i = 0; i < l->n; i++) {
		ca_jws_key_thumbprint(l->issuers[i].key, t);
		if (strcmp(t, kid) == 0) {
			l->found = &l->issuers[i];
			*key = l->issuers[i].key;
			return KR_OK;
		}
	}
	return kr_fail(err, KR_E_NOTFOUND, "token: signed by key %.43s, "
	    "which is no known provisioner's", kid);
}

/* A copy of the string claim name, 1..max printable characters. */
static enum ca_token_err
claim_str(const json_t *c, const char *name, size_t max, char **out,
    struct kr_error *err)
{
	const json_t *v = json_object_get(c, name);

	if (!json_is_string(v) || !printable(json_string_value(v), max) ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		kr_fail(err, KR_E_PARSE, "token: claim \"%s\" missing or not "
		    "1 to %zu printable characters", name, max);
		return CA_TOKEN_MALFORMED;
	}
	if ((*out = strdup(json_string_value(v))) == NULL) {
		kr_fail(err, KR_E_NOMEM, "out of memory");
		return CA_TOKEN_INTERNAL;
	}
	return CA_TOKEN_OK;
}

/* The time claim name (required unless opt) into *out. */
static enum ca_token_err
claim_time(const json_t *c, const char *name, int opt, int64_t *out,
    struct kr_error *err)
{
	const json_t *v = json_object_get(c, name);

	if (v == NULL && opt)
		return CA_TOKEN_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > TIME_MAX) {
		kr_fail(err, KR_E_PARSE, "token: claim \"%s\" missing or not "
		    "a time in seconds since the epoch", name);
		return CA_TOKEN_MALFORMED;
	}
	*out = (int64_t)json_integer_value(v);
	return CA_TOKEN_OK;
}

/* Parse and check the syntax of the claims in payload. */
static enum ca_token_err
parse_claims(const uint8_t *payload, size_t len, struct ca_token_claims *cl,
    struct kr_error *err)
{
	uint8_t jti[CA_TOKEN_JTI_MAX];
	const json_t *sans, *v;
	enum ca_token_err te;
	const char *name;
	json_error_t je;
	char why[128];
	json_t *c;
	size_t i, n;

	if ((c = json_loadb((const char *)payload, len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL || !json_is_object(c)) {
		kr_fail(err, KR_E_PARSE, "token: the claims are not a JSON "
		    "object%s%s", c == NULL ? ": " : "", c == NULL ? je.text :
		    "");
		json_decref(c);
		return CA_TOKEN_MALFORMED;
	}
	te = CA_TOKEN_MALFORMED;
	json_object_foreach(c, name, v) {
		for (i = 0; claim_names[i] != NULL; i++)
			if (strcmp(claim_names[i], name) == 0)
				break;
		if (claim_names[i] == NULL) {
			kr_fail(err, KR_E_PARSE, "token: unknown claim "
			    "\"%.64s\"", name);
			goto out;
		}
	}
	if ((te = claim_str(c, "iss", CA_TOKEN_ISS_MAX, &cl->iss,
	    err)) != CA_TOKEN_OK ||
	    (te = claim_str(c, "aud", CA_TOKEN_AUD_MAX, &cl->aud,
	    err)) != CA_TOKEN_OK ||
	    (te = claim_str(c, "sub", CA_TOKEN_NAME_MAX, &cl->sub,
	    err)) != CA_TOKEN_OK ||
	    (te = claim_str(c, "jti", CA_TOKEN_JTI_MAX * 2, &cl->jti,
	    err)) != CA_TOKEN_OK ||
	    (te = claim_time(c, "iat", 0, &cl->iat, err)) != CA_TOKEN_OK ||
	    (te = claim_time(c, "exp", 0, &cl->exp, err)) != CA_TOKEN_OK ||
	    (te = claim_time(c, "nbf", 1, &cl->nbf, err)) != CA_TOKEN_OK)
		goto out;
	te = CA_TOKEN_MALFORMED;
	if (ca_jws_b64_decode(cl->jti, strlen(cl->jti), jti, sizeof(jti), &n,
	    "token: claim \"jti\"", err) != KR_OK)
		goto out;
	if (n < CA_TOKEN_JTI_MIN) {
		kr_fail(err, KR_E_PARSE, "token: \"jti\" has %zu bytes; at "
		    "least %d random bytes are required", n, CA_TOKEN_JTI_MIN);
		goto out;
	}
	sans = json_object_get(c, "sans");
	if (!json_is_array(sans)) {
		kr_fail(err, KR_E_PARSE, "token: claim \"sans\" missing or "
		    "not an array");
		goto out;
	}
	n = json_array_size(sans);
	if (n > CA_TOKEN_SANS_MAX) {
		kr_fail(err, KR_E_PARSE, "token: more than %d \"sans\"",
		    CA_TOKEN_SANS_MAX);
		goto out;
	}
	if ((cl->sans = calloc(n + 1, sizeof(*cl->sans))) == NULL) {
		te = CA_TOKEN_INTERNAL;
		kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(sans, i, v) {
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			kr_fail(err, KR_E_PARSE, "token: \"sans\" entry %zu "
			    "is not a string", i + 1);
			goto out;
		}
		if ((cl->sans[i] = strdup(json_string_value(v))) == NULL) {
			te = CA_TOKEN_INTERNAL;
			kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		cl->nsans++;
	}
	if (!sans_ok((const char *const *)cl->sans, cl->nsans, why,
	    sizeof(why))) {
		kr_fail(err, KR_E_PARSE, "token: %s", why);
		goto out;
	}
	if (json_object_get(c, "nbf") == NULL)
		cl->nbf = cl->iat;
	te = CA_TOKEN_OK;
out:
	sodium_memzero(jti, sizeof(jti));
	json_decref(c);
	return te;
}

/* The token reason for an error from ca_jws_verify. */
static enum ca_token_err
from_jws(enum kr_err rc)
{
	switch (rc) {
	case KR_E_PARSE:
		return CA_TOKEN_MALFORMED;
	case KR_E_POLICY:
		return CA_TOKEN_ALGORITHM;
	case KR_E_NOTFOUND:
		return CA_TOKEN_ISSUER;
	case KR_E_VERIFY:
		return CA_TOKEN_SIGNATURE;
	default:
		return CA_TOKEN_INTERNAL;
	}
}

enum ca_token_err
ca_token_verify(const char *token, size_t len,
    const struct ca_token_issuer *issuers, size_t nissuers,
    const char *audience, time_t now, struct ca_token_claims **out,
    struct kr_error *err)
{
	return ca_token_verify_aud(token, len, issuers, nissuers, &audience,
	    1, now, out, err);
}

enum ca_token_err
ca_token_verify_aud(const char *token, size_t len,
    const struct ca_token_issuer *issuers, size_t nissuers,
    const char *const *audiences, size_t naudiences, time_t now,
    struct ca_token_claims **out, struct kr_error *err)
{
	struct lookup l = { issuers, nissuers, NULL };
	struct ca_jws_verifier v = { CA_JWS_EDDSA, NULL, lookup_kid, &l,
	    NULL };
	struct ca_token_claims *cl = NULL;
	struct ca_jws *j = NULL;
	enum ca_token_err te;
	const json_t *typ;
	enum kr_err rc;
	int64_t start;
	size_t i;

	*out = NULL;
	if (naudiences == 0) {
		kr_fail(err, KR_E_USAGE, "token: no audience to check it for");
		return CA_TOKEN_INTERNAL;
	}
	if ((rc = ca_jws_verify(token, len, &v, &j, err)) != KR_OK) {
		te = from_jws(rc);
		goto out;
	}
	typ = json_object_get(j->header, "typ");
	if (!json_is_string(typ) ||
	    strcmp(json_string_value(typ), CA_TOKEN_TYP) != 0) {
		te = CA_TOKEN_MALFORMED;
		kr_fail(err, KR_E_PARSE, "token: header \"typ\" is not \"%s\"",
		    CA_TOKEN_TYP);
		goto out;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		te = CA_TOKEN_INTERNAL;
		kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	snprintf(cl->kid, sizeof(cl->kid), "%s", j->kid);
	if ((te = parse_claims(j->payload, j->payload_len, cl, err)) !=
	    CA_TOKEN_OK)
		goto out;
	if (strcmp(cl->iss, l.found->name) != 0) {
		te = CA_TOKEN_ISSUER;
		kr_fail(err, KR_E_VERIFY, "token: \"iss\" is \"%s\" but the "
		    "key is provisioner \"%s\"'s", cl->iss, l.found->name);
		goto out;
	}
	for (i = 0; i < naudiences; i++)
		if (strcmp(cl->aud, audiences[i]) == 0)
			break;
	if (i == naudiences) {
		te = CA_TOKEN_AUDIENCE;
		kr_fail(err, KR_E_VERIFY, "token: made for \"%s\", not for "
		    "this server (\"%s\"%s%s%s)", cl->aud, audiences[0],
		    naudiences > 1 ? " or \"" : "", naudiences > 1 ?
		    audiences[1] : "", naudiences > 1 ? "\"" : "");
		goto out;
	}
	if (cl->exp <= cl->iat || cl->exp - cl->iat > CA_TOKEN_LIFETIME_MAX) {
		te = CA_TOKEN_LIFETIME;
		kr_fail(err, KR_E_VERIFY, "token: lives %lld s (iat to exp); "
		    "1 to %d are allowed", (long long)(cl->exp - cl->iat),
		    CA_TOKEN_LIFETIME_MAX);
		goto out;
	}
	if (cl->nbf < cl->iat || cl->nbf >= cl->exp) {
		te = CA_TOKEN_MALFORMED;
		kr_fail(err, KR_E_PARSE, "token: \"nbf\" is not between "
		    "\"iat\" and \"exp\"");
		goto out;
	}
	if ((int64_t)now >= cl->exp + CA_TOKEN_SKEW) {
		te = CA_TOKEN_EXPIRED;
		kr_fail(err, KR_E_VERIFY, "token: expired %lld s ago",
		    (long long)((int64_t)now - cl->exp));
		goto out;
	}
	start = cl->nbf;
	if ((int64_t)now < start - CA_TOKEN_SKEW) {
		te = CA_TOKEN_NOT_YET_VALID;
		kr_fail(err, KR_E_VERIFY, "token: valid only in %lld s; check "
		    "the clocks", (long long)(start - (int64_t)now));
		goto out;
	}
	*out = cl;
	cl = NULL;
	te = CA_TOKEN_OK;
out:
	ca_token_claims_free(cl);
	ca_jws_free(j);
	return te;
}
