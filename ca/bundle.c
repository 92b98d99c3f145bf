/*
 * bundle.c: signed root-rotation bundles (bundle.h, docs/bundle.md).
 *
 * The manifest is parsed strictly (unknown members are errors) and is
 * the only thing signed; every other file is bound to it by SHA-256.
 * The signature is a detached CMS SignedData built with OpenSSL's CMS
 * API in partial mode: keyrite adds the signed attributes, encodes them
 * as the DER SET that RFC 5652 5.4 says is signed, has the ca_signer
 * (perhaps a token) sign those bytes, and sets the signature octets
 * itself; OpenSSL's own verifier then checks the result.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../common/file.h"
#include "bundle.h"

/* Oracle's "trusted key usage" bag attribute: Java's trustedCertEntry. */
#define OID_JDK_TRUST	"2.16.840.1.113894.746875.1.1"
#define P12_ITER	2048
#define SUBJECT_MAX	1024
#define VERSION_MAX	((1LL << 53) - 1)

static const char *const reserved[] = {
	CA_BUNDLE_MANIFEST, CA_BUNDLE_SIG, CA_BUNDLE_PEM, CA_BUNDLE_P7B,
	CA_BUNDLE_P12, CA_BUNDLE_PS1, CA_BUNDLE_MACOS, NULL,
};

/* The exports, in the order the manifest lists them. */
static const char *const export_names[] = {
	CA_BUNDLE_PEM, CA_BUNDLE_P7B, CA_BUNDLE_P12, CA_BUNDLE_PS1,
	CA_BUNDLE_MACOS,
};
#define NEXPORTS (sizeof(export_names) / sizeof(export_names[0]))

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

enum ca_anchor_state
ca_anchor_state_from_name(const char *s)
{
	if (s == NULL)
		return 0;
	if (strcmp(s, "next") == 0)
		return CA_ANCHOR_NEXT;
	if (strcmp(s, "active") == 0)
		return CA_ANCHOR_ACTIVE;
	if (strcmp(s, "retiring") == 0)
		return CA_ANCHOR_RETIRING;
	return 0;
}

const char *
ca_anchor_state_name(enum ca_anchor_state s)
{
	switch (s) {
	case CA_ANCHOR_NEXT:
		return "next";
	case CA_ANCHOR_ACTIVE:
		return "active";
	case CA_ANCHOR_RETIRING:
		return "retiring";
	}
	return "?";
}

void
ca_time_rfc3339(time_t t, char buf[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "?");
}

/* The value of n decimal digits (checked to be digits already). */
static int
digits(const char *s, size_t n)
{
	int v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

/*
 * Exactly YYYY-MM-DDTHH:MM:SSZ with a real calendar date (no leap
 * second, no offset, no fraction): the one form keyrite writes.
 */
time_t
ca_time_parse_rfc3339(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	struct tm tm, back;
	time_t t;
	size_t i;

	if (s == NULL || strlen(s) != sizeof(shape) - 1)
		return -1;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) :
		    s[i] != shape[i])
			return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 5, 2) - 1;
	tm.tm_mday = digits(s + 8, 2);
	tm.tm_hour = digits(s + 11, 2);
	tm.tm_min = digits(s + 14, 2);
	tm.tm_sec = digits(s + 17, 2);
	if (tm.tm_year < 70 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return -1;
	back = tm;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	/* timegm normalises 2026-02-30 to March: refuse that. */
	if (tm.tm_year != back.tm_year || tm.tm_mon != back.tm_mon ||
	    tm.tm_mday != back.tm_mday)
		return -1;
	return t;
}

static int
hex_parse32(const char *s, uint8_t out[32])
{
	size_t i;
	int hi, lo;

	if (s == NULL || strlen(s) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		hi = s[2 * i];
		lo = s[2 * i + 1];
		if (!((hi >= '0' && hi <= '9') || (hi >= 'a' && hi <= 'f')) ||
		    !((lo >= '0' && lo <= '9') || (lo >= 'a' && lo <= 'f')))
			return -1;
		out[i] = (uint8_t)(((hi <= '9' ? hi - '0' : hi - 'a' + 10) <<
		    4) | (lo <= '9' ? lo - '0' : lo - 'a' + 10));
	}
	return 0;
}

static void
sha256(const void *buf, size_t len, uint8_t out[32])
{
	if (EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL) != 1)
		memset(out, 0, 32);
}

void
ca_spki_sha256(X509 *x, uint8_t out[32])
{
	unsigned char *der = NULL;
	int n;

	memset(out, 0, 32);
	if (x == NULL || (n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x),
	    &der)) <= 0)
		return;
	sha256(der, (size_t)n, out);
	OPENSSL_free(der);
}

/*
 * A name as one line of printable ASCII, in encoded order ("CN=Lab
 * Root,O=Example"): RFC 2253 escaping, with bytes over 0x7f and
 * control characters escaped, so hostile names print safely.
 * malloc'd; NULL when it cannot be made or is over SUBJECT_MAX.
 */
static char *
name_text(const X509_NAME *name)
{
	BIO *b;
	char *data, *s = NULL;
	long n;

	if (name == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_SEP_COMMA_PLUS |
	    XN_FLAG_FN_SN | ASN1_STRFLGS_RFC2253) >= 0 &&
	    (n = BIO_get_mem_data(b, &data)) >= 0 && n <= SUBJECT_MAX)
		s = strndup(data, (size_t)n);
	BIO_free(b);
	ERR_clear_error();
	return s;
}

/* Printable ASCII, 1..max bytes. */
static int
printable(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* PEM of x appended to BIO b. */
static enum kr_err
cert_pem(BIO *b, X509 *x, struct kr_error *err)
{
	if (PEM_write_bio_X509(b, x) != 1)
		return kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode a "
		    "certificate");
	return KR_OK;
}

/* The bytes written to a memory BIO, copied into the file set. */
static enum kr_err
put_bio(struct ca_files *f, const char *name, BIO *b, struct kr_error *err)
{
	char *data;
	long n;

	if ((n = BIO_get_mem_data(b, &data)) < 0)
		return kr_fail(err, KR_E_INTERNAL, "memory BIO");
	return ca_files_put(f, name, data, (size_t)n, err);
}

/* Is x a self-signed CA certificate whose signature verifies? */
static int
self_signed_ca(X509 *x)
{
	int ok;

	ok = X509_check_ca(x) == 1 && X509_check_issued(x, x) == X509_V_OK &&
	    X509_verify(x, X509_get0_pubkey(x)) == 1;
	ERR_clear_error();
	return ok;
}

/* x's subject for messages (static buffer of the caller). */
static const char *
who(X509 *x, char *buf, size_t sz)
{
	char *s = name_text(X509_get_subject_name(x));

	snprintf(buf, sz, "%s", s != NULL ? s : "(unreadable name)");
	free(s);
	return buf;
}

/* ------------------------------------------------------------------ */
/* The manifest                                                        */
/* ------------------------------------------------------------------ */

void
ca_manifest_free(struct ca_manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nanchors; i++) {
		free(m->anchors[i].file);
		free(m->anchors[i].subject);
	}
	for (i = 0; i < m->ncross; i++) {
		free(m->cross[i].file);
		free(m->cross[i].subject);
		free(m->cross[i].issuer);
	}
	for (i = 0; i < m->nexports; i++)
		free(m->exports[i].file);
	free(m->anchors);
	free(m->cross);
	free(m->exports);
	memset(m, 0, sizeof(*m));
}

static enum kr_err
perr(struct kr_error *err, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "manifest.json: anchors[1].state: ..." */
static enum kr_err
perr(struct kr_error *err, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kr_fail(err, KR_E_PARSE, "%s: %s%s%s", CA_BUNDLE_MANIFEST,
	    where, where[0] ? ": " : "", msg);
}

/* Refuse members of o that are not in allowed. */
static enum kr_err
only_members(json_t *o, const char *const *allowed, const char *where,
    struct kr_error *err)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return perr(err, where, "unknown member '%.64s'", k);
	}
	return KR_OK;
}

static enum kr_err
get_str(json_t *o, const char *key, const char *where, size_t max,
    const char **out, struct kr_error *err)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return perr(err, where, "'%s' is missing", key);
	if (!json_is_string(v))
		return perr(err, where, "'%s' must be a string", key);
	*out = json_string_value(v);
	if (!printable(*out, max))
		return perr(err, where, "'%s' must be 1 to %zu printable "
		    "ASCII characters", key, max);
	return KR_OK;
}

static enum kr_err
get_hex(json_t *o, const char *key, const char *where, uint8_t out[32],
    struct kr_error *err)
{
	const char *s;
	enum kr_err rc;

	if ((rc = get_str(o, key, where, 64, &s, err)) != KR_OK)
		return rc;
	if (hex_parse32(s, out) != 0)
		return perr(err, where, "'%s' must be 64 lower-case hex "
		    "digits (a SHA-256)", key);
	return KR_OK;
}

static enum kr_err
get_time(json_t *o, const char *key, const char *where, time_t *out,
    struct kr_error *err)
{
	const char *s;
	enum kr_err rc;

	if ((rc = get_str(o, key, where, 32, &s, err)) != KR_OK)
		return rc;
	if ((*out = ca_time_parse_rfc3339(s)) == (time_t)-1)
		return perr(err, where, "'%s' must be a UTC time like "
		    "2026-05-01T12:00:00Z", key);
	return KR_OK;
}

