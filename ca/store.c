/*
 * store.c: the online signer's issuance store (see store.h and
 * docs/formats-store.md).  One SQLite database in WAL mode with
 * synchronous=FULL, so every COMMIT has reached the disk when it
 * returns; every statement is prepared once at open with bound
 * parameters only; every change that spans statements runs inside
 * BEGIN IMMEDIATE.  The schema itself guards the invariants the crash
 * guarantees rest on (a serial is never freed, the CRL number never goes
 * down, a certificate only moves pending -> valid -> revoked or pending
 * -> abandoned), so a bug here or a hand edit cannot quietly break them.
 */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <jansson.h>
#include <sqlite3.h>

#include "../common/der.h"
#include "../common/file.h"
#include "store.h"

/* 'KRST' in the database header, so a foreign database is refused. */
#define ST_APPLICATION_ID	1263686484
/* Times are checked to lie within [0, 9999-12-31T23:59:59Z]. */
#define ST_TIME_MAX		253402300799LL
/* Longest serial: 20 octets (RFC 5280 4.1.2.2). */
#define ST_SERIAL_OCTETS	20
#define ST_KID_MAX		128

/*
 * The schema, version 1.  Run once, in the transaction that creates the
 * store; it holds no data from outside.
 */
static const char schema_v1[] =
    "CREATE TABLE meta ("
    " name TEXT PRIMARY KEY,"
    " value INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE serials ("
    " issuer_kid TEXT NOT NULL,"
    " serial TEXT NOT NULL,"
    " reserved_at INTEGER NOT NULL,"
    " PRIMARY KEY (issuer_kid, serial)"
    ") WITHOUT ROWID;"
    "CREATE TABLE certs ("
    " id INTEGER PRIMARY KEY,"
    " issuer_kid TEXT NOT NULL CHECK (length(issuer_kid) BETWEEN 2 AND 128"
    "  AND issuer_kid NOT GLOB '*[^0-9a-f]*'),"
    " serial TEXT NOT NULL CHECK (length(serial) BETWEEN 1 AND 40"
    "  AND serial NOT GLOB '*[^0-9a-f]*'),"
    " subject TEXT NOT NULL,"
    " sans TEXT NOT NULL DEFAULT '[]'"
    "  CHECK (sans GLOB '[[]*]'),"
    " not_before INTEGER NOT NULL,"
    " not_after INTEGER NOT NULL CHECK (not_after >= not_before),"
    " provisioner TEXT NOT NULL CHECK (provisioner <> ''),"
    " status TEXT NOT NULL"
    "  CHECK (status IN ('pending', 'valid', 'revoked', 'abandoned')),"
    " created_at INTEGER NOT NULL,"
    " revoked_at INTEGER,"
    " reason INTEGER,"
    " tbs BLOB NOT NULL,"
    " der BLOB,"
    " CHECK ((der IS NOT NULL) = (status IN ('valid', 'revoked'))),"
    " CHECK ((revoked_at IS NOT NULL) = (status = 'revoked')),"
    " CHECK (reason IS NULL OR status = 'revoked'),"
    " FOREIGN KEY (issuer_kid, serial) REFERENCES serials (issuer_kid, serial)"
    ");"
    "CREATE UNIQUE INDEX certs_issuer_serial ON certs (issuer_kid, serial);"
    "CREATE INDEX certs_serial ON certs (serial);"
    "CREATE INDEX certs_status_not_after ON certs (status, not_after);"
    "CREATE TABLE jtis ("
    " provisioner TEXT NOT NULL,"
    " jti TEXT NOT NULL,"
    " exp INTEGER NOT NULL,"
    " used_at INTEGER NOT NULL,"
    " PRIMARY KEY (provisioner, jti)"
    ") WITHOUT ROWID;"
    "CREATE INDEX jtis_exp ON jtis (exp);"
    "CREATE TRIGGER serials_keep BEFORE DELETE ON serials BEGIN"
    " SELECT RAISE(ABORT, 'a reserved serial is never freed'); END;"
    "CREATE TRIGGER serials_fixed BEFORE UPDATE ON serials BEGIN"
    " SELECT RAISE(ABORT, 'a reserved serial never changes'); END;"
    "CREATE TRIGGER meta_crl_up BEFORE UPDATE ON meta"
    " WHEN OLD.name = 'crl_number' AND NEW.value < OLD.value BEGIN"
    " SELECT RAISE(ABORT, 'the CRL number never goes down'); END;"
    "CREATE TRIGGER meta_keep BEFORE DELETE ON meta BEGIN"
    " SELECT RAISE(ABORT, 'meta rows are never deleted'); END;"
    "CREATE TRIGGER certs_moves BEFORE UPDATE ON certs"
    " WHEN NOT ((OLD.status = 'pending' AND NEW.status = 'valid')"
    "  OR (OLD.status = 'pending' AND NEW.status = 'abandoned')"
    "  OR (OLD.status = 'valid' AND NEW.status = 'revoked'))"
    "  OR NEW.id IS NOT OLD.id OR NEW.issuer_kid IS NOT OLD.issuer_kid"
    "  OR NEW.serial IS NOT OLD.serial OR NEW.tbs IS NOT OLD.tbs"
    "  OR NEW.not_before IS NOT OLD.not_before"
    "  OR NEW.not_after IS NOT OLD.not_after"
    "  OR (OLD.der IS NOT NULL AND NEW.der IS NOT OLD.der) BEGIN"
    " SELECT RAISE(ABORT, 'not a permitted change of a certificate'); END;"
    "INSERT INTO meta (name, value) VALUES ('schema_version', 1),"
    " ('crl_number', 0);"
    "PRAGMA application_id = 1263686484;";

/*
 * Version 2 adds ACME's objects (ca/acme.h, docs/formats-store.md):
 * run on a new store after schema_v1, and on a version 1 store when it
 * is first opened by a keyrite that knows version 2.
 */
static const char schema_v2[] =
    "CREATE TABLE acme_nonces ("
    " nonce TEXT PRIMARY KEY,"
    " exp INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX acme_nonces_exp ON acme_nonces (exp);"
    "CREATE TABLE acme_accounts ("
    " id TEXT PRIMARY KEY,"
    " prov TEXT NOT NULL CHECK (prov <> ''),"
    " thumb TEXT NOT NULL UNIQUE,"
    " jwk TEXT NOT NULL,"
    " contact TEXT NOT NULL DEFAULT '[]',"
    " status TEXT NOT NULL CHECK (status IN ('valid', 'deactivated',"
    "  'revoked')),"
    " eab_kid TEXT,"
    " created_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE acme_orders ("
    " id TEXT PRIMARY KEY,"
    " account TEXT NOT NULL REFERENCES acme_accounts (id),"
    " prov TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('pending', 'ready',"
    "  'processing', 'valid', 'invalid')),"
    " expires INTEGER NOT NULL,"
    " not_before INTEGER NOT NULL DEFAULT 0,"
    " not_after INTEGER NOT NULL DEFAULT 0,"
    " identifiers TEXT NOT NULL,"
    " error TEXT,"
    " serial TEXT,"
    " created_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX acme_orders_account ON acme_orders (account);"
    "CREATE INDEX acme_orders_serial ON acme_orders (serial);"
    "CREATE INDEX acme_orders_expires ON acme_orders (expires);"
    "CREATE TABLE acme_authzs ("
    " id TEXT PRIMARY KEY,"
    " order_id TEXT NOT NULL REFERENCES acme_orders (id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL,"
    " account TEXT NOT NULL,"
    " type TEXT NOT NULL CHECK (type IN ('dns', 'ip')),"
    " value TEXT NOT NULL,"
    " wildcard INTEGER NOT NULL DEFAULT 0,"
    " status TEXT NOT NULL CHECK (status IN ('pending', 'valid', 'invalid',"
    "  'deactivated')),"
    " expires INTEGER NOT NULL,"
    " token TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX acme_authzs_order ON acme_authzs (order_id);"
    "CREATE TABLE acme_challs ("
    " id TEXT PRIMARY KEY,"
    " authz_id TEXT NOT NULL REFERENCES acme_authzs (id) ON DELETE CASCADE,"
    " type TEXT NOT NULL CHECK (type IN ('http-01', 'tls-alpn-01',"
    "  'dns-01')),"
    " status TEXT NOT NULL CHECK (status IN ('pending', 'processing',"
    "  'valid', 'invalid')),"
    " validated INTEGER NOT NULL DEFAULT 0,"
    " error TEXT"
    ") WITHOUT ROWID;"
    "CREATE INDEX acme_challs_authz ON acme_challs (authz_id);"
    "CREATE TABLE acme_eab ("
    " kid TEXT PRIMARY KEY,"
    " prov TEXT NOT NULL,"
    " hkey BLOB NOT NULL CHECK (length(hkey) = 32),"
    " account TEXT,"
    " created_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "UPDATE meta SET value = 2 WHERE name = 'schema_version';";

/*
 * Version 3 changes the certificates' indexes so that issuing one
 * writes fewer pages (docs/formats-store.md, "Indexes"):
 *   - one unique index (serial, issuer_kid) serves lookups by serial
 *     with or without the issuer, where two did;
 *   - (not_after) serves the tidy and the count of all, a partial index
 *     of the revoked the CRL, and one of the pending and abandoned (few,
 *     and at the end of the table) the rest of the counts, so that
 *     committing a reservation moves no entry of a large index, where
 *     (status, not_after) moved one.
 * In bench/signer.sh the log written a certificate went from about 55
 * to 46 KB.  IF [NOT] EXISTS: a store whose indexes were changed by hand
 * still upgrades.
 */
static const char schema_v3[] =
    "DROP INDEX IF EXISTS certs_issuer_serial;"
    "DROP INDEX IF EXISTS certs_serial;"
    "DROP INDEX IF EXISTS certs_status_not_after;"
    "CREATE UNIQUE INDEX IF NOT EXISTS certs_serial_issuer"
    " ON certs (serial, issuer_kid);"
    "CREATE INDEX IF NOT EXISTS certs_not_after ON certs (not_after);"
    "CREATE INDEX IF NOT EXISTS certs_revoked"
    " ON certs (issuer_kid, not_after, status) WHERE status = 'revoked';"
    "CREATE INDEX IF NOT EXISTS certs_unsettled ON certs (status)"
    " WHERE status IN ('pending', 'abandoned');"
    "UPDATE meta SET value = 3 WHERE name = 'schema_version';";

/* schema_upgrade[v] takes a store from version v to v + 1. */
static const char *const schema_upgrade[CA_STORE_SCHEMA_VERSION] = {
	[1] = schema_v2,	/* ACME's tables */
	[2] = schema_v3,	/* the certificates' indexes */
};

/* The columns of a record, in the order row_to_rec reads them. */
#define REC_COLS "id, issuer_kid, serial, subject, sans, not_before, " \
    "not_after, provisioner, status, created_at, revoked_at, reason"

enum sid {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_SAVEPOINT,
	S_RELEASE,
	S_ROLLBACK_TO,
	S_SERIAL_INS,
	S_CERT_INS,
	S_CERT_BY_ID,
	S_CERT_COMMIT,
	S_CERT_ABANDON,
	S_FIND,
	S_CERT_REVOKE,
	S_GET,
	S_LIST,
	S_CRL,
	S_CRL_NEXT,
	S_CRL_RAISE,
	S_JTI_INS,
	S_TIDY_JTIS,
	S_TIDY_CERTS,
	S_META,
	S_COUNTS,
	S_COUNT_SERIALS,
	S_COUNT_JTIS,
	S_PENDING_TBS,
	S_NSTMT
};

