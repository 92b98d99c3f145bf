/*
 * cmd_cert.c: keyrite cert request | renew | revoke, the client of the
 * online signer keyrited (docs/api.md), and the one HTTPS call they
 * share (cli_http_post_json).
 *
 * The key is made here and never leaves the machine: only a CSR goes
 * out.  The server is trusted through --root alone, never the system's
 * CA store.  Every answer is checked before anything is written: the
 * certificate must be for our key, name every name we asked for, and
 * chain to --root.  A new directory is written as a whole (temporary
 * sibling, renamed), so a failed request leaves nothing behind.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "cli.h"
#include "ca/provisioner.h"
#include "ca/token.h"

/* The files of a certificate directory (cert request --out DIR). */
#define F_KEY		"key.pem"
#define F_CERT		"cert.pem"
#define F_CHAIN		"chain.pem"
#define F_FULLCHAIN	"fullchain.pem"
static const char *const dir_files[] = { F_KEY, F_CERT, F_CHAIN,
	F_FULLCHAIN };
#define NDIR_FILES	(sizeof(dir_files) / sizeof(dir_files[0]))

/* Revocation reasons the API takes (docs/api.md, POST /v1/revoke). */
static const char *const api_reasons[] = { "unspecified", "keyCompromise",
	"affiliationChanged", "superseded", "cessationOfOperation",
	"privilegeWithdrawn" };

/* ------------------------------------------------------------------ */
/* HTTPS */

int
cli_server_url_ok(const char *url, char *why, size_t whylen)
{
	CURLU *u = NULL;
	char *host = NULL, *part = NULL;
	size_t i;
	int ok = 0;

	if (strncmp(url, "https://", 8) != 0) {
		snprintf(why, whylen, "is not an https:// URL; keyrited "
		    "serves its API over HTTPS only");
		return 0;
	}
	for (i = 0; url[i] != '\0'; i++)
		if (url[i] <= 0x20 || url[i] >= 0x7f) {
			snprintf(why, whylen, "has a space or a character "
			    "that is not printable ASCII");
			return 0;
		}
	if (i > CA_PROV_SERVER_MAX) {
		snprintf(why, whylen, "is longer than %d characters",
		    CA_PROV_SERVER_MAX);
		return 0;
	}
	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0') {
		snprintf(why, whylen, "is not a URL with a host, like "
		    "https://ca.lab.internal:8443");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
		snprintf(why, whylen, "must be the server's base URL, "
		    "without a user, query or fragment");
		goto out;
	}
	ok = 1;
out:
	curl_free(part);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* What the write callback collects: at most CLI_HTTP_MAX bytes. */
struct http_buf {
	char	*p;
	size_t	 len;
	int	 too_big;
};

static size_t
http_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_buf *b = arg;
	size_t n = size * nmemb;
	char *np;

	if (n > CLI_HTTP_MAX - b->len) {
		b->too_big = 1;
		return 0;
	}
	if ((np = realloc(b->p, b->len + n + 1)) == NULL)
		return 0;
	b->p = np;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* Set options until one fails; rc keeps the first failure. */
#define SETOPT(c, o, v) do {						\
	if (rc == CURLE_OK)						\
		rc = curl_easy_setopt(c, o, v);				\
} while (0)

static const char *const http_headers[] = {
	"Content-Type: application/json",
	"Accept: application/json",
	"Expect:",	/* the bodies are small: no waiting for a 100 */
};

