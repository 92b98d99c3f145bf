/*
 * acme.c: ACME requests without the network (acme.h): the flattened
 * JWS, payloads, identifiers, key authorizations and EAB.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "acme.h"

#define URN	"urn:ietf:params:acme:error:"

static const char *const prob_urns[CA_ACME_PROB_N] = {
	URN "malformed", URN "badNonce", URN "badSignatureAlgorithm",
	URN "badPublicKey", URN "badCSR", URN "badRevocationReason",
	URN "unauthorized", URN "accountDoesNotExist",
	URN "externalAccountRequired", URN "userActionRequired",
	URN "orderNotReady", URN "rejectedIdentifier",
	URN "unsupportedIdentifier", URN "alreadyRevoked", URN "connection",
	URN "dns", URN "incorrectResponse", URN "tls",
	URN "unsupportedContact", URN "rateLimited", URN "serverInternal",
};

const char *
ca_acme_prob_urn(enum ca_acme_prob p)
{
	if ((unsigned)p >= CA_ACME_PROB_N)
		p = CA_ACME_SERVER_INTERNAL;
	return prob_urns[p];
}

int
ca_acme_fail(struct ca_acme_err *ae, enum ca_acme_prob type, int http,
    const char *fmt, ...)
{
	va_list ap;

	ae->type = type;
	ae->http = http;
	ae->e.code = type == CA_ACME_SERVER_INTERNAL ? KR_E_INTERNAL :
	    KR_E_POLICY;
	va_start(ap, fmt);
	vsnprintf(ae->e.msg, sizeof(ae->e.msg), fmt, ap);
	va_end(ap);
	return -1;
}

char *
ca_acme_problem_json(const struct ca_acme_err *ae)
{
	json_t *o;
	char *s;

	o = json_pack("{s:s, s:s, s:i}", "type", ca_acme_prob_urn(ae->type),
	    "detail", ae->e.msg, "status", ae->http);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

/* ---- the flattened JWS ---- */

void
ca_acme_jws_clear(struct ca_acme_jws *j)
{
	free(j->compact);
	free(j->alg);
	free(j->nonce);
	free(j->url);
	free(j->kid);
	ca_jws_key_free(j->key);
	json_decref(j->header);
	free(j->payload);
	json_decref(j->body);
	memset(j, 0, sizeof(*j));
}

/* A string member of o, duplicated; NULL when absent. */
static int
str_member(const json_t *o, const char *name, int required, char **out,
    const char *what, struct ca_acme_err *ae)
{
	const json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL) {
		if (required)
			return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "%s: "
			    "\"%s\" is missing", what, name);
		return 0;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) !=
	    json_string_length(v))
		return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "%s: \"%s\" "
		    "must be a string", what, name);
	if ((*out = strdup(json_string_value(v))) == NULL)
		return ca_acme_fail(ae, CA_ACME_SERVER_INTERNAL, 500, "out of "
		    "memory");
	return 0;
}

/* Is every member of o one of names (NULL-terminated)? */
static int
only_members(const json_t *o, const char *const *names, const char *what,
    struct ca_acme_err *ae)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)o, k, v) {
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(k, names[i]) == 0)
				break;
		if (names[i] == NULL)
			return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "%s: "
			    "unknown member \"%.40s\"", what, k);
	}
	return 0;
}

int
ca_acme_jws_parse(const char *body, size_t len, struct ca_acme_jws *j,
    struct ca_acme_err *ae)
{
	static const char *const outer[] = { "protected", "payload",
	    "signature", NULL };
	json_t *o = NULL;
	const json_t *pv, *yv, *sv, *jwk;
	uint8_t *hb = NULL;
	size_t hl, pl, yl, sl;
	json_error_t je;
	struct kr_error e;
	int ret = -1;

