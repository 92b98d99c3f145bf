/*
 * test_acme.c: ca/acme.c and ca/acme_store.c.  A flattened JWS signed
 * with each algorithm parses and verifies; a table of bad requests and
 * a table of bad payloads are refused with the RFC 8555 problem type and
 * status docs/acme.md gives; EAB verifies only with its key and the
 * account's key; in the store a nonce is good once, an order becomes
 * ready when its authorization is valid and invalid when it fails, and
 * tidy forgets expired orders and nonces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "../../ca/acme.h"

#define URL	"https://ca.lab.internal/acme/lab/new-order"

/* A flattened JWS of payload, header members from hdr (may be NULL). */
static char *
flat(EVP_PKEY *k, enum ca_jws_alg alg, json_t *hdr, const char *payload,
    int with_jwk)
{
	struct ca_jws_key *jk = NULL;
	struct kr_error e;
	json_t *h, *jwk, *o;
	char *c = NULL, *d1, *d2, *s;

	h = hdr ? hdr : json_pack("{s:s, s:s}", "nonce", "n0", "url", URL);
	if (with_jwk) {
		assert_int_equal(ca_jws_key_from_pkey(k, &jk, &e), KR_OK);
		assert_int_equal(ca_jws_key_to_json(jk, &jwk, &e), KR_OK);
		json_object_set_new(h, "jwk", jwk);
		ca_jws_key_free(jk);
	}
	assert_int_equal(ca_jws_sign_pkey(alg, h, (const uint8_t *)payload,
	    strlen(payload), k, &c, &e), KR_OK);
	json_decref(h);
	d1 = strchr(c, '.');
	*d1++ = '\0';
	d2 = strchr(d1, '.');
	*d2++ = '\0';
	o = json_pack("{s:s, s:s, s:s}", "protected", c, "payload", d1,
	    "signature", d2);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(c);
	return s;
}

static void
test_jws_good(void **state)
{
	struct {
		enum ca_jws_alg	 alg;
		EVP_PKEY	*k;
	} v[4];
	struct ca_acme_jws j;
	struct ca_acme_err ae;
	size_t i;
	char *s;

	(void)state;
	v[0].alg = CA_JWS_ES256;
	v[0].k = EVP_EC_gen("P-256");
	v[1].alg = CA_JWS_ES384;
	v[1].k = EVP_EC_gen("P-384");
	v[2].alg = CA_JWS_RS256;
	v[2].k = EVP_RSA_gen(2048);
	v[3].alg = CA_JWS_EDDSA;
	v[3].k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	for (i = 0; i < 4; i++) {
		s = flat(v[i].k, v[i].alg, NULL, "{\"a\":1}", 1);
		assert_int_equal(ca_acme_jws_parse(s, strlen(s), &j, &ae), 0);
		assert_string_equal(j.url, URL);
		assert_string_equal(j.nonce, "n0");
		assert_non_null(j.key);
		assert_int_equal(ca_acme_jws_verify(&j, j.key, &ae), 0);
		assert_int_equal(json_integer_value(json_object_get(j.body,
		    "a")), 1);
		ca_acme_jws_clear(&j);
		/* POST-as-GET: an empty payload, no body. */
		free(s);
		s = flat(v[i].k, v[i].alg, NULL, "", 1);
		assert_int_equal(ca_acme_jws_parse(s, strlen(s), &j, &ae), 0);
		assert_int_equal(ca_acme_jws_verify(&j, j.key, &ae), 0);
		assert_null(j.body);
		assert_int_equal(j.payload_len, 0);
		ca_acme_jws_clear(&j);
		free(s);
		EVP_PKEY_free(v[i].k);
	}
}

