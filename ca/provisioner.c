/*
 * provisioner.c: provisioner files, their public view for the daemon,
 * and the allow-list matching (see provisioner.h and docs/jws.md).
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "../common/file.h"
#include "provisioner.h"

#define SEED_LEN	crypto_sign_SEEDBYTES
#define HOST_MAX	253
#define LABEL_MAX	63

static const char *const file_members[] = {
	"format", "version", "name", "server", "allow", "allow_ip",
	"max_lifetime", "secret_key", NULL,
};

static const char *const public_members[] = {
	"name", "key", "allow", "allow_ip", "max_lifetime", NULL,
};

/* ---- jansson freeing through a wipe while a secret is in its heap ---- */

static void
wipe_free(void *p)
{
	if (p != NULL) {
		sodium_memzero(p, malloc_usable_size(p));
		free(p);
	}
}

struct jwipe {
	json_malloc_t	 m;
	json_free_t	 f;
	int		 set;
};

/*
 * Make jansson wipe every block it frees until jwipe_end.  Only done
 * when jansson is on plain malloc/free (keyrite never changes that):
 * wipe_free releases with free, so blocks allocated before or after
 * the switch are released correctly either way.
 */
static void
jwipe_begin(struct jwipe *w)
{
	json_get_alloc_funcs(&w->m, &w->f);
	w->set = w->m == malloc && w->f == free;
	if (w->set)
		json_set_alloc_funcs(malloc, wipe_free);
}

static void
jwipe_end(const struct jwipe *w)
{
	if (w->set)
		json_set_alloc_funcs(w->m, w->f);
}

/* ---- names, patterns, addresses ---- */

int
ca_prov_name_ok(const char *s)
{
	size_t i;

	if (!isalnum((unsigned char)s[0]))
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= CA_PROV_NAME_MAX || !(isalnum((unsigned char)s[i]) ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* https://HOST[:PORT][/PATH], printable ASCII, no spaces. */
static int
server_ok(const char *s)
{
	static const char scheme[] = "https://";
	size_t i;

	if (strncmp(s, scheme, sizeof(scheme) - 1) != 0)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= CA_PROV_SERVER_MAX || s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	i = sizeof(scheme) - 1;
	return s[i] != '\0' && s[i] != '/' && s[i] != ':' && s[i] != '?' &&
	    s[i] != '#';
}

/*
 * Whether s is a host name: LDH labels of 1..63 characters, not starting
 * or ending with '-', 253 characters in all, no trailing dot, and a last
 * label that is not all digits (so that "10.1.2.3" is never a host
 * name).  *nlabels (may be NULL) gets the label count.
 */
static int
host_ok(const char *s, size_t *nlabels)
{
	size_t i, start = 0, n = 0, len = strlen(s);
	int digits = 1;

	if (len == 0 || len > HOST_MAX)
		return 0;
	for (i = 0; i <= len; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (i == start || i - start > LABEL_MAX ||
			    s[start] == '-' || s[i - 1] == '-')
				return 0;
			n++;
			if (s[i] == '\0')
				break;
			start = i + 1;
			digits = 1;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
		if (!isdigit((unsigned char)s[i]))
			digits = 0;
	}
	if (digits)
		return 0;
	if (nlabels != NULL)
		*nlabels = n;
	return 1;
}

int
ca_prov_dns_pattern_ok(const char *s)
{
	size_t n;

	if (s[0] == '*')
		return s[1] == '.' && host_ok(s + 2, &n) && n >= 2;
	return host_ok(s, NULL);
}

int
ca_prov_dns_match(const char *pattern, const char *name)
{
	const char *dot;

	if (!ca_prov_dns_pattern_ok(pattern) || !host_ok(name, NULL))
		return 0;
	if (pattern[0] != '*')
		return strcasecmp(pattern, name) == 0;
	/* One label, then exactly the pattern's suffix (with its dot). */
	if ((dot = strchr(name, '.')) == NULL)
		return 0;
	return strcasecmp(dot, pattern + 1) == 0;
}

/* An IPv4 or IPv6 address into addr; 0 when s is neither. */
static int
ip_parse(const char *s, int *af, uint8_t addr[16])
{
	if (inet_pton(AF_INET, s, addr) == 1) {
		*af = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*af = AF_INET6;
		return 1;
	}
	return 0;
}

/* ADDRESS/PREFIX with the host bits zero. */
static int
cidr_parse(const char *s, int *af, uint8_t addr[16], unsigned *plen)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/'), *p;
	unsigned bits, i, v = 0;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf))
		return 0;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (!ip_parse(buf, af, addr))
		return 0;
	p = slash + 1;
	if (p[0] == '\0' || (p[0] == '0' && p[1] != '\0') || strlen(p) > 3)
		return 0;
	for (; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return 0;
		v = v * 10 + (unsigned)(*p - '0');
	}
	bits = *af == AF_INET ? 32 : 128;
	if (v > bits)
		return 0;
	for (i = v; i < bits; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return 0;
	*plen = v;
	return 1;
}

