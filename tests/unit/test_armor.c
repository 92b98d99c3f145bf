/*
 * test_armor.c: the share / officer-credential armor.  A fixed vector
 * pins the format (header encoding, line checksums and Check line are
 * recomputed here from docs/formats-shares.md); round trips; a table of
 * bad inputs with the error each must give; every single-bit flip of the
 * vector is either refused or means the same thing; every header field
 * is bound to the ciphertext; set checks.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "../../ceremony/armor.h"

#define PASS	"correct horse battery"

/*
 * Made by cer_armor_seal with CER_KDF_COST_MIN, passphrase PASS, payload
 * bytes 0..63.  If the format changes this vector must change with the
 * version number, never silently.
 */
static const char vector[] =
    "-----BEGIN KEYRITE SHARE-----\n"
    "Version: 1\n"
    "Kind: share\n"
    "Set: 7f3a9c015e22410bc8936d17a450ee29\n"
    "Secret-Id: a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
    "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf\n"
    "Threshold: 3\n"
    "Count: 5\n"
    "Index: 3\n"
    "Holder: carol\n"
    "KDF: argon2id\n"
    "Opslimit: 1\n"
    "Memlimit: 8192\n"
    "Salt: ec579a2228ee39e4d8d1875becb44ea2\n"
    "\n"
    "01 1AGFD 9YEV4 B4RXW 3QJXE VBYGW 3DNSY PZE5E W8Z6X  BPVW\n"
    "02 HZ7Y7 3V01C W8E4Q 6SJAS 952VR J3TKE CY6AW TPRJD  EHAN\n"
    "03 56C2X MS70P 2GX77 9053T ZWZQW NT6RS N40WN 6M7QT  TZ6K\n"
    "04 7CZ1M 8DW8M XTMX1 D0CRC F0WJ5 WFWJG 3A35M BRYZ5  7PBH\n"
    "05 A772Q QR  V9PZ\n"
    "Check: 104 R87G GW4K\n"
    "-----END KEYRITE SHARE-----\n";

static const uint8_t vector_set[CER_SET_ID_LEN] = {
	0x7f, 0x3a, 0x9c, 0x01, 0x5e, 0x22, 0x41, 0x0b,
	0xc8, 0x93, 0x6d, 0x17, 0xa4, 0x50, 0xee, 0x29,
};
static const uint8_t vector_salt[CER_SALT_LEN] = {
	0xec, 0x57, 0x9a, 0x22, 0x28, 0xee, 0x39, 0xe4,
	0xd8, 0xd1, 0x87, 0x5b, 0xec, 0xb4, 0x4e, 0xa2,
};

/* ---- The format as docs/formats-shares.md states it. ---- */

static const char doc_b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static size_t
doc_b32_encode(const uint8_t *in, size_t n, char *out)
{
	size_t bit, o = 0, nbits = 8 * n;
	unsigned v, i;

	for (bit = 0; bit < nbits; bit += 5) {
		v = 0;
		for (i = 0; i < 5; i++) {
			v <<= 1;
			if (bit + i < nbits)
				v |= (in[(bit + i) / 8] >> (7 - (bit + i) % 8)) & 1;
		}
		out[o++] = doc_b32[v];
	}
	out[o] = '\0';
	return o;
}

/* BLAKE2b-128("keyrite armor line" || number || data), top 20 bits. */
static void
doc_line_sum(unsigned no, const uint8_t *d, size_t n, char out[5])
{
	uint8_t buf[64], h[16];
	unsigned v;
	int i;

	memcpy(buf, "keyrite armor line", 18);
	buf[18] = (uint8_t)no;
	memcpy(buf + 19, d, n);
	crypto_generichash(h, sizeof(h), buf, 19 + n, NULL, 0);
	v = ((unsigned)h[0] << 12) | ((unsigned)h[1] << 4) | (h[2] >> 4);
	for (i = 3; i >= 0; i--) {
		out[i] = doc_b32[v & 31];
		v >>= 5;
	}
	out[4] = '\0';
}

/* "Check: LEN XXXX XXXX": BLAKE2b-128("keyrite armor check" || AD || body). */
static void
doc_check_line(const struct cer_armor_hdr *h, const uint8_t *body, size_t n,
    char *out, size_t outlen)
{
	struct kr_error err;
	uint8_t ad[CER_ARMOR_AD_MAX], *buf, hash[16];
	size_t adlen;
	char enc[16];

	assert_int_equal(cer_armor_hdr_encode(h, ad, &adlen, &err), KR_OK);
	buf = malloc(19 + adlen + n);
	assert_non_null(buf);
	memcpy(buf, "keyrite armor check", 19);
	memcpy(buf + 19, ad, adlen);
	memcpy(buf + 19 + adlen, body, n);
	crypto_generichash(hash, sizeof(hash), buf, 19 + adlen + n, NULL, 0);
	free(buf);
	doc_b32_encode(hash, 5, enc);
	snprintf(out, outlen, "Check: %zu %.4s %.4s", n, enc, enc + 4);
}

/* ---- Helpers. ---- */

