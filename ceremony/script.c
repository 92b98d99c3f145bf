/*
 * script.c: read a ceremony script from strict YAML and check it as a
 * whole before anything runs.  Every key is known, every required key
 * is present, every value has the right type, every action gets exactly
 * the parameters it takes, and the plan is sound: key steps only while
 * a quorum is active and under a witness's eye, outputs listed exactly
 * and never twice, inputs never taken from a later step.  Refusals say
 * "FILE:LINE: message".  Format: docs/ceremony-scripts.md.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <yaml.h>

#include "../ca/bundle.h"
#include "../ca/ca.h"
#include "../ca/rotate.h"
#include "../common/file.h"
#include "script.h"

#define SCRIPT_MAX_BYTES	(256 * 1024)
#define SCRIPT_VERSION		1
#define ID_MAX			64	/* step, role, script ids; labels */
#define PARTICIPANT_MAX		64	/* as a share holder's name */
#define PARTICIPANTS_MAX	255	/* Shamir's limit */
#define TITLE_MAX		200
#define TEXT_MAX		8192	/* purpose, say, record text */
#define PATH_LEN_MAX		200
#define LIST_MAX		255
#define DAYS_MAX		36500	/* 100 years */

/* ------------------------------------------------------------------ */
/* Actions and their parameters                                         */
/* ------------------------------------------------------------------ */

enum ptype {
	P_TEXT,		/* free text */
	P_LABEL,	/* a token key label */
	P_KEYTYPE,	/* ec-p384, ... */
	P_BOOL,		/* true | false */
	P_DAYS,		/* 1 .. DAYS_MAX */
	P_DURATION,	/* 180d, 24h, ... */
	P_SUBJECT,	/* a distinguished name, as ca_parse_subject */
	P_PROFILE,	/* a profile name */
	P_SHA256,	/* 64 hex digits, spaces allowed; stored lower-case */
	P_IN,		/* an input path */
	P_IN_LIST,	/* a list of input paths */
	P_OUT,		/* an output file, also listed in outputs */
	P_OUT_DIR,	/* an output directory */
	P_DNS_LIST,	/* DNS name constraint bases */
	P_IP_LIST,	/* IP networks, a.b.c.d/n or x::/n */
	P_SIGCOUNT,	/* 1 .. CA_BUNDLE_MAX_SIGNERS */
	P_DATE,		/* YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ */
};

struct pspec {
	const char	*name;
	enum ptype	 type;
	int		 required;
	const char	*def;		/* filled in when absent, or NULL */
};

static const struct pspec p_none[] = {
	{ NULL, P_TEXT, 0, NULL }
};
static const struct pspec p_record[] = {
	{ "text", P_TEXT, 0, NULL },
	{ "file", P_IN, 0, NULL },
	{ NULL, P_TEXT, 0, NULL }
};
static const struct pspec p_verify_file[] = {
	{ "file", P_IN, 1, NULL },
	{ "expect", P_SHA256, 0, NULL },
	{ NULL, P_TEXT, 0, NULL }
};
static const struct pspec p_keygen[] = {
	{ "label", P_LABEL, 1, NULL },
	{ "type", P_KEYTYPE, 0, "ec-p384" },
	{ "backup", P_BOOL, 0, "true" },
	{ NULL, P_TEXT, 0, NULL }
};
static const struct pspec p_root_selfsign[] = {
	{ "key", P_LABEL, 1, NULL },
	{ "subject", P_SUBJECT, 1, NULL },
	{ "days", P_DAYS, 1, NULL },
	{ "profile", P_PROFILE, 0, "root" },
	{ "permitted_dns", P_DNS_LIST, 0, NULL },
	{ "permitted_ip", P_IP_LIST, 0, NULL },
	{ "constraints_from", P_IN, 0, NULL },
	{ "out", P_OUT, 1, NULL },
	{ NULL, P_TEXT, 0, NULL }
};
static const struct pspec p_sign_csr[] = {
	{ "key", P_LABEL, 1, NULL },
	{ "ca", P_IN, 0, "root.pem" },
	{ "csr", P_IN, 1, NULL },
	{ "profile", P_PROFILE, 0, "intermediate" },
	{ "days", P_DAYS, 0, NULL },
	{ "out", P_OUT, 1, NULL },
	{ NULL, P_TEXT, 0, NULL }
};
static const struct pspec p_crl[] = {
	{ "key", P_LABEL, 1, NULL },
	{ "ca", P_IN, 0, "root.pem" },
	{ "next_update", P_DURATION, 0, "180d" },
	{ "revoke", P_IN_LIST, 0, NULL },
	{ "out", P_OUT, 1, NULL },
	{ NULL, P_TEXT, 0, NULL }
};
static const struct pspec p_backup_create[] = {
	{ "key", P_LABEL, 1, NULL },
	{ "ca", P_IN, 0, "root.pem" },
	{ "out", P_OUT_DIR, 1, NULL },
	{ NULL, P_TEXT, 0, NULL }
};
static const struct pspec p_backup_restore[] = {
	{ "backup", P_IN, 1, NULL },
	{ "ca", P_IN, 0, "root.pem" },
	{ "label", P_LABEL, 0, NULL },
	{ NULL, P_TEXT, 0, NULL }
};
static const struct pspec p_cross_sign[] = {
	{ "key", P_LABEL, 1, NULL },
	{ "ca", P_IN, 0, "root.pem" },
	{ "cert", P_IN, 1, NULL },
	{ "days", P_DAYS, 0, NULL },
	{ "out", P_OUT, 1, NULL },
	{ NULL, P_TEXT, 0, NULL }
};

static const struct pspec p_bundle_build[] = {
	{ "active", P_IN_LIST, 1, NULL },
	{ "next", P_IN_LIST, 0, NULL },
	{ "retiring", P_IN_LIST, 0, NULL },
	{ "remove_after", P_DATE, 0, NULL },
	{ "cross", P_IN_LIST, 0, NULL },
	{ "previous", P_IN, 0, NULL },
	{ "expires", P_DURATION, 0, "90d" },
	{ "out", P_OUT_DIR, 1, NULL },
	{ NULL, P_TEXT, 0, NULL }
};
static const struct pspec p_bundle_sign[] = {
	{ "key", P_LABEL, 1, NULL },
	{ "cert", P_IN, 1, NULL },
	{ "bundle", P_IN, 1, NULL },
	{ NULL, P_TEXT, 0, NULL }
};
static const struct pspec p_bundle_verify[] = {
	{ "bundle", P_IN, 1, NULL },
	{ "trust", P_IN_LIST, 1, NULL },
	{ "min_signatures", P_SIGCOUNT, 0, "1" },
	{ "previous", P_IN, 0, NULL },
	{ NULL, P_TEXT, 0, NULL }
};
static const struct pspec p_bundle_pack[] = {
	{ "bundle", P_IN, 1, NULL },
	{ "out", P_OUT, 1, NULL },
	{ NULL, P_TEXT, 0, NULL }
};

struct aspec {
	const char		*name;
	enum cer_action		 act;
	const struct pspec	*params;
};

static const struct aspec actions[] = {
	{ "confirm", CER_ACT_CONFIRM, p_none },
	{ "quorum-init", CER_ACT_QUORUM_INIT, p_none },
	{ "activate", CER_ACT_ACTIVATE, p_none },
	{ "keygen", CER_ACT_KEYGEN, p_keygen },
	{ "root-selfsign", CER_ACT_ROOT_SELFSIGN, p_root_selfsign },
	{ "sign-csr", CER_ACT_SIGN_CSR, p_sign_csr },
	{ "crl", CER_ACT_CRL, p_crl },
	{ "backup-create", CER_ACT_BACKUP_CREATE, p_backup_create },
	{ "backup-restore", CER_ACT_BACKUP_RESTORE, p_backup_restore },
	{ "cross-sign", CER_ACT_CROSS_SIGN, p_cross_sign },
	{ "record", CER_ACT_RECORD, p_record },
	{ "verify-file", CER_ACT_VERIFY_FILE, p_verify_file },
	{ "deactivate", CER_ACT_DEACTIVATE, p_none },
	{ "bundle-build", CER_ACT_BUNDLE_BUILD, p_bundle_build },
	{ "bundle-sign", CER_ACT_BUNDLE_SIGN, p_bundle_sign },
	{ "bundle-verify", CER_ACT_BUNDLE_VERIFY, p_bundle_verify },
	{ "bundle-pack", CER_ACT_BUNDLE_PACK, p_bundle_pack },
	{ NULL, 0, NULL }
};

static const char *const key_types[] = {
	"ec-p384", "ec-p256", "rsa-3072", "rsa-4096", NULL
};

static const struct aspec *
action_spec(enum cer_action a)
{
	int i;

	for (i = 0; actions[i].name != NULL; i++)
		if (actions[i].act == a)
			return &actions[i];
	return NULL;
}

/* The type of parameter name of action a (P_TEXT if unknown). */
static enum ptype
param_type(enum cer_action a, const char *name)
{
	const struct aspec *as = action_spec(a);
	const struct pspec *ps;

	for (ps = as != NULL ? as->params : p_none; ps->name != NULL; ps++)
		if (strcmp(ps->name, name) == 0)
			return ps->type;
	return P_TEXT;
}

