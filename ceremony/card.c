/*
 * card.c: render a share or officer credential as a card a custodian
 * can print and file: a text card for the terminal and a printable HTML
 * page with a QR code (libqrencode, drawn as inline SVG).  The armored
 * text on the card is the text that was parsed, laid out the way
 * `keyrite backup type-in` numbers it; the header is repeated in words
 * for the people who handle the card.  Everything that came from the
 * file is HTML-escaped, although the armor parser already restricts it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <qrencode.h>

#include "card.h"

#define CARD_COLS	79	/* width of the text card */
#define QR_QUIET	4	/* modules of white around the code */
#define QR_SIZE_MM	50	/* printed size of the code */

/* A growing string (nothing here is secret). */
struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 failed;
};

static void
bput(struct buf *b, const char *s, size_t n)
{
	size_t ncap;
	char *np;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 1024;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
bstr(struct buf *b, const char *s)
{
	bput(b, s, strlen(s));
}

static void bprintf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->failed = 1;
		return;
	}
	bput(b, tmp, (size_t)n);
}

/* Append n bytes of s, HTML-escaped. */
static void
besc(struct buf *b, const char *s, size_t n)
{
	size_t i, start = 0;
	const char *ref;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			ref = "&amp;";
			break;
		case '<':
			ref = "&lt;";
			break;
		case '>':
			ref = "&gt;";
			break;
		case '"':
			ref = "&quot;";
			break;
		case '\'':
			ref = "&#39;";
			break;
		default:
			continue;
		}
		bput(b, s + start, i - start);
		bstr(b, ref);
		start = i + 1;
	}
	bput(b, s + start, n - start);
}

/* Hand the finished string to the caller, or fail for lack of memory. */
static enum kr_err
bdone(struct buf *b, char **out, struct kr_error *err)
{
	if (b->failed || b->p == NULL) {
		free(b->p);
		b->p = NULL;
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	}
	*out = b->p;
	b->p = NULL;
	return KR_OK;
}

char *
cer_card_escape(const char *s)
{
	struct buf b = { NULL, 0, 0, 0 };

	bput(&b, "", 0);
	besc(&b, s, strlen(s));
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

enum kr_err
cer_card_lines(const char *text, size_t len, char **out,
    struct kr_error *err)
{
	enum { BEFORE, HEADER, DATA } st = BEFORE;
	struct buf b = { NULL, 0, 0, 0 };
	const char *p = text, *end = text + len, *nl, *s, *e;

	*out = NULL;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		e = nl != NULL ? nl : end;
		for (s = p; s < e && is_blank(*s); s++)
			;
		while (e > s && (is_blank(e[-1]) || e[-1] == '\r'))
			e--;
		p = nl != NULL ? nl + 1 : end;
		if (s == e) {
			/* One blank line ends the header; others drop. */
			if (st == HEADER) {
				bput(&b, "\n", 1);
				st = DATA;
			}
			continue;
		}
		if (st == BEFORE)
			st = HEADER;
		bput(&b, s, (size_t)(e - s));
		bput(&b, "\n", 1);
		if (st == DATA && e - s >= 8 &&
		    strncasecmp(s, "-----END", 8) == 0)
			break;
	}
	if (b.len == 0)
		return kr_fail(err, KR_E_PARSE, "no armored text to show");
	return bdone(&b, out, err);
}

/* Lower-case hex of n bytes in groups of four digits. */
static void
hex_grouped(const uint8_t *v, size_t n, char *out, size_t outlen)
{
	char hex[2 * CER_SECRET_ID_LEN + 1];
	size_t i, o = 0;

	if (n > CER_SECRET_ID_LEN)
		n = CER_SECRET_ID_LEN;
	kr_hex(v, n, hex);
	for (i = 0; i < 2 * n && o + 2 < outlen; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = hex[i];
	}
	out[o] = '\0';
}

/* "Argon2id, opslimit 3, memlimit 256 MiB". */
static void
kdf_words(const struct cer_armor_hdr *h, char *out, size_t outlen)
{
	unsigned long long m = (unsigned long long)h->memlimit;

	if (m % (1024 * 1024) == 0)
		snprintf(out, outlen, "Argon2id, opslimit %llu, memlimit %llu "
		    "MiB", (unsigned long long)h->opslimit, m / (1024 * 1024));
	else
		snprintf(out, outlen, "Argon2id, opslimit %llu, memlimit %llu "
		    "KiB", (unsigned long long)h->opslimit, m / 1024);
}

