/*
 * test_script.c: the ceremony script parser.  The shipped scripts
 * parse; a good inline script, one line per macro so line numbers are
 * known, parses; and a table of bad scripts, each a single change to
 * the good one, is refused with KR_E_PARSE and the message (file, line,
 * rule) that change must produce.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "../../ceremony/script.h"
#include "../../common/file.h"

/* ------------------------------------------------------------------ */
/* Shipped scripts                                                      */
/* ------------------------------------------------------------------ */

static struct cer_script *
load(const char *path)
{
	struct cer_script *s = NULL;
	struct kr_error err;
	enum kr_err rc;

	memset(&err, 0, sizeof(err));
	rc = cer_script_load(path, &s, &err);
	if (rc != KR_OK)
		fail_msg("%s: rc %d: %s", path, rc, err.msg);
	return s;
}

static void
assert_role(const struct cer_script *s, const char *id, size_t n,
    unsigned k)
{
	const struct cer_role *r = cer_script_role(s, id);

	assert_non_null(r);
	assert_int_equal(r->nparticipants, n);
	assert_int_equal(r->threshold, k);
}

/* The action of each step, in order. */
static void
assert_actions(const struct cer_script *s, const enum cer_action *a,
    size_t n)
{
	size_t i;

	assert_int_equal(s->nsteps, n);
	for (i = 0; i < n; i++)
		if (s->steps[i].action != a[i])
			fail_msg("%s: step %zu (%s) is %s, wanted %s", s->name,
			    i, s->steps[i].id,
			    cer_action_name(s->steps[i].action),
			    cer_action_name(a[i]));
}

static void
test_root_init(void **state)
{
	static const enum cer_action a[] = { CER_ACT_CONFIRM, CER_ACT_CONFIRM,
	    CER_ACT_QUORUM_INIT, CER_ACT_ACTIVATE, CER_ACT_KEYGEN,
	    CER_ACT_ROOT_SELFSIGN, CER_ACT_VERIFY_FILE,
	    CER_ACT_BACKUP_CREATE, CER_ACT_CRL, CER_ACT_DEACTIVATE,
	    CER_ACT_CONFIRM, CER_ACT_CONFIRM };
	struct cer_script *s;
	const struct cer_step *st;
	const struct cer_param *p;
	uint8_t *buf, md[32];
	size_t len;
	struct kr_error err;

	(void)state;
	s = load("ceremony/scripts/root-init.yaml");
	assert_string_equal(s->name, "root-init");
	assert_string_equal(s->source, "ceremony/scripts/root-init.yaml");
	assert_non_null(s->title);
	assert_non_null(s->purpose);
	/* Folded text loses its final line break. */
	assert_int_not_equal(s->purpose[strlen(s->purpose) - 1], '\n');
	assert_int_equal(s->nroles, 4);
	assert_role(s, "admin", 1, 0);
	assert_role(s, "witness", 1, 0);
	assert_role(s, "officers", 3, 2);
	assert_role(s, "custodians", 5, 3);
	assert_actions(s, a, sizeof(a) / sizeof(a[0]));

	st = &s->steps[2];
	assert_int_equal(st->noutputs, 4);
	assert_string_equal(st->outputs[0], "officers/officers.json");
	st = &s->steps[4];
	assert_non_null(p = cer_step_param(st, "label"));
	assert_string_equal(p->value, "root-2026");
	assert_false(p->implicit);
	assert_string_equal(cer_step_param(st, "type")->value, "ec-p384");
	assert_string_equal(cer_step_param(st, "backup")->value, "true");
	st = &s->steps[5];
	assert_non_null(p = cer_step_param(st, "permitted_dns"));
	assert_null(p->value);
	assert_int_equal(p->nlist, 1);
	assert_string_equal(p->list[0], "lab.internal");
	assert_string_equal(cer_step_param(st, "permitted_ip")->list[0],
	    "10.0.0.0/8");
	assert_string_equal(cer_step_param(st, "days")->value, "3650");
	assert_string_equal(cer_step_param(st, "subject")->value,
	    "CN=Example Lab Root,O=Example");
	/* The profile was not written: its default is filled in. */
	assert_non_null(p = cer_step_param(st, "profile"));
	assert_string_equal(p->value, "root");
	assert_true(p->implicit);
	assert_int_equal(p->line, st->line);
	assert_null(cer_step_param(st, "nope"));
	st = &s->steps[7];
	assert_int_equal(st->noutputs, 6);
	assert_string_equal(cer_step_param(st, "ca")->value, "root.pem");
	assert_true(cer_step_param(st, "ca")->implicit);
	assert_null(cer_step_param(&s->steps[6], "expect"));

	/* sha256 is of the file as read. */
	assert_int_equal(kr_file_read("ceremony/scripts/root-init.yaml",
	    1 << 20, &buf, &len, &err), KR_OK);
	assert_int_equal(EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL),
	    1);
	assert_memory_equal(md, s->sha256, 32);
	free(buf);
	cer_script_free(s);
}

static void
test_other_scripts(void **state)
{
	static const enum cer_action si[] = { CER_ACT_CONFIRM,
	    CER_ACT_CONFIRM, CER_ACT_VERIFY_FILE, CER_ACT_VERIFY_FILE,
	    CER_ACT_ACTIVATE, CER_ACT_SIGN_CSR, CER_ACT_CRL,
	    CER_ACT_DEACTIVATE, CER_ACT_CONFIRM, CER_ACT_CONFIRM };
	static const enum cer_action rc[] = { CER_ACT_CONFIRM,
	    CER_ACT_CONFIRM, CER_ACT_VERIFY_FILE, CER_ACT_ACTIVATE,
	    CER_ACT_CRL, CER_ACT_DEACTIVATE, CER_ACT_CONFIRM };
	static const enum cer_action rb[] = { CER_ACT_CONFIRM,
	    CER_ACT_CONFIRM, CER_ACT_VERIFY_FILE, CER_ACT_VERIFY_FILE,
	    CER_ACT_ACTIVATE, CER_ACT_BACKUP_RESTORE, CER_ACT_CRL,
	    CER_ACT_DEACTIVATE, CER_ACT_CONFIRM };
	struct cer_script *s;
	const struct cer_step *st;

	(void)state;
	s = load("ceremony/scripts/sign-intermediate.yaml");
	assert_string_equal(s->name, "sign-intermediate");
	assert_int_equal(s->nroles, 3);
	assert_role(s, "officers", 3, 2);
	assert_null(cer_script_role(s, "custodians"));
	assert_actions(s, si, sizeof(si) / sizeof(si[0]));
	st = &s->steps[5];
	assert_string_equal(cer_step_param(st, "csr")->value,
	    "intermediate.csr");
	assert_string_equal(cer_step_param(st, "profile")->value,
	    "intermediate");
	assert_string_equal(cer_step_param(st, "days")->value, "1095");
	assert_string_equal(st->outputs[0], "intermediate.pem");
	cer_script_free(s);

	s = load("ceremony/scripts/root-crl.yaml");
	assert_int_equal(s->nroles, 3);
	assert_actions(s, rc, sizeof(rc) / sizeof(rc[0]));
	assert_string_equal(cer_step_param(&s->steps[4], "next_update")->value,
	    "180d");
	cer_script_free(s);

	s = load("ceremony/scripts/restore-backup.yaml");
	assert_int_equal(s->nroles, 4);
	assert_role(s, "custodians", 5, 3);
	assert_actions(s, rb, sizeof(rb) / sizeof(rb[0]));
	st = &s->steps[5];
	assert_string_equal(cer_step_param(st, "backup")->value,
	    "backup/backup.blob");
	assert_null(cer_step_param(st, "label"));
	assert_int_equal(st->noutputs, 0);
	cer_script_free(s);
}

