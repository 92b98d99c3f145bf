/*
 * test_shamir_stats.c: the secrecy of Shamir sharing, checked
 * statistically.  Any k - 1 shares of a secret are uniformly distributed
 * whatever the secret is, so for each (k, n) below and three one-byte
 * secrets (0x00, 0xff and a random one) we take SAMPLES splits and run
 * chi-square tests over the 256 byte values (255 degrees of freedom):
 *
 *   - goodness of fit against uniform for every single share (one share
 *     is at most k - 1 of them) and, for k >= 3, for linear projections
 *     c1 y1 + ... + c(k-1) y(k-1) of the first k - 1 shares (see
 *     pick_directions for why projections and not the joint table);
 *   - homogeneity (two-sample) between the histograms of every pair of
 *     secrets, over the same statistics: they must not depend on the
 *     secret.
 *
 * Threshold: reject when chi2 > CHI2_CRIT = 430.  For 255 degrees of
 * freedom P(chi2 > 430) = 4.3e-11 (mpmath: gammainc(127.5, 215, inf,
 * regularized=True)); for comparison P(chi2 > 350) = 7.1e-5.  One run
 * makes 4032 tests (the counter is checked against MAX_TESTS), so by
 * Bonferroni a correct implementation fails a run with probability
 * below 4032 * 4.3e-11 = 1.7e-7.
 *
 * Negative controls show the same tests have power at the same sample
 * size: the Lagrange projection of k shares (which is the secret), a
 * broken 2-of-n split whose coefficient is drawn from 1..255 (a share
 * then never equals the secret: one empty bin of expected count 400,
 * chi2 >= 400 + chi2(254), so a miss needs chi2(254) < 30: p = 3e-71),
 * and a broken 3-of-n split whose top coefficient is zero (one
 * projection of two shares is then a multiple of the secret) must all
 * be rejected.
 *
 * Sampling: shamir.c gives every byte of a secret its own polynomial
 * with fresh coefficients from randombytes_buf, so one split of a CHUNK
 * byte secret whose bytes all equal s is CHUNK independent splits of the
 * one-byte secret s through the same code.  Splitting one byte at a time
 * would cost a sodium_malloc per split (~100 us in our VMs).  For the
 * same reason randombytes_buf is served from a pool of kernel randomness
 * (libsodium's own getrandom implementation, 64 KiB at a time) instead
 * of one getrandom syscall per secret byte; the bytes are the same
 * kernel randomness and shamir.c is unchanged.
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

#define SAMPLES		(256 * 400)	/* per (k, n, secret): 400 per bin */
#define CHUNK		1024		/* secret bytes per split call */
#define MAX_SHARES	9
#define MAX_DIRS	257
#define K5_DIRS		64		/* random projections for k = 5 */
#define NSECRETS	3
#define CHI2_CRIT	430.0		/* df 255: p = 4.3e-11 */
#define MAX_TESTS	4032u

_Static_assert(SAMPLES % CHUNK == 0, "SAMPLES must be whole splits");

static uint8_t	gmul[256][256];
static uint8_t	pool[65536];
static size_t	pool_left;
static unsigned	ntests;
static double	ctl_min;	/* smallest chi2 a control rejected */

struct hists {
	uint32_t	share[MAX_SHARES][256];	/* each share alone */
	uint32_t	proj[MAX_DIRS][256];	/* projections of k-1 shares */
	uint32_t	lag[256];		/* control: k shares combined */
};

/* randombytes_buf from the pool, refilled from getrandom when empty. */
static void
pool_buf(void *const p, const size_t size)
{
	uint8_t *o = p;
	size_t left = size, take;

	while (left > 0) {
		if (pool_left == 0) {
			randombytes_sysrandom_implementation.buf(pool,
			    sizeof(pool));
			pool_left = sizeof(pool);
		}
		take = left < pool_left ? left : pool_left;
		memcpy(o, pool + sizeof(pool) - pool_left, take);
		sodium_memzero(pool + sizeof(pool) - pool_left, take);
		pool_left -= take;
		o += take;
		left -= take;
	}
}

static uint32_t
pool_random(void)
{
	uint32_t r;

	pool_buf(&r, sizeof(r));
	return r;
}

static const char *
pool_name(void)
{
	return "test_shamir_stats pool";
}

static randombytes_implementation pool_impl = {
	.implementation_name = pool_name,
	.random = pool_random,
	.buf = pool_buf,
};

