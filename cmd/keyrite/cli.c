/*
 * cli.c: option parsing, help, error reporting and token opening shared
 * by the keyrite subcommands.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ceremony/quorum.h"

#define MAX_OPTS 48

const char *cli_progname = "keyrite";

void
cli_help(const struct cli_cmd *cmd, FILE *f)
{
	const struct cli_opt *o;
	char left[64];

	fprintf(f, "usage: %s %s %s\n\n%s\n", cli_progname, cmd->name, cmd->usage,
	    cmd->summary);
	if (cmd->opts != NULL && cmd->opts[0].name != NULL) {
		fprintf(f, "\noptions:\n");
		for (o = cmd->opts; o->name != NULL; o++) {
			snprintf(left, sizeof(left), "--%s%s%s", o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
			fprintf(f, "  %-26s %s%s\n", left, o->help,
			    o->repeat ? " (repeatable)" : "");
		}
	}
	fprintf(f, "  %-26s %s\n", "--help", "show this help");
	if (cmd->example != NULL)
		fprintf(f, "\nexample:\n%s\n", cmd->example);
}

int
cli_usage(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", cli_progname, cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see '%s %s --help')\n", cli_progname,
	    cmd->name);
	return EXIT_USAGE;
}

int
cli_parse(const struct cli_cmd *cmd, int argc, char **argv,
    int (*fn)(void *ctx, const char *name, const char *arg), void *ctx)
{
	struct option lo[MAX_OPTS + 2];
	int count[MAX_OPTS] = { 0 };
	size_t n = 0, i;
	int c, li;

	for (i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL &&
	    i < MAX_OPTS; i++) {
		lo[i].name = cmd->opts[i].name;
		lo[i].has_arg = cmd->opts[i].has_arg ? required_argument :
		    no_argument;
		lo[i].flag = NULL;
		lo[i].val = 1000 + (int)i;
	}
	n = i;
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n + 1] = (struct option){ NULL, 0, NULL, 0 };
	/*
	 * getopt_long accepts any unambiguous prefix ("--pin" for
	 * "--pin-file"), which would let "--pin 1234" pass as a file name
	 * and tempt people to type secrets on the command line.  Only exact
	 * option names are accepted.
	 */
	for (c = 1; c < argc && strcmp(argv[c], "--") != 0; c++) {
		const char *a = argv[c];
		size_t alen;

		if (strncmp(a, "--", 2) != 0)
			continue;
		alen = strcspn(a + 2, "=");
		for (i = 0; i <= n; i++)
			if (strlen(lo[i].name) == alen &&
			    strncmp(lo[i].name, a + 2, alen) == 0)
				break;
		if (i > n)
			return cli_usage(cmd, "unknown option '%.*s'",
			    (int)alen + 2, a), -1;
		/* Skip the value of an option that takes one. */
		if (lo[i].has_arg == required_argument && a[2 + alen] == '\0')
			c++;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, &li)) != -1) {
		if (c == 'h') {
			cli_help(cmd, stdout);
			exit(0);
		}
		if (c == '?' || c == ':') {
			if (optopt >= 1000)
				return cli_usage(cmd, "option --%s needs a "
				    "value", lo[optopt - 1000].name), -1;
			return cli_usage(cmd, "unknown option '%s'",
			    argv[optind - 1]), -1;
		}
		i = (size_t)(c - 1000);
		if (++count[i] > 1 && !cmd->opts[i].repeat)
			return cli_usage(cmd, "--%s given more than once",
			    cmd->opts[i].name), -1;
		if (fn(ctx, cmd->opts[i].name, optarg) != 0)
			return -1;
	}
	return optind;
}

int
cli_report(const char *cmdname, const struct kr_error *err)
{
	fprintf(stderr, "%s %s: %s\n", cli_progname, cmdname,
	    err->msg[0] ? err->msg : kr_strerror(err->code));
	/* Exit 2 is for what the option parser refuses (cli_usage). */
	return 1;
}

int
cli_push(const char ***v, size_t *n, const char *s)
{
	const char **nv;

	if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL)
		return -1;
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

