/*
 * secret.c: secrets read from files or a no-echo terminal into
 * sodium_malloc'd memory (declared in file.h).
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
