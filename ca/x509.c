/*
 * x509.c: the small certificate helpers of ca.h that need nothing but
 * OpenSSL, kept apart from ca.c so that a program that only reads and
 * verifies bundles (keyrite-trust) links them without the policy
 * module, libyaml or libsodium.
 */
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

#include "ca.h"
#include "common/der.h"

/* SHA-384 with P-384 keys, SHA-256 with everything else. */
const EVP_MD *
ca_md_for_key(EVP_PKEY *pk)
{
	char group[64];
	size_t n = 0;

	if (pk != NULL && EVP_PKEY_is_a(pk, "EC") &&
	    EVP_PKEY_get_group_name(pk, group, sizeof(group), &n) == 1 &&
	    strcmp(group, SN_secp384r1) == 0)
		return EVP_sha384();
	return EVP_sha256();
}

/* ASN1_TIME to seconds since the epoch; -1 when it cannot be read. */
int
ca_time_from_asn1(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

size_t
ca_der_len(size_t n, unsigned char *p)
{
	return kr_der_len(n, p);
}

void
ca_cert_sha256(X509 *c, uint8_t out[32])
{
	unsigned char *der = NULL;
	int n = i2d_X509(c, &der);

	memset(out, 0, 32);
	if (n > 0)
		EVP_Digest(der, (size_t)n, out, NULL, EVP_sha256(), NULL);
	OPENSSL_free(der);
}
