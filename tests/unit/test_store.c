/*
 * test_store.c: the online signer's issuance store.  The schema is
 * created versioned and in WAL mode; a reservation round-trips; a serial
 * is never handed out twice, not even after its certificate is tidied;
 * the signed certificate must match its reservation; revocations reach
 * the CRL until one interval after expiry; CRL numbers only go up, across
 * reopen; a token id is used once; and a process SIGKILLed at random
 * moments never loses a certificate it reported as committed.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sqlite3.h>

#include "ca/store.h"

#define NOW	1767225600	/* 2026-01-01T00:00:00Z */
#define DAY	86400
#define KID	"a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
#define KID2	"0011223344556677"

struct fixture {
	char		 dir[64];
	char		 path[128];
	EVP_PKEY	*key;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/kr-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/issued.db", f->dir);
	f->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(f->key);
	*state = f;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	EVP_PKEY_free(f->key);
	free(f);
	return 0;
}

/*
 * A signed certificate with serial hex, validity [nb, na] and, when kid
 * is not NULL, an authorityKeyIdentifier kid; DER malloc'd into *der.
 * Written without cmocka asserts so the crash child can use it too.
 */
static int
mkcert(EVP_PKEY *key, const char *hex, time_t nb, time_t na,
    const char *kid, uint8_t **der, size_t *len)
{
	X509 *x = X509_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	AUTHORITY_KEYID *akid = NULL;
	unsigned char kb[64], *p = NULL;
	long kl = 0;
	int n, ok = 0;

	*der = NULL;
	if (x == NULL || BN_hex2bn(&bn, hex) <= 0 ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(x, ai) != 1 ||
	    ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL ||
	    X509_set_pubkey(x, key) != 1)
		goto out;
	if (kid != NULL) {
		unsigned char *k = OPENSSL_hexstr2buf(kid, &kl);

		if (k == NULL || kl > (long)sizeof(kb))
			goto out;
		memcpy(kb, k, (size_t)kl);
		OPENSSL_free(k);
		if ((akid = AUTHORITY_KEYID_new()) == NULL ||
		    (akid->keyid = ASN1_OCTET_STRING_new()) == NULL ||
		    ASN1_OCTET_STRING_set(akid->keyid, kb, (int)kl) != 1 ||
		    X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0,
		    0) != 1)
			goto out;
	}
	if (X509_sign(x, key, EVP_sha256()) <= 0 ||
	    (n = i2d_X509(x, &p)) <= 0 || (*der = malloc((size_t)n)) == NULL)
		goto out;
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	ok = 1;
out:
	OPENSSL_free(p);
	AUTHORITY_KEYID_free(akid);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	X509_free(x);
	return ok;
}

/* A reservation record; tbs is a stand-in (the store keeps it opaque). */
static struct ca_store_rec
mkrec(const char *kid, const char *serial, time_t nb, time_t na)
{
	static const uint8_t tbs[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	struct ca_store_rec r;

	memset(&r, 0, sizeof(r));
	r.issuer_kid = kid;
	r.serial = serial;
	r.subject = "CN=www.lab.internal";
	r.sans = "[\"DNS:www.lab.internal\",\"IP:10.0.0.5\"]";
	r.not_before = nb;
	r.not_after = na;
	r.provisioner = "ops";
	r.tbs = tbs;
	r.tbs_len = sizeof(tbs);
	return r;
}

/* Reserve and commit serial under kid for [nb, na]; returns the id. */
static int64_t
issue(struct fixture *f, struct ca_store *st, const char *kid,
    const char *serial, time_t nb, time_t na)
{
	struct ca_store_rec r = mkrec(kid, serial, nb, na);
	struct kr_error err;
	uint8_t *der;
	size_t len;
	int64_t id = 0;

	assert_int_equal(ca_store_reserve(st, &r, nb, &id, &err), KR_OK);
	assert_true(id > 0);
	assert_true(mkcert(f->key, serial, nb, na, kid, &der, &len));
	assert_int_equal(ca_store_commit(st, id, der, len, &err), KR_OK);
	free(der);
	return id;
}

static sqlite3 *
raw_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* The first column of the first row of sql as text ("" when none). */
static void
raw_text(sqlite3 *db, const char *sql, char *buf, size_t sz)
{
	sqlite3_stmt *s = NULL;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	buf[0] = '\0';
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		snprintf(buf, sz, "%s", (const char *)sqlite3_column_text(s,
		    0));
	sqlite3_finalize(s);
}

static long long
raw_int(sqlite3 *db, const char *sql)
{
	char buf[64];

	raw_text(db, sql, buf, sizeof(buf));
	return strtoll(buf, NULL, 10);
}

static uint64_t
crlnum(struct ca_store *st)
{
	struct kr_error err;
	ASN1_INTEGER *ai = NULL;
	uint64_t v = 0;

	assert_int_equal(ca_store_next_crl_number(st, &ai, &err), KR_OK);
	assert_int_equal(ASN1_INTEGER_get_uint64(&v, ai), 1);
	ASN1_INTEGER_free(ai);
	return v;
}

static void
test_schema_created(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_info info;
	struct kr_error err;
	struct stat sb;
	char buf[64], wal[160];
	sqlite3 *db;
	mode_t old;

	/* 0600 whatever the umask (this one would give 0400). */
	old = umask(0277);
	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	umask(old);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* The WAL inherits the database's mode. */
	issue(f, st, KID, "0a", NOW, NOW + DAY);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_int_equal(ca_store_info(st, &info, &err), KR_OK);
	assert_string_equal(info.journal_mode, "wal");
	assert_int_equal(info.synchronous, 2);
	assert_int_equal(info.foreign_keys, 1);
	assert_int_equal(info.schema_version, CA_STORE_SCHEMA_VERSION);
	assert_int_equal(info.valid, 1);
	assert_int_equal(info.serials, 1);

	/* Seen by another connection: WAL is a property of the file. */
	db = raw_open(f->path);
	raw_text(db, "PRAGMA journal_mode", buf, sizeof(buf));
	assert_string_equal(buf, "wal");
	assert_int_equal(raw_int(db, "PRAGMA application_id"), 1263686484);
	assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE name = "
	    "'schema_version'"), CA_STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'table' AND name IN ('meta', 'serials', 'certs', "
	    "'jtis')"), 4);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'index' AND name IN ('certs_serial_issuer', "
	    "'certs_not_after', 'certs_revoked', 'certs_unsettled', "
	    "'jtis_exp')"), 5);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'index' AND tbl_name = 'certs'"), 4);
	/* Real columns, not a blob of JSON. */
	assert_int_equal(raw_int(db, "SELECT count(*) FROM "
	    "pragma_table_info('certs') WHERE name IN ('issuer_kid', 'serial', "
	    "'subject', 'sans', 'not_before', 'not_after', 'provisioner', "
	    "'status', 'revoked_at', 'reason', 'tbs', 'der')"), 12);
	sqlite3_close(db);
	ca_store_close(st);

	/* Reopening an existing store keeps its contents. */
	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	assert_int_equal(ca_store_info(st, &info, &err), KR_OK);
	assert_int_equal(info.valid, 1);
	ca_store_close(st);
}

/* Back to the indexes of schema versions 1 and 2. */
#define OLD_INDEXES "DROP INDEX certs_serial_issuer; "			\
	"DROP INDEX certs_not_after; DROP INDEX certs_revoked; "	\
	"DROP INDEX certs_unsettled; "					\
	"CREATE UNIQUE INDEX certs_issuer_serial ON certs (issuer_kid, "	\
	"serial); CREATE INDEX certs_serial ON certs (serial); "	\
	"CREATE INDEX certs_status_not_after ON certs (status, "	\
	"not_after); "

/*
 * A version 1 store (as keyrite before ACME made it) is upgraded to
 * version 3 when opened: the ACME tables appear, the certificates stay.
 */
