/*
 * ca.h: X.509 work.  Build to-be-signed roots, intermediates and CRLs,
 * and sign them with whatever signer it is given, after the linter has
 * passed them (throwaway-key sign, lint, real sign, compare TBS, verify,
 * lint again).  Knows nothing of PKCS#11: a token key reaches it as a
 * struct ca_signer.
 */
#ifndef CA_H
#define CA_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../common/kr.h"
#include "../policy/profile.h"

/*
 * Something that can sign with a CA key.  sign() receives the message
 * (the DER TBS) and the digest to use, and returns in *sig (malloc'd,
 * caller frees) the signature as it goes in an X.509 BIT STRING: a DER
 * ECDSA-Sig-Value, or a PKCS#1 v1.5 RSA signature.
 */
struct ca_signer {
	EVP_PKEY	*pub;		/* public half of the signing key */
	enum kr_err	(*sign)(void *arg, const EVP_MD *md,
			    const unsigned char *msg, size_t len,
			    unsigned char **sig, size_t *siglen,
			    struct kr_error *err);
	void		*arg;
};

/* A signer over a software EVP_PKEY (throwaway keys, key files). */
void		 ca_signer_soft(struct ca_signer *s, EVP_PKEY *pkey);

/*
 * The same for one thread that signs many messages with pkey: the
 * digest-and-sign context for ca_md_for_key(pkey) is set up once and
 * copied for each signature (EVP_DigestSignInit looks up the algorithm
 * and prepares the key every time, a third of the cost of a P-256
 * signature in keyrited's signer).  *out holds that context; free it
 * with ca_soft_prep_free once s is no longer used.  pkey is borrowed.
 */
struct ca_soft_prep;
enum kr_err	 ca_signer_soft_prep(struct ca_signer *s, EVP_PKEY *pkey,
		    struct ca_soft_prep **out, struct kr_error *err);
void		 ca_soft_prep_free(struct ca_soft_prep *);

/* The digest keyrite uses with a key: SHA-384 for P-384, else SHA-256. */
const EVP_MD	*ca_md_for_key(EVP_PKEY *);

/* A new random, positive 128-bit serial (16 bytes, top bit clear). */
enum kr_err	 ca_serial_new(ASN1_INTEGER **out, struct kr_error *err);

/* Permitted subtrees for name constraints. */
struct ca_names {
	const char	**dns;		/* "lab.internal" */
	size_t		  ndns;
	const char	**ip;		/* "10.0.0.0/8", "fd00::/8" */
	size_t		  nip;
};

/*
 * Parse an RFC 4514-ish subject "CN=Example Lab Root,O=Example" (commas
 * separate RDNs, backslash escapes ',' '=' and '\').  Written order is
 * kept: the first attribute written is the first RDN in the DER (the
 * reverse of RFC 4514's convention), and ca_inspect prints it back the
 * same way.  Attributes CN, O, OU, C, L, ST, DC, emailAddress,
 * serialNumber (case-insensitive); values UTF-8.  Unknown attributes,
 * empty values, a missing '=' and an unescaped '=' in a value are
 * KR_E_USAGE errors naming the attribute.
 */
enum kr_err	 ca_parse_subject(const char *s, X509_NAME **out,
		     struct kr_error *err);

/*
 * Build the TBS of a self-signed root for pub: subject = issuer,
 * validity [now - backdate, now - backdate + validity) (validity <= 0
 * means the profile's default; longer than its maximum is refused, as
 * is, for issued certificates, ending after the issuer), random serial,
 * basicConstraints, keyUsage, SKI, AKI per profile p, and critical
 * name constraints when permitted has any entry.
 */
enum kr_err	 ca_root_build(const char *subject, EVP_PKEY *pub,
		     const struct pol_profile *p, long long validity,
		     const struct ca_names *permitted, time_t now,
		     X509 **out, struct kr_error *err);

/*
 * Build the TBS of a CA certificate for a CSR, issued by issuer.  The
 * CSR's signature is verified first.  Name constraints are the issuer's
 * (inherited) unless permitted narrows them; every narrowing entry must
 * lie inside the issuer's subtrees.  DNS/IP SANs the CSR requests are
 * copied and must lie inside the constraints.
 */
enum kr_err	 ca_intermediate_build(X509_REQ *csr, X509 *issuer,
		     const struct pol_profile *p, long long validity,
		     const struct ca_names *permitted, time_t now,
		     X509 **out, struct kr_error *err);

/*
 * Build the TBS of a cross-certificate: subject (a self-signed root CA,
 * whose signature must verify) gets a CA certificate issued by issuer
 * (another root) with subject's name, public key, subjectKeyIdentifier
 * and name constraints copied, basicConstraints and keyUsage per
 * profile p (an intermediate-kind profile, normally "cross"), a fresh
 * serial, and AKI = issuer's SKI.  Every permitted subtree must lie
 * inside issuer's (KR_E_POLICY naming it).  The validity lies inside
 * both roots': validity <= 0 means until the earlier of their
 * notAfters; a longer one is refused, not clipped.
 */
