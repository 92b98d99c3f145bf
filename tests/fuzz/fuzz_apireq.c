/*
 * fuzz_apireq.c: libFuzzer target for ca/apireq.c, the parser of
 * keyrited's API request bodies.  Every input is parsed as each of the
 * three request kinds; whatever is accepted must have what its kind
 * requires, whatever is refused must say why with a known code and
 * status.  Seeds: tests/fuzz/corpus/apireq/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ca/apireq.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const known[] = {
	"bad_json", "bad_request", "bad_csr", "csr_signature", "bad_lifetime",
	"bad_reason", "body_too_large", NULL,
};

static void
check_refusal(const struct ca_apireq_err *e)
{
	size_t i;

	for (i = 0; known[i] != NULL; i++)
		if (strcmp(e->code, known[i]) == 0)
			break;
	if (known[i] == NULL || (e->http != 400 && e->http != 413) ||
	    e->msg[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_apireq r;
	struct ca_apireq_err e;
	int kind;

	for (kind = CA_APIREQ_SIGN; kind <= CA_APIREQ_REVOKE; kind++) {
		memset(&e, 0, sizeof(e));
		if (ca_apireq_parse((enum ca_apireq_kind)kind,
		    (const char *)data, size, &r, &e) != 0) {
			check_refusal(&e);
			continue;
		}
		if (kind == CA_APIREQ_SIGN && (r.csr == NULL ||
		    r.token == NULL))
			abort();
		if (kind != CA_APIREQ_SIGN && r.csr != NULL)
			abort();
		if (r.lifetime < 0 || r.reason < -1)
			abort();
		if (kind == CA_APIREQ_REVOKE && r.token != NULL &&
		    r.serial == NULL)
			abort();
		ca_apireq_free(&r);
	}
	return 0;
}
