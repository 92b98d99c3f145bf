/*
 * lint.h: the checks every to-be-signed certificate and CRL passes before
 * a CA key signs it, and again after.  A refusal names the rule.
 */
#ifndef POL_LINT_H
#define POL_LINT_H

#include <time.h>

#include <openssl/x509.h>

#include "../common/kr.h"
#include "profile.h"

/*
 * Lint cert against profile p.  issuer is the issuing CA's certificate,
 * or NULL when cert is self-signed (a root).  now is the issuance time.
 *
 * Rules (each refusal's message starts with "lint: RULE-ID: "):
 *   validity-order, validity-max, validity-issuer, serial-positive,
 *   serial-entropy (16..20 bytes, top bit set in the first byte is not
 *   required but the DER must be at most 20 octets), version-3,
 *   basic-constraints (critical, cA matches kind, pathLen per profile),
 *   key-usage (critical, exactly the profile's bits), ext-key-usage,
 *   ski (present on CAs), aki (keyid only, matches issuer SKI),
 *   name-constraints (critical; present when required; on
 *   intermediates inside the issuer's subtrees), san-required,
 *   san-constraints (every DNS/IP SAN inside the issuer chain's
 *   permitted subtrees), weak-key (RSA < 2048, curves other than
 *   P-256/P-384), key-type (allowed by profile), sig-alg (matches the
 *   issuer key: ecdsa-with-SHA256/384, sha256/384WithRSAEncryption),
 *   issuer-name (equals issuer subject), subject-empty.
 */
enum kr_err	 pol_lint_cert(const struct pol_profile *p, X509 *cert,
		     X509 *issuer, time_t now, struct kr_error *err);

/*
 * Lint a CRL issued by issuer: version 2, issuer name, thisUpdate <=
 * now < nextUpdate, nextUpdate within the issuer's validity, CRL number
 * present and non-negative, AKI keyid matching the issuer's SKI, every
 * revoked serial positive, reason codes valid, signature algorithm
 * matching the issuer key.
 */
enum kr_err	 pol_lint_crl(X509_CRL *crl, X509 *issuer, time_t now,
		     struct kr_error *err);

/*
 * Check a DNS name or IP against the permitted subtrees in the name
 * constraints of cert (and nothing if cert has none).  KR_OK if inside.
 * Used before signing to refuse early with a clear message.
 */
enum kr_err	 pol_name_permitted(X509 *ca, const GENERAL_NAME *name,
		     struct kr_error *err);

#endif /* POL_LINT_H */
