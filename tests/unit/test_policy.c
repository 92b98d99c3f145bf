/*
 * test_policy.c: the profile parser (shipped profiles, a table of bad
 * inputs with their messages) and the linter (certificates and CRLs
 * built here with software keys, each bad case a single mutation of a
 * good one that must be refused under the right rule id).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../../common/kr.h"
#include "../../policy/lint.h"
#include "../../policy/profile.h"

#define DAY	86400L

/* ------------------------------------------------------------------ */
/* Profiles                                                             */
/* ------------------------------------------------------------------ */

static void
test_shipped_profiles(void **state)
{
	struct pol_profile p;
	struct kr_error err;

	(void)state;
	assert_int_equal(pol_profile_load("profiles/root.yaml", &p, &err),
	    KR_OK);
	assert_string_equal(p.name, "root");
	assert_int_equal(p.kind, POL_KIND_ROOT);
	assert_int_equal(p.path_len, -1);
	assert_int_equal(p.key_usage, KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_int_equal(p.ext_key_usage, 0);
	assert_int_equal(p.default_validity, 3650 * DAY);
	assert_int_equal(p.max_validity, 7300 * DAY);
	assert_int_equal(p.backdate, 300);
	assert_int_equal(p.key_types, POL_KEY_EC_P256 | POL_KEY_EC_P384 |
	    POL_KEY_RSA_3072 | POL_KEY_RSA_4096);
	assert_int_equal(p.name_constraints, POL_NC_OPTIONAL);
	assert_string_equal(p.source, "profiles/root.yaml");

	assert_int_equal(pol_profile_load("profiles/intermediate.yaml", &p,
	    &err), KR_OK);
	assert_int_equal(p.kind, POL_KIND_INTERMEDIATE);
	assert_int_equal(p.path_len, 0);
	assert_int_equal(p.max_validity, 1825 * DAY);
	assert_int_equal(p.default_validity, 1095 * DAY);

	assert_int_equal(pol_profile_load("profiles/tls-server.yaml", &p,
	    &err), KR_OK);
	assert_int_equal(p.kind, POL_KIND_LEAF);
	assert_int_equal(p.key_usage, KU_DIGITAL_SIGNATURE);
	assert_int_equal(p.ext_key_usage, POL_EKU_SERVER_AUTH);
	assert_int_equal(p.default_validity, DAY);
	assert_int_equal(p.max_validity, 30 * DAY);
	assert_true(p.require_san);
	assert_int_equal(p.name_constraints, POL_NC_FORBIDDEN);
	assert_true((p.key_types & POL_KEY_RSA_2048) != 0);

	assert_int_equal(pol_profile_load("profiles/tls-client.yaml", &p,
	    &err), KR_OK);
	assert_int_equal(p.ext_key_usage, POL_EKU_CLIENT_AUTH);
	assert_false(p.require_san);
}

static void
test_profile_find(void **state)
{
	struct pol_profile p;
	struct kr_error err;
	char dir[] = "/tmp/kr-test-policy-XXXXXX", path[256];
	FILE *f;

	(void)state;
	unsetenv("KEYRITE_PROFILE_DIR");
	assert_int_equal(pol_profile_find("tls-server", &p, &err), KR_OK);
	assert_string_equal(p.name, "tls-server");
	assert_int_equal(pol_profile_find("profiles/root.yaml", &p, &err),
	    KR_OK);
	assert_string_equal(p.name, "root");
	assert_int_equal(pol_profile_find("nope", &p, &err), KR_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "profile 'nope' not found; looked "
	    "in "));
	assert_non_null(strstr(err.msg, "profiles/nope.yaml"));
	assert_int_equal(pol_profile_find("a b", &p, &err), KR_E_USAGE);
	assert_int_equal(pol_profile_find("", &p, &err), KR_E_USAGE);
	assert_int_equal(pol_profile_find("nope.yaml", &p, &err),
	    KR_E_NOTFOUND);

	/* $KEYRITE_PROFILE_DIR comes first; the name must match. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tls-server.yaml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("version: 1\nname: other\nkind: leaf\nmax_validity: 1d\n"
	    "default_validity: 1d\nkey_usage: [digitalSignature]\n"
	    "ext_key_usage: [clientAuth]\nkey_types: [ec-p256]\n", f);
	fclose(f);
	setenv("KEYRITE_PROFILE_DIR", dir, 1);
	assert_int_equal(pol_profile_find("tls-server", &p, &err),
	    KR_E_PARSE);
	assert_non_null(strstr(err.msg, "declares name 'other'"));
	assert_int_equal(pol_profile_find("nope", &p, &err), KR_E_NOTFOUND);
	assert_non_null(strstr(err.msg, dir));
	unsetenv("KEYRITE_PROFILE_DIR");
	unlink(path);
	rmdir(dir);
}

/* A good leaf profile, one key a line, so line numbers are known. */
#define L1 "version: 1\n"
#define L2 "name: t\n"
#define L3 "kind: leaf\n"
#define L4 "max_validity: 30d\n"
#define L5 "default_validity: 24h\n"
#define L6 "key_usage: [digitalSignature]\n"
#define L7 "ext_key_usage: [serverAuth]\n"
#define L8 "key_types: [ec-p256]\n"
#define GOOD L1 L2 L3 L4 L5 L6 L7 L8
/* A good intermediate profile, same shape. */
#define CA1_7 L1 L2 "kind: intermediate\n" L4 L5 \
    "key_usage: [keyCertSign, cRLSign]\n" L8

struct bad_profile {
	const char	*what;
	const char	*text;
	size_t		 len;		/* 0: strlen */
	enum kr_err	 code;
	const char	*want;		/* substring of the message */
};

static const struct bad_profile bad_profiles[] = {
	{ "unknown key", GOOD "max_valdity: 3d\n", 0, KR_E_PARSE,
	    "t.yaml:9: unknown key 'max_valdity' (expected one of: version, "
	    "name, kind, max_validity" },
	{ "duplicate key", GOOD "kind: root\n", 0, KR_E_PARSE,
	    "t.yaml:9: duplicate key 'kind' (first given on line 3)" },
	{ "missing kind", L1 L2 L4 L5 L6 L7 L8, 0, KR_E_PARSE,
	    "t.yaml:1: missing required key 'kind'" },
	{ "missing key_types", L1 L2 L3 L4 L5 L6 L7, 0, KR_E_PARSE,
	    "t.yaml:1: missing required key 'key_types'" },
	{ "bad duration", L1 L2 L3 "max_validity: 30x\n" L5 L6 L7 L8, 0,
	    KR_E_PARSE, "t.yaml:4: max_validity: '30x' is not a duration" },
	{ "negative duration", L1 L2 L3 "max_validity: -3d\n" L5 L6 L7 L8,
	    0, KR_E_PARSE, "t.yaml:4: max_validity: '-3d' is not a duration" },
	{ "zero validity", L1 L2 L3 L4 "default_validity: 0d\n" L6 L7 L8, 0,
	    KR_E_PARSE, "t.yaml:5: default_validity: 0d is out of range" },
	{ "default > max", L1 L2 L3 L4 "default_validity: 31d\n" L6 L7 L8,
	    0, KR_E_PARSE, "t.yaml:5: default_validity (2678400 s) is longer "
	    "than max_validity (2592000 s)" },
	{ "negative path_len", CA1_7 "path_len: -1\n", 0, KR_E_PARSE,
	    "t.yaml:8: path_len: must not be negative" },
	{ "path_len too big", CA1_7 "path_len: 17\n", 0, KR_E_PARSE,
	    "t.yaml:8: path_len: 17 is out of range (at most 16)" },
	{ "path_len on a leaf", GOOD "path_len: 0\n", 0, KR_E_PARSE,
	    "t.yaml:9: path_len: only CA profiles" },
	{ "unknown key usage", L1 L2 L3 L4 L5
	    "key_usage: [digitalSignature, signEverything]\n" L7 L8, 0,
	    KR_E_PARSE, "t.yaml:6: key_usage: unknown value 'signEverything' "
	    "(expected one of: digitalSignature," },
	{ "key usage twice", L1 L2 L3 L4 L5
	    "key_usage: [digitalSignature, digitalSignature]\n" L7 L8, 0,
	    KR_E_PARSE, "t.yaml:6: key_usage: 'digitalSignature' is listed "
	    "twice" },
	{ "unknown key type", L1 L2 L3 L4 L5 L6 L7 "key_types: [ec-p521]\n",
	    0, KR_E_PARSE, "t.yaml:8: key_types: unknown value 'ec-p521'" },
	{ "unknown eku", L1 L2 L3 L4 L5 L6 "ext_key_usage: [codeSigning]\n"
	    L8, 0, KR_E_PARSE, "t.yaml:7: ext_key_usage: unknown value "
	    "'codeSigning'" },
	{ "tab indentation", L1 L2 "\tkind: leaf\n" L4 L5 L6 L7 L8, 0,
	    KR_E_PARSE, "t.yaml:3: found a tab character" },
	{ "bad indentation", L1 L2 "  kind: leaf\n" L4 L5 L6 L7 L8, 0,
	    KR_E_PARSE, "t.yaml:3: mapping values are not allowed" },
	{ "unclosed flow list", L1 L2 L3 L4 L5
	    "key_usage: [digitalSignature\n" L7 L8, 0, KR_E_PARSE,
	    "while parsing a flow sequence that starts on line 6" },
	{ "list where a scalar is expected", L1 L2 "kind: [leaf]\n" L4 L5 L6
	    L7 L8, 0, KR_E_PARSE, "t.yaml:3: kind: expected a single value, "
	    "found a list" },
	{ "mapping where a scalar is expected", L1 L2 "kind: {a: b}\n" L4 L5
	    L6 L7 L8, 0, KR_E_PARSE, "t.yaml:3: kind: expected a single "
	    "value, found a mapping" },
	{ "scalar where a list is expected", L1 L2 L3 L4 L5
	    "key_usage: digitalSignature\n" L7 L8, 0, KR_E_PARSE,
	    "t.yaml:6: key_usage: expected a list" },
	{ "empty document", "", 0, KR_E_PARSE, "t.yaml:1: empty profile" },
	{ "only a comment", "# nothing\n", 0, KR_E_PARSE,
	    "t.yaml:1: empty profile" },
	{ "not a mapping", "- version\n- 1\n", 0, KR_E_PARSE,
	    "t.yaml:1: a profile is a mapping" },
	{ "non-UTF-8 garbage", L1 "name: \xff\xfe\x80\n", 0, KR_E_PARSE,
	    "t.yaml:2: invalid leading UTF-8 octet" },
	{ "NUL byte", L1 "\0kind: leaf\n", 22, KR_E_PARSE,
	    "t.yaml:2: control characters are not allowed" },
	{ "wrong version", "version: 2\n" L2 L3 L4 L5 L6 L7 L8, 0,
	    KR_E_PARSE, "t.yaml:1: version: 2 is not supported" },
	{ "quoted version", "version: \"1\"\n" L2 L3 L4 L5 L6 L7 L8, 0,
	    KR_E_PARSE, "t.yaml:1: version: expected an unquoted value" },
	{ "huge version", "version: 99999999999999999999999\n" L2 L3 L4 L5
	    L6 L7 L8, 0, KR_E_PARSE, "t.yaml:1: version: "
	    "99999999999999999999999 is out of range" },
	{ "huge duration", L1 L2 L3 "max_validity: 99999999999999999999d\n"
	    L5 L6 L7 L8, 0, KR_E_PARSE, "t.yaml:4: max_validity: "
	    "'99999999999999999999d' is not a duration" },
	{ "validity over 100 years", L1 L2 L3 "max_validity: 36501d\n" L5 L6
	    L7 L8, 0, KR_E_PARSE, "t.yaml:4: max_validity: 36501d is out of "
	    "range" },
	{ "backdate over a day", GOOD "backdate: 2d\n", 0, KR_E_PARSE,
	    "t.yaml:9: backdate: at most 1 day" },
	{ "bad boolean", GOOD "require_san: yes\n", 0, KR_E_PARSE,
	    "t.yaml:9: require_san: expected true or false, found 'yes'" },
	{ "unknown name_constraints", CA1_7 "name_constraints: maybe\n", 0,
	    KR_E_PARSE, "t.yaml:8: name_constraints: unknown value 'maybe'" },
	{ "name constraints on a leaf", GOOD "name_constraints: required\n",
	    0, KR_E_PARSE, "t.yaml:9: name_constraints: leaf certificates "
	    "cannot carry name constraints" },
	{ "leaf without EKU", L1 L2 L3 L4 L5 L6 L8, 0, KR_E_PARSE,
	    "ext_key_usage: a leaf profile must list" },
	{ "empty EKU list", CA1_7 "ext_key_usage: []\n", 0, KR_E_PARSE,
	    "t.yaml:8: ext_key_usage: must not be empty" },
	{ "leaf with keyCertSign", L1 L2 L3 L4 L5
	    "key_usage: [digitalSignature, keyCertSign]\n" L7 L8, 0,
	    KR_E_PARSE, "t.yaml:6: key_usage: a leaf profile must not "
	    "include keyCertSign" },
	{ "CA without keyCertSign", L1 L2 "kind: root\n" L4 L5
	    "key_usage: [cRLSign]\n" L8, 0, KR_E_PARSE,
	    "t.yaml:6: key_usage: a CA profile must include keyCertSign" },
	{ "root with EKU", L1 L2 "kind: root\n" L4 L5
	    "key_usage: [keyCertSign]\n" L7 L8, 0, KR_E_PARSE,
	    "t.yaml:7: ext_key_usage: a root must not carry" },
	{ "unknown kind", L1 L2 "kind: sub-ca\n" L4 L5 L6 L7 L8, 0,
	    KR_E_PARSE, "t.yaml:3: kind: unknown value 'sub-ca' (expected one "
	    "of: root, intermediate, leaf)" },
	{ "bad profile name", L1 "name: ../etc\n" L3 L4 L5 L6 L7 L8, 0,
	    KR_E_PARSE, "t.yaml:2: name: '../etc' is not a valid profile "
	    "name" },
	{ "explicit tag", L1 L2 "kind: !custom leaf\n" L4 L5 L6 L7 L8, 0,
	    KR_E_PARSE, "t.yaml:3: kind: explicit tags are not allowed" },
	{ "second document", GOOD "---\n" GOOD, 0, KR_E_PARSE,
	    "t.yaml:9: a profile file holds one YAML document" },
	{ "mapping key", GOOD "[a]: b\n", 0, KR_E_PARSE,
	    "t.yaml:9: key: expected a single value" },
};

static void
test_bad_profiles(void **state)
{
	struct pol_profile p;
	struct kr_error err;
	size_t i, len;
	enum kr_err rc;

	(void)state;
	/* The table's base texts are good. */
	assert_int_equal(pol_profile_parse(GOOD, strlen(GOOD), "t.yaml", &p,
	    &err), KR_OK);
	assert_int_equal(pol_profile_parse(CA1_7, strlen(CA1_7), "t.yaml",
	    &p, &err), KR_OK);
	for (i = 0; i < sizeof(bad_profiles) / sizeof(bad_profiles[0]); i++) {
		const struct bad_profile *b = &bad_profiles[i];

		len = b->len != 0 ? b->len : strlen(b->text);
		memset(&err, 0, sizeof(err));
		rc = pol_profile_parse(b->text, len, "t.yaml", &p, &err);
		if (rc != b->code || strstr(err.msg, b->want) == NULL)
			fail_msg("bad profile '%s': rc %d, message '%s'; "
			    "wanted rc %d and '%s'", b->what, rc, err.msg,
			    b->code, b->want);
	}
}

static void
test_profile_defaults(void **state)
{
	static const char ca[] = CA1_7;
	static const char leaf[] = GOOD "path_len_x: 1\n";
	struct pol_profile p;
	struct kr_error err;

	(void)state;
	assert_int_equal(pol_profile_parse(ca, strlen(ca), "t.yaml", &p,
	    &err), KR_OK);
	assert_int_equal(p.path_len, -1);
	assert_int_equal(p.backdate, 0);
	assert_int_equal(p.name_constraints, POL_NC_OPTIONAL);
	assert_int_equal(p.ext_key_usage, 0);
	assert_false(p.require_san || p.require_cdp || p.require_aia);
	assert_int_equal(pol_profile_parse(GOOD, strlen(GOOD), "t.yaml", &p,
	    &err), KR_OK);
	assert_int_equal(p.name_constraints, POL_NC_FORBIDDEN);
	assert_int_equal(pol_profile_parse(leaf, strlen(leaf), "t.yaml", &p,
	    &err), KR_E_PARSE);
	assert_int_equal(pol_profile_parse(NULL, 0, NULL, &p, &err),
	    KR_E_PARSE);
	assert_int_equal(pol_key_type_from_name("ec-p384"), POL_KEY_EC_P384);
	assert_int_equal(pol_key_type_from_name("ec-p521"), 0);
	assert_string_equal(pol_key_type_name(POL_KEY_RSA_3072), "rsa-3072");
	assert_string_equal(pol_kind_name(POL_KIND_INTERMEDIATE),
	    "intermediate");
}

/* ------------------------------------------------------------------ */
/* Certificates                                                         */
/* ------------------------------------------------------------------ */

struct fix {
	time_t			now;
	EVP_PKEY		*k_root, *k_int, *k_leaf, *k_rsa2048;
	EVP_PKEY		*k_rsa1024, *k_p521, *k_k1, *k_rsa_e4;
	EVP_PKEY		*k_p384b;
	struct pol_profile	 p_root, p_int, p_server, p_client;
	struct pol_profile	 p_server_cdp, p_rsa_root;
	X509			*root, *root_nonc, *inter, *inter_nonc;
	X509			*leaf;
};

static struct fix F;

enum base { B_ROOT, B_INT, B_LEAF };
enum iss { I_DEFAULT, I_ROOT_NONC, I_INT_NONC, I_LEAF, I_INT };

typedef void mutation(X509 *x, X509 *issuer);

struct spec {
	const char	*cn;
	EVP_PKEY	*key;
	X509		*issuer;	/* NULL: self-signed */
	EVP_PKEY	*ikey;
	long		 nb, na;	/* seconds from F.now */
	const char	*bc, *ku, *eku, *nc, *san;
};

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e == NULL)
		fail_msg("extension %d '%s' does not build", nid, value);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

