/*
 * keyrite-trust: apply signed root-rotation bundles to this host's trust
 * stores (docs/trust.md, keyrite-trust(8)).
 *
 *   bootstrap --root ROOT.pem --fingerprint SHA256
 *   apply (BUNDLE.tar | DIR | URL) [--stores LIST] [--dry-run]
 *   status [--json] [--leaf CERT [--chain CHAIN]]
 *   remove-retired [--dry-run]
 *
 * A bundle is accepted only as `keyrite bundle verify` would accept it
 * (the same code, ca/bundle.c) with the anchors this host trusts and
 * the manifest it applied last: signed by a trusted root's key, the
 * next version naming the last one, not expired.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca/bundle.h"
#include "ca/tar.h"
#include "ca/tstate.h"
#include "common/file.h"
#include "kt.h"

#define STATE_DIR	"/var/lib/keyrite-trust"
#define STATE_FILE	STATE_DIR "/state.json"
#define PEM_DEFAULT	"/etc/keyrite/trust.pem"
#define JAVA_DEFAULT	"/etc/ssl/certs/java/cacerts"
#define BUNDLE_MAX	(CA_FILES_TOTAL_MAX + 2 * CA_FILES_MAX * 512 + \
	    20 * 512)

static const char *prog = "keyrite-trust";

struct args {
	const char	*root_dir;
	const char	*stores;
	const char	**nssdb;
	size_t		  nnssdb;
	const char	*java_keystore;
	const char	*storepass_file;
	const char	*pem_file;
	const char	*root;
	const char	*fingerprint;
	const char	*leaf;
	const char	*chain;
	long		  timeout;
	int		  dry_run;
	int		  json;
};

struct cmd {
	const char	*name;
	const char	*usage;
	const char	*summary;
	const char	*opts;		/* help for its options */
	const char	*example;
	int		(*fn)(struct args *, int, char **);
};

#define OPT_ROOTDIR \
	"  --root-dir DIR            prefix every path with DIR (default /)\n"
#define OPT_STORES \
	"  --stores LIST             system,debian,rhel,pem,nss,java " \
	"(default: the stores\n" \
	"                            of the last apply; system the first " \
	"time)\n" \
	"  --nssdb DIR               an NSS database (repeatable; default " \
	"$HOME/.pki/nssdb)\n" \
	"  --java-keystore FILE      Java keystore (default " JAVA_DEFAULT ")\n" \
	"  --java-storepass-file F   its password, first line of F " \
	"(default changeit)\n" \
	"  --pem-file FILE           the PEM store (default " PEM_DEFAULT ")\n"

static int
usage_err(const struct cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
usage_err(const struct cmd *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", prog, c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s %s %s\n", prog, c->name, c->usage);
	return EXIT_USAGE;
}

static int
report(const struct cmd *c, const struct kr_error *err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, c->name, err->msg);
	return err->code == KR_E_USAGE ? EXIT_USAGE : 1;
}

static void
help(const struct cmd *c)
{
	printf("usage: %s %s %s\n\n%s\n\noptions:\n%s  --help                    "
	    "this help\n\nexample:\n%s\n", prog, c->name, c->usage, c->summary,
	    c->opts, c->example);
}

static int
parse(const struct cmd *c, int argc, char **argv, struct args *a)
{
	static const struct option lo[] = {
		{ "root-dir", 1, NULL, 'R' }, { "stores", 1, NULL, 's' },
		{ "nssdb", 1, NULL, 'n' }, { "java-keystore", 1, NULL, 'k' },
		{ "java-storepass-file", 1, NULL, 'P' },
		{ "pem-file", 1, NULL, 'p' }, { "root", 1, NULL, 'r' },
		{ "fingerprint", 1, NULL, 'f' }, { "leaf", 1, NULL, 'l' },
		{ "chain", 1, NULL, 'c' }, { "timeout", 1, NULL, 't' },
		{ "dry-run", 0, NULL, 'd' }, { "json", 0, NULL, 'j' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char **v;
	char flag[32], *end;
	int o;

	opterr = 0;
	optind = 1;
	/* GNU order: options may follow the operand. */
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		const char *name = NULL;
		size_t i;

		for (i = 0; lo[i].name != NULL; i++)
			if (lo[i].val == o)
				name = lo[i].name;
		snprintf(flag, sizeof(flag), "--%s", name != NULL ? name : "?");
		/* Only the options this command lists. */
		if (o != '?' && o != ':' && o != 'h' &&
		    strstr(c->opts, flag) == NULL)
			return usage_err(c, "%s is not an option of %s", flag,
			    c->name), -1;
		switch (o) {
		case 'R':
			a->root_dir = optarg;
			break;
		case 's':
			a->stores = optarg;
			break;
		case 'n':
			if ((v = realloc(a->nssdb, (a->nnssdb + 1) *
			    sizeof(*v))) == NULL)
				return -1;
			a->nssdb = v;
			v[a->nnssdb++] = optarg;
			break;
		case 'k':
			a->java_keystore = optarg;
			break;
		case 'P':
			a->storepass_file = optarg;
			break;
		case 'p':
			a->pem_file = optarg;
			break;
		case 'r':
			a->root = optarg;
			break;
		case 'f':
			a->fingerprint = optarg;
			break;
		case 'l':
			a->leaf = optarg;
			break;
		case 'c':
			a->chain = optarg;
			break;
		case 't':
			errno = 0;
			a->timeout = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || a->timeout < 1 ||
			    a->timeout > 3600)
				return usage_err(c, "--timeout '%s' is not a "
				    "number of seconds from 1 to 3600", optarg),
				    -1;
			break;
		case 'd':
			a->dry_run = 1;
			break;
		case 'j':
			a->json = 1;
			break;
		case 'h':
			help(c);
			exit(0);
		default:
			return usage_err(c, "unknown option or missing "
			    "argument: %s", argv[optind - 1]), -1;
		}
	}
	return optind;
}

/* ------------------------------------------------------------------ */
/* Context, state, stores                                              */
/* ------------------------------------------------------------------ */

