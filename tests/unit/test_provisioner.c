/*
 * test_provisioner.c: provisioner files and their public view.  A fixed
 * file (the RFC 8037 seed) pins the format; new/write/read round-trips
 * with mode 0600 and no overwrite; a group- or world-readable file is
 * refused; a table of damaged files and public views, each with its
 * error; the allow-list matching tables (host names and CIDRs); and a
 * token made from a read file verifies against the public view.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "../../ca/provisioner.h"
#include "../../ca/token.h"

#define SERVER	"https://ca.lab.internal:8443"

/* A provisioner file as docs/jws.md describes it (RFC 8037's seed). */
static const char vector[] =
    "{\n"
    "  \"format\": \"keyrite-provisioner\",\n"
    "  \"version\": 1,\n"
    "  \"name\": \"web\",\n"
    "  \"server\": \"" SERVER "\",\n"
    "  \"allow\": [\n"
    "    \"*.web.lab.internal\",\n"
    "    \"web.lab.internal\"\n"
    "  ],\n"
    "  \"allow_ip\": [\n"
    "    \"10.20.0.0/16\",\n"
    "    \"fd00:20::/32\"\n"
    "  ],\n"
    "  \"max_lifetime\": 86400,\n"
    "  \"secret_key\": \"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\"\n"
    "}\n";

/* RFC 8037 A.3: the thumbprint of the seed's public key. */
#define VECTOR_KID	"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

static struct ca_prov *
parse_vector(void)
{
	struct ca_prov *p;
	struct kr_error err;

	if (ca_prov_parse(vector, strlen(vector), &p, &err) != KR_OK)
		fail_msg("%s", err.msg);
	return p;
}

static void
test_vector(void **state)
{
	struct ca_prov *p = parse_vector();
	char kid[CA_JWS_THUMBPRINT_LEN];

	(void)state;
	assert_string_equal(p->name, "web");
	assert_string_equal(p->server, SERVER);
	assert_int_equal(p->nallow, 2);
	assert_string_equal(p->allow[0], "*.web.lab.internal");
	assert_string_equal(p->allow[1], "web.lab.internal");
	assert_int_equal(p->nallow_ip, 2);
	assert_string_equal(p->allow_ip[1], "fd00:20::/32");
	assert_int_equal(p->max_lifetime, 86400);
	assert_non_null(p->sk);
	ca_jws_key_thumbprint(p->key, kid);
	assert_string_equal(kid, VECTOR_KID);
	ca_prov_free(p);
}

