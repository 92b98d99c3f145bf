/*
 * loadgen.c: the load generator for the online signer benchmark
 * (bench/signer.sh).  One program for both servers compared there:
 *
 *   keyrited  POST /v1/sign {"csr": PEM, "token": T}, expecting 201 and
 *             {"certificate": PEM, ...} (docs/api.md).  Tokens are single
 *             use, so every request carries a fresh one, minted with
 *             ca_token_make from a provisioner file (ca_prov_read);
 *   cfssl     POST /api/v1/cfssl/sign {"certificate_request": PEM},
 *             expecting 200 and {"success": true, "result":
 *             {"certificate": PEM}}.
 *
 * N worker threads (default 8) each keep one libcurl easy handle, so one
 * keep-alive TLS connection each (HTTP/1.1, the server's certificate
 * checked against --cacert).  Before anything is timed a pool of P-256
 * CSRs is made (CSR k names lk.DOMAIN in its CN and SAN); then every
 * thread sends requests for --warmup seconds, which opens the
 * connections and wakes the server.  In keyrited mode the tokens for the
 * timed phase are minted next, outside the clock: a token costs about
 * 80 us of CPU (Ed25519, JSON, the key's thumbprint), which on a
 * two-core machine shared with the server would be charged to it.  With
 * --count exactly that many are minted; with --seconds the warm-up's
 * rate times the duration, with a margin.  A request beyond the pool, or
 * whose pooled token is near its exp, mints its own (counted as
 * inline_tokens).  Then the timed phase: a fixed duration or a fixed
 * count of requests shared by the threads.
 *
 * Every response must have the expected status and carry a certificate;
 * the first one each thread gets is also decoded and must hold the CSR's
 * public key and name.  Anything else counts as failed, and a run with a
 * failure exits 1.  The result is one line on stdout, key-value pairs,
 * for scripts:
 *
 *   keyrited certs/s 1234.5 p50_ms 3.10 p99_ms 9.80 n 20000 failed 0 ...
 *
 * certs/s is the successful requests of the timed phase over its wall
 * time (first request sent to last response read); p50/p99 are over the
 * successful requests' latencies; n counts every request of the timed
 * phase.  After those come secs, connects (TCP connections opened in the
 * timed phase; the warm-up opened one per thread, so above 0 means the
 * server closed keep-alive connections), inline_tokens and
 * client_cpu_s (this program's own CPU time in the timed phase, taken
 * from the cores the server runs on too) and warmup_n (the certificates
 * received during the warm-up, not counted in n).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "ca/provisioner.h"
#include "ca/token.h"
#include "common/kr.h"

#define PATH_KEYRITED	"/v1/sign"
#define PATH_CFSSL	"/api/v1/cfssl/sign"
#define URL_MAX		512
#define NAME_MAX_LEN	CA_TOKEN_NAME_MAX
#define TOKEN_MARGIN	30	/* s before exp: pooled token unused */
#define POOL_MARGIN	1.5	/* tokens minted per expected request */
#define POOL_MAX	400000	/* tokens minted before the timed phase */
#define REQ_TIMEOUT	30L	/* seconds for one request */
#define ERR_SNIPPET	200	/* bytes of a failed response kept */

enum server {
	SERVER_KEYRITED,
	SERVER_CFSSL,
};

/* One pre-made CSR: its name, its PEM escaped for a JSON string, its key. */
struct csr {
	char		 name[NAME_MAX_LEN + 1];
	char		*pem_json;
	EVP_PKEY	*key;
};

/* What the run was asked for; read-only once the threads start. */
static struct {
	enum server	 server;
	const char	*label;
	char		 url[URL_MAX];	/* base URL + the path */
	const char	*aud;
	const char	*cacert;
	const char	*domain;
	int		 threads;
	double		 seconds;	/* 0 with count */
	unsigned long	 count;		/* 0 with seconds */
	double		 warmup;
	size_t		 ncsr;
	struct csr	*csrs;
	struct ca_prov	*prov;
	const char	*latfile;	/* --latencies, or NULL */
} cfg;

/*
 * The shared state of a run.  The barriers order the phases: warm-up
 * done (main then sizes the token pool), pool sized, pool minted (main
 * then starts the clock), go.
 */