/* A file name for a certificate of the bundle: good, *.pem, not ours. */
static enum kr_err
get_file(json_t *o, const char *where, char **out, struct kr_error *err)
{
	const char *s;
	size_t i, n;
	enum kr_err rc;

	if ((rc = get_str(o, "file", where, CA_FILE_NAME_MAX, &s, err)) !=
	    KR_OK)
		return rc;
	n = strlen(s);
	if (!ca_file_name_ok(s) || n < 5 || strcmp(s + n - 4, ".pem") != 0)
		return perr(err, where, "'file' must be a plain file name "
		    "ending in .pem (letters, digits, '.', '_', '-')");
	for (i = 0; reserved[i] != NULL; i++)
		if (strcmp(s, reserved[i]) == 0)
			return perr(err, where, "'file' may not be %s", s);
	if ((*out = strdup(s)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	return KR_OK;
}

static enum kr_err
dup_into(const char *s, char **out, struct kr_error *err)
{
	if ((*out = strdup(s)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	return KR_OK;
}

static enum kr_err
parse_anchor(json_t *o, const char *where, struct ca_bundle_anchor *a,
    struct kr_error *err)
{
	static const char *const members[] = { "file", "sha256",
	    "spki_sha256", "subject", "not_before", "not_after", "state",
	    "remove_after", NULL };
	const char *s;
	enum kr_err rc;

	if (!json_is_object(o))
		return perr(err, where, "must be an object");
	if ((rc = only_members(o, members, where, err)) != KR_OK ||
	    (rc = get_file(o, where, &a->file, err)) != KR_OK ||
	    (rc = get_hex(o, "sha256", where, a->sha256, err)) != KR_OK ||
	    (rc = get_hex(o, "spki_sha256", where, a->spki_sha256, err)) !=
	    KR_OK ||
	    (rc = get_str(o, "subject", where, SUBJECT_MAX, &s, err)) !=
	    KR_OK ||
	    (rc = dup_into(s, &a->subject, err)) != KR_OK ||
	    (rc = get_time(o, "not_before", where, &a->not_before, err)) !=
	    KR_OK ||
	    (rc = get_time(o, "not_after", where, &a->not_after, err)) !=
	    KR_OK ||
	    (rc = get_str(o, "state", where, 16, &s, err)) != KR_OK)
		return rc;
	if (a->not_after <= a->not_before)
		return perr(err, where, "not_after is not after not_before");
	if ((a->state = ca_anchor_state_from_name(s)) == 0)
		return perr(err, where, "state '%s' is not next, active or "
		    "retiring", s);
	if (a->state == CA_ANCHOR_RETIRING)
		return get_time(o, "remove_after", where, &a->remove_after,
		    err);
	if (json_object_get(o, "remove_after") != NULL)
		return perr(err, where, "remove_after is only for retiring "
		    "anchors");
	return KR_OK;
}

static enum kr_err
parse_cross(json_t *o, const char *where, struct ca_bundle_cross *c,
    struct kr_error *err)
{
	static const char *const members[] = { "file", "sha256", "subject",
	    "issuer", NULL };
	const char *s;
	enum kr_err rc;

	if (!json_is_object(o))
		return perr(err, where, "must be an object");
	if ((rc = only_members(o, members, where, err)) != KR_OK ||
	    (rc = get_file(o, where, &c->file, err)) != KR_OK ||
	    (rc = get_hex(o, "sha256", where, c->sha256, err)) != KR_OK ||
	    (rc = get_str(o, "subject", where, SUBJECT_MAX, &s, err)) !=
	    KR_OK ||
	    (rc = dup_into(s, &c->subject, err)) != KR_OK ||
	    (rc = get_str(o, "issuer", where, SUBJECT_MAX, &s, err)) !=
	    KR_OK ||
	    (rc = dup_into(s, &c->issuer, err)) != KR_OK)
		return rc;
	return KR_OK;
}

static enum kr_err
parse_export(json_t *o, const char *where, size_t i,
    struct ca_bundle_export *e, struct kr_error *err)
{
	static const char *const members[] = { "file", "sha256", NULL };
	const char *s;
	enum kr_err rc;

	if (!json_is_object(o))
		return perr(err, where, "must be an object");
	if ((rc = only_members(o, members, where, err)) != KR_OK ||
	    (rc = get_str(o, "file", where, CA_FILE_NAME_MAX, &s, err)) !=
	    KR_OK)
		return rc;
	if (strcmp(s, export_names[i]) != 0)
		return perr(err, where, "'file' must be %s here",
		    export_names[i]);
	if ((rc = dup_into(s, &e->file, err)) != KR_OK)
		return rc;
	return get_hex(o, "sha256", where, e->sha256, err);
}

/* Every file name in m is distinct; no anchor or cross cert twice. */
static enum kr_err
manifest_unique(const struct ca_manifest *m, struct kr_error *err)
{
	const char *names[CA_BUNDLE_MAX_ANCHORS + CA_BUNDLE_MAX_CROSS];
	char where[48];
	size_t n = 0, i, j;

	for (i = 0; i < m->nanchors; i++) {
		names[n++] = m->anchors[i].file;
		for (j = 0; j < i; j++)
			if (memcmp(m->anchors[i].sha256, m->anchors[j].sha256,
			    32) == 0) {
				snprintf(where, sizeof(where), "anchors[%zu]",
				    i);
				return perr(err, where, "the same certificate "
				    "as anchors[%zu]", j);
			}
	}
	for (i = 0; i < m->ncross; i++) {
		names[n++] = m->cross[i].file;
		for (j = 0; j < i; j++)
			if (memcmp(m->cross[i].sha256, m->cross[j].sha256,
			    32) == 0) {
				snprintf(where, sizeof(where), "cross[%zu]", i);
				return perr(err, where, "the same certificate "
				    "as cross[%zu]", j);
			}
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				return perr(err, "", "file '%s' is listed "
				    "twice", names[i]);
	return KR_OK;
}

enum kr_err
ca_manifest_parse(const uint8_t *text, size_t len, struct ca_manifest *m,
    struct kr_error *err)
{
	static const char *const members[] = { "format", "version",
	    "previous_manifest_sha256", "issued_at", "expires", "anchors",
	    "cross", "exports", NULL };
	json_error_t je;
	json_t *root = NULL, *v, *arr;
	const char *s;
	char where[48];
	size_t i, nactive = 0;
	enum kr_err rc;

	memset(m, 0, sizeof(*m));
	if (len > CA_BUNDLE_MANIFEST_MAX) {
		rc = perr(err, "", "%zu bytes, over the limit of %d", len,
		    CA_BUNDLE_MANIFEST_MAX);
		goto out;
	}
	if ((root = json_loadb((const char *)text, len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL) {
		rc = perr(err, "", "line %d: %s", je.line, je.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = perr(err, "", "must be a JSON object");
		goto out;
	}
	if ((rc = only_members(root, members, "", err)) != KR_OK ||
	    (rc = get_str(root, "format", "", 32, &s, err)) != KR_OK)
		goto out;
	if (strcmp(s, CA_BUNDLE_FORMAT) != 0) {
		rc = perr(err, "format", "'%s' is not %s", s,
		    CA_BUNDLE_FORMAT);
		goto out;
	}
	v = json_object_get(root, "version");
	if (v == NULL || !json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > VERSION_MAX) {
		rc = perr(err, "version", "must be an integer from 1 to "
		    "%lld", VERSION_MAX);
		goto out;
	}
	m->version = json_integer_value(v);
	v = json_object_get(root, "previous_manifest_sha256");
	if (v == NULL) {
		rc = perr(err, "", "'previous_manifest_sha256' is missing "
		    "(null for version 1)");
		goto out;
	}
	if (json_is_null(v)) {
		if (m->version != 1) {
			rc = perr(err, "previous_manifest_sha256", "only "
			    "version 1 has no previous manifest");
			goto out;
		}
	} else {
		if ((rc = get_hex(root, "previous_manifest_sha256", "",
		    m->previous, err)) != KR_OK)
			goto out;
		if (m->version == 1) {
			rc = perr(err, "previous_manifest_sha256", "version 1 "
			    "has no previous manifest; must be null");
			goto out;
		}
		m->has_previous = 1;
	}
	if ((rc = get_time(root, "issued_at", "", &m->issued_at, err)) !=
	    KR_OK ||
	    (rc = get_time(root, "expires", "", &m->expires, err)) != KR_OK)
		goto out;
	if (m->expires <= m->issued_at) {
		rc = perr(err, "expires", "not after issued_at");
		goto out;
	}
	arr = json_object_get(root, "anchors");
	if (!json_is_array(arr) || json_array_size(arr) < 1 ||
	    json_array_size(arr) > CA_BUNDLE_MAX_ANCHORS) {
		rc = perr(err, "anchors", "must be an array of 1 to %d "
		    "anchors", CA_BUNDLE_MAX_ANCHORS);
		goto out;
	}
	if ((m->anchors = calloc(json_array_size(arr),
	    sizeof(*m->anchors))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, v) {
		snprintf(where, sizeof(where), "anchors[%zu]", i);
		m->nanchors = i + 1;
		if ((rc = parse_anchor(v, where, &m->anchors[i], err)) !=
		    KR_OK)
			goto out;
		if (m->anchors[i].state == CA_ANCHOR_ACTIVE)
			nactive++;
	}
	if (nactive == 0) {
		rc = perr(err, "anchors", "no anchor is active");
		goto out;
	}
	arr = json_object_get(root, "cross");
	if (!json_is_array(arr) || json_array_size(arr) >
	    CA_BUNDLE_MAX_CROSS) {
		rc = perr(err, "cross", "must be an array of at most %d "
		    "cross-certificates", CA_BUNDLE_MAX_CROSS);
		goto out;
	}
	if (json_array_size(arr) > 0 && (m->cross = calloc(
	    json_array_size(arr), sizeof(*m->cross))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, v) {
		snprintf(where, sizeof(where), "cross[%zu]", i);
		m->ncross = i + 1;
		if ((rc = parse_cross(v, where, &m->cross[i], err)) != KR_OK)
			goto out;
	}
	arr = json_object_get(root, "exports");
	if (!json_is_array(arr) || json_array_size(arr) != NEXPORTS) {
		rc = perr(err, "exports", "must list %s, %s, %s, %s and %s",
		    export_names[0], export_names[1], export_names[2],
		    export_names[3], export_names[4]);
		goto out;
	}
	if ((m->exports = calloc(NEXPORTS, sizeof(*m->exports))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, v) {
		snprintf(where, sizeof(where), "exports[%zu]", i);
		m->nexports = i + 1;
		if ((rc = parse_export(v, where, i, &m->exports[i], err)) !=
		    KR_OK)
			goto out;
	}
	rc = manifest_unique(m, err);
out:
	json_decref(root);
	if (rc != KR_OK)
		ca_manifest_free(m);
	return rc;
}

static json_t *
jhex(const uint8_t h[32])
{
	char hex[65];

	kr_hex(h, 32, hex);
	return json_string(hex);
}

static json_t *
jtime(time_t t)
{
	char buf[32];

	ca_time_rfc3339(t, buf);
	return json_string(buf);
}

/* json_object_set_new that remembers a failure in *bad. */
static void
jset(json_t *o, const char *k, json_t *v, int *bad)
{
	if (v == NULL || json_object_set_new(o, k, v) != 0)
		*bad = 1;
}

enum kr_err
ca_manifest_encode(const struct ca_manifest *m, char **out, size_t *len,
    struct kr_error *err)
{
	json_t *root, *arr, *o;
	char *s = NULL;
	size_t i, n;
	int bad = 0;
	enum kr_err rc;

	*out = NULL;
	*len = 0;
	if ((root = json_object()) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	jset(root, "format", json_string(CA_BUNDLE_FORMAT), &bad);
	jset(root, "version", json_integer(m->version), &bad);
	jset(root, "previous_manifest_sha256", m->has_previous ?
	    jhex(m->previous) : json_null(), &bad);
	jset(root, "issued_at", jtime(m->issued_at), &bad);
	jset(root, "expires", jtime(m->expires), &bad);
	if ((arr = json_array()) == NULL)
		bad = 1;
	for (i = 0; arr != NULL && i < m->nanchors; i++) {
		const struct ca_bundle_anchor *a = &m->anchors[i];

		if ((o = json_object()) == NULL) {
			bad = 1;
			break;
		}
		jset(o, "file", json_string(a->file), &bad);
		jset(o, "sha256", jhex(a->sha256), &bad);
		jset(o, "spki_sha256", jhex(a->spki_sha256), &bad);
		jset(o, "subject", json_string(a->subject), &bad);
		jset(o, "not_before", jtime(a->not_before), &bad);
		jset(o, "not_after", jtime(a->not_after), &bad);
		jset(o, "state", json_string(ca_anchor_state_name(a->state)),
		    &bad);
		if (a->state == CA_ANCHOR_RETIRING)
			jset(o, "remove_after", jtime(a->remove_after), &bad);
		if (json_array_append_new(arr, o) != 0)
			bad = 1;
	}
	jset(root, "anchors", arr, &bad);
	if ((arr = json_array()) == NULL)
		bad = 1;
	for (i = 0; arr != NULL && i < m->ncross; i++) {
		if ((o = json_object()) == NULL) {
			bad = 1;
			break;
		}
		jset(o, "file", json_string(m->cross[i].file), &bad);
		jset(o, "sha256", jhex(m->cross[i].sha256), &bad);
		jset(o, "subject", json_string(m->cross[i].subject), &bad);
		jset(o, "issuer", json_string(m->cross[i].issuer), &bad);
		if (json_array_append_new(arr, o) != 0)
			bad = 1;
	}
	jset(root, "cross", arr, &bad);
	if ((arr = json_array()) == NULL)
		bad = 1;
	for (i = 0; arr != NULL && i < m->nexports; i++) {
		if ((o = json_object()) == NULL) {
			bad = 1;
			break;
		}
		jset(o, "file", json_string(m->exports[i].file), &bad);
		jset(o, "sha256", jhex(m->exports[i].sha256), &bad);
		if (json_array_append_new(arr, o) != 0)
			bad = 1;
	}
	jset(root, "exports", arr, &bad);
	if (bad || (s = json_dumps(root, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "cannot encode the manifest");
		goto out;
	}
	n = strlen(s);
	if ((*out = malloc(n + 2)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*out, s, n);
	(*out)[n] = '\n';
	(*out)[n + 1] = '\0';
	*len = n + 1;
	rc = KR_OK;
out:
	free(s);
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Certificates of a bundle                                            */
/* ------------------------------------------------------------------ */

/* A self-signed CA whose signature verifies; not expired when now > 0. */
static enum kr_err
anchor_ok(X509 *x, time_t now, const char *what, struct kr_error *err)
{
	char buf[256], when[32];
	time_t na;

	if (!self_signed_ca(x))
		return kr_fail(err, KR_E_POLICY, "%s (%s): not a self-signed "
		    "CA certificate whose signature verifies; anchors are "
		    "roots", what, who(x, buf, sizeof(buf)));
	if (ca_time_from_asn1(X509_get0_notAfter(x), &na) != 0)
		return kr_fail(err, KR_E_PARSE, "%s: its notAfter cannot be "
		    "read", what);
	if (now > 0 && na <= now) {
		ca_time_rfc3339(na, when);
		return kr_fail(err, KR_E_POLICY, "%s (%s): expired at %s",
		    what, who(x, buf, sizeof(buf)), when);
	}
	return KR_OK;
}

/*
 * A cross-certificate: a CA certificate for the key of one anchor,
 * issued (name, AKI, signature) by another.
 */
static enum kr_err
cross_ok(X509 *x, X509 *const *anchors, size_t n, const char *what,
    struct kr_error *err)
{
	char buf[256];
	size_t i;
	int subj = 0, iss = 0;

	if (X509_check_ca(x) != 1) {
		ERR_clear_error();
		return kr_fail(err, KR_E_POLICY, "%s (%s): not a CA "
		    "certificate", what, who(x, buf, sizeof(buf)));
	}
	for (i = 0; i < n; i++) {
		if (EVP_PKEY_eq(X509_get0_pubkey(x),
		    X509_get0_pubkey(anchors[i])) == 1) {
			subj = 1;
			continue;
		}
		if (X509_check_issued(anchors[i], x) == X509_V_OK &&
		    X509_verify(x, X509_get0_pubkey(anchors[i])) == 1)
			iss = 1;
	}
	ERR_clear_error();
	if (!subj)
		return kr_fail(err, KR_E_POLICY, "%s (%s): certifies a key "
		    "that is not one of the bundle's anchors", what,
		    who(x, buf, sizeof(buf)));
	if (!iss)
		return kr_fail(err, KR_E_POLICY, "%s (%s): not issued and "
		    "signed by another of the bundle's anchors", what,
		    who(x, buf, sizeof(buf)));
	return KR_OK;
}

/* "anchor-0123456789abcdef.pem" from the certificate's SHA-256. */
static enum kr_err
cert_file_name(const char *prefix, const uint8_t h[32], char **out,
    struct kr_error *err)
{
	char hex[65], name[CA_FILE_NAME_MAX + 1];

	kr_hex(h, 32, hex);
	snprintf(name, sizeof(name), "%s-%.16s.pem", prefix, hex);
	return dup_into(name, out, err);
}

/* The PEM bundle of the anchors, in manifest order. */
static enum kr_err
make_pem(X509 *const *anchors, size_t n, struct ca_files *f,
    struct kr_error *err)
{
	BIO *b;
	size_t i;
	enum kr_err rc = KR_OK;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; rc == KR_OK && i < n; i++)
		rc = cert_pem(b, anchors[i], err);
	if (rc == KR_OK)
		rc = put_bio(f, CA_BUNDLE_PEM, b, err);
	BIO_free(b);
	return rc;
}

/* A certs-only PKCS#7 SignedData, as `openssl crl2pkcs7 -nocrl` makes. */
static enum kr_err
make_p7b(X509 *const *anchors, size_t n, struct ca_files *f,
    struct kr_error *err)
{
	PKCS7 *p7 = NULL;
	unsigned char *der = NULL;
	size_t i;
	int len;
	enum kr_err rc;

	if ((p7 = PKCS7_new()) == NULL ||
	    PKCS7_set_type(p7, NID_pkcs7_signed) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot make the PKCS#7");
		goto out;
	}
	ASN1_OBJECT_free(p7->d.sign->contents->type);
	p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
	for (i = 0; i < n; i++)
		if (PKCS7_add_certificate(p7, anchors[i]) != 1) {
			rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot make the "
			    "PKCS#7");
			goto out;
		}
	if ((len = i2d_PKCS7(p7, &der)) <= 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode the "
		    "PKCS#7");
		goto out;
	}
	rc = ca_files_put(f, CA_BUNDLE_P7B, der, (size_t)len, err);
out:
	OPENSSL_free(der);
	PKCS7_free(p7);
	return rc;
}

/*
 * A PKCS#12 truststore: one certificate bag per anchor, in one
 * unencrypted safe (nothing in it is secret), each with a friendlyName
 * "keyrite-<16 hex of its SHA-256>" and Oracle's trusted-key-usage
 * attribute (anyExtendedKeyUsage), which is what makes Java's keytool
 * list it as a trustedCertEntry; MAC with SHA-256 under the public
 * password CA_BUNDLE_P12_PASS.  The MAC salt is taken from the anchors'
 * hashes, so the same anchors always give the same bytes.
 */
static enum kr_err
make_p12(X509 *const *anchors, size_t n, struct ca_files *f,
    struct kr_error *err)
{
	STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
	STACK_OF(PKCS7) *safes = NULL;
	PKCS12_SAFEBAG *bag;
	PKCS12 *p12 = NULL;
	EVP_MD_CTX *ctx = NULL;
	unsigned char *der = NULL, salt[32];
	uint8_t h[32];
	char hex[65], alias[64];
	size_t i;
	int len;
	enum kr_err rc;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "SHA-256");
		goto out;
	}
	for (i = 0; i < n; i++) {
		ca_cert_sha256(anchors[i], h);
		kr_hex(h, 32, hex);
		snprintf(alias, sizeof(alias), "keyrite-%.16s", hex);
		if (EVP_DigestUpdate(ctx, h, 32) != 1 ||
		    (bag = PKCS12_add_cert(&bags, anchors[i])) == NULL ||
		    PKCS12_add_friendlyname_utf8(bag, alias, -1) != 1 ||
		    PKCS12_add1_attr_by_txt(bag, OID_JDK_TRUST, V_ASN1_OBJECT,
		    (const unsigned char *)OBJ_nid2obj(NID_anyExtendedKeyUsage),
		    -1) != 1) {
			rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot make the "
			    "PKCS#12 truststore");
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(ctx, salt, NULL) != 1 ||
	    PKCS12_add_safe(&safes, bags, -1, 0, NULL) != 1 ||
	    (p12 = PKCS12_add_safes(safes, 0)) == NULL ||
	    PKCS12_set_mac(p12, CA_BUNDLE_P12_PASS, -1, salt, 16, P12_ITER,
	    EVP_sha256()) != 1 ||
	    (len = i2d_PKCS12(p12, &der)) <= 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot make the PKCS#12 "
		    "truststore");
		goto out;
	}
	rc = ca_files_put(f, CA_BUNDLE_P12, der, (size_t)len, err);
out:
	OPENSSL_free(der);
	PKCS12_free(p12);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* A certificate file: exactly one certificate, in keyrite's PEM form. */
/*
 * The install scripts for stores keyrite-trust cannot write (Windows,
 * macOS), made from the manifest and the anchors alone, so the same
 * bundle always gives the same bytes and ca_bundle_check can compare.
 * An anchor is due for removal when it is retiring and its
 * remove_after has passed when the script runs.
 */
static int
sha1_hex(X509 *x, char out[41], int upper)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
	const char *hx = upper ? up : lo;

	if (X509_digest(x, EVP_sha1(), md, &n) != 1 || n != 20)
		return -1;
	for (i = 0; i < 20; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[40] = '\0';
	return 0;
}

static enum kr_err
make_scripts(const struct ca_manifest *m, X509 *const *anchors,
    struct ca_files *f, struct kr_error *err)
{
	BIO *w = NULL, *s = NULL;
	char t1[32], t2[32], ra[32], thumb[41], hex[65];
	const struct ca_bundle_anchor *a;
	size_t i;
	int bad = 0;
	enum kr_err rc;

	if ((w = BIO_new(BIO_s_mem())) == NULL ||
	    (s = BIO_new(BIO_s_mem())) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	ca_time_rfc3339(m->issued_at, t1);
	ca_time_rfc3339(m->expires, t2);
	bad |= BIO_printf(w,
	    "# install-windows.ps1: keyrite trust bundle version %lld, "
	    "issued %s, expires %s.\r\n"
	    "# Run as Administrator from the bundle's directory, after "
	    "checking the bundle\r\n"
	    "# (keyrite bundle verify, or keyrite-trust apply --dry-run):\r\n"
	    "#   powershell -ExecutionPolicy Bypass -File install-windows.ps1\r\n"
	    "# Adds every anchor to Cert:\\LocalMachine\\Root (FriendlyName "
	    "keyrite-<sha256 prefix>),\r\n"
	    "# then removes by thumbprint the keyrite anchors this bundle "
	    "retires (remove_after\r\n"
	    "# passed) or no longer lists.  Running it twice changes nothing "
	    "the second time.\r\n"
	    "$ErrorActionPreference = 'Stop'\r\n"
	    "$here = Split-Path -Parent $MyInvocation.MyCommand.Path\r\n"
	    "$store = 'Cert:\\LocalMachine\\Root'\r\n"
	    "$now = [DateTime]::UtcNow\r\n"
	    "$anchors = @(\r\n", m->version, t1, t2) <= 0;
	for (i = 0; i < m->nanchors; i++) {
		a = &m->anchors[i];
		if (sha1_hex(anchors[i], thumb, 1) != 0) {
			rc = kr_fail_ossl(err, KR_E_CRYPTO, "%s: SHA-1", a->file);
			goto out;
		}
		kr_hex(a->sha256, 32, hex);
		if (a->state == CA_ANCHOR_RETIRING)
			ca_time_rfc3339(a->remove_after, ra);
		bad |= BIO_printf(w, "    @{ File = '%s'; Thumbprint = '%s'; "
		    "Name = 'keyrite-%.16s'; State = '%s'; RemoveAfter = %s%s%s "
		    "}%s\r\n", a->file, thumb, hex, ca_anchor_state_name(
		    a->state), a->state == CA_ANCHOR_RETIRING ? "'" : "",
		    a->state == CA_ANCHOR_RETIRING ? ra : "$null",
		    a->state == CA_ANCHOR_RETIRING ? "'" : "",
		    i + 1 < m->nanchors ? "," : "") <= 0;
	}
	bad |= BIO_printf(w, ")\r\n"
	    "function Test-Due($a) {\r\n"
	    "    if ($a.RemoveAfter -eq $null) { return $false }\r\n"
	    "    $t = [DateTime]::Parse($a.RemoveAfter, "
	    "[Globalization.CultureInfo]::InvariantCulture,\r\n"
	    "        [Globalization.DateTimeStyles]'AdjustToUniversal, "
	    "AssumeUniversal')\r\n"
	    "    return $now -ge $t\r\n"
	    "}\r\n"
	    "# Add first.\r\n"
	    "foreach ($a in $anchors) {\r\n"
	    "    if (Test-Due $a) { continue }\r\n"
	    "    $path = Join-Path $here $a.File\r\n"
	    "    $c = New-Object System.Security.Cryptography.X509Certificates."
	    "X509Certificate2($path)\r\n"
	    "    if ($c.Thumbprint -ne $a.Thumbprint) { throw \"$($a.File): "
	    "thumbprint $($c.Thumbprint), not $($a.Thumbprint)\" }\r\n"
	    "    if (Test-Path \"$store\\$($a.Thumbprint)\") {\r\n"
	    "        Write-Output \"present: $($a.Name) $($a.Thumbprint)\"\r\n"
	    "        continue\r\n"
	    "    }\r\n"
	    "    Import-Certificate -FilePath $path -CertStoreLocation $store "
	    "| Out-Null\r\n"
	    "    (Get-Item \"$store\\$($a.Thumbprint)\").FriendlyName = "
	    "$a.Name\r\n"
	    "    Write-Output \"added: $($a.Name) $($a.Thumbprint)\"\r\n"
	    "}\r\n"
	    "# Then remove, by thumbprint.\r\n"
	    "$keep = @($anchors | Where-Object { -not (Test-Due $_) } | "
	    "ForEach-Object { $_.Thumbprint })\r\n"
	    "Get-ChildItem $store | Where-Object { $_.FriendlyName -like "
	    "'keyrite-*' -and $keep -notcontains $_.Thumbprint } | "
	    "ForEach-Object {\r\n"
	    "    Remove-Item \"$store\\$($_.Thumbprint)\"\r\n"
	    "    Write-Output \"removed: $($_.FriendlyName) $($_.Thumbprint)\"\r\n"
	    "}\r\n") <= 0;
	bad |= BIO_printf(s, "#!/bin/sh\n"
	    "# install-macos.sh: keyrite trust bundle version %lld, issued %s, "
	    "expires %s.\n"
	    "# Run from the bundle's directory, after checking the bundle:\n"
	    "#   sudo sh install-macos.sh\n"
	    "# Adds every anchor to the System keychain as a trusted root, "
	    "then removes by\n"
	    "# SHA-1 hash those this bundle retires (remove_after passed).  "
	    "Running it twice\n"
	    "# changes nothing the second time.\n"
	    "set -eu\n"
	    "here=$(cd \"$(dirname \"$0\")\" && pwd)\n"
	    "kc=${KEYCHAIN:-/Library/Keychains/System.keychain}\n"
	    "now=$(date -u +%%Y%%m%%d%%H%%M%%S)\n"
	    "has() { security find-certificate -a -Z \"$kc\" | "
	    "grep -q \"^SHA-1 hash: $1\\$\"; }\n"
	    "due() { [ \"$1\" != - ] && [ \"$now\" -ge \"$1\" ]; }\n"
	    "add() {\n"
	    "\tdue \"$3\" && return 0\n"
	    "\tif has \"$2\"; then echo \"present: $1 $2\"; return 0; fi\n"
	    "\tsecurity add-trusted-cert -d -r trustRoot -k \"$kc\" "
	    "\"$here/$1\"\n"
	    "\techo \"added: $1 $2\"\n"
	    "}\n"
	    "remove() {\n"
	    "\tdue \"$3\" || return 0\n"
	    "\thas \"$2\" || return 0\n"
	    "\tsecurity delete-certificate -Z \"$2\" \"$kc\"\n"
	    "\techo \"removed: $1 $2\"\n"
	    "}\n", m->version, t1, t2) <= 0;
	for (i = 0; i < 2; i++) {
		size_t k;

		bad |= BIO_printf(s, i == 0 ? "# Add first.\n" :
		    "# Then remove.\n") <= 0;
		for (k = 0; k < m->nanchors; k++) {
			a = &m->anchors[k];
			if (sha1_hex(anchors[k], thumb, 1) != 0) {
				rc = kr_fail_ossl(err, KR_E_CRYPTO, "%s: SHA-1",
				    a->file);
				goto out;
			}
			if (a->state == CA_ANCHOR_RETIRING) {
				struct tm tm;
				time_t t = a->remove_after;

				gmtime_r(&t, &tm);
				strftime(ra, sizeof(ra), "%Y%m%d%H%M%S", &tm);
			} else
				snprintf(ra, sizeof(ra), "-");
			bad |= BIO_printf(s, "%s %s %s %s\n", i == 0 ? "add" :
			    "remove", a->file, thumb, ra) <= 0;
		}
	}
	if (bad) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = put_bio(f, CA_BUNDLE_PS1, w, err)) != KR_OK)
		goto out;
	rc = put_bio(f, CA_BUNDLE_MACOS, s, err);
out:
	BIO_free(w);
	BIO_free(s);
	return rc;
}

/* The scripts in b are exactly what make_scripts makes of m. */
static enum kr_err
check_scripts(const struct ca_files *b, const struct ca_manifest *m,
    X509 *const *anchors, struct kr_error *err)
{
	struct ca_files mine = { 0 };
	const struct ca_file *x, *y;
	const char *names[] = { CA_BUNDLE_PS1, CA_BUNDLE_MACOS };
	size_t i;
	enum kr_err rc;

	if ((rc = make_scripts(m, anchors, &mine, err)) != KR_OK)
		return rc;
	for (i = 0; i < 2; i++) {
		x = ca_files_get(b, names[i]);
		y = ca_files_get(&mine, names[i]);
		if (x == NULL || y == NULL || x->len != y->len ||
		    memcmp(x->data, y->data, x->len) != 0) {
			rc = kr_fail(err, KR_E_VERIFY, "%s: not the script "
			    "keyrite makes for this manifest", names[i]);
			break;
		}
	}
	ca_files_free(&mine);
	return rc;
}

static enum kr_err
read_cert_file(const struct ca_file *f, X509 **out, struct kr_error *err)
{
	BIO *b = NULL, *w = NULL;
	char *data;
	long n;
	enum kr_err rc;

	*out = NULL;
	if (f->len > INT_MAX || (b = BIO_new_mem_buf(f->data,
	    (int)f->len)) == NULL || (w = BIO_new(BIO_s_mem())) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if ((*out = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL ||
	    PEM_write_bio_X509(w, *out) != 1 ||
	    (n = BIO_get_mem_data(w, &data)) < 0 || (size_t)n != f->len ||
	    memcmp(data, f->data, f->len) != 0) {
		rc = kr_fail(err, KR_E_PARSE, "%s: not exactly one PEM "
		    "certificate", f->name);
		goto out;
	}
	rc = KR_OK;
out:
	if (rc != KR_OK) {
		X509_free(*out);
		*out = NULL;
	}
	BIO_free(b);
	BIO_free(w);
	ERR_clear_error();
	return rc;
}

/* Are the certificates of sk exactly anchors[0..n), in that order? */
static int
same_certs(const STACK_OF(X509) *sk, X509 *const *anchors, size_t n)
{
	size_t i;

	if (sk == NULL || (size_t)sk_X509_num(sk) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (X509_cmp(sk_X509_value(sk, (int)i), anchors[i]) != 0)
			return 0;
	return 1;
}

static enum kr_err
check_p7b(const struct ca_file *f, X509 *const *anchors, size_t n,
    struct kr_error *err)
{
	const unsigned char *p = f->data;
	PKCS7 *p7;
	int ok;

	p7 = d2i_PKCS7(NULL, &p, (long)f->len);
	ok = p7 != NULL && p == f->data + f->len && PKCS7_type_is_signed(p7) &&
	    p7->d.sign != NULL && same_certs(p7->d.sign->cert, anchors, n);
	PKCS7_free(p7);
	ERR_clear_error();
	if (!ok)
		return kr_fail(err, KR_E_VERIFY, "%s: does not hold exactly "
		    "the bundle's anchors", f->name);
	return KR_OK;
}

/*
 * The truststore: its MAC verifies under the public password, and its
 * bags are certificate bags, each trusted for Java, holding exactly
 * the anchors in order.
 */
static enum kr_err
check_p12(const struct ca_file *f, X509 *const *anchors, size_t n,
    struct kr_error *err)
{
	const unsigned char *p = f->data;
	STACK_OF(PKCS7) *safes = NULL;
	STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
	STACK_OF(X509) *certs = NULL;
	const STACK_OF(X509_ATTRIBUTE) *attrs;
	const PKCS12_SAFEBAG *bag;
	ASN1_OBJECT *trust = NULL;
	PKCS12 *p12 = NULL;
	X509 *x;
	int i, j, ok = 0;

	if ((p12 = d2i_PKCS12(NULL, &p, (long)f->len)) == NULL ||
	    p != f->data + f->len ||
	    PKCS12_verify_mac(p12, CA_BUNDLE_P12_PASS, -1) != 1 ||
	    (safes = PKCS12_unpack_authsafes(p12)) == NULL ||
	    (certs = sk_X509_new_null()) == NULL ||
	    (trust = OBJ_txt2obj(OID_JDK_TRUST, 1)) == NULL)
		goto out;
	for (i = 0; i < sk_PKCS7_num(safes); i++) {
		if (OBJ_obj2nid(sk_PKCS7_value(safes, i)->type) !=
		    NID_pkcs7_data ||
		    (bags = PKCS12_unpack_p7data(sk_PKCS7_value(safes, i))) ==
		    NULL)
			goto out;
		for (j = 0; j < sk_PKCS12_SAFEBAG_num(bags); j++) {
			bag = sk_PKCS12_SAFEBAG_value(bags, j);
			attrs = PKCS12_SAFEBAG_get0_attrs(bag);
			if (PKCS12_SAFEBAG_get_nid(bag) != NID_certBag ||
			    X509at_get_attr_by_OBJ(attrs, trust, -1) < 0 ||
			    (x = PKCS12_SAFEBAG_get1_cert(bag)) == NULL)
				goto out;
			if (sk_X509_push(certs, x) == 0) {
				X509_free(x);
				goto out;
			}
		}
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
		bags = NULL;
	}
	ok = same_certs(certs, anchors, n);
out:
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	sk_X509_pop_free(certs, X509_free);
	ASN1_OBJECT_free(trust);
	PKCS12_free(p12);
	ERR_clear_error();
	if (!ok)
		return kr_fail(err, KR_E_VERIFY, "%s: not a truststore of "
		    "exactly the bundle's anchors (password %s)", f->name,
		    CA_BUNDLE_P12_PASS);
	return KR_OK;
}

/* Fill a manifest's anchor entry from the certificate. */
static enum kr_err
anchor_entry(X509 *x, struct ca_bundle_anchor *a, struct kr_error *err)
{
	enum kr_err rc;

	ca_cert_sha256(x, a->sha256);
	ca_spki_sha256(x, a->spki_sha256);
	if ((a->subject = name_text(X509_get_subject_name(x))) == NULL ||
	    !printable(a->subject, SUBJECT_MAX))
		return kr_fail(err, KR_E_POLICY, "an anchor's subject is "
		    "empty or too long for a bundle");
	if (ca_time_from_asn1(X509_get0_notBefore(x), &a->not_before) != 0 ||
	    ca_time_from_asn1(X509_get0_notAfter(x), &a->not_after) != 0)
		return kr_fail(err, KR_E_PARSE, "an anchor's validity cannot "
		    "be read");
	if ((rc = cert_file_name("anchor", a->sha256, &a->file, err)) !=
	    KR_OK)
		return rc;
	return KR_OK;
}

static enum kr_err
cross_entry(X509 *x, struct ca_bundle_cross *c, struct kr_error *err)
{
	ca_cert_sha256(x, c->sha256);
	if ((c->subject = name_text(X509_get_subject_name(x))) == NULL ||
	    !printable(c->subject, SUBJECT_MAX) ||
	    (c->issuer = name_text(X509_get_issuer_name(x))) == NULL ||
	    !printable(c->issuer, SUBJECT_MAX))
		return kr_fail(err, KR_E_POLICY, "a cross-certificate's names "
		    "are empty or too long for a bundle");
	return cert_file_name("cross", c->sha256, &c->file, err);
}

/* Write x as PEM into the set under name. */
static enum kr_err
put_cert(struct ca_files *f, const char *name, X509 *x, struct kr_error *err)
{
	BIO *b;
	enum kr_err rc;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	if ((rc = cert_pem(b, x, err)) == KR_OK)
		rc = put_bio(f, name, b, err);
	BIO_free(b);
	return rc;
}

enum kr_err
ca_bundle_build(const struct ca_bundle_spec *s, struct ca_files *out,
    struct kr_error *err)
{
	struct ca_manifest m, prev;
	const struct ca_file *ef;
	char what[48], when[32], *text = NULL;
	size_t i, j, len, nactive = 0;
	enum kr_err rc;

	memset(&m, 0, sizeof(m));
	memset(&prev, 0, sizeof(prev));
	memset(out, 0, sizeof(*out));
	if (s->nanchors < 1 || s->nanchors > CA_BUNDLE_MAX_ANCHORS ||
	    s->ncross > CA_BUNDLE_MAX_CROSS) {
		rc = kr_fail(err, KR_E_USAGE, "a bundle holds 1 to %d anchors "
		    "and at most %d cross-certificates", CA_BUNDLE_MAX_ANCHORS,
		    CA_BUNDLE_MAX_CROSS);
		goto out;
	}
	if (s->lifetime <= 0 || s->lifetime > CA_BUNDLE_MAX_LIFETIME) {
		rc = kr_fail(err, KR_E_USAGE, "a bundle expires after at most "
		    "%lld days", CA_BUNDLE_MAX_LIFETIME / 86400);
		goto out;
	}
	m.version = 1;
	if (s->prev != NULL) {
		if ((rc = ca_manifest_parse(s->prev, s->prevlen, &prev,
		    err)) != KR_OK) {
			kr_error_prefix(err, "the previous bundle");
			goto out;
		}
		if (prev.version >= VERSION_MAX) {
			rc = kr_fail(err, KR_E_STATE, "the previous bundle's "
			    "version is the last one");
			goto out;
		}
		if (s->now < prev.issued_at) {
			ca_time_rfc3339(prev.issued_at, when);
			rc = kr_fail(err, KR_E_STATE, "the previous bundle was "
			    "issued at %s, later than now; check the clock",
			    when);
			goto out;
		}
		m.version = prev.version + 1;
		m.has_previous = 1;
		sha256(s->prev, s->prevlen, m.previous);
	}
	m.issued_at = s->now;
	m.expires = s->now + (time_t)s->lifetime;
	if ((m.anchors = calloc(s->nanchors, sizeof(*m.anchors))) == NULL ||
	    (s->ncross > 0 && (m.cross = calloc(s->ncross,
	    sizeof(*m.cross))) == NULL) ||
	    (m.exports = calloc(NEXPORTS, sizeof(*m.exports))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < s->nanchors; i++) {
		snprintf(what, sizeof(what), "anchor %zu", i + 1);
		m.nanchors = i + 1;
		if ((rc = anchor_ok(s->anchors[i], s->now, what, err)) !=
		    KR_OK ||
		    (rc = anchor_entry(s->anchors[i], &m.anchors[i], err)) !=
		    KR_OK)
			goto out;
		for (j = 0; j < i; j++)
			if (memcmp(m.anchors[i].sha256, m.anchors[j].sha256,
			    32) == 0) {
				rc = kr_fail(err, KR_E_USAGE, "anchors %zu and "
				    "%zu are the same certificate", j + 1,
				    i + 1);
				goto out;
			}
		m.anchors[i].state = s->states[i];
		switch (s->states[i]) {
		case CA_ANCHOR_ACTIVE:
			nactive++;
			break;
		case CA_ANCHOR_NEXT:
			break;
		case CA_ANCHOR_RETIRING:
			if (s->remove_after <= s->now) {
				rc = kr_fail(err, KR_E_USAGE, "%s is retiring: "
				    "give a remove-after time in the future",
				    what);
				goto out;
			}
			m.anchors[i].remove_after = s->remove_after;
			break;
		default:
			rc = kr_fail(err, KR_E_USAGE, "%s has no state", what);
			goto out;
		}
	}
	if (nactive == 0) {
		rc = kr_fail(err, KR_E_USAGE, "no anchor is active; one at "
		    "least must be the root that issues now");
		goto out;
	}
	for (i = 0; i < s->ncross; i++) {
		snprintf(what, sizeof(what), "cross-certificate %zu", i + 1);
		m.ncross = i + 1;
		if ((rc = cross_ok(s->cross[i], s->anchors, s->nanchors, what,
		    err)) != KR_OK ||
		    (rc = cross_entry(s->cross[i], &m.cross[i], err)) != KR_OK)
			goto out;
		for (j = 0; j < i; j++)
			if (memcmp(m.cross[i].sha256, m.cross[j].sha256,
			    32) == 0) {
				rc = kr_fail(err, KR_E_USAGE, "cross-"
				    "certificates %zu and %zu are the same",
				    j + 1, i + 1);
				goto out;
			}
	}
	for (i = 0; i < s->nanchors; i++)
		if ((rc = put_cert(out, m.anchors[i].file, s->anchors[i],
		    err)) != KR_OK)
			goto out;
	for (i = 0; i < s->ncross; i++)
		if ((rc = put_cert(out, m.cross[i].file, s->cross[i], err)) !=
		    KR_OK)
			goto out;
	if ((rc = make_pem(s->anchors, s->nanchors, out, err)) != KR_OK ||
	    (rc = make_p7b(s->anchors, s->nanchors, out, err)) != KR_OK ||
	    (rc = make_p12(s->anchors, s->nanchors, out, err)) != KR_OK ||
	    (rc = make_scripts(&m, s->anchors, out, err)) != KR_OK)
		goto out;
	for (i = 0; i < NEXPORTS; i++) {
		m.nexports = i + 1;
		if ((rc = dup_into(export_names[i], &m.exports[i].file,
		    err)) != KR_OK)
			goto out;
		if ((ef = ca_files_get(out, export_names[i])) == NULL) {
			rc = kr_fail(err, KR_E_INTERNAL, "lost %s",
			    export_names[i]);
			goto out;
		}
		sha256(ef->data, ef->len, m.exports[i].sha256);
	}
	if ((rc = manifest_unique(&m, err)) != KR_OK ||
	    (rc = ca_manifest_encode(&m, &text, &len, err)) != KR_OK ||
	    (rc = ca_files_put(out, CA_BUNDLE_MANIFEST, text, len, err)) !=
	    KR_OK)
		goto out;
	/* What was made must pass what every reader will check. */
	if ((rc = ca_bundle_check(out, NULL, err)) != KR_OK) {
		kr_error_prefix(err, "the new bundle fails its own check");
		rc = KR_E_INTERNAL;
		goto out;
	}
	ca_files_sort(out);
	rc = KR_OK;
out:
	free(text);
	ca_manifest_free(&m);
	ca_manifest_free(&prev);
	if (rc != KR_OK)
		ca_files_free(out);
	return rc;
}

static void
free_x509s(X509 **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		X509_free(v[i]);
	free(v);
}

/* The file the manifest names, with the hash it gives. */
static enum kr_err
listed_file(const struct ca_files *b, const char *name, const uint8_t h[32],
    const struct ca_file **out, struct kr_error *err)
{
	uint8_t got[32];

	if ((*out = ca_files_get(b, name)) == NULL)
		return kr_fail(err, KR_E_VERIFY, "%s: listed in the manifest "
		    "but missing", name);
	sha256((*out)->data, (*out)->len, got);
	if (memcmp(got, h, 32) != 0)
		return kr_fail(err, KR_E_VERIFY, "%s: its SHA-256 is not the "
		    "one the manifest gives (changed or damaged)", name);
	return KR_OK;
}

/* Does the certificate say what the manifest says of it? */
static enum kr_err
anchor_agrees(X509 *x, const struct ca_bundle_anchor *a,
    struct kr_error *err)
{
	uint8_t h[32];
	char *subj;
	time_t nb = 0, na = 0;
	int ok;

	ca_cert_sha256(x, h);
	ok = memcmp(h, a->sha256, 32) == 0;
	ca_spki_sha256(x, h);
	ok = ok && memcmp(h, a->spki_sha256, 32) == 0;
	subj = name_text(X509_get_subject_name(x));
	ok = ok && subj != NULL && strcmp(subj, a->subject) == 0;
	free(subj);
	ok = ok && ca_time_from_asn1(X509_get0_notBefore(x), &nb) == 0 &&
	    ca_time_from_asn1(X509_get0_notAfter(x), &na) == 0 &&
	    nb == a->not_before && na == a->not_after;
	if (!ok)
		return kr_fail(err, KR_E_VERIFY, "%s: the certificate's "
		    "fingerprint, key, subject or validity is not what the "
		    "manifest says", a->file);
	return KR_OK;
}

static enum kr_err
cross_agrees(X509 *x, const struct ca_bundle_cross *c, struct kr_error *err)
{
	uint8_t h[32];
	char *subj, *iss;
	int ok;

	ca_cert_sha256(x, h);
	subj = name_text(X509_get_subject_name(x));
	iss = name_text(X509_get_issuer_name(x));
	ok = memcmp(h, c->sha256, 32) == 0 && subj != NULL && iss != NULL &&
	    strcmp(subj, c->subject) == 0 && strcmp(iss, c->issuer) == 0;
	free(subj);
	free(iss);
	if (!ok)
		return kr_fail(err, KR_E_VERIFY, "%s: the certificate's "
		    "fingerprint, subject or issuer is not what the manifest "
		    "says", c->file);
	return KR_OK;
}

enum kr_err
ca_bundle_check(const struct ca_files *b, struct ca_manifest *mout,
    struct kr_error *err)
{
	struct ca_manifest m;
	const struct ca_file *mf, *f;
	X509 **anchors = NULL, **cross = NULL;
	BIO *pem = NULL;
	char what[48], *data;
	long plen;
	size_t i, j, nanchors = 0, ncross = 0;
	int listed;
	enum kr_err rc;

	memset(&m, 0, sizeof(m));
	if (mout != NULL)
		memset(mout, 0, sizeof(*mout));
	if ((mf = ca_files_get(b, CA_BUNDLE_MANIFEST)) == NULL) {
		rc = kr_fail(err, KR_E_PARSE, "%s is missing: not a bundle",
		    CA_BUNDLE_MANIFEST);
		goto out;
	}
	if ((rc = ca_manifest_parse(mf->data, mf->len, &m, err)) != KR_OK)
		goto out;
	/* Nothing is there that the manifest does not vouch for. */
	for (i = 0; i < b->n; i++) {
		const char *name = b->v[i].name;

		listed = strcmp(name, CA_BUNDLE_MANIFEST) == 0 ||
		    strcmp(name, CA_BUNDLE_SIG) == 0;
		for (j = 0; !listed && j < m.nanchors; j++)
			listed = strcmp(name, m.anchors[j].file) == 0;
		for (j = 0; !listed && j < m.ncross; j++)
			listed = strcmp(name, m.cross[j].file) == 0;
		for (j = 0; !listed && j < m.nexports; j++)
			listed = strcmp(name, m.exports[j].file) == 0;
		if (!listed) {
			rc = kr_fail(err, KR_E_VERIFY, "%s: not listed in the "
			    "manifest", name);
			goto out;
		}
	}
	if ((anchors = calloc(m.nanchors, sizeof(*anchors))) == NULL ||
	    (cross = calloc(m.ncross + 1, sizeof(*cross))) == NULL ||
	    (pem = BIO_new(BIO_s_mem())) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < m.nanchors; i++) {
		snprintf(what, sizeof(what), "%s", m.anchors[i].file);
		/*
		 * The manifest's sha256 is the certificate's fingerprint;
		 * the file must be its one PEM form, which binds it too.
		 */
		if ((f = ca_files_get(b, m.anchors[i].file)) == NULL) {
			rc = kr_fail(err, KR_E_VERIFY, "%s: listed in the "
			    "manifest but missing", m.anchors[i].file);
			goto out;
		}
		nanchors = i + 1;
		if ((rc = read_cert_file(f, &anchors[i], err)) != KR_OK ||
		    (rc = anchor_agrees(anchors[i], &m.anchors[i], err)) !=
		    KR_OK ||
		    (rc = anchor_ok(anchors[i], 0, what, err)) != KR_OK)
			goto out;
		if ((rc = cert_pem(pem, anchors[i], err)) != KR_OK)
			goto out;
	}
	for (i = 0; i < m.ncross; i++) {
		snprintf(what, sizeof(what), "%s", m.cross[i].file);
		if ((f = ca_files_get(b, m.cross[i].file)) == NULL) {
			rc = kr_fail(err, KR_E_VERIFY, "%s: listed in the "
			    "manifest but missing", m.cross[i].file);
			goto out;
		}
		ncross = i + 1;
		if ((rc = read_cert_file(f, &cross[i], err)) != KR_OK ||
		    (rc = cross_agrees(cross[i], &m.cross[i], err)) != KR_OK ||
		    (rc = cross_ok(cross[i], anchors, m.nanchors, what,
		    err)) != KR_OK)
			goto out;
	}
	for (i = 0; i < m.nexports; i++)
		if ((rc = listed_file(b, m.exports[i].file,
		    m.exports[i].sha256, &f, err)) != KR_OK)
			goto out;
	f = ca_files_get(b, CA_BUNDLE_PEM);
	if ((plen = BIO_get_mem_data(pem, &data)) < 0 ||
	    (size_t)plen != f->len || memcmp(data, f->data, f->len) != 0) {
		rc = kr_fail(err, KR_E_VERIFY, "%s: not the anchors' PEM "
		    "certificates, in manifest order", CA_BUNDLE_PEM);
		goto out;
	}
	if ((rc = check_p7b(ca_files_get(b, CA_BUNDLE_P7B), anchors,
	    m.nanchors, err)) != KR_OK ||
	    (rc = check_p12(ca_files_get(b, CA_BUNDLE_P12), anchors,
	    m.nanchors, err)) != KR_OK ||
	    (rc = check_scripts(b, &m, anchors, err)) != KR_OK)
		goto out;
	if (mout != NULL) {
		*mout = m;
		memset(&m, 0, sizeof(m));
	}
	rc = KR_OK;
out:
	free_x509s(anchors, nanchors);
	free_x509s(cross, ncross);
	BIO_free(pem);
	ca_manifest_free(&m);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Signatures                                                          */
/* ------------------------------------------------------------------ */

struct enc {
	unsigned char	*der;
	size_t		 len;
};

/* X.690 11.6: SET OF components in ascending order of their encodings. */
static int
enc_cmp(const void *a, const void *b)
{
	const struct enc *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	if ((c = memcmp(x->der, y->der, n)) != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/*
 * The bytes a SignerInfo's signature covers (RFC 5652 5.4): the DER of
 * its signed attributes with an explicit SET OF tag, not the [0] they
 * carry inside the SignerInfo.  Written here from each attribute's DER,
 * sorted as DER sorts a SET OF, so the signer never needs OpenSSL's
 * private encoder; OpenSSL's verifier re-encodes the same bytes.
 */
static enum kr_err
signed_attrs_der(CMS_SignerInfo *si, unsigned char **out, size_t *outlen,
    struct kr_error *err)
{
	struct enc *e = NULL;
	unsigned char *b = NULL, *p;
	size_t total = 0, i;
	int n, k;
	enum kr_err rc;

	*out = NULL;
	*outlen = 0;
	if ((n = CMS_signed_get_attr_count(si)) <= 0) {
		rc = kr_fail(err, KR_E_INTERNAL, "no signed attributes");
		goto out;
	}
	if ((e = calloc((size_t)n, sizeof(*e))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (k = 0; k < n; k++) {
		int l = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, k),
		    &e[k].der);

		if (l <= 0) {
			rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode a "
			    "signed attribute");
			goto out;
		}
		e[k].len = (size_t)l;
		total += (size_t)l;
	}
	qsort(e, (size_t)n, sizeof(*e), enc_cmp);
	if ((b = malloc(1 + ca_der_len(total, NULL) + total)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	p = b;
	*p++ = 0x31;
	p += ca_der_len(total, p);
	for (i = 0; i < (size_t)n; i++) {
		memcpy(p, e[i].der, e[i].len);
		p += e[i].len;
	}
	*out = b;
	*outlen = (size_t)(p - b);
	b = NULL;
	rc = KR_OK;
out:
	for (k = 0; e != NULL && k < n; k++)
		OPENSSL_free(e[k].der);
	free(e);
	free(b);
	return rc;
}

/*
 * Parse manifest.json.sig: DER, all of it; a SignedData whose content
 * is id-data and detached; 1 to CA_BUNDLE_MAX_SIGNERS SignerInfos.
 */
static enum kr_err
sig_parse(const struct ca_file *f, CMS_ContentInfo **out,
    struct kr_error *err)
{
	const unsigned char *p = f->data;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *si;
	int n;
	enum kr_err rc;

	*out = NULL;
	if (f->len > CA_BUNDLE_SIG_MAX || f->len > LONG_MAX) {
		rc = kr_fail(err, KR_E_PARSE, "%s: too large", f->name);
		goto out;
	}
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)f->len)) == NULL ||
	    p != f->data + f->len) {
		rc = kr_fail(err, KR_E_PARSE, "%s: not a DER CMS structure",
		    f->name);
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
	    OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data ||
	    CMS_is_detached(cms) != 1) {
		rc = kr_fail(err, KR_E_PARSE, "%s: not a detached CMS "
		    "SignedData over data", f->name);
		goto out;
	}
	si = CMS_get0_SignerInfos(cms);
	n = sk_CMS_SignerInfo_num(si);
	if (n < 1 || n > CA_BUNDLE_MAX_SIGNERS) {
		rc = kr_fail(err, KR_E_PARSE, "%s: %d signatures; a bundle "
		    "carries 1 to %d", f->name, n < 0 ? 0 : n,
		    CA_BUNDLE_MAX_SIGNERS);
		goto out;
	}
	*out = cms;
	cms = NULL;
	rc = KR_OK;
out:
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return rc;
}

/*
 * Is the SignerInfo about these bytes?  Its digest algorithm is SHA-2,
 * its single message-digest attribute is the digest of msg, and its
 * single content-type attribute is id-data.  If not, why says so.
 */
static int
si_about(CMS_SignerInfo *si, const uint8_t *msg, size_t len, char *why,
    size_t whysz)
{
	X509_ALGOR *dig = NULL;
	ASN1_OCTET_STRING *os;
	ASN1_OBJECT *ct;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int nid;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
	nid = dig != NULL ? OBJ_obj2nid(dig->algorithm) : NID_undef;
	if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512) {
		snprintf(why, whysz, "its digest is not SHA-256, SHA-384 or "
		    "SHA-512");
		return 0;
	}
	os = CMS_signed_get0_data_by_OBJ(si,
	    OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING);
	ct = CMS_signed_get0_data_by_OBJ(si,
	    OBJ_nid2obj(NID_pkcs9_contentType), -3, V_ASN1_OBJECT);
	ERR_clear_error();
	if (os == NULL || ct == NULL || OBJ_obj2nid(ct) != NID_pkcs7_data) {
		snprintf(why, whysz, "no single message-digest and "
		    "content-type (data) attribute");
		return 0;
	}
	if (EVP_Digest(msg, len, md, &mdlen, EVP_get_digestbynid(nid),
	    NULL) != 1 || (int)mdlen != ASN1_STRING_length(os) ||
	    CRYPTO_memcmp(md, ASN1_STRING_get0_data(os), mdlen) != 0) {
		ERR_clear_error();
		snprintf(why, whysz, "made over another %s (changed since it "
		    "was signed)", CA_BUNDLE_MANIFEST);
		return 0;
	}
	return 1;
}

/* Does the signature over the signed attributes verify under x's key? */
static int
si_verifies(CMS_SignerInfo *si, X509 *x)
{
	int r;

	CMS_SignerInfo_set1_signer_cert(si, x);
	r = CMS_SignerInfo_verify(si);
	CMS_SignerInfo_set1_signer_cert(si, NULL);
	ERR_clear_error();
	return r == 1;
}

/* The certificate the SignedData carries for the SignerInfo, if any. */
static X509 *
si_carried_cert(CMS_SignerInfo *si, STACK_OF(X509) *carried)
{
	int i;

	for (i = 0; i < sk_X509_num(carried); i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(carried, i)) ==
		    0)
			return sk_X509_value(carried, i);
	return NULL;
}

/* The key id or issuer and serial a SignerInfo names, for messages. */
static void
si_describe(CMS_SignerInfo *si, char *buf, size_t sz)
{
	ASN1_OCTET_STRING *kid = NULL;
	X509_NAME *iss = NULL;
	ASN1_INTEGER *sno = NULL;
	char hex[2 * 64 + 1], *n;
	int len;

	snprintf(buf, sz, "an unknown key");
	if (CMS_SignerInfo_get0_signer_id(si, &kid, &iss, &sno) != 1)
		return;
	if (kid != NULL) {
		len = ASN1_STRING_length(kid);
		if (len > 64)
			len = 64;
		kr_hex(ASN1_STRING_get0_data(kid), (size_t)len, hex);
		snprintf(buf, sz, "an unknown key (key id %s)", hex);
	} else if (iss != NULL && (n = name_text(iss)) != NULL) {
		snprintf(buf, sz, "an unknown key (a certificate issued by "
		    "%s)", n);
		free(n);
	}
}

/* Check each SignerInfo of cms over msg; see ca_bundle_sigs. */
static enum kr_err
sigs_check(CMS_ContentInfo *cms, const uint8_t *msg, size_t len,
    X509 *const *trust, size_t ntrust, struct ca_bundle_sigs *out,
    struct kr_error *err)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	STACK_OF(X509) *carried = CMS_get1_certs(cms);
	struct ca_bundle_sig *r;
	CMS_SignerInfo *si;
	X509 *x;
	size_t i, t, k;

	memset(out, 0, sizeof(*out));
	ERR_clear_error();
	for (i = 0; i < (size_t)sk_CMS_SignerInfo_num(sis) &&
	    i < CA_BUNDLE_MAX_SIGNERS; i++) {
		si = sk_CMS_SignerInfo_value(sis, (int)i);
		r = &out->v[out->n++];
		si_describe(si, r->who, sizeof(r->who));
		x = si_carried_cert(si, carried);
		if (x != NULL)
			who(x, r->who, sizeof(r->who));
		if (!si_about(si, msg, len, r->why, sizeof(r->why)))
			continue;
		/* Trust is in keys: any trusted root whose key verifies. */
		for (t = 0; t < ntrust && !r->valid; t++)
			if (si_verifies(si, trust[t])) {
				r->valid = r->trusted = r->key_known = 1;
				ca_spki_sha256(trust[t], r->spki_sha256);
				who(trust[t], r->who, sizeof(r->who));
			}
		if (!r->valid && x != NULL) {
			r->key_known = 1;
			ca_spki_sha256(x, r->spki_sha256);
			if (si_verifies(si, x))
				r->valid = 1;
			else
				snprintf(r->why, sizeof(r->why), "the "
				    "signature does not verify");
		} else if (!r->valid)
			snprintf(r->why, sizeof(r->why), "no trusted root's "
			    "key verifies it, and it carries no certificate "
			    "for its key");
		if (!r->valid || !r->trusted)
			continue;
		/* Each key counts once, however many certificates carry it. */
		r->counted = 1;
		for (k = 0; k + 1 < out->n; k++)
			if (out->v[k].counted && memcmp(out->v[k].spki_sha256,
			    r->spki_sha256, 32) == 0)
				r->counted = 0;
		if (r->counted)
			out->ntrusted++;
	}
	sk_X509_pop_free(carried, X509_free);
	ERR_clear_error();
	(void)err;
	return KR_OK;
}

enum kr_err
ca_bundle_sigs(const struct ca_files *b, X509 *const *trust, size_t ntrust,
    struct ca_bundle_sigs *out, struct kr_error *err)
{
	const struct ca_file *mf, *sf;
	CMS_ContentInfo *cms = NULL;
	enum kr_err rc;

	memset(out, 0, sizeof(*out));
	if ((mf = ca_files_get(b, CA_BUNDLE_MANIFEST)) == NULL)
		return kr_fail(err, KR_E_PARSE, "%s is missing: not a bundle",
		    CA_BUNDLE_MANIFEST);
	if ((sf = ca_files_get(b, CA_BUNDLE_SIG)) == NULL)
		return kr_fail(err, KR_E_VERIFY, "%s is missing: the bundle "
		    "is not signed (keyrite bundle sign)", CA_BUNDLE_SIG);
	if ((rc = sig_parse(sf, &cms, err)) != KR_OK)
		return rc;
	rc = sigs_check(cms, mf->data, mf->len, trust, ntrust, out, err);
	CMS_ContentInfo_free(cms);
	return rc;
}

/* The bundle's anchors and cross-certificates, as listed in m. */
static enum kr_err
bundle_certs(const struct ca_files *b, const struct ca_manifest *m,
    X509 ***anchors, X509 ***cross, struct kr_error *err)
{
	size_t i;
	enum kr_err rc = KR_OK;

	*anchors = calloc(m->nanchors + 1, sizeof(**anchors));
	*cross = calloc(m->ncross + 1, sizeof(**cross));
	if (*anchors == NULL || *cross == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; rc == KR_OK && i < m->nanchors; i++)
		rc = read_cert_file(ca_files_get(b, m->anchors[i].file),
		    &(*anchors)[i], err);
	for (i = 0; rc == KR_OK && i < m->ncross; i++)
		rc = read_cert_file(ca_files_get(b, m->cross[i].file),
		    &(*cross)[i], err);
	return rc;
}

/* The cross-certificate for key k issued by root, if the bundle has one. */
static X509 *
cross_for(EVP_PKEY *k, X509 *root, X509 *const *cross, size_t nc)
{
	size_t i;
	int ok;

	for (i = 0; i < nc; i++) {
		ok = EVP_PKEY_eq(X509_get0_pubkey(cross[i]), k) == 1 &&
		    X509_check_issued(root, cross[i]) == X509_V_OK &&
		    X509_verify(cross[i], X509_get0_pubkey(root)) == 1;
		ERR_clear_error();
		if (ok)
			return cross[i];
	}
	return NULL;
}

/*
 * The one certificate a SignedData carries for anchor a's key, a
 * function of the bundle alone (so signatures added in any order agree,
 * and no key ever has two certificates there, which would leave the
 * verifier's choice to DER sort order): the cross-certificate of a's
 * key by the first anchor p (in manifest order) that a is
 * cross-certified with both ways; else by the first anchor p that
 * cross-certified a at all (the reason a cross-certificate exists is to
 * let those who trust p reach a); else a itself.  *partner is p, or -1.
 */
static X509 *
carried_for(size_t a, X509 *const *anchors, size_t na, X509 *const *cross,
    size_t nc, long *partner)
{
	EVP_PKEY *ka = X509_get0_pubkey(anchors[a]);
	X509 *c, *first = NULL;
	size_t p;

	*partner = -1;
	for (p = 0; p < na; p++) {
		if (p == a ||
		    EVP_PKEY_eq(X509_get0_pubkey(anchors[p]), ka) == 1)
			continue;
		if ((c = cross_for(ka, anchors[p], cross, nc)) == NULL)
			continue;
		if (cross_for(X509_get0_pubkey(anchors[p]), anchors[a], cross,
		    nc) != NULL) {
			*partner = (long)p;
			return c;
		}
		if (first == NULL) {
			first = c;
			*partner = (long)p;
		}
	}
	ERR_clear_error();
	return first != NULL ? first : anchors[a];
}

/*
 * What a signature by signcert's key carries, so that `openssl cms
 * -verify -CAfile ROOT` finds a chain from the signer to ROOT: the
 * certificate carried_for() gives the signer's anchor and the one it
 * gives the anchor that cross-certified it.  With two roots
 * cross-certified both ways, either root alone then verifies every
 * signature: old key -> cross(old by new) -> new, and -> cross(new by
 * old) -> old.  A key that is no anchor's carries signcert.  *sid is
 * the certificate that names the signer.  Certificates already there
 * are not added twice.
 */
static enum kr_err
carry_certs(CMS_ContentInfo *cms, X509 *const *anchors, size_t na,
    X509 *const *cross, size_t nc, X509 *signcert, X509 **sid,
    int add, struct kr_error *err)
{
	STACK_OF(X509) *have = NULL;
	X509 *want[2] = { signcert, NULL };
	long partner = -1, unused;
	size_t a, i;
	int j, dup;
	enum kr_err rc = KR_OK;

	for (a = 0; a < na; a++)
		if (EVP_PKEY_eq(X509_get0_pubkey(anchors[a]),
		    X509_get0_pubkey(signcert)) == 1) {
			want[0] = carried_for(a, anchors, na, cross, nc,
			    &partner);
			break;
		}
	ERR_clear_error();
	if (partner >= 0)
		want[1] = carried_for((size_t)partner, anchors, na, cross, nc,
		    &unused);
	*sid = want[0];
	if (!add)
		return KR_OK;
	have = CMS_get1_certs(cms);
	for (i = 0; i < 2 && want[i] != NULL && rc == KR_OK; i++) {
		dup = 0;
		for (j = 0; j < sk_X509_num(have); j++)
			if (X509_cmp(sk_X509_value(have, j), want[i]) == 0)
				dup = 1;
		if (!dup && CMS_add1_cert(cms, want[i]) != 1)
			rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot add a "
			    "certificate to the signature");
	}
	ERR_clear_error();
	sk_X509_pop_free(have, X509_free);
	return rc;
}

enum kr_err
ca_bundle_sign_check(const struct ca_files *b, X509 *signcert,
    struct kr_error *err)
{
	const struct ca_file *mf, *sf;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	CMS_SignerInfo *si;
	char why[160], buf[256];
	int i;
	enum kr_err rc;

	if ((rc = ca_bundle_check(b, NULL, err)) != KR_OK)
		return rc;
	if (X509_check_ca(signcert) != 1 ||
	    X509_get0_subject_key_id(signcert) == NULL) {
		ERR_clear_error();
		return kr_fail(err, KR_E_USAGE, "%s: not a CA certificate "
		    "with a subjectKeyIdentifier; a bundle is signed by "
		    "roots", who(signcert, buf, sizeof(buf)));
	}
	mf = ca_files_get(b, CA_BUNDLE_MANIFEST);
	if ((sf = ca_files_get(b, CA_BUNDLE_SIG)) == NULL)
		return KR_OK;
	if ((rc = sig_parse(sf, &cms, err)) != KR_OK)
		return rc;
	sis = CMS_get0_SignerInfos(cms);
	if (sk_CMS_SignerInfo_num(sis) >= CA_BUNDLE_MAX_SIGNERS) {
		rc = kr_fail(err, KR_E_USAGE, "%s: already carries %d "
		    "signatures, the most a bundle holds", CA_BUNDLE_SIG,
		    CA_BUNDLE_MAX_SIGNERS);
		goto out;
	}
	for (i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
		si = sk_CMS_SignerInfo_value(sis, i);
		if (!si_about(si, mf->data, mf->len, why, sizeof(why))) {
			rc = kr_fail(err, KR_E_STATE, "%s: signature %d is "
			    "%s; build the bundle again and have every root "
			    "sign the new one", CA_BUNDLE_SIG, i + 1, why);
			goto out;
		}
		if (CMS_SignerInfo_cert_cmp(si, signcert) == 0 ||
		    si_verifies(si, signcert)) {
			rc = kr_fail(err, KR_E_EXISTS, "%s: already signed by "
			    "this key (%s); each key signs once",
			    CA_BUNDLE_SIG, who(signcert, buf, sizeof(buf)));
			goto out;
		}
	}
	rc = KR_OK;
out:
	ERR_clear_error();
	CMS_ContentInfo_free(cms);
	return rc;
}

enum kr_err
ca_bundle_sign(struct ca_files *b, const struct ca_signer *s,
    X509 *signcert, time_t now, struct kr_error *err)
{
	struct ca_manifest m;
	struct ca_bundle_sigs chk;
	struct ca_files probe = { 0 };
	const struct ca_file *mf, *sf;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	X509 **anchors = NULL, **cross = NULL, *sidcert = NULL;
	ASN1_TIME *st = NULL;
	const EVP_MD *md;
	unsigned char dg[EVP_MAX_MD_SIZE], *attrs = NULL, *sig = NULL;
	unsigned char *der = NULL;
	unsigned int dglen = 0;
	size_t attrslen = 0, siglen = 0, before = 0;
	int derlen;
	enum kr_err rc;

	memset(&m, 0, sizeof(m));
	if (s == NULL || s->pub == NULL || s->sign == NULL) {
		rc = kr_fail(err, KR_E_INTERNAL, "no signer");
		goto out;
	}
	if (EVP_PKEY_eq(s->pub, X509_get0_pubkey(signcert)) != 1) {
		ERR_clear_error();
		rc = kr_fail(err, KR_E_USAGE, "the signing key is not the key "
		    "of the certificate given");
		goto out;
	}
	if ((rc = ca_bundle_sign_check(b, signcert, err)) != KR_OK ||
	    (rc = ca_bundle_check(b, &m, err)) != KR_OK)
		goto out;
	mf = ca_files_get(b, CA_BUNDLE_MANIFEST);
	if ((sf = ca_files_get(b, CA_BUNDLE_SIG)) != NULL) {
		if ((rc = sig_parse(sf, &cms, err)) != KR_OK)
			goto out;
		before = (size_t)sk_CMS_SignerInfo_num(
		    CMS_get0_SignerInfos(cms));
	} else if ((cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL |
	    CMS_DETACHED | CMS_BINARY)) == NULL) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot start a CMS "
		    "SignedData");
		goto out;
	}
	if ((rc = bundle_certs(b, &m, &anchors, &cross, err)) != KR_OK ||
	    (rc = carry_certs(cms, anchors, m.nanchors, cross, m.ncross,
	    signcert, &sidcert, 0, err)) != KR_OK)
		goto out;
	md = ca_md_for_key(s->pub);
	if ((si = CMS_add1_signer(cms, sidcert, s->pub, md, CMS_PARTIAL |
	    CMS_BINARY | CMS_NOCERTS | CMS_NOSMIMECAP | CMS_USE_KEYID)) ==
	    NULL) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot add a signer");
		goto out;
	}
	if (EVP_Digest(mf->data, mf->len, dg, &dglen, md, NULL) != 1 ||
	    (st = ASN1_TIME_set(NULL, now)) == NULL ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType,
	    V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data), -1) != 1 ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime,
	    ASN1_STRING_type(st), st, -1) != 1 ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest,
	    V_ASN1_OCTET_STRING, dg, (int)dglen) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot add the signed "
		    "attributes");
		goto out;
	}
	if ((rc = signed_attrs_der(si, &attrs, &attrslen, err)) != KR_OK ||
	    (rc = s->sign(s->arg, md, attrs, attrslen, &sig, &siglen, err)) !=
	    KR_OK)
		goto out;
	if (siglen > INT_MAX || ASN1_STRING_set(
	    CMS_SignerInfo_get0_signature(si), sig, (int)siglen) != 1) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	/* OpenSSL re-encodes the attributes itself to verify. */
	if (CMS_SignerInfo_verify(si) != 1) {
		ERR_clear_error();
		rc = kr_fail(err, KR_E_VERIFY, "the signature made by the key "
		    "does not verify under its certificate");
		goto out;
	}
	if ((rc = carry_certs(cms, anchors, m.nanchors, cross, m.ncross,
	    signcert, &sidcert, 1, err)) != KR_OK)
		goto out;
	if ((derlen = i2d_CMS_ContentInfo(cms, &der)) <= 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode %s",
		    CA_BUNDLE_SIG);
		goto out;
	}
	/* Read back as any reader will: every signature, ours trusted. */
	if ((rc = ca_files_add(&probe, CA_BUNDLE_MANIFEST, mf->data, mf->len,
	    err)) != KR_OK ||
	    (rc = ca_files_add(&probe, CA_BUNDLE_SIG, der, (size_t)derlen,
	    err)) != KR_OK ||
	    (rc = ca_bundle_sigs(&probe, &signcert, 1, &chk, err)) != KR_OK)
		goto out;
	if (chk.n != before + 1 || chk.ntrusted != 1) {
		rc = kr_fail(err, KR_E_INTERNAL, "%s does not read back with "
		    "%zu signatures, the new one valid", CA_BUNDLE_SIG,
		    before + 1);
		goto out;
	}
	rc = ca_files_put(b, CA_BUNDLE_SIG, der, (size_t)derlen, err);