static char rootbuf[PATH_MAX];

static enum kr_err
ctx_init(const struct args *a, struct kt_ctx *c, struct kr_error *err)
{
	size_t n;

	memset(c, 0, sizeof(*c));
	c->root = "";
	c->storepass_file = a->storepass_file;
	if (a->root_dir != NULL) {
		if (a->root_dir[0] != '/')
			return kr_fail(err, KR_E_USAGE, "--root-dir %s: give "
			    "an absolute path", a->root_dir);
		n = strlen(a->root_dir);
		while (n > 1 && a->root_dir[n - 1] == '/')
			n--;
		if (n >= sizeof(rootbuf) - 1)
			return kr_fail(err, KR_E_USAGE, "--root-dir: too long");
		snprintf(rootbuf, sizeof(rootbuf), "%.*s", (int)n,
		    a->root_dir);
		if (strcmp(rootbuf, "/") != 0)
			c->root = rootbuf;
	}
	if (a->storepass_file != NULL && access(a->storepass_file, R_OK) !=
	    0)
		return kr_fail(err, KR_E_NOTFOUND, "--java-storepass-file %s: "
		    "%s", a->storepass_file, strerror(errno));
	return KR_OK;
}

/* The state, or KR_E_NOTFOUND if this host was never bootstrapped. */
static enum kr_err
state_load(const struct kt_ctx *c, struct ca_tstate *st,
    struct kr_error *err)
{
	char path[PATH_MAX];
	uint8_t *buf;
	size_t len;
	enum kr_err rc;

	memset(st, 0, sizeof(*st));
	if ((rc = kt_path(c, STATE_FILE, path, sizeof(path), err)) != KR_OK)
		return rc;
	if (access(path, F_OK) != 0)
		return kr_fail(err, KR_E_NOTFOUND, "%s: no state: this host "
		    "trusts no root yet; run keyrite-trust bootstrap --root "
		    "ROOT.pem --fingerprint SHA256 first", path);
	if ((rc = kr_file_read(path, CA_TSTATE_MAX + 1, &buf, &len, err)) !=
	    KR_OK)
		return rc;
	rc = ca_tstate_parse(buf, len, st, err);
	free(buf);
	if (rc != KR_OK)
		kr_error_prefix(err, "%s", path);
	return rc;
}

static enum kr_err
state_save(const struct kt_ctx *c, const struct ca_tstate *st,
    struct kr_error *err)
{
	char path[PATH_MAX], dir[PATH_MAX], *text;
	size_t len;
	enum kr_err rc;

	if ((rc = kt_path(c, STATE_FILE, path, sizeof(path), err)) != KR_OK ||
	    (rc = kt_path(c, STATE_DIR, dir, sizeof(dir), err)) != KR_OK ||
	    (rc = kr_mkdirs(dir, 0755, err)) != KR_OK ||
	    (rc = ca_tstate_encode(st, &text, &len, err)) != KR_OK)
		return rc;
	rc = kr_file_write(path, text, len, 0644, 1, err);
	free(text);
	return rc;
}

static int
push_id(char ***ids, size_t *n, const char *s)
{
	char **v;
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*ids)[i], s) == 0)
			return 0;
	if ((v = realloc(*ids, (*n + 2) * sizeof(*v))) == NULL ||
	    (v[*n] = strdup(s)) == NULL) {
		if (v != NULL)
			*ids = v;
		return -1;
	}
	*ids = v;
	(*n)++;
	return 0;
}

static void
free_ids(char **ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

static int
isdir(const struct kt_ctx *c, const char *logical)
{
	char p[PATH_MAX];
	struct stat sb;

	snprintf(p, sizeof(p), "%s%s", c->root, logical);
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/*
 * The stores to work on, as state ids: from --stores, else those of
 * the last apply (st), else dflt.
 */
static enum kr_err
select_stores(const struct kt_ctx *c, const struct args *a,
    const struct ca_tstate *st, const char *dflt, char ***ids, size_t *n,
    struct kr_error *err)
{
	char *list, *tok, *save, id[16 + PATH_MAX];
	const char *home;
	size_t i;
	int bad = 0;

	*ids = NULL;
	*n = 0;
	if (a->stores == NULL && st != NULL && st->nstores > 0) {
		for (i = 0; i < st->nstores; i++)
			bad |= push_id(ids, n, st->stores[i]);
		return bad ? kr_fail(err, KR_E_NOMEM, "out of memory") : KR_OK;
	}
	if ((list = strdup(a->stores != NULL ? a->stores : dflt)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "system") == 0) {
			int deb = kt_have("update-ca-certificates") ||
			    isdir(c, "/usr/local/share/ca-certificates");
			int rhel = isdir(c, "/etc/pki/ca-trust");

			if (!deb && !rhel) {
				free(list);
				return kr_fail(err, KR_E_NOTFOUND, "store "
				    "system: neither update-ca-certificates "
				    "(Debian) nor %s/etc/pki/ca-trust (RHEL) "
				    "is here", c->root);
			}
			if (deb)
				bad |= push_id(ids, n, "debian");
			if (rhel)
				bad |= push_id(ids, n, "rhel");
		} else if (strcmp(tok, "debian") == 0 ||
		    strcmp(tok, "rhel") == 0)
			bad |= push_id(ids, n, tok);
		else if (strcmp(tok, "pem") == 0) {
			snprintf(id, sizeof(id), "pem:%s", a->pem_file != NULL ?
			    a->pem_file : PEM_DEFAULT);
			bad |= push_id(ids, n, id);
		} else if (strcmp(tok, "java") == 0) {
			snprintf(id, sizeof(id), "java:%s", a->java_keystore !=
			    NULL ? a->java_keystore : JAVA_DEFAULT);
			bad |= push_id(ids, n, id);
		} else if (strcmp(tok, "nss") == 0) {
			if (a->nnssdb == 0) {
				if ((home = getenv("HOME")) == NULL ||
				    home[0] != '/') {
					free(list);
					return kr_fail(err, KR_E_USAGE, "store "
					    "nss: $HOME is not set; name the "
					    "database with --nssdb DIR");
				}
				snprintf(id, sizeof(id), "nss:%s/.pki/nssdb",
				    strcmp(home, "/") == 0 ? "" : home);
				bad |= push_id(ids, n, id);
			}
			for (i = 0; i < a->nnssdb; i++) {
				snprintf(id, sizeof(id), "nss:%s", a->nssdb[i]);
				bad |= push_id(ids, n, id);
			}
		} else {
			kr_fail(err, KR_E_USAGE, "--stores: '%s' is not "
			    "system, debian, rhel, pem, nss or java", tok);
			free(list);
			return KR_E_USAGE;
		}
	}
	free(list);
	if (bad)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; i < *n; i++)
		if (!ca_tstate_store_ok((*ids)[i]))
			return kr_fail(err, KR_E_USAGE, "store %s: paths must "
			    "be absolute, without '.' or '..' parts",
			    (*ids)[i]);
	if (*n == 0)
		return kr_fail(err, KR_E_USAGE, "--stores names no store");
	if (*n > CA_TSTATE_MAX_STORES)
		return kr_fail(err, KR_E_USAGE, "more than %d stores",
		    CA_TSTATE_MAX_STORES);
	return KR_OK;
}

