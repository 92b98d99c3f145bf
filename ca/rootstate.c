/*
 * rootstate.c: the state an offline root keeps between ceremonies (see
 * rootstate.h and docs/formats-root-state.md).  Every file is written
 * atomically with kr_file_write; the directory is held with an
 * exclusive flock on its lock file while open, so two keyrite processes
 * never hand out the same CRL number or overwrite each other's records.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "../common/file.h"
#include <openssl/err.h>

#include "rootstate.h"

/* The revoked file and crlnumber are small; refuse absurd ones. */
#define RS_MAX_FILE	(16 * 1024 * 1024)

struct ca_rootstate {
	char	dir[PATH_MAX];
	int	lockfd;
};

/*
 * $KEYRITE_HOME, else $XDG_DATA_HOME/keyrite, else $HOME (or the
 * password database's home)/.local/share/keyrite.  The result lives in
 * a static buffer (not thread-safe); NULL when no home can be found.
 */
const char *
ca_rootstate_default_home(void)
{
	static char buf[PATH_MAX];
	const char *e;
	struct passwd *pw;
	int n;

	if ((e = getenv("KEYRITE_HOME")) != NULL && *e != '\0')
		n = snprintf(buf, sizeof(buf), "%s", e);
	else if ((e = getenv("XDG_DATA_HOME")) != NULL && *e == '/')
		n = snprintf(buf, sizeof(buf), "%s/keyrite", e);
	else if ((e = getenv("HOME")) != NULL && *e != '\0')
		n = snprintf(buf, sizeof(buf), "%s/.local/share/keyrite", e);
	else if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL)
		n = snprintf(buf, sizeof(buf), "%s/.local/share/keyrite",
		    pw->pw_dir);
	else
		return NULL;
	if (n < 0 || (size_t)n >= sizeof(buf))
		return NULL;
	return buf;
}

/* DIR/name into out; KR_E_USAGE when too long. */
static enum kr_err
rs_path(const struct ca_rootstate *rs, const char *name, char *out,
    size_t sz, struct kr_error *err)
{
	if ((size_t)snprintf(out, sz, "%s/%s", rs->dir, name) >= sz)
		return kr_fail(err, KR_E_USAGE, "%s/%s: path too long", rs->dir,
		    name);
	return KR_OK;
}

/* mkdir with mode; an existing directory is fine. */
static enum kr_err
mkdir_one(const char *path, struct kr_error *err)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return KR_OK;
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return KR_OK;
	return kr_fail(err, KR_E_IO, "%s: %s", path, errno == EEXIST ?
	    "exists and is not a directory" : strerror(errno));
}

/* Never prompt: a certificate has no passphrase. */
static int
no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf;
	(void)size;
	(void)rw;
	(void)u;
	return -1;
}

/* root.pem: store it on first use, else it must be the same root. */
static enum kr_err
check_root(struct ca_rootstate *rs, X509 *root, const unsigned char *der,
    size_t derlen, struct kr_error *err)
{
	char path[PATH_MAX], f1[KR_FPR_LEN], f2[KR_FPR_LEN];
	unsigned char *sder = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	X509 *stored = NULL;
	BIO *b = NULL;
	char *data;
	long n;
	int slen;
	enum kr_err rc;

	if ((rc = rs_path(rs, "root.pem", path, sizeof(path), err)) != KR_OK)
		goto out;
	rc = kr_file_read(path, RS_MAX_FILE, &buf, &len, err);
	if (rc == KR_E_NOTFOUND) {
		if ((b = BIO_new(BIO_s_mem())) == NULL ||
		    PEM_write_bio_X509(b, root) != 1 ||
		    (n = BIO_get_mem_data(b, &data)) <= 0) {
			rc = kr_fail(err, KR_E_NOMEM, "%s: cannot encode",
			    path);
			goto out;
		}
		rc = kr_file_write(path, data, (size_t)n, 0644, 0, err);
		goto out;
	}
	if (rc != KR_OK)
		goto out;
	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (stored = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) ==
	    NULL) {
		rc = kr_fail(err, KR_E_STATE, "%s: not a PEM certificate; the "
		    "root state is damaged", path);
		goto out;
	}
	if ((slen = i2d_X509(stored, &sder)) <= 0 || (size_t)slen != derlen ||
	    memcmp(sder, der, derlen) != 0) {
		ca_cert_fingerprint(stored, f1);
		kr_fingerprint(der, derlen, f2);
		rc = kr_fail(err, KR_E_STATE, "%s holds root %s, not the root "
		    "given (%s); the state directory belongs to another root",
		    path, f1, f2);
		goto out;
	}
	rc = KR_OK;
