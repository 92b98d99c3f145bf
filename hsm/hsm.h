/*
 * hsm.h: everything keyrite does with a PKCS#11 module.  Load a module,
 * list and initialise tokens, find a token or key by RFC 7512 URI, log
 * in, generate keys inside the token, sign with them (C_Sign: the key
 * never leaves the token), and wrap/unwrap keys for backups.  Knows
 * nothing of X.509.  No other module includes PKCS#11 headers.
 */
#ifndef HSM_H
#define HSM_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "../common/kr.h"
#include "uri.h"

struct hsm_module;	/* a loaded, initialised PKCS#11 library */
struct hsm_session;	/* a read-write session on one token */
struct hsm_key;		/* a private key in a token, with its public half */

enum hsm_keytype {
	HSM_KEY_NONE = 0,
	HSM_KEY_EC_P256 = 1,
	HSM_KEY_EC_P384 = 2,
	HSM_KEY_RSA_3072 = 3,
	HSM_KEY_RSA_4096 = 4,
	HSM_KEY_RSA_2048 = 5,	/* only recognised in existing tokens */
	HSM_KEY_OTHER = 6,
};

/* "ec-p384" <-> HSM_KEY_EC_P384; HSM_KEY_NONE if unknown. */
enum hsm_keytype hsm_keytype_from_name(const char *);
const char	*hsm_keytype_name(enum hsm_keytype);

/* Mechanisms of note, reported by hsm_tokens. */
#define HSM_MECH_EC_KEYGEN	0x01u
#define HSM_MECH_ECDSA		0x02u
#define HSM_MECH_RSA_KEYGEN	0x04u
#define HSM_MECH_RSA_PKCS	0x08u
#define HSM_MECH_AES_WRAP_PAD	0x10u
#define HSM_MECH_EDDSA		0x20u

/*
 * The module path used when none is given: $KEYRITE_PKCS11_MODULE, else
 * the first SoftHSM2 library found in the usual Debian places.  NULL if
 * none exists.
 */
const char	*hsm_default_module(void);

/* dlopen path (NULL = default) and C_Initialize it. */
enum kr_err	 hsm_module_load(const char *path, struct hsm_module **out,
		     struct kr_error *err);
/* C_Finalize and dlclose; safe on NULL. */
void		 hsm_module_free(struct hsm_module *);
/* "SoftHSM 2.6" style description of the library, and its path. */
const char	*hsm_module_description(const struct hsm_module *);
const char	*hsm_module_path(const struct hsm_module *);

struct hsm_token_info {
	unsigned long	slot;
	char		slot_description[65];
	int		present;		/* a token is in the slot */
	int		initialized;		/* CKF_TOKEN_INITIALIZED */
	int		user_pin_initialized;
	int		user_pin_locked;
	int		so_pin_locked;
	char		label[33];
	char		manufacturer[33];
	char		model[17];
	char		serial[17];
	unsigned	mechs;			/* HSM_MECH_* */
};

/* All slots, with their tokens.  Caller frees *out with free(). */
enum kr_err	 hsm_tokens(struct hsm_module *, struct hsm_token_info **out,
		     size_t *n, struct kr_error *err);

/*
 * Initialise the first present, uninitialised token: C_InitToken with
 * so_pin and label, then C_InitPIN with pin.  A token already carrying
 * label is refused.  *serial (17 bytes) gets the new token's serial so
 * the caller can name it in a URI.  PINs are not copied or kept.
 */
enum kr_err	 hsm_init_token(struct hsm_module *, const char *label,
		     const char *so_pin, size_t so_len, const char *pin,
		     size_t pin_len, char serial[17], struct kr_error *err);

/*
 * Open a read-write session on the one initialised token that matches
 * the token attributes of u (token, manufacturer, serial, model,
 * slot-id, slot-description, slot-manufacturer).  No match, or several,
 * is an error that lists what is there.
 */
enum kr_err	 hsm_open(struct hsm_module *, const struct hsm_uri *u,
		     struct hsm_session **out, struct kr_error *err);
/* Log out (if logged in) and close; safe on NULL. */
void		 hsm_close(struct hsm_session *);
/* The opened token's label and serial. */
const char	*hsm_session_label(const struct hsm_session *);
const char	*hsm_session_serial(const struct hsm_session *);

/*
 * C_Login as the user (so = 0) or security officer (so = 1).  The PIN is
 * passed through and not kept.  A wrong PIN is KR_E_AUTH and says how
 * many tries the token reports left, if it does.
 */
enum kr_err	 hsm_login(struct hsm_session *, int so, const char *pin,
		     size_t len, struct kr_error *err);

/* C_Logout, if logged in. */
void		 hsm_logout(struct hsm_session *);

