/*
 * acme.c: keyrited's ACME server (RFC 8555), under /acme/ on the API
 * listener.  Each ACME provisioner (home/provisioners/NAME.acme) has its
 * own directory, /acme/NAME/directory; /acme/directory is the one of the
 * only ACME provisioner when there is exactly one.  Requests are parsed
 * and verified by ca/acme.c, objects kept in the store (ca/acme_store.c),
 * challenges validated synchronously by acme_valid.c, and certificates
 * issued by kd_issue, as the token API issues them.  docs/acme.md.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "kd.h"
#include "ca/acme.h"
#include "common/file.h"

/* The ACME provisioners, replaced whole on reload. */
static pthread_rwlock_t alock = PTHREAD_RWLOCK_INITIALIZER;
static struct kd_provent *aprovs;
static size_t naprovs;

void
kd_acme_unload(void)
{
	pthread_rwlock_wrlock(&alock);
	kd_provents_free(aprovs, naprovs);
	aprovs = NULL;
	naprovs = 0;
	pthread_rwlock_unlock(&alock);
}

/* An ACME provisioner's file, NAME.acme. */
static enum kr_err
aprov_parse(const char *path, struct ca_prov **p, int *eab,
    struct kr_error *err)
{
	uint8_t *buf;
	size_t len;
	enum kr_err rc;

	if ((rc = kr_file_read(path, CA_PROV_FILE_MAX, &buf, &len, err)) !=
	    KR_OK)
		return rc;
	rc = ca_acme_prov_parse((const char *)buf, len, p, eab, err);
	free(buf);
	if (rc != KR_OK)
		kr_error_prefix(err, "%s", path);
	return rc;
}

enum kr_err
kd_acme_load(struct kd_ca *ca, size_t *count, struct kr_error *err)
{
	struct kd_provent *v, *ov;
	size_t n, on;
	enum kr_err rc;

	if ((rc = kd_provdir_read(ca->cfg.home, CA_ACME_PROV_SUFFIX, "ACME ",
	    aprov_parse, &v, &n, err)) != KR_OK)
		return rc;
	pthread_rwlock_wrlock(&alock);
	ov = aprovs;
	on = naprovs;
	aprovs = v;
	naprovs = n;
	pthread_rwlock_unlock(&alock);
	kd_provents_free(ov, on);
	if (count != NULL)
		*count = n;
	return KR_OK;
}

const struct ca_prov *
kd_acme_prov_get(const char *name)
{
	size_t i;

	pthread_rwlock_rdlock(&alock);
	for (i = 0; i < naprovs; i++)
		if (strcmp(aprovs[i].p->name, name) == 0)
			return aprovs[i].p;
	pthread_rwlock_unlock(&alock);
	return NULL;
}

void
kd_acme_prov_put(void)
{
	pthread_rwlock_unlock(&alock);
}

void
kd_acme_each(void (*fn)(const struct ca_prov *, int, void *), void *arg)
{
	size_t i;

	pthread_rwlock_rdlock(&alock);
	for (i = 0; i < naprovs; i++)
		fn(aprovs[i].p, aprovs[i].eab, arg);
	pthread_rwlock_unlock(&alock);
}

void
kd_acme_resp_free(struct kd_acme_resp *r)
{
	free(r->body);
	r->body = NULL;
}

/* ------------------------------------------------------------------ */
/* One request                                                         */
/* ------------------------------------------------------------------ */

struct areq {
	struct kd_ca		*ca;
	struct ca_store		*st;
	struct kd_acme_resp	*r;
	const struct kd_provent	*ap;	/* under alock (read) */
	char			 base[KD_URL_MAX];	/* https://HOST/acme/P */
	char			 dir[KD_URL_MAX + 32];
	const char		*rest;	/* path after /acme/P/ */
	time_t			 now;
	struct ca_acme_jws	 j;
	struct ca_acme_account	 acct;	/* for kid requests */
	struct ca_acme_err	 ae;
};

static void
set_body(struct kd_acme_resp *r, unsigned status, const char *ctype, char *s)
{
	free(r->body);
	r->status = status;
	r->ctype = ctype;
	r->body = s;
	r->len = s ? strlen(s) : 0;
	if (s == NULL && status != 204 && ctype != NULL) {
		r->status = 500;
		r->ctype = "application/problem+json";
		r->body = strdup("{\"type\":\"urn:ietf:params:acme:error:"
		    "serverInternal\",\"detail\":\"out of memory\","
		    "\"status\":500}");
		r->len = r->body ? strlen(r->body) : 0;
	}
}

static void
problem(struct areq *q)
{
	set_body(q->r, (unsigned)q->ae.http, "application/problem+json",
	    ca_acme_problem_json(&q->ae));
}

static void
reply_json(struct areq *q, unsigned status, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) :
	    NULL;

	json_decref(o);
	set_body(q->r, status, "application/json", s);
}

