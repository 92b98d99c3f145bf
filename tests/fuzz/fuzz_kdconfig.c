/*
 * fuzz_kdconfig.c: libFuzzer target for keyrited.yaml's parser
 * (cmd/keyrited/config.c, compiled in here: it is not in a library).
 * Whatever is accepted must satisfy the checks the daemon relies on;
 * whatever is refused must say why.  Seeds: tests/fuzz/corpus/kdconfig/.
 */
#include "../../cmd/keyrited/config.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_config c;
	struct kr_error err;
	char host[256];
	int port;

	kd_config_defaults(&c);
	memset(&err, 0, sizeof(err));
	if (kd_config_parse((const char *)data, size, "fuzz", &c, &err) !=
	    KR_OK) {
		if (err.msg[0] == '\0')
			abort();
		kd_config_free(&c);
		return 0;
	}
	if (c.subject[0] == '\0' && strstr((const char *)data, "subject") ==
	    NULL)
		abort();
	if (!kd_url_ok(c.api_url, "https") ||
	    kd_hostport(c.listen, host, sizeof(host), &port) != 0 ||
	    kd_hostport(c.publish, host, sizeof(host), &port) != 0 ||
	    c.default_lifetime > c.max_lifetime ||
	    c.retention < c.crl_interval || c.signers < 1 ||
	    c.signers > KD_SIGNERS_MAX || (c.serial_prefix[0] & 0x80) ||
	    (c.key_token[0] != '\0' && c.pin_file[0] == '\0'))
		abort();
	kd_config_free(&c);
	return 0;
}
