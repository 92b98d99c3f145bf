/*
 * acme.h: the parts of ACME (RFC 8555) that need no network: the
 * flattened JWS of a request (section 6.2) and its protected header, the
 * strict parsers of the request payloads, problem types, identifiers,
 * key authorizations, and the ACME objects in the issuance store
 * (accounts, orders, authorizations, challenges, nonces, EAB keys; the
 * tables of store schema version 2).  keyrited's HTTP side and the
 * validators are in cmd/keyrited/acme*.c; docs/acme.md is the
 * operator's view.
 */
#ifndef CA_ACME_H
#define CA_ACME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "../common/kr.h"
#include "jws.h"
#include "provisioner.h"
#include "store.h"

#define CA_ACME_ID_LEN		22	/* base64url of 16 random bytes */
#define CA_ACME_NONCE_LIFE	3600	/* seconds a nonce is good for */
#define CA_ACME_IDENT_MAX	100	/* identifiers in one order */
#define CA_ACME_CONTACT_MAX	8
#define CA_ACME_URL_MAX		1024
#define CA_ACME_EAB_KEY_LEN	32	/* HMAC-SHA256 key bytes */

/* Problem types (RFC 8555 section 6.7), without the URN prefix. */
enum ca_acme_prob {
	CA_ACME_MALFORMED,
	CA_ACME_BAD_NONCE,
	CA_ACME_BAD_SIG_ALG,
	CA_ACME_BAD_PUBLIC_KEY,
	CA_ACME_BAD_CSR,
	CA_ACME_BAD_REVOCATION_REASON,
	CA_ACME_UNAUTHORIZED,
	CA_ACME_ACCOUNT_DNE,
	CA_ACME_EAB_REQUIRED,
	CA_ACME_USER_ACTION,
	CA_ACME_ORDER_NOT_READY,
	CA_ACME_REJECTED_IDENTIFIER,
	CA_ACME_UNSUPPORTED_IDENTIFIER,
	CA_ACME_ALREADY_REVOKED,
	CA_ACME_CONNECTION,
	CA_ACME_DNS,
	CA_ACME_INCORRECT_RESPONSE,
	CA_ACME_TLS,
	CA_ACME_UNSUPPORTED_CONTACT,
	CA_ACME_RATE_LIMITED,
	CA_ACME_SERVER_INTERNAL,
	CA_ACME_PROB_N
};

/* "urn:ietf:params:acme:error:badNonce" etc. */
const char	*ca_acme_prob_urn(enum ca_acme_prob);

/* A problem: its type, HTTP status and detail (err.msg). */
struct ca_acme_err {
	enum ca_acme_prob	 type;
	int			 http;
	struct kr_error		 e;
};
int		 ca_acme_fail(struct ca_acme_err *, enum ca_acme_prob, int http,
		     const char *fmt, ...) __attribute__((format(printf, 4,
		     5)));
/* The problem document as JSON text, malloc'd (NULL: out of memory). */
char		*ca_acme_problem_json(const struct ca_acme_err *);

/*
 * A request's flattened JWS, parsed but not yet verified: exactly the
 * members "protected", "payload", "signature" (strings; no unprotected
 * "header"); the protected header with "alg", "nonce", "url" and exactly
 * one of "jwk" (parsed into key) and "kid".  Refusals are problems:
 * malformed, badSignatureAlgorithm (none, a MAC, an algorithm we do not
 * verify), badPublicKey (a jwk we refuse).
 */
struct ca_acme_jws {
	char			*compact;	/* protected.payload.signature */
	size_t			 compact_len;
	char			*alg;
	char			*nonce;
	char			*url;
	char			*kid;		/* or NULL */
	struct ca_jws_key	*key;		/* from "jwk", or NULL */
	json_t			*header;
	/* After ca_acme_jws_verify: */
	uint8_t			*payload;
	size_t			 payload_len;	/* 0: POST-as-GET */
	json_t			*body;		/* payload as JSON, or NULL */
};
int		 ca_acme_jws_parse(const char *body, size_t len,
		     struct ca_acme_jws *out, struct ca_acme_err *ae);
/*
 * Verify j's signature with key (j->key or the account's), the key's
 * algorithm being the header's; then parse the payload: empty (POST-as-
 * GET, body NULL) or a JSON object without duplicate members.
 */
int		 ca_acme_jws_verify(struct ca_acme_jws *j,
		     const struct ca_jws_key *key, struct ca_acme_err *ae);
void		 ca_acme_jws_clear(struct ca_acme_jws *j);

/* The algorithms ACME requests may use. */
#define CA_ACME_ALGS	(CA_JWS_ES256 | CA_JWS_ES384 | CA_JWS_RS256 | \
			 CA_JWS_EDDSA)

/* An identifier of an order. */
struct ca_acme_ident {
	char	type[8];	/* "dns" or "ip" */
	char	value[256];	/* lower case for dns */
	int	wildcard;	/* "*." prefix (dns only) */
};

