/* meetup_round.c -- NextRound: planning ahead, freezing one round.
 *
 * A plan covers the remaining planned rounds (at most MU_PLAN_ROUNDS_MAX)
 * so that later rounds can stay repeat-free; only its first round is
 * frozen.  While nothing changes
 * (presence, profiles, pairs, earlier events' encounters) the next round is
 * the plan's next one, which is fast and keeps the plan's promise; any
 * change throws the plan away and the future is planned anew: by a
 * planning job in another thread (meetup_plan.c), or here, with a small
 * budget, when NextRound finds no plan.  PreviewRound shows the plan's
 * next round without freezing it.
 */
#include "meetup_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int mu_round_groups(const struct meetup_round_rec *r, uint32_t **members,
                    uint32_t **start)
{
    uint32_t *m = malloc((r->n ? r->n : 1) * sizeof(*m));
    uint32_t *s = calloc((size_t)r->tables + 2, sizeof(*s));
    uint32_t i, t;

    if (m == NULL || s == NULL) {
        free(m);
        free(s);
        return -ENOMEM;
    }
    for (i = 0; i < r->n; i++)
        s[r->table_of[i] + 2]++;
    for (t = 0; t < r->tables; t++)
        s[t + 2] += s[t + 1];
    /* s[t + 1] is now the start of table t: fill, shifting it to s[t]. */
    for (i = 0; i < r->n; i++)
        m[s[r->table_of[i] + 1]++] = r->people[i];
    *members = m;
    *start = s;
    return 0;
}

/* Calls fn(a, b, ctx) for every pair of roster indices seated at one
 * table in round `r`, table by table; stops at fn's first non-zero value
 * and returns it.  Returns 0, fn's value, or -ENOMEM. */
static int mu_round_pairs(const struct meetup_round_rec *r,
                          int (*fn)(uint32_t a, uint32_t b, void *ctx),
                          void *ctx)
{
    uint32_t *m, *s, t, i, j;
    int ret = mu_round_groups(r, &m, &s);

    if (ret < 0)
        return ret;
    for (t = 0; t < r->tables && ret == 0; t++) {
        for (i = s[t]; i < s[t + 1] && ret == 0; i++) {
            for (j = i + 1; j < s[t + 1] && ret == 0; j++)
                ret = fn(m[i], m[j], ctx);
        }
    }
    free(m);
    free(s);
    return ret;
}

struct mu_served_ctx {
    const struct aff_model *aff;
    uint8_t *served; /* by roster index */
};

static int mu_pair_served(uint32_t a, uint32_t b, void *arg)
{
    struct mu_served_ctx *c = arg;

    if (aff_business(c->aff, a, b))
        c->served[a] = c->served[b] = 1;
    return 0;
}

int mu_served(const struct mu_event *ev, const struct aff_model *aff,
              const uint32_t *people, uint32_t n, uint8_t **out)
{
    uint32_t count = roster_count(ev->roster), r, i;
    struct mu_served_ctx c = { aff, NULL };
    uint8_t *served = NULL;
    int ret = -ENOMEM;

    *out = NULL;
    if (ev->n_rounds == 0)
        return 0;
    c.served = calloc((size_t)count + 1, 1);
    served = calloc((size_t)n + 1, 1);
    if (c.served == NULL || served == NULL)
        goto out;
    for (r = 0; r < ev->n_rounds; r++) {
        ret = mu_round_pairs(&ev->rounds[r], mu_pair_served, &c);
        if (ret < 0)
            goto out;
    }
    for (i = 0; i < n; i++)
        served[i] = c.served[people[i]];
    *out = served;
    served = NULL;
    ret = 0;
out:
    free(c.served);
    free(served);
    return ret;
}

static int mu_pair_add(uint32_t a, uint32_t b, void *set)
{
    return pairset_add(set, a, b);
}

struct mu_repeats {
    const struct pairset *met;
    uint64_t n;
};

static int mu_pair_repeat(uint32_t a, uint32_t b, void *ctx)
{
    struct mu_repeats *rp = ctx;

    rp->n += pairset_has(rp->met, a, b) != 0;
    return 0;
}

