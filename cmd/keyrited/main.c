/*
 * main.c: keyrited, the online intermediate signer.  Dispatches to one
 * subcommand; each has --help.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kd.h"
#include "trust.h"
#include "cmd/keyrite/cli.h"

#define KEYRITED_VERSION "0.1.0"

static const struct {
	const char	*verb;
	cli_fn		 fn;
	const char	*summary;
} verbs[] = {
	{ "init", kd_cmd_init, "make the intermediate key and its CSR in a "
	    "new home" },
	{ "install", kd_cmd_install, "install the intermediate certificate "
	    "the root signed" },
	{ "provisioner", kd_cmd_provisioner, "add, list and remove "
	    "provisioners (who may ask for which names)" },
	{ "serve", kd_cmd_serve, "run the API (HTTPS) and publication "
	    "(HTTP) listeners" },
	{ "issue", kd_cmd_issue, "issue a certificate for a CSR here, as the "
	    "admin" },
	{ "certs", kd_cmd_certs, "list what the issuance store holds" },
	{ "revoke", kd_cmd_revoke, "revoke a certificate here, as the admin, "
	    "and publish a CRL" },
	{ "trust", kd_cmd_trust, "publish signed root-rotation bundles at "
	    "/trust/" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: keyrited SUBCOMMAND [options]\n\n"
	    "keyrited is keyrite's online signer: an intermediate CA that "
	    "issues short-lived\ncertificates to services over an HTTPS API "
	    "and publishes CRLs over HTTP.\n\nsubcommands:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-12s %s\n", verbs[i].verb, verbs[i].summary);
	fprintf(f, "\nEvery subcommand has --help.\n\n"
	    "example: a signer whose intermediate a keyrite root signs\n"
	    "  keyrited init --home /var/lib/keyrited --subject 'CN=Example "
	    "Lab Issuing CA 1' \\\n"
	    "      --public-url http://ca.lab.internal:8080\n"
	    "  keyrite root sign --key ... --ca root.pem --csr "
	    "/var/lib/keyrited/intermediate.csr --out int.pem\n"
	    "  keyrited install --home /var/lib/keyrited --cert int.pem "
	    "--root root.pem\n"
	    "  keyrited provisioner add --home /var/lib/keyrited --name web "
	    "--allow '*.web.lab.internal' \\\n"
	    "      --out web.provisioner\n"
	    "  keyrited serve --home /var/lib/keyrited\n\n"
	    "docs: docs/signer.md, docs/api.md\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	kr_harden();
	cli_progname = "keyrited";
	if (sodium_init() < 0) {
		fprintf(stderr, "keyrited: libsodium failed to initialise\n");
		return 1;
	}
	if (argc >= 2 && strcmp(argv[1], "_signer") == 0)
		return kd_signer_main(argc - 1, argv + 1);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("keyrited %s\n", KEYRITED_VERSION);
		return 0;
	}
	if (getenv("KEYRITE_NOW") != NULL)
		fprintf(stderr, "keyrited: warning: KEYRITE_NOW is set; the "
		    "clock is %s, not the real time\n", getenv("KEYRITE_NOW"));
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].verb) == 0)
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "keyrited: unknown subcommand '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
