/*
 * acme_probe: a small raw ACME client for keyrited's tests and bench.
 * It signs with ca/jws.c (P-256 account key), talks HTTPS with libcurl,
 * and answers http-01 itself on 127.0.0.1:PORT (any token, with this
 * account's thumbprint), so it needs no other program.
 *
 *   acme_probe DIRECTORY_URL CA_PEM HTTP01_PORT MODE [NAME] [N] [THREADS]
 *
 * MODE: issue (one certificate for NAME, PEM chain on stdout), bench
 * (N orders over THREADS threads, "acme_orders_per_second X"), or a
 * refusal to provoke: bad-nonce, bad-sig, wrong-url, fail-chall,
 * outside (an order for NAME), csr-other; rollover (key change, then
 * the old key's problem); dns01 (NAME, N = the port of a TXT responder
 * the probe runs, which keyrited's acme_dns_resolver must name);
 * noeab (newAccount without the binding a provisioner needs).  A refusal prints
 * "STATUS TYPE" of the problem and exits 0; anything else exits 1.
 * With ACME_PROBE_NOT_AFTER=S in the environment, issue's order asks
 * for a notAfter S seconds from now.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca/jws.h"

static const char *dir_url, *ca_pem;
static int http01_port;
static const char *chall_type = "http-01";
static char dns_txt[64];	/* the dns-01 answer the responder gives */

struct buf {
	char	*p;
	size_t	 n;
};

struct cli {
	CURL		*cu;
	EVP_PKEY	*key;
	struct ca_jws_key *jk;
	char		 thumb[CA_JWS_THUMBPRINT_LEN];
	char		 nonce[128];
	char		 location[1024];
	char		 kid[1024];
	char		 new_nonce[512], new_account[512], new_order[512];
	long		 status;
	struct buf	 body;
};

static size_t
wr(char *p, size_t sz, size_t n, void *arg)
{
	struct buf *b = arg;
	char *nb;

	if ((nb = realloc(b->p, b->n + sz * n + 1)) == NULL)
		return 0;
	b->p = nb;
	memcpy(b->p + b->n, p, sz * n);
	b->n += sz * n;
	b->p[b->n] = '\0';
	return sz * n;
}

static size_t
hdr(char *p, size_t sz, size_t n, void *arg)
{
	struct cli *c = arg;
	size_t len = sz * n, k;
	char *d;

	if (len > 14 && strncasecmp(p, "Replay-Nonce:", 13) == 0)
		d = c->nonce, k = 13;
	else if (len > 10 && strncasecmp(p, "Location:", 9) == 0)
		d = c->location, k = 9;
	else
		return len;
	while (k < len && p[k] == ' ')
		k++;
	snprintf(d, 512, "%.*s", (int)(len - k), p + k);
	d[strcspn(d, "\r\n")] = '\0';
	return len;
}

static int
req(struct cli *c, const char *url, const char *body)
{
	struct curl_slist *h = NULL;

	free(c->body.p);
	c->body.p = NULL;
	c->body.n = 0;
	c->location[0] = '\0';
	curl_easy_reset(c->cu);
	curl_easy_setopt(c->cu, CURLOPT_URL, url);
	curl_easy_setopt(c->cu, CURLOPT_CAINFO, ca_pem);
	curl_easy_setopt(c->cu, CURLOPT_WRITEFUNCTION, wr);
	curl_easy_setopt(c->cu, CURLOPT_WRITEDATA, &c->body);
	curl_easy_setopt(c->cu, CURLOPT_HEADERFUNCTION, hdr);
	curl_easy_setopt(c->cu, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->cu, CURLOPT_NOPROXY, "*");
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/jose+json");
		curl_easy_setopt(c->cu, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c->cu, CURLOPT_POSTFIELDS, body);
	} else
		curl_easy_setopt(c->cu, CURLOPT_NOBODY, 1L);
	if (curl_easy_perform(c->cu) != CURLE_OK) {
		curl_slist_free_all(h);
		fprintf(stderr, "acme_probe: %s: request failed\n", url);
		return -1;
	}
	curl_easy_getinfo(c->cu, CURLINFO_RESPONSE_CODE, &c->status);
	curl_slist_free_all(h);
	return 0;
}