static int mu_pair_count(uint32_t a, uint32_t b, void *n)
{
    (void)a;
    (void)b;
    ++*(uint64_t *)n;
    return 0;
}

void mu_event_met_clear(struct mu_event *ev)
{
    pairset_free(ev->met);
    ev->met = NULL;
    ev->met_rounds = 0;
    ev->met_enc = 0;
}

/* Adds hub encounters [from, hub->n_enc) of earlier events in scope.  A
 * full scan maps persons through an array; a short incremental one looks
 * each person up by id. */
static int mu_met_add_history(const struct meetup *hub,
                              const struct mu_event *ev, uint64_t from)
{
    uint32_t *idx_of = NULL, i;
    bool full = from == 0;
    uint64_t k;
    int ret = -ENOMEM;

    if (ev->def.history.kind == MEETUP_SCOPE_NONE || from >= hub->n_enc)
        return 0;
    if (full) {
        idx_of = malloc(((size_t)hub->n_persons + 1) * sizeof(*idx_of));
        if (idx_of == NULL)
            goto out;
        memset(idx_of, 0xff, ((size_t)hub->n_persons + 1) * sizeof(*idx_of));
        for (i = 0; i < roster_count(ev->roster); i++)
            idx_of[ev->person_of[i]] = i;
    }
    for (k = from; k < hub->n_enc; k++) {
        const struct mu_encounter *e = &hub->enc[k];
        uint32_t a, b;

        if (!mu_in_scope(hub, ev, e->event))
            continue;
        if (full) {
            a = idx_of[e->a];
            b = idx_of[e->b];
            if (a == MU_NO_INDEX || b == MU_NO_INDEX)
                continue;
        } else if (roster_find(ev->roster, hub->persons[e->a].id, &a) < 0 ||
                   roster_find(ev->roster, hub->persons[e->b].id, &b) < 0 ||
                   ev->person_of[a] != e->a || ev->person_of[b] != e->b) {
            continue;
        }
        if (pairset_add(ev->met, a, b) < 0)
            goto out;
    }
    ret = 0;
out:
    free(idx_of);
    return ret;
}

/* Brings the event's met set up to date: met_before, its own earlier
 * rounds, and encounters at earlier events in its history scope.  Only
 * what happened since the last call is added. */
int mu_event_met(const struct meetup *hub, struct mu_event *ev)
{
    size_t cursor = 0;
    uint32_t a, b;
    int ret;

    if (ev->met == NULL) {
        ev->met = pairset_new();
        if (ev->met == NULL)
            return -ENOMEM;
        while (pairset_next(ev->met_before, &cursor, &a, &b)) {
            if (pairset_add(ev->met, a, b) < 0)
                goto fail;
        }
    }
    for (; ev->met_rounds < ev->n_rounds; ev->met_rounds++) {
        if (mu_round_pairs(&ev->rounds[ev->met_rounds], mu_pair_add,
                           ev->met) < 0)
            goto fail;
    }
    ret = mu_met_add_history(hub, ev, ev->met_enc);
    if (ret < 0)
        goto fail;
    ev->met_enc = hub->n_enc;
    return 0;
fail:
    mu_event_met_clear(ev);
    return -ENOMEM;
}

uint64_t mu_hist_key(const struct meetup *hub, const struct mu_event *ev)
{
    uint64_t n = 0;
    size_t e;

    /* Only earlier events can be in scope: a round of a later one leaves
     * this event's plan standing. */
    for (e = 0; e + 1 < ev->id; e++)
        n += hub->events[e]->own_encounters;
    return n;
}

bool mu_plan_usable(const struct meetup *hub, const struct mu_event *ev)
{
    const struct mu_plan *p = &ev->plan;

    return p->res != NULL && p->gen == ev->gen &&
           p->hist == mu_hist_key(hub, ev) && ev->n_rounds >= p->base &&
           ev->n_rounds - p->base < p->res->rounds;
}

