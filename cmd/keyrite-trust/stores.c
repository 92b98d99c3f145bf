/*
 * stores.c: the trust stores keyrite-trust writes.  Every entry it makes
 * is named keyrite-<first 16 hex of the anchor's SHA-256> and is found,
 * replaced and removed by that name after its content is compared, so
 * every step can run twice.  Whether a store trusts an anchor is decided
 * by building a chain against what the store serves to applications,
 * not by finding a file.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "ca/ca.h"
#include "common/file.h"
#include "kt.h"

#define DEBIAN_DIR	"/usr/local/share/ca-certificates/keyrite"
#define DEBIAN_BUNDLE	"/etc/ssl/certs/ca-certificates.crt"
#define RHEL_DIR	"/etc/pki/ca-trust/source/anchors"
#define RHEL_BUNDLE	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
#define STORE_FILE_MAX	(16 * 1024 * 1024)

void
kt_entry_name(const uint8_t sha256[32], char out[32])
{
	char hex[65];

	kr_hex(sha256, 32, hex);
	snprintf(out, 32, "keyrite-%.16s", hex);
}

enum kr_err
kt_path(const struct kt_ctx *c, const char *logical, char *out, size_t sz,
    struct kr_error *err)
{
	if ((size_t)snprintf(out, sz, "%s%s", c->root, logical) >= sz)
		return kr_fail(err, KR_E_USAGE, "%s%s: path too long", c->root,
		    logical);
	return KR_OK;
}

/* Every certificate in buf (PEM); NULL-safe on none. */
static enum kr_err
pem_all(const char *buf, size_t len, X509 ***out, size_t *n,
    struct kr_error *err)
{
	BIO *b;
	X509 *x, **v;

	*out = NULL;
	*n = 0;
	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if ((v = realloc(*out, (*n + 1) * sizeof(*v))) == NULL) {
			X509_free(x);
			BIO_free(b);
			return kr_fail(err, KR_E_NOMEM, "out of memory");
		}
		*out = v;
		v[(*n)++] = x;
	}
	ERR_clear_error();
	BIO_free(b);
	return KR_OK;
}

static void
free_certs(X509 **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		X509_free(v[i]);
	free(v);
}

