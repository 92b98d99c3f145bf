/*
 * ca.c: X.509 work for keyrite.  Builds the to-be-signed (TBS) form of
 * roots, intermediates, leaves and CRLs from profiles, and signs them
 * the careful way: a throwaway key of the same type signs first, the
 * linter passes that, then the real signer signs the very same TBS
 * bytes, the certificate is assembled here, re-parsed, compared byte
 * for byte, verified under the signer's public key and linted again.
 * Knows nothing of PKCS#11; a token key arrives as a struct ca_signer.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../common/der.h"
#include "../common/file.h"
#include "../policy/lint.h"
#include "ca.h"

/* Certificates, CSRs and CRLs larger than this are not what we think. */
#define CA_MAX_INPUT	(4 * 1024 * 1024)

enum ca_obj {
	CA_OBJ_CERT,
	CA_OBJ_CSR,
	CA_OBJ_CRL,
};

/* ------------------------------------------------------------------ */
/* Signers and keys                                                    */
/* ------------------------------------------------------------------ */

/*
 * Sign msg with ctx, which EVP_DigestSignInit (or a copy of a context it
 * set up) prepared; *sig is malloc'd.
 */
static enum kr_err
soft_sign_ctx(EVP_MD_CTX *ctx, const unsigned char *msg, size_t len,
    unsigned char **sig, size_t *siglen, struct kr_error *err)
{
	unsigned char *buf = NULL;
	size_t n = 0;

	if (EVP_DigestSign(ctx, NULL, &n, msg, len) != 1)
		return kr_fail_ossl(err, KR_E_CRYPTO,
		    "software signature failed");
	if ((buf = malloc(n)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	if (EVP_DigestSign(ctx, buf, &n, msg, len) != 1) {
		free(buf);
		return kr_fail_ossl(err, KR_E_CRYPTO,
		    "software signature failed");
	}
	*sig = buf;
	*siglen = n;
	return KR_OK;
}

/*
 * Sign msg with pkey and md through a context that tmpl (when not NULL:
 * EVP_DigestSignInit'd for pkey and md already) is copied into, or
 * that is set up here.
 */
static enum kr_err
soft_sign_with(EVP_PKEY *pkey, const EVP_MD *md, const EVP_MD_CTX *tmpl,
    const unsigned char *msg, size_t len, unsigned char **sig,
    size_t *siglen, struct kr_error *err)
{
	EVP_MD_CTX *ctx = NULL;
	enum kr_err rc;

	*sig = NULL;
	*siglen = 0;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	if ((tmpl != NULL ? EVP_MD_CTX_copy_ex(ctx, tmpl) :
	    EVP_DigestSignInit(ctx, NULL, md, NULL, pkey)) != 1)
		rc = kr_fail_ossl(err, KR_E_CRYPTO,
		    "software signature failed");
	else
		rc = soft_sign_ctx(ctx, msg, len, sig, siglen, err);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* struct ca_signer.sign over a software EVP_PKEY passed as arg. */
static enum kr_err
soft_sign(void *arg, const EVP_MD *md, const unsigned char *msg, size_t len,
    unsigned char **sig, size_t *siglen, struct kr_error *err)
{
	return soft_sign_with(arg, md, NULL, msg, len, sig, siglen, err);
}

/*
 * Make s a signer over pkey.  pkey is borrowed: it must outlive s, and
 * serves as both the public half and the signing key.
 */
void
ca_signer_soft(struct ca_signer *s, EVP_PKEY *pkey)
{
	s->pub = pkey;
	s->sign = soft_sign;
	s->arg = pkey;
}

struct ca_soft_prep {
	EVP_PKEY	*pkey;
	const EVP_MD	*md;		/* ca_md_for_key(pkey) */
	EVP_MD_CTX	*tmpl;		/* EVP_DigestSignInit(md, pkey) */
};

/* struct ca_signer.sign over a struct ca_soft_prep passed as arg. */
static enum kr_err
prep_sign(void *arg, const EVP_MD *md, const unsigned char *msg, size_t len,
    unsigned char **sig, size_t *siglen, struct kr_error *err)
{
	struct ca_soft_prep *p = arg;

	return soft_sign_with(p->pkey, md, md == p->md ? p->tmpl : NULL, msg,
	    len, sig, siglen, err);
}

enum kr_err
ca_signer_soft_prep(struct ca_signer *s, EVP_PKEY *pkey,
    struct ca_soft_prep **out, struct kr_error *err)
{
	struct ca_soft_prep *p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	p->pkey = pkey;
	p->md = ca_md_for_key(pkey);
	if ((p->tmpl = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(p->tmpl, NULL, p->md, NULL, pkey) != 1) {
		ca_soft_prep_free(p);
		return kr_fail_ossl(err, KR_E_CRYPTO, "cannot set up "
		    "signing with the key");
	}
	s->pub = pkey;
	s->sign = prep_sign;
	s->arg = p;
	*out = p;
	return KR_OK;
}

void
ca_soft_prep_free(struct ca_soft_prep *p)
{
	if (p == NULL)
		return;
	EVP_MD_CTX_free(p->tmpl);
	free(p);
}

/*
 * Describe key k as keyrite names key types ("ec-p384", "rsa-3072")
 * and return its POL_KEY_* bit, 0 when it is not a type keyrite issues
 * for; desc gets a human description either way.
 */
static unsigned
key_type(EVP_PKEY *k, char *desc, size_t sz)
{
	char group[64];
	size_t n = 0;
	int bits;

	if (EVP_PKEY_is_a(k, "EC")) {
		if (EVP_PKEY_get_group_name(k, group, sizeof(group), &n) != 1)
			snprintf(group, sizeof(group), "unknown");
		if (strcmp(group, SN_X9_62_prime256v1) == 0) {
			snprintf(desc, sz, "ec-p256");
			return POL_KEY_EC_P256;
		}
		if (strcmp(group, SN_secp384r1) == 0) {
			snprintf(desc, sz, "ec-p384");
			return POL_KEY_EC_P384;
		}
		snprintf(desc, sz, "EC on curve %s", group);
		return 0;
	}
	if (EVP_PKEY_is_a(k, "RSA")) {
		bits = EVP_PKEY_get_bits(k);
		snprintf(desc, sz, "rsa-%d", bits);
		switch (bits) {
		case 2048:
			return POL_KEY_RSA_2048;
		case 3072:
			return POL_KEY_RSA_3072;
		case 4096:
			return POL_KEY_RSA_4096;
		default:
			return 0;
		}
	}
	snprintf(desc, sz, "%s", EVP_PKEY_get0_type_name(k) != NULL ?
	    EVP_PKEY_get0_type_name(k) : "unknown");
	return 0;
}

/*
 * Refuse a subject key the linter would refuse, before anything is
 * built, with the linter's message shape.  what names the key's origin.
 */
static enum kr_err
key_check(EVP_PKEY *k, const struct pol_profile *p, const char *what,
    struct kr_error *err)
{
	char desc[96];
	unsigned bit;

	if (k == NULL)
		return kr_fail(err, KR_E_PARSE, "%s has no usable public key",
		    what);
	bit = key_type(k, desc, sizeof(desc));
	if (EVP_PKEY_is_a(k, "RSA") && EVP_PKEY_get_bits(k) < 2048)
		return kr_fail(err, KR_E_POLICY, "lint: weak-key: %s is %s; "
		    "RSA keys need at least 2048 bits", what, desc);
	if (bit == 0 && EVP_PKEY_is_a(k, "EC"))
		return kr_fail(err, KR_E_POLICY, "lint: weak-key: %s is %s; "
		    "only P-256 and P-384 are allowed", what, desc);
	if (bit == 0)
		return kr_fail(err, KR_E_POLICY, "lint: key-type: %s is %s; "
		    "keyrite issues for ec-p256, ec-p384, rsa-2048, rsa-3072 "
		    "and rsa-4096 keys", what, desc);
	if (p->key_types != 0 && (p->key_types & bit) == 0)
		return kr_fail(err, KR_E_POLICY, "lint: key-type: %s is %s, "
		    "which profile %s does not allow", what, desc, p->name);
	return KR_OK;
}

/*
 * Throwaway keys, one per type and size, made on first use and kept for
 * the life of the process: they sign only what is thrown away, so a
 * fresh one per certificate would buy nothing and cost a key generation
 * (for RSA, a large one) on every issuance of the online signer.
 */
#define NTHROWAWAY 8
static struct {
	pthread_mutex_t	 mu;
	char		 kind[NTHROWAWAY][72];
	EVP_PKEY	*key[NTHROWAWAY];
} throwaway = { .mu = PTHREAD_MUTEX_INITIALIZER };

static enum kr_err throwaway_make(EVP_PKEY *, EVP_PKEY **,
    struct kr_error *);

/* A software key of the same type and size as pub (caller frees). */
static enum kr_err
throwaway_key(EVP_PKEY *pub, EVP_PKEY **out, struct kr_error *err)
{
	char kind[72], group[64];
	size_t n = 0, i;
	enum kr_err rc;

	*out = NULL;
	if (EVP_PKEY_is_a(pub, "EC") &&
	    EVP_PKEY_get_group_name(pub, group, sizeof(group), &n) == 1)
		snprintf(kind, sizeof(kind), "EC:%s", group);
	else
		snprintf(kind, sizeof(kind), "%s:%d",
		    EVP_PKEY_get0_type_name(pub) ?
		    EVP_PKEY_get0_type_name(pub) : "?", EVP_PKEY_get_bits(pub));
	ERR_clear_error();
	pthread_mutex_lock(&throwaway.mu);
	for (i = 0; i < NTHROWAWAY && throwaway.key[i] != NULL; i++)
		if (strcmp(throwaway.kind[i], kind) == 0) {
			EVP_PKEY_up_ref(throwaway.key[i]);
			*out = throwaway.key[i];
			pthread_mutex_unlock(&throwaway.mu);
			return KR_OK;
		}
	if ((rc = throwaway_make(pub, out, err)) == KR_OK && i < NTHROWAWAY &&
	    EVP_PKEY_up_ref(*out) == 1) {
		snprintf(throwaway.kind[i], sizeof(throwaway.kind[i]), "%s",
		    kind);
		throwaway.key[i] = *out;
	}
	pthread_mutex_unlock(&throwaway.mu);
	return rc;
}

/* A fresh software key of the same type and size as pub. */
static enum kr_err
throwaway_make(EVP_PKEY *pub, EVP_PKEY **out, struct kr_error *err)
{
	char group[64];
	size_t n = 0;
	int bits;

	*out = NULL;
	if (EVP_PKEY_is_a(pub, "EC")) {
		if (EVP_PKEY_get_group_name(pub, group, sizeof(group), &n) != 1)
			return kr_fail_ossl(err, KR_E_CRYPTO,
			    "cannot read the signing key's curve");
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
	} else if (EVP_PKEY_is_a(pub, "RSA")) {
		bits = EVP_PKEY_get_bits(pub);
		if (bits < 2048)
			return kr_fail(err, KR_E_POLICY, "lint: weak-key: the "
			    "signing key is rsa-%d", bits);
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else
		return kr_fail(err, KR_E_POLICY, "keyrite signs with EC and "
		    "RSA keys only, not %s", EVP_PKEY_get0_type_name(pub) ?
		    EVP_PKEY_get0_type_name(pub) : "this key type");
	if (*out == NULL)
		return kr_fail_ossl(err, KR_E_CRYPTO,
		    "cannot make a throwaway key");
	return KR_OK;
}

/*
 * A new serial: 16 bytes from OpenSSL's CSPRNG with the top bit of the
 * first byte cleared so the INTEGER is positive.  A zero first byte is
 * redrawn, so the serial is never zero and always encodes in exactly
 * 16 octets (about 127 bits of entropy).
 */
enum kr_err
ca_serial_new(ASN1_INTEGER **out, struct kr_error *err)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	enum kr_err rc;

	*out = NULL;
	if (RAND_bytes(b, sizeof(b)) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "random serial failed");
		goto out;
	}
	b[0] &= 0x7f;
	while (b[0] == 0) {
		if (RAND_bytes(b, 1) != 1) {
			rc = kr_fail_ossl(err, KR_E_CRYPTO,
			    "random serial failed");
			goto out;
		}
		b[0] &= 0x7f;
	}
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    (*out = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
		rc = kr_fail_ossl(err, KR_E_NOMEM, "random serial failed");
		goto out;
	}
	rc = KR_OK;
out:
	BN_free(bn);
	OPENSSL_cleanse(b, sizeof(b));
	return rc;
}

/*
 * Lower-case hex of a serial, "-" first when negative, malloc'd (caller
 * frees); NULL when out of memory.  This is the name of the serial in
 * file names and reports.
 */
char *
ca_serial_hex(const ASN1_INTEGER *serial)
{
	BIGNUM *bn;
	char *h, *r = NULL;
	size_t i;

	if (serial == NULL || (bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL)
		return NULL;
	if ((h = BN_bn2hex(bn)) != NULL) {
		for (i = 0; h[i] != '\0'; i++)
			h[i] = (char)tolower((unsigned char)h[i]);
		r = strdup(h);
		OPENSSL_free(h);
	}
	BN_free(bn);
	return r;
}

/* YYYY-MM-DDTHH:MM:SSZ */
static void
fmt_time(time_t t, char buf[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "%lld", (long long)t);
}

/* "90 days", "36 hours" or "100 seconds", whichever is exact. */
static void
fmt_duration(long long s, char buf[48])
{
	if (s % 86400 == 0)
		snprintf(buf, 48, "%lld days", s / 86400);
	else if (s % 3600 == 0)
		snprintf(buf, 48, "%lld hours", s / 3600);
	else
		snprintf(buf, 48, "%lld seconds", s);
}

/* ------------------------------------------------------------------ */
/* Subjects                                                            */
/* ------------------------------------------------------------------ */

static const struct {
	const char	*name;
	int		 nid;
} subject_attrs[] = {
	{ "CN", NID_commonName },
	{ "O", NID_organizationName },
	{ "OU", NID_organizationalUnitName },
	{ "C", NID_countryName },
	{ "L", NID_localityName },
	{ "ST", NID_stateOrProvinceName },
	{ "DC", NID_domainComponent },
	{ "emailAddress", NID_pkcs9_emailAddress },
	{ "serialNumber", NID_serialNumber },
};

/*
 * Attributes are matched case-insensitively; values are UTF-8 and may
 * escape ',', '=' and '\' with a backslash.  An unescaped '=' in a value
 * is refused so that "CN=a O=b" (a forgotten comma) is caught.  Spaces
 * around attribute names and values are dropped.  The first
 * attribute written becomes the first RDN of the name, so the DER
 * order is the written order and ca_inspect prints it back the same.
 */
enum kr_err
ca_parse_subject(const char *s, X509_NAME **out, struct kr_error *err)
{
	X509_NAME *name = NULL;
	const char *p, *attr;
	char *val = NULL;
	size_t alen, vlen, keep, i;
	int nid;
	enum kr_err rc;

	*out = NULL;
	if (s == NULL || *s == '\0') {
		rc = kr_fail(err, KR_E_USAGE, "the subject is empty; give one "
		    "such as \"CN=Example Lab Root,O=Example\"");
		goto out;
	}
	if ((val = malloc(strlen(s) + 1)) == NULL ||
	    (name = X509_NAME_new()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	p = s;
	for (;;) {
		while (*p == ' ')
			p++;
		attr = p;
		while (*p != '\0' && *p != '=' && *p != ',')
			p++;
		alen = (size_t)(p - attr);
		while (alen > 0 && attr[alen - 1] == ' ')
			alen--;
		if (*p != '=') {
			rc = kr_fail(err, KR_E_USAGE, "subject \"%s\": "
			    "\"%.*s\" has no '='; write ATTRIBUTE=VALUE", s,
			    (int)(p - attr), attr);
			goto out;
		}
		if (alen == 0) {
			rc = kr_fail(err, KR_E_USAGE, "subject \"%s\": an "
			    "attribute name is missing before '='", s);
			goto out;
		}
		nid = NID_undef;
		for (i = 0; i < sizeof(subject_attrs) /
		    sizeof(subject_attrs[0]); i++)
			if (strlen(subject_attrs[i].name) == alen &&
			    strncasecmp(subject_attrs[i].name, attr, alen) == 0)
				nid = subject_attrs[i].nid;
		if (nid == NID_undef) {
			rc = kr_fail(err, KR_E_USAGE, "subject \"%s\": unknown "
			    "attribute \"%.*s\"; use CN, O, OU, C, L, ST, DC, "
			    "emailAddress or serialNumber", s, (int)alen, attr);
			goto out;
		}
		p++;
		while (*p == ' ')
			p++;
		vlen = keep = 0;
		while (*p != '\0' && *p != ',') {
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				rc = kr_fail(err, KR_E_USAGE, "subject: "
				    "attribute %.*s: control characters are "
				    "not allowed", (int)alen, attr);
				goto out;
			}
			if (*p == '=') {
				rc = kr_fail(err, KR_E_USAGE, "subject \"%s\": "
				    "attribute %.*s: write '=' in a value as "
				    "\\= (or is a comma missing?)", s,
				    (int)alen, attr);
				goto out;
			}
			if (*p == '\\') {
				p++;
				if (*p != ',' && *p != '=' && *p != '\\') {
					rc = kr_fail(err, KR_E_USAGE, "subject "
					    "\"%s\": attribute %.*s: only \\, "
					    "\\= and \\\\ may be escaped", s,
					    (int)alen, attr);
					goto out;
				}
				val[vlen++] = *p++;
				keep = vlen;
				continue;
			}
			val[vlen++] = *p++;
			if (val[vlen - 1] != ' ')
				keep = vlen;
		}
		vlen = keep;
		if (vlen == 0) {
			rc = kr_fail(err, KR_E_USAGE, "subject \"%s\": "
			    "attribute %.*s has an empty value", s, (int)alen,
			    attr);
			goto out;
		}
		if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
		    (unsigned char *)val, (int)vlen, -1, 0) != 1) {
			rc = kr_fail_ossl(err, KR_E_USAGE, "subject \"%s\": "
			    "attribute %.*s: \"%.*s\" is not a valid value", s,
			    (int)alen, attr, (int)vlen, val);
			goto out;
		}
		if (*p == '\0')
			break;
		p++;
		while (*p == ' ')
			p++;
		if (*p == '\0') {
			rc = kr_fail(err, KR_E_USAGE, "subject \"%s\" "
			    "ends with ','", s);
			goto out;
		}
	}
	*out = name;
	name = NULL;
	rc = KR_OK;
out:
	free(val);
	X509_NAME_free(name);
	return rc;
}

/* ------------------------------------------------------------------ */
/* General names and name constraints                                  */
/* ------------------------------------------------------------------ */

/* Append s to buf, escaping what is not printable ASCII as \xNN. */
static void
append_escaped(char *buf, size_t sz, const unsigned char *s, size_t len)
{
	size_t n = strlen(buf), i;

	for (i = 0; i < len && n + 5 < sz; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			buf[n++] = (char)s[i];
		else
			n += (size_t)snprintf(buf + n, sz - n, "\\x%02x", s[i]);
	}
	buf[n] = '\0';
}

/* An address (4/16 octets) or address+mask (8/32) as text. */
static void
ip_text(const unsigned char *d, int len, char *buf, size_t sz)
{
	char a[INET6_ADDRSTRLEN];
	int af, half, prefix = 0, i, b, contiguous = 1, zero = 0;

	buf[0] = '\0';
	if (len == 4 || len == 16) {
		af = len == 4 ? AF_INET : AF_INET6;
		if (inet_ntop(af, d, a, sizeof(a)) != NULL)
			snprintf(buf, sz, "%s", a);
		return;
	}
	if (len != 8 && len != 32) {
		snprintf(buf, sz, "(%d octets)", len);
		return;
	}
	half = len / 2;
	af = half == 4 ? AF_INET : AF_INET6;
	for (i = 0; i < half; i++)
		for (b = 7; b >= 0; b--) {
			if (d[half + i] & (1 << b)) {
				if (zero)
					contiguous = 0;
				prefix++;
			} else
				zero = 1;
		}
	if (inet_ntop(af, d, a, sizeof(a)) == NULL)
		return;
	if (contiguous) {
		snprintf(buf, sz, "%s/%d", a, prefix);
		return;
	}
	snprintf(buf, sz, "%s/", a);
	if (inet_ntop(af, d + half, a, sizeof(a)) != NULL)
		snprintf(buf + strlen(buf), sz - strlen(buf), "%s", a);
}

/*
 * A general name as "DNS:lab.internal", "IP:10.0.0.0/8", "email:...",
 * "URI:...", "DirName:CN=..."; bytes that are not printable ASCII are
 * escaped, so this is safe on hostile input.
 */
void
ca_general_name_text(const GENERAL_NAME *gn, char *buf, size_t sz)
{
	const ASN1_STRING *s;
	char oid[128];
	BIO *b;
	char *data;
	long n;

	if (sz == 0)
		return;
	buf[0] = '\0';
	switch (gn->type) {
	case GEN_DNS:
	case GEN_EMAIL:
	case GEN_URI:
		s = gn->d.ia5;
		snprintf(buf, sz, "%s:", gn->type == GEN_DNS ? "DNS" :
		    gn->type == GEN_EMAIL ? "email" : "URI");
		append_escaped(buf, sz, ASN1_STRING_get0_data(s),
		    (size_t)ASN1_STRING_length(s));
		break;
	case GEN_IPADD:
		snprintf(buf, sz, "IP:");
		ip_text(ASN1_STRING_get0_data(gn->d.ip),
		    ASN1_STRING_length(gn->d.ip), buf + 3, sz - 3);
		break;
	case GEN_DIRNAME:
		snprintf(buf, sz, "DirName:");
		if ((b = BIO_new(BIO_s_mem())) == NULL)
			break;
		if (X509_NAME_print_ex(b, gn->d.dirn, 0,
		    XN_FLAG_SEP_COMMA_PLUS | XN_FLAG_FN_SN |
		    ASN1_STRFLGS_RFC2253) >= 0 &&
		    (n = BIO_get_mem_data(b, &data)) > 0)
			append_escaped(buf, sz, (unsigned char *)data,
			    (size_t)n);
		BIO_free(b);
		break;
	case GEN_RID:
		OBJ_obj2txt(oid, sizeof(oid), gn->d.rid, 1);
		snprintf(buf, sz, "RID:%s", oid);
		break;
	case GEN_OTHERNAME:
		OBJ_obj2txt(oid, sizeof(oid), gn->d.otherName->type_id, 1);
		snprintf(buf, sz, "othername:%s", oid);
		break;
	case GEN_X400:
		snprintf(buf, sz, "x400Address");
		break;
	case GEN_EDIPARTY:
		snprintf(buf, sz, "EdiPartyName");
		break;
	default:
		snprintf(buf, sz, "unknown name type %d", gn->type);
		break;
	}
}

/* A general name from a string of the given IA5 type (DNS, URI). */
static GENERAL_NAME *
gn_ia5(int type, const char *v)
{
	GENERAL_NAME *gn;
	ASN1_IA5STRING *s;

	if ((gn = GENERAL_NAME_new()) == NULL)
		return NULL;
	if ((s = ASN1_IA5STRING_new()) == NULL ||
	    ASN1_STRING_set(s, v, (int)strlen(v)) != 1) {
		ASN1_IA5STRING_free(s);
		GENERAL_NAME_free(gn);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, type, s);
	return gn;
}

static GENERAL_NAME *
gn_ip(const unsigned char *d, int len)
{
	GENERAL_NAME *gn;
	ASN1_OCTET_STRING *s;

	if ((gn = GENERAL_NAME_new()) == NULL)
		return NULL;
	if ((s = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(s, d, len) != 1) {
		ASN1_OCTET_STRING_free(s);
		GENERAL_NAME_free(gn);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
	return gn;
}

/*
 * Check and lower-case a DNS name (or a name-constraint base) into out.
 * Labels are letters, digits and '-'; wildcard allows "*." in front.
 */
static int
dns_normalize(const char *in, int wildcard, char out[256])
{
	size_t n = strlen(in), i, label = 0;
	const char *p = in;

	if (wildcard && strncmp(p, "*.", 2) == 0) {
		p += 2;
		n -= 2;
	}
	if (n == 0 || n > 253 || p[0] == '.' || p[n - 1] == '.')
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] == '.') {
			if (label == 0 || p[i - 1] == '-')
				return -1;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)p[i]) && p[i] != '-')
			return -1;
		if (p[i] == '-' && label == 0)
			return -1;
		if (++label > 63)
			return -1;
	}
	if (p[n - 1] == '-')
		return -1;
	snprintf(out, 256, "%s", in);
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return 0;
}

