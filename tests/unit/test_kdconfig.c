/*
 * test_kdconfig.c: keyrited.yaml's strict parser (cmd/keyrited/
 * config.c, compiled in here).  A written configuration reads back the
 * same; a table of bad files is refused, each naming the line and the
 * setting at fault.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../cmd/keyrited/config.c"

#define GOOD "subject: \"CN=x\"\npublic_url: \"http://ca.lab.internal:8080\"\n" \
	"api_url: \"https://ca.lab.internal:8443\"\nserial_prefix: \"2c919a\"\n"

static void
test_good(void **state)
{
	static const char y[] = GOOD "default_lifetime: 8h\n"
	    "admins: [ops, root]\n";
	struct kd_config c;
	struct kr_error err;

	(void)state;
	kd_config_defaults(&c);
	assert_int_equal(kd_config_parse(y, strlen(y), "t", &c, &err), KR_OK);
	assert_string_equal(c.subject, "CN=x");
	assert_int_equal(c.default_lifetime, 8 * 3600);
	assert_int_equal(c.nadmins, 2);
	assert_int_equal(c.serial_prefix[0], 0x2c);
	assert_string_equal(c.listen, "127.0.0.1:8443");
	kd_config_free(&c);
}

static void
test_bad(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*says;
	} t[] = {
		{ "", "a mapping of settings" },
		{ "- a\n", "a mapping of settings" },
		{ "subject: [\n", "not YAML" },
		{ GOOD "bogus: 1\n", "bogus: unknown setting" },
		{ GOOD "subject: again\n", "subject: given twice" },
		{ "public_url: \"http://a\"\napi_url: \"https://a\"\n"
		    "serial_prefix: \"010203\"\n", "subject is required" },
		{ "subject: x\npublic_url: \"ftp://a\"\n", "public_url: not an "
		    "http(s) URL" },
		{ "subject: x\npublic_url: \"http://a?q\"\n", "public_url: not "
		    "an http(s) URL" },
		{ "subject: x\napi_url: \"http://a\"\n", "api_url: not an "
		    "https URL" },
		{ GOOD "listen: \"nope\"\n", "listen: not HOST:PORT" },
		{ GOOD "listen: \"1.2.3.4:99999\"\n", "listen: not HOST:PORT" },
		{ GOOD "default_lifetime: soon\n", "default_lifetime: not a "
		    "duration" },
		{ GOOD "default_lifetime: 30d\n", "longer than max_lifetime" },
		{ GOOD "retention: 1m\n", "retention must be at least" },
		{ GOOD "signers: 0\n", "signers: not a number from 1 to 16" },
		{ GOOD "signers: 17\n", "signers: not a number from 1 to 16" },
		{ GOOD "threads: x\n", "threads: not a number" },
		{ GOOD "threads: 0\n", "threads: not a number from 1 to 256" },
		{ GOOD "max_connections: x\n", "max_connections: not a "
		    "number" },
		{ GOOD "max_connections: 0\n", "max_connections: not a number "
		    "from 1 to 4096" },
		{ GOOD "max_connections: 4097\n", "max_connections: not a "
		    "number from 1 to 4096" },
		{ "subject: x\npublic_url: \"http://a\"\napi_url: "
		    "\"https://a\"\nserial_prefix: \"8a0203\"\n",
		    "the first byte must be 01..7f" },
		{ "subject: x\npublic_url: \"http://a\"\napi_url: "
		    "\"https://a\"\nserial_prefix: \"0102\"\n",
		    "6 hex digits expected" },
		{ GOOD "key_token: \"pkcs11:token=t;object=k\"\n",
		    "key_token needs pin_file" },
		{ GOOD "admins: ops\n", "admins: a list of provisioner names" },
		{ GOOD "admins: [ops, ops]\n", "admins: repeated name" },
		{ GOOD "subject: [a]\n", "subject: given twice" },
		{ "subject: [a]\n", "subject: a single value is expected" },
		{ "subject: \"a\\tb\"\n", "subject: control character" },
		{ GOOD "acme_http01_port: 0\n", "acme_http01_port: not a "
		    "port" },
		{ GOOD "acme_tlsalpn01_port: 65536\n", "acme_tlsalpn01_port: "
		    "not a port" },
		{ GOOD "acme_http01_port: 80x\n", "acme_http01_port: not a "
		    "port" },
		{ GOOD "acme_connect: localhost\n", "acme_connect: not an IP "
		    "address" },
		{ GOOD "acme_dns_resolver: \"127.0.0.1\"\n",
		    "acme_dns_resolver: not IP:PORT" },
		{ GOOD "acme_dns_resolver: \"dns.lab:53\"\n",
		    "acme_dns_resolver: not IP:PORT" },
		{ GOOD "acme_order_lifetime: 10s\n", "acme_order_lifetime: "
		    "not a duration from 1m to 30d" },
		{ GOOD "acme_order_lifetime: 31d\n", "acme_order_lifetime: "
		    "not a duration from 1m to 30d" },
	};
	struct kd_config c;
	struct kr_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		kd_config_defaults(&c);
		memset(&err, 0, sizeof(err));
		if (kd_config_parse(t[i].yaml, strlen(t[i].yaml), "keyrited.yaml",
		    &c, &err) == KR_OK)
			fail_msg("row %zu was accepted", i);
		if (strstr(err.msg, t[i].says) == NULL ||
		    strstr(err.msg, "keyrited.yaml") == NULL)
			fail_msg("row %zu: %s", i, err.msg);
		kd_config_free(&c);
	}
}

static void
test_roundtrip(void **state)
{
	struct kd_config c, d;
	struct kr_error err;
	char dir[] = "/tmp/kdconfig.XXXXXX", ops[] = "ops", path[64];
	char *admins[] = { ops };

	(void)state;
	assert_non_null(mkdtemp(dir));
	kd_config_defaults(&c);
	snprintf(c.home, sizeof(c.home), "%s", dir);
	snprintf(c.subject, sizeof(c.subject), "CN=Lab \"Online\" CA\\1");
	snprintf(c.public_url, sizeof(c.public_url), "http://ca:8080");
	snprintf(c.api_url, sizeof(c.api_url), "https://ca:8443");
	c.serial_prefix[0] = 0x12;
	c.crl_interval = 90 * 60;
	c.admins = admins;
	c.nadmins = 1;
	c.acme_http01_port = 8402;
	snprintf(c.acme_connect, sizeof(c.acme_connect), "127.0.0.1");
	snprintf(c.acme_dns_resolver, sizeof(c.acme_dns_resolver),
	    "127.0.0.1:5353");
	c.acme_order_lifetime = 3600;
	assert_int_equal(kd_config_write(&c, 0, &err), KR_OK);
	assert_int_equal(kd_config_load(dir, &d, &err), KR_OK);
	assert_string_equal(d.subject, c.subject);
	assert_int_equal(d.crl_interval, 90 * 60);
	assert_int_equal(d.serial_prefix[0], 0x12);
	assert_int_equal(d.nadmins, 1);
	assert_string_equal(d.admins[0], "ops");
	/* A rewrite (provisioner add --admin) keeps the ACME settings. */
	assert_int_equal(d.acme_http01_port, 8402);
	assert_int_equal(d.acme_tlsalpn01_port, 443);
	assert_string_equal(d.acme_connect, "127.0.0.1");
	assert_string_equal(d.acme_dns_resolver, "127.0.0.1:5353");
	assert_int_equal(d.acme_order_lifetime, 3600);
	kd_config_free(&d);
	/* Never replaced without force. */
	assert_int_equal(kd_config_write(&c, 0, &err), KR_E_EXISTS);
	snprintf(path, sizeof(path), "%s/%s", dir, KD_CONFIG);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
