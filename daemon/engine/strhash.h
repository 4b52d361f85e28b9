/* strhash.h -- the string hash behind every open-addressed id table
 * (vocab, roster, the meetup person map, the event file loader).
 *
 * FNV-1a, 64 bit: ids and tags are short, and FNV-1a is fast on short keys
 * and mixes well enough for linear probing at a load factor of 1/2.
 */
#ifndef MINGLE_STRHASH_H
#define MINGLE_STRHASH_H

#include <stddef.h>
#include <stdint.h>

/* Hash of the `len` bytes at `s` (need not be NUL-terminated). */
static inline uint64_t strhash_fnv1a(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3u;
    }
    return h;
}

#endif
