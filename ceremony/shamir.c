/*
 * shamir.c: Shamir secret sharing over GF(2^8), one independent random
 * polynomial per secret byte.  Every operation that touches secret data
 * (the secret, the coefficients, the shares) is straight-line code with
 * masks: no table lookups indexed by secret bytes, no branches on them.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "shamir.h"

/*
 * Shift-and-add multiply.  The mask 0 - (b & 1) is 0x00 or 0xff, so the
 * conditional add and the conditional reduction are both a masked xor.
 */
uint8_t
cer_gf256_mul(uint8_t a, uint8_t b)
{
	unsigned int aa = a, bb = b, r = 0, i;

	for (i = 0; i < 8; i++) {
		r ^= aa & (0u - (bb & 1u));
		bb >>= 1;
		aa = (aa << 1) ^ (0x11bu & (0u - (aa >> 7)));
	}
	return (uint8_t)r;
}

/*
 * a^254 = a^-1 for a != 0 (the multiplicative group has order 255), and
 * 0 for a = 0.  A fixed addition chain: a^2, a^3, a^6, a^7, a^14, a^15,
 * a^30, a^31, a^62, a^63, a^126, a^127, a^254.
 */
uint8_t
cer_gf256_inv(uint8_t a)
{
	uint8_t r;
	int i;

	r = a;
	for (i = 0; i < 6; i++) {
		r = cer_gf256_mul(r, r);
		r = cer_gf256_mul(r, a);
	}
	return cer_gf256_mul(r, r);
}

enum kr_err
cer_shamir_split(const uint8_t *secret, size_t len, unsigned k, unsigned n,
    uint8_t *const *shares, struct kr_error *err)
{
	uint8_t *coef = NULL;
	uint8_t y;
	size_t j;
	unsigned i, c;
	enum kr_err rc;

	if (secret == NULL || shares == NULL || len == 0) {
		rc = kr_fail(err, KR_E_USAGE, "shamir split: empty secret");
		goto out;
	}
	if (k < CER_SHAMIR_MIN_K || k > n || n > CER_SHAMIR_MAX_N) {
		rc = kr_fail(err, KR_E_USAGE, "shamir split: %u-of-%u is not "
		    "possible; need 2 <= k <= n <= 255", k, n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (shares[i] == NULL) {
			rc = kr_fail(err, KR_E_USAGE,
			    "shamir split: no buffer for share %u", i + 1);
			goto out;
		}
	}
	if ((coef = sodium_malloc(k)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "shamir split: out of memory");
		goto out;
	}

	/*
	 * Byte j of the secret is coef[0] of its own polynomial of degree
	 * k - 1; the other coefficients are uniform, including zero, which
	 * is what makes any k - 1 shares independent of the secret.
	 */
	for (j = 0; j < len; j++) {
		coef[0] = secret[j];
		randombytes_buf(coef + 1, k - 1);
		for (i = 0; i < n; i++) {
			/* Horner's rule at x = i + 1. */
			y = coef[k - 1];
			for (c = k - 1; c-- > 0;)
				y = cer_gf256_mul(y, (uint8_t)(i + 1)) ^
				    coef[c];
			shares[i][j] = y;
		}
	}
	y = 0;
	sodium_memzero(&y, sizeof(y));
	rc = KR_OK;
out:
	if (coef != NULL) {
		sodium_memzero(coef, k);
		sodium_free(coef);
	}
	return rc;
}

enum kr_err
cer_shamir_combine(const uint8_t *const *shares, const uint8_t *xs,
    unsigned k, size_t len, uint8_t *secret_out, struct kr_error *err)
{
	uint8_t lagrange[CER_SHAMIR_MAX_N];
	uint8_t num, den, acc;
	size_t b;
	unsigned i, j;
	enum kr_err rc;

	acc = 0;
	if (shares == NULL || xs == NULL || secret_out == NULL || len == 0) {
		rc = kr_fail(err, KR_E_USAGE, "shamir combine: no shares");
		goto out;
	}
	if (k < CER_SHAMIR_MIN_K || k > CER_SHAMIR_MAX_N) {
		rc = kr_fail(err, KR_E_USAGE, "shamir combine: %u shares given; "
		    "need between 2 and 255", k);
		goto out;
	}
	for (i = 0; i < k; i++) {
		if (shares[i] == NULL) {
			rc = kr_fail(err, KR_E_USAGE,
			    "shamir combine: share %u is missing", i + 1);
			goto out;
		}
		if (xs[i] == 0) {
			rc = kr_fail(err, KR_E_USAGE, "shamir combine: share "
			    "index 0 is not valid (indexes start at 1)");
			goto out;
		}
		for (j = 0; j < i; j++) {
			if (xs[j] == xs[i]) {
				rc = kr_fail(err, KR_E_USAGE, "shamir combine: "
				    "share %u given twice; every share must "
				    "come from a different holder", xs[i]);
				goto out;
			}
		}
	}

	/*
	 * Lagrange basis at 0: l_i = prod_{j != i} x_j / (x_j - x_i), and
	 * subtraction is xor.  The x coordinates are public, but the
	 * arithmetic is the same constant-time code anyway.
	 */
	for (i = 0; i < k; i++) {
		num = 1;
		den = 1;
		for (j = 0; j < k; j++) {
			if (j == i)
				continue;
			num = cer_gf256_mul(num, xs[j]);
			den = cer_gf256_mul(den, xs[j] ^ xs[i]);
		}
		lagrange[i] = cer_gf256_mul(num, cer_gf256_inv(den));
	}
	for (b = 0; b < len; b++) {
		acc = 0;
		for (i = 0; i < k; i++)
			acc ^= cer_gf256_mul(lagrange[i], shares[i][b]);
		secret_out[b] = acc;
	}
	rc = KR_OK;
out:
	sodium_memzero(&acc, sizeof(acc));
	sodium_memzero(lagrange, sizeof(lagrange));
	if (rc != KR_OK && secret_out != NULL && len > 0)
		sodium_memzero(secret_out, len);
	return rc;
}
