/*
 * rotate.c: the steps of a root rotation (rotate.h), shared by the plain
 * commands and the ceremony runner: a new root with its predecessor's
 * name constraints, a cross-certificate linted before any key is asked
 * for, and rotation bundles built, signed, verified and packed from
 * files on disk.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "../common/file.h"
#include "rotate.h"

/* The most a bundle archive can be (see tar.c). */
#define BUNDLE_TAR_MAX	(CA_FILES_TOTAL_MAX + 2 * CA_FILES_MAX * 512 + \
	    20 * 512)

/* ------------------------------------------------------------------ */
/* A new root with the old root's name constraints                      */
/* ------------------------------------------------------------------ */

/* The nameConstraints extension of x, or NULL; *crit its criticality. */
static const ASN1_OCTET_STRING *
nc_ext(X509 *x, int *crit)
{
	X509_EXTENSION *e;
	int i;

	*crit = 0;
	if ((i = X509_get_ext_by_NID(x, NID_name_constraints, -1)) < 0)
		return NULL;
	e = X509_get_ext(x, i);
	*crit = X509_EXTENSION_get_critical(e);
	return X509_EXTENSION_get_data(e);
}

static void
free_list(char **l, size_t n)
{
	size_t i;

	for (i = 0; l != NULL && i < n; i++)
		free(l[i]);
	free(l);
}

/*
 * model's permitted DNS and IP subtrees as ca_root_build takes them
 * (malloc'd lists); anything else in its constraints is refused.
 */
static enum kr_err
names_of_model(X509 *model, const char *what, char ***dns, size_t *ndns,
    char ***ip, size_t *nip, struct kr_error *err)
{
	NAME_CONSTRAINTS *nc;
	const GENERAL_SUBTREE *st;
	char text[300], **l;
	int crit = 0, i, n;
	enum kr_err rc = KR_OK;

	*dns = *ip = NULL;
	*ndns = *nip = 0;
	ERR_clear_error();
	nc = X509_get_ext_d2i(model, NID_name_constraints, &crit, NULL);
	if (nc == NULL) {
		if (crit != -1)
			return kr_fail_ossl(err, KR_E_PARSE, "%s: its name "
			    "constraints cannot be parsed", what);
		ERR_clear_error();
		return KR_OK;
	}
	if (sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) > 0) {
		rc = kr_fail(err, KR_E_POLICY, "%s: its name constraints "
		    "exclude subtrees, which a keyrite root cannot copy", what);
		goto out;
	}
	n = sk_GENERAL_SUBTREE_num(nc->permittedSubtrees);
	if ((*dns = calloc((size_t)n + 1, sizeof(char *))) == NULL ||
	    (*ip = calloc((size_t)n + 1, sizeof(char *))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		st = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
		ca_general_name_text(st->base, text, sizeof(text));
		if (st->minimum != NULL || st->maximum != NULL ||
		    (st->base->type != GEN_DNS && st->base->type != GEN_IPADD)) {
			rc = kr_fail(err, KR_E_POLICY, "%s: its permitted "
			    "subtree %s cannot be copied (a keyrite root "
			    "permits DNS and IP subtrees only)", what, text);
			goto out;
		}
		/* "DNS:lab.internal", "IP:10.0.0.0/8": the value follows. */
		l = st->base->type == GEN_DNS ? *dns : *ip;
		if ((l[st->base->type == GEN_DNS ? (*ndns)++ : (*nip)++] =
		    strdup(strchr(text, ':') + 1)) == NULL) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
	}
out:
	NAME_CONSTRAINTS_free(nc);
	if (rc != KR_OK) {
		free_list(*dns, *ndns);
		free_list(*ip, *nip);
		*dns = *ip = NULL;
		*ndns = *nip = 0;
	}
	return rc;
}