static void
test_upgrade_v1(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_info info;
	struct kr_error err;
	sqlite3 *db;

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	issue(f, st, KID, "0b", NOW, NOW + DAY);
	ca_store_close(st);
	db = raw_open(f->path);
	assert_int_equal(sqlite3_exec(db, OLD_INDEXES
	    "DROP TABLE acme_challs; "
	    "DROP TABLE acme_authzs; DROP TABLE acme_orders; "
	    "DROP TABLE acme_accounts; DROP TABLE acme_nonces; "
	    "DROP TABLE acme_eab; UPDATE meta SET value = 1 WHERE "
	    "name = 'schema_version'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	assert_int_equal(ca_store_info(st, &info, &err), KR_OK);
	assert_int_equal(info.schema_version, CA_STORE_SCHEMA_VERSION);
	assert_int_equal(info.valid, 1);
	ca_store_close(st);
	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'table' AND name LIKE 'acme_%'"), 6);
	sqlite3_close(db);
}

/*
 * A version 2 store (with version 1's indexes) is upgraded to version 3
 * when opened: the certificates keep, and are found, revoked and listed
 * for the CRL through the new indexes.
 */
static void
test_upgrade_v2(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_info info;
	struct ca_store_rec g;
	struct ca_revoked *rev = NULL;
	struct kr_error err;
	size_t n = 0;
	sqlite3 *db;

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	issue(f, st, KID, "0b", NOW, NOW + DAY);
	issue(f, st, KID, "0c", NOW, NOW + DAY);
	ca_store_close(st);
	db = raw_open(f->path);
	assert_int_equal(sqlite3_exec(db, OLD_INDEXES "UPDATE meta SET "
	    "value = 2 WHERE name = 'schema_version'", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	assert_int_equal(ca_store_info(st, &info, &err), KR_OK);
	assert_int_equal(info.schema_version, 3);
	assert_int_equal(info.valid, 2);
	assert_int_equal(ca_store_get(st, NULL, "0c", &g, &err), KR_OK);
	ca_store_rec_clear(&g);
	assert_int_equal(ca_store_revoke(st, KID, "0b", 1, NOW + 5, &err),
	    KR_OK);
	assert_int_equal(ca_store_revoked_for_crl(st, KID, NOW + 10, 3600,
	    &rev, &n, &err), KR_OK);
	assert_int_equal(n, 1);
	ca_revoked_free(rev, n);
	ca_store_close(st);
	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'index' AND name IN ('certs_issuer_serial', "
	    "'certs_serial', 'certs_status_not_after')"), 0);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'index' AND name IN ('certs_serial_issuer', "
	    "'certs_not_after', 'certs_revoked', 'certs_unsettled')"), 4);
	sqlite3_close(db);
}

static void
test_open_refuses(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct kr_error err;
	char other[160], link[160];
	sqlite3 *db;

	/* A newer schema version. */
	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	ca_store_close(st);
	db = raw_open(f->path);
	assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = 4 WHERE "
	    "name = 'schema_version'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(ca_store_open(f->path, &st, &err), KR_E_STATE);
	assert_null(st);
	assert_non_null(strstr(err.msg, "newer keyrite"));

	/* Some other application's database. */
	snprintf(other, sizeof(other), "%s/other.db", f->dir);
	assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(chmod(other, 0600), 0);
	assert_int_equal(ca_store_open(other, &st, &err), KR_E_STATE);
	assert_non_null(strstr(err.msg, "not a keyrite issuance store"));

	/* A store others may write. */
	assert_int_equal(chmod(other, 0620), 0);
	assert_int_equal(ca_store_open(other, &st, &err), KR_E_STATE);
	assert_non_null(strstr(err.msg, "chmod 600"));

	/* A symbolic link. */
	snprintf(link, sizeof(link), "%s/link.db", f->dir);
	assert_int_equal(symlink(other, link), 0);
	assert_int_equal(ca_store_open(link, &st, &err), KR_E_STATE);
	assert_null(st);
}

static void
test_reserve_commit_get(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_rec r = mkrec(KID, "7f3a0102", NOW, NOW + DAY), g;
	struct kr_error err;
	uint8_t *der, *other;
	size_t len;
	int64_t id = 0;

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	assert_int_equal(ca_store_reserve(st, &r, NOW - 5, &id, &err), KR_OK);
	/* Recorded before anything is signed: pending, with its TBS. */
	assert_int_equal(ca_store_get(st, KID, "7f3a0102", &g, &err), KR_OK);
	assert_int_equal(g.status, CA_STORE_PENDING);
	assert_int_equal(g.id, id);
	assert_int_equal(g.tbs_len, r.tbs_len);
	assert_memory_equal(g.tbs, r.tbs, r.tbs_len);
	assert_null(g.der);
	ca_store_rec_clear(&g);
	/* The signer's check: these very bytes, pending, of this serial. */
	assert_int_equal(ca_store_pending_is(st, id, KID, "7F3A0102", r.tbs,
	    r.tbs_len, &err), KR_OK);
	assert_int_equal(ca_store_pending_is(st, id, KID, "7f3a0102", r.tbs,
	    r.tbs_len - 1, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "not the pending reservation"));
	assert_non_null(other = malloc(r.tbs_len));
	memcpy(other, r.tbs, r.tbs_len);
	other[r.tbs_len - 1] ^= 1;
	assert_int_equal(ca_store_pending_is(st, id, KID, "7f3a0102", other,
	    r.tbs_len, &err), KR_E_POLICY);
	free(other);
	assert_int_equal(ca_store_pending_is(st, id, KID2, "7f3a0102", r.tbs,
	    r.tbs_len, &err), KR_E_NOTFOUND);
	assert_int_equal(ca_store_pending_is(st, id, KID, "7f3a0103", r.tbs,
	    r.tbs_len, &err), KR_E_NOTFOUND);
	/* The id must be this serial's reservation. */
	assert_int_equal(ca_store_pending_is(st, id + 1, KID, "7f3a0102",
	    r.tbs, r.tbs_len, &err), KR_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "not reserved"));

	assert_true(mkcert(f->key, "7f3a0102", NOW, NOW + DAY, KID, &der,
	    &len));
	assert_int_equal(ca_store_commit(st, id, der, len, &err), KR_OK);
	/* Committed: no longer a reservation to sign. */
	assert_int_equal(ca_store_pending_is(st, id, KID, "7f3a0102", r.tbs,
	    r.tbs_len, &err), KR_E_NOTFOUND);
	ca_store_close(st);

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	/* Upper case, and no issuer named: the same certificate. */
	assert_int_equal(ca_store_get(st, NULL, "7F3A0102", &g, &err), KR_OK);
	assert_int_equal(g.status, CA_STORE_VALID);
	assert_string_equal(g.issuer_kid, KID);
	assert_string_equal(g.serial, "7f3a0102");
	assert_string_equal(g.subject, "CN=www.lab.internal");
	assert_string_equal(g.sans, r.sans);
	assert_string_equal(g.provisioner, "ops");
	assert_int_equal(g.not_before, NOW);
	assert_int_equal(g.not_after, NOW + DAY);
	assert_int_equal(g.created_at, NOW - 5);
	assert_int_equal(g.revoked_at, -1);
	assert_int_equal(g.reason, -1);
	assert_int_equal(g.der_len, len);
	assert_memory_equal(g.der, der, len);
	assert_memory_equal(g.tbs, r.tbs, r.tbs_len);
	ca_store_rec_clear(&g);
	assert_int_equal(ca_store_get(st, KID, "7f3a0103", &g, &err),
	    KR_E_NOTFOUND);
	free(der);
	ca_store_close(st);
}

static void
test_duplicate_serial_refused(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_rec r = mkrec(KID, "0a1b", NOW, NOW + DAY), g;
	struct kr_error err;
	int64_t id = 0, id2 = 0;

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err), KR_OK);
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id2, &err),
	    KR_E_EXISTS);
	assert_int_equal(id2, 0);
	assert_non_null(strstr(err.msg, "draw another"));
	/* Other spellings of the same number are the same serial. */
	r.serial = "A1B";
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id2, &err),
	    KR_E_EXISTS);
	r.serial = "000A1B";
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id2, &err),
	    KR_E_EXISTS);
	/* Abandoned, the serial stays used. */
	assert_int_equal(ca_store_abandon(st, id, &err), KR_OK);
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id2, &err),
	    KR_E_EXISTS);
	/* Unique per issuer: another intermediate may have it. */
	r.issuer_kid = KID2;
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id2, &err), KR_OK);
	assert_int_equal(ca_store_get(st, NULL, "0a1b", &g, &err), KR_E_USAGE);
	assert_non_null(strstr(err.msg, "more than one issuer"));
	assert_int_equal(ca_store_get(st, KID2, "0a1b", &g, &err), KR_OK);
	assert_int_equal(g.id, id2);
	ca_store_rec_clear(&g);
	ca_store_close(st);
}

