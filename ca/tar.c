/*
 * tar.c: flat file sets in a directory or a ustar archive (tar.h).
 * The archive writer is small on purpose: one header layout, sorted
 * names, fixed metadata, so the same set always packs to the same
 * bytes.  The reader trusts nothing in the archive.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/file.h"
#include "tar.h"

#define BLOCK	512

/*
 * The largest archive of a set within the limits: each file costs at
 * most two blocks over its size (header, padding), and the end marker
 * may be padded to GNU tar's 20-block record.
 */
#define TAR_MAX	((size_t)CA_FILES_TOTAL_MAX + \
	    (size_t)CA_FILES_MAX * 2 * BLOCK + 20 * BLOCK)

/* The ustar header (POSIX.1-1988), 512 bytes. */
struct ustar {
	char	name[100];
	char	mode[8];
	char	uid[8];
	char	gid[8];
	char	size[12];
	char	mtime[12];
	char	chksum[8];
	char	typeflag;
	char	linkname[100];
	char	magic[6];
	char	version[2];
	char	uname[32];
	char	gname[32];
	char	devmajor[8];
	char	devminor[8];
	char	prefix[155];
	char	pad[12];
};

_Static_assert(sizeof(struct ustar) == BLOCK, "ustar header size");

int
ca_file_name_ok(const char *name)
{
	size_t i, n;

	if (name == NULL || (n = strlen(name)) == 0 || n > CA_FILE_NAME_MAX ||
	    name[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return 0;
	}
	return 1;
}

const struct ca_file *
ca_files_get(const struct ca_files *f, const char *name)
{
	size_t i;

	for (i = 0; f != NULL && i < f->n; i++)
		if (strcmp(f->v[i].name, name) == 0)
			return &f->v[i];
	return NULL;
}

static size_t
files_total(const struct ca_files *f)
{
	size_t i, t = 0;

	for (i = 0; i < f->n; i++)
		t += f->v[i].len;
	return t;
}

/* A malloc'd copy of len bytes with a NUL after them. */
static uint8_t *
dup_bytes(const void *data, size_t len)
{
	uint8_t *p;

	if ((p = malloc(len + 1)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(p, data, len);
	p[len] = '\0';
	return p;
}

static enum kr_err
files_store(struct ca_files *f, const char *name, const void *data,
    size_t len, int replace, struct kr_error *err)
{
	struct ca_file *nv;
	uint8_t *copy;
	size_t i, old = 0;

	if (!ca_file_name_ok(name))
		return kr_fail(err, KR_E_USAGE, "'%.80s' is not a file name "
		    "a bundle may hold (letters, digits, '.', '_', '-'; at "
		    "most %d; not starting with '.')", name, CA_FILE_NAME_MAX);
	if (len > CA_FILE_MAX)
		return kr_fail(err, KR_E_PARSE, "%s: %zu bytes, over the "
		    "limit of %d", name, len, CA_FILE_MAX);
	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].name, name) == 0)
			break;
	if (i < f->n && !replace)
		return kr_fail(err, KR_E_EXISTS, "%s: named twice", name);
	if (i < f->n)
		old = f->v[i].len;
	if (i == f->n && f->n >= CA_FILES_MAX)
		return kr_fail(err, KR_E_PARSE, "more than %d files",
		    CA_FILES_MAX);
	if (files_total(f) - old + len > CA_FILES_TOTAL_MAX)
		return kr_fail(err, KR_E_PARSE, "the files are over %d bytes "
		    "together", CA_FILES_TOTAL_MAX);
	if ((copy = dup_bytes(data, len)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	if (i < f->n) {
		free(f->v[i].data);
		f->v[i].data = copy;
		f->v[i].len = len;
		return KR_OK;
	}
	if ((nv = realloc(f->v, (f->n + 1) * sizeof(*nv))) == NULL) {
		free(copy);
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	}
	f->v = nv;
	if ((nv[f->n].name = strdup(name)) == NULL) {
		free(copy);
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	}
	nv[f->n].data = copy;
	nv[f->n].len = len;
	f->n++;
	return KR_OK;
}

enum kr_err
ca_files_add(struct ca_files *f, const char *name, const void *data,
    size_t len, struct kr_error *err)
{
	return files_store(f, name, data, len, 0, err);
}

enum kr_err
ca_files_put(struct ca_files *f, const char *name, const void *data,
    size_t len, struct kr_error *err)
{
	return files_store(f, name, data, len, 1, err);
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ca_file *)a)->name,
	    ((const struct ca_file *)b)->name);
}

void
ca_files_sort(struct ca_files *f)
{
	if (f->n > 1)
		qsort(f->v, f->n, sizeof(f->v[0]), file_cmp);
}

