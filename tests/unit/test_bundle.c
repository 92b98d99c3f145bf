/*
 * test_bundle.c: rotation bundles (ca/bundle.c) with software roots.
 * Cross-certificates are built and linted; a bundle is built, signed by
 * one root and then the other, and verified by keyrite and by OpenSSL's
 * own CMS_verify against either root alone; each key counts once; the
 * forgeries must fail: a changed manifest, a changed or extra file, an
 * unknown signer, a stale signature, rollback, a skipped version, a
 * fork, expiry.  A table of bad manifests is refused with the member
 * named.
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
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../../ca/bundle.h"
#include "../../ca/ca.h"
#include "../../policy/profile.h"

#define DAY	86400

static struct {
	time_t			 now;
	struct pol_profile	 root, cross;
	EVP_PKEY		*kold, *knew, *kevil;
	struct ca_signer	 sold, snew, sevil;
	X509			*old, *new, *evil;
	X509			*cross_new;	/* new key, by old */
	X509			*cross_old;	/* old key, by new */
} F;

static X509 *
mkroot(const char *subject, EVP_PKEY *k, struct ca_signer *s, long long days)
{
	static const char *dns[] = { "lab.internal" };
	struct ca_names names = { dns, 1, NULL, 0 };
	struct kr_error err = { 0 };
	X509 *tbs = NULL, *c = NULL;

	ca_signer_soft(s, k);
	if (ca_root_build(subject, k, &F.root, days * DAY, &names, F.now,
	    &tbs, &err) != KR_OK ||
	    ca_sign_cert(tbs, s, &F.root, NULL, F.now, &c, &err) != KR_OK)
		fail_msg("root %s: %s", subject, err.msg);
	X509_free(tbs);
	return c;
}

static X509 *
mkcross(X509 *subject, X509 *issuer, const struct ca_signer *s)
{
	struct kr_error err = { 0 };
	X509 *tbs = NULL, *c = NULL;

	if (ca_cross_build(subject, issuer, &F.cross, 0, F.now, &tbs,
	    &err) != KR_OK ||
	    ca_sign_cert(tbs, s, &F.cross, issuer, F.now, &c, &err) != KR_OK)
		fail_msg("cross: %s", err.msg);
	X509_free(tbs);
	return c;
}

static int
setup(void **state)
{
	struct kr_error err = { 0 };

	(void)state;
	F.now = time(NULL);
	if (pol_profile_load("profiles/root.yaml", &F.root, &err) != KR_OK ||
	    pol_profile_load("profiles/cross.yaml", &F.cross, &err) != KR_OK)
		return -1;
	F.kold = EVP_EC_gen("P-384");
	F.knew = EVP_EC_gen("P-256");
	F.kevil = EVP_EC_gen("P-256");
	if (F.kold == NULL || F.knew == NULL || F.kevil == NULL)
		return -1;
	F.old = mkroot("CN=Lab Root 2026,O=Example", F.kold, &F.sold, 3650);
	F.new = mkroot("CN=Lab Root 2036,O=Example", F.knew, &F.snew, 5000);
	F.evil = mkroot("CN=Lab Root 2026,O=Example", F.kevil, &F.sevil,
	    3650);
	F.cross_new = mkcross(F.new, F.old, &F.sold);
	F.cross_old = mkcross(F.old, F.new, &F.snew);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(F.old);
	X509_free(F.new);
	X509_free(F.evil);
	X509_free(F.cross_new);
	X509_free(F.cross_old);
	EVP_PKEY_free(F.kold);
	EVP_PKEY_free(F.knew);
	EVP_PKEY_free(F.kevil);
	return 0;
}

/* A bundle of old (active) and new (next) with both crosses. */
static void
build(struct ca_files *out, const struct ca_files *prev, time_t now)
{
	X509 *anchors[2] = { F.old, F.new };
	X509 *cross[2] = { F.cross_new, F.cross_old };
	enum ca_anchor_state st[2] = { CA_ANCHOR_ACTIVE, CA_ANCHOR_NEXT };
	const struct ca_file *pm = prev ? ca_files_get(prev,
	    CA_BUNDLE_MANIFEST) : NULL;
	struct ca_bundle_spec s = {
		.anchors = anchors, .states = st, .nanchors = 2,
		.cross = cross, .ncross = 2,
		.prev = pm ? pm->data : NULL, .prevlen = pm ? pm->len : 0,
		.now = now, .lifetime = 90 * DAY,
	};
	struct kr_error err = { 0 };

	if (ca_bundle_build(&s, out, &err) != KR_OK)
		fail_msg("build: %s", err.msg);
}