static const char *const stmt_sql[S_NSTMT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SAVEPOINT] = "SAVEPOINT op",
	[S_RELEASE] = "RELEASE op",
	[S_ROLLBACK_TO] = "ROLLBACK TO op",
	[S_SERIAL_INS] = "INSERT INTO serials (issuer_kid, serial, "
	    "reserved_at) VALUES (?1, ?2, ?3)",
	[S_CERT_INS] = "INSERT INTO certs (issuer_kid, serial, subject, sans, "
	    "not_before, not_after, provisioner, status, created_at, tbs) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9)",
	[S_CERT_BY_ID] = "SELECT issuer_kid, serial, not_before, not_after, "
	    "status FROM certs WHERE id = ?1",
	[S_CERT_COMMIT] = "UPDATE certs SET status = 'valid', der = ?2 "
	    "WHERE id = ?1 AND status = 'pending'",
	[S_CERT_ABANDON] = "UPDATE certs SET status = 'abandoned' "
	    "WHERE id = ?1 AND status = 'pending'",
	[S_FIND] = "SELECT id, status FROM certs WHERE serial = ?1 AND "
	    "(?2 IS NULL OR issuer_kid = ?2) LIMIT 2",
	[S_CERT_REVOKE] = "UPDATE certs SET status = 'revoked', "
	    "revoked_at = ?2, reason = ?3 WHERE id = ?1 AND status = 'valid'",
	[S_GET] = "SELECT " REC_COLS ", tbs, der FROM certs WHERE id = ?1",
	[S_LIST] = "SELECT " REC_COLS ", NULL, CASE WHEN ?6 THEN der END "
	    "FROM certs WHERE (?1 IS NULL OR issuer_kid = ?1) "
	    "AND (?2 = 0 OR (?2 & CASE status WHEN 'pending' THEN 1 "
	    "WHEN 'valid' THEN 2 WHEN 'revoked' THEN 4 WHEN 'abandoned' "
	    "THEN 8 ELSE 0 END) <> 0) "
	    "AND (?3 IS NULL OR (not_after >= ?4 AND not_after <= ?3)) "
	    "AND id > ?5 ORDER BY id LIMIT ?7",
	[S_CRL] = "SELECT serial, revoked_at, reason FROM certs "
	    "WHERE status = 'revoked' AND issuer_kid = ?1 AND not_after >= ?2 "
	    "ORDER BY length(serial), serial",
	[S_CRL_NEXT] = "UPDATE meta SET value = value + 1 "
	    "WHERE name = 'crl_number' AND value < 9223372036854775807 "
	    "RETURNING value",
	[S_CRL_RAISE] = "UPDATE meta SET value = max(value, ?1) "
	    "WHERE name = 'crl_number'",
	[S_JTI_INS] = "INSERT INTO jtis (provisioner, jti, exp, used_at) "
	    "VALUES (?1, ?2, ?3, ?4)",
	[S_TIDY_JTIS] = "DELETE FROM jtis WHERE exp < ?1",
	[S_TIDY_CERTS] = "DELETE FROM certs WHERE status <> 'pending' "
	    "AND not_after < ?1",
	[S_META] = "SELECT name, value FROM meta",
	/*
	 * All (through the narrowest index), revoked, pending, abandoned:
	 * each from an index, never the table (/metrics asks each scrape).
	 */
	[S_COUNTS] = "SELECT (SELECT count(*) FROM certs), "
	    "(SELECT count(*) FROM certs WHERE status = 'revoked'), "
	    "(SELECT count(*) FROM certs WHERE status IN ('pending', "
	    "'abandoned') AND status = 'pending'), "
	    "(SELECT count(*) FROM certs WHERE status IN ('pending', "
	    "'abandoned') AND status = 'abandoned')",
	[S_COUNT_SERIALS] = "SELECT count(*) FROM serials",
	[S_COUNT_JTIS] = "SELECT count(*) FROM jtis",
	[S_PENDING_TBS] = "SELECT tbs FROM certs WHERE id = ?3 AND "
	    "issuer_kid = ?1 AND serial = ?2 AND status = 'pending'",
};

struct ca_store {
	sqlite3		*db;
	sqlite3_stmt	*stmt[S_NSTMT];
	char		*path;
	int		 batch;		/* inside a group transaction */
};

static const struct {
	enum ca_store_status	 st;
	const char		*name;
} status_names[] = {
	{ CA_STORE_PENDING, "pending" },
	{ CA_STORE_VALID, "valid" },
	{ CA_STORE_REVOKED, "revoked" },
	{ CA_STORE_ABANDONED, "abandoned" },
};

const char *
ca_store_status_name(enum ca_store_status s)
{
	size_t i;

	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (status_names[i].st == s)
			return status_names[i].name;
	return "?";
}

/* 0 when the text is not a status (the schema makes that impossible). */
static enum ca_store_status
status_from_text(const unsigned char *t)
{
	size_t i;

	if (t == NULL)
		return 0;
	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (strcmp((const char *)t, status_names[i].name) == 0)
			return status_names[i].st;
	return 0;
}

/*
 * An SQLite result code as ours: a full disk or an I/O error is I/O; a
 * busy or damaged database, or a uniqueness or foreign key violation, is
 * state; a CHECK constraint means a caller passed a bad field; a trigger
 * firing means our own code tried a forbidden change.
 */
static enum kr_err
map_sqlite(int src)
{
	switch (src) {
	case SQLITE_CONSTRAINT_CHECK:
	case SQLITE_CONSTRAINT_NOTNULL:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
		return KR_E_USAGE;
	case SQLITE_CONSTRAINT_TRIGGER:
		return KR_E_INTERNAL;
	}
	switch (src & 0xff) {
	case SQLITE_NOMEM:
		return KR_E_NOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_SCHEMA:
	case SQLITE_CONSTRAINT:
		return KR_E_STATE;
	case SQLITE_MISUSE:
	case SQLITE_INTERNAL:
		return KR_E_INTERNAL;
	default:
		return KR_E_IO;
	}
}

/*
 * Fail with "PATH: what: sqlite's message", the code chosen from src.
 */