static void
del_ext(X509 *x, int nid)
{
	int i;

	while ((i = X509_get_ext_by_NID(x, nid, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(x, i));
}

static void
set_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	del_ext(x, nid);
	add_ext(x, issuer, nid, value);
}

static void
set_serial_bn(X509 *x, BIGNUM *bn)
{
	ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(bn, NULL);

	assert_non_null(ai);
	assert_true(X509_set_serialNumber(x, ai));
	ASN1_INTEGER_free(ai);
}

static void
set_serial_bits(X509 *x, int bits)
{
	BIGNUM *bn = BN_new();

	assert_true(BN_rand(bn, bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY));
	set_serial_bn(x, bn);
	BN_free(bn);
}

static void
set_time(ASN1_TIME *t, long off)
{
	assert_non_null(X509_time_adj_ex(t, 0, off, &F.now));
}

static void
set_cn(X509 *x, const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	if (cn != NULL)
		assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		    (const unsigned char *)cn, -1, -1, 0));
	assert_true(X509_set_subject_name(x, n));
	X509_NAME_free(n);
}

static const EVP_MD *
md_for(EVP_PKEY *k)
{
	char g[64];
	size_t n;

	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	    EVP_PKEY_get_group_name(k, g, sizeof(g), &n) &&
	    strcmp(g, "secp384r1") == 0)
		return EVP_sha384();
	return EVP_sha256();
}

static X509 *
make_cert(const struct spec *s, mutation *mut, const EVP_MD *md)
{
	X509 *x = X509_new();
	X509 *iss = s->issuer;
	EVP_PKEY *signer = s->ikey != NULL ? s->ikey : s->key;

	assert_non_null(x);
	assert_true(X509_set_version(x, X509_VERSION_3));
	set_serial_bits(x, 127);
	set_cn(x, s->cn);
	assert_true(X509_set_issuer_name(x, X509_get_subject_name(
	    iss != NULL ? iss : x)));
	set_time(X509_getm_notBefore(x), s->nb);
	set_time(X509_getm_notAfter(x), s->na);
	assert_true(X509_set_pubkey(x, s->key));
	if (s->bc != NULL)
		add_ext(x, iss, NID_basic_constraints, s->bc);
	add_ext(x, iss, NID_key_usage, s->ku);
	if (s->eku != NULL)
		add_ext(x, iss, NID_ext_key_usage, s->eku);
	add_ext(x, iss, NID_subject_key_identifier, "hash");
	add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
	if (s->nc != NULL)
		add_ext(x, iss, NID_name_constraints, s->nc);
	if (s->san != NULL)
		add_ext(x, iss, NID_subject_alt_name, s->san);
	if (mut != NULL)
		mut(x, iss);
	if (X509_sign(x, signer, md != NULL ? md : md_for(signer)) <= 0)
		fail_msg("X509_sign failed");
	return x;
}

