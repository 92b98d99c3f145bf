/*
 * trust.c: `keyrited trust publish` and the /trust/ paths of the
 * publication listener (trust.h, docs/signer.md "Trust bundles").
 *
 * publish takes a bundle only if the existing verifier (ca/bundle.h)
 * accepts it against what is published: signed by the home's root or
 * by an anchor of the last published bundle, exactly its version + 1
 * naming its manifest's SHA-256 (any version when nothing is published
 * yet), and not expired.  Everything is checked before anything is
 * written; then history/N/ appears in one rename, the index is
 * rewritten, and the newest files are each replaced by a rename,
 * manifest.json last.  One publish at a time (HOME/.trust.lock).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "kd.h"
#include "trust.h"
#include "ca/bundle.h"
#include "ca/rotate.h"
#include "common/file.h"
#include "cmd/keyrite/cli.h"

/* The most a bundle archive can be (see ca/tar.c). */
#define TRUST_TAR_MAX	(CA_FILES_TOTAL_MAX + 2 * CA_FILES_MAX * 512 + \
	    20 * 512)
#define TRUST_INDEX_MAX	(1 << 24)

/* ------------------------------------------------------------------ */
/* The publication tree                                                */
/* ------------------------------------------------------------------ */

struct tree {
	char	dir[PATH_MAX];		/* HOME/publish/trust */
};

static enum kr_err
tree_init(struct tree *t, const char *home, struct kr_error *err)
{
	int n;

	n = snprintf(t->dir, sizeof(t->dir), "%s/%s/%s", home, KD_PUBDIR,
	    KD_TRUSTDIR);
	if (n < 0 || (size_t)n >= sizeof(t->dir))
		return kr_fail(err, KR_E_USAGE, "%s: path too long", home);
	return KR_OK;
}

/* t->dir/rel into buf (PATH_MAX). */
static enum kr_err
tree_path(const struct tree *t, const char *rel, char *buf,
    struct kr_error *err)
{
	int n;

	n = snprintf(buf, PATH_MAX, "%s/%s", t->dir, rel);
	if (n < 0 || n >= PATH_MAX)
		return kr_fail(err, KR_E_USAGE, "%s: path too long", t->dir);
	return KR_OK;
}

static void
sha256_hex(const void *buf, size_t len, char out[65])
{
	uint8_t h[32];

	crypto_hash_sha256(h, buf, len);
	kr_hex(h, 32, out);
}

/* Read rel under the tree; KR_E_NOTFOUND when it is not there. */
static enum kr_err
tree_read(const struct tree *t, const char *rel, size_t max, uint8_t **buf,
    size_t *len, struct kr_error *err)
{
	char path[PATH_MAX];
	enum kr_err rc;

	*buf = NULL;
	if ((rc = tree_path(t, rel, path, err)) != KR_OK)
		return rc;
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return kr_fail(err, KR_E_NOTFOUND, "%s: not there", path);
	return kr_file_read(path, max, buf, len, err);
}

/* Is name a version directory's name ("1", "2", ...)? Its number or 0. */
static long long
version_name(const char *name)
{
	struct kd_trust_path p;
	char url[96];

	if (strlen(name) > 20)
		return 0;
	snprintf(url, sizeof(url), "/trust/history/%s/bundle.tar", name);
	if (kd_trust_path_parse(url, &p) != 0)
		return 0;
	return p.version;
}

/* The published state: the newest bundle, or none. */
struct published {
	uint8_t			*manifest;	/* its manifest.json */
	size_t			 mlen;
	struct ca_files		 files;		/* its bundle.tar */
	struct ca_manifest	 m;
	int			 any_history;
};

static void
published_free(struct published *p)
{
	free(p->manifest);
	ca_files_free(&p->files);
	ca_manifest_free(&p->m);
	memset(p, 0, sizeof(*p));
}

/*
 * What is published now.  The newest manifest.json and bundle.tar must
 * agree and the bundle must be sound: a damaged tree is refused, not
 * guessed at.
 */
static enum kr_err
published_load(const struct tree *t, struct published *p,
    struct kr_error *err)
{
	const struct ca_file *mf;
	struct dirent *de;
	char path[PATH_MAX];
	uint8_t *tar = NULL;
	size_t tlen;
	DIR *d;
	enum kr_err rc;

