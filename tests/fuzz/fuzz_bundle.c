/*
 * fuzz_bundle.c: libFuzzer target for ca/bundle.c's readers of outside
 * input.  By the input's first byte:
 *
 *   '{' or white space: a manifest.json.  Whatever is accepted must
 *        keep what the parser promises (an active anchor, version 1
 *        exactly without a previous hash, expiry after issue), and must
 *        encode to a manifest that parses to the same encoding.  It
 *        must also pass through ca_bundle_check (which then finds the
 *        files missing) without harm.
 *   else a manifest.json.sig over a fixed manifest: every signature is
 *        reported, none is trusted (no roots are given), nothing leaks.
 *
 * Seeds: tests/fuzz/corpus/bundle/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ca/bundle.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
manifest(const uint8_t *data, size_t size)
{
	struct ca_manifest m, m2;
	struct ca_files f = { 0 };
	struct kr_error err = { 0 };
	char *t1 = NULL, *t2 = NULL;
	size_t l1, l2, i, nactive = 0;

	if (ca_manifest_parse(data, size, &m, &err) != KR_OK) {
		if (err.code != KR_E_PARSE && err.code != KR_E_NOMEM)
			abort();
		if (strncmp(err.msg, CA_BUNDLE_MANIFEST ": ", 15) != 0)
			abort();
		return;
	}
	if (m.version < 1 || (m.version == 1) == (m.has_previous != 0) ||
	    m.expires <= m.issued_at || m.nanchors < 1 ||
	    m.nanchors > CA_BUNDLE_MAX_ANCHORS || m.nexports != 5)
		abort();
	for (i = 0; i < m.nanchors; i++) {
		if (m.anchors[i].state == CA_ANCHOR_ACTIVE)
			nactive++;
		if (m.anchors[i].state != CA_ANCHOR_RETIRING &&
		    m.anchors[i].remove_after != 0)
			abort();
		if (!ca_file_name_ok(m.anchors[i].file))
			abort();
	}
	if (nactive == 0)
		abort();
	if (ca_manifest_encode(&m, &t1, &l1, &err) != KR_OK)
		abort();
	if (ca_manifest_parse((const uint8_t *)t1, l1, &m2, &err) != KR_OK)
		abort();
	if (ca_manifest_encode(&m2, &t2, &l2, &err) != KR_OK ||
	    l1 != l2 || memcmp(t1, t2, l1) != 0)
		abort();
	if (ca_files_add(&f, CA_BUNDLE_MANIFEST, data, size, &err) == KR_OK &&
	    ca_bundle_check(&f, NULL, &err) == KR_OK)
		abort();	/* the listed files are not there */
	ca_files_free(&f);
	ca_manifest_free(&m);
	ca_manifest_free(&m2);
	free(t1);
	free(t2);
}

static void
signature(const uint8_t *data, size_t size)
{
	static const char text[] = "{\"format\":\"keyrite-bundle\"}\n";
	struct ca_files f = { 0 };
	struct ca_bundle_sigs s;
	struct kr_error err = { 0 };
	size_t i;

	if (ca_files_add(&f, CA_BUNDLE_MANIFEST, text, sizeof(text) - 1,
	    &err) != KR_OK ||
	    ca_files_add(&f, CA_BUNDLE_SIG, data, size, &err) != KR_OK) {
		ca_files_free(&f);
		return;
	}
	if (ca_bundle_sigs(&f, NULL, 0, &s, &err) == KR_OK) {
		if (s.n < 1 || s.n > CA_BUNDLE_MAX_SIGNERS || s.ntrusted != 0)
			abort();
		for (i = 0; i < s.n; i++)
			if (s.v[i].trusted || s.v[i].counted ||
			    memchr(s.v[i].who, '\0', sizeof(s.v[i].who)) ==
			    NULL)
				abort();
	} else if (err.code != KR_E_PARSE)
		abort();
	ca_files_free(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && (data[0] == '{' || data[0] == ' ' || data[0] == '\n' ||
	    data[0] == '\t' || data[0] == '\r'))
		manifest(data, size);
	else
		signature(data, size);
	return 0;
}
