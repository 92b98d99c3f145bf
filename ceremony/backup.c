/*
 * backup.c: Shamir-split backups of a token key (see backup.h and
 * docs/formats-backup.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "backup.h"
#include "shamir.h"

#define BLOB_FORMAT "keyrite-backup"
#define PROOF_PREFIX "keyrite restore proof v1 (not a certificate)"

void
cer_backup_free(struct cer_backup *b)
{
	unsigned i;

	if (b == NULL)
		return;
	if (b->holders != NULL)
		for (i = 0; i < b->n; i++)
			free(b->holders[i]);
	free(b->holders);
	free(b->spki);
	free(b->wrapped);
	free(b);
}

/* Append a length-prefixed field to the canonical encoding in st. */
static void
canon_field(crypto_generichash_state *st, const void *p, size_t len)
{
	uint8_t l[4];

	l[0] = (uint8_t)(len >> 24);
	l[1] = (uint8_t)(len >> 16);
	l[2] = (uint8_t)(len >> 8);
	l[3] = (uint8_t)len;
	crypto_generichash_update(st, l, 4);
	crypto_generichash_update(st, p, len);
}

/*
 * BLAKE2b-256 over the canonical encoding of every field but the MAC,
 * keyed with key (may be NULL for the unkeyed secret id).  The field
 * order is fixed and documented in docs/formats-backup.md.
 */
static void
canon_hash(const struct cer_backup *b, const char *domain, const uint8_t *key,
    uint8_t out[32])
{
	crypto_generichash_state st;
	uint8_t kn[2] = { (uint8_t)b->k, (uint8_t)b->n };
	unsigned i;

	crypto_generichash_init(&st, key, key ? HSM_WRAP_KEY_LEN : 0, 32);
	canon_field(&st, domain, strlen(domain));
	canon_field(&st, b->set_id, sizeof(b->set_id));
	canon_field(&st, b->created, strlen(b->created));
	canon_field(&st, b->key_label, strlen(b->key_label));
	canon_field(&st, b->key_id, b->key_id_len);
	canon_field(&st, b->key_type, strlen(b->key_type));
	canon_field(&st, b->spki, b->spki_len);
	canon_field(&st, b->root_fpr, sizeof(b->root_fpr));
	canon_field(&st, kn, 2);
	for (i = 0; i < b->n; i++)
		canon_field(&st, b->holders[i], strlen(b->holders[i]));
	canon_field(&st, b->wrapped, b->wrapped_len);
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));
}

void
cer_backup_secret_id(const struct cer_backup *b,
    uint8_t out[CER_SECRET_ID_LEN])
{
	canon_hash(b, "keyrite-backup-v1 secret id", NULL, out);
}

static void
backup_mac(const struct cer_backup *b, const uint8_t *wkey, uint8_t out[32])
{
	canon_hash(b, "keyrite-backup-v1 mac", wkey, out);
}

/* Hex and base64 helpers over libsodium's constant-time codecs. */
static char *
to_hex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (s != NULL)
		sodium_bin2hex(s, 2 * n + 1, p, n);
	return s;
}

