/*
 * test_ca.c: building and signing roots, intermediates, leaves and
 * CRLs.  The signing tests require forgeries to fail: a signer that
 * signs with another key, or returns garbage, must be refused; the
 * builders must refuse names outside the constraints, tampered CSRs
 * and validities the profile or the issuer do not allow.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "ca/inspect.h"
#include "common/file.h"
#include "policy/lint.h"
#include "policy/profile.h"

#define DAY	86400LL

/* A fixed, recent time keeps the tests independent of the clock. */
static const time_t T0 = 1735689600;	/* 2025-01-01T00:00:00Z */

struct world {
	struct pol_profile	 root_p, int_p, leaf_p;
	EVP_PKEY		*root_key;	/* P-384 */
	EVP_PKEY		*int_key;	/* P-256 */
	EVP_PKEY		*leaf_key;	/* P-256 */
	X509			*root;		/* NC: lab.internal, 10/8 */
	char			 dir[64];
};

static const char *const root_dns[] = { "lab.internal" };
static const char *const root_ip[] = { "10.0.0.0/8" };

static EVP_PKEY *
ec_key(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	assert_non_null(k);
	return k;
}

static void
load_profile(const char *name, struct pol_profile *p)
{
	struct kr_error err;
	enum kr_err rc;

	rc = pol_profile_find(name, p, &err);
	if (rc != KR_OK)
		fail_msg("profile %s: %s", name, err.msg);
}

static void
expect_ok(enum kr_err rc, const struct kr_error *err)
{
	if (rc != KR_OK)
		fail_msg("unexpected error %d: %s", rc, err->msg);
}

/* Build and sign a root with a software signer over key. */
static X509 *
make_root(struct world *w, EVP_PKEY *key, const struct ca_names *nc,
    long long validity, time_t now)
{
	struct ca_signer s;
	struct kr_error err;
	X509 *tbs = NULL, *root = NULL;

	expect_ok(ca_root_build("CN=Example Lab Root,O=Example", key,
	    &w->root_p, validity, nc, now, &tbs, &err), &err);
	ca_signer_soft(&s, key);
	expect_ok(ca_sign_cert(tbs, &s, &w->root_p, NULL, now, &root, &err),
	    &err);
	X509_free(tbs);
	return root;
}

/*
 * A CSR for key with subject and SANs ("DNS:x" / "IP:x" in OpenSSL's
 * config syntax, NULL for none).
 */
static X509_REQ *
make_csr(EVP_PKEY *key, const char *subject, const char *san)
{
	STACK_OF(X509_EXTENSION) *exts;
	X509_EXTENSION *ext;
	X509_NAME *name = NULL;
	struct kr_error err;
	X509_REQ *req = X509_REQ_new();

	assert_non_null(req);
	assert_int_equal(X509_REQ_set_version(req, X509_REQ_VERSION_1), 1);
	if (subject != NULL) {
		expect_ok(ca_parse_subject(subject, &name, &err), &err);
		assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
		X509_NAME_free(name);
	}
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	if (san != NULL) {
		exts = sk_X509_EXTENSION_new_null();
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
		    san);
		assert_non_null(ext);
		sk_X509_EXTENSION_push(exts, ext);
		assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	return req;
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct ca_names nc = { (const char **)root_dns, 1,
	    (const char **)root_ip, 1 };

	assert_non_null(w);
	/* The runner sets this; be safe when run by hand from the top. */
	setenv("KEYRITE_PROFILE_DIR", "profiles", 0);
	load_profile("root", &w->root_p);
	load_profile("intermediate", &w->int_p);
	load_profile("tls-server", &w->leaf_p);
	w->root_key = ec_key("P-384");
	w->int_key = ec_key("P-256");
	w->leaf_key = ec_key("P-256");
	/* The root exists a day before the tests' "now". */
	w->root = make_root(w, w->root_key, &nc, 3650 * DAY, T0 - DAY);
	snprintf(w->dir, sizeof(w->dir), "/tmp/kr-ca.XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	*state = w;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct world *w = *state;

	if (w == NULL)
		return 0;
	nftw(w->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	X509_free(w->root);
	EVP_PKEY_free(w->root_key);
	EVP_PKEY_free(w->int_key);
	EVP_PKEY_free(w->leaf_key);
	free(w);
	return 0;
}

/* Verify leaf (and optional untrusted middle) up to root, strictly. */
static int
chain_verifies(X509 *root, X509 *mid, X509 *leaf, time_t at)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int ok;

	X509_STORE_add_cert(st, root);
	if (mid != NULL)
		sk_X509_push(untrusted, mid);
	X509_STORE_CTX_init(ctx, st, leaf, untrusted);
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
	X509_STORE_CTX_set_time(ctx, 0, at);
	ok = X509_verify_cert(ctx);
	if (ok != 1)
		print_message("verify: %s\n", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_free(untrusted);
	ERR_clear_error();
	return ok == 1;
}

static NAME_CONSTRAINTS *
nc_of(X509 *x, int *crit)
{
	return X509_get_ext_d2i(x, NID_name_constraints, crit, NULL);
}

/* "DNS:lab.internal,IP:10.0.0.0/8" from the permitted subtrees. */
static void
permitted_text(X509 *x, char *buf, size_t sz)
{
	NAME_CONSTRAINTS *nc;
	char one[256];
	int crit = 0, i;

	buf[0] = '\0';
	if ((nc = nc_of(x, &crit)) == NULL)
		return;
	for (i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); i++) {
		ca_general_name_text(sk_GENERAL_SUBTREE_value(
		    nc->permittedSubtrees, i)->base, one, sizeof(one));
		snprintf(buf + strlen(buf), sz - strlen(buf), "%s%s",
		    i > 0 ? "," : "", one);
	}
	NAME_CONSTRAINTS_free(nc);
}

/* ------------------------------------------------------------------ */

static void
test_md_for_key(void **state)
{
	EVP_PKEY *k384 = ec_key("P-384"), *k256 = ec_key("P-256"), *rsa;

	(void)state;
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(rsa);
	assert_ptr_equal(ca_md_for_key(k384), EVP_sha384());
	assert_ptr_equal(ca_md_for_key(k256), EVP_sha256());
	assert_ptr_equal(ca_md_for_key(rsa), EVP_sha256());
	EVP_PKEY_free(k384);
	EVP_PKEY_free(k256);
	EVP_PKEY_free(rsa);
}

static void
test_serial_new(void **state)
{
	ASN1_INTEGER *a = NULL, *b = NULL;
	struct kr_error err;
	unsigned char *der = NULL;
	int i, n;

	(void)state;
	for (i = 0; i < 200; i++) {
		expect_ok(ca_serial_new(&a, &err), &err);
		assert_int_equal(ASN1_STRING_type(a), V_ASN1_INTEGER);
		/* 16 content octets, first one 0x01..0x7f: positive, no pad. */
		assert_int_equal(ASN1_STRING_length(a), 16);
		assert_true(ASN1_STRING_get0_data(a)[0] != 0);
		assert_true(ASN1_STRING_get0_data(a)[0] < 0x80);
		n = i2d_ASN1_INTEGER(a, &der);
		assert_int_equal(n, 18);
		OPENSSL_free(der);
		der = NULL;
		if (b != NULL)
			assert_int_not_equal(ASN1_INTEGER_cmp(a, b), 0);
		ASN1_INTEGER_free(b);
		b = a;
		a = NULL;
	}
	ASN1_INTEGER_free(b);
}

static void
test_parse_subject_table(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;	/* one-line, or NULL = error */
		const char	*msg;	/* part of the error message */
	} t[] = {
		{ "CN=Example Lab Root,O=Example",
		    "CN=Example Lab Root,O=Example", NULL },
		{ "cn=a, o=b ,  OU=c", "CN=a,O=b,OU=c", NULL },
		{ "C=DE,ST=Berlin,L=Berlin,O=Ex,OU=Lab,CN=x",
		    "C=DE,ST=Berlin,L=Berlin,O=Ex,OU=Lab,CN=x", NULL },
		{ "DC=lab,DC=internal,CN=y", "DC=lab,DC=internal,CN=y", NULL },
		{ "CN=a\\,b", "CN=a\\,b", NULL },
		{ "CN=a\\=b\\\\c", "CN=a=b\\\\c", NULL },
		{ "emailAddress=ops@lab.internal,serialNumber=42",
		    "emailAddress=ops@lab.internal,serialNumber=42", NULL },
		{ "CN=Soci\xc3\xa9t\xc3\xa9", "CN=Soci\xc3\xa9t\xc3\xa9",
		    NULL },
		{ "", NULL, "empty" },
		{ "CN", NULL, "has no '='" },
		{ "CN=a,O", NULL, "\"O\" has no '='" },
		{ "=a", NULL, "attribute name is missing" },
		{ "CN=", NULL, "CN has an empty value" },
		{ "CN=a,O=  ", NULL, "O has an empty value" },
		{ "XX=a", NULL, "unknown attribute \"XX\"" },
		{ "CN=a,", NULL, "ends with ','" },
		{ "CN=a O=b", NULL, "comma missing" },
		{ "CN=a\\b", NULL, "may be escaped" },
		{ "CN=a\\", NULL, "may be escaped" },
		{ "C=Germany", NULL, "attribute C" },
		{ "CN=a\tb", NULL, "control characters" },
	};
	unsigned long fl = XN_FLAG_SEP_COMMA_PLUS | XN_FLAG_FN_SN |
	    (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	struct kr_error err;
	X509_NAME *n;
	BIO *b;
	char *data;
	long len;
	size_t i;
	enum kr_err rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = NULL;
		memset(&err, 0, sizeof(err));
		rc = ca_parse_subject(t[i].in, &n, &err);
		if (t[i].want == NULL) {
			if (rc == KR_OK)
				fail_msg("\"%s\" parsed", t[i].in);
			assert_int_equal(rc, KR_E_USAGE);
			assert_null(n);
			if (strstr(err.msg, t[i].msg) == NULL)
				fail_msg("\"%s\": message \"%s\" lacks \"%s\"",
				    t[i].in, err.msg, t[i].msg);
			continue;
		}
		if (rc != KR_OK)
			fail_msg("\"%s\": %s", t[i].in, err.msg);
		b = BIO_new(BIO_s_mem());
		X509_NAME_print_ex(b, n, 0, fl);
		len = BIO_get_mem_data(b, &data);
		if ((size_t)len != strlen(t[i].want) ||
		    memcmp(data, t[i].want, (size_t)len) != 0)
			fail_msg("\"%s\" -> \"%.*s\", want \"%s\"", t[i].in,
			    (int)len, data, t[i].want);
		BIO_free(b);
		X509_NAME_free(n);
	}
	/* Values are UTF8String, written order is DER order. */
	expect_ok(ca_parse_subject("CN=first,O=second", &n, &err), &err);
	assert_int_equal(X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 0)), 0);
	assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(
	    X509_NAME_get_entry(n, 0))), NID_commonName);
	assert_int_equal(ASN1_STRING_type(X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(n, 0))), V_ASN1_UTF8STRING);
	X509_NAME_free(n);
}

