/*
 * profile.c: read certificate profiles from strict YAML.  Every key is
 * known, every required key is present, every value has the right type
 * and range, or the profile is refused with a message that names the
 * file and the line.  See docs/profiles.md for the format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>
#include <yaml.h>

#include "../common/file.h"
#include "profile.h"

#ifndef KEYRITE_DATADIR
#define KEYRITE_DATADIR "/usr/local/share/keyrite"
#endif

#define PROFILE_MAX_BYTES	(64 * 1024)
#define PROFILE_VERSION		1
#define PATH_LEN_MAX		16
/* 100 years: keeps every time computation far from overflow. */
#define VALIDITY_MAX		(36500LL * 86400)
#define BACKDATE_MAX		86400LL

enum pkey {
	K_VERSION,
	K_NAME,
	K_KIND,
	K_MAX_VALIDITY,
	K_DEFAULT_VALIDITY,
	K_BACKDATE,
	K_PATH_LEN,
	K_KEY_USAGE,
	K_EXT_KEY_USAGE,
	K_KEY_TYPES,
	K_REQUIRE_SAN,
	K_NAME_CONSTRAINTS,
	K_REQUIRE_CDP,
	K_REQUIRE_AIA,
	K_COUNT
};

static const char *const key_names[K_COUNT] = {
	[K_VERSION] = "version",
	[K_NAME] = "name",
	[K_KIND] = "kind",
	[K_MAX_VALIDITY] = "max_validity",
	[K_DEFAULT_VALIDITY] = "default_validity",
	[K_BACKDATE] = "backdate",
	[K_PATH_LEN] = "path_len",
	[K_KEY_USAGE] = "key_usage",
	[K_EXT_KEY_USAGE] = "ext_key_usage",
	[K_KEY_TYPES] = "key_types",
	[K_REQUIRE_SAN] = "require_san",
	[K_NAME_CONSTRAINTS] = "name_constraints",
	[K_REQUIRE_CDP] = "require_cdp",
	[K_REQUIRE_AIA] = "require_aia",
};

struct name_bit {
	const char	*name;
	unsigned	 bit;
};

static const struct name_bit ku_names[] = {
	{ "digitalSignature", KU_DIGITAL_SIGNATURE },
	{ "nonRepudiation", KU_NON_REPUDIATION },
	{ "contentCommitment", KU_NON_REPUDIATION },
	{ "keyEncipherment", KU_KEY_ENCIPHERMENT },
	{ "dataEncipherment", KU_DATA_ENCIPHERMENT },
	{ "keyAgreement", KU_KEY_AGREEMENT },
	{ "keyCertSign", KU_KEY_CERT_SIGN },
	{ "cRLSign", KU_CRL_SIGN },
	{ NULL, 0 }
};

static const struct name_bit eku_names[] = {
	{ "serverAuth", POL_EKU_SERVER_AUTH },
	{ "clientAuth", POL_EKU_CLIENT_AUTH },
	{ NULL, 0 }
};

static const struct name_bit key_type_names[] = {
	{ "ec-p256", POL_KEY_EC_P256 },
	{ "ec-p384", POL_KEY_EC_P384 },
	{ "rsa-2048", POL_KEY_RSA_2048 },
	{ "rsa-3072", POL_KEY_RSA_3072 },
	{ "rsa-4096", POL_KEY_RSA_4096 },
	{ NULL, 0 }
};

static const struct name_bit kind_names[] = {
	{ "root", POL_KIND_ROOT },
	{ "intermediate", POL_KIND_INTERMEDIATE },
	{ "leaf", POL_KIND_LEAF },
	{ NULL, 0 }
};

static const struct name_bit nc_names[] = {
	{ "forbidden", POL_NC_FORBIDDEN },
	{ "optional", POL_NC_OPTIONAL },
	{ "required", POL_NC_REQUIRED },
	{ NULL, 0 }
};

/* State of one parse: where messages point and what was seen where. */
struct pctx {
	const char	*file;
	yaml_document_t	*doc;
	struct kr_error	*err;
	size_t		 line[K_COUNT];	/* 0 = key not seen */
};

