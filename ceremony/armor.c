/*
 * armor.c: the share / officer-credential file.  Sealing derives a key
 * from the holder's passphrase (Argon2id), encrypts the payload with
 * XChaCha20-Poly1305 binding the canonical header as associated data,
 * and writes text a person can print, keep and type back in.  Parsing
 * checks everything that can be checked without the passphrase, naming
 * the line to retype; opening decrypts.  The byte-level format is in
 * docs/formats-shares.md; keep the two in step.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "armor.h"
#include "shamir.h"

#define LINE_MAX_CHARS	80	/* longest line parse accepts */
#define DATA_PER_LINE	25	/* bytes per data line: 40 base32 chars */
#define DATA_CHARS	40
#define LINE_SUM_CHARS	4	/* 20-bit line checksum */
#define CHECK_BYTES	5	/* 40-bit Check over header and body */
#define CHECK_CHARS	8
#define NONCE_LEN	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN		crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KEY_LEN		crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define BODY_MIN	(NONCE_LEN + 1 + TAG_LEN)
#define BODY_MAX	(NONCE_LEN + CER_PAYLOAD_MAX + TAG_LEN)
#define MAX_N		255	/* share indexes are one byte, 0 excluded */
#define MAX_DATA_LINES	((BODY_MAX + DATA_PER_LINE - 1) / DATA_PER_LINE)

#define OPSLIMIT_LO	((uint64_t)crypto_pwhash_OPSLIMIT_MIN)
#define OPSLIMIT_HI	((uint64_t)crypto_pwhash_OPSLIMIT_SENSITIVE)
#define MEMLIMIT_LO	((uint64_t)crypto_pwhash_MEMLIMIT_MIN)
#define MEMLIMIT_HI	((uint64_t)crypto_pwhash_MEMLIMIT_SENSITIVE)

/* Domain separation strings for the checksums (no NUL). */
#define AD_MAGIC	"KRSH"
#define LINE_DOMAIN	"keyrite armor line"
#define CHECK_DOMAIN	"keyrite armor check"

/* Crockford base32: no I, L, O, U; decoding maps I, L to 1 and O to 0. */
static const char b32_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static const char label_share[] = "KEYRITE SHARE";
static const char label_officer[] = "KEYRITE OFFICER CREDENTIAL";

/* Header fields, in the order seal writes them. */
enum hfield {
	F_VERSION,
	F_KIND,
	F_SET,
	F_SECRET,
	F_K,
	F_N,
	F_X,
	F_HOLDER,
	F_KDF,
	F_OPS,
	F_MEM,
	F_SALT,
	F_COUNT
};

static const char *const hfield_name[F_COUNT] = {
	[F_VERSION] = "Version",
	[F_KIND] = "Kind",
	[F_SET] = "Set",
	[F_SECRET] = "Secret-Id",
	[F_K] = "Threshold",
	[F_N] = "Count",
	[F_X] = "Index",
	[F_HOLDER] = "Holder",
	[F_KDF] = "KDF",
	[F_OPS] = "Opslimit",
	[F_MEM] = "Memlimit",
	[F_SALT] = "Salt",
};

const char *
cer_kind_name(enum cer_kind kind)
{
	return kind == CER_KIND_OFFICER ? "officer credential" : "share";
}

const char *
cer_kind_set_name(enum cer_kind kind)
{
	return kind == CER_KIND_OFFICER ? "officer quorum" : "backup set";
}

static const char *
kind_label(enum cer_kind kind)
{
	return kind == CER_KIND_OFFICER ? label_officer : label_share;
}

void
cer_armor_hdr_init(struct cer_armor_hdr *h, enum cer_kind kind,
    enum cer_kdf_cost cost)
{
	memset(h, 0, sizeof(*h));
	h->version = CER_ARMOR_VERSION;
	h->kind = kind;
	h->kdf = CER_KDF_ARGON2ID13;
	switch (cost) {
	case CER_KDF_COST_MIN:
		h->opslimit = crypto_pwhash_OPSLIMIT_MIN;
		h->memlimit = crypto_pwhash_MEMLIMIT_MIN;
		break;
	case CER_KDF_COST_INTERACTIVE:
		h->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		h->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		break;
	case CER_KDF_COST_MODERATE:
	default:
		h->opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
		h->memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
		break;
	}
}

static int
all_zero(const uint8_t *b, size_t n)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

static int
holder_char_ok(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == ' ' || c == '.' || c == '\'' ||
	    c == '_' || c == '@' || c == '+' || c == '-';
}

/*
 * The first problem with h, as the field it concerns and a sentence in
 * why; F_COUNT when there is none.  Shared by seal (which reports it as
 * a usage error) and parse (which reports it at the field's line).
 */