static struct cer_armor *
parse_ok(const char *text)
{
	struct cer_armor *a = NULL;
	struct kr_error err;

	if (cer_armor_parse(text, strlen(text), &a, &err) != KR_OK)
		fail_msg("parse: %s", err.msg);
	return a;
}

static void
test_hdr(struct cer_armor_hdr *h, enum cer_kind kind, unsigned x)
{
	cer_armor_hdr_init(h, kind, CER_KDF_COST_MIN);
	memcpy(h->set_id, vector_set, sizeof(vector_set));
	memset(h->secret_id, 0x5a, sizeof(h->secret_id));
	h->k = 3;
	h->n = 5;
	h->x = x;
	snprintf(h->holder, sizeof(h->holder), "holder %u", x);
}

/* ---- The fixed vector. ---- */

static void
test_vector_opens(void **state)
{
	struct cer_armor *a;
	struct kr_error err;
	uint8_t *pt = NULL, want[64];
	size_t n, i;

	(void)state;
	a = parse_ok(vector);
	assert_int_equal(a->hdr.version, 1);
	assert_int_equal(a->hdr.kind, CER_KIND_SHARE);
	assert_memory_equal(a->hdr.set_id, vector_set, sizeof(vector_set));
	for (i = 0; i < CER_SECRET_ID_LEN; i++)
		assert_int_equal(a->hdr.secret_id[i], 0xa0 + i);
	assert_int_equal(a->hdr.k, 3);
	assert_int_equal(a->hdr.n, 5);
	assert_int_equal(a->hdr.x, 3);
	assert_string_equal(a->hdr.holder, "carol");
	assert_int_equal(a->hdr.opslimit, 1);
	assert_int_equal(a->hdr.memlimit, 8192);
	assert_memory_equal(a->hdr.salt, vector_salt, sizeof(vector_salt));
	assert_int_equal(a->body_len, 104);
	assert_int_equal(cer_armor_open(a, PASS, strlen(PASS), &pt, &n, &err),
	    KR_OK);
	for (i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)i;
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(pt, want, sizeof(want));
	sodium_free(pt);
	cer_armor_free(a);
}

/* The associated data, byte by byte as the doc lays it out. */
static void
test_vector_ad_encoding(void **state)
{
	uint8_t want[CER_ARMOR_AD_MAX], got[CER_ARMOR_AD_MAX];
	struct cer_armor *a;
	struct kr_error err;
	size_t o = 0, n, i;

	(void)state;
	memcpy(want + o, "KRSH", 4);
	o += 4;
	want[o++] = 1;				/* version */
	want[o++] = 1;				/* kind: share */
	memcpy(want + o, vector_set, 16);
	o += 16;
	for (i = 0; i < 32; i++)
		want[o++] = (uint8_t)(0xa0 + i);
	want[o++] = 3;				/* k */
	want[o++] = 5;				/* n */
	want[o++] = 3;				/* x */
	want[o++] = 1;				/* KDF: argon2id13 */
	memcpy(want + o, "\0\0\0\0\0\0\0\x01", 8);	/* opslimit */
	o += 8;
	memcpy(want + o, "\0\0\0\0\0\0\x20\0", 8);	/* memlimit */
	o += 8;
	memcpy(want + o, vector_salt, 16);
	o += 16;
	want[o++] = 5;
	memcpy(want + o, "carol", 5);
	o += 5;
	assert_int_equal(o, 96);

	a = parse_ok(vector);
	assert_int_equal(cer_armor_hdr_encode(&a->hdr, got, &n, &err), KR_OK);
	assert_int_equal(n, o);
	assert_memory_equal(got, want, o);
	cer_armor_free(a);
}

/* Data lines, line checksums and the Check line, recomputed from the doc. */
static void
test_vector_checksums(void **state)
{
	struct cer_armor *a;
	char line[128], enc[64], sum[5];
	const char *p;
	size_t off, n, g, o;
	unsigned no;

	(void)state;
	a = parse_ok(vector);
	for (off = 0, no = 1; off < a->body_len; off += n, no++) {
		n = a->body_len - off < 25 ? a->body_len - off : 25;
		doc_b32_encode(a->body + off, n, enc);
		doc_line_sum(no, a->body + off, n, sum);
		o = (size_t)snprintf(line, sizeof(line), "%02u", no);
		for (g = 0; g < strlen(enc); g += 5)
			o += (size_t)snprintf(line + o, sizeof(line) - o, " %.5s",
			    enc + g);
		snprintf(line + o, sizeof(line) - o, "  %s\n", sum);
		assert_non_null(strstr(vector, line));
	}
	doc_check_line(&a->hdr, a->body, a->body_len, line, sizeof(line));
	p = strstr(vector, line);
	assert_non_null(p);
	cer_armor_free(a);
}

/* ---- Round trips. ---- */

