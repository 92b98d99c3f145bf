/*
 * store.h: the issuance store of the online signer (keyrited): every
 * certificate the intermediate(s) signed, their revocations, the CRL
 * number and the provisioner token ids (jti) already used, in one SQLite
 * database in WAL mode with synchronous=FULL.  See docs/formats-store.md
 * for the schema and the crash guarantees.
 *
 * Write-ahead protocol for one issuance (the signer process):
 *
 *   ca_store_jti_use      burn the request's token id (replay refused)
 *   ca_store_reserve      serial + TBS + metadata, status 'pending'
 *   ... sign ...
 *   ca_store_commit       DER stored, status 'valid', fsynced
 *   ... only now send the certificate to the client ...
 *
 * and at start, ca_store_pending + ca_store_abandon for reservations a
 * crash left behind.  Each call that changes the store returns only once
 * its transaction is durable, so a crash at any point never loses a
 * certificate a client received, never frees a serial, and never lowers
 * the CRL number.
 *
 * Serials and issuer key ids are lower-case hex (upper case is accepted
 * and folded).  A serial is canonical as ca_serial_hex writes it; it must
 * be positive and at most 20 octets.  The issuer key id is the issuer's
 * subjectKeyIdentifier (= the leaf's authorityKeyIdentifier keyid).
 *
 * A struct ca_store is not thread-safe; use one per thread or process,
 * and never carry one across fork() (open it in the child).  Several
 * processes may open the same file (WAL: readers never block the writer;
 * writers wait up to CA_STORE_BUSY_MS, then KR_E_STATE).
 */
#ifndef CA_STORE_H
#define CA_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/asn1.h>

#include "ca.h"

#define CA_STORE_SCHEMA_VERSION	3	/* 2: ACME tables; 3: indexes */
#define CA_STORE_BUSY_MS	5000	/* wait this long for a writer */
#define CA_STORE_MAX_BLOB	65536	/* TBS and DER, bytes */
#define CA_STORE_MAX_TEXT	4096	/* subject, provisioner, jti */
#define CA_STORE_MAX_SANS	65536	/* the JSON array, bytes */
/*
 * A used jti is kept this long past its exp, so a clock stepped back by
 * up to this much cannot bring a tidied token back to life.
 */
#define CA_STORE_JTI_GRACE	3600

struct ca_store;

/* Bit values, so a filter can name several. */
enum ca_store_status {
	CA_STORE_PENDING = 1,	/* reserved, not (yet) signed */
	CA_STORE_VALID = 2,	/* signed and committed */
	CA_STORE_REVOKED = 4,	/* was valid, now revoked */
	CA_STORE_ABANDONED = 8,	/* never signed; the serial stays used */
};

/* "pending", "valid", "revoked", "abandoned"; "?" otherwise. */
const char	*ca_store_status_name(enum ca_store_status);

/*
 * One certificate row.  As input to ca_store_reserve the caller fills
 * issuer_kid, serial, subject, sans, not_before, not_after, provisioner
 * and tbs/tbs_len; the rest is ignored.  Records returned by the store
 * point into one allocation (mem) that ca_store_rec_clear or
 * ca_store_recs_free releases.
 *
 * sans is a JSON array of strings in ca_general_name_text form, e.g.
 * ["DNS:www.lab.internal","IP:10.0.0.5"] ("[]" or NULL for none); the
 * schema refuses anything else.  subject is the caller's text form (as
 * ca_parse_subject reads it); it may be empty.
 */
struct ca_store_rec {
	int64_t			 id;
	const char		*issuer_kid;
	const char		*serial;
	const char		*subject;
	const char		*sans;
	time_t			 not_before;
	time_t			 not_after;
	const char		*provisioner;
	enum ca_store_status	 status;
	time_t			 created_at;	/* when reserved */
	time_t			 revoked_at;	/* -1 unless revoked */
	int			 reason;	/* CRL reason, -1 none */
	const uint8_t		*tbs;		/* NULL in listings */
	size_t			 tbs_len;
	const uint8_t		*der;		/* NULL until committed */
	size_t			 der_len;
	void			*mem;		/* private: owns the above */
};

void		 ca_store_rec_clear(struct ca_store_rec *);
void		 ca_store_recs_free(struct ca_store_rec *, size_t n);

