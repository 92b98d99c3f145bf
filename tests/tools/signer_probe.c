/*
 * signer_probe.c: a test tool that talks to one keyrited signer process
 * directly, as the front would, to show what it refuses to sign.
 *
 *   signer_probe KEYRITED HOME KIND
 *
 * starts `KEYRITED _signer --home HOME` on a socketpair (fd 3), builds a
 * TBS of KIND signed by a throwaway key and naming HOME's intermediate
 * as issuer, sends it, and prints "signed" or "refused: WHY".  KIND:
 *   v1-serial-1   a v1 certificate with serial 1 (shaped like a CRL)
 *   v3-unreserved a v3 certificate no reservation covers
 *   crl           a v2 CRL (signed: CRLs need no reservation)
 *   crl-other     a v2 CRL naming another issuer
 * Exit 0 when an answer came, 1 otherwise.  Never installed.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define MAGIC 0x6b727332u

/* The front's request header (cmd/keyrited/signer.c), then the TBS. */
struct hdr {
	uint32_t	magic;
	uint32_t	nid;
	int64_t		id;	/* the reservation: 1, the store's first */
};

static X509 *
load_int(const char *home)
{
	char path[4096];
	FILE *f;
	X509 *x;

	snprintf(path, sizeof(path), "%s/intermediate.pem", home);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

/* The DER TBS of kind, or NULL. */
static unsigned char *
make_tbs(const char *kind, X509 *in, int *len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	unsigned char *der = NULL;
	X509_NAME *other;
	ASN1_TIME *t;

	*len = -1;
	if (strncmp(kind, "crl", 3) == 0) {
		X509_CRL *c = X509_CRL_new();

		X509_CRL_set_version(c, X509_CRL_VERSION_2);
		other = X509_NAME_new();
		X509_NAME_add_entry_by_txt(other, "CN", MBSTRING_ASC,
		    (const unsigned char *)"Someone Else", -1, -1, 0);
		X509_CRL_set_issuer_name(c, strcmp(kind, "crl") == 0 ?
		    X509_get_subject_name(in) : other);
		t = ASN1_TIME_set(NULL, time(NULL));
		X509_CRL_set1_lastUpdate(c, t);
		X509_CRL_sign(c, k, EVP_sha256());
		*len = i2d_re_X509_CRL_tbs(c, &der);
		ASN1_TIME_free(t);
		X509_NAME_free(other);
		X509_CRL_free(c);
	} else {
		X509 *x = X509_new();

		X509_set_version(x, strcmp(kind, "v1-serial-1") == 0 ?
		    X509_VERSION_1 : X509_VERSION_3);
		ASN1_INTEGER_set(X509_get_serialNumber(x),
		    strcmp(kind, "v1-serial-1") == 0 ? 1 : 0x5a5a5a5a);
		X509_set_issuer_name(x, X509_get_subject_name(in));
		X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
		    MBSTRING_ASC, (const unsigned char *)"www.example.com", -1,
		    -1, 0);
		X509_gmtime_adj(X509_getm_notBefore(x), 0);
		X509_gmtime_adj(X509_getm_notAfter(x), 86400);
		X509_set_pubkey(x, k);
		X509_sign(x, k, EVP_sha256());
		*len = i2d_re_X509_tbs(x, &der);
		X509_free(x);
	}
	EVP_PKEY_free(k);
	return *len > 0 ? der : NULL;
}

int
main(int argc, char **argv)
{
	uint8_t buf[70000], ans[2048];
	struct hdr hdr = { MAGIC, NID_sha256, 1 };
	unsigned char *tbs;
	X509 *in;
	ssize_t n;
	int sv[2], len, st;
	pid_t pid;

	if (argc != 4) {
		fprintf(stderr, "usage: signer_probe KEYRITED HOME KIND\n");
		return 2;
	}
	if ((in = load_int(argv[2])) == NULL ||
	    (tbs = make_tbs(argv[3], in, &len)) == NULL ||
	    (size_t)len + sizeof(hdr) > sizeof(buf)) {
		fprintf(stderr, "signer_probe: cannot build %s\n", argv[3]);
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0 ||
	    (pid = fork()) == -1)
		return 1;
	if (pid == 0) {
		close(sv[0]);
		if (dup2(sv[1], 3) != 3)
			_exit(127);
		execl(argv[1], "keyrited", "_signer", "--home", argv[2],
		    (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), tbs, (size_t)len);
	if (send(sv[0], buf, sizeof(hdr) + (size_t)len, 0) < 0 ||
	    (n = recv(sv[0], ans, sizeof(ans) - 1, 0)) <= 0) {
		fprintf(stderr, "signer_probe: no answer\n");
		return 1;
	}
	ans[n] = '\0';
	if (ans[0] == 0)
		printf("signed\n");
	else
		printf("refused: %s\n", (char *)ans + 1);
	close(sv[0]);
	waitpid(pid, &st, 0);
	OPENSSL_free(tbs);
	X509_free(in);
	return 0;
}
