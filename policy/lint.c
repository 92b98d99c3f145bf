/*
 * lint.c: the checks a to-be-signed certificate or CRL must pass before
 * a CA key signs it.  Each refusal is KR_E_POLICY with a message
 * "lint: RULE-ID: what is wrong, with the numbers"; docs/profiles.md
 * lists every rule and why it exists.
 *
 * The linter never verifies signatures: ca/ lints a TBS signed with a
 * throwaway key of the issuer's key type, so only the algorithm's
 * consistency with the issuer's public key is checked.  It lints the
 * DER encoding (re-parsed), not OpenSSL's in-memory structure, so what
 * passed is what gets signed.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../common/der.h"
#include "lint.h"

/* 2050-01-01T00:00:00Z: from here on times are GeneralizedTime. */
#define Y2050		2524608000LL
#define SERIAL_MIN_BITS	64
#define SERIAL_MAX_OCTETS 20

struct keyinfo {
	unsigned	pol;		/* POL_KEY_* or 0 */
	int		kind;		/* EVP_PKEY_EC, EVP_PKEY_RSA or other */
	int		nid;		/* curve */
	int		bits;
	char		desc[64];	/* "EC P-384", "RSA 2048" */
};

static enum kr_err
lfail(struct kr_error *err, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Refuse under rule: "lint: RULE: message". */
static enum kr_err
lfail(struct kr_error *err, const char *rule, const char *fmt, ...)
{
	char buf[960];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return kr_fail(err, KR_E_POLICY, "lint: %s: %s", rule, buf);
}

/* seconds as "1825 days", "4000 days, 5 minutes", "24 hours". */
static void
fmt_dur(long long s, char *buf, size_t sz)
{
	static const struct {
		long long	 secs;
		const char	*unit;
	} u[] = { { 86400, "day" }, { 3600, "hour" }, { 60, "minute" },
	    { 1, "second" } };
	size_t n = 0, i;
	long long v;

	buf[0] = '\0';
	if (s <= 0) {
		snprintf(buf, sz, "%lld seconds", s);
		return;
	}
	for (i = 0; i < sizeof(u) / sizeof(u[0]) && n < sz; i++) {
		if ((v = s / u[i].secs) == 0)
			continue;
		s -= v * u[i].secs;
		n += (size_t)snprintf(buf + n, sz - n, "%s%lld %s%s",
		    n > 0 ? ", " : "", v, u[i].unit, v == 1 ? "" : "s");
	}
}

static void
fmt_time(time_t t, char *buf, size_t sz)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, sz, "%lld", (long long)t);
}

/* ASN1_TIME to time_t; -1 if absent or unreadable. */
static int
get_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	*out = timegm(&tm);
	return 0;
}

/*
 * RFC 5280 4.1.2.5: UTCTime (YYMMDDHHMMSSZ) through 2049,
 * GeneralizedTime (YYYYMMDDHHMMSSZ, no fractions) from 2050.
 */
static enum kr_err
check_time_encoding(const ASN1_TIME *t, const char *what,
    struct kr_error *err)
{
	time_t v;
	int len;

	if (get_time(t, &v) == -1 || !ASN1_TIME_check(t))
		return lfail(err, "time-encoding", "%s is not a valid time",
		    what);
	len = ASN1_STRING_length(t);
	if (ASN1_STRING_get0_data(t)[len - 1] != 'Z')
		return lfail(err, "time-encoding", "%s is not in UTC ('Z')",
		    what);
	if (ASN1_STRING_type(t) == V_ASN1_UTCTIME) {
		if (len != 13)
			return lfail(err, "time-encoding", "%s: UTCTime must "
			    "be YYMMDDHHMMSSZ (RFC 5280 4.1.2.5.1)", what);
		if ((long long)v >= Y2050)
			return lfail(err, "time-encoding", "%s: dates from "
			    "2050 must be GeneralizedTime", what);
	} else {
		if (len != 15)
			return lfail(err, "time-encoding", "%s: "
			    "GeneralizedTime must be YYYYMMDDHHMMSSZ (RFC 5280 "
			    "4.1.2.5.2)", what);
		if ((long long)v < Y2050)
			return lfail(err, "time-encoding", "%s: dates before "
			    "2050 must be UTCTime, not GeneralizedTime (RFC "
			    "5280 4.1.2.5)", what);
	}
	return KR_OK;
}

/*
 * Classify a public key and refuse weak ones (weak-key).  whose names
 * the key in messages.
 */
static enum kr_err
key_info(EVP_PKEY *pk, const char *whose, struct keyinfo *ki,
    struct kr_error *err)
{
	EVP_PKEY_CTX *pc = NULL;
	BIGNUM *e = NULL;
	char g[80], enc[32];
	size_t glen = 0;
	enum kr_err rc;

	memset(ki, 0, sizeof(*ki));
	if (pk == NULL) {
		rc = lfail(err, "weak-key", "%s has no usable public key",
		    whose);
		goto out;
	}
	ki->kind = EVP_PKEY_get_base_id(pk);
	ki->bits = EVP_PKEY_get_bits(pk);
	if (ki->kind == EVP_PKEY_RSA) {
		snprintf(ki->desc, sizeof(ki->desc), "RSA %d", ki->bits);
		if (ki->bits < 2048) {
			rc = lfail(err, "weak-key", "%s is an RSA key of %d "
			    "bits; at least 2048 are required (CA/B Forum BR "
			    "6.1.5)", whose, ki->bits);
			goto out;
		}
		if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e)) {
			rc = lfail(err, "weak-key", "%s: cannot read the RSA "
			    "public exponent", whose);
			goto out;
		}
		if (!BN_is_odd(e) || BN_num_bits(e) < 2) {
			char *d = BN_bn2dec(e);

			rc = lfail(err, "weak-key", "%s has RSA public "
			    "exponent %s; it must be odd and at least 3 "
			    "(65537 is usual)", whose, d != NULL ? d : "?");
			OPENSSL_free(d);
			goto out;
		}
		if (ki->bits == 2048)
			ki->pol = POL_KEY_RSA_2048;
		else if (ki->bits == 3072)
			ki->pol = POL_KEY_RSA_3072;
		else if (ki->bits == 4096)
			ki->pol = POL_KEY_RSA_4096;
	} else if (ki->kind == EVP_PKEY_EC) {
		if (!EVP_PKEY_get_group_name(pk, g, sizeof(g), &glen)) {
			rc = lfail(err, "weak-key", "%s is an EC key without "
			    "a named curve", whose);
			goto out;
		}
		if (EVP_PKEY_get_utf8_string_param(pk,
		    OSSL_PKEY_PARAM_EC_ENCODING, enc, sizeof(enc), NULL) &&
		    strcmp(enc, OSSL_PKEY_EC_ENCODING_EXPLICIT) == 0) {
			rc = lfail(err, "weak-key", "%s is an EC key with "
			    "explicit curve parameters; only named curves are "
			    "allowed (RFC 5480 2.1.1)", whose);
			goto out;
		}
		if ((ki->nid = OBJ_sn2nid(g)) == NID_undef)
			ki->nid = EC_curve_nist2nid(g);
		if (ki->nid == NID_X9_62_prime256v1) {
			ki->pol = POL_KEY_EC_P256;
			snprintf(ki->desc, sizeof(ki->desc), "EC P-256");
		} else if (ki->nid == NID_secp384r1) {
			ki->pol = POL_KEY_EC_P384;
			snprintf(ki->desc, sizeof(ki->desc), "EC P-384");
		} else {
			rc = lfail(err, "weak-key", "%s is on curve %s; only "
			    "P-256 and P-384 are allowed (CA/B Forum BR "
			    "6.1.5)", whose, g);
			goto out;
		}
		/*
		 * The point is checked to be in range and on the curve and
		 * not the point at infinity.  EVP_PKEY_public_check would
		 * also multiply it by the order, which on P-256 and P-384
		 * (cofactor 1: every point of the curve has prime order n)
		 * cannot fail when the rest holds, and costs as much as a
		 * signature check (SP 800-56A rev. 3, 5.6.2.3.3-4).
		 */
		if ((pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) ==
		    NULL || EVP_PKEY_public_check_quick(pc) != 1) {
			rc = lfail(err, "weak-key", "%s: the EC public key "
			    "is not a valid point of %s", whose, g);
			goto out;
		}
	} else {
		snprintf(ki->desc, sizeof(ki->desc), "%s",
		    EVP_PKEY_get0_type_name(pk) != NULL ?
		    EVP_PKEY_get0_type_name(pk) : "unknown");
	}
	rc = KR_OK;
out:
	EVP_PKEY_CTX_free(pc);
	BN_free(e);
	return rc;
}

/* The POL_KEY_* type of a public key, 0 if keyrite does not allow it. */
unsigned
pol_key_type_of(EVP_PKEY *pk)
{
	struct keyinfo ki;

	if (key_info(pk, "key", &ki, NULL) != KR_OK)
		return 0;
	return ki.pol;
}

static void
alg_name(const X509_ALGOR *a, char *buf, size_t sz)
{
	const ASN1_OBJECT *obj = NULL;

	if (a != NULL)
		X509_ALGOR_get0(&obj, NULL, NULL, a);
	if (obj == NULL || OBJ_obj2txt(buf, (int)sz, obj, 0) <= 0)
		snprintf(buf, sz, "(none)");
}

static enum kr_err check_sigalg_ki(const X509_ALGOR *, const X509_ALGOR *,
    const struct keyinfo *, const char *, struct kr_error *);

/*
 * The signature algorithm (tbs inside, outer outside) must be the
 * same and the one keyrite uses for the issuer's key: ecdsa-with-SHA256
 * for P-256, ecdsa-with-SHA384 for P-384 (RFC 5758 3.2, no parameters),
 * sha256/384WithRSAEncryption for RSA (RFC 4055, NULL parameters).
 */
static enum kr_err
check_sigalg(const X509_ALGOR *tbs, const X509_ALGOR *outer, EVP_PKEY *ik,
    const char *what, struct kr_error *err)
{
	struct keyinfo ki;
	enum kr_err rc;

	if ((rc = key_info(ik, "the issuer key", &ki, err)) != KR_OK)
		return rc;
	return check_sigalg_ki(tbs, outer, &ki, what, err);
}