static enum kr_err db_fail(struct ca_store *, int src, struct kr_error *,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum kr_err
db_fail(struct ca_store *st, int src, struct kr_error *err, const char *fmt,
    ...)
{
	char what[512];
	va_list ap;
	enum kr_err code = map_sqlite(src);

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if ((src & 0xff) == SQLITE_BUSY)
		return kr_fail(err, code, "%s: %s: %s; another process holds "
		    "the store for writing", st->path, what,
		    sqlite3_errmsg(st->db));
	return kr_fail(err, code, "%s: %s: %s", st->path, what,
	    sqlite3_errmsg(st->db));
}

/* Ready a cached statement for a new use: reset, no bindings. */
static sqlite3_stmt *
stmt(struct ca_store *st, enum sid id)
{
	sqlite3_stmt *s = st->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Release a statement's read or write hold without waiting for reuse. */
static void
stmt_done(struct ca_store *st, enum sid id)
{
	sqlite3_reset(st->stmt[id]);
	sqlite3_clear_bindings(st->stmt[id]);
}

/* Run a statement that returns no rows (BEGIN, COMMIT, ROLLBACK). */
static int
step_once(struct ca_store *st, enum sid id)
{
	int src = sqlite3_step(stmt(st, id));

	stmt_done(st, id);
	return src == SQLITE_DONE || src == SQLITE_ROW ? SQLITE_OK : src;
}

/*
 * Begin a transaction, or, inside a group's transaction, a savepoint
 * that tx_end releases or rolls back alone.
 */
static enum kr_err
tx_begin(struct ca_store *st, struct kr_error *err)
{
	int src;

	if (st->batch)
		src = step_once(st, S_SAVEPOINT);
	else
		src = step_once(st, S_BEGIN);
	if (src != SQLITE_OK)
		return db_fail(st, src, err, "cannot begin a transaction");
	return KR_OK;
}

/*
 * End the transaction begun by tx_begin: commit when rc is KR_OK (the
 * commit is durable when this returns KR_OK), else roll back.  Returns
 * the resulting code.
 */
static enum kr_err
tx_end(struct ca_store *st, enum kr_err rc, struct kr_error *err)
{
	int src;

	if (st->batch) {
		if (rc != KR_OK)
			(void)step_once(st, S_ROLLBACK_TO);
		if ((src = step_once(st, S_RELEASE)) != SQLITE_OK &&
		    rc == KR_OK)
			rc = db_fail(st, src, err, "cannot release");
		return rc;
	}
	if (rc == KR_OK) {
		if ((src = step_once(st, S_COMMIT)) == SQLITE_OK)
			return KR_OK;
		rc = db_fail(st, src, err, "cannot commit");
	}
	if (!sqlite3_get_autocommit(st->db))
		(void)step_once(st, S_ROLLBACK);
	return rc;
}

/*
 * Canonical lower-case hex of a positive serial of at most 20 octets,
 * exactly as ca_serial_hex writes it, so "0A1B", "a1b" and "0a1b" are
 * the same serial.  malloc'd into *out.
 */
static enum kr_err
canon_serial(const char *in, char **out, struct kr_error *err)
{
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;
	size_t i, len;
	enum kr_err rc;

	*out = NULL;
	len = in != NULL ? strlen(in) : 0;
	for (i = 0; i < len; i++)
		if (strchr("0123456789abcdefABCDEF", in[i]) == NULL)
			break;
	if (len == 0 || i != len || len > 2 * ST_SERIAL_OCTETS + 8) {
		rc = kr_fail(err, KR_E_USAGE, "serial \"%.64s\": not a "
		    "hexadecimal number", in != NULL ? in : "");
		goto out;
	}
	if (BN_hex2bn(&bn, in) != (int)len) {
		rc = kr_fail_ossl(err, KR_E_NOMEM, "serial %s", in);
		goto out;
	}
	if (BN_is_zero(bn) || BN_num_bytes(bn) > ST_SERIAL_OCTETS) {
		rc = kr_fail(err, KR_E_USAGE, "serial %s: must be positive and "
		    "at most %d octets", in, ST_SERIAL_OCTETS);
		goto out;
	}
	if ((ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    (*out = ca_serial_hex(ai)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	rc = KR_OK;
out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return rc;
}

/* An issuer key id: even-length hex, folded to lower case into out. */
static enum kr_err
canon_kid(const char *in, char out[ST_KID_MAX + 1], struct kr_error *err)
{
	size_t i, len;

	len = in != NULL ? strlen(in) : 0;
	for (i = 0; i < len && i < ST_KID_MAX; i++) {
		if (strchr("0123456789abcdefABCDEF", in[i]) == NULL)
			break;
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'F' ?
		    in[i] - 'A' + 'a' : in[i]);
	}
	out[i] = '\0';
	if (len < 2 || len > ST_KID_MAX || i != len || len % 2 != 0)
		return kr_fail(err, KR_E_USAGE, "issuer key id \"%.64s\": "
		    "not 1 to %d octets of hexadecimal", in != NULL ? in : "",
		    ST_KID_MAX / 2);
	return KR_OK;
}

static int
time_ok(long long t)
{
	return t >= 0 && t <= ST_TIME_MAX;
}

/* A required text field: present and not absurdly long. */
static enum kr_err
check_text(const char *what, const char *s, int may_be_empty, size_t max,
    struct kr_error *err)
{
	size_t len;

	if (s == NULL)
		return kr_fail(err, KR_E_USAGE, "%s is missing", what);
	len = strlen(s);
	if (len == 0 && !may_be_empty)
		return kr_fail(err, KR_E_USAGE, "%s is empty", what);
	if (len > max)
		return kr_fail(err, KR_E_USAGE, "%s is longer than %zu bytes",
		    what, max);
	return KR_OK;
}

/*
 * SANs: a JSON array of strings.  Checked here rather than with SQLite's
 * json_valid() in a CHECK constraint, which trusted_schema=OFF forbids.
 */
static enum kr_err
check_sans(const char *serial, const char *sans, struct kr_error *err)
{
	json_error_t jerr;
	json_t *a, *v;
	size_t i;
	enum kr_err rc;

	if ((rc = check_text("SANs", sans, 0, CA_STORE_MAX_SANS, err)) !=
	    KR_OK)
		return rc;
	if ((a = json_loads(sans, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    !json_is_array(a)) {
		json_decref(a);
		return kr_fail(err, KR_E_USAGE, "serial %s: SANs are not a "
		    "JSON array", serial);
	}
	json_array_foreach(a, i, v) {
		if (!json_is_string(v)) {
			json_decref(a);
			return kr_fail(err, KR_E_USAGE, "serial %s: SAN %zu is "
			    "not a string", serial, i + 1);
		}
	}
	json_decref(a);
	return KR_OK;
}

/*
 * Read the connection's answer to a constant PRAGMA as text into buf
 * (empty when it returns no row).
 */
static int
pragma_text(sqlite3 *db, const char *sql, char *buf, size_t sz)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *t;
	int src;

	buf[0] = '\0';
	if ((src = sqlite3_prepare_v2(db, sql, -1, &s, NULL)) != SQLITE_OK)
		return src;
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		if ((t = sqlite3_column_text(s, 0)) != NULL)
			snprintf(buf, sz, "%s", (const char *)t);
		src = SQLITE_OK;
	} else if (src == SQLITE_DONE)
		src = SQLITE_OK;
	sqlite3_finalize(s);
	return src;
}

/*
 * Make the file: created with O_EXCL and mode 0600 when missing; an
 * existing one must be a regular file nobody else may write (the CRL
 * number and the serial ledger live in it).  The descriptor is closed
 * before SQLite opens the file, as closing any descriptor of a file
 * drops every POSIX lock this process holds on it.
 */
static enum kr_err
prepare_file(const char *path, struct kr_error *err)
{
	struct stat sb;
	int fd, created = 1;
	enum kr_err rc;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 && errno == EEXIST) {
		created = 0;
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd == -1)
		return kr_fail(err, errno == ENOENT ? KR_E_NOTFOUND :
		    errno == ELOOP ? KR_E_STATE : KR_E_IO, "%s: %s%s", path,
		    strerror(errno), errno == ELOOP ? " (a symbolic link is "
		    "refused)" : "");
	if (fstat(fd, &sb) == -1) {
		rc = kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = kr_fail(err, KR_E_STATE, "%s: not a regular file", path);
		goto out;
	}
	if (created && fchmod(fd, 0600) == -1) {
		rc = kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!created && (sb.st_mode & 022) != 0) {
		rc = kr_fail(err, KR_E_STATE, "%s: mode %03o lets others "
		    "write the issuance store; chmod 600 it", path,
		    (unsigned)(sb.st_mode & 0777));
		goto out;
	}
	rc = KR_OK;
out:
	close(fd);
	if (rc != KR_OK && created)
		unlink(path);
	return rc;
}

/*
 * Create the schema in an empty database, or check the one there: our
 * application id and a schema version we understand.  Runs inside
 * BEGIN IMMEDIATE so two first opens cannot both create it.
 */
static enum kr_err
check_schema(struct ca_store *st, int upgrade, int64_t *older,
    struct kr_error *err)
{
	sqlite3_stmt *s = NULL;
	char buf[32];
	long long appid, nobj, ver = -1;
	int src, created = 0;
	enum kr_err rc;

	if ((src = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL)) != SQLITE_OK)
		return db_fail(st, src, err, "cannot begin a transaction");
	if ((src = pragma_text(st->db, "PRAGMA application_id", buf,
	    sizeof(buf))) != SQLITE_OK ||
	    (src = sqlite3_prepare_v2(st->db, "SELECT count(*) FROM "
	    "sqlite_schema", -1, &s, NULL)) != SQLITE_OK ||
	    (src = sqlite3_step(s)) != SQLITE_ROW) {
		rc = db_fail(st, src, err, "cannot read the schema");
		goto out;
	}
	nobj = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	appid = strtoll(buf, NULL, 10);
	if (appid == 0 && nobj == 0) {
		if ((src = sqlite3_exec(st->db, schema_v1, NULL, NULL,
		    NULL)) != SQLITE_OK) {
			rc = db_fail(st, src, err, "cannot create the schema");
			goto out;
		}
		created = 1;
	} else if (appid != ST_APPLICATION_ID) {
		rc = kr_fail(err, KR_E_STATE, "%s: an SQLite database, but not "
		    "a keyrite issuance store (application id %lld)",
		    st->path, appid);
		goto out;
	}
	if ((src = sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE "
	    "name = 'schema_version'", -1, &s, NULL)) != SQLITE_OK) {
		rc = db_fail(st, src, err, "cannot read the schema version");
		goto out;
	}
	if ((src = sqlite3_step(s)) == SQLITE_ROW)
		ver = sqlite3_column_int64(s, 0);
	else if (src != SQLITE_DONE) {
		rc = db_fail(st, src, err, "cannot read the schema version");
		goto out;
	}
	/* Done with it: an open statement would lock the tables dropped. */
	sqlite3_finalize(s);
	s = NULL;
	if (!upgrade && !created && ver >= 1 &&
	    ver < CA_STORE_SCHEMA_VERSION) {
		*older = ver;
		rc = kr_fail(err, KR_E_STATE, "%s: schema version %lld; this "
		    "keyrite uses %d and upgrades it when keyrited serve "
		    "starts", st->path, ver, CA_STORE_SCHEMA_VERSION);
		goto out;
	}
	/* Each older version (or a store just made) one step at a time. */
	for (; ver >= 1 && ver < CA_STORE_SCHEMA_VERSION; ver++)
		if ((src = sqlite3_exec(st->db, schema_upgrade[ver], NULL,
		    NULL, NULL)) != SQLITE_OK) {
			rc = db_fail(st, src, err, "cannot upgrade the schema "
			    "to version %lld", ver + 1);
			goto out;
		}
	if (ver > CA_STORE_SCHEMA_VERSION) {
		rc = kr_fail(err, KR_E_STATE, "%s: schema version %lld was "
		    "written by a newer keyrite (this one knows %d); upgrade "
		    "keyrite", st->path, ver, CA_STORE_SCHEMA_VERSION);
		goto out;
	}
	if (ver != CA_STORE_SCHEMA_VERSION) {
		rc = kr_fail(err, KR_E_STATE, "%s: schema version %lld is not "
		    "one this keyrite can read; the store is damaged",
		    st->path, ver);
		goto out;
	}
	rc = KR_OK;
out:
	sqlite3_finalize(s);
	if (rc == KR_OK && (src = sqlite3_exec(st->db, "COMMIT", NULL, NULL,
	    NULL)) != SQLITE_OK)
		rc = db_fail(st, src, err, "cannot commit the schema");
	if (!sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/*
 * Open path (see store.h).  The pragmas are set before the schema is
 * touched: journal_mode=WAL is a property of the file, synchronous=FULL
 * and foreign_keys=ON of this connection, so they are set on every
 * open.  trusted_schema=OFF keeps a tampered schema from calling
 * functions with side effects.
 */
static enum kr_err
store_open(const char *path, int upgrade, int64_t *older,
    struct ca_store **out, struct kr_error *err)
{
	struct ca_store *st = NULL;
	char mode[16];
	int src, i;
	enum kr_err rc;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return kr_fail(err, KR_E_USAGE, "no issuance store path");
	if ((rc = prepare_file(path, err)) != KR_OK)
		return rc;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(path)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	src = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE, NULL);
	if (src != SQLITE_OK) {
		rc = st->db != NULL ? db_fail(st, src, err, "cannot open") :
		    kr_fail(err, KR_E_NOMEM, "%s: out of memory", path);
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if ((src = sqlite3_busy_timeout(st->db, CA_STORE_BUSY_MS)) !=
	    SQLITE_OK ||
	    (src = sqlite3_exec(st->db, "PRAGMA trusted_schema = OFF; "
	    "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL", NULL, NULL,
	    NULL)) != SQLITE_OK) {
		rc = db_fail(st, src, err, "cannot configure the connection");
		goto out;
	}
	if ((src = pragma_text(st->db, "PRAGMA journal_mode = WAL", mode,
	    sizeof(mode))) != SQLITE_OK) {
		rc = db_fail(st, src, err, "cannot switch to WAL mode");
		goto out;
	}
	if (strcmp(mode, "wal") != 0) {
		rc = kr_fail(err, KR_E_IO, "%s: journal mode is \"%s\", not "
		    "WAL (does the file system support shared memory?)", path,
		    mode);
		goto out;
	}
	if ((rc = check_schema(st, upgrade, older, err)) != KR_OK)
		goto out;
	for (i = 0; i < S_NSTMT; i++) {
		if ((src = sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL)) !=
		    SQLITE_OK) {
			rc = db_fail(st, src, err, "cannot prepare statement "
			    "%d", i);
			goto out;
		}
	}
	*out = st;
	st = NULL;
	rc = KR_OK;
out:
	ca_store_close(st);
	return rc;
}

enum kr_err
ca_store_open(const char *path, struct ca_store **out, struct kr_error *err)
{
	int64_t older = 0;

	return store_open(path, 1, &older, out, err);
}

enum kr_err
ca_store_open_current(const char *path, struct ca_store **out,
    int64_t *older, struct kr_error *err)
{
	*older = 0;
	return store_open(path, 0, older, out, err);
}

/* Close the store; safe on NULL.  Every change was committed already. */
void
ca_store_close(struct ca_store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < S_NSTMT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

void
ca_store_rec_clear(struct ca_store_rec *r)
{
	if (r == NULL)
		return;
	free(r->mem);
	memset(r, 0, sizeof(*r));
}

void
ca_store_recs_free(struct ca_store_rec *r, size_t n)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < n; i++)
		free(r[i].mem);
	free(r);
}

/* Copy column c (text or blob) into the arena at *p; return its start. */
static const void *
take_col(sqlite3_stmt *s, int c, int text, char **p, size_t *len)
{
	const void *v;
	char *start = *p;
	int n;

	v = text ? (const void *)sqlite3_column_text(s, c) :
	    sqlite3_column_blob(s, c);
	n = sqlite3_column_bytes(s, c);
	*len = n > 0 ? (size_t)n : 0;
	if (v == NULL && !text)
		return NULL;
	if (*len > 0)
		memcpy(start, v, *len);
	*p += *len;
	if (text)
		*(*p)++ = '\0';
	return start;
}

/*
 * The current row of a REC_COLS + tbs + der statement as a record whose
 * strings and blobs share one allocation.
 */
static enum kr_err
row_to_rec(struct ca_store *st, sqlite3_stmt *s, struct ca_store_rec *r,
    struct kr_error *err)
{
	static const int texts[] = { 1, 2, 3, 4, 7 };
	size_t total = 0, len, i;
	char *p;
	int c;

	memset(r, 0, sizeof(*r));
	/* Sizes first: text conversion before bytes, as SQLite asks. */
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		(void)sqlite3_column_text(s, texts[i]);
		total += (size_t)sqlite3_column_bytes(s, texts[i]) + 1;
	}
	for (c = 12; c <= 13; c++) {
		(void)sqlite3_column_blob(s, c);
		total += (size_t)sqlite3_column_bytes(s, c);
	}
	if (sqlite3_errcode(st->db) == SQLITE_NOMEM)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	if ((r->mem = malloc(total + 1)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	p = r->mem;
	r->id = sqlite3_column_int64(s, 0);
	r->issuer_kid = take_col(s, 1, 1, &p, &len);
	r->serial = take_col(s, 2, 1, &p, &len);
	r->subject = take_col(s, 3, 1, &p, &len);
	r->sans = take_col(s, 4, 1, &p, &len);
	r->not_before = (time_t)sqlite3_column_int64(s, 5);
	r->not_after = (time_t)sqlite3_column_int64(s, 6);
	r->provisioner = take_col(s, 7, 1, &p, &len);
	r->status = status_from_text(sqlite3_column_text(s, 8));
	r->created_at = (time_t)sqlite3_column_int64(s, 9);
	r->revoked_at = sqlite3_column_type(s, 10) == SQLITE_NULL ? -1 :
	    (time_t)sqlite3_column_int64(s, 10);
	r->reason = sqlite3_column_type(s, 11) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(s, 11);
	r->tbs = take_col(s, 12, 0, &p, &r->tbs_len);
	r->der = take_col(s, 13, 0, &p, &r->der_len);
	if (r->status == 0) {
		ca_store_rec_clear(r);
		return kr_fail(err, KR_E_STATE, "%s: a certificate row has an "
		    "unknown status", st->path);
	}
	return KR_OK;
}

/*
 * Reserve a serial and record the TBS (see store.h).  Both rows go in
 * one transaction: the ledger row that keeps the serial used forever,
 * and the certificate row.
 */
enum kr_err
ca_store_reserve(struct ca_store *st, const struct ca_store_rec *rec,
    time_t now, int64_t *id, struct kr_error *err)
{
	sqlite3_stmt *s;
	char kid[ST_KID_MAX + 1], *serial = NULL;
	const char *sans;
	int src, intx = 0;
	enum kr_err rc;

	*id = 0;
	sans = rec->sans != NULL ? rec->sans : "[]";
	if ((rc = canon_kid(rec->issuer_kid, kid, err)) != KR_OK ||
	    (rc = canon_serial(rec->serial, &serial, err)) != KR_OK ||
	    (rc = check_text("subject", rec->subject, 1, CA_STORE_MAX_TEXT,
	    err)) != KR_OK ||
	    (rc = check_sans(serial, sans, err)) != KR_OK ||
	    (rc = check_text("provisioner", rec->provisioner, 0,
	    CA_STORE_MAX_TEXT, err)) != KR_OK)
		goto out;
	if (!time_ok(rec->not_before) || !time_ok(rec->not_after) ||
	    rec->not_after < rec->not_before || !time_ok(now)) {
		rc = kr_fail(err, KR_E_USAGE, "serial %s: validity %lld..%lld "
		    "is not a period between 1970 and 9999", serial,
		    (long long)rec->not_before, (long long)rec->not_after);
		goto out;
	}
	if (rec->tbs == NULL || rec->tbs_len == 0 ||
	    rec->tbs_len > CA_STORE_MAX_BLOB) {
		rc = kr_fail(err, KR_E_USAGE, "serial %s: the TBS must be 1 to "
		    "%d bytes", serial, CA_STORE_MAX_BLOB);
		goto out;
	}
	if ((rc = tx_begin(st, err)) != KR_OK)
		goto out;
	intx = 1;
	s = stmt(st, S_SERIAL_INS);
	if (sqlite3_bind_text(s, 1, kid, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 2, serial, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, (sqlite3_int64)now) != SQLITE_OK) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "serial %s",
		    serial);
		goto out;
	}
	if ((src = sqlite3_step(s)) != SQLITE_DONE) {
		if (src == SQLITE_CONSTRAINT_PRIMARYKEY)
			rc = kr_fail(err, KR_E_EXISTS, "serial %s of issuer %s "
			    "was reserved before; draw another", serial, kid);
		else
			rc = db_fail(st, src, err, "cannot reserve serial %s",
			    serial);
		goto out;
	}
	s = stmt(st, S_CERT_INS);
	if (sqlite3_bind_text(s, 1, kid, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 2, serial, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 3, rec->subject, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(s, 4, sans, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, (sqlite3_int64)rec->not_before) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(s, 6, (sqlite3_int64)rec->not_after) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(s, 7, rec->provisioner, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(s, 8, (sqlite3_int64)now) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 9, rec->tbs, (int)rec->tbs_len,
	    SQLITE_STATIC) != SQLITE_OK) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "serial %s",
		    serial);
		goto out;
	}
	if ((src = sqlite3_step(s)) != SQLITE_DONE) {
		if (src == SQLITE_CONSTRAINT_UNIQUE)
			rc = kr_fail(err, KR_E_EXISTS, "serial %s of issuer %s "
			    "is recorded already; draw another", serial, kid);
		else
			rc = db_fail(st, src, err, "cannot record serial %s",
			    serial);
		goto out;
	}
	*id = sqlite3_last_insert_rowid(st->db);
	rc = KR_OK;
