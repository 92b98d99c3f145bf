/*
 * test_transcript.c: the hash-chained, signed ceremony transcript.  A
 * realistic transcript is written with the API and verified; then every
 * single-byte change, every removed line and every swap of adjacent
 * lines must be refused, as must signatures by the wrong key, a changed
 * output file, and a table of malformed or out-of-order entries, each
 * with the message it must give.  The hash and the signed message are
 * recomputed here from docs/ceremony-transcript.md.
 */
#include <sys/stat.h>

#include <fcntl.h>
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
#include <sodium.h>

#include "../../ceremony/transcript.h"
#include "../../common/file.h"

#define ENC	(JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)
#define NOW	"2026-03-01T10:00:00Z"

static const char script_text[] = "version: 1\nname: root-init\n";
static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n"
    "-----END CERTIFICATE-----\n";

struct keys {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	char	hex[2 * crypto_sign_PUBLICKEYBYTES + 1];
};

struct fx {
	char		dir[64];
	uint8_t		script_sha[32];
	struct keys	ann, ben, zed;
	char		*text;		/* the transcript as written */
	size_t		len;
};

static void
keys_from_seed(struct keys *k, uint8_t seedbyte)
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	memset(seed, seedbyte, sizeof(seed));
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	kr_hex(k->pk, sizeof(k->pk), k->hex);
}

static void
sha256_hex(const void *p, size_t n, char out[65])
{
	uint8_t h[32];

	crypto_hash_sha256(h, p, n);
	kr_hex(h, 32, out);
}

static void
write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void
add(struct cer_transcript *t, const char *type, json_t *fields)
{
	struct kr_error err;

	if (cer_transcript_add(t, type, fields, &err) != KR_OK)
		fail_msg("add %s: %s", type, err.msg);
}

/*
 * The ceremony in small: bags checked, officers' keys recorded, a root
 * certificate made; or, with abort_at_keygen, the ceremony stopped at
 * the key step.
 */
static void
build(struct fx *f, int abort_at_keygen)
{
	struct cer_transcript *t;
	struct kr_error err;
	char sha[65], path[128];
	uint8_t *buf;

	snprintf(f->dir, sizeof(f->dir), "/tmp/kr-transcript.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/%s", f->dir, CER_TRANSCRIPT_FILE);
	assert_int_equal(cer_transcript_create(path, f->script_sha, &t, &err),
	    KR_OK);
	kr_hex(f->script_sha, 32, sha);
	add(t, "begin", json_pack("{s:s, s:s, s:s, s:s, s:{s:[s], s:[s],"
	    " s:[s, s]}}", "script", "root-init", "title", "Lab root",
	    "sha256", sha, "mode", "rehearsal", "participants", "admin",
	    "alice", "witness", "wendy", "officers", "ann", "ben"));
	add(t, "step-start", json_pack("{s:s, s:s, s:s}", "step", "bags",
	    "title", "Check the bags", "action", "confirm"));
	add(t, "say", json_pack("{s:s, s:s}", "step", "bags", "text",
	    "Read aloud the serial number on each bag."));
	add(t, "confirm", json_pack("{s:s, s:s, s:s}", "step", "bags",
	    "role", "witness", "who", "wendy"));
	add(t, "step-end", json_pack("{s:s, s:i}", "step", "bags",
	    "seconds", 42));
	add(t, "step-start", json_pack("{s:s, s:s, s:s}", "step", "quorum",
	    "title", "Officers take their cards", "action", "quorum-init"));
	add(t, "officers", json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}",
	    "step", "quorum", "officers", "name", "ann", "ed25519",
	    f->ann.hex, "name", "ben", "ed25519", f->ben.hex));
	add(t, "confirm", json_pack("{s:s, s:s, s:s}", "step", "quorum",
	    "role", "officers", "who", "ann"));
	add(t, "step-end", json_pack("{s:s, s:i}", "step", "quorum",
	    "seconds", 300));
	add(t, "step-start", json_pack("{s:s, s:s, s:s}", "step", "selfsign",
	    "title", "Self-sign the root", "action", "root-selfsign"));
	if (abort_at_keygen) {
		add(t, "abort", json_pack("{s:s, s:s}", "step", "selfsign",
		    "reason", "witness saw a broken seal"));
		add(t, "deviation", json_pack("{s:s, s:s}", "step",
		    "selfsign", "text", "token put back in bag 4411"));
		add(t, "end", json_pack("{s:s, s:[s]}", "status", "aborted",
		    "signers", "ben"));
		assert_int_equal(cer_transcript_sign(t, "ben", f->ben.sk,
		    &err), KR_OK);
	} else {
		write_file(f->dir, "root.pem", pem, strlen(pem));
		sha256_hex(pem, strlen(pem), sha);
		add(t, "output", json_pack("{s:s, s:s, s:s}", "step",
		    "selfsign", "path", "root.pem", "sha256", sha));
		add(t, "key", json_pack("{s:s, s:s, s:s, s:s}", "step",
		    "selfsign", "label", "root-2026", "spki_sha256", sha,
		    "fingerprint", "0A1B 2C3D"));
		add(t, "step-end", json_pack("{s:s, s:i}", "step", "selfsign",
		    "seconds", 12));
		add(t, "end", json_pack("{s:s, s:[s, s]}", "status",
		    "completed", "signers", "ann", "ben"));
		assert_int_equal(cer_transcript_sign(t, "ann", f->ann.sk,
		    &err), KR_OK);
		assert_int_equal(cer_transcript_sign(t, "ben", f->ben.sk,
		    &err), KR_OK);
	}
	cer_transcript_close(t);
	assert_int_equal(kr_file_read(path, 1 << 20, &buf, &f->len, &err),
	    KR_OK);
	f->text = (char *)buf;
}