static const char *
card_title(enum cer_kind kind)
{
	return kind == CER_KIND_OFFICER ? "keyrite officer credential" :
	    "keyrite backup share";
}

/* "share 3 of 5, any 3 restore" and its officer counterpart. */
static void
count_words(const struct cer_armor_hdr *h, char *out, size_t outlen)
{
	if (h->kind == CER_KIND_OFFICER)
		snprintf(out, outlen, "credential %u of %u, any %u act "
		    "together", h->x, h->n, h->k);
	else
		snprintf(out, outlen, "share %u of %u, any %u restore", h->x,
		    h->n, h->k);
}

static const char *
set_label(enum cer_kind kind)
{
	return kind == CER_KIND_OFFICER ? "Officer quorum" : "Backup set";
}

static void
rule(struct buf *b, char c)
{
	char line[CARD_COLS + 2];

	memset(line, c, CARD_COLS);
	line[CARD_COLS] = '\n';
	line[CARD_COLS + 1] = '\0';
	bstr(b, line);
}

enum kr_err
cer_card_text(const struct cer_armor *a, const char *text, size_t len,
    char **out, struct kr_error *err)
{
	const struct cer_armor_hdr *h = &a->hdr;
	struct buf b = { NULL, 0, 0, 0 };
	char *lines = NULL, words[128], grp[96];
	const char *p, *nl;
	unsigned n = 0;
	enum kr_err rc;

	*out = NULL;
	if ((rc = cer_card_lines(text, len, &lines, err)) != KR_OK)
		return rc;
	rule(&b, '=');
	count_words(h, words, sizeof(words));
	bprintf(&b, " %-*s%s\n", CARD_COLS - 2 - (int)strlen(words),
	    card_title(h->kind), words);
	rule(&b, '=');
	bprintf(&b, " %-15s %s\n", "Holder", h->holder);
	bprintf(&b, " %-15s %u of %u, any %u %s\n", h->kind ==
	    CER_KIND_OFFICER ? "Credential" : "Share", h->x, h->n, h->k,
	    h->kind == CER_KIND_OFFICER ? "act together" : "restore");
	hex_grouped(h->set_id, CER_SET_ID_LEN, grp, sizeof(grp));
	bprintf(&b, " %-15s %s\n", set_label(h->kind), grp);
	hex_grouped(h->secret_id, CER_SECRET_ID_LEN / 2, grp, sizeof(grp));
	bprintf(&b, " %-15s %s\n", "Secret id", grp);
	hex_grouped(h->secret_id + CER_SECRET_ID_LEN / 2,
	    CER_SECRET_ID_LEN / 2, grp, sizeof(grp));
	bprintf(&b, " %-15s %s\n", "", grp);
	kdf_words(h, words, sizeof(words));
	bprintf(&b, " %-15s %s\n", "KDF", words);
	rule(&b, '-');
	bstr(&b, " Type these lines exactly as shown, one per numbered line.\n"
	    " Case and the spaces inside data lines do not matter.\n\n");
	for (p = lines; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == p)
			bprintf(&b, "%2u\n", ++n);
		else
			bprintf(&b, "%2u  %.*s\n", ++n, (int)(nl - p), p);
	}
	rule(&b, '-');
	bstr(&b, " Keep this card sealed. To restore, type it with "
	    "`keyrite backup type-in`.\n The passphrase is not on this card; "
	    "it is needed only to use the share.\n");
	rule(&b, '=');
	free(lines);
	return bdone(&b, out, err);
}

/* Open an SVG of QR code q, size_mm wide. */
static void
svg_qr(struct buf *b, const QRcode *q, unsigned size_mm)
{
	int w = q->width, full = q->width + 2 * QR_QUIET, x, y, run;

	bprintf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "class=\"qrcode\" viewBox=\"0 0 %d %d\" width=\"%umm\" "
	    "height=\"%umm\" shape-rendering=\"crispEdges\" role=\"img\" "
	    "aria-label=\"QR code (version %d, level M)\">\n"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n"
	    "<g fill=\"#000\">\n", full, full, size_mm, size_mm, q->version,
	    full, full);
	for (y = 0; y < w; y++) {
		for (x = 0; x < w; x += run) {
			run = 0;
			while (x + run < w && (q->data[y * w + x + run] & 1))
				run++;
			if (run > 0)
				bprintf(b, "<rect x=\"%d\" y=\"%d\" "
				    "width=\"%d\" height=\"1\"/>", x + QR_QUIET,
				    y + QR_QUIET, run);
			else
				run = 1;
		}
		bstr(b, "\n");
	}
	bstr(b, "</g>\n</svg>");
}