out:
	if (intx) {
		stmt_done(st, S_SERIAL_INS);
		stmt_done(st, S_CERT_INS);
		rc = tx_end(st, rc, err);
	}
	if (rc != KR_OK)
		*id = 0;
	free(serial);
	return rc;
}

/* Lower-case hex of an octet string, malloc'd; NULL when out of memory. */
static char *
octets_hex(const ASN1_OCTET_STRING *o)
{
	char *h;
	int n = ASN1_STRING_length(o);

	if (n < 0 || (h = malloc(2 * (size_t)n + 1)) == NULL)
		return NULL;
	kr_hex(ASN1_STRING_get0_data(o), (size_t)n, h);
	return h;
}

/*
 * The signed certificate must be the one reserved: the same serial,
 * validity and issuer key, so a signer that mixed two requests up is
 * caught before anything is sent.  The DER is walked strictly (one
 * Certificate, every byte used) and only those fields are decoded: a
 * full parse would decode the public key too, which costs more than
 * the rest of the commit.
 */
static enum kr_err
check_der(const uint8_t *der, size_t len, const char *kid,
    const char *serial, time_t nb, time_t na, struct kr_error *err)
{
	static const uint8_t oid_aki[] = { 0x06, 0x03, 0x55, 0x1d, 0x23 };
	struct kr_der d = kr_der_of(der, len), cert, tbs, v, exts, ext;
	struct kr_der_el el, tel, oid, os;
	const unsigned char *p;
	ASN1_INTEGER *ai = NULL;
	ASN1_TIME *t = NULL;
	AUTHORITY_KEYID *akid = NULL;
	char *h = NULL;
	time_t xt[2];
	int i;
	enum kr_err rc;

	if (len == 0 || len > CA_STORE_MAX_BLOB ||
	    kr_der_get(&d, 0x30, &el) != 0 || d.n != 0)
		goto notcert;
	cert = kr_der_in(&el);
	if (kr_der_get(&cert, 0x30, &tel) != 0 ||
	    kr_der_get(&cert, 0x30, &el) != 0 ||
	    kr_der_get(&cert, 0x03, &el) != 0 || cert.n != 0)
		goto notcert;
	tbs = kr_der_in(&tel);
	if (kr_der_peek(&tbs) == 0xa0 && kr_der_get(&tbs, 0xa0, &el) != 0)
		goto notcert;
	if (kr_der_get(&tbs, 0x02, &el) != 0)
		goto notcert;
	p = el.start;
	if ((ai = d2i_ASN1_INTEGER(NULL, &p, (long)el.total)) == NULL ||
	    p != el.start + el.total)
		goto notcert;
	if ((h = ca_serial_hex(ai)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (strcmp(h, serial) != 0) {
		rc = kr_fail(err, KR_E_VERIFY, "reservation for serial %s: the "
		    "signed certificate has serial %s", serial, h);
		goto out;
	}
	if (kr_der_get(&tbs, 0x30, &el) != 0 ||		/* algorithm */
	    kr_der_get(&tbs, 0x30, &el) != 0 ||		/* issuer */
	    kr_der_get(&tbs, 0x30, &el) != 0)		/* validity */
		goto notcert;
	v = kr_der_in(&el);
	for (i = 0; i < 2; i++) {
		if (kr_der_get(&v, 0, &el) != 0)
			goto notcert;
		p = el.start;
		ASN1_TIME_free(t);
		if ((t = d2i_ASN1_TIME(NULL, &p, (long)el.total)) == NULL ||
		    p != el.start + el.total ||
		    ca_time_from_asn1(t, &xt[i]) != 0)
			goto notcert;
	}
	if (v.n != 0)
		goto notcert;
	if (xt[0] != nb || xt[1] != na) {
		rc = kr_fail(err, KR_E_VERIFY, "serial %s: the signed "
		    "certificate's validity is not the reserved one", serial);
		goto out;
	}
	if (kr_der_get(&tbs, 0x30, &el) != 0 ||		/* subject */
	    kr_der_get(&tbs, 0x30, &el) != 0)		/* key */
		goto notcert;
	while (kr_der_peek(&tbs) == 0x81 || kr_der_peek(&tbs) == 0x82)
		if (kr_der_get(&tbs, 0, &el) != 0)
			goto notcert;
	if (kr_der_peek(&tbs) == 0xa3) {
		if (kr_der_get(&tbs, 0xa3, &el) != 0)
			goto notcert;
		exts = kr_der_in(&el);
		if (kr_der_get(&exts, 0x30, &el) != 0 || exts.n != 0)
			goto notcert;
		exts = kr_der_in(&el);
		while (exts.n > 0) {
			if (kr_der_get(&exts, 0x30, &el) != 0)
				goto notcert;
			ext = kr_der_in(&el);
			if (kr_der_get(&ext, 0x06, &oid) != 0 ||
			    (kr_der_peek(&ext) == 0x01 &&
			    kr_der_get(&ext, 0x01, &os) != 0) ||
			    kr_der_get(&ext, 0x04, &os) != 0 || ext.n != 0)
				goto notcert;
			if (oid.total != sizeof(oid_aki) ||
			    memcmp(oid.start, oid_aki, sizeof(oid_aki)) != 0)
				continue;
			p = os.val;
			if (akid != NULL || (akid = d2i_AUTHORITY_KEYID(NULL, &p,
			    (long)os.len)) == NULL || p != os.val + os.len)
				goto notcert;
		}
	}
	if (tbs.n != 0)
		goto notcert;
	if (akid != NULL && akid->keyid != NULL) {
		free(h);
		if ((h = octets_hex(akid->keyid)) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		if (strcmp(h, kid) != 0) {
			rc = kr_fail(err, KR_E_VERIFY, "serial %s: reserved "
			    "for issuer %s, signed by issuer %s", serial, kid,
			    h);
			goto out;
		}
	}
	rc = KR_OK;
	goto out;
notcert:
	rc = kr_fail(err, KR_E_VERIFY, "serial %s: the DER is not one X.509 "
	    "certificate", serial);
out:
	ERR_clear_error();
	free(h);
	ASN1_INTEGER_free(ai);
	ASN1_TIME_free(t);
	AUTHORITY_KEYID_free(akid);
	return rc;
}

/*
 * Look reservation id up: its issuer, serial and validity (copied) and
 * status.  KR_E_NOTFOUND when there is none.
 */
static enum kr_err
load_by_id(struct ca_store *st, int64_t id, char kid[ST_KID_MAX + 1],
    char serial[2 * ST_SERIAL_OCTETS + 1], time_t *nb, time_t *na,
    enum ca_store_status *status, struct kr_error *err)
{
	sqlite3_stmt *s = stmt(st, S_CERT_BY_ID);
	int src;
	enum kr_err rc;

	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "id %lld",
		    (long long)id);
		goto out;
	}
	if ((src = sqlite3_step(s)) == SQLITE_DONE) {
		rc = kr_fail(err, KR_E_NOTFOUND, "%s: no reservation %lld",
		    st->path, (long long)id);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = db_fail(st, src, err, "cannot read reservation %lld",
		    (long long)id);
		goto out;
	}
	snprintf(kid, ST_KID_MAX + 1, "%s", (const char *)
	    sqlite3_column_text(s, 0));
	snprintf(serial, 2 * ST_SERIAL_OCTETS + 1, "%s", (const char *)
	    sqlite3_column_text(s, 1));
	*nb = (time_t)sqlite3_column_int64(s, 2);
	*na = (time_t)sqlite3_column_int64(s, 3);
	*status = status_from_text(sqlite3_column_text(s, 4));
	rc = KR_OK;
out:
	stmt_done(st, S_CERT_BY_ID);
	return rc;
}

/*
 * Change reservation id from pending by statement which (commit or
 * abandon), binding der when given.  The single UPDATE is its own
 * durable transaction; it only touches a pending row, so a restart that
 * abandoned the reservation meanwhile wins and this fails.
 */
static enum kr_err
leave_pending(struct ca_store *st, enum sid which, int64_t id,
    const uint8_t *der, size_t len, int *changed, struct kr_error *err)
{
	sqlite3_stmt *s = stmt(st, which);
	int src;
	enum kr_err rc;

	*changed = 0;
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
	    (der != NULL && sqlite3_bind_blob(s, 2, der, (int)len,
	    SQLITE_STATIC) != SQLITE_OK)) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "id %lld",
		    (long long)id);
		goto out;
	}
	if ((src = sqlite3_step(s)) != SQLITE_DONE) {
		rc = db_fail(st, src, err, "cannot update reservation %lld",
		    (long long)id);
		goto out;
	}
	*changed = sqlite3_changes(st->db) == 1;
	rc = KR_OK;
out:
	stmt_done(st, which);
	return rc;
}

