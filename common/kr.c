/*
 * kr.c: error context, time and fingerprint helpers shared by every module.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "kr.h"

static const char *const kr_errstr[] = {
	[KR_OK] = "success",
	[KR_E_USAGE] = "usage error",
	[KR_E_NOMEM] = "out of memory",
	[KR_E_IO] = "input/output error",
	[KR_E_PARSE] = "malformed input",
	[KR_E_CRYPTO] = "cryptographic library error",
	[KR_E_PKCS11] = "PKCS#11 error",
	[KR_E_NOTFOUND] = "not found",
	[KR_E_EXISTS] = "already exists",
	[KR_E_POLICY] = "refused by policy",
	[KR_E_AUTH] = "authentication failed",
	[KR_E_VERIFY] = "verification failed",
	[KR_E_STATE] = "inconsistent state",
	[KR_E_INTERNAL] = "internal error",
	[KR_E_ABORTED] = "aborted by the operator",
};

const char *
kr_strerror(enum kr_err code)
{
	if ((size_t)code >= sizeof(kr_errstr) / sizeof(kr_errstr[0]) ||
	    kr_errstr[code] == NULL)
		return "unknown error";
	return kr_errstr[code];
}

static void
kr_vset(struct kr_error *e, enum kr_err code, const char *fmt, va_list ap)
{
	if (e == NULL)
		return;
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

enum kr_err
kr_fail(struct kr_error *e, enum kr_err code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kr_vset(e, code, fmt, ap);
	va_end(ap);
	return code;
}

enum kr_err
kr_fail_ossl(struct kr_error *e, enum kr_err code, const char *fmt, ...)
{
	va_list ap;
	unsigned long oe;
	char buf[256];
	size_t n;

	va_start(ap, fmt);
	kr_vset(e, code, fmt, ap);
	va_end(ap);
	oe = ERR_get_error();
	if (e != NULL && oe != 0) {
		ERR_error_string_n(oe, buf, sizeof(buf));
		n = strlen(e->msg);
		snprintf(e->msg + n, sizeof(e->msg) - n, " (%s)", buf);
	}
	ERR_clear_error();
	return code;
}

void
kr_error_prefix(struct kr_error *e, const char *fmt, ...)
{
	char pre[512], old[sizeof(e->msg)];
	size_t n, m;
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	/* Truncation of an over-long message is acceptable. */
	n = strlen(pre);
	if (n > sizeof(e->msg) - 3)
		n = sizeof(e->msg) - 3;
	memcpy(e->msg, pre, n);
	memcpy(e->msg + n, ": ", 2);
	n += 2;
	m = strnlen(old, sizeof(old) - 1);
	if (m > sizeof(e->msg) - 1 - n)
		m = sizeof(e->msg) - 1 - n;
	memcpy(e->msg + n, old, m);
	e->msg[n + m] = '\0';
}

time_t
kr_parse_time(const char *s)
{
	struct tm tm;
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	if (isdigit((unsigned char)s[0]) && strchr(s, '-') == NULL) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0' || v < 0)
			return -1;
		return (time_t)v;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	return timegm(&tm);
}

time_t
kr_now(void)
{
	const char *s;
	time_t t;

	s = getenv("KEYRITE_NOW");
	if (s != NULL && *s != '\0' && (t = kr_parse_time(s)) != -1)
		return t;
	return time(NULL);
}

long long
kr_parse_duration(const char *s, char default_unit)
{
	char *end;
	long long v, mul;
	char unit;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < 0)
		return -1;
	unit = *end != '\0' ? *end++ : default_unit;
	if (*end != '\0')
		return -1;
	switch (unit) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: return -1;
	}
	/* Nothing keyrite signs lasts 1000 years; more is a typo. */
	if (v > 1000LL * 366 * 86400 / mul)
		return -1;
	return v * mul;
}

void
kr_hex(const uint8_t *buf, size_t len, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hx[buf[i] >> 4];
		out[2 * i + 1] = hx[buf[i] & 15];
	}
	out[2 * len] = '\0';
}

void
kr_fingerprint(const uint8_t *buf, size_t len, char out[KR_FPR_LEN])
{
	static const char hx[] = "0123456789ABCDEF";
	unsigned char md[32];
	size_t i, o = 0;

	EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL);
	for (i = 0; i < sizeof(md); i++) {
		if (i > 0 && i % 2 == 0)
			out[o++] = ' ';
		out[o++] = hx[md[i] >> 4];
		out[o++] = hx[md[i] & 15];
	}
	out[o] = '\0';
}

void
kr_harden(void)
{
	struct rlimit rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);
}
