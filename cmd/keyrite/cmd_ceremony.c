/*
 * cmd_ceremony.c: keyrite ceremony plan | run | rehearse | verify |
 * report.  The runner reads a checked script, then walks its steps: it
 * reads the words to the room, performs the action, asks the roles that
 * must confirm, and writes every event to the hash-chained transcript as
 * it happens.  All questions go to the controlling terminal; `rehearse`
 * answers them itself on a throwaway SoftHSM2 token with generated
 * participants.  An abort (a wrong answer, Ctrl-C, a failed action) is
 * recorded, the transcript is closed and still verifies.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <termios.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "cli.h"
#include "ca/bundle.h"
#include "ca/rootstate.h"
#include "ca/rotate.h"
#include "ceremony/backup.h"
#include "ceremony/quorum.h"
#include "ceremony/report.h"
#include "ceremony/script.h"
#include "ceremony/transcript.h"

static volatile sig_atomic_t interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* One officer who activated the token, kept to sign the transcript. */
struct officer {
	char		 name[CER_HOLDER_MAX + 1];
	uint8_t		*sk;		/* sodium_malloc'd Ed25519 key */
	uint8_t		 pk[32];
};

struct runner {
	const struct cer_script	*s;
	const char		*out;		/* output directory */
	const char		*input;		/* extra input directory */
	int			 rehearse;
	FILE			*tty;		/* questions and answers */
	struct cer_transcript	*t;
	/* the token */
	const char		*module;
	const char		*token_uri;
	struct hsm_module	*mod;
	struct hsm_session	*sess;
	int			 active;	/* logged in by a quorum */
	struct kr_secret	*so_pin;	/* rehearsal, or --so-pin-file */
	char			 home[PATH_MAX];	/* root state */
	/* rehearsal: generated passphrases, by participant name */
	char			**pnames;
	struct kr_secret	**psecrets;
	size_t			 np;
	struct officer		 officers[255];
	size_t			 nofficers;
	const char		*step;		/* current step id */
};

/* printf to stdout, for the room. */
static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static enum kr_err
log_entry(struct runner *r, const char *type, json_t *f, struct kr_error *err)
{
	if (f == NULL)
		f = json_object();
	if (r->step != NULL && json_object_get(f, "step") == NULL)
		json_object_set_new(f, "step", json_string(r->step));
	return cer_transcript_add(r->t, type, f, err);
}

/* Rehearsal secrets: one generated passphrase per participant. */
static enum kr_err
rehearsal_secret(struct runner *r, const char *name, struct kr_secret **out,
    struct kr_error *err)
{
	char buf[33];
	size_t i;
	enum kr_err rc;

	for (i = 0; i < r->np; i++)
		if (strcmp(r->pnames[i], name) == 0)
			return kr_secret_from_bytes(r->psecrets[i]->buf,
			    r->psecrets[i]->len, out, err);
	for (i = 0; i < 32; i++)
		buf[i] = "abcdefghijkmnpqrstuvwxyz23456789"[randombytes_uniform(
		    32)];
	buf[32] = '\0';
	if ((r->pnames = realloc(r->pnames, (r->np + 1) *
	    sizeof(*r->pnames))) == NULL ||
	    (r->psecrets = realloc(r->psecrets, (r->np + 1) *
	    sizeof(*r->psecrets))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	r->pnames[r->np] = strdup(name);
	if ((rc = kr_secret_from_bytes(buf, 32, &r->psecrets[r->np], err)) !=
	    KR_OK)
		return rc;
	r->np++;
	sodium_memzero(buf, sizeof(buf));
	return kr_secret_from_bytes(r->psecrets[r->np - 1]->buf, 32, out, err);
}

/* A participant's passphrase: generated in rehearsal, else asked. */
static enum kr_err
passphrase(struct runner *r, const char *name, const char *what, int confirm,
    struct kr_secret **out, struct kr_error *err)
{
	if (r->rehearse)
		return rehearsal_secret(r, name, out, err);
	return cli_passphrase(NULL, name, what, confirm, out, err);
}

/* Read one line from the terminal; KR_E_ABORTED on Ctrl-C or EOF. */
static enum kr_err
ask(struct runner *r, const char *q, char *buf, size_t sz,
    struct kr_error *err)
{
	size_t n;

	if (r->tty == NULL)
		return kr_fail(err, KR_E_USAGE, "no terminal: 'ceremony run' "
		    "is interactive (use 'ceremony rehearse' to run unattended)");
	/*
	 * Discard anything typed before the question was shown: an early
	 * "yes" must not answer a question nobody has read yet.
	 */
	(void)tcflush(fileno(r->tty), TCIFLUSH);
	fprintf(r->tty, "%s", q);
	fflush(r->tty);
	clearerr(r->tty);
	if (fgets(buf, (int)sz, r->tty) == NULL || interrupted)
		return kr_fail(err, KR_E_ABORTED, "%s",
		    interrupted ? "interrupted (Ctrl-C)" : "no answer (end of "
		    "input)");
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0') {
		int c;

		/* Too long for any answer: drain it, keep it unmatched. */
		while ((c = fgetc(r->tty)) != EOF && c != '\n')
			;
		snprintf(buf, sz, "(too long)");
		return KR_OK;
	}
	buf[n] = '\0';
	return KR_OK;
}

/*
 * A role confirms: one of its participants types their name and then an
 * exact "yes".  Recorded with who and when.
 */
static enum kr_err
confirm_role(struct runner *r, const char *role_id, const char *what,
    struct kr_error *err)
{
	const struct cer_role *role = cer_script_role(r->s, role_id);
	char who[80], ans[16], q[512];
	size_t i;
	enum kr_err rc;

	if (role == NULL)
		return kr_fail(err, KR_E_INTERNAL, "no role %s", role_id);
	if (r->rehearse) {
		snprintf(who, sizeof(who), "%s", role->participants[0]);
		say("  %s (%s) confirms: yes   [rehearsal]\n", role->title, who);
	} else {
		for (;;) {
			snprintf(q, sizeof(q), "  %s: who confirms? (",
			    role->title);
			for (i = 0; i < role->nparticipants; i++)
				snprintf(q + strlen(q), sizeof(q) - strlen(q),
				    "%s%s", i ? ", " : "",
				    role->participants[i]);
			snprintf(q + strlen(q), sizeof(q) - strlen(q), "): ");
			if ((rc = ask(r, q, who, sizeof(who), err)) != KR_OK)
				return rc;
			for (i = 0; i < role->nparticipants; i++)
				if (strcmp(who, role->participants[i]) == 0)
					break;
			if (i < role->nparticipants)
				break;
			fprintf(r->tty, "  '%s' is not in the role %s\n", who,
			    role->title);
		}
		snprintf(q, sizeof(q), "  %s, %s? Type 'yes' to confirm: ", who,
		    what);
		if ((rc = ask(r, q, ans, sizeof(ans), err)) != KR_OK)
			return rc;
		if (strcmp(ans, "yes") != 0)
			return kr_fail(err, KR_E_ABORTED, "%s (%s) answered "
			    "'%s', not 'yes'", who, role->title, ans);
	}
	return log_entry(r, "confirm", json_pack("{s:s,s:s}", "role",
	    role_id, "who", who), err);
}

/* Path of an output (or input) inside the ceremony directory. */
static void
out_path(const struct runner *r, const char *rel, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s/%s", r->out, rel);
}

/* An input: in the output directory, else in --input DIR. */
static void
in_path(const struct runner *r, const char *rel, char *buf, size_t sz)
{
	out_path(r, rel, buf, sz);
	if (access(buf, R_OK) != 0 && r->input != NULL)
		snprintf(buf, sz, "%s/%s", r->input, rel);
}

/* SHA-256 of a file as hex and grouped. */
static enum kr_err
file_sha256(const char *path, char hex[65], char fpr[KR_FPR_LEN],
    struct kr_error *err)
{
	uint8_t *buf = NULL, md[32];
	size_t len;
	enum kr_err rc;

	if ((rc = kr_file_read(path, 64 << 20, &buf, &len, err)) != KR_OK)
		return rc;
	EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL);
	kr_hex(md, 32, hex);
	if (fpr != NULL)
		kr_fingerprint(buf, len, fpr);
	free(buf);
	return KR_OK;
}

/* Record every declared output of the step that exists, with its hash. */
static enum kr_err
record_outputs(struct runner *r, const struct cer_step *st,
    struct kr_error *err)
{
	char path[PATH_MAX], hex[65], fpr[KR_FPR_LEN];
	size_t i;
	enum kr_err rc;

	for (i = 0; i < st->noutputs; i++) {
		out_path(r, st->outputs[i], path, sizeof(path));
		if ((rc = file_sha256(path, hex, fpr, err)) != KR_OK) {
			kr_error_prefix(err, "step '%s' declared output %s",
			    st->id, st->outputs[i]);
			return rc;
		}
		say("  wrote %s\n    SHA-256 %s\n", st->outputs[i], fpr);
		if ((rc = log_entry(r, "output", json_pack("{s:s,s:s}", "path",
		    st->outputs[i], "sha256", hex), err)) != KR_OK)
			return rc;
	}
	return KR_OK;
}

static const char *
param(const struct cer_step *st, const char *name, const char *def)
{
	const struct cer_param *p = cer_step_param(st, name);

	return p != NULL && p->value != NULL ? p->value : def;
}

static const struct cer_param *
param_list(const struct cer_step *st, const char *name)
{
	const struct cer_param *p = cer_step_param(st, name);

	return p != NULL && p->list != NULL ? p : NULL;
}

/* The key labelled label in the active token, as a signer. */
static enum kr_err
token_key(struct runner *r, const char *label, struct hsm_key **k,
    struct ca_signer *sg, struct kr_error *err)
{
	struct hsm_uri u;
	enum kr_err rc;

	memset(&u, 0, sizeof(u));
	u.slot_id = -1;
	u.object = (char *)(uintptr_t)label;
	rc = hsm_key_find(r->sess, &u, k, err);
	if (rc != KR_OK)
		return rc;
	sg->pub = hsm_key_public(*k);
	sg->sign = cli_signer_hsm;
	sg->arg = *k;
	return KR_OK;
}

/* Show what is about to be signed and ask for the exact yes. */
static enum kr_err
approve_signature(struct runner *r, const char *what, EVP_PKEY *key,
    struct kr_error *err)
{
	unsigned char *der = NULL;
	char fpr[KR_FPR_LEN] = "?", ans[16];
	int n;
	enum kr_err rc;

	if ((n = i2d_PUBKEY(key, &der)) > 0)
		kr_fingerprint(der, (size_t)n, fpr);
	OPENSSL_free(der);
	say("  about to sign %s\n  with the key whose public key SHA-256 is\n"
	    "    %s\n", what, fpr);
	if (r->rehearse) {
		say("  'yes'   [rehearsal]\n");
		return KR_OK;
	}
	if ((rc = ask(r, "  Read the fingerprint aloud.  Type 'yes' to sign: ",
	    ans, sizeof(ans), err)) != KR_OK)
		return rc;
	if (strcmp(ans, "yes") != 0)
		return kr_fail(err, KR_E_ABORTED, "the room answered '%s', not "
		    "'yes', before signing %s", ans, what);
	return KR_OK;
}

static enum kr_err
need_active(struct runner *r, struct kr_error *err)
{
	if (!r->active)
		return kr_fail(err, KR_E_USAGE, "the token is not activated");
	return KR_OK;
}

