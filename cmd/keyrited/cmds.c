/*
 * cmds.c: keyrited's subcommands.  init makes the key and CSR; install
 * checks and installs what the root signed; provisioner manages who may
 * ask for what; serve runs the listeners (http.c); issue, certs and
 * revoke are the admin's local tools over the same store and policy.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "kd.h"
#include "ca/acme.h"
#include "common/file.h"
#include "cmd/keyrite/cli.h"

struct kd_args {
	const struct cli_cmd *cmd;
	const char	*home, *subject, *public_url, *api_url, *key_type;
	const char	*token, *pin_file, *module, *listen, *publish;
	const char	*cert, *root, *root_crl, *name, *max_lifetime, *out;
	const char	*server, *csr, *lifetime, *expiring, *serial, *reason;
	const char	**allow, **allow_ip;
	size_t		 nallow, nallow_ip;
	int		 admin, json, check, force, all, acme, eab;
};

static int
kd_opt(void *ctx, const char *name, const char *arg)
{
	struct kd_args *a = ctx;
	static const struct {
		const char	*name;
		size_t		 off;
	} strs[] = {
#define S(n, f) { n, offsetof(struct kd_args, f) }
		S("home", home), S("subject", subject),
		S("public-url", public_url), S("api-url", api_url),
		S("key-type", key_type), S("token", token),
		S("pin-file", pin_file), S("module", module),
		S("listen", listen), S("publish", publish), S("cert", cert),
		S("root", root), S("root-crl", root_crl), S("name", name),
		S("max-lifetime", max_lifetime), S("out", out),
		S("server", server), S("csr", csr), S("lifetime", lifetime),
		S("expiring", expiring), S("serial", serial),
		S("reason", reason),
#undef S
	};
	size_t i;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strcmp(name, strs[i].name) == 0) {
			*(const char **)((char *)a + strs[i].off) = arg;
			return 0;
		}
	if (strcmp(name, "allow") == 0)
		return cli_push(&a->allow, &a->nallow, arg);
	if (strcmp(name, "allow-ip") == 0)
		return cli_push(&a->allow_ip, &a->nallow_ip, arg);
	if (strcmp(name, "admin") == 0)
		a->admin = 1;
	else if (strcmp(name, "json") == 0)
		a->json = 1;
	else if (strcmp(name, "check") == 0)
		a->check = 1;
	else if (strcmp(name, "force") == 0)
		a->force = 1;
	else if (strcmp(name, "all") == 0)
		a->all = 1;
	else if (strcmp(name, "acme") == 0)
		a->acme = 1;
	else if (strcmp(name, "eab") == 0)
		a->eab = 1;
	return 0;
}

/* Parse; the index of the first operand, or -1 (exit 2 printed). */
static int
kd_parse(const struct cli_cmd *cmd, struct kd_args *a, int argc, char **argv)
{
	int idx;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	if ((idx = cli_parse(cmd, argc, argv, kd_opt, a)) < 0)
		return -1;
	if (idx != argc) {
		cli_usage(cmd, "unexpected argument '%s'", argv[idx]);
		return -1;
	}
	if (a->home == NULL) {
		cli_usage(cmd, "--home is required");
		return -1;
	}
	return idx;
}

static void
kd_args_free(struct kd_args *a)
{
	free(a->allow);
	free(a->allow_ip);
}

#define OPT_HOME { "home", 1, 0, "DIR", "the signer's state directory" }

/* ------------------------------------------------------------------ */
/* init                                                                */
/* ------------------------------------------------------------------ */