static void
test_rotate_root(void **state)
{
	static const enum cer_action a[] = { CER_ACT_CONFIRM,
	    CER_ACT_CONFIRM, CER_ACT_VERIFY_FILE, CER_ACT_ACTIVATE,
	    CER_ACT_KEYGEN, CER_ACT_ROOT_SELFSIGN, CER_ACT_VERIFY_FILE,
	    CER_ACT_CROSS_SIGN, CER_ACT_CROSS_SIGN, CER_ACT_BACKUP_CREATE,
	    CER_ACT_CRL, CER_ACT_BUNDLE_BUILD, CER_ACT_BUNDLE_SIGN,
	    CER_ACT_BUNDLE_SIGN, CER_ACT_DEACTIVATE, CER_ACT_BUNDLE_VERIFY,
	    CER_ACT_BUNDLE_VERIFY, CER_ACT_BUNDLE_PACK, CER_ACT_CONFIRM,
	    CER_ACT_CONFIRM };
	struct cer_script *s;
	const struct cer_step *st;
	const struct cer_param *p;

	(void)state;
	s = load("ceremony/scripts/rotate-root.yaml");
	assert_string_equal(s->name, "rotate-root");
	assert_role(s, "officers", 3, 2);
	assert_role(s, "custodians", 5, 3);
	assert_actions(s, a, sizeof(a) / sizeof(a[0]));
	st = &s->steps[5];
	assert_string_equal(cer_step_param(st, "constraints_from")->value,
	    "root.pem");
	assert_null(cer_step_param(st, "permitted_dns"));
	st = &s->steps[7];
	assert_string_equal(cer_step_param(st, "key")->value, "root-2026");
	assert_string_equal(cer_step_param(st, "cert")->value,
	    "root-2036.pem");
	st = &s->steps[11];
	assert_non_null(p = cer_step_param(st, "cross"));
	assert_int_equal(p->nlist, 2);
	assert_string_equal(cer_step_param(st, "active")->list[0], "root.pem");
	assert_string_equal(cer_step_param(st, "next")->list[0],
	    "root-2036.pem");
	assert_null(cer_step_param(st, "previous"));
	assert_string_equal(cer_step_param(st, "expires")->value, "90d");
	assert_int_equal(st->noutputs, 1);
	assert_string_equal(st->outputs[0], "bundle/manifest.json");
	st = &s->steps[15];
	assert_string_equal(cer_step_param(st, "min_signatures")->value, "1");
	assert_true(cer_step_param(st, "min_signatures")->implicit);
	cer_script_free(s);
}

static void
test_names(void **state)
{
	struct cer_script *s = NULL;
	struct kr_error err;

	(void)state;
	assert_string_equal(cer_action_name(CER_ACT_ROOT_SELFSIGN),
	    "root-selfsign");
	assert_string_equal(cer_action_name(CER_ACT_VERIFY_FILE),
	    "verify-file");
	assert_string_equal(cer_action_name((enum cer_action)0), "unknown");
	assert_true(cer_action_uses_key(CER_ACT_KEYGEN));
	assert_true(cer_action_uses_key(CER_ACT_BACKUP_RESTORE));
	assert_true(cer_action_uses_key(CER_ACT_CROSS_SIGN));
	assert_true(cer_action_uses_key(CER_ACT_BUNDLE_SIGN));
	assert_false(cer_action_uses_key(CER_ACT_BUNDLE_BUILD));
	assert_false(cer_action_uses_key(CER_ACT_BUNDLE_VERIFY));
	assert_false(cer_action_uses_key(CER_ACT_BUNDLE_PACK));
	assert_string_equal(cer_action_name(CER_ACT_BUNDLE_SIGN),
	    "bundle-sign");
	assert_false(cer_action_uses_key(CER_ACT_ACTIVATE));
	assert_false(cer_action_uses_key(CER_ACT_VERIFY_FILE));
	assert_false(cer_action_uses_key(CER_ACT_QUORUM_INIT));
	assert_true(cer_role_is_witness("witness"));
	assert_true(cer_role_is_witness("witness-external"));
	assert_false(cer_role_is_witness("witnesses"));
	assert_false(cer_role_is_witness("admin"));
	assert_false(cer_role_is_witness(NULL));
	assert_null(cer_script_role(NULL, "admin"));
	assert_null(cer_step_param(NULL, "key"));
	cer_script_free(NULL);
	assert_int_equal(cer_script_load("ceremony/scripts/nope.yaml", &s,
	    &err), KR_E_NOTFOUND);
	assert_null(s);
	assert_int_equal(cer_script_parse(NULL, 0, NULL, &s, &err),
	    KR_E_PARSE);
	assert_null(s);
}

/* ------------------------------------------------------------------ */
/* A good inline script and single changes to it                        */
/* ------------------------------------------------------------------ */

#define HEAD	"version: 1\n" "name: t\n" "title: T\n" "purpose: P\n"	/* 1-4 */
#define ROLES	"roles:\n"						/* 5 */
#define R_ADMIN	"  - id: admin\n" "    title: Admin\n"			/* 6-8 */ \
		"    participants: [alice]\n"
#define R_WIT	"  - id: witness\n" "    title: Witness\n"		/* 9-11 */ \
		"    participants: [wendy]\n"
#define R_OFF	"  - id: officers\n" "    title: Officers\n"		/* 12-15 */ \
		"    participants: [ann, ben, cat]\n" "    threshold: 2\n"
#define R_CUS	"  - id: custodians\n" "    title: Custodians\n"	/* 16-19 */ \
		"    participants: [carol, dave, erin]\n" "    threshold: 2\n"
#define STEPS	"steps:\n"						/* 20 */
#define S_BAGS	"  - id: bags\n" "    title: Bags\n"			/* 21-24 */ \
		"    action: confirm\n" "    confirm: [witness]\n"
#define S_ON	"  - id: on\n" "    title: On\n"			/* 25-28 */ \
		"    action: activate\n" "    confirm: [officers, witness]\n"
#define S_GEN	"  - id: gen\n" "    title: Gen\n"			/* 29-33 */ \
		"    action: keygen\n" "    with: {label: k1}\n" \
		"    confirm: [witness]\n"
