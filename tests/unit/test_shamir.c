/*
 * test_shamir.c: GF(2^8) arithmetic against a plain reference for every
 * pair, known answers from FIPS-197, and split/combine round trips over
 * every k-subset of small sets and random subsets of 255 shares.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "../../ceremony/shamir.h"

/* Schoolbook carry-less product, then reduction mod 0x11b, with branches. */
static uint8_t
ref_mul(uint8_t a, uint8_t b)
{
	unsigned int p = 0, i;

	for (i = 0; i < 8; i++)
		if (b & (1u << i))
			p ^= (unsigned int)a << i;
	for (i = 15; i >= 8; i--)
		if (p & (1u << i))
			p ^= 0x11bu << (i - 8);
	return (uint8_t)p;
}

static void
test_gf_mul_all_pairs(void **state)
{
	unsigned int a, b;

	(void)state;
	for (a = 0; a < 256; a++)
		for (b = 0; b < 256; b++)
			assert_int_equal(cer_gf256_mul((uint8_t)a, (uint8_t)b),
			    ref_mul((uint8_t)a, (uint8_t)b));
}

static void
test_gf_mul_fips197(void **state)
{
	(void)state;
	/* FIPS-197 section 4.2: {57} * {83} = {c1}, {57} * {13} = {fe}. */
	assert_int_equal(cer_gf256_mul(0x57, 0x83), 0xc1);
	assert_int_equal(cer_gf256_mul(0x57, 0x13), 0xfe);
	/* Section 4.2.1: {57} * {02} = {ae}, {57} * {10} = {07}. */
	assert_int_equal(cer_gf256_mul(0x57, 0x02), 0xae);
	assert_int_equal(cer_gf256_mul(0x57, 0x10), 0x07);
	/* Section 5.1.1's S-box inverse example: {53}^-1 = {ca}. */
	assert_int_equal(cer_gf256_inv(0x53), 0xca);
}

static void
test_gf_inv_all(void **state)
{
	unsigned int a, b, want;

	(void)state;
	assert_int_equal(cer_gf256_inv(0), 0);
	for (a = 1; a < 256; a++) {
		want = 0;
		for (b = 1; b < 256; b++)
			if (ref_mul((uint8_t)a, (uint8_t)b) == 1)
				want = b;
		assert_int_not_equal(want, 0);
		assert_int_equal(cer_gf256_inv((uint8_t)a), want);
	}
}

/* n share buffers of len bytes in sodium_malloc'd memory. */
static uint8_t **
shares_new(unsigned n, size_t len)
{
	uint8_t **s;
	unsigned i;

	s = calloc(n, sizeof(*s));
	assert_non_null(s);
	for (i = 0; i < n; i++) {
		s[i] = sodium_malloc(len);
		assert_non_null(s[i]);
	}
	return s;
}

static void
shares_free(uint8_t **s, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		sodium_free(s[i]);
	free(s);
}

/* Combine the shares at positions idx[0..k-1] and compare with secret. */
static void
combine_and_check(uint8_t **s, const unsigned *idx, unsigned k, size_t len,
    const uint8_t *secret, int want_equal)
{
	const uint8_t *sel[255];
	uint8_t xs[255], out[256];
	struct kr_error err;
	unsigned i;

	for (i = 0; i < k; i++) {
		sel[i] = s[idx[i]];
		xs[i] = (uint8_t)(idx[i] + 1);
	}
	assert_int_equal(cer_shamir_combine(sel, xs, k, len, out, &err),
	    KR_OK);
	if (want_equal)
		assert_memory_equal(out, secret, len);
	else
		assert_memory_not_equal(out, secret, len);
}

/* Every k-subset of n shares, in increasing and in reversed order. */
static void
all_subsets(uint8_t **s, unsigned n, unsigned k, size_t len,
    const uint8_t *secret, unsigned *count)
{
	unsigned idx[8], rev[8], i, j;

	for (i = 0; i < k; i++)
		idx[i] = i;
	for (;;) {
		combine_and_check(s, idx, k, len, secret, 1);
		for (j = 0; j < k; j++)
			rev[j] = idx[k - 1 - j];
		combine_and_check(s, rev, k, len, secret, 1);
		(*count)++;
		for (i = k; i-- > 0;)
			if (idx[i] != i + n - k)
				break;
		if (i == (unsigned)-1)
			break;
		idx[i]++;
		for (j = i + 1; j < k; j++)
			idx[j] = idx[j - 1] + 1;
	}
}

