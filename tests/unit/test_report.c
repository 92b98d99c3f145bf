/*
 * test_report.c: the printable plan and the ceremony report, HTML and
 * Markdown, for a hand-built script and a transcript written with the
 * transcript API.  Structure checks (every step, a sign-off row per
 * participant, Initial / Time boxes, status and mode shown, hashes
 * grouped for reading aloud), escaping of hostile text, and balanced
 * tags in the HTML.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "../../ceremony/report.h"

#define NOW	"2026-03-01T10:00:00Z"
#define EVIL	"Read the bag serials. <script>alert(1)</script> & \"q\" 'x'"

/* Every string of the hand-built script, freed together. */
static char *pool[256];
static size_t npool;

static char *
S(const char *s)
{
	assert_true(npool < sizeof(pool) / sizeof(pool[0]));
	return pool[npool++] = strdup(s);
}

static char **
L(size_t n, ...)
{
	char **a = calloc(n, sizeof(*a));
	va_list ap;
	size_t i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		a[i] = S(va_arg(ap, const char *));
	va_end(ap);
	pool[npool++] = (char *)a;
	return a;
}

struct fx {
	struct cer_script	 s;
	struct cer_role		 roles[4];
	struct cer_step		 steps[5];
	struct cer_param	 with[6];
	uint8_t			 ann_sk[64], ben_sk[64];
	char			 ann_pk[65], ben_pk[65];
	char			 dir[64];
};

static void
role(struct cer_role *r, const char *id, const char *title, unsigned k,
    char **p, size_t n)
{
	r->id = S(id);
	r->title = S(title);
	r->participants = p;
	r->nparticipants = n;
	r->threshold = k;
}

static void
step(struct cer_step *st, const char *id, const char *title,
    const char *say, enum cer_action a, char **confirm, size_t nconfirm)
{
	st->id = S(id);
	st->title = S(title);
	st->say = say != NULL ? S(say) : NULL;
	st->action = a;
	st->confirm = confirm;
	st->nconfirm = nconfirm;
}