static enum hfield
hdr_problem(const struct cer_armor_hdr *h, char *why, size_t whylen)
{
	size_t i, hl;

	if (h->version != CER_ARMOR_VERSION) {
		snprintf(why, whylen, "unsupported version %u; this keyrite "
		    "reads version %d", h->version, CER_ARMOR_VERSION);
		return F_VERSION;
	}
	if (h->kind != CER_KIND_SHARE && h->kind != CER_KIND_OFFICER) {
		snprintf(why, whylen, "Kind must be share or officer");
		return F_KIND;
	}
	if (all_zero(h->set_id, sizeof(h->set_id))) {
		snprintf(why, whylen, "Set is all zeros, which is not a set id");
		return F_SET;
	}
	if (all_zero(h->secret_id, sizeof(h->secret_id))) {
		snprintf(why, whylen,
		    "Secret-Id is all zeros, which is not a secret id");
		return F_SECRET;
	}
	if (h->n > MAX_N) {
		snprintf(why, whylen, "Count %u is larger than 255", h->n);
		return F_N;
	}
	if (h->k < 2) {
		snprintf(why, whylen, "Threshold %u is below 2; one share "
		    "alone would be the secret", h->k);
		return F_K;
	}
	if (h->k > h->n) {
		snprintf(why, whylen, "Threshold %u is larger than Count %u",
		    h->k, h->n);
		return F_K;
	}
	if (h->x == 0) {
		snprintf(why, whylen, "Index 0 is not a share index "
		    "(indexes start at 1)");
		return F_X;
	}
	if (h->x > h->n) {
		snprintf(why, whylen, "Index %u is larger than Count %u",
		    h->x, h->n);
		return F_X;
	}
	hl = strnlen(h->holder, sizeof(h->holder));
	if (hl == 0 || hl > CER_HOLDER_MAX) {
		snprintf(why, whylen, "Holder must be 1 to %d characters",
		    CER_HOLDER_MAX);
		return F_HOLDER;
	}
	for (i = 0; i < hl; i++) {
		if (!holder_char_ok((unsigned char)h->holder[i])) {
			snprintf(why, whylen, "Holder may only use letters, "
			    "digits, spaces and . ' _ @ + -");
			return F_HOLDER;
		}
	}
	if (h->holder[0] == ' ' || h->holder[hl - 1] == ' ' ||
	    strstr(h->holder, "  ") != NULL) {
		snprintf(why, whylen, "Holder must not start or end with a "
		    "space or contain two spaces in a row");
		return F_HOLDER;
	}
	if (h->kdf != CER_KDF_ARGON2ID13) {
		snprintf(why, whylen, "KDF must be argon2id");
		return F_KDF;
	}
	if (h->opslimit < OPSLIMIT_LO || h->opslimit > OPSLIMIT_HI) {
		snprintf(why, whylen, "Opslimit %llu is outside %llu..%llu",
		    (unsigned long long)h->opslimit,
		    (unsigned long long)OPSLIMIT_LO,
		    (unsigned long long)OPSLIMIT_HI);
		return F_OPS;
	}
	if (h->memlimit < MEMLIMIT_LO || h->memlimit > MEMLIMIT_HI ||
	    h->memlimit % 1024 != 0) {
		snprintf(why, whylen, "Memlimit %llu is not a multiple of 1024 "
		    "between %llu and %llu", (unsigned long long)h->memlimit,
		    (unsigned long long)MEMLIMIT_LO,
		    (unsigned long long)MEMLIMIT_HI);
		return F_MEM;
	}
	return F_COUNT;
}

enum kr_err
cer_armor_hdr_check(const struct cer_armor_hdr *h, struct kr_error *err)
{
	char why[256];

	if (hdr_problem(h, why, sizeof(why)) != F_COUNT)
		return kr_fail(err, KR_E_USAGE, "%s header: %s",
		    cer_kind_name(h->kind), why);
	return KR_OK;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

enum kr_err
cer_armor_hdr_encode(const struct cer_armor_hdr *h,
    uint8_t out[CER_ARMOR_AD_MAX], size_t *len, struct kr_error *err)
{
	size_t o = 0, hl;
	enum kr_err rc;

	*len = 0;
	if ((rc = cer_armor_hdr_check(h, err)) != KR_OK)
		return rc;
	hl = strlen(h->holder);
	memcpy(out + o, AD_MAGIC, 4);
	o += 4;
	out[o++] = (uint8_t)h->version;
	out[o++] = (uint8_t)h->kind;
	memcpy(out + o, h->set_id, CER_SET_ID_LEN);
	o += CER_SET_ID_LEN;
	memcpy(out + o, h->secret_id, CER_SECRET_ID_LEN);
	o += CER_SECRET_ID_LEN;
	out[o++] = (uint8_t)h->k;
	out[o++] = (uint8_t)h->n;
	out[o++] = (uint8_t)h->x;
	out[o++] = (uint8_t)h->kdf;
	put_be64(out + o, h->opslimit);
	o += 8;
	put_be64(out + o, h->memlimit);
	o += 8;
	memcpy(out + o, h->salt, CER_SALT_LEN);
	o += CER_SALT_LEN;
	out[o++] = (uint8_t)hl;
	memcpy(out + o, h->holder, hl);
	o += hl;
	*len = o;
	return KR_OK;
}

/* Encode n bytes as ceil(8n/5) base32 characters (no NUL, no padding). */
static size_t
b32_encode(const uint8_t *in, size_t n, char *out)
{
	unsigned int acc = 0, bits = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(acc >> bits) & 31];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
	return o;
}

/* Value of a base32 character (either case, with Crockford's aliases). */
static int
b32_value(int c)
{
	const char *p;

	c = toupper((unsigned char)c);
	if (c == 'O')
		c = '0';
	else if (c == 'I' || c == 'L')
		c = '1';
	if (c == '\0' || (p = strchr(b32_alphabet, c)) == NULL)
		return -1;
	return (int)(p - b32_alphabet);
}

/*
 * Decode nchar validated base32 characters.  Returns -1 when nchar is
 * not the length of any byte string or the unused low bits are not zero,
 * so that every byte string has exactly one spelling.
 */
static int
b32_decode(const char *in, size_t nchar, uint8_t *out, size_t *nout)
{
	unsigned int acc = 0, bits = 0;
	size_t i, o = 0;

	for (i = 0; i < nchar; i++) {
		acc = (acc << 5) | (unsigned int)b32_value(in[i]);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
		acc &= 0xff;
	}
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	*nout = o;
	return 0;
}

/* 20-bit checksum of data line number lineno holding data. */
static uint32_t
line_sum(unsigned lineno, const uint8_t *data, size_t n)
{
	crypto_generichash_state st;
	uint8_t h[crypto_generichash_BYTES_MIN], no = (uint8_t)lineno;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)LINE_DOMAIN,
	    sizeof(LINE_DOMAIN) - 1);
	crypto_generichash_update(&st, &no, 1);
	crypto_generichash_update(&st, data, n);
	crypto_generichash_final(&st, h, sizeof(h));
	return ((uint32_t)h[0] << 12) | ((uint32_t)h[1] << 4) | (h[2] >> 4);
}

static void
line_sum_chars(uint32_t v, char out[LINE_SUM_CHARS])
{
	int i;

	for (i = LINE_SUM_CHARS - 1; i >= 0; i--) {
		out[i] = b32_alphabet[v & 31];
		v >>= 5;
	}
}