static enum kr_err
open_stores(const struct kt_ctx *c, char **ids, size_t n,
    struct kt_store **out, struct kr_error *err)
{
	struct kt_store *s;
	size_t i;
	enum kr_err rc;

	if ((s = calloc(n + 1, sizeof(*s))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	*out = s;
	for (i = 0; i < n; i++)
		if ((rc = kt_store_init(c, &s[i], ids[i], err)) != KR_OK ||
		    (rc = kt_store_list(c, &s[i], err)) != KR_OK)
			return rc;
	return KR_OK;
}

static void
close_stores(struct kt_store *s, size_t n)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < n; i++)
		kt_store_free(&s[i]);
	free(s);
}

static X509 *
pem_one(const uint8_t *buf, size_t len)
{
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

/* ------------------------------------------------------------------ */
/* Changing stores: add everything first, then remove                  */
/* ------------------------------------------------------------------ */

struct want {
	X509		**certs;	/* the anchors to have */
	size_t		  n;
};

static int
wanted(const struct want *w, const uint8_t h[32])
{
	uint8_t x[32];
	size_t i;

	for (i = 0; i < w->n; i++) {
		ca_cert_sha256(w->certs[i], x);
		if (memcmp(x, h, 32) == 0)
			return 1;
	}
	return 0;
}

static void
subject_line(X509 *x, char *buf, size_t sz)
{
	X509_NAME_oneline(X509_get_subject_name(x), buf, (int)sz);
}

/*
 * Bring every store to exactly w: add what is missing to all of them,
 * then remove the keyrite entries w does not hold.  With dry_run, say
 * what would be done.  *changes counts the steps.
 */
static enum kr_err
converge(const struct kt_ctx *c, struct kt_store *s, size_t ns,
    const struct want *w, int dry_run, size_t *adds, size_t *removes,
    struct kr_error *err)
{
	char subj[256], name[32];
	uint8_t h[32];
	size_t i, j;
	enum kr_err rc;

	*adds = *removes = 0;
	for (i = 0; i < ns; i++) {
		for (j = 0; j < w->n; j++) {
			ca_cert_sha256(w->certs[j], h);
			if (kt_store_has(&s[i], h) != NULL)
				continue;
			kt_entry_name(h, name);
			subject_line(w->certs[j], subj, sizeof(subj));
			printf("  %s %-8s %s  %s  %s\n", dry_run ?
			    "would add" : "add", s[i].type == KT_NSS ||
			    s[i].type == KT_JAVA || s[i].type == KT_PEM ?
			    (s[i].type == KT_NSS ? "nss" : s[i].type ==
			    KT_JAVA ? "java" : "pem") : s[i].id, name, subj,
			    s[i].path[0] != '\0' && s[i].type != KT_DEBIAN &&
			    s[i].type != KT_RHEL ? s[i].path : "");
			(*adds)++;
			if (!dry_run && (rc = kt_store_add(c, &s[i],
			    w->certs[j], err)) != KR_OK)
				return rc;
		}
		if (!dry_run && (rc = kt_store_commit(c, &s[i], err)) != KR_OK)
			return rc;
	}
	for (i = 0; i < ns; i++) {
		for (j = 0; j < s[i].nentries; ) {
			const struct kt_entry *e = &s[i].entries[j];

			if (wanted(w, e->sha256)) {
				j++;
				continue;
			}
			subject_line(e->cert, subj, sizeof(subj));
			printf("  %s %-8s %s  %s  %s\n", dry_run ?
			    "would remove" : "remove", s[i].type == KT_NSS ?
			    "nss" : s[i].type == KT_JAVA ? "java" :
			    s[i].type == KT_PEM ? "pem" : s[i].id, e->name,
			    subj, s[i].type != KT_DEBIAN && s[i].type !=
			    KT_RHEL ? s[i].path : "");
			(*removes)++;
			if (dry_run) {
				j++;
				continue;
			}
			if ((rc = kt_store_remove(c, &s[i], e, err)) != KR_OK)
				return rc;
		}
		if (!dry_run && (rc = kt_store_commit(c, &s[i], err)) != KR_OK)
			return rc;
	}
	if (!dry_run)
		for (i = 0; i < ns; i++)
			if (s[i].type == KT_RHEL && c->root[0] != '\0')
				printf("  note: rhel: update-ca-trust is not "
				    "run under --root-dir; run it in the "
				    "image\n");
	return KR_OK;
}

/* ------------------------------------------------------------------ */
/* bootstrap                                                           */
/* ------------------------------------------------------------------ */

static int
parse_fpr(const char *s, uint8_t out[32])
{
	size_t n = 0;
	int hi = -1, d;

	if (strncasecmp(s, "sha256:", 7) == 0)
		s += 7;
	for (; *s != '\0'; s++) {
		if (*s == ':' || *s == ' ')
			continue;
		if (!isxdigit((unsigned char)*s) || n >= 32)
			return -1;
		d = isdigit((unsigned char)*s) ? *s - '0' :
		    tolower((unsigned char)*s) - 'a' + 10;
		if (hi < 0)
			hi = d;
		else {
			out[n++] = (uint8_t)(hi << 4 | d);
			hi = -1;
		}
	}
	return n == 32 && hi < 0 ? 0 : -1;
}

static int
cmd_bootstrap(struct args *a, int argc, char **argv);

static const struct cmd bootstrap_cmd = {
	"bootstrap", "--root ROOT.pem --fingerprint SHA256 [--root-dir DIR]",
	"Pin the first root this host trusts to sign bundles: ROOT.pem is "
	"accepted only\nif its SHA-256 fingerprint is the one given, read "
	"out of band (e.g. from the\nceremony transcript).  Nothing is "
	"installed in any store yet: `apply` does that.",
	"  --root FILE               the root certificate (PEM)\n"
	"  --fingerprint SHA256      its SHA-256 (64 hex digits; ':' and "
	"spaces ignored)\n" OPT_ROOTDIR,
	"  keyrite-trust bootstrap --root root-2026.pem \\\n"
	"      --fingerprint 'ED17 7BAC 1124 F0B1 ...'",
	cmd_bootstrap,
};

static int
cmd_bootstrap(struct args *a, int argc, char **argv)
{
	const struct cmd *c = &bootstrap_cmd;
	struct kr_error err = { 0 };
	struct kt_ctx ctx;
	struct ca_tstate st, old;
	uint8_t want[32], have[32];
	char hw[65], hh[65], path[PATH_MAX];
	X509 **v = NULL;
	size_t n = 0;
	EVP_PKEY *pk;
	int idx, rc = 1;

	memset(&st, 0, sizeof(st));
	memset(&old, 0, sizeof(old));
	if ((idx = parse(c, argc, argv, a)) < 0)
		return EXIT_USAGE;
	if (idx != argc)
		return usage_err(c, "unexpected argument '%s'", argv[idx]);
	if (a->root == NULL || a->fingerprint == NULL)
		return usage_err(c, "--root and --fingerprint are required");
	if (parse_fpr(a->fingerprint, want) != 0)
		return usage_err(c, "--fingerprint '%s' is not a SHA-256 (64 "
		    "hex digits)", a->fingerprint);
	if (ctx_init(a, &ctx, &err) != KR_OK)
		return report(c, &err);
	if (ca_bundle_load_certs(a->root, &v, &n, &err) != KR_OK)
		return report(c, &err);
	if (n != 1) {
		kr_fail(&err, KR_E_PARSE, "%s: %zu certificates; give the one "
		    "root", a->root, n);
		goto fail;
	}
	ca_cert_sha256(v[0], have);
	kr_hex(want, 32, hw);
	kr_hex(have, 32, hh);
	if (memcmp(want, have, 32) != 0) {
		kr_fail(&err, KR_E_VERIFY, "%s: its SHA-256 is %s, not the "
		    "fingerprint given (%s): do not trust this file", a->root,
		    hh, hw);
		goto fail;
	}
	pk = X509_get0_pubkey(v[0]);
	if (X509_check_ca(v[0]) < 1 || X509_check_issued(v[0], v[0]) !=
	    X509_V_OK || pk == NULL || X509_verify(v[0], pk) != 1) {
		kr_fail(&err, KR_E_VERIFY, "%s: not a self-signed CA "
		    "certificate whose signature verifies", a->root);
		goto fail;
	}
	if (X509_cmp_time(X509_get0_notAfter(v[0]), &(time_t){ kr_now() }) <
	    0) {
		kr_fail(&err, KR_E_VERIFY, "%s: expired", a->root);
		goto fail;
	}
	if (kt_path(&ctx, STATE_FILE, path, sizeof(path), &err) != KR_OK)
		goto fail;
	if (access(path, F_OK) == 0) {
		if (state_load(&ctx, &old, &err) != KR_OK)
			goto fail;
		if (old.version == 0 && old.nanchors == 1 &&
		    memcmp(old.anchors[0].sha256, have, 32) == 0) {
			printf("already bootstrapped with %s (SHA-256 %s): "
			    "nothing changed\n", old.anchors[0].subject, hh);
			rc = 0;
			goto out;
		}
		kr_fail(&err, KR_E_EXISTS, "%s exists already (bundle version "
		    "%lld applied): this host is bootstrapped; new roots come "
		    "in signed bundles (keyrite-trust apply)", path,
		    old.version);
		goto fail;
	}
	if (ca_tstate_add(&st, v[0], 0, 0, &err) != KR_OK ||
	    state_save(&ctx, &st, &err) != KR_OK)
		goto fail;
	printf("bootstrapped: bundles signed by %s\n  (SHA-256 %s) will be "
	    "accepted\n  state: %s\n", st.anchors[0].subject, hh, path);
	rc = 0;
	goto out;
fail:
	rc = report(c, &err);
out:
	ca_bundle_free_certs(v, n);
	ca_tstate_free(&st);
	ca_tstate_free(&old);
	return rc;
}

/* ------------------------------------------------------------------ */
/* apply                                                               */
/* ------------------------------------------------------------------ */

static enum kr_err
load_bundle(const char *src, long timeout, struct ca_files *out,
    struct kr_error *err)
{
	struct stat sb;
	uint8_t *buf = NULL;
	size_t len;
	enum kr_err rc;

	memset(out, 0, sizeof(*out));
	if (strncmp(src, "http://", 7) == 0 ||
	    strncmp(src, "https://", 8) == 0) {
		if ((rc = kt_fetch(src, BUNDLE_MAX, timeout, &buf, &len,
		    err)) != KR_OK)
			return rc;
	} else {
		if (stat(src, &sb) == -1)
			return kr_fail(err, errno == ENOENT ? KR_E_NOTFOUND :
			    KR_E_IO, "%s: %s", src, strerror(errno));
		if (S_ISDIR(sb.st_mode))
			return ca_files_read_dir(src, out, err);
		if ((rc = kr_file_read(src, BUNDLE_MAX, &buf, &len, err)) !=
		    KR_OK)
			return rc;
	}
	rc = ca_tar_read(buf, len, out, err);
	free(buf);
	if (rc != KR_OK)
		kr_error_prefix(err, "%s", src);
	return rc;
}

static int cmd_apply(struct args *a, int argc, char **argv);

static const struct cmd apply_cmd = {
	"apply", "(BUNDLE.tar | DIR | URL) [--stores LIST] [--root-dir DIR] "
	"[--dry-run]",
	"Verify a rotation bundle as `keyrite bundle verify` does, against "
	"the roots this\nhost trusts and the bundle it applied last (signed "
	"by a trusted root's key, the\nnext version naming the last one's "
	"manifest, not expired), then bring every\nstore to its anchors: "
	"all are added before any is removed; anchors whose\nremove_after "
	"has passed, or that the bundle no longer lists, are removed.  A\n"
	"refused bundle changes nothing.  Applying the same bundle again "
	"changes nothing.",
	OPT_STORES OPT_ROOTDIR
	"  --timeout SECONDS         for a URL (default 60)\n"
	"  --dry-run                 verify and show what would change; "
	"change nothing\n",
	"  keyrite-trust apply http://ca.lab.internal:8080/trust/bundle.tar "
	"\\\n      --stores system,nss,java,pem",
	cmd_apply,
};

static int
cmd_apply(struct args *a, int argc, char **argv)
{
	const struct cmd *c = &apply_cmd;
	struct kr_error err = { 0 };
	struct kt_ctx ctx;
	struct ca_tstate st, nst;
	struct ca_files files = { 0 };
	struct ca_manifest m = { 0 };
	struct ca_bundle_policy pol;
	struct ca_bundle_sigs sigs;
	struct kt_store *stores = NULL;
	struct want w = { NULL, 0 };
	const struct ca_file *mf, *af;
	X509 **trust = NULL;
	char **ids = NULL, hex[65];
	uint8_t h[32], sh[32];
	size_t ntrust = 0, nids = 0, i, adds = 0, removes = 0;
	time_t now = kr_now();
	int idx, same = 0, rc = 1, stores_same;
	const char *src;

	memset(&st, 0, sizeof(st));
	memset(&nst, 0, sizeof(nst));
	if ((idx = parse(c, argc, argv, a)) < 0)
		return EXIT_USAGE;
	if (idx == argc)
		return usage_err(c, "name the bundle (a .tar, a directory or "
		    "an http(s) URL)");
	if (idx + 1 != argc)
		return usage_err(c, "unexpected argument '%s'", argv[idx + 1]);
	src = argv[idx];
	if (ctx_init(a, &ctx, &err) != KR_OK || state_load(&ctx, &st, &err) !=
	    KR_OK || select_stores(&ctx, a, &st, "system", &ids, &nids,
	    &err) != KR_OK || load_bundle(src, a->timeout > 0 ? a->timeout :
	    60, &files, &err) != KR_OK)
		goto fail;
	if ((trust = calloc(st.nanchors + 1, sizeof(*trust))) == NULL) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	for (ntrust = 0; ntrust < st.nanchors; ntrust++)
		if ((trust[ntrust] = ca_tstate_cert(&st, ntrust)) == NULL) {
			kr_fail(&err, KR_E_STATE, "state: anchor %zu does not "
			    "parse", ntrust);
			goto fail;
		}
	if ((mf = ca_files_get(&files, CA_BUNDLE_MANIFEST)) != NULL &&
	    st.manifest != NULL) {
		EVP_Digest(mf->data, mf->len, h, NULL, EVP_sha256(), NULL);
		EVP_Digest(st.manifest, st.manifest_len, sh, NULL,
		    EVP_sha256(), NULL);
		same = memcmp(h, sh, 32) == 0;
	}
	/* The same bundle again is checked as it was the first time. */
	pol = (struct ca_bundle_policy){ trust, ntrust, 1,
	    same ? NULL : (const uint8_t *)st.manifest,
	    same ? 0 : st.manifest_len, now };
	memset(&sigs, 0, sizeof(sigs));
	if (ca_bundle_verify(&files, &pol, &m, &sigs, &err) != KR_OK) {
		kr_error_prefix(&err, "%s", src);
		fprintf(stderr, "%s: apply: %s\n%s: apply: refused; nothing "
		    "was changed\n", prog, err.msg, prog);
		goto out;
	}
	mf = ca_files_get(&files, CA_BUNDLE_MANIFEST);
	EVP_Digest(mf->data, mf->len, h, NULL, EVP_sha256(), NULL);
	kr_hex(h, 32, hex);
	printf("bundle version %lld (manifest SHA-256 %.16s...): signed by "
	    "%zu trusted key%s; %s\n", m.version, hex, sigs.ntrusted,
	    sigs.ntrusted == 1 ? "" : "s", same ? "applied already" :
	    st.version == 0 ? "the first since bootstrap" :
	    "follows the one applied last");
	/* What the stores should hold: every anchor not yet due. */
	if ((w.certs = calloc(m.nanchors + 1, sizeof(*w.certs))) == NULL) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	nst.version = m.version;
	nst.applied_at = now;
	if ((nst.manifest = malloc(mf->len + 1)) == NULL) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	memcpy(nst.manifest, mf->data, mf->len + 1);
	nst.manifest_len = mf->len;
	for (i = 0; i < m.nanchors; i++) {
		const struct ca_bundle_anchor *an = &m.anchors[i];
		X509 *x;

		if ((af = ca_files_get(&files, an->file)) == NULL ||
		    (x = pem_one(af->data, af->len)) == NULL) {
			kr_fail(&err, KR_E_INTERNAL, "%s: lost", an->file);
			goto fail;
		}
		if (an->state == CA_ANCHOR_RETIRING && an->remove_after <=
		    now) {
			printf("  %s is retiring and its remove_after has "
			    "passed: not installed\n", an->subject);
			X509_free(x);
			continue;
		}
		w.certs[w.n++] = x;
		if (ca_tstate_add(&nst, x, an->state, an->remove_after,
		    &err) != KR_OK)
			goto fail;
	}
	if ((nst.stores = calloc(nids + 1, sizeof(*nst.stores))) == NULL) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < nids; i++)
		if ((nst.stores[nst.nstores++] = strdup(ids[i])) == NULL) {
			kr_fail(&err, KR_E_NOMEM, "out of memory");
			goto fail;
		}
	if (open_stores(&ctx, ids, nids, &stores, &err) != KR_OK ||
	    converge(&ctx, stores, nids, &w, a->dry_run, &adds, &removes,
	    &err) != KR_OK)
		goto fail;
	stores_same = st.nstores == nids;
	for (i = 0; stores_same && i < nids; i++)
		stores_same = strcmp(st.stores[i], ids[i]) == 0;
	if (a->dry_run) {
		printf("dry run: %zu to add, %zu to remove in %zu store%s; "
		    "nothing was changed\n", adds, removes, nids, nids == 1 ?
		    "" : "s");
		rc = 0;
		goto out;
	}
	if (same && adds == 0 && removes == 0 && stores_same &&
	    st.nanchors == nst.nanchors) {
		printf("bundle version %lld is applied already and every store "
		    "has its anchors: nothing changed\n", m.version);
		rc = 0;
		goto out;
	}
	if (state_save(&ctx, &nst, &err) != KR_OK)
		goto fail;
	printf("applied bundle version %lld: %zu added, %zu removed in %zu "
	    "store%s\n", m.version, adds, removes, nids, nids == 1 ? "" : "s");
	rc = 0;
	goto out;
fail:
	rc = report(c, &err);
out:
	close_stores(stores, nids);
	if (w.certs != NULL)
		ca_bundle_free_certs(w.certs, w.n);
	if (trust != NULL)
		ca_bundle_free_certs(trust, ntrust);
	free_ids(ids, nids);
	ca_manifest_free(&m);
	ca_files_free(&files);
	ca_tstate_free(&st);
	ca_tstate_free(&nst);
	return rc;
}

