/*
 * test_tar.c: flat file sets and their ustar archives (ca/tar.c).  The
 * writer is deterministic and its archives are what GNU tar writes for
 * the same files; a table of hostile archives is refused with the
 * reason named: absolute paths, '..', directories, links, extended
 * headers, duplicates, sizes over the limit, bad checksums, truncation,
 * data after the end.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../ca/tar.h"

static void
add(struct ca_files *f, const char *name, const char *text)
{
	struct kr_error err = { 0 };

	if (ca_files_add(f, name, text, strlen(text), &err) != KR_OK)
		fail_msg("add %s: %s", name, err.msg);
}

static void
sample(struct ca_files *f)
{
	memset(f, 0, sizeof(*f));
	add(f, "manifest.json", "{}\n");
	add(f, "b.pem", "");
	add(f, "a-0123.pem", "-----BEGIN CERTIFICATE-----\n");
}

/* Recompute a header's checksum after the test changed it. */
static void
fix_sum(uint8_t *h)
{
	unsigned sum = 0;
	size_t i;

	memset(h + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

static void
test_roundtrip(void **state)
{
	struct ca_files f, g = { 0 };
	struct kr_error err = { 0 };
	uint8_t *t1, *t2;
	size_t l1, l2, i;

	(void)state;
	sample(&f);
	assert_int_equal(ca_tar_write(&f, &t1, &l1, &err), KR_OK);
	/* Headers, two data blocks (the empty file has none), the end. */
	assert_int_equal(l1, 512 * (3 + 2 + 2));
	assert_int_equal(l1 % 512, 0);
	/* Sorted, whatever the set's order. */
	assert_string_equal((char *)t1, "a-0123.pem");
	assert_memory_equal(t1 + 257, "ustar\0" "00", 8);
	assert_memory_equal(t1 + 100, "0000644", 8);
	assert_memory_equal(t1 + 136, "00000000000", 12);
	assert_int_equal(ca_tar_read(t1, l1, &g, &err), KR_OK);
	assert_int_equal(g.n, 3);
	for (i = 0; i < f.n; i++) {
		const struct ca_file *a = &f.v[i];
		const struct ca_file *b = ca_files_get(&g, a->name);

		assert_non_null(b);
		assert_int_equal(a->len, b->len);
		assert_memory_equal(a->data, b->data, a->len);
	}
	/* The same set packs to the same bytes. */
	ca_files_sort(&f);
	assert_int_equal(ca_tar_write(&g, &t2, &l2, &err), KR_OK);
	assert_int_equal(l1, l2);
	assert_memory_equal(t1, t2, l1);
	free(t1);
	free(t2);
	ca_files_free(&f);
	ca_files_free(&g);
}

static void
test_gnu_magic(void **state)
{
	struct ca_files f, g = { 0 };
	struct kr_error err = { 0 };
	uint8_t *t, *big;
	size_t l;

	(void)state;
	sample(&f);
	assert_int_equal(ca_tar_write(&f, &t, &l, &err), KR_OK);
	/* GNU tar's old magic, and a record padded to 10240 bytes. */
	memcpy(t + 257, "ustar  ", 8);
	fix_sum(t);
	big = calloc(1, 10240);
	memcpy(big, t, l);
	assert_int_equal(ca_tar_read(big, 10240, &g, &err), KR_OK);
	assert_int_equal(g.n, 3);
	free(big);
	free(t);
	ca_files_free(&f);
	ca_files_free(&g);
}

static void
test_bad(void **state)
{
	static const struct {
		const char	*name;		/* of the first entry */
		int		 field;		/* offset to set, or -1 */
		const char	*value;
		int		 vlen;
		const char	*says;
	} t[] = {
		{ "/etc/passwd", -1, NULL, 0, "an absolute path" },
		{ "../x.pem", -1, NULL, 0, "'..' component" },
		{ "..", -1, NULL, 0, "'..' component" },
		{ "a/b.pem", -1, NULL, 0, "a path with a directory" },
		{ ".hidden", -1, NULL, 0, "a name a bundle does not hold" },
		{ "a b.pem", -1, NULL, 0, "a name a bundle does not hold" },
		{ "x\x01y", -1, NULL, 0, "'x?y'" },
		{ "a.pem", 156, "2", 1, "a symbolic link" },
		{ "a.pem", 156, "1", 1, "a hard link" },
		{ "a.pem", 156, "5", 1, "a directory" },
		{ "a.pem", 156, "x", 1, "a pax extended header" },
		{ "a.pem", 156, "L", 1, "a GNU long-name header" },
		{ "a.pem", 156, "3", 1, "a special entry" },
		{ "a.pem", 345, "dir", 3, "directory prefix" },
		{ "a.pem", 257, "tar\0\0\0", 6, "not a ustar header" },
		{ "a.pem", 124, "12x", 3, "bad size field" },
		{ "a.pem", 124, "\x80\0\0\0\0\0\0\0\0\0\0\x01", 12,
		    "bad size field" },
		{ "a.pem", 124, "77777777777", 11, "over the limit" },
		{ "a.pem", 124, "00000010000", 11, "cut short" },
		{ "a.pem", 148, "1234567", 7, "bad header checksum" },
	};
	struct ca_files f, g;
	struct kr_error err;
	uint8_t *tar;
	size_t l, i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&f, 0, sizeof(f));
		add(&f, "a.pem", "x");
		add(&f, "b.pem", "y");
		assert_int_equal(ca_tar_write(&f, &tar, &l, &err), KR_OK);
		memset(tar, 0, 100);
		memcpy(tar, t[i].name, strlen(t[i].name));
		if (t[i].field >= 0)
			memcpy(tar + t[i].field, t[i].value,
			    (size_t)t[i].vlen);
		if (t[i].field != 148)
			fix_sum(tar);
		memset(&err, 0, sizeof(err));
		if (ca_tar_read(tar, l, &g, &err) != KR_E_PARSE)
			fail_msg("row %zu (%s) was accepted", i, t[i].says);
		if (strstr(err.msg, t[i].says) == NULL)
			fail_msg("row %zu: '%s' lacks '%s'", i, err.msg,
			    t[i].says);
		assert_int_equal(g.n, 0);
		free(tar);
		ca_files_free(&f);
	}
}