/* 40-bit Check over the canonical header and the whole body. */
static void
body_check(const uint8_t *ad, size_t adlen, const uint8_t *body,
    size_t blen, uint8_t out[CHECK_BYTES])
{
	crypto_generichash_state st;
	uint8_t h[crypto_generichash_BYTES_MIN];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)CHECK_DOMAIN,
	    sizeof(CHECK_DOMAIN) - 1);
	crypto_generichash_update(&st, ad, adlen);
	crypto_generichash_update(&st, body, blen);
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(out, h, CHECK_BYTES);
}

/* A growing string for the armored output (not secret). */
struct sbuf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 failed;
};

static void sb_printf(struct sbuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	char *nb;
	int n;

	if (sb->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->failed = 1;
			return;
		}
		if ((size_t)n < sb->cap - sb->len) {
			sb->len += (size_t)n;
			return;
		}
		if ((nb = realloc(sb->buf, sb->cap * 2 + (size_t)n)) == NULL) {
			sb->failed = 1;
			return;
		}
		sb->buf = nb;
		sb->cap = sb->cap * 2 + (size_t)n;
	}
}

/* Derive the AEAD key; key is KEY_LEN bytes of sodium_malloc'd memory. */
static enum kr_err
derive_key(uint8_t *key, const struct cer_armor_hdr *h, const char *pass,
    size_t plen, struct kr_error *err)
{
	if (crypto_pwhash(key, KEY_LEN, pass, plen, h->salt,
	    (unsigned long long)h->opslimit, (size_t)h->memlimit,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(key, KEY_LEN);
		return kr_fail(err, KR_E_NOMEM, "deriving the key from the "
		    "passphrase failed: Argon2id could not get %llu KiB of "
		    "memory", (unsigned long long)(h->memlimit / 1024));
	}
	return KR_OK;
}

static void
write_text(struct sbuf *sb, const struct cer_armor_hdr *h,
    const uint8_t *body, size_t blen, const uint8_t check[CHECK_BYTES])
{
	char hex[2 * CER_SECRET_ID_LEN + 1];
	char enc[DATA_CHARS + 1], sum[LINE_SUM_CHARS];
	size_t off, n, nc, g;
	unsigned line;

	sb_printf(sb, "-----BEGIN %s-----\n", kind_label(h->kind));
	sb_printf(sb, "Version: %u\n", h->version);
	sb_printf(sb, "Kind: %s\n",
	    h->kind == CER_KIND_OFFICER ? "officer" : "share");
	kr_hex(h->set_id, CER_SET_ID_LEN, hex);
	sb_printf(sb, "Set: %s\n", hex);
	kr_hex(h->secret_id, CER_SECRET_ID_LEN, hex);
	sb_printf(sb, "Secret-Id: %s\n", hex);
	sb_printf(sb, "Threshold: %u\n", h->k);
	sb_printf(sb, "Count: %u\n", h->n);
	sb_printf(sb, "Index: %u\n", h->x);
	sb_printf(sb, "Holder: %s\n", h->holder);
	sb_printf(sb, "KDF: argon2id\n");
	sb_printf(sb, "Opslimit: %llu\n", (unsigned long long)h->opslimit);
	sb_printf(sb, "Memlimit: %llu\n", (unsigned long long)h->memlimit);
	kr_hex(h->salt, CER_SALT_LEN, hex);
	sb_printf(sb, "Salt: %s\n\n", hex);

	for (off = 0, line = 1; off < blen; off += n, line++) {
		n = blen - off < DATA_PER_LINE ? blen - off : DATA_PER_LINE;
		nc = b32_encode(body + off, n, enc);
		sb_printf(sb, "%02u", line);
		for (g = 0; g < nc; g += 5)
			sb_printf(sb, " %.*s", (int)(nc - g < 5 ? nc - g : 5),
			    enc + g);
		line_sum_chars(line_sum(line, body + off, n), sum);
		sb_printf(sb, "  %.*s\n", LINE_SUM_CHARS, sum);
	}
	nc = b32_encode(check, CHECK_BYTES, enc);
	sb_printf(sb, "Check: %zu %.4s %.4s\n", blen, enc, enc + 4);
	sb_printf(sb, "-----END %s-----\n", kind_label(h->kind));
}

enum kr_err
cer_armor_seal(const struct cer_armor_hdr *hin, const uint8_t *payload,
    size_t len, const char *passphrase, size_t plen, char **text_out,
    struct kr_error *err)
{
	struct cer_armor_hdr h;
	struct sbuf sb = { NULL, 0, 0, 0 };
	uint8_t ad[CER_ARMOR_AD_MAX], check[CHECK_BYTES];
	uint8_t *key = NULL, *body = NULL;
	unsigned long long clen;
	size_t adlen, blen;
	enum kr_err rc;

	*text_out = NULL;
	h = *hin;
	randombytes_buf(h.salt, sizeof(h.salt));
	if ((rc = cer_armor_hdr_encode(&h, ad, &adlen, err)) != KR_OK)
		goto out;
	if (payload == NULL || len == 0 || len > CER_PAYLOAD_MAX) {
		rc = kr_fail(err, KR_E_USAGE, "%s payload must be 1 to %d "
		    "bytes", cer_kind_name(h.kind), CER_PAYLOAD_MAX);
		goto out;
	}
	if (passphrase == NULL || plen == 0) {
		rc = kr_fail(err, KR_E_USAGE, "%s %u (holder %s): the "
		    "passphrase is empty", cer_kind_name(h.kind), h.x,
		    h.holder);
		goto out;
	}
	blen = NONCE_LEN + len + TAG_LEN;
	if ((body = malloc(blen)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if ((key = sodium_malloc(KEY_LEN)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = derive_key(key, &h, passphrase, plen, err)) != KR_OK)
		goto out;
	randombytes_buf(body, NONCE_LEN);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(body + NONCE_LEN,
	    &clen, payload, len, ad, adlen, NULL, body, key) != 0 ||
	    clen != len + TAG_LEN) {
		rc = kr_fail(err, KR_E_CRYPTO, "XChaCha20-Poly1305 "
		    "encryption failed");
		goto out;
	}
	sodium_memzero(key, KEY_LEN);
	body_check(ad, adlen, body, blen, check);

	sb.cap = 2048;
	if ((sb.buf = malloc(sb.cap)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	write_text(&sb, &h, body, blen, check);
	if (sb.failed) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	*text_out = sb.buf;
	sb.buf = NULL;
	rc = KR_OK;
out:
	if (key != NULL) {
		sodium_memzero(key, KEY_LEN);
		sodium_free(key);
	}
	free(body);
	free(sb.buf);
	return rc;
}

/* Parser state: the input, the current line (trimmed copy) and counts. */
struct pstate {
	const char	*text;
	size_t		 len;
	size_t		 off;
	unsigned	 lineno;
	char		 line[LINE_MAX_CHARS + 1];
	size_t		 llen;
};

/*
 * Read the next line into ps->line, with the newline, a CR before it
 * (files transcribed on other systems) and surrounding blanks removed.
 * Sets *eof at the end of the input.
 */
static enum kr_err
next_line(struct pstate *ps, int *eof, struct kr_error *err)
{
	const char *p, *nl;
	size_t n, i, s, e;
	unsigned char c;

	*eof = 0;
	if (ps->off >= ps->len) {
		*eof = 1;
		return KR_OK;
	}
	p = ps->text + ps->off;
	nl = memchr(p, '\n', ps->len - ps->off);
	n = nl != NULL ? (size_t)(nl - p) : ps->len - ps->off;
	ps->off += n + (nl != NULL ? 1 : 0);
	ps->lineno++;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c >= 0x80)
			return kr_fail(err, KR_E_PARSE, "line %u: non-ASCII "
			    "byte 0x%02x at column %zu; the armor is plain "
			    "ASCII", ps->lineno, c, i + 1);
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return kr_fail(err, KR_E_PARSE, "line %u: control "
			    "character 0x%02x at column %zu", ps->lineno, c,
			    i + 1);
	}
	if (n > LINE_MAX_CHARS)
		return kr_fail(err, KR_E_PARSE, "line %u: longer than %d "
		    "characters; is this a keyrite share file?", ps->lineno,
		    LINE_MAX_CHARS);
	for (s = 0; s < n && (p[s] == ' ' || p[s] == '\t'); s++)
		;
	for (e = n; e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'); e--)
		;
	memcpy(ps->line, p + s, e - s);
	ps->line[e - s] = '\0';
	ps->llen = e - s;
	return KR_OK;
}

/*
 * Strict decimal: digits only, no sign, no leading zero, no overflow,
 * so that each number has one spelling.
 */
static int
parse_dec(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/*
 * Hex of exactly n bytes; blanks between digits are ignored.  Returns 0,
 * or -1 with the offending character in *bad, or -2 with the number of
 * digits found in *ndigits.
 */
static int
parse_hex(const char *s, uint8_t *out, size_t n, size_t *ndigits, char *bad)
{
	size_t d = 0;
	int v;

	memset(out, 0, n);
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else {
			*bad = *s;
			return -1;
		}
		if (d < 2 * n)
			out[d / 2] |= (uint8_t)(d % 2 == 0 ? v << 4 : v);
		d++;
	}
	*ndigits = d;
	return d == 2 * n ? 0 : -2;
}

/* Parse the value of header field f on the current line into h. */
static enum kr_err
header_value(struct pstate *ps, enum hfield f, const char *v,
    struct cer_armor_hdr *h, struct kr_error *err)
{
	const char *name = hfield_name[f];
	uint64_t num;
	size_t nd = 0;
	char bad = '?';
	int hr = 0;

	switch (f) {
	case F_VERSION:
		if (parse_dec(v, &num) != 0)
			goto notnum;
		if (num != CER_ARMOR_VERSION)
			return kr_fail(err, KR_E_PARSE, "line %u: unsupported "
			    "version %.20s; this keyrite reads version %d",
			    ps->lineno, v, CER_ARMOR_VERSION);
		h->version = (unsigned)num;
		return KR_OK;
	case F_KIND:
		if (strcasecmp(v, "share") == 0)
			h->kind = CER_KIND_SHARE;
		else if (strcasecmp(v, "officer") == 0)
			h->kind = CER_KIND_OFFICER;
		else
			return kr_fail(err, KR_E_PARSE, "line %u: Kind must be "
			    "share or officer", ps->lineno);
		return KR_OK;
	case F_SET:
		if ((hr = parse_hex(v, h->set_id, CER_SET_ID_LEN, &nd, &bad)) != 0)
			goto badhex;
		return KR_OK;
	case F_SECRET:
		if ((hr = parse_hex(v, h->secret_id, CER_SECRET_ID_LEN, &nd, &bad)) != 0)
			goto badhex;
		return KR_OK;
	case F_K:
	case F_N:
	case F_X:
		if (parse_dec(v, &num) != 0)
			goto notnum;
		if (num > 255)
			return kr_fail(err, KR_E_PARSE, "line %u: %s %llu is "
			    "larger than 255", ps->lineno, name,
			    (unsigned long long)num);
		if (f == F_K)
			h->k = (unsigned)num;
		else if (f == F_N)
			h->n = (unsigned)num;
		else
			h->x = (unsigned)num;
		return KR_OK;
	case F_HOLDER:
		if (strlen(v) > CER_HOLDER_MAX)
			return kr_fail(err, KR_E_PARSE, "line %u: Holder is "
			    "longer than %d characters", ps->lineno,
			    CER_HOLDER_MAX);
		memcpy(h->holder, v, strlen(v) + 1);
		return KR_OK;
	case F_KDF:
		if (strcasecmp(v, "argon2id") != 0)
			return kr_fail(err, KR_E_PARSE, "line %u: KDF must be "
			    "argon2id", ps->lineno);
		h->kdf = CER_KDF_ARGON2ID13;
		return KR_OK;
	case F_OPS:
	case F_MEM:
		if (parse_dec(v, &num) != 0)
			goto notnum;
		if (f == F_OPS)
			h->opslimit = num;
		else
			h->memlimit = num;
		return KR_OK;
	case F_SALT:
		if ((hr = parse_hex(v, h->salt, CER_SALT_LEN, &nd, &bad)) != 0)
			goto badhex;
		return KR_OK;
	case F_COUNT:
		break;
	}
	return kr_fail(err, KR_E_INTERNAL, "line %u: no such field",
	    ps->lineno);
notnum:
	return kr_fail(err, KR_E_PARSE, "line %u: %s must be a decimal "
	    "number without leading zeros", ps->lineno, name);
badhex:
	num = f == F_SET ? 2 * CER_SET_ID_LEN : f == F_SECRET ?
	    2 * CER_SECRET_ID_LEN : 2 * CER_SALT_LEN;
	if (hr == -1)
		return kr_fail(err, KR_E_PARSE, "line %u: %s must be %llu hex "
		    "digits; '%c' is not one", ps->lineno, name,
		    (unsigned long long)num, bad);
	return kr_fail(err, KR_E_PARSE, "line %u: %s must be %llu hex "
	    "digits; found %zu", ps->lineno, name, (unsigned long long)num,
	    nd);
}

/* One "Name: value" header line. */
static enum kr_err
header_line(struct pstate *ps, struct cer_armor_hdr *h,
    unsigned seen[F_COUNT], struct kr_error *err)
{
	char *colon, *v;
	size_t nl;
	int f;

	if ((colon = strchr(ps->line, ':')) == NULL)
		return kr_fail(err, KR_E_PARSE, "line %u: expected a header "
		    "field such as \"Holder: carol\", or a blank line before "
		    "the data", ps->lineno);
	for (nl = (size_t)(colon - ps->line);
	    nl > 0 && (ps->line[nl - 1] == ' ' || ps->line[nl - 1] == '\t');
	    nl--)
		;
	for (f = 0; f < F_COUNT; f++)
		if (strlen(hfield_name[f]) == nl &&
		    strncasecmp(ps->line, hfield_name[f], nl) == 0)
			break;
	if (f == F_COUNT)
		return kr_fail(err, KR_E_PARSE, "line %u: unknown header field "
		    "\"%.*s\"", ps->lineno, (int)(nl > 32 ? 32 : nl),
		    ps->line);
	if (seen[f] != 0)
		return kr_fail(err, KR_E_PARSE, "line %u: %s given twice "
		    "(first on line %u)", ps->lineno, hfield_name[f], seen[f]);
	if (f != F_VERSION && seen[F_VERSION] == 0)
		return kr_fail(err, KR_E_PARSE, "line %u: the header must "
		    "start with Version", ps->lineno);
	seen[f] = ps->lineno;
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	return header_value(ps, (enum hfield)f, v, h, err);
}

/* The end of the header: every field present, the whole consistent. */
static enum kr_err
header_end(struct pstate *ps, struct cer_armor_hdr *h,
    const unsigned seen[F_COUNT], enum cer_kind label,
    struct kr_error *err)
{
	char why[256];
	enum hfield f;

	for (f = 0; f < F_COUNT; f++)
		if (seen[f] == 0)
			return kr_fail(err, KR_E_PARSE, "line %u: the header "
			    "has no %s field", ps->lineno, hfield_name[f]);
	if ((f = hdr_problem(h, why, sizeof(why))) != F_COUNT)
		return kr_fail(err, KR_E_PARSE, "line %u: %s", seen[f], why);
	if (h->kind != label)
		return kr_fail(err, KR_E_PARSE, "line %u: Kind %s does not "
		    "match the armor line -----BEGIN %s-----", seen[F_KIND],
		    h->kind == CER_KIND_OFFICER ? "officer" : "share",
		    kind_label(label));
	return KR_OK;
}

/* The encrypted body as data lines deliver it. */
struct body {
	uint8_t		 buf[BODY_MAX];
	size_t		 len;
	unsigned	 nlines;	/* data lines so far */
	unsigned	 last_lineno;	/* input line of the last one */
	size_t		 last_n;	/* bytes on the last one */
};

/* Keep the characters of a data or Check value that carry meaning. */
static size_t
compact(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '-')
			continue;
		if (o + 1 < cap)
			out[o] = (char)toupper((unsigned char)*s);
		o++;
	}
	if (cap > 0)
		out[o < cap ? o : cap - 1] = '\0';
	return o;
}

static enum kr_err
bad_b32_char(struct pstate *ps, const char *what, const char *s, size_t n,
    struct kr_error *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b32_value(s[i]) < 0)
			return kr_fail(err, KR_E_PARSE, "line %u: %s: '%c' is "
			    "not a base32 character (0-9 and A-Z except U); "
			    "retype it", ps->lineno, what, s[i]);
	return KR_OK;
}