/* Flags that spoil a request on purpose. */
enum spoil { SP_NONE, SP_SIG, SP_URL, SP_NONCE_KEEP };

/* POST payload (NULL: POST-as-GET) to url, signed by kid or jwk. */
static int
post(struct cli *c, const char *url, const char *payload, enum spoil sp)
{
	struct kr_error e;
	json_t *h, *jwk = NULL, *o;
	char *compact = NULL, *d1, *d2, *body, wrong[1100];
	int ret;

	if (c->nonce[0] == '\0' && req(c, c->new_nonce, NULL) != 0)
		return -1;
	snprintf(wrong, sizeof(wrong), "%s/x", url);
	h = json_pack("{s:s, s:s}", "nonce", c->nonce, "url",
	    sp == SP_URL ? wrong : url);
	if (c->kid[0] != '\0')
		json_object_set_new(h, "kid", json_string(c->kid));
	else {
		if (ca_jws_key_to_json(c->jk, &jwk, &e) != KR_OK)
			return -1;
		json_object_set_new(h, "jwk", jwk);
	}
	if (sp != SP_NONCE_KEEP)
		c->nonce[0] = '\0';
	if (ca_jws_sign_pkey(CA_JWS_ES256, h, (const uint8_t *)(payload ?
	    payload : ""), payload ? strlen(payload) : 0, c->key, &compact,
	    &e) != KR_OK) {
		fprintf(stderr, "acme_probe: %s\n", e.msg);
		json_decref(h);
		return -1;
	}
	json_decref(h);
	d1 = strchr(compact, '.');
	*d1++ = '\0';
	d2 = strchr(d1, '.');
	*d2++ = '\0';
	if (sp == SP_SIG)
		d2[3] = d2[3] == 'A' ? 'B' : 'A';
	o = json_pack("{s:s, s:s, s:s}", "protected", compact, "payload", d1,
	    "signature", d2);
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(compact);
	ret = req(c, url, body);
	free(body);
	return ret;
}

static json_t *
resp_json(struct cli *c)
{
	return c->body.p ? json_loads(c->body.p, 0, NULL) : NULL;
}

/* A refusal: print "STATUS TYPE"; 0 when it was one. */
static int
print_problem(struct cli *c)
{
	json_t *o = resp_json(c);
	const char *t = json_string_value(json_object_get(o, "type"));

	if (c->status < 400 || t == NULL) {
		fprintf(stderr, "acme_probe: no problem: %ld %s\n", c->status,
		    c->body.p ? c->body.p : "");
		json_decref(o);
		return 1;
	}
	printf("%ld %s\n", c->status, t);
	json_decref(o);
	return 0;
}