static char *
to_b64(const uint8_t *p, size_t n)
{
	size_t sz = sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(sz);

	if (s != NULL)
		sodium_bin2base64(s, sz, p, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

static enum kr_err
backup_encode(const struct cer_backup *b, char **out, struct kr_error *err)
{
	json_t *o = NULL, *h = NULL;
	char *set = NULL, *id = NULL, *spki = NULL, *fpr = NULL, *wr = NULL,
	    *mac = NULL;
	unsigned i;
	enum kr_err rc;

	*out = NULL;
	set = to_hex(b->set_id, sizeof(b->set_id));
	id = to_hex(b->key_id, b->key_id_len);
	spki = to_b64(b->spki, b->spki_len);
	fpr = to_hex(b->root_fpr, sizeof(b->root_fpr));
	wr = to_b64(b->wrapped, b->wrapped_len);
	mac = to_hex(b->mac, sizeof(b->mac));
	h = json_array();
	if (set == NULL || id == NULL || spki == NULL || fpr == NULL ||
	    wr == NULL || mac == NULL || h == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < b->n; i++)
		json_array_append_new(h, json_string(b->holders[i]));
	o = json_pack("{s:s,s:i,s:s,s:s,s:{s:s,s:s,s:s,s:s},s:s,s:i,s:i,s:O,"
	    "s:s,s:s,s:s}",
	    "format", BLOB_FORMAT, "version", CER_BACKUP_VERSION,
	    "set_id", set, "created", b->created,
	    "key", "label", b->key_label, "id", id, "type", b->key_type,
	    "spki", spki,
	    "root_sha256", fpr, "threshold", (int)b->k, "count", (int)b->n,
	    "holders", h, "wrap_mechanism", "CKM_AES_KEY_WRAP_PAD",
	    "wrapped_key", wr, "mac", mac);
	if (o == NULL || (*out = json_dumps(o, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "cannot encode the backup blob");
		goto out;
	}
	rc = KR_OK;
out:
	json_decref(o);
	json_decref(h);
	free(set);
	free(id);
	free(spki);
	free(fpr);
	free(wr);
	free(mac);
	return rc;
}

/* Strict field access for the parser. */
static enum kr_err
get_str(json_t *o, const char *key, const char *name, const char **out,
    struct kr_error *err)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return kr_fail(err, KR_E_PARSE, "%s: field '%s' is missing",
		    name, key);
	if (!json_is_string(v))
		return kr_fail(err, KR_E_PARSE, "%s: field '%s' must be a "
		    "string", name, key);
	*out = json_string_value(v);
	return KR_OK;
}

static enum kr_err
get_hex(json_t *o, const char *key, const char *name, uint8_t *buf,
    size_t min, size_t max, size_t *len, struct kr_error *err)
{
	const char *s, *end;
	size_t n;
	enum kr_err rc;

	if ((rc = get_str(o, key, name, &s, err)) != KR_OK)
		return rc;
	if (sodium_hex2bin(buf, max, s, strlen(s), NULL, &n, &end) != 0 ||
	    *end != '\0' || n < min)
		return kr_fail(err, KR_E_PARSE, "%s: field '%s' must be %zu%s "
		    "bytes of hex", name, key, min, min == max ? "" : "+");
	if (len != NULL)
		*len = n;
	return KR_OK;
}

static enum kr_err
get_b64(json_t *o, const char *key, const char *name, uint8_t **buf,
    size_t *len, struct kr_error *err)
{
	const char *s, *end;
	size_t sl;
	enum kr_err rc;

	if ((rc = get_str(o, key, name, &s, err)) != KR_OK)
		return rc;
	sl = strlen(s);
	if ((*buf = malloc(sl + 1)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	if (sl == 0 || sodium_base642bin(*buf, sl + 1, s, sl, NULL, len, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || *end != '\0' ||
	    *len == 0) {
		free(*buf);
		*buf = NULL;
		return kr_fail(err, KR_E_PARSE, "%s: field '%s' is not base64",
		    name, key);
	}
	return KR_OK;
}

/* Every key of o must be one of the NULL-terminated keys. */
static enum kr_err
only_keys(json_t *o, const char *const *keys, const char *where,
    const char *name, struct kr_error *err)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v) {
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], k) == 0)
				break;
		if (keys[i] == NULL)
			return kr_fail(err, KR_E_PARSE, "%s: unknown field "
			    "'%s'%s", name, k, where);
	}
	return KR_OK;
}

enum kr_err
cer_backup_parse(const char *text, size_t len, const char *name,
    struct cer_backup **out, struct kr_error *err)
{
	static const char *const top[] = { "format", "version", "set_id",
	    "created", "key", "root_sha256", "threshold", "count", "holders",
	    "wrap_mechanism", "wrapped_key", "mac", NULL };
	static const char *const keyf[] = { "label", "id", "type", "spki",
	    NULL };
	struct cer_backup *b = NULL;
	json_error_t je;
	json_t *o = NULL, *key, *v;
	const char *s;
	json_int_t k, n;
	size_t i;
	enum kr_err rc;

