/*
 * cmd_card.c: keyrite backup print | type-in: the paper side of a share
 * or officer credential.  print shows the card (on the terminal, or as
 * a printable HTML page); type-in takes the card typed back in, checks
 * every data line against its checksum as it is typed, and writes the
 * file.  Neither needs the passphrase: nothing is decrypted here.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ceremony/armor.h"
#include "ceremony/card.h"
#include "cli.h"

/*
 * The most lines a card has: BEGIN, 12 header fields, the blank line,
 * 43 data lines, Check and END are 59; a few spare let the header
 * parser, not this file, name an extra field.
 */
#define TYPEIN_MAX_LINES	64
#define TYPEIN_LINE_MAX		256	/* longer typed lines are refused */

/* The armor labels (docs/formats-shares.md), for the BEGIN/END lines. */
static const char *const armor_label[] = {
	[CER_KIND_SHARE] = "KEYRITE SHARE",
	[CER_KIND_OFFICER] = "KEYRITE OFFICER CREDENTIAL",
};

struct card_args {
	const struct cli_cmd	*cmd;
	const char		*html;
	const char		*out;
	int			 force;
};

/*
 * Options may also follow the SHARE operand ("print SHARE --html F"),
 * so they are parsed in two runs; repeats across runs are caught here.
 */
static int
card_opt(void *ctx, const char *name, const char *arg)
{
	struct card_args *a = ctx;

	if ((strcmp(name, "html") == 0 && a->html != NULL) ||
	    (strcmp(name, "out") == 0 && a->out != NULL) ||
	    (strcmp(name, "force") == 0 && a->force))
		return cli_usage(a->cmd, "--%s given more than once", name);
	if (strcmp(name, "html") == 0)
		a->html = arg;
	else if (strcmp(name, "out") == 0)
		a->out = arg;
	else if (strcmp(name, "force") == 0)
		a->force = 1;
	return 0;
}

static const struct cli_opt print_opts[] = {
	{ "html", 1, 0, "FILE", "write the card as a printable HTML page "
	    "(with a QR code) to FILE" },
	{ "force", 0, 0, NULL, "replace an existing --html FILE" },
	{ NULL, 0, 0, NULL, NULL },
};
const struct cli_cmd backup_print_cmd = {
	"backup print", "Show a share or officer credential as a card to "
	"print and file: the holder,\nwhich share of how many, the set and "
	"secret ids, the KDF, the armored text\nwith line numbers, and how to "
	"restore.  With --html, write the card as a\nself-contained page "
	"(mode 0600) that prints on one A4 or Letter sheet, with a\nQR code "
	"of the same text.  No passphrase is asked for: nothing is "
	"decrypted.",
	"SHARE [--html FILE] [--force]",
	"  keyrite backup print share-carol.txt\n"
	"  keyrite backup print share-carol.txt --html share-carol.html",
	print_opts,
};

/* Read and parse the share file path; err names the file. */
static enum kr_err
read_share(const char *path, uint8_t **text, size_t *len,
    struct cer_armor **a, struct kr_error *err)
{
	enum kr_err rc;

	*text = NULL;
	*a = NULL;
	if ((rc = kr_file_read(path, CER_ARMOR_TEXT_MAX, text, len, err)) !=
	    KR_OK)
		return rc;
	if ((rc = cer_armor_parse((const char *)*text, *len, a, err)) !=
	    KR_OK) {
		kr_error_prefix(err, "%s", path);
		free(*text);
		*text = NULL;
	}
	return rc;
}

