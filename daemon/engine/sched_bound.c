/* sched_bound.c -- what the scheduler knows before it searches: local
 * indices for the people to seat, their met pairs as sorted rows, and the
 * repeat lower bound. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched_int.h"

/* ---- people: roster index -> local index ---- */

static uint32_t pmap_hash(uint32_t x)
{
    uint64_t h = (uint64_t)x * UINT64_C(0x9e3779b97f4a7c15);
    return (uint32_t)(h >> 32);
}

int sch_pmap_init(struct sch_pmap *m, const uint32_t *people, uint32_t n)
{
    size_t cap = 16;
    while (cap < (size_t)n * 2)
        cap <<= 1;
    m->mask = cap - 1;
    m->key = malloc(cap * sizeof(*m->key));
    m->val = malloc(cap * sizeof(*m->val));
    if (!m->key || !m->val)
        return -ENOMEM;
    for (size_t i = 0; i < cap; i++)
        m->val[i] = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++) {
        size_t h = pmap_hash(people[i]) & m->mask;
        while (m->val[h] != UINT32_MAX) {
            if (m->key[h] == people[i])
                return -EINVAL;
            h = (h + 1) & m->mask;
        }
        m->key[h] = people[i];
        m->val[h] = i;
    }
    return 0;
}

uint32_t sch_pmap_get(const struct sch_pmap *m, uint32_t key)
{
    size_t h = pmap_hash(key) & m->mask;
    while (m->val[h] != UINT32_MAX) {
        if (m->key[h] == key)
            return m->val[h];
        h = (h + 1) & m->mask;
    }
    return UINT32_MAX;
}

void sch_pmap_clear(struct sch_pmap *m)
{
    free(m->key);
    free(m->val);
}

/* ---- pair counts and the lower bound ---- */

uint32_t sched_table_count(uint32_t n, uint32_t table_size)
{
    if (n == 0 || table_size == 0)
        return 0;
    return n / table_size + (n % table_size != 0);
}

void sch_count_pairs(const struct sch_pmap *pm, const struct pairset *met,
                     const struct pairset *avoid, uint32_t *deg,
                     uint64_t *excluded)
{
    uint32_t a, b;
    size_t cur = 0;
    *excluded = 0;
    if (met) {
        while (pairset_next(met, &cur, &a, &b)) {
            uint32_t la = sch_pmap_get(pm, a), lb = sch_pmap_get(pm, b);
            if (la == UINT32_MAX || lb == UINT32_MAX)
                continue;
            (*excluded)++;
            if (deg) {
                deg[la]++;
                deg[lb]++;
            }
        }
    }
    cur = 0;
    if (avoid) {
        while (pairset_next(avoid, &cur, &a, &b)) {
            uint32_t la = sch_pmap_get(pm, a), lb = sch_pmap_get(pm, b);
            if (la == UINT32_MAX || lb == UINT32_MAX)
                continue;
            if (met && pairset_has(met, a, b))
                continue;
            (*excluded)++;
            if (deg) {
                deg[la]++;
                deg[lb]++;
            }
        }
    }
}

/* Met pairs among the seated as sorted rows of local indices.  Live
 * planning passes a pairset that grows with every round and may hold the
 * history of people not seated now; hashing into it for every candidate
 * pair dominated planning, a binary search in a short row does not.
 *
 * Rows come out sorted without comparisons.  Each pair is first listed
 * under its larger end.  Walking those lists in index order appends the
 * larger ends to the rows of the smaller ones, in increasing order; a
 * second walk over the rows so built appends the smaller ends, again in
 * increasing order, in front.  Row x: its smaller partners, then its
 * larger ones. */
int sch_build_met_adj(struct sch_shared *sh, struct sch *s,
                      const struct sch_pmap *pm)
{
    size_t cur = 0, total = 0, cap = 0, n1 = (size_t)s->n + 1;
    size_t *below = NULL, *up = NULL, *down = NULL;
    uint32_t *half = NULL, *pairs = NULL, a, b;
    int rc = -ENOMEM;

    sh->met_off = calloc(n1, sizeof(*sh->met_off));
    below = calloc(n1, sizeof(*below));
    up = malloc(n1 * sizeof(*up));
    down = malloc(n1 * sizeof(*down));
    if (!sh->met_off || !below || !up || !down)
        goto out;
    /* One pass over the pairset (it may hold a long history), keeping the
     * seated pairs in local indices. */
    while (s->met && pairset_next(s->met, &cur, &a, &b)) {
        uint32_t la = sch_pmap_get(pm, a), lb = sch_pmap_get(pm, b);
        if (la == UINT32_MAX || lb == UINT32_MAX)
            continue;
        if (total == cap) {
            size_t ncap = cap ? 2 * cap : 1024;
            uint32_t *grown = realloc(pairs, ncap * 2 * sizeof(*pairs));
            if (!grown)
                goto out;
            pairs = grown;
            cap = ncap;
        }
        pairs[2 * total] = la;
        pairs[2 * total + 1] = lb;
        sh->met_off[la + 1]++;
        sh->met_off[lb + 1]++;
        below[(la > lb ? la : lb) + 1]++;
        total++;
    }
    for (uint32_t i = 0; i < s->n; i++) {
        sh->met_off[i + 1] += sh->met_off[i];
        below[i + 1] += below[i];
    }
    sh->met_adj = malloc((total ? 2 * total : 1) * sizeof(*sh->met_adj));
    half = malloc((total ? total : 1) * sizeof(*half));
    if (!sh->met_adj || !half)
        goto out;
    memcpy(down, below, n1 * sizeof(*down));
    for (size_t x = 0; x < total; x++) {
        uint32_t la = pairs[2 * x], lb = pairs[2 * x + 1];
        if (la > lb)
            half[down[la]++] = lb;
        else
            half[down[lb]++] = la;
    }
    /* below[i + 1] - below[i] is how many partners of i are smaller. */
    for (uint32_t i = 0; i < s->n; i++)
        up[i] = sh->met_off[i] + (below[i + 1] - below[i]);
    for (uint32_t i = 0; i < s->n; i++)
        for (size_t x = below[i]; x < below[i + 1]; x++)
            sh->met_adj[up[half[x]]++] = i;
    for (uint32_t i = 0; i < s->n; i++)
        down[i] = sh->met_off[i];
    for (uint32_t j = 0; j < s->n; j++) {
        size_t first_up = sh->met_off[j] + (below[j + 1] - below[j]);
        for (size_t x = first_up; x < sh->met_off[j + 1]; x++)
            sh->met_adj[down[sh->met_adj[x]]++] = j;
    }
    s->met_off = sh->met_off;
    s->met_adj = sh->met_adj;
    rc = 0;
out:
    free(below);
    free(up);
    free(down);
    free(half);
    free(pairs);
    return rc;
}

