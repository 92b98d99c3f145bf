/*
 * quorum.h: two-person (k-of-n) activation of a token.  The token's user
 * PIN is random, long, and known to nobody: it is Shamir-split among the
 * officers, one armored credential file each, and rebuilt in guarded
 * memory only when k officers unlock their credentials.  Each credential
 * also carries the officer's Ed25519 signing key for ceremony
 * transcripts.
 */
#ifndef CER_QUORUM_H
#define CER_QUORUM_H

#include <stddef.h>
#include <stdint.h>

#include "../common/file.h"
#include "../hsm/hsm.h"
#include "armor.h"

#define CER_QUORUM_PIN_LEN	40	/* characters, ~238 bits */
#define CER_OFFICER_SEED_LEN	32	/* Ed25519 seed */

/*
 * The secret id binding a quorum's credentials to one token (its label
 * and serial), so credentials for another token are refused by name.
 */
void		 cer_quorum_secret_id(const char *label, const char *serial,
		     uint8_t out[CER_SECRET_ID_LEN]);

/*
 * Make a quorum for the token of session s without touching the token: a
 * fresh random user PIN (*pin, guarded memory, the caller frees it) split
 * among the n officers (k needed), each credential sealed with
 * passphrases[i].  *creds gets n armored texts and *public_json the
 * quorum's public record (names, share indexes, Ed25519 public keys,
 * token); all malloc'd for the caller.  The caller writes the
 * credentials durably and only then calls cer_quorum_apply, so that the
 * token never has a PIN that nobody holds.
 */
enum kr_err	 cer_quorum_make(struct hsm_session *s,
		     const char *const *officers, size_t n, unsigned k,
		     enum cer_kdf_cost cost,
		     struct kr_secret *const *passphrases, char ***creds,
		     char **public_json, struct kr_secret **pin,
		     struct kr_error *err);

/*
 * Log in as security officer with so_pin, set pin as the user PIN
 * (C_InitPIN), log out, and check the token takes it.  *pin_set (may be
 * NULL) says whether the token's PIN was changed, also on failure.
 */
enum kr_err	 cer_quorum_apply(struct hsm_session *s, const char *so_pin,
		     size_t so_len, const struct kr_secret *pin, int *pin_set,
		     struct kr_error *err);

/*
 * Check, without any passphrase, that count credentials are officer
 * credentials of one quorum with at least k distinct officers.  Run
 * before the token is touched.
 */
enum kr_err	 cer_quorum_check(struct cer_armor *const *creds,
		     const char *const *names, size_t count,
		     struct kr_error *err);

/*
 * Rebuild the user PIN of the token labelled label with serial from
 * officer credentials (checked as cer_quorum_check does, and bound to
 * that token).  *pin is a kr_secret the caller frees.
 */
enum kr_err	 cer_quorum_pin(struct cer_armor *const *creds,
		     const char *const *names,
		     struct kr_secret *const *passphrases, size_t count,
		     const char *label, const char *serial,
		     struct kr_secret **pin, struct kr_error *err);

/*
 * Open one officer credential and return its Ed25519 secret key
 * (crypto_sign_SECRETKEYBYTES, sodium_malloc'd; sodium_free it) and
 * public key.
 */
enum kr_err	 cer_officer_signing_key(const struct cer_armor *cred,
		     const struct kr_secret *passphrase, uint8_t **sk,
		     uint8_t pk[32], struct kr_error *err);

#endif /* CER_QUORUM_H */
