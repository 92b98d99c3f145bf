/*
 * test_apireq.c: the bodies of keyrited's API requests.  Good bodies of
 * each kind parse to what they say; a table of bad ones is refused with
 * the status and stable code docs/api.md gives, and a message naming
 * what is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../../ca/apireq.h"

static char *good_csr;		/* PEM */
static char *bad_sig_csr;	/* PEM whose signature is broken */

static char *
req_pem(X509_REQ *r)
{
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	char *s;

	assert_non_null(b);
	assert_int_equal(PEM_write_bio_X509_REQ(b, r), 1);
	BIO_get_mem_ptr(b, &m);
	s = strndup(m->data, m->length);
	BIO_free(b);
	return s;
}

static int
setup(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	unsigned char *der = NULL;
	const unsigned char *p;
	int len;

	(void)state;
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"a.web.lab.internal", -1, -1, 0);
	X509_REQ_set_subject_name(r, n);
	X509_REQ_set_pubkey(r, k);
	X509_REQ_sign(r, k, EVP_sha256());
	good_csr = req_pem(r);
	/* Flip a bit in the last byte: inside the signature. */
	len = i2d_X509_REQ(r, &der);
	der[len - 1] ^= 1;
	p = der;
	X509_REQ_free(r);
	r = d2i_X509_REQ(NULL, &p, len);
	if (r == NULL)
		return -1;
	bad_sig_csr = req_pem(r);
	OPENSSL_free(der);
	X509_REQ_free(r);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(good_csr);
	free(bad_sig_csr);
	return 0;
}

