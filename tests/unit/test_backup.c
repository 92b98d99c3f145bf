/*
 * test_backup.c: backups end to end on a real SoftHSM2 token (create,
 * unlock, restore into a second token), the blob parser's table of bad
 * inputs, and every single-byte change of a share refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sodium.h>

#include "ceremony/backup.h"
#include "softhsm_env.h"

#define PIN "user-1234"
#define N 5
#define K 3

static struct hsm_module *mod;
static struct hsm_session *sess;
static struct hsm_key *key;
static char *blob;
static char **shares;
static struct kr_secret *pass[N];
static const char *const holders[N] = { "alice", "bob", "carol", "dave",
	"erin" };
static const char *const names[N] = { "share-alice.txt", "share-bob.txt",
	"share-carol.txt", "share-dave.txt", "share-erin.txt" };
static const uint8_t root_fpr[32] = { 1, 2, 3 };

static struct hsm_session *
open_token(const char *label)
{
	struct hsm_session *s = NULL;
	struct hsm_uri u;
	struct kr_error err = { 0 };
	char uri[64];

	snprintf(uri, sizeof(uri), "pkcs11:token=%s", label);
	if (hsm_uri_parse(uri, &u, &err) != KR_OK ||
	    hsm_open(mod, &u, &s, &err) != KR_OK ||
	    hsm_login(s, 0, PIN, strlen(PIN), &err) != KR_OK) {
		fprintf(stderr, "%s\n", err.msg);
		s = NULL;
	}
	hsm_uri_free(&u);
	return s;
}

static int
setup(void **state)
{
	struct kr_error err = { 0 };
	char serial[17], pw[32];
	size_t i;

	(void)state;
	if (sodium_init() < 0 || softhsm_env_setup() != 0 ||
	    hsm_module_load(NULL, &mod, &err) != KR_OK ||
	    hsm_init_token(mod, "orig", "so-1234", 7, PIN, strlen(PIN), serial,
	    &err) != KR_OK || (sess = open_token("orig")) == NULL ||
	    hsm_keygen(sess, "root-2026", HSM_KEY_EC_P384,
	    HSM_KEYGEN_EXTRACTABLE, &key, &err) != KR_OK) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	for (i = 0; i < N; i++) {
		snprintf(pw, sizeof(pw), "pass-%s", holders[i]);
		if (kr_secret_from_bytes(pw, strlen(pw), &pass[i], &err) !=
		    KR_OK)
			return -1;
	}
	if (cer_backup_create(key, root_fpr, holders, N, K,
	    CER_KDF_COST_MIN, 1700000000, pass, &blob, &shares, &err) !=
	    KR_OK) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N; i++) {
		free(shares[i]);
		kr_secret_free(pass[i]);
	}
	free(shares);
	free(blob);
	hsm_key_free(key);
	hsm_close(sess);
	hsm_module_free(mod);
	softhsm_env_teardown();
	return 0;
}

static struct cer_armor *
parse(const char *text)
{
	struct cer_armor *a = NULL;
	struct kr_error err = { 0 };

	assert_int_equal(cer_armor_parse(text, strlen(text), &a, &err), KR_OK);
	return a;
}

/* Unlock with shares idx[0..cnt) of the backup. */
static enum kr_err
unlock(const struct cer_backup *b, const char *const *texts,
    const size_t *idx, size_t cnt, uint8_t **w, struct kr_error *err)
{
	struct cer_armor *a[N];
	struct kr_secret *p[N];
	const char *nm[N];
	size_t i;
	enum kr_err rc;

	for (i = 0; i < cnt; i++) {
		a[i] = parse(texts[i]);
		p[i] = pass[idx[i]];
		nm[i] = names[idx[i]];
	}
	rc = cer_backup_unlock(b, a, nm, p, cnt, w, err);
	for (i = 0; i < cnt; i++)
		cer_armor_free(a[i]);
	return rc;
}

static struct cer_backup *
parse_blob(void)
{
	struct cer_backup *b = NULL;
	struct kr_error err = { 0 };

	assert_int_equal(cer_backup_parse(blob, strlen(blob), "backup.blob",
	    &b, &err), KR_OK);
	return b;
}