static enum kr_err
pem_of(X509 *x, char **out, size_t *len, struct kr_error *err)
{
	BIO *b;
	char *data;
	long n;

	*out = NULL;
	if ((b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(b, x) !=
	    1 || (n = BIO_get_mem_data(b, &data)) <= 0 ||
	    (*out = malloc((size_t)n + 1)) == NULL) {
		BIO_free(b);
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	}
	memcpy(*out, data, (size_t)n);
	(*out)[n] = '\0';
	*len = (size_t)n;
	BIO_free(b);
	return KR_OK;
}

/* x as PEM in a new temporary file; path receives its name. */
static enum kr_err
temp_pem(X509 *x, char path[PATH_MAX], struct kr_error *err)
{
	const char *tmp = getenv("TMPDIR");
	char *pem;
	size_t len;
	int fd;
	enum kr_err rc;

	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	snprintf(path, PATH_MAX, "%s/keyrite-trust.XXXXXX", tmp);
	if ((rc = pem_of(x, &pem, &len, err)) != KR_OK)
		return rc;
	if ((fd = mkstemp(path)) == -1) {
		free(pem);
		return kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
	}
	if (write(fd, pem, len) != (ssize_t)len) {
		rc = kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
		unlink(path);
	}
	close(fd);
	free(pem);
	return rc;
}

static enum kr_err
add_entry(struct kt_store *s, const char *name, X509 *x,
    struct kr_error *err)
{
	struct kt_entry *v;

	if ((v = realloc(s->entries, (s->nentries + 1) * sizeof(*v))) ==
	    NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	s->entries = v;
	memset(&v[s->nentries], 0, sizeof(*v));
	snprintf(v[s->nentries].name, sizeof(v->name), "%s", name);
	ca_cert_sha256(x, v[s->nentries].sha256);
	X509_up_ref(x);
	v[s->nentries].cert = x;
	s->nentries++;
	return KR_OK;
}

static void
clear_entries(struct kt_store *s)
{
	size_t i;

	for (i = 0; i < s->nentries; i++)
		X509_free(s->entries[i].cert);
	free(s->entries);
	s->entries = NULL;
	s->nentries = 0;
}

static const char *
type_name(enum kt_type t)
{
	switch (t) {
	case KT_DEBIAN:
		return "debian";
	case KT_RHEL:
		return "rhel";
	case KT_PEM:
		return "pem";
	case KT_NSS:
		return "nss";
	case KT_JAVA:
		return "java";
	}
	return "?";
}

enum kr_err
kt_store_init(const struct kt_ctx *c, struct kt_store *s, const char *id,
    struct kr_error *err)
{
	const char *p = NULL;

	memset(s, 0, sizeof(*s));
	if (strcmp(id, "debian") == 0) {
		s->type = KT_DEBIAN;
		p = DEBIAN_DIR;
	} else if (strcmp(id, "rhel") == 0) {
		s->type = KT_RHEL;
		p = RHEL_DIR;
	} else if (strncmp(id, "pem:", 4) == 0) {
		s->type = KT_PEM;
		p = id + 4;
	} else if (strncmp(id, "nss:", 4) == 0) {
		s->type = KT_NSS;
		p = id + 4;
	} else if (strncmp(id, "java:", 5) == 0) {
		s->type = KT_JAVA;
		p = id + 5;
	} else
		return kr_fail(err, KR_E_USAGE, "'%s' is not a store", id);
	if (p[0] != '/')
		return kr_fail(err, KR_E_USAGE, "%s: the path must be absolute",
		    id);
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->path, sizeof(s->path), "%s", p);
	return kt_path(c, p, s->real, sizeof(s->real), err);
}

void
kt_store_free(struct kt_store *s)
{
	clear_entries(s);
	free_certs(s->pem, s->npem);
	s->pem = NULL;
	s->npem = 0;
}

const struct kt_entry *
kt_store_has(const struct kt_store *s, const uint8_t sha256[32])
{
	size_t i;

	for (i = 0; i < s->nentries; i++)
		if (memcmp(s->entries[i].sha256, sha256, 32) == 0)
			return &s->entries[i];
	return NULL;
}

static const struct kt_entry *
by_name(const struct kt_store *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nentries; i++)
		if (strcmp(s->entries[i].name, name) == 0)
			return &s->entries[i];
	return NULL;
}

/* ---- a directory of keyrite-*.crt / *.pem (Debian, RHEL) ---------- */

static enum kr_err
dir_list(struct kt_store *s, const char *suffix, struct kr_error *err)
{
	struct dirent *d;
	DIR *dir;
	char path[PATH_MAX + 300], name[32];
	uint8_t *buf;
	size_t len, n, sl = strlen(suffix), k;
	X509 **v;
	enum kr_err rc = KR_OK;

	if ((dir = opendir(s->real)) == NULL) {
		if (errno == ENOENT)
			return KR_OK;
		return kr_fail(err, KR_E_IO, "%s: %s", s->real,
		    strerror(errno));
	}
	while (rc == KR_OK && (d = readdir(dir)) != NULL) {
		n = strlen(d->d_name);
		if (strncmp(d->d_name, "keyrite-", 8) != 0 || n <= sl ||
		    n - sl >= sizeof(name) || strcmp(d->d_name + n - sl,
		    suffix) != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(n - sl), d->d_name);
		snprintf(path, sizeof(path), "%s/%s", s->real, d->d_name);
		if ((rc = kr_file_read(path, STORE_FILE_MAX, &buf, &len,
		    err)) != KR_OK)
			break;
		rc = pem_all((char *)buf, len, &v, &k, err);
		free(buf);
		if (rc == KR_OK && k > 0)
			rc = add_entry(s, name, v[0], err);
		free_certs(v, k);
	}
	closedir(dir);
	return rc;
}