static char *
sign_body(const char *csr, const char *extra)
{
	json_t *o = json_pack("{s:s, s:s}", "csr", csr, "token", "t.t.t");
	char *s;

	if (extra != NULL)
		json_object_set_new(o, extra, json_string("24h"));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static void
test_good(void **state)
{
	struct ca_apireq r;
	struct ca_apireq_err e;
	const char *cb;
	char *b;

	(void)state;
	b = sign_body(good_csr, "lifetime");
	assert_int_equal(ca_apireq_parse(CA_APIREQ_SIGN, b, strlen(b), &r,
	    &e), 0);
	assert_non_null(r.csr);
	assert_string_equal(r.token, "t.t.t");
	assert_int_equal(r.lifetime, 86400);
	ca_apireq_free(&r);
	free(b);

	assert_int_equal(ca_apireq_parse(CA_APIREQ_RENEW, "{}", 2, &r, &e),
	    0);
	assert_int_equal(r.lifetime, 0);
	ca_apireq_free(&r);

	cb = "{\"serial\":\"2C91AB\",\"reason\":\"keyCompromise\","
	    "\"token\":\"x\"}";
	assert_int_equal(ca_apireq_parse(CA_APIREQ_REVOKE, cb, strlen(cb), &r,
	    &e), 0);
	assert_string_equal(r.serial, "2c91ab");
	assert_int_equal(r.reason, 1);
	ca_apireq_free(&r);

	cb = "{\"reason\":\"superseded\"}";
	assert_int_equal(ca_apireq_parse(CA_APIREQ_REVOKE, cb, strlen(cb), &r,
	    &e), 0);
	assert_null(r.serial);
	assert_int_equal(r.reason, 4);
	ca_apireq_free(&r);
}

static void
test_bad(void **state)
{
	static const struct {
		enum ca_apireq_kind	 kind;
		const char		*body;	/* "@CSR" / "@BADSIG" */
		int			 http;
		const char		*code;
		const char		*says;	/* in the message */
	} t[] = {
		{ CA_APIREQ_SIGN, "", 400, "bad_json", "not JSON" },
		{ CA_APIREQ_SIGN, "{", 400, "bad_json", "not JSON" },
		{ CA_APIREQ_SIGN, "{} {}", 400, "bad_json", "not JSON" },
		{ CA_APIREQ_SIGN, "[1]", 400, "bad_request", "object" },
		{ CA_APIREQ_SIGN, "\"x\"", 400, "bad_json", "not JSON" },
		{ CA_APIREQ_SIGN, "{\"token\":\"t\"}", 400, "bad_request",
		    "\"csr\" is required" },
		{ CA_APIREQ_SIGN, "{\"csr\":\"x\"}", 400, "bad_request",
		    "\"token\" is required" },
		{ CA_APIREQ_SIGN, "{\"csr\":1,\"token\":\"t\"}", 400,
		    "bad_request", "\"csr\" must be a string" },
		{ CA_APIREQ_SIGN, "{\"csr\":\"x\",\"token\":\"t\","
		    "\"admin\":\"yes\"}", 400, "bad_request",
		    "unknown member \"admin\"" },
		{ CA_APIREQ_SIGN, "{\"csr\":\"x\",\"csr\":\"y\","
		    "\"token\":\"t\"}", 400, "bad_request", "given twice" },
		{ CA_APIREQ_SIGN, "{\"csr\":\"not pem\",\"token\":\"t\"}", 400,
		    "bad_csr", "not a PEM certificate request" },
		{ CA_APIREQ_SIGN, "@BADSIG", 400, "csr_signature",
		    "does not verify" },
		{ CA_APIREQ_SIGN, "{\"csr\":\"a\\u0000b\",\"token\":\"t\"}",
		    400, "bad_json", "\\u0000 is not allowed" },
		{ CA_APIREQ_SIGN, "@LIFETIME", 400, "bad_lifetime",
		    "not a duration" },
		{ CA_APIREQ_RENEW, "{\"csr\":\"x\"}", 400, "bad_request",
		    "unknown member \"csr\"" },
		{ CA_APIREQ_RENEW, "{\"lifetime\":24}", 400, "bad_request",
		    "must be a string" },
		{ CA_APIREQ_RENEW, "{\"lifetime\":\"-1h\"}", 400,
		    "bad_lifetime", "not a duration" },
		{ CA_APIREQ_REVOKE, "{\"reason\":\"certificateHold\"}", 400,
		    "bad_reason", "not one of" },
		{ CA_APIREQ_REVOKE, "{\"reason\":\"cACompromise\"}", 400,
		    "bad_reason", "not one of" },
		{ CA_APIREQ_REVOKE, "{\"reason\":\"nope\"}", 400,
		    "bad_reason", "not one of" },
		{ CA_APIREQ_REVOKE, "{\"token\":\"t\"}", 400, "bad_request",
		    "\"serial\" is required" },
		{ CA_APIREQ_REVOKE, "{\"serial\":\"xyz\"}", 400,
		    "bad_request", "hex" },
		{ CA_APIREQ_REVOKE, "{\"serial\":\"\"}", 400, "bad_request",
		    "hex" },
	};
	struct ca_apireq r;
	struct ca_apireq_err e;
	char *b, *big;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(t[i].body, "@BADSIG") == 0)
			b = sign_body(bad_sig_csr, NULL);
		else if (strcmp(t[i].body, "@LIFETIME") == 0) {
			json_t *o = json_pack("{s:s, s:s, s:s}", "csr",
			    good_csr, "token", "t", "lifetime", "soon");

			b = json_dumps(o, JSON_COMPACT);
			json_decref(o);
		} else
			b = strdup(t[i].body);
		memset(&e, 0, sizeof(e));
		if (ca_apireq_parse(t[i].kind, b, strlen(b), &r, &e) == 0)
			fail_msg("row %zu (%s) was accepted", i, t[i].body);
		if (e.http != t[i].http || strcmp(e.code, t[i].code) != 0 ||
		    strstr(e.msg, t[i].says) == NULL)
			fail_msg("row %zu (%s): %d %s: %s", i, t[i].body,
			    e.http, e.code, e.msg);
		free(b);
	}
	/* Over the limit, whatever it holds. */
	big = calloc(1, CA_APIREQ_BODY_MAX + 2);
	memset(big, ' ', CA_APIREQ_BODY_MAX + 1);
	assert_int_equal(ca_apireq_parse(CA_APIREQ_RENEW, big,
	    CA_APIREQ_BODY_MAX + 1, &r, &e), -1);
	assert_int_equal(e.http, 413);
	assert_string_equal(e.code, "body_too_large");
	free(big);
	/* Two requests in one csr member. */
	b = malloc(2 * strlen(good_csr) + 1);
	strcpy(b, good_csr);
	strcat(b, good_csr);
	big = sign_body(b, NULL);
	assert_int_equal(ca_apireq_parse(CA_APIREQ_SIGN, big, strlen(big), &r,
	    &e), -1);
	assert_string_equal(e.code, "bad_csr");
	free(b);
	free(big);
}