static int
setup(void **state)
{
	struct fx *f;

	if (sodium_init() < 0 || (f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	setenv("KEYRITE_NOW", NOW, 1);
	crypto_hash_sha256(f->script_sha, (const uint8_t *)script_text,
	    strlen(script_text));
	keys_from_seed(&f->ann, 1);
	keys_from_seed(&f->ben, 2);
	keys_from_seed(&f->zed, 3);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	if (f->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		if (system(cmd) != 0)
			return -1;
	}
	free(f->text);
	free(f);
	return 0;
}

static enum kr_err
vbuf(const struct fx *f, const char *text, size_t len, struct kr_error *err)
{
	struct cer_verify res;

	return cer_transcript_verify_buf(text, len, f->dir, f->script_sha,
	    &res, err);
}

/* Line i (0-based) of text: start and length without the newline. */
static size_t
nlines(const char *text, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += text[i] == '\n';
	return n;
}

static void
line_at(const char *text, size_t i, size_t *off, size_t *n)
{
	const char *p = text, *nl;

	while (i-- > 0)
		p = strchr(p, '\n') + 1;
	nl = strchr(p, '\n');
	*off = (size_t)(p - text);
	*n = (size_t)(nl - p);
}

/* text with line i replaced by repl (without newline); caller frees. */
static char *
replace_line(const char *text, size_t len, size_t i, const char *repl,
    size_t *outlen)
{
	size_t off, n, rl = strlen(repl);
	char *o;

	line_at(text, i, &off, &n);
	*outlen = len - n + rl;
	o = malloc(*outlen + 1);
	memcpy(o, text, off);
	memcpy(o + off, repl, rl);
	memcpy(o + off + rl, text + off + n, len - off - n);
	o[*outlen] = '\0';
	return o;
}

/* ---- The good transcript ---- */

static void
test_verify_ok(void **state)
{
	struct fx *f = *state;
	struct cer_verify res;
	struct kr_error err;
	static const char first[] = "{\"seq\":1,\"time\":\"" NOW "\","
	    "\"type\":\"begin\",\"script\":\"root-init\",";
	uint8_t h[32], msg[64], sig[64];
	size_t off, n;
	json_t *a, *o;
	char hx[65];

	build(f, 0);
	assert_int_equal(nlines(f->text, f->len), 16);
	if (cer_transcript_verify(f->dir, f->script_sha, &res, &err) != KR_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(res.entries, 14);
	assert_int_equal(res.signatures, 2);
	assert_int_equal(res.outputs, 1);
	assert_int_equal(res.completed, 1);
	assert_string_equal(res.script, "root-init");
	assert_string_equal(res.mode, "rehearsal");
	assert_true(res.anchor_checked);
	kr_hex(f->script_sha, 32, hx);
	assert_string_equal(res.anchor, hx);

	/* The format as documented: BLAKE2b-256 of the end line's bytes. */
	line_at(f->text, 13, &off, &n);
	crypto_generichash(h, 32, (const uint8_t *)f->text + off, n, NULL, 0);
	kr_hex(h, 32, hx);
	assert_string_equal(res.final_hash, hx);
	/* Entry 2's prev is the hash of line 1. */
	line_at(f->text, 0, &off, &n);
	crypto_generichash(h, 32, (const uint8_t *)f->text + off, n, NULL, 0);
	kr_hex(h, 32, hx);
	line_at(f->text, 1, &off, &n);
	assert_non_null(strstr(f->text + off, hx));
	assert_true(strstr(f->text + off, hx) < f->text + off + n);
	/* The first line's bytes, exactly. */
	assert_memory_equal(f->text, first, strlen(first));
	/* Signature over domain || final hash, from ann's key. */
	line_at(f->text, 14, &off, &n);
	o = json_loadb(f->text + off, n, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "ed25519")),
	    f->ann.hex);
	memcpy(msg, "keyrite-transcript-v1", 21);
	crypto_generichash(msg + 21, 32, (const uint8_t *)f->text +
	    (strstr(f->text, "{\"seq\":14,") - f->text),
	    (size_t)(strchr(strstr(f->text, "{\"seq\":14,"), '\n') -
	    strstr(f->text, "{\"seq\":14,")), NULL, 0);
	assert_int_equal(sodium_hex2bin(sig, 64, json_string_value(
	    json_object_get(o, "sig")), 128, NULL, NULL, NULL), 0);
	assert_int_equal(crypto_sign_verify_detached(sig, msg, 53,
	    f->ann.pk), 0);
	json_decref(o);

	/* Without the script's hash, the anchor is reported, not checked. */
	assert_int_equal(cer_transcript_verify(f->dir, NULL, &res, &err),
	    KR_OK);
	assert_false(res.anchor_checked);
	kr_hex(f->script_sha, 32, hx);
	assert_string_equal(res.anchor, hx);
	/* Another script's hash. */
	h[0] = f->script_sha[0] ^ 1;
	memcpy(h + 1, f->script_sha + 1, 31);
	assert_int_equal(cer_transcript_verify(f->dir, h, &res, &err),
	    KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "entry 1 (line 1): prev is not the "
	    "script's SHA-256"));
	/* Without a directory the outputs are not looked at. */
	assert_int_equal(cer_transcript_verify_buf(f->text, f->len, NULL,
	    f->script_sha, &res, &err), KR_OK);
	assert_int_equal(res.outputs, 0);

	assert_int_equal(cer_transcript_read(f->dir, &a, &err), KR_OK);
	assert_int_equal(json_array_size(a), 16);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(a, 15), "signer")), "ben");
	json_decref(a);
}

