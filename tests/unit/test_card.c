/*
 * test_card.c: the paper card.  HTML escaping; the text and HTML cards
 * carry every header field and every armored line; the QR code is an
 * inline SVG and the page loads nothing from outside; a holder name or
 * armored text that would be markup stays text; the lines are laid out
 * the way type-in numbers them; single data lines are checked as typed.
 */
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
#include "../../ceremony/card.h"

#define HAS(hay, needle)	assert_non_null(strstr((hay), (needle)))

/* A freshly sealed share 3 of 5 held by Dave O'Neil-Smith. */
static char *
sealed(enum cer_kind kind, const char *holder)
{
	struct cer_armor_hdr h;
	struct kr_error err = { 0 };
	uint8_t payload[64];
	char *text = NULL;
	size_t i;

	cer_armor_hdr_init(&h, kind, CER_KDF_COST_MIN);
	for (i = 0; i < CER_SET_ID_LEN; i++)
		h.set_id[i] = (uint8_t)(0x70 + i);
	for (i = 0; i < CER_SECRET_ID_LEN; i++)
		h.secret_id[i] = (uint8_t)(0xa0 + i);
	h.k = 3;
	h.n = 5;
	h.x = 3;
	snprintf(h.holder, sizeof(h.holder), "%s", holder);
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	assert_int_equal(cer_armor_seal(&h, payload, sizeof(payload), "pw", 2,
	    &text, &err), KR_OK);
	return text;
}

static struct cer_armor *
parsed(const char *text)
{
	struct cer_armor *a = NULL;
	struct kr_error err = { 0 };

	assert_int_equal(cer_armor_parse(text, strlen(text), &a, &err), KR_OK);
	return a;
}

/* Every line of text (escaped when esc) must be in out. */
static void
assert_has_lines(const char *out, const char *text, int esc)
{
	const char *p, *nl;
	char line[128], *e;

	for (p = text; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		if (nl == p)
			continue;
		assert_true((size_t)(nl - p) < sizeof(line));
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		e = esc ? cer_card_escape(line) : strdup(line);
		assert_non_null(e);
		if (strstr(out, e) == NULL)
			fail_msg("card lacks line \"%s\"", e);
		free(e);
	}
}

static void
test_escape(void **state)
{
	char *e;

	(void)state;
	e = cer_card_escape("<a href='x' title=\"y\">&amp;</a>");
	assert_non_null(e);
	assert_string_equal(e, "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;"
	    "&amp;amp;&lt;/a&gt;");
	free(e);
	e = cer_card_escape("");
	assert_non_null(e);
	assert_string_equal(e, "");
	free(e);
	e = cer_card_escape("plain carol");
	assert_string_equal(e, "plain carol");
	free(e);
}

static void
test_text_card(void **state)
{
	struct kr_error err = { 0 };
	struct cer_armor *a;
	char *text, *card = NULL;

	(void)state;
	text = sealed(CER_KIND_SHARE, "Dave O'Neil-Smith");
	a = parsed(text);
	assert_int_equal(cer_card_text(a, text, strlen(text), &card, &err),
	    KR_OK);
	HAS(card, "keyrite backup share");
	HAS(card, "share 3 of 5, any 3 restore");
	HAS(card, "Dave O'Neil-Smith");
	HAS(card, "7071 7273 7475 7677 7879 7a7b 7c7d 7e7f");
	HAS(card, "a0a1 a2a3 a4a5 a6a7 a8a9 aaab acad aeaf");
	HAS(card, "b0b1 b2b3 b4b5 b6b7 b8b9 babb bcbd bebf");
	HAS(card, "Argon2id, opslimit 1, memlimit 8 KiB");
	HAS(card, "keyrite backup type-in");
	HAS(card, " 1  -----BEGIN KEYRITE SHARE-----\n");
	assert_has_lines(card, text, 0);
	free(card);
	cer_armor_free(a);
	free(text);

	text = sealed(CER_KIND_OFFICER, "Carol Q. Officer");
	a = parsed(text);
	assert_int_equal(cer_card_text(a, text, strlen(text), &card, &err),
	    KR_OK);
	HAS(card, "keyrite officer credential");
	HAS(card, "Officer quorum");
	assert_has_lines(card, text, 0);
	free(card);
	cer_armor_free(a);
	free(text);
}

