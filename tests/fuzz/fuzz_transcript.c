/*
 * fuzz_transcript.c: libFuzzer target for the ceremony transcript
 * verifier.  Every input is verified as it is (no output directory, no
 * script hash), then again after its chain has been repaired: each line
 * that parses as an object with a "prev" gets the hash of the line
 * before, so the fuzzer reaches the per-entry rules behind the hash
 * check.  What verifies must verify again with its own anchor given as
 * the script hash, and must be read back line for line.  Seeds:
 * tests/fuzz/corpus/transcript/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../../ceremony/transcript.h"

#define ENC	(JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A verified transcript must verify again with its anchor pinned. */
static void
check(const char *text, size_t len)
{
	struct cer_verify res, again;
	struct kr_error err;
	uint8_t anchor[CER_HASH_LEN];
	size_t i, lines = 0;

	if (cer_transcript_verify_buf(text, len, NULL, NULL, &res, &err) !=
	    KR_OK)
		return;
	if (res.entries == 0 || res.anchor_checked || res.outputs != 0 ||
	    strlen(res.final_hash) != 2 * CER_HASH_LEN ||
	    sodium_hex2bin(anchor, sizeof(anchor), res.anchor,
	    strlen(res.anchor), NULL, NULL, NULL) != 0)
		abort();
	if (cer_transcript_verify_buf(text, len, NULL, anchor, &again,
	    &err) != KR_OK || !again.anchor_checked ||
	    strcmp(again.final_hash, res.final_hash) != 0)
		abort();
	for (i = 0; i < len; i++)
		lines += text[i] == '\n';
	if (lines != res.entries + res.signatures)
		abort();
	/* An aborted transcript says where; a completed one does not. */
	if (res.completed == (res.abort_step[0] != '\0'))
		abort();
}

/* Repair the chain of text; NULL when a line is not a JSON object. */
static char *
rechain(const uint8_t *data, size_t size, size_t *outlen)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	uint8_t head[CER_HASH_LEN];
	char hx[2 * CER_HASH_LEN + 1], *out = NULL, *s, *tmp;
	size_t ol = 0, n;
	json_t *o;

	memset(head, 0, sizeof(head));
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		o = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES,
		    NULL);
		if (!json_is_object(o)) {
			json_decref(o);
			free(out);
			return NULL;
		}
		/* The begin entry names the anchor. */
		if (ol == 0 && json_is_string(json_object_get(o, "sha256")))
			(void)sodium_hex2bin(head, sizeof(head),
			    json_string_value(json_object_get(o, "sha256")),
			    strlen(json_string_value(json_object_get(o,
			    "sha256"))), NULL, NULL, NULL);
		if (json_object_get(o, "prev") != NULL) {
			kr_hex(head, sizeof(head), hx);
			json_object_set_new(o, "prev", json_string(hx));
		}
		s = json_dumps(o, ENC);
		json_decref(o);
		if (s == NULL) {
			free(out);
			return NULL;
		}
		n = strlen(s);
		crypto_generichash(head, sizeof(head), (uint8_t *)s, n, NULL,
		    0);
		if ((tmp = realloc(out, ol + n + 1)) == NULL) {
			free(s);
			free(out);
			return NULL;
		}
		out = tmp;
		memcpy(out + ol, s, n);
		ol += n;
		out[ol++] = '\n';
		free(s);
		if (nl == end)
			break;
	}
	*outlen = ol;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *fixed;
	size_t n = 0;

	if (sodium_init() < 0)
		abort();
	check((const char *)data, size);
	if ((fixed = rechain(data, size, &n)) != NULL) {
		check(fixed, n);
		free(fixed);
	}
	return 0;
}
