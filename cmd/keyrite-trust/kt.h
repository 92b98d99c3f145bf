/*
 * kt.h: keyrite-trust, the endpoint tool that applies signed rotation
 * bundles to the trust stores of a host (docs/trust.md).  It links only
 * OpenSSL, libcurl and (statically) jansson: the bundle reader and
 * verifier are those of `keyrite bundle verify` (ca/bundle.c), with the
 * tar reader and the state file (ca/tstate.c).
 */
#ifndef KT_H
#define KT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "common/kr.h"

#define EXIT_USAGE	2

enum kt_type {
	KT_DEBIAN = 1,	/* /usr/local/share/ca-certificates + update-ca-certificates */
	KT_RHEL,	/* /etc/pki/ca-trust/source/anchors + update-ca-trust */
	KT_PEM,		/* one PEM file keyrite-trust owns */
	KT_NSS,		/* an NSS database, certutil */
	KT_JAVA,	/* a Java keystore, keytool */
};

/* A certificate found in a store under a keyrite-<fpr16> name. */
struct kt_entry {
	char		 name[32];	/* keyrite-<16 hex> */
	uint8_t		 sha256[32];	/* of what is there */
	X509		*cert;
};

struct kt_store {
	enum kt_type	 type;
	char		 id[8 + PATH_MAX];	/* "debian", "pem:/etc/..." */
	char		 path[PATH_MAX];	/* logical, for pem/nss/java */
	char		 real[PATH_MAX];	/* with --root-dir */
	struct kt_entry	*entries;		/* after kt_store_list */
	size_t		 nentries;
	int		 dirty;			/* changed, not committed */
	/* PEM store: the file's certificates as they will be written. */
	X509		**pem;
	size_t		 npem;
};

struct kt_ctx {
	const char	*root;		/* "" for / */
	const char	*storepass_file; /* Java, or NULL: "changeit" */
	int		 verbose;
};

/* root + logical path into out; KR_E_USAGE if too long. */
enum kr_err	 kt_path(const struct kt_ctx *, const char *logical,
		     char *out, size_t sz, struct kr_error *err);

/* Make a store from its state id ("debian", "nss:/root/.pki/nssdb"). */
enum kr_err	 kt_store_init(const struct kt_ctx *, struct kt_store *,
		     const char *id, struct kr_error *err);
void		 kt_store_free(struct kt_store *);

/* Read the keyrite entries of the store into s->entries. */
enum kr_err	 kt_store_list(const struct kt_ctx *, struct kt_store *,
		     struct kr_error *err);

/* The entry with this fingerprint (content), or NULL. */
const struct kt_entry *kt_store_has(const struct kt_store *,
		     const uint8_t sha256[32]);

/* Add x as keyrite-<fpr16>; replaces a different certificate there. */
enum kr_err	 kt_store_add(const struct kt_ctx *, struct kt_store *,
		     X509 *x, struct kr_error *err);

/* Remove the entry named e->name. */
enum kr_err	 kt_store_remove(const struct kt_ctx *, struct kt_store *,
		     const struct kt_entry *e, struct kr_error *err);

/* Make the changes take effect (update-ca-certificates, the PEM file). */
enum kr_err	 kt_store_commit(const struct kt_ctx *, struct kt_store *,
		     struct kr_error *err);

/*
 * Does the store, as applications read it, trust target (an anchor, or
 * a leaf with the certificates in chain)?  1 yes, 0 no with why, -1 on
 * error (err).  Builds a chain: OpenSSL against the file the store
 * serves, vfychain against an NSS database.
 */
int		 kt_store_trusts(const struct kt_ctx *, struct kt_store *,
		     X509 *target, STACK_OF(X509) *chain, char *why,
		     size_t whysz, struct kr_error *err);

/* The file or database status checks against, for messages. */
const char	*kt_store_served(const struct kt_store *, char *buf,
		     size_t sz);

/*
 * Run argv (no shell) and wait.  stdout (up to 8 MiB) into *out when
 * out is not NULL (malloc'd, NUL-terminated), stderr (its lines joined
 * by ';') into errline.  Returns the exit status (0-255), or -1 with err set if it
 * could not run.
 */
int		 kt_run(const char *const argv[], char **out, size_t *outlen,
		     char *errline, size_t errsz, struct kr_error *err);

/* Whether a program is in PATH. */
int		 kt_have(const char *prog);

/* Fetch an http(s) URL into memory, at most max bytes. */
enum kr_err	 kt_fetch(const char *url, size_t max, long timeout,
		     uint8_t **out, size_t *len, struct kr_error *err);

/* "keyrite-<first 16 hex of sha256>". */
void		 kt_entry_name(const uint8_t sha256[32], char out[32]);

#endif /* KT_H */