int
backup_print_main(int argc, char **argv)
{
	struct card_args args = { 0 };
	struct kr_error err = { 0 };
	struct cer_armor *a = NULL;
	uint8_t *text = NULL;
	char *card = NULL;
	size_t len = 0;
	int idx, more = 1, st = 1;

	args.cmd = &backup_print_cmd;
	if ((idx = cli_parse(&backup_print_cmd, argc, argv, card_opt,
	    &args)) < 0)
		return EXIT_USAGE;
	if (idx == argc)
		return cli_usage(&backup_print_cmd, "name the share file to "
		    "print");
	/* Options after SHARE: argv[idx] plays argv[0]. */
	if (idx + 1 < argc && (more = cli_parse(&backup_print_cmd, argc - idx,
	    argv + idx, card_opt, &args)) < 0)
		return EXIT_USAGE;
	if (idx + more < argc)
		return cli_usage(&backup_print_cmd, "unexpected argument '%s'",
		    argv[idx + more]);
	if (args.force && args.html == NULL)
		return cli_usage(&backup_print_cmd, "--force only applies to "
		    "--html FILE");
	if ((args.html != NULL &&
	    kr_out_check(args.html, args.force, &err) != KR_OK) ||
	    read_share(argv[idx], &text, &len, &a, &err) != KR_OK) {
		st = cli_report(backup_print_cmd.name, &err);
		goto out;
	}
	if (args.html == NULL) {
		if (cer_card_text(a, (const char *)text, len, &card, &err) !=
		    KR_OK) {
			st = cli_report(backup_print_cmd.name, &err);
			goto out;
		}
		fputs(card, stdout);
		st = fflush(stdout) == 0 ? 0 : 1;
		goto out;
	}
	if (cer_card_html(a, (const char *)text, len, &card, &err) != KR_OK ||
	    kr_file_write(args.html, card, strlen(card), 0600, args.force,
	    &err) != KR_OK) {
		st = cli_report(backup_print_cmd.name, &err);
		goto out;
	}
	printf("wrote %s: %s %u of %u (holder %s); open it in a browser and "
	    "print it on one page\n", args.html, cer_kind_name(a->hdr.kind),
	    a->hdr.x, a->hdr.n, a->hdr.holder);
	st = 0;
out:
	free(card);
	free(text);
	cer_armor_free(a);
	return st;
}

static const struct cli_opt typein_opts[] = {
	{ "out", 1, 0, "FILE", "write the rebuilt file to FILE (mode 0600)" },
	{ "force", 0, 0, NULL, "replace an existing FILE" },
	{ NULL, 0, 0, NULL, NULL },
};
const struct cli_cmd backup_type_in_cmd = {
	"backup type-in", "Rebuild a share or officer credential file from "
	"its paper card.  Type the lines\nas the card numbers them, from "
	"-----BEGIN to -----END (the blank line after the\nheader may be "
	"left out); case and the spaces inside data lines do not matter.\n"
	"Each data line is checked against its own checksum as it is typed, "
	"and the\nwhole text against the Check line.  At a terminal a bad "
	"line is named and\nasked for again; from a pipe the command stops "
	"with exit 1 naming the line,\nand writes nothing.  A typing mistake "
	"is never corrected, only found.",
	"--out FILE [--force]",
	"  keyrite backup type-in --out share-carol.txt\n"
	"  keyrite backup type-in --out share-carol.txt < typed.txt",
	typein_opts,
};

/* The lines typed so far, numbered as on the card (line[0] is line 1). */
struct typein {
	char		*line[TYPEIN_MAX_LINES];
	unsigned	 n;		/* lines kept */
	unsigned	 blank;		/* number of the blank line, or 0 */
	unsigned	 ndata;		/* data lines kept */
	enum cer_kind	 kind;
	int		 tty;
	char		*buf;		/* getline's buffer */
	size_t		 bufcap;
};

/* What check_whole checks: the header alone, up to Check, or all. */
enum whole {
	W_HEADER,
	W_CHECK,
	W_FINAL,
};

static enum cer_kind
label_kind(const char *s, const char *what)
{
	char want[64];
	int k;

	for (k = CER_KIND_SHARE; k <= CER_KIND_OFFICER; k++) {
		snprintf(want, sizeof(want), "-----%s %s-----", what,
		    armor_label[k]);
		if (strcasecmp(s, want) == 0)
			return (enum cer_kind)k;
	}
	return (enum cer_kind)0;
}

/*
 * Read one line, after the prompt when at a terminal, without its
 * newline and surrounding blanks; n is the line's number for errors.
 * *eof at the end of input.
 */