static void
sign(struct ca_files *b, const struct ca_signer *s, X509 *cert)
{
	struct kr_error err = { 0 };

	if (ca_bundle_sign(b, s, cert, F.now, &err) != KR_OK)
		fail_msg("sign: %s", err.msg);
}

static enum kr_err
verify(const struct ca_files *b, X509 *const *trust, size_t ntrust,
    size_t min, const struct ca_files *prev, time_t now,
    struct ca_bundle_sigs *sigs, struct kr_error *err)
{
	const struct ca_file *pm = prev ? ca_files_get(prev,
	    CA_BUNDLE_MANIFEST) : NULL;
	struct ca_bundle_policy p = { trust, ntrust, min,
	    pm ? pm->data : NULL, pm ? pm->len : 0, now };

	memset(err, 0, sizeof(*err));
	return ca_bundle_verify(b, &p, NULL, sigs, err);
}

/* OpenSSL's own CMS_verify, trusting root alone (purpose any). */
static int
openssl_verifies(const struct ca_files *b, X509 *root)
{
	const struct ca_file *mf = ca_files_get(b, CA_BUNDLE_MANIFEST);
	const struct ca_file *sf = ca_files_get(b, CA_BUNDLE_SIG);
	const unsigned char *p = sf->data;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)sf->len);
	X509_STORE *st = X509_STORE_new();
	BIO *in = BIO_new_mem_buf(mf->data, (int)mf->len);
	int ok;

	X509_STORE_add_cert(st, root);
	X509_STORE_set_purpose(st, X509_PURPOSE_ANY);
	ok = cms != NULL && CMS_verify(cms, NULL, st, in, NULL,
	    CMS_BINARY) == 1;
	ERR_clear_error();
	BIO_free(in);
	X509_STORE_free(st);
	CMS_ContentInfo_free(cms);
	return ok;
}

static void
test_cross(void **state)
{
	struct kr_error err = { 0 };
	X509 *tbs = NULL;
	time_t na, ona;

	(void)state;
	/* The cross-certificate is the new root's name, key and SKI. */
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(F.cross_new),
	    X509_get_subject_name(F.new)), 0);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(F.cross_new),
	    X509_get_subject_name(F.old)), 0);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(F.cross_new),
	    X509_get0_pubkey(F.new)), 1);
	assert_int_equal(ASN1_OCTET_STRING_cmp(
	    X509_get0_subject_key_id(F.cross_new),
	    X509_get0_subject_key_id(F.new)), 0);
	/* It ends with the earlier root (old), not after. */
	ca_time_from_asn1(X509_get0_notAfter(F.cross_new), &na);
	ca_time_from_asn1(X509_get0_notAfter(F.old), &ona);
	assert_true(na == ona);
	/* Longer than either root: refused, not clipped. */
	assert_int_equal(ca_cross_build(F.new, F.old, &F.cross, 4000 * DAY,
	    F.now, &tbs, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "validity-issuer"));
	assert_null(tbs);
	/* A root cannot cross-sign its own key. */
	assert_int_equal(ca_cross_build(F.old, F.old, &F.cross, 0, F.now,
	    &tbs, &err), KR_E_USAGE);
	/* A cross-certificate is not a self-signed root. */
	assert_int_equal(ca_cross_build(F.cross_new, F.old, &F.cross, 0,
	    F.now, &tbs, &err), KR_E_USAGE);
}

