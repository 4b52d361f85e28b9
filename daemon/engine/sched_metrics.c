/* sched_metrics.c -- how good a seating is, in attendee terms.
 *
 * Two passes.  The seating pass walks every person's seats and their
 * tablemates: the objective, lonely seats, distinct contacts, capacities.
 * The pair pass scores every pair of people who share a round, once: the
 * random-seating baselines, who had a possible business contact, and the
 * bound, from a small min-heap of each person's best candidates.  Above
 * SCHED_METRICS_EXACT_MAX people the pair pass would take minutes, so
 * sampled pairs give the baselines and the bound is left unknown.
 *
 * Memory is linear in the people and seats: the seating is regrouped by
 * table (CSR arrays), each person's rounds are one bitset, and the heaps
 * hold at most c_p entries per person.
 */
#include "sched_metrics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MET_NONE UINT32_MAX
#define MET_RNG_SEED 0x6d696e676c65ULL /* "mingle": any fixed value */
/* The heaps' total size is the number of seated pairs (twice); only a
 * schedule with tables of thousands reaches this, and then the bound is
 * not worth that memory. */
#define MET_HEAP_MAX_ENTRIES ((size_t)1 << 25)

struct met_job {
    const struct aff_model *aff;
    const struct pairset *met;
    const struct pairset *avoid;
    const struct sched_round *rounds;
    uint32_t n_rounds;

    uint32_t n;           /* distinct people seated */
    uint32_t *who;        /* local index -> model index */
    uint32_t *local;      /* model index -> local index or MET_NONE */
    uint64_t *presence;   /* [p * words]: bit r = seated in round r */
    size_t words;
    bool everywhere;      /* every round seats all n: no bitset needed */

    /* Tables of all rounds, numbered globally; members as local indices. */
    size_t *tab_start;    /* [n_tabs + 1] into tab_members */
    uint32_t *tab_members;
    uint32_t *tab_slots;  /* [n_tabs]: largest table of its round, less 1 */
    size_t n_tabs;
    size_t *seat_start;   /* [n + 1] into seat_tab: each person's tables */
    size_t *seat_tab;

    double *total;        /* aff_score summed over a person's seats */
    /* c_p: tablemates p could have over all rounds.  Each round counts
     * its largest table, not p's: then the bound is the same for every
     * seating of these rounds, and two schedules' shares compare. */
    uint32_t *capacity;
    uint32_t *business;   /* distinct business contacts seated with */
    uint32_t *conversation;
    bool *possible;       /* had a possible business contact */

    uint64_t seated_pairs, seated_business, seated_interest;
    uint64_t base_pairs, base_business, base_interest; /* weighted */

    double *floor;        /* [n]: see met_heap_offer() */
    size_t *heap_start;   /* [n + 1] into heap */
    uint32_t *heap_len;
    double *heap;
};

static uint64_t met_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void *met_alloc(size_t count, size_t size)
{
    return calloc(count ? count : 1, size);
}

static void met_job_release(struct met_job *j)
{
    free(j->who);
    free(j->local);
    free(j->presence);
    free(j->tab_start);
    free(j->tab_members);
    free(j->tab_slots);
    free(j->seat_start);
    free(j->seat_tab);
    free(j->total);
    free(j->capacity);
    free(j->business);
    free(j->conversation);
    free(j->possible);
    free(j->floor);
    free(j->heap_start);
    free(j->heap_len);
    free(j->heap);
}

/* Numbers the people seated in any round, refusing bad indices and anyone
 * seated twice in one round (their presence bit is already set). */
static int met_number_people(struct met_job *j)
{
    uint32_t count = aff_model_count(j->aff);
    uint32_t *round_of;
    int ret = -ENOMEM;

    j->local = malloc((size_t)(count ? count : 1) * sizeof(*j->local));
    j->who = met_alloc(count, sizeof(*j->who));
    round_of = malloc((size_t)(count ? count : 1) * sizeof(*round_of));
    if (!j->local || !j->who || !round_of)
        goto out;
    for (uint32_t p = 0; p < count; p++) {
        j->local[p] = MET_NONE;
        round_of[p] = MET_NONE;
    }
    ret = -EINVAL;
    for (uint32_t r = 0; r < j->n_rounds; r++) {
        const struct sched_round *rd = &j->rounds[r];

        if (rd->n > 0 && (!rd->people || !rd->table_of))
            goto out;
        for (uint32_t i = 0; i < rd->n; i++) {
            uint32_t p = rd->people[i];

            if (p >= count || rd->table_of[i] >= rd->tables ||
                round_of[p] == r)
                goto out;
            round_of[p] = r;
            if (j->local[p] == MET_NONE) {
                j->local[p] = j->n;
                j->who[j->n++] = p;
            }
        }
    }
    ret = 0;
out:
    free(round_of);
    return ret;
}