/*
 * Parse an IP address ("10.1.2.3", "fd00::1") into 4/16 octets, or with
 * subtree set a network ("10.0.0.0/8", "fd00::/8") into address+mask,
 * 8/32 octets.  Host bits set in a network are an error.
 */
static enum kr_err
ip_parse(const char *s, int subtree, unsigned char out[32], int *len,
    struct kr_error *err)
{
	char a[64], *end;
	const char *slash;
	unsigned char addr[16];
	long prefix;
	int af, alen, i;

	slash = strchr(s, '/');
	if (!subtree && slash != NULL)
		return kr_fail(err, KR_E_USAGE, "%s: an IP address, not a "
		    "network, is needed here", s);
	if (subtree && slash == NULL)
		return kr_fail(err, KR_E_USAGE, "%s: write a network with its "
		    "prefix length, such as 10.0.0.0/8 or fd00::/8", s);
	if ((size_t)snprintf(a, sizeof(a), "%.*s",
	    (int)(slash != NULL ? (size_t)(slash - s) : strlen(s)), s) >=
	    sizeof(a))
		return kr_fail(err, KR_E_USAGE, "%s: not an IP address", s);
	af = strchr(a, ':') != NULL ? AF_INET6 : AF_INET;
	alen = af == AF_INET ? 4 : 16;
	if (inet_pton(af, a, addr) != 1)
		return kr_fail(err, KR_E_USAGE, "%s: not an IP address", s);
	if (!subtree) {
		memcpy(out, addr, (size_t)alen);
		*len = alen;
		return KR_OK;
	}
	errno = 0;
	prefix = strtol(slash + 1, &end, 10);
	if (slash[1] == '\0' || !isdigit((unsigned char)slash[1]) ||
	    *end != '\0' || errno != 0 || prefix < 0 || prefix > alen * 8)
		return kr_fail(err, KR_E_USAGE, "%s: bad prefix length", s);
	for (i = 0; i < alen; i++) {
		int bits = (int)prefix - i * 8;
		unsigned char m;

		m = bits >= 8 ? 0xff : bits <= 0 ? 0 :
		    (unsigned char)(0xff << (8 - bits));
		if ((addr[i] & ~m) != 0)
			return kr_fail(err, KR_E_USAGE, "%s: host bits are "
			    "set; did you mean the network address?", s);
		out[i] = addr[i];
		out[alen + i] = m;
	}
	*len = alen * 2;
	return KR_OK;
}

/* Case-insensitive comparison of n bytes that does not stop at NUL. */
static int
mem_caseeq(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tolower(a[i]) != tolower(b[i]))
			return 0;
	return 1;
}

/*
 * Is DNS name (or subtree) n inside DNS subtree base?  RFC 5280 4.2.1.10:
 * any name made by adding labels on the left matches.  A leading '.'
 * on either side is ignored.
 */
static int
dns_within(const unsigned char *n, size_t nlen, const unsigned char *b,
    size_t blen)
{
	if (blen > 0 && b[0] == '.') {
		b++;
		blen--;
	}
	if (nlen > 0 && n[0] == '.') {
		n++;
		nlen--;
	}
	if (blen == 0)
		return 1;
	if (nlen == blen)
		return mem_caseeq(n, b, blen);
	if (nlen > blen && n[nlen - blen - 1] == '.')
		return mem_caseeq(n + nlen - blen, b, blen);
	return 0;
}

/*
 * Is address (4/16 octets) or network (8/32) n inside network b (8/32)?
 * A network is inside when its mask is at least as long and its
 * address lies in b.
 */
static int
ip_within(const unsigned char *n, int nlen, const unsigned char *b, int blen)
{
	int half, i;

	if (blen != 8 && blen != 32)
		return 0;
	half = blen / 2;
	if (nlen != half && nlen != blen)
		return 0;
	for (i = 0; i < half; i++) {
		if ((n[i] & b[half + i]) != b[i])
			return 0;
		if (nlen == blen && (n[half + i] & b[half + i]) != b[half + i])
			return 0;
	}
	return 1;
}

/* Is general name gn (a name or a subtree base) inside subtree base? */
static int
gn_within(const GENERAL_NAME *gn, const GENERAL_NAME *base)
{
	if (gn->type != base->type)
		return 0;
	switch (gn->type) {
	case GEN_DNS:
		return dns_within(ASN1_STRING_get0_data(gn->d.ia5),
		    (size_t)ASN1_STRING_length(gn->d.ia5),
		    ASN1_STRING_get0_data(base->d.ia5),
		    (size_t)ASN1_STRING_length(base->d.ia5));
	case GEN_IPADD:
		return ip_within(ASN1_STRING_get0_data(gn->d.ip),
		    ASN1_STRING_length(gn->d.ip),
		    ASN1_STRING_get0_data(base->d.ip),
		    ASN1_STRING_length(base->d.ip));
	default:
		return 0;
	}
}

