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

#include "../common/kr.h"
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
ca_apireq_free(struct ca_apireq *r)
{
	X509_REQ_free(r->csr);
	free(r->token);
	free(r->serial);
	memset(r, 0, sizeof(*r));
	r->reason = -1;
}

int
ca_apireq_csr(const char *pem, size_t len, X509_REQ **out,
    struct ca_apireq_err *e)
{
	BIO *b;
	X509_REQ *r;
	EVP_PKEY *pk;
	char rest[64];
	int n, i, v;

	*out = NULL;
	if (len > CA_APIREQ_BODY_MAX)
		return refuse(e, 400, "bad_csr", "csr: too long");
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return refuse(e, 400, "bad_csr", "csr: out of memory");
	r = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	/* Nothing but white space may follow: one request per body. */
	while (r != NULL && (n = BIO_read(b, rest, sizeof(rest))) > 0)
		for (i = 0; i < n; i++)
			if (!isspace((unsigned char)rest[i])) {
				X509_REQ_free(r);
				r = NULL;
				BIO_free(b);
				ERR_clear_error();
				return refuse(e, 400, "bad_csr", "csr: more "
				    "than one PEM request, or text after it");
			}
	BIO_free(b);
	ERR_clear_error();
	if (r == NULL)
		return refuse(e, 400, "bad_csr", "csr: not a PEM certificate "
		    "request");
	if ((pk = X509_REQ_get0_pubkey(r)) == NULL) {
		X509_REQ_free(r);
		ERR_clear_error();
		return refuse(e, 400, "bad_csr", "csr: its public key cannot "
		    "be read");
	}
	v = X509_REQ_verify(r, pk);
	ERR_clear_error();
	if (v != 1) {
		X509_REQ_free(r);
		return refuse(e, 400, "csr_signature", "csr: its signature "
		    "does not verify");
	}
	*out = r;
	return 0;
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
