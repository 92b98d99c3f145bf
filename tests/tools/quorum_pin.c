/*
 * quorum_pin.c: FOR TESTS ONLY.  Print the user PIN that a quorum's
 * officer credentials rebuild, so that tests/cli/quorum.bats can search
 * syscall traces and files for it.  Real deployments must never have
 * such a tool: the point of `keyrite quorum init` is that nobody ever
 * sees the PIN.  It is built into $(BUILD)/tools/, never installed.
 *
 *   quorum_pin LABEL SERIAL CRED:PASSFILE...
 *
 * LABEL and SERIAL name the token (as in officers.json); each argument
 * after them is an officer credential file and the file holding that
 * officer's passphrase.  Exit 0 and the PIN on stdout, or 1 and a
 * message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ceremony/quorum.h"
#include "common/file.h"

int
main(int argc, char **argv)
{
	struct cer_armor **creds = NULL;
	struct kr_secret **pass = NULL, *pin = NULL;
	struct kr_error err = { 0 };
	const char **names = NULL;
	uint8_t *buf = NULL;
	size_t n, i, len;
	char *sep;
	int st = 1;

	if (argc < 4) {
		fprintf(stderr, "usage: quorum_pin LABEL SERIAL "
		    "CRED:PASSFILE...\n(test tool: prints the quorum's user "
		    "PIN)\n");
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "quorum_pin: sodium_init failed\n");
		return 1;
	}
	n = (size_t)argc - 3;
	if ((creds = calloc(n, sizeof(*creds))) == NULL ||
	    (pass = calloc(n, sizeof(*pass))) == NULL ||
	    (names = calloc(n, sizeof(*names))) == NULL) {
		fprintf(stderr, "quorum_pin: out of memory\n");
		goto out;
	}
	for (i = 0; i < n; i++) {
		names[i] = argv[i + 3];
		if ((sep = strrchr(argv[i + 3], ':')) == NULL) {
			fprintf(stderr, "quorum_pin: '%s' is not CRED:PASSFILE\n",
			    argv[i + 3]);
			goto out;
		}
		*sep = '\0';
		if (kr_file_read(argv[i + 3], CER_ARMOR_TEXT_MAX, &buf, &len,
		    &err) != KR_OK ||
		    cer_armor_parse((char *)buf, len, &creds[i], &err) !=
		    KR_OK ||
		    kr_secret_from_file(sep + 1, "passphrase", &pass[i],
		    &err) != KR_OK) {
			fprintf(stderr, "quorum_pin: %s: %s\n", argv[i + 3],
			    err.msg);
			goto out;
		}
		free(buf);
		buf = NULL;
	}
	if (cer_quorum_pin(creds, names, pass, n, argv[1], argv[2], &pin,
	    &err) != KR_OK) {
		fprintf(stderr, "quorum_pin: %s\n", err.msg);
		goto out;
	}
	printf("%.*s\n", (int)pin->len, pin->buf);
	st = 0;
out:
	free(buf);
	kr_secret_free(pin);
	for (i = 0; creds != NULL && pass != NULL && i < n; i++) {
		cer_armor_free(creds[i]);
		kr_secret_free(pass[i]);
	}
	free(creds);
	free(pass);
	free(names);
	return st;
}
