/*
 * acme_store.c: ACME's objects in the issuance store (acme.h; the
 * tables are store schema version 2, ca/store.c).  Each function is one
 * statement or one transaction on the caller's connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <sodium.h>

#include "acme.h"

static const char *const status_names[CA_ACME_STATUS_N] = {
	"pending", "ready", "processing", "valid", "invalid", "deactivated",
	"expired", "revoked",
};

const char *
ca_acme_status_name(enum ca_acme_status s)
{
	return (unsigned)s < CA_ACME_STATUS_N ? status_names[s] : "invalid";
}

static enum ca_acme_status
status_of(const unsigned char *s)
{
	int i;

	for (i = 0; s != NULL && i < CA_ACME_STATUS_N; i++)
		if (strcmp((const char *)s, status_names[i]) == 0)
			return (enum ca_acme_status)i;
	return CA_ACME_INVALID;
}

static enum kr_err
dbfail(sqlite3 *db, struct kr_error *err, const char *what)
{
	return kr_fail(err, KR_E_IO, "ACME store: %s: %s", what,
	    sqlite3_errmsg(db));
}

static enum kr_err
prep(sqlite3 *db, const char *sql, sqlite3_stmt **s, struct kr_error *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, s, NULL) != SQLITE_OK)
		return dbfail(db, err, "prepare");
	return KR_OK;
}

static void
bt(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static char *
coldup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t == NULL ? NULL : strdup((const char *)t);
}

static void
colcpy(sqlite3_stmt *s, int i, char *dst, size_t sz)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	snprintf(dst, sz, "%s", t ? (const char *)t : "");
}

static enum kr_err
tx(sqlite3 *db, const char *what, struct kr_error *err)
{
	if (sqlite3_exec(db, what, NULL, NULL, NULL) != SQLITE_OK)
		return dbfail(db, err, what);
	return KR_OK;
}

static enum kr_err
tx_end(sqlite3 *db, enum kr_err rc, struct kr_error *err)
{
	if (rc == KR_OK)
		rc = tx(db, "COMMIT", err);
	if (!sqlite3_get_autocommit(db))
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Run a statement that changes rows; *changed: how many (may be NULL). */
static enum kr_err
exec1(sqlite3 *db, sqlite3_stmt *s, int *changed, const char *what,
    struct kr_error *err)
{
	int src = sqlite3_step(s);

	sqlite3_finalize(s);
	if (src != SQLITE_DONE)
		return dbfail(db, err, what);
	if (changed != NULL)
		*changed = sqlite3_changes(db);
	return KR_OK;
}

/* ---- nonces ---- */

/*
 * Nonce writes commit without their own fsync (synchronous = NORMAL for
 * the one statement; WAL mode).  A nonce lost in a power failure makes
 * the client retry (badNonce).  A use lost with it is made durable by
 * the request's own next write, since the WAL is synced in order; only
 * a request that writes nothing (a POST-as-GET read) could be replayed
 * after such a crash, and it changes nothing.
 */
static enum kr_err
nonce_exec(sqlite3 *db, sqlite3_stmt *s, int *changed, const char *what,
    struct kr_error *err)
{
	enum kr_err rc;

	(void)sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL,
	    NULL);
	rc = exec1(db, s, changed, what, err);
	if (sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) !=
	    SQLITE_OK && rc == KR_OK)
		rc = dbfail(db, err, "restore synchronous = FULL");
	return rc;
}

enum kr_err
ca_acme_nonce_new(struct ca_store *st, time_t now,
    char out[CA_ACME_ID_LEN + 1], struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;

	ca_acme_random_id(out);
	if ((rc = prep(db, "INSERT INTO acme_nonces (nonce, exp) VALUES "
	    "(?, ?)", &s, err)) != KR_OK)
		return rc;
	bt(s, 1, out);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now + CA_ACME_NONCE_LIFE);
	return nonce_exec(db, s, NULL, "new nonce", err);
}