static enum kr_err
data_line(struct pstate *ps, struct body *b, struct kr_error *err)
{
	char c[LINE_MAX_CHARS + 1], what[32];
	uint8_t data[DATA_PER_LINE + 4];
	size_t cl, nd, n = 0;
	unsigned num, want, got, i;
	enum kr_err rc;

	cl = compact(ps->line, c, sizeof(c));
	want = b->nlines + 1;
	if (cl < 2 || c[0] < '0' || c[0] > '9' || c[1] < '0' || c[1] > '9')
		return kr_fail(err, KR_E_PARSE, "line %u: expected data line "
		    "%02u, which starts with its two-digit number", ps->lineno,
		    want);
	num = (unsigned)(c[0] - '0') * 10 + (unsigned)(c[1] - '0');
	if (num != want)
		return kr_fail(err, KR_E_PARSE, "line %u: found data line %02u "
		    "where data line %02u was expected; a data line is "
		    "missing, repeated or out of order", ps->lineno, num, want);
	snprintf(what, sizeof(what), "data line %02u", num);
	if (b->nlines > 0 && b->last_n != DATA_PER_LINE)
		return kr_fail(err, KR_E_PARSE, "line %u: data line %02u is "
		    "shorter than %d characters but is not the last; retype "
		    "it", b->last_lineno, num - 1, DATA_CHARS);
	if (b->nlines >= MAX_DATA_LINES)
		return kr_fail(err, KR_E_PARSE, "line %u: more data lines "
		    "than a keyrite armor has", ps->lineno);
	if (cl < 2 + 1 + LINE_SUM_CHARS)
		return kr_fail(err, KR_E_PARSE, "line %u: %s is too short to "
		    "hold data and its %d-character checksum; retype it",
		    ps->lineno, what, LINE_SUM_CHARS);
	nd = cl - 2 - LINE_SUM_CHARS;
	if (nd > DATA_CHARS)
		return kr_fail(err, KR_E_PARSE, "line %u: %s has %zu "
		    "characters of data where at most %d fit; retype it",
		    ps->lineno, what, nd, DATA_CHARS);
	if ((rc = bad_b32_char(ps, what, c + 2, cl - 2, err)) != KR_OK)
		return rc;
	if (b32_decode(c + 2, nd, data, &n) != 0 || n == 0)
		return kr_fail(err, KR_E_PARSE, "line %u: %s has a character "
		    "too many or too few; retype it", ps->lineno, what);
	got = 0;
	for (i = 0; i < LINE_SUM_CHARS; i++)
		got = (got << 5) | (unsigned)b32_value(c[2 + nd + i]);
	if (got != line_sum(num, data, n))
		return kr_fail(err, KR_E_PARSE, "line %u: %s: checksum "
		    "mismatch; retype it", ps->lineno, what);
	if (b->len + n > sizeof(b->buf))
		return kr_fail(err, KR_E_PARSE, "line %u: more data than a "
		    "keyrite armor holds", ps->lineno);
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->nlines++;
	b->last_lineno = ps->lineno;
	b->last_n = n;
	return KR_OK;
}