/* The action's name as written in scripts; "unknown" for no action. */
const char *
cer_action_name(enum cer_action a)
{
	const struct aspec *as = action_spec(a);

	return as != NULL ? as->name : "unknown";
}

/*
 * Key steps need the token logged in by the officers' quorum and a
 * witness watching.
 */
int
cer_action_uses_key(enum cer_action a)
{
	switch (a) {
	case CER_ACT_KEYGEN:
	case CER_ACT_ROOT_SELFSIGN:
	case CER_ACT_SIGN_CSR:
	case CER_ACT_CRL:
	case CER_ACT_BACKUP_CREATE:
	case CER_ACT_BACKUP_RESTORE:
	case CER_ACT_CROSS_SIGN:
	case CER_ACT_BUNDLE_SIGN:
		return 1;
	case CER_ACT_BUNDLE_BUILD:
	case CER_ACT_BUNDLE_VERIFY:
	case CER_ACT_BUNDLE_PACK:
	case CER_ACT_CONFIRM:
	case CER_ACT_QUORUM_INIT:
	case CER_ACT_ACTIVATE:
	case CER_ACT_RECORD:
	case CER_ACT_VERIFY_FILE:
	case CER_ACT_DEACTIVATE:
		break;
	}
	return 0;
}

/* "witness", or "witness-" and more (e.g. witness-external). */
int
cer_role_is_witness(const char *id)
{
	return id != NULL && (strcmp(id, CER_ROLE_WITNESS) == 0 ||
	    strncmp(id, CER_ROLE_WITNESS "-", strlen(CER_ROLE_WITNESS) + 1) ==
	    0);
}

/* ------------------------------------------------------------------ */
/* Parse context and YAML helpers                                       */
/* ------------------------------------------------------------------ */

struct sctx {
	const char		*file;
	yaml_document_t		*doc;
	struct kr_error		*err;
	unsigned char		*seen;	/* per node: walked already */
	size_t			 nnodes;
	struct cer_script	*s;
};

/* A mapping value with the line of its key; v NULL when absent. */
struct kv {
	yaml_node_t	*v;
	size_t		 line;
};

static size_t
node_line(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

static enum kr_err
perr(struct sctx *c, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fail with "FILE:LINE: message". */
static enum kr_err
perr(struct sctx *c, size_t line, const char *fmt, ...)
{
	char buf[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return kr_fail(c->err, KR_E_PARSE, "%s:%zu: %s", c->file, line, buf);
}

static enum kr_err
nomem(struct sctx *c)
{
	return kr_fail(c->err, KR_E_NOMEM, "%s: out of memory", c->file);
}

/*
 * "a, b, c" into buf, of the strings at names, names + stride, ... up
 * to a NULL: a plain NULL-terminated array (stride sizeof(char *)) or
 * the name field of a table of structs ending in a NULL name.
 */
static void
join(const char *const *names, size_t stride, char *buf, size_t sz)
{
	const char *const *p;
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; n < sz; i++) {
		p = (const char *const *)(const void *)
		    ((const char *)names + (size_t)i * stride);
		if (*p == NULL)
			break;
		n += (size_t)snprintf(buf + n, sz - n, "%s%s", i > 0 ? ", " :
		    "", *p);
	}
}

/* "admin, witness, ..." of a script's roles, into buf. */
static void
role_ids(const struct cer_script *s, char *buf, size_t sz)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < s->nroles && n < sz; i++)
		n += (size_t)snprintf(buf + n, sz - n, "%s%s", i > 0 ? ", " :
		    "", s->roles[i].id);
}

/*
 * Node id of the document, at most once: an alias makes a node appear
 * twice, and aliases are refused so what is printed is what runs.
 */
static enum kr_err
get_node(struct sctx *c, int id, size_t line, yaml_node_t **out)
{
	yaml_node_t *n;

	if ((n = yaml_document_get_node(c->doc, id)) == NULL ||
	    (size_t)(id - 1) >= c->nnodes)
		return perr(c, line, "malformed YAML");
	if (c->seen[id - 1])
		return perr(c, line, "aliases (*name) are not allowed in a "
		    "ceremony script; write the value out");
	c->seen[id - 1] = 1;
	*out = n;
	return KR_OK;
}

/*
 * The text of a scalar.  With plain set (numbers, booleans, keywords)
 * quoted and block styles are refused, so "1" and 1 never silently mean
 * different things.  Empty values and YAML nulls are refused too.
 */
static enum kr_err
get_scalar(struct sctx *c, yaml_node_t *n, const char *what, int plain,
    const char **out)
{
	const char *s;

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
	s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length)
		return perr(c, node_line(n), "%s: contains a NUL byte", what);
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0))
		return perr(c, node_line(n), "%s: null is not a value here",
		    what);
	if (*s == '\0')
		return perr(c, node_line(n), "%s: empty value", what);
	*out = s;
	return KR_OK;
}

/* A non-negative decimal integer in [min, max]. */
static enum kr_err
get_uint(struct sctx *c, yaml_node_t *n, const char *what, long long min,
    long long max, long long *out)
{
	const char *s, *p;
	enum kr_err rc;
	long long v = 0;

	if ((rc = get_scalar(c, n, what, 1, &s)) != KR_OK)
		return rc;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return perr(c, node_line(n), "%s: '%.40s' is not a "
			    "whole number", what, s);
		if (v > (max - (*p - '0')) / 10)
			return perr(c, node_line(n), "%s: %.40s is out of "
			    "range (%lld to %lld)", what, s, min, max);
		v = v * 10 + (*p - '0');
	}
	if (v < min)
		return perr(c, node_line(n), "%s: %.40s is out of range "
		    "(%lld to %lld)", what, s, min, max);
	*out = v;
	return KR_OK;
}

/*
 * Text for a person to read: at most max bytes, no control characters
 * but newlines (with multiline) and tabs; trailing white space, which a
 * folded block scalar leaves, is dropped.  malloc'd into *out.
 */
static enum kr_err
get_text(struct sctx *c, yaml_node_t *n, const char *what, size_t max,
    int multiline, char **out)
{
	const char *s;
	size_t len, i;
	enum kr_err rc;

	if ((rc = get_scalar(c, n, what, 0, &s)) != KR_OK)
		return rc;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ' ||
	    s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return perr(c, node_line(n), "%s: empty value", what);
	if (len > max)
		return perr(c, node_line(n), "%s: longer than %zu characters",
		    what, max);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t' && !(multiline && ch == '\n')) ||
		    ch == 0x7f)
			return perr(c, node_line(n), "%s: contains a control "
			    "character%s", what, multiline ? "" : " or a line "
			    "break");
	}
	if ((*out = strndup(s, len)) == NULL)
		return nomem(c);
	return KR_OK;
}

/*
 * Walk mapping n whose keys come from names (count of them): unknown
 * and repeated keys are errors; kv[i] gets names[i]'s value and line.
 * what names the mapping in the unknown-key message ("step", "role").
 */
static enum kr_err
get_map(struct sctx *c, yaml_node_t *n, size_t line, const char *what,
    const char *const *names, size_t count, struct kv *kv)
{
	char expect[256];
	yaml_node_pair_t *pair;
	yaml_node_t *k, *v;
	const char *ks;
	size_t i;
	enum kr_err rc;

	if (n->type != YAML_MAPPING_NODE)
		return perr(c, line, "%s: expected a mapping (%s: ..., %s: "
		    "...), found a %s", what, names[0], names[1],
		    n->type == YAML_SEQUENCE_NODE ? "list" : "single value");
	for (i = 0; i < count; i++) {
		kv[i].v = NULL;
		kv[i].line = 0;
	}
	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		if ((rc = get_node(c, pair->key, node_line(n), &k)) != KR_OK)
			return rc;
		if ((rc = get_scalar(c, k, "key", 0, &ks)) != KR_OK)
			return rc;
		if ((rc = get_node(c, pair->value, node_line(k), &v)) != KR_OK)
			return rc;
		for (i = 0; i < count; i++)
			if (strcmp(ks, names[i]) == 0)
				break;
		if (i == count) {
			join(names, sizeof(names[0]), expect, sizeof(expect));
			return perr(c, node_line(k), "unknown %s key '%.40s' "
			    "(expected one of: %s)", what, ks, expect);
		}
		if (kv[i].v != NULL)
			return perr(c, node_line(k), "duplicate key '%s' (first "
			    "given on line %zu)", ks, kv[i].line);
		kv[i].v = v;
		kv[i].line = node_line(k);
	}
	return KR_OK;
}

/*
 * A list of scalars (at most max), malloc'd strings into *out, each
 * item's line into *lines (malloc'd, may be NULL).  Must not be empty
 * unless empty_ok.
 */
