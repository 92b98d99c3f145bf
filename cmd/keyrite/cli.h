/*
 * cli.h: what the keyrite subcommands share: option parsing that refuses
 * repeats, error reporting, and opening a token key with its PIN.
 */
#ifndef KEYRITE_CLI_H
#define KEYRITE_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "common/kr.h"
#include "common/file.h"
#include "hsm/hsm.h"
#include "ca/ca.h"

#define EXIT_USAGE 2

/* A subcommand: argv[0] is the subcommand name. */
typedef int (*cli_fn)(int argc, char **argv);

/*
 * One option of a subcommand.  repeat: may be given more than once.
 * The help text is printed by cli_help.
 */
struct cli_opt {
	const char	*name;
	int		 has_arg;
	int		 repeat;
	const char	*arg;		/* "FILE", NULL for flags */
	const char	*help;
};

struct cli_cmd {
	const char		*name;		/* "root init" */
	const char		*summary;
	const char		*usage;		/* after the name */
	const char		*example;
	const struct cli_opt	*opts;		/* NULL-terminated */
};

/*
 * Parse argv against cmd->opts.  For each option found, fn(ctx, name,
 * arg) is called in command-line order; it returns 0, or a usage error
 * message it has printed (non-zero).  --help prints the help and exits
 * 0.  Returns the index of the first operand, or -1 after printing a
 * usage error.
 */
int	 cli_parse(const struct cli_cmd *cmd, int argc, char **argv,
	     int (*fn)(void *ctx, const char *name, const char *arg),
	     void *ctx);

/* Print cmd's help to f. */
void	 cli_help(const struct cli_cmd *cmd, FILE *f);

/* "keyrite: root init: MSG" on stderr; returns EXIT_USAGE. */
int	 cli_usage(const struct cli_cmd *cmd, const char *fmt, ...)
	     __attribute__((format(printf, 2, 3)));

/*
 * Report err on stderr with the command name; returns 1.  (Exit 2 is only
 * for command lines the option parser refuses: see cli_usage.)
 */
int	 cli_report(const char *cmdname, const struct kr_error *err);

/* Append to a growing array of strings (for repeated options). */
int	 cli_push(const char ***v, size_t *n, const char *s);

/* Ask a yes/no question on the terminal; only an exact "yes" is yes. */
int	 cli_confirm(const char *question);

/* An open token, with a key when one was asked for. */
struct cli_token {
	struct hsm_module	*mod;
	struct hsm_session	*sess;
	struct hsm_key		*key;
	struct hsm_uri		 uri;
	struct ca_signer	 signer;
};

/* How the token is unlocked: a PIN file, or a no-echo prompt. */
struct cli_auth {
	const char	*pin_file;
	const char	*module;	/* --module, or NULL */
};

/*
 * Open the token named by uri, log in with the PIN from auth (or the
 * URI's pin-source, or a prompt), and, when want_key, find the key the
 * URI names and make t->signer sign with it.
 */
enum kr_err cli_token_open(const char *uri, const struct cli_auth *auth,
	     int want_key, struct cli_token *t, struct kr_error *err);
void	 cli_token_close(struct cli_token *t);

/*
 * Read a PIN: from file if given, else a prompt "what for token 'L'".
 */
enum kr_err cli_read_pin(const char *file, const char *what, int confirm,
	     struct kr_secret **out, struct kr_error *err);

/* A verb's subcommands, and dispatch to one of them. */
struct cli_sub {
	const char		*name;
	cli_fn			 fn;
	const struct cli_cmd	*cmd;
};
int	 cli_dispatch(const char *verb, const struct cli_sub *sub, size_t n,
	     int argc, char **argv);

/* Subcommands. */
int	 cmd_hsm(int argc, char **argv);
int	 cmd_root(int argc, char **argv);
int	 cmd_inspect(int argc, char **argv);

#endif /* KEYRITE_CLI_H */
