/*
 * bench_sign.c: how fast the offline root signs, and what that costs
 * against its peers measured in the same run.  On a throwaway SoftHSM2
 * token (its own SOFTHSM2_CONF in a temp dir) and for EC P-384 and P-256
 * keys it times:
 *
 *   evp-sign       EVP_DigestSign with a software key of the same type,
 *                  in this process (the software peer);
 *   c-sign         hsm_key_sign: digest in software, C_SignInit +
 *                  C_Sign on the token, r||s to DER (the raw token peer);
 *   careful-soft   ca_sign_cert with a software signer: throwaway key,
 *                  lint, sign, assemble, compare TBS, verify, lint;
 *   careful-token  the same with the token signer: what `keyrite root
 *                  sign` pays per certificate once the PIN is in;
 *   build+careful  ca_intermediate_build (CSR signature check, serial,
 *                  extensions) and then careful-token.
 *
 * Each row is warmed up, then the rows take turns in slices until each
 * has run a fixed wall time; the figures are operations per second and
 * microseconds per operation.  Nothing
 * here is a test: it prints numbers and fails only if signing fails.
 * bench/run.sh runs it; see bench/README.md for how to read it.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ca/ca.h"
#include "hsm/hsm.h"
#include "policy/profile.h"

#define SO_PIN	"bench-so-0123456789"
#define PIN	"bench-user-0123456789"
#define WARMUP	0.2		/* seconds before each row is timed */
#define ROUNDS	4		/* slices each row's time is cut into */

static double	bench_seconds = 2.0;
static char	tmpdir[256];

/* One timed row. */
struct row {
	unsigned long	ops;
	double		secs;
};

/* What one operation needs; each op_* uses the fields it names. */
struct op_ctx {
	const unsigned char	*msg;		/* evp-sign, c-sign */
	size_t			 len;
	const EVP_MD		*md;
	EVP_PKEY		*soft;		/* evp-sign */
	struct hsm_key		*key;		/* c-sign */
	X509			*tbs;		/* careful-* */
	X509			*issuer;	/* careful-*, build+careful */
	X509_REQ		*csr;		/* build+careful */
	const struct ca_signer	*signer;	/* careful-*, build+careful */
	const struct pol_profile *prof;
	time_t			 now;
};

typedef enum kr_err (*op_fn)(const struct op_ctx *, struct kr_error *);

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run op until secs have passed; add the whole operations and the time. */
static enum kr_err
run_for(op_fn op, const struct op_ctx *c, double secs, struct row *r,
    struct kr_error *err)
{
	double t0, t;
	enum kr_err rc;

	t0 = mono();
	do {
		if ((rc = op(c, err)) != KR_OK)
			return rc;
		r->ops++;
		t = mono() - t0;
	} while (t < secs);
	r->secs += t;
	return KR_OK;
}

/*
 * Time n rows: each is warmed up for WARMUP seconds, then the rows take
 * turns for ROUNDS slices of bench_seconds / ROUNDS each, so that load
 * from elsewhere on the machine drifting during the run falls on every
 * row alike rather than on whichever row ran then.  The clock is read
 * after each operation, so a slice ends at most one operation late, and
 * the time divided by is the time measured.
 */
static enum kr_err
measure(const op_fn *ops, const struct op_ctx *ctx, size_t n,
    struct row *res, struct kr_error *err)
{
	struct row warm;
	size_t i, k;
	enum kr_err rc;

	for (i = 0; i < n; i++) {
		memset(&warm, 0, sizeof(warm));
		if ((rc = run_for(ops[i], &ctx[i], WARMUP, &warm, err)) !=
		    KR_OK)
			return rc;
		memset(&res[i], 0, sizeof(res[i]));
	}
	for (k = 0; k < ROUNDS; k++)
		for (i = 0; i < n; i++)
			if ((rc = run_for(ops[i], &ctx[i], bench_seconds /
			    ROUNDS, &res[i], err)) != KR_OK)
				return rc;
	return KR_OK;
}

/* One-shot EVP_DigestSign with a fresh context, as a caller would. */
static enum kr_err
op_evp_sign(const struct op_ctx *c, struct kr_error *err)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *sig = NULL;
	size_t n = 0;
	enum kr_err rc;

	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSignInit(ctx, NULL, c->md, NULL, c->soft) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, c->msg, c->len) != 1 ||
	    (sig = malloc(n)) == NULL ||
	    EVP_DigestSign(ctx, sig, &n, c->msg, c->len) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "EVP_DigestSign");
		goto out;
	}
	rc = KR_OK;