static enum kr_err
open_token(struct runner *r, struct kr_error *err)
{
	struct hsm_uri u;
	enum kr_err rc;

	if (r->sess != NULL)
		return KR_OK;
	if ((rc = hsm_uri_parse(r->token_uri, &u, err)) != KR_OK)
		return rc;
	if ((rc = hsm_module_load(r->module ? r->module : u.module_path,
	    &r->mod, err)) == KR_OK)
		rc = hsm_open(r->mod, &u, &r->sess, err);
	hsm_uri_free(&u);
	return rc;
}

static enum kr_err
act_quorum_init(struct runner *r, const struct cer_step *st,
    struct kr_error *err)
{
	const struct cer_role *o = cer_script_role(r->s, "officers");
	struct kr_secret **pass = NULL, *pin = NULL;
	char **creds = NULL, *pub = NULL, **files = NULL, path[PATH_MAX];
	json_t *pj = NULL, *arr, *e;
	size_t i;
	enum kr_err rc;

	if ((rc = open_token(r, err)) != KR_OK)
		return rc;
	if (r->so_pin == NULL && (rc = kr_secret_prompt("security officer "
	    "PIN of the token", 0, &r->so_pin, err)) != KR_OK)
		return rc;
	if ((pass = calloc(o->nparticipants, sizeof(*pass))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; i < o->nparticipants; i++)
		if ((rc = passphrase(r, o->participants[i], "a new officer "
		    "credential", 1, &pass[i], err)) != KR_OK)
			goto out;
	if ((rc = cer_quorum_make(r->sess,
	    (const char *const *)o->participants, o->nparticipants,
	    o->threshold, r->rehearse ? CER_KDF_COST_INTERACTIVE :
	    CER_KDF_COST_MODERATE, pass, &creds, &pub, &pin, err)) != KR_OK)
		goto out;
	/* The names the script declares: officers/NAME.cred. */
	if ((files = calloc(o->nparticipants, sizeof(*files))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < o->nparticipants; i++)
		if (asprintf(&files[i], "%s.cred", o->participants[i]) == -1)
			files[i] = NULL;
	out_path(r, "officers", path, sizeof(path));
	if ((rc = cli_write_set(path, "officers.json", pub, files, creds,
	    o->nparticipants, err)) != KR_OK)
		goto out;
	/* Credentials on disk first, then the token's PIN changes. */
	if ((rc = cer_quorum_apply(r->sess, r->so_pin->buf, r->so_pin->len,
	    pin, NULL, err)) != KR_OK)
		goto out;
	/* The officers' public keys go into the chain for the signatures. */
	pj = json_loads(pub, 0, NULL);
	arr = json_array();
	json_array_foreach(json_object_get(pj, "officers"), i, e)
		json_array_append_new(arr, json_pack("{s:O,s:O}", "name",
		    json_object_get(e, "name"), "ed25519",
		    json_object_get(e, "ed25519")));
	rc = log_entry(r, "officers", json_pack("{s:o}", "officers", arr),
	    err);
	say("  the token's user PIN is now random and split %u of %zu among "
	    "the officers\n", o->threshold, o->nparticipants);
	(void)st;
out:
	cli_free_names(files, files != NULL ? o->nparticipants : 0);
	kr_secret_free(pin);
	json_decref(pj);
	if (pass != NULL)
		for (i = 0; i < o->nparticipants; i++)
			kr_secret_free(pass[i]);
	free(pass);
	if (creds != NULL)
		for (i = 0; i < o->nparticipants; i++)
			free(creds[i]);
	free(creds);
	free(pub);
	return rc;
}

/* Load officer name's credential from the ceremony or input directory. */
static enum kr_err
load_cred(struct runner *r, const char *name, struct cer_armor **a,
    char *path, size_t psz, struct kr_error *err)
{
	uint8_t *buf = NULL;
	size_t len;
	char rel[160];
	enum kr_err rc;

	snprintf(rel, sizeof(rel), "officers/%s.cred", name);
	in_path(r, rel, path, psz);
	if ((rc = kr_file_read(path, CER_ARMOR_TEXT_MAX, &buf, &len, err)) ==
	    KR_OK)
		rc = cer_armor_parse((char *)buf, len, a, err);
	free(buf);
	return rc;
}

static enum kr_err
act_activate(struct runner *r, const struct cer_step *st,
    struct kr_error *err)
{
	const struct cer_role *o = cer_script_role(r->s, "officers");
	struct cer_armor *creds[255] = { 0 };
	struct kr_secret *pass[255] = { 0 }, *pin = NULL;
	char paths[255][PATH_MAX], who[80], q[256];
	const char *names[255];
	json_t *arr = NULL;
	size_t n = 0, i, j;
	enum kr_err rc;

	(void)st;
	if ((rc = open_token(r, err)) != KR_OK)
		return rc;
	say("  %u of the officers (%zu) unlock their credentials\n",
	    o->threshold, o->nparticipants);
	while (n < o->threshold) {
		if (r->rehearse)
			snprintf(who, sizeof(who), "%s", o->participants[n]);
		else {
			snprintf(q, sizeof(q), "  officer %zu of %u, your name: ",
			    n + 1, o->threshold);
			if ((rc = ask(r, q, who, sizeof(who), err)) != KR_OK)
				goto out;
		}
		for (i = 0; i < o->nparticipants; i++)
			if (strcmp(who, o->participants[i]) == 0)
				break;
		for (j = 0; j < n; j++)
			if (strcmp(who, creds[j]->hdr.holder) == 0)
				break;
		if (i == o->nparticipants || j < n) {
			fprintf(r->tty ? r->tty : stderr, "  '%s' is not an "
			    "officer, or has activated already\n", who);
			continue;
		}
		if ((rc = load_cred(r, who, &creds[n], paths[n],
		    sizeof(paths[n]), err)) != KR_OK)
			goto out;
		names[n] = paths[n];
		if ((rc = passphrase(r, who, paths[n], 0, &pass[n], err)) !=
		    KR_OK)
			goto out;
		n++;
	}
	if ((rc = cer_quorum_pin(creds, names, pass, n,
	    hsm_session_label(r->sess), hsm_session_serial(r->sess), &pin,
	    err)) != KR_OK ||
	    (rc = hsm_login(r->sess, 0, pin->buf, pin->len, err)) != KR_OK)
		goto out;
	r->active = 1;
	/* Keep the officers' signing keys to sign the transcript at the end. */
	arr = json_array();
	for (i = 0; i < n; i++) {
		struct officer *of;

		for (j = 0; j < r->nofficers; j++)
			if (strcmp(r->officers[j].name, creds[i]->hdr.holder) ==
			    0)
				break;
		if (j < r->nofficers)
			continue;
		of = &r->officers[r->nofficers];
		if ((rc = cer_officer_signing_key(creds[i], pass[i], &of->sk,
		    of->pk, err)) != KR_OK)
			goto out;
		snprintf(of->name, sizeof(of->name), "%s", creds[i]->hdr.holder);
		r->nofficers++;
		{
			char hx[65];

			kr_hex(of->pk, 32, hx);
			json_array_append_new(arr, json_pack("{s:s,s:s}", "name",
			    of->name, "ed25519", hx));
		}
	}
	rc = log_entry(r, "officers", json_pack("{s:O}", "officers", arr),
	    err);
	if (rc == KR_OK)
		say("  token '%s' activated by %zu officers\n",
		    hsm_session_label(r->sess), n);
out:
	json_decref(arr);
	kr_secret_free(pin);
	for (i = 0; i < n + 1 && i < 255; i++) {
		cer_armor_free(creds[i]);
		kr_secret_free(pass[i]);
	}
	return rc;
}

static enum kr_err
act_keygen(struct runner *r, const struct cer_step *st, struct kr_error *err)
{
	const char *label = param(st, "label", NULL);
	const char *type = param(st, "type", "ec-p384");
	const char *backup = param(st, "backup", "true");
	struct hsm_key *k = NULL;
	unsigned char *der = NULL;
	char fpr[KR_FPR_LEN] = "", hex[65];
	uint8_t md[32];
	int n;
	enum kr_err rc;

	if ((rc = need_active(r, err)) != KR_OK ||
	    (rc = hsm_keygen(r->sess, label, hsm_keytype_from_name(type),
	    strcmp(backup, "false") == 0 ? 0 : HSM_KEYGEN_EXTRACTABLE, &k,
	    err)) != KR_OK)
		return rc;
	if ((n = i2d_PUBKEY(hsm_key_public(k), &der)) > 0) {
		kr_fingerprint(der, (size_t)n, fpr);
		EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL);
		kr_hex(md, 32, hex);
	}
	OPENSSL_free(der);
	say("  generated %s key '%s' inside token '%s'\n  public key SHA-256:\n"
	    "    %s\n", type, label, hsm_session_label(r->sess), fpr);
	rc = log_entry(r, "key", json_pack("{s:s,s:s,s:s,s:s}", "label", label,
	    "key_type", type, "spki_sha256", hex, "fingerprint", fpr), err);
	hsm_key_free(k);
	return rc;
}

/* Build, lint, approve, sign and write a certificate. */
static enum kr_err
sign_and_write(struct runner *r, X509 *tbs, const struct pol_profile *p,
    X509 *issuer, struct hsm_key *k, const struct ca_signer *sg,
    const char *what, const char *out, X509 **cert, struct kr_error *err)
{
	char path[PATH_MAX];
	time_t now = kr_now();
	enum kr_err rc;

	(void)k;
	out_path(r, out, path, sizeof(path));
	if ((rc = kr_out_check(path, 0, err)) != KR_OK ||
	    (rc = ca_precheck_cert(tbs, sg->pub, p, issuer, now, err)) !=
	    KR_OK ||
	    (rc = approve_signature(r, what, sg->pub, err)) != KR_OK ||
	    (rc = ca_sign_cert(tbs, sg, p, issuer, now, cert, err)) != KR_OK)
		return rc;
	return ca_write_cert(path, *cert, 0, err);
}

static enum kr_err
names_of(const struct cer_step *st, struct ca_names *n)
{
	const struct cer_param *d = param_list(st, "permitted_dns");
	const struct cer_param *i = param_list(st, "permitted_ip");

	n->dns = d ? (const char **)d->list : NULL;
	n->ndns = d ? d->nlist : 0;
	n->ip = i ? (const char **)i->list : NULL;
	n->nip = i ? i->nlist : 0;
	return KR_OK;
}

static enum kr_err
act_root_selfsign(struct runner *r, const struct cer_step *st,
    struct kr_error *err)
{
	struct pol_profile prof;
	struct ca_signer sg;
	struct ca_names names;
	struct ca_rootstate *rs = NULL;
	struct hsm_key *k = NULL;
	X509 *tbs = NULL, *cert = NULL, *model = NULL;
	const char *from = param(st, "constraints_from", NULL);
	char mp[PATH_MAX], nc[512];
	long long days = kr_parse_duration(param(st, "days", "3650"), 'd');
	enum kr_err rc;