static void
test_cross_wider(void **state)
{
	static const char *wide[] = { "internal" };
	struct ca_names names = { wide, 1, NULL, 0 };
	struct kr_error err = { 0 };
	struct ca_signer s;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *tbs = NULL, *w = NULL;

	(void)state;
	ca_signer_soft(&s, k);
	assert_int_equal(ca_root_build("CN=Wide", k, &F.root, 365 * DAY,
	    &names, F.now, &tbs, &err), KR_OK);
	assert_int_equal(ca_sign_cert(tbs, &s, &F.root, NULL, F.now, &w,
	    &err), KR_OK);
	X509_free(tbs);
	tbs = NULL;
	/* Its constraints are wider than the old root's: refused. */
	assert_int_equal(ca_cross_build(w, F.old, &F.cross, 0, F.now, &tbs,
	    &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "DNS:internal"));
	assert_null(tbs);
	X509_free(w);
	EVP_PKEY_free(k);
}

static void
test_manifest_roundtrip(void **state)
{
	struct ca_files b = { 0 };
	struct ca_manifest m;
	struct kr_error err = { 0 };
	const struct ca_file *mf;
	char *text;
	size_t len;

	(void)state;
	build(&b, NULL, F.now);
	mf = ca_files_get(&b, CA_BUNDLE_MANIFEST);
	assert_non_null(mf);
	assert_int_equal(ca_manifest_parse(mf->data, mf->len, &m, &err),
	    KR_OK);
	assert_int_equal(m.version, 1);
	assert_false(m.has_previous);
	assert_int_equal(m.nanchors, 2);
	assert_int_equal(m.ncross, 2);
	assert_int_equal(m.anchors[0].state, CA_ANCHOR_ACTIVE);
	assert_int_equal(m.anchors[1].state, CA_ANCHOR_NEXT);
	assert_string_equal(m.anchors[0].subject,
	    "CN=Lab Root 2026,O=Example");
	assert_int_equal(m.expires - m.issued_at, 90 * DAY);
	assert_int_equal(ca_manifest_encode(&m, &text, &len, &err), KR_OK);
	assert_int_equal(len, mf->len);
	assert_memory_equal(text, mf->data, len);
	free(text);
	ca_manifest_free(&m);
	/* The files are exactly these. */
	assert_int_equal(b.n, 11 - 1);
	assert_non_null(ca_files_get(&b, CA_BUNDLE_PS1));
	assert_non_null(ca_files_get(&b, CA_BUNDLE_MACOS));
	assert_non_null(ca_files_get(&b, CA_BUNDLE_PEM));
	assert_non_null(ca_files_get(&b, CA_BUNDLE_P7B));
	assert_non_null(ca_files_get(&b, CA_BUNDLE_P12));
	assert_null(ca_files_get(&b, CA_BUNDLE_SIG));
	ca_files_free(&b);
}

/* Set path (a.b.0.c; numbers index arrays) in o to v (NULL: delete). */
static void
mutate(json_t *o, const char *path, json_t *v)
{
	char buf[128], *p, *next;
	json_t *cur = o, *parent = NULL;
	const char *key = NULL;
	size_t idx = 0;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf; p != NULL; p = next) {
		if ((next = strchr(p, '.')) != NULL)
			*next++ = '\0';
		parent = cur;
		key = p;
		if (json_is_array(cur)) {
			idx = strtoul(p, NULL, 10);
			cur = json_array_get(cur, idx);
		} else
			cur = json_object_get(cur, p);
		if (next != NULL && cur == NULL)
			fail_msg("no %s in the manifest", path);
	}
	if (json_is_array(parent)) {
		if (v == NULL)
			json_array_remove(parent, idx);
		else
			json_array_set_new(parent, idx, v);
	} else if (v == NULL)
		json_object_del(parent, key);
	else
		json_object_set_new(parent, key, v);
}