static void
test_round_trip(void **state)
{
	static const char *const allow[] = { "*.web.lab.internal" };
	static const char *const allow_ip[] = { "10.20.0.0/16" };
	char dir[] = "/tmp/keyrite-prov.XXXXXX", path[256];
	struct ca_prov *p, *q;
	struct kr_error err;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/web.provisioner", dir);
	assert_int_equal(ca_prov_new("web", SERVER, allow, 1, allow_ip, 1,
	    86400, &p, &err), KR_OK);
	assert_int_equal(ca_prov_write(p, path, 0, &err), KR_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* No overwrite without force. */
	assert_int_equal(ca_prov_write(p, path, 0, &err), KR_E_EXISTS);
	assert_int_equal(ca_prov_read(path, &q, &err), KR_OK);
	assert_string_equal(q->name, p->name);
	assert_string_equal(q->server, p->server);
	assert_int_equal(q->nallow, 1);
	assert_string_equal(q->allow[0], "*.web.lab.internal");
	assert_int_equal(q->nallow_ip, 1);
	assert_string_equal(q->allow_ip[0], "10.20.0.0/16");
	assert_int_equal(q->max_lifetime, 86400);
	assert_true(ca_jws_key_equal(p->key, q->key));
	assert_memory_equal(p->sk, q->sk, 64);
	ca_prov_free(q);
	/* Readable by the group: refused, like an ssh key. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(ca_prov_read(path, &q, &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "chmod 600"));
	assert_null(q);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(ca_prov_read(path, &q, &err), KR_E_POLICY);
	/* Forced rewrite gives 0600 again. */
	assert_int_equal(ca_prov_write(p, path, 1, &err), KR_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(ca_prov_read(path, &q, &err), KR_OK);
	ca_prov_free(q);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ca_prov_read(path, &q, &err), KR_E_NOTFOUND);
	assert_int_equal(rmdir(dir), 0);
	ca_prov_free(p);
	/* new() checks what parse checks. */
	assert_int_equal(ca_prov_new("web", "http://ca", allow, 1, NULL, 0,
	    86400, &p, &err), KR_E_USAGE);
	assert_int_equal(ca_prov_new("web", SERVER, NULL, 0, NULL, 0, 86400,
	    &p, &err), KR_E_USAGE);
	assert_int_equal(ca_prov_new("-web", SERVER, allow, 1, NULL, 0,
	    86400, &p, &err), KR_E_USAGE);
	assert_int_equal(ca_prov_new("web", SERVER, allow_ip, 1, NULL, 0,
	    86400, &p, &err), KR_E_USAGE);
	assert_int_equal(ca_prov_new("web", SERVER, allow, 1, NULL, 0, 59, &p,
	    &err), KR_E_USAGE);
	assert_null(p);
}

/* The file's key makes tokens the daemon's public view accepts. */
static void
test_public_view(void **state)
{
	struct ca_prov *p = parse_vector(), *pub;
	struct ca_token_req r = { "web", SERVER, "a.web.lab.internal", NULL,
	    0, 1700000000, 300, 0 };
	struct ca_token_issuer iss;
	struct ca_token_claims *c;
	struct kr_error err;
	json_t *o;
	char *s, *tok;

	(void)state;
	assert_int_equal(ca_prov_public_to_json(p, &o, &err), KR_OK);
	s = json_dumps(o, JSON_COMPACT);
	assert_string_equal(s, "{\"name\":\"web\",\"key\":{\"kty\":\"OKP\","
	    "\"crv\":\"Ed25519\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"},"
	    "\"allow\":[\"*.web.lab.internal\",\"web.lab.internal\"],"
	    "\"allow_ip\":[\"10.20.0.0/16\",\"fd00:20::/32\"],"
	    "\"max_lifetime\":86400}");
	free(s);
	assert_int_equal(ca_prov_public_from_json(o, &pub, &err), KR_OK);
	json_decref(o);
	assert_null(pub->sk);
	assert_null(pub->server);
	assert_string_equal(pub->name, "web");
	assert_int_equal(pub->nallow, 2);
	assert_int_equal(pub->max_lifetime, 86400);
	assert_true(ca_jws_key_equal(p->key, pub->key));
	/* A public view cannot be written as a provisioner file. */
	assert_int_equal(ca_prov_write(pub, "/nonexistent/x", 0, &err),
	    KR_E_USAGE);

	assert_int_equal(ca_token_make(&r, p->sk, &tok, &err), KR_OK);
	iss.name = pub->name;
	iss.key = pub->key;
	assert_int_equal(ca_token_verify(tok, strlen(tok), &iss, 1, SERVER,
	    1700000000, &c, &err), CA_TOKEN_OK);
	assert_int_equal(ca_prov_check_names(pub, c->sub,
	    (const char *const *)c->sans, c->nsans, &err), KR_OK);
	ca_token_claims_free(c);
	free(tok);
	ca_prov_free(pub);
	ca_prov_free(p);
}

/* ---- strict parsing ---- */

struct bad {
	const char	*name;
	const char	*member;	/* replaced in the vector */
	const char	*value;		/* JSON, or NULL to delete it */
	const char	*msg;
};

