/*
 * lint.h: the checks every to-be-signed certificate and CRL passes before
 * a CA key signs it, and again after.  A refusal names the rule.
 */
#ifndef POL_LINT_H
#define POL_LINT_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../common/kr.h"
#include "profile.h"

/* Seconds a notBefore or thisUpdate may lie ahead of "now". */
#define POL_LINT_SKEW	300

/*
 * Lint cert against profile p.  issuer is the issuing CA's certificate,
 * or NULL when cert is self-signed (a root).  now is the issuance time.
 *
 * Rules (each refusal's message starts with "lint: RULE-ID: "; the
 * full list with reasons is in docs/profiles.md):
 *   encoding (the DER re-parses), profile-kind (issuer NULL exactly
 *   for root profiles), time-encoding, validity-order, validity-now
 *   (notBefore at most POL_LINT_SKEW in the future, notAfter not
 *   past), validity-max, validity-issuer, serial-positive,
 *   serial-entropy (at least 64 bits of value, DER content at most 20
 *   octets), version-3, issuer-ca (issuer has cA, keyCertSign, and a
 *   pathLen that allows a CA below it), ext-duplicate, ext-critical,
 *   basic-constraints (critical, cA matches kind, pathLen per profile),
 *   key-usage (critical, exactly the profile's bits), ext-key-usage,
 *   ski (present on CAs), aki (keyid only, matches issuer SKI),
 *   name-constraints (critical; present when required; on
 *   intermediates inside the issuer's subtrees), san-required,
 *   san-constraints (every DNS/IP SAN inside the issuer chain's
 *   permitted subtrees), weak-key (RSA < 2048, curves other than
 *   P-256/P-384), key-type (allowed by profile), sig-alg (matches the
 *   issuer key: ecdsa-with-SHA256/384, sha256/384WithRSAEncryption),
 *   issuer-name (equals issuer subject), subject-empty, san-syntax,
 *   cn-san (a leaf CN that is a host name or address is in the SAN),
 *   cdp, aia (required by profile; http:// URIs).
 *
 * The signature itself is not verified (ca/ lints a TBS signed with a
 * throwaway key); only the algorithm is checked against the issuer
 * key.  KR_E_POLICY on refusal.
 */
enum kr_err	 pol_lint_cert(const struct pol_profile *p, X509 *cert,
		     X509 *issuer, time_t now, struct kr_error *err);

/*
 * The same for a certificate that was just parsed from the DER to be
 * linted (d2i_X509), so the DER round trip is skipped: it would parse
 * the same bytes again.
 */
enum kr_err	 pol_lint_cert_parsed(const struct pol_profile *p, X509 *cert,
		     X509 *issuer, time_t now, struct kr_error *err);

/*
 * An issuer prepared once for linting many TBS with pol_lint_tbs: its
 * key is classified (and refused when weak) here, not per certificate.
 */
struct pol_issuer;
enum kr_err	 pol_issuer_new(X509 *issuer, struct pol_issuer **out,
		     struct kr_error *err);
void		 pol_issuer_free(struct pol_issuer *);

/*
 * The same rules as pol_lint_cert for an issued certificate's TBS given
 * as DER (tbs, len), before it is signed: the DER is walked strictly
 * ("encoding" when it is not DER) and its fields decoded one by one, no
 * certificate object built.  The certificate will carry the TBS's
 * signature algorithm outside too (see ca_sign_tbs), so sig-alg checks
 * the one inside.  Refuses unique identifiers (unique-ids).
 */
enum kr_err	 pol_lint_tbs(const struct pol_profile *p,
		     const struct pol_issuer *issuer, const uint8_t *tbs,
		     size_t len, time_t now, struct kr_error *err);

/*
 * pol_lint_tbs for a TBS whose SubjectPublicKeyInfo is likely spki
 * (spki_len bytes), already decoded as known: when the TBS's bytes are
 * those, known is linted instead of decoding them again (keyrited
 * passes the CSR's key).  Other bytes are decoded as usual.
 */
enum kr_err	 pol_lint_tbs_key(const struct pol_profile *p,
		     const struct pol_issuer *issuer, const uint8_t *tbs,
		     size_t len, EVP_PKEY *known, const uint8_t *spki,
		     size_t spki_len, time_t now, struct kr_error *err);

/*
 * The public key in a SubjectPublicKeyInfo (DER, every byte used), or
 * NULL.  EC keys on P-256 and P-384 are imported from their point (on
 * the curve, or refused), much faster than OpenSSL 3.0's decoders;
 * other keys go through d2i_PUBKEY.
 */
EVP_PKEY	*pol_pubkey_from_spki(const uint8_t *der, size_t len);

/*
 * Lint a CRL issued by issuer: version 2, issuer name, thisUpdate <=
 * now (+ POL_LINT_SKEW) < nextUpdate, nextUpdate within the issuer's
 * validity, CRL number
 * present and non-negative, AKI keyid matching the issuer's SKI, every
 * revoked serial positive, reason codes valid, signature algorithm
 * matching the issuer key.
 */
/* Rule ids: crl-version, crl-issuer-name, crl-this-update,
 * crl-next-update, crl-number, crl-aki, crl-serial, crl-reason,
 * crl-revocation-date, and the shared encoding, sig-alg, issuer-ca,
 * time-encoding, ext-duplicate, ext-critical. */
enum kr_err	 pol_lint_crl(X509_CRL *crl, X509 *issuer, time_t now,
		     struct kr_error *err);

/*
 * Check a DNS name or IP against the permitted subtrees in the name
 * constraints of cert (and nothing if cert has none).  KR_OK if inside.
 * Used before signing to refuse early with a clear message.
 */
enum kr_err	 pol_name_permitted(X509 *ca, const GENERAL_NAME *name,
		     struct kr_error *err);

/*
 * The POL_KEY_* type of a public key (EC P-256/P-384, RSA
 * 2048/3072/4096), or 0 for any other or weak key.
 */
unsigned	 pol_key_type_of(EVP_PKEY *);

#endif /* POL_LINT_H */