enum kr_err
ca_store_commit(struct ca_store *st, int64_t id, const uint8_t *der,
    size_t len, struct kr_error *err)
{
	char kid[ST_KID_MAX + 1], serial[2 * ST_SERIAL_OCTETS + 1];
	enum ca_store_status status;
	time_t nb, na;
	int changed;
	enum kr_err rc;

	if (der == NULL)
		return kr_fail(err, KR_E_USAGE, "reservation %lld: no "
		    "certificate", (long long)id);
	if ((rc = load_by_id(st, id, kid, serial, &nb, &na, &status, err)) !=
	    KR_OK)
		return rc;
	if (status != CA_STORE_PENDING)
		goto notpending;
	if ((rc = check_der(der, len, kid, serial, nb, na, err)) != KR_OK)
		return rc;
	if ((rc = leave_pending(st, S_CERT_COMMIT, id, der, len, &changed,
	    err)) != KR_OK)
		return rc;
	if (changed)
		return KR_OK;
	if ((rc = load_by_id(st, id, kid, serial, &nb, &na, &status, err)) !=
	    KR_OK)
		return rc;
notpending:
	return kr_fail(err, KR_E_STATE, "serial %s (reservation %lld) is %s, "
	    "not pending; the certificate must not be sent", serial,
	    (long long)id, ca_store_status_name(status));
}

enum kr_err
ca_store_abandon(struct ca_store *st, int64_t id, struct kr_error *err)
{
	char kid[ST_KID_MAX + 1], serial[2 * ST_SERIAL_OCTETS + 1];
	enum ca_store_status status;
	time_t nb, na;
	int changed;
	enum kr_err rc;

	if ((rc = leave_pending(st, S_CERT_ABANDON, id, NULL, 0, &changed,
	    err)) != KR_OK)
		return rc;
	if (changed)
		return KR_OK;
	if ((rc = load_by_id(st, id, kid, serial, &nb, &na, &status, err)) !=
	    KR_OK)
		return rc;
	if (status == CA_STORE_ABANDONED)
		return KR_OK;
	return kr_fail(err, KR_E_STATE, "serial %s (reservation %lld) is %s; "
	    "only a pending reservation can be abandoned", serial,
	    (long long)id, ca_store_status_name(status));
}

/*
 * The row id and status of serial under kid (NULL: any issuer).  Inside
 * the caller's transaction when it has one.
 */
static enum kr_err
find_serial(struct ca_store *st, const char *kid, const char *serial,
    int64_t *id, enum ca_store_status *status, struct kr_error *err)
{
	sqlite3_stmt *s = stmt(st, S_FIND);
	int src, rows = 0;
	enum kr_err rc;

	if (sqlite3_bind_text(s, 1, serial, -1, SQLITE_STATIC) != SQLITE_OK ||
	    (kid != NULL && sqlite3_bind_text(s, 2, kid, -1, SQLITE_STATIC) !=
	    SQLITE_OK)) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "serial %s",
		    serial);
		goto out;
	}
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		*status = status_from_text(sqlite3_column_text(s, 1));
		rows++;
	}
	if (src != SQLITE_DONE) {
		rc = db_fail(st, src, err, "cannot look serial %s up", serial);
		goto out;
	}
	if (rows == 0) {
		rc = kr_fail(err, KR_E_NOTFOUND, "serial %s%s%s: not in the "
		    "issuance store", serial, kid != NULL ? " of issuer " : "",
		    kid != NULL ? kid : "");
		goto out;
	}
	if (rows > 1) {
		rc = kr_fail(err, KR_E_USAGE, "serial %s was issued by more "
		    "than one issuer; name the issuer key id", serial);
		goto out;
	}
	rc = KR_OK;
out:
	stmt_done(st, S_FIND);
	return rc;
}

/* Canonical forms of an optional issuer key id and a serial. */
static enum kr_err
canon_pair(const char *issuer_kid, const char *serial,
    char kid[ST_KID_MAX + 1], const char **kidp, char **ser,
    struct kr_error *err)
{
	enum kr_err rc;

	*kidp = NULL;
	if (issuer_kid != NULL) {
		if ((rc = canon_kid(issuer_kid, kid, err)) != KR_OK)
			return rc;
		*kidp = kid;
	}
	return canon_serial(serial, ser, err);
}

enum kr_err
ca_store_revoke(struct ca_store *st, const char *issuer_kid,
    const char *serial, int reason, time_t when, struct kr_error *err)
{
	sqlite3_stmt *s;
	char kidbuf[ST_KID_MAX + 1], *ser = NULL;
	const char *kid;
	enum ca_store_status status = 0;
	int64_t id = 0;
	int src, intx = 0;
	enum kr_err rc;

	if ((rc = canon_pair(issuer_kid, serial, kidbuf, &kid, &ser, err)) !=
	    KR_OK)
		goto out;
	if (strcmp(ca_reason_name(reason), "unknown") == 0 ||
	    reason == CRL_REASON_CERTIFICATE_HOLD ||
	    reason == CRL_REASON_REMOVE_FROM_CRL) {
		rc = kr_fail(err, KR_E_USAGE, "serial %s: %d (%s) is not a "
		    "reason this store records", ser, reason,
		    ca_reason_name(reason));
		goto out;
	}
	if (!time_ok(when)) {
		rc = kr_fail(err, KR_E_USAGE, "serial %s: revocation time %lld "
		    "out of range", ser, (long long)when);
		goto out;
	}
	if ((rc = tx_begin(st, err)) != KR_OK)
		goto out;
	intx = 1;
	if ((rc = find_serial(st, kid, ser, &id, &status, err)) != KR_OK)
		goto out;
	if (status == CA_STORE_REVOKED) {
		rc = KR_OK;
		goto out;
	}
	if (status != CA_STORE_VALID) {
		rc = kr_fail(err, KR_E_STATE, "serial %s is %s: it was never "
		    "issued, so there is nothing to revoke", ser,
		    ca_store_status_name(status));
		goto out;
	}
	s = stmt(st, S_CERT_REVOKE);
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, (sqlite3_int64)when) != SQLITE_OK ||
	    (reason >= 0 && sqlite3_bind_int(s, 3, reason) != SQLITE_OK)) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "serial %s",
		    ser);
		goto out;
	}
	if ((src = sqlite3_step(s)) != SQLITE_DONE ||
	    sqlite3_changes(st->db) != 1) {
		rc = db_fail(st, src, err, "cannot revoke serial %s", ser);
		goto out;
	}
	rc = KR_OK;
out:
	if (intx) {
		stmt_done(st, S_CERT_REVOKE);
		rc = tx_end(st, rc, err);
	}
	free(ser);
	return rc;
}

/*
 * Is record id the pending reservation of (issuer_kid, serial), with
 * TBS tbs byte for byte?  One statement (its own read transaction), a
 * lookup by rowid: the signer's check before every signature.
 */
enum kr_err
ca_store_pending_is(struct ca_store *st, int64_t id, const char *issuer_kid,
    const char *serial, const uint8_t *tbs, size_t len,
    struct kr_error *err)
{
	sqlite3_stmt *s;
	char kid[ST_KID_MAX + 1], *ser = NULL;
	const void *b;
	int src;
	enum kr_err rc;

	if ((rc = canon_kid(issuer_kid, kid, err)) != KR_OK ||
	    (rc = canon_serial(serial, &ser, err)) != KR_OK)
		return rc;
	s = stmt(st, S_PENDING_TBS);
	if (sqlite3_bind_text(s, 1, kid, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 2, ser, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, id) != SQLITE_OK) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "serial %s",
		    ser);
		goto out;
	}
	if ((src = sqlite3_step(s)) == SQLITE_DONE) {
		rc = kr_fail(err, KR_E_NOTFOUND, "serial %s is not reserved "
		    "as %lld (no such pending reservation)", ser,
		    (long long)id);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = db_fail(st, src, err, "cannot read serial %s", ser);
		goto out;
	}
	b = sqlite3_column_blob(s, 0);
	if ((size_t)sqlite3_column_bytes(s, 0) != len || len == 0 ||
	    b == NULL || memcmp(b, tbs, len) != 0) {
		rc = kr_fail(err, KR_E_POLICY, "serial %s: not the pending "
		    "reservation's TBS", ser);
		goto out;
	}
	rc = KR_OK;
out:
	stmt_done(st, S_PENDING_TBS);
	free(ser);
	return rc;
}

enum kr_err
ca_store_get(struct ca_store *st, const char *issuer_kid, const char *serial,
    struct ca_store_rec *out, struct kr_error *err)
{
	sqlite3_stmt *s;
	char kidbuf[ST_KID_MAX + 1], *ser = NULL;
	const char *kid;
	enum ca_store_status status;
	int64_t id = 0;
	int src;
	enum kr_err rc;

	memset(out, 0, sizeof(*out));
	if ((rc = canon_pair(issuer_kid, serial, kidbuf, &kid, &ser, err)) !=
	    KR_OK)
		goto out;
	/* One read transaction, so the row cannot go between the steps. */
	if ((src = sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL)) !=
	    SQLITE_OK) {
		rc = db_fail(st, src, err, "cannot begin a transaction");
		goto out;
	}
	if ((rc = find_serial(st, kid, ser, &id, &status, err)) != KR_OK)
		goto out;
	s = stmt(st, S_GET);
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "serial %s",
		    ser);
		goto out;
	}
	if ((src = sqlite3_step(s)) != SQLITE_ROW) {
		rc = db_fail(st, src, err, "cannot read serial %s", ser);
		goto out;
	}
	rc = row_to_rec(st, s, out, err);
out:
	stmt_done(st, S_GET);
	if (!sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	free(ser);
	return rc;
}

enum kr_err
ca_store_list(struct ca_store *st, const struct ca_store_filter *f,
    struct ca_store_rec **out, size_t *n, struct kr_error *err)
{
	static const struct ca_store_filter all;
	struct ca_store_rec *recs = NULL, *nr;
	sqlite3_stmt *s;
	char kidbuf[ST_KID_MAX + 1];
	size_t cnt = 0, cap = 0;
	int src, bad;
	enum kr_err rc;

	*out = NULL;
	*n = 0;
	if (f == NULL)
		f = &all;
	if (f->issuer_kid != NULL &&
	    (rc = canon_kid(f->issuer_kid, kidbuf, err)) != KR_OK)
		return rc;
	if (f->expiring_within < 0 || f->expiring_within > ST_TIME_MAX ||
	    (f->expiring_within > 0 && !time_ok(f->now)) ||
	    f->statuses > 15)
		return kr_fail(err, KR_E_USAGE, "bad listing filter");
	s = stmt(st, S_LIST);
	bad = (f->issuer_kid != NULL && sqlite3_bind_text(s, 1, kidbuf, -1,
	    SQLITE_STATIC) != SQLITE_OK) ||
	    sqlite3_bind_int(s, 2, (int)f->statuses) != SQLITE_OK ||
	    (f->expiring_within > 0 && (sqlite3_bind_int64(s, 3,
	    (sqlite3_int64)f->now + f->expiring_within) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, (sqlite3_int64)f->now) != SQLITE_OK)) ||
	    sqlite3_bind_int64(s, 5, f->after_id) != SQLITE_OK ||
	    sqlite3_bind_int(s, 6, f->with_der != 0) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 7, f->limit == 0 || f->limit > INT64_MAX ?
	    -1 : (sqlite3_int64)f->limit) != SQLITE_OK;
	if (bad) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "listing");
		goto out;
	}
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 16 : 2 * cap;
			if ((nr = reallocarray(recs, cap, sizeof(*recs))) ==
			    NULL) {
				rc = kr_fail(err, KR_E_NOMEM, "out of memory");
				goto out;
			}
			recs = nr;
		}
		if ((rc = row_to_rec(st, s, &recs[cnt], err)) != KR_OK)
			goto out;
		cnt++;
	}
	if (src != SQLITE_DONE) {
		rc = db_fail(st, src, err, "cannot list certificates");
		goto out;
	}
	if (cnt > 0) {
		*out = recs;
		*n = cnt;
		recs = NULL;
		cnt = 0;
	}
	rc = KR_OK;
out:
	stmt_done(st, S_LIST);
	ca_store_recs_free(recs, cnt);
	return rc;
}

enum kr_err
ca_store_pending(struct ca_store *st, struct ca_store_rec **out, size_t *n,
    struct kr_error *err)
{
	struct ca_store_filter f;

	memset(&f, 0, sizeof(f));
	f.statuses = CA_STORE_PENDING;
	return ca_store_list(st, &f, out, n, err);
}

