/*
 * inspect.c: "keyrite inspect".  Every object found is first described
 * as a JSON value (jansson); the text report is rendered from that same
 * value, so --json and the readable form never disagree.  The input is
 * outside input: every string taken from it is escaped before it is
 * stored (control characters and invalid UTF-8 never reach the
 * terminal), and nothing here trusts a length it did not check.
 */
#include <string.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../common/file.h"
#include "ca.h"
#include "inspect.h"

#define INSPECT_MAX_INPUT	(4 * 1024 * 1024)
#define INSPECT_MAX_HEX		512	/* octets of an unknown value shown */

/* ------------------------------------------------------------------ */
/* Safe strings                                                        */
/* ------------------------------------------------------------------ */

/* Is s[0..len) well-formed UTF-8 without overlongs or surrogates? */
static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	unsigned c;

	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		if (c == 0xe0 && s[i + 1] < 0xa0)
			return 0;
		if (c == 0xed && s[i + 1] >= 0xa0)
			return 0;
		if (c == 0xf0 && s[i + 1] < 0x90)
			return 0;
		if (c == 0xf4 && s[i + 1] >= 0x90)
			return 0;
		i += n + 1;
	}
	return 1;
}

/*
 * A JSON string from len bytes of untrusted data: control characters,
 * DEL, backslash and (when not valid UTF-8) every non-ASCII byte are
 * written \xNN.  Multi-line text (newline + indentation, as OpenSSL's
 * extension printers make) becomes "; ".
 */
static json_t *
jsafe(const void *data, size_t len)
{
	const unsigned char *s = data;
	json_t *j;
	char *b;
	size_t i, n = 0;
	int utf8;

	if (s == NULL)
		return json_string("");
	utf8 = utf8_valid(s, len);
	if ((b = malloc(len * 4 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '\n') {
			while (n > 0 && b[n - 1] == ' ')
				n--;
			while (i + 1 < len && s[i + 1] == ' ')
				i++;
			if (n > 0 && i + 1 < len) {
				b[n++] = ';';
				b[n++] = ' ';
			}
			continue;
		}
		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\' ||
		    (s[i] >= 0x80 && !utf8))
			n += (size_t)snprintf(b + n, 5, "\\x%02x", s[i]);
		else
			b[n++] = (char)s[i];
	}
	while (n > 0 && b[n - 1] == ' ')
		n--;
	j = json_stringn(b, n);
	free(b);
	return j;
}

static json_t *
jstr(const char *s)
{
	return jsafe(s, s != NULL ? strlen(s) : 0);
}

/* Upper-case colon-separated hex, at most INSPECT_MAX_HEX octets. */
static json_t *
jhex(const unsigned char *d, size_t len)
{
	json_t *j;
	char *b;
	size_t i, n = 0, m = len > INSPECT_MAX_HEX ? INSPECT_MAX_HEX : len;

	if ((b = malloc(m * 3 + 8)) == NULL)
		return NULL;
	b[0] = '\0';
	for (i = 0; i < m; i++)
		n += (size_t)snprintf(b + n, 4, "%s%02X", i > 0 ? ":" : "",
		    d[i]);
	if (m < len)
		snprintf(b + n, 5, "...");
	j = json_string(b);
	free(b);
	return j;
}

/* The contents of a memory BIO as a safe JSON string. */
static json_t *
jbio(BIO *b)
{
	char *data;
	long n;

	n = BIO_get_mem_data(b, &data);
	return jsafe(data, n > 0 ? (size_t)n : 0);
}

/*
 * A name in its encoded order ("CN=Example Lab Root,O=Example"), as
 * ca_parse_subject reads it.  Non-ASCII is shown as UTF-8 when the name
 * converts to valid UTF-8, else escaped.
 */