/*
 * Open the store at path, creating the file (mode 0600) and the schema
 * when missing.  An existing file that is group- or world-writable, is
 * a symbolic link, is not a keyrite store, or has a newer schema version
 * than CA_STORE_SCHEMA_VERSION is refused (KR_E_STATE).  The connection
 * is set to journal_mode=WAL, synchronous=FULL, foreign_keys=ON and a
 * busy timeout of CA_STORE_BUSY_MS.  The caller closes *out.
 */
enum kr_err	 ca_store_open(const char *path, struct ca_store **out,
		     struct kr_error *err);
/*
 * ca_store_open for a process that must not change the schema (the
 * signer processes): a store of an older schema version is refused
 * (KR_E_STATE, *older set to its version; 0 otherwise) instead of
 * upgraded.  An empty file is still given the whole schema.
 */
enum kr_err	 ca_store_open_current(const char *path,
		     struct ca_store **out, int64_t *older,
		     struct kr_error *err);
void		 ca_store_close(struct ca_store *);

/*
 * Reserve rec->serial for rec->issuer_kid and record the TBS and the
 * metadata with status 'pending', durably, before anything is signed.
 * A serial ever reserved under that issuer (even by a certificate since
 * tidied away) is KR_E_EXISTS: draw another and try again.  Bad fields
 * are KR_E_USAGE.  *id names the reservation for commit/abandon.
 */
enum kr_err	 ca_store_reserve(struct ca_store *,
		     const struct ca_store_rec *rec, time_t now, int64_t *id,
		     struct kr_error *err);

/*
 * The certificate for reservation id was signed: store its DER and mark
 * it 'valid'; durable when this returns KR_OK, and only then may the
 * certificate be sent.  The DER must be one X.509 certificate whose
 * serial, notBefore and notAfter are the reserved ones and whose
 * authorityKeyIdentifier (when present) is the issuer key id
 * (KR_E_VERIFY otherwise).  A reservation that is not pending (already
 * committed, or abandoned by a restart meanwhile) is KR_E_STATE: the
 * certificate must then not be sent.  Unknown id: KR_E_NOTFOUND.
 */
enum kr_err	 ca_store_commit(struct ca_store *, int64_t id,
		     const uint8_t *der, size_t len, struct kr_error *err);

/*
 * Mark a pending reservation 'abandoned' (it was never signed, or the
 * signature was never released).  Its serial stays used forever.
 * Abandoning an abandoned one is KR_OK; any other status is KR_E_STATE.
 */
enum kr_err	 ca_store_abandon(struct ca_store *, int64_t id,
		     struct kr_error *err);

/*
 * Reservations left 'pending' (by a crash, or in flight in another
 * process), oldest first, without TBS or DER.  The caller frees *out
 * with ca_store_recs_free.
 */
enum kr_err	 ca_store_pending(struct ca_store *, struct ca_store_rec **out,
		     size_t *n, struct kr_error *err);

/*
 * Revoke the valid certificate serial of issuer_kid (NULL: whichever
 * issuer has it; KR_E_USAGE when several do).  reason is a CRL reason
 * code or -1; certificateHold and removeFromCRL are refused (revocation
 * here is final and there are no delta CRLs).  Revoking a revoked
 * certificate again is KR_OK and keeps the first time and reason.
 * Unknown serial: KR_E_NOTFOUND; pending or abandoned: KR_E_STATE.
 */
enum kr_err	 ca_store_revoke(struct ca_store *, const char *issuer_kid,
		     const char *serial, int reason, time_t when,
		     struct kr_error *err);

/*
 * KR_OK when the record id (ca_store_reserve's) is the pending
 * reservation of (issuer_kid, serial) and its TBS is tbs byte for byte;
 * KR_E_NOTFOUND when it is not such a reservation, KR_E_POLICY when its
 * TBS differs.  The id makes it one lookup by rowid, not two through
 * the serial index: keyrited's signer asks it for every certificate.
 */
enum kr_err	 ca_store_pending_is(struct ca_store *, int64_t id,
		     const char *issuer_kid, const char *serial,
		     const uint8_t *tbs, size_t len, struct kr_error *err);

/*
 * The record for serial under issuer_kid (NULL: any issuer, KR_E_USAGE
 * when ambiguous), with TBS and DER.  KR_E_NOTFOUND when unknown (or
 * tidied away).  The caller clears *out with ca_store_rec_clear.
 */
