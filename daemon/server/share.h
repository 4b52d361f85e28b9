/* share.h -- one byte string queued on many connections without copies.
 *
 * A round pushed to N subscribers is the same bytes N times over.  A share
 * holds them once; share_add() queues them on an output evbuffer as a
 * reference (evbuffer_add_reference), so each subscriber's output costs a
 * chain header, not a copy.  The share counts its holders: the creator and
 * every evbuffer it was added to.  An evbuffer lets go when its data is
 * sent or when it is freed (a dropped subscriber), so the bytes go back to
 * the allocator as soon as the last reader is done with them.
 *
 * Loop thread only: the count is not atomic.
 */
#ifndef MINGLE_SHARE_H
#define MINGLE_SHARE_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct share;

/* Copies `len` bytes of `bytes` into a new share held once by the caller.
 * Returns NULL when out of memory. */
struct share *share_new(const uint8_t *bytes, size_t len);

/* Lets go of the caller's hold; the bytes are freed when no evbuffer holds
 * them either.  NULL is a no-op. */
void share_free(struct share *s);

/* Appends the bytes to `out` as a reference held until `out` has sent or
 * dropped them.  Returns 0, or -ENOMEM (nothing appended). */
int share_add(struct share *s, struct evbuffer *out);

/* The length of the bytes. */
size_t share_len(const struct share *s);

/* How many hold the bytes now (the caller's hold included), for tests. */
unsigned share_holders(const struct share *s);

#endif