static json_t *
jname(const X509_NAME *name)
{
	unsigned long fl = XN_FLAG_SEP_COMMA_PLUS | XN_FLAG_FN_SN |
	    (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	json_t *j = NULL;
	char *data;
	long n;
	BIO *b;

	if (name == NULL)
		return json_string("");
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, name, 0, fl) >= 0) {
		n = BIO_get_mem_data(b, &data);
		if (n >= 0 && utf8_valid((unsigned char *)data, (size_t)n))
			j = jsafe(data, (size_t)n);
	}
	if (j == NULL) {
		(void)BIO_reset(b);
		if (X509_NAME_print_ex(b, name, 0, fl | ASN1_STRFLGS_ESC_MSB) >=
		    0)
			j = jbio(b);
	}
	BIO_free(b);
	ERR_clear_error();
	return j != NULL ? j : json_string("(unreadable name)");
}

/* An OID's short name, else its dotted form. */
static json_t *
jobj(const ASN1_OBJECT *o)
{
	char buf[128];
	int nid;

	if (o == NULL)
		return json_string("?");
	nid = OBJ_obj2nid(o);
	if (nid != NID_undef && OBJ_nid2sn(nid) != NULL)
		return json_string(OBJ_nid2sn(nid));
	if (OBJ_obj2txt(buf, sizeof(buf), o, 1) <= 0)
		return json_string("?");
	return jstr(buf);
}

/* An INTEGER in decimal (any size). */
static json_t *
jint_dec(const ASN1_INTEGER *ai)
{
	BIGNUM *bn;
	char *s;
	json_t *j = NULL;

	if (ai == NULL || (bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL)
		return json_string("?");
	if ((s = BN_bn2dec(bn)) != NULL) {
		j = json_string(s);
		OPENSSL_free(s);
	}
	BN_free(bn);
	return j;
}

static json_t *
jserial(const ASN1_INTEGER *ai)
{
	char *h;
	json_t *j;

	if ((h = ca_serial_hex(ai)) == NULL)
		return json_string("?");
	j = json_string(h);
	free(h);
	return j;
}

static json_t *
jtime(const ASN1_TIME *t, time_t *out)
{
	char buf[32];
	struct tm tm;
	time_t v;

	if (ca_time_from_asn1(t, &v) != 0 || gmtime_r(&v, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_string("invalid");
	if (out != NULL)
		*out = v;
	return json_string(buf);
}

static json_t *
jgn(const GENERAL_NAME *gn)
{
	char buf[1024];

	ca_general_name_text(gn, buf, sizeof(buf));
	return jstr(buf);
}

static json_t *
jgns(const GENERAL_NAMES *gns)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < sk_GENERAL_NAME_num(gns); i++)
		json_array_append_new(a, jgn(sk_GENERAL_NAME_value(gns, i)));
	return a;
}

/* ------------------------------------------------------------------ */
/* Extensions                                                          */
/* ------------------------------------------------------------------ */

static const char *const ku_names[] = {
	"digitalSignature", "nonRepudiation", "keyEncipherment",
	"dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign",
	"encipherOnly", "decipherOnly",
};

static json_t *
jsubtrees(const STACK_OF(GENERAL_SUBTREE) *sk)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < sk_GENERAL_SUBTREE_num(sk); i++)
		json_array_append_new(a,
		    jgn(sk_GENERAL_SUBTREE_value(sk, i)->base));
	return a;
}