/* Pearson's statistic of h (total SAMPLES) against uniform. */
static double
chi2_uniform(const uint32_t h[256])
{
	const double e = SAMPLES / 256.0;
	double c = 0, d;
	unsigned i;

	for (i = 0; i < 256; i++) {
		d = h[i] - e;
		c += d * d / e;
	}
	return c;
}

/*
 * Two-sample homogeneity statistic of a and b (equal totals, so the
 * expected count of each is half the bin's sum); empty bins drop out.
 */
static double
chi2_homog(const uint32_t a[256], const uint32_t b[256])
{
	double c = 0, d;
	unsigned i;

	for (i = 0; i < 256; i++) {
		if (a[i] + b[i] == 0)
			continue;
		d = (double)a[i] - (double)b[i];
		c += d * d / (a[i] + b[i]);
	}
	return c;
}

/* One counted test that must not reject. */
static void
expect_uniform(double c, const char *what, unsigned k, unsigned n,
    unsigned idx, uint8_t s1, uint8_t s2)
{
	ntests++;
	assert_true(ntests <= MAX_TESTS);
	if (c > CHI2_CRIT)
		fail_msg("%u-of-%u, %s %u, secrets 0x%02x/0x%02x: chi2 %.1f "
		    "> %.0f", k, n, what, idx, s1, s2, c, CHI2_CRIT);
}

/* A control that must reject; not counted against the budget. */
static void
expect_reject(double c, const char *what)
{
	ctl_min = c < ctl_min ? c : ctl_min;
	if (c <= CHI2_CRIT)
		fail_msg("control %s: chi2 %.1f <= %.0f, the test has no "
		    "power", what, c, CHI2_CRIT);
}

/*
 * The projections to test.  k - 1 shares are jointly uniform exactly
 * when every nonzero projection c . y is uniform over GF(2^8) (the
 * additive characters of GF(2^8)^(k-1) are those of the projections), and
 * a Shamir leak is linear, so projections are the natural statistic.  A
 * joint table of two shares has 65536 cells and would need ~5 x 65536
 * samples per secret for the chi-square approximation.  For k = 3 every
 * direction up to scale is tested: (0, 1) and (1, c) for all c.  For
 * k = 5 there are 256^4 / 255 directions, so K5_DIRS random ones.
 */
static unsigned
pick_directions(unsigned k, uint8_t dir[MAX_DIRS][4])
{
	unsigned d, c;

	memset(dir, 0, MAX_DIRS * sizeof(dir[0]));
	if (k == 3) {
		dir[0][1] = 1;
		for (c = 0; c < 256; c++) {
			dir[c + 1][0] = 1;
			dir[c + 1][1] = (uint8_t)c;
		}
		return 257;
	}
	if (k == 5) {
		for (d = 0; d < K5_DIRS; d++) {
			do
				randombytes_buf(dir[d], 4);
			while (sodium_is_zero(dir[d], 4));
		}
		return K5_DIRS;
	}
	return 0;
}

/* Histogram one secret's shares: real splits, or a broken reference. */
enum gen {
	GEN_SHAMIR,		/* cer_shamir_split */
	GEN_NONZERO_COEF,	/* coefficients drawn from 1..255 */
	GEN_TOP_ZERO,		/* top coefficient forced to 0 */
};

static void
broken_split(enum gen gen, uint8_t s, unsigned k, unsigned n,
    uint8_t *const *sh, size_t len)
{
	uint8_t coef[8], y;
	unsigned i, c;
	size_t b;

	for (b = 0; b < len; b++) {
		coef[0] = s;
		for (c = 1; c < k; c++)
			coef[c] = gen == GEN_NONZERO_COEF ?
			    (uint8_t)(1 + randombytes_uniform(255)) :
			    (uint8_t)randombytes_uniform(256);
		if (gen == GEN_TOP_ZERO)
			coef[k - 1] = 0;
		for (i = 0; i < n; i++) {
			y = coef[k - 1];
			for (c = k - 1; c-- > 0;)
				y = gmul[y][i + 1] ^ coef[c];
			sh[i][b] = y;
		}
	}
}