#define ROOT_NC "critical,permitted;DNS:lab.internal," \
    "permitted;IP:10.0.0.0/255.0.0.0,permitted;IP:fd00::/ff00::"
#define INT_NC "critical,permitted;DNS:lab.internal," \
    "permitted;IP:10.1.0.0/255.255.0.0,excluded;DNS:secret.lab.internal"

static void
spec_for(enum base b, enum iss is, EVP_PKEY *key, struct spec *s)
{
	memset(s, 0, sizeof(*s));
	switch (b) {
	case B_ROOT:
		s->cn = "Lab Root";
		s->key = F.k_root;
		s->nb = -300;
		s->na = 3650 * DAY;
		s->bc = "critical,CA:TRUE";
		s->ku = "critical,keyCertSign,cRLSign";
		s->nc = ROOT_NC;
		break;
	case B_INT:
		s->cn = "Lab Intermediate";
		s->key = F.k_int;
		s->issuer = F.root;
		s->ikey = F.k_root;
		s->nb = -300;
		s->na = 1095 * DAY;
		s->bc = "critical,CA:TRUE,pathlen:0";
		s->ku = "critical,keyCertSign,cRLSign";
		s->nc = INT_NC;
		break;
	case B_LEAF:
		s->cn = "www.lab.internal";
		s->key = F.k_leaf;
		s->issuer = F.inter;
		s->ikey = F.k_int;
		s->nb = -300;
		s->na = DAY;
		s->bc = "critical,CA:FALSE";
		s->ku = "critical,digitalSignature";
		s->eku = "serverAuth";
		s->san = "DNS:www.lab.internal,DNS:*.app.lab.internal,"
		    "IP:10.1.2.3";
		break;
	}
	switch (is) {
	case I_DEFAULT:
		break;
	case I_ROOT_NONC:
		s->issuer = F.root_nonc;
		s->ikey = F.k_p384b;
		break;
	case I_INT_NONC:
		s->issuer = F.inter_nonc;
		s->ikey = F.k_int;
		break;
	case I_LEAF:
		s->issuer = F.leaf;
		s->ikey = F.k_leaf;
		break;
	case I_INT:
		s->issuer = F.inter;
		s->ikey = F.k_int;
		break;
	}
	if (key != NULL)
		s->key = key;
}

/* Mutations: each breaks one rule of a good certificate. */
static void
m_no_nc(X509 *x, X509 *i)
{
	(void)i;
	del_ext(x, NID_name_constraints);
}

static void
m_valid_4000d(X509 *x, X509 *i)
{
	(void)i;
	set_time(X509_getm_notAfter(x), 4000 * DAY);
}

static void
m_before_issuer(X509 *x, X509 *i)
{
	(void)i;
	set_time(X509_getm_notBefore(x), -3600);
}

static void
m_order(X509 *x, X509 *i)
{
	(void)i;
	set_time(X509_getm_notBefore(x), 200);
	set_time(X509_getm_notAfter(x), 100);
}

static void
m_future(X509 *x, X509 *i)
{
	(void)i;
	set_time(X509_getm_notBefore(x), 3600);
}

static void
m_expired(X509 *x, X509 *i)
{
	(void)i;
	set_time(X509_getm_notBefore(x), -200);
	set_time(X509_getm_notAfter(x), -100);
}

static void
m_gentime(X509 *x, X509 *i)
{
	ASN1_GENERALIZEDTIME *g;

	(void)i;
	g = ASN1_GENERALIZEDTIME_adj(NULL, F.now, 30, 0);
	assert_true(X509_set1_notAfter(x, g));
	ASN1_GENERALIZEDTIME_free(g);
}

static void
m_serial_neg(X509 *x, X509 *i)
{
	BIGNUM *bn = BN_new();

	(void)i;
	assert_true(BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY));
	BN_set_negative(bn, 1);
	set_serial_bn(x, bn);
	BN_free(bn);
}

static void
m_serial_zero(X509 *x, X509 *i)
{
	BIGNUM *bn = BN_new();

	(void)i;
	BN_zero(bn);
	set_serial_bn(x, bn);
	BN_free(bn);
}

static void
m_serial_short(X509 *x, X509 *i)
{
	(void)i;
	set_serial_bits(x, 63);
}

static void
m_serial_64(X509 *x, X509 *i)
{
	(void)i;
	set_serial_bits(x, 64);
}

static void
m_serial_20(X509 *x, X509 *i)
{
	(void)i;
	set_serial_bits(x, 159);
}

static void
m_serial_21(X509 *x, X509 *i)
{
	(void)i;
	set_serial_bits(x, 160);
}

static void
m_bc_noncrit(X509 *x, X509 *i)
{
	set_ext(x, i, NID_basic_constraints, "CA:TRUE,pathlen:0");
}

static void
m_bc_pathlen1(X509 *x, X509 *i)
{
	set_ext(x, i, NID_basic_constraints, "critical,CA:TRUE,pathlen:1");
}

static void
m_bc_nopathlen(X509 *x, X509 *i)
{
	set_ext(x, i, NID_basic_constraints, "critical,CA:TRUE");
}

static void
m_bc_notca(X509 *x, X509 *i)
{
	set_ext(x, i, NID_basic_constraints, "critical,CA:FALSE");
}

static void
m_bc_none(X509 *x, X509 *i)
{
	(void)i;
	del_ext(x, NID_basic_constraints);
}

static void
m_bc_ca(X509 *x, X509 *i)
{
	set_ext(x, i, NID_basic_constraints, "critical,CA:TRUE");
}

static void
m_root_pathlen(X509 *x, X509 *i)
{
	set_ext(x, i, NID_basic_constraints, "critical,CA:TRUE,pathlen:1");
}

static void
m_ku_missing_crl(X509 *x, X509 *i)
{
	set_ext(x, i, NID_key_usage, "critical,keyCertSign");
}

static void
m_ku_extra(X509 *x, X509 *i)
{
	set_ext(x, i, NID_key_usage,
	    "critical,keyCertSign,cRLSign,digitalSignature");
}

static void
m_ku_noncrit(X509 *x, X509 *i)
{
	set_ext(x, i, NID_key_usage, "keyCertSign,cRLSign");
}

static void
m_ku_none(X509 *x, X509 *i)
{
	(void)i;
	del_ext(x, NID_key_usage);
}

static void
m_leaf_ku_extra(X509 *x, X509 *i)
{
	set_ext(x, i, NID_key_usage, "critical,digitalSignature,"
	    "keyEncipherment");
}

static void
m_ski_none(X509 *x, X509 *i)
{
	(void)i;
	del_ext(x, NID_subject_key_identifier);
}

static void
m_ski_crit(X509 *x, X509 *i)
{
	set_ext(x, i, NID_subject_key_identifier, "critical,hash");
}

static void
m_aki_issuer_serial(X509 *x, X509 *i)
{
	set_ext(x, i, NID_authority_key_identifier,
	    "keyid:always,issuer:always");
}

static void
m_aki_wrong(X509 *x, X509 *i)
{
	AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();
	unsigned char id[20];

	(void)i;
	memset(id, 0x42, sizeof(id));
	aki->keyid = ASN1_OCTET_STRING_new();
	assert_true(ASN1_OCTET_STRING_set(aki->keyid, id, sizeof(id)));
	assert_true(X509_add1_ext_i2d(x, NID_authority_key_identifier, aki,
	    0, X509V3_ADD_REPLACE));
	AUTHORITY_KEYID_free(aki);
}

static void
m_aki_none(X509 *x, X509 *i)
{
	(void)i;
	del_ext(x, NID_authority_key_identifier);
}

static void
m_nc_noncrit(X509 *x, X509 *i)
{
	set_ext(x, i, NID_name_constraints, &INT_NC[strlen("critical,")]);
}

static void
m_nc_wider_dns(X509 *x, X509 *i)
{
	set_ext(x, i, NID_name_constraints, "critical,permitted;DNS:internal,"
	    "permitted;IP:10.1.0.0/255.255.0.0");
}

static void
m_nc_wider_ip(X509 *x, X509 *i)
{
	set_ext(x, i, NID_name_constraints, "critical,permitted;"
	    "DNS:lab.internal,permitted;IP:10.0.0.0/254.0.0.0");
}

static void
m_nc_other_ip(X509 *x, X509 *i)
{
	set_ext(x, i, NID_name_constraints, "critical,permitted;"
	    "DNS:lab.internal,permitted;IP:11.0.0.0/255.0.0.0");
}

static void
m_nc_no_ip(X509 *x, X509 *i)
{
	set_ext(x, i, NID_name_constraints, "critical,permitted;"
	    "DNS:lab.internal");
}

static void
m_nc_host_bits(X509 *x, X509 *i)
{
	set_ext(x, i, NID_name_constraints, "critical,permitted;"
	    "DNS:lab.internal,permitted;IP:10.1.0.1/255.255.0.0");
}

static void
m_nc_narrow_v6(X509 *x, X509 *i)
{
	set_ext(x, i, NID_name_constraints, "critical,permitted;"
	    "DNS:.dev.lab.internal,permitted;IP:10.1.0.0/255.255.0.0,"
	    "permitted;IP:fd00:1::/ffff:ffff::");
}

static void
m_nc_wide_v6(X509 *x, X509 *i)
{
	set_ext(x, i, NID_name_constraints, "critical,permitted;"
	    "DNS:lab.internal,permitted;IP:10.1.0.0/255.255.0.0,"
	    "permitted;IP:fc00::/fe00::");
}

static void
m_nc_on_leaf(X509 *x, X509 *i)
{
	add_ext(x, i, NID_name_constraints, "critical,permitted;"
	    "DNS:www.lab.internal");
}

static void
m_eku_server(X509 *x, X509 *i)
{
	add_ext(x, i, NID_ext_key_usage, "serverAuth");
}

static void
m_eku_client(X509 *x, X509 *i)
{
	set_ext(x, i, NID_ext_key_usage, "clientAuth");
}

static void
m_eku_both(X509 *x, X509 *i)
{
	set_ext(x, i, NID_ext_key_usage, "serverAuth,clientAuth");
}

static void
m_eku_crit(X509 *x, X509 *i)
{
	set_ext(x, i, NID_ext_key_usage, "critical,serverAuth");
}

static void
m_eku_none(X509 *x, X509 *i)
{
	(void)i;
	del_ext(x, NID_ext_key_usage);
}

static void
m_eku_code(X509 *x, X509 *i)
{
	set_ext(x, i, NID_ext_key_usage, "serverAuth,codeSigning");
}

