/*
 * kd.h: keyrited, the online intermediate signer.  What its parts share:
 * the configuration (config.c), the signer processes that hold the key
 * (signer.c), the loaded CA and issuance (issue.c), and the HTTP
 * listeners (http.c).  docs/signer.md is the operator's view,
 * docs/api.md the client's.
 */
#ifndef KEYRITED_KD_H
#define KEYRITED_KD_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/kr.h"
#include "ca/ca.h"
#include "ca/provisioner.h"
#include "ca/store.h"
#include "ca/token.h"
#include "policy/lint.h"
#include "policy/profile.h"

#define KD_CONFIG	"keyrited.yaml"
#define KD_KEY		"intermediate.key"
#define KD_CSR		"intermediate.csr"
#define KD_CERT		"intermediate.pem"
#define KD_ROOT		"root.pem"
#define KD_ROOT_CRL	"root.crl"
#define KD_STORE	"store.db"
#define KD_PROVDIR	"provisioners"
#define KD_PUBDIR	"publish"
#define KD_TLSDIR	"tls"

/*
 * The provisioner names the store records for what keyrited issues
 * itself (`keyrited issue`, its own serving certificates); no real
 * provisioner may take them (kd_prov_name_ok).
 */
#define KD_PROV_LOCAL		"local-admin"
#define KD_PROV_SERVING		"keyrited-serving"

#define KD_SERIAL_PREFIX_LEN	3	/* bytes before 128 random bits */
#define KD_BODY_MAX		65536	/* bytes of a request body */
#define KD_SIGNERS_MAX		16
#define KD_URL_MAX		512
/* A leaf stays valid at least this long after it is issued (seconds). */
#define KD_LIFETIME_LEFT_MIN	60

/* keyrited.yaml, strict: every key known, scalars only. */
struct kd_config {
	char		 home[PATH_MAX];
	char		 subject[512];
	char		 public_url[KD_URL_MAX];	/* CDP/AIA base */
	char		 api_url[KD_URL_MAX];	/* token audience */
	char		 listen[128];		/* HOST:PORT */
	char		 publish[128];		/* HOST:PORT */
	char		 key_token[1024];	/* PKCS#11 URI, or "" */
	char		 key_module[PATH_MAX];	/* "" = default */
	char		 pin_file[PATH_MAX];	/* with key_token */
	char		 profile[64];		/* leaf profile */
	long long	 default_lifetime;
	long long	 max_lifetime;
	long long	 crl_interval;		/* reissue period */
	long long	 crl_grace;		/* nextUpdate = + this */
	long long	 tidy_interval;
	long long	 retention;		/* keep expired certs */
	int		 signers;		/* signer processes */
	int		 max_connections;	/* API connections (a thread each) */
	int		 threads_set;		/* the old threads key was given */
	uint8_t		 serial_prefix[KD_SERIAL_PREFIX_LEN];
	char		**admins;		/* admin provisioners */
	size_t		 nadmins;
	/* ACME validation (docs/acme.md). */
	int		 acme_http01_port;	/* 80 */
	int		 acme_tlsalpn01_port;	/* 443 */
	char		 acme_connect[64];	/* connect here, not DNS */
	char		 acme_dns_resolver[128];	/* HOST:PORT or "" */
	long long	 acme_order_lifetime;	/* orders and authzs */
};

/* home/name into buf (PATH_MAX); KR_E_USAGE when too long. */
enum kr_err	 kd_path(const char *home, const char *name, char *buf,
		     struct kr_error *err);

void		 kd_config_defaults(struct kd_config *c);
enum kr_err	 kd_config_load(const char *home, struct kd_config *c,
		     struct kr_error *err);
enum kr_err	 kd_config_parse(const char *text, size_t len,
		     const char *what, struct kd_config *c,
		     struct kr_error *err);
enum kr_err	 kd_config_write(const struct kd_config *c, int force,
		     struct kr_error *err);
void		 kd_config_free(struct kd_config *c);
/*
 * What serve and serve -n say of a key that loads but does nothing (the
 * old threads), written into buf; NULL when there is nothing to say.
 */
