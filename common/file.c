/*
 * file.c: atomic output files, bounded input files, directories.  No
 * libsodium here (secrets are in secret.c), so programs that only read
 * and write files (keyrite-trust) link it alone.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"

enum kr_err
kr_file_read(const char *path, size_t max, uint8_t **buf, size_t *len,
    struct kr_error *err)
{
	struct stat st;
	uint8_t *b = NULL;
	size_t cap = 4096, n = 0;
	ssize_t r;
	int fd;
	enum kr_err rc;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return kr_fail(err, errno == ENOENT ? KR_E_NOTFOUND : KR_E_IO,
		    "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		rc = kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = kr_fail(err, KR_E_IO, "%s: is a directory", path);
		goto out;
	}
	for (;;) {
		if (b == NULL || n + 1 >= cap) {
			uint8_t *nb;

			if (b != NULL)
				cap *= 2;
			if ((nb = realloc(b, cap)) == NULL) {
				rc = kr_fail(err, KR_E_NOMEM, "%s: out of memory",
				    path);
				goto out;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n - 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = kr_fail(err, KR_E_IO, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			rc = kr_fail(err, KR_E_PARSE,
			    "%s: larger than %zu bytes; is this the right file?",
			    path, max);
			goto out;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rc = KR_OK;
out:
	free(b);
	close(fd);
	return rc;
}

/* Copy the directory part of path into dir ("." when there is none). */
static void
dir_of(const char *path, char *dir, size_t sz)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, sz, ".");
	else if (slash == path)
		snprintf(dir, sz, "/");
	else
		snprintf(dir, sz, "%.*s", (int)(slash - path), path);
}

enum kr_err
kr_dir_sync(const char *dir, struct kr_error *err)
{
	int dfd, e;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) != 0) {
		e = errno;
		if (dfd != -1)
			close(dfd);
		return kr_fail(err, KR_E_IO, "%s: cannot sync the directory: "
		    "%s", dir, strerror(e));
	}
	close(dfd);
	return KR_OK;
}

enum kr_err
kr_dir_sync_of(const char *path, struct kr_error *err)
{
	char dir[PATH_MAX];

	dir_of(path, dir, sizeof(dir));
	return kr_dir_sync(dir, err);
}

enum kr_err
kr_out_check(const char *path, int force, struct kr_error *err)
{
	struct stat st;
	char dir[PATH_MAX];

	if (path == NULL || *path == '\0')
		return kr_fail(err, KR_E_USAGE, "an output path is required");
	if (lstat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return kr_fail(err, KR_E_EXISTS,
			    "%s: is a directory", path);
		if (!force)
			return kr_fail(err, KR_E_EXISTS,
			    "%s: exists already; choose another name or pass "
			    "--force to replace it", path);
	} else if (errno != ENOENT)
		return kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return kr_fail(err, KR_E_NOTFOUND,
		    "%s: directory %s does not exist", path, dir);
	if (access(dir, W_OK) == -1)
		return kr_fail(err, KR_E_IO, "%s: directory %s: %s", path,
		    dir, strerror(errno));
	return KR_OK;
}

static enum kr_err
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return KR_E_IO;
		p += w;
		len -= (size_t)w;
	}
	return KR_OK;
}

enum kr_err
kr_file_write(const char *path, const void *buf, size_t len, unsigned mode,
    int force, struct kr_error *err)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 32];
	int fd = -1;
	enum kr_err rc;

	dir_of(path, dir, sizeof(dir));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.keyrite-XXXXXX", dir) >=
	    sizeof(tmp))
		return kr_fail(err, KR_E_USAGE, "%s: path too long", path);
	if ((fd = mkstemp(tmp)) == -1)
		return kr_fail(err, KR_E_IO, "%s: cannot create a temporary "
		    "file in %s: %s", path, dir, strerror(errno));
	if (write_all(fd, buf, len) != KR_OK || fchmod(fd, mode) == -1 ||
	    fsync(fd) == -1) {
		rc = kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		rc = kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (force) {
		if (rename(tmp, path) == -1) {
			rc = kr_fail(err, KR_E_IO, "%s: %s", path,
			    strerror(errno));
			goto fail;
		}
	} else {
		/* link() fails if path appeared since kr_out_check. */
		if (link(tmp, path) == -1) {
			rc = kr_fail(err, errno == EEXIST ? KR_E_EXISTS :
			    KR_E_IO, "%s: %s", path, errno == EEXIST ?
			    "exists already; pass --force to replace it" :
			    strerror(errno));
			goto fail;
		}
		unlink(tmp);
	}
	(void)kr_dir_sync(dir, &(struct kr_error){0});
	return KR_OK;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return rc;
}

enum kr_err
kr_mkdirs(const char *path, unsigned mode, struct kr_error *err)
{
	char buf[PATH_MAX];
	size_t i, n;

	n = strlen(path);
	if (n == 0 || n >= sizeof(buf))
		return kr_fail(err, KR_E_USAGE, "bad directory name");
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, i == n ? mode : 0755) == -1 && errno != EEXIST)
			return kr_fail(err, KR_E_IO, "%s: %s", buf,
			    strerror(errno));
		buf[i] = i == n ? '\0' : '/';
	}
	return KR_OK;
}
