/*
 * fuzz_trustpath.c: libFuzzer target for the request paths of /trust/
 * on keyrited's publication listener (cmd/keyrited/trustpath.c,
 * compiled in here).  Whatever is accepted must name a file publish
 * writes, and be exactly the path that file is served at: nothing is
 * normalised, so nothing else can reach the disk.  Seeds:
 * tests/fuzz/corpus/trustpath/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cmd/keyrited/trustpath.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_trust_path p;
	char *url, file[96], again[160];

	if ((url = malloc(size + 1)) == NULL)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	if (kd_trust_path_parse(url, &p) != 0) {
		if (p.what != 0 || p.version != 0)
			abort();	/* refused, but filled in */
		free(url);
		return 0;
	}
	if (kd_trust_path_file(&p, file, sizeof(file)) != 0 ||
	    file[0] == '/' || file[0] == '.' || strstr(file, "..") != NULL ||
	    strstr(file, "//") != NULL || p.version < 0 ||
	    p.version > KD_TRUST_VERSION_MAX)
		abort();
	if (p.what == KD_TRUST_W_INDEX) {
		if (strcmp(url, "/trust/history") != 0 &&
		    strcmp(url, "/trust/history/") != 0 &&
		    strcmp(url, "/trust/history/index.json") != 0)
			abort();
	} else {
		/* The file is served at /trust/ + its name, and only there. */
		snprintf(again, sizeof(again), "/trust/%s", file);
		if (strcmp(url, again) != 0)
			abort();
	}
	free(url);
	return 0;
}