static size_t
node_line(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

static enum kr_err
perr(struct pctx *c, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fail with "FILE:LINE: message". */
static enum kr_err
perr(struct pctx *c, size_t line, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return kr_fail(c->err, KR_E_PARSE, "%s:%zu: %s", c->file, line, buf);
}

/* "a, b, c" of a name table, into buf. */
static void
list_names(const struct name_bit *t, char *buf, size_t sz)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; t[i].name != NULL && n < sz; i++)
		n += (size_t)snprintf(buf + n, sz - n, "%s%s",
		    i > 0 ? ", " : "", t[i].name);
}

/*
 * The text of a plain scalar.  Quoted scalars, block scalars and
 * explicit tags are refused where a number, boolean or keyword is
 * expected, so "1" and 1 never mean different things silently.
 */
static enum kr_err
get_scalar(struct pctx *c, yaml_node_t *n, const char *what, int plain,
    const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return perr(c, node_line(n), "%s: expected a single value, "
		    "found a %s", what, n->type == YAML_SEQUENCE_NODE ?
		    "list" : "mapping");
	if (n->tag == NULL || strcmp((const char *)n->tag,
	    YAML_DEFAULT_SCALAR_TAG) != 0)
		return perr(c, node_line(n), "%s: explicit tags are not "
		    "allowed", what);
	if (plain && n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return perr(c, node_line(n), "%s: expected an unquoted "
		    "value", what);
	if (strlen((const char *)n->data.scalar.value) !=
	    n->data.scalar.length)
		return perr(c, node_line(n), "%s: contains a NUL byte", what);
	*out = (const char *)n->data.scalar.value;
	return KR_OK;
}

/* A non-negative decimal integer no larger than max. */
static enum kr_err
get_uint(struct pctx *c, yaml_node_t *n, const char *what, long long max,
    long long *out)
{
	const char *s, *p;
	enum kr_err rc;
	long long v = 0;

	if ((rc = get_scalar(c, n, what, 1, &s)) != KR_OK)
		return rc;
	if (*s == '\0')
		return perr(c, node_line(n), "%s: empty value", what);
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return perr(c, node_line(n), "%s: '%.40s' is not a "
			    "non-negative integer", what, s);
		if (v > (max - (*p - '0')) / 10)
			return perr(c, node_line(n), "%s: %.40s is out of "
			    "range (at most %lld)", what, s, max);
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return KR_OK;
}

static enum kr_err
get_bool(struct pctx *c, yaml_node_t *n, const char *what, int *out)
{
	const char *s;
	enum kr_err rc;

	if ((rc = get_scalar(c, n, what, 1, &s)) != KR_OK)
		return rc;
	if (strcmp(s, "true") == 0)
		*out = 1;
	else if (strcmp(s, "false") == 0)
		*out = 0;
	else
		return perr(c, node_line(n), "%s: expected true or false, "
		    "found '%.40s'", what, s);
	return KR_OK;
}

/* A duration (90d, 24h, 30m, 45s; days when no unit) in [min, max]. */
static enum kr_err
get_duration(struct pctx *c, yaml_node_t *n, const char *what,
    long long min, long long max, long long *out)
{
	const char *s;
	long long v;
	enum kr_err rc;

	if ((rc = get_scalar(c, n, what, 1, &s)) != KR_OK)
		return rc;
	if ((v = kr_parse_duration(s, 'd')) < 0)
		return perr(c, node_line(n), "%s: '%.40s' is not a duration "
		    "(examples: 1095d, 24h, 30m, 90s)", what, s);
	if (v < min || v > max)
		return perr(c, node_line(n), "%s: %.40s is out of range "
		    "(%lld to %lld days)", what, s, min / 86400, max / 86400);
	*out = v;
	return KR_OK;
}

/* One keyword from table t. */
static enum kr_err
get_keyword(struct pctx *c, yaml_node_t *n, const char *what,
    const struct name_bit *t, unsigned *out)
{
	char expect[256];
	const char *s;
	enum kr_err rc;
	int i;

	if ((rc = get_scalar(c, n, what, 1, &s)) != KR_OK)
		return rc;
	for (i = 0; t[i].name != NULL; i++)
		if (strcmp(s, t[i].name) == 0) {
			*out = t[i].bit;
			return KR_OK;
		}
	list_names(t, expect, sizeof(expect));
	return perr(c, node_line(n), "%s: unknown value '%.40s' (expected "
	    "one of: %s)", what, s, expect);
}

/* A list of keywords from t, OR'ed into *out; repeats are errors. */
static enum kr_err
get_bits(struct pctx *c, yaml_node_t *n, const char *what,
    const struct name_bit *t, unsigned *out)
{
	yaml_node_item_t *it;
	yaml_node_t *item;
	unsigned bits = 0, b;
	enum kr_err rc;

	if (n->type != YAML_SEQUENCE_NODE)
		return perr(c, node_line(n), "%s: expected a list such as "
		    "[%s, %s]", what, t[0].name, t[1].name);
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		if ((item = yaml_document_get_node(c->doc, *it)) == NULL)
			return perr(c, node_line(n), "%s: bad list", what);
		if ((rc = get_keyword(c, item, what, t, &b)) != KR_OK)
			return rc;
		if ((bits & b) != 0)
			return perr(c, node_line(item), "%s: '%s' is listed "
			    "twice", what, item->data.scalar.value);
		bits |= b;
	}
	*out = bits;
	return KR_OK;
}