out:
	ca_files_free(&probe);
	free_x509s(anchors, m.nanchors);
	free_x509s(cross, m.ncross);
	ca_manifest_free(&m);
	OPENSSL_free(der);
	free(attrs);
	free(sig);
	ASN1_TIME_free(st);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return rc;
}

enum kr_err
ca_bundle_verify(const struct ca_files *b, const struct ca_bundle_policy *p,
    struct ca_manifest *mout, struct ca_bundle_sigs *sigs,
    struct kr_error *err)
{
	struct ca_manifest m, prev;
	struct ca_bundle_sigs local;
	uint8_t h[32];
	char t1[32], t2[32];
	size_t need;
	enum kr_err rc;

	memset(&m, 0, sizeof(m));
	memset(&prev, 0, sizeof(prev));
	if (sigs == NULL)
		sigs = &local;
	if (mout != NULL)
		memset(mout, 0, sizeof(*mout));
	need = p->min_signatures > 0 ? p->min_signatures : 1;
	/* The signatures first, over the bytes, before anything is read. */
	if ((rc = ca_bundle_sigs(b, p->trust, p->ntrust, sigs, err)) !=
	    KR_OK)
		goto out;
	if (sigs->ntrusted < need) {
		rc = kr_fail(err, KR_E_VERIFY, "%s: signed by %zu trusted "
		    "key%s, %zu required", CA_BUNDLE_MANIFEST, sigs->ntrusted,
		    sigs->ntrusted == 1 ? "" : "s", need);
		goto out;
	}
	if ((rc = ca_bundle_check(b, &m, err)) != KR_OK)
		goto out;
	if (p->prev != NULL) {
		if ((rc = ca_manifest_parse(p->prev, p->prevlen, &prev,
		    err)) != KR_OK) {
			kr_error_prefix(err, "the previous bundle");
			goto out;
		}
		sha256(p->prev, p->prevlen, h);
		if (m.version <= prev.version) {
			rc = kr_fail(err, KR_E_STATE, "version %lld is not "
			    "newer than the previous bundle's %lld: a rollback "
			    "or replay is refused", m.version, prev.version);
			goto out;
		}
		if (m.version != prev.version + 1) {
			rc = kr_fail(err, KR_E_STATE, "version %lld skips "
			    "after the previous bundle's %lld; bundles are "
			    "applied one version at a time", m.version,
			    prev.version);
			goto out;
		}
		if (!m.has_previous || memcmp(m.previous, h, 32) != 0) {
			rc = kr_fail(err, KR_E_STATE, "version %lld names "
			    "another previous manifest than the one given: a "
			    "fork is refused", m.version);
			goto out;
		}
	}
	if (p->now >= m.expires) {
		ca_time_rfc3339(m.expires, t1);
		rc = kr_fail(err, KR_E_STATE, "the bundle expired at %s", t1);
		goto out;
	}
	if (m.issued_at > p->now + CA_BUNDLE_SKEW) {
		ca_time_rfc3339(m.issued_at, t1);
		ca_time_rfc3339(p->now, t2);
		rc = kr_fail(err, KR_E_STATE, "the bundle was issued at %s, "
		    "later than now (%s); check the clock", t1, t2);
		goto out;
	}
	rc = KR_OK;
out:
	if (mout != NULL && m.version != 0) {
		*mout = m;
		memset(&m, 0, sizeof(m));
	}
	ca_manifest_free(&m);
	ca_manifest_free(&prev);
	return rc;
}