static struct {
	pthread_barrier_t	 bar;
	double			 warm_end;	/* mono() */
	double			 deadline;	/* mono(), -d */
	char			**tokens;	/* pool; NULL for cfssl */
	size_t			 ntokens;
	time_t			 minted_at;	/* iat of the pool */
	atomic_ulong		 next;		/* request index */
	atomic_int		 abort;		/* a local error */
} run;

/* A growable byte buffer for responses. */
struct buf {
	char	*p;
	size_t	 len, cap;
};

struct worker {
	pthread_t	 tid;
	int		 id;
	CURL		*curl;
	struct curl_slist *hdrs;
	char		*body;
	size_t		 bodycap;
	struct buf	 resp;
	float		*lat;		/* ms of each success */
	size_t		 nlat, caplat;
	unsigned long	 ok, failed, inline_tokens, warm_ok;
	long		 connects;
	double		 t_end;		/* mono(), last response */
	int		 checked;	/* first certificate decoded */
	size_t		 mint_from, mint_to;
	char		 firsterr[ERR_SNIPPET + 64];
	enum kr_err	 rc;		/* a local error stops the run */
	struct kr_error	 err;
};

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * A PEM CSR for a fresh P-256 key naming name in its CN and as its one
 * DNS SAN, signed with SHA-256.  *pem is malloc'd, NUL-terminated and
 * already escaped for a JSON string (PEM has no '"' or '\\', so only the
 * newlines need it); *key is the caller's.
 */
static enum kr_err
csr_make(const char *name, char **pem, EVP_PKEY **key, struct kr_error *err)
{
	EVP_PKEY *k = NULL;
	X509_REQ *req = NULL;
	X509_NAME *subj = NULL;
	X509_EXTENSION *san = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	BIO *bio = NULL;
	char sanv[NAME_MAX_LEN + 8], *data, *out = NULL;
	long n, i;
	size_t o;
	enum kr_err rc;

	*pem = NULL;
	*key = NULL;
	snprintf(sanv, sizeof(sanv), "DNS:%s", name);
	if ((k = EVP_EC_gen("P-256")) == NULL ||
	    (req = X509_REQ_new()) == NULL ||
	    (subj = X509_NAME_new()) == NULL ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL ||
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
	    (const unsigned char *)name, -1, -1, 0) != 1 ||
	    X509_REQ_set_subject_name(req, subj) != 1 ||
	    X509_REQ_set_pubkey(req, k) != 1 ||
	    (san = X509V3_EXT_nconf_nid(NULL, NULL, NID_subject_alt_name,
	    sanv)) == NULL ||
	    sk_X509_EXTENSION_push(exts, san) == 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "making a CSR for %s",
		    name);
		goto out;
	}
	san = NULL;		/* exts owns it */
	if (X509_REQ_add_extensions(req, exts) != 1 ||
	    X509_REQ_sign(req, k, EVP_sha256()) <= 0 ||
	    (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_REQ(bio, req) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "signing the CSR for %s",
		    name);
		goto out;
	}
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || (out = malloc(2 * (size_t)n + 1)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0, o = 0; i < n; i++) {
		if (data[i] == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else
			out[o++] = data[i];
	}
	out[o] = '\0';
	*pem = out;
	*key = k;
	out = NULL;
	k = NULL;
	rc = KR_OK;
out:
	free(out);
	BIO_free(bio);
	X509_EXTENSION_free(san);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(subj);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	return rc;
}

/* Request index idx uses CSR idx mod ncsr, and a token for its name. */
static const struct csr *
csr_for(unsigned long idx)
{
	return &cfg.csrs[idx % cfg.ncsr];
}