/* check_sigalg with the issuer key classified already (ki). */
static enum kr_err
check_sigalg_ki(const X509_ALGOR *tbs, const X509_ALGOR *outer,
    const struct keyinfo *ikp, const char *what, struct kr_error *err)
{
	const struct keyinfo ki = *ikp;
	const ASN1_OBJECT *obj;
	const void *pval;
	char a[80], b[80];
	int nid, ptype;

	if (tbs == NULL || outer == NULL)
		return lfail(err, "sig-alg", "the %s has no signature "
		    "algorithm", what);
	if (X509_ALGOR_cmp(tbs, outer) != 0) {
		alg_name(tbs, a, sizeof(a));
		alg_name(outer, b, sizeof(b));
		return lfail(err, "sig-alg", "the signature algorithm inside "
		    "the %s (%s) differs from the one outside (%s)", what, a,
		    b);
	}
	X509_ALGOR_get0(&obj, &ptype, &pval, tbs);
	nid = OBJ_obj2nid(obj);
	alg_name(tbs, a, sizeof(a));
	if (ki.kind == EVP_PKEY_EC) {
		int want = ki.nid == NID_secp384r1 ? NID_ecdsa_with_SHA384 :
		    NID_ecdsa_with_SHA256;

		if (nid != want)
			return lfail(err, "sig-alg", "the %s is signed with %s; "
			    "an %s issuer key signs with %s", what, a, ki.desc,
			    OBJ_nid2ln(want));
		if (ptype != V_ASN1_UNDEF)
			return lfail(err, "sig-alg", "%s must have no "
			    "parameters (RFC 5758 3.2)", a);
	} else if (ki.kind == EVP_PKEY_RSA) {
		if (nid != NID_sha256WithRSAEncryption &&
		    nid != NID_sha384WithRSAEncryption)
			return lfail(err, "sig-alg", "the %s is signed with %s; "
			    "an RSA issuer key signs with "
			    "sha256WithRSAEncryption or "
			    "sha384WithRSAEncryption", what, a);
		if (ptype != V_ASN1_NULL)
			return lfail(err, "sig-alg", "%s must have NULL "
			    "parameters (RFC 4055 5)", a);
	} else
		return lfail(err, "sig-alg", "the issuer key type %s is not "
		    "one keyrite signs with", ki.desc);
	return KR_OK;
}

/*
 * Serial numbers (certificates and CRL entries): positive, at most 20
 * octets (RFC 5280 4.1.2.2); with min_bits, at least that many bits of
 * value (CA/B Forum BR 7.1: 64 bits of CSPRNG output).
 */
static enum kr_err
check_serial(const ASN1_INTEGER *ai, const char *rule_pos,
    const char *rule_len, int min_bits, const char *what,
    struct kr_error *err)
{
	BIGNUM *bn = NULL;
	int bits, octets;
	enum kr_err rc;

	if (ai == NULL || (bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL) {
		rc = lfail(err, rule_pos, "%s has no readable serial number",
		    what);
		goto out;
	}
	if (BN_is_negative(bn) || BN_is_zero(bn)) {
		rc = lfail(err, rule_pos, "%s serial number is %s; it must be "
		    "positive (RFC 5280 4.1.2.2)", what,
		    BN_is_zero(bn) ? "zero" : "negative");
		goto out;
	}
	bits = BN_num_bits(bn);
	octets = bits / 8 + 1;
	if (octets > SERIAL_MAX_OCTETS) {
		rc = lfail(err, rule_len, "%s serial number is %d octets; "
		    "RFC 5280 4.1.2.2 allows at most %d", what, octets,
		    SERIAL_MAX_OCTETS);
		goto out;
	}
	if (bits < min_bits) {
		rc = lfail(err, rule_len, "%s serial number has %d bits of "
		    "value; at least %d random bits are required (CA/B "
		    "Forum BR 7.1)", what, bits, min_bits);
		goto out;
	}
	rc = KR_OK;
out:
	BN_free(bn);
	return rc;
}

static void
obj_name(const ASN1_OBJECT *o, char *buf, size_t sz)
{
	if (OBJ_obj2txt(buf, (int)sz, o, 0) <= 0)
		snprintf(buf, sz, "(unknown)");
}

/*
 * No extension twice (RFC 5280 4.2), the ones RFC 5280 says must not
 * be critical are not, and no critical extension keyrite does not know
 * (a relying party must reject a certificate with an unknown critical
 * extension, RFC 5280 4.2).
 */
static enum kr_err
check_exts(const STACK_OF(X509_EXTENSION) *exts, const char *what,
    struct kr_error *err)
{
	static const int noncrit[] = { NID_subject_key_identifier,
	    NID_authority_key_identifier, NID_crl_distribution_points,
	    NID_info_access, NID_crl_number, NID_freshest_crl };
	static const int maycrit[] = { NID_basic_constraints, NID_key_usage,
	    NID_name_constraints, NID_subject_alt_name, NID_ext_key_usage,
	    NID_certificate_policies, NID_policy_constraints,
	    NID_policy_mappings, NID_inhibit_any_policy,
	    NID_issuing_distribution_point, NID_delta_crl };
	const ASN1_OBJECT *o;
	X509_EXTENSION *x;
	char name[80];
	size_t k;
	int i, j, n, nid;

	n = X509v3_get_ext_count(exts);
	for (i = 0; i < n; i++) {
		x = X509v3_get_ext(exts, i);
		o = X509_EXTENSION_get_object(x);
		for (j = i + 1; j < n; j++)
			if (OBJ_cmp(o, X509_EXTENSION_get_object(
			    X509v3_get_ext(exts, j))) == 0) {
				obj_name(o, name, sizeof(name));
				return lfail(err, "ext-duplicate", "the %s "
				    "carries %s twice (RFC 5280 4.2)", what,
				    name);
			}
		if (!X509_EXTENSION_get_critical(x))
			continue;
		nid = OBJ_obj2nid(o);
		obj_name(o, name, sizeof(name));
		for (k = 0; k < sizeof(noncrit) / sizeof(noncrit[0]); k++)
			if (nid == noncrit[k])
				return lfail(err, "ext-critical", "%s is marked "
				    "critical; RFC 5280 requires it be "
				    "non-critical", name);
		for (k = 0; k < sizeof(maycrit) / sizeof(maycrit[0]); k++)
			if (nid == maycrit[k])
				break;
		if (k == sizeof(maycrit) / sizeof(maycrit[0]))
			return lfail(err, "ext-critical", "critical extension "
			    "%s is not one keyrite knows; relying parties "
			    "would reject the %s (RFC 5280 4.2)", name, what);
	}
	return KR_OK;
}

/* KU bits as X509v3_KU_* from a BIT STRING. */
static unsigned
ku_bits(const ASN1_BIT_STRING *ku)
{
	unsigned bits = 0;

	if (ku->length > 0)
		bits = ku->data[0];
	if (ku->length > 1)
		bits |= (unsigned)ku->data[1] << 8;
	return bits;
}

/*
 * An IA5String as a C string, refusing embedded NULs and anything that
 * does not fit.
 */
static int
ia5_str(const ASN1_STRING *s, char *buf, size_t sz)
{
	const unsigned char *d;
	int n;

	if (s == NULL)
		return -1;
	n = ASN1_STRING_length(s);
	d = ASN1_STRING_get0_data(s);
	if (n < 0 || (size_t)n >= sz || (n > 0 && memchr(d, 0, n) != NULL))
		return -1;
	memcpy(buf, d, (size_t)n);
	buf[n] = '\0';
	return 0;
}

/*
 * Preferred name syntax (RFC 1034 3.5, RFC 5280 4.2.1.6): LDH labels of
 * 1..63, at most 253 in all, no trailing dot.  wild allows a leftmost
 * "*" label; nc allows a leading "." and the empty string (name
 * constraint forms).
 */
static int
dns_ok(const char *s, int wild, int nc)
{
	size_t n = strlen(s), lab = 0, i;

	if (nc && n == 0)
		return 1;
	if (nc && s[0] == '.') {
		s++;
		n--;
	} else if (wild && n > 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		n -= 2;
	}
	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i <= n; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (lab == 0 && c == '-')
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
		lab++;
	}
	return 1;
}

/*
 * Does DNS constraint c cover name n (RFC 5280 4.2.1.10)?  "lab.internal"
 * covers itself and every name below it; ".lab.internal" only the names
 * below it; "" everything.  Case-insensitive.
 */
static int
dns_match(const char *c, const char *n)
{
	size_t cl = strlen(c), nl = strlen(n);

	if (cl == 0)
		return 1;
	if (c[0] == '.')
		return nl > cl && strcasecmp(n + nl - cl, c) == 0;
	if (nl == cl)
		return strcasecmp(n, c) == 0;
	return nl > cl && n[nl - cl - 1] == '.' &&
	    strcasecmp(n + nl - cl, c) == 0;
}

/* Is every name constraint c covers also covered by i? */
static int
dns_inside(const char *c, const char *i)
{
	const char *y = c[0] == '.' ? c + 1 : c;
	const char *x = i[0] == '.' ? i + 1 : i;
	size_t yl = strlen(y), xl = strlen(x);
	int below;

	if (*i == '\0')
		return 1;
	if (*c == '\0')
		return 0;
	below = yl > xl && y[yl - xl - 1] == '.' &&
	    strcasecmp(y + yl - xl, x) == 0;
	if (i[0] != '.')
		return below || strcasecmp(y, x) == 0;
	return below || (c[0] == '.' && strcasecmp(y, x) == 0);
}

/*
 * Could a wildcard name "*.X" expand into something excluded subtree e
 * covers?  Conservative: any e at or below X counts.
 */
static int
dns_wild_hits(const char *e, const char *name)
{
	const char *x = name + 2, *eb = e[0] == '.' ? e + 1 : e;
	size_t xl = strlen(x), el = strlen(eb);

	if (dns_match(e, name))
		return 1;
	return el > xl && eb[el - xl - 1] == '.' &&
	    strcasecmp(eb + el - xl, x) == 0;
}

/* An iPAddress subtree: address and contiguous mask, host bits zero. */
static int
ip_subtree_ok(const ASN1_OCTET_STRING *s)
{
	const unsigned char *d;
	int n, i, zero = 0;

	if (s == NULL)
		return 0;
	n = ASN1_STRING_length(s);
	d = ASN1_STRING_get0_data(s);
	if (n != 8 && n != 32)
		return 0;
	for (i = 0; i < n / 2; i++) {
		unsigned m = d[n / 2 + i], b;

		for (b = 0x80; b != 0; b >>= 1) {
			if ((m & b) == 0)
				zero = 1;
			else if (zero)
				return 0;
		}
		if ((d[i] & ~m & 0xff) != 0)
			return 0;
	}
	return 1;
}