const char	*kd_config_note(const struct kd_config *c, char *buf,
		     size_t sz);
/*
 * Is u a URL of scheme ("http", "https") with a host and no query,
 * fragment, quote or space?
 */
int		 kd_url_ok(const char *u, const char *scheme);
/* Split "host:port" / "[v6]:port"; -1 when malformed. */
int		 kd_hostport(const char *s, char *host, size_t hostsz,
		     int *port);

/*
 * The signer processes.  kd_signer_start forks c->signers children, each
 * holding the intermediate key (from the key file or a logged-in token
 * session) and nothing else, and talks to them over socketpairs.  A
 * child signs a TBS only when it parses, names the intermediate as
 * issuer, and (for certificates) is the pending reservation recorded in
 * the store byte for byte.
 */
struct kd_signers;
enum kr_err	 kd_signer_start(const struct kd_config *c,
		     struct kd_signers **out, struct kr_error *err);
void		 kd_signer_stop(struct kd_signers *);
/*
 * For serve -n: one child loads the key, checks it is the installed
 * intermediate's and answers a ping, without opening the store.
 */
enum kr_err	 kd_signer_check(const struct kd_config *c,
		     struct kr_error *err);
/* Respawn children that died; called from the main thread only. */
void		 kd_signer_tend(struct kd_signers *);
/* How many children answer (a ping round trip). */
int		 kd_signer_alive(struct kd_signers *);
/* pids of the children, for tests and metrics; returns how many. */
size_t		 kd_signer_pids(struct kd_signers *, pid_t *pids, size_t n);
/* The child: `keyrited _signer --home DIR [--check]`, socket on fd 3. */
int		 kd_signer_main(int argc, char **argv);

/*
 * One signature through the pool.  With group and rec set, the TBS is
 * first reserved in the store (serial, TBS and metadata, durably) and
 * id set, so the child can check what it signs and a crash between
 * signature and commit leaves a pending row, never a lost serial.
 */
struct kd_sign_ctx {
	struct kd_signers	*signers;
	struct ca_store_group	*group;
	struct ca_store_rec	*rec;
	time_t			 now;
	int64_t			 id;	/* -1 until reserved */
	/* With jti set, the token is burnt in the reservation's write. */
	const char		*jti;
	time_t			 jti_exp, jti_now;
	int			 jti_tried;	/* that write was tried */
	int			 busy;		/* ca_store_group_busy'd */
};
/* ca_signer.sign: arg is a struct kd_sign_ctx. */
enum kr_err	 kd_signer_sign(void *arg, const EVP_MD *md,
		     const unsigned char *msg, size_t len, unsigned char **sig,
		     size_t *siglen, struct kr_error *err);

/* One certificate in PEM, malloc'd; NULL when out of memory. */
char		*kd_cert_pem(X509 *x);
/* The same from its DER, without parsing it. */
char		*kd_der_pem(const uint8_t *der, size_t len);

/* The subjectKeyIdentifier of x in lower-case hex; 0 if it has none. */
int		 kd_kid_hex(X509 *x, char *buf, size_t sz);