static void
test_bad_fields_refused(void **state)
{
	static const char *const bad_serials[] = {
		"", "0", "00", "-01", "0x12", "12 ", "g1",
		"0102030405060708090a0b0c0d0e0f101112131415",	/* 21 octets */
	};
	static const char *const bad_sans[] = {
		"DNS:a.lab", "{\"a\":1}", "[", "", "\"x\"", "[1]",
		"[\"DNS:a\"] x",
	};
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_rec r;
	struct ca_store_info info;
	struct kr_error err;
	int64_t id;
	size_t i;

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	for (i = 0; i < sizeof(bad_serials) / sizeof(bad_serials[0]); i++) {
		r = mkrec(KID, bad_serials[i], NOW, NOW + DAY);
		assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err),
		    KR_E_USAGE);
	}
	for (i = 0; i < sizeof(bad_sans) / sizeof(bad_sans[0]); i++) {
		r = mkrec(KID, "01", NOW, NOW + DAY);
		r.sans = bad_sans[i];
		assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err),
		    KR_E_USAGE);
	}
	r = mkrec("abc", "01", NOW, NOW + DAY);		/* odd length */
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err), KR_E_USAGE);
	r = mkrec("zz", "01", NOW, NOW + DAY);
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err), KR_E_USAGE);
	r = mkrec(KID, "01", NOW, NOW - 1);
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err), KR_E_USAGE);
	r = mkrec(KID, "01", NOW, NOW + DAY);
	r.provisioner = "";
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err), KR_E_USAGE);
	r = mkrec(KID, "01", NOW, NOW + DAY);
	r.tbs_len = 0;
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err), KR_E_USAGE);
	/* None of that reserved anything, not even the serial. */
	assert_int_equal(ca_store_info(st, &info, &err), KR_OK);
	assert_int_equal(info.serials, 0);
	r = mkrec(KID, "01", NOW, NOW + DAY);
	r.sans = NULL;					/* none: "[]" */
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err), KR_OK);
	ca_store_close(st);
}

static void
test_commit_must_match_reservation(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_rec r = mkrec(KID, "5555", NOW, NOW + DAY), g;
	struct kr_error err;
	uint8_t *der;
	size_t len;
	int64_t id = 0, id2 = 0;

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err), KR_OK);
	/* Another serial, another validity, another issuer, not DER. */
	assert_true(mkcert(f->key, "5556", NOW, NOW + DAY, KID, &der, &len));
	assert_int_equal(ca_store_commit(st, id, der, len, &err), KR_E_VERIFY);
	free(der);
	assert_true(mkcert(f->key, "5555", NOW, NOW + 2 * DAY, KID, &der,
	    &len));
	assert_int_equal(ca_store_commit(st, id, der, len, &err), KR_E_VERIFY);
	free(der);
	assert_true(mkcert(f->key, "5555", NOW, NOW + DAY, KID2, &der, &len));
	assert_int_equal(ca_store_commit(st, id, der, len, &err), KR_E_VERIFY);
	free(der);
	assert_true(mkcert(f->key, "5555", NOW, NOW + DAY, KID, &der, &len));
	assert_int_equal(ca_store_commit(st, id, der, len - 1, &err),
	    KR_E_VERIFY);
	assert_int_equal(ca_store_get(st, KID, "5555", &g, &err), KR_OK);
	assert_int_equal(g.status, CA_STORE_PENDING);
	ca_store_rec_clear(&g);

	assert_int_equal(ca_store_commit(st, id, der, len, &err), KR_OK);
	/* Once only; and a valid certificate cannot be abandoned. */
	assert_int_equal(ca_store_commit(st, id, der, len, &err), KR_E_STATE);
	assert_int_equal(ca_store_abandon(st, id, &err), KR_E_STATE);
	assert_int_equal(ca_store_commit(st, 9999, der, len, &err),
	    KR_E_NOTFOUND);
	assert_int_equal(ca_store_abandon(st, 9999, &err), KR_E_NOTFOUND);
	free(der);

	/* Abandoned meanwhile (a restart): the commit loses. */
	r = mkrec(KID, "6666", NOW, NOW + DAY);
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id2, &err), KR_OK);
	assert_int_equal(ca_store_abandon(st, id2, &err), KR_OK);
	assert_int_equal(ca_store_abandon(st, id2, &err), KR_OK);
	assert_true(mkcert(f->key, "6666", NOW, NOW + DAY, KID, &der, &len));
	assert_int_equal(ca_store_commit(st, id2, der, len, &err), KR_E_STATE);
	assert_non_null(strstr(err.msg, "must not be sent"));
	free(der);
	assert_int_equal(ca_store_get(st, KID, "6666", &g, &err), KR_OK);
	assert_int_equal(g.status, CA_STORE_ABANDONED);
	assert_null(g.der);
	ca_store_rec_clear(&g);
	ca_store_close(st);
}