static void
round_trip(enum cer_kind kind, size_t len)
{
	struct cer_armor_hdr h;
	struct cer_armor *a;
	struct kr_error err;
	uint8_t *payload, *pt = NULL;
	char *text = NULL, *line, *save = NULL;
	size_t n;
	int data = 0;

	test_hdr(&h, kind, 2);
	payload = sodium_malloc(len);
	assert_non_null(payload);
	randombytes_buf(payload, len);
	assert_int_equal(cer_armor_seal(&h, payload, len, "pw", 2, &text,
	    &err), KR_OK);
	a = parse_ok(text);
	assert_int_equal(a->hdr.kind, kind);
	assert_memory_equal(a->hdr.set_id, h.set_id, sizeof(h.set_id));
	assert_memory_equal(a->hdr.secret_id, h.secret_id,
	    sizeof(h.secret_id));
	assert_int_equal(a->hdr.k, 3);
	assert_int_equal(a->hdr.n, 5);
	assert_int_equal(a->hdr.x, 2);
	assert_string_equal(a->hdr.holder, "holder 2");
	assert_false(sodium_is_zero(a->hdr.salt, sizeof(a->hdr.salt)));
	assert_int_equal(cer_armor_open(a, "pw", 2, &pt, &n, &err), KR_OK);
	assert_int_equal(n, len);
	assert_memory_equal(pt, payload, len);
	sodium_free(pt);
	cer_armor_free(a);

	/* Printable: no line over 80, data lines within 64. */
	assert_non_null(strstr(text, kind == CER_KIND_OFFICER ?
	    "-----BEGIN KEYRITE OFFICER CREDENTIAL-----\n" :
	    "-----BEGIN KEYRITE SHARE-----\n"));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		assert_true(strlen(line) <= 80);
		if (isdigit((unsigned char)line[0])) {
			assert_true(strlen(line) <= 64);
			data++;
		}
	}
	assert_int_equal(data, (int)((24 + len + 16 + 24) / 25));
	free(text);
	sodium_free(payload);
}

static void
test_round_trips(void **state)
{
	(void)state;
	round_trip(CER_KIND_SHARE, 1);
	round_trip(CER_KIND_SHARE, 32);
	round_trip(CER_KIND_OFFICER, 64);	/* share + Ed25519 seed */
	round_trip(CER_KIND_SHARE, CER_PAYLOAD_MAX);
}

/* Two seals of the same input differ: fresh salt and nonce. */
static void
test_seal_is_randomised(void **state)
{
	struct cer_armor_hdr h;
	struct cer_armor *a, *b;
	struct kr_error err;
	uint8_t secret[32] = { 1 };
	char *t1, *t2;

	(void)state;
	test_hdr(&h, CER_KIND_SHARE, 1);
	assert_int_equal(cer_armor_seal(&h, secret, sizeof(secret), "pw", 2,
	    &t1, &err), KR_OK);
	assert_int_equal(cer_armor_seal(&h, secret, sizeof(secret), "pw", 2,
	    &t2, &err), KR_OK);
	a = parse_ok(t1);
	b = parse_ok(t2);
	assert_memory_not_equal(a->hdr.salt, b->hdr.salt, CER_SALT_LEN);
	assert_memory_not_equal(a->body, b->body, 24);
	/* The payload never appears in clear. */
	assert_null(memmem(a->body, a->body_len, secret, sizeof(secret)));
	cer_armor_free(a);
	cer_armor_free(b);
	free(t1);
	free(t2);
}

static void
test_kdf_defaults(void **state)
{
	struct cer_armor_hdr h;

	(void)state;
	cer_armor_hdr_init(&h, CER_KIND_SHARE, CER_KDF_COST_MODERATE);
	assert_int_equal(h.opslimit, crypto_pwhash_OPSLIMIT_MODERATE);
	assert_int_equal(h.memlimit, crypto_pwhash_MEMLIMIT_MODERATE);
	assert_int_equal(h.kdf, CER_KDF_ARGON2ID13);
	assert_int_equal(h.version, 1);
	cer_armor_hdr_init(&h, CER_KIND_OFFICER, CER_KDF_COST_INTERACTIVE);
	assert_int_equal(h.opslimit, crypto_pwhash_OPSLIMIT_INTERACTIVE);
	assert_int_equal(h.memlimit, crypto_pwhash_MEMLIMIT_INTERACTIVE);
	assert_int_equal(h.kind, CER_KIND_OFFICER);
}