void
ca_bundle_free_certs(X509 **v, size_t n)
{
	free_x509s(v, n);
}

enum kr_err
ca_bundle_load_certs(const char *path, X509 ***out, size_t *n,
    struct kr_error *err)
{
	X509 **v = NULL, **nv, *x;
	uint8_t *buf = NULL;
	const unsigned char *p;
	size_t len, k = 0;
	BIO *b = NULL;
	enum kr_err rc;

	*out = NULL;
	*n = 0;
	if ((rc = kr_file_read(path, CA_FILE_MAX, &buf, &len, err)) != KR_OK)
		goto out;
	if (len > INT_MAX || (b = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (k >= 256 || (nv = realloc(v, (k + 1) * sizeof(*v))) ==
		    NULL) {
			X509_free(x);
			rc = kr_fail(err, KR_E_PARSE, "%s: too many "
			    "certificates", path);
			goto out;
		}
		v = nv;
		v[k++] = x;
	}
	if (k == 0) {
		p = buf;
		if ((x = d2i_X509(NULL, &p, (long)len)) == NULL ||
		    p != buf + len) {
			X509_free(x);
			rc = kr_fail(err, KR_E_PARSE, "%s: no PEM or DER "
			    "certificate", path);
			goto out;
		}
		if ((v = calloc(1, sizeof(*v))) == NULL) {
			X509_free(x);
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		v[k++] = x;
	}
	*out = v;
	*n = k;
	v = NULL;
	rc = KR_OK;
out:
	free_x509s(v, k);
	BIO_free(b);
	free(buf);
	ERR_clear_error();
	return rc;
}