	memset(p, 0, sizeof(*p));
	if ((rc = tree_path(t, KD_TRUST_HISTORY, path, err)) != KR_OK)
		return rc;
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (version_name(de->d_name) > 0)
				p->any_history = 1;
		closedir(d);
	}
	rc = tree_read(t, CA_BUNDLE_MANIFEST, CA_BUNDLE_MANIFEST_MAX,
	    &p->manifest, &p->mlen, err);
	if (rc == KR_E_NOTFOUND) {
		if (p->any_history)
			return kr_fail(err, KR_E_STATE, "%s: history/ holds "
			    "versions but there is no %s: the publication tree "
			    "is damaged; restore it from a backup", t->dir,
			    CA_BUNDLE_MANIFEST);
		return KR_OK;	/* nothing published yet */
	}
	if (rc != KR_OK)
		return rc;
	if ((rc = tree_read(t, KD_TRUST_BUNDLE, TRUST_TAR_MAX, &tar, &tlen,
	    err)) != KR_OK)
		goto fail;
	if ((rc = ca_tar_read(tar, tlen, &p->files, err)) != KR_OK ||
	    (rc = ca_bundle_check(&p->files, &p->m, err)) != KR_OK)
		goto fail;
	mf = ca_files_get(&p->files, CA_BUNDLE_MANIFEST);
	if (mf == NULL || mf->len != p->mlen ||
	    memcmp(mf->data, p->manifest, p->mlen) != 0) {
		rc = kr_fail(err, KR_E_STATE, "%s and %s disagree",
		    KD_TRUST_BUNDLE, CA_BUNDLE_MANIFEST);
		goto fail;
	}
	free(tar);
	return KR_OK;
fail:
	free(tar);
	kr_error_prefix(err, "%s: the published bundle", t->dir);
	published_free(p);
	return rc;
}

/*
 * The keys a new bundle may be signed by: the home's root, and each
 * anchor of the published bundle (but a retiring one past its
 * remove_after).
 */
static enum kr_err
trust_keys(const char *home, const struct published *p, time_t now,
    X509 ***out, size_t *n, struct kr_error *err)
{
	const struct ca_bundle_anchor *a;
	const struct ca_file *f;
	char path[PATH_MAX];
	X509 **v = NULL, **nv, *x;
	BIO *b;
	size_t i;
	enum kr_err rc;

	*out = NULL;
	*n = 0;
	if ((rc = kd_path(home, KD_ROOT, path, err)) != KR_OK)
		return rc;
	if (access(path, F_OK) != 0)
		return kr_fail(err, KR_E_STATE, "%s: missing; run keyrited "
		    "install first", path);
	if ((rc = ca_bundle_load_certs(path, &v, n, err)) != KR_OK)
		return rc;
	for (i = 0; i < p->m.nanchors; i++) {
		a = &p->m.anchors[i];
		if (a->state == CA_ANCHOR_RETIRING && a->remove_after <= now)
			continue;
		if ((f = ca_files_get(&p->files, a->file)) == NULL ||
		    (b = BIO_new_mem_buf(f->data, (int)f->len)) == NULL) {
			rc = kr_fail(err, KR_E_INTERNAL, "%s: missing from the "
			    "published bundle", a->file);
			goto fail;
		}
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
		if (x == NULL) {
			rc = kr_fail_ossl(err, KR_E_PARSE, "%s: the published "
			    "bundle's anchor does not parse", a->file);
			goto fail;
		}
		if ((nv = realloc(v, (*n + 1) * sizeof(*nv))) == NULL) {
			X509_free(x);
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto fail;
		}
		v = nv;
		v[(*n)++] = x;
	}
	*out = v;
	return KR_OK;
fail:
	ca_bundle_free_certs(v, *n);
	*n = 0;
	return rc;
}

/* ------------------------------------------------------------------ */
/* The history index                                                   */
/* ------------------------------------------------------------------ */

struct hentry {
	long long	 version;
	char		 manifest[65];
	char		 bundle[65];
	time_t		 issued_at;
	time_t		 expires;
};

static int
hentry_cmp(const void *a, const void *b)
{
	const struct hentry *x = a, *y = b;

	return x->version < y->version ? -1 : x->version > y->version;
}

