/* pairset.h -- a set of unordered pairs of attendee indices.
 *
 * Holds "already met" and "avoid" pairs.  Open addressing over 64-bit keys,
 * so a million encounters cost about 16 MiB, never an n x n matrix.
 */
#ifndef MINGLE_PAIRSET_H
#define MINGLE_PAIRSET_H

#include <stddef.h>
#include <stdint.h>

struct pairset;

/* Returns an empty set, or NULL on ENOMEM. */
struct pairset *pairset_new(void);

/* Frees the set; NULL is a no-op. */
void pairset_free(struct pairset *ps);

/* Adds {a, b} (order irrelevant).  Returns 0 (also when already present),
 * -EINVAL when a == b, -ENOMEM. */
int pairset_add(struct pairset *ps, uint32_t a, uint32_t b);

/* Non-zero when {a, b} is in the set. */
int pairset_has(const struct pairset *ps, uint32_t a, uint32_t b);

/* Number of distinct pairs. */
size_t pairset_count(const struct pairset *ps);

/* Iterates: start with *cursor = 0; returns 1 and stores a pair (a < b)
 * while pairs remain, then 0.  The set must not change meanwhile. */
int pairset_next(const struct pairset *ps, size_t *cursor, uint32_t *a,
                 uint32_t *b);

#endif