enum kr_err	 ca_cross_build(X509 *subject, X509 *issuer,
		     const struct pol_profile *p, long long validity,
		     time_t now, X509 **out, struct kr_error *err);

/*
 * Build a leaf TBS for a CSR: subject from the CSR (or cn), SANs given
 * (or from the CSR), EKU/KU per profile, CDP and AIA URLs when not NULL.
 * With pub set, the certified key is pub and csr may be NULL (renewal
 * of a certificate, whose holder sends no CSR; the subject is then
 * empty unless cn is set); with cn set, the subject is CN=cn alone,
 * whatever the CSR asked for.
 */
struct ca_leaf_req {
	X509_REQ	*csr;
	EVP_PKEY	*pub;		/* overrides the CSR's key */
	const char	*cn;		/* overrides the CSR's subject */
	const char	**dns;
	size_t		  ndns;
	const char	**ip;
	size_t		  nip;
	long long	  validity;
	const char	 *crl_url;	/* CRL distribution point */
	const char	 *issuer_url;	/* AIA caIssuers */
};
enum kr_err	 ca_leaf_build(const struct ca_leaf_req *r, X509 *issuer,
		     const struct pol_profile *p, time_t now, X509 **out,
		     struct kr_error *err);

/*
 * Leaves built as DER, for the online signer: a template made once per
 * issuer and profile holds what every leaf shares, encoded (signature
 * algorithm for signpub, the issuer's key; issuer name; basic
 * constraints, key usages, AKI, CDP and AIA); ca_leaf_tbs adds the
 * serial, validity, subject (CN=cn, or empty with a critical SAN), the
 * key's SubjectPublicKeyInfo bytes as given, its SKI and the SANs, and
 * returns exactly the TBS ca_leaf_build with pub, cn, dns and ip, the
 * validity, crl_url and issuer_url and that serial, signed by a key of
 * signpub's type, would (tests/unit/test_ca.c checks it), without a
 * certificate object or a key encoding.  The same refusals as
 * ca_leaf_build: key type (key_check), names (syntax, the issuer's
 * name constraints), validity (profile maximum, issuer's notAfter).
 * Lint the TBS with pol_lint_tbs, then sign it with ca_leaf_sign.
 * Threads may share one template: ca_leaf_sign checks signatures made
 * with signpub through a context set up here once.
 */
struct ca_leaf_tmpl;
enum kr_err	 ca_leaf_tmpl_new(X509 *issuer, EVP_PKEY *signpub,
		     const struct pol_profile *p, const char *crl_url,
		     const char *issuer_url, struct ca_leaf_tmpl **out,
		     struct kr_error *err);
void		 ca_leaf_tmpl_free(struct ca_leaf_tmpl *);

struct ca_leaf_der_req {
	EVP_PKEY		*pub;		/* the key, decoded */
	const uint8_t		*spki;		/* pub's SPKI, DER */
	size_t			 spki_len;
	const char		*cn;		/* NULL: an empty subject */
	const char		**dns;
	size_t			 ndns;
	const char		**ip;
	size_t			 nip;
	long long		 validity;
	const ASN1_INTEGER	*serial;
};
/* The TBS (malloc'd) and its notBefore and notAfter. */
enum kr_err	 ca_leaf_tbs(const struct ca_leaf_tmpl *t,
		     const struct ca_leaf_der_req *r, time_t now,
		     uint8_t **tbs, size_t *tbslen, time_t *nb, time_t *na,
		     struct kr_error *err);
/*
 * Sign a TBS that ca_leaf_tbs built (and pol_lint_tbs passed) with s,
 * which must hold the issuer's key: s signs exactly these bytes, the
 * certificate is assembled around them with the same signature
 * algorithm, and the signature must verify under s->pub.  The
 * certificate's TBS is the linted one byte for byte, so it is not
 * parsed or linted again.  *der is malloc'd.
 */
enum kr_err	 ca_leaf_sign(const struct ca_leaf_tmpl *t,
		     const struct ca_signer *s, const uint8_t *tbs,
		     size_t tbslen, uint8_t **der, size_t *derlen,
		     struct kr_error *err);

/*
 * Whether issuer may certify the DNS names and IP addresses given: each
 * must be well formed and lie inside issuer's name constraints (and the
 * linter's view of them).  KR_E_USAGE for a malformed name, KR_E_POLICY
 * naming the first name outside.
 */
enum kr_err	 ca_names_check(X509 *issuer, const char **dns, size_t ndns,
		     const char **ip, size_t nip, struct kr_error *err);

/* One revoked certificate for a CRL. */
struct ca_revoked {
	ASN1_INTEGER	*serial;
	time_t		 when;
	int		 reason;	/* CRL_REASON_*, -1 = none */
};

