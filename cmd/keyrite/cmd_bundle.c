/*
 * cmd_bundle.c: keyrite bundle build | sign | verify | pack | inspect,
 * the signed root-rotation bundles of docs/bundle.md.  build and pack
 * need no key; sign checks the bundle and that this key has not signed
 * yet before it asks for a PIN; verify trusts only the roots it is
 * given, by their keys.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ca/bundle.h"
#include "ca/rotate.h"

struct bundle_args {
	const char	**anchors;	/* FILE:STATE */
	size_t		  nanchors;
	const char	**cross;
	size_t		  ncross;
	const char	**trust;
	size_t		  ntrust;
	const char	**officers;
	size_t		  nofficers;
	const char	 *previous;
	const char	 *expires;
	const char	 *remove_after;
	const char	 *min_sigs;
	const char	 *out;
	const char	 *key;
	const char	 *pin_file;
	const char	 *module;
	const char	 *cert;
	struct cli_passmap pass;
	int		  force;
	int		  dry_run;
	const struct cli_cmd *cmd;
};

static int
bundle_opt(void *ctx, const char *name, const char *arg)
{
	struct bundle_args *a = ctx;

	if (strcmp(name, "anchor") == 0)
		return cli_push(&a->anchors, &a->nanchors, arg);
	if (strcmp(name, "cross") == 0)
		return cli_push(&a->cross, &a->ncross, arg);
	if (strcmp(name, "trust") == 0)
		return cli_push(&a->trust, &a->ntrust, arg);
	if (strcmp(name, "officer") == 0)
		return cli_push(&a->officers, &a->nofficers, arg);
	if (strcmp(name, "passphrase-file") == 0)
		return cli_passmap_add(a->cmd, &a->pass, arg);
	if (strcmp(name, "previous") == 0)
		a->previous = arg;
	else if (strcmp(name, "expires") == 0)
		a->expires = arg;
	else if (strcmp(name, "remove-after") == 0)
		a->remove_after = arg;
	else if (strcmp(name, "min-signatures") == 0)
		a->min_sigs = arg;
	else if (strcmp(name, "out") == 0)
		a->out = arg;
	else if (strcmp(name, "key") == 0)
		a->key = arg;
	else if (strcmp(name, "pin-file") == 0)
		a->pin_file = arg;
	else if (strcmp(name, "module") == 0)
		a->module = arg;
	else if (strcmp(name, "cert") == 0)
		a->cert = arg;
	else if (strcmp(name, "force") == 0)
		a->force = 1;
	else if (strcmp(name, "dry-run") == 0)
		a->dry_run = 1;
	return 0;
}

static void
bundle_args_free(struct bundle_args *a)
{
	free(a->anchors);
	free(a->cross);
	free(a->trust);
	free(a->officers);
	cli_passmap_free(&a->pass);
}

/* Exactly one operand after the options, or a usage error. */
static const char *
one_operand(const struct cli_cmd *cmd, int argc, char **argv, int idx,
    const char *what)
{
	if (idx == argc) {
		cli_usage(cmd, "name the %s", what);
		return NULL;
	}
	if (idx + 1 != argc) {
		cli_usage(cmd, "unexpected argument '%s'", argv[idx + 1]);
		return NULL;
	}
	return argv[idx];
}

/* SHA-256 as upper-case hex in groups of four, to read aloud. */
static void
groups(const uint8_t h[32], char out[KR_FPR_LEN])
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < 32; i++) {
		if (i > 0 && i % 2 == 0)
			out[o++] = ' ';
		out[o++] = hx[h[i] >> 4];
		out[o++] = hx[h[i] & 15];
	}
	out[o] = '\0';
}

