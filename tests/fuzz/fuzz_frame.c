/* fuzz_frame.c -- libFuzzer harness for frame_parse() on a byte stream.
 *
 * Built with -Dfuzz=true; tests/fuzz/README.md says how to run it.
 *
 * Input: byte 0 picks max_body from a table of edge values, bytes 1-2 seed
 * the chunk sizes (byte 2 also caps them), the rest is the stream.  The
 * harness plays the transport: it appends the stream chunk by chunk,
 * takes every complete frame off the front, and stops at BAD or TOO_BIG.
 * Each call sees an exactly sized heap copy of the pending bytes, so ASan
 * catches any read past len.  Checked on every call:
 *   OK        prefix + body <= len, body <= max_body, and the prefix is a
 *             varint of value body that ends at prefix_len;
 *   NEED_MORE with a prefix: the same, except prefix + body > len;
 *             without: a valid varint not yet ended, both outputs 0;
 *   TOO_BIG   the prefix bytes seen prove body > max_body, outputs 0;
 *   BAD       the prefix runs past 10 bytes or 64 bits, outputs 0.
 * And across calls: chunking changes nothing, the frames and the final
 * status equal those of parsing the whole stream at once.  Every complete
 * prefix also checks frame_put_prefix(): it writes the same value back
 * in the fewest bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FRAME_HEADER_BYTES 3

/* What an independent reading of the prefix says about buf[0..len). */
struct fuzz_varint {
    enum frame_status status; /* OK: complete, whatever the body */
    uint64_t value;           /* complete: the value; else the bits so far */
    size_t used;              /* prefix bytes read */
};

/* Decodes bit by bit, sharing no shortcut with frame.c: a value bit
 * beyond bit 63 is BAD, and so is a continuation bit on the 10th byte. */
static struct fuzz_varint fuzz_read_varint(const uint8_t *buf, size_t len,
                                           size_t max_body)
{
    struct fuzz_varint v = {FRAME_NEED_MORE, 0, 0};
    unsigned bit;

    while (v.used < len) {
        uint8_t b = buf[v.used];

        for (bit = 0; bit < 7; bit++) {
            unsigned pos = 7 * (unsigned)v.used + bit;

            if ((b >> bit) & 1) {
                if (pos >= 64) {
                    v.status = FRAME_BAD;
                    return v;
                }
                v.value |= (uint64_t)1 << pos;
            }
        }
        v.used++;
        /* A 10th byte asking for an 11th is already too long. */
        if (v.used == FRAME_PREFIX_MAX_BYTES && (b & 0x80) != 0) {
            v.status = FRAME_BAD;
            return v;
        }
        if (v.value > max_body) {
            v.status = FRAME_TOO_BIG;
            return v;
        }
        if ((b & 0x80) == 0) {
            v.status = FRAME_OK;
            return v;
        }
    }
    return v;
}

/* The writer's prefix for `value` is minimal (no longer than the
 * `longest` a peer used) and reads back as `value`. */
static void fuzz_check_put(uint64_t value, size_t longest)
{
    uint8_t prefix[FRAME_PREFIX_MAX_BYTES];
    size_t n = frame_put_prefix(prefix, value);
    struct fuzz_varint v = fuzz_read_varint(prefix, n, SIZE_MAX);

    if (n < 1 || n > longest || (n > 1 && prefix[n - 1] == 0) ||
        v.status != FRAME_OK || v.used != n || v.value != value)
        abort();
}

/* Calls frame_parse on an exact heap copy and checks the contract. */
static enum frame_status fuzz_parse(const uint8_t *pending, size_t len,
                                    size_t max_body, size_t *prefix_len,
                                    size_t *body_len)
{
    uint8_t *copy = malloc(len ? len : 1);
    struct fuzz_varint v;
    enum frame_status st;

    if (copy == NULL)
        abort();
    memcpy(copy, pending, len);
    /* Garbage in the outputs must not leak into the result. */
    *prefix_len = 0x5a5a;
    *body_len = 0xa5a5;
    st = frame_parse(copy, len, max_body, prefix_len, body_len);
    free(copy);

    v = fuzz_read_varint(pending, len, max_body);
    switch (st) {
    case FRAME_OK:
    case FRAME_NEED_MORE:
        if (v.status == FRAME_NEED_MORE) {
            if (st != FRAME_NEED_MORE || *prefix_len != 0 || *body_len != 0)
                abort();
            break;
        }
        if (v.status != FRAME_OK || *prefix_len != v.used ||
            *body_len != v.value || *body_len > max_body ||
            *prefix_len > FRAME_PREFIX_MAX_BYTES)
            abort();
        /* By subtraction, as prefix + body may not fit in size_t. */
        if ((st == FRAME_OK) != (*body_len <= len - *prefix_len))
            abort();
        fuzz_check_put(*body_len, *prefix_len);
        break;
    case FRAME_TOO_BIG:
    case FRAME_BAD:
        if (v.status != st || *prefix_len != 0 || *body_len != 0)
            abort();
        break;
    default:
        abort();
    }
    return st;
}

/* The frames of the whole stream at once; returns the final status and
 * the number of frames, whose ends go to ends[] (up to cap). */
static enum frame_status fuzz_whole(const uint8_t *s, size_t n,
                                    size_t max_body, size_t *ends, size_t cap,
                                    size_t *n_frames)
{
    size_t off = 0, plen, blen;
    enum frame_status st;

    *n_frames = 0;
    while ((st = fuzz_parse(s + off, n - off, max_body, &plen, &blen)) ==
           FRAME_OK) {
        off += plen + blen;
        if (*n_frames < cap)
            ends[*n_frames] = off;
        (*n_frames)++;
    }
    return st;
}

static const size_t fuzz_max_bodies[16] = {
    0, 1, 2, 126, 127, 128, 129, 16383, 16384, 4096,
    FRAME_DEFAULT_MAX_BYTES, UINT32_MAX, SIZE_MAX / 2, SIZE_MAX - 1,
    SIZE_MAX, 300,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t ends[256], n_frames, frame = 0, have = 0, off = 0, plen, blen;
    enum frame_status want, st = FRAME_NEED_MORE;
    const uint8_t *s;
    size_t n, max_body, chunk_max;
    uint32_t rng;

    if (size < FUZZ_FRAME_HEADER_BYTES)
        return 0;
    max_body = fuzz_max_bodies[data[0] & 15];
    rng = (uint32_t)data[1] << 8 | data[2] | 1u;
    chunk_max = (size_t)(data[2] & 31) + 1;
    s = data + FUZZ_FRAME_HEADER_BYTES;
    n = size - FUZZ_FRAME_HEADER_BYTES;
    want = fuzz_whole(s, n, max_body, ends, 256, &n_frames);

    /* `off`: start of the pending bytes; `have`: bytes delivered so far. */
    while (have < n) {
        size_t chunk;

        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        chunk = 1 + rng % chunk_max;
        have += chunk < n - have ? chunk : n - have;
        while ((st = fuzz_parse(s + off, have - off, max_body, &plen,
                                &blen)) == FRAME_OK) {
            off += plen + blen;
            if (frame < 256 && off != ends[frame])
                abort();
            frame++;
        }
        if (st == FRAME_BAD || st == FRAME_TOO_BIG)
            break;
    }
    if (st != want || frame != n_frames)
        abort();
    return 0;
}