out:
	OPENSSL_free(sder);
	X509_free(stored);
	BIO_free(b);
	free(buf);
	return rc;
}

/*
 * Open (creating if needed) HOME/roots/<id> for root and lock it.  The
 * lock is taken before root.pem is read or written, so two first opens
 * cannot race.
 */
enum kr_err
ca_rootstate_open(const char *home, X509 *root, struct ca_rootstate **out,
    struct kr_error *err)
{
	struct ca_rootstate *rs = NULL;
	unsigned char *der = NULL, md[32];
	char hex[65], path[PATH_MAX];
	unsigned int mdlen = 0;
	int derlen;
	enum kr_err rc;

	*out = NULL;
	if (home == NULL && (home = ca_rootstate_default_home()) == NULL) {
		rc = kr_fail(err, KR_E_USAGE, "no state directory: set "
		    "KEYRITE_HOME or HOME");
		goto out;
	}
	if ((derlen = i2d_X509(root, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL) !=
	    1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode the root");
		goto out;
	}
	kr_hex(md, 8, hex);
	if ((rs = calloc(1, sizeof(*rs))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	rs->lockfd = -1;
	if ((size_t)snprintf(rs->dir, sizeof(rs->dir), "%s/roots/%s", home,
	    hex) >= sizeof(rs->dir) ||
	    (size_t)snprintf(path, sizeof(path), "%s/roots", home) >=
	    sizeof(path)) {
		rc = kr_fail(err, KR_E_USAGE, "%s: path too long", home);
		goto out;
	}
	if ((rc = kr_mkdirs(home, 0700, err)) != KR_OK ||
	    (rc = mkdir_one(path, err)) != KR_OK ||
	    (rc = mkdir_one(rs->dir, err)) != KR_OK)
		goto out;
	if ((rc = rs_path(rs, "lock", path, sizeof(path), err)) != KR_OK)
		goto out;
	if ((rs->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1) {
		rc = kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (flock(rs->lockfd, LOCK_EX | LOCK_NB) == -1) {
		rc = kr_fail(err, errno == EWOULDBLOCK ? KR_E_STATE : KR_E_IO,
		    "another keyrite is using root state %s%s%s", rs->dir,
		    errno == EWOULDBLOCK ? "" : ": ",
		    errno == EWOULDBLOCK ? "" : strerror(errno));
		goto out;
	}
	if ((rc = rs_path(rs, "issued", path, sizeof(path), err)) != KR_OK ||
	    (rc = mkdir_one(path, err)) != KR_OK)
		goto out;
	if ((rc = check_root(rs, root, der, (size_t)derlen, err)) != KR_OK)
		goto out;
	*out = rs;
	rs = NULL;
	rc = KR_OK;
out:
	OPENSSL_free(der);
	ca_rootstate_close(rs);
	return rc;
}

/* Unlock and free; safe on NULL. */
void
ca_rootstate_close(struct ca_rootstate *rs)
{
	if (rs == NULL)
		return;
	if (rs->lockfd != -1)
		close(rs->lockfd);
	free(rs);
}

/* The state directory, for messages. */
const char *
ca_rootstate_dir(const struct ca_rootstate *rs)
{
	return rs->dir;
}

/*
 * Reserve the next CRL number.  A missing crlnumber file means none was
 * handed out yet (the first is 1); a file that does not hold exactly one
 * decimal number and a newline is damage, reported and never reset.
 */
enum kr_err
ca_rootstate_next_crlnumber(struct ca_rootstate *rs, ASN1_INTEGER **out,
    struct kr_error *err)
{
	char path[PATH_MAX], num[32];
	uint8_t *buf = NULL;
	size_t len = 0, i;
	unsigned long long last = 0, next;
	ASN1_INTEGER *ai = NULL;
	int n;
	enum kr_err rc;

	*out = NULL;
	if ((rc = rs_path(rs, "crlnumber", path, sizeof(path), err)) != KR_OK)
		goto out;
	rc = kr_file_read(path, RS_MAX_FILE, &buf, &len, err);
	if (rc == KR_E_NOTFOUND)
		last = 0;
	else if (rc != KR_OK)
		goto out;
	else {
		if (len > 0 && buf[len - 1] == '\n')
			len--;
		for (i = 0; i < len; i++) {
			if (!isdigit(buf[i]) ||
			    last > (ULLONG_MAX - (unsigned)(buf[i] - '0')) /
			    10) {
				len = 0;
				break;
			}
			last = last * 10 + (unsigned)(buf[i] - '0');
		}
		if (len == 0 || len > 19) {
			rc = kr_fail(err, KR_E_STATE, "%s: line 1: not a "
			    "decimal CRL number; restore it from a backup (it "
			    "must never go down)", path);
			goto out;
		}
	}
	/* The next number must still fit the 19 digits read back above. */
	if (last >= 9999999999999999999ULL) {
		rc = kr_fail(err, KR_E_STATE, "%s: CRL numbers exhausted",
		    path);
		goto out;
	}
	next = last + 1;
	if ((n = snprintf(num, sizeof(num), "%llu\n", next)) <= 0 ||
	    (size_t)n >= sizeof(num)) {
		rc = kr_fail(err, KR_E_INTERNAL, "CRL number too long");
		goto out;
	}
	if ((ai = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_uint64(ai, next) != 1) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	/* On disk before it is handed out: a crash skips, never reuses. */
	if ((rc = kr_file_write(path, num, (size_t)n, 0644, 1, err)) != KR_OK)
		goto out;
	*out = ai;
	ai = NULL;
	rc = KR_OK;
out:
	ASN1_INTEGER_free(ai);
	free(buf);
	return rc;
}

/* issued/<serial hex>.pem; refuses negative or zero serials. */
static enum kr_err
issued_path(struct ca_rootstate *rs, const ASN1_INTEGER *serial, char *out,
    size_t sz, char **hexp, struct kr_error *err)
{
	char *hex;
	enum kr_err rc;

	*hexp = NULL;
	if ((hex = ca_serial_hex(serial)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	if (hex[0] == '-' || strcmp(hex, "0") == 0) {
		rc = kr_fail(err, KR_E_USAGE, "serial %s is not positive", hex);
		free(hex);
		return rc;
	}
	if ((size_t)snprintf(out, sz, "%s/issued/%s.pem", rs->dir, hex) >= sz) {
		free(hex);
		return kr_fail(err, KR_E_USAGE, "%s: path too long", rs->dir);
	}
	*hexp = hex;
	return KR_OK;
}

/* Record a certificate the root signed; a serial seen before is refused. */
enum kr_err
ca_rootstate_record_issued(struct ca_rootstate *rs, X509 *cert,
    struct kr_error *err)
{
	char path[PATH_MAX], *hex = NULL, *data;
	BIO *b = NULL;
	long n;
	enum kr_err rc;

	if ((rc = issued_path(rs, X509_get0_serialNumber(cert), path,
	    sizeof(path), &hex, err)) != KR_OK)
		goto out;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(b, cert) != 1 ||
	    (n = BIO_get_mem_data(b, &data)) <= 0) {
		rc = kr_fail(err, KR_E_NOMEM, "%s: cannot encode", path);
		goto out;
	}
	rc = kr_file_write(path, data, (size_t)n, 0644, 0, err);
	if (rc == KR_E_EXISTS)
		rc = kr_fail(err, KR_E_STATE, "serial %s was issued before "
		    "(%s); a serial is never reused", hex, path);
out:
	free(hex);
	BIO_free(b);
	return rc;
}

/* 1 if issued/<serial>.pem exists. */
int
ca_rootstate_was_issued(struct ca_rootstate *rs, const ASN1_INTEGER *serial)
{
	char path[PATH_MAX], *hex = NULL;
	int r = 0;

	if (issued_path(rs, serial, path, sizeof(path), &hex, NULL) == KR_OK)
		r = access(path, F_OK) == 0;
	free(hex);
	return r;
}

/* One parsed line of the revoked file. */
struct rs_line {
	char		serial[41];
	int		reason;
	long long	when;
};

/*
 * Parse "serialhex reason unixtime" (single spaces; lower-case hex of a
 * positive serial up to 20 octets in whole octets, no leading zero
 * octet; reason -1..10 but not 7).
 */
static int
parse_line(const char *s, size_t len, struct rs_line *l)
{
	char buf[128], *sp1, *sp2, *end;
	long r;
	long long t;
	size_t i;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((sp1 = strchr(buf, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL)
		return -1;
	*sp1 = *sp2 = '\0';
	if (sp1 == buf || (size_t)(sp1 - buf) > 40)
		return -1;
	for (i = 0; buf[i] != '\0'; i++)
		if (!isdigit((unsigned char)buf[i]) &&
		    (buf[i] < 'a' || buf[i] > 'f'))
			return -1;
	/* Whole octets as BN_bn2hex writes them ("0a..."), minimal. */
	if ((sp1 - buf) % 2 != 0 || (buf[0] == '0' && buf[1] == '0'))
		return -1;
	errno = 0;
	r = strtol(sp1 + 1, &end, 10);
	if (sp1[1] == '\0' || *end != '\0' || errno != 0 || r < -1 || r > 10 ||
	    r == 7)
		return -1;
	if (!isdigit((unsigned char)sp2[1]))
		return -1;
	errno = 0;
	t = strtoll(sp2 + 1, &end, 10);
	if (*end != '\0' || errno != 0)
		return -1;
	memcpy(l->serial, buf, (size_t)(sp1 - buf) + 1);
	l->reason = (int)r;
	l->when = t;
	return 0;
}

/*
 * Read the revoked file into lines (*n of them); a missing file is no
 * revocations.  *text gets the raw file for rewriting (may be NULL).
 */
static enum kr_err
read_revoked(struct ca_rootstate *rs, struct rs_line **lines, size_t *n,
    uint8_t **text, size_t *textlen, struct kr_error *err)
{
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	struct rs_line *ls = NULL, *nl;
	size_t len = 0, cnt = 0, cap = 0, off, e, lineno = 0;
	enum kr_err rc;

	*lines = NULL;
	*n = 0;
	*text = NULL;
	*textlen = 0;
	if ((rc = rs_path(rs, "revoked", path, sizeof(path), err)) != KR_OK)
		goto out;
	rc = kr_file_read(path, RS_MAX_FILE, &buf, &len, err);
	if (rc == KR_E_NOTFOUND) {
		rc = KR_OK;
		goto out;
	}
	if (rc != KR_OK)
		goto out;
	if (len > 0 && buf[len - 1] != '\n') {
		rc = kr_fail(err, KR_E_STATE, "%s: the last line is not "
		    "complete; the file is damaged", path);
		goto out;
	}
	for (off = 0; off < len; off = e + 1) {
		lineno++;
		for (e = off; buf[e] != '\n'; e++)
			;
		if (cnt == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nl = reallocarray(ls, cap, sizeof(*ls))) == NULL) {
				rc = kr_fail(err, KR_E_NOMEM, "out of memory");
				goto out;
			}
			ls = nl;
		}
		if (parse_line((const char *)buf + off, e - off,
		    &ls[cnt]) != 0) {
			rc = kr_fail(err, KR_E_STATE, "%s: line %zu: expected "
			    "\"SERIALHEX REASON UNIXTIME\"; the file is "
			    "damaged", path, lineno);
			goto out;
		}
		cnt++;
	}
	*lines = ls;
	*n = cnt;
	*text = buf;
	*textlen = len;
	ls = NULL;
	buf = NULL;
	rc = KR_OK;
out:
	free(ls);
	free(buf);
	return rc;
}

/*
 * Record a revocation.  A serial revoked before keeps its first record
 * (reason and time) and this returns KR_OK.  The whole file is
 * rewritten atomically with the new line appended.
 */
enum kr_err
ca_rootstate_revoke(struct ca_rootstate *rs, const ASN1_INTEGER *serial,
    int reason, time_t when, struct kr_error *err)
{
	char path[PATH_MAX], *hex = NULL, line[128];
	struct rs_line *ls = NULL;
	uint8_t *text = NULL, *nt = NULL;
	size_t n = 0, len = 0, i;
	int ll;
	enum kr_err rc;

	if (reason < -1 || reason > 10 || reason == 7) {
		rc = kr_fail(err, KR_E_USAGE, "%d is not a CRL reason code",
		    reason);
		goto out;
	}
	if ((rc = issued_path(rs, serial, path, sizeof(path), &hex, err)) !=
	    KR_OK)
		goto out;
	if (strlen(hex) > 40) {
		rc = kr_fail(err, KR_E_USAGE, "serial %s is longer than 20 "
		    "octets", hex);
		goto out;
	}
	if ((rc = read_revoked(rs, &ls, &n, &text, &len, err)) != KR_OK)
		goto out;
	for (i = 0; i < n; i++)
		if (strcmp(ls[i].serial, hex) == 0) {
			rc = KR_OK;
			goto out;
		}
	ll = snprintf(line, sizeof(line), "%s %d %lld\n", hex, reason,
	    (long long)when);
	if (ll <= 0 || (size_t)ll >= sizeof(line)) {
		rc = kr_fail(err, KR_E_INTERNAL, "revocation line too long");
		goto out;
	}
	if ((nt = malloc(len + (size_t)ll)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (len > 0)
		memcpy(nt, text, len);
	memcpy(nt + len, line, (size_t)ll);
	if ((rc = rs_path(rs, "revoked", path, sizeof(path), err)) != KR_OK)
		goto out;
	rc = kr_file_write(path, nt, len + (size_t)ll, 0644, 1, err);
out:
	free(hex);
	free(ls);
	free(text);
	free(nt);
	return rc;
}

/* Every revocation on record, in the order they were made. */
enum kr_err
ca_rootstate_revoked(struct ca_rootstate *rs, struct ca_revoked **out,
    size_t *nout, struct kr_error *err)
{
	struct rs_line *ls = NULL;
	struct ca_revoked *rv = NULL;
	uint8_t *text = NULL;
	size_t n = 0, len = 0, i;
	BIGNUM *bn = NULL;
	enum kr_err rc;

	*out = NULL;
	*nout = 0;
	if ((rc = read_revoked(rs, &ls, &n, &text, &len, err)) != KR_OK)
		goto out;
	if (n == 0) {
		rc = KR_OK;
		goto out;
	}
	if ((rv = calloc(n, sizeof(*rv))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (BN_hex2bn(&bn, ls[i].serial) == 0 ||
		    (rv[i].serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		rv[i].reason = ls[i].reason;
		rv[i].when = (time_t)ls[i].when;
	}
	*out = rv;
	*nout = n;
	rv = NULL;
	rc = KR_OK;
out:
	ca_revoked_free(rv, n);
	BN_free(bn);
	free(ls);
	free(text);
	return rc;
}

int
ca_issued_by(X509 *cert, X509 *ca)
{
	int ok;

	ok = X509_check_issued(ca, cert) == X509_V_OK &&
	    X509_verify(cert, X509_get0_pubkey(ca)) == 1;
	ERR_clear_error();
	return ok;
}

enum kr_err
ca_rootstate_crl(struct ca_rootstate *rs, X509 *ca, const struct ca_signer *s,
    X509 *const *certs, const int *reasons, size_t n, long long next_update,
    time_t now, void (*reserved)(void), X509_CRL **out, ASN1_INTEGER **number,
    size_t *nrevoked, struct kr_error *err)
{
	struct ca_revoked *rev = NULL;
	X509_CRL *tbs = NULL;
	size_t nrev = 0, i;
	enum kr_err rc;

	*out = NULL;
	*number = NULL;
	for (i = 0; i < n; i++)
		if (!ca_issued_by(certs[i], ca))
			return kr_fail(err, KR_E_USAGE, "certificate %zu to "
			    "revoke was not issued by this root", i + 1);
	for (i = 0; i < n; i++)
		if ((rc = ca_rootstate_revoke(rs,
		    X509_get0_serialNumber(certs[i]),
		    reasons != NULL ? reasons[i] : -1, now, err)) != KR_OK)
			return rc;
	if ((rc = ca_rootstate_revoked(rs, &rev, &nrev, err)) != KR_OK ||
	    (rc = ca_rootstate_next_crlnumber(rs, number, err)) != KR_OK)
		goto out;
	if (reserved != NULL)
		reserved();
	if ((rc = ca_crl_build(ca, rev, nrev, *number, next_update, now, &tbs,
	    err)) != KR_OK ||
	    (rc = ca_sign_crl(tbs, s, ca, now, out, err)) != KR_OK)
		goto out;
	*nrevoked = nrev;
out:
	if (rc != KR_OK) {
		ASN1_INTEGER_free(*number);
		*number = NULL;
	}
	ca_revoked_free(rev, nrev);
	X509_CRL_free(tbs);
	return rc;
}