static int
setup(void **state)
{
	struct fx *f;
	uint8_t pk[32], seed[32];

	if (sodium_init() < 0 || (f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	setenv("KEYRITE_NOW", NOW, 1);
	f->s.source = S("root-init.yaml");
	f->s.name = S("root-init");
	f->s.title = S("Lab root key generation");
	f->s.purpose = S("Generate the lab root key in the HSM & self-sign "
	    "its certificate.");
	crypto_hash_sha256(f->s.sha256, (const uint8_t *)"script", 6);
	role(&f->roles[0], "admin", "Ceremony administrator", 0,
	    L(1, "alice"), 1);
	role(&f->roles[1], "witness", "Internal witness", 0, L(1, "wendy"),
	    1);
	role(&f->roles[2], "officers", "Security officers", 2,
	    L(3, "ann", "ben", "cat"), 3);
	/* ann holds two roles: one sign-off row. */
	role(&f->roles[3], "custodians", "Backup custodians", 2,
	    L(3, "carol", "dave", "ann"), 3);
	f->s.roles = f->roles;
	f->s.nroles = 4;
	step(&f->steps[0], "bags", "Check the tamper-evident bags", EVIL,
	    CER_ACT_CONFIRM, L(1, "witness"), 1);
	step(&f->steps[1], "activate", "Officers activate the token",
	    "Officers, enter your passphrases.", CER_ACT_ACTIVATE,
	    L(2, "officers", "witness"), 2);
	step(&f->steps[2], "keygen", "Generate the root key", NULL,
	    CER_ACT_KEYGEN, L(2, "admin", "witness"), 2);
	f->with[0].name = S("label");
	f->with[0].value = S("root-2026");
	f->with[1].name = S("type");
	f->with[1].value = S("ec-p384");
	f->steps[2].with = &f->with[0];
	f->steps[2].nwith = 2;
	step(&f->steps[3], "selfsign", "Self-sign the root certificate",
	    "We now sign the root certificate.", CER_ACT_ROOT_SELFSIGN,
	    L(2, "admin", "witness"), 2);
	f->with[2].name = S("subject");
	f->with[2].value = S("CN=Example Lab Root,O=Example");
	f->with[3].name = S("permitted_dns");
	f->with[3].list = L(2, "lab.internal", "corp.internal");
	f->with[3].nlist = 2;
	f->steps[3].with = &f->with[2];
	f->steps[3].nwith = 2;
	f->steps[3].outputs = L(1, "root.pem");
	f->steps[3].noutputs = 1;
	step(&f->steps[4], "deactivate", "Log out of the token", NULL,
	    CER_ACT_DEACTIVATE, NULL, 0);
	f->s.steps = f->steps;
	f->s.nsteps = 5;

	memset(seed, 1, 32);
	crypto_sign_seed_keypair(pk, f->ann_sk, seed);
	kr_hex(pk, 32, f->ann_pk);
	memset(seed, 2, 32);
	crypto_sign_seed_keypair(pk, f->ben_sk, seed);
	kr_hex(pk, 32, f->ben_pk);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	int rc = 0;

	if (f->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		rc = system(cmd);
	}
	while (npool > 0)
		free(pool[--npool]);
	free(f);
	return rc == 0 ? 0 : -1;
}

static void
add(struct cer_transcript *t, const char *type, json_t *fields)
{
	struct kr_error err;

	if (cer_transcript_add(t, type, fields, &err) != KR_OK)
		fail_msg("add %s: %s", type, err.msg);
}

/*
 * The ceremony of the script, written with the transcript API: all of
 * it, or aborted at selfsign; mode rehearsal or live.
 */
static void
ceremony(struct fx *f, int aborted, const char *mode, json_t **entries,
    struct cer_verify *v)
{
	struct cer_transcript *t;
	struct kr_error err;
	char sha[65], path[128];
	FILE *fp;

	snprintf(f->dir, sizeof(f->dir), "/tmp/kr-report.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/%s", f->dir, CER_TRANSCRIPT_FILE);
	assert_int_equal(cer_transcript_create(path, f->s.sha256, &t, &err),
	    KR_OK);
	kr_hex(f->s.sha256, 32, sha);
	/* Participants both ways: by role, and as the runner writes them. */
	if (!aborted)
		add(t, "begin", json_pack("{s:s, s:s, s:s, s:s, s:{s:[s], "
		    "s:[s], s:[s, s, s]}}", "script", "root-init", "title",
		    "Lab root key generation", "sha256", sha, "mode", mode,
		    "participants", "admin", "alice", "witness", "wendy",
		    "officers", "ann", "ben", "cat"));
	else
		add(t, "begin", json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s},"
		    " {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}",
		    "script", "root-init", "title", "Lab root key generation",
		    "sha256", sha, "mode", mode, "participants", "role",
		    "officers", "name", "ann", "role", "admin", "name",
		    "alice", "role", "officers", "name", "ben", "role",
		    "witness", "name", "wendy", "role", "officers", "name",
		    "cat"));
	add(t, "step-start", json_pack("{s:s, s:s, s:s}", "step", "bags",
	    "title", "Check the tamper-evident bags", "action", "confirm"));
	add(t, "say", json_pack("{s:s, s:s}", "step", "bags", "text", EVIL));
	add(t, "confirm", json_pack("{s:s, s:s, s:s}", "step", "bags",
	    "role", "witness", "who", "wendy"));
	add(t, "step-end", json_pack("{s:s, s:i}", "step", "bags",
	    "seconds", 95));
	add(t, "step-start", json_pack("{s:s, s:s, s:s}", "step", "activate",
	    "title", "Officers activate the token", "action", "activate"));
	add(t, "officers", json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}",
	    "step", "activate", "officers", "name", "ann", "ed25519",
	    f->ann_pk, "name", "ben", "ed25519", f->ben_pk));
	add(t, "confirm", json_pack("{s:s, s:s, s:s}", "step", "activate",
	    "role", "officers", "who", "ann"));
	add(t, "confirm", json_pack("{s:s, s:s, s:s}", "step", "activate",
	    "role", "witness", "who", "wendy"));
	add(t, "step-end", json_pack("{s:s, s:i}", "step", "activate",
	    "seconds", 240));
	add(t, "step-start", json_pack("{s:s, s:s, s:s}", "step", "keygen",
	    "title", "Generate the root key", "action", "keygen"));
	add(t, "key", json_pack("{s:s, s:s, s:s, s:s}", "step", "keygen",
	    "label", "root-2026", "spki_sha256", sha, "fingerprint",
	    "9F86 D081 884C 7D65"));
	add(t, "record", json_pack("{s:s, s:s, s:s, s:s}", "step", "keygen",
	    "text", "public key shown", "file", "root.pub", "sha256", sha));
	add(t, "deviation", json_pack("{s:s, s:s}", "step", "keygen",
	    "text", "the witness asked for the label to be read twice"));
	add(t, "step-end", json_pack("{s:s, s:i}", "step", "keygen",
	    "seconds", 20));
	add(t, "step-start", json_pack("{s:s, s:s, s:s}", "step", "selfsign",
	    "title", "Self-sign the root certificate", "action",
	    "root-selfsign"));
	if (aborted) {
		add(t, "abort", json_pack("{s:s, s:s}", "step", "selfsign",
		    "reason", "the linter refused the <certificate>"));
		add(t, "end", json_pack("{s:s, s:[s]}", "status", "aborted",
		    "signers", "ben"));
		assert_int_equal(cer_transcript_sign(t, "ben", f->ben_sk,
		    &err), KR_OK);
	} else {
		snprintf(path, sizeof(path), "%s/root.pem", f->dir);
		assert_non_null(fp = fopen(path, "w"));
		fputs("PEM\n", fp);
		fclose(fp);
		crypto_hash_sha256((uint8_t *)path, (const uint8_t *)"PEM\n",
		    4);
		kr_hex((uint8_t *)path, 32, sha);
		add(t, "output", json_pack("{s:s, s:s, s:s}", "step",
		    "selfsign", "path", "root.pem", "sha256", sha));
		add(t, "step-end", json_pack("{s:s, s:i}", "step", "selfsign",
		    "seconds", 3725));
		add(t, "step-start", json_pack("{s:s, s:s, s:s}", "step",
		    "deactivate", "title", "Log out of the token", "action",
		    "deactivate"));
		add(t, "step-end", json_pack("{s:s, s:i}", "step",
		    "deactivate", "seconds", 3));
		add(t, "end", json_pack("{s:s, s:[s, s]}", "status",
		    "completed", "signers", "ann", "ben"));
		assert_int_equal(cer_transcript_sign(t, "ann", f->ann_sk,
		    &err), KR_OK);
		assert_int_equal(cer_transcript_sign(t, "ben", f->ben_sk,
		    &err), KR_OK);
	}
	cer_transcript_close(t);
	if (cer_transcript_verify(f->dir, f->s.sha256, v, &err) != KR_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(cer_transcript_read(f->dir, entries, &err), KR_OK);
}