static void
test_file_mode_and_exclusive(void **state)
{
	struct fx *f = *state;
	struct cer_transcript *t = NULL;
	struct kr_error err;
	struct stat sb;
	char path[128];
	mode_t old;

	build(f, 0);
	snprintf(path, sizeof(path), "%s/%s", f->dir, CER_TRANSCRIPT_FILE);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	assert_int_equal(cer_transcript_create(path, f->script_sha, &t, &err),
	    KR_E_EXISTS);
	assert_null(t);
	/* 0644 whatever the umask. */
	snprintf(path, sizeof(path), "%s/other.jsonl", f->dir);
	old = umask(077);
	assert_int_equal(cer_transcript_create(path, f->script_sha, &t, &err),
	    KR_OK);
	umask(old);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	assert_memory_equal(cer_transcript_head(t), f->script_sha, 32);
	cer_transcript_close(t);
	cer_transcript_close(NULL);
}

/* ---- Tampering ---- */

static void
test_every_byte(void **state)
{
	struct fx *f = *state;
	struct kr_error err;
	static const uint8_t flips[] = { 0x01, 0x20, 0x5a };
	char *t;
	size_t i, j, off, n;
	enum kr_err rc;

	build(f, 0);
	assert_int_equal(vbuf(f, f->text, f->len, &err), KR_OK);
	assert_non_null(t = malloc(f->len));
	for (i = 0; i < f->len; i++)
		for (j = 0; j < sizeof(flips); j++) {
			memcpy(t, f->text, f->len);
			t[i] = (char)(t[i] ^ flips[j]);
			rc = vbuf(f, t, f->len, &err);
			if (rc == KR_OK)
				fail_msg("byte %zu ^ 0x%02x verifies", i,
				    flips[j]);
			/* An output's path changed: that file is missing. */
			assert_true(rc == KR_E_VERIFY || rc == KR_E_PARSE ||
			    rc == KR_E_NOTFOUND || rc == KR_E_IO);
			assert_true(strncmp(err.msg, "transcript.jsonl: ",
			    18) == 0);
		}
	free(t);

	/* A letter of the say text: valid JSON, the chain names it. */
	assert_non_null(t = strdup(f->text));
	line_at(t, 2, &off, &n);
	t[strstr(t + off, "serial") - t] = 'S';
	assert_int_equal(vbuf(f, t, f->len, &err), KR_E_VERIFY);
	assert_string_equal(err.msg, "transcript.jsonl: entry 4 (line 4): "
	    "prev does not match the hash of entry 3");
	/* A second of the end entry's time: no signature signs it. */
	memcpy(t, f->text, f->len);
	t[strstr(t, "{\"seq\":14,\"time\":\"") - t + 35] = '1';
	assert_int_equal(vbuf(f, t, f->len, &err), KR_E_VERIFY);
	assert_string_equal(err.msg, "transcript.jsonl: signature 1 "
	    "(line 15): signer ann signed a hash that is not the final hash");
	/* Upper-case hex in a signature: not canonical. */
	memcpy(t, f->text, f->len);
	line_at(t, 15, &off, &n);
	for (i = off + n - 3; t[i] >= '0' && t[i] <= '9'; i--)
		;
	t[i] = (char)(t[i] - 'a' + 'A');
	assert_int_equal(vbuf(f, t, f->len, &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "signature 2 (line 16)"));
	free(t);
}