void sch_count_seated_pairs(struct sch_shared *sh, struct sch *s,
                            const struct sch_pmap *pm, uint64_t *excluded)
{
    uint32_t *deg = sh->deg;

    s->flags = sh->flags;
    s->deg = sh->deg;
    uint32_t a, b;
    size_t cur = 0;

    *excluded = s->met_off[s->n] / 2;
    for (uint32_t i = 0; i < s->n; i++) {
        deg[i] = (uint32_t)(s->met_off[i + 1] - s->met_off[i]);
        if (deg[i] > 0)
            sh->flags[i] |= SCH_HAS_MET;
    }
    while (s->avoid && pairset_next(s->avoid, &cur, &a, &b)) {
        uint32_t la = sch_pmap_get(pm, a), lb = sch_pmap_get(pm, b);
        if (la == UINT32_MAX || lb == UINT32_MAX)
            continue;
        sh->flags[la] |= SCH_HAS_AVOID;
        sh->flags[lb] |= SCH_HAS_AVOID;
        if (sch_met(s, la, lb))
            continue;
        (*excluded)++;
        deg[la]++;
        deg[lb]++;
    }
}

/* Least repeated pairs among `size` people drawn from `T` tables of an
 * earlier round: spread as evenly as possible. */
static uint64_t spread_pairs(uint64_t size, uint64_t T)
{
    uint64_t q = size / T, rm = size % T;
    return rm * (q + 1) * q / 2 + (T - rm) * q * (q - 1) / 2;
}

/* The global and per-person bounds assume avoid pairs stay apart.
 * Global: the table sizes imply a number of pair meetings; at most one per
 * still-new pair is new.  Per person: p meets at least rounds * (smallest
 * table - 1) partners but has only n - 1 - |met(p) u avoid(p)| new ones;
 * every repeat is counted by both of its people.  Pigeonhole: with fewer
 * tables than seats (11 people at tables of 4), every later table holds
 * two people who shared a table in the first round, however seated. */
uint64_t sch_lower_bound(uint32_t n, uint32_t k, uint32_t R,
                         const uint32_t *deg, uint64_t excluded)
{
    uint32_t T = sched_table_count(n, k);
    if (T == 0)
        return 0;
    uint64_t base = n / T, extra = n % T;
    uint64_t meet = (uint64_t)R * ((T - extra) * (base * (base - 1) / 2) +
                                   extra * ((base + 1) * base / 2));
    uint64_t avail = (uint64_t)n * (n - 1) / 2 - excluded;
    uint64_t global = meet > avail ? meet - avail : 0;
    uint64_t need = (uint64_t)R * (base - 1), excess = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t fresh = (uint64_t)n - 1 - deg[i];
        if (need > fresh)
            excess += need - fresh;
    }
    uint64_t person = (excess + 1) / 2;
    uint64_t pigeon = (uint64_t)(R - 1) *
                      ((T - extra) * spread_pairs(base, T) +
                       extra * spread_pairs(base + 1, T));
    uint64_t lb = global > person ? global : person;
    return lb > pigeon ? lb : pigeon;
}

uint64_t sched_repeat_lower_bound(const struct sched_input *in,
                                  uint32_t table_size, uint32_t rounds)
{
    struct sch_pmap pm = {0};
    uint32_t *deg = NULL;
    uint64_t lb = 0, excluded;
    if (!in || in->n == 0 || !in->people || table_size < 2 || rounds < 1)
        return 0;
    deg = calloc(in->n, sizeof(*deg));
    if (!deg || sch_pmap_init(&pm, in->people, in->n) != 0)
        goto out;
    sch_count_pairs(&pm, in->met, in->avoid, deg, &excluded);
    lb = sch_lower_bound(in->n, table_size, rounds, deg, excluded);
out:
    sch_pmap_clear(&pm);
    free(deg);
    return lb;
}
