/*
 * config.c: keyrited.yaml.  A flat mapping of known keys to scalars
 * (and "admins", a list of provisioner names), parsed strictly: an
 * unknown or repeated key, a wrong type or a bad value is an error
 * naming the file, the line and the key.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "kd.h"
#include "common/file.h"

enum kr_err
kd_path(const char *home, const char *name, char *buf, struct kr_error *err)
{
	int n;

	n = snprintf(buf, PATH_MAX, "%s/%s", home, name);
	if (n < 0 || n >= PATH_MAX)
		return kr_fail(err, KR_E_USAGE, "%s: path too long", home);
	return KR_OK;
}

void
kd_config_defaults(struct kd_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8443");
	snprintf(c->publish, sizeof(c->publish), "127.0.0.1:8080");
	snprintf(c->profile, sizeof(c->profile), "tls-server");
	c->default_lifetime = 24 * 3600;
	c->max_lifetime = 7 * 86400;
	c->crl_interval = 3600;
	c->crl_grace = 3600;
	c->tidy_interval = 3600;
	c->retention = 7 * 86400;
	c->signers = 2;
	c->max_connections = 256;
	c->acme_http01_port = 80;
	c->acme_tlsalpn01_port = 443;
	c->acme_order_lifetime = 24 * 3600;
}

const char *
kd_config_note(const struct kd_config *c, char *buf, size_t sz)
{
	if (!c->threads_set)
		return NULL;
	snprintf(buf, sz, "threads is no longer used (each API connection "
	    "has a thread of its own); max_connections (now %d) limits them",
	    c->max_connections);
	return buf;
}

void
kd_config_free(struct kd_config *c)
{
	size_t i;

	for (i = 0; i < c->nadmins; i++)
		free(c->admins[i]);
	free(c->admins);
	c->admins = NULL;
	c->nadmins = 0;
}

int
kd_hostport(const char *s, char *host, size_t hostsz, int *port)
{
	const char *colon, *h, *end;
	char *ep;
	size_t hl;
	long p;

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    strchr(s, ':') != colon)
			return -1;
		h = s;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostsz)
		return -1;
	errno = 0;
	p = strtol(colon + 1, &ep, 10);
	if (colon[1] == '\0' || *ep != '\0' || errno != 0 || p < 1 ||
	    p > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

/* Is u an http(s) URL with a host, no query, no fragment, no spaces? */
int
kd_url_ok(const char *u, const char *scheme)
{
	size_t n = strlen(scheme);
	const char *p;

	if (strncmp(u, scheme, n) != 0 || strncmp(u + n, "://", 3) != 0)
		return 0;
	p = u + n + 3;
	if (*p == '\0' || *p == '/')
		return 0;
	for (; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p) || *p == '?' || *p == '#' ||
		    *p == '"' || *p == '\\')
			return 0;
	return strlen(u) < KD_URL_MAX - 64;
}

enum ckey {
	K_SUBJECT, K_PUBLIC_URL, K_API_URL, K_LISTEN, K_PUBLISH, K_KEY_TOKEN,
	K_KEY_MODULE, K_PIN_FILE, K_PROFILE, K_DEFAULT_LIFETIME,
	K_MAX_LIFETIME, K_CRL_INTERVAL, K_CRL_GRACE, K_TIDY_INTERVAL,
	K_RETENTION, K_SIGNERS, K_THREADS, K_MAX_CONNECTIONS, K_SERIAL_PREFIX,
	K_ADMINS,
	K_ACME_HTTP01_PORT, K_ACME_TLSALPN01_PORT, K_ACME_CONNECT,
	K_ACME_DNS_RESOLVER, K_ACME_ORDER_LIFETIME, K_N
};

static const char *const ckeys[K_N] = {
	"subject", "public_url", "api_url", "listen", "publish", "key_token",
	"key_module", "pin_file", "profile", "default_lifetime",
	"max_lifetime", "crl_interval", "crl_grace", "tidy_interval",
	"retention", "signers", "threads", "max_connections", "serial_prefix",
	"admins",
	"acme_http01_port", "acme_tlsalpn01_port", "acme_connect",
	"acme_dns_resolver", "acme_order_lifetime",
};