	names_of(st, &names);
	if (from != NULL)
		in_path(r, from, mp, sizeof(mp));
	if ((rc = need_active(r, err)) != KR_OK ||
	    (rc = pol_profile_find(param(st, "profile", "root"), &prof,
	    err)) != KR_OK ||
	    (from != NULL && (rc = ca_load_cert(mp, &model, err)) != KR_OK) ||
	    (rc = token_key(r, param(st, "key", NULL), &k, &sg, err)) !=
	    KR_OK)
		goto out;
	rc = model != NULL ? ca_root_build_like(param(st, "subject", NULL),
	    sg.pub, &prof, days, model, from, kr_now(), &tbs, err) :
	    ca_root_build(param(st, "subject", NULL), sg.pub, &prof, days,
	    &names, kr_now(), &tbs, err);
	if (rc != KR_OK)
		goto out;
	if (model != NULL) {
		ca_name_constraints_text(tbs, nc, sizeof(nc));
		say("  name constraints, copied exactly from %s:\n    %s\n",
		    from, nc);
	}
	if ((rc = sign_and_write(r, tbs, &prof, NULL, k, &sg,
	    "the self-signed root certificate", param(st, "out", NULL), &cert,
	    err)) != KR_OK ||
	    (rc = ca_rootstate_open(r->home, cert, &rs, err)) != KR_OK)
		goto out;
	{
		char fpr[KR_FPR_LEN];

		ca_cert_fingerprint(cert, fpr);
		say("  root certificate SHA-256 (read it aloud):\n    %s\n", fpr);
	}
out:
	ca_rootstate_close(rs);
	X509_free(model);
	X509_free(tbs);
	X509_free(cert);
	hsm_key_free(k);
	return rc;
}

static enum kr_err
act_sign_csr(struct runner *r, const struct cer_step *st,
    struct kr_error *err)
{
	struct pol_profile prof;
	struct ca_signer sg;
	struct ca_names names = { 0 };
	struct ca_rootstate *rs = NULL;
	struct hsm_key *k = NULL;
	X509 *ca = NULL, *tbs = NULL, *cert = NULL;
	X509_REQ *csr = NULL;
	char cap[PATH_MAX], csrp[PATH_MAX];
	long long days;
	enum kr_err rc;

	in_path(r, param(st, "ca", "root.pem"), cap, sizeof(cap));
	in_path(r, param(st, "csr", NULL), csrp, sizeof(csrp));
	if ((rc = need_active(r, err)) != KR_OK ||
	    (rc = pol_profile_find(param(st, "profile", "intermediate"), &prof,
	    err)) != KR_OK ||
	    (rc = ca_load_cert(cap, &ca, err)) != KR_OK ||
	    (rc = ca_load_csr(csrp, &csr, err)) != KR_OK)
		goto out;
	days = param(st, "days", NULL) ? kr_parse_duration(param(st, "days",
	    NULL), 'd') : prof.default_validity;
	if ((rc = ca_intermediate_build(csr, ca, &prof, days, &names, kr_now(),
	    &tbs, err)) != KR_OK ||
	    (rc = token_key(r, param(st, "key", NULL), &k, &sg, err)) !=
	    KR_OK ||
	    (rc = ca_rootstate_open(r->home, ca, &rs, err)) != KR_OK ||
	    (rc = sign_and_write(r, tbs, &prof, ca, k, &sg,
	    "the intermediate certificate", param(st, "out", NULL), &cert,
	    err)) != KR_OK)
		goto out;
	rc = ca_rootstate_record_issued(rs, cert, err);
out:
	ca_rootstate_close(rs);
	X509_free(ca);
	X509_free(tbs);
	X509_free(cert);
	X509_REQ_free(csr);
	hsm_key_free(k);
	return rc;
}

static enum kr_err
act_crl(struct runner *r, const struct cer_step *st, struct kr_error *err)
{
	const struct cer_param *rv = param_list(st, "revoke");
	struct ca_signer sg;
	struct ca_rootstate *rs = NULL;
	struct hsm_key *k = NULL;
	X509 *ca = NULL, *certs[64] = { 0 };
	X509_CRL *crl = NULL;
	ASN1_INTEGER *num = NULL;
	char cap[PATH_MAX], path[PATH_MAX];
	long long next = kr_parse_duration(param(st, "next_update", "180d"),
	    'd');
	size_t nrev = 0, ncerts = 0, i;
	time_t now = kr_now();
	enum kr_err rc;

	in_path(r, param(st, "ca", "root.pem"), cap, sizeof(cap));
	out_path(r, param(st, "out", NULL), path, sizeof(path));
	if ((rc = need_active(r, err)) != KR_OK ||
	    (rc = kr_out_check(path, 0, err)) != KR_OK ||
	    (rc = ca_load_cert(cap, &ca, err)) != KR_OK ||
	    (rc = token_key(r, param(st, "key", NULL), &k, &sg, err)) !=
	    KR_OK ||
	    (rc = ca_rootstate_open(r->home, ca, &rs, err)) != KR_OK)
		goto out;
	/* Each certificate to revoke must be one this root issued. */
	for (i = 0; rv != NULL && i < rv->nlist; i++) {
		char cp[PATH_MAX];

		if (ncerts == sizeof(certs) / sizeof(certs[0])) {
			rc = kr_fail(err, KR_E_USAGE, "step '%s': more than %zu "
			    "certificates to revoke", st->id, ncerts);
			goto out;
		}
		in_path(r, rv->list[i], cp, sizeof(cp));
		if ((rc = ca_load_cert(cp, &certs[ncerts], err)) != KR_OK)
			goto out;
		if (!ca_issued_by(certs[ncerts++], ca)) {
			rc = kr_fail(err, KR_E_USAGE, "%s: not issued by %s",
			    rv->list[i], param(st, "ca", "root.pem"));
			goto out;
		}
	}
	/* Nothing is recorded before the room says yes. */
	if ((rc = approve_signature(r, "the root CRL", sg.pub, err)) != KR_OK ||
	    (rc = ca_rootstate_crl(rs, ca, &sg, certs, NULL, ncerts, next, now,
	    NULL, &crl, &num, &nrev, err)) != KR_OK ||
	    (rc = ca_write_crl(path, crl, 0, err)) != KR_OK)
		goto out;
	{
		char *ns = i2s_ASN1_INTEGER(NULL, num);

		say("  CRL number %s, %zu revoked\n", ns ? ns : "?", nrev);
		OPENSSL_free(ns);
	}
out:
	for (i = 0; i < ncerts; i++)
		X509_free(certs[i]);
	ASN1_INTEGER_free(num);
	ca_rootstate_close(rs);
	X509_free(ca);
	X509_CRL_free(crl);
	hsm_key_free(k);
	return rc;
}

static enum kr_err
act_backup_create(struct runner *r, const struct cer_step *st,
    struct kr_error *err)
{
	const struct cer_role *c = cer_script_role(r->s, "custodians");
	struct kr_secret **pass = NULL;
	struct ca_signer sg;
	struct hsm_key *k = NULL;
	X509 *root = NULL;
	char *blob = NULL, **shares = NULL, **files = NULL, dir[PATH_MAX],
	    cap[PATH_MAX];
	const char *out = param(st, "out", "backup");
	uint8_t fpr[32];
	size_t i;
	enum kr_err rc;

