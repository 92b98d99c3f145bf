/*
 * fuzz_rotate.c: `keyrite root init --constraints-from FILE` and the
 * ceremony's root-selfsign constraints_from read the name constraints
 * of a certificate from outside.  Any DER certificate must give text
 * for the room and either a root with exactly its constraints or a
 * refusal, without a crash, a leak or an out-of-bounds read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ca/rotate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static EVP_PKEY *key;
	static struct pol_profile prof;
	static int have_prof;
	struct kr_error err;
	const unsigned char *p = data;
	X509 *model, *out = NULL;
	char text[512];

	if (key == NULL && (key = EVP_EC_gen("P-256")) == NULL)
		abort();
	if (!have_prof) {
		if (pol_profile_find("root", &prof, &err) != KR_OK)
			abort();
		have_prof = 1;
	}
	if ((model = d2i_X509(NULL, &p, (long)len)) == NULL)
		return 0;
	ca_name_constraints_text(model, text, sizeof(text));
	if (ca_root_build_like("CN=Fuzz Root", key, &prof, 86400, model,
	    "fuzz", 1800000000, &out, &err) == KR_OK && out == NULL)
		abort();
	X509_free(out);
	X509_free(model);
	return 0;
}