/* ---- NSS ----------------------------------------------------------- */

static int
nss_exists(const struct kt_store *s)
{
	char p[PATH_MAX + 16];

	snprintf(p, sizeof(p), "%s/cert9.db", s->real);
	return access(p, F_OK) == 0;
}

static enum kr_err
nss_list(struct kt_store *s, struct kr_error *err)
{
	char db[8 + PATH_MAX], why[256], *out = NULL, *line, *save, *pem;
	char nick[32];
	size_t len, k;
	X509 **v;
	enum kr_err rc = KR_OK;
	int st;

	if (!nss_exists(s))
		return KR_OK;
	snprintf(db, sizeof(db), "sql:%s", s->real);
	{
		const char *argv[] = { "certutil", "-L", "-d", db, NULL };

		if ((st = kt_run(argv, &out, &len, why, sizeof(why), err)) <
		    0)
			return rc = err->code;
		if (st != 0) {
			free(out);
			return kr_fail(err, KR_E_IO, "nss store %s: certutil "
			    "-L failed (exit %d): %s", s->real, st, why);
		}
	}
	for (line = strtok_r(out, "\n", &save); rc == KR_OK && line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		size_t n = strcspn(line, " \t");

		if (strncmp(line, "keyrite-", 8) != 0 || n >= sizeof(nick))
			continue;
		snprintf(nick, sizeof(nick), "%.*s", (int)n, line);
		{
			const char *argv[] = { "certutil", "-L", "-d", db, "-n",
			    nick, "-a", NULL };

			pem = NULL;
			if ((st = kt_run(argv, &pem, &len, why, sizeof(why),
			    err)) < 0) {
				rc = err->code;
				break;
			}
			if (st != 0) {
				free(pem);
				continue;
			}
		}
		rc = pem_all(pem, len, &v, &k, err);
		free(pem);
		if (rc == KR_OK && k > 0)
			rc = add_entry(s, nick, v[0], err);
		free_certs(v, k);
	}
	free(out);
	return rc;
}

static enum kr_err
nss_cmd(struct kt_store *s, const char *const argv[], const char *what,
    struct kr_error *err)
{
	char why[256];
	int st;

	if ((st = kt_run(argv, NULL, NULL, why, sizeof(why), err)) < 0) {
		kr_error_prefix(err, "nss store %s: %s", s->real, what);
		return err->code;
	}
	if (st != 0)
		return kr_fail(err, KR_E_IO, "nss store %s: %s failed (exit "
		    "%d): %s", s->real, what, st, why);
	return KR_OK;
}

/* ---- Java ---------------------------------------------------------- */

static void
java_argv(const struct kt_ctx *c, struct kt_store *s, const char **v,
    size_t *n)
{
	v[(*n)++] = "-keystore";
	v[(*n)++] = s->real;
	if (c->storepass_file != NULL) {
		v[(*n)++] = "-storepass:file";
		v[(*n)++] = c->storepass_file;
	} else {
		v[(*n)++] = "-storepass";
		v[(*n)++] = "changeit";	/* Java's default; public */
	}
	v[*n] = NULL;
}

static enum kr_err
java_run(const struct kt_ctx *c, struct kt_store *s, const char **pre,
    char **out, size_t *len, const char *what, struct kr_error *err)
{
	const char *v[24];
	char why[256];
	size_t n = 0;
	int st;

	v[n++] = "keytool";
	v[n++] = "-J-Duser.language=en";
	v[n++] = "-J-Duser.country=US";
	while (*pre != NULL && n < 16)
		v[n++] = *pre++;
	java_argv(c, s, v, &n);
	if ((st = kt_run(v, out, len, why, sizeof(why),
	    err)) < 0) {
		kr_error_prefix(err, "java store %s: keytool %s", s->real,
		    what);
		return err->code;
	}
	if (st != 0) {
		if (out != NULL) {
			/* keytool says why on stdout. */
			if (*out != NULL && why[0] == '\0')
				snprintf(why, sizeof(why), "%.200s", *out);
			free(*out);
			*out = NULL;
		}
		return kr_fail(err, KR_E_IO, "java store %s: keytool %s failed "
		    "(exit %d): %s", s->real, what, st, why);
	}
	return KR_OK;
}

