/*
 * fuzz_uri.c: the RFC 7512 URI parser, which reads --key and --token
 * arguments: must never crash, leak, or accept pin-value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hsm/uri.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct hsm_uri u;
	struct kr_error err;
	char *s, *f;

	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	if (hsm_uri_parse(s, &u, &err) == KR_OK) {
		/* What parses formats, and the format parses again. */
		if ((f = hsm_uri_format(&u)) != NULL) {
			struct hsm_uri v;

			if (hsm_uri_parse(f, &v, &err) != KR_OK)
				abort();
			hsm_uri_free(&v);
			free(f);
		}
		hsm_uri_free(&u);
	}
	free(s);
	return 0;
}
