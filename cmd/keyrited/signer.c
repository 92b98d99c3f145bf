/*
 * signer.c: the processes that hold the intermediate key.
 *
 * The HTTP front parses everything that comes from the network and never
 * holds the key.  Each signer is `keyrited _signer`, exec'd fresh (so no
 * memory of the front's is in it) with one end of a socketpair on fd 3,
 * and does one thing: sign a TBS it has checked.  A request is one
 * SOCK_SEQPACKET message
 *
 *	u32 magic, u32 md nid, i64 record id, TBS (DER)
 *
 * (struct sig_hdr, in the machine's byte order: both ends are this
 * binary) and the answer is one message: a status byte (0 = signed)
 * followed by the signature, or by an error text.  A signer signs a
 * certificate TBS only when it names the intermediate as issuer and is
 * byte for byte the reservation the front made in the store (status
 * pending) under the record id named, and a CRL TBS only when it names
 * the intermediate as issuer.  A signer opens the store without ever
 * upgrading its schema (the front has); with --check (serve -n) it
 * loads the key, answers pings and opens no store.  With the key in a
 * token, each signer holds its own logged-in session (the pool is the
 * set of signers) and reopens it (C_Finalize, C_Initialize, login, the
 * key) once after a token error; when that fails the request is
 * refused as unavailable (KR_E_IO) and the next request reopens first.
 *
 * The main thread respawns signers that died (kd_signer_tend); workers
 * that find one dead try the next.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "kd.h"
#include "common/file.h"
#include "cmd/keyrite/cli.h"

#define SIG_MAGIC	0x6b727332u	/* "krs2" */
#define SIG_MSG_MAX	(CA_STORE_MAX_BLOB + 64)	/* a request */
#define SIG_ANS_MAX	2048		/* an answer: signature or error */
#define SIG_TIMEOUT_MS	15000
#define SIG_FD		3

/*
 * A request: this header, then the TBS to sign (none: a ping).  id is
 * the store's record of the certificate's reservation (0 for a CRL),
 * which the signer checks the TBS against.
 */
struct sig_hdr {
	uint32_t	magic;
	uint32_t	nid;		/* the digest */
	int64_t		id;
};

struct signer {
	int	fd;		/* -1 when dead */
	pid_t	pid;
	int	busy;
};

struct kd_signers {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	char		 home[PATH_MAX];
	char		 exe[PATH_MAX];
	int		 n;
	struct signer	 s[KD_SIGNERS_MAX];
	int		 stopping;
	int		 check;		/* children for serve -n */
};