/* A fresh token for name, valid for CA_TOKEN_LIFETIME_MAX from now. */
static enum kr_err
token_mint(const char *name, time_t now, char **out, struct kr_error *err)
{
	struct ca_token_req r;

	memset(&r, 0, sizeof(r));
	r.iss = cfg.prov->name;
	r.aud = cfg.aud;
	r.sub = name;
	r.now = now;
	r.lifetime = CA_TOKEN_LIFETIME_MAX;
	return ca_token_make(&r, cfg.prov->sk, out, err);
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = size * n, cap;
	char *q;

	if (b->len + len + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len + 1)
			cap *= 2;
		if ((q = realloc(b->p, cap)) == NULL)
			return 0;	/* curl fails the transfer */
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

/* Remember the first failure of a thread for the report. */
static void
note_failure(struct worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note_failure(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->firsterr[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(w->firsterr, sizeof(w->firsterr), fmt, ap);
	va_end(ap);
}

/*
 * Whether pem is a certificate for c: its public key is the CSR's and
 * it is valid for the CSR's name.  Only the first success of each
 * thread is checked this way: decoding costs client CPU.
 */
static int
cert_matches(const char *pem, const struct csr *c)
{
	BIO *bio;
	X509 *x = NULL;
	EVP_PKEY *pk;
	int ok = 0;

	if ((bio = BIO_new_mem_buf(pem, -1)) != NULL &&
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL &&
	    (pk = X509_get0_pubkey(x)) != NULL)
		ok = EVP_PKEY_eq(pk, c->key) == 1 &&
		    X509_check_host(x, c->name, 0, 0, NULL) == 1;
	X509_free(x);
	BIO_free(bio);
	ERR_clear_error();
	return ok;
}

/*
 * Check a response body: the certificate PEM where the server puts it.
 * Returns the PEM inside root (or NULL) and says why not in w.
 */
static const char *
response_cert(struct worker *w, json_t *root)
{
	json_t *v;
	const char *pem;

	if (cfg.server == SERVER_CFSSL) {
		if (!json_is_true(json_object_get(root, "success"))) {
			note_failure(w, "cfssl: success is not true: %.*s",
			    ERR_SNIPPET, w->resp.p);
			return NULL;
		}
		root = json_object_get(root, "result");
	}
	v = json_object_get(root, "certificate");
	if ((pem = json_string_value(v)) == NULL ||
	    strncmp(pem, "-----BEGIN CERTIFICATE-----", 27) != 0) {
		note_failure(w, "no certificate in the response: %.*s",
		    ERR_SNIPPET, w->resp.p);
		return NULL;
	}
	return pem;
}

/*
 * Send request idx.  tok is the token to use in keyrited mode (NULL to
 * mint one here).  *ok says whether the server signed; *ms is the
 * latency.  A return other than KR_OK is a local failure that stops the
 * run, never the server's.
 */
static enum kr_err
request(struct worker *w, unsigned long idx, const char *tok, int *ok,
    double *ms)
{
	const struct csr *c = csr_for(idx);
	char *mine = NULL;
	const char *pem;
	json_t *root = NULL;
	json_error_t jerr;
	size_t need;
	long status = 0, conns = 0;
	double t0;
	int n;
	CURLcode cc;
	enum kr_err rc;

	*ok = 0;
	*ms = 0;
	if (cfg.server == SERVER_KEYRITED && tok == NULL) {
		if ((rc = token_mint(c->name, time(NULL), &mine, &w->err)) !=
		    KR_OK)
			return rc;
		tok = mine;
		w->inline_tokens++;
	}
	need = strlen(c->pem_json) + (tok ? strlen(tok) : 0) + 64;
	if (need > w->bodycap) {
		free(w->body);
		w->bodycap = 0;
		if ((w->body = malloc(need)) == NULL) {
			free(mine);
			return kr_fail(&w->err, KR_E_NOMEM, "out of memory");
		}
		w->bodycap = need;
	}
	if (cfg.server == SERVER_KEYRITED)
		n = snprintf(w->body, w->bodycap,
		    "{\"csr\":\"%s\",\"token\":\"%s\"}", c->pem_json, tok);
	else
		n = snprintf(w->body, w->bodycap,
		    "{\"certificate_request\":\"%s\"}", c->pem_json);
	free(mine);
	if (n < 0 || (size_t)n >= w->bodycap)
		return kr_fail(&w->err, KR_E_INTERNAL, "request body");

	w->resp.len = 0;
	if (w->resp.p)
		w->resp.p[0] = '\0';
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, w->body);
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE, (long)n);
	t0 = mono();
	cc = curl_easy_perform(w->curl);
	*ms = (mono() - t0) * 1e3;
	curl_easy_getinfo(w->curl, CURLINFO_NUM_CONNECTS, &conns);
	w->connects += conns;
	if (cc != CURLE_OK) {
		note_failure(w, "%s: %s", cfg.url, curl_easy_strerror(cc));
		return KR_OK;
	}
	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != (cfg.server == SERVER_KEYRITED ? 201 : 200)) {
		note_failure(w, "HTTP %ld: %.*s", status, ERR_SNIPPET,
		    w->resp.p ? w->resp.p : "");
		return KR_OK;
	}
	if ((root = json_loadb(w->resp.p ? w->resp.p : "", w->resp.len, 0,
	    &jerr)) == NULL) {
		note_failure(w, "HTTP %ld, not JSON (%s): %.*s", status,
		    jerr.text, ERR_SNIPPET, w->resp.p ? w->resp.p : "");
		return KR_OK;
	}
	if ((pem = response_cert(w, root)) != NULL) {
		if (!w->checked && !cert_matches(pem, c))
			note_failure(w, "the certificate is not for the CSR's "
			    "key and name %s", c->name);
		else {
			w->checked = 1;
			*ok = 1;
		}
	}
	json_decref(root);
	return KR_OK;
}