/* Decode a known extension into o; -1 when it does not decode. */
static int
ext_decode(X509_EXTENSION *ex, int nid, json_t *o)
{
	void *v;
	json_t *a;
	int i, j;

	if ((v = X509V3_EXT_d2i(ex)) == NULL)
		return -1;
	switch (nid) {
	case NID_basic_constraints: {
		BASIC_CONSTRAINTS *bc = v;

		json_object_set_new(o, "ca", json_boolean(bc->ca != 0));
		if (bc->pathlen != NULL)
			json_object_set_new(o, "path_len",
			    jint_dec(bc->pathlen));
		BASIC_CONSTRAINTS_free(bc);
		break;
	}
	case NID_key_usage: {
		ASN1_BIT_STRING *bs = v;

		a = json_array();
		for (i = 0; i < 9; i++)
			if (ASN1_BIT_STRING_get_bit(bs, i))
				json_array_append_new(a,
				    json_string(ku_names[i]));
		json_object_set_new(o, "usages", a);
		ASN1_BIT_STRING_free(bs);
		break;
	}
	case NID_ext_key_usage: {
		EXTENDED_KEY_USAGE *eku = v;

		a = json_array();
		for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
			json_array_append_new(a,
			    jobj(sk_ASN1_OBJECT_value(eku, i)));
		json_object_set_new(o, "purposes", a);
		sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
		break;
	}
	case NID_subject_key_identifier: {
		ASN1_OCTET_STRING *os = v;

		json_object_set_new(o, "key_id", jhex(ASN1_STRING_get0_data(os),
		    (size_t)ASN1_STRING_length(os)));
		ASN1_OCTET_STRING_free(os);
		break;
	}
	case NID_authority_key_identifier: {
		AUTHORITY_KEYID *aki = v;

		if (aki->keyid != NULL)
			json_object_set_new(o, "key_id",
			    jhex(ASN1_STRING_get0_data(aki->keyid),
			    (size_t)ASN1_STRING_length(aki->keyid)));
		if (aki->issuer != NULL)
			json_object_set_new(o, "issuer", jgns(aki->issuer));
		if (aki->serial != NULL)
			json_object_set_new(o, "serial", jserial(aki->serial));
		AUTHORITY_KEYID_free(aki);
		break;
	}
	case NID_subject_alt_name:
	case NID_issuer_alt_name:
		json_object_set_new(o, "names", jgns(v));
		GENERAL_NAMES_free(v);
		break;
	case NID_name_constraints: {
		NAME_CONSTRAINTS *nc = v;

		json_object_set_new(o, "permitted",
		    jsubtrees(nc->permittedSubtrees));
		json_object_set_new(o, "excluded",
		    jsubtrees(nc->excludedSubtrees));
		NAME_CONSTRAINTS_free(nc);
		break;
	}
	case NID_crl_distribution_points: {
		CRL_DIST_POINTS *cdp = v;
		DIST_POINT *dp;

		a = json_array();
		for (i = 0; i < sk_DIST_POINT_num(cdp); i++) {
			dp = sk_DIST_POINT_value(cdp, i);
			if (dp->distpoint != NULL &&
			    dp->distpoint->type == 0) {
				GENERAL_NAMES *fn =
				    dp->distpoint->name.fullname;

				for (j = 0; j < sk_GENERAL_NAME_num(fn); j++)
					json_array_append_new(a,
					    jgn(sk_GENERAL_NAME_value(fn, j)));
			} else if (dp->distpoint != NULL)
				json_array_append_new(a,
				    json_string("(relative name)"));
			if (dp->CRLissuer != NULL)
				json_array_append_new(a,
				    json_string("(with CRL issuer)"));
		}
		json_object_set_new(o, "points", a);
		sk_DIST_POINT_pop_free(cdp, DIST_POINT_free);
		break;
	}
	case NID_info_access: {
		AUTHORITY_INFO_ACCESS *aia = v;
		ACCESS_DESCRIPTION *ad;
		json_t *e;

		a = json_array();
		for (i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
			ad = sk_ACCESS_DESCRIPTION_value(aia, i);
			e = json_object();
			json_object_set_new(e, "method", jobj(ad->method));
			json_object_set_new(e, "location", jgn(ad->location));
			json_array_append_new(a, e);
		}
		json_object_set_new(o, "access", a);
		sk_ACCESS_DESCRIPTION_pop_free(aia, ACCESS_DESCRIPTION_free);
		break;
	}
	case NID_crl_number:
	case NID_delta_crl:
		json_object_set_new(o, "number", jint_dec(v));
		ASN1_INTEGER_free(v);
		break;
	case NID_crl_reason:
		json_object_set_new(o, "reason",
		    json_string(ca_reason_name((int)ASN1_ENUMERATED_get(v))));
		ASN1_ENUMERATED_free(v);
		break;
	default:
		/* Not reached: ext_json only decodes the NIDs above. */
		break;
	}
	return 0;
}

static int
ext_known(int nid)
{
	switch (nid) {
	case NID_basic_constraints:
	case NID_key_usage:
	case NID_ext_key_usage:
	case NID_subject_key_identifier:
	case NID_authority_key_identifier:
	case NID_subject_alt_name:
	case NID_issuer_alt_name:
	case NID_name_constraints:
	case NID_crl_distribution_points:
	case NID_info_access:
	case NID_crl_number:
	case NID_delta_crl:
	case NID_crl_reason:
		return 1;
	default:
		return 0;
	}
}