static void
test_remove_and_swap(void **state)
{
	struct fx *f = *state;
	struct kr_error err;
	size_t i, n, off1, n1, off2, n2;
	char *t;

	build(f, 0);
	n = nlines(f->text, f->len);
	assert_non_null(t = malloc(f->len));
	for (i = 0; i < n; i++) {
		line_at(f->text, i, &off1, &n1);
		memcpy(t, f->text, off1);
		memcpy(t + off1, f->text + off1 + n1 + 1,
		    f->len - off1 - n1 - 1);
		if (vbuf(f, t, f->len - n1 - 1, &err) == KR_OK)
			fail_msg("line %zu removed verifies", i + 1);
	}
	for (i = 0; i + 1 < n; i++) {
		line_at(f->text, i, &off1, &n1);
		line_at(f->text, i + 1, &off2, &n2);
		memcpy(t, f->text, f->len);
		memcpy(t + off1, f->text + off2, n2);
		t[off1 + n2] = '\n';
		memcpy(t + off1 + n2 + 1, f->text + off1, n1);
		if (vbuf(f, t, f->len, &err) == KR_OK)
			fail_msg("lines %zu and %zu swapped verify", i + 1,
			    i + 2);
	}
	/* The two signature lines swapped: out of the end entry's order. */
	assert_int_equal(vbuf(f, t, f->len, &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "signer ben signs out of turn"));
	/* Without the last signature: ben is listed but did not sign. */
	line_at(f->text, n - 1, &off1, &n1);
	assert_int_equal(vbuf(f, f->text, off1, &err), KR_E_VERIFY);
	assert_string_equal(err.msg, "transcript.jsonl: signer ben is "
	    "listed in the end entry but did not sign");
	/* Truncated in the middle of a line. */
	assert_int_equal(vbuf(f, f->text, off1 + 10, &err), KR_E_PARSE);
	if (strstr(err.msg, "line 16: no newline") == NULL)
		fail_msg("%s", err.msg);
	/* Cut before the end entry. */
	line_at(f->text, 13, &off1, &n1);
	assert_int_equal(vbuf(f, f->text, off1, &err), KR_E_VERIFY);
	assert_string_equal(err.msg, "transcript.jsonl: incomplete: no end "
	    "entry (the last entry is entry 13)");
	/* A signature line duplicated. */
	line_at(f->text, 14, &off1, &n1);
	memcpy(t, f->text, f->len);
	t = realloc(t, f->len + n1 + 1);
	memcpy(t + off1 + n1 + 1, f->text + off1, f->len - off1);
	assert_int_equal(vbuf(f, t, f->len + n1 + 1, &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "signer ann signed twice"));
	free(t);
	assert_int_equal(vbuf(f, "", 0, &err), KR_E_PARSE);
}

/* A signature line for signer, made with key k over hash (hex). */
static char *
sig_line(const char *signer, const struct keys *k, const char *pkhex,
    const char *hash_hex)
{
	uint8_t msg[53], sig[64];
	char sx[129];
	json_t *o;
	char *s;

	memcpy(msg, CER_TRANSCRIPT_SIG_DOMAIN, 21);
	assert_int_equal(sodium_hex2bin(msg + 21, 32, hash_hex, 64, NULL,
	    NULL, NULL), 0);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), k->sk);
	kr_hex(sig, 64, sx);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "signature",
	    "signer", signer, "ed25519", pkhex, "signed", hash_hex, "sig",
	    sx);
	s = json_dumps(o, ENC);
	json_decref(o);
	return s;
}

static void
expect_sig_line(struct fx *f, const char *line, const char *msg)
{
	struct kr_error err;
	size_t len;
	char *t;

	t = replace_line(f->text, f->len, 14, line, &len);
	assert_int_equal(vbuf(f, t, len, &err), KR_E_VERIFY);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("got \"%s\", want \"%s\"", err.msg, msg);
	free(t);
}

static void
test_wrong_signatures(void **state)
{
	struct fx *f = *state;
	struct cer_verify res;
	struct kr_error err;
	char *l, *t;
	size_t len;

	build(f, 0);
	assert_int_equal(vbuf(f, f->text, f->len, &err), KR_OK);
	assert_int_equal(cer_transcript_verify_buf(f->text, f->len, NULL,
	    NULL, &res, &err), KR_OK);

	/* Our own line, remade: the test's signer agrees with the code. */
	l = sig_line("ann", &f->ann, f->ann.hex, res.final_hash);
	t = replace_line(f->text, f->len, 14, l, &len);
	assert_int_equal(len, f->len);
	assert_memory_equal(t, f->text, len);	/* Ed25519 is deterministic */
	free(t);
	free(l);
	/* ben's signature under ann's name and key. */
	l = sig_line("ann", &f->ben, f->ann.hex, res.final_hash);
	expect_sig_line(f, l, "signature 1 (line 15): signer ann: the "
	    "signature does not verify");
	free(l);
	/* ben's key and signature under ann's name. */
	l = sig_line("ann", &f->ben, f->ben.hex, res.final_hash);
	expect_sig_line(f, l, "signer ann: the key is not the one the "
	    "officers entry recorded for ann");
	free(l);
	/* A key nobody recorded, under ann's name and under its own. */
	l = sig_line("ann", &f->zed, f->zed.hex, res.final_hash);
	expect_sig_line(f, l, "signer ann: the key is not the one");
	free(l);
	l = sig_line("zed", &f->zed, f->zed.hex, res.final_hash);
	expect_sig_line(f, l, "signer zed has no key recorded in an officers "
	    "entry");
	free(l);
	/* ann's key over another hash. */
	l = sig_line("ann", &f->ann, f->ann.hex, res.anchor);
	expect_sig_line(f, l, "signer ann signed a hash that is not the "
	    "final hash");
	free(l);
	/* ann's signature without the domain string. */
	{
		uint8_t h[32], sig[64];
		char sx[129];
		json_t *o;

		sodium_hex2bin(h, 32, res.final_hash, 64, NULL, NULL, NULL);
		crypto_sign_detached(sig, NULL, h, 32, f->ann.sk);
		kr_hex(sig, 64, sx);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type",
		    "signature", "signer", "ann", "ed25519", f->ann.hex,
		    "signed", res.final_hash, "sig", sx);
		l = json_dumps(o, ENC);
		json_decref(o);
		expect_sig_line(f, l, "signer ann: the signature does not "
		    "verify");
		free(l);
	}
}

