/*
 * tstate.c: keyrite-trust's state file (tstate.h, docs/trust.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca.h"
#include "tstate.h"

#define STATE_NAME	"state.json"
#define SUBJECT_MAX	1024
#define PEM_MAX		(64 * 1024)

static enum kr_err
serr(struct kr_error *err, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "state.json: anchors[1].state: ..." */
static enum kr_err
serr(struct kr_error *err, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kr_fail(err, KR_E_PARSE, "%s: %s%s%s", STATE_NAME, where,
	    where[0] ? ": " : "", msg);
}

const char *
ca_tstate_state_name(enum ca_anchor_state s)
{
	return s == 0 ? "bootstrap" : ca_anchor_state_name(s);
}

static int
printable(const char *s, size_t max, int newlines)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if ((*s < 0x20 || *s > 0x7e) && !(newlines && *s == '\n'))
			return 0;
	return n >= 1 && n <= max;
}

int
ca_tstate_store_ok(const char *s)
{
	const char *p;
	size_t n;

	if (strcmp(s, "debian") == 0 || strcmp(s, "rhel") == 0)
		return 1;
	if (strncmp(s, "pem:", 4) == 0)
		p = s + 4;
	else if (strncmp(s, "nss:", 4) == 0)
		p = s + 4;
	else if (strncmp(s, "java:", 5) == 0)
		p = s + 5;
	else
		return 0;
	n = strlen(p);
	if (p[0] != '/' || !printable(p, CA_TSTATE_PATH_MAX, 0) ||
	    strstr(p, "//") != NULL || strstr(p, "/./") != NULL ||
	    strstr(p, "/../") != NULL || (n >= 2 && strcmp(p + n - 2,
	    "/.") == 0) || (n >= 3 && strcmp(p + n - 3, "/..") == 0))
		return 0;
	return 1;
}

static int
hex32(const char *s, uint8_t out[32])
{
	size_t i;
	int hi, lo;

	if (strlen(s) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		hi = s[2 * i];
		lo = s[2 * i + 1];
		hi = hi >= '0' && hi <= '9' ? hi - '0' : hi >= 'a' &&
		    hi <= 'f' ? hi - 'a' + 10 : -1;
		lo = lo >= '0' && lo <= '9' ? lo - '0' : lo >= 'a' &&
		    lo <= 'f' ? lo - 'a' + 10 : -1;
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static enum kr_err
only_members(json_t *o, const char *const *allowed, const char *where,
    struct kr_error *err)
{
	const char *k;
	json_t *v;
	size_t i, n = 0;

	json_object_foreach(o, k, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return serr(err, where, "unknown member '%.64s'", k);
		n++;
	}
	for (i = 0; allowed[i] != NULL; i++)
		if (json_object_get(o, allowed[i]) == NULL)
			return serr(err, where, "'%s' is missing", allowed[i]);
	return KR_OK;
}

/* A string member, or NULL when it is null and nullable. */
static enum kr_err
get_str(json_t *o, const char *key, const char *where, size_t max,
    int nullable, int newlines, const char **out, struct kr_error *err)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (nullable && json_is_null(v))
		return KR_OK;
	if (!json_is_string(v))
		return serr(err, where, "'%s' must be a string%s", key,
		    nullable ? " or null" : "");
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v) ||
	    !printable(*out, max, newlines))
		return serr(err, where, "'%s' must be 1 to %zu printable "
		    "ASCII characters", key, max);
	return KR_OK;
}

static enum kr_err
get_time(json_t *o, const char *key, const char *where, int nullable,
    time_t *out, struct kr_error *err)
{
	const char *s;
	enum kr_err rc;

	*out = 0;
	if ((rc = get_str(o, key, where, 32, nullable, 0, &s, err)) != KR_OK)
		return rc;
	if (s != NULL && (*out = ca_time_parse_rfc3339(s)) == (time_t)-1)
		return serr(err, where, "'%s' must be a UTC time like "
		    "2026-05-01T12:00:00Z", key);
	return KR_OK;
}

static X509 *
pem_cert(const char *pem, size_t len)
{
	BIO *b;
	X509 *x, *more;

	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (x != NULL && (more = PEM_read_bio_X509(b, NULL, NULL, NULL)) !=
	    NULL) {
		X509_free(more);
		X509_free(x);
		x = NULL;
	}
	BIO_free(b);
	return x;
}

static char *
subject_of(X509 *x)
{
	BIO *b;
	char *data, *s = NULL;
	long n;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	/* As manifest.json writes subjects (ca/bundle.c). */
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_SEP_COMMA_PLUS | XN_FLAG_FN_SN | ASN1_STRFLGS_RFC2253) >=
	    0 &&
	    (n = BIO_get_mem_data(b, &data)) >= 0)
		s = strndup(data, (size_t)n);
	BIO_free(b);
	return s;
}