static void
rfc3339(time_t t, char buf[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *
jtime(time_t t)
{
	char b[32];

	rfc3339(t, b);
	return json_string(b);
}

static json_t *
jurl(const struct areq *q, const char *kind, const char *id,
    const char *suffix)
{
	char u[KD_URL_MAX + 128];

	snprintf(u, sizeof(u), "%s/%s/%s%s", q->base, kind, id,
	    suffix ? suffix : "");
	return json_string(u);
}

/* ---- objects ---- */

static json_t *
account_json(const struct areq *q, const struct ca_acme_account *a)
{
	json_t *o, *c;

	c = json_loads(a->contact ? a->contact : "[]", 0, NULL);
	o = json_pack("{s:s, s:o, s:o}", "status",
	    ca_acme_status_name(a->status), "contact", c ? c : json_array(),
	    "orders", jurl(q, "orders", a->id, NULL));
	return o;
}

static json_t *
order_json(const struct areq *q, const struct ca_acme_order *o)
{
	json_t *j, *az, *ids, *e;
	size_t i;

	ids = json_loads(o->identifiers, 0, NULL);
	az = json_array();
	for (i = 0; az != NULL && i < o->nauthzs; i++)
		json_array_append_new(az, jurl(q, "authz", o->authzs[i], NULL));
	j = json_pack("{s:s, s:o, s:o, s:o, s:o}", "status",
	    ca_acme_status_name(o->status), "expires", jtime(o->expires),
	    "identifiers", ids ? ids : json_array(), "authorizations",
	    az ? az : json_array(), "finalize", jurl(q, "order", o->id,
	    "/finalize"));
	if (j == NULL)
		return NULL;
	if (o->not_after != 0)
		json_object_set_new(j, "notAfter", jtime(o->not_after));
	if (o->status == CA_ACME_VALID && o->serial != NULL)
		json_object_set_new(j, "certificate", jurl(q, "cert", o->id,
		    NULL));
	if (o->error != NULL && (e = json_loads(o->error, 0, NULL)) != NULL)
		json_object_set_new(j, "error", e);
	return j;
}

static json_t *
chall_json(const struct areq *q, const struct ca_acme_authz *a,
    const struct ca_acme_chall *c)
{
	json_t *j, *e;

	j = json_pack("{s:s, s:o, s:s, s:s}", "type", c->type, "url",
	    jurl(q, "chall", c->id, NULL), "token", a->token, "status",
	    ca_acme_status_name(c->status));
	if (j == NULL)
		return NULL;
	if (c->validated != 0)
		json_object_set_new(j, "validated", jtime(c->validated));
	if (c->error != NULL && (e = json_loads(c->error, 0, NULL)) != NULL)
		json_object_set_new(j, "error", e);
	return j;
}

static json_t *
authz_json(const struct areq *q, const struct ca_acme_authz *a)
{
	json_t *j, *ch;
	size_t i;

	ch = json_array();
	for (i = 0; ch != NULL && i < a->nch; i++)
		json_array_append_new(ch, chall_json(q, a, &a->ch[i]));
	j = json_pack("{s:{s:s, s:s}, s:s, s:o, s:o}", "identifier", "type",
	    a->ident.type, "value", a->ident.value, "status",
	    ca_acme_status_name(a->status), "expires", jtime(a->expires),
	    "challenges", ch ? ch : json_array());
	if (j != NULL && a->ident.wildcard)
		json_object_set_new(j, "wildcard", json_true());
	return j;
}

static void
location(struct areq *q, const char *kind, const char *id)
{
	snprintf(q->r->location, sizeof(q->r->location), "%s/%s/%s", q->base,
	    kind, id);
}

/* ---- endpoints ---- */

static void
ep_directory(struct areq *q)
{
	json_t *o;
	char u[6][KD_URL_MAX + 32];
	static const char *const names[6] = { "new-nonce", "new-account",
	    "new-order", "revoke-cert", "key-change", "" };
	size_t i;

	for (i = 0; i < 5; i++)
		snprintf(u[i], sizeof(u[i]), "%s/%s", q->base, names[i]);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:b}}", "newNonce", u[0],
	    "newAccount", u[1], "newOrder", u[2], "revokeCert", u[3],
	    "keyChange", u[4], "meta", "externalAccountRequired",
	    q->ap->eab);
	reply_json(q, 200, o);
}

/* Is the CSR or certificate key the account's own key? */
static int
same_key(EVP_PKEY *pk, const char *jwk)
{
	struct ca_jws_key *a = NULL, *b = NULL;
	struct kr_error e;
	int same;

	if (ca_jws_key_from_pkey(pk, &a, &e) != KR_OK ||
	    ca_jws_key_parse(jwk, strlen(jwk), &b, &e) != KR_OK) {
		ca_jws_key_free(a);
		return 0;
	}
	same = ca_jws_key_equal(a, b);
	ca_jws_key_free(a);
	ca_jws_key_free(b);
	return same;
}

static void
ep_new_account(struct areq *q)
{
	struct ca_acme_newacct na;
	struct ca_acme_account a;
	struct kr_error e;
	json_t *jwk = NULL;
	char *kid = NULL, prov[65], url[KD_URL_MAX + 32];
	char thumb[CA_JWS_THUMBPRINT_LEN];
	uint8_t hkey[CA_ACME_EAB_KEY_LEN];
	int used = 0;
	enum kr_err rc;

	memset(&a, 0, sizeof(a));
	if (q->j.key == NULL) {
		ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 400, "newAccount is "
		    "signed with the new account's key (\"jwk\"), not a "
		    "\"kid\"");
		goto fail;
	}
	if (ca_acme_parse_newacct(q->j.body, &na, &q->ae) != 0)
		goto fail;
	ca_jws_key_thumbprint(q->j.key, thumb);
	rc = ca_acme_account_by_thumb(q->st, thumb, &a, &e);
	if (rc == KR_OK) {
		/* RFC 8555 7.3.1: the existing account, 200. */
		location(q, "account", a.id);
		reply_json(q, 200, account_json(q, &a));
		ca_acme_account_clear(&a);
		return;
	}
	if (rc != KR_E_NOTFOUND) {
		ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "%s", e.msg);
		goto fail;
	}
	if (na.only_existing) {
		ca_acme_fail(&q->ae, CA_ACME_ACCOUNT_DNE, 400, "no account "
		    "has this key");
		goto fail;
	}
	if (q->ap->eab && na.eab == NULL) {
		ca_acme_fail(&q->ae, CA_ACME_EAB_REQUIRED, 400, "provisioner "
		    "%s needs an external account binding (keyrited "
		    "provisioner add --acme --eab prints the key id and key)",
		    q->ap->p->name);
		goto fail;
	}
	if (na.eab != NULL) {
		snprintf(url, sizeof(url), "%s/new-account", q->base);
		if (ca_acme_eab_kid(na.eab, &kid, &q->ae) != 0)
			goto fail;
		rc = ca_acme_eab_get(q->st, kid, prov, hkey, &used, &e);
		if (rc != KR_OK || strcmp(prov, q->ap->p->name) != 0 || used) {
			ca_acme_fail(&q->ae, CA_ACME_UNAUTHORIZED, 403,
			    "externalAccountBinding: key id %.40s is %s", kid,
			    rc != KR_OK || strcmp(prov, q->ap->p->name) ?
			    "not one of this provisioner's" : "used already");
			sodium_memzero(hkey, sizeof(hkey));
			goto fail;
		}
		rc = ca_acme_eab_verify(na.eab, hkey, sizeof(hkey), url,
		    q->j.key, &q->ae) == 0 ? KR_OK : KR_E_AUTH;
		sodium_memzero(hkey, sizeof(hkey));
		if (rc != KR_OK)
			goto fail;
	}
	ca_acme_random_id(a.id);
	memcpy(a.thumb, thumb, sizeof(a.thumb));
	snprintf(a.prov, sizeof(a.prov), "%s", q->ap->p->name);
	a.status = CA_ACME_VALID;
	if (ca_jws_key_to_json(q->j.key, &jwk, &e) != KR_OK ||
	    (a.jwk = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    (a.contact = na.contact ? json_dumps(na.contact, JSON_COMPACT) :
	    strdup("[]")) == NULL) {
		ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "out of "
		    "memory");
		goto fail;
	}
	if ((rc = ca_acme_account_new(q->st, &a, kid, q->now, &e)) ==
	    KR_E_EXISTS && kid == NULL) {
		/* The same key, registered meanwhile: that account. */
		ca_acme_account_clear(&a);
		if (ca_acme_account_by_thumb(q->st, thumb, &a, &e) == KR_OK) {
			location(q, "account", a.id);
			reply_json(q, 200, account_json(q, &a));
			goto out;
		}
	}
	if (rc != KR_OK) {
		ca_acme_fail(&q->ae, rc == KR_E_AUTH ? CA_ACME_UNAUTHORIZED :
		    CA_ACME_SERVER_INTERNAL, rc == KR_E_AUTH ? 403 : 500, "%s",
		    e.msg);
		goto fail;
	}
	location(q, "account", a.id);
	reply_json(q, 201, account_json(q, &a));
	goto out;