#define S_SELF	"  - id: self\n" "    title: Self\n"			/* 34-39 */ \
		"    action: root-selfsign\n" \
		"    with: {key: k1, subject: \"CN=T\", days: 10, out: root.pem}\n" \
		"    confirm: [witness]\n" "    outputs: [root.pem]\n"
#define S_OFF	"  - id: off\n" "    title: Off\n"			/* 40-42 */ \
		"    action: deactivate\n"
#define RS	ROLES R_ADMIN R_WIT R_OFF R_CUS
#define GOOD	HEAD RS STEPS S_BAGS S_ON S_GEN S_SELF S_OFF

/* Step GEN with line 32 (with) replaced. */
#define GEN_WITH(w)	"  - id: gen\n" "    title: Gen\n" \
		"    action: keygen\n" "    with: " w "\n" \
		"    confirm: [witness]\n"
/* Step SELF with line 37 (with) and 39 (outputs) replaced. */
#define SELF_WO(w, o)	"  - id: self\n" "    title: Self\n" \
		"    action: root-selfsign\n" "    with: " w "\n" \
		"    confirm: [witness]\n" "    outputs: " o "\n"
#define SELF_OUT(o)	SELF_WO("{key: k1, subject: \"CN=T\", days: 10, " \
		"out: root.pem}", o)
#define SELF_WITH(w)	SELF_WO(w, "[root.pem]")
/* Role officers with line 14 (participants) and 15 (threshold). */
#define OFF_PT(p, t)	"  - id: officers\n" "    title: Officers\n" \
		"    participants: " p "\n" "    threshold: " t "\n"
/* A crl step writing out (6 lines). */
#define S_CRL(out)	"  - id: crl\n" "    title: CRL\n" \
		"    action: crl\n" "    with: {key: k1, out: " out "}\n" \
		"    confirm: [witness]\n" "    outputs: [" out "]\n"
/* A 4-line step that is not activate, in S_ON's place. */
#define S_NOT_ON	"  - id: on\n" "    title: On\n" \
		"    action: confirm\n" "    confirm: [officers, witness]\n"
/* A backup-create step (lines 40-...), out dir bk. */
#define S_BACKUP(o)	"  - id: bk\n" "    title: Backup\n" \
		"    action: backup-create\n" "    with: {key: k1, out: bk}\n" \
		"    confirm: [custodians, witness]\n" "    outputs: " o "\n"
#define BK_ALL	"[bk/backup.blob, bk/share-carol.txt, bk/share-dave.txt, " \
		"bk/share-erin.txt]"
/* A quorum-init step (lines 25-...). */
#define S_QI(o)	"  - id: qi\n" "    title: Quorum\n" \
		"    action: quorum-init\n" "    confirm: [officers]\n" \
		"    outputs: " o "\n"
#define QI_ALL	"[officers/officers.json, officers/ann.cred, " \
		"officers/ben.cred, officers/cat.cred]"
/* A verify-file step (4 lines). */
#define S_VERIFY(w)	"  - id: vf\n" "    title: Verify\n" \
		"    action: verify-file\n" "    with: " w "\n"
/* A record step (4 lines). */
#define S_RECORD(w)	"  - id: rec\n" "    title: Record\n" \
		"    action: record\n" "    with: " w "\n"

/* Bundle steps (lines 40-44, 45-49 after S_SELF; 5 lines each). */
#define S_BUILD(w, o)	"  - id: bb\n" "    title: Build\n" \
		"    action: bundle-build\n" "    with: " w "\n" \
		"    outputs: " o "\n"
#define S_BUILD_OK	S_BUILD("{active: [root.pem], next: [new.pem], " \
		"cross: [x.pem], out: b}", "[b/manifest.json]")
#define S_BSIGN(w)	"  - id: bs\n" "    title: Sign\n" \
		"    action: bundle-sign\n" "    with: " w "\n" \
		"    confirm: [witness]\n"
#define S_BSIGN_OK	S_BSIGN("{key: k1, cert: root.pem, bundle: b}")
#define S_BVERIFY(w)	"  - id: bv\n" "    title: Verify\n" \
		"    action: bundle-verify\n" "    with: " w "\n" \
		"    confirm: [witness]\n"
#define S_BPACK		"  - id: bp\n" "    title: Pack\n" \
		"    action: bundle-pack\n" "    with: {bundle: b, out: b.tar}\n" \
		"    outputs: [b.tar]\n"
#define BASE_B	HEAD RS STEPS S_BAGS S_ON S_GEN S_SELF

struct bad_script {
	const char	*what;
	const char	*text;
	size_t		 len;		/* 0: strlen */
	const char	*want;		/* substring of the message */
};

