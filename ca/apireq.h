/*
 * apireq.h: the bodies of keyrited's API requests (docs/api.md), parsed
 * strictly before anything else looks at them: a JSON object with known
 * string members only, the required ones present, the lifetime a
 * duration, the reason a revocation reason keyrited uses, and for a sign
 * request one PEM certificate request whose signature verifies.  Each
 * refusal carries the HTTP status and the stable error code the API
 * returns.  Fuzzed by tests/fuzz/fuzz_apireq.c.
 */
#ifndef CA_APIREQ_H
#define CA_APIREQ_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#define CA_APIREQ_BODY_MAX	65536	/* bytes */

enum ca_apireq_kind {
	CA_APIREQ_SIGN,		/* {"csr", "token", "lifetime"?} */
	CA_APIREQ_RENEW,	/* {"lifetime"?} */
	CA_APIREQ_REVOKE,	/* {"serial"?, "reason"?, "token"?} */
};

/*
 * A certificate request as the API takes it: its DER walked (no request
 * object is built), its key decoded once (pol_pubkey_from_spki), its
 * signature verified over the CertificationRequestInfo bytes received.
 */
struct ca_csr {
	uint8_t			*der;		/* the request */
	size_t			 der_len;
	const uint8_t		*spki;		/* its key's SPKI, in der */
	size_t			 spki_len;
	EVP_PKEY		*pub;		/* decoded from spki */
	X509_NAME		*subject;
	/*
	 * The extensions it requests (the first extensionRequest
	 * attribute, as X509_REQ_get_extensions takes it); NULL when it
	 * requests none or they do not decode.
	 */
	STACK_OF(X509_EXTENSION) *exts;
};
void		 ca_csr_free(struct ca_csr *);

struct ca_apireq {
	struct ca_csr	*csr;		/* sign: parsed, signature verified */
	char		*token;		/* NULL when absent */
	char		*serial;	/* revoke: lower-case hex, or NULL */
	long long	 lifetime;	/* seconds; 0 when absent */
	int		 reason;	/* CRL reason code; -1 when absent */
};

/* Why a body was refused: what the API answers. */
struct ca_apireq_err {
	int		 http;		/* 400 or 413 */
	const char	*code;		/* "bad_json", "bad_request", ... */
	char		 msg[300];	/* names the member and the fault */
};

/*
 * Parse body (len bytes, not necessarily NUL-terminated) as a request of
 * kind.  0 and *out filled (release with ca_apireq_free), or -1 and e
 * set (nothing to release).  Codes: bad_json, bad_request, bad_csr,
 * csr_signature, bad_lifetime, bad_reason, body_too_large.
 */
int		 ca_apireq_parse(enum ca_apireq_kind kind, const char *body,
		     size_t len, struct ca_apireq *out,
		     struct ca_apireq_err *e);
void		 ca_apireq_free(struct ca_apireq *);

/*
 * One PEM certificate request whose signature verifies under its own
 * key; nothing but whitespace around it.  As ca_apireq_parse.
 */
int		 ca_apireq_csr(const char *pem, size_t len,
		     struct ca_csr **out, struct ca_apireq_err *e);

#endif /* CA_APIREQ_H */