static void
test_seal_refuses(void **state)
{
	struct cer_armor_hdr h, bad;
	struct kr_error err;
	uint8_t p[CER_PAYLOAD_MAX + 1] = { 0 };
	char *t = (char *)1;

	(void)state;
	test_hdr(&h, CER_KIND_SHARE, 1);
	assert_int_equal(cer_armor_seal(&h, p, 32, "", 0, &t, &err),
	    KR_E_USAGE);
	assert_null(t);
	assert_non_null(strstr(err.msg, "passphrase is empty"));
	assert_int_equal(cer_armor_seal(&h, p, 0, "pw", 2, &t, &err),
	    KR_E_USAGE);
	assert_int_equal(cer_armor_seal(&h, p, sizeof(p), "pw", 2, &t, &err),
	    KR_E_USAGE);

	bad = h;
	bad.k = 6;
	assert_int_equal(cer_armor_seal(&bad, p, 32, "pw", 2, &t, &err),
	    KR_E_USAGE);
	assert_non_null(strstr(err.msg, "Threshold 6 is larger than Count 5"));
	bad = h;
	bad.x = 0;
	assert_int_equal(cer_armor_seal(&bad, p, 32, "pw", 2, &t, &err),
	    KR_E_USAGE);
	bad = h;
	bad.opslimit = crypto_pwhash_OPSLIMIT_SENSITIVE + 1;
	assert_int_equal(cer_armor_seal(&bad, p, 32, "pw", 2, &t, &err),
	    KR_E_USAGE);
	assert_non_null(strstr(err.msg, "Opslimit"));
	bad = h;
	bad.memlimit = 8192 + 1;
	assert_int_equal(cer_armor_seal(&bad, p, 32, "pw", 2, &t, &err),
	    KR_E_USAGE);
	bad = h;
	snprintf(bad.holder, sizeof(bad.holder), "carol  smith");
	assert_int_equal(cer_armor_seal(&bad, p, 32, "pw", 2, &t, &err),
	    KR_E_USAGE);
	snprintf(bad.holder, sizeof(bad.holder), "carol: smith");
	assert_int_equal(cer_armor_seal(&bad, p, 32, "pw", 2, &t, &err),
	    KR_E_USAGE);
	bad.holder[0] = '\0';
	assert_int_equal(cer_armor_seal(&bad, p, 32, "pw", 2, &t, &err),
	    KR_E_USAGE);
	bad = h;
	memset(bad.set_id, 0, sizeof(bad.set_id));
	assert_int_equal(cer_armor_seal(&bad, p, 32, "pw", 2, &t, &err),
	    KR_E_USAGE);
	assert_non_null(strstr(err.msg, "Set is all zeros"));
	assert_null(t);
}

/* ---- The table of bad (and oddly typed but good) inputs. ---- */

enum mut {
	M_NONE,
	M_SET,		/* line a := s */
	M_DEL,		/* delete line a */
	M_SWAP,		/* swap lines a and b */
	M_INS,		/* insert s before line a */
	M_TYPO,		/* column b of line a := next base32 character */
	M_PUTCH,	/* column b of line a := s[0] */
	M_INSCH,	/* insert s at column b of line a */
	M_DELCH,	/* delete column b of line a */
	M_CUT,		/* keep only lines 0..a-1 */
	M_CRLF,		/* every newline as CR LF */
	M_EMPTY,	/* no input at all */
	M_RAW,		/* the input is s */
	M_APPEND,	/* s after the END line */
	M_RECHECK,	/* line a := s, and recompute the Check line */
	M_SLOPPY,	/* lower case, doubled spaces, O/I/L for 0/1 */
	M_BLANKS,	/* blank lines around, no final newline */
};

struct armor_case {
	const char	*name;
	enum mut	 op;
	int		 a, b;
	const char	*s;
	const char	*pass;		/* NULL: parse only */
	enum kr_err	 code;
	const char	*msg;		/* substring of the error */
};

