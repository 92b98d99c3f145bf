/*
 * bundle.h: signed root-rotation bundles (docs/bundle.md).  A bundle is
 * a flat set of files (tar.h):
 *
 *   manifest.json        what the bundle says: version, the previous
 *                        manifest's hash, issue and expiry time, every
 *                        anchor with its state, the cross-certificates,
 *                        the hash of every other file
 *   manifest.json.sig    detached CMS SignedData over manifest.json's
 *                        bytes, one SignerInfo per signing root
 *   anchor-<hex>.pem     each anchor (a self-signed root)
 *   cross-<hex>.pem      each cross-certificate
 *   anchors.pem          the anchors as one PEM bundle
 *   bundle.p7b           the anchors as a certs-only PKCS#7 (DER)
 *   truststore.p12       the anchors as a PKCS#12 truststore that Java
 *                        lists as trustedCertEntry (password "changeit")
 *   install-windows.ps1  adds the anchors to LocalMachine\Root, removes
 *                        retired ones by thumbprint
 *   install-macos.sh     the same for the macOS System keychain
 *
 * Signatures are made through a struct ca_signer, so the key may stay
 * in a token: keyrite computes the DER of the signed attributes and the
 * signer signs those bytes.  Trust is in keys: a signature counts when
 * it verifies under the key of a trusted root, and each key counts
 * once, however many certificates carry it.
 */
#ifndef CA_BUNDLE_H
#define CA_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "../common/kr.h"
#include "ca.h"
#include "tar.h"

#define CA_BUNDLE_FORMAT	"keyrite-bundle"
#define CA_BUNDLE_MANIFEST	"manifest.json"
#define CA_BUNDLE_SIG		"manifest.json.sig"
#define CA_BUNDLE_PEM		"anchors.pem"
#define CA_BUNDLE_P7B		"bundle.p7b"
#define CA_BUNDLE_P12		"truststore.p12"
#define CA_BUNDLE_P12_PASS	"changeit"	/* Java's usual; public */
#define CA_BUNDLE_PS1		"install-windows.ps1"
#define CA_BUNDLE_MACOS		"install-macos.sh"

#define CA_BUNDLE_MANIFEST_MAX	(256 * 1024)	/* bytes */
#define CA_BUNDLE_SIG_MAX	(1024 * 1024)	/* bytes */
#define CA_BUNDLE_MAX_ANCHORS	32
#define CA_BUNDLE_MAX_CROSS	64
#define CA_BUNDLE_MAX_SIGNERS	16
#define CA_BUNDLE_MAX_LIFETIME	(1096LL * 86400)	/* 3 years */
#define CA_BUNDLE_SKEW		300	/* s issued_at may lie ahead */

enum ca_anchor_state {
	CA_ANCHOR_NEXT = 1,	/* trust it now; it will issue later */
	CA_ANCHOR_ACTIVE = 2,	/* issues now */
	CA_ANCHOR_RETIRING = 3,	/* still trusted until remove_after */
};

/* "next" -> CA_ANCHOR_NEXT ...; 0 if unknown. */
enum ca_anchor_state ca_anchor_state_from_name(const char *);
const char	*ca_anchor_state_name(enum ca_anchor_state);

struct ca_bundle_anchor {
	char			*file;
	uint8_t			 sha256[32];	/* of the DER */
	uint8_t			 spki_sha256[32]; /* of the SPKI DER */
	char			*subject;
	time_t			 not_before;
	time_t			 not_after;
	enum ca_anchor_state	 state;
	time_t			 remove_after;	/* or 0 */
};

struct ca_bundle_cross {
	char			*file;
	uint8_t			 sha256[32];
	char			*subject;
	char			*issuer;
};

/* anchors.pem, bundle.p7b, truststore.p12, the scripts and their hashes. */
struct ca_bundle_export {
	char			*file;
	uint8_t			 sha256[32];
};