static enum kr_err
get_list(struct sctx *c, yaml_node_t *n, size_t line, const char *what,
    size_t max, int empty_ok, char ***out, size_t *nout, size_t **lines)
{
	yaml_node_item_t *it;
	yaml_node_t *item;
	const char *s;
	size_t cnt, i = 0;
	enum kr_err rc;

	*out = NULL;
	*nout = 0;
	if (lines != NULL)
		*lines = NULL;
	if (n->type != YAML_SEQUENCE_NODE)
		return perr(c, line, "%s: expected a list such as [a, b], "
		    "found a %s", what, n->type == YAML_MAPPING_NODE ?
		    "mapping" : "single value");
	cnt = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (cnt == 0 && !empty_ok)
		return perr(c, line, "%s: the list is empty; leave the key "
		    "out instead", what);
	if (cnt > max)
		return perr(c, line, "%s: more than %zu items", what, max);
	if ((*out = calloc(cnt + 1, sizeof(char *))) == NULL)
		return nomem(c);
	if (lines != NULL && (*lines = calloc(cnt + 1, sizeof(size_t))) ==
	    NULL)
		return nomem(c);
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++, i++) {
		if ((rc = get_node(c, *it, line, &item)) != KR_OK)
			return rc;
		if ((rc = get_scalar(c, item, what, 0, &s)) != KR_OK)
			return rc;
		if (((*out)[i] = strdup(s)) == NULL)
			return nomem(c);
		*nout = i + 1;
		if (lines != NULL)
			(*lines)[i] = node_line(item);
	}
	return KR_OK;
}

static void
free_list(char **l, size_t n)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* ------------------------------------------------------------------ */
/* Value checks                                                         */
/* ------------------------------------------------------------------ */

static int
is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

/* An id or key label: 1..64 of [A-Za-z0-9._-], starting alphanumeric. */
static int
id_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > ID_MAX || !is_alnum(s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' &&
		    s[i] != '-')
			return 0;
	return 1;
}

/*
 * A participant's name, as a share holder's (armor.h): 1..64 of
 * [A-Za-z0-9 .'_@+-], no space at either end or twice in a row.
 */
static const char *
participant_problem(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > PARTICIPANT_MAX)
		return "must be 1 to 64 characters";
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && strchr(" .'_@+-", s[i]) == NULL)
			return "may only use letters, digits, spaces and "
			    ". ' _ @ + -";
	if (s[0] == ' ' || s[n - 1] == ' ' || strstr(s, "  ") != NULL)
		return "must not start or end with a space or contain two "
		    "spaces in a row";
	return NULL;
}

/*
 * A path inside the ceremony directory: relative, printable ASCII, no
 * backslash, no empty, "." or ".." component, at most 200 bytes.
 */
static const char *
path_problem(const char *s)
{
	const char *p, *e;
	size_t n = strlen(s), cl;

	if (n == 0 || n > PATH_LEN_MAX)
		return "must be 1 to 200 characters";
	if (s[0] == '/')
		return "is absolute; paths are relative to the ceremony "
		    "directory";
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e ||
		    *p == '\\')
			return "may only use printable ASCII characters, not "
			    "'\\'";
	for (p = s; ; p = e + 1) {
		e = strchr(p, '/');
		cl = e != NULL ? (size_t)(e - p) : strlen(p);
		if (cl == 2 && strncmp(p, "..", 2) == 0)
			return "contains '..'; paths stay inside the ceremony "
			    "directory";
		if (cl == 0 || (cl == 1 && *p == '.'))
			return "has an empty or '.' component";
		if (e == NULL)
			break;
	}
	return NULL;
}

/* A DNS name-constraint base: labels of [A-Za-z0-9-], as ca.c's. */
static int
dns_ok(const char *s)
{
	size_t n = strlen(s), i, label = 0;

	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.' ||
	    s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_alnum(s[i]) && s[i] != '-')
			return 0;
		if (s[i] == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

/* A network "10.0.0.0/8" or "fd00::/8" with no host bits set. */
static const char *
network_problem(const char *s)
{
	unsigned char addr[16];
	const char *slash = strchr(s, '/'), *p;
	char a[64];
	long prefix = 0;
	int alen, i;

	if (slash == NULL)
		return "write a network with its prefix length, such as "
		    "10.0.0.0/8 or fd00::/8";
	if ((size_t)(slash - s) >= sizeof(a))
		return "not an IP network";
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	alen = strchr(a, ':') != NULL ? 16 : 4;
	if (inet_pton(alen == 16 ? AF_INET6 : AF_INET, a, addr) != 1)
		return "not an IP network";
	if (slash[1] == '\0' || strlen(slash + 1) > 3)
		return "bad prefix length";
	for (p = slash + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return "bad prefix length";
		prefix = prefix * 10 + (*p - '0');
	}
	if (prefix > alen * 8)
		return "bad prefix length";
	for (i = 0; i < alen; i++) {
		int bits = (int)prefix - i * 8;
		unsigned char m = bits >= 8 ? 0xff : bits <= 0 ? 0 :
		    (unsigned char)(0xff << (8 - bits));

		if ((addr[i] & ~m) != 0)
			return "host bits are set; did you mean the network "
			    "address?";
	}
	return NULL;
}

/* 64 hex digits, spaces between groups allowed; lower-case into out. */
static int
sha256_hex(const char *s, char out[65])
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (*s == ' ')
			continue;
		if (n == 64)
			return 0;
		if (*s >= '0' && *s <= '9')
			out[n++] = *s;
		else if (*s >= 'a' && *s <= 'f')
			out[n++] = *s;
		else if (*s >= 'A' && *s <= 'F')
			out[n++] = (char)(*s - 'A' + 'a');
		else
			return 0;
	}
	out[n] = '\0';
	return n == 64;
}

/* ------------------------------------------------------------------ */
/* Roles                                                                */
/* ------------------------------------------------------------------ */

enum { RK_ID, RK_TITLE, RK_PARTICIPANTS, RK_THRESHOLD, RK_COUNT };
static const char *const role_keys[RK_COUNT + 1] = {
	"id", "title", "participants", "threshold", NULL
};

static enum kr_err
parse_role(struct sctx *c, yaml_node_t *n, struct cer_role *r)
{
	struct kv kv[RK_COUNT];
	size_t *lines = NULL, i, j;
	const char *s, *why;
	long long k;
	enum kr_err rc;

	r->line = (int)node_line(n);
	if ((rc = get_map(c, n, node_line(n), "role", role_keys, RK_COUNT,
	    kv)) != KR_OK)
		goto out;
	if (kv[RK_ID].v == NULL) {
		rc = perr(c, node_line(n), "role: missing required key 'id'");
		goto out;
	}
	if ((rc = get_scalar(c, kv[RK_ID].v, "role id", 0, &s)) != KR_OK)
		goto out;
	if (!id_ok(s)) {
		rc = perr(c, kv[RK_ID].line, "role id '%.64s' is not valid (1 "
		    "to 64 letters, digits, '.', '-' or '_')", s);
		goto out;
	}
	if ((r->id = strdup(s)) == NULL) {
		rc = nomem(c);
		goto out;
	}
	for (i = 0; i < RK_COUNT; i++)
		if (kv[i].v == NULL && i != RK_THRESHOLD) {
			rc = perr(c, node_line(n), "role '%s': missing required "
			    "key '%s'", r->id, role_keys[i]);
			goto out;
		}
	if ((rc = get_text(c, kv[RK_TITLE].v, "title", TITLE_MAX, 0,
	    &r->title)) != KR_OK)
		goto out;
	if ((rc = get_list(c, kv[RK_PARTICIPANTS].v, kv[RK_PARTICIPANTS].line,
	    "participants", PARTICIPANTS_MAX, 0, &r->participants,
	    &r->nparticipants, &lines)) != KR_OK)
		goto out;
	for (i = 0; i < r->nparticipants; i++) {
		if ((why = participant_problem(r->participants[i])) != NULL) {
			rc = perr(c, lines[i], "role '%s': participant "
			    "'%.64s' %s", r->id, r->participants[i], why);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (strcmp(r->participants[i], r->participants[j]) ==
			    0) {
				rc = perr(c, lines[i], "role '%s': participant "
				    "'%s' is listed twice", r->id,
				    r->participants[i]);
				goto out;
			}
	}
	if (kv[RK_THRESHOLD].v != NULL) {
		if (strcmp(r->id, CER_ROLE_OFFICERS) != 0 &&
		    strcmp(r->id, CER_ROLE_CUSTODIANS) != 0) {
			rc = perr(c, kv[RK_THRESHOLD].line, "role '%s': only "
			    "the officers and custodians roles take a "
			    "threshold", r->id);
			goto out;
		}
		if ((rc = get_uint(c, kv[RK_THRESHOLD].v, "threshold", 0,
		    PARTICIPANTS_MAX, &k)) != KR_OK)
			goto out;
		if (k < 2) {
			rc = perr(c, kv[RK_THRESHOLD].line, "role '%s': "
			    "threshold %lld is below 2; one person alone would "
			    "hold the secret", r->id, k);
			goto out;
		}
		if ((size_t)k > r->nparticipants) {
			rc = perr(c, kv[RK_THRESHOLD].line, "role '%s': "
			    "threshold %lld is larger than the %zu "
			    "participants", r->id, k, r->nparticipants);
			goto out;
		}
		r->threshold = (unsigned)k;
	} else if (strcmp(r->id, CER_ROLE_OFFICERS) == 0 ||
	    strcmp(r->id, CER_ROLE_CUSTODIANS) == 0) {
		rc = perr(c, r->line, "role '%s': missing required key "
		    "'threshold' (how many of them must act together)", r->id);
		goto out;
	}
	rc = KR_OK;
out:
	free(lines);
	return rc;
}

/* The role list, then the rules over all roles. */
static enum kr_err
parse_roles(struct sctx *c, yaml_node_t *n, size_t line)
{
	struct cer_script *s = c->s;
	const struct cer_role *admin = NULL, *r;
	yaml_node_item_t *it;
	yaml_node_t *item;
	size_t cnt, i, j, k, nwitness = 0;
	enum kr_err rc;

	if (n->type != YAML_SEQUENCE_NODE)
		return perr(c, line, "roles: expected a list of roles "
		    "(- id: admin ...)");
	cnt = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (cnt == 0)
		return perr(c, line, "roles: no roles; a ceremony needs an "
		    "admin and a witness");
	if (cnt > LIST_MAX)
		return perr(c, line, "roles: more than %d roles", LIST_MAX);
	if ((s->roles = calloc(cnt, sizeof(*s->roles))) == NULL)
		return nomem(c);
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		if ((rc = get_node(c, *it, line, &item)) != KR_OK)
			return rc;
		s->nroles++;
		if ((rc = parse_role(c, item, &s->roles[s->nroles - 1])) !=
		    KR_OK)
			return rc;
	}
	for (i = 0; i < s->nroles; i++) {
		r = &s->roles[i];
		for (j = 0; j < i; j++)
			if (strcmp(r->id, s->roles[j].id) == 0) {
				if (strcmp(r->id, CER_ROLE_ADMIN) == 0)
					return perr(c, r->line, "a second "
					    "'admin' role (the first is on line "
					    "%d); a ceremony has exactly one "
					    "administrator role", s->roles[j].line);
				return perr(c, r->line, "role '%s' is defined "
				    "twice (first on line %d)", r->id,
				    s->roles[j].line);
			}
		if (strcmp(r->id, CER_ROLE_ADMIN) == 0)
			admin = r;
		if (cer_role_is_witness(r->id))
			nwitness++;
	}
	if (admin == NULL)
		return perr(c, line, "roles: no 'admin' role; a ceremony has "
		    "exactly one administrator role");
	if (nwitness == 0)
		return perr(c, line, "roles: no 'witness' role; a ceremony "
		    "needs at least one witness");
	/* Witnesses watch the administrator, so they are other people. */
	for (i = 0; i < s->nroles; i++) {
		r = &s->roles[i];
		if (!cer_role_is_witness(r->id))
			continue;
		for (j = 0; j < r->nparticipants; j++)
			for (k = 0; k < admin->nparticipants; k++)
				if (strcmp(r->participants[j],
				    admin->participants[k]) == 0)
					return perr(c, r->line, "role '%s': "
					    "'%s' is also the administrator; a "
					    "witness must be someone else",
					    r->id, r->participants[j]);
	}
	return KR_OK;
}

