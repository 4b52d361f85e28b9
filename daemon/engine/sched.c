/* sched.c -- the search state and its exact bookkeeping: random numbers,
 * the work and time budget, pair queries, and the moves (a swap in one
 * round, a relabel across all) with their cost and objective changes.
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

#include "sched_int.h"

/* ---- random numbers: xoshiro256** seeded through splitmix64 ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void sch_seed(struct sch_rng *g, uint64_t seed)
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

#define SCH_PROGRESS_EVERY 16  /* clock reads between progress reports */

static double elapsed(const struct timespec *from, const struct timespec *to)
{
    return (double)(to->tv_sec - from->tv_sec) +
           (double)(to->tv_nsec - from->tv_nsec) * 1e-9;
}

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
    if (!s->stop && s->cancel && atomic_load(s->cancel)) {
        s->stop = true;
        s->cancelled = true;
    }
    if (!s->stop && past(&s->deadline))
        s->stop = true;
    if (s->progress && s->work >= s->next_progress) {
        s->next_progress = s->work + SCH_CHECK_EVERY * SCH_PROGRESS_EVERY;
        double done;
        if (s->budget) {
            done = (double)s->work / (double)s->budget;
        } else {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            done = elapsed(&s->begun, &now) / elapsed(&s->begun, &s->deadline);
        }
        s->progress(s->progress_ctx, done < 1 ? done : 1);
    }
}

/* ---- pair queries ---- */

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

/* What pair_account() adds for every pair, in two passes per person over
 * their tables: first count each tablemate's meetings across all rounds,
 * then charge the pairs that cost, once, and mark their rounds.  Walking
 * back through the rounds for every pair instead made a rebuild grow with
 * the square of the rounds (5,000 people for 1,000 rounds: tens of
 * seconds). */
static void account_person(struct sch *s, uint32_t a, int pass)
{
    uint32_t R = s->R;
    for (uint32_t r = 0; r < R; r++) {
        const uint32_t *st = s->start + (size_t)r * (s->T + 1);
        const uint32_t *mem = s->mem + (size_t)r * s->n;
        uint32_t t = s->tp[(size_t)a * R + r];
        for (uint32_t x = st[t]; x < st[t + 1]; x++) {
            uint32_t b = mem[x];
            if (b <= a)
                continue;
            if (pass == 0) {
                if (s->mark[b] != s->stamp) {
                    s->mark[b] = s->stamp;
                    s->cnt[b] = 0;
                }
                s->cnt[b]++;
                continue;
            }
            uint32_t c = s->cnt[b];
            bool av = sch_avoid(s, a, b);
            int64_t m = sch_met(s, a, b);
            if (s->mark[b] == s->stamp) {
                /* Charged once: the stamp moves on below this person's. */
                s->mark[b] = s->stamp - 1;
                s->repeats += m + c - 1;
                if (av)
                    s->avoid_viol += (int64_t)c;
            }
            if (av || m + c >= 2) {
                size_t pa = (size_t)a * R + r, pb = (size_t)b * R + r;
                s->bad[pa]++;
                s->bad[pb]++;
                cset_update(s, pa);
                cset_update(s, pb);
            }
        }
    }
}

static void account_all(struct sch *s)
{
    for (uint32_t a = 0; a < s->n; a++) {
        /* Two stamps per person: the second pass steps a mark back. */
        if (s->stamp >= UINT32_MAX - 2) {
            memset(s->mark, 0, sizeof(*s->mark) * s->n);
            s->stamp = 0;
        }
        s->stamp += 2;
        account_person(s, a, 0);
        account_person(s, a, 1);
    }
}

void sch_rebuild(struct sch *s)
{
    uint32_t n = s->n, R = s->R, T = s->T;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
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
    memset(s->nl, 0, sizeof(*s->nl) * (size_t)n * R);
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
                        if (sch_link(s, a, b)) {
                            s->nl[(size_t)a * R + r]++;
                            s->nl[(size_t)b * R + r]++;
                        }
                    }
                }
            }
        }
    }
    account_all(s);
    s->lonely = 0;
    for (size_t i = 0; i < (size_t)n * R; i++)
        s->lonely += s->nl[i] == 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s->rebuild_s = elapsed(&t0, &t1);
    s->exact = s->wt == NULL;
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