/* A profile name: 1..63 of [A-Za-z0-9._-], starting alphanumeric. */
static int
name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= sizeof(((struct pol_profile *)0)->name))
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9'))
			continue;
		if (i > 0 && (ch == '-' || ch == '_' || ch == '.'))
			continue;
		return 0;
	}
	return 1;
}

/* Parse the value of key k into p. */
static enum kr_err
set_key(struct pctx *c, enum pkey k, yaml_node_t *v, struct pol_profile *p)
{
	const char *what = key_names[k], *s;
	long long n;
	unsigned u;
	enum kr_err rc;

	switch (k) {
	case K_VERSION:
		if ((rc = get_uint(c, v, what, 1000000, &n)) != KR_OK)
			return rc;
		if (n != PROFILE_VERSION)
			return perr(c, node_line(v), "version: %lld is not "
			    "supported (this keyrite reads version %d)", n,
			    PROFILE_VERSION);
		return KR_OK;
	case K_NAME:
		if ((rc = get_scalar(c, v, what, 0, &s)) != KR_OK)
			return rc;
		if (!name_ok(s))
			return perr(c, node_line(v), "name: '%.40s' is not a "
			    "valid profile name (1 to 63 letters, digits, "
			    "'.', '-' or '_')", s);
		snprintf(p->name, sizeof(p->name), "%s", s);
		return KR_OK;
	case K_KIND:
		if ((rc = get_keyword(c, v, what, kind_names, &u)) != KR_OK)
			return rc;
		p->kind = (enum pol_kind)u;
		return KR_OK;
	case K_MAX_VALIDITY:
		return get_duration(c, v, what, 1, VALIDITY_MAX,
		    &p->max_validity);
	case K_DEFAULT_VALIDITY:
		return get_duration(c, v, what, 1, VALIDITY_MAX,
		    &p->default_validity);
	case K_BACKDATE:
		if ((rc = get_duration(c, v, what, 0, VALIDITY_MAX, &n)) !=
		    KR_OK)
			return rc;
		if (n > BACKDATE_MAX)
			return perr(c, node_line(v), "backdate: at most 1 day "
			    "(24h) is allowed");
		p->backdate = n;
		return KR_OK;
	case K_PATH_LEN:
		if (v->type == YAML_SCALAR_NODE &&
		    v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    strcmp((const char *)v->data.scalar.value, "none") == 0) {
			p->path_len = -1;
			return KR_OK;
		}
		if (v->type == YAML_SCALAR_NODE &&
		    v->data.scalar.value[0] == '-')
			return perr(c, node_line(v), "path_len: must not be "
			    "negative; write 'none' for no constraint");
		if ((rc = get_uint(c, v, what, PATH_LEN_MAX, &n)) != KR_OK)
			return rc;
		p->path_len = (int)n;
		return KR_OK;
	case K_KEY_USAGE:
		return get_bits(c, v, what, ku_names, &p->key_usage);
	case K_EXT_KEY_USAGE:
		return get_bits(c, v, what, eku_names, &p->ext_key_usage);
	case K_KEY_TYPES:
		return get_bits(c, v, what, key_type_names, &p->key_types);
	case K_REQUIRE_SAN:
		return get_bool(c, v, what, &p->require_san);
	case K_NAME_CONSTRAINTS:
		if ((rc = get_keyword(c, v, what, nc_names, &u)) != KR_OK)
			return rc;
		p->name_constraints = (enum pol_nc)u;
		return KR_OK;
	case K_REQUIRE_CDP:
		return get_bool(c, v, what, &p->require_cdp);
	case K_REQUIRE_AIA:
		return get_bool(c, v, what, &p->require_aia);
	case K_COUNT:
		break;
	}
	return kr_fail(c->err, KR_E_INTERNAL, "profile key %d", (int)k);
}