static void
test_reason_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i <= 10; i++) {
		if (i == 7) {
			assert_string_equal(ca_reason_name(i), "unknown");
			continue;
		}
		assert_int_equal(ca_reason_from_name(ca_reason_name(i)), i);
	}
	assert_int_equal(ca_reason_from_name("keyCompromise"), 1);
	assert_int_equal(ca_reason_from_name("aACompromise"), 10);
	assert_int_equal(ca_reason_from_name("none"), -1);
	assert_string_equal(ca_reason_name(-1), "none");
	assert_int_equal(ca_reason_from_name("stolen"), -2);
	assert_int_equal(ca_reason_from_name(NULL), -2);
}

static void
test_root_p384_signed_and_verifies(void **state)
{
	struct world *w = *state;
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	AUTHORITY_KEYID *aki;
	NAME_CONSTRAINTS *nc;
	const ASN1_OCTET_STRING *ski;
	const unsigned char *pk;
	unsigned char md[20];
	char txt[256];
	int crit = 0, pklen;

	assert_int_equal(X509_verify(w->root, w->root_key), 1);
	assert_int_equal(X509_get_version(w->root), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(w->root),
	    NID_ecdsa_with_SHA384);
	assert_true(chain_verifies(w->root, NULL, w->root, T0));
	/* basicConstraints critical CA:TRUE, no pathlen (profile: none). */
	bc = X509_get_ext_d2i(w->root, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(crit, 1);
	assert_true(bc->ca);
	assert_null(bc->pathlen);
	BASIC_CONSTRAINTS_free(bc);
	ku = X509_get_ext_d2i(w->root, NID_key_usage, &crit, NULL);
	assert_non_null(ku);
	assert_int_equal(crit, 1);
	assert_true(ASN1_BIT_STRING_get_bit(ku, 5));
	assert_true(ASN1_BIT_STRING_get_bit(ku, 6));
	assert_false(ASN1_BIT_STRING_get_bit(ku, 0));
	ASN1_BIT_STRING_free(ku);
	/* SKI is SHA-1 of the subjectPublicKey bits; AKI repeats it. */
	ski = X509_get0_subject_key_id(w->root);
	assert_non_null(ski);
	assert_int_equal(X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL,
	    X509_get_X509_PUBKEY(w->root)), 1);
	assert_int_equal(EVP_Digest(pk, (size_t)pklen, md, NULL, EVP_sha1(),
	    NULL), 1);
	assert_int_equal(ASN1_STRING_length(ski), 20);
	assert_memory_equal(ASN1_STRING_get0_data(ski), md, 20);
	aki = X509_get_ext_d2i(w->root, NID_authority_key_identifier, &crit,
	    NULL);
	assert_non_null(aki);
	assert_int_equal(crit, 0);
	assert_int_equal(ASN1_OCTET_STRING_cmp(aki->keyid, ski), 0);
	assert_null(aki->issuer);
	assert_null(aki->serial);
	AUTHORITY_KEYID_free(aki);
	nc = nc_of(w->root, &crit);
	assert_non_null(nc);
	assert_int_equal(crit, 1);
	assert_null(nc->excludedSubtrees);
	assert_int_equal(sk_GENERAL_SUBTREE_num(nc->permittedSubtrees), 2);
	assert_int_equal(ASN1_STRING_length(sk_GENERAL_SUBTREE_value(
	    nc->permittedSubtrees, 1)->base->d.ip), 8);
	NAME_CONSTRAINTS_free(nc);
	permitted_text(w->root, txt, sizeof(txt));
	assert_string_equal(txt, "DNS:lab.internal,IP:10.0.0.0/8");
	/* Validity: now - backdate .. + validity. */
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notBefore(w->root),
	    T0 - DAY - w->root_p.backdate), 0);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(w->root),
	    T0 - DAY - w->root_p.backdate + 3650 * DAY), 0);
}

