/*
 * jws.h: compact JSON Web Signatures (RFC 7515) and the public JSON Web
 * Keys that verify them (RFC 7517, RFC 8037), for the online signer's
 * one-time tokens and, later, ACME.  Verification only ever succeeds
 * for an algorithm the caller allowed, with a key of the matching type:
 * EdDSA (Ed25519), ES256 (P-256), ES384 (P-384), RS256 (RSA >= 2048).
 * Parsing is strict: unpadded canonical base64url, exactly three parts,
 * a protected header without duplicate members, no "none", no unknown
 * "crit", no unencoded payloads ("b64": false).  Why this is our own
 * module and not libjose: docs/jws.md.
 */
#ifndef CA_JWS_H
#define CA_JWS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "../common/kr.h"

#define CA_JWS_MAX		16384	/* bytes of a compact JWS we read */
#define CA_JWS_KEY_MAX		8192	/* bytes of a JWK's JSON text */
#define CA_JWS_RSA_MIN_BITS	2048
#define CA_JWS_RSA_MAX_BITS	8192
#define CA_JWS_THUMBPRINT_LEN	44	/* 43 base64url characters + NUL */
#define CA_JWS_ED25519_SK_LEN	64	/* libsodium's seed || public key */

/* Algorithms, as bits so that callers can allow several at once. */
enum ca_jws_alg {
	CA_JWS_EDDSA = 1 << 0,	/* "EdDSA" with Ed25519 (RFC 8037) */
	CA_JWS_ES256 = 1 << 1,	/* ECDSA P-256 SHA-256, raw r || s */
	CA_JWS_ES384 = 1 << 2,	/* ECDSA P-384 SHA-384, raw r || s */
	CA_JWS_RS256 = 1 << 3,	/* RSASSA-PKCS1-v1_5 SHA-256 */
};
#define CA_JWS_ALG_ALL	(CA_JWS_EDDSA | CA_JWS_ES256 | CA_JWS_ES384 | \
			 CA_JWS_RS256)

/* The "alg" name of one algorithm ("EdDSA", "ES256", ...), or NULL. */
const char	*ca_jws_alg_name(enum ca_jws_alg);

/*
 * Base64url without padding (RFC 7515 section 2).  Encoding writes a
 * NUL-terminated string of ca_jws_b64_len(len) characters into out,
 * which must hold ca_jws_b64_len(len) + 1 bytes.
 */
size_t		 ca_jws_b64_len(size_t len);
void		 ca_jws_b64_encode(const uint8_t *in, size_t len, char *out);

/*
 * Decode len characters of strict base64url into out (at most max
 * bytes; len * 3 / 4 is always enough), setting *outlen.  Refused, as
 * KR_E_PARSE naming what (e.g. "signature"): padding, any character
 * outside [A-Za-z0-9_-], a length of 4k+1, and non-zero unused bits in
 * the last character, so every byte string has exactly one encoding.
 * out may be secret memory: on error it is wiped.
 */
enum kr_err	 ca_jws_b64_decode(const char *in, size_t len, uint8_t *out,
		     size_t max, size_t *outlen, const char *what,
		     struct kr_error *err) __attribute__((warn_unused_result));

/*
 * A public key from a JWK: Ed25519 ("kty":"OKP","crv":"Ed25519","x"),
 * P-256 or P-384 ("kty":"EC","crv","x","y", the point checked to be on
 * the curve and not the identity), RSA ("kty":"RSA","n","e", an odd
 * modulus of 2048..8192 bits without prime factors below 1000, an odd
 * exponent between 2^16 and 2^32 as SP 800-56B wants).  Members must be
 * encoded as RFC 7518 requires: coordinates at full length, n and e
 * without leading zero octets.  Private members ("d", "p", ...) are refused: a JWK that
 * carries a private key is a mistake worth stopping.  "alg", when
 * present, pins the key to that algorithm; "use", when present, must be
 * "sig"; "kid" is kept; other members are ignored (RFC 7517 section 4).
 * Opaque; release with ca_jws_key_free.
 */
struct ca_jws_key;

/* Parse a JWK from JSON text (at most CA_JWS_KEY_MAX bytes). */
enum kr_err	 ca_jws_key_parse(const char *text, size_t len,
		     struct ca_jws_key **out, struct kr_error *err)
		     __attribute__((warn_unused_result));

/* Parse a JWK from a JSON object (a member of a larger document). */
enum kr_err	 ca_jws_key_from_json(const json_t *jwk,
		     struct ca_jws_key **out, struct kr_error *err)
		     __attribute__((warn_unused_result));

/*
 * The public half of pkey (Ed25519, P-256, P-384 or RSA within the
 * limits above) as a key.  pkey is not kept: the key holds its own.
 */
enum kr_err	 ca_jws_key_from_pkey(EVP_PKEY *pkey, struct ca_jws_key **out,
		     struct kr_error *err) __attribute__((warn_unused_result));

/* An Ed25519 public key (32 bytes, checked as the JWK "x" would be). */
enum kr_err	 ca_jws_key_from_ed25519(const uint8_t pk[32],
		     struct ca_jws_key **out, struct kr_error *err)
		     __attribute__((warn_unused_result));

