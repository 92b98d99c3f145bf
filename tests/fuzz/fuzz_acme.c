/*
 * fuzz_acme.c: libFuzzer target for ca/acme.c, the request path of
 * keyrited's ACME server: the flattened JWS and its protected header,
 * signature verification with the header's "jwk", and the parsers of
 * every payload (newAccount, newOrder, finalize, revokeCert, EAB), plus
 * the ACME provisioner file.  A refusal must carry a problem type and
 * an HTTP status of 4xx or 5xx and a detail; an accepted request must
 * hold what its parser promises.  Seeds: tests/fuzz/corpus/acme/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ca/acme.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int ret, const struct ca_acme_err *ae)
{
	if (ret == 0)
		return;
	if ((unsigned)ae->type >= CA_ACME_PROB_N || ae->http < 400 ||
	    ae->http > 599 || ae->e.msg[0] == '\0' ||
	    strncmp(ca_acme_prob_urn(ae->type), "urn:ietf:params:acme:error:",
	    27) != 0)
		abort();
}

static void
payloads(const json_t *o)
{
	struct ca_acme_err ae;
	struct ca_acme_newacct na;
	struct ca_acme_neworder no;
	uint8_t *der = NULL, key[CA_ACME_EAB_KEY_LEN] = { 1 };
	size_t len, i;
	int ret, reason;
	char *kid = NULL;

	memset(&ae, 0, sizeof(ae));
	check(ca_acme_parse_newacct(o, &na, &ae), &ae);
	ret = ca_acme_parse_neworder(o, &no, &ae);
	check(ret, &ae);
	if (ret == 0) {
		if (no.nids == 0 || no.nids > CA_ACME_IDENT_MAX)
			abort();
		for (i = 0; i < no.nids; i++)
			if (strcmp(no.ids[i].type, "dns") != 0 &&
			    strcmp(no.ids[i].type, "ip") != 0)
				abort();
		ca_acme_neworder_clear(&no);
	}
	ret = ca_acme_parse_finalize(o, &der, &len, &ae);
	check(ret, &ae);
	if (ret == 0 && (der == NULL || len == 0))
		abort();
	free(der);
	der = NULL;
	ret = ca_acme_parse_revoke(o, &der, &len, &reason, &ae);
	check(ret, &ae);
	if (ret == 0 && (reason < -1 || reason > 10))
		abort();
	free(der);
	if (o != NULL && ca_acme_eab_kid(o, &kid, &ae) == 0) {
		free(kid);
		check(ca_acme_eab_verify(o, key, sizeof(key), "https://x/",
		    NULL, &ae), &ae);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_acme_jws j;
	struct ca_acme_err ae;
	struct ca_prov *p = NULL;
	struct kr_error e;
	json_t *o;
	int ret, eab;

	memset(&ae, 0, sizeof(ae));
	ret = ca_acme_jws_parse((const char *)data, size, &j, &ae);
	check(ret, &ae);
	if (ret == 0) {
		if (j.alg == NULL || j.url == NULL || j.compact == NULL ||
		    (j.key == NULL) == (j.kid == NULL))
			abort();
		if (j.key != NULL) {
			ret = ca_acme_jws_verify(&j, j.key, &ae);
			check(ret, &ae);
			if (ret == 0 && j.payload_len > 0 && j.body == NULL)
				abort();
			if (ret == 0)
				payloads(j.body);
		}
		ca_acme_jws_clear(&j);
	}
	/* The payload parsers on the input as JSON, without a signature. */
	if ((o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    NULL)) != NULL) {
		if (json_is_object(o))
			payloads(o);
		json_decref(o);
	}
	if (ca_acme_prov_parse((const char *)data, size, &p, &eab, &e) ==
	    KR_OK) {
		if (p->nallow + p->nallow_ip == 0)
			abort();
		ca_prov_free(p);
	}
	return 0;
}