/* Nothing on the page may load or run anything. */
static void
assert_self_contained(const char *html)
{
	const char *p, *q;

	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "src="));
	assert_null(strstr(html, "href="));
	assert_null(strstr(html, "url("));
	assert_null(strstr(html, "@import"));
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, "<img"));
	/* No event handler attributes (" onload=" and the like). */
	for (p = html; (p = strstr(p, " on")) != NULL; p++) {
		for (q = p + 3; *q >= 'a' && *q <= 'z'; q++)
			;
		if (*q == '=')
			fail_msg("event handler at \"%.20s\"", p);
	}
}

static void
test_html_card(void **state)
{
	struct kr_error err = { 0 };
	struct cer_armor *a;
	char *text, *html = NULL;

	(void)state;
	text = sealed(CER_KIND_SHARE, "Dave O'Neil-Smith");
	a = parsed(text);
	assert_int_equal(cer_card_html(a, text, strlen(text), &html, &err),
	    KR_OK);
	assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
	HAS(html, "@media print");
	HAS(html, "Dave O&#39;Neil-Smith");
	assert_null(strstr(html, "O'Neil"));
	HAS(html, "3 of 5, any 3 restore");
	HAS(html, "7071 7273 7475 7677 7879 7a7b 7c7d 7e7f");
	HAS(html, "a0a1 a2a3 a4a5 a6a7 a8a9 aaab acad aeaf");
	HAS(html, "b0b1 b2b3 b4b5 b6b7 b8b9 babb bcbd bebf");
	HAS(html, "Argon2id, opslimit 1, memlimit 8 KiB");
	HAS(html, "<svg xmlns=\"http://www.w3.org/2000/svg\"");
	HAS(html, "<rect x=");
	HAS(html, "Received by");
	HAS(html, "passphrase is never on this card");
	HAS(html, "data-n=\"19\"");
	/* Every line: test_html_has_every_line. */
	HAS(html, "-----BEGIN KEYRITE SHARE-----");
	HAS(html, "Check: ");
	assert_self_contained(html);
	free(html);
	cer_armor_free(a);
	free(text);
}

/* Every data line appears on the page once its span is taken out. */
static void
test_html_has_every_line(void **state)
{
	struct kr_error err = { 0 };
	struct cer_armor *a;
	char *text, *html = NULL, *p;

	(void)state;
	text = sealed(CER_KIND_OFFICER, "Carol Q. Officer");
	a = parsed(text);
	assert_int_equal(cer_card_html(a, text, strlen(text), &html, &err),
	    KR_OK);
	/* Remove the checksum markup in place. */
	while ((p = strstr(html, "<span class=\"sum\">")) != NULL)
		memmove(p, p + 18, strlen(p + 18) + 1);
	while ((p = strstr(html, "</span></div>")) != NULL)
		memmove(p, p + 7, strlen(p + 7) + 1);
	assert_has_lines(html, text, 1);
	free(html);
	cer_armor_free(a);
	free(text);
}

/*
 * The armor parser refuses such a holder, but the card must not depend
 * on that: a header built by hand, and armored text with markup in it,
 * come out as text.
 */
static void
test_html_injection(void **state)
{
	struct kr_error err = { 0 };
	struct cer_armor *a;
	char *text, *html = NULL, *evil;
	size_t len;

	(void)state;
	text = sealed(CER_KIND_SHARE, "carol");
	a = parsed(text);
	snprintf(a->hdr.holder, sizeof(a->hdr.holder),
	    "<script>alert(1)</script>\"'&");
	len = strlen(text) + 64;
	evil = malloc(len);
	assert_non_null(evil);
	/* Markup smuggled into the text as a header line. */
	snprintf(evil, len, "%.*s<img src=x onerror=alert(2)>\n%s",
	    (int)(strchr(text, '\n') - text + 1), text,
	    strchr(text, '\n') + 1);
	assert_int_equal(cer_card_html(a, evil, strlen(evil), &html, &err),
	    KR_OK);
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<img"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"
	    "&quot;&#39;&amp;"));
	HAS(html, "&lt;img src=x onerror=alert(2)&gt;");
	free(html);
	free(evil);
	cer_armor_free(a);
	free(text);
}

