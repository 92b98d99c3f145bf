/*
 * uri.c: RFC 7512 PKCS#11 URI parser.
 *
 *   pk11-URI = "pkcs11:" pk11-path [ "?" pk11-query ]
 *   pk11-path = pk11-pattr *(";" pk11-pattr)
 *   pk11-query = pk11-qattr *("&" pk11-qattr)
 *
 * Values are percent-decoded.  An attribute may appear once.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "uri.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Percent-decode [s, s+n) into a new buffer of at most n+1 bytes.
 * *outlen gets the decoded length.  NULL on bad encoding or no memory
 * (*bad is set for the former).
 */
static uint8_t *
pct_decode(const char *s, size_t n, size_t *outlen, int *bad)
{
	uint8_t *o;
	size_t i, j = 0;
	int h, l;

	*bad = 0;
	if ((o = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			o[j++] = (uint8_t)s[i];
			continue;
		}
		if (i + 2 >= n ||
		    (h = hexval((unsigned char)s[i + 1])) < 0 ||
		    (l = hexval((unsigned char)s[i + 2])) < 0) {
			*bad = 1;
			free(o);
			return NULL;
		}
		o[j++] = (uint8_t)(h << 4 | l);
		i += 2;
	}
	o[j] = '\0';
	*outlen = j;
	return o;
}

/* Path attributes and where they go. */
enum attr_kind { A_STR, A_ID, A_SLOT, A_IGNORED };
struct attr {
	const char	*name;
	enum attr_kind	 kind;
	size_t		 off;
	int		 query;
};

#define F(field) offsetof(struct hsm_uri, field)
static const struct attr attrs[] = {
	{ "token", A_STR, F(token), 0 },
	{ "manufacturer", A_STR, F(manufacturer), 0 },
	{ "serial", A_STR, F(serial), 0 },
	{ "model", A_STR, F(model), 0 },
	{ "object", A_STR, F(object), 0 },
	{ "type", A_STR, F(type), 0 },
	{ "id", A_ID, 0, 0 },
	{ "slot-description", A_STR, F(slot_description), 0 },
	{ "slot-manufacturer", A_STR, F(slot_manufacturer), 0 },
	{ "slot-id", A_SLOT, 0, 0 },
	{ "library-manufacturer", A_STR, F(library_manufacturer), 0 },
	{ "library-description", A_STR, F(library_description), 0 },
	{ "library-version", A_IGNORED, 0, 0 },
	{ "pin-source", A_STR, F(pin_source), 1 },
	{ "module-path", A_STR, F(module_path), 1 },
	{ "module-name", A_STR, F(module_name), 1 },
};
#undef F

static const char *const types[] = {
	"private", "public", "cert", "secret-key", "data", NULL
};

static enum kr_err
set_attr(struct hsm_uri *u, const char *name, size_t nlen, const char *val,
    size_t vlen, int query, unsigned *seen, struct kr_error *err)
{
	const struct attr *a = NULL;
	uint8_t *dec;
	size_t i, dlen;
	char *end;
	int bad;

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (strlen(attrs[i].name) == nlen &&
		    memcmp(attrs[i].name, name, nlen) == 0)
			break;
	if (i == sizeof(attrs) / sizeof(attrs[0])) {
		if (nlen > 2 && memcmp(name, "x-", 2) == 0)
			return KR_OK;	/* vendor attribute: ignored */
		if (query && nlen == 9 && memcmp(name, "pin-value", 9) == 0)
			return kr_fail(err, KR_E_USAGE, "pkcs11 URI: "
			    "pin-value is refused: a PIN on the command line "
			    "is visible to every user; use pin-source or "
			    "--pin-file");
		return kr_fail(err, KR_E_PARSE, "pkcs11 URI: unknown "
		    "attribute '%.*s'", (int)nlen, name);
	}
	a = &attrs[i];
	if (a->query != query)
		return kr_fail(err, KR_E_PARSE, "pkcs11 URI: '%s' belongs in "
		    "the %s part", a->name, a->query ? "query (?...)" :
		    "path (before ?)");
	if (*seen & (1u << i))
		return kr_fail(err, KR_E_PARSE, "pkcs11 URI: attribute '%s' "
		    "given twice", a->name);
	*seen |= 1u << i;
	if ((dec = pct_decode(val, vlen, &dlen, &bad)) == NULL)
		return bad ? kr_fail(err, KR_E_PARSE, "pkcs11 URI: bad "
		    "percent-encoding in '%s'", a->name) :
		    kr_fail(err, KR_E_NOMEM, "out of memory");
	switch (a->kind) {
	case A_ID:
		if (dlen == 0 || dlen > HSM_URI_ID_MAX) {
			free(dec);
			return kr_fail(err, KR_E_PARSE, "pkcs11 URI: id must "
			    "be 1 to %d bytes", HSM_URI_ID_MAX);
		}
		memcpy(u->id, dec, dlen);
		u->id_len = dlen;
		free(dec);
		return KR_OK;
	case A_SLOT:
		errno = 0;
		u->slot_id = strtol((char *)dec, &end, 10);
		if (errno != 0 || dlen == 0 || *end != '\0' || u->slot_id < 0) {
			free(dec);
			return kr_fail(err, KR_E_PARSE, "pkcs11 URI: slot-id "
			    "must be a decimal number");
		}
		free(dec);
		return KR_OK;
	case A_IGNORED:		/* library-version: accepted, unused */
		free(dec);
		return KR_OK;
	case A_STR:
		break;
	}
	if (strlen((char *)dec) != dlen) {
		free(dec);
		return kr_fail(err, KR_E_PARSE, "pkcs11 URI: '%s' contains a "
		    "NUL byte", a->name);
	}
	if (strcmp(a->name, "type") == 0) {
		for (i = 0; types[i] != NULL; i++)
			if (strcmp(types[i], (char *)dec) == 0)
				break;
		if (types[i] == NULL) {
			free(dec);
			return kr_fail(err, KR_E_PARSE, "pkcs11 URI: type must "
			    "be private, public, cert, secret-key or data");
		}
	}
	*(char **)((char *)u + a->off) = (char *)dec;
	return KR_OK;
}