static void
test_root_without_constraints(void **state)
{
	struct world *w = *state;
	EVP_PKEY *k = ec_key("P-256");
	X509 *r;
	int crit = 0;

	r = make_root(w, k, NULL, 0, T0);
	assert_null(nc_of(r, &crit));
	assert_int_equal(crit, -1);
	assert_int_equal(X509_get_signature_nid(r), NID_ecdsa_with_SHA256);
	/* Default validity from the profile. */
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(r),
	    T0 - w->root_p.backdate + w->root_p.default_validity), 0);
	X509_free(r);
	EVP_PKEY_free(k);
}

static void
test_tbs_fields_unchanged_by_signing(void **state)
{
	struct world *w = *state;
	struct ca_signer s;
	struct kr_error err;
	EVP_PKEY *other = ec_key("P-384");
	X509 *tbs = NULL, *pre, *fin = NULL;
	unsigned char *a = NULL, *b = NULL;
	int na, nb;

	expect_ok(ca_root_build("CN=R", w->root_key, &w->root_p, 0, NULL, T0,
	    &tbs, &err), &err);
	/* What a throwaway P-384 key's signature puts in the TBS ... */
	assert_true(X509_sign(tbs, other, EVP_sha384()) > 0);
	pre = X509_dup(tbs);
	assert_non_null(pre);
	na = i2d_re_X509_tbs(pre, &a);
	/* ... is exactly what the real signature covers. */
	ca_signer_soft(&s, w->root_key);
	expect_ok(ca_sign_cert(tbs, &s, &w->root_p, NULL, T0, &fin, &err),
	    &err);
	nb = i2d_re_X509_tbs(fin, &b);
	assert_true(na > 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, (size_t)na);
	/*
	 * The input keeps its to-be-signed fields; it carries only the
	 * throwaway signature, never the real key's.
	 */
	OPENSSL_free(b);
	b = NULL;
	assert_int_equal(i2d_re_X509_tbs(tbs, &b), na);
	assert_memory_equal(a, b, (size_t)na);
	assert_int_not_equal(X509_verify(tbs, w->root_key), 1);
	ERR_clear_error();
	OPENSSL_free(a);
	OPENSSL_free(b);
	X509_free(pre);
	X509_free(tbs);
	X509_free(fin);
	EVP_PKEY_free(other);
}

/* A token that signs with the wrong key. */
struct wrong {
	struct ca_signer	 inner;
};

static enum kr_err
wrong_sign(void *arg, const EVP_MD *md, const unsigned char *msg, size_t len,
    unsigned char **sig, size_t *siglen, struct kr_error *err)
{
	struct wrong *wr = arg;

	return wr->inner.sign(wr->inner.arg, md, msg, len, sig, siglen, err);
}

static void
test_signer_with_other_key_refused(void **state)
{
	struct world *w = *state;
	struct ca_signer s;
	struct wrong wr;
	struct kr_error err;
	EVP_PKEY *other = ec_key("P-384");
	X509 *tbs = NULL, *fin = NULL;

	expect_ok(ca_root_build("CN=R", w->root_key, &w->root_p, 0, NULL, T0,
	    &tbs, &err), &err);
	ca_signer_soft(&wr.inner, other);
	s.pub = w->root_key;
	s.sign = wrong_sign;
	s.arg = &wr;
	assert_int_equal(ca_sign_cert(tbs, &s, &w->root_p, NULL, T0, &fin,
	    &err), KR_E_VERIFY);
	assert_null(fin);
	assert_non_null(strstr(err.msg, "does not verify under its public "
	    "key"));
	X509_free(tbs);
	EVP_PKEY_free(other);
}

static enum kr_err
garbage_sign(void *arg, const EVP_MD *md, const unsigned char *msg,
    size_t len, unsigned char **sig, size_t *siglen, struct kr_error *err)
{
	size_t n = *(size_t *)arg;

	(void)md;
	(void)msg;
	(void)len;
	(void)err;
	if ((*sig = malloc(n + 1)) == NULL)
		return KR_E_NOMEM;
	memset(*sig, 0x5a, n + 1);
	*siglen = n;
	return KR_OK;
}

static enum kr_err
failing_sign(void *arg, const EVP_MD *md, const unsigned char *msg,
    size_t len, unsigned char **sig, size_t *siglen, struct kr_error *err)
{
	(void)arg;
	(void)md;
	(void)msg;
	(void)len;
	*sig = NULL;
	*siglen = 0;
	return kr_fail(err, KR_E_PKCS11, "C_Sign: CKR_DEVICE_ERROR");
}

static void
test_signer_garbage_refused(void **state)
{
	static const size_t lens[] = { 0, 1, 104, 300 };
	struct world *w = *state;
	struct ca_signer s;
	struct kr_error err;
	X509 *tbs = NULL, *fin = NULL;
	size_t i;

	expect_ok(ca_root_build("CN=R", w->root_key, &w->root_p, 0, NULL, T0,
	    &tbs, &err), &err);
	s.pub = w->root_key;
	s.sign = garbage_sign;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		s.arg = (void *)&lens[i];
		assert_int_equal(ca_sign_cert(tbs, &s, &w->root_p, NULL, T0,
		    &fin, &err), KR_E_VERIFY);
		assert_null(fin);
	}
	s.sign = failing_sign;
	s.arg = NULL;
	assert_int_equal(ca_sign_cert(tbs, &s, &w->root_p, NULL, T0, &fin,
	    &err), KR_E_PKCS11);
	assert_null(fin);
	X509_free(tbs);
}

static void
test_signer_key_must_match(void **state)
{
	struct world *w = *state;
	struct ca_signer s;
	struct kr_error err;
	EVP_PKEY *other = ec_key("P-384");
	X509 *tbs = NULL, *fin = NULL;
	X509_REQ *csr = make_csr(w->int_key, "CN=Lab CA", NULL);

	/* A root's signer must hold the key the root certifies. */
	expect_ok(ca_root_build("CN=R", w->root_key, &w->root_p, 0, NULL, T0,
	    &tbs, &err), &err);
	ca_signer_soft(&s, other);
	assert_int_equal(ca_sign_cert(tbs, &s, &w->root_p, NULL, T0, &fin,
	    &err), KR_E_VERIFY);
	assert_null(fin);
	X509_free(tbs);
	/* An issued certificate's signer must hold the issuer's key. */
	expect_ok(ca_intermediate_build(csr, w->root, &w->int_p, 0, NULL, T0,
	    &tbs, &err), &err);
	assert_int_equal(ca_sign_cert(tbs, &s, &w->int_p, w->root, T0, &fin,
	    &err), KR_E_VERIFY);
	assert_null(fin);
	X509_free(tbs);
	X509_REQ_free(csr);
	EVP_PKEY_free(other);
}

static void
test_linter_runs_before_signing(void **state)
{
	struct world *w = *state;
	struct ca_signer s;
	struct kr_error err;
	X509 *tbs = NULL, *fin = NULL;
	int idx;

	/* Take keyUsage away: the linter must refuse, nothing is signed. */
	expect_ok(ca_root_build("CN=R", w->root_key, &w->root_p, 0, NULL, T0,
	    &tbs, &err), &err);
	idx = X509_get_ext_by_NID(tbs, NID_key_usage, -1);
	assert_true(idx >= 0);
	X509_EXTENSION_free(X509_delete_ext(tbs, idx));
	ca_signer_soft(&s, w->root_key);
	s.sign = failing_sign;	/* must never be reached */
	assert_int_equal(ca_sign_cert(tbs, &s, &w->root_p, NULL, T0, &fin,
	    &err), KR_E_POLICY);
	assert_null(fin);
	assert_non_null(strstr(err.msg, "lint: key-usage"));
	X509_free(tbs);
}