static const struct bad bad_files[] = {
	{ "unknown member", "comment", "\"hi\"", "unknown member \"comment\"" },
	{ "format missing", "format", NULL, "\"format\" is missing" },
	{ "format wrong", "format", "\"keyrite-backup\"", "format" },
	{ "version 2", "version", "2", "version must be 1" },
	{ "version a string", "version", "\"1\"", "version must be 1" },
	{ "name missing", "name", NULL, "\"name\" is missing" },
	{ "name empty", "name", "\"\"", "provisioner name" },
	{ "name with a slash", "name", "\"web/1\"", "provisioner name" },
	{ "name too long", "name", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaa\"", "provisioner name" },
	{ "name not a string", "name", "7", "\"name\" must be a string" },
	{ "server http", "server", "\"http://ca.lab.internal\"",
	    "not an https:// URL" },
	{ "server with a space", "server", "\"https://ca lab\"",
	    "not an https:// URL" },
	{ "server without a host", "server", "\"https:///x\"",
	    "not an https:// URL" },
	{ "allow not an array", "allow", "\"*.web.lab.internal\"",
	    "\"allow\" must be an array" },
	{ "allow with a number", "allow", "[1]", "\"allow\" entry 1" },
	{ "allow *.internal (one label)", "allow", "[\"*.internal\"]",
	    "not a valid host name" },
	{ "allow inner wildcard", "allow", "[\"a.*.lab.internal\"]",
	    "not a valid host name" },
	{ "allow bare *", "allow", "[\"*\"]", "not a valid host name" },
	{ "allow trailing dot", "allow", "[\"web.lab.internal.\"]",
	    "not a valid host name" },
	{ "allow an IP", "allow", "[\"10.1.2.3\"]", "not a valid host name" },
	{ "allow_ip host bits set", "allow_ip", "[\"10.20.0.1/16\"]",
	    "not a valid CIDR" },
	{ "allow_ip without prefix", "allow_ip", "[\"10.20.0.0\"]",
	    "not a valid CIDR" },
	{ "allow_ip prefix 33", "allow_ip", "[\"10.0.0.0/33\"]",
	    "not a valid CIDR" },
	{ "allow_ip prefix 08", "allow_ip", "[\"10.0.0.0/08\"]",
	    "not a valid CIDR" },
	{ "allow_ip v6 prefix 129", "allow_ip", "[\"fd00::/129\"]",
	    "not a valid CIDR" },
	{ "allow_ip a host name", "allow_ip", "[\"web.lab.internal/8\"]",
	    "not a valid CIDR" },
	{ "max_lifetime 0", "max_lifetime", "0", "max_lifetime 0 s" },
	{ "max_lifetime 400 days", "max_lifetime", "34560000",
	    "max_lifetime 34560000 s" },
	{ "max_lifetime a string", "max_lifetime", "\"24h\"",
	    "must be an integer" },
	{ "max_lifetime a fraction", "max_lifetime", "86400.0",
	    "must be an integer" },
	{ "secret_key missing", "secret_key", NULL,
	    "\"secret_key\" is missing" },
	{ "secret_key short", "secret_key", "\"AAAA\"", "32-byte Ed25519 seed" },
	{ "secret_key padded", "secret_key",
	    "\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\"", "padding" },
	{ "secret_key standard base64", "secret_key",
	    "\"nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\"",
	    "not base64url" },
	{ "secret_key not a string", "secret_key", "[]",
	    "\"secret_key\" must be a string" },
};

static void
test_bad_files(void **state)
{
	struct ca_prov *p;
	struct kr_error err;
	json_error_t je;
	json_t *base, *o, *v;
	enum kr_err rc;
	size_t i;
	char *s;

	(void)state;
	base = json_loads(vector, 0, &je);
	assert_non_null(base);
	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		const struct bad *b = &bad_files[i];

		o = json_deep_copy(base);
		if (b->value == NULL)
			json_object_del(o, b->member);
		else {
			v = json_loads(b->value, JSON_DECODE_ANY, &je);
			assert_non_null(v);
			json_object_set_new(o, b->member, v);
		}
		s = json_dumps(o, JSON_INDENT(2));
		json_decref(o);
		p = (struct ca_prov *)&err;
		rc = ca_prov_parse(s, strlen(s), &p, &err);
		if (rc != KR_E_PARSE || strstr(err.msg, b->msg) == NULL)
			fail_msg("%s: gave %d (%s), want %s", b->name, rc,
			    rc ? err.msg : "ok", b->msg);
		assert_null(p);
		print_message("%-32s %s\n", b->name, err.msg);
		free(s);
	}
	/* Both allow lists empty. */
	o = json_deep_copy(base);
	json_object_set_new(o, "allow", json_array());
	json_object_set_new(o, "allow_ip", json_array());
	s = json_dumps(o, 0);
	assert_int_equal(ca_prov_parse(s, strlen(s), &p, &err), KR_E_PARSE);
	assert_non_null(strstr(err.msg, "both empty"));
	free(s);
	/* One of them empty is fine. */
	json_object_set_new(o, "allow", json_pack("[s]", "x.lab.internal"));
	s = json_dumps(o, 0);
	assert_int_equal(ca_prov_parse(s, strlen(s), &p, &err), KR_OK);
	ca_prov_free(p);
	free(s);
	json_decref(o);
	json_decref(base);
	/* Text-level damage. */
	{
		static const struct {
			const char	*text;
			const char	*msg;
		} t[] = {
			{ "", "not a JSON object" },
			{ "[]", "not a JSON object" },
			{ "{\"name\":\"a\",\"name\":\"b\"}", "duplicate" },
			{ "{} x", "not a JSON object" },
		};

		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			assert_int_equal(ca_prov_parse(t[i].text,
			    strlen(t[i].text), &p, &err), KR_E_PARSE);
			if (strstr(err.msg, t[i].msg) == NULL)
				fail_msg("\"%s\": %s", t[i].text, err.msg);
		}
	}
}