/*
 * Does nc allow gn?  Not if gn lies in an excluded subtree; yes if nc
 * has no permitted subtree of gn's type (that type is unconstrained) or
 * gn lies inside one of them.
 */
static int
nc_allows(const GENERAL_NAME *gn, const NAME_CONSTRAINTS *nc)
{
	const GENERAL_SUBTREE *st;
	int i, seen = 0;

	if (nc == NULL)
		return 1;
	for (i = 0; i < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees); i++) {
		st = sk_GENERAL_SUBTREE_value(nc->excludedSubtrees, i);
		if (gn_within(gn, st->base))
			return 0;
	}
	for (i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); i++) {
		st = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
		if (st->base->type != gn->type)
			continue;
		seen = 1;
		if (gn_within(gn, st->base))
			return 1;
	}
	return !seen;
}

/* The permitted subtrees of nc of type ("lab.internal, 10.0.0.0/8"). */
static void
nc_list(const NAME_CONSTRAINTS *nc, int type, char *buf, size_t sz)
{
	const GENERAL_SUBTREE *st;
	char one[300], *v;
	size_t n;
	int i;

	buf[0] = '\0';
	if (nc == NULL)
		return;
	for (i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); i++) {
		st = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
		if (type != -1 && st->base->type != type)
			continue;
		ca_general_name_text(st->base, one, sizeof(one));
		v = strchr(one, ':');
		v = v != NULL && type != -1 ? v + 1 : one;
		n = strlen(buf);
		snprintf(buf + n, sz - n, "%s%s", n > 0 ? ", " : "", v);
	}
	if (buf[0] == '\0')
		snprintf(buf, sz, "none");
}

/* Push a subtree with base gn (taken) onto *sk, creating the stack. */
static int
subtree_push(STACK_OF(GENERAL_SUBTREE) **sk, GENERAL_NAME *gn)
{
	GENERAL_SUBTREE *st;

	if (gn == NULL)
		return -1;
	if (*sk == NULL && (*sk = sk_GENERAL_SUBTREE_new_null()) == NULL) {
		GENERAL_NAME_free(gn);
		return -1;
	}
	if ((st = GENERAL_SUBTREE_new()) == NULL) {
		GENERAL_NAME_free(gn);
		return -1;
	}
	GENERAL_NAME_free(st->base);
	st->base = gn;
	if (sk_GENERAL_SUBTREE_push(*sk, st) == 0) {
		GENERAL_SUBTREE_free(st);
		return -1;
	}
	return 0;
}

/*
 * Name constraints from permitted (roots: issuer_nc NULL), or inherited
 * from issuer_nc and narrowed by permitted: a type (DNS or IP) given in
 * permitted replaces the issuer's subtrees of that type, and each entry
 * must lie inside them; types not given, and all excluded subtrees, are
 * inherited.  *out is NULL when there is nothing to constrain.
 */