static X509 *
sign_int(struct world *w, X509 *tbs, time_t now)
{
	struct ca_signer s;
	struct kr_error err;
	X509 *fin = NULL;

	ca_signer_soft(&s, w->root_key);
	expect_ok(ca_sign_cert(tbs, &s, &w->int_p, w->root, now, &fin, &err),
	    &err);
	return fin;
}

static void
test_intermediate_inherits_constraints(void **state)
{
	struct world *w = *state;
	struct kr_error err;
	X509_REQ *csr = make_csr(w->int_key, "CN=Lab Issuing CA 1,O=Example",
	    NULL);
	X509 *tbs = NULL, *ic;
	BASIC_CONSTRAINTS *bc;
	char txt[256];
	int crit = 0;

	expect_ok(ca_intermediate_build(csr, w->root, &w->int_p, 0, NULL, T0,
	    &tbs, &err), &err);
	ic = sign_int(w, tbs, T0);
	assert_int_equal(X509_verify(ic, w->root_key), 1);
	assert_int_equal(X509_get_signature_nid(ic), NID_ecdsa_with_SHA384);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(ic),
	    X509_REQ_get_subject_name(csr)), 0);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(ic),
	    X509_get_subject_name(w->root)), 0);
	permitted_text(ic, txt, sizeof(txt));
	assert_string_equal(txt, "DNS:lab.internal,IP:10.0.0.0/8");
	NAME_CONSTRAINTS_free(nc_of(ic, &crit));
	assert_int_equal(crit, 1);
	bc = X509_get_ext_d2i(ic, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_true(bc->ca);
	assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 0);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(ic),
	    X509_get0_subject_key_id(w->root)), 0);
	/* notBefore never before the root's. */
	assert_true(ASN1_TIME_compare(X509_get0_notBefore(ic),
	    X509_get0_notBefore(w->root)) >= 0);
	assert_true(chain_verifies(w->root, NULL, ic, T0));
	X509_free(tbs);
	X509_free(ic);
	X509_REQ_free(csr);
}

static void
test_intermediate_narrowing(void **state)
{
	static const char *const dns_in[] = { "dev.lab.internal" };
	static const char *const ip_in[] = { "10.1.0.0/16" };
	static const char *const dns_out[] = { "x.com" };
	static const char *const dns_sib[] = { "evil-lab.internal" };
	static const char *const ip_out[] = { "192.168.0.0/16" };
	static const char *const ip_wider[] = { "10.0.0.0/7" };
	struct world *w = *state;
	struct kr_error err;
	struct ca_names n;
	X509_REQ *csr = make_csr(w->int_key, "CN=Dev CA", NULL);
	X509 *tbs = NULL, *ic;
	char txt[256];

	/* DNS narrowed, IP inherited. */
	memset(&n, 0, sizeof(n));
	n.dns = (const char **)dns_in;
	n.ndns = 1;
	expect_ok(ca_intermediate_build(csr, w->root, &w->int_p, 0, &n, T0,
	    &tbs, &err), &err);
	ic = sign_int(w, tbs, T0);
	permitted_text(ic, txt, sizeof(txt));
	assert_string_equal(txt, "IP:10.0.0.0/8,DNS:dev.lab.internal");
	X509_free(tbs);
	X509_free(ic);
	/* Both narrowed. */
	n.ip = (const char **)ip_in;
	n.nip = 1;
	expect_ok(ca_intermediate_build(csr, w->root, &w->int_p, 0, &n, T0,
	    &tbs, &err), &err);
	ic = sign_int(w, tbs, T0);
	permitted_text(ic, txt, sizeof(txt));
	assert_string_equal(txt, "DNS:dev.lab.internal,IP:10.1.0.0/16");
	X509_free(tbs);
	X509_free(ic);
	/* Outside: refused before anything is built. */
	n.dns = (const char **)dns_out;
	tbs = NULL;
	assert_int_equal(ca_intermediate_build(csr, w->root, &w->int_p, 0, &n,
	    T0, &tbs, &err), KR_E_POLICY);
	assert_null(tbs);
	assert_string_equal(err.msg, "--permitted-dns x.com is outside the "
	    "root's permitted subtrees (lab.internal)");
	n.dns = (const char **)dns_sib;
	assert_int_equal(ca_intermediate_build(csr, w->root, &w->int_p, 0, &n,
	    T0, &tbs, &err), KR_E_POLICY);
	n.dns = (const char **)dns_in;
	n.ip = (const char **)ip_out;
	assert_int_equal(ca_intermediate_build(csr, w->root, &w->int_p, 0, &n,
	    T0, &tbs, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "192.168.0.0/16 is outside the root's "
	    "permitted subtrees (10.0.0.0/8)"));
	n.ip = (const char **)ip_wider;
	assert_int_equal(ca_intermediate_build(csr, w->root, &w->int_p, 0, &n,
	    T0, &tbs, &err), KR_E_POLICY);
	assert_null(tbs);
	X509_REQ_free(csr);
}

static void
test_csr_bad_signature_refused(void **state)
{
	struct world *w = *state;
	struct kr_error err;
	X509_REQ *csr = make_csr(w->int_key, "CN=Lab CA", NULL), *bad;
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *tbs = NULL;
	int n;

	n = i2d_X509_REQ(csr, &der);
	assert_true(n > 10);
	/* The last octet is inside the ECDSA signature's s. */
	der[n - 1] ^= 0x01;
	p = der;
	bad = d2i_X509_REQ(NULL, &p, n);
	assert_non_null(bad);
	assert_int_equal(ca_intermediate_build(bad, w->root, &w->int_p, 0,
	    NULL, T0, &tbs, &err), KR_E_VERIFY);
	assert_null(tbs);
	assert_string_equal(err.msg, "CSR signature does not verify");
	X509_REQ_free(bad);
	OPENSSL_free(der);
	X509_REQ_free(csr);
}

static void
test_csr_weak_key_refused(void **state)
{
	struct world *w = *state;
	struct kr_error err;
	EVP_PKEY *k = ec_key("secp521r1");
	X509_REQ *csr = make_csr(k, "CN=Lab CA", NULL);
	X509 *tbs = NULL;

	assert_int_equal(ca_intermediate_build(csr, w->root, &w->int_p, 0,
	    NULL, T0, &tbs, &err), KR_E_POLICY);
	assert_null(tbs);
	assert_non_null(strstr(err.msg, "lint: weak-key:"));
	X509_REQ_free(csr);
	EVP_PKEY_free(k);
}

static void
test_csr_san_outside_refused(void **state)
{
	struct world *w = *state;
	struct kr_error err;
	X509_REQ *csr;
	X509 *tbs = NULL, *ic;
	GENERAL_NAMES *san;

	csr = make_csr(w->int_key, "CN=Lab CA", "DNS:evil.com");
	assert_int_equal(ca_intermediate_build(csr, w->root, &w->int_p, 0,
	    NULL, T0, &tbs, &err), KR_E_POLICY);
	assert_null(tbs);
	assert_non_null(strstr(err.msg, "evil.com"));
	X509_REQ_free(csr);
	csr = make_csr(w->int_key, "CN=Lab CA", "IP:192.168.1.1");
	assert_int_equal(ca_intermediate_build(csr, w->root, &w->int_p, 0,
	    NULL, T0, &tbs, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "192.168.1.1"));
	X509_REQ_free(csr);
	/* Inside: copied into the certificate. */
	csr = make_csr(w->int_key, "CN=Lab CA",
	    "DNS:ca.lab.internal,IP:10.9.9.9");
	expect_ok(ca_intermediate_build(csr, w->root, &w->int_p, 0, NULL, T0,
	    &tbs, &err), &err);
	ic = sign_int(w, tbs, T0);
	san = X509_get_ext_d2i(ic, NID_subject_alt_name, NULL, NULL);
	assert_non_null(san);
	assert_int_equal(sk_GENERAL_NAME_num(san), 2);
	GENERAL_NAMES_free(san);
	X509_free(tbs);
	X509_free(ic);
	X509_REQ_free(csr);
}