/* The rules that tie keys together, once every key has been read. */
static enum kr_err
check_profile(struct pctx *c, size_t top, struct pol_profile *p)
{
	static const enum pkey required[] = { K_VERSION, K_NAME, K_KIND,
	    K_MAX_VALIDITY, K_DEFAULT_VALIDITY, K_KEY_USAGE, K_KEY_TYPES };
	size_t i;
	int ca = p->kind != POL_KIND_LEAF;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (c->line[required[i]] == 0)
			return perr(c, top, "missing required key '%s'",
			    key_names[required[i]]);
	/* The default for name_constraints depends on kind. */
	if (c->line[K_NAME_CONSTRAINTS] == 0)
		p->name_constraints = ca ? POL_NC_OPTIONAL : POL_NC_FORBIDDEN;
	if (p->default_validity > p->max_validity)
		return perr(c, c->line[K_DEFAULT_VALIDITY], "default_validity "
		    "(%lld s) is longer than max_validity (%lld s)",
		    p->default_validity, p->max_validity);
	if (p->key_usage == 0)
		return perr(c, c->line[K_KEY_USAGE], "key_usage: must not be "
		    "empty");
	if (p->key_types == 0)
		return perr(c, c->line[K_KEY_TYPES], "key_types: must not be "
		    "empty");
	if (ca && (p->key_usage & KU_KEY_CERT_SIGN) == 0)
		return perr(c, c->line[K_KEY_USAGE], "key_usage: a CA profile "
		    "must include keyCertSign");
	if (!ca && (p->key_usage & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) != 0)
		return perr(c, c->line[K_KEY_USAGE], "key_usage: a leaf "
		    "profile must not include keyCertSign or cRLSign");
	if (!ca && c->line[K_PATH_LEN] != 0)
		return perr(c, c->line[K_PATH_LEN], "path_len: only CA "
		    "profiles (root, intermediate) take a path length");
	if (p->kind == POL_KIND_ROOT && c->line[K_EXT_KEY_USAGE] != 0)
		return perr(c, c->line[K_EXT_KEY_USAGE], "ext_key_usage: a "
		    "root must not carry extended key usages (CA/B Forum BR "
		    "7.1.2.1)");
	if (!ca && p->ext_key_usage == 0)
		return perr(c, c->line[K_EXT_KEY_USAGE] != 0 ?
		    c->line[K_EXT_KEY_USAGE] : top, "ext_key_usage: a leaf "
		    "profile must list at least one of serverAuth, "
		    "clientAuth");
	if (c->line[K_EXT_KEY_USAGE] != 0 && p->ext_key_usage == 0)
		return perr(c, c->line[K_EXT_KEY_USAGE], "ext_key_usage: "
		    "must not be empty; leave the key out for no extended "
		    "key usage");
	if (!ca && p->name_constraints != POL_NC_FORBIDDEN)
		return perr(c, c->line[K_NAME_CONSTRAINTS], "name_constraints: "
		    "leaf certificates cannot carry name constraints "
		    "(RFC 5280 4.2.1.10); use 'forbidden'");
	return KR_OK;
}