	in_path(r, param(st, "ca", "root.pem"), cap, sizeof(cap));
	out_path(r, out, dir, sizeof(dir));
	if ((rc = need_active(r, err)) != KR_OK ||
	    (rc = token_key(r, param(st, "key", NULL), &k, &sg, err)) !=
	    KR_OK ||
	    (rc = ca_load_cert(cap, &root, err)) != KR_OK)
		goto out;
	ca_cert_sha256(root, fpr);
	if ((pass = calloc(c->nparticipants, sizeof(*pass))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < c->nparticipants; i++)
		if ((rc = passphrase(r, c->participants[i], "a new backup "
		    "share", 1, &pass[i], err)) != KR_OK)
			goto out;
	if ((rc = cer_backup_create(k, fpr, (const char *const *)
	    c->participants, c->nparticipants, c->threshold, r->rehearse ?
	    CER_KDF_COST_INTERACTIVE : CER_KDF_COST_MODERATE, kr_now(), pass,
	    &blob, &shares, err)) != KR_OK)
		goto out;
	/* The names the script declares: OUT/share-NAME.txt. */
	if ((files = calloc(c->nparticipants, sizeof(*files))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < c->nparticipants; i++)
		if (asprintf(&files[i], "share-%s.txt",
		    c->participants[i]) == -1)
			files[i] = NULL;
	if ((rc = cli_write_set(dir, "backup.blob", blob, files, shares,
	    c->nparticipants, err)) != KR_OK)
		goto out;
	say("  key split %u of %zu among the custodians\n", c->threshold,
	    c->nparticipants);
out:
	cli_free_names(files, files != NULL ? c->nparticipants : 0);
	if (pass != NULL)
		for (i = 0; i < c->nparticipants; i++)
			kr_secret_free(pass[i]);
	free(pass);
	if (shares != NULL)
		for (i = 0; i < c->nparticipants; i++)
			free(shares[i]);
	free(shares);
	free(blob);
	X509_free(root);
	hsm_key_free(k);
	return rc;
}

static enum kr_err
act_backup_restore(struct runner *r, const struct cer_step *st,
    struct kr_error *err)
{
	const struct cer_role *c = cer_script_role(r->s, "custodians");
	struct cer_backup *b = NULL;
	struct cer_armor *sh[255] = { 0 };
	struct kr_secret *pass[255] = { 0 };
	struct hsm_key *k = NULL;
	char blobp[PATH_MAX], paths[255][PATH_MAX], rel[200], cap[PATH_MAX];
	const char *names[255];
	uint8_t *buf = NULL, *w = NULL;
	X509 *root = NULL;
	size_t len, n = 0, i;
	enum kr_err rc;

	in_path(r, param(st, "backup", "backup/backup.blob"), blobp,
	    sizeof(blobp));
	in_path(r, param(st, "ca", "root.pem"), cap, sizeof(cap));
	if ((rc = need_active(r, err)) != KR_OK ||
	    (rc = kr_file_read(blobp, CER_BACKUP_MAX, &buf, &len, err)) !=
	    KR_OK ||
	    (rc = cer_backup_parse((char *)buf, len, blobp, &b, err)) !=
	    KR_OK ||
	    (rc = ca_load_cert(cap, &root, err)) != KR_OK)
		goto out;
	for (i = 0; i < c->nparticipants && n < c->threshold; i++) {
		const char *bp = param(st, "backup", "backup/backup.blob");
		const char *slash = strrchr(bp, '/');
		uint8_t *t = NULL;
		size_t tl;

		/* The shares sit beside the blob, as backup-create left them. */
		snprintf(rel, sizeof(rel), "%.*sshare-%s.txt",
		    slash ? (int)(slash - bp + 1) : 0, bp, c->participants[i]);
		in_path(r, rel, paths[n], sizeof(paths[n]));
		if (access(paths[n], R_OK) != 0)
			continue;
		if ((rc = kr_file_read(paths[n], CER_ARMOR_TEXT_MAX, &t, &tl,
		    err)) == KR_OK)
			rc = cer_armor_parse((char *)t, tl, &sh[n], err);
		free(t);
		if (rc != KR_OK ||
		    (rc = passphrase(r, c->participants[i], paths[n], 0,
		    &pass[n], err)) != KR_OK)
			goto out;
		names[n] = paths[n];
		n++;
	}
	if ((rc = cer_backup_unlock(b, sh, names, pass, n, &w, err)) != KR_OK ||
	    (rc = cer_backup_restore(r->sess, b, w, param(st, "label", NULL),
	    X509_get0_pubkey(root), &k, err)) != KR_OK)
		goto out;
	say("  restored key '%s' into token '%s' and proved it against the "
	    "root certificate\n", hsm_key_label(k), hsm_session_label(r->sess));
	rc = log_entry(r, "record", json_pack("{s:s}", "text", "key restored "
	    "and proved against the root certificate"), err);
out:
	sodium_free(w);
	for (i = 0; i < n; i++) {
		cer_armor_free(sh[i]);
		kr_secret_free(pass[i]);
	}
	free(buf);
	X509_free(root);
	cer_backup_free(b);
	hsm_key_free(k);
	return rc;
}

/* "CN=...,O=..." of a certificate's subject or issuer, for the room. */
static void
name_text(X509_NAME *n, char *buf, size_t sz)
{
	char *s = X509_NAME_oneline(n, NULL, 0);

	snprintf(buf, sz, "%s", s != NULL ? s : "?");
	OPENSSL_free(s);
}

static enum kr_err
act_cross_sign(struct runner *r, const struct cer_step *st,
    struct kr_error *err)
{
	struct pol_profile prof;
	struct ca_signer sg;
	struct ca_rootstate *rs = NULL;
	struct hsm_key *k = NULL;
	X509 *ca = NULL, *subj = NULL, *tbs = NULL, *cert = NULL;
	const char *days = param(st, "days", NULL), *key = param(st, "key",
	    NULL), *cap_rel = param(st, "ca", "root.pem");
	char cap[PATH_MAX], certp[PATH_MAX], a[256], b[256], nc[512],
	    fpr[KR_FPR_LEN], t1[32];
	long long validity = days != NULL ? kr_parse_duration(days, 'd') : 0;
	time_t now = kr_now(), na = 0;
	enum kr_err rc;

	in_path(r, cap_rel, cap, sizeof(cap));
	in_path(r, param(st, "cert", "?"), certp, sizeof(certp));
	if ((rc = need_active(r, err)) != KR_OK ||
	    (rc = ca_load_cert(cap, &ca, err)) != KR_OK ||
	    (rc = ca_load_cert(certp, &subj, err)) != KR_OK)
		goto out;
	/* The same build and lint as keyrite root cross-sign. */
	if ((rc = ca_cross_prepare(subj, ca, NULL, validity, now, &prof, &tbs,
	    err)) != KR_OK) {
		kr_error_prefix(err, "%s", param(st, "cert", "?"));
		goto out;
	}
	if ((rc = token_key(r, key, &k, &sg, err)) != KR_OK)
		goto out;
	if (EVP_PKEY_eq(sg.pub, X509_get0_pubkey(ca)) != 1) {
		rc = kr_fail(err, KR_E_USAGE, "step '%s': key '%s' is not the "
		    "key certified in %s", st->id, key, cap_rel);
		goto out;
	}
	if ((rc = ca_rootstate_open(r->home, ca, &rs, err)) != KR_OK)
		goto out;
	name_text(X509_get_subject_name(tbs), a, sizeof(a));
	name_text(X509_get_issuer_name(tbs), b, sizeof(b));
	ca_name_constraints_text(tbs, nc, sizeof(nc));
	(void)ca_time_from_asn1(X509_get0_notAfter(tbs), &na);
	ca_time_rfc3339(na, t1);
	say("  cross-certificate for %s\n    issued by %s\n"
	    "    name constraints: %s\n    valid until %s\n", a, b, nc, t1);
	if ((rc = sign_and_write(r, tbs, &prof, ca, k, &sg,
	    "the cross-certificate", param(st, "out", "?"), &cert, err)) !=
	    KR_OK ||
	    (rc = ca_rootstate_record_issued(rs, cert, err)) != KR_OK)
		goto out;
	ca_cert_fingerprint(cert, fpr);
	say("  cross-certificate SHA-256 (read it aloud):\n    %s\n", fpr);
out:
	ca_rootstate_close(rs);
	X509_free(ca);
	X509_free(subj);
	X509_free(tbs);
	X509_free(cert);
	hsm_key_free(k);
	return rc;
}

/* SHA-256 of bytes as hex and grouped. */
static void
bytes_sha256(const uint8_t *buf, size_t len, char hex[65],
    char fpr[KR_FPR_LEN])
{
	uint8_t md[32];

	EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL);
	kr_hex(md, 32, hex);
	kr_fingerprint(buf, len, fpr);
}

/* What a manifest says, for the room. */
static void
say_manifest(const char *dir, const struct ca_manifest *m)
{
	char t[32], hex[65], fpr[KR_FPR_LEN];
	size_t i;

	ca_time_rfc3339(m->expires, t);
	say("  bundle %s: version %lld, expires %s\n", dir, m->version, t);
	if (m->has_previous) {
		kr_hex(m->previous, 32, hex);
		say("    follows the bundle whose manifest SHA-256 is %s\n",
		    hex);
	} else
		say("    the first bundle (no previous one)\n");
	for (i = 0; i < m->nanchors; i++) {
		kr_hex(m->anchors[i].sha256, 32, hex);
		say("    %-9s %s\n              SHA-256 %s\n",
		    ca_anchor_state_name(m->anchors[i].state),
		    m->anchors[i].subject, hex);
		if (m->anchors[i].state == CA_ANCHOR_RETIRING) {
			ca_time_rfc3339(m->anchors[i].remove_after, t);
			say("              remove after %s\n", t);
		}
	}
	for (i = 0; i < m->ncross; i++)
		say("    cross     %s\n              issued by %s\n",
		    m->cross[i].subject, m->cross[i].issuer);
	(void)fpr;
}

static enum kr_err
act_bundle_build(struct runner *r, const struct cer_step *st,
    struct kr_error *err)
{
	static const char *const lists[] = { "active", "next", "retiring" };
	static const enum ca_anchor_state states_of[] = { CA_ANCHOR_ACTIVE,
	    CA_ANCHOR_NEXT, CA_ANCHOR_RETIRING };
	const struct cer_param *p, *cr = param_list(st, "cross");
	struct ca_bundle_request req;
	struct ca_manifest m = { 0 };
	enum ca_anchor_state states[CA_BUNDLE_MAX_ANCHORS];
	char **anchors = NULL, **cross = NULL, prev[PATH_MAX],
	    dir[PATH_MAX], path[PATH_MAX + 32], hex[65], fpr[KR_FPR_LEN];
	const char *ra = param(st, "remove_after", NULL);
	const char *pv = param(st, "previous", NULL);
	size_t na = 0, nc = 0, i, j;
	uint8_t *buf = NULL;
	size_t len;
	enum kr_err rc;