	memset(j, 0, sizeof(*j));
	if (len == 0 || len > CA_JWS_MAX + 64) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "request body: %zu "
		    "bytes; a JWS of 1..%d is expected", len, CA_JWS_MAX);
		goto out;
	}
	if ((o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL || !json_is_object(o)) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "request body: not a "
		    "JSON object: %s", o == NULL ? je.text : "other type");
		goto out;
	}
	if (only_members(o, outer, "request JWS (flattened, RFC 8555 "
	    "section 6.2; no unprotected header)", ae) != 0)
		goto out;
	pv = json_object_get(o, "protected");
	yv = json_object_get(o, "payload");
	sv = json_object_get(o, "signature");
	if (!json_is_string(pv) || !json_is_string(yv) || !json_is_string(sv)) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "request JWS: "
		    "\"protected\", \"payload\" and \"signature\" must be "
		    "strings");
		goto out;
	}
	hl = json_string_length(pv);
	pl = json_string_length(yv);
	sl = json_string_length(sv);
	if (hl == 0 || sl == 0 || memchr(json_string_value(pv), '.', hl) ||
	    memchr(json_string_value(yv), '.', pl) ||
	    memchr(json_string_value(sv), '.', sl) ||
	    hl + pl + sl + 2 > CA_JWS_MAX) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "request JWS: empty "
		    "or oversized parts, or a '.' in one");
		goto out;
	}
	j->compact_len = hl + pl + sl + 2;
	if ((j->compact = malloc(j->compact_len + 1)) == NULL) {
		ca_acme_fail(ae, CA_ACME_SERVER_INTERNAL, 500, "out of memory");
		goto out;
	}
	snprintf(j->compact, j->compact_len + 1, "%s.%s.%s",
	    json_string_value(pv), json_string_value(yv),
	    json_string_value(sv));

	/* The protected header, read before verifying to find the key. */
	if ((hb = malloc(hl)) == NULL) {
		ca_acme_fail(ae, CA_ACME_SERVER_INTERNAL, 500, "out of memory");
		goto out;
	}
	if (ca_jws_b64_decode(json_string_value(pv), hl, hb, hl, &yl,
	    "protected header", &e) != KR_OK) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "%s", e.msg);
		goto out;
	}
	if ((j->header = json_loadb((const char *)hb, yl,
	    JSON_REJECT_DUPLICATES, &je)) == NULL ||
	    !json_is_object(j->header)) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "protected header: "
		    "not a JSON object");
		goto out;
	}
	if (str_member(j->header, "alg", 1, &j->alg, "protected header",
	    ae) != 0 ||
	    str_member(j->header, "nonce", 0, &j->nonce, "protected header",
	    ae) != 0 ||
	    str_member(j->header, "url", 1, &j->url, "protected header",
	    ae) != 0 ||
	    str_member(j->header, "kid", 0, &j->kid, "protected header",
	    ae) != 0)
		goto out;
	if (strcmp(j->alg, "none") == 0 || strncmp(j->alg, "HS", 2) == 0) {
		ca_acme_fail(ae, CA_ACME_BAD_SIG_ALG, 400, "\"alg\" %.16s: "
		    "ACME requests are signed with a public key (ES256, "
		    "ES384, RS256, EdDSA)", j->alg);
		goto out;
	}
	if (strcmp(j->alg, "ES256") != 0 && strcmp(j->alg, "ES384") != 0 &&
	    strcmp(j->alg, "RS256") != 0 && strcmp(j->alg, "EdDSA") != 0) {
		ca_acme_fail(ae, CA_ACME_BAD_SIG_ALG, 400, "\"alg\" %.16s is "
		    "not supported; use ES256, ES384, RS256 or EdDSA", j->alg);
		goto out;
	}
	jwk = json_object_get(j->header, "jwk");
	if ((jwk != NULL) == (j->kid != NULL)) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "protected header: "
		    "exactly one of \"jwk\" and \"kid\" is required");
		goto out;
	}
	if (jwk != NULL && ca_jws_key_from_json(jwk, &j->key, &e) != KR_OK) {
		ca_acme_fail(ae, CA_ACME_BAD_PUBLIC_KEY, 400, "%s", e.msg);
		goto out;
	}
	if (strlen(j->url) > CA_ACME_URL_MAX) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "protected header: "
		    "\"url\" too long");
		goto out;
	}
	ret = 0;
