/*
 * ct_shamir.c: constant-time check of ceremony/shamir.c under valgrind
 * (the ctgrind technique).  Secret bytes are marked undefined with
 * VALGRIND_MAKE_MEM_UNDEFINED; memcheck then reports any branch ("Conditional
 * jump or move depends on uninitialised value") or memory index ("Use of
 * uninitialised value of size 8") computed from them.  The split's random
 * coefficients are secret too: randombytes_buf is routed through
 * taint_buf, which marks its output undefined while a split runs.
 *
 *   valgrind --error-exitcode=42 ct_shamir            must report nothing
 *   valgrind --error-exitcode=42 ct_shamir --control  must report errors
 *
 * The control runs a log/antilog-table multiply, the classic
 * non-constant-time GF(2^8) code, on the same undefined inputs: it proves
 * the harness sees a leak when there is one.  Outside valgrind the
 * client requests do nothing and both modes exit 0.  Results are marked
 * defined again before they are checked, so the checks themselves (which
 * branch on them) are not reported.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>
#include <valgrind/memcheck.h>

#include "../../ceremony/shamir.h"

#define LEN	32	/* secret bytes per split */
#define N	7	/* shares */

static int taint;	/* mark randombytes_buf output undefined */

#define SECRET(p, n)	((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))
#define PUBLIC(p, n)	((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))

static void
taint_buf(void *const p, const size_t size)
{
	randombytes_sysrandom_implementation.buf(p, size);
	if (taint)
		SECRET(p, size);
}

static uint32_t
taint_random(void)
{
	uint32_t r;

	taint_buf(&r, sizeof(r));
	return r;
}

static const char *
taint_name(void)
{
	return "ct_shamir taint";
}

static randombytes_implementation taint_impl = {
	.implementation_name = taint_name,
	.random = taint_random,
	.buf = taint_buf,
};

/*
 * Under valgrind, whether all len bytes at p are undefined: proves the
 * taint reached where it should, so a clean run means something.
 * Outside valgrind there is nothing to check.
 */
static int
all_undefined(const void *p, size_t len)
{
	uint8_t vbits[LEN];
	size_t i;

	if (!RUNNING_ON_VALGRIND)
		return 1;
	if (len > sizeof(vbits) || VALGRIND_GET_VBITS(p, vbits, len) != 1)
		return 0;
	for (i = 0; i < len; i++)
		if (vbits[i] != 0xff)
			return 0;
	return 1;
}

/* The field arithmetic on every value (all of them undefined). */
static int
check_field(void)
{
	uint8_t a, b, p, inv, one;
	unsigned int i;
	int bad = 0;

	for (i = 0; i < 256; i++) {
		a = (uint8_t)i;
		b = (uint8_t)(i * 7 + 3);
		SECRET(&a, 1);
		SECRET(&b, 1);
		p = cer_gf256_mul(a, b);
		inv = cer_gf256_inv(a);
		one = cer_gf256_mul(a, inv);
		PUBLIC(&p, 1);
		PUBLIC(&one, 1);
		PUBLIC(&a, 1);
		PUBLIC(&b, 1);
		if (one != (i == 0 ? 0 : 1) ||
		    p != cer_gf256_mul((uint8_t)i, (uint8_t)(i * 7 + 3)))
			bad = 1;
	}
	return bad;
}

/*
 * Split k-of-N and combine the last k shares, all of it secret.  With
 * public_secret the secret stays defined, and the shares must still come
 * out undefined: the coefficients alone are tracked.
 */
static int
check_split_combine(unsigned k, int public_secret)
{
	struct kr_error err;
	uint8_t *secret, *out, *share[N], xs[N];
	const uint8_t *sel[N];
	unsigned i;
	int bad = 1;

	secret = sodium_malloc(LEN);
	out = sodium_malloc(LEN);
	for (i = 0; i < N; i++)
		share[i] = sodium_malloc(LEN);
	if (secret == NULL || out == NULL)
		goto out;
	for (i = 0; i < N; i++)
		if (share[i] == NULL)
			goto out;
	randombytes_buf(secret, LEN);
	if (!public_secret)
		SECRET(secret, LEN);

	taint = 1;
	if (cer_shamir_split(secret, LEN, k, N, share, &err) != KR_OK) {
		taint = 0;
		fprintf(stderr, "ct_shamir: split: %s\n", err.msg);
		goto out;
	}
	taint = 0;
	for (i = 0; i < N; i++) {
		if (!all_undefined(share[i], LEN)) {
			fprintf(stderr, "ct_shamir: share %u of a %u-of-%d "
			    "split is not tracked as secret\n", i + 1, k, N);
			goto out;
		}
	}

	/* The x coordinates are public, as in the real file format. */
	for (i = 0; i < k; i++) {
		sel[i] = share[N - 1 - i];
		xs[i] = (uint8_t)(N - i);
	}
	if (cer_shamir_combine(sel, xs, k, LEN, out, &err) != KR_OK) {
		fprintf(stderr, "ct_shamir: combine: %s\n", err.msg);
		goto out;
	}
	PUBLIC(out, LEN);
	PUBLIC(secret, LEN);
	bad = memcmp(out, secret, LEN) != 0;
out:
	for (i = 0; i < N; i++)
		sodium_free(share[i]);
	sodium_free(out);
	sodium_free(secret);
	return bad;
}

/*
 * The negative control: multiply through log and antilog tables with a
 * zero test, which indexes memory by, and branches on, secret bytes.
 */
static uint8_t
leaky_mul(uint8_t a, uint8_t b)
{
	static uint8_t exp_tab[510], log_tab[256];
	static int init;
	unsigned int i, x;

	if (!init) {
		for (i = 0, x = 1; i < 255; i++) {
			exp_tab[i] = exp_tab[i + 255] = (uint8_t)x;
			log_tab[x] = (uint8_t)i;
			x = cer_gf256_mul((uint8_t)x, 0x03);
		}
		init = 1;
	}
	if (a == 0 || b == 0)
		return 0;
	return exp_tab[log_tab[a] + log_tab[b]];
}

static int
check_control(void)
{
	uint8_t a, b, p;
	unsigned int i;
	int bad = 0;

	for (i = 0; i < 256; i++) {
		a = (uint8_t)i;
		b = (uint8_t)(i * 7 + 3);
		SECRET(&a, 1);
		SECRET(&b, 1);
		p = leaky_mul(a, b);
		PUBLIC(&p, 1);
		if (p != cer_gf256_mul((uint8_t)i, (uint8_t)(i * 7 + 3)))
			bad = 1;
	}
	return bad;
}

int
main(int argc, char *argv[])
{
	unsigned k;
	int control;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--control") != 0)) {
		fprintf(stderr, "usage: ct_shamir [--control]\n");
		return 2;
	}
	control = argc == 2;
	/* Before sodium_init, so its own canary is drawn untainted. */
	if (randombytes_set_implementation(&taint_impl) != 0 ||
	    sodium_init() < 0) {
		fprintf(stderr, "ct_shamir: libsodium failed to start\n");
		return 1;
	}
	if (control) {
		if (check_control()) {
			fprintf(stderr, "ct_shamir: leaky_mul is wrong\n");
			return 1;
		}
		return 0;
	}
	if (check_field()) {
		fprintf(stderr, "ct_shamir: field arithmetic is wrong\n");
		return 1;
	}
	for (k = CER_SHAMIR_MIN_K; k <= N; k++) {
		if (check_split_combine(k, 0) || check_split_combine(k, 1)) {
			fprintf(stderr, "ct_shamir: %u-of-%d round trip "
			    "failed\n", k, N);
			return 1;
		}
	}
	return 0;
}
