/*
 * cmd_inspect.c: keyrite inspect FILE... shows certificates, CSRs and
 * CRLs: names, validity, extensions and fingerprints.
 */
#include <string.h>

#include "cli.h"
#include "ca/inspect.h"

struct inspect_args {
	int	json;
};

static int
inspect_opt(void *ctx, const char *name, const char *arg)
{
	struct inspect_args *a = ctx;

	(void)arg;
	if (strcmp(name, "json") == 0)
		a->json = 1;
	return 0;
}

static const struct cli_opt inspect_opts[] = {
	{ "json", 0, 0, NULL, "machine-readable output" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd inspect_cmd = {
	"inspect", "Show what a certificate, CSR or CRL (PEM or DER) says: "
	"subject, issuer,\nvalidity, key, every extension, and the SHA-256 "
	"fingerprint in groups to read aloud.",
	"[--json] FILE...",
	"  keyrite inspect root.pem int.pem root.crl",
	inspect_opts,
};

int
cmd_inspect(int argc, char **argv)
{
	struct inspect_args a = { 0 };
	struct kr_error err = { 0 };
	int idx, i, st = 0;

	if ((idx = cli_parse(&inspect_cmd, argc, argv, inspect_opt, &a)) < 0)
		return EXIT_USAGE;
	if (idx == argc)
		return cli_usage(&inspect_cmd, "name at least one file");
	for (i = idx; i < argc; i++) {
		if (i > idx && !a.json)
			printf("\n");
		if (ca_inspect_file(argv[i], stdout, a.json, &err) != KR_OK)
			st = cli_report(inspect_cmd.name, &err);
	}
	return st;
}