static void
m_issuer_name(X509 *x, X509 *i)
{
	X509_NAME *n = X509_NAME_new();

	(void)i;
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"Some Other CA", -1, -1, 0);
	assert_true(X509_set_issuer_name(x, n));
	X509_NAME_free(n);
}

static void
m_v1(X509 *x, X509 *i)
{
	(void)i;
	while (X509_get_ext_count(x) > 0)
		X509_EXTENSION_free(X509_delete_ext(x, 0));
	assert_true(X509_set_version(x, X509_VERSION_1));
}

static void
m_subject_empty(X509 *x, X509 *i)
{
	(void)i;
	set_cn(x, NULL);
}

static void
m_dup_ku(X509 *x, X509 *i)
{
	add_ext(x, i, NID_key_usage, "critical,keyCertSign,cRLSign");
}

static void
m_unknown_crit(X509 *x, X509 *i)
{
	ASN1_OBJECT *o = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	(void)i;
	assert_true(ASN1_OCTET_STRING_set(v, (const unsigned char *)"\x05\x00",
	    2));
	e = X509_EXTENSION_create_by_OBJ(NULL, o, 1, v);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	ASN1_OBJECT_free(o);
	ASN1_OCTET_STRING_free(v);
}

static void
m_san_outside(X509 *x, X509 *i)
{
	set_cn(x, "www.example.com");
	set_ext(x, i, NID_subject_alt_name, "DNS:www.example.com");
}

static void
m_san_lookalike(X509 *x, X509 *i)
{
	set_cn(x, "evillab.internal");
	set_ext(x, i, NID_subject_alt_name, "DNS:evillab.internal");
}

static void
m_san_ip_outside(X509 *x, X509 *i)
{
	set_ext(x, i, NID_subject_alt_name, "DNS:www.lab.internal,"
	    "IP:10.2.0.1");
}

static void
m_san_ip6(X509 *x, X509 *i)
{
	set_ext(x, i, NID_subject_alt_name, "DNS:www.lab.internal,"
	    "IP:fd00::1");
}

static void
m_san_excluded(X509 *x, X509 *i)
{
	set_ext(x, i, NID_subject_alt_name, "DNS:www.lab.internal,"
	    "DNS:db.secret.lab.internal");
}

static void
m_san_wild_excluded(X509 *x, X509 *i)
{
	set_ext(x, i, NID_subject_alt_name, "DNS:www.lab.internal,"
	    "DNS:*.lab.internal");
}

static void
m_san_none(X509 *x, X509 *i)
{
	(void)i;
	del_ext(x, NID_subject_alt_name);
}

static void
m_san_syntax(X509 *x, X509 *i)
{
	set_ext(x, i, NID_subject_alt_name, "DNS:www.lab.internal,"
	    "DNS:bad_name.lab.internal");
}

static void
m_san_trailing_dot(X509 *x, X509 *i)
{
	set_ext(x, i, NID_subject_alt_name, "DNS:www.lab.internal,"
	    "DNS:api.lab.internal.");
}

static void
m_cn_not_in_san(X509 *x, X509 *i)
{
	(void)i;
	set_cn(x, "api.lab.internal");
}

static void
m_cn_ip_not_in_san(X509 *x, X509 *i)
{
	(void)i;
	set_cn(x, "10.1.9.9");
}

static void
m_cn_ip_in_san(X509 *x, X509 *i)
{
	(void)i;
	set_cn(x, "10.1.2.3");
}

static void
m_leaf_31d(X509 *x, X509 *i)
{
	(void)i;
	set_time(X509_getm_notAfter(x), 31 * DAY);
}

static void
m_leaf_30d_backdated(X509 *x, X509 *i)
{
	(void)i;
	set_time(X509_getm_notAfter(x), 30 * DAY);
}

static void
m_leaf_elsewhere(X509 *x, X509 *i)
{
	set_cn(x, "www.example.com");
	set_ext(x, i, NID_subject_alt_name, "DNS:www.example.com,"
	    "IP:192.0.2.1");
}

static void
m_leaf_cdp_aia(X509 *x, X509 *i)
{
	add_ext(x, i, NID_crl_distribution_points,
	    "URI:http://pki.lab.internal/int.crl");
	add_ext(x, i, NID_info_access,
	    "caIssuers;URI:http://pki.lab.internal/int.crt");
}

static void
m_leaf_cdp_ldap(X509 *x, X509 *i)
{
	add_ext(x, i, NID_crl_distribution_points,
	    "URI:ldap://pki.lab.internal/cn=int");
	add_ext(x, i, NID_info_access,
	    "caIssuers;URI:http://pki.lab.internal/int.crt");
}

static void
m_leaf_cdp_only(X509 *x, X509 *i)
{
	add_ext(x, i, NID_crl_distribution_points,
	    "URI:http://pki.lab.internal/int.crl");
}

static void
m_client(X509 *x, X509 *i)
{
	set_cn(x, "alice");
	del_ext(x, NID_subject_alt_name);
	set_ext(x, i, NID_ext_key_usage, "clientAuth");
}

static void
m_empty_subject_crit_san(X509 *x, X509 *i)
{
	set_cn(x, NULL);
	set_ext(x, i, NID_subject_alt_name, "critical,DNS:www.lab.internal");
}

static void
m_empty_subject_noncrit_san(X509 *x, X509 *i)
{
	(void)i;
	set_cn(x, NULL);
}

static void
m_root_eku(X509 *x, X509 *i)
{
	add_ext(x, i, NID_ext_key_usage, "serverAuth");
}

struct lint_case {
	const char		*what;
	enum base		 base;
	const char		*want;	/* NULL: must pass */
	mutation		*mut;
	enum iss		 iss;
	EVP_PKEY		**key;	/* subject key, NULL: the base's */
	const struct pol_profile *prof;	/* NULL: the base's */
	int			 md;	/* 0: the issuer's; 256 or 384 */
};