enum kr_err
ca_acme_nonce_use(struct ca_store *st, const char *nonce, time_t now,
    struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;
	int n = 0;

	if ((rc = prep(db, "DELETE FROM acme_nonces WHERE nonce = ? AND "
	    "exp >= ?", &s, err)) != KR_OK)
		return rc;
	bt(s, 1, nonce);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	if ((rc = nonce_exec(db, s, &n, "use nonce", err)) != KR_OK)
		return rc;
	if (n != 1)
		return kr_fail(err, KR_E_AUTH, "the nonce is unknown, used "
		    "already or expired; use the Replay-Nonce of this answer");
	return KR_OK;
}

/* ---- accounts ---- */

void
ca_acme_account_clear(struct ca_acme_account *a)
{
	free(a->jwk);
	free(a->contact);
	memset(a, 0, sizeof(*a));
}

enum kr_err
ca_acme_account_new(struct ca_store *st, const struct ca_acme_account *a,
    const char *eab_kid, time_t now, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;
	int n = 0;

	if ((rc = tx(db, "BEGIN IMMEDIATE", err)) != KR_OK)
		return rc;
	if (eab_kid != NULL) {
		if ((rc = prep(db, "UPDATE acme_eab SET account = ? WHERE "
		    "kid = ? AND account IS NULL", &s, err)) != KR_OK)
			goto out;
		bt(s, 1, a->id);
		bt(s, 2, eab_kid);
		if ((rc = exec1(db, s, &n, "bind EAB key", err)) != KR_OK)
			goto out;
		if (n != 1) {
			rc = kr_fail(err, KR_E_AUTH, "the external account "
			    "key %s is bound to another account already",
			    eab_kid);
			goto out;
		}
	}
	if ((rc = prep(db, "INSERT INTO acme_accounts (id, prov, thumb, jwk, "
	    "contact, status, eab_kid, created_at) VALUES (?, ?, ?, ?, ?, ?, "
	    "?, ?)", &s, err)) != KR_OK)
		goto out;
	bt(s, 1, a->id);
	bt(s, 2, a->prov);
	bt(s, 3, a->thumb);
	bt(s, 4, a->jwk);
	bt(s, 5, a->contact ? a->contact : "[]");
	bt(s, 6, ca_acme_status_name(a->status));
	bt(s, 7, eab_kid);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)now);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = sqlite3_extended_errcode(db) ==
		    SQLITE_CONSTRAINT_UNIQUE ? kr_fail(err, KR_E_EXISTS, "an "
		    "account with this key exists") : dbfail(db, err,
		    "new account");
		sqlite3_finalize(s);
		goto out;
	}
	sqlite3_finalize(s);
	rc = KR_OK;
out:
	return tx_end(db, rc, err);
}

#define ACCT_COLS "id, prov, thumb, jwk, contact, status, created_at"

static enum kr_err
account_row(sqlite3 *db, sqlite3_stmt *s, struct ca_acme_account *out,
    struct kr_error *err)
{
	int src = sqlite3_step(s);
	enum kr_err rc = KR_OK;

	memset(out, 0, sizeof(*out));
	if (src == SQLITE_ROW) {
		colcpy(s, 0, out->id, sizeof(out->id));
		colcpy(s, 1, out->prov, sizeof(out->prov));
		colcpy(s, 2, out->thumb, sizeof(out->thumb));
		out->jwk = coldup(s, 3);
		out->contact = coldup(s, 4);
		out->status = status_of(sqlite3_column_text(s, 5));
		out->created_at = (time_t)sqlite3_column_int64(s, 6);
		if (out->jwk == NULL || out->contact == NULL) {
			ca_acme_account_clear(out);
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		}
	} else if (src == SQLITE_DONE)
		rc = kr_fail(err, KR_E_NOTFOUND, "no such account");
	else
		rc = dbfail(db, err, "read account");
	sqlite3_finalize(s);
	return rc;
}

enum kr_err
ca_acme_account_get(struct ca_store *st, const char *id,
    struct ca_acme_account *out, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;

	if ((rc = prep(db, "SELECT " ACCT_COLS " FROM acme_accounts WHERE "
	    "id = ?", &s, err)) != KR_OK)
		return rc;
	bt(s, 1, id);
	return account_row(db, s, out, err);
}