fail:
	problem(q);
out:
	free(kid);
	json_decref(jwk);
	ca_acme_account_clear(&a);
}

static void
ep_account(struct areq *q, const char *id)
{
	static const char *const names[] = { "status", "contact",
	    "termsOfServiceAgreed", NULL };
	const json_t *st, *ct;
	struct ca_acme_newacct na;
	struct kr_error e;
	char *contact = NULL;
	const char *k;
	json_t *v, *sub;
	size_t i;

	if (strcmp(id, q->acct.id) != 0) {
		ca_acme_fail(&q->ae, CA_ACME_UNAUTHORIZED, 403, "this is not "
		    "the account that signed the request");
		goto fail;
	}
	if (q->j.body != NULL) {
		json_object_foreach(q->j.body, k, v) {
			for (i = 0; names[i] != NULL; i++)
				if (strcmp(k, names[i]) == 0)
					break;
			if (names[i] == NULL) {
				ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 400,
				    "account update: unknown member \"%.40s\"",
				    k);
				goto fail;
			}
		}
		st = json_object_get(q->j.body, "status");
		ct = json_object_get(q->j.body, "contact");
		if (st != NULL && (!json_is_string(st) ||
		    strcmp(json_string_value(st), "deactivated") != 0)) {
			ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 400, "account "
			    "update: \"status\" may only be \"deactivated\"");
			goto fail;
		}
		if (ct != NULL) {
			if ((sub = json_pack("{s:O}", "contact", ct)) == NULL)
				goto oom;
			i = (size_t)ca_acme_parse_newacct(sub, &na, &q->ae);
			json_decref(sub);
			if (i != 0)
				goto fail;
			if ((contact = json_dumps(ct, JSON_COMPACT)) == NULL)
				goto oom;
		}
		if (st != NULL)
			q->acct.status = CA_ACME_DEACTIVATED;
		if ((st != NULL || ct != NULL) && ca_acme_account_update(q->st,
		    q->acct.id, q->acct.status, contact, NULL, NULL, &e) !=
		    KR_OK) {
			ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500,
			    "%s", e.msg);
			goto fail;
		}
		if (contact != NULL) {
			free(q->acct.contact);
			q->acct.contact = contact;
			contact = NULL;
		}
	}
	location(q, "account", q->acct.id);
	reply_json(q, 200, account_json(q, &q->acct));
	free(contact);
	return;
oom:
	ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "out of memory");
fail:
	free(contact);
	problem(q);
}

/* Is the identifier one the provisioner and the constraints allow? */
static int
ident_allowed(struct areq *q, const struct ca_acme_ident *id)
{
	const char *one[1] = { id->value };
	struct kr_error e;

	if (id->wildcard)
		return ca_acme_fail(&q->ae, CA_ACME_REJECTED_IDENTIFIER, 400,
		    "%s: keyrited does not issue wildcard certificates",
		    id->value);
	if (ca_prov_check_names(q->ap->p, id->value, NULL, 0, &e) != KR_OK)
		return ca_acme_fail(&q->ae, CA_ACME_REJECTED_IDENTIFIER, 400,
		    "%s is not allowed for ACME provisioner %s", id->value,
		    q->ap->p->name);
	if ((strcmp(id->type, "ip") == 0 ? ca_names_check(q->ca->cert, NULL,
	    0, one, 1, &e) : ca_names_check(q->ca->cert, one, 1, NULL, 0,
	    &e)) != KR_OK)
		return ca_acme_fail(&q->ae, CA_ACME_REJECTED_IDENTIFIER, 400,
		    "%s", e.msg);
	return 0;
}

static void
ep_new_order(struct areq *q)
{
	struct ca_acme_neworder no;
	struct ca_acme_order o;
	struct ca_acme_authz *az = NULL;
	struct kr_error e;
	json_t *ids = NULL;
	size_t i;

	memset(&o, 0, sizeof(o));
	if (ca_acme_parse_neworder(q->j.body, &no, &q->ae) != 0)
		goto fail;
	for (i = 0; i < no.nids; i++)
		if (ident_allowed(q, &no.ids[i]) != 0)
			goto fail;
	if (no.not_after != 0 && no.not_after < q->now + KD_LIFETIME_LEFT_MIN) {
		ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 400, "newOrder: "
		    "notAfter is in the past or too close");
		goto fail;
	}
	if ((az = calloc(no.nids, sizeof(*az))) == NULL ||
	    (ids = json_array()) == NULL)
		goto oom;
	ca_acme_random_id(o.id);
	snprintf(o.account, sizeof(o.account), "%s", q->acct.id);
	snprintf(o.prov, sizeof(o.prov), "%s", q->ap->p->name);
	o.status = CA_ACME_PENDING;
	o.expires = q->now + q->ca->cfg.acme_order_lifetime;
	o.not_before = no.not_before;
	o.not_after = no.not_after;
	if ((o.authzs = calloc(no.nids, sizeof(*o.authzs))) == NULL)
		goto oom;
	for (i = 0; i < no.nids; i++) {
		if (json_array_append_new(ids, json_pack("{s:s, s:s}", "type",
		    no.ids[i].type, "value", no.ids[i].value)) != 0)
			goto oom;
		ca_acme_random_id(az[i].id);
		az[i].ident = no.ids[i];
		az[i].status = CA_ACME_PENDING;
		az[i].expires = o.expires;
		ca_acme_random_id(az[i].token);
		/*
		 * http-01 for every identifier; tls-alpn-01 (RFC 8737) and
		 * dns-01 for DNS names only: an IP address is validated
		 * over http-01 (RFC 8738 section 7 lets the server choose).
		 */
		snprintf(az[i].ch[0].type, sizeof(az[i].ch[0].type),
		    "http-01");
		az[i].nch = 1;
		if (strcmp(no.ids[i].type, "dns") == 0) {
			snprintf(az[i].ch[1].type, sizeof(az[i].ch[1].type),
			    "tls-alpn-01");
			snprintf(az[i].ch[2].type, sizeof(az[i].ch[2].type),
			    "dns-01");
			az[i].nch = 3;
		}
		for (size_t k = 0; k < az[i].nch; k++) {
			ca_acme_random_id(az[i].ch[k].id);
			az[i].ch[k].status = CA_ACME_PENDING;
		}
		if ((o.authzs[i] = strdup(az[i].id)) == NULL)
			goto oom;
		o.nauthzs++;
	}
	if ((o.identifiers = json_dumps(ids, JSON_COMPACT)) == NULL)
		goto oom;
	if (ca_acme_order_new(q->st, &o, az, no.nids, q->now, &e) != KR_OK) {
		ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "%s", e.msg);
		goto fail;
	}
	location(q, "order", o.id);
	reply_json(q, 201, order_json(q, &o));
	goto out;
