/*
 * fuzz_inspect.c: "keyrite inspect" reads whatever file it is pointed
 * at: PEM or DER certificates, CSRs and CRLs, several per file.  Both
 * the text and the JSON report must come out of any input without a
 * crash, a leak or an out-of-bounds read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ca/inspect.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static FILE *devnull;
	struct kr_error err;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	(void)ca_inspect_buf(data, len, "fuzz", devnull, 0, &err);
	(void)ca_inspect_buf(data, len, "fuzz", devnull, 1, &err);
	return 0;
}