enum kr_err
ca_acme_account_by_thumb(struct ca_store *st, const char *thumb,
    struct ca_acme_account *out, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;

	if ((rc = prep(db, "SELECT " ACCT_COLS " FROM acme_accounts WHERE "
	    "thumb = ?", &s, err)) != KR_OK)
		return rc;
	bt(s, 1, thumb);
	return account_row(db, s, out, err);
}

enum kr_err
ca_acme_account_update(struct ca_store *st, const char *id,
    enum ca_acme_status status, const char *contact, const char *jwk,
    const char *thumb, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;
	int n = 0;

	if ((rc = prep(db, "UPDATE acme_accounts SET status = ?, "
	    "contact = coalesce(?, contact), jwk = coalesce(?, jwk), "
	    "thumb = coalesce(?, thumb) WHERE id = ?", &s, err)) != KR_OK)
		return rc;
	bt(s, 1, ca_acme_status_name(status));
	bt(s, 2, contact);
	bt(s, 3, jwk);
	bt(s, 4, thumb);
	bt(s, 5, id);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = sqlite3_extended_errcode(db) ==
		    SQLITE_CONSTRAINT_UNIQUE ? kr_fail(err, KR_E_EXISTS, "an "
		    "account with the new key exists") : dbfail(db, err,
		    "update account");
		sqlite3_finalize(s);
		return rc;
	}
	n = sqlite3_changes(db);
	sqlite3_finalize(s);
	return n == 1 ? KR_OK : kr_fail(err, KR_E_NOTFOUND, "no such account");
}

/* ---- orders, authorizations, challenges ---- */

void
ca_acme_order_clear(struct ca_acme_order *o)
{
	size_t i;

	free(o->identifiers);
	free(o->error);
	free(o->serial);
	for (i = 0; i < o->nauthzs; i++)
		free(o->authzs[i]);
	free(o->authzs);
	memset(o, 0, sizeof(*o));
}

void
ca_acme_authz_clear(struct ca_acme_authz *a)
{
	size_t i;

	for (i = 0; i < a->nch; i++)
		free(a->ch[i].error);
	memset(a, 0, sizeof(*a));
}

enum kr_err
ca_acme_order_new(struct ca_store *st, struct ca_acme_order *o,
    struct ca_acme_authz *az, size_t naz, time_t now, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;
	size_t i, k;

	if ((rc = tx(db, "BEGIN IMMEDIATE", err)) != KR_OK)
		return rc;
	if ((rc = prep(db, "INSERT INTO acme_orders (id, account, prov, "
	    "status, expires, not_before, not_after, identifiers, "
	    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &s, err)) !=
	    KR_OK)
		goto out;
	bt(s, 1, o->id);
	bt(s, 2, o->account);
	bt(s, 3, o->prov);
	bt(s, 4, ca_acme_status_name(o->status));
	sqlite3_bind_int64(s, 5, (sqlite3_int64)o->expires);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)o->not_before);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)o->not_after);
	bt(s, 8, o->identifiers);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)now);
	if ((rc = exec1(db, s, NULL, "new order", err)) != KR_OK)
		goto out;
	for (i = 0; i < naz; i++) {
		if ((rc = prep(db, "INSERT INTO acme_authzs (id, order_id, "
		    "seq, account, type, value, wildcard, status, expires, "
		    "token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &s, err)) !=
		    KR_OK)
			goto out;
		bt(s, 1, az[i].id);
		bt(s, 2, o->id);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)i);
		bt(s, 4, o->account);
		bt(s, 5, az[i].ident.type);
		bt(s, 6, az[i].ident.value);
		sqlite3_bind_int(s, 7, az[i].ident.wildcard);
		bt(s, 8, ca_acme_status_name(az[i].status));
		sqlite3_bind_int64(s, 9, (sqlite3_int64)az[i].expires);
		bt(s, 10, az[i].token);
		if ((rc = exec1(db, s, NULL, "new authorization", err)) !=
		    KR_OK)
			goto out;
		for (k = 0; k < az[i].nch; k++) {
			if ((rc = prep(db, "INSERT INTO acme_challs (id, "
			    "authz_id, type, status) VALUES (?, ?, ?, ?)", &s,
			    err)) != KR_OK)
				goto out;
			bt(s, 1, az[i].ch[k].id);
			bt(s, 2, az[i].id);
			bt(s, 3, az[i].ch[k].type);
			bt(s, 4, ca_acme_status_name(az[i].ch[k].status));
			if ((rc = exec1(db, s, NULL, "new challenge", err)) !=
			    KR_OK)
				goto out;
		}
	}
	rc = KR_OK;