out:
	free(hb);
	json_decref(o);
	if (ret != 0)
		ca_acme_jws_clear(j);
	return ret;
}

int
ca_acme_jws_verify(struct ca_acme_jws *j, const struct ca_jws_key *key,
    struct ca_acme_err *ae)
{
	struct ca_jws_verifier v;
	struct ca_jws *out = NULL;
	struct kr_error e;
	json_error_t je;
	enum kr_err rc;

	memset(&v, 0, sizeof(v));
	v.algs = CA_ACME_ALGS;
	v.key = key;
	rc = ca_jws_verify(j->compact, j->compact_len, &v, &out, &e);
	if (rc == KR_E_VERIFY)
		return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "JWS "
		    "signature: does not verify with the account key");
	if (rc == KR_E_POLICY)
		return ca_acme_fail(ae, CA_ACME_BAD_SIG_ALG, 400, "%s", e.msg);
	if (rc != KR_OK)
		return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "%s", e.msg);
	j->payload = out->payload;
	j->payload_len = out->payload_len;
	out->payload = NULL;
	ca_jws_free(out);
	if (j->payload_len == 0)
		return 0;
	if ((j->body = json_loadb((const char *)j->payload, j->payload_len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL || !json_is_object(j->body)) {
		json_decref(j->body);
		j->body = NULL;
		return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "JWS payload: "
		    "not a JSON object");
	}
	return 0;
}

/* ---- payloads ---- */

int
ca_acme_parse_newacct(const json_t *o, struct ca_acme_newacct *out,
    struct ca_acme_err *ae)
{
	static const char *const names[] = { "termsOfServiceAgreed",
	    "onlyReturnExisting", "contact", "externalAccountBinding",
	    NULL };
	const json_t *v;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (o == NULL)
		return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "newAccount: "
		    "a JSON object payload is required");
	if (only_members(o, names, "newAccount", ae) != 0)
		return -1;
	if ((v = json_object_get(o, "termsOfServiceAgreed")) != NULL) {
		if (!json_is_boolean(v))
			return ca_acme_fail(ae, CA_ACME_MALFORMED, 400,
			    "newAccount: \"termsOfServiceAgreed\" must be a "
			    "boolean");
		out->tos = json_is_true(v);
	}
	if ((v = json_object_get(o, "onlyReturnExisting")) != NULL) {
		if (!json_is_boolean(v))
			return ca_acme_fail(ae, CA_ACME_MALFORMED, 400,
			    "newAccount: \"onlyReturnExisting\" must be a "
			    "boolean");
		out->only_existing = json_is_true(v);
	}
	if ((v = json_object_get(o, "contact")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) >
		    CA_ACME_CONTACT_MAX)
			return ca_acme_fail(ae, CA_ACME_MALFORMED, 400,
			    "newAccount: \"contact\" must be an array of at "
			    "most %d URLs", CA_ACME_CONTACT_MAX);
		for (i = 0; i < json_array_size(v); i++) {
			const json_t *c = json_array_get(v, i);
			const char *s = json_string_value(c);

			if (s == NULL || strlen(s) != json_string_length(c) ||
			    strlen(s) > 256)
				return ca_acme_fail(ae, CA_ACME_MALFORMED, 400,
				    "newAccount: contact %zu is not a string",
				    i);
			if (strncmp(s, "mailto:", 7) != 0 || strchr(s, '?') ||
			    strchr(s, ',') || strchr(s + 7, '@') == NULL)
				return ca_acme_fail(ae,
				    CA_ACME_UNSUPPORTED_CONTACT, 400,
				    "newAccount: contact \"%.64s\": only "
				    "mailto:ADDRESS is supported", s);
		}
		out->contact = (json_t *)v;
	}
	if ((v = json_object_get(o, "externalAccountBinding")) != NULL) {
		if (!json_is_object(v))
			return ca_acme_fail(ae, CA_ACME_MALFORMED, 400,
			    "newAccount: \"externalAccountBinding\" must be "
			    "a JWS object");
		out->eab = (json_t *)v;
	}
	return 0;
}