static const struct lint_case lint_cases[] = {
	/* Good certificates. */
	{ "good root", B_ROOT, NULL, NULL, 0, NULL, NULL, 0 },
	{ "good root without constraints", B_ROOT, NULL, m_no_nc, 0, NULL,
	    NULL, 0 },
	{ "good RSA-2048 root (custom profile)", B_ROOT, NULL, m_no_nc, 0,
	    &F.k_rsa2048, &F.p_rsa_root, 0 },
	{ "good RSA root signs with SHA-384", B_ROOT, NULL, m_no_nc, 0,
	    &F.k_rsa2048, &F.p_rsa_root, 384 },
	{ "good intermediate", B_INT, NULL, NULL, 0, NULL, NULL, 0 },
	{ "good intermediate, narrower, with IPv6", B_INT, NULL,
	    m_nc_narrow_v6, 0, NULL, NULL, 0 },
	{ "good intermediate under an unconstrained root", B_INT, NULL,
	    m_no_nc, I_ROOT_NONC, NULL, NULL, 0 },
	{ "good intermediate, 64-bit serial", B_INT, NULL, m_serial_64, 0,
	    NULL, NULL, 0 },
	{ "good intermediate, 20-octet serial", B_INT, NULL, m_serial_20, 0,
	    NULL, NULL, 0 },
	{ "good leaf", B_LEAF, NULL, NULL, 0, NULL, NULL, 0 },
	{ "good leaf, RSA-2048", B_LEAF, NULL, NULL, 0, &F.k_rsa2048, NULL,
	    0 },
	{ "good leaf, P-384", B_LEAF, NULL, NULL, 0, &F.k_p384b, NULL, 0 },
	{ "good leaf, 30 days plus backdate", B_LEAF, NULL,
	    m_leaf_30d_backdated, 0, NULL, NULL, 0 },
	{ "good leaf, IP in CN and SAN", B_LEAF, NULL, m_cn_ip_in_san, 0,
	    NULL, NULL, 0 },
	{ "good leaf under an unconstrained chain", B_LEAF, NULL,
	    m_leaf_elsewhere, I_INT_NONC, NULL, NULL, 0 },
	{ "good leaf with CDP and AIA", B_LEAF, NULL, m_leaf_cdp_aia, 0,
	    NULL, &F.p_server_cdp, 0 },
	{ "good client leaf without SAN", B_LEAF, NULL, m_client, 0, NULL,
	    &F.p_client, 0 },
	{ "good leaf, empty subject, critical SAN", B_LEAF, NULL,
	    m_empty_subject_crit_san, 0, NULL, NULL, 0 },

	/* Validity. */
	{ "valid 4000 days", B_INT, "lint: validity-max: certificate is "
	    "valid for 4000 days, 5 minutes; profile 'intermediate' allows "
	    "at most 1825 days (plus 5 minutes backdating)", m_valid_4000d, 0, NULL, NULL,
	    0 },
	{ "leaf valid 31 days", B_LEAF, "lint: validity-max:", m_leaf_31d, 0,
	    NULL, NULL, 0 },
	{ "starts before the issuer", B_INT, "lint: validity-issuer: "
	    "notBefore", m_before_issuer, 0, NULL, NULL, 0 },
	{ "notBefore after notAfter", B_INT, "lint: validity-order:",
	    m_order, 0, NULL, NULL, 0 },
	{ "notBefore in the future", B_INT, "lint: validity-now: notBefore",
	    m_future, 0, NULL, NULL, 0 },
	{ "already expired", B_LEAF, "lint: validity-now: notAfter",
	    m_expired, 0, NULL, NULL, 0 },
	{ "GeneralizedTime before 2050", B_INT, "lint: time-encoding: "
	    "notAfter: dates before 2050 must be UTCTime", m_gentime, 0, NULL,
	    NULL, 0 },

	/* Serial. */
	{ "negative serial", B_INT, "lint: serial-positive: the "
	    "certificate's serial number is negative", m_serial_neg, 0, NULL,
	    NULL, 0 },
	{ "zero serial", B_INT, "lint: serial-positive: the certificate's "
	    "serial number is zero", m_serial_zero, 0, NULL, NULL, 0 },
	{ "63-bit serial", B_INT, "lint: serial-entropy: the certificate's "
	    "serial number has 63 bits", m_serial_short, 0, NULL, NULL, 0 },
	{ "21-octet serial", B_INT, "lint: serial-entropy: the "
	    "certificate's serial number is 21 octets", m_serial_21, 0, NULL,
	    NULL, 0 },

	/* Structure. */
	{ "version 1", B_INT, "lint: version-3: the certificate is version "
	    "1", m_v1, 0, NULL, NULL, 0 },
	{ "profile kind", B_INT, "lint: profile-kind:", NULL, 0, NULL,
	    &F.p_root, 0 },
	{ "duplicate extension", B_INT, "lint: ext-duplicate:", m_dup_ku, 0,
	    NULL, NULL, 0 },
	{ "unknown critical extension", B_INT, "lint: ext-critical: "
	    "critical extension 1.3.6.1.4.1.99999.1", m_unknown_crit, 0,
	    NULL, NULL, 0 },
	{ "critical SKI", B_INT, "lint: ext-critical: X509v3 Subject Key "
	    "Identifier is marked critical", m_ski_crit, 0, NULL, NULL, 0 },

	/* Basic constraints. */
	{ "BC not critical", B_INT, "lint: basic-constraints: "
	    "basicConstraints must be critical", m_bc_noncrit, 0, NULL, NULL,
	    0 },
	{ "BC pathLen 1", B_INT, "lint: basic-constraints: "
	    "pathLenConstraint is 1; profile 'intermediate' requires 0",
	    m_bc_pathlen1, 0, NULL, NULL, 0 },
	{ "BC no pathLen", B_INT, "lint: basic-constraints: "
	    "pathLenConstraint is absent", m_bc_nopathlen, 0, NULL, NULL, 0 },
	{ "BC cA false", B_INT, "lint: basic-constraints: cA is false",
	    m_bc_notca, 0, NULL, NULL, 0 },
	{ "BC missing", B_INT, "lint: basic-constraints: a CA certificate "
	    "needs", m_bc_none, 0, NULL, NULL, 0 },
	{ "leaf asserts cA", B_LEAF, "lint: basic-constraints: a leaf",
	    m_bc_ca, 0, NULL, NULL, 0 },
	{ "root with pathLen", B_ROOT, "lint: basic-constraints: "
	    "pathLenConstraint is 1; profile 'root' has none",
	    m_root_pathlen, 0, NULL, NULL, 0 },

	/* Key usage. */
	{ "KU without cRLSign", B_INT, "lint: key-usage: keyUsage is "
	    "keyCertSign; profile 'intermediate' requires exactly "
	    "keyCertSign, cRLSign (missing: cRLSign", m_ku_missing_crl, 0,
	    NULL, NULL, 0 },
	{ "KU with digitalSignature", B_INT, "lint: key-usage: keyUsage is "
	    "digitalSignature, keyCertSign, cRLSign; profile 'intermediate' "
	    "requires exactly keyCertSign, cRLSign (missing: (none); extra: "
	    "digitalSignature)", m_ku_extra, 0, NULL, NULL, 0 },
	{ "KU not critical", B_INT, "lint: key-usage: keyUsage must be "
	    "critical", m_ku_noncrit, 0, NULL, NULL, 0 },
	{ "KU missing", B_INT, "lint: key-usage: keyUsage is missing",
	    m_ku_none, 0, NULL, NULL, 0 },
	{ "leaf KU keyEncipherment", B_LEAF, "lint: key-usage:",
	    m_leaf_ku_extra, 0, NULL, NULL, 0 },

	/* Extended key usage. */
	{ "EKU on an intermediate", B_INT, "lint: ext-key-usage: profile "
	    "'intermediate' allows no extKeyUsage", m_eku_server, 0, NULL,
	    NULL, 0 },
	{ "EKU on a root", B_ROOT, "lint: ext-key-usage:", m_root_eku, 0,
	    NULL, NULL, 0 },
	{ "server leaf with clientAuth", B_LEAF, "lint: ext-key-usage: "
	    "extKeyUsage is clientAuth; profile 'tls-server' requires "
	    "exactly serverAuth", m_eku_client, 0, NULL, NULL, 0 },
	{ "server leaf with both", B_LEAF, "lint: ext-key-usage:",
	    m_eku_both, 0, NULL, NULL, 0 },
	{ "EKU critical", B_LEAF, "lint: ext-key-usage: extKeyUsage must "
	    "not be critical", m_eku_crit, 0, NULL, NULL, 0 },
	{ "EKU missing", B_LEAF, "lint: ext-key-usage: extKeyUsage is "
	    "missing", m_eku_none, 0, NULL, NULL, 0 },
	{ "EKU codeSigning", B_LEAF, "lint: ext-key-usage: extKeyUsage "
	    "Code Signing is not allowed", m_eku_code, 0, NULL, NULL, 0 },

	/* Key identifiers. */
	{ "no SKI", B_INT, "lint: ski: subjectKeyIdentifier is missing",
	    m_ski_none, 0, NULL, NULL, 0 },
	{ "root without SKI", B_ROOT, "lint: ski:", m_ski_none, 0, NULL,
	    NULL, 0 },
	{ "AKI with issuer and serial", B_INT, "lint: aki: "
	    "authorityKeyIdentifier carries authorityCertIssuer",
	    m_aki_issuer_serial, 0, NULL, NULL, 0 },
	{ "AKI mismatch", B_INT, "lint: aki: authorityKeyIdentifier does not "
	    "match the issuer's", m_aki_wrong, 0, NULL, NULL, 0 },
	{ "AKI missing", B_LEAF, "lint: aki: the certificate has no "
	    "authorityKeyIdentifier", m_aki_none, 0, NULL, NULL, 0 },
	{ "root AKI not its own SKI", B_ROOT, "lint: aki: "
	    "authorityKeyIdentifier does not match the certificate's own",
	    m_aki_wrong, 0, NULL, NULL, 0 },

	/* Name constraints. */
	{ "NC not critical", B_INT, "lint: name-constraints: "
	    "nameConstraints must be critical", m_nc_noncrit, 0, NULL, NULL,
	    0 },
	{ "NC wider DNS", B_INT, "lint: name-constraints: permitted subtree "
	    "DNS:internal is wider than the issuer's (DNS:lab.internal)",
	    m_nc_wider_dns, 0, NULL, NULL, 0 },
	{ "NC wider IP", B_INT, "lint: name-constraints: permitted subtree "
	    "IP:10.0.0.0/7 is wider than the issuer's (IP:10.0.0.0/8, "
	    "IP:fd00::/8)", m_nc_wider_ip, 0, NULL, NULL, 0 },
	{ "NC other IP", B_INT, "lint: name-constraints: permitted subtree "
	    "IP:11.0.0.0/8", m_nc_other_ip, 0, NULL, NULL, 0 },
	{ "NC wider IPv6", B_INT, "lint: name-constraints: permitted subtree "
	    "IP:fc00::/7", m_nc_wide_v6, 0, NULL, NULL, 0 },
	{ "NC drops the IP constraint", B_INT, "lint: name-constraints: the "
	    "issuer permits only IP:10.0.0.0/8, IP:fd00::/8; the CA "
	    "certificate must carry permitted IP subtrees", m_nc_no_ip, 0,
	    NULL, NULL, 0 },
	{ "NC missing under a constrained root", B_INT, "lint: "
	    "name-constraints: the issuer permits only DNS:lab.internal",
	    m_no_nc, 0, NULL, NULL, 0 },
	{ "NC with host bits", B_INT, "lint: name-constraints: subtree "
	    "IP:10.1.0.1/16 is not an address and contiguous mask",
	    m_nc_host_bits, 0, NULL, NULL, 0 },
	{ "NC on a leaf", B_LEAF, "lint: name-constraints: profile "
	    "'tls-server' forbids", m_nc_on_leaf, 0, NULL, NULL, 0 },

	/* Subject alternative names. */
	{ "SAN outside the constraints", B_LEAF, "lint: san-constraints: "
	    "DNS:www.example.com is outside the permitted subtrees "
	    "(DNS:lab.internal) of issuer /CN=Lab Intermediate",
	    m_san_outside, 0, NULL, NULL, 0 },
	{ "SAN look-alike suffix", B_LEAF, "lint: san-constraints: "
	    "DNS:evillab.internal is outside", m_san_lookalike, 0, NULL, NULL,
	    0 },
	{ "SAN IP outside", B_LEAF, "lint: san-constraints: IP:10.2.0.1 is "
	    "outside the permitted subtrees (IP:10.1.0.0/16)",
	    m_san_ip_outside, 0, NULL, NULL, 0 },
	{ "SAN IPv6 with only IPv4 permitted", B_LEAF, "lint: "
	    "san-constraints: IP:fd00::1 is outside", m_san_ip6, 0, NULL,
	    NULL, 0 },
	{ "SAN in an excluded subtree", B_LEAF, "lint: san-constraints: "
	    "DNS:db.secret.lab.internal lies in the excluded subtree "
	    "DNS:secret.lab.internal", m_san_excluded, 0, NULL, NULL, 0 },
	{ "wildcard over an excluded subtree", B_LEAF, "lint: "
	    "san-constraints: DNS:*.lab.internal lies in the excluded",
	    m_san_wild_excluded, 0, NULL, NULL, 0 },
	{ "leaf without SAN", B_LEAF, "lint: san-required: profile "
	    "'tls-server' requires a subjectAltName", m_san_none, 0, NULL,
	    NULL, 0 },
	{ "SAN with an underscore", B_LEAF, "lint: san-syntax: "
	    "DNS:bad_name.lab.internal is not a valid host name",
	    m_san_syntax, 0, NULL, NULL, 0 },
	{ "SAN with a trailing dot", B_LEAF, "lint: san-syntax:",
	    m_san_trailing_dot, 0, NULL, NULL, 0 },
	{ "CN not in SAN", B_LEAF, "lint: cn-san: the subject commonName "
	    "'api.lab.internal'", m_cn_not_in_san, 0, NULL, NULL, 0 },
	{ "CN IP not in SAN", B_LEAF, "lint: cn-san: the subject commonName "
	    "'10.1.9.9'", m_cn_ip_not_in_san, 0, NULL, NULL, 0 },
	{ "empty subject on a CA", B_INT, "lint: subject-empty: a CA "
	    "certificate needs", m_subject_empty, 0, NULL, NULL, 0 },
	{ "empty subject, SAN not critical", B_LEAF, "lint: subject-empty: "
	    "the subject is empty", m_empty_subject_noncrit_san, 0, NULL,
	    NULL, 0 },
	{ "CDP required", B_LEAF, "lint: cdp: profile 'tls-server-cdp' "
	    "requires a CRL distribution point", NULL, 0, NULL,
	    &F.p_server_cdp, 0 },
	{ "CDP not http", B_LEAF, "lint: cdp: cRLDistributionPoints has no "
	    "http:// URI", m_leaf_cdp_ldap, 0, NULL, &F.p_server_cdp, 0 },
	{ "AIA required", B_LEAF, "lint: aia: profile 'tls-server-cdp' "
	    "requires an authorityInfoAccess", m_leaf_cdp_only, 0, NULL,
	    &F.p_server_cdp, 0 },

	/* Keys and algorithms. */
	{ "RSA-1024 key", B_INT, "lint: weak-key: the subject key is an RSA "
	    "key of 1024 bits", NULL, 0, &F.k_rsa1024, NULL, 0 },
	{ "P-521 key", B_INT, "lint: weak-key: the subject key is on curve "
	    "secp521r1", NULL, 0, &F.k_p521, NULL, 0 },
	{ "secp256k1 key", B_LEAF, "lint: weak-key: the subject key is on "
	    "curve secp256k1", NULL, 0, &F.k_k1, NULL, 0 },
	{ "RSA exponent 4", B_LEAF, "lint: weak-key: the subject key has "
	    "RSA public exponent 4", NULL, 0, &F.k_rsa_e4, NULL, 0 },
	{ "RSA-2048 intermediate", B_INT, "lint: key-type: the subject key "
	    "is RSA 2048; profile 'intermediate' allows ec-p256, ec-p384, "
	    "rsa-3072, rsa-4096", NULL, 0, &F.k_rsa2048, NULL, 0 },
	{ "ecdsa-with-SHA256 from a P-384 issuer", B_INT, "lint: sig-alg: "
	    "the certificate is signed with ecdsa-with-SHA256; an EC P-384 "
	    "issuer key signs with ecdsa-with-SHA384", NULL, 0, NULL, NULL,
	    256 },
	{ "ecdsa-with-SHA384 from a P-256 issuer", B_LEAF, "lint: sig-alg: "
	    "the certificate is signed with ecdsa-with-SHA384", NULL, 0, NULL,
	    NULL, 384 },
	{ "self-signed P-384 root with SHA-256", B_ROOT, "lint: sig-alg:",
	    NULL, 0, NULL, NULL, 256 },

	/* Issuer. */
	{ "issuer name mismatch", B_INT, "lint: issuer-name: the "
	    "certificate's issuer name differs", m_issuer_name, 0, NULL, NULL,
	    0 },
	{ "root issuer name differs from subject", B_ROOT, "lint: "
	    "issuer-name:", m_issuer_name, 0, NULL, NULL, 0 },
	{ "issued by a leaf", B_LEAF, "lint: issuer-ca: the issuer "
	    "certificate is not a CA", NULL, I_LEAF, NULL, NULL, 0 },
	{ "CA under a pathLen 0 CA", B_INT, "lint: issuer-ca: the issuer's "
	    "pathLenConstraint is 0", NULL, I_INT, NULL, NULL, 0 },
};