static void
test_every_triple_restores(void **state)
{
	struct cer_backup *b = parse_blob();
	struct kr_error err = { 0 };
	struct hsm_session *s2;
	struct hsm_key *r = NULL;
	uint8_t *w = NULL;
	size_t i, j, l, cnt = 0;
	char serial[17], label[32];

	(void)state;
	assert_int_equal(hsm_init_token(mod, "restore", "so-1234", 7, PIN,
	    strlen(PIN), serial, &err), KR_OK);
	s2 = open_token("restore");
	assert_non_null(s2);
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++)
			for (l = j + 1; l < N; l++) {
				size_t idx[3] = { i, j, l };
				const char *t[3] = { shares[i], shares[j],
				    shares[l] };

				assert_int_equal(unlock(b, t, idx, 3, &w, &err),
				    KR_OK);
				snprintf(label, sizeof(label), "r%zu%zu%zu", i,
				    j, l);
				assert_int_equal(cer_backup_restore(s2, b, w,
				    label, hsm_key_public(key), &r, &err),
				    KR_OK);
				assert_int_equal(EVP_PKEY_eq(hsm_key_public(r),
				    hsm_key_public(key)), 1);
				/* One key per CKA_ID: clear the token for the
				 * next triple. */
				assert_int_equal(hsm_key_destroy(r, &err),
				    KR_OK);
				hsm_key_free(r);
				sodium_free(w);
				cnt++;
			}
	assert_int_equal(cnt, 10);
	hsm_close(s2);
	cer_backup_free(b);
}

static void
test_refusals(void **state)
{
	struct cer_backup *b = parse_blob();
	struct kr_error err = { 0 };
	uint8_t *w = NULL;
	size_t two[2] = { 0, 1 }, dup[3] = { 0, 0, 1 };
	const char *t2[2] = { shares[0], shares[1] };
	const char *td[3] = { shares[0], shares[0], shares[1] };

	(void)state;
	assert_int_equal(unlock(b, t2, two, 2, &w, &err), KR_E_USAGE);
	assert_non_null(strstr(err.msg, "needs 3"));
	assert_int_equal(unlock(b, td, dup, 3, &w, &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "share-alice.txt is given twice"));
	assert_null(w);
	cer_backup_free(b);
}

static void
test_wrong_passphrase(void **state)
{
	struct cer_backup *b = parse_blob();
	struct kr_error err = { 0 };
	struct kr_secret *saved = pass[2], *bad = NULL;
	uint8_t *w = NULL;
	size_t idx[3] = { 0, 1, 2 };
	const char *t[3] = { shares[0], shares[1], shares[2] };

	(void)state;
	assert_int_equal(kr_secret_from_bytes("nope", 4, &bad, &err), KR_OK);
	pass[2] = bad;
	assert_int_equal(unlock(b, t, idx, 3, &w, &err), KR_E_AUTH);
	assert_non_null(strstr(err.msg, "share-carol.txt"));
	assert_non_null(strstr(err.msg, "wrong passphrase"));
	pass[2] = saved;
	kr_secret_free(bad);
	cer_backup_free(b);
}

/*
 * Every byte of one share changed to another value is refused: by the
 * parser (line checksums, the Check line, header syntax) or by the AEAD
 * or the blob's MAC.  The few changes the armor defines as the same
 * text (a letter's case, O for 0, I or L for 1, spacing inside a data
 * line) must parse to identical bytes, and are counted apart.
 */
static void
test_every_byte_changed(void **state)
{
	struct cer_backup *b = parse_blob();
	struct cer_armor *orig = parse(shares[2]), *a = NULL;
	struct kr_error err = { 0 };
	static const char repl[] = "0Zz9#\x01 ";
	size_t len = strlen(shares[2]), pos, r, refused = 0, same = 0;
	size_t idx[3] = { 0, 1, 2 };
	uint8_t *w = NULL;
	char *m;

	(void)state;
	m = malloc(len + 1);
	assert_non_null(m);
	for (pos = 0; pos < len; pos++) {
		for (r = 0; r < sizeof(repl) - 1; r++) {
			const char *t[3] = { shares[0], shares[1], m };

			memcpy(m, shares[2], len + 1);
			if (m[pos] == repl[r])
				continue;
			m[pos] = repl[r];
			if (cer_armor_parse(m, len, &a, &err) != KR_OK) {
				refused++;
				continue;
			}
			if (memcmp(&a->hdr, &orig->hdr, sizeof(a->hdr)) == 0 &&
			    a->body_len == orig->body_len &&
			    memcmp(a->body, orig->body, a->body_len) == 0) {
				cer_armor_free(a);
				same++;
				continue;
			}
			cer_armor_free(a);
			/* It parsed to something else: it must not unlock. */
			print_message("position %zu -> 0x%02x parsed\n", pos,
			    (unsigned char)repl[r]);
			assert_int_not_equal(unlock(b, t, idx, 3, &w, &err),
			    KR_OK);
			assert_null(w);
			refused++;
		}
	}
	print_message("%zu changes refused, %zu equivalent spellings\n",
	    refused, same);
	assert_true(refused > 5 * len);
	free(m);
	cer_armor_free(orig);
	cer_backup_free(b);
}