/* Vector lines: 0 BEGIN, 1-12 header, 13 blank, 14-18 data, 19 Check. */
static const struct armor_case cases[] = {
	{ "typo in a data line", M_TYPO, 15, 6, NULL, NULL, KR_E_PARSE,
	  "line 16: data line 02: checksum mismatch; retype it" },
	{ "typo in a line checksum", M_TYPO, 16, 54, NULL, NULL, KR_E_PARSE,
	  "line 17: data line 03: checksum mismatch" },
	{ "character not in the alphabet", M_PUTCH, 15, 6, "U", NULL,
	  KR_E_PARSE, "line 16: data line 02: 'U' is not a base32 character" },
	{ "character added", M_INSCH, 15, 6, "Q", NULL, KR_E_PARSE,
	  "line 16: data line 02 has 41 characters of data" },
	{ "character dropped", M_DELCH, 15, 6, NULL, NULL, KR_E_PARSE,
	  "line 16: data line 02" },
	{ "data lines swapped", M_SWAP, 15, 16, NULL, NULL, KR_E_PARSE,
	  "line 16: found data line 03 where data line 02 was expected" },
	{ "data line missing", M_DEL, 16, 0, NULL, NULL, KR_E_PARSE,
	  "line 17: found data line 04 where data line 03 was expected" },
	{ "data line repeated", M_INS, 16, 0,
	  "02 HZ7Y7 3V01C W8E4Q 6SJAS 952VR J3TKE CY6AW TPRJD  EHAN",
	  NULL, KR_E_PARSE,
	  "line 17: found data line 02 where data line 03 was expected" },
	{ "last data line missing", M_DEL, 18, 0, NULL, NULL, KR_E_PARSE,
	  "line 19: the Check line counts 104 bytes but the data lines "
	  "hold 100" },
	{ "Check length mistyped", M_SET, 19, 0, "Check: 105 R87G GW4K", NULL,
	  KR_E_PARSE, "line 20: the Check line counts 105 bytes" },
	{ "Check checksum mistyped", M_SET, 19, 0, "Check: 104 R87G GW4M",
	  NULL, KR_E_PARSE, "line 20: the Check line does not match" },
	{ "cut inside the data", M_CUT, 17, 0, NULL, NULL, KR_E_PARSE,
	  "line 17: the input ends after data line 03 without a Check line" },
	{ "END line cut short", M_SET, 20, 0, "-----END KEYRITE SH", NULL,
	  KR_E_PARSE, "line 21: expected -----END KEYRITE SHARE-----" },
	{ "no END line", M_CUT, 20, 0, NULL, NULL, KR_E_PARSE,
	  "the input ends without -----END KEYRITE SHARE-----; the file is "
	  "truncated" },
	{ "cut inside the header", M_CUT, 6, 0, NULL, NULL, KR_E_PARSE,
	  "line 6: the input ends inside the header" },
	{ "wrong version", M_SET, 1, 0, "Version: 2", NULL, KR_E_PARSE,
	  "line 2: unsupported version 2" },
	{ "Version not first", M_SWAP, 1, 2, NULL, NULL, KR_E_PARSE,
	  "line 2: the header must start with Version" },
	{ "unknown field", M_INS, 9, 0, "Colour: blue", NULL, KR_E_PARSE,
	  "line 10: unknown header field \"Colour\"" },
	{ "duplicated field", M_INS, 9, 0, "Holder: dave", NULL, KR_E_PARSE,
	  "line 10: Holder given twice (first on line 9)" },
	{ "missing field", M_DEL, 12, 0, NULL, NULL, KR_E_PARSE,
	  "line 13: the header has no Salt field" },
	{ "no blank line after the header", M_DEL, 13, 0, NULL, NULL,
	  KR_E_PARSE, "line 14: expected a header field" },
	{ "k > n", M_SET, 5, 0, "Threshold: 6", NULL, KR_E_PARSE,
	  "line 6: Threshold 6 is larger than Count 5" },
	{ "k < 2", M_SET, 5, 0, "Threshold: 1", NULL, KR_E_PARSE,
	  "line 6: Threshold 1 is below 2" },
	{ "n > 255", M_SET, 6, 0, "Count: 256", NULL, KR_E_PARSE,
	  "line 7: Count 256 is larger than 255" },
	{ "x = 0", M_SET, 7, 0, "Index: 0", NULL, KR_E_PARSE,
	  "line 8: Index 0 is not a share index" },
	{ "x > n", M_SET, 7, 0, "Index: 6", NULL, KR_E_PARSE,
	  "line 8: Index 6 is larger than Count 5" },
	{ "leading zero", M_SET, 6, 0, "Count: 05", NULL, KR_E_PARSE,
	  "line 7: Count must be a decimal number without leading zeros" },
	{ "set id too short", M_SET, 3, 0,
	  "Set: 7f3a9c015e22410bc8936d17a450ee2", NULL, KR_E_PARSE,
	  "line 4: Set must be 32 hex digits; found 31" },
	{ "set id not hex", M_SET, 3, 0,
	  "Set: 7f3a9c015e22410bc8936d17a450eg29", NULL, KR_E_PARSE,
	  "line 4: Set must be 32 hex digits; 'g' is not one" },
	{ "secret id too long", M_SET, 4, 0,
	  "Secret-Id: a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babb"
	  "bcbdbebf00", NULL, KR_E_PARSE,
	  "line 5: Secret-Id must be 64 hex digits; found 66" },
	{ "unknown KDF", M_SET, 9, 0, "KDF: scrypt", NULL, KR_E_PARSE,
	  "line 10: KDF must be argon2id" },
	{ "Opslimit 0", M_SET, 10, 0, "Opslimit: 0", NULL, KR_E_PARSE,
	  "line 11: Opslimit 0 is outside" },
	{ "Memlimit too large", M_SET, 11, 0, "Memlimit: 2147483648", NULL,
	  KR_E_PARSE, "line 12: Memlimit 2147483648 is not a multiple of 1024 "
	  "between" },
	{ "Kind does not match the label", M_SET, 2, 0, "Kind: officer", NULL,
	  KR_E_PARSE, "line 3: Kind officer does not match the armor line" },
	{ "header field altered", M_SET, 8, 0, "Holder: carla", NULL,
	  KR_E_PARSE, "line 20: the Check line does not match the header" },
	{ "header field altered, Check recomputed", M_RECHECK, 8, 0,
	  "Holder: carla", PASS, KR_E_AUTH,
	  "wrong passphrase for share 3 (holder carla), or the file was "
	  "altered" },
	{ "wrong passphrase", M_NONE, 0, 0, NULL, "correct horse battery!",
	  KR_E_AUTH, "wrong passphrase for share 3 (holder carol)" },
	{ "non-ASCII", M_SET, 8, 0, "Holder: carol\xc3\xa9", NULL, KR_E_PARSE,
	  "line 9: non-ASCII byte 0xc3" },
	{ "control character", M_SET, 8, 0, "Holder: car\x01ol", NULL,
	  KR_E_PARSE, "line 9: control character 0x01" },
	{ "binary", M_RAW, 0, 0, "\x7f" "ELF\x02\x01\x01", NULL, KR_E_PARSE,
	  "line 1: control character 0x7f" },
	{ "empty input", M_EMPTY, 0, 0, NULL, NULL, KR_E_PARSE,
	  "empty input" },
	{ "blank input", M_RAW, 0, 0, "\n\n  \n", NULL, KR_E_PARSE,
	  "no -----BEGIN KEYRITE SHARE----- line" },
	{ "overlong line", M_SET, 8, 0, "Holder: carol xxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL,
	  KR_E_PARSE, "line 9: longer than 80 characters" },
	{ "text before BEGIN", M_INS, 0, 0, "Dear Carol,", NULL, KR_E_PARSE,
	  "line 1: expected -----BEGIN KEYRITE SHARE-----" },
	{ "text after END", M_APPEND, 0, 0, "PS: keep this safe\n", NULL,
	  KR_E_PARSE, "line 22: text after -----END KEYRITE SHARE-----" },
	{ "CRLF line endings", M_CRLF, 0, 0, NULL, PASS, KR_OK, NULL },
	{ "typed sloppily", M_SLOPPY, 0, 0, NULL, PASS, KR_OK, NULL },
	{ "blank lines around", M_BLANKS, 0, 0, NULL, PASS, KR_OK, NULL },
};