out:
	free(sig);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static enum kr_err
op_c_sign(const struct op_ctx *c, struct kr_error *err)
{
	unsigned char *sig = NULL;
	size_t n = 0;
	enum kr_err rc;

	rc = hsm_key_sign(c->key, c->md, c->msg, c->len, &sig, &n, err);
	free(sig);
	return rc;
}

static enum kr_err
op_careful(const struct op_ctx *c, struct kr_error *err)
{
	X509 *cert = NULL;
	enum kr_err rc;

	rc = ca_sign_cert(c->tbs, c->signer, c->prof, c->issuer, c->now,
	    &cert, err);
	X509_free(cert);
	return rc;
}

static enum kr_err
op_build_careful(const struct op_ctx *c, struct kr_error *err)
{
	X509 *tbs = NULL, *cert = NULL;
	enum kr_err rc;

	if ((rc = ca_intermediate_build(c->csr, c->issuer, c->prof, 0, NULL,
	    c->now, &tbs, err)) == KR_OK)
		rc = ca_sign_cert(tbs, c->signer, c->prof, c->issuer, c->now,
		    &cert, err);
	X509_free(tbs);
	X509_free(cert);
	return rc;
}

/* struct ca_signer.sign for a token key (arg is the struct hsm_key). */
static enum kr_err
token_sign(void *arg, const EVP_MD *md, const unsigned char *msg,
    size_t len, unsigned char **sig, size_t *siglen, struct kr_error *err)
{
	return hsm_key_sign(arg, md, msg, len, sig, siglen, err);
}

