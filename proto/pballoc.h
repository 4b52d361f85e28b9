/* pballoc.h -- a bounded arena allocator for protobuf-c unpacking.
 *
 * protobuf_c_message_unpack() allocates every string, repeated array and
 * submessage of a decoded message.  A hostile frame of a few bytes per
 * element (empty strings, empty submessages) can ask for far more memory
 * than it occupies on the wire, so a server unpacks through this arena,
 * whose cap is a fixed multiple of the frame size: when an allocation would
 * cross the cap it returns NULL and the unpack fails cleanly.
 *
 * Memory comes from malloc in chunks and is released all at once by
 * pballoc_reset(); the allocator's free() is a no-op, so calling
 * protobuf_c_message_free_unpacked() on an arena message is harmless but
 * unnecessary.  Not thread-safe: one arena per thread (or per connection).
 */
#ifndef MINGLE_PBALLOC_H
#define MINGLE_PBALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/* Unpacking one wire byte never needs more than this many arena bytes,
 * plus a fixed allowance.  The worst case is a field of a large message
 * type repeated with empty values, 2 wire bytes each; test_pballoc.c
 * probes every field of mingle.proto and measured 91 on x86-64, so this
 * leaves headroom for other ABIs. */
#define PBALLOC_BYTES_PER_WIRE_BYTE 128u
#define PBALLOC_BASE_BYTES (64u * 1024u)

struct pballoc;

/* Returns an empty arena that will hand out at most `cap_bytes` bytes in
 * total (chunk headers and alignment padding count against the cap), or
 * NULL on ENOMEM.  Nothing is allocated until the first use. */
struct pballoc *pballoc_new(size_t cap_bytes);

/* Frees the arena and everything allocated from it; NULL is a no-op. */
void pballoc_free(struct pballoc *a);

/* The allocator to pass to protobuf_c_message_unpack(); owned by the
 * arena, valid until pballoc_free(). */
ProtobufCAllocator *pballoc_allocator(struct pballoc *a);

/* Invalidates everything allocated so far, keeps one chunk for reuse if
 * it fits, and sets a new cap.  Call before each unpack. */
void pballoc_reset(struct pballoc *a, size_t cap_bytes);

/* The cap for unpacking a body of `wire_bytes` bytes:
 * PBALLOC_BASE_BYTES + PBALLOC_BYTES_PER_WIRE_BYTE * wire_bytes,
 * saturating at SIZE_MAX. */
size_t pballoc_cap_for(size_t wire_bytes);

/* Bytes charged against the cap since the last reset. */
size_t pballoc_used(const struct pballoc *a);

/* Whether an allocation was refused for the cap since the last reset:
 * tells "too expensive to decode" apart from "malformed". */
bool pballoc_exhausted(const struct pballoc *a);

#endif
