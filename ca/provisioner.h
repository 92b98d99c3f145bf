/*
 * provisioner.h: a provisioner is a named Ed25519 key allowed to mint
 * one-time tokens (token.h) for some names.  Two forms:
 *
 *  - the provisioner file (e.g. web.provisioner), which `keyrited
 *    provisioner add ... --out web.provisioner` writes and `keyrite
 *    token create` / `keyrite cert request --provisioner` read: JSON
 *    holding the name, the server URL, the allow lists, the maximum
 *    certificate lifetime and the secret key.  Mode 0600; the key is
 *    kept in sodium_malloc'd memory;
 *  - the public view in the daemon's configuration: the same without the
 *    server and secret key, and with the public key as a JWK.
 *
 * Both are parsed strictly: unknown members are errors.  The formats and
 * the name-matching rules are in docs/jws.md.
 */
#ifndef CA_PROVISIONER_H
#define CA_PROVISIONER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../common/kr.h"
#include "jws.h"

#define CA_PROV_FORMAT		"keyrite-provisioner"
#define CA_PROV_VERSION		1
#define CA_PROV_NAME_MAX	64	/* [A-Za-z0-9._-], alphanumeric first */
#define CA_PROV_SERVER_MAX	512
#define CA_PROV_ALLOW_MAX	64	/* entries in each allow list */
#define CA_PROV_FILE_MAX	65536	/* bytes of a provisioner file */
#define CA_PROV_LIFETIME_MIN	60		/* max_lifetime bounds, s */
#define CA_PROV_LIFETIME_MAX	(398LL * 86400)

struct ca_prov {
	char		 name[CA_PROV_NAME_MAX + 1];
	char		*server;	/* "https://..."; NULL in public view */
	char		**allow;	/* DNS patterns: ca_prov_dns_match */
	size_t		 nallow;
	char		**allow_ip;	/* CIDRs, see ca_prov_ip_match */
	size_t		 nallow_ip;
	long long	 max_lifetime;	/* of a certificate, seconds */
	struct ca_jws_key *key;		/* the public key */
	uint8_t		*sk;		/* libsodium secret key (64 bytes,
					   sodium_malloc'd); NULL in a public
					   view */
};

/*
 * A new provisioner with a fresh Ed25519 key.  name, server (an https
 * URL), the allow lists (DNS patterns and CIDRs; at least one entry in
 * all) and max_lifetime are checked as the parser checks them
 * (KR_E_USAGE otherwise).  Release with ca_prov_free.
 */
enum kr_err	 ca_prov_new(const char *name, const char *server,
		     const char *const *allow, size_t nallow,
		     const char *const *allow_ip, size_t nallow_ip,
		     long long max_lifetime, struct ca_prov **out,
		     struct kr_error *err) __attribute__((warn_unused_result));

/*
 * Parse a provisioner file's text (len bytes, at most CA_PROV_FILE_MAX).
 * Every member is required, none other is allowed; the secret key is the
 * 32-byte Ed25519 seed in base64url, decoded straight into sodium_malloc'd
 * memory.  While parsing, jansson frees through a wiping free, so the
 * key's text does not stay behind in the heap; text itself is the
 * caller's to wipe.  KR_E_PARSE naming the member on error.
 */
enum kr_err	 ca_prov_parse(const char *text, size_t len,
		     struct ca_prov **out, struct kr_error *err)
		     __attribute__((warn_unused_result));

/*
 * Read and parse a provisioner file.  It is refused (KR_E_POLICY) when
 * group or others may read or write it, as ssh refuses a private key.
 * The file's bytes are read into sodium_malloc'd memory and wiped.
 */
enum kr_err	 ca_prov_read(const char *path, struct ca_prov **out,
		     struct kr_error *err) __attribute__((warn_unused_result));

/*
 * Write p (which must hold its secret key) to path with mode 0600,
 * atomically, refusing an existing file unless force.  Every copy of the
 * secret made on the way is wiped.
 */
enum kr_err	 ca_prov_write(const struct ca_prov *p, const char *path,
		     int force, struct kr_error *err)
		     __attribute__((warn_unused_result));

/*
 * The public view of p as a new JSON object for the daemon's
 * configuration: {"name", "key" (JWK), "allow", "allow_ip",
 * "max_lifetime"}.  The caller json_decref()s *out.
 */
enum kr_err	 ca_prov_public_to_json(const struct ca_prov *p, json_t **out,
		     struct kr_error *err) __attribute__((warn_unused_result));

/* Parse a public view (strictly; the key must be Ed25519). */
enum kr_err	 ca_prov_public_from_json(const json_t *o,
		     struct ca_prov **out, struct kr_error *err)
		     __attribute__((warn_unused_result));

/* Release p, wiping its secret key; NULL is fine. */
void		 ca_prov_free(struct ca_prov *p);

/*
 * Whether the DNS name matches pattern.  Names are compared without
 * regard to ASCII case.  A pattern is either a host name, which matches
 * only itself, or "*." followed by a host name of at least two labels,
 * which matches exactly one more label in front of it, as a wildcard
 * certificate does: "*.web.lab.internal" matches "a.web.lab.internal"
 * but neither "web.lab.internal" nor "a.b.web.lab.internal".  The name
 * must be a valid host name (LDH labels of 1..63, 253 characters in
 * all, no trailing dot, last label not all digits) and not itself a
 * wildcard.  0 when anything is invalid.
 */
int		 ca_prov_dns_match(const char *pattern, const char *name);

/*
 * Whether the IP address ip (IPv4 dotted quad or IPv6) lies in cidr
 * ("10.0.0.0/8", "fd00::/8": prefix length required, host bits zero).
 * An IPv4 address never matches an IPv6 prefix and vice versa (not even
 * ::ffff:0:0/96).  0 when anything is invalid.
 */
int		 ca_prov_ip_match(const char *cidr, const char *ip);

/* Whether s is a valid allow pattern / CIDR (as the parsers require). */
int		 ca_prov_dns_pattern_ok(const char *s);
int		 ca_prov_cidr_ok(const char *s);
/*
 * Whether s is a provisioner name: 1 to CA_PROV_NAME_MAX of
 * [A-Za-z0-9._-], a letter or digit first.
 */
int		 ca_prov_name_ok(const char *s);

/*
 * Check that every name (sub, then the sans) is allowed for p: an IP
 * address must lie in one of allow_ip, anything else must be a host name
 * matching one of allow.  KR_E_POLICY naming the first one that is not.
 */
enum kr_err	 ca_prov_check_names(const struct ca_prov *p, const char *sub,
		     const char *const *sans, size_t nsans,
		     struct kr_error *err) __attribute__((warn_unused_result));

#endif /* CA_PROVISIONER_H */