static void
test_output_changed(void **state)
{
	struct fx *f = *state;
	struct cer_verify res;
	struct kr_error err;
	char path[128];

	build(f, 0);
	write_file(f->dir, "root.pem", "x", 1);
	assert_int_equal(cer_transcript_verify(f->dir, f->script_sha, &res,
	    &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "transcript.jsonl: entry 11 (line "
	    "11): output root.pem: the file's SHA-256 is "));
	snprintf(path, sizeof(path), "%s/root.pem", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(cer_transcript_verify(f->dir, f->script_sha, &res,
	    &err), KR_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "entry 11 (line 11): output "
	    "root.pem: No such file"));
	/* A symbolic link to the right content is not the output. */
	write_file(f->dir, "real.pem", pem, strlen(pem));
	assert_int_equal(symlink("real.pem", path), 0);
	assert_int_equal(cer_transcript_verify(f->dir, f->script_sha, &res,
	    &err), KR_E_IO);
	assert_non_null(strstr(err.msg, "output root.pem"));
}

static void
test_aborted(void **state)
{
	struct fx *f = *state;
	struct cer_verify res;
	struct kr_error err;

	build(f, 1);
	if (cer_transcript_verify(f->dir, f->script_sha, &res, &err) != KR_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(res.completed, 0);
	assert_string_equal(res.abort_step, "selfsign");
	assert_string_equal(res.abort_reason, "witness saw a broken seal");
	assert_int_equal(res.signatures, 1);
	assert_int_equal(res.outputs, 0);
}

/* ---- The writer refuses what would not verify ---- */

static void
test_writer_refuses(void **state)
{
	struct fx *f = *state;
	struct cer_transcript *t;
	struct kr_error err;
	struct stat sb, sb2;
	char path[128], sha[65];

	snprintf(f->dir, sizeof(f->dir), "/tmp/kr-transcript.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/%s", f->dir, CER_TRANSCRIPT_FILE);
	assert_int_equal(cer_transcript_create(path, f->script_sha, &t, &err),
	    KR_OK);
	kr_hex(f->script_sha, 32, sha);
	/* Not begin first. */
	assert_int_equal(cer_transcript_add(t, "say", json_pack("{s:s, s:s}",
	    "step", "x", "text", "hello"), &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "refusing to write an entry that "
	    "would not verify: transcript.jsonl: entry 1 (line 1): the "
	    "first entry must be begin"));
	assert_int_equal(cer_transcript_add(t, "begin", json_pack("{s:s, "
	    "s:s, s:s}", "script", "s", "sha256", sha, "mode", "live"), &err),
	    KR_OK);
	assert_int_equal(stat(path, &sb), 0);
	/* Reserved field, unknown type, a missing field. */
	assert_int_equal(cer_transcript_add(t, "record", json_pack("{s:s, "
	    "s:s, s:i}", "step", "x", "text", "t", "seq", 9), &err),
	    KR_E_INTERNAL);
	assert_int_equal(cer_transcript_add(t, "nonsense", NULL, &err),
	    KR_E_INTERNAL);
	assert_int_equal(cer_transcript_add(t, "confirm", json_pack("{s:s, "
	    "s:s}", "step", "x", "role", "witness"), &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "confirm needs \"who\""));
	/* An output whose file has other content. */
	write_file(f->dir, "a.pem", "a", 1);
	assert_int_equal(cer_transcript_add(t, "output", json_pack("{s:s, "
	    "s:s, s:s}", "step", "x", "path", "a.pem", "sha256", sha), &err),
	    KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "output a.pem"));
	/* Signing before the end. */
	assert_int_equal(cer_transcript_sign(t, "ann", f->ann.sk, &err),
	    KR_E_STATE);
	/* An end naming a signer without a recorded key. */
	assert_int_equal(cer_transcript_add(t, "end", json_pack("{s:s, "
	    "s:[s]}", "status", "completed", "signers", "ann"), &err),
	    KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "signer ann has no key recorded"));
	/* Nothing refused was written. */
	assert_int_equal(stat(path, &sb2), 0);
	assert_int_equal(sb.st_size, sb2.st_size);

	assert_int_equal(cer_transcript_add(t, "officers", json_pack("{s:s, "
	    "s:[{s:s}]}", "step", "x", "officers", "ann", f->ann.hex), &err),
	    KR_E_PARSE);	/* not {name, ed25519} */
	assert_int_equal(cer_transcript_add(t, "officers", json_pack("{s:s, "
	    "s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "step", "x",
	    "officers", "name", "ann", "ed25519", f->ann.hex, "name", "ben",
	    "ed25519", f->ben.hex, "name", "zed", "ed25519", f->zed.hex),
	    &err), KR_OK);
	assert_int_equal(cer_transcript_add(t, "end", json_pack("{s:s, "
	    "s:[s, s]}", "status", "completed", "signers", "ann", "ben"),
	    &err), KR_OK);
	assert_int_equal(cer_transcript_add(t, "record", json_pack("{s:s, "
	    "s:s}", "step", "x", "text", "late"), &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "an entry after the end entry"));
	/* Wrong key for ann, not listed, out of turn. */
	assert_int_equal(cer_transcript_sign(t, "ann", f->zed.sk, &err),
	    KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "signer ann: the key is not the one"));
	assert_int_equal(cer_transcript_sign(t, "zed", f->zed.sk, &err),
	    KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "signer zed is not listed in the end "
	    "entry"));
	assert_int_equal(cer_transcript_sign(t, "ben", f->ben.sk, &err),
	    KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "out of turn"));
	assert_int_equal(cer_transcript_sign(t, "ann", f->ann.sk, &err),
	    KR_OK);
	assert_int_equal(cer_transcript_sign(t, "ann", f->ann.sk, &err),
	    KR_E_VERIFY);
	assert_int_equal(cer_transcript_sign(t, "ben", f->ben.sk, &err),
	    KR_OK);
	cer_transcript_close(t);
	if (cer_transcript_verify(f->dir, f->script_sha, NULL, &err) != KR_OK)
		fail_msg("%s", err.msg);
}

