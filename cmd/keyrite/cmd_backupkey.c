/*
 * cmd_backupkey.c: keyrite backup create | verify | restore, and keyrite
 * quorum init.  Everything that can be refused without the token (share
 * sets, passphrases, the blob's MAC, existing outputs) is refused before
 * the token is opened.
 */
#include <ctype.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "cli.h"
#include "ca/rootstate.h"
#include "ceremony/backup.h"
#include "ceremony/quorum.h"

struct bk_args {
	const char	*key;
	const char	*token;
	const char	*pin_file;
	const char	*so_pin_file;
	const char	*module;
	const char	*holders;
	const char	*threshold;
	const char	*out;
	const char	*ca;
	const char	*backup;
	const char	*label;
	const char	*kdf;
	const char	**shares;
	size_t		 nshares;
	const char	**officers;
	size_t		 nofficers;
	struct cli_passmap pass;
	const struct cli_cmd *cmd;
};

static int
bk_opt(void *ctx, const char *name, const char *arg)
{
	struct bk_args *a = ctx;
	static const struct {
		const char *name;
		size_t off;
	} str[] = {
		{ "key", offsetof(struct bk_args, key) },
		{ "token", offsetof(struct bk_args, token) },
		{ "pin-file", offsetof(struct bk_args, pin_file) },
		{ "so-pin-file", offsetof(struct bk_args, so_pin_file) },
		{ "module", offsetof(struct bk_args, module) },
		{ "holders", offsetof(struct bk_args, holders) },
		{ "officers", offsetof(struct bk_args, holders) },
		{ "threshold", offsetof(struct bk_args, threshold) },
		{ "out", offsetof(struct bk_args, out) },
		{ "ca", offsetof(struct bk_args, ca) },
		{ "backup", offsetof(struct bk_args, backup) },
		{ "label", offsetof(struct bk_args, label) },
		{ "kdf-cost", offsetof(struct bk_args, kdf) },
	};
	size_t i;

	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		if (strcmp(name, str[i].name) == 0) {
			*(const char **)((char *)a + str[i].off) = arg;
			return 0;
		}
	if (strcmp(name, "share") == 0)
		return cli_push(&a->shares, &a->nshares, arg);
	if (strcmp(name, "officer") == 0)
		return cli_push(&a->officers, &a->nofficers, arg);
	if (strcmp(name, "passphrase-file") == 0)
		return cli_passmap_add(a->cmd, &a->pass, arg);
	return 0;
}

static void
bk_free(struct bk_args *a)
{
	free(a->shares);
	free(a->officers);
	cli_passmap_free(&a->pass);
}

#define OPT_PIN { "pin-file", 1, 0, "FILE", "read the user PIN from FILE " \
	"(default: prompt without echo)" }
#define OPT_MODULE { "module", 1, 0, "PATH", "PKCS#11 module (default: " \
	"$KEYRITE_PKCS11_MODULE, else SoftHSM2)" }
#define OPT_KDF { "kdf-cost", 1, 0, "COST", "Argon2id cost for the " \
	"passphrases: moderate (default) or interactive" }
#define OPT_SHARE { "share", 1, 1, "FILE", "a share file (at least " \
	"threshold of them)" }
#define OPT_END { NULL, 0, 0, NULL, NULL }

/*
 * The root certificate: --ca, else the root state directory's copy of
 * the root whose public key is pub (or whose SHA-256 is fpr).
 */
static enum kr_err
find_root(const char *ca, EVP_PKEY *pub, const uint8_t *fpr, X509 **out,
    struct kr_error *err)
{
	char pat[4096];
	glob_t g;
	uint8_t h[32];
	size_t i;
	X509 *c = NULL;

