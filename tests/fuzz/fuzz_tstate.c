/*
 * fuzz_tstate.c: libFuzzer target for keyrite-trust's state file
 * (ca/tstate.c).  Whatever parses must keep what the parser promises
 * (version 0 exactly without a manifest, anchors 1 to 32 with a
 * certificate each, remove_after exactly on retiring ones) and encode
 * to a state that parses to the same encoding.
 *
 * Seeds: tests/fuzz/corpus/tstate/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "../../ca/tstate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_tstate st, st2;
	struct kr_error err = { 0 };
	char *t1 = NULL, *t2 = NULL;
	size_t l1, l2, i;
	X509 *x;

	if (ca_tstate_parse(data, size, &st, &err) != KR_OK) {
		if (err.code != KR_E_PARSE && err.code != KR_E_NOMEM)
			abort();
		if (strncmp(err.msg, "state.json: ", 12) != 0)
			abort();
		if (st.nanchors != 0 || st.manifest != NULL)
			abort();
		return 0;
	}
	if ((st.version == 0) != (st.manifest == NULL) || st.nanchors < 1 ||
	    st.nanchors > CA_BUNDLE_MAX_ANCHORS)
		abort();
	for (i = 0; i < st.nanchors; i++) {
		if ((st.anchors[i].state == CA_ANCHOR_RETIRING) !=
		    (st.anchors[i].remove_after != 0))
			abort();
		if ((x = ca_tstate_cert(&st, i)) == NULL)
			abort();
		X509_free(x);
	}
	for (i = 0; i < st.nstores; i++)
		if (!ca_tstate_store_ok(st.stores[i]))
			abort();
	if (ca_tstate_encode(&st, &t1, &l1, &err) != KR_OK)
		abort();
	if (ca_tstate_parse((uint8_t *)t1, l1, &st2, &err) != KR_OK)
		abort();
	if (ca_tstate_encode(&st2, &t2, &l2, &err) != KR_OK || l1 != l2 ||
	    memcmp(t1, t2, l1) != 0)
		abort();
	ca_tstate_free(&st);
	ca_tstate_free(&st2);
	free(t1);
	free(t2);
	return 0;
}
