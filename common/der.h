/*
 * der.h: a strict DER reader and a small DER writer, for the hot paths
 * that walk or build certificates without OpenSSL's object model (whose
 * parse of a certificate decodes its public key, the dearest part).
 *
 * The reader takes one-byte tags only (every tag X.509 uses) and
 * definite, minimal lengths; anything else is malformed.
 */
#ifndef KR_DER_H
#define KR_DER_H

#include <stddef.h>
#include <stdint.h>

/* What is left to read. */
struct kr_der {
	const uint8_t	*p;
	size_t		 n;
};

/* One element: its tag, where it starts, its contents. */
struct kr_der_el {
	unsigned	 tag;
	const uint8_t	*start;		/* the tag byte */
	size_t		 total;		/* header and contents */
	const uint8_t	*val;		/* the contents */
	size_t		 len;
};

/* A reader over buf. */
struct kr_der	 kr_der_of(const uint8_t *buf, size_t len);
/* A reader over an element's contents. */
struct kr_der	 kr_der_in(const struct kr_der_el *el);

/*
 * The next element into *el, the reader moved past it: 0, or -1 when
 * nothing is left or it is malformed.  With tag non-zero, an element of
 * another tag is -1 too (and the reader does not move).
 */
int		 kr_der_get(struct kr_der *d, unsigned tag,
		     struct kr_der_el *el);
/* The tag of the next element, 0 when nothing is left. */
unsigned	 kr_der_peek(const struct kr_der *d);

/*
 * A growing buffer.  Writes after an allocation failure do nothing and
 * leave oom set, so a builder checks once at the end.
 */
struct kr_derbuf {
	uint8_t		*b;
	size_t		 len;
	size_t		 cap;
	int		 oom;
};

void		 kr_derbuf_put(struct kr_derbuf *, const void *, size_t);
/* tag, length, then the contents. */
void		 kr_derbuf_tlv(struct kr_derbuf *, unsigned tag, const void *,
		     size_t);
/* Make the bytes written since from the contents of one tag element. */
void		 kr_derbuf_wrap(struct kr_derbuf *, size_t from, unsigned tag);
void		 kr_derbuf_free(struct kr_derbuf *);

/* The length octets of n into p (NULL: just count); how many. */
size_t		 kr_der_len(size_t n, uint8_t *p);

#endif /* KR_DER_H */