/* One extension: name, OID, criticality and its decoded value. */
static json_t *
ext_json(X509_EXTENSION *ex)
{
	const ASN1_OCTET_STRING *data;
	json_t *o;
	char oid[128];
	BIO *b;
	int nid;

	if ((o = json_object()) == NULL)
		return NULL;
	nid = OBJ_obj2nid(X509_EXTENSION_get_object(ex));
	json_object_set_new(o, "name", jobj(X509_EXTENSION_get_object(ex)));
	if (OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ex), 1) > 0)
		json_object_set_new(o, "oid", jstr(oid));
	json_object_set_new(o, "critical",
	    json_boolean(X509_EXTENSION_get_critical(ex) > 0));
	data = X509_EXTENSION_get_data(ex);
	if (ext_known(nid)) {
		if (ext_decode(ex, nid, o) == 0)
			goto out;
		json_object_set_new(o, "error", json_string("does not decode"));
	} else if (X509V3_EXT_get(ex) != NULL &&
	    (b = BIO_new(BIO_s_mem())) != NULL) {
		if (X509V3_EXT_print(b, ex, 0, 0) == 1) {
			json_object_set_new(o, "value", jbio(b));
			BIO_free(b);
			goto out;
		}
		BIO_free(b);
	}
	json_object_set_new(o, "value_hex", jhex(ASN1_STRING_get0_data(data),
	    (size_t)ASN1_STRING_length(data)));
out:
	ERR_clear_error();
	return o;
}

static json_t *
exts_json(const STACK_OF(X509_EXTENSION) *exts)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++)
		json_array_append_new(a,
		    ext_json(sk_X509_EXTENSION_value(exts, i)));
	return a;
}

/* ------------------------------------------------------------------ */
/* Keys and digests                                                    */
/* ------------------------------------------------------------------ */

static json_t *
pubkey_json(EVP_PKEY *pk, X509_PUBKEY *xpk)
{
	ASN1_OBJECT *alg = NULL;
	json_t *o = json_object();
	char group[64];
	size_t n = 0;
	const char *curve;

	if (pk == NULL) {
		ERR_clear_error();
		if (xpk != NULL &&
		    X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, xpk) == 1)
			json_object_set_new(o, "type", jobj(alg));
		json_object_set_new(o, "error", json_string("unsupported or "
		    "malformed key"));
		return o;
	}
	if (EVP_PKEY_is_a(pk, "EC")) {
		json_object_set_new(o, "type", json_string("EC"));
		if (EVP_PKEY_get_group_name(pk, group, sizeof(group),
		    &n) == 1) {
			curve = strcmp(group, SN_secp384r1) == 0 ? "P-384" :
			    strcmp(group, SN_X9_62_prime256v1) == 0 ? "P-256" :
			    strcmp(group, SN_secp521r1) == 0 ? "P-521" : group;
			json_object_set_new(o, "curve", jstr(curve));
		}
	} else if (EVP_PKEY_is_a(pk, "RSA"))
		json_object_set_new(o, "type", json_string("RSA"));
	else
		json_object_set_new(o, "type",
		    jstr(EVP_PKEY_get0_type_name(pk) != NULL ?
		    EVP_PKEY_get0_type_name(pk) : "unknown"));
	json_object_set_new(o, "bits", json_integer(EVP_PKEY_get_bits(pk)));
	ERR_clear_error();
	return o;
}

/* SPKI SHA-256 pin, base64 (as HPKP and curl --pinnedpubkey use). */
static json_t *
spki_pin(X509_PUBKEY *xpk)
{
	unsigned char *der = NULL, md[32], b64[64];
	unsigned int mdlen = 0;
	int n;

	if (xpk == NULL || (n = i2d_X509_PUBKEY(xpk, &der)) <= 0)
		return json_string("?");
	if (EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1) {
		OPENSSL_free(der);
		return json_string("?");
	}
	OPENSSL_free(der);
	EVP_EncodeBlock(b64, md, (int)mdlen);
	return json_string((char *)b64);
}