static void
test_validity_limits(void **state)
{
	struct world *w = *state;
	struct kr_error err;
	X509_REQ *csr = make_csr(w->int_key, "CN=Lab CA", NULL);
	X509 *tbs = NULL, *ic;
	EVP_PKEY *k = ec_key("P-384");
	time_t late;

	/* Beyond the profile's maximum: refused, never clipped. */
	assert_int_equal(ca_intermediate_build(csr, w->root, &w->int_p,
	    w->int_p.max_validity + 1, NULL, T0, &tbs, &err), KR_E_POLICY);
	assert_null(tbs);
	assert_non_null(strstr(err.msg, "lint: validity-max"));
	assert_int_equal(ca_root_build("CN=R", k, &w->root_p,
	    w->root_p.max_validity + DAY, NULL, T0, &tbs, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "lint: validity-max"));
	/* Exactly the maximum is fine. */
	expect_ok(ca_intermediate_build(csr, w->root, &w->int_p,
	    w->int_p.max_validity, NULL, T0, &tbs, &err), &err);
	ic = sign_int(w, tbs, T0);
	X509_free(ic);
	X509_free(tbs);
	tbs = NULL;
	/* Beyond the issuer: a day before the root expires, ask for 30. */
	late = T0 - DAY + 3650 * DAY - 2 * DAY;
	assert_int_equal(ca_intermediate_build(csr, w->root, &w->int_p,
	    30 * DAY, NULL, late, &tbs, &err), KR_E_POLICY);
	assert_null(tbs);
	assert_non_null(strstr(err.msg, "lint: validity-issuer"));
	assert_non_null(strstr(err.msg, "issuer's notAfter 2034-12-2"));
	X509_REQ_free(csr);
	EVP_PKEY_free(k);
}

static void
test_leaf_issued_and_chain_verifies(void **state)
{
	static const char *const dns[] = { "www.lab.internal" };
	static const char *const ip[] = { "10.2.3.4" };
	static const char *const evil[] = { "www.evil.com" };
	struct world *w = *state;
	struct ca_signer s;
	struct kr_error err;
	struct ca_leaf_req r;
	X509_REQ *icsr = make_csr(w->int_key, "CN=Lab CA", NULL);
	X509_REQ *lcsr = make_csr(w->leaf_key, "CN=www.lab.internal", NULL);
	X509 *tbs = NULL, *ic, *leaf = NULL;
	EXTENDED_KEY_USAGE *eku;
	GENERAL_NAMES *san;
	int crit = 0;

	expect_ok(ca_intermediate_build(icsr, w->root, &w->int_p, 0, NULL, T0,
	    &tbs, &err), &err);
	ic = sign_int(w, tbs, T0);
	X509_free(tbs);
	memset(&r, 0, sizeof(r));
	r.csr = lcsr;
	r.dns = (const char **)dns;
	r.ndns = 1;
	r.ip = (const char **)ip;
	r.nip = 1;
	r.crl_url = "http://pki.lab.internal/int.crl";
	r.issuer_url = "http://pki.lab.internal/int.crt";
	expect_ok(ca_leaf_build(&r, ic, &w->leaf_p, T0, &tbs, &err), &err);
	ca_signer_soft(&s, w->int_key);
	expect_ok(ca_sign_cert(tbs, &s, &w->leaf_p, ic, T0, &leaf, &err), &err);
	assert_int_equal(X509_get_signature_nid(leaf), NID_ecdsa_with_SHA256);
	eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, &crit, NULL);
	assert_non_null(eku);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)),
	    NID_server_auth);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	san = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
	assert_int_equal(sk_GENERAL_NAME_num(san), 2);
	assert_int_equal(crit, 0);
	GENERAL_NAMES_free(san);
	assert_true(X509_get_ext_by_NID(leaf, NID_crl_distribution_points, -1)
	    >= 0);
	assert_true(X509_get_ext_by_NID(leaf, NID_info_access, -1) >= 0);
	assert_true(chain_verifies(w->root, ic, leaf, T0));
	X509_free(tbs);
	X509_free(leaf);
	/* A name outside the constraints is refused early. */
	r.dns = (const char **)evil;
	tbs = NULL;
	assert_int_equal(ca_leaf_build(&r, ic, &w->leaf_p, T0, &tbs, &err),
	    KR_E_POLICY);
	assert_null(tbs);
	assert_non_null(strstr(err.msg, "www.evil.com"));
	/* No name at all: the profile requires one. */
	r.ndns = r.nip = 0;
	assert_int_equal(ca_leaf_build(&r, ic, &w->leaf_p, T0, &tbs, &err),
	    KR_E_POLICY);
	assert_non_null(strstr(err.msg, "san-required"));
	X509_free(ic);
	X509_REQ_free(icsr);
	X509_REQ_free(lcsr);
}

/*
 * ca_leaf_tbs's TBS against ca_leaf_build's for the same request, made
 * the same way ca_sign_cert makes it (the serial set, signed by a key
 * of the issuer's type, re-encoded): byte for byte.  Then it lints, it
 * signs into a certificate that chains, and its refusals are
 * ca_leaf_build's.
 */
static void
leaf_der_case(struct world *w, X509 *ic, const struct ca_leaf_tmpl *t,
    const char *cn, const char **dns, size_t ndns, const char **ip,
    size_t nip, struct pol_issuer *pi)
{
	struct ca_leaf_req r;
	struct ca_leaf_der_req dr;
	struct ca_signer s;
	struct kr_error err;
	ASN1_INTEGER *serial = NULL;
	X509 *tbs = NULL, *leaf;
	unsigned char *want = NULL, *spki = NULL;
	const unsigned char *p;
	uint8_t *got = NULL, *der = NULL;
	size_t gotlen = 0, derlen = 0;
	time_t nb, na, xt;
	int wantlen, spkilen;

	memset(&r, 0, sizeof(r));
	r.pub = w->leaf_key;
	r.cn = cn;
	r.dns = dns;
	r.ndns = ndns;
	r.ip = ip;
	r.nip = nip;
	r.validity = 7 * DAY;
	r.crl_url = "http://pki.lab.internal/int.crl";
	r.issuer_url = "http://pki.lab.internal/int.crt";
	expect_ok(ca_leaf_build(&r, ic, &w->leaf_p, T0, &tbs, &err), &err);
	expect_ok(ca_serial_new(&serial, &err), &err);
	assert_int_equal(X509_set_serialNumber(tbs, serial), 1);
	assert_true(X509_sign(tbs, w->leaf_key, EVP_sha256()) > 0);
	assert_true((wantlen = i2d_re_X509_tbs(tbs, &want)) > 0);

	spkilen = i2d_PUBKEY(w->leaf_key, &spki);
	assert_true(spkilen > 0);
	memset(&dr, 0, sizeof(dr));
	dr.pub = w->leaf_key;
	dr.spki = spki;
	dr.spki_len = (size_t)spkilen;
	dr.cn = cn;
	dr.dns = dns;
	dr.ndns = ndns;
	dr.ip = ip;
	dr.nip = nip;
	dr.validity = 7 * DAY;
	dr.serial = serial;
	expect_ok(ca_leaf_tbs(t, &dr, T0, &got, &gotlen, &nb, &na, &err),
	    &err);
	assert_int_equal(gotlen, (size_t)wantlen);
	assert_memory_equal(got, want, gotlen);
	ca_time_from_asn1(X509_get0_notBefore(tbs), &xt);
	assert_int_equal(nb, xt);
	ca_time_from_asn1(X509_get0_notAfter(tbs), &xt);
	assert_int_equal(na, xt);

	expect_ok(pol_lint_tbs(&w->leaf_p, pi, got, gotlen, T0, &err), &err);
	ca_signer_soft(&s, w->int_key);
	expect_ok(ca_leaf_sign(t, &s, got, gotlen, &der, &derlen, &err), &err);
	p = der;
	leaf = d2i_X509(NULL, &p, (long)derlen);
	assert_non_null(leaf);
	assert_ptr_equal(p, der + derlen);
	assert_true(chain_verifies(w->root, ic, leaf, T0));
	expect_ok(pol_lint_cert(&w->leaf_p, leaf, ic, T0, &err), &err);
	X509_free(leaf);
	free(der);
	free(got);
	OPENSSL_free(want);
	OPENSSL_free(spki);
	ASN1_INTEGER_free(serial);
	X509_free(tbs);
}