static void
test_blob_altered(void **state)
{
	struct cer_backup *b = NULL;
	struct kr_error err = { 0 };
	uint8_t *w = NULL;
	size_t idx[3] = { 0, 1, 2 };
	const char *t[3] = { shares[0], shares[1], shares[2] };
	char *m = strdup(blob), *p;

	(void)state;
	/* Another label: the secret id in the shares no longer matches. */
	p = strstr(m, "\"root-2026\"");
	assert_non_null(p);
	p[1] = 'R';
	assert_int_equal(cer_backup_parse(m, strlen(m), "b", &b, &err), KR_OK);
	assert_int_equal(unlock(b, t, idx, 3, &w, &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "different backup blob"));
	cer_backup_free(b);
	free(m);
}

/* The blob parser refuses, naming the field. */
static const struct {
	const char	*from;		/* replace this in a good blob */
	const char	*to;
	const char	*msg;
} bad_blob[] = {
	{ "\"format\": \"keyrite-backup\"", "\"format\": \"other\"",
	    "not a keyrite backup blob" },
	{ "\"version\": 1", "\"version\": 2", "version must be 1" },
	{ "\"version\": 1", "\"version\": \"1\"", "version must be 1" },
	{ "\"threshold\": 3", "\"threshold\": 1", "threshold and count" },
	{ "\"threshold\": 3", "\"threshold\": 6", "threshold and count" },
	{ "\"count\": 5", "\"count\": 256", "threshold and count" },
	{ "\"count\": 5", "\"count\": 4", "'holders' must list 4" },
	{ "\"set_id\": \"", "\"set_id\": \"zz", "'set_id' must be 16" },
	{ "\"mac\": \"", "\"mac\": \"00", "'mac' must be 32" },
	{ "\"created\": \"", "\"created\": \"yesterday", "not a time" },
	{ "\"type\": \"ec-p384\"", "\"type\": \"ed25519\"", "unknown" },
	{ "\"wrap_mechanism\": \"CKM_AES_KEY_WRAP_PAD\"",
	    "\"wrap_mechanism\": \"CKM_AES_KEY_WRAP\"",
	    "is not CKM_AES_KEY_WRAP_PAD" },
	{ "\"wrapped_key\": \"", "\"wrapped_key\": \"!", "not base64" },
	{ "\"holders\": [", "\"extra\": 1, \"holders\": [",
	    "unknown field 'extra'" },
	{ "\"label\": \"", "\"colour\": \"red\", \"label\": \"",
	    "unknown field 'colour' in 'key'" },
	{ "\"version\": 1,", "\"version\": 1, \"version\": 1,", "line" },
	{ "\"mac\": \"", "\"nac\": \"", "unknown field 'nac'" },
	{ "{", "[", "line" },
};

static void
test_blob_parser_table(void **state)
{
	struct cer_backup *b = NULL;
	struct kr_error err;
	char *m, *p;
	size_t i, fl, tl, bl = strlen(blob);

	(void)state;
	for (i = 0; i < sizeof(bad_blob) / sizeof(bad_blob[0]); i++) {
		p = strstr(blob, bad_blob[i].from);
		assert_non_null(p);
		fl = strlen(bad_blob[i].from);
		tl = strlen(bad_blob[i].to);
		m = malloc(bl - fl + tl + 1);
		memcpy(m, blob, (size_t)(p - blob));
		memcpy(m + (p - blob), bad_blob[i].to, tl);
		memcpy(m + (p - blob) + tl, p + fl, strlen(p + fl) + 1);
		memset(&err, 0, sizeof(err));
		print_message("bad blob %zu: %s\n", i, bad_blob[i].to);
		assert_int_equal(cer_backup_parse(m, strlen(m), "backup.blob",
		    &b, &err), KR_E_PARSE);
		assert_null(b);
		assert_non_null(strstr(err.msg, "backup.blob"));
		assert_non_null(strstr(err.msg, bad_blob[i].msg));
		free(m);
	}
	assert_int_equal(cer_backup_parse("", 0, "e", &b, &err), KR_E_PARSE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_triple_restores),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_wrong_passphrase),
		cmocka_unit_test(test_every_byte_changed),
		cmocka_unit_test(test_blob_altered),
		cmocka_unit_test(test_blob_parser_table),
	};

	return cmocka_run_group_tests_name("backup", tests, setup, teardown);
}