/* What a manifest says, for build, verify and inspect. */
static void
print_manifest(const char *path, const struct ca_manifest *m)
{
	char t1[32], t2[32], fpr[KR_FPR_LEN], hex[65];
	size_t i;

	printf("bundle: %s\n  version:  %lld\n", path, m->version);
	if (m->has_previous) {
		kr_hex(m->previous, 32, hex);
		printf("  previous: manifest SHA-256 %s\n", hex);
	} else
		printf("  previous: none (the first bundle)\n");
	ca_time_rfc3339(m->issued_at, t1);
	ca_time_rfc3339(m->expires, t2);
	printf("  issued:   %s\n  expires:  %s\n  anchors:\n", t1, t2);
	for (i = 0; i < m->nanchors; i++) {
		const struct ca_bundle_anchor *a = &m->anchors[i];

		groups(a->sha256, fpr);
		ca_time_rfc3339(a->not_after, t1);
		printf("    %-9s %s\n              SHA-256 %s\n"
		    "              valid until %s", ca_anchor_state_name(
		    a->state), a->subject, fpr, t1);
		if (a->state == CA_ANCHOR_RETIRING) {
			ca_time_rfc3339(a->remove_after, t2);
			printf("; remove after %s", t2);
		}
		printf("\n");
	}
	if (m->ncross > 0)
		printf("  cross-certificates:\n");
	for (i = 0; i < m->ncross; i++)
		printf("    %s\n      issued by %s\n", m->cross[i].subject,
		    m->cross[i].issuer);
}

static void
print_sigs(const struct ca_bundle_sigs *s, int with_trust)
{
	size_t i;

	printf("  signatures:\n");
	for (i = 0; i < s->n; i++) {
		const struct ca_bundle_sig *g = &s->v[i];

		printf("    %s\n      ", g->who);
		if (!g->valid)
			printf("NOT VALID: %s\n", g->why);
		else if (!with_trust)
			printf("valid under the certificate it carries "
			    "(not checked against any trusted root)\n");
		else if (!g->trusted)
			printf("valid, but by a key that is not trusted\n");
		else
			printf("valid, by a trusted root%s\n", g->counted ? "" :
			    " (the same key again: counted once)");
	}
}

/* ------------------------------------------------------------------ */
/* build                                                               */
/* ------------------------------------------------------------------ */