/* s (a prepared signer over k) signs with md a message k verifies. */
static void
prep_sign_check(const struct ca_signer *s, EVP_PKEY *k, const EVP_MD *md)
{
	static const unsigned char msg[] = "a TBS, as far as this goes";
	unsigned char *sig = NULL;
	size_t siglen = 0;
	struct kr_error err;
	EVP_MD_CTX *mc;

	expect_ok(s->sign(s->arg, md, msg, sizeof(msg), &sig, &siglen, &err),
	    &err);
	assert_non_null(mc = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestVerifyInit(mc, NULL, md, NULL, k), 1);
	assert_int_equal(EVP_DigestVerify(mc, sig, siglen, msg, sizeof(msg)),
	    1);
	EVP_MD_CTX_free(mc);
	free(sig);
}

static void
test_leaf_der_matches_leaf_build(void **state)
{
	static const char *dns[] = { "www.lab.internal", "API.lab.internal" };
	static const char *ip[] = { "10.2.3.4", "10.9.9.9" };
	static const char *evil[] = { "www.evil.com" };
	static const char *bad[] = { "-x.lab.internal" };
	struct world *w = *state;
	struct ca_leaf_tmpl *t = NULL;
	struct ca_leaf_der_req dr;
	struct pol_issuer *pi = NULL;
	struct ca_soft_prep *prep = NULL;
	struct ca_signer s;
	struct kr_error err;
	X509_REQ *icsr = make_csr(w->int_key, "CN=Lab CA", NULL);
	X509 *tbs = NULL, *ic;
	ASN1_INTEGER *serial = NULL;
	unsigned char *spki = NULL;
	uint8_t *got = NULL, *der = NULL;
	size_t gotlen = 0, derlen = 0;
	time_t nb, na;
	int spkilen;

	expect_ok(ca_intermediate_build(icsr, w->root, &w->int_p, 0, NULL, T0,
	    &tbs, &err), &err);
	ic = sign_int(w, tbs, T0);
	X509_free(tbs);
	expect_ok(ca_leaf_tmpl_new(ic, w->int_key, &w->leaf_p,
	    "http://pki.lab.internal/int.crl",
	    "http://pki.lab.internal/int.crt", &t, &err), &err);
	expect_ok(pol_issuer_new(ic, &pi, &err), &err);
	/* A CN and names; no CN (empty subject, critical SAN); IPs only. */
	leaf_der_case(w, ic, t, "www.lab.internal", dns, 2, ip, 1, pi);
	leaf_der_case(w, ic, t, NULL, dns, 1, ip, 2, pi);
	leaf_der_case(w, ic, t, NULL, NULL, 0, ip, 1, pi);

	/* The same refusals as ca_leaf_build. */
	spkilen = i2d_PUBKEY(w->leaf_key, &spki);
	expect_ok(ca_serial_new(&serial, &err), &err);
	memset(&dr, 0, sizeof(dr));
	dr.pub = w->leaf_key;
	dr.spki = spki;
	dr.spki_len = (size_t)spkilen;
	dr.dns = evil;
	dr.ndns = 1;
	dr.validity = DAY;
	dr.serial = serial;
	assert_int_equal(ca_leaf_tbs(t, &dr, T0, &got, &gotlen, &nb, &na,
	    &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "www.evil.com"));
	assert_null(got);
	dr.dns = bad;
	assert_int_equal(ca_leaf_tbs(t, &dr, T0, &got, &gotlen, &nb, &na,
	    &err), KR_E_USAGE);
	dr.dns = dns;
	dr.validity = 3650 * DAY;
	assert_int_equal(ca_leaf_tbs(t, &dr, T0, &got, &gotlen, &nb, &na,
	    &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "lint: validity-max"));
	dr.validity = DAY;
	dr.spki_len--;
	assert_int_equal(ca_leaf_tbs(t, &dr, T0, &got, &gotlen, &nb, &na,
	    &err), KR_E_PARSE);
	dr.spki_len++;
	dr.pub = NULL;
	assert_int_equal(ca_leaf_tbs(t, &dr, T0, &got, &gotlen, &nb, &na,
	    &err), KR_E_PARSE);
	dr.pub = w->leaf_key;

	/* A signer with another key is refused before it signs. */
	expect_ok(ca_leaf_tbs(t, &dr, T0, &got, &gotlen, &nb, &na, &err),
	    &err);
	ca_signer_soft(&s, w->leaf_key);
	assert_int_equal(ca_leaf_sign(t, &s, got, gotlen, &der, &derlen,
	    &err), KR_E_VERIFY);
	assert_null(der);
	/*
	 * A signer that claims the template's own key object but signs
	 * with another: the check through the template's prepared context
	 * refuses the signature.
	 */
	s.pub = w->int_key;
	assert_int_equal(ca_leaf_sign(t, &s, got, gotlen, &der, &derlen,
	    &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "does not verify"));
	assert_null(der);
	/* The prepared signer signs what verifies, for its digest or not. */
	expect_ok(ca_signer_soft_prep(&s, w->int_key, &prep, &err), &err);
	expect_ok(ca_leaf_sign(t, &s, got, gotlen, &der, &derlen, &err),
	    &err);
	free(der);
	der = NULL;
	prep_sign_check(&s, w->int_key, EVP_sha256());
	prep_sign_check(&s, w->int_key, EVP_sha384());
	ca_soft_prep_free(prep);
	free(got);
	pol_issuer_free(pi);
	ca_leaf_tmpl_free(t);
	OPENSSL_free(spki);
	ASN1_INTEGER_free(serial);
	X509_free(ic);
	X509_REQ_free(icsr);
}

static ASN1_INTEGER *
int_of(long v)
{
	ASN1_INTEGER *a = ASN1_INTEGER_new();

	assert_int_equal(ASN1_INTEGER_set(a, v), 1);
	return a;
}