static X509 *
build_case(const struct lint_case *c, X509 **issuer)
{
	struct spec s;
	const EVP_MD *md = NULL;

	spec_for(c->base, c->iss, c->key != NULL ? *c->key : NULL, &s);
	if (c->md == 256)
		md = EVP_sha256();
	else if (c->md == 384)
		md = EVP_sha384();
	*issuer = s.issuer;
	return make_cert(&s, c->mut, md);
}

static const struct pol_profile *
profile_of(const struct lint_case *c)
{
	if (c->prof != NULL)
		return c->prof;
	switch (c->base) {
	case B_ROOT:
		return &F.p_root;
	case B_INT:
		return &F.p_int;
	case B_LEAF:
		break;
	}
	return &F.p_server;
}

/*
 * pol_lint_tbs on x's TBS (the DER signed) under issuer gives what
 * pol_lint_cert gave for c: the same rules see the same fields.
 */
static void
lint_tbs_same(const struct lint_case *c, X509 *x, X509 *iss)
{
	struct pol_issuer *pi = NULL;
	struct kr_error err;
	unsigned char *tbs = NULL;
	int len;
	enum kr_err rc;

	memset(&err, 0, sizeof(err));
	assert_int_equal(pol_issuer_new(iss, &pi, &err), KR_OK);
	assert_true((len = i2d_re_X509_tbs(x, &tbs)) > 0);
	rc = pol_lint_tbs(profile_of(c), pi, tbs, (size_t)len, F.now, &err);
	if (c->want == NULL && rc != KR_OK)
		fail_msg("case '%s' (DER) must pass: %s", c->what, err.msg);
	if (c->want != NULL && (rc != KR_E_POLICY ||
	    strstr(err.msg, c->want) == NULL))
		fail_msg("case '%s' (DER): rc %d, message '%s'; wanted '%s'",
		    c->what, rc, err.msg, c->want);
	OPENSSL_free(tbs);
	pol_issuer_free(pi);
}

static void
test_lint_cert_table(void **state)
{
	struct kr_error err;
	X509 *x, *iss;
	size_t i;
	enum kr_err rc;

	(void)state;
	for (i = 0; i < sizeof(lint_cases) / sizeof(lint_cases[0]); i++) {
		const struct lint_case *c = &lint_cases[i];

		x = build_case(c, &iss);
		memset(&err, 0, sizeof(err));
		rc = pol_lint_cert(profile_of(c), x, iss, F.now, &err);
		if (c->want == NULL && rc != KR_OK)
			fail_msg("case '%s' must pass: %s", c->what, err.msg);
		if (c->want != NULL && (rc != KR_E_POLICY ||
		    strstr(err.msg, c->want) == NULL))
			fail_msg("case '%s': rc %d, message '%s'; wanted '%s'",
			    c->what, rc, err.msg, c->want);
		/* An issued one's TBS as DER: the same verdict. */
		if (iss != NULL)
			lint_tbs_same(c, x, iss);
		X509_free(x);
	}
}

/* The DER entry's own refusals, and its fast key decoder. */
static void
test_lint_tbs_der(void **state)
{
	EVP_PKEY *const keys[] = { F.k_leaf, F.k_root, F.k_rsa2048, F.k_p521 };
	struct pol_issuer *pi = NULL;
	struct kr_error err;
	unsigned char *tbs = NULL, *spki = NULL, *bad;
	const unsigned char *p;
	EVP_PKEY *k, *want;
	size_t i;
	int len, n;

	(void)state;
	assert_int_equal(pol_issuer_new(F.inter, &pi, &err), KR_OK);
	assert_true((len = i2d_re_X509_tbs(F.leaf, &tbs)) > 0);
	assert_int_equal(pol_lint_tbs(&F.p_server, pi, tbs, (size_t)len,
	    F.now, &err), KR_OK);
	/* Truncated, trailing bytes, a long form where short would do. */
	assert_int_equal(pol_lint_tbs(&F.p_server, pi, tbs, (size_t)len - 1,
	    F.now, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "lint: encoding:"));
	assert_non_null(bad = malloc((size_t)len + 2));
	memcpy(bad, tbs, (size_t)len);
	bad[len] = 0x05;
	bad[len + 1] = 0x00;
	assert_int_equal(pol_lint_tbs(&F.p_server, pi, bad, (size_t)len + 2,
	    F.now, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "lint: encoding:"));
	/* The serial's INTEGER, 02 len, as 02 81 len: not DER. */
	memcpy(bad, tbs, (size_t)len);
	for (n = 0; n < len - 2 && !(bad[n] == 0x02 && bad[n + 1] == 0x10);
	    n++)
		;
	assert_true(n < len - 2);
	memmove(bad + n + 2, bad + n + 1, (size_t)(len - n - 1));
	bad[n + 1] = 0x81;
	assert_int_equal(pol_lint_tbs(&F.p_server, pi, bad, (size_t)len + 1,
	    F.now, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "lint: encoding:"));
	free(bad);
	/* A leaf is not an issuer. */
	pol_issuer_free(pi);
	assert_int_equal(pol_issuer_new(F.leaf, &pi, &err), KR_OK);
	assert_int_equal(pol_lint_tbs(&F.p_server, pi, tbs, (size_t)len,
	    F.now, &err), KR_E_POLICY);
	pol_issuer_free(pi);

	/*
	 * pol_lint_tbs_key: the key already decoded is linted when the
	 * TBS's key bytes are the ones given (a P-521 key in their place is
	 * refused, so it was the one looked at), and ignored otherwise.
	 */
	assert_int_equal(pol_issuer_new(F.inter, &pi, &err), KR_OK);
	assert_true((n = i2d_PUBKEY(F.k_leaf, &spki)) > 0);
	assert_int_equal(pol_lint_tbs_key(&F.p_server, pi, tbs, (size_t)len,
	    F.k_leaf, spki, (size_t)n, F.now, &err), KR_OK);
	assert_int_equal(pol_lint_tbs_key(&F.p_server, pi, tbs, (size_t)len,
	    F.k_p521, spki, (size_t)n, F.now, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "weak-key: the subject key is on "
	    "curve secp521r1"));
	spki[n - 1] ^= 0x01;
	assert_int_equal(pol_lint_tbs_key(&F.p_server, pi, tbs, (size_t)len,
	    F.k_p521, spki, (size_t)n, F.now, &err), KR_OK);
	assert_int_equal(pol_lint_tbs_key(&F.p_server, pi, tbs, (size_t)len,
	    F.k_p521, spki, (size_t)n - 1, F.now, &err), KR_OK);
	OPENSSL_free(spki);
	spki = NULL;
	pol_issuer_free(pi);
	OPENSSL_free(tbs);

	/* The fast decoder gives the key d2i_PUBKEY gives, or nothing. */
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		n = i2d_PUBKEY(keys[i], &spki);
		assert_true(n > 0);
		p = spki;
		want = d2i_PUBKEY(NULL, &p, n);
		k = pol_pubkey_from_spki(spki, (size_t)n);
		assert_non_null(k);
		assert_int_equal(EVP_PKEY_eq(k, want), 1);
		EVP_PKEY_free(k);
		EVP_PKEY_free(want);
		assert_null(pol_pubkey_from_spki(spki, (size_t)n - 1));
		if (i == 0) {
			/* P-256: a point off the curve is refused. */
			spki[n - 1] ^= 0x01;
			assert_null(pol_pubkey_from_spki(spki, (size_t)n));
		}
		OPENSSL_free(spki);
		spki = NULL;
	}
	ERR_clear_error();
}

