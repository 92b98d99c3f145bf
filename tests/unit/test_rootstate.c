/*
 * test_rootstate.c: the offline root's persistent state: CRL numbers
 * only go up, across reopen; damage is an error, never a reset; one
 * process at a time; the state belongs to one root; revocations and
 * issued serials persist.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca/rootstate.h"
#include "common/file.h"

struct fixture {
	char		 home[64];
	EVP_PKEY	*key;
	X509		*root;
	X509		*other;
};

/* A minimal self-signed certificate; the state does not lint roots. */
static X509 *
mkroot(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	ASN1_INTEGER *s = ASN1_INTEGER_new();

	assert_non_null(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(ASN1_INTEGER_set(s, 42), 1);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(X509_set_serialNumber(x, s), 1);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	ASN1_INTEGER_free(s);
	return x;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->home, sizeof(f->home), "/tmp/kr-rootstate.XXXXXX");
	assert_non_null(mkdtemp(f->home));
	f->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(f->key);
	f->root = mkroot(f->key, "Test Root");
	f->other = mkroot(f->key, "Other Root");
	*state = f;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->home, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	X509_free(f->root);
	X509_free(f->other);
	EVP_PKEY_free(f->key);
	free(f);
	return 0;
}

static uint64_t
crlnum(struct ca_rootstate *rs)
{
	struct kr_error err;
	ASN1_INTEGER *ai = NULL;
	uint64_t v = 0;

	assert_int_equal(ca_rootstate_next_crlnumber(rs, &ai, &err), KR_OK);
	assert_int_equal(ASN1_INTEGER_get_uint64(&v, ai), 1);
	ASN1_INTEGER_free(ai);
	return v;
}

static void
write_text(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
}

static void
test_crlnumber_increases_across_reopen(void **state)
{
	struct fixture *f = *state;
	struct ca_rootstate *rs = NULL;
	struct kr_error err;
	char path[512];
	uint8_t *buf;
	size_t len;

	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs, &err), KR_OK);
	assert_int_equal(crlnum(rs), 1);
	assert_int_equal(crlnum(rs), 2);
	/* Reserved on disk before it is returned. */
	snprintf(path, sizeof(path), "%s/crlnumber", ca_rootstate_dir(rs));
	assert_int_equal(kr_file_read(path, 100, &buf, &len, &err), KR_OK);
	assert_string_equal((char *)buf, "2\n");
	free(buf);
	ca_rootstate_close(rs);
	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs, &err), KR_OK);
	assert_int_equal(crlnum(rs), 3);
	ca_rootstate_close(rs);
}

static void
test_state_dir_layout(void **state)
{
	struct fixture *f = *state;
	struct ca_rootstate *rs = NULL;
	struct kr_error err;
	unsigned char *der = NULL, md[32];
	char hex[65], want[512], path[600];
	struct stat st;
	int n;

	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs, &err), KR_OK);
	n = i2d_X509(f->root, &der);
	assert_true(n > 0);
	assert_int_equal(EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(),
	    NULL), 1);
	OPENSSL_free(der);
	kr_hex(md, 8, hex);
	snprintf(want, sizeof(want), "%s/roots/%s", f->home, hex);
	assert_string_equal(ca_rootstate_dir(rs), want);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/root.pem", want);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/issued", want);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	ca_rootstate_close(rs);
}

static void
test_corrupt_crlnumber_is_an_error(void **state)
{
	static const char *const bad[] = {
		"", "\n", "abc\n", "12x\n", "-1\n", " 3\n", "3\n4\n",
		"99999999999999999999999\n",
	};
	struct fixture *f = *state;
	struct ca_rootstate *rs = NULL;
	struct kr_error err;
	ASN1_INTEGER *ai = NULL;
	char path[512];
	uint8_t *buf;
	size_t len, i;

	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs, &err), KR_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(ca_rootstate_dir(rs), "crlnumber", bad[i]);
		assert_int_equal(ca_rootstate_next_crlnumber(rs, &ai, &err),
		    KR_E_STATE);
		assert_null(ai);
		assert_non_null(strstr(err.msg, "crlnumber"));
		/* Never silently reset. */
		snprintf(path, sizeof(path), "%s/crlnumber",
		    ca_rootstate_dir(rs));
		assert_int_equal(kr_file_read(path, 100, &buf, &len, &err),
		    KR_OK);
		assert_string_equal((char *)buf, bad[i]);
		free(buf);
	}
	write_text(ca_rootstate_dir(rs), "crlnumber", "41\n");
	assert_int_equal(crlnum(rs), 42);
	ca_rootstate_close(rs);
}