static void
test_manifest_bad(void **state)
{
	static const struct {
		const char	*path;
		const char	*value;		/* JSON; NULL deletes */
		const char	*says;
	} t[] = {
		{ "format", "\"keyrite-bundle-2\"",
		    "format: 'keyrite-bundle-2'" },
		{ "format", NULL, "'format' is missing" },
		{ "extra", "1", "unknown member 'extra'" },
		{ "anchors.0.comment", "\"x\"", "anchors[0]: unknown member "
		    "'comment'" },
		{ "cross.0.x", "null", "cross[0]: unknown member 'x'" },
		{ "exports.1.x", "1", "exports[1]: unknown member 'x'" },
		{ "version", "0", "version: must be an integer" },
		{ "version", "1.5", "version: must be an integer" },
		{ "version", "\"1\"", "version: must be an integer" },
		{ "version", "9007199254740992",
		    "version: must be an integer" },
		{ "version", "2", "only version 1 has no previous" },
		{ "previous_manifest_sha256", NULL, "previous_manifest_sha256' "
		    "is missing" },
		{ "previous_manifest_sha256", "\"00\"", "64 lower-case hex" },
		{ "previous_manifest_sha256", "\"0000000000000000000000000000"
		    "000000000000000000000000000000000000\"",
		    "version 1 has no previous manifest" },
		{ "issued_at", "\"2026-05-01 12:00:00Z\"",
		    "'issued_at' must be a UTC time" },
		{ "issued_at", "\"2026-02-30T12:00:00Z\"",
		    "'issued_at' must be a UTC time" },
		{ "issued_at", "\"2026-05-01T12:00:00+02:00\"", "'issued_at' "
		    "must be a UTC time" },
		{ "expires", "\"1999-01-01T00:00:00Z\"", "expires: not after "
		    "issued_at" },
		{ "expires", "12", "'expires' must be a string" },
		{ "anchors", "[]", "anchors: must be an array of 1 to" },
		{ "anchors", "{}", "anchors: must be an array of 1 to" },
		{ "anchors.0.state", "\"next\"", "no anchor is active" },
		{ "anchors.0.state", "\"revoked\"", "state 'revoked' is not" },
		{ "anchors.0.state", "\"retiring\"", "'remove_after' is "
		    "missing" },
		{ "anchors.1.remove_after", "\"2030-01-01T00:00:00Z\"",
		    "remove_after is only for retiring" },
		{ "anchors.0.file", "\"../etc/passwd.pem\"",
		    "plain file name" },
		{ "anchors.0.file", "\"anchor.crt\"", "ending in .pem" },
		{ "anchors.0.file", "\"anchors.pem\"",
		    "may not be anchors.pem" },
		{ "anchors.0.file", "\".hidden.pem\"", "plain file name" },
		{ "anchors.1.file", "\"@A0FILE\"", "is listed twice" },
		{ "cross.0.file", "\"@A0FILE\"", "is listed twice" },
		{ "anchors.1.sha256", "\"@A0SHA\"", "the same certificate as "
		    "anchors[0]" },
		{ "anchors.0.sha256", "\"ED177BAC1124F0B11CF6E705518045EC3D"
		    "79793F3FCE3CEC090C8F1DFAE3687E\"", "64 lower-case hex" },
		{ "anchors.0.spki_sha256", "1", "must be a string" },
		{ "anchors.0.subject", "\"\"", "1 to 1024 printable" },
		{ "anchors.0.subject", "\"CN=\\u00e9\"",
		    "1 to 1024 printable" },
		{ "anchors.0.subject", "\"CN=a\\nb\"",
		    "1 to 1024 printable" },
		{ "anchors.0.not_after", "\"1970-01-01T00:00:01Z\"",
		    "not_after is not after not_before" },
		{ "anchors.0", "\"x\"", "anchors[0]: must be an object" },
		{ "cross", "null", "cross: must be an array" },
		{ "cross.0.issuer", NULL, "'issuer' is missing" },
		{ "exports", "[]", "exports: must list" },
		{ "exports.0.file", "\"bundle.p7b\"",
		    "must be anchors.pem here" },
		{ "exports.2.sha256", "\"x\"", "64 lower-case hex" },
	};
	struct ca_files b = { 0 };
	struct ca_manifest m;
	struct kr_error err;
	const struct ca_file *mf;
	json_error_t je;
	json_t *base, *o, *v, *a0;
	const char *dup;
	char *text;
	size_t i;

	(void)state;
	build(&b, NULL, F.now);
	mf = ca_files_get(&b, CA_BUNDLE_MANIFEST);
	base = json_loadb((const char *)mf->data, mf->len, 0, &je);
	assert_non_null(base);
	a0 = json_object_get(json_array_get(json_object_get(base, "anchors"),
	    0), "file");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		o = json_deep_copy(base);
		v = NULL;
		if (t[i].value != NULL && strcmp(t[i].value, "\"@A0FILE\"") ==
		    0)
			v = json_deep_copy(a0);
		else if (t[i].value != NULL &&
		    strcmp(t[i].value, "\"@A0SHA\"") == 0)
			v = json_deep_copy(json_object_get(json_array_get(
			    json_object_get(base, "anchors"), 0), "sha256"));
		else if (t[i].value != NULL &&
		    (v = json_loads(t[i].value, JSON_DECODE_ANY, &je)) == NULL)
			fail_msg("row %zu: bad JSON in the table", i);
		mutate(o, t[i].path, v);
		text = json_dumps(o, JSON_INDENT(2));
		memset(&err, 0, sizeof(err));
		if (ca_manifest_parse((const uint8_t *)text, strlen(text), &m,
		    &err) != KR_E_PARSE)
			fail_msg("row %zu (%s) was not refused", i, t[i].path);
		if (strstr(err.msg, t[i].says) == NULL)
			fail_msg("row %zu (%s): '%s' lacks '%s'", i, t[i].path,
			    err.msg, t[i].says);
		if (strncmp(err.msg, "manifest.json: ", 15) != 0)
			fail_msg("row %zu: '%s' does not name the file", i,
			    err.msg);
		free(text);
		json_decref(o);
	}
	json_decref(base);
	/* Not JSON, not an object, duplicate members, too large. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(ca_manifest_parse((const uint8_t *)"{", 1, &m, &err),
	    KR_E_PARSE);
	assert_int_equal(ca_manifest_parse((const uint8_t *)"[]", 2, &m, &err),
	    KR_E_PARSE);
	assert_non_null(strstr(err.msg, "must be a JSON object"));
	dup = "{\"format\":\"keyrite-bundle\",\"format\":\"keyrite-bundle\"}";
	assert_int_equal(ca_manifest_parse((const uint8_t *)dup, strlen(dup),
	    &m, &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "duplicate"));
	text = calloc(1, CA_BUNDLE_MANIFEST_MAX + 2);
	memset(text, ' ', CA_BUNDLE_MANIFEST_MAX + 1);
	assert_int_equal(ca_manifest_parse((const uint8_t *)text,
	    CA_BUNDLE_MANIFEST_MAX + 1, &m, &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "over the limit"));
	free(text);
	ca_files_free(&b);
}

static void
test_sign_verify(void **state)
{
	struct ca_files b = { 0 };
	struct ca_bundle_sigs sg;
	struct kr_error err;
	X509 *old[] = { F.old }, *new[] = { F.new }, *both[] = { F.old, F.new };
	X509 *same[] = { F.old, F.cross_old };
	size_t i;

	(void)state;
	build(&b, NULL, F.now);
	/* Unsigned: nothing verifies. */
	assert_int_equal(verify(&b, old, 1, 1, NULL, F.now, &sg, &err),
	    KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "not signed"));
	sign(&b, &F.sold, F.old);
	assert_int_equal(verify(&b, old, 1, 1, NULL, F.now, &sg, &err), KR_OK);
	assert_int_equal(sg.n, 1);
	assert_int_equal(sg.ntrusted, 1);
	assert_true(openssl_verifies(&b, F.old));
	/* The new root did not sign yet. */
	assert_int_equal(verify(&b, new, 1, 1, NULL, F.now, &sg, &err),
	    KR_E_VERIFY);
	assert_true(sg.v[0].valid && !sg.v[0].trusted);
	/* The same key twice is refused, before a PIN would be asked. */
	assert_int_equal(ca_bundle_sign_check(&b, F.old, &err), KR_E_EXISTS);
	assert_int_equal(ca_bundle_sign_check(&b, F.cross_old, &err),
	    KR_E_EXISTS);
	sign(&b, &F.snew, F.new);
	assert_int_equal(verify(&b, old, 1, 1, NULL, F.now, &sg, &err), KR_OK);
	assert_int_equal(verify(&b, new, 1, 1, NULL, F.now, &sg, &err), KR_OK);
	assert_int_equal(verify(&b, both, 2, 2, NULL, F.now, &sg, &err),
	    KR_OK);
	assert_int_equal(sg.n, 2);
	assert_int_equal(sg.ntrusted, 2);
	/* Two certificates for one key are one key. */
	assert_int_equal(verify(&b, same, 2, 2, NULL, F.now, &sg, &err),
	    KR_E_VERIFY);
	assert_int_equal(sg.ntrusted, 1);
	/* OpenSSL's verifier chains every signer to either root alone. */
	assert_true(openssl_verifies(&b, F.old));
	assert_true(openssl_verifies(&b, F.new));
	assert_false(openssl_verifies(&b, F.evil));
	/* Both signatures are whole: none was lost by the second. */
	for (i = 0; i < sg.n; i++)
		assert_true(sg.v[i].valid);
	ca_files_free(&b);
}