void
ca_acme_neworder_clear(struct ca_acme_neworder *o)
{
	free(o->ids);
	memset(o, 0, sizeof(*o));
}

/* RFC 3339 time as ACME sends it, into *t. */
static int
rfc3339_parse(const char *s, time_t *t)
{
	struct tm tm;
	const char *p;

	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return -1;
	*t = timegm(&tm);
	return *t > 0 ? 0 : -1;
}

int
ca_acme_ident_check(struct ca_acme_ident *id, struct ca_acme_err *ae)
{
	char *v = id->value, *l;
	unsigned char buf[16];
	char canon[INET6_ADDRSTRLEN];
	size_t i, n, ll;
	int digits;

	id->wildcard = 0;
	if (strcmp(id->type, "ip") == 0) {
		if ((strchr(v, ':') ? inet_pton(AF_INET6, v, buf) :
		    inet_pton(AF_INET, v, buf)) != 1 ||
		    inet_ntop(strchr(v, ':') ? AF_INET6 : AF_INET, buf, canon,
		    sizeof(canon)) == NULL || strcmp(canon, v) != 0)
			return ca_acme_fail(ae, CA_ACME_MALFORMED, 400,
			    "identifier \"%.64s\": not an IP address in "
			    "canonical form", v);
		return 0;
	}
	if (strcmp(id->type, "dns") != 0)
		return ca_acme_fail(ae, CA_ACME_UNSUPPORTED_IDENTIFIER, 400,
		    "identifier type \"%.8s\": only dns and ip are supported",
		    id->type);
	if (strncmp(v, "*.", 2) == 0) {
		id->wildcard = 1;
		v += 2;
	}
	n = strlen(v);
	if (n == 0 || n > 253)
		goto bad;
	for (i = 0; i < n; i++)
		v[i] = (char)tolower((unsigned char)v[i]);
	/* LDH labels of 1..63, at least two, the last not all digits. */
	l = v;
	for (i = 0; ; ) {
		ll = strcspn(l, ".");
		if (ll == 0 || ll > 63 || l[0] == '-' || l[ll - 1] == '-')
			goto bad;
		digits = 1;
		for (n = 0; n < ll; n++) {
			if (!isalnum((unsigned char)l[n]) && l[n] != '-')
				goto bad;
			if (!isdigit((unsigned char)l[n]))
				digits = 0;
		}
		i++;
		if (l[ll] == '\0')
			break;
		l += ll + 1;
	}
	if (i < 2 || digits)
		goto bad;
	return 0;
bad:
	return ca_acme_fail(ae, CA_ACME_REJECTED_IDENTIFIER, 400, "identifier "
	    "\"%.64s\": not a DNS name (LDH labels, at least two, no "
	    "trailing dot)", id->value);
}

int
ca_acme_parse_neworder(const json_t *o, struct ca_acme_neworder *out,
    struct ca_acme_err *ae)
{
	static const char *const names[] = { "identifiers", "notBefore",
	    "notAfter", NULL };
	static const char *const inames[] = { "type", "value", NULL };
	const json_t *ids, *v, *t, *x;
	const char *s;
	size_t i, k;

