/*
 * card.h: the paper copy of a share or officer credential.  A card shows
 * the public header in words (holder, which share of how many, the set
 * and secret ids grouped for reading aloud, the KDF), the armored text
 * exactly as it must be typed back in, with line numbers, and a QR code
 * of the same text.  Two renderings: plain text for a terminal, and a
 * self-contained printable HTML page (no scripts, no external
 * resources).  Nothing here decrypts: the armor is already encrypted
 * and the passphrase is never on the card.  docs/backup-card.md.
 */
#ifndef CER_CARD_H
#define CER_CARD_H

#include <stddef.h>

#include "../common/kr.h"
#include "armor.h"

/*
 * The armored text as the card shows it and as `backup type-in` expects
 * it typed: from the BEGIN line to the END line, each line with its
 * surrounding blanks and CR removed, blank lines dropped except the one
 * that ends the header, each line ending in LF.  For a file written by
 * cer_armor_seal this is the file itself.  text (len bytes) should be
 * text cer_armor_parse accepted.  *out is malloc'd, NUL-terminated;
 * the caller frees it.
 */
enum kr_err	 cer_card_lines(const char *text, size_t len, char **out,
		     struct kr_error *err);

/*
 * A card for a terminal: a ruled block, 79 columns wide, with a title by
 * kind, the header fields, the numbered armored lines (see
 * cer_card_lines) and how to restore.  a is what cer_armor_parse made
 * of text (len bytes).  *out is malloc'd, NUL-terminated; the caller frees it.
 */
enum kr_err	 cer_card_text(const struct cer_armor *a, const char *text,
		     size_t len, char **out, struct kr_error *err);

/*
 * The same card as a printable HTML page that fits one A4 or Letter
 * page, with the QR code as inline SVG.  Every field is HTML-escaped.
 * When the text is too large for a QR code (payloads near
 * CER_PAYLOAD_MAX) the page says so in its place.  *out is malloc'd,
 * NUL-terminated; the caller frees it.
 */
enum kr_err	 cer_card_html(const struct cer_armor *a, const char *text,
		     size_t len, char **out, struct kr_error *err);

/*
 * An SVG image (one <svg> element, no XML prolog) of a QR code holding
 * the len bytes of data (no NUL bytes), error correction level M, with
 * a four-module quiet zone, each run of dark modules one <rect>; width
 * and height are size_mm millimetres.  KR_E_USAGE when the data does not
 * fit the largest QR code.  *svg is malloc'd; the caller frees it.
 */
enum kr_err	 cer_card_qr_svg(const char *data, size_t len,
		     unsigned size_mm, char **svg, struct kr_error *err);

/*
 * s with & < > " ' replaced by HTML character references, so that it is
 * safe both as element text and inside a quoted attribute.  Returns a
 * malloc'd string the caller frees, or NULL when out of memory.
 */
char		*cer_card_escape(const char *s);

#endif /* CER_CARD_H */