int
cli_confirm(const char *question)
{
	char buf[16];
	FILE *tty;
	int yes;

	if ((tty = fopen("/dev/tty", "r+")) == NULL)
		return 0;
	fprintf(tty, "%s Type 'yes' to go on: ", question);
	fflush(tty);
	yes = fgets(buf, sizeof(buf), tty) != NULL &&
	    strcmp(buf, "yes\n") == 0;
	fclose(tty);
	return yes;
}

enum kr_err
cli_read_pin(const char *file, const char *what, int confirm,
    struct kr_secret **out, struct kr_error *err)
{
	if (file != NULL)
		return kr_secret_from_file(file, what, out, err);
	return kr_secret_prompt(what, confirm, out, err);
}

enum kr_err
cli_signer_hsm(void *arg, const EVP_MD *md, const unsigned char *msg, size_t len,
    unsigned char **sig, size_t *siglen, struct kr_error *err)
{
	return hsm_key_sign(arg, md, msg, len, sig, siglen, err);
}

/* pin-source may be a file: URI or a path. */
static const char *
pin_source_path(const char *ps)
{
	if (strncmp(ps, "file://", 7) == 0)
		return ps + 7;
	if (strncmp(ps, "file:", 5) == 0)
		return ps + 5;
	return ps;
}

int
cli_passmap_add(const struct cli_cmd *cmd, struct cli_passmap *m,
    const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t i, nlen, nn = m->n;
	char *name;

	if (eq == NULL || eq == arg || eq[1] == '\0')
		return cli_usage(cmd, "--passphrase-file takes NAME=FILE, not "
		    "'%s'", arg);
	nlen = (size_t)(eq - arg);
	for (i = 0; i < m->n; i++)
		if (strlen(m->names[i]) == nlen &&
		    strncmp(m->names[i], arg, nlen) == 0)
			return cli_usage(cmd, "two --passphrase-file options "
			    "for '%.*s'", (int)nlen, arg);
	if ((name = strndup(arg, nlen)) == NULL ||
	    cli_push(&m->names, &nn, name) != 0 ||
	    cli_push(&m->files, &m->n, eq + 1) != 0)
		return -1;
	return 0;
}

void
cli_passmap_free(struct cli_passmap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free((char *)(uintptr_t)m->names[i]);
	free(m->names);
	free(m->files);
	memset(m, 0, sizeof(*m));
}

enum kr_err
cli_passphrase(const struct cli_passmap *m, const char *holder,
    const char *what, int confirm, struct kr_secret **out,
    struct kr_error *err)
{
	char prompt[256];
	size_t i;

	for (i = 0; m != NULL && i < m->n; i++)
		if (strcmp(m->names[i], holder) == 0)
			return kr_secret_from_file(m->files[i], "passphrase",
			    out, err);
	snprintf(prompt, sizeof(prompt), "passphrase of %s for %s", holder,
	    what);
	return kr_secret_prompt(prompt, confirm, out, err);
}

/* Parse the credential files named in auth; *creds has nofficers. */
static enum kr_err
load_creds(const struct cli_auth *auth, struct cer_armor ***creds,
    struct kr_error *err)
{
	struct cer_armor **c;
	uint8_t *buf = NULL;
	size_t len, i;
	enum kr_err rc;

	if ((c = calloc(auth->nofficers + 1, sizeof(*c))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; i < auth->nofficers; i++) {
		rc = kr_file_read(auth->officers[i], CER_ARMOR_TEXT_MAX, &buf,
		    &len, err);
		if (rc == KR_OK)
			rc = cer_armor_parse((char *)buf, len, &c[i], err);
		free(buf);
		buf = NULL;
		if (rc != KR_OK) {
			if (rc == KR_E_PARSE)
				kr_error_prefix(err, "%s", auth->officers[i]);
			goto fail;
		}
	}
	*creds = c;
	return KR_OK;
fail:
	for (i = 0; i < auth->nofficers; i++)
		cer_armor_free(c[i]);
	free(c);
	return rc;
}

static void
free_creds(struct cer_armor **c, size_t n)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < n; i++)
		cer_armor_free(c[i]);
	free(c);
}

