/*
 * fuzz_provisioner.c: libFuzzer target for ca/provisioner.c: the
 * provisioner file (with its secret key) and the public view in
 * keyrited's provisioners/ directory.  Accepted input must give a
 * provisioner whose allow lists the name matcher accepts.  Seeds:
 * tests/fuzz/corpus/provisioner/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../../ca/provisioner.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const struct ca_prov *p)
{
	size_t i;

	if (p->name[0] == '\0' || p->key == NULL || p->max_lifetime <
	    CA_PROV_LIFETIME_MIN || p->max_lifetime > CA_PROV_LIFETIME_MAX)
		abort();
	for (i = 0; i < p->nallow; i++)
		if (!ca_prov_dns_pattern_ok(p->allow[i]))
			abort();
	for (i = 0; i < p->nallow_ip; i++)
		if (!ca_prov_cidr_ok(p->allow_ip[i]))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_prov *p = NULL;
	struct kr_error err;
	json_t *o;

	if (sodium_init() < 0)
		abort();
	if (size > CA_PROV_FILE_MAX)
		return 0;
	if (ca_prov_parse((const char *)data, size, &p, &err) == KR_OK) {
		check(p);
		if (p->sk == NULL || p->server == NULL)
			abort();
		ca_prov_free(p);
		p = NULL;
	}
	if ((o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    NULL)) != NULL) {
		if (ca_prov_public_from_json(o, &p, &err) == KR_OK) {
			check(p);
			if (p->sk != NULL)
				abort();
			ca_prov_free(p);
		}
		json_decref(o);
	}
	return 0;
}