/* ------------------------------------------------------------------ */
/* remove-retired                                                      */
/* ------------------------------------------------------------------ */

static int cmd_remove(struct args *a, int argc, char **argv);

static const struct cmd remove_cmd = {
	"remove-retired", "[--root-dir DIR] [--stores LIST] [--dry-run]",
	"Remove, by fingerprint, from every store of the last apply: the "
	"anchors that are\nretiring and whose remove_after has passed, and "
	"any keyrite-<fingerprint>\nentry of an anchor the last applied "
	"bundle does not list.  Run it daily (from\ncron or a systemd timer); "
	"when nothing is due it changes nothing.",
	OPT_STORES OPT_ROOTDIR
	"  --dry-run                 show what would be removed; change "
	"nothing\n",
	"  keyrite-trust remove-retired",
	cmd_remove,
};

static int
cmd_remove(struct args *a, int argc, char **argv)
{
	const struct cmd *c = &remove_cmd;
	struct kr_error err = { 0 };
	struct kt_ctx ctx;
	struct ca_tstate st;
	struct kt_store *stores = NULL;
	struct want w = { NULL, 0 };
	char **ids = NULL, t[32];
	size_t nids = 0, i, adds, removes, ndue = 0;
	time_t now = kr_now();
	int idx, rc = 1;

	memset(&st, 0, sizeof(st));
	if ((idx = parse(c, argc, argv, a)) < 0)
		return EXIT_USAGE;
	if (idx != argc)
		return usage_err(c, "unexpected argument '%s'", argv[idx]);
	if (ctx_init(a, &ctx, &err) != KR_OK || state_load(&ctx, &st, &err) !=
	    KR_OK)
		goto fail;
	if (st.version == 0) {
		printf("no bundle applied yet: nothing to remove\n");
		rc = 0;
		goto out;
	}
	if (select_stores(&ctx, a, &st, "system", &ids, &nids, &err) !=
	    KR_OK)
		goto fail;
	if ((w.certs = calloc(st.nanchors + 1, sizeof(*w.certs))) == NULL) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < st.nanchors; ) {
		const struct ca_tstate_anchor *an = &st.anchors[i];

		if (an->state == CA_ANCHOR_RETIRING && an->remove_after <=
		    now) {
			ca_time_rfc3339(an->remove_after, t);
			printf("  %s: retiring, remove_after %s has passed\n",
			    an->subject, t);
			ndue++;
			if (!a->dry_run) {
				ca_tstate_remove(&st, i);
				continue;
			}
		} else if ((w.certs[w.n] = ca_tstate_cert(&st, i)) != NULL)
			w.n++;
		i++;
	}
	if (open_stores(&ctx, ids, nids, &stores, &err) != KR_OK ||
	    converge(&ctx, stores, nids, &w, a->dry_run, &adds, &removes,
	    &err) != KR_OK)
		goto fail;
	if (a->dry_run) {
		printf("dry run: %zu anchor%s due, %zu entr%s to remove; "
		    "nothing was changed\n", ndue, ndue == 1 ? "" : "s",
		    removes, removes == 1 ? "y" : "ies");
		rc = 0;
		goto out;
	}
	if (ndue > 0 && state_save(&ctx, &st, &err) != KR_OK)
		goto fail;
	if (ndue == 0 && removes == 0 && adds == 0)
		printf("nothing is due: nothing changed\n");
	else
		printf("removed %zu retired anchor%s: %zu entr%s removed, %zu "
		    "restored\n", ndue, ndue == 1 ? "" : "s", removes,
		    removes == 1 ? "y" : "ies", adds);
	rc = 0;
	goto out;