/* Parse one ';' or '&' separated list of name=value. */
static enum kr_err
parse_list(struct hsm_uri *u, const char *s, size_t n, char sep, int query,
    unsigned *seen, struct kr_error *err)
{
	const char *p = s, *end = s + n, *e, *eq;
	enum kr_err rc;

	while (p < end) {
		e = memchr(p, sep, (size_t)(end - p));
		if (e == NULL)
			e = end;
		if (e == p)
			return kr_fail(err, KR_E_PARSE, "pkcs11 URI: empty "
			    "attribute (two '%c' in a row?)", sep);
		eq = memchr(p, '=', (size_t)(e - p));
		if (eq == NULL || eq == p)
			return kr_fail(err, KR_E_PARSE, "pkcs11 URI: '%.*s' is "
			    "not name=value", (int)(e - p), p);
		rc = set_attr(u, p, (size_t)(eq - p), eq + 1,
		    (size_t)(e - eq - 1), query, seen, err);
		if (rc != KR_OK)
			return rc;
		p = e + (e < end);
	}
	return KR_OK;
}

enum kr_err
hsm_uri_parse(const char *s, struct hsm_uri *u, struct kr_error *err)
{
	const char *path, *q;
	unsigned seen = 0;
	enum kr_err rc;

	memset(u, 0, sizeof(*u));
	u->slot_id = -1;
	if (s == NULL || strncasecmp(s, "pkcs11:", 7) != 0)
		return kr_fail(err, KR_E_PARSE, "'%s' is not a pkcs11: URI "
		    "(RFC 7512), e.g. 'pkcs11:token=Lab%%20Root;object=root-2026'",
		    s == NULL ? "" : s);
	path = s + 7;
	q = strchr(path, '?');
	rc = parse_list(u, path, q ? (size_t)(q - path) : strlen(path), ';', 0,
	    &seen, err);
	if (rc == KR_OK && q != NULL)
		rc = parse_list(u, q + 1, strlen(q + 1), '&', 1, &seen, err);
	if (rc != KR_OK)
		hsm_uri_free(u);
	return rc;
}

void
hsm_uri_free(struct hsm_uri *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (attrs[i].kind == A_STR)
			free(*(char **)((char *)u + attrs[i].off));
	memset(u, 0, sizeof(*u));
	u->slot_id = -1;
}

/* Append name=value, percent-encoding what is not unreserved. */
static void
append(char *buf, size_t sz, size_t *o, const char *name,
    const uint8_t *v, size_t n, int *first)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i;

	if (*o + strlen(name) + 3 >= sz)
		return;
	*o += (size_t)snprintf(buf + *o, sz - *o, "%s%s=", *first ? "" : ";",
	    name);
	*first = 0;
	for (i = 0; i < n && *o + 4 < sz; i++) {
		if (isalnum(v[i]) || strchr("-._~", v[i]) != NULL) {
			buf[(*o)++] = (char)v[i];
		} else {
			buf[(*o)++] = '%';
			buf[(*o)++] = hx[v[i] >> 4];
			buf[(*o)++] = hx[v[i] & 15];
		}
	}
	buf[*o] = '\0';
}

char *
hsm_uri_format(const struct hsm_uri *u)
{
	char buf[1024];
	size_t o;
	int first = 1;

	o = (size_t)snprintf(buf, sizeof(buf), "pkcs11:");
#define S(n, f) if (u->f) append(buf, sizeof(buf), &o, n, \
    (const uint8_t *)u->f, strlen(u->f), &first)
	S("token", token);
	S("serial", serial);
	S("object", object);
#undef S
	if (u->id_len > 0)
		append(buf, sizeof(buf), &o, "id", u->id, u->id_len, &first);
	return strdup(buf);
}
