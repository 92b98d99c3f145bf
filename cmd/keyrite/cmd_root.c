/*
 * cmd_root.c: keyrite root init | sign | crl | cross-sign, the offline
 * root's uses.  Each checks its outputs and inputs, and runs the linter
 * over what it will sign, before it asks for a PIN; the key signs last.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "cli.h"
#include "ca/rootstate.h"
#include "ca/rotate.h"
#include "policy/profile.h"

struct root_args {
	const char	*key;
	const char	*pin_file;
	const char	*module;
	const char	*subject;
	const char	*days;
	const char	*profile;
	const char	*ca;
	const char	*csr;
	const char	*cert;
	const char	*constraints_from;
	const char	*out;
	const char	*home;
	const char	*next_update;
	const char	**dns;
	size_t		 ndns;
	const char	**ip;
	size_t		 nip;
	const char	**revoke;	/* certificate files */
	int		*reason;	/* per revoke, -1 = none */
	size_t		 nrevoke;
	const char	**officers;
	size_t		 nofficers;
	struct cli_passmap pass;
	int		 force;
	int		 dry_run;
	const struct cli_cmd *cmd;
};

static int
root_opt(void *ctx, const char *name, const char *arg)
{
	struct root_args *a = ctx;
	int r, *nr;

	if (strcmp(name, "key") == 0)
		a->key = arg;
	else if (strcmp(name, "pin-file") == 0)
		a->pin_file = arg;
	else if (strcmp(name, "module") == 0)
		a->module = arg;
	else if (strcmp(name, "subject") == 0)
		a->subject = arg;
	else if (strcmp(name, "days") == 0)
		a->days = arg;
	else if (strcmp(name, "profile") == 0)
		a->profile = arg;
	else if (strcmp(name, "ca") == 0)
		a->ca = arg;
	else if (strcmp(name, "csr") == 0)
		a->csr = arg;
	else if (strcmp(name, "cert") == 0)
		a->cert = arg;
	else if (strcmp(name, "constraints-from") == 0)
		a->constraints_from = arg;
	else if (strcmp(name, "out") == 0)
		a->out = arg;
	else if (strcmp(name, "home") == 0)
		a->home = arg;
	else if (strcmp(name, "next-update") == 0)
		a->next_update = arg;
	else if (strcmp(name, "force") == 0)
		a->force = 1;
	else if (strcmp(name, "dry-run") == 0)
		a->dry_run = 1;
	else if (strcmp(name, "officer") == 0)
		return cli_push(&a->officers, &a->nofficers, arg);
	else if (strcmp(name, "passphrase-file") == 0)
		return cli_passmap_add(a->cmd, &a->pass, arg);
	else if (strcmp(name, "permitted-dns") == 0)
		return cli_push(&a->dns, &a->ndns, arg);
	else if (strcmp(name, "permitted-ip") == 0)
		return cli_push(&a->ip, &a->nip, arg);
	else if (strcmp(name, "revoke") == 0) {
		if ((nr = realloc(a->reason, (a->nrevoke + 1) *
		    sizeof(*nr))) == NULL)
			return -1;
		a->reason = nr;
		a->reason[a->nrevoke] = -1;
		return cli_push(&a->revoke, &a->nrevoke, arg);
	} else if (strcmp(name, "reason") == 0) {
		if (a->nrevoke == 0)
			return cli_usage(a->cmd, "--reason must follow the "
			    "--revoke it applies to");
		if (a->reason[a->nrevoke - 1] != -1)
			return cli_usage(a->cmd, "two --reason options for "
			    "--revoke %s", a->revoke[a->nrevoke - 1]);
		if ((r = ca_reason_from_name(arg)) < 0)
			return cli_usage(a->cmd, "--reason '%s' is not an RFC "
			    "5280 reason (keyCompromise, cACompromise, "
			    "affiliationChanged, superseded, "
			    "cessationOfOperation, ...)", arg);
		a->reason[a->nrevoke - 1] = r;
	}
	return 0;
}

static void
root_args_free(struct root_args *a)
{
	free(a->dns);
	free(a->ip);
	free(a->revoke);
	free(a->reason);
	free(a->officers);
	cli_passmap_free(&a->pass);
}

