/*
 * tstate.h: keyrite-trust's state file (docs/trust.md), the endpoint's
 * memory of what it trusts: the anchors it installed, with their states,
 * the manifest.json of the last bundle it applied (so the next one must
 * name it), and the stores it wrote.  One JSON file, written atomically;
 * the parser is strict, as for any file another program could have
 * changed.
 */
#ifndef CA_TSTATE_H
#define CA_TSTATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "../common/kr.h"
#include "bundle.h"

#define CA_TSTATE_FORMAT	"keyrite-trust-state"
#define CA_TSTATE_MAX		(2 * 1024 * 1024)	/* bytes */
#define CA_TSTATE_MAX_STORES	32
#define CA_TSTATE_PATH_MAX	1024

/*
 * An anchor the endpoint trusts.  state 0 is the root pinned by
 * `bootstrap`, before any bundle; otherwise the bundle's state.
 */
struct ca_tstate_anchor {
	uint8_t			 sha256[32];	/* of the DER */
	char			*subject;
	enum ca_anchor_state	 state;		/* or 0: bootstrap */
	time_t			 remove_after;	/* retiring only */
	char			*pem;		/* the certificate */
};

struct ca_tstate {
	long long		 version;	/* last applied, 0: none */
	char			*manifest;	/* its manifest.json, or NULL */
	size_t			 manifest_len;
	time_t			 applied_at;	/* 0 if none */
	char			**stores;	/* "system", "pem:/path", ... */
	size_t			 nstores;
	struct ca_tstate_anchor	*anchors;
	size_t			 nanchors;
};

/*
 * Whether s names a store as the state records it: "debian", "rhel",
 * or "pem:", "nss:", "java:" and an absolute path of printable ASCII
 * without "//", "/./" or "/../" parts.
 */
int		 ca_tstate_store_ok(const char *s);

/*
 * Parse the state file strictly: exactly the documented members, no
 * duplicates; "manifest_sha256" is the SHA-256 of "manifest", which
 * parses as a bundle manifest of "version"; version 0 exactly when no
 * manifest; each anchor's certificate is one PEM certificate with that
 * SHA-256 and subject; remove_after exactly on retiring anchors; no
 * anchor or store twice.  KR_E_PARSE naming the member.  st is zeroed
 * first and freed on failure.
 */
enum kr_err	 ca_tstate_parse(const uint8_t *text, size_t len,
		     struct ca_tstate *st, struct kr_error *err);

/* Encode st (two-space indent, final newline); *out is malloc'd. */
enum kr_err	 ca_tstate_encode(const struct ca_tstate *st, char **out,
		     size_t *len, struct kr_error *err);

/* A time as the state writes it: RFC 3339 UTC, or JSON null for 0. */
json_t		*ca_tstate_jtime(time_t t);

/* Add a copy of anchor x (PEM-encoded) with its state. */
enum kr_err	 ca_tstate_add(struct ca_tstate *st, X509 *x,
		     enum ca_anchor_state state, time_t remove_after,
		     struct kr_error *err);

/* The index of the anchor with this fingerprint, or -1. */
long		 ca_tstate_find(const struct ca_tstate *st,
		     const uint8_t sha256[32]);

/* Drop anchor i. */
void		 ca_tstate_remove(struct ca_tstate *st, size_t i);

/* Anchor i's certificate (caller frees), or NULL. */
X509		*ca_tstate_cert(const struct ca_tstate *st, size_t i);

void		 ca_tstate_free(struct ca_tstate *st);

/* "bootstrap", or the bundle state's name. */
const char	*ca_tstate_state_name(enum ca_anchor_state);

#endif /* CA_TSTATE_H */