static enum kr_err
java_list(const struct kt_ctx *c, struct kt_store *s, struct kr_error *err)
{
	static const char *pre[] = { "-list", "-rfc", NULL };
	char *out = NULL, *p, *alias_end, alias[128], *begin, *end;
	size_t len, k;
	X509 **v, **nv;
	enum kr_err rc;

	if (access(s->real, F_OK) != 0)
		return KR_OK;
	if ((rc = java_run(c, s, pre, &out, &len, "-list", err)) != KR_OK)
		return rc;
	/* "Alias name: A" ... "Entry type: trustedCertEntry" ... PEM */
	for (p = out; rc == KR_OK && (p = strstr(p, "Alias name: ")) != NULL;
	    p = end) {
		p += 12;
		alias_end = p + strcspn(p, "\n");
		snprintf(alias, sizeof(alias), "%.*s", (int)(alias_end - p), p);
		end = strstr(alias_end, "Alias name: ");
		if (end == NULL)
			end = out + len;
		begin = strstr(alias_end, "Entry type: trustedCertEntry");
		if (begin == NULL || begin > end)
			continue;
		rc = pem_all(begin, (size_t)(end - begin), &v, &k, err);
		if (rc != KR_OK || k == 0) {
			free_certs(v, k);
			continue;
		}
		if (strncmp(alias, "keyrite-", 8) == 0 && strlen(alias) < 32)
			rc = add_entry(s, alias, v[0], err);
		if (rc == KR_OK && (nv = realloc(s->pem, (s->npem + 1) *
		    sizeof(*nv))) != NULL) {
			s->pem = nv;
			X509_up_ref(v[0]);
			s->pem[s->npem++] = v[0];
		}
		free_certs(v, k);
	}
	free(out);
	return rc;
}

/* ---- the PEM file -------------------------------------------------- */

static enum kr_err
pem_list(struct kt_store *s, struct kr_error *err)
{
	uint8_t *buf;
	size_t len, i;
	char name[32];
	uint8_t h[32];
	enum kr_err rc;

	if (access(s->real, F_OK) != 0)
		return KR_OK;
	if ((rc = kr_file_read(s->real, STORE_FILE_MAX, &buf, &len, err)) !=
	    KR_OK)
		return rc;
	rc = pem_all((char *)buf, len, &s->pem, &s->npem, err);
	free(buf);
	for (i = 0; rc == KR_OK && i < s->npem; i++) {
		ca_cert_sha256(s->pem[i], h);
		kt_entry_name(h, name);
		rc = add_entry(s, name, s->pem[i], err);
	}
	return rc;
}

static enum kr_err
pem_write(struct kt_store *s, struct kr_error *err)
{
	BIO *b;
	char dir[PATH_MAX], *slash, name[32], *data;
	uint8_t h[32];
	size_t i;
	long n;
	enum kr_err rc;

	snprintf(dir, sizeof(dir), "%s", s->real);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if ((rc = kr_mkdirs(dir, 0755, err)) != KR_OK)
			return rc;
	}
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	BIO_printf(b, "# Trust anchors written by keyrite-trust; do not edit "
	    "(keyrite-trust apply\n# and remove-retired rewrite this file).\n");
	for (i = 0; i < s->npem; i++) {
		char subj[512];

		ca_cert_sha256(s->pem[i], h);
		kt_entry_name(h, name);
		X509_NAME_oneline(X509_get_subject_name(s->pem[i]), subj,
		    sizeof(subj));
		BIO_printf(b, "# %s %s\n", name, subj);
		PEM_write_bio_X509(b, s->pem[i]);
	}
	n = BIO_get_mem_data(b, &data);
	rc = kr_file_write(s->real, data, (size_t)n, 0644, 1, err);
	BIO_free(b);
	if (rc != KR_OK)
		kr_error_prefix(err, "pem store");
	return rc;
}