/* ------------------------------------------------------------------ */
/* Steps                                                                */
/* ------------------------------------------------------------------ */

enum {
	SK_ID, SK_TITLE, SK_SAY, SK_ACTION, SK_WITH, SK_CONFIRM, SK_OUTPUTS,
	SK_COUNT
};
static const char *const step_keys[SK_COUNT + 1] = {
	"id", "title", "say", "action", "with", "confirm", "outputs", NULL
};

/* Check one scalar parameter value of type t; may rewrite *val. */
static enum kr_err
check_value(struct sctx *c, const struct cer_step *st, const char *name,
    enum ptype t, yaml_node_t *v, char **val)
{
	X509_NAME *xn = NULL;
	struct kr_error e2;
	char what[96], hex[65], types[96], *dup;
	const char *s, *why;
	long long n;
	enum kr_err rc;
	int i;

	snprintf(what, sizeof(what), "step '%s': %s", st->id, name);
	switch (t) {
	case P_TEXT:
		return get_text(c, v, what, TEXT_MAX, 1, val);
	case P_SUBJECT:
		if ((rc = get_text(c, v, what, 1024, 0, val)) != KR_OK)
			return rc;
		memset(&e2, 0, sizeof(e2));
		if ((rc = ca_parse_subject(*val, &xn, &e2)) != KR_OK) {
			if (rc == KR_E_NOMEM)
				return nomem(c);
			return perr(c, node_line(v), "%s: %s", what, e2.msg);
		}
		X509_NAME_free(xn);
		return KR_OK;
	case P_LABEL:
	case P_PROFILE:
		if ((rc = get_scalar(c, v, what, 0, &s)) != KR_OK)
			return rc;
		if (!id_ok(s))
			return perr(c, node_line(v), "%s: '%.64s' is not a "
			    "valid %s (1 to 64 letters, digits, '.', '-' or "
			    "'_')", what, s, t == P_LABEL ? "key label" :
			    "profile name");
		break;
	case P_KEYTYPE:
		if ((rc = get_scalar(c, v, what, 1, &s)) != KR_OK)
			return rc;
		for (i = 0; key_types[i] != NULL; i++)
			if (strcmp(s, key_types[i]) == 0)
				break;
		if (key_types[i] == NULL) {
			join(key_types, sizeof(key_types[0]), types,
			    sizeof(types));
			return perr(c, node_line(v), "%s: unknown key type "
			    "'%.40s' (expected one of: %s)", what, s, types);
		}
		break;
	case P_BOOL:
		if ((rc = get_scalar(c, v, what, 1, &s)) != KR_OK)
			return rc;
		if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
			return perr(c, node_line(v), "%s: expected true or "
			    "false, found '%.40s'", what, s);
		break;
	case P_DAYS:
		if ((rc = get_uint(c, v, what, 1, DAYS_MAX, &n)) != KR_OK)
			return rc;
		s = (const char *)v->data.scalar.value;
		break;
	case P_DURATION:
		if ((rc = get_scalar(c, v, what, 1, &s)) != KR_OK)
			return rc;
		n = kr_parse_duration(s, 'd');
		if (n <= 0 || n > DAYS_MAX * 86400LL)
			return perr(c, node_line(v), "%s: '%.40s' is not a "
			    "duration up to %d days (examples: 180d, 24h)",
			    what, s, DAYS_MAX);
		break;
	case P_SHA256:
		if ((rc = get_scalar(c, v, what, 0, &s)) != KR_OK)
			return rc;
		if (!sha256_hex(s, hex))
			return perr(c, node_line(v), "%s: expected a SHA-256 "
			    "as 64 hex digits (spaces between groups are "
			    "fine)", what);
		s = hex;
		break;
	case P_SIGCOUNT:
		if ((rc = get_uint(c, v, what, 1, CA_BUNDLE_MAX_SIGNERS, &n)) !=
		    KR_OK)
			return rc;
		s = (const char *)v->data.scalar.value;
		break;
	case P_DATE:
		if ((rc = get_scalar(c, v, what, 0, &s)) != KR_OK)
			return rc;
		if (ca_date_parse(s) == (time_t)-1)
			return perr(c, node_line(v), "%s: '%.40s' is not a date "
			    "(2027-06-30 or 2027-06-30T00:00:00Z)", what, s);
		break;
	case P_IN:
	case P_OUT:
	case P_OUT_DIR:
		if ((rc = get_scalar(c, v, what, 0, &s)) != KR_OK)
			return rc;
		if ((why = path_problem(s)) != NULL)
			return perr(c, node_line(v), "%s: '%.64s' %s", what, s,
			    why);
		break;
	case P_IN_LIST:
	case P_DNS_LIST:
	case P_IP_LIST:
		return kr_fail(c->err, KR_E_INTERNAL, "check_value: list");
	}
	if ((dup = strdup(s)) == NULL)
		return nomem(c);
	*val = dup;
	return KR_OK;
}

/* The items of a list parameter. */
static enum kr_err
check_list(struct sctx *c, const struct cer_step *st, struct cer_param *p,
    enum ptype t, yaml_node_t *v)
{
	char what[96];
	size_t *lines = NULL, i, j;
	const char *why;
	enum kr_err rc;

