/*
 * cmd_hsm.c: keyrite hsm tokens | init-token | keygen | keys.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "cli.h"

struct hsm_args {
	const char	*module;
	const char	*token;
	const char	*label;
	const char	*type;
	const char	*pin_file;
	const char	*so_pin_file;
	const char	*key;
	const char	*subject;
	const char	*out;
	const char	**officers;
	size_t		 nofficers;
	struct cli_passmap pass;
	const struct cli_cmd *cmd;
	int		 force;
	int		 json;
	int		 no_backup;
};

static int
hsm_opt(void *ctx, const char *name, const char *arg)
{
	struct hsm_args *a = ctx;

	if (strcmp(name, "module") == 0)
		a->module = arg;
	else if (strcmp(name, "token") == 0)
		a->token = arg;
	else if (strcmp(name, "label") == 0)
		a->label = arg;
	else if (strcmp(name, "type") == 0)
		a->type = arg;
	else if (strcmp(name, "pin-file") == 0)
		a->pin_file = arg;
	else if (strcmp(name, "so-pin-file") == 0)
		a->so_pin_file = arg;
	else if (strcmp(name, "officer") == 0)
		return cli_push(&a->officers, &a->nofficers, arg);
	else if (strcmp(name, "passphrase-file") == 0)
		return cli_passmap_add(a->cmd, &a->pass, arg);
	else if (strcmp(name, "key") == 0)
		a->key = arg;
	else if (strcmp(name, "subject") == 0)
		a->subject = arg;
	else if (strcmp(name, "out") == 0)
		a->out = arg;
	else if (strcmp(name, "force") == 0)
		a->force = 1;
	else if (strcmp(name, "json") == 0)
		a->json = 1;
	else if (strcmp(name, "no-backup") == 0)
		a->no_backup = 1;
	return 0;
}

#define OPT_MODULE { "module", 1, 0, "PATH", "PKCS#11 module (default: " \
	"$KEYRITE_PKCS11_MODULE, else SoftHSM2)" }
#define OPT_PIN { "pin-file", 1, 0, "FILE", "read the user PIN from FILE " \
	"(default: prompt without echo)" }, CLI_OPT_OFFICER, CLI_OPT_PASSFILE
#define OPT_TOKEN { "token", 1, 0, "URI", "the token, as a pkcs11: URI " \
	"(RFC 7512), e.g. 'pkcs11:token=lab-root'" }

static const struct cli_opt tokens_opts[] = {
	OPT_MODULE,
	{ "json", 0, 0, NULL, "machine-readable output" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd tokens_cmd = {
	"hsm tokens", "List the module's slots and tokens: label, serial, "
	"whether initialised, and the\nmechanisms keyrite needs.",
	"[--module PATH] [--json]",
	"  keyrite hsm tokens --module /usr/lib/softhsm/libsofthsm2.so",
	tokens_opts,
};

static const char *
mechs_str(unsigned m, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s%s%s%s%s", m & HSM_MECH_EC_KEYGEN ? "ec-keygen " : "",
	    m & HSM_MECH_ECDSA ? "ecdsa " : "",
	    m & HSM_MECH_RSA_KEYGEN ? "rsa-keygen " : "",
	    m & HSM_MECH_RSA_PKCS ? "rsa-pkcs " : "",
	    m & HSM_MECH_AES_WRAP_PAD ? "aes-key-wrap-pad" : "");
	return buf;
}

static int
hsm_tokens_main(int argc, char **argv)
{
	struct hsm_args a = { 0 };
	struct hsm_module *m = NULL;
	struct hsm_token_info *t = NULL;
	struct kr_error err = { 0 };
	json_t *arr = NULL;
	char mb[128];
	size_t n = 0, i;
	int idx, st = 1;

	if ((idx = cli_parse(&tokens_cmd, argc, argv, hsm_opt, &a)) < 0)
		return EXIT_USAGE;
	if (idx != argc)
		return cli_usage(&tokens_cmd, "unexpected argument '%s'",
		    argv[idx]);
	if (hsm_module_load(a.module, &m, &err) != KR_OK ||
	    hsm_tokens(m, &t, &n, &err) != KR_OK) {
		st = cli_report(tokens_cmd.name, &err);
		goto out;
	}
	if (a.json) {
		arr = json_array();
		for (i = 0; i < n; i++) {
			json_array_append_new(arr, json_pack(
			    "{s:I,s:s,s:b,s:b,s:b,s:s,s:s,s:s,s:s,s:s}",
			    "slot", (json_int_t)t[i].slot,
			    "slot_description", t[i].slot_description,
			    "present", t[i].present,
			    "initialized", t[i].initialized,
			    "user_pin_initialized", t[i].user_pin_initialized,
			    "label", t[i].label, "serial", t[i].serial,
			    "manufacturer", t[i].manufacturer,
			    "model", t[i].model,
			    "mechanisms", mechs_str(t[i].mechs, mb,
			    sizeof(mb))));
		}
		json_dumpf(arr, stdout, JSON_INDENT(2));
		printf("\n");
		st = 0;
		goto out;
	}
	printf("module: %s\n        %s\n", hsm_module_path(m),
	    hsm_module_description(m));
	if (n == 0)
		printf("no slots\n");
	for (i = 0; i < n; i++) {
		printf("\nslot %lu: %s\n", t[i].slot, t[i].slot_description);
		if (!t[i].present) {
			printf("  no token\n");
			continue;
		}
		if (!t[i].initialized) {
			printf("  token: not initialised (free for 'keyrite hsm "
			    "init-token')\n");
			continue;
		}
		printf("  token:        %s\n  serial:       %s\n"
		    "  model:        %s (%s)\n  user PIN:     %s%s\n"
		    "  mechanisms:   %s\n  uri:          pkcs11:token=%s;"
		    "serial=%s\n", t[i].label, t[i].serial, t[i].model,
		    t[i].manufacturer, t[i].user_pin_initialized ? "set" :
		    "not set", t[i].user_pin_locked ? " (LOCKED)" : "",
		    mechs_str(t[i].mechs, mb, sizeof(mb)), t[i].label,
		    t[i].serial);
	}
	st = 0;
out:
	json_decref(arr);
	free(t);
	hsm_module_free(m);
	return st;
}

static const struct cli_opt init_opts[] = {
	OPT_MODULE,
	{ "label", 1, 0, "LABEL", "label of the new token (1-32 bytes)" },
	{ "so-pin-file", 1, 0, "FILE", "read the new security officer PIN "
	    "from FILE (default: prompt twice)" },
	{ "pin-file", 1, 0, "FILE", "read the new user PIN from FILE "
	    "(default: prompt twice)" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd init_cmd = {
	"hsm init-token", "Initialise the first free token of the module "
	"(C_InitToken) and set its user PIN\n(C_InitPIN).  A token label "
	"in use is refused.",
	"--label LABEL [--so-pin-file FILE] [--pin-file FILE] [--module PATH]",
	"  keyrite hsm init-token --label lab-root --so-pin-file so.pin "
	"--pin-file user.pin",
	init_opts,
};

static int
hsm_init_main(int argc, char **argv)
{
	struct hsm_args a = { 0 };
	struct hsm_module *m = NULL;
	struct kr_secret *so = NULL, *pin = NULL;
	struct kr_error err = { 0 };
	char serial[17] = "";
	int idx, st = 1;

	if ((idx = cli_parse(&init_cmd, argc, argv, hsm_opt, &a)) < 0)
		return EXIT_USAGE;
	if (idx != argc)
		return cli_usage(&init_cmd, "unexpected argument '%s'",
		    argv[idx]);
	if (a.label == NULL)
		return cli_usage(&init_cmd, "--label is required");
	if (hsm_module_load(a.module, &m, &err) != KR_OK ||
	    cli_read_pin(a.so_pin_file, "new SO PIN", 1, &so, &err) != KR_OK ||
	    cli_read_pin(a.pin_file, "new user PIN", 1, &pin, &err) != KR_OK ||
	    hsm_init_token(m, a.label, so->buf, so->len, pin->buf, pin->len,
	    serial, &err) != KR_OK) {
		st = cli_report(init_cmd.name, &err);
		goto out;
	}
	printf("initialised token '%s' (serial %s)\n"
	    "uri: pkcs11:token=%s;serial=%s\n", a.label, serial, a.label,
	    serial);
	st = 0;
out:
	kr_secret_free(so);
	kr_secret_free(pin);
	hsm_module_free(m);
	return st;
}

static const struct cli_opt keygen_opts[] = {
	OPT_TOKEN,
	OPT_PIN,
	OPT_MODULE,
	{ "label", 1, 0, "LABEL", "CKA_LABEL of the new key; must be unused" },
	{ "type", 1, 0, "TYPE", "ec-p384 (default), ec-p256, rsa-3072 or "
	    "rsa-4096" },
	{ "no-backup", 0, 0, NULL, "make the key non-extractable: it can "
	    "never be backed up" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd keygen_cmd = {
	"hsm keygen", "Generate a key pair inside the token.  The private "
	"key is SENSITIVE (never\nreadable in clear) and, unless "
	"--no-backup, EXTRACTABLE only so that it can be\nwrapped for a "
	"Shamir-split backup.  CKA_ID comes from the token's RNG; the\n"
	"public key is read back and checked.",
	"--token URI --label LABEL [--type TYPE] [--pin-file FILE] "
	"[--no-backup]",
	"  keyrite hsm keygen --token 'pkcs11:token=lab-root' --pin-file "
	"user.pin \\\n      --label root-2026 --type ec-p384",
	keygen_opts,
};

static void
print_key_public(EVP_PKEY *pk)
{
	unsigned char *der = NULL;
	char fpr[KR_FPR_LEN];
	int n;

	if ((n = i2d_PUBKEY(pk, &der)) > 0) {
		kr_fingerprint(der, (size_t)n, fpr);
		printf("public key SHA-256 (SPKI): %s\n", fpr);
	}
	OPENSSL_free(der);
	PEM_write_PUBKEY(stdout, pk);
}

static int
hsm_keygen_main(int argc, char **argv)
{
	struct hsm_args a = { .cmd = &keygen_cmd };
	struct cli_token t;
	struct cli_auth auth;
	struct kr_error err = { 0 };
	struct hsm_key *k = NULL;
	enum hsm_keytype type;
	int idx, st = 1;

	memset(&t, 0, sizeof(t));
	if ((idx = cli_parse(&keygen_cmd, argc, argv, hsm_opt, &a)) < 0)
		return EXIT_USAGE;
	if (idx != argc)
		return cli_usage(&keygen_cmd, "unexpected argument '%s'",
		    argv[idx]);
	if (a.token == NULL || a.label == NULL)
		return cli_usage(&keygen_cmd, "--token and --label are "
		    "required");
	type = hsm_keytype_from_name(a.type ? a.type : "ec-p384");
	if (type == HSM_KEY_NONE)
		return cli_usage(&keygen_cmd, "--type '%s' is not one of "
		    "ec-p384, ec-p256, rsa-3072, rsa-4096", a.type);
	auth = (struct cli_auth){ a.pin_file, a.module, a.officers,
	    a.nofficers, &a.pass };
	if (cli_token_open(a.token, &auth, 0, &t, &err) != KR_OK ||
	    hsm_keygen(t.sess, a.label, type, a.no_backup ? 0 :
	    HSM_KEYGEN_EXTRACTABLE, &k, &err) != KR_OK) {
		st = cli_report(keygen_cmd.name, &err);
		goto out;
	}
	printf("generated %s key '%s' in token '%s' (serial %s)\n"
	    "uri: pkcs11:token=%s;object=%s\n"
	    "attributes: SENSITIVE, %s\n", hsm_keytype_name(type), a.label,
	    hsm_session_label(t.sess), hsm_session_serial(t.sess),
	    hsm_session_label(t.sess), a.label, a.no_backup ?
	    "not extractable (no backup possible)" :
	    "EXTRACTABLE only under a wrapping key (for the Shamir backup)");
	print_key_public(hsm_key_public(k));
	st = 0;
out:
	hsm_key_free(k);
	cli_token_close(&t);
	free(a.officers);
	cli_passmap_free(&a.pass);
	return st;
}

static const struct cli_opt keys_opts[] = {
	OPT_TOKEN,
	OPT_PIN,
	OPT_MODULE,
	{ "json", 0, 0, NULL, "machine-readable output" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd keys_cmd = {
	"hsm keys", "List the keys in the token: label, id, type, the "
	"attributes that say whether\nthe key can ever leave the token, and "
	"the public key's SHA-256 fingerprint.",
	"--token URI [--pin-file FILE] [--json]",
	"  keyrite hsm keys --token 'pkcs11:token=lab-root' --pin-file "
	"user.pin",
	keys_opts,
};

static const char *
tri(int v)
{
	return v == 1 ? "yes" : v == 0 ? "no" : "?";
}

static int
hsm_keys_main(int argc, char **argv)
{
	struct hsm_args a = { .cmd = &keys_cmd };
	struct cli_token t;
	struct cli_auth auth;
	struct kr_error err = { 0 };
	struct hsm_key_info *ki = NULL;
	json_t *arr = NULL;
	size_t n = 0, i;
	int idx, st = 1;

	memset(&t, 0, sizeof(t));
	if ((idx = cli_parse(&keys_cmd, argc, argv, hsm_opt, &a)) < 0)
		return EXIT_USAGE;
	if (idx != argc)
		return cli_usage(&keys_cmd, "unexpected argument '%s'",
		    argv[idx]);
	if (a.token == NULL)
		return cli_usage(&keys_cmd, "--token is required");
	auth = (struct cli_auth){ a.pin_file, a.module, a.officers,
	    a.nofficers, &a.pass };
	if (cli_token_open(a.token, &auth, 0, &t, &err) != KR_OK ||
	    hsm_keys(t.sess, &ki, &n, &err) != KR_OK) {
		st = cli_report(keys_cmd.name, &err);
		goto out;
	}
	if (a.json) {
		arr = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,"
			    "s:b,s:i,s:i,s:i,s:i,s:i,s:s}", "label", ki[i].label,
			    "id", ki[i].id_hex, "type",
			    hsm_keytype_name(ki[i].type), "private",
			    ki[i].has_private, "extractable", ki[i].extractable,
			    "sensitive", ki[i].sensitive, "always_sensitive",
			    ki[i].always_sensitive, "never_extractable",
			    ki[i].never_extractable, "local", ki[i].local,
			    "spki_sha256", ki[i].spki_fpr));
		json_dumpf(arr, stdout, JSON_INDENT(2));
		printf("\n");
		st = 0;
		goto out;
	}
	printf("token '%s' (serial %s): %zu key%s\n", hsm_session_label(t.sess),
	    hsm_session_serial(t.sess), n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		printf("\n%s\n  id:          %s\n  type:        %s%s\n",
		    ki[i].label, ki[i].id_hex, hsm_keytype_name(ki[i].type),
		    ki[i].has_private ? "" : " (public key only)");
		if (ki[i].has_private)
			printf("  sensitive:   %s (always: %s)\n"
			    "  extractable: %s (never: %s)\n"
			    "  generated in token: %s\n",
			    tri(ki[i].sensitive), tri(ki[i].always_sensitive),
			    tri(ki[i].extractable),
			    tri(ki[i].never_extractable), tri(ki[i].local));
		printf("  SPKI SHA-256: %s\n  uri:         pkcs11:token=%s;"
		    "object=%s\n", ki[i].spki_fpr, hsm_session_label(t.sess),
		    ki[i].label);
	}
	st = 0;
out:
	json_decref(arr);
	free(ki);
	cli_token_close(&t);
	free(a.officers);
	cli_passmap_free(&a.pass);
	return st;
}

static const struct cli_opt csr_opts[] = {
	{ "key", 1, 0, "URI", "the key, e.g. 'pkcs11:token=lab-issuing;"
	    "object=issuing-2026'" },
	OPT_PIN,
	OPT_MODULE,
	{ "subject", 1, 0, "DN", "subject, e.g. 'CN=Example Lab Issuing CA "
	    "1,O=Example'" },
	{ "out", 1, 0, "FILE", "where to write the CSR (PEM)" },
	{ "force", 0, 0, NULL, "replace --out if it exists" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd csr_cmd = {
	"hsm csr", "Make a certificate signing request for a key in a "
	"token, signed inside the\ntoken, so that a CA key kept in an HSM "
	"can be certified without ever leaving it.",
	"--key URI --subject DN --out FILE [--pin-file FILE] [--force]",
	"  keyrite hsm csr --key 'pkcs11:token=lab-issuing;object=issuing-2026' "
	"\\\n      --pin-file int.pin --subject 'CN=Example Lab Issuing CA 1,"
	"O=Example' --out int.csr",
	csr_opts,
};

static int
hsm_csr_main(int argc, char **argv)
{
	struct hsm_args a = { .cmd = &csr_cmd };
	struct cli_token t;
	struct cli_auth auth;
	struct kr_error err = { 0 };
	X509_REQ *req = NULL;
	int idx, st = 1;

	memset(&t, 0, sizeof(t));
	if ((idx = cli_parse(&csr_cmd, argc, argv, hsm_opt, &a)) < 0)
		return EXIT_USAGE;
	if (idx != argc)
		return cli_usage(&csr_cmd, "unexpected argument '%s'",
		    argv[idx]);
	if (a.key == NULL || a.subject == NULL || a.out == NULL)
		return cli_usage(&csr_cmd, "--key, --subject and --out are "
		    "required");
	auth = (struct cli_auth){ a.pin_file, a.module, a.officers,
	    a.nofficers, &a.pass };
	if (kr_out_check(a.out, a.force, &err) != KR_OK ||
	    cli_token_open(a.key, &auth, 1, &t, &err) != KR_OK ||
	    ca_csr_make(a.subject, &t.signer, &req, &err) != KR_OK ||
	    ca_write_csr(a.out, req, a.force, &err) != KR_OK) {
		st = cli_report(csr_cmd.name, &err);
		goto out;
	}
	printf("CSR for key '%s' (%s): %s\n", hsm_key_label(t.key),
	    hsm_keytype_name(hsm_key_type(t.key)), a.out);
	print_key_public(hsm_key_public(t.key));
	st = 0;
out:
	X509_REQ_free(req);
	cli_token_close(&t);
	free(a.officers);
	cli_passmap_free(&a.pass);
	return st;
}

int
cmd_hsm(int argc, char **argv)
{
	static const struct cli_sub sub[] = {
		{ "tokens", hsm_tokens_main, &tokens_cmd },
		{ "init-token", hsm_init_main, &init_cmd },
		{ "keygen", hsm_keygen_main, &keygen_cmd },
		{ "keys", hsm_keys_main, &keys_cmd },
		{ "csr", hsm_csr_main, &csr_cmd },
	};

	return cli_dispatch("hsm", sub, sizeof(sub) / sizeof(sub[0]), argc,
	    argv);
}