void
ca_files_free(struct ca_files *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->v[i].name);
		free(f->v[i].data);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

/* ------------------------------------------------------------------ */
/* Directories                                                         */
/* ------------------------------------------------------------------ */

enum kr_err
ca_files_read_dir(const char *dir, struct ca_files *out,
    struct kr_error *err)
{
	struct dirent *de;
	struct stat st;
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	size_t len;
	DIR *d = NULL;
	enum kr_err rc;

	memset(out, 0, sizeof(*out));
	if (lstat(dir, &st) == -1) {
		rc = kr_fail(err, errno == ENOENT ? KR_E_NOTFOUND : KR_E_IO,
		    "%s: %s", dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = kr_fail(err, KR_E_USAGE, "%s: not a directory", dir);
		goto out;
	}
	if ((d = opendir(dir)) == NULL) {
		rc = kr_fail(err, KR_E_IO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!ca_file_name_ok(de->d_name)) {
			rc = kr_fail(err, KR_E_PARSE, "%s: '%.80s' is not a "
			    "name a bundle holds", dir, de->d_name);
			goto out;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path)) {
			rc = kr_fail(err, KR_E_USAGE, "%s: path too long", dir);
			goto out;
		}
		if (lstat(path, &st) == -1) {
			rc = kr_fail(err, KR_E_IO, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			rc = kr_fail(err, KR_E_PARSE, "%s: not a regular file; "
			    "a bundle directory holds only files", path);
			goto out;
		}
		if ((rc = kr_file_read(path, CA_FILE_MAX, &buf, &len, err)) !=
		    KR_OK)
			goto out;
		rc = ca_files_add(out, de->d_name, buf, len, err);
		free(buf);
		buf = NULL;
		if (rc != KR_OK) {
			kr_error_prefix(err, "%s", dir);
			goto out;
		}
	}
	if (errno != 0) {
		rc = kr_fail(err, KR_E_IO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	ca_files_sort(out);
	rc = KR_OK;
out:
	if (d != NULL)
		closedir(d);
	if (rc != KR_OK)
		ca_files_free(out);
	return rc;
}

/* Remove a flat directory this module made. */
static void
remove_flat_dir(const char *dir, const struct ca_files *f)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < f->n; i++)
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    f->v[i].name) < sizeof(path))
			unlink(path);
	rmdir(dir);
}

enum kr_err
ca_files_write_dir(const char *dir, const struct ca_files *f,
    struct kr_error *err)
{
	struct stat st;
	char tmp[PATH_MAX], path[PATH_MAX];
	size_t i;
	enum kr_err rc = KR_OK;

	if (lstat(dir, &st) == 0)
		return kr_fail(err, KR_E_EXISTS, "%s: exists already; keyrite "
		    "never writes into an existing output directory", dir);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", dir) >=
	    sizeof(tmp))
		return kr_fail(err, KR_E_USAGE, "%s: path too long", dir);
	if (mkdtemp(tmp) == NULL)
		return kr_fail(err, KR_E_IO, "%s: %s", tmp, strerror(errno));
	for (i = 0; rc == KR_OK && i < f->n; i++) {
		if (!ca_file_name_ok(f->v[i].name) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", tmp,
		    f->v[i].name) >= sizeof(path)) {
			rc = kr_fail(err, KR_E_INTERNAL, "bad file name");
			break;
		}
		rc = kr_file_write(path, f->v[i].data, f->v[i].len, 0644, 0,
		    err);
	}
	if (rc == KR_OK && chmod(tmp, 0755) == -1)
		rc = kr_fail(err, KR_E_IO, "%s: %s", tmp, strerror(errno));
	/* The directory's entries reach the disk before it gets its name. */
	if (rc == KR_OK)
		(void)kr_dir_sync(tmp, &(struct kr_error){0});
	if (rc == KR_OK && rename(tmp, dir) == -1)
		rc = kr_fail(err, KR_E_IO, "%s: %s", dir, strerror(errno));
	if (rc != KR_OK)
		remove_flat_dir(tmp, f);
	return rc;
}

/* ------------------------------------------------------------------ */
/* ustar                                                               */
/* ------------------------------------------------------------------ */

/* Octal, zero-padded to width - 1 digits and a NUL. */
static void
octal(char *field, size_t width, unsigned long long v)
{
	size_t i;

	field[width - 1] = '\0';
	for (i = width - 1; i > 0; i--) {
		field[i - 1] = (char)('0' + (v & 7));
		v >>= 3;
	}
}