static void
test_crl_built_signed_and_linted(void **state)
{
	struct world *w = *state;
	struct ca_revoked rev[3];
	struct ca_signer s;
	struct kr_error err;
	X509_CRL *tbs = NULL, *crl = NULL;
	STACK_OF(X509_REVOKED) *sk;
	ASN1_INTEGER *num = int_of(7), *got;
	ASN1_ENUMERATED *reason;
	AUTHORITY_KEYID *aki;
	X509_REVOKED *r;
	int crit = 0;

	rev[0].serial = int_of(0x3000);
	rev[0].when = T0 - 100;
	rev[0].reason = 1;		/* keyCompromise */
	rev[1].serial = int_of(0x1000);
	rev[1].when = T0 - 200;
	rev[1].reason = -1;		/* none */
	rev[2].serial = int_of(0x2000);
	rev[2].when = T0 - 300;
	rev[2].reason = 4;		/* superseded */
	/* nextUpdate far beyond the root: clipped to its notAfter. */
	expect_ok(ca_crl_build(w->root, rev, 3, num, 20 * 365 * DAY, T0, &tbs,
	    &err), &err);
	assert_int_equal(ASN1_TIME_compare(X509_CRL_get0_nextUpdate(tbs),
	    X509_get0_notAfter(w->root)), 0);
	ca_signer_soft(&s, w->root_key);
	expect_ok(ca_sign_crl(tbs, &s, w->root, T0, &crl, &err), &err);
	assert_int_equal(X509_CRL_verify(crl, w->root_key), 1);
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(w->root)), 0);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl),
	    T0), 0);
	got = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	assert_int_equal(ASN1_INTEGER_get(got), 7);
	ASN1_INTEGER_free(got);
	aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit,
	    NULL);
	assert_int_equal(ASN1_OCTET_STRING_cmp(aki->keyid,
	    X509_get0_subject_key_id(w->root)), 0);
	AUTHORITY_KEYID_free(aki);
	sk = X509_CRL_get_REVOKED(crl);
	assert_int_equal(sk_X509_REVOKED_num(sk), 3);
	/* Sorted by serial, reasons kept, none means no extension. */
	r = sk_X509_REVOKED_value(sk, 0);
	assert_int_equal(ASN1_INTEGER_get(X509_REVOKED_get0_serialNumber(r)),
	    0x1000);
	assert_null(X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL));
	assert_int_equal(crit, -1);
	r = sk_X509_REVOKED_value(sk, 1);
	assert_int_equal(ASN1_INTEGER_get(X509_REVOKED_get0_serialNumber(r)),
	    0x2000);
	reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
	assert_int_equal(ASN1_ENUMERATED_get(reason), 4);
	ASN1_ENUMERATED_free(reason);
	r = sk_X509_REVOKED_value(sk, 2);
	reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
	assert_int_equal(ASN1_ENUMERATED_get(reason), 1);
	ASN1_ENUMERATED_free(reason);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(
	    r), T0 - 100), 0);
	X509_CRL_free(crl);
	crl = NULL;
	X509_CRL_free(tbs);
	tbs = NULL;

	/* A CRL without a CRL number is refused by the linter. */
	expect_ok(ca_crl_build(w->root, rev, 3, num, 30 * DAY, T0, &tbs, &err),
	    &err);
	X509_EXTENSION_free(X509_CRL_delete_ext(tbs,
	    X509_CRL_get_ext_by_NID(tbs, NID_crl_number, -1)));
	assert_int_equal(ca_sign_crl(tbs, &s, w->root, T0, &crl, &err),
	    KR_E_POLICY);
	assert_null(crl);
	assert_non_null(strstr(err.msg, "lint: "));
	X509_CRL_free(tbs);
	tbs = NULL;

	/* A signer with another key is refused. */
	expect_ok(ca_crl_build(w->root, rev, 3, num, 30 * DAY, T0, &tbs, &err),
	    &err);
	{
		struct wrong wr;
		EVP_PKEY *other = ec_key("P-384");

		ca_signer_soft(&wr.inner, other);
		s.pub = w->root_key;
		s.sign = wrong_sign;
		s.arg = &wr;
		assert_int_equal(ca_sign_crl(tbs, &s, w->root, T0, &crl, &err),
		    KR_E_VERIFY);
		assert_null(crl);
		EVP_PKEY_free(other);
	}
	X509_CRL_free(tbs);
	tbs = NULL;

	/* The same serial twice, and a bad reason, are errors. */
	ASN1_INTEGER_free(rev[1].serial);
	rev[1].serial = rev[0].serial;
	assert_int_equal(ca_crl_build(w->root, rev, 2, num, DAY, T0, &tbs,
	    &err), KR_E_USAGE);
	rev[1].serial = int_of(0x1000);
	rev[1].reason = 7;
	assert_int_equal(ca_crl_build(w->root, rev, 2, num, DAY, T0, &tbs,
	    &err), KR_E_USAGE);
	assert_null(tbs);
	ASN1_INTEGER_free(rev[0].serial);
	ASN1_INTEGER_free(rev[1].serial);
	ASN1_INTEGER_free(rev[2].serial);
	ASN1_INTEGER_free(num);
}

static void
test_load_and_write(void **state)
{
	struct world *w = *state;
	struct kr_error err;
	char path[128], csrp[128], fpr[KR_FPR_LEN];
	X509 *x = NULL;
	X509_REQ *csr = make_csr(w->int_key, "CN=Lab CA", NULL), *c2 = NULL;
	X509_CRL *crl = NULL;
	unsigned char *der = NULL;
	FILE *fp;
	int n;

	snprintf(path, sizeof(path), "%s/root.pem", w->dir);
	expect_ok(ca_write_cert(path, w->root, 0, &err), &err);
	assert_int_equal(ca_write_cert(path, w->root, 0, &err), KR_E_EXISTS);
	expect_ok(ca_write_cert(path, w->root, 1, &err), &err);
	expect_ok(ca_load_cert(path, &x, &err), &err);
	assert_int_equal(X509_cmp(x, w->root), 0);
	X509_free(x);
	/* DER works too. */
	snprintf(path, sizeof(path), "%s/root.der", w->dir);
	n = i2d_X509(w->root, &der);
	assert_int_equal(kr_file_write(path, der, (size_t)n, 0644, 0, &err),
	    KR_OK);
	OPENSSL_free(der);
	expect_ok(ca_load_cert(path, &x, &err), &err);
	assert_int_equal(X509_cmp(x, w->root), 0);
	X509_free(x);
	/* A certificate is not a CSR or a CRL, and the error says so. */
	assert_int_equal(ca_load_csr(path, &c2, &err), KR_E_PARSE);
	assert_null(c2);
	assert_non_null(strstr(err.msg, "root.der: not a PEM or DER "
	    "certificate signing request"));
	assert_int_equal(ca_load_crl(path, &crl, &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "not a PEM or DER CRL"));
	snprintf(csrp, sizeof(csrp), "%s/int.csr", w->dir);
	assert_non_null(fp = fopen(csrp, "w"));
	PEM_write_X509_REQ(fp, csr);
	fclose(fp);
	expect_ok(ca_load_csr(csrp, &c2, &err), &err);
	X509_REQ_free(c2);
	assert_int_equal(ca_load_cert(csrp, &x, &err), KR_E_PARSE);
	snprintf(path, sizeof(path), "%s/missing.pem", w->dir);
	assert_int_equal(ca_load_cert(path, &x, &err), KR_E_NOTFOUND);
	ca_cert_fingerprint(w->root, fpr);
	assert_int_equal(strlen(fpr), 79);
	X509_REQ_free(csr);
}

/* Run ca_inspect_file into memory. */
static char *
inspect(const char *path, int json, enum kr_err want)
{
	struct kr_error err;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	enum kr_err rc;

	assert_non_null(fp);
	rc = ca_inspect_file(path, fp, json, &err);
	fclose(fp);
	if (rc != want)
		fail_msg("inspect %s: %d (%s)", path, rc, rc ? err.msg : "");
	return buf;
}