static void
test_jws_bad(void **state)
{
	static const struct {
		const char		*what;
		const char		*body;
		enum ca_acme_prob	 type;
	} bad[] = {
		{ "not JSON", "protected.payload.sig", CA_ACME_MALFORMED },
		{ "compact", "\"a.b.c\"", CA_ACME_MALFORMED },
		{ "unprotected header", "{\"protected\":\"e30\",\"payload\":"
		    "\"\",\"signature\":\"AA\",\"header\":{}}",
		    CA_ACME_MALFORMED },
		{ "no signature", "{\"protected\":\"e30\",\"payload\":\"\"}",
		    CA_ACME_MALFORMED },
		{ "number", "{\"protected\":1,\"payload\":\"\",\"signature\":"
		    "\"AA\"}", CA_ACME_MALFORMED },
		{ "padded header", "{\"protected\":\"e30=\",\"payload\":\"\","
		    "\"signature\":\"AA\"}", CA_ACME_MALFORMED },
		{ "header not an object", "{\"protected\":\"WzFd\",\"payload\":"
		    "\"\",\"signature\":\"AA\"}", CA_ACME_MALFORMED },
		/* {"alg":"none","url":"u","kid":"k","nonce":"n"} */
		{ "alg none", "{\"protected\":\"eyJhbGciOiJub25lIiwidXJsIjoid"
		    "SIsImtpZCI6ImsiLCJub25jZSI6Im4ifQ\",\"payload\":\"\","
		    "\"signature\":\"AA\"}", CA_ACME_BAD_SIG_ALG },
		/* {"alg":"HS256","url":"u","kid":"k","nonce":"n"} */
		{ "alg HS256", "{\"protected\":\"eyJhbGciOiJIUzI1NiIsInVybCI6I"
		    "nUiLCJraWQiOiJrIiwibm9uY2UiOiJuIn0\",\"payload\":\"\","
		    "\"signature\":\"AA\"}", CA_ACME_BAD_SIG_ALG },
		/* {"alg":"PS256","url":"u","kid":"k","nonce":"n"} */
		{ "alg PS256", "{\"protected\":\"eyJhbGciOiJQUzI1NiIsInVybCI6I"
		    "nUiLCJraWQiOiJrIiwibm9uY2UiOiJuIn0\",\"payload\":\"\","
		    "\"signature\":\"AA\"}", CA_ACME_BAD_SIG_ALG },
		/* {"alg":"ES256","url":"u","nonce":"n"}: no key */
		{ "neither jwk nor kid", "{\"protected\":\"eyJhbGciOiJFUzI1NiI"
		    "sInVybCI6InUiLCJub25jZSI6Im4ifQ\",\"payload\":\"\","
		    "\"signature\":\"AA\"}", CA_ACME_MALFORMED },
		/* {"alg":"ES256","kid":"k","nonce":"n"}: no url */
		{ "no url", "{\"protected\":\"eyJhbGciOiJFUzI1NiIsImtpZCI6Imsi"
		    "LCJub25jZSI6Im4ifQ\",\"payload\":\"\",\"signature\":"
		    "\"AA\"}", CA_ACME_MALFORMED },
		/* {"alg":"ES256","kid":"k","url":"u","jwk":{"kty":"EC"}} */
		{ "jwk and kid", "{\"protected\":\"eyJhbGciOiJFUzI1NiIsImtpZCI"
		    "6ImsiLCJ1cmwiOiJ1IiwiandrIjp7Imt0eSI6IkVDIn19\","
		    "\"payload\":\"\",\"signature\":\"AA\"}",
		    CA_ACME_MALFORMED },
		/* {"alg":"ES256","url":"u","jwk":{"kty":"EC"}} */
		{ "bad jwk", "{\"protected\":\"eyJhbGciOiJFUzI1NiIsInVybCI6InU"
		    "iLCJqd2siOnsia3R5IjoiRUMifX0\",\"payload\":\"\","
		    "\"signature\":\"AA\"}", CA_ACME_BAD_PUBLIC_KEY },
	};
	struct ca_acme_jws j;
	struct ca_acme_err ae;
	EVP_PKEY *k = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256");
	struct ca_jws_key *jk2 = NULL;
	struct kr_error e;
	size_t i;
	char *s, *p;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&ae, 0, sizeof(ae));
		if (ca_acme_jws_parse(bad[i].body, strlen(bad[i].body), &j,
		    &ae) == 0)
			fail_msg("accepted: %s", bad[i].what);
		if (ae.type != bad[i].type)
			fail_msg("%s: type %s, not %s (%s)", bad[i].what,
			    ca_acme_prob_urn(ae.type),
			    ca_acme_prob_urn(bad[i].type), ae.e.msg);
		assert_int_equal(ae.http, 400);
		assert_true(ae.e.msg[0] != '\0');
	}
	/* A signature that does not verify, and another key's. */
	s = flat(k, CA_JWS_ES256, NULL, "{}", 1);
	p = strstr(s, "\"signature\":\"") + 16;
	*p = *p == 'A' ? 'B' : 'A';
	assert_int_equal(ca_acme_jws_parse(s, strlen(s), &j, &ae), 0);
	assert_int_equal(ca_acme_jws_verify(&j, j.key, &ae), -1);
	assert_int_equal(ae.type, CA_ACME_MALFORMED);
	assert_non_null(strstr(ae.e.msg, "does not verify"));
	ca_acme_jws_clear(&j);
	free(s);
	s = flat(k, CA_JWS_ES256, NULL, "{}", 1);
	assert_int_equal(ca_jws_key_from_pkey(k2, &jk2, &e), KR_OK);
	assert_int_equal(ca_acme_jws_parse(s, strlen(s), &j, &ae), 0);
	assert_int_equal(ca_acme_jws_verify(&j, jk2, &ae), -1);
	ca_acme_jws_clear(&j);
	free(s);
	/* A payload that is not an object. */
	s = flat(k, CA_JWS_ES256, NULL, "[1]", 1);
	assert_int_equal(ca_acme_jws_parse(s, strlen(s), &j, &ae), 0);
	assert_int_equal(ca_acme_jws_verify(&j, j.key, &ae), -1);
	assert_int_equal(ae.type, CA_ACME_MALFORMED);
	ca_acme_jws_clear(&j);
	free(s);
	ca_jws_key_free(jk2);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