enum kr_err	 ca_store_get(struct ca_store *, const char *issuer_kid,
		     const char *serial, struct ca_store_rec *out,
		     struct kr_error *err);

/*
 * A listing filter; a zeroed struct lists everything.
 */
struct ca_store_filter {
	const char	*issuer_kid;	/* NULL: any */
	unsigned	 statuses;	/* CA_STORE_* bits; 0: any */
	time_t		 now;		/* for expiring_within */
	long long	 expiring_within; /* > 0: not_after in [now,
					    now + this] */
	int64_t		 after_id;	/* rows with id > this (paging) */
	size_t		 limit;		/* 0: no limit */
	int		 with_der;	/* fill der (never tbs) */
};

/*
 * Records matching f in id order.  The caller frees *out with
 * ca_store_recs_free (*out is NULL when *n is 0).
 */
enum kr_err	 ca_store_list(struct ca_store *,
		     const struct ca_store_filter *f, struct ca_store_rec **out,
		     size_t *n, struct kr_error *err);

/*
 * The entries for issuer_kid's next CRL: certificates revoked and with
 * not_after >= now - keep_after_expiry, in serial order.  Pass the CRL
 * interval as keep_after_expiry so that each entry appears on at least
 * one regularly scheduled CRL issued after the certificate expired (RFC
 * 5280 3.3); later ones drop it.  The caller frees *out with
 * ca_revoked_free (ca.h).
 */
enum kr_err	 ca_store_revoked_for_crl(struct ca_store *,
		     const char *issuer_kid, time_t now,
		     long long keep_after_expiry, struct ca_revoked **out,
		     size_t *n, struct kr_error *err);

/*
 * The next CRL number (1, 2, ...): one counter for the store, so the
 * CRLs of every issuer in it see strictly increasing numbers.  It is
 * committed (fsynced) before it is returned, so a crash never hands the
 * same number out twice.  The caller frees *out.
 */
enum kr_err	 ca_store_next_crl_number(struct ca_store *, ASN1_INTEGER **out,
		     struct kr_error *err);

/*
 * Make sure the next CRL number is greater than seen (e.g. the number in
 * the CRL last published, read back at start), so a store restored from
 * an old backup cannot go back.  Never lowers the counter.
 */
enum kr_err	 ca_store_crl_number_raise(struct ca_store *,
		     const ASN1_INTEGER *seen, struct kr_error *err);

/*
 * Remember that provisioner's token jti (valid until exp) was used, at
 * now.  A token whose exp is not after now is KR_E_AUTH ("token
 * expired"); a jti this provisioner used before is KR_E_AUTH ("token
 * already used").  Ids are scoped per provisioner, so one provisioner
 * cannot burn another's.  Durable before it returns.
 */
enum kr_err	 ca_store_jti_use(struct ca_store *, const char *provisioner,
		     const char *jti, time_t exp, time_t now,
		     struct kr_error *err);

/*
 * Housekeeping, in one transaction: forget used jtis whose exp is more
 * than CA_STORE_JTI_GRACE before now (ca_store_jti_use refuses those
 * tokens anyway), and delete certificates (valid, revoked, abandoned;
 * never pending) whose not_after is more than retention seconds before
 * now.  retention must be at least the CRL interval, so a revoked
 * certificate makes its last CRL first.  Serials stay reserved.
 */
struct ca_store_tidied {
	size_t	certs;
	size_t	jtis;
};
enum kr_err	 ca_store_tidy(struct ca_store *, time_t now,
		     long long retention, struct ca_store_tidied *out,
		     struct kr_error *err);

/* What `keyrited status` would show, and what the tests check. */
struct ca_store_info {
	int64_t	schema_version;
	char	journal_mode[16];	/* "wal" */
	int	synchronous;		/* 2 = FULL */
	int	foreign_keys;		/* 1 = ON */
	int64_t	crl_number;		/* last handed out, 0 = none */
	int64_t	pending, valid, revoked, abandoned;
	int64_t	serials;		/* ever reserved */
	int64_t	jtis;			/* remembered */
};
enum kr_err	 ca_store_info(struct ca_store *, struct ca_store_info *out,
		     struct kr_error *err);