/* One history/N/: its hashes and times, after checking it says N. */
static enum kr_err
hentry_load(const struct tree *t, long long v, struct hentry *h,
    struct kr_error *err)
{
	struct ca_manifest m;
	char rel[64];
	uint8_t *mbuf = NULL, *tar = NULL;
	size_t mlen, tlen;
	enum kr_err rc;

	memset(h, 0, sizeof(*h));
	memset(&m, 0, sizeof(m));
	snprintf(rel, sizeof(rel), "%s/%lld/%s", KD_TRUST_HISTORY, v,
	    CA_BUNDLE_MANIFEST);
	if ((rc = tree_read(t, rel, CA_BUNDLE_MANIFEST_MAX, &mbuf, &mlen,
	    err)) != KR_OK)
		goto out;
	snprintf(rel, sizeof(rel), "%s/%lld/%s", KD_TRUST_HISTORY, v,
	    KD_TRUST_BUNDLE);
	if ((rc = tree_read(t, rel, TRUST_TAR_MAX, &tar, &tlen, err)) !=
	    KR_OK)
		goto out;
	if ((rc = ca_manifest_parse(mbuf, mlen, &m, err)) != KR_OK)
		goto out;
	if (m.version != v) {
		rc = kr_fail(err, KR_E_STATE, "%s/%s/%lld: holds version %lld",
		    t->dir, KD_TRUST_HISTORY, v, m.version);
		goto out;
	}
	h->version = v;
	sha256_hex(mbuf, mlen, h->manifest);
	sha256_hex(tar, tlen, h->bundle);
	h->issued_at = m.issued_at;
	h->expires = m.expires;
out:
	ca_manifest_free(&m);
	free(mbuf);
	free(tar);
	return rc;
}

/* Rewrite history/index.json from the history/N/ directories. */
static enum kr_err
index_write(const struct tree *t, long long latest, struct kr_error *err)
{
	struct hentry *v = NULL, *nv;
	struct dirent *de;
	char path[PATH_MAX], t1[32], t2[32], url[64];
	json_t *o = NULL, *arr, *e;
	char *text = NULL;
	size_t n = 0, i;
	long long ver;
	DIR *d;
	enum kr_err rc = KR_OK;

	if ((rc = tree_path(t, KD_TRUST_HISTORY, path, err)) != KR_OK)
		return rc;
	if ((d = opendir(path)) == NULL)
		return kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if ((ver = version_name(de->d_name)) == 0)
			continue;
		if ((nv = realloc(v, (n + 1) * sizeof(*nv))) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			break;
		}
		v = nv;
		if ((rc = hentry_load(t, ver, &v[n], err)) != KR_OK)
			break;
		n++;
	}
	closedir(d);
	if (rc != KR_OK)
		goto out;
	qsort(v, n, sizeof(*v), hentry_cmp);
	if ((o = json_object()) == NULL || (arr = json_array()) == NULL ||
	    json_object_set_new(o, "latest", json_integer(latest)) != 0 ||
	    json_object_set_new(o, "versions", arr) != 0) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		ca_time_rfc3339(v[i].issued_at, t1);
		ca_time_rfc3339(v[i].expires, t2);
		snprintf(url, sizeof(url), "/trust/%s/%lld/", KD_TRUST_HISTORY,
		    v[i].version);
		e = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "version",
		    (json_int_t)v[i].version, "manifest_sha256",
		    v[i].manifest, "bundle_sha256", v[i].bundle, "issued_at",
		    t1, "expires", t2, "path", url);
		if (e == NULL || json_array_append_new(arr, e) != 0) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = tree_path(t, KD_TRUST_HISTORY "/" KD_TRUST_INDEX, path,
	    err)) != KR_OK)
		goto out;
	{
		size_t len = strlen(text);
		char *nl = realloc(text, len + 2);

		if (nl == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		text = nl;
		text[len] = '\n';
		text[len + 1] = '\0';
		rc = kr_file_write(path, text, len + 1, 0644, 1, err);
	}
out:
	free(text);
	json_decref(o);
	free(v);
	return rc;
}

/* ------------------------------------------------------------------ */
/* keyrited trust publish                                              */
/* ------------------------------------------------------------------ */

