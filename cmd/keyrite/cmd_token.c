/*
 * cmd_token.c: keyrite token create, a one-time token for keyrited
 * (ca/token.h, docs/jws.md) minted with a provisioner file's key, for
 * scripts that talk to the API with curl, or for 'cert request --token'
 * on a machine that must not hold the provisioner's key.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cli.h"
#include "ca/provisioner.h"
#include "ca/token.h"

struct token_args {
	const char	*prov;
	const char	*server;
	const char	*name;
	const char	*lifetime;
	const char	**san;
	size_t		 nsan;
	const struct cli_cmd *cmd;
};

static int
token_opt(void *ctx, const char *name, const char *arg)
{
	struct token_args *a = ctx;

	if (strcmp(name, "provisioner") == 0)
		a->prov = arg;
	else if (strcmp(name, "server") == 0)
		a->server = arg;
	else if (strcmp(name, "name") == 0)
		a->name = arg;
	else if (strcmp(name, "lifetime") == 0)
		a->lifetime = arg;
	else if (strcmp(name, "san") == 0)
		return cli_push(&a->san, &a->nsan, arg);
	return 0;
}

static const struct cli_opt create_opts[] = {
	{ "provisioner", 1, 0, "FILE", "the provisioner file (its key signs "
	    "the token)" },
	{ "server", 1, 0, "URL", "the audience (default: the file's "
	    "server)" },
	{ "name", 1, 0, "NAME", "sub and first of sans (a serial to "
	    "revoke)" },
	{ "san", 1, 1, "NAME", "another name the certificate may carry" },
	{ "lifetime", 1, 0, "D", "validity, at most 5m (the default)" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd create_cmd = {
	"token create", "Print a one-time token for keyrited, signed with "
	"the provisioner's key: iss\nthe provisioner, aud the server's URL "
	"exactly as given, sub --name, sans\n--name and each --san, a fresh "
	"jti.  The server accepts it once, within its\nlifetime.  IP "
	"addresses are written in canonical form.",
	"--provisioner FILE --name NAME [--san NAME]... [--server URL] "
	"[--lifetime D]",
	"  token=$(keyrite token create --provisioner web.provisioner \\\n"
	"      --server https://ca.lab.internal:8443 --name "
	"svc.web.lab.internal)",
	create_opts,
};

/*
 * --name then each --san, IP literals canonical, none twice.  Prints a
 * usage error and returns non-zero otherwise.
 */
static int
token_names(const struct token_args *a, char ***names, size_t *n)
{
	char ip[INET6_ADDRSTRLEN], *s;
	const char *in;
	size_t i, j;

	*names = NULL;
	*n = 0;
	if (1 + a->nsan > CA_TOKEN_SANS_MAX)
		return cli_usage(a->cmd, "at most %d names (--name and --san)",
		    CA_TOKEN_SANS_MAX);
	for (i = 0; i <= a->nsan; i++) {
		in = i == 0 ? a->name : a->san[i - 1];
		s = strdup(cli_ip_canon(in, ip, sizeof(ip)) ? ip : in);
		if (s == NULL || cli_push((const char ***)names, n, s) != 0) {
			free(s);
			fprintf(stderr, "keyrite: out of memory\n");
			goto fail;
		}
		for (j = 0; j + 1 < *n; j++)
			if (strcasecmp((*names)[j], s) == 0) {
				cli_usage(a->cmd, "'%s' is named twice (--name "
				    "is always one of the sans)", in);
				goto fail;
			}
	}
	return 0;
fail:
	cli_free_names(*names, *n);
	*names = NULL;
	*n = 0;
	return EXIT_USAGE;
}

static int
token_create_main(int argc, char **argv)
{
	struct token_args a = { .cmd = &create_cmd };
	struct kr_error err = { 0 };
	struct ca_token_req r = { 0 };
	struct ca_prov *prov = NULL;
	char why[128], **names = NULL, *tok = NULL;
	size_t nnames = 0;
	long long life = CA_TOKEN_LIFETIME_MAX;
	int idx, st = EXIT_USAGE;

	if ((idx = cli_parse(&create_cmd, argc, argv, token_opt, &a)) < 0)
		goto out;
	if (idx != argc) {
		cli_usage(&create_cmd, "unexpected argument '%s'", argv[idx]);
		goto out;
	}
	if (a.prov == NULL || a.name == NULL) {
		cli_usage(&create_cmd, "--provisioner and --name are required");
		goto out;
	}
	if (a.server != NULL && !cli_server_url_ok(a.server, why,
	    sizeof(why))) {
		cli_usage(&create_cmd, "--server '%s' %s", a.server, why);
		goto out;
	}
	if (a.lifetime != NULL) {
		life = kr_parse_duration(a.lifetime, 's');
		if (life <= 0 || life > CA_TOKEN_LIFETIME_MAX) {
			cli_usage(&create_cmd, "--lifetime '%s': a token lives "
			    "1s to 5m (e.g. 90s, 5m)", a.lifetime);
			goto out;
		}
	}
	if (token_names(&a, &names, &nnames) != 0)
		goto out;
	st = 1;
	if (ca_prov_read(a.prov, &prov, &err) != KR_OK) {
		st = cli_report(create_cmd.name, &err);
		goto out;
	}
	r.iss = prov->name;
	r.aud = a.server != NULL ? a.server : prov->server;
	r.sub = names[0];
	r.sans = (const char *const *)names;
	r.nsans = nnames;
	r.now = kr_now();
	r.lifetime = (long)life;
	if (ca_token_make(&r, prov->sk, &tok, &err) != KR_OK) {
		st = cli_report(create_cmd.name, &err);
		goto out;
	}
	printf("%s\n", tok);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		kr_fail(&err, KR_E_IO, "cannot write the token to standard "
		    "output");
		st = cli_report(create_cmd.name, &err);
		goto out;
	}
	st = 0;
out:
	if (tok != NULL) {
		sodium_memzero(tok, strlen(tok));
		free(tok);
	}
	ca_prov_free(prov);
	cli_free_names(names, nnames);
	free(a.san);
	return st;
}

int
cmd_token(int argc, char **argv)
{
	static const struct cli_sub sub[] = {
		{ "create", token_create_main, &create_cmd },
	};

	return cli_dispatch("token", sub, sizeof(sub) / sizeof(sub[0]), argc,
	    argv);
}