enum kr_err
ca_root_build_like(const char *subject, EVP_PKEY *pub,
    const struct pol_profile *p, long long validity, X509 *model,
    const char *model_name, time_t now, X509 **out, struct kr_error *err)
{
	const ASN1_OCTET_STRING *a, *b;
	struct ca_names names;
	char **dns = NULL, **ip = NULL, want[512];
	size_t ndns = 0, nip = 0;
	int ca_ = 0, cb = 0;
	enum kr_err rc;

	*out = NULL;
	if (model == NULL)
		return kr_fail(err, KR_E_USAGE, "no certificate to copy the "
		    "name constraints from");
	if ((rc = names_of_model(model, model_name, &dns, &ndns, &ip, &nip,
	    err)) != KR_OK)
		return rc;
	names = (struct ca_names){ (const char **)dns, ndns,
	    (const char **)ip, nip };
	if ((rc = ca_root_build(subject, pub, p, validity, &names, now, out,
	    err)) != KR_OK)
		goto out;
	a = nc_ext(model, &ca_);
	b = nc_ext(*out, &cb);
	if ((a == NULL) != (b == NULL) || ca_ != cb || (a != NULL &&
	    ASN1_STRING_cmp(a, b) != 0)) {
		ca_name_constraints_text(model, want, sizeof(want));
		rc = kr_fail(err, KR_E_POLICY, "%s: its name constraints (%s) "
		    "cannot be copied exactly: a keyrite root writes its DNS "
		    "subtrees first, then its IP subtrees, as a critical "
		    "extension", model_name, want);
		X509_free(*out);
		*out = NULL;
		goto out;
	}
	rc = KR_OK;
out:
	free_list(dns, ndns);
	free_list(ip, nip);
	return rc;
}

void
ca_name_constraints_text(X509 *x, char *buf, size_t sz)
{
	NAME_CONSTRAINTS *nc;
	const GENERAL_SUBTREE *st;
	char text[300];
	size_t n = 0;
	int i, crit;

	buf[0] = '\0';
	nc = X509_get_ext_d2i(x, NID_name_constraints, &crit, NULL);
	ERR_clear_error();
	for (i = 0; nc != NULL &&
	    i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) && n < sz; i++) {
		st = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
		ca_general_name_text(st->base, text, sizeof(text));
		n += (size_t)snprintf(buf + n, sz - n, "%s%s", i > 0 ? ", " :
		    "", text);
	}
	for (i = 0; nc != NULL &&
	    i < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) && n < sz; i++) {
		st = sk_GENERAL_SUBTREE_value(nc->excludedSubtrees, i);
		ca_general_name_text(st->base, text, sizeof(text));
		n += (size_t)snprintf(buf + n, sz - n, "%sexcluded %s",
		    n > 0 ? ", " : "", text);
	}
	if (buf[0] == '\0')
		snprintf(buf, sz, "none");
	NAME_CONSTRAINTS_free(nc);
}

/* ------------------------------------------------------------------ */
/* Cross-certificates                                                   */
/* ------------------------------------------------------------------ */

enum kr_err
ca_cross_prepare(X509 *subject, X509 *issuer, const char *profile,
    long long validity, time_t now, struct pol_profile *prof, X509 **tbs,
    struct kr_error *err)
{
	enum kr_err rc;