/*
 * The same without serials and jtis (0), which take a scan of tables
 * that grow with every certificate: for /metrics, asked every scrape.
 * The rest comes from indexes (docs/formats-store.md, "Indexes").
 */
enum kr_err	 ca_store_status_counts(struct ca_store *,
		     struct ca_store_info *out, struct kr_error *err);

/*
 * Group commit, for a server with many threads.  A group is one
 * connection, driven by the group's writer thread; each call queues an
 * operation that does what the plain call of the same name does, and
 * the operations queued at the same time are committed together, in
 * one transaction (each in its own savepoint, so one failing leaves the
 * others), and made durable by one fdatasync of the log that runs
 * beside the next groups' writes.  Several connections writing in parallel would
 * instead wait for each other's locks.  Reads need no group: use a plain
 * connection per thread, which sees only what is committed.  A failed
 * COMMIT (a full disk, an I/O error) is rolled back and fails every call
 * of that group; later groups start afresh.  A failed fdatasync fails
 * that call and every later one (KR_E_IO) until the group is opened
 * again.
 *
 * commit, abandon and revoke return once their change is durable.
 * jti_use, reserve and reserve_jti return once it is committed to the
 * log, where every connection sees it, and it becomes durable with the
 * next durable call of any thread: a reservation is recorded before the
 * signature, and is on the disk before the certificate is (a crash in
 * between can lose a reservation and a burnt token, but never a
 * certificate that anyone received, since that waits for the commit).
 */
struct ca_store_group;

enum kr_err	 ca_store_group_open(const char *path,
		     struct ca_store_group **out, struct kr_error *err);
/*
 * A thread about to make a group call (within microseconds, not after
 * parsing a request) says so (+1); its next group call ends that, and so
 * does -1 (for a thread that will not make it after all; -1 without a
 * +1 does nothing).  While threads have said so and not called yet, the
 * writer waits for their operations a little (up to a millisecond)
 * before it commits, so that they share its COMMIT and its sync.  One
 * announcement per thread at a time, whatever the group: a thread that
 * announces must make its next group call on the same group.
 */
void		 ca_store_group_busy(struct ca_store_group *, int delta);
/*
 * For tests: the threads announced and not yet called; the longest the
 * writer waits for them (default 1000 us; negative: the default); the
 * groups committed so far.
 */
int		 ca_store_group_announced(struct ca_store_group *);
void		 ca_store_group_linger(struct ca_store_group *, int us);
long long	 ca_store_group_commits(struct ca_store_group *);
/*
 * WAL frames between two checkpoint rounds (default 8192, about 33 MB);
 * for tests, which show on a small log that it starts over.
 */
void		 ca_store_group_ckpt_frames(struct ca_store_group *,
		     int frames);
void		 ca_store_group_close(struct ca_store_group *);
enum kr_err	 ca_store_group_jti_use(struct ca_store_group *,
		     const char *provisioner, const char *jti, time_t exp,
		     time_t now, struct kr_error *err);
enum kr_err	 ca_store_group_reserve(struct ca_store_group *,
		     const struct ca_store_rec *rec, time_t now, int64_t *id,
		     struct kr_error *err);
/*
 * ca_store_group_jti_use for rec->provisioner's token (jti, exp, at
 * jti_now) and then ca_store_group_reserve, in one write: the
 * token is burnt no later than the reservation is made, and a used or
 * expired one (KR_E_AUTH, as ca_store_jti_use) reserves nothing.
 */
enum kr_err	 ca_store_group_reserve_jti(struct ca_store_group *,
		     const struct ca_store_rec *rec, time_t now,
		     const char *jti, time_t exp, time_t jti_now, int64_t *id,
		     struct kr_error *err);
enum kr_err	 ca_store_group_commit(struct ca_store_group *, int64_t id,
		     const uint8_t *der, size_t len, struct kr_error *err);
enum kr_err	 ca_store_group_abandon(struct ca_store_group *, int64_t id,
		     struct kr_error *err);
enum kr_err	 ca_store_group_revoke(struct ca_store_group *,
		     const char *issuer_kid, const char *serial, int reason,
		     time_t when, struct kr_error *err);

/*
 * The connection's SQLite handle, for the ACME tables (ca/acme_store.c);
 * the same thread rules as the store's.
 */
struct sqlite3;
struct sqlite3	*ca_store_db(struct ca_store *);

#endif /* CA_STORE_H */