	snprintf(what, sizeof(what), "step '%s': %s", st->id, p->name);
	if (t != P_IN_LIST && t != P_DNS_LIST && t != P_IP_LIST) {
		if (v->type == YAML_SEQUENCE_NODE)
			return perr(c, node_line(v), "%s: expected a single "
			    "value, found a list", what);
		return kr_fail(c->err, KR_E_INTERNAL, "check_list: scalar");
	}
	if ((rc = get_list(c, v, (size_t)p->line, what, LIST_MAX, 0, &p->list,
	    &p->nlist, &lines)) != KR_OK)
		goto out;
	for (i = 0; i < p->nlist; i++) {
		why = NULL;
		if (t == P_IN_LIST)
			why = path_problem(p->list[i]);
		else if (t == P_DNS_LIST && !dns_ok(p->list[i]))
			why = "is not a DNS name (letters, digits, '-' in "
			    "dot-separated labels)";
		else if (t == P_IP_LIST)
			why = network_problem(p->list[i]);
		if (why != NULL) {
			rc = perr(c, lines[i], "%s: '%.64s' %s", what,
			    p->list[i], why);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (strcmp(p->list[i], p->list[j]) == 0) {
				rc = perr(c, lines[i], "%s: '%.64s' is listed "
				    "twice", what, p->list[i]);
				goto out;
			}
	}
	rc = KR_OK;
out:
	free(lines);
	return rc;
}

/* The "with" map of a step, checked against its action's parameters. */
static enum kr_err
parse_with(struct sctx *c, struct cer_step *st, const struct aspec *as,
    yaml_node_t *n, size_t line)
{
	const struct pspec *ps;
	const struct cer_param *dp;
	yaml_node_pair_t *pair;
	yaml_node_t *k, *v;
	struct cer_param *p;
	char expect[256];
	const char *ks;
	size_t cnt = 0, i, np, npairs;
	enum kr_err rc;

	for (np = 0; as->params[np].name != NULL; np++)
		;
	if (n != NULL && n->type != YAML_MAPPING_NODE)
		return perr(c, line, "step '%s': with: expected a mapping of "
		    "parameters (name: value)", st->id);
	npairs = n != NULL ? (size_t)(n->data.mapping.pairs.top -
	    n->data.mapping.pairs.start) : 0;
	if (np == 0 && npairs > 0)
		return perr(c, line, "step '%s': %s takes no parameters; "
		    "remove 'with'", st->id, as->name);
	if ((st->with = calloc(np + 1, sizeof(*st->with))) == NULL)
		return nomem(c);
	for (i = 0; i < npairs; i++) {
		pair = n->data.mapping.pairs.start + i;
		if ((rc = get_node(c, pair->key, line, &k)) != KR_OK)
			return rc;
		if ((rc = get_scalar(c, k, "parameter name", 0, &ks)) != KR_OK)
			return rc;
		if ((rc = get_node(c, pair->value, node_line(k), &v)) != KR_OK)
			return rc;
		for (ps = as->params; ps->name != NULL; ps++)
			if (strcmp(ks, ps->name) == 0)
				break;
		if (ps->name == NULL) {
			join(&as->params[0].name, sizeof(as->params[0]),
			    expect, sizeof(expect));
			return perr(c, node_line(k), "step '%s': %s has no "
			    "parameter '%.40s' (it takes: %s)", st->id,
			    as->name, ks, expect);
		}
		if ((dp = cer_step_param(st, ks)) != NULL)
			return perr(c, node_line(k), "duplicate key '%s' (first "
			    "given on line %d)", ks, dp->line);
		p = &st->with[cnt];
		if ((p->name = strdup(ks)) == NULL)
			return nomem(c);
		p->line = (int)node_line(k);
		st->nwith = ++cnt;
		if (v->type == YAML_SEQUENCE_NODE || ps->type == P_IN_LIST ||
		    ps->type == P_DNS_LIST || ps->type == P_IP_LIST)
			rc = check_list(c, st, p, ps->type, v);
		else
			rc = check_value(c, st, ks, ps->type, v, &p->value);
		if (rc != KR_OK)
			return rc;
	}
	for (ps = as->params; ps->name != NULL; ps++) {
		if (cer_step_param(st, ps->name) != NULL)
			continue;
		if (ps->required)
			return perr(c, line, "step '%s': %s needs the parameter "
			    "'%s'", st->id, as->name, ps->name);
		if (ps->def == NULL)
			continue;
		p = &st->with[cnt];
		if ((p->name = strdup(ps->name)) == NULL ||
		    (p->value = strdup(ps->def)) == NULL)
			return nomem(c);
		p->line = st->line;
		p->implicit = 1;
		st->nwith = ++cnt;
	}
	return KR_OK;
}

/* Every field of one step, and what can be checked of it alone. */
static enum kr_err
parse_step(struct sctx *c, yaml_node_t *n, struct cer_step *st)
{
	struct kv kv[SK_COUNT];
	const struct aspec *as;
	char expect[512];
	size_t *lines = NULL, i, j;
	const char *s, *why;
	enum kr_err rc;

	st->line = (int)node_line(n);
	if (n->type != YAML_MAPPING_NODE) {
		rc = perr(c, node_line(n), "steps: each step is a mapping "
		    "(- id: ..., title: ..., action: ...), found a %s",
		    n->type == YAML_SEQUENCE_NODE ? "list" : "single value");
		goto out;
	}
	if ((rc = get_map(c, n, node_line(n), "step", step_keys, SK_COUNT,
	    kv)) != KR_OK)
		goto out;
	if (kv[SK_ID].v == NULL) {
		rc = perr(c, node_line(n), "step: missing required key 'id'");
		goto out;
	}
	if ((rc = get_scalar(c, kv[SK_ID].v, "step id", 0, &s)) != KR_OK)
		goto out;
	if (!id_ok(s)) {
		rc = perr(c, kv[SK_ID].line, "step id '%.64s' is not valid (1 "
		    "to 64 letters, digits, '.', '-' or '_')", s);
		goto out;
	}
	if ((st->id = strdup(s)) == NULL) {
		rc = nomem(c);
		goto out;
	}
	if (kv[SK_TITLE].v == NULL || kv[SK_ACTION].v == NULL) {
		rc = perr(c, node_line(n), "step '%s': missing required key "
		    "'%s'", st->id, kv[SK_TITLE].v == NULL ? "title" :
		    "action");
		goto out;
	}
	if ((rc = get_text(c, kv[SK_TITLE].v, "title", TITLE_MAX, 0,
	    &st->title)) != KR_OK)
		goto out;
	if (kv[SK_SAY].v != NULL && (rc = get_text(c, kv[SK_SAY].v, "say",
	    TEXT_MAX, 1, &st->say)) != KR_OK)
		goto out;
	if ((rc = get_scalar(c, kv[SK_ACTION].v, "action", 1, &s)) != KR_OK)
		goto out;
	for (as = actions; as->name != NULL; as++)
		if (strcmp(s, as->name) == 0)
			break;
	if (as->name == NULL) {
		join(&actions[0].name, sizeof(actions[0]), expect,
		    sizeof(expect));
		rc = perr(c, kv[SK_ACTION].line, "step '%s': unknown action "
		    "'%.40s' (expected one of: %s)", st->id, s, expect);
		goto out;
	}
	st->action = as->act;
	if ((rc = parse_with(c, st, as, kv[SK_WITH].v, kv[SK_WITH].v != NULL ?
	    kv[SK_WITH].line : (size_t)st->line)) != KR_OK)
		goto out;
	if (kv[SK_CONFIRM].v != NULL) {
		if ((rc = get_list(c, kv[SK_CONFIRM].v, kv[SK_CONFIRM].line,
		    "confirm", LIST_MAX, 1, &st->confirm, &st->nconfirm,
		    &lines)) != KR_OK)
			goto out;
		for (i = 0; i < st->nconfirm; i++) {
			if (cer_script_role(c->s, st->confirm[i]) == NULL) {
				role_ids(c->s, expect, sizeof(expect));
				rc = perr(c, lines[i], "step '%s': confirm: "
				    "there is no role '%.64s' (roles: %s)",
				    st->id, st->confirm[i], expect);
				goto out;
			}
			for (j = 0; j < i; j++)
				if (strcmp(st->confirm[i], st->confirm[j]) ==
				    0) {
					rc = perr(c, lines[i], "step '%s': "
					    "confirm: '%s' is listed twice",
					    st->id, st->confirm[i]);
					goto out;
				}
		}
		free(lines);
		lines = NULL;
	}
	if (kv[SK_OUTPUTS].v != NULL) {
		if ((rc = get_list(c, kv[SK_OUTPUTS].v, kv[SK_OUTPUTS].line,
		    "outputs", 2 * LIST_MAX, 1, &st->outputs, &st->noutputs,
		    &lines)) != KR_OK)
			goto out;
		for (i = 0; i < st->noutputs; i++) {
			if ((why = path_problem(st->outputs[i])) != NULL) {
				rc = perr(c, lines[i], "step '%s': output "
				    "'%.64s' %s", st->id, st->outputs[i], why);
				goto out;
			}
			for (j = 0; j < i; j++)
				if (strcmp(st->outputs[i], st->outputs[j]) ==
				    0) {
					rc = perr(c, lines[i], "step '%s': "
					    "output '%s' is listed twice",
					    st->id, st->outputs[i]);
					goto out;
				}
		}
	}
	rc = KR_OK;
out:
	free(lines);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Whole-script checks                                                  */
/* ------------------------------------------------------------------ */

/* The files an action writes, given the roles (malloc'd list). */
static enum kr_err
expected_outputs(struct sctx *c, const struct cer_step *st, char ***out,
    size_t *nout)
{
	const struct cer_role *r = NULL;
	const struct cer_param *p;
	const char *dir = NULL, *first = NULL, *pre = NULL, *suf = NULL;
	char **l;
	size_t i, n = 0;

	*out = NULL;
	*nout = 0;
	switch (st->action) {
	case CER_ACT_QUORUM_INIT:
		r = cer_script_role(c->s, CER_ROLE_OFFICERS);
		dir = "officers";
		first = "officers.json";
		pre = "";
		suf = ".cred";
		break;
	case CER_ACT_BACKUP_CREATE:
		r = cer_script_role(c->s, CER_ROLE_CUSTODIANS);
		p = cer_step_param(st, "out");
		dir = p != NULL ? p->value : NULL;
		first = "backup.blob";
		pre = "share-";
		suf = ".txt";
		break;
	case CER_ACT_BUNDLE_BUILD:
		/*
		 * The other files' names hold their hashes; manifest.json
		 * names each with its SHA-256, so its hash pins them all.
		 */
		p = cer_step_param(st, "out");
		dir = p != NULL ? p->value : NULL;
		first = CA_BUNDLE_MANIFEST;
		break;
	case CER_ACT_ROOT_SELFSIGN:
	case CER_ACT_SIGN_CSR:
	case CER_ACT_CRL:
	case CER_ACT_CROSS_SIGN:
	case CER_ACT_BUNDLE_PACK:
		p = cer_step_param(st, "out");
		first = p != NULL ? p->value : NULL;
		break;
	case CER_ACT_CONFIRM:
	case CER_ACT_ACTIVATE:
	case CER_ACT_KEYGEN:
	case CER_ACT_BACKUP_RESTORE:
	case CER_ACT_RECORD:
	case CER_ACT_VERIFY_FILE:
	case CER_ACT_DEACTIVATE:
	case CER_ACT_BUNDLE_SIGN:
	case CER_ACT_BUNDLE_VERIFY:
		return KR_OK;
	}
	if (first == NULL)
		return KR_OK;
	if ((l = calloc(2 + (r != NULL ? r->nparticipants : 0),
	    sizeof(char *))) == NULL)
		return nomem(c);
	*out = l;
	if (dir != NULL ? asprintf(&l[n], "%s/%s", dir, first) < 0 :
	    (l[n] = strdup(first)) == NULL) {
		l[n] = NULL;
		return nomem(c);
	}
	*nout = ++n;
	for (i = 0; r != NULL && dir != NULL && i < r->nparticipants; i++) {
		if (asprintf(&l[n], "%s/%s%s%s", dir, pre, r->participants[i],
		    suf) < 0) {
			l[n] = NULL;
			return nomem(c);
		}
		*nout = ++n;
	}
	return KR_OK;
}

/* Outputs must be exactly what the action writes. */
static enum kr_err
check_outputs(struct sctx *c, const struct cer_step *st)
{
	const char *name = cer_action_name(st->action);
	char **exp = NULL, list[512];
	size_t nexp = 0, i, j, n = 0;
	enum kr_err rc;

	if ((rc = expected_outputs(c, st, &exp, &nexp)) != KR_OK)
		goto out;
	list[0] = '\0';
	for (i = 0; i < nexp && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
		    i > 0 ? ", " : "", exp[i]);
	for (i = 0; i < st->noutputs; i++) {
		for (j = 0; j < nexp; j++)
			if (strcmp(st->outputs[i], exp[j]) == 0)
				break;
		if (j == nexp) {
			if (nexp == 0)
				rc = perr(c, st->line, "step '%s': outputs: "
				    "%s writes no file; remove '%s'", st->id,
				    name, st->outputs[i]);
			else
				rc = perr(c, st->line, "step '%s': outputs: "
				    "'%s' is not written by %s (it writes: %s)",
				    st->id, st->outputs[i], name, list);
			goto out;
		}
	}
	for (j = 0; j < nexp; j++) {
		for (i = 0; i < st->noutputs; i++)
			if (strcmp(st->outputs[i], exp[j]) == 0)
				break;
		if (i == st->noutputs) {
			rc = perr(c, st->line, "step '%s': outputs: '%s' is "
			    "missing; list every file %s writes: %s", st->id,
			    exp[j], name, list);
			goto out;
		}
	}
	rc = KR_OK;
out:
	free_list(exp, nexp);
	return rc;
}

/* Every output of the script, sorted by path then step, for lookups. */
struct written {
	const char	*path;
	size_t		 step;
};

static int
written_cmp(const void *a, const void *b)
{
	const struct written *x = a, *y = b;
	int d = strcmp(x->path, y->path);

	if (d != 0)
		return d;
	return x->step < y->step ? -1 : x->step > y->step;
}

/* The step (index) that first writes path, or nsteps. */
static size_t
writer_of(const struct cer_script *s, const struct written *w, size_t nw,
    const char *path)
{
	size_t lo = 0, hi = nw, mid;

	/* The first entry not below (path, 0). */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(w[mid].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < nw && strcmp(w[lo].path, path) == 0)
		return w[lo].step;
	return s->nsteps;
}

/* An input may come from an earlier step, or from outside; not later. */
static enum kr_err
check_input(struct sctx *c, const struct written *w, size_t nw, size_t si,
    const struct cer_param *p, const char *path)
{
	const struct cer_script *s = c->s;
	size_t k = writer_of(s, w, nw, path);

	if (k < s->nsteps && k >= si)
		return perr(c, p->line, "step '%s': %s '%s' is written by "
		    "step '%s' (line %d), %s", s->steps[si].id, p->name, path,
		    s->steps[k].id, s->steps[k].line, k == si ? "this same "
		    "step" : "which comes later");
	return KR_OK;
}

/*
 * No two steps write one file, and no step reads what is written by
 * itself or later.  Run once every step's outputs are known to be
 * exactly its action's, with a sorted index so a large hostile script
 * costs n log n, not n squared.
 */
static enum kr_err
check_files(struct sctx *c)
{
	const struct cer_script *s = c->s;
	const struct cer_step *st;
	const struct cer_param *p;
	struct written *w = NULL;
	size_t nw = 0, i, j, k, dup = 0;
	enum ptype t;
	enum kr_err rc;

	for (i = 0; i < s->nsteps; i++)
		nw += s->steps[i].noutputs;
	if ((w = calloc(nw + 1, sizeof(*w))) == NULL)
		return nomem(c);
	for (i = 0, k = 0; i < s->nsteps; i++)
		for (j = 0; j < s->steps[i].noutputs; j++) {
			w[k].path = s->steps[i].outputs[j];
			w[k++].step = i;
		}
	qsort(w, nw, sizeof(*w), written_cmp);
	/* Of all repeats, report the one in the earliest step. */
	for (k = 1; k < nw; k++)
		if (strcmp(w[k].path, w[k - 1].path) == 0 &&
		    (dup == 0 || w[k].step < w[dup].step))
			dup = k;
	if (dup != 0) {
		i = writer_of(s, w, nw, w[dup].path);
		rc = perr(c, s->steps[w[dup].step].line, "step '%s': output "
		    "'%s' is also written by step '%s' (line %d); outputs are "
		    "never overwritten", s->steps[w[dup].step].id, w[dup].path,
		    s->steps[i].id, s->steps[i].line);
		goto out;
	}
	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		for (j = 0; j < st->nwith; j++) {
			p = &st->with[j];
			t = param_type(st->action, p->name);
			if (t == P_IN && p->value != NULL &&
			    (rc = check_input(c, w, nw, i, p, p->value)) !=
			    KR_OK)
				goto out;
			/* A bundle is a directory: its manifest's writer. */
			if (t == P_IN && p->value != NULL &&
			    (strcmp(p->name, "bundle") == 0 ||
			    strcmp(p->name, "previous") == 0)) {
				char mf[PATH_LEN_MAX + 32];

				snprintf(mf, sizeof(mf), "%s/%s", p->value,
				    CA_BUNDLE_MANIFEST);
				if ((rc = check_input(c, w, nw, i, p, mf)) !=
				    KR_OK)
					goto out;
			}
			for (k = 0; t == P_IN_LIST && k < p->nlist; k++)
				if ((rc = check_input(c, w, nw, i, p,
				    p->list[k])) != KR_OK)
					goto out;
		}
	}
	rc = KR_OK;
out:
	free(w);
	return rc;
}

/* Does the step list a witness role in confirm? */
static int
witnessed(const struct cer_step *st)
{
	size_t i;

	for (i = 0; i < st->nconfirm; i++)
		if (cer_role_is_witness(st->confirm[i]))
			return 1;
	return 0;
}

/* A role with a threshold that an action relies on. */
static enum kr_err
need_role(struct sctx *c, const struct cer_step *st, const char *id,
    const char *why)
{
	const struct cer_role *r = cer_script_role(c->s, id);

	if (r == NULL || r->threshold == 0)
		return perr(c, st->line, "step '%s' (%s) needs a role '%s' "
		    "with a threshold: %s", st->id, cer_action_name(st->action),
		    id, why);
	return KR_OK;
}

/*
 * A bundle's anchors: at least one active (required by the spec), none
 * listed twice, at most CA_BUNDLE_MAX_ANCHORS; remove_after exactly
 * when one is retiring; a lifetime keyrite builds.
 */
static enum kr_err
check_bundle_build(struct sctx *c, const struct cer_step *st)
{
	static const char *const lists[] = { "active", "next", "retiring" };
	const struct cer_param *p, *q, *ret, *exp;
	size_t i, j, k, l, n = 0;

	for (i = 0; i < 3; i++) {
		if ((p = cer_step_param(st, lists[i])) == NULL)
			continue;
		n += p->nlist;
		for (k = 0; k < p->nlist; k++)
			for (j = 0; j < i; j++) {
				if ((q = cer_step_param(st, lists[j])) == NULL)
					continue;
				for (l = 0; l < q->nlist; l++)
					if (strcmp(p->list[k], q->list[l]) ==
					    0)
						return perr(c, p->line, "step "
						    "'%s': anchor '%s' is both "
						    "%s and %s", st->id,
						    p->list[k], lists[j],
						    lists[i]);
			}
	}
	if (n > CA_BUNDLE_MAX_ANCHORS)
		return perr(c, st->line, "step '%s': %zu anchors; a bundle "
		    "holds at most %d", st->id, n, CA_BUNDLE_MAX_ANCHORS);
	if ((p = cer_step_param(st, "cross")) != NULL &&
	    p->nlist > CA_BUNDLE_MAX_CROSS)
		return perr(c, p->line, "step '%s': %zu cross-certificates; a "
		    "bundle holds at most %d", st->id, p->nlist,
		    CA_BUNDLE_MAX_CROSS);
	ret = cer_step_param(st, "retiring");
	if (ret != NULL && cer_step_param(st, "remove_after") == NULL)
		return perr(c, ret->line, "step '%s': retiring anchors need "
		    "remove_after (the date endpoints remove them)", st->id);
	if (ret == NULL && (q = cer_step_param(st, "remove_after")) != NULL)
		return perr(c, q->line, "step '%s': remove_after is for "
		    "retiring anchors, and none is retiring", st->id);
	exp = cer_step_param(st, "expires");
	if (exp != NULL && kr_parse_duration(exp->value, 'd') >
	    CA_BUNDLE_MAX_LIFETIME)
		return perr(c, exp->line, "step '%s': expires: %s is longer "
		    "than a bundle may live (%lld days)", st->id, exp->value,
		    CA_BUNDLE_MAX_LIFETIME / 86400);
	return KR_OK;
}

/*
 * bundle-sign signs a bundle an earlier bundle-build step of the script
 * made, in the ceremony directory, and not once it is packed (the
 * archive would lack the signature).  bundle-pack may pack any bundle,
 * but not one built later.
 */
static enum kr_err
check_bundle_use(struct sctx *c, size_t si)
{
	const struct cer_script *s = c->s;
	const struct cer_step *st = &s->steps[si], *o;
	const struct cer_param *b = cer_step_param(st, "bundle"), *q;
	size_t k;
	int built = 0;

	for (k = 0; b != NULL && k < s->nsteps; k++) {
		o = &s->steps[k];
		if (o->action == CER_ACT_BUNDLE_BUILD &&
		    (q = cer_step_param(o, "out")) != NULL &&
		    strcmp(q->value, b->value) == 0) {
			if (k > si)
				return perr(c, b->line, "step '%s': bundle "
				    "'%s' is built by step '%s' (line %d), "
				    "which comes later", st->id, b->value,
				    o->id, o->line);
			built = 1;
		}
		if (st->action == CER_ACT_BUNDLE_SIGN && k < si &&
		    o->action == CER_ACT_BUNDLE_PACK &&
		    (q = cer_step_param(o, "bundle")) != NULL &&
		    strcmp(q->value, b->value) == 0)
			return perr(c, b->line, "step '%s': bundle '%s' is "
			    "already packed by step '%s' (line %d); sign it "
			    "before packing", st->id, b->value, o->id,
			    o->line);
	}
	if (st->action == CER_ACT_BUNDLE_SIGN && !built && b != NULL)
		return perr(c, b->line, "step '%s': bundle '%s' is not built "
		    "by an earlier bundle-build step; bundle-sign signs a "
		    "bundle this ceremony builds", st->id, b->value);
	return KR_OK;
}

/*
 * The rules over the sequence of steps: quorum spans, witnesses,
 * roles actions rely on, outputs, key labels; then files across steps.
 */
static enum kr_err
check_steps(struct sctx *c)
{
	const struct cer_script *s = c->s;
	const struct cer_step *st, *on = NULL, *off = NULL, *o;
	const struct cer_param *p, *q;
	size_t i, j, k, l;
	enum kr_err rc;

	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		for (j = 0; j < i; j++)
			if (strcmp(st->id, s->steps[j].id) == 0)
				return perr(c, st->line, "duplicate step id "
				    "'%s' (first used on line %d)", st->id,
				    s->steps[j].line);
		switch (st->action) {
		case CER_ACT_CONFIRM:
			if (st->nconfirm == 0)
				return perr(c, st->line, "step '%s' (confirm) "
				    "names no role to confirm it: add, e.g., "
				    "confirm: [witness]", st->id);
			break;
		case CER_ACT_QUORUM_INIT:
			if ((rc = need_role(c, st, CER_ROLE_OFFICERS, "the "
			    "token's PIN is split among the officers")) !=
			    KR_OK)
				return rc;
			if (on != NULL)
				return perr(c, st->line, "step '%s' "
				    "(quorum-init) changes the token's PIN "
				    "while the quorum activated by step '%s' "
				    "(line %d) is logged in; put it before "
				    "that step", st->id, on->id, on->line);
			break;
		case CER_ACT_ACTIVATE:
			if ((rc = need_role(c, st, CER_ROLE_OFFICERS, "the "
			    "officers' quorum activates the token")) != KR_OK)
				return rc;
			if (on != NULL)
				return perr(c, st->line, "step '%s' (activate): "
				    "the quorum is already active since step "
				    "'%s' (line %d); add a 'deactivate' step "
				    "first", st->id, on->id, on->line);
			on = st;
			break;
		case CER_ACT_DEACTIVATE:
			if (on == NULL)
				return perr(c, st->line, "step '%s' "
				    "(deactivate): no quorum is active to "
				    "deactivate", st->id);
			on = NULL;
			off = st;
			break;
		case CER_ACT_BACKUP_CREATE:
		case CER_ACT_BACKUP_RESTORE:
			if ((rc = need_role(c, st, CER_ROLE_CUSTODIANS, "the "
			    "backup is split among the custodians")) != KR_OK)
				return rc;
			break;
		case CER_ACT_ROOT_SELFSIGN:
			if (cer_step_param(st, "constraints_from") != NULL &&
			    (cer_step_param(st, "permitted_dns") != NULL ||
			    cer_step_param(st, "permitted_ip") != NULL))
				return perr(c, st->line, "step '%s' "
				    "(root-selfsign): constraints_from copies "
				    "the name constraints of a certificate; "
				    "give no permitted_dns or permitted_ip with "
				    "it", st->id);
			break;
		case CER_ACT_BUNDLE_BUILD:
			if ((rc = check_bundle_build(c, st)) != KR_OK)
				return rc;
			break;
		case CER_ACT_BUNDLE_SIGN:
		case CER_ACT_BUNDLE_PACK:
			if ((rc = check_bundle_use(c, i)) != KR_OK)
				return rc;
			break;
		case CER_ACT_KEYGEN:
		case CER_ACT_SIGN_CSR:
		case CER_ACT_CRL:
		case CER_ACT_CROSS_SIGN:
		case CER_ACT_RECORD:
		case CER_ACT_VERIFY_FILE:
		case CER_ACT_BUNDLE_VERIFY:
			break;
		}
		if (cer_action_uses_key(st->action)) {
			if (on == NULL && off != NULL)
				return perr(c, st->line, "step '%s' (%s) uses "
				    "the token key but the quorum was "
				    "deactivated by step '%s' (line %d): move it "
				    "before that step or add an 'activate' step "
				    "before it", st->id,
				    cer_action_name(st->action), off->id,
				    off->line);
			if (on == NULL)
				return perr(c, st->line, "step '%s' (%s) uses "
				    "the token key but no quorum is active: add "
				    "an 'activate' step before it", st->id,
				    cer_action_name(st->action));
			if (!witnessed(st))
				return perr(c, st->line, "step '%s' (%s) uses "
				    "the token key, so a witness must confirm "
				    "it: add 'witness' to its confirm list",
				    st->id, cer_action_name(st->action));
		}
		if ((rc = check_outputs(c, st)) != KR_OK)
			return rc;
		/* Key labels: generated once, and before they are used. */
		if (st->action != CER_ACT_KEYGEN &&
		    (p = cer_step_param(st, "key")) != NULL) {
			for (k = 0; k < s->nsteps; k++) {
				o = &s->steps[k];
				if (o->action != CER_ACT_KEYGEN ||
				    (q = cer_step_param(o, "label")) == NULL ||
				    strcmp(q->value, p->value) != 0)
					continue;
				if (k > i)
					return perr(c, p->line, "step '%s': key "
					    "'%s' is generated by step '%s' "
					    "(line %d), which comes later",
					    st->id, p->value, o->id, o->line);
				q = cer_step_param(o, "backup");
				if (st->action == CER_ACT_BACKUP_CREATE &&
				    q != NULL && strcmp(q->value, "false") ==
				    0)
					return perr(c, p->line, "step '%s': key "
					    "'%s' is generated with backup: "
					    "false by step '%s' (line %d), so it "
					    "cannot be backed up", st->id,
					    p->value, o->id, o->line);
			}
		}
		if (st->action == CER_ACT_KEYGEN) {
			p = cer_step_param(st, "label");
			for (l = 0; p != NULL && l < i; l++) {
				q = s->steps[l].action == CER_ACT_KEYGEN ?
				    cer_step_param(&s->steps[l], "label") :
				    NULL;
				if (q != NULL && strcmp(q->value, p->value) ==
				    0)
					return perr(c, p->line, "step '%s': key "
					    "'%s' is already generated by step "
					    "'%s' (line %d)", st->id, p->value,
					    s->steps[l].id, s->steps[l].line);
			}
		}
		if (st->action == CER_ACT_RECORD &&
		    (cer_step_param(st, "text") == NULL) ==
		    (cer_step_param(st, "file") == NULL))
			return perr(c, st->line, "step '%s': record takes "
			    "exactly one of 'text' and 'file'", st->id);
	}
	if (on != NULL)
		return perr(c, on->line, "the quorum activated by step '%s' is "
		    "never deactivated: add a 'deactivate' step after the "
		    "last key step", on->id);
	return check_files(c);
}