static int
push_dup(char ***v, size_t *n, const char *s)
{
	char **nv, *d;

	if ((d = strdup(s)) == NULL)
		return -1;
	if ((nv = reallocarray(*v, *n + 1, sizeof(*nv))) == NULL) {
		free(d);
		return -1;
	}
	nv[(*n)++] = d;
	*v = nv;
	return 0;
}

static enum kr_err
cerr(struct kr_error *err, const char *what, const yaml_node_t *n,
    const char *key, const char *msg)
{
	return kr_fail(err, KR_E_PARSE, "%s:%lu: %s: %s", what,
	    (unsigned long)n->start_mark.line + 1, key, msg);
}

static enum kr_err
set_str(char *dst, size_t sz, const char *v, size_t vlen, const char *what,
    const yaml_node_t *n, const char *key, struct kr_error *err)
{
	size_t i;

	if (vlen >= sz)
		return cerr(err, what, n, key, "too long");
	for (i = 0; i < vlen; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return cerr(err, what, n, key, "control character");
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
	return KR_OK;
}

static enum kr_err
set_key(struct kd_config *c, enum ckey k, yaml_document_t *d, yaml_node_t *v,
    const char *what, struct kr_error *err)
{
	const char *key = ckeys[k], *s;
	char buf[1024], host[256];
	yaml_node_item_t *it;
	yaml_node_t *e;
	long long dur;
	size_t len, i;
	int port;
	long nl, max;
	char *ep;
	enum kr_err rc;

	if (k == K_ADMINS) {
		if (v->type != YAML_SEQUENCE_NODE)
			return cerr(err, what, v, key, "a list of provisioner "
			    "names is expected");
		for (it = v->data.sequence.items.start;
		    it < v->data.sequence.items.top; it++) {
			e = yaml_document_get_node(d, *it);
			if (e == NULL || e->type != YAML_SCALAR_NODE)
				return cerr(err, what, v, key, "a list of "
				    "provisioner names is expected");
			s = (const char *)e->data.scalar.value;
			if (strlen(s) != e->data.scalar.length ||
			    strlen(s) == 0 || strlen(s) > CA_PROV_NAME_MAX)
				return cerr(err, what, e, key, "not a "
				    "provisioner name");
			for (i = 0; i < c->nadmins; i++)
				if (strcmp(c->admins[i], s) == 0)
					return cerr(err, what, e, key,
					    "repeated name");
			if (push_dup(&c->admins, &c->nadmins, s) != 0)
				return kr_fail(err, KR_E_NOMEM, "out of "
				    "memory");
		}
		return KR_OK;
	}
	if (v->type != YAML_SCALAR_NODE)
		return cerr(err, what, v, key, "a single value is expected");
	s = (const char *)v->data.scalar.value;
	len = v->data.scalar.length;
	if (strlen(s) != len)
		return cerr(err, what, v, key, "NUL byte in value");
	switch (k) {
	case K_SUBJECT:
		return set_str(c->subject, sizeof(c->subject), s, len, what, v,
		    key, err);
	case K_PUBLIC_URL:
		if (!kd_url_ok(s, "http") && !kd_url_ok(s, "https"))
			return cerr(err, what, v, key, "not an http(s) URL "
			    "without query or fragment");
		rc = set_str(c->public_url, sizeof(c->public_url), s, len,
		    what, v, key, err);
		/* The CDP and AIA URLs are appended to it. */
		if (rc == KR_OK && len > 0 && c->public_url[len - 1] == '/')
			c->public_url[len - 1] = '\0';
		return rc;
	case K_API_URL:
		if (!kd_url_ok(s, "https"))
			return cerr(err, what, v, key, "not an https URL "
			    "without query or fragment");
		return set_str(c->api_url, sizeof(c->api_url), s, len, what,
		    v, key, err);
	case K_LISTEN:
	case K_PUBLISH:
		if (kd_hostport(s, host, sizeof(host), &port) != 0)
			return cerr(err, what, v, key, "not HOST:PORT");
		return set_str(k == K_LISTEN ? c->listen : c->publish,
		    sizeof(c->listen), s, len, what, v, key, err);
	case K_KEY_TOKEN:
		return set_str(c->key_token, sizeof(c->key_token), s, len,
		    what, v, key, err);
	case K_KEY_MODULE:
		return set_str(c->key_module, sizeof(c->key_module), s, len,
		    what, v, key, err);
	case K_PIN_FILE:
		return set_str(c->pin_file, sizeof(c->pin_file), s, len,
		    what, v, key, err);
	case K_PROFILE:
		return set_str(c->profile, sizeof(c->profile), s, len, what,
		    v, key, err);
	case K_DEFAULT_LIFETIME:
	case K_MAX_LIFETIME:
	case K_CRL_INTERVAL:
	case K_CRL_GRACE:
	case K_TIDY_INTERVAL:
	case K_RETENTION:
		if ((dur = kr_parse_duration(s, 's')) <= 0)
			return cerr(err, what, v, key, "not a duration "
			    "(e.g. 24h, 30m, 7d)");
		if (k == K_DEFAULT_LIFETIME)
			c->default_lifetime = dur;
		else if (k == K_MAX_LIFETIME)
			c->max_lifetime = dur;
		else if (k == K_CRL_INTERVAL)
			c->crl_interval = dur;
		else if (k == K_CRL_GRACE)
			c->crl_grace = dur;
		else if (k == K_TIDY_INTERVAL)
			c->tidy_interval = dur;
		else
			c->retention = dur;
		return KR_OK;
	case K_SIGNERS:
	case K_THREADS:
	case K_MAX_CONNECTIONS:
		max = k == K_SIGNERS ? KD_SIGNERS_MAX : k == K_THREADS ?
		    256 : 4096;
		errno = 0;
		nl = strtol(s, &ep, 10);
		if (*s == '\0' || *ep != '\0' || errno != 0 || nl < 1 ||
		    nl > max) {
			snprintf(buf, sizeof(buf), "not a number from 1 to "
			    "%ld", max);
			return cerr(err, what, v, key, buf);
		}
		if (k == K_SIGNERS)
			c->signers = (int)nl;
		else if (k == K_THREADS)
			c->threads_set = 1;	/* no longer used */
		else
			c->max_connections = (int)nl;
		return KR_OK;
	case K_ACME_HTTP01_PORT:
	case K_ACME_TLSALPN01_PORT:
		errno = 0;
		nl = strtol(s, &ep, 10);
		if (*s == '\0' || *ep != '\0' || errno != 0 || nl < 1 ||
		    nl > 65535)
			return cerr(err, what, v, key, "not a port (1 to "
			    "65535)");
		if (k == K_ACME_HTTP01_PORT)
			c->acme_http01_port = (int)nl;
		else
			c->acme_tlsalpn01_port = (int)nl;
		return KR_OK;
	case K_ACME_CONNECT:
		if (inet_pton(AF_INET, s, buf) != 1 &&
		    inet_pton(AF_INET6, s, buf) != 1)
			return cerr(err, what, v, key, "not an IP address");
		return set_str(c->acme_connect, sizeof(c->acme_connect), s,
		    len, what, v, key, err);
	case K_ACME_DNS_RESOLVER:
		if (kd_hostport(s, host, sizeof(host), &port) != 0 ||
		    (inet_pton(AF_INET, host, buf) != 1 &&
		    inet_pton(AF_INET6, host, buf) != 1))
			return cerr(err, what, v, key, "not IP:PORT");
		return set_str(c->acme_dns_resolver,
		    sizeof(c->acme_dns_resolver), s, len, what, v, key, err);
	case K_ACME_ORDER_LIFETIME:
		if ((dur = kr_parse_duration(s, 's')) < 60 ||
		    dur > 30 * 86400)
			return cerr(err, what, v, key, "not a duration from "
			    "1m to 30d");
		c->acme_order_lifetime = dur;
		return KR_OK;
	case K_SERIAL_PREFIX:
		if (len != 2 * KD_SERIAL_PREFIX_LEN)
			return cerr(err, what, v, key, "6 hex digits "
			    "expected");
		for (i = 0; i < KD_SERIAL_PREFIX_LEN; i++) {
			memcpy(buf, s + 2 * i, 2);
			buf[2] = '\0';
			if (!isxdigit((unsigned char)buf[0]) ||
			    !isxdigit((unsigned char)buf[1]))
				return cerr(err, what, v, key, "6 hex digits "
				    "expected");
			c->serial_prefix[i] = (uint8_t)strtoul(buf, NULL, 16);
		}
		/* Serials are positive: the top bit stays clear. */
		if (c->serial_prefix[0] & 0x80 || c->serial_prefix[0] == 0)
			return cerr(err, what, v, key, "the first byte must "
			    "be 01..7f");
		return KR_OK;
	default:
		return kr_fail(err, KR_E_INTERNAL, "unhandled key %s", key);
	}
}

static const unsigned kd_required = (1u << K_SUBJECT) | (1u << K_PUBLIC_URL) |
    (1u << K_API_URL) | (1u << K_SERIAL_PREFIX);

enum kr_err
kd_config_parse(const char *text, size_t len, const char *what,
    struct kd_config *c, struct kr_error *err)
{
	yaml_parser_t p;
	yaml_document_t d;
	yaml_node_t *root, *kn, *vn;
	yaml_node_pair_t *pr;
	unsigned seen = 0;
	enum kr_err rc = KR_OK;
	int k, parsed = 0;

	if (!yaml_parser_initialize(&p))
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &d)) {
		rc = kr_fail(err, KR_E_PARSE, "%s:%lu: not YAML: %s", what,
		    (unsigned long)p.problem_mark.line + 1,
		    p.problem ? p.problem : "syntax error");
		goto out;
	}
	parsed = 1;
	root = yaml_document_get_root_node(&d);
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		rc = kr_fail(err, KR_E_PARSE, "%s: a mapping of settings is "
		    "expected", what);
		goto out;
	}
	for (pr = root->data.mapping.pairs.start;
	    pr < root->data.mapping.pairs.top; pr++) {
		kn = yaml_document_get_node(&d, pr->key);
		vn = yaml_document_get_node(&d, pr->value);
		if (kn == NULL || vn == NULL || kn->type != YAML_SCALAR_NODE) {
			rc = kr_fail(err, KR_E_PARSE, "%s: keys must be "
			    "plain names", what);
			goto out;
		}
		for (k = 0; k < K_N; k++)
			if (strcmp((const char *)kn->data.scalar.value,
			    ckeys[k]) == 0)
				break;
		if (k == K_N) {
			rc = cerr(err, what, kn, (const char *)
			    kn->data.scalar.value, "unknown setting "
			    "(docs/signer.md lists them)");
			goto out;
		}
		if (seen & (1u << k)) {
			rc = cerr(err, what, kn, ckeys[k], "given twice");
			goto out;
		}
		seen |= 1u << k;
		if ((rc = set_key(c, (enum ckey)k, &d, vn, what, err)) !=
		    KR_OK)
			goto out;
	}
	for (k = 0; k < K_N; k++)
		if ((kd_required & (1u << k)) && !(seen & (1u << k))) {
			rc = kr_fail(err, KR_E_PARSE, "%s: %s is required",
			    what, ckeys[k]);
			goto out;
		}
	if (c->key_token[0] != '\0' && c->pin_file[0] == '\0') {
		rc = kr_fail(err, KR_E_PARSE, "%s: key_token needs pin_file "
		    "(the daemon cannot prompt)", what);
		goto out;
	}
	if (c->default_lifetime > c->max_lifetime) {
		rc = kr_fail(err, KR_E_PARSE, "%s: default_lifetime is longer "
		    "than max_lifetime", what);
		goto out;
	}
	if (c->retention < c->crl_interval) {
		rc = kr_fail(err, KR_E_PARSE, "%s: retention must be at least "
		    "crl_interval, so a revoked certificate makes one CRL "
		    "after it expires", what);
		goto out;
	}