enum kr_err
cer_card_qr_svg(const char *data, size_t len, unsigned size_mm, char **svg,
    struct kr_error *err)
{
	struct buf b = { NULL, 0, 0, 0 };
	QRcode *q;
	char *s;
	enum kr_err rc;

	*svg = NULL;
	if (memchr(data, '\0', len) != NULL)
		return kr_fail(err, KR_E_USAGE, "a QR code of text cannot hold "
		    "NUL bytes");
	if ((s = malloc(len + 1)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	memcpy(s, data, len);
	s[len] = '\0';
	/*
	 * Level M survives a crease or a coffee stain on 15% of the code.
	 * QR_MODE_8 with case kept lets libqrencode put the upper-case data
	 * lines in alphanumeric mode and the rest in 8-bit mode.
	 */
	q = QRcode_encodeString(s, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	free(s);
	if (q == NULL)
		return kr_fail(err, KR_E_USAGE, "%zu bytes of text do not fit "
		    "in a QR code", len);
	svg_qr(&b, q, size_mm);
	QRcode_free(q);
	rc = bdone(&b, svg, err);
	return rc;
}

/*
 * The page's style: one card per page on A4 or Letter (186 mm fits the
 * narrower A4 inside 12 mm margins; the height stays under Letter's), a
 * sheet on grey on screen.  No web fonts: the page must work offline.
 */
static const char card_css[] =
    "@page { margin: 12mm; }\n"
    "* { box-sizing: border-box; }\n"
    "html { background: #d9d7d2; }\n"
    "body { margin: 0; padding: 10mm 0; color: #111;\n"
    "  font: 10pt/1.4 \"Helvetica Neue\", Helvetica, Arial, "
    "\"Liberation Sans\", \"DejaVu Sans\", sans-serif; }\n"
    ".card { width: 210mm; margin: 0 auto; padding: 12mm; background: "
    "#fff;\n  box-shadow: 0 1mm 4mm rgba(0,0,0,.25); }\n"
    ".mono, .armor { font-family: \"DejaVu Sans Mono\", \"Liberation "
    "Mono\", Menlo, Consolas, monospace; }\n"
    "header { display: flex; justify-content: space-between; align-items: "
    "flex-end;\n  border-bottom: 0.6mm solid #111; padding-bottom: 2.5mm; "
    "}\n"
    ".kicker { font-size: 8pt; font-weight: 700; letter-spacing: .18em; "
    "text-transform: uppercase; color: #666; }\n"
    "h1 { font-size: 21pt; line-height: 1.15; margin: 1mm 0 0; "
    "font-weight: 700; }\n"
    ".index { text-align: right; }\n"
    ".index b { display: block; font-size: 21pt; line-height: 1.15; }\n"
    ".index span { font-size: 9pt; color: #444; }\n"
    ".top { display: flex; gap: 8mm; margin-top: 4mm; align-items: "
    "flex-start; }\n"
    "table.fields { flex: 1; border-collapse: collapse; }\n"
    "table.fields th { text-align: left; vertical-align: top; font-size: "
    "7.5pt; font-weight: 700;\n  letter-spacing: .08em; text-transform: "
    "uppercase; color: #666; padding: 2.3mm 4mm 1.6mm 0;\n  white-space: "
    "nowrap; border-bottom: 0.2mm solid #ddd; }\n"
    "table.fields td { padding: 1.5mm 0; border-bottom: 0.2mm solid #ddd; "
    "}\n"
    "table.fields td.mono { font-size: 9.5pt; }\n"
    "td.holder { font-size: 14pt; font-weight: 700; }\n"
    "figure.qr { margin: 0; width: 50mm; text-align: center; }\n"
    "figure.qr svg { display: block; }\n"
    "figure.qr figcaption { font-size: 7.5pt; color: #555; margin-top: "
    "0.5mm; }\n"
    ".noqr { width: 50mm; height: 50mm; border: 0.3mm dashed #999; "
    "display: flex;\n  align-items: center; padding: 4mm; font-size: 8pt; "
    "color: #555; }\n"
    "h2 { font-size: 8pt; font-weight: 700; letter-spacing: .14em; "
    "text-transform: uppercase;\n  color: #666; margin: 4mm 0 1.5mm; }\n"
    "h2 span { text-transform: none; letter-spacing: 0; font-weight: 400; "
    "}\n"
    ".armor { font-size: 10pt; line-height: 1.42; border: 0.3mm solid "
    "#111;\n  border-radius: 1.5mm; padding: 2mm 0; }\n"
    ".armor .l { white-space: pre; min-height: 1.42em; padding-right: "
    "2mm; }\n"
    ".armor .l:nth-child(even) { background: #f1f0ec; }\n"
    ".armor .l::before { content: attr(data-n); display: inline-block; "
    "width: 2.4em;\n  margin-right: 1.1em; text-align: right; color: #999; "
    "}\n"
    ".armor .sum { font-weight: 700; }\n"
    ".notes { display: flex; gap: 8mm; margin-top: 4mm; font-size: "
    "8.5pt; }\n"
    ".notes div { flex: 1; }\n"
    ".notes p { margin: 0 0 1.5mm; }\n"
    ".notes code { font-family: \"DejaVu Sans Mono\", \"Liberation "
    "Mono\", Menlo, Consolas, monospace;\n  font-size: 8pt; background: "
    "#f1f0ec; padding: 0 0.8mm; }\n"
    ".sign { display: flex; gap: 8mm; margin-top: 7mm; }\n"
    ".sign div { border-top: 0.3mm solid #111; padding-top: 1mm; "
    "font-size: 7.5pt;\n  color: #555; }\n"
    ".sign .who { flex: 3; } .sign .date { flex: 1.4; } .sign .sig "
    "{ flex: 3; }\n"
    "@media print {\n"
    "  html, body { background: none; padding: 0; }\n"
    "  .card { width: auto; max-width: 186mm; margin: 0; padding: 0; "
    "box-shadow: none; }\n"
    "  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; "
    "}\n"
    "  .card, .armor, .top { break-inside: avoid; }\n"
    "}\n";

/*
 * One armored line for the page: data lines get their checksum in bold
 * (the text itself is unchanged, so selecting it copies the armor).
 */
static void
html_armor_line(struct buf *b, unsigned n, const char *s, size_t len)
{
	const char *two;

	bprintf(b, "<div class=\"l\" data-n=\"%u\">", n);
	two = len > 6 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' &&
	    s[1] <= '9' ? strstr(s, "  ") : NULL;
	if (two != NULL && (size_t)(two - s) < len) {
		besc(b, s, (size_t)(two - s) + 2);
		bstr(b, "<span class=\"sum\">");
		besc(b, two + 2, len - (size_t)(two + 2 - s));
		bstr(b, "</span>");
	} else
		besc(b, s, len);
	bstr(b, "</div>\n");
}

static void
html_field(struct buf *b, const char *name, const char *cls,
    const char *value)
{
	bstr(b, "<tr><th>");
	besc(b, name, strlen(name));
	bstr(b, "</th><td");
	if (cls != NULL)
		bprintf(b, " class=\"%s\"", cls);
	bstr(b, ">");
	besc(b, value, strlen(value));
	bstr(b, "</td></tr>\n");
}

enum kr_err
cer_card_html(const struct cer_armor *a, const char *text, size_t len,
    char **out, struct kr_error *err)
{
	const struct cer_armor_hdr *h = &a->hdr;
	struct buf b = { NULL, 0, 0, 0 };
	struct kr_error qerr = { 0 };
	char *lines = NULL, *svg = NULL, words[128], grp[96], grp2[48];
	const char *p, *nl, *what, *title;
	unsigned n = 0;
	enum kr_err rc;

	*out = NULL;
	if ((rc = cer_card_lines(text, len, &lines, err)) != KR_OK)
		return rc;
	/* A text too large for any QR code still gets a card. */
	(void)cer_card_qr_svg(lines, strlen(lines), QR_SIZE_MM, &svg, &qerr);
	what = h->kind == CER_KIND_OFFICER ? "Officer credential" :
	    "Backup share";
	title = card_title(h->kind);

	bstr(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width\">\n"
	    "<title>");
	besc(&b, title, strlen(title));
	bprintf(&b, " %u of %u: ", h->x, h->n);
	besc(&b, h->holder, strlen(h->holder));
	bstr(&b, "</title>\n<style>\n");
	bstr(&b, card_css);
	bstr(&b, "</style>\n</head>\n<body>\n<main class=\"card\">\n");

	bprintf(&b, "<header>\n<div><div class=\"kicker\">keyrite &middot; "
	    "paper copy &middot; format %u</div>\n<h1>%s</h1></div>\n",
	    h->version, what);
	bprintf(&b, "<div class=\"index\"><b>%u of %u</b><span>any %u %s"
	    "</span></div>\n</header>\n", h->x, h->n, h->k,
	    h->kind == CER_KIND_OFFICER ? "act together" : "restore");

	bstr(&b, "<section class=\"top\">\n<table class=\"fields\">\n");
	html_field(&b, "Holder", "holder", h->holder);
	snprintf(words, sizeof(words), "%u of %u, any %u %s", h->x, h->n,
	    h->k, h->kind == CER_KIND_OFFICER ? "act together" : "restore");
	html_field(&b, h->kind == CER_KIND_OFFICER ? "Credential" : "Share",
	    NULL, words);
	hex_grouped(h->set_id, CER_SET_ID_LEN, grp, sizeof(grp));
	html_field(&b, set_label(h->kind), "mono", grp);
	hex_grouped(h->secret_id, CER_SECRET_ID_LEN / 2, grp, sizeof(grp));
	hex_grouped(h->secret_id + CER_SECRET_ID_LEN / 2,
	    CER_SECRET_ID_LEN / 2, grp2, sizeof(grp2));
	bstr(&b, "<tr><th>Secret id</th><td class=\"mono\">");
	besc(&b, grp, strlen(grp));
	bstr(&b, "<br>");
	besc(&b, grp2, strlen(grp2));
	bstr(&b, "</td></tr>\n");
	kdf_words(h, words, sizeof(words));
	html_field(&b, "Key derivation", NULL, words);
	bstr(&b, "</table>\n");
	if (svg != NULL) {
		bstr(&b, "<figure class=\"qr\">\n");
		bstr(&b, svg);
		bstr(&b, "\n<figcaption>The same text as lines 1&ndash;");
		for (p = lines; *p != '\0'; p = nl + 1) {
			nl = strchr(p, '\n');
			n++;
		}
		bprintf(&b, "%u below</figcaption>\n</figure>\n", n);
		n = 0;
	} else {
		bstr(&b, "<div class=\"noqr\">This share is too large for a QR "
		    "code; type the text below.</div>\n");
	}
	bstr(&b, "</section>\n");

	bstr(&b, "<h2>Armored ");
	besc(&b, cer_kind_name(h->kind), strlen(cer_kind_name(h->kind)));
	bstr(&b, " <span>&mdash; type every line exactly as shown; case and "
	    "the spaces inside data lines do not matter</span></h2>\n"
	    "<div class=\"armor\">\n");
	for (p = lines; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		html_armor_line(&b, ++n, p, (size_t)(nl - p));
	}
	bstr(&b, "</div>\n");

	bstr(&b, "<section class=\"notes\">\n<div>\n"
	    "<p><b>To restore</b>, run <code>keyrite backup type-in --out "
	    "FILE</code> and type the lines as numbered. Each data line "
	    "carries its own checksum (in bold): a mistyped line is named "
	    "and asked for again, never corrected.</p>\n"
	    "<p>Data lines use 0&ndash;9 and A&ndash;Z without I, L, O and "
	    "U: every round character is the digit zero.</p>\n</div>\n<div>\n"
	    "<p><b>The QR code and the text carry the same data.</b> "
	    "Scanning the code gives the whole text, to save as a file.</p>\n"
	    "<p><b>The passphrase is never on this card.</b> The ");
	besc(&b, cer_kind_name(h->kind), strlen(cer_kind_name(h->kind)));
	bstr(&b, " is encrypted under it; keep this card sealed all the "
	    "same, and the passphrase elsewhere.</p>\n</div>\n</section>\n");

	bstr(&b, "<section class=\"sign\">\n"
	    "<div class=\"who\">Received by (name)</div>\n"
	    "<div class=\"date\">Date</div>\n"
	    "<div class=\"sig\">Signature</div>\n</section>\n");
	bstr(&b, "</main>\n</body>\n</html>\n");
	free(svg);
	free(lines);
	return bdone(&b, out, err);
}