static void
test_forgeries(void **state)
{
	struct ca_files b = { 0 }, t = { 0 };
	struct ca_bundle_sigs sg;
	struct kr_error err;
	const struct ca_file *f;
	X509 *old[] = { F.old };
	uint8_t *copy;
	size_t i;

	(void)state;
	build(&b, NULL, F.now);
	sign(&b, &F.sold, F.old);
	/* A changed manifest: the signature no longer covers it. */
	for (i = 0; i < b.n; i++)
		assert_int_equal(ca_files_add(&t, b.v[i].name, b.v[i].data,
		    b.v[i].len, &err), KR_OK);
	f = ca_files_get(&t, CA_BUNDLE_MANIFEST);
	copy = malloc(f->len);
	memcpy(copy, f->data, f->len);
	/* The new root's subject, one character off. */
	memcpy(memmem(copy, f->len, "Root 2036", 9), "Root 2037", 9);
	assert_int_equal(ca_files_put(&t, CA_BUNDLE_MANIFEST, copy, f->len,
	    &err), KR_OK);
	free(copy);
	assert_int_equal(verify(&t, old, 1, 1, NULL, F.now, &sg, &err),
	    KR_E_VERIFY);
	assert_false(sg.v[0].valid);
	assert_non_null(strstr(sg.v[0].why, "changed since it was signed"));
	ca_files_free(&t);
	/* A changed export. */
	for (i = 0; i < b.n; i++)
		ca_files_add(&t, b.v[i].name, b.v[i].data, b.v[i].len, &err);
	assert_int_equal(ca_files_put(&t, CA_BUNDLE_PEM, "x", 1, &err),
	    KR_OK);
	assert_int_equal(verify(&t, old, 1, 1, NULL, F.now, &sg, &err),
	    KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "anchors.pem: its SHA-256"));
	ca_files_free(&t);
	/* A swapped anchor file (the evil root under the old name). */
	for (i = 0; i < b.n; i++)
		ca_files_add(&t, b.v[i].name, b.v[i].data, b.v[i].len, &err);
	{
		struct ca_manifest m;
		BIO *w = BIO_new(BIO_s_mem());
		char *d;
		long n;

		assert_int_equal(ca_bundle_check(&b, &m, &err), KR_OK);
		PEM_write_bio_X509(w, F.evil);
		n = BIO_get_mem_data(w, &d);
		ca_files_put(&t, m.anchors[0].file, d, (size_t)n, &err);
		BIO_free(w);
		assert_int_equal(verify(&t, old, 1, 1, NULL, F.now, &sg, &err),
		    KR_E_VERIFY);
		assert_non_null(strstr(err.msg, "not what the manifest says"));
		/* A missing file. */
		ca_files_free(&t);
		for (i = 0; i < b.n; i++)
			if (strcmp(b.v[i].name, m.cross[1].file) != 0)
				ca_files_add(&t, b.v[i].name, b.v[i].data,
				    b.v[i].len, &err);
		assert_int_equal(ca_bundle_check(&t, NULL, &err), KR_E_VERIFY);
		assert_non_null(strstr(err.msg, "listed in the manifest but "
		    "missing"));
		ca_manifest_free(&m);
	}
	ca_files_free(&t);
	/* An extra file. */
	for (i = 0; i < b.n; i++)
		ca_files_add(&t, b.v[i].name, b.v[i].data, b.v[i].len, &err);
	ca_files_add(&t, "install.sh", "rm -rf /\n", 9, &err);
	assert_int_equal(ca_bundle_check(&t, NULL, &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "install.sh: not listed"));
	ca_files_free(&t);
	ca_files_free(&b);
}