fail:
	rc = report(c, &err);
out:
	close_stores(stores, nids);
	if (w.certs != NULL)
		ca_bundle_free_certs(w.certs, w.n);
	free_ids(ids, nids);
	ca_tstate_free(&st);
	return rc;
}

/* ------------------------------------------------------------------ */
/* status                                                              */
/* ------------------------------------------------------------------ */

static int cmd_status(struct args *a, int argc, char **argv);

static const struct cmd status_cmd = {
	"status", "[--json] [--leaf CERT [--chain CHAIN]] [--root-dir DIR] "
	"[--stores LIST]",
	"For every store of the last apply and every anchor this host should "
	"trust, prove\nthe store trusts it by building a chain against what "
	"the store serves (OpenSSL\nagainst the PEM file or bundle, the "
	"certificates keytool lists; vfychain\nagainst an NSS database).  "
	"Missing, untrusted or extra keyrite entries are\ndrift: exit 1.  "
	"--leaf checks a real TLS server chain in every store too.\nThe JSON "
	"form is documented in docs/trust.md.",
	"  --json                    machine-readable output\n"
	"  --leaf FILE               a TLS server certificate to validate in "
	"every store\n"
	"  --chain FILE              its intermediates (PEM)\n"
	OPT_STORES OPT_ROOTDIR,
	"  keyrite-trust status --json --leaf www.pem --chain chain.pem",
	cmd_status,
};