static void
test_payloads_bad(void **state)
{
	static const struct {
		int			 kind;	/* 0 acct 1 order 2 fin 3 rev */
		const char		*json;
		enum ca_acme_prob	 type;
	} bad[] = {
		{ 0, "{\"x\":1}", CA_ACME_MALFORMED },
		{ 0, "{\"termsOfServiceAgreed\":\"yes\"}", CA_ACME_MALFORMED },
		{ 0, "{\"contact\":\"mailto:a@b\"}", CA_ACME_MALFORMED },
		{ 0, "{\"contact\":[\"tel:+1\"]}", CA_ACME_UNSUPPORTED_CONTACT },
		{ 0, "{\"contact\":[\"mailto:a@b?x=1\"]}",
		    CA_ACME_UNSUPPORTED_CONTACT },
		{ 0, "{\"externalAccountBinding\":1}", CA_ACME_MALFORMED },
		{ 1, "{}", CA_ACME_MALFORMED },
		{ 1, "{\"identifiers\":[]}", CA_ACME_MALFORMED },
		{ 1, "{\"identifiers\":[{\"type\":\"dns\"}]}",
		    CA_ACME_MALFORMED },
		{ 1, "{\"identifiers\":[{\"type\":\"email\",\"value\":\"a@b\"}]}",
		    CA_ACME_UNSUPPORTED_IDENTIFIER },
		{ 1, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a..b\"}]}",
		    CA_ACME_REJECTED_IDENTIFIER },
		{ 1, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"local\"}]}",
		    CA_ACME_REJECTED_IDENTIFIER },
		{ 1, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.b.\"}]}",
		    CA_ACME_REJECTED_IDENTIFIER },
		{ 1, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"1.2.3.4\"}]}",
		    CA_ACME_REJECTED_IDENTIFIER },
		{ 1, "{\"identifiers\":[{\"type\":\"ip\",\"value\":\"10.0.0.01\"}]}",
		    CA_ACME_MALFORMED },
		{ 1, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.lab\"},"
		    "{\"type\":\"dns\",\"value\":\"A.lab\"}]}", CA_ACME_MALFORMED },
		{ 1, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.lab\","
		    "\"x\":1}]}", CA_ACME_MALFORMED },
		{ 1, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.lab\"}],"
		    "\"notAfter\":\"tomorrow\"}", CA_ACME_MALFORMED },
		{ 1, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.lab\"}],"
		    "\"notBefore\":\"2030-01-02T00:00:00Z\",\"notAfter\":"
		    "\"2030-01-01T00:00:00Z\"}", CA_ACME_MALFORMED },
		{ 2, "{}", CA_ACME_BAD_CSR },
		{ 2, "{\"csr\":\"MII=\"}", CA_ACME_BAD_CSR },
		{ 2, "{\"csr\":\"AA\",\"x\":1}", CA_ACME_MALFORMED },
		{ 3, "{\"reason\":1}", CA_ACME_MALFORMED },
		{ 3, "{\"certificate\":\"AA\",\"reason\":7}",
		    CA_ACME_BAD_REVOCATION_REASON },
		{ 3, "{\"certificate\":\"AA\",\"reason\":\"1\"}",
		    CA_ACME_BAD_REVOCATION_REASON },
		{ 3, "{\"certificate\":\"AA\",\"reason\":6}",
		    CA_ACME_BAD_REVOCATION_REASON },
		{ 3, "{\"certificate\":\"AA\",\"reason\":2}",
		    CA_ACME_BAD_REVOCATION_REASON },
	};
	struct ca_acme_newacct na;
	struct ca_acme_neworder no;
	struct ca_acme_err ae;
	uint8_t *der;
	size_t i, len;
	json_t *o;
	int ret = 0, reason;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = json_loads(bad[i].json, 0, NULL);
		assert_non_null(o);
		memset(&ae, 0, sizeof(ae));
		der = NULL;
		switch (bad[i].kind) {
		case 0:
			ret = ca_acme_parse_newacct(o, &na, &ae);
			break;
		case 1:
			ret = ca_acme_parse_neworder(o, &no, &ae);
			break;
		case 2:
			ret = ca_acme_parse_finalize(o, &der, &len, &ae);
			break;
		case 3:
			ret = ca_acme_parse_revoke(o, &der, &len, &reason, &ae);
			break;
		}
		free(der);
		if (ret == 0)
			fail_msg("accepted: %s", bad[i].json);
		if (ae.type != bad[i].type)
			fail_msg("%s: %s (%s)", bad[i].json,
			    ca_acme_prob_urn(ae.type), ae.e.msg);
		json_decref(o);
	}
	/* And a good order. */
	o = json_loads("{\"identifiers\":[{\"type\":\"dns\",\"value\":"
	    "\"A.Lab.Internal\"},{\"type\":\"ip\",\"value\":\"10.0.0.1\"}],"
	    "\"notAfter\":\"2030-01-01T00:00:00Z\"}", 0, NULL);
	assert_int_equal(ca_acme_parse_neworder(o, &no, &ae), 0);
	assert_int_equal(no.nids, 2);
	assert_string_equal(no.ids[0].value, "a.lab.internal");
	assert_int_equal(no.not_after, 1893456000);
	ca_acme_neworder_clear(&no);
	json_decref(o);
}