int
ca_prov_cidr_ok(const char *s)
{
	uint8_t addr[16];
	unsigned plen;
	int af;

	return cidr_parse(s, &af, addr, &plen);
}

int
ca_prov_ip_match(const char *cidr, const char *ip)
{
	uint8_t net[16], a[16];
	unsigned plen, i;
	int naf, af;

	if (!cidr_parse(cidr, &naf, net, &plen) || !ip_parse(ip, &af, a) ||
	    af != naf)
		return 0;
	for (i = 0; i < plen; i++)
		if ((net[i / 8] ^ a[i / 8]) & (0x80 >> (i % 8)))
			return 0;
	return 1;
}

enum kr_err
ca_prov_check_names(const struct ca_prov *p, const char *sub,
    const char *const *sans, size_t nsans, struct kr_error *err)
{
	uint8_t addr[16];
	const char *name;
	size_t i, j;
	int af, ok;

	for (i = 0; i <= nsans; i++) {
		name = i == 0 ? sub : sans[i - 1];
		ok = 0;
		if (ip_parse(name, &af, addr)) {
			for (j = 0; j < p->nallow_ip && !ok; j++)
				ok = ca_prov_ip_match(p->allow_ip[j], name);
		} else {
			for (j = 0; j < p->nallow && !ok; j++)
				ok = ca_prov_dns_match(p->allow[j], name);
		}
		if (!ok)
			return kr_fail(err, KR_E_POLICY, "provisioner %s may "
			    "not request \"%.253s\" (not in its allow%s list)",
			    p->name, name, ip_parse(name, &af, addr) ? "_ip" :
			    "");
	}
	return KR_OK;
}

/* ---- the structure ---- */

static void
list_free(char **l, size_t n)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void
ca_prov_free(struct ca_prov *p)
{
	if (p == NULL)
		return;
	free(p->server);
	list_free(p->allow, p->nallow);
	list_free(p->allow_ip, p->nallow_ip);
	ca_jws_key_free(p->key);
	sodium_free(p->sk);	/* wipes */
	free(p);
}

