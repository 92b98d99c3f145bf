/*
 * run.c: outside programs (update-ca-certificates, certutil, vfychain,
 * keytool) run with fork/execvp and an argv array, never a shell; and
 * bundles fetched over http(s) with libcurl.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "kt.h"

#define RUN_OUT_MAX	(8 * 1024 * 1024)

int
kt_have(const char *prog)
{
	const char *path = getenv("PATH"), *p, *e;
	char buf[PATH_MAX];
	size_t n;

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == 0;
	for (p = path != NULL ? path : "/usr/bin:/bin"; *p != '\0'; p = e) {
		e = strchr(p, ':');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n > 0 && (size_t)snprintf(buf, sizeof(buf), "%.*s/%s",
		    (int)n, p, prog) < sizeof(buf) && access(buf, X_OK) == 0)
			return 1;
		if (e == NULL)
			break;
		e++;
	}
	return 0;
}

int
kt_run(const char *const argv[], char **out, size_t *outlen, char *errline,
    size_t errsz, struct kr_error *err)
{
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, status, st = -1;
	struct pollfd pf[2];
	char *buf = NULL, ebuf[1024], tmp[4096];
	size_t len = 0, elen = 0, cap = 0;
	ssize_t r;
	pid_t pid;
	int open_ = 2, i;

	if (errline != NULL && errsz > 0)
		errline[0] = '\0';
	if (pipe2(op, O_CLOEXEC) == -1 || pipe2(ep, O_CLOEXEC) == -1) {
		kr_fail(err, KR_E_IO, "pipe: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) == -1) {
		kr_fail(err, KR_E_IO, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		if (nul != -1)
			dup2(nul, 0);
		dup2(op[1], 1);
		dup2(ep[1], 2);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;
	pf[0] = (struct pollfd){ .fd = op[0], .events = POLLIN };
	pf[1] = (struct pollfd){ .fd = ep[0], .events = POLLIN };
	while (open_ > 0) {
		if (poll(pf, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || pf[i].revents == 0)
				continue;
			r = read(pf[i].fd, tmp, sizeof(tmp));
			if (r <= 0) {
				pf[i].fd = -1;
				open_--;
				continue;
			}
			if (i == 0 && len + (size_t)r <= RUN_OUT_MAX) {
				if (len + (size_t)r + 1 > cap) {
					char *nb;

					cap = (len + (size_t)r + 1) * 2;
					if ((nb = realloc(buf, cap)) == NULL)
						continue;
					buf = nb;
				}
				memcpy(buf + len, tmp, (size_t)r);
				len += (size_t)r;
			} else if (i == 1 && elen < sizeof(ebuf) - 1) {
				size_t k = (size_t)r;

				if (k > sizeof(ebuf) - 1 - elen)
					k = sizeof(ebuf) - 1 - elen;
				memcpy(ebuf + elen, tmp, k);
				elen += k;
			}
		}
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	ebuf[elen] = '\0';
	if (errline != NULL && errsz > 0) {
		char *s = ebuf, *nl;
		size_t n;

		/* Every line, joined by "; ". */
		while (*s == '\n' || *s == ' ')
			s++;
		n = strlen(s);
		while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
			s[--n] = '\0';
		while ((nl = strchr(s, '\n')) != NULL)
			*nl = ';';
		snprintf(errline, errsz, "%s", s);
	}
	st = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	if (out != NULL) {
		if (buf == NULL && (buf = malloc(1)) == NULL) {
			st = -1;
			kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		buf[len] = '\0';
		*out = buf;
		buf = NULL;
		if (outlen != NULL)
			*outlen = len;
	}
out:
	for (i = 0; i < 2; i++) {
		if (op[i] != -1)
			close(op[i]);
		if (ep[i] != -1)
			close(ep[i]);
	}
	free(buf);
	return st;
}

struct sink {
	uint8_t	*buf;
	size_t	 len;
	size_t	 max;
	int	 over;
};

static size_t
sink_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t k = size * n;
	uint8_t *nb;

	if (s->len + k > s->max) {
		s->over = 1;
		return 0;
	}
	if ((nb = realloc(s->buf, s->len + k + 1)) == NULL)
		return 0;
	s->buf = nb;
	memcpy(s->buf + s->len, p, k);
	s->len += k;
	s->buf[s->len] = '\0';
	return k;
}

enum kr_err
kt_fetch(const char *url, size_t max, long timeout, uint8_t **out,
    size_t *len, struct kr_error *err)
{
	struct sink s = { NULL, 0, max, 0 };
	CURL *c;
	CURLcode cc;
	long code = 0;
	enum kr_err rc = KR_OK;

	*out = NULL;
	*len = 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c = curl_easy_init()) == NULL)
		return kr_fail(err, KR_E_NOMEM, "libcurl could not start");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout :
	    10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "keyrite-trust");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (s.over || cc == CURLE_FILESIZE_EXCEEDED)
		rc = kr_fail(err, KR_E_PARSE, "%s: larger than %zu bytes",
		    url, max);
	else if (cc != CURLE_OK)
		rc = kr_fail(err, KR_E_IO, "%s: %s", url,
		    curl_easy_strerror(cc));
	else if (code != 200)
		rc = kr_fail(err, KR_E_NOTFOUND, "%s: HTTP status %ld", url,
		    code);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	if (rc != KR_OK) {
		free(s.buf);
		return rc;
	}
	if (s.buf == NULL && (s.buf = calloc(1, 1)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	*out = s.buf;
	*len = s.len;
	return KR_OK;
}
