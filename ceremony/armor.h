/*
 * armor.h: share and officer-credential files.  One text format for
 * both: a header (version, kind, set id, secret id, k, n, x, holder, KDF
 * parameters, salt) that is authenticated as AEAD associated data, and a
 * payload encrypted with XChaCha20-Poly1305 under a key derived from the
 * holder's passphrase with Argon2id.  The armor survives printing and
 * retyping: Crockford base32 data lines, each with its own checksum, and
 * a Check line over the header and all data.  docs/formats-shares.md has
 * the format byte by byte.
 */
#ifndef CER_ARMOR_H
#define CER_ARMOR_H

#include <stddef.h>
#include <stdint.h>

#include "../common/file.h"
#include "../common/kr.h"

#define CER_ARMOR_VERSION	1
#define CER_SET_ID_LEN		16	/* random per backup or quorum */
#define CER_SECRET_ID_LEN	32	/* hash naming what was split */
#define CER_SALT_LEN		16	/* crypto_pwhash_SALTBYTES */
#define CER_HOLDER_MAX		64	/* characters in a holder name */
#define CER_PAYLOAD_MAX		1024	/* bytes of secret payload */
#define CER_ARMOR_AD_MAX	(91 + CER_HOLDER_MAX)	/* see the doc */
#define CER_ARMOR_TEXT_MAX	65536	/* larger input is refused */

enum cer_kind {
	CER_KIND_SHARE = 1,	/* a custodian's share of a backup key */
	CER_KIND_OFFICER = 2,	/* an officer's quorum credential */
};

enum cer_kdf {
	CER_KDF_ARGON2ID13 = 1,	/* crypto_pwhash_ALG_ARGON2ID13 */
};

/*
 * Argon2id cost presets for cer_armor_hdr_init.  MODERATE is the default
 * for real files; INTERACTIVE and MIN exist so tests run fast.
 */
enum cer_kdf_cost {
	CER_KDF_COST_MODERATE = 0,
	CER_KDF_COST_INTERACTIVE,
	CER_KDF_COST_MIN,
};

/*
 * The header.  Every field is public (it is printed on the paper copy)
 * and every field is bound to the ciphertext as associated data.
 */
struct cer_armor_hdr {
	unsigned	 version;		/* CER_ARMOR_VERSION */
	enum cer_kind	 kind;
	uint8_t		 set_id[CER_SET_ID_LEN];
	uint8_t		 secret_id[CER_SECRET_ID_LEN];
	unsigned	 k;			/* threshold, 2..n */
	unsigned	 n;			/* count, k..255 */
	unsigned	 x;			/* this share's index, 1..n */
	char		 holder[CER_HOLDER_MAX + 1];	/* NUL-terminated */
	enum cer_kdf	 kdf;
	uint64_t	 opslimit;		/* crypto_pwhash opslimit */
	uint64_t	 memlimit;		/* crypto_pwhash memlimit, bytes */
	uint8_t		 salt[CER_SALT_LEN];	/* set by cer_armor_seal */
};

/*
 * Kind-specific wording: "share" / "officer credential" (what one file
 * is) and "backup set" / "officer quorum" (what a set id names).
 */
const char	*cer_kind_name(enum cer_kind);
const char	*cer_kind_set_name(enum cer_kind);

/*
 * Zero h and set the version, kind, KDF and its cost.  The caller fills
 * set_id, secret_id, k, n, x and holder.
 */
void		 cer_armor_hdr_init(struct cer_armor_hdr *h, enum cer_kind kind,
		     enum cer_kdf_cost cost);

/*
 * Check that h is a header keyrite would write: version, kind, 2 <= k <=
 * n <= 255, 1 <= x <= n, a non-zero set id and secret id, a holder name
 * of 1..64 characters from [A-Za-z0-9 .'_@+-] without leading, trailing
 * or doubled spaces, and Argon2id limits between crypto_pwhash's minimum
 * and SENSITIVE (memlimit a multiple of 1024).  KR_E_USAGE otherwise.
 */
enum kr_err	 cer_armor_hdr_check(const struct cer_armor_hdr *h,
		     struct kr_error *err);

/*
 * The canonical serialisation of h used as associated data (and covered
 * by the Check line): out receives *len <= CER_ARMOR_AD_MAX bytes.
 * Fails with KR_E_USAGE when h does not pass cer_armor_hdr_check.
 */
enum kr_err	 cer_armor_hdr_encode(const struct cer_armor_hdr *h,
		     uint8_t out[CER_ARMOR_AD_MAX], size_t *len,
		     struct kr_error *err);

