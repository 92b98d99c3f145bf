/*
 * fuzz_blob.c: the backup.blob parser (JSON read from a backup
 * directory that may have been tampered with) must never crash or leak,
 * and what it accepts must hash to a secret id without trouble.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ceremony/backup.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct cer_backup *b = NULL;
	struct kr_error err;
	uint8_t sid[CER_SECRET_ID_LEN];
	EVP_PKEY *pk = NULL;

	if (cer_backup_parse((const char *)data, len, "fuzz", &b, &err) ==
	    KR_OK) {
		cer_backup_secret_id(b, sid);
		if (cer_backup_public(b, &pk, &err) == KR_OK)
			EVP_PKEY_free(pk);
		cer_backup_free(b);
	}
	return 0;
}