enum kr_err
cli_auth_check(const struct cli_auth *auth, struct kr_error *err)
{
	struct cer_armor **c = NULL;
	enum kr_err rc;

	if (auth->nofficers == 0)
		return KR_OK;
	if (auth->pin_file != NULL)
		return kr_fail(err, KR_E_USAGE, "give either --pin-file or "
		    "--officer, not both");
	if ((rc = load_creds(auth, &c, err)) != KR_OK)
		return rc;
	rc = cer_quorum_check(c, auth->officers, auth->nofficers, err);
	free_creds(c, auth->nofficers);
	return rc;
}

/* Ask each officer for their passphrase and rebuild the token's PIN. */
static enum kr_err
officers_pin(const struct cli_auth *auth, const char *label,
    const char *serial, struct kr_secret **pin, struct kr_error *err)
{
	struct cer_armor **c = NULL;
	struct kr_secret **pass = NULL;
	size_t i;
	enum kr_err rc;

	if ((rc = load_creds(auth, &c, err)) != KR_OK)
		return rc;
	if ((pass = calloc(auth->nofficers, sizeof(*pass))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < auth->nofficers; i++)
		if ((rc = cli_passphrase(auth->pass, c[i]->hdr.holder,
		    auth->officers[i], 0, &pass[i], err)) != KR_OK)
			goto out;
	rc = cer_quorum_pin(c, auth->officers, pass, auth->nofficers, label,
	    serial, pin, err);
out:
	if (pass != NULL)
		for (i = 0; i < auth->nofficers; i++)
			kr_secret_free(pass[i]);
	free(pass);
	free_creds(c, auth->nofficers);
	return rc;
}

enum kr_err
cli_token_open(const char *uri, const struct cli_auth *auth, int want_key,
    struct cli_token *t, struct kr_error *err)
{
	struct kr_secret *pin = NULL;
	const char *module, *pinfile;
	char what[96];
	enum kr_err rc;

	memset(t, 0, sizeof(*t));
	t->uri.slot_id = -1;
	if ((rc = cli_auth_check(auth, err)) != KR_OK)
		return rc;
	if ((rc = hsm_uri_parse(uri, &t->uri, err)) != KR_OK)
		return rc;
	if (want_key && t->uri.object == NULL && t->uri.id_len == 0) {
		rc = kr_fail(err, KR_E_USAGE, "%s names no key: add "
		    ";object=LABEL", uri);
		goto fail;
	}
	module = auth->module ? auth->module : t->uri.module_path;
	if ((rc = hsm_module_load(module, &t->mod, err)) != KR_OK)
		goto fail;
	if ((rc = hsm_open(t->mod, &t->uri, &t->sess, err)) != KR_OK)
		goto fail;
	pinfile = auth->pin_file;
	if (pinfile == NULL && t->uri.pin_source != NULL)
		pinfile = pin_source_path(t->uri.pin_source);
	snprintf(what, sizeof(what), "user PIN for token '%s'",
	    hsm_session_label(t->sess));
	if (auth->nofficers > 0)
		rc = officers_pin(auth, hsm_session_label(t->sess),
		    hsm_session_serial(t->sess), &pin, err);
	else
		rc = cli_read_pin(pinfile, pinfile ? "PIN" : what, 0, &pin,
		    err);
	if (rc != KR_OK)
		goto fail;
	rc = hsm_login(t->sess, 0, pin->buf, pin->len, err);
	kr_secret_free(pin);
	if (rc != KR_OK)
		goto fail;
	if (want_key) {
		if ((rc = hsm_key_find(t->sess, &t->uri, &t->key, err)) !=
		    KR_OK)
			goto fail;
		t->signer.pub = hsm_key_public(t->key);
		t->signer.sign = cli_signer_hsm;
		t->signer.arg = t->key;
	}
	return KR_OK;
fail:
	cli_token_close(t);
	return rc;
}

void
cli_token_close(struct cli_token *t)
{
	hsm_key_free(t->key);
	hsm_close(t->sess);
	hsm_module_free(t->mod);
	hsm_uri_free(&t->uri);
	memset(t, 0, sizeof(*t));
	t->uri.slot_id = -1;
}

int
cli_dispatch(const char *verb, const struct cli_sub *sub, size_t n, int argc,
    char **argv)
{
	FILE *f = stderr;
	size_t i;
	int help;

	if (argc >= 2)
		for (i = 0; i < n; i++)
			if (strcmp(argv[1], sub[i].name) == 0)
				return sub[i].fn(argc - 1, argv + 1);
	help = argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0);
	if (help)
		f = stdout;
	else if (argc >= 2)
		fprintf(f, "%s %s: unknown subcommand '%s'\n\n",
		    cli_progname, verb, argv[1]);
	fprintf(f, "usage: %s %s SUBCOMMAND [options]\n\n", cli_progname,
	    verb);
	for (i = 0; i < n; i++)
		fprintf(f, "  %-11s %s\n", sub[i].name, sub[i].cmd->usage);
	fprintf(f, "\n'%s %s SUBCOMMAND --help' explains each, with an "
	    "example.\n", cli_progname, verb);
	return help ? 0 : EXIT_USAGE;
}

