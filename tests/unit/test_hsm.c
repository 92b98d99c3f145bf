/*
 * test_hsm.c: the PKCS#11 layer against a real SoftHSM2 token made in a
 * temp directory: init, login, keygen (EC and RSA), attributes, signing
 * (verified by OpenSSL with the public key read back), and refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "hsm/hsm.h"
#include "softhsm_env.h"

#define SO_PIN "so-secret-1234"
#define PIN "user-secret-5678"

static struct hsm_module *mod;

static int
setup(void **state)
{
	struct kr_error err = { 0 };
	char serial[17];

	(void)state;
	if (softhsm_env_setup() != 0)
		return -1;
	if (hsm_module_load(NULL, &mod, &err) != KR_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	if (hsm_init_token(mod, "unit", SO_PIN, strlen(SO_PIN), PIN,
	    strlen(PIN), serial, &err) != KR_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	hsm_module_free(mod);
	softhsm_env_teardown();
	return 0;
}

static struct hsm_session *
open_unit(int login)
{
	struct hsm_session *s = NULL;
	struct hsm_uri u;
	struct kr_error err = { 0 };

	assert_int_equal(hsm_uri_parse("pkcs11:token=unit", &u, &err), KR_OK);
	assert_int_equal(hsm_open(mod, &u, &s, &err), KR_OK);
	hsm_uri_free(&u);
	if (login)
		assert_int_equal(hsm_login(s, 0, PIN, strlen(PIN), &err),
		    KR_OK);
	return s;
}

static void
test_tokens_and_init(void **state)
{
	struct hsm_token_info *t = NULL;
	struct kr_error err = { 0 };
	char serial[17];
	size_t n = 0, i, found = 0, free_slots = 0;

	(void)state;
	assert_int_equal(hsm_tokens(mod, &t, &n, &err), KR_OK);
	for (i = 0; i < n; i++) {
		if (t[i].initialized && strcmp(t[i].label, "unit") == 0) {
			found++;
			assert_true(t[i].user_pin_initialized);
			assert_true(t[i].mechs & HSM_MECH_ECDSA);
			assert_true(t[i].mechs & HSM_MECH_AES_WRAP_PAD);
		}
		if (t[i].present && !t[i].initialized)
			free_slots++;
	}
	free(t);
	assert_int_equal(found, 1);
	assert_true(free_slots >= 1);
	/* The same label twice is refused. */
	assert_int_equal(hsm_init_token(mod, "unit", SO_PIN, strlen(SO_PIN),
	    PIN, strlen(PIN), serial, &err), KR_E_EXISTS);
	assert_non_null(strstr(err.msg, "exists already"));
	/* A label longer than 32 bytes does not fit. */
	assert_int_equal(hsm_init_token(mod, "0123456789012345678901234567890123",
	    SO_PIN, strlen(SO_PIN), PIN, strlen(PIN), serial, &err),
	    KR_E_USAGE);
}

static void
test_open_and_login(void **state)
{
	struct hsm_session *s;
	struct hsm_uri u;
	struct kr_error err = { 0 };

	(void)state;
	assert_int_equal(hsm_uri_parse("pkcs11:token=nope", &u, &err), KR_OK);
	assert_int_equal(hsm_open(mod, &u, &s, &err), KR_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "'unit'"));
	hsm_uri_free(&u);

	s = open_unit(0);
	assert_string_equal(hsm_session_label(s), "unit");
	assert_int_equal(hsm_login(s, 0, "wrong", 5, &err), KR_E_AUTH);
	assert_non_null(strstr(err.msg, "CKR_PIN_INCORRECT"));
	assert_int_equal(hsm_login(s, 0, PIN, strlen(PIN), &err), KR_OK);
	hsm_close(s);
}

/* Sign with the token, verify with OpenSSL and the public key. */
static void
sign_and_verify(struct hsm_key *k, const EVP_MD *md)
{
	static const unsigned char msg[] = "to be signed";
	struct kr_error err = { 0 };
	unsigned char *sig = NULL;
	size_t siglen = 0;
	EVP_MD_CTX *ctx;

	assert_int_equal(hsm_key_sign(k, md, msg, sizeof(msg), &sig, &siglen,
	    &err), KR_OK);
	ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, md, NULL,
	    hsm_key_public(k)), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)),
	    1);
	EVP_MD_CTX_free(ctx);
	/* A flipped byte of the message must not verify. */
	ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, md, NULL,
	    hsm_key_public(k)), 1);
	assert_int_not_equal(EVP_DigestVerify(ctx, sig, siglen,
	    (const unsigned char *)"to be signeD", sizeof(msg)), 1);
	EVP_MD_CTX_free(ctx);
	free(sig);
}

