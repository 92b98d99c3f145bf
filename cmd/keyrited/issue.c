/*
 * issue.c: the loaded CA and what it does with the store: issue a leaf
 * (names checked against the provisioner and the name constraints,
 * lifetime capped, serial and TBS reserved before the signature, the
 * certificate committed before anyone sees it), publish CRLs and the CA
 * certificates, and keep the API's own serving certificate fresh.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sodium.h>

#include "kd.h"
#include "common/file.h"

int
kd_refuse(struct kd_err *ke, int http, const char *code, const char *fmt, ...)
{
	va_list ap;

	ke->http = http;
	ke->code = code;
	ke->e.code = KR_E_POLICY;
	va_start(ap, fmt);
	vsnprintf(ke->e.msg, sizeof(ke->e.msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* A kr_error from the library as a refusal. */
static int
refuse_err(struct kd_err *ke, int http, const char *code,
    const struct kr_error *e)
{
	return kd_refuse(ke, http, code, "%s", e->msg[0] ? e->msg :
	    kr_strerror(e->code));
}

int
kd_kid_hex(X509 *x, char *buf, size_t sz)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
	int len;

	if (ski == NULL || (len = ASN1_STRING_length(ski)) <= 0 ||
	    (size_t)len * 2 + 1 > sz)
		return 0;
	kr_hex(ASN1_STRING_get0_data(ski), (size_t)len, buf);
	return 1;
}

char *
kd_cert_pem(X509 *x)
{
	BIO *b;
	BUF_MEM *m;
	char *s = NULL;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (PEM_write_bio_X509(b, x) == 1) {
		BIO_get_mem_ptr(b, &m);
		if ((s = malloc(m->length + 1)) != NULL) {
			memcpy(s, m->data, m->length);
			s[m->length] = '\0';
		}
	}
	BIO_free(b);
	return s;
}

static enum kr_err
load_cert_in(const char *home, const char *name, X509 **out,
    struct kr_error *err)
{
	char path[PATH_MAX];
	enum kr_err rc;

	if ((rc = kd_path(home, name, path, err)) != KR_OK)
		return rc;
	if (access(path, F_OK) != 0)
		return kr_fail(err, KR_E_STATE, "%s: missing; run keyrited "
		    "install first", path);
	return ca_load_cert(path, out, err);
}

void
kd_provents_free(struct kd_provent *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ca_prov_free(v[i].p);
	free(v);
}

enum kr_err
kd_provdir_read(const char *home, const char *suffix, const char *kind,
    enum kr_err (*parse)(const char *, struct ca_prov **, int *,
    struct kr_error *), struct kd_provent **out, size_t *nout,
    struct kr_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	struct kd_provent *v = NULL, *nv;
	struct ca_prov *p = NULL;
	struct dirent *de;
	size_t n = 0, len, sl = strlen(suffix);
	enum kr_err rc = KR_OK;
	int eab;
	DIR *d;

	if ((rc = kd_path(home, KD_PROVDIR, dir, err)) != KR_OK)
		return rc;
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			return kr_fail(err, KR_E_IO, "%s: %s", dir,
			    strerror(errno));
	} else {
		while ((de = readdir(d)) != NULL) {
			len = strlen(de->d_name);
			if (de->d_name[0] == '.' || len <= sl ||
			    strcmp(de->d_name + len - sl, suffix) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir,
			    de->d_name);
			eab = 0;
			if ((rc = parse(path, &p, &eab, err)) != KR_OK)
				break;
			if (strlen(p->name) != len - sl ||
			    strncmp(p->name, de->d_name, len - sl) != 0) {
				rc = kr_fail(err, KR_E_PARSE, "%s: names "
				    "%sprovisioner '%s'", path, kind, p->name);
				ca_prov_free(p);
				break;
			}
			if ((nv = reallocarray(v, n + 1, sizeof(*v))) ==
			    NULL) {
				ca_prov_free(p);
				rc = kr_fail(err, KR_E_NOMEM, "out of memory");
				break;
			}
			v = nv;
			v[n].p = p;
			v[n].eab = eab;
			n++;
		}
		closedir(d);
	}
	if (rc != KR_OK) {
		kd_provents_free(v, n);
		return rc;
	}
	*out = v;
	*nout = n;
	return KR_OK;
}

/* A token provisioner's public file, NAME.json. */
static enum kr_err
prov_json_parse(const char *path, struct ca_prov **p, int *eab,
    struct kr_error *err)
{
	json_error_t je;
	json_t *o;
	enum kr_err rc;

