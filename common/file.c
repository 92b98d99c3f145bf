/*
 * file.c: atomic output files, bounded input files, and secrets read from
 * files or a no-echo terminal into sodium_malloc'd memory.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

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
	int fd = -1, dfd = -1;
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
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return KR_OK;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return rc;
}

enum kr_err
kr_secret_from_bytes(const void *buf, size_t len, struct kr_secret **out,
    struct kr_error *err)
{
	struct kr_secret *s;

	*out = NULL;
	if ((s = sodium_malloc(sizeof(*s))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of secure memory");
	if ((s->buf = sodium_malloc(len + 1)) == NULL) {
		sodium_free(s);
		return kr_fail(err, KR_E_NOMEM, "out of secure memory");
	}
	memcpy(s->buf, buf, len);
	s->buf[len] = '\0';
	s->len = len;
	*out = s;
	return KR_OK;
}

void
kr_secret_free(struct kr_secret *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s->buf, s->len);
	sodium_free(s->buf);
	sodium_free(s);
}

#define KR_SECRET_MAX 1024

enum kr_err
kr_secret_from_file(const char *path, const char *what,
    struct kr_secret **out, struct kr_error *err)
{
	char *buf;
	size_t n = 0;
	ssize_t r;
	int fd;
	enum kr_err rc;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return kr_fail(err, errno == ENOENT ? KR_E_NOTFOUND : KR_E_IO,
		    "%s file %s: %s", what, path, strerror(errno));
	if ((buf = sodium_malloc(KR_SECRET_MAX + 1)) == NULL) {
		close(fd);
		return kr_fail(err, KR_E_NOMEM, "out of secure memory");
	}
	r = 0;
	while (n < KR_SECRET_MAX) {
		r = read(fd, buf + n, KR_SECRET_MAX - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (r == -1) {
		rc = kr_fail(err, KR_E_IO, "%s file %s: %s", what, path,
		    strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
	/* Only the first line counts; a trailing newline is not secret. */
	buf[n] = '\0';
	if (strcspn(buf, "\r\n") == KR_SECRET_MAX) {
		rc = kr_fail(err, KR_E_PARSE, "%s file %s: the first line is "
		    "longer than %d bytes", what, path, KR_SECRET_MAX - 1);
		goto out;
	}
	n = strcspn(buf, "\r\n");
	if (n == 0) {
		rc = kr_fail(err, KR_E_PARSE, "%s file %s: is empty", what,
		    path);
		goto out;
	}
	rc = kr_secret_from_bytes(buf, n, out, err);
out:
	sodium_memzero(buf, KR_SECRET_MAX + 1);
	sodium_free(buf);
	return rc;
}

static volatile sig_atomic_t prompt_signal;

static void
prompt_on_signal(int sig)
{
	prompt_signal = sig;
}

/* Read one line from fd with echo off; the terminal is always restored. */
static enum kr_err
prompt_read(int fd, const char *prompt, char *buf, size_t *len)
{
	struct termios old, noecho;
	size_t n = 0;
	ssize_t r;
	char c;

	if (tcgetattr(fd, &old) == -1)
		return KR_E_USAGE;
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	noecho.c_lflag |= ECHONL;
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &noecho) == -1)
		return KR_E_USAGE;
	for (;;) {
		r = read(fd, &c, 1);
		if (r <= 0 || c == '\n' || c == '\r')
			break;
		/* Longer than any secret keyrite takes: refused below. */
		if (n < KR_SECRET_MAX)
			buf[n++] = c;
	}
	c = 0;
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	buf[n] = '\0';
	*len = n;
	if (r == -1 && errno == EINTR)
		return KR_E_ABORTED;
	return KR_OK;
}

/*
 * Read one line without echo.  SIGINT and SIGTERM are caught while echo
 * is off so that Ctrl-C restores the terminal before keyrite stops: the
 * prompt returns KR_E_ABORTED, and a SIGINT handler the caller had
 * installed (the ceremony runner's) is told.
 */
static enum kr_err
prompt_once(int fd, const char *prompt, char *buf, size_t *len)
{
	struct sigaction sa, oint, oterm;
	enum kr_err rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = prompt_on_signal;	/* no SA_RESTART */
	prompt_signal = 0;
	sigaction(SIGINT, &sa, &oint);
	sigaction(SIGTERM, &sa, &oterm);
	rc = prompt_read(fd, prompt, buf, len);
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGTERM, &oterm, NULL);
	if (prompt_signal == 0)
		return rc;
	if (prompt_signal == SIGINT && oint.sa_handler != SIG_DFL &&
	    oint.sa_handler != SIG_IGN)
		oint.sa_handler(SIGINT);
	return KR_E_ABORTED;
}

enum kr_err
kr_secret_prompt(const char *prompt, int confirm, struct kr_secret **out,
    struct kr_error *err)
{
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	int fd;
	enum kr_err rc;

	*out = NULL;
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1)
		return kr_fail(err, KR_E_USAGE, "no terminal to ask for the "
		    "%s; give it with a --*-file option", prompt);
	a = sodium_malloc(KR_SECRET_MAX + 1);
	b = sodium_malloc(KR_SECRET_MAX + 1);
	if (a == NULL || b == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of secure memory");
		goto out;
	}
	{
		char p[256];

		snprintf(p, sizeof(p), "%s: ", prompt);
		if ((rc = prompt_once(fd, p, a, &alen)) != KR_OK) {
			rc = rc == KR_E_ABORTED ? kr_fail(err, rc, "interrupted "
			    "while asking for the %s", prompt) : kr_fail(err,
			    KR_E_USAGE, "cannot turn off echo on the terminal "
			    "to ask for the %s", prompt);
			goto out;
		}
		if (confirm) {
			snprintf(p, sizeof(p), "%s (again): ", prompt);
			if ((rc = prompt_once(fd, p, b, &blen)) == KR_E_ABORTED) {
				rc = kr_fail(err, rc, "interrupted while asking "
				    "for the %s", prompt);
				goto out;
			}
			if (rc != KR_OK ||
			    alen != blen || sodium_memcmp(a, b, alen) != 0) {
				rc = kr_fail(err, KR_E_AUTH,
				    "the two entries of the %s differ", prompt);
				goto out;
			}
		}
	}
	if (alen == 0) {
		rc = kr_fail(err, KR_E_AUTH, "empty %s", prompt);
		goto out;
	}
	if (alen >= KR_SECRET_MAX) {
		rc = kr_fail(err, KR_E_AUTH, "the %s is longer than %d bytes",
		    prompt, KR_SECRET_MAX - 1);
		goto out;
	}
	rc = kr_secret_from_bytes(a, alen, out, err);
out:
	if (a != NULL) {
		sodium_memzero(a, KR_SECRET_MAX + 1);
		sodium_free(a);
	}
	if (b != NULL) {
		sodium_memzero(b, KR_SECRET_MAX + 1);
		sodium_free(b);
	}
	close(fd);
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