static json_t *
fpr_json(const unsigned char *der, int len)
{
	char fpr[KR_FPR_LEN];

	if (der == NULL || len <= 0)
		return json_string("?");
	kr_fingerprint(der, (size_t)len, fpr);
	return json_string(fpr);
}

static json_t *
sigalg_json(const X509_ALGOR *alg)
{
	const ASN1_OBJECT *o = NULL;

	if (alg == NULL)
		return json_string("?");
	X509_ALGOR_get0(&o, NULL, NULL, alg);
	return jobj(o);
}

/* ------------------------------------------------------------------ */
/* Objects                                                             */
/* ------------------------------------------------------------------ */

static json_t *
cert_json(X509 *x, const char *fmt)
{
	const X509_ALGOR *alg = NULL;
	unsigned char *der = NULL;
	json_t *o = json_object();
	time_t nb = 0, na = 0, now = kr_now();
	int nbok, naok, n, ss;

	json_object_set_new(o, "type", json_string("certificate"));
	json_object_set_new(o, "format", json_string(fmt));
	json_object_set_new(o, "version",
	    json_integer(X509_get_version(x) + 1));
	json_object_set_new(o, "subject", jname(X509_get_subject_name(x)));
	json_object_set_new(o, "issuer", jname(X509_get_issuer_name(x)));
	json_object_set_new(o, "serial", jserial(X509_get0_serialNumber(x)));
	nbok = ca_time_from_asn1(X509_get0_notBefore(x), &nb) == 0;
	naok = ca_time_from_asn1(X509_get0_notAfter(x), &na) == 0;
	json_object_set_new(o, "not_before",
	    jtime(X509_get0_notBefore(x), NULL));
	json_object_set_new(o, "not_after", jtime(X509_get0_notAfter(x), NULL));
	json_object_set_new(o, "validity", json_string(!nbok || !naok ?
	    "unreadable" : now < nb ? "not yet valid" : now >= na ? "expired" :
	    "valid"));
	json_object_set_new(o, "public_key",
	    pubkey_json(X509_get0_pubkey(x), X509_get_X509_PUBKEY(x)));
	X509_get0_signature(NULL, &alg, x);
	json_object_set_new(o, "signature_algorithm", sigalg_json(alg));
	ss = X509_self_signed(x, 0) == 1;
	json_object_set_new(o, "self_signed", json_boolean(ss));
	if (ss)
		json_object_set_new(o, "self_signature_valid",
		    json_boolean(X509_self_signed(x, 1) == 1));
	ERR_clear_error();
	n = i2d_X509(x, &der);
	json_object_set_new(o, "sha256_fingerprint", fpr_json(der, n));
	OPENSSL_free(der);
	json_object_set_new(o, "spki_sha256",
	    spki_pin(X509_get_X509_PUBKEY(x)));
	json_object_set_new(o, "extensions",
	    exts_json(X509_get0_extensions(x)));
	return o;
}

static json_t *
csr_json(X509_REQ *req, const char *fmt)
{
	STACK_OF(X509_EXTENSION) *exts;
	const X509_ALGOR *alg = NULL;
	unsigned char *der = NULL;
	EVP_PKEY *pk;
	json_t *o = json_object();
	int n, ok = 0;

	json_object_set_new(o, "type", json_string("csr"));
	json_object_set_new(o, "format", json_string(fmt));
	json_object_set_new(o, "version",
	    json_integer(X509_REQ_get_version(req) + 1));
	json_object_set_new(o, "subject",
	    jname(X509_REQ_get_subject_name(req)));
	pk = X509_REQ_get0_pubkey(req);
	json_object_set_new(o, "public_key",
	    pubkey_json(pk, X509_REQ_get_X509_PUBKEY(req)));
	X509_REQ_get0_signature(req, NULL, &alg);
	json_object_set_new(o, "signature_algorithm", sigalg_json(alg));
	if (pk != NULL)
		ok = X509_REQ_verify(req, pk) == 1;
	ERR_clear_error();
	json_object_set_new(o, "signature_valid", json_boolean(ok));
	n = i2d_X509_REQ(req, &der);
	json_object_set_new(o, "sha256_fingerprint", fpr_json(der, n));
	OPENSSL_free(der);
	json_object_set_new(o, "spki_sha256",
	    spki_pin(X509_REQ_get_X509_PUBKEY(req)));
	exts = X509_REQ_get_extensions(req);
	ERR_clear_error();
	json_object_set_new(o, "requested_extensions", exts_json(exts));
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return o;
}