static void
test_revoke_and_crl(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_rec r, g;
	struct ca_revoked *rv = NULL;
	struct kr_error err;
	uint64_t v;
	size_t n;
	int64_t id;

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	issue(f, st, KID, "0100", NOW, NOW + 30 * DAY);		/* long */
	issue(f, st, KID, "ff", NOW, NOW + DAY);		/* short */
	issue(f, st, KID, "0200", NOW, NOW + 30 * DAY);		/* kept */
	issue(f, st, KID2, "0300", NOW, NOW + 30 * DAY);	/* other CA */
	assert_int_equal(ca_store_revoke(st, KID, "0100",
	    CRL_REASON_KEY_COMPROMISE, NOW + 10, &err), KR_OK);
	assert_int_equal(ca_store_revoke(st, NULL, "ff", -1, NOW + 20, &err),
	    KR_OK);
	assert_int_equal(ca_store_revoke(st, KID2, "0300",
	    CRL_REASON_SUPERSEDED, NOW + 30, &err), KR_OK);
	/* Again: idempotent, the first time and reason stay. */
	assert_int_equal(ca_store_revoke(st, KID, "0100",
	    CRL_REASON_SUPERSEDED, NOW + 99, &err), KR_OK);
	assert_int_equal(ca_store_get(st, KID, "0100", &g, &err), KR_OK);
	assert_int_equal(g.status, CA_STORE_REVOKED);
	assert_int_equal(g.revoked_at, NOW + 10);
	assert_int_equal(g.reason, CRL_REASON_KEY_COMPROMISE);
	assert_non_null(g.der);
	ca_store_rec_clear(&g);

	/* Refusals. */
	assert_int_equal(ca_store_revoke(st, KID, "0bad", -1, NOW, &err),
	    KR_E_NOTFOUND);
	assert_int_equal(ca_store_revoke(st, KID, "0200",
	    CRL_REASON_CERTIFICATE_HOLD, NOW, &err), KR_E_USAGE);
	assert_int_equal(ca_store_revoke(st, KID, "0200", 7, NOW, &err),
	    KR_E_USAGE);
	r = mkrec(KID, "0400", NOW, NOW + DAY);
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err), KR_OK);
	assert_int_equal(ca_store_revoke(st, KID, "0400", -1, NOW, &err),
	    KR_E_STATE);

	/* Before anything expired: both of KID's, in serial order. */
	assert_int_equal(ca_store_revoked_for_crl(st, KID, NOW + 100, DAY,
	    &rv, &n, &err), KR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(ASN1_INTEGER_get_uint64(&v, rv[0].serial), 1);
	assert_int_equal(v, 0xff);
	assert_int_equal(rv[0].when, NOW + 20);
	assert_int_equal(rv[0].reason, -1);
	assert_int_equal(ASN1_INTEGER_get_uint64(&v, rv[1].serial), 1);
	assert_int_equal(v, 0x100);
	assert_int_equal(rv[1].reason, CRL_REASON_KEY_COMPROMISE);
	ca_revoked_free(rv, n);

	/* "ff" expired, but within one CRL interval: still listed. */
	assert_int_equal(ca_store_revoked_for_crl(st, KID, NOW + 2 * DAY - 1,
	    DAY, &rv, &n, &err), KR_OK);
	assert_int_equal(n, 2);
	ca_revoked_free(rv, n);
	/* Past that: dropped. */
	assert_int_equal(ca_store_revoked_for_crl(st, KID, NOW + 2 * DAY + 1,
	    DAY, &rv, &n, &err), KR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ASN1_INTEGER_get_uint64(&v, rv[0].serial), 1);
	assert_int_equal(v, 0x100);
	ca_revoked_free(rv, n);
	/* With no interval, dropped as soon as it expired. */
	assert_int_equal(ca_store_revoked_for_crl(st, KID, NOW + DAY + 1, 0,
	    &rv, &n, &err), KR_OK);
	assert_int_equal(n, 1);
	ca_revoked_free(rv, n);
	/* The other intermediate's CRL has only its own. */
	assert_int_equal(ca_store_revoked_for_crl(st, KID2, NOW, DAY, &rv,
	    &n, &err), KR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ASN1_INTEGER_get_uint64(&v, rv[0].serial), 1);
	assert_int_equal(v, 0x300);
	assert_int_equal(rv[0].reason, CRL_REASON_SUPERSEDED);
	ca_revoked_free(rv, n);
	ca_store_close(st);

	/* Revocations persist. */
	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	assert_int_equal(ca_store_revoked_for_crl(st, KID, NOW, DAY, &rv, &n,
	    &err), KR_OK);
	assert_int_equal(n, 2);
	ca_revoked_free(rv, n);
	ca_store_close(st);
}

static void
test_crl_numbers_increase(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_info info;
	struct kr_error err;
	ASN1_INTEGER *ai;
	sqlite3 *db;

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	assert_int_equal(crlnum(st), 1);
	assert_int_equal(crlnum(st), 2);
	assert_int_equal(crlnum(st), 3);
	ca_store_close(st);
	/* Persisted before it was returned. */
	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE name = "
	    "'crl_number'"), 3);
	/* And the schema itself refuses to lower it. */
	assert_int_not_equal(sqlite3_exec(db, "UPDATE meta SET value = 1 "
	    "WHERE name = 'crl_number'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	assert_int_equal(crlnum(st), 4);
	/* Raised past a published CRL (a restored backup), never lowered. */
	assert_non_null(ai = ASN1_INTEGER_new());
	assert_int_equal(ASN1_INTEGER_set_int64(ai, 1000), 1);
	assert_int_equal(ca_store_crl_number_raise(st, ai, &err), KR_OK);
	assert_int_equal(crlnum(st), 1001);
	assert_int_equal(ASN1_INTEGER_set_int64(ai, 5), 1);
	assert_int_equal(ca_store_crl_number_raise(st, ai, &err), KR_OK);
	assert_int_equal(crlnum(st), 1002);
	ASN1_INTEGER_free(ai);
	assert_int_equal(ca_store_info(st, &info, &err), KR_OK);
	assert_int_equal(info.crl_number, 1002);
	ca_store_close(st);
}

/*
 * The schema itself refuses the changes the crash guarantees forbid, so
 * a bug or a hand edit with sqlite3(1) cannot make them.
 */
static void
test_schema_guards(void **state)
{
	static const char *const forbidden[] = {
		"DELETE FROM serials WHERE serial = '09'",
		"UPDATE serials SET serial = '99' WHERE serial = '09'",
		"DELETE FROM serials",
		"UPDATE meta SET value = 0 WHERE name = 'crl_number'",
		"DELETE FROM meta WHERE name = 'crl_number'",
		"UPDATE certs SET status = 'pending', der = NULL "
		    "WHERE serial = '01'",
		"UPDATE certs SET der = x'3000' WHERE serial = '01'",
		"UPDATE certs SET serial = '77' WHERE serial = '01'",
		"UPDATE certs SET status = 'valid' WHERE serial = '02'",
		"UPDATE certs SET status = 'revoked' WHERE serial = '03'",
		"INSERT INTO certs (issuer_kid, serial, subject, not_before, "
		    "not_after, provisioner, status, created_at, tbs) VALUES "
		    "('aa', '55', '', 0, 1, 'p', 'pending', 0, x'00')",
	};
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_rec r;
	struct kr_error err;
	int64_t id;
	size_t i;
	sqlite3 *db;

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	/* "09" is tidied away: only the ledger row is left. */
	issue(f, st, KID, "09", NOW - 20 * DAY, NOW - 10 * DAY);
	assert_int_equal(ca_store_tidy(st, NOW, 0, NULL, &err), KR_OK);
	issue(f, st, KID, "01", NOW, NOW + DAY);
	r = mkrec(KID, "02", NOW, NOW + DAY);
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err), KR_OK);
	assert_int_equal(ca_store_abandon(st, id, &err), KR_OK);
	r = mkrec(KID, "03", NOW, NOW + DAY);
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err), KR_OK);
	assert_int_equal(crlnum(st), 1);
	ca_store_close(st);

	db = raw_open(f->path);
	assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL,
	    NULL, NULL), SQLITE_OK);
	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
		if (sqlite3_exec(db, forbidden[i], NULL, NULL, NULL) ==
		    SQLITE_OK)
			fail_msg("the schema allowed: %s", forbidden[i]);
	/* The permitted moves are allowed. */
	assert_int_equal(sqlite3_exec(db, "UPDATE certs SET status = "
	    "'abandoned' WHERE serial = '03'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* The group's reservation that burns a token: both, or neither. */
/*
 * From now on every fdatasync of this process (all its threads, the
 * group's syncer among them) fails with EIO: a seccomp filter, so the
 * kernel itself refuses the system call.
 */
static int
fail_fdatasync(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fdatasync, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]),
	    .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_TSYNC, &prog);
}

/*
 * The child of test_group_sync_fails: its exit status says which step
 * went wrong (0: all as expected).  No cmocka asserts here: a failed
 * one would unwind into the parent's copy of the test runner.
 */
static int
sync_fails_child(struct fixture *f)
{
	struct ca_store_group *g = NULL;
	struct ca_store_rec r1 = mkrec(KID, "9901", NOW, NOW + DAY);
	struct ca_store_rec r2 = mkrec(KID, "9902", NOW, NOW + DAY);
	struct ca_store_rec r3 = mkrec(KID, "9903", NOW, NOW + DAY);
	struct kr_error err;
	uint8_t *der = NULL;
	size_t len;
	int64_t id = 0;

	if (ca_store_group_open(f->path, &g, &err) != KR_OK)
		return 10;
	/* One certificate while the disk works (the log is started). */
	if (ca_store_group_reserve(g, &r1, NOW, &id, &err) != KR_OK ||
	    !mkcert(f->key, "9901", NOW, NOW + DAY, KID, &der, &len) ||
	    ca_store_group_commit(g, id, der, len, &err) != KR_OK)
		return 11;
	free(der);
	der = NULL;
	if (fail_fdatasync() != 0)
		return 12;
	/*
	 * The reservation is only written to the log: it returns.  The
	 * commit waits for its fdatasync, which fails: so does the commit.
	 */
	if (ca_store_group_reserve(g, &r2, NOW, &id, &err) != KR_OK)
		return 13;
	if (!mkcert(f->key, "9902", NOW, NOW + DAY, KID, &der, &len))
		return 14;
	if (ca_store_group_commit(g, id, der, len, &err) != KR_E_IO)
		return 15;
	if (strstr(err.msg, "cannot sync the log") == NULL ||
	    strstr(err.msg, "Input/output error") == NULL)
		return 16;
	free(der);
	/* Latched: nothing more is written, not even a reservation. */
	if (ca_store_group_reserve(g, &r3, NOW, &id, &err) != KR_E_IO ||
	    strstr(err.msg, "until the store is opened again") == NULL)
		return 17;
	ca_store_group_close(g);
	return 0;
}