/* Render into a string with one of the four functions. */
enum which { PLAN_HTML, PLAN_MD, REPORT_HTML, REPORT_MD };

/* With KEYRITE_REPORT_DUMP=DIR, keep every rendering to look at. */
static void
dump(enum which which, const char *buf)
{
	static const char *const ext[] = { "plan.html", "plan.md",
	    "report.html", "report.md" };
	static int n;
	const char *dir = getenv("KEYRITE_REPORT_DUMP");
	char path[512];
	FILE *fp;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%02d-%s", dir, ++n, ext[which]);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs(buf, fp);
		fclose(fp);
	}
}

static char *
render(enum which which, const struct cer_script *s, json_t *entries,
    const struct cer_verify *v)
{
	struct kr_error err;
	char *buf = NULL;
	size_t len = 0;
	enum kr_err rc = KR_E_INTERNAL;
	FILE *fp;

	assert_non_null(fp = open_memstream(&buf, &len));
	switch (which) {
	case PLAN_HTML: rc = cer_plan_html(s, fp, &err); break;
	case PLAN_MD: rc = cer_plan_md(s, fp, &err); break;
	case REPORT_HTML: rc = cer_report_html(s, entries, v, fp, &err); break;
	case REPORT_MD: rc = cer_report_md(s, entries, v, fp, &err); break;
	}
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rc, KR_OK);
	dump(which, buf);
	return buf;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay += strlen(needle))
		n++;
	return n;
}

/*
 * Tags balanced: every element we emit is closed, in order; void
 * elements (meta, br) stand alone; every '<' starts a tag, so nothing
 * from outside got through unescaped.
 */
static void
assert_balanced(const char *html)
{
	static const char *const voids[] = { "meta", "br", "!DOCTYPE" };
	char stack[64][16], name[16];
	const char *p = html, *e;
	size_t depth = 0, n, i;
	int closing, isvoid;

	while ((p = strchr(p, '<')) != NULL) {
		p++;
		closing = *p == '/';
		p += closing;
		for (n = 0; n < sizeof(name) - 1 && (p[n] == '!' ||
		    (p[n] >= 'a' && p[n] <= 'z') ||
		    (p[n] >= 'A' && p[n] <= 'Z') ||
		    (p[n] >= '0' && p[n] <= '9')); n++)
			name[n] = p[n];
		name[n] = '\0';
		if (n == 0)
			fail_msg("'<' that starts no tag: %.30s", p - 1);
		assert_non_null(e = strchr(p, '>'));
		for (isvoid = 0, i = 0; i < 3; i++)
			isvoid |= strcmp(name, voids[i]) == 0;
		if (isvoid) {
			p = e;
			continue;
		}
		if (!closing) {
			assert_true(depth < 64);
			memcpy(stack[depth++], name, sizeof(name));
		} else {
			if (depth == 0 || strcmp(stack[depth - 1], name) != 0)
				fail_msg("</%s> closes <%s>", name,
				    depth ? stack[depth - 1] : "nothing");
			depth--;
		}
		p = e;
	}
	assert_int_equal(depth, 0);
}