enum kr_err
ca_store_revoked_for_crl(struct ca_store *st, const char *issuer_kid,
    time_t now, long long keep_after_expiry, struct ca_revoked **out,
    size_t *n, struct kr_error *err)
{
	struct ca_revoked *rv = NULL, *nr;
	sqlite3_stmt *s;
	BIGNUM *bn = NULL;
	char kid[ST_KID_MAX + 1];
	const char *hex;
	size_t cnt = 0, cap = 0;
	int src;
	enum kr_err rc;

	*out = NULL;
	*n = 0;
	if ((rc = canon_kid(issuer_kid, kid, err)) != KR_OK)
		return rc;
	if (!time_ok(now) || keep_after_expiry < 0 ||
	    keep_after_expiry > ST_TIME_MAX)
		return kr_fail(err, KR_E_USAGE, "CRL entries: time %lld or "
		    "keep %lld out of range", (long long)now,
		    keep_after_expiry);
	s = stmt(st, S_CRL);
	if (sqlite3_bind_text(s, 1, kid, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, (sqlite3_int64)now - keep_after_expiry)
	    != SQLITE_OK) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "CRL entries");
		goto out;
	}
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 16 : 2 * cap;
			if ((nr = reallocarray(rv, cap, sizeof(*rv))) ==
			    NULL) {
				rc = kr_fail(err, KR_E_NOMEM, "out of memory");
				goto out;
			}
			rv = nr;
		}
		hex = (const char *)sqlite3_column_text(s, 0);
		if (hex == NULL || BN_hex2bn(&bn, hex) <= 0 ||
		    (rv[cnt].serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
			rc = kr_fail_ossl(err, KR_E_NOMEM, "serial %s",
			    hex != NULL ? hex : "?");
			goto out;
		}
		rv[cnt].when = (time_t)sqlite3_column_int64(s, 1);
		rv[cnt].reason = sqlite3_column_type(s, 2) == SQLITE_NULL ?
		    -1 : sqlite3_column_int(s, 2);
		cnt++;
	}
	if (src != SQLITE_DONE) {
		rc = db_fail(st, src, err, "cannot read the revocations");
		goto out;
	}
	*out = rv;
	*n = cnt;
	rv = NULL;
	cnt = 0;
	rc = KR_OK;
out:
	stmt_done(st, S_CRL);
	BN_free(bn);
	ca_revoked_free(rv, cnt);
	return rc;
}

/*
 * The next CRL number: one UPDATE ... RETURNING in its own transaction,
 * durable before the number is handed out.
 */
enum kr_err
ca_store_next_crl_number(struct ca_store *st, ASN1_INTEGER **out,
    struct kr_error *err)
{
	sqlite3_stmt *s = stmt(st, S_CRL_NEXT);
	int64_t v = 0;
	int src;
	enum kr_err rc;

	*out = NULL;
	if ((src = sqlite3_step(s)) == SQLITE_ROW) {
		v = sqlite3_column_int64(s, 0);
		src = sqlite3_step(s);
	}
	if (src != SQLITE_DONE) {
		rc = db_fail(st, src, err, "cannot take a CRL number");
		goto out;
	}
	if (v <= 0) {
		rc = kr_fail(err, KR_E_STATE, "%s: the CRL number is exhausted "
		    "or missing", st->path);
		goto out;
	}
	if ((*out = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_int64(*out, v) != 1) {
		ASN1_INTEGER_free(*out);
		*out = NULL;
		rc = kr_fail_ossl(err, KR_E_NOMEM, "CRL number");
		goto out;
	}
	rc = KR_OK;
out:
	/* The reset also ends the statement's implicit transaction. */
	stmt_done(st, S_CRL_NEXT);
	return rc;
}

enum kr_err
ca_store_crl_number_raise(struct ca_store *st, const ASN1_INTEGER *seen,
    struct kr_error *err)
{
	sqlite3_stmt *s;
	int64_t v;
	int src;
	enum kr_err rc;

	if (seen == NULL || ASN1_INTEGER_get_int64(&v, seen) != 1 || v < 0) {
		ERR_clear_error();
		return kr_fail(err, KR_E_STATE, "%s: a CRL number that is "
		    "negative or beyond 2^63 cannot be continued", st->path);
	}
	s = stmt(st, S_CRL_RAISE);
	if (sqlite3_bind_int64(s, 1, v) != SQLITE_OK) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "CRL number");
		goto out;
	}
	if ((src = sqlite3_step(s)) != SQLITE_DONE) {
		rc = db_fail(st, src, err, "cannot raise the CRL number");
		goto out;
	}
	rc = KR_OK;
out:
	stmt_done(st, S_CRL_RAISE);
	return rc;
}

enum kr_err
ca_store_jti_use(struct ca_store *st, const char *provisioner,
    const char *jti, time_t exp, time_t now, struct kr_error *err)
{
	sqlite3_stmt *s;
	int src;
	enum kr_err rc;

	if ((rc = check_text("provisioner", provisioner, 0, CA_STORE_MAX_TEXT,
	    err)) != KR_OK ||
	    (rc = check_text("token id (jti)", jti, 0, CA_STORE_MAX_TEXT,
	    err)) != KR_OK)
		return rc;
	if (!time_ok(now) || !time_ok(exp))
		return kr_fail(err, KR_E_AUTH, "provisioner %s: token expiry "
		    "%lld out of range", provisioner, (long long)exp);
	if (exp <= now)
		return kr_fail(err, KR_E_AUTH, "provisioner %s: token expired "
		    "at %lld (now %lld)", provisioner, (long long)exp,
		    (long long)now);
	s = stmt(st, S_JTI_INS);
	if (sqlite3_bind_text(s, 1, provisioner, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(s, 2, jti, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, (sqlite3_int64)exp) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, (sqlite3_int64)now) != SQLITE_OK) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "token id");
		goto out;
	}
	if ((src = sqlite3_step(s)) != SQLITE_DONE) {
		if (src == SQLITE_CONSTRAINT_PRIMARYKEY)
			rc = kr_fail(err, KR_E_AUTH, "provisioner %s: token "
			    "already used (jti %.64s)", provisioner, jti);
		else
			rc = db_fail(st, src, err, "cannot record token id");
		goto out;
	}
	rc = KR_OK;
out:
	stmt_done(st, S_JTI_INS);
	return rc;
}

enum kr_err
ca_store_tidy(struct ca_store *st, time_t now, long long retention,
    struct ca_store_tidied *out, struct kr_error *err)
{
	sqlite3_stmt *s;
	size_t certs = 0, jtis = 0;
	int src;
	enum kr_err rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (!time_ok(now) || retention < 0 || retention > ST_TIME_MAX)
		return kr_fail(err, KR_E_USAGE, "tidy: time %lld or retention "
		    "%lld out of range", (long long)now, retention);
	if ((rc = tx_begin(st, err)) != KR_OK)
		return rc;
	s = stmt(st, S_TIDY_JTIS);
	if (sqlite3_bind_int64(s, 1, (sqlite3_int64)now - CA_STORE_JTI_GRACE)
	    != SQLITE_OK || (src = sqlite3_step(s)) != SQLITE_DONE) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "cannot forget "
		    "old token ids");
		goto out;
	}
	jtis = (size_t)sqlite3_changes(st->db);
	s = stmt(st, S_TIDY_CERTS);
	if (sqlite3_bind_int64(s, 1, (sqlite3_int64)now - retention) !=
	    SQLITE_OK || (src = sqlite3_step(s)) != SQLITE_DONE) {
		rc = db_fail(st, sqlite3_errcode(st->db), err, "cannot delete "
		    "expired certificates");
		goto out;
	}
	certs = (size_t)sqlite3_changes(st->db);
	rc = KR_OK;
out:
	stmt_done(st, S_TIDY_JTIS);
	stmt_done(st, S_TIDY_CERTS);
	if ((rc = tx_end(st, rc, err)) == KR_OK && out != NULL) {
		out->certs = certs;
		out->jtis = jtis;
	}
	return rc;
}

/* A one-value count statement into *v. */
static enum kr_err
count_one(struct ca_store *st, enum sid id, int64_t *v, struct kr_error *err)
{
	sqlite3_stmt *s = stmt(st, id);
	int src;
	enum kr_err rc = KR_OK;

	if ((src = sqlite3_step(s)) == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	else
		rc = db_fail(st, src, err, "cannot count");
	stmt_done(st, id);
	return rc;
}

/* ca_store_info; without ledger, serials and jtis are left 0. */
static enum kr_err
store_info(struct ca_store *st, struct ca_store_info *out, int ledger,
    struct kr_error *err)
{
	sqlite3_stmt *s;
	const char *name;
	char buf[32];
	int src;
	enum kr_err rc;

	memset(out, 0, sizeof(*out));
	if ((src = pragma_text(st->db, "PRAGMA journal_mode", out->journal_mode,
	    sizeof(out->journal_mode))) != SQLITE_OK ||
	    (src = pragma_text(st->db, "PRAGMA synchronous", buf,
	    sizeof(buf))) != SQLITE_OK)
		return db_fail(st, src, err, "cannot read the settings");
	out->synchronous = (int)strtol(buf, NULL, 10);
	if ((src = pragma_text(st->db, "PRAGMA foreign_keys", buf,
	    sizeof(buf))) != SQLITE_OK)
		return db_fail(st, src, err, "cannot read the settings");
	out->foreign_keys = (int)strtol(buf, NULL, 10);
	if ((src = sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL)) !=
	    SQLITE_OK)
		return db_fail(st, src, err, "cannot begin a transaction");
	s = stmt(st, S_META);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if ((name = (const char *)sqlite3_column_text(s, 0)) == NULL)
			continue;
		if (strcmp(name, "schema_version") == 0)
			out->schema_version = sqlite3_column_int64(s, 1);
		else if (strcmp(name, "crl_number") == 0)
			out->crl_number = sqlite3_column_int64(s, 1);
	}
	stmt_done(st, S_META);
	if (src != SQLITE_DONE) {
		rc = db_fail(st, src, err, "cannot read meta");
		goto out;
	}
	s = stmt(st, S_COUNTS);
	if ((src = sqlite3_step(s)) == SQLITE_ROW) {
		out->revoked = sqlite3_column_int64(s, 1);
		out->pending = sqlite3_column_int64(s, 2);
		out->abandoned = sqlite3_column_int64(s, 3);
		out->valid = sqlite3_column_int64(s, 0) - out->revoked -
		    out->pending - out->abandoned;
		src = sqlite3_step(s);
	}
	stmt_done(st, S_COUNTS);
	if (src != SQLITE_DONE) {
		rc = db_fail(st, src, err, "cannot count certificates");
		goto out;
	}
	if (ledger &&
	    ((rc = count_one(st, S_COUNT_SERIALS, &out->serials, err)) !=
	    KR_OK ||
	    (rc = count_one(st, S_COUNT_JTIS, &out->jtis, err)) != KR_OK))
		goto out;
	rc = KR_OK;
out:
	(void)sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

enum kr_err
ca_store_info(struct ca_store *st, struct ca_store_info *out,
    struct kr_error *err)
{
	return store_info(st, out, 1, err);
}

enum kr_err
ca_store_status_counts(struct ca_store *st, struct ca_store_info *out,
    struct kr_error *err)
{
	return store_info(st, out, 0, err);
}

/* ------------------------------------------------------------------ */
/* Group commit                                                        */
/* ------------------------------------------------------------------ */

/*
 * One connection, one writer thread.  A caller puts its operation on
 * the queue and sleeps on the operation's own semaphore.  The writer
 * takes everything queued, opens the group transaction, runs each
 * operation inside it (as a savepoint when it has several statements,
 * so that one that fails leaves the others), takes what was queued
 * meanwhile, and commits the group.  A failed COMMIT (a full disk, an
 * I/O error) is rolled back and fails every operation of that group;
 * the next group starts afresh.  The callers never touch the connection
 * and never wait for a lock that another caller holds: each is woken
 * once, by the thread that has its answer.  (A first design had the
 * callers take turns on the connection under a mutex; the hand-offs of
 * that mutex and the wake-ups of every waiter at each COMMIT cost more
 * CPU than SQLite's own work.)
 *
 * The connection runs with synchronous=NORMAL: its COMMIT writes the
 * group's frames to the log (visible at once to every other connection)
 * and releases the write lock without waiting for the disk.  A caller
 * that needs its change durable is then handed to the syncer thread,
 * which runs fdatasync on the log for every operation whose group's
 * COMMIT returned before it started, and wakes them; it runs beside the
 * writer, so the disk's latency is paid beside the next groups' writes.
 * The log is append-only between checkpoints, and a checkpoint syncs it
 * before copying it back (and the database after), so a group's frames
 * are on the disk once one fdatasync that began after its COMMIT has
 * returned: what synchronous=FULL guarantees at COMMIT, given a little
 * later and to many groups at once.  A failed fdatasync is latched
 * (after one, the kernel may have dropped the pages it could not write,
 * and a later fdatasync can succeed without them): every later call
 * fails until the store is opened again.
 */