/* An intermediate's CSR for a software P-256 key, signed by it. */
static enum kr_err
make_csr(EVP_PKEY *key, X509_REQ **out, struct kr_error *err)
{
	X509_NAME *name = NULL;
	X509_REQ *req = NULL;
	enum kr_err rc;

	*out = NULL;
	if ((rc = ca_parse_subject("CN=Bench Issuing CA 1,O=Example", &name,
	    err)) != KR_OK)
		goto out;
	if ((req = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot make the CSR");
		goto out;
	}
	*out = req;
	req = NULL;
	rc = KR_OK;
out:
	X509_NAME_free(name);
	X509_REQ_free(req);
	return rc;
}

/*
 * A name-constrained root for s (self-signed through ca_sign_cert, as
 * `keyrite root init` makes it) and the TBS of an intermediate it would
 * sign for csr, as `keyrite root sign` builds it.
 */
static enum kr_err
make_world(const struct ca_signer *s, const char *subject, X509_REQ *csr,
    const struct pol_profile *root_p, const struct pol_profile *int_p,
    time_t now, X509 **root, X509 **itbs, struct kr_error *err)
{
	static const char *dns[] = { "lab.internal" };
	static const char *ip[] = { "10.0.0.0/8" };
	struct ca_names nc = { dns, 1, ip, 1 };
	X509 *rtbs = NULL;
	enum kr_err rc;

	*root = *itbs = NULL;
	if ((rc = ca_root_build(subject, s->pub, root_p, 0, &nc, now, &rtbs,
	    err)) != KR_OK ||
	    (rc = ca_sign_cert(rtbs, s, root_p, NULL, now, root, err)) !=
	    KR_OK ||
	    (rc = ca_intermediate_build(csr, *root, int_p, 0, NULL, now, itbs,
	    err)) != KR_OK)
		goto out;
	rc = KR_OK;
out:
	X509_free(rtbs);
	return rc;
}

/* One curve's results, by row. */
enum { R_EVP, R_CSIGN, R_CSOFT, R_CTOKEN, R_BUILD, R_N };
static const struct {
	const char	*id;
	const char	*what;
} rows[R_N] = {
	{ "evp-sign", "EVP_DigestSign, software key, in process" },
	{ "c-sign", "hsm_key_sign: digest + C_Sign on the token" },
	{ "careful-soft", "ca_sign_cert, software signer" },
	{ "careful-token", "ca_sign_cert, token signer" },
	{ "build+careful", "ca_intermediate_build + careful-token" },
};

static double
ops_per_sec(const struct row *r)
{
	return r->secs > 0 ? (double)r->ops / r->secs : 0;
}

static double
us_per_op(const struct row *r)
{
	return r->ops > 0 ? r->secs * 1e6 / (double)r->ops : 0;
}

/*
 * Generate the token key and the software keys for one curve, build
 * both worlds, time every row and print it.
 */
static enum kr_err
bench_curve(struct hsm_session *sess, enum hsm_keytype type,
    const char *curve, const char *label, struct row res[R_N],
    struct kr_error *err)
{
	struct pol_profile root_p, int_p;
	struct ca_signer tok, soft;
	static const op_fn ops[R_N] = { op_evp_sign, op_c_sign, op_careful,
	    op_careful, op_build_careful };
	struct op_ctx c, ctx[R_N];
	struct hsm_key *key = NULL;
	EVP_PKEY *skey = NULL, *ikey = NULL;
	X509_REQ *csr = NULL;
	X509 *troot = NULL, *titbs = NULL, *sroot = NULL, *sitbs = NULL;
	X509 *icert = NULL;
	unsigned char *der = NULL;
	time_t now = kr_now();
	char subject[64];
	int len, i;
	enum kr_err rc;

	if ((rc = pol_profile_find("root", &root_p, err)) != KR_OK ||
	    (rc = pol_profile_find("intermediate", &int_p, err)) != KR_OK ||
	    (rc = hsm_keygen(sess, label, type, 0, &key, err)) != KR_OK)
		goto out;
	if ((skey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve)) == NULL ||
	    (ikey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "software keygen");
		goto out;
	}
	tok = (struct ca_signer){ hsm_key_public(key), token_sign, key };
	ca_signer_soft(&soft, skey);
	snprintf(subject, sizeof(subject), "CN=Bench Root %s,O=Example",
	    curve);
	if ((rc = make_csr(ikey, &csr, err)) != KR_OK ||
	    (rc = make_world(&tok, subject, csr, &root_p, &int_p, now, &troot,
	    &titbs, err)) != KR_OK ||
	    (rc = make_world(&soft, subject, csr, &root_p, &int_p, now, &sroot,
	    &sitbs, err)) != KR_OK)
		goto out;
	/*
	 * The raw rows sign what the careful rows sign: the TBS DER, taken
	 * from a signed copy (the bare TBS has no signature algorithm yet).
	 */
	if ((rc = ca_sign_cert(titbs, &tok, &int_p, troot, now, &icert,
	    err)) != KR_OK)
		goto out;
	if ((len = i2d_re_X509_tbs(icert, &der)) <= 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode the TBS");
		goto out;
	}
	c = (struct op_ctx){ .msg = der, .len = (size_t)len,
	    .md = ca_md_for_key(skey), .soft = skey, .key = key,
	    .prof = &int_p, .now = now, .csr = csr };

	for (i = 0; i < R_N; i++)
		ctx[i] = c;
	ctx[R_CSOFT].tbs = sitbs;
	ctx[R_CSOFT].issuer = sroot;
	ctx[R_CSOFT].signer = &soft;
	ctx[R_CTOKEN].tbs = ctx[R_BUILD].tbs = titbs;
	ctx[R_CTOKEN].issuer = ctx[R_BUILD].issuer = troot;
	ctx[R_CTOKEN].signer = ctx[R_BUILD].signer = &tok;
	if ((rc = measure(ops, ctx, R_N, res, err)) != KR_OK)
		goto out;
	for (i = 0; i < R_N; i++)
		printf("%-6s %-14s %8lu %10.1f %9.1f   %s\n", curve, rows[i].id,
		    res[i].ops, ops_per_sec(&res[i]), us_per_op(&res[i]),
		    rows[i].what);
	fflush(stdout);
	rc = KR_OK;
out:
	if (rc != KR_OK)
		kr_error_prefix(err, "%s", curve);
	OPENSSL_free(der);
	X509_free(troot);
	X509_free(titbs);
	X509_free(sroot);
	X509_free(sitbs);
	X509_free(icert);
	X509_REQ_free(csr);
	EVP_PKEY_free(skey);
	EVP_PKEY_free(ikey);
	hsm_key_free(key);
	return rc;
}