enum kr_err
cli_outdir_check(const char *out, struct kr_error *err)
{
	struct stat st;

	if (lstat(out, &st) == 0)
		return kr_fail(err, KR_E_EXISTS, "%s: exists already; keyrite "
		    "never writes into an existing output directory", out);
	/* The parent must exist and be writable: checked as for a file. */
	return kr_out_check(out, 0, err);
}

void
cli_remove_dir(const char *dir)
{
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d;

	if (dir == NULL || dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static enum kr_err
set_file(const char *tmp, const char *name, const char *text, unsigned mode,
    struct kr_error *err)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", tmp, name) >=
	    sizeof(path))
		return kr_fail(err, KR_E_USAGE, "%s: path too long", name);
	return kr_file_write(path, text, strlen(text), mode, 0, err);
}

enum kr_err
cli_write_set(const char *dir, const char *public_name,
    const char *public_text, char *const *files, char *const *texts,
    size_t n, struct kr_error *err)
{
	char tmp[PATH_MAX];
	size_t i;
	enum kr_err rc;

	if ((rc = cli_outdir_check(dir, err)) != KR_OK)
		return rc;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", dir) >=
	    sizeof(tmp))
		return kr_fail(err, KR_E_USAGE, "%s: path too long", dir);
	if (mkdtemp(tmp) == NULL)
		return kr_fail(err, KR_E_IO, "%s: %s", tmp, strerror(errno));
	rc = set_file(tmp, public_name, public_text, 0644, err);
	for (i = 0; rc == KR_OK && i < n; i++)
		rc = set_file(tmp, files[i], texts[i], 0600, err);
	if (rc == KR_OK && (chmod(tmp, 0755) == -1 || rename(tmp, dir) == -1))
		rc = kr_fail(err, KR_E_IO, "%s: %s", dir, strerror(errno));
	if (rc != KR_OK)
		cli_remove_dir(tmp);
	return rc;
}

int
cli_split_names(const struct cli_cmd *cmd, const char *opt, const char *list,
    char ***names, size_t *n)
{
	const char *p = list, *e;
	char *name;
	size_t i;

	*names = NULL;
	*n = 0;
	for (;;) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		if (e == p) {
			cli_free_names(*names, *n);
			*names = NULL;
			*n = 0;
			return cli_usage(cmd, "--%s has an empty name in '%s'",
			    opt, list);
		}
		if ((name = strndup(p, (size_t)(e - p))) == NULL)
			return -1;
		for (i = 0; i < *n; i++)
			if (strcmp((*names)[i], name) == 0) {
				cli_usage(cmd, "--%s names '%s' twice", opt,
				    name);
				free(name);
				cli_free_names(*names, *n);
				*names = NULL;
				*n = 0;
				return EXIT_USAGE;
			}
		if (cli_push((const char ***)names, n, name) != 0)
			return -1;
		if (*e == '\0')
			break;
		p = e + 1;
	}
	return 0;
}

void
cli_free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
}

int
cli_kdf_cost(const char *s)
{
	if (s == NULL || strcmp(s, "moderate") == 0)
		return CER_KDF_COST_MODERATE;
	if (strcmp(s, "interactive") == 0)
		return CER_KDF_COST_INTERACTIVE;
	return -1;
}
