/*
 * token.h: the one-time token that authenticates a request to the
 * online signer (DESIGN.md, "Lessons").  A compact JWS, EdDSA only,
 * signed by a provisioner's Ed25519 key:
 *
 *   header  {"alg":"EdDSA","typ":"keyrite-token+jwt","kid":THUMBPRINT}
 *   claims  {"iss":PROVISIONER,"aud":SERVER_URL,"sub":NAME,
 *            "sans":[NAME,...],"iat":T,"nbf":T (optional),"exp":T,
 *            "jti":RANDOM}
 *
 * kid is the RFC 7638 thumbprint of the provisioner's public key, so the
 * verifier finds the key without trusting anything unsigned; iss must
 * then name that same provisioner.  A token lives at most
 * CA_TOKEN_LIFETIME_MAX seconds.  The verifier refuses a replay by
 * remembering jti until exp; that store is the daemon's (SQLite), so
 * ca_token_verify returns jti and exp for it.  docs/jws.md has the format.
 */
#ifndef CA_TOKEN_H
#define CA_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../common/kr.h"
#include "jws.h"

#define CA_TOKEN_TYP		"keyrite-token+jwt"
#define CA_TOKEN_LIFETIME_MAX	300	/* seconds from iat to exp */
#define CA_TOKEN_SKEW		60	/* clock difference allowed, seconds */
#define CA_TOKEN_JTI_BYTES	16	/* random bytes in a jti we make */
#define CA_TOKEN_JTI_MIN	16	/* bytes a jti must decode to */
#define CA_TOKEN_JTI_MAX	64
#define CA_TOKEN_SANS_MAX	100	/* entries in "sans" */
#define CA_TOKEN_NAME_MAX	253	/* characters of sub and each SAN */
#define CA_TOKEN_ISS_MAX	64	/* characters of iss */
#define CA_TOKEN_AUD_MAX	512	/* characters of aud */

/*
 * Why a token was refused.  Stable: the daemon returns
 * ca_token_err_code() in its JSON errors, and clients match on it.
 * Never renumber, only append.
 */
enum ca_token_err {
	CA_TOKEN_OK = 0,
	CA_TOKEN_MALFORMED = 1,	/* not a token of ours: syntax, claims */
	CA_TOKEN_ALGORITHM = 2,	/* alg not EdDSA, crit, b64 */
	CA_TOKEN_ISSUER = 3,	/* unknown key or iss not its provisioner */
	CA_TOKEN_SIGNATURE = 4,	/* the signature does not verify */
	CA_TOKEN_AUDIENCE = 5,	/* aud is not this server's URL */
	CA_TOKEN_EXPIRED = 6,	/* now is after exp (+ skew) */
	CA_TOKEN_NOT_YET_VALID = 7,	/* now is before iat/nbf (- skew) */
	CA_TOKEN_LIFETIME = 8,	/* exp - iat above the maximum */
	CA_TOKEN_REPLAYED = 9,	/* jti seen before: the caller's store */
	CA_TOKEN_INTERNAL = 10,	/* out of memory, crypto library failure */
};

/*
 * The stable machine-readable code: "token_malformed",
 * "token_algorithm", "token_issuer", "token_signature",
 * "token_audience", "token_expired", "token_not_yet_valid",
 * "token_lifetime", "token_replayed", "token_internal" ("ok" for
 * CA_TOKEN_OK).
 */
const char	*ca_token_err_code(enum ca_token_err);

/* The verified claims.  Every string is malloc'd; ca_token_claims_free. */
struct ca_token_claims {
	char		*iss;
	char		*aud;
	char		*sub;
	char		**sans;
	size_t		 nsans;
	int64_t		 iat;
	int64_t		 nbf;		/* iat when the token has none */
	int64_t		 exp;
	char		*jti;		/* as sent: base64url */
	char		 kid[CA_JWS_THUMBPRINT_LEN];
};

void		 ca_token_claims_free(struct ca_token_claims *c);

/* What a token is made of. */
struct ca_token_req {
	const char		*iss;		/* provisioner name */
	const char		*aud;		/* server URL */
	const char		*sub;		/* the name requested */
	const char *const	*sans;		/* NULL means { sub } */
	size_t			 nsans;
	time_t			 now;		/* iat */
	long			 lifetime;	/* 1..CA_TOKEN_LIFETIME_MAX */
	time_t			 nbf;		/* 0 for none */
};

/*
 * Make a token for r, signed with the provisioner's libsodium Ed25519
 * secret key sk (seed || public key; only read, never copied).  jti is
 * CA_TOKEN_JTI_BYTES fresh random bytes.  The claims are checked as the
 * verifier would (KR_E_USAGE otherwise), so we never hand out a token
 * the server must refuse.  *out is malloc'd; the caller frees it.
 */
enum kr_err	 ca_token_make(const struct ca_token_req *r,
		     const uint8_t sk[CA_JWS_ED25519_SK_LEN], char **out,
		     struct kr_error *err) __attribute__((warn_unused_result));

/* A provisioner the verifier trusts. */
struct ca_token_issuer {
	const char		*name;	/* must equal the token's iss */
	const struct ca_jws_key	*key;	/* Ed25519 */
};

/*
 * Verify token (len bytes) against the trusted issuers, for the server
 * whose URL is audience, at time now.  In order: JWS syntax and header
 * (MALFORMED; ALGORITHM for anything but EdDSA), "typ" (MALFORMED), the
 * key named by "kid" among issuers (ISSUER), the signature (SIGNATURE),
 * the claims' syntax: exactly the members above, of the right types,
 * jti of 16..64 random bytes, sans 1..100 distinct strings (MALFORMED),
 * iss equal to the key's issuer (ISSUER), aud equal byte for byte
 * (AUDIENCE), iat < exp and exp - iat <= 300 (LIFETIME), then the window:
 * now > exp + skew is EXPIRED, now < max(iat, nbf) - skew is
 * NOT_YET_VALID.  Names in sub and sans are only checked to be printable
 * ASCII here; matching them against the provisioner's allow lists is
 * ca_prov_check_names'.  On success *out holds the claims (the caller
 * must still refuse a jti it has seen before exp); on failure *out is
 * NULL and err says why in words.
 */
enum ca_token_err ca_token_verify(const char *token, size_t len,
		     const struct ca_token_issuer *issuers, size_t nissuers,
		     const char *audience, time_t now,
		     struct ca_token_claims **out, struct kr_error *err)
		     __attribute__((warn_unused_result));
/*
 * The same for a server known by several URLs (its public one and the
 * one it listens on): aud must equal one of audiences (at least one;
 * the error names the first two).  The signature is checked once.
 */
enum ca_token_err ca_token_verify_aud(const char *token, size_t len,
		     const struct ca_token_issuer *issuers, size_t nissuers,
		     const char *const *audiences, size_t naudiences,
		     time_t now, struct ca_token_claims **out,
		     struct kr_error *err) __attribute__((warn_unused_result));

#endif /* CA_TOKEN_H */