enum kr_err
cli_http_post_json(const char *url, const struct cli_http *h,
    const json_t *body, long *status, json_t **resp, struct kr_error *err)
{
	struct http_buf b = { NULL, 0, 0 };
	struct curl_slist *hdrs = NULL, *nh;
	char ebuf[CURL_ERROR_SIZE];
	json_t *j;
	char *text = NULL;
	CURL *c = NULL;
	CURLcode rc = CURLE_OK;
	size_t len, i;
	enum kr_err r;

	*status = 0;
	*resp = NULL;
	ebuf[0] = '\0';
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return kr_fail(err, KR_E_INTERNAL, "libcurl failed to "
		    "initialise");
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL ||
	    (c = curl_easy_init()) == NULL) {
		r = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < sizeof(http_headers) / sizeof(http_headers[0]); i++) {
		if ((nh = curl_slist_append(hdrs, http_headers[i])) == NULL) {
			r = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
		hdrs = nh;
	}
	SETOPT(c, CURLOPT_ERRORBUFFER, ebuf);
	SETOPT(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(c, CURLOPT_PROTOCOLS_STR, "https");
#else
	SETOPT(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(c, CURLOPT_USERAGENT, "keyrite");
	SETOPT(c, CURLOPT_HTTPHEADER, hdrs);
	SETOPT(c, CURLOPT_POSTFIELDS, text);
	SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
	/* Trust only the given file: no CA directory, no system store. */
	SETOPT(c, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(c, CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(c, CURLOPT_CAINFO, h->ca_file);
	SETOPT(c, CURLOPT_CAPATH, (char *)NULL);
	SETOPT(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (h->cert_file != NULL) {
		SETOPT(c, CURLOPT_SSLCERT, h->cert_file);
		SETOPT(c, CURLOPT_SSLCERTTYPE, "PEM");
		SETOPT(c, CURLOPT_SSLKEY, h->key_file);
		SETOPT(c, CURLOPT_SSLKEYTYPE, "PEM");
	}
	SETOPT(c, CURLOPT_TIMEOUT, h->timeout > 0 ? h->timeout :
	    (long)CLI_HTTP_TIMEOUT);
	SETOPT(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CLI_HTTP_MAX);
	SETOPT(c, CURLOPT_WRITEFUNCTION, http_write);
	SETOPT(c, CURLOPT_WRITEDATA, &b);
	if (rc != CURLE_OK) {
		r = kr_fail(err, KR_E_INTERNAL, "libcurl: %s",
		    curl_easy_strerror(rc));
		goto out;
	}
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		if (b.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
			r = kr_fail(err, KR_E_PARSE, "%s: the answer is larger "
			    "than %d bytes; refused", url, CLI_HTTP_MAX);
			goto out;
		}
		len = strlen(ebuf);
		while (len > 0 && (ebuf[len - 1] == '\n' ||
		    ebuf[len - 1] == '\r'))
			ebuf[--len] = '\0';
		r = kr_fail(err, KR_E_IO, "%s: %s%s%s%s", url,
		    curl_easy_strerror(rc), ebuf[0] ? " (" : "", ebuf,
		    ebuf[0] ? ")" : "");
		if (rc == CURLE_PEER_FAILED_VERIFICATION)
			kr_error_prefix(err, "cannot verify the server "
			    "against %s (is it the right root, and the URL's "
			    "host a name in the server's certificate?)",
			    h->ca_file);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (b.len > 0 && (j = json_loadb(b.p, b.len, JSON_REJECT_DUPLICATES,
	    NULL)) != NULL) {
		if (json_is_object(j))
			*resp = j;
		else
			json_decref(j);
	}
	r = KR_OK;
out:
	if (text != NULL) {
		/* It may hold a token, a bearer credential until it expires. */
		sodium_memzero(text, strlen(text));
		free(text);
	}
	free(b.p);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	return r;
}

/* s with anything but printable ASCII as '?', for the server's words. */
static const char *
safe_text(const char *s, char *buf, size_t sz)
{
	size_t i;

	if (s == NULL)
		s = "";
	for (i = 0; s[i] != '\0' && i + 1 < sz; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/* "server refused: CODE: MESSAGE (HTTP N)", from an error answer. */
static enum kr_err
server_refused(long status, const json_t *resp, struct kr_error *err)
{
	const char *code, *msg;
	char cb[64], mb[512];

	code = json_string_value(json_object_get(resp, "error"));
	msg = json_string_value(json_object_get(resp, "message"));
	if (code == NULL)
		return kr_fail(err, KR_E_POLICY, "server refused: HTTP %ld, "
		    "with no keyrite error in the answer (is --server a "
		    "keyrited?)", status);
	return kr_fail(err, KR_E_POLICY, "server refused: %s: %s (HTTP %ld)",
	    safe_text(code, cb, sizeof(cb)), safe_text(msg, mb, sizeof(mb)),
	    status);
}

/* POST body to server + path; any answer but 2xx becomes an error. */
static enum kr_err
api_call(const char *server, const char *path, const struct cli_http *h,
    const json_t *body, json_t **resp, struct kr_error *err)
{
	char url[CA_PROV_SERVER_MAX + 64];
	size_t n = strlen(server);
	long status;
	enum kr_err rc;

	*resp = NULL;
	while (n > 0 && server[n - 1] == '/')
		n--;
	if ((size_t)snprintf(url, sizeof(url), "%.*s%s", (int)n, server,
	    path) >= sizeof(url))
		return kr_fail(err, KR_E_USAGE, "--server: URL too long");
	if ((rc = cli_http_post_json(url, h, body, &status, resp, err)) !=
	    KR_OK)
		return rc;
	if (status < 200 || status > 299) {
		rc = server_refused(status, *resp, err);
		json_decref(*resp);
		*resp = NULL;
		return rc;
	}
	if (*resp == NULL)
		return kr_fail(err, KR_E_PARSE, "%s: HTTP %ld with an answer "
		    "that is not a JSON object", url, status);
	return KR_OK;
}

/* ------------------------------------------------------------------ */
/* Names, serials, tokens */

int
cli_ip_canon(const char *s, char *out, size_t outlen)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)outlen) != NULL;
	if (inet_pton(AF_INET6, s, a) == 1)
		return inet_ntop(AF_INET6, a, out, (socklen_t)outlen) != NULL;
	return 0;
}

/*
 * Serial as the server writes it (ca_serial_hex): lower-case hex of the
 * big-endian bytes without leading zero bytes.  Accepts upper case and
 * colons (as openssl prints it).  0 if it is not a serial.
 */
static int
serial_norm(const char *in, char *out, size_t outlen)
{
	char digits[2 * 20 + 1], *h = NULL;
	BIGNUM *bn = NULL;
	size_t i, n = 0;
	int ok = 0;

	for (i = 0; in[i] != '\0'; i++) {
		if (in[i] == ':')
			continue;
		if (!isxdigit((unsigned char)in[i]) ||
		    n + 1 >= sizeof(digits))
			return 0;
		digits[n++] = in[i];
	}
	digits[n] = '\0';
	if (n == 0 || BN_hex2bn(&bn, digits) != (int)n || BN_is_zero(bn) ||
	    BN_num_bytes(bn) > 20 || (h = BN_bn2hex(bn)) == NULL ||
	    strlen(h) >= outlen)
		goto out;
	for (i = 0; h[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)h[i]);
	out[i] = '\0';
	ok = 1;
out:
	OPENSSL_free(h);
	BN_free(bn);
	return ok;
}

/* A token from p for aud with names sub and sans, living 5 minutes. */
static enum kr_err
token_mint(const struct ca_prov *p, const char *aud, const char *sub,
    const char *const *sans, size_t nsans, char **out, struct kr_error *err)
{
	struct ca_token_req r = { 0 };

	r.iss = p->name;
	r.aud = aud;
	r.sub = sub;
	r.sans = sans;
	r.nsans = nsans;
	r.now = kr_now();
	r.lifetime = CA_TOKEN_LIFETIME_MAX;
	return ca_token_make(&r, p->sk, out, err);
}

/* A token from --token-file: one line of printable ASCII. */
static enum kr_err
token_read(const char *path, char **out, struct kr_error *err)
{
	uint8_t *buf = NULL;
	size_t len, i;

	*out = NULL;
	if (kr_file_read(path, CA_JWS_MAX, &buf, &len, err) != KR_OK)
		return err->code;
	while (len > 0 && isspace(buf[len - 1]))
		buf[--len] = '\0';
	for (i = 0; i < len; i++)
		if (buf[i] <= 0x20 || buf[i] >= 0x7f)
			break;
	if (len == 0 || i < len) {
		sodium_memzero(buf, len);
		free(buf);
		return kr_fail(err, KR_E_PARSE, "%s: not a token (one line, "
		    "as 'keyrite token create' prints it)", path);
	}
	*out = (char *)buf;
	return KR_OK;
}

static void
token_free(char *t)
{
	if (t != NULL) {
		sodium_memzero(t, strlen(t));
		free(t);
	}
}

/* ------------------------------------------------------------------ */
/* Keys, CSRs, certificates */

static enum kr_err
key_new(const char *type, EVP_PKEY **out, struct kr_error *err)
{
	if (strcmp(type, "ec-p256") == 0)
		*out = EVP_EC_gen("P-256");
	else if (strcmp(type, "ec-p384") == 0)
		*out = EVP_EC_gen("P-384");
	else
		*out = EVP_RSA_gen(3072);
	if (*out == NULL)
		return kr_fail_ossl(err, KR_E_CRYPTO, "cannot make an %s key",
		    type);
	return KR_OK;
}

/* The key's PEM (PKCS#8, unencrypted) in a BIO that wipes on free. */
static enum kr_err
key_pem(EVP_PKEY *key, BIO **out, struct kr_error *err)
{
	BIO *b;

	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(b);
		return kr_fail_ossl(err, KR_E_CRYPTO, "cannot encode the key");
	}
	*out = b;
	return KR_OK;
}

/* Never prompt: keyrite's key files are not encrypted. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static enum kr_err
key_load(const char *path, EVP_PKEY **out, struct kr_error *err)
{
	BIO *b;
	int e;

	*out = NULL;
	if ((b = BIO_new_file(path, "r")) == NULL) {
		e = errno;
		ERR_clear_error();
		return kr_fail(err, e == ENOENT ? KR_E_NOTFOUND : KR_E_IO,
		    "%s: %s", path, strerror(e));
	}
	*out = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	if (*out == NULL)
		return kr_fail_ossl(err, KR_E_PARSE, "%s: not an unencrypted "
		    "PEM private key", path);
	return KR_OK;
}

/*
 * A CSR for key with CN = names[0] (when it fits the 64 characters X.520
 * allows; the SANs carry the names anyway) and every name as a SAN: IP
 * literals as IP addresses, the rest as DNS names.  names are checked.
 */
static enum kr_err
csr_new(EVP_PKEY *key, char *const *names, size_t n, char **pem,
    struct kr_error *err)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *g;
	ASN1_IA5STRING *ia5;
	X509_NAME *subj;
	X509_REQ *req = NULL;
	BIO *b = NULL;
	char ip[INET6_ADDRSTRLEN], *data;
	long len;
	size_t i;
	enum kr_err rc = KR_E_CRYPTO;

	*pem = NULL;
	if ((req = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    (subj = X509_REQ_get_subject_name(req)) == NULL ||
	    (strlen(names[0]) <= 64 && X509_NAME_add_entry_by_txt(subj, "CN",
	    MBSTRING_UTF8, (const unsigned char *)names[0], -1, -1, 0) != 1) ||
	    (gens = GENERAL_NAMES_new()) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		if (cli_ip_canon(names[i], ip, sizeof(ip))) {
			if ((g = a2i_GENERAL_NAME(NULL, NULL, NULL, GEN_IPADD,
			    ip, 0)) == NULL)
				goto fail;
		} else {
			if ((g = GENERAL_NAME_new()) == NULL ||
			    (ia5 = ASN1_IA5STRING_new()) == NULL ||
			    ASN1_STRING_set(ia5, names[i], -1) != 1) {
				GENERAL_NAME_free(g);
				goto fail;
			}
			GENERAL_NAME_set0_value(g, GEN_DNS, ia5);
		}
		if (sk_GENERAL_NAME_push(gens, g) <= 0) {
			GENERAL_NAME_free(g);
			goto fail;
		}
	}
	if (X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT) != 1 ||
	    X509_REQ_add_extensions(req, exts) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_sign(req, key, ca_md_for_key(key)) <= 0 ||
	    (b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_REQ(b, req) != 1 ||
	    (len = BIO_get_mem_data(b, &data)) <= 0)
		goto fail;
	if ((*pem = strndup(data, (size_t)len)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	rc = KR_OK;
	goto out;
fail:
	rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot make the CSR");
out:
	BIO_free(b);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_REQ_free(req);
	return rc;
}

/* Every certificate in PEM text; at least one. */
static enum kr_err
certs_parse(const char *pem, const char *what, STACK_OF(X509) **out,
    struct kr_error *err)
{
	STACK_OF(X509) *sk;
	X509 *x;
	BIO *b;
	unsigned long e;

	*out = NULL;
	ERR_clear_error();
	if ((sk = sk_X509_new_null()) == NULL ||
	    (b = BIO_new_mem_buf(pem, -1)) == NULL) {
		sk_X509_free(sk);
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			break;
		}
	/* The loop ends on "no start line" at the end of the text. */
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
		ERR_clear_error();
	BIO_free(b);
	if (ERR_peek_error() != 0 || sk_X509_num(sk) == 0) {
		sk_X509_pop_free(sk, X509_free);
		return kr_fail_ossl(err, KR_E_PARSE, "the server's \"%s\" is "
		    "not PEM certificates", what);
	}
	*out = sk;
	return KR_OK;
}

/* The leaf and its chain from a sign or renew answer. */
struct issued {
	X509		*leaf;
	STACK_OF(X509)	*chain;
	int		 capped;
	char		*cert_pem;	/* leaf */
	char		*chain_pem;	/* chain */
	char		*full_pem;	/* leaf + chain */
};

static void
issued_free(struct issued *is)
{
	X509_free(is->leaf);
	sk_X509_pop_free(is->chain, X509_free);
	free(is->cert_pem);
	free(is->chain_pem);
	free(is->full_pem);
	memset(is, 0, sizeof(*is));
}

/* PEM of leaf (may be NULL) followed by chain, re-encoded. */
static char *
certs_pem(X509 *leaf, STACK_OF(X509) *chain)
{
	BIO *b;
	char *data, *s = NULL;
	long len;
	int i, ok = 1;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (leaf != NULL)
		ok = PEM_write_bio_X509(b, leaf) == 1;
	for (i = 0; ok && i < sk_X509_num(chain); i++)
		ok = PEM_write_bio_X509(b, sk_X509_value(chain, i)) == 1;
	if (ok && (len = BIO_get_mem_data(b, &data)) > 0)
		s = strndup(data, (size_t)len);
	BIO_free(b);
	return s;
}

static enum kr_err
issued_parse(const json_t *resp, struct issued *is, struct kr_error *err)
{
	STACK_OF(X509) *leaf = NULL;
	const char *c, *ch;
	json_t *cap;
	enum kr_err rc;

	memset(is, 0, sizeof(*is));
	c = json_string_value(json_object_get(resp, "certificate"));
	ch = json_string_value(json_object_get(resp, "chain"));
	if (c == NULL || ch == NULL)
		return kr_fail(err, KR_E_PARSE, "the server's answer lacks "
		    "\"certificate\" or \"chain\"");
	if ((rc = certs_parse(c, "certificate", &leaf, err)) != KR_OK)
		return rc;
	if (sk_X509_num(leaf) != 1) {
		sk_X509_pop_free(leaf, X509_free);
		return kr_fail(err, KR_E_PARSE, "the server's \"certificate\" "
		    "holds %d certificates, not one", sk_X509_num(leaf));
	}
	is->leaf = sk_X509_shift(leaf);
	sk_X509_free(leaf);
	if ((rc = certs_parse(ch, "chain", &is->chain, err)) != KR_OK)
		goto fail;
	cap = json_object_get(resp, "lifetime_capped");
	is->capped = json_is_true(cap);
	if ((is->cert_pem = certs_pem(is->leaf, NULL)) == NULL ||
	    (is->chain_pem = certs_pem(NULL, is->chain)) == NULL ||
	    (is->full_pem = certs_pem(is->leaf, is->chain)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	return KR_OK;
fail:
	issued_free(is);
	return rc;
}

/* Whether cert covers name (an IP literal or a DNS name). */
static int
cert_has_name(X509 *cert, const char *name)
{
	char ip[INET6_ADDRSTRLEN];

	if (cli_ip_canon(name, ip, sizeof(ip)))
		return X509_check_ip_asc(cert, ip, 0) == 1;
	return X509_check_host(cert, name, 0,
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
	    X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;
}

/*
 * The issued certificate must be for key, name each of names, and chain
 * through is->chain to root now (X509_verify_cert: signatures,
 * validity, basic and name constraints).
 */
static enum kr_err
issued_check(const struct issued *is, EVP_PKEY *key, X509 *root,
    const char *root_path, char *const *names, size_t n,
    struct kr_error *err)
{
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	size_t i;
	enum kr_err rc;
	int e;

	if (EVP_PKEY_eq(X509_get0_pubkey(is->leaf), key) != 1) {
		ERR_clear_error();
		return kr_fail(err, KR_E_VERIFY, "the server's certificate is "
		    "not for our key; nothing was written");
	}
	for (i = 0; i < n; i++)
		if (!cert_has_name(is->leaf, names[i]))
			return kr_fail(err, KR_E_VERIFY, "the server's "
			    "certificate does not name %s; nothing was "
			    "written", names[i]);
	if ((st = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(st, root) != 1 ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, st, is->leaf, is->chain) != 1) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "cannot set up "
		    "verification");
		goto out;
	}
	X509_STORE_CTX_set_time(ctx, 0, kr_now());
	if (X509_verify_cert(ctx) != 1) {
		e = X509_STORE_CTX_get_error(ctx);
		ERR_clear_error();
		rc = kr_fail(err, KR_E_VERIFY, "the server's certificate does "
		    "not chain to %s: %s; nothing was written", root_path,
		    X509_verify_cert_error_string(e));
		goto out;
	}
	rc = KR_OK;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return rc;
}

static void
time_text(const ASN1_TIME *t, char *buf, size_t sz)
{
	struct tm tm;
	time_t s;

	if (ca_time_from_asn1(t, &s) != 0 || gmtime_r(&s, &tm) == NULL ||
	    strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, sz, "?");
}

/* What a new certificate is: serial, names, not after. */
static void
cert_summary(const char *what, const char *path, X509 *c)
{
	GENERAL_NAMES *g;
	char *serial, nb[300], na[32];
	int i;

	serial = ca_serial_hex(X509_get0_serialNumber(c));
	time_text(X509_get0_notAfter(c), na, sizeof(na));
	printf("%s: %s\n  serial:    %s\n  names:    ", what, path,
	    serial ? serial : "?");
	g = X509_get_ext_d2i(c, NID_subject_alt_name, NULL, NULL);
	for (i = 0; i < sk_GENERAL_NAME_num(g); i++) {
		ca_general_name_text(sk_GENERAL_NAME_value(g, i), nb,
		    sizeof(nb));
		printf("%s %s", i ? "," : "", nb);
	}
	printf("\n  not after: %s\n", na);
	GENERAL_NAMES_free(g);
	free(serial);
}

/* ------------------------------------------------------------------ */
/* The certificate directory */

static int
path_join(char *buf, size_t sz, const char *dir, const char *name)
{
	return (size_t)snprintf(buf, sz, "%s/%s", dir, name) < sz;
}

/* The directory dir is in ("." when it names none). */
static void
parent_of(const char *dir, char *buf, size_t sz)
{
	char *slash;

	snprintf(buf, sz, "%s", dir);
	if ((slash = strrchr(buf, '/')) == NULL)
		snprintf(buf, sz, ".");
	else if (slash == buf)
		buf[1] = '\0';
	else
		*slash = '\0';
}

/* dir with trailing slashes removed, into buf. */
static enum kr_err
dir_norm(const char *dir, char *buf, size_t sz, struct kr_error *err)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 0 || n >= sz - 32)
		return kr_fail(err, KR_E_USAGE, "'%s': not a usable directory "
		    "name", dir);
	memcpy(buf, dir, n);
	buf[n] = '\0';
	return KR_OK;
}

/*
 * Whether --out DIR may be written, checked before a key is made or the
 * server asked: DIR must not exist, or with force be a directory holding
 * nothing but the files this command writes (so --force never deletes
 * anything else); its parent must be writable.
 */
static enum kr_err
outdir_check(const char *dir, int force, struct kr_error *err)
{
	struct stat st;
	struct dirent *de;
	char parent[PATH_MAX];
	size_t i;
	DIR *d;

	if (lstat(dir, &st) == 0) {
		if (!force)
			return kr_fail(err, KR_E_EXISTS, "%s: exists already; "
			    "choose another --out, or pass --force to replace "
			    "its key and certificates", dir);
		if (!S_ISDIR(st.st_mode))
			return kr_fail(err, KR_E_EXISTS, "%s: exists and is "
			    "not a directory", dir);
		if ((d = opendir(dir)) == NULL)
			return kr_fail(err, KR_E_IO, "%s: %s", dir,
			    strerror(errno));
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			for (i = 0; i < NDIR_FILES; i++)
				if (strcmp(de->d_name, dir_files[i]) == 0)
					break;
			if (i == NDIR_FILES) {
				/* Before closedir, which frees de. */
				kr_fail(err, KR_E_EXISTS, "%s: holds '%.200s', "
				    "which keyrite did not write; --force only "
				    "replaces a directory of %s, %s, %s and %s",
				    dir, de->d_name, F_KEY, F_CERT, F_CHAIN,
				    F_FULLCHAIN);
				closedir(d);
				return KR_E_EXISTS;
			}
		}
		closedir(d);
	} else if (errno != ENOENT)
		return kr_fail(err, KR_E_IO, "%s: %s", dir, strerror(errno));
	parent_of(dir, parent, sizeof(parent));
	if (stat(parent, &st) == -1 || !S_ISDIR(st.st_mode))
		return kr_fail(err, KR_E_NOTFOUND, "%s: directory %s does not "
		    "exist", dir, parent);
	if (access(parent, W_OK) == -1)
		return kr_fail(err, KR_E_IO, "%s: directory %s: %s", dir,
		    parent, strerror(errno));
	return KR_OK;
}

/* Remove the files we write from dir, then dir (flat). */
static void
outdir_remove(const char *dir)
{
	char p[PATH_MAX];
	size_t i;

	for (i = 0; i < NDIR_FILES; i++)
		if (path_join(p, sizeof(p), dir, dir_files[i]))
			unlink(p);
	if (rmdir(dir) == -1)
		fprintf(stderr, "keyrite: could not remove %s: %s\n", dir,
		    strerror(errno));
}

static void
fsync_dir(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
}

/* One file of a certificate directory. */
struct out_file {
	const char	*name;
	const char	*data;
	size_t		 len;
	unsigned	 mode;
};

/*
 * Write files as the directory dir in one step: a temporary sibling
 * (0700) gets every file, fsynced, and is renamed to dir.  With force
 * and an existing dir, the two are swapped atomically (RENAME_EXCHANGE)
 * and the old one removed, so dir always holds one whole, matching set.
 * On failure the temporary directory is removed.
 */
static enum kr_err
outdir_write(const char *dir, int force, const struct out_file *f,
    size_t n, struct kr_error *err)
{
	char tmp[PATH_MAX], p[PATH_MAX], parent[PATH_MAX];
	struct stat st;
	size_t i;
	enum kr_err rc = KR_OK;
	int exists;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", dir) >=
	    sizeof(tmp))
		return kr_fail(err, KR_E_USAGE, "%s: path too long", dir);
	if (mkdtemp(tmp) == NULL)
		return kr_fail(err, KR_E_IO, "%s: cannot make a temporary "
		    "directory next to it: %s", dir, strerror(errno));
	for (i = 0; rc == KR_OK && i < n; i++) {
		if (!path_join(p, sizeof(p), tmp, f[i].name))
			rc = kr_fail(err, KR_E_USAGE, "%s: path too long", dir);
		else
			rc = kr_file_write(p, f[i].data, f[i].len, f[i].mode,
			    0, err);
	}
	if (rc != KR_OK)
		goto fail;
	fsync_dir(tmp);
	exists = lstat(dir, &st) == 0;
	if (exists && (!force || !S_ISDIR(st.st_mode))) {
		rc = kr_fail(err, KR_E_EXISTS, "%s: appeared meanwhile; "
		    "nothing was replaced", dir);
		goto fail;
	}
	if (exists) {
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) ==
		    -1) {
			rc = kr_fail(err, KR_E_IO, "%s: cannot replace it: %s",
			    dir, strerror(errno));
			goto fail;
		}
		/* tmp now holds the old files. */
		outdir_remove(tmp);
	} else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir,
	    RENAME_NOREPLACE) == -1 &&
	    (errno != EINVAL || rename(tmp, dir) == -1)) {
		rc = kr_fail(err, KR_E_IO, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	parent_of(dir, parent, sizeof(parent));
	fsync_dir(parent);
	return KR_OK;
fail:
	outdir_remove(tmp);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Options */

struct cert_args {
	const char	*server;
	const char	*root;
	const char	*prov;
	const char	*token;
	const char	*token_file;
	const char	*name;
	const char	*lifetime;
	const char	*key_type;
	const char	*out;
	const char	*dir;
	const char	*serial;
	const char	*reason;
	const char	**san;
	size_t		 nsan;
	int		 force;
	const struct cli_cmd *cmd;
};

static int
cert_opt(void *ctx, const char *name, const char *arg)
{
	struct cert_args *a = ctx;

	if (strcmp(name, "server") == 0)
		a->server = arg;
	else if (strcmp(name, "root") == 0)
		a->root = arg;
	else if (strcmp(name, "provisioner") == 0)
		a->prov = arg;
	else if (strcmp(name, "token") == 0)
		a->token = arg;
	else if (strcmp(name, "token-file") == 0)
		a->token_file = arg;
	else if (strcmp(name, "name") == 0)
		a->name = arg;
	else if (strcmp(name, "lifetime") == 0)
		a->lifetime = arg;
	else if (strcmp(name, "key-type") == 0)
		a->key_type = arg;
	else if (strcmp(name, "out") == 0)
		a->out = arg;
	else if (strcmp(name, "dir") == 0)
		a->dir = arg;
	else if (strcmp(name, "serial") == 0)
		a->serial = arg;
	else if (strcmp(name, "reason") == 0)
		a->reason = arg;
	else if (strcmp(name, "force") == 0)
		a->force = 1;
	else if (strcmp(name, "san") == 0)
		return cli_push(&a->san, &a->nsan, arg);
	return 0;
}

/* Usage checks every cert subcommand shares: --server and --lifetime. */
static int
check_common(const struct cert_args *a)
{
	char why[128];

	if (a->server == NULL || a->root == NULL)
		return cli_usage(a->cmd, "--server and --root are required");
	if (!cli_server_url_ok(a->server, why, sizeof(why)))
		return cli_usage(a->cmd, "--server '%s' %s", a->server, why);
	if (a->lifetime != NULL && kr_parse_duration(a->lifetime, 0) <= 0)
		return cli_usage(a->cmd, "--lifetime '%s' is not a duration "
		    "like 24h, 90m or 7d", a->lifetime);
	return 0;
}

/*
 * --name then each --san, as the certificate will carry them: IP
 * literals in canonical form, anything else a host name (no wildcards),
 * no name twice.  Prints a usage error and returns non-zero otherwise.
 */
static int
names_build(const struct cert_args *a, char ***names, size_t *n)
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
		if (cli_ip_canon(in, ip, sizeof(ip)))
			s = strdup(ip);
		else if (ca_prov_dns_match(in, in))
			s = strdup(in);
		else {
			cli_usage(a->cmd, "--%s '%s' is not a host name or an "
			    "IP address (wildcards are never issued)",
			    i == 0 ? "name" : "san", in);
			goto fail;
		}
		if (s == NULL || cli_push((const char ***)names, n, s) != 0) {
			free(s);
			fprintf(stderr, "keyrite: out of memory\n");
			goto fail;
		}
		for (j = 0; j + 1 < *n; j++)
			if (strcasecmp((*names)[j], s) == 0) {
				cli_usage(a->cmd, "'%s' is named twice (--name "
				    "is always in the certificate)", in);
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

#define OPT_SERVER { "server", 1, 0, "URL", "keyrited's API, e.g. " \
	"https://ca.lab.internal:8443" }
#define OPT_ROOT { "root", 1, 0, "FILE", "the root (PEM), the only " \
	"trust anchor" }
#define OPT_LIFETIME { "lifetime", 1, 0, "D", "e.g. 24h, 7d (the server " \
	"may cap it; it refuses less than 6m by default)" }