static void
test_bad_public(void **state)
{
	static const struct {
		const char	*json;
		const char	*msg;
	} t[] = {
		/* A secret must never ride along in the daemon's config. */
		{ "{\"name\":\"web\",\"key\":{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
		    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"},"
		    "\"allow\":[\"a.lab.internal\"],\"allow_ip\":[],"
		    "\"max_lifetime\":86400,\"secret_key\":\"x\"}",
		    "unknown member \"secret_key\"" },
		{ "{\"name\":\"web\",\"key\":{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
		    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\","
		    "\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\"},"
		    "\"allow\":[\"a.lab.internal\"],\"allow_ip\":[],"
		    "\"max_lifetime\":86400}", "private member \"d\"" },
		{ "{\"name\":\"web\",\"key\":{\"kty\":\"EC\",\"crv\":\"P-256\","
		    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
		    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"},"
		    "\"allow\":[\"a.lab.internal\"],\"allow_ip\":[],"
		    "\"max_lifetime\":86400}", "must be an Ed25519 key" },
		{ "{\"name\":\"web\",\"key\":{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
		    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"},"
		    "\"allow\":[\"a.lab.internal\"],\"allow_ip\":[]}",
		    "\"max_lifetime\" is missing" },
		{ "{\"name\":\"web\",\"key\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMl"
		    "rwIaaPcHURo\",\"allow\":[\"a.lab.internal\"],"
		    "\"allow_ip\":[],\"max_lifetime\":86400}",
		    "not a JSON object" },
		{ "[]", "not a JSON object" },
	};
	struct ca_prov *p;
	struct kr_error err;
	json_error_t je;
	json_t *o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		o = json_loads(t[i].json, 0, &je);
		assert_non_null(o);
		p = (struct ca_prov *)&err;
		assert_int_equal(ca_prov_public_from_json(o, &p, &err),
		    KR_E_PARSE);
		if (strstr(err.msg, t[i].msg) == NULL)
			fail_msg("%zu: %s", i, err.msg);
		assert_null(p);
		json_decref(o);
	}
}

/* ---- matching ---- */