/* C_SetPIN for the logged-in user or SO. */
enum kr_err	 hsm_set_pin(struct hsm_session *, const char *old,
		     size_t oldlen, const char *pin, size_t len,
		     struct kr_error *err);
/* C_InitPIN (SO logged in): set the user PIN. */
enum kr_err	 hsm_init_pin(struct hsm_session *, const char *pin,
		     size_t len, struct kr_error *err);

#define HSM_KEYGEN_EXTRACTABLE	0x01u	/* may be wrapped for backup */

/*
 * Generate a key pair inside the token: token objects, private key
 * CKA_SENSITIVE and CKA_PRIVATE, CKA_EXTRACTABLE only with the flag,
 * CKA_ID drawn from the token's RNG, CKA_LABEL label.  An object that
 * already has label is refused before anything is generated.  The
 * public key is read back, checked, and the private key's attributes are
 * read back and checked against the template.
 */
enum kr_err	 hsm_keygen(struct hsm_session *, const char *label,
		     enum hsm_keytype, unsigned flags, struct hsm_key **out,
		     struct kr_error *err);

/*
 * Find the one private key matching the object label and/or id of u
 * (at least one must be given), and its public key.
 */
enum kr_err	 hsm_key_find(struct hsm_session *, const struct hsm_uri *u,
		     struct hsm_key **out, struct kr_error *err);
void		 hsm_key_free(struct hsm_key *);

/* The key's public half (owned by the key) and facts about it. */
EVP_PKEY	*hsm_key_public(const struct hsm_key *);
enum hsm_keytype hsm_key_type(const struct hsm_key *);
const char	*hsm_key_label(const struct hsm_key *);

/*
 * Sign msg with the key inside the token: msg is hashed with md in
 * software, and the token signs the digest (CKM_ECDSA, or CKM_RSA_PKCS
 * over a DigestInfo).  *sig (malloc'd) is what goes into an X.509
 * signature: a DER ECDSA-Sig-Value or the RSA PKCS#1 v1.5 signature.
 */
enum kr_err	 hsm_key_sign(struct hsm_key *, const EVP_MD *md,
		     const unsigned char *msg, size_t len,
		     unsigned char **sig, size_t *siglen,
		     struct kr_error *err);

struct hsm_key_info {
	char		 label[129];
	char		 id_hex[2 * HSM_URI_ID_MAX + 1];
	enum hsm_keytype type;
	int		 has_private;
	int		 extractable;
	int		 sensitive;
	int		 always_sensitive;
	int		 never_extractable;
	int		 local;		/* generated inside the token */
	char		 spki_fpr[KR_FPR_LEN];	/* SHA-256 of the SPKI DER */
};

/* The key pairs in the token (private keys, and public-only keys). */
enum kr_err	 hsm_keys(struct hsm_session *, struct hsm_key_info **out,
		     size_t *n, struct kr_error *err);

#define HSM_WRAP_KEY_LEN 32	/* AES-256 wrapping keys */

/*
 * Wrap the private key k with CKM_AES_KEY_WRAP_PAD (RFC 5649) under wkey:
 * wkey is imported into the token as a session object (not a token
 * object, not extractable, usable only to wrap), used once, and
 * destroyed.  *out (malloc'd) is the wrapped PKCS#8 key.  The caller owns
 * wkey and wipes it.  Fails with CKR_KEY_UNEXTRACTABLE for a
 * --no-backup key.
 */
enum kr_err	 hsm_key_wrap(struct hsm_key *k,
		     const uint8_t wkey[HSM_WRAP_KEY_LEN], uint8_t **out,
		     size_t *outlen, struct kr_error *err);

/*
 * Unwrap wrapped (from hsm_key_wrap) into the session's token as a
 * SENSITIVE token private key labelled label with CKA_ID id, and create
 * its public key object from pub, so that hsm_key_find finds the pair.
 * The wrapping key is imported as a session object and destroyed.  A
 * label already in the token is refused before anything is created; on
 * any failure whatever was created is destroyed.
 */
enum kr_err	 hsm_key_unwrap(struct hsm_session *s,
		     const uint8_t wkey[HSM_WRAP_KEY_LEN],
		     const uint8_t *wrapped, size_t wlen, EVP_PKEY *pub,
		     const char *label, const uint8_t *id, size_t idlen,
		     struct hsm_key **out, struct kr_error *err);

/* Destroy the key pair k in its token (for tests and failed restores). */
enum kr_err	 hsm_key_destroy(struct hsm_key *k, struct kr_error *err);

/* The key's CKA_ID (id_len bytes). */
const uint8_t	*hsm_key_id(const struct hsm_key *k, size_t *id_len);

/* The name and meaning of a CKR_ value, e.g. "CKR_PIN_INCORRECT". */
const char	*hsm_ckr_name(unsigned long rv);
const char	*hsm_ckr_meaning(unsigned long rv);

#endif /* HSM_H */