oom:
	ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "out of memory");
fail:
	problem(q);
out:
	json_decref(ids);
	free(az);
	ca_acme_neworder_clear(&no);
	ca_acme_order_clear(&o);
}

/* Load order id of this account; -1 after setting the problem. */
static int
own_order(struct areq *q, const char *id, struct ca_acme_order *o)
{
	struct kr_error e;
	enum kr_err rc;

	if ((rc = ca_acme_order_get(q->st, id, q->now, o, &e)) != KR_OK)
		return ca_acme_fail(&q->ae, rc == KR_E_NOTFOUND ?
		    CA_ACME_MALFORMED : CA_ACME_SERVER_INTERNAL, rc ==
		    KR_E_NOTFOUND ? 404 : 500, "%s", e.msg);
	if (strcmp(o->account, q->acct.id) != 0) {
		ca_acme_order_clear(o);
		return ca_acme_fail(&q->ae, CA_ACME_UNAUTHORIZED, 403, "the "
		    "order belongs to another account");
	}
	return 0;
}

static void
ep_order(struct areq *q, const char *id)
{
	struct ca_acme_order o;

	if (own_order(q, id, &o) != 0) {
		problem(q);
		return;
	}
	if (o.status == CA_ACME_PROCESSING)
		q->r->retry_after = 1;
	reply_json(q, 200, order_json(q, &o));
	ca_acme_order_clear(&o);
}

static void
ep_orders(struct areq *q, const char *id)
{
	struct kr_error e;
	char **ids = NULL;
	size_t n = 0, i;
	json_t *a;

	if (strcmp(id, q->acct.id) != 0) {
		ca_acme_fail(&q->ae, CA_ACME_UNAUTHORIZED, 403, "another "
		    "account's orders");
		problem(q);
		return;
	}
	if (ca_acme_orders_of(q->st, id, q->now, &ids, &n, &e) != KR_OK) {
		ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "%s", e.msg);
		problem(q);
		return;
	}
	a = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(a, jurl(q, "order", ids[i], NULL));
		free(ids[i]);
	}
	free(ids);
	reply_json(q, 200, json_pack("{s:o}", "orders", a));
}

static int
own_authz(struct areq *q, struct ca_acme_authz *a, enum kr_err rc,
    const struct kr_error *e)
{
	if (rc != KR_OK)
		return ca_acme_fail(&q->ae, rc == KR_E_NOTFOUND ?
		    CA_ACME_MALFORMED : CA_ACME_SERVER_INTERNAL, rc ==
		    KR_E_NOTFOUND ? 404 : 500, "%s", e->msg);
	if (strcmp(a->account, q->acct.id) != 0) {
		ca_acme_authz_clear(a);
		return ca_acme_fail(&q->ae, CA_ACME_UNAUTHORIZED, 403, "the "
		    "authorization belongs to another account");
	}
	return 0;
}

static void
ep_authz(struct areq *q, const char *id)
{
	struct ca_acme_authz a;
	struct kr_error e;
	const json_t *st;
	enum kr_err rc;

	rc = ca_acme_authz_get(q->st, id, q->now, &a, &e);
	if (own_authz(q, &a, rc, &e) != 0) {
		problem(q);
		return;
	}
	if (q->j.body != NULL && (st = json_object_get(q->j.body, "status")) !=
	    NULL) {
		if (!json_is_string(st) || strcmp(json_string_value(st),
		    "deactivated") != 0 || json_object_size(q->j.body) != 1) {
			ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 400, "an "
			    "authorization update may only set \"status\" to "
			    "\"deactivated\"");
			goto fail;
		}
		if (ca_acme_authz_deactivate(q->st, id, &e) != KR_OK) {
			ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 400, "%s",
			    e.msg);
			goto fail;
		}
		a.status = CA_ACME_DEACTIVATED;
	}
	reply_json(q, 200, authz_json(q, &a));
	ca_acme_authz_clear(&a);
	return;
fail:
	ca_acme_authz_clear(&a);
	problem(q);
}