out:
	return tx_end(db, rc, err);
}

/* The statuses of the order's authorizations: all valid? any bad? */
static enum kr_err
authz_summary(sqlite3 *db, const char *order, time_t now, int *all_valid,
    int *any_bad, struct kr_error *err)
{
	sqlite3_stmt *s;
	enum kr_err rc;
	int src;

	*all_valid = 1;
	*any_bad = 0;
	if ((rc = prep(db, "SELECT status, expires FROM acme_authzs WHERE "
	    "order_id = ?", &s, err)) != KR_OK)
		return rc;
	bt(s, 1, order);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);

		if (t == NULL || strcmp(t, "valid") != 0 ||
		    sqlite3_column_int64(s, 1) < (sqlite3_int64)now)
			*all_valid = 0;
		if (t == NULL || strcmp(t, "invalid") == 0 ||
		    strcmp(t, "deactivated") == 0)
			*any_bad = 1;
	}
	sqlite3_finalize(s);
	if (src != SQLITE_DONE)
		return dbfail(db, err, "read authorizations");
	return KR_OK;
}

#define ORDER_COLS "id, account, prov, status, expires, not_before, " \
    "not_after, identifiers, error, serial"

static enum kr_err
order_row(sqlite3 *db, sqlite3_stmt *s, time_t now, struct ca_acme_order *o,
    struct kr_error *err)
{
	sqlite3_stmt *q = NULL;
	enum kr_err rc;
	int src, all_valid, any_bad;
	char **nv;

	memset(o, 0, sizeof(*o));
	src = sqlite3_step(s);
	if (src != SQLITE_ROW) {
		sqlite3_finalize(s);
		return src == SQLITE_DONE ? kr_fail(err, KR_E_NOTFOUND, "no "
		    "such order") : dbfail(db, err, "read order");
	}
	colcpy(s, 0, o->id, sizeof(o->id));
	colcpy(s, 1, o->account, sizeof(o->account));
	colcpy(s, 2, o->prov, sizeof(o->prov));
	o->status = status_of(sqlite3_column_text(s, 3));
	o->expires = (time_t)sqlite3_column_int64(s, 4);
	o->not_before = (time_t)sqlite3_column_int64(s, 5);
	o->not_after = (time_t)sqlite3_column_int64(s, 6);
	o->identifiers = coldup(s, 7);
	o->error = coldup(s, 8);
	o->serial = coldup(s, 9);
	sqlite3_finalize(s);
	if (o->identifiers == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = prep(db, "SELECT id FROM acme_authzs WHERE order_id = ? "
	    "ORDER BY seq", &q, err)) != KR_OK)
		goto fail;
	bt(q, 1, o->id);
	while ((src = sqlite3_step(q)) == SQLITE_ROW) {
		if ((nv = reallocarray(o->authzs, o->nauthzs + 1,
		    sizeof(*nv))) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto fail;
		}
		o->authzs = nv;
		if ((nv[o->nauthzs] = coldup(q, 0)) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto fail;
		}
		o->nauthzs++;
	}
	sqlite3_finalize(q);
	q = NULL;
	/* Bring the status up to date (RFC 8555 section 7.1.6). */
	if (o->status == CA_ACME_PENDING || o->status == CA_ACME_READY) {
		if (o->expires < now) {
			o->status = CA_ACME_INVALID;
			return KR_OK;
		}
		if ((rc = authz_summary(db, o->id, now, &all_valid, &any_bad,
		    err)) != KR_OK)
			goto fail;
		if (any_bad)
			o->status = CA_ACME_INVALID;
		else if (all_valid && o->status == CA_ACME_PENDING) {
			/* Persist, so finalize moves ready -> processing. */
			if ((rc = prep(db, "UPDATE acme_orders SET status = "
			    "'ready' WHERE id = ? AND status = 'pending'", &q,
			    err)) != KR_OK)
				goto fail;
			bt(q, 1, o->id);
			if ((rc = exec1(db, q, NULL, "order ready", err)) !=
			    KR_OK) {
				q = NULL;
				goto fail;
			}
			q = NULL;
			o->status = CA_ACME_READY;
		}
	}
	return KR_OK;
