/*
 * report.c: the printable plan of a ceremony script and the report of
 * a ceremony from its transcript, as HTML and Markdown (see report.h).
 *
 * Nothing here trusts its input: a report may be rendered from a
 * transcript that was never verified, so every field may be missing or
 * of the wrong type, and every string is escaped for the format being
 * written.  The HTML is one file that prints well: inline CSS with
 * print rules, no script, nothing loaded from elsewhere.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "report.h"

/* Where output goes and in which format. */
struct w {
	FILE	*f;
	int	 md;
};

static const char css[] =
"@page{size:A4;margin:15mm 14mm 16mm}\n"
":root{--ink:#1c2128;--muted:#5d6672;--rule:#d3d8de;--accent:#1d4f7c;"
"--tint:#f1f5f9;--warn:#7a4d00;--warnbg:#fff4dc;--bad:#9b1c1c;"
"--badbg:#fdeceb;--ok:#1f6a3a;--okbg:#e7f4ec}\n"
"*{box-sizing:border-box}\n"
"html{font-family:\"Source Sans 3\",\"Source Sans Pro\",\"Helvetica Neue\","
"Helvetica,\"Liberation Sans\",Arial,sans-serif;font-size:10.5pt;"
"color:var(--ink);line-height:1.45;-webkit-print-color-adjust:exact;"
"print-color-adjust:exact}\n"
"body{margin:0 auto;max-width:186mm;padding:12mm 8mm 16mm;background:#fff}\n"
"h1{font-size:21pt;line-height:1.15;margin:1.5mm 0 3mm;font-weight:650;"
"letter-spacing:-.01em}\n"
"h2{font-size:10.5pt;text-transform:uppercase;letter-spacing:.1em;"
"color:var(--accent);border-bottom:1.2pt solid var(--accent);"
"padding-bottom:1.2mm;margin:8mm 0 3.5mm;break-after:avoid}\n"
"h3{font-size:12pt;margin:0;font-weight:650;line-height:1.25}\n"
"p{margin:0 0 2.5mm}\n"
".kicker{font-size:8.5pt;text-transform:uppercase;letter-spacing:.16em;"
"color:var(--muted);font-weight:600}\n"
".purpose{font-size:11pt;color:#333a44;max-width:160mm}\n"
".note{font-size:9pt;color:var(--muted)}\n"
"code,.mono{font-family:\"DejaVu Sans Mono\",\"Liberation Mono\",Menlo,"
"Consolas,monospace;font-size:8.8pt}\n"
"table{border-collapse:collapse;width:100%}\n"
"th,td{text-align:left;vertical-align:top;padding:1.5mm 2mm;"
"border-bottom:.6pt solid var(--rule)}\n"
"th{font-size:7.8pt;text-transform:uppercase;letter-spacing:.08em;"
"color:var(--muted);font-weight:650;border-bottom:.9pt solid #aab2bc}\n"
"table.meta th{width:34mm;text-transform:none;letter-spacing:0;"
"font-size:9pt;color:var(--muted);font-weight:600;"
"border-bottom:.6pt solid var(--rule)}\n"
".hash{font-family:\"DejaVu Sans Mono\",\"Liberation Mono\",Menlo,"
"monospace;font-size:9.6pt;letter-spacing:.03em;word-spacing:.2em}\n"
".readout{border:1pt solid var(--ink);border-radius:1.5mm;padding:3mm 4mm;"
"margin:4mm 0;break-inside:avoid}\n"
".readout .hash{font-size:13pt;line-height:1.6;display:block;"
"margin-top:1mm}\n"
".label{font-size:7.5pt;letter-spacing:.14em;text-transform:uppercase;"
"font-weight:700;color:var(--muted)}\n"
".step{border:.8pt solid var(--rule);border-radius:2mm;padding:3.5mm 4.5mm;"
"margin:0 0 4.5mm;break-inside:avoid;page-break-inside:avoid}\n"
".step.notrun{border-style:dashed;color:var(--muted)}\n"
".step-head{display:flex;align-items:center;gap:3mm;margin-bottom:2mm}\n"
".num{flex:none;width:7.5mm;height:7.5mm;border-radius:50%;"
"background:var(--accent);color:#fff;font-weight:700;font-size:10pt;"
"display:flex;align-items:center;justify-content:center}\n"
".notrun .num{background:#9aa3ad}\n"
".step-head .id{margin-left:auto;color:var(--muted);white-space:nowrap}\n"
".chip{display:inline-block;font-size:7.8pt;font-weight:700;"
"letter-spacing:.08em;text-transform:uppercase;padding:.4mm 2mm;"
"border-radius:1mm;background:var(--tint);color:var(--accent);"
"white-space:nowrap}\n"
".when{font-size:9pt;color:var(--muted);margin:-1mm 0 2mm 10.5mm}\n"
".say{background:var(--tint);border-left:2.6pt solid var(--accent);"
"padding:2.2mm 4mm 2.6mm;margin:2mm 0 3mm;font-family:Georgia,"
"\"DejaVu Serif\",\"Liberation Serif\",serif;font-size:11pt;"
"white-space:pre-line}\n"
".say .label{display:block;font-family:\"Helvetica Neue\",Helvetica,Arial,"
"sans-serif;color:var(--accent);margin-bottom:.6mm;white-space:normal}\n"
".fields{display:grid;grid-template-columns:27mm 1fr;gap:1.2mm 3mm;"
"font-size:9.6pt;margin:0 0 3mm}\n"
".fields>dt{color:var(--muted);font-weight:600}\n"
".fields>dd{margin:0}\n"
".params td{padding:.6mm 2mm .6mm 0;border:0}\n"
".params td:first-child{color:var(--muted);width:1%;white-space:nowrap}\n"
"table.boxes th{border-bottom:.9pt solid #aab2bc}\n"
"table.boxes td{height:9.5mm;vertical-align:middle}\n"
"table.boxes td.box{width:26mm;border:.8pt solid #8d96a1}\n"
"table.sign td{height:12mm;vertical-align:bottom}\n"
"table.sign td.box{border-bottom:.8pt solid #8d96a1}\n"
".sub{font-size:7.8pt;text-transform:uppercase;letter-spacing:.08em;"
"color:var(--muted);font-weight:650;margin:3mm 0 1mm}\n"
".banner{border-radius:1.5mm;padding:2.5mm 4mm;margin:3mm 0;"
"font-weight:600;break-inside:avoid}\n"
".banner b{letter-spacing:.08em}\n"
".rehearsal{background:repeating-linear-gradient(135deg,#fff4dc 0 6mm,"
"#ffeec4 6mm 12mm);color:var(--warn);border:1pt solid #e0b050}\n"
".live{background:var(--ink);color:#fff}\n"
".completed{background:var(--okbg);color:var(--ok);"
"border:1pt solid #9fd0b0}\n"
".aborted{background:var(--badbg);color:var(--bad);"
"border:1pt solid #e7a7a3}\n"
".verified{background:var(--okbg);color:var(--ok);"
"border:1pt solid #9fd0b0}\n"
".unverified{background:var(--badbg);color:var(--bad);"
"border:1pt solid #e7a7a3}\n"
".deviation{background:var(--warnbg);border-left:2.6pt solid #d29a2a;"
"padding:1.8mm 3mm;margin:2mm 0;font-size:9.6pt}\n"
".abort{background:var(--badbg);border-left:2.6pt solid var(--bad);"
"padding:1.8mm 3mm;margin:2mm 0;font-size:9.6pt;color:var(--bad)}\n"
".ok{color:var(--ok);font-weight:700;white-space:nowrap}\n"
".status{display:flex;gap:3mm;margin:3mm 0}\n"
".status>.banner{flex:1;margin:0}\n"
"table.boxes{table-layout:fixed}\n"
".bad{color:var(--bad);font-weight:700}\n"
".newpage{break-before:page;page-break-before:always}\n"
"footer{margin-top:10mm;padding-top:2mm;border-top:.6pt solid var(--rule);"
"font-size:8.5pt;color:var(--muted)}\n"
"@media screen{body{box-shadow:0 0 0 1px #e6e9ed}}\n"
"@media print{body{padding:0;max-width:none}"
".step,.readout,.banner,tr{break-inside:avoid;page-break-inside:avoid}"
"h2,h3,.sub{break-after:avoid;page-break-after:avoid}"
"footer{break-inside:avoid}}\n";