struct ca_manifest {
	long long		 version;	/* 1, 2, ... */
	int			 has_previous;	/* version > 1 */
	uint8_t			 previous[32];	/* its SHA-256 */
	time_t			 issued_at;
	time_t			 expires;
	struct ca_bundle_anchor	*anchors;
	size_t			 nanchors;
	struct ca_bundle_cross	*cross;
	size_t			 ncross;
	struct ca_bundle_export	*exports;
	size_t			 nexports;
};

/*
 * Parse manifest.json strictly: a JSON object with exactly the members
 * docs/bundle.md lists (unknown or duplicate members, wrong types,
 * malformed hashes, times, names and states are KR_E_PARSE naming the
 * member, e.g. "anchors[1].state").  It also checks what the manifest
 * says of itself: version 1 has no previous hash and later ones have
 * one; expires after issued_at; at least one active anchor;
 * remove_after exactly on retiring anchors; file names good, distinct,
 * not reserved; no anchor listed twice.  Nothing is checked against
 * files or keys here.  m is zeroed first and freed on failure.
 */
enum kr_err	 ca_manifest_parse(const uint8_t *text, size_t len,
		     struct ca_manifest *m, struct kr_error *err);

/*
 * Encode m as manifest.json: members in the documented order, two-space
 * indent, a final newline.  Parsing the result gives m back.  *out is
 * malloc'd (caller frees).
 */
enum kr_err	 ca_manifest_encode(const struct ca_manifest *m, char **out,
		     size_t *len, struct kr_error *err);

void		 ca_manifest_free(struct ca_manifest *m);

/* "2026-05-01T12:00:00Z", and its strict inverse (-1 if malformed). */
void		 ca_time_rfc3339(time_t t, char buf[32]);
time_t		 ca_time_parse_rfc3339(const char *s);

/* What goes into a new bundle. */
struct ca_bundle_spec {
	X509			*const *anchors;
	const enum ca_anchor_state *states;
	size_t			 nanchors;
	time_t			 remove_after;	/* for retiring ones */
	X509			*const *cross;
	size_t			 ncross;
	const uint8_t		*prev;		/* previous manifest.json */
	size_t			 prevlen;	/* (NULL: version 1) */
	time_t			 now;
	long long		 lifetime;	/* seconds */
};

/*
 * Make the files of a new, unsigned bundle.  Each anchor must be a
 * self-signed CA certificate whose signature verifies and that has not
 * expired, listed once; one at least must be active; retiring anchors
 * need remove_after later than now.  Each cross-certificate must be a
 * CA certificate for the key of an anchor, issued and signed by
 * another anchor.  With prev, the version is the previous one's plus
 * one and the previous hash is SHA-256(prev); otherwise version 1.
 * The lifetime is at most CA_BUNDLE_MAX_LIFETIME.  out is empty first.
 */
enum kr_err	 ca_bundle_build(const struct ca_bundle_spec *s,
		     struct ca_files *out, struct kr_error *err);

/*
 * Check a bundle's files against its manifest, without any trust: the
 * manifest parses; every file it lists is there with its SHA-256; no
 * other file is there but manifest.json.sig; each anchor and
 * cross-certificate agrees with what the manifest says of it and meets
 * ca_bundle_build's rules; anchors.pem, bundle.p7b and truststore.p12
 * hold exactly the anchors.  m (may be NULL) receives the manifest.
 * KR_E_VERIFY for a hash or content mismatch, KR_E_PARSE for malformed
 * files.
 */
enum kr_err	 ca_bundle_check(const struct ca_files *b,
		     struct ca_manifest *m, struct kr_error *err);

/*
 * Before a key is asked for: would ca_bundle_sign accept signcert?  The
 * bundle passes ca_bundle_check, its manifest.json.sig (if any) parses
 * and was made over this manifest.json, and no signature in it is by
 * signcert's key.
 */