fail:
	sqlite3_finalize(q);
	ca_acme_order_clear(o);
	return rc;
}

enum kr_err
ca_acme_order_get(struct ca_store *st, const char *id, time_t now,
    struct ca_acme_order *out, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;

	if ((rc = prep(db, "SELECT " ORDER_COLS " FROM acme_orders WHERE "
	    "id = ?", &s, err)) != KR_OK)
		return rc;
	bt(s, 1, id);
	return order_row(db, s, now, out, err);
}

enum kr_err
ca_acme_order_by_serial(struct ca_store *st, const char *serial,
    struct ca_acme_order *out, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;

	if ((rc = prep(db, "SELECT " ORDER_COLS " FROM acme_orders WHERE "
	    "serial = ?", &s, err)) != KR_OK)
		return rc;
	bt(s, 1, serial);
	return order_row(db, s, 0, out, err);
}

enum kr_err
ca_acme_order_set(struct ca_store *st, const char *id,
    enum ca_acme_status from, enum ca_acme_status to, const char *error,
    const char *serial, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;
	int n = 0;

	if ((rc = prep(db, "UPDATE acme_orders SET status = ?, "
	    "error = coalesce(?, error), serial = coalesce(?, serial) "
	    "WHERE id = ? AND status = ?", &s, err)) != KR_OK)
		return rc;
	bt(s, 1, ca_acme_status_name(to));
	bt(s, 2, error);
	bt(s, 3, serial);
	bt(s, 4, id);
	bt(s, 5, ca_acme_status_name(from));
	if ((rc = exec1(db, s, &n, "update order", err)) != KR_OK)
		return rc;
	return n == 1 ? KR_OK : kr_fail(err, KR_E_STATE, "the order is not "
	    "%s", ca_acme_status_name(from));
}

enum kr_err
ca_acme_orders_of(struct ca_store *st, const char *account, time_t now,
    char ***ids, size_t *n, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;
	char **nv;
	int src;

	*ids = NULL;
	*n = 0;
	if ((rc = prep(db, "SELECT id FROM acme_orders WHERE account = ? AND "
	    "(status NOT IN ('pending', 'ready') OR expires >= ?) "
	    "ORDER BY created_at LIMIT 1000", &s, err)) != KR_OK)
		return rc;
	bt(s, 1, account);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if ((nv = reallocarray(*ids, *n + 1, sizeof(*nv))) == NULL ||
		    (nv[*n] = coldup(s, 0)) == NULL) {
			if (nv != NULL)
				*ids = nv;
			sqlite3_finalize(s);
			return kr_fail(err, KR_E_NOMEM, "out of memory");
		}
		*ids = nv;
		(*n)++;
	}
	sqlite3_finalize(s);
	return src == SQLITE_DONE ? KR_OK : dbfail(db, err, "list orders");
}

#define AUTHZ_COLS "a.id, a.order_id, a.account, a.type, a.value, " \
    "a.wildcard, a.status, a.expires, a.token"

static enum kr_err
authz_row(sqlite3 *db, sqlite3_stmt *s, time_t now, struct ca_acme_authz *a,
    struct kr_error *err)
{
	sqlite3_stmt *q;
	enum kr_err rc;
	int src;

