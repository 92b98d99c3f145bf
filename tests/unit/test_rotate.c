/*
 * test_rotate.c: the rotation steps of ca/rotate.c.  A new root copies
 * its model's name constraints byte for byte, from a root built here
 * and from the certificates in tests/fuzz/corpus/rotate; a table of
 * models it cannot copy is refused with the reason named; dates for
 * remove_after parse strictly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../../ca/rotate.h"
#include "../../common/file.h"

#define CORPUS	"tests/fuzz/corpus/rotate/"
#define NOW	((time_t)1800000000)

static struct pol_profile root_prof;
static EVP_PKEY *key;

static int
setup(void **state)
{
	struct kr_error err;

	(void)state;
	setenv("KEYRITE_PROFILE_DIR", "profiles", 0);
	if (pol_profile_find("root", &root_prof, &err) != KR_OK)
		return -1;
	return (key = EVP_EC_gen("P-384")) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	return 0;
}

static X509 *
load_der(const char *name)
{
	uint8_t *buf = NULL;
	const unsigned char *p;
	size_t len;
	struct kr_error err;
	char path[256];
	X509 *x;

	snprintf(path, sizeof(path), CORPUS "%s", name);
	if (kr_file_read(path, 1 << 20, &buf, &len, &err) != KR_OK)
		fail_msg("%s: %s", path, err.msg);
	p = buf;
	x = d2i_X509(NULL, &p, (long)len);
	free(buf);
	if (x == NULL)
		fail_msg("%s: not a DER certificate", path);
	return x;
}

/* The DER of x's nameConstraints value and its criticality, or NULL. */
static const ASN1_OCTET_STRING *
nc(X509 *x, int *crit)
{
	int i = X509_get_ext_by_NID(x, NID_name_constraints, -1);

	*crit = -1;
	if (i < 0)
		return NULL;
	*crit = X509_EXTENSION_get_critical(X509_get_ext(x, i));
	return X509_EXTENSION_get_data(X509_get_ext(x, i));
}

static void
assert_same_nc(X509 *a, X509 *b)
{
	const ASN1_OCTET_STRING *x, *y;
	int ca_, cb;

	x = nc(a, &ca_);
	y = nc(b, &cb);
	assert_int_equal(ca_, cb);
	if (x == NULL) {
		assert_null(y);
		return;
	}
	assert_non_null(y);
	assert_int_equal(ASN1_STRING_cmp(x, y), 0);
}

static void
test_copies_exactly(void **state)
{
	static const char *const good[] = { "root-dns-ip.der", "cross.der",
	    "no-constraints.der" };
	struct ca_names names;
	const char *dns[] = { "lab.internal", "svc.example" };
	const char *ip[] = { "10.0.0.0/8", "fd00::/8" };
	struct kr_error err;
	X509 *model, *out;
	char text[512];
	size_t i;

	(void)state;
	/* A root built here with DNS and IP subtrees, as root-init's. */
	names = (struct ca_names){ dns, 2, ip, 2 };
	assert_int_equal(ca_root_build("CN=Old", key, &root_prof, 86400 * 30,
	    &names, NOW, &model, &err), KR_OK);
	assert_int_equal(ca_root_build_like("CN=New", key, &root_prof,
	    86400 * 30, model, "old", NOW, &out, &err), KR_OK);
	assert_same_nc(model, out);
	ca_name_constraints_text(out, text, sizeof(text));
	assert_string_equal(text, "DNS:lab.internal, DNS:svc.example, "
	    "IP:10.0.0.0/8, IP:fd00::/8");
	X509_free(out);
	X509_free(model);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		model = load_der(good[i]);
		if (ca_root_build_like("CN=New", key, &root_prof, 86400, model,
		    good[i], NOW, &out, &err) != KR_OK)
			fail_msg("%s: %s", good[i], err.msg);
		assert_same_nc(model, out);
		X509_free(out);
		X509_free(model);
	}
	model = load_der("no-constraints.der");
	ca_name_constraints_text(model, text, sizeof(text));
	assert_string_equal(text, "none");
	X509_free(model);
}

static void
test_refused_models(void **state)
{
	static const struct {
		const char	*file;
		const char	*want;
	} bad[] = {
		{ "excluded.der", "excluded.der: its name constraints "
		    "exclude subtrees, which a keyrite root cannot copy" },
		{ "ip-first-email.der", "ip-first-email.der: its permitted "
		    "subtree email:x@lab.internal cannot be copied (a keyrite "
		    "root permits DNS and IP subtrees only)" },
		{ "ip-first.der", "ip-first.der: its name constraints "
		    "(IP:10.0.0.0/8, DNS:lab.internal) cannot be copied "
		    "exactly" },
		{ "not-critical.der", "not-critical.der: its name "
		    "constraints (DNS:lab.internal) cannot be copied exactly" },
	};
	struct kr_error err;
	X509 *model, *out;
	size_t i;
	int failed = 0;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		model = load_der(bad[i].file);
		out = (X509 *)&err;
		memset(&err, 0, sizeof(err));
		if (ca_root_build_like("CN=New", key, &root_prof, 86400, model,
		    bad[i].file, NOW, &out, &err) != KR_E_POLICY ||
		    out != NULL || strstr(err.msg, bad[i].want) == NULL) {
			print_error("%s: '%s', wanted '%s'\n", bad[i].file,
			    err.msg, bad[i].want);
			failed++;
		}
		X509_free(model);
	}
	assert_int_equal(ca_root_build_like("CN=New", key, &root_prof, 86400,
	    NULL, "none", NOW, &out, &err), KR_E_USAGE);
	if (failed)
		fail_msg("%d models not refused as expected", failed);
}

static void
test_dates(void **state)
{
	static const char *const bad[] = { "", "2027", "2027-6-30",
	    "2027-13-01", "2027-02-30", "2027-06-30T00:00:00",
	    "2027-06-30 00:00:00Z", "27-06-30", "2027-06-30Z", "tomorrow",
	    "2027-06-30T24:00:00Z", "2027-06-301" };
	size_t i;

	(void)state;
	assert_int_equal(ca_date_parse("2027-06-30"), (time_t)1814313600);
	assert_int_equal(ca_date_parse("2027-06-30T12:30:00Z"),
	    (time_t)1814313600 + 12 * 3600 + 30 * 60);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ca_date_parse(bad[i]) != (time_t)-1)
			fail_msg("date '%s' was accepted", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copies_exactly),
		cmocka_unit_test(test_refused_models),
		cmocka_unit_test(test_dates),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