/*
 * Payloads.  Every one is strict: unknown members are refused
 * (malformed), except where RFC 8555 lets the client send fields the
 * server ignores ("termsOfServiceAgreed", "status" is checked).
 */
struct ca_acme_newacct {
	int		 tos;		/* termsOfServiceAgreed */
	int		 only_existing;	/* onlyReturnExisting */
	json_t		*contact;	/* array of strings, or NULL */
	json_t		*eab;		/* externalAccountBinding, or NULL */
};
int		 ca_acme_parse_newacct(const json_t *o,
		     struct ca_acme_newacct *out, struct ca_acme_err *ae);

struct ca_acme_neworder {
	struct ca_acme_ident	*ids;
	size_t			 nids;
	time_t			 not_before;	/* 0: not asked */
	time_t			 not_after;
};
int		 ca_acme_parse_neworder(const json_t *o,
		     struct ca_acme_neworder *out, struct ca_acme_err *ae);
void		 ca_acme_neworder_clear(struct ca_acme_neworder *);

/* finalize: the CSR's DER, malloc'd. */
int		 ca_acme_parse_finalize(const json_t *o, uint8_t **der,
		     size_t *len, struct ca_acme_err *ae);

/* revokeCert: the certificate's DER (malloc'd) and reason (-1 none). */
int		 ca_acme_parse_revoke(const json_t *o, uint8_t **der,
		     size_t *len, int *reason, struct ca_acme_err *ae);

/*
 * Check an identifier (from an order or a CSR): a dns name (lower case,
 * LDH labels, at least two, optional leading "*."), or an ip address
 * (IPv4 dotted quad or IPv6, canonical text).
 */
int		 ca_acme_ident_check(struct ca_acme_ident *id,
		     struct ca_acme_err *ae);

/* token "." thumbprint into out (at most outsz). */
void		 ca_acme_key_authz(const char *token,
		     const struct ca_jws_key *k, char *out, size_t outsz);

/* 16 random bytes as base64url (22 characters + NUL). */
void		 ca_acme_random_id(char out[CA_ACME_ID_LEN + 1]);

/*
 * External Account Binding (RFC 8555 section 7.3.4): eab is a flattened
 * JWS, HS256 by a key the server gave out, whose payload is the account
 * key (jwk, compared with acct) and whose "url" is the newAccount URL.
 * *kid (malloc'd) is its "kid"; the caller looks the key up and calls
 * ca_acme_eab_verify.
 */
int		 ca_acme_eab_kid(const json_t *eab, char **kid,
		     struct ca_acme_err *ae);
int		 ca_acme_eab_verify(const json_t *eab, const uint8_t *hkey,
		     size_t hlen, const char *url, const struct ca_jws_key *acct,
		     struct ca_acme_err *ae);

/*
 * An ACME provisioner (docs/acme.md): home/provisioners/NAME.acme, JSON
 * {"kind": "acme", "name", "allow", "allow_ip", "max_lifetime", "eab"},
 * strict.  As a struct ca_prov without a key (allow lists and
 * max_lifetime are what issuance reads); *eab: whether new accounts
 * need an external account binding.
 */
#define CA_ACME_PROV_SUFFIX	".acme"
enum kr_err	 ca_acme_prov_parse(const char *text, size_t len,
		     struct ca_prov **out, int *eab, struct kr_error *err)
		     __attribute__((warn_unused_result));
enum kr_err	 ca_acme_prov_to_json(const struct ca_prov *p, int eab,
		     json_t **out, struct kr_error *err)
		     __attribute__((warn_unused_result));

/* ---- the store (schema version 2 tables) ---- */

enum ca_acme_status {
	CA_ACME_PENDING, CA_ACME_READY, CA_ACME_PROCESSING, CA_ACME_VALID,
	CA_ACME_INVALID, CA_ACME_DEACTIVATED, CA_ACME_EXPIRED,
	CA_ACME_REVOKED, CA_ACME_STATUS_N
};
const char	*ca_acme_status_name(enum ca_acme_status);

struct ca_acme_account {
	char			 id[CA_ACME_ID_LEN + 1];
	char			 prov[65];
	char			 thumb[CA_JWS_THUMBPRINT_LEN];
	char			*jwk;		/* JSON text */
	char			*contact;	/* JSON array text */
	enum ca_acme_status	 status;
	time_t			 created_at;
};
void		 ca_acme_account_clear(struct ca_acme_account *);

struct ca_acme_order {
	char			 id[CA_ACME_ID_LEN + 1];
	char			 account[CA_ACME_ID_LEN + 1];
	char			 prov[65];
	enum ca_acme_status	 status;
	time_t			 expires;
	time_t			 not_before, not_after;	/* 0: none */
	char			*identifiers;	/* JSON array text */
	char			*error;		/* problem JSON, or NULL */
	char			*serial;	/* once valid */
	char			**authzs;	/* ids */
	size_t			 nauthzs;
};
void		 ca_acme_order_clear(struct ca_acme_order *);