enum kr_err	 ca_bundle_sign_check(const struct ca_files *b,
		     X509 *signcert, struct kr_error *err);

/*
 * Add a signature by s, whose certificate (a CA certificate for s's
 * key, normally the root itself) is signcert, to manifest.json.sig,
 * creating it for the first signature and keeping every signature
 * already there.  The SignerInfo names the key by its
 * subjectKeyIdentifier and carries signed attributes content-type,
 * message-digest and signing-time (now); s signs their DER.  The
 * SignedData carries the bundle's cross-certificates and, for a key no
 * cross-certificate of the bundle certifies, signcert, so that `openssl
 * cms -verify -CAfile ROOT` finds a chain to either root.  The new
 * signature is verified before the file is replaced in b.
 */
enum kr_err	 ca_bundle_sign(struct ca_files *b,
		     const struct ca_signer *s, X509 *signcert, time_t now,
		     struct kr_error *err);

/* What was found of one SignerInfo. */
struct ca_bundle_sig {
	int		 valid;		/* verifies under the key */
	int		 trusted;	/* that key is a trusted root's */
	int		 counted;	/* the first valid one of its key */
	int		 key_known;	/* spki_sha256 is set */
	uint8_t		 spki_sha256[32];
	char		 who[256];	/* subject, escaped */
	char		 why[160];	/* why it is not valid */
};

struct ca_bundle_sigs {
	struct ca_bundle_sig	 v[CA_BUNDLE_MAX_SIGNERS];
	size_t			 n;
	size_t			 ntrusted; /* distinct trusted keys */
};

/*
 * Check every SignerInfo of manifest.json.sig over manifest.json's
 * bytes: the message digest (SHA-256/384/512) and content type, and
 * the signature under each trusted root's key (trust[0..ntrust); any
 * certificate for the key will do), else under a certificate the
 * SignedData carries for the key it names (valid, not trusted).  out
 * counts distinct trusted keys with a valid signature.  KR_E_PARSE if
 * the signature file is missing or malformed; bad signatures are
 * reported in out, not as an error.
 */
enum kr_err	 ca_bundle_sigs(const struct ca_files *b, X509 *const *trust,
		     size_t ntrust, struct ca_bundle_sigs *out,
		     struct kr_error *err);

struct ca_bundle_policy {
	X509			*const *trust;
	size_t			 ntrust;
	size_t			 min_signatures; /* distinct keys, >= 1 */
	const uint8_t		*prev;		/* manifest.json applied */
	size_t			 prevlen;	/* last, or NULL */
	time_t			 now;
};

/*
 * Verify a bundle: signatures first, over the raw manifest bytes (at
 * least min_signatures distinct trusted keys, KR_E_VERIFY otherwise);
 * then ca_bundle_check; then, with prev, the version must be exactly
 * prev's plus one and the previous hash SHA-256(prev) (KR_E_STATE for
 * rollback, replay, a skipped version or a fork); then time: not
 * expired, not issued more than CA_BUNDLE_SKEW in the future
 * (KR_E_STATE).  m and sigs (each may be NULL) receive what was found,
 * also on failure where they got that far.
 */
enum kr_err	 ca_bundle_verify(const struct ca_files *b,
		     const struct ca_bundle_policy *p, struct ca_manifest *m,
		     struct ca_bundle_sigs *sigs, struct kr_error *err);

/*
 * Read every certificate in path (PEM, several allowed; or one DER)
 * into a malloc'd array.  KR_E_PARSE if there is none.
 */
enum kr_err	 ca_bundle_load_certs(const char *path, X509 ***out,
		     size_t *n, struct kr_error *err);
void		 ca_bundle_free_certs(X509 **v, size_t n);

/* SHA-256 of a certificate's SubjectPublicKeyInfo DER. */
void		 ca_spki_sha256(X509 *, uint8_t out[32]);

#endif /* CA_BUNDLE_H */