static void
ep_chall(struct areq *q, const char *id)
{
	struct ca_acme_authz a;
	struct ca_acme_chall *c = NULL;
	struct ca_acme_err ve;
	struct ca_jws_key *k = NULL;
	struct kr_error e;
	char keyauth[128], *pj = NULL;
	enum kr_err rc;
	size_t i;
	int ok;

	rc = ca_acme_authz_by_chall(q->st, id, q->now, &a, &e);
	if (own_authz(q, &a, rc, &e) != 0) {
		problem(q);
		return;
	}
	for (i = 0; i < a.nch; i++)
		if (strcmp(a.ch[i].id, id) == 0)
			c = &a.ch[i];
	if (c == NULL) {
		ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "the "
		    "challenge vanished");
		goto fail;
	}
	snprintf(q->r->link[0], sizeof(q->r->link[0]), "<%s/authz/%s>;"
	    "rel=\"up\"", q->base, a.id);
	/* POST-as-GET reads; a payload of {} asks to validate. */
	if (q->j.body != NULL && json_object_size(q->j.body) != 0) {
		ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 400, "a challenge "
		    "response is the empty object {}");
		goto fail;
	}
	if (q->j.body != NULL && c->status == CA_ACME_PENDING) {
		if (a.status != CA_ACME_PENDING) {
			ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 400, "the "
			    "authorization is %s; it cannot be validated",
			    ca_acme_status_name(a.status));
			goto fail;
		}
		if (ca_jws_key_parse(q->acct.jwk, strlen(q->acct.jwk), &k,
		    &e) != KR_OK) {
			ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500,
			    "%s", e.msg);
			goto fail;
		}
		ca_acme_key_authz(a.token, k, keyauth, sizeof(keyauth));
		ca_jws_key_free(k);
		memset(&ve, 0, sizeof(ve));
		if (strcmp(c->type, "http-01") == 0)
			ok = kd_acme_http01(&q->ca->cfg, a.ident.value,
			    a.token, keyauth, &ve);
		else if (strcmp(c->type, "tls-alpn-01") == 0)
			ok = kd_acme_tlsalpn01(&q->ca->cfg, a.ident.value,
			    keyauth, &ve);
		else
			ok = kd_acme_dns01(&q->ca->cfg, a.ident.value, keyauth,
			    &ve);
		if (ok != 0) {
			ve.http = 400;
			if ((pj = ca_acme_problem_json(&ve)) == NULL) {
				ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL,
				    500, "out of memory");
				goto fail;
			}
		}
		rc = ca_acme_chall_done(q->st, c->id, ok == 0, pj, q->now, &e);
		if (rc == KR_OK) {
			c->status = ok == 0 ? CA_ACME_VALID : CA_ACME_INVALID;
			c->validated = ok == 0 ? q->now : 0;
			free(c->error);
			c->error = pj;
			pj = NULL;
		} else if (rc != KR_E_STATE) {
			ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500,
			    "%s", e.msg);
			goto fail;
		}
	}
	reply_json(q, 200, chall_json(q, &a, c));
	free(pj);
	ca_acme_authz_clear(&a);
	return;
fail:
	free(pj);
	ca_acme_authz_clear(&a);
	problem(q);
}

/* The names of the order, as strings (pointers into ids). */
static int
order_names(const char *identifiers, json_t **ids, const char ***names,
    size_t *n)
{
	json_t *v;
	size_t i;

	*n = 0;
	*names = NULL;
	if ((*ids = json_loads(identifiers, 0, NULL)) == NULL ||
	    (*names = calloc(json_array_size(*ids) + 1, sizeof(**names))) ==
	    NULL)
		return -1;
	json_array_foreach(*ids, i, v)
		(*names)[(*n)++] = json_string_value(json_object_get(v,
		    "value"));
	return 0;
}

/* The problem a kd_issue refusal is, by its code (docs/api.md). */
static void
issue_problem(struct areq *q, const struct kd_err *ke)
{
	enum ca_acme_prob t = CA_ACME_SERVER_INTERNAL;
	int http = ke->http;

	if (strcmp(ke->code, "name_not_allowed") == 0 ||
	    strcmp(ke->code, "name_outside_constraints") == 0)
		t = CA_ACME_REJECTED_IDENTIFIER;
	else if (strcmp(ke->code, "bad_csr") == 0 ||
	    strcmp(ke->code, "policy") == 0 ||
	    strcmp(ke->code, "bad_request") == 0)
		t = CA_ACME_BAD_CSR;
	if (t != CA_ACME_SERVER_INTERNAL)
		http = 400;
	ca_acme_fail(&q->ae, t, http, "%s", ke->e.msg);
}

static void
ep_finalize(struct areq *q, const char *id)
{
	struct ca_acme_order o;
	struct kd_issue_req ir;
	struct kd_issued is;
	struct kd_err ke;
	struct kr_error e;
	X509_REQ *csr = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	EVP_PKEY *pk;
	const unsigned char *p;
	const char **names = NULL;
	char **want = NULL, other[300], *pj = NULL;
	uint8_t *der = NULL;
	size_t dlen = 0, n = 0, nwant = 0, i, k;
	json_t *ids = NULL;
	long long life = 0;
	int failed_issue = 0;
	enum kr_err rc;

	memset(&is, 0, sizeof(is));
	if (own_order(q, id, &o) != 0) {
		problem(q);
		return;
	}
	if (o.status != CA_ACME_READY) {
		ca_acme_fail(&q->ae, CA_ACME_ORDER_NOT_READY, 403, "the order "
		    "is %s, not ready: %s", ca_acme_status_name(o.status),
		    o.status == CA_ACME_PENDING ? "complete its "
		    "authorizations first" : "it cannot be finalized");
		goto fail;
	}
	if (ca_acme_parse_finalize(q->j.body, &der, &dlen, &q->ae) != 0)
		goto fail;
	p = der;
	if ((csr = d2i_X509_REQ(NULL, &p, (long)dlen)) == NULL ||
	    p != der + dlen) {
		ERR_clear_error();
		ca_acme_fail(&q->ae, CA_ACME_BAD_CSR, 400, "finalize: the CSR "
		    "is not DER PKCS#10");
		goto fail;
	}
	if ((pk = X509_REQ_get0_pubkey(csr)) == NULL ||
	    X509_REQ_verify(csr, pk) != 1) {
		ERR_clear_error();
		ca_acme_fail(&q->ae, CA_ACME_BAD_CSR, 400, "finalize: the "
		    "CSR's signature does not verify");
		goto fail;
	}
	if (same_key(pk, q->acct.jwk)) {
		ca_acme_fail(&q->ae, CA_ACME_BAD_CSR, 400, "finalize: the "
		    "certificate key must not be the account key");
		goto fail;
	}
	other[0] = '\0';
	exts = X509_REQ_get_extensions(csr);
	ERR_clear_error();
	if (order_names(o.identifiers, &ids, &names, &n) != 0 ||
	    kd_csr_names(X509_REQ_get_subject_name(csr), exts, &want, &nwant,
	    other, sizeof(other)) != 0) {
		ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "out of "
		    "memory");
		goto fail;
	}
	if (other[0] != '\0') {
		ca_acme_fail(&q->ae, CA_ACME_BAD_CSR, 400, "finalize: the CSR "
		    "asks for %s, which is not an identifier of the order",
		    other);
		goto fail;
	}
	/* Exactly the order's names (RFC 8555 section 7.4). */
	for (i = 0; i < nwant; i++) {
		for (k = 0; k < n; k++)
			if (strcasecmp(want[i], names[k]) == 0)
				break;
		if (k == n) {
			ca_acme_fail(&q->ae, CA_ACME_BAD_CSR, 400, "finalize: "
			    "the CSR asks for %s, which is not an identifier "
			    "of the order", want[i]);
			goto fail;
		}
	}
	for (k = 0; k < n; k++) {
		for (i = 0; i < nwant; i++)
			if (strcasecmp(want[i], names[k]) == 0)
				break;
		if (i == nwant) {
			ca_acme_fail(&q->ae, CA_ACME_BAD_CSR, 400, "finalize: "
			    "the CSR does not ask for %s, an identifier of the "
			    "order", names[k]);
			goto fail;
		}
	}
	if ((rc = ca_acme_order_set(q->st, o.id, CA_ACME_READY,
	    CA_ACME_PROCESSING, NULL, NULL, &e)) != KR_OK) {
		if (rc == KR_E_STATE)
			ca_acme_fail(&q->ae, CA_ACME_ORDER_NOT_READY, 403, "the "
			    "order is being finalized already");
		else
			ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500,
			    "%s", e.msg);
		goto fail;
	}
	/*
	 * A lifetime counts from notBefore, the profile's backdate ago: so
	 * the certificate ends at the notAfter the order asked for.
	 */
	if (o.not_after != 0)
		life = (long long)(o.not_after - q->now) +
		    q->ca->profile.backdate;
	memset(&ir, 0, sizeof(ir));
	ir.pub = pk;
	ir.names = names;
	ir.nnames = n;
	ir.lifetime = life;
	ir.prov = q->ap->p;
	ir.provname = q->ap->p->name;
	if (kd_issue(q->ca, &ir, &is, &ke) != 0) {
		issue_problem(q, &ke);
		failed_issue = 1;
		pj = ca_acme_problem_json(&q->ae);
		(void)ca_acme_order_set(q->st, o.id, CA_ACME_PROCESSING,
		    CA_ACME_INVALID, pj, NULL, &e);
		goto fail;
	}
	q->r->issued = 1;
	if (ca_acme_order_set(q->st, o.id, CA_ACME_PROCESSING, CA_ACME_VALID,
	    NULL, is.serial, &e) != KR_OK) {
		ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "%s", e.msg);
		goto fail;
	}
	o.status = CA_ACME_VALID;
	free(o.serial);
	o.serial = strdup(is.serial);
	location(q, "order", o.id);
	reply_json(q, 200, order_json(q, &o));
	goto out;