uint32_t mu_plan_rounds(const struct mu_event *ev)
{
    uint32_t left = ev->def.rounds_planned > ev->n_rounds
                        ? ev->def.rounds_planned - ev->n_rounds : 1;

    return left < MU_PLAN_ROUNDS_MAX ? left : MU_PLAN_ROUNDS_MAX;
}

uint64_t mu_plan_seed(const struct mu_event *ev)
{
    /* A different stream per round, yet the same one for the same state. */
    return ev->def.seed ^ ((uint64_t)ev->n_rounds * 0x9e3779b97f4a7c15u);
}

int mu_plan_start(const struct mu_event *ev, const uint32_t *people,
                  uint32_t n, uint32_t rounds, uint32_t **out)
{
    const struct sched_result *res = ev->plan.res;
    uint32_t count = roster_count(ev->roster), *at = NULL, *start;
    uint32_t j, k, i;
    int ret = -ENOMEM;

    *out = NULL;
    if (res == NULL || ev->n_rounds < ev->plan.base ||
        ev->n_rounds - ev->plan.base >= res->rounds)
        return 0;
    j = ev->n_rounds - ev->plan.base;
    at = malloc(((size_t)count + 1) * sizeof(*at));
    start = malloc(((size_t)rounds * n + 1) * sizeof(*start));
    if (at == NULL || start == NULL) {
        free(start);
        goto out;
    }
    memset(at, 0xff, ((size_t)count + 1) * sizeof(*at));
    memset(start, 0xff, ((size_t)rounds * n + 1) * sizeof(*start));
    for (i = 0; i < n; i++)
        at[people[i]] = i;
    for (k = 0; k < rounds && j + k < res->rounds; k++) {
        for (i = 0; i < res->n; i++) {
            uint32_t p = ev->plan.people[i];

            if (p < count && at[p] != UINT32_MAX)
                start[(size_t)k * n + at[p]] =
                    res->table_of[(size_t)(j + k) * res->n + i];
        }
    }
    *out = start;
    ret = 0;
out:
    free(at);
    return ret;
}

static int mu_replan(struct meetup *hub, struct mu_event *ev)
{
    struct mu_plan *plan = &ev->plan;
    struct sched_input in = {0};
    struct sched_params sp = {0};
    uint32_t i, n = 0, count = roster_count(ev->roster);
    uint32_t *people, *start = NULL;
    uint8_t *served = NULL;
    int ret = -ENOMEM;

    in.aff = mu_event_model(ev);
    people = malloc(((size_t)ev->n_present + 1) * sizeof(*people));
    if (in.aff == NULL || people == NULL)
        goto out;
    for (i = 0; i < count; i++) {
        if (ev->present[i])
            people[n++] = i;
    }
    /* The stale plan's seats are where this one starts. */
    if (mu_plan_start(ev, people, n, mu_plan_rounds(ev), &start) < 0 ||
        mu_served(ev, in.aff, people, n, &served) < 0)
        goto out;
    mu_plan_clear(plan);
    plan->people = people;
    people = NULL;
    in.start = start;
    in.served = served;
    in.people = plan->people;
    in.n = n;
    in.met = ev->met;
    in.avoid = ev->avoid;
    sp.table_size = ev->def.table_size;
    sp.rounds = mu_plan_rounds(ev);
    sp.seed = mu_plan_seed(ev);
    sp.time_limit_ms = MEETUP_PLAN_TIME_LIMIT_MS;
    sp.effort = MEETUP_PLAN_EFFORT;
    ret = sched_solve(&in, &sp, &plan->res);
    if (ret < 0)
        goto out;
    plan->base = ev->n_rounds;
    plan->gen = ev->gen;
    plan->hist = mu_hist_key(hub, ev);
    plan->token = ++hub->next_token;
out:
    if (ret < 0)
        mu_plan_clear(plan);
    free(people);
    free(start);
    free(served);
    return ret;
}