/* Ratios of ops/s (A/B: below 1 means A is slower) and a cost split. */
static void
print_ratios(const char *curve, const struct row res[R_N])
{
	double tok = ops_per_sec(&res[R_CTOKEN]);
	double us_tok = us_per_op(&res[R_CTOKEN]);
	double us_c = us_per_op(&res[R_CSIGN]);

	printf("%s ratios (ops/s, A/B):\n", curve);
	printf("  careful-token / c-sign        %8.3f   (careful sign vs "
	    "raw C_Sign)\n", tok / ops_per_sec(&res[R_CSIGN]));
	printf("  c-sign / evp-sign             %8.3f   (token vs software, "
	    "raw)\n", ops_per_sec(&res[R_CSIGN]) / ops_per_sec(&res[R_EVP]));
	printf("  careful-token / careful-soft  %8.3f   (token vs software, "
	    "careful)\n", tok / ops_per_sec(&res[R_CSOFT]));
	printf("  careful-soft / evp-sign       %8.3f   (careful checks vs "
	    "a bare software signature)\n", ops_per_sec(&res[R_CSOFT]) /
	    ops_per_sec(&res[R_EVP]));
	printf("  of %.0f us per careful-token signature, about %.0f us "
	    "(%.0f%%) is the token signature\n  and %.0f us the careful "
	    "checks around it\n", us_tok, us_c, 100 * us_c / us_tok,
	    us_tok - us_c);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

/* A temp dir with a softhsm2.conf pointing into it; SOFTHSM2_CONF set. */
static enum kr_err
softhsm_setup(struct kr_error *err)
{
	char path[512];
	FILE *f;

	snprintf(tmpdir, sizeof(tmpdir), "%s/keyrite-bench-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		tmpdir[0] = '\0';
		return kr_fail(err, KR_E_IO, "mkdtemp: %s", strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/tokens", tmpdir);
	if (mkdir(path, 0700) == -1)
		return kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/softhsm2.conf", tmpdir);
	if ((f = fopen(path, "w")) == NULL)
		return kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
	fprintf(f, "directories.tokendir = %s/tokens\n"
	    "objectstore.backend = file\nlog.level = ERROR\n", tmpdir);
	if (fclose(f) != 0)
		return kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
	setenv("SOFTHSM2_CONF", path, 1);
	return KR_OK;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_sign [-t SECONDS]\n"
	    "  time keyrite's signing paths on a throwaway SoftHSM2 token "
	    "(default 2 s a row)\n");
}

int
main(int argc, char **argv)
{
	static const struct {
		enum hsm_keytype	 type;
		const char		*curve;
		const char		*label;
	} curves[] = {
		{ HSM_KEY_EC_P384, "P-384", "bench-p384" },
		{ HSM_KEY_EC_P256, "P-256", "bench-p256" },
	};
	struct row res[2][R_N];
	struct kr_error err = { 0 };
	struct hsm_module *mod = NULL;
	struct hsm_session *sess = NULL;
	struct hsm_uri u;
	char serial[17], *end;
	size_t i;
	int ch, st = 1;

	memset(&u, 0, sizeof(u));
	while ((ch = getopt(argc, argv, "t:")) != -1) {
		switch (ch) {
		case 't':
			errno = 0;
			bench_seconds = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || bench_seconds < 0.1 ||
			    bench_seconds > 60) {
				fprintf(stderr, "bench_sign: -t '%s': give "
				    "seconds between 0.1 and 60\n", optarg);
				return 2;
			}
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	/* When run by hand from the top of the tree. */
	setenv("KEYRITE_PROFILE_DIR", "profiles", 0);
	if (softhsm_setup(&err) != KR_OK ||
	    hsm_module_load(NULL, &mod, &err) != KR_OK ||
	    hsm_init_token(mod, "bench", SO_PIN, strlen(SO_PIN), PIN,
	    strlen(PIN), serial, &err) != KR_OK ||
	    hsm_uri_parse("pkcs11:token=bench", &u, &err) != KR_OK ||
	    hsm_open(mod, &u, &sess, &err) != KR_OK ||
	    hsm_login(sess, 0, PIN, strlen(PIN), &err) != KR_OK)
		goto out;

	printf("bench_sign: %s; %s\n", hsm_module_description(mod),
	    OpenSSL_version(OPENSSL_VERSION));
	printf("token in %s; %.1f s a row in %d interleaved slices, after "
	    "%.1f s warm-up; one thread\n\n", tmpdir, bench_seconds, ROUNDS,
	    WARMUP);
	printf("%-6s %-14s %8s %10s %9s   %s\n", "curve", "bench", "ops",
	    "ops/s", "us/op", "what");
	fflush(stdout);
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (bench_curve(sess, curves[i].type, curves[i].curve,
		    curves[i].label, res[i], &err) != KR_OK)
			goto out;
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		printf("\n");
		print_ratios(curves[i].curve, res[i]);
	}
	st = 0;
out:
	if (st != 0)
		fprintf(stderr, "bench_sign: %s\n", err.msg);
	hsm_close(sess);
	hsm_uri_free(&u);
	hsm_module_free(mod);
	if (tmpdir[0] != '\0' && nftw(tmpdir, rm_entry, 16,
	    FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "bench_sign: could not remove %s\n", tmpdir);
	return st;
}