struct lines {
	char	*l[64];
	size_t	 n;
};

static void
lines_split(const char *text, struct lines *L)
{
	const char *p = text, *nl;

	L->n = 0;
	while (*p != '\0') {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		assert_true(L->n < 63);
		L->l[L->n++] = strndup(p, (size_t)(nl - p));
		p = nl + 1;
	}
}

static char *
lines_join(struct lines *L, const char *eol)
{
	size_t i, o, len = 1;
	char *t;

	for (i = 0; i < L->n; i++)
		len += strlen(L->l[i]) + strlen(eol);
	t = calloc(1, len);
	assert_non_null(t);
	for (i = 0, o = 0; i < L->n; i++) {
		memcpy(t + o, L->l[i], strlen(L->l[i]));
		o += strlen(L->l[i]);
		memcpy(t + o, eol, strlen(eol));
		o += strlen(eol);
		free(L->l[i]);
	}
	L->n = 0;
	return t;
}

static void
lines_set(struct lines *L, int i, const char *s)
{
	free(L->l[i]);
	L->l[i] = strdup(s);
}

static void
lines_insert(struct lines *L, int i, const char *s)
{
	size_t j;

	/* A loop, not memmove: valgrind mistakes glibc's for memcpy. */
	for (j = L->n; j > (size_t)i; j--)
		L->l[j] = L->l[j - 1];
	L->l[i] = strdup(s);
	L->n++;
}

static void
lines_delete(struct lines *L, int i)
{
	size_t j;

	free(L->l[i]);
	for (j = (size_t)i; j + 1 < L->n; j++)
		L->l[j] = L->l[j + 1];
	L->n--;
}

/* The vector with c's mutation applied; malloc'd. */
static char *
mutate(const struct armor_case *c)
{
	struct lines L;
	struct cer_armor *a;
	char buf[256], *t, *p;
	size_t i, j;

	switch (c->op) {
	case M_EMPTY:
		return strdup("");
	case M_RAW:
		return strdup(c->s);
	default:
		break;
	}
	lines_split(vector, &L);
	switch (c->op) {
	case M_SET:
		lines_set(&L, c->a, c->s);
		break;
	case M_DEL:
		lines_delete(&L, c->a);
		break;
	case M_SWAP:
		p = L.l[c->a];
		L.l[c->a] = L.l[c->b];
		L.l[c->b] = p;
		break;
	case M_INS:
		lines_insert(&L, c->a, c->s);
		break;
	case M_TYPO:
		p = strchr(doc_b32, L.l[c->a][c->b]);
		assert_non_null(p);
		L.l[c->a][c->b] = p[1] != '\0' ? p[1] : doc_b32[0];
		break;
	case M_PUTCH:
		L.l[c->a][c->b] = c->s[0];
		break;
	case M_INSCH:
		snprintf(buf, sizeof(buf), "%.*s%s%s", c->b, L.l[c->a], c->s,
		    L.l[c->a] + c->b);
		lines_set(&L, c->a, buf);
		break;
	case M_DELCH:
		p = L.l[c->a] + c->b;
		memmove(p, p + 1, strlen(p + 1) + 1);
		break;
	case M_CUT:
		while (L.n > (size_t)c->a)
			lines_delete(&L, (int)L.n - 1);
		break;
	case M_RECHECK:
		a = parse_ok(vector);
		lines_set(&L, c->a, c->s);
		snprintf(a->hdr.holder, sizeof(a->hdr.holder), "%s",
		    strchr(c->s, ':') + 2);
		doc_check_line(&a->hdr, a->body, a->body_len, buf, sizeof(buf));
		lines_set(&L, 19, buf);
		cer_armor_free(a);
		break;
	case M_SLOPPY:
		for (i = 0; i < L.n; i++) {
			t = L.l[i];
			for (p = buf, j = 0; t[j] != '\0'; j++) {
				if (i >= 14 && i <= 18 && j > 2 && t[j] == '0')
					*p++ = 'o';
				else if (i >= 14 && i <= 18 && j > 2 &&
				    t[j] == '1')
					*p++ = j % 2 ? 'I' : 'l';
				else
					*p++ = (char)tolower((unsigned char)
					    t[j]);
				if (i >= 14 && i <= 19 && t[j] == ' ')
					*p++ = ' ';
			}
			*p = '\0';
			lines_set(&L, (int)i, buf);
		}
		break;
	case M_BLANKS:
		lines_insert(&L, 0, "");
		lines_insert(&L, 0, "  ");
		t = lines_join(&L, "\n");
		p = malloc(strlen(t) + 8);
		assert_non_null(p);
		snprintf(p, strlen(t) + 8, "%s\n\t ", t);
		free(t);
		return p;
	default:
		break;
	}
	t = lines_join(&L, c->op == M_CRLF ? "\r\n" : "\n");
	if (c->op == M_APPEND) {
		p = malloc(strlen(t) + strlen(c->s) + 1);
		assert_non_null(p);
		memcpy(p, t, strlen(t));
		memcpy(p + strlen(t), c->s, strlen(c->s) + 1);
		free(t);
		t = p;
	}
	return t;
}