out:
	if (parsed)
		yaml_document_delete(&d);
	yaml_parser_delete(&p);
	return rc;
}

enum kr_err
kd_config_load(const char *home, struct kd_config *c, struct kr_error *err)
{
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	size_t len;
	enum kr_err rc;

	kd_config_defaults(c);
	if (strlen(home) >= sizeof(c->home))
		return kr_fail(err, KR_E_USAGE, "%s: path too long", home);
	snprintf(c->home, sizeof(c->home), "%s", home);
	if ((rc = kd_path(home, KD_CONFIG, path, err)) != KR_OK)
		return rc;
	if ((rc = kr_file_read(path, 65536, &buf, &len, err)) != KR_OK) {
		if (rc == KR_E_NOTFOUND || rc == KR_E_IO)
			kr_error_prefix(err, "%s is not a keyrited home (run "
			    "keyrited init)", home);
		return rc;
	}
	rc = kd_config_parse((const char *)buf, len, path, c, err);
	free(buf);
	if (rc != KR_OK)
		kd_config_free(c);
	return rc;
}

/* A YAML double-quoted scalar. */
static void
put_q(FILE *f, const char *key, const char *v)
{
	fprintf(f, "%s: \"", key);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', f);
		fputc(*v, f);
	}
	fprintf(f, "\"\n");
}