fail:
	(void)failed_issue;
	problem(q);
out:
	free(pj);
	kd_issued_clear(&is);
	kd_names_free(want, nwant);
	free(names);
	json_decref(ids);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(csr);
	free(der);
	ca_acme_order_clear(&o);
}

static void
ep_cert(struct areq *q, const char *id)
{
	struct ca_acme_order o;
	struct ca_store_rec rec;
	struct kr_error e;
	const unsigned char *p;
	X509 *x = NULL;
	char *leaf = NULL, *s = NULL;
	size_t a, b;

	memset(&rec, 0, sizeof(rec));
	if (own_order(q, id, &o) != 0) {
		problem(q);
		return;
	}
	if (o.status != CA_ACME_VALID || o.serial == NULL) {
		ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 404, "the order has "
		    "no certificate");
		goto fail;
	}
	if (ca_store_get(q->st, q->ca->kid, o.serial, &rec, &e) != KR_OK ||
	    rec.der == NULL) {
		ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "the "
		    "certificate %s is not in the store", o.serial);
		goto fail;
	}
	p = rec.der;
	if ((x = d2i_X509(NULL, &p, (long)rec.der_len)) == NULL ||
	    (leaf = kd_cert_pem(x)) == NULL) {
		ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "the "
		    "stored certificate cannot be read");
		goto fail;
	}
	a = strlen(leaf);
	b = strlen(q->ca->chain_pem);
	if ((s = malloc(a + b + 1)) == NULL) {
		ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "out of "
		    "memory");
		goto fail;
	}
	memcpy(s, leaf, a);
	memcpy(s + a, q->ca->chain_pem, b + 1);
	set_body(q->r, 200, "application/pem-certificate-chain", s);
	goto out;
fail:
	problem(q);
out:
	free(leaf);
	X509_free(x);
	ca_store_rec_clear(&rec);
	ca_acme_order_clear(&o);
}

static void
ep_revoke(struct areq *q)
{
	struct ca_acme_order o;
	struct ca_store_rec rec;
	struct ca_jws_key *ck = NULL;
	struct kr_error e;
	const unsigned char *p;
	uint8_t *der = NULL;
	size_t len = 0;
	char *serial = NULL;
	X509 *x = NULL;
	int reason, ok = 0;

	memset(&rec, 0, sizeof(rec));
	memset(&o, 0, sizeof(o));
	if (ca_acme_parse_revoke(q->j.body, &der, &len, &reason, &q->ae) != 0)
		goto fail;
	p = der;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len ||
	    X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(q->ca->cert)) != 0 ||
	    X509_verify(x, X509_get0_pubkey(q->ca->cert)) != 1 ||
	    (serial = ca_serial_hex(X509_get0_serialNumber(x))) == NULL ||
	    ca_store_get(q->st, q->ca->kid, serial, &rec, &e) != KR_OK ||
	    rec.der == NULL || rec.der_len != len ||
	    memcmp(rec.der, der, len) != 0) {
		ERR_clear_error();
		ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 404, "revokeCert: not "
		    "a certificate this signer issued");
		goto fail;
	}
	if (q->j.key != NULL) {
		/* Signed by the certificate's key. */
		ok = ca_jws_key_from_pkey(X509_get0_pubkey(x), &ck, &e) ==
		    KR_OK && ca_jws_key_equal(ck, q->j.key);
	} else {
		/* By the account that ordered it. */
		ok = ca_acme_order_by_serial(q->st, serial, &o, &e) == KR_OK &&
		    strcmp(o.account, q->acct.id) == 0;
	}
	if (!ok) {
		ca_acme_fail(&q->ae, CA_ACME_UNAUTHORIZED, 403, "revokeCert: "
		    "neither the certificate's key nor the account that "
		    "ordered it signed this request");
		goto fail;
	}
	if (rec.status == CA_STORE_REVOKED) {
		ca_acme_fail(&q->ae, CA_ACME_ALREADY_REVOKED, 400, "revokeCert: "
		    "%s is revoked already", serial);
		goto fail;
	}
	if (ca_store_group_revoke(q->ca->group, q->ca->kid, serial, reason,
	    q->now, &e) != KR_OK) {
		ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "%s", e.msg);
		goto fail;
	}
	q->r->revoked = 1;
	set_body(q->r, 200, NULL, NULL);
	goto out;
fail:
	problem(q);