	memset(a, 0, sizeof(*a));
	src = sqlite3_step(s);
	if (src != SQLITE_ROW) {
		sqlite3_finalize(s);
		return src == SQLITE_DONE ? kr_fail(err, KR_E_NOTFOUND, "no "
		    "such authorization") : dbfail(db, err, "read "
		    "authorization");
	}
	colcpy(s, 0, a->id, sizeof(a->id));
	colcpy(s, 1, a->order, sizeof(a->order));
	colcpy(s, 2, a->account, sizeof(a->account));
	colcpy(s, 3, a->ident.type, sizeof(a->ident.type));
	colcpy(s, 4, a->ident.value, sizeof(a->ident.value));
	a->ident.wildcard = sqlite3_column_int(s, 5);
	a->status = status_of(sqlite3_column_text(s, 6));
	a->expires = (time_t)sqlite3_column_int64(s, 7);
	colcpy(s, 8, a->token, sizeof(a->token));
	sqlite3_finalize(s);
	if ((a->status == CA_ACME_PENDING || a->status == CA_ACME_VALID) &&
	    a->expires < now)
		a->status = CA_ACME_EXPIRED;
	if ((rc = prep(db, "SELECT id, type, status, validated, error FROM "
	    "acme_challs WHERE authz_id = ? ORDER BY type DESC", &q, err)) !=
	    KR_OK)
		return rc;
	bt(q, 1, a->id);
	while ((src = sqlite3_step(q)) == SQLITE_ROW && a->nch < 3) {
		struct ca_acme_chall *c = &a->ch[a->nch++];

		colcpy(q, 0, c->id, sizeof(c->id));
		colcpy(q, 1, c->type, sizeof(c->type));
		c->status = status_of(sqlite3_column_text(q, 2));
		c->validated = (time_t)sqlite3_column_int64(q, 3);
		c->error = coldup(q, 4);
	}
	sqlite3_finalize(q);
	return KR_OK;
}

enum kr_err
ca_acme_authz_get(struct ca_store *st, const char *id, time_t now,
    struct ca_acme_authz *out, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;

	if ((rc = prep(db, "SELECT " AUTHZ_COLS " FROM acme_authzs a WHERE "
	    "a.id = ?", &s, err)) != KR_OK)
		return rc;
	bt(s, 1, id);
	return authz_row(db, s, now, out, err);
}

enum kr_err
ca_acme_authz_by_chall(struct ca_store *st, const char *chid, time_t now,
    struct ca_acme_authz *out, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;

	if ((rc = prep(db, "SELECT " AUTHZ_COLS " FROM acme_authzs a JOIN "
	    "acme_challs c ON c.authz_id = a.id WHERE c.id = ?", &s, err)) !=
	    KR_OK)
		return rc;
	bt(s, 1, chid);
	return authz_row(db, s, now, out, err);
}

enum kr_err
ca_acme_chall_done(struct ca_store *st, const char *chid, int valid,
    const char *error, time_t now, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;
	int n = 0;

	if ((rc = tx(db, "BEGIN IMMEDIATE", err)) != KR_OK)
		return rc;
	if ((rc = prep(db, "UPDATE acme_challs SET status = ?, validated = ?, "
	    "error = ? WHERE id = ? AND status IN ('pending', 'processing')",
	    &s, err)) != KR_OK)
		goto out;
	bt(s, 1, valid ? "valid" : "invalid");
	sqlite3_bind_int64(s, 2, valid ? (sqlite3_int64)now : 0);
	bt(s, 3, valid ? NULL : error);
	bt(s, 4, chid);
	if ((rc = exec1(db, s, &n, "finish challenge", err)) != KR_OK)
		goto out;
	if (n != 1) {
		rc = kr_fail(err, KR_E_STATE, "the challenge is not pending");
		goto out;
	}
	if ((rc = prep(db, "UPDATE acme_authzs SET status = ? WHERE id = "
	    "(SELECT authz_id FROM acme_challs WHERE id = ?) AND status = "
	    "'pending'", &s, err)) != KR_OK)
		goto out;
	bt(s, 1, valid ? "valid" : "invalid");
	bt(s, 2, chid);
	if ((rc = exec1(db, s, NULL, "finish authorization", err)) != KR_OK)
		goto out;
	if (!valid) {
		if ((rc = prep(db, "UPDATE acme_orders SET status = 'invalid', "
		    "error = ? WHERE id = (SELECT a.order_id FROM acme_authzs a "
		    "JOIN acme_challs c ON c.authz_id = a.id WHERE c.id = ?) "
		    "AND status IN ('pending', 'ready')", &s, err)) != KR_OK)
			goto out;
		bt(s, 1, error);
		bt(s, 2, chid);
		if ((rc = exec1(db, s, NULL, "fail order", err)) != KR_OK)
			goto out;
	}
	rc = KR_OK;
out:
	return tx_end(db, rc, err);
}