static void
test_round_trip_all_subsets(void **state)
{
	struct kr_error err;
	uint8_t secret[64], **s;
	unsigned n = 5, k, count;
	size_t len;

	(void)state;
	for (k = 2; k <= 5; k++) {
		for (len = 1; len <= sizeof(secret); len++) {
			randombytes_buf(secret, len);
			s = shares_new(n, len);
			assert_int_equal(cer_shamir_split(secret, len, k, n, s,
			    &err), KR_OK);
			count = 0;
			all_subsets(s, n, k, len, secret, &count);
			/* C(5,2)=10, C(5,3)=10, C(5,4)=5, C(5,5)=1 */
			assert_int_equal(count, k == 2 || k == 3 ? 10 :
			    k == 4 ? 5 : 1);
			shares_free(s, n);
		}
	}
}

static void
test_round_trip_n255(void **state)
{
	struct kr_error err;
	uint8_t secret[32], **s;
	unsigned idx[255], k, i, j, t, round;
	uint32_t r;

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	s = shares_new(255, sizeof(secret));
	for (k = 2; k <= 5; k++) {
		assert_int_equal(cer_shamir_split(secret, sizeof(secret), k,
		    255, s, &err), KR_OK);
		for (round = 0; round < 50; round++) {
			/* A random k-subset: partial Fisher-Yates. */
			for (i = 0; i < 255; i++)
				idx[i] = i;
			for (i = 0; i < k; i++) {
				r = randombytes_uniform(255 - i);
				j = i + r;
				t = idx[i];
				idx[i] = idx[j];
				idx[j] = t;
			}
			combine_and_check(s, idx, k, sizeof(secret), secret, 1);
		}
		/* The edges: x = 1.. and x = ..255. */
		for (i = 0; i < k; i++)
			idx[i] = 254 - i;
		combine_and_check(s, idx, k, sizeof(secret), secret, 1);
	}
	/* 255-of-255 with every share. */
	assert_int_equal(cer_shamir_split(secret, sizeof(secret), 255, 255, s,
	    &err), KR_OK);
	for (i = 0; i < 255; i++)
		idx[i] = 254 - i;
	combine_and_check(s, idx, 255, sizeof(secret), secret, 1);
	shares_free(s, 255);
}

static void
test_fewer_than_k(void **state)
{
	struct kr_error err;
	uint8_t secret[32], **s;
	unsigned idx[8], k, i;

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	for (k = 3; k <= 6; k++) {
		s = shares_new(k + 2, sizeof(secret));
		assert_int_equal(cer_shamir_split(secret, sizeof(secret), k,
		    k + 2, s, &err), KR_OK);
		for (i = 0; i < k - 1; i++)
			idx[i] = i + 1;
		combine_and_check(s, idx, k - 1, sizeof(secret), secret, 0);
		shares_free(s, k + 2);
	}
}

/* A share never equals the secret, and two splits differ (fresh coins). */
static void
test_shares_are_random(void **state)
{
	struct kr_error err;
	uint8_t secret[32], **s1, **s2;
	unsigned i;

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	s1 = shares_new(3, sizeof(secret));
	s2 = shares_new(3, sizeof(secret));
	assert_int_equal(cer_shamir_split(secret, sizeof(secret), 2, 3, s1,
	    &err), KR_OK);
	assert_int_equal(cer_shamir_split(secret, sizeof(secret), 2, 3, s2,
	    &err), KR_OK);
	for (i = 0; i < 3; i++) {
		assert_memory_not_equal(s1[i], secret, sizeof(secret));
		assert_memory_not_equal(s1[i], s2[i], sizeof(secret));
	}
	shares_free(s1, 3);
	shares_free(s2, 3);
}

/*
 * A hand-computed 2-of-3 over one byte: f(x) = 0x42 + 0x03 x, so
 * f(1) = 0x41, f(2) = 0x44, f(3) = 0x42 ^ {03}{03} = 0x42 ^ 0x05 = 0x47.
 */
