/* frame.h -- protobuf's standard delimited framing on a byte stream.
 *
 * A frame is a body (one encoded protobuf message) preceded by its length
 * as a base-128 varint: low 7 bits first, the high bit of each byte set
 * while more bytes follow.  Java's parseDelimitedFrom, Go's protodelim and
 * Python's varint helpers read and write exactly this.
 *
 * The parser works on whatever bytes have arrived so far and decides from
 * the prefix alone, so a transport can refuse an oversized frame before it
 * buffers a byte of its body.  Nothing here allocates or knows protobuf.
 *
 * Non-minimal prefixes (0x80 0x00 for 0) are accepted, as protobuf's own
 * varint decoders accept them: the 10-byte bound already caps what a peer
 * can make us read, and refusing them would break interoperability for no
 * gain.  A prefix longer than 10 bytes, or one whose value does not fit in
 * 64 bits, is malformed.
 */
#ifndef MINGLE_FRAME_H
#define MINGLE_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* The longest varint: ceil(64 / 7) bytes. */
#define FRAME_PREFIX_MAX_BYTES 10
/* The default body limit (design.md: max_frame_bytes defaults to 1 MiB). */
#define FRAME_DEFAULT_MAX_BYTES (1024u * 1024u)

enum frame_status {
    FRAME_OK,        /* a whole frame is at the start of the buffer */
    FRAME_NEED_MORE, /* the prefix or the body is still incomplete */
    FRAME_BAD,       /* the prefix is not a valid varint: close */
    FRAME_TOO_BIG,   /* the prefix announces more than max_body: close */
};

/* Looks at the frame at the start of buf[0..len).
 *
 * FRAME_OK: the body is buf[*prefix_len .. *prefix_len + *body_len), and
 * the next frame starts right after it.
 * FRAME_NEED_MORE: read more and call again with the grown buffer.  When
 * the prefix is already complete, *prefix_len and *body_len are set, so
 * the caller knows the full frame size; otherwise both are 0.
 * FRAME_TOO_BIG: returned as soon as the prefix read so far proves the
 * length exceeds max_body, even before the varint or the body is complete.
 * FRAME_BAD: more than FRAME_PREFIX_MAX_BYTES prefix bytes, or a value
 * above 64 bits.
 * On TOO_BIG and BAD both outputs are 0.  A body of length 0 is a valid
 * frame (an all-defaults message).  Never reads beyond buf[len - 1]. */
enum frame_status frame_parse(const uint8_t *buf, size_t len, size_t max_body,
                              size_t *prefix_len, size_t *body_len);

/* Writes the minimal varint prefix for a body of `len` bytes to `out` and
 * returns its length (1..FRAME_PREFIX_MAX_BYTES). */
size_t frame_put_prefix(uint8_t out[FRAME_PREFIX_MAX_BYTES], uint64_t len);

#endif