/* Copy n strings, each of which must pass ok, into *out. */
static enum kr_err
list_copy(const char *const *in, size_t n, int (*ok)(const char *),
    const char *what, enum kr_err bad, char ***out, struct kr_error *err)
{
	char **l;
	size_t i;

	*out = NULL;
	if (n > CA_PROV_ALLOW_MAX)
		return kr_fail(err, bad, "%s: more than %d entries", what,
		    CA_PROV_ALLOW_MAX);
	if ((l = calloc(n + 1, sizeof(*l))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (!ok(in[i])) {
			list_free(l, n);
			return kr_fail(err, bad, "%s: \"%.253s\" is not a "
			    "valid %s", what, in[i], ok == ca_prov_cidr_ok ?
			    "CIDR (ADDRESS/PREFIX, host bits zero)" :
			    "host name or *.host name pattern");
		}
		if ((l[i] = strdup(in[i])) == NULL) {
			list_free(l, n);
			return kr_fail(err, KR_E_NOMEM, "out of memory");
		}
	}
	*out = l;
	return KR_OK;
}

/* Fill the policy fields every form shares, checking them. */
static enum kr_err
set_policy(struct ca_prov *p, const char *name, const char *const *allow,
    size_t nallow, const char *const *allow_ip, size_t nallow_ip,
    long long max_lifetime, enum kr_err bad, struct kr_error *err)
{
	enum kr_err rc;

	if (!ca_prov_name_ok(name))
		return kr_fail(err, bad, "provisioner name \"%.64s\": 1 to %d "
		    "of [A-Za-z0-9._-], starting with a letter or digit", name,
		    CA_PROV_NAME_MAX);
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (nallow + nallow_ip == 0)
		return kr_fail(err, bad, "provisioner %s: allow and allow_ip "
		    "are both empty; it could request nothing", name);
	if ((rc = list_copy(allow, nallow, ca_prov_dns_pattern_ok, "allow",
	    bad, &p->allow, err)) != KR_OK)
		return rc;
	p->nallow = nallow;
	if ((rc = list_copy(allow_ip, nallow_ip, ca_prov_cidr_ok, "allow_ip",
	    bad, &p->allow_ip, err)) != KR_OK)
		return rc;
	p->nallow_ip = nallow_ip;
	if (max_lifetime < CA_PROV_LIFETIME_MIN ||
	    max_lifetime > CA_PROV_LIFETIME_MAX)
		return kr_fail(err, bad, "provisioner %s: max_lifetime %lld s; "
		    "%d to %lld are allowed", name, max_lifetime,
		    CA_PROV_LIFETIME_MIN, CA_PROV_LIFETIME_MAX);
	p->max_lifetime = max_lifetime;
	return KR_OK;
}

static enum kr_err
set_server(struct ca_prov *p, const char *server, enum kr_err bad,
    struct kr_error *err)
{
	if (!server_ok(server))
		return kr_fail(err, bad, "server \"%.512s\" is not an https:// "
		    "URL (printable, no spaces, at most %d characters)", server,
		    CA_PROV_SERVER_MAX);
	if ((p->server = strdup(server)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	return KR_OK;
}

enum kr_err
ca_prov_new(const char *name, const char *server, const char *const *allow,
    size_t nallow, const char *const *allow_ip, size_t nallow_ip,
    long long max_lifetime, struct ca_prov **out, struct kr_error *err)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	struct ca_prov *p;
	enum kr_err rc;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	if ((rc = set_policy(p, name, allow, nallow, allow_ip, nallow_ip,
	    max_lifetime, KR_E_USAGE, err)) != KR_OK ||
	    (rc = set_server(p, server, KR_E_USAGE, err)) != KR_OK)
		goto out;
	if ((p->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of secure memory");
		goto out;
	}
	crypto_sign_keypair(pk, p->sk);
	if ((rc = ca_jws_key_from_ed25519(pk, &p->key, err)) != KR_OK)
		goto out;
	*out = p;
	p = NULL;
	rc = KR_OK;
out:
	ca_prov_free(p);
	return rc;
}

/* ---- JSON ---- */

/* Every member of o is in names, and every name is in o. */
static enum kr_err
exact_members(const json_t *o, const char *const *names, const char *where,
    struct kr_error *err)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)o, key, v) {
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(names[i], key) == 0)
				break;
		if (names[i] == NULL)
			return kr_fail(err, KR_E_PARSE, "%s: unknown member "
			    "\"%.64s\"", where, key);
	}
	for (i = 0; names[i] != NULL; i++)
		if (json_object_get(o, names[i]) == NULL)
			return kr_fail(err, KR_E_PARSE, "%s: member \"%s\" is "
			    "missing", where, names[i]);
	return KR_OK;
}

static enum kr_err
get_str(const json_t *o, const char *name, const char *where,
    const char **out, struct kr_error *err)
{
	const json_t *v = json_object_get(o, name);

	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return kr_fail(err, KR_E_PARSE, "%s: \"%s\" must be a string",
		    where, name);
	*out = json_string_value(v);
	return KR_OK;
}