static enum kr_err
nc_build(const struct ca_names *permitted, const NAME_CONSTRAINTS *issuer_nc,
    const char *whose, NAME_CONSTRAINTS **out, struct kr_error *err)
{
	NAME_CONSTRAINTS *nc = NULL;
	const GENERAL_SUBTREE *st;
	GENERAL_NAME *gn = NULL;
	unsigned char ip[32];
	char dns[256], list[512];
	size_t ndns = 0, nip = 0, i;
	int iplen, j;
	enum kr_err rc;

	*out = NULL;
	if (permitted != NULL) {
		ndns = permitted->ndns;
		nip = permitted->nip;
	}
	if ((nc = NAME_CONSTRAINTS_new()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (j = 0; issuer_nc != NULL &&
	    j < sk_GENERAL_SUBTREE_num(issuer_nc->permittedSubtrees); j++) {
		st = sk_GENERAL_SUBTREE_value(issuer_nc->permittedSubtrees, j);
		if ((st->base->type == GEN_DNS && ndns > 0) ||
		    (st->base->type == GEN_IPADD && nip > 0))
			continue;
		if (subtree_push(&nc->permittedSubtrees,
		    GENERAL_NAME_dup(st->base)) != 0) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
	}
	for (j = 0; issuer_nc != NULL &&
	    j < sk_GENERAL_SUBTREE_num(issuer_nc->excludedSubtrees); j++) {
		st = sk_GENERAL_SUBTREE_value(issuer_nc->excludedSubtrees, j);
		if (subtree_push(&nc->excludedSubtrees,
		    GENERAL_NAME_dup(st->base)) != 0) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
	}
	for (i = 0; i < ndns; i++) {
		if (dns_normalize(permitted->dns[i], 0, dns) != 0) {
			rc = kr_fail(err, KR_E_USAGE, "--permitted-dns %s: not "
			    "a DNS name", permitted->dns[i]);
			goto out;
		}
		if ((gn = gn_ia5(GEN_DNS, dns)) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		if (!nc_allows(gn, issuer_nc)) {
			nc_list(issuer_nc, GEN_DNS, list, sizeof(list));
			rc = kr_fail(err, KR_E_POLICY, "--permitted-dns %s is "
			    "outside %s permitted subtrees (%s)",
			    permitted->dns[i], whose, list);
			goto out;
		}
		if (subtree_push(&nc->permittedSubtrees, gn) != 0) {
			gn = NULL;
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		gn = NULL;
	}
	for (i = 0; i < nip; i++) {
		if ((rc = ip_parse(permitted->ip[i], 1, ip, &iplen, err)) !=
		    KR_OK) {
			kr_error_prefix(err, "--permitted-ip");
			goto out;
		}
		if ((gn = gn_ip(ip, iplen)) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		if (!nc_allows(gn, issuer_nc)) {
			nc_list(issuer_nc, GEN_IPADD, list, sizeof(list));
			rc = kr_fail(err, KR_E_POLICY, "--permitted-ip %s is "
			    "outside %s permitted subtrees (%s)",
			    permitted->ip[i], whose, list);
			goto out;
		}
		if (subtree_push(&nc->permittedSubtrees, gn) != 0) {
			gn = NULL;
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		gn = NULL;
	}
	if (nc->permittedSubtrees != NULL || nc->excludedSubtrees != NULL) {
		*out = nc;
		nc = NULL;
	}
	rc = KR_OK;
out:
	GENERAL_NAME_free(gn);
	NAME_CONSTRAINTS_free(nc);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Extensions                                                          */
/* ------------------------------------------------------------------ */

static enum kr_err
add_ext(X509 *x, int nid, void *value, int crit, struct kr_error *err)
{
	if (X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_DEFAULT) != 1)
		return kr_fail_ossl(err, KR_E_CRYPTO, "cannot add the %s "
		    "extension", OBJ_nid2ln(nid));
	return KR_OK;
}

/* basicConstraints, always critical; CA:FALSE encodes as SEQUENCE {}. */
static enum kr_err
add_basic_constraints(X509 *x, int ca, int path_len, struct kr_error *err)
{
	BASIC_CONSTRAINTS *bc;
	enum kr_err rc;

	if ((bc = BASIC_CONSTRAINTS_new()) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	bc->ca = ca ? 0xff : 0;
	if (ca && path_len >= 0 && ((bc->pathlen = ASN1_INTEGER_new()) ==
	    NULL || ASN1_INTEGER_set(bc->pathlen, path_len) != 1)) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	rc = add_ext(x, NID_basic_constraints, bc, 1, err);
out:
	BASIC_CONSTRAINTS_free(bc);
	return rc;
}

/*
 * keyUsage, critical, from X509v3_KU_* bits (digitalSignature 0x80 ...
 * decipherOnly 0x8000), i.e. bit i of the BIT STRING is 0x80 >> i for
 * i < 8 and 0x8000 for i = 8.  ASN1_BIT_STRING drops trailing zero
 * octets and counts unused bits, which is the DER form.
 */
static enum kr_err
add_key_usage(X509 *x, unsigned ku, struct kr_error *err)
{
	ASN1_BIT_STRING *bs;
	enum kr_err rc;
	int i;

	if (ku == 0)
		return KR_OK;
	if ((bs = ASN1_BIT_STRING_new()) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; i < 9; i++) {
		unsigned m = i < 8 ? 0x80u >> i : 0x8000u;

		if ((ku & m) && ASN1_BIT_STRING_set_bit(bs, i, 1) != 1) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
	}
	rc = add_ext(x, NID_key_usage, bs, 1, err);
out:
	ASN1_BIT_STRING_free(bs);
	return rc;
}

static enum kr_err
add_eku(X509 *x, unsigned eku, struct kr_error *err)
{
	EXTENDED_KEY_USAGE *sk;
	enum kr_err rc;

	if (eku == 0)
		return KR_OK;
	if ((sk = sk_ASN1_OBJECT_new_null()) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	if (((eku & POL_EKU_SERVER_AUTH) &&
	    sk_ASN1_OBJECT_push(sk, OBJ_nid2obj(NID_server_auth)) == 0) ||
	    ((eku & POL_EKU_CLIENT_AUTH) &&
	    sk_ASN1_OBJECT_push(sk, OBJ_nid2obj(NID_client_auth)) == 0)) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	rc = add_ext(x, NID_ext_key_usage, sk, 0, err);
out:
	sk_ASN1_OBJECT_pop_free(sk, ASN1_OBJECT_free);
	return rc;
}

/*
 * subjectKeyIdentifier, RFC 5280 4.2.1.2 method 1: SHA-1 of the
 * subjectPublicKey BIT STRING's value (without tag, length and the
 * unused-bits octet).
 */
static enum kr_err
add_ski(X509 *x, struct kr_error *err)
{
	const unsigned char *pk;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	ASN1_OCTET_STRING *os = NULL;
	int pklen;
	enum kr_err rc;

	if (X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL,
	    X509_get_X509_PUBKEY(x)) != 1 ||
	    EVP_Digest(pk, (size_t)pklen, md, &mdlen, EVP_sha1(), NULL) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot compute the SKI");
		goto out;
	}
	if ((os = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(os, md, (int)mdlen) != 1) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	rc = add_ext(x, NID_subject_key_identifier, os, 0, err);
out:
	ASN1_OCTET_STRING_free(os);
	return rc;
}

/* authorityKeyIdentifier: keyid only, never issuer name and serial. */
static AUTHORITY_KEYID *
aki_new(const ASN1_OCTET_STRING *keyid)
{
	AUTHORITY_KEYID *aki;

	if ((aki = AUTHORITY_KEYID_new()) == NULL)
		return NULL;
	if ((aki->keyid = ASN1_OCTET_STRING_dup(keyid)) == NULL) {
		AUTHORITY_KEYID_free(aki);
		return NULL;
	}
	return aki;
}

/* AKI = keyid of issuer's SKI (or x's own SKI when issuer is NULL). */
static enum kr_err
add_aki(X509 *x, X509 *issuer, struct kr_error *err)
{
	ASN1_OCTET_STRING *ski;
	AUTHORITY_KEYID *aki = NULL;
	enum kr_err rc;

	/*
	 * Decoded from the extension, not X509_get0_subject_key_id: that
	 * reads a cache which may predate the SKI of a TBS being built.
	 */
	ski = X509_get_ext_d2i(issuer != NULL ? issuer : x,
	    NID_subject_key_identifier, NULL, NULL);
	if (ski == NULL || ASN1_STRING_length(ski) == 0) {
		rc = kr_fail(err, KR_E_POLICY, "lint: aki: the issuer "
		    "certificate has no subjectKeyIdentifier");
		goto out;
	}
	if ((aki = aki_new(ski)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	rc = add_ext(x, NID_authority_key_identifier, aki, 0, err);
out:
	ERR_clear_error();
	ASN1_OCTET_STRING_free(ski);
	AUTHORITY_KEYID_free(aki);
	return rc;
}

static enum kr_err
add_cdp(X509 *x, const char *url, struct kr_error *err)
{
	CRL_DIST_POINTS *cdp = NULL;
	DIST_POINT *dp = NULL;
	GENERAL_NAME *gn = NULL;
	enum kr_err rc;

	if ((cdp = sk_DIST_POINT_new_null()) == NULL ||
	    (dp = DIST_POINT_new()) == NULL ||
	    (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL ||
	    (gn = gn_ia5(GEN_URI, url)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	dp->distpoint->type = 0;
	if (sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn) == 0) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	gn = NULL;
	if (sk_DIST_POINT_push(cdp, dp) == 0) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	dp = NULL;
	rc = add_ext(x, NID_crl_distribution_points, cdp, 0, err);
out:
	GENERAL_NAME_free(gn);
	DIST_POINT_free(dp);
	sk_DIST_POINT_pop_free(cdp, DIST_POINT_free);
	return rc;
}

static enum kr_err
add_aia(X509 *x, const char *url, struct kr_error *err)
{
	AUTHORITY_INFO_ACCESS *aia = NULL;
	ACCESS_DESCRIPTION *ad = NULL;
	enum kr_err rc;

	if ((aia = sk_ACCESS_DESCRIPTION_new_null()) == NULL ||
	    (ad = ACCESS_DESCRIPTION_new()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	ASN1_OBJECT_free(ad->method);
	ad->method = OBJ_nid2obj(NID_ad_ca_issuers);
	GENERAL_NAME_free(ad->location);
	if ((ad->location = gn_ia5(GEN_URI, url)) == NULL ||
	    sk_ACCESS_DESCRIPTION_push(aia, ad) == 0) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	ad = NULL;
	rc = add_ext(x, NID_info_access, aia, 0, err);
out:
	ACCESS_DESCRIPTION_free(ad);
	sk_ACCESS_DESCRIPTION_pop_free(aia, ACCESS_DESCRIPTION_free);
	return rc;
}

/* An http(s) URL without spaces or control characters. */
static int
url_ok(const char *u)
{
	size_t i;

	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
		return 0;
	for (i = 0; u[i] != '\0'; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Building certificates                                               */
/* ------------------------------------------------------------------ */

static enum kr_err validity_times(const struct pol_profile *, long long,
    time_t, int, time_t, time_t, time_t *, time_t *, struct kr_error *);

/*
 * notBefore = now - backdate (but not before the issuer's notBefore),
 * notAfter = notBefore + validity (the profile's default when validity
 * <= 0).  Longer than the profile's maximum, or ending after the issuer
 * does, is refused, never clipped.
 */
static enum kr_err
set_validity(X509 *x, const struct pol_profile *p, long long validity,
    time_t now, X509 *issuer, struct kr_error *err)
{
	time_t nb = 0, na = 0, inb = 0, ina = 0;
	enum kr_err rc;

	if (issuer != NULL &&
	    (ca_time_from_asn1(X509_get0_notBefore(issuer), &inb) != 0 ||
	    ca_time_from_asn1(X509_get0_notAfter(issuer), &ina) != 0))
		return kr_fail(err, KR_E_PARSE, "the issuer's validity "
		    "cannot be read");
	if ((rc = validity_times(p, validity, now, issuer != NULL, inb, ina,
	    &nb, &na, err)) != KR_OK)
		return rc;
	if (ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL)
		return kr_fail_ossl(err, KR_E_CRYPTO,
		    "cannot set the validity");
	return KR_OK;
}

/*
 * set_validity's times, with the issuer's validity [inb, ina] when
 * has_issuer.
 */
static enum kr_err
validity_times(const struct pol_profile *p, long long validity, time_t now,
    int has_issuer, time_t inb, time_t ina, time_t *nbp, time_t *nap,
    struct kr_error *err)
{
	char d1[48], d2[48], t1[32], t2[32];
	time_t nb, na;

	if (validity <= 0)
		validity = p->default_validity;
	if (validity <= 0)
		return kr_fail(err, KR_E_USAGE, "profile %s has no default "
		    "validity; give one", p->name);
	if (validity > p->max_validity) {
		fmt_duration(validity, d1);
		fmt_duration(p->max_validity, d2);
		return kr_fail(err, KR_E_POLICY, "lint: validity-max: a "
		    "validity of %s is longer than profile %s allows (%s)",
		    d1, p->name, d2);
	}
	nb = now - (time_t)p->backdate;
	/* Backdating never reaches before the issuer existed. */
	if (has_issuer && nb < inb && inb <= now)
		nb = inb;
	na = nb + (time_t)validity;
	if (has_issuer) {
		if (na > ina) {
			fmt_time(na, t1);
			fmt_time(ina, t2);
			return kr_fail(err, KR_E_POLICY, "lint: "
			    "validity-issuer: notAfter %s would be after the "
			    "issuer's notAfter %s; choose a shorter validity",
			    t1, t2);
		}
	}
	*nbp = nb;
	*nap = na;
	return KR_OK;
}

/* Version 3, a fresh serial and the public key. */
static enum kr_err
cert_key_serial(X509 *x, EVP_PKEY *pub, struct kr_error *err)
{
	ASN1_INTEGER *serial = NULL;
	enum kr_err rc;

	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_pubkey(x, pub) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot fill the "
		    "certificate");
		goto out;
	}
	if ((rc = ca_serial_new(&serial, err)) != KR_OK)
		goto out;
	if (X509_set_serialNumber(x, serial) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot set the serial");
		goto out;
	}
	rc = KR_OK;
out:
	ASN1_INTEGER_free(serial);
	return rc;
}

/* Version 3, a fresh serial, the public key and the validity. */
static enum kr_err
cert_common(X509 *x, EVP_PKEY *pub, const struct pol_profile *p,
    long long validity, time_t now, X509 *issuer, struct kr_error *err)
{
	enum kr_err rc;

	if ((rc = cert_key_serial(x, pub, err)) != KR_OK)
		return rc;
	return set_validity(x, p, validity, now, issuer, err);
}

static enum kr_err
add_name_constraints(X509 *x, NAME_CONSTRAINTS *nc, struct kr_error *err)
{
	if (nc == NULL)
		return KR_OK;
	return add_ext(x, NID_name_constraints, nc, 1, err);
}

/*
 * Build a root TBS.  The certificate is self-issued; its AKI repeats
 * its own SKI.  Name constraints are added (critical) when permitted
 * has an entry.
 */
enum kr_err
ca_root_build(const char *subject, EVP_PKEY *pub, const struct pol_profile *p,
    long long validity, const struct ca_names *permitted, time_t now,
    X509 **out, struct kr_error *err)
{
	X509 *x = NULL;
	X509_NAME *name = NULL;
	NAME_CONSTRAINTS *nc = NULL;
	enum kr_err rc;

	*out = NULL;
	if (p->kind != POL_KIND_ROOT) {
		rc = kr_fail(err, KR_E_USAGE, "profile %s is not a root "
		    "profile", p->name);
		goto out;
	}
	if ((rc = key_check(pub, p, "the root key", err)) != KR_OK)
		goto out;
	if ((rc = ca_parse_subject(subject, &name, err)) != KR_OK)
		goto out;
	if ((rc = nc_build(permitted, NULL, "the root's", &nc, err)) != KR_OK)
		goto out;
	if ((x = X509_new()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, name) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot set the subject");
		goto out;
	}
	if ((rc = cert_common(x, pub, p, validity, now, NULL, err)) != KR_OK ||
	    (rc = add_basic_constraints(x, 1, p->path_len, err)) != KR_OK ||
	    (rc = add_key_usage(x, p->key_usage, err)) != KR_OK ||
	    (rc = add_eku(x, p->ext_key_usage, err)) != KR_OK ||
	    (rc = add_ski(x, err)) != KR_OK ||
	    (rc = add_aki(x, NULL, err)) != KR_OK ||
	    (rc = add_name_constraints(x, nc, err)) != KR_OK)
		goto out;
	*out = x;
	x = NULL;
	rc = KR_OK;
out:
	X509_free(x);
	X509_NAME_free(name);
	NAME_CONSTRAINTS_free(nc);
	return rc;
}

/* Verify a CSR's self-signature and its key. */
static enum kr_err
csr_check(X509_REQ *csr, const struct pol_profile *p, struct kr_error *err)
{
	EVP_PKEY *pk;
	int v;

	if (csr == NULL)
		return kr_fail(err, KR_E_USAGE, "a CSR is required");
	if ((pk = X509_REQ_get0_pubkey(csr)) == NULL)
		return kr_fail_ossl(err, KR_E_PARSE, "the CSR's public key "
		    "cannot be read");
	v = X509_REQ_verify(csr, pk);
	ERR_clear_error();
	if (v != 1)
		return kr_fail(err, KR_E_VERIFY, "CSR signature does not "
		    "verify");
	return key_check(pk, p, "the CSR's key", err);
}

/* The subjectAltName the CSR requests, NULL if none. */
static enum kr_err
csr_sans(X509_REQ *csr, GENERAL_NAMES **out, struct kr_error *err)
{
	STACK_OF(X509_EXTENSION) *exts;
	X509_EXTENSION *ext;
	enum kr_err rc = KR_OK;
	int i;

	*out = NULL;
	exts = X509_REQ_get_extensions(csr);
	ERR_clear_error();
	if (exts == NULL)
		return KR_OK;
	i = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
	if (i >= 0) {
		ext = sk_X509_EXTENSION_value(exts, i);
		if ((*out = X509V3_EXT_d2i(ext)) == NULL)
			rc = kr_fail_ossl(err, KR_E_PARSE, "the CSR's "
			    "subjectAltName request cannot be parsed");
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

/*
 * Check each name of sans (DNS and IP only) against nc and the issuer's
 * constraints as the linter sees them.  what says where they came from.
 */
static enum kr_err
sans_check(const GENERAL_NAMES *sans, const NAME_CONSTRAINTS *nc,
    X509 *issuer, const char *what, struct kr_error *err)
{
	const GENERAL_NAME *gn;
	char txt[300], list[512];
	enum kr_err rc;
	int i;

	for (i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
		gn = sk_GENERAL_NAME_value(sans, i);
		ca_general_name_text(gn, txt, sizeof(txt));
		if (gn->type != GEN_DNS && gn->type != GEN_IPADD)
			return kr_fail(err, KR_E_POLICY, "%s %s; keyrite "
			    "issues DNS and IP names only", what, txt);
		if (gn->type == GEN_IPADD &&
		    ASN1_STRING_length(gn->d.ip) != 4 &&
		    ASN1_STRING_length(gn->d.ip) != 16)
			return kr_fail(err, KR_E_POLICY, "%s a malformed IP "
			    "address", what);
		if (!nc_allows(gn, nc)) {
			nc_list(nc, gn->type, list, sizeof(list));
			return kr_fail(err, KR_E_POLICY, "%s %s, which is "
			    "outside the permitted subtrees (%s)", what, txt,
			    list);
		}
		if ((rc = pol_name_permitted(issuer, gn, err)) != KR_OK) {
			kr_error_prefix(err, "%s %s", what, txt);
			return rc;
		}
	}
	return KR_OK;
}

/* sans_check against issuer's own name constraints. */
static enum kr_err
sans_in_issuer(const GENERAL_NAMES *sans, X509 *issuer, const char *what,
    struct kr_error *err)
{
	NAME_CONSTRAINTS *inc;
	enum kr_err rc;
	int crit = 0;

	inc = X509_get_ext_d2i(issuer, NID_name_constraints, &crit, NULL);
	if (inc == NULL && crit != -1)
		rc = kr_fail_ossl(err, KR_E_PARSE, "the issuer's name "
		    "constraints cannot be parsed");
	else
		rc = sans_check(sans, inc, issuer, what, err);
	ERR_clear_error();
	NAME_CONSTRAINTS_free(inc);
	return rc;
}

/*
 * Build an intermediate TBS for csr under issuer (see ca.h).  The
 * subject is the CSR's and must not be empty.
 */
enum kr_err
ca_intermediate_build(X509_REQ *csr, X509 *issuer,
    const struct pol_profile *p, long long validity,
    const struct ca_names *permitted, time_t now, X509 **out,
    struct kr_error *err)
{
	X509 *x = NULL;
	NAME_CONSTRAINTS *inc = NULL, *nc = NULL;
	GENERAL_NAMES *sans = NULL;
	const char *whose;
	int crit = 0;
	enum kr_err rc;

	*out = NULL;
	if (p->kind != POL_KIND_INTERMEDIATE) {
		rc = kr_fail(err, KR_E_USAGE, "profile %s is not an "
		    "intermediate profile", p->name);
		goto out;
	}
	if (issuer == NULL) {
		rc = kr_fail(err, KR_E_USAGE, "an issuer is required");
		goto out;
	}
	if ((rc = csr_check(csr, p, err)) != KR_OK)
		goto out;
	if (X509_NAME_entry_count(X509_REQ_get_subject_name(csr)) == 0) {
		rc = kr_fail(err, KR_E_POLICY, "lint: subject-empty: the "
		    "CSR's subject is empty; an intermediate needs a name");
		goto out;
	}
	inc = X509_get_ext_d2i(issuer, NID_name_constraints, &crit, NULL);
	if (inc == NULL && crit != -1) {
		rc = kr_fail_ossl(err, KR_E_PARSE, "the issuer's name "
		    "constraints cannot be parsed");
		goto out;
	}
	ERR_clear_error();
	whose = X509_NAME_cmp(X509_get_subject_name(issuer),
	    X509_get_issuer_name(issuer)) == 0 ? "the root's" : "the issuer's";
	if ((rc = nc_build(permitted, inc, whose, &nc, err)) != KR_OK)
		goto out;
	if ((rc = csr_sans(csr, &sans, err)) != KR_OK ||
	    (rc = sans_check(sans, nc, issuer, "the CSR requests", err)) !=
	    KR_OK)
		goto out;
	if ((x = X509_new()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (X509_set_subject_name(x, X509_REQ_get_subject_name(csr)) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(issuer)) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot set the names");
		goto out;
	}
	if ((rc = cert_common(x, X509_REQ_get0_pubkey(csr), p, validity, now,
	    issuer, err)) != KR_OK ||
	    (rc = add_basic_constraints(x, 1, p->path_len, err)) != KR_OK ||
	    (rc = add_key_usage(x, p->key_usage, err)) != KR_OK ||
	    (rc = add_eku(x, p->ext_key_usage, err)) != KR_OK ||
	    (rc = add_ski(x, err)) != KR_OK ||
	    (rc = add_aki(x, issuer, err)) != KR_OK)
		goto out;
	if (sk_GENERAL_NAME_num(sans) > 0 &&
	    (rc = add_ext(x, NID_subject_alt_name, sans, 0, err)) != KR_OK)
		goto out;
	if ((rc = add_name_constraints(x, nc, err)) != KR_OK)
		goto out;
	*out = x;
	x = NULL;
	rc = KR_OK;
out:
	X509_free(x);
	NAME_CONSTRAINTS_free(inc);
	NAME_CONSTRAINTS_free(nc);
	GENERAL_NAMES_free(sans);
	return rc;
}

/*
 * The subject root's name constraints must lie inside the issuer's: for
 * each type (DNS, IP) the issuer constrains, the subject must carry
 * permitted subtrees of that type, each inside the issuer's, and none
 * inside the issuer's excluded subtrees.  A cross-certificate copies the
 * subject's constraints unchanged, so this is where a wider one is
 * refused, with the subtree named.
 */
static enum kr_err
nc_inside(const NAME_CONSTRAINTS *snc, const NAME_CONSTRAINTS *inc,
    struct kr_error *err)
{
	static const int types[] = { GEN_DNS, GEN_IPADD };
	const GENERAL_SUBTREE *st;
	char one[300], list[512];
	size_t k;
	int i, seen;

	if (inc == NULL)
		return KR_OK;
	for (k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		seen = 0;
		for (i = 0; i < sk_GENERAL_SUBTREE_num(inc->permittedSubtrees);
		    i++)
			if (sk_GENERAL_SUBTREE_value(inc->permittedSubtrees,
			    i)->base->type == types[k])
				seen = 1;
		if (!seen)
			continue;
		seen = 0;
		for (i = 0; snc != NULL &&
		    i < sk_GENERAL_SUBTREE_num(snc->permittedSubtrees); i++)
			if (sk_GENERAL_SUBTREE_value(snc->permittedSubtrees,
			    i)->base->type == types[k])
				seen = 1;
		if (!seen) {
			nc_list(inc, types[k], list, sizeof(list));
			return kr_fail(err, KR_E_POLICY, "lint: "
			    "name-constraints: the issuing root permits only "
			    "%s; the certified root has no permitted %s "
			    "subtrees, so a cross-certificate would widen "
			    "what the issuer vouches for", list,
			    types[k] == GEN_DNS ? "DNS" : "IP");
		}
	}
	for (i = 0; snc != NULL &&
	    i < sk_GENERAL_SUBTREE_num(snc->permittedSubtrees); i++) {
		st = sk_GENERAL_SUBTREE_value(snc->permittedSubtrees, i);
		if (nc_allows(st->base, inc))
			continue;
		ca_general_name_text(st->base, one, sizeof(one));
		nc_list(inc, st->base->type, list, sizeof(list));
		return kr_fail(err, KR_E_POLICY, "lint: name-constraints: "
		    "the certified root permits %s, which is outside the "
		    "issuing root's permitted subtrees (%s)", one, list);
	}
	return KR_OK;
}

/*
 * notBefore and notAfter of a cross-certificate: inside both roots'
 * validity.  notBefore is now - backdate, moved up to the later of the
 * two roots' notBefore; notAfter is notBefore + validity, or with
 * validity <= 0 the earlier of the two notAfters.  Ending after either
 * root, or lasting longer than the profile allows, is refused.
 */
static enum kr_err
cross_validity(X509 *x, X509 *subject, X509 *issuer,
    const struct pol_profile *p, long long validity, time_t now,
    struct kr_error *err)
{
	char d1[48], d2[48], t1[32], t2[32];
	time_t nb, na, snb, sna, inb, ina, end;

	if (ca_time_from_asn1(X509_get0_notBefore(subject), &snb) != 0 ||
	    ca_time_from_asn1(X509_get0_notAfter(subject), &sna) != 0 ||
	    ca_time_from_asn1(X509_get0_notBefore(issuer), &inb) != 0 ||
	    ca_time_from_asn1(X509_get0_notAfter(issuer), &ina) != 0)
		return kr_fail(err, KR_E_PARSE, "a root's validity cannot be "
		    "read");
	end = sna < ina ? sna : ina;
	nb = now - (time_t)p->backdate;
	if (nb < inb)
		nb = inb;
	if (nb < snb)
		nb = snb;
	if (validity > 0) {
		na = nb + (time_t)validity;
		if (na > end) {
			fmt_time(na, t1);
			fmt_time(end, t2);
			return kr_fail(err, KR_E_POLICY, "lint: "
			    "validity-issuer: notAfter %s would be after %s "
			    "notAfter %s; a cross-certificate ends no later "
			    "than either root; choose fewer days", t1,
			    end == ina ? "the issuing root's" :
			    "the certified root's", t2);
		}
	} else
		na = end;
	if (na <= now || na <= nb) {
		fmt_time(end, t1);
		return kr_fail(err, KR_E_POLICY, "lint: validity-now: one of "
		    "the roots has expired (%s)", t1);
	}
	if ((long long)(na - nb) > p->max_validity) {
		fmt_duration((long long)(na - nb), d1);
		fmt_duration(p->max_validity, d2);
		return kr_fail(err, KR_E_POLICY, "lint: validity-max: a "
		    "validity of %s is longer than profile %s allows (%s); "
		    "give fewer days", d1, p->name, d2);
	}
	if (ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL)
		return kr_fail_ossl(err, KR_E_CRYPTO,
		    "cannot set the validity");
	return KR_OK;
}

/*
 * Build a cross-certificate TBS (see ca.h): the subject root's name,
 * key, SKI and name constraints, issued by issuer.  The subject must be
 * a self-signed CA whose signature verifies (it holds its key), under a
 * different key than the issuer's.
 */
enum kr_err
ca_cross_build(X509 *subject, X509 *issuer, const struct pol_profile *p,
    long long validity, time_t now, X509 **out, struct kr_error *err)
{
	X509 *x = NULL;
	NAME_CONSTRAINTS *inc = NULL, *snc = NULL;
	ASN1_OCTET_STRING *ski = NULL;
	EVP_PKEY *spub;
	int crit = 0, icrit = 0;
	enum kr_err rc;

	*out = NULL;
	if (p->kind != POL_KIND_INTERMEDIATE) {
		rc = kr_fail(err, KR_E_USAGE, "profile %s is not an "
		    "intermediate profile; use the cross profile", p->name);
		goto out;
	}
	if (subject == NULL || issuer == NULL) {
		rc = kr_fail(err, KR_E_USAGE, "a subject and an issuer are "
		    "required");
		goto out;
	}
	spub = X509_get0_pubkey(subject);
	if ((rc = key_check(spub, p, "the certified root's key", err)) !=
	    KR_OK)
		goto out;
	if (X509_check_ca(subject) != 1 ||
	    X509_check_issued(subject, subject) != X509_V_OK ||
	    X509_verify(subject, spub) != 1) {
		ERR_clear_error();
		rc = kr_fail(err, KR_E_USAGE, "the certificate to cross-sign "
		    "must be a self-signed root CA certificate whose "
		    "signature verifies");
		goto out;
	}
	if (EVP_PKEY_eq(spub, X509_get0_pubkey(issuer)) == 1) {
		rc = kr_fail(err, KR_E_USAGE, "the certificate to cross-sign "
		    "certifies the issuing root's own key");
		goto out;
	}
	ERR_clear_error();
	ski = X509_get_ext_d2i(subject, NID_subject_key_identifier, NULL,
	    NULL);
	if (ski == NULL || ASN1_STRING_length(ski) == 0) {
		rc = kr_fail(err, KR_E_POLICY, "lint: ski: the certified root "
		    "has no subjectKeyIdentifier to copy");
		goto out;
	}
	snc = X509_get_ext_d2i(subject, NID_name_constraints, &crit, NULL);
	inc = X509_get_ext_d2i(issuer, NID_name_constraints, &icrit, NULL);
	if ((snc == NULL && crit != -1) || (inc == NULL && icrit != -1)) {
		rc = kr_fail_ossl(err, KR_E_PARSE, "a root's name constraints "
		    "cannot be parsed");
		goto out;
	}
	ERR_clear_error();
	if ((rc = nc_inside(snc, inc, err)) != KR_OK)
		goto out;
	if ((x = X509_new()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (X509_set_subject_name(x, X509_get_subject_name(subject)) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(issuer)) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot set the names");
		goto out;
	}
	if ((rc = cert_key_serial(x, spub, err)) != KR_OK ||
	    (rc = cross_validity(x, subject, issuer, p, validity, now,
	    err)) != KR_OK ||
	    (rc = add_basic_constraints(x, 1, p->path_len, err)) != KR_OK ||
	    (rc = add_key_usage(x, p->key_usage, err)) != KR_OK ||
	    (rc = add_eku(x, p->ext_key_usage, err)) != KR_OK ||
	    (rc = add_ext(x, NID_subject_key_identifier, ski, 0, err)) !=
	    KR_OK ||
	    (rc = add_aki(x, issuer, err)) != KR_OK ||
	    (rc = add_name_constraints(x, snc, err)) != KR_OK)
		goto out;
	*out = x;
	x = NULL;
	rc = KR_OK;
out:
	X509_free(x);
	NAME_CONSTRAINTS_free(inc);
	NAME_CONSTRAINTS_free(snc);
	ASN1_OCTET_STRING_free(ski);
	return rc;
}

/* The SANs given on the command line (dns, ip) as GENERAL_NAMES. */
static enum kr_err
sans_from_args(const struct ca_leaf_req *r, GENERAL_NAMES **out,
    struct kr_error *err)
{
	GENERAL_NAMES *sans = NULL;
	GENERAL_NAME *gn = NULL;
	unsigned char ip[32];
	char dns[256];
	size_t i;
	int iplen;
	enum kr_err rc;

	*out = NULL;
	if ((sans = GENERAL_NAMES_new()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < r->ndns; i++) {
		if (dns_normalize(r->dns[i], 1, dns) != 0) {
			rc = kr_fail(err, KR_E_USAGE, "--dns %s: not a DNS "
			    "name", r->dns[i]);
			goto out;
		}
		if ((gn = gn_ia5(GEN_DNS, dns)) == NULL ||
		    sk_GENERAL_NAME_push(sans, gn) == 0) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		gn = NULL;
	}
	for (i = 0; i < r->nip; i++) {
		if ((rc = ip_parse(r->ip[i], 0, ip, &iplen, err)) != KR_OK) {
			kr_error_prefix(err, "--ip");
			goto out;
		}
		if ((gn = gn_ip(ip, iplen)) == NULL ||
		    sk_GENERAL_NAME_push(sans, gn) == 0) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		gn = NULL;
	}
	*out = sans;
	sans = NULL;
	rc = KR_OK;
out:
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(sans);
	return rc;
}

/*
 * Build a leaf TBS (see ca.h).  SANs given in r win over the CSR's; with
 * an empty subject the SAN extension is critical (RFC 5280 4.2.1.6).
 */
enum kr_err
ca_leaf_build(const struct ca_leaf_req *r, X509 *issuer,
    const struct pol_profile *p, time_t now, X509 **out,
    struct kr_error *err)
{
	X509 *x = NULL;
	X509_NAME *subj = NULL;
	GENERAL_NAMES *sans = NULL;
	const char *what;
	int empty;
	enum kr_err rc;

	*out = NULL;
	if (p->kind != POL_KIND_LEAF) {
		rc = kr_fail(err, KR_E_USAGE, "profile %s is not a leaf "
		    "profile", p->name);
		goto out;
	}
	if (issuer == NULL) {
		rc = kr_fail(err, KR_E_USAGE, "an issuer is required");
		goto out;
	}
	if (r->pub != NULL) {
		if ((rc = key_check(r->pub, p, "the key", err)) != KR_OK)
			goto out;
	} else if ((rc = csr_check(r->csr, p, err)) != KR_OK)
		goto out;
	if (r->csr == NULL && r->ndns == 0 && r->nip == 0) {
		rc = kr_fail(err, KR_E_USAGE, "without a CSR, the names must "
		    "be given");
		goto out;
	}
	if (r->crl_url != NULL && !url_ok(r->crl_url)) {
		rc = kr_fail(err, KR_E_USAGE, "CRL URL %s: not an http(s) "
		    "URL", r->crl_url);
		goto out;
	}
	if (r->issuer_url != NULL && !url_ok(r->issuer_url)) {
		rc = kr_fail(err, KR_E_USAGE, "issuer URL %s: not an http(s) "
		    "URL", r->issuer_url);
		goto out;
	}
	if (p->require_cdp && r->crl_url == NULL) {
		rc = kr_fail(err, KR_E_POLICY, "lint: cdp: profile %s "
		    "requires a CRL distribution point URL", p->name);
		goto out;
	}
	if (p->require_aia && r->issuer_url == NULL) {
		rc = kr_fail(err, KR_E_POLICY, "lint: aia: profile %s "
		    "requires an AIA caIssuers URL", p->name);
		goto out;
	}
	if (r->ndns > 0 || r->nip > 0) {
		what = "requested name";
		rc = sans_from_args(r, &sans, err);
	} else {
		what = "the CSR requests";
		rc = csr_sans(r->csr, &sans, err);
	}
	if (rc != KR_OK)
		goto out;
	if (p->require_san && sk_GENERAL_NAME_num(sans) <= 0) {
		rc = kr_fail(err, KR_E_POLICY, "lint: san-required: profile "
		    "%s requires a DNS name or IP address and neither the "
		    "request nor the CSR gives one", p->name);
		goto out;
	}
	if ((rc = sans_in_issuer(sans, issuer, what, err)) != KR_OK)
		goto out;
	if ((x = X509_new()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (r->cn != NULL) {
		if ((subj = X509_NAME_new()) == NULL ||
		    X509_NAME_add_entry_by_NID(subj, NID_commonName,
		    MBSTRING_UTF8, (const unsigned char *)r->cn, -1, -1,
		    0) != 1) {
			rc = kr_fail_ossl(err, KR_E_USAGE, "common name %s: "
			    "cannot be encoded (at most 64 characters)",
			    r->cn);
			goto out;
		}
	} else if ((subj = r->csr == NULL ? X509_NAME_new() :
	    X509_NAME_dup(X509_REQ_get_subject_name(r->csr))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	empty = X509_NAME_entry_count(subj) == 0;
	if (X509_set_subject_name(x, subj) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(issuer)) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot set the names");
		goto out;
	}
	if ((rc = cert_common(x, r->pub != NULL ? r->pub :
	    X509_REQ_get0_pubkey(r->csr), p, r->validity,
	    now, issuer, err)) != KR_OK ||
	    (rc = add_basic_constraints(x, 0, -1, err)) != KR_OK ||
	    (rc = add_key_usage(x, p->key_usage, err)) != KR_OK ||
	    (rc = add_eku(x, p->ext_key_usage, err)) != KR_OK ||
	    (rc = add_ski(x, err)) != KR_OK ||
	    (rc = add_aki(x, issuer, err)) != KR_OK)
		goto out;
	if (sk_GENERAL_NAME_num(sans) > 0 &&
	    (rc = add_ext(x, NID_subject_alt_name, sans, empty, err)) != KR_OK)
		goto out;
	if ((r->crl_url != NULL &&
	    (rc = add_cdp(x, r->crl_url, err)) != KR_OK) ||
	    (r->issuer_url != NULL &&
	    (rc = add_aia(x, r->issuer_url, err)) != KR_OK))
		goto out;
	*out = x;
	x = NULL;
	rc = KR_OK;
out:
	X509_free(x);
	X509_NAME_free(subj);
	GENERAL_NAMES_free(sans);
	return rc;
}

enum kr_err
ca_names_check(X509 *issuer, const char **dns, size_t ndns, const char **ip,
    size_t nip, struct kr_error *err)
{
	struct ca_leaf_req r;
	GENERAL_NAMES *sans = NULL;
	enum kr_err rc;

	memset(&r, 0, sizeof(r));
	r.dns = dns;
	r.ndns = ndns;
	r.ip = ip;
	r.nip = nip;
	if ((rc = sans_from_args(&r, &sans, err)) != KR_OK)
		return rc;
	rc = sans_in_issuer(sans, issuer, "name", err);
	GENERAL_NAMES_free(sans);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Leaves as DER, from a template                                      */
/* ------------------------------------------------------------------ */

/*
 * What every leaf of one profile under one issuer shares, encoded once:
 * the signature algorithm, the issuer's name, and the extensions that
 * do not depend on the request (in ca_leaf_build's order: BC, KU, EKU,
 * then SKI (per key), AKI, then SAN (per request), CDP, AIA).  The
 * fixed extensions are encoded by the same helpers ca_leaf_build uses,
 * on a scratch certificate.
 */
struct ca_leaf_tmpl {
	struct pol_profile	 p;
	X509			*issuer;
	NAME_CONSTRAINTS	*inc;		/* the issuer's, or NULL */
	time_t			 inb, ina;	/* the issuer's validity */
	struct kr_derbuf	 alg;		/* signature algorithm */
	struct kr_derbuf	 head;		/* BC, KU, EKU */
	struct kr_derbuf	 aki;
	struct kr_derbuf	 tail;		/* CDP, AIA */
	/*
	 * Checking signatures by signpub: its digest, and a verifying
	 * context set up once, copied (under vmu) for each certificate.
	 */
	EVP_PKEY		*vpub;
	const EVP_MD		*md;
	EVP_MD_CTX		*vtmpl;
	pthread_mutex_t		*vmu;
};

void
ca_leaf_tmpl_free(struct ca_leaf_tmpl *t)
{
	if (t == NULL)
		return;
	X509_free(t->issuer);
	NAME_CONSTRAINTS_free(t->inc);
	kr_derbuf_free(&t->alg);
	kr_derbuf_free(&t->head);
	kr_derbuf_free(&t->aki);
	kr_derbuf_free(&t->tail);
	EVP_MD_CTX_free(t->vtmpl);
	EVP_PKEY_free(t->vpub);
	if (t->vmu != NULL)
		pthread_mutex_destroy(t->vmu);
	free(t->vmu);
	free(t);
}

/* Extensions [from, to) of x, DER, appended to b. */
static enum kr_err
exts_der(X509 *x, int from, int to, struct kr_derbuf *b, struct kr_error *err)
{
	unsigned char *der = NULL;
	int i, n;

	for (i = from; i < to; i++) {
		if ((n = i2d_X509_EXTENSION(X509_get_ext(x, i), &der)) <= 0)
			return kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode "
			    "an extension");
		kr_derbuf_put(b, der, (size_t)n);
		OPENSSL_free(der);
		der = NULL;
	}
	return KR_OK;
}

enum kr_err
ca_leaf_tmpl_new(X509 *issuer, EVP_PKEY *signpub, const struct pol_profile *p,
    const char *crl_url, const char *issuer_url, struct ca_leaf_tmpl **out,
    struct kr_error *err)
{
	struct ca_leaf_tmpl *t = NULL;
	X509 *x = NULL;
	X509_ALGOR *alg = NULL;
	unsigned char *der = NULL;
	int sigid, crit = 0, n, nhead;
	enum kr_err rc;

	*out = NULL;
	if (p->kind != POL_KIND_LEAF)
		return kr_fail(err, KR_E_USAGE, "profile %s is not a leaf "
		    "profile", p->name);
	if (issuer == NULL || signpub == NULL)
		return kr_fail(err, KR_E_USAGE, "an issuer is required");
	if (crl_url != NULL && !url_ok(crl_url))
		return kr_fail(err, KR_E_USAGE, "CRL URL %s: not an http(s) "
		    "URL", crl_url);
	if (issuer_url != NULL && !url_ok(issuer_url))
		return kr_fail(err, KR_E_USAGE, "issuer URL %s: not an http(s) "
		    "URL", issuer_url);
	if (p->require_cdp && crl_url == NULL)
		return kr_fail(err, KR_E_POLICY, "lint: cdp: profile %s "
		    "requires a CRL distribution point URL", p->name);
	if (p->require_aia && issuer_url == NULL)
		return kr_fail(err, KR_E_POLICY, "lint: aia: profile %s "
		    "requires an AIA caIssuers URL", p->name);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	t->p = *p;
	X509_up_ref(issuer);
	t->issuer = issuer;
	if (ca_time_from_asn1(X509_get0_notBefore(issuer), &t->inb) != 0 ||
	    ca_time_from_asn1(X509_get0_notAfter(issuer), &t->ina) != 0) {
		rc = kr_fail(err, KR_E_PARSE, "the issuer's validity cannot "
		    "be read");
		goto out;
	}
	t->inc = X509_get_ext_d2i(issuer, NID_name_constraints, &crit, NULL);
	if (t->inc == NULL && crit != -1) {
		rc = kr_fail_ossl(err, KR_E_PARSE, "the issuer's name "
		    "constraints cannot be parsed");
		goto out;
	}
	/* The algorithm X509_sign writes for signpub's type and digest. */
	if (!EVP_PKEY_is_a(signpub, "EC") && !EVP_PKEY_is_a(signpub, "RSA")) {
		rc = kr_fail(err, KR_E_POLICY, "keyrite signs with EC and RSA "
		    "keys only");
		goto out;
	}
	t->md = ca_md_for_key(signpub);
	if (OBJ_find_sigid_by_algs(&sigid, EVP_MD_get_type(t->md),
	    EVP_PKEY_get_base_id(signpub)) != 1 ||
	    (alg = X509_ALGOR_new()) == NULL ||
	    X509_ALGOR_set0(alg, OBJ_nid2obj(sigid), EVP_PKEY_is_a(signpub,
	    "EC") ? V_ASN1_UNDEF : V_ASN1_NULL, NULL) != 1 ||
	    (n = i2d_X509_ALGOR(alg, &der)) <= 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode the "
		    "signature algorithm");
		goto out;
	}
	kr_derbuf_put(&t->alg, der, (size_t)n);
	if ((t->vmu = malloc(sizeof(*t->vmu))) == NULL ||
	    pthread_mutex_init(t->vmu, NULL) != 0) {
		free(t->vmu);
		t->vmu = NULL;
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_PKEY_up_ref(signpub) == 1)
		t->vpub = signpub;
	if (t->vpub == NULL || (t->vtmpl = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(t->vtmpl, NULL, t->md, NULL, signpub) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot set up checking "
		    "signatures with the signing key");
		goto out;
	}
	if ((x = X509_new()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = add_basic_constraints(x, 0, -1, err)) != KR_OK ||
	    (rc = add_key_usage(x, p->key_usage, err)) != KR_OK ||
	    (rc = add_eku(x, p->ext_key_usage, err)) != KR_OK)
		goto out;
	nhead = X509_get_ext_count(x);
	if ((rc = add_aki(x, issuer, err)) != KR_OK ||
	    (crl_url != NULL && (rc = add_cdp(x, crl_url, err)) != KR_OK) ||
	    (issuer_url != NULL &&
	    (rc = add_aia(x, issuer_url, err)) != KR_OK))
		goto out;
	if ((rc = exts_der(x, 0, nhead, &t->head, err)) != KR_OK ||
	    (rc = exts_der(x, nhead, nhead + 1, &t->aki, err)) != KR_OK ||
	    (rc = exts_der(x, nhead + 1, X509_get_ext_count(x), &t->tail,
	    err)) != KR_OK)
		goto out;
	if (t->alg.oom || t->head.oom || t->aki.oom || t->tail.oom) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	*out = t;
	t = NULL;
	rc = KR_OK;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	X509_ALGOR_free(alg);
	X509_free(x);
	ca_leaf_tmpl_free(t);
	return rc;
}

/* i2d of an OpenSSL object appended to b; -1 when it cannot be. */
#define I2D_PUT(b, fn, obj) do {					\
	unsigned char *d_ = NULL;					\
	int n_ = fn((obj), &d_);					\
									\
	if (n_ <= 0)							\
		goto enc;						\
	kr_derbuf_put((b), d_, (size_t)n_);				\
	OPENSSL_free(d_);						\
} while (0)

enum kr_err
ca_leaf_tbs(const struct ca_leaf_tmpl *t, const struct ca_leaf_der_req *r,
    time_t now, uint8_t **out, size_t *outlen, time_t *nbp, time_t *nap,
    struct kr_error *err)
{
	static const uint8_t version[] = { 0xa0, 0x03, 0x02, 0x01, 0x02 };
	static const uint8_t oid_ski[] = { 0x06, 0x03, 0x55, 0x1d, 0x0e };
	static const uint8_t oid_san[] = { 0x06, 0x03, 0x55, 0x1d, 0x11 };
	static const uint8_t critical[] = { 0x01, 0x01, 0xff };
	struct kr_derbuf b = { 0 };
	struct kr_der d, in;
	struct kr_der_el el, bits;
	struct ca_leaf_req lr;
	GENERAL_NAMES *sans = NULL;
	X509_NAME *subj = NULL;
	ASN1_TIME *tm = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const unsigned char *iname;
	size_t inamelen, at, os, ext;
	time_t nb, na;
	enum kr_err rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = key_check(r->pub, &t->p, "the key", err)) != KR_OK)
		return rc;
	if (r->ndns == 0 && r->nip == 0)
		return kr_fail(err, KR_E_USAGE, "without a CSR, the names must "
		    "be given");
	/* The SPKI: SEQUENCE { algorithm, BIT STRING }, every byte used. */
	d = kr_der_of(r->spki, r->spki_len);
	if (r->spki == NULL || kr_der_get(&d, 0x30, &el) != 0 || d.n != 0 ||
	    (in = kr_der_in(&el), kr_der_get(&in, 0x30, &el)) != 0 ||
	    kr_der_get(&in, 0x03, &bits) != 0 || in.n != 0 ||
	    bits.len < 2 || bits.val[0] != 0)
		return kr_fail(err, KR_E_PARSE, "the key's "
		    "SubjectPublicKeyInfo is malformed");
	memset(&lr, 0, sizeof(lr));
	lr.dns = r->dns;
	lr.ndns = r->ndns;
	lr.ip = r->ip;
	lr.nip = r->nip;
	if ((rc = sans_from_args(&lr, &sans, err)) != KR_OK)
		goto out;
	if (t->p.require_san && sk_GENERAL_NAME_num(sans) <= 0) {
		rc = kr_fail(err, KR_E_POLICY, "lint: san-required: profile "
		    "%s requires a DNS name or IP address and neither the "
		    "request nor the CSR gives one", t->p.name);
		goto out;
	}
	if ((rc = sans_check(sans, t->inc, t->issuer, "requested name",
	    err)) != KR_OK)
		goto out;
	if ((rc = validity_times(&t->p, r->validity, now, 1, t->inb, t->ina,
	    &nb, &na, err)) != KR_OK)
		goto out;
	if ((subj = X509_NAME_new()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (r->cn != NULL && X509_NAME_add_entry_by_NID(subj, NID_commonName,
	    MBSTRING_UTF8, (const unsigned char *)r->cn, -1, -1, 0) != 1) {
		rc = kr_fail_ossl(err, KR_E_USAGE, "common name %s: cannot be "
		    "encoded (at most 64 characters)", r->cn);
		goto out;
	}
	/* SKI, RFC 5280 4.2.1.2 method 1, as add_ski computes it. */
	if (EVP_Digest(bits.val + 1, bits.len - 1, md, &mdlen, EVP_sha1(),
	    NULL) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot compute the SKI");
		goto out;
	}

	kr_derbuf_put(&b, version, sizeof(version));
	I2D_PUT(&b, i2d_ASN1_INTEGER, r->serial);
	kr_derbuf_put(&b, t->alg.b, t->alg.len);
	if (X509_NAME_get0_der(X509_get_subject_name(t->issuer), &iname,
	    &inamelen) != 1)
		goto enc;
	kr_derbuf_put(&b, iname, inamelen);
	at = b.len;
	if ((tm = ASN1_TIME_set(NULL, nb)) == NULL)
		goto enc;
	I2D_PUT(&b, i2d_ASN1_TIME, tm);
	if (ASN1_TIME_set(tm, na) == NULL)
		goto enc;
	I2D_PUT(&b, i2d_ASN1_TIME, tm);
	kr_derbuf_wrap(&b, at, 0x30);
	I2D_PUT(&b, i2d_X509_NAME, subj);
	kr_derbuf_put(&b, r->spki, r->spki_len);
	ext = b.len;
	kr_derbuf_put(&b, t->head.b, t->head.len);
	at = b.len;
	kr_derbuf_put(&b, oid_ski, sizeof(oid_ski));
	os = b.len;
	kr_derbuf_tlv(&b, 0x04, md, mdlen);
	kr_derbuf_wrap(&b, os, 0x04);
	kr_derbuf_wrap(&b, at, 0x30);
	kr_derbuf_put(&b, t->aki.b, t->aki.len);
	if (sk_GENERAL_NAME_num(sans) > 0) {
		at = b.len;
		kr_derbuf_put(&b, oid_san, sizeof(oid_san));
		/* Critical when the subject is empty (RFC 5280 4.2.1.6). */
		if (r->cn == NULL)
			kr_derbuf_put(&b, critical, sizeof(critical));
		os = b.len;
		I2D_PUT(&b, i2d_GENERAL_NAMES, sans);
		kr_derbuf_wrap(&b, os, 0x04);
		kr_derbuf_wrap(&b, at, 0x30);
	}
	kr_derbuf_put(&b, t->tail.b, t->tail.len);
	kr_derbuf_wrap(&b, ext, 0x30);
	kr_derbuf_wrap(&b, ext, 0xa3);
	kr_derbuf_wrap(&b, 0, 0x30);
	if (b.oom) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	*out = b.b;
	*outlen = b.len;
	memset(&b, 0, sizeof(b));
	*nbp = nb;
	*nap = na;
	rc = KR_OK;
	goto out;
enc:
	rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode the TBS");
out:
	ERR_clear_error();
	kr_derbuf_free(&b);
	GENERAL_NAMES_free(sans);
	X509_NAME_free(subj);
	ASN1_TIME_free(tm);
	return rc;
}

/* ------------------------------------------------------------------ */
/* CRLs                                                                */
/* ------------------------------------------------------------------ */

static const char *const reason_names[] = {
	"unspecified",		/* 0 */
	"keyCompromise",	/* 1 */
	"cACompromise",		/* 2 */
	"affiliationChanged",	/* 3 */
	"superseded",		/* 4 */
	"cessationOfOperation",	/* 5 */
	"certificateHold",	/* 6 */
	NULL,			/* 7 is not used */
	"removeFromCRL",	/* 8 */
	"privilegeWithdrawn",	/* 9 */
	"aACompromise",		/* 10 */
};
#define NREASONS ((int)(sizeof(reason_names) / sizeof(reason_names[0])))

/*
 * RFC 5280 5.3.1 reason name (case-insensitive) to its code; "none" is
 * -1 (no reason code), anything else -2.
 */
int
ca_reason_from_name(const char *s)
{
	int i;

	if (s == NULL)
		return -2;
	if (strcasecmp(s, "none") == 0)
		return -1;
	for (i = 0; i < NREASONS; i++)
		if (reason_names[i] != NULL &&
		    strcasecmp(s, reason_names[i]) == 0)
			return i;
	return -2;
}

/* The RFC 5280 name of a reason code; "none" for -1, "unknown" else. */
const char *
ca_reason_name(int r)
{
	if (r == -1)
		return "none";
	if (r < 0 || r >= NREASONS || reason_names[r] == NULL)
		return "unknown";
	return reason_names[r];
}

int
ca_reason_leaf_ok(int reason)
{
	return reason >= 0 && reason < NREASONS &&
	    reason_names[reason] != NULL &&
	    reason != CRL_REASON_CA_COMPROMISE &&
	    reason != CRL_REASON_CERTIFICATE_HOLD &&
	    reason != CRL_REASON_REMOVE_FROM_CRL &&
	    reason != CRL_REASON_AA_COMPROMISE;
}

void
ca_revoked_free(struct ca_revoked *rv, size_t n)
{
	size_t i;

	if (rv == NULL)
		return;
	for (i = 0; i < n; i++)
		ASN1_INTEGER_free(rv[i].serial);
	free(rv);
}

static int
revoked_cmp(const X509_REVOKED *const *a, const X509_REVOKED *const *b)
{
	return ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(*a),
	    X509_REVOKED_get0_serialNumber(*b));
}

/* One CRL entry; reasons -1 and 0 (unspecified) get no extension. */
static enum kr_err
crl_entry(const struct ca_revoked *rv, X509_REVOKED **out,
    struct kr_error *err)
{
	X509_REVOKED *r = NULL;
	ASN1_TIME *t = NULL;
	ASN1_ENUMERATED *e = NULL;
	char *hex = NULL;
	enum kr_err rc;

	*out = NULL;
	if (rv->serial == NULL || ASN1_STRING_type(rv->serial) !=
	    V_ASN1_INTEGER || ASN1_STRING_length(rv->serial) == 0) {
		hex = ca_serial_hex(rv->serial);
		rc = kr_fail(err, KR_E_USAGE, "revoked serial %s is not a "
		    "positive integer", hex != NULL ? hex : "?");
		goto out;
	}
	if (rv->reason < -1 || rv->reason >= NREASONS ||
	    (rv->reason >= 0 && reason_names[rv->reason] == NULL)) {
		hex = ca_serial_hex(rv->serial);
		rc = kr_fail(err, KR_E_USAGE, "serial %s: %d is not a CRL "
		    "reason code", hex != NULL ? hex : "?", rv->reason);
		goto out;
	}
	if ((r = X509_REVOKED_new()) == NULL ||
	    (t = ASN1_TIME_set(NULL, rv->when)) == NULL ||
	    X509_REVOKED_set_serialNumber(r, rv->serial) != 1 ||
	    X509_REVOKED_set_revocationDate(r, t) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot build a CRL entry");
		goto out;
	}
	if (rv->reason > 0) {
		if ((e = ASN1_ENUMERATED_new()) == NULL ||
		    ASN1_ENUMERATED_set(e, rv->reason) != 1 ||
		    X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0,
		    0) != 1) {
			rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot add a "
			    "reason code");
			goto out;
		}
	}
	*out = r;
	r = NULL;
	rc = KR_OK;
out:
	free(hex);
	X509_REVOKED_free(r);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(e);
	return rc;
}

/*
 * Build a CRL TBS (see ca.h).  Entries are sorted by serial; a serial
 * listed twice is an error.
 */
enum kr_err
ca_crl_build(X509 *issuer, const struct ca_revoked *rev, size_t nrev,
    const ASN1_INTEGER *crl_number, long long next_update, time_t now,
    X509_CRL **out, struct kr_error *err)
{
	X509_CRL *crl = NULL;
	X509_REVOKED *r = NULL;
	STACK_OF(X509_REVOKED) *sk;
	AUTHORITY_KEYID *aki = NULL;
	ASN1_OCTET_STRING *ski = NULL;
	ASN1_TIME *t1 = NULL, *t2 = NULL;
	time_t next, ina;
	char tb[32], *hex = NULL;
	size_t i;
	int j;
	enum kr_err rc;

	*out = NULL;
	if (issuer == NULL || crl_number == NULL) {
		rc = kr_fail(err, KR_E_USAGE, "a CRL needs an issuer and a "
		    "CRL number");
		goto out;
	}
	if (next_update <= 0) {
		rc = kr_fail(err, KR_E_USAGE, "the next update must be in the "
		    "future");
		goto out;
	}
	if (ca_time_from_asn1(X509_get0_notAfter(issuer), &ina) != 0) {
		rc = kr_fail(err, KR_E_PARSE, "the issuer's notAfter cannot "
		    "be read");
		goto out;
	}
	next = now + (time_t)next_update;
	if (next > ina)
		next = ina;
	if (next <= now) {
		fmt_time(ina, tb);
		rc = kr_fail(err, KR_E_POLICY, "the issuer expired at %s; it "
		    "cannot publish a CRL", tb);
		goto out;
	}
	ski = X509_get_ext_d2i(issuer, NID_subject_key_identifier, NULL, NULL);
	ERR_clear_error();
	if (ski == NULL || ASN1_STRING_length(ski) == 0) {
		rc = kr_fail(err, KR_E_POLICY, "lint: aki: the issuer "
		    "certificate has no subjectKeyIdentifier");
		goto out;
	}
	if ((crl = X509_CRL_new()) == NULL ||
	    (aki = aki_new(ski)) == NULL ||
	    (t1 = ASN1_TIME_set(NULL, now)) == NULL ||
	    (t2 = ASN1_TIME_set(NULL, next)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) != 1 ||
	    X509_CRL_set1_lastUpdate(crl, t1) != 1 ||
	    X509_CRL_set1_nextUpdate(crl, t2) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot fill the CRL");
		goto out;
	}
	for (i = 0; i < nrev; i++) {
		if ((rc = crl_entry(&rev[i], &r, err)) != KR_OK)
			goto out;
		if (X509_CRL_add0_revoked(crl, r) != 1) {
			rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot add a CRL "
			    "entry");
			goto out;
		}
		r = NULL;
	}
	sk = X509_CRL_get_REVOKED(crl);
	if (sk != NULL) {
		(void)sk_X509_REVOKED_set_cmp_func(sk, revoked_cmp);
		sk_X509_REVOKED_sort(sk);
		for (j = 1; j < sk_X509_REVOKED_num(sk); j++) {
			const ASN1_INTEGER *a, *b;

			a = X509_REVOKED_get0_serialNumber(
			    sk_X509_REVOKED_value(sk, j - 1));
			b = X509_REVOKED_get0_serialNumber(
			    sk_X509_REVOKED_value(sk, j));
			if (ASN1_INTEGER_cmp(a, b) == 0) {
				hex = ca_serial_hex(b);
				rc = kr_fail(err, KR_E_USAGE, "serial %s is "
				    "listed twice", hex != NULL ? hex : "?");
				goto out;
			}
		}
	}
	if (X509_CRL_add1_ext_i2d(crl, NID_crl_number,
	    (void *)(uintptr_t)crl_number, 0, 0) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki, 0,
	    0) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot add the CRL "
		    "extensions");
		goto out;
	}
	*out = crl;
	crl = NULL;
	rc = KR_OK;
out:
	free(hex);
	X509_REVOKED_free(r);
	X509_CRL_free(crl);
	AUTHORITY_KEYID_free(aki);
	ASN1_OCTET_STRING_free(ski);
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Signing                                                             */
/* ------------------------------------------------------------------ */

/*
 * The outer SEQUENCE of a certificate or CRL, written by hand:
 *   30 len { tbs, alg, 03 len { 00, sig } }
 * tbs and alg are DER already; the BIT STRING has 0 unused bits.
 */
static enum kr_err
der_assemble(const unsigned char *tbs, size_t tbslen,
    const unsigned char *alg, size_t alglen, const unsigned char *sig,
    size_t siglen, unsigned char **out, size_t *outlen, struct kr_error *err)
{
	unsigned char *b, *p;
	size_t bitlen, body, total;

	*out = NULL;
	*outlen = 0;
	bitlen = siglen + 1;
	body = tbslen + alglen + 1 + ca_der_len(bitlen, NULL) + bitlen;
	total = 1 + ca_der_len(body, NULL) + body;
	if ((b = malloc(total)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	p = b;
	*p++ = 0x30;
	p += ca_der_len(body, p);
	memcpy(p, tbs, tbslen);
	p += tbslen;
	memcpy(p, alg, alglen);
	p += alglen;
	*p++ = 0x03;
	p += ca_der_len(bitlen, p);
	*p++ = 0x00;
	if (siglen > 0)
		memcpy(p, sig, siglen);
	*out = b;
	*outlen = total;
	return KR_OK;
}

/*
 * Have s sign tbs (DER) and assemble the signed object with algorithm
 * identifier alg (DER).
 */
static enum kr_err
sign_and_assemble(const struct ca_signer *s, const EVP_MD *md,
    const unsigned char *tbs, size_t tbslen, const X509_ALGOR *alg,
    unsigned char **der, size_t *derlen, struct kr_error *err)
{
	unsigned char *algder = NULL, *sig = NULL;
	size_t siglen = 0;
	int alglen;
	enum kr_err rc;

	if ((alglen = i2d_X509_ALGOR(alg, &algder)) <= 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode the "
		    "signature algorithm");
		goto out;
	}
	if ((rc = s->sign(s->arg, md, tbs, tbslen, &sig, &siglen, err)) !=
	    KR_OK)
		goto out;
	rc = der_assemble(tbs, tbslen, algder, (size_t)alglen, sig, siglen,
	    der, derlen, err);
out:
	OPENSSL_free(algder);
	free(sig);
	return rc;
}

/* The signer's key must be the one that should sign (see ca.h). */
static enum kr_err
signer_check(const struct ca_signer *s, EVP_PKEY *expect, const char *what,
    struct kr_error *err)
{
	if (s == NULL || s->pub == NULL || s->sign == NULL)
		return kr_fail(err, KR_E_INTERNAL, "no signer");
	if (expect == NULL || EVP_PKEY_eq(expect, s->pub) != 1) {
		ERR_clear_error();
		return kr_fail(err, KR_E_VERIFY, "the signing key is not %s",
		    what);
	}
	return KR_OK;
}

/* The same for a CRL TBS; the entries keep their order. */
static X509_CRL *
crl_copy(X509_CRL *tbs)
{
	STACK_OF(X509_REVOKED) *sk;
	X509_REVOKED *r;
	X509_CRL *c;
	int i;

	if ((c = X509_CRL_new()) == NULL)
		return NULL;
	if (X509_CRL_set_version(c, X509_CRL_get_version(tbs)) != 1 ||
	    X509_CRL_set_issuer_name(c, X509_CRL_get_issuer(tbs)) != 1 ||
	    X509_CRL_set1_lastUpdate(c, X509_CRL_get0_lastUpdate(tbs)) != 1 ||
	    (X509_CRL_get0_nextUpdate(tbs) != NULL &&
	    X509_CRL_set1_nextUpdate(c, X509_CRL_get0_nextUpdate(tbs)) != 1))
		goto fail;
	sk = X509_CRL_get_REVOKED(tbs);
	for (i = 0; i < sk_X509_REVOKED_num(sk); i++) {
		if ((r = X509_REVOKED_dup(sk_X509_REVOKED_value(sk, i))) ==
		    NULL)
			goto fail;
		if (X509_CRL_add0_revoked(c, r) != 1) {
			X509_REVOKED_free(r);
			goto fail;
		}
	}
	for (i = 0; i < X509_CRL_get_ext_count(tbs); i++)
		if (X509_CRL_add_ext(c, X509_CRL_get_ext(tbs, i), -1) != 1)
			goto fail;
	return c;
fail:
	X509_CRL_free(c);
	return NULL;
}

/*
 * Steps 1 and 2 of careful signing: tbs signed by a throwaway key of
 * signpub's type (which fixes the signature AlgorithmIdentifier in the
 * TBS), then linted.  *pre is tbs again (a new reference).
 */
static enum kr_err
presign_cert(X509 *tbs, EVP_PKEY *signpub, const struct pol_profile *p,
    X509 *issuer, time_t now, X509 **pre, struct kr_error *err)
{
	const ASN1_BIT_STRING *iuid = NULL, *suid = NULL;
	EVP_PKEY *tkey = NULL;
	enum kr_err rc;

	*pre = NULL;
	if ((rc = throwaway_key(signpub, &tkey, err)) != KR_OK)
		return rc;
	X509_get0_uids(tbs, &iuid, &suid);
	if (iuid != NULL || suid != NULL) {
		/* RFC 5280 4.1.2.8: conforming CAs do not make them. */
		EVP_PKEY_free(tkey);
		return kr_fail(err, KR_E_POLICY, "lint: unique-ids: the "
		    "certificate has unique identifiers");
	}
	/*
	 * Signed in place: a copy would cost a public key encoding, and
	 * the signature fields are all the throwaway signature changes
	 * (the real one is over the same TBS, with the same algorithm).
	 */
	*pre = tbs;
	if (X509_up_ref(tbs) != 1 ||
	    X509_sign(*pre, tkey, ca_md_for_key(signpub)) <= 0)
		rc = kr_fail_ossl(err, KR_E_CRYPTO,
		    "throwaway signature failed");
	else
		rc = pol_lint_cert(p, *pre, issuer, now, err);
	EVP_PKEY_free(tkey);
	if (rc != KR_OK) {
		X509_free(*pre);
		*pre = NULL;
	}
	return rc;
}

/* The same for a CRL. */
static enum kr_err
presign_crl(X509_CRL *tbs, EVP_PKEY *signpub, X509 *issuer, time_t now,
    X509_CRL **pre, struct kr_error *err)
{
	EVP_PKEY *tkey = NULL;
	enum kr_err rc;

	*pre = NULL;
	if ((rc = throwaway_key(signpub, &tkey, err)) != KR_OK)
		return rc;
	if ((*pre = crl_copy(tbs)) == NULL ||
	    X509_CRL_sign(*pre, tkey, ca_md_for_key(signpub)) <= 0)
		rc = kr_fail_ossl(err, KR_E_CRYPTO,
		    "throwaway signature failed");
	else
		rc = pol_lint_crl(*pre, issuer, now, err);
	EVP_PKEY_free(tkey);
	if (rc != KR_OK) {
		X509_CRL_free(*pre);
		*pre = NULL;
	}
	return rc;
}

enum kr_err
ca_precheck_cert(X509 *tbs, EVP_PKEY *issuer_pub, const struct pol_profile *p,
    X509 *issuer, time_t now, struct kr_error *err)
{
	X509 *pre = NULL;
	enum kr_err rc;

	if (issuer_pub == NULL)
		issuer_pub = X509_get0_pubkey(tbs);
	rc = presign_cert(tbs, issuer_pub, p, issuer, now, &pre, err);
	X509_free(pre);
	return rc;
}

enum kr_err
ca_precheck_crl(X509_CRL *tbs, EVP_PKEY *issuer_pub, X509 *issuer,
    time_t now, struct kr_error *err)
{
	X509_CRL *pre = NULL;
	enum kr_err rc;

	rc = presign_crl(tbs, issuer_pub, issuer, now, &pre, err);
	X509_CRL_free(pre);
	return rc;
}

/*
 * Sign tbs the careful way (see ca.h).  Steps: throwaway key of the
 * signer's type signs a copy, so the TBS gains its final signature
 * AlgorithmIdentifier; the linter passes it; s signs exactly those TBS
 * bytes; the certificate is assembled, parsed, its re-encoded TBS
 * compared with what was signed, its signature verified under s->pub;
 * the linter runs again on the final certificate.
 */
enum kr_err
ca_sign_cert(X509 *tbs, const struct ca_signer *s, const struct pol_profile *p,
    X509 *issuer, time_t now, X509 **out, struct kr_error *err)
{
	X509 *pre = NULL, *fin = NULL;
	const X509_ALGOR *alg = NULL;
	const EVP_MD *md;
	unsigned char *tder = NULL, *fder = NULL, *der = NULL;
	const unsigned char *cp;
	size_t derlen = 0;
	int tlen, flen;
	enum kr_err rc;

	*out = NULL;
	if (tbs == NULL || p == NULL) {
		rc = kr_fail(err, KR_E_INTERNAL, "nothing to sign");
		goto out;
	}
	if (issuer == NULL)
		rc = signer_check(s, X509_get0_pubkey(tbs), "the key this "
		    "self-signed certificate certifies", err);
	else
		rc = signer_check(s, X509_get0_pubkey(issuer), "the issuer's "
		    "key", err);
	if (rc != KR_OK)
		goto out;
	md = ca_md_for_key(s->pub);
	if ((rc = presign_cert(tbs, s->pub, p, issuer, now, &pre, err)) !=
	    KR_OK)
		goto out;
	if ((tlen = i2d_re_X509_tbs(pre, &tder)) <= 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode the TBS");
		goto out;
	}
	X509_get0_signature(NULL, &alg, pre);
	if ((rc = sign_and_assemble(s, md, tder, (size_t)tlen, alg, &der,
	    &derlen, err)) != KR_OK)
		goto out;
	cp = der;
	if (derlen > LONG_MAX ||
	    (fin = d2i_X509(NULL, &cp, (long)derlen)) == NULL ||
	    cp != der + derlen) {
		rc = kr_fail_ossl(err, KR_E_INTERNAL, "the assembled "
		    "certificate does not parse");
		goto out;
	}
	if ((flen = i2d_re_X509_tbs(fin, &fder)) != tlen ||
	    CRYPTO_memcmp(fder, tder, (size_t)tlen) != 0) {
		rc = kr_fail(err, KR_E_INTERNAL, "the TBS in the signed "
		    "certificate differs from the TBS that was signed");
		goto out;
	}
	if (X509_verify(fin, s->pub) != 1) {
		ERR_clear_error();
		rc = kr_fail(err, KR_E_VERIFY, "signature made by the token "
		    "does not verify under its public key");
		goto out;
	}
	if (issuer == NULL && EVP_PKEY_eq(X509_get0_pubkey(fin), s->pub) != 1) {
		ERR_clear_error();
		rc = kr_fail(err, KR_E_VERIFY, "the self-signed certificate "
		    "does not certify the signing key");
		goto out;
	}
	/* fin was parsed from the DER just assembled: lint it as it is. */
	if ((rc = pol_lint_cert_parsed(p, fin, issuer, now, err)) != KR_OK)
		goto out;
	*out = fin;
	fin = NULL;
	rc = KR_OK;
out:
	X509_free(pre);
	X509_free(fin);
	OPENSSL_free(tder);
	OPENSSL_free(fder);
	free(der);
	return rc;
}

enum kr_err
ca_leaf_sign(const struct ca_leaf_tmpl *t, const struct ca_signer *s,
    const uint8_t *tbs, size_t tbslen, uint8_t **der, size_t *derlen,
    struct kr_error *err)
{
	EVP_MD_CTX *mc = NULL;
	const EVP_MD *md;
	unsigned char *sig = NULL, *b = NULL;
	size_t siglen = 0, blen = 0;
	int ok;
	enum kr_err rc;

	*der = NULL;
	*derlen = 0;
	if ((rc = signer_check(s, X509_get0_pubkey(t->issuer), "the issuer's "
	    "key", err)) != KR_OK)
		return rc;
	md = s->pub == t->vpub ? t->md : ca_md_for_key(s->pub);
	if ((rc = s->sign(s->arg, md, tbs, tbslen, &sig, &siglen, err)) !=
	    KR_OK)
		goto out;
	/* The algorithm outside is the template's, as inside the TBS. */
	if ((rc = der_assemble(tbs, tbslen, t->alg.b, t->alg.len, sig, siglen,
	    &b, &blen, err)) != KR_OK)
		goto out;
	if ((mc = EVP_MD_CTX_new()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	/* The template when s signs with the template's key. */
	if (s->pub == t->vpub) {
		pthread_mutex_lock(t->vmu);
		ok = EVP_MD_CTX_copy_ex(mc, t->vtmpl);
		pthread_mutex_unlock(t->vmu);
	} else
		ok = EVP_DigestVerifyInit(mc, NULL, md, NULL, s->pub);
	if (ok != 1 || EVP_DigestVerify(mc, sig, siglen, tbs, tbslen) != 1) {
		ERR_clear_error();
		rc = kr_fail(err, KR_E_VERIFY, "signature made by the token "
		    "does not verify under its public key");
		goto out;
	}
	*der = b;
	*derlen = blen;
	b = NULL;
	rc = KR_OK;
out:
	EVP_MD_CTX_free(mc);
	free(sig);
	free(b);
	return rc;
}

/* As ca_sign_cert, for a CRL issued by issuer. */
enum kr_err
ca_sign_crl(X509_CRL *tbs, const struct ca_signer *s, X509 *issuer,
    time_t now, X509_CRL **out, struct kr_error *err)
{
	X509_CRL *pre = NULL, *fin = NULL;
	const X509_ALGOR *alg = NULL;
	const EVP_MD *md;
	unsigned char *tder = NULL, *fder = NULL, *der = NULL;
	const unsigned char *cp;
	size_t derlen = 0;
	int tlen, flen;
	enum kr_err rc;

	*out = NULL;
	if (tbs == NULL || issuer == NULL) {
		rc = kr_fail(err, KR_E_INTERNAL, "nothing to sign");
		goto out;
	}
	if ((rc = signer_check(s, X509_get0_pubkey(issuer), "the issuer's key",
	    err)) != KR_OK)
		goto out;
	md = ca_md_for_key(s->pub);
	if ((rc = presign_crl(tbs, s->pub, issuer, now, &pre, err)) != KR_OK)
		goto out;
	if ((tlen = i2d_re_X509_CRL_tbs(pre, &tder)) <= 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode the TBS");
		goto out;
	}
	X509_CRL_get0_signature(pre, NULL, &alg);
	if ((rc = sign_and_assemble(s, md, tder, (size_t)tlen, alg, &der,
	    &derlen, err)) != KR_OK)
		goto out;
	cp = der;
	if (derlen > LONG_MAX ||
	    (fin = d2i_X509_CRL(NULL, &cp, (long)derlen)) == NULL ||
	    cp != der + derlen) {
		rc = kr_fail_ossl(err, KR_E_INTERNAL, "the assembled CRL does "
		    "not parse");
		goto out;
	}
	if ((flen = i2d_re_X509_CRL_tbs(fin, &fder)) != tlen ||
	    CRYPTO_memcmp(fder, tder, (size_t)tlen) != 0) {
		rc = kr_fail(err, KR_E_INTERNAL, "the TBS in the signed CRL "
		    "differs from the TBS that was signed");
		goto out;
	}
	if (X509_CRL_verify(fin, s->pub) != 1) {
		ERR_clear_error();
		rc = kr_fail(err, KR_E_VERIFY, "signature made by the token "
		    "does not verify under its public key");
		goto out;
	}
	if ((rc = pol_lint_crl(fin, issuer, now, err)) != KR_OK)
		goto out;
	*out = fin;
	fin = NULL;
	rc = KR_OK;
out:
	X509_CRL_free(pre);
	X509_CRL_free(fin);
	OPENSSL_free(tder);
	OPENSSL_free(fder);
	free(der);
	return rc;
}

/*
 * A CSR for subject whose key is s's: signed by s (proof of possession),
 * with the same assemble-and-verify steps as certificates, so a key in a
 * token can make its own request.
 */
enum kr_err
ca_csr_make(const char *subject, const struct ca_signer *s, X509_REQ **out,
    struct kr_error *err)
{
	X509_REQ *req = NULL, *fin = NULL;
	X509_NAME *name = NULL;
	EVP_PKEY *tkey = NULL;
	const X509_ALGOR *alg = NULL;
	const EVP_MD *md;
	unsigned char *tder = NULL, *der = NULL;
	const unsigned char *cp;
	size_t derlen = 0;
	int tlen;
	enum kr_err rc;

	*out = NULL;
	if ((rc = ca_parse_subject(subject, &name, err)) != KR_OK)
		goto out;
	md = ca_md_for_key(s->pub);
	if ((rc = throwaway_key(s->pub, &tkey, err)) != KR_OK)
		goto out;
	if ((req = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, s->pub) != 1 ||
	    X509_REQ_sign(req, tkey, md) <= 0 ||
	    (tlen = i2d_re_X509_REQ_tbs(req, &tder)) <= 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot build the CSR");
		goto out;
	}
	X509_REQ_get0_signature(req, NULL, &alg);
	if ((rc = sign_and_assemble(s, md, tder, (size_t)tlen, alg, &der,
	    &derlen, err)) != KR_OK)
		goto out;
	cp = der;
	if (derlen > LONG_MAX ||
	    (fin = d2i_X509_REQ(NULL, &cp, (long)derlen)) == NULL ||
	    cp != der + derlen) {
		rc = kr_fail_ossl(err, KR_E_INTERNAL, "the assembled CSR does "
		    "not parse");
		goto out;
	}
	if (X509_REQ_verify(fin, s->pub) != 1) {
		ERR_clear_error();
		rc = kr_fail(err, KR_E_VERIFY, "the CSR signature made by the "
		    "token does not verify under its public key");
		goto out;
	}
	*out = fin;
	fin = NULL;
	rc = KR_OK;
out:
	X509_NAME_free(name);
	EVP_PKEY_free(tkey);
	X509_REQ_free(req);
	X509_REQ_free(fin);
	OPENSSL_free(tder);
	free(der);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

/* Never prompt for a PEM passphrase: certificates have none. */
static int
no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf;
	(void)size;
	(void)rw;
	(void)u;
	return -1;
}

/* PEM first, then DER (which must fill buf exactly). */
static void *
parse_obj(enum ca_obj k, const uint8_t *buf, size_t len)
{
	const unsigned char *p = buf;
	void *o = NULL;
	BIO *b;

	if (len == 0 || len > INT_MAX)
		return NULL;
	if ((b = BIO_new_mem_buf(buf, (int)len)) != NULL) {
		switch (k) {
		case CA_OBJ_CERT:
			o = PEM_read_bio_X509(b, NULL, no_passphrase, NULL);
			break;
		case CA_OBJ_CSR:
			o = PEM_read_bio_X509_REQ(b, NULL, no_passphrase, NULL);
			break;
		case CA_OBJ_CRL:
			o = PEM_read_bio_X509_CRL(b, NULL, no_passphrase, NULL);
			break;
		}
		BIO_free(b);
	}
	if (o == NULL) {
		switch (k) {
		case CA_OBJ_CERT:
			o = d2i_X509(NULL, &p, (long)len);
			if (o != NULL && p != buf + len) {
				X509_free(o);
				o = NULL;
			}
			break;
		case CA_OBJ_CSR:
			o = d2i_X509_REQ(NULL, &p, (long)len);
			if (o != NULL && p != buf + len) {
				X509_REQ_free(o);
				o = NULL;
			}
			break;
		case CA_OBJ_CRL:
			o = d2i_X509_CRL(NULL, &p, (long)len);
			if (o != NULL && p != buf + len) {
				X509_CRL_free(o);
				o = NULL;
			}
			break;
		}
	}
	ERR_clear_error();
	return o;
}

static enum kr_err
load_obj(const char *path, enum ca_obj k, void **out, struct kr_error *err)
{
	static const char *const what[] = {
		[CA_OBJ_CERT] = "certificate",
		[CA_OBJ_CSR] = "certificate signing request",
		[CA_OBJ_CRL] = "CRL",
	};
	uint8_t *buf = NULL;
	size_t len = 0;
	enum kr_err rc;

	*out = NULL;
	if ((rc = kr_file_read(path, CA_MAX_INPUT, &buf, &len, err)) != KR_OK)
		goto out;
	if ((*out = parse_obj(k, buf, len)) == NULL) {
		rc = kr_fail(err, KR_E_PARSE, "%s: not a PEM or DER %s", path,
		    what[k]);
		goto out;
	}
	rc = KR_OK;
out:
	free(buf);
	return rc;
}

/* Read a certificate (PEM, else DER) from path. */
enum kr_err
ca_load_cert(const char *path, X509 **out, struct kr_error *err)
{
	void *o;
	enum kr_err rc;

	rc = load_obj(path, CA_OBJ_CERT, &o, err);
	*out = o;
	return rc;
}

/* Read a CSR (PEM, else DER) from path. */
enum kr_err
ca_load_csr(const char *path, X509_REQ **out, struct kr_error *err)
{
	void *o;
	enum kr_err rc;

	rc = load_obj(path, CA_OBJ_CSR, &o, err);
	*out = o;
	return rc;
}

/* Read a CRL (PEM, else DER) from path. */
enum kr_err
ca_load_crl(const char *path, X509_CRL **out, struct kr_error *err)
{
	void *o;
	enum kr_err rc;

	rc = load_obj(path, CA_OBJ_CRL, &o, err);
	*out = o;
	return rc;
}

static enum kr_err
write_obj(const char *path, enum ca_obj k, void *o, int force,
    struct kr_error *err)
{
	BIO *b;
	char *data;
	long n;
	int ok = 0;
	enum kr_err rc;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	switch (k) {
	case CA_OBJ_CERT:
		ok = PEM_write_bio_X509(b, o);
		break;
	case CA_OBJ_CSR:
		ok = PEM_write_bio_X509_REQ(b, o);
		break;
	case CA_OBJ_CRL:
		ok = PEM_write_bio_X509_CRL(b, o);
		break;
	}
	if (ok != 1 || (n = BIO_get_mem_data(b, &data)) <= 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "%s: cannot encode", path);
		goto out;
	}
	rc = kr_file_write(path, data, (size_t)n, 0644, force, err);
out:
	BIO_free(b);
	return rc;
}

/*
 * Write a certificate as PEM to path atomically (mode 0644); an existing
 * file is replaced only with force.
 */
enum kr_err
ca_write_cert(const char *path, X509 *x, int force, struct kr_error *err)
{
	return write_obj(path, CA_OBJ_CERT, x, force, err);
}

/* Write a CRL as PEM, as ca_write_cert. */
enum kr_err
ca_write_csr(const char *path, X509_REQ *req, int force, struct kr_error *err)
{
	return write_obj(path, CA_OBJ_CSR, req, force, err);
}

enum kr_err
ca_write_crl(const char *path, X509_CRL *crl, int force, struct kr_error *err)
{
	return write_obj(path, CA_OBJ_CRL, crl, force, err);
}

/* SHA-256 of the DER, grouped hex; empty on failure. */
void
ca_cert_fingerprint(X509 *x, char out[KR_FPR_LEN])
{
	unsigned char *der = NULL;
	int n;

	out[0] = '\0';
	if (x == NULL || (n = i2d_X509(x, &der)) <= 0)
		return;
	kr_fingerprint(der, (size_t)n, out);
	OPENSSL_free(der);
}