static json_t *
crl_json(X509_CRL *crl, const char *fmt)
{
	STACK_OF(X509_REVOKED) *revs;
	const X509_ALGOR *alg = NULL;
	ASN1_INTEGER *num;
	ASN1_ENUMERATED *reason;
	X509_REVOKED *r;
	unsigned char *der = NULL;
	json_t *o = json_object(), *a, *e;
	time_t tu = 0, nu = 0, now = kr_now();
	int i, n, crit = 0, tuok, nuok;

	json_object_set_new(o, "type", json_string("crl"));
	json_object_set_new(o, "format", json_string(fmt));
	json_object_set_new(o, "version",
	    json_integer(X509_CRL_get_version(crl) + 1));
	json_object_set_new(o, "issuer", jname(X509_CRL_get_issuer(crl)));
	tuok = ca_time_from_asn1(X509_CRL_get0_lastUpdate(crl), &tu) == 0;
	json_object_set_new(o, "this_update",
	    jtime(X509_CRL_get0_lastUpdate(crl), NULL));
	if (X509_CRL_get0_nextUpdate(crl) != NULL) {
		nuok = ca_time_from_asn1(X509_CRL_get0_nextUpdate(crl), &nu) ==
		    0;
		json_object_set_new(o, "next_update",
		    jtime(X509_CRL_get0_nextUpdate(crl), NULL));
		json_object_set_new(o, "status", json_string(!tuok || !nuok ?
		    "unreadable" : now < tu ? "not yet valid" : now >= nu ?
		    "expired" : "current"));
	} else
		json_object_set_new(o, "next_update", json_string("none"));
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	json_object_set_new(o, "crl_number", num != NULL ? jint_dec(num) :
	    json_string(crit == -1 ? "none" : "malformed"));
	ASN1_INTEGER_free(num);
	X509_CRL_get0_signature(crl, NULL, &alg);
	json_object_set_new(o, "signature_algorithm", sigalg_json(alg));
	n = i2d_X509_CRL(crl, &der);
	json_object_set_new(o, "sha256_fingerprint", fpr_json(der, n));
	OPENSSL_free(der);
	json_object_set_new(o, "extensions",
	    exts_json(X509_CRL_get0_extensions(crl)));
	revs = X509_CRL_get_REVOKED(crl);
	json_object_set_new(o, "revoked_count",
	    json_integer(sk_X509_REVOKED_num(revs) > 0 ?
	    sk_X509_REVOKED_num(revs) : 0));
	a = json_array();
	for (i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		r = sk_X509_REVOKED_value(revs, i);
		e = json_object();
		json_object_set_new(e, "serial",
		    jserial(X509_REVOKED_get0_serialNumber(r)));
		json_object_set_new(e, "date",
		    jtime(X509_REVOKED_get0_revocationDate(r), NULL));
		reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit,
		    NULL);
		json_object_set_new(e, "reason", reason != NULL ?
		    json_string(ca_reason_name((int)ASN1_ENUMERATED_get(
		    reason))) : json_string(crit == -1 ? "none" : "malformed"));
		ASN1_ENUMERATED_free(reason);
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "revoked", a);
	ERR_clear_error();
	return o;
}

static json_t *
error_json(const char *type, const char *label, const char *msg)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string(type));
	if (label != NULL)
		json_object_set_new(o, "pem_label", jstr(label));
	json_object_set_new(o, "error", json_string(msg));
	return o;
}

