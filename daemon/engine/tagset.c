/* tagset.c -- sorted unique uint32_t arrays and their intersections.
 *
 * Sets are tiny (a handful of tags per attendee), so a merge walk over two
 * sorted arrays is both the simplest and the fastest intersection.
 */
#include "tagset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int tagset_cmp_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa;
    uint32_t b = *(const uint32_t *)pb;

    return (a > b) - (a < b);
}

int tagset_init(struct tagset *set, const uint32_t *ids, size_t n)
{
    uint32_t *copy;
    size_t i, out;

    set->ids = NULL;
    set->n = 0;
    if (n == 0)
        return 0;
    /* The count is stored as uint32_t; more ids could never fit anyway. */
    if (n > UINT32_MAX || n > SIZE_MAX / sizeof(*copy))
        return -ENOMEM;
    copy = malloc(n * sizeof(*copy));
    if (copy == NULL)
        return -ENOMEM;
    memcpy(copy, ids, n * sizeof(*copy));
    qsort(copy, n, sizeof(*copy), tagset_cmp_u32);
    out = 1;
    for (i = 1; i < n; i++) {
        if (copy[i] != copy[out - 1])
            copy[out++] = copy[i];
    }
    set->ids = copy;
    set->n = (uint32_t)out;
    return 0;
}

void tagset_clear(struct tagset *set)
{
    free(set->ids);
    set->ids = NULL;
    set->n = 0;
}

int tagset_has(const struct tagset *set, uint32_t id)
{
    uint32_t lo = 0, hi = set->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (set->ids[mid] < id)
            lo = mid + 1;
        else if (set->ids[mid] > id)
            hi = mid;
        else
            return 1;
    }
    return 0;
}

int tagset_foreach_common(const struct tagset *a, const struct tagset *b,
                          int (*fn)(uint32_t id, void *ctx), void *ctx)
{
    uint32_t i = 0, j = 0;

    while (i < a->n && j < b->n) {
        if (a->ids[i] < b->ids[j]) {
            i++;
        } else if (a->ids[i] > b->ids[j]) {
            j++;
        } else {
            int rc = fn(a->ids[i], ctx);

            if (rc != 0)
                return rc;
            i++;
            j++;
        }
    }
    return 0;
}

static int tagset_count_one(uint32_t id, void *count)
{
    (void)id;
    ++*(uint32_t *)count;
    return 0;
}

/* Matches are rare (most pairs share nothing), so counting them through
 * the callback costs nothing next to the walk itself. */
uint32_t tagset_common(const struct tagset *a, const struct tagset *b)
{
    uint32_t common = 0;

    tagset_foreach_common(a, b, tagset_count_one, &common);
    return common;
}
