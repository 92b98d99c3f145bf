/*
 * apireq.c: strict parsing of keyrited's API request bodies (apireq.h).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "../common/der.h"
#include "../common/kr.h"
#include "../policy/lint.h"
#include "apireq.h"
#include "ca.h"

static int
refuse(struct ca_apireq_err *e, int http, const char *code, const char *fmt,
    ...)
{
	va_list ap;

	e->http = http;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
ca_csr_free(struct ca_csr *c)
{
	if (c == NULL)
		return;
	OPENSSL_free(c->der);
	EVP_PKEY_free(c->pub);
	X509_NAME_free(c->subject);
	sk_X509_EXTENSION_pop_free(c->exts, X509_EXTENSION_free);
	free(c);
}

void
ca_apireq_free(struct ca_apireq *r)
{
	ca_csr_free(r->csr);
	free(r->token);
	free(r->serial);
	memset(r, 0, sizeof(*r));
	r->reason = -1;
}

/* The attribute types X509_REQ_get_extensions reads, in its order. */
static const uint8_t oid_ext_req[] = {		/* 1.2.840.113549.1.9.14 */
	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e
};
static const uint8_t oid_ms_ext_req[] = {	/* 1.3.6.1.4.1.311.2.1.14 */
	0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01,
	0x0e
};

/*
 * The extensions of the first extension request among attrs (the [0]
 * attributes' contents), or NULL: none, or they do not decode.  -1 when
 * an attribute is not SEQUENCE { type, SET }.
 */
static int
csr_exts(struct kr_der attrs, STACK_OF(X509_EXTENSION) **out)
{
	const uint8_t *const oids[] = { oid_ext_req, oid_ms_ext_req };
	const size_t lens[] = { sizeof(oid_ext_req), sizeof(oid_ms_ext_req) };
	struct kr_der a, vals;
	struct kr_der_el el, oid, set, first, found[2];
	const unsigned char *p;
	int i, have[2] = { 0, 0 };

	*out = NULL;
	while (attrs.n > 0) {
		if (kr_der_get(&attrs, 0x30, &el) != 0)
			return -1;
		a = kr_der_in(&el);
		if (kr_der_get(&a, 0x06, &oid) != 0 ||
		    kr_der_get(&a, 0x31, &set) != 0 || a.n != 0)
			return -1;
		for (i = 0; i < 2; i++)
			if (!have[i] && oid.total == lens[i] &&
			    memcmp(oid.start, oids[i], lens[i]) == 0) {
				have[i] = 1;
				found[i] = set;
			}
	}
	for (i = 0; i < 2; i++) {
		if (!have[i])
			continue;
		vals = kr_der_in(&found[i]);
		if (kr_der_get(&vals, 0x30, &first) == 0) {
			p = first.start;
			*out = d2i_X509_EXTENSIONS(NULL, &p,
			    (long)first.total);
			if (*out != NULL && p != first.start + first.total) {
				sk_X509_EXTENSION_pop_free(*out,
				    X509_EXTENSION_free);
				*out = NULL;
			}
		}
		break;
	}
	ERR_clear_error();
	return 0;
}

/*
 * The request's signature over info under c->pub: 1 good, 0 bad, -1
 * an algorithm this path does not take (RSA-PSS and the like), for
 * X509_REQ_verify.
 */