static unsigned
header_sum(const struct ustar *h)
{
	const unsigned char *p = (const unsigned char *)h;
	unsigned sum = 0;
	size_t i;

	for (i = 0; i < BLOCK; i++)
		sum += (i >= offsetof(struct ustar, chksum) &&
		    i < offsetof(struct ustar, chksum) + sizeof(h->chksum)) ?
		    ' ' : p[i];
	return sum;
}

enum kr_err
ca_tar_write(const struct ca_files *f, uint8_t **out, size_t *len,
    struct kr_error *err)
{
	struct ca_file **order = NULL;
	struct ustar *h;
	uint8_t *buf = NULL, *p;
	size_t total = 2 * BLOCK, i, j;
	enum kr_err rc;

	*out = NULL;
	*len = 0;
	if (f->n > CA_FILES_MAX || files_total(f) > CA_FILES_TOTAL_MAX) {
		rc = kr_fail(err, KR_E_USAGE, "too many or too large files "
		    "for a bundle archive");
		goto out;
	}
	if ((order = calloc(f->n + 1, sizeof(*order))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	/* Sorted without reordering the caller's set. */
	for (i = 0; i < f->n; i++) {
		for (j = i; j > 0 && strcmp(order[j - 1]->name,
		    f->v[i].name) > 0; j--)
			order[j] = order[j - 1];
		order[j] = &f->v[i];
	}
	for (i = 0; i < f->n; i++) {
		if (!ca_file_name_ok(order[i]->name) ||
		    order[i]->len > CA_FILE_MAX ||
		    (i > 0 && strcmp(order[i - 1]->name, order[i]->name) ==
		    0)) {
			rc = kr_fail(err, KR_E_USAGE, "'%.80s' cannot go into "
			    "a bundle archive", order[i]->name);
			goto out;
		}
		total += BLOCK + (order[i]->len + BLOCK - 1) / BLOCK * BLOCK;
	}
	if ((buf = calloc(1, total)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	p = buf;
	for (i = 0; i < f->n; i++) {
		h = (struct ustar *)(void *)p;
		memcpy(h->name, order[i]->name, strlen(order[i]->name));
		octal(h->mode, sizeof(h->mode), 0644);
		octal(h->uid, sizeof(h->uid), 0);
		octal(h->gid, sizeof(h->gid), 0);
		octal(h->size, sizeof(h->size), order[i]->len);
		octal(h->mtime, sizeof(h->mtime), 0);
		h->typeflag = '0';
		memcpy(h->magic, "ustar", 6);
		memcpy(h->version, "00", 2);
		octal(h->devmajor, sizeof(h->devmajor), 0);
		octal(h->devminor, sizeof(h->devminor), 0);
		/* Six digits, NUL, space: the traditional form. */
		octal(h->chksum, 7, header_sum(h));
		h->chksum[7] = ' ';
		p += BLOCK;
		if (order[i]->len > 0)
			memcpy(p, order[i]->data, order[i]->len);
		p += (order[i]->len + BLOCK - 1) / BLOCK * BLOCK;
	}
	*out = buf;
	*len = total;
	buf = NULL;
	rc = KR_OK;
out:
	free(order);
	free(buf);
	return rc;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/*
 * A numeric field: optional leading spaces, octal digits, then only
 * NULs or spaces.  GNU's base-256 form (high bit set) is refused.
 * Returns -1 on a malformed field.
 */
static long long
field_octal(const char *f, size_t n)
{
	unsigned long long v = 0;
	size_t i = 0;
	int digits = 0;

	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v > (unsigned long long)LLONG_MAX >> 3)
			return -1;
		v = v << 3 | (unsigned)(f[i] - '0');
		digits++;
	}
	if (digits == 0)
		return -1;
	for (; i < n; i++)
		if (f[i] != '\0' && f[i] != ' ')
			return -1;
	return (long long)v;
}

/* Why an entry name is refused, or NULL if it is a good one. */
static const char *
name_refused(const char *name)
{
	const char *p;

	if (name[0] == '\0')
		return "an empty name";
	if (name[0] == '/')
		return "an absolute path";
	for (p = name; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == name || p[-1] == '/') && (p[2] == '\0' ||
		    p[2] == '/'))
			return "a '..' component";
	if (strchr(name, '/') != NULL)
		return "a path with a directory; bundle archives are flat";
	if (!ca_file_name_ok(name))
		return "a name a bundle does not hold";
	return NULL;
}

enum kr_err
ca_tar_read(const uint8_t *buf, size_t len, struct ca_files *out,
    struct kr_error *err)
{
	const struct ustar *h;
	char name[101], shown[101];
	const char *why;
	long long size, sum;
	size_t off = 0, i, n = 0;
	enum kr_err rc;

	memset(out, 0, sizeof(*out));
	if (len % BLOCK != 0) {
		rc = kr_fail(err, KR_E_PARSE, "archive: %zu bytes is not a "
		    "whole number of 512-byte blocks (truncated?)", len);
		goto out;
	}
	if (len > TAR_MAX) {
		rc = kr_fail(err, KR_E_PARSE, "archive: %zu bytes, over the "
		    "limit for a bundle", len);
		goto out;
	}
	for (;;) {
		if (off + BLOCK > len) {
			rc = kr_fail(err, KR_E_PARSE, "archive: no "
			    "end-of-archive marker (truncated?)");
			goto out;
		}
		h = (const struct ustar *)(const void *)(buf + off);
		if (all_zero(buf + off, BLOCK)) {
			if (off + 2 * BLOCK > len ||
			    !all_zero(buf + off + BLOCK, BLOCK)) {
				rc = kr_fail(err, KR_E_PARSE, "archive: a "
				    "single zero block where the end-of-"
				    "archive marker needs two");
				goto out;
			}
			if (!all_zero(buf + off, len - off)) {
				rc = kr_fail(err, KR_E_PARSE, "archive: data "
				    "after the end-of-archive marker");
				goto out;
			}
			break;
		}
		n++;
		memcpy(name, h->name, sizeof(h->name));
		name[sizeof(h->name)] = '\0';
		/* For messages: printable ASCII only. */
		for (i = 0; i <= sizeof(h->name); i++)
			shown[i] = name[i] == '\0' ? '\0' :
			    (name[i] < 0x20 || name[i] > 0x7e) ? '?' : name[i];
		sum = field_octal(h->chksum, sizeof(h->chksum));
		if (sum < 0 || (unsigned long long)sum != header_sum(h)) {
			rc = kr_fail(err, KR_E_PARSE, "archive: entry %zu: bad "
			    "header checksum (not a tar archive, or "
			    "damaged)", n);
			goto out;
		}
		if (!(memcmp(h->magic, "ustar", 6) == 0 &&
		    memcmp(h->version, "00", 2) == 0) &&
		    memcmp(h->magic, "ustar  ", 8) != 0) {
			rc = kr_fail(err, KR_E_PARSE, "archive: entry %zu: not "
			    "a ustar header", n);
			goto out;
		}
		if (h->typeflag != '0' && h->typeflag != '\0') {
			rc = kr_fail(err, KR_E_PARSE, "archive: %s: %s; only "
			    "plain files are accepted", shown,
			    h->typeflag == '1' ? "a hard link" :
			    h->typeflag == '2' ? "a symbolic link" :
			    h->typeflag == '5' ? "a directory" :
			    h->typeflag == 'x' || h->typeflag == 'g' ?
			    "a pax extended header" :
			    h->typeflag == 'L' || h->typeflag == 'K' ?
			    "a GNU long-name header" : "a special entry");
			goto out;
		}
		if (!all_zero((const uint8_t *)h->prefix, sizeof(h->prefix))) {
			rc = kr_fail(err, KR_E_PARSE, "archive: %s: a path "
			    "with a directory prefix; bundle archives are "
			    "flat", shown);
			goto out;
		}
		if ((why = name_refused(name)) != NULL) {
			rc = kr_fail(err, KR_E_PARSE, "archive: '%s': %s",
			    shown, why);
			goto out;
		}
		size = field_octal(h->size, sizeof(h->size));
		if (size < 0) {
			rc = kr_fail(err, KR_E_PARSE, "archive: %s: bad size "
			    "field", name);
			goto out;
		}
		if (size > CA_FILE_MAX) {
			rc = kr_fail(err, KR_E_PARSE, "archive: %s: %lld "
			    "bytes, over the limit of %d", name, size,
			    CA_FILE_MAX);
			goto out;
		}
		off += BLOCK;
		if ((size_t)size > len - off) {
			rc = kr_fail(err, KR_E_PARSE, "archive: %s: its data "
			    "is cut short (truncated?)", name);
			goto out;
		}
		if ((rc = ca_files_add(out, name, buf + off, (size_t)size,
		    err)) != KR_OK) {
			kr_error_prefix(err, "archive");
			/* A duplicate or bad name is a malformed archive. */
			if (rc == KR_E_EXISTS || rc == KR_E_USAGE) {
				rc = KR_E_PARSE;
				if (err != NULL)
					err->code = rc;
			}
			goto out;
		}
		off += ((size_t)size + BLOCK - 1) / BLOCK * BLOCK;
	}
	rc = KR_OK;
out:
	if (rc != KR_OK)
		ca_files_free(out);
	return rc;
}
