/*
 * test_tstate.c: keyrite-trust's state file (ca/tstate.c): what is
 * encoded parses back to the same bytes, and a table of bad states is
 * refused with the member named.
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
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../../ca/bundle.h"
#include "../../ca/tstate.h"

#define DAY	86400

static const char manifest_v1[] =
    "{\n  \"format\": \"keyrite-bundle\",\n  \"version\": 1,\n"
    "  \"previous_manifest_sha256\": null,\n"
    "  \"issued_at\": \"2026-01-01T00:00:00Z\",\n"
    "  \"expires\": \"2026-03-01T00:00:00Z\",\n  \"anchors\": [\n    {\n"
    "      \"file\": \"anchor-0000000000000000.pem\",\n"
    "      \"sha256\": \"%s\",\n      \"spki_sha256\": \"%s\",\n"
    "      \"subject\": \"CN=Root\",\n"
    "      \"not_before\": \"2026-01-01T00:00:00Z\",\n"
    "      \"not_after\": \"2036-01-01T00:00:00Z\",\n"
    "      \"state\": \"active\"\n    }\n  ],\n  \"cross\": [],\n"
    "  \"exports\": [\n"
    "    { \"file\": \"anchors.pem\", \"sha256\": \"%s\" },\n"
    "    { \"file\": \"bundle.p7b\", \"sha256\": \"%s\" },\n"
    "    { \"file\": \"truststore.p12\", \"sha256\": \"%s\" },\n"
    "    { \"file\": \"install-windows.ps1\", \"sha256\": \"%s\" },\n"
    "    { \"file\": \"install-macos.sh\", \"sha256\": \"%s\" }\n"
    "  ]\n}\n";

static X509 *
mkroot(const char *cn)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	assert_non_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3650L * DAY);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
	return x;
}

/* A state of version 1 with two anchors, encoded. */
static char *
good(size_t *len)
{
	struct ca_tstate st = { 0 };
	struct kr_error err = { 0 };
	char h[65], *m, *out;
	X509 *a = mkroot("Root A"), *b = mkroot("Root B");

	memset(h, 'a', 64);
	h[64] = '\0';
	assert_true(asprintf(&m, manifest_v1, h, h, h, h, h, h, h) > 0);
	st.version = 1;
	st.manifest = m;
	st.manifest_len = strlen(m);
	st.applied_at = 1767225600;
	st.stores = calloc(3, sizeof(char *));
	st.stores[0] = strdup("debian");
	st.stores[1] = strdup("nss:/home/u/.pki/nssdb");
	st.nstores = 2;
	assert_int_equal(ca_tstate_add(&st, a, CA_ANCHOR_ACTIVE, 0, &err),
	    KR_OK);
	assert_int_equal(ca_tstate_add(&st, b, CA_ANCHOR_RETIRING,
	    1767225600 + DAY, &err), KR_OK);
	assert_int_equal(ca_tstate_encode(&st, &out, len, &err), KR_OK);
	ca_tstate_free(&st);
	X509_free(a);
	X509_free(b);
	return out;
}