	*out = NULL;
	if (len > CER_BACKUP_MAX)
		return kr_fail(err, KR_E_PARSE, "%s: larger than a backup "
		    "blob can be", name);
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		rc = kr_fail(err, KR_E_PARSE, "%s: line %d: %s", name, je.line,
		    je.text);
		goto out;
	}
	if (!json_is_object(o)) {
		rc = kr_fail(err, KR_E_PARSE, "%s: not a JSON object", name);
		goto out;
	}
	if ((rc = only_keys(o, top, "", name, err)) != KR_OK ||
	    (rc = get_str(o, "format", name, &s, err)) != KR_OK)
		goto out;
	if (strcmp(s, BLOB_FORMAT) != 0) {
		rc = kr_fail(err, KR_E_PARSE, "%s: not a keyrite backup blob "
		    "(format '%s')", name, s);
		goto out;
	}
	v = json_object_get(o, "version");
	if (!json_is_integer(v) || json_integer_value(v) !=
	    CER_BACKUP_VERSION) {
		rc = kr_fail(err, KR_E_PARSE, "%s: version must be %d", name,
		    CER_BACKUP_VERSION);
		goto out;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = get_hex(o, "set_id", name, b->set_id, sizeof(b->set_id),
	    sizeof(b->set_id), NULL, err)) != KR_OK ||
	    (rc = get_str(o, "created", name, &s, err)) != KR_OK)
		goto out;
	if (kr_parse_time(s) == -1 || strlen(s) >= sizeof(b->created)) {
		rc = kr_fail(err, KR_E_PARSE, "%s: 'created' is not a time",
		    name);
		goto out;
	}
	snprintf(b->created, sizeof(b->created), "%s", s);
	key = json_object_get(o, "key");
	if (!json_is_object(key)) {
		rc = kr_fail(err, KR_E_PARSE, "%s: field 'key' must be an "
		    "object", name);
		goto out;
	}
	if ((rc = only_keys(key, keyf, " in 'key'", name, err)) != KR_OK ||
	    (rc = get_str(key, "label", name, &s, err)) != KR_OK)
		goto out;
	if (*s == '\0' || strlen(s) >= sizeof(b->key_label)) {
		rc = kr_fail(err, KR_E_PARSE, "%s: bad key label", name);
		goto out;
	}
	snprintf(b->key_label, sizeof(b->key_label), "%s", s);
	if ((rc = get_hex(key, "id", name, b->key_id, 1, sizeof(b->key_id),
	    &b->key_id_len, err)) != KR_OK ||
	    (rc = get_str(key, "type", name, &s, err)) != KR_OK)
		goto out;
	if (hsm_keytype_from_name(s) == HSM_KEY_NONE) {
		rc = kr_fail(err, KR_E_PARSE, "%s: key type '%s' is unknown",
		    name, s);
		goto out;
	}
	snprintf(b->key_type, sizeof(b->key_type), "%s", s);
	if ((rc = get_b64(key, "spki", name, &b->spki, &b->spki_len,
	    err)) != KR_OK ||
	    (rc = get_hex(o, "root_sha256", name, b->root_fpr, 32, 32, NULL,
	    err)) != KR_OK)
		goto out;
	k = json_integer_value(json_object_get(o, "threshold"));
	n = json_integer_value(json_object_get(o, "count"));
	if (!json_is_integer(json_object_get(o, "threshold")) ||
	    !json_is_integer(json_object_get(o, "count")) || k < 2 || n < k ||
	    n > 255) {
		rc = kr_fail(err, KR_E_PARSE, "%s: threshold and count must be "
		    "integers with 2 <= threshold <= count <= 255", name);
		goto out;
	}
	v = json_object_get(o, "holders");
	if (!json_is_array(v) || json_array_size(v) != (size_t)n) {
		rc = kr_fail(err, KR_E_PARSE, "%s: 'holders' must list %d "
		    "names", name, (int)n);
		goto out;
	}
	if ((b->holders = calloc((size_t)n, sizeof(char *))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	b->k = (unsigned)k;
	b->n = (unsigned)n;
	for (i = 0; i < (size_t)n; i++) {
		json_t *e = json_array_get(v, i);

		if (!json_is_string(e) || json_string_length(e) == 0 ||
		    json_string_length(e) > CER_HOLDER_MAX ||
		    (b->holders[i] = strdup(json_string_value(e))) == NULL) {
			rc = kr_fail(err, KR_E_PARSE, "%s: holder %zu is not a "
			    "name", name, i + 1);
			goto out;
		}
	}
	if ((rc = get_str(o, "wrap_mechanism", name, &s, err)) != KR_OK)
		goto out;
	if (strcmp(s, "CKM_AES_KEY_WRAP_PAD") != 0) {
		rc = kr_fail(err, KR_E_PARSE, "%s: wrap mechanism '%s' is not "
		    "CKM_AES_KEY_WRAP_PAD", name, s);
		goto out;
	}
	if ((rc = get_b64(o, "wrapped_key", name, &b->wrapped,
	    &b->wrapped_len, err)) != KR_OK ||
	    (rc = get_hex(o, "mac", name, b->mac, 32, 32, NULL, err)) != KR_OK)
		goto out;
	if (b->wrapped_len % 8 != 0 || b->wrapped_len < 16) {
		rc = kr_fail(err, KR_E_PARSE, "%s: the wrapped key has an "
		    "impossible length (%zu)", name, b->wrapped_len);
		goto out;
	}
	*out = b;
	b = NULL;
	rc = KR_OK;
out:
	cer_backup_free(b);
	json_decref(o);
	return rc;
}

enum kr_err
cer_backup_public(const struct cer_backup *b, EVP_PKEY **out,
    struct kr_error *err)
{
	const unsigned char *p = b->spki;

	*out = d2i_PUBKEY(NULL, &p, (long)b->spki_len);
	if (*out == NULL || p != b->spki + b->spki_len) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return kr_fail_ossl(err, KR_E_PARSE, "the backup's public key "
		    "does not parse");
	}
	return KR_OK;
}