#define OPT_END { NULL, 0, 0, NULL, NULL }

/* ------------------------------------------------------------------ */
/* cert request */

static const struct cli_opt request_opts[] = {
	OPT_SERVER, OPT_ROOT,
	{ "provisioner", 1, 0, "FILE", "mint the token with this "
	    "provisioner file" },
	{ "token", 1, 0, "T", "a ready token (seen in ps: prefer "
	    "--token-file)" },
	{ "token-file", 1, 0, "FILE", "read the token from FILE" },
	{ "name", 1, 0, "NAME", "host name or IP address (CN, first SAN)" },
	{ "san", 1, 1, "NAME", "another host name or IP address" },
	OPT_LIFETIME,
	{ "key-type", 1, 0, "TYPE", "ec-p256 (default), ec-p384 or "
	    "rsa-3072" },
	{ "out", 1, 0, "DIR", "new directory for the key and certificates" },
	{ "force", 0, 0, NULL, "replace the files of an existing DIR" },
	OPT_END,
};
static const struct cli_cmd request_cmd = {
	"cert request", "Get a certificate from keyrited.  A new key is made "
	"here and written to\nDIR/key.pem (0600); only a CSR and a one-time "
	"token go to the server.  The\nanswer must be for that key, name "
	"every name asked for and chain to --root\nbefore DIR is written, in "
	"one step.  Give the token as a provisioner file\n(the token is made "
	"here, aud = --server as given) or ready-made.",
	"--server URL --root FILE (--provisioner FILE | --token T | "
	"--token-file FILE) --name NAME [--san NAME]... [--lifetime D] "
	"[--key-type TYPE] --out DIR [--force]",
	"  keyrite cert request --server https://ca.lab.internal:8443 "
	"--root root.pem \\\n      --provisioner web.provisioner --name "
	"svc.web.lab.internal \\\n      --san 10.20.0.5 --lifetime 24h --out "
	"svc",
	request_opts,
};