static int
cli_init(struct cli *c)
{
	json_t *d;

	memset(c, 0, sizeof(*c));
	struct kr_error e;

	if ((c->cu = curl_easy_init()) == NULL ||
	    (c->key = EVP_EC_gen("P-256")) == NULL ||
	    ca_jws_key_from_pkey(c->key, &c->jk, &e) != KR_OK)
		return -1;
	ca_jws_key_thumbprint(c->jk, c->thumb);
	curl_easy_setopt(c->cu, CURLOPT_URL, dir_url);
	if (req(c, dir_url, NULL) != 0)
		return -1;
	/* req with NULL body does HEAD; the directory needs GET. */
	curl_easy_setopt(c->cu, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(c->cu, CURLOPT_HTTPGET, 1L);
	if (curl_easy_perform(c->cu) != CURLE_OK ||
	    (d = resp_json(c)) == NULL)
		return -1;
	snprintf(c->new_nonce, sizeof(c->new_nonce), "%s",
	    json_string_value(json_object_get(d, "newNonce")));
	snprintf(c->new_account, sizeof(c->new_account), "%s",
	    json_string_value(json_object_get(d, "newAccount")));
	snprintf(c->new_order, sizeof(c->new_order), "%s",
	    json_string_value(json_object_get(d, "newOrder")));
	json_decref(d);
	return 0;
}

static void
cli_free(struct cli *c)
{
	curl_easy_cleanup(c->cu);
	EVP_PKEY_free(c->key);
	ca_jws_key_free(c->jk);
	free(c->body.p);
}

static int
account(struct cli *c)
{
	if (post(c, c->new_account, "{\"termsOfServiceAgreed\":true}",
	    SP_NONE) != 0 || (c->status != 201 && c->status != 200)) {
		fprintf(stderr, "acme_probe: newAccount: %ld %s\n", c->status,
		    c->body.p ? c->body.p : "");
		return -1;
	}
	snprintf(c->kid, sizeof(c->kid), "%s", c->location);
	return 0;
}

/* The dns-01 TXT value for token: base64url(SHA-256(keyauth)). */
static void
dns01_answer(struct cli *c, const char *token)
{
	unsigned char d[32];
	char ka[256];

	if (token == NULL)
		return;
	snprintf(ka, sizeof(ka), "%s.%s", token, c->thumb);
	EVP_Digest(ka, strlen(ka), d, NULL, EVP_sha256(), NULL);
	ca_jws_b64_encode(d, sizeof(d), dns_txt);
}

/* The ACME identifier type of name: "ip" for an IPv4 address. */
static const char *
ident_type(const char *name)
{
	struct in_addr a;

	return inet_pton(AF_INET, name, &a) == 1 ? "ip" : "dns";
}

/* A CSR for names (DER, base64url, malloc'd). */
static char *
csr_b64(const char *const *names, size_t n)
{
	X509_REQ *r = X509_REQ_new();
	EVP_PKEY *k = EVP_EC_gen("P-256");
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	char san[1024] = "";
	unsigned char *der = NULL;
	char *out;
	size_t i;
	int len;

	for (i = 0; i < n; i++)
		snprintf(san + strlen(san), sizeof(san) - strlen(san),
		    "%s%s:%s", i ? "," : "", strcmp(ident_type(names[i]),
		    "ip") == 0 ? "IP" : "DNS", names[i]);
	sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL,
	    NID_subject_alt_name, san));
	X509_REQ_add_extensions(r, exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_set_pubkey(r, k);
	X509_REQ_sign(r, k, EVP_sha256());
	len = i2d_X509_REQ(r, &der);
	out = malloc(ca_jws_b64_len((size_t)len) + 1);
	ca_jws_b64_encode(der, (size_t)len, out);
	OPENSSL_free(der);
	X509_REQ_free(r);
	EVP_PKEY_free(k);
	return out;
}

/*
 * A new order for name, and the challenge types its authorization
 * offers, printed on one line.  0 when that worked.
 */
static int
challenge_types(struct cli *c, const char *name)
{
	char payload[600], aurl[1024];
	json_t *o, *a, *ch;
	size_t i;

	snprintf(payload, sizeof(payload), "{\"identifiers\":[{\"type\":"
	    "\"%s\",\"value\":\"%s\"}]}", ident_type(name), name);
	if (post(c, c->new_order, payload, SP_NONE) != 0 || c->status != 201)
		return print_problem(c), 1;
	o = resp_json(c);
	snprintf(aurl, sizeof(aurl), "%s", json_string_value(json_array_get(
	    json_object_get(o, "authorizations"), 0)));
	json_decref(o);
	if (post(c, aurl, NULL, SP_NONE) != 0 || c->status != 200)
		return 1;
	a = resp_json(c);
	json_array_foreach(json_object_get(a, "challenges"), i, ch)
		printf("%s%s", i > 0 ? " " : "",
		    json_string_value(json_object_get(ch, "type")));
	printf("\n");
	json_decref(a);
	return 0;
}

/*
 * One order for name: new order, http-01, finalize with a CSR for
 * csrname, download.  0 with the chain in *pem; else the problem was
 * printed when want_problem.
 */