/* ---- Output ---- */

static void
raw(struct w *w, const char *s)
{
	fputs(s, w->f);
}

static void __attribute__((format(printf, 2, 3)))
rawf(struct w *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(w->f, fmt, ap);
	va_end(ap);
}

/*
 * Text from outside.  HTML: the five special characters as entities.
 * Markdown: every character with a meaning escaped with a backslash,
 * and with cell set (a table cell or heading), newlines as spaces.
 */
static void
text_x(struct w *w, const char *s, int cell)
{
	const char *c;

	if (s == NULL)
		return;
	for (c = s; *c != '\0'; c++) {
		if (!w->md) {
			switch (*c) {
			case '&': raw(w, "&amp;"); break;
			case '<': raw(w, "&lt;"); break;
			case '>': raw(w, "&gt;"); break;
			case '"': raw(w, "&quot;"); break;
			case '\'': raw(w, "&#39;"); break;
			default:
				if ((unsigned char)*c < 0x20 && *c != '\n' &&
				    *c != '\t')
					raw(w, "\xef\xbf\xbd");
				else
					fputc(*c, w->f);
			}
			continue;
		}
		if (*c == '\n' || *c == '\r') {
			raw(w, cell ? " " : "\n");
			continue;
		}
		if ((unsigned char)*c < 0x20 && *c != '\t') {
			raw(w, "\xef\xbf\xbd");
			continue;
		}
		if (strchr("\\`*_[]<>#|~&", *c) != NULL)
			fputc('\\', w->f);
		fputc(*c, w->f);
	}
}

static void
text(struct w *w, const char *s)
{
	text_x(w, s, 1);
}

/*
 * Text inside a code span (Markdown) or <code> (HTML): in Markdown no
 * backslash escapes work there, so a backtick becomes a quote, a pipe
 * is escaped for tables and a newline is a space.
 */
static void
code(struct w *w, const char *s)
{
	const char *c;

	if (!w->md || s == NULL) {
		text(w, s);
		return;
	}
	for (c = s; *c != '\0'; c++) {
		if (*c == '`')
			fputc('\'', w->f);
		else if (*c == '|')
			raw(w, "\\|");
		else if (*c == '\n' || *c == '\r')
			fputc(' ', w->f);
		else if ((unsigned char)*c < 0x20 && *c != '\t')
			raw(w, "\xef\xbf\xbd");
		else
			fputc(*c, w->f);
	}
}

/* Markdown block text: each line of s prefixed with prefix. */
static void
md_block(struct w *w, const char *prefix, const char *s)
{
	const char *c, *e;
	char *line;

	raw(w, prefix);
	for (c = s; c != NULL && *c != '\0'; c = e + 1) {
		e = strchr(c, '\n');
		if ((line = strndup(c, e ? (size_t)(e - c) :
		    strlen(c))) == NULL)
			return;
		text_x(w, line, 1);
		free(line);
		if (e == NULL || e[1] == '\0')
			break;
		rawf(w, "\n%s", prefix);
	}
	raw(w, "\n");
}