/* The fixtures themselves pass, and the linter is deterministic. */
static void
test_lint_fixtures(void **state)
{
	struct kr_error err;

	(void)state;
	assert_int_equal(pol_lint_cert(&F.p_root, F.root, NULL, F.now, &err),
	    KR_OK);
	assert_int_equal(pol_lint_cert(&F.p_root, F.root_nonc, NULL, F.now,
	    &err), KR_OK);
	assert_int_equal(pol_lint_cert(&F.p_int, F.inter, F.root, F.now,
	    &err), KR_OK);
	assert_int_equal(pol_lint_cert(&F.p_int, F.inter_nonc, F.root_nonc,
	    F.now, &err), KR_OK);
	assert_int_equal(pol_lint_cert(&F.p_server, F.leaf, F.inter, F.now,
	    &err), KR_OK);
	/* A year later the leaf has expired. */
	assert_int_equal(pol_lint_cert(&F.p_server, F.leaf, F.inter,
	    F.now + 365 * DAY, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "lint: validity-now:"));
	/* A root passed with an issuer is refused. */
	assert_int_equal(pol_lint_cert(&F.p_root, F.root, F.root, F.now,
	    &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "lint: profile-kind:"));
	assert_int_equal(pol_key_type_of(F.k_root), POL_KEY_EC_P384);
	assert_int_equal(pol_key_type_of(F.k_rsa2048), POL_KEY_RSA_2048);
	assert_int_equal(pol_key_type_of(F.k_p521), 0);
	assert_int_equal(pol_key_type_of(F.k_rsa1024), 0);
}

/* ------------------------------------------------------------------ */
/* pol_name_permitted                                                   */
/* ------------------------------------------------------------------ */

static GENERAL_NAME *
gn_dns(const char *s)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

	assert_true(ASN1_STRING_set(ia5, s, -1));
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	return gn;
}

static GENERAL_NAME *
gn_ip(const char *s)
{
	ASN1_OCTET_STRING *o = a2i_IPADDRESS(s);
	GENERAL_NAME *gn = GENERAL_NAME_new();

	assert_non_null(o);
	GENERAL_NAME_set0_value(gn, GEN_IPADD, o);
	return gn;
}

static X509 *
ca_with_nc(const char *nc)
{
	struct spec s;

	spec_for(B_INT, I_DEFAULT, NULL, &s);
	s.nc = nc;
	return make_cert(&s, NULL, NULL);
}

static void
test_name_permitted(void **state)
{
	static const struct {
		const char	*nc;
		int		 ip;
		const char	*name;
		int		 ok;
	} t[] = {
		{ "critical,permitted;DNS:lab.internal", 0, "lab.internal", 1 },
		{ "critical,permitted;DNS:lab.internal", 0, "x.lab.internal",
		    1 },
		{ "critical,permitted;DNS:lab.internal", 0, "a.b.LAB.Internal",
		    1 },
		{ "critical,permitted;DNS:lab.internal", 0, "xlab.internal",
		    0 },
		{ "critical,permitted;DNS:lab.internal", 0, "lab.internal.com",
		    0 },
		{ "critical,permitted;DNS:lab.internal", 0, "internal", 0 },
		{ "critical,permitted;DNS:lab.internal", 0, "*.lab.internal",
		    1 },
		{ "critical,permitted;DNS:.lab.internal", 0, "lab.internal",
		    0 },
		{ "critical,permitted;DNS:.lab.internal", 0, "a.lab.internal",
		    1 },
		{ "critical,permitted;DNS:lab.internal", 1, "10.0.0.1", 1 },
		{ "critical,permitted;IP:10.0.0.0/255.0.0.0", 1, "10.255.0.1",
		    1 },
		{ "critical,permitted;IP:10.0.0.0/255.0.0.0", 1, "11.0.0.1",
		    0 },
		{ "critical,permitted;IP:10.0.0.0/255.0.0.0", 0, "anything.com",
		    1 },
		{ "critical,permitted;IP:10.0.0.0/255.0.0.0", 1, "::1", 0 },
		{ "critical,permitted;IP:fd00::/ff00::", 1, "fd12::1", 1 },
		{ "critical,permitted;IP:fd00::/ff00::", 1, "fe80::1", 0 },
		{ "critical,excluded;DNS:bad.lab.internal", 0,
		    "x.bad.lab.internal", 0 },
		{ "critical,excluded;DNS:bad.lab.internal", 0,
		    "good.lab.internal", 1 },
		{ "critical,excluded;IP:10.9.0.0/255.255.0.0", 1, "10.9.1.1",
		    0 },
		{ "critical,excluded;IP:10.9.0.0/255.255.0.0", 1, "10.8.1.1",
		    1 },
	};
	struct kr_error err;
	GENERAL_NAME *gn;
	X509 *ca;
	size_t i;
	enum kr_err rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ca = ca_with_nc(t[i].nc);
		gn = t[i].ip ? gn_ip(t[i].name) : gn_dns(t[i].name);
		memset(&err, 0, sizeof(err));
		rc = pol_name_permitted(ca, gn, &err);
		if ((rc == KR_OK) != t[i].ok)
			fail_msg("%s under %s: rc %d (%s); wanted %s",
			    t[i].name, t[i].nc, rc, err.msg,
			    t[i].ok ? "permitted" : "refused");
		if (!t[i].ok && strstr(err.msg, "lint: san-constraints:") ==
		    NULL)
			fail_msg("%s: message '%s'", t[i].name, err.msg);
		GENERAL_NAME_free(gn);
		X509_free(ca);
	}
	/* No constraints: everything, but still well-formed. */
	gn = gn_dns("anything.example");
	assert_int_equal(pol_name_permitted(F.root_nonc, gn, &err), KR_OK);
	GENERAL_NAME_free(gn);
	gn = gn_dns("bad..name");
	assert_int_equal(pol_name_permitted(F.root_nonc, gn, &err),
	    KR_E_POLICY);
	assert_non_null(strstr(err.msg, "lint: san-syntax:"));
	GENERAL_NAME_free(gn);
}

/* ------------------------------------------------------------------ */
/* CRLs                                                                 */
/* ------------------------------------------------------------------ */

typedef void crl_mutation(X509_CRL *c, X509 *issuer);

static void
crl_add_revoked(X509_CRL *c, long serial, long when, int reason)
{
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_ENUMERATED *e;

	assert_true(ASN1_INTEGER_set(ai, serial));
	assert_true(X509_REVOKED_set_serialNumber(r, ai));
	set_time(t, when);
	assert_true(X509_REVOKED_set_revocationDate(r, t));
	if (reason >= 0) {
		e = ASN1_ENUMERATED_new();
		assert_true(ASN1_ENUMERATED_set(e, reason));
		assert_true(X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0,
		    0));
		ASN1_ENUMERATED_free(e);
	}
	assert_true(X509_CRL_add0_revoked(c, r));
	ASN1_INTEGER_free(ai);
	ASN1_TIME_free(t);
}

static void
crl_set_number(X509_CRL *c, long n)
{
	ASN1_INTEGER *ai = ASN1_INTEGER_new();

	assert_true(ASN1_INTEGER_set(ai, n));
	assert_true(X509_CRL_add1_ext_i2d(c, NID_crl_number, ai, 0,
	    X509V3_ADD_REPLACE));
	ASN1_INTEGER_free(ai);
}

static void
crl_del_ext(X509_CRL *c, int nid)
{
	int i;

	while ((i = X509_CRL_get_ext_by_NID(c, nid, -1)) >= 0)
		X509_EXTENSION_free(X509_CRL_delete_ext(c, i));
}

static void
cm_v1(X509_CRL *c, X509 *i)
{
	(void)i;
	assert_true(X509_CRL_set_version(c, 0));
}

static void
cm_issuer(X509_CRL *c, X509 *i)
{
	X509_NAME *n = X509_NAME_new();

	(void)i;
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"Some Other CA", -1, -1, 0);
	assert_true(X509_CRL_set_issuer_name(c, n));
	X509_NAME_free(n);
}

static void
cm_this_future(X509_CRL *c, X509 *i)
{
	ASN1_TIME *t = ASN1_TIME_new();

	(void)i;
	set_time(t, 3600);
	assert_true(X509_CRL_set1_lastUpdate(c, t));
	ASN1_TIME_free(t);
}

static void
cm_next_past(X509_CRL *c, X509 *i)
{
	ASN1_TIME *t = ASN1_TIME_new();

	(void)i;
	set_time(t, -200);
	assert_true(X509_CRL_set1_lastUpdate(c, t));
	set_time(t, -100);
	assert_true(X509_CRL_set1_nextUpdate(c, t));
	ASN1_TIME_free(t);
}

static void
cm_next_beyond_issuer(X509_CRL *c, X509 *i)
{
	ASN1_TIME *t = ASN1_TIME_new();

	(void)i;
	set_time(t, 2000 * DAY);
	assert_true(X509_CRL_set1_nextUpdate(c, t));
	ASN1_TIME_free(t);
}

static void
cm_no_number(X509_CRL *c, X509 *i)
{
	(void)i;
	crl_del_ext(c, NID_crl_number);
}

static void
cm_neg_number(X509_CRL *c, X509 *i)
{
	(void)i;
	crl_set_number(c, -1);
}

static void
cm_crit_number(X509_CRL *c, X509 *i)
{
	ASN1_INTEGER *ai = ASN1_INTEGER_new();

	(void)i;
	assert_true(ASN1_INTEGER_set(ai, 7));
	assert_true(X509_CRL_add1_ext_i2d(c, NID_crl_number, ai, 1,
	    X509V3_ADD_REPLACE));
	ASN1_INTEGER_free(ai);
}

static void
cm_no_aki(X509_CRL *c, X509 *i)
{
	(void)i;
	crl_del_ext(c, NID_authority_key_identifier);
}

static void
cm_wrong_aki(X509_CRL *c, X509 *i)
{
	AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();
	unsigned char id[20];

	(void)i;
	memset(id, 0x42, sizeof(id));
	aki->keyid = ASN1_OCTET_STRING_new();
	assert_true(ASN1_OCTET_STRING_set(aki->keyid, id, sizeof(id)));
	assert_true(X509_CRL_add1_ext_i2d(c, NID_authority_key_identifier,
	    aki, 0, X509V3_ADD_REPLACE));
	AUTHORITY_KEYID_free(aki);
}

static void
cm_neg_serial(X509_CRL *c, X509 *i)
{
	(void)i;
	crl_add_revoked(c, -5, -100, 1);
}

static void
cm_zero_serial(X509_CRL *c, X509 *i)
{
	(void)i;
	crl_add_revoked(c, 0, -100, 1);
}

static void
cm_dup_serial(X509_CRL *c, X509 *i)
{
	(void)i;
	crl_add_revoked(c, 0x1234567, -50, 4);
}

static void
cm_reason_7(X509_CRL *c, X509 *i)
{
	(void)i;
	crl_add_revoked(c, 99, -100, 7);
}

static void
cm_reason_0(X509_CRL *c, X509 *i)
{
	(void)i;
	crl_add_revoked(c, 99, -100, 0);
}

static void
cm_revoked_future(X509_CRL *c, X509 *i)
{
	(void)i;
	crl_add_revoked(c, 99, 3600, 1);
}