/* The line a libyaml parser error points at (1-based). */
static size_t
yaml_err_line(const yaml_parser_t *y, const char *text, size_t len)
{
	size_t i, line = 1, off;

	if (y->error != YAML_READER_ERROR) {
		if (y->problem_mark.line > 0 || y->problem_mark.index > 0)
			return y->problem_mark.line + 1;
		return y->context_mark.line + 1;
	}
	off = y->problem_offset < len ? y->problem_offset : len;
	for (i = 0; i < off; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

/* Walk the top-level mapping. */
static enum kr_err
parse_root(struct pctx *c, yaml_node_t *root, struct pol_profile *p)
{
	char expect[512];
	yaml_node_pair_t *pair;
	yaml_node_t *k, *v;
	const char *ks;
	size_t n = 0;
	enum kr_err rc;
	int i;

	if (root->type != YAML_MAPPING_NODE)
		return perr(c, node_line(root), "a profile is a mapping of "
		    "keys to values (\"version: 1\", \"name: ...\")");
	for (pair = root->data.mapping.pairs.start;
	    pair < root->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(c->doc, pair->key);
		v = yaml_document_get_node(c->doc, pair->value);
		if (k == NULL || v == NULL)
			return perr(c, node_line(root), "malformed mapping");
		if ((rc = get_scalar(c, k, "key", 0, &ks)) != KR_OK)
			return rc;
		for (i = 0; i < K_COUNT; i++)
			if (strcmp(ks, key_names[i]) == 0)
				break;
		if (i == K_COUNT) {
			expect[0] = '\0';
			for (i = 0, n = 0; i < K_COUNT && n < sizeof(expect);
			    i++)
				n += (size_t)snprintf(expect + n,
				    sizeof(expect) - n, "%s%s",
				    i > 0 ? ", " : "", key_names[i]);
			return perr(c, node_line(k), "unknown key '%.40s' "
			    "(expected one of: %s)", ks, expect);
		}
		if (c->line[i] != 0)
			return perr(c, node_line(k), "duplicate key '%s' (first "
			    "given on line %zu)", ks, c->line[i]);
		c->line[i] = node_line(k);
		if ((rc = set_key(c, (enum pkey)i, v, p)) != KR_OK)
			return rc;
	}
	return check_profile(c, node_line(root), p);
}

/*
 * Parse one profile from YAML text (see profile.h).  All errors are
 * KR_E_PARSE, except KR_E_NOMEM.
 */
enum kr_err
pol_profile_parse(const char *text, size_t len, const char *name,
    struct pol_profile *out, struct kr_error *err)
{
	struct pol_profile p;
	struct pctx c;
	yaml_parser_t y;
	yaml_document_t doc, extra;
	yaml_node_t *root;
	int have_parser = 0, have_doc = 0;
	enum kr_err rc;

	memset(&c, 0, sizeof(c));
	c.file = name != NULL ? name : "<profile>";
	c.err = err;
	c.doc = &doc;
	memset(&p, 0, sizeof(p));
	p.path_len = -1;
	p.name_constraints = POL_NC_OPTIONAL;
	snprintf(p.source, sizeof(p.source), "%s", c.file);
	if (text == NULL) {
		rc = perr(&c, 1, "no profile text");
		goto out;
	}
	if (!yaml_parser_initialize(&y)) {
		rc = kr_fail(err, KR_E_NOMEM, "%s: out of memory", c.file);
		goto out;
	}
	have_parser = 1;
	yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
	if (!yaml_parser_load(&y, &doc)) {
		if (y.error == YAML_MEMORY_ERROR)
			rc = kr_fail(err, KR_E_NOMEM, "%s: out of memory",
			    c.file);
		else if (y.context != NULL)
			rc = perr(&c, yaml_err_line(&y, text, len), "%s %s "
			    "that starts on line %zu", y.problem != NULL ?
			    y.problem : "YAML syntax error", y.context,
			    (size_t)y.context_mark.line + 1);
		else
			rc = perr(&c, yaml_err_line(&y, text, len), "%s",
			    y.problem != NULL ? y.problem :
			    "YAML syntax error");
		goto out;
	}
	have_doc = 1;
	if ((root = yaml_document_get_root_node(&doc)) == NULL) {
		rc = perr(&c, 1, "empty profile");
		goto out;
	}
	if (!yaml_parser_load(&y, &extra)) {
		rc = perr(&c, yaml_err_line(&y, text, len), "%s",
		    y.problem != NULL ? y.problem : "YAML syntax error");
		goto out;
	}
	if (yaml_document_get_root_node(&extra) != NULL) {
		rc = perr(&c, extra.start_mark.line + 1, "a profile file holds "
		    "one YAML document, this is a second one");
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);
	if ((rc = parse_root(&c, root, &p)) != KR_OK)
		goto out;
	*out = p;
	rc = KR_OK;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&y);
	return rc;
}

/* Read and parse a profile file; errors name the path. */
enum kr_err
pol_profile_load(const char *path, struct pol_profile *out,
    struct kr_error *err)
{
	uint8_t *buf = NULL;
	size_t len;
	enum kr_err rc;

	if ((rc = kr_file_read(path, PROFILE_MAX_BYTES, &buf, &len, err)) !=
	    KR_OK)
		goto out;
	rc = pol_profile_parse((const char *)buf, len, path, out, err);
out:
	free(buf);
	return rc;
}

/*
 * Find and load a profile by bare name or path.  A bare name must be a
 * valid profile name, and the profile found must declare that name, so
 * a copied file cannot pose as another profile.
 */
enum kr_err
pol_profile_find(const char *name, struct pol_profile *out,
    struct kr_error *err)
{
	char path[3][1024], tried[3200];
	const char *dirs[3], *env;
	size_t n, tn = 0, nd = 0, i;
	enum kr_err rc;

	if (name == NULL || *name == '\0')
		return kr_fail(err, KR_E_USAGE, "no profile name given");
	n = strlen(name);
	if (strchr(name, '/') != NULL ||
	    (n >= 5 && strcmp(name + n - 5, ".yaml") == 0))
		return pol_profile_load(name, out, err);
	if (!name_ok(name))
		return kr_fail(err, KR_E_USAGE, "'%.64s' is not a profile name "
		    "(letters, digits, '.', '-', '_'); give a path to a .yaml "
		    "file instead", name);
	if ((env = getenv("KEYRITE_PROFILE_DIR")) != NULL && *env != '\0')
		dirs[nd++] = env;
	dirs[nd++] = KEYRITE_DATADIR "/profiles";
	dirs[nd++] = "profiles";
	tried[0] = '\0';
	for (i = 0; i < nd; i++) {
		if ((size_t)snprintf(path[i], sizeof(path[i]), "%s/%s.yaml",
		    dirs[i], name) >= sizeof(path[i]))
			continue;
		if (tn < sizeof(tried))
			tn += (size_t)snprintf(tried + tn, sizeof(tried) - tn,
			    "%s%s", i > 0 ? ", " : "", path[i]);
		rc = pol_profile_load(path[i], out, err);
		if (rc == KR_E_NOTFOUND)
			continue;
		if (rc != KR_OK)
			return rc;
		if (strcmp(out->name, name) != 0)
			return kr_fail(err, KR_E_PARSE, "%s: declares name "
			    "'%s' but was looked up as '%s'", path[i],
			    out->name, name);
		return KR_OK;
	}
	return kr_fail(err, KR_E_NOTFOUND, "profile '%s' not found; looked "
	    "in %s", name, tried);
}

/* "ec-p384" -> POL_KEY_EC_P384; 0 if unknown. */
unsigned
pol_key_type_from_name(const char *s)
{
	int i;

	if (s == NULL)
		return 0;
	for (i = 0; key_type_names[i].name != NULL; i++)
		if (strcmp(s, key_type_names[i].name) == 0)
			return key_type_names[i].bit;
	return 0;
}

/* POL_KEY_EC_P384 -> "ec-p384"; NULL unless exactly one known bit. */
const char *
pol_key_type_name(unsigned t)
{
	int i;

	for (i = 0; key_type_names[i].name != NULL; i++)
		if (t == key_type_names[i].bit)
			return key_type_names[i].name;
	return NULL;
}

/* POL_KIND_ROOT -> "root". */
const char *
pol_kind_name(enum pol_kind k)
{
	int i;

	for (i = 0; kind_names[i].name != NULL; i++)
		if ((unsigned)k == kind_names[i].bit)
			return kind_names[i].name;
	return "unknown";
}

/*
 * Key usage bits as names, "keyCertSign, cRLSign", into buf; the
 * contentCommitment alias is not repeated.
 */
void
pol_key_usage_names(unsigned ku, char *buf, size_t sz)
{
	size_t n = 0;
	unsigned done = 0;
	int i;

	if (sz == 0)
		return;
	buf[0] = '\0';
	for (i = 0; ku_names[i].name != NULL && n < sz; i++) {
		if ((ku & ku_names[i].bit) == 0 ||
		    (done & ku_names[i].bit) != 0)
			continue;
		done |= ku_names[i].bit;
		n += (size_t)snprintf(buf + n, sz - n, "%s%s",
		    n > 0 ? ", " : "", ku_names[i].name);
	}
	if (n < sz && (ku & ~done & KU_ENCIPHER_ONLY) != 0)
		n += (size_t)snprintf(buf + n, sz - n, "%sencipherOnly",
		    n > 0 ? ", " : "");
	if (n < sz && (ku & ~done & KU_DECIPHER_ONLY) != 0)
		n += (size_t)snprintf(buf + n, sz - n, "%sdecipherOnly",
		    n > 0 ? ", " : "");
	if (n == 0)
		snprintf(buf, sz, "(none)");
}