struct trust_args {
	const char	*home;
};

static int
trust_opt(void *ctx, const char *name, const char *arg)
{
	struct trust_args *a = ctx;

	if (strcmp(name, "home") == 0)
		a->home = arg;
	return 0;
}

static const struct cli_opt publish_opts[] = {
	{ "home", 1, 0, "DIR", "the signer's state directory" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd publish_cmd = {
	"trust publish", "Publish a signed root-rotation bundle (a directory "
	"or a .tar from 'keyrite\nbundle pack') at /trust/ on the "
	"publication listener.  It must verify: signed\nby the home's root "
	"or by an anchor of the bundle published last, exactly\nthat "
	"bundle's version + 1 and naming its manifest (any version when "
	"none is\npublished yet), and not expired.  It is then added as "
	"history/N/ and becomes\nthe newest; a running daemon serves it at "
	"once.  Anything else is refused\nand nothing changes.  See "
	"docs/signer.md.",
	"--home DIR (BUNDLE.tar | BUNDLEDIR)",
	"  keyrite bundle pack bundle-2 --out bundle-2.tar\n"
	"  keyrited trust publish --home /var/lib/keyrited bundle-2.tar\n"
	"  curl -O http://ca.lab.internal:8080/trust/bundle.tar",
	publish_opts,
};

/*
 * history/N/ with the three files, in one rename.  If it is there
 * already (a publish that stopped before the end), it must hold this
 * very manifest, and is kept.
 */
static enum kr_err
history_write(const struct tree *t, long long version,
    const struct ca_files *set, const struct ca_file *mf, int *resumed,
    struct kr_error *err)
{
	char rel[64], path[PATH_MAX];
	uint8_t *old = NULL;
	size_t olen;
	enum kr_err rc;

	*resumed = 0;
	snprintf(rel, sizeof(rel), "%s/%lld", KD_TRUST_HISTORY, version);
	if ((rc = tree_path(t, rel, path, err)) != KR_OK)
		return rc;
	if (access(path, F_OK) != 0)
		return ca_files_write_dir(path, set, err);
	snprintf(rel, sizeof(rel), "%s/%lld/%s", KD_TRUST_HISTORY, version,
	    CA_BUNDLE_MANIFEST);
	rc = tree_read(t, rel, CA_BUNDLE_MANIFEST_MAX, &old, &olen, err);
	if (rc == KR_OK && (olen != mf->len || memcmp(old, mf->data,
	    olen) != 0))
		rc = kr_fail(err, KR_E_STATE, "%s: exists with another "
		    "manifest (left by an interrupted publish?); move it "
		    "away and publish again", path);
	else if (rc != KR_OK)
		kr_error_prefix(err, "%s exists but cannot be read", path);
	else
		*resumed = 1;
	free(old);
	return rc;
}

/* Say why a bundle was refused, in terms of what is published. */
static void
verify_explain(struct kr_error *err, enum kr_err rc, const char *bpath,
    const char *home, const struct published *pub,
    const struct ca_manifest *m, const struct ca_bundle_sigs *sigs)
{
	char more[512];
	size_t i, o;
	uint8_t h[32];
	int follows;

	if (rc == KR_E_VERIFY && sigs->ntrusted == 0) {
		o = (size_t)snprintf(more, sizeof(more), " (trusted here: "
		    "%s/%s", home, KD_ROOT);
		if (pub->manifest != NULL && o < sizeof(more))
			o += (size_t)snprintf(more + o, sizeof(more) - o,
			    " and the anchors of the published version %lld",
			    pub->m.version);
		for (i = 0; i < sigs->n && o < sizeof(more); i++)
			o += (size_t)snprintf(more + o, sizeof(more) - o,
			    "; %s: %s%s", sigs->v[i].who, sigs->v[i].valid ?
			    "a key not trusted here" : "NOT VALID: ",
			    sigs->v[i].valid ? "" : sigs->v[i].why);
		if (o < sizeof(more))
			snprintf(more + o, sizeof(more) - o, ")");
		o = strlen(err->msg);
		snprintf(err->msg + o, sizeof(err->msg) - o, "%s", more);
		kr_error_prefix(err, "%s", bpath);
		return;
	}
	follows = 1;
	if (pub->manifest != NULL && m->version != 0) {
		crypto_hash_sha256(h, pub->manifest, pub->mlen);
		follows = m->version == pub->m.version + 1 &&
		    m->has_previous && memcmp(m->previous, h, 32) == 0;
	}
	if (!follows)
		kr_error_prefix(err, "%s: does not follow the published "
		    "version %lld", bpath, pub->m.version);
	else
		kr_error_prefix(err, "%s", bpath);
}

static int
trust_publish_main(int argc, char **argv)
{
	struct trust_args a = { 0 };
	struct kr_error err = { 0 };
	struct kd_config cfg;
	struct tree t;
	struct published pub;
	struct ca_files files = { 0 }, set = { 0 };
	struct ca_bundle_policy pol;
	struct ca_bundle_sigs sigs;
	struct ca_manifest m = { 0 };
	const struct ca_file *mf, *sf;
	const char *bpath;
	char path[PATH_MAX], hex[65], t1[32];
	X509 **trust = NULL;
	uint8_t *tar = NULL;
	size_t ntrust = 0, tlen, i;
	time_t now = kr_now();
	int idx, lock_fd = -1, resumed, status = 1, have_cfg = 0, first;
	enum kr_err rc;

	memset(&pub, 0, sizeof(pub));
	memset(&sigs, 0, sizeof(sigs));
	if ((idx = cli_parse(&publish_cmd, argc, argv, trust_opt, &a)) < 0)
		return EXIT_USAGE;
	if (a.home == NULL)
		return cli_usage(&publish_cmd, "--home is required");
	if (idx == argc)
		return cli_usage(&publish_cmd, "name the bundle (a .tar or a "
		    "directory)");
	if (idx + 1 != argc)
		return cli_usage(&publish_cmd, "unexpected argument '%s'",
		    argv[idx + 1]);
	bpath = argv[idx];

	if (kd_config_load(a.home, &cfg, &err) != KR_OK)
		goto fail;
	have_cfg = 1;
	/* The lock is in the home: a refusal leaves publish/ untouched. */
	if (tree_init(&t, a.home, &err) != KR_OK ||
	    kd_path(a.home, ".trust.lock", path, &err) != KR_OK)
		goto fail;
	if ((lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(lock_fd, LOCK_EX) != 0) {
		kr_fail(&err, KR_E_IO, "%s: %s", path, strerror(errno));
		goto fail;
	}

	/* Everything is checked before anything is written. */
	if (published_load(&t, &pub, &err) != KR_OK ||
	    trust_keys(a.home, &pub, now, &trust, &ntrust, &err) != KR_OK ||
	    ca_bundle_load_path(bpath, &files, &err) != KR_OK)
		goto fail;
	if ((mf = ca_files_get(&files, CA_BUNDLE_MANIFEST)) == NULL) {
		kr_fail(&err, KR_E_PARSE, "%s: no %s: not a bundle", bpath,
		    CA_BUNDLE_MANIFEST);
		goto fail;
	}
	if (pub.manifest != NULL && mf->len == pub.mlen &&
	    memcmp(mf->data, pub.manifest, pub.mlen) == 0) {
		kr_fail(&err, KR_E_STATE, "%s: version %lld is published "
		    "already; nothing to do", bpath, pub.m.version);
		goto fail;
	}
	pol = (struct ca_bundle_policy){ trust, ntrust, 1, pub.manifest,
	    pub.mlen, now };
	if ((rc = ca_bundle_verify(&files, &pol, &m, &sigs, &err)) !=
	    KR_OK) {
		verify_explain(&err, rc, bpath, a.home, &pub, &m, &sigs);
		goto fail;
	}
	if (m.version > KD_TRUST_VERSION_MAX) {
		kr_fail(&err, KR_E_PARSE, "%s: version %lld is too large",
		    bpath, m.version);
		goto fail;
	}

	/* The canonical archive: the same bytes keyrite bundle pack makes. */
	sf = ca_files_get(&files, CA_BUNDLE_SIG);
	if (sf == NULL || ca_tar_write(&files, &tar, &tlen, &err) != KR_OK ||
	    ca_files_add(&set, KD_TRUST_BUNDLE, tar, tlen, &err) != KR_OK ||
	    ca_files_add(&set, CA_BUNDLE_MANIFEST, mf->data, mf->len,
	    &err) != KR_OK ||
	    ca_files_add(&set, CA_BUNDLE_SIG, sf->data, sf->len, &err) !=
	    KR_OK) {
		if (sf == NULL)
			kr_fail(&err, KR_E_INTERNAL, "no signature file");
		goto fail;
	}
	if (kr_mkdirs(t.dir, 0755, &err) != KR_OK ||
	    tree_path(&t, KD_TRUST_HISTORY, path, &err) != KR_OK ||
	    kr_mkdirs(path, 0755, &err) != KR_OK ||
	    history_write(&t, m.version, &set, mf, &resumed, &err) != KR_OK ||
	    index_write(&t, m.version, &err) != KR_OK)
		goto fail;
	/* The newest, manifest.json last: when it says N, the rest is N. */
	if (tree_path(&t, CA_BUNDLE_SIG, path, &err) != KR_OK ||
	    kr_file_write(path, sf->data, sf->len, 0644, 1, &err) != KR_OK ||
	    tree_path(&t, KD_TRUST_BUNDLE, path, &err) != KR_OK ||
	    kr_file_write(path, tar, tlen, 0644, 1, &err) != KR_OK ||
	    tree_path(&t, CA_BUNDLE_MANIFEST, path, &err) != KR_OK ||
	    kr_file_write(path, mf->data, mf->len, 0644, 1, &err) != KR_OK)
		goto fail;

	sha256_hex(mf->data, mf->len, hex);
	ca_time_rfc3339(m.expires, t1);
	printf("published %s as version %lld%s\n  manifest SHA-256 %s\n"
	    "  expires  %s\n  signed by", bpath, m.version, resumed ?
	    " (history/ had it already)" : "", hex, t1);
	for (i = 0, first = 1; i < sigs.n; i++)
		if (sigs.v[i].counted) {
			printf("%s %s", first ? "" : ";", sigs.v[i].who);
			first = 0;
		}
	printf("\n  %s/{%s,%s,%s}\n  %s/%s/%lld/\n", t.dir, KD_TRUST_BUNDLE,
	    CA_BUNDLE_MANIFEST, CA_BUNDLE_SIG, t.dir, KD_TRUST_HISTORY,
	    m.version);
	printf("served at %s/trust/bundle.tar and %s/trust/history/%lld/\n",
	    cfg.public_url, cfg.public_url, m.version);
	status = 0;
	goto out;
fail:
	status = cli_report(publish_cmd.name, &err);
out:
	if (lock_fd >= 0)
		close(lock_fd);
	free(tar);
	ca_files_free(&set);
	ca_files_free(&files);
	ca_manifest_free(&m);
	if (trust != NULL)
		ca_bundle_free_certs(trust, ntrust);
	published_free(&pub);
	if (have_cfg)
		kd_config_free(&cfg);
	return status;
}

int
kd_cmd_trust(int argc, char **argv)
{
	static const struct cli_sub sub[] = {
		{ "publish", trust_publish_main, &publish_cmd },
	};

	return cli_dispatch("trust", sub, sizeof(sub) / sizeof(sub[0]), argc,
	    argv);
}

/* ------------------------------------------------------------------ */
/* Serving /trust/                                                     */
/* ------------------------------------------------------------------ */

/* Does the If-None-Match list name etag (or "*")? */
static int
etag_match(const char *inm, const char *etag)
{
	const char *p = inm;
	size_t n = strlen(etag), len;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		len = strcspn(p, ", \t");
		if ((len == 1 && *p == '*') || (len == n &&
		    memcmp(p, etag, n) == 0))
			return 1;
		p += len;
	}
	return 0;
}

/* The file at path, whole, with its mtime; -1 when absent or bad. */
static int
read_file_at(const char *path, size_t max, uint8_t **buf, size_t *len,
    time_t *mtime)
{
	struct stat st;
	size_t got = 0;
	ssize_t r;
	int fd;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uintmax_t)st.st_size > max ||
	    (*buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, *buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	*len = got;
	*mtime = st.st_mtime;
	return 0;
}

int
kd_trust_serve(struct MHD_Connection *c, const char *home, const char *url,
    enum MHD_Result *ret, char *why, size_t whysz)
{
	static const char *const ctypes[] = {
		[KD_TRUST_W_BUNDLE] = "application/x-tar",
		[KD_TRUST_W_MANIFEST] = "application/json",
		[KD_TRUST_W_SIG] = "application/pkcs7-signature",
		[KD_TRUST_W_INDEX] = "application/json",
	};
	struct kd_trust_path p;
	struct MHD_Response *r;
	struct kr_error e;
	struct tree t;
	struct tm tm;
	char rel[96], path[PATH_MAX], hex[65], etag[68], lm[64];
	const char *inm;
	uint8_t *buf = NULL;
	size_t len = 0;
	time_t mtime;
	int notmod;

	if (kd_trust_path_parse(url, &p) != 0) {
		snprintf(why, whysz, "no such path; the trust paths are "
		    "/trust/bundle.tar, /trust/manifest.json, "
		    "/trust/manifest.json.sig, /trust/history/ and "
		    "/trust/history/N/ with the same three files");
		return -1;
	}
	if (tree_init(&t, home, &e) != KR_OK ||
	    kd_trust_path_file(&p, rel, sizeof(rel)) != 0 ||
	    tree_path(&t, rel, path, &e) != KR_OK ||
	    read_file_at(path, p.what == KD_TRUST_W_INDEX ? TRUST_INDEX_MAX :
	    TRUST_TAR_MAX, &buf, &len, &mtime) != 0) {
		if (p.version > 0)
			snprintf(why, whysz, "version %lld is not published",
			    p.version);
		else
			snprintf(why, whysz, "no trust bundle is published "
			    "yet");
		return -1;
	}
	sha256_hex(buf, len, hex);
	snprintf(etag, sizeof(etag), "\"%s\"", hex);
	gmtime_r(&mtime, &tm);
	strftime(lm, sizeof(lm), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	notmod = inm != NULL && etag_match(inm, etag);
	r = MHD_create_response_from_buffer(notmod ? 0 : len, notmod ? NULL :
	    buf, notmod ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		*ret = MHD_NO;
		return 0;
	}
	if (notmod)
		free(buf);
	MHD_add_response_header(r, "Content-Type", ctypes[p.what]);
	MHD_add_response_header(r, "ETag", etag);
	MHD_add_response_header(r, "Last-Modified", lm);
	/* history/N/ never changes once written; the rest does. */
	MHD_add_response_header(r, "Cache-Control", p.version > 0 ?
	    "public, max-age=31536000, immutable" : "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	*ret = MHD_queue_response(c, notmod ? MHD_HTTP_NOT_MODIFIED :
	    MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return 0;
}

void
kd_trust_metrics(FILE *f, const char *home)
{
	struct ca_manifest m;
	struct kr_error e;
	struct tree t;
	uint8_t *buf = NULL;
	size_t len;
	long long version = 0, expires = 0;
	enum kr_err rc;

	memset(&m, 0, sizeof(m));
	if (tree_init(&t, home, &e) != KR_OK)
		return;
	rc = tree_read(&t, CA_BUNDLE_MANIFEST, CA_BUNDLE_MANIFEST_MAX, &buf,
	    &len, &e);
	if (rc == KR_OK && ca_manifest_parse(buf, len, &m, &e) == KR_OK) {
		version = m.version;
		expires = (long long)m.expires;
	} else if (rc != KR_E_NOTFOUND)
		version = expires = -1;
	free(buf);
	ca_manifest_free(&m);
	fprintf(f, "# HELP keyrited_trust_bundle_version The version of the "
	    "trust bundle at /trust/bundle.tar (0: none published, -1: "
	    "unreadable).\n# TYPE keyrited_trust_bundle_version gauge\n"
	    "keyrited_trust_bundle_version %lld\n", version);
	fprintf(f, "# HELP keyrited_trust_bundle_expires_timestamp_seconds "
	    "When that bundle expires, in Unix time (0: none published).\n"
	    "# TYPE keyrited_trust_bundle_expires_timestamp_seconds gauge\n"
	    "keyrited_trust_bundle_expires_timestamp_seconds %lld\n",
	    expires);
}
