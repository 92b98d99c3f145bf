/*
 * quorum.c: k-of-n officer activation of a token (see quorum.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "quorum.h"
#include "shamir.h"

/* Payload of a credential: PIN share || Ed25519 seed. */
#define PAYLOAD_LEN (CER_QUORUM_PIN_LEN + CER_OFFICER_SEED_LEN)

void
cer_quorum_secret_id(const char *label, const char *serial,
    uint8_t out[CER_SECRET_ID_LEN])
{
	crypto_generichash_state st;
	static const char dom[] = "keyrite-quorum-v1 token";

	crypto_generichash_init(&st, NULL, 0, CER_SECRET_ID_LEN);
	crypto_generichash_update(&st, (const uint8_t *)dom, sizeof(dom));
	crypto_generichash_update(&st, (const uint8_t *)label,
	    strlen(label) + 1);
	crypto_generichash_update(&st, (const uint8_t *)serial,
	    strlen(serial) + 1);
	crypto_generichash_final(&st, out, CER_SECRET_ID_LEN);
}

/* A random PIN of CER_QUORUM_PIN_LEN characters from [A-Za-z0-9]. */
static void
random_pin(char *pin)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t i;

	for (i = 0; i < CER_QUORUM_PIN_LEN; i++)
		pin[i] = al[randombytes_uniform(sizeof(al) - 1)];
	pin[CER_QUORUM_PIN_LEN] = '\0';
}

static char *
hexdup(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (s != NULL)
		sodium_bin2hex(s, 2 * n + 1, p, n);
	return s;
}

enum kr_err
cer_quorum_apply(struct hsm_session *s, const char *so_pin, size_t so_len,
    const struct kr_secret *pin, int *pin_set, struct kr_error *err)
{
	enum kr_err rc;

	if (pin_set != NULL)
		*pin_set = 0;
	if ((rc = hsm_login(s, 1, so_pin, so_len, err)) != KR_OK)
		return rc;
	rc = hsm_init_pin(s, pin->buf, pin->len, err);
	hsm_logout(s);
	if (rc != KR_OK)
		return rc;
	if (pin_set != NULL)
		*pin_set = 1;
	/* The token takes the new PIN before anyone relies on it. */
	if ((rc = hsm_login(s, 0, pin->buf, pin->len, err)) != KR_OK)
		return rc;
	hsm_logout(s);
	return KR_OK;
}

enum kr_err
cer_quorum_make(struct hsm_session *s, const char *const *officers, size_t n,
    unsigned k, enum cer_kdf_cost cost, struct kr_secret *const *passphrases,
    char ***creds, char **public_json, struct kr_secret **pinout,
    struct kr_error *err)
{
	struct cer_armor_hdr h;
	char *pin = NULL, **texts = NULL, *hx;
	uint8_t **sh = NULL, *payload = NULL, pk[crypto_sign_PUBLICKEYBYTES],
	    *skey = NULL;
	json_t *o = NULL, *arr = NULL;
	size_t i;
	enum kr_err rc;