/*
 * The key as a new JSON object holding only its required public members
 * (the RFC 7638 set: kty, crv, x, y or kty, n, e) and "kid" when it has
 * one.  The caller json_decref()s *out.
 */
enum kr_err	 ca_jws_key_to_json(const struct ca_jws_key *k, json_t **out,
		     struct kr_error *err) __attribute__((warn_unused_result));

/*
 * The RFC 7638 SHA-256 thumbprint of k, base64url (43 characters), the
 * name keyrite uses for a JWK (the token "kid", ACME account keys).
 */
void		 ca_jws_key_thumbprint(const struct ca_jws_key *k,
		     char out[CA_JWS_THUMBPRINT_LEN]);

/* The algorithms k can verify (one bit), and its "kid" or NULL. */
enum ca_jws_alg	 ca_jws_key_alg(const struct ca_jws_key *k);
const char	*ca_jws_key_kid(const struct ca_jws_key *k);

/* Whether a and b are the same public key. */
int		 ca_jws_key_equal(const struct ca_jws_key *a,
		     const struct ca_jws_key *b);

/* The key as an EVP_PKEY, owned by k (valid while k is). */
EVP_PKEY	*ca_jws_key_pkey(const struct ca_jws_key *k);

void		 ca_jws_key_free(struct ca_jws_key *k);

/*
 * Find the key for a JWS whose protected header is hdr: kid is its
 * "kid" string, or NULL when it has none.  Set *key (borrowed: it must
 * outlive the ca_jws_verify call) and return KR_OK, or return
 * KR_E_NOTFOUND (or any other error) with err filled.  ACME would read
 * the header's "jwk" here.
 */
typedef enum kr_err (*ca_jws_lookup_fn)(void *arg, const char *kid,
    const json_t *hdr, const struct ca_jws_key **key, struct kr_error *err);

/* What the caller accepts. */
struct ca_jws_verifier {
	unsigned		 algs;	/* enum ca_jws_alg bits; 0: none */
	const struct ca_jws_key	*key;	/* the key, or NULL to use lookup */
	ca_jws_lookup_fn	 lookup;
	void			*arg;
	/*
	 * "crit" extension names the caller understands and checks itself
	 * (NULL-terminated), or NULL for none.  "b64" is refused anyway.
	 */
	const char *const	*crit;
};

/* A verified JWS. */
struct ca_jws {
	json_t		*header;	/* the protected header object */
	enum ca_jws_alg	 alg;
	const char	*kid;		/* in header, or NULL */
	uint8_t		*payload;	/* malloc'd, NUL after payload_len */
	size_t		 payload_len;
};

/*
 * Verify a compact JWS of len bytes (need not be NUL-terminated).  In
 * order: size (<= CA_JWS_MAX) and shape (three parts, header and
 * signature not empty), base64url, header JSON (an object, no duplicate
 * members, "alg" a string), "alg" not "none" and in v->algs, "crit" and
 * "b64", the key (v->key, else v->lookup), the key's type and "alg"
 * against the header's "alg", the signature's length (64 for EdDSA and
 * ES256, 96 for ES384, the modulus length for RS256), the signature,
 * then the payload's base64url.  Errors: KR_E_PARSE for malformed input,
 * KR_E_POLICY for an algorithm, key, "crit" or "b64" that is refused,
 * KR_E_NOTFOUND from the lookup, KR_E_VERIFY for a signature that does
 * not verify.  On success *out holds header and payload; release with
 * ca_jws_free.  Nothing in *out may be trusted on error (it is NULL).
 */
enum kr_err	 ca_jws_verify(const char *jws, size_t len,
		     const struct ca_jws_verifier *v, struct ca_jws **out,
		     struct kr_error *err) __attribute__((warn_unused_result));

void		 ca_jws_free(struct ca_jws *j);

/*
 * Sign payload as a compact JWS.  The protected header is {"alg":...}
 * followed by the members of hdr (may be NULL), which must not contain
 * "alg", "crit" or "b64".  ca_jws_sign_ed25519 signs EdDSA with a
 * libsodium secret key (seed || public key, only read);
 * ca_jws_sign_pkey signs alg (which must fit the key: EdDSA for
 * Ed25519, ES256 for P-256, ES384 for P-384, RS256 for RSA) with an
 * EVP_PKEY holding a private key, ECDSA signatures converted from DER to
 * raw r || s.  *out is malloc'd, NUL-terminated; the caller frees it.
 */
enum kr_err	 ca_jws_sign_ed25519(const json_t *hdr, const uint8_t *payload,
		     size_t len, const uint8_t sk[CA_JWS_ED25519_SK_LEN],
		     char **out, struct kr_error *err)
		     __attribute__((warn_unused_result));
enum kr_err	 ca_jws_sign_pkey(enum ca_jws_alg alg, const json_t *hdr,
		     const uint8_t *payload, size_t len, EVP_PKEY *pkey,
		     char **out, struct kr_error *err)
		     __attribute__((warn_unused_result));

#endif /* CA_JWS_H */
