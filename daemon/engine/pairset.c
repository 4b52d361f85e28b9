/* pairset.c -- unordered pairs of attendee indices in an open-addressed
 * hash table.
 *
 * A pair {a, b} is stored as the key (min << 32 | max).  Since a != b, the
 * key 0 can never name a pair ({0, 0} is rejected) and serves as the empty
 * slot marker, so the table is a single flat array of uint64_t.  Nothing is
 * ever deleted, so linear probing needs no tombstones.
 */
#include "pairset.h"

#include <errno.h>
#include <stdlib.h>

#define PAIRSET_MIN_SLOTS 64 /* power of two */
#define PAIRSET_EMPTY 0u

struct pairset {
    uint64_t *slots;
    size_t mask; /* slot count - 1; the count is a power of two */
    size_t count;
};

static uint64_t pairset_key(uint32_t a, uint32_t b)
{
    if (a > b) {
        uint32_t t = a;

        a = b;
        b = t;
    }
    return (uint64_t)a << 32 | b;
}

/* splitmix64's finaliser: consecutive indices must not cluster under
 * linear probing. */
static size_t pairset_hash(uint64_t key)
{
    key ^= key >> 30;
    key *= 0xbf58476d1ce4e5b9u;
    key ^= key >> 27;
    key *= 0x94d049bb133111ebu;
    key ^= key >> 31;
    return (size_t)key;
}

static size_t pairset_slot(const uint64_t *slots, size_t mask, uint64_t key)
{
    size_t i = pairset_hash(key) & mask;

    while (slots[i] != PAIRSET_EMPTY && slots[i] != key)
        i = (i + 1) & mask;
    return i;
}

struct pairset *pairset_new(void)
{
    struct pairset *ps = malloc(sizeof(*ps));

    if (ps == NULL)
        return NULL;
    ps->slots = calloc(PAIRSET_MIN_SLOTS, sizeof(*ps->slots));
    if (ps->slots == NULL) {
        free(ps);
        return NULL;
    }
    ps->mask = PAIRSET_MIN_SLOTS - 1;
    ps->count = 0;
    return ps;
}

void pairset_free(struct pairset *ps)
{
    if (ps == NULL)
        return;
    free(ps->slots);
    free(ps);
}

static int pairset_grow(struct pairset *ps)
{
    size_t old_n = ps->mask + 1, new_n = old_n * 2, i;
    uint64_t *slots;

    if (new_n > SIZE_MAX / sizeof(*slots))
        return -ENOMEM;
    slots = calloc(new_n, sizeof(*slots));
    if (slots == NULL)
        return -ENOMEM;
    for (i = 0; i < old_n; i++) {
        if (ps->slots[i] != PAIRSET_EMPTY)
            slots[pairset_slot(slots, new_n - 1, ps->slots[i])] =
                ps->slots[i];
    }
    free(ps->slots);
    ps->slots = slots;
    ps->mask = new_n - 1;
    return 0;
}

int pairset_add(struct pairset *ps, uint32_t a, uint32_t b)
{
    uint64_t key;
    size_t i;

    if (a == b)
        return -EINVAL;
    key = pairset_key(a, b);
    i = pairset_slot(ps->slots, ps->mask, key);
    if (ps->slots[i] == key)
        return 0;
    /* Keep the load factor at or below 1/2 so probes stay short. */
    if ((ps->count + 1) * 2 > ps->mask + 1) {
        int rc = pairset_grow(ps);

        if (rc != 0)
            return rc;
        i = pairset_slot(ps->slots, ps->mask, key);
    }
    ps->slots[i] = key;
    ps->count++;
    return 0;
}

int pairset_has(const struct pairset *ps, uint32_t a, uint32_t b)
{
    uint64_t key;

    if (a == b)
        return 0;
    key = pairset_key(a, b);
    return ps->slots[pairset_slot(ps->slots, ps->mask, key)] == key;
}

size_t pairset_count(const struct pairset *ps)
{
    return ps->count;
}

int pairset_next(const struct pairset *ps, size_t *cursor, uint32_t *a,
                 uint32_t *b)
{
    size_t i;

    for (i = *cursor; i <= ps->mask; i++) {
        if (ps->slots[i] != PAIRSET_EMPTY) {
            *a = (uint32_t)(ps->slots[i] >> 32);
            *b = (uint32_t)ps->slots[i];
            *cursor = i + 1;
            return 1;
        }
    }
    *cursor = ps->mask + 1;
    return 0;
}