	*creds = NULL;
	*public_json = NULL;
	*pinout = NULL;
	if (k < 2 || n < k || n > 255)
		return kr_fail(err, KR_E_USAGE, "need 2 <= threshold (%u) <= "
		    "officers (%zu) <= 255", k, n);
	pin = sodium_malloc(CER_QUORUM_PIN_LEN + 1);
	payload = sodium_malloc(PAYLOAD_LEN);
	skey = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	sh = calloc(n, sizeof(*sh));
	texts = calloc(n + 1, sizeof(*texts));
	if (pin == NULL || payload == NULL || skey == NULL || sh == NULL ||
	    texts == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((sh[i] = sodium_malloc(CER_QUORUM_PIN_LEN)) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of secure memory");
			goto out;
		}
	random_pin(pin);
	if ((rc = cer_shamir_split((const uint8_t *)pin, CER_QUORUM_PIN_LEN, k,
	    (unsigned)n, sh, err)) != KR_OK)
		goto out;
	cer_armor_hdr_init(&h, CER_KIND_OFFICER, cost);
	randombytes_buf(h.set_id, sizeof(h.set_id));
	cer_quorum_secret_id(hsm_session_label(s), hsm_session_serial(s),
	    h.secret_id);
	h.k = k;
	h.n = (unsigned)n;
	arr = json_array();
	for (i = 0; i < n; i++) {
		h.x = (unsigned)i + 1;
		snprintf(h.holder, sizeof(h.holder), "%s", officers[i]);
		memcpy(payload, sh[i], CER_QUORUM_PIN_LEN);
		randombytes_buf(payload + CER_QUORUM_PIN_LEN,
		    CER_OFFICER_SEED_LEN);
		crypto_sign_seed_keypair(pk, skey,
		    payload + CER_QUORUM_PIN_LEN);
		if ((rc = cer_armor_seal(&h, payload, PAYLOAD_LEN,
		    passphrases[i]->buf, passphrases[i]->len, &texts[i],
		    err)) != KR_OK) {
			kr_error_prefix(err, "credential for %s", officers[i]);
			goto out;
		}
		hx = hexdup(pk, sizeof(pk));
		json_array_append_new(arr, json_pack("{s:s,s:i,s:s}", "name",
		    officers[i], "x", (int)h.x, "ed25519", hx ? hx : ""));
		free(hx);
	}
	hx = hexdup(h.set_id, sizeof(h.set_id));
	o = json_pack("{s:s,s:i,s:s,s:{s:s,s:s},s:i,s:i,s:O}", "format",
	    "keyrite-quorum", "version", 1, "set_id", hx ? hx : "", "token",
	    "label", hsm_session_label(s), "serial", hsm_session_serial(s),
	    "threshold", (int)k, "count", (int)n, "officers", arr);
	free(hx);
	if (o == NULL || (*public_json = json_dumps(o, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "cannot encode officers.json");
		goto out;
	}
	if ((rc = kr_secret_from_bytes(pin, CER_QUORUM_PIN_LEN, pinout,
	    err)) != KR_OK)
		goto out;
	*creds = texts;
	texts = NULL;
	rc = KR_OK;
out:
	json_decref(o);
	json_decref(arr);
	if (sh != NULL)
		for (i = 0; i < n; i++)
			sodium_free(sh[i]);
	free(sh);
	if (texts != NULL)
		for (i = 0; i < n; i++)
			free(texts[i]);
	free(texts);
	sodium_free(pin);
	sodium_free(payload);
	sodium_free(skey);
	return rc;
}

enum kr_err
cer_quorum_check(struct cer_armor *const *creds, const char *const *names,
    size_t count, struct kr_error *err)
{
	const struct cer_armor_hdr **hdrs;
	size_t i;
	enum kr_err rc;

	for (i = 0; i < count; i++)
		if (creds[i]->hdr.kind != CER_KIND_OFFICER)
			return kr_fail(err, KR_E_VERIFY, "%s: is a backup share, "
			    "not an officer credential", names[i]);
	if ((hdrs = calloc(count + 1, sizeof(*hdrs))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; i < count; i++)
		hdrs[i] = &creds[i]->hdr;
	rc = cer_armor_check_set(hdrs, names, count, err);
	free(hdrs);
	return rc;
}

enum kr_err
cer_quorum_pin(struct cer_armor *const *creds, const char *const *names,
    struct kr_secret *const *passphrases, size_t count, const char *label,
    const char *serial, struct kr_secret **pin, struct kr_error *err)
{
	uint8_t sid[CER_SECRET_ID_LEN], *p = NULL;
	enum kr_err rc;

	*pin = NULL;
	if ((rc = cer_quorum_check(creds, names, count, err)) != KR_OK)
		return rc;
	cer_quorum_secret_id(label, serial, sid);
	if (sodium_memcmp(sid, creds[0]->hdr.secret_id, sizeof(sid)) != 0)
		return kr_fail(err, KR_E_VERIFY, "%s: these officer credentials "
		    "were made for another token, not '%s' (serial %s)",
		    names[0], label, serial);
	if ((p = sodium_malloc(CER_QUORUM_PIN_LEN)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of secure memory");
	/* The payload is the PIN share followed by the Ed25519 seed. */
	if ((rc = cer_armor_combine(creds, names, passphrases, count,
	    PAYLOAD_LEN, CER_QUORUM_PIN_LEN, "a keyrite officer credential "
	    "payload", p, err)) == KR_OK)
		rc = kr_secret_from_bytes(p, CER_QUORUM_PIN_LEN, pin, err);
	sodium_free(p);
	return rc;
}

enum kr_err
cer_officer_signing_key(const struct cer_armor *cred,
    const struct kr_secret *passphrase, uint8_t **sk, uint8_t pk[32],
    struct kr_error *err)
{
	uint8_t *pay = NULL, *s;
	size_t plen;
	enum kr_err rc;

	*sk = NULL;
	if (cred->hdr.kind != CER_KIND_OFFICER)
		return kr_fail(err, KR_E_VERIFY, "not an officer credential");
	if ((rc = cer_armor_open(cred, passphrase->buf, passphrase->len, &pay,
	    &plen, err)) != KR_OK)
		return rc;
	if (plen != PAYLOAD_LEN ||
	    (s = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		sodium_free(pay);
		return kr_fail(err, KR_E_VERIFY, "not a keyrite officer "
		    "credential payload");
	}
	crypto_sign_seed_keypair(pk, s, pay + CER_QUORUM_PIN_LEN);
	sodium_free(pay);
	*sk = s;
	return KR_OK;
}