static int
ip_match(const ASN1_OCTET_STRING *sub, const ASN1_OCTET_STRING *addr)
{
	const unsigned char *s = ASN1_STRING_get0_data(sub);
	const unsigned char *a = ASN1_STRING_get0_data(addr);
	int n = ASN1_STRING_length(addr), i;

	if (ASN1_STRING_length(sub) != 2 * n)
		return 0;
	for (i = 0; i < n; i++)
		if ((a[i] & s[n + i]) != s[i])
			return 0;
	return 1;
}

/* Is subtree c (address/mask) inside subtree i? */
static int
ip_inside(const ASN1_OCTET_STRING *c, const ASN1_OCTET_STRING *i)
{
	const unsigned char *cd = ASN1_STRING_get0_data(c);
	const unsigned char *id = ASN1_STRING_get0_data(i);
	int n = ASN1_STRING_length(c) / 2, k;

	if (ASN1_STRING_length(i) != 2 * n)
		return 0;
	for (k = 0; k < n; k++) {
		if ((cd[n + k] & id[n + k]) != id[n + k])
			return 0;
		if ((cd[k] & id[n + k]) != id[k])
			return 0;
	}
	return 1;
}

/* Prefix length of a contiguous mask. */
static int
mask_len(const unsigned char *m, int n)
{
	int i, bits = 0;
	unsigned b;

	for (i = 0; i < n; i++)
		for (b = 0x80; b != 0; b >>= 1)
			if ((m[i] & b) != 0)
				bits++;
	return bits;
}

/* A GENERAL_NAME as text: "DNS:x", "IP:10.0.0.0/8", "email:...". */
static void
gn_str(const GENERAL_NAME *gn, char *buf, size_t sz)
{
	const unsigned char *d;
	char tmp[INET6_ADDRSTRLEN + 8], s[256];
	int n;

	switch (gn->type) {
	case GEN_DNS:
		if (ia5_str(gn->d.dNSName, s, sizeof(s)) == -1)
			snprintf(s, sizeof(s), "(unreadable)");
		snprintf(buf, sz, "DNS:%s", s);
		return;
	case GEN_IPADD:
		d = ASN1_STRING_get0_data(gn->d.iPAddress);
		n = ASN1_STRING_length(gn->d.iPAddress);
		if ((n == 4 || n == 8) &&
		    inet_ntop(AF_INET, d, tmp, sizeof(tmp)) != NULL) {
			if (n == 8)
				snprintf(buf, sz, "IP:%s/%d", tmp,
				    mask_len(d + 4, 4));
			else
				snprintf(buf, sz, "IP:%s", tmp);
		} else if ((n == 16 || n == 32) &&
		    inet_ntop(AF_INET6, d, tmp, sizeof(tmp)) != NULL) {
			if (n == 32)
				snprintf(buf, sz, "IP:%s/%d", tmp,
				    mask_len(d + 16, 16));
			else
				snprintf(buf, sz, "IP:%s", tmp);
		} else
			snprintf(buf, sz, "IP:(%d octets)", n);
		return;
	case GEN_EMAIL:
		if (ia5_str(gn->d.rfc822Name, s, sizeof(s)) == -1)
			snprintf(s, sizeof(s), "(unreadable)");
		snprintf(buf, sz, "email:%s", s);
		return;
	case GEN_URI:
		if (ia5_str(gn->d.uniformResourceIdentifier, s, sizeof(s)) ==
		    -1)
			snprintf(s, sizeof(s), "(unreadable)");
		snprintf(buf, sz, "URI:%s", s);
		return;
	default:
		snprintf(buf, sz, "(name of type %d)", gn->type);
		return;
	}
}

/* "DNS:a, IP:b" of the subtrees of type (all types if type < 0). */
static void
subtrees_str(const STACK_OF(GENERAL_SUBTREE) *st, int type, char *buf,
    size_t sz)
{
	char one[300];
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < sk_GENERAL_SUBTREE_num(st) && n < sz; i++) {
		const GENERAL_SUBTREE *t = sk_GENERAL_SUBTREE_value(st, i);

		if (type >= 0 && t->base->type != type)
			continue;
		gn_str(t->base, one, sizeof(one));
		n += (size_t)snprintf(buf + n, sz - n, "%s%s",
		    n > 0 ? ", " : "", one);
	}
}

static int
count_type(const STACK_OF(GENERAL_SUBTREE) *st, int type)
{
	int i, n = 0;

	for (i = 0; i < sk_GENERAL_SUBTREE_num(st); i++)
		if (sk_GENERAL_SUBTREE_value(st, i)->base->type == type)
			n++;
	return n;
}

/*
 * Is name gn allowed by nc?  0 if so; otherwise 1 and a reason in why.
 * DNS names are checked against dNSName subtrees, IP addresses against
 * iPAddress subtrees; a type with no permitted subtree is not
 * constrained (RFC 5280 4.2.1.10).  Other name types are allowed only
 * when nc says nothing of their type, since keyrite cannot check them.
 */
static int
name_check(const NAME_CONSTRAINTS *nc, const GENERAL_NAME *gn, char *why,
    size_t sz)
{
	const STACK_OF(GENERAL_SUBTREE) *perm = nc->permittedSubtrees;
	const STACK_OF(GENERAL_SUBTREE) *excl = nc->excludedSubtrees;
	const GENERAL_SUBTREE *t;
	char name[300], sub[300], list[600];
	char dn[256], tn[256];
	int i, hit;

	gn_str(gn, name, sizeof(name));
	if (gn->type != GEN_DNS && gn->type != GEN_IPADD) {
		if (count_type(perm, gn->type) + count_type(excl, gn->type) >
		    0) {
			snprintf(why, sz, "%s cannot be checked against the "
			    "issuer's name constraints on that name type",
			    name);
			return 1;
		}
		return 0;
	}
	if (gn->type == GEN_DNS && ia5_str(gn->d.dNSName, dn,
	    sizeof(dn)) == -1) {
		snprintf(why, sz, "unreadable DNS name");
		return 1;
	}
	for (i = 0; i < sk_GENERAL_SUBTREE_num(excl); i++) {
		t = sk_GENERAL_SUBTREE_value(excl, i);
		if (t->base->type != gn->type)
			continue;
		if (gn->type == GEN_DNS) {
			if (ia5_str(t->base->d.dNSName, tn, sizeof(tn)) == -1)
				hit = 1;
			else if (dn[0] == '*' && dn[1] == '.')
				hit = dns_wild_hits(tn, dn);
			else
				hit = dns_match(tn, dn);
		} else
			hit = ip_match(t->base->d.iPAddress,
			    gn->d.iPAddress);
		if (hit) {
			gn_str(t->base, sub, sizeof(sub));
			snprintf(why, sz, "%s lies in the excluded subtree %s",
			    name, sub);
			return 1;
		}
	}
	if (count_type(perm, gn->type) == 0)
		return 0;
	for (i = 0; i < sk_GENERAL_SUBTREE_num(perm); i++) {
		t = sk_GENERAL_SUBTREE_value(perm, i);
		if (t->base->type != gn->type)
			continue;
		if (gn->type == GEN_DNS) {
			if (ia5_str(t->base->d.dNSName, tn, sizeof(tn)) == 0 &&
			    dns_match(tn, dn))
				return 0;
		} else if (ip_match(t->base->d.iPAddress, gn->d.iPAddress))
			return 0;
	}
	subtrees_str(perm, gn->type, list, sizeof(list));
	snprintf(why, sz, "%s is outside the permitted subtrees (%s)", name,
	    list);
	return 1;
}

/* A SAN entry's syntax; wild allows a "*." DNS label (leaves). */
static int
san_entry_ok(const GENERAL_NAME *gn, int wild, char *why, size_t sz)
{
	char s[300];
	int n;

	switch (gn->type) {
	case GEN_DNS:
		if (ia5_str(gn->d.dNSName, s, sizeof(s)) == -1 ||
		    !dns_ok(s, wild, 0)) {
			gn_str(gn, s, sizeof(s));
			snprintf(why, sz, "%s is not a valid host name "
			    "(RFC 5280 4.2.1.6: LDH labels, no trailing dot%s)",
			    s, wild ? "" : ", no wildcard in a CA");
			return 0;
		}
		return 1;
	case GEN_IPADD:
		n = ASN1_STRING_length(gn->d.iPAddress);
		if (n != 4 && n != 16) {
			snprintf(why, sz, "an iPAddress of %d octets; it must "
			    "be 4 (IPv4) or 16 (IPv6)", n);
			return 0;
		}
		return 1;
	case GEN_EMAIL:
	case GEN_URI:
		if (ia5_str(gn->d.ia5, s, sizeof(s)) == -1 || s[0] == '\0') {
			snprintf(why, sz, "an empty or unreadable %s name",
			    gn->type == GEN_EMAIL ? "email" : "URI");
			return 0;
		}
		return 1;
	default:
		gn_str(gn, s, sizeof(s));
		snprintf(why, sz, "%s: keyrite puts only DNS, IP, email and "
		    "URI names in a subjectAltName", s);
		return 0;
	}
}

/* A subtree's form: DNS or IP base, minimum 0, no maximum. */
static enum kr_err
check_subtree(const GENERAL_SUBTREE *t, struct kr_error *err)
{
	char s[300], tn[300];

	gn_str(t->base, s, sizeof(s));
	if ((t->minimum != NULL && ASN1_INTEGER_get(t->minimum) != 0) ||
	    t->maximum != NULL)
		return lfail(err, "name-constraints", "subtree %s has minimum "
		    "or maximum; RFC 5280 4.2.1.10 requires minimum 0 and no "
		    "maximum", s);
	if (t->base->type == GEN_DNS) {
		if (ia5_str(t->base->d.dNSName, tn, sizeof(tn)) == -1 ||
		    !dns_ok(tn, 0, 1))
			return lfail(err, "name-constraints", "subtree %s is "
			    "not a valid DNS name constraint", s);
	} else if (t->base->type == GEN_IPADD) {
		if (!ip_subtree_ok(t->base->d.iPAddress))
			return lfail(err, "name-constraints", "subtree %s is "
			    "not an address and contiguous mask with the host "
			    "bits zero", s);
	} else
		return lfail(err, "name-constraints", "subtree %s: keyrite "
		    "supports only DNS and IP name constraints", s);
	return KR_OK;
}

/*
 * A CA's name constraints against the profile and its issuer's: for
 * each type (DNS, IP) the issuer constrains, the CA must carry
 * permitted subtrees of that type, each inside one of the issuer's.
 */