/* A CSR for k (CN and one DNS SAN), signed with md (NULL: PSS). */
static X509_REQ *
csr_for(EVP_PKEY *k, const EVP_MD *md, int pss)
{
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"b.web.lab.internal", -1, -1, 0);
	X509_REQ_set_subject_name(r, n);
	X509_REQ_set_pubkey(r, k);
	sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL,
	    NID_subject_alt_name, "DNS:b.web.lab.internal"));
	X509_REQ_add_extensions(r, exts);
	assert_int_equal(EVP_DigestSignInit(mc, &pc, md, NULL, k), 1);
	if (pss)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc,
		    RSA_PKCS1_PSS_PADDING), 1);
	assert_true(X509_REQ_sign_ctx(r, mc) > 0);
	EVP_MD_CTX_free(mc);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(n);
	return r;
}

/*
 * The request is read from its DER: the key decoded from its SPKI
 * bytes, the names and requested extensions, the signature checked for
 * ECDSA and RSA (PKCS#1 v1.5 here, PSS by OpenSSL's own verifier).
 */
static void
test_csr_fields(void **state)
{
	EVP_PKEY *keys[2] = { EVP_EC_gen("P-384"), EVP_RSA_gen(2048) };
	struct ca_csr *c = NULL;
	struct ca_apireq_err e;
	X509_REQ *r;
	unsigned char *der = NULL, *spki = NULL;
	char *pem;
	size_t i;
	int len, n;

	(void)state;
	for (i = 0; i < 3; i++) {
		r = csr_for(keys[i > 0], EVP_sha384(), i == 2);
		pem = req_pem(r);
		if (ca_apireq_csr(pem, strlen(pem), &c, &e) != 0)
			fail_msg("csr %zu: %s", i, e.msg);
		assert_int_equal(EVP_PKEY_eq(c->pub, keys[i > 0]), 1);
		n = i2d_PUBKEY(keys[i > 0], &spki);
		assert_int_equal(c->spki_len, (size_t)n);
		assert_memory_equal(c->spki, spki, (size_t)n);
		assert_int_equal(X509_NAME_cmp(c->subject,
		    X509_REQ_get_subject_name(r)), 0);
		assert_non_null(c->exts);
		assert_true(X509v3_get_ext_by_NID(c->exts,
		    NID_subject_alt_name, -1) >= 0);
		len = i2d_X509_REQ(r, &der);
		assert_int_equal(c->der_len, (size_t)len);
		ca_csr_free(c);
		c = NULL;
		OPENSSL_free(spki);
		spki = NULL;
		OPENSSL_free(der);
		der = NULL;
		free(pem);
		X509_REQ_free(r);
	}
	/* A byte after the request's SEQUENCE, inside the PEM: refused. */
	r = csr_for(keys[0], EVP_sha256(), 0);
	len = i2d_X509_REQ(r, &der);
	der = OPENSSL_realloc(der, (size_t)len + 1);
	der[len] = 0;
	{
		BIO *b = BIO_new(BIO_s_mem());
		BUF_MEM *m;

		PEM_write_bio(b, PEM_STRING_X509_REQ, "", der, len + 1);
		BIO_get_mem_ptr(b, &m);
		assert_int_equal(ca_apireq_csr(m->data, m->length, &c, &e),
		    -1);
		assert_string_equal(e.code, "bad_csr");
		BIO_free(b);
	}
	OPENSSL_free(der);
	X509_REQ_free(r);
	EVP_PKEY_free(keys[0]);
	EVP_PKEY_free(keys[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_csr_fields),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
