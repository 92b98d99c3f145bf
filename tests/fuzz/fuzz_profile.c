/*
 * fuzz_profile.c: feed arbitrary bytes to the profile parser.  It must
 * never crash or leak, and whatever it accepts must be self-consistent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/profile.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pol_profile p;
	struct kr_error err;

	memset(&err, 0, sizeof(err));
	if (pol_profile_parse((const char *)data, len, "fuzz.yaml", &p,
	    &err) != KR_OK) {
		/* Every refusal says where. */
		if (strncmp(err.msg, "fuzz.yaml:", 10) != 0 &&
		    err.code != KR_E_NOMEM)
			abort();
		return 0;
	}
	if (p.default_validity <= 0 || p.default_validity > p.max_validity ||
	    p.key_usage == 0 || p.key_types == 0 || p.name[0] == '\0' ||
	    (p.kind != POL_KIND_ROOT && p.kind != POL_KIND_INTERMEDIATE &&
	    p.kind != POL_KIND_LEAF))
		abort();
	return 0;
}