static void
sample(enum gen gen, uint8_t s, unsigned k, unsigned n,
    uint8_t dir[MAX_DIRS][4], unsigned nd, struct hists *h)
{
	static uint8_t buf[MAX_SHARES][CHUNK], sec[CHUNK], out[CHUNK];
	uint8_t *sh[MAX_SHARES], xs[MAX_SHARES], z;
	const uint8_t *csh[MAX_SHARES];
	struct kr_error err;
	unsigned i, d, done;
	size_t b;

	for (i = 0; i < n; i++) {
		sh[i] = buf[i];
		csh[i] = buf[i];
		xs[i] = (uint8_t)(i + 1);
	}
	memset(h, 0, sizeof(*h));
	memset(sec, s, sizeof(sec));
	for (done = 0; done < SAMPLES; done += CHUNK) {
		if (gen == GEN_SHAMIR)
			assert_int_equal(cer_shamir_split(sec, CHUNK, k, n, sh,
			    &err), KR_OK);
		else
			broken_split(gen, s, k, n, sh, CHUNK);
		assert_int_equal(cer_shamir_combine(csh, xs, k, CHUNK, out,
		    &err), KR_OK);
		for (b = 0; b < CHUNK; b++) {
			for (i = 0; i < n; i++)
				h->share[i][buf[i][b]]++;
			for (d = 0; d < nd; d++) {
				z = 0;
				for (i = 0; i < k - 1; i++)
					z ^= gmul[dir[d][i]][buf[i][b]];
				h->proj[d][z]++;
			}
			h->lag[out[b]]++;
		}
	}
}

/* The secrets: 0x00, 0xff and a random one in between. */
static void
pick_secrets(uint8_t s[NSECRETS])
{
	s[0] = 0x00;
	s[1] = 0xff;
	s[2] = (uint8_t)(1 + randombytes_uniform(254));
}

/*
 * Split each secret SAMPLES times k-of-n; every share and every
 * projection of shares 1..k-1 is uniform and the same for every secret.
 * The control: the Lagrange combination of shares 1..k, through the
 * same statistics, is rejected.
 */
static void
run_case(unsigned k, unsigned n)
{
	static uint8_t dir[MAX_DIRS][4];
	struct hists *h;
	uint8_t s[NSECRETS];
	double worst = 0, c;
	unsigned nd, a, b, i, d;

	ctl_min = 1e300;
	h = calloc(NSECRETS, sizeof(*h));
	assert_non_null(h);
	pick_secrets(s);
	nd = pick_directions(k, dir);
	for (a = 0; a < NSECRETS; a++)
		sample(GEN_SHAMIR, s[a], k, n, dir, nd, &h[a]);

	for (a = 0; a < NSECRETS; a++) {
		for (i = 0; i < n; i++) {
			c = chi2_uniform(h[a].share[i]);
			worst = c > worst ? c : worst;
			expect_uniform(c, "share", k, n, i + 1, s[a], s[a]);
		}
		for (d = 0; d < nd; d++) {
			c = chi2_uniform(h[a].proj[d]);
			worst = c > worst ? c : worst;
			expect_uniform(c, "projection", k, n, d, s[a], s[a]);
		}
		expect_reject(chi2_uniform(h[a].lag), "k shares, uniform");
		for (b = a + 1; b < NSECRETS; b++) {
			for (i = 0; i < n; i++) {
				c = chi2_homog(h[a].share[i], h[b].share[i]);
				worst = c > worst ? c : worst;
				expect_uniform(c, "share", k, n, i + 1, s[a],
				    s[b]);
			}
			for (d = 0; d < nd; d++) {
				c = chi2_homog(h[a].proj[d], h[b].proj[d]);
				worst = c > worst ? c : worst;
				expect_uniform(c, "projection", k, n, d, s[a],
				    s[b]);
			}
			expect_reject(chi2_homog(h[a].lag, h[b].lag),
			    "k shares, homogeneity");
		}
	}
	print_message("# %u-of-%u: secrets 0x%02x 0x%02x 0x%02x, %u "
	    "projections, largest chi2 %.1f (reject above %.0f); control "
	    "with k shares: smallest %.1f\n", k, n, s[0], s[1], s[2], nd,
	    worst, CHI2_CRIT, ctl_min);
	free(h);
}

static void
test_2_of_2(void **state)
{
	(void)state;
	run_case(2, 2);
}

static void
test_2_of_5(void **state)
{
	(void)state;
	run_case(2, 5);
}

static void
test_3_of_3(void **state)
{
	(void)state;
	run_case(3, 3);
}

static void
test_3_of_6(void **state)
{
	(void)state;
	run_case(3, 6);
}