/*
 * One data line on its own, for a tool that takes a share typed from
 * paper line by line: it runs the same checks as cer_armor_parse (line
 * rules, number, base32, length, checksum) as if data lines 1..num-1
 * had been full, so a mistyped line is named the moment it is typed.
 * Whether a short line is really the last, and the Check line, are
 * left to cer_armor_parse over the whole text.
 */
enum kr_err
cer_armor_check_data_line(const char *line, unsigned lineno, unsigned num,
    struct kr_error *err)
{
	struct pstate ps;
	struct body *b;
	enum kr_err rc;
	int eof;

	if (line == NULL || num == 0 || num > MAX_DATA_LINES)
		return kr_fail(err, KR_E_PARSE, "line %u: a keyrite armor has "
		    "data lines 01 to %02u", lineno, (unsigned)MAX_DATA_LINES);
	memset(&ps, 0, sizeof(ps));
	ps.text = line;
	ps.len = strlen(line);
	ps.lineno = lineno - 1;		/* next_line counts it */
	if ((rc = next_line(&ps, &eof, err)) != KR_OK)
		return rc;
	if (eof || ps.llen == 0)
		return kr_fail(err, KR_E_PARSE, "line %u: expected data line "
		    "%02u; the line is empty", lineno, num);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	b->nlines = num - 1;
	b->len = (size_t)(num - 1) * DATA_PER_LINE;
	b->last_n = DATA_PER_LINE;
	rc = data_line(&ps, b, err);
	free(b);
	return rc;
}