/* ---- the operations ------------------------------------------------ */

enum kr_err
kt_store_list(const struct kt_ctx *c, struct kt_store *s,
    struct kr_error *err)
{
	clear_entries(s);
	free_certs(s->pem, s->npem);
	s->pem = NULL;
	s->npem = 0;
	switch (s->type) {
	case KT_DEBIAN:
		return dir_list(s, ".crt", err);
	case KT_RHEL:
		return dir_list(s, ".pem", err);
	case KT_PEM:
		return pem_list(s, err);
	case KT_NSS:
		return nss_list(s, err);
	case KT_JAVA:
		return java_list(c, s, err);
	}
	return kr_fail(err, KR_E_INTERNAL, "unknown store");
}

enum kr_err
kt_store_add(const struct kt_ctx *c, struct kt_store *s, X509 *x,
    struct kr_error *err)
{
	char name[32], path[PATH_MAX + 48], db[8 + PATH_MAX], tmp[PATH_MAX];
	char *pem;
	const struct kt_entry *old;
	uint8_t h[32];
	size_t len;
	X509 **nv;
	enum kr_err rc;

	ca_cert_sha256(x, h);
	kt_entry_name(h, name);
	if (kt_store_has(s, h) != NULL)
		return KR_OK;
	old = by_name(s, name);
	switch (s->type) {
	case KT_DEBIAN:
	case KT_RHEL:
		if ((rc = kr_mkdirs(s->real, 0755, err)) != KR_OK)
			return rc;
		snprintf(path, sizeof(path), "%s/%s%s", s->real, name,
		    s->type == KT_DEBIAN ? ".crt" : ".pem");
		if ((rc = pem_of(x, &pem, &len, err)) != KR_OK)
			return rc;
		rc = kr_file_write(path, pem, len, 0644, 1, err);
		free(pem);
		if (rc != KR_OK)
			return rc;
		break;
	case KT_PEM:
		if ((nv = realloc(s->pem, (s->npem + 1) * sizeof(*nv))) ==
		    NULL)
			return kr_fail(err, KR_E_NOMEM, "out of memory");
		s->pem = nv;
		X509_up_ref(x);
		s->pem[s->npem++] = x;
		break;
	case KT_NSS:
		snprintf(db, sizeof(db), "sql:%s", s->real);
		if (!nss_exists(s)) {
			const char *argv[] = { "certutil", "-N", "-d", db,
			    "--empty-password", NULL };

			if ((rc = kr_mkdirs(s->real, 0700, err)) != KR_OK ||
			    (rc = nss_cmd(s, argv, "certutil -N", err)) !=
			    KR_OK)
				return rc;
		}
		if (old != NULL) {
			const char *argv[] = { "certutil", "-D", "-d", db, "-n",
			    name, NULL };

			if ((rc = nss_cmd(s, argv, "certutil -D", err)) !=
			    KR_OK)
				return rc;
		}
		if ((rc = temp_pem(x, tmp, err)) != KR_OK)
			return rc;
		{
			const char *argv[] = { "certutil", "-A", "-d", db, "-n",
			    name, "-t", "C,,", "-a", "-i", tmp, NULL };

			rc = nss_cmd(s, argv, "certutil -A", err);
		}
		unlink(tmp);
		if (rc != KR_OK)
			return rc;
		break;
	case KT_JAVA:
		snprintf(path, sizeof(path), "%s", s->real);
		if (strrchr(path, '/') != NULL && strrchr(path, '/') != path) {
			*strrchr(path, '/') = '\0';
			if ((rc = kr_mkdirs(path, 0755, err)) != KR_OK)
				return rc;
		}
		if (old != NULL) {
			const char *pre[] = { "-delete", "-alias", name, NULL };

			if ((rc = java_run(c, s, pre, NULL, NULL, "-delete",
			    err)) != KR_OK)
				return rc;
		}
		if ((rc = temp_pem(x, tmp, err)) != KR_OK)
			return rc;
		{
			const char *pre[] = { "-importcert", "-noprompt",
			    "-trustcacerts", "-alias", name, "-file", tmp,
			    NULL };

			rc = java_run(c, s, pre, NULL, NULL, "-importcert",
			    err);
		}
		unlink(tmp);
		if (rc != KR_OK)
			return rc;
		break;
	}
	s->dirty = 1;
	/* The new entry replaces one of the same name. */
	if (old != NULL) {
		size_t i = (size_t)(old - s->entries);

		X509_free(s->entries[i].cert);
		memmove(&s->entries[i], &s->entries[i + 1],
		    (s->nentries - i - 1) * sizeof(s->entries[0]));
		s->nentries--;
	}
	return add_entry(s, name, x, err);
}