int mu_plan_ensure(struct meetup *hub, struct mu_event *ev)
{
    int ret;

    if (ev->n_present < 2)
        return mu_fail(hub, -EPERM, "fewer than 2 attendees checked in");
    if (ev->n_rounds >= MEETUP_ROUNDS_MAX)
        return mu_fail(hub, -EPERM, "round limit of %d reached",
                       MEETUP_ROUNDS_MAX);
    if (mu_event_met(hub, ev) < 0)
        return -ENOMEM;
    if (mu_plan_usable(hub, ev))
        return 0;
    ret = mu_replan(hub, ev);
    if (ret == -EINVAL)
        return mu_fail(hub, ret, "the scheduler rejected the event");
    return ret;
}

int mu_plan_next_round(struct mu_event *ev, int64_t now,
                       struct meetup_round_rec *r)
{
    const struct sched_result *res = ev->plan.res;
    uint32_t j = ev->n_rounds - ev->plan.base;
    struct mu_repeats rep = { ev->met, 0 };
    int ret;

    r->round = ev->n_rounds + 1;
    r->at_unix = now;
    r->n = res->n;
    r->tables = res->tables;
    r->people = malloc((size_t)res->n * sizeof(*r->people));
    r->table_of = malloc((size_t)res->n * sizeof(*r->table_of));
    if (r->people == NULL || r->table_of == NULL)
        return -ENOMEM;
    memcpy(r->people, ev->plan.people, (size_t)res->n * sizeof(*r->people));
    memcpy(r->table_of, res->table_of + (size_t)j * res->n,
           (size_t)res->n * sizeof(*r->table_of));
    r->repeat_lower_bound = res->repeat_lower_bound;
    ret = mu_round_pairs(r, mu_pair_repeat, &rep);
    r->repeat_pairs = rep.n;
    return ret;
}

int mu_prepare_round(struct meetup *hub, struct mu_event *ev, int64_t now,
                     struct meetup_change *ch)
{
    int ret = mu_plan_ensure(hub, ev);

    if (ret < 0)
        return ret;
    ch->plan_token = ev->plan.token;
    return mu_plan_next_round(ev, now, &ch->round);
}

struct mu_enc_ctx {
    struct meetup *hub;
    const struct mu_event *ev;
    const struct meetup_round_rec *r;
};

/* Room is reserved beforehand, so this cannot fail. */
static int mu_enc_push(uint32_t a, uint32_t b, void *ctx)
{
    struct mu_enc_ctx *c = ctx;
    struct mu_encounter *e = &c->hub->enc[c->hub->n_enc++];

    e->a = c->ev->person_of[a];
    e->b = c->ev->person_of[b];
    e->event = (uint32_t)(c->ev->id - 1);
    e->round = c->r->round;
    e->at_unix = c->r->at_unix;
    return 0;
}

static int mu_add_encounters(struct meetup *hub, struct mu_event *ev,
                             const struct meetup_round_rec *r)
{
    struct mu_enc_ctx ctx = { hub, ev, r };
    uint64_t need = 0;
    int ret = mu_round_pairs(r, mu_pair_count, &need);

    if (ret < 0)
        return ret;
    if (hub->n_enc + need > hub->enc_cap) {
        uint64_t cap = hub->enc_cap ? hub->enc_cap : 1024;
        struct mu_encounter *ne;

        while (cap < hub->n_enc + need)
            cap *= 2;
        if (cap > SIZE_MAX / sizeof(*ne))
            return -ENOMEM;
        ne = realloc(hub->enc, (size_t)cap * sizeof(*ne));
        if (ne == NULL)
            return -ENOMEM;
        hub->enc = ne;
        hub->enc_cap = cap;
    }
    ret = mu_round_pairs(r, mu_enc_push, &ctx);
    if (ret == 0)
        ev->own_encounters += need;
    return ret;
}