static void
test_combine_known_answer(void **state)
{
	static const uint8_t y1 = 0x41, y2 = 0x44, y3 = 0x47;
	const uint8_t *sel[2];
	uint8_t xs[2], out;
	struct kr_error err;

	(void)state;
	sel[0] = &y1;
	sel[1] = &y2;
	xs[0] = 1;
	xs[1] = 2;
	assert_int_equal(cer_shamir_combine(sel, xs, 2, 1, &out, &err), KR_OK);
	assert_int_equal(out, 0x42);
	sel[0] = &y3;
	xs[0] = 3;
	assert_int_equal(cer_shamir_combine(sel, xs, 2, 1, &out, &err), KR_OK);
	assert_int_equal(out, 0x42);
}

static void
test_combine_refuses(void **state)
{
	struct kr_error err;
	uint8_t secret[16], out[16], **s;
	const uint8_t *sel[3];
	uint8_t xs[3];

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	s = shares_new(3, sizeof(secret));
	assert_int_equal(cer_shamir_split(secret, sizeof(secret), 2, 3, s,
	    &err), KR_OK);
	sel[0] = s[0];
	sel[1] = s[1];
	sel[2] = s[2];

	/* The same x twice. */
	xs[0] = 2;
	xs[1] = 2;
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(cer_shamir_combine(sel, xs, 2, sizeof(out), out,
	    &err), KR_E_USAGE);
	assert_non_null(strstr(err.msg, "share 2 given twice"));
	/* The output is zeroed, never half a secret. */
	assert_true(sodium_is_zero(out, sizeof(out)));

	/* x = 0 is the secret's own point. */
	xs[0] = 0;
	xs[1] = 1;
	assert_int_equal(cer_shamir_combine(sel, xs, 2, sizeof(out), out,
	    &err), KR_E_USAGE);
	assert_non_null(strstr(err.msg, "index 0"));

	/* Duplicates further down the list. */
	xs[0] = 1;
	xs[1] = 2;
	xs[2] = 1;
	assert_int_equal(cer_shamir_combine(sel, xs, 3, sizeof(out), out,
	    &err), KR_E_USAGE);

	/* One share is not a combination. */
	assert_int_equal(cer_shamir_combine(sel, xs, 1, sizeof(out), out,
	    &err), KR_E_USAGE);
	assert_int_equal(cer_shamir_combine(sel, xs, 2, 0, out, &err),
	    KR_E_USAGE);
	shares_free(s, 3);
}

static void
test_split_refuses(void **state)
{
	struct kr_error err;
	uint8_t secret[4] = { 1, 2, 3, 4 }, **s;

	(void)state;
	s = shares_new(255, sizeof(secret));
	memset(s[0], 0x55, sizeof(secret));
	assert_int_equal(cer_shamir_split(secret, sizeof(secret), 1, 3, s,
	    &err), KR_E_USAGE);
	assert_non_null(strstr(err.msg, "1-of-3"));
	assert_int_equal(cer_shamir_split(secret, sizeof(secret), 4, 3, s,
	    &err), KR_E_USAGE);
	assert_int_equal(cer_shamir_split(secret, sizeof(secret), 2, 256, s,
	    &err), KR_E_USAGE);
	assert_int_equal(cer_shamir_split(secret, sizeof(secret), 0, 0, s,
	    &err), KR_E_USAGE);
	assert_int_equal(cer_shamir_split(secret, 0, 2, 3, s, &err),
	    KR_E_USAGE);
	/* Nothing was written on error. */
	assert_int_equal(s[0][0], 0x55);
	assert_int_equal(cer_shamir_split(secret, sizeof(secret), 255, 255, s,
	    &err), KR_OK);
	shares_free(s, 255);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gf_mul_all_pairs),
		cmocka_unit_test(test_gf_mul_fips197),
		cmocka_unit_test(test_gf_inv_all),
		cmocka_unit_test(test_round_trip_all_subsets),
		cmocka_unit_test(test_round_trip_n255),
		cmocka_unit_test(test_fewer_than_k),
		cmocka_unit_test(test_shares_are_random),
		cmocka_unit_test(test_combine_known_answer),
		cmocka_unit_test(test_combine_refuses),
		cmocka_unit_test(test_split_refuses),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