static const struct bad_script bad_scripts[] = {
	/* YAML and structure */
	{ "empty file", "", 0, "t.yaml:1: empty script" },
	{ "only a comment", "# nothing\n", 0, "t.yaml:1: empty script" },
	{ "tab indentation", "version: 1\n\tname: t\n", 0,
	    "t.yaml:2: found a tab character" },
	{ "unclosed flow list", HEAD RS STEPS "  - id: bags\n"
	    "    title: Bags\n" "    action: confirm\n"
	    "    confirm: [witness\n" S_ON, 0,
	    "while parsing a flow sequence that starts on line 24" },
	{ "second document", GOOD "---\n" GOOD, 0,
	    "t.yaml:43: a script file holds one YAML document" },
	{ "not a mapping", "- version\n- 1\n", 0,
	    "t.yaml:1: a ceremony script is a mapping" },
	{ "NUL byte", "version: 1\n\0name: t\n", 20,
	    "t.yaml:2: control characters are not allowed" },
	{ "alias", HEAD RS STEPS "  - &b\n    id: bags\n"
	    "    title: Bags\n    action: confirm\n    confirm: [witness]\n"
	    "  - *b\n", 0, "aliases (*name) are not allowed" },
	{ "explicit tag", HEAD RS STEPS S_BAGS S_ON
	    GEN_WITH("{label: !custom k1}") S_SELF S_OFF, 0,
	    "t.yaml:32: step 'gen': label: explicit tags are not allowed" },
	/* top level */
	{ "wrong version", "version: 2\nname: t\ntitle: T\npurpose: P\n" RS
	    STEPS S_BAGS S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:1: version: 2 is not supported" },
	{ "quoted version", "version: \"1\"\nname: t\ntitle: T\npurpose: P\n"
	    RS STEPS S_BAGS S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:1: version: expected an unquoted value" },
	{ "unknown top-level key", GOOD "extra: 1\n", 0,
	    "t.yaml:43: unknown top-level key 'extra' (expected one of: "
	    "version, name, title, purpose, roles, steps)" },
	{ "duplicate top-level key", GOOD "title: Again\n", 0,
	    "t.yaml:43: duplicate key 'title' (first given on line 3)" },
	{ "missing purpose", "version: 1\nname: t\ntitle: T\n" RS STEPS
	    S_BAGS S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:1: missing required key 'purpose'" },
	{ "bad script name", "version: 1\nname: a/b\ntitle: T\npurpose: P\n"
	    RS STEPS S_BAGS S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:2: name: 'a/b' is not a valid script name" },
	{ "null title", "version: 1\nname: t\ntitle: ~\npurpose: P\n" RS
	    STEPS S_BAGS S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:3: title: null is not a value here" },
	{ "steps not a list", HEAD RS "steps: {id: x}\n", 0,
	    "t.yaml:20: steps: expected a list of steps" },
	/* roles */
	{ "no witness role", HEAD ROLES R_ADMIN "  - id: auditor\n"
	    "    title: Auditor\n    participants: [wendy]\n" R_OFF R_CUS
	    STEPS S_BAGS S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:5: roles: no 'witness' role" },
	{ "no admin role", HEAD ROLES "  - id: boss\n    title: Boss\n"
	    "    participants: [alice]\n" R_WIT R_OFF R_CUS STEPS S_BAGS S_ON
	    S_GEN S_SELF S_OFF, 0, "t.yaml:5: roles: no 'admin' role" },
	{ "two admin roles", HEAD ROLES R_ADMIN "  - id: admin\n"
	    "    title: Admin 2\n    participants: [wendy]\n" R_OFF R_CUS
	    STEPS S_BAGS S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:9: a second 'admin' role (the first is on line 6)" },
	{ "duplicate role", HEAD RS "  - id: witness\n    title: W2\n"
	    "    participants: [xena]\n" STEPS S_BAGS S_ON S_GEN S_SELF
	    S_OFF, 0, "t.yaml:20: role 'witness' is defined twice (first "
	    "on line 9)" },
	{ "witness is the admin", HEAD ROLES R_ADMIN "  - id: witness\n"
	    "    title: Witness\n    participants: [alice]\n" R_OFF R_CUS
	    STEPS S_BAGS S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:9: role 'witness': 'alice' is also the administrator" },
	{ "unknown role key", HEAD ROLES R_ADMIN "  - id: witness\n"
	    "    title: Witness\n    members: [wendy]\n" R_OFF R_CUS STEPS
	    S_BAGS S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:11: unknown role key 'members' (expected one of: id, "
	    "title, participants, threshold)" },
	{ "role without participants", HEAD ROLES R_ADMIN
	    "  - id: witness\n    title: Witness\n    threshold: 2\n" R_OFF
	    R_CUS STEPS S_BAGS S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:9: role 'witness': missing required key 'participants'" },
	{ "empty participants", HEAD ROLES R_ADMIN "  - id: witness\n"
	    "    title: Witness\n    participants: []\n" R_OFF R_CUS STEPS
	    S_BAGS S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:11: participants: the list is empty" },
	{ "threshold > participants", HEAD ROLES R_ADMIN R_WIT
	    OFF_PT("[ann, ben, cat]", "4") R_CUS STEPS S_BAGS S_ON S_GEN
	    S_SELF S_OFF, 0, "t.yaml:15: role 'officers': threshold 4 is "
	    "larger than the 3 participants" },
	{ "threshold 1", HEAD ROLES R_ADMIN R_WIT
	    OFF_PT("[ann, ben, cat]", "1") R_CUS STEPS S_BAGS S_ON S_GEN
	    S_SELF S_OFF, 0, "t.yaml:15: role 'officers': threshold 1 is "
	    "below 2" },
	{ "threshold not a number", HEAD ROLES R_ADMIN R_WIT
	    OFF_PT("[ann, ben, cat]", "two") R_CUS STEPS S_BAGS S_ON S_GEN
	    S_SELF S_OFF, 0, "t.yaml:15: threshold: 'two' is not a whole "
	    "number" },
	{ "threshold on a witness role", HEAD ROLES R_ADMIN
	    "  - id: witness\n    title: Witness\n"
	    "    participants: [wendy, xena]\n    threshold: 2\n" R_OFF R_CUS
	    STEPS S_BAGS S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:12: role 'witness': only the officers and custodians "
	    "roles take a threshold" },
	{ "officers without threshold", HEAD ROLES R_ADMIN R_WIT
	    "  - id: officers\n    title: Officers\n"
	    "    participants: [ann, ben, cat]\n" R_CUS STEPS S_BAGS S_ON
	    S_GEN S_SELF S_OFF, 0, "t.yaml:12: role 'officers': missing "
	    "required key 'threshold'" },
	{ "duplicate participant", HEAD ROLES R_ADMIN R_WIT
	    OFF_PT("[ann, ben, ann]", "2") R_CUS STEPS S_BAGS S_ON S_GEN
	    S_SELF S_OFF, 0, "t.yaml:14: role 'officers': participant 'ann' "
	    "is listed twice" },
	{ "bad participant name", HEAD ROLES R_ADMIN R_WIT
	    OFF_PT("[ann, ben, c/t]", "2") R_CUS STEPS S_BAGS S_ON S_GEN
	    S_SELF S_OFF, 0, "t.yaml:14: role 'officers': participant 'c/t' "
	    "may only use letters, digits, spaces and . ' _ @ + -" },
	{ "participant with two spaces", HEAD ROLES R_ADMIN R_WIT
	    OFF_PT("[ann, ben, \"cat  smith\"]", "2") R_CUS STEPS S_BAGS
	    S_ON S_GEN S_SELF S_OFF, 0, "t.yaml:14: role 'officers': "
	    "participant 'cat  smith' must not start or end with a space" },
	{ "participant name too long", HEAD ROLES R_ADMIN R_WIT
	    OFF_PT("[ann, ben, aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaa]", "2") R_CUS STEPS S_BAGS S_ON S_GEN S_SELF
	    S_OFF, 0, "t.yaml:14: role 'officers': participant 'aaaa" },
	/* step fields */
	{ "step is a scalar", GOOD "  - just a step\n", 0,
	    "t.yaml:43: steps: each step is a mapping" },
	{ "unknown step key", HEAD RS STEPS "  - id: bags\n"
	    "    title: Bags\n    action: confirm\n"
	    "    confirms: [witness]\n" S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:24: unknown step key 'confirms' (expected one of: id, "
	    "title, say, action, with, confirm, outputs)" },
	{ "duplicate step key", HEAD RS STEPS S_BAGS S_ON "  - id: gen\n"
	    "    title: Gen\n    action: keygen\n    title: Again\n"
	    "    with: {label: k1}\n    confirm: [witness]\n" S_SELF S_OFF, 0,
	    "t.yaml:32: duplicate key 'title' (first given on line 30)" },
	{ "missing step title", HEAD RS STEPS "  - id: bags\n"
	    "    say: Look\n    action: confirm\n    confirm: [witness]\n"
	    S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:21: step 'bags': missing required key 'title'" },
	{ "missing step id", HEAD RS STEPS "  - title: Bags\n"
	    "    action: confirm\n    confirm: [witness]\n", 0,
	    "t.yaml:21: step: missing required key 'id'" },
	{ "bad step id", HEAD RS STEPS "  - id: two words\n"
	    "    title: Bags\n    action: confirm\n    confirm: [witness]\n"
	    S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:21: step id 'two words' is not valid" },
	{ "unknown action", HEAD RS STEPS S_BAGS S_ON "  - id: gen\n"
	    "    title: Gen\n    action: keyjen\n    with: {label: k1}\n"
	    "    confirm: [witness]\n" S_SELF S_OFF, 0,
	    "t.yaml:31: step 'gen': unknown action 'keyjen' (expected one "
	    "of: confirm, quorum-init, activate, keygen, root-selfsign," },
	{ "confirm names a missing role", HEAD RS STEPS "  - id: bags\n"
	    "    title: Bags\n    action: confirm\n"
	    "    confirm: [witness, notary]\n" S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:24: step 'bags': confirm: there is no role 'notary' "
	    "(roles: admin, witness, officers, custodians)" },
	{ "confirm lists a role twice", HEAD RS STEPS "  - id: bags\n"
	    "    title: Bags\n    action: confirm\n"
	    "    confirm: [witness, witness]\n" S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:24: step 'bags': confirm: 'witness' is listed twice" },
	{ "confirm step without confirm", HEAD RS STEPS "  - id: bags\n"
	    "    title: Bags\n    action: confirm\n    say: Look\n" S_ON S_GEN
	    S_SELF S_OFF, 0, "t.yaml:21: step 'bags' (confirm) names no role "
	    "to confirm it" },
	{ "duplicate step id", HEAD RS STEPS S_BAGS S_ON S_GEN
	    "  - id: gen\n    title: Self\n    action: root-selfsign\n"
	    "    with: {key: k1, subject: \"CN=T\", days: 10, out: root.pem}\n"
	    "    confirm: [witness]\n    outputs: [root.pem]\n" S_OFF, 0,
	    "t.yaml:34: duplicate step id 'gen' (first used on line 29)" },
	/* quorum and witnesses */
	{ "key step without quorum", HEAD RS STEPS S_BAGS S_NOT_ON S_GEN
	    S_SELF S_OFF, 0, "t.yaml:29: step 'gen' (keygen) uses the token "
	    "key but no quorum is active: add an 'activate' step before it" },
	{ "key step after deactivate", GOOD S_CRL("root.crl"), 0,
	    "t.yaml:43: step 'crl' (crl) uses the token key but the quorum "
	    "was deactivated by step 'off' (line 40)" },
	{ "key step without witness", HEAD RS STEPS S_BAGS S_ON
	    "  - id: gen\n    title: Gen\n    action: keygen\n"
	    "    with: {label: k1}\n    confirm: [admin]\n" S_SELF S_OFF, 0,
	    "t.yaml:29: step 'gen' (keygen) uses the token key, so a witness "
	    "must confirm it" },
	{ "never deactivated", HEAD RS STEPS S_BAGS S_ON S_GEN S_SELF, 0,
	    "t.yaml:25: the quorum activated by step 'on' is never "
	    "deactivated" },
	{ "activate twice", HEAD RS STEPS S_BAGS S_ON S_GEN
	    "  - id: on2\n    title: On\n    action: activate\n"
	    "    confirm: [officers, witness]\n", 0,
	    "t.yaml:34: step 'on2' (activate): the quorum is already active "
	    "since step 'on' (line 25)" },
	{ "deactivate without activate", HEAD RS STEPS S_BAGS S_OFF, 0,
	    "t.yaml:25: step 'off' (deactivate): no quorum is active" },
	{ "activate needs an officers role", HEAD ROLES R_ADMIN R_WIT
	    "  - id: auditors\n    title: Auditors\n"
	    "    participants: [ann, ben, cat]\n" R_CUS STEPS S_BAGS
	    "  - id: on\n    title: On\n    action: activate\n"
	    "    confirm: [witness]\n" S_GEN S_SELF S_OFF, 0,
	    "t.yaml:24: step 'on' (activate) needs a role 'officers' with "
	    "a threshold" },
	{ "quorum-init while active", HEAD RS STEPS S_BAGS S_ON S_GEN
	    S_QI(QI_ALL) S_SELF S_OFF, 0, "t.yaml:34: step 'qi' "
	    "(quorum-init) changes the token's PIN while the quorum "
	    "activated by step 'on' (line 25) is logged in" },
	{ "backup-create without custodians", HEAD ROLES R_ADMIN R_WIT R_OFF
	    STEPS S_BAGS S_ON S_GEN "  - id: bk\n    title: Backup\n"
	    "    action: backup-create\n    with: {key: k1, out: bk}\n"
	    "    confirm: [witness]\n    outputs: [bk/backup.blob]\n" S_OFF,
	    0, "t.yaml:30: step 'bk' (backup-create) needs a role "
	    "'custodians' with a threshold" },
	/* with parameters */
	{ "unknown with-parameter", HEAD RS STEPS S_BAGS S_ON
	    GEN_WITH("{label: k1, curve: p384}") S_SELF S_OFF, 0,
	    "t.yaml:32: step 'gen': keygen has no parameter 'curve' (it "
	    "takes: label, type, backup)" },
	{ "duplicate with-parameter", HEAD RS STEPS S_BAGS S_ON
	    GEN_WITH("{label: k1, label: k2}") S_SELF S_OFF, 0,
	    "t.yaml:32: duplicate key 'label' (first given on line 32)" },
	{ "missing required with-parameter", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_WITH("{key: k1, days: 10, out: root.pem}") S_OFF, 0,
	    "t.yaml:37: step 'self': root-selfsign needs the parameter "
	    "'subject'" },
	{ "missing with", HEAD RS STEPS S_BAGS S_ON "  - id: gen\n"
	    "    title: Gen\n    action: keygen\n    confirm: [witness]\n", 0,
	    "t.yaml:29: step 'gen': keygen needs the parameter 'label'" },
	{ "with on an action without parameters", HEAD RS STEPS S_BAGS
	    "  - id: on\n    title: On\n    action: activate\n"
	    "    with: {token: t}\n" S_GEN S_SELF S_OFF, 0,
	    "t.yaml:28: step 'on': activate takes no parameters" },
	{ "with is a list", HEAD RS STEPS S_BAGS S_ON GEN_WITH("[k1]")
	    S_SELF S_OFF, 0, "t.yaml:32: step 'gen': with: expected a "
	    "mapping" },
	{ "bad key type", HEAD RS STEPS S_BAGS S_ON
	    GEN_WITH("{label: k1, type: ec-p521}") S_SELF S_OFF, 0,
	    "t.yaml:32: step 'gen': type: unknown key type 'ec-p521' "
	    "(expected one of: ec-p384, ec-p256, rsa-3072, rsa-4096)" },
	{ "bad boolean", HEAD RS STEPS S_BAGS S_ON
	    GEN_WITH("{label: k1, backup: yes}") S_SELF S_OFF, 0,
	    "t.yaml:32: step 'gen': backup: expected true or false, found "
	    "'yes'" },
	{ "bad key label", HEAD RS STEPS S_BAGS S_ON
	    GEN_WITH("{label: \"root key\"}") S_SELF S_OFF, 0,
	    "t.yaml:32: step 'gen': label: 'root key' is not a valid key "
	    "label" },
	{ "days out of range", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_WITH("{key: k1, subject: \"CN=T\", days: 0, out: root.pem}")
	    S_OFF, 0, "t.yaml:37: step 'self': days: 0 is out of range (1 to "
	    "36500)" },
	{ "quoted days", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_WITH("{key: k1, subject: \"CN=T\", days: \"10\", "
	    "out: root.pem}") S_OFF, 0, "t.yaml:37: step 'self': days: "
	    "expected an unquoted value" },
	{ "list where a value is expected", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_WITH("{key: k1, subject: [CN=T], days: 10, out: root.pem}")
	    S_OFF, 0, "t.yaml:37: step 'self': subject: expected a single "
	    "value, found a list" },
	{ "value where a list is expected", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_WITH("{key: k1, subject: \"CN=T\", days: 10, out: root.pem, "
	    "permitted_dns: lab.internal}") S_OFF, 0, "t.yaml:37: step "
	    "'self': permitted_dns: expected a list" },
	{ "bad subject", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_WITH("{key: k1, subject: \"XX=T\", days: 10, out: root.pem}")
	    S_OFF, 0, "t.yaml:37: step 'self': subject: subject \"XX=T\"" },
	{ "bad permitted_dns", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_WITH("{key: k1, subject: \"CN=T\", days: 10, out: root.pem, "
	    "permitted_dns: [lab..internal]}") S_OFF, 0, "t.yaml:37: step "
	    "'self': permitted_dns: 'lab..internal' is not a DNS name" },
	{ "host bits in permitted_ip", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_WITH("{key: k1, subject: \"CN=T\", days: 10, out: root.pem, "
	    "permitted_ip: [10.0.0.1/8]}") S_OFF, 0, "t.yaml:37: step 'self': "
	    "permitted_ip: '10.0.0.1/8' host bits are set" },
	{ "permitted_ip without prefix", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_WITH("{key: k1, subject: \"CN=T\", days: 10, out: root.pem, "
	    "permitted_ip: [\"fd00::\"]}") S_OFF, 0, "t.yaml:37: step 'self': "
	    "permitted_ip: 'fd00::' write a network with its prefix length" },
	{ "empty list parameter", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_WITH("{key: k1, subject: \"CN=T\", days: 10, out: root.pem, "
	    "permitted_ip: []}") S_OFF, 0, "t.yaml:37: step 'self': "
	    "permitted_ip: the list is empty" },
	{ "bad next_update", GOOD, 0, NULL },	/* placeholder, replaced */
	{ "bad expect", HEAD RS STEPS S_BAGS S_VERIFY("{file: x.csr, "
	    "expect: abcd}") S_ON S_GEN S_SELF S_OFF, 0, "t.yaml:28: step "
	    "'vf': expect: expected a SHA-256 as 64 hex digits" },
	{ "record with text and file", HEAD RS STEPS S_BAGS
	    S_RECORD("{text: hi, file: x}") S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:25: step 'rec': record takes exactly one of 'text' and "
	    "'file'" },
	{ "record with neither", HEAD RS STEPS S_BAGS S_RECORD("{}") S_ON
	    S_GEN S_SELF S_OFF, 0, "t.yaml:25: step 'rec': record takes "
	    "exactly one of 'text' and 'file'" },
	/* outputs and inputs */
	{ "absolute out", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_WO("{key: k1, subject: \"CN=T\", days: 10, "
	    "out: /tmp/root.pem}", "[/tmp/root.pem]") S_OFF, 0,
	    "t.yaml:37: step 'self': out: '/tmp/root.pem' is absolute" },
	{ "absolute output", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_OUT("[/root.pem]") S_OFF, 0,
	    "t.yaml:39: step 'self': output '/root.pem' is absolute" },
	{ "'..' in output", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_OUT("[root.pem, ../root.pem]") S_OFF, 0,
	    "t.yaml:39: step 'self': output '../root.pem' contains '..'" },
	{ "'..' in an input", HEAD RS STEPS S_BAGS
	    S_VERIFY("{file: a/../../x.csr}") S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:28: step 'vf': file: 'a/../../x.csr' contains '..'" },
	{ "empty path component", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_OUT("[root.pem, out//root.pem]") S_OFF, 0,
	    "t.yaml:39: step 'self': output 'out//root.pem' has an empty" },
	{ "output listed twice", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_OUT("[root.pem, root.pem]") S_OFF, 0,
	    "t.yaml:39: step 'self': output 'root.pem' is listed twice" },
	{ "duplicate output across steps", HEAD RS STEPS S_BAGS S_ON S_GEN
	    S_SELF S_CRL("root.pem") S_OFF, 0, "t.yaml:40: step 'crl': "
	    "output 'root.pem' is also written by step 'self' (line 34)" },
	{ "out not in outputs", HEAD RS STEPS S_BAGS S_ON S_GEN
	    SELF_OUT("[]") S_OFF, 0, "t.yaml:34: step 'self': outputs: "
	    "'root.pem' is missing; list every file root-selfsign writes" },
	{ "output the action does not write", HEAD RS STEPS S_BAGS S_ON
	    S_GEN SELF_OUT("[root.pem, root.der]") S_OFF, 0,
	    "t.yaml:34: step 'self': outputs: 'root.der' is not written by "
	    "root-selfsign (it writes: root.pem)" },
	{ "outputs on a step writing nothing", HEAD RS STEPS S_BAGS S_ON
	    "  - id: gen\n    title: Gen\n    action: keygen\n"
	    "    with: {label: k1}\n    confirm: [witness]\n"
	    "    outputs: [k1.pub]\n" S_OFF, 0, "t.yaml:29: step 'gen': "
	    "outputs: keygen writes no file; remove 'k1.pub'" },
	{ "backup share missing from outputs", HEAD RS STEPS S_BAGS S_ON
	    S_GEN S_BACKUP("[bk/backup.blob, bk/share-carol.txt, "
	    "bk/share-dave.txt]") S_OFF, 0, "t.yaml:34: step 'bk': outputs: "
	    "'bk/share-erin.txt' is missing; list every file backup-create "
	    "writes" },
	{ "officer credential missing from outputs", HEAD RS STEPS S_BAGS
	    S_QI("[officers/officers.json, officers/ann.cred, "
	    "officers/cat.cred]") S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:25: step 'qi': outputs: 'officers/ben.cred' is missing" },
	{ "input from a later step", HEAD RS STEPS S_BAGS
	    S_VERIFY("{file: root.pem}") S_ON S_GEN S_SELF S_OFF, 0,
	    "t.yaml:28: step 'vf': file 'root.pem' is written by step 'self' "
	    "(line 38), which comes later" },
	{ "input written by the same step", HEAD RS STEPS S_BAGS S_ON S_GEN
	    S_SELF "  - id: crl\n    title: CRL\n    action: crl\n"
	    "    with: {key: k1, out: root.crl, revoke: [root.crl]}\n"
	    "    confirm: [witness]\n    outputs: [root.crl]\n" S_OFF, 0,
	    "t.yaml:43: step 'crl': revoke 'root.crl' is written by step "
	    "'crl' (line 40), this same step" },
	{ "key used before its keygen", HEAD RS STEPS S_BAGS S_ON
	    "  - id: self\n    title: Self\n    action: root-selfsign\n"
	    "    with: {key: k1, subject: \"CN=T\", days: 10, out: root.pem}\n"
	    "    confirm: [witness]\n    outputs: [root.pem]\n" S_GEN S_OFF, 0,
	    "t.yaml:32: step 'self': key 'k1' is generated by step 'gen' "
	    "(line 35), which comes later" },
	{ "key generated twice", HEAD RS STEPS S_BAGS S_ON S_GEN
	    "  - id: gen2\n    title: Gen\n    action: keygen\n"
	    "    with: {label: k1}\n    confirm: [witness]\n" S_OFF, 0,
	    "t.yaml:37: step 'gen2': key 'k1' is already generated by step "
	    "'gen' (line 29)" },
	/* rotation: root-selfsign constraints_from, bundles */
	{ "constraints_from with permitted_dns", HEAD RS STEPS S_BAGS S_ON
	    S_GEN SELF_WITH("{key: k1, subject: \"CN=T\", days: 10, "
	    "out: root.pem, constraints_from: old.pem, "
	    "permitted_dns: [lab.internal]}") S_OFF, 0, "t.yaml:34: step "
	    "'self' (root-selfsign): constraints_from copies the name "
	    "constraints of a certificate; give no permitted_dns" },
	{ "bundle-build without active", BASE_B S_BUILD("{next: [new.pem], "
	    "out: b}", "[b/manifest.json]") S_OFF, 0, "t.yaml:43: step 'bb': "
	    "bundle-build needs the parameter 'active'" },
	{ "anchor listed in two states", BASE_B S_BUILD("{active: [root.pem], "
	    "next: [root.pem], out: b}", "[b/manifest.json]") S_OFF, 0,
	    "t.yaml:43: step 'bb': anchor 'root.pem' is both active and "
	    "next" },
	{ "retiring without remove_after", BASE_B S_BUILD("{active: "
	    "[new.pem], retiring: [root.pem], out: b}", "[b/manifest.json]")
	    S_OFF, 0, "t.yaml:43: step 'bb': retiring anchors need "
	    "remove_after" },
	{ "remove_after without retiring", BASE_B S_BUILD("{active: "
	    "[root.pem], remove_after: 2030-01-01, out: b}",
	    "[b/manifest.json]") S_OFF, 0, "t.yaml:43: step 'bb': "
	    "remove_after is for retiring anchors, and none is retiring" },
	{ "bad remove_after", BASE_B S_BUILD("{active: [new.pem], retiring: "
	    "[root.pem], remove_after: 2030-13-01, out: b}",
	    "[b/manifest.json]") S_OFF, 0, "t.yaml:43: step 'bb': "
	    "remove_after: '2030-13-01' is not a date" },
	{ "bundle lifetime too long", BASE_B S_BUILD("{active: [root.pem], "
	    "expires: 2000d, out: b}", "[b/manifest.json]") S_OFF, 0,
	    "t.yaml:43: step 'bb': expires: 2000d is longer than a bundle "
	    "may live (1096 days)" },
	{ "bundle-build outputs other than the manifest", BASE_B
	    S_BUILD("{active: [root.pem], out: b}", "[b/anchors.pem]") S_OFF,
	    0, "t.yaml:40: step 'bb': outputs: 'b/anchors.pem' is not "
	    "written by bundle-build (it writes: b/manifest.json)" },
	{ "bundle-sign of a bundle not built here", BASE_B S_BUILD_OK
	    S_BSIGN("{key: k1, cert: root.pem, bundle: other}") S_OFF, 0,
	    "t.yaml:48: step 'bs': bundle 'other' is not built by an earlier "
	    "bundle-build step" },
	{ "bundle-sign before the build", BASE_B S_BSIGN_OK S_BUILD_OK S_OFF,
	    0, "t.yaml:43: step 'bs': bundle 'b' is built by step 'bb' "
	    "(line 45), which comes later" },
	{ "bundle-sign after the pack", BASE_B S_BUILD_OK S_BPACK S_BSIGN_OK
	    S_OFF, 0, "t.yaml:53: step 'bs': bundle 'b' is already packed by "
	    "step 'bp' (line 45); sign it before packing" },
	{ "bundle-sign without a quorum", BASE_B S_BUILD_OK S_OFF S_BSIGN_OK,
	    0, "t.yaml:48: step 'bs' (bundle-sign) uses the token key but "
	    "the quorum was deactivated by step 'off'" },
	{ "bundle-pack before the build", BASE_B S_BPACK S_BUILD_OK S_OFF, 0,
	    "t.yaml:43: step 'bp': bundle 'b' is built by step 'bb' (line 45), "
	    "which comes later" },
	{ "bundle-verify before the build", BASE_B
	    S_BVERIFY("{bundle: b, trust: [root.pem]}") S_BUILD_OK S_OFF, 0,
	    "t.yaml:43: step 'bv': bundle 'b/manifest.json' is written by "
	    "step 'bb' (line 45), which comes later" },
	{ "min_signatures 0", BASE_B S_BUILD_OK S_BVERIFY("{bundle: b, "
	    "trust: [root.pem], min_signatures: 0}") S_OFF, 0, "t.yaml:48: "
	    "step 'bv': min_signatures: 0 is out of range (1 to 16)" },
	{ "bundle-verify without trust", BASE_B S_BUILD_OK
	    S_BVERIFY("{bundle: b}") S_OFF, 0, "t.yaml:48: step 'bv': "
	    "bundle-verify needs the parameter 'trust'" },
	{ "backup of a non-extractable key", HEAD RS STEPS S_BAGS S_ON
	    GEN_WITH("{label: k1, backup: false}") S_BACKUP(BK_ALL) S_OFF, 0,
	    "t.yaml:37: step 'bk': key 'k1' is generated with backup: false "
	    "by step 'gen' (line 29), so it cannot be backed up" },
};

/* Texts built at run time (too long or parameterised for the table). */
static const struct bad_script *
fix_table(struct bad_script *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].what, "bad next_update") == 0) {
			t[i].text = HEAD RS STEPS S_BAGS S_ON S_GEN S_SELF
			    "  - id: crl\n    title: CRL\n    action: crl\n"
			    "    with: {key: k1, out: root.crl, "
			    "next_update: 0d}\n    confirm: [witness]\n"
			    "    outputs: [root.crl]\n" S_OFF;
			t[i].want = "t.yaml:43: step 'crl': next_update: '0d' "
			    "is not a duration";
		}
	return t;
}

static void
parse_ok(const char *text)
{
	struct cer_script *s = NULL;
	struct kr_error err;
	enum kr_err rc;

	memset(&err, 0, sizeof(err));
	rc = cer_script_parse(text, strlen(text), "t.yaml", &s, &err);
	if (rc != KR_OK)
		fail_msg("good script refused: %s\n%s", err.msg, text);
	cer_script_free(s);
}

static void
test_good_variants(void **state)
{
	(void)state;
	/* Every base the table edits is good. */
	parse_ok(GOOD);
	parse_ok(HEAD RS STEPS S_BAGS S_ON S_GEN S_SELF S_CRL("root.crl")
	    S_OFF);
	parse_ok(HEAD RS STEPS S_BAGS S_ON S_GEN S_BACKUP(BK_ALL) S_OFF);
	parse_ok(HEAD RS STEPS S_BAGS S_QI(QI_ALL) S_ON S_GEN S_SELF S_OFF);
	parse_ok(HEAD RS STEPS S_BAGS S_VERIFY("{file: x.csr, expect: \""
	    "E3B0 C442 98FC 1C14 9AFB F4C8 996F B924 27AE 41E4 649B 934C "
	    "A495 991B 7852 B855\"}") S_ON S_GEN S_SELF S_OFF);
	parse_ok(HEAD RS STEPS S_BAGS S_RECORD("{text: \"bag 1234\"}") S_ON
	    S_GEN S_SELF S_OFF);
	/* A rotation: a root like another, a bundle built, signed,
	 * verified and packed. */
	parse_ok(HEAD RS STEPS S_BAGS S_ON S_GEN SELF_WITH("{key: k1, "
	    "subject: \"CN=T\", days: 10, out: root.pem, "
	    "constraints_from: old.pem}") S_BUILD_OK S_BSIGN_OK S_OFF
	    S_BVERIFY("{bundle: b, trust: [root.pem, old.pem], "
	    "min_signatures: 2, previous: b0.tar}") S_BPACK);
	parse_ok(BASE_B S_BUILD("{active: [new.pem], retiring: [root.pem], "
	    "remove_after: \"2030-01-01T00:00:00Z\", previous: b1, "
	    "expires: 30d, out: b}", "[b/manifest.json]") S_OFF);
	/* An input written by an earlier step. */
	parse_ok(GOOD "  - id: vf\n    title: V\n    action: verify-file\n"
	    "    with: {file: root.pem}\n");
	/* A second witness role, "witness-" prefixed, suffices. */
	parse_ok(HEAD ROLES R_ADMIN "  - id: witness-external\n"
	    "    title: External witness\n    participants: [xena]\n" R_OFF
	    R_CUS STEPS "  - id: on\n    title: On\n"
	    "    action: activate\n    confirm: [witness-external]\n"
	    "  - id: gen\n    title: Gen\n    action: keygen\n"
	    "    with: {label: k1}\n    confirm: [witness-external]\n"
	    "  - id: off\n    title: Off\n    action: deactivate\n");
	/* Participants with the whole holder charset. */
	parse_ok(HEAD ROLES R_ADMIN R_WIT
	    OFF_PT("[\"Ann O'Neil\", ben.b@example.org, cat+1_x-y]", "3")
	    R_CUS STEPS S_BAGS S_ON S_GEN S_SELF S_OFF);
}

static void
test_bad_scripts(void **state)
{
	static struct bad_script t[sizeof(bad_scripts) /
	    sizeof(bad_scripts[0])];
	struct cer_script *s;
	struct kr_error err;
	size_t i, len, n = sizeof(t) / sizeof(t[0]);
	enum kr_err rc;
	int failed = 0;

	(void)state;
	memcpy(t, bad_scripts, sizeof(t));
	fix_table(t, n);
	for (i = 0; i < n; i++) {
		const struct bad_script *b = &t[i];

		len = b->len != 0 ? b->len : strlen(b->text);
		memset(&err, 0, sizeof(err));
		s = (struct cer_script *)&err;	/* must be reset to NULL */
		rc = cer_script_parse(b->text, len, "t.yaml", &s, &err);
		if (rc != KR_E_PARSE || b->want == NULL ||
		    strstr(err.msg, b->want) == NULL || s != NULL) {
			print_error("bad script '%s': rc %d, message '%s'; "
			    "wanted rc %d and '%s'\n", b->what, rc, err.msg,
			    KR_E_PARSE, b->want != NULL ? b->want : "?");
			failed++;
		}
	}
	if (failed)
		fail_msg("%d of %zu bad scripts not refused as expected",
		    failed, n);
}

static void
test_defaults_and_normalising(void **state)
{
	static const char text[] = HEAD RS STEPS S_BAGS
	    S_VERIFY("{file: x.csr, expect: \"E3B0 C442 98FC 1C14 9AFB F4C8 "
	    "996F B924 27AE 41E4 649B 934C A495 991B 7852 B855\"}") S_ON
	    S_GEN S_SELF S_CRL("root.crl") S_OFF;
	struct cer_script *s;
	struct kr_error err;
	const struct cer_step *st;
	const struct cer_param *p;

	(void)state;
	assert_int_equal(cer_script_parse(text, strlen(text), NULL, &s,
	    &err), KR_OK);
	assert_string_equal(s->source, "<script>");
	assert_int_equal(s->nsteps, 7);
	st = &s->steps[1];
	assert_int_equal(st->line, 25);
	assert_string_equal(cer_step_param(st, "expect")->value,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	st = &s->steps[3];
	assert_int_equal(st->nwith, 3);
	p = cer_step_param(st, "label");
	assert_int_equal(p->line, 36);
	assert_false(p->implicit);
	p = cer_step_param(st, "type");
	assert_string_equal(p->value, "ec-p384");
	assert_true(p->implicit);
	assert_string_equal(cer_step_param(st, "backup")->value, "true");
	st = &s->steps[4];
	assert_string_equal(cer_step_param(st, "profile")->value, "root");
	assert_null(cer_step_param(st, "permitted_dns"));
	st = &s->steps[5];
	assert_string_equal(cer_step_param(st, "ca")->value, "root.pem");
	assert_string_equal(cer_step_param(st, "next_update")->value, "180d");
	assert_null(cer_step_param(st, "revoke"));
	assert_int_equal(s->steps[0].nconfirm, 1);
	assert_null(s->steps[0].say);
	cer_script_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_init),
		cmocka_unit_test(test_other_scripts),
		cmocka_unit_test(test_rotate_root),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_good_variants),
		cmocka_unit_test(test_bad_scripts),
		cmocka_unit_test(test_defaults_and_normalising),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