static void
test_second_open_is_refused(void **state)
{
	struct fixture *f = *state;
	struct ca_rootstate *rs = NULL, *rs2 = NULL;
	struct kr_error err;

	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs, &err), KR_OK);
	/* A second open file description conflicts even in one process. */
	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs2, &err),
	    KR_E_STATE);
	assert_null(rs2);
	assert_non_null(strstr(err.msg, "another keyrite is using root state"));
	ca_rootstate_close(rs);
	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs2, &err),
	    KR_OK);
	ca_rootstate_close(rs2);
}

static void
test_root_mismatch_is_refused(void **state)
{
	struct fixture *f = *state;
	struct ca_rootstate *rs = NULL;
	struct kr_error err;
	char path[600], dir[512];
	FILE *fp;

	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs, &err), KR_OK);
	snprintf(dir, sizeof(dir), "%s", ca_rootstate_dir(rs));
	ca_rootstate_close(rs);
	/* Someone put another root's certificate in this root's state. */
	snprintf(path, sizeof(path), "%s/root.pem", dir);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(PEM_write_X509(fp, f->other), 1);
	fclose(fp);
	rs = NULL;
	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs, &err),
	    KR_E_STATE);
	assert_null(rs);
	assert_non_null(strstr(err.msg, "root.pem"));
	/* And garbage there is damage too. */
	write_text(dir, "root.pem", "not a certificate\n");
	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs, &err),
	    KR_E_STATE);
	/* The other root gets its own directory. */
	assert_int_equal(ca_rootstate_open(f->home, f->other, &rs, &err),
	    KR_OK);
	assert_string_not_equal(ca_rootstate_dir(rs), dir);
	ca_rootstate_close(rs);
}

static ASN1_INTEGER *
serial_of(const char *hex)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai;

	assert_true(BN_hex2bn(&bn, hex) > 0);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	assert_non_null(ai);
	return ai;
}

static void
test_revocations_persist(void **state)
{
	struct fixture *f = *state;
	struct ca_rootstate *rs = NULL;
	struct ca_revoked *rv = NULL;
	struct kr_error err;
	/* b's first octet is below 0x10: its hex starts with '0'. */
	ASN1_INTEGER *a = serial_of("7f01020304050607"), *b = serial_of("0abcd1");
	char *h;
	size_t n = 0;

	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs, &err), KR_OK);
	assert_int_equal(ca_rootstate_revoked(rs, &rv, &n, &err), KR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(ca_rootstate_revoke(rs, a, 1, 1700000000, &err),
	    KR_OK);
	assert_int_equal(ca_rootstate_revoke(rs, b, -1, 1700000100, &err),
	    KR_OK);
	/* A second revocation of a keeps the first record. */
	assert_int_equal(ca_rootstate_revoke(rs, a, 4, 1800000000, &err),
	    KR_OK);
	assert_int_equal(ca_rootstate_revoke(rs, a, 7, 1800000000, &err),
	    KR_E_USAGE);
	ca_rootstate_close(rs);

	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs, &err), KR_OK);
	assert_int_equal(ca_rootstate_revoked(rs, &rv, &n, &err), KR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(ASN1_INTEGER_cmp(rv[0].serial, a), 0);
	assert_int_equal(rv[0].reason, 1);
	assert_int_equal(rv[0].when, 1700000000);
	assert_int_equal(ASN1_INTEGER_cmp(rv[1].serial, b), 0);
	assert_int_equal(rv[1].reason, -1);
	assert_int_equal(rv[1].when, 1700000100);
	h = ca_serial_hex(rv[0].serial);
	assert_string_equal(h, "7f01020304050607");
	free(h);
	h = ca_serial_hex(rv[1].serial);
	assert_string_equal(h, "0abcd1");
	free(h);
	ca_revoked_free(rv, n);
	ca_rootstate_close(rs);
	ASN1_INTEGER_free(a);
	ASN1_INTEGER_free(b);
}