/* "Check: LENGTH CCCC CCCC" after the last data line. */
static enum kr_err
check_line(struct pstate *ps, const struct body *b,
    const struct cer_armor_hdr *h, struct kr_error *err)
{
	char num[24], c[LINE_MAX_CHARS + 1];
	const char *v;
	uint8_t ad[CER_ARMOR_AD_MAX], want[CHECK_BYTES], got[CHECK_BYTES];
	uint64_t declared;
	size_t i, adlen, cl, n = 0;
	enum kr_err rc;

	for (v = ps->line + 6; *v == ' ' || *v == '\t'; v++)
		;
	for (i = 0; v[i] >= '0' && v[i] <= '9' && i + 1 < sizeof(num); i++)
		num[i] = v[i];
	num[i] = '\0';
	cl = compact(v + i, c, sizeof(c));
	if (parse_dec(num, &declared) != 0 || cl != CHECK_CHARS ||
	    (v[i] != ' ' && v[i] != '\t'))
		return kr_fail(err, KR_E_PARSE, "line %u: the Check line is "
		    "\"Check: LENGTH XXXX XXXX\" (a byte count and %d "
		    "characters); retype it", ps->lineno, CHECK_CHARS);
	if ((rc = bad_b32_char(ps, "Check line", c, cl, err)) != KR_OK)
		return rc;
	if (b->nlines == 0)
		return kr_fail(err, KR_E_PARSE, "line %u: no data lines before "
		    "the Check line", ps->lineno);
	if (declared != b->len)
		return kr_fail(err, KR_E_PARSE, "line %u: the Check line counts "
		    "%llu bytes but the data lines hold %zu; %s (or the Check "
		    "line was mistyped)", ps->lineno,
		    (unsigned long long)declared, b->len,
		    declared > b->len ? "data lines are missing at the end" :
		    "there are data lines too many");
	if (b->len < BODY_MIN)
		return kr_fail(err, KR_E_PARSE, "line %u: %zu bytes of data are "
		    "too few for an encrypted payload", ps->lineno, b->len);
	if (b32_decode(c, cl, got, &n) != 0 || n != CHECK_BYTES)
		return kr_fail(err, KR_E_PARSE, "line %u: the Check line does "
		    "not decode; retype it", ps->lineno);
	if ((rc = cer_armor_hdr_encode(h, ad, &adlen, err)) != KR_OK)
		return kr_fail(err, KR_E_INTERNAL, "line %u: the header no "
		    "longer encodes", ps->lineno);
	body_check(ad, adlen, b->buf, b->len, want);
	if (memcmp(want, got, CHECK_BYTES) != 0)
		return kr_fail(err, KR_E_PARSE, "line %u: the Check line does "
		    "not match the header and data; every data line passed its "
		    "own checksum, so a header line or the Check line was "
		    "mistyped: compare them with the paper copy", ps->lineno);
	return KR_OK;
}