static int
cert_request_main(int argc, char **argv)
{
	struct cert_args a = { .cmd = &request_cmd };
	struct cli_http h = { 0 };
	struct kr_error err = { 0 };
	struct ca_prov *prov = NULL;
	struct issued is = { 0 };
	struct out_file f[NDIR_FILES];
	char dir[PATH_MAX], **names = NULL, *token = NULL, *csr = NULL;
	char *keydata;
	const char *key_type;
	size_t nnames = 0;
	json_t *body = NULL, *resp = NULL;
	EVP_PKEY *key = NULL;
	X509 *root = NULL;
	BIO *kb = NULL;
	long klen;
	int idx, st = 1;

	if ((idx = cli_parse(&request_cmd, argc, argv, cert_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if (idx != argc) {
		st = cli_usage(&request_cmd, "unexpected argument '%s'",
		    argv[idx]);
		goto out;
	}
	if ((st = check_common(&a)) != 0)
		goto out;
	st = EXIT_USAGE;
	if (a.name == NULL || a.out == NULL) {
		cli_usage(&request_cmd, "--name and --out are required");
		goto out;
	}
	if ((a.prov != NULL) + (a.token != NULL) + (a.token_file != NULL) !=
	    1) {
		cli_usage(&request_cmd, "give one of --provisioner, --token "
		    "and --token-file");
		goto out;
	}
	key_type = a.key_type ? a.key_type : "ec-p256";
	if (strcmp(key_type, "ec-p256") != 0 &&
	    strcmp(key_type, "ec-p384") != 0 &&
	    strcmp(key_type, "rsa-3072") != 0) {
		cli_usage(&request_cmd, "--key-type '%s': use ec-p256, ec-p384 "
		    "or rsa-3072", key_type);
		goto out;
	}
	if (names_build(&a, &names, &nnames) != 0)
		goto out;
	st = 1;
	/* Everything local is checked before a key is made. */
	if (dir_norm(a.out, dir, sizeof(dir), &err) != KR_OK ||
	    outdir_check(dir, a.force, &err) != KR_OK ||
	    ca_load_cert(a.root, &root, &err) != KR_OK ||
	    (a.prov != NULL && ca_prov_read(a.prov, &prov, &err) != KR_OK) ||
	    (a.token_file != NULL && token_read(a.token_file, &token,
	    &err) != KR_OK)) {
		st = cli_report(request_cmd.name, &err);
		goto out;
	}
	if (a.token != NULL && (token = strdup(a.token)) == NULL) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		st = cli_report(request_cmd.name, &err);
		goto out;
	}
	if (key_new(key_type, &key, &err) != KR_OK ||
	    csr_new(key, names, nnames, &csr, &err) != KR_OK ||
	    (prov != NULL && token_mint(prov, a.server, names[0],
	    (const char *const *)names, nnames, &token, &err) != KR_OK)) {
		st = cli_report(request_cmd.name, &err);
		goto out;
	}
	if ((body = json_pack("{s:s,s:s}", "csr", csr, "token", token)) ==
	    NULL || (a.lifetime != NULL && json_object_set_new(body,
	    "lifetime", json_string(a.lifetime)) != 0)) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		st = cli_report(request_cmd.name, &err);
		goto out;
	}
	h.ca_file = a.root;
	if (api_call(a.server, "/v1/sign", &h, body, &resp, &err) != KR_OK ||
	    issued_parse(resp, &is, &err) != KR_OK ||
	    issued_check(&is, key, root, a.root, names, nnames, &err) !=
	    KR_OK ||
	    key_pem(key, &kb, &err) != KR_OK) {
		st = cli_report(request_cmd.name, &err);
		goto out;
	}
	klen = BIO_get_mem_data(kb, &keydata);
	f[0] = (struct out_file){ F_KEY, keydata, (size_t)klen, 0600 };
	f[1] = (struct out_file){ F_CERT, is.cert_pem, strlen(is.cert_pem),
	    0644 };
	f[2] = (struct out_file){ F_CHAIN, is.chain_pem,
	    strlen(is.chain_pem), 0644 };
	f[3] = (struct out_file){ F_FULLCHAIN, is.full_pem,
	    strlen(is.full_pem), 0644 };
	if (outdir_write(dir, a.force, f, NDIR_FILES, &err) != KR_OK) {
		kr_error_prefix(&err, "the certificate was issued but not "
		    "saved (ask again)");
		st = cli_report(request_cmd.name, &err);
		goto out;
	}
	cert_summary("certificate", dir, is.leaf);
	if (is.capped)
		printf("  lifetime:  capped by the server\n");
	printf("  files:     %s, %s (0600), %s, %s\n", F_CERT, F_KEY, F_CHAIN,
	    F_FULLCHAIN);
	st = 0;
out:
	BIO_free(kb);
	issued_free(&is);
	json_decref(body);
	json_decref(resp);
	token_free(token);
	free(csr);
	EVP_PKEY_free(key);
	X509_free(root);
	ca_prov_free(prov);
	cli_free_names(names, nnames);
	free(a.san);
	return st;
}

/* ------------------------------------------------------------------ */
/* cert renew and revoke --dir: the directory's certificate and key */

struct held {
	char		 cert_path[PATH_MAX];
	char		 key_path[PATH_MAX];
	X509		*cert;
	EVP_PKEY	*key;
};

/* Load DIR/cert.pem and DIR/key.pem and check they belong together. */
static enum kr_err
held_load(const char *dir, struct held *hd, struct kr_error *err)
{
	memset(hd, 0, sizeof(*hd));
	if (!path_join(hd->cert_path, sizeof(hd->cert_path), dir, F_CERT) ||
	    !path_join(hd->key_path, sizeof(hd->key_path), dir, F_KEY))
		return kr_fail(err, KR_E_USAGE, "%s: path too long", dir);
	if (ca_load_cert(hd->cert_path, &hd->cert, err) != KR_OK ||
	    key_load(hd->key_path, &hd->key, err) != KR_OK)
		return err->code;
	if (EVP_PKEY_eq(X509_get0_pubkey(hd->cert), hd->key) != 1) {
		ERR_clear_error();
		return kr_fail(err, KR_E_VERIFY, "%s is not the key of %s",
		    hd->key_path, hd->cert_path);
	}
	return KR_OK;
}

static void
held_free(struct held *hd)
{
	X509_free(hd->cert);
	EVP_PKEY_free(hd->key);
	memset(hd, 0, sizeof(*hd));
}

/* The DNS and IP names of c, as plain names; for renewal checks. */
static enum kr_err
cert_names(X509 *c, char ***names, size_t *n, struct kr_error *err)
{
	GENERAL_NAMES *g;
	GENERAL_NAME *gn;
	char ip[INET6_ADDRSTRLEN], *s;
	const unsigned char *d;
	int i, len;

	*names = NULL;
	*n = 0;
	g = X509_get_ext_d2i(c, NID_subject_alt_name, NULL, NULL);
	for (i = 0; i < sk_GENERAL_NAME_num(g); i++) {
		gn = sk_GENERAL_NAME_value(g, i);
		s = NULL;
		if (gn->type == GEN_DNS) {
			d = ASN1_STRING_get0_data(gn->d.dNSName);
			len = ASN1_STRING_length(gn->d.dNSName);
			s = strndup((const char *)d, (size_t)len);
		} else if (gn->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(gn->d.iPAddress);
			len = ASN1_STRING_length(gn->d.iPAddress);
			if ((len == 4 && inet_ntop(AF_INET, d, ip,
			    sizeof(ip)) != NULL) || (len == 16 &&
			    inet_ntop(AF_INET6, d, ip, sizeof(ip)) != NULL))
				s = strdup(ip);
			else
				continue;
		} else
			continue;
		if (s == NULL || cli_push((const char ***)names, n, s) != 0) {
			free(s);
			GENERAL_NAMES_free(g);
			cli_free_names(*names, *n);
			*names = NULL;
			*n = 0;
			return kr_fail(err, KR_E_NOMEM, "out of memory");
		}
	}
	GENERAL_NAMES_free(g);
	return KR_OK;
}

/* ------------------------------------------------------------------ */
/* cert renew */

static const struct cli_opt renew_opts[] = {
	OPT_SERVER, OPT_ROOT,
	{ "dir", 1, 0, "DIR", "the directory 'cert request' wrote" },
	OPT_LIFETIME,
	OPT_END,
};
static const struct cli_cmd renew_cmd = {
	"cert renew", "Renew the certificate in DIR before it expires: "
	"authenticated by the current\ncertificate and key over TLS, for the "
	"same key and names.  The answer is\nchecked as for 'cert request'; "
	"then chain.pem, fullchain.pem and last\ncert.pem are each replaced "
	"atomically (a new cert.pem means the others are\nnew too).  An "
	"expired certificate cannot be renewed: request a new one.",
	"--server URL --root FILE --dir DIR [--lifetime D]",
	"  keyrite cert renew --server https://ca.lab.internal:8443 "
	"--root root.pem --dir svc",
	renew_opts,
};

static int
cert_renew_main(int argc, char **argv)
{
	struct cert_args a = { .cmd = &renew_cmd };
	struct cli_http h = { 0 };
	struct kr_error err = { 0 };
	struct held hd = { 0 };
	struct issued is = { 0 };
	char dir[PATH_MAX], p[PATH_MAX], na[32], **names = NULL;
	size_t nnames = 0;
	json_t *body = NULL, *resp = NULL;
	X509 *root = NULL;
	time_t end;
	int idx, st = 1;

	if ((idx = cli_parse(&renew_cmd, argc, argv, cert_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if (idx != argc) {
		st = cli_usage(&renew_cmd, "unexpected argument '%s'",
		    argv[idx]);
		goto out;
	}
	if ((st = check_common(&a)) != 0)
		goto out;
	if (a.dir == NULL) {
		st = cli_usage(&renew_cmd, "--dir is required");
		goto out;
	}
	st = 1;
	if (dir_norm(a.dir, dir, sizeof(dir), &err) != KR_OK ||
	    ca_load_cert(a.root, &root, &err) != KR_OK ||
	    held_load(dir, &hd, &err) != KR_OK ||
	    cert_names(hd.cert, &names, &nnames, &err) != KR_OK) {
		st = cli_report(renew_cmd.name, &err);
		goto out;
	}
	if (access(dir, W_OK) == -1) {
		kr_fail(&err, KR_E_IO, "%s: %s", dir, strerror(errno));
		st = cli_report(renew_cmd.name, &err);
		goto out;
	}
	if (ca_time_from_asn1(X509_get0_notAfter(hd.cert), &end) != 0 ||
	    end <= kr_now()) {
		time_text(X509_get0_notAfter(hd.cert), na, sizeof(na));
		kr_fail(&err, KR_E_USAGE, "%s expired at %s; an expired "
		    "certificate cannot be renewed: get a new one with 'keyrite "
		    "cert request'", hd.cert_path, na);
		st = cli_report(renew_cmd.name, &err);
		goto out;
	}
	if ((body = json_object()) == NULL || (a.lifetime != NULL &&
	    json_object_set_new(body, "lifetime", json_string(a.lifetime)) !=
	    0)) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		st = cli_report(renew_cmd.name, &err);
		goto out;
	}
	h.ca_file = a.root;
	h.cert_file = hd.cert_path;
	h.key_file = hd.key_path;
	if (api_call(a.server, "/v1/renew", &h, body, &resp, &err) != KR_OK ||
	    issued_parse(resp, &is, &err) != KR_OK ||
	    issued_check(&is, hd.key, root, a.root, names, nnames, &err) !=
	    KR_OK) {
		st = cli_report(renew_cmd.name, &err);
		goto out;
	}
	/* cert.pem last: once it is new, so are the others. */
	if (!path_join(p, sizeof(p), dir, F_CHAIN) ||
	    kr_file_write(p, is.chain_pem, strlen(is.chain_pem), 0644, 1,
	    &err) != KR_OK ||
	    !path_join(p, sizeof(p), dir, F_FULLCHAIN) ||
	    kr_file_write(p, is.full_pem, strlen(is.full_pem), 0644, 1,
	    &err) != KR_OK ||
	    kr_file_write(hd.cert_path, is.cert_pem, strlen(is.cert_pem),
	    0644, 1, &err) != KR_OK) {
		kr_error_prefix(&err, "the certificate was renewed but not "
		    "all of it saved (renew again)");
		st = cli_report(renew_cmd.name, &err);
		goto out;
	}
	cert_summary("renewed", dir, is.leaf);
	if (is.capped)
		printf("  lifetime:  capped by the server\n");
	st = 0;
out:
	issued_free(&is);
	json_decref(body);
	json_decref(resp);
	X509_free(root);
	held_free(&hd);
	cli_free_names(names, nnames);
	free(a.san);
	return st;
}

/* ------------------------------------------------------------------ */
/* cert revoke */

static const struct cli_opt revoke_opts[] = {
	OPT_SERVER, OPT_ROOT,
	{ "dir", 1, 0, "DIR", "revoke DIR/cert.pem (its key proves it)" },
	{ "serial", 1, 0, "HEX", "revoke this serial (a token proves it)" },
	{ "provisioner", 1, 0, "FILE", "with --serial: mint the token with "
	    "this" },
	{ "token", 1, 0, "T", "with --serial: a token whose sub is the "
	    "serial" },
	{ "reason", 1, 0, "REASON", "keyCompromise, superseded, ... "
	    "(docs/api.md)" },
	OPT_END,
};
static const struct cli_cmd revoke_cmd = {
	"cert revoke", "Revoke a certificate keyrited issued: the one in DIR "
	"(its key proves it), or\nany serial with a token from the "
	"provisioner that issued it or an admin\nprovisioner (the token's "
	"sub and sans are the serial).",
	"--server URL --root FILE (--dir DIR | --serial HEX (--provisioner "
	"FILE | --token T)) [--reason REASON]",
	"  keyrite cert revoke --server https://ca.lab.internal:8443 "
	"--root root.pem \\\n      --dir svc --reason keyCompromise\n"
	"  keyrite cert revoke --server https://ca.lab.internal:8443 "
	"--root root.pem \\\n      --serial 5c1e09f2 --provisioner "
	"web.provisioner --reason superseded",
	revoke_opts,
};

/* The API's name for --reason, or NULL if it takes no such reason. */
static const char *
reason_api_name(const char *s)
{
	const char *canon;
	size_t i;
	int r;

	if ((r = ca_reason_from_name(s)) < 0)
		return NULL;
	canon = ca_reason_name(r);
	for (i = 0; i < sizeof(api_reasons) / sizeof(api_reasons[0]); i++)
		if (strcmp(canon, api_reasons[i]) == 0)
			return api_reasons[i];
	return NULL;
}

static int
cert_revoke_main(int argc, char **argv)
{
	struct cert_args a = { .cmd = &revoke_cmd };
	struct cli_http h = { 0 };
	struct kr_error err = { 0 };
	struct ca_prov *prov = NULL;
	struct held hd = { 0 };
	char dir[PATH_MAX], serial[2 * 20 + 1], sb[64], tb[64], rb[64];
	const char *reason = NULL, *sans[1];
	char *token = NULL;
	json_t *body = NULL, *resp = NULL;
	X509 *root = NULL;
	int idx, st = 1;

	if ((idx = cli_parse(&revoke_cmd, argc, argv, cert_opt, &a)) < 0) {
		st = EXIT_USAGE;
		goto out;
	}
	if (idx != argc) {
		st = cli_usage(&revoke_cmd, "unexpected argument '%s'",
		    argv[idx]);
		goto out;
	}
	if ((st = check_common(&a)) != 0)
		goto out;
	st = EXIT_USAGE;
	if ((a.dir != NULL) == (a.serial != NULL)) {
		cli_usage(&revoke_cmd, "give either --dir or --serial");
		goto out;
	}
	if (a.dir != NULL && (a.prov != NULL || a.token != NULL)) {
		cli_usage(&revoke_cmd, "--dir proves itself with its key; "
		    "--provisioner and --token go with --serial");
		goto out;
	}
	if (a.serial != NULL && (a.prov != NULL) == (a.token != NULL)) {
		cli_usage(&revoke_cmd, "--serial needs one of --provisioner "
		    "and --token");
		goto out;
	}
	if (a.serial != NULL && !serial_norm(a.serial, serial,
	    sizeof(serial))) {
		cli_usage(&revoke_cmd, "--serial '%s' is not a certificate "
		    "serial (hex, at most 20 bytes, not zero)", a.serial);
		goto out;
	}
	if (a.reason != NULL && (reason = reason_api_name(a.reason)) ==
	    NULL) {
		cli_usage(&revoke_cmd, "--reason '%s' is not one of "
		    "unspecified, keyCompromise, affiliationChanged, "
		    "superseded, cessationOfOperation, privilegeWithdrawn",
		    a.reason);
		goto out;
	}
	st = 1;
	if (ca_load_cert(a.root, &root, &err) != KR_OK ||
	    (a.dir != NULL && (dir_norm(a.dir, dir, sizeof(dir), &err) !=
	    KR_OK || held_load(dir, &hd, &err) != KR_OK)) ||
	    (a.prov != NULL && ca_prov_read(a.prov, &prov, &err) != KR_OK)) {
		st = cli_report(revoke_cmd.name, &err);
		goto out;
	}
	sans[0] = serial;
	if ((a.token != NULL && (token = strdup(a.token)) == NULL) ||
	    (body = json_object()) == NULL) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		st = cli_report(revoke_cmd.name, &err);
		goto out;
	}
	if (prov != NULL && token_mint(prov, a.server, serial, sans, 1, &token,
	    &err) != KR_OK) {
		st = cli_report(revoke_cmd.name, &err);
		goto out;
	}
	if ((a.serial != NULL && (json_object_set_new(body, "serial",
	    json_string(serial)) != 0 || json_object_set_new(body, "token",
	    json_string(token)) != 0)) || (reason != NULL &&
	    json_object_set_new(body, "reason", json_string(reason)) != 0)) {
		kr_fail(&err, KR_E_NOMEM, "out of memory");
		st = cli_report(revoke_cmd.name, &err);
		goto out;
	}
	h.ca_file = a.root;
	if (a.dir != NULL) {
		h.cert_file = hd.cert_path;
		h.key_file = hd.key_path;
	}
	if (api_call(a.server, "/v1/revoke", &h, body, &resp, &err) != KR_OK) {
		st = cli_report(revoke_cmd.name, &err);
		goto out;
	}
	printf("revoked: serial %s\n  at:      %s\n  reason:  %s\n",
	    safe_text(json_string_value(json_object_get(resp, "serial")), sb,
	    sizeof(sb)),
	    safe_text(json_string_value(json_object_get(resp, "revoked_at")),
	    tb, sizeof(tb)),
	    json_is_string(json_object_get(resp, "reason")) ?
	    safe_text(json_string_value(json_object_get(resp, "reason")), rb,
	    sizeof(rb)) : "none");
	printf("  the CRL is reissued within seconds\n");
	st = 0;
out:
	json_decref(body);
	json_decref(resp);
	token_free(token);
	X509_free(root);
	held_free(&hd);
	ca_prov_free(prov);
	free(a.san);
	return st;
}

int
cmd_cert(int argc, char **argv)
{
	static const struct cli_sub sub[] = {
		{ "request", cert_request_main, &request_cmd },
		{ "renew", cert_renew_main, &renew_cmd },
		{ "revoke", cert_revoke_main, &revoke_cmd },
	};

	return cli_dispatch("cert", sub, sizeof(sub) / sizeof(sub[0]), argc,
	    argv);
}