enum kr_err
kt_store_remove(const struct kt_ctx *c, struct kt_store *s,
    const struct kt_entry *e, struct kr_error *err)
{
	char path[PATH_MAX + 48], db[8 + PATH_MAX], name[32];
	uint8_t h[32];
	size_t i, j;
	enum kr_err rc = KR_OK;

	snprintf(name, sizeof(name), "%s", e->name);
	memcpy(h, e->sha256, 32);
	switch (s->type) {
	case KT_DEBIAN:
	case KT_RHEL:
		snprintf(path, sizeof(path), "%s/%s%s", s->real, name,
		    s->type == KT_DEBIAN ? ".crt" : ".pem");
		if (unlink(path) == -1 && errno != ENOENT)
			return kr_fail(err, KR_E_IO, "%s store: %s: %s",
			    type_name(s->type), path, strerror(errno));
		break;
	case KT_PEM:
		for (i = j = 0; i < s->npem; i++) {
			uint8_t x[32];

			ca_cert_sha256(s->pem[i], x);
			if (memcmp(x, h, 32) == 0)
				X509_free(s->pem[i]);
			else
				s->pem[j++] = s->pem[i];
		}
		s->npem = j;
		break;
	case KT_NSS: {
		const char *argv[] = { "certutil", "-D", "-d", db, "-n", name,
		    NULL };

		snprintf(db, sizeof(db), "sql:%s", s->real);
		rc = nss_cmd(s, argv, "certutil -D", err);
		break;
	}
	case KT_JAVA: {
		const char *pre[] = { "-delete", "-alias", name, NULL };

		rc = java_run(c, s, pre, NULL, NULL, "-delete", err);
		break;
	}
	}
	if (rc != KR_OK)
		return rc;
	s->dirty = 1;
	for (i = 0; i < s->nentries; i++)
		if (strcmp(s->entries[i].name, name) == 0) {
			X509_free(s->entries[i].cert);
			memmove(&s->entries[i], &s->entries[i + 1],
			    (s->nentries - i - 1) * sizeof(s->entries[0]));
			s->nentries--;
			break;
		}
	return KR_OK;
}

enum kr_err
kt_store_commit(const struct kt_ctx *c, struct kt_store *s,
    struct kr_error *err)
{
	char conf[PATH_MAX], certs[PATH_MAX], local[PATH_MAX], etc[PATH_MAX];
	char hooks[PATH_MAX], why[256];
	enum kr_err rc;
	int st;