static void
test_unknown_signer(void **state)
{
	struct ca_files b = { 0 };
	struct ca_bundle_sigs sg;
	struct kr_error err;
	X509 *old[] = { F.old };

	(void)state;
	build(&b, NULL, F.now);
	/* Same name as the old root, another key. */
	sign(&b, &F.sevil, F.evil);
	assert_int_equal(verify(&b, old, 1, 1, NULL, F.now, &sg, &err),
	    KR_E_VERIFY);
	assert_int_equal(sg.n, 1);
	assert_true(sg.v[0].valid);
	assert_false(sg.v[0].trusted);
	assert_non_null(strstr(err.msg, "signed by 0 trusted keys, 1 "
	    "required"));
	assert_false(openssl_verifies(&b, F.old));
	ca_files_free(&b);
}

static void
test_stale_signature(void **state)
{
	struct ca_files a = { 0 }, b = { 0 };
	struct kr_error err;
	const struct ca_file *sf;

	(void)state;
	build(&a, NULL, F.now);
	sign(&a, &F.sold, F.old);
	build(&b, NULL, F.now + 60);
	sf = ca_files_get(&a, CA_BUNDLE_SIG);
	ca_files_put(&b, CA_BUNDLE_SIG, sf->data, sf->len, &err);
	/* Adding to a signature over another manifest is refused. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(ca_bundle_sign(&b, &F.snew, F.new, F.now, &err),
	    KR_E_STATE);
	assert_non_null(strstr(err.msg, "another manifest.json"));
	/* A signer whose key is not the certificate's. */
	assert_int_equal(ca_bundle_sign(&a, &F.snew, F.old, F.now, &err),
	    KR_E_USAGE);
	ca_files_free(&a);
	ca_files_free(&b);
}

