/* sched.c -- scheduler state, its exact bookkeeping and the public entry
 * points.  The search phases live in sched_search.c, the people map, met
 * rows and lower bound in sched_bound.c.
 *
 * Costs are kept exact under every move rather than recomputed: a swap
 * touches two tables of one round, i.e. 4 (k - 1) pairs, and for each of
 * them only its meetings across rounds matter: one lookup in the pair
 * count table on small instances, a row compare and a met search else.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "design.h"
#include "sched_int.h"

/* ---- random numbers: xoshiro256** seeded through splitmix64 ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void rng_seed(struct sch_rng *g, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        g->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t sch_rand(struct sch_rng *g)
{
    uint64_t *s = g->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t sch_below(struct sch_rng *g, uint32_t bound)
{
    return (uint32_t)(((sch_rand(g) >> 32) * bound) >> 32);
}

double sch_unit(struct sch_rng *g)
{
    return (double)(sch_rand(g) >> 11) * 0x1.0p-53;
}

/* ---- budget and clock ---- */

#define SCH_CHECK_EVERY 4096   /* evaluations between clock reads */
#define SCH_PROGRESS_STEPS 100 /* progress reports per budget */

static bool past(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

void sch_tick(struct sch *s, uint64_t units)
{
    s->work += units;
    if (s->work < s->next_check)
        return;
    s->next_check = s->work + SCH_CHECK_EVERY;
    if (!s->stop && past(&s->deadline))
        s->stop = true;
    if (s->progress && s->work >= s->next_progress) {
        s->next_progress = s->work + s->budget / SCH_PROGRESS_STEPS;
        double done = s->budget ? (double)s->work / (double)s->budget : 1;
        s->progress(s->progress_ctx, done < 1 ? done : 1);
    }
}

/* ---- pair queries ---- */

double sch_aff(const struct sch *s, uint32_t a, uint32_t b)
{
    return aff_score(s->aff, s->pid[a], s->pid[b]);
}

bool sch_met(const struct sch *s, uint32_t a, uint32_t b)
{
    if (!(s->flags[a] & SCH_HAS_MET) || !(s->flags[b] & SCH_HAS_MET))
        return false;
    const uint32_t *lo = s->met_adj + s->met_off[a];
    const uint32_t *end = s->met_adj + s->met_off[a + 1], *hi = end;
    while (lo < hi) {
        const uint32_t *mid = lo + (hi - lo) / 2;
        if (*mid < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < end && *lo == b;
}

bool sch_avoid(const struct sch *s, uint32_t a, uint32_t b)
{
    return (s->flags[a] & SCH_HAS_AVOID) && (s->flags[b] & SCH_HAS_AVOID) &&
           pairset_has(s->avoid, s->pid[a], s->pid[b]);
}

uint32_t sch_together(const struct sch *s, uint32_t a, uint32_t b,
                      uint32_t lim, uint32_t skip)
{
    const uint32_t *ra = s->tp + (size_t)a * s->R;
    const uint32_t *rb = s->tp + (size_t)b * s->R;
    uint32_t c = 0;
    for (uint32_t r = 0; r < lim; r++)
        c += ra[r] == rb[r];
    if (skip < lim && ra[skip] == rb[skip])
        c--;
    return c;
}

int64_t sch_meet_cost(const struct sch *s, uint32_t a, uint32_t b,
                      uint32_t r, uint32_t lim)
{
    int64_t c = sch_avoid(s, a, b) ? SCH_AVOID_COST : 0;
    if (sch_met(s, a, b))
        return c + 1;
    return c + (sch_together(s, a, b, lim, r) > 0);
}

/* ---- conflict set and pair accounting ---- */

static void cset_update(struct sch *s, size_t pos)
{
    bool in = s->cidx[pos] != UINT32_MAX;
    if (s->bad[pos] && !in) {
        s->cidx[pos] = s->ccount;
        s->cset[s->ccount++] = (uint32_t)pos;
    } else if (!s->bad[pos] && in) {
        uint32_t i = s->cidx[pos], last = s->cset[--s->ccount];
        s->cset[i] = last;
        s->cidx[last] = i;
        s->cidx[pos] = UINT32_MAX;
    }
}

/* Adds (sign 1) or removes (sign -1) everything pair {a, b} contributes
 * under the current seating: repeats, avoid violations and the bad counts
 * of both people in each round they share. */
static void pair_account(struct sch *s, uint32_t a, uint32_t b, int sign)
{
    uint32_t R = s->R;
    uint32_t cnt = sch_together(s, a, b, R, R);
    if (cnt == 0)
        return;
    bool av = sch_avoid(s, a, b);
    int64_t m = sch_met(s, a, b);
    s->repeats += sign * (m + cnt - 1);
    if (av)
        s->avoid_viol += sign * (int64_t)cnt;
    if (!av && m + cnt < 2)
        return;
    const uint32_t *ra = s->tp + (size_t)a * R, *rb = s->tp + (size_t)b * R;
    for (uint32_t r = 0; r < R; r++) {
        if (ra[r] != rb[r])
            continue;
        size_t pa = (size_t)a * R + r, pb = (size_t)b * R + r;
        s->bad[pa] += (uint32_t)sign;
        s->bad[pb] += (uint32_t)sign;
        cset_update(s, pa);
        cset_update(s, pb);
    }
}

void sch_rebuild(struct sch *s)
{
    uint32_t n = s->n, R = s->R, T = s->T;
    for (uint32_t r = 0; r < R; r++) {
        uint32_t *st = s->start + (size_t)r * (T + 1);
        memset(st, 0, sizeof(*st) * (T + 1));
        for (uint32_t i = 0; i < n; i++)
            st[s->tp[(size_t)i * R + r] + 1]++;
        for (uint32_t t = 0; t < T; t++)
            st[t + 1] += st[t];
        uint32_t *mem = s->mem + (size_t)r * n;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t t = s->tp[(size_t)i * R + r];
            /* st[t] is advanced while filling, then restored below. */
            s->slot[(size_t)i * R + r] = st[t];
            mem[st[t]++] = i;
        }
        for (uint32_t t = T; t > 0; t--)
            st[t] = st[t - 1];
        st[0] = 0;
    }
    s->repeats = 0;
    s->avoid_viol = 0;
    s->total = 0;
    s->ccount = 0;
    memset(s->bad, 0, sizeof(*s->bad) * (size_t)n * R);
    memset(s->asum, 0, sizeof(*s->asum) * (size_t)n * R);
    for (size_t i = 0; i < (size_t)n * R; i++)
        s->cidx[i] = UINT32_MAX;
    if (s->pc) {
        memset(s->pc, 0, sizeof(*s->pc) * (size_t)n * n);
        for (uint32_t a = 0; a < n; a++)
            for (size_t x = s->met_off[a]; x < s->met_off[a + 1]; x++)
                s->pc[(size_t)a * n + s->met_adj[x]] = 1;
    }
    for (uint32_t r = 0; r < R; r++) {
        const uint32_t *st = s->start + (size_t)r * (T + 1);
        const uint32_t *mem = s->mem + (size_t)r * n;
        for (uint32_t t = 0; t < T; t++) {
            for (uint32_t x = st[t]; x < st[t + 1]; x++) {
                for (uint32_t y = x + 1; y < st[t + 1]; y++) {
                    uint32_t a = mem[x], b = mem[y];
                    if (s->pc) {
                        s->pc[(size_t)a * n + b]++;
                        s->pc[(size_t)b * n + a]++;
                    }
                    if (s->aff) {
                        double f = sch_aff(s, a, b);
                        s->asum[(size_t)a * R + r] += f;
                        s->asum[(size_t)b * R + r] += f;
                        s->total += f;
                    }
                    /* Each pair once: at the first round it meets. */
                    uint32_t a0 = a < b ? a : b, b0 = a < b ? b : a;
                    if (sch_together(s, a0, b0, r, R) == 0)
                        pair_account(s, a0, b0, 1);
                }
            }
        }
    }
}

/* ---- moves ---- */

/* Cost change for u leaving table `from` (where v arrives) in round r,
 * from the pair counts: u's pairs there lose a meeting, v's gain one. */
static int64_t pc_leave(const struct sch *s, uint32_t u, uint32_t v,
                        const uint32_t *m, uint32_t len)
{
    const uint16_t *pu = s->pc + (size_t)u * s->n;
    const uint16_t *pv = s->pc + (size_t)v * s->n;
    int64_t d = 0;
    for (uint32_t x = 0; x < len; x++) {
        uint32_t w = m[x];
        if (w == u)
            continue;
        d += (pv[w] >= 1) - (pu[w] >= 2);
        if (s->flags[w] & SCH_HAS_AVOID)
            d += (sch_avoid(s, v, w) - sch_avoid(s, u, w)) * SCH_AVOID_COST;
    }
    return d;
}

int64_t sch_swap_dcost(const struct sch *s, uint32_t u, uint32_t v,
                       uint32_t r)
{
    uint32_t R = s->R, T = s->T;
    const uint32_t *st = s->start + (size_t)r * (T + 1);
    const uint32_t *mem = s->mem + (size_t)r * s->n;
    uint32_t a = s->tp[(size_t)u * R + r], b = s->tp[(size_t)v * R + r];
    if (s->pc)
        return pc_leave(s, u, v, mem + st[a], st[a + 1] - st[a]) +
               pc_leave(s, v, u, mem + st[b], st[b + 1] - st[b]);
    int64_t d = 0;
    for (uint32_t x = st[a]; x < st[a + 1]; x++) {
        uint32_t w = mem[x];
        if (w == u)
            continue;
        d += sch_meet_cost(s, v, w, r, R) - sch_meet_cost(s, u, w, r, R);
    }
    for (uint32_t x = st[b]; x < st[b + 1]; x++) {
        uint32_t w = mem[x];
        if (w == v)
            continue;
        d += sch_meet_cost(s, u, w, r, R) - sch_meet_cost(s, v, w, r, R);
    }
    return d;
}

double sch_swap_daff(const struct sch *s, uint32_t u, uint32_t v, uint32_t r)
{
    if (!s->aff)
        return 0;
    uint32_t R = s->R, T = s->T;
    const uint32_t *st = s->start + (size_t)r * (T + 1);
    const uint32_t *mem = s->mem + (size_t)r * s->n;
    uint32_t a = s->tp[(size_t)u * R + r], b = s->tp[(size_t)v * R + r];
    double d = -s->asum[(size_t)u * R + r] - s->asum[(size_t)v * R + r];
    for (uint32_t x = st[a]; x < st[a + 1]; x++)
        if (mem[x] != u)
            d += sch_aff(s, v, mem[x]);
    for (uint32_t x = st[b]; x < st[b + 1]; x++)
        if (mem[x] != v)
            d += sch_aff(s, u, mem[x]);
    return d;
}

/* Calls pair_account(sign) for every pair whose meetings a swap of u and v
 * in round r changes: u and v with everyone else at their two tables. */
static void account_swap_pairs(struct sch *s, uint32_t u, uint32_t v,
                               uint32_t r, int sign)
{
    uint32_t R = s->R, T = s->T;
    const uint32_t *st = s->start + (size_t)r * (T + 1);
    const uint32_t *mem = s->mem + (size_t)r * s->n;
    uint32_t tabs[2] = {s->tp[(size_t)u * R + r], s->tp[(size_t)v * R + r]};
    for (int k = 0; k < 2; k++) {
        for (uint32_t x = st[tabs[k]]; x < st[tabs[k] + 1]; x++) {
            uint32_t w = mem[x];
            if (w == u || w == v)
                continue;
            pair_account(s, u, w, sign);
            pair_account(s, v, w, sign);
        }
    }
}

void sch_swap(struct sch *s, uint32_t u, uint32_t v, uint32_t r)
{
    uint32_t R = s->R, T = s->T;
    size_t pu = (size_t)u * R + r, pv = (size_t)v * R + r;
    const uint32_t *st = s->start + (size_t)r * (T + 1);
    uint32_t *mem = s->mem + (size_t)r * s->n;
    uint32_t a = s->tp[pu], b = s->tp[pv];

    account_swap_pairs(s, u, v, r, -1);
    if (s->aff) {
        double nu = 0, nv = 0;
        for (uint32_t x = st[a]; x < st[a + 1]; x++) {
            uint32_t w = mem[x];
            if (w == u)
                continue;
            double fu = sch_aff(s, u, w), fv = sch_aff(s, v, w);
            s->asum[(size_t)w * R + r] += fv - fu;
            nv += fv;
        }
        for (uint32_t x = st[b]; x < st[b + 1]; x++) {
            uint32_t w = mem[x];
            if (w == v)
                continue;
            double fu = sch_aff(s, u, w), fv = sch_aff(s, v, w);
            s->asum[(size_t)w * R + r] += fu - fv;
            nu += fu;
        }
        s->total += nu + nv - s->asum[pu] - s->asum[pv];
        s->asum[pu] = nu;
        s->asum[pv] = nv;
    }
    if (s->pc) {
        uint16_t *cu = s->pc + (size_t)u * s->n, *cv = s->pc + (size_t)v * s->n;
        for (uint32_t x = st[a]; x < st[a + 1]; x++) {
            uint32_t w = mem[x];
            if (w == u)
                continue;
            s->pc[(size_t)w * s->n + u] = --cu[w];
            s->pc[(size_t)w * s->n + v] = ++cv[w];
        }
        for (uint32_t x = st[b]; x < st[b + 1]; x++) {
            uint32_t w = mem[x];
            if (w == v)
                continue;
            s->pc[(size_t)w * s->n + v] = --cv[w];
            s->pc[(size_t)w * s->n + u] = ++cu[w];
        }
    }
    uint32_t su = s->slot[pu], sv = s->slot[pv];
    mem[su] = v;
    mem[sv] = u;
    s->slot[pu] = sv;
    s->slot[pv] = su;
    s->tp[pu] = b;
    s->tp[pv] = a;
    account_swap_pairs(s, u, v, r, 1);
}

int sch_use_pair_counts(struct sch *s)
{
    if (s->pc || s->n > SCH_PC_MAX_PEOPLE)
        return 0;
    /* Counts reach at most R + 1, so SCHED_MAX_ROUNDS fits 16 bits. */
    s->pc = malloc((size_t)s->n * s->n * sizeof(*s->pc));
    if (!s->pc)
        return -ENOMEM;
    sch_rebuild(s);
    return 0;
}

static int64_t pair_cost(bool av, bool m, uint32_t cnt)
{
    if (cnt == 0)
        return 0;
    return (av ? SCH_AVOID_COST * cnt : 0) + (int64_t)m + cnt - 1;
}

int64_t sch_relabel_dcost(struct sch *s, uint32_t u, uint32_t v)
{
    uint32_t R = s->R, T = s->T, n = s->n;
    int64_t d = 0;
    if (++s->stamp == 0) {
        memset(s->mark, 0, sizeof(*s->mark) * n);
        s->stamp = 1;
    }
    s->mark[u] = s->mark[v] = s->stamp;
    for (uint32_t r = 0; r < R; r++) {
        const uint32_t *st = s->start + (size_t)r * (T + 1);
        const uint32_t *mem = s->mem + (size_t)r * n;
        uint32_t tabs[2] = {s->tp[(size_t)u * R + r], s->tp[(size_t)v * R + r]};
        if (tabs[0] == tabs[1])
            continue;
        for (int k = 0; k < 2; k++) {
            for (uint32_t x = st[tabs[k]]; x < st[tabs[k] + 1]; x++) {
                uint32_t w = mem[x];
                if (s->mark[w] == s->stamp)
                    continue;
                s->mark[w] = s->stamp;
                bool au = sch_avoid(s, u, w), av = sch_avoid(s, v, w);
                bool mu = sch_met(s, u, w), mv = sch_met(s, v, w);
                if (!au && !av && !mu && !mv)
                    continue; /* the design's own structure just moves */
                uint32_t cu = sch_together(s, u, w, R, R);
                uint32_t cv = sch_together(s, v, w, R, R);
                d += pair_cost(au, mu, cv) + pair_cost(av, mv, cu) -
                     pair_cost(au, mu, cu) - pair_cost(av, mv, cv);
            }
        }
    }
    return d;
}

double sch_relabel_daff(const struct sch *s, uint32_t u, uint32_t v)
{
    double d = 0;
    for (uint32_t r = 0; r < s->R; r++)
        if (s->tp[(size_t)u * s->R + r] != s->tp[(size_t)v * s->R + r])
            d += sch_swap_daff(s, u, v, r);
    return d;
}

void sch_relabel(struct sch *s, uint32_t u, uint32_t v)
{
    for (uint32_t r = 0; r < s->R; r++)
        if (s->tp[(size_t)u * s->R + r] != s->tp[(size_t)v * s->R + r])
            sch_swap(s, u, v, r);
}

/* ---- solve ---- */

/* Work budget in move evaluations: enough for the search to settle on
 * instances of every size, small ones getting a floor.  Above
 * SCH_WORK_TAPER_PEOPLE the work per seat shrinks like n^-0.75: a move
 * costs more there (cache misses), and 100,000 people must still finish
 * well inside the default time limit. */
#define SCH_WORK_PER_SEAT 200.0
#define SCH_WORK_TAPER_PEOPLE 2000.0
#define SCH_WORK_FLOOR 300000.0
#define SCH_DESIGN_NODES 2000000
#define SCH_DESIGN_MAX_PEOPLE 500
#define SCH_DESIGN_FEWER 3       /* rounds a partial design may lack */
/* Open tables greedy weighs for each person at effort 1 (all of them up to
 * this many); lower effort samples fewer, down to the floor: live planning
 * runs greedy over every look-ahead round within a few tens of ms. */
#define SCH_GREEDY_TABLES 48
#define SCH_GREEDY_TABLES_MIN 8

static void sch_free(struct sch *s)
{
    free(s->flags);
    free(s->met_off);
    free(s->met_adj);
    free(s->met_mark);
    free(s->tp);
    free(s->slot);
    free(s->mem);
    free(s->start);
    free(s->asum);
    free(s->bad);
    free(s->cset);
    free(s->cidx);
    free(s->mark);
    free(s->pc);
}

static int sch_alloc(struct sch *s)
{
    /* Never malloc(0): its NULL would read as ENOMEM. */
    size_t n = s->n ? s->n : 1, nr = n * s->R;
    s->flags = calloc(n, 1);
    s->tp = malloc(nr * sizeof(*s->tp));
    s->slot = malloc(nr * sizeof(*s->slot));
    s->mem = malloc(nr * sizeof(*s->mem));
    s->start = malloc((size_t)s->R * (s->T + 1) * sizeof(*s->start));
    s->asum = malloc(nr * sizeof(*s->asum));
    s->bad = malloc(nr * sizeof(*s->bad));
    s->cset = malloc(nr * sizeof(*s->cset));
    s->cidx = malloc(nr * sizeof(*s->cidx));
    s->mark = calloc(n, sizeof(*s->mark));
    s->met_mark = calloc(n, sizeof(*s->met_mark));
    if (!s->flags || !s->tp || !s->slot || !s->mem || !s->start ||
        !s->asum || !s->bad || !s->cset || !s->cidx || !s->mark ||
        !s->met_mark)
        return -ENOMEM;
    return 0;
}

/* Worth a design: each person must meet at least half of everyone, yet
 * no one needs more new partners than exist. */
static bool wants_design(uint32_t n, uint32_t k, uint32_t R)
{
    uint32_t smallest = n / sched_table_count(n, k);
    return (uint64_t)R * (k - 1) * 2 >= (uint64_t)(n - 1) &&
           (uint64_t)R * (smallest - 1) <= (uint64_t)(n - 1);
}

/* Seats positions for the first `rounds` rounds as design_build placed
 * them, if its table sizes are what ours must be.  Returns true when the
 * design was taken. */
static bool take_design(struct sch *s, uint32_t k, uint32_t rounds,
                        uint64_t seed, uint64_t nodes)
{
    uint32_t *design = NULL;
    uint32_t *count = NULL;
    bool ok = false;
    uint32_t n = s->n, R = s->R, T = s->T;
    if (design_build(n, k, rounds, seed, nodes, &design) != 0)
        return false;
    count = malloc(T * sizeof(*count));
    if (!count)
        goto out;
    uint32_t lo = n / T, hi = lo + (n % T != 0);
    for (uint32_t r = 0; r < rounds; r++) {
        memset(count, 0, T * sizeof(*count));
        for (uint32_t i = 0; i < n; i++) {
            uint32_t t = design[(size_t)r * n + i];
            if (t >= T)
                goto out;
            count[t]++;
        }
        for (uint32_t t = 0; t < T; t++)
            if (count[t] < lo || count[t] > hi)
                goto out;
    }
    for (uint32_t r = 0; r < rounds; r++)
        for (uint32_t i = 0; i < n; i++)
            s->tp[(size_t)i * R + r] = design[(size_t)r * n + i];
    ok = true;
out:
    free(count);
    free(design);
    return ok;
}

static int fill_result(const struct sch *s, struct sched_result *res)
{
    uint32_t n = s->n, R = s->R, T = s->T;
    res->n = n;
    res->rounds = R;
    res->tables = T;
    size_t seats = (size_t)n * R;
    res->table_of = malloc((seats > 0 ? seats : 1) * sizeof(*res->table_of));
    if (!res->table_of)
        return -ENOMEM;
    for (uint32_t r = 0; r < R; r++)
        for (uint32_t i = 0; i < n; i++)
            res->table_of[(size_t)r * n + i] = s->tp[(size_t)i * R + r];
    res->repeat_pairs = (uint64_t)s->repeats;
    res->repeat_lower_bound = s->lower_bound;
    res->avoid_violations = (uint64_t)s->avoid_viol;
    res->affinity_total = s->total;
    res->min_attendee_affinity = 0;
    for (uint32_t i = 0; i < n; i++) {
        double f = 0;
        for (uint32_t r = 0; r < R; r++)
            f += s->asum[(size_t)i * R + r];
        if (i == 0 || f < res->min_attendee_affinity)
            res->min_attendee_affinity = f;
    }
    res->used_design = s->used_design;
    res->time_limit_hit = s->stop;
    return 0;
}

static int check_params(const struct sched_input *in,
                        const struct sched_params *p, struct sched_result **out)
{
    if (!in || !p || !out)
        return -EINVAL;
    if (p->table_size < 2 || p->rounds < 1 || p->rounds > SCHED_MAX_ROUNDS)
        return -EINVAL;
    if (in->n > SCHED_MAX_PEOPLE || (in->n > 0 && !in->people))
        return -EINVAL;
    if (!(p->effort >= 0) || !isfinite(p->effort))
        return -EINVAL;
    return 0;
}

int sched_solve(const struct sched_input *in, const struct sched_params *p,
                struct sched_result **out)
{
    struct sch s = {0};
    struct sch_pmap pm = {0};
    uint32_t *deg = NULL;
    struct sched_result *res = NULL;
    uint64_t excluded;
    int rc = check_params(in, p, out);
    if (rc != 0)
        return rc;

    s.n = in->n;
    s.R = p->rounds;
    s.T = sched_table_count(in->n, p->table_size);
    s.pid = in->people;
    s.met = in->met;
    s.avoid = in->avoid;
    s.aff = in->aff;
    s.progress = p->progress;
    s.progress_ctx = p->progress_ctx;
    rng_seed(&s.rng, p->seed);

    res = calloc(1, sizeof(*res));
    deg = calloc(s.n ? s.n : 1, sizeof(*deg));
    if (!res || !deg) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = sch_pmap_init(&pm, in->people, in->n)) != 0)
        goto out;
    if ((rc = sch_alloc(&s)) != 0)
        goto out;
    if ((rc = sch_build_met_adj(&s, &pm)) != 0)
        goto out;
    sch_count_seated_pairs(&s, &pm, deg, &excluded);
    s.deg = deg;
    s.lower_bound = sch_lower_bound(s.n, p->table_size, s.R, deg, excluded);

    double effort = p->effort > 0 ? p->effort : 1.0;
    uint32_t limit_ms = p->time_limit_ms ? p->time_limit_ms
                                         : sched_default_time_limit_ms(s.n);
    clock_gettime(CLOCK_MONOTONIC, &s.deadline);
    s.deadline.tv_sec += limit_ms / 1000;
    s.deadline.tv_nsec += (long)(limit_ms % 1000) * 1000000L;
    if (s.deadline.tv_nsec >= 1000000000L) {
        s.deadline.tv_sec++;
        s.deadline.tv_nsec -= 1000000000L;
    }
    double per_seat = SCH_WORK_PER_SEAT;
    if (s.n > SCH_WORK_TAPER_PEOPLE)
        per_seat *= pow(SCH_WORK_TAPER_PEOPLE / s.n, 0.75);
    s.budget = (uint64_t)(effort * (SCH_WORK_FLOOR + per_seat * s.n * s.R));
    s.greedy_tables = effort >= 1 ? SCH_GREEDY_TABLES
                      : (uint32_t)(SCH_GREEDY_TABLES * effort);
    if (s.greedy_tables < SCH_GREEDY_TABLES_MIN)
        s.greedy_tables = SCH_GREEDY_TABLES_MIN;
    s.next_check = SCH_CHECK_EVERY;

    /* A design for all rounds, else for a few rounds less: the search
     * then only has to extend a repeat-free start. */
    uint32_t designed = 0;
    if (s.n > 0 && s.T > 1 && s.n <= SCH_DESIGN_MAX_PEOPLE &&
        wants_design(s.n, p->table_size, s.R)) {
        uint64_t nodes = (uint64_t)(effort * SCH_DESIGN_NODES);
        for (uint32_t r = s.R; r >= 2 && r + SCH_DESIGN_FEWER >= s.R; r--) {
            if (take_design(&s, p->table_size, r, p->seed, nodes)) {
                designed = r;
                break;
            }
            nodes /= 4;
        }
    }
    s.used_design = designed > 0;
    rc = sch_search(&s, designed);
    if (rc != 0)
        goto out;
    /* The incremental affinity sums drift by rounding; report exact ones. */
    sch_rebuild(&s);
    if (s.avoid_viol > 0) {
        /* Seating an avoid pair frees a partner: bound repeats without
         * assuming avoid pairs stay apart, so it holds for this result. */
        memset(deg, 0, s.n * sizeof(*deg));
        sch_count_pairs(&pm, in->met, NULL, deg, &excluded);
        s.lower_bound = sch_lower_bound(s.n, p->table_size, s.R, deg,
                                        excluded);
    }
    if ((rc = fill_result(&s, res)) != 0)
        goto out;
    if (s.progress)
        s.progress(s.progress_ctx, 1.0);
    *out = res;
    res = NULL;
out:
    sched_result_free(res);
    sch_pmap_clear(&pm);
    free(deg);
    sch_free(&s);
    return rc;
}

uint32_t sched_default_time_limit_ms(uint32_t n)
{
    double ms = SCHED_TIME_PER_SQRT_PERSON_MS * sqrt((double)n);
    if (ms < SCHED_TIME_FLOOR_MS)
        return SCHED_TIME_FLOOR_MS;
    return ms > SCHED_TIME_CAP_MS ? SCHED_TIME_CAP_MS : (uint32_t)ms;
}

uint32_t sched_default_threads(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        return 1;
    return cpus > SCHED_THREADS_MAX ? SCHED_THREADS_MAX : (uint32_t)cpus;
}

struct sched_result *sched_result_dup(const struct sched_result *res)
{
    struct sched_result *d = malloc(sizeof(*d));
    size_t seats = (size_t)res->n * res->rounds;
    if (!d)
        return NULL;
    *d = *res;
    d->table_of = malloc((seats ? seats : 1) * sizeof(*d->table_of));
    if (!d->table_of) {
        free(d);
        return NULL;
    }
    memcpy(d->table_of, res->table_of, seats * sizeof(*d->table_of));
    return d;
}

void sched_result_free(struct sched_result *res)
{
    if (!res)
        return;
    free(res->table_of);
    free(res);
}