static const struct cli_opt build_opts[] = {
	{ "anchor", 1, 1, "FILE:STATE", "a root certificate and its state: "
	    "next, active or retiring" },
	{ "cross", 1, 1, "FILE", "a cross-certificate between two of the "
	    "anchors" },
	{ "previous", 1, 0, "DIR", "the last bundle published (directory or "
	    ".tar): this one is its version + 1 and names its manifest" },
	{ "expires", 1, 0, "DURATION", "how long the bundle is valid, e.g. "
	    "90d (at most 1096d)" },
	{ "remove-after", 1, 0, "DATE", "when endpoints remove the retiring "
	    "anchors (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)" },
	{ "out", 1, 0, "DIR", "the new bundle directory (must not exist)" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd build_cmd = {
	"bundle build", "Make an unsigned rotation bundle: manifest.json, the "
	"anchors and\ncross-certificates in PEM, and the anchors as "
	"anchors.pem, bundle.p7b and a\nJava truststore (truststore.p12, "
	"password 'changeit').  Sign it next with\n'keyrite bundle sign', "
	"once per root.  See docs/bundle.md.",
	"--anchor FILE:STATE... [--cross FILE]... [--previous DIR] --expires "
	"DURATION [--remove-after DATE] --out DIR",
	"  keyrite bundle build --anchor root-2026.pem:active \\\n"
	"      --anchor root-2036.pem:next --cross cross-2036-by-2026.pem \\\n"
	"      --cross cross-2026-by-2036.pem --previous bundle-1 "
	"--expires 90d --out bundle-2",
	build_opts,
};

static int
bundle_build_main(int argc, char **argv)
{
	struct bundle_args a = { .cmd = &build_cmd };
	struct kr_error err = { 0 };
	struct ca_bundle_request req;
	struct ca_manifest m = { 0 };
	enum ca_anchor_state *states = NULL;
	char **paths = NULL;
	size_t i, nretiring = 0;
	const char *colon;
	time_t remove_after = 0;
	long long lifetime;
	int idx, st = 1;

	if ((idx = cli_parse(&build_cmd, argc, argv, bundle_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if (idx != argc) {
		st = cli_usage(&build_cmd, "unexpected argument '%s'",
		    argv[idx]);
		goto out;
	}
	if (a.nanchors == 0 || a.expires == NULL || a.out == NULL) {
		st = cli_usage(&build_cmd, "--anchor, --expires and --out are "
		    "required");
		goto out;
	}
	if ((lifetime = kr_parse_duration(a.expires, 'd')) <= 0) {
		st = cli_usage(&build_cmd, "--expires '%s' is not a duration "
		    "like 90d", a.expires);
		goto out;
	}
	if (a.remove_after != NULL &&
	    (remove_after = ca_date_parse(a.remove_after)) == (time_t)-1) {
		st = cli_usage(&build_cmd, "--remove-after '%s' is not a date "
		    "like 2026-12-31 or 2026-12-31T00:00:00Z", a.remove_after);
		goto out;
	}
	if ((states = calloc(a.nanchors, sizeof(*states))) == NULL ||
	    (paths = calloc(a.nanchors + 1, sizeof(*paths))) == NULL) {
		fprintf(stderr, "keyrite: out of memory\n");
		goto out;
	}
	for (i = 0; i < a.nanchors; i++) {
		colon = strrchr(a.anchors[i], ':');
		if (colon == NULL || colon == a.anchors[i] ||
		    (states[i] = ca_anchor_state_from_name(colon + 1)) == 0) {
			st = cli_usage(&build_cmd, "--anchor '%s' is not "
			    "FILE:STATE with STATE next, active or retiring",
			    a.anchors[i]);
			goto out;
		}
		if (states[i] == CA_ANCHOR_RETIRING)
			nretiring++;
		if ((paths[i] = strndup(a.anchors[i], (size_t)(colon -
		    a.anchors[i]))) == NULL) {
			fprintf(stderr, "keyrite: out of memory\n");
			goto out;
		}
	}
	if (nretiring > 0 && a.remove_after == NULL) {
		st = cli_usage(&build_cmd, "a retiring anchor needs "
		    "--remove-after DATE");
		goto out;
	}
	if (nretiring == 0 && a.remove_after != NULL) {
		st = cli_usage(&build_cmd, "--remove-after is for retiring "
		    "anchors, and none is retiring");
		goto out;
	}
	req = (struct ca_bundle_request){
		.anchors = (const char *const *)paths, .states = states,
		.nanchors = a.nanchors, .cross = a.cross, .ncross = a.ncross,
		.previous = a.previous, .remove_after = remove_after,
		.lifetime = lifetime, .now = kr_now(), .out = a.out,
	};
	if (cli_outdir_check(a.out, &err) != KR_OK ||
	    ca_bundle_make(&req, &m, &err) != KR_OK) {
		st = cli_report(build_cmd.name, &err);
		goto out;
	}
	print_manifest(a.out, &m);
	printf("  signatures: none yet; sign with each root:\n"
	    "    keyrite bundle sign %s --key URI --cert ROOT.pem\n", a.out);
	st = 0;
out:
	ca_manifest_free(&m);
	for (i = 0; paths != NULL && i < a.nanchors; i++)
		free(paths[i]);
	free(paths);
	free(states);
	bundle_args_free(&a);
	return st;
}

/* ------------------------------------------------------------------ */
/* sign                                                                */
/* ------------------------------------------------------------------ */

static const struct cli_opt sign_opts[] = {
	{ "key", 1, 0, "URI", "the root key, e.g. 'pkcs11:token=lab-root;"
	    "object=root-2026'" },
	{ "cert", 1, 0, "FILE", "that root's certificate" },
	{ "pin-file", 1, 0, "FILE", "read the user PIN from FILE (default: "
	    "prompt without echo)" },
	CLI_OPT_OFFICER, CLI_OPT_PASSFILE,
	{ "module", 1, 0, "PATH", "PKCS#11 module (default: "
	    "$KEYRITE_PKCS11_MODULE, else SoftHSM2)" },
	{ "dry-run", 0, 0, NULL, "check the bundle and the certificate; ask "
	    "no PIN, sign nothing" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd sign_cmd = {
	"bundle sign", "Add this root's signature to the bundle's "
	"manifest.json.sig, keeping the\nsignatures already there.  The "
	"bundle is checked, and refused if this key has\nsigned it already, "
	"before the PIN is asked for.",
	"DIR --key URI --cert ROOT.pem [--pin-file FILE | --officer CRED...] "
	"[--dry-run]",
	"  keyrite bundle sign bundle-2 --key 'pkcs11:token=lab-root;"
	"object=root-2026' \\\n      --pin-file user.pin --cert root-2026.pem",
	sign_opts,
};

static int
bundle_sign_main(int argc, char **argv)
{
	struct bundle_args a = { .cmd = &sign_cmd };
	struct kr_error err = { 0 };
	struct ca_files files = { 0 };
	struct ca_bundle_sigs sigs;
	struct cli_token t;
	struct cli_auth auth;
	const char *dir;
	char path[PATH_MAX];
	X509 *cert = NULL;
	struct stat st_;
	size_t i;
	int idx, st = 1;

	memset(&t, 0, sizeof(t));
	if ((idx = cli_parse(&sign_cmd, argc, argv, bundle_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if ((dir = one_operand(&sign_cmd, argc, argv, idx,
	    "bundle directory")) == NULL) {
		st = EXIT_USAGE;
		goto out;
	}
	if (a.key == NULL || a.cert == NULL) {
		st = cli_usage(&sign_cmd, "--key and --cert are required");
		goto out;
	}
	if (stat(dir, &st_) == 0 && !S_ISDIR(st_.st_mode)) {
		st = cli_usage(&sign_cmd, "%s is not a directory; sign the "
		    "bundle directory, then pack it", dir);
		goto out;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    CA_BUNDLE_SIG) >= sizeof(path)) {
		st = cli_usage(&sign_cmd, "%s: path too long", dir);
		goto out;
	}
	/* Everything that can be refused is refused before the PIN. */
	if (ca_bundle_sign_prepare(dir, a.cert, &files, &cert, &err) !=
	    KR_OK) {
		st = cli_report(sign_cmd.name, &err);
		goto out;
	}
	if (a.dry_run) {
		printf("dry run: %s is sound and %s may sign it; nothing was "
		    "signed\n", dir, a.cert);
		st = 0;
		goto out;
	}
	auth = (struct cli_auth){ a.pin_file, a.module, a.officers,
	    a.nofficers, &a.pass };
	if (cli_token_open(a.key, &auth, 1, &t, &err) != KR_OK) {
		st = cli_report(sign_cmd.name, &err);
		goto out;
	}
	if (ca_bundle_sign_dir(dir, &files, &t.signer, hsm_key_label(t.key),
	    cert, a.cert, kr_now(), &sigs, &err) != KR_OK) {
		st = cli_report(sign_cmd.name, &err);
		goto out;
	}
	/* A SET OF: the new SignerInfo is wherever DER order puts it. */
	for (i = 0; i < sigs.n && !sigs.v[i].trusted; i++)
		;
	printf("signed %s/%s by %s\n  %s now carries %zu signature%s\n",
	    dir, CA_BUNDLE_MANIFEST, i < sigs.n ? sigs.v[i].who : "?",
	    CA_BUNDLE_SIG, sigs.n, sigs.n == 1 ? "" : "s");
	st = 0;
out:
	X509_free(cert);
	ca_files_free(&files);
	cli_token_close(&t);
	bundle_args_free(&a);
	return st;
}

/* ------------------------------------------------------------------ */
/* verify                                                              */
/* ------------------------------------------------------------------ */

static const struct cli_opt verify_opts[] = {
	{ "trust", 1, 1, "FILE", "a trusted root (PEM, several per file "
	    "allowed)" },
	{ "min-signatures", 1, 0, "N", "distinct trusted keys that must have "
	    "signed (default 1)" },
	{ "previous", 1, 0, "DIR", "the bundle applied last (directory or "
	    ".tar): this one must be its next version and name it" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd verify_cmd = {
	"bundle verify", "Verify a bundle (directory or .tar) against the "
	"roots you trust: the\nsignatures over manifest.json (each key counts "
	"once), every file's SHA-256,\nthe anchors and exports, with "
	"--previous the version and previous-manifest\nchain, and that it has "
	"not expired.  Exit 0 only if all of it holds.",
	"(DIR | FILE.tar) --trust ROOT.pem... [--min-signatures N] "
	"[--previous DIR]",
	"  keyrite bundle verify bundle-2 --trust root-2026.pem --previous "
	"bundle-1",
	verify_opts,
};

static int
bundle_verify_main(int argc, char **argv)
{
	struct bundle_args a = { .cmd = &verify_cmd };
	struct kr_error err = { 0 };
	struct ca_bundle_sigs sigs;
	struct ca_manifest m = { 0 };
	const char *path;
	char *end;
	unsigned long min = 1;
	enum kr_err rc;
	int idx, st = 1;

	memset(&sigs, 0, sizeof(sigs));
	if ((idx = cli_parse(&verify_cmd, argc, argv, bundle_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if ((path = one_operand(&verify_cmd, argc, argv, idx, "bundle")) ==
	    NULL) {
		st = EXIT_USAGE;
		goto out;
	}
	if (a.ntrust == 0) {
		st = cli_usage(&verify_cmd, "--trust is required: name the "
		    "roots you already trust");
		goto out;
	}
	if (a.min_sigs != NULL) {
		errno = 0;
		min = strtoul(a.min_sigs, &end, 10);
		if (errno != 0 || *end != '\0' || a.min_sigs[0] < '1' ||
		    a.min_sigs[0] > '9' || min > CA_BUNDLE_MAX_SIGNERS) {
			st = cli_usage(&verify_cmd, "--min-signatures '%s' is "
			    "not a number from 1 to %d", a.min_sigs,
			    CA_BUNDLE_MAX_SIGNERS);
			goto out;
		}
	}
	rc = ca_bundle_verify_path(path, a.trust, a.ntrust, min, a.previous,
	    kr_now(), &m, &sigs, &err);
	if (m.version != 0)
		print_manifest(path, &m);
	else
		printf("bundle: %s\n", path);
	if (sigs.n > 0)
		print_sigs(&sigs, 1);
	if (rc != KR_OK) {
		st = cli_report(verify_cmd.name, &err);
		goto out;
	}
	printf("OK: signed by %zu trusted key%s (%lu required)%s\n",
	    sigs.ntrusted, sigs.ntrusted == 1 ? "" : "s", min,
	    a.previous != NULL ? "; follows the previous bundle" : "");
	st = 0;
out:
	ca_manifest_free(&m);
	bundle_args_free(&a);
	return st;
}

/* ------------------------------------------------------------------ */
/* pack                                                                */
/* ------------------------------------------------------------------ */

static const struct cli_opt pack_opts[] = {
	{ "out", 1, 0, "FILE", "the archive to write" },
	{ "force", 0, 0, NULL, "replace --out if it exists" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd pack_cmd = {
	"bundle pack", "Pack a signed bundle directory into one deterministic "
	"ustar archive\n(sorted names, mode 0644, mtime 0): the same bundle "
	"always gives the same\nbytes.  The bundle is checked first and must "
	"carry signatures that verify.",
	"DIR --out FILE.tar [--force]",
	"  keyrite bundle pack bundle-2 --out bundle-2.tar",
	pack_opts,
};

static int
bundle_pack_main(int argc, char **argv)
{
	struct bundle_args a = { .cmd = &pack_cmd };
	struct kr_error err = { 0 };
	struct stat st_;
	size_t nfiles = 0, nsigs = 0;
	const char *dir;
	int idx, st = 1;

	if ((idx = cli_parse(&pack_cmd, argc, argv, bundle_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if ((dir = one_operand(&pack_cmd, argc, argv, idx,
	    "bundle directory")) == NULL) {
		st = EXIT_USAGE;
		goto out;
	}
	if (a.out == NULL) {
		st = cli_usage(&pack_cmd, "--out is required");
		goto out;
	}
	if (stat(dir, &st_) == 0 && !S_ISDIR(st_.st_mode)) {
		st = cli_usage(&pack_cmd, "%s is not a directory", dir);
		goto out;
	}
	if (ca_bundle_pack(dir, a.out, a.force, &nfiles, &nsigs, &err) !=
	    KR_OK) {
		st = cli_report(pack_cmd.name, &err);
		goto out;
	}
	printf("packed %s into %s: %zu files, %zu signature%s\n", dir, a.out,
	    nfiles, nsigs, nsigs == 1 ? "" : "s");
	st = 0;
out:
	bundle_args_free(&a);
	return st;
}

/* ------------------------------------------------------------------ */
/* inspect                                                             */
/* ------------------------------------------------------------------ */

static const struct cli_opt inspect_opts[] = {
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd inspect_cmd = {
	"bundle inspect", "Show what a bundle (directory or .tar) holds: its "
	"manifest, its files and\nwho signed it.  Nothing is checked against "
	"a root you trust: that is\n'keyrite bundle verify'.  Exit 1 if the "
	"files do not match the manifest.",
	"(DIR | FILE.tar)",
	"  keyrite bundle inspect bundle-2.tar",
	inspect_opts,
};

static int
bundle_inspect_main(int argc, char **argv)
{
	struct bundle_args a = { .cmd = &inspect_cmd };
	struct kr_error err = { 0 }, cerr = { 0 };
	struct ca_files files = { 0 };
	struct ca_bundle_sigs sigs;
	struct ca_manifest m = { 0 };
	const struct ca_file *mf;
	const char *path;
	enum kr_err crc;
	size_t i;
	int idx, st = 1;

	if ((idx = cli_parse(&inspect_cmd, argc, argv, bundle_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if ((path = one_operand(&inspect_cmd, argc, argv, idx, "bundle")) ==
	    NULL) {
		st = EXIT_USAGE;
		goto out;
	}
	if (ca_bundle_load_path(path, &files, &err) != KR_OK) {
		st = cli_report(inspect_cmd.name, &err);
		goto out;
	}
	if ((mf = ca_files_get(&files, CA_BUNDLE_MANIFEST)) == NULL) {
		kr_fail(&err, KR_E_PARSE, "%s: no %s: not a bundle", path,
		    CA_BUNDLE_MANIFEST);
		st = cli_report(inspect_cmd.name, &err);
		goto out;
	}
	if (ca_manifest_parse(mf->data, mf->len, &m, &err) != KR_OK) {
		st = cli_report(inspect_cmd.name, &err);
		goto out;
	}
	print_manifest(path, &m);
	crc = ca_bundle_check(&files, NULL, &cerr);
	printf("  files:\n");
	ca_files_sort(&files);
	for (i = 0; i < files.n; i++)
		printf("    %-28s %zu bytes\n", files.v[i].name,
		    files.v[i].len);
	if (ca_bundle_sigs(&files, NULL, 0, &sigs, &err) != KR_OK)
		printf("  signatures: %s\n", err.msg);
	else
		print_sigs(&sigs, 0);
	if (crc != KR_OK) {
		st = cli_report(inspect_cmd.name, &cerr);
		goto out;
	}
	printf("  the files match the manifest\n");
	st = 0;
out:
	ca_manifest_free(&m);
	ca_files_free(&files);
	bundle_args_free(&a);
	return st;
}

int
cmd_bundle(int argc, char **argv)
{
	static const struct cli_sub sub[] = {
		{ "build", bundle_build_main, &build_cmd },
		{ "sign", bundle_sign_main, &sign_cmd },
		{ "verify", bundle_verify_main, &verify_cmd },
		{ "pack", bundle_pack_main, &pack_cmd },
		{ "inspect", bundle_inspect_main, &inspect_cmd },
	};

	return cli_dispatch("bundle", sub, sizeof(sub) / sizeof(sub[0]), argc,
	    argv);
}
