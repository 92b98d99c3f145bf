/*
 * shamir.h: Shamir secret sharing over GF(2^8) (the AES field, reduction
 * polynomial x^8 + x^4 + x^3 + x + 1 = 0x11b), byte by byte.  Arithmetic
 * is constant time: no table lookups and no branches on secret data.
 * See docs/formats-shares.md for the construction.
 */
#ifndef CER_SHAMIR_H
#define CER_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#include "../common/kr.h"

#define CER_SHAMIR_MIN_K	2	/* a 1-of-n share would be the secret */
#define CER_SHAMIR_MAX_N	255	/* x = 1..255, x = 0 is the secret */

/*
 * Product of a and b in GF(2^8) mod 0x11b, in constant time (shift and
 * add with masks).  Exported for the known-answer tests.
 */
uint8_t		 cer_gf256_mul(uint8_t a, uint8_t b);

/*
 * Multiplicative inverse of a in GF(2^8) as a^254, in constant time;
 * 0 maps to 0.  Exported for the known-answer tests.
 */
uint8_t		 cer_gf256_inv(uint8_t a);

/*
 * Split the len-byte secret into n shares of which any k rebuild it
 * (2 <= k <= n <= 255, len >= 1).  shares[i] (i = 0..n-1) is a
 * caller-allocated buffer of len bytes, preferably sodium_malloc'd, and
 * receives the share whose x coordinate is i + 1.  The random polynomial
 * coefficients come from randombytes_buf, live in sodium_malloc'd memory
 * and are wiped before return on every path.  The secret is only read.
 * On error no share buffer has been written.
 */
enum kr_err	 cer_shamir_split(const uint8_t *secret, size_t len,
		     unsigned k, unsigned n, uint8_t *const *shares,
		     struct kr_error *err)
		     __attribute__((warn_unused_result));

/*
 * Rebuild the secret from k shares: shares[i] holds len bytes and has
 * the x coordinate xs[i].  Every x must be in 1..255 and distinct; k is
 * the number of shares given (2..255), which must be the threshold the
 * shares were split with (fewer shares yield a wrong value, not an
 * error: Shamir cannot tell).  secret_out is caller-allocated (len bytes,
 * preferably sodium_malloc'd); on error it is zeroed.  Shares are only
 * read; intermediate values live on the stack and are wiped.
 */
enum kr_err	 cer_shamir_combine(const uint8_t *const *shares,
		     const uint8_t *xs, unsigned k, size_t len,
		     uint8_t *secret_out, struct kr_error *err)
		     __attribute__((warn_unused_result));

#endif /* CER_SHAMIR_H */
