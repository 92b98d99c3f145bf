/*
 * der.c: a strict DER reader and a small DER writer (see der.h).
 */
#include <stdlib.h>
#include <string.h>

#include "der.h"

struct kr_der
kr_der_of(const uint8_t *buf, size_t len)
{
	struct kr_der d = { buf, len };

	return d;
}

struct kr_der
kr_der_in(const struct kr_der_el *el)
{
	return kr_der_of(el->val, el->len);
}

unsigned
kr_der_peek(const struct kr_der *d)
{
	return d->n > 0 ? d->p[0] : 0;
}

int
kr_der_get(struct kr_der *d, unsigned tag, struct kr_der_el *el)
{
	const uint8_t *p = d->p;
	size_t n = d->n, len, k, i, hdr;

	if (n < 2 || (p[0] & 0x1f) == 0x1f || (tag != 0 && p[0] != tag))
		return -1;
	if (p[1] < 0x80) {
		len = p[1];
		hdr = 2;
	} else {
		/* Long form: 1-4 octets, no leading zero, and >= 0x80. */
		k = p[1] & 0x7f;
		if (k == 0 || k > 4 || n < 2 + k || p[2] == 0)
			return -1;
		for (len = 0, i = 0; i < k; i++)
			len = len << 8 | p[2 + i];
		if (len < 0x80)
			return -1;
		hdr = 2 + k;
	}
	if (len > n - hdr)
		return -1;
	el->tag = p[0];
	el->start = p;
	el->total = hdr + len;
	el->val = p + hdr;
	el->len = len;
	d->p += el->total;
	d->n -= el->total;
	return 0;
}

size_t
kr_der_len(size_t n, uint8_t *p)
{
	size_t k = 0, t;

	if (n < 0x80) {
		if (p != NULL)
			p[0] = (uint8_t)n;
		return 1;
	}
	for (t = n; t > 0; t >>= 8)
		k++;
	if (p != NULL) {
		p[0] = (uint8_t)(0x80 | k);
		for (t = 0; t < k; t++)
			p[1 + t] = (uint8_t)(n >> (8 * (k - 1 - t)));
	}
	return 1 + k;
}

/* Room for n more bytes. */
static int
grow(struct kr_derbuf *b, size_t n)
{
	uint8_t *nb;
	size_t cap;

	if (b->oom)
		return -1;
	if (b->len + n <= b->cap)
		return 0;
	for (cap = b->cap ? b->cap : 512; cap < b->len + n; cap *= 2)
		;
	if ((nb = realloc(b->b, cap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->b = nb;
	b->cap = cap;
	return 0;
}

void
kr_derbuf_put(struct kr_derbuf *b, const void *v, size_t n)
{
	if (n == 0 || grow(b, n) != 0)
		return;
	memcpy(b->b + b->len, v, n);
	b->len += n;
}

void
kr_derbuf_tlv(struct kr_derbuf *b, unsigned tag, const void *v, size_t n)
{
	uint8_t h[8];

	h[0] = (uint8_t)tag;
	kr_derbuf_put(b, h, 1 + kr_der_len(n, h + 1));
	kr_derbuf_put(b, v, n);
}

void
kr_derbuf_wrap(struct kr_derbuf *b, size_t from, unsigned tag)
{
	uint8_t h[8];
	size_t hl, n;

	if (b->oom || from > b->len)
		return;
	n = b->len - from;
	h[0] = (uint8_t)tag;
	hl = 1 + kr_der_len(n, h + 1);
	if (grow(b, hl) != 0)
		return;
	memmove(b->b + from + hl, b->b + from, n);
	memcpy(b->b + from, h, hl);
	b->len += hl;
}

void
kr_derbuf_free(struct kr_derbuf *b)
{
	free(b->b);
	memset(b, 0, sizeof(*b));
}
