/* frame.c -- varint length prefixes: parsing a stream, writing a prefix.
 *
 * Parsing is incremental in the simplest sense: it is stateless and starts
 * from the beginning of the buffer each call.  A prefix is at most 10
 * bytes, so rescanning it costs nothing worth the complexity of a resumable
 * state machine.
 */
#include "frame.h"

#include <stdbool.h>

enum frame_status frame_parse(const uint8_t *buf, size_t len, size_t max_body,
                              size_t *prefix_len, size_t *body_len)
{
    uint64_t value = 0;
    size_t i;
    bool complete = false;

    *prefix_len = 0;
    *body_len = 0;
    /* The 10th byte either ends the varint or is refused below, so this
     * never reads more than FRAME_PREFIX_MAX_BYTES. */
    for (i = 0; i < len; i++) {
        uint64_t bits = buf[i] & 0x7fu;

        /* The 10th byte holds bit 63 only: anything more overflows, and a
         * continuation bit there means an 11th byte. */
        if (i == FRAME_PREFIX_MAX_BYTES - 1 && buf[i] > 1)
            return FRAME_BAD;
        value |= bits << (7 * i);
        /* Later bytes can only add higher bits, so a partial value above
         * the limit already proves the frame too big. */
        if (value > max_body)
            return FRAME_TOO_BIG;
        if ((buf[i] & 0x80u) == 0) {
            complete = true;
            break;
        }
    }
    if (!complete)
        return FRAME_NEED_MORE;

    *prefix_len = i + 1;
    *body_len = (size_t)value;
    /* By subtraction: prefix + body could wrap for an absurd max_body. */
    if (len - *prefix_len < *body_len)
        return FRAME_NEED_MORE;
    return FRAME_OK;
}

size_t frame_put_prefix(uint8_t out[FRAME_PREFIX_MAX_BYTES], uint64_t len)
{
    size_t n = 0;

    while (len >= 0x80u) {
        out[n++] = (uint8_t)(len | 0x80u);
        len >>= 7;
    }
    out[n++] = (uint8_t)len;
    return n;
}
