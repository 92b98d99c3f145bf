/*
 * http.c: `keyrited serve`.  Two libmicrohttpd daemons: the API (JSON
 * over TLS, docs/api.md) and publication (plain HTTP: CRLs, CA
 * certificates, /healthz, /metrics).  The main thread owns the
 * schedule: CRLs every crl_interval and within a second of a
 * revocation, store housekeeping, the serving certificate's renewal,
 * respawning signers, SIGHUP (reload provisioners) and SIGTERM (stop
 * accepting, drain what is in flight, stop).
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "kd.h"
#include "ca/acme.h"
#include "trust.h"
#include "ca/apireq.h"
#include "common/file.h"

#define DRAIN_SECONDS	30
#define CRL_RETRY	10	/* seconds after a failed CRL */

/* ------------------------------------------------------------------ */
/* Metrics                                                             */
/* ------------------------------------------------------------------ */

enum ep { EP_SIGN, EP_RENEW, EP_REVOKE, EP_ROOTS, EP_OTHER, EP_ACME, EP_N };
static const char *const ep_names[EP_N] = {
	"sign", "renew", "revoke", "roots", "other", "acme"
};
static const double buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5
};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/* Every code docs/api.md lists, so refusals are counted by reason. */
static const char *const codes[] = {
	"bad_json", "bad_request", "bad_csr", "csr_signature", "bad_lifetime",
	"bad_reason", "token_malformed", "token_algorithm", "token_issuer",
	"token_signature", "token_audience", "token_expired",
	"token_not_yet_valid", "token_lifetime", "token_replayed",
	"token_internal", "client_cert_required", "client_cert_invalid",
	"cert_expired", "cert_revoked", "csr_names", "name_not_allowed",
	"name_outside_constraints", "not_authorized", "policy", "not_found",
	"method_not_allowed", "body_too_large", "unsupported_media_type",
	"internal", "unavailable",
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

static struct {
	atomic_ullong	issued[EP_N];
	atomic_ullong	revoked;
	atomic_ullong	refused[NCODES];
	atomic_ullong	hist[EP_N][NBUCKETS + 1];
	atomic_ullong	hist_count[EP_N];
	atomic_ullong	hist_sum_us[EP_N];
	atomic_llong	crl_this_update;
	atomic_llong	crl_published;
} M;

static void
count_refusal(const char *code)
{
	size_t i;

	for (i = 0; i < NCODES; i++)
		if (strcmp(codes[i], code) == 0) {
			atomic_fetch_add(&M.refused[i], 1);
			return;
		}
}

static void
observe(enum ep ep, double secs)
{
	size_t i;

	for (i = 0; i < NBUCKETS && secs > buckets[i]; i++)
		;
	atomic_fetch_add(&M.hist[ep][i], 1);
	atomic_fetch_add(&M.hist_count[ep], 1);
	atomic_fetch_add(&M.hist_sum_us[ep], (unsigned long long)(secs * 1e6));
}

/* ------------------------------------------------------------------ */
/* Server state                                                        */
/* ------------------------------------------------------------------ */

struct srv {
	struct kd_ca		*ca;
	char			 listen[128];
	char			 publish[128];
	char			 aud2[KD_URL_MAX];	/* https://LISTEN */
	int			 api_fd;
	struct MHD_Daemon	*api;
	struct MHD_Daemon	*pub;
	struct MHD_Daemon	*retired;	/* old API daemon, draining */
	time_t			 retired_at;
	char			*cert_pem;	/* serving cert + chain */
	char			*key_pem;
	char			*trust_pem;
	atomic_int		 inflight;
	atomic_int		 crl_due;
	atomic_int		 draining;
};

/*
 * One store connection per worker thread (SQLite handles are not
 * shared), closed when the thread exits.
 */
static pthread_key_t store_key;
static pthread_once_t store_once = PTHREAD_ONCE_INIT;

static void
store_close(void *p)
{
	ca_store_close(p);
}

static void
store_key_make(void)
{
	(void)pthread_key_create(&store_key, store_close);
}

static struct ca_store *
thread_store(struct srv *s, struct kr_error *err)
{
	struct ca_store *st;
	char path[PATH_MAX];

	pthread_once(&store_once, store_key_make);
	if ((st = pthread_getspecific(store_key)) != NULL)
		return st;
	if (kd_path(s->ca->cfg.home, KD_STORE, path, err) != KR_OK ||
	    ca_store_open(path, &st, err) != KR_OK)
		return NULL;
	if (pthread_setspecific(store_key, st) != 0) {
		ca_store_close(st);
		kr_fail(err, KR_E_NOMEM, "out of memory");
		return NULL;
	}
	return st;
}

struct req {
	enum ep		 ep;
	double		 t0;
	char		*body;
	size_t		 len;
	int		 too_large;
	int		 answered;
};

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

static enum MHD_Result
send_buf(struct MHD_Connection *c, unsigned status, const char *ctype,
    const void *buf, size_t len, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)buf,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (allow != NULL)
		MHD_add_response_header(r, "Allow", allow);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_json(struct MHD_Connection *c, unsigned status, json_t *o)
{
	enum MHD_Result ret;
	char *s;

	if ((s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL) {
		json_decref(o);
		return MHD_NO;
	}
	json_decref(o);
	ret = send_buf(c, status, "application/json", s, strlen(s), NULL);
	free(s);
	return ret;
}

static enum MHD_Result
send_err(struct MHD_Connection *c, struct req *q, unsigned status,
    const char *code, const char *msg, const char *allow)
{
	json_t *o;
	char *s;
	enum MHD_Result ret;

	count_refusal(code);
	if (q != NULL)
		q->answered = 1;
	o = json_pack("{s:s, s:s}", "error", code, "message", msg);
	if (o == NULL || (s = json_dumps(o, JSON_PRESERVE_ORDER)) == NULL) {
		json_decref(o);
		return MHD_NO;
	}
	json_decref(o);
	ret = send_buf(c, status, "application/json", s, strlen(s), allow);
	free(s);
	return ret;
}

static enum MHD_Result
send_kerr(struct MHD_Connection *c, struct req *q, const struct kd_err *ke)
{
	return send_err(c, q, (unsigned)ke->http, ke->code, ke->e.msg, NULL);
}

static void
rfc3339(time_t t, char buf[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static enum MHD_Result
send_issued(struct MHD_Connection *c, struct req *q, struct srv *s,
    struct kd_issued *is)
{
	char nb[32], na[32];
	json_t *o;

	q->answered = 1;
	atomic_fetch_add(&M.issued[q->ep], 1);
	rfc3339(is->not_before, nb);
	rfc3339(is->not_after, na);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "certificate",
	    is->pem, "chain", s->ca->chain_pem, "serial", is->serial,
	    "not_before", nb, "not_after", na, "lifetime_capped", is->capped);
	if (o == NULL)
		return send_err(c, q, 500, "internal", "out of memory", NULL);
	return send_json(c, 201, o);
}

/* Parse the body as kind; -1 after sending the refusal. */
static int
body_parse(struct MHD_Connection *c, struct req *q, enum ca_apireq_kind kind,
    struct ca_apireq *r, enum MHD_Result *ret)
{
	struct ca_apireq_err e;

	if (ca_apireq_parse(kind, q->body, q->len, r, &e) == 0)
		return 0;
	*ret = send_err(c, q, (unsigned)e.http, e.code, e.msg, NULL);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */
/* ------------------------------------------------------------------ */

/*
 * Verify token and, with burn, burn its jti (without, the caller passes
 * it to kd_issue, which burns it with the reservation).  Holds provlock
 * (read) on success: the caller releases it.  NULL after sending the
 * refusal.
 */
static struct ca_token_claims *
token_check(struct MHD_Connection *c, struct req *q, struct srv *s,
    const char *tok, int burn, enum MHD_Result *ret)
{
	struct ca_token_issuer *iss = NULL;
	struct ca_token_claims *cl = NULL;
	const char *aud[2];
	struct kr_error e;
	struct kd_err ke;
	enum ca_token_err te;
	time_t now = kr_now();
	size_t i;

	memset(&e, 0, sizeof(e));
	pthread_rwlock_rdlock(&s->ca->provlock);
	if ((iss = calloc(s->ca->nprovs + 1, sizeof(*iss))) == NULL) {
		*ret = send_err(c, q, 500, "internal", "out of memory", NULL);
		goto fail;
	}
	for (i = 0; i < s->ca->nprovs; i++) {
		iss[i].name = s->ca->provs[i].p->name;
		iss[i].key = s->ca->provs[i].p->key;
	}
	aud[0] = s->ca->cfg.api_url;
	aud[1] = s->aud2;
	te = ca_token_verify_aud(tok, strlen(tok), iss, s->ca->nprovs, aud,
	    s->aud2[0] != '\0' ? 2 : 1, now, &cl, &e);
	free(iss);
	if (te != CA_TOKEN_OK) {
		*ret = send_err(c, q, te == CA_TOKEN_INTERNAL ? 500 : 401,
		    ca_token_err_code(te), e.msg, NULL);
		goto fail;
	}
	/*
	 * The verifier allows CA_TOKEN_SKEW past exp; so does the replay
	 * check (the jti is kept an hour past exp anyway).
	 */
	if (burn && kd_jti_burn(s->ca, cl->iss, cl->jti, (time_t)cl->exp,
	    now - CA_TOKEN_SKEW, &ke) != 0) {
		*ret = send_kerr(c, q, &ke);
		goto fail;
	}
	return cl;
fail:
	ca_token_claims_free(cl);
	pthread_rwlock_unlock(&s->ca->provlock);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Client certificates                                                 */
/* ------------------------------------------------------------------ */

/*
 * The TLS client certificate, checked: issued by our intermediate (its
 * signature verifies), known to the store with the same DER.  With
 * need_current, also unexpired and not revoked.  On success *x and
 * *rec are the caller's; else the refusal was sent.
 */
static int
client_cert(struct MHD_Connection *c, struct req *q, struct srv *s,
    struct ca_store *st, int need_current, X509 **x, struct ca_store_rec *rec,
    enum MHD_Result *ret)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *peers;
	const unsigned char *p;
	unsigned int npeers = 0;
	struct kr_error e;
	char *serial = NULL, msg[200], when[32];
	time_t na;
	int ok;

	*x = NULL;
	memset(rec, 0, sizeof(*rec));
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL ||
	    (peers = gnutls_certificate_get_peers(
	    (gnutls_session_t)ci->tls_session, &npeers)) == NULL ||
	    npeers == 0) {
		*ret = send_err(c, q, 401, "client_cert_required", "this "
		    "request needs your current certificate as the TLS "
		    "client certificate", NULL);
		return -1;
	}
	p = peers[0].data;
	*x = d2i_X509(NULL, &p, (long)peers[0].size);
	ok = *x != NULL && p == peers[0].data + peers[0].size &&
	    X509_NAME_cmp(X509_get_issuer_name(*x),
	    X509_get_subject_name(s->ca->cert)) == 0 &&
	    X509_verify(*x, X509_get0_pubkey(s->ca->cert)) == 1 &&
	    (serial = ca_serial_hex(X509_get0_serialNumber(*x))) != NULL &&
	    ca_store_get(st, s->ca->kid, serial, rec, &e) == KR_OK &&
	    rec->der != NULL && rec->der_len == peers[0].size &&
	    memcmp(rec->der, peers[0].data, rec->der_len) == 0;
	ERR_clear_error();
	free(serial);
	if (!ok) {
		ca_store_rec_clear(rec);
		X509_free(*x);
		*x = NULL;
		*ret = send_err(c, q, 401, "client_cert_invalid", "the client "
		    "certificate was not issued by this signer", NULL);
		return -1;
	}
	if (!need_current)
		return 0;
	if (rec->status == CA_STORE_REVOKED) {
		*ret = send_err(c, q, 403, "cert_revoked", "the client "
		    "certificate is revoked; request a new one", NULL);
		goto fail;
	}
	if (ca_time_from_asn1(X509_get0_notAfter(*x), &na) != 0 ||
	    na < kr_now()) {
		rfc3339(na, when);
		snprintf(msg, sizeof(msg), "the client certificate expired "
		    "at %s; request a new one", when);
		*ret = send_err(c, q, 401, "cert_expired", msg, NULL);
		goto fail;
	}
	return 0;
fail:
	ca_store_rec_clear(rec);
	X509_free(*x);
	*x = NULL;
	return -1;
}

/* The names of a store record ("DNS:x", "IP:y" JSON) as plain strings. */
static int
rec_names(const struct ca_store_rec *rec, char ***out, size_t *n)
{
	json_t *a, *v;
	const char *s;
	size_t i;
	char **names;

	*out = NULL;
	*n = 0;
	if ((a = json_loads(rec->sans, 0, NULL)) == NULL || !json_is_array(a))
		goto fail;
	if ((names = calloc(json_array_size(a) + 1, sizeof(*names))) == NULL)
		goto fail;
	json_array_foreach(a, i, v) {
		s = json_string_value(v);
		if (s == NULL)
			break;
		if (strncmp(s, "DNS:", 4) == 0)
			names[*n] = strdup(s + 4);
		else if (strncmp(s, "IP:", 3) == 0)
			names[*n] = strdup(s + 3);
		else
			continue;
		if (names[*n] == NULL)
			break;
		(*n)++;
	}
	json_decref(a);
	*out = names;
	return 0;
fail:
	json_decref(a);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Endpoints                                                           */
/* ------------------------------------------------------------------ */

/*
 * Each name the CSR asks for (CN, DNS and IP SANs) must be one of
 * names, and it may ask for no other kind of name; else the first one
 * that is not goes into bad.
 */
static int
csr_names_ok(const struct ca_csr *csr, const char *const *names, size_t n,
    char *bad, size_t badsz)
{
	char **want = NULL;
	size_t nwant = 0, i, j;
	int ok = 1;

	bad[0] = '\0';
	if (kd_csr_names(csr->subject, csr->exts, &want, &nwant, bad,
	    badsz) != 0) {
		snprintf(bad, badsz, "names that cannot be read");
		return 0;
	}
	if (bad[0] != '\0')
		ok = 0;
	for (i = 0; ok && i < nwant; i++) {
		for (j = 0; j < n; j++)
			if (strcasecmp(names[j], want[i]) == 0)
				break;
		if (j == n) {
			snprintf(bad, badsz, "%s", want[i]);
			ok = 0;
		}
	}
	kd_names_free(want, nwant);
	return ok;
}

static enum MHD_Result
ep_sign(struct MHD_Connection *c, struct req *q, struct srv *s)
{
	struct ca_token_claims *cl = NULL;
	struct ca_apireq ar;
	struct kd_issue_req r;
	struct kd_issued is;
	struct kd_err ke;
	const char **names = NULL;
	char bad[300], msg[400];
	size_t n = 0, i;
	enum MHD_Result ret = MHD_NO;

	memset(&is, 0, sizeof(is));
	if (body_parse(c, q, CA_APIREQ_SIGN, &ar, &ret) != 0)
		return ret;
	if ((cl = token_check(c, q, s, ar.token, 0, &ret)) == NULL)
		goto out;
	/* provlock is held from here; the token is burnt by kd_issue. */
	if ((names = calloc(cl->nsans + 1, sizeof(*names))) == NULL) {
		ret = send_err(c, q, 500, "internal", "out of memory", NULL);
		goto unlock;
	}
	names[n++] = cl->sub;
	for (i = 0; i < cl->nsans; i++)
		if (strcasecmp(cl->sans[i], cl->sub) != 0)
			names[n++] = cl->sans[i];
	if (!csr_names_ok(ar.csr, names, n, bad, sizeof(bad))) {
		if (kd_jti_burn(s->ca, cl->iss, cl->jti, (time_t)cl->exp,
		    kr_now() - CA_TOKEN_SKEW, &ke) != 0) {
			ret = send_kerr(c, q, &ke);
			goto unlock;
		}
		snprintf(msg, sizeof(msg), "the CSR asks for %s, which the "
		    "token does not name", bad);
		ret = send_err(c, q, 403, "csr_names", msg, NULL);
		goto unlock;
	}
	memset(&r, 0, sizeof(r));
	r.pub = ar.csr->pub;
	r.spki = ar.csr->spki;
	r.spki_len = ar.csr->spki_len;
	r.names = names;
	r.nnames = n;
	r.lifetime = ar.lifetime;
	r.prov = kd_prov_find(s->ca, cl->iss);
	r.provname = cl->iss;
	r.jti = cl->jti;
	r.jti_exp = (time_t)cl->exp;
	r.jti_now = kr_now() - CA_TOKEN_SKEW;
	if (r.prov == NULL) {
		if (kd_jti_burn(s->ca, cl->iss, cl->jti, r.jti_exp, r.jti_now,
		    &ke) != 0)
			ret = send_kerr(c, q, &ke);
		else
			ret = send_err(c, q, 401, "token_issuer", "the "
			    "provisioner was removed", NULL);
		goto unlock;
	}
	if (kd_issue(s->ca, &r, &is, &ke) != 0)
		ret = send_kerr(c, q, &ke);
	else
		ret = send_issued(c, q, s, &is);
unlock:
	pthread_rwlock_unlock(&s->ca->provlock);
out:
	kd_issued_clear(&is);
	ca_token_claims_free(cl);
	free(names);
	ca_apireq_free(&ar);
	return ret;
}

static enum MHD_Result
ep_renew(struct MHD_Connection *c, struct req *q, struct srv *s)
{
	struct ca_apireq ar;
	struct ca_store_rec rec;
	struct kd_issue_req r;
	struct kd_issued is;
	struct kd_err ke;
	struct kr_error e;
	struct ca_store *st;
	X509 *x = NULL;
	unsigned char *spki = NULL;
	char **names = NULL;
	size_t n = 0;
	long long life;
	int len, acme = 0;
	enum MHD_Result ret = MHD_NO;

	memset(&is, 0, sizeof(is));
	memset(&rec, 0, sizeof(rec));
	if (body_parse(c, q, CA_APIREQ_RENEW, &ar, &ret) != 0)
		return ret;
	life = ar.lifetime;
	if ((st = thread_store(s, &e)) == NULL) {
		ret = send_err(c, q, 500, "internal", e.msg, NULL);
		goto out;
	}
	if (client_cert(c, q, s, st, 1, &x, &rec, &ret) != 0)
		goto out;
	if (rec_names(&rec, &names, &n) != 0 || n == 0) {
		ret = send_err(c, q, 500, "internal", "the stored names "
		    "cannot be read", NULL);
		goto out;
	}
	if (life == 0)
		life = (long long)(rec.not_after - rec.not_before);
	memset(&r, 0, sizeof(r));
	r.pub = X509_get0_pubkey(x);
	if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki)) > 0) {
		r.spki = spki;
		r.spki_len = (size_t)len;
	}
	r.names = (const char *const *)names;
	r.nnames = n;
	r.lifetime = life;
	r.provname = rec.provisioner;
	pthread_rwlock_rdlock(&s->ca->provlock);
	r.prov = kd_prov_find(s->ca, rec.provisioner);
	/* Issued over ACME: that provisioner's policy, while it exists. */
	if (r.prov == NULL &&
	    (r.prov = kd_acme_prov_get(rec.provisioner)) != NULL)
		acme = 1;
	if (r.prov == NULL && kd_prov_reserved(rec.provisioner))
		ret = send_err(c, q, 403, "not_authorized", "this certificate "
		    "was issued locally (keyrited issue), not through a "
		    "provisioner; renew it the same way", NULL);
	else if (r.prov == NULL)
		ret = send_err(c, q, 403, "not_authorized", "the provisioner "
		    "that issued this certificate was removed; request a new "
		    "one", NULL);
	else if (kd_issue(s->ca, &r, &is, &ke) != 0)
		ret = send_kerr(c, q, &ke);
	else
		ret = send_issued(c, q, s, &is);
	if (acme)
		kd_acme_prov_put();
	pthread_rwlock_unlock(&s->ca->provlock);
out:
	kd_issued_clear(&is);
	kd_names_free(names, n);
	ca_store_rec_clear(&rec);
	OPENSSL_free(spki);
	X509_free(x);
	ca_apireq_free(&ar);
	return ret;
}

static enum MHD_Result
ep_revoke(struct MHD_Connection *c, struct req *q, struct srv *s)
{
	struct ca_token_claims *cl = NULL;
	struct ca_apireq ar;
	struct ca_store_rec rec, own;
	struct kr_error e;
	struct ca_store *st;
	X509 *x = NULL;
	char when[32];
	int locked = 0;
	time_t now = kr_now();
	enum kr_err rc;
	enum MHD_Result ret = MHD_NO;

	memset(&rec, 0, sizeof(rec));
	memset(&own, 0, sizeof(own));
	if (body_parse(c, q, CA_APIREQ_REVOKE, &ar, &ret) != 0)
		return ret;
	if ((st = thread_store(s, &e)) == NULL) {
		ret = send_err(c, q, 500, "internal", e.msg, NULL);
		goto out;
	}
	if (ar.token != NULL) {
		if ((cl = token_check(c, q, s, ar.token, 1, &ret)) == NULL)
			goto out;
		locked = 1;
		if (strcmp(cl->sub, ar.serial) != 0) {
			ret = send_err(c, q, 403, "not_authorized", "the "
			    "token's subject is not this serial", NULL);
			goto out;
		}
		if ((rc = ca_store_get(st, s->ca->kid, ar.serial, &rec, &e)) !=
		    KR_OK) {
			ret = rc == KR_E_NOTFOUND || rc == KR_E_USAGE ?
			    send_err(c, q, 404, "not_found", "no certificate "
			    "with this serial", NULL) :
			    send_err(c, q, 500, "internal", e.msg, NULL);
			goto out;
		}
		if (strcmp(rec.provisioner, cl->iss) != 0 &&
		    !kd_prov_is_admin(s->ca, cl->iss)) {
			ret = send_err(c, q, 403, "not_authorized", "this "
			    "provisioner did not issue the certificate and is "
			    "not an admin", NULL);
			goto out;
		}
	} else {
		if (client_cert(c, q, s, st, 0, &x, &own, &ret) != 0)
			goto out;
		if (ar.serial != NULL && strcmp(ar.serial, own.serial) != 0) {
			ret = send_err(c, q, 403, "not_authorized", "a "
			    "certificate can revoke only itself; use an admin "
			    "provisioner's token for others", NULL);
			goto out;
		}
		rec = own;
		memset(&own, 0, sizeof(own));
	}
	if (rec.status != CA_STORE_VALID && rec.status != CA_STORE_REVOKED) {
		ret = send_err(c, q, 404, "not_found", "no issued certificate "
		    "with this serial", NULL);
		goto out;
	}
	if (rec.status == CA_STORE_VALID) {
		if ((rc = ca_store_group_revoke(s->ca->group, s->ca->kid,
		    rec.serial, ar.reason, now, &e)) != KR_OK) {
			ret = send_err(c, q, 500, "internal", e.msg, NULL);
			goto out;
		}
		atomic_fetch_add(&M.revoked, 1);
		atomic_store(&s->crl_due, 1);
		rec.revoked_at = now;
		rec.reason = ar.reason;
	}
	/* Revoked already: the first time and reason stand. */
	rfc3339(rec.revoked_at, when);
	q->answered = 1;
	ret = send_json(c, 200, json_pack("{s:s, s:s, s:s}", "serial",
	    rec.serial, "revoked_at", when, "reason", rec.reason >= 0 ?
	    ca_reason_name(rec.reason) : "unspecified"));
out:
	if (locked)
		pthread_rwlock_unlock(&s->ca->provlock);
	ca_token_claims_free(cl);
	ca_store_rec_clear(&rec);
	ca_store_rec_clear(&own);
	X509_free(x);
	ca_apireq_free(&ar);
	return ret;
}

static enum MHD_Result
ep_roots(struct MHD_Connection *c, struct req *q, struct srv *s)
{
	q->answered = 1;
	return send_json(c, 200, json_pack("{s:[s], s:[s]}", "roots",
	    s->ca->root_pem, "intermediates", s->ca->chain_pem));
}

/* ACME (acme.c): its answer, with its headers. */
static enum MHD_Result
ep_acme(struct MHD_Connection *c, struct req *q, struct srv *s,
    const char *url, const char *method)
{
	struct kd_acme_resp r;
	struct MHD_Response *mr;
	struct ca_store *st;
	struct kr_error e;
	enum MHD_Result ret;
	char ra[16];

	if ((st = thread_store(s, &e)) == NULL)
		return send_err(c, q, 500, "internal", e.msg, NULL);
	q->answered = 1;
	kd_acme_handle(s->ca, st, method, url, MHD_lookup_connection_value(c,
	    MHD_HEADER_KIND, "Host"), MHD_lookup_connection_value(c,
	    MHD_HEADER_KIND, "Content-Type"), q->body, q->len, &r);
	if (r.issued)
		atomic_fetch_add(&M.issued[EP_ACME], 1);
	if (r.revoked) {
		atomic_fetch_add(&M.revoked, 1);
		atomic_store(&s->crl_due, 1);
	}
	mr = MHD_create_response_from_buffer(r.len, r.body,
	    MHD_RESPMEM_MUST_COPY);
	if (mr == NULL) {
		kd_acme_resp_free(&r);
		return MHD_NO;
	}
	if (r.ctype != NULL)
		MHD_add_response_header(mr, "Content-Type", r.ctype);
	MHD_add_response_header(mr, "Cache-Control", "no-store");
	if (r.nonce[0] != '\0')
		MHD_add_response_header(mr, "Replay-Nonce", r.nonce);
	if (r.location[0] != '\0')
		MHD_add_response_header(mr, "Location", r.location);
	if (r.link[0][0] != '\0')
		MHD_add_response_header(mr, "Link", r.link[0]);
	if (r.link[1][0] != '\0')
		MHD_add_response_header(mr, "Link", r.link[1]);
	if (r.retry_after > 0) {
		snprintf(ra, sizeof(ra), "%d", r.retry_after);
		MHD_add_response_header(mr, "Retry-After", ra);
	}
	ret = MHD_queue_response(c, r.status, mr);
	MHD_destroy_response(mr);
	kd_acme_resp_free(&r);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

static int
json_ctype(struct MHD_Connection *c)
{
	const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Content-Type");
	size_t n = strlen("application/json");

	if (t == NULL || strncasecmp(t, "application/json", n) != 0)
		return 0;
	t += n;
	while (*t == ' ')
		t++;
	return *t == '\0' || *t == ';';
}

static enum ep
route(const char *url)
{
	if (strcmp(url, "/v1/sign") == 0)
		return EP_SIGN;
	if (strcmp(url, "/v1/renew") == 0)
		return EP_RENEW;
	if (strcmp(url, "/v1/revoke") == 0)
		return EP_REVOKE;
	if (strcmp(url, "/v1/roots") == 0)
		return EP_ROOTS;
	if (strncmp(url, "/acme/", 6) == 0)
		return EP_ACME;
	return EP_OTHER;
}

static enum MHD_Result
api_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct srv *s = cls;
	struct req *q = *con_cls;
	const char *cl;
	char *nb;
	int is_post;

	(void)version;
	if (q == NULL) {
		if ((q = calloc(1, sizeof(*q))) == NULL)
			return MHD_NO;
		q->t0 = mono();
		q->ep = route(url);
		*con_cls = q;
		atomic_fetch_add(&s->inflight, 1);
		is_post = strcmp(method, "POST") == 0;
		if (atomic_load(&s->draining))
			return send_err(c, q, 503, "unavailable", "shutting "
			    "down", NULL);
		if (q->ep == EP_OTHER)
			return send_err(c, q, 404, "not_found", "no such "
			    "path; the API is /v1/sign, /v1/renew, "
			    "/v1/revoke, /v1/roots", NULL);
		if (q->ep == EP_ROOTS && strcmp(method, "GET") != 0 &&
		    strcmp(method, "HEAD") != 0)
			return send_err(c, q, 405, "method_not_allowed", "use "
			    "GET", "GET, HEAD");
		if (q->ep == EP_ROOTS)
			return MHD_YES;
		/* ACME checks its own methods and media type (acme.c). */
		if (q->ep == EP_ACME && !is_post)
			return MHD_YES;
		if (!is_post)
			return send_err(c, q, 405, "method_not_allowed", "use "
			    "POST", "POST");
		if (q->ep != EP_ACME && !json_ctype(c))
			return send_err(c, q, 415, "unsupported_media_type",
			    "Content-Type must be application/json", NULL);
		/*
		 * Refuse an announced oversized body at once only when the
		 * client waits for 100-continue; otherwise it is sending
		 * already, and answering now would reset the connection
		 * under it: read and discard it, then answer 413.
		 */
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "Content-Length");
		if (cl != NULL && strtoull(cl, NULL, 10) > KD_BODY_MAX) {
			if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			    "Expect") != NULL)
				return send_err(c, q, 413, "body_too_large",
				    "the body is larger than 65536 bytes",
				    NULL);
			q->too_large = 1;
		}
		return MHD_YES;
	}
	if (q->answered) {
		*upload_size = 0;	/* discard the rest */
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (q->len + *upload_size > KD_BODY_MAX)
			q->too_large = 1;
		if (!q->too_large) {
			if ((nb = realloc(q->body, q->len + *upload_size +
			    1)) == NULL)
				return MHD_NO;
			q->body = nb;
			memcpy(q->body + q->len, upload, *upload_size);
			q->len += *upload_size;
			q->body[q->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->too_large)
		return send_err(c, q, 413, "body_too_large", "the body is "
		    "larger than 65536 bytes", NULL);
	switch (q->ep) {
	case EP_SIGN:
		return ep_sign(c, q, s);
	case EP_RENEW:
		return ep_renew(c, q, s);
	case EP_REVOKE:
		return ep_revoke(c, q, s);
	case EP_ROOTS:
		return ep_roots(c, q, s);
	case EP_ACME:
		return ep_acme(c, q, s, url, method);
	default:
		return send_err(c, q, 404, "not_found", "no such path", NULL);
	}
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct srv *s = cls;
	struct req *q = *con_cls;

	(void)c;
	(void)toe;
	if (q == NULL)
		return;
	observe(q->ep, mono() - q->t0);
	free(q->body);
	free(q);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
}

/* Publication: files from home/publish, /healthz and /metrics. */
static const struct {
	const char	*path;
	const char	*file;
	const char	*ctype;
} pubfiles[] = {
	{ "/crl/intermediate.crl", "crl/intermediate.crl",
	    "application/pkix-crl" },
	{ "/crl/intermediate.pem", "crl/intermediate.pem",
	    "application/x-pem-file" },
	{ "/crl/root.crl", "crl/root.crl", "application/pkix-crl" },
	{ "/crl/root.pem", "crl/root.pem", "application/x-pem-file" },
	{ "/certs/intermediate.der", "certs/intermediate.der",
	    "application/pkix-cert" },
	{ "/certs/intermediate.pem", "certs/intermediate.pem",
	    "application/x-pem-file" },
	{ "/certs/root.der", "certs/root.der", "application/pkix-cert" },
	{ "/certs/root.pem", "certs/root.pem", "application/x-pem-file" },
	{ "/certs/chain.pem", "certs/chain.pem", "application/x-pem-file" },
};

static enum MHD_Result
metrics(struct MHD_Connection *c, struct srv *s)
{
	struct ca_store_info info;
	struct kr_error e;
	struct ca_store *st;
	char *buf = NULL;
	size_t len = 0, i, b;
	unsigned long long cum;
	long long tu;
	FILE *f;
	enum MHD_Result ret;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return MHD_NO;
	fprintf(f, "# HELP keyrited_certificates_issued_total Certificates "
	    "issued, by endpoint.\n# TYPE keyrited_certificates_issued_total "
	    "counter\n");
	for (i = 0; i < EP_REVOKE; i++)
		fprintf(f, "keyrited_certificates_issued_total{endpoint=\"%s\"}"
		    " %llu\n", ep_names[i], atomic_load(&M.issued[i]));
	fprintf(f, "keyrited_certificates_issued_total{endpoint=\"acme\"} "
	    "%llu\n", atomic_load(&M.issued[EP_ACME]));
	fprintf(f, "# HELP keyrited_revocations_total Certificates revoked "
	    "through the API.\n# TYPE keyrited_revocations_total counter\n"
	    "keyrited_revocations_total %llu\n", atomic_load(&M.revoked));
	fprintf(f, "# HELP keyrited_requests_refused_total Requests refused, "
	    "by error code.\n# TYPE keyrited_requests_refused_total "
	    "counter\n");
	for (i = 0; i < NCODES; i++)
		fprintf(f, "keyrited_requests_refused_total{reason=\"%s\"} "
		    "%llu\n", codes[i], atomic_load(&M.refused[i]));
	fprintf(f, "# HELP keyrited_request_duration_seconds API request "
	    "latency.\n# TYPE keyrited_request_duration_seconds histogram\n");
	for (i = 0; i < EP_N; i++) {
		cum = 0;
		for (b = 0; b <= NBUCKETS; b++) {
			cum += atomic_load(&M.hist[i][b]);
			if (b < NBUCKETS)
				fprintf(f, "keyrited_request_duration_seconds_"
				    "bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
				    ep_names[i], buckets[b], cum);
			else
				fprintf(f, "keyrited_request_duration_seconds_"
				    "bucket{endpoint=\"%s\",le=\"+Inf\"} "
				    "%llu\n", ep_names[i], cum);
		}
		fprintf(f, "keyrited_request_duration_seconds_sum{endpoint="
		    "\"%s\"} %.6f\n", ep_names[i],
		    (double)atomic_load(&M.hist_sum_us[i]) / 1e6);
		fprintf(f, "keyrited_request_duration_seconds_count{endpoint="
		    "\"%s\"} %llu\n", ep_names[i],
		    atomic_load(&M.hist_count[i]));
	}
	tu = atomic_load(&M.crl_this_update);
	fprintf(f, "# HELP keyrited_crl_age_seconds Seconds since the "
	    "intermediate's CRL was issued.\n# TYPE keyrited_crl_age_seconds "
	    "gauge\nkeyrited_crl_age_seconds %lld\n",
	    tu > 0 ? (long long)kr_now() - tu : -1LL);
	fprintf(f, "# HELP keyrited_crls_published_total CRLs issued since "
	    "start.\n# TYPE keyrited_crls_published_total counter\n"
	    "keyrited_crls_published_total %lld\n",
	    atomic_load(&M.crl_published));
	fprintf(f, "# HELP keyrited_signers_up Signer processes running.\n"
	    "# TYPE keyrited_signers_up gauge\nkeyrited_signers_up %zu\n",
	    kd_signer_pids(s->ca->signers, (pid_t[KD_SIGNERS_MAX]){ 0 },
	    KD_SIGNERS_MAX));
	if ((st = thread_store(s, &e)) != NULL &&
	    ca_store_status_counts(st, &info, &e) == KR_OK)
		fprintf(f, "# HELP keyrited_store_certificates Certificates "
		    "in the store, by status.\n# TYPE "
		    "keyrited_store_certificates gauge\n"
		    "keyrited_store_certificates{status=\"valid\"} %lld\n"
		    "keyrited_store_certificates{status=\"revoked\"} %lld\n"
		    "keyrited_store_certificates{status=\"pending\"} %lld\n"
		    "keyrited_store_certificates{status=\"abandoned\"} %lld\n"
		    "# HELP keyrited_crl_number The last CRL number handed "
		    "out.\n# TYPE keyrited_crl_number gauge\n"
		    "keyrited_crl_number %lld\n", (long long)info.valid,
		    (long long)info.revoked, (long long)info.pending,
		    (long long)info.abandoned, (long long)info.crl_number);
	kd_trust_metrics(f, s->ca->cfg.home);
	if (fclose(f) != 0)
		return MHD_NO;
	ret = send_buf(c, 200, "text/plain; version=0.0.4", buf, len, NULL);
	free(buf);
	return ret;
}

static enum MHD_Result
pub_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct srv *s = cls;
	char dir[PATH_MAX], path[PATH_MAX + 64];
	struct kr_error e;
	uint8_t *buf;
	size_t len, i;
	enum MHD_Result ret;
	static int first;

	(void)version;
	(void)upload;
	(void)upload_size;
	if (*con_cls == NULL) {
		*con_cls = &first;	/* answer after the headers */
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_err(c, NULL, 405, "method_not_allowed", "use GET",
		    "GET, HEAD");
	if (strcmp(url, "/healthz") == 0) {
		if (atomic_load(&s->draining) ||
		    kd_signer_pids(s->ca->signers, (pid_t[KD_SIGNERS_MAX]){ 0 },
		    KD_SIGNERS_MAX) == 0)
			return send_buf(c, 503, "text/plain", "unavailable\n",
			    12, NULL);
		return send_buf(c, 200, "text/plain", "ok\n", 3, NULL);
	}
	if (strcmp(url, "/metrics") == 0)
		return metrics(c, s);
	if (strncmp(url, "/trust/", 7) == 0 || strcmp(url, "/trust") == 0) {
		char why[320];

		if (kd_trust_serve(c, s->ca->cfg.home, url, &ret, why,
		    sizeof(why)) == 0)
			return ret;
		return send_err(c, NULL, 404, "not_found", why, NULL);
	}
	for (i = 0; i < sizeof(pubfiles) / sizeof(pubfiles[0]); i++)
		if (strcmp(url, pubfiles[i].path) == 0)
			break;
	if (i == sizeof(pubfiles) / sizeof(pubfiles[0]))
		return send_err(c, NULL, 404, "not_found", "no such path",
		    NULL);
	if (kd_path(s->ca->cfg.home, KD_PUBDIR, dir, &e) != KR_OK)
		return MHD_NO;
	snprintf(path, sizeof(path), "%s/%s", dir, pubfiles[i].file);
	if (kr_file_read(path, 1 << 24, &buf, &len, &e) != KR_OK)
		return send_err(c, NULL, 404, "not_found", "not published",
		    NULL);
	ret = send_buf(c, 200, pubfiles[i].ctype, buf, len, NULL);
	free(buf);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Listeners                                                           */
/* ------------------------------------------------------------------ */

static int
listen_on(const char *hp, struct kr_error *err)
{
	struct addrinfo hints, *ai = NULL;
	char host[256], port[16];
	int p, fd, one = 1;

	if (kd_hostport(hp, host, sizeof(host), &p) != 0) {
		kr_fail(err, KR_E_USAGE, "%s: not HOST:PORT", hp);
		return -1;
	}
	snprintf(port, sizeof(port), "%d", p);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL) {
		kr_fail(err, KR_E_USAGE, "%s: cannot resolve %s", hp, host);
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 256) != 0) {
		kr_fail(err, KR_E_IO, "listen on %s: %s", hp, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static struct MHD_Daemon *
start_api(struct srv *s)
{
	/*
	 * A thread for each connection: a request blocks its thread while
	 * the store syncs and the signer signs, and in a pool of threads
	 * that would hold up every other connection the same thread
	 * serves (connections are not spread evenly over a pool either).
	 * max_connections caps the connections, and so the threads.
	 *
	 * Those threads run SCHED_BATCH, which they inherit from the
	 * listening thread, which inherits it from this one for the call:
	 * a request thread woken (its signature is back, its commit
	 * synced) then waits for the running one's slice rather than
	 * preempting it.  Eight or more of them share two cores with the
	 * store's and the signers' work, and wake-up preemption among
	 * them only adds context switches: about 5% more certificates a
	 * second in bench/signer.sh.  The store's threads and the signer
	 * processes, started before, keep the default policy, so their
	 * wake-ups still preempt.  A failure to switch is harmless.
	 */
	struct sched_param sp0, batch = { .sched_priority = 0 };
	struct MHD_Daemon *d;
	int pol0;

	if (pthread_getschedparam(pthread_self(), &pol0, &sp0) != 0) {
		pol0 = SCHED_OTHER;
		sp0 = batch;
	}
	(void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_TURBO |
	    MHD_USE_TLS | MHD_USE_ITC, 0, NULL, NULL,
	    api_handler, s,
	    MHD_OPTION_LISTEN_SOCKET, s->api_fd,
	    MHD_OPTION_HTTPS_MEM_KEY, s->key_pem,
	    MHD_OPTION_HTTPS_MEM_CERT, s->cert_pem,
	    MHD_OPTION_HTTPS_MEM_TRUST, s->trust_pem,
	    MHD_OPTION_HTTPS_PRIORITIES,
	    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->ca->cfg.max_connections,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, s,
	    MHD_OPTION_END);
	if (pthread_setschedparam(pthread_self(), pol0, &sp0) != 0)
		fprintf(stderr, "keyrited: cannot restore the main thread's "
		    "scheduling policy (%d); it stays SCHED_BATCH\n", pol0);
	return d;
}

/* New serving certificate: a new API daemon on the same socket. */
static enum kr_err
serving_load(struct srv *s, int force, time_t *renew_at, struct kr_error *err)
{
	char *cert, *key, *full;
	size_t a, b;
	enum kr_err rc;

	if ((rc = kd_serving_cert(s->ca, s->listen, force, &cert, &key,
	    renew_at, err)) != KR_OK)
		return rc;
	a = strlen(cert);
	b = strlen(s->ca->chain_pem);
	if ((full = malloc(a + b + 1)) == NULL) {
		sodium_memzero(key, strlen(key));
		free(key);
		free(cert);
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	}
	memcpy(full, cert, a);
	memcpy(full + a, s->ca->chain_pem, b + 1);
	free(cert);
	if (s->key_pem != NULL) {
		sodium_memzero(s->key_pem, strlen(s->key_pem));
		free(s->key_pem);
	}
	free(s->cert_pem);
	s->cert_pem = full;
	s->key_pem = key;
	return KR_OK;
}

/*
 * Stop the retired API daemon once its connections are done (or after
 * DRAIN_SECONDS), so a request in flight gets its answer.
 */
static void
retire_check(struct srv *s, int now_please)
{
	const union MHD_DaemonInfo *di;

	if (s->retired == NULL)
		return;
	di = MHD_get_daemon_info(s->retired,
	    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	if (!now_please && di != NULL && di->num_connections > 0 &&
	    time(NULL) < s->retired_at + DRAIN_SECONDS)
		return;
	MHD_stop_daemon(s->retired);
	s->retired = NULL;
}

/* 0, or -1 when the new listener did not start (the old one stays). */
static int
rotate_api(struct srv *s)
{
	struct MHD_Daemon *old = s->api, *nd;

	/*
	 * The new daemon accepts on the same socket before the old one
	 * stops accepting, so no connection is refused; connections still
	 * open on the old one are closed (clients reconnect).
	 */
	retire_check(s, 1);
	if ((nd = start_api(s)) == NULL) {
		fprintf(stderr, "keyrited: cannot start the API listener "
		    "with the new certificate; keeping the old one\n");
		return -1;
	}
	s->api = nd;
	if (old != NULL) {
		/* It stops accepting now, and stops once it is idle. */
		MHD_quiesce_daemon(old);
		s->retired = old;
		s->retired_at = time(NULL);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The main loop                                                       */
/* ------------------------------------------------------------------ */

/* Issue and publish the CRL; 0, or -1 after saying why. */
static int
crl_now(struct srv *s, struct ca_store *st)
{
	struct kr_error e;
	time_t now;

	if (kd_crl_publish(s->ca, st, &now, &e) != KR_OK) {
		fprintf(stderr, "keyrited: CRL: %s\n", e.msg);
		return -1;
	}
	atomic_store(&M.crl_this_update, (long long)now);
	atomic_fetch_add(&M.crl_published, 1);
	return 0;
}

/*
 * SIGHUP: the admins list lives in the config, and `provisioner add
 * --admin` writes it there; take the new list with the provisioners.
 * Readers (ep_revoke) hold provlock.
 */
static enum kr_err
admins_reload(struct kd_ca *ca, struct kr_error *err)
{
	struct kd_config nc;
	char **old;
	size_t nold;
	enum kr_err rc;

	if ((rc = kd_config_load(ca->cfg.home, &nc, err)) != KR_OK)
		return rc;
	pthread_rwlock_wrlock(&ca->provlock);
	old = ca->cfg.admins;
	nold = ca->cfg.nadmins;
	ca->cfg.admins = nc.admins;
	ca->cfg.nadmins = nc.nadmins;
	nc.admins = old;
	nc.nadmins = nold;
	pthread_rwlock_unlock(&ca->provlock);
	kd_config_free(&nc);
	return KR_OK;
}

int
kd_serve(struct kd_ca *ca, const char *listen, const char *publish)
{
	struct srv s;
	struct ca_store *st = NULL;
	struct ca_store_rec *pend = NULL;
	struct ca_store_tidied td;
	struct kr_error e;
	sigset_t set;
	siginfo_t si;
	struct timespec tick = { 1, 0 };
	const char *note;
	char host[256], path[PATH_MAX], nbuf[200];
	time_t now, next_crl, next_tidy, renew_at;
	size_t npend = 0, i;
	int pub_fd = -1, lock_fd = -1, port, sig, status = 1, waited;
	enum kr_err rc;

	memset(&s, 0, sizeof(s));
	s.ca = ca;
	s.api_fd = -1;
	snprintf(s.listen, sizeof(s.listen), "%s", listen ? listen :
	    ca->cfg.listen);
	snprintf(s.publish, sizeof(s.publish), "%s", publish ? publish :
	    ca->cfg.publish);
	if (kd_hostport(s.listen, host, sizeof(host), &port) == 0 &&
	    strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0)
		snprintf(s.aud2, sizeof(s.aud2), "https://%s%s%s:%d",
		    strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "", port);

	/* Signals go to the main thread only, through sigtimedwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/*
	 * One daemon per home: the pending reservations below are ours to
	 * abandon only if no other serve is issuing from this store.
	 */
	if (kd_path(ca->cfg.home, ".serve.lock", path, &e) != KR_OK)
		goto fail;
	if ((lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
		kr_fail(&e, KR_E_STATE, "%s: %s", path, errno == EWOULDBLOCK ?
		    "another keyrited serve runs on this home" :
		    strerror(errno));
		goto fail;
	}
	if (kd_path(ca->cfg.home, KD_STORE, path, &e) != KR_OK ||
	    ca_store_open(path, &st, &e) != KR_OK)
		goto fail;
	/* A crash left these: never signed, or never sent. */
	if (ca_store_pending(st, &pend, &npend, &e) != KR_OK)
		goto fail;
	for (i = 0; i < npend; i++) {
		/*
		 * KR_E_STATE: `keyrited issue` committed it meanwhile;
		 * nothing to do.
		 */
		rc = ca_store_abandon(st, pend[i].id, &e);
		if (rc == KR_OK)
			fprintf(stderr, "keyrited: serial %s was reserved but "
			    "never committed; abandoned\n", pend[i].serial);
		else if (rc != KR_E_STATE) {
			ca_store_recs_free(pend, npend);
			goto fail;
		}
	}
	ca_store_recs_free(pend, npend);
	if (kd_acme_load(ca, NULL, &e) != KR_OK ||
	    ca_store_group_open(path, &ca->group, &e) != KR_OK ||
	    kd_crl_seen(ca, st, &e) != KR_OK ||
	    kd_signer_start(&ca->cfg, &ca->signers, &e) != KR_OK ||
	    kd_publish_static(ca, &e) != KR_OK)
		goto fail;
	now = kr_now();
	crl_now(&s, st);
	if (atomic_load(&M.crl_published) == 0) {
		snprintf(e.msg, sizeof(e.msg), "the first CRL could not be "
		    "published");
		goto fail;
	}
	if ((s.trust_pem = malloc(strlen(ca->chain_pem) +
	    strlen(ca->root_pem) + 1)) == NULL)
		goto fail;
	strcpy(s.trust_pem, ca->chain_pem);
	strcat(s.trust_pem, ca->root_pem);
	if (serving_load(&s, 0, &renew_at, &e) != KR_OK)
		goto fail;
	if ((s.api_fd = listen_on(s.listen, &e)) < 0 ||
	    (pub_fd = listen_on(s.publish, &e)) < 0)
		goto fail;
	if ((s.api = start_api(&s)) == NULL) {
		snprintf(e.msg, sizeof(e.msg), "the API listener did not "
		    "start (TLS key or certificate refused)");
		goto fail;
	}
	s.pub = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_EPOLL | MHD_USE_ITC, 0, NULL, NULL, pub_handler, &s,
	    MHD_OPTION_LISTEN_SOCKET, pub_fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)2,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_END);
	if (s.pub == NULL) {
		snprintf(e.msg, sizeof(e.msg), "the publication listener did "
		    "not start");
		goto fail;
	}
	pub_fd = -1;
	fprintf(stderr, "keyrited: serving the API on https://%s and "
	    "publishing on http://%s (pid %ld)\n", s.listen, s.publish,
	    (long)getpid());
	if ((note = kd_config_note(&ca->cfg, nbuf, sizeof(nbuf))) != NULL)
		fprintf(stderr, "keyrited: %s: %s\n", KD_CONFIG, note);
	next_crl = now + ca->cfg.crl_interval;
	next_tidy = now;
	for (;;) {
		sig = sigtimedwait(&set, &si, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			if (admins_reload(ca, &e) != KR_OK)
				fprintf(stderr, "keyrited: SIGHUP: keeping the "
				    "old admins: %s\n", e.msg);
			if (kd_provs_load(ca, &e) != KR_OK)
				fprintf(stderr, "keyrited: SIGHUP: keeping the "
				    "old provisioners: %s\n", e.msg);
			else
				fprintf(stderr, "keyrited: SIGHUP: %zu "
				    "provisioner(s) loaded\n", ca->nprovs);
			if (kd_acme_load(ca, &i, &e) != KR_OK)
				fprintf(stderr, "keyrited: SIGHUP: keeping the "
				    "old ACME provisioners: %s\n", e.msg);
		}
		now = kr_now();
		kd_signer_tend(ca->signers);
		if (atomic_exchange(&s.crl_due, 0) || now >= next_crl) {
			if (crl_now(&s, st) == 0)
				next_crl = now + ca->cfg.crl_interval;
			else
				next_crl = now + CRL_RETRY;
		}
		if (now >= next_tidy) {
			if (ca_store_tidy(st, now, ca->cfg.retention, &td,
			    &e) != KR_OK)
				fprintf(stderr, "keyrited: tidy: %s\n", e.msg);
			if (ca_acme_tidy(st, now, ca->cfg.retention, NULL,
			    &e) != KR_OK)
				fprintf(stderr, "keyrited: ACME tidy: %s\n",
				    e.msg);
			next_tidy = now + ca->cfg.tidy_interval;
		}
		retire_check(&s, 0);
		if (now >= renew_at) {
			if (serving_load(&s, 1, &renew_at, &e) != KR_OK) {
				fprintf(stderr, "keyrited: renewing the serving "
				    "certificate: %s\n", e.msg);
				renew_at = now + 60;
			} else if (rotate_api(&s) != 0 || renew_at <= now)
				renew_at = now + 60;
		}
	}
	/* Drain: refuse new requests, let those in flight finish. */
	fprintf(stderr, "keyrited: stopping; draining requests in flight\n");
	atomic_store(&s.draining, 1);
	MHD_quiesce_daemon(s.api);
	if (s.retired != NULL)
		MHD_quiesce_daemon(s.retired);
	for (waited = 0; atomic_load(&s.inflight) > 0 &&
	    waited < DRAIN_SECONDS * 10; waited++)
		usleep(100000);
	retire_check(&s, 1);
	/* A revocation answered before or during the drain is published. */
	if (atomic_exchange(&s.crl_due, 0))
		(void)crl_now(&s, st);
	status = 0;
	goto out;
fail:
	fprintf(stderr, "keyrited serve: %s\n", e.msg[0] ? e.msg :
	    "out of memory");
out:
	if (s.api != NULL)
		MHD_stop_daemon(s.api);
	if (s.pub != NULL)
		MHD_stop_daemon(s.pub);
	if (s.api_fd >= 0)
		close(s.api_fd);
	if (pub_fd >= 0)
		close(pub_fd);
	if (lock_fd >= 0)
		close(lock_fd);
	kd_signer_stop(ca->signers);
	ca->signers = NULL;
	kd_acme_unload();
	ca_store_group_close(ca->group);
	ca->group = NULL;
	ca_store_close(st);
	if (s.key_pem != NULL) {
		sodium_memzero(s.key_pem, strlen(s.key_pem));
		free(s.key_pem);
	}
	free(s.cert_pem);
	free(s.trust_pem);
	return status;
}