	memset(out, 0, sizeof(*out));
	if (o == NULL)
		return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "newOrder: a "
		    "JSON object payload is required");
	if (only_members(o, names, "newOrder", ae) != 0)
		return -1;
	ids = json_object_get(o, "identifiers");
	if (!json_is_array(ids) || json_array_size(ids) == 0 ||
	    json_array_size(ids) > CA_ACME_IDENT_MAX)
		return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "newOrder: "
		    "\"identifiers\" must be an array of 1..%d identifiers",
		    CA_ACME_IDENT_MAX);
	if ((out->ids = calloc(json_array_size(ids), sizeof(*out->ids))) ==
	    NULL)
		return ca_acme_fail(ae, CA_ACME_SERVER_INTERNAL, 500, "out of "
		    "memory");
	json_array_foreach(ids, i, v) {
		if (!json_is_object(v)) {
			ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "newOrder: "
			    "identifier %zu is not an object", i);
			goto fail;
		}
		if (only_members(v, inames, "newOrder identifier", ae) != 0)
			goto fail;
		t = json_object_get(v, "type");
		x = json_object_get(v, "value");
		if (!json_is_string(t) || !json_is_string(x) ||
		    json_string_length(t) >= sizeof(out->ids[0].type) ||
		    json_string_length(x) >= sizeof(out->ids[0].value) ||
		    strlen(json_string_value(x)) != json_string_length(x) ||
		    strlen(json_string_value(t)) != json_string_length(t)) {
			ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "newOrder: "
			    "identifier %zu needs string \"type\" and "
			    "\"value\" of sane length", i);
			goto fail;
		}
		snprintf(out->ids[i].type, sizeof(out->ids[i].type), "%s",
		    json_string_value(t));
		snprintf(out->ids[i].value, sizeof(out->ids[i].value), "%s",
		    json_string_value(x));
		if (ca_acme_ident_check(&out->ids[i], ae) != 0)
			goto fail;
		for (k = 0; k < i; k++)
			if (strcmp(out->ids[k].type, out->ids[i].type) == 0 &&
			    strcmp(out->ids[k].value, out->ids[i].value) == 0) {
				ca_acme_fail(ae, CA_ACME_MALFORMED, 400,
				    "newOrder: identifier \"%s\" given twice",
				    out->ids[i].value);
				goto fail;
			}
		out->nids++;
	}
	for (k = 0; k < 2; k++) {
		v = json_object_get(o, k ? "notAfter" : "notBefore");
		if (v == NULL)
			continue;
		if ((s = json_string_value(v)) == NULL ||
		    rfc3339_parse(s, k ? &out->not_after : &out->not_before)
		    != 0) {
			ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "newOrder: "
			    "\"%s\" is not an RFC 3339 UTC time",
			    k ? "notAfter" : "notBefore");
			goto fail;
		}
	}
	if (out->not_after != 0 && out->not_before != 0 &&
	    out->not_after <= out->not_before) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "newOrder: notAfter "
		    "is not after notBefore");
		goto fail;
	}
	return 0;
fail:
	ca_acme_neworder_clear(out);
	return -1;
}

/* A base64url member of o, decoded and malloc'd. */
static int
b64_member(const json_t *o, const char *name, const char *what,
    uint8_t **der, size_t *len, struct ca_acme_err *ae)
{
	const json_t *v = json_object_get(o, name);
	struct kr_error e;
	size_t n;

	*der = NULL;
	if (!json_is_string(v) || (n = json_string_length(v)) == 0 ||
	    n > CA_JWS_MAX)
		return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "%s: \"%s\" "
		    "must be base64url DER", what, name);
	if ((*der = malloc(n)) == NULL)
		return ca_acme_fail(ae, CA_ACME_SERVER_INTERNAL, 500, "out of "
		    "memory");
	if (ca_jws_b64_decode(json_string_value(v), n, *der, n, len, name,
	    &e) != KR_OK) {
		free(*der);
		*der = NULL;
		return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "%s: %s", what,
		    e.msg);
	}
	return 0;
}

int
ca_acme_parse_finalize(const json_t *o, uint8_t **der, size_t *len,
    struct ca_acme_err *ae)
{
	static const char *const names[] = { "csr", NULL };

	*der = NULL;
	if (o == NULL)
		return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "finalize: a "
		    "JSON object payload is required");
	if (only_members(o, names, "finalize", ae) != 0)
		return -1;
	if (b64_member(o, "csr", "finalize", der, len, ae) != 0) {
		ae->type = ae->type == CA_ACME_MALFORMED ? CA_ACME_BAD_CSR :
		    ae->type;
		return -1;
	}
	return 0;
}