/* Hex as the reports show it: upper case, groups of four. */
static void
grouped(const char *hex, const char *brk, char *out)
{
	size_t i, o = 0;

	for (i = 0; hex[i] != '\0'; i++) {
		if (i > 0 && i % 32 == 0)
			o += (size_t)sprintf(out + o, "%s", brk);
		else if (i > 0 && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = (char)(hex[i] >= 'a' ? hex[i] - 'a' + 'A' : hex[i]);
	}
	out[o] = '\0';
}

static void
test_plan_html(void **state)
{
	struct fx *f = *state;
	char *h, hx[65], g[128];
	size_t i, boxes = 0;

	h = render(PLAN_HTML, &f->s, NULL, NULL);
	assert_balanced(h);
	assert_true(strncmp(h, "<!DOCTYPE html>", 15) == 0);
	/* Self-contained: no script, nothing fetched. */
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "http"));
	assert_null(strstr(h, "src="));
	assert_non_null(strstr(h, "@media print"));
	assert_non_null(strstr(h, "Lab root key generation"));
	assert_non_null(strstr(h, "HSM &amp; self-sign"));
	kr_hex(f->s.sha256, 32, hx);
	grouped(hx, "<br>", g);
	assert_non_null(strstr(h, g));
	for (i = 0; i < f->s.nsteps; i++) {
		char want[128];

		snprintf(want, sizeof(want), "<span class=\"num\">%zu</span>"
		    "<h3>%s</h3>", i + 1, f->steps[i].title);
		assert_non_null(strstr(h, want));
		snprintf(want, sizeof(want), "<code class=\"id\">%s</code>",
		    f->steps[i].id);
		assert_non_null(strstr(h, want));
		boxes += f->steps[i].nconfirm ? f->steps[i].nconfirm : 1;
	}
	/* A read-aloud box, escaped. */
	assert_non_null(strstr(h, "<div class=\"say\"><span class=\"label\">"
	    "Read aloud</span>Read the bag serials. &lt;script&gt;alert(1)"
	    "&lt;/script&gt; &amp; &quot;q&quot; &#39;x&#39;</div>"));
	assert_int_equal(count(h, "class=\"say\""), 3);
	/* Parameters, lists, outputs, roles to confirm. */
	assert_non_null(strstr(h, "<code>CN=Example Lab Root,O=Example"));
	assert_non_null(strstr(h, "<code>lab.internal, corp.internal</code>"));
	assert_non_null(strstr(h, "<dt>Outputs</dt><dd><code>root.pem"));
	assert_non_null(strstr(h, "<td>Security officers</td><td class=\""
	    "note\">ann, ben, cat</td>"));
	/* Initial and Time columns: two blank boxes per confirming role. */
	assert_int_equal(count(h, "<th style=\"width:26mm\">Initial</th>"
	    "<th style=\"width:26mm\">Time</th>"), 5);
	assert_int_equal(count(h, "<td class=\"box\"></td><td class=\"box\">"
	    "</td></tr>"), boxes + 7);
	/* Sign-off: one row per person, roles joined. */
	assert_non_null(strstr(h, "<tr><td>alice</td><td>Ceremony "
	    "administrator</td>"));
	assert_non_null(strstr(h, "<tr><td>ann</td><td>Security officers, "
	    "Backup custodians</td>"));
	assert_int_equal(count(h, "<tr><td>ann</td>"), 1);
	assert_int_equal(count(h, "<tr><td>dave</td>"), 1);
	assert_int_equal(count(h, "<tr><td>cat</td>"), 1);
	assert_non_null(strstr(h, "<td>2 of 3</td>"));
	free(h);
}