static enum kr_err
read_typed(struct typein *t, const char *prompt, unsigned n, char **line,
    int *eof, struct kr_error *err)
{
	ssize_t r;
	char *s, *e;

	*eof = 0;
	if (t->tty) {
		fputs(prompt, stderr);
		fflush(stderr);
	}
	if ((r = getline(&t->buf, &t->bufcap, stdin)) < 0) {
		*eof = 1;
		return KR_OK;
	}
	if (r > TYPEIN_LINE_MAX)
		return kr_fail(err, KR_E_PARSE, "line %u: %zd characters is "
		    "far longer than any line on a card", n, r);
	for (s = t->buf; *s == ' ' || *s == '\t'; s++)
		;
	for (e = t->buf + r; e > s && (e[-1] == '\n' || e[-1] == '\r' ||
	    e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	*e = '\0';
	*line = s;
	return KR_OK;
}

/* Keep s as card line n (1-based; n <= t->n + 1). */
static enum kr_err
keep(struct typein *t, unsigned n, const char *s, struct kr_error *err)
{
	char *c;

	if (n == 0 || n > TYPEIN_MAX_LINES)
		return kr_fail(err, KR_E_PARSE, "line %u: more lines than a "
		    "card has; is -----END missing?", n);
	if ((c = strdup(s)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	free(t->line[n - 1]);
	t->line[n - 1] = c;
	if (n > t->n)
		t->n = n;
	return KR_OK;
}

/*
 * The kept lines as one text; for W_HEADER a blank line follows them,
 * and for W_HEADER and W_CHECK a made-up END line.
 */
static enum kr_err
joined(const struct typein *t, enum whole w, char **out, size_t *len,
    struct kr_error *err)
{
	size_t total = 64, o = 0, l;
	unsigned i;
	char *s;

	for (i = 0; i < t->n; i++)
		total += strlen(t->line[i]) + 1;
	if ((s = malloc(total)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; i < t->n; i++) {
		l = strlen(t->line[i]);
		memcpy(s + o, t->line[i], l);
		o += l;
		s[o++] = '\n';
	}
	if (w == W_HEADER)
		s[o++] = '\n';
	if (w != W_FINAL)
		o += (size_t)snprintf(s + o, total - o, "-----END %s-----\n",
		    armor_label[t->kind]);
	s[o] = '\0';
	*out = s;
	*len = o;
	return KR_OK;
}

/* The line number an armor error names ("line 7: ..."), or 0. */
static unsigned
err_line(const struct kr_error *err)
{
	unsigned long v;
	char *end;

	if (strncmp(err->msg, "line ", 5) != 0)
		return 0;
	v = strtoul(err->msg + 5, &end, 10);
	return *end == ':' && v <= TYPEIN_MAX_LINES ? (unsigned)v : 0;
}

/*
 * Run the armor parser over what was typed.  For W_HEADER the header is
 * followed by a blank line and an END line, so a good header makes the
 * parser stop at that END line (it wanted data line 01): any error on
 * an earlier line is the header's.
 */
static enum kr_err
check_whole(const struct typein *t, enum whole w, struct kr_error *err)
{
	struct cer_armor *a = NULL;
	char *s = NULL;
	size_t len = 0;
	enum kr_err rc;

	if ((rc = joined(t, w, &s, &len, err)) != KR_OK)
		return rc;
	rc = cer_armor_parse(s, len, &a, err);
	free(s);
	cer_armor_free(a);
	if (w == W_HEADER && rc != KR_OK && err_line(err) == t->n + 2) {
		memset(err, 0, sizeof(*err));
		rc = KR_OK;
	}
	return rc;
}

static int
starts_data(const char *s)
{
	return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9';
}

/*
 * Check line n, retyped as s, for what the card has there: a data line
 * against its checksum, other lines by their shape (the whole text is
 * parsed again afterwards).
 */
static enum kr_err
check_typed(const struct typein *t, unsigned n, const char *s,
    struct kr_error *err)
{
	if (n == 1)
		return label_kind(s, "BEGIN") == t->kind ? KR_OK :
		    kr_fail(err, KR_E_PARSE, "line 1: expected -----BEGIN "
		    "%s-----; retype it", armor_label[t->kind]);
	if (t->blank == 0 || n < t->blank)
		return strchr(s, ':') != NULL && !starts_data(s) ? KR_OK :
		    kr_fail(err, KR_E_PARSE, "line %u: expected a header line "
		    "such as \"Holder: carol\"; retype it", n);
	if (n == t->blank + t->ndata + 1)
		return strncasecmp(s, "Check:", 6) == 0 ? KR_OK :
		    kr_fail(err, KR_E_PARSE, "line %u: expected the Check line "
		    "(\"Check: LENGTH XXXX XXXX\"); retype it", n);
	if (n == t->blank + t->ndata + 2)
		return label_kind(s, "END") == t->kind ? KR_OK :
		    kr_fail(err, KR_E_PARSE, "line %u: expected -----END "
		    "%s-----; retype it", n, armor_label[t->kind]);
	return cer_armor_check_data_line(s, n, n - t->blank, err);
}

/*
 * What was typed fails check_whole (err says where).  From a pipe that
 * ends the command.  At a terminal, ask which line to retype (by default
 * the one named), take it, and check again until the text passes.
 * Returns 0 when it passes, 1 when the header lacks a field (the caller
 * goes on taking header lines), -1 with err set.
 */
static int
repair(struct typein *t, enum whole w, struct kr_error *err)
{
	struct kr_error lerr;
	unsigned m;
	unsigned long v;
	char prompt[48], *s, *e;
	int eof;

	for (;;) {
		if (!t->tty)
			return -1;
		m = err_line(err);
		fprintf(stderr, "%s\n", err->msg);
		if (w == W_HEADER && (m == 0 || m > t->n)) {
			fprintf(stderr, "type the missing header line as line "
			    "%u\n", t->n + 1);
			return 1;
		}
		if (m == 0 || m > t->n || m == t->blank)
			m = t->n;
		snprintf(prompt, sizeof(prompt), "retype which line? [%u] ", m);
		if (read_typed(t, prompt, m, &s, &eof, err) != KR_OK)
			return -1;
		if (eof)
			return kr_fail(err, KR_E_ABORTED, "typing stopped"), -1;
		if (*s != '\0') {
			v = strtoul(s, &e, 10);
			if (*e != '\0' || v == 0 || v > t->n || v == t->blank) {
				snprintf(err->msg, sizeof(err->msg), "type a "
				    "line number from 1 to %u other than the "
				    "blank line %u", t->n, t->blank);
				continue;
			}
			m = (unsigned)v;
		}
		snprintf(prompt, sizeof(prompt), "line %u: ", m);
		for (;;) {
			if (read_typed(t, prompt, m, &s, &eof, err) != KR_OK)
				return -1;
			if (eof)
				return kr_fail(err, KR_E_ABORTED, "typing "
				    "stopped"), -1;
			memset(&lerr, 0, sizeof(lerr));
			if (check_typed(t, m, s, &lerr) == KR_OK)
				break;
			fprintf(stderr, "%s\n", lerr.msg);
		}
		if (keep(t, m, s, err) != KR_OK)
			return -1;
		if (check_whole(t, w, err) == KR_OK)
			return 0;
	}
}

/*
 * The header was typed: check it, then keep the blank line that ends
 * it.  0 done, 1 go on with the header, -1 with err set.
 */
static int
end_header(struct typein *t, struct kr_error *err)
{
	int r;

	if (check_whole(t, W_HEADER, err) != KR_OK &&
	    (r = repair(t, W_HEADER, err)) != 0)
		return r;
	if (keep(t, t->n + 1, "", err) != KR_OK)
		return -1;
	t->blank = t->n;
	return 0;
}

/*
 * Take the card line by line.  A line that fails its own check is asked
 * for again at a terminal; from a pipe it ends the command, naming the
 * line.  On success t holds the whole text, which parses.
 */
static enum kr_err
type_in(struct typein *t, struct kr_error *err)
{
	enum { S_BEGIN, S_HEADER, S_DATA, S_END } st = S_BEGIN;
	struct kr_error lerr;
	char prompt[32], *s;
	unsigned n;
	int eof, r, data;

	for (;;) {
		n = t->n + 1;
		snprintf(prompt, sizeof(prompt), "line %u: ", n);
		if (read_typed(t, prompt, n, &s, &eof, err) != KR_OK)
			return err->code;
		if (eof)
			return kr_fail(err, KR_E_PARSE, "line %u: the input "
			    "ends before -----END %s-----; the card was not "
			    "typed to the end", n, armor_label[t->kind ?
			    t->kind : CER_KIND_SHARE]);
		memset(&lerr, 0, sizeof(lerr));
		data = 0;
		if (*s == '\0') {
			/* Only the blank line that ends the header counts. */
			if (st == S_HEADER && t->n >= 2) {
				if ((r = end_header(t, err)) < 0)
					return err->code;
				if (r == 0)
					st = S_DATA;
			}
			continue;
		}
		switch (st) {
		case S_BEGIN:
			if ((t->kind = label_kind(s, "BEGIN")) == 0)
				kr_fail(&lerr, KR_E_PARSE, "line 1: expected "
				    "-----BEGIN %s----- or -----BEGIN %s-----",
				    armor_label[CER_KIND_SHARE],
				    armor_label[CER_KIND_OFFICER]);
			else
				st = S_HEADER;
			break;
		case S_HEADER:
			if (!starts_data(s) || t->n < 2) {
				(void)check_typed(t, n, s, &lerr);
				break;
			}
			/* A data line: the blank line was left out. */
			if ((r = end_header(t, err)) < 0)
				return err->code;
			if (r == 1)
				continue;
			st = S_DATA;
			n = t->n + 1;
			/* FALLTHROUGH */
		case S_DATA:
			if (strncasecmp(s, "Check:", 6) != 0) {
				data = cer_armor_check_data_line(s, n,
				    t->ndata + 1, &lerr) == KR_OK;
				break;
			}
			if (t->ndata == 0) {
				kr_fail(&lerr, KR_E_PARSE, "line %u: expected "
				    "data line 01 before the Check line", n);
				break;
			}
			if (keep(t, n, s, err) != KR_OK)
				return err->code;
			if (check_whole(t, W_CHECK, err) != KR_OK &&
			    repair(t, W_CHECK, err) != 0)
				return err->code;
			st = S_END;
			continue;
		case S_END:
			(void)check_typed(t, n, s, &lerr);
			break;
		}
		if (lerr.code != KR_OK) {
			if (!t->tty) {
				*err = lerr;
				return err->code;
			}
			fprintf(stderr, "%s\n", lerr.msg);
			continue;
		}
		if (keep(t, n, s, err) != KR_OK)
			return err->code;
		t->ndata += (unsigned)data;
		if (st == S_END)
			break;
	}
	if (check_whole(t, W_FINAL, err) != KR_OK &&
	    repair(t, W_FINAL, err) != 0)
		return err->code;
	return KR_OK;
}

/* The first 8 bytes of a set id, grouped: "7f3a 9c01 5e22 410b". */
static void
hex_set(const uint8_t *id, char *out, size_t outlen)
{
	char hex[17];

	kr_hex(id, 8, hex);
	snprintf(out, outlen, "%.4s %.4s %.4s %.4s", hex, hex + 4, hex + 8,
	    hex + 12);
}

int
backup_type_in_main(int argc, char **argv)
{
	struct card_args args = { 0 };
	struct kr_error err = { 0 };
	struct cer_armor *a = NULL;
	struct typein t;
	char *text = NULL, grp[48];
	size_t len = 0;
	unsigned i;
	int idx, st = 1;

	memset(&t, 0, sizeof(t));
	args.cmd = &backup_type_in_cmd;
	if ((idx = cli_parse(&backup_type_in_cmd, argc, argv, card_opt,
	    &args)) < 0)
		return EXIT_USAGE;
	if (idx != argc)
		return cli_usage(&backup_type_in_cmd, "unexpected argument "
		    "'%s'; the card is read from standard input", argv[idx]);
	if (args.out == NULL)
		return cli_usage(&backup_type_in_cmd, "--out FILE is required");
	/* Refuse the output before anyone types sixty lines. */
	if (kr_out_check(args.out, args.force, &err) != KR_OK) {
		st = cli_report(backup_type_in_cmd.name, &err);
		goto out;
	}
	t.tty = isatty(STDIN_FILENO);
	if (t.tty)
		fprintf(stderr, "Type the card line by line, as numbered, from "
		    "-----BEGIN to -----END.\nCase and the spaces inside data "
		    "lines do not matter.  A line that does not\nmatch its "
		    "checksum is named and asked for again.  Ctrl-D "
		    "stops.\n\n");
	if (type_in(&t, &err) != KR_OK ||
	    joined(&t, W_FINAL, &text, &len, &err) != KR_OK ||
	    cer_armor_parse(text, len, &a, &err) != KR_OK ||
	    kr_file_write(args.out, text, len, 0600, args.force, &err) !=
	    KR_OK) {
		if (err.code == KR_E_PARSE || err.code == KR_E_ABORTED) {
			kr_error_prefix(&err, "standard input");
			snprintf(err.msg + strlen(err.msg), sizeof(err.msg) -
			    strlen(err.msg), "; %s not written", args.out);
		}
		st = cli_report(backup_type_in_cmd.name, &err);
		goto out;
	}
	hex_set(a->hdr.set_id, grp, sizeof(grp));
	printf("wrote %s: %s %u of %u (holder %s), %s %s...\n", args.out,
	    cer_kind_name(a->hdr.kind), a->hdr.x, a->hdr.n, a->hdr.holder,
	    cer_kind_set_name(a->hdr.kind), grp);
	st = 0;
out:
	for (i = 0; i < t.n; i++)
		free(t.line[i]);
	free(t.buf);
	free(text);
	cer_armor_free(a);
	return st;
}