int mu_apply_round(struct meetup *hub, struct mu_event *ev,
                   const struct meetup_change *ch)
{
    const struct meetup_round_rec *src = &ch->round;
    struct meetup_round_rec *dst;
    uint32_t i, count = roster_count(ev->roster);
    int ret;

    if (src->round != ev->n_rounds + 1 || src->n == 0 || src->tables == 0)
        return -EINVAL;
    for (i = 0; i < src->n; i++) {
        if (src->people[i] >= count || src->table_of[i] >= src->tables)
            return -EINVAL;
    }
    if (ev->n_rounds == ev->rounds_cap) {
        uint32_t cap = ev->rounds_cap ? ev->rounds_cap * 2 : 8;
        struct meetup_round_rec *nr = realloc(ev->rounds, cap * sizeof(*nr));

        if (nr == NULL)
            return -ENOMEM;
        ev->rounds = nr;
        ev->rounds_cap = cap;
    }
    dst = &ev->rounds[ev->n_rounds];
    *dst = *src;
    dst->people = malloc((size_t)src->n * sizeof(*dst->people));
    dst->table_of = malloc((size_t)src->n * sizeof(*dst->table_of));
    if (dst->people == NULL || dst->table_of == NULL) {
        free(dst->people);
        free(dst->table_of);
        return -ENOMEM;
    }
    memcpy(dst->people, src->people, (size_t)src->n * sizeof(*dst->people));
    memcpy(dst->table_of, src->table_of,
           (size_t)src->n * sizeof(*dst->table_of));
    ev->n_rounds++;
    ret = mu_add_encounters(hub, ev, dst);
    if (ret < 0)
        return ret;
    /* The plan stays only when this round is the one it proposed. */
    if (ch->plan_token == 0 || ch->plan_token != ev->plan.token)
        mu_plan_clear(&ev->plan);
    return 0;
}

/* ---- the plan as clients see it ---- */

int meetup_preview_get(struct meetup *hub, uint64_t event_id,
                       struct meetup_schedule **out)
{
    struct mu_event *ev = mu_event_find(hub, event_id);
    struct meetup_round_rec rec = { 0 };
    struct meetup_schedule *s = NULL;
    const struct aff_model *aff;
    int ret;

    *out = NULL;
    if (ev == NULL)
        return mu_fail(hub, -ENOENT, "no event %llu",
                       (unsigned long long)event_id);
    if (ev->closed)
        return mu_fail(hub, -EPERM, "event %llu is closed",
                       (unsigned long long)event_id);
    ret = mu_plan_ensure(hub, ev);
    if (ret < 0)
        return ret;
    ret = -ENOMEM;
    aff = mu_event_model(ev);
    s = calloc(1, sizeof(*s));
    if (aff == NULL || s == NULL || mu_plan_next_round(ev, 0, &rec) < 0)
        goto out;
    s->event_id = ev->id;
    s->name = ev->def.name;
    s->n_rounds = 1;
    s->rounds = mu_alloc(&s->arena, sizeof(*s->rounds));
    if (s->rounds == NULL)
        goto out;
    /* Previews repeat while the plan stands: its round is scored once. */
    if (ev->preview.token != ev->plan.token ||
        ev->preview.rounds != ev->n_rounds) {
        mu_preview_clear(&ev->preview);
        ev->preview.token = ev->plan.token;
        ev->preview.rounds = ev->n_rounds;
    }
    ret = mu_round_view(hub, ev, aff, &rec, &ev->preview.sc, &s->arena,
                        &s->rounds[0], NULL);
out:
    free(rec.people);
    free(rec.table_of);
    if (ret < 0)
        meetup_schedule_free(s);
    else
        *out = s;
    return ret;
}

int meetup_plan_state_get(const struct meetup *hub, uint64_t event_id,
                          struct meetup_plan_state *out)
{
    const struct mu_event *ev = mu_event_find(hub, event_id);

    memset(out, 0, sizeof(*out));
    if (ev == NULL)
        return -ENOENT;
    if (!mu_plan_usable(hub, ev))
        return 0;
    out->usable = true;
    out->rounds = ev->plan.res->rounds - (ev->n_rounds - ev->plan.base);
    out->epochs = ev->plan.res->epochs;
    out->converged = ev->plan.res->converged;
    out->background = ev->plan.background;
    return 0;
}