/* "-----BEGIN KEYRITE SHARE-----" and friends; 0 when it is none. */
static enum cer_kind
armor_label(const char *line, const char *what)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "-----%s %s-----", what, label_share);
	if (strcasecmp(line, buf) == 0)
		return CER_KIND_SHARE;
	snprintf(buf, sizeof(buf), "-----%s %s-----", what, label_officer);
	if (strcasecmp(line, buf) == 0)
		return CER_KIND_OFFICER;
	return (enum cer_kind)0;
}

enum kr_err
cer_armor_parse(const char *text, size_t len, struct cer_armor **out,
    struct kr_error *err)
{
	enum { S_BEGIN, S_HEADER, S_DATA, S_END, S_AFTER } st = S_BEGIN;
	struct pstate ps;
	struct cer_armor *a = NULL;
	struct body *b = NULL;
	unsigned seen[F_COUNT];
	enum cer_kind label = CER_KIND_SHARE;
	int eof;
	enum kr_err rc;

	*out = NULL;
	memset(&ps, 0, sizeof(ps));
	memset(seen, 0, sizeof(seen));
	if (text == NULL || len == 0) {
		rc = kr_fail(err, KR_E_PARSE, "empty input; expected a keyrite "
		    "share or officer credential");
		goto out;
	}
	if (len > CER_ARMOR_TEXT_MAX) {
		rc = kr_fail(err, KR_E_PARSE, "%zu bytes is far larger than a "
		    "keyrite share file", len);
		goto out;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (b = calloc(1, sizeof(*b))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	ps.text = text;
	ps.len = len;

	for (;;) {
		if ((rc = next_line(&ps, &eof, err)) != KR_OK)
			goto out;
		if (eof)
			break;
		switch (st) {
		case S_BEGIN:
			if (ps.llen == 0)
				continue;
			if ((label = armor_label(ps.line, "BEGIN")) == 0) {
				rc = kr_fail(err, KR_E_PARSE, "line %u: expected "
				    "-----BEGIN %s----- or -----BEGIN %s-----",
				    ps.lineno, label_share, label_officer);
				goto out;
			}
			st = S_HEADER;
			break;
		case S_HEADER:
			if (ps.llen == 0) {
				rc = header_end(&ps, &a->hdr, seen, label, err);
				if (rc != KR_OK)
					goto out;
				st = S_DATA;
				break;
			}
			if ((rc = header_line(&ps, &a->hdr, seen, err)) != KR_OK)
				goto out;
			break;
		case S_DATA:
			if (ps.llen == 0)
				continue;
			if (strncasecmp(ps.line, "Check:", 6) == 0) {
				rc = check_line(&ps, b, &a->hdr, err);
				if (rc != KR_OK)
					goto out;
				st = S_END;
				break;
			}
			if ((rc = data_line(&ps, b, err)) != KR_OK)
				goto out;
			break;
		case S_END:
			if (armor_label(ps.line, "END") != label) {
				rc = kr_fail(err, KR_E_PARSE, "line %u: expected "
				    "-----END %s-----", ps.lineno,
				    kind_label(label));
				goto out;
			}
			st = S_AFTER;
			break;
		case S_AFTER:
			if (ps.llen != 0) {
				rc = kr_fail(err, KR_E_PARSE, "line %u: text "
				    "after -----END %s-----", ps.lineno,
				    kind_label(label));
				goto out;
			}
			break;
		}
	}
	switch (st) {
	case S_BEGIN:
		rc = kr_fail(err, KR_E_PARSE, "no -----BEGIN %s----- line; "
		    "this is not a keyrite share or officer credential",
		    label_share);
		goto out;
	case S_HEADER:
		rc = kr_fail(err, KR_E_PARSE, "line %u: the input ends inside "
		    "the header; the file is truncated", ps.lineno);
		goto out;
	case S_DATA:
		rc = kr_fail(err, KR_E_PARSE, "line %u: the input ends after "
		    "data line %02u without a Check line; the file is "
		    "truncated", ps.lineno, b->nlines);
		goto out;
	case S_END:
		rc = kr_fail(err, KR_E_PARSE, "line %u: the input ends without "
		    "-----END %s-----; the file is truncated", ps.lineno,
		    kind_label(label));
		goto out;
	case S_AFTER:
		break;
	}
	if ((a->body = malloc(b->len)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(a->body, b->buf, b->len);
	a->body_len = b->len;
	*out = a;
	a = NULL;
	rc = KR_OK;
out:
	cer_armor_free(a);
	free(b);
	return rc;
}

enum kr_err
cer_armor_open(const struct cer_armor *a, const char *passphrase,
    size_t plen, uint8_t **payload, size_t *len, struct kr_error *err)
{
	const struct cer_armor_hdr *h = &a->hdr;
	uint8_t ad[CER_ARMOR_AD_MAX];
	uint8_t *key = NULL, *pt = NULL;
	unsigned long long mlen = 0;
	size_t adlen, ptlen = 0;
	enum kr_err rc;

	*payload = NULL;
	*len = 0;
	if ((rc = cer_armor_hdr_encode(h, ad, &adlen, err)) != KR_OK)
		goto out;
	if (a->body == NULL || a->body_len < BODY_MIN ||
	    a->body_len > BODY_MAX) {
		rc = kr_fail(err, KR_E_USAGE, "%s %u (holder %s): no encrypted "
		    "payload", cer_kind_name(h->kind), h->x, h->holder);
		goto out;
	}
	if (passphrase == NULL || plen == 0) {
		rc = kr_fail(err, KR_E_USAGE, "%s %u (holder %s): the "
		    "passphrase is empty", cer_kind_name(h->kind), h->x,
		    h->holder);
		goto out;
	}
	ptlen = a->body_len - NONCE_LEN - TAG_LEN;
	if ((key = sodium_malloc(KEY_LEN)) == NULL ||
	    (pt = sodium_malloc(ptlen)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = derive_key(key, h, passphrase, plen, err)) != KR_OK)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &mlen, NULL,
	    a->body + NONCE_LEN, a->body_len - NONCE_LEN, ad, adlen, a->body,
	    key) != 0 || mlen != ptlen) {
		rc = kr_fail(err, KR_E_AUTH, "wrong passphrase for %s %u "
		    "(holder %s), or the file was altered",
		    cer_kind_name(h->kind), h->x, h->holder);
		goto out;
	}
	*payload = pt;
	*len = ptlen;
	pt = NULL;
	rc = KR_OK;
out:
	if (key != NULL) {
		sodium_memzero(key, KEY_LEN);
		sodium_free(key);
	}
	if (pt != NULL) {
		sodium_memzero(pt, ptlen);
		sodium_free(pt);
	}
	return rc;
}

void
cer_armor_free(struct cer_armor *a)
{
	if (a == NULL)
		return;
	free(a->body);
	free(a);
}

/* "share 3 (share-carol.txt)", or "share 3 (holder carol)" unnamed. */
static void
member_name(const struct cer_armor_hdr *h, const char *const *names,
    size_t i, char *out, size_t outlen)
{
	if (names != NULL && names[i] != NULL)
		snprintf(out, outlen, "%s %u (%s)", cer_kind_name(h->kind),
		    h->x, names[i]);
	else
		snprintf(out, outlen, "%s %u (holder %s)",
		    cer_kind_name(h->kind), h->x, h->holder);
}

enum kr_err
cer_armor_check_set(const struct cer_armor_hdr *const *hdrs,
    const char *const *names, size_t count, struct kr_error *err)
{
	const struct cer_armor_hdr *r, *h;
	char who[128], first[128], a[2 * CER_SECRET_ID_LEN + 1],
	    b[2 * CER_SECRET_ID_LEN + 1];
	size_t i, j;

	if (hdrs == NULL || count == 0 || hdrs[0] == NULL)
		return kr_fail(err, KR_E_USAGE, "no shares given");
	r = hdrs[0];
	member_name(r, names, 0, first, sizeof(first));
	for (i = 0; i < count; i++) {
		if ((h = hdrs[i]) == NULL)
			return kr_fail(err, KR_E_USAGE, "no header for file %zu",
			    i + 1);
		member_name(h, names, i, who, sizeof(who));
		if (h->kind != r->kind)
			return kr_fail(err, KR_E_VERIFY, "%s: is %s, but %s is "
			    "%s; give files of one kind", who,
			    h->kind == CER_KIND_OFFICER ?
			    "an officer credential" : "a backup share", first,
			    r->kind == CER_KIND_OFFICER ?
			    "an officer credential" : "a backup share");
		if (sodium_memcmp(h->set_id, r->set_id, CER_SET_ID_LEN) != 0) {
			kr_hex(h->set_id, 4, a);
			kr_hex(r->set_id, 4, b);
			return kr_fail(err, KR_E_VERIFY, "%s: belongs to %s "
			    "%s..., not %s...; use the %ss %s at the same "
			    "ceremony", who, cer_kind_set_name(h->kind), a, b,
			    cer_kind_name(h->kind),
			    h->kind == CER_KIND_OFFICER ? "made" : "printed");
		}
		if (sodium_memcmp(h->secret_id, r->secret_id,
		    CER_SECRET_ID_LEN) != 0) {
			kr_hex(h->secret_id, 4, a);
			kr_hex(r->secret_id, 4, b);
			return kr_fail(err, KR_E_VERIFY, "%s: protects secret "
			    "%s..., but %s protects %s...; the files were not "
			    "made together", who, a, first, b);
		}
		if (h->k != r->k || h->n != r->n)
			return kr_fail(err, KR_E_VERIFY, "%s: says %u-of-%u, but "
			    "%s says %u-of-%u; the files were not made "
			    "together", who, h->k, h->n, first, r->k, r->n);
		for (j = 0; j < i; j++) {
			if (hdrs[j]->x == h->x) {
				if (names != NULL && names[i] != NULL &&
				    names[j] != NULL &&
				    strcmp(names[i], names[j]) == 0)
					return kr_fail(err, KR_E_VERIFY, "%s is "
					    "given twice; give %u different "
					    "holders' files", names[i], h->k);
				member_name(hdrs[j], names, j, first,
				    sizeof(first));
				return kr_fail(err, KR_E_VERIFY, "%s: is the same "
				    "%s as %s; each must come from a different "
				    "holder", who, cer_kind_name(h->kind),
				    first);
			}
		}
	}
	if (count < r->k) {
		kr_hex(r->set_id, 4, a);
		return kr_fail(err, KR_E_USAGE, "%zu %ss given, but %s %s... "
		    "needs %u of its %u", count, cer_kind_name(r->kind),
		    cer_kind_set_name(r->kind), a, r->k, r->n);
	}
	return KR_OK;
}

enum kr_err
cer_armor_combine(struct cer_armor *const *a, const char *const *names,
    struct kr_secret *const *passphrases, size_t count, size_t payload_len,
    size_t secret_len, const char *what, uint8_t *out, struct kr_error *err)
{
	uint8_t **pay = NULL, *xs = NULL;
	size_t i, plen;
	enum kr_err rc;

	if (count == 0 || secret_len > payload_len)
		return kr_fail(err, KR_E_INTERNAL, "nothing to combine");
	if ((pay = calloc(count, sizeof(*pay))) == NULL ||
	    (xs = calloc(count, 1)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < count; i++) {
		rc = cer_armor_open(a[i], passphrases[i]->buf,
		    passphrases[i]->len, &pay[i], &plen, err);
		if (rc != KR_OK) {
			kr_error_prefix(err, "%s", names[i]);
			goto out;
		}
		if (plen != payload_len) {
			rc = kr_fail(err, KR_E_VERIFY, "%s: holds %zu bytes, not "
			    "%s", names[i], plen, what);
			goto out;
		}
		xs[i] = (uint8_t)a[i]->hdr.x;
	}
	rc = cer_shamir_combine((const uint8_t *const *)pay, xs, a[0]->hdr.k,
	    secret_len, out, err);
out:
	if (pay != NULL)
		for (i = 0; i < count; i++)
			sodium_free(pay[i]);	/* wipes */
	free(pay);
	free(xs);
	return rc;
}
