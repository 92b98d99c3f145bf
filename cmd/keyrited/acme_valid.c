/*
 * acme_valid.c: ACME challenge validation from the signer host:
 * http-01 (RFC 8555 section 8.3) with libcurl, tls-alpn-01 (RFC 8737)
 * with OpenSSL, dns-01 (section 8.4) with the resolver library, against
 * the configured resolver when acme_dns_resolver is set.  With
 * acme_connect set, http-01 and tls-alpn-01 connect to that address
 * instead of the name's; the ports are acme_http01_port and
 * acme_tlsalpn01_port (docs/acme.md).
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "kd.h"
#include "ca/acme.h"

#define VALID_TIMEOUT	10	/* seconds for one validation */
#define HTTP01_MAX	1024	/* bytes of a response we read */

struct sink {
	char	buf[HTTP01_MAX + 1];
	size_t	len;
	int	over;
};

static size_t
sink_write(char *p, size_t sz, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = sz * n;

	if (s->len + len > HTTP01_MAX) {
		s->over = 1;
		return 0;
	}
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return len;
}

/* "[v6]" or "v4"/"name" for URLs and curl's CONNECT_TO. */
static void
url_host(const char *h, char *out, size_t sz)
{
	snprintf(out, sz, strchr(h, ':') ? "[%s]" : "%s", h);
}

int
kd_acme_http01(const struct kd_config *c, const char *name,
    const char *token, const char *keyauth, struct ca_acme_err *ae)
{
	struct curl_slist *ct = NULL;
	struct sink s;
	char url[512], h[300], to[400], cerr[CURL_ERROR_SIZE];
	CURL *cu;
	CURLcode rc;
	long code = 0;
	size_t n;
	int ret = -1;

	memset(&s, 0, sizeof(s));
	url_host(name, h, sizeof(h));
	snprintf(url, sizeof(url), "http://%s:%d/.well-known/acme-challenge/"
	    "%s", h, c->acme_http01_port, token);
	if ((cu = curl_easy_init()) == NULL)
		return ca_acme_fail(ae, CA_ACME_SERVER_INTERNAL, 500, "out of "
		    "memory");
	if (c->acme_connect[0] != '\0') {
		char ch[80];

		url_host(c->acme_connect, ch, sizeof(ch));
		snprintf(to, sizeof(to), "%s:%d:%s:%d", h,
		    c->acme_http01_port, ch, c->acme_http01_port);
		if ((ct = curl_slist_append(NULL, to)) == NULL) {
			curl_easy_cleanup(cu);
			return ca_acme_fail(ae, CA_ACME_SERVER_INTERNAL, 500,
			    "out of memory");
		}
		curl_easy_setopt(cu, CURLOPT_CONNECT_TO, ct);
	}
	cerr[0] = '\0';
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(cu, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT, (long)VALID_TIMEOUT);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_USERAGENT, "keyrited-acme-validator");
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, cerr);
	rc = curl_easy_perform(cu);
	curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK && !s.over) {
		ca_acme_fail(ae, rc == CURLE_COULDNT_RESOLVE_HOST ?
		    CA_ACME_DNS : CA_ACME_CONNECTION, 400, "http-01: %s: %s",
		    url, cerr[0] ? cerr : curl_easy_strerror(rc));
		goto out;
	}
	if (s.over || code != 200) {
		ca_acme_fail(ae, CA_ACME_INCORRECT_RESPONSE, 400, "http-01: "
		    "%s answered %s", url, s.over ? "more than 1024 bytes" :
		    code == 0 ? "nothing" : "a status other than 200");
		goto out;
	}
	/* RFC 8555 8.3: the key authorization, trailing whitespace ok. */
	n = s.len;
	while (n > 0 && isspace((unsigned char)s.buf[n - 1]))
		n--;
	if (n != strlen(keyauth) || memcmp(s.buf, keyauth, n) != 0) {
		ca_acme_fail(ae, CA_ACME_INCORRECT_RESPONSE, 400, "http-01: "
		    "%s answered something other than the key authorization",
		    url);
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(ct);
	curl_easy_cleanup(cu);
	return ret;
}