/* Free an array of revoked entries (and their serials); safe on NULL. */
void		 ca_revoked_free(struct ca_revoked *, size_t n);

/*
 * Whether reason is one keyrited takes for the end-entity certificates
 * it issues: a known RFC 5280 code other than cACompromise,
 * certificateHold, removeFromCRL and aACompromise (revocation here is
 * final, and leaves are not CAs).
 */
int		 ca_reason_leaf_ok(int reason);

/*
 * The DER length octets of n into p (when not NULL); returns how many
 * there are (1 to 9).
 */
size_t		 ca_der_len(size_t n, unsigned char *p);

/* "keyCompromise" -> 1 etc. (RFC 5280 5.3.1), -2 if unknown. */
int		 ca_reason_from_name(const char *);
const char	*ca_reason_name(int);

/*
 * Build a CRL TBS: v2, issuer's name, thisUpdate = now, nextUpdate =
 * now + next_update (clipped to the issuer's notAfter), CRL number,
 * AKI, revoked entries with reason codes.
 */
enum kr_err	 ca_crl_build(X509 *issuer, const struct ca_revoked *rev,
		     size_t nrev, const ASN1_INTEGER *crl_number,
		     long long next_update, time_t now, X509_CRL **out,
		     struct kr_error *err);

/*
 * Sign tbs with s the careful way: sign with a throwaway key of the same
 * type, lint against p/issuer, sign the same TBS bytes with s, assemble,
 * check the TBS encodings are identical and the signature verifies under
 * s->pub, lint again.  issuer NULL means self-signed.  tbs keeps the
 * throwaway signature (its to-be-signed fields are not changed); *out
 * is a new certificate.
 */
enum kr_err	 ca_sign_cert(X509 *tbs, const struct ca_signer *s,
		     const struct pol_profile *p, X509 *issuer, time_t now,
		     X509 **out, struct kr_error *err);

/* The same for a CRL (linted with pol_lint_crl). */
enum kr_err	 ca_sign_crl(X509_CRL *tbs, const struct ca_signer *s,
		     X509 *issuer, time_t now, X509_CRL **out,
		     struct kr_error *err);

/* PEM in and out. */
enum kr_err	 ca_load_cert(const char *path, X509 **out,
		     struct kr_error *err);
enum kr_err	 ca_load_csr(const char *path, X509_REQ **out,
		     struct kr_error *err);
enum kr_err	 ca_load_crl(const char *path, X509_CRL **out,
		     struct kr_error *err);
enum kr_err	 ca_write_cert(const char *path, X509 *, int force,
		     struct kr_error *err);
enum kr_err	 ca_write_crl(const char *path, X509_CRL *, int force,
		     struct kr_error *err);

/* SHA-256 fingerprint of a certificate's DER, grouped hex. */
void		 ca_cert_fingerprint(X509 *, char out[KR_FPR_LEN]);

/* SHA-256 of a certificate's DER (zeros if it cannot be encoded). */
void		 ca_cert_sha256(X509 *, uint8_t out[32]);

/*
 * Lower-case hex of a serial ("-" first if negative), as used in file
 * names and reports.  malloc'd, caller frees; NULL when out of memory.
 */
char		*ca_serial_hex(const ASN1_INTEGER *);

/* An ASN1_TIME as seconds since the epoch; -1 if it cannot be read. */
int		 ca_time_from_asn1(const ASN1_TIME *, time_t *);

/*
 * A general name as text ("DNS:lab.internal", "IP:10.0.0.0/8", "URI:",
 * "email:", "DirName:"), bytes that are not printable ASCII escaped as
 * \xNN, so it is safe on hostile input.  Truncated to sz.
 */
void		 ca_general_name_text(const GENERAL_NAME *, char *buf,
		     size_t sz);

/*
 * The first half of ca_sign_cert, with no real key: sign a copy of tbs
 * with a throwaway key of issuer_pub's type and lint it.  Run before any
 * PIN is asked for, so that a request the linter refuses never reaches
 * the token.  (Added by the CLI; implementation shares ca_sign_cert's.)
 */
enum kr_err	 ca_precheck_cert(X509 *tbs, EVP_PKEY *issuer_pub,
		     const struct pol_profile *p, X509 *issuer, time_t now,
		     struct kr_error *err);
enum kr_err	 ca_precheck_crl(X509_CRL *tbs, EVP_PKEY *issuer_pub,
		     X509 *issuer, time_t now, struct kr_error *err);

/*
 * A PKCS#10 request for subject, for the key of s and signed by it (the
 * key may be in a token).  The signature is verified before *out is
 * returned.
 */
enum kr_err	 ca_csr_make(const char *subject, const struct ca_signer *s,
		     X509_REQ **out, struct kr_error *err);
enum kr_err	 ca_write_csr(const char *path, X509_REQ *, int force,
		     struct kr_error *err);

#endif /* CA_H */