enum kr_err
ca_acme_authz_deactivate(struct ca_store *st, const char *id,
    struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;
	int n = 0;

	if ((rc = prep(db, "UPDATE acme_authzs SET status = 'deactivated' "
	    "WHERE id = ? AND status IN ('pending', 'valid')", &s, err)) !=
	    KR_OK)
		return rc;
	bt(s, 1, id);
	if ((rc = exec1(db, s, &n, "deactivate authorization", err)) != KR_OK)
		return rc;
	return n == 1 ? KR_OK : kr_fail(err, KR_E_STATE, "the authorization "
	    "is neither pending nor valid");
}

/* ---- EAB ---- */

enum kr_err
ca_acme_eab_new(struct ca_store *st, const char *prov, const char *kid,
    const uint8_t *key, size_t len, time_t now, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;

	if ((rc = prep(db, "INSERT INTO acme_eab (kid, prov, hkey, "
	    "created_at) VALUES (?, ?, ?, ?)", &s, err)) != KR_OK)
		return rc;
	bt(s, 1, kid);
	bt(s, 2, prov);
	sqlite3_bind_blob(s, 3, key, (int)len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)now);
	return exec1(db, s, NULL, "new EAB key", err);
}

enum kr_err
ca_acme_eab_get(struct ca_store *st, const char *kid, char prov[65],
    uint8_t key[CA_ACME_EAB_KEY_LEN], int *used, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;
	int src;

	if ((rc = prep(db, "SELECT prov, hkey, account FROM acme_eab WHERE "
	    "kid = ?", &s, err)) != KR_OK)
		return rc;
	bt(s, 1, kid);
	if ((src = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_bytes(s, 1) == CA_ACME_EAB_KEY_LEN) {
		colcpy(s, 0, prov, 65);
		memcpy(key, sqlite3_column_blob(s, 1), CA_ACME_EAB_KEY_LEN);
		*used = sqlite3_column_type(s, 2) != SQLITE_NULL;
		rc = KR_OK;
	} else if (src == SQLITE_ROW || src == SQLITE_DONE)
		rc = kr_fail(err, KR_E_NOTFOUND, "no external account key "
		    "with this key id");
	else
		rc = dbfail(db, err, "read EAB key");
	sqlite3_finalize(s);
	return rc;
}

/* ---- tidy ---- */

enum kr_err
ca_acme_tidy(struct ca_store *st, time_t now, long long retention,
    struct ca_acme_tidied *out, struct kr_error *err)
{
	sqlite3 *db = ca_store_db(st);
	sqlite3_stmt *s;
	enum kr_err rc;
	int n = 0;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if ((rc = tx(db, "BEGIN IMMEDIATE", err)) != KR_OK)
		return rc;
	if ((rc = prep(db, "DELETE FROM acme_nonces WHERE exp < ?", &s,
	    err)) != KR_OK)
		goto out;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	if ((rc = exec1(db, s, &n, "tidy nonces", err)) != KR_OK)
		goto out;
	if (out != NULL)
		out->nonces = (size_t)n;
	if ((rc = prep(db, "DELETE FROM acme_orders WHERE expires < ?", &s,
	    err)) != KR_OK)
		goto out;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)(now - retention));
	if ((rc = exec1(db, s, &n, "tidy orders", err)) != KR_OK)
		goto out;
	if (out != NULL)
		out->orders = (size_t)n;
	rc = KR_OK;
out:
	return tx_end(db, rc, err);
}