static void
test_group_sync_fails(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_rec got;
	struct kr_error err;
	pid_t pid;
	int ws;

#if !defined(__x86_64__)
	skip();	/* the seccomp filter checks for x86_64's numbers */
#endif
	assert_int_not_equal(pid = fork(), -1);
	if (pid == 0)
		_exit(sync_fails_child(f));
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
	/* Opened again, the store works; the refused reservation is not in. */
	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	assert_int_equal(ca_store_get(st, KID, "9901", &got, &err), KR_OK);
	assert_int_equal(got.status, CA_STORE_VALID);
	ca_store_rec_clear(&got);
	assert_int_equal(ca_store_get(st, KID, "9903", &got, &err),
	    KR_E_NOTFOUND);
	ca_store_close(st);
}

/*
 * The log starts over under steady load.  Four threads issue without a
 * pause through one group while a fifth reads the way the signers do,
 * with checkpoint rounds every 256 frames (about 1 MB of log): about
 * 40 MB of frames are written in all, and the log file must stay within
 * a few rounds' size.  Before the checkpointer's gap between groups, a
 * log that writers always append to was never started over: it held
 * every frame written.
 */
#define WAL_WRITERS	4
#define WAL_CERTS	600	/* a writer */

struct wal_load {
	struct fixture		*f;
	struct ca_store_group	*g;
	int			 n;	/* the writer's number */
	atomic_int		*stop;
	int			 bad;
};

static void *
wal_writer(void *arg)
{
	struct wal_load *w = arg;
	struct ca_store_rec r;
	struct kr_error err;
	char serial[32];
	uint8_t *der;
	size_t len;
	int64_t id;
	int i;

	for (i = 0; i < WAL_CERTS && !w->bad; i++) {
		snprintf(serial, sizeof(serial), "%02x%06x", 0x10 + w->n, i);
		r = mkrec(KID, serial, NOW, NOW + DAY);
		ca_store_group_busy(w->g, 1);
		if (ca_store_group_reserve(w->g, &r, NOW, &id, &err) !=
		    KR_OK ||
		    !mkcert(w->f->key, serial, NOW, NOW + DAY, KID, &der,
		    &len))
			w->bad = 1;
		else {
			if (ca_store_group_commit(w->g, id, der, len, &err) !=
			    KR_OK)
				w->bad = 1;
			free(der);
		}
		ca_store_group_busy(w->g, -1);
	}
	return NULL;
}

static void *
wal_reader(void *arg)
{
	struct wal_load *w = arg;
	struct ca_store *st = NULL;
	struct ca_store_rec r;
	struct kr_error err;
	int i = 0;

	if (ca_store_open(w->f->path, &st, &err) != KR_OK) {
		w->bad = 1;
		return NULL;
	}
	/* Point reads of the rows being written, as the signers make. */
	while (!atomic_load(w->stop)) {
		char serial[32];

		snprintf(serial, sizeof(serial), "10%06x", i++ % WAL_CERTS);
		if (ca_store_get(st, KID, serial, &r, &err) == KR_OK)
			ca_store_rec_clear(&r);
		else if (err.code != KR_E_NOTFOUND)
			w->bad = 1;
	}
	ca_store_close(st);
	return NULL;
}

static void
test_group_log_starts_over(void **state)
{
	struct fixture *f = *state;
	struct ca_store_group *g = NULL;
	struct wal_load w[WAL_WRITERS + 1];
	pthread_t t[WAL_WRITERS + 1];
	atomic_int stop = 0;
	char wal[1100];
	struct stat sb;
	struct kr_error err;
	int i;

	assert_int_equal(ca_store_group_open(f->path, &g, &err), KR_OK);
	ca_store_group_ckpt_frames(g, 256);
	for (i = 0; i <= WAL_WRITERS; i++) {
		w[i] = (struct wal_load){ .f = f, .g = g, .n = i,
		    .stop = &stop };
		assert_int_equal(pthread_create(&t[i], NULL, i < WAL_WRITERS ?
		    wal_writer : wal_reader, &w[i]), 0);
	}
	for (i = 0; i < WAL_WRITERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	atomic_store(&stop, 1);
	assert_int_equal(pthread_join(t[WAL_WRITERS], NULL), 0);
	for (i = 0; i <= WAL_WRITERS; i++)
		assert_int_equal(w[i].bad, 0);
	/* Read before the group closes (closing checkpoints it away). */
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &sb), 0);
	ca_store_group_close(g);
	/*
	 * 256 frames are about 1 MB, and all the frames written would be
	 * about 70 MB; allow many rounds that missed (a reader of an older
	 * snapshot keeps the log from starting over; under a loaded
	 * machine's scheduling that happens more often).
	 */
	if (sb.st_size > 24 * 1024 * 1024)
		fail_msg("the log grew to %lld bytes", (long long)sb.st_size);
}

/* Whether a thread of this process is named name. */
static int
thread_named(const char *name)
{
	char path[300], comm[32];
	struct dirent *de;
	DIR *d;
	FILE *fp;
	int found = 0;

	if ((d = opendir("/proc/self/task")) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
		    de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof(comm), fp) != NULL) {
			comm[strcspn(comm, "\n")] = '\0';
			found = strcmp(comm, name) == 0;
		}
		fclose(fp);
	}
	closedir(d);
	return found;
}

/*
 * An announcement (ca_store_group_busy +1) is one per thread and ends
 * with the thread's next group call, or with -1; a -1 without one does
 * nothing.  A count left over would make the writer wait its full
 * linger before every commit.
 */
static void
test_group_announce(void **state)
{
	struct fixture *f = *state;
	struct ca_store_group *g = NULL;
	struct ca_store_rec r = mkrec(KID, "6a01", NOW, NOW + DAY);
	struct kr_error err;
	uint8_t *der;
	size_t len;
	int64_t id = 0;

	assert_int_equal(ca_store_group_open(f->path, &g, &err), KR_OK);
	/* Its threads are named for ps and top. */
	assert_true(thread_named("store-write"));
	assert_true(thread_named("store-sync"));
	assert_true(thread_named("store-ckpt"));
	assert_int_equal(ca_store_group_announced(g), 0);
	ca_store_group_busy(g, 1);
	ca_store_group_busy(g, 1);
	assert_int_equal(ca_store_group_announced(g), 1);
	assert_int_equal(ca_store_group_reserve(g, &r, NOW, &id, &err),
	    KR_OK);
	assert_int_equal(ca_store_group_announced(g), 0);
	/* Announced again for the commit; a failing call ends it too. */
	ca_store_group_busy(g, 1);
	assert_int_not_equal(ca_store_group_commit(g, id, (const uint8_t *)"x",
	    1, &err), KR_OK);
	assert_int_equal(ca_store_group_announced(g), 0);
	ca_store_group_busy(g, 1);
	assert_true(mkcert(f->key, "6a01", NOW, NOW + DAY, KID, &der, &len));
	assert_int_equal(ca_store_group_commit(g, id, der, len, &err), KR_OK);
	free(der);
	assert_int_equal(ca_store_group_announced(g), 0);
	/* Announced and then not called after all. */
	ca_store_group_busy(g, 1);
	ca_store_group_busy(g, -1);
	assert_int_equal(ca_store_group_announced(g), 0);
	ca_store_group_busy(g, -1);
	assert_int_equal(ca_store_group_announced(g), 0);
	ca_store_group_close(g);
}