	(void)eab;
	if ((o = json_load_file(path, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return kr_fail(err, KR_E_PARSE, "%s:%d: %s", path, je.line,
		    je.text);
	rc = ca_prov_public_from_json(o, p, err);
	json_decref(o);
	if (rc != KR_OK)
		kr_error_prefix(err, "%s", path);
	return rc;
}

enum kr_err
kd_provs_load(struct kd_ca *ca, struct kr_error *err)
{
	struct kd_provent *v;
	size_t n;
	enum kr_err rc;

	if ((rc = kd_provdir_read(ca->cfg.home, ".json", "", prov_json_parse,
	    &v, &n, err)) != KR_OK)
		return rc;
	pthread_rwlock_wrlock(&ca->provlock);
	kd_provents_free(ca->provs, ca->nprovs);
	ca->provs = v;
	ca->nprovs = n;
	pthread_rwlock_unlock(&ca->provlock);
	return KR_OK;
}

const struct ca_prov *
kd_prov_find(const struct kd_ca *ca, const char *name)
{
	size_t i;

	for (i = 0; i < ca->nprovs; i++)
		if (strcmp(ca->provs[i].p->name, name) == 0)
			return ca->provs[i].p;
	return NULL;
}

int
kd_prov_reserved(const char *name)
{
	return strcmp(name, KD_PROV_LOCAL) == 0 ||
	    strcmp(name, KD_PROV_SERVING) == 0;
}

int
kd_prov_is_admin(const struct kd_ca *ca, const char *name)
{
	size_t i;

	for (i = 0; i < ca->cfg.nadmins; i++)
		if (strcmp(ca->cfg.admins[i], name) == 0)
			return 1;
	return 0;
}

enum kr_err
kd_ca_load(const char *home, int with_provs, struct kd_ca *ca,
    struct kr_error *err)
{
	enum kr_err rc;
	int n;

	memset(ca, 0, sizeof(*ca));
	pthread_rwlock_init(&ca->provlock, NULL);
	if ((rc = kd_config_load(home, &ca->cfg, err)) != KR_OK)
		return rc;
	if ((rc = load_cert_in(home, KD_CERT, &ca->cert, err)) != KR_OK ||
	    (rc = load_cert_in(home, KD_ROOT, &ca->root, err)) != KR_OK)
		goto fail;
	if (!kd_kid_hex(ca->cert, ca->kid, sizeof(ca->kid))) {
		rc = kr_fail(err, KR_E_PARSE, "%s/%s: no subjectKeyIdentifier",
		    home, KD_CERT);
		goto fail;
	}
	if ((rc = pol_profile_find(ca->cfg.profile, &ca->profile, err)) !=
	    KR_OK)
		goto fail;
	if (ca->profile.kind != POL_KIND_LEAF) {
		rc = kr_fail(err, KR_E_USAGE, "profile %s: not a leaf profile",
		    ca->cfg.profile);
		goto fail;
	}
	if ((ca->chain_pem = kd_cert_pem(ca->cert)) == NULL ||
	    (ca->root_pem = kd_cert_pem(ca->root)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	n = snprintf(ca->crl_url, sizeof(ca->crl_url),
	    "%s/crl/intermediate.crl", ca->cfg.public_url);
	n |= snprintf(ca->issuer_url, sizeof(ca->issuer_url),
	    "%s/certs/intermediate.der", ca->cfg.public_url);
	(void)n;
	ca->signer.pub = X509_get0_pubkey(ca->cert);
	ca->signer.sign = kd_signer_sign;
	if ((rc = ca_leaf_tmpl_new(ca->cert, ca->signer.pub, &ca->profile,
	    ca->crl_url, ca->issuer_url, &ca->leaf, err)) != KR_OK ||
	    (rc = pol_issuer_new(ca->cert, &ca->lint, err)) != KR_OK) {
		kr_error_prefix(err, "%s/%s", home, KD_CERT);
		goto fail;
	}
	if (with_provs && (rc = kd_provs_load(ca, err)) != KR_OK)
		goto fail;
	return KR_OK;
fail:
	kd_ca_free(ca);
	return rc;
}

void
kd_ca_free(struct kd_ca *ca)
{
	ca_leaf_tmpl_free(ca->leaf);
	pol_issuer_free(ca->lint);
	X509_free(ca->cert);
	X509_free(ca->root);
	free(ca->chain_pem);
	free(ca->root_pem);
	kd_provents_free(ca->provs, ca->nprovs);
	kd_config_free(&ca->cfg);
	pthread_rwlock_destroy(&ca->provlock);
	memset(ca, 0, sizeof(*ca));
}

char *
kd_der_pem(const uint8_t *der, size_t len)
{
	static const char head[] = "-----BEGIN CERTIFICATE-----\n";
	static const char tail[] = "-----END CERTIFICATE-----\n";
	char *s, *p;
	size_t i, n;

	/* 64 characters (48 bytes) a line, as PEM_write_X509 writes. */
	if ((s = malloc(sizeof(head) + (len + 47) / 48 * 65 + sizeof(tail))) ==
	    NULL)
		return NULL;
	p = s + strlen(head);
	memcpy(s, head, strlen(head));
	for (i = 0; i < len; i += 48) {
		n = len - i < 48 ? len - i : 48;
		p += EVP_EncodeBlock((unsigned char *)p, der + i, (int)n);
		*p++ = '\n';
	}
	memcpy(p, tail, sizeof(tail));
	return s;
}

void
kd_issued_clear(struct kd_issued *o)
{
	free(o->der);
	free(o->pem);
	free(o->serial);
	memset(o, 0, sizeof(*o));
}

/* Add name to v (n of them) unless it is there (ASCII case ignored). */
static int
name_add(char **v, size_t *n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strlen(v[i]) == len && strncasecmp(v[i], name, len) == 0)
			return 0;
	if ((v[*n] = strndup(name, len)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

int
kd_csr_names(const X509_NAME *s, const STACK_OF(X509_EXTENSION) *exts,
    char ***out, size_t *n, char *other, size_t othersz)
{
	GENERAL_NAMES *gns = NULL;
	const GENERAL_NAME *gn;
	unsigned char *u;
	char **v, txt[300];
	size_t k = 0;
	int i, len, ret = -1;

	*out = NULL;
	*n = 0;
	if (exts != NULL) {
		i = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
		if (i >= 0)
			gns = X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, i));
	}
	if ((v = calloc((size_t)X509_NAME_entry_count(s) +
	    (size_t)sk_GENERAL_NAME_num(gns) + 1, sizeof(*v))) == NULL)
		goto out;
	for (i = -1; (i = X509_NAME_get_index_by_NID(s, NID_commonName,
	    i)) >= 0;) {
		u = NULL;
		len = ASN1_STRING_to_UTF8(&u,
		    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(s, i)));
		if (len > 0 && name_add(v, &k, (char *)u, (size_t)len) != 0) {
			OPENSSL_free(u);
			goto out;
		}
		OPENSSL_free(u);
	}
	for (i = 0; gns != NULL && i < sk_GENERAL_NAME_num(gns); i++) {
		gn = sk_GENERAL_NAME_value(gns, i);
		ca_general_name_text(gn, txt, sizeof(txt));
		if (gn->type != GEN_DNS && gn->type != GEN_IPADD) {
			if (other != NULL && other[0] == '\0')
				snprintf(other, othersz, "%s", txt);
			continue;
		}
		if (name_add(v, &k, strchr(txt, ':') + 1,
		    strlen(strchr(txt, ':') + 1)) != 0)
			goto out;
	}
	*out = v;
	*n = k;
	v = NULL;
	ret = 0;
out:
	kd_names_free(v, k);
	GENERAL_NAMES_free(gns);
	ERR_clear_error();
	return ret;
}

void
kd_names_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

/* 3 prefix bytes and 16 random ones: positive, at most 20 octets. */
static ASN1_INTEGER *
serial_new(const uint8_t prefix[KD_SERIAL_PREFIX_LEN])
{
	uint8_t b[KD_SERIAL_PREFIX_LEN + 16];
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn;

	memcpy(b, prefix, KD_SERIAL_PREFIX_LEN);
	/* OpenSSL's CSPRNG: no system call per serial. */
	if (RAND_bytes(b + KD_SERIAL_PREFIX_LEN, 16) != 1)
		return NULL;
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) != NULL)
		ai = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return ai;
}

static int
is_ip(const char *s)
{
	uint8_t b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* The names as the store's JSON array of "DNS:x" / "IP:y". */
static char *
sans_json(const char *const *names, size_t n)
{
	json_t *a;
	char buf[300], *s;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s:%s", is_ip(names[i]) ? "IP" :
		    "DNS", names[i]);
		json_array_append_new(a, json_string(buf));
	}
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

int
kd_jti_burn(struct kd_ca *ca, const char *prov, const char *jti, time_t exp,
    time_t now, struct kd_err *ke)
{
	struct kr_error e;
	enum kr_err rc;

	memset(&e, 0, sizeof(e));
	if ((rc = ca_store_group_jti_use(ca->group, prov, jti, exp, now,
	    &e)) == KR_OK)
		return 0;
	if (rc == KR_E_AUTH)
		return refuse_err(ke, 401, strstr(e.msg, "expired") ?
		    "token_expired" : "token_replayed", &e);
	return refuse_err(ke, 500, "internal", &e);
}

static int issue(struct kd_ca *, const struct kd_issue_req *,
    struct kd_sign_ctx *, struct kd_issued *, struct kd_err *);

int
kd_issue(struct kd_ca *ca, const struct kd_issue_req *r, struct kd_issued *out,
    struct kd_err *ke)
{
	struct kd_sign_ctx ctx;
	struct kd_err k2;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.id = -1;
	ctx.jti = r->jti;
	ctx.jti_exp = r->jti_exp;
	ctx.jti_now = r->jti_now;
	rc = issue(ca, r, &ctx, out, ke);
	if (ctx.busy)
		ca_store_group_busy(ca->group, -1);
	if (rc == 0)
		return 0;
	/*
	 * Refused before the reservation that burns the token: burn it
	 * now, and a used or expired token is the refusal.
	 */
	if (r->jti != NULL && !ctx.jti_tried &&
	    kd_jti_burn(ca, r->provname, r->jti, r->jti_exp, r->jti_now,
	    &k2) != 0)
		*ke = k2;
	return -1;
}

static int
issue(struct kd_ca *ca, const struct kd_issue_req *r, struct kd_sign_ctx *ctx,
    struct kd_issued *out, struct kd_err *ke)
{
	const char **dns = NULL, **ip = NULL, *cn;
	struct ca_leaf_der_req lr;
	struct ca_store_rec rec;
	struct ca_signer signer;
	struct kr_error e;
	ASN1_INTEGER *serial = NULL;
	unsigned char *spki = NULL;
	uint8_t *tbs = NULL;
	char subject[300], *sans = NULL;
	time_t now = kr_now(), na;
	long long life, cap, min;
	size_t i, ndns = 0, nip = 0, tbslen = 0;
	int n, ret = -1;
	enum kr_err rc;

	memset(out, 0, sizeof(*out));
	memset(&e, 0, sizeof(e));
	if (r->nnames == 0 || r->nnames > CA_TOKEN_SANS_MAX)
		return kd_refuse(ke, 400, "bad_request", "between 1 and %d "
		    "names are required", CA_TOKEN_SANS_MAX);
	if ((dns = calloc(r->nnames, sizeof(*dns))) == NULL ||
	    (ip = calloc(r->nnames, sizeof(*ip))) == NULL) {
		kd_refuse(ke, 500, "internal", "out of memory");
		goto out;
	}
	for (i = 0; i < r->nnames; i++) {
		if (is_ip(r->names[i]))
			ip[nip++] = r->names[i];
		else
			dns[ndns++] = r->names[i];
	}
	if (r->prov != NULL && ca_prov_check_names(r->prov, r->names[0],
	    r->names + 1, r->nnames - 1, &e) != KR_OK) {
		refuse_err(ke, 403, "name_not_allowed", &e);
		goto out;
	}
	if ((rc = ca_names_check(ca->cert, dns, ndns, ip, nip, &e)) != KR_OK) {
		if (rc == KR_E_POLICY)
			refuse_err(ke, 403, "name_outside_constraints", &e);
		else
			refuse_err(ke, 400, "bad_request", &e);
		goto out;
	}

	/*
	 * The lifetime: asked for or the default, capped.  It counts from
	 * notBefore, which lies the profile's backdate in the past, so it
	 * must cover that and leave the leaf valid KD_LIFETIME_LEFT_MIN
	 * seconds from now: shorter is refused here, before a serial is
	 * made or anything reserved (docs/api.md).
	 */
	life = r->lifetime > 0 ? r->lifetime : ca->cfg.default_lifetime;
	min = ca->profile.backdate + KD_LIFETIME_LEFT_MIN;
	if (life < min) {
		kd_refuse(ke, 400, "bad_lifetime", "lifetime %lld s%s is too "
		    "short: the minimum is %lld s (profile %s backdates "
		    "notBefore by %lld s, and a certificate must stay valid "
		    "at least %d s after it is issued)", life,
		    r->lifetime > 0 ? "" : " (default_lifetime)", min,
		    ca->profile.name, ca->profile.backdate,
		    KD_LIFETIME_LEFT_MIN);
		goto out;
	}
	cap = ca->cfg.max_lifetime;
	if (r->prov != NULL && r->prov->max_lifetime < cap)
		cap = r->prov->max_lifetime;
	if (ca->profile.max_validity < cap)
		cap = ca->profile.max_validity;
	if (ca_time_from_asn1(X509_get0_notAfter(ca->cert), &na) != 0) {
		kd_refuse(ke, 500, "internal", "the intermediate's notAfter "
		    "cannot be read");
		goto out;
	}
	if ((long long)(na - now) + ca->profile.backdate < cap)
		cap = (long long)(na - now) + ca->profile.backdate;
	if ((long long)(na - now) < KD_LIFETIME_LEFT_MIN) {
		kd_refuse(ke, 503, "unavailable", "the intermediate expires "
		    "too soon to issue anything; install a new one");
		goto out;
	}
	if (cap < min) {
		kd_refuse(ke, 403, "policy", "the longest lifetime allowed "
		    "here (%lld s, by max_lifetime, the provisioner's or the "
		    "profile's) is shorter than the minimum %lld s", cap,
		    min);
		goto out;
	}
	if (life > cap) {
		life = cap;
		out->capped = 1;
	}
	out->lifetime = life;

	/*
	 * The CN repeats the first DNS name, for old software; never an IP
	 * address, which verifiers would check as a DNS name against the
	 * constraints.  No DNS name (or a long one): an empty subject.
	 */
	cn = ndns > 0 && strlen(dns[0]) <= 64 ? dns[0] : NULL;
	if ((serial = serial_new(ca->cfg.serial_prefix)) == NULL ||
	    (out->serial = ca_serial_hex(serial)) == NULL ||
	    (sans = sans_json(r->names, r->nnames)) == NULL) {
		kd_refuse(ke, 500, "internal", "out of memory");
		goto out;
	}
	memset(&lr, 0, sizeof(lr));
	lr.pub = r->pub;
	lr.spki = r->spki;
	lr.spki_len = r->spki_len;
	if (lr.spki == NULL) {
		if ((n = i2d_PUBKEY(r->pub, &spki)) <= 0) {
			ERR_clear_error();
			kd_refuse(ke, 400, "bad_csr", "the key cannot be "
			    "encoded");
			goto out;
		}
		lr.spki = spki;
		lr.spki_len = (size_t)n;
	}
	lr.cn = cn;
	lr.dns = dns;
	lr.ndns = ndns;
	lr.ip = ip;
	lr.nip = nip;
	lr.validity = life;
	lr.serial = serial;
	if ((rc = ca_leaf_tbs(ca->leaf, &lr, now, &tbs, &tbslen,
	    &out->not_before, &out->not_after, &e)) != KR_OK) {
		if (rc == KR_E_POLICY)
			refuse_err(ke, 403, "policy", &e);
		else if (rc == KR_E_USAGE || rc == KR_E_PARSE ||
		    rc == KR_E_VERIFY)
			refuse_err(ke, 400, "bad_csr", &e);
		else
			refuse_err(ke, 500, "internal", &e);
		goto out;
	}
	/* The linter on the very bytes that will be signed. */
	if ((rc = pol_lint_tbs_key(&ca->profile, ca->lint, tbs, tbslen,
	    r->pub, lr.spki, lr.spki_len, now, &e)) != KR_OK) {
		refuse_err(ke, rc == KR_E_POLICY ? 403 : 500, rc ==
		    KR_E_POLICY ? "policy" : "internal", &e);
		goto out;
	}
	snprintf(subject, sizeof(subject), "%s%s", cn ? "CN=" : "",
	    cn ? cn : "");
	memset(&rec, 0, sizeof(rec));
	rec.issuer_kid = ca->kid;
	rec.serial = out->serial;
	rec.subject = subject;
	rec.sans = sans;
	rec.not_before = out->not_before;
	rec.not_after = out->not_after;
	rec.provisioner = r->provname;
	ctx->signers = ca->signers;
	ctx->group = ca->group;
	ctx->rec = &rec;
	ctx->now = now;
	signer = ca->signer;
	signer.arg = ctx;
	/*
	 * The reservation is queued within microseconds: say so, so that
	 * the group's writer waits for it before it commits (kd_signer_sign
	 * says so again for the commit, once the signer has answered).
	 */
	ca_store_group_busy(ca->group, 1);
	ctx->busy = 1;
	/* The reservation (and the token's burning) is kd_signer_sign's. */
	if ((rc = ca_leaf_sign(ca->leaf, &signer, tbs, tbslen, &out->der,
	    &out->der_len, &e)) != KR_OK) {
		/* (A failed reservation leaves id 0: rowids start at 1.) */
		if (ctx->id > 0)
			(void)ca_store_group_abandon(ca->group, ctx->id,
			    &(struct kr_error){0});
		if (rc == KR_E_AUTH && ctx->id <= 0 && ctx->jti_tried) {
			refuse_err(ke, 401, strstr(e.msg, "expired") ?
			    "token_expired" : "token_replayed", &e);
			goto out;
		}
		fprintf(stderr, "keyrited: issuing %s: %s\n", out->serial,
		    e.msg);
		refuse_err(ke, rc == KR_E_IO ? 503 : 500, rc == KR_E_IO ?
		    "unavailable" : "internal", &e);
		goto out;
	}
	/* Durable before anyone sees it. */
	if (ca_store_group_commit(ca->group, ctx->id, out->der, out->der_len,
	    &e) != KR_OK) {
		fprintf(stderr, "keyrited: committing %s: %s\n", out->serial,
		    e.msg);
		refuse_err(ke, 500, "internal", &e);
		goto out;
	}
	if ((out->pem = kd_der_pem(out->der, out->der_len)) == NULL) {
		kd_refuse(ke, 500, "internal", "out of memory");
		goto out;
	}
	ret = 0;
out:
	if (ret != 0)
		kd_issued_clear(out);
	ASN1_INTEGER_free(serial);
	OPENSSL_free(spki);
	free(tbs);
	free(sans);
	free(dns);
	free(ip);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Publication                                                         */
/* ------------------------------------------------------------------ */

static enum kr_err
pub_write(struct kd_ca *ca, const char *name, const void *buf, size_t len,
    struct kr_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], *slash;
	enum kr_err rc;

	if ((rc = kd_path(ca->cfg.home, KD_PUBDIR, dir, err)) != KR_OK)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		if ((rc = kr_mkdirs(path, 0755, err)) != KR_OK)
			return rc;
		*slash = '/';
	}
	return kr_file_write(path, buf, len, 0644, 1, err);
}

static enum kr_err
pub_crl(struct kd_ca *ca, const char *base, X509_CRL *crl,
    struct kr_error *err)
{
	unsigned char *der = NULL;
	char name[64];
	BIO *b;
	BUF_MEM *m;
	int len;
	enum kr_err rc;