/* A TCP connection to host:port with timeouts; -1 with ae set. */
static int
dial(const char *host, int port, struct ca_acme_err *ae, const char *what)
{
	struct addrinfo hints, *ai = NULL, *a;
	struct timeval tv = { VALID_TIMEOUT, 0 };
	char ps[16];
	int fd = -1, gai;

	snprintf(ps, sizeof(ps), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((gai = getaddrinfo(host, ps, &hints, &ai)) != 0) {
		ca_acme_fail(ae, CA_ACME_DNS, 400, "%s: cannot resolve %s: %s",
		    what, host, gai_strerror(gai));
		return -1;
	}
	for (a = ai; a != NULL; a = a->ai_next) {
		if ((fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
		    0)) < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		ca_acme_fail(ae, CA_ACME_CONNECTION, 400, "%s: cannot connect "
		    "to %s port %d", what, host, port);
	return fd;
}

int
kd_acme_tlsalpn01(const struct kd_config *c, const char *name,
    const char *keyauth, struct ca_acme_err *ae)
{
	static const unsigned char alpn[] = "\x0a" "acme-tls/1";
	uint8_t digest[crypto_hash_sha256_BYTES];
	const unsigned char *proto = NULL, *p;
	unsigned int plen = 0;
	GENERAL_NAMES *gns = NULL;
	const GENERAL_NAME *gn;
	ASN1_OCTET_STRING *inner = NULL;
	const ASN1_OCTET_STRING *ev;
	X509_EXTENSION *ext;
	ASN1_OBJECT *oid = NULL;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	X509 *x = NULL;
	int fd, idx, ret = -1, crit;

	/* Authorizations of IP addresses offer http-01 only (new order). */
	if (strchr(name, ':') != NULL || inet_addr(name) != INADDR_NONE)
		return ca_acme_fail(ae, CA_ACME_MALFORMED, 400, "tls-alpn-01: "
		    "%s is an IP address; its authorization offers http-01",
		    name);
	if ((fd = dial(c->acme_connect[0] ? c->acme_connect : name,
	    c->acme_tlsalpn01_port, ae, "tls-alpn-01")) < 0)
		return -1;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0 ||
	    (ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    SSL_set_tlsext_host_name(ssl, name) != 1) {
		ca_acme_fail(ae, CA_ACME_SERVER_INTERNAL, 500, "tls-alpn-01: "
		    "cannot set up TLS");
		goto out;
	}
	/* The certificate is self-signed: verification is the point. */
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	if (SSL_connect(ssl) != 1) {
		ca_acme_fail(ae, CA_ACME_TLS, 400, "tls-alpn-01: the TLS "
		    "handshake with %s failed", name);
		goto out;
	}
	SSL_get0_alpn_selected(ssl, &proto, &plen);
	if (plen != 10 || memcmp(proto, "acme-tls/1", 10) != 0) {
		ca_acme_fail(ae, CA_ACME_TLS, 400, "tls-alpn-01: %s did not "
		    "select the acme-tls/1 protocol", name);
		goto out;
	}
	if ((x = SSL_get1_peer_certificate(ssl)) == NULL) {
		ca_acme_fail(ae, CA_ACME_TLS, 400, "tls-alpn-01: %s sent no "
		    "certificate", name);
		goto out;
	}
	/* Exactly one SAN, the dNSName being validated. */
	gns = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (gns == NULL || sk_GENERAL_NAME_num(gns) != 1 ||
	    (gn = sk_GENERAL_NAME_value(gns, 0))->type != GEN_DNS ||
	    (size_t)ASN1_STRING_length(gn->d.dNSName) != strlen(name) ||
	    strncasecmp((const char *)ASN1_STRING_get0_data(gn->d.dNSName),
	    name, strlen(name)) != 0) {
		ca_acme_fail(ae, CA_ACME_INCORRECT_RESPONSE, 400, "tls-alpn-01: "
		    "the certificate's subjectAltName must be exactly "
		    "DNS:%s", name);
		goto out;
	}
	/* id-pe-acmeIdentifier, critical, OCTET STRING of the digest. */
	if ((oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1)) == NULL ||
	    (idx = X509_get_ext_by_OBJ(x, oid, -1)) < 0 ||
	    X509_get_ext_by_OBJ(x, oid, idx) >= 0 ||
	    (ext = X509_get_ext(x, idx)) == NULL ||
	    !X509_EXTENSION_get_critical(ext) ||
	    (ev = X509_EXTENSION_get_data(ext)) == NULL) {
		ca_acme_fail(ae, CA_ACME_INCORRECT_RESPONSE, 400, "tls-alpn-01: "
		    "the certificate has no single critical acmeIdentifier "
		    "extension");
		goto out;
	}
	crypto_hash_sha256(digest, (const uint8_t *)keyauth, strlen(keyauth));
	p = ASN1_STRING_get0_data(ev);
	if ((inner = d2i_ASN1_OCTET_STRING(NULL, &p,
	    ASN1_STRING_length(ev))) == NULL ||
	    p != ASN1_STRING_get0_data(ev) + ASN1_STRING_length(ev) ||
	    ASN1_STRING_length(inner) != (int)sizeof(digest) ||
	    memcmp(ASN1_STRING_get0_data(inner), digest, sizeof(digest)) !=
	    0) {
		ca_acme_fail(ae, CA_ACME_INCORRECT_RESPONSE, 400, "tls-alpn-01: "
		    "the acmeIdentifier is not the SHA-256 of the key "
		    "authorization");
		goto out;
	}
	ret = 0;
out:
	ERR_clear_error();
	ASN1_OCTET_STRING_free(inner);
	ASN1_OBJECT_free(oid);
	GENERAL_NAMES_free(gns);
	X509_free(x);
	if (ssl != NULL)
		SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return ret;
}

int
kd_acme_dns01(const struct kd_config *c, const char *name,
    const char *keyauth, struct ca_acme_err *ae)
{
	struct __res_state rs;
	uint8_t digest[crypto_hash_sha256_BYTES];
	unsigned char ans[4096];
	char want[64], q[300], host[128];
	const unsigned char *rd;
	ns_msg msg;
	ns_rr rr;
	int n, i, port, found = 0, ret = -1;
	size_t off, tl;

	crypto_hash_sha256(digest, (const uint8_t *)keyauth, strlen(keyauth));
	ca_jws_b64_encode(digest, sizeof(digest), want);
	snprintf(q, sizeof(q), "_acme-challenge.%s", name);
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0)
		return ca_acme_fail(ae, CA_ACME_SERVER_INTERNAL, 500, "dns-01: "
		    "the resolver cannot start");
	rs.retrans = 2;
	rs.retry = 2;
	if (c->acme_dns_resolver[0] != '\0' &&
	    kd_hostport(c->acme_dns_resolver, host, sizeof(host), &port) ==
	    0) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
			ca_acme_fail(ae, CA_ACME_SERVER_INTERNAL, 500, "dns-01: "
			    "acme_dns_resolver must be an IPv4 address here");
			goto out;
		}
		rs.nsaddr_list[0] = sin;
		rs.nscount = 1;
	}
	if ((n = res_nquery(&rs, q, ns_c_in, ns_t_txt, ans, sizeof(ans))) <
	    0) {
		ca_acme_fail(ae, CA_ACME_DNS, 400, "dns-01: no TXT record for "
		    "%s", q);
		goto out;
	}
	if (ns_initparse(ans, n, &msg) != 0) {
		ca_acme_fail(ae, CA_ACME_DNS, 400, "dns-01: the answer for %s "
		    "cannot be parsed", q);
		goto out;
	}
	for (i = 0; i < ns_msg_count(msg, ns_s_an) && !found; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 ||
		    ns_rr_type(rr) != ns_t_txt)
			continue;
		rd = ns_rr_rdata(rr);
		/* One or more character-strings, concatenated. */
		for (off = 0, tl = 0; off < ns_rr_rdlen(rr); ) {
			size_t l = rd[off];

			if (off + 1 + l > ns_rr_rdlen(rr))
				break;
			if (tl + l < sizeof(q)) {
				memcpy(q + tl, rd + off + 1, l);
				tl += l;
			}
			off += 1 + l;
		}
		if (tl == strlen(want) && memcmp(q, want, tl) == 0)
			found = 1;
	}
	if (!found) {
		snprintf(q, sizeof(q), "_acme-challenge.%s", name);
		ca_acme_fail(ae, CA_ACME_INCORRECT_RESPONSE, 400, "dns-01: no "
		    "TXT record for %s holds the key authorization's digest",
		    q);
		goto out;
	}
	ret = 0;
out:
	res_nclose(&rs);
	return ret;
}