static enum kr_err
check_nc(const struct pol_profile *p, const NAME_CONSTRAINTS *nc, int crit,
    const NAME_CONSTRAINTS *inc, struct kr_error *err)
{
	static const int types[] = { GEN_DNS, GEN_IPADD };
	const GENERAL_SUBTREE *c, *t;
	char cs[300], list[600], cn[300], tn[300];
	size_t k;
	int i, j, in;
	enum kr_err rc;

	if (nc == NULL && crit >= 0)
		return lfail(err, "name-constraints", "nameConstraints does "
		    "not decode");
	if (nc != NULL && (p->kind == POL_KIND_LEAF ||
	    p->name_constraints == POL_NC_FORBIDDEN))
		return lfail(err, "name-constraints", "profile '%s' forbids "
		    "nameConstraints%s", p->name,
		    p->kind == POL_KIND_LEAF ? " (only CAs may carry them, "
		    "RFC 5280 4.2.1.10)" : "");
	if (nc == NULL && p->name_constraints == POL_NC_REQUIRED)
		return lfail(err, "name-constraints", "profile '%s' requires "
		    "nameConstraints and the certificate has none", p->name);
	if (nc != NULL) {
		if (crit != 1)
			return lfail(err, "name-constraints", "nameConstraints "
			    "must be critical (RFC 5280 4.2.1.10)");
		if (sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) <= 0 &&
		    sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) <= 0)
			return lfail(err, "name-constraints", "nameConstraints "
			    "is empty (RFC 5280 4.2.1.10)");
		for (i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees);
		    i++)
			if ((rc = check_subtree(sk_GENERAL_SUBTREE_value(
			    nc->permittedSubtrees, i), err)) != KR_OK)
				return rc;
		for (i = 0; i < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees);
		    i++)
			if ((rc = check_subtree(sk_GENERAL_SUBTREE_value(
			    nc->excludedSubtrees, i), err)) != KR_OK)
				return rc;
	}
	if (inc == NULL || p->kind == POL_KIND_LEAF)
		return KR_OK;
	for (k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		if (count_type(inc->permittedSubtrees, types[k]) == 0)
			continue;
		subtrees_str(inc->permittedSubtrees, types[k], list,
		    sizeof(list));
		if (nc == NULL || count_type(nc->permittedSubtrees,
		    types[k]) == 0)
			return lfail(err, "name-constraints", "the issuer "
			    "permits only %s; the CA certificate must carry "
			    "permitted %s subtrees inside them", list,
			    types[k] == GEN_DNS ? "DNS" : "IP");
		for (i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees);
		    i++) {
			c = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
			if (c->base->type != types[k])
				continue;
			in = 0;
			for (j = 0; !in && j < sk_GENERAL_SUBTREE_num(
			    inc->permittedSubtrees); j++) {
				t = sk_GENERAL_SUBTREE_value(
				    inc->permittedSubtrees, j);
				if (t->base->type != types[k])
					continue;
				if (types[k] == GEN_IPADD)
					in = ip_inside(c->base->d.iPAddress,
					    t->base->d.iPAddress);
				else if (ia5_str(c->base->d.dNSName, cn,
				    sizeof(cn)) == 0 && ia5_str(
				    t->base->d.dNSName, tn, sizeof(tn)) == 0)
					in = dns_inside(cn, tn);
			}
			if (!in) {
				gn_str(c->base, cs, sizeof(cs));
				return lfail(err, "name-constraints",
				    "permitted subtree %s is wider than the "
				    "issuer's (%s)", cs, list);
			}
		}
	}
	return KR_OK;
}

/* CDP (fullName URI) or AIA caIssuers: at least one http:// URI. */
static int
has_http(const GENERAL_NAMES *names)
{
	char s[512];
	int i;

	for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

		if (gn->type == GEN_URI && ia5_str(
		    gn->d.uniformResourceIdentifier, s, sizeof(s)) == 0 &&
		    strncmp(s, "http://", 7) == 0 && s[7] != '\0')
			return 1;
	}
	return 0;
}

static enum kr_err
check_cdp_aia(const struct pol_profile *p,
    const STACK_OF(X509_EXTENSION) *exts, struct kr_error *err)
{
	CRL_DIST_POINTS *cdp = NULL;
	AUTHORITY_INFO_ACCESS *aia = NULL;
	GENERAL_NAMES *gns = NULL;
	int crit, i, ok;
	enum kr_err rc;

	cdp = X509V3_get_d2i(exts, NID_crl_distribution_points, &crit, NULL);
	if (cdp == NULL && crit >= 0) {
		rc = lfail(err, "cdp", "cRLDistributionPoints does not "
		    "decode");
		goto out;
	}
	if (cdp == NULL && p->require_cdp) {
		rc = lfail(err, "cdp", "profile '%s' requires a CRL "
		    "distribution point and the certificate has none",
		    p->name);
		goto out;
	}
	for (ok = 0, i = 0; cdp != NULL && i < sk_DIST_POINT_num(cdp); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(cdp, i);

		if (dp->distpoint != NULL && dp->distpoint->type == 0 &&
		    has_http(dp->distpoint->name.fullname))
			ok = 1;
	}
	if (cdp != NULL && !ok) {
		rc = lfail(err, "cdp", "cRLDistributionPoints has no http:// "
		    "URI (CA/B Forum BR 7.1.2.11.2)");
		goto out;
	}
	aia = X509V3_get_d2i(exts, NID_info_access, &crit, NULL);
	if (aia == NULL && crit >= 0) {
		rc = lfail(err, "aia", "authorityInfoAccess does not decode");
		goto out;
	}
	if ((gns = sk_GENERAL_NAME_new_null()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

		if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers &&
		    !sk_GENERAL_NAME_push(gns, ad->location)) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if (p->require_aia && !has_http(gns)) {
		rc = lfail(err, "aia", "profile '%s' requires an "
		    "authorityInfoAccess caIssuers http:// URI and the "
		    "certificate has none", p->name);
		goto out;
	}
	rc = KR_OK;
out:
	sk_GENERAL_NAME_free(gns);	/* the names belong to aia */
	CRL_DIST_POINTS_free(cdp);
	AUTHORITY_INFO_ACCESS_free(aia);
	return rc;
}

/* Re-parse the DER so the linter sees exactly what will be signed. */
static X509 *
reparse_cert(X509 *x)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *y;
	int n;

	if ((n = i2d_X509(x, &der)) <= 0)
		return NULL;
	p = der;
	y = d2i_X509(NULL, &p, n);
	if (y != NULL && p != der + n) {
		X509_free(y);
		y = NULL;
	}
	OPENSSL_free(der);
	return y;
}

static X509_CRL *
reparse_crl(X509_CRL *x, X509_ALGOR **tbsalg)
{
	unsigned char *der = NULL;
	const unsigned char *p, *end, *q;
	X509_CRL *y = NULL;
	long l;
	int n, tag, cls;

	*tbsalg = NULL;
	if ((n = i2d_X509_CRL(x, &der)) <= 0)
		return NULL;
	p = der;
	if ((y = d2i_X509_CRL(NULL, &p, n)) == NULL || p != der + n)
		goto bad;
	/* CertificateList ::= SEQUENCE { tbsCertList SEQUENCE { version
	 * INTEGER OPTIONAL, signature AlgorithmIdentifier, ... } ... } */
	p = der;
	end = der + n;
	if ((ASN1_get_object(&p, &l, &tag, &cls, end - p) & 0x80) != 0 ||
	    tag != V_ASN1_SEQUENCE)
		goto bad;
	if ((ASN1_get_object(&p, &l, &tag, &cls, end - p) & 0x80) != 0 ||
	    tag != V_ASN1_SEQUENCE)
		goto bad;
	q = p;
	if ((ASN1_get_object(&q, &l, &tag, &cls, end - q) & 0x80) != 0)
		goto bad;
	if (tag == V_ASN1_INTEGER && cls == V_ASN1_UNIVERSAL)
		p = q + l;
	if ((*tbsalg = d2i_X509_ALGOR(NULL, &p, end - p)) == NULL)
		goto bad;
	OPENSSL_free(der);
	return y;
bad:
	X509_CRL_free(y);
	OPENSSL_free(der);
	return NULL;
}

/* The issuer can issue: cA, keyCertSign (or cRLSign for CRLs). */
static enum kr_err
check_issuer_ca(X509 *issuer, unsigned need, int child_ca,
    struct kr_error *err)
{
	const STACK_OF(X509_EXTENSION) *ie = X509_get0_extensions(issuer);
	BASIC_CONSTRAINTS *bc = NULL;
	ASN1_BIT_STRING *ku = NULL;
	char want[64];
	enum kr_err rc;

	pol_key_usage_names(need, want, sizeof(want));
	bc = X509V3_get_d2i(ie, NID_basic_constraints, NULL, NULL);
	ku = X509V3_get_d2i(ie, NID_key_usage, NULL, NULL);
	if (bc == NULL || !bc->ca) {
		rc = lfail(err, "issuer-ca", "the issuer certificate is not a "
		    "CA (basicConstraints cA is not true)");
		goto out;
	}
	if (ku == NULL || (ku_bits(ku) & need) != need) {
		rc = lfail(err, "issuer-ca", "the issuer certificate's "
		    "keyUsage lacks %s (RFC 5280 4.2.1.3)", want);
		goto out;
	}
	if (child_ca && bc->pathlen != NULL &&
	    ASN1_INTEGER_get(bc->pathlen) <= 0) {
		rc = lfail(err, "issuer-ca", "the issuer's pathLenConstraint "
		    "is 0: it may not issue CA certificates (RFC 5280 "
		    "4.2.1.9)");
		goto out;
	}
	rc = KR_OK;
out:
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(ku);
	return rc;
}