static void
test_chain(void **state)
{
	struct ca_files v1 = { 0 }, v1b = { 0 }, v2 = { 0 }, v3 = { 0 };
	struct ca_bundle_sigs sg;
	struct kr_error err;
	struct ca_manifest m;
	X509 *old[] = { F.old };

	(void)state;
	build(&v1, NULL, F.now - 2 * DAY);
	build(&v1b, NULL, F.now - 2 * DAY + 1);	/* another version 1 */
	build(&v2, &v1, F.now - DAY);
	build(&v3, &v2, F.now);
	sign(&v1, &F.sold, F.old);
	sign(&v2, &F.sold, F.old);
	sign(&v3, &F.sold, F.old);
	assert_int_equal(ca_bundle_check(&v3, &m, &err), KR_OK);
	assert_int_equal(m.version, 3);
	assert_true(m.has_previous);
	ca_manifest_free(&m);
	assert_int_equal(verify(&v2, old, 1, 1, &v1, F.now, &sg, &err),
	    KR_OK);
	assert_int_equal(verify(&v3, old, 1, 1, &v2, F.now, &sg, &err),
	    KR_OK);
	/* Replay and rollback. */
	assert_int_equal(verify(&v2, old, 1, 1, &v2, F.now, &sg, &err),
	    KR_E_STATE);
	assert_non_null(strstr(err.msg, "rollback or replay"));
	assert_int_equal(verify(&v1, old, 1, 1, &v2, F.now, &sg, &err),
	    KR_E_STATE);
	/* A skipped version. */
	assert_int_equal(verify(&v3, old, 1, 1, &v1, F.now, &sg, &err),
	    KR_E_STATE);
	assert_non_null(strstr(err.msg, "skips"));
	/* A fork: version 2 names v1, not the v1 we applied. */
	assert_int_equal(verify(&v2, old, 1, 1, &v1b, F.now, &sg, &err),
	    KR_E_STATE);
	assert_non_null(strstr(err.msg, "fork"));
	/* Expired; and issued in the future. */
	assert_int_equal(verify(&v3, old, 1, 1, NULL, F.now + 91 * DAY, &sg,
	    &err), KR_E_STATE);
	assert_non_null(strstr(err.msg, "expired"));
	assert_int_equal(verify(&v3, old, 1, 1, NULL, F.now - 3600, &sg,
	    &err), KR_E_STATE);
	assert_non_null(strstr(err.msg, "later than now"));
	ca_files_free(&v1);
	ca_files_free(&v1b);
	ca_files_free(&v2);
	ca_files_free(&v3);
}