static void
test_qr_svg(void **state)
{
	struct kr_error err = { 0 };
	char *svg = NULL, *big;
	size_t n = 8000;

	(void)state;
	assert_int_equal(cer_card_qr_svg("keyrite", 7, 40, &svg, &err), KR_OK);
	assert_true(strncmp(svg, "<svg ", 5) == 0);
	/* Version 1: 21 modules and a quiet zone of 4 on each side. */
	HAS(svg, "viewBox=\"0 0 29 29\"");
	HAS(svg, "width=\"40mm\"");
	assert_non_null(strstr(svg, "<rect x=\"4\" y=\"4\" width=\"7\" "
	    "height=\"1\"/>"));	/* top of the finder pattern */
	assert_true(strcmp(svg + strlen(svg) - 6, "</svg>") == 0);
	free(svg);

	big = malloc(n);
	assert_non_null(big);
	memset(big, 'x', n);
	assert_int_equal(cer_card_qr_svg(big, n, 40, &svg, &err), KR_E_USAGE);
	assert_null(svg);
	assert_int_equal(cer_card_qr_svg("a\0b", 3, 40, &svg, &err),
	    KR_E_USAGE);
	free(big);
}

/* A file with CR LF, indentation and extra blank lines is laid out clean. */
static void
test_lines(void **state)
{
	struct kr_error err = { 0 };
	char *text, *messy, *out = NULL, *o;
	const char *p;
	size_t len, i;

	(void)state;
	text = sealed(CER_KIND_SHARE, "carol");
	len = 3 * strlen(text) + 16;
	messy = malloc(len);
	assert_non_null(messy);
	o = messy;
	o += sprintf(o, "\n  \r\n");
	for (p = text, i = 0; *p != '\0'; p++) {
		if (*p == '\n') {
			o += sprintf(o, "  \r\n");
			/* A blank line between data lines (after line 15). */
			if (++i == 15)
				o += sprintf(o, "\r\n");
			continue;
		}
		*o++ = *p;
	}
	o += sprintf(o, "\n\n");
	assert_int_equal(cer_card_lines(messy, strlen(messy), &out, &err),
	    KR_OK);
	assert_string_equal(out, text);
	free(out);
	assert_int_equal(cer_card_lines("\n\n", 2, &out, &err), KR_E_PARSE);
	free(messy);
	free(text);
}

static void
test_check_data_line(void **state)
{
	struct kr_error err = { 0 };
	char *text, line[80];
	const char *l2;
	char *bad;

	(void)state;
	text = sealed(CER_KIND_SHARE, "carol");
	l2 = strstr(text, "\n02 ") + 1;
	snprintf(line, sizeof(line), "%.*s", (int)(strchr(l2, '\n') - l2), l2);
	assert_int_equal(cer_armor_check_data_line(line, 16, 2, &err), KR_OK);
	/* As typed: lower case, spaces anywhere, hyphens. */
	{
		char loose[96];
		size_t i, o = 0;

		for (i = 0; line[i] != '\0'; i++) {
			if (line[i] == ' ')
				continue;
			loose[o++] = (char)(line[i] >= 'A' && line[i] <= 'Z' ?
			    line[i] + 32 : line[i]);
			if (i % 7 == 3)
				loose[o++] = '-';
		}
		loose[o] = '\0';
		assert_int_equal(cer_armor_check_data_line(loose, 16, 2, &err),
		    KR_OK);
	}
	/* One wrong character: named, never corrected. */
	bad = line + 5;
	*bad = *bad == 'Z' ? 'Y' : 'Z';
	assert_int_equal(cer_armor_check_data_line(line, 16, 2, &err),
	    KR_E_PARSE);
	assert_string_equal(err.msg, "line 16: data line 02: checksum "
	    "mismatch; retype it");
	/* The right line in the wrong place. */
	*bad = *bad == 'Z' ? 'Y' : 'Z';
	snprintf(line, sizeof(line), "%.*s", (int)(strchr(l2, '\n') - l2), l2);
	assert_int_equal(cer_armor_check_data_line(line, 17, 3, &err),
	    KR_E_PARSE);
	assert_non_null(strstr(err.msg, "line 17: found data line 02 where "
	    "data line 03 was expected"));
	assert_int_equal(cer_armor_check_data_line("", 15, 1, &err),
	    KR_E_PARSE);
	assert_int_equal(cer_armor_check_data_line("01 U", 15, 1, &err),
	    KR_E_PARSE);
	assert_int_equal(cer_armor_check_data_line(line, 15, 0, &err),
	    KR_E_PARSE);
	assert_int_equal(cer_armor_check_data_line(line, 15, 44, &err),
	    KR_E_PARSE);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_text_card),
		cmocka_unit_test(test_html_card),
		cmocka_unit_test(test_html_has_every_line),
		cmocka_unit_test(test_html_injection),
		cmocka_unit_test(test_qr_svg),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_check_data_line),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