int
ca_acme_parse_revoke(const json_t *o, uint8_t **der, size_t *len,
    int *reason, struct ca_acme_err *ae)
{
	static const char *const names[] = { "certificate", "reason", NULL };
	const json_t *r;
	json_int_t n;

	*der = NULL;
	*reason = -1;
	if (o == NULL)
		return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "revokeCert: a "
		    "JSON object payload is required");
	if (only_members(o, names, "revokeCert", ae) != 0)
		return -1;
	if ((r = json_object_get(o, "reason")) != NULL) {
		n = json_is_integer(r) ? json_integer_value(r) : -1;
		/* The reasons a leaf may have, as for the token API. */
		if (n < 0 || n > 10 || !ca_reason_leaf_ok((int)n))
			return ca_acme_fail(ae,
			    CA_ACME_BAD_REVOCATION_REASON, 400, "revokeCert: "
			    "reason must be one of 0, 1, 3, 4, 5, 9 "
			    "(RFC 5280; no hold, no CA reasons)");
		*reason = (int)n;
	}
	return b64_member(o, "certificate", "revokeCert", der, len, ae);
}

/* ---- keys, ids ---- */

void
ca_acme_key_authz(const char *token, const struct ca_jws_key *k, char *out,
    size_t outsz)
{
	char thumb[CA_JWS_THUMBPRINT_LEN];

	ca_jws_key_thumbprint(k, thumb);
	snprintf(out, outsz, "%s.%s", token, thumb);
}

void
ca_acme_random_id(char out[CA_ACME_ID_LEN + 1])
{
	uint8_t b[16];

	randombytes_buf(b, sizeof(b));
	ca_jws_b64_encode(b, sizeof(b), out);
}

/* ---- external account binding ---- */