static enum kr_err
lat_add(struct worker *w, double ms)
{
	float *p;
	size_t cap;

	if (w->nlat == w->caplat) {
		cap = w->caplat ? 2 * w->caplat : 4096;
		if ((p = realloc(w->lat, cap * sizeof(*p))) == NULL)
			return kr_fail(&w->err, KR_E_NOMEM, "out of memory");
		w->lat = p;
		w->caplat = cap;
	}
	w->lat[w->nlat++] = (float)ms;
	return KR_OK;
}

/* The pooled token for request idx, or NULL to mint one inline. */
static const char *
pooled_token(unsigned long idx)
{
	if (run.tokens == NULL || idx >= run.ntokens)
		return NULL;
	if (time(NULL) - run.minted_at >= CA_TOKEN_LIFETIME_MAX - TOKEN_MARGIN)
		return NULL;
	return run.tokens[idx];
}

static enum kr_err
worker_setup(struct worker *w)
{
	if ((w->curl = curl_easy_init()) == NULL ||
	    (w->hdrs = curl_slist_append(NULL,
	    "Content-Type: application/json")) == NULL ||
	    curl_slist_append(w->hdrs, "Expect:") == NULL)
		return kr_fail(&w->err, KR_E_NOMEM, "curl: out of memory");
	/* "Expect:" off: no 100-continue round trip before a 1 KiB body. */
	if (curl_easy_setopt(w->curl, CURLOPT_URL, cfg.url) != CURLE_OK ||
	    curl_easy_setopt(w->curl, CURLOPT_CAINFO, cfg.cacert) !=
	    CURLE_OK ||
	    curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, w->hdrs) !=
	    CURLE_OK ||
	    curl_easy_setopt(w->curl, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
	    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(w->curl, CURLOPT_TIMEOUT, REQ_TIMEOUT) !=
	    CURLE_OK ||
	    curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, on_data) !=
	    CURLE_OK ||
	    curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, &w->resp) != CURLE_OK)
		return kr_fail(&w->err, KR_E_INTERNAL, "curl_easy_setopt");
	return KR_OK;
}