struct joiner {
	struct ca_store_group	*g;
	atomic_int		 announced;
	enum kr_err		 rc;
	int64_t			 id;
};

/* Announce, let the main thread queue its call, then queue ours. */
static void *
joiner_run(void *arg)
{
	struct joiner *j = arg;
	struct ca_store_rec r = mkrec(KID, "6b02", NOW, NOW + DAY);
	struct kr_error err;

	ca_store_group_busy(j->g, 1);
	atomic_store(&j->announced, 1);
	usleep(50000);
	j->rc = ca_store_group_reserve(j->g, &r, NOW, &j->id, &err);
	return NULL;
}

/* Announce, and end the announcement without a call when told. */
static void *
idler_run(void *arg)
{
	struct joiner *j = arg;

	ca_store_group_busy(j->g, 1);
	atomic_store(&j->announced, 1);
	while (atomic_load(&j->announced) != 2)
		usleep(1000);
	ca_store_group_busy(j->g, -1);
	return NULL;
}

/* Start fn on a fresh *j for g, and wait until it has announced. */
static void
joiner_start(struct joiner *j, struct ca_store_group *g, pthread_t *t,
    void *(*fn)(void *))
{
	memset(j, 0, sizeof(*j));
	j->g = g;
	assert_int_equal(pthread_create(t, NULL, fn, j), 0);
	while (!atomic_load(&j->announced))
		usleep(1000);
}

/*
 * The writer waits for an announced thread's call and commits it in the
 * same group, as soon as it is queued (not at the end of the wait); it
 * stops waiting at the deadline for a thread that never calls.
 */
static void
test_group_linger(void **state)
{
	struct fixture *f = *state;
	struct ca_store_group *g = NULL;
	struct ca_store_rec r = mkrec(KID, "6b01", NOW, NOW + DAY);
	struct joiner j;
	struct kr_error err;
	struct timespec t0, t1;
	pthread_t t;
	int64_t id = 0;

	assert_int_equal(ca_store_group_open(f->path, &g, &err), KR_OK);
	ca_store_group_linger(g, 20 * 1000 * 1000);
	joiner_start(&j, g, &t, joiner_run);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ca_store_group_reserve(g, &r, NOW, &id, &err),
	    KR_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(t, NULL);
	assert_int_equal(j.rc, KR_OK);
	assert_true(id > 0 && j.id > 0 && id != j.id);
	/* One group for both, ended by the second call, not the deadline. */
	assert_int_equal(ca_store_group_commits(g), 1);
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	/* Announced and never called: the deadline ends the wait. */
	ca_store_group_linger(g, 100 * 1000);
	joiner_start(&j, g, &t, idler_run);
	r = mkrec(KID, "6b03", NOW, NOW + DAY);
	assert_int_equal(ca_store_group_reserve(g, &r, NOW, &id, &err),
	    KR_OK);
	assert_int_equal(ca_store_group_commits(g), 2);
	atomic_store(&j.announced, 2);
	pthread_join(t, NULL);
	assert_int_equal(ca_store_group_announced(g), 0);
	ca_store_group_close(g);
}

static void
test_group_reserve_jti(void **state)
{
	struct fixture *f = *state;
	struct ca_store_group *g = NULL;
	struct ca_store *st = NULL;
	struct ca_store_rec r = mkrec(KID, "7777", NOW, NOW + DAY), got;
	struct kr_error err;
	uint8_t *der;
	size_t len;
	int64_t id = 0;

	assert_int_equal(ca_store_group_open(f->path, &g, &err), KR_OK);
	assert_int_equal(ca_store_group_reserve_jti(g, &r, NOW, "tok-1",
	    NOW + 300, NOW, &id, &err), KR_OK);
	assert_true(id > 0);
	assert_true(mkcert(f->key, "7777", NOW, NOW + DAY, KID, &der, &len));
	assert_int_equal(ca_store_group_commit(g, id, der, len, &err), KR_OK);
	free(der);
	/* The token again, for another serial: refused, nothing reserved. */
	r = mkrec(KID, "7778", NOW, NOW + DAY);
	assert_int_equal(ca_store_group_reserve_jti(g, &r, NOW, "tok-1",
	    NOW + 300, NOW + 1, &id, &err), KR_E_AUTH);
	assert_non_null(strstr(err.msg, "token already used"));
	/* Expired: refused the same way. */
	assert_int_equal(ca_store_group_reserve_jti(g, &r, NOW, "tok-2",
	    NOW - 1, NOW, &id, &err), KR_E_AUTH);
	assert_non_null(strstr(err.msg, "token expired"));
	ca_store_group_close(g);
	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	assert_int_equal(ca_store_get(st, KID, "7778", &got, &err),
	    KR_E_NOTFOUND);
	/* Burnt for good (its provisioner is the record's). */
	assert_int_equal(ca_store_jti_use(st, "ops", "tok-1", NOW + 300,
	    NOW + 2, &err), KR_E_AUTH);
	assert_int_equal(ca_store_jti_use(st, "ops", "tok-2", NOW + 300,
	    NOW, &err), KR_OK);
	ca_store_close(st);
}

static void
test_jti_used_once(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_tidied t;
	struct ca_store_info info;
	struct kr_error err;

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	assert_int_equal(ca_store_jti_use(st, "ops", "tok-1", NOW + 300, NOW,
	    &err), KR_OK);
	assert_int_equal(ca_store_jti_use(st, "ops", "tok-1", NOW + 300,
	    NOW + 1, &err), KR_E_AUTH);
	assert_non_null(strstr(err.msg, "token already used"));
	/* Scoped per provisioner. */
	assert_int_equal(ca_store_jti_use(st, "ci", "tok-1", NOW + 300, NOW,
	    &err), KR_OK);
	/* Expired, or expiring this second: refused, and not remembered. */
	assert_int_equal(ca_store_jti_use(st, "ops", "tok-2", NOW - 1, NOW,
	    &err), KR_E_AUTH);
	assert_non_null(strstr(err.msg, "token expired"));
	assert_int_equal(ca_store_jti_use(st, "ops", "tok-2", NOW, NOW, &err),
	    KR_E_AUTH);
	assert_int_equal(ca_store_jti_use(st, "ops", "", NOW + 9, NOW, &err),
	    KR_E_USAGE);
	assert_int_equal(ca_store_jti_use(st, "ops", "tok-3", NOW + 10 * DAY,
	    NOW, &err), KR_OK);
	ca_store_close(st);

	/* Remembered across reopen. */
	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	assert_int_equal(ca_store_jti_use(st, "ops", "tok-1", NOW + 300,
	    NOW + 2, &err), KR_E_AUTH);
	/* Tidy before exp + grace keeps it: still refused. */
	assert_int_equal(ca_store_tidy(st, NOW + 300 + CA_STORE_JTI_GRACE, 0,
	    &t, &err), KR_OK);
	assert_int_equal(t.jtis, 0);
	assert_int_equal(ca_store_jti_use(st, "ops", "tok-1", NOW + 300,
	    NOW + 299, &err), KR_E_AUTH);
	assert_non_null(strstr(err.msg, "already used"));
	/* After it: forgotten (both tok-1), and the expiry check refuses. */
	assert_int_equal(ca_store_tidy(st, NOW + 301 + CA_STORE_JTI_GRACE, 0,
	    &t, &err), KR_OK);
	assert_int_equal(t.jtis, 2);
	assert_int_equal(ca_store_info(st, &info, &err), KR_OK);
	assert_int_equal(info.jtis, 1);
	assert_int_equal(ca_store_jti_use(st, "ops", "tok-1", NOW + 300,
	    NOW + 301 + CA_STORE_JTI_GRACE, &err), KR_E_AUTH);
	assert_non_null(strstr(err.msg, "token expired"));
	assert_int_equal(ca_store_jti_use(st, "ops", "tok-3", NOW + 10 * DAY,
	    NOW + 302 + CA_STORE_JTI_GRACE, &err), KR_E_AUTH);
	ca_store_close(st);
}