enum kr_err
cer_backup_create(struct hsm_key *key, const uint8_t root_fpr[32],
    const char *const *holders, size_t n, unsigned k, enum cer_kdf_cost cost,
    time_t now, struct kr_secret *const *passphrases, char **blob_json,
    char ***shares, struct kr_error *err)
{
	struct cer_backup b;
	struct cer_armor_hdr h;
	struct tm tm;
	uint8_t *wkey = NULL, **sh = NULL, *spki = NULL;
	const uint8_t *id;
	char **texts = NULL;
	unsigned char *der = NULL;
	size_t i, idlen;
	int derlen;
	enum kr_err rc;

	*blob_json = NULL;
	*shares = NULL;
	memset(&b, 0, sizeof(b));
	if (k < 2 || n < k || n > 255)
		return kr_fail(err, KR_E_USAGE, "need 2 <= threshold (%u) <= "
		    "holders (%zu) <= 255", k, n);
	/* Refuse now what restore would refuse later. */
	if (hsm_keytype_from_name(hsm_keytype_name(hsm_key_type(key))) ==
	    HSM_KEY_NONE)
		return kr_fail(err, KR_E_POLICY, "key '%s' is %s; keyrite backs "
		    "up ec-p384, ec-p256, rsa-3072 and rsa-4096 keys",
		    hsm_key_label(key), hsm_keytype_name(hsm_key_type(key)));
	(void)hsm_key_id(key, &idlen);
	if (idlen == 0)
		return kr_fail(err, KR_E_POLICY, "key '%s' has no CKA_ID; give "
		    "it one before backing it up", hsm_key_label(key));
	/* The blob's public fields. */
	randombytes_buf(b.set_id, sizeof(b.set_id));
	gmtime_r(&now, &tm);
	strftime(b.created, sizeof(b.created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(b.key_label, sizeof(b.key_label), "%s", hsm_key_label(key));
	id = hsm_key_id(key, &idlen);
	memcpy(b.key_id, id, idlen);
	b.key_id_len = idlen;
	snprintf(b.key_type, sizeof(b.key_type), "%s",
	    hsm_keytype_name(hsm_key_type(key)));
	if ((derlen = i2d_PUBKEY(hsm_key_public(key), &der)) <= 0 ||
	    (spki = malloc((size_t)derlen)) == NULL) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "public key");
		goto out;
	}
	memcpy(spki, der, (size_t)derlen);
	b.spki = spki;
	b.spki_len = (size_t)derlen;
	memcpy(b.root_fpr, root_fpr, 32);
	b.k = k;
	b.n = (unsigned)n;
	b.holders = (char **)(uintptr_t)holders;
	/* The wrapping key: drawn, used once, split, wiped. */
	if ((wkey = sodium_malloc(HSM_WRAP_KEY_LEN)) == NULL ||
	    (sh = calloc(n, sizeof(*sh))) == NULL ||
	    (texts = calloc(n + 1, sizeof(*texts))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((sh[i] = sodium_malloc(HSM_WRAP_KEY_LEN)) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of secure memory");
			goto out;
		}
	randombytes_buf(wkey, HSM_WRAP_KEY_LEN);
	if ((rc = hsm_key_wrap(key, wkey, &b.wrapped, &b.wrapped_len, err)) !=
	    KR_OK)
		goto out;
	backup_mac(&b, wkey, b.mac);
	if ((rc = cer_shamir_split(wkey, HSM_WRAP_KEY_LEN, k, (unsigned)n,
	    sh, err)) != KR_OK)
		goto out;
	sodium_memzero(wkey, HSM_WRAP_KEY_LEN);
	cer_armor_hdr_init(&h, CER_KIND_SHARE, cost);
	memcpy(h.set_id, b.set_id, sizeof(h.set_id));
	cer_backup_secret_id(&b, h.secret_id);
	h.k = k;
	h.n = (unsigned)n;
	for (i = 0; i < n; i++) {
		h.x = (unsigned)i + 1;
		snprintf(h.holder, sizeof(h.holder), "%s", holders[i]);
		if ((rc = cer_armor_seal(&h, sh[i], HSM_WRAP_KEY_LEN,
		    passphrases[i]->buf, passphrases[i]->len, &texts[i],
		    err)) != KR_OK) {
			kr_error_prefix(err, "share for %s", holders[i]);
			goto out;
		}
	}
	if ((rc = backup_encode(&b, blob_json, err)) != KR_OK)
		goto out;
	*shares = texts;
	texts = NULL;
	rc = KR_OK;
out:
	if (sh != NULL)
		for (i = 0; i < n; i++)
			sodium_free(sh[i]);	/* sodium_free wipes */
	free(sh);
	sodium_free(wkey);
	if (texts != NULL)
		for (i = 0; i < n; i++)
			free(texts[i]);
	free(texts);
	free(b.wrapped);
	free(spki);
	OPENSSL_free(der);
	return rc;
}

/* Each share must be a share of this backup; report which one is not. */
enum kr_err
cer_backup_check_shares(const struct cer_backup *b,
    struct cer_armor *const *shares, const char *const *names, size_t count,
    struct kr_error *err)
{
	const struct cer_armor_hdr **hdrs = NULL;
	uint8_t sid[CER_SECRET_ID_LEN];
	char want[2 * CER_SET_ID_LEN + 1], got[2 * CER_SET_ID_LEN + 1];
	size_t i;
	enum kr_err rc;

	cer_backup_secret_id(b, sid);
	for (i = 0; i < count; i++) {
		const struct cer_armor_hdr *h = &shares[i]->hdr;

		if (h->kind != CER_KIND_SHARE)
			return kr_fail(err, KR_E_VERIFY, "%s: is an officer "
			    "credential, not a backup share", names[i]);
		if (sodium_memcmp(h->set_id, b->set_id, CER_SET_ID_LEN) != 0) {
			kr_hex(h->set_id, CER_SET_ID_LEN, got);
			kr_hex(b->set_id, CER_SET_ID_LEN, want);
			return kr_fail(err, KR_E_VERIFY, "share %u (%s): belongs "
			    "to backup set %.8s..., not %.8s... (this "
			    "backup's); use the shares printed at the same "
			    "ceremony", h->x, names[i], got, want);
		}
		if (sodium_memcmp(h->secret_id, sid, sizeof(sid)) != 0)
			return kr_fail(err, KR_E_VERIFY, "share %u (%s): was "
			    "made for a different backup blob than this one "
			    "(secret id differs); is the blob altered?", h->x,
			    names[i]);
		if (h->k != b->k || h->n != b->n)
			return kr_fail(err, KR_E_VERIFY, "share %u (%s): says "
			    "%u of %u, the backup %u of %u", h->x, names[i],
			    h->k, h->n, b->k, b->n);
	}
	if ((hdrs = calloc(count + 1, sizeof(*hdrs))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; i < count; i++)
		hdrs[i] = &shares[i]->hdr;
	rc = cer_armor_check_set(hdrs, names, count, err);
	free(hdrs);
	return rc;
}

enum kr_err
cer_backup_unlock(const struct cer_backup *b, struct cer_armor *const *shares,
    const char *const *names, struct kr_secret *const *passphrases,
    size_t count, uint8_t **wkey, struct kr_error *err)
{
	uint8_t *w = NULL, mac[32];
	enum kr_err rc;

	*wkey = NULL;
	if ((rc = cer_backup_check_shares(b, shares, names, count, err)) !=
	    KR_OK)
		return rc;
	if ((w = sodium_malloc(HSM_WRAP_KEY_LEN)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of secure memory");
	if ((rc = cer_armor_combine(shares, names, passphrases, count,
	    HSM_WRAP_KEY_LEN, HSM_WRAP_KEY_LEN, "a wrapping key share", w,
	    err)) != KR_OK)
		goto out;
	backup_mac(b, w, mac);
	if (sodium_memcmp(mac, b->mac, sizeof(mac)) != 0) {
		rc = kr_fail(err, KR_E_VERIFY, "the shares do not rebuild this "
		    "backup's wrapping key (the blob's MAC does not match): "
		    "the blob was altered, or the shares are not its own");
		goto out;
	}
	*wkey = w;
	w = NULL;
	rc = KR_OK;
out:
	sodium_free(w);
	return rc;
}

enum kr_err
cer_backup_restore(struct hsm_session *s, const struct cer_backup *b,
    const uint8_t *wkey, const char *label, EVP_PKEY *root_pub,
    struct hsm_key **out, struct kr_error *err)
{
	struct hsm_key *k = NULL;
	EVP_PKEY *pub = NULL;
	EVP_MD_CTX *ctx = NULL;
	unsigned char msg[sizeof(PROOF_PREFIX) + 32], *sig = NULL;
	size_t siglen = 0;
	enum kr_err rc;

	*out = NULL;
	if ((rc = cer_backup_public(b, &pub, err)) != KR_OK)
		return rc;
	if (root_pub != NULL && EVP_PKEY_eq(pub, root_pub) != 1) {
		rc = kr_fail(err, KR_E_VERIFY, "the backup's key is not the key "
		    "of the root certificate given");
		goto out;
	}
	if ((rc = hsm_key_unwrap(s, wkey, b->wrapped, b->wrapped_len, pub,
	    label ? label : b->key_label, b->key_id, b->key_id_len, &k,
	    err)) != KR_OK)
		goto out;
	/* Prove it: the restored key signs, under the expected public key. */
	memcpy(msg, PROOF_PREFIX, sizeof(PROOF_PREFIX));
	randombytes_buf(msg + sizeof(PROOF_PREFIX), 32);
	if ((rc = hsm_key_sign(k, EVP_sha256(), msg, sizeof(msg), &sig,
	    &siglen, err)) != KR_OK)
		goto fail;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
	    root_pub ? root_pub : pub) != 1 ||
	    EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)) != 1) {
		rc = kr_fail_ossl(err, KR_E_VERIFY, "the restored key's "
		    "signature does not verify under the root's public key");
		goto fail;
	}
	*out = k;
	k = NULL;
	rc = KR_OK;
	goto out;
fail:
	(void)hsm_key_destroy(k, NULL);
out:
	hsm_key_free(k);
	EVP_PKEY_free(pub);
	EVP_MD_CTX_free(ctx);
	free(sig);
	return rc;
}
