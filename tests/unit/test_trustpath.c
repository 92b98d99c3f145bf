/*
 * test_trustpath.c: the request paths of /trust/ (cmd/keyrited/
 * trustpath.c, compiled in here).  Each good path names the file
 * publish wrote for it; a table of bad ones (traversal, encodings,
 * versions that are not versions) is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "../../cmd/keyrited/trustpath.c"

static void
test_good(void **state)
{
	static const struct {
		const char	*url;
		const char	*file;
		long long	 version;
	} t[] = {
		{ "/trust/bundle.tar", "bundle.tar", 0 },
		{ "/trust/manifest.json", "manifest.json", 0 },
		{ "/trust/manifest.json.sig", "manifest.json.sig", 0 },
		{ "/trust/history", "history/index.json", 0 },
		{ "/trust/history/", "history/index.json", 0 },
		{ "/trust/history/index.json", "history/index.json", 0 },
		{ "/trust/history/1/bundle.tar", "history/1/bundle.tar", 1 },
		{ "/trust/history/10/manifest.json", "history/10/manifest.json",
		    10 },
		{ "/trust/history/9007199254740991/manifest.json.sig",
		    "history/9007199254740991/manifest.json.sig",
		    9007199254740991LL },
	};
	struct kd_trust_path p;
	char file[96];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(kd_trust_path_parse(t[i].url, &p), 0);
		assert_int_equal(p.version, t[i].version);
		assert_int_equal(kd_trust_path_file(&p, file, sizeof(file)), 0);
		assert_string_equal(file, t[i].file);
	}
}

static void
test_bad(void **state)
{
	static const char *const t[] = {
		"", "/", "/trust", "/trust/", "trust/bundle.tar",
		"/trust/../keyrited.yaml", "/trust/%2e%2e/keyrited.yaml",
		"/trust/history/../../keyrited.yaml",
		"/trust/history/1/../../../keyrited.yaml",
		"/trust/history/..%2f..%2fkeyrited.yaml",
		"/trust/history/./1/bundle.tar", "/trust/./bundle.tar",
		"/trust//bundle.tar", "/trust/history//1/bundle.tar",
		"/trust/history/1//bundle.tar", "/trust/history/1/",
		"/trust/history/1", "/trust/history/0/bundle.tar",
		"/trust/history/01/bundle.tar", "/trust/history/-1/bundle.tar",
		"/trust/history/+1/bundle.tar", "/trust/history/ 1/bundle.tar",
		"/trust/history/1a/bundle.tar", "/trust/history/0x1/bundle.tar",
		"/trust/history/9007199254740992/bundle.tar",
		"/trust/history/99999999999999999999/bundle.tar",
		"/trust/history/18446744073709551617/bundle.tar",
		"/trust/history/1/anchors.pem", "/trust/history/1/.lock",
		"/trust/history/1/bundle.tar/", "/trust/bundle.tar/",
		"/trust/BUNDLE.TAR", "/trust/bundle.tar.", "/trust/anchors.pem",
		"/trust/index.json", "/trust/history/index.json/",
		"/trust/historyx", "/trust/history1/bundle.tar",
		"/trust/history/1/bundle.tar?x", "/TRUST/bundle.tar",
		"/crl/../trust/bundle.tar",
	};
	struct kd_trust_path p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (kd_trust_path_parse(t[i], &p) != -1)
			fail_msg("accepted '%s'", t[i]);
		assert_int_equal(p.version, 0);
	}
	assert_int_equal(kd_trust_path_parse(NULL, &p), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
