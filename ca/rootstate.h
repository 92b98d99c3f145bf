/*
 * rootstate.h: what must persist between uses of an offline root: the
 * last CRL number, every certificate the root has signed, and the
 * revocations.  One directory per root under the state home, named by
 * the root certificate's fingerprint; every file written atomically and
 * the whole directory locked (flock) while open.
 *
 *   HOME/roots/<first 16 hex of SHA-256(root DER)>/
 *     root.pem        the root certificate this state belongs to
 *     crlnumber       decimal, the last CRL number handed out
 *     issued/<serial hex>.pem   every certificate the root signed
 *     revoked         "serialhex reason unixtime" lines
 *     lock
 */
#ifndef CA_ROOTSTATE_H
#define CA_ROOTSTATE_H

#include "ca.h"

struct ca_rootstate;

/* $KEYRITE_HOME, else $XDG_DATA_HOME/keyrite, else ~/.local/share/keyrite. */
const char	*ca_rootstate_default_home(void);

/*
 * Open (creating if needed) and lock the state of root under home (NULL:
 * ca_rootstate_default_home()).  KR_E_STATE when another process (or
 * another open in this one) holds it, or when it belongs to another root.
 */
enum kr_err	 ca_rootstate_open(const char *home, X509 *root,
		     struct ca_rootstate **out, struct kr_error *err);
void		 ca_rootstate_close(struct ca_rootstate *);

/*
 * Reserve the next CRL number: it is written to disk (fsynced) before it
 * is returned, so a crash after this never lets a number be used twice
 * and the sequence never goes down.
 */
enum kr_err	 ca_rootstate_next_crlnumber(struct ca_rootstate *,
		     ASN1_INTEGER **out, struct kr_error *err);

/* Record a certificate the root signed (before it is handed out). */
enum kr_err	 ca_rootstate_record_issued(struct ca_rootstate *, X509 *,
		     struct kr_error *err);

/* Was this serial issued by the root? */
int		 ca_rootstate_was_issued(struct ca_rootstate *,
		     const ASN1_INTEGER *serial);

/* Record a revocation (idempotent: a second one keeps the first). */
enum kr_err	 ca_rootstate_revoke(struct ca_rootstate *,
		     const ASN1_INTEGER *serial, int reason, time_t when,
		     struct kr_error *err);

/* All revocations so far; caller frees with ca_revoked_free. */
enum kr_err	 ca_rootstate_revoked(struct ca_rootstate *,
		     struct ca_revoked **out, size_t *n,
		     struct kr_error *err);

/*
 * Issue the root's next CRL: record the revocations of certs[0..n)
 * (reasons[i], -1 = none; each must have been issued by ca, checked
 * before anything is recorded), reserve the next CRL number on disk,
 * call reserved() if not NULL (tests use it to die there as a crash
 * would), and build, lint and sign the CRL of every revocation so far
 * with s.  *out is the signed CRL, *number its number and *nrevoked how
 * many it lists.  Nothing is written but the state; the caller writes
 * the CRL.
 */
enum kr_err	 ca_rootstate_crl(struct ca_rootstate *, X509 *ca,
		     const struct ca_signer *s, X509 *const *certs,
		     const int *reasons, size_t n, long long next_update,
		     time_t now, void (*reserved)(void), X509_CRL **out,
		     ASN1_INTEGER **number, size_t *nrevoked,
		     struct kr_error *err);

/* Was cert issued (and signed) by ca? */
int		 ca_issued_by(X509 *cert, X509 *ca);

/* The state directory path (for messages). */
const char	*ca_rootstate_dir(const struct ca_rootstate *);

#endif /* CA_ROOTSTATE_H */