	if ((len = i2d_X509_CRL(crl, &der)) <= 0)
		return kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode the CRL");
	snprintf(name, sizeof(name), "crl/%s.crl", base);
	rc = pub_write(ca, name, der, (size_t)len, err);
	OPENSSL_free(der);
	if (rc != KR_OK)
		return rc;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_CRL(b, crl) != 1) {
		BIO_free(b);
		return kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode the CRL");
	}
	BIO_get_mem_ptr(b, &m);
	snprintf(name, sizeof(name), "crl/%s.pem", base);
	rc = pub_write(ca, name, m->data, m->length, err);
	BIO_free(b);
	return rc;
}

enum kr_err
kd_crl_publish(struct kd_ca *ca, struct ca_store *st, time_t *this_update,
    struct kr_error *err)
{
	time_t now;
	struct ca_revoked *rev = NULL;
	struct kd_sign_ctx ctx;
	struct ca_signer signer;
	ASN1_INTEGER *num = NULL;
	X509_CRL *tbs = NULL, *crl = NULL;
	char lpath[PATH_MAX];
	size_t n = 0;
	int lfd = -1;
	enum kr_err rc;

	/*
	 * One CRL at a time, across processes (the daemon and `keyrited
	 * revoke`): the number is taken and the files written under one
	 * lock, so the file published last has the highest number.
	 */
	if ((rc = kd_path(ca->cfg.home, KD_PUBDIR, lpath, err)) != KR_OK ||
	    (rc = kr_mkdirs(lpath, 0755, err)) != KR_OK ||
	    (rc = kd_path(ca->cfg.home, KD_PUBDIR "/.crl.lock", lpath,
	    err)) != KR_OK)
		return rc;
	if ((lfd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(lfd, LOCK_EX) != 0) {
		rc = kr_fail(err, KR_E_IO, "%s: %s", lpath, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return rc;
	}
	/* After the lock: a later number never carries an earlier time. */
	now = kr_now();
	if (this_update != NULL)
		*this_update = now;
	if ((rc = ca_store_revoked_for_crl(st, ca->kid, now,
	    ca->cfg.crl_interval, &rev, &n, err)) != KR_OK ||
	    (rc = ca_store_next_crl_number(st, &num, err)) != KR_OK ||
	    (rc = ca_crl_build(ca->cert, rev, n, num, ca->cfg.crl_interval +
	    ca->cfg.crl_grace, now, &tbs, err)) != KR_OK)
		goto out;
	memset(&ctx, 0, sizeof(ctx));
	ctx.signers = ca->signers;
	ctx.id = -1;
	signer = ca->signer;
	signer.arg = &ctx;
	if ((rc = ca_sign_crl(tbs, &signer, ca->cert, now, &crl, err)) !=
	    KR_OK)
		goto out;
	rc = pub_crl(ca, "intermediate", crl, err);
out:
	close(lfd);		/* and with it the lock */
	ca_revoked_free(rev, n);
	ASN1_INTEGER_free(num);
	X509_CRL_free(tbs);
	X509_CRL_free(crl);
	return rc;
}

/* The CRL number of the CRL published last, to raise the store's. */
enum kr_err
kd_crl_seen(struct kd_ca *ca, struct ca_store *st, struct kr_error *err)
{
	char path[PATH_MAX];
	X509_CRL *crl = NULL;
	ASN1_INTEGER *num;
	enum kr_err rc;

	if ((rc = kd_path(ca->cfg.home, KD_PUBDIR "/crl/intermediate.pem",
	    path, err)) != KR_OK)
		return rc;
	if (access(path, F_OK) != 0)
		return KR_OK;
	if ((rc = ca_load_crl(path, &crl, err)) != KR_OK)
		return rc;
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	if (num != NULL)
		rc = ca_store_crl_number_raise(st, num, err);
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	return rc;
}

static enum kr_err
pub_cert(struct kd_ca *ca, const char *name, X509 *x, int der_too,
    struct kr_error *err)
{
	char *pem, n2[64];
	unsigned char *der = NULL;
	int len;
	enum kr_err rc;

	if ((pem = kd_cert_pem(x)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	snprintf(n2, sizeof(n2), "certs/%s.pem", name);
	rc = pub_write(ca, n2, pem, strlen(pem), err);
	free(pem);
	if (rc != KR_OK || !der_too)
		return rc;
	if ((len = i2d_X509(x, &der)) <= 0)
		return kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode %s",
		    name);
	snprintf(n2, sizeof(n2), "certs/%s.der", name);
	rc = pub_write(ca, n2, der, (size_t)len, err);
	OPENSSL_free(der);
	return rc;
}

enum kr_err
kd_publish_static(struct kd_ca *ca, struct kr_error *err)
{
	char path[PATH_MAX], *chain;
	X509_CRL *crl = NULL;
	size_t a, b;
	enum kr_err rc;

	if ((rc = pub_cert(ca, "intermediate", ca->cert, 1, err)) != KR_OK ||
	    (rc = pub_cert(ca, "root", ca->root, 1, err)) != KR_OK)
		return rc;
	a = strlen(ca->chain_pem);
	b = strlen(ca->root_pem);
	if ((chain = malloc(a + b + 1)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	memcpy(chain, ca->chain_pem, a);
	memcpy(chain + a, ca->root_pem, b + 1);
	rc = pub_write(ca, "certs/chain.pem", chain, a + b, err);
	free(chain);
	if (rc != KR_OK)
		return rc;
	if ((rc = kd_path(ca->cfg.home, KD_ROOT_CRL, path, err)) != KR_OK)
		return rc;
	if (access(path, F_OK) != 0)
		return KR_OK;
	if ((rc = ca_load_crl(path, &crl, err)) != KR_OK)
		return rc;
	rc = pub_crl(ca, "root", crl, err);
	X509_CRL_free(crl);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The API's serving certificate                                       */
/* ------------------------------------------------------------------ */

static char *
read_text(const char *path)
{
	uint8_t *buf = NULL;
	size_t len;
	struct kr_error e;

	if (kr_file_read(path, 1 << 20, &buf, &len, &e) != KR_OK)
		return NULL;
	return (char *)buf;
}

/* The names the serving certificate is for, inside the constraints. */
static size_t
serving_names(struct kd_ca *ca, const char *listen, char names[2][256])
{
	char host[256], *p;
	const char *h = ca->cfg.api_url + strlen("https://");
	const char *one[1];
	struct kr_error e;
	size_t n = 0, len;
	int port;

	len = strcspn(h, "/");
	if (h[0] == '[') {
		h++;
		len = strcspn(h, "]");
	} else if ((p = memchr(h, ':', len)) != NULL)
		len = (size_t)(p - h);
	if (len > 0 && len < 256) {
		memcpy(names[n], h, len);
		names[n][len] = '\0';
		one[0] = names[n];
		if (is_ip(names[n]) ? ca_names_check(ca->cert, NULL, 0, one,
		    1, &e) == KR_OK : ca_names_check(ca->cert, one, 1, NULL, 0,
		    &e) == KR_OK)
			n++;
		else
			fprintf(stderr, "keyrited: serving certificate: "
			    "leaving out %s: %s\n", names[n], e.msg);
	}
	if (kd_hostport(listen, host, sizeof(host), &port) == 0 &&
	    is_ip(host) && strcmp(host, "0.0.0.0") != 0 &&
	    strcmp(host, "::") != 0 && (n == 0 || strcmp(host, names[0]))) {
		snprintf(names[n], 256, "%s", host);
		one[0] = names[n];
		if (ca_names_check(ca->cert, NULL, 0, one, 1, &e) == KR_OK)
			n++;
		else
			fprintf(stderr, "keyrited: serving certificate: "
			    "leaving out %s: %s\n", host, e.msg);
	}
	return n;
}

/*
 * Is x valid in the store (not revoked: say tls/serving.key leaked and
 * the operator revoked it, and not unknown to a restored store)?
 */
static int
serving_valid(struct kd_ca *ca, X509 *x)
{
	struct ca_store *st = NULL;
	struct ca_store_rec rec;
	struct kr_error e;
	char path[PATH_MAX], *serial;
	int ok = 0;

	if ((serial = ca_serial_hex(X509_get0_serialNumber(x))) == NULL)
		return 0;
	if (kd_path(ca->cfg.home, KD_STORE, path, &e) == KR_OK &&
	    ca_store_open(path, &st, &e) == KR_OK &&
	    ca_store_get(st, ca->kid, serial, &rec, &e) == KR_OK) {
		ok = rec.status == CA_STORE_VALID;
		ca_store_rec_clear(&rec);
	}
	ca_store_close(st);
	free(serial);
	return ok;
}

/*
 * When to renew a serving certificate valid from nb to na: at two thirds
 * of its life counted from when it was issued, which is nb plus the
 * profile's backdating.  Counting from nb would put the point minutes
 * early, and with a short default_lifetime before the issue time itself.
 */
static time_t
serving_renew_at(const struct kd_ca *ca, time_t nb, time_t na)
{
	time_t t0 = nb + (time_t)ca->profile.backdate;

	if (t0 >= na)
		t0 = nb;
	return t0 + (na - t0) * 2 / 3;
}

/* Does x name every one of names (after api_url or listen changed)? */
static int
serving_names_in(X509 *x, char names[2][256], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((is_ip(names[i]) ? X509_check_ip_asc(x, names[i], 0) :
		    X509_check_host(x, names[i], 0, 0, NULL)) != 1)
			return 0;
	return 1;
}

enum kr_err
kd_serving_cert(struct kd_ca *ca, const char *listen, int force,
    char **cert_pem, char **key_pem, time_t *renew_at, struct kr_error *err)
{
	char dir[PATH_MAX], cpath[PATH_MAX + 16], kpath[PATH_MAX + 16];
	char names[2][256];
	const char *nv[2];
	struct kd_issue_req r;
	struct kd_issued is;
	struct kd_err ke;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIO *b = NULL;
	BUF_MEM *m;
	time_t nb, na, now = kr_now();
	size_t n;
	enum kr_err rc;

	*cert_pem = *key_pem = NULL;
	memset(&is, 0, sizeof(is));
	if ((rc = kd_path(ca->cfg.home, KD_TLSDIR, dir, err)) != KR_OK ||
	    (rc = kr_mkdirs(dir, 0700, err)) != KR_OK)
		return rc;
	snprintf(cpath, sizeof(cpath), "%s/serving.pem", dir);
	snprintf(kpath, sizeof(kpath), "%s/serving.key", dir);
	if ((n = serving_names(ca, listen, names)) == 0)
		return kr_fail(err, KR_E_POLICY, "no name for the serving "
		    "certificate lies inside the name constraints: set "
		    "api_url to a name the root permits");
	if (!force && ca_load_cert(cpath, &x, err) == KR_OK &&
	    ca_time_from_asn1(X509_get0_notBefore(x), &nb) == 0 &&
	    ca_time_from_asn1(X509_get0_notAfter(x), &na) == 0 &&
	    X509_check_issued(ca->cert, x) == X509_V_OK && nb <= now &&
	    now < serving_renew_at(ca, nb, na) &&
	    serving_names_in(x, names, n) && serving_valid(ca, x)) {
		*renew_at = serving_renew_at(ca, nb, na);
		*cert_pem = read_text(cpath);
		*key_pem = read_text(kpath);
		X509_free(x);
		if (*cert_pem != NULL && *key_pem != NULL)
			return KR_OK;
		free(*cert_pem);
		if (*key_pem != NULL)
			sodium_memzero(*key_pem, strlen(*key_pem));
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
	} else
		X509_free(x);
	ERR_clear_error();
	nv[0] = names[0];
	nv[1] = names[1];
	if ((key = EVP_EC_gen("P-256")) == NULL)
		return kr_fail_ossl(err, KR_E_CRYPTO, "cannot make a key");
	memset(&r, 0, sizeof(r));
	r.pub = key;
	r.names = nv;
	r.nnames = n;
	r.lifetime = ca->cfg.default_lifetime;
	r.provname = KD_PROV_SERVING;
	if (kd_issue(ca, &r, &is, &ke) != 0) {
		rc = kr_fail(err, KR_E_STATE, "serving certificate: %s",
		    ke.e.msg);
		goto out;
	}
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode the key");
		goto out;
	}
	BIO_get_mem_ptr(b, &m);
	if ((*key_pem = calloc(1, m->length + 1)) == NULL ||
	    (*cert_pem = strdup(is.pem)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*key_pem, m->data, m->length);
	if ((rc = kr_file_write(kpath, *key_pem, strlen(*key_pem), 0600, 1,
	    err)) != KR_OK ||
	    (rc = kr_file_write(cpath, *cert_pem, strlen(*cert_pem), 0644, 1,
	    err)) != KR_OK)
		goto out;
	*renew_at = serving_renew_at(ca, is.not_before, is.not_after);
	rc = KR_OK;
out:
	if (rc != KR_OK) {
		if (*key_pem != NULL)
			sodium_memzero(*key_pem, strlen(*key_pem));
		free(*key_pem);
		free(*cert_pem);
		*key_pem = *cert_pem = NULL;
	}
	if (b != NULL && BIO_get_mem_ptr(b, &m) == 1 && m != NULL)
		OPENSSL_cleanse(m->data, m->max);
	BIO_free(b);
	EVP_PKEY_free(key);
	kd_issued_clear(&is);
	return rc;
}