/* Run one case; 0 when it behaved as the table says. */
static int
run_case(const struct armor_case *c)
{
	struct cer_armor *a = NULL;
	struct kr_error err;
	uint8_t *pt = NULL;
	char *text;
	size_t n, i;
	enum kr_err rc;
	int bad = 0;

	text = mutate(c);
	memset(&err, 0, sizeof(err));
	rc = cer_armor_parse(text, strlen(text), &a, &err);
	if (rc == KR_OK && c->pass != NULL)
		rc = cer_armor_open(a, c->pass, strlen(c->pass), &pt, &n, &err);
	if (getenv("KEYRITE_TEST_VERBOSE") != NULL)
		print_message("%-40s %s\n", c->name, err.msg);
	if (rc != c->code) {
		print_error("case \"%s\": got %s (%s), want %s\n", c->name,
		    kr_strerror(rc), err.msg, kr_strerror(c->code));
		bad = 1;
	} else if (c->msg != NULL && strstr(err.msg, c->msg) == NULL) {
		print_error("case \"%s\": message \"%s\" lacks \"%s\"\n",
		    c->name, err.msg, c->msg);
		bad = 1;
	} else if (rc == KR_OK && pt != NULL) {
		for (i = 0; i < n; i++)
			if (pt[i] != i)
				bad = 1;
		if (n != 64 || bad)
			print_error("case \"%s\": wrong payload\n", c->name);
		bad |= n != 64;
	} else if (rc == KR_OK && c->pass == NULL) {
		print_error("case \"%s\": no expectation\n", c->name);
		bad = 1;
	}
	if (rc != KR_OK && a != NULL && c->pass == NULL) {
		print_error("case \"%s\": parse failed but returned data\n",
		    c->name);
		bad = 1;
	}
	/* No error message ever holds the passphrase. */
	if (c->pass != NULL && strstr(err.msg, c->pass) != NULL) {
		print_error("case \"%s\": passphrase in the message\n",
		    c->name);
		bad = 1;
	}
	sodium_free(pt);
	cer_armor_free(a);
	free(text);
	return bad;
}

static void
test_bad_inputs(void **state)
{
	size_t i;
	int bad = 0;

	(void)state;
	assert_true(sizeof(cases) / sizeof(cases[0]) >= 15);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad += run_case(&cases[i]);
	assert_int_equal(bad, 0);
}

/*
 * Every single-bit flip anywhere in the vector is refused, or parses
 * to exactly the same header and body (a letter's case, an O for a 0).
 */
static void
test_every_bit_flip(void **state)
{
	struct cer_armor *orig, *a;
	struct kr_error err;
	uint8_t ad0[CER_ARMOR_AD_MAX], ad1[CER_ARMOR_AD_MAX];
	size_t len = strlen(vector), i, n0, n1, same = 0, refused = 0;
	char *t;
	int bit;

	(void)state;
	orig = parse_ok(vector);
	assert_int_equal(cer_armor_hdr_encode(&orig->hdr, ad0, &n0, &err),
	    KR_OK);
	t = malloc(len);
	assert_non_null(t);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(t, vector, len);
			t[i] = (char)(t[i] ^ (1 << bit));
			if (cer_armor_parse(t, len, &a, &err) != KR_OK) {
				assert_null(a);
				refused++;
				continue;
			}
			assert_int_equal(cer_armor_hdr_encode(&a->hdr, ad1, &n1,
			    &err), KR_OK);
			if (n1 != n0 || memcmp(ad0, ad1, n0) != 0 ||
			    a->body_len != orig->body_len ||
			    memcmp(a->body, orig->body, a->body_len) != 0)
				fail_msg("flip of bit %d at offset %zu was "
				    "accepted with another meaning", bit, i);
			assert_int_equal(toupper((unsigned char)t[i]) == 'O' ||
			    toupper((unsigned char)t[i]) == 'I' ||
			    toupper((unsigned char)t[i]) == 'L' ||
			    toupper((unsigned char)t[i]) ==
			    toupper((unsigned char)vector[i]), 1);
			cer_armor_free(a);
			same++;
		}
	}
	if (getenv("KEYRITE_TEST_VERBOSE") != NULL)
		print_message("%zu flips refused, %zu the same\n", refused,
		    same);
	assert_int_equal(same + refused, 8 * len);
	assert_true(refused > 7 * len);
	free(t);
	cer_armor_free(orig);
}