/* The array of strings name of o as a borrowed vector (*out malloc'd). */
static enum kr_err
get_strs(const json_t *o, const char *name, const char *where,
    const char ***out, size_t *n, struct kr_error *err)
{
	const json_t *a = json_object_get(o, name), *v;
	const char **l;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!json_is_array(a))
		return kr_fail(err, KR_E_PARSE, "%s: \"%s\" must be an array "
		    "of strings", where, name);
	if (json_array_size(a) > CA_PROV_ALLOW_MAX)
		return kr_fail(err, KR_E_PARSE, "%s: \"%s\" has more than %d "
		    "entries", where, name, CA_PROV_ALLOW_MAX);
	if ((l = calloc(json_array_size(a) + 1, sizeof(*l))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			free(l);
			return kr_fail(err, KR_E_PARSE, "%s: \"%s\" entry %zu "
			    "is not a string", where, name, i + 1);
		}
		l[i] = json_string_value(v);
	}
	*out = l;
	*n = json_array_size(a);
	return KR_OK;
}

/* name, allow, allow_ip, max_lifetime of o into p. */
static enum kr_err
parse_policy(const json_t *o, struct ca_prov *p, const char *where,
    struct kr_error *err)
{
	const char **allow = NULL, **allow_ip = NULL, *name;
	size_t nallow, nallow_ip;
	const json_t *ml;
	enum kr_err rc;

	if ((rc = get_str(o, "name", where, &name, err)) != KR_OK ||
	    (rc = get_strs(o, "allow", where, &allow, &nallow,
	    err)) != KR_OK ||
	    (rc = get_strs(o, "allow_ip", where, &allow_ip, &nallow_ip,
	    err)) != KR_OK)
		goto out;
	ml = json_object_get(o, "max_lifetime");
	if (!json_is_integer(ml)) {
		rc = kr_fail(err, KR_E_PARSE, "%s: \"max_lifetime\" must be "
		    "an integer (seconds)", where);
		goto out;
	}
	rc = set_policy(p, name, allow, nallow, allow_ip, nallow_ip,
	    (long long)json_integer_value(ml), KR_E_PARSE, err);
	if (rc != KR_OK)
		kr_error_prefix(err, "%s", where);
out:
	free(allow);
	free(allow_ip);
	return rc;
}