/* The step list. */
static enum kr_err
parse_steps(struct sctx *c, yaml_node_t *n, size_t line)
{
	struct cer_script *s = c->s;
	yaml_node_item_t *it;
	yaml_node_t *item;
	size_t cnt;
	enum kr_err rc;

	if (n->type != YAML_SEQUENCE_NODE)
		return perr(c, line, "steps: expected a list of steps "
		    "(- id: ..., title: ..., action: ...)");
	cnt = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (cnt == 0)
		return perr(c, line, "steps: no steps");
	if (cnt > 1000)
		return perr(c, line, "steps: more than 1000 steps");
	if ((s->steps = calloc(cnt, sizeof(*s->steps))) == NULL)
		return nomem(c);
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		if ((rc = get_node(c, *it, line, &item)) != KR_OK)
			return rc;
		s->nsteps++;
		if ((rc = parse_step(c, item, &s->steps[s->nsteps - 1])) !=
		    KR_OK)
			return rc;
	}
	return check_steps(c);
}

/* ------------------------------------------------------------------ */
/* The document                                                         */
/* ------------------------------------------------------------------ */

enum {
	TK_VERSION, TK_NAME, TK_TITLE, TK_PURPOSE, TK_ROLES, TK_STEPS,
	TK_COUNT
};
static const char *const top_keys[TK_COUNT + 1] = {
	"version", "name", "title", "purpose", "roles", "steps", NULL
};