#define OPT_KEY { "key", 1, 0, "URI", "the root key, e.g. " \
	"'pkcs11:token=lab-root;object=root-2026'" }
#define OPT_PIN { "pin-file", 1, 0, "FILE", "read the user PIN from FILE " \
	"(default: prompt without echo)" }, CLI_OPT_OFFICER, CLI_OPT_PASSFILE
#define OPT_MODULE { "module", 1, 0, "PATH", "PKCS#11 module (default: " \
	"$KEYRITE_PKCS11_MODULE, else SoftHSM2)" }
#define OPT_OUT { "out", 1, 0, "FILE", "where to write the result (PEM)" }
#define OPT_FORCE { "force", 0, 0, NULL, "replace --out if it exists" }
#define OPT_HOME { "home", 1, 0, "DIR", "root state directory (default " \
	"$KEYRITE_HOME or ~/.local/share/keyrite)" }
#define OPT_CA { "ca", 1, 0, "FILE", "the root certificate (PEM)" }
#define OPT_NC_DNS { "permitted-dns", 1, 1, "NAME", "permit this DNS " \
	"subtree (name constraints)" }
#define OPT_NC_IP { "permitted-ip", 1, 1, "CIDR", "permit this address " \
	"range, e.g. 10.0.0.0/8" }
#define OPT_DRY { "dry-run", 0, 0, NULL, "build and lint with a throwaway " \
	"key; ask no PIN, sign and write nothing" }
#define OPT_END { NULL, 0, 0, NULL, NULL }

/*
 * Validity in seconds from --days, or the profile's default.  Returns
 * -1 after printing a usage error.
 */
static long long
validity_of(const struct root_args *a, const struct pol_profile *p)
{
	long long v;

	if (a->days == NULL)
		return p->default_validity;
	v = kr_parse_duration(a->days, 'd');
	if (v <= 0) {
		cli_usage(a->cmd, "--days '%s' is not a positive number of "
		    "days", a->days);
		return -1;
	}
	return v;
}

/* Load the profile and check it is of the kind this command signs. */
static enum kr_err
load_profile(const char *name, enum pol_kind kind, struct pol_profile *p,
    struct kr_error *err)
{
	enum kr_err rc;

	if ((rc = pol_profile_find(name, p, err)) != KR_OK)
		return rc;
	if (p->kind != kind)
		return kr_fail(err, KR_E_USAGE, "profile '%s' is not a%s "
		    "profile", p->name, kind == POL_KIND_ROOT ? " root" :
		    kind == POL_KIND_INTERMEDIATE ? "n intermediate" : " leaf");
	return KR_OK;
}

/* The token key must be the one certified in ca. */
static enum kr_err
key_matches_ca(struct cli_token *t, X509 *ca, const char *ca_path,
    struct kr_error *err)
{
	if (EVP_PKEY_eq(t->signer.pub, X509_get0_pubkey(ca)) != 1)
		return kr_fail(err, KR_E_USAGE, "key '%s' is not the key "
		    "certified in %s; check --key and --ca",
		    hsm_key_label(t->key), ca_path);
	return KR_OK;
}

static void
print_cert_summary(const char *what, X509 *c, const char *path)
{
	char fpr[KR_FPR_LEN], *subj;

	ca_cert_fingerprint(c, fpr);
	subj = X509_NAME_oneline(X509_get_subject_name(c), NULL, 0);
	printf("%s: %s\n  subject:  %s\n  SHA-256:  %s\n", what, path,
	    subj ? subj : "?", fpr);
	OPENSSL_free(subj);
}

