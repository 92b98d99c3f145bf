/*
 * fuzz_armor.c: libFuzzer target for the share / officer-credential
 * armor.  Every input goes through cer_armor_parse; what parses is
 * opened with the passphrase "fuzz" when its Argon2id limits are small
 * (the seeds use the minimum), and what opens is sealed again and must
 * parse back to the same header.  Seeds: tests/fuzz/corpus/armor/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../ceremony/armor.h"

#define FUZZ_PASS	"fuzz"

/* Argon2id above this would make each input take milliseconds or more. */
#define FUZZ_MAX_OPSLIMIT	2
#define FUZZ_MAX_MEMLIMIT	(64 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
reseal(const struct cer_armor *a, const uint8_t *pt, size_t n)
{
	struct cer_armor *b = NULL;
	struct kr_error err;
	uint8_t ad0[CER_ARMOR_AD_MAX], ad1[CER_ARMOR_AD_MAX];
	size_t l0, l1;
	char *text = NULL;

	if (cer_armor_seal(&a->hdr, pt, n, FUZZ_PASS, strlen(FUZZ_PASS),
	    &text, &err) != KR_OK)
		abort();	/* a header that parsed must seal */
	if (cer_armor_parse(text, strlen(text), &b, &err) != KR_OK)
		abort();	/* and what we write we must read */
	/* Equal but for the salt, which seal draws afresh. */
	memcpy(b->hdr.salt, a->hdr.salt, CER_SALT_LEN);
	if (cer_armor_hdr_encode(&a->hdr, ad0, &l0, &err) != KR_OK ||
	    cer_armor_hdr_encode(&b->hdr, ad1, &l1, &err) != KR_OK ||
	    l0 != l1 || memcmp(ad0, ad1, l0) != 0 ||
	    b->body_len != a->body_len)
		abort();
	cer_armor_free(b);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct cer_armor_hdr *set[2];
	struct cer_armor *a = NULL;
	struct kr_error err;
	uint8_t *pt = NULL;
	size_t n = 0;

	if (sodium_init() < 0)
		abort();
	if (cer_armor_parse((const char *)data, size, &a, &err) != KR_OK) {
		if (a != NULL)
			abort();
		return 0;
	}
	set[0] = &a->hdr;
	set[1] = &a->hdr;
	if (cer_armor_check_set(set, NULL, 2, &err) != KR_E_VERIFY)
		abort();	/* the same share twice */
	if (a->hdr.opslimit <= FUZZ_MAX_OPSLIMIT &&
	    a->hdr.memlimit <= FUZZ_MAX_MEMLIMIT &&
	    cer_armor_open(a, FUZZ_PASS, strlen(FUZZ_PASS), &pt, &n,
	    &err) == KR_OK) {
		reseal(a, pt, n);
		sodium_free(pt);
	}
	cer_armor_free(a);
	return 0;
}