static int
cmd_status(struct args *a, int argc, char **argv)
{
	const struct cmd *c = &status_cmd;
	struct kr_error err = { 0 };
	struct kt_ctx ctx;
	struct ca_tstate st;
	struct kt_store *stores = NULL;
	STACK_OF(X509) *chain = NULL;
	X509 *leaf = NULL, **lv = NULL, **cv = NULL, **anchors = NULL;
	json_t *root = NULL, *jst, *ja, *jx, *o;
	char **ids = NULL, hex[65], why[512], served[PATH_MAX + 8], name[32];
	char t[32];
	size_t nids = 0, i, j, nl = 0, nc = 0, drift = 0;
	time_t now = kr_now();
	int idx, rc = 1, ok, sok;

	memset(&st, 0, sizeof(st));
	if ((idx = parse(c, argc, argv, a)) < 0)
		return EXIT_USAGE;
	if (idx != argc)
		return usage_err(c, "unexpected argument '%s'", argv[idx]);
	if (a->chain != NULL && a->leaf == NULL)
		return usage_err(c, "--chain goes with --leaf");
	if (ctx_init(a, &ctx, &err) != KR_OK || state_load(&ctx, &st, &err) !=
	    KR_OK)
		goto fail;
	if (a->leaf != NULL) {
		if (ca_bundle_load_certs(a->leaf, &lv, &nl, &err) != KR_OK)
			goto fail;
		leaf = lv[0];
		if ((chain = sk_X509_new_null()) == NULL) {
			kr_fail(&err, KR_E_NOMEM, "out of memory");
			goto fail;
		}
		for (i = 1; i < nl; i++)
			sk_X509_push(chain, lv[i]);
		if (a->chain != NULL) {
			if (ca_bundle_load_certs(a->chain, &cv, &nc, &err) !=
			    KR_OK)
				goto fail;
			for (i = 0; i < nc; i++)
				sk_X509_push(chain, cv[i]);
		}
	}
	if (st.nstores > 0 || a->stores != NULL) {
		if (select_stores(&ctx, a, &st, "system", &ids, &nids, &err) !=
		    KR_OK || open_stores(&ctx, ids, nids, &stores, &err) !=
		    KR_OK)
			goto fail;
	}
	if ((anchors = calloc(st.nanchors + 1, sizeof(*anchors))) == NULL ||
	    (root = json_object()) == NULL) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < st.nanchors; i++)
		if ((anchors[i] = ca_tstate_cert(&st, i)) == NULL) {
			kr_fail(&err, KR_E_STATE, "state: anchor %zu does not "
			    "parse", i);
			goto fail;
		}
	json_object_set_new(root, "root_dir", json_string(ctx.root[0] ?
	    ctx.root : "/"));
	json_object_set_new(root, "version", json_integer(st.version));
	if (st.manifest != NULL) {
		uint8_t h[32];

		EVP_Digest(st.manifest, st.manifest_len, h, NULL,
		    EVP_sha256(), NULL);
		kr_hex(h, 32, hex);
		json_object_set_new(root, "manifest_sha256", json_string(hex));
	} else
		json_object_set_new(root, "manifest_sha256", json_null());
	json_object_set_new(root, "applied_at",
	    ca_tstate_jtime(st.applied_at));
	if (!a->json) {
		if (st.version == 0)
			printf("bootstrapped; no bundle applied yet\n");
		else {
			ca_time_rfc3339(st.applied_at, t);
			printf("bundle version %lld applied at %s\n",
			    st.version, t);
		}
	}
	ja = json_array();
	for (i = 0; i < st.nanchors; i++) {
		const struct ca_tstate_anchor *an = &st.anchors[i];
		int due = an->state == CA_ANCHOR_RETIRING &&
		    an->remove_after <= now;

		kr_hex(an->sha256, 32, hex);
		o = json_object();
		json_object_set_new(o, "sha256", json_string(hex));
		json_object_set_new(o, "subject", json_string(an->subject));
		json_object_set_new(o, "state", json_string(
		    ca_tstate_state_name(an->state)));
		json_object_set_new(o, "remove_after",
		    ca_tstate_jtime(an->remove_after));
		json_object_set_new(o, "due", json_boolean(due));
		json_array_append_new(ja, o);
		if (!a->json) {
			printf("  anchor %-9s %s\n         SHA-256 %s",
			    ca_tstate_state_name(an->state), an->subject, hex);
			if (an->remove_after != 0) {
				ca_time_rfc3339(an->remove_after, t);
				printf("\n         remove after %s%s", t, due ?
				    " (passed: run keyrite-trust "
				    "remove-retired)" : "");
			}
			printf("\n");
		}
	}
	json_object_set_new(root, "anchors", ja);
	jst = json_array();
	for (i = 0; i < nids; i++) {
		struct kt_store *s = &stores[i];

		sok = 1;
		o = json_object();
		json_object_set_new(o, "store", json_string(s->id));
		json_object_set_new(o, "served", json_string(
		    kt_store_served(s, served, sizeof(served))));
		if (!a->json)
			printf("store %s (%s)\n", s->id, served);
		ja = json_array();
		for (j = 0; j < st.nanchors; j++) {
			const struct kt_entry *e = kt_store_has(s,
			    st.anchors[j].sha256);
			const char *what;
			json_t *x = json_object();

			if (st.version == 0)
				break;	/* bootstrap anchors are not installed */
			ok = kt_store_trusts(&ctx, s, anchors[j], NULL, why,
			    sizeof(why), &err);
			if (ok < 0)
				goto fail;
			what = e == NULL ? "missing" : ok ? "ok" : "untrusted";
			if (e == NULL && why[0] == '\0')
				snprintf(why, sizeof(why), "no keyrite entry");
			else if (e == NULL)
				snprintf(why + strlen(why), sizeof(why) -
				    strlen(why), "; no keyrite entry");
			kr_hex(st.anchors[j].sha256, 32, hex);
			kt_entry_name(st.anchors[j].sha256, name);
			json_object_set_new(x, "sha256", json_string(hex));
			json_object_set_new(x, "entry", e != NULL ?
			    json_string(e->name) : json_null());
			json_object_set_new(x, "status", json_string(what));
			json_object_set_new(x, "detail", json_string(
			    strcmp(what, "ok") == 0 ? "chain built" : why));
			json_array_append_new(ja, x);
			if (strcmp(what, "ok") != 0)
				sok = 0;
			if (!a->json)
				printf("  %-9s %s  %s%s%s\n", what, name,
				    st.anchors[j].subject, strcmp(what, "ok") ?
				    ": " : "", strcmp(what, "ok") ? why : "");
		}
		json_object_set_new(o, "anchors", ja);
		jx = json_array();
		for (j = 0; j < s->nentries; j++) {
			const struct kt_entry *e = &s->entries[j];
			json_t *x;
			char subj[256];

			if (ca_tstate_find(&st, e->sha256) >= 0 &&
			    st.version != 0)
				continue;
			sok = 0;
			x = json_object();
			kr_hex(e->sha256, 32, hex);
			subject_line(e->cert, subj, sizeof(subj));
			json_object_set_new(x, "sha256", json_string(hex));
			json_object_set_new(x, "entry", json_string(e->name));
			json_object_set_new(x, "subject", json_string(subj));
			json_array_append_new(jx, x);
			if (!a->json)
				printf("  extra     %s  %s: not an anchor of "
				    "the last applied bundle\n", e->name, subj);
		}
		json_object_set_new(o, "extra", jx);
		if (leaf != NULL) {
			json_t *x = json_object();

			ok = kt_store_trusts(&ctx, s, leaf, chain, why,
			    sizeof(why), &err);
			if (ok < 0)
				goto fail;
			if (!ok)
				sok = 0;
			json_object_set_new(x, "status", json_string(ok ? "ok" :
			    "untrusted"));
			json_object_set_new(x, "detail", json_string(ok ?
			    "chain built" : why));
			json_object_set_new(o, "leaf", x);
			if (!a->json)
				printf("  leaf      %s: %s\n", a->leaf, ok ?
				    "chain built to a trusted root" : why);
		}
		json_object_set_new(o, "ok", json_boolean(sok));
		json_array_append_new(jst, o);
		if (!sok)
			drift++;
	}
	json_object_set_new(root, "stores", jst);
	json_object_set_new(root, "ok", json_boolean(drift == 0));
	if (a->json) {
		char *s = json_dumps(root, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER);

		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else if (nids == 0)
		printf("no store yet\n");
	else
		printf("%s\n", drift == 0 ? "OK: every store trusts exactly "
		    "the anchors it should" : "DRIFT: a store does not match "
		    "the last applied bundle");
	rc = drift == 0 ? 0 : 1;
	goto out;
fail:
	rc = report(c, &err);
out:
	json_decref(root);
	close_stores(stores, nids);
	if (anchors != NULL)
		ca_bundle_free_certs(anchors, st.nanchors);
	sk_X509_free(chain);
	if (lv != NULL)
		ca_bundle_free_certs(lv, nl);
	if (cv != NULL)
		ca_bundle_free_certs(cv, nc);
	free_ids(ids, nids);
	ca_tstate_free(&st);
	return rc;
}