static enum kr_err
parse_root(struct sctx *c, yaml_node_t *root)
{
	struct cer_script *s = c->s;
	struct kv kv[TK_COUNT];
	const char *v;
	long long n;
	size_t i;
	enum kr_err rc;

	if (root->type != YAML_MAPPING_NODE)
		return perr(c, node_line(root), "a ceremony script is a "
		    "mapping of keys to values (\"version: 1\", \"name: "
		    "...\")");
	if ((rc = get_map(c, root, node_line(root), "top-level", top_keys,
	    TK_COUNT, kv)) != KR_OK)
		return rc;
	for (i = 0; i < TK_COUNT; i++)
		if (kv[i].v == NULL)
			return perr(c, node_line(root), "missing required key "
			    "'%s'", top_keys[i]);
	if ((rc = get_uint(c, kv[TK_VERSION].v, "version", 0, 1000000, &n)) !=
	    KR_OK)
		return rc;
	if (n != SCRIPT_VERSION)
		return perr(c, kv[TK_VERSION].line, "version: %lld is not "
		    "supported (this keyrite reads version %d)", n,
		    SCRIPT_VERSION);
	if ((rc = get_scalar(c, kv[TK_NAME].v, "name", 0, &v)) != KR_OK)
		return rc;
	if (!id_ok(v))
		return perr(c, kv[TK_NAME].line, "name: '%.64s' is not a valid "
		    "script name (1 to 64 letters, digits, '.', '-' or '_')",
		    v);
	if ((s->name = strdup(v)) == NULL)
		return nomem(c);
	if ((rc = get_text(c, kv[TK_TITLE].v, "title", TITLE_MAX, 0,
	    &s->title)) != KR_OK ||
	    (rc = get_text(c, kv[TK_PURPOSE].v, "purpose", TEXT_MAX, 1,
	    &s->purpose)) != KR_OK)
		return rc;
	if ((rc = parse_roles(c, kv[TK_ROLES].v, kv[TK_ROLES].line)) != KR_OK)
		return rc;
	return parse_steps(c, kv[TK_STEPS].v, kv[TK_STEPS].line);
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

static enum kr_err
yaml_fail(struct sctx *c, const yaml_parser_t *y, const char *text,
    size_t len)
{
	if (y->error == YAML_MEMORY_ERROR)
		return nomem(c);
	if (y->context != NULL)
		return perr(c, yaml_err_line(y, text, len), "%s %s that starts "
		    "on line %zu", y->problem != NULL ? y->problem :
		    "YAML syntax error", y->context,
		    (size_t)y->context_mark.line + 1);
	return perr(c, yaml_err_line(y, text, len), "%s", y->problem != NULL ?
	    y->problem : "YAML syntax error");
}

/*
 * Parse and check a script (see script.h).  Every refusal is
 * KR_E_PARSE with "NAME:LINE: message", except KR_E_NOMEM and
 * KR_E_CRYPTO (hashing failed).  *out is the caller's, freed with
 * cer_script_free.
 */
enum kr_err
cer_script_parse(const char *text, size_t len, const char *name,
    struct cer_script **out, struct kr_error *err)
{
	struct cer_script *s = NULL;
	struct sctx c;
	yaml_parser_t y;
	yaml_document_t doc, extra;
	yaml_node_t *root;
	int have_parser = 0, have_doc = 0;
	enum kr_err rc;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.file = name != NULL ? name : "<script>";
	c.err = err;
	c.doc = &doc;
	if (text == NULL) {
		rc = perr(&c, 1, "no script text");
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->source = strdup(c.file)) == NULL) {
		rc = nomem(&c);
		goto out;
	}
	c.s = s;
	if (EVP_Digest(text, len, s->sha256, NULL, EVP_sha256(), NULL) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "%s: SHA-256", c.file);
		goto out;
	}
	if (!yaml_parser_initialize(&y)) {
		rc = nomem(&c);
		goto out;
	}
	have_parser = 1;
	yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
	if (!yaml_parser_load(&y, &doc)) {
		rc = yaml_fail(&c, &y, text, len);
		goto out;
	}
	have_doc = 1;
	if ((root = yaml_document_get_root_node(&doc)) == NULL) {
		rc = perr(&c, 1, "empty script");
		goto out;
	}
	if (!yaml_parser_load(&y, &extra)) {
		rc = yaml_fail(&c, &y, text, len);
		goto out;
	}
	if (yaml_document_get_root_node(&extra) != NULL) {
		rc = perr(&c, extra.start_mark.line + 1, "a script file holds "
		    "one YAML document, this is a second one");
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);
	c.nnodes = (size_t)(doc.nodes.top - doc.nodes.start);
	if ((c.seen = calloc(c.nnodes + 1, 1)) == NULL) {
		rc = nomem(&c);
		goto out;
	}
	c.seen[0] = 1;		/* the root, node 1 */
	if ((rc = parse_root(&c, root)) != KR_OK)
		goto out;
	*out = s;
	s = NULL;
	rc = KR_OK;