static const struct cli_opt init_opts[] = {
	OPT_HOME,
	{ "subject", 1, 0, "DN", "the intermediate's subject, e.g. "
	    "'CN=Example Lab Issuing CA 1'" },
	{ "public-url", 1, 0, "URL", "base of the CRL and caIssuers URLs "
	    "in leaves (http://...)" },
	{ "api-url", 1, 0, "URL", "the API's URL (default https://HOST:8443 "
	    "of --public-url)" },
	{ "key-type", 1, 0, "TYPE", "ec-p256 (default), ec-p384 or "
	    "rsa-3072" },
	{ "token", 1, 0, "URI", "make (or use) the key in this PKCS#11 "
	    "token: 'pkcs11:token=T;object=LABEL'" },
	{ "pin-file", 1, 0, "FILE", "the token's user PIN (the daemon reads "
	    "it at start)" },
	{ "module", 1, 0, "PATH", "PKCS#11 module (default SoftHSM2)" },
	{ "listen", 1, 0, "HOST:PORT", "the API's address (default "
	    "127.0.0.1:8443)" },
	{ "publish", 1, 0, "HOST:PORT", "the publication address (default "
	    "127.0.0.1:8080)" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd init_cmd = {
	"init", "make the intermediate key and its CSR in a new home",
	"--home DIR --subject DN --public-url URL [--api-url URL] "
	"[--key-type T] [--token URI --pin-file F]",
	"  keyrited init --home /var/lib/keyrited \\\n"
	"      --subject 'CN=Example Lab Issuing CA 1' \\\n"
	"      --public-url http://ca.lab.internal:8080\n"
	"  # then have the root sign /var/lib/keyrited/intermediate.csr",
	init_opts,
};

/* https://HOST:8443 from http://HOST[:PORT][/...] */
static int
default_api_url(const char *pub, char *out, size_t sz)
{
	const char *h = strstr(pub, "://");
	size_t len;

	if (h == NULL)
		return -1;
	h += 3;
	if (*h == '[')
		len = strcspn(h, "]") + 1;
	else
		len = strcspn(h, ":/");
	if (len == 0 || (size_t)snprintf(out, sz, "https://%.*s:8443",
	    (int)len, h) >= sz)
		return -1;
	return 0;
}

static enum kr_err
init_key_token(const struct kd_args *a, enum hsm_keytype type,
    struct cli_token *t, struct kr_error *err)
{
	struct cli_auth auth;
	struct hsm_key *k = NULL;
	enum kr_err rc;

	memset(&auth, 0, sizeof(auth));
	auth.pin_file = a->pin_file;
	auth.module = a->module;
	if ((rc = cli_token_open(a->token, &auth, 0, t, err)) != KR_OK)
		return rc;
	if (t->uri.object == NULL)
		return kr_fail(err, KR_E_USAGE, "--token %s: name the key with "
		    "object=LABEL", a->token);
	rc = hsm_key_find(t->sess, &t->uri, &k, err);
	if (rc == KR_E_NOTFOUND) {
		/* An online key is never backed up: not extractable. */
		if ((rc = hsm_keygen(t->sess, t->uri.object, type, 0, &k,
		    err)) != KR_OK)
			return rc;
		printf("generated %s key '%s' in token '%s' (not "
		    "extractable)\n", hsm_keytype_name(type), t->uri.object,
		    hsm_session_label(t->sess));
	} else if (rc != KR_OK)
		return rc;
	else
		printf("using the existing key '%s' in token '%s'\n",
		    t->uri.object, hsm_session_label(t->sess));
	t->key = k;
	t->signer.pub = hsm_key_public(k);
	t->signer.sign = cli_signer_hsm;
	t->signer.arg = k;
	return KR_OK;
}

static EVP_PKEY *
soft_keygen(const char *type)
{
	if (strcmp(type, "ec-p256") == 0)
		return EVP_EC_gen("P-256");
	if (strcmp(type, "ec-p384") == 0)
		return EVP_EC_gen("P-384");
	return EVP_RSA_gen(3072);
}

int
kd_cmd_init(int argc, char **argv)
{
	struct kd_args a;
	struct kd_config c;
	struct kr_error err = { 0 };
	struct cli_token t;
	struct ca_signer soft;
	const struct ca_signer *signer;
	struct stat st;
	enum hsm_keytype type;
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	X509_NAME *nm = NULL;
	BIO *b = NULL;
	BUF_MEM *m;
	char path[PATH_MAX], host[256];
	int port, status = 1, made_home = 0;
	enum kr_err rc;

	memset(&t, 0, sizeof(t));
	kd_config_defaults(&c);
	if (kd_parse(&init_cmd, &a, argc, argv) < 0)
		return EXIT_USAGE;
	if (a.subject == NULL || a.public_url == NULL) {
		kd_args_free(&a);
		return cli_usage(&init_cmd, "--subject and --public-url are "
		    "required");
	}
	if (a.key_type == NULL)
		a.key_type = "ec-p256";
	type = hsm_keytype_from_name(a.key_type);
	if (strcmp(a.key_type, "ec-p256") != 0 &&
	    strcmp(a.key_type, "ec-p384") != 0 &&
	    strcmp(a.key_type, "rsa-3072") != 0) {
		kd_args_free(&a);
		return cli_usage(&init_cmd, "--key-type '%s' is not one of "
		    "ec-p256, ec-p384, rsa-3072", a.key_type);
	}
	if ((a.pin_file != NULL || a.module != NULL) && a.token == NULL) {
		kd_args_free(&a);
		return cli_usage(&init_cmd, "--pin-file and --module go with "
		    "--token");
	}
	if (a.token != NULL && a.pin_file == NULL) {
		kd_args_free(&a);
		return cli_usage(&init_cmd, "--token needs --pin-file: the "
		    "daemon reads the PIN at every start");
	}

	/* Everything is checked before anything is made. */
	if (ca_parse_subject(a.subject, &nm, &err) != KR_OK)
		goto fail;
	if (strlen(a.home) >= sizeof(c.home)) {
		kr_fail(&err, KR_E_USAGE, "--home: path too long");
		goto fail;
	}
	snprintf(c.home, sizeof(c.home), "%s", a.home);
	if (lstat(a.home, &st) == 0) {
		if (kd_path(a.home, KD_CONFIG, path, &err) != KR_OK)
			goto fail;
		if (access(path, F_OK) == 0) {
			kr_fail(&err, KR_E_EXISTS, "%s: a keyrited home "
			    "already; init never replaces a key", a.home);
			goto fail;
		}
	}
	snprintf(c.subject, sizeof(c.subject), "%s", a.subject);
	/* Name the option in what is wrong, then let the parser agree. */
	if (!kd_url_ok(a.public_url, "http") &&
	    !kd_url_ok(a.public_url, "https")) {
		kr_fail(&err, KR_E_USAGE, "--public-url %s: not an http:// or "
		    "https:// URL (no query or fragment)", a.public_url);
		goto fail;
	}
	if (a.api_url != NULL && !kd_url_ok(a.api_url, "https")) {
		kr_fail(&err, KR_E_USAGE, "--api-url %s: not an https:// URL "
		    "(no query or fragment)", a.api_url);
		goto fail;
	}
	if ((a.listen != NULL && kd_hostport(a.listen, host, sizeof(host),
	    &port) != 0) || (a.publish != NULL && kd_hostport(a.publish,
	    host, sizeof(host), &port) != 0)) {
		kr_fail(&err, KR_E_USAGE, "--listen and --publish take "
		    "HOST:PORT (e.g. 127.0.0.1:8443, [::1]:8443)");
		goto fail;
	}
	/* Run the values through the config parser's checks. */
	{
		char *y = NULL;
		size_t yl = 0;
		FILE *f = open_memstream(&y, &yl);
		struct kd_config chk;

		if (f == NULL)
			goto fail;
		if (default_api_url(a.public_url, host, sizeof(host)) != 0)
			host[0] = '\0';
		fprintf(f, "subject: x\npublic_url: \"%s\"\napi_url: \"%s\"\n"
		    "serial_prefix: \"010203\"\n", a.public_url, a.api_url ?
		    a.api_url : host);
		if (a.listen != NULL)
			fprintf(f, "listen: \"%s\"\n", a.listen);
		if (a.publish != NULL)
			fprintf(f, "publish: \"%s\"\n", a.publish);
		fclose(f);
		kd_config_defaults(&chk);
		rc = kd_config_parse(y, yl, "the options", &chk, &err);
		free(y);
		if (rc != KR_OK) {
			/* Name the options, not a file. */
			goto fail;
		}
		snprintf(c.public_url, sizeof(c.public_url), "%s",
		    chk.public_url);
		snprintf(c.api_url, sizeof(c.api_url), "%s", chk.api_url);
		snprintf(c.listen, sizeof(c.listen), "%s", chk.listen);
		snprintf(c.publish, sizeof(c.publish), "%s", chk.publish);
		kd_config_free(&chk);
	}
	do {
		randombytes_buf(c.serial_prefix, sizeof(c.serial_prefix));
		c.serial_prefix[0] &= 0x7f;
	} while (c.serial_prefix[0] == 0);
	if (a.token != NULL) {
		snprintf(c.key_token, sizeof(c.key_token), "%s", a.token);
		if (realpath(a.pin_file, c.pin_file) == NULL) {
			kr_fail(&err, KR_E_NOTFOUND, "--pin-file %s: %s",
			    a.pin_file, strerror(errno));
			goto fail;
		}
		if (a.module != NULL)
			snprintf(c.key_module, sizeof(c.key_module), "%s",
			    a.module);
	}

	if (mkdir(a.home, 0700) == 0)
		made_home = 1;
	else if (errno != EEXIST) {
		kr_fail(&err, KR_E_IO, "%s: %s", a.home, strerror(errno));
		goto fail;
	}
	if (a.token != NULL) {
		if (init_key_token(&a, type, &t, &err) != KR_OK)
			goto fail;
		signer = &t.signer;
	} else {
		if ((key = soft_keygen(a.key_type)) == NULL) {
			kr_fail_ossl(&err, KR_E_CRYPTO, "cannot make a key");
			goto fail;
		}
		if ((b = BIO_new(BIO_s_mem())) == NULL ||
		    PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL,
		    NULL) != 1) {
			kr_fail_ossl(&err, KR_E_CRYPTO, "cannot encode the "
			    "key");
			goto fail;
		}
		BIO_get_mem_ptr(b, &m);
		if (kd_path(a.home, KD_KEY, path, &err) != KR_OK ||
		    kr_file_write(path, m->data, m->length, 0600, 0, &err) !=
		    KR_OK)
			goto fail;
		ca_signer_soft(&soft, key);
		signer = &soft;
	}
	if (ca_csr_make(a.subject, signer, &req, &err) != KR_OK ||
	    kd_path(a.home, KD_CSR, path, &err) != KR_OK ||
	    ca_write_csr(path, req, 0, &err) != KR_OK ||
	    kd_config_write(&c, 0, &err) != KR_OK)
		goto fail;
	printf("keyrited home %s: key %s, CSR %s\n", a.home,
	    a.token ? a.token : KD_KEY " (mode 0600)", path);
	printf("next:\n  keyrite root sign --key ROOT_URI --ca root.pem --csr "
	    "%s \\\n      --profile intermediate --out intermediate.pem\n"
	    "  keyrited install --home %s --cert intermediate.pem --root "
	    "root.pem\n", path, a.home);
	status = 0;
	goto out;
fail:
	status = cli_report(init_cmd.name, &err);
	/* Leave nothing half made: remove what this run created. */
	if (kd_path(a.home, KD_CONFIG, path, &err) == KR_OK &&
	    access(path, F_OK) != 0) {
		if (kd_path(a.home, KD_KEY, path, &err) == KR_OK)
			unlink(path);
		if (kd_path(a.home, KD_CSR, path, &err) == KR_OK)
			unlink(path);
		if (made_home)
			rmdir(a.home);
	}
out:
	X509_NAME_free(nm);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	/* The key's PEM, on every path. */
	if (b != NULL && BIO_get_mem_ptr(b, &m) == 1 && m != NULL)
		OPENSSL_cleanse(m->data, m->max);
	BIO_free(b);
	cli_token_close(&t);
	kd_config_free(&c);
	kd_args_free(&a);
	return status;
}

/* ------------------------------------------------------------------ */
/* install                                                             */
/* ------------------------------------------------------------------ */

static const struct cli_opt install_opts[] = {
	OPT_HOME,
	{ "cert", 1, 0, "FILE", "the intermediate certificate the root "
	    "signed (PEM)" },
	{ "root", 1, 0, "FILE", "the root certificate (PEM)" },
	{ "root-crl", 1, 0, "FILE", "the root's CRL from the ceremony, to "
	    "publish" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd install_cmd = {
	"install", "check and install the intermediate certificate",
	"--home DIR --cert FILE --root FILE [--root-crl FILE]",
	"  keyrited install --home /var/lib/keyrited --cert "
	"intermediate.pem --root root.pem --root-crl root.crl",
	install_opts,
};

static enum kr_err
copy_pem_cert(const char *home, const char *name, X509 *x,
    struct kr_error *err)
{
	char path[PATH_MAX];
	enum kr_err rc;

	if ((rc = kd_path(home, name, path, err)) != KR_OK)
		return rc;
	return ca_write_cert(path, x, 1, err);
}

int
kd_cmd_install(int argc, char **argv)
{
	struct kd_args a;
	struct kd_config c;
	struct kr_error err = { 0 };
	X509 *cert = NULL, *root = NULL;
	X509_REQ *req = NULL;
	X509_CRL *crl = NULL;
	X509_STORE *xs = NULL;
	X509_STORE_CTX *ctx = NULL;
	struct ca_store *st = NULL;
	char path[PATH_MAX], fpr[KR_FPR_LEN], subj[512];
	int status = 1, v;

	memset(&c, 0, sizeof(c));
	if (kd_parse(&install_cmd, &a, argc, argv) < 0)
		return EXIT_USAGE;
	if (a.cert == NULL || a.root == NULL) {
		kd_args_free(&a);
		return cli_usage(&install_cmd, "--cert and --root are "
		    "required");
	}
	if (kd_config_load(a.home, &c, &err) != KR_OK ||
	    ca_load_cert(a.cert, &cert, &err) != KR_OK ||
	    ca_load_cert(a.root, &root, &err) != KR_OK ||
	    kd_path(a.home, KD_CSR, path, &err) != KR_OK ||
	    ca_load_csr(path, &req, &err) != KR_OK)
		goto fail;
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), X509_REQ_get0_pubkey(req)) !=
	    1) {
		ERR_clear_error();
		kr_fail(&err, KR_E_VERIFY, "%s: certifies another key than "
		    "this signer's (%s)", a.cert, path);
		goto fail;
	}
	if (X509_check_ca(cert) == 0) {
		kr_fail(&err, KR_E_POLICY, "%s: not a CA certificate", a.cert);
		goto fail;
	}
	if (X509_NAME_cmp(X509_get_subject_name(root),
	    X509_get_issuer_name(root)) != 0) {
		kr_fail(&err, KR_E_USAGE, "%s: not a self-signed root", a.root);
		goto fail;
	}
	if ((xs = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_add_cert(xs, root) != 1 ||
	    X509_STORE_CTX_init(ctx, xs, cert, NULL) != 1) {
		kr_fail_ossl(&err, KR_E_CRYPTO, "cannot set up verification");
		goto fail;
	}
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
	if (getenv("KEYRITE_NOW") != NULL)
		X509_STORE_CTX_set_time(ctx, 0, kr_now());
	if ((v = X509_verify_cert(ctx)) != 1) {
		kr_fail(&err, KR_E_VERIFY, "%s does not chain to %s: %s",
		    a.cert, a.root, X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		goto fail;
	}
	if (a.root_crl != NULL) {
		if (ca_load_crl(a.root_crl, &crl, &err) != KR_OK)
			goto fail;
		if (X509_CRL_verify(crl, X509_get0_pubkey(root)) != 1) {
			ERR_clear_error();
			kr_fail(&err, KR_E_VERIFY, "%s: not signed by %s",
			    a.root_crl, a.root);
			goto fail;
		}
	}
	if (copy_pem_cert(a.home, KD_ROOT, root, &err) != KR_OK ||
	    copy_pem_cert(a.home, KD_CERT, cert, &err) != KR_OK)
		goto fail;
	if (crl != NULL && (kd_path(a.home, KD_ROOT_CRL, path, &err) != KR_OK ||
	    ca_write_crl(path, crl, 1, &err) != KR_OK))
		goto fail;
	if (kd_path(a.home, KD_STORE, path, &err) != KR_OK ||
	    ca_store_open(path, &st, &err) != KR_OK)
		goto fail;
	ca_cert_fingerprint(cert, fpr);
	X509_NAME_oneline(X509_get_subject_name(cert), subj, sizeof(subj));
	printf("installed the intermediate in %s\n  subject: %s\n  SHA-256: "
	    "%s\n", a.home, subj, fpr);
	ca_cert_fingerprint(root, fpr);
	printf("  root SHA-256: %s\n", fpr);
	if (crl != NULL)
		printf("  root CRL: %s (published as /crl/root.crl)\n",
		    a.root_crl);
	printf("next: keyrited provisioner add --home %s --name NAME --allow "
	    "'*.DOMAIN' --out NAME.provisioner\n", a.home);
	status = 0;
	goto out;
fail:
	status = cli_report(install_cmd.name, &err);
out:
	ca_store_close(st);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(xs);
	X509_free(cert);
	X509_free(root);
	X509_REQ_free(req);
	X509_CRL_free(crl);
	kd_config_free(&c);
	kd_args_free(&a);
	return status;
}

/* ------------------------------------------------------------------ */
/* provisioner add | list | remove                                     */
/* ------------------------------------------------------------------ */

static const struct cli_opt prov_add_opts[] = {
	OPT_HOME,
	{ "name", 1, 0, "NAME", "the provisioner's name ([A-Za-z0-9._-])" },
	{ "allow", 1, 1, "PATTERN", "DNS names it may ask for: a host name "
	    "or '*.domain' (one label)" },
	{ "allow-ip", 1, 1, "CIDR", "IP addresses it may ask for, e.g. "
	    "10.1.0.0/16" },
	{ "max-lifetime", 1, 0, "DURATION", "longest certificate it gets "
	    "(default: the config's max_lifetime)" },
	{ "admin", 0, 0, NULL, "may also revoke certificates it did not "
	    "issue" },
	{ "server", 1, 0, "URL", "the API URL written into the file "
	    "(default: api_url)" },
	{ "out", 1, 0, "FILE", "the provisioner file with its secret key "
	    "(mode 0600)" },
	{ "acme", 0, 0, NULL, "an ACME provisioner (docs/acme.md): its "
	    "directory is /acme/NAME/directory; no key, no --out" },
	{ "eab", 0, 0, NULL, "with --acme: new accounts need an external "
	    "account binding; prints a key id and HMAC key once" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd prov_add_cmd = {
	"provisioner add", "add a provisioner: a key that may mint tokens "
	"for some names",
	"--home DIR --name NAME --allow PATTERN... [--allow-ip CIDR...] "
	"[--max-lifetime D] [--admin] --out FILE | --acme [--eab]",
	"  keyrited provisioner add --home /var/lib/keyrited --name web \\\n"
	"      --allow '*.web.lab.internal' --allow-ip 10.1.0.0/16 "
	"--max-lifetime 72h --out web.provisioner\n"
	"  keyrited provisioner add --home /var/lib/keyrited --name lab \\\n"
	"      --acme --allow '*.lab.internal' --max-lifetime 24h\n"
	"  kill -HUP $(pidof keyrited)    # a running daemon reloads its "
	"provisioners",
	prov_add_opts,
};
static const struct cli_opt prov_list_opts[] = {
	OPT_HOME,
	{ "json", 0, 0, NULL, "print JSON" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd prov_list_cmd = {
	"provisioner list", "list the provisioners", "--home DIR [--json]",
	"  keyrited provisioner list --home /var/lib/keyrited", prov_list_opts,
};
static const struct cli_opt prov_rm_opts[] = {
	OPT_HOME,
	{ "name", 1, 0, "NAME", "the provisioner to remove" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd prov_rm_cmd = {
	"provisioner remove", "remove a provisioner (its tokens stop "
	"working after SIGHUP)", "--home DIR --name NAME",
	"  keyrited provisioner remove --home /var/lib/keyrited --name web",
	prov_rm_opts,
};

static int
prov_path(const char *home, const char *name, char *path,
    struct kr_error *err)
{
	char rel[CA_PROV_NAME_MAX + 32];

	snprintf(rel, sizeof(rel), "%s/%s.json", KD_PROVDIR, name);
	return kd_path(home, rel, path, err) == KR_OK ? 0 : -1;
}

static int
name_ok(const char *s)
{
	/* Not the names keyrited records for what it issues itself. */
	return ca_prov_name_ok(s) && !kd_prov_reserved(s);
}

static int
acme_path(const char *home, const char *name, char *path,
    struct kr_error *err)
{
	char rel[CA_PROV_NAME_MAX + 32];

	snprintf(rel, sizeof(rel), "%s/%s%s", KD_PROVDIR, name,
	    CA_ACME_PROV_SUFFIX);
	return kd_path(home, rel, path, err) == KR_OK ? 0 : -1;
}

/*
 * provisioner add --acme: the public view only (there is no key), and
 * with --eab a key id and HMAC key, printed once and kept in the store.
 */
static int
prov_add_acme(struct kd_args *a, long long life,
    struct kr_error *err)
{
	struct ca_prov p;
	struct ca_store *st = NULL;
	json_t *o = NULL;
	char path[PATH_MAX], other[PATH_MAX], dir[PATH_MAX], *text = NULL;
	char kid[CA_ACME_ID_LEN + 1], *b64 = NULL;
	uint8_t *key = NULL;
	int ret = -1, wrote = 0;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", a->name);
	p.allow = (char **)a->allow;
	p.nallow = a->nallow;
	p.allow_ip = (char **)a->allow_ip;
	p.nallow_ip = a->nallow_ip;
	p.max_lifetime = life;
	if (acme_path(a->home, a->name, path, err) != 0 ||
	    prov_path(a->home, a->name, other, err) != 0)
		goto out;
	if (access(path, F_OK) == 0 || access(other, F_OK) == 0) {
		kr_fail(err, KR_E_EXISTS, "provisioner %s exists already; "
		    "remove it first", a->name);
		goto out;
	}
	if (ca_acme_prov_to_json(&p, a->eab, &o, err) != KR_OK)
		goto out;
	if ((text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	/* What the daemon will parse, checked now. */
	{
		struct ca_prov *chk = NULL;
		int eab;

		if (ca_acme_prov_parse(text, strlen(text), &chk, &eab, err) !=
		    KR_OK)
			goto out;
		ca_prov_free(chk);
	}
	if (kd_path(a->home, KD_PROVDIR, dir, err) != KR_OK ||
	    kr_mkdirs(dir, 0755, err) != KR_OK ||
	    kr_file_write(path, text, strlen(text), 0644, 0, err) != KR_OK)
		goto out;
	wrote = 1;
	if (a->eab) {
		if ((key = sodium_malloc(CA_ACME_EAB_KEY_LEN)) == NULL ||
		    (b64 = sodium_malloc(ca_jws_b64_len(CA_ACME_EAB_KEY_LEN) +
		    1)) == NULL) {
			kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		randombytes_buf(key, CA_ACME_EAB_KEY_LEN);
		ca_acme_random_id(kid);
		if (kd_path(a->home, KD_STORE, dir, err) != KR_OK ||
		    ca_store_open(dir, &st, err) != KR_OK ||
		    ca_acme_eab_new(st, a->name, kid, key, CA_ACME_EAB_KEY_LEN,
		    kr_now(), err) != KR_OK)
			goto out;
		ca_jws_b64_encode(key, CA_ACME_EAB_KEY_LEN, b64);
	}
	printf("ACME provisioner %s added: https://HOST:PORT/acme/%s/"
	    "directory\na running keyrited loads it on SIGHUP\n", a->name,
	    a->name);
	if (a->eab)
		printf("eab kid: %s\neab hmac key: %s\n(shown once: the "
		    "key is kept only in the store)\n", kid, b64);
	ret = 0;
out:
	if (ret != 0 && wrote)
		unlink(path);
	ca_store_close(st);
	sodium_free(key);
	sodium_free(b64);
	free(text);
	json_decref(o);
	return ret;
}

static int
prov_add_main(int argc, char **argv)
{
	struct kd_args a;
	struct kd_config c;
	struct kr_error err = { 0 };
	struct ca_prov *p = NULL;
	json_t *pub = NULL;
	char path[PATH_MAX], dir[PATH_MAX], *text = NULL;
	long long life;
	int status = 1, wrote_out = 0;

	memset(&c, 0, sizeof(c));
	if (kd_parse(&prov_add_cmd, &a, argc, argv) < 0)
		return EXIT_USAGE;
	if (a.acme && (a.out != NULL || a.admin || a.server != NULL)) {
		kd_args_free(&a);
		return cli_usage(&prov_add_cmd, "--acme takes no --out, "
		    "--admin or --server");
	}
	if (a.eab && !a.acme) {
		kd_args_free(&a);
		return cli_usage(&prov_add_cmd, "--eab needs --acme");
	}
	if (a.name == NULL || (a.out == NULL && !a.acme) ||
	    (a.nallow == 0 && a.nallow_ip == 0)) {
		kd_args_free(&a);
		return cli_usage(&prov_add_cmd, "--name, --out and at least "
		    "one --allow or --allow-ip are required");
	}
	if (!name_ok(a.name)) {
		kd_args_free(&a);
		return cli_usage(&prov_add_cmd, "--name '%s': letters, digits, "
		    "'.', '_' and '-' only, a letter or digit first, and not "
		    "local-admin or keyrited-serving", a.name);
	}
	if (kd_config_load(a.home, &c, &err) != KR_OK)
		goto fail;
	life = c.max_lifetime;
	if (a.max_lifetime != NULL &&
	    (life = kr_parse_duration(a.max_lifetime, 's')) <= 0) {
		kr_fail(&err, KR_E_USAGE, "--max-lifetime %s: not a duration",
		    a.max_lifetime);
		goto fail;
	}
	if (life > c.max_lifetime) {
		kr_fail(&err, KR_E_USAGE, "--max-lifetime %s is longer than "
		    "the signer's max_lifetime", a.max_lifetime);
		goto fail;
	}
	if (a.acme) {
		if (prov_add_acme(&a, life, &err) != 0)
			goto fail;
		status = 0;
		goto out;
	}
	if (prov_path(a.home, a.name, path, &err) != 0 ||
	    acme_path(a.home, a.name, dir, &err) != 0)
		goto fail;
	if (access(path, F_OK) == 0 || access(dir, F_OK) == 0) {
		kr_fail(&err, KR_E_EXISTS, "provisioner %s exists already; "
		    "remove it first", a.name);
		goto fail;
	}
	if (kr_out_check(a.out, a.force, &err) != KR_OK ||
	    ca_prov_new(a.name, a.server ? a.server : c.api_url, a.allow,
	    a.nallow, a.allow_ip, a.nallow_ip, life, &p, &err) != KR_OK ||
	    ca_prov_public_to_json(p, &pub, &err) != KR_OK)
		goto fail;
	if ((text = json_dumps(pub, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	if (kd_path(a.home, KD_PROVDIR, dir, &err) != KR_OK ||
	    kr_mkdirs(dir, 0755, &err) != KR_OK ||
	    ca_prov_write(p, a.out, 0, &err) != KR_OK)
		goto fail;
	wrote_out = 1;
	if (kr_file_write(path, text, strlen(text), 0644, 0, &err) != KR_OK)
		goto fail;
	if (a.admin) {
		char **nv = reallocarray(c.admins, c.nadmins + 1,
		    sizeof(*nv));

		if (nv == NULL || (nv[c.nadmins] = strdup(a.name)) == NULL) {
			if (nv != NULL)
				c.admins = nv;
			unlink(path);
			kr_fail(&err, KR_E_NOMEM, "out of memory");
			goto fail;
		}
		c.admins = nv;
		c.nadmins++;
		if (kd_config_write(&c, 1, &err) != KR_OK) {
			unlink(path);
			goto fail;
		}
	}
	printf("provisioner %s added%s; its secret key is in %s (mode 0600)\n"
	    "a running keyrited loads it on SIGHUP\n", a.name,
	    a.admin ? " (admin)" : "", a.out);
	status = 0;
	goto out;
fail:
	if (wrote_out)
		unlink(a.out);
	status = cli_report(prov_add_cmd.name, &err);
out:
	free(text);
	json_decref(pub);
	ca_prov_free(p);
	kd_config_free(&c);
	kd_args_free(&a);
	return status;
}

struct acme_list {
	json_t	*arr;
	int	 json;
	size_t	 n;
};

static void
acme_list_one(const struct ca_prov *p, int eab, void *arg)
{
	struct acme_list *l = arg;
	struct kr_error err;
	json_t *o;
	size_t j;

	l->n++;
	if (l->json) {
		if (ca_acme_prov_to_json(p, eab, &o, &err) == KR_OK)
			json_array_append_new(l->arr, o);
		return;
	}
	printf("%s (acme%s)  max %lldh  allow:", p->name, eab ? ", eab" : "",
	    p->max_lifetime / 3600);
	for (j = 0; j < p->nallow; j++)
		printf(" %s", p->allow[j]);
	for (j = 0; j < p->nallow_ip; j++)
		printf(" %s", p->allow_ip[j]);
	printf("\n");
}

static int
prov_list_main(int argc, char **argv)
{
	struct kd_args a;
	struct kd_ca ca;
	struct kr_error err = { 0 };
	struct ca_prov *p;
	struct acme_list al;
	json_t *arr, *o;
	size_t i, j;

	if (kd_parse(&prov_list_cmd, &a, argc, argv) < 0)
		return EXIT_USAGE;
	memset(&ca, 0, sizeof(ca));
	pthread_rwlock_init(&ca.provlock, NULL);
	if (kd_config_load(a.home, &ca.cfg, &err) != KR_OK ||
	    kd_provs_load(&ca, &err) != KR_OK ||
	    kd_acme_load(&ca, NULL, &err) != KR_OK) {
		kd_args_free(&a);
		kd_ca_free(&ca);
		return cli_report(prov_list_cmd.name, &err);
	}
	arr = json_array();
	for (i = 0; i < ca.nprovs; i++) {
		p = ca.provs[i].p;
		if (a.json) {
			if (ca_prov_public_to_json(p, &o, &err) == KR_OK) {
				json_object_set_new(o, "admin", json_boolean(
				    kd_prov_is_admin(&ca, p->name)));
				json_array_append_new(arr, o);
			}
			continue;
		}
		printf("%s%s  max %lldh  allow:", p->name,
		    kd_prov_is_admin(&ca, p->name) ? " (admin)" : "",
		    p->max_lifetime / 3600);
		for (j = 0; j < p->nallow; j++)
			printf(" %s", p->allow[j]);
		for (j = 0; j < p->nallow_ip; j++)
			printf(" %s", p->allow_ip[j]);
		printf("\n");
	}
	al.arr = arr;
	al.json = a.json;
	al.n = 0;
	kd_acme_each(acme_list_one, &al);
	kd_acme_unload();
	if (a.json) {
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
	} else if (ca.nprovs == 0 && al.n == 0)
		printf("no provisioners; add one with keyrited provisioner "
		    "add\n");
	json_decref(arr);
	kd_ca_free(&ca);
	kd_args_free(&a);
	return 0;
}

static int
prov_rm_main(int argc, char **argv)
{
	struct kd_args a;
	struct kd_config c;
	struct kr_error err = { 0 };
	char path[PATH_MAX];
	size_t i, k = 0;
	int status = 1;

	memset(&c, 0, sizeof(c));
	if (kd_parse(&prov_rm_cmd, &a, argc, argv) < 0)
		return EXIT_USAGE;
	if (a.name == NULL || !name_ok(a.name)) {
		kd_args_free(&a);
		return cli_usage(&prov_rm_cmd, "--name NAME is required");
	}
	if (kd_config_load(a.home, &c, &err) != KR_OK ||
	    prov_path(a.home, a.name, path, &err) != 0)
		goto fail;
	if (access(path, F_OK) != 0 && acme_path(a.home, a.name, path,
	    &err) != 0)
		goto fail;
	if (unlink(path) != 0) {
		kr_fail(&err, errno == ENOENT ? KR_E_NOTFOUND : KR_E_IO,
		    "provisioner %s: %s", a.name, errno == ENOENT ?
		    "no such provisioner" : strerror(errno));
		goto fail;
	}
	for (i = 0; i < c.nadmins; i++) {
		if (strcmp(c.admins[i], a.name) == 0)
			free(c.admins[i]);
		else
			c.admins[k++] = c.admins[i];
	}
	if (k != c.nadmins) {
		c.nadmins = k;
		if (kd_config_write(&c, 1, &err) != KR_OK)
			goto fail;
	}
	printf("provisioner %s removed; a running keyrited forgets it on "
	    "SIGHUP\n", a.name);
	status = 0;
	goto out;
fail:
	status = cli_report(prov_rm_cmd.name, &err);
out:
	kd_config_free(&c);
	kd_args_free(&a);
	return status;
}

int
kd_cmd_provisioner(int argc, char **argv)
{
	static const struct cli_sub sub[] = {
		{ "add", prov_add_main, &prov_add_cmd },
		{ "list", prov_list_main, &prov_list_cmd },
		{ "remove", prov_rm_main, &prov_rm_cmd },
	};

	return cli_dispatch("provisioner", sub, sizeof(sub) / sizeof(sub[0]),
	    argc, argv);
}

/* ------------------------------------------------------------------ */
/* serve                                                               */
/* ------------------------------------------------------------------ */

static const struct cli_opt serve_opts[] = {
	OPT_HOME,
	{ "listen", 1, 0, "HOST:PORT", "the API's address (overrides the "
	    "config)" },
	{ "publish", 1, 0, "HOST:PORT", "the publication address (overrides "
	    "the config)" },
	{ "check", 0, 0, NULL, "check the configuration, the certificates, "
	    "the provisioners and the key, then exit (also -n)" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd serve_cmd = {
	"serve", "run the API (HTTPS) and publication (HTTP) listeners",
	"--home DIR [--listen HOST:PORT] [--publish HOST:PORT] [-n]",
	"  keyrited serve --home /var/lib/keyrited\n"
	"  keyrited serve -n --home /var/lib/keyrited   # check and exit\n"
	"  kill -HUP PID    # reload provisioners\n"
	"  kill -TERM PID   # stop accepting, finish what is in flight, exit",
	serve_opts,
};

/*
 * serve -n: the store opens, and is left as it is; *older is its schema
 * version when that is older than this keyrited's (which serve would
 * upgrade), else 0.
 */
static enum kr_err
serve_check_store(struct kd_ca *ca, int64_t *older, struct kr_error *err)
{
	struct ca_store *st = NULL;
	char path[PATH_MAX];
	enum kr_err rc;

	*older = 0;
	if ((rc = kd_path(ca->cfg.home, KD_STORE, path, err)) != KR_OK)
		return rc;
	rc = ca_store_open_current(path, &st, older, err);
	ca_store_close(st);
	return rc == KR_E_STATE && *older > 0 ? KR_OK : rc;
}

int
kd_cmd_serve(int argc, char **argv)
{
	struct kd_args a;
	struct kd_ca ca;
	struct kr_error err = { 0 };
	const char *note;
	char host[256], nbuf[200];
	int64_t older = 0;
	int i, port, status;

	/* -n is the short form of --check, as nginx -t / sshd -t. */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "-n") == 0)
			argv[i] = (char *)"--check";
	if (kd_parse(&serve_cmd, &a, argc, argv) < 0)
		return EXIT_USAGE;
	if ((a.listen != NULL && kd_hostport(a.listen, host, sizeof(host),
	    &port) != 0) || (a.publish != NULL && kd_hostport(a.publish, host,
	    sizeof(host), &port) != 0)) {
		kd_args_free(&a);
		return cli_usage(&serve_cmd, "--listen and --publish take "
		    "HOST:PORT");
	}
	if (kd_ca_load(a.home, 1, &ca, &err) != KR_OK) {
		kd_args_free(&a);
		return cli_report(serve_cmd.name, &err);
	}
	if (a.check) {
		if (kd_signer_check(&ca.cfg, &err) != KR_OK ||
		    serve_check_store(&ca, &older, &err) != KR_OK) {
			kd_ca_free(&ca);
			kd_args_free(&a);
			return cli_report(serve_cmd.name, &err);
		}
		printf("%s/%s: OK (intermediate %s, %zu provisioner(s), "
		    "profile %s, key loads and matches)\n", a.home, KD_CONFIG,
		    ca.cfg.subject, ca.nprovs, ca.profile.name);
		if ((note = kd_config_note(&ca.cfg, nbuf, sizeof(nbuf))) !=
		    NULL)
			printf("%s/%s: note: %s\n", a.home, KD_CONFIG, note);
		if (older > 0)
			printf("%s/%s: note: schema version %lld; keyrited "
			    "serve upgrades it to %d when it starts (a backup "
			    "first: docs/formats-store.md)\n", a.home,
			    KD_STORE, (long long)older,
			    CA_STORE_SCHEMA_VERSION);
		kd_ca_free(&ca);
		kd_args_free(&a);
		return 0;
	}
	/*
	 * The worker threads' malloc arenas are not handed back to the
	 * system after each request: glibc's default (a threshold that
	 * follows the largest block freed) trims them again and again,
	 * a system call each time, for memory the next request takes back.
	 */
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	status = kd_serve(&ca, a.listen, a.publish);
	kd_ca_free(&ca);
	kd_args_free(&a);
	return status;
}

/* ------------------------------------------------------------------ */
/* issue                                                               */
/* ------------------------------------------------------------------ */

static const struct cli_opt issue_opts[] = {
	OPT_HOME,
	{ "csr", 1, 0, "FILE", "the request (PEM); its CN and DNS/IP SANs "
	    "are the names" },
	{ "lifetime", 1, 0, "DURATION", "default: the config's "
	    "default_lifetime (24h); at least the profile's backdate + 60s "
	    "(6m)" },
	{ "out", 1, 0, "FILE", "where to write the certificate (default: "
	    "stdout)" },
	{ "force", 0, 0, NULL, "replace --out" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd issue_cmd = {
	"issue", "issue a certificate for a CSR here, as the admin (same "
	"policy, store and linter)",
	"--home DIR --csr FILE [--lifetime D] [--out FILE]",
	"  keyrited issue --home /var/lib/keyrited --csr svc.csr --lifetime "
	"8h --out svc.pem",
	issue_opts,
};

int
kd_cmd_issue(int argc, char **argv)
{
	struct kd_args a;
	struct kd_ca ca;
	struct kr_error err = { 0 };
	struct kd_issue_req r;
	struct kd_issued is;
	struct kd_err ke;
	X509_REQ *req = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509 *x = NULL;
	const unsigned char *p;
	char path[PATH_MAX], **names = NULL, *serial;
	long long life = 0;
	size_t n = 0;
	int status = 1, loaded = 0;

	memset(&is, 0, sizeof(is));
	if (kd_parse(&issue_cmd, &a, argc, argv) < 0)
		return EXIT_USAGE;
	if (a.csr == NULL) {
		kd_args_free(&a);
		return cli_usage(&issue_cmd, "--csr is required");
	}
	if (a.lifetime != NULL &&
	    (life = kr_parse_duration(a.lifetime, 's')) <= 0) {
		kd_args_free(&a);
		return cli_usage(&issue_cmd, "--lifetime '%s' is not a "
		    "duration", a.lifetime);
	}
	if (a.out != NULL && kr_out_check(a.out, a.force, &err) != KR_OK)
		goto fail;
	if (kd_ca_load(a.home, 0, &ca, &err) != KR_OK)
		goto fail;
	loaded = 1;
	if (ca_load_csr(a.csr, &req, &err) != KR_OK)
		goto fail;
	if (X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1) {
		ERR_clear_error();
		kr_fail(&err, KR_E_VERIFY, "%s: the CSR's signature does not "
		    "verify", a.csr);
		goto fail;
	}
	exts = X509_REQ_get_extensions(req);
	ERR_clear_error();
	if (kd_csr_names(X509_REQ_get_subject_name(req), exts, &names, &n,
	    NULL, 0) != 0 || n == 0) {
		kr_fail(&err, KR_E_USAGE, "%s: the CSR names nothing (no CN, "
		    "no DNS or IP SAN)", a.csr);
		goto fail;
	}
	ca.cfg.signers = 1;
	if (kd_path(a.home, KD_STORE, path, &err) != KR_OK ||
	    ca_store_group_open(path, &ca.group, &err) != KR_OK ||
	    kd_signer_start(&ca.cfg, &ca.signers, &err) != KR_OK)
		goto fail;
	memset(&r, 0, sizeof(r));
	r.pub = X509_REQ_get0_pubkey(req);
	r.names = (const char *const *)names;
	r.nnames = n;
	r.lifetime = life;
	r.provname = KD_PROV_LOCAL;
	if (kd_issue(&ca, &r, &is, &ke) != 0) {
		err = ke.e;
		kr_error_prefix(&err, "refused (%s)", ke.code);
		goto fail;
	}
	if (a.out != NULL) {
		p = is.der;
		if ((x = d2i_X509(NULL, &p, (long)is.der_len)) == NULL) {
			kr_fail_ossl(&err, KR_E_INTERNAL, "the certificate "
			    "issued does not parse");
			goto fail;
		}
		if (ca_write_cert(a.out, x, a.force, &err) != KR_OK)
			goto fail;
	} else
		fputs(is.pem, stdout);
	serial = is.serial;
	fprintf(stderr, "issued serial %s for %s%s, %lld s%s\n", serial,
	    names[0], n > 1 ? " (and more)" : "", is.lifetime,
	    is.capped ? " (capped)" : "");
	status = 0;
	goto out;
fail:
	status = cli_report(issue_cmd.name, &err);
out:
	kd_issued_clear(&is);
	X509_free(x);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	kd_names_free(names, n);
	X509_REQ_free(req);
	if (loaded) {
		kd_signer_stop(ca.signers);
		ca_store_group_close(ca.group);
		kd_ca_free(&ca);
	}
	kd_args_free(&a);
	return status;
}

/* ------------------------------------------------------------------ */
/* certs                                                               */
/* ------------------------------------------------------------------ */

static const struct cli_opt certs_opts[] = {
	OPT_HOME,
	{ "expiring", 1, 0, "DURATION", "only those valid now that expire "
	    "within DURATION" },
	{ "all", 0, 0, NULL, "include pending and abandoned reservations" },
	{ "json", 0, 0, NULL, "print JSON" },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd certs_cmd = {
	"certs", "list what the issuance store holds",
	"--home DIR [--expiring D] [--all] [--json]",
	"  keyrited certs --home /var/lib/keyrited --expiring 1h",
	certs_opts,
};

int
kd_cmd_certs(int argc, char **argv)
{
	struct kd_args a;
	struct kr_error err = { 0 };
	struct ca_store_filter f;
	struct ca_store_rec *v = NULL;
	struct ca_store *st = NULL;
	struct kd_config c;
	char path[PATH_MAX], nb[32], na[32];
	struct tm tm;
	json_t *arr, *o;
	size_t n = 0, i;
	int status = 1;

	memset(&c, 0, sizeof(c));
	if (kd_parse(&certs_cmd, &a, argc, argv) < 0)
		return EXIT_USAGE;
	memset(&f, 0, sizeof(f));
	f.now = kr_now();
	f.statuses = a.all ? 0 : CA_STORE_VALID | CA_STORE_REVOKED;
	if (a.expiring != NULL) {
		if ((f.expiring_within = kr_parse_duration(a.expiring, 's')) <=
		    0) {
			kd_args_free(&a);
			return cli_usage(&certs_cmd, "--expiring '%s' is not "
			    "a duration", a.expiring);
		}
		f.statuses = CA_STORE_VALID;
	}
	if (kd_config_load(a.home, &c, &err) != KR_OK ||
	    kd_path(a.home, KD_STORE, path, &err) != KR_OK)
		goto fail;
	if (access(path, F_OK) != 0) {
		kr_fail(&err, KR_E_STATE, "%s: no store yet (run keyrited "
		    "install)", path);
		goto fail;
	}
	if (ca_store_open(path, &st, &err) != KR_OK ||
	    ca_store_list(st, &f, &v, &n, &err) != KR_OK)
		goto fail;
	arr = json_array();
	for (i = 0; i < n; i++) {
		gmtime_r(&v[i].not_before, &tm);
		strftime(nb, sizeof(nb), "%Y-%m-%dT%H:%M:%SZ", &tm);
		gmtime_r(&v[i].not_after, &tm);
		strftime(na, sizeof(na), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (a.json) {
			o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			    "serial", v[i].serial, "status",
			    ca_store_status_name(v[i].status), "subject",
			    v[i].subject, "not_before", nb, "not_after", na,
			    "provisioner", v[i].provisioner, "issuer_kid",
			    v[i].issuer_kid);
			if (o != NULL) {
				json_object_set_new(o, "sans", json_loads(
				    v[i].sans, 0, NULL));
				if (v[i].status == CA_STORE_REVOKED)
					json_object_set_new(o, "reason",
					    json_string(v[i].reason >= 0 ?
					    ca_reason_name(v[i].reason) :
					    "unspecified"));
				json_array_append_new(arr, o);
			}
		} else
			printf("%s  %-9s  %s  %-16s  %s\n", v[i].serial,
			    ca_store_status_name(v[i].status), na,
			    v[i].provisioner, v[i].sans);
	}
	if (a.json) {
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
	} else if (n == 0)
		printf("no certificates%s\n", a.expiring ? " expiring then" :
		    "");
	json_decref(arr);
	status = 0;
	goto out;
fail:
	status = cli_report(certs_cmd.name, &err);
out:
	ca_store_recs_free(v, n);
	ca_store_close(st);
	kd_config_free(&c);
	kd_args_free(&a);
	return status;
}

/* ------------------------------------------------------------------ */
/* revoke                                                              */
/* ------------------------------------------------------------------ */

static const struct cli_opt revoke_opts[] = {
	OPT_HOME,
	{ "serial", 1, 0, "HEX", "the certificate's serial" },
	{ "reason", 1, 0, "REASON", "keyCompromise, superseded, "
	    "cessationOfOperation, ..." },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct cli_cmd revoke_cmd = {
	"revoke", "revoke a certificate as the admin and publish a new CRL",
	"--home DIR --serial HEX [--reason R]",
	"  keyrited revoke --home /var/lib/keyrited --serial 5c1e... "
	"--reason keyCompromise",
	revoke_opts,
};

int
kd_cmd_revoke(int argc, char **argv)
{
	struct kd_args a;
	struct kd_ca ca;
	struct kr_error err = { 0 };
	struct ca_store *st = NULL;
	char path[PATH_MAX];
	int status = 1, reason = -1, loaded = 0;

	if (kd_parse(&revoke_cmd, &a, argc, argv) < 0)
		return EXIT_USAGE;
	if (a.serial == NULL) {
		kd_args_free(&a);
		return cli_usage(&revoke_cmd, "--serial is required");
	}
	if (a.reason != NULL &&
	    !ca_reason_leaf_ok(reason = ca_reason_from_name(a.reason))) {
		kd_args_free(&a);
		return cli_usage(&revoke_cmd, "--reason '%s' is not a reason "
		    "keyrited uses (keyCompromise, superseded, ...)",
		    a.reason);
	}
	if (kd_ca_load(a.home, 0, &ca, &err) != KR_OK)
		goto fail;
	loaded = 1;
	ca.cfg.signers = 1;
	if (kd_path(a.home, KD_STORE, path, &err) != KR_OK ||
	    ca_store_open(path, &st, &err) != KR_OK ||
	    ca_store_revoke(st, ca.kid, a.serial, reason, kr_now(), &err) !=
	    KR_OK)
		goto fail;
	printf("revoked %s\n", a.serial);
	if (kd_signer_start(&ca.cfg, &ca.signers, &err) != KR_OK ||
	    kd_crl_publish(&ca, st, NULL, &err) != KR_OK)
		goto fail;
	printf("published a new CRL in %s/%s/crl/\n", a.home, KD_PUBDIR);
	status = 0;
	goto out;
fail:
	status = cli_report(revoke_cmd.name, &err);
out:
	ca_store_close(st);
	if (loaded) {
		kd_signer_stop(ca.signers);
		kd_ca_free(&ca);
	}
	kd_args_free(&a);
	return status;
}