enum gop_kind { GOP_JTI, GOP_RESERVE, GOP_RESERVE_JTI, GOP_COMMIT,
    GOP_ABANDON, GOP_REVOKE };

/* An operation: on its caller's stack until sem is posted. */
struct gop {
	enum gop_kind			 kind;
	const char			*a, *b;	/* provisioner/jti, kid/serial */
	time_t				 t1, t2, t3;
	const struct ca_store_rec	*rec;
	int64_t				 id, *idp;
	const uint8_t			*der;
	size_t				 len;
	int				 reason;
	int				 durable; /* answered after the sync */
	/* The answer, set by the writer or the syncer before sem. */
	enum kr_err			 rc;
	struct kr_error			 err;
	sem_t				 sem;
	struct gop			*next;
};

struct ca_store_group {
	struct ca_store	*st;		/* the writer's connection */
	atomic_int	 active;	/* threads that will write soon */
	/* The queue and the writer. */
	pthread_mutex_t	 q_mu;
	pthread_cond_t	 q_cv;		/* the writer waits for work */
	struct gop	*q_head, **q_tail;
	int		 q_stop;
	pthread_t	 writer;
	int		 writer_running;
	/* Durability: what the syncer syncs next, and its failure. */
	int		 walfd;		/* the log, opened for fdatasync */
	pthread_t	 syncer;
	int		 syncer_running;
	pthread_mutex_t	 sync_mu;
	pthread_cond_t	 sync_go;	/* sync_head set (the syncer) */
	struct gop	*sync_head, **sync_tail;
	int		 sync_stop;
	atomic_int	 sync_errno;	/* an fdatasync failed: latched */
	/* The checkpointer: its thread, connection and wake-up. */
	pthread_t	 ckpt;
	int		 ckpt_running;
	struct ca_store	*ckpt_st;
	pthread_mutex_t	 ckpt_mu;
	pthread_cond_t	 ckpt_cv;
	int		 ckpt_due;
	int		 ckpt_stop;
	atomic_int	 ckpt_gap;	/* the writer checkpoints next */
	int		 ckpt_at;	/* log frames at the last wake-up */
	atomic_int	 ckpt_frames;	/* between two rounds */
	atomic_int	 linger_us;	/* GROUP_LINGER_US but in tests */
	atomic_llong	 commits;	/* groups committed */
};

/*
 * WAL frames after which the checkpointer copies the log back into the
 * database: about 33 MB of log at most between two starts over.  Pages
 * written again and again (the tables' last pages, the B-trees' inner
 * pages) are copied once a round, so fewer rounds copy less (the bench,
 * 8 clients: 8192 frames gave about 5% more certificates a second than
 * 1000, SQLite's own automatic checkpoint size).
 */
#define GROUP_CKPT_FRAMES	8192

/*
 * How long the writer waits for the operations of threads that
 * ca_store_group_busy announced, before it commits: about an fsync's
 * time, so that under load most commits carry several operations (the
 * bench, 8 clients: about a fifth less CPU per certificate than
 * committing at once).  Nobody else busy: no wait.
 */
#define GROUP_LINGER_US		1000

/*
 * The group's connection does not checkpoint after its commits: that
 * would copy the log into the database while every caller waits.  This
 * WAL hook (called by the writer after each commit) wakes the
 * checkpointer instead (group_checkpointer).
 */
static int
group_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct ca_store_group *g = arg;

	(void)db;
	(void)name;
	/*
	 * Every ckpt_frames frames, not after every commit past the first
	 * ckpt_frames (as SQLite's own does while readers keep the log
	 * from restarting): a page written again and again is then copied
	 * once a batch, not once a commit.
	 */
	if (frames < g->ckpt_at)
		g->ckpt_at = 0;		/* the log restarted */
	if (frames - g->ckpt_at >= atomic_load(&g->ckpt_frames)) {
		g->ckpt_at = frames;
		pthread_mutex_lock(&g->ckpt_mu);
		g->ckpt_due = 1;
		pthread_cond_signal(&g->ckpt_cv);
		pthread_mutex_unlock(&g->ckpt_mu);
	}
	return SQLITE_OK;
}

/*
 * The checkpointer copies the log back into the database in two PASSIVE
 * checkpoints.  The first runs beside the writer and copies nearly all
 * of it.  The second is the writer's, between two groups (ckpt_gap),
 * and copies the few frames written meanwhile: the log is then wholly
 * in the database, so the next group's COMMIT starts the log over from
 * its beginning (unless a reader of an older snapshot is still reading:
 * then a later round does).  Without the gap, a log that is appended to
 * all the time is never wholly copied at the moment a write begins, and
 * SQLite never starts it over: it grows without bound (900 MB in 20 s
 * of the bench), and every write then lands on fresh pages of it.
 */
static void *
group_checkpointer(void *arg)
{
	struct ca_store_group *g = arg;

	pthread_mutex_lock(&g->ckpt_mu);
	for (;;) {
		while (!g->ckpt_due && !g->ckpt_stop)
			pthread_cond_wait(&g->ckpt_cv, &g->ckpt_mu);
		if (g->ckpt_stop)
			break;
		g->ckpt_due = 0;
		pthread_mutex_unlock(&g->ckpt_mu);
		(void)sqlite3_wal_checkpoint_v2(g->ckpt_st->db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&g->q_mu);
		atomic_store(&g->ckpt_gap, 1);
		pthread_cond_signal(&g->q_cv);
		pthread_mutex_unlock(&g->q_mu);
		pthread_mutex_lock(&g->ckpt_mu);
	}
	pthread_mutex_unlock(&g->ckpt_mu);
	return NULL;
}

/*
 * Switch the group's connection to synchronous=NORMAL and open its log
 * for the syncer.  The log exists once the connection has read the
 * database in WAL mode (ca_store_open did), and every connection of the
 * group keeps it until the group closes.  The directory is synced once
 * here, so that the log's name is on the disk too.
 */
static enum kr_err
group_open_log(struct ca_store_group *g, const char *path,
    struct kr_error *err)
{
	char wal[4096];
	int src;

	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >=
	    sizeof(wal))
		return kr_fail(err, KR_E_USAGE, "%s: path too long", path);
	if ((src = sqlite3_exec(g->st->db, "PRAGMA synchronous = NORMAL",
	    NULL, NULL, NULL)) != SQLITE_OK)
		return db_fail(g->st, src, err, "cannot configure the "
		    "connection");
	if ((g->walfd = open(wal, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return kr_fail(err, KR_E_IO, "%s: cannot open the log: %s",
		    wal, strerror(errno));
	return kr_dir_sync_of(path, err);
}

static void *group_writer(void *);

static void *group_syncer(void *);

/*
 * Start fn as a thread of g, named "store-WHAT" for ps and top (cut to
 * 15 characters); *running says whether it was.
 */
static enum kr_err
group_thread(struct ca_store_group *g, pthread_t *t, int *running,
    void *(*fn)(void *), const char *what, struct kr_error *err)
{
	char name[16];

	if (pthread_create(t, NULL, fn, g) != 0)
		return kr_fail(err, KR_E_IO, "%s: cannot start the store's "
		    "%s thread", g->st->path, what);
	*running = 1;
	snprintf(name, sizeof(name), "store-%s", what);
	(void)pthread_setname_np(*t, name);
	return KR_OK;
}

enum kr_err
ca_store_group_open(const char *path, struct ca_store_group **out,
    struct kr_error *err)
{
	struct ca_store_group *g;
	pthread_condattr_t ca;
	enum kr_err rc;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	g->walfd = -1;
	g->q_tail = &g->q_head;
	g->sync_tail = &g->sync_head;
	atomic_init(&g->ckpt_frames, GROUP_CKPT_FRAMES);
	atomic_init(&g->linger_us, GROUP_LINGER_US);
	if ((rc = ca_store_open(path, &g->st, err)) != KR_OK) {
		free(g);
		return rc;
	}
	pthread_mutex_init(&g->q_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->q_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&g->sync_mu, NULL);
	pthread_cond_init(&g->sync_go, NULL);
	pthread_mutex_init(&g->ckpt_mu, NULL);
	pthread_cond_init(&g->ckpt_cv, NULL);
	sqlite3_wal_hook(g->st->db, group_wal_hook, g);
	/*
	 * The checkpointer's connection: opened like any other (which
	 * also puts it in WAL mode: a connection that has not read the
	 * database yet would not checkpoint), used for nothing else.
	 */
	if ((rc = group_open_log(g, path, err)) != KR_OK ||
	    (rc = ca_store_open(path, &g->ckpt_st, err)) != KR_OK ||
	    (rc = group_thread(g, &g->ckpt, &g->ckpt_running,
	    group_checkpointer, "ckpt", err)) != KR_OK ||
	    (rc = group_thread(g, &g->syncer, &g->syncer_running,
	    group_syncer, "sync", err)) != KR_OK ||
	    (rc = group_thread(g, &g->writer, &g->writer_running,
	    group_writer, "write", err)) != KR_OK) {
		ca_store_group_close(g);
		return rc;
	}
	*out = g;
	return KR_OK;
}

/*
 * Stop the writer (after the operations queued), then the syncer (after
 * the syncs owed), then the checkpointer.
 */
void
ca_store_group_close(struct ca_store_group *g)
{
	if (g == NULL)
		return;
	if (g->writer_running) {
		pthread_mutex_lock(&g->q_mu);
		g->q_stop = 1;
		pthread_cond_signal(&g->q_cv);
		pthread_mutex_unlock(&g->q_mu);
		pthread_join(g->writer, NULL);
	}
	if (g->syncer_running) {
		pthread_mutex_lock(&g->sync_mu);
		g->sync_stop = 1;
		pthread_cond_signal(&g->sync_go);
		pthread_mutex_unlock(&g->sync_mu);
		pthread_join(g->syncer, NULL);
	}
	if (g->ckpt_running) {
		pthread_mutex_lock(&g->ckpt_mu);
		g->ckpt_stop = 1;
		pthread_cond_signal(&g->ckpt_cv);
		pthread_mutex_unlock(&g->ckpt_mu);
		pthread_join(g->ckpt, NULL);
	}
	ca_store_close(g->ckpt_st);
	ca_store_close(g->st);
	if (g->walfd != -1)
		close(g->walfd);
	pthread_mutex_destroy(&g->q_mu);
	pthread_cond_destroy(&g->q_cv);
	pthread_mutex_destroy(&g->sync_mu);
	pthread_cond_destroy(&g->sync_go);
	pthread_mutex_destroy(&g->ckpt_mu);
	pthread_cond_destroy(&g->ckpt_cv);
	free(g);
}

static enum kr_err
gop_run(struct ca_store *st, const struct gop *o, struct kr_error *err)
{
	enum kr_err rc;

	switch (o->kind) {
	case GOP_JTI:
		return ca_store_jti_use(st, o->a, o->b, o->t1, o->t2, err);
	case GOP_RESERVE:
		return ca_store_reserve(st, o->rec, o->t1, o->idp, err);
	case GOP_RESERVE_JTI:
		*o->idp = 0;
		if ((rc = ca_store_jti_use(st, o->rec->provisioner, o->b,
		    o->t2, o->t3, err)) != KR_OK)
			return rc;
		return ca_store_reserve(st, o->rec, o->t1, o->idp, err);
	case GOP_COMMIT:
		return ca_store_commit(st, o->id, o->der, o->len, err);
	case GOP_ABANDON:
		return ca_store_abandon(st, o->id, err);
	case GOP_REVOKE:
		return ca_store_revoke(st, o->a, o->b, o->reason, o->t1, err);
	}
	return kr_fail(err, KR_E_INTERNAL, "unknown group operation");
}

static enum kr_err
sync_failed(struct ca_store_group *g, int e, struct kr_error *err)
{
	return kr_fail(err, KR_E_IO, "%s-wal: cannot sync the log to the "
	    "disk (%s); nothing more is written until the store is opened "
	    "again", g->st->path, strerror(e));
}

/* KR_OK, or the latched failure of an earlier sync. */
static enum kr_err
sync_latched(struct ca_store_group *g, struct kr_error *err)
{
	int e = atomic_load(&g->sync_errno);

	return e == 0 ? KR_OK : sync_failed(g, e, err);
}

/*
 * Answer each operation of list with its rc (the caller wakes and may
 * return at once: o is not touched after its post).
 */
static void
gops_answer(struct gop *list)
{
	struct gop *o, *next;

	for (o = list; o != NULL; o = next) {
		next = o->next;
		sem_post(&o->sem);
	}
}

/* Every operation of list fails with err. */
static void
gops_fail(struct gop *list, const struct kr_error *err)
{
	struct gop *o;

	for (o = list; o != NULL; o = o->next) {
		o->err = *err;
		o->rc = err->code;
	}
	gops_answer(list);
}

/* Take what is queued (under q_mu). */
static struct gop *
queue_take(struct ca_store_group *g)
{
	struct gop *list = g->q_head;

	g->q_head = NULL;
	g->q_tail = &g->q_head;
	return list;
}

/*
 * Run each operation of list in the open group: 1, or 0 when SQLite has
 * rolled the whole transaction back meanwhile (a full disk, an I/O
 * error: every operation of the group is then lost), with err saying
 * why and the rest of list not run.  Run on, they would each commit on
 * their own, outside the group.
 */
static int
gops_run(struct ca_store_group *g, struct gop *list, struct kr_error *err)
{
	struct gop *o;
	int ok = 1;

	g->st->batch = 1;
	for (o = list; o != NULL; o = o->next) {
		o->rc = gop_run(g->st, o, &o->err);
		if (sqlite3_get_autocommit(g->st->db)) {
			if (o->rc != KR_OK)
				*err = o->err;
			else
				(void)kr_fail(err, KR_E_IO, "%s: the group's "
				    "transaction was rolled back",
				    g->st->path);
			ok = 0;
			break;
		}
	}
	g->st->batch = 0;
	return ok;
}

/*
 * Should the writer wait for more?  While threads have announced a
 * write (ca_store_group_busy) that they have not queued yet.
 */
static int
group_waits(struct ca_store_group *g)
{
	return atomic_load(&g->active) > 0;
}

/*
 * One group: list (taken from the queue) and whatever is queued while it
 * runs and lingers, in one transaction.  Returns with q_mu held, as it
 * was taken.
 */
static void
group_one(struct ca_store_group *g, struct gop *list)
{
	struct ca_store *st = g->st;
	struct gop **tail, *o, *durable = NULL, **dtail = &durable, *now;
	struct timespec until, t;
	struct kr_error err;
	int src, ok = 1;

	pthread_mutex_unlock(&g->q_mu);
	if ((src = step_once(st, S_BEGIN)) != SQLITE_OK) {
		(void)db_fail(st, src, &err, "cannot begin a transaction");
		goto failed;
	}
	if (!gops_run(g, list, &err))
		goto failed;
	for (tail = &list; *tail != NULL; tail = &(*tail)->next)
		;
	/*
	 * Others are issuing and will queue soon: linger, up to
	 * GROUP_LINGER_US, so that their operations share this group's
	 * COMMIT and sync.  What is queued is taken before the announced
	 * count is looked at: the last announced thread queues and stops
	 * counting in one step.
	 */
	if (group_waits(g)) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += atomic_load(&g->linger_us) * 1000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&g->q_mu);
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if (t.tv_sec > until.tv_sec || (t.tv_sec ==
			    until.tv_sec && t.tv_nsec >= until.tv_nsec))
				break;
			if (g->q_head != NULL) {
				*tail = queue_take(g);
				pthread_mutex_unlock(&g->q_mu);
				ok = gops_run(g, *tail, &err);
				while (*tail != NULL)
					tail = &(*tail)->next;
				pthread_mutex_lock(&g->q_mu);
				if (!ok)
					break;
				continue;
			}
			if (!group_waits(g))
				break;
			(void)pthread_cond_timedwait(&g->q_cv, &g->q_mu,
			    &until);
		}
		pthread_mutex_unlock(&g->q_mu);
		if (!ok)
			goto failed;
	}
	/*
	 * A sync that failed (before the group's callers queued, or
	 * meanwhile): nothing more is written.
	 */
	if (sync_latched(g, &err) != KR_OK)
		goto failed;
	if ((src = step_once(st, S_COMMIT)) != SQLITE_OK) {
		(void)db_fail(st, src, &err, "cannot commit");
		goto failed;
	}
	atomic_fetch_add(&g->commits, 1);
	/* Answer now what needs no sync; hand the rest to the syncer. */
	for (now = list, tail = &now; (o = *tail) != NULL; ) {
		if (o->rc == KR_OK && o->durable) {
			*tail = o->next;
			o->next = NULL;
			*dtail = o;
			dtail = &o->next;
		} else
			tail = &o->next;
	}
	if (durable != NULL) {
		pthread_mutex_lock(&g->sync_mu);
		*g->sync_tail = durable;
		g->sync_tail = dtail;
		pthread_cond_signal(&g->sync_go);
		pthread_mutex_unlock(&g->sync_mu);
	}
	gops_answer(now);
	pthread_mutex_lock(&g->q_mu);
	return;