	if (!s->dirty)
		return KR_OK;
	switch (s->type) {
	case KT_DEBIAN: {
		const char *argv[] = { "update-ca-certificates", "--certsconf", conf,
		    "--certsdir", certs, "--localcertsdir", local,
		    "--etccertsdir", etc, "--hooksdir", hooks, NULL };

		if ((rc = kt_path(c, "/etc/ca-certificates.conf", conf,
		    sizeof(conf), err)) != KR_OK ||
		    (rc = kt_path(c, "/usr/share/ca-certificates", certs,
		    sizeof(certs), err)) != KR_OK ||
		    (rc = kt_path(c, "/usr/local/share/ca-certificates", local,
		    sizeof(local), err)) != KR_OK ||
		    (rc = kt_path(c, "/etc/ssl/certs", etc, sizeof(etc),
		    err)) != KR_OK ||
		    (rc = kt_path(c, "/etc/ca-certificates/update.d", hooks,
		    sizeof(hooks), err)) != KR_OK ||
		    (rc = kr_mkdirs(etc, 0755, err)) != KR_OK)
			return rc;
		/* Missing, the script warns; empty, it trusts what is local. */
		if (access(conf, F_OK) != 0 && (rc = kr_file_write(conf, "", 0,
		    0644, 0, err)) != KR_OK)
			return rc;
		if ((st = kt_run(argv, NULL, NULL, why, sizeof(why), err)) <
		    0) {
			kr_error_prefix(err, "debian store: "
			    "update-ca-certificates");
			return err->code;
		}
		if (st != 0)
			return kr_fail(err, KR_E_IO, "debian store: "
			    "update-ca-certificates failed (exit %d): %s", st,
			    why);
		break;
	}
	case KT_RHEL:
		if (c->root[0] == '\0' && kt_have("update-ca-trust")) {
			const char *argv[] = { "update-ca-trust", "extract", NULL };

			if ((st = kt_run(argv, NULL, NULL, why, sizeof(why),
			    err)) < 0)
				return err->code;
			if (st != 0)
				return kr_fail(err, KR_E_IO, "rhel store: "
				    "update-ca-trust extract failed (exit %d): "
				    "%s", st, why);
		}
		break;
	case KT_PEM:
		if ((rc = pem_write(s, err)) != KR_OK)
			return rc;
		break;
	case KT_NSS:
	case KT_JAVA:
		break;
	}
	s->dirty = 0;
	return KR_OK;
}

const char *
kt_store_served(const struct kt_store *s, char *buf, size_t sz)
{
	switch (s->type) {
	case KT_DEBIAN:
		snprintf(buf, sz, "%s", DEBIAN_BUNDLE);
		break;
	case KT_RHEL:
		snprintf(buf, sz, "%s", RHEL_BUNDLE);
		break;
	case KT_NSS:
		snprintf(buf, sz, "sql:%s", s->path);
		break;
	default:
		snprintf(buf, sz, "%s", s->path);
		break;
	}
	return buf;
}

/* X509_verify_cert of target against the certificates in v. */
static int
ossl_trusts(X509 **v, size_t n, X509 *target, STACK_OF(X509) *chain,
    int leaf, char *why, size_t whysz)
{
	X509_STORE *st;
	X509_STORE_CTX *ctx = NULL;
	size_t i;
	int ok = 0;

	if ((st = X509_STORE_new()) == NULL) {
		snprintf(why, whysz, "out of memory");
		return 0;
	}
	for (i = 0; i < n; i++)
		X509_STORE_add_cert(st, v[i]);
	ERR_clear_error();
	if ((ctx = X509_STORE_CTX_new()) != NULL &&
	    X509_STORE_CTX_init(ctx, st, target, chain) == 1) {
		X509_STORE_CTX_set_time(ctx, 0, kr_now());
		if (leaf)
			X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
		ok = X509_verify_cert(ctx) == 1;
		if (!ok)
			snprintf(why, whysz, "no chain to a trusted root: %s",
			    X509_verify_cert_error_string(
			    X509_STORE_CTX_get_error(ctx)));
	} else
		snprintf(why, whysz, "out of memory");
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	ERR_clear_error();
	return ok;
}