int
ca_acme_eab_kid(const json_t *eab, char **kid, struct ca_acme_err *ae)
{
	const json_t *pv = json_object_get(eab, "protected");
	uint8_t buf[1024];
	struct kr_error e;
	json_t *h;
	size_t n;
	int ret;

	*kid = NULL;
	if (!json_is_string(pv) || json_string_length(pv) > sizeof(buf) ||
	    ca_jws_b64_decode(json_string_value(pv), json_string_length(pv),
	    buf, sizeof(buf), &n, "externalAccountBinding header", &e) !=
	    KR_OK || (h = json_loadb((const char *)buf, n,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return ca_acme_fail(ae, CA_ACME_MALFORMED, 400,
		    "externalAccountBinding: the protected header is not "
		    "base64url JSON");
	ret = str_member(h, "kid", 1, kid, "externalAccountBinding header",
	    ae);
	json_decref(h);
	return ret;
}

int
ca_acme_eab_verify(const json_t *eab, const uint8_t *hkey, size_t hlen,
    const char *url, const struct ca_jws_key *acct, struct ca_acme_err *ae)
{
	static const char *const outer[] = { "protected", "payload",
	    "signature", NULL };
	const json_t *pv, *yv, *sv;
	uint8_t mac[crypto_auth_hmacsha256_BYTES], got[64], *buf = NULL;
	crypto_auth_hmacsha256_state st;
	struct ca_jws_key *k = NULL;
	struct kr_error e;
	json_t *h = NULL, *pl = NULL;
	size_t n, glen;
	int ret = -1;

	if (only_members(eab, outer, "externalAccountBinding", ae) != 0)
		return -1;
	pv = json_object_get(eab, "protected");
	yv = json_object_get(eab, "payload");
	sv = json_object_get(eab, "signature");
	if (!json_is_string(pv) || !json_is_string(yv) || !json_is_string(sv)) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400,
		    "externalAccountBinding: three strings expected");
		goto out;
	}
	n = json_string_length(pv) + json_string_length(yv) + 1;
	if (n > CA_JWS_MAX || (buf = malloc(n + 1)) == NULL) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400,
		    "externalAccountBinding: too long");
		goto out;
	}
	if (ca_jws_b64_decode(json_string_value(pv), json_string_length(pv),
	    buf, n, &glen, "externalAccountBinding header", &e) != KR_OK ||
	    (h = json_loadb((const char *)buf, glen, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_object(h)) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400,
		    "externalAccountBinding: the protected header is not "
		    "base64url JSON");
		goto out;
	}
	if (!json_is_string(json_object_get(h, "alg")) ||
	    strcmp(json_string_value(json_object_get(h, "alg")), "HS256") !=
	    0) {
		ca_acme_fail(ae, CA_ACME_BAD_SIG_ALG, 400,
		    "externalAccountBinding: \"alg\" must be HS256");
		goto out;
	}
	if (json_object_get(h, "nonce") != NULL ||
	    !json_is_string(json_object_get(h, "url")) ||
	    strcmp(json_string_value(json_object_get(h, "url")), url) != 0) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400,
		    "externalAccountBinding: \"url\" must be the newAccount "
		    "URL, and there must be no \"nonce\"");
		goto out;
	}
	/* The MAC over protected.payload. */
	snprintf((char *)buf, n + 1, "%s.%s", json_string_value(pv),
	    json_string_value(yv));
	crypto_auth_hmacsha256_init(&st, hkey, hlen);
	crypto_auth_hmacsha256_update(&st, buf, n);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	if (json_string_length(sv) > 86 ||
	    ca_jws_b64_decode(json_string_value(sv), json_string_length(sv),
	    got, sizeof(got), &glen, "externalAccountBinding signature",
	    &e) != KR_OK || glen != sizeof(mac) ||
	    sodium_memcmp(got, mac, sizeof(mac)) != 0) {
		ca_acme_fail(ae, CA_ACME_UNAUTHORIZED, 403,
		    "externalAccountBinding: the MAC does not verify with "
		    "this key id's key");
		goto out;
	}
	/* The payload is the account key. */
	free(buf);
	n = json_string_length(yv);
	if ((buf = malloc(n + 1)) == NULL ||
	    ca_jws_b64_decode(json_string_value(yv), n, buf, n, &glen,
	    "externalAccountBinding payload", &e) != KR_OK ||
	    (pl = json_loadb((const char *)buf, glen, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || ca_jws_key_from_json(pl, &k, &e) != KR_OK ||
	    acct == NULL || !ca_jws_key_equal(k, acct)) {
		ca_acme_fail(ae, CA_ACME_MALFORMED, 400,
		    "externalAccountBinding: the payload is not the account's "
		    "key");
		goto out;
	}
	ret = 0;
out:
	ca_jws_key_free(k);
	json_decref(pl);
	json_decref(h);
	free(buf);
	return ret;
}

/* ---- ACME provisioners ---- */

/* A JSON array of strings, each passing ok, into a new list. */
static enum kr_err
list_of(const json_t *a, int (*ok)(const char *), const char *what,
    char ***out, size_t *n, struct kr_error *err)
{
	const json_t *v;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!json_is_array(a) || json_array_size(a) > CA_PROV_ALLOW_MAX)
		return kr_fail(err, KR_E_PARSE, "ACME provisioner: \"%s\" must "
		    "be an array of at most %d strings", what,
		    CA_PROV_ALLOW_MAX);
	if ((*out = calloc(json_array_size(a) + 1, sizeof(**out))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) !=
		    json_string_length(v) || !ok(json_string_value(v)))
			return kr_fail(err, KR_E_PARSE, "ACME provisioner: "
			    "\"%s\" entry %zu is not valid", what, i);
		if (((*out)[i] = strdup(json_string_value(v))) == NULL)
			return kr_fail(err, KR_E_NOMEM, "out of memory");
		(*n)++;
	}
	return KR_OK;
}