static void
test_bad_shape(void **state)
{
	struct ca_files f, g;
	struct kr_error err = { 0 };
	uint8_t *tar, *big;
	size_t l;

	(void)state;
	memset(&f, 0, sizeof(f));
	add(&f, "a.pem", "x");
	add(&f, "b.pem", "y");
	assert_int_equal(ca_tar_write(&f, &tar, &l, &err), KR_OK);
	/* Not whole blocks. */
	assert_int_equal(ca_tar_read(tar, l - 1, &g, &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "whole number"));
	/* No end marker, or half of one. */
	assert_int_equal(ca_tar_read(tar, l - 1024, &g, &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "no end-of-archive"));
	assert_int_equal(ca_tar_read(tar, l - 512, &g, &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "single zero block"));
	/* Anything after the end. */
	big = calloc(1, l + 512);
	memcpy(big, tar, l);
	big[l + 3] = 'x';
	assert_int_equal(ca_tar_read(big, l + 512, &g, &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "after the end-of-archive"));
	free(big);
	/* The same name twice. */
	memcpy(tar + 1024, "a.pem", 6);
	fix_sum(tar + 1024);
	assert_int_equal(ca_tar_read(tar, l, &g, &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "a.pem: named twice"));
	/* Nothing at all. */
	assert_int_equal(ca_tar_read(tar, 0, &g, &err), KR_E_PARSE);
	free(tar);
	ca_files_free(&f);
}

static void
test_names(void **state)
{
	struct ca_files f = { 0 };
	struct kr_error err = { 0 };
	char longname[CA_FILE_NAME_MAX + 2];

	(void)state;
	assert_true(ca_file_name_ok("manifest.json.sig"));
	assert_true(ca_file_name_ok("anchor-0123456789abcdef.pem"));
	assert_false(ca_file_name_ok(""));
	assert_false(ca_file_name_ok("."));
	assert_false(ca_file_name_ok(".."));
	assert_false(ca_file_name_ok("a/b"));
	assert_false(ca_file_name_ok("a\\b"));
	assert_false(ca_file_name_ok("caf\xc3\xa9"));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(ca_file_name_ok(longname));
	longname[CA_FILE_NAME_MAX] = '\0';
	assert_true(ca_file_name_ok(longname));
	assert_int_equal(ca_files_add(&f, "a", "1", 1, &err), KR_OK);
	assert_int_equal(ca_files_add(&f, "a", "2", 1, &err), KR_E_EXISTS);
	assert_int_equal(ca_files_put(&f, "a", "22", 2, &err), KR_OK);
	assert_int_equal(ca_files_get(&f, "a")->len, 2);
	assert_int_equal(ca_files_add(&f, "../a", "", 0, &err), KR_E_USAGE);
	ca_files_free(&f);
}

static void
test_dir(void **state)
{
	struct ca_files f, g = { 0 };
	struct kr_error err = { 0 };
	struct stat st;
	char tmpl[] = "/tmp/test_tar.XXXXXX", dir[64], path[128];

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(dir, sizeof(dir), "%s/b", tmpl);
	sample(&f);
	assert_int_equal(ca_files_write_dir(dir, &f, &err), KR_OK);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	assert_int_equal(ca_files_write_dir(dir, &f, &err), KR_E_EXISTS);
	assert_int_equal(ca_files_read_dir(dir, &g, &err), KR_OK);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.v[0].name, "a-0123.pem");
	ca_files_free(&g);
	/* A link or a subdirectory in a bundle directory is refused. */
	snprintf(path, sizeof(path), "%s/link.pem", dir);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(ca_files_read_dir(dir, &g, &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "not a regular file"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(ca_files_read_dir(dir, &g, &err), KR_E_PARSE);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b.pem", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/a-0123.pem", dir);
	unlink(path);
	rmdir(dir);
	rmdir(tmpl);
	ca_files_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_gnu_magic),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_bad_shape),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