/* The score and both facts of a pair from one walk of the tag sets, the
 * same way in every pass so that the seated shares and the baselines
 * agree: a business contact is a match either way, a conversation
 * starter a shared interest. */
static double met_pair(const struct aff_model *m, uint32_t a, uint32_t b,
                       bool *business, bool *talk)
{
    struct aff_parts parts;

    aff_explain(m, a, b, &parts);
    *business = parts.a_offers_b_seeks + parts.b_offers_a_seeks > 0;
    *talk = parts.shared_interests > 0;
    return parts.total;
}

static int met_presence(struct met_job *j)
{
    j->words = ((size_t)j->n_rounds + 63) / 64;
    j->everywhere = true;
    for (uint32_t r = 0; r < j->n_rounds; r++)
        if (j->rounds[r].n != j->n)
            j->everywhere = false;
    if (j->everywhere)
        return 0;
    if (j->words > SIZE_MAX / sizeof(uint64_t) / (j->n ? j->n : 1))
        return -ENOMEM;
    j->presence = met_alloc((size_t)j->n * j->words, sizeof(uint64_t));
    if (!j->presence)
        return -ENOMEM;
    for (uint32_t r = 0; r < j->n_rounds; r++)
        for (uint32_t i = 0; i < j->rounds[r].n; i++) {
            uint32_t p = j->local[j->rounds[r].people[i]];

            j->presence[(size_t)p * j->words + r / 64] |=
                (uint64_t)1 << (r % 64);
        }
    return 0;
}

/* Rounds in which both a and b are seated: a pair's weight in the
 * random-seating baselines, and 0 when they could never have met. */
static uint32_t met_common(const struct met_job *j, uint32_t a, uint32_t b)
{
    const uint64_t *x, *y;
    uint32_t c = 0;

    if (j->everywhere)
        return j->n_rounds;
    x = &j->presence[(size_t)a * j->words];
    y = &j->presence[(size_t)b * j->words];
    for (size_t w = 0; w < j->words; w++)
        c += (uint32_t)__builtin_popcountll(x[w] & y[w]);
    return c;
}

/* Groups every round's seats by table, and every person's seats by
 * person, both by counting sort.  A round's tables are numbered up to its
 * highest used index, so a huge `tables` with few people costs nothing. */