enum kr_err
ca_acme_prov_parse(const char *text, size_t len, struct ca_prov **out,
    int *eab, struct kr_error *err)
{
	static const char *const names[] = { "kind", "name", "allow",
	    "allow_ip", "max_lifetime", "eab", NULL };
	struct ca_acme_err ae;
	struct ca_prov *p = NULL;
	const json_t *v;
	json_error_t je;
	json_t *o;
	enum kr_err rc;

	*out = NULL;
	*eab = 0;
	if (len > CA_PROV_FILE_MAX)
		return kr_fail(err, KR_E_PARSE, "ACME provisioner: %zu bytes; "
		    "at most %d", len, CA_PROV_FILE_MAX);
	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL ||
	    !json_is_object(o)) {
		json_decref(o);
		return kr_fail(err, KR_E_PARSE, "ACME provisioner: not a JSON "
		    "object");
	}
	if (only_members(o, names, "ACME provisioner", &ae) != 0) {
		rc = kr_fail(err, KR_E_PARSE, "%s", ae.e.msg);
		goto out;
	}
	v = json_object_get(o, "kind");
	if (!json_is_string(v) || strcmp(json_string_value(v), "acme") != 0) {
		rc = kr_fail(err, KR_E_PARSE, "ACME provisioner: \"kind\" must "
		    "be \"acme\"");
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	v = json_object_get(o, "name");
	if (!json_is_string(v) || strlen(json_string_value(v)) !=
	    json_string_length(v) || !ca_prov_name_ok(json_string_value(v))) {
		rc = kr_fail(err, KR_E_PARSE, "ACME provisioner: \"name\" must "
		    "be [A-Za-z0-9._-], at most %d", CA_PROV_NAME_MAX);
		goto out;
	}
	snprintf(p->name, sizeof(p->name), "%s", json_string_value(v));
	if ((rc = list_of(json_object_get(o, "allow"),
	    ca_prov_dns_pattern_ok, "allow", &p->allow, &p->nallow, err)) !=
	    KR_OK ||
	    (rc = list_of(json_object_get(o, "allow_ip"), ca_prov_cidr_ok,
	    "allow_ip", &p->allow_ip, &p->nallow_ip, err)) != KR_OK)
		goto out;
	if (p->nallow + p->nallow_ip == 0) {
		rc = kr_fail(err, KR_E_PARSE, "ACME provisioner: \"allow\" and "
		    "\"allow_ip\" are both empty");
		goto out;
	}
	v = json_object_get(o, "max_lifetime");
	if (!json_is_integer(v) || json_integer_value(v) <
	    CA_PROV_LIFETIME_MIN || json_integer_value(v) >
	    CA_PROV_LIFETIME_MAX) {
		rc = kr_fail(err, KR_E_PARSE, "ACME provisioner: "
		    "\"max_lifetime\" must be seconds from %d to %lld",
		    CA_PROV_LIFETIME_MIN, CA_PROV_LIFETIME_MAX);
		goto out;
	}
	p->max_lifetime = json_integer_value(v);
	v = json_object_get(o, "eab");
	if (!json_is_boolean(v)) {
		rc = kr_fail(err, KR_E_PARSE, "ACME provisioner: \"eab\" must "
		    "be true or false");
		goto out;
	}
	*eab = json_is_true(v);
	*out = p;
	p = NULL;
	rc = KR_OK;
out:
	ca_prov_free(p);
	json_decref(o);
	return rc;
}

enum kr_err
ca_acme_prov_to_json(const struct ca_prov *p, int eab, json_t **out,
    struct kr_error *err)
{
	json_t *o, *a, *b;
	size_t i;
	int bad = 0;

	*out = NULL;
	o = json_object();
	a = json_array();
	b = json_array();
	for (i = 0; a != NULL && i < p->nallow; i++)
		bad |= json_array_append_new(a, json_string(p->allow[i]));
	for (i = 0; b != NULL && i < p->nallow_ip; i++)
		bad |= json_array_append_new(b, json_string(p->allow_ip[i]));
	if (o == NULL || a == NULL || b == NULL || bad ||
	    json_object_set_new(o, "kind", json_string("acme")) ||
	    json_object_set_new(o, "name", json_string(p->name)) ||
	    json_object_set(o, "allow", a) || json_object_set(o, "allow_ip",
	    b) || json_object_set_new(o, "max_lifetime",
	    json_integer(p->max_lifetime)) || json_object_set_new(o, "eab",
	    json_boolean(eab))) {
		json_decref(o);
		json_decref(a);
		json_decref(b);
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	}
	json_decref(a);
	json_decref(b);
	*out = o;
	return KR_OK;
}