/* A refusal as the API reports it. */
struct kd_err {
	int		 http;		/* 4xx/5xx */
	const char	*code;		/* stable, docs/api.md */
	struct kr_error	 e;
};
int		 kd_refuse(struct kd_err *, int http, const char *code,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A provisioner as loaded from its file. */
struct kd_provent {
	struct ca_prov	*p;
	int		 eab;	/* ACME: needs external account binding */
};

/* The loaded CA: what serving, issuing and listing need. */
struct kd_ca {
	struct kd_config	 cfg;
	X509			*cert;		/* the intermediate */
	X509			*root;
	char			*chain_pem;	/* intermediate, PEM */
	char			*root_pem;
	char			 kid[64];	/* intermediate SKI, hex */
	struct pol_profile	 profile;
	struct ca_leaf_tmpl	*leaf;		/* what every leaf shares */
	struct pol_issuer	*lint;		/* the intermediate, to lint */
	struct ca_signer	 signer;
	struct kd_signers	*signers;
	struct ca_store_group	*group;		/* issuance writes */
	char			 crl_url[KD_URL_MAX + 32];
	char			 issuer_url[KD_URL_MAX + 32];
	pthread_rwlock_t	 provlock;
	struct kd_provent	*provs;
	size_t			 nprovs;
};

/*
 * Load home's configuration, intermediate, root and profile (and, with
 * with_provs, the provisioners).  Refuses a home that was never
 * installed.  No signer yet: kd_ca_sign_local or kd_signer_start.
 */
enum kr_err	 kd_ca_load(const char *home, int with_provs,
		     struct kd_ca *ca, struct kr_error *err);
void		 kd_ca_free(struct kd_ca *ca);
enum kr_err	 kd_provs_load(struct kd_ca *ca, struct kr_error *err);
/*
 * Read the provisioner directory's files whose names end in suffix
 * (none if there is no directory) with parse, and check that each
 * names the provisioner its file is named after (kind, "" or "ACME ",
 * goes in that error).  *v gets the *n provisioners read.
 */
enum kr_err	 kd_provdir_read(const char *home, const char *suffix,
		     const char *kind, enum kr_err (*parse)(const char *path,
		     struct ca_prov **p, int *eab, struct kr_error *err),
		     struct kd_provent **v, size_t *n, struct kr_error *err);
void		 kd_provents_free(struct kd_provent *v, size_t n);
/* The provisioner named name, or NULL; hold provlock (read). */
const struct ca_prov *kd_prov_find(const struct kd_ca *ca, const char *name);
int		 kd_prov_is_admin(const struct kd_ca *ca, const char *name);
/* Is name one of keyrited's own (KD_PROV_LOCAL, KD_PROV_SERVING)? */
int		 kd_prov_reserved(const char *name);

/* One issuance: the certificate for pub with names, under policy. */
struct kd_issue_req {
	EVP_PKEY		*pub;
	const uint8_t		*spki;		/* pub's DER; NULL: encoded */
	size_t			 spki_len;
	const char *const	*names;		/* names[0] is the CN */
	size_t			 nnames;
	long long		 lifetime;	/* 0: the default */
	const struct ca_prov	*prov;		/* NULL: local admin */
	const char		*provname;	/* recorded in the store */
	/*
	 * The provisioner token's id, NULL for none: burnt (store.h,
	 * ca_store_jti_use at jti_now, valid until jti_exp) in the same
	 * durable write as the reservation, or, when the request is
	 * refused before that, on the way out; a used or expired token is
	 * then what the refusal says (401).
	 */
	const char		*jti;
	time_t			 jti_exp, jti_now;
};
struct kd_issued {
	uint8_t		*der;		/* the certificate */
	size_t		 der_len;
	char		*pem;
	time_t		 not_before, not_after;
	char		*serial;
	long long	 lifetime;	/* what it got */
	int		 capped;
};
int		 kd_issue(struct kd_ca *ca, const struct kd_issue_req *r, struct kd_issued *out,
		     struct kd_err *ke);
/*
 * Burn provisioner prov's token jti (see kd_issue_req) for a request
 * refused without kd_issue: 0, or -1 and ke the refusal (401
 * token_replayed or token_expired, 500 internal).
 */
int		 kd_jti_burn(struct kd_ca *ca, const char *prov,
		     const char *jti, time_t exp, time_t now,
		     struct kd_err *ke);
void		 kd_issued_clear(struct kd_issued *);

/*
 * The names a CSR asks for (its subject and requested extensions): every
 * CN, then its DNS and IP SANs, each
 * once (ASCII case ignored).  A SAN of another kind is left out, and the
 * first such one, as text, goes into other (when not NULL).  0, or -1
 * when out of memory; free *out with kd_names_free.
 */
int		 kd_csr_names(const X509_NAME *subject,
		     const STACK_OF(X509_EXTENSION) *exts, char ***out,
		     size_t *n, char *other, size_t othersz);
void		 kd_names_free(char **v, size_t n);

/*
 * Issue the intermediate's next CRL from the store and publish it
 * (DER and PEM, atomically) in home/publish/crl/, one process at a
 * time; thisUpdate is the time the lock was taken, into *this_update
 * (may be NULL).
 */
enum kr_err	 kd_crl_publish(struct kd_ca *ca, struct ca_store *st,
		     time_t *this_update, struct kr_error *err);
/* Copy the root CRL and the certificates into home/publish/. */
enum kr_err	 kd_publish_static(struct kd_ca *ca, struct kr_error *err);

/* Raise the store's CRL number above the one published last. */
enum kr_err	 kd_crl_seen(struct kd_ca *ca, struct ca_store *st,
		     struct kr_error *err);

/*
 * The API's serving certificate and key (PEM, malloc'd; the key is
 * wiped by the caller): the one in home/tls/ while less than two thirds
 * of its life has passed, else a new one issued from the intermediate
 * for api_url's host and listen's address (those inside the name
 * constraints).  *renew_at: when to call again.
 */
enum kr_err	 kd_serving_cert(struct kd_ca *ca, const char *listen, int force, char **cert_pem,
		     char **key_pem, time_t *renew_at, struct kr_error *err);

/* The HTTP side (http.c): serve until SIGTERM; exit status. */
int		 kd_serve(struct kd_ca *ca, const char *listen,
		     const char *publish);

/*
 * ACME (acme.c, docs/acme.md): requests under /acme/ on the API
 * listener.  kd_acme_handle answers one request into r; the caller
 * sends it.  kd_acme_load (re)reads the ACME provisioners
 * (home/provisioners/NAME.acme); call it at start and on SIGHUP.
 */
#define KD_ACME_HDR_MAX	(KD_URL_MAX + 128)
struct kd_acme_resp {
	unsigned	 status;
	const char	*ctype;
	char		*body;		/* malloc'd */
	size_t		 len;
	char		 nonce[32];	/* Replay-Nonce, or "" */
	char		 location[KD_ACME_HDR_MAX];
	char		 link[2][KD_ACME_HDR_MAX];	/* whole values */
	int		 retry_after;	/* seconds, 0: none */
	int		 revoked;	/* a certificate was revoked */
	int		 issued;	/* a certificate was issued */
};
enum kr_err	 kd_acme_load(struct kd_ca *ca, size_t *n,
		     struct kr_error *err);
void		 kd_acme_handle(struct kd_ca *ca, struct ca_store *st,
		     const char *method, const char *url, const char *host,
		     const char *ctype, const char *body, size_t len,
		     struct kd_acme_resp *r);
void		 kd_acme_resp_free(struct kd_acme_resp *r);
void		 kd_acme_unload(void);
/*
 * The ACME provisioner named name, or NULL.  When found, the reload
 * lock is held (read) until kd_acme_prov_put, so it stays as it is.
 */
const struct ca_prov *kd_acme_prov_get(const char *name);
void		 kd_acme_prov_put(void);
/* Call fn for each ACME provisioner loaded (under the reload lock). */
void		 kd_acme_each(void (*fn)(const struct ca_prov *, int eab,
		     void *), void *arg);

/*
 * The validators (acme_valid.c): 0 when the name answered with the key
 * authorization, else -1 with the problem in ae.
 */
struct ca_acme_err;
int		 kd_acme_http01(const struct kd_config *c, const char *name,
		     const char *token, const char *keyauth,
		     struct ca_acme_err *ae);
int		 kd_acme_tlsalpn01(const struct kd_config *c, const char *name,
		     const char *keyauth, struct ca_acme_err *ae);
int		 kd_acme_dns01(const struct kd_config *c, const char *name,
		     const char *keyauth, struct ca_acme_err *ae);

/* Subcommands. */
int	 kd_cmd_init(int argc, char **argv);
int	 kd_cmd_install(int argc, char **argv);
int	 kd_cmd_provisioner(int argc, char **argv);
int	 kd_cmd_serve(int argc, char **argv);
int	 kd_cmd_issue(int argc, char **argv);
int	 kd_cmd_certs(int argc, char **argv);
int	 kd_cmd_revoke(int argc, char **argv);

#endif /* KEYRITED_KD_H */