/* A JSON object's string field, or "" (so a bad entry renders empty). */
static const char *
js(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/*
 * Hex as upper-case groups of four, a line break (HTML) or two spaces
 * (Markdown) after every eighth group, for reading aloud.  Anything
 * that is not hex is printed escaped, as it is.
 */
static void
hex_grouped(struct w *w, const char *hex)
{
	size_t i, n = strlen(hex);

	for (i = 0; i < n; i++)
		if (strchr("0123456789abcdefABCDEF", hex[i]) == NULL) {
			code(w, hex);
			return;
		}
	for (i = 0; i < n; i++) {
		if (i > 0 && i % 32 == 0)
			raw(w, w->md ? "  " : "<br>");
		else if (i > 0 && i % 4 == 0)
			raw(w, " ");
		fputc(hex[i] >= 'a' ? hex[i] - 'a' + 'A' : hex[i], w->f);
	}
}

/* SHA-256 fingerprint of an Ed25519 public key given as hex. */
static void
key_fpr(struct w *w, const char *pkhex)
{
	uint8_t pk[32];
	char fpr[KR_FPR_LEN];
	size_t n = 0, i, j;

	if (sodium_hex2bin(pk, sizeof(pk), pkhex, strlen(pkhex), NULL, &n,
	    NULL) != 0 || n != sizeof(pk)) {
		code(w, pkhex);
		return;
	}
	kr_fingerprint(pk, sizeof(pk), fpr);
	for (i = 0, j = 0; fpr[i] != '\0'; i++)
		if (fpr[i] != ' ')
			fpr[j++] = fpr[i];
	fpr[j] = '\0';
	hex_grouped(w, fpr);
}

/* "2026-03-01T10:00:00Z" as "10:00:00" (or the date too). */
static void
time_of(struct w *w, const char *iso, int with_date)
{
	if (strlen(iso) != 20 || iso[10] != 'T') {
		text(w, iso);
		return;
	}
	if (with_date)
		rawf(w, "%.10s ", iso);
	rawf(w, "%.8s UTC", iso + 11);
}

static void
duration(struct w *w, long long s)
{
	if (s < 0)
		return;
	if (s < 60)
		rawf(w, "%lld s", s);
	else if (s < 3600)
		rawf(w, "%lld min %02lld s", s / 60, s % 60);
	else
		rawf(w, "%lld h %02lld min", s / 3600, s % 3600 / 60);
}

/* ---- Script helpers ---- */

static const char *
role_title(const struct cer_script *s, const char *id)
{
	const struct cer_role *r = s != NULL ? cer_script_role(s, id) : NULL;

	return r != NULL && r->title != NULL ? r->title : id;
}

static const struct cer_step *
script_step(const struct cer_script *s, const char *id, size_t *num)
{
	size_t i;

	for (i = 0; s != NULL && i < s->nsteps; i++)
		if (s->steps[i].id != NULL && strcmp(s->steps[i].id, id) == 0) {
			*num = i + 1;
			return &s->steps[i];
		}
	return NULL;
}

/* Is name already in roles 0..r-1 (so the sign-off lists it once)? */
static int
seen_before(const struct cer_script *s, size_t r, size_t p)
{
	const char *name = s->roles[r].participants[p];
	size_t i, j;

	for (i = 0; i <= r; i++)
		for (j = 0; j < (i == r ? p : s->roles[i].nparticipants); j++)
			if (strcmp(s->roles[i].participants[j], name) == 0)
				return 1;
	return 0;
}

/* Every role name holds, joined by ", ". */
static void
roles_of(struct w *w, const struct cer_script *s, const char *name)
{
	size_t i, j;
	int n = 0;

	for (i = 0; i < s->nroles; i++)
		for (j = 0; j < s->roles[i].nparticipants; j++)
			if (strcmp(s->roles[i].participants[j], name) == 0) {
				if (n++ > 0)
					raw(w, ", ");
				text(w, role_title(s, s->roles[i].id));
			}
}

static void
participants(struct w *w, const struct cer_role *r)
{
	size_t i;

	for (i = 0; i < r->nparticipants; i++) {
		if (i > 0)
			raw(w, ", ");
		text(w, r->participants[i]);
	}
}

static void
param_value(struct w *w, const struct cer_param *p)
{
	size_t i;

	if (p->value != NULL) {
		code(w, p->value);
		return;
	}
	for (i = 0; i < p->nlist; i++) {
		if (i > 0)
			raw(w, ", ");
		code(w, p->list[i]);
	}
}

static enum kr_err
finish(struct w *w, struct kr_error *err)
{
	if (fflush(w->f) != 0 || ferror(w->f))
		return kr_fail(err, KR_E_IO, "writing the report failed");
	return KR_OK;
}

/*
 * A CSS string: ASCII that could end the string, the rule or the
 * <style> element as escapes; UTF-8 as it is.
 */
static void
css_str(struct w *w, const char *s)
{
	const unsigned char *c;

	for (c = (const unsigned char *)s; *c != '\0'; c++)
		if (*c >= 0x80 || (*c >= 'a' && *c <= 'z') ||
		    (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    strchr(" .,-_:()", *c) != NULL)
			fputc(*c, w->f);
		else
			rawf(w, "\\%x ", *c);
}

/*
 * The head, with the page footer every printed page carries: what the
 * document is and the start of the hash it is about, and page numbers,
 * so a loose page can be put back where it belongs.
 */
static void
html_head(struct w *w, const char *kind, const char *title,
    const char *hash_label, const char *hash)
{
	size_t i;

	raw(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width\">\n"
	    "<title>");
	text(w, title);
	rawf(w, " \xe2\x80\x94 %s</title>\n<style>\n%s", kind, css);
	raw(w, "@page{@bottom-left{content:\"");
	css_str(w, title);
	rawf(w, " \xc2\xb7 %s", kind);
	if (hash != NULL && strlen(hash) >= 16) {
		rawf(w, " \xc2\xb7 %s ", hash_label);
		for (i = 0; i < 16; i++) {
			if (i > 0 && i % 4 == 0)
				raw(w, " ");
			fputc(toupper((unsigned char)hash[i]), w->f);
		}
		raw(w, "\xe2\x80\xa6");
	}
	raw(w, "\";font-size:7.5pt;color:#5d6672}"
	    "@bottom-right{content:\"Page \" counter(page) \" of \" "
	    "counter(pages);font-size:7.5pt;color:#5d6672}}\n"
	    "</style>\n</head>\n<body>\n");
}

/* ---- The plan ---- */

static void
plan_step_html(struct w *w, const struct cer_script *s, size_t i)
{
	const struct cer_step *st = &s->steps[i];
	const struct cer_role *r;
	size_t j;

	rawf(w, "<section class=\"step\">\n<div class=\"step-head\">"
	    "<span class=\"num\">%zu</span><h3>", i + 1);
	text(w, st->title != NULL ? st->title : st->id);
	raw(w, "</h3><span class=\"chip\">");
	text(w, cer_action_name(st->action));
	raw(w, "</span><code class=\"id\">");
	text(w, st->id);
	raw(w, "</code></div>\n");
	if (st->say != NULL) {
		raw(w, "<div class=\"say\"><span class=\"label\">Read aloud"
		    "</span>");
		text(w, st->say);
		raw(w, "</div>\n");
	}
	raw(w, "<dl class=\"fields\">\n");
	if (st->nwith > 0) {
		raw(w, "<dt>Parameters</dt><dd><table class=\"params\">");
		for (j = 0; j < st->nwith; j++) {
			raw(w, "<tr><td>");
			text(w, st->with[j].name);
			raw(w, "</td><td><code>");
			param_value(w, &st->with[j]);
			raw(w, "</code></td></tr>");
		}
		raw(w, "</table></dd>\n");
	}
	if (st->noutputs > 0) {
		raw(w, "<dt>Outputs</dt><dd>");
		for (j = 0; j < st->noutputs; j++) {
			raw(w, j > 0 ? ", <code>" : "<code>");
			text(w, st->outputs[j]);
			raw(w, "</code>");
		}
		raw(w, "</dd>\n");
	}
	raw(w, "</dl>\n<table class=\"boxes\"><thead><tr><th style=\""
	    "width:32%\">Confirmed by</th><th>Participants</th><th style=\""
	    "width:26mm\">Initial</th><th style=\"width:26mm\">Time</th>"
	    "</tr></thead><tbody>\n");
	for (j = 0; j < st->nconfirm || (j == 0 && st->nconfirm == 0); j++) {
		r = st->nconfirm > 0 ? cer_script_role(s, st->confirm[j]) :
		    cer_script_role(s, CER_ROLE_ADMIN);
		raw(w, "<tr><td>");
		text(w, st->nconfirm > 0 ? role_title(s, st->confirm[j]) :
		    role_title(s, CER_ROLE_ADMIN));
		raw(w, "</td><td class=\"note\">");
		if (r != NULL)
			participants(w, r);
		raw(w, "</td><td class=\"box\"></td><td class=\"box\"></td>"
		    "</tr>\n");
	}
	raw(w, "</tbody></table>\n</section>\n");
}

enum kr_err
cer_plan_html(const struct cer_script *s, FILE *out, struct kr_error *err)
{
	struct w w = { out, 0 };
	const char *title = s->title != NULL ? s->title : s->name;
	char hx[65];
	size_t i, j;

	kr_hex(s->sha256, sizeof(s->sha256), hx);
	html_head(&w, "ceremony script", title, "SHA-256", hx);
	raw(&w, "<header>\n<div class=\"kicker\">keyrite \xc2\xb7 Key ceremony "
	    "script</div>\n<h1>");
	text(&w, title);
	raw(&w, "</h1>\n");
	if (s->purpose != NULL) {
		raw(&w, "<p class=\"purpose\">");
		text(&w, s->purpose);
		raw(&w, "</p>\n");
	}
	raw(&w, "<table class=\"meta\">\n<tr><th>Script</th><td><code>");
	text(&w, s->name);
	raw(&w, "</code>");
	if (s->source != NULL) {
		raw(&w, " <span class=\"note\">from ");
		text(&w, s->source);
		raw(&w, "</span>");
	}
	rawf(&w, "</td></tr>\n<tr><th>Steps</th><td>%zu</td></tr>\n",
	    s->nsteps);
	raw(&w, "</table>\n<div class=\"readout\"><span class=\"label\">Script "
	    "SHA-256 \xe2\x80\x94 compare with the screen before step 1</span>"
	    "<span class=\"hash\">");
	hex_grouped(&w, hx);
	raw(&w, "</span></div>\n</header>\n");

	raw(&w, "<h2>Roles</h2>\n<table>\n<thead><tr><th>Role</th><th>Id</th>"
	    "<th>Participants</th><th>Quorum</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < s->nroles; i++) {
		raw(&w, "<tr><td>");
		text(&w, role_title(s, s->roles[i].id));
		raw(&w, "</td><td><code>");
		text(&w, s->roles[i].id);
		raw(&w, "</code></td><td>");
		participants(&w, &s->roles[i]);
		raw(&w, "</td><td>");
		if (s->roles[i].threshold > 0)
			rawf(&w, "%u of %zu", s->roles[i].threshold,
			    s->roles[i].nparticipants);
		raw(&w, "</td></tr>\n");
	}
	raw(&w, "</tbody>\n</table>\n");

	raw(&w, "<h2>Sign-off</h2>\n<p class=\"note\">Each participant signs "
	    "before step 1: I have read this script, its SHA-256 above "
	    "matches the one on the screen, and I am here in the role "
	    "shown.</p>\n<table class=\"sign\">\n<thead><tr><th>Name</th>"
	    "<th>Role</th><th style=\"width:38%\">Signature</th>"
	    "<th style=\"width:18%\">Date</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < s->nroles; i++)
		for (j = 0; j < s->roles[i].nparticipants; j++) {
			if (seen_before(s, i, j))
				continue;
			raw(&w, "<tr><td>");
			text(&w, s->roles[i].participants[j]);
			raw(&w, "</td><td>");
			roles_of(&w, s, s->roles[i].participants[j]);
			raw(&w, "</td><td class=\"box\"></td>"
			    "<td class=\"box\"></td></tr>\n");
		}
	raw(&w, "</tbody>\n</table>\n");

	raw(&w, "<h2 class=\"newpage\">Steps</h2>\n");
	for (i = 0; i < s->nsteps; i++)
		plan_step_html(&w, s, i);
	raw(&w, "<footer>Printed by keyrite from the script above.  The "
	    "ceremony follows this plan step by step; anything done "
	    "differently is recorded as a deviation in the transcript."
	    "</footer>\n</body>\n</html>\n");
	return finish(&w, err);
}

enum kr_err
cer_plan_md(const struct cer_script *s, FILE *out, struct kr_error *err)
{
	struct w w = { out, 1 };
	const struct cer_step *st;
	const struct cer_role *r;
	char hx[65];
	size_t i, j;

	kr_hex(s->sha256, sizeof(s->sha256), hx);
	raw(&w, "# ");
	text(&w, s->title != NULL ? s->title : s->name);
	raw(&w, "\n\n*Key ceremony script*\n\n");
	if (s->purpose != NULL) {
		md_block(&w, "", s->purpose);
		raw(&w, "\n");
	}
	raw(&w, "| | |\n| --- | --- |\n| Script | `");
	code(&w, s->name);
	raw(&w, "` |\n");
	if (s->source != NULL) {
		raw(&w, "| File | ");
		text(&w, s->source);
		raw(&w, " |\n");
	}
	raw(&w, "| SHA-256 | ");
	hex_grouped(&w, hx);
	rawf(&w, " |\n| Steps | %zu |\n\n## Roles\n\n| Role | Id | "
	    "Participants | Quorum |\n| --- | --- | --- | --- |\n", s->nsteps);
	for (i = 0; i < s->nroles; i++) {
		raw(&w, "| ");
		text(&w, role_title(s, s->roles[i].id));
		raw(&w, " | ");
		text(&w, s->roles[i].id);
		raw(&w, " | ");
		participants(&w, &s->roles[i]);
		raw(&w, " | ");
		if (s->roles[i].threshold > 0)
			rawf(&w, "%u of %zu", s->roles[i].threshold,
			    s->roles[i].nparticipants);
		raw(&w, " |\n");
	}
	raw(&w, "\n## Sign-off\n\nEach participant signs before step 1: I "
	    "have read this script, its SHA-256 above matches the one on the "
	    "screen, and I am here in the role shown.\n\n| Name | Role | "
	    "Signature | Date |\n| --- | --- | --- | --- |\n");
	for (i = 0; i < s->nroles; i++)
		for (j = 0; j < s->roles[i].nparticipants; j++) {
			if (seen_before(s, i, j))
				continue;
			raw(&w, "| ");
			text(&w, s->roles[i].participants[j]);
			raw(&w, " | ");
			roles_of(&w, s, s->roles[i].participants[j]);
			raw(&w, " | | |\n");
		}
	raw(&w, "\n## Steps\n");
	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		rawf(&w, "\n### %zu. ", i + 1);
		text(&w, st->title != NULL ? st->title : st->id);
		raw(&w, "\n\nStep `");
		code(&w, st->id);
		raw(&w, "`, action **");
		text(&w, cer_action_name(st->action));
		raw(&w, "**\n\n");
		if (st->say != NULL) {
			raw(&w, "> **Read aloud:**\n>\n");
			md_block(&w, "> ", st->say);
			raw(&w, "\n");
		}
		for (j = 0; j < st->nwith; j++) {
			raw(&w, "- ");
			text(&w, st->with[j].name);
			raw(&w, ": `");
			param_value(&w, &st->with[j]);
			raw(&w, "`\n");
		}
		for (j = 0; j < st->noutputs; j++) {
			raw(&w, "- output: `");
			code(&w, st->outputs[j]);
			raw(&w, "`\n");
		}
		if (st->nwith > 0 || st->noutputs > 0)
			raw(&w, "\n");
		raw(&w, "| Confirmed by | Participants | Initial | Time |\n"
		    "| --- | --- | --- | --- |\n");
		for (j = 0; j < st->nconfirm || (j == 0 && st->nconfirm == 0);
		    j++) {
			const char *id = st->nconfirm > 0 ? st->confirm[j] :
			    CER_ROLE_ADMIN;

			r = cer_script_role(s, id);
			raw(&w, "| ");
			text(&w, role_title(s, id));
			raw(&w, " | ");
			if (r != NULL)
				participants(&w, r);
			raw(&w, " | | |\n");
		}
	}
	return finish(&w, err);
}

/* ---- The report ---- */

/* One step as the transcript tells it. */
struct sview {
	const json_t	*start;		/* the step-start entry */
	const json_t	*end;		/* step-end, or NULL */
	json_t		*items;		/* the entries in between */
	size_t		 num;		/* in the script, or in order */
};

struct rview {
	const json_t	*begin, *end, *abort;
	struct sview	*steps;
	size_t		 nsteps;
	json_t		*loose;		/* entries outside any step */
	json_t		*sigs;
	json_t		*officers;	/* name -> hex key */
};

static void
rview_free(struct rview *rv)
{
	size_t i;

	for (i = 0; i < rv->nsteps; i++)
		json_decref(rv->steps[i].items);
	free(rv->steps);
	json_decref(rv->loose);
	json_decref(rv->sigs);
	json_decref(rv->officers);
}

static struct sview *
find_step(struct rview *rv, const char *id)
{
	size_t i;

	for (i = rv->nsteps; i-- > 0;)
		if (strcmp(js(rv->steps[i].start, "step"), id) == 0)
			return &rv->steps[i];
	return NULL;
}

/* Group the entries by step. */
static enum kr_err
rview_build(struct rview *rv, const struct cer_script *s, json_t *entries,
    struct kr_error *err)
{
	const char *type, *name;
	struct sview *sv;
	json_t *e, *o;
	size_t i, j, n = json_array_size(entries);

	memset(rv, 0, sizeof(*rv));
	rv->loose = json_array();
	rv->sigs = json_array();
	rv->officers = json_object();
	rv->steps = calloc(n + 1, sizeof(*rv->steps));
	if (rv->loose == NULL || rv->sigs == NULL || rv->officers == NULL ||
	    rv->steps == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	json_array_foreach(entries, i, e) {
		type = js(e, "type");
		if (strcmp(type, "begin") == 0 && rv->begin == NULL) {
			rv->begin = e;
			continue;
		}
		if (strcmp(type, "end") == 0) {
			rv->end = e;
			continue;
		}
		if (strcmp(type, "signature") == 0) {
			json_array_append(rv->sigs, e);
			continue;
		}
		if (strcmp(type, "step-start") == 0) {
			sv = &rv->steps[rv->nsteps++];
			sv->start = e;
			if ((sv->items = json_array()) == NULL)
				return kr_fail(err, KR_E_NOMEM,
				    "out of memory");
			if (script_step(s, js(e, "step"), &sv->num) == NULL)
				sv->num = rv->nsteps;
			continue;
		}
		if (strcmp(type, "abort") == 0)
			rv->abort = e;
		if (strcmp(type, "officers") == 0)
			json_array_foreach(json_object_get(e, "officers"), j,
			    o)
				if ((name = json_string_value(json_object_get(
				    o, "name"))) != NULL)
					json_object_set(rv->officers, name,
					    json_object_get(o, "ed25519"));
		sv = find_step(rv, js(e, "step"));
		if (strcmp(type, "step-end") == 0 && sv != NULL) {
			sv->end = e;
			continue;
		}
		json_array_append(sv != NULL ? sv->items : rv->loose, e);
	}
	return KR_OK;
}

static const char *
header_title(const struct cer_script *s, const struct rview *rv)
{
	if (s != NULL && s->title != NULL)
		return s->title;
	if (*js(rv->begin, "title") != '\0')
		return js(rv->begin, "title");
	if (*js(rv->begin, "script") != '\0')
		return js(rv->begin, "script");
	return "Key ceremony";
}

static long long
elapsed(const json_t *a, const json_t *b)
{
	time_t t0 = kr_parse_time(js(a, "time"));
	time_t t1 = kr_parse_time(js(b, "time"));

	return a == NULL || b == NULL || t0 == -1 || t1 == -1 || t1 < t0 ?
	    -1 : (long long)(t1 - t0);
}

static const char *
step_title(const struct cer_script *s, const json_t *e)
{
	const struct cer_step *st;
	size_t num;

	if (*js(e, "title") != '\0')
		return js(e, "title");
	st = script_step(s, js(e, "step"), &num);
	return st != NULL && st->title != NULL ? st->title : js(e, "step");
}

/* One table row: cells joined for the format. */
static void
row(struct w *w, int part)
{
	static const char *const html[] = { "<tr><td>", "</td><td>",
	    "</td></tr>\n" };
	static const char *const md[] = { "| ", " | ", " |\n" };

	raw(w, w->md ? md[part] : html[part]);
}

/*
 * The begin entry's participants, by role: either [{"role":R,"name":N},
 * ...] (what the runner writes) or {"R":[N, ...], ...}.
 */
static void
report_participants(struct w *w, const struct cer_script *s, const json_t *p)
{
	const char *role;
	json_t *names, *n, *e2;
	size_t i, j, k;
	int first;

	if ((!json_is_object(p) && !json_is_array(p)) ||
	    (json_is_object(p) && json_object_size(p) == 0) ||
	    (json_is_array(p) && json_array_size(p) == 0))
		return;
	raw(w, w->md ? "\n## Participants\n\n| Role | Participants |\n"
	    "| --- | --- |\n" : "<h2>Participants</h2>\n<table>\n<thead><tr>"
	    "<th>Role</th><th>Participants</th></tr></thead>\n<tbody>\n");
	json_object_foreach((json_t *)p, role, names) {
		row(w, 0);
		text(w, role_title(s, role));
		row(w, 1);
		json_array_foreach(names, i, n) {
			if (i > 0)
				raw(w, ", ");
			text(w, json_string_value(n));
		}
		row(w, 2);
	}
	json_array_foreach(p, i, names) {
		role = js(names, "role");
		for (j = 0; j < i; j++)
			if (strcmp(js(json_array_get(p, j), "role"), role) == 0)
				break;
		if (j < i)
			continue;	/* this role has its row already */
		row(w, 0);
		text(w, role_title(s, role));
		row(w, 1);
		first = 1;
		for (k = i; k < json_array_size(p); k++) {
			e2 = json_array_get(p, k);
			if (strcmp(js(e2, "role"), role) != 0)
				continue;
			if (!first)
				raw(w, ", ");
			first = 0;
			text(w, js(e2, "name"));
		}
		row(w, 2);
	}
	if (!w->md)
		raw(w, "</tbody>\n</table>\n");
}

/* Entries of one type in items, as a table with the given columns. */
static void
items_table_html(struct w *w, const struct cer_script *s, json_t *items,
    const char *type)
{
	json_t *e;
	size_t i;
	int n = 0;

	json_array_foreach(items, i, e) {
		if (strcmp(js(e, "type"), type) != 0)
			continue;
		if (n++ == 0) {
			if (strcmp(type, "confirm") == 0)
				raw(w, "<div class=\"sub\">Confirmations</div>"
				    "<table><thead><tr><th>Who</th><th>Role"
				    "</th><th>Time</th></tr></thead><tbody>\n");
			else if (strcmp(type, "output") == 0)
				raw(w, "<div class=\"sub\">Outputs</div><table>"
				    "<thead><tr><th>File</th><th>SHA-256</th>"
				    "</tr></thead><tbody>\n");
			else if (strcmp(type, "key") == 0)
				raw(w, "<div class=\"sub\">Keys</div><table>"
				    "<thead><tr><th>Label</th><th>Fingerprint"
				    "</th></tr></thead><tbody>\n");
			else
				raw(w, "<div class=\"sub\">Officers' keys</div>"
				    "<table><thead><tr><th>Officer</th><th>"
				    "Ed25519 key, SHA-256 fingerprint</th></tr>"
				    "</thead><tbody>\n");
		}
		if (strcmp(type, "confirm") == 0) {
			raw(w, "<tr><td>");
			text(w, js(e, "who"));
			raw(w, "</td><td>");
			text(w, role_title(s, js(e, "role")));
			raw(w, "</td><td>");
			time_of(w, js(e, "time"), 0);
			raw(w, "</td></tr>\n");
		} else if (strcmp(type, "output") == 0) {
			raw(w, "<tr><td><code>");
			text(w, js(e, "path"));
			raw(w, "</code></td><td class=\"hash\">");
			hex_grouped(w, js(e, "sha256"));
			raw(w, "</td></tr>\n");
		} else if (strcmp(type, "key") == 0) {
			raw(w, "<tr><td><code>");
			text(w, js(e, "label"));
			raw(w, "</code></td><td><span class=\"hash\">");
			text(w, js(e, "fingerprint"));
			raw(w, "</span><br><span class=\"note\">SPKI SHA-256"
			    "</span> <span class=\"hash\">");
			hex_grouped(w, js(e, "spki_sha256"));
			raw(w, "</span></td></tr>\n");
		} else {
			json_t *o;
			size_t j;

			json_array_foreach(json_object_get(e, "officers"), j,
			    o) {
				raw(w, "<tr><td>");
				text(w, js(o, "name"));
				raw(w, "</td><td class=\"hash\">");
				key_fpr(w, js(o, "ed25519"));
				raw(w, "</td></tr>\n");
			}
		}
	}
	if (n > 0)
		raw(w, "</tbody></table>\n");
}

/* say, record, deviation and abort entries, in their order. */
static void
items_text_html(struct w *w, json_t *items)
{
	const char *type;
	json_t *e;
	size_t i;

	json_array_foreach(items, i, e) {
		type = js(e, "type");
		if (strcmp(type, "say") == 0) {
			raw(w, "<div class=\"say\"><span class=\"label\">Read "
			    "aloud</span>");
			text(w, js(e, "text"));
			raw(w, "</div>\n");
		} else if (strcmp(type, "record") == 0) {
			raw(w, "<p><span class=\"label\">Recorded</span> ");
			text(w, js(e, "text"));
			if (*js(e, "file") != '\0') {
				raw(w, "<br><code>");
				text(w, js(e, "file"));
				raw(w, "</code> <span class=\"hash\">");
				hex_grouped(w, js(e, "sha256"));
				raw(w, "</span>");
			}
			raw(w, "</p>\n");
		} else if (strcmp(type, "deviation") == 0) {
			raw(w, "<div class=\"deviation\"><b>Deviation</b> (");
			time_of(w, js(e, "time"), 0);
			raw(w, "): ");
			text(w, js(e, "text"));
			raw(w, "</div>\n");
		} else if (strcmp(type, "abort") == 0) {
			raw(w, "<div class=\"abort\"><b>Ceremony aborted "
			    "here</b> (");
			time_of(w, js(e, "time"), 0);
			raw(w, "): ");
			text(w, js(e, "reason"));
			raw(w, "</div>\n");
		}
	}
}

/*
 * The words the script has for the step, when the transcript has no
 * say entry for it (the runner may not log them): NULL otherwise.
 */
static const char *
script_say(const struct cer_script *s, const struct sview *sv)
{
	const struct cer_step *st;
	json_t *e;
	size_t i, num;

	json_array_foreach(sv->items, i, e)
		if (strcmp(js(e, "type"), "say") == 0)
			return NULL;
	st = script_step(s, js(sv->start, "step"), &num);
	return st != NULL ? st->say : NULL;
}

static void
report_step_html(struct w *w, const struct cer_script *s,
    const struct sview *sv)
{
	const char *say;

	rawf(w, "<section class=\"step\">\n<div class=\"step-head\">"
	    "<span class=\"num\">%zu</span><h3>", sv->num);
	text(w, step_title(s, sv->start));
	raw(w, "</h3>");
	if (*js(sv->start, "action") != '\0') {
		raw(w, "<span class=\"chip\">");
		text(w, js(sv->start, "action"));
		raw(w, "</span>");
	}
	raw(w, "<code class=\"id\">");
	text(w, js(sv->start, "step"));
	raw(w, "</code></div>\n<div class=\"when\">Started ");
	time_of(w, js(sv->start, "time"), 0);
	if (sv->end != NULL) {
		raw(w, " \xc2\xb7 took ");
		duration(w, json_integer_value(json_object_get(sv->end,
		    "seconds")));
	} else
		raw(w, " \xc2\xb7 <b>not finished</b>");
	raw(w, "</div>\n");
	if ((say = script_say(s, sv)) != NULL) {
		raw(w, "<div class=\"say\"><span class=\"label\">Read aloud"
		    "</span>");
		text(w, say);
		raw(w, "</div>\n");
	}
	items_text_html(w, sv->items);
	items_table_html(w, s, sv->items, "confirm");
	items_table_html(w, s, sv->items, "officers");
	items_table_html(w, s, sv->items, "output");
	items_table_html(w, s, sv->items, "key");
	raw(w, "</section>\n");
}

static void
report_header_html(struct w *w, const struct cer_script *s,
    const struct rview *rv, const struct cer_verify *v)
{
	const char *mode = js(rv->begin, "mode");
	const char *status = js(rv->end, "status");
	char hx[65];
	size_t num = 0;
	const struct cer_step *st;

	raw(w, "<header>\n<div class=\"kicker\">keyrite \xc2\xb7 Key ceremony "
	    "report</div>\n<h1>");
	text(w, header_title(s, rv));
	raw(w, "</h1>\n");
	if (strcmp(mode, "live") == 0)
		raw(w, "<div class=\"banner live\"><b>LIVE CEREMONY</b> "
		    "\xe2\x80\x94 the keys and certificates recorded here are the real "
		    "ones.</div>\n");
	else {
		raw(w, "<div class=\"banner rehearsal\"><b>REHEARSAL</b> \xe2"
		    "\x80\x94 a practice run; nothing made here is to be "
		    "trusted or used.");
		if (strcmp(mode, "rehearsal") != 0) {
			raw(w, " (mode: ");
			text(w, mode);
			raw(w, ")");
		}
		raw(w, "</div>\n");
	}
	raw(w, "<div class=\"status\">");
	if (strcmp(status, "completed") == 0 && rv->abort == NULL)
		raw(w, "<div class=\"banner completed\"><b>COMPLETED</b> "
		    "\xe2\x80\x94 every step was carried out.</div>\n");
	else if (rv->abort != NULL) {
		st = script_step(s, js(rv->abort, "step"), &num);
		raw(w, "<div class=\"banner aborted\"><b>ABORTED</b> at step ");
		if (num > 0)
			rawf(w, "%zu, ", num);
		text(w, st != NULL && st->title != NULL ? st->title :
		    js(rv->abort, "step"));
		raw(w, ": ");
		text(w, js(rv->abort, "reason"));
		raw(w, "</div>\n");
	} else
		raw(w, "<div class=\"banner aborted\"><b>INCOMPLETE</b> \xe2"
		    "\x80\x94 the transcript has no end entry.</div>\n");
	if (v != NULL) {
		rawf(w, "<div class=\"banner verified\"><b>VERIFIED</b> "
		    "\xe2\x80\x94 hash chain of %zu entries intact, %zu "
		    "signature%s valid, ", v->entries, v->signatures,
		    v->signatures == 1 ? "" : "s");
		if (v->outputs == 0)
			raw(w, "no output files to check.</div>\n");
		else
			rawf(w, "%zu output file%s match%s.</div>\n",
			    v->outputs, v->outputs == 1 ? "" : "s",
			    v->outputs == 1 ? "es" : "");
	}
	else
		raw(w, "<div class=\"banner unverified\"><b>NOT VERIFIED</b> "
		    "\xe2\x80\x94 run <code>keyrite ceremony verify</code> "
		    "before relying on this report.</div>\n");
	raw(w, "</div>\n");
	if (s != NULL && s->purpose != NULL) {
		raw(w, "<p class=\"purpose\">");
		text(w, s->purpose);
		raw(w, "</p>\n");
	}

	raw(w, "<table class=\"meta\">\n<tr><th>Script</th><td><code>");
	text(w, js(rv->begin, "script"));
	raw(w, "</code></td></tr>\n<tr><th>Script SHA-256</th>"
	    "<td class=\"hash\">");
	if (s != NULL) {
		kr_hex(s->sha256, sizeof(s->sha256), hx);
		hex_grouped(w, hx);
	} else
		hex_grouped(w, js(rv->begin, "sha256"));
	raw(w, "</td></tr>\n<tr><th>Started</th><td>");
	time_of(w, js(rv->begin, "time"), 1);
	raw(w, "</td></tr>\n<tr><th>Ended</th><td>");
	if (rv->end != NULL) {
		time_of(w, js(rv->end, "time"), 1);
		raw(w, " <span class=\"note\">(");
		duration(w, elapsed(rv->begin, rv->end));
		raw(w, ")</span>");
	}
	raw(w, "</td></tr>\n</table>\n");
	if (v != NULL) {
		raw(w, "<div class=\"readout\"><span class=\"label\">Final "
		    "hash (BLAKE2b-256 of the end entry) \xe2\x80\x94 the "
		    "signatures sign this; read it aloud</span>"
		    "<span class=\"hash\">");
		hex_grouped(w, v->final_hash);
		raw(w, "</span></div>\n");
	}
	raw(w, "</header>\n");
}

enum kr_err
cer_report_html(const struct cer_script *s, json_t *entries,
    const struct cer_verify *v, FILE *out, struct kr_error *err)
{
	struct w w = { out, 0 };
	struct rview rv;
	const char *rec;
	size_t i, j, num;
	json_t *e;
	enum kr_err rc;

	if ((rc = rview_build(&rv, s, entries, err)) != KR_OK)
		goto out;
	html_head(&w, "ceremony report", header_title(s, &rv), "final hash",
	    v != NULL ? v->final_hash : NULL);
	report_header_html(&w, s, &rv, v);
	report_participants(&w, s, json_object_get(rv.begin,
	    "participants"));
	raw(&w, "<h2>Steps</h2>\n");
	for (i = 0; i < rv.nsteps; i++)
		report_step_html(&w, s, &rv.steps[i]);
	for (i = 0; s != NULL && i < s->nsteps; i++) {
		if (find_step(&rv, s->steps[i].id) != NULL)
			continue;
		rawf(&w, "<section class=\"step notrun\"><div class=\"step-head"
		    "\"><span class=\"num\">%zu</span><h3>", i + 1);
		text(&w, s->steps[i].title != NULL ? s->steps[i].title :
		    s->steps[i].id);
		raw(&w, "</h3><span class=\"chip\">not performed</span>"
		    "<code class=\"id\">");
		text(&w, s->steps[i].id);
		raw(&w, "</code></div></section>\n");
	}
	if (json_array_size(rv.loose) > 0) {
		raw(&w, "<h2>Outside any step</h2>\n");
		items_text_html(&w, rv.loose);
		items_table_html(&w, s, rv.loose, "confirm");
		items_table_html(&w, s, rv.loose, "output");
		items_table_html(&w, s, rv.loose, "key");
	}

	raw(&w, "<h2>Signatures</h2>\n<p class=\"note\">Each officer signed "
	    "the final hash with the Ed25519 key recorded for them during "
	    "the ceremony.</p>\n<table>\n<thead><tr><th>Signer</th><th>"
	    "Public key, SHA-256 fingerprint</th><th>Verified</th></tr>"
	    "</thead>\n<tbody>\n");
	json_array_foreach(rv.sigs, i, e) {
		raw(&w, "<tr><td>");
		text(&w, js(e, "signer"));
		raw(&w, "</td><td class=\"hash\">");
		key_fpr(&w, js(e, "ed25519"));
		raw(&w, "</td><td>");
		rec = json_string_value(json_object_get(rv.officers,
		    js(e, "signer")));
		if (v != NULL && rec != NULL &&
		    strcmp(rec, js(e, "ed25519")) == 0)
			raw(&w, "<span class=\"ok\">\xe2\x9c\x93 verified"
			    "</span>");
		else
			raw(&w, "<span class=\"bad\">not checked</span>");
		raw(&w, "</td></tr>\n");
	}
	if (json_array_size(rv.sigs) == 0)
		raw(&w, "<tr><td colspan=\"3\" class=\"note\">No signatures."
		    "</td></tr>\n");
	raw(&w, "</tbody>\n</table>\n");

	raw(&w, "<h2>Witnessed by</h2>\n<p class=\"note\">We were present, "
	    "heard the final hash read aloud and saw that it matched the "
	    "screen, and this report agrees with what we saw.</p>\n"
	    "<table class=\"sign\">\n<thead><tr><th>Name</th><th>Role</th>"
	    "<th style=\"width:38%\">Signature</th><th style=\"width:18%\">"
	    "Date</th></tr></thead>\n<tbody>\n");
	for (j = 0; j < 3; j++)
		raw(&w, "<tr><td class=\"box\"></td><td class=\"box\"></td>"
		    "<td class=\"box\"></td><td class=\"box\"></td></tr>\n");
	raw(&w, "</tbody>\n</table>\n<footer>Rendered by keyrite from "
	    "<code>" CER_TRANSCRIPT_FILE "</code>.  The transcript is the "
	    "record; this report is a reading of it.");
	num = json_array_size(entries);
	rawf(&w, "  %zu line%s.</footer>\n</body>\n</html>\n", num,
	    num == 1 ? "" : "s");
	rc = finish(&w, err);
out:
	rview_free(&rv);
	return rc;
}

/* ---- Markdown report ---- */

static void
report_step_md(struct w *w, const struct cer_script *s,
    const struct sview *sv)
{
	const char *type, *say;
	json_t *e, *o;
	size_t i, j;
	int n;

	rawf(w, "\n### %zu. ", sv->num);
	text(w, step_title(s, sv->start));
	raw(w, "\n\nStep `");
	code(w, js(sv->start, "step"));
	raw(w, "`");
	if (*js(sv->start, "action") != '\0') {
		raw(w, ", action **");
		text(w, js(sv->start, "action"));
		raw(w, "**");
	}
	raw(w, ". Started ");
	time_of(w, js(sv->start, "time"), 0);
	if (sv->end != NULL) {
		raw(w, ", took ");
		duration(w, json_integer_value(json_object_get(sv->end,
		    "seconds")));
	} else
		raw(w, ", **not finished**");
	raw(w, ".\n\n");
	if ((say = script_say(s, sv)) != NULL) {
		raw(w, "> **Read aloud:** ");
		text(w, say);
		raw(w, "\n\n");
	}
	json_array_foreach(sv->items, i, e) {
		type = js(e, "type");
		if (strcmp(type, "say") == 0) {
			raw(w, "> **Read aloud:** ");
			text(w, js(e, "text"));
			raw(w, "\n\n");
		} else if (strcmp(type, "record") == 0) {
			raw(w, "Recorded: ");
			text(w, js(e, "text"));
			if (*js(e, "file") != '\0') {
				raw(w, " (`");
				code(w, js(e, "file"));
				raw(w, "`, SHA-256 `");
				hex_grouped(w, js(e, "sha256"));
				raw(w, "`)");
			}
			raw(w, "\n\n");
		} else if (strcmp(type, "deviation") == 0) {
			raw(w, "**Deviation** (");
			time_of(w, js(e, "time"), 0);
			raw(w, "): ");
			text(w, js(e, "text"));
			raw(w, "\n\n");
		} else if (strcmp(type, "abort") == 0) {
			raw(w, "**Ceremony aborted here** (");
			time_of(w, js(e, "time"), 0);
			raw(w, "): ");
			text(w, js(e, "reason"));
			raw(w, "\n\n");
		}
	}
	for (n = 0, i = 0; i < json_array_size(sv->items); i++) {
		e = json_array_get(sv->items, i);
		if (strcmp(js(e, "type"), "confirm") != 0)
			continue;
		if (n++ == 0)
			raw(w, "| Confirmed by | Role | Time |\n"
			    "| --- | --- | --- |\n");
		raw(w, "| ");
		text(w, js(e, "who"));
		raw(w, " | ");
		text(w, role_title(s, js(e, "role")));
		raw(w, " | ");
		time_of(w, js(e, "time"), 0);
		raw(w, " |\n");
	}
	if (n > 0)
		raw(w, "\n");
	json_array_foreach(sv->items, i, e) {
		type = js(e, "type");
		if (strcmp(type, "output") == 0) {
			raw(w, "- Output `");
			code(w, js(e, "path"));
			raw(w, "`, SHA-256 `");
			hex_grouped(w, js(e, "sha256"));
			raw(w, "`\n");
		} else if (strcmp(type, "key") == 0) {
			raw(w, "- Key `");
			code(w, js(e, "label"));
			raw(w, "`, fingerprint `");
			code(w, js(e, "fingerprint"));
			raw(w, "`, SPKI SHA-256 `");
			hex_grouped(w, js(e, "spki_sha256"));
			raw(w, "`\n");
		} else if (strcmp(type, "officers") == 0)
			json_array_foreach(json_object_get(e, "officers"), j,
			    o) {
				raw(w, "- Officer ");
				text(w, js(o, "name"));
				raw(w, ", key fingerprint `");
				key_fpr(w, js(o, "ed25519"));
				raw(w, "`\n");
			}
	}
}

enum kr_err
cer_report_md(const struct cer_script *s, json_t *entries,
    const struct cer_verify *v, FILE *out, struct kr_error *err)
{
	struct w w = { out, 1 };
	struct rview rv;
	const char *mode, *rec;
	const struct cer_step *st;
	json_t *e;
	size_t i, j, num = 0;
	char hx[65];
	enum kr_err rc;

	if ((rc = rview_build(&rv, s, entries, err)) != KR_OK)
		goto out;
	mode = js(rv.begin, "mode");
	raw(&w, "# ");
	text(&w, header_title(s, &rv));
	raw(&w, "\n\n*Key ceremony report*\n\n");
	if (strcmp(mode, "live") == 0)
		raw(&w, "> **LIVE CEREMONY** \xe2\x80\x94 the keys and "
		    "certificates recorded here are the real ones.\n\n");
	else
		raw(&w, "> **REHEARSAL** \xe2\x80\x94 a practice run; nothing "
		    "made here is to be trusted or used.\n\n");
	if (rv.abort != NULL) {
		st = script_step(s, js(rv.abort, "step"), &num);
		raw(&w, "**Status: ABORTED** at step ");
		if (num > 0)
			rawf(&w, "%zu, ", num);
		text(&w, st != NULL && st->title != NULL ? st->title :
		    js(rv.abort, "step"));
		raw(&w, ": ");
		text(&w, js(rv.abort, "reason"));
		raw(&w, "\n\n");
	} else if (strcmp(js(rv.end, "status"), "completed") == 0)
		raw(&w, "**Status: COMPLETED** \xe2\x80\x94 every step was "
		    "carried out.\n\n");
	else
		raw(&w, "**Status: INCOMPLETE** \xe2\x80\x94 the transcript "
		    "has no end entry.\n\n");
	if (v != NULL)
		rawf(&w, "**Verified:** hash chain of %zu entries intact, %zu "
		    "signature(s) valid, %zu output file(s) match.\n\n",
		    v->entries, v->signatures, v->outputs);
	else
		raw(&w, "**NOT VERIFIED** \xe2\x80\x94 run `keyrite ceremony "
		    "verify` before relying on this report.\n\n");
	raw(&w, "| | |\n| --- | --- |\n| Script | `");
	code(&w, js(rv.begin, "script"));
	raw(&w, "` |\n| Script SHA-256 | ");
	if (s != NULL) {
		kr_hex(s->sha256, sizeof(s->sha256), hx);
		hex_grouped(&w, hx);
	} else
		hex_grouped(&w, js(rv.begin, "sha256"));
	raw(&w, " |\n| Started | ");
	time_of(&w, js(rv.begin, "time"), 1);
	raw(&w, " |\n| Ended | ");
	if (rv.end != NULL) {
		time_of(&w, js(rv.end, "time"), 1);
		raw(&w, " (");
		duration(&w, elapsed(rv.begin, rv.end));
		raw(&w, ")");
	}
	raw(&w, " |\n");
	if (v != NULL) {
		raw(&w, "| Final hash | ");
		hex_grouped(&w, v->final_hash);
		raw(&w, " |\n");
	}
	report_participants(&w, s, json_object_get(rv.begin,
	    "participants"));
	raw(&w, "\n## Steps\n");
	for (i = 0; i < rv.nsteps; i++)
		report_step_md(&w, s, &rv.steps[i]);
	for (i = 0; s != NULL && i < s->nsteps; i++) {
		if (find_step(&rv, s->steps[i].id) != NULL)
			continue;
		rawf(&w, "\n### %zu. ", i + 1);
		text(&w, s->steps[i].title != NULL ? s->steps[i].title :
		    s->steps[i].id);
		raw(&w, "\n\nNot performed.\n");
	}
	raw(&w, "\n## Signatures\n\n| Signer | Public key, SHA-256 "
	    "fingerprint | Verified |\n| --- | --- | --- |\n");
	json_array_foreach(rv.sigs, i, e) {
		raw(&w, "| ");
		text(&w, js(e, "signer"));
		raw(&w, " | `");
		key_fpr(&w, js(e, "ed25519"));
		rec = json_string_value(json_object_get(rv.officers,
		    js(e, "signer")));
		raw(&w, v != NULL && rec != NULL &&
		    strcmp(rec, js(e, "ed25519")) == 0 ?
		    "` | \xe2\x9c\x93 verified |\n" : "` | not checked |\n");
	}
	raw(&w, "\n## Witnessed by\n\nWe were present, heard the final hash "
	    "read aloud and saw that it matched the screen, and this report "
	    "agrees with what we saw.\n\n| Name | Role | Signature | Date |\n"
	    "| --- | --- | --- | --- |\n");
	for (j = 0; j < 3; j++)
		raw(&w, "| | | | |\n");
	rc = finish(&w, err);
out:
	rview_free(&rv);
	return rc;
}
