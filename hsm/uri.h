/*
 * uri.h: RFC 7512 "pkcs11:" URIs, the only way keyrite names a token or a
 * key (never a slot number: modules renumber slots).
 */
#ifndef HSM_URI_H
#define HSM_URI_H

#include <stddef.h>
#include <stdint.h>

#include "../common/kr.h"

#define HSM_URI_ID_MAX 64

/*
 * A parsed URI.  Strings are NUL-terminated, percent-decoded, and NULL
 * when the attribute is absent.  id is raw bytes (id_len 0 = absent).
 */
struct hsm_uri {
	char		*token;		/* CKA token label */
	char		*manufacturer;
	char		*serial;
	char		*model;
	char		*object;	/* CKA_LABEL */
	char		*type;		/* private, public, cert, secret-key, data */
	uint8_t		 id[HSM_URI_ID_MAX];
	size_t		 id_len;
	char		*slot_description;
	char		*slot_manufacturer;
	long		 slot_id;	/* -1 = absent */
	char		*library_manufacturer;
	char		*library_description;
	char		*pin_source;	/* query: a file path or file: URI */
	char		*module_path;	/* query */
	char		*module_name;	/* query */
};

/*
 * Parse s.  Unknown attributes (other than vendor "x-" ones), repeated
 * attributes, bad percent-encoding, and pin-value (a PIN must never be
 * on a command line) are errors naming the attribute.  The caller frees
 * with hsm_uri_free.
 */
enum kr_err	 hsm_uri_parse(const char *s, struct hsm_uri *out,
		     struct kr_error *err);
void		 hsm_uri_free(struct hsm_uri *);

/*
 * Format the token part of u (and object, id) back as a URI for
 * messages, percent-encoding as RFC 7512 asks.  Returns a malloc'd
 * string or NULL.
 */
char		*hsm_uri_format(const struct hsm_uri *u);

#endif /* HSM_URI_H */