static void
test_tidy_certificates(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_rec r, g;
	struct ca_store_tidied t;
	struct ca_revoked *rv = NULL;
	struct ca_store_info info;
	struct kr_error err;
	size_t n;
	int64_t id, idp;
	time_t later = NOW + 40 * DAY;

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	issue(f, st, KID, "01", NOW, NOW + DAY);		/* old valid */
	issue(f, st, KID, "02", NOW, NOW + DAY);		/* old, rev. */
	issue(f, st, KID, "03", NOW, NOW + 60 * DAY);		/* revoked */
	issue(f, st, KID, "04", NOW, later - DAY);		/* recent */
	r = mkrec(KID, "05", NOW, NOW + DAY);			/* abandoned */
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err), KR_OK);
	assert_int_equal(ca_store_abandon(st, id, &err), KR_OK);
	r = mkrec(KID, "06", NOW, NOW + DAY);			/* pending */
	assert_int_equal(ca_store_reserve(st, &r, NOW, &idp, &err), KR_OK);
	assert_int_equal(ca_store_revoke(st, KID, "02", -1, NOW + 1, &err),
	    KR_OK);
	assert_int_equal(ca_store_revoke(st, KID, "03", -1, NOW + 1, &err),
	    KR_OK);

	assert_int_equal(ca_store_tidy(st, later, -1, &t, &err), KR_E_USAGE);
	assert_int_equal(ca_store_tidy(st, later, 7 * DAY, &t, &err), KR_OK);
	assert_int_equal(t.certs, 3);
	assert_int_equal(ca_store_get(st, KID, "01", &g, &err), KR_E_NOTFOUND);
	assert_int_equal(ca_store_get(st, KID, "02", &g, &err), KR_E_NOTFOUND);
	assert_int_equal(ca_store_get(st, KID, "05", &g, &err), KR_E_NOTFOUND);
	assert_int_equal(ca_store_get(st, KID, "04", &g, &err), KR_OK);
	ca_store_rec_clear(&g);
	/* A pending reservation waits for recovery, never for tidy. */
	assert_int_equal(ca_store_get(st, KID, "06", &g, &err), KR_OK);
	assert_int_equal(g.status, CA_STORE_PENDING);
	ca_store_rec_clear(&g);
	/* Revoked and not expired: still there for the CRL. */
	assert_int_equal(ca_store_revoked_for_crl(st, KID, later, DAY, &rv, &n,
	    &err), KR_OK);
	assert_int_equal(n, 1);
	ca_revoked_free(rv, n);
	/* The tidied serials are never handed out again. */
	r = mkrec(KID, "01", later, later + DAY);
	assert_int_equal(ca_store_reserve(st, &r, later, &id, &err),
	    KR_E_EXISTS);
	r.serial = "05";
	assert_int_equal(ca_store_reserve(st, &r, later, &id, &err),
	    KR_E_EXISTS);
	assert_int_equal(ca_store_info(st, &info, &err), KR_OK);
	assert_int_equal(info.serials, 6);
	/* Counted through the indexes (S_COUNTS): each status apart. */
	assert_int_equal(info.pending, 1);
	assert_int_equal(info.revoked, 1);
	assert_int_equal(info.valid, 1);
	assert_int_equal(info.abandoned, 0);
	/* The same for /metrics, without the ledger's scans. */
	memset(&info, 0xff, sizeof(info));
	assert_int_equal(ca_store_status_counts(st, &info, &err), KR_OK);
	assert_int_equal(info.pending, 1);
	assert_int_equal(info.revoked, 1);
	assert_int_equal(info.valid, 1);
	assert_int_equal(info.abandoned, 0);
	assert_int_equal(info.serials, 0);
	assert_int_equal(info.jtis, 0);
	ca_store_close(st);
}

static void
test_list_filters(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct ca_store_filter flt;
	struct ca_store_rec *recs = NULL, r;
	struct kr_error err;
	size_t n;
	int64_t id;

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	issue(f, st, KID, "01", NOW, NOW + DAY);
	issue(f, st, KID, "02", NOW, NOW + 10 * DAY);
	issue(f, st, KID2, "03", NOW, NOW + 2 * DAY);
	r = mkrec(KID, "04", NOW, NOW + DAY);
	assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err), KR_OK);
	assert_int_equal(ca_store_revoke(st, KID, "02", -1, NOW, &err), KR_OK);

	assert_int_equal(ca_store_list(st, NULL, &recs, &n, &err), KR_OK);
	assert_int_equal(n, 4);
	assert_string_equal(recs[0].serial, "01");
	assert_null(recs[0].der);
	assert_null(recs[0].tbs);
	ca_store_recs_free(recs, n);

	memset(&flt, 0, sizeof(flt));
	flt.statuses = CA_STORE_VALID;
	flt.with_der = 1;
	assert_int_equal(ca_store_list(st, &flt, &recs, &n, &err), KR_OK);
	assert_int_equal(n, 2);
	assert_string_equal(recs[0].serial, "01");
	assert_string_equal(recs[1].serial, "03");
	assert_non_null(recs[1].der);
	ca_store_recs_free(recs, n);

	/* Valid and expiring within two days (exactly at the edge too). */
	flt.expiring_within = 2 * DAY;
	flt.now = NOW;
	assert_int_equal(ca_store_list(st, &flt, &recs, &n, &err), KR_OK);
	assert_int_equal(n, 2);
	ca_store_recs_free(recs, n);
	flt.now = NOW + DAY + 1;		/* "01" has expired */
	assert_int_equal(ca_store_list(st, &flt, &recs, &n, &err), KR_OK);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].serial, "03");
	ca_store_recs_free(recs, n);

	memset(&flt, 0, sizeof(flt));
	flt.issuer_kid = KID;
	flt.statuses = CA_STORE_REVOKED | CA_STORE_PENDING;
	assert_int_equal(ca_store_list(st, &flt, &recs, &n, &err), KR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(recs[0].status, CA_STORE_REVOKED);
	assert_int_equal(recs[1].status, CA_STORE_PENDING);
	ca_store_recs_free(recs, n);

	/* Paging. */
	memset(&flt, 0, sizeof(flt));
	flt.limit = 3;
	assert_int_equal(ca_store_list(st, &flt, &recs, &n, &err), KR_OK);
	assert_int_equal(n, 3);
	flt.after_id = recs[2].id;
	ca_store_recs_free(recs, n);
	assert_int_equal(ca_store_list(st, &flt, &recs, &n, &err), KR_OK);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].serial, "04");
	ca_store_recs_free(recs, n);
	flt.after_id = id;
	assert_int_equal(ca_store_list(st, &flt, &recs, &n, &err), KR_OK);
	assert_int_equal(n, 0);
	assert_null(recs);

	assert_int_equal(ca_store_pending(st, &recs, &n, &err), KR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(recs[0].id, id);
	ca_store_recs_free(recs, n);
	ca_store_close(st);
}

/*
 * The crash test.  A child issues certificates in a loop (reserve, sign,
 * commit) and takes CRL numbers, and tells the parent over a pipe, each
 * line in one write() after the call returned:
 *
 *   S <serial> <sha256 of DER>   committed
 *   P <serial>                   reserved and deliberately left pending
 *   C <number>                   CRL number handed out
 *
 * The parent SIGKILLs it at a random moment and then checks the store.
 */
#define CRASH_ROUNDS	6
#define CRASH_MAX	4096

struct crash_log {
	char		 s[CRASH_MAX][64];
	char		 sha[CRASH_MAX][65];
	size_t		 ns;
	char		 p[CRASH_MAX][64];
	size_t		 np;
	uint64_t	 maxcrl;
};