/* ------------------------------------------------------------------ */

static const struct cmd *const cmds[] = {
	&bootstrap_cmd, &apply_cmd, &status_cmd, &remove_cmd, NULL,
};

static void
usage_all(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s COMMAND [options]\n\nApply signed keyrite "
	    "root-rotation bundles to this host's trust stores\n(Debian/Ubuntu "
	    "and RHEL system stores, NSS databases, Java keystores, a PEM\n"
	    "file).  See keyrite-trust(8) and docs/trust.md.\n\ncommands:\n",
	    prog);
	for (i = 0; cmds[i] != NULL; i++)
		fprintf(f, "  %-15s %s\n", cmds[i]->name, cmds[i]->usage);
	fprintf(f, "\n'%s COMMAND --help' for a command's options.\n", prog);
}

int
main(int argc, char **argv)
{
	struct args a;
	size_t i;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage_all(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage_all(stdout);
		return 0;
	}
	for (i = 0; cmds[i] != NULL; i++)
		if (strcmp(argv[1], cmds[i]->name) == 0) {
			memset(&a, 0, sizeof(a));
			rc = cmds[i]->fn(&a, argc - 1, argv + 1);
			free(a.nssdb);
			return rc;
		}
	fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[1]);
	usage_all(stderr);
	return EXIT_USAGE;
}