static void
test_keygen_ec(void **state)
{
	struct hsm_session *s = open_unit(1);
	struct hsm_key *k = NULL, *k2 = NULL;
	struct hsm_key_info *ki = NULL;
	struct hsm_uri u;
	struct kr_error err = { 0 };
	size_t n = 0, i, seen = 0;

	(void)state;
	assert_int_equal(hsm_keygen(s, "root-ec", HSM_KEY_EC_P384,
	    HSM_KEYGEN_EXTRACTABLE, &k, &err), KR_OK);
	assert_int_equal(hsm_key_type(k), HSM_KEY_EC_P384);
	assert_string_equal(EVP_PKEY_get0_type_name(hsm_key_public(k)), "EC");
	assert_int_equal(EVP_PKEY_get_bits(hsm_key_public(k)), 384);
	sign_and_verify(k, EVP_sha384());
	/* The label is never reused. */
	assert_int_equal(hsm_keygen(s, "root-ec", HSM_KEY_EC_P256, 0, &k2,
	    &err), KR_E_EXISTS);
	assert_non_null(strstr(err.msg, "root-ec"));
	/* Found again by label, it is the same key. */
	assert_int_equal(hsm_uri_parse("pkcs11:token=unit;object=root-ec",
	    &u, &err), KR_OK);
	assert_int_equal(hsm_key_find(s, &u, &k2, &err), KR_OK);
	assert_int_equal(EVP_PKEY_eq(hsm_key_public(k), hsm_key_public(k2)),
	    1);
	sign_and_verify(k2, EVP_sha256());
	hsm_key_free(k2);
	hsm_uri_free(&u);
	/* The listing reports it SENSITIVE, EXTRACTABLE, LOCAL. */
	assert_int_equal(hsm_keys(s, &ki, &n, &err), KR_OK);
	for (i = 0; i < n; i++) {
		if (strcmp(ki[i].label, "root-ec") != 0)
			continue;
		seen++;
		assert_true(ki[i].has_private);
		assert_int_equal(ki[i].sensitive, 1);
		assert_int_equal(ki[i].extractable, 1);
		assert_int_equal(ki[i].local, 1);
		assert_int_equal(strlen(ki[i].id_hex), 32);
		assert_int_equal(strlen(ki[i].spki_fpr), 79);
	}
	assert_int_equal(seen, 1);
	free(ki);
	hsm_key_free(k);
	hsm_close(s);
}

static void
test_keygen_rsa_no_backup(void **state)
{
	struct hsm_session *s = open_unit(1);
	struct hsm_key *k = NULL;
	struct hsm_key_info *ki = NULL;
	struct kr_error err = { 0 };
	size_t n = 0, i;

	(void)state;
	assert_int_equal(hsm_keygen(s, "rsa", HSM_KEY_RSA_3072, 0, &k, &err),
	    KR_OK);
	assert_int_equal(EVP_PKEY_get_bits(hsm_key_public(k)), 3072);
	sign_and_verify(k, EVP_sha256());
	assert_int_equal(hsm_keys(s, &ki, &n, &err), KR_OK);
	for (i = 0; i < n; i++)
		if (strcmp(ki[i].label, "rsa") == 0) {
			assert_int_equal(ki[i].extractable, 0);
			assert_int_equal(ki[i].never_extractable, 1);
			assert_int_equal(ki[i].sensitive, 1);
		}
	free(ki);
	hsm_key_free(k);
	hsm_close(s);
}

static void
test_refusals(void **state)
{
	struct hsm_session *s;
	struct hsm_module *m = NULL;
	struct hsm_key *k = NULL;
	struct hsm_uri u;
	struct kr_error err = { 0 };

	(void)state;
	assert_int_equal(hsm_module_load("/nonexistent/libp11.so", &m, &err),
	    KR_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/libp11.so"));
	/* Without login, no key is generated. */
	s = open_unit(0);
	assert_int_equal(hsm_keygen(s, "nologin", HSM_KEY_EC_P256, 0, &k,
	    &err), KR_E_PKCS11);
	assert_non_null(strstr(err.msg, "CKR_USER_NOT_LOGGED_IN"));
	assert_int_equal(hsm_keygen(s, "", HSM_KEY_EC_P256, 0, &k, &err),
	    KR_E_USAGE);
	assert_int_equal(hsm_keygen(s, "x", HSM_KEY_RSA_2048, 0, &k, &err),
	    KR_E_USAGE);
	hsm_close(s);
	/* A key that is not there is named. */
	s = open_unit(1);
	assert_int_equal(hsm_uri_parse("pkcs11:token=unit;object=ghost", &u,
	    &err), KR_OK);
	assert_int_equal(hsm_key_find(s, &u, &k, &err), KR_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "ghost"));
	hsm_uri_free(&u);
	assert_int_equal(hsm_uri_parse("pkcs11:token=unit", &u, &err), KR_OK);
	assert_int_equal(hsm_key_find(s, &u, &k, &err), KR_E_USAGE);
	hsm_uri_free(&u);
	hsm_close(s);
}