static void
put_dur(FILE *f, const char *key, long long s)
{
	if (s % 86400 == 0)
		fprintf(f, "%s: %lldd\n", key, s / 86400);
	else if (s % 3600 == 0)
		fprintf(f, "%s: %lldh\n", key, s / 3600);
	else if (s % 60 == 0)
		fprintf(f, "%s: %lldm\n", key, s / 60);
	else
		fprintf(f, "%s: %llds\n", key, s);
}

enum kr_err
kd_config_write(const struct kd_config *c, int force, struct kr_error *err)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len = 0, i;
	FILE *f;
	enum kr_err rc;

	if ((rc = kd_path(c->home, KD_CONFIG, path, err)) != KR_OK)
		return rc;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	fprintf(f, "# keyrited configuration; every setting is explained in "
	    "docs/signer.md.\n# Check a change with 'keyrited serve -n "
	    "--home DIR'; SIGHUP reloads\n# only the provisioners, so restart "
	    "for anything else.\n\n");
	put_q(f, "subject", c->subject);
	fprintf(f, "\n# Base of the CRL and caIssuers URLs written into every "
	    "leaf (plain HTTP).\n");
	put_q(f, "public_url", c->public_url);
	fprintf(f, "# The API's URL: tokens must name it as their audience.\n");
	put_q(f, "api_url", c->api_url);
	fprintf(f, "listen: \"%s\"\npublish: \"%s\"\n\n", c->listen,
	    c->publish);
	if (c->key_token[0] != '\0') {
		fprintf(f, "# The intermediate key is in this token.\n");
		put_q(f, "key_token", c->key_token);
		if (c->key_module[0] != '\0')
			put_q(f, "key_module", c->key_module);
		put_q(f, "pin_file", c->pin_file);
	} else
		fprintf(f, "# The intermediate key is %s (mode 0600).\n",
		    KD_KEY);
	fprintf(f, "\nprofile: \"%s\"\n", c->profile);
	put_dur(f, "default_lifetime", c->default_lifetime);
	put_dur(f, "max_lifetime", c->max_lifetime);
	put_dur(f, "crl_interval", c->crl_interval);
	put_dur(f, "crl_grace", c->crl_grace);
	put_dur(f, "tidy_interval", c->tidy_interval);
	put_dur(f, "retention", c->retention);
	fprintf(f, "signers: %d\nmax_connections: %d\n", c->signers,
	    c->max_connections);
	fprintf(f, "serial_prefix: \"");
	for (i = 0; i < KD_SERIAL_PREFIX_LEN; i++)
		fprintf(f, "%02x", c->serial_prefix[i]);
	fprintf(f, "\"\n");
	if (c->acme_http01_port != 80 || c->acme_tlsalpn01_port != 443 ||
	    c->acme_connect[0] != '\0' || c->acme_dns_resolver[0] != '\0' ||
	    c->acme_order_lifetime != 24 * 3600) {
		fprintf(f, "\n# ACME validation (docs/acme.md).\n"
		    "acme_http01_port: %d\nacme_tlsalpn01_port: %d\n",
		    c->acme_http01_port, c->acme_tlsalpn01_port);
		if (c->acme_connect[0] != '\0')
			put_q(f, "acme_connect", c->acme_connect);
		if (c->acme_dns_resolver[0] != '\0')
			put_q(f, "acme_dns_resolver", c->acme_dns_resolver);
		put_dur(f, "acme_order_lifetime", c->acme_order_lifetime);
	}
	if (c->nadmins > 0) {
		fprintf(f, "admins:\n");
		for (i = 0; i < c->nadmins; i++)
			fprintf(f, "  - \"%s\"\n", c->admins[i]);
	}
	if (fclose(f) != 0) {
		free(buf);
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	}
	rc = kr_file_write(path, buf, len, 0644, force, err);
	free(buf);
	return rc;
}