	*out = NULL;
	if (ca != NULL)
		return ca_load_cert(ca, out, err);
	snprintf(pat, sizeof(pat), "%s/roots/*/root.pem",
	    ca_rootstate_default_home());
	if (glob(pat, 0, NULL, &g) == 0) {
		for (i = 0; i < g.gl_pathc && *out == NULL; i++) {
			if (ca_load_cert(g.gl_pathv[i], &c, NULL) != KR_OK)
				continue;
			ca_cert_sha256(c, h);
			if ((pub != NULL &&
			    EVP_PKEY_eq(X509_get0_pubkey(c), pub) == 1) ||
			    (fpr != NULL && memcmp(h, fpr, 32) == 0))
				*out = c;
			else
				X509_free(c);
		}
		globfree(&g);
	}
	if (*out == NULL)
		return kr_fail(err, KR_E_NOTFOUND, "no root certificate for "
		    "this key in the root state (%s); name it with --ca",
		    ca_rootstate_default_home());
	return KR_OK;
}

/* Read and parse share files; names are the file names. */
static enum kr_err
load_shares(const char *const *files, size_t n, struct cer_armor ***out,
    struct kr_error *err)
{
	struct cer_armor **a;
	uint8_t *buf = NULL;
	size_t len, i;
	enum kr_err rc = KR_OK;