static void
test_plan_md(void **state)
{
	struct fx *f = *state;
	char *m, want[128];
	size_t i;

	m = render(PLAN_MD, &f->s, NULL, NULL);
	assert_true(strncmp(m, "# Lab root key generation\n", 26) == 0);
	for (i = 0; i < f->s.nsteps; i++) {
		snprintf(want, sizeof(want), "\n### %zu. %s\n\nStep `%s`",
		    i + 1, f->steps[i].title, f->steps[i].id);
		assert_non_null(strstr(m, want));
	}
	assert_null(strstr(m, "<script>"));
	assert_non_null(strstr(m, "> Read the bag serials. \\<script\\>"
	    "alert(1)\\</script\\> \\& \"q\" 'x'\n"));
	assert_int_equal(count(m, "| Confirmed by | Participants | Initial | "
	    "Time |"),
	    5);
	assert_non_null(strstr(m, "| Security officers | ann, ben, cat | | |"));
	assert_non_null(strstr(m, "| ann | Security officers, Backup "
	    "custodians | | |\n"));
	assert_int_equal(count(m, "| ann |"), 1);
	assert_non_null(strstr(m, "- permitted\\_dns: `lab.internal, "
	    "corp.internal`\n"));
	assert_non_null(strstr(m, "- output: `root.pem`\n"));
	free(m);
}

static void
test_report_completed(void **state)
{
	struct fx *f = *state;
	struct cer_verify v;
	json_t *entries;
	char *h, *m, g[128];
	size_t i;

	ceremony(f, 0, "rehearsal", &entries, &v);
	h = render(REPORT_HTML, &f->s, entries, &v);
	assert_balanced(h);
	assert_null(strstr(h, "<script"));
	assert_non_null(strstr(h, "<b>REHEARSAL</b>"));
	assert_null(strstr(h, "LIVE"));
	assert_non_null(strstr(h, "<b>COMPLETED</b>"));
	assert_null(strstr(h, "ABORTED"));
	assert_non_null(strstr(h, "<b>VERIFIED</b>"));
	assert_non_null(strstr(h, "2 signatures valid, 1 output file "
	    "matches"));
	grouped(v.final_hash, "<br>", g);
	assert_non_null(strstr(h, g));
	for (i = 0; i < f->s.nsteps; i++)
		assert_non_null(strstr(h, f->steps[i].title));
	assert_null(strstr(h, "not performed"));
	assert_non_null(strstr(h, "&lt;script&gt;alert(1)"));
	/* Step times and durations. */
	assert_non_null(strstr(h, "Started 10:00:00 UTC \xc2\xb7 took 1 min "
	    "35 s"));
	assert_non_null(strstr(h, "took 1 h 02 min"));
	/* Confirmations: who, role title, when. */
	assert_non_null(strstr(h, "<tr><td>wendy</td><td>Internal witness"
	    "</td><td>10:00:00 UTC</td></tr>"));
	assert_non_null(strstr(h, "<tr><td>ann</td><td>Security officers"
	    "</td>"));
	/* The output with its SHA-256, grouped. */
	assert_non_null(strstr(h, "<code>root.pem</code></td><td class=\""
	    "hash\">"));
	assert_non_null(strstr(h, "9F86 D081 884C 7D65"));
	assert_non_null(strstr(h, "class=\"deviation\"><b>Deviation</b>"));
	assert_non_null(strstr(h, "<span class=\"label\">Recorded</span> "
	    "public key shown<br><code>root.pub</code> <span class=\"hash\">"));
	/* The script's words where the transcript has no say entry. */
	assert_int_equal(count(h, "class=\"say\""), 3);
	assert_non_null(strstr(h, "Officers, enter your passphrases."));
	/* Signatures: both, verified, by key fingerprint. */
	assert_int_equal(count(h, "\xe2\x9c\x93 verified"), 2);
	assert_non_null(strstr(h, "Witnessed by"));
	assert_int_equal(count(h, "<tr><td class=\"box\"></td><td class=\""
	    "box\"></td><td class=\"box\"></td><td class=\"box\"></td></tr>"),
	    3);
	free(h);

	m = render(REPORT_MD, &f->s, entries, &v);
	assert_null(strstr(m, "<script>"));
	assert_non_null(strstr(m, "**REHEARSAL**"));
	assert_non_null(strstr(m, "**Status: COMPLETED**"));
	grouped(v.final_hash, "  ", g);
	assert_non_null(strstr(m, g));
	for (i = 0; i < f->s.nsteps; i++)
		assert_non_null(strstr(m, f->steps[i].title));
	assert_non_null(strstr(m, "| wendy | Internal witness | 10:00:00 UTC "
	    "|\n"));
	assert_non_null(strstr(m, "| Internal witness | wendy |\n"));
	assert_non_null(strstr(m, "- Output `root.pem`, SHA-256 `"));
	assert_int_equal(count(m, "| \xe2\x9c\x93 verified |"), 2);
	assert_non_null(strstr(m, "## Witnessed by"));
	assert_non_null(strstr(m, "> **Read aloud:** Officers, enter your "
	    "passphrases.\n"));
	assert_non_null(strstr(m, "Recorded: public key shown (`root.pub`, "
	    "SHA-256 `"));
	free(m);

	/* Not verified: said at the top, and no tick. */
	h = render(REPORT_HTML, &f->s, entries, NULL);
	assert_non_null(strstr(h, "<b>NOT VERIFIED</b>"));
	assert_null(strstr(h, "\xe2\x9c\x93"));
	free(h);
	/* Without the script: from the transcript alone. */
	h = render(REPORT_HTML, NULL, entries, &v);
	assert_balanced(h);
	assert_non_null(strstr(h, "<h3>Generate the root key</h3>"));
	assert_non_null(strstr(h, "<td>witness</td>"));
	free(h);
	json_decref(entries);
}