struct ca_acme_chall {
	char			 id[CA_ACME_ID_LEN + 1];
	char			 type[16];	/* http-01 ... */
	enum ca_acme_status	 status;
	time_t			 validated;	/* 0 */
	char			*error;		/* problem JSON, or NULL */
};

struct ca_acme_authz {
	char			 id[CA_ACME_ID_LEN + 1];
	char			 order[CA_ACME_ID_LEN + 1];
	char			 account[CA_ACME_ID_LEN + 1];
	struct ca_acme_ident	 ident;
	enum ca_acme_status	 status;
	time_t			 expires;
	char			 token[CA_ACME_ID_LEN + 1 + 21];
	struct ca_acme_chall	 ch[3];
	size_t			 nch;
};
void		 ca_acme_authz_clear(struct ca_acme_authz *);

/* Nonces: one new one; use one (KR_E_AUTH when unknown or used). */
enum kr_err	 ca_acme_nonce_new(struct ca_store *, time_t now,
		     char out[CA_ACME_ID_LEN + 1], struct kr_error *err);
enum kr_err	 ca_acme_nonce_use(struct ca_store *, const char *nonce,
		     time_t now, struct kr_error *err);

/* Accounts.  KR_E_NOTFOUND when there is none; KR_E_EXISTS on a key
   that has one already (thumb). */
enum kr_err	 ca_acme_account_new(struct ca_store *,
		     const struct ca_acme_account *a, const char *eab_kid,
		     time_t now, struct kr_error *err);
enum kr_err	 ca_acme_account_get(struct ca_store *, const char *id,
		     struct ca_acme_account *out, struct kr_error *err);
enum kr_err	 ca_acme_account_by_thumb(struct ca_store *,
		     const char *thumb, struct ca_acme_account *out,
		     struct kr_error *err);
/* Set status, contact (NULL: keep), or key (jwk+thumb, NULL: keep). */
enum kr_err	 ca_acme_account_update(struct ca_store *, const char *id,
		     enum ca_acme_status status, const char *contact,
		     const char *jwk, const char *thumb, struct kr_error *err);

/* An order with its authorizations and challenges, in one transaction. */
enum kr_err	 ca_acme_order_new(struct ca_store *,
		     struct ca_acme_order *o, struct ca_acme_authz *az,
		     size_t naz, time_t now, struct kr_error *err);
/* The order (its status brought up to date: expired, ready). */
enum kr_err	 ca_acme_order_get(struct ca_store *, const char *id,
		     time_t now, struct ca_acme_order *out,
		     struct kr_error *err);
/*
 * Move an order from status from to to; with error/serial when given.
 * KR_E_STATE when it was not in from (someone else moved it).
 */
enum kr_err	 ca_acme_order_set(struct ca_store *, const char *id,
		     enum ca_acme_status from, enum ca_acme_status to,
		     const char *error, const char *serial,
		     struct kr_error *err);
/* The order that got certificate serial, or KR_E_NOTFOUND. */
enum kr_err	 ca_acme_order_by_serial(struct ca_store *,
		     const char *serial, struct ca_acme_order *out,
		     struct kr_error *err);
/* Orders of an account (ids, malloc'd). */
enum kr_err	 ca_acme_orders_of(struct ca_store *, const char *account,
		     time_t now, char ***ids, size_t *n,
		     struct kr_error *err);

enum kr_err	 ca_acme_authz_get(struct ca_store *, const char *id,
		     time_t now, struct ca_acme_authz *out,
		     struct kr_error *err);
/* The authz holding challenge chid. */
enum kr_err	 ca_acme_authz_by_chall(struct ca_store *, const char *chid,
		     time_t now, struct ca_acme_authz *out,
		     struct kr_error *err);
/*
 * A challenge's outcome: valid (the authz becomes valid) or invalid
 * with a problem (the authz becomes invalid, as does its order).
 * Only a pending or processing challenge moves (KR_E_STATE otherwise),
 * so of two validations of one challenge only the first counts.
 */
enum kr_err	 ca_acme_chall_done(struct ca_store *, const char *chid,
		     int valid, const char *error, time_t now,
		     struct kr_error *err);
enum kr_err	 ca_acme_authz_deactivate(struct ca_store *, const char *id,
		     struct kr_error *err);

/* EAB keys: a new one for prov; the key of kid (unused; KR_E_NOTFOUND). */
enum kr_err	 ca_acme_eab_new(struct ca_store *, const char *prov,
		     const char *kid, const uint8_t *key, size_t len,
		     time_t now, struct kr_error *err);
enum kr_err	 ca_acme_eab_get(struct ca_store *, const char *kid,
		     char prov[65], uint8_t key[CA_ACME_EAB_KEY_LEN],
		     int *used, struct kr_error *err);

/*
 * Tidy: nonces past their life, and orders (with their authorizations
 * and challenges) that expired more than retention ago.  Accounts stay.
 */
struct ca_acme_tidied {
	size_t	nonces, orders;
};
enum kr_err	 ca_acme_tidy(struct ca_store *, time_t now,
		     long long retention, struct ca_acme_tidied *out,
		     struct kr_error *err);

#endif /* CA_ACME_H */