static enum kr_err
parse_anchor(json_t *o, const char *where, struct ca_tstate_anchor *a,
    struct kr_error *err)
{
	static const char *const members[] = { "sha256", "subject", "state",
	    "remove_after", "certificate", NULL };
	const char *s;
	uint8_t h[32];
	char *subj;
	X509 *x;
	enum kr_err rc;

	if (!json_is_object(o))
		return serr(err, where, "must be an object");
	if ((rc = only_members(o, members, where, err)) != KR_OK)
		return rc;
	if ((rc = get_str(o, "sha256", where, 64, 0, 0, &s, err)) != KR_OK)
		return rc;
	if (hex32(s, a->sha256) != 0)
		return serr(err, where, "'sha256' must be 64 lower-case hex "
		    "digits");
	if ((rc = get_str(o, "subject", where, SUBJECT_MAX, 0, 0, &s,
	    err)) != KR_OK)
		return rc;
	if ((a->subject = strdup(s)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	if ((rc = get_str(o, "state", where, 16, 0, 0, &s, err)) != KR_OK)
		return rc;
	if (strcmp(s, "bootstrap") == 0)
		a->state = 0;
	else if ((a->state = ca_anchor_state_from_name(s)) == 0)
		return serr(err, where, "state '%.16s' is not bootstrap, next, "
		    "active or retiring", s);
	if ((rc = get_time(o, "remove_after", where, 1, &a->remove_after,
	    err)) != KR_OK)
		return rc;
	if ((a->state == CA_ANCHOR_RETIRING) != (a->remove_after != 0))
		return serr(err, where, "'remove_after' is for retiring "
		    "anchors, and only for them");
	if ((rc = get_str(o, "certificate", where, PEM_MAX, 0, 1, &s,
	    err)) != KR_OK)
		return rc;
	if ((x = pem_cert(s, strlen(s))) == NULL)
		return serr(err, where, "'certificate' is not one PEM "
		    "certificate");
	ca_cert_sha256(x, h);
	subj = subject_of(x);
	X509_free(x);
	if (memcmp(h, a->sha256, 32) != 0) {
		free(subj);
		return serr(err, where, "'certificate' does not have the "
		    "SHA-256 'sha256' gives");
	}
	if (subj == NULL || strcmp(subj, a->subject) != 0) {
		free(subj);
		return serr(err, where, "'subject' is not the certificate's");
	}
	free(subj);
	if ((a->pem = strdup(s)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	return KR_OK;
}

enum kr_err
ca_tstate_parse(const uint8_t *text, size_t len, struct ca_tstate *st,
    struct kr_error *err)
{
	static const char *const members[] = { "format", "version",
	    "manifest_sha256", "manifest", "applied_at", "stores", "anchors",
	    NULL };
	struct ca_manifest m;
	json_error_t je;
	json_t *root = NULL, *v, *arr;
	const char *s, *hs;
	uint8_t h[32], mh[32];
	char where[48];
	size_t i, j;
	enum kr_err rc;

	memset(st, 0, sizeof(*st));
	memset(&m, 0, sizeof(m));
	if (len > CA_TSTATE_MAX) {
		rc = serr(err, "", "%zu bytes, over the limit of %d", len,
		    CA_TSTATE_MAX);
		goto out;
	}
	if ((root = json_loadb((const char *)text, len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL) {
		rc = serr(err, "", "line %d: %s", je.line, je.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = serr(err, "", "must be a JSON object");
		goto out;
	}
	if ((rc = only_members(root, members, "", err)) != KR_OK)
		goto out;
	if ((rc = get_str(root, "format", "", 32, 0, 0, &s, err)) != KR_OK)
		goto out;
	if (strcmp(s, CA_TSTATE_FORMAT) != 0) {
		rc = serr(err, "format", "must be %s", CA_TSTATE_FORMAT);
		goto out;
	}
	v = json_object_get(root, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (1LL << 53) - 1) {
		rc = serr(err, "version", "must be an integer from 0 to "
		    "2^53-1");
		goto out;
	}
	st->version = json_integer_value(v);
	if ((rc = get_str(root, "manifest_sha256", "", 64, 1, 0, &hs,
	    err)) != KR_OK ||
	    (rc = get_str(root, "manifest", "", CA_BUNDLE_MANIFEST_MAX, 1, 1,
	    &s, err)) != KR_OK ||
	    (rc = get_time(root, "applied_at", "", 1, &st->applied_at,
	    err)) != KR_OK)
		goto out;
	if ((hs == NULL) != (s == NULL) || (s == NULL) != (st->version ==
	    0) || (s == NULL) != (st->applied_at == 0)) {
		rc = serr(err, "manifest", "version 0 has no manifest, "
		    "manifest_sha256 or applied_at, and later versions have "
		    "all three");
		goto out;
	}
	if (s != NULL) {
		if (hex32(hs, h) != 0) {
			rc = serr(err, "manifest_sha256", "must be 64 "
			    "lower-case hex digits");
			goto out;
		}
		EVP_Digest(s, strlen(s), mh, NULL, EVP_sha256(), NULL);
		if (memcmp(h, mh, 32) != 0) {
			rc = serr(err, "manifest", "its SHA-256 is not "
			    "manifest_sha256");
			goto out;
		}
		if ((rc = ca_manifest_parse((const uint8_t *)s, strlen(s), &m,
		    err)) != KR_OK) {
			kr_error_prefix(err, "%s: manifest", STATE_NAME);
			goto out;
		}
		if (m.version != st->version) {
			rc = serr(err, "version", "%lld, but the manifest is "
			    "version %lld", st->version, m.version);
			goto out;
		}
		st->manifest_len = strlen(s);
		if ((st->manifest = strdup(s)) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
	}
	arr = json_object_get(root, "stores");
	if (!json_is_array(arr) || json_array_size(arr) >
	    CA_TSTATE_MAX_STORES) {
		rc = serr(err, "stores", "must be an array of at most %d "
		    "stores", CA_TSTATE_MAX_STORES);
		goto out;
	}
	if ((st->stores = calloc(json_array_size(arr) + 1,
	    sizeof(*st->stores))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, v) {
		snprintf(where, sizeof(where), "stores[%zu]", i);
		if (!json_is_string(v) || strlen(json_string_value(v)) !=
		    json_string_length(v) ||
		    !ca_tstate_store_ok(json_string_value(v))) {
			rc = serr(err, where, "must be system, rhel, or pem:, "
			    "nss:, java: and an absolute path");
			goto out;
		}
		for (j = 0; j < st->nstores; j++)
			if (strcmp(st->stores[j], json_string_value(v)) == 0) {
				rc = serr(err, where, "listed twice");
				goto out;
			}
		if ((st->stores[i] = strdup(json_string_value(v))) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		st->nstores = i + 1;
	}
	arr = json_object_get(root, "anchors");
	if (!json_is_array(arr) || json_array_size(arr) < 1 ||
	    json_array_size(arr) > CA_BUNDLE_MAX_ANCHORS) {
		rc = serr(err, "anchors", "must be an array of 1 to %d anchors",
		    CA_BUNDLE_MAX_ANCHORS);
		goto out;
	}
	if ((st->anchors = calloc(json_array_size(arr),
	    sizeof(*st->anchors))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, v) {
		snprintf(where, sizeof(where), "anchors[%zu]", i);
		st->nanchors = i + 1;
		if ((rc = parse_anchor(v, where, &st->anchors[i], err)) !=
		    KR_OK)
			goto out;
		if ((st->anchors[i].state == 0) != (st->version == 0)) {
			rc = serr(err, where, "a bootstrap anchor is the only "
			    "kind before the first bundle, and there is none "
			    "after it");
			goto out;
		}
		for (j = 0; j < i; j++)
			if (memcmp(st->anchors[j].sha256,
			    st->anchors[i].sha256, 32) == 0) {
				rc = serr(err, where, "the same certificate "
				    "as anchors[%zu]", j);
				goto out;
			}
	}
	rc = KR_OK;
out:
	ca_manifest_free(&m);
	json_decref(root);
	if (rc != KR_OK)
		ca_tstate_free(st);
	return rc;
}

static void
jset(json_t *o, const char *k, json_t *v, int *bad)
{
	if (v == NULL || json_object_set_new(o, k, v) != 0)
		*bad = 1;
}

json_t *
ca_tstate_jtime(time_t t)
{
	char buf[32];

	if (t == 0)
		return json_null();
	ca_time_rfc3339(t, buf);
	return json_string(buf);
}

enum kr_err
ca_tstate_encode(const struct ca_tstate *st, char **out, size_t *len,
    struct kr_error *err)
{
	json_t *root, *arr, *o;
	uint8_t h[32];
	char hex[65], *s = NULL;
	size_t i, n;
	int bad = 0;

	*out = NULL;
	*len = 0;
	if ((root = json_object()) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	jset(root, "format", json_string(CA_TSTATE_FORMAT), &bad);
	jset(root, "version", json_integer(st->version), &bad);
	if (st->manifest != NULL) {
		EVP_Digest(st->manifest, st->manifest_len, h, NULL,
		    EVP_sha256(), NULL);
		kr_hex(h, 32, hex);
		jset(root, "manifest_sha256", json_string(hex), &bad);
		jset(root, "manifest", json_stringn(st->manifest,
		    st->manifest_len), &bad);
	} else {
		jset(root, "manifest_sha256", json_null(), &bad);
		jset(root, "manifest", json_null(), &bad);
	}
	jset(root, "applied_at", ca_tstate_jtime(st->applied_at),
	    &bad);
	if ((arr = json_array()) == NULL)
		bad = 1;
	for (i = 0; arr != NULL && i < st->nstores; i++)
		if (json_array_append_new(arr, json_string(st->stores[i])) !=
		    0)
			bad = 1;
	jset(root, "stores", arr, &bad);
	if ((arr = json_array()) == NULL)
		bad = 1;
	for (i = 0; arr != NULL && i < st->nanchors; i++) {
		const struct ca_tstate_anchor *a = &st->anchors[i];

		if ((o = json_object()) == NULL) {
			bad = 1;
			break;
		}
		kr_hex(a->sha256, 32, hex);
		jset(o, "sha256", json_string(hex), &bad);
		jset(o, "subject", json_string(a->subject), &bad);
		jset(o, "state", json_string(ca_tstate_state_name(a->state)),
		    &bad);
		jset(o, "remove_after", ca_tstate_jtime(a->remove_after),
		    &bad);
		jset(o, "certificate", json_string(a->pem), &bad);
		if (json_array_append_new(arr, o) != 0)
			bad = 1;
	}
	jset(root, "anchors", arr, &bad);
	if (!bad)
		s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (s == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	n = strlen(s);
	if ((*out = realloc(s, n + 2)) == NULL) {
		free(s);
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	}
	(*out)[n] = '\n';
	(*out)[n + 1] = '\0';
	*len = n + 1;
	return KR_OK;
}

enum kr_err
ca_tstate_add(struct ca_tstate *st, X509 *x, enum ca_anchor_state state,
    time_t remove_after, struct kr_error *err)
{
	struct ca_tstate_anchor *v, *a;
	BIO *b = NULL;
	char *data;
	long n;

	if (st->nanchors >= CA_BUNDLE_MAX_ANCHORS)
		return kr_fail(err, KR_E_STATE, "more than %d anchors",
		    CA_BUNDLE_MAX_ANCHORS);
	if ((v = realloc(st->anchors, (st->nanchors + 1) * sizeof(*v))) ==
	    NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	st->anchors = v;
	a = &v[st->nanchors];
	memset(a, 0, sizeof(*a));
	ca_cert_sha256(x, a->sha256);
	a->state = state;
	a->remove_after = state == CA_ANCHOR_RETIRING ? remove_after : 0;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(b, x) != 1 ||
	    (n = BIO_get_mem_data(b, &data)) <= 0 ||
	    (a->pem = strndup(data, (size_t)n)) == NULL ||
	    (a->subject = subject_of(x)) == NULL) {
		BIO_free(b);
		free(a->pem);
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	}
	BIO_free(b);
	st->nanchors++;
	return KR_OK;
}

long
ca_tstate_find(const struct ca_tstate *st, const uint8_t sha256[32])
{
	size_t i;

	for (i = 0; i < st->nanchors; i++)
		if (memcmp(st->anchors[i].sha256, sha256, 32) == 0)
			return (long)i;
	return -1;
}

void
ca_tstate_remove(struct ca_tstate *st, size_t i)
{
	if (i >= st->nanchors)
		return;
	free(st->anchors[i].subject);
	free(st->anchors[i].pem);
	memmove(&st->anchors[i], &st->anchors[i + 1], (st->nanchors - i - 1) *
	    sizeof(st->anchors[0]));
	st->nanchors--;
}

X509 *
ca_tstate_cert(const struct ca_tstate *st, size_t i)
{
	if (i >= st->nanchors)
		return NULL;
	return pem_cert(st->anchors[i].pem, strlen(st->anchors[i].pem));
}

void
ca_tstate_free(struct ca_tstate *st)
{
	size_t i;

	for (i = 0; i < st->nanchors; i++) {
		free(st->anchors[i].subject);
		free(st->anchors[i].pem);
	}
	free(st->anchors);
	for (i = 0; i < st->nstores; i++)
		free(st->stores[i]);
	free(st->stores);
	free(st->manifest);
	memset(st, 0, sizeof(*st));
}