static enum kr_err
check_validity(const struct pol_profile *p, const ASN1_TIME *xnb,
    const ASN1_TIME *xna, X509 *issuer, time_t now, struct kr_error *err)
{
	time_t nb = 0, na = 0, inb, ina;
	char a[64], b[64], c[64];
	long long span;
	enum kr_err rc;

	if ((rc = check_time_encoding(xnb, "notBefore", err)) != KR_OK ||
	    (rc = check_time_encoding(xna, "notAfter", err)) != KR_OK)
		return rc;
	get_time(xnb, &nb);
	get_time(xna, &na);
	fmt_time(nb, a, sizeof(a));
	fmt_time(na, b, sizeof(b));
	if (nb >= na)
		return lfail(err, "validity-order", "notBefore %s is not "
		    "before notAfter %s", a, b);
	if ((long long)nb > (long long)now + POL_LINT_SKEW) {
		fmt_dur((long long)nb - now, c, sizeof(c));
		return lfail(err, "validity-now", "notBefore %s is %s in the "
		    "future; at most %d seconds of clock skew are allowed",
		    a, c, POL_LINT_SKEW);
	}
	if (na <= now)
		return lfail(err, "validity-now", "notAfter %s has passed "
		    "already", b);
	span = (long long)na - (long long)nb;
	if (span > p->max_validity + p->backdate) {
		fmt_dur(span, a, sizeof(a));
		fmt_dur(p->max_validity, b, sizeof(b));
		fmt_dur(p->backdate, c, sizeof(c));
		return lfail(err, "validity-max", "certificate is valid for "
		    "%s; profile '%s' allows at most %s%s%s%s", a, p->name, b,
		    p->backdate > 0 ? " (plus " : "",
		    p->backdate > 0 ? c : "",
		    p->backdate > 0 ? " backdating)" : "");
	}
	if (issuer == NULL)
		return KR_OK;
	if (get_time(X509_get0_notBefore(issuer), &inb) == -1 ||
	    get_time(X509_get0_notAfter(issuer), &ina) == -1)
		return lfail(err, "validity-issuer", "the issuer's validity "
		    "cannot be read");
	if (nb < inb) {
		fmt_time(inb, c, sizeof(c));
		return lfail(err, "validity-issuer", "notBefore %s is before "
		    "the issuer's notBefore %s", a, c);
	}
	if (na > ina) {
		fmt_time(ina, c, sizeof(c));
		return lfail(err, "validity-issuer", "notAfter %s is after the "
		    "issuer's notAfter %s", b, c);
	}
	return KR_OK;
}

static enum kr_err
check_bc(const struct pol_profile *p, const STACK_OF(X509_EXTENSION) *exts,
    X509 *issuer, struct kr_error *err)
{
	BASIC_CONSTRAINTS *bc = NULL, *ibc = NULL;
	long pl = -1, ipl;
	int crit;
	enum kr_err rc;

	bc = X509V3_get_d2i(exts, NID_basic_constraints, &crit, NULL);
	if (bc == NULL && crit >= 0) {
		rc = lfail(err, "basic-constraints", "basicConstraints does "
		    "not decode");
		goto out;
	}
	if (bc != NULL && bc->pathlen != NULL)
		pl = ASN1_INTEGER_get(bc->pathlen);
	if (p->kind == POL_KIND_LEAF) {
		if (bc != NULL && (bc->ca || bc->pathlen != NULL)) {
			rc = lfail(err, "basic-constraints", "a leaf "
			    "certificate must not assert cA or a "
			    "pathLenConstraint (RFC 5280 4.2.1.9)");
			goto out;
		}
		rc = KR_OK;
		goto out;
	}
	if (bc == NULL) {
		rc = lfail(err, "basic-constraints", "a CA certificate needs "
		    "basicConstraints (RFC 5280 4.2.1.9)");
		goto out;
	}
	if (crit != 1) {
		rc = lfail(err, "basic-constraints", "basicConstraints must "
		    "be critical in a CA certificate (RFC 5280 4.2.1.9)");
		goto out;
	}
	if (!bc->ca) {
		rc = lfail(err, "basic-constraints", "cA is false; profile "
		    "'%s' issues CA certificates", p->name);
		goto out;
	}
	if (p->path_len < 0 && bc->pathlen != NULL) {
		rc = lfail(err, "basic-constraints", "pathLenConstraint is "
		    "%ld; profile '%s' has none", pl, p->name);
		goto out;
	}
	if (p->path_len >= 0 && pl != p->path_len) {
		rc = bc->pathlen == NULL ? lfail(err, "basic-constraints",
		    "pathLenConstraint is absent; profile '%s' requires %d",
		    p->name, p->path_len) : lfail(err, "basic-constraints",
		    "pathLenConstraint is %ld; profile '%s' requires %d", pl,
		    p->name, p->path_len);
		goto out;
	}
	if (issuer != NULL && (ibc = X509V3_get_d2i(
	    X509_get0_extensions(issuer), NID_basic_constraints, NULL,
	    NULL)) != NULL && ibc->pathlen != NULL) {
		ipl = ASN1_INTEGER_get(ibc->pathlen);
		if (pl < 0 || pl >= ipl) {
			rc = lfail(err, "basic-constraints", "pathLenConstraint "
			    "%s%ld must be smaller than the issuer's %ld",
			    pl < 0 ? "(none) " : "", pl < 0 ? 0 : pl, ipl);
			goto out;
		}
	}
	rc = KR_OK;
out:
	BASIC_CONSTRAINTS_free(bc);
	BASIC_CONSTRAINTS_free(ibc);
	return rc;
}

static enum kr_err
check_ku(const struct pol_profile *p, const STACK_OF(X509_EXTENSION) *exts,
    struct kr_error *err)
{
	ASN1_BIT_STRING *ku;
	char have[160], want[160], miss[160], extra[160];
	unsigned bits;
	int crit;
	enum kr_err rc;

	pol_key_usage_names(p->key_usage, want, sizeof(want));
	ku = X509V3_get_d2i(exts, NID_key_usage, &crit, NULL);
	if (ku == NULL) {
		rc = lfail(err, "key-usage", "keyUsage is %s; profile '%s' "
		    "requires %s", crit >= 0 ? "malformed" : "missing",
		    p->name, want);
		goto out;
	}
	if (crit != 1) {
		rc = lfail(err, "key-usage", "keyUsage must be critical (RFC "
		    "5280 4.2.1.3)");
		goto out;
	}
	bits = ku_bits(ku);
	if (bits != p->key_usage) {
		pol_key_usage_names(bits, have, sizeof(have));
		pol_key_usage_names(p->key_usage & ~bits, miss, sizeof(miss));
		pol_key_usage_names(bits & ~p->key_usage, extra,
		    sizeof(extra));
		rc = lfail(err, "key-usage", "keyUsage is %s; profile '%s' "
		    "requires exactly %s (missing: %s; extra: %s)", have,
		    p->name, want, miss, extra);
		goto out;
	}
	rc = KR_OK;
out:
	ASN1_BIT_STRING_free(ku);
	return rc;
}

static enum kr_err
check_eku(const struct pol_profile *p, const STACK_OF(X509_EXTENSION) *exts,
    struct kr_error *err)
{
	EXTENDED_KEY_USAGE *eku;
	char name[80];
	unsigned bits = 0, b;
	int crit, i, nid;
	enum kr_err rc;

	eku = X509V3_get_d2i(exts, NID_ext_key_usage, &crit, NULL);
	if (eku == NULL && crit >= 0) {
		rc = lfail(err, "ext-key-usage", "extKeyUsage does not "
		    "decode");
		goto out;
	}
	if (p->ext_key_usage == 0) {
		rc = eku == NULL ? KR_OK : lfail(err, "ext-key-usage",
		    "profile '%s' allows no extKeyUsage extension", p->name);
		goto out;
	}
	if (eku == NULL) {
		rc = lfail(err, "ext-key-usage", "extKeyUsage is missing; "
		    "profile '%s' requires it", p->name);
		goto out;
	}
	if (crit == 1) {
		rc = lfail(err, "ext-key-usage", "extKeyUsage must not be "
		    "critical (CA/B Forum BR 7.1.2.7.10)");
		goto out;
	}
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
		if (nid == NID_server_auth)
			b = POL_EKU_SERVER_AUTH;
		else if (nid == NID_client_auth)
			b = POL_EKU_CLIENT_AUTH;
		else
			b = 0;
		if (b == 0 || (bits & b) != 0) {
			obj_name(sk_ASN1_OBJECT_value(eku, i), name,
			    sizeof(name));
			rc = lfail(err, "ext-key-usage", "extKeyUsage %s %s",
			    name, b == 0 ? "is not allowed (only serverAuth "
			    "and clientAuth)" : "is listed twice");
			goto out;
		}
		bits |= b;
	}
	if (bits != p->ext_key_usage) {
		rc = lfail(err, "ext-key-usage", "extKeyUsage is%s%s; "
		    "profile '%s' requires exactly%s%s", (bits &
		    POL_EKU_SERVER_AUTH) ? " serverAuth" : "", (bits &
		    POL_EKU_CLIENT_AUTH) ? " clientAuth" : "", p->name,
		    (p->ext_key_usage & POL_EKU_SERVER_AUTH) ? " serverAuth" :
		    "", (p->ext_key_usage & POL_EKU_CLIENT_AUTH) ?
		    " clientAuth" : "");
		goto out;
	}
	rc = KR_OK;
out:
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return rc;
}

/*
 * AKI: keyid only (no issuer and serial), equal to the issuer's SKI
 * (RFC 5280 4.2.1.1); a self-signed certificate may omit it.
 */
static enum kr_err
check_aki(const STACK_OF(X509_EXTENSION) *exts, X509 *issuer,
    int self_signed, const char *what, struct kr_error *err)
{
	AUTHORITY_KEYID *aki = NULL;
	ASN1_OCTET_STRING *iski = NULL;
	const char *rule = strcmp(what, "CRL") == 0 ? "crl-aki" : "aki";
	int crit;
	enum kr_err rc;

	aki = X509V3_get_d2i(exts, NID_authority_key_identifier, &crit,
	    NULL);
	if (aki == NULL && crit >= 0) {
		rc = lfail(err, rule, "authorityKeyIdentifier does not "
		    "decode");
		goto out;
	}
	if (aki == NULL) {
		rc = self_signed ? KR_OK : lfail(err, rule, "the %s has no "
		    "authorityKeyIdentifier (RFC 5280 %s)", what,
		    strcmp(what, "CRL") == 0 ? "5.2.1" : "4.2.1.1");
		goto out;
	}
	if (aki->issuer != NULL || aki->serial != NULL) {
		rc = lfail(err, rule, "authorityKeyIdentifier carries "
		    "authorityCertIssuer/authorityCertSerialNumber; keyrite "
		    "uses keyIdentifier only, so a re-issued issuer still "
		    "matches");
		goto out;
	}
	if (aki->keyid == NULL) {
		rc = lfail(err, rule, "authorityKeyIdentifier has no "
		    "keyIdentifier");
		goto out;
	}
	iski = X509V3_get_d2i(X509_get0_extensions(issuer),
	    NID_subject_key_identifier, NULL, NULL);
	if (iski == NULL) {
		rc = lfail(err, rule, "the issuer certificate has no "
		    "subjectKeyIdentifier to match");
		goto out;
	}
	if (ASN1_OCTET_STRING_cmp(aki->keyid, iski) != 0) {
		rc = lfail(err, rule, "authorityKeyIdentifier does not match "
		    "the %s subjectKeyIdentifier", self_signed ?
		    "certificate's own" : "issuer's");
		goto out;
	}
	rc = KR_OK;
out:
	AUTHORITY_KEYID_free(aki);
	ASN1_OCTET_STRING_free(iski);
	return rc;
}