static void
test_5_of_5(void **state)
{
	(void)state;
	run_case(5, 5);
}

static void
test_5_of_9(void **state)
{
	(void)state;
	run_case(5, 9);
}

/*
 * Control: a 2-of-5 split with the coefficient drawn from 1..255, the
 * classic mistake the comment in cer_shamir_split warns about.  A share
 * then never equals the secret; every share's fit and every homogeneity
 * test must reject.
 */
static void
test_control_nonzero_coef(void **state)
{
	static uint8_t dir[MAX_DIRS][4];
	struct hists *h;
	uint8_t s[NSECRETS];
	unsigned a, b, i;

	(void)state;
	ctl_min = 1e300;
	h = calloc(NSECRETS, sizeof(*h));
	assert_non_null(h);
	pick_secrets(s);
	for (a = 0; a < NSECRETS; a++)
		sample(GEN_NONZERO_COEF, s[a], 2, 5, dir, 0, &h[a]);
	for (a = 0; a < NSECRETS; a++) {
		for (i = 0; i < 5; i++) {
			assert_int_equal(h[a].share[i][s[a]], 0);
			expect_reject(chi2_uniform(h[a].share[i]),
			    "nonzero coefficient, uniform");
			for (b = a + 1; b < NSECRETS; b++)
				expect_reject(chi2_homog(h[a].share[i],
				    h[b].share[i]),
				    "nonzero coefficient, homogeneity");
		}
	}
	print_message("# control, coefficient from 1..255: smallest chi2 "
	    "%.1f (must exceed %.0f)\n", ctl_min, CHI2_CRIT);
	free(h);
}

/*
 * Control: a "3-of-3" split whose top coefficient is zero, so it is
 * really 2-of-3: y1 = s + a, y2 = s + {02}a, and y1 + {02}^-1 y2 =
 * (1 + {02}^-1) s = {8c} s does not depend on a.  Each share alone still
 * looks uniform; that projection, (1, {8d}) in pick_directions, must be
 * rejected against uniform for every secret and between secrets.
 */
static void
test_control_top_zero(void **state)
{
	static uint8_t dir[MAX_DIRS][4];
	struct hists *h;
	uint8_t s[NSECRETS];
	unsigned nd, a, b, d;

	(void)state;
	ctl_min = 1e300;
	h = calloc(NSECRETS, sizeof(*h));
	assert_non_null(h);
	pick_secrets(s);
	nd = pick_directions(3, dir);
	d = 1u + cer_gf256_inv(0x02);
	assert_int_equal(dir[d][0], 0x01);
	assert_int_equal(dir[d][1], 0x8d);
	for (a = 0; a < NSECRETS; a++)
		sample(GEN_TOP_ZERO, s[a], 3, 3, dir, nd, &h[a]);
	for (a = 0; a < NSECRETS; a++) {
		assert_int_equal(h[a].proj[d][cer_gf256_mul(0x8c, s[a])],
		    SAMPLES);
		expect_reject(chi2_uniform(h[a].proj[d]),
		    "top coefficient zero, uniform");
		for (b = a + 1; b < NSECRETS; b++)
			expect_reject(chi2_homog(h[a].proj[d], h[b].proj[d]),
			    "top coefficient zero, homogeneity");
	}
	print_message("# control, top coefficient zero: smallest chi2 %.1f "
	    "(must exceed %.0f)\n", ctl_min, CHI2_CRIT);
	free(h);
}

static int
teardown(void **state)
{
	(void)state;
	print_message("# %u chi-square tests counted (budget %u)\n", ntests,
	    MAX_TESTS);
	return 0;
}

static int
setup(void **state)
{
	unsigned a, b;

	(void)state;
	for (a = 0; a < 256; a++)
		for (b = 0; b < 256; b++)
			gmul[a][b] = cer_gf256_mul((uint8_t)a, (uint8_t)b);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_2_of_2),
		cmocka_unit_test(test_2_of_5),
		cmocka_unit_test(test_3_of_3),
		cmocka_unit_test(test_3_of_6),
		cmocka_unit_test(test_5_of_5),
		cmocka_unit_test(test_5_of_9),
		cmocka_unit_test(test_control_nonzero_coef),
		cmocka_unit_test(test_control_top_zero),
	};

	/* Before sodium_init: see the comment at the top. */
	if (randombytes_set_implementation(&pool_impl) != 0 ||
	    sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