static int met_group_tables(struct met_job *j)
{
    size_t seats = 0, *base, *fill = NULL;
    int ret = -ENOMEM;

    base = met_alloc((size_t)j->n_rounds + 1, sizeof(*base));
    if (!base)
        goto out;
    for (uint32_t r = 0; r < j->n_rounds; r++) {
        uint32_t used = 0;

        for (uint32_t i = 0; i < j->rounds[r].n; i++)
            if (j->rounds[r].table_of[i] + 1 > used)
                used = j->rounds[r].table_of[i] + 1;
        base[r + 1] = base[r] + used;
        seats += j->rounds[r].n;
    }
    j->n_tabs = base[j->n_rounds];
    j->tab_start = met_alloc(j->n_tabs + 1, sizeof(*j->tab_start));
    j->tab_members = met_alloc(seats, sizeof(*j->tab_members));
    j->tab_slots = met_alloc(j->n_tabs, sizeof(*j->tab_slots));
    j->seat_start = met_alloc((size_t)j->n + 1, sizeof(*j->seat_start));
    j->seat_tab = met_alloc(seats, sizeof(*j->seat_tab));
    fill = met_alloc(j->n_tabs > j->n ? j->n_tabs : j->n, sizeof(*fill));
    if (!j->tab_start || !j->tab_members || !j->tab_slots || !j->seat_start ||
        !j->seat_tab || !fill)
        goto out;

    for (uint32_t r = 0; r < j->n_rounds; r++)
        for (uint32_t i = 0; i < j->rounds[r].n; i++) {
            j->tab_start[base[r] + j->rounds[r].table_of[i] + 1]++;
            j->seat_start[j->local[j->rounds[r].people[i]] + 1]++;
        }
    for (uint32_t r = 0; r < j->n_rounds; r++) {
        size_t largest = 0;

        for (size_t t = base[r]; t < base[r + 1]; t++)
            if (j->tab_start[t + 1] > largest)
                largest = j->tab_start[t + 1];
        for (size_t t = base[r]; t < base[r + 1]; t++)
            j->tab_slots[t] = (uint32_t)(largest - 1);
    }
    for (size_t t = 0; t < j->n_tabs; t++)
        j->tab_start[t + 1] += j->tab_start[t];
    for (uint32_t p = 0; p < j->n; p++)
        j->seat_start[p + 1] += j->seat_start[p];

    memcpy(fill, j->tab_start, j->n_tabs * sizeof(*fill));
    for (uint32_t r = 0; r < j->n_rounds; r++)
        for (uint32_t i = 0; i < j->rounds[r].n; i++)
            j->tab_members[fill[base[r] + j->rounds[r].table_of[i]]++] =
                j->local[j->rounds[r].people[i]];
    memcpy(fill, j->seat_start, (size_t)j->n * sizeof(*fill));
    for (size_t t = 0; t < j->n_tabs; t++)
        for (size_t s = j->tab_start[t]; s < j->tab_start[t + 1]; s++)
            j->seat_tab[fill[j->tab_members[s]]++] = t;
    ret = 0;
out:
    free(base);
    free(fill);
    return ret;
}

/* The seating pass.  Each seated pair is scored from both sides, which
 * costs little next to the pair pass and keeps each person's figures in
 * one place.  `stamp` marks tablemates already counted for person p, so
 * contacts are distinct people, however often they sat together. */
static int met_seating(struct met_job *j, struct sched_metrics *out)
{
    uint32_t *stamp = malloc((size_t)(j->n ? j->n : 1) * sizeof(*stamp));

    if (!stamp)
        return -ENOMEM;
    for (uint32_t p = 0; p < j->n; p++)
        stamp[p] = MET_NONE;
    for (uint32_t p = 0; p < j->n; p++) {
        for (size_t s = j->seat_start[p]; s < j->seat_start[p + 1]; s++) {
            size_t t = j->seat_tab[s];
            bool linked = false;

            j->capacity[p] += j->tab_slots[t];
            for (size_t k = j->tab_start[t]; k < j->tab_start[t + 1]; k++) {
                uint32_t q = j->tab_members[k];
                bool bus, talk;
                double score;

                if (q == p)
                    continue;
                score = met_pair(j->aff, j->who[p], j->who[q], &bus, &talk);
                linked |= aff_linked(j->aff, j->who[p], j->who[q]);
                j->total[p] += score;
                if (q > p) {
                    out->affinity_total += score;
                    j->seated_pairs++;
                    j->seated_business += bus;
                    j->seated_interest += talk;
                }
                if (stamp[q] != p) {
                    stamp[q] = p;
                    j->business[p] += bus;
                    j->conversation[p] += talk;
                }
            }
            out->lonely_seats += !linked;
        }
        out->seats += j->seat_start[p + 1] - j->seat_start[p];
    }
    free(stamp);
    return 0;
}

static bool met_allowed(const struct met_job *j, uint32_t a, uint32_t b)
{
    uint32_t x = j->who[a], y = j->who[b];

    return !(j->met && pairset_has(j->met, x, y)) &&
           !(j->avoid && pairset_has(j->avoid, x, y));
}

/* Person p's heap of the best candidate scores: a min-heap of at most
 * c_p entries.  floor[p] is what a newcomer must beat: 0 until the heap
 * is full (only positive scores count), then its root.  The floors sit in
 * one small array because the pair pass reads two per pair and writes
 * rarely. */