/* ---- A table of bad entries ---- */

/*
 * Entries as JSON text with "prev" last; chain() fills in each prev
 * with the hash of the line before (the first with the script's hash)
 * and encodes them, so a table row changes one thing and keeps the
 * chain intact.
 */
static char *
chain(const struct fx *f, const char *const *ent, size_t n, size_t *len)
{
	uint8_t head[32];
	char hx[65], *out = NULL, *s;
	size_t i, ol = 0;
	json_t *o;

	memcpy(head, f->script_sha, 32);
	for (i = 0; i < n; i++) {
		o = json_loads(ent[i], 0, NULL);
		if (o == NULL)
			fail_msg("bad test entry %s", ent[i]);
		if (json_object_get(o, "prev") != NULL) {
			kr_hex(head, 32, hx);
			json_object_set_new(o, "prev", json_string(hx));
		}
		s = json_dumps(o, ENC);
		json_decref(o);
		crypto_generichash(head, 32, (uint8_t *)s, strlen(s), NULL, 0);
		out = realloc(out, ol + strlen(s) + 2);
		memcpy(out + ol, s, strlen(s));
		ol += strlen(s);
		out[ol++] = '\n';
		out[ol] = '\0';
		free(s);
	}
	*len = ol;
	return out;
}

#define T	"\"time\":\"" NOW "\""
#define P	",\"prev\":\"\"}"
#define BEGIN	"{\"seq\":1," T ",\"type\":\"begin\",\"script\":\"s\"," \
		"\"sha256\":\"7a8e1c5d3bfc44f5880d1c78d1f6e1e6a4ed3bbd4b02e5" \
		"2c5d0f0d1b9e3a2c10\",\"mode\":\"live\"" P

struct bad {
	const char	*what;
	const char	*ent[6];
	enum kr_err	 code;
	const char	*msg;
};

