/*
 * test_uri.c: RFC 7512 pkcs11: URI parser, with the RFC's own examples
 * and a table of bad inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hsm/uri.h"

static void
test_rfc_examples(void **state)
{
	struct hsm_uri u;
	struct kr_error err = { 0 };

	(void)state;
	/* RFC 7512 section 7 examples. */
	assert_int_equal(hsm_uri_parse("pkcs11:", &u, &err), KR_OK);
	assert_null(u.token);
	hsm_uri_free(&u);

	assert_int_equal(hsm_uri_parse("pkcs11:object=my-pubkey;type=public",
	    &u, &err), KR_OK);
	assert_string_equal(u.object, "my-pubkey");
	assert_string_equal(u.type, "public");
	hsm_uri_free(&u);

	assert_int_equal(hsm_uri_parse("pkcs11:token=The%20Software%20PKCS%2311"
	    "%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;"
	    "object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;"
	    "serial=", &u, &err), KR_OK);
	assert_string_equal(u.token, "The Software PKCS#11 Softtoken");
	assert_string_equal(u.manufacturer, "Snake Oil, Inc.");
	assert_string_equal(u.model, "1.0");
	assert_int_equal(u.id_len, 8);
	assert_memory_equal(u.id, "\x69\x95\x3e\x5c\xf4\xbd\xec\x91", 8);
	assert_string_equal(u.serial, "");
	hsm_uri_free(&u);

	assert_int_equal(hsm_uri_parse("pkcs11:token=A%20name%20with%20a%20"
	    "substring%20%25%3B;object=my-certificate;type=cert", &u, &err),
	    KR_OK);
	assert_string_equal(u.token, "A name with a substring %;");
	hsm_uri_free(&u);

	assert_int_equal(hsm_uri_parse("pkcs11:token=Lab;object=root-2026"
	    "?pin-source=file:/etc/token.pin&module-path=/usr/lib/softhsm/"
	    "libsofthsm2.so", &u, &err), KR_OK);
	assert_string_equal(u.pin_source, "file:/etc/token.pin");
	assert_string_equal(u.module_path, "/usr/lib/softhsm/libsofthsm2.so");
	hsm_uri_free(&u);

	assert_int_equal(hsm_uri_parse("pkcs11:slot-id=3;x-vendor=ok", &u,
	    &err), KR_OK);
	assert_int_equal(u.slot_id, 3);
	hsm_uri_free(&u);
}

static void
test_format_roundtrip(void **state)
{
	struct hsm_uri u, v;
	struct kr_error err = { 0 };
	char *s;

	(void)state;
	assert_int_equal(hsm_uri_parse("pkcs11:token=Lab%20Root;serial=ab12;"
	    "object=a%3Bb;id=%01%ff", &u, &err), KR_OK);
	s = hsm_uri_format(&u);
	assert_non_null(s);
	assert_string_equal(s, "pkcs11:token=Lab%20Root;serial=ab12;"
	    "object=a%3Bb;id=%01%FF");
	assert_int_equal(hsm_uri_parse(s, &v, &err), KR_OK);
	assert_string_equal(v.token, u.token);
	assert_string_equal(v.object, "a;b");
	assert_int_equal(v.id_len, 2);
	assert_memory_equal(v.id, u.id, 2);
	free(s);
	hsm_uri_free(&u);
	hsm_uri_free(&v);
}

static const struct {
	const char	*uri;
	enum kr_err	 code;
	const char	*msg;
} bad[] = {
	{ "token=Lab", KR_E_PARSE, "not a pkcs11: URI" },
	{ "pkcs12:token=Lab", KR_E_PARSE, "not a pkcs11: URI" },
	{ "pkcs11:token=Lab;token=Other", KR_E_PARSE, "given twice" },
	{ "pkcs11:tokn=Lab", KR_E_PARSE, "unknown attribute 'tokn'" },
	{ "pkcs11:token", KR_E_PARSE, "not name=value" },
	{ "pkcs11:=Lab", KR_E_PARSE, "not name=value" },
	{ "pkcs11:token=Lab;;object=x", KR_E_PARSE, "empty attribute" },
	{ "pkcs11:token=%zz", KR_E_PARSE, "percent-encoding in 'token'" },
	{ "pkcs11:token=%4", KR_E_PARSE, "percent-encoding" },
	{ "pkcs11:token=abc%", KR_E_PARSE, "percent-encoding" },
	{ "pkcs11:token=a%00b", KR_E_PARSE, "NUL byte" },
	{ "pkcs11:id=", KR_E_PARSE, "id must be" },
	{ "pkcs11:slot-id=abc", KR_E_PARSE, "slot-id must be" },
	{ "pkcs11:slot-id=-1", KR_E_PARSE, "slot-id must be" },
	{ "pkcs11:type=secret", KR_E_PARSE, "type must be" },
	{ "pkcs11:token=Lab?pin-value=1234", KR_E_USAGE, "pin-value is refused" },
	{ "pkcs11:pin-source=/x", KR_E_PARSE, "belongs in the query" },
	{ "pkcs11:token=L?object=x", KR_E_PARSE, "belongs in the path" },
	{ "pkcs11:token=L?pin-source=a&pin-source=b", KR_E_PARSE,
	    "given twice" },
};

static void
test_bad(void **state)
{
	struct hsm_uri u;
	struct kr_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		print_message("bad URI %zu: %s\n", i, bad[i].uri);
		assert_int_equal(hsm_uri_parse(bad[i].uri, &u, &err),
		    bad[i].code);
		assert_non_null(strstr(err.msg, bad[i].msg));
		/* The parse leaves nothing allocated. */
		assert_null(u.token);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_examples),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests_name("uri", tests, NULL, NULL);
}