static void
test_wrap_unwrap(void **state)
{
	struct hsm_session *s = open_unit(1), *s2;
	struct hsm_key *k = NULL, *r = NULL, *nb = NULL;
	struct hsm_key_info *ki = NULL;
	struct hsm_uri u;
	struct kr_error err = { 0 };
	uint8_t wkey[HSM_WRAP_KEY_LEN], bad[HSM_WRAP_KEY_LEN], *w = NULL,
	    *w2 = NULL;
	const uint8_t *id;
	size_t wlen = 0, w2len = 0, idlen, n = 0, i;
	char serial[17];

	(void)state;
	memset(wkey, 0x5a, sizeof(wkey));
	memset(bad, 0xa5, sizeof(bad));
	assert_int_equal(hsm_keygen(s, "wrapme", HSM_KEY_EC_P384,
	    HSM_KEYGEN_EXTRACTABLE, &k, &err), KR_OK);
	assert_int_equal(hsm_key_wrap(k, wkey, &w, &wlen, &err), KR_OK);
	assert_true(wlen > 48);	/* more than the bare scalar */
	/* A --no-backup key cannot be wrapped. */
	assert_int_equal(hsm_keygen(s, "nowrap", HSM_KEY_EC_P256, 0, &nb,
	    &err), KR_OK);
	assert_int_equal(hsm_key_wrap(nb, wkey, &w2, &w2len, &err),
	    KR_E_PKCS11);
	assert_non_null(strstr(err.msg, "--no-backup"));
	hsm_key_free(nb);

	/* Restore into a second, fresh token. */
	assert_int_equal(hsm_init_token(mod, "restore", SO_PIN, strlen(SO_PIN),
	    PIN, strlen(PIN), serial, &err), KR_OK);
	assert_int_equal(hsm_uri_parse("pkcs11:token=restore", &u, &err),
	    KR_OK);
	assert_int_equal(hsm_open(mod, &u, &s2, &err), KR_OK);
	hsm_uri_free(&u);
	assert_int_equal(hsm_login(s2, 0, PIN, strlen(PIN), &err), KR_OK);
	id = hsm_key_id(k, &idlen);
	/* The wrong wrapping key unwraps nothing and leaves nothing. */
	assert_int_equal(hsm_key_unwrap(s2, bad, w, wlen, hsm_key_public(k),
	    "root", id, idlen, &r, &err), KR_E_PKCS11);
	assert_int_equal(hsm_keys(s2, &ki, &n, &err), KR_OK);
	assert_int_equal(n, 0);
	free(ki);
	assert_int_equal(hsm_key_unwrap(s2, wkey, w, wlen, hsm_key_public(k),
	    "root", id, idlen, &r, &err), KR_OK);
	assert_int_equal(EVP_PKEY_eq(hsm_key_public(r), hsm_key_public(k)),
	    1);
	sign_and_verify(r, EVP_sha384());
	assert_int_equal(hsm_keys(s2, &ki, &n, &err), KR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ki[0].sensitive, 1);
	assert_int_equal(ki[0].local, 0);	/* not generated here */
	free(ki);
	hsm_key_free(r);
	r = NULL;
	/* The label is taken now. */
	assert_int_equal(hsm_key_unwrap(s2, wkey, w, wlen, hsm_key_public(k),
	    "root", id, idlen, &r, &err), KR_E_EXISTS);
	/* And the restored key is found by URI like any other. */
	assert_int_equal(hsm_uri_parse("pkcs11:token=restore;object=root", &u,
	    &err), KR_OK);
	assert_int_equal(hsm_key_find(s2, &u, &r, &err), KR_OK);
	sign_and_verify(r, EVP_sha256());
	assert_int_equal(hsm_key_destroy(r, &err), KR_OK);
	hsm_key_free(r);
	r = NULL;
	assert_int_equal(hsm_key_find(s2, &u, &r, &err), KR_E_NOTFOUND);
	hsm_uri_free(&u);
	/* Back into the original token under another label: refused, since
	 * two keys with one CKA_ID could no longer be told apart. */
	assert_int_equal(hsm_key_unwrap(s, wkey, w, wlen, hsm_key_public(k),
	    "root-copy", id, idlen, &r, &err), KR_E_EXISTS);
	assert_non_null(strstr(err.msg, "CKA_ID"));
	sign_and_verify(k, EVP_sha384());
	for (i = 0; i < wlen; i++)
		w[i] = 0;
	free(w);
	hsm_key_free(k);
	hsm_close(s2);
	hsm_close(s);
}

static void
test_ckr_names(void **state)
{
	(void)state;
	assert_string_equal(hsm_ckr_name(0xa0), "CKR_PIN_INCORRECT");
	assert_string_equal(hsm_ckr_meaning(0xa0), "the PIN is wrong");
	assert_string_equal(hsm_ckr_name(0x12345678), "CKR_(unknown)");
	assert_int_equal(hsm_keytype_from_name("ec-p384"), HSM_KEY_EC_P384);
	assert_int_equal(hsm_keytype_from_name("rsa-2048"), HSM_KEY_NONE);
	assert_string_equal(hsm_keytype_name(HSM_KEY_RSA_4096), "rsa-4096");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens_and_init),
		cmocka_unit_test(test_open_and_login),
		cmocka_unit_test(test_keygen_ec),
		cmocka_unit_test(test_keygen_rsa_no_backup),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_wrap_unwrap),
		cmocka_unit_test(test_ckr_names),
	};

	return cmocka_run_group_tests_name("hsm", tests, setup, teardown);
}