	if ((anchors = calloc(CA_BUNDLE_MAX_ANCHORS + 1, sizeof(char *))) ==
	    NULL || (cross = calloc(CA_BUNDLE_MAX_CROSS + 1,
	    sizeof(char *))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	/* Anchors in the manifest: active, then next, then retiring. */
	for (i = 0; i < 3; i++) {
		if ((p = param_list(st, lists[i])) == NULL)
			continue;
		for (j = 0; j < p->nlist && na < CA_BUNDLE_MAX_ANCHORS; j++) {
			in_path(r, p->list[j], path, sizeof(path));
			if ((anchors[na] = strdup(path)) == NULL) {
				rc = kr_fail(err, KR_E_NOMEM, "out of memory");
				goto out;
			}
			states[na++] = states_of[i];
		}
	}
	for (j = 0; cr != NULL && j < cr->nlist && nc < CA_BUNDLE_MAX_CROSS;
	    j++) {
		in_path(r, cr->list[j], path, sizeof(path));
		if ((cross[nc++] = strdup(path)) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if (pv != NULL)
		in_path(r, pv, prev, sizeof(prev));
	out_path(r, param(st, "out", "?"), dir, sizeof(dir));
	req = (struct ca_bundle_request){
		.anchors = (const char *const *)anchors, .states = states,
		.nanchors = na, .cross = (const char *const *)cross,
		.ncross = nc, .previous = pv != NULL ? prev : NULL,
		.remove_after = ra != NULL ? ca_date_parse(ra) : 0,
		.lifetime = kr_parse_duration(param(st, "expires", "90d"), 'd'),
		.now = kr_now(), .out = dir,
	};
	if ((rc = cli_outdir_check(dir, err)) != KR_OK ||
	    (rc = ca_bundle_make(&req, &m, err)) != KR_OK)
		goto out;
	say_manifest(param(st, "out", "?"), &m);
	snprintf(path, sizeof(path), "%s/%s", dir, CA_BUNDLE_MANIFEST);
	if ((rc = kr_file_read(path, CA_BUNDLE_MANIFEST_MAX, &buf, &len,
	    err)) != KR_OK)
		goto out;
	bytes_sha256(buf, len, hex, fpr);
	say("  manifest.json SHA-256 (read it aloud):\n    %s\n", fpr);
	{
		char text[PATH_MAX + 64];

		snprintf(text, sizeof(text), "rotation bundle %s built: version %lld, "
		    "%zu anchors, %zu cross-certificates, unsigned",
		    param(st, "out", "?"), m.version, m.nanchors, m.ncross);
		rc = log_entry(r, "record", json_pack("{s:s,s:I,s:s}", "text",
		    text, "version", (json_int_t)m.version, "manifest_sha256",
		    hex), err);
	}
out:
	free(buf);
	ca_manifest_free(&m);
	for (i = 0; anchors != NULL && i < na; i++)
		free(anchors[i]);
	for (i = 0; cross != NULL && i < nc; i++)
		free(cross[i]);
	free(anchors);
	free(cross);
	return rc;
}

static enum kr_err
act_bundle_sign(struct runner *r, const struct cer_step *st,
    struct kr_error *err)
{
	const char *rel = param(st, "bundle", "?"), *key = param(st, "key",
	    "?"), *cert_rel = param(st, "cert", "?");
	const struct ca_file *mf, *sf;
	struct ca_files files = { 0 };
	struct ca_bundle_sigs sigs;
	struct ca_signer sg;
	struct hsm_key *k = NULL;
	X509 *cert = NULL;
	char dir[PATH_MAX], certp[PATH_MAX], subj[256], what[PATH_MAX + 512],
	    mhex[65], mfpr[KR_FPR_LEN], shex[65], sfpr[KR_FPR_LEN], khex[65];
	unsigned char *der = NULL;
	uint8_t md[32];
	int n;
	enum kr_err rc;

	out_path(r, rel, dir, sizeof(dir));
	in_path(r, cert_rel, certp, sizeof(certp));
	/* The same checks as keyrite bundle sign, before the key. */
	if ((rc = need_active(r, err)) != KR_OK ||
	    (rc = ca_bundle_sign_prepare(dir, certp, &files, &cert, err)) !=
	    KR_OK ||
	    (rc = token_key(r, key, &k, &sg, err)) != KR_OK)
		goto out;
	if ((mf = ca_files_get(&files, CA_BUNDLE_MANIFEST)) == NULL) {
		rc = kr_fail(err, KR_E_INTERNAL, "%s: no manifest", rel);
		goto out;
	}
	bytes_sha256(mf->data, mf->len, mhex, mfpr);
	name_text(X509_get_subject_name(cert), subj, sizeof(subj));
	say("  %s/%s SHA-256 (compare it with the value read at the build):"
	    "\n    %s\n  signer: %s (%s)\n", rel, CA_BUNDLE_MANIFEST, mfpr, subj,
	    cert_rel);
	snprintf(what, sizeof(what), "%s/%s as %s", rel, CA_BUNDLE_MANIFEST,
	    subj);
	if ((rc = approve_signature(r, what, sg.pub, err)) != KR_OK ||
	    (rc = ca_bundle_sign_dir(dir, &files, &sg, key, cert, cert_rel,
	    kr_now(), &sigs, err)) != KR_OK)
		goto out;
	if ((sf = ca_files_get(&files, CA_BUNDLE_SIG)) == NULL) {
		rc = kr_fail(err, KR_E_INTERNAL, "%s: no signature", rel);
		goto out;
	}
	bytes_sha256(sf->data, sf->len, shex, sfpr);
	khex[0] = '\0';
	if ((n = i2d_PUBKEY(sg.pub, &der)) > 0) {
		EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL);
		kr_hex(md, 32, khex);
	}
	OPENSSL_free(der);
	say("  %s/%s now carries %zu signature%s\n", rel, CA_BUNDLE_SIG,
	    sigs.n, sigs.n == 1 ? "" : "s");
	{
		char text[PATH_MAX + 300], file[PATH_MAX];

		snprintf(text, sizeof(text), "%s/%s signed by %s", rel,
		    CA_BUNDLE_MANIFEST, subj);
		snprintf(file, sizeof(file), "%s/%s", rel, CA_BUNDLE_SIG);
		rc = log_entry(r, "record", json_pack("{s:s,s:s,s:s,s:s,s:s,"
		    "s:I}", "text", text, "file", file, "sha256", shex,
		    "manifest_sha256", mhex, "spki_sha256", khex, "signatures",
		    (json_int_t)sigs.n), err);
	}
out:
	ca_files_free(&files);
	X509_free(cert);
	hsm_key_free(k);
	return rc;
}

static enum kr_err
act_bundle_verify(struct runner *r, const struct cer_step *st,
    struct kr_error *err)
{
	const struct cer_param *tp = param_list(st, "trust");
	const char *rel = param(st, "bundle", "?"), *pv = param(st,
	    "previous", NULL);
	struct ca_bundle_sigs sigs;
	struct ca_manifest m = { 0 };
	char bp[PATH_MAX], prev[PATH_MAX], **trust = NULL, names[1024];
	size_t min = (size_t)strtoul(param(st, "min_signatures", "1"), NULL,
	    10), nt = 0, i, o = 0;
	enum kr_err rc;

	memset(&sigs, 0, sizeof(sigs));
	names[0] = '\0';
	in_path(r, rel, bp, sizeof(bp));
	if (pv != NULL)
		in_path(r, pv, prev, sizeof(prev));
	if ((trust = calloc(tp->nlist + 1, sizeof(char *))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < tp->nlist; i++) {
		char path[PATH_MAX];

		in_path(r, tp->list[i], path, sizeof(path));
		if ((trust[nt++] = strdup(path)) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		if (o < sizeof(names))
			o += (size_t)snprintf(names + o, sizeof(names) - o,
			    "%s%s", i > 0 ? ", " : "", tp->list[i]);
	}
	/* The same checks as keyrite bundle verify. */
	if ((rc = ca_bundle_verify_path(bp, (const char *const *)trust, nt,
	    min, pv != NULL ? prev : NULL, kr_now(), &m, &sigs, err)) !=
	    KR_OK) {
		kr_error_prefix(err, "%s (trusting %s)", rel, names);
		goto out;
	}
	say("  %s verifies trusting only %s: version %lld, signed by %zu "
	    "trusted key%s (%zu required)%s\n", rel, names, m.version,
	    sigs.ntrusted, sigs.ntrusted == 1 ? "" : "s", min,
	    pv != NULL ? ", follows the previous bundle" : "");
	{
		char text[PATH_MAX + 1200];

		snprintf(text, sizeof(text), "%s verifies trusting only %s: "
		    "%zu trusted signatures, %zu required", rel, names,
		    sigs.ntrusted, min);
		rc = log_entry(r, "record", json_pack("{s:s}", "text", text),
		    err);
	}
out:
	ca_manifest_free(&m);
	for (i = 0; trust != NULL && i < nt; i++)
		free(trust[i]);
	free(trust);
	return rc;
}

static enum kr_err
act_bundle_pack(struct runner *r, const struct cer_step *st,
    struct kr_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	size_t nfiles = 0, nsigs = 0;
	enum kr_err rc;

	in_path(r, param(st, "bundle", "?"), dir, sizeof(dir));
	out_path(r, param(st, "out", "?"), path, sizeof(path));
	if ((rc = ca_bundle_pack(dir, path, 0, &nfiles, &nsigs, err)) !=
	    KR_OK)
		return rc;
	say("  packed %s: %zu files, %zu signature%s\n",
	    param(st, "bundle", "?"), nfiles, nsigs, nsigs == 1 ? "" : "s");
	return KR_OK;
}

static enum kr_err
act_record(struct runner *r, const struct cer_step *st, struct kr_error *err)
{
	const char *text = param(st, "text", NULL), *file = param(st, "file",
	    NULL);
	char path[PATH_MAX], hex[65], fpr[KR_FPR_LEN];
	enum kr_err rc;

	if (file == NULL)
		return log_entry(r, "record", json_pack("{s:s}", "text",
		    text ? text : ""), err);
	in_path(r, file, path, sizeof(path));
	if ((rc = file_sha256(path, hex, fpr, err)) != KR_OK)
		return rc;
	say("  %s SHA-256 %s\n", file, fpr);
	{
		char what[512];

		snprintf(what, sizeof(what), "SHA-256 of %s recorded", file);
		return log_entry(r, "record", json_pack("{s:s,s:s,s:s}", "text",
		    what, "file", file, "sha256", hex), err);
	}
}

static enum kr_err
act_verify_file(struct runner *r, const struct cer_step *st,
    struct kr_error *err)
{
	const char *file = param(st, "file", NULL);
	const char *expect = param(st, "expect", NULL);
	char path[PATH_MAX], hex[65], fpr[KR_FPR_LEN], ans[16];
	enum kr_err rc;

	in_path(r, file, path, sizeof(path));
	if ((rc = file_sha256(path, hex, fpr, err)) != KR_OK)
		return rc;
	say("  %s SHA-256:\n    %s\n", file, fpr);
	if (expect != NULL) {
		if (strcasecmp(expect, hex) != 0)
			return kr_fail(err, KR_E_VERIFY, "%s: SHA-256 is %s, the "
			    "script expects %s", file, hex, expect);
	} else if (!r->rehearse) {
		if ((rc = ask(r, "  Does it match the value read aloud? Type "
		    "'yes': ", ans, sizeof(ans), err)) != KR_OK)
			return rc;
		if (strcmp(ans, "yes") != 0)
			return kr_fail(err, KR_E_ABORTED, "%s does not match the "
			    "value read aloud", file);
	}
	{
		char text[512];

		snprintf(text, sizeof(text), "SHA-256 of %s %s", file, expect ?
		    "matches the script" : r->rehearse ? "shown (rehearsal: "
		    "not read aloud)" : "matches the value read aloud");
		return log_entry(r, "record", json_pack("{s:s,s:s,s:s}", "text",
		    text, "file", file, "sha256", hex), err);
	}
}

static enum kr_err
act_deactivate(struct runner *r, struct kr_error *err)
{
	if (r->sess != NULL)
		hsm_logout(r->sess);
	r->active = 0;
	say("  token logged out\n");
	return log_entry(r, "record", json_pack("{s:s}", "text",
	    "token deactivated"), err);
}

static enum kr_err
do_action(struct runner *r, const struct cer_step *st, struct kr_error *err)
{
	switch (st->action) {
	case CER_ACT_CONFIRM:
		return KR_OK;
	case CER_ACT_QUORUM_INIT:
		return act_quorum_init(r, st, err);
	case CER_ACT_ACTIVATE:
		return act_activate(r, st, err);
	case CER_ACT_KEYGEN:
		return act_keygen(r, st, err);
	case CER_ACT_ROOT_SELFSIGN:
		return act_root_selfsign(r, st, err);
	case CER_ACT_SIGN_CSR:
		return act_sign_csr(r, st, err);
	case CER_ACT_CRL:
		return act_crl(r, st, err);
	case CER_ACT_BACKUP_CREATE:
		return act_backup_create(r, st, err);
	case CER_ACT_BACKUP_RESTORE:
		return act_backup_restore(r, st, err);
	case CER_ACT_RECORD:
		return act_record(r, st, err);
	case CER_ACT_VERIFY_FILE:
		return act_verify_file(r, st, err);
	case CER_ACT_DEACTIVATE:
		return act_deactivate(r, err);
	case CER_ACT_CROSS_SIGN:
		return act_cross_sign(r, st, err);
	case CER_ACT_BUNDLE_BUILD:
		return act_bundle_build(r, st, err);
	case CER_ACT_BUNDLE_SIGN:
		return act_bundle_sign(r, st, err);
	case CER_ACT_BUNDLE_VERIFY:
		return act_bundle_verify(r, st, err);
	case CER_ACT_BUNDLE_PACK:
		return act_bundle_pack(r, st, err);
	}
	return kr_fail(err, KR_E_INTERNAL, "step '%s': no action %d", st->id,
	    (int)st->action);
}

static double
elapsed(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) +
	    (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* Run every step; on failure record the abort.  Returns the step's rc. */
static enum kr_err
run_steps(struct runner *r, struct kr_error *err)
{
	const struct cer_step *st;
	struct timespec t0;
	struct kr_error e2;
	double secs;
	size_t i, j;
	enum kr_err rc = KR_OK;

	for (i = 0; i < r->s->nsteps; i++) {
		st = &r->s->steps[i];
		r->step = st->id;
		say("\n== step %zu/%zu: %s (%s)\n", i + 1, r->s->nsteps,
		    st->title, cer_action_name(st->action));
		if (st->say != NULL)
			say("  READ ALOUD: %s\n", st->say);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if ((rc = log_entry(r, "step-start", json_pack("{s:s,s:s}",
		    "title", st->title, "action", cer_action_name(st->action)),
		    err)) != KR_OK)
			return rc;
		rc = do_action(r, st, err);
		for (j = 0; rc == KR_OK && j < st->nconfirm; j++)
			rc = confirm_role(r, st->confirm[j], st->title, err);
		if (rc == KR_OK)
			rc = record_outputs(r, st, err);
		if (rc == KR_OK && interrupted)
			rc = kr_fail(err, KR_E_ABORTED, "interrupted (Ctrl-C)");
		if (rc == KR_OK) {
			secs = elapsed(&t0);
			say("  step %s done in %.1f s\n", st->id, secs);
			rc = log_entry(r, "step-end", json_pack("{s:I,s:I}",
			    "seconds", (json_int_t)(secs + 0.5), "ms",
			    (json_int_t)(secs * 1000)), err);
		}
		if (rc != KR_OK) {
			/* Whatever failed inside a step is an abort of it. */
			say("  ABORTED: %s\n", err->msg);
			memset(&e2, 0, sizeof(e2));
			(void)log_entry(r, "abort", json_pack("{s:s}", "reason",
			    err->msg), &e2);
			return rc;
		}
	}
	r->step = NULL;
	return KR_OK;
}

struct cer_args {
	const char	*out;
	const char	*html;
	const char	*md;
	const char	*module;
	const char	*token;
	const char	*so_pin_file;
	const char	*input;
	const char	*home;
	const char	*officers;
};

static int
cer_opt(void *ctx, const char *name, const char *arg)
{
	struct cer_args *a = ctx;

	if (strcmp(name, "out") == 0)
		a->out = arg;
	else if (strcmp(name, "html") == 0)
		a->html = arg;
	else if (strcmp(name, "md") == 0)
		a->md = arg;
	else if (strcmp(name, "module") == 0)
		a->module = arg;
	else if (strcmp(name, "token") == 0)
		a->token = arg;
	else if (strcmp(name, "so-pin-file") == 0)
		a->so_pin_file = arg;
	else if (strcmp(name, "input") == 0)
		a->input = arg;
	else if (strcmp(name, "home") == 0)
		a->home = arg;
	else if (strcmp(name, "officers") == 0)
		a->officers = arg;
	return 0;
}

/* Copy the directory tree src to dst (files and directories only). */
static enum kr_err
copy_tree(const char *src, const char *dst, struct kr_error *err)
{
	struct dirent *de;
	struct stat st;
	char s[PATH_MAX], d[PATH_MAX];
	uint8_t *buf = NULL;
	size_t len;
	DIR *dir;
	enum kr_err rc = KR_OK;

	if ((rc = kr_mkdirs(dst, 0700, err)) != KR_OK)
		return rc;
	if ((dir = opendir(src)) == NULL)
		return kr_fail(err, KR_E_IO, "%s: %s", src, strerror(errno));
	while (rc == KR_OK && (de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(s, sizeof(s), "%s/%s", src, de->d_name);
		snprintf(d, sizeof(d), "%s/%s", dst, de->d_name);
		if (lstat(s, &st) == -1)
			rc = kr_fail(err, KR_E_IO, "%s: %s", s, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = copy_tree(s, d, err);
		else if (S_ISREG(st.st_mode) &&
		    (rc = kr_file_read(s, 64 << 20, &buf, &len, err)) == KR_OK) {
			rc = kr_file_write(d, buf, len, st.st_mode & 0777, 1,
			    err);
			free(buf);
			buf = NULL;
		}
	}
	closedir(dir);
	return rc;
}

/*
 * Rehearsal secrets (generated passphrases, the SO PIN) are written to
 * DIR/rehearsal-secrets.json so that a follow-on rehearsal (--input DIR)
 * can act as the same participants.  Rehearsal only: a live ceremony
 * never writes a secret.
 */
static enum kr_err
save_rehearsal_secrets(const struct runner *r, struct kr_error *err)
{
	json_t *o = json_object(), *p = json_object();
	char path[PATH_MAX], *text;
	size_t i;
	enum kr_err rc;

	for (i = 0; i < r->np; i++)
		json_object_set_new(p, r->pnames[i],
		    json_stringn(r->psecrets[i]->buf, r->psecrets[i]->len));
	json_object_set_new(o, "warning", json_string("REHEARSAL ONLY: "
	    "generated secrets of a practice run; never use them for real"));
	json_object_set_new(o, "passphrases", p);
	if (r->so_pin != NULL)
		json_object_set_new(o, "so_pin", json_stringn(r->so_pin->buf,
		    r->so_pin->len));
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (text == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/rehearsal-secrets.json", r->out);
	rc = kr_file_write(path, text, strlen(text), 0600, 1, err);
	sodium_memzero(text, strlen(text));
	free(text);
	return rc;
}

static enum kr_err
load_rehearsal_secrets(struct runner *r, const char *dir,
    struct kr_error *err)
{
	char path[PATH_MAX];
	const char *k;
	json_t *o, *v;
	enum kr_err rc = KR_OK;

	snprintf(path, sizeof(path), "%s/rehearsal-secrets.json", dir);
	if ((o = json_load_file(path, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return kr_fail(err, KR_E_NOTFOUND, "%s: not a rehearsal's "
		    "directory (no readable rehearsal-secrets.json)", dir);
	json_object_foreach(json_object_get(o, "passphrases"), k, v) {
		struct kr_secret *sec = NULL;

		if (!json_is_string(v))
			continue;
		if ((r->pnames = realloc(r->pnames, (r->np + 1) *
		    sizeof(*r->pnames))) == NULL ||
		    (r->psecrets = realloc(r->psecrets, (r->np + 1) *
		    sizeof(*r->psecrets))) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			break;
		}
		if ((rc = kr_secret_from_bytes(json_string_value(v),
		    json_string_length(v), &sec, err)) != KR_OK)
			break;
		r->pnames[r->np] = strdup(k);
		r->psecrets[r->np++] = sec;
	}
	if (rc == KR_OK && (v = json_object_get(o, "so_pin")) != NULL &&
	    json_is_string(v))
		rc = kr_secret_from_bytes(json_string_value(v),
		    json_string_length(v), &r->so_pin, err);
	json_decref(o);
	return rc;
}

static int
script_has(const struct cer_script *s, enum cer_action a)
{
	size_t i;

	for (i = 0; i < s->nsteps; i++)
		if (s->steps[i].action == a)
			return 1;
	return 0;
}

static enum kr_err
setup_note(struct runner *r, const char *text, struct kr_error *err)
{
	say("  rehearsal setup: %s\n", text);
	return log_entry(r, "deviation", json_pack("{s:s}", "text", text), err);
}

/*
 * Before a rehearsal that continues an earlier one (--input DIR): what a
 * live ceremony would be handed is made here, and every such act is
 * recorded as a deviation of a "rehearsal-setup" step.
 *  - A restore needs a replacement token already under the officers'
 *    control: a fresh token gets a quorum-init with the same officers.
 *  - A CSR named by a sign-csr step that no input provides is made for a
 *    throwaway software key.
 */
static enum kr_err
rehearsal_setup(struct runner *r, struct kr_error *err)
{
	size_t i;
	enum kr_err rc;

	r->step = "rehearsal-setup";
	if ((rc = log_entry(r, "step-start", json_pack("{s:s,s:s}", "title",
	    "Rehearsal setup", "action", "setup"), err)) != KR_OK)
		return rc;
	if (script_has(r->s, CER_ACT_BACKUP_RESTORE) &&
	    !script_has(r->s, CER_ACT_QUORUM_INIT)) {
		struct cer_step q;

		memset(&q, 0, sizeof(q));
		q.id = (char *)(uintptr_t)"rehearsal-setup";
		if ((rc = act_quorum_init(r, &q, err)) != KR_OK ||
		    (rc = setup_note(r, "a fresh replacement token was put "
		    "under the officers' control (quorum-init)", err)) != KR_OK)
			return rc;
	}
	for (i = 0; i < r->s->nsteps; i++) {
		const struct cer_step *st = &r->s->steps[i];
		const char *csr = param(st, "csr", NULL);
		struct ca_signer sg;
		EVP_PKEY *k = NULL;
		X509_REQ *req = NULL;
		char path[PATH_MAX], text[PATH_MAX + 64];

		if (st->action != CER_ACT_SIGN_CSR || csr == NULL)
			continue;
		in_path(r, csr, path, sizeof(path));
		if (access(path, R_OK) == 0)
			continue;
		out_path(r, csr, path, sizeof(path));
		if ((k = EVP_EC_gen("P-256")) == NULL)
			return kr_fail_ossl(err, KR_E_CRYPTO, "key");
		ca_signer_soft(&sg, k);
		rc = ca_csr_make("CN=Rehearsal Issuing CA,O=Example", &sg, &req,
		    err);
		if (rc == KR_OK)
			rc = ca_write_csr(path, req, 0, err);
		X509_REQ_free(req);
		EVP_PKEY_free(k);
		snprintf(text, sizeof(text), "%s made for a throwaway key", csr);
		if (rc != KR_OK || (rc = setup_note(r, text, err)) != KR_OK)
			return rc;
	}
	rc = log_entry(r, "step-end", json_pack("{s:I,s:I}", "seconds",
	    (json_int_t)0, "ms", (json_int_t)0), err);
	r->step = NULL;
	return rc;
}

/* A rehearsal token: SoftHSM2 with its own config inside DIR. */
static enum kr_err
rehearsal_token(struct runner *r, char *uri, size_t usz,
    struct kr_error *err)
{
	struct kr_secret *pin = NULL;
	char dir[PATH_MAX], conf[PATH_MAX], text[PATH_MAX + 128], serial[17],
	    so[33];
	size_t i;
	enum kr_err rc;

	snprintf(dir, sizeof(dir), "%s/rehearsal-hsm/tokens", r->out);
	if ((rc = kr_mkdirs(dir, 0700, err)) != KR_OK)
		return rc;
	snprintf(conf, sizeof(conf), "%s/rehearsal-hsm/softhsm2.conf", r->out);
	snprintf(text, sizeof(text), "directories.tokendir = %s\n"
	    "objectstore.backend = file\nlog.level = ERROR\n", dir);
	if ((rc = kr_file_write(conf, text, strlen(text), 0600, 0, err)) !=
	    KR_OK)
		return rc;
	setenv("SOFTHSM2_CONF", conf, 1);
	for (i = 0; i < 32; i++)
		so[i] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"[randombytes_uniform(31)];
	so[32] = '\0';
	if ((rc = kr_secret_from_bytes(so, 32, &r->so_pin, err)) != KR_OK)
		return rc;
	/* The user PIN is replaced by quorum-init; a throwaway one first. */
	if ((rc = kr_secret_from_bytes(so, 16, &pin, err)) != KR_OK)
		return rc;
	sodium_memzero(so, sizeof(so));
	if ((rc = hsm_module_load(r->module, &r->mod, err)) == KR_OK)
		rc = hsm_init_token(r->mod, "rehearsal", r->so_pin->buf,
		    r->so_pin->len, pin->buf, pin->len, serial, err);
	kr_secret_free(pin);
	snprintf(uri, usz, "pkcs11:token=rehearsal;serial=%s", serial);
	return rc;
}

static void
runner_free(struct runner *r)
{
	size_t i;

	cer_transcript_close(r->t);
	hsm_close(r->sess);
	hsm_module_free(r->mod);
	kr_secret_free(r->so_pin);
	for (i = 0; i < r->np; i++) {
		free(r->pnames[i]);
		kr_secret_free(r->psecrets[i]);
	}
	free(r->pnames);
	free(r->psecrets);
	for (i = 0; i < r->nofficers; i++)
		sodium_free(r->officers[i].sk);
	if (r->tty != NULL)
		fclose(r->tty);
}

/* Write the report files next to the transcript. */
static enum kr_err
write_report(const char *dir, const struct cer_script *s, const char *html,
    const char *md, struct kr_error *err);

static const struct cli_opt run_opts[] = {
	{ "out", 1, 0, "DIR", "new directory for the transcript, report and "
	    "outputs" },
	{ "token", 1, 0, "URI", "the token, e.g. 'pkcs11:token=lab-root'" },
	{ "module", 1, 0, "PATH", "PKCS#11 module (default: "
	    "$KEYRITE_PKCS11_MODULE, else SoftHSM2)" },
	{ "so-pin-file", 1, 0, "FILE", "security officer PIN for quorum-init "
	    "(default: prompt)" },
	{ "input", 1, 0, "DIR", "where inputs are looked for after DIR "
	    "(officer credentials, CSRs, backups, root.pem)" },
	{ "home", 1, 0, "DIR", "root state directory (default "
	    "$KEYRITE_HOME or ~/.local/share/keyrite)" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd run_cmd = {
	"ceremony run", "Run a ceremony script for real, interactively, on the "
	"token: each step's words\nare shown to be read aloud, each action is "
	"performed, each confirmation is\nasked for, and a key signs only "
	"after an exact 'yes'.  Every event goes into\nthe hash-chained "
	"transcript; the officers who activated the token sign it at\nthe "
	"end.  A wrong answer or Ctrl-C aborts, and the transcript records "
	"where\nand why.",
	"SCRIPT.yaml --out DIR --token URI [--so-pin-file FILE] [--input DIR]",
	"  keyrite ceremony run ceremony/scripts/root-init.yaml --out "
	"ceremony-2026-11-23 \\\n      --token 'pkcs11:token=lab-root'",
	run_opts,
};
static const struct cli_opt rehearse_opts[] = {
	{ "out", 1, 0, "DIR", "new directory for everything the rehearsal "
	    "makes" },
	{ "module", 1, 0, "PATH", "SoftHSM2 module (default: "
	    "$KEYRITE_PKCS11_MODULE, else SoftHSM2)" },
	{ "input", 1, 0, "DIR", "where inputs are looked for after DIR" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd rehearse_cmd = {
	"ceremony rehearse", "Run a ceremony script end to end, unattended, "
	"on a throwaway SoftHSM2 token\nin DIR/rehearsal-hsm with generated "
	"participants and passphrases: the same\nsteps, checks, transcript and "
	"report as 'ceremony run', marked REHEARSAL.\nPrints how long each "
	"step took.",
	"SCRIPT.yaml --out DIR",
	"  keyrite ceremony rehearse ceremony/scripts/root-init.yaml --out "
	"rehearsal",
	rehearse_opts,
};

static int
ceremony_exec(int argc, char **argv, int rehearse)
{
	const struct cli_cmd *cmd = rehearse ? &rehearse_cmd : &run_cmd;
	struct cer_args a = { 0 };
	struct runner r;
	struct kr_error err = { 0 };
	struct cer_script *s = NULL;
	struct sigaction sa, old;
	json_t *parts = NULL;
	char path[PATH_MAX], uri[256];
	struct timespec t0;
	size_t i, j;
	int idx, st = 1;
	enum kr_err rc;

	memset(&r, 0, sizeof(r));
	if ((idx = cli_parse(cmd, argc, argv, cer_opt, &a)) < 0)
		return EXIT_USAGE;
	if (idx != argc - 1 || a.out == NULL || (!rehearse && a.token == NULL))
		return cli_usage(cmd, rehearse ? "give SCRIPT.yaml and --out" :
		    "give SCRIPT.yaml, --out and --token");
	if (!rehearse && getenv("KEYRITE_NOW") != NULL) {
		kr_fail(&err, KR_E_USAGE, "KEYRITE_NOW is set; a live ceremony "
		    "runs on the real clock (unset it)");
		return cli_report(cmd->name, &err);
	}
	/* The script is checked whole before anything else happens. */
	if (cer_script_load(argv[idx], &s, &err) != KR_OK) {
		st = cli_report(cmd->name, &err);
		goto out;
	}
	if (rehearse) {
		/* A rehearsal initialises a slot: never on a real HSM. */
		struct hsm_module *m = NULL;
		int soft;

		if (hsm_module_load(a.module, &m, &err) != KR_OK) {
			st = cli_report(cmd->name, &err);
			goto out;
		}
		soft = strstr(hsm_module_description(m), "SoftHSM") != NULL;
		if (!soft)
			kr_fail(&err, KR_E_USAGE, "rehearsals run on SoftHSM2 "
			    "only; %s is '%s'", hsm_module_path(m),
			    hsm_module_description(m));
		hsm_module_free(m);
		if (!soft) {
			st = cli_report(cmd->name, &err);
			goto out;
		}
	}
	/*
	 * The ceremony directory is written as the ceremony goes (an abort
	 * must leave its transcript), so it is made new, never reused.
	 */
	if (mkdir(a.out, 0755) == -1) {
		kr_fail(&err, errno == EEXIST ? KR_E_EXISTS : KR_E_IO, "%s: %s",
		    a.out, errno == EEXIST ? "exists already; a ceremony "
		    "always starts in a new directory" : strerror(errno));
		st = cli_report(cmd->name, &err);
		goto out;
	}
	r.s = s;
	r.out = a.out;
	r.input = a.input;
	r.rehearse = rehearse;
	r.module = a.module;
	if (!rehearse)
		r.tty = fopen("/dev/tty", "r+");
	if (rehearse)
		snprintf(r.home, sizeof(r.home), "%s/root-state", a.out);
	else
		snprintf(r.home, sizeof(r.home), "%s", a.home ? a.home :
		    ca_rootstate_default_home());
	if (!rehearse && a.so_pin_file != NULL &&
	    kr_secret_from_file(a.so_pin_file, "SO PIN", &r.so_pin, &err) !=
	    KR_OK) {
		st = cli_report(cmd->name, &err);
		goto out;
	}
	if (rehearse && a.input != NULL && !script_has(s,
	    CER_ACT_BACKUP_RESTORE)) {
		/* Continue an earlier rehearsal on a copy of its token. */
		char src[PATH_MAX], dst[PATH_MAX], conf[PATH_MAX],
		    text[PATH_MAX + 128];

		snprintf(src, sizeof(src), "%s/rehearsal-hsm/tokens", a.input);
		snprintf(dst, sizeof(dst), "%s/rehearsal-hsm/tokens", a.out);
		snprintf(conf, sizeof(conf), "%s/rehearsal-hsm/softhsm2.conf",
		    a.out);
		snprintf(text, sizeof(text), "directories.tokendir = %s\n"
		    "objectstore.backend = file\nlog.level = ERROR\n", dst);
		if (load_rehearsal_secrets(&r, a.input, &err) != KR_OK ||
		    copy_tree(src, dst, &err) != KR_OK ||
		    kr_file_write(conf, text, strlen(text), 0600, 0,
		    &err) != KR_OK) {
			st = cli_report(cmd->name, &err);
			goto out;
		}
		snprintf(src, sizeof(src), "%s/root-state", a.input);
		if (access(src, R_OK) == 0 && copy_tree(src, r.home, &err) !=
		    KR_OK) {
			st = cli_report(cmd->name, &err);
			goto out;
		}
		setenv("SOFTHSM2_CONF", conf, 1);
		snprintf(uri, sizeof(uri), "pkcs11:token=rehearsal");
		r.token_uri = uri;
	} else if (rehearse) {
		char src[PATH_MAX];

		snprintf(src, sizeof(src), "%s/root-state", a.input ? a.input :
		    "");
		if (a.input != NULL &&
		    (load_rehearsal_secrets(&r, a.input, &err) != KR_OK ||
		    (access(src, R_OK) == 0 && copy_tree(src, r.home,
		    &err) != KR_OK))) {
			st = cli_report(cmd->name, &err);
			goto out;
		}
		kr_secret_free(r.so_pin);
		r.so_pin = NULL;
		if (rehearsal_token(&r, uri, sizeof(uri), &err) != KR_OK) {
			st = cli_report(cmd->name, &err);
			goto out;
		}
		hsm_module_free(r.mod);
		r.mod = NULL;
		r.token_uri = uri;
	} else
		r.token_uri = a.token;
	snprintf(path, sizeof(path), "%s/script.yaml", a.out);
	{
		uint8_t *buf = NULL;
		size_t len;

		if (kr_file_read(argv[idx], 1 << 20, &buf, &len, &err) != KR_OK ||
		    kr_file_write(path, buf, len, 0644, 0, &err) != KR_OK) {
			free(buf);
			st = cli_report(cmd->name, &err);
			goto out;
		}
		free(buf);
	}
	snprintf(path, sizeof(path), "%s/transcript.jsonl", a.out);
	if (cer_transcript_create(path, s->sha256, &r.t, &err) != KR_OK) {
		st = cli_report(cmd->name, &err);
		goto out;
	}
	parts = json_array();
	for (i = 0; i < s->nroles; i++)
		for (j = 0; j < s->roles[i].nparticipants; j++)
			json_array_append_new(parts, json_pack("{s:s,s:s}",
			    "role", s->roles[i].id, "name",
			    s->roles[i].participants[j]));
	{
		char hx[65];

		kr_hex(s->sha256, 32, hx);
		if (cer_transcript_add(r.t, "begin", json_pack("{s:s,s:s,s:s,"
		    "s:s,s:o}", "script", s->name, "title", s->title, "sha256",
		    hx, "mode", rehearse ? "rehearsal" : "live", "participants",
		    parts), &err) != KR_OK) {
			st = cli_report(cmd->name, &err);
			goto out;
		}
	}
	say("%s: %s\n%s\n", rehearse ? "REHEARSAL" : "CEREMONY", s->title,
	    s->purpose);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;	/* no SA_RESTART: reads return EINTR */
	sigaction(SIGINT, &sa, &old);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = rehearse && a.input != NULL ? rehearsal_setup(&r, &err) : KR_OK;
	if (rc == KR_OK)
		rc = run_steps(&r, &err);
	sigaction(SIGINT, &old, NULL);
	{
		struct kr_error e2 = { 0 };
		size_t k;

		json_t *signers = json_array();

		/* The end names who signs, so a missing signature shows. */
		for (k = 0; k < r.nofficers; k++)
			json_array_append_new(signers,
			    json_string(r.officers[k].name));
		if (cer_transcript_add(r.t, "end", json_pack("{s:s,s:o}",
		    "status", rc == KR_OK ? "completed" : "aborted", "signers",
		    signers), &e2) != KR_OK) {
			st = cli_report(cmd->name, &e2);
			goto out;
		}
		for (k = 0; k < r.nofficers; k++)
			if (cer_transcript_sign(r.t, r.officers[k].name,
			    r.officers[k].sk, &e2) != KR_OK) {
				st = cli_report(cmd->name, &e2);
				goto out;
			}
		cer_transcript_close(r.t);
		r.t = NULL;
		if (rehearse && save_rehearsal_secrets(&r, &e2) != KR_OK)
			fprintf(stderr, "keyrite %s: %s\n", cmd->name, e2.msg);
		snprintf(path, sizeof(path), "%s/report.html", a.out);
		if (write_report(a.out, s, path, NULL, &e2) != KR_OK)
			fprintf(stderr, "keyrite %s: report: %s\n", cmd->name,
			    e2.msg);
	}
	if (rc != KR_OK) {
		fprintf(stderr, "keyrite %s: aborted at step '%s': %s\n"
		    "(the transcript in %s records it and still verifies)\n",
		    cmd->name, r.step ? r.step : "?", err.msg, a.out);
		goto out;
	}
	say("\n%s completed in %.1f s: transcript, report and outputs in %s/\n"
	    "  signed by %zu officer%s; check with: keyrite ceremony verify %s\n",
	    rehearse ? "rehearsal" : "ceremony", elapsed(&t0), a.out,
	    r.nofficers, r.nofficers == 1 ? "" : "s", a.out);
	st = 0;
out:
	runner_free(&r);
	cer_script_free(s);
	return st;
}

static int
ceremony_run_main(int argc, char **argv)
{
	return ceremony_exec(argc, argv, 0);
}

static int
ceremony_rehearse_main(int argc, char **argv)
{
	return ceremony_exec(argc, argv, 1);
}

static const struct cli_opt plan_opts[] = {
	{ "html", 1, 0, "FILE", "write the printable script as HTML" },
	{ "md", 1, 0, "FILE", "write it as Markdown" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd plan_cmd = {
	"ceremony plan", "Check a ceremony script and print it as the plan the "
	"room follows: roles,\na sign-off table, numbered steps with what to "
	"read aloud and Initial/Time\ncolumns.  Markdown on stdout unless "
	"--html or --md is given.",
	"SCRIPT.yaml [--html FILE] [--md FILE]",
	"  keyrite ceremony plan ceremony/scripts/root-init.yaml --html "
	"root-init-plan.html",
	plan_opts,
};

/* Write f(s or dir, FILE*) to path atomically through a memory stream. */
static enum kr_err
write_via(const char *path, enum kr_err (*fn)(void *, FILE *,
    struct kr_error *), void *arg, struct kr_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	enum kr_err rc;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	rc = fn(arg, f, err);
	fclose(f);
	if (rc == KR_OK)
		rc = kr_file_write(path, buf, len, 0644, 1, err);
	free(buf);
	return rc;
}

static enum kr_err
plan_html_fn(void *s, FILE *f, struct kr_error *err)
{
	return cer_plan_html(s, f, err);
}

static enum kr_err
plan_md_fn(void *s, FILE *f, struct kr_error *err)
{
	return cer_plan_md(s, f, err);
}

static int
ceremony_plan_main(int argc, char **argv)
{
	struct cer_args a = { 0 };
	struct kr_error err = { 0 };
	struct cer_script *s = NULL;
	int idx, st = 1;

	if ((idx = cli_parse(&plan_cmd, argc, argv, cer_opt, &a)) < 0)
		return EXIT_USAGE;
	if (idx != argc - 1)
		return cli_usage(&plan_cmd, "give one SCRIPT.yaml");
	if (cer_script_load(argv[idx], &s, &err) != KR_OK ||
	    (a.html != NULL && write_via(a.html, plan_html_fn, s, &err) !=
	    KR_OK) ||
	    (a.md != NULL && write_via(a.md, plan_md_fn, s, &err) != KR_OK) ||
	    (a.html == NULL && a.md == NULL && cer_plan_md(s, stdout,
	    &err) != KR_OK)) {
		st = cli_report(plan_cmd.name, &err);
		goto out;
	}
	if (a.html != NULL)
		printf("plan of '%s': %s\n", s->name, a.html);
	if (a.md != NULL)
		printf("plan of '%s': %s\n", s->name, a.md);
	st = 0;
out:
	cer_script_free(s);
	return st;
}

/*
 * What the chain alone cannot show, checked against the script:
 *  - a completed ceremony ended every step of the script (a transcript
 *    cut short and given a new "completed" end is refused);
 *  - when the script activates the token, at least the officers'
 *    threshold of them signed (stripping signature lines is refused);
 *  - with officers_file (the officers.json kept from the quorum's
 *    creation), every signer's key is the one published there, so keys
 *    made up and written into a forged transcript are refused.
 */
static enum kr_err
ceremony_check(const char *dir, const struct cer_script *s,
    const char *officers_file, struct cer_verify *v, struct kr_error *err)
{
	const struct cer_role *o = cer_script_role(s, "officers");
	json_t *entries = NULL, *e, *pub = NULL, *p;
	size_t i, j, k;
	enum kr_err rc;

	if ((rc = cer_transcript_verify(dir, s->sha256, v, err)) != KR_OK ||
	    (rc = cer_transcript_read(dir, &entries, err)) != KR_OK)
		goto out;
	if (officers_file != NULL &&
	    (pub = json_load_file(officers_file, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL) {
		rc = kr_fail(err, KR_E_PARSE, "%s: not an officers.json",
		    officers_file);
		goto out;
	}
	if (v->completed) {
		for (i = 0; i < s->nsteps; i++) {
			json_array_foreach(entries, j, e)
				if (strcmp(json_string_value(json_object_get(e,
				    "type")) ? json_string_value(
				    json_object_get(e, "type")) : "",
				    "step-end") == 0 &&
				    json_is_string(json_object_get(e, "step")) &&
				    strcmp(json_string_value(json_object_get(e,
				    "step")), s->steps[i].id) == 0)
					break;
			if (j == json_array_size(entries)) {
				rc = kr_fail(err, KR_E_VERIFY, "%s: says "
				    "completed, but step '%s' of the script "
				    "never ended", CER_TRANSCRIPT_FILE,
				    s->steps[i].id);
				goto out;
			}
		}
		for (i = 0; o != NULL && o->threshold > 0 && i < s->nsteps; i++)
			if (s->steps[i].action == CER_ACT_ACTIVATE &&
			    v->signatures < o->threshold) {
				rc = kr_fail(err, KR_E_VERIFY, "%s: %zu officer "
				    "signature%s, but the script's quorum is %u",
				    CER_TRANSCRIPT_FILE, v->signatures,
				    v->signatures == 1 ? "" : "s", o->threshold);
				goto out;
			}
	}
	json_array_foreach(entries, j, e) {
		const char *t = json_string_value(json_object_get(e, "type"));
		const char *who = json_string_value(json_object_get(e,
		    "signer"));
		const char *key = json_string_value(json_object_get(e,
		    "ed25519"));

		if (pub == NULL || t == NULL || strcmp(t, "signature") != 0)
			continue;
		json_array_foreach(json_object_get(pub, "officers"), k, p)
			if (who != NULL && key != NULL &&
			    json_is_string(json_object_get(p, "name")) &&
			    json_is_string(json_object_get(p, "ed25519")) &&
			    strcmp(json_string_value(json_object_get(p,
			    "name")), who) == 0 &&
			    strcmp(json_string_value(json_object_get(p,
			    "ed25519")), key) == 0)
				break;
		if (k == json_array_size(json_object_get(pub, "officers"))) {
			rc = kr_fail(err, KR_E_VERIFY, "%s: entry %zu: signer "
			    "'%s' signed with a key that %s does not publish",
			    CER_TRANSCRIPT_FILE, j + 1, who ? who : "?",
			    officers_file);
			goto out;
		}
	}
	rc = KR_OK;
out:
	json_decref(entries);
	json_decref(pub);
	return rc;
}

static const struct cli_opt verify_opts[] = {
	{ "officers", 1, 0, "FILE", "the officers.json kept from the quorum's "
	    "creation: signers' keys must be the published ones" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd verify_cmd = {
	"ceremony verify", "Check a ceremony directory: the transcript's hash "
	"chain from the script's\nhash, every output file's SHA-256, every "
	"officer's signature over the final\nhash, that a completed ceremony "
	"ended every step of its script, and that at\nleast the quorum signed.  "
	"With --officers, signers' keys must be the ones\npublished when the "
	"quorum was made.  Names the first bad entry and exits 1.",
	"DIR [--officers officers.json]",
	"  keyrite ceremony verify ceremony-2026-11-23 --officers "
	"records/officers.json",
	verify_opts,
};

/* The script copied into the ceremony directory, if it parses. */
static struct cer_script *
dir_script(const char *dir)
{
	struct cer_script *s = NULL;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/script.yaml", dir);
	if (cer_script_load(path, &s, NULL) != KR_OK)
		return NULL;
	return s;
}

static int
ceremony_verify_main(int argc, char **argv)
{
	struct cer_args a = { 0 };
	struct kr_error err = { 0 };
	struct cer_verify v;
	struct cer_script *s;
	int idx;

	if ((idx = cli_parse(&verify_cmd, argc, argv, cer_opt, &a)) < 0)
		return EXIT_USAGE;
	if (idx != argc - 1)
		return cli_usage(&verify_cmd, "give one ceremony directory");
	memset(&v, 0, sizeof(v));
	s = dir_script(argv[idx]);
	if (s == NULL) {
		kr_fail(&err, KR_E_VERIFY, "%s/script.yaml: missing or not a "
		    "valid script", argv[idx]);
		return cli_report(verify_cmd.name, &err);
	}
	if (ceremony_check(argv[idx], s, a.officers, &v, &err) != KR_OK) {
		cer_script_free(s);
		return cli_report(verify_cmd.name, &err);
	}
	cer_script_free(s);
	if (a.officers == NULL && v.signatures > 0)
		fprintf(stderr, "keyrite %s: note: the signers' keys were taken "
		    "from the transcript itself; pass --officers with the "
		    "officers.json kept from the quorum's creation to pin "
		    "them\n", verify_cmd.name);
	printf("%s: transcript verifies (%s '%s')\n  entries: %zu, outputs "
	    "checked: %zu, signatures: %zu\n  status: %s%s%s%s\n"
	    "  final hash: %s\n", argv[idx], v.mode, v.script, v.entries,
	    v.outputs, v.signatures, v.completed ? "completed" : "ABORTED",
	    v.completed ? "" : " at step ", v.completed ? "" : v.abort_step,
	    v.completed ? "" : "", v.final_hash);
	if (!v.completed)
		printf("  reason: %s\n", v.abort_reason);
	return 0;
}

static const struct cli_opt report_opts[] = {
	{ "html", 1, 0, "FILE", "write the report as HTML" },
	{ "md", 1, 0, "FILE", "write it as Markdown" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd report_cmd = {
	"ceremony report", "Render what happened in a ceremony (verified "
	"first): steps, times,\nconfirmations, outputs and keys with "
	"fingerprints, signatures, and a block for\nwet signatures.  Markdown "
	"on stdout unless --html or --md is given.",
	"DIR [--html FILE] [--md FILE]",
	"  keyrite ceremony report ceremony-2026-11-23 --html report.html",
	report_opts,
};

struct report_arg {
	const char		*dir;
	const struct cer_script	*s;
	json_t			*entries;
	struct cer_verify	 v;
	int			 html;
};

static enum kr_err
report_fn(void *arg, FILE *f, struct kr_error *err)
{
	struct report_arg *ra = arg;

	return ra->html ? cer_report_html(ra->s, ra->entries, &ra->v, f, err) :
	    cer_report_md(ra->s, ra->entries, &ra->v, f, err);
}

static enum kr_err
write_report(const char *dir, const struct cer_script *s, const char *html,
    const char *md, struct kr_error *err)
{
	struct report_arg ra;
	enum kr_err rc;

	memset(&ra, 0, sizeof(ra));
	ra.dir = dir;
	ra.s = s;
	if ((rc = s != NULL ? ceremony_check(dir, s, NULL, &ra.v, err) :
	    cer_transcript_verify(dir, NULL, &ra.v, err)) != KR_OK ||
	    (rc = cer_transcript_read(dir, &ra.entries, err)) != KR_OK)
		goto out;
	if (html != NULL) {
		ra.html = 1;
		if ((rc = write_via(html, report_fn, &ra, err)) != KR_OK)
			goto out;
	}
	if (md != NULL) {
		ra.html = 0;
		rc = md[0] == '-' && md[1] == '\0' ? report_fn(&ra, stdout,
		    err) : write_via(md, report_fn, &ra, err);
	}
out:
	json_decref(ra.entries);
	return rc;
}

static int
ceremony_report_main(int argc, char **argv)
{
	struct cer_args a = { 0 };
	struct kr_error err = { 0 };
	struct cer_script *s;
	int idx, st = 0;

	if ((idx = cli_parse(&report_cmd, argc, argv, cer_opt, &a)) < 0)
		return EXIT_USAGE;
	if (idx != argc - 1)
		return cli_usage(&report_cmd, "give one ceremony directory");
	s = dir_script(argv[idx]);
	if (write_report(argv[idx], s, a.html, a.html == NULL && a.md == NULL ?
	    "-" : a.md, &err) != KR_OK)
		st = cli_report(report_cmd.name, &err);
	else if (a.html != NULL || a.md != NULL)
		printf("report of %s:%s%s%s%s\n", argv[idx], a.html ? " " : "",
		    a.html ? a.html : "", a.md ? " " : "", a.md ? a.md : "");
	cer_script_free(s);
	return st;
}

int
cmd_ceremony(int argc, char **argv)
{
	static const struct cli_sub sub[] = {
		{ "plan", ceremony_plan_main, &plan_cmd },
		{ "run", ceremony_run_main, &run_cmd },
		{ "rehearse", ceremony_rehearse_main, &rehearse_cmd },
		{ "verify", ceremony_verify_main, &verify_cmd },
		{ "report", ceremony_report_main, &report_cmd },
	};

	return cli_dispatch("ceremony", sub, sizeof(sub) / sizeof(sub[0]),
	    argc, argv);
}