	*tbs = NULL;
	if ((rc = pol_profile_find(profile != NULL ? profile : "cross", prof,
	    err)) != KR_OK)
		return rc;
	if (prof->kind != POL_KIND_INTERMEDIATE)
		return kr_fail(err, KR_E_USAGE, "profile '%s' is not an "
		    "intermediate profile; a cross-certificate is a CA "
		    "certificate (use the cross profile)", prof->name);
	if ((rc = ca_cross_build(subject, issuer, prof, validity, now, tbs,
	    err)) == KR_OK &&
	    (rc = ca_precheck_cert(*tbs, X509_get0_pubkey(issuer), prof,
	    issuer, now, err)) != KR_OK) {
		X509_free(*tbs);
		*tbs = NULL;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Bundles from files                                                   */
/* ------------------------------------------------------------------ */

time_t
ca_date_parse(const char *s)
{
	char full[32];

	if (strlen(s) == 10) {
		snprintf(full, sizeof(full), "%sT00:00:00Z", s);
		return ca_time_parse_rfc3339(full);
	}
	return ca_time_parse_rfc3339(s);
}

enum kr_err
ca_bundle_load_path(const char *path, struct ca_files *out,
    struct kr_error *err)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len;
	enum kr_err rc;

	memset(out, 0, sizeof(*out));
	if (stat(path, &st) == -1)
		return kr_fail(err, errno == ENOENT ? KR_E_NOTFOUND : KR_E_IO,
		    "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return ca_files_read_dir(path, out, err);
	if ((rc = kr_file_read(path, BUNDLE_TAR_MAX, &buf, &len, err)) !=
	    KR_OK)
		return rc;
	rc = ca_tar_read(buf, len, out, err);
	free(buf);
	if (rc != KR_OK)
		kr_error_prefix(err, "%s", path);
	return rc;
}

enum kr_err
ca_bundle_previous(const char *path, uint8_t **out, size_t *len,
    struct kr_error *err)
{
	struct ca_files prev;
	const struct ca_file *mf;
	enum kr_err rc;

	*out = NULL;
	*len = 0;
	if ((rc = ca_bundle_load_path(path, &prev, err)) != KR_OK)
		return rc;
	if ((rc = ca_bundle_check(&prev, NULL, err)) != KR_OK) {
		kr_error_prefix(err, "%s", path);
		goto out;
	}
	mf = ca_files_get(&prev, CA_BUNDLE_MANIFEST);
	if ((*out = malloc(mf->len + 1)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*out, mf->data, mf->len + 1);
	*len = mf->len;
out:
	ca_files_free(&prev);
	return rc;
}

enum kr_err
ca_bundle_make(const struct ca_bundle_request *r, struct ca_manifest *m,
    struct kr_error *err)
{
	struct ca_bundle_spec spec;
	struct ca_files files = { 0 };
	X509 **anchors = NULL, **cross = NULL;
	uint8_t *prev = NULL;
	size_t prevlen = 0, i;
	enum kr_err rc;

	if (m != NULL)
		memset(m, 0, sizeof(*m));
	if ((anchors = calloc(r->nanchors + 1, sizeof(*anchors))) == NULL ||
	    (cross = calloc(r->ncross + 1, sizeof(*cross))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < r->nanchors; i++)
		if ((rc = ca_load_cert(r->anchors[i], &anchors[i], err)) !=
		    KR_OK)
			goto out;
	for (i = 0; i < r->ncross; i++)
		if ((rc = ca_load_cert(r->cross[i], &cross[i], err)) != KR_OK)
			goto out;
	if (r->previous != NULL && (rc = ca_bundle_previous(r->previous,
	    &prev, &prevlen, err)) != KR_OK)
		goto out;
	spec = (struct ca_bundle_spec){
		.anchors = anchors, .states = r->states,
		.nanchors = r->nanchors, .remove_after = r->remove_after,
		.cross = cross, .ncross = r->ncross, .prev = prev,
		.prevlen = prevlen, .now = r->now, .lifetime = r->lifetime,
	};
	if ((rc = ca_bundle_build(&spec, &files, err)) != KR_OK ||
	    (rc = ca_files_write_dir(r->out, &files, err)) != KR_OK)
		goto out;
	if ((rc = ca_bundle_check(&files, m, err)) != KR_OK)
		kr_error_prefix(err, "%s", r->out);
out:
	ca_files_free(&files);
	for (i = 0; anchors != NULL && i < r->nanchors; i++)
		X509_free(anchors[i]);
	for (i = 0; cross != NULL && i < r->ncross; i++)
		X509_free(cross[i]);
	free(anchors);
	free(cross);
	free(prev);
	return rc;
}

enum kr_err
ca_bundle_sign_prepare(const char *dir, const char *certpath,
    struct ca_files *files, X509 **cert, struct kr_error *err)
{
	enum kr_err rc;

	memset(files, 0, sizeof(*files));
	*cert = NULL;
	if ((rc = ca_files_read_dir(dir, files, err)) != KR_OK ||
	    (rc = ca_load_cert(certpath, cert, err)) != KR_OK ||
	    (rc = ca_bundle_sign_check(files, *cert, err)) != KR_OK) {
		ca_files_free(files);
		X509_free(*cert);
		*cert = NULL;
	}
	return rc;
}

enum kr_err
ca_bundle_sign_dir(const char *dir, struct ca_files *files,
    const struct ca_signer *s, const char *key_name, X509 *cert,
    const char *cert_name, time_t now, struct ca_bundle_sigs *sigs,
    struct kr_error *err)
{
	const struct ca_file *sf;
	struct ca_bundle_sigs mine;
	char path[PATH_MAX];
	enum kr_err rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    CA_BUNDLE_SIG) >= sizeof(path))
		return kr_fail(err, KR_E_USAGE, "%s: path too long", dir);
	if (EVP_PKEY_eq(s->pub, X509_get0_pubkey(cert)) != 1)
		return kr_fail(err, KR_E_USAGE, "key '%s' is not the key "
		    "certified in %s; check the key and the certificate",
		    key_name, cert_name);
	if ((rc = ca_bundle_sign(files, s, cert, now, err)) != KR_OK)
		return rc;
	if ((sf = ca_files_get(files, CA_BUNDLE_SIG)) == NULL)
		return kr_fail(err, KR_E_INTERNAL, "no %s after signing",
		    CA_BUNDLE_SIG);
	if ((rc = kr_file_write(path, sf->data, sf->len, 0644, 1, err)) !=
	    KR_OK)
		return rc;
	return ca_bundle_sigs(files, &cert, 1, sigs != NULL ? sigs : &mine,
	    err);
}

enum kr_err
ca_bundle_verify_path(const char *path, const char *const *trust,
    size_t ntrust, size_t min_signatures, const char *previous, time_t now,
    struct ca_manifest *m, struct ca_bundle_sigs *sigs, struct kr_error *err)
{
	struct ca_files files = { 0 };
	struct ca_bundle_policy pol;
	X509 **all = NULL, **one = NULL, **nt;
	uint8_t *prev = NULL;
	size_t nall = 0, n1, prevlen = 0, i, j;
	enum kr_err rc;

	for (i = 0; i < ntrust; i++) {
		if ((rc = ca_bundle_load_certs(trust[i], &one, &n1, err)) !=
		    KR_OK)
			goto out;
		if ((nt = realloc(all, (nall + n1) * sizeof(*nt))) == NULL) {
			ca_bundle_free_certs(one, n1);
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		all = nt;
		for (j = 0; j < n1; j++)
			all[nall++] = one[j];
		free(one);
		one = NULL;
	}
	if ((rc = ca_bundle_load_path(path, &files, err)) != KR_OK ||
	    (previous != NULL && (rc = ca_bundle_previous(previous, &prev,
	    &prevlen, err)) != KR_OK))
		goto out;
	pol = (struct ca_bundle_policy){ all, nall, min_signatures, prev,
	    prevlen, now };
	rc = ca_bundle_verify(&files, &pol, m, sigs, err);
out:
	ca_files_free(&files);
	if (all != NULL)
		ca_bundle_free_certs(all, nall);
	free(prev);
	return rc;
}

enum kr_err
ca_bundle_pack(const char *dir, const char *out, int force, size_t *nfiles,
    size_t *nsigs, struct kr_error *err)
{
	struct ca_files files = { 0 };
	struct ca_bundle_sigs sigs;
	uint8_t *tar = NULL;
	size_t len, i;
	enum kr_err rc;

	if ((rc = kr_out_check(out, force, err)) != KR_OK ||
	    (rc = ca_files_read_dir(dir, &files, err)) != KR_OK ||
	    (rc = ca_bundle_check(&files, NULL, err)) != KR_OK ||
	    (rc = ca_bundle_sigs(&files, NULL, 0, &sigs, err)) != KR_OK)
		goto out;
	for (i = 0; i < sigs.n; i++)
		if (!sigs.v[i].valid) {
			rc = kr_fail(err, KR_E_VERIFY, "%s: signature %zu (%s) "
			    "is not valid: %s", dir, i + 1, sigs.v[i].who,
			    sigs.v[i].why);
			goto out;
		}
	if ((rc = ca_tar_write(&files, &tar, &len, err)) != KR_OK ||
	    (rc = kr_file_write(out, tar, len, 0644, force, err)) != KR_OK)
		goto out;
	if (nfiles != NULL)
		*nfiles = files.n;
	if (nsigs != NULL)
		*nsigs = sigs.n;
out:
	free(tar);
	ca_files_free(&files);
	return rc;
}