static const struct bad bad[] = {
	{ "unknown type", { BEGIN, "{\"seq\":2," T ",\"type\":\"dance\"" P },
	    KR_E_PARSE, "entry 2 (line 2): unknown entry type" },
	{ "seq skips", { BEGIN, "{\"seq\":3," T ",\"type\":\"end\","
	    "\"status\":\"completed\",\"signers\":[]" P },
	    KR_E_VERIFY, "entry 2 (line 2): seq is 3, expected 2" },
	{ "seq is a string", { BEGIN, "{\"seq\":\"2\"," T ",\"type\":"
	    "\"end\",\"status\":\"completed\",\"signers\":[]" P },
	    KR_E_PARSE, "seq must be an integer" },
	{ "no time", { BEGIN, "{\"seq\":2,\"type\":\"end\"" P },
	    KR_E_PARSE, "keys must start seq, time, type" },
	{ "30 February", { BEGIN, "{\"seq\":2,\"time\":\"2026-02-30T10:00:"
	    "00Z\",\"type\":\"end\",\"status\":\"completed\",\"signers\":[]"
	    P }, KR_E_PARSE, "time must be YYYY-MM-DDTHH:MM:SSZ" },
	{ "prev not last", { BEGIN, "{\"seq\":2," T ",\"type\":\"end\","
	    "\"prev\":\"\",\"status\":\"completed\",\"signers\":[]}" },
	    KR_E_PARSE, "the last key must be prev" },
	{ "begin not first", { "{\"seq\":1," T ",\"type\":\"end\","
	    "\"status\":\"completed\",\"signers\":[]" P }, KR_E_VERIFY,
	    "entry 1 (line 1): the first entry must be begin, not end" },
	{ "begin sha256 not the anchor", { "{\"seq\":1," T ",\"type\":"
	    "\"begin\",\"script\":\"s\",\"sha256\":\"" "0000000000000000"
	    "000000000000000000000000000000000000000000000000\",\"mode\":"
	    "\"live\""
	    P }, KR_E_VERIFY, "the script's sha256 is not the chain's anchor"
	},
	{ "two begins", { BEGIN, "{\"seq\":2," T ",\"type\":\"begin\","
	    "\"script\":\"s\",\"sha256\":\"7a8e1c5d3bfc44f5880d1c78d1f6e1e6"
	    "a4ed3bbd4b02e52c5d0f0d1b9e3a2c10\",\"mode\":\"live\"" P },
	    KR_E_VERIFY, "a second begin entry" },
	{ "bad mode", { "{\"seq\":1," T ",\"type\":\"begin\",\"script\":"
	    "\"s\",\"sha256\":\"7a8e1c5d3bfc44f5880d1c78d1f6e1e6a4ed3bbd4b02e5"
	    "2c5d0f0d1b9e3a2c10\",\"mode\":\"practice\"" P }, KR_E_PARSE,
	    "mode must be \"rehearsal\" or \"live\"" },
	{ "absolute output", { BEGIN, "{\"seq\":2," T ",\"type\":\"output\","
	    "\"step\":\"a\",\"path\":\"/etc/passwd\",\"sha256\":\"7a8e1c5d3bfc"
	    "44f5880d1c78d1f6e1e6a4ed3bbd4b02e52c5d0f0d1b9e3a2c10\"" P },
	    KR_E_PARSE, "output path must be relative" },
	{ "dotdot output", { BEGIN, "{\"seq\":2," T ",\"type\":\"output\","
	    "\"step\":\"a\",\"path\":\"a/../../b\",\"sha256\":\"7a8e1c5d3bfc"
	    "44f5880d1c78d1f6e1e6a4ed3bbd4b02e52c5d0f0d1b9e3a2c10\"" P },
	    KR_E_PARSE, "output path must be relative" },
	{ "upper-case hash", { BEGIN, "{\"seq\":2," T ",\"type\":\"key\","
	    "\"step\":\"a\",\"label\":\"k\",\"fingerprint\":\"AB\","
	    "\"spki_sha256\":\"7A8E1C5D3BFC44F5880D1C78D1F6E1E6A4ED3BBD4B02E5"
	    "2C5D0F0D1B9E3A2C10\"" P }, KR_E_PARSE,
	    "key needs \"spki_sha256\" (64 lower-case hex digits)" },
	{ "empty say", { BEGIN, "{\"seq\":2," T ",\"type\":\"say\","
	    "\"step\":\"a\",\"text\":\"\"" P }, KR_E_PARSE,
	    "say needs \"text\"" },
	{ "nested steps", { BEGIN, "{\"seq\":2," T ",\"type\":\"step-start\","
	    "\"step\":\"a\"" P, "{\"seq\":3," T ",\"type\":\"step-start\","
	    "\"step\":\"b\"" P }, KR_E_VERIFY,
	    "entry 3 (line 3): step b starts while step a is open" },
	{ "step-end of another step", { BEGIN, "{\"seq\":2," T ",\"type\":"
	    "\"step-start\",\"step\":\"a\"" P, "{\"seq\":3," T ",\"type\":"
	    "\"step-end\",\"step\":\"b\",\"seconds\":1" P }, KR_E_VERIFY,
	    "step-end for step b, but the open step is a" },
	{ "negative seconds", { BEGIN, "{\"seq\":2," T ",\"type\":"
	    "\"step-start\",\"step\":\"a\"" P, "{\"seq\":3," T ",\"type\":"
	    "\"step-end\",\"step\":\"a\",\"seconds\":-1" P }, KR_E_PARSE,
	    "\"seconds\" (an integer >= 0)" },
	{ "end inside a step", { BEGIN, "{\"seq\":2," T ",\"type\":"
	    "\"step-start\",\"step\":\"a\"" P, "{\"seq\":3," T ",\"type\":"
	    "\"end\",\"status\":\"completed\",\"signers\":[]" P },
	    KR_E_VERIFY, "end while step a is open" },
	{ "step after abort", { BEGIN, "{\"seq\":2," T ",\"type\":\"abort\","
	    "\"step\":\"a\",\"reason\":\"r\"" P, "{\"seq\":3," T ",\"type\":"
	    "\"step-start\",\"step\":\"b\"" P }, KR_E_VERIFY,
	    "step-start after the abort entry" },
	{ "completed after abort", { BEGIN, "{\"seq\":2," T ",\"type\":"
	    "\"abort\",\"step\":\"a\",\"reason\":\"r\"" P, "{\"seq\":3," T
	    ",\"type\":\"end\",\"status\":\"completed\",\"signers\":[]" P },
	    KR_E_VERIFY, "status \"completed\" after an abort entry" },
	{ "aborted without abort", { BEGIN, "{\"seq\":2," T ",\"type\":"
	    "\"end\",\"status\":\"aborted\",\"signers\":[]" P },
	    KR_E_VERIFY, "status \"aborted\" without an abort entry" },
	{ "end without signers", { BEGIN, "{\"seq\":2," T ",\"type\":\"end\","
	    "\"status\":\"completed\"" P }, KR_E_PARSE,
	    "end needs \"signers\"" },
	{ "officer key twice", { BEGIN, "{\"seq\":2," T ",\"type\":"
	    "\"officers\",\"step\":\"q\",\"officers\":[{\"name\":\"a\","
	    "\"ed25519\":\"7a8e1c5d3bfc44f5880d1c78d1f6e1e6a4ed3bbd4b02e52c5d"
	    "0f0d1b9e3a2c10\"},{\"name\":\"b\",\"ed25519\":\"7a8e1c5d3bfc44f58"
	    "80d1c78d1f6e1e6a4ed3bbd4b02e52c5d0f0d1b9e3a2c10\"}]" P },
	    KR_E_VERIFY, "officers a and b: same name or key" },
	{ "officer changes key", { BEGIN, "{\"seq\":2," T ",\"type\":"
	    "\"officers\",\"step\":\"q\",\"officers\":[{\"name\":\"a\","
	    "\"ed25519\":\"7a8e1c5d3bfc44f5880d1c78d1f6e1e6a4ed3bbd4b02e52c5d"
	    "0f0d1b9e3a2c10\"}]" P, "{\"seq\":3," T ",\"type\":"
	    "\"officers\",\"step\":\"q\",\"officers\":[{\"name\":\"a\","
	    "\"ed25519\":\"0a8e1c5d3bfc44f5880d1c78d1f6e1e6a4ed3bbd4b02e52c5d"
	    "0f0d1b9e3a2c10\"}]" P }, KR_E_VERIFY,
	    "officer a has a key other than the one recorded earlier" },
	{ "signature before end", { BEGIN, "{\"type\":\"signature\","
	    "\"signer\":\"a\",\"ed25519\":\"7a8e1c5d3bfc44f5880d1c78d1f6e1e6a4"
	    "ed3bbd4b02e52c5d0f0d1b9e3a2c10\",\"signed\":\"7a8e1c5d3bfc44f588"
	    "0d1c78d1f6e1e6a4ed3bbd4b02e52c5d0f0d1b9e3a2c10\",\"sig\":\""
	    "7a8e1c5d3bfc44f5880d1c78d1f6e1e6a4ed3bbd4b02e52c5d0f0d1b9e3a2c10"
	    "7a8e1c5d3bfc44f5880d1c78d1f6e1e6a4ed3bbd4b02e52c5d0f0d1b9e3a2c10"
	    "\"}" }, KR_E_VERIFY,
	    "signature 1 (line 2): signature line before the end entry" },
	{ "signature with extra key", { BEGIN, "{\"seq\":2," T ",\"type\":"
	    "\"end\",\"status\":\"completed\",\"signers\":[]" P,
	    "{\"type\":\"signature\",\"signer\":\"a\",\"x\":1}" }, KR_E_PARSE,
	    "keys must be type, signer, ed25519, signed, sig" },
	{ "not an object", { BEGIN, "[1,2]" }, KR_E_PARSE,
	    "entry 2 (line 2): not a JSON object" },
	{ "incomplete", { BEGIN }, KR_E_VERIFY,
	    "incomplete: no end entry" },
};