static int
csr_sig_ok(const struct ca_csr *c, const struct kr_der_el *info,
    const struct kr_der_el *algel, const struct kr_der_el *sig)
{
	const unsigned char *p = algel->start;
	const ASN1_OBJECT *obj;
	X509_ALGOR *alg;
	EVP_MD_CTX *mc = NULL;
	const EVP_MD *md;
	int mdnid, pknid, ok = 0;

	if ((alg = d2i_X509_ALGOR(NULL, &p, (long)algel->total)) == NULL ||
	    p != algel->start + algel->total)
		goto out;
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (OBJ_find_sigid_algs(OBJ_obj2nid(obj), &mdnid, &pknid) != 1 ||
	    mdnid == NID_undef || (md = EVP_get_digestbynid(mdnid)) == NULL) {
		ok = -1;
		goto out;
	}
	if (pknid != EVP_PKEY_get_base_id(c->pub) || sig->len < 1 ||
	    sig->val[0] != 0)
		goto out;
	ok = (mc = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(mc, NULL, md, NULL, c->pub) == 1 &&
	    EVP_DigestVerify(mc, sig->val + 1, sig->len - 1, info->start,
	    info->total) == 1;
out:
	EVP_MD_CTX_free(mc);
	X509_ALGOR_free(alg);
	ERR_clear_error();
	return ok;
}

/* The same, the slow way, for the algorithms csr_sig_ok leaves. */
static int
csr_sig_ok_slow(const struct ca_csr *c)
{
	const unsigned char *p = c->der;
	X509_REQ *r;
	int ok;

	r = d2i_X509_REQ(NULL, &p, (long)c->der_len);
	ok = r != NULL && X509_REQ_verify(r, c->pub) == 1;
	X509_REQ_free(r);
	ERR_clear_error();
	return ok;
}

int
ca_apireq_csr(const char *pem, size_t len, struct ca_csr **out,
    struct ca_apireq_err *e)
{
	struct ca_csr *c = NULL;
	struct kr_der d, in;
	struct kr_der_el req, info, algel, sig, el, spki;
	unsigned char *data = NULL;
	const unsigned char *p;
	long dlen = 0;
	BIO *b;
	char rest[64];
	int n, i, v, rc = -1;

	*out = NULL;
	if (len > CA_APIREQ_BODY_MAX)
		return refuse(e, 400, "bad_csr", "csr: too long");
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return refuse(e, 400, "bad_csr", "csr: out of memory");
	/* What PEM_read_bio_X509_REQ reads, kept as DER. */
	if (PEM_bytes_read_bio(&data, &dlen, NULL, PEM_STRING_X509_REQ, b,
	    NULL, NULL) != 1) {
		OPENSSL_free(data);
		data = NULL;
	}
	/* Nothing but white space may follow: one request per body. */
	while (data != NULL && (n = BIO_read(b, rest, sizeof(rest))) > 0)
		for (i = 0; i < n; i++)
			if (!isspace((unsigned char)rest[i])) {
				OPENSSL_free(data);
				BIO_free(b);
				ERR_clear_error();
				return refuse(e, 400, "bad_csr", "csr: more "
				    "than one PEM request, or text after it");
			}
	BIO_free(b);
	ERR_clear_error();
	if (data == NULL || dlen <= 0 || (c = calloc(1, sizeof(*c))) == NULL)
		goto notcsr;
	c->der = data;
	c->der_len = (size_t)dlen;
	data = NULL;
	/*
	 * CertificationRequest ::= SEQUENCE { info SEQUENCE { version 0,
	 * subject, SubjectPublicKeyInfo, [0] attributes (OPTIONAL, as
	 * OpenSSL reads it) }, AlgorithmIdentifier, BIT STRING }
	 */
	d = kr_der_of(c->der, c->der_len);
	if (kr_der_get(&d, 0x30, &req) != 0 || d.n != 0)
		goto notcsr;
	d = kr_der_in(&req);
	if (kr_der_get(&d, 0x30, &info) != 0 ||
	    kr_der_get(&d, 0x30, &algel) != 0 ||
	    kr_der_get(&d, 0x03, &sig) != 0 || d.n != 0)
		goto notcsr;
	in = kr_der_in(&info);
	if (kr_der_get(&in, 0x02, &el) != 0 || el.len != 1 || el.val[0] != 0 ||
	    kr_der_get(&in, 0x30, &el) != 0)
		goto notcsr;
	p = el.start;
	if ((c->subject = d2i_X509_NAME(NULL, &p, (long)el.total)) == NULL ||
	    p != el.start + el.total ||
	    kr_der_get(&in, 0x30, &spki) != 0)
		goto notcsr;
	c->spki = spki.start;
	c->spki_len = spki.total;
	if (kr_der_peek(&in) == 0xa0) {
		if (kr_der_get(&in, 0xa0, &el) != 0 ||
		    csr_exts(kr_der_in(&el), &c->exts) != 0)
			goto notcsr;
	}
	if (in.n != 0)
		goto notcsr;
	if ((c->pub = pol_pubkey_from_spki(c->spki, c->spki_len)) == NULL) {
		refuse(e, 400, "bad_csr", "csr: its public key cannot be read");
		goto out;
	}
	if ((v = csr_sig_ok(c, &info, &algel, &sig)) < 0)
		v = csr_sig_ok_slow(c);
	if (v != 1) {
		refuse(e, 400, "csr_signature", "csr: its signature does not "
		    "verify");
		goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
	goto out;
notcsr:
	refuse(e, 400, "bad_csr", "csr: not a PEM certificate request");
out:
	ERR_clear_error();
	OPENSSL_free(data);
	ca_csr_free(c);
	return rc;
}

static int
serial_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 40)
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int
ca_apireq_parse(enum ca_apireq_kind kind, const char *body, size_t len,
    struct ca_apireq *out, struct ca_apireq_err *e)
{
	static const char *const sign_m[] = { "csr", "token", "lifetime",
	    NULL };
	static const char *const renew_m[] = { "lifetime", NULL };
	static const char *const revoke_m[] = { "serial", "reason", "token",
	    NULL };
	const char *const *allowed;
	const char *k, *s;
	json_error_t je;
	json_t *o, *v;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->reason = -1;
	if (len > CA_APIREQ_BODY_MAX)
		return refuse(e, 413, "body_too_large", "the body is larger "
		    "than %d bytes", CA_APIREQ_BODY_MAX);
	allowed = kind == CA_APIREQ_SIGN ? sign_m : kind == CA_APIREQ_RENEW ?
	    renew_m : revoke_m;
	o = json_loadb(body != NULL ? body : "", len,
	    JSON_REJECT_DUPLICATES, &je);
	if (o == NULL && strstr(je.text, "duplicate object key") != NULL)
		return refuse(e, 400, "bad_request", "body: a member is given "
		    "twice (%s)", je.text);
	if (o == NULL)
		return refuse(e, 400, "bad_json", "body: not JSON: %s (at byte "
		    "%d)", je.text, je.position);
	if (!json_is_object(o)) {
		json_decref(o);
		return refuse(e, 400, "bad_request", "body: a JSON object is "
		    "expected");
	}
	json_object_foreach(o, k, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			refuse(e, 400, "bad_request", "body: unknown member "
			    "\"%.64s\"", k);
			goto fail;
		}
		if (!json_is_string(v)) {
			refuse(e, 400, "bad_request", "body: \"%s\" must be a "
			    "string", k);
			goto fail;
		}
		/* Members are text: a NUL inside would cut it short. */
		if (strlen(json_string_value(v)) != json_string_length(v)) {
			refuse(e, 400, "bad_request", "body: \"%s\" contains "
			    "a NUL character", k);
			goto fail;
		}
	}
	if ((s = json_string_value(json_object_get(o, "lifetime"))) != NULL &&
	    (out->lifetime = kr_parse_duration(s, 's')) <= 0) {
		refuse(e, 400, "bad_lifetime", "lifetime \"%.32s\": not a "
		    "duration (e.g. 24h, 90m)", s);
		goto fail;
	}
	if ((s = json_string_value(json_object_get(o, "reason"))) != NULL) {
		out->reason = ca_reason_from_name(s);
		if (!ca_reason_leaf_ok(out->reason)) {
			refuse(e, 400, "bad_reason", "reason \"%.32s\": not "
			    "one of unspecified, keyCompromise, "
			    "affiliationChanged, superseded, "
			    "cessationOfOperation, privilegeWithdrawn", s);
			goto fail;
		}
	}
	if ((s = json_string_value(json_object_get(o, "serial"))) != NULL) {
		if (!serial_ok(s)) {
			refuse(e, 400, "bad_request", "serial: 1 to 40 hex "
			    "digits expected");
			goto fail;
		}
		if ((out->serial = strdup(s)) == NULL)
			goto nomem;
		for (i = 0; out->serial[i] != '\0'; i++)
			out->serial[i] = (char)tolower(
			    (unsigned char)out->serial[i]);
	}
	if ((s = json_string_value(json_object_get(o, "token"))) != NULL &&
	    (out->token = strdup(s)) == NULL)
		goto nomem;
	if (kind == CA_APIREQ_SIGN) {
		if (out->token == NULL) {
			refuse(e, 400, "bad_request", "body: \"token\" is "
			    "required");
			goto fail;
		}
		if ((v = json_object_get(o, "csr")) == NULL) {
			refuse(e, 400, "bad_request", "body: \"csr\" is "
			    "required");
			goto fail;
		}
		if (ca_apireq_csr(json_string_value(v), json_string_length(v),
		    &out->csr, e) != 0)
			goto fail;
	}
	if (kind == CA_APIREQ_REVOKE && out->token != NULL &&
	    out->serial == NULL) {
		refuse(e, 400, "bad_request", "body: \"serial\" is required "
		    "with a token");
		goto fail;
	}
	json_decref(o);
	return 0;
nomem:
	refuse(e, 400, "bad_request", "out of memory");
fail:
	json_decref(o);
	ca_apireq_free(out);
	return -1;
}
