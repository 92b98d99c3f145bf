/*
 * kr.h: the error codes, error context and small utilities every keyrite
 * module shares.  Library code returns an enum kr_err and fills a
 * struct kr_error with the detail; only main() prints.
 */
#ifndef KR_H
#define KR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Stable numbers: never renumber, only append. */
enum kr_err {
	KR_OK = 0,
	KR_E_USAGE = 1,		/* bad command line or argument */
	KR_E_NOMEM = 2,		/* out of memory */
	KR_E_IO = 3,		/* a file could not be read or written */
	KR_E_PARSE = 4,		/* malformed input */
	KR_E_CRYPTO = 5,	/* OpenSSL or libsodium failed */
	KR_E_PKCS11 = 6,	/* the PKCS#11 module returned an error */
	KR_E_NOTFOUND = 7,	/* token, key or file not found */
	KR_E_EXISTS = 8,	/* output or object exists already */
	KR_E_POLICY = 9,	/* refused by a profile or the linter */
	KR_E_AUTH = 10,		/* wrong PIN or passphrase */
	KR_E_VERIFY = 11,	/* a signature or hash did not verify */
	KR_E_STATE = 12,	/* persistent state is inconsistent */
	KR_E_INTERNAL = 13,	/* a bug: an invariant did not hold */
	KR_E_ABORTED = 14,	/* the operator declined */
};

struct kr_error {
	enum kr_err	code;
	char		msg[1024];
};

/* The fixed one-line description of a code. */
const char	*kr_strerror(enum kr_err);

/*
 * Record an error in e (may be NULL) and return code, so callers write
 * "return kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));".
 */
enum kr_err	 kr_fail(struct kr_error *e, enum kr_err code, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));

/* As kr_fail, and append the oldest OpenSSL error on the queue. */
enum kr_err	 kr_fail_ossl(struct kr_error *e, enum kr_err code,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefix the message already in e with "prefix: " (for context). */
void		 kr_error_prefix(struct kr_error *e, const char *fmt, ...)
		     __attribute__((format(printf, 2, 3)));

/*
 * The current time.  KEYRITE_NOW (seconds since the epoch, or
 * YYYY-MM-DDTHH:MM:SSZ) overrides it so tests can sit at the edges of a
 * validity period.
 */
time_t		 kr_now(void);

/* Parse YYYY-MM-DDTHH:MM:SSZ or seconds since the epoch.  -1 on error. */
time_t		 kr_parse_time(const char *);

/*
 * Parse a duration such as "90d", "24h", "30m", "3650" (days when no
 * unit).  Returns seconds, or -1 (also for anything over 1000 years, so
 * that time arithmetic cannot overflow).
 */
long long	 kr_parse_duration(const char *, char default_unit);

/*
 * SHA-256 fingerprint of buf as upper-case hex in groups of four
 * separated by spaces (79 characters + NUL), easy to read aloud.
 */
#define KR_FPR_LEN 80
void		 kr_fingerprint(const uint8_t *buf, size_t len,
		     char out[KR_FPR_LEN]);

/* Lower-case hex of buf into out (2*len+1 bytes). */
void		 kr_hex(const uint8_t *buf, size_t len, char *out);

/*
 * Process hardening for programs that handle secrets: no core dumps,
 * not ptrace-able by other users, umask 077.
 */
void		 kr_harden(void);

#endif /* KR_H */