/* chain() re-encodes; these are spelled wrong on purpose, so raw. */
static const struct {
	const char	*what, *line, *msg;
} raw[] = {
	{ "space", "{\"seq\": 2}", "not in canonical form" },
	{ "utf-8", "{\"seq\":2,\"x\":\"\xc3\xa9\"}", "not in canonical form" },
	{ "lower \\u", "{\"seq\":2,\"x\":\"\\u00e9\"}",
	    "not in canonical form" },
	{ "crlf", "{\"seq\":2}\r", "not in canonical form" },
	{ "empty line", "", "entry 2 (line 2): empty line" },
	{ "nul", "{\"seq\":2,\"x\":\"\\u0000\"}", "not JSON" },
	{ "duplicate key", "{\"seq\":2,\"seq\":2}",
	    "entry 2 (line 2): not JSON" },
};

static void
test_bad_table(void **state)
{
	struct fx *f = *state;
	struct kr_error err;
	size_t i, n, len;
	char *t, *u;
	enum kr_err rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Each row's BEGIN carries its own sha256 as the anchor. */
		assert_int_equal(sodium_hex2bin(f->script_sha, 32,
		    "7a8e1c5d3bfc44f5880d1c78d1f6e1e6a4ed3bbd4b02e52c5d0f0d1b"
		    "9e3a2c10", 64, NULL, NULL, NULL), 0);
		for (n = 0; n < 6 && bad[i].ent[n] != NULL; n++)
			;
		t = chain(f, bad[i].ent, n, &len);
		rc = cer_transcript_verify_buf(t, len, NULL, f->script_sha,
		    NULL, &err);
		if (rc != bad[i].code || strstr(err.msg, bad[i].msg) == NULL)
			fail_msg("%s: got %d \"%s\", want %d \"%s\"",
			    bad[i].what, rc, rc ? err.msg : "", bad[i].code,
			    bad[i].msg);
		free(t);
	}
	for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		const char *one[1] = { BEGIN };

		t = chain(f, one, 1, &len);
		assert_non_null(u = malloc(len + strlen(raw[i].line) + 2));
		memcpy(u, t, len);
		memcpy(u + len, raw[i].line, strlen(raw[i].line));
		u[len + strlen(raw[i].line)] = '\n';
		rc = cer_transcript_verify_buf(u, len + strlen(raw[i].line) +
		    1, NULL, f->script_sha, NULL, &err);
		if (rc != KR_E_PARSE || strstr(err.msg, raw[i].msg) == NULL)
			fail_msg("%s: got %d \"%s\"", raw[i].what, rc,
			    err.msg);
		free(u);
		free(t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verify_ok, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_mode_and_exclusive,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_byte, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_remove_and_swap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_signatures, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_output_changed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_aborted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_writer_refuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_table, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