/*
 * Encrypt payload (1..CER_PAYLOAD_MAX bytes, an opaque secret: share
 * bytes, or share bytes and an Ed25519 seed, as the caller decides)
 * under a key derived from the passphrase (plen >= 1 bytes) and write
 * the armored text.  h is copied, and the copy gets a fresh random salt
 * (h->salt is ignored); the nonce is random too.  *text_out is malloc'd,
 * NUL-terminated, not secret; the caller frees it.  The derived key lives
 * in sodium_malloc'd memory and is wiped on every path; payload and
 * passphrase are only read.
 */
enum kr_err	 cer_armor_seal(const struct cer_armor_hdr *h,
		     const uint8_t *payload, size_t len, const char *passphrase,
		     size_t plen, char **text_out, struct kr_error *err)
		     __attribute__((warn_unused_result));

/* A parsed armor: header and the encrypted body (nonce || ct || tag). */
struct cer_armor {
	struct cer_armor_hdr	 hdr;
	uint8_t			*body;		/* malloc'd, not secret */
	size_t			 body_len;
};

/*
 * Parse armored text (len bytes; need not be NUL-terminated) without
 * decrypting, so that a file can be printed and checked for typing
 * mistakes without its passphrase.  Every line checksum, the line order,
 * the Check line (length and checksum over header and data) and every
 * header field are verified; errors are KR_E_PARSE with the line number
 * and, for a data line, which one to retype.  *out is allocated on
 * success; release it with cer_armor_free.
 */
enum kr_err	 cer_armor_parse(const char *text, size_t len,
		     struct cer_armor **out, struct kr_error *err)
		     __attribute__((warn_unused_result));

/*
 * Derive the key from the passphrase and decrypt a's payload into
 * *payload (sodium_malloc'd, *len bytes; the caller releases it with
 * sodium_free, which wipes it).  A wrong passphrase, or a header or
 * ciphertext altered after printing, is KR_E_AUTH: the AEAD cannot tell
 * them apart.  The key is wiped on every path; on error *payload is NULL.
 */
enum kr_err	 cer_armor_open(const struct cer_armor *a,
		     const char *passphrase, size_t plen, uint8_t **payload,
		     size_t *len, struct kr_error *err)
		     __attribute__((warn_unused_result));

/*
 * Check one data line as a person typed it (numbered lineno in their
 * copy; num is the data line number it must carry, 1-based): the line
 * rules, its number, its base32 and its checksum, exactly as
 * cer_armor_parse would, so that a mistyped line can be named and asked
 * for again at once.  KR_E_PARSE with "line LINENO: data line NN: ...;
 * retype it".  Nothing is corrected.  The whole text must still go
 * through cer_armor_parse (short last line, Check line, header).
 */
enum kr_err	 cer_armor_check_data_line(const char *line, unsigned lineno,
		     unsigned num, struct kr_error *err)
		     __attribute__((warn_unused_result));

/*
 * Open count armors (passphrases[i] opens a[i]; names[i] names it in
 * messages), check that each payload is exactly payload_len bytes (else
 * "NAME: not WHAT"), and Shamir-combine the first secret_len bytes of
 * the payloads with the headers' threshold into out (secret_len bytes of
 * the caller's guarded memory).  Every armor given is opened, so a bad
 * one is never ignored.  Payloads are wiped and freed on every path; the
 * set must have been checked (cer_armor_check_set) first.
 */
enum kr_err	 cer_armor_combine(struct cer_armor *const *a,
		     const char *const *names,
		     struct kr_secret *const *passphrases, size_t count,
		     size_t payload_len, size_t secret_len, const char *what,
		     uint8_t *out, struct kr_error *err);

/* Release a parsed armor; NULL is fine. */
void		 cer_armor_free(struct cer_armor *a);

/*
 * Check that the count headers belong together: same kind, set id,
 * secret id, k and n as hdrs[0]; distinct x; at least k of them.  names
 * (may be NULL) gives each one a display name (usually its file name)
 * for messages such as "share 3 (share-carol.txt): belongs to backup set
 * 7f3a9c01..., not 91c2aa07...; use the shares printed at the same
 * ceremony".  KR_E_VERIFY on a mismatch or a duplicate, KR_E_USAGE when
 * fewer than k are given.
 */
enum kr_err	 cer_armor_check_set(const struct cer_armor_hdr *const *hdrs,
		     const char *const *names, size_t count,
		     struct kr_error *err)
		     __attribute__((warn_unused_result));

#endif /* CER_ARMOR_H */
