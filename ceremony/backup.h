/*
 * backup.h: Shamir-split backups of a token key.  A fresh 256-bit
 * wrapping key W wraps the key inside the token (CKM_AES_KEY_WRAP_PAD);
 * W is split k-of-n into armored shares, one per holder, and wiped.
 * backup.blob (JSON, docs/formats-backup.md) keeps the wrapped key, the
 * public key, the root certificate's fingerprint, and a MAC keyed with W
 * over all of it, so that a rebuilt W is checked before anything is
 * unwrapped and an altered blob is refused.
 */
#ifndef CER_BACKUP_H
#define CER_BACKUP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "../common/file.h"
#include "../hsm/hsm.h"
#include "armor.h"

#define CER_BACKUP_VERSION	1
#define CER_BACKUP_MAX		(256 * 1024)	/* larger blobs are refused */

struct cer_backup {
	uint8_t		 set_id[CER_SET_ID_LEN];
	char		 created[32];		/* YYYY-MM-DDTHH:MM:SSZ */
	char		 key_label[129];
	uint8_t		 key_id[HSM_URI_ID_MAX];
	size_t		 key_id_len;
	char		 key_type[16];		/* "ec-p384" */
	uint8_t		*spki;			/* DER SubjectPublicKeyInfo */
	size_t		 spki_len;
	uint8_t		 root_fpr[32];		/* SHA-256 of the root cert */
	unsigned	 k, n;
	char		**holders;		/* n names, share x = index+1 */
	uint8_t		*wrapped;		/* RFC 5649 wrapped PKCS#8 */
	size_t		 wrapped_len;
	uint8_t		 mac[32];		/* BLAKE2b-256 keyed with W */
};

/*
 * Parse backup.blob strictly (unknown or missing fields, wrong types or
 * lengths are errors naming name and the field).  Free with
 * cer_backup_free.
 */
enum kr_err	 cer_backup_parse(const char *text, size_t len,
		     const char *name, struct cer_backup **out,
		     struct kr_error *err);
void		 cer_backup_free(struct cer_backup *);

/* The secret id the backup's shares carry: a hash of the blob's fields. */
void		 cer_backup_secret_id(const struct cer_backup *,
		     uint8_t out[CER_SECRET_ID_LEN]);

/*
 * Create a backup of key: draw W, wrap key, split W among holders (each
 * share sealed with passphrases[i]), wipe W.  *blob_json and shares[i]
 * (n malloc'd texts, array malloc'd) are the caller's to write and free.
 */
enum kr_err	 cer_backup_create(struct hsm_key *key,
		     const uint8_t root_fpr[32], const char *const *holders,
		     size_t n, unsigned k, enum cer_kdf_cost cost, time_t now,
		     struct kr_secret *const *passphrases, char **blob_json,
		     char ***shares, struct kr_error *err);

/*
 * Rebuild W from count parsed shares (names[i] is how share i is called
 * in messages, passphrases[i] opens it).  Every share must belong to b;
 * at least k distinct shares are needed; the rebuilt W must match the
 * blob's MAC.  *wkey is sodium_malloc'd (HSM_WRAP_KEY_LEN bytes): the
 * caller wipes and frees it with sodium_free.
 */
enum kr_err	 cer_backup_unlock(const struct cer_backup *b,
		     struct cer_armor *const *shares,
		     const char *const *names,
		     struct kr_secret *const *passphrases, size_t count,
		     uint8_t **wkey, struct kr_error *err);

/*
 * Check that every share belongs to b and that there are at least k
 * distinct ones, without any passphrase.
 */
enum kr_err	 cer_backup_check_shares(const struct cer_backup *b,
		     struct cer_armor *const *shares,
		     const char *const *names, size_t count,
		     struct kr_error *err);

/*
 * Unwrap the backed-up key into the session's token as label (NULL: the
 * original label) and prove it: its public key equals root_pub (the root
 * certificate's), and it signs a restore-proof message (a fixed prefix
 * and a random nonce, never a certificate or CRL) that verifies under
 * root_pub.  On failure nothing is left in the token.
 */
enum kr_err	 cer_backup_restore(struct hsm_session *s,
		     const struct cer_backup *b, const uint8_t *wkey,
		     const char *label, EVP_PKEY *root_pub,
		     struct hsm_key **out, struct kr_error *err);

/* The blob's public key (caller frees). */
enum kr_err	 cer_backup_public(const struct cer_backup *b,
		     EVP_PKEY **out, struct kr_error *err);

#endif /* CER_BACKUP_H */