static void
test_report_aborted_live(void **state)
{
	struct fx *f = *state;
	struct cer_verify v;
	json_t *entries;
	char *h, *m;

	ceremony(f, 1, "live", &entries, &v);
	assert_int_equal(v.completed, 0);
	h = render(REPORT_HTML, &f->s, entries, &v);
	assert_balanced(h);
	assert_non_null(strstr(h, "<b>LIVE CEREMONY</b>"));
	assert_null(strstr(h, "REHEARSAL"));
	assert_null(strstr(h, "COMPLETED"));
	assert_non_null(strstr(h, "<b>ABORTED</b> at step 4, Self-sign the "
	    "root certificate: the linter refused the &lt;certificate&gt;"));
	assert_non_null(strstr(h, "<b>Ceremony aborted here</b>"));
	assert_non_null(strstr(h, "<tr><td>Security officers</td><td>ann, "
	    "ben, cat</td></tr>\n<tr><td>Ceremony administrator</td><td>"
	    "alice</td></tr>\n<tr><td>Internal witness</td><td>wendy</td>"
	    "</tr>\n"));
	/* The step never reached. */
	assert_non_null(strstr(h, "<span class=\"num\">5</span><h3>Log out "
	    "of the token</h3><span class=\"chip\">not performed</span>"));
	assert_int_equal(count(h, "\xe2\x9c\x93 verified"), 1);
	free(h);
	m = render(REPORT_MD, &f->s, entries, &v);
	assert_non_null(strstr(m, "**LIVE CEREMONY**"));
	assert_non_null(strstr(m, "**Status: ABORTED** at step 4, Self-sign "
	    "the root certificate: the linter refused the \\<certificate\\>"));
	assert_non_null(strstr(m, "### 5. Log out of the token\n\nNot "
	    "performed."));
	assert_non_null(strstr(m, "| Security officers | ann, ben, cat |\n"));
	free(m);
	json_decref(entries);
}

/* A report of junk must not crash, and must escape what it shows. */
static void
test_report_hostile_entries(void **state)
{
	json_t *entries;
	char *h;

	(void)state;
	entries = json_loads("[{\"type\":\"begin\",\"mode\":\"<b>\","
	    "\"title\":\"</h1><script>\",\"sha256\":\"zz<\"},"
	    "{\"type\":\"step-start\",\"step\":1},"
	    "{\"type\":\"output\",\"step\":\"x\",\"path\":\"<a>\"},"
	    "{\"type\":\"officers\",\"officers\":[{\"name\":5},7]},"
	    "{\"type\":\"signature\",\"signer\":\"<i>\",\"ed25519\":\"<u>\"},"
	    "{\"type\":\"step-end\",\"step\":\"x\",\"seconds\":\"y\"},"
	    "17, []]", 0, NULL);
	assert_non_null(entries);
	h = render(REPORT_HTML, NULL, entries, NULL);
	assert_balanced(h);
	assert_null(strstr(h, "<script"));
	assert_non_null(strstr(h, "&lt;/h1&gt;&lt;script&gt;"));
	assert_non_null(strstr(h, "<b>INCOMPLETE</b>"));
	free(h);
	free(render(REPORT_MD, NULL, entries, NULL));
	json_decref(entries);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plan_html, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_plan_md, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_completed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_report_aborted_live,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_hostile_entries,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