/* Does the string look like a host name or an IP address? */
static int
cn_san_check(const X509_NAME *subj, const GENERAL_NAMES *san, char *bad,
    size_t sz)
{
	unsigned char ip[16];
	unsigned char *u = NULL;
	char dn[300];
	int i, j, n, iplen, found;

	for (i = -1; (i = X509_NAME_get_index_by_NID(subj, NID_commonName,
	    i)) >= 0;) {
		n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subj, i)));
		if (n < 0)
			continue;
		iplen = 0;
		if (memchr(u, 0, (size_t)n) == NULL) {
			if (inet_pton(AF_INET, (char *)u, ip) == 1)
				iplen = 4;
			else if (inet_pton(AF_INET6, (char *)u, ip) == 1)
				iplen = 16;
		}
		if (iplen == 0 && (memchr(u, 0, (size_t)n) != NULL ||
		    strchr((char *)u, '.') == NULL || !dns_ok((char *)u, 1,
		    0))) {
			OPENSSL_free(u);
			u = NULL;
			continue;
		}
		found = 0;
		for (j = 0; !found && j < sk_GENERAL_NAME_num(san); j++) {
			const GENERAL_NAME *gn = sk_GENERAL_NAME_value(san, j);

			if (iplen > 0 && gn->type == GEN_IPADD &&
			    ASN1_STRING_length(gn->d.iPAddress) == iplen &&
			    memcmp(ASN1_STRING_get0_data(gn->d.iPAddress), ip,
			    (size_t)iplen) == 0)
				found = 1;
			if (iplen == 0 && gn->type == GEN_DNS &&
			    ia5_str(gn->d.dNSName, dn, sizeof(dn)) == 0 &&
			    strcasecmp(dn, (char *)u) == 0)
				found = 1;
		}
		if (!found) {
			snprintf(bad, sz, "%s", (char *)u);
			OPENSSL_free(u);
			return 1;
		}
		OPENSSL_free(u);
		u = NULL;
	}
	return 0;
}

static enum kr_err
check_names(const struct pol_profile *p, const STACK_OF(X509_EXTENSION) *exts,
    const X509_NAME *subj, X509 *issuer, struct kr_error *err)
{
	NAME_CONSTRAINTS *nc = NULL, *inc = NULL;
	GENERAL_NAMES *san = NULL;
	char why[1024], iname[256];
	int crit, sancrit, i, hostnames = 0;
	enum kr_err rc;

	nc = X509V3_get_d2i(exts, NID_name_constraints, &crit, NULL);
	if (issuer != NULL)
		inc = X509V3_get_d2i(X509_get0_extensions(issuer),
		    NID_name_constraints, NULL, NULL);
	if ((rc = check_nc(p, nc, crit, inc, err)) != KR_OK)
		goto out;
	san = X509V3_get_d2i(exts, NID_subject_alt_name, &sancrit, NULL);
	if (san == NULL && sancrit >= 0) {
		rc = lfail(err, "san-syntax", "subjectAltName does not "
		    "decode");
		goto out;
	}
	if (san != NULL && sk_GENERAL_NAME_num(san) == 0) {
		rc = lfail(err, "san-syntax", "subjectAltName is empty (RFC "
		    "5280 4.2.1.6)");
		goto out;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(san); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(san, i);

		if (!san_entry_ok(gn, p->kind == POL_KIND_LEAF, why,
		    sizeof(why))) {
			rc = lfail(err, "san-syntax", "%s", why);
			goto out;
		}
		if (gn->type == GEN_DNS || gn->type == GEN_IPADD)
			hostnames++;
	}
	if (p->require_san && hostnames == 0) {
		rc = lfail(err, "san-required", "profile '%s' requires a "
		    "subjectAltName with a DNS name or IP address, and the "
		    "certificate has %s", p->name, san == NULL ? "none" :
		    "neither");
		goto out;
	}
	if (X509_NAME_entry_count(subj) == 0) {
		if (p->kind != POL_KIND_LEAF) {
			rc = lfail(err, "subject-empty", "a CA certificate "
			    "needs a non-empty subject (RFC 5280 4.1.2.6)");
			goto out;
		}
		if (san == NULL || sancrit != 1) {
			rc = lfail(err, "subject-empty", "the subject is empty, "
			    "so subjectAltName must be present and critical "
			    "(RFC 5280 4.2.1.6)");
			goto out;
		}
	}
	if (p->kind == POL_KIND_LEAF && cn_san_check(subj, san, why,
	    sizeof(why))) {
		rc = lfail(err, "cn-san", "the subject commonName '%s' is a "
		    "host name or address missing from subjectAltName (CA/B "
		    "Forum BR 7.1.4.3)", why);
		goto out;
	}
	if (inc != NULL) {
		X509_NAME_oneline(X509_get_subject_name(issuer), iname,
		    sizeof(iname));
		for (i = 0; i < sk_GENERAL_NAME_num(san); i++)
			if (name_check(inc, sk_GENERAL_NAME_value(san, i), why,
			    sizeof(why))) {
				rc = lfail(err, "san-constraints", "%s of "
				    "issuer %s", why, iname);
				goto out;
			}
	}
	rc = KR_OK;
out:
	NAME_CONSTRAINTS_free(nc);
	NAME_CONSTRAINTS_free(inc);
	GENERAL_NAMES_free(san);
	return rc;
}

/*
 * What the certificate rules look at, taken from an X509 (lint_cert)
 * or from the DER of a TBS (pol_lint_tbs).
 */
struct cert_view {
	long			 version;	/* X509_VERSION_* */
	const ASN1_INTEGER	*serial;
	const X509_ALGOR	*tbs_alg;
	const X509_ALGOR	*outer_alg;
	const X509_NAME		*issuer;
	const X509_NAME		*subject;
	const ASN1_TIME		*nb, *na;
	EVP_PKEY		*key;
	const STACK_OF(X509_EXTENSION) *exts;
};

/*
 * The rules, in a fixed order; the first refusal is reported.  issuer
 * is NULL for a self-signed certificate; iss is then the certificate
 * itself as an X509 (its key, subject and SKI are the issuer's).  iki,
 * when not NULL, is iss's key classified by key_info already (which
 * refused it if weak); else it is classified here.
 */
static enum kr_err
lint_view(const struct pol_profile *p, const struct cert_view *v,
    X509 *issuer, X509 *iss, const struct keyinfo *iki, time_t now,
    struct kr_error *err)
{
	ASN1_OCTET_STRING *ski = NULL;
	struct keyinfo ki;
	char kt[160];
	int crit, i;
	enum kr_err rc;

	if ((p->kind == POL_KIND_ROOT) != (issuer == NULL)) {
		rc = lfail(err, "profile-kind", "profile '%s' is for %s "
		    "certificates, but the certificate is %s", p->name,
		    p->kind == POL_KIND_ROOT ? "self-signed" : "issued",
		    issuer == NULL ? "self-signed" : "issued by a CA");
		goto out;
	}
	if (v->version != X509_VERSION_3) {
		rc = lfail(err, "version-3", "the certificate is version %ld; "
		    "it must be version 3 (RFC 5280 4.1.2.1)",
		    v->version + 1);
		goto out;
	}
	if ((rc = check_serial(v->serial, "serial-positive",
	    "serial-entropy", SERIAL_MIN_BITS, "the certificate's", err)) !=
	    KR_OK)
		goto out;
	if ((rc = iki != NULL ? check_sigalg_ki(v->tbs_alg, v->outer_alg,
	    iki, "certificate", err) : check_sigalg(v->tbs_alg, v->outer_alg,
	    X509_get0_pubkey(iss), "certificate", err)) != KR_OK)
		goto out;
	if (X509_NAME_cmp(v->issuer, X509_get_subject_name(iss)) != 0) {
		rc = lfail(err, "issuer-name", "the certificate's issuer name "
		    "differs from the issuer's subject%s",
		    issuer == NULL ? " (a root is self-issued)" : "");
		goto out;
	}
	if (issuer != NULL && (rc = check_issuer_ca(issuer, KU_KEY_CERT_SIGN,
	    p->kind != POL_KIND_LEAF, err)) != KR_OK)
		goto out;
	if ((rc = check_validity(p, v->nb, v->na, issuer, now, err)) != KR_OK)
		goto out;
	if ((rc = key_info(v->key, "the subject key", &ki, err)) != KR_OK)
		goto out;
	if ((ki.pol & p->key_types) == 0) {
		kt[0] = '\0';
		for (i = 0; i < 5; i++)
			if ((p->key_types & (1u << i)) != 0)
				snprintf(kt + strlen(kt), sizeof(kt) -
				    strlen(kt), "%s%s", kt[0] ? ", " : "",
				    pol_key_type_name(1u << i));
		rc = lfail(err, "key-type", "the subject key is %s; profile "
		    "'%s' allows %s", ki.desc, p->name, kt);
		goto out;
	}
	if ((rc = check_exts(v->exts, "certificate", err)) != KR_OK)
		goto out;
	if ((rc = check_bc(p, v->exts, issuer, err)) != KR_OK)
		goto out;
	if ((rc = check_ku(p, v->exts, err)) != KR_OK)
		goto out;
	if ((rc = check_eku(p, v->exts, err)) != KR_OK)
		goto out;
	ski = X509V3_get_d2i(v->exts, NID_subject_key_identifier, &crit,
	    NULL);
	if ((ski == NULL && (crit >= 0 || p->kind != POL_KIND_LEAF)) ||
	    (ski != NULL && ASN1_STRING_length(ski) == 0)) {
		rc = lfail(err, "ski", "subjectKeyIdentifier is %s; a CA "
		    "certificate must carry one (RFC 5280 4.2.1.2)",
		    ski != NULL || crit >= 0 ? "malformed" : "missing");
		goto out;
	}
	if ((rc = check_aki(v->exts, iss, issuer == NULL, "certificate",
	    err)) != KR_OK)
		goto out;
	if ((rc = check_names(p, v->exts, v->subject, issuer, err)) != KR_OK)
		goto out;
	if ((rc = check_cdp_aia(p, v->exts, err)) != KR_OK)
		goto out;
	rc = KR_OK;
out:
	ASN1_OCTET_STRING_free(ski);
	return rc;
}

static enum kr_err lint_cert(const struct pol_profile *, X509 *, X509 *,
    time_t, int, struct kr_error *);

enum kr_err
pol_lint_cert(const struct pol_profile *p, X509 *cert, X509 *issuer,
    time_t now, struct kr_error *err)
{
	return lint_cert(p, cert, issuer, now, 1, err);
}