/* Objective change at one table of round r when `out` leaves it for `in`:
 * the pairs' affinity, the tablemates' lonely seats made or undone, and
 * the arriving person's links there (*links).  With the shared tables it
 * reads two rows of each, the hottest loop of the search. */
static double leave_dobj(const struct sch *s, uint32_t out, uint32_t in,
                         uint32_t r, const uint32_t *m, uint32_t len,
                         uint32_t *links)
{
    double d = 0;
    int64_t lonely = 0;
    uint32_t got = 0, R = s->R;
    if (s->wt) {
        const float *wi = s->wt + (size_t)in * s->n;
        const float *wo = s->wt + (size_t)out * s->n;
        const uint8_t *ki = s->lk + (size_t)in * s->n;
        const uint8_t *ko = s->lk + (size_t)out * s->n;
        for (uint32_t x = 0; x < len; x++) {
            uint32_t w = m[x];
            if (w == out)
                continue;
            d += (double)wi[w] - (double)wo[w];
            uint32_t li = ki[w], lo = ko[w];
            got += li;
            if (li != lo) {
                uint32_t before = s->nl[(size_t)w * R + r];
                lonely += (before + li - lo == 0) - (before == 0);
            }
        }
    } else {
        for (uint32_t x = 0; x < len; x++) {
            uint32_t w = m[x];
            if (w == out)
                continue;
            d += sch_aff(s, in, w) - sch_aff(s, out, w);
            bool li = sch_link(s, in, w), lo = sch_link(s, out, w);
            got += li;
            if (li != lo) {
                uint32_t before = s->nl[(size_t)w * R + r];
                lonely += (before + li - lo == 0) - (before == 0);
            }
        }
    }
    *links = got;
    return d - s->penalty * (double)lonely;
}