failed:
	if (!sqlite3_get_autocommit(st->db))
		(void)step_once(st, S_ROLLBACK);
	gops_fail(list, &err);
	pthread_mutex_lock(&g->q_mu);
}

/*
 * The writer: a group for each batch of queued operations, and the
 * checkpointer's second, short checkpoint between two groups.
 */
static void *
group_writer(void *arg)
{
	struct ca_store_group *g = arg;
	struct gop *list;

	pthread_mutex_lock(&g->q_mu);
	for (;;) {
		if (atomic_load(&g->ckpt_gap)) {
			pthread_mutex_unlock(&g->q_mu);
			(void)sqlite3_wal_checkpoint_v2(g->st->db, NULL,
			    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
			atomic_store(&g->ckpt_gap, 0);
			pthread_mutex_lock(&g->q_mu);
		}
		if (g->q_head != NULL) {
			list = queue_take(g);
			group_one(g, list);
			continue;
		}
		if (g->q_stop)
			break;
		pthread_cond_wait(&g->q_cv, &g->q_mu);
	}
	pthread_mutex_unlock(&g->q_mu);
	return NULL;
}

/*
 * The syncer: for each wake-up, one fdatasync of the log that covers
 * every operation handed to it before it began, and then their answers.
 */
static void *
group_syncer(void *arg)
{
	struct ca_store_group *g = arg;
	struct kr_error err;
	struct gop *list;
	int e;

	pthread_mutex_lock(&g->sync_mu);
	for (;;) {
		while (g->sync_head == NULL && !g->sync_stop)
			pthread_cond_wait(&g->sync_go, &g->sync_mu);
		if (g->sync_head == NULL)
			break;
		list = g->sync_head;
		g->sync_head = NULL;
		g->sync_tail = &g->sync_head;
		pthread_mutex_unlock(&g->sync_mu);
		if ((e = atomic_load(&g->sync_errno)) == 0 &&
		    fdatasync(g->walfd) != 0) {
			e = errno;
			atomic_store(&g->sync_errno, e);
		}
		if (e != 0) {
			(void)sync_failed(g, e, &err);
			gops_fail(list, &err);
		} else
			gops_answer(list);
		pthread_mutex_lock(&g->sync_mu);
	}
	pthread_mutex_unlock(&g->sync_mu);
	return NULL;
}

/*
 * This thread has announced a call (ca_store_group_busy).  Per thread,
 * not per group: keyrited has one group.
 */
static _Thread_local int group_announced;

/*
 * Run o in a group.  With durable set, return once the group's COMMIT
 * is on the disk; without it, once it is written to the log (seen by
 * every connection, made durable by the next sync).
 */
static enum kr_err
group_do(struct ca_store_group *g, struct gop *o, int durable,
    struct kr_error *err)
{
	int e;

	if (sync_latched(g, err) != KR_OK) {
		ca_store_group_busy(g, -1);
		return err->code;
	}
	o->durable = durable;
	o->rc = KR_E_INTERNAL;
	o->next = NULL;
	if (sem_init(&o->sem, 0, 0) != 0) {
		e = errno;
		ca_store_group_busy(g, -1);
		return kr_fail(err, KR_E_INTERNAL, "cannot make a semaphore: "
		    "%s", strerror(e));
	}
	pthread_mutex_lock(&g->q_mu);
	*g->q_tail = o;
	g->q_tail = &o->next;
	if (group_announced) {
		group_announced = 0;
		atomic_fetch_sub(&g->active, 1);
	}
	pthread_cond_signal(&g->q_cv);
	pthread_mutex_unlock(&g->q_mu);
	while (sem_wait(&o->sem) != 0)
		;	/* EINTR */
	sem_destroy(&o->sem);
	if (o->rc != KR_OK)
		*err = o->err;
	return o->rc;
}

void
ca_store_group_busy(struct ca_store_group *g, int delta)
{
	if (delta > 0 && !group_announced) {
		group_announced = 1;
		atomic_fetch_add(&g->active, 1);
	} else if (delta < 0 && group_announced) {
		group_announced = 0;
		pthread_mutex_lock(&g->q_mu);
		atomic_fetch_sub(&g->active, 1);
		pthread_cond_signal(&g->q_cv);
		pthread_mutex_unlock(&g->q_mu);
	}
}

int
ca_store_group_announced(struct ca_store_group *g)
{
	return atomic_load(&g->active);
}

void
ca_store_group_linger(struct ca_store_group *g, int us)
{
	atomic_store(&g->linger_us, us >= 0 ? us : GROUP_LINGER_US);
}

long long
ca_store_group_commits(struct ca_store_group *g)
{
	return atomic_load(&g->commits);
}

void
ca_store_group_ckpt_frames(struct ca_store_group *g, int frames)
{
	atomic_store(&g->ckpt_frames, frames > 0 ? frames :
	    GROUP_CKPT_FRAMES);
}

enum kr_err
ca_store_group_jti_use(struct ca_store_group *g, const char *provisioner,
    const char *jti, time_t exp, time_t now, struct kr_error *err)
{
	struct gop o = { .kind = GOP_JTI, .a = provisioner, .b = jti,
	    .t1 = exp, .t2 = now };

	return group_do(g, &o, 0, err);
}

enum kr_err
ca_store_group_reserve(struct ca_store_group *g,
    const struct ca_store_rec *rec, time_t now, int64_t *id,
    struct kr_error *err)
{
	struct gop o = { .kind = GOP_RESERVE, .rec = rec, .t1 = now,
	    .idp = id };

	return group_do(g, &o, 0, err);
}

enum kr_err
ca_store_group_reserve_jti(struct ca_store_group *g,
    const struct ca_store_rec *rec, time_t now, const char *jti, time_t exp,
    time_t jti_now, int64_t *id, struct kr_error *err)
{
	struct gop o = { .kind = GOP_RESERVE_JTI, .rec = rec, .t1 = now,
	    .b = jti, .t2 = exp, .t3 = jti_now, .idp = id };

	return group_do(g, &o, 0, err);
}

enum kr_err
ca_store_group_commit(struct ca_store_group *g, int64_t id,
    const uint8_t *der, size_t len, struct kr_error *err)
{
	struct gop o = { .kind = GOP_COMMIT, .id = id, .der = der,
	    .len = len };

	return group_do(g, &o, 1, err);
}

enum kr_err
ca_store_group_abandon(struct ca_store_group *g, int64_t id,
    struct kr_error *err)
{
	struct gop o = { .kind = GOP_ABANDON, .id = id };

	return group_do(g, &o, 1, err);
}

enum kr_err
ca_store_group_revoke(struct ca_store_group *g, const char *issuer_kid,
    const char *serial, int reason, time_t when, struct kr_error *err)
{
	struct gop o = { .kind = GOP_REVOKE, .a = issuer_kid, .b = serial,
	    .reason = reason, .t1 = when };

	return group_do(g, &o, 1, err);
}

sqlite3 *
ca_store_db(struct ca_store *st)
{
	return st->db;
}