enum kr_err
pol_lint_cert_parsed(const struct pol_profile *p, X509 *cert, X509 *issuer,
    time_t now, struct kr_error *err)
{
	return lint_cert(p, cert, issuer, now, 0, err);
}

static enum kr_err
lint_cert(const struct pol_profile *p, X509 *cert, X509 *issuer, time_t now,
    int reparse, struct kr_error *err)
{
	struct cert_view v;
	X509 *x = NULL, *iss;
	enum kr_err rc;

	if (p == NULL || cert == NULL) {
		rc = kr_fail(err, KR_E_INTERNAL, "pol_lint_cert: no %s",
		    p == NULL ? "profile" : "certificate");
		goto out;
	}
	if (!reparse) {
		/* Parsed from its DER already: lint it as it is. */
		if (X509_up_ref(cert) != 1) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		x = cert;
	} else if ((x = reparse_cert(cert)) == NULL) {
		rc = lfail(err, "encoding", "the certificate does not survive "
		    "a DER round trip");
		goto out;
	}
	iss = issuer != NULL ? issuer : x;
	memset(&v, 0, sizeof(v));
	v.version = X509_get_version(x);
	v.serial = X509_get0_serialNumber(x);
	v.tbs_alg = X509_get0_tbs_sigalg(x);
	X509_get0_signature(NULL, &v.outer_alg, x);
	v.issuer = X509_get_issuer_name(x);
	v.subject = X509_get_subject_name(x);
	v.nb = X509_get0_notBefore(x);
	v.na = X509_get0_notAfter(x);
	v.key = X509_get0_pubkey(x);
	v.exts = X509_get0_extensions(x);
	rc = lint_view(p, &v, issuer, iss, NULL, now, err);
out:
	X509_free(x);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Linting a TBS as DER                                                */
/* ------------------------------------------------------------------ */

/* AlgorithmIdentifiers of EC public keys on the curves keyrite takes. */
static const uint8_t alg_p256[] = {
	0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};
static const uint8_t alg_p384[] = {
	0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22
};

/*
 * Parameters-only keys of the two curves, made once: a key imported
 * into a copy of their parameters costs a third of an import by name,
 * which builds the curve's group again each time.
 */
static EVP_PKEY *curve_params[2];
static pthread_once_t curve_once = PTHREAD_ONCE_INIT;

static void
curve_params_make(void)
{
	static const char *const names[2] = { "P-256", "P-384" };
	EVP_PKEY_CTX *pc;
	int i;

	for (i = 0; i < 2; i++) {
		if ((pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) !=
		    NULL && EVP_PKEY_paramgen_init(pc) == 1 &&
		    EVP_PKEY_CTX_set_group_name(pc, names[i]) == 1 &&
		    EVP_PKEY_paramgen(pc, &curve_params[i]) != 1)
			curve_params[i] = NULL;
		EVP_PKEY_CTX_free(pc);
	}
	ERR_clear_error();
}

EVP_PKEY *
pol_pubkey_from_spki(const uint8_t *der, size_t len)
{
	struct kr_der d = kr_der_of(der, len), in;
	struct kr_der_el spki, alg, bits;
	EVP_PKEY *pk = NULL, *params = NULL;
	const unsigned char *p;

	if (kr_der_get(&d, 0x30, &spki) != 0 || d.n != 0)
		return NULL;
	in = kr_der_in(&spki);
	if (kr_der_get(&in, 0x30, &alg) != 0 ||
	    kr_der_get(&in, 0x03, &bits) != 0 || in.n != 0)
		return NULL;
	pthread_once(&curve_once, curve_params_make);
	if (alg.total == sizeof(alg_p256) &&
	    memcmp(alg.start, alg_p256, sizeof(alg_p256)) == 0)
		params = curve_params[0];
	else if (alg.total == sizeof(alg_p384) &&
	    memcmp(alg.start, alg_p384, sizeof(alg_p384)) == 0)
		params = curve_params[1];
	if (params == NULL || bits.len < 2 || bits.val[0] != 0) {
		/* Any other key: OpenSSL's decoders (much dearer). */
		p = der;
		if (len > LONG_MAX ||
		    (pk = d2i_PUBKEY(NULL, &p, (long)len)) == NULL ||
		    p != der + len) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
		ERR_clear_error();
		return pk;
	}
	/*
	 * A named-curve EC key: its point set on a copy of the curve's
	 * parameters, which checks it lies on the curve, as the decoder
	 * would.
	 */
	if ((pk = EVP_PKEY_new()) == NULL ||
	    EVP_PKEY_copy_parameters(pk, params) != 1 ||
	    EVP_PKEY_set1_encoded_public_key(pk, bits.val + 1,
	    bits.len - 1) != 1) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	ERR_clear_error();
	return pk;
}

struct pol_issuer {
	X509		*cert;
	struct keyinfo	 ki;
};

enum kr_err
pol_issuer_new(X509 *issuer, struct pol_issuer **out, struct kr_error *err)
{
	struct pol_issuer *pi;
	enum kr_err rc;

	*out = NULL;
	if ((pi = calloc(1, sizeof(*pi))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	if ((rc = key_info(X509_get0_pubkey(issuer), "the issuer key",
	    &pi->ki, err)) != KR_OK) {
		free(pi);
		return rc;
	}
	X509_up_ref(issuer);
	pi->cert = issuer;
	*out = pi;
	return KR_OK;
}

void
pol_issuer_free(struct pol_issuer *pi)
{
	if (pi == NULL)
		return;
	X509_free(pi->cert);
	free(pi);
}

/* d2i of exactly the element el into *out; -1 when it does not parse. */
#define D2I_EL(fn, out, el) do {					\
	const unsigned char *q_ = (el)->start;				\
	(out) = fn(NULL, &q_, (long)(el)->total);			\
	if ((out) == NULL || q_ != (el)->start + (el)->total)		\
		goto bad;						\
} while (0)

/*
 * Lint a TBSCertificate given as DER.  It is walked strictly (one-byte
 * tags, definite minimal lengths, every byte used) and each field is
 * decoded alone, so the public key is decoded once, from its own bytes,
 * and no certificate object is built.  The rules are lint_view's; the
 * signature algorithm outside is the one inside, since the certificate
 * is assembled from these bytes and that field.
 */
enum kr_err
pol_lint_tbs(const struct pol_profile *p, const struct pol_issuer *pi,
    const uint8_t *tbs, size_t len, time_t now, struct kr_error *err)
{
	return pol_lint_tbs_key(p, pi, tbs, len, NULL, NULL, 0, now, err);
}

enum kr_err
pol_lint_tbs_key(const struct pol_profile *p, const struct pol_issuer *pi,
    const uint8_t *tbs, size_t len, EVP_PKEY *known, const uint8_t *spki,
    size_t spki_len, time_t now, struct kr_error *err)
{
	struct kr_der d = kr_der_of(tbs, len), in, vin;
	struct kr_der_el seq, el;
	struct cert_view v;
	ASN1_INTEGER *ver = NULL, *serial = NULL;
	X509_ALGOR *alg = NULL;
	X509_NAME *iname = NULL, *sname = NULL;
	ASN1_TIME *nb = NULL, *na = NULL;
	EVP_PKEY *key = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	const char *what = "its structure";
	enum kr_err rc;

	if (p == NULL || pi == NULL || tbs == NULL || len > LONG_MAX)
		return kr_fail(err, KR_E_INTERNAL, "pol_lint_tbs: nothing to "
		    "lint");
	memset(&v, 0, sizeof(v));
	if (kr_der_get(&d, 0x30, &seq) != 0 || d.n != 0)
		goto bad;
	in = kr_der_in(&seq);
	v.version = X509_VERSION_1;
	if (kr_der_peek(&in) == 0xa0) {
		what = "the version";
		if (kr_der_get(&in, 0xa0, &el) != 0)
			goto bad;
		vin = kr_der_in(&el);
		if (kr_der_get(&vin, 0x02, &el) != 0 || vin.n != 0)
			goto bad;
		D2I_EL(d2i_ASN1_INTEGER, ver, &el);
		v.version = ASN1_INTEGER_get(ver);
	}
	what = "the serial number";
	if (kr_der_get(&in, 0x02, &el) != 0)
		goto bad;
	D2I_EL(d2i_ASN1_INTEGER, serial, &el);
	what = "the signature algorithm";
	if (kr_der_get(&in, 0x30, &el) != 0)
		goto bad;
	D2I_EL(d2i_X509_ALGOR, alg, &el);
	what = "the issuer";
	if (kr_der_get(&in, 0x30, &el) != 0)
		goto bad;
	D2I_EL(d2i_X509_NAME, iname, &el);
	what = "the validity";
	if (kr_der_get(&in, 0x30, &el) != 0)
		goto bad;
	vin = kr_der_in(&el);
	if (kr_der_get(&vin, 0, &el) != 0)
		goto bad;
	D2I_EL(d2i_ASN1_TIME, nb, &el);
	if (kr_der_get(&vin, 0, &el) != 0 || vin.n != 0)
		goto bad;
	D2I_EL(d2i_ASN1_TIME, na, &el);
	what = "the subject";
	if (kr_der_get(&in, 0x30, &el) != 0)
		goto bad;
	D2I_EL(d2i_X509_NAME, sname, &el);
	what = "the subject public key";
	if (kr_der_get(&in, 0x30, &el) != 0)
		goto bad;
	/* A key that does not decode is the weak-key rule's to refuse. */
	if (known != NULL && spki != NULL && el.total == spki_len &&
	    memcmp(el.start, spki, spki_len) == 0 &&
	    EVP_PKEY_up_ref(known) == 1)
		key = known;
	else
		key = pol_pubkey_from_spki(el.start, el.total);
	if (kr_der_peek(&in) == 0x81 || kr_der_peek(&in) == 0x82 ||
	    kr_der_peek(&in) == 0xa1 || kr_der_peek(&in) == 0xa2) {
		/* RFC 5280 4.1.2.8: conforming CAs do not make them. */
		rc = kr_fail(err, KR_E_POLICY, "lint: unique-ids: the "
		    "certificate has unique identifiers");
		goto out;
	}
	if (kr_der_peek(&in) == 0xa3) {
		what = "the extensions";
		if (kr_der_get(&in, 0xa3, &el) != 0)
			goto bad;
		vin = kr_der_in(&el);
		if (kr_der_get(&vin, 0x30, &el) != 0 || vin.n != 0)
			goto bad;
		D2I_EL(d2i_X509_EXTENSIONS, exts, &el);
	}
	what = "what follows the extensions";
	if (in.n != 0)
		goto bad;
	v.serial = serial;
	v.tbs_alg = v.outer_alg = alg;
	v.issuer = iname;
	v.subject = sname;
	v.nb = nb;
	v.na = na;
	v.key = key;
	v.exts = exts;
	rc = lint_view(p, &v, pi->cert, pi->cert, &pi->ki, now, err);
	goto out;
bad:
	rc = lfail(err, "encoding", "the TBS is not DER: %s", what);
out:
	ASN1_INTEGER_free(ver);
	ASN1_INTEGER_free(serial);
	X509_ALGOR_free(alg);
	X509_NAME_free(iname);
	X509_NAME_free(sname);
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	EVP_PKEY_free(key);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
	return rc;
}

static int
serial_cmp(const void *a, const void *b)
{
	const X509_REVOKED *const *ra = a, *const *rb = b;

	return ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(*ra),
	    X509_REVOKED_get0_serialNumber(*rb));
}

/* Revoked entries: serials, dates, reason codes. */
static enum kr_err
check_revoked(X509_CRL *crl, time_t thisupd, struct kr_error *err)
{
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
	const X509_REVOKED **v = NULL;
	const X509_REVOKED *r;
	ASN1_ENUMERATED *reason;
	char s[64], what[96];
	time_t when = 0;
	long code;
	int i, j, n, crit;
	enum kr_err rc;

	n = sk_X509_REVOKED_num(rev);
	if (n > 0 && (v = calloc((size_t)n, sizeof(*v))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		r = v[i] = sk_X509_REVOKED_value(rev, i);
		snprintf(what, sizeof(what), "revoked entry %d's", i + 1);
		if ((rc = check_serial(X509_REVOKED_get0_serialNumber(r),
		    "crl-serial", "crl-serial", 0, what, err)) != KR_OK)
			goto out;
		if ((rc = check_time_encoding(
		    X509_REVOKED_get0_revocationDate(r), "revocationDate",
		    err)) != KR_OK)
			goto out;
		get_time(X509_REVOKED_get0_revocationDate(r), &when);
		if ((long long)when > (long long)thisupd + POL_LINT_SKEW) {
			fmt_time(when, s, sizeof(s));
			rc = lfail(err, "crl-revocation-date", "revoked entry "
			    "%d has revocationDate %s, after thisUpdate", i + 1,
			    s);
			goto out;
		}
		for (j = 0; j < X509v3_get_ext_count(
		    X509_REVOKED_get0_extensions(r)); j++) {
			int nid = OBJ_obj2nid(X509_EXTENSION_get_object(
			    X509v3_get_ext(X509_REVOKED_get0_extensions(r),
			    j)));

			if (nid != NID_crl_reason && nid != NID_invalidity_date) {
				rc = lfail(err, "crl-reason", "revoked entry %d "
				    "carries an entry extension other than "
				    "reasonCode or invalidityDate", i + 1);
				goto out;
			}
		}
		reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit,
		    NULL);
		if (reason == NULL && crit != -1) {
			rc = lfail(err, "crl-reason", "revoked entry %d: "
			    "reasonCode is malformed or repeated", i + 1);
			goto out;
		}
		if (reason == NULL)
			continue;
		code = ASN1_ENUMERATED_get(reason);
		ASN1_ENUMERATED_free(reason);
		if (crit == 1 || code < 1 || code > 10 || code == 7 ||
		    code == 8) {
			rc = lfail(err, "crl-reason", "revoked entry %d: "
			    "reasonCode %ld%s is not allowed (RFC 5280 5.3.1: "
			    "0 unspecified is written by leaving the code out, "
			    "7 is unused, 8 belongs in delta CRLs; the "
			    "extension is non-critical)", i + 1, code,
			    crit == 1 ? " (critical)" : "");
			goto out;
		}
	}
	if (n > 1) {
		qsort(v, (size_t)n, sizeof(*v), serial_cmp);
		for (i = 1; i < n; i++)
			if (serial_cmp(&v[i - 1], &v[i]) == 0) {
				rc = lfail(err, "crl-serial", "a serial number "
				    "is listed twice");
				goto out;
			}
	}
	rc = KR_OK;
out:
	free(v);
	return rc;
}

/* Lint a CRL issued by issuer (see lint.h). */
enum kr_err
pol_lint_crl(X509_CRL *crl, X509 *issuer, time_t now, struct kr_error *err)
{
	const STACK_OF(X509_EXTENSION) *exts;
	X509_CRL *x = NULL;
	X509_ALGOR *tbsalg = NULL;
	const X509_ALGOR *outer = NULL;
	ASN1_INTEGER *num = NULL;
	time_t tu = 0, nu = 0, ina, inb;
	char a[64], b[64];
	int crit;
	enum kr_err rc;

	if (crl == NULL || issuer == NULL) {
		rc = kr_fail(err, KR_E_INTERNAL, "pol_lint_crl: no %s",
		    crl == NULL ? "CRL" : "issuer");
		goto out;
	}
	if ((x = reparse_crl(crl, &tbsalg)) == NULL) {
		rc = lfail(err, "encoding", "the CRL does not survive a DER "
		    "round trip");
		goto out;
	}
	if (X509_CRL_get_version(x) != X509_CRL_VERSION_2) {
		rc = lfail(err, "crl-version", "the CRL is version %ld; it must "
		    "be version 2 (RFC 5280 5.1.2.1)",
		    X509_CRL_get_version(x) + 1);
		goto out;
	}
	X509_CRL_get0_signature(x, NULL, &outer);
	if ((rc = check_sigalg(tbsalg, outer, X509_get0_pubkey(issuer),
	    "CRL", err)) != KR_OK)
		goto out;
	if (X509_NAME_cmp(X509_CRL_get_issuer(x),
	    X509_get_subject_name(issuer)) != 0) {
		rc = lfail(err, "crl-issuer-name", "the CRL's issuer name "
		    "differs from the issuer's subject");
		goto out;
	}
	if ((rc = check_issuer_ca(issuer, KU_CRL_SIGN, 0, err)) != KR_OK)
		goto out;
	if ((rc = check_time_encoding(X509_CRL_get0_lastUpdate(x),
	    "thisUpdate", err)) != KR_OK)
		goto out;
	if (X509_CRL_get0_nextUpdate(x) == NULL) {
		rc = lfail(err, "crl-next-update", "the CRL has no nextUpdate "
		    "(RFC 5280 5.1.2.5: conforming CAs include it)");
		goto out;
	}
	if ((rc = check_time_encoding(X509_CRL_get0_nextUpdate(x),
	    "nextUpdate", err)) != KR_OK)
		goto out;
	get_time(X509_CRL_get0_lastUpdate(x), &tu);
	get_time(X509_CRL_get0_nextUpdate(x), &nu);
	if (get_time(X509_get0_notBefore(issuer), &inb) == -1 ||
	    get_time(X509_get0_notAfter(issuer), &ina) == -1) {
		rc = lfail(err, "crl-next-update", "the issuer's validity "
		    "cannot be read");
		goto out;
	}
	fmt_time(tu, a, sizeof(a));
	fmt_time(nu, b, sizeof(b));
	if ((long long)tu > (long long)now + POL_LINT_SKEW) {
		rc = lfail(err, "crl-this-update", "thisUpdate %s is in the "
		    "future", a);
		goto out;
	}
	if (tu < inb) {
		rc = lfail(err, "crl-this-update", "thisUpdate %s is before "
		    "the issuer's notBefore", a);
		goto out;
	}
	if (nu <= tu || nu <= now) {
		rc = lfail(err, "crl-next-update", "nextUpdate %s is not after "
		    "%s %s", b, nu <= tu ? "thisUpdate" : "now",
		    nu <= tu ? a : "");
		goto out;
	}
	if (nu > ina) {
		fmt_time(ina, a, sizeof(a));
		rc = lfail(err, "crl-next-update", "nextUpdate %s is after the "
		    "issuer's notAfter %s", b, a);
		goto out;
	}
	exts = X509_CRL_get0_extensions(x);
	if ((rc = check_exts(exts, "CRL", err)) != KR_OK)
		goto out;
	num = X509V3_get_d2i(exts, NID_crl_number, &crit, NULL);
	if (num == NULL) {
		rc = lfail(err, "crl-number", "cRLNumber is %s (RFC 5280 "
		    "5.2.3)", crit >= 0 ? "malformed" : "missing");
		goto out;
	}
	if (ASN1_STRING_type(num) == V_ASN1_NEG_INTEGER ||
	    ASN1_STRING_length(num) > SERIAL_MAX_OCTETS ||
	    (ASN1_STRING_length(num) == SERIAL_MAX_OCTETS &&
	    (ASN1_STRING_get0_data(num)[0] & 0x80) != 0)) {
		rc = lfail(err, "crl-number", "cRLNumber must be a "
		    "non-negative integer of at most 20 octets (RFC 5280 "
		    "5.2.3)");
		goto out;
	}
	if ((rc = check_aki(exts, issuer, 0, "CRL", err)) != KR_OK)
		goto out;
	if ((rc = check_revoked(x, tu, err)) != KR_OK)
		goto out;
	rc = KR_OK;
out:
	ASN1_INTEGER_free(num);
	X509_ALGOR_free(tbsalg);
	X509_CRL_free(x);
	return rc;
}

/*
 * Check one DNS name or IP address against ca's name constraints (see
 * lint.h).  A malformed name is refused as san-syntax.
 */
enum kr_err
pol_name_permitted(X509 *ca, const GENERAL_NAME *name, struct kr_error *err)
{
	NAME_CONSTRAINTS *nc = NULL;
	char why[1024], iname[256];
	int crit;
	enum kr_err rc;

	if (ca == NULL || name == NULL) {
		rc = kr_fail(err, KR_E_INTERNAL, "pol_name_permitted: no %s",
		    ca == NULL ? "CA" : "name");
		goto out;
	}
	if (!san_entry_ok(name, 1, why, sizeof(why))) {
		rc = lfail(err, "san-syntax", "%s", why);
		goto out;
	}
	nc = X509V3_get_d2i(X509_get0_extensions(ca), NID_name_constraints,
	    &crit, NULL);
	if (nc == NULL && crit >= 0) {
		rc = lfail(err, "name-constraints", "the CA's nameConstraints "
		    "do not decode");
		goto out;
	}
	if (nc != NULL && name_check(nc, name, why, sizeof(why))) {
		X509_NAME_oneline(X509_get_subject_name(ca), iname,
		    sizeof(iname));
		rc = lfail(err, "san-constraints", "%s of issuer %s", why,
		    iname);
		goto out;
	}
	rc = KR_OK;
out:
	NAME_CONSTRAINTS_free(nc);
	return rc;
}