out:
	ca_jws_key_free(ck);
	ca_acme_order_clear(&o);
	ca_store_rec_clear(&rec);
	free(serial);
	X509_free(x);
	free(der);
}

static void
ep_key_change(struct areq *q)
{
	struct ca_acme_jws in;
	struct ca_acme_err ie;
	struct ca_jws_key *old = NULL;
	struct ca_acme_account other;
	struct kr_error e;
	const json_t *acc, *ok;
	json_t *jwk = NULL;
	char *text = NULL, acct_url[KD_URL_MAX + 64],
	    thumb[CA_JWS_THUMBPRINT_LEN];
	enum kr_err rc;

	memset(&in, 0, sizeof(in));
	memset(&other, 0, sizeof(other));
	if (q->j.payload_len == 0 || (text = strndup((const char *)
	    q->j.payload, q->j.payload_len)) == NULL) {
		ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 400, "keyChange: the "
		    "payload must be a JWS");
		goto fail;
	}
	if (ca_acme_jws_parse(text, strlen(text), &in, &ie) != 0 ||
	    in.key == NULL || in.nonce != NULL ||
	    strcmp(in.url, q->j.url) != 0 ||
	    ca_acme_jws_verify(&in, in.key, &ie) != 0 || in.body == NULL) {
		ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 400, "keyChange: the "
		    "inner JWS must be signed by the new key (\"jwk\"), carry "
		    "the same \"url\" and no \"nonce\"");
		goto fail;
	}
	snprintf(acct_url, sizeof(acct_url), "%s/account/%s", q->base,
	    q->acct.id);
	acc = json_object_get(in.body, "account");
	ok = json_object_get(in.body, "oldKey");
	if (!json_is_string(acc) || strcmp(json_string_value(acc),
	    acct_url) != 0 || ok == NULL || json_object_size(in.body) != 2 ||
	    ca_jws_key_from_json(ok, &old, &e) != KR_OK ||
	    !same_key(ca_jws_key_pkey(old), q->acct.jwk)) {
		ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 400, "keyChange: the "
		    "inner payload must name this account and its current "
		    "key as oldKey");
		goto fail;
	}
	ca_jws_key_thumbprint(in.key, thumb);
	if (ca_acme_account_by_thumb(q->st, thumb, &other, &e) == KR_OK) {
		location(q, "account", other.id);
		ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 409, "keyChange: "
		    "another account has the new key");
		goto fail;
	}
	if (ca_jws_key_to_json(in.key, &jwk, &e) != KR_OK) {
		ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "%s", e.msg);
		goto fail;
	}
	free(text);
	if ((text = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    (rc = ca_acme_account_update(q->st, q->acct.id, q->acct.status,
	    NULL, text, thumb, &e)) != KR_OK) {
		ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500, "%s",
		    text ? e.msg : "out of memory");
		goto fail;
	}
	location(q, "account", q->acct.id);
	reply_json(q, 200, account_json(q, &q->acct));
	goto out;
fail:
	problem(q);
out:
	free(text);
	json_decref(jwk);
	ca_jws_key_free(old);
	ca_acme_account_clear(&other);
	ca_acme_jws_clear(&in);
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

/* The account the kid URL names; 0, or -1 with the problem set. */
static int
kid_account(struct areq *q)
{
	char pre[KD_URL_MAX + 32];
	struct kr_error e;
	size_t n;
	enum kr_err rc;

	n = (size_t)snprintf(pre, sizeof(pre), "%s/account/", q->base);
	if (strncmp(q->j.kid, pre, n) != 0 || strlen(q->j.kid + n) !=
	    CA_ACME_ID_LEN)
		return ca_acme_fail(&q->ae, CA_ACME_ACCOUNT_DNE, 400, "\"kid\" "
		    "is not an account URL of this directory");
	if ((rc = ca_acme_account_get(q->st, q->j.kid + n, &q->acct, &e)) !=
	    KR_OK)
		return ca_acme_fail(&q->ae, rc == KR_E_NOTFOUND ?
		    CA_ACME_ACCOUNT_DNE : CA_ACME_SERVER_INTERNAL, rc ==
		    KR_E_NOTFOUND ? 400 : 500, "%s", e.msg);
	if (strcmp(q->acct.prov, q->ap->p->name) != 0)
		return ca_acme_fail(&q->ae, CA_ACME_ACCOUNT_DNE, 400, "the "
		    "account belongs to another directory");
	if (q->acct.status != CA_ACME_VALID)
		return ca_acme_fail(&q->ae, CA_ACME_UNAUTHORIZED, 403, "the "
		    "account is %s", ca_acme_status_name(q->acct.status));
	return 0;
}

/* Is the path "kind/ID" (or "kind/ID/suffix")?  *id points at ID. */
static int
path_is(const char *rest, const char *kind, const char *suffix,
    char id[CA_ACME_ID_LEN + 1])
{
	size_t k = strlen(kind), n;

	if (strncmp(rest, kind, k) != 0 || rest[k] != '/')
		return 0;
	rest += k + 1;
	n = strcspn(rest, "/");
	if (n != CA_ACME_ID_LEN)
		return 0;
	if (suffix == NULL ? rest[n] != '\0' : strcmp(rest + n, suffix) != 0)
		return 0;
	memcpy(id, rest, n);
	id[n] = '\0';
	return 1;
}