static int
order(struct cli *c, const char *name, const char *csrname,
    int do_chall, char **pem)
{
	char payload[600], ourl[1024], furl[1024], aurl[1024], curl_[1024];
	char na[64];
	json_t *o, *a, *ch, *v;
	const char *names[1] = { csrname };
	char *csr;
	size_t i;

	*pem = NULL;
	na[0] = '\0';
	if (getenv("ACME_PROBE_NOT_AFTER") != NULL) {
		time_t t = time(NULL) + atol(getenv("ACME_PROBE_NOT_AFTER"));
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(na, sizeof(na), ",\"notAfter\":\"%Y-%m-%dT%H:%M:%SZ\"",
		    &tm);
	}
	snprintf(payload, sizeof(payload), "{\"identifiers\":[{\"type\":"
	    "\"%s\",\"value\":\"%s\"}]%s}", ident_type(name), name, na);
	if (post(c, c->new_order, payload, SP_NONE) != 0)
		return -1;
	if (c->status != 201)
		return 2;
	snprintf(ourl, sizeof(ourl), "%s", c->location);
	o = resp_json(c);
	snprintf(furl, sizeof(furl), "%s",
	    json_string_value(json_object_get(o, "finalize")));
	snprintf(aurl, sizeof(aurl), "%s", json_string_value(json_array_get(
	    json_object_get(o, "authorizations"), 0)));
	json_decref(o);
	if (post(c, aurl, NULL, SP_NONE) != 0 || c->status != 200)
		return 2;
	a = resp_json(c);
	curl_[0] = '\0';
	json_array_foreach(json_object_get(a, "challenges"), i, ch)
		if (strcmp(json_string_value(json_object_get(ch, "type")),
		    chall_type) == 0) {
			snprintf(curl_, sizeof(curl_), "%s", json_string_value(
			    json_object_get(ch, "url")));
			dns01_answer(c, json_string_value(json_object_get(ch,
			    "token")));
		}
	json_decref(a);
	if (do_chall) {
		if (post(c, curl_, "{}", SP_NONE) != 0 || c->status != 200)
			return 2;
		v = resp_json(c);
		if (strcmp(json_string_value(json_object_get(v, "status")),
		    "valid") != 0) {
			printf("challenge %s %s\n", json_string_value(
			    json_object_get(v, "status")), json_string_value(
			    json_object_get(json_object_get(v, "error"),
			    "type")));
			json_decref(v);
			return 3;
		}
		json_decref(v);
	}
	csr = csr_b64(names, 1);
	snprintf(payload, sizeof(payload), "{\"csr\":\"%s\"}", csr);
	free(csr);
	if (post(c, furl, payload, SP_NONE) != 0)
		return -1;
	if (c->status != 200)
		return 2;
	o = resp_json(c);
	v = json_object_get(o, "certificate");
	if (!json_is_string(v)) {
		json_decref(o);
		return 2;
	}
	snprintf(curl_, sizeof(curl_), "%s", json_string_value(v));
	json_decref(o);
	if (post(c, curl_, NULL, SP_NONE) != 0 || c->status != 200)
		return 2;
	*pem = strdup(c->body.p);
	return 0;
}

/* ---- the http-01 responder ---- */

static char thumb_for_server[CA_JWS_THUMBPRINT_LEN];

static void *
responder(void *arg)
{
	int lfd = *(int *)arg, fd;
	char buf[2048], out[512], tok[128], ka[256];
	ssize_t n;

	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) < 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			tok[0] = '\0';
			sscanf(buf, "GET /.well-known/acme-challenge/%127s", tok);
			/* Every account here has the same key (bench shares
			   it), so one thumbprint answers any token. */
			snprintf(ka, sizeof(ka), "%s.%s", tok,
			    thumb_for_server);
			snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n"
			    "%s", strlen(ka), ka);
			(void)send(fd, out, strlen(out), MSG_NOSIGNAL);
		}
		close(fd);
	}
	return NULL;
}

static int
serve_http01(void)
{
	static int lfd;
	struct sockaddr_in sin;
	pthread_t t;
	int one = 1;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)http01_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(lfd, 64) != 0) {
		perror("acme_probe: http-01 port");
		return -1;
	}
	return pthread_create(&t, NULL, responder, &lfd) == 0 ? 0 : -1;
}

/* ---- the dns-01 responder: TXT answers with dns_txt ---- */