	if ((a = calloc(n + 1, sizeof(*a))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; i < n && rc == KR_OK; i++) {
		rc = kr_file_read(files[i], CER_ARMOR_TEXT_MAX, &buf, &len, err);
		if (rc == KR_OK &&
		    (rc = cer_armor_parse((char *)buf, len, &a[i], err)) !=
		    KR_OK)
			kr_error_prefix(err, "%s", files[i]);
		free(buf);
		buf = NULL;
	}
	*out = a;
	return rc;
}

static void
free_shares(struct cer_armor **a, size_t n)
{
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		cer_armor_free(a[i]);
	free(a);
}

static enum kr_err
load_blob(const char *path, struct cer_backup **b, struct kr_error *err)
{
	uint8_t *buf = NULL;
	size_t len;
	enum kr_err rc;

	if ((rc = kr_file_read(path, CER_BACKUP_MAX, &buf, &len, err)) ==
	    KR_OK)
		rc = cer_backup_parse((char *)buf, len, path, b, err);
	free(buf);
	return rc;
}

/*
 * Parse the blob and the shares, check they belong together, and rebuild
 * the wrapping key with each holder's passphrase.  No token involved.
 */
static enum kr_err
unlock_backup(const struct bk_args *a, struct cer_backup **b,
    uint8_t **wkey, struct kr_error *err)
{
	struct cer_armor **sh = NULL;
	struct kr_secret **pass = NULL;
	size_t i;
	enum kr_err rc;

	*b = NULL;
	*wkey = NULL;
	if ((rc = load_blob(a->backup, b, err)) != KR_OK ||
	    (rc = load_shares(a->shares, a->nshares, &sh, err)) != KR_OK ||
	    (rc = cer_backup_check_shares(*b, sh, a->shares, a->nshares,
	    err)) != KR_OK)
		goto out;
	if ((pass = calloc(a->nshares, sizeof(*pass))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < a->nshares; i++)
		if ((rc = cli_passphrase(&a->pass, sh[i]->hdr.holder,
		    a->shares[i], 0, &pass[i], err)) != KR_OK)
			goto out;
	rc = cer_backup_unlock(*b, sh, a->shares, pass, a->nshares, wkey,
	    err);
out:
	if (pass != NULL)
		for (i = 0; i < a->nshares; i++)
			kr_secret_free(pass[i]);
	free(pass);
	free_shares(sh, a->nshares);
	if (rc != KR_OK) {
		cer_backup_free(*b);
		*b = NULL;
	}
	return rc;
}

/* A file name for a holder's share: unsafe characters become '_'. */
static void
holder_file(const char *prefix, const char *holder, const char *ext,
    char *out, size_t sz)
{
	size_t i, o;

	o = (size_t)snprintf(out, sz, "%s", prefix);
	for (i = 0; holder[i] != '\0' && o + 1 < sz; i++)
		out[o++] = (isalnum((unsigned char)holder[i]) ||
		    holder[i] == '-' || holder[i] == '.') &&
		    !(i == 0 && holder[i] == '.') ? holder[i] : '_';
	out[o] = '\0';
	snprintf(out + o, sz - o, "%s", ext);
}

/*
 * Check names as holders: each a valid armor holder name, and distinct
 * once turned into file names.  Prints a usage error and returns non-0.
 */
static int
check_holders(const struct cli_cmd *cmd, const char *opt, char **names,
    size_t n, unsigned k)
{
	struct cer_armor_hdr h;
	struct kr_error err;
	char fa[96], fb[96];
	size_t i, j;

	if (k == 0)
		return cli_usage(cmd, "--threshold must be a whole number from "
		    "2 to 255");
	if (k < 2 || k > n || n > 255)
		return cli_usage(cmd, "need 2 <= --threshold (%u) <= the "
		    "number of --%s (%zu) <= 255", k, opt, n);
	for (i = 0; i < n; i++) {
		cer_armor_hdr_init(&h, CER_KIND_SHARE, CER_KDF_COST_MODERATE);
		memset(h.set_id, 1, sizeof(h.set_id));
		memset(h.secret_id, 1, sizeof(h.secret_id));
		h.k = k;
		h.n = (unsigned)n;
		h.x = 1;
		snprintf(h.holder, sizeof(h.holder), "%s", names[i]);
		if (strlen(names[i]) > CER_HOLDER_MAX ||
		    cer_armor_hdr_check(&h, &err) != KR_OK)
			return cli_usage(cmd, "--%s: '%s' is not a usable name "
			    "(1-64 of A-Z a-z 0-9 space . ' _ @ + -)", opt,
			    names[i]);
		holder_file("", names[i], "", fa, sizeof(fa));
		for (j = 0; j < i; j++) {
			holder_file("", names[j], "", fb, sizeof(fb));
			if (strcmp(fa, fb) == 0)
				return cli_usage(cmd, "--%s: '%s' and '%s' would "
				    "share a file name", opt, names[i],
				    names[j]);
		}
	}
	return 0;
}

static unsigned
parse_threshold(const char *s)
{
	long long v = s ? kr_parse_duration(s, 's') : -1;

	/* A plain number: kr_parse_duration with unit seconds is exact. */
	return s != NULL && strspn(s, "0123456789") == strlen(s) && v > 0 &&
	    v <= 255 ? (unsigned)v : 0;
}

static const struct cli_opt create_opts[] = {
	{ "key", 1, 0, "URI", "the key to back up, e.g. "
	    "'pkcs11:token=lab-root;object=root-2026'" },
	OPT_PIN, CLI_OPT_OFFICER, OPT_MODULE,
	{ "holders", 1, 0, "A,B,...", "the custodians, one share each" },
	{ "threshold", 1, 0, "K", "how many shares restore the key" },
	CLI_OPT_PASSFILE,
	{ "ca", 1, 0, "FILE", "the key's root certificate (default: found "
	    "in the root state)" },
	{ "out", 1, 0, "DIR", "new directory for backup.blob and the shares" },
	OPT_KDF,
	OPT_END,
};
const struct cli_cmd backup_create_cmd = {
	"backup create", "Back up a token key, Shamir-split: a fresh "
	"256-bit wrapping key wraps the key\ninside the token "
	"(CKM_AES_KEY_WRAP_PAD), is split into one share per holder\n"
	"(any THRESHOLD of them restore it), each sealed with that holder's "
	"passphrase,\nand wiped.  Writes DIR/backup.blob and "
	"DIR/share-HOLDER.txt.",
	"--key URI (--pin-file FILE | --officer CRED...) --holders A,B,C "
	"--threshold K --out DIR",
	"  keyrite backup create --key 'pkcs11:token=lab-root;object=root-2026' "
	"\\\n      --pin-file user.pin --holders alice,bob,carol,dave,erin "
	"--threshold 3 --out backup-2026",
	create_opts,
};

int
backup_create_main(int argc, char **argv)
{
	struct bk_args a = { .cmd = &backup_create_cmd };
	struct cli_token t;
	struct cli_auth auth;
	struct kr_error err = { 0 };
	struct kr_secret **pass = NULL;
	char **holders = NULL, *blob = NULL, **shares = NULL, **files = NULL,
	    setid[2 * CER_SET_ID_LEN + 1];
	struct cer_backup *made = NULL;
	X509 *root = NULL;
	uint8_t fpr[32];
	size_t n = 0, i;
	unsigned k;
	int idx, st = 1, cost;

	memset(&t, 0, sizeof(t));
	if ((idx = cli_parse(a.cmd, argc, argv, bk_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if (idx != argc || a.key == NULL || a.holders == NULL ||
	    a.threshold == NULL || a.out == NULL) {
		st = cli_usage(a.cmd, idx != argc ? "unexpected argument" :
		    "--key, --holders, --threshold and --out are required");
		goto out;
	}
	k = parse_threshold(a.threshold);
	if ((cost = cli_kdf_cost(a.kdf)) < 0) {
		st = cli_usage(a.cmd, "--kdf-cost is moderate or interactive");
		goto out;
	}
	if ((st = cli_split_names(a.cmd, "holders", a.holders, &holders,
	    &n)) != 0 || (st = check_holders(a.cmd, "holders", holders, n,
	    k)) != 0)
		goto out;
	st = 1;
	auth = (struct cli_auth){ a.pin_file, a.module, a.officers,
	    a.nofficers, &a.pass };
	/* Outputs and auth are checked before any passphrase or PIN. */
	if (cli_outdir_check(a.out, &err) != KR_OK ||
	    cli_auth_check(&auth, &err) != KR_OK ||
	    (a.ca != NULL && ca_load_cert(a.ca, &root, &err) != KR_OK)) {
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	if ((pass = calloc(n, sizeof(*pass))) == NULL) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (cli_passphrase(&a.pass, holders[i], "a new backup share", 1,
		    &pass[i], &err) != KR_OK) {
			st = cli_report(a.cmd->name, &err);
			goto out;
		}
	if (cli_token_open(a.key, &auth, 1, &t, &err) != KR_OK ||
	    (root == NULL && find_root(NULL, t.signer.pub, NULL, &root,
	    &err) != KR_OK)) {
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(root), t.signer.pub) != 1) {
		kr_fail(&err, KR_E_USAGE, "key '%s' is not the key certified "
		    "in %s", hsm_key_label(t.key), a.ca ? a.ca : "the root");
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	ca_cert_sha256(root, fpr);
	if ((files = calloc(n, sizeof(*files))) == NULL) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((files[i] = malloc(128)) != NULL)
			holder_file("share-", holders[i], ".txt", files[i], 128);
	if (cer_backup_create(t.key, fpr, (const char *const *)holders, n, k,
	    (enum cer_kdf_cost)cost, kr_now(), pass, &blob, &shares,
	    &err) != KR_OK ||
	    cer_backup_parse(blob, strlen(blob), "backup.blob", &made,
	    &err) != KR_OK ||
	    cli_write_set(a.out, "backup.blob", blob, files, shares, n,
	    &err) != KR_OK) {
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	kr_hex(made->set_id, sizeof(made->set_id), setid);
	printf("backup of key '%s' (%s) in %s/\n  set id:   %s\n"
	    "  restore:  any %u of the %zu shares\n  shares:  ",
	    hsm_key_label(t.key), hsm_keytype_name(hsm_key_type(t.key)), a.out,
	    setid, k, n);
	for (i = 0; i < n; i++)
		printf(" %s", files[i]);
	printf("\nGive each holder their share (print it: keyrite backup print "
	    "FILE --html card.html)\nand keep backup.blob with the root's "
	    "records; check it any time with\n  keyrite backup verify --backup "
	    "%s/backup.blob --share ... (%u shares)\n", a.out, k);
	st = 0;
out:
	if (pass != NULL)
		for (i = 0; i < n; i++)
			kr_secret_free(pass[i]);
	free(pass);
	cli_free_names(files, files != NULL ? n : 0);
	cer_backup_free(made);
	if (shares != NULL)
		for (i = 0; i < n; i++)
			free(shares[i]);
	free(shares);
	free(blob);
	X509_free(root);
	cli_free_names(holders, n);
	cli_token_close(&t);
	bk_free(&a);
	return st;
}

static const struct cli_opt verify_opts[] = {
	{ "backup", 1, 0, "FILE", "the backup.blob" },
	OPT_SHARE, CLI_OPT_PASSFILE,
	OPT_END,
};
const struct cli_cmd backup_verify_cmd = {
	"backup verify", "Check, without any HSM, that the shares given "
	"belong to the backup and rebuild\nits wrapping key, and that the "
	"blob is intact (its MAC, keyed with that key).",
	"--backup FILE --share FILE... [--passphrase-file NAME=FILE]...",
	"  keyrite backup verify --backup backup-2026/backup.blob \\\n"
	"      --share share-alice.txt --share share-bob.txt --share "
	"share-carol.txt",
	verify_opts,
};

int
backup_verify_main(int argc, char **argv)
{
	struct bk_args a = { .cmd = &backup_verify_cmd };
	struct kr_error err = { 0 };
	struct cer_backup *b = NULL;
	uint8_t *wkey = NULL;
	char fpr[65];
	int idx, st = 1;

	if ((idx = cli_parse(a.cmd, argc, argv, bk_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if (idx != argc || a.backup == NULL || a.nshares == 0) {
		st = cli_usage(a.cmd, "--backup and --share are required");
		goto out;
	}
	if (unlock_backup(&a, &b, &wkey, &err) != KR_OK) {
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	kr_hex(b->root_fpr, 32, fpr);
	printf("backup OK: %zu share%s rebuild the wrapping key of %s, and "
	    "the blob is intact\n  key:      '%s' (%s)\n  root SHA-256: %s\n"
	    "  created:  %s\n  restore needs %u of %u shares\n", a.nshares,
	    a.nshares == 1 ? "" : "s", a.backup, b->key_label, b->key_type,
	    fpr, b->created, b->k, b->n);
	st = 0;
out:
	sodium_free(wkey);
	cer_backup_free(b);
	bk_free(&a);
	return st;
}

static const struct cli_opt restore_opts[] = {
	{ "backup", 1, 0, "FILE", "the backup.blob" },
	OPT_SHARE, CLI_OPT_PASSFILE,
	{ "token", 1, 0, "URI", "the token to restore into, e.g. "
	    "'pkcs11:token=lab-root-2'" },
	OPT_PIN, CLI_OPT_OFFICER, OPT_MODULE,
	{ "label", 1, 0, "LABEL", "label of the restored key (default: the "
	    "original)" },
	{ "ca", 1, 0, "FILE", "the root certificate (default: found in the "
	    "root state by its fingerprint)" },
	OPT_END,
};
const struct cli_cmd backup_restore_cmd = {
	"backup restore", "Rebuild the wrapping key from THRESHOLD shares, "
	"check it against the blob,\nunwrap the key into a token as "
	"SENSITIVE, and prove it: its public key is the\nroot certificate's "
	"and it signs.  Nothing is written to the token unless all\nchecks "
	"pass.",
	"--backup FILE --share FILE... --token URI (--pin-file FILE | "
	"--officer CRED...)",
	"  keyrite backup restore --backup backup-2026/backup.blob \\\n"
	"      --share share-alice.txt --share share-bob.txt --share "
	"share-carol.txt \\\n      --token 'pkcs11:token=lab-root-2' "
	"--pin-file user2.pin --ca root.pem",
	restore_opts,
};

int
backup_restore_main(int argc, char **argv)
{
	struct bk_args a = { .cmd = &backup_restore_cmd };
	struct cli_token t;
	struct cli_auth auth;
	struct kr_error err = { 0 };
	struct cer_backup *b = NULL;
	struct hsm_key *k = NULL;
	uint8_t *wkey = NULL, h[32];
	X509 *root = NULL;
	int idx, st = 1;

	memset(&t, 0, sizeof(t));
	if ((idx = cli_parse(a.cmd, argc, argv, bk_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if (idx != argc || a.backup == NULL || a.nshares == 0 ||
	    a.token == NULL) {
		st = cli_usage(a.cmd, "--backup, --share and --token are "
		    "required");
		goto out;
	}
	auth = (struct cli_auth){ a.pin_file, a.module, a.officers,
	    a.nofficers, &a.pass };
	if (cli_auth_check(&auth, &err) != KR_OK ||
	    unlock_backup(&a, &b, &wkey, &err) != KR_OK ||
	    find_root(a.ca, NULL, b->root_fpr, &root, &err) != KR_OK) {
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	ca_cert_sha256(root, h);
	if (memcmp(h, b->root_fpr, 32) != 0) {
		kr_fail(&err, KR_E_VERIFY, "%s is not the root certificate this "
		    "backup was made for", a.ca);
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	if (cli_token_open(a.token, &auth, 0, &t, &err) != KR_OK ||
	    cer_backup_restore(t.sess, b, wkey, a.label,
	    X509_get0_pubkey(root), &k, &err) != KR_OK) {
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	printf("restored key '%s' (%s) into token '%s' (serial %s)\n"
	    "  proved: its public key is the root's, and it signs\n"
	    "  uri: pkcs11:token=%s;object=%s\n", hsm_key_label(k),
	    hsm_keytype_name(hsm_key_type(k)), hsm_session_label(t.sess),
	    hsm_session_serial(t.sess), hsm_session_label(t.sess),
	    hsm_key_label(k));
	st = 0;
out:
	sodium_free(wkey);
	hsm_key_free(k);
	X509_free(root);
	cer_backup_free(b);
	cli_token_close(&t);
	bk_free(&a);
	return st;
}

static const struct cli_opt quorum_opts[] = {
	{ "token", 1, 0, "URI", "the token, e.g. 'pkcs11:token=lab-root'" },
	{ "so-pin-file", 1, 0, "FILE", "read the security officer PIN from "
	    "FILE (default: prompt)" },
	OPT_MODULE,
	{ "officers", 1, 0, "A,B,...", "the officers, one credential each" },
	{ "threshold", 1, 0, "K", "how many officers activate the token" },
	CLI_OPT_PASSFILE,
	{ "out", 1, 0, "DIR", "new directory for the credentials and "
	    "officers.json" },
	OPT_KDF,
	OPT_END,
};
static const struct cli_cmd quorum_init_cmd = {
	"quorum init", "Put a token under two-person control: set a random "
	"40-character user PIN that\nnobody sees, split it among the "
	"officers (any THRESHOLD of them activate the\ntoken), and give each "
	"officer a credential file holding their share and an\nEd25519 "
	"signing key for ceremony transcripts, sealed with their passphrase."
	"\nAfter this, commands take --officer CRED (k times) instead of "
	"--pin-file;\nthe old user PIN no longer works.",
	"--token URI --officers A,B,C --threshold K --out DIR "
	"[--so-pin-file FILE]",
	"  keyrite quorum init --token 'pkcs11:token=lab-root' --so-pin-file "
	"so.pin \\\n      --officers ann,ben,cat --threshold 2 --out "
	"officers\n  keyrite root crl --key 'pkcs11:token=lab-root;"
	"object=root-2026' \\\n      --officer officers/ann.cred --officer "
	"officers/ben.cred --ca root.pem --out root.crl",
	quorum_opts,
};

static int
quorum_init_main(int argc, char **argv)
{
	struct bk_args a = { .cmd = &quorum_init_cmd };
	struct kr_error err = { 0 };
	struct kr_secret **pass = NULL, *so = NULL, *pin = NULL;
	struct hsm_module *m = NULL;
	struct hsm_session *s = NULL;
	struct hsm_uri u;
	char **names = NULL, **creds = NULL, *pub = NULL, **files = NULL;
	size_t n = 0, i;
	unsigned k;
	int idx, st = 1, cost, pin_set = 0;

	memset(&u, 0, sizeof(u));
	if ((idx = cli_parse(a.cmd, argc, argv, bk_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if (idx != argc || a.token == NULL || a.holders == NULL ||
	    a.threshold == NULL || a.out == NULL) {
		st = cli_usage(a.cmd, "--token, --officers, --threshold and "
		    "--out are required");
		goto out;
	}
	k = parse_threshold(a.threshold);
	if ((cost = cli_kdf_cost(a.kdf)) < 0) {
		st = cli_usage(a.cmd, "--kdf-cost is moderate or interactive");
		goto out;
	}
	if ((st = cli_split_names(a.cmd, "officers", a.holders, &names,
	    &n)) != 0 || (st = check_holders(a.cmd, "officers", names, n,
	    k)) != 0)
		goto out;
	st = 1;
	if (cli_outdir_check(a.out, &err) != KR_OK) {
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	if ((pass = calloc(n, sizeof(*pass))) == NULL) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (cli_passphrase(&a.pass, names[i], "a new officer "
		    "credential", 1, &pass[i], &err) != KR_OK) {
			st = cli_report(a.cmd->name, &err);
			goto out;
		}
	if (hsm_uri_parse(a.token, &u, &err) != KR_OK ||
	    cli_read_pin(a.so_pin_file, a.so_pin_file ? "SO PIN" :
	    "security officer PIN", 0, &so, &err) != KR_OK ||
	    hsm_module_load(a.module ? a.module : u.module_path, &m,
	    &err) != KR_OK ||
	    hsm_open(m, &u, &s, &err) != KR_OK ||
	    cer_quorum_make(s, (const char *const *)names, n, k,
	    (enum cer_kdf_cost)cost, pass, &creds, &pub, &pin, &err) != KR_OK) {
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	if ((files = calloc(n, sizeof(*files))) == NULL) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((files[i] = malloc(128)) != NULL)
			holder_file("", names[i], ".cred", files[i], 128);
	/*
	 * The credentials are in place (fsynced, renamed) before the
	 * token's PIN changes: a failure up to here leaves the old PIN.
	 */
	if (cli_write_set(a.out, "officers.json", pub, files, creds, n,
	    &err) != KR_OK) {
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	if (cer_quorum_apply(s, so->buf, so->len, pin, &pin_set, &err) !=
	    KR_OK) {
		if (pin_set)
			kr_error_prefix(&err, "the token's user PIN WAS changed "
			    "and the credentials in %s hold it; but", a.out);
		else {
			/* Credentials for a PIN the token never took. */
			cli_remove_dir(a.out);
			kr_error_prefix(&err, "the token's user PIN was not "
			    "changed and %s was removed", a.out);
		}
		st = cli_report(a.cmd->name, &err);
		goto out;
	}
	printf("token '%s' (serial %s) now needs %u of %zu officers\n"
	    "  the user PIN was replaced by a random one nobody has seen\n"
	    "  credentials in %s/:", hsm_session_label(s),
	    hsm_session_serial(s), k, n, a.out);
	for (i = 0; i < n; i++)
		printf(" %s", files[i]);
	printf("\n  public record: %s/officers.json\n", a.out);
	st = 0;
out:
	if (pass != NULL)
		for (i = 0; i < n; i++)
			kr_secret_free(pass[i]);
	free(pass);
	cli_free_names(files, files != NULL ? n : 0);
	kr_secret_free(so);
	kr_secret_free(pin);
	if (creds != NULL)
		for (i = 0; i < n; i++)
			free(creds[i]);
	free(creds);
	free(pub);
	cli_free_names(names, n);
	hsm_close(s);
	hsm_module_free(m);
	hsm_uri_free(&u);
	bk_free(&a);
	return st;
}

int
cmd_quorum(int argc, char **argv)
{
	static const struct cli_sub sub[] = {
		{ "init", quorum_init_main, &quorum_init_cmd },
	};

	return cli_dispatch("quorum", sub, sizeof(sub) / sizeof(sub[0]), argc,
	    argv);
}