struct crl_case {
	const char	*what;
	const char	*want;		/* NULL: must pass */
	crl_mutation	*mut;
	int		 iss;		/* 0: intermediate, 1: root, 2: leaf */
	int		 md;
	int		 no_next;
};

static const struct crl_case crl_cases[] = {
	{ "good CRL", NULL, NULL, 0, 0, 0 },
	{ "good root CRL", NULL, NULL, 1, 0, 0 },
	{ "CRL v1", "lint: crl-version: the CRL is version 1", cm_v1, 0, 0,
	    0 },
	{ "CRL issuer name", "lint: crl-issuer-name:", cm_issuer, 0, 0, 0 },
	{ "thisUpdate in the future", "lint: crl-this-update: thisUpdate",
	    cm_this_future, 0, 0, 0 },
	{ "no nextUpdate", "lint: crl-next-update: the CRL has no "
	    "nextUpdate", NULL, 0, 0, 1 },
	{ "nextUpdate past", "lint: crl-next-update: nextUpdate",
	    cm_next_past, 0, 0, 0 },
	{ "nextUpdate after the issuer expires", "lint: crl-next-update: "
	    "nextUpdate", cm_next_beyond_issuer, 0, 0, 0 },
	{ "no CRL number", "lint: crl-number: cRLNumber is missing",
	    cm_no_number, 0, 0, 0 },
	{ "negative CRL number", "lint: crl-number: cRLNumber must be a "
	    "non-negative", cm_neg_number, 0, 0, 0 },
	{ "critical CRL number", "lint: ext-critical: X509v3 CRL Number is "
	    "marked critical", cm_crit_number, 0, 0, 0 },
	{ "no AKI", "lint: crl-aki: the CRL has no authorityKeyIdentifier",
	    cm_no_aki, 0, 0, 0 },
	{ "wrong AKI", "lint: crl-aki: authorityKeyIdentifier does not "
	    "match", cm_wrong_aki, 0, 0, 0 },
	{ "negative revoked serial", "lint: crl-serial: revoked entry",
	    cm_neg_serial, 0, 0, 0 },
	{ "zero revoked serial", "lint: crl-serial: revoked entry",
	    cm_zero_serial, 0, 0, 0 },
	{ "serial listed twice", "lint: crl-serial: a serial number is "
	    "listed twice", cm_dup_serial, 0, 0, 0 },
	{ "reason code 7", "lint: crl-reason:", cm_reason_7, 0, 0, 0 },
	{ "reason unspecified", "lint: crl-reason:", cm_reason_0, 0, 0, 0 },
	{ "revocation after thisUpdate", "lint: crl-revocation-date:",
	    cm_revoked_future, 0, 0, 0 },
	{ "CRL sig alg", "lint: sig-alg: the CRL is signed with "
	    "ecdsa-with-SHA384", NULL, 0, 384, 0 },
	{ "CRL by a leaf", "lint: issuer-ca:", NULL, 2, 0, 0 },
};

static X509_CRL *
make_crl(const struct crl_case *cc, X509 **issuer)
{
	X509_CRL *c = X509_CRL_new();
	X509 *iss = cc->iss == 1 ? F.root : cc->iss == 2 ? F.leaf : F.inter;
	EVP_PKEY *k = cc->iss == 1 ? F.k_root : cc->iss == 2 ? F.k_leaf :
	    F.k_int;
	ASN1_TIME *t = ASN1_TIME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	assert_true(X509_CRL_set_version(c, 1));
	assert_true(X509_CRL_set_issuer_name(c, X509_get_subject_name(iss)));
	set_time(t, 0);
	assert_true(X509_CRL_set1_lastUpdate(c, t));
	if (!cc->no_next) {
		set_time(t, 7 * DAY);
		assert_true(X509_CRL_set1_nextUpdate(c, t));
	}
	ASN1_TIME_free(t);
	crl_add_revoked(c, 0x1234567, -DAY, 1);
	crl_add_revoked(c, 0x7654321, -3600, -1);
	crl_set_number(c, 42);
	X509V3_set_ctx(&ctx, iss, NULL, NULL, c, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
	    "keyid:always");
	assert_non_null(e);
	assert_true(X509_CRL_add_ext(c, e, -1));
	X509_EXTENSION_free(e);
	if (cc->mut != NULL)
		cc->mut(c, iss);
	assert_true(X509_CRL_sort(c));
	assert_true(X509_CRL_sign(c, k, cc->md == 384 ? EVP_sha384() :
	    cc->md == 256 ? EVP_sha256() : md_for(k)) > 0);
	*issuer = iss;
	return c;
}

static void
test_lint_crl_table(void **state)
{
	struct kr_error err;
	X509_CRL *c;
	X509 *iss;
	size_t i;
	enum kr_err rc;

	(void)state;
	for (i = 0; i < sizeof(crl_cases) / sizeof(crl_cases[0]); i++) {
		const struct crl_case *cc = &crl_cases[i];

		c = make_crl(cc, &iss);
		memset(&err, 0, sizeof(err));
		rc = pol_lint_crl(c, iss, F.now, &err);
		X509_CRL_free(c);
		if (cc->want == NULL && rc != KR_OK)
			fail_msg("CRL case '%s' must pass: %s", cc->what,
			    err.msg);
		if (cc->want != NULL && (rc != KR_E_POLICY ||
		    strstr(err.msg, cc->want) == NULL))
			fail_msg("CRL case '%s': rc %d, message '%s'; wanted "
			    "'%s'", cc->what, rc, err.msg, cc->want);
	}
}

/* ------------------------------------------------------------------ */
/* Fixtures                                                             */
/* ------------------------------------------------------------------ */

/* An RSA public key with modulus n of k and exponent e (a bad one). */
static EVP_PKEY *
rsa_with_e(EVP_PKEY *k, unsigned long e)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *out = NULL;
	BIGNUM *n = NULL, *bne = BN_new();

	assert_true(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n));
	assert_true(BN_set_word(bne, e));
	assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n));
	assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, bne));
	params = OSSL_PARAM_BLD_to_param(b);
	assert_true(EVP_PKEY_fromdata_init(ctx) == 1);
	assert_true(EVP_PKEY_fromdata(ctx, &out, EVP_PKEY_PUBLIC_KEY,
	    params) == 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(bne);
	return out;
}

static void
parse_text(const char *text, struct pol_profile *p)
{
	struct kr_error err;

	if (pol_profile_parse(text, strlen(text), "test", p, &err) != KR_OK)
		fail_msg("%s", err.msg);
}

static int
setup(void **state)
{
	struct kr_error err;
	struct spec s;

	(void)state;
	memset(&F, 0, sizeof(F));
	F.now = time(NULL);
	F.k_root = EVP_EC_gen("P-384");
	F.k_p384b = EVP_EC_gen("P-384");
	F.k_int = EVP_EC_gen("P-256");
	F.k_leaf = EVP_EC_gen("P-256");
	F.k_p521 = EVP_EC_gen("P-521");
	F.k_k1 = EVP_EC_gen("secp256k1");
	F.k_rsa2048 = EVP_RSA_gen(2048);
	F.k_rsa1024 = EVP_RSA_gen(1024);
	if (F.k_root == NULL || F.k_int == NULL || F.k_leaf == NULL ||
	    F.k_p521 == NULL || F.k_k1 == NULL || F.k_rsa2048 == NULL ||
	    F.k_rsa1024 == NULL || F.k_p384b == NULL)
		return -1;
	F.k_rsa_e4 = rsa_with_e(F.k_rsa2048, 4);
	if (pol_profile_load("profiles/root.yaml", &F.p_root, &err) != KR_OK ||
	    pol_profile_load("profiles/intermediate.yaml", &F.p_int, &err) !=
	    KR_OK ||
	    pol_profile_load("profiles/tls-server.yaml", &F.p_server, &err) !=
	    KR_OK ||
	    pol_profile_load("profiles/tls-client.yaml", &F.p_client, &err) !=
	    KR_OK) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	parse_text("version: 1\nname: tls-server-cdp\nkind: leaf\n"
	    "max_validity: 30d\ndefault_validity: 1d\nbackdate: 5m\n"
	    "key_usage: [digitalSignature]\next_key_usage: [serverAuth]\n"
	    "key_types: [ec-p256]\nrequire_san: true\nrequire_cdp: true\n"
	    "require_aia: true\n", &F.p_server_cdp);
	parse_text("version: 1\nname: rsa-root\nkind: root\n"
	    "max_validity: 7300d\ndefault_validity: 3650d\nbackdate: 5m\n"
	    "key_usage: [keyCertSign, cRLSign]\nkey_types: [rsa-2048]\n",
	    &F.p_rsa_root);

	spec_for(B_ROOT, I_DEFAULT, NULL, &s);
	F.root = make_cert(&s, NULL, NULL);
	spec_for(B_ROOT, I_DEFAULT, F.k_p384b, &s);
	s.cn = "Other Root";
	s.nc = NULL;
	F.root_nonc = make_cert(&s, NULL, NULL);
	spec_for(B_INT, I_DEFAULT, NULL, &s);
	F.inter = make_cert(&s, NULL, NULL);
	spec_for(B_INT, I_ROOT_NONC, NULL, &s);
	s.cn = "Unconstrained Intermediate";
	s.nc = NULL;
	F.inter_nonc = make_cert(&s, NULL, NULL);
	spec_for(B_LEAF, I_DEFAULT, NULL, &s);
	F.leaf = make_cert(&s, NULL, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(F.root);
	X509_free(F.root_nonc);
	X509_free(F.inter);
	X509_free(F.inter_nonc);
	X509_free(F.leaf);
	EVP_PKEY_free(F.k_root);
	EVP_PKEY_free(F.k_p384b);
	EVP_PKEY_free(F.k_int);
	EVP_PKEY_free(F.k_leaf);
	EVP_PKEY_free(F.k_p521);
	EVP_PKEY_free(F.k_k1);
	EVP_PKEY_free(F.k_rsa2048);
	EVP_PKEY_free(F.k_rsa1024);
	EVP_PKEY_free(F.k_rsa_e4);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_profiles),
		cmocka_unit_test(test_profile_find),
		cmocka_unit_test(test_bad_profiles),
		cmocka_unit_test(test_profile_defaults),
		cmocka_unit_test(test_lint_fixtures),
		cmocka_unit_test(test_lint_cert_table),
		cmocka_unit_test(test_lint_tbs_der),
		cmocka_unit_test(test_name_permitted),
		cmocka_unit_test(test_lint_crl_table),
	};

	return cmocka_run_group_tests_name("policy", tests, setup, teardown);
}