static void *
dns_responder(void *arg)
{
	int fd = *(int *)arg;
	unsigned char q[512], r[600];
	struct sockaddr_in from;
	socklen_t fl;
	ssize_t n;
	size_t off, qend, tl;

	for (;;) {
		fl = sizeof(from);
		n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from,
		    &fl);
		if (n < 17)
			continue;
		/* The question: labels, then type and class. */
		for (off = 12; off < (size_t)n && q[off] != 0;
		    off += q[off] + 1)
			;
		qend = off + 5;
		if (qend > (size_t)n)
			continue;
		memcpy(r, q, qend);
		r[2] = 0x81;
		r[3] = 0x80;
		r[6] = 0;
		r[7] = 0;	/* no answers unless TXT */
		r[8] = r[9] = r[10] = r[11] = 0;
		off = qend;
		tl = strlen(dns_txt);
		if (q[off - 4] == 0 && q[off - 3] == 16 && tl > 0) {
			r[7] = 1;
			r[off++] = 0xc0;
			r[off++] = 12;
			r[off++] = 0;
			r[off++] = 16;		/* TXT */
			r[off++] = 0;
			r[off++] = 1;		/* IN */
			r[off++] = 0;
			r[off++] = 0;
			r[off++] = 0;
			r[off++] = 0;		/* TTL 0 */
			r[off++] = 0;
			r[off++] = (unsigned char)(tl + 1);
			r[off++] = (unsigned char)tl;
			memcpy(r + off, dns_txt, tl);
			off += tl;
		}
		(void)sendto(fd, r, off, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static int
serve_dns(int port)
{
	static int fd;
	struct sockaddr_in sin;
	pthread_t t;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("acme_probe: dns port");
		return -1;
	}
	return pthread_create(&t, NULL, dns_responder, &fd) == 0 ? 0 : -1;
}

/*
 * Key rollover (RFC 8555 7.3.5): the account moves to a new key; an
 * order under the new key works, the old key is refused.  Prints
 * "rollover ok" then the old key's problem.
 */
static int
rollover(struct cli *c, const char *name)
{
	struct kr_error e;
	struct ca_jws_key *nk = NULL;
	EVP_PKEY *newkey = EVP_EC_gen("P-256"), *old = c->key;
	struct ca_jws_key *oldjk = c->jk;
	char kc[600], *inner = NULL, *d1, *d2, *payload, *ij;
	json_t *h, *jwk, *ojwk, *pl, *o, *d;
	char payload2[600];

	/* The key-change URL from the directory. */
	curl_easy_reset(c->cu);
	free(c->body.p);
	c->body.p = NULL;
	c->body.n = 0;
	curl_easy_setopt(c->cu, CURLOPT_URL, dir_url);
	curl_easy_setopt(c->cu, CURLOPT_CAINFO, ca_pem);
	curl_easy_setopt(c->cu, CURLOPT_WRITEFUNCTION, wr);
	curl_easy_setopt(c->cu, CURLOPT_WRITEDATA, &c->body);
	if (curl_easy_perform(c->cu) != CURLE_OK ||
	    (d = resp_json(c)) == NULL)
		return 1;
	snprintf(kc, sizeof(kc), "%s", json_string_value(json_object_get(d,
	    "keyChange")));
	json_decref(d);
	if (ca_jws_key_from_pkey(newkey, &nk, &e) != KR_OK ||
	    ca_jws_key_to_json(nk, &jwk, &e) != KR_OK ||
	    ca_jws_key_to_json(oldjk, &ojwk, &e) != KR_OK)
		return 1;
	h = json_pack("{s:s, s:o}", "url", kc, "jwk", jwk);
	pl = json_pack("{s:s, s:o}", "account", c->kid, "oldKey", ojwk);
	payload = json_dumps(pl, JSON_COMPACT);
	if (ca_jws_sign_pkey(CA_JWS_ES256, h, (const uint8_t *)payload,
	    strlen(payload), newkey, &inner, &e) != KR_OK)
		return 1;
	d1 = strchr(inner, '.');
	*d1++ = '\0';
	d2 = strchr(d1, '.');
	*d2++ = '\0';
	o = json_pack("{s:s, s:s, s:s}", "protected", inner, "payload", d1,
	    "signature", d2);
	ij = json_dumps(o, JSON_COMPACT);
	if (post(c, kc, ij, SP_NONE) != 0 || c->status != 200) {
		fprintf(stderr, "acme_probe: keyChange: %ld %s\n", c->status,
		    c->body.p ? c->body.p : "");
		return 1;
	}
	/* Under the new key. */
	c->key = newkey;
	c->jk = nk;
	ca_jws_key_thumbprint(nk, c->thumb);
	memcpy(thumb_for_server, c->thumb, sizeof(c->thumb));
	snprintf(payload2, sizeof(payload2), "{\"identifiers\":[{\"type\":"
	    "\"dns\",\"value\":\"%s\"}]}", name);
	if (post(c, c->new_order, payload2, SP_NONE) != 0 || c->status != 201)
		return 1;
	printf("rollover ok\n");
	/* The old key no longer signs for the account. */
	c->key = old;
	if (post(c, c->new_order, payload2, SP_NONE) != 0)
		return 1;
	c->key = newkey;
	ca_jws_key_free(oldjk);
	EVP_PKEY_free(old);
	json_decref(h);
	json_decref(pl);
	json_decref(o);
	free(payload);
	free(inner);
	free(ij);
	return print_problem(c);
}

/* ---- bench ---- */

struct bench_arg {
	struct cli	*c;
	int		 n;
	int		 ok;
	int		 idx;
};

static void *
bench_thread(void *p)
{
	struct bench_arg *b = p;
	char name[128], *pem;
	int i;

	for (i = 0; i < b->n; i++) {
		snprintf(name, sizeof(name), "b%d-%d.lab.internal", b->idx, i);
		if (order(b->c, name, name, 1, &pem) == 0) {
			b->ok++;
			free(pem);
		}
	}
	return NULL;
}

static struct cli c;

static int
probe(int argc, char **argv)
{
	const char *mode, *name;
	char *pem = NULL, *csr;
	const char *names[1];
	char payload[600];
	struct timespec t0, t1;
	int rc, n, th, i, total;

	if (argc < 5) {
		fprintf(stderr, "usage: acme_probe DIRECTORY CA_PEM PORT MODE "
		    "[NAME] [N] [THREADS]\n");
		return 2;
	}
	dir_url = argv[1];
	ca_pem = argv[2];
	http01_port = atoi(argv[3]);
	mode = argv[4];
	name = argc > 5 ? argv[5] : "probe.lab.internal";
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(mode, "bench") == 0) {
		struct bench_arg *ba;
		pthread_t *ts;
		struct cli *cs;

		n = argc > 6 ? atoi(argv[6]) : 20;
		th = argc > 7 ? atoi(argv[7]) : 1;
		/* One account shared by thumbprint: all threads use the
		   first key, so the responder's answer fits them all. */
		cs = calloc((size_t)th, sizeof(*cs));
		ba = calloc((size_t)th, sizeof(*ba));
		ts = calloc((size_t)th, sizeof(*ts));
		for (i = 0; i < th; i++) {
			if (cli_init(&cs[i]) != 0)
				return 1;
			if (i > 0) {
				EVP_PKEY_free(cs[i].key);
				ca_jws_key_free(cs[i].jk);
				EVP_PKEY_up_ref(cs[0].key);
				cs[i].key = cs[0].key;
				if (ca_jws_key_from_pkey(cs[0].key,
				    &cs[i].jk, &(struct kr_error){0}) != KR_OK)
					return 1;
			}
			if (account(&cs[i]) != 0)
				return 1;
		}
		memcpy(thumb_for_server, cs[0].thumb, sizeof(cs[0].thumb));
		if (serve_http01() != 0)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < th; i++) {
			ba[i].c = &cs[i];
			ba[i].n = n / th;
			ba[i].idx = i;
			pthread_create(&ts[i], NULL, bench_thread, &ba[i]);
		}
		total = 0;
		for (i = 0; i < th; i++) {
			pthread_join(ts[i], NULL);
			total += ba[i].ok;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("acme_orders %d of %d\nacme_orders_per_second %.1f\n",
		    total, (n / th) * th, total / ((double)(t1.tv_sec -
		    t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9));
		for (i = 0; i < th; i++)
			cli_free(&cs[i]);
		free(cs);
		free(ba);
		free(ts);
		return total == (n / th) * th ? 0 : 1;
	}
	if (strcmp(mode, "noeab") == 0) {
		/* newAccount without a binding, where one is needed. */
		if (cli_init(&c) != 0 || post(&c, c.new_account,
		    "{\"termsOfServiceAgreed\":true}", SP_NONE) != 0)
			return 1;
		return print_problem(&c);
	}
	if (cli_init(&c) != 0 || account(&c) != 0)
		return 1;
	memcpy(thumb_for_server, c.thumb, sizeof(c.thumb));
	if (strcmp(mode, "rollover") == 0)
		return rollover(&c, name);
	if (strcmp(mode, "dns01") == 0) {
		/* NAME, then the DNS port in N. */
		chall_type = "dns-01";
		if (argc < 7 || serve_dns(atoi(argv[6])) != 0)
			return 1;
		if (order(&c, name, name, 1, &pem) != 0) {
			fprintf(stderr, "acme_probe: %ld %s\n", c.status,
			    c.body.p ? c.body.p : "");
			return 1;
		}
		fputs(pem, stdout);
		free(pem);
		return 0;
	}
	if (strcmp(mode, "challenges") == 0)
		return challenge_types(&c, name);
	if (strcmp(mode, "fail-chall") != 0 && serve_http01() != 0)
		return 1;
	if (strcmp(mode, "issue") == 0) {
		if (order(&c, name, name, 1, &pem) != 0) {
			fprintf(stderr, "acme_probe: %ld %s\n", c.status,
			    c.body.p ? c.body.p : "");
			return 1;
		}
		fputs(pem, stdout);
		free(pem);
		return 0;
	}
	if (strcmp(mode, "outside") == 0)
		return order(&c, name, name, 1, &pem) == 2 ?
		    print_problem(&c) : 1;
	if (strcmp(mode, "csr-other") == 0)
		return order(&c, name, "other.lab.internal", 1, &pem) == 2 ?
		    print_problem(&c) : 1;
	if (strcmp(mode, "fail-chall") == 0) {
		rc = order(&c, name, name, 1, &pem);
		if (rc != 3)
			return 1;
		/* The order is invalid now: finalize is refused. */
		return 0;
	}
	if (strcmp(mode, "bad-nonce") == 0) {
		char used[128];

		snprintf(payload, sizeof(payload), "{\"identifiers\":[{\"type\":"
		    "\"dns\",\"value\":\"%s\"}]}", name);
		if (c.nonce[0] == '\0' && req(&c, c.new_nonce, NULL) != 0)
			return 1;
		snprintf(used, sizeof(used), "%s", c.nonce);

		if (post(&c, c.new_order, payload, SP_NONCE_KEEP) != 0 ||
		    c.status != 201)
			return 1;
		/* post kept the nonce it used; the answer brought another. */
		snprintf(c.nonce, sizeof(c.nonce), "%s", used);
		/* The same nonce again (the answer's is ignored). */
		return post(&c, c.new_order, payload, SP_NONE) == 0 ?
		    print_problem(&c) : 1;
	}
	if (strcmp(mode, "bad-sig") == 0 || strcmp(mode, "wrong-url") == 0) {
		names[0] = name;
		csr = csr_b64(names, 1);
		free(csr);
		snprintf(payload, sizeof(payload), "{\"identifiers\":[{\"type\":"
		    "\"dns\",\"value\":\"%s\"}]}", name);
		return post(&c, c.new_order, payload, strcmp(mode, "bad-sig") ==
		    0 ? SP_SIG : SP_URL) == 0 ? print_problem(&c) : 1;
	}
	fprintf(stderr, "acme_probe: unknown mode %s\n", mode);
	return 2;
}

int
main(int argc, char **argv)
{
	int rc;

	rc = probe(argc, argv);
	cli_free(&c);
	curl_global_cleanup();
	return rc;
}