static void
test_roundtrip(void **state)
{
	struct ca_tstate st;
	struct kr_error err = { 0 };
	size_t len, len2;
	char *text, *again;
	X509 *x;

	(void)state;
	text = good(&len);
	if (ca_tstate_parse((uint8_t *)text, len, &st, &err) != KR_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(st.version, 1);
	assert_int_equal(st.nanchors, 2);
	assert_int_equal(st.anchors[1].state, CA_ANCHOR_RETIRING);
	assert_string_equal(st.anchors[0].subject, "CN=Root A");
	assert_string_equal(st.stores[1], "nss:/home/u/.pki/nssdb");
	assert_non_null(x = ca_tstate_cert(&st, 0));
	X509_free(x);
	assert_int_equal(ca_tstate_encode(&st, &again, &len2, &err), KR_OK);
	assert_int_equal(len, len2);
	assert_memory_equal(text, again, len);
	assert_int_equal(ca_tstate_find(&st, st.anchors[1].sha256), 1);
	ca_tstate_remove(&st, 0);
	assert_int_equal(st.nanchors, 1);
	assert_int_equal(ca_tstate_find(&st, st.anchors[0].sha256), 0);
	ca_tstate_free(&st);
	free(text);
	free(again);
}

/* Set the member at a dotted path ("anchors.0.state") to JSON value. */
static char *
mutate(const char *text, const char *path, const char *value)
{
	json_t *root = json_loads(text, JSON_PRESERVE_ORDER, NULL), *o, *v;
	char buf[128], *p, *key, *save, *out;

	assert_non_null(root);
	snprintf(buf, sizeof(buf), "%s", path);
	o = root;
	key = strtok_r(buf, ".", &save);
	while ((p = strtok_r(NULL, ".", &save)) != NULL) {
		o = json_is_array(o) ? json_array_get(o, strtoul(key, NULL,
		    10)) : json_object_get(o, key);
		assert_non_null(o);
		key = p;
	}
	if (value == NULL) {
		if (json_is_array(o))
			json_array_remove(o, strtoul(key, NULL, 10));
		else
			json_object_del(o, key);
	} else {
		v = json_loads(value, JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		if (json_is_array(o))
			json_array_set_new(o, strtoul(key, NULL, 10), v);
		else
			json_object_set_new(o, key, v);
	}
	out = json_dumps(root, JSON_PRESERVE_ORDER);
	json_decref(root);
	return out;
}

static void
test_bad(void **state)
{
	static const struct {
		const char	*path;
		const char	*value;	/* NULL: remove */
		const char	*want;
	} t[] = {
		{ "format", "\"keyrite-state\"", "format: must be "
		    "keyrite-trust-state" },
		{ "extra", "1", "unknown member 'extra'" },
		{ "version", NULL, "'version' is missing" },
		{ "version", "-1", "version: must be an integer" },
		{ "version", "\"1\"", "version: must be an integer" },
		{ "version", "2", "version: 2, but the manifest is version 1" },
		{ "manifest_sha256", "\"00\"", "must be 64 lower-case hex" },
		{ "manifest_sha256", "\"" "0000000000000000000000000000000000"
		    "000000000000000000000000000000\"", "its SHA-256 is not "
		    "manifest_sha256" },
		{ "manifest", "null", "version 0 has no manifest" },
		{ "manifest", "\"{}\"", "manifest_sha256" },
		{ "applied_at", "\"yesterday\"", "'applied_at' must be a UTC "
		    "time" },
		{ "applied_at", "null", "version 0 has no manifest" },
		{ "stores", "{}", "stores: must be an array" },
		{ "stores.0", "\"floppy\"", "stores[0]: must be system, rhel" },
		{ "stores.0", "\"pem:relative/x\"", "stores[0]: must be" },
		{ "stores.0", "\"pem:/a/../etc/shadow\"", "stores[0]: must be" },
		{ "stores.1", "\"debian\"", "stores[1]: listed twice" },
		{ "anchors", "[]", "anchors: must be an array of 1 to" },
		{ "anchors.0", "7", "anchors[0]: must be an object" },
		{ "anchors.0.sha256", "\"" "0000000000000000000000000000000000"
		    "000000000000000000000000000000\"", "anchors[0]: "
		    "'certificate' does not have the SHA-256" },
		{ "anchors.0.sha256", "\"xyz\"", "'sha256' must be 64 "
		    "lower-case hex" },
		{ "anchors.0.subject", "\"CN=Other\"", "anchors[0]: 'subject' "
		    "is not the certificate's" },
		{ "anchors.0.state", "\"revoked\"", "anchors[0]: state "
		    "'revoked' is not bootstrap, next, active or retiring" },
		{ "anchors.0.state", "\"bootstrap\"", "anchors[0]: a bootstrap "
		    "anchor is the only kind before the first bundle" },
		{ "anchors.0.remove_after", "\"2027-01-01T00:00:00Z\"",
		    "anchors[0]: 'remove_after' is for retiring anchors" },
		{ "anchors.1.remove_after", "null", "anchors[1]: "
		    "'remove_after' is for retiring anchors" },
		{ "anchors.0.certificate", "\"-----BEGIN CERTIFICATE-----\\n\"",
		    "anchors[0]: 'certificate' is not one PEM certificate" },
		{ "anchors.0.certificate", "3", "'certificate' must be a "
		    "string" },
		{ "anchors.0.x", "1", "anchors[0]: unknown member 'x'" },
	};
	struct ca_tstate st;
	struct kr_error err;
	size_t len, i;
	char *text, *bad;

	(void)state;
	text = good(&len);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bad = mutate(text, t[i].path, t[i].value);
		memset(&err, 0, sizeof(err));
		if (ca_tstate_parse((uint8_t *)bad, strlen(bad), &st, &err) ==
		    KR_OK)
			fail_msg("%s=%s: accepted", t[i].path, t[i].value ?
			    t[i].value : "(removed)");
		if (err.code != KR_E_PARSE || strstr(err.msg, t[i].want) ==
		    NULL)
			fail_msg("%s: got '%s', want '%s'", t[i].path, err.msg,
			    t[i].want);
		assert_int_equal(st.nanchors, 0);
		free(bad);
	}
	/* Not JSON, duplicate members, too big. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(ca_tstate_parse((const uint8_t *)"{\"a\":1,\"a\":2}",
	    13, &st, &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "state.json: line 1"));
	assert_int_equal(ca_tstate_parse((const uint8_t *)"[]", 2, &st, &err),
	    KR_E_PARSE);
	assert_non_null(strstr(err.msg, "must be a JSON object"));
	assert_int_equal(ca_tstate_parse((const uint8_t *)text,
	    CA_TSTATE_MAX + 1, &st, &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "over the limit"));
	free(text);
}

static void
test_store_names(void **state)
{
	(void)state;
	assert_true(ca_tstate_store_ok("debian"));
	assert_true(ca_tstate_store_ok("rhel"));
	assert_true(ca_tstate_store_ok("pem:/etc/keyrite/trust.pem"));
	assert_true(ca_tstate_store_ok("java:/etc/ssl/certs/java/cacerts"));
	assert_false(ca_tstate_store_ok("system"));
	assert_false(ca_tstate_store_ok("nss:"));
	assert_false(ca_tstate_store_ok("nss:/a//b"));
	assert_false(ca_tstate_store_ok("nss:/a/./b"));
	assert_false(ca_tstate_store_ok("nss:/a/.."));
	assert_false(ca_tstate_store_ok("pem:/a\nb"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_store_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