static void met_heap_offer(struct met_job *j, uint32_t p, double v)
{
    double *h = &j->heap[j->heap_start[p]];
    size_t cap = j->heap_start[p + 1] - j->heap_start[p];
    size_t len = j->heap_len[p], i = 0;

    if (len < cap) {
        for (i = len; i > 0 && h[(i - 1) / 2] > v; i = (i - 1) / 2)
            h[i] = h[(i - 1) / 2];
        h[i] = v;
        if (++j->heap_len[p] == cap)
            j->floor[p] = h[0];
        return;
    }
    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= len)
            break;
        if (c + 1 < len && h[c + 1] < h[c])
            c++;
        if (h[c] >= v)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
    j->floor[p] = h[0];
}

/* Sizes the heaps: nobody has more distinct candidates than n - 1.  When
 * the bound would need more memory than it is worth, every floor stays
 * infinite and *wanted false.  Returns 0 or -ENOMEM. */
static int met_heaps_new(struct met_job *j, bool *wanted)
{
    size_t total = 0;

    *wanted = false;
    j->floor = met_alloc(j->n, sizeof(*j->floor));
    j->heap_start = met_alloc((size_t)j->n + 1, sizeof(*j->heap_start));
    j->heap_len = met_alloc(j->n, sizeof(*j->heap_len));
    if (!j->floor || !j->heap_start || !j->heap_len)
        return -ENOMEM;
    for (uint32_t p = 0; p < j->n; p++) {
        uint32_t cap = j->capacity[p] < j->n - 1 ? j->capacity[p] : j->n - 1;

        j->heap_start[p] = total;
        total += cap;
        j->floor[p] = cap > 0 ? 0.0 : HUGE_VAL;
    }
    j->heap_start[j->n] = total;
    if (total > MET_HEAP_MAX_ENTRIES) {
        for (uint32_t p = 0; p < j->n; p++)
            j->floor[p] = HUGE_VAL;
        return 0;
    }
    j->heap = met_alloc(total, sizeof(*j->heap));
    if (!j->heap)
        return -ENOMEM;
    *wanted = true;
    return 0;
}

/* The pair pass: every pair of people who share a round, scored once,
 * with the subset model, which keeps everyone's tags in one array: at
 * 2e8 pairs this pass is nearly all the time there is. */
static void met_all_pairs(struct met_job *j, const struct aff_model *sub)
{
    for (uint32_t a = 0; a + 1 < j->n; a++) {
        for (uint32_t b = a + 1; b < j->n; b++) {
            uint32_t w = met_common(j, a, b);
            bool bus, talk, to_a, to_b;
            double v;

            if (w == 0)
                continue;
            v = met_pair(sub, a, b, &bus, &talk);
            j->base_pairs += w;
            j->base_business += bus ? w : 0;
            j->base_interest += talk ? w : 0;
            if (bus && !(j->possible[a] && j->possible[b]) &&
                met_allowed(j, a, b))
                j->possible[a] = j->possible[b] = true;
            to_a = v > j->floor[a];
            to_b = v > j->floor[b];
            if (!(to_a || to_b) || !met_allowed(j, a, b))
                continue;
            if (to_a)
                met_heap_offer(j, a, v);
            if (to_b)
                met_heap_offer(j, b, v);
        }
    }
}

static uint32_t met_random_below(uint64_t *rng, uint32_t n)
{
    return (uint32_t)(((met_rng_next(rng) >> 32) * n) >> 32);
}

/* Above the exact range: the baselines from random pairs, and who had a
 * possible business contact by searching, for those who sat with none, in
 * a random order until one turns up.  The searches share one budget of
 * SCHED_METRICS_SAMPLES pairs, so that an event without offers and seeks
 * does not cost n^2; whoever they do not settle counts as having had no
 * possible contact, and empty_handed is then a lower bound. */
static void met_sampled(struct met_job *j)
{
    uint64_t rng = MET_RNG_SEED;
    uint64_t budget = SCHED_METRICS_SAMPLES;

    for (uint32_t s = 0; s < SCHED_METRICS_SAMPLES; s++) {
        uint32_t a = met_random_below(&rng, j->n);
        uint32_t b = met_random_below(&rng, j->n - 1);
        uint32_t w;
        bool bus, talk;

        b += b >= a;
        w = met_common(j, a, b);
        if (w == 0)
            continue;
        met_pair(j->aff, j->who[a], j->who[b], &bus, &talk);
        j->base_pairs += w;
        j->base_business += bus ? w : 0;
        j->base_interest += talk ? w : 0;
    }
    for (uint32_t p = 0; p < j->n && budget > 0; p++) {
        uint32_t start = met_random_below(&rng, j->n);

        if (j->business[p] > 0)
            continue;
        for (uint32_t k = 0; k < j->n && budget > 0; k++, budget--) {
            uint32_t q = start + k < j->n ? start + k : start + k - j->n;
            bool bus, talk;

            if (q == p || met_common(j, p, q) == 0)
                continue;
            met_pair(j->aff, j->who[p], j->who[q], &bus, &talk);
            if (bus && met_allowed(j, p, q)) {
                j->possible[p] = true;
                break;
            }
        }
    }
}