static json_t *
str_array(char **l, size_t n)
{
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (json_array_append_new(a, json_string(l[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* name, allow, allow_ip, max_lifetime of p into o. */
static int
put_policy(json_t *o, const struct ca_prov *p)
{
	int bad = 0;

	bad |= json_object_set_new(o, "name", json_string(p->name));
	bad |= json_object_set_new(o, "allow", str_array(p->allow, p->nallow));
	bad |= json_object_set_new(o, "allow_ip",
	    str_array(p->allow_ip, p->nallow_ip));
	bad |= json_object_set_new(o, "max_lifetime",
	    json_integer(p->max_lifetime));
	return bad;
}

enum kr_err
ca_prov_public_to_json(const struct ca_prov *p, json_t **out,
    struct kr_error *err)
{
	json_t *o, *k = NULL;
	enum kr_err rc;

	*out = NULL;
	if ((rc = ca_jws_key_to_json(p->key, &k, err)) != KR_OK)
		return rc;
	if ((o = json_object()) == NULL ||
	    json_object_set_new(o, "name", json_string(p->name)) != 0 ||
	    json_object_set_new(o, "key", k) != 0 || put_policy(o, p) != 0) {
		json_decref(o);
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	}
	*out = o;
	return KR_OK;
}

enum kr_err
ca_prov_public_from_json(const json_t *o, struct ca_prov **out,
    struct kr_error *err)
{
	struct ca_prov *p = NULL;
	enum kr_err rc;

	*out = NULL;
	if (!json_is_object(o))
		return kr_fail(err, KR_E_PARSE, "provisioner: not a JSON "
		    "object");
	if ((rc = exact_members(o, public_members, "provisioner",
	    err)) != KR_OK)
		return rc;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	if ((rc = parse_policy(o, p, "provisioner", err)) != KR_OK)
		goto out;
	if ((rc = ca_jws_key_from_json(json_object_get(o, "key"), &p->key,
	    err)) != KR_OK) {
		kr_error_prefix(err, "provisioner %s: \"key\"", p->name);
		goto out;
	}
	if (ca_jws_key_alg(p->key) != CA_JWS_EDDSA) {
		rc = kr_fail(err, KR_E_PARSE, "provisioner %s: \"key\" must be "
		    "an Ed25519 key", p->name);
		goto out;
	}
	*out = p;
	p = NULL;
	rc = KR_OK;
out:
	ca_prov_free(p);
	return rc;
}

/* Parse with jansson already wiping (see ca_prov_parse). */
static enum kr_err
parse_file(const char *text, size_t len, struct ca_prov **out,
    struct kr_error *err)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], *seed = NULL;
	const char *where = "provisioner file", *s;
	struct ca_prov *p = NULL;
	const json_t *sk, *ver;
	json_error_t je;
	json_t *o = NULL;
	enum kr_err rc;
	size_t n;

	if (len > CA_PROV_FILE_MAX) {
		rc = kr_fail(err, KR_E_PARSE, "%s: longer than %d bytes",
		    where, CA_PROV_FILE_MAX);
		goto out;
	}
	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL ||
	    !json_is_object(o)) {
		rc = kr_fail(err, KR_E_PARSE, "%s: not a JSON object (line %d: "
		    "%s)", where, o ? 1 : je.line, o ? "not an object" :
		    je.text);
		goto out;
	}
	if ((rc = exact_members(o, file_members, where, err)) != KR_OK ||
	    (rc = get_str(o, "format", where, &s, err)) != KR_OK)
		goto out;
	if (strcmp(s, CA_PROV_FORMAT) != 0) {
		rc = kr_fail(err, KR_E_PARSE, "%s: format \"%.64s\", not "
		    "\"%s\"", where, s, CA_PROV_FORMAT);
		goto out;
	}
	ver = json_object_get(o, "version");
	if (!json_is_integer(ver) || json_integer_value(ver) !=
	    CA_PROV_VERSION) {
		rc = kr_fail(err, KR_E_PARSE, "%s: version must be %d", where,
		    CA_PROV_VERSION);
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = parse_policy(o, p, where, err)) != KR_OK ||
	    (rc = get_str(o, "server", where, &s, err)) != KR_OK ||
	    (rc = set_server(p, s, KR_E_PARSE, err)) != KR_OK) {
		if (rc == KR_E_PARSE && strncmp(err->msg, "server", 6) == 0)
			kr_error_prefix(err, "%s", where);
		goto out;
	}
	sk = json_object_get(o, "secret_key");
	if (!json_is_string(sk)) {
		rc = kr_fail(err, KR_E_PARSE, "%s: \"secret_key\" must be a "
		    "string", where);
		goto out;
	}
	if ((seed = sodium_malloc(SEED_LEN)) == NULL ||
	    (p->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of secure memory");
		goto out;
	}
	if ((rc = ca_jws_b64_decode(json_string_value(sk),
	    json_string_length(sk), seed, SEED_LEN, &n,
	    "provisioner file: \"secret_key\"", err)) != KR_OK)
		goto out;
	if (n != SEED_LEN) {
		rc = kr_fail(err, KR_E_PARSE, "%s: \"secret_key\" must be a "
		    "%d-byte Ed25519 seed", where, SEED_LEN);
		goto out;
	}
	crypto_sign_seed_keypair(pk, p->sk, seed);
	if ((rc = ca_jws_key_from_ed25519(pk, &p->key, err)) != KR_OK)
		goto out;
	*out = p;
	p = NULL;
	rc = KR_OK;
out:
	sodium_free(seed);
	json_decref(o);
	ca_prov_free(p);
	return rc;
}

enum kr_err
ca_prov_parse(const char *text, size_t len, struct ca_prov **out,
    struct kr_error *err)
{
	struct jwipe w;
	enum kr_err rc;

	*out = NULL;
	jwipe_begin(&w);
	rc = parse_file(text, len, out, err);
	jwipe_end(&w);
	return rc;
}

enum kr_err
ca_prov_read(const char *path, struct ca_prov **out, struct kr_error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	enum kr_err rc;
	ssize_t r;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return kr_fail(err, errno == ENOENT ? KR_E_NOTFOUND : KR_E_IO,
		    "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		rc = kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = kr_fail(err, KR_E_IO, "%s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		rc = kr_fail(err, KR_E_POLICY, "%s: holds a secret key but is "
		    "open to group or others (mode %04o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size > CA_PROV_FILE_MAX) {
		rc = kr_fail(err, KR_E_PARSE, "%s: longer than %d bytes", path,
		    CA_PROV_FILE_MAX);
		goto out;
	}
	if ((buf = sodium_malloc(CA_PROV_FILE_MAX + 1)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of secure memory");
		goto out;
	}
	for (;;) {
		r = read(fd, buf + n, CA_PROV_FILE_MAX + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = kr_fail(err, KR_E_IO, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > CA_PROV_FILE_MAX) {
			rc = kr_fail(err, KR_E_PARSE, "%s: longer than %d "
			    "bytes", path, CA_PROV_FILE_MAX);
			goto out;
		}
	}
	if ((rc = ca_prov_parse(buf, n, out, err)) != KR_OK)
		kr_error_prefix(err, "%s", path);
out:
	sodium_free(buf);	/* wipes */
	close(fd);
	return rc;
}

/* The file's text, in sodium_malloc'd memory (jansson already wiping). */
static enum kr_err
file_text(const struct ca_prov *p, char **out, size_t *len,
    struct kr_error *err)
{
	char *b64 = NULL, *s = NULL, *buf;
	uint8_t *seed = NULL;
	json_t *o = NULL;
	enum kr_err rc;
	int bad = 0;

	*out = NULL;
	if ((seed = sodium_malloc(SEED_LEN)) == NULL ||
	    (b64 = sodium_malloc(ca_jws_b64_len(SEED_LEN) + 1)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of secure memory");
		goto out;
	}
	crypto_sign_ed25519_sk_to_seed(seed, p->sk);
	ca_jws_b64_encode(seed, SEED_LEN, b64);
	if ((o = json_object()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	bad |= json_object_set_new(o, "format", json_string(CA_PROV_FORMAT));
	bad |= json_object_set_new(o, "version",
	    json_integer(CA_PROV_VERSION));
	bad |= json_object_set_new(o, "name", json_string(p->name));
	bad |= json_object_set_new(o, "server", json_string(p->server));
	bad |= put_policy(o, p);
	bad |= json_object_set_new(o, "secret_key", json_string(b64));
	if (bad || (s = json_dumps(o, JSON_INDENT(2))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	*len = strlen(s) + 1;
	if ((buf = sodium_malloc(*len + 1)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of secure memory");
		goto out;
	}
	memcpy(buf, s, *len - 1);
	buf[*len - 1] = '\n';
	buf[*len] = '\0';
	*out = buf;
	rc = KR_OK;
out:
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
	json_decref(o);
	sodium_free(b64);
	sodium_free(seed);
	return rc;
}

enum kr_err
ca_prov_write(const struct ca_prov *p, const char *path, int force,
    struct kr_error *err)
{
	struct jwipe w;
	enum kr_err rc;
	char *text;
	size_t len = 0;

	if (p->sk == NULL || p->server == NULL)
		return kr_fail(err, KR_E_USAGE, "provisioner %s: no secret key "
		    "to write (a public view)", p->name);
	jwipe_begin(&w);
	rc = file_text(p, &text, &len, err);
	jwipe_end(&w);
	if (rc != KR_OK)
		return rc;
	rc = kr_file_write(path, text, len, 0600, force, err);
	sodium_free(text);	/* wipes */
	return rc;
}