static int
file_trusts(const char *path, X509 *target, STACK_OF(X509) *chain,
    int leaf, char *why, size_t whysz, struct kr_error *err)
{
	uint8_t *buf;
	size_t len, n;
	X509 **v;
	int ok;

	if (kr_file_read(path, STORE_FILE_MAX, &buf, &len, err) != KR_OK) {
		snprintf(why, whysz, "%s", err->msg);
		return 0;
	}
	if (pem_all((char *)buf, len, &v, &n, err) != KR_OK) {
		free(buf);
		return -1;
	}
	free(buf);
	ok = ossl_trusts(v, n, target, chain, leaf, why, whysz);
	free_certs(v, n);
	return ok;
}

int
kt_store_trusts(const struct kt_ctx *c, struct kt_store *s, X509 *target,
    STACK_OF(X509) *chain, char *why, size_t whysz, struct kr_error *err)
{
	char path[PATH_MAX], db[8 + PATH_MAX], t[PATH_MAX];
	char tmps[8][PATH_MAX], line[1024], *out = NULL;
	const char *argv[32];
	int leaf = chain != NULL || X509_check_ca(target) == 0;
	int ok, st, ntmp = 0, i, n = 0;
	X509 **v;
	size_t k;

	why[0] = '\0';
	switch (s->type) {
	case KT_DEBIAN:
		if (kt_path(c, DEBIAN_BUNDLE, path, sizeof(path), err) !=
		    KR_OK)
			return -1;
		return file_trusts(path, target, chain, leaf, why, whysz, err);
	case KT_RHEL:
		if (kt_path(c, RHEL_BUNDLE, path, sizeof(path), err) != KR_OK)
			return -1;
		if (access(path, F_OK) == 0)
			return file_trusts(path, target, chain, leaf, why,
			    whysz, err);
		/* Not extracted (no update-ca-trust here): the anchors. */
		if ((v = calloc(s->nentries + 1, sizeof(*v))) == NULL)
			return -1;
		for (k = 0; k < s->nentries; k++)
			v[k] = s->entries[k].cert;
		ok = ossl_trusts(v, s->nentries, target, chain, leaf, why,
		    whysz);
		free(v);
		return ok;
	case KT_PEM:
		return file_trusts(s->real, target, chain, leaf, why, whysz,
		    err);
	case KT_JAVA:
		return ossl_trusts(s->pem, s->npem, target, chain, leaf, why,
		    whysz);
	case KT_NSS:
		break;
	}
	if (!nss_exists(s)) {
		snprintf(why, whysz, "no NSS database in %s", s->real);
		return 0;
	}
	snprintf(db, sizeof(db), "sql:%s", s->real);
	argv[n++] = "vfychain";
	argv[n++] = "-d";
	argv[n++] = db;
	argv[n++] = "-pp";
	argv[n++] = "-u";
	argv[n++] = leaf ? "1" : "3";
	if (temp_pem(target, t, err) != KR_OK)
		return -1;
	argv[n++] = "-a";
	argv[n++] = t;
	for (i = 0; chain != NULL && i < sk_X509_num(chain) && ntmp < 8;
	    i++) {
		if (temp_pem(sk_X509_value(chain, i), tmps[ntmp], err) !=
		    KR_OK)
			break;
		argv[n++] = "-a";
		argv[n++] = tmps[ntmp++];
	}
	argv[n] = NULL;
	st = kt_run(argv, &out, NULL, line, sizeof(line), err);
	unlink(t);
	for (i = 0; i < ntmp; i++)
		unlink(tmps[i]);
	if (st < 0)
		return -1;
	/* vfychain exits 0 for "Chain is good!", and says why not on stderr. */
	ok = st == 0;
	if (!ok) {
		char *e = strstr(line, "ERROR");

		snprintf(why, whysz, "vfychain: %.*s", e != NULL ?
		    (int)strcspn(e, ";") : 200, e != NULL ? e : line);
	}
	free(out);
	return ok;
}