/* Mint the pool's tokens [mint_from, mint_to) (keyrited mode). */
static enum kr_err
worker_mint(struct worker *w)
{
	size_t i;
	enum kr_err rc;

	for (i = w->mint_from; i < w->mint_to; i++)
		if ((rc = token_mint(csr_for(i)->name, run.minted_at,
		    &run.tokens[i], &w->err)) != KR_OK)
			return rc;
	return KR_OK;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned long idx, j;
	double ms;
	int ok;
	enum kr_err rc = KR_OK;

	if ((rc = worker_setup(w)) != KR_OK)
		atomic_store(&run.abort, 1);
	/* Warm-up: connections open, server awake; nothing recorded. */
	for (j = 0; rc == KR_OK && !atomic_load(&run.abort) &&
	    mono() < run.warm_end; j++) {
		if ((rc = request(w, (unsigned long)w->id * 7919 + j, NULL, &ok,
		    &ms)) != KR_OK)
			atomic_store(&run.abort, 1);
		w->warm_ok += (unsigned long)ok;
	}
	w->inline_tokens = 0;
	w->connects = 0;
	pthread_barrier_wait(&run.bar);		/* warm-up done */
	pthread_barrier_wait(&run.bar);		/* pool sized */
	if (rc == KR_OK && !atomic_load(&run.abort) &&
	    (rc = worker_mint(w)) != KR_OK)
		atomic_store(&run.abort, 1);
	pthread_barrier_wait(&run.bar);		/* pool minted */
	pthread_barrier_wait(&run.bar);		/* go */
	w->t_end = mono();
	while (rc == KR_OK && !atomic_load(&run.abort)) {
		if (cfg.count == 0 && mono() >= run.deadline)
			break;
		idx = atomic_fetch_add(&run.next, 1);
		if (cfg.count != 0 && idx >= cfg.count)
			break;
		if ((rc = request(w, idx, pooled_token(idx), &ok, &ms)) !=
		    KR_OK) {
			atomic_store(&run.abort, 1);
			break;
		}
		w->t_end = mono();
		if (ok) {
			w->ok++;
			if ((rc = lat_add(w, ms)) != KR_OK) {
				atomic_store(&run.abort, 1);
				break;
			}
		} else
			w->failed++;
	}
	w->rc = rc;
	return NULL;
}

static int
cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile p (0..1) of sorted v[n]; 0 when n is 0. */
static double
percentile(const float *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(p * (double)n);
	if ((double)k < p * (double)n || k < 1)
		k++;
	return v[k - 1];
}

/* --latencies: one latency in ms a line, replacing the file. */
static enum kr_err
write_latencies(const float *v, size_t n, struct kr_error *err)
{
	FILE *f;
	size_t i;
	int bad = 0;

	if ((f = fopen(cfg.latfile, "w")) == NULL)
		return kr_fail(err, KR_E_IO, "%s: %s", cfg.latfile,
		    strerror(errno));
	for (i = 0; i < n && !bad; i++)
		bad = fprintf(f, "%.3f\n", (double)v[i]) < 0;
	if (fclose(f) != 0 || bad)
		return kr_fail(err, KR_E_IO, "%s: cannot write", cfg.latfile);
	return KR_OK;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: loadgen --server keyrited|cfssl --url https://HOST:PORT --cacert PEM\n"
"               [--provisioner FILE] [--aud URL] [--domain DOMAIN]\n"
"               [-t threads] [-d seconds | -n count] [--warmup seconds]\n"
"               [--csrs N] [--label LABEL] [--latencies FILE]\n"
"\n"
"Sends signing requests for P-256 CSRs to keyrited (POST /v1/sign, a\n"
"fresh token from --provisioner each) or cfssl (POST /api/v1/cfssl/sign)\n"
"from -t threads (8) for -d seconds (10) or -n requests, and prints\n"
"  LABEL certs/s R p50_ms A p99_ms B n N failed F secs S connects C\n"
"  inline_tokens I client_cpu_s U\n"
"Names are lK.DOMAIN (default bench.lab.internal); --aud defaults to\n"
"--url.  --latencies writes each successful request's latency (ms), one\n"
"a line, so runs can be pooled.  Exit 1 if any request failed.\n"
"\n"
"example:\n"
"  loadgen --server keyrited --url https://127.0.0.1:8443 \\\n"
"      --cacert root.pem --provisioner bench.provisioner -t 8 -d 10\n");
}

/* A positive number from s, whole if whole; -1 if it is not one. */
static double
parse_num(const char *s, int whole)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) || v > 1e9 ||
	    (whole && v != (double)(long long)v))
		return -1;
	return v;
}