out:
	free(c.seen);
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&y);
	cer_script_free(s);
	return rc;
}

/* Read and parse a script file; errors name the path. */
enum kr_err
cer_script_load(const char *path, struct cer_script **out,
    struct kr_error *err)
{
	uint8_t *buf = NULL;
	size_t len;
	enum kr_err rc;

	*out = NULL;
	if ((rc = kr_file_read(path, SCRIPT_MAX_BYTES, &buf, &len, err)) !=
	    KR_OK)
		goto out;
	rc = cer_script_parse((const char *)buf, len, path, out, err);
out:
	free(buf);
	return rc;
}

/* Free a script and everything in it; safe on NULL. */
void
cer_script_free(struct cer_script *s)
{
	struct cer_step *st;
	struct cer_role *r;
	size_t i, j;

	if (s == NULL)
		return;
	for (i = 0; i < s->nroles; i++) {
		r = &s->roles[i];
		free(r->id);
		free(r->title);
		free_list(r->participants, r->nparticipants);
	}
	free(s->roles);
	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		free(st->id);
		free(st->title);
		free(st->say);
		for (j = 0; j < st->nwith; j++) {
			free(st->with[j].name);
			free(st->with[j].value);
			free_list(st->with[j].list, st->with[j].nlist);
		}
		free(st->with);
		free_list(st->confirm, st->nconfirm);
		free_list(st->outputs, st->noutputs);
	}
	free(s->steps);
	free(s->source);
	free(s->name);
	free(s->title);
	free(s->purpose);
	free(s);
}

/* The role with id, or NULL. */
const struct cer_role *
cer_script_role(const struct cer_script *s, const char *id)
{
	size_t i;

	if (s == NULL || id == NULL)
		return NULL;
	for (i = 0; i < s->nroles; i++)
		if (s->roles[i].id != NULL && strcmp(s->roles[i].id, id) == 0)
			return &s->roles[i];
	return NULL;
}

/* The parameter name of a step (defaults included), or NULL. */
const struct cer_param *
cer_step_param(const struct cer_step *st, const char *name)
{
	size_t i;

	if (st == NULL || name == NULL)
		return NULL;
	for (i = 0; i < st->nwith; i++)
		if (strcmp(st->with[i].name, name) == 0)
			return &st->with[i];
	return NULL;
}
