/*
 * main.c: keyrite, the operator's tool for the offline root and the
 * admin's desk.  Dispatches to one verb; each verb parses its own
 * options and has --help.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"

#define KEYRITE_VERSION "0.1.0"

static const struct {
	const char	*verb;
	cli_fn		 fn;
	const char	*summary;
} verbs[] = {
	{ "hsm", cmd_hsm, "PKCS#11 tokens: list, initialise, generate and "
	    "list keys" },
	{ "root", cmd_root, "the offline root: self-sign, sign "
	    "intermediates, cross-sign, publish CRLs" },
	{ "backup", cmd_backup, "Shamir-split backups of a root key: create, "
	    "verify, restore, print, type-in" },
	{ "quorum", cmd_quorum, "two-person control: k of n officers "
	    "activate a token" },
	{ "ceremony", cmd_ceremony, "scripted, witnessed key ceremonies: plan, "
	    "run, rehearse, verify, report" },
	{ "bundle", cmd_bundle, "signed root-rotation bundles: build, sign, "
	    "verify, pack, inspect" },
	{ "inspect", cmd_inspect, "show a certificate, CSR or CRL" },
	{ "cert", cmd_cert, "certificates from the online signer: request, "
	    "renew, revoke" },
	{ "token", cmd_token, "one-time tokens for the online signer" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: keyrite VERB [SUBVERB] [options]\n\n"
	    "keyrite runs a private certificate authority whose root key "
	    "lives in an HSM\n(any PKCS#11 module; SoftHSM2 by default).\n\n"
	    "verbs:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].verb, verbs[i].summary);
	fprintf(f, "\nEvery verb and subverb has --help.\n\n"
	    "example: a root on a fresh SoftHSM2 token\n"
	    "  keyrite hsm init-token --label lab-root --so-pin-file so.pin "
	    "--pin-file user.pin\n"
	    "  keyrite hsm keygen --token 'pkcs11:token=lab-root' --pin-file "
	    "user.pin \\\n"
	    "      --label root-2026 --type ec-p384\n"
	    "  keyrite root init --key 'pkcs11:token=lab-root;object=root-2026' "
	    "--pin-file user.pin \\\n"
	    "      --subject 'CN=Example Lab Root,O=Example' --days 3650 "
	    "--permitted-dns lab.internal --out root.pem\n\n"
	    "environment:\n"
	    "  KEYRITE_PKCS11_MODULE  PKCS#11 module when --module is absent\n"
	    "  KEYRITE_HOME           state directory (default "
	    "~/.local/share/keyrite)\n"
	    "  KEYRITE_PROFILE_DIR    where profiles are looked up first\n"
	    "  SOFTHSM2_CONF          SoftHSM2's configuration file\n\n"
	    "docs: docs/quickstart.md, docs/operator-guide.md, man keyrite(1)\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	kr_harden();
	if (sodium_init() < 0) {
		fprintf(stderr, "keyrite: libsodium failed to initialise\n");
		return 1;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* The injectable clock is for tests: never let it act silently. */
	if (getenv("KEYRITE_NOW") != NULL && *getenv("KEYRITE_NOW") != '\0') {
		char when[32];
		time_t now = kr_now();
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(stderr, "keyrite: KEYRITE_NOW is set: the clock reads "
		    "%s (for tests only)\n", when);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("keyrite %s\n", KEYRITE_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].verb) == 0)
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "keyrite: unknown verb '%s'; 'keyrite --help' lists "
	    "them\n", argv[1]);
	return EXIT_USAGE;
}
