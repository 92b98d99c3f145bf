/*
 * cli.h: what the keyrite subcommands share: option parsing that refuses
 * repeats, error reporting, and opening a token key with its PIN.
 */
#ifndef KEYRITE_CLI_H
#define KEYRITE_CLI_H

#include <getopt.h>
#include <stdio.h>

#include <jansson.h>

#include "common/kr.h"
#include "common/file.h"
#include "hsm/hsm.h"
#include "ca/ca.h"

#define EXIT_USAGE 2

/* "keyrite" or "keyrited": the program name in messages and help. */
extern const char *cli_progname;

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

/*
 * --passphrase-file NAME=FILE, repeatable: where each holder's (or
 * officer's) passphrase is read from in scripts; the rest are prompted.
 */
struct cli_passmap {
	const char	**names;
	const char	**files;
	size_t		  n;
};

/* Add "NAME=FILE"; prints a usage error and returns -1 if malformed. */
int	 cli_passmap_add(const struct cli_cmd *cmd, struct cli_passmap *m,
	     const char *arg);
void	 cli_passmap_free(struct cli_passmap *m);

/*
 * The passphrase of holder: from the map, else a no-echo prompt naming
 * who and what ("passphrase of carol for share-carol.txt"); confirm asks
 * twice (for new files).
 */
enum kr_err cli_passphrase(const struct cli_passmap *m, const char *holder,
	     const char *what, int confirm, struct kr_secret **out,
	     struct kr_error *err);

/*
 * How the token is unlocked: a PIN file, the URI's pin-source, a no-echo
 * prompt, or k officer credentials (--officer, repeatable) that rebuild
 * the random PIN nobody knows.
 */
struct cli_auth {
	const char		*pin_file;
	const char		*module;	/* --module, or NULL */
	const char		**officers;	/* credential files */
	size_t			  nofficers;
	const struct cli_passmap *pass;		/* officers' passphrases */
};

/*
 * Check the auth options: not both --pin-file and --officer; with
 * officers, parse their credentials and check there are k distinct ones
 * of one quorum, before any token is touched.
 */
enum kr_err cli_auth_check(const struct cli_auth *auth, struct kr_error *err);

/*
 * Open the token named by uri, log in with the PIN from auth (or the
 * URI's pin-source, or a prompt), and, when want_key, find the key the
 * URI names and make t->signer sign with it.
 */
enum kr_err cli_token_open(const char *uri, const struct cli_auth *auth,
	     int want_key, struct cli_token *t, struct kr_error *err);
void	 cli_token_close(struct cli_token *t);

/* ca_signer.sign for a token key (arg is the struct hsm_key). */
enum kr_err cli_signer_hsm(void *arg, const EVP_MD *md,
	     const unsigned char *msg, size_t len, unsigned char **sig,
	     size_t *siglen, struct kr_error *err);

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

/*
 * Outputs that are a directory of files made for holders (backup shares,
 * officer credentials).  cli_outdir_check refuses an existing out (and a
 * missing or unwritable parent) before any passphrase is asked for.
 * cli_write_set writes the whole set as one new directory in one step:
 * a temporary sibling directory gets public_name (0644) and files[i]
 * (0600, texts[i]), each fsynced, and is renamed to dir; on failure it
 * is removed and dir never exists.  cli_remove_dir removes such a
 * directory again (flat, files only).
 */
enum kr_err cli_outdir_check(const char *out, struct kr_error *err);
enum kr_err cli_write_set(const char *dir, const char *public_name,
	     const char *public_text, char *const *files,
	     char *const *texts, size_t n, struct kr_error *err);
void	 cli_remove_dir(const char *dir);

/* Split "a,b,c" into names (strdup'd); prints a usage error on empties. */
int	 cli_split_names(const struct cli_cmd *cmd, const char *opt,
	     const char *list, char ***names, size_t *n);
void	 cli_free_names(char **names, size_t n);

/* "moderate" (default) or "interactive" Argon2id cost; -1 if unknown. */
int	 cli_kdf_cost(const char *s);

/* Options every command that uses a token key takes. */
#define CLI_OPT_OFFICER { "officer", 1, 1, "CRED", "an officer's credential " \
	"file; k of them replace --pin-file" }
#define CLI_OPT_PASSFILE { "passphrase-file", 1, 1, "NAME=FILE", "read " \
	"NAME's passphrase from FILE (scripts; default: prompt)" }

/* Subcommands. */
int	 cmd_hsm(int argc, char **argv);
int	 cmd_root(int argc, char **argv);
int	 cmd_inspect(int argc, char **argv);
int	 cmd_backup(int argc, char **argv);
int	 cmd_quorum(int argc, char **argv);
int	 cmd_ceremony(int argc, char **argv);
int	 cmd_cert(int argc, char **argv);
int	 cmd_token(int argc, char **argv);
int	 cmd_bundle(int argc, char **argv);

/*
 * cmd_cert.c: the HTTPS client of the online signer (docs/api.md).
 * cli_http_post_json POSTs body (JSON, Content-Type application/json)
 * to url, https only, trusting nothing but ca_file (no CA directory, no
 * system store), with cert_file/key_file (PEM) as the TLS client
 * certificate when not NULL, no redirects, at most timeout seconds.  It
 * returns KR_OK whenever an HTTP answer came, with *status its code and
 * *resp the body when it is a JSON object (else NULL; the caller
 * json_decref()s it).  A body over CLI_HTTP_MAX bytes is KR_E_PARSE; a
 * transport or TLS failure is KR_E_IO naming url, with curl's words.
 * The body's text, which may carry a token, is wiped after the call.
 */
#define CLI_HTTP_MAX		(1024 * 1024)
#define CLI_HTTP_TIMEOUT	30
struct cli_http {
	const char	*ca_file;
	const char	*cert_file;
	const char	*key_file;
	long		 timeout;	/* seconds; 0: CLI_HTTP_TIMEOUT */
};
enum kr_err cli_http_post_json(const char *url, const struct cli_http *h,
	     const json_t *body, long *status, json_t **resp,
	     struct kr_error *err);

/*
 * Whether url may be a --server: https://, a host, printable ASCII, no
 * user, query or fragment.  If not, why says what is wrong.
 */
int	 cli_server_url_ok(const char *url, char *why, size_t whylen);

/* If s is an IPv4 or IPv6 literal, its canonical text into out; else 0. */
int	 cli_ip_canon(const char *s, char *out, size_t outlen);

/* cmd_backupkey.c */
extern const struct cli_cmd backup_create_cmd, backup_verify_cmd,
	 backup_restore_cmd;
int	 backup_create_main(int argc, char **argv);
int	 backup_verify_main(int argc, char **argv);
int	 backup_restore_main(int argc, char **argv);

/* cmd_card.c */
extern const struct cli_cmd backup_print_cmd, backup_type_in_cmd;
int	 backup_print_main(int argc, char **argv);
int	 backup_type_in_main(int argc, char **argv);

#endif /* KEYRITE_CLI_H */
