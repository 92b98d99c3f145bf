/*
 * rotate.h: the steps of a root rotation as library calls, so that the
 * plain commands (keyrite root init --constraints-from, root
 * cross-sign, bundle build | sign | verify | pack) and the ceremony's
 * actions (rotate-root.yaml) run the same code.  Built on ca.h and
 * bundle.h; docs/bundle.md ("Rotation in a ceremony").
 */
#ifndef CA_ROTATE_H
#define CA_ROTATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "../common/kr.h"
#include "bundle.h"
#include "ca.h"
#include "tar.h"

/*
 * ca_root_build, with the name constraints of model (normally the root
 * being replaced) copied exactly: the new certificate's
 * nameConstraints extension must come out byte for byte as model's,
 * with the same criticality, or nothing is built (KR_E_POLICY naming
 * model_name: excluded subtrees, name types other than DNS and IP, or
 * an order ca_root_build does not write cannot be copied).  A model
 * without name constraints gives a root without them.
 */
enum kr_err	 ca_root_build_like(const char *subject, EVP_PKEY *pub,
		     const struct pol_profile *p, long long validity,
		     X509 *model, const char *model_name, time_t now,
		     X509 **out, struct kr_error *err);

/*
 * The permitted subtrees of x's name constraints as text, "DNS:lab.
 * internal, IP:10.0.0.0/8" ("none" without them), to be read aloud.
 */
void		 ca_name_constraints_text(X509 *x, char *buf, size_t sz);

/*
 * What `keyrite root cross-sign` does before any key is asked for:
 * load the profile (default "cross"; it must be an intermediate-kind
 * profile), build the cross-certificate's TBS for subject issued by
 * issuer (ca_cross_build) and lint it with a throwaway key
 * (ca_precheck_cert).  prof receives the profile for ca_sign_cert.
 */
enum kr_err	 ca_cross_prepare(X509 *subject, X509 *issuer,
		     const char *profile, long long validity, time_t now,
		     struct pol_profile *prof, X509 **tbs,
		     struct kr_error *err);

/*
 * "2027-06-30" (midnight UTC) or "2027-06-30T00:00:00Z", as bundle
 * build takes --remove-after; -1 if neither.
 */
time_t		 ca_date_parse(const char *s);

/* A bundle from a directory, or from an archive made by ca_tar_write. */
enum kr_err	 ca_bundle_load_path(const char *path, struct ca_files *out,
		     struct kr_error *err);

/*
 * The manifest.json bytes (malloc'd, NUL-terminated) of the bundle at
 * path (directory or archive), which must pass ca_bundle_check: the
 * previous bundle of a new one, or the one an endpoint applied last.
 */
enum kr_err	 ca_bundle_previous(const char *path, uint8_t **out,
		     size_t *len, struct kr_error *err);

/* What `keyrite bundle build` is given. */
struct ca_bundle_request {
	const char *const		*anchors;	/* certificate files */
	const enum ca_anchor_state	*states;
	size_t				 nanchors;
	const char *const		*cross;		/* certificate files */
	size_t				 ncross;
	const char			*previous;	/* bundle, or NULL */
	time_t				 remove_after;	/* retiring ones */
	long long			 lifetime;	/* seconds */
	time_t				 now;
	const char			*out;		/* new directory */
};

/*
 * Load the certificates and the previous bundle, build the bundle
 * (ca_bundle_build), write it as the new directory out, and check what
 * was written (ca_bundle_check).  m (may be NULL) receives the
 * manifest.  Errors name the file they are about.
 */
enum kr_err	 ca_bundle_make(const struct ca_bundle_request *r,
		     struct ca_manifest *m, struct kr_error *err);

/*
 * Everything `bundle sign` refuses before a key is asked for: read the
 * bundle directory dir and the certificate certpath, and check
 * ca_bundle_sign_check.  files and *cert are the caller's.
 */
enum kr_err	 ca_bundle_sign_prepare(const char *dir, const char *certpath,
		     struct ca_files *files, X509 **cert,
		     struct kr_error *err);

/*
 * Sign files (read from dir by ca_bundle_sign_prepare) with s, whose
 * key must be cert's (KR_E_USAGE naming key_name and cert_name
 * otherwise), replace dir/manifest.json.sig atomically, and report in
 * sigs (may be NULL) the signatures it now carries, trusted under cert.
 */
enum kr_err	 ca_bundle_sign_dir(const char *dir, struct ca_files *files,
		     const struct ca_signer *s, const char *key_name,
		     X509 *cert, const char *cert_name, time_t now,
		     struct ca_bundle_sigs *sigs, struct kr_error *err);

/*
 * `bundle verify`: the bundle at path (directory or archive) against
 * the roots in the files trust[0..ntrust) (each PEM with one or more
 * certificates, or one DER), with min_signatures distinct trusted keys
 * and, with previous, the version chain (ca_bundle_verify).  m and
 * sigs receive what was found, also on a verification failure.
 */
enum kr_err	 ca_bundle_verify_path(const char *path,
		     const char *const *trust, size_t ntrust,
		     size_t min_signatures, const char *previous, time_t now,
		     struct ca_manifest *m, struct ca_bundle_sigs *sigs,
		     struct kr_error *err);

/*
 * `bundle pack`: check the bundle directory dir, that it carries at
 * least one signature and every signature verifies under the
 * certificate it carries, and write the deterministic archive to out
 * (kr_file_write with force).  nfiles and nsigs (may be NULL) receive
 * the counts.
 */
enum kr_err	 ca_bundle_pack(const char *dir, const char *out, int force,
		     size_t *nfiles, size_t *nsigs, struct kr_error *err);

#endif /* CA_ROTATE_H */