static void
test_build_refusals(void **state)
{
	struct ca_files out = { 0 };
	struct kr_error err;
	X509 *a1[] = { F.old }, *a2[] = { F.old, F.old };
	X509 *cr[] = { F.cross_new }, *notroot[] = { F.cross_new };
	enum ca_anchor_state act[] = { CA_ANCHOR_ACTIVE, CA_ANCHOR_ACTIVE };
	enum ca_anchor_state nxt[] = { CA_ANCHOR_NEXT };
	enum ca_anchor_state ret[] = { CA_ANCHOR_RETIRING };
	struct ca_bundle_spec s = { .anchors = a1, .states = act,
	    .nanchors = 1, .now = F.now, .lifetime = 90 * DAY };

	(void)state;
	memset(&err, 0, sizeof(err));
	s.states = nxt;
	assert_int_equal(ca_bundle_build(&s, &out, &err), KR_E_USAGE);
	assert_non_null(strstr(err.msg, "no anchor is active"));
	s.states = ret;
	assert_int_equal(ca_bundle_build(&s, &out, &err), KR_E_USAGE);
	assert_non_null(strstr(err.msg, "remove-after"));
	s.states = act;
	s.anchors = a2;
	s.nanchors = 2;
	assert_int_equal(ca_bundle_build(&s, &out, &err), KR_E_USAGE);
	assert_non_null(strstr(err.msg, "same certificate"));
	s.anchors = notroot;
	s.nanchors = 1;
	assert_int_equal(ca_bundle_build(&s, &out, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "not a self-signed"));
	/* A cross-certificate for a key the bundle does not hold. */
	s.anchors = a1;
	s.cross = cr;
	s.ncross = 1;
	assert_int_equal(ca_bundle_build(&s, &out, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "not one of the bundle's anchors"));
	s.ncross = 0;
	s.lifetime = 2000LL * DAY;
	assert_int_equal(ca_bundle_build(&s, &out, &err), KR_E_USAGE);
	/* An anchor that has expired. */
	s.lifetime = 90 * DAY;
	s.now = F.now + 20 * 365 * DAY;
	assert_int_equal(ca_bundle_build(&s, &out, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "expired"));
	assert_int_equal(out.n, 0);
}

static void
test_time(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(ca_time_parse_rfc3339("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(ca_time_parse_rfc3339("2024-02-29T23:59:59Z"),
	    1709251199);
	assert_int_equal(ca_time_parse_rfc3339("2023-02-29T00:00:00Z"), -1);
	assert_int_equal(ca_time_parse_rfc3339("2024-13-01T00:00:00Z"), -1);
	assert_int_equal(ca_time_parse_rfc3339("2024-01-01T24:00:00Z"), -1);
	assert_int_equal(ca_time_parse_rfc3339("2024-01-01T00:00:60Z"), -1);
	assert_int_equal(ca_time_parse_rfc3339("2024-01-01t00:00:00Z"), -1);
	assert_int_equal(ca_time_parse_rfc3339("2024-01-01T00:00:00.5Z"), -1);
	assert_int_equal(ca_time_parse_rfc3339("+024-01-01T00:00:00Z"), -1);
	assert_int_equal(ca_time_parse_rfc3339(""), -1);
	ca_time_rfc3339(1709251199, buf);
	assert_string_equal(buf, "2024-02-29T23:59:59Z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cross),
		cmocka_unit_test(test_cross_wider),
		cmocka_unit_test(test_manifest_roundtrip),
		cmocka_unit_test(test_manifest_bad),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_forgeries),
		cmocka_unit_test(test_unknown_signer),
		cmocka_unit_test(test_stale_signature),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_build_refusals),
		cmocka_unit_test(test_time),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