static void
test_dns_match(void **state)
{
	static const struct {
		const char	*pattern;
		const char	*name;
		int		 match;
	} t[] = {
		{ "*.web.lab.internal", "a.web.lab.internal", 1 },
		{ "*.web.lab.internal", "A.WEB.Lab.Internal", 1 },
		{ "*.web.lab.internal", "xn--bcher-kva.web.lab.internal", 1 },
		{ "*.web.lab.internal", "a.b.web.lab.internal", 0 },
		{ "*.web.lab.internal", "web.lab.internal", 0 },
		{ "*.web.lab.internal", "evil.web.lab.internal.attacker.com", 0 },
		{ "*.web.lab.internal", "aweb.lab.internal", 0 },
		{ "*.web.lab.internal", "a.web.lab.internal.", 0 },
		{ "*.web.lab.internal", "*.web.lab.internal", 0 },
		{ "*.web.lab.internal", ".web.lab.internal", 0 },
		{ "*.web.lab.internal", "a..web.lab.internal", 0 },
		{ "*.web.lab.internal", "-a.web.lab.internal", 0 },
		{ "*.web.lab.internal", "a-.web.lab.internal", 0 },
		{ "*.web.lab.internal", "a_b.web.lab.internal", 0 },
		{ "*.web.lab.internal", "a.web.lab.internal\n", 0 },
		{ "*.web.lab.internal", "", 0 },
		{ "web.lab.internal", "web.lab.internal", 1 },
		{ "web.lab.internal", "WEB.lab.internal", 1 },
		{ "web.lab.internal", "a.web.lab.internal", 0 },
		{ "web.lab.internal", "web.lab.internal.attacker.com", 0 },
		{ "web.lab.internal", "eweb.lab.internal", 0 },
		{ "*.internal", "a.internal", 0 },	/* bad pattern */
		{ "a.*.internal", "a.b.internal", 0 },
		{ "*.1.2.3", "10.1.2.3", 0 },
		{ "x.10", "x.10", 0 },			/* numeric TLD */
		{ "localhost", "localhost", 1 },
		{ "*.web.lab.internal", "a2345678901234567890123456789012345678"
		    "9012345678901234567890123.web.lab.internal", 1 },
		{ "*.web.lab.internal", "a2345678901234567890123456789012345678"
		    "90123456789012345678901234.web.lab.internal", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (ca_prov_dns_match(t[i].pattern, t[i].name) != t[i].match)
			fail_msg("\"%s\" vs \"%s\": want %d", t[i].pattern,
			    t[i].name, t[i].match);
}

static void
test_ip_match(void **state)
{
	static const struct {
		const char	*cidr;
		const char	*ip;
		int		 match;
	} t[] = {
		{ "10.20.0.0/16", "10.20.0.5", 1 },
		{ "10.20.0.0/16", "10.20.255.255", 1 },
		{ "10.20.0.0/16", "10.21.0.0", 0 },
		{ "10.20.0.0/16", "10.19.255.255", 0 },
		{ "10.20.0.0/15", "10.21.1.1", 1 },
		{ "10.20.0.0/15", "10.22.0.0", 0 },
		{ "10.20.0.5/32", "10.20.0.5", 1 },
		{ "10.20.0.5/32", "10.20.0.4", 0 },
		{ "0.0.0.0/0", "192.0.2.1", 1 },
		{ "10.20.0.0/16", "010.20.0.5", 0 },
		{ "10.20.0.0/16", "10.20.5", 0 },
		{ "10.20.0.0/16", "::ffff:10.20.0.5", 0 },
		{ "10.20.0.1/16", "10.20.0.1", 0 },	/* bad CIDR */
		{ "10.20.0.0", "10.20.0.0", 0 },
		{ "fd00:20::/32", "fd00:20:1::5", 1 },
		{ "fd00:20::/32", "FD00:0020:ffff::1", 1 },
		{ "fd00:20::/32", "fd00:21::1", 0 },
		{ "fd00:20::/31", "fd00:21::1", 1 },
		{ "fd00:20::/32", "10.20.0.5", 0 },
		{ "2001:db8::1/128", "2001:db8::1", 1 },
		{ "2001:db8::1/128", "2001:db8::2", 0 },
		{ "2001:db8::/33", "2001:db8:8000::", 0 },
		{ "2001:db8::/33", "2001:db8:7fff::", 1 },
		{ "fd00:20::/32", "fd00:20::1%eth0", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (ca_prov_ip_match(t[i].cidr, t[i].ip) != t[i].match)
			fail_msg("%s vs %s: want %d", t[i].cidr, t[i].ip,
			    t[i].match);
}

static void
test_check_names(void **state)
{
	static const char *const good[] = { "a.web.lab.internal",
	    "web.lab.internal", "10.20.3.4", "fd00:20::9" };
	static const char *const bad1[] = { "a.web.lab.internal",
	    "a.b.web.lab.internal" };
	static const char *const bad2[] = { "10.21.0.1" };
	static const char *const bad3[] = { "evil.web.lab.internal.attacker.com" };
	struct ca_prov *p = parse_vector();
	struct kr_error err;

	(void)state;
	assert_int_equal(ca_prov_check_names(p, "a.web.lab.internal", good, 4,
	    &err), KR_OK);
	assert_int_equal(ca_prov_check_names(p, "a.web.lab.internal", bad1, 2,
	    &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "\"a.b.web.lab.internal\" (not in its "
	    "allow list)"));
	assert_int_equal(ca_prov_check_names(p, "a.web.lab.internal", bad2, 1,
	    &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "\"10.21.0.1\" (not in its allow_ip "
	    "list)"));
	assert_int_equal(ca_prov_check_names(p, "a.web.lab.internal", bad3, 1,
	    &err), KR_E_POLICY);
	/* sub is checked too. */
	assert_int_equal(ca_prov_check_names(p, "db.lab.internal", good, 1,
	    &err), KR_E_POLICY);
	assert_non_null(strstr(err.msg, "\"db.lab.internal\""));
	ca_prov_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_public_view),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_bad_public),
		cmocka_unit_test(test_dns_match),
		cmocka_unit_test(test_ip_match),
		cmocka_unit_test(test_check_names),
	};

	/* So that a wrong mode would show: 0644 would stay 0644. */
	umask(022);
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
