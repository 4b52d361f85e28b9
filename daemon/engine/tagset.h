/* tagset.h -- a compact set of tag ids: a sorted array without duplicates.
 *
 * Attendees hold a handful of tags each, so a sorted uint32_t array beats a
 * bitset over a vocabulary that may hold 100,000 distinct tags.
 */
#ifndef MINGLE_TAGSET_H
#define MINGLE_TAGSET_H

#include <stddef.h>
#include <stdint.h>

struct tagset {
    uint32_t *ids; /* sorted ascending, unique; NULL when n == 0 */
    uint32_t n;
};

/* Builds a set from `n` ids in any order, duplicates allowed: copies them
 * into set->ids (set owns it).  Returns 0 or -ENOMEM (set left empty). */
int tagset_init(struct tagset *set, const uint32_t *ids, size_t n);

/* Releases the ids and leaves an empty set; safe on an empty set. */
void tagset_clear(struct tagset *set);

/* Non-zero when `id` is in the set. */
int tagset_has(const struct tagset *set, uint32_t id);

/* Number of ids in both sets (merge walk, O(a->n + b->n)). */
uint32_t tagset_common(const struct tagset *a, const struct tagset *b);

/* Calls fn(id, ctx) for each id in both sets, ascending; stops early and
 * returns fn's value when it is non-zero, else returns 0. */
int tagset_foreach_common(const struct tagset *a, const struct tagset *b,
                          int (*fn)(uint32_t id, void *ctx), void *ctx);

#endif