static void
test_damaged_revoked_names_line(void **state)
{
	static const char *const bad[] = {
		"abcd 1 1700000000\nabcd 1\n",
		"abcd 1 1700000000\nABCD 1 1700000000\n",
		"abcd 1 1700000000\nabcd 7 1700000000\n",
		"abcd 1 1700000000\nabcd 1 17x\n",
		"abcd 1 1700000000\n\n",
		"abcd 1 1700000000\nabcd  1 1700000000\n",
		"abcd 1 1700000000\n00ab 1 1700000000\n",
		"abcd 1 1700000000\nabc 1 1700000000\n",
		"abcd 1 1700000000\nabcd 1 1700000000",
	};
	struct fixture *f = *state;
	struct ca_rootstate *rs = NULL;
	struct ca_revoked *rv = NULL;
	struct kr_error err;
	ASN1_INTEGER *a = serial_of("01");
	size_t n = 0, i;

	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs, &err), KR_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(ca_rootstate_dir(rs), "revoked", bad[i]);
		assert_int_equal(ca_rootstate_revoked(rs, &rv, &n, &err),
		    KR_E_STATE);
		assert_non_null(strstr(err.msg, "revoked"));
		if (i < 8)
			assert_non_null(strstr(err.msg, "line 2"));
		/* A revocation never rewrites a damaged file. */
		assert_int_equal(ca_rootstate_revoke(rs, a, 1, 1, &err),
		    KR_E_STATE);
	}
	ca_rootstate_close(rs);
	ASN1_INTEGER_free(a);
}

static void
test_issued_recorded_once(void **state)
{
	struct fixture *f = *state;
	struct ca_rootstate *rs = NULL;
	struct kr_error err;
	ASN1_INTEGER *other = serial_of("43");
	char path[512];
	struct stat st;

	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs, &err), KR_OK);
	assert_false(ca_rootstate_was_issued(rs,
	    X509_get0_serialNumber(f->root)));
	assert_int_equal(ca_rootstate_record_issued(rs, f->root, &err), KR_OK);
	snprintf(path, sizeof(path), "%s/issued/2a.pem", ca_rootstate_dir(rs));
	assert_int_equal(stat(path, &st), 0);
	assert_true(ca_rootstate_was_issued(rs,
	    X509_get0_serialNumber(f->root)));
	assert_false(ca_rootstate_was_issued(rs, other));
	/* The same serial again (another certificate) is refused. */
	assert_int_equal(ca_rootstate_record_issued(rs, f->other, &err),
	    KR_E_STATE);
	assert_non_null(strstr(err.msg, "2a"));
	ca_rootstate_close(rs);
	assert_int_equal(ca_rootstate_open(f->home, f->root, &rs, &err), KR_OK);
	assert_true(ca_rootstate_was_issued(rs,
	    X509_get0_serialNumber(f->root)));
	ca_rootstate_close(rs);
	ASN1_INTEGER_free(other);
}

static void
test_default_home(void **state)
{
	(void)state;
	setenv("KEYRITE_HOME", "/srv/kr", 1);
	setenv("XDG_DATA_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	assert_string_equal(ca_rootstate_default_home(), "/srv/kr");
	unsetenv("KEYRITE_HOME");
	assert_string_equal(ca_rootstate_default_home(), "/xdg/keyrite");
	unsetenv("XDG_DATA_HOME");
	assert_string_equal(ca_rootstate_default_home(),
	    "/home/u/.local/share/keyrite");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_crlnumber_increases_across_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_layout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_corrupt_crlnumber_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_open_is_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_mismatch_is_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_revocations_persist,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_damaged_revoked_names_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_issued_recorded_once,
		    setup, teardown),
		cmocka_unit_test(test_default_home),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
