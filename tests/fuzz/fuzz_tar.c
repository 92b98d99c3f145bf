/*
 * fuzz_tar.c: libFuzzer target for ca/tar.c's archive reader.  Whatever
 * it accepts must be a set of good, distinct names within the limits,
 * and must pack again to an archive that reads back to the same set;
 * whatever it refuses must leave the set empty.  Seeds:
 * tests/fuzz/corpus/tar/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ca/tar.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_files f, g;
	struct kr_error err = { 0 };
	const struct ca_file *b;
	uint8_t *out = NULL;
	size_t len, i, j, total = 0;

	if (ca_tar_read(data, size, &f, &err) != KR_OK) {
		if (f.n != 0 || f.v != NULL || err.code != KR_E_PARSE)
			abort();
		return 0;
	}
	if (f.n > CA_FILES_MAX)
		abort();
	for (i = 0; i < f.n; i++) {
		if (!ca_file_name_ok(f.v[i].name) || f.v[i].len > CA_FILE_MAX)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(f.v[i].name, f.v[j].name) == 0)
				abort();
		total += f.v[i].len;
	}
	if (total > CA_FILES_TOTAL_MAX)
		abort();
	if (ca_tar_write(&f, &out, &len, &err) != KR_OK ||
	    ca_tar_read(out, len, &g, &err) != KR_OK || g.n != f.n)
		abort();
	for (i = 0; i < f.n; i++) {
		b = ca_files_get(&g, f.v[i].name);
		if (b == NULL || b->len != f.v[i].len ||
		    (b->len > 0 && memcmp(b->data, f.v[i].data, b->len) != 0))
			abort();
	}
	free(out);
	ca_files_free(&f);
	ca_files_free(&g);
	return 0;
}