double sch_swap_dobj(const struct sch *s, uint32_t u, uint32_t v, uint32_t r)
{
    if (!s->aff)
        return 0;
    uint32_t R = s->R, T = s->T;
    const uint32_t *st = s->start + (size_t)r * (T + 1);
    const uint32_t *mem = s->mem + (size_t)r * s->n;
    size_t pu = (size_t)u * R + r, pv = (size_t)v * R + r;
    uint32_t a = s->tp[pu], b = s->tp[pv], lv, lu;
    double d = leave_dobj(s, u, v, r, mem + st[a], st[a + 1] - st[a], &lv) +
               leave_dobj(s, v, u, r, mem + st[b], st[b + 1] - st[b], &lu);
    int64_t lonely = (lu == 0) - (s->nl[pu] == 0) + (lv == 0) -
                     (s->nl[pv] == 0);
    return d - s->penalty * (double)lonely;
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
    s->exact = false;
    uint32_t R = s->R, T = s->T;
    size_t pu = (size_t)u * R + r, pv = (size_t)v * R + r;
    const uint32_t *st = s->start + (size_t)r * (T + 1);
    uint32_t *mem = s->mem + (size_t)r * s->n;
    uint32_t a = s->tp[pu], b = s->tp[pv];

    account_swap_pairs(s, u, v, r, -1);
    if (s->aff) {
        double nu = 0, nv = 0;
        uint32_t lu = 0, lv = 0;
        for (int k = 0; k < 2; k++) {
            uint32_t t = k ? b : a, out = k ? v : u, in = k ? u : v;
            double *nin = k ? &nu : &nv;
            uint32_t *lin = k ? &lu : &lv;
            for (uint32_t x = st[t]; x < st[t + 1]; x++) {
                uint32_t w = mem[x];
                if (w == out)
                    continue;
                size_t pw = (size_t)w * R + r;
                double fo = sch_aff(s, out, w), fi = sch_aff(s, in, w);
                s->asum[pw] += fi - fo;
                *nin += fi;
                bool li = sch_link(s, in, w), lo = sch_link(s, out, w);
                *lin += li;
                if (li != lo) {
                    s->lonely -= s->nl[pw] == 0;
                    s->nl[pw] = (uint16_t)(s->nl[pw] + li - lo);
                    s->lonely += s->nl[pw] == 0;
                }
            }
        }
        s->total += nu + nv - s->asum[pu] - s->asum[pv];
        s->asum[pu] = nu;
        s->asum[pv] = nv;
        s->lonely += (lu == 0) - (s->nl[pu] == 0) + (lv == 0) -
                     (s->nl[pv] == 0);
        s->nl[pu] = (uint16_t)lu;
        s->nl[pv] = (uint16_t)lv;
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

double sch_relabel_dobj(const struct sch *s, uint32_t u, uint32_t v)
{
    double d = 0;
    for (uint32_t r = 0; r < s->R; r++)
        if (s->tp[(size_t)u * s->R + r] != s->tp[(size_t)v * s->R + r])
            d += sch_swap_dobj(s, u, v, r);
    return d;
}

void sch_relabel(struct sch *s, uint32_t u, uint32_t v)
{
    s->exact = false;
    for (uint32_t r = 0; r < s->R; r++)
        if (s->tp[(size_t)u * s->R + r] != s->tp[(size_t)v * s->R + r])
            sch_swap(s, u, v, r);
}

/* ---- state ---- */

void sch_free(struct sch *s)
{
    free(s->met_mark);
    free(s->tp);
    free(s->slot);
    free(s->mem);
    free(s->start);
    free(s->asum);
    free(s->nl);
    free(s->bad);
    free(s->cset);
    free(s->cidx);
    free(s->mark);
    free(s->cnt);
    free(s->pc);
    memset(s, 0, sizeof(*s));
}

int sch_alloc(struct sch *s)
{
    /* Never malloc(0): its NULL would read as ENOMEM. */
    size_t n = s->n ? s->n : 1, nr = n * (s->R ? s->R : 1);
    s->tp = malloc(nr * sizeof(*s->tp));
    s->slot = malloc(nr * sizeof(*s->slot));
    s->mem = malloc(nr * sizeof(*s->mem));
    s->start = malloc((size_t)(s->R ? s->R : 1) * (s->T + 1) *
                      sizeof(*s->start));
    s->asum = malloc(nr * sizeof(*s->asum));
    s->nl = malloc(nr * sizeof(*s->nl));
    s->bad = malloc(nr * sizeof(*s->bad));
    s->cset = malloc(nr * sizeof(*s->cset));
    s->cidx = malloc(nr * sizeof(*s->cidx));
    s->mark = calloc(n, sizeof(*s->mark));
    s->cnt = malloc(n * sizeof(*s->cnt));
    s->met_mark = calloc(n, sizeof(*s->met_mark));
    s->stamp = 0;
    s->met_stamp = 0;
    if (!s->tp || !s->slot || !s->mem || !s->start || !s->asum || !s->nl ||
        !s->bad || !s->cset || !s->cidx || !s->mark || !s->cnt ||
        !s->met_mark)
        return -ENOMEM;
    return 0;
}

int sch_clone(struct sch *dst, const struct sch *src)
{
    *dst = *src;
    dst->met_mark = NULL;
    dst->tp = dst->slot = dst->mem = dst->start = NULL;
    dst->asum = NULL;
    dst->nl = NULL;
    dst->bad = dst->cset = dst->cidx = dst->mark = dst->cnt = NULL;
    dst->pc = NULL;
    int rc = sch_alloc(dst);
    if (rc != 0)
        return rc;
    if (src->pc) {
        dst->pc = malloc((size_t)src->n * src->n * sizeof(*dst->pc));
        if (!dst->pc)
            return -ENOMEM;
    }
    sch_copy_seating(dst, src);
    return 0;
}

void sch_copy_seating(struct sch *dst, const struct sch *src)
{
    /* Copied, not rebuilt: a rebuild scores every seated pair again, which
     * at a thousand rounds costs more than a short epoch's moves. */
    size_t nr = (size_t)src->n * src->R;
    memcpy(dst->tp, src->tp, nr * sizeof(*dst->tp));
    memcpy(dst->slot, src->slot, nr * sizeof(*dst->slot));
    memcpy(dst->mem, src->mem, nr * sizeof(*dst->mem));
    memcpy(dst->start, src->start,
           (size_t)src->R * (src->T + 1) * sizeof(*dst->start));
    memcpy(dst->asum, src->asum, nr * sizeof(*dst->asum));
    memcpy(dst->nl, src->nl, nr * sizeof(*dst->nl));
    memcpy(dst->bad, src->bad, nr * sizeof(*dst->bad));
    memcpy(dst->cidx, src->cidx, nr * sizeof(*dst->cidx));
    memcpy(dst->cset, src->cset, src->ccount * sizeof(*dst->cset));
    dst->ccount = src->ccount;
    if (dst->pc && src->pc)
        memcpy(dst->pc, src->pc, (size_t)src->n * src->n * sizeof(*dst->pc));
    else if (dst->pc)
        sch_rebuild(dst);
    dst->repeats = src->repeats;
    dst->avoid_viol = src->avoid_viol;
    dst->total = src->total;
    dst->lonely = src->lonely;
    dst->exact = src->exact;
}

/* a's SCH_TOP best partners by weight, positive ones only, best first:
 * an insertion into a short sorted list, n steps per person. */
static void best_partners(struct sch_shared *sh, uint32_t n, uint32_t a)
{
    const float *w = sh->wt + (size_t)a * n;
    uint32_t *top = sh->top + (size_t)a * SCH_TOP;
    uint32_t k = 0;
    for (uint32_t b = 0; b < n; b++) {
        if (b == a || w[b] <= 0 || (k == SCH_TOP && w[b] <= w[top[k - 1]]))
            continue;
        uint32_t j = k < SCH_TOP ? k++ : k - 1;
        while (j > 0 && w[top[j - 1]] < w[b]) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = b;
    }
    sh->ntop[a] = (uint8_t)k;
}

int sch_shared_tables(struct sch_shared *sh, const struct sch *s)
{
    uint32_t n = s->n;
    if (!s->aff || n > SCH_WT_MAX_PEOPLE || n < 2)
        return 0;
    sh->wt = malloc((size_t)n * n * sizeof(*sh->wt));
    sh->lk = malloc((size_t)n * n * sizeof(*sh->lk));
    sh->top = malloc((size_t)n * SCH_TOP * sizeof(*sh->top));
    sh->ntop = calloc(n, sizeof(*sh->ntop));
    if (!sh->wt || !sh->lk || !sh->top || !sh->ntop)
        return -ENOMEM;
    for (uint32_t a = 0; a < n; a++) {
        sh->wt[(size_t)a * n + a] = 0;
        sh->lk[(size_t)a * n + a] = 0;
        for (uint32_t b = a + 1; b < n; b++) {
            float f = (float)aff_score(s->aff, s->pid[a], s->pid[b]);
            uint8_t l = aff_linked(s->aff, s->pid[a], s->pid[b]);
            sh->wt[(size_t)a * n + b] = sh->wt[(size_t)b * n + a] = f;
            sh->lk[(size_t)a * n + b] = sh->lk[(size_t)b * n + a] = l;
        }
    }
    for (uint32_t a = 0; a < n; a++)
        best_partners(sh, n, a);
    return 0;
}

void sch_shared_free(struct sch_shared *sh)
{
    free(sh->flags);
    free(sh->met_off);
    free(sh->met_adj);
    free(sh->deg);
    free(sh->wt);
    free(sh->lk);
    free(sh->top);
    free(sh->ntop);
    memset(sh, 0, sizeof(*sh));
}