static void
test_inspect(void **state)
{
	struct world *w = *state;
	struct kr_error err;
	struct ca_signer s;
	struct ca_revoked rev = { NULL, T0 - 60, 1 };
	char path[128], fpr[KR_FPR_LEN], *out;
	X509_REQ *csr = make_csr(w->int_key, "CN=Lab CA",
	    "DNS:ca.lab.internal"), *bad;
	X509 *tbs = NULL, *ic;
	X509_CRL *ctbs = NULL, *crl = NULL;
	ASN1_INTEGER *num = int_of(3);
	json_t *j, *objs, *o;
	json_error_t je;
	unsigned char *der = NULL;
	const unsigned char *p;
	FILE *fp;
	int n;

	setenv("KEYRITE_NOW", "2025-01-01T00:00:00Z", 1);
	expect_ok(ca_intermediate_build(csr, w->root, &w->int_p, 0, NULL, T0,
	    &tbs, &err), &err);
	ic = sign_int(w, tbs, T0);
	/* Two certificates in one PEM file. */
	snprintf(path, sizeof(path), "%s/chain.pem", w->dir);
	assert_non_null(fp = fopen(path, "w"));
	PEM_write_X509(fp, ic);
	PEM_write_X509(fp, w->root);
	fclose(fp);
	out = inspect(path, 0, KR_OK);
	assert_non_null(strstr(out, "2 objects"));
	assert_non_null(strstr(out, "subject: CN=Example Lab Root,O=Example"));
	assert_non_null(strstr(out, "keyCertSign, cRLSign"));
	assert_non_null(strstr(out, "- nameConstraints (critical):"));
	assert_non_null(strstr(out, "permitted: DNS:lab.internal, "
	    "IP:10.0.0.0/8"));
	assert_non_null(strstr(out, "curve: P-384"));
	assert_non_null(strstr(out, "validity: valid"));
	assert_non_null(strstr(out, "DNS:ca.lab.internal"));
	ca_cert_fingerprint(w->root, fpr);
	assert_non_null(strstr(out, fpr));
	free(out);
	out = inspect(path, 1, KR_OK);
	j = json_loads(out, 0, &je);
	assert_non_null(j);
	objs = json_object_get(j, "objects");
	assert_int_equal(json_array_size(objs), 2);
	o = json_array_get(objs, 1);
	assert_string_equal(json_string_value(json_object_get(o, "type")),
	    "certificate");
	assert_true(json_is_true(json_object_get(o, "self_signed")));
	assert_string_equal(json_string_value(json_object_get(o,
	    "sha256_fingerprint")), fpr);
	assert_int_equal(strlen(json_string_value(json_object_get(o,
	    "spki_sha256"))), 44);
	json_decref(j);
	free(out);
	/* Expired relative to KEYRITE_NOW. */
	setenv("KEYRITE_NOW", "2040-01-01T00:00:00Z", 1);
	out = inspect(path, 0, KR_OK);
	assert_non_null(strstr(out, "validity: expired"));
	free(out);
	setenv("KEYRITE_NOW", "2020-01-01T00:00:00Z", 1);
	out = inspect(path, 0, KR_OK);
	assert_non_null(strstr(out, "validity: not yet valid"));
	free(out);
	setenv("KEYRITE_NOW", "2025-01-01T00:00:00Z", 1);

	/* A CSR (DER) with a good and with a tampered signature. */
	snprintf(path, sizeof(path), "%s/int-der.csr", w->dir);
	n = i2d_X509_REQ(csr, &der);
	assert_int_equal(kr_file_write(path, der, (size_t)n, 0644, 0, &err),
	    KR_OK);
	out = inspect(path, 0, KR_OK);
	assert_non_null(strstr(out, "type: csr"));
	assert_non_null(strstr(out, "signature valid: yes"));
	assert_non_null(strstr(out, "DNS:ca.lab.internal"));
	free(out);
	der[n - 1] ^= 1;
	p = der;
	bad = d2i_X509_REQ(NULL, &p, n);
	assert_non_null(bad);
	X509_REQ_free(bad);
	assert_int_equal(kr_file_write(path, der, (size_t)n, 0644, 1, &err),
	    KR_OK);
	OPENSSL_free(der);
	out = inspect(path, 0, KR_OK);
	assert_non_null(strstr(out, "signature valid: no"));
	free(out);

	/* A CRL. */
	rev.serial = int_of(0xabcdef);
	expect_ok(ca_crl_build(w->root, &rev, 1, num, 7 * DAY, T0, &ctbs,
	    &err), &err);
	ca_signer_soft(&s, w->root_key);
	expect_ok(ca_sign_crl(ctbs, &s, w->root, T0, &crl, &err), &err);
	snprintf(path, sizeof(path), "%s/root.crl", w->dir);
	expect_ok(ca_write_crl(path, crl, 0, &err), &err);
	out = inspect(path, 0, KR_OK);
	assert_non_null(strstr(out, "type: crl"));
	assert_non_null(strstr(out, "crl number: 3"));
	assert_non_null(strstr(out, "this update: 2025-01-01T00:00:00Z"));
	assert_non_null(strstr(out, "next update: 2025-01-08T00:00:00Z"));
	assert_non_null(strstr(out, "- serial: abcdef"));
	assert_non_null(strstr(out, "reason: keyCompromise"));
	free(out);

	/* Not a certificate at all; a PEM block of another kind. */
	snprintf(path, sizeof(path), "%s/junk", w->dir);
	assert_int_equal(kr_file_write(path, "hello\n", 6, 0644, 0, &err),
	    KR_OK);
	out = inspect(path, 0, KR_E_PARSE);
	assert_true(out == NULL || out[0] == '\0');
	free(out);
	snprintf(path, sizeof(path), "%s/mixed.pem", w->dir);
	assert_non_null(fp = fopen(path, "w"));
	PEM_write_X509(fp, w->root);
	fputs("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	    fp);
	fclose(fp);
	out = inspect(path, 0, KR_E_PARSE);
	assert_non_null(strstr(out, "does not parse"));
	assert_non_null(strstr(out, "Example Lab Root"));
	free(out);

	unsetenv("KEYRITE_NOW");
	ASN1_INTEGER_free(rev.serial);
	ASN1_INTEGER_free(num);
	X509_CRL_free(ctbs);
	X509_CRL_free(crl);
	X509_free(tbs);
	X509_free(ic);
	X509_REQ_free(csr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md_for_key),
		cmocka_unit_test(test_serial_new),
		cmocka_unit_test(test_parse_subject_table),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_root_p384_signed_and_verifies),
		cmocka_unit_test(test_root_without_constraints),
		cmocka_unit_test(test_tbs_fields_unchanged_by_signing),
		cmocka_unit_test(test_signer_with_other_key_refused),
		cmocka_unit_test(test_signer_garbage_refused),
		cmocka_unit_test(test_signer_key_must_match),
		cmocka_unit_test(test_linter_runs_before_signing),
		cmocka_unit_test(test_intermediate_inherits_constraints),
		cmocka_unit_test(test_intermediate_narrowing),
		cmocka_unit_test(test_csr_bad_signature_refused),
		cmocka_unit_test(test_csr_weak_key_refused),
		cmocka_unit_test(test_csr_san_outside_refused),
		cmocka_unit_test(test_validity_limits),
		cmocka_unit_test(test_leaf_issued_and_chain_verifies),
		cmocka_unit_test(test_leaf_der_matches_leaf_build),
		cmocka_unit_test(test_crl_built_signed_and_linted),
		cmocka_unit_test(test_load_and_write),
		cmocka_unit_test(test_inspect),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