/* fork+exec one signer with its end of a fresh socketpair on fd 3. */
static enum kr_err
spawn(struct kd_signers *p, struct signer *s, struct kr_error *err)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return kr_fail(err, KR_E_IO, "socketpair: %s",
		    strerror(errno));
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return kr_fail(err, KR_E_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		/* Die with the front, whatever kills it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(sv[1], SIG_FD) != SIG_FD)
			_exit(127);
		execl(p->exe, "keyrited", "_signer", "--home", p->home,
		    p->check ? "--check" : (char *)NULL, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	s->fd = sv[0];
	s->pid = pid;
	s->busy = 0;
	return KR_OK;
}

/* One request/answer on fd; the answer's status and payload. */
static enum kr_err
roundtrip(int fd, const uint8_t *req, size_t reqlen, uint8_t *ans,
    size_t *anslen, struct kr_error *err)
{
	struct pollfd pfd;
	ssize_t n;
	int r;

	if (send(fd, req, reqlen, MSG_NOSIGNAL) != (ssize_t)reqlen)
		return kr_fail(err, KR_E_IO, "signer: send: %s",
		    strerror(errno));
	pfd.fd = fd;
	pfd.events = POLLIN;
	do
		r = poll(&pfd, 1, SIG_TIMEOUT_MS);
	while (r == -1 && errno == EINTR);
	if (r <= 0)
		return kr_fail(err, KR_E_IO, "signer: no answer within %d s",
		    SIG_TIMEOUT_MS / 1000);
	if ((n = recv(fd, ans, SIG_ANS_MAX, 0)) <= 0)
		return kr_fail(err, KR_E_IO, "signer: %s", n == 0 ?
		    "it exited" : strerror(errno));
	*anslen = (size_t)n;
	return KR_OK;
}

static struct signer *
take(struct kd_signers *p)
{
	struct signer *s = NULL;
	int i, any;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		any = 0;
		for (i = 0; i < p->n; i++) {
			if (p->s[i].fd < 0)
				continue;
			any = 1;
			if (!p->s[i].busy) {
				s = &p->s[i];
				s->busy = 1;
				break;
			}
		}
		if (s != NULL || !any || p->stopping)
			break;
		pthread_cond_wait(&p->cv, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return s;
}

static void
give(struct kd_signers *p, struct signer *s, int dead)
{
	pthread_mutex_lock(&p->mu);
	s->busy = 0;
	if (dead && s->fd >= 0) {
		/* The main thread reaps and respawns it. */
		kill(s->pid, SIGKILL);
		close(s->fd);
		s->fd = -1;
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Send one message to some live signer; retried once on another. */
static enum kr_err
ask(struct kd_signers *p, const uint8_t *req, size_t reqlen, uint8_t *ans,
    size_t *anslen, struct kr_error *err)
{
	struct signer *s;
	enum kr_err rc = KR_E_IO;
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if ((s = take(p)) == NULL)
			return kr_fail(err, KR_E_IO, "no signer is running");
		rc = roundtrip(s->fd, req, reqlen, ans, anslen, err);
		give(p, s, rc != KR_OK);
		if (rc == KR_OK)
			return KR_OK;
	}
	return rc;
}

enum kr_err
kd_signer_sign(void *arg, const EVP_MD *md, const unsigned char *msg,
    size_t len, unsigned char **sig, size_t *siglen, struct kr_error *err)
{
	struct kd_sign_ctx *c = arg;
	uint8_t *req = NULL, *ans = NULL;
	struct sig_hdr hdr;
	size_t anslen = 0;
	enum kr_err rc;

	*sig = NULL;
	if (len > CA_STORE_MAX_BLOB)
		return kr_fail(err, KR_E_USAGE, "TBS too large");
	if (c->group != NULL && c->rec != NULL && c->id < 0) {
		c->rec->tbs = msg;
		c->rec->tbs_len = len;
		if (c->jti != NULL) {
			c->jti_tried = 1;
			rc = ca_store_group_reserve_jti(c->group, c->rec,
			    c->now, c->jti, c->jti_exp, c->jti_now, &c->id,
			    err);
		} else
			rc = ca_store_group_reserve(c->group, c->rec, c->now,
			    &c->id, err);
		c->rec->tbs = NULL;
		if (rc != KR_OK)
			return rc;
	}
	if ((req = malloc(sizeof(hdr) + len)) == NULL ||
	    (ans = malloc(SIG_ANS_MAX)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	hdr.magic = SIG_MAGIC;
	hdr.nid = (uint32_t)EVP_MD_get_type(md);
	hdr.id = c->id > 0 ? c->id : 0;
	memcpy(req, &hdr, sizeof(hdr));
	memcpy(req + sizeof(hdr), msg, len);
	rc = ask(c->signers, req, sizeof(hdr) + len, ans, &anslen, err);
	/* The commit (or the abandon) follows within microseconds. */
	if (c->busy)
		ca_store_group_busy(c->group, 1);
	if (rc != KR_OK)
		goto out;
	if (anslen < 1) {
		rc = kr_fail(err, KR_E_INTERNAL, "signer: empty answer");
		goto out;
	}
	if (ans[0] != 0) {
		rc = kr_fail(err, (enum kr_err)ans[0], "signer refused: %.*s",
		    (int)(anslen - 1), (const char *)ans + 1);
		goto out;
	}
	if ((*sig = malloc(anslen - 1)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*sig, ans + 1, anslen - 1);
	*siglen = anslen - 1;
	rc = KR_OK;
out:
	free(req);
	free(ans);
	return rc;
}

static enum kr_err
signers_start(const struct kd_config *c, int check, struct kd_signers **out,
    struct kr_error *err)
{
	struct kd_signers *p;
	ssize_t n;
	enum kr_err rc;
	int i;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	p->check = check;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	snprintf(p->home, sizeof(p->home), "%s", c->home);
	if ((n = readlink("/proc/self/exe", p->exe, sizeof(p->exe) - 1)) <=
	    0) {
		free(p);
		return kr_fail(err, KR_E_IO, "/proc/self/exe: %s",
		    strerror(errno));
	}
	p->exe[n] = '\0';
	for (i = 0; i < c->signers; i++)
		p->s[i].fd = -1;
	/*
	 * One at a time, each loading the key and answering a ping before
	 * the next starts: SoftHSM2's file store has been seen to hide a
	 * token from a process that scans it while another does.
	 */
	for (i = 0; i < c->signers; i++) {
		p->n = i + 1;		/* those started, for a stop */
		if ((rc = spawn(p, &p->s[i], err)) != KR_OK) {
			kd_signer_stop(p);
			return rc;
		}
		if (kd_signer_alive(p) != i + 1) {
			kd_signer_stop(p);
			return kr_fail(err, KR_E_STATE, "the signer processes "
			    "did not start (their errors are above)");
		}
	}
	*out = p;
	return KR_OK;
}

enum kr_err
kd_signer_start(const struct kd_config *c, struct kd_signers **out,
    struct kr_error *err)
{
	return signers_start(c, 0, out, err);
}

enum kr_err
kd_signer_check(const struct kd_config *c, struct kr_error *err)
{
	struct kd_config one = *c;
	struct kd_signers *p;
	enum kr_err rc;

	one.signers = 1;
	if ((rc = signers_start(&one, 1, &p, err)) != KR_OK)
		return rc;
	kd_signer_stop(p);
	return KR_OK;
}

int
kd_signer_alive(struct kd_signers *p)
{
	struct sig_hdr hdr = { SIG_MAGIC, 0, 0 };
	uint8_t ans[SIG_ANS_MAX];
	struct kr_error e;
	size_t anslen;
	int i, alive = 0, ok;

	for (i = 0; i < p->n; i++) {
		pthread_mutex_lock(&p->mu);
		while (p->s[i].busy)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->s[i].fd < 0) {
			pthread_mutex_unlock(&p->mu);
			continue;
		}
		p->s[i].busy = 1;
		pthread_mutex_unlock(&p->mu);
		ok = roundtrip(p->s[i].fd, (uint8_t *)&hdr, sizeof(hdr), ans,
		    &anslen, &e) == KR_OK && anslen == 1 && ans[0] == 0;
		give(p, &p->s[i], !ok);
		alive += ok;
	}
	return alive;
}

void
kd_signer_tend(struct kd_signers *p)
{
	struct kr_error e;
	int i, st;

	for (i = 0; i < p->n; i++) {
		pthread_mutex_lock(&p->mu);
		/* One that died while idle is noticed here, not on use. */
		if (p->s[i].fd >= 0 && !p->s[i].busy && p->s[i].pid > 0 &&
		    waitpid(p->s[i].pid, &st, WNOHANG) == p->s[i].pid) {
			fprintf(stderr, "keyrited: signer %d (pid %ld) exited\n",
			    i, (long)p->s[i].pid);
			close(p->s[i].fd);
			p->s[i].fd = -1;
			p->s[i].pid = 0;
		}
		if (p->s[i].fd < 0 && !p->stopping) {
			/*
			 * Reap without blocking: one killed while stuck in a
			 * token driver may take a while; try again next tick.
			 */
			if (p->s[i].pid > 0 &&
			    waitpid(p->s[i].pid, &st, WNOHANG) == 0) {
				pthread_mutex_unlock(&p->mu);
				continue;
			}
			p->s[i].pid = 0;
			if (spawn(p, &p->s[i], &e) != KR_OK)
				fprintf(stderr, "keyrited: signer %d: %s\n",
				    i, e.msg);
			else
				fprintf(stderr, "keyrited: signer %d "
				    "restarted (pid %ld)\n", i,
				    (long)p->s[i].pid);
			pthread_cond_broadcast(&p->cv);
		}
		pthread_mutex_unlock(&p->mu);
	}
}

size_t
kd_signer_pids(struct kd_signers *p, pid_t *pids, size_t n)
{
	size_t k = 0;
	int i;

	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->n && k < n; i++)
		if (p->s[i].fd >= 0)
			pids[k++] = p->s[i].pid;
	pthread_mutex_unlock(&p->mu);
	return k;
}

void
kd_signer_stop(struct kd_signers *p)
{
	int i, st;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	for (i = 0; i < p->n; i++) {
		if (p->s[i].fd >= 0) {
			close(p->s[i].fd);	/* EOF: the child exits */
			p->s[i].fd = -1;
		}
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n; i++)
		if (p->s[i].pid > 0)
			waitpid(p->s[i].pid, &st, 0);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

/* ------------------------------------------------------------------ */
/* The child                                                           */
/* ------------------------------------------------------------------ */

struct child {
	struct kd_config	 cfg;
	X509			*cert;
	char			 kid[64];
	EVP_PKEY		*soft;		/* key file */
	struct ca_soft_prep	*prep;		/* its prepared signer */
	const EVP_MD		*md;		/* the one digest signed with */
	struct cli_token	 tok;		/* or token */
	int			 have_tok;
	struct ca_signer	 signer;
	struct ca_store		*store;
};

static enum kr_err
child_key_file(struct child *c, struct kr_error *err)
{
	char path[PATH_MAX];
	struct stat st;
	FILE *f;
	enum kr_err rc;

	if ((rc = kd_path(c->cfg.home, KD_KEY, path, err)) != KR_OK)
		return rc;
	if ((f = fopen(path, "re")) == NULL)
		return kr_fail(err, KR_E_NOTFOUND, "%s: %s", path,
		    strerror(errno));
	if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077) != 0) {
		fclose(f);
		return kr_fail(err, KR_E_POLICY, "%s: group or others may "
		    "read it; chmod 600 it (and consider the key "
		    "compromised)", path);
	}
	/* No stdio buffer: the key's text is not left in the heap. */
	setvbuf(f, NULL, _IONBF, 0);
	c->soft = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (c->soft == NULL)
		return kr_fail_ossl(err, KR_E_PARSE, "%s: not a PEM private "
		    "key", path);
	return ca_signer_soft_prep(&c->signer, c->soft, &c->prep, err);
}

static enum kr_err
child_key_token(struct child *c, struct kr_error *err)
{
	struct cli_auth auth;
	enum kr_err rc;

	memset(&auth, 0, sizeof(auth));
	auth.pin_file = c->cfg.pin_file;
	auth.module = c->cfg.key_module[0] != '\0' ? c->cfg.key_module : NULL;
	if ((rc = cli_token_open(c->cfg.key_token, &auth, 1, &c->tok, err)) !=
	    KR_OK)
		return rc;
	c->have_tok = 1;
	c->signer = c->tok.signer;
	return KR_OK;
}

/* The key loaded must be the installed intermediate's. */
static enum kr_err
child_key_match(struct child *c, struct kr_error *err)
{
	if (EVP_PKEY_eq(c->signer.pub, X509_get0_pubkey(c->cert)) != 1) {
		ERR_clear_error();
		return kr_fail(err, KR_E_VERIFY, "the key does not match the "
		    "installed intermediate certificate");
	}
	return KR_OK;
}

static enum kr_err
child_key(struct child *c, struct kr_error *err)
{
	enum kr_err rc;

	if (c->cfg.key_token[0] != '\0')
		rc = child_key_token(c, err);
	else
		rc = child_key_file(c, err);
	if (rc != KR_OK)
		return rc;
	return child_key_match(c, err);
}

/*
 * Drop the token (session, login, module: C_Finalize) after a token
 * error; nothing of it stays reachable through c->signer.
 */
static void
child_token_drop(struct child *c)
{
	if (c->have_tok)
		cli_token_close(&c->tok);
	c->have_tok = 0;
	memset(&c->signer, 0, sizeof(c->signer));
}

/*
 * Open the token again (module, C_Initialize, session, login with the
 * PIN file, the key), as at start.  A failure leaves no token, and is
 * KR_E_IO: the key is unavailable for now (HTTP 503), and the next
 * request tries again.
 */
static enum kr_err
child_token_reopen(struct child *c, struct kr_error *err)
{
	enum kr_err rc;

	child_token_drop(c);
	if ((rc = child_key_token(c, err)) == KR_OK &&
	    (rc = child_key_match(c, err)) == KR_OK) {
		fprintf(stderr, "keyrited signer: token reopened\n");
		return KR_OK;
	}
	child_token_drop(c);
	kr_error_prefix(err, "the token is unavailable (reopening it "
	    "failed)");
	return KR_E_IO;
}

/*
 * One DER element at *p (within left bytes): its tag byte, where it
 * starts and how long it is in all; *p moves past it unless enter is
 * set, when it moves into its contents.  -1 when malformed.
 */
static int
der_elem(const uint8_t **p, long *left, int enter, int *tag,
    const uint8_t **start, long *total)
{
	const unsigned char *q = *p;
	long len;
	int t, cls, r;

	if (*left <= 0)
		return -1;
	*start = *p;
	*tag = **p;
	r = ASN1_get_object(&q, &len, &t, &cls, *left);
	if (r & 0x80 || r & 0x01)	/* error, or indefinite length */
		return -1;
	*total = (long)(q - *p) + len;
	if (*total > *left)
		return -1;
	if (enter) {
		*left -= (long)(q - *p);
		*p = q;
	} else {
		*left -= *total;
		*p += *total;
	}
	return 0;
}

/*
 * Is this TBS something we sign?  Read with a small DER walker rather
 * than a full certificate parse (which decodes the public key, the
 * dearest part): a TBSCertificate v3 ([0] version, serial, signature
 * algorithm, issuer) or a TBSCertList v2 (version 1, algorithm,
 * issuer); the issuer must be this intermediate byte for byte, and a
 * certificate must be the pending reservation in the store, byte for
 * byte.
 */
static enum kr_err
child_check(struct child *c, int64_t id, const uint8_t *tbs, size_t len,
    struct kr_error *err)
{
	const uint8_t *p = tbs, *el, *name;
	const unsigned char *ip;
	const uint8_t *serial_el = NULL;
	ASN1_INTEGER *ai = NULL;
	char *serial = NULL;
	size_t namelen;
	long left = (long)len, tot, serial_len = 0;
	int tag, is_cert;
	enum kr_err rc;

	if (len > CA_STORE_MAX_BLOB ||
	    der_elem(&p, &left, 1, &tag, &el, &tot) != 0 || tag != 0x30 ||
	    tot != (long)len ||
	    der_elem(&p, &left, 0, &tag, &el, &tot) != 0)
		return kr_fail(err, KR_E_PARSE, "not a TBS structure");
	is_cert = tag == 0xa0;
	if (!is_cert && !(tag == 0x02 && tot == 3 && el[2] == 1))
		return kr_fail(err, KR_E_PARSE, "neither a v3 certificate nor "
		    "a v2 CRL");
	if (is_cert) {
		if (der_elem(&p, &left, 0, &tag, &el, &tot) != 0 ||
		    tag != 0x02)
			return kr_fail(err, KR_E_PARSE, "no serial");
		serial_el = el;
		serial_len = tot;
	}
	if (der_elem(&p, &left, 0, &tag, &el, &tot) != 0 || tag != 0x30 ||
	    der_elem(&p, &left, 0, &tag, &el, &tot) != 0 || tag != 0x30)
		return kr_fail(err, KR_E_PARSE, "no issuer");
	if (X509_NAME_get0_der(X509_get_subject_name(c->cert), &name,
	    &namelen) != 1 || (size_t)tot != namelen ||
	    memcmp(el, name, namelen) != 0)
		return kr_fail(err, KR_E_POLICY, "the issuer is not this "
		    "intermediate");
	if (!is_cert) {
		/*
		 * A v1 certificate with serial 1 starts like a v2 CRL; only
		 * a whole TBSCertList that uses every byte is one.
		 */
		X509_CRL_INFO *ci;

		ip = tbs;
		ci = d2i_X509_CRL_INFO(NULL, &ip, (long)len);
		rc = ci != NULL && ip == tbs + len ? KR_OK : kr_fail(err,
		    KR_E_PARSE, "not a TBSCertList");
		X509_CRL_INFO_free(ci);
		ERR_clear_error();
		return rc;
	}
	ip = serial_el;
	if ((ai = d2i_ASN1_INTEGER(NULL, &ip, serial_len)) == NULL ||
	    (serial = ca_serial_hex(ai)) == NULL) {
		ASN1_INTEGER_free(ai);
		ERR_clear_error();
		return kr_fail(err, KR_E_PARSE, "bad serial");
	}
	ASN1_INTEGER_free(ai);
	if (c->store == NULL) {
		free(serial);
		return kr_fail(err, KR_E_STATE, "a configuration check signs "
		    "no certificate");
	}
	rc = id > 0 ? ca_store_pending_is(c->store, id, c->kid, serial, tbs,
	    len, err) : kr_fail(err, KR_E_NOTFOUND, "serial %s is not "
	    "reserved (the request names no reservation)", serial);
	free(serial);
	return rc;
}

static void
child_answer(int fd, enum kr_err rc, const uint8_t *buf, size_t len,
    const char *msg)
{
	uint8_t out[SIG_ANS_MAX];
	size_t n;

	out[0] = (uint8_t)rc;
	if (rc == KR_OK) {
		n = len < sizeof(out) - 1 ? len : sizeof(out) - 1;
		if (n > 0)
			memcpy(out + 1, buf, n);
	} else {
		n = strlen(msg);
		if (n > 1000)
			n = 1000;
		memcpy(out + 1, msg, n);
	}
	(void)send(fd, out, n + 1, MSG_NOSIGNAL);
}

static enum kr_err
child_sign(struct child *c, int nid, int64_t id, const uint8_t *tbs,
    size_t len, unsigned char **sig, size_t *siglen, struct kr_error *err)
{
	const EVP_MD *md;
	enum kr_err rc;

	if ((md = EVP_get_digestbynid(nid)) == NULL || md != c->md)
		return kr_fail(err, KR_E_POLICY, "digest %d is not the one "
		    "this key signs with", nid);
	if ((rc = child_check(c, id, tbs, len, err)) != KR_OK)
		return rc;
	/* The last reopen failed: the token is opened again first. */
	if (c->cfg.key_token[0] != '\0' && !c->have_tok &&
	    (rc = child_token_reopen(c, err)) != KR_OK)
		return rc;
	rc = c->signer.sign(c->signer.arg, md, tbs, len, sig, siglen, err);
	if (rc == KR_E_PKCS11 && c->have_tok) {
		/* A token error: reopen the session once and retry. */
		fprintf(stderr, "keyrited signer: %s; reopening the token\n",
		    err->msg);
		if ((rc = child_token_reopen(c, err)) != KR_OK)
			return rc;
		rc = c->signer.sign(c->signer.arg, md, tbs, len, sig, siglen,
		    err);
		if (rc == KR_E_PKCS11) {
			/* Still failing: unavailable, and reopened next time. */
			child_token_drop(c);
			kr_error_prefix(err, "the token is unavailable");
			rc = KR_E_IO;
		}
	}
	return rc;
}

int
kd_signer_main(int argc, char **argv)
{
	struct child c;
	struct kr_error err;
	uint8_t *msg = NULL;
	unsigned char *sig = NULL;
	size_t siglen;
	struct sig_hdr hdr;
	int64_t older;
	ssize_t n;
	char path[PATH_MAX];
	enum kr_err rc;
	int status = 1;

	memset(&c, 0, sizeof(c));
	signal(SIGINT, SIG_IGN);	/* the front decides when we stop */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if ((argc != 3 && argc != 4) || strcmp(argv[1], "--home") != 0 ||
	    (argc == 4 && strcmp(argv[3], "--check") != 0)) {
		fprintf(stderr, "keyrited _signer is started by keyrited "
		    "serve, not by hand\n");
		return EXIT_USAGE;
	}
	if ((rc = kd_config_load(argv[2], &c.cfg, &err)) != KR_OK ||
	    (rc = kd_path(argv[2], KD_CERT, path, &err)) != KR_OK ||
	    (rc = ca_load_cert(path, &c.cert, &err)) != KR_OK)
		goto fail;
	if (!kd_kid_hex(c.cert, c.kid, sizeof(c.kid))) {
		rc = kr_fail(&err, KR_E_PARSE, "the intermediate has no "
		    "subjectKeyIdentifier");
		goto fail;
	}
	/*
	 * The front opened (and upgraded) the store before it started us:
	 * a signer never changes the schema.  With --check (serve -n) the
	 * key is loaded and nothing is signed, so the store is left alone.
	 */
	if (argc == 3 && ((rc = kd_path(argv[2], KD_STORE, path, &err)) !=
	    KR_OK || (rc = ca_store_open_current(path, &c.store, &older,
	    &err)) != KR_OK))
		goto fail;
	if ((rc = child_key(&c, &err)) != KR_OK)
		goto fail;
	c.md = ca_md_for_key(X509_get0_pubkey(c.cert));
	if ((msg = malloc(SIG_MSG_MAX)) == NULL) {
		rc = kr_fail(&err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	for (;;) {
		n = recv(SIG_FD, msg, SIG_MSG_MAX, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* the front closed: we are done */
		if ((size_t)n < sizeof(hdr)) {
			child_answer(SIG_FD, KR_E_PARSE, NULL, 0, "short");
			continue;
		}
		memcpy(&hdr, msg, sizeof(hdr));
		if (hdr.magic != SIG_MAGIC) {
			child_answer(SIG_FD, KR_E_PARSE, NULL, 0, "bad magic");
			continue;
		}
		if ((size_t)n == sizeof(hdr)) {		/* ping */
			child_answer(SIG_FD, KR_OK, NULL, 0, NULL);
			continue;
		}
		rc = child_sign(&c, (int)hdr.nid, hdr.id, msg + sizeof(hdr),
		    (size_t)n - sizeof(hdr), &sig, &siglen, &err);
		child_answer(SIG_FD, rc, sig, siglen, err.msg);
		free(sig);
		sig = NULL;
	}
	status = 0;
	goto out;
fail:
	fprintf(stderr, "keyrited signer: %s\n", err.msg);
out:
	free(msg);
	if (c.have_tok)
		cli_token_close(&c.tok);
	ca_soft_prep_free(c.prep);
	EVP_PKEY_free(c.soft);
	X509_free(c.cert);
	ca_store_close(c.store);
	kd_config_free(&c.cfg);
	return status;
}