static double met_lift(uint64_t hits, uint64_t pairs, uint64_t base_hits,
                       uint64_t base_pairs)
{
    if (pairs == 0 || base_hits == 0)
        return 0.0;
    return ((double)hits / (double)pairs) /
           ((double)base_hits / (double)base_pairs);
}

static void met_people_figures(const struct met_job *j,
                               struct sched_metrics *out)
{
    uint64_t bus_sum = 0, talk_sum = 0;

    for (uint32_t p = 0; p < j->n; p++) {
        bus_sum += j->business[p];
        talk_sum += j->conversation[p];
        if (p == 0 || j->business[p] < out->business_min)
            out->business_min = j->business[p];
        if (p == 0 || j->conversation[p] < out->conversation_min)
            out->conversation_min = j->conversation[p];
        if (p == 0 || j->total[p] < out->min_attendee_affinity)
            out->min_attendee_affinity = j->total[p];
        out->empty_handed += j->possible[p] && j->business[p] == 0;
    }
    if (j->n > 0) {
        out->business_mean = (double)bus_sum / j->n;
        out->conversation_mean = (double)talk_sum / j->n;
    }
}

int sched_metrics_compute(const struct aff_model *aff,
                          const struct pairset *met_before,
                          const struct pairset *avoid,
                          const struct sched_round *rounds, uint32_t n_rounds,
                          struct sched_metrics *out)
{
    struct met_job j = {.aff = aff, .met = met_before, .avoid = avoid,
                        .rounds = rounds, .n_rounds = n_rounds};
    struct sched_metrics m = {0};
    struct aff_model *sub = NULL;
    bool bound = false;
    int ret = -EINVAL;

    if (!aff || !out || (n_rounds > 0 && !rounds))
        goto out;
    ret = met_number_people(&j);
    if (ret < 0)
        goto out;
    ret = met_presence(&j);
    if (ret == 0)
        ret = met_group_tables(&j);
    if (ret < 0)
        goto out;
    ret = -ENOMEM;
    j.total = met_alloc(j.n, sizeof(*j.total));
    j.capacity = met_alloc(j.n, sizeof(*j.capacity));
    j.business = met_alloc(j.n, sizeof(*j.business));
    j.conversation = met_alloc(j.n, sizeof(*j.conversation));
    j.possible = met_alloc(j.n, sizeof(*j.possible));
    if (!j.total || !j.capacity || !j.business || !j.conversation ||
        !j.possible)
        goto out;
    ret = met_seating(&j, &m);
    if (ret < 0)
        goto out;

    if (j.n <= SCHED_METRICS_EXACT_MAX) {
        sub = aff_model_subset(aff, j.who, j.n);
        ret = sub ? met_heaps_new(&j, &bound) : -ENOMEM;
        if (ret < 0)
            goto out;
        met_all_pairs(&j, sub);
    } else {
        met_sampled(&j);
    }
    if (bound) {
        for (size_t i = 0; i < j.heap_start[j.n]; i++)
            m.upper_bound += j.heap[i];
        m.upper_bound /= 2;
    }

    m.attendees = j.n;
    m.objective = m.affinity_total -
                  aff_lonely_penalty(aff) * (double)m.lonely_seats;
    if (m.upper_bound > 0.0)
        m.bound_share = m.objective / m.upper_bound;
    m.business_lift = met_lift(j.seated_business, j.seated_pairs,
                               j.base_business, j.base_pairs);
    m.conversation_lift = met_lift(j.seated_interest, j.seated_pairs,
                                   j.base_interest, j.base_pairs);
    met_people_figures(&j, &m);
    *out = m;
    ret = 0;
out:
    aff_model_free(sub);
    met_job_release(&j);
    return ret;
}