/* DER: a certificate, a CSR or a CRL filling buf exactly; NULL if not. */
static json_t *
der_json(const unsigned char *buf, long len, const char *fmt)
{
	const unsigned char *p;
	X509 *x;
	X509_REQ *req;
	X509_CRL *crl;
	json_t *o = NULL;

	p = buf;
	if ((x = d2i_X509(NULL, &p, len)) != NULL && p == buf + len)
		o = cert_json(x, fmt);
	X509_free(x);
	if (o != NULL)
		goto out;
	p = buf;
	if ((req = d2i_X509_REQ(NULL, &p, len)) != NULL && p == buf + len)
		o = csr_json(req, fmt);
	X509_REQ_free(req);
	if (o != NULL)
		goto out;
	p = buf;
	if ((crl = d2i_X509_CRL(NULL, &p, len)) != NULL && p == buf + len)
		o = crl_json(crl, fmt);
	X509_CRL_free(crl);
out:
	ERR_clear_error();
	return o;
}

/*
 * Every PEM block of buf appended to objs: known labels parsed, other
 * labels and broken blocks reported.  *bad counts the broken ones,
 * *good the certificates, CSRs and CRLs.
 * Returns the number of blocks.
 */
static int
pem_blocks(const uint8_t *buf, size_t len, json_t *objs, int *bad, int *good)
{
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	unsigned long e;
	json_t *o;
	BIO *b;
	int n = 0;

	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL)
		return 0;
	for (;;) {
		if (PEM_read_bio(b, &name, &header, &data, &dlen) != 1) {
			e = ERR_peek_last_error();
			if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
			    ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
				json_array_append_new(objs, error_json("error",
				    NULL, "a PEM block is malformed (bad "
				    "base64 or END line)"));
				(*bad)++;
				n++;
			}
			ERR_clear_error();
			break;
		}
		n++;
		o = NULL;
		if (strcmp(name, PEM_STRING_X509) == 0 ||
		    strcmp(name, PEM_STRING_X509_OLD) == 0 ||
		    strcmp(name, PEM_STRING_X509_REQ) == 0 ||
		    strcmp(name, PEM_STRING_X509_REQ_OLD) == 0 ||
		    strcmp(name, PEM_STRING_X509_CRL) == 0) {
			o = der_json(data, dlen, "PEM");
			if (o != NULL)
				(*good)++;
			if (o == NULL) {
				o = error_json("error", name, "does not parse");
				(*bad)++;
			}
		} else
			o = error_json("skipped", name, "not a certificate, "
			    "CSR or CRL");
		json_array_append_new(objs, o);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	BIO_free(b);
	return n;
}

/* ------------------------------------------------------------------ */
/* Text rendering                                                      */
/* ------------------------------------------------------------------ */

static void	render_object(FILE *, const json_t *, int, int);

/* "not_before" -> "not before" */
static void
label(FILE *out, const char *key, int indent, int dash)
{
	const char *p;

	fprintf(out, "%*s%s", indent, "", dash ? "- " : "");
	for (p = key; *p != '\0'; p++)
		fputc(*p == '_' ? ' ' : *p, out);
	fputc(':', out);
}

static void
render_scalar(FILE *out, const json_t *v)
{
	if (json_is_string(v))
		fputs(json_string_value(v), out);
	else if (json_is_integer(v))
		fprintf(out, "%lld", (long long)json_integer_value(v));
	else if (json_is_true(v))
		fputs("yes", out);
	else if (json_is_false(v))
		fputs("no", out);
	else
		fputs("?", out);
}

static int
all_scalars(const json_t *a)
{
	size_t i;

	for (i = 0; i < json_array_size(a); i++)
		if (json_is_object(json_array_get(a, i)) ||
		    json_is_array(json_array_get(a, i)))
			return 0;
	return 1;
}

/*
 * One array element that is an object.  An extension ("name" and
 * "critical" keys) is headed "- basicConstraints (critical):"; other
 * objects put their first key on the "- " line.
 */
static void
render_element(FILE *out, const json_t *o, int indent)
{
	const json_t *name = json_object_get(o, "name");
	const char *k;
	json_t *v;
	int first = 1;

	if (json_is_string(name)) {
		fprintf(out, "%*s- %s%s:\n", indent, "",
		    json_string_value(name),
		    json_is_true(json_object_get(o, "critical")) ?
		    " (critical)" : "");
		json_object_foreach((json_t *)o, k, v) {
			if (strcmp(k, "name") == 0 ||
			    strcmp(k, "critical") == 0 ||
			    strcmp(k, "oid") == 0)
				continue;
			render_object(out, json_pack("{sO}", k, v), indent + 4,
			    1);
		}
		return;
	}
	json_object_foreach((json_t *)o, k, v) {
		render_object(out, json_pack("{sO}", k, v),
		    first ? indent : indent + 2, first ? 2 : 1);
		first = 0;
	}
}