static const struct cli_opt init_opts[] = {
	OPT_KEY, OPT_PIN, OPT_MODULE,
	{ "subject", 1, 0, "DN", "subject, e.g. 'CN=Example Lab Root,"
	    "O=Example'" },
	{ "days", 1, 0, "N", "validity in days (default: the profile's)" },
	{ "profile", 1, 0, "NAME", "profile (default: root)" },
	OPT_NC_DNS, OPT_NC_IP,
	{ "constraints-from", 1, 0, "ROOT.pem", "copy the name constraints "
	    "of this root exactly (a rotation's new root)" },
	OPT_OUT, OPT_FORCE, OPT_HOME,
	OPT_END,
};
static const struct cli_cmd init_cmd = {
	"root init", "Make the self-signed root certificate for a key in "
	"the token.  Give it name\nconstraints (--permitted-dns, "
	"--permitted-ip) so that trusting it cannot vouch\nfor names "
	"outside your lab; a root that replaces another copies the old\n"
	"one's exactly with --constraints-from.",
	"--key URI --subject DN --out FILE [--days N] [--permitted-dns NAME]"
	"... [--permitted-ip CIDR]... [--constraints-from ROOT.pem] "
	"[--pin-file FILE]",
	"  keyrite root init --key 'pkcs11:token=lab-root;object=root-2026' "
	"\\\n      --pin-file user.pin --subject 'CN=Example Lab Root,"
	"O=Example' --days 3650 \\\n      --permitted-dns lab.internal "
	"--permitted-ip 10.0.0.0/8 --out root.pem\n"
	"  keyrite root init --key 'pkcs11:token=lab-root;object=root-2036' "
	"\\\n      --pin-file user.pin --subject 'CN=Example Lab Root 2036,"
	"O=Example' --days 5000 \\\n      --constraints-from root.pem --out "
	"root-2036.pem",
	init_opts,
};