static void
say(int fd, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n <= 0 || write(fd, line, (size_t)n) != n)
		_exit(4);
}

static void
sha_hex(const uint8_t *buf, size_t len, char out[65])
{
	unsigned char md[32];

	if (EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL) != 1)
		_exit(5);
	kr_hex(md, 32, out);
}

static void __attribute__((noreturn))
crash_child(const char *path, int fd)
{
	struct ca_store *st = NULL;
	struct ca_store_rec r;
	struct kr_error err;
	ASN1_INTEGER *ai = NULL;
	EVP_PKEY *key;
	uint8_t *der;
	size_t len;
	char *hex, sha[65];
	uint64_t v;
	int64_t id;
	unsigned i;

	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    ca_store_open(path, &st, &err) != KR_OK)
		_exit(2);
	for (i = 0;; i++) {
		if (ca_serial_new(&ai, &err) != KR_OK ||
		    (hex = ca_serial_hex(ai)) == NULL)
			_exit(2);
		ASN1_INTEGER_free(ai);
		r = mkrec(KID, hex, NOW, NOW + DAY);
		if (ca_store_reserve(st, &r, NOW, &id, &err) != KR_OK)
			_exit(3);
		if (i % 5 == 4) {
			say(fd, "P %s\n", hex);
			free(hex);
			continue;
		}
		if (!mkcert(key, hex, NOW, NOW + DAY, KID, &der, &len) ||
		    ca_store_commit(st, id, der, len, &err) != KR_OK)
			_exit(3);
		sha_hex(der, len, sha);
		say(fd, "S %s %s\n", hex, sha);
		free(der);
		free(hex);
		if (i % 3 == 0) {
			if (ca_store_next_crl_number(st, &ai, &err) != KR_OK ||
			    ASN1_INTEGER_get_uint64(&v, ai) != 1)
				_exit(3);
			ASN1_INTEGER_free(ai);
			say(fd, "C %llu\n", (unsigned long long)v);
		}
	}
}

/* Parse one report line into the log. */
static void
crash_record(struct crash_log *lg, const char *line)
{
	char a[64], b[80];
	unsigned long long v;

	if (sscanf(line, "S %63s %79s", a, b) == 2) {
		assert_true(lg->ns < CRASH_MAX);
		assert_int_equal(strlen(b), 64);
		snprintf(lg->s[lg->ns], sizeof(lg->s[0]), "%s", a);
		memcpy(lg->sha[lg->ns], b, 65);
		lg->ns++;
	} else if (sscanf(line, "P %63s", a) == 1) {
		assert_true(lg->np < CRASH_MAX);
		snprintf(lg->p[lg->np++], sizeof(lg->p[0]), "%s", a);
	} else if (sscanf(line, "C %llu", &v) == 1) {
		if (v > lg->maxcrl)
			lg->maxcrl = v;
	} else
		fail_msg("bad report line: %s", line);
}

static int
strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run one child, kill it at a random moment, collect what it said. */
static void
crash_round(const char *path, struct crash_log *lg)
{
	char line[256];
	FILE *in;
	pid_t pid;
	int pfd[2], status;
	size_t want, got = 0;

	want = 1 + (size_t)(rand() % 40);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		crash_child(path, pfd[1]);
	}
	close(pfd[1]);
	assert_non_null(in = fdopen(pfd[0], "r"));
	while (got < want && fgets(line, sizeof(line), in) != NULL) {
		crash_record(lg, line);
		got++;
	}
	assert_int_equal(got, want);	/* else the child died by itself */
	usleep((useconds_t)(rand() % 3000));
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	/* Everything written before the kill is complete lines. */
	while (fgets(line, sizeof(line), in) != NULL)
		crash_record(lg, line);
	fclose(in);
}

static void
crash_check(struct fixture *f, struct crash_log *lg)
{
	struct ca_store *st = NULL;
	struct ca_store_rec g, *recs = NULL, *pend = NULL;
	struct ca_store_rec r;
	struct kr_error err;
	const char **serials;
	char sha[65];
	size_t n, np, i, j;
	int64_t id;

	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	/* Every certificate the child reported is there, as it was. */
	for (i = 0; i < lg->ns; i++) {
		assert_int_equal(ca_store_get(st, KID, lg->s[i], &g, &err),
		    KR_OK);
		assert_int_equal(g.status, CA_STORE_VALID);
		assert_non_null(g.der);
		sha_hex(g.der, g.der_len, sha);
		assert_string_equal(sha, lg->sha[i]);
		ca_store_rec_clear(&g);
	}
	/* No serial twice. */
	assert_int_equal(ca_store_list(st, NULL, &recs, &n, &err), KR_OK);
	assert_non_null(serials = calloc(n, sizeof(*serials)));
	for (i = 0; i < n; i++)
		serials[i] = recs[i].serial;
	qsort(serials, n, sizeof(*serials), strcmp_p);
	for (i = 1; i < n; i++)
		assert_string_not_equal(serials[i - 1], serials[i]);
	free(serials);
	/* Every reservation left pending is listed for recovery, and no
	 * pending one is a certificate the child reported. */
	assert_int_equal(ca_store_pending(st, &pend, &np, &err), KR_OK);
	for (i = 0; i < lg->np; i++) {
		for (j = 0; j < np; j++)
			if (strcmp(pend[j].serial, lg->p[i]) == 0)
				break;
		assert_true(j < np);
	}
	for (j = 0; j < np; j++)
		for (i = 0; i < lg->ns; i++)
			assert_string_not_equal(pend[j].serial, lg->s[i]);
	/* No serial is ever handed out again. */
	for (i = 0; i < lg->ns; i += 7) {
		r = mkrec(KID, lg->s[i], NOW, NOW + DAY);
		assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err),
		    KR_E_EXISTS);
	}
	for (j = 0; j < np; j++) {
		r = mkrec(KID, pend[j].serial, NOW, NOW + DAY);
		assert_int_equal(ca_store_reserve(st, &r, NOW, &id, &err),
		    KR_E_EXISTS);
	}
	/* The CRL number never goes back. */
	assert_true(crlnum(st) > lg->maxcrl);
	print_message("# after the kill: %zu certificates reported, %zu "
	    "rows, %zu pending (%zu left on purpose), CRL number %llu\n",
	    lg->ns, n, np, lg->np, (unsigned long long)lg->maxcrl);
	/* What the daemon does at start: abandon what a crash left. */
	for (j = 0; j < np; j++)
		assert_int_equal(ca_store_abandon(st, pend[j].id, &err), KR_OK);
	ca_store_recs_free(pend, np);
	assert_int_equal(ca_store_pending(st, &pend, &np, &err), KR_OK);
	assert_int_equal(np, 0);
	lg->np = 0;
	ca_store_recs_free(recs, n);
	ca_store_close(st);
}

static void
test_crash_loses_nothing(void **state)
{
	struct fixture *f = *state;
	struct ca_store *st = NULL;
	struct crash_log *lg;
	struct kr_error err;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	int round;

	print_message("# crash test seed %u\n", seed);
	srand(seed);
	assert_non_null(lg = calloc(1, sizeof(*lg)));
	/* Created here, so the child never races the parent for it. */
	assert_int_equal(ca_store_open(f->path, &st, &err), KR_OK);
	ca_store_close(st);
	for (round = 0; round < CRASH_ROUNDS; round++) {
		crash_round(f->path, lg);
		crash_check(f, lg);
	}
	assert_true(lg->ns > 0);
	free(lg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_created, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v2, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v1, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reserve_commit_get, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_serial_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_fields_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_commit_must_match_reservation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_and_crl, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crl_numbers_increase,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_guards, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_jti_used_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_group_log_starts_over,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_sync_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_group_announce, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_group_linger, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_group_reserve_jti, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tidy_certificates, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_list_filters, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_loses_nothing,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