static void
post(struct areq *q, const char *method, const char *ctype,
    const char *body, size_t len)
{
	struct ca_jws_key *key = NULL;
	struct kr_error e;
	char want[KD_URL_MAX + 128], id[CA_ACME_ID_LEN + 1];
	const struct ca_jws_key *vk;
	enum kr_err rc;
	int jwk_ok;

	(void)method;
	if (ctype == NULL || strncasecmp(ctype, "application/jose+json", 21)
	    != 0) {
		ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 415, "Content-Type "
		    "must be application/jose+json");
		goto fail;
	}
	if (ca_acme_jws_parse(body, len, &q->j, &q->ae) != 0)
		goto fail;
	snprintf(want, sizeof(want), "%s/%s", q->base, q->rest);
	if (strcmp(q->j.url, want) != 0) {
		ca_acme_fail(&q->ae, CA_ACME_UNAUTHORIZED, 403, "the JWS "
		    "\"url\" is %.200s, but this request went to %s", q->j.url,
		    want);
		goto fail;
	}
	if (q->j.nonce == NULL) {
		ca_acme_fail(&q->ae, CA_ACME_BAD_NONCE, 400, "the JWS has no "
		    "\"nonce\"");
		goto fail;
	}
	if ((rc = ca_acme_nonce_use(q->st, q->j.nonce, q->now, &e)) != KR_OK) {
		ca_acme_fail(&q->ae, rc == KR_E_AUTH ? CA_ACME_BAD_NONCE :
		    CA_ACME_SERVER_INTERNAL, rc == KR_E_AUTH ? 400 : 500,
		    "%s", e.msg);
		goto fail;
	}
	jwk_ok = strcmp(q->rest, "new-account") == 0 ||
	    strcmp(q->rest, "revoke-cert") == 0;
	if (q->j.key != NULL && !jwk_ok) {
		ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 400, "this request "
		    "must be signed with the account's \"kid\", not a "
		    "\"jwk\"");
		goto fail;
	}
	if (q->j.kid != NULL && strcmp(q->rest, "new-account") == 0) {
		ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 400, "newAccount must "
		    "be signed with a \"jwk\"");
		goto fail;
	}
	if (q->j.kid != NULL) {
		if (kid_account(q) != 0)
			goto fail;
		if (ca_jws_key_parse(q->acct.jwk, strlen(q->acct.jwk), &key,
		    &e) != KR_OK) {
			ca_acme_fail(&q->ae, CA_ACME_SERVER_INTERNAL, 500,
			    "the account key: %s", e.msg);
			goto fail;
		}
		vk = key;
	} else
		vk = q->j.key;
	if (ca_acme_jws_verify(&q->j, vk, &q->ae) != 0)
		goto fail;

	if (strcmp(q->rest, "new-account") == 0)
		ep_new_account(q);
	else if (strcmp(q->rest, "new-order") == 0)
		ep_new_order(q);
	else if (strcmp(q->rest, "revoke-cert") == 0)
		ep_revoke(q);
	else if (strcmp(q->rest, "key-change") == 0)
		ep_key_change(q);
	else if (path_is(q->rest, "account", NULL, id))
		ep_account(q, id);
	else if (path_is(q->rest, "orders", NULL, id))
		ep_orders(q, id);
	else if (path_is(q->rest, "order", "/finalize", id))
		ep_finalize(q, id);
	else if (path_is(q->rest, "order", NULL, id))
		ep_order(q, id);
	else if (path_is(q->rest, "authz", NULL, id))
		ep_authz(q, id);
	else if (path_is(q->rest, "chall", NULL, id))
		ep_chall(q, id);
	else if (path_is(q->rest, "cert", NULL, id))
		ep_cert(q, id);
	else {
		ca_acme_fail(&q->ae, CA_ACME_MALFORMED, 404, "no such ACME "
		    "resource");
		goto fail;
	}
	ca_jws_key_free(key);
	return;
fail:
	ca_jws_key_free(key);
	problem(q);
}

void
kd_acme_handle(struct kd_ca *ca, struct ca_store *st, const char *method,
    const char *url, const char *host, const char *ctype, const char *body,
    size_t len, struct kd_acme_resp *r)
{
	struct areq q;
	struct kr_error e;
	const char *p, *name;
	char pname[CA_PROV_NAME_MAX + 1];
	size_t n, i;

	memset(r, 0, sizeof(*r));
	memset(&q, 0, sizeof(q));
	q.ca = ca;
	q.st = st;
	q.r = r;
	q.now = kr_now();
	pthread_rwlock_rdlock(&alock);
	if (host == NULL || *host == '\0' || strlen(host) > 255 ||
	    strpbrk(host, "/\"\\ <>") != NULL) {
		ca_acme_fail(&q.ae, CA_ACME_MALFORMED, 400, "the request has "
		    "no usable Host header");
		goto fail;
	}
	/* /acme/NAME/rest, or /acme/rest for the only provisioner. */
	p = url + strlen("/acme/");
	n = strcspn(p, "/");
	name = NULL;
	if (p[n] == '/' && n > 0 && n <= CA_PROV_NAME_MAX) {
		memcpy(pname, p, n);
		pname[n] = '\0';
		for (i = 0; i < naprovs; i++)
			if (strcmp(aprovs[i].p->name, pname) == 0) {
				q.ap = &aprovs[i];
				name = pname;
				q.rest = p + n + 1;
			}
	}
	/* Only the directory is aliased; its URLs name the provisioner. */
	if (q.ap == NULL && naprovs == 1 && strcmp(p, "directory") == 0) {
		q.ap = &aprovs[0];
		q.rest = p;
	}
	if (q.ap == NULL) {
		ca_acme_fail(&q.ae, CA_ACME_MALFORMED, 404, "no such ACME "
		    "directory; it is /acme/PROVISIONER/directory (%zu ACME "
		    "provisioner(s)%s)", naprovs, naprovs == 1 ?
		    "; /acme/directory is the only one's" : "");
		goto fail;
	}
	/* Links name the provisioner, so they hold whichever was used. */
	snprintf(q.base, sizeof(q.base), "https://%s/acme/%s", host,
	    q.ap->p->name);
	(void)name;
	snprintf(q.dir, sizeof(q.dir), "%s/directory", q.base);
	snprintf(r->link[1], sizeof(r->link[1]), "<%s>;rel=\"index\"", q.dir);
	if (ca_acme_nonce_new(st, q.now, r->nonce, &e) != KR_OK) {
		r->nonce[0] = '\0';
		ca_acme_fail(&q.ae, CA_ACME_SERVER_INTERNAL, 500, "%s", e.msg);
		goto fail;
	}
	if (strcmp(q.rest, "directory") == 0) {
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
			ca_acme_fail(&q.ae, CA_ACME_MALFORMED, 405, "use GET");
			goto fail;
		}
		ep_directory(&q);
	} else if (strcmp(q.rest, "new-nonce") == 0) {
		if (strcmp(method, "HEAD") == 0)
			set_body(r, 200, NULL, NULL);
		else if (strcmp(method, "GET") == 0)
			set_body(r, 204, NULL, NULL);
		else {
			ca_acme_fail(&q.ae, CA_ACME_MALFORMED, 405, "use HEAD "
			    "or GET");
			goto fail;
		}
	} else if (strcmp(method, "POST") != 0) {
		ca_acme_fail(&q.ae, CA_ACME_MALFORMED, 405, "ACME resources "
		    "take POST (POST-as-GET to read)");
		goto fail;
	} else
		post(&q, method, ctype, body, len);
	goto out;
fail:
	problem(&q);
out:
	pthread_rwlock_unlock(&alock);
	ca_acme_jws_clear(&q.j);
	ca_acme_account_clear(&q.acct);
}