static int
root_init_main(int argc, char **argv)
{
	struct root_args a = { .cmd = &init_cmd };
	struct pol_profile prof;
	struct cli_token t;
	struct cli_auth auth;
	struct kr_error err = { 0 };
	struct ca_names names;
	struct ca_rootstate *rs = NULL;
	X509 *tbs = NULL, *cert = NULL, *model = NULL;
	long long validity;
	time_t now = kr_now();
	int idx, st = 1;

	memset(&t, 0, sizeof(t));
	if ((idx = cli_parse(&init_cmd, argc, argv, root_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if (idx != argc) {
		st = cli_usage(&init_cmd, "unexpected argument '%s'", argv[idx]);
		goto out;
	}
	if (a.key == NULL || a.subject == NULL || a.out == NULL) {
		st = cli_usage(&init_cmd, "--key, --subject and --out are "
		    "required");
		goto out;
	}
	if (a.constraints_from != NULL && (a.ndns > 0 || a.nip > 0)) {
		st = cli_usage(&init_cmd, "--constraints-from copies the name "
		    "constraints; give no --permitted-dns or --permitted-ip "
		    "with it");
		goto out;
	}
	if (kr_out_check(a.out, a.force, &err) != KR_OK ||
	    load_profile(a.profile ? a.profile : "root", POL_KIND_ROOT, &prof,
	    &err) != KR_OK ||
	    (a.constraints_from != NULL && ca_load_cert(a.constraints_from,
	    &model, &err) != KR_OK)) {
		st = cli_report(init_cmd.name, &err);
		goto out;
	}
	if ((validity = validity_of(&a, &prof)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	names = (struct ca_names){ a.dns, a.ndns, a.ip, a.nip };
	auth = (struct cli_auth){ a.pin_file, a.module, a.officers,
	    a.nofficers, &a.pass };
	/*
	 * Subject, name constraints and validity are checked on a TBS for
	 * a throwaway key before anyone types a PIN or a passphrase.
	 */
	{
		EVP_PKEY *tk = EVP_EC_gen("P-256");
		X509 *pre = NULL;
		enum kr_err prc;

		prc = tk == NULL ? kr_fail_ossl(&err, KR_E_CRYPTO, "key") :
		    model != NULL ? ca_root_build_like(a.subject, tk, &prof,
		    validity, model, a.constraints_from, now, &pre, &err) :
		    ca_root_build(a.subject, tk, &prof, validity, &names, now,
		    &pre, &err);
		X509_free(pre);
		EVP_PKEY_free(tk);
		if (prc != KR_OK) {
			st = cli_report(init_cmd.name, &err);
			goto out;
		}
	}
	if (cli_token_open(a.key, &auth, 1, &t, &err) != KR_OK ||
	    (model != NULL ? ca_root_build_like(a.subject, t.signer.pub, &prof,
	    validity, model, a.constraints_from, now, &tbs, &err) :
	    ca_root_build(a.subject, t.signer.pub, &prof, validity, &names,
	    now, &tbs, &err)) != KR_OK ||
	    ca_sign_cert(tbs, &t.signer, &prof, NULL, now, &cert,
	    &err) != KR_OK ||
	    ca_rootstate_open(a.home ? a.home : ca_rootstate_default_home(),
	    cert, &rs, &err) != KR_OK ||
	    ca_write_cert(a.out, cert, a.force, &err) != KR_OK) {
		st = cli_report(init_cmd.name, &err);
		goto out;
	}
	print_cert_summary("root certificate", cert, a.out);
	if (model != NULL) {
		char nc[512];

		ca_name_constraints_text(cert, nc, sizeof(nc));
		printf("  name constraints (as %s): %s\n", a.constraints_from,
		    nc);
	}
	printf("  state:    %s\n", ca_rootstate_dir(rs));
	st = 0;
out:
	ca_rootstate_close(rs);
	X509_free(model);
	X509_free(tbs);
	X509_free(cert);
	cli_token_close(&t);
	root_args_free(&a);
	return st;
}

static const struct cli_opt sign_opts[] = {
	OPT_KEY, OPT_PIN, OPT_MODULE, OPT_CA,
	{ "csr", 1, 0, "FILE", "the intermediate's certificate signing "
	    "request (PEM or DER)" },
	{ "profile", 1, 0, "NAME", "profile (default: intermediate)" },
	{ "days", 1, 0, "N", "validity in days (default: the profile's)" },
	{ "permitted-dns", 1, 1, "NAME", "narrow the inherited name "
	    "constraints to this DNS subtree" },
	{ "permitted-ip", 1, 1, "CIDR", "narrow the inherited name "
	    "constraints to this range" },
	OPT_OUT, OPT_FORCE, OPT_HOME, OPT_DRY,
	OPT_END,
};
static const struct cli_cmd sign_cmd = {
	"root sign", "Sign an intermediate CA certificate for a CSR with "
	"the root key.  The\nintermediate inherits the root's name "
	"constraints (or narrower ones) and gets\npathLen 0.  The request "
	"is built and linted before the PIN is asked for.",
	"--key URI --ca ROOT.pem --csr FILE --out FILE [--profile NAME] "
	"[--days N] [--dry-run]",
	"  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	"-nodes \\\n      -keyout int.key -subj '/CN=Example Lab Issuing CA "
	"1' -out int.csr\n"
	"  keyrite root sign --key 'pkcs11:token=lab-root;object=root-2026' "
	"\\\n      --pin-file user.pin --ca root.pem --csr int.csr --profile "
	"intermediate \\\n      --days 1095 --out int.pem",
	sign_opts,
};

static int
root_sign_main(int argc, char **argv)
{
	struct root_args a = { .cmd = &sign_cmd };
	struct pol_profile prof;
	struct cli_token t;
	struct cli_auth auth;
	struct kr_error err = { 0 };
	struct ca_names names;
	struct ca_rootstate *rs = NULL;
	X509 *ca = NULL, *tbs = NULL, *cert = NULL;
	X509_REQ *csr = NULL;
	long long validity;
	time_t now = kr_now();
	int idx, st = 1;

	memset(&t, 0, sizeof(t));
	if ((idx = cli_parse(&sign_cmd, argc, argv, root_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if (idx != argc) {
		st = cli_usage(&sign_cmd, "unexpected argument '%s'", argv[idx]);
		goto out;
	}
	if (a.key == NULL || a.ca == NULL || a.csr == NULL ||
	    (a.out == NULL && !a.dry_run)) {
		st = cli_usage(&sign_cmd, "--key, --ca, --csr and --out are "
		    "required");
		goto out;
	}
	if ((!a.dry_run && kr_out_check(a.out, a.force, &err) != KR_OK) ||
	    load_profile(a.profile ? a.profile : "intermediate",
	    POL_KIND_INTERMEDIATE, &prof, &err) != KR_OK ||
	    ca_load_cert(a.ca, &ca, &err) != KR_OK ||
	    ca_load_csr(a.csr, &csr, &err) != KR_OK) {
		st = cli_report(sign_cmd.name, &err);
		goto out;
	}
	if ((validity = validity_of(&a, &prof)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	names = (struct ca_names){ a.dns, a.ndns, a.ip, a.nip };
	/* Everything the linter can refuse is refused before the PIN. */
	if (ca_intermediate_build(csr, ca, &prof, validity, &names, now, &tbs,
	    &err) != KR_OK ||
	    ca_precheck_cert(tbs, X509_get0_pubkey(ca), &prof, ca, now,
	    &err) != KR_OK) {
		kr_error_prefix(&err, "%s", a.csr);
		st = cli_report(sign_cmd.name, &err);
		goto out;
	}
	if (a.dry_run) {
		printf("dry run: %s passes the '%s' profile and the linter; "
		    "nothing was signed\n", a.csr, prof.name);
		st = 0;
		goto out;
	}
	auth = (struct cli_auth){ a.pin_file, a.module, a.officers,
	    a.nofficers, &a.pass };
	if (ca_rootstate_open(a.home ? a.home : ca_rootstate_default_home(),
	    ca, &rs, &err) != KR_OK ||
	    cli_token_open(a.key, &auth, 1, &t, &err) != KR_OK ||
	    key_matches_ca(&t, ca, a.ca, &err) != KR_OK ||
	    ca_sign_cert(tbs, &t.signer, &prof, ca, now, &cert, &err) != KR_OK ||
	    ca_rootstate_record_issued(rs, cert, &err) != KR_OK ||
	    ca_write_cert(a.out, cert, a.force, &err) != KR_OK) {
		st = cli_report(sign_cmd.name, &err);
		goto out;
	}
	print_cert_summary("intermediate certificate", cert, a.out);
	st = 0;
out:
	ca_rootstate_close(rs);
	X509_free(ca);
	X509_free(tbs);
	X509_free(cert);
	X509_REQ_free(csr);
	cli_token_close(&t);
	root_args_free(&a);
	return st;
}

static const struct cli_opt crl_opts[] = {
	OPT_KEY, OPT_PIN, OPT_MODULE, OPT_CA,
	{ "revoke", 1, 1, "FILE", "revoke this certificate (issued by the "
	    "root)" },
	{ "reason", 1, 1, "REASON", "reason for the --revoke before it, "
	    "e.g. keyCompromise" },
	{ "next-update", 1, 0, "DURATION", "when the next CRL is due "
	    "(default 180d; 24h, 30d, ...)" },
	OPT_OUT, OPT_FORCE, OPT_HOME,
	OPT_END,
};
static const struct cli_cmd crl_cmd = {
	"root crl", "Publish the root's CRL: every certificate revoked so "
	"far, and those named by\n--revoke now.  Revocations and the CRL "
	"number live in the root state directory;\nthe number is reserved "
	"on disk before signing, so it rises on every run, also\nacross a "
	"crash.",
	"--key URI --ca ROOT.pem --out FILE [--revoke CERT [--reason R]]... "
	"[--next-update DURATION]",
	"  keyrite root crl --key 'pkcs11:token=lab-root;object=root-2026' "
	"\\\n      --pin-file user.pin --ca root.pem --revoke int.pem "
	"--reason keyCompromise \\\n      --out root.crl",
	crl_opts,
};

/* Each certificate to revoke must have been issued by ca. */
static enum kr_err
load_revocations(const struct root_args *a, X509 *ca, X509 ***certs,
    struct kr_error *err)
{
	size_t i;
	enum kr_err rc;

	if ((*certs = calloc(a->nrevoke + 1, sizeof(**certs))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; i < a->nrevoke; i++) {
		if ((rc = ca_load_cert(a->revoke[i], &(*certs)[i], err)) !=
		    KR_OK)
			return rc;
		if (!ca_issued_by((*certs)[i], ca))
			return kr_fail(err, KR_E_USAGE, "--revoke %s: not "
			    "issued by %s", a->revoke[i], a->ca);
	}
	return KR_OK;
}

/* Test hook: die as a crash would, just after the number is reserved. */
static void
crash_test_hook(void)
{
	const char *fault = getenv("KEYRITE_FAULT");

	if (fault != NULL && strcmp(fault, "after-crlnumber") == 0)
		_exit(75);
}

static int
root_crl_main(int argc, char **argv)
{
	struct root_args a = { .cmd = &crl_cmd };
	struct cli_token t;
	struct cli_auth auth;
	struct kr_error err = { 0 };
	struct ca_rootstate *rs = NULL;
	X509 *ca = NULL, **certs = NULL;
	X509_CRL *crl = NULL;
	ASN1_INTEGER *num = NULL;
	long long next;
	size_t nrev = 0, i;
	time_t now = kr_now();
	int idx, st = 1;

	memset(&t, 0, sizeof(t));
	if ((idx = cli_parse(&crl_cmd, argc, argv, root_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if (idx != argc) {
		st = cli_usage(&crl_cmd, "unexpected argument '%s'", argv[idx]);
		goto out;
	}
	if (a.key == NULL || a.ca == NULL || a.out == NULL) {
		st = cli_usage(&crl_cmd, "--key, --ca and --out are required");
		goto out;
	}
	next = kr_parse_duration(a.next_update ? a.next_update : "180d", 'd');
	if (next <= 0) {
		st = cli_usage(&crl_cmd, "--next-update '%s' is not a duration "
		    "like 30d or 24h", a.next_update);
		goto out;
	}
	if (kr_out_check(a.out, a.force, &err) != KR_OK ||
	    ca_load_cert(a.ca, &ca, &err) != KR_OK ||
	    load_revocations(&a, ca, &certs, &err) != KR_OK ||
	    ca_rootstate_open(a.home ? a.home : ca_rootstate_default_home(),
	    ca, &rs, &err) != KR_OK) {
		st = cli_report(crl_cmd.name, &err);
		goto out;
	}
	auth = (struct cli_auth){ a.pin_file, a.module, a.officers,
	    a.nofficers, &a.pass };
	if (cli_token_open(a.key, &auth, 1, &t, &err) != KR_OK ||
	    key_matches_ca(&t, ca, a.ca, &err) != KR_OK) {
		st = cli_report(crl_cmd.name, &err);
		goto out;
	}
	if (ca_rootstate_crl(rs, ca, &t.signer, certs, a.reason, a.nrevoke,
	    next, now, crash_test_hook, &crl, &num, &nrev, &err) != KR_OK ||
	    ca_write_crl(a.out, crl, a.force, &err) != KR_OK) {
		st = cli_report(crl_cmd.name, &err);
		goto out;
	}
	{
		char *n = i2s_ASN1_INTEGER(NULL, num);

		printf("root CRL: %s\n  CRL number: %s\n  revoked:    %zu\n"
		    "  next update in %lld days\n", a.out, n ? n : "?", nrev,
		    next / 86400);
		OPENSSL_free(n);
	}
	st = 0;
out:
	if (certs != NULL)
		for (i = 0; i < a.nrevoke; i++)
			X509_free(certs[i]);
	free(certs);
	ASN1_INTEGER_free(num);
	ca_rootstate_close(rs);
	X509_free(ca);
	X509_CRL_free(crl);
	cli_token_close(&t);
	root_args_free(&a);
	return st;
}

static const struct cli_opt cross_opts[] = {
	OPT_KEY, OPT_PIN, OPT_MODULE,
	{ "ca", 1, 0, "FILE", "the issuing (old) root's certificate, whose "
	    "key is --key" },
	{ "cert", 1, 0, "FILE", "the root to certify (the new root's "
	    "self-signed certificate)" },
	{ "days", 1, 0, "N", "validity in days (default: until the first of "
	    "the two roots expires)" },
	{ "profile", 1, 0, "NAME", "profile (default: cross)" },
	OPT_OUT, OPT_FORCE, OPT_HOME, OPT_DRY,
	OPT_END,
};
static const struct cli_cmd cross_cmd = {
	"root cross-sign", "Certify another root's name and key with this "
	"root's key: a cross-certificate,\nso that chains ending at the new "
	"root also reach the old one while endpoints\nstill trust only the "
	"old one.  Subject, key, subjectKeyIdentifier and name\nconstraints "
	"are the new root's (the constraints must lie inside the old "
	"root's);\nthe validity ends no later than either root.  Built and "
	"linted before the PIN\nis asked for.  See docs/bundle.md.",
	"--key URI --ca OLD_ROOT.pem --cert NEW_ROOT.pem --out FILE [--days N] "
	"[--dry-run]",
	"  keyrite root cross-sign --key 'pkcs11:token=lab-root;"
	"object=root-2026' \\\n      --pin-file user.pin --ca root-2026.pem "
	"--cert root-2036.pem --out cross-2036-by-2026.pem",
	cross_opts,
};

static int
root_cross_main(int argc, char **argv)
{
	struct root_args a = { .cmd = &cross_cmd };
	struct pol_profile prof;
	struct cli_token t;
	struct cli_auth auth;
	struct kr_error err = { 0 };
	struct ca_rootstate *rs = NULL;
	X509 *ca = NULL, *subj = NULL, *tbs = NULL, *cert = NULL;
	long long validity = 0;
	time_t now = kr_now();
	int idx, st = 1;

	memset(&t, 0, sizeof(t));
	if ((idx = cli_parse(&cross_cmd, argc, argv, root_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if (idx != argc) {
		st = cli_usage(&cross_cmd, "unexpected argument '%s'",
		    argv[idx]);
		goto out;
	}
	if (a.key == NULL || a.ca == NULL || a.cert == NULL ||
	    (a.out == NULL && !a.dry_run)) {
		st = cli_usage(&cross_cmd, "--key, --ca, --cert and --out are "
		    "required");
		goto out;
	}
	if (a.days != NULL && (validity = kr_parse_duration(a.days, 'd')) <=
	    0) {
		st = cli_usage(&cross_cmd, "--days '%s' is not a positive "
		    "number of days", a.days);
		goto out;
	}
	if ((!a.dry_run && kr_out_check(a.out, a.force, &err) != KR_OK) ||
	    ca_load_cert(a.ca, &ca, &err) != KR_OK ||
	    ca_load_cert(a.cert, &subj, &err) != KR_OK) {
		st = cli_report(cross_cmd.name, &err);
		goto out;
	}
	/* Everything the linter can refuse is refused before the PIN. */
	if (ca_cross_prepare(subj, ca, a.profile, validity, now, &prof, &tbs,
	    &err) != KR_OK) {
		kr_error_prefix(&err, "%s", a.cert);
		st = cli_report(cross_cmd.name, &err);
		goto out;
	}
	if (a.dry_run) {
		printf("dry run: a cross-certificate for %s passes the '%s' "
		    "profile and the linter; nothing was signed\n", a.cert,
		    prof.name);
		st = 0;
		goto out;
	}
	auth = (struct cli_auth){ a.pin_file, a.module, a.officers,
	    a.nofficers, &a.pass };
	if (ca_rootstate_open(a.home ? a.home : ca_rootstate_default_home(),
	    ca, &rs, &err) != KR_OK ||
	    cli_token_open(a.key, &auth, 1, &t, &err) != KR_OK ||
	    key_matches_ca(&t, ca, a.ca, &err) != KR_OK ||
	    ca_sign_cert(tbs, &t.signer, &prof, ca, now, &cert, &err) !=
	    KR_OK ||
	    ca_rootstate_record_issued(rs, cert, &err) != KR_OK ||
	    ca_write_cert(a.out, cert, a.force, &err) != KR_OK) {
		st = cli_report(cross_cmd.name, &err);
		goto out;
	}
	print_cert_summary("cross-certificate", cert, a.out);
	{
		char *iss = X509_NAME_oneline(X509_get_issuer_name(cert), NULL,
		    0);

		printf("  issuer:   %s\n", iss ? iss : "?");
		OPENSSL_free(iss);
	}
	st = 0;
out:
	ca_rootstate_close(rs);
	X509_free(ca);
	X509_free(subj);
	X509_free(tbs);
	X509_free(cert);
	cli_token_close(&t);
	root_args_free(&a);
	return st;
}

int
cmd_root(int argc, char **argv)
{
	static const struct cli_sub sub[] = {
		{ "init", root_init_main, &init_cmd },
		{ "sign", root_sign_main, &sign_cmd },
		{ "crl", root_crl_main, &crl_cmd },
		{ "cross-sign", root_cross_main, &cross_cmd },
	};

	return cli_dispatch("root", sub, sizeof(sub) / sizeof(sub[0]), argc,
	    argv);
}