/* Parse the command line into cfg; 2 on a usage error, 0 to go on. */
static int
parse_args(int argc, char **argv, const char **url, const char **provf)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "url", required_argument, NULL, 'u' },
		{ "cacert", required_argument, NULL, 'c' },
		{ "provisioner", required_argument, NULL, 'p' },
		{ "aud", required_argument, NULL, 'a' },
		{ "domain", required_argument, NULL, 'D' },
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "csrs", required_argument, NULL, 'k' },
		{ "label", required_argument, NULL, 'l' },
		{ "latencies", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *server = NULL;
	double v;
	int ch, li = -1;

	cfg.threads = 8;
	cfg.warmup = 1;
	cfg.ncsr = 256;
	cfg.domain = "bench.lab.internal";
	while ((ch = getopt_long(argc, argv, "t:d:n:h", opts, &li)) != -1) {
		switch (ch) {
		case 's':
			server = optarg;
			break;
		case 'u':
			*url = optarg;
			break;
		case 'c':
			cfg.cacert = optarg;
			break;
		case 'p':
			*provf = optarg;
			break;
		case 'a':
			cfg.aud = optarg;
			break;
		case 'D':
			cfg.domain = optarg;
			break;
		case 't':
			if ((v = parse_num(optarg, 1)) < 0 || v > 1024)
				goto bad;
			cfg.threads = (int)v;
			break;
		case 'd':
			if ((cfg.seconds = parse_num(optarg, 0)) < 0)
				goto bad;
			break;
		case 'n':
			if ((v = parse_num(optarg, 1)) < 0)
				goto bad;
			cfg.count = (unsigned long)v;
			break;
		case 'w':
			/* 0 is allowed: no warm-up. */
			if (strcmp(optarg, "0") == 0)
				cfg.warmup = 0;
			else if ((cfg.warmup = parse_num(optarg, 0)) < 0)
				goto bad;
			break;
		case 'k':
			if ((v = parse_num(optarg, 1)) < 0 || v > 100000)
				goto bad;
			cfg.ncsr = (size_t)v;
			break;
		case 'l':
			cfg.label = optarg;
			break;
		case 'L':
			cfg.latfile = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
		li = -1;
	}
	if (optind != argc || server == NULL || *url == NULL ||
	    cfg.cacert == NULL) {
		fprintf(stderr, "loadgen: --server, --url and --cacert are "
		    "required\n");
		usage(stderr);
		return 2;
	}
	if (strcmp(server, "keyrited") == 0)
		cfg.server = SERVER_KEYRITED;
	else if (strcmp(server, "cfssl") == 0)
		cfg.server = SERVER_CFSSL;
	else {
		fprintf(stderr, "loadgen: --server %s: keyrited or cfssl\n",
		    server);
		return 2;
	}
	if ((cfg.server == SERVER_KEYRITED) != (*provf != NULL)) {
		fprintf(stderr, "loadgen: --provisioner is needed with "
		    "--server keyrited, and only then\n");
		return 2;
	}
	if (cfg.seconds > 0 && cfg.count > 0) {
		fprintf(stderr, "loadgen: -d and -n conflict; give one\n");
		return 2;
	}
	if (cfg.seconds == 0 && cfg.count == 0)
		cfg.seconds = 10;
	if (strncmp(*url, "https://", 8) != 0 ||
	    strlen(*url) + sizeof(PATH_CFSSL) > sizeof(cfg.url)) {
		fprintf(stderr, "loadgen: --url %s: an https URL without a "
		    "path, e.g. https://127.0.0.1:8443\n", *url);
		return 2;
	}
	if (strlen(cfg.domain) + 12 > NAME_MAX_LEN) {
		fprintf(stderr, "loadgen: --domain is too long\n");
		return 2;
	}
	if (cfg.label == NULL)
		cfg.label = server;
	if (cfg.aud == NULL)
		cfg.aud = *url;
	snprintf(cfg.url, sizeof(cfg.url), "%s%s", *url,
	    cfg.server == SERVER_KEYRITED ? PATH_KEYRITED : PATH_CFSSL);
	return 0;
bad:
	if (li >= 0)
		fprintf(stderr, "loadgen: --%s %s: not a valid number\n",
		    opts[li].name, optarg);
	else
		fprintf(stderr, "loadgen: -%c %s: not a valid number\n", ch,
		    optarg);
	return 2;
}

/* The CSR pool; the first name is checked against the provisioner. */
static enum kr_err
make_csrs(struct kr_error *err)
{
	size_t i;
	enum kr_err rc;

	if ((cfg.csrs = calloc(cfg.ncsr, sizeof(*cfg.csrs))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; i < cfg.ncsr; i++) {
		snprintf(cfg.csrs[i].name, sizeof(cfg.csrs[i].name),
		    "l%zu.%s", i, cfg.domain);
		if ((rc = csr_make(cfg.csrs[i].name, &cfg.csrs[i].pem_json,
		    &cfg.csrs[i].key, err)) != KR_OK)
			return rc;
	}
	if (cfg.prov != NULL && (rc = ca_prov_check_names(cfg.prov,
	    cfg.csrs[0].name, NULL, 0, err)) != KR_OK) {
		kr_error_prefix(err, "provisioner %s (try --domain)",
		    cfg.prov->name);
		return rc;
	}
	return KR_OK;
}

/*
 * How many tokens to mint before the clock starts: all of them with a
 * count; with a duration, the warm-up's rate over the duration with a
 * margin (requests beyond it mint their own, and say so).
 */
static size_t
pool_size(const struct worker *ws, double warm_secs)
{
	unsigned long warm_ok = 0;
	double want;
	int i;

	if (cfg.server != SERVER_KEYRITED)
		return 0;
	if (cfg.count != 0)
		return cfg.count > POOL_MAX ? POOL_MAX : cfg.count;
	for (i = 0; i < cfg.threads; i++)
		warm_ok += ws[i].warm_ok;
	/* No warm-up to go by: guess high, minting is cheap. */
	want = warm_ok > 0 ? (double)warm_ok / warm_secs : 2000;
	want = want * cfg.seconds * POOL_MARGIN + 16.0 * cfg.threads;
	return want > POOL_MAX ? POOL_MAX : (size_t)want;
}

int
main(int argc, char **argv)
{
	struct worker *ws = NULL;
	struct kr_error err;
	const char *url = NULL, *provf = NULL;
	unsigned long ok = 0, failed = 0, inl = 0, warm = 0;
	long connects = 0;
	size_t nlat = 0, i, k;
	float *lat = NULL;
	double t_start, t_end, warm_start, mint_start, mint_secs = 0, cpu0,
	    elapsed;
	int t, started = 0, barrier = 0, curl = 0, exitc = 1;
	enum kr_err rc;

	memset(&err, 0, sizeof(err));
	if ((t = parse_args(argc, argv, &url, &provf)) != 0)
		return t;
	if (sodium_init() < 0) {
		fprintf(stderr, "loadgen: sodium_init failed\n");
		return 1;
	}
	json_object_seed(0);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "loadgen: curl_global_init failed\n");
		return 1;
	}
	curl = 1;
	if (provf != NULL &&
	    (rc = ca_prov_read(provf, &cfg.prov, &err)) != KR_OK)
		goto fail;
	if ((rc = make_csrs(&err)) != KR_OK)
		goto fail;
	if ((ws = calloc((size_t)cfg.threads, sizeof(*ws))) == NULL) {
		rc = kr_fail(&err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	if (pthread_barrier_init(&run.bar, NULL, (unsigned)cfg.threads + 1)) {
		rc = kr_fail(&err, KR_E_INTERNAL, "pthread_barrier_init");
		goto fail;
	}
	barrier = 1;
	warm_start = mono();
	run.warm_end = warm_start + cfg.warmup;
	for (t = 0; t < cfg.threads; t++) {
		ws[t].id = t;
		if (pthread_create(&ws[t].tid, NULL, worker_main, &ws[t])) {
			/* The barrier counts on every thread: stop here. */
			fprintf(stderr, "loadgen: pthread_create: %s\n",
			    strerror(errno));
			_exit(1);
		}
	}
	started = 1;

	pthread_barrier_wait(&run.bar);		/* warm-up done */
	if ((run.ntokens = pool_size(ws, mono() - warm_start)) > 0) {
		if ((run.tokens = calloc(run.ntokens, sizeof(char *))) ==
		    NULL) {
			run.ntokens = 0;
			atomic_store(&run.abort, 1);
		}
		run.minted_at = time(NULL);
		for (t = 0; t < cfg.threads; t++) {
			ws[t].mint_from = run.ntokens * (size_t)t /
			    (size_t)cfg.threads;
			ws[t].mint_to = run.ntokens * (size_t)(t + 1) /
			    (size_t)cfg.threads;
		}
	}
	mint_start = mono();
	pthread_barrier_wait(&run.bar);		/* pool sized */
	pthread_barrier_wait(&run.bar);		/* pool minted */
	mint_secs = mono() - mint_start;
	cpu0 = cpu_seconds();
	t_start = mono();
	run.deadline = t_start + cfg.seconds;
	pthread_barrier_wait(&run.bar);		/* go */

	for (t = 0; t < cfg.threads; t++)
		pthread_join(ws[t].tid, NULL);
	started = 0;
	for (t = 0; t < cfg.threads; t++)
		if (ws[t].rc != KR_OK) {
			err = ws[t].err;
			rc = ws[t].rc;
			goto fail;
		}
	if (atomic_load(&run.abort)) {
		rc = kr_fail(&err, KR_E_NOMEM, "out of memory");
		goto fail;
	}

	t_end = t_start;
	for (t = 0; t < cfg.threads; t++) {
		ok += ws[t].ok;
		warm += ws[t].warm_ok;
		failed += ws[t].failed;
		inl += ws[t].inline_tokens;
		connects += ws[t].connects;
		nlat += ws[t].nlat;
		if (ws[t].t_end > t_end)
			t_end = ws[t].t_end;
	}
	elapsed = t_end - t_start;
	if ((lat = malloc((nlat ? nlat : 1) * sizeof(*lat))) == NULL) {
		rc = kr_fail(&err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	for (t = 0, k = 0; t < cfg.threads; t++)
		for (i = 0; i < ws[t].nlat; i++)
			lat[k++] = ws[t].lat[i];
	qsort(lat, nlat, sizeof(*lat), cmp_float);
	if (cfg.latfile != NULL && (rc = write_latencies(lat, nlat, &err)) !=
	    KR_OK)
		goto fail;

	if (run.ntokens > 0)
		fprintf(stderr, "loadgen: %s: %zu tokens minted before the "
		    "clock started, in %.2f s (%.0f/s on %d threads)\n",
		    cfg.label, run.ntokens, mint_secs, mint_secs > 0 ?
		    (double)run.ntokens / mint_secs : 0.0, cfg.threads);
	printf("%s certs/s %.1f p50_ms %.2f p99_ms %.2f n %lu failed %lu "
	    "secs %.2f connects %ld inline_tokens %lu client_cpu_s %.2f "
	    "warmup_n %lu\n",
	    cfg.label, elapsed > 0 ? (double)ok / elapsed : 0.0,
	    percentile(lat, nlat, 0.50), percentile(lat, nlat, 0.99),
	    ok + failed, failed, elapsed, connects, inl,
	    cpu_seconds() - cpu0, warm);
	fflush(stdout);
	exitc = 0;
	if (failed > 0 || ok == 0) {
		fprintf(stderr, "loadgen: %s: %lu of %lu requests failed",
		    cfg.label, failed, ok + failed);
		for (t = 0; t < cfg.threads; t++)
			if (ws[t].firsterr[0] != '\0') {
				fprintf(stderr, "; first: %s", ws[t].firsterr);
				break;
			}
		fprintf(stderr, "\n");
		exitc = 1;
	}
	goto out;
fail:
	fprintf(stderr, "loadgen: %s\n", err.msg[0] ? err.msg :
	    kr_strerror(rc));
out:
	if (started)		/* only on a failure before the joins */
		_exit(1);
	free(lat);
	if (ws != NULL)
		for (t = 0; t < cfg.threads; t++) {
			curl_slist_free_all(ws[t].hdrs);
			if (ws[t].curl)
				curl_easy_cleanup(ws[t].curl);
			free(ws[t].body);
			free(ws[t].resp.p);
			free(ws[t].lat);
		}
	free(ws);
	for (i = 0; i < run.ntokens; i++)
		free(run.tokens[i]);
	free(run.tokens);
	for (i = 0; cfg.csrs != NULL && i < cfg.ncsr; i++) {
		free(cfg.csrs[i].pem_json);
		EVP_PKEY_free(cfg.csrs[i].key);
	}
	free(cfg.csrs);
	ca_prov_free(cfg.prov);
	if (barrier)
		pthread_barrier_destroy(&run.bar);
	if (curl)
		curl_global_cleanup();
	return exitc;
}