static void
test_eab(void **state)
{
	uint8_t key[CA_ACME_EAB_KEY_LEN], mac[32];
	struct ca_jws_key *acct = NULL, *other = NULL;
	struct ca_acme_err ae;
	struct kr_error e;
	EVP_PKEY *k = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256");
	json_t *jwk, *eab;
	char *hs, *ps, h64[256], p64[1024], s64[64], in[1400], *kid;
	crypto_auth_hmacsha256_state st;

	(void)state;
	randombytes_buf(key, sizeof(key));
	assert_int_equal(ca_jws_key_from_pkey(k, &acct, &e), KR_OK);
	assert_int_equal(ca_jws_key_from_pkey(k2, &other, &e), KR_OK);
	assert_int_equal(ca_jws_key_to_json(acct, &jwk, &e), KR_OK);
	hs = strdup("{\"alg\":\"HS256\",\"kid\":\"kid1\",\"url\":\"https://x/"
	    "new-account\"}");
	ps = json_dumps(jwk, JSON_COMPACT);
	ca_jws_b64_encode((uint8_t *)hs, strlen(hs), h64);
	ca_jws_b64_encode((uint8_t *)ps, strlen(ps), p64);
	snprintf(in, sizeof(in), "%s.%s", h64, p64);
	crypto_auth_hmacsha256_init(&st, key, sizeof(key));
	crypto_auth_hmacsha256_update(&st, (uint8_t *)in, strlen(in));
	crypto_auth_hmacsha256_final(&st, mac);
	ca_jws_b64_encode(mac, sizeof(mac), s64);
	eab = json_pack("{s:s, s:s, s:s}", "protected", h64, "payload", p64,
	    "signature", s64);
	assert_int_equal(ca_acme_eab_kid(eab, &kid, &ae), 0);
	assert_string_equal(kid, "kid1");
	free(kid);
	assert_int_equal(ca_acme_eab_verify(eab, key, sizeof(key),
	    "https://x/new-account", acct, &ae), 0);
	/* Another account's key, another URL, another HMAC key. */
	assert_int_equal(ca_acme_eab_verify(eab, key, sizeof(key),
	    "https://x/new-account", other, &ae), -1);
	assert_int_equal(ca_acme_eab_verify(eab, key, sizeof(key),
	    "https://y/new-account", acct, &ae), -1);
	key[0] ^= 1;
	assert_int_equal(ca_acme_eab_verify(eab, key, sizeof(key),
	    "https://x/new-account", acct, &ae), -1);
	assert_int_equal(ae.type, CA_ACME_UNAUTHORIZED);
	json_decref(eab);
	json_decref(jwk);
	free(hs);
	free(ps);
	ca_jws_key_free(acct);
	ca_jws_key_free(other);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

static void
test_store(void **state)
{
	char dir[] = "/tmp/test_acme.XXXXXX", path[64], nonce[32];
	char jwk[] = "{}";
	char ids[] = "[{\"type\":\"dns\",\"value\":\"a.lab.internal\"}]";
	struct ca_store *st;
	struct ca_acme_account a, b;
	struct ca_acme_order o, g;
	struct ca_acme_authz az, ga;
	struct ca_acme_tidied td;
	struct kr_error e;
	time_t now = 1800000000;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store.db", dir);
	assert_int_equal(ca_store_open(path, &st, &e), KR_OK);

	/* A nonce is good once, and not after its life. */
	assert_int_equal(ca_acme_nonce_new(st, now, nonce, &e), KR_OK);
	assert_int_equal(ca_acme_nonce_use(st, nonce, now, &e), KR_OK);
	assert_int_equal(ca_acme_nonce_use(st, nonce, now, &e), KR_E_AUTH);
	assert_int_equal(ca_acme_nonce_new(st, now, nonce, &e), KR_OK);
	assert_int_equal(ca_acme_nonce_use(st, nonce, now +
	    CA_ACME_NONCE_LIFE + 1, &e), KR_E_AUTH);

	/* Accounts: one per key. */
	memset(&a, 0, sizeof(a));
	ca_acme_random_id(a.id);
	snprintf(a.prov, sizeof(a.prov), "lab");
	snprintf(a.thumb, sizeof(a.thumb), "thumb1");
	a.jwk = jwk;
	a.status = CA_ACME_VALID;
	assert_int_equal(ca_acme_account_new(st, &a, NULL, now, &e), KR_OK);
	assert_int_equal(ca_acme_account_by_thumb(st, "thumb1", &b, &e),
	    KR_OK);
	assert_string_equal(b.id, a.id);
	ca_acme_account_clear(&b);
	ca_acme_random_id(a.id);
	assert_int_equal(ca_acme_account_new(st, &a, NULL, now, &e),
	    KR_E_EXISTS);
	assert_int_equal(ca_acme_account_by_thumb(st, "nope", &b, &e),
	    KR_E_NOTFOUND);
	assert_int_equal(ca_acme_account_by_thumb(st, "thumb1", &b, &e),
	    KR_OK);

	/* An order: pending, ready once its authorization is valid. */
	memset(&o, 0, sizeof(o));
	memset(&az, 0, sizeof(az));
	ca_acme_random_id(o.id);
	memcpy(o.account, b.id, sizeof(o.account));
	snprintf(o.prov, sizeof(o.prov), "lab");
	o.status = CA_ACME_PENDING;
	o.expires = now + 3600;
	o.identifiers = ids;
	ca_acme_random_id(az.id);
	snprintf(az.ident.type, sizeof(az.ident.type), "dns");
	snprintf(az.ident.value, sizeof(az.ident.value), "a.lab.internal");
	az.status = CA_ACME_PENDING;
	az.expires = o.expires;
	ca_acme_random_id(az.token);
	snprintf(az.ch[0].type, sizeof(az.ch[0].type), "http-01");
	ca_acme_random_id(az.ch[0].id);
	az.nch = 1;
	assert_int_equal(ca_acme_order_new(st, &o, &az, 1, now, &e), KR_OK);
	assert_int_equal(ca_acme_order_get(st, o.id, now, &g, &e), KR_OK);
	assert_int_equal(g.status, CA_ACME_PENDING);
	assert_int_equal(g.nauthzs, 1);
	ca_acme_order_clear(&g);
	assert_int_equal(ca_acme_authz_by_chall(st, az.ch[0].id, now, &ga,
	    &e), KR_OK);
	assert_string_equal(ga.id, az.id);
	ca_acme_authz_clear(&ga);
	assert_int_equal(ca_acme_chall_done(st, az.ch[0].id, 1, NULL, now,
	    &e), KR_OK);
	/* A challenge moves once. */
	assert_int_equal(ca_acme_chall_done(st, az.ch[0].id, 0, "{}", now,
	    &e), KR_E_STATE);
	assert_int_equal(ca_acme_order_get(st, o.id, now, &g, &e), KR_OK);
	assert_int_equal(g.status, CA_ACME_READY);
	ca_acme_order_clear(&g);
	/* Finalize moves it once. */
	assert_int_equal(ca_acme_order_set(st, o.id, CA_ACME_READY,
	    CA_ACME_PROCESSING, NULL, NULL, &e), KR_OK);
	assert_int_equal(ca_acme_order_set(st, o.id, CA_ACME_READY,
	    CA_ACME_PROCESSING, NULL, NULL, &e), KR_E_STATE);
	assert_int_equal(ca_acme_order_set(st, o.id, CA_ACME_PROCESSING,
	    CA_ACME_VALID, NULL, "0a0b", &e), KR_OK);
	assert_int_equal(ca_acme_order_by_serial(st, "0a0b", &g, &e), KR_OK);
	assert_string_equal(g.id, o.id);
	ca_acme_order_clear(&g);

	/* A second order whose challenge fails: it is invalid. */
	ca_acme_random_id(o.id);
	ca_acme_random_id(az.id);
	ca_acme_random_id(az.ch[0].id);
	assert_int_equal(ca_acme_order_new(st, &o, &az, 1, now, &e), KR_OK);
	assert_int_equal(ca_acme_chall_done(st, az.ch[0].id, 0,
	    "{\"type\":\"x\"}", now, &e), KR_OK);
	assert_int_equal(ca_acme_order_get(st, o.id, now, &g, &e), KR_OK);
	assert_int_equal(g.status, CA_ACME_INVALID);
	assert_string_equal(g.error, "{\"type\":\"x\"}");
	ca_acme_order_clear(&g);
	/* An order past its expiry reads as invalid, its authz expired. */
	ca_acme_random_id(o.id);
	ca_acme_random_id(az.id);
	ca_acme_random_id(az.ch[0].id);
	assert_int_equal(ca_acme_order_new(st, &o, &az, 1, now, &e), KR_OK);
	assert_int_equal(ca_acme_order_get(st, o.id, now + 7200, &g, &e),
	    KR_OK);
	assert_int_equal(g.status, CA_ACME_INVALID);
	ca_acme_order_clear(&g);
	assert_int_equal(ca_acme_authz_get(st, az.id, now + 7200, &ga, &e),
	    KR_OK);
	assert_int_equal(ga.status, CA_ACME_EXPIRED);
	ca_acme_authz_clear(&ga);

	/* Tidy: the orders (and their authorizations) go, the account
	   stays. */
	assert_int_equal(ca_acme_nonce_new(st, now, nonce, &e), KR_OK);
	assert_int_equal(ca_acme_tidy(st, now + 86400, 3600, &td, &e), KR_OK);
	assert_int_equal(td.orders, 3);
	assert_int_equal(td.nonces, 2);
	assert_int_equal(ca_acme_authz_get(st, az.id, now, &ga, &e),
	    KR_E_NOTFOUND);
	assert_int_equal(ca_acme_account_get(st, b.id, &a, &e), KR_OK);
	ca_acme_account_clear(&a);
	ca_acme_account_clear(&b);
	ca_store_close(st);
	unlink(path);
	snprintf(path, sizeof(path), "%s/store.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/store.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

static void
test_prov(void **state)
{
	static const char *const bad[] = {
		"{}",
		"{\"kind\":\"token\",\"name\":\"a\",\"allow\":[\"a.b\"],"
		    "\"allow_ip\":[],\"max_lifetime\":3600,\"eab\":false}",
		"{\"kind\":\"acme\",\"name\":\"a\",\"allow\":[],"
		    "\"allow_ip\":[],\"max_lifetime\":3600,\"eab\":false}",
		"{\"kind\":\"acme\",\"name\":\"a\",\"allow\":[\"a..b\"],"
		    "\"allow_ip\":[],\"max_lifetime\":3600,\"eab\":false}",
		"{\"kind\":\"acme\",\"name\":\"a\",\"allow\":[\"a.b\"],"
		    "\"allow_ip\":[],\"max_lifetime\":1,\"eab\":false}",
		"{\"kind\":\"acme\",\"name\":\"-a\",\"allow\":[\"a.b\"],"
		    "\"allow_ip\":[],\"max_lifetime\":3600,\"eab\":false}",
		"{\"kind\":\"acme\",\"name\":\"a\",\"allow\":[\"a.b\"],"
		    "\"allow_ip\":[],\"max_lifetime\":3600,\"eab\":0}",
		"{\"kind\":\"acme\",\"name\":\"a\",\"allow\":[\"a.b\"],"
		    "\"allow_ip\":[],\"max_lifetime\":3600,\"eab\":false,"
		    "\"x\":1}",
	};
	const char *good = "{\"kind\":\"acme\",\"name\":\"lab\",\"allow\":"
	    "[\"*.lab.internal\"],\"allow_ip\":[\"10.0.0.0/8\"],"
	    "\"max_lifetime\":86400,\"eab\":true}";
	struct ca_prov *p;
	struct kr_error e;
	json_t *o;
	char *s;
	size_t i;
	int eab;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ca_acme_prov_parse(bad[i], strlen(bad[i]), &p, &eab, &e) ==
		    KR_OK)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(e.code, KR_E_PARSE);
	}
	assert_int_equal(ca_acme_prov_parse(good, strlen(good), &p, &eab, &e),
	    KR_OK);
	assert_int_equal(eab, 1);
	assert_string_equal(p->name, "lab");
	assert_int_equal(p->max_lifetime, 86400);
	assert_int_equal(ca_acme_prov_to_json(p, eab, &o, &e), KR_OK);
	s = json_dumps(o, JSON_COMPACT);
	assert_string_equal(s, good);
	free(s);
	json_decref(o);
	ca_prov_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jws_good),
		cmocka_unit_test(test_jws_bad),
		cmocka_unit_test(test_payloads_bad),
		cmocka_unit_test(test_eab),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_prov),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