/* Every header field is associated data: change it, and open fails. */
static void
test_header_is_bound(void **state)
{
	struct cer_armor *a;
	struct kr_error err;
	uint8_t *pt = NULL;
	size_t n;
	int f;

	(void)state;
	for (f = 0; f < 11; f++) {
		a = parse_ok(vector);
		switch (f) {
		case 0: a->hdr.kind = CER_KIND_OFFICER; break;
		case 1: a->hdr.set_id[15] ^= 1; break;
		case 2: a->hdr.secret_id[0] ^= 0x80; break;
		case 3: a->hdr.k = 2; break;
		case 4: a->hdr.n = 6; break;
		case 5: a->hdr.x = 4; break;
		case 6: a->hdr.holder[0] = 'C'; break;
		case 7: a->hdr.opslimit = 2; break;
		case 8: a->hdr.memlimit = 16384; break;
		case 9: a->hdr.salt[3] ^= 4; break;
		case 10: a->body[a->body_len - 1] ^= 1; break;
		}
		assert_int_equal(cer_armor_open(a, PASS, strlen(PASS), &pt, &n,
		    &err), KR_E_AUTH);
		assert_null(pt);
		assert_non_null(strstr(err.msg, "or the file was altered"));
		cer_armor_free(a);
	}
	/* A header that is not one keyrite writes is refused before Argon2. */
	a = parse_ok(vector);
	a->hdr.opslimit = crypto_pwhash_OPSLIMIT_SENSITIVE + 1;
	assert_int_equal(cer_armor_open(a, PASS, strlen(PASS), &pt, &n, &err),
	    KR_E_USAGE);
	a->hdr.opslimit = 1;
	assert_int_equal(cer_armor_open(a, "", 0, &pt, &n, &err), KR_E_USAGE);
	cer_armor_free(a);
}

/* ---- Sets of headers. ---- */

static void
test_check_set(void **state)
{
	static const uint8_t other_set[CER_SET_ID_LEN] = {
		0x91, 0xc2, 0xaa, 0x07, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	};
	struct cer_armor_hdr h[4];
	const struct cer_armor_hdr *p[4];
	const char *names[4] = { "share-alice.txt", "share-bob.txt",
	    "share-carol.txt", "share-dave.txt" };
	struct kr_error err;
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		test_hdr(&h[i], CER_KIND_SHARE, (unsigned)i + 1);
		p[i] = &h[i];
	}
	assert_int_equal(cer_armor_check_set(p, names, 3, &err), KR_OK);
	assert_int_equal(cer_armor_check_set(p, names, 4, &err), KR_OK);
	assert_int_equal(cer_armor_check_set(p, NULL, 3, &err), KR_OK);

	memcpy(h[2].set_id, other_set, sizeof(other_set));
	assert_int_equal(cer_armor_check_set(p, names, 3, &err), KR_E_VERIFY);
	assert_string_equal(err.msg, "share 3 (share-carol.txt): belongs to "
	    "backup set 91c2aa07..., not 7f3a9c01...; use the shares printed "
	    "at the same ceremony");
	assert_int_equal(cer_armor_check_set(p, NULL, 3, &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "share 3 (holder holder 3): belongs"));
	memcpy(h[2].set_id, vector_set, sizeof(vector_set));

	h[1].secret_id[31] ^= 1;
	assert_int_equal(cer_armor_check_set(p, names, 3, &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "share 2 (share-bob.txt): protects "
	    "secret"));
	h[1].secret_id[31] ^= 1;

	h[1].k = 2;
	assert_int_equal(cer_armor_check_set(p, names, 3, &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "says 2-of-5, but share 1 "
	    "(share-alice.txt) says 3-of-5"));
	h[1].k = 3;

	h[3].x = 2;
	assert_int_equal(cer_armor_check_set(p, names, 4, &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "share 2 (share-dave.txt): is the "
	    "same share as share 2 (share-bob.txt)"));
	h[3].x = 4;

	h[1].kind = CER_KIND_OFFICER;
	assert_int_equal(cer_armor_check_set(p, names, 3, &err), KR_E_VERIFY);
	assert_non_null(strstr(err.msg, "is an officer credential, but"));
	h[1].kind = CER_KIND_SHARE;

	assert_int_equal(cer_armor_check_set(p, names, 2, &err), KR_E_USAGE);
	assert_non_null(strstr(err.msg, "2 shares given, but backup set "
	    "7f3a9c01... needs 3 of its 5"));
	assert_int_equal(cer_armor_check_set(p, names, 0, &err), KR_E_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_opens),
		cmocka_unit_test(test_vector_ad_encoding),
		cmocka_unit_test(test_vector_checksums),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_seal_is_randomised),
		cmocka_unit_test(test_kdf_defaults),
		cmocka_unit_test(test_seal_refuses),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_every_bit_flip),
		cmocka_unit_test(test_header_is_bound),
		cmocka_unit_test(test_check_set),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