/*
 * Render object o at indent.  mode 0: o is borrowed; mode 1: o is a
 * one-key wrapper to free afterwards; mode 2: as 1, with a "- " prefix.
 */
static void
render_object(FILE *out, const json_t *o, int indent, int mode)
{
	const char *k;
	json_t *v;
	size_t i;

	if (o == NULL)
		return;
	json_object_foreach((json_t *)o, k, v) {
		label(out, k, indent, mode == 2);
		if (json_is_object(v)) {
			fputc('\n', out);
			render_object(out, v, indent + (mode == 2 ? 4 : 2), 0);
		} else if (json_is_array(v) && all_scalars(v)) {
			if (json_array_size(v) == 0)
				fputs(" (none)", out);
			for (i = 0; i < json_array_size(v); i++) {
				fputs(i > 0 ? ", " : " ", out);
				render_scalar(out, json_array_get(v, i));
			}
			fputc('\n', out);
		} else if (json_is_array(v)) {
			fputc('\n', out);
			for (i = 0; i < json_array_size(v); i++)
				render_element(out, json_array_get(v, i),
				    indent + (mode == 2 ? 4 : 2));
		} else {
			fputc(' ', out);
			render_scalar(out, v);
			fputc('\n', out);
		}
	}
	if (mode != 0)
		json_decref((json_t *)o);
}

static void
render_text(FILE *out, const json_t *report)
{
	const json_t *objs = json_object_get(report, "objects");
	size_t i, n = json_array_size(objs);

	fprintf(out, "%s: %zu object%s\n", json_string_value(
	    json_object_get(report, "file")), n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		fputc('\n', out);
		render_object(out, json_array_get(objs, i), 0, 0);
	}
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

/* See inspect.h. */
enum kr_err
ca_inspect_buf(const uint8_t *buf, size_t len, const char *name, FILE *out,
    int json, struct kr_error *err)
{
	json_t *report = NULL, *objs = NULL, *o;
	int bad = 0, good = 0, n = 0;
	enum kr_err rc;

	if (len == 0 || len > INSPECT_MAX_INPUT) {
		rc = kr_fail(err, KR_E_PARSE, "%s: %s", name, len == 0 ?
		    "empty file" : "too large to be a certificate, CSR or CRL");
		goto out;
	}
	if ((report = json_object()) == NULL || (objs = json_array()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	json_object_set_new(report, "file", jstr(name));
	if (memmem(buf, len, "-----BEGIN ", 11) != NULL)
		n = pem_blocks(buf, len, objs, &bad, &good);
	if (n == 0 && (o = der_json(buf, (long)len, "DER")) != NULL) {
		json_array_append_new(objs, o);
		good = 1;
	}
	if (good == 0) {
		rc = kr_fail(err, KR_E_PARSE, "%s: not a PEM or DER "
		    "certificate, CSR or CRL", name);
		goto out;
	}
	json_object_set(report, "objects", objs);
	if (json) {
		if (json_dumpf(report, out, JSON_INDENT(2)) != 0) {
			rc = kr_fail(err, KR_E_IO, "cannot write the report");
			goto out;
		}
		fputc('\n', out);
	} else
		render_text(out, report);
	if (bad > 0) {
		rc = kr_fail(err, KR_E_PARSE, "%s: %d PEM block%s could not "
		    "be parsed", name, bad, bad == 1 ? "" : "s");
		goto out;
	}
	rc = KR_OK;
out:
	ERR_clear_error();
	json_decref(objs);
	json_decref(report);
	return rc;
}

/* See inspect.h. */
enum kr_err
ca_inspect_file(const char *path, FILE *out, int json, struct kr_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	enum kr_err rc;

	if ((rc = kr_file_read(path, INSPECT_MAX_INPUT, &buf, &len, err)) !=
	    KR_OK)
		goto out;
	rc = ca_inspect_buf(buf, len, path, out, json, err);
out:
	free(buf);
	return rc;
}
