/* meetup_query.c -- the read side of the hub: event info, schedules with
 * scores and reasons, explanations, figures, attendee lists, history.
 *
 * Scores and reasons are computed under the current profiles rather than
 * stored, so a hub rebuilt from its changes answers exactly the same.
 */
#include "meetup_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void mu_info(const struct mu_event *ev, struct meetup_event_info *out)
{
    out->event_id = ev->id;
    out->def = ev->def;
    out->rounds_done = ev->n_rounds;
    out->closed = ev->closed;
    out->attendees = roster_live(ev->roster);
    out->present = ev->n_present;
    out->views_epoch = ev->views_epoch;
}

int meetup_event_info(const struct meetup *hub, uint64_t event_id,
                      struct meetup_event_info *out)
{
    const struct mu_event *ev = mu_event_find(hub, event_id);

    if (ev == NULL)
        return -ENOENT;
    mu_info(ev, out);
    return 0;
}

size_t meetup_event_count(const struct meetup *hub)
{
    return hub->n_events;
}

void meetup_event_info_at(const struct meetup *hub, size_t i,
                          struct meetup_event_info *out)
{
    mu_info(hub->events[i], out);
}

uint64_t meetup_encounter_count(const struct meetup *hub)
{
    return hub->n_enc;
}

/* ---- schedule ---- */

void mu_views_clear(struct mu_view_cache *v)
{
    mu_arena_free(v->arena);
    free(v->rounds);
    memset(v, 0, sizeof(*v));
}

void mu_preview_clear(struct mu_preview_cache *p)
{
    mu_arena_free(p->arena);
    memset(p, 0, sizeof(*p));
}

/* The cache slot of round index `r`, grown on demand; NULL on ENOMEM
 * (the round is then scored without a cache). */
static struct mu_round_scores *mu_views_slot(struct mu_event *ev, uint32_t r)
{
    struct mu_view_cache *v = &ev->views;

    if (r >= v->cap) {
        uint32_t cap = ev->rounds_cap > r ? ev->rounds_cap : r + 1;
        struct mu_round_scores *nr = realloc(v->rounds, cap * sizeof(*nr));

        if (nr == NULL)
            return NULL;
        memset(nr + v->cap, 0, (cap - v->cap) * sizeof(*nr));
        v->rounds = nr;
        v->cap = cap;
    }
    return &v->rounds[r];
}

/* Scores round `r` (grouped as m, s) into *sc, allocated in `arena`. */
static int mu_round_score(const struct aff_model *aff,
                          const struct meetup_round_rec *r, const uint32_t *m,
                          const uint32_t *s, void **arena,
                          struct mu_round_scores *sc)
{
    char why[MEETUP_WHY_MAX_BYTES];
    uint32_t t, i, j;

    sc->table = mu_alloc(arena, (r->tables + 1) * sizeof(*sc->table));
    sc->why = mu_alloc(arena, (r->tables + 1) * sizeof(*sc->why));
    sc->seat = mu_alloc(arena, (r->n + 1) * sizeof(*sc->seat));
    if (sc->table == NULL || sc->why == NULL || sc->seat == NULL)
        return -ENOMEM;
    for (t = 0; t < r->tables; t++) {
        for (i = s[t]; i < s[t + 1]; i++) {
            for (j = i + 1; j < s[t + 1]; j++) {
                double v = aff_score(aff, m[i], m[j]);

                sc->table[t] += v;
                sc->seat[i] += v;
                sc->seat[j] += v;
            }
        }
        aff_table_reason(aff, m + s[t], s[t + 1] - s[t], why, sizeof(why));
        sc->why[t] = mu_strdup(arena, why);
        if (sc->why[t] == NULL)
            return -ENOMEM;
    }
    sc->valid = true;
    return 0;
}

int mu_round_view(const struct meetup *hub, struct mu_event *ev,
                  const struct aff_model *aff,
                  const struct meetup_round_rec *r,
                  struct mu_round_scores *cache, void **arena,
                  struct meetup_round_view *out, double *pers)
{
    struct mu_round_scores local = { 0 }, *sc = cache ? cache : &local;
    uint32_t *m, *s, t, i;
    int ret = mu_round_groups(r, &m, &s);

    if (ret < 0)
        return ret;
    if (!sc->valid) {
        /* A cache keeps its arrays in the event's arena; a half-filled
         * one stays invalid and is filled again next time. */
        ret = mu_round_score(aff, r, m, s,
                             cache == &ev->preview.sc ? &ev->preview.arena
                             : cache != NULL          ? &ev->views.arena
                                                      : arena, sc);
        if (ret < 0) {
            sc->valid = false;
            goto out;
        }
    }
    ret = -ENOMEM;
    out->round = r->round;
    out->attendees = r->n;
    out->n_tables = r->tables;
    out->repeat_pairs = r->repeat_pairs;
    out->repeat_lower_bound = r->repeat_lower_bound;
    out->tables = mu_alloc(arena, r->tables * sizeof(*out->tables));
    if (out->tables == NULL)
        goto out;
    for (t = 0; t < r->tables; t++) {
        struct meetup_table_view *tv = &out->tables[t];
        uint32_t k = s[t + 1] - s[t];

        tv->n = k;
        tv->ids = mu_alloc(arena, (k ? k : 1) * sizeof(*tv->ids));
        tv->names = mu_alloc(arena, (k ? k : 1) * sizeof(*tv->names));
        if (tv->ids == NULL || tv->names == NULL)
            goto out;
        for (i = 0; i < k; i++) {
            uint32_t a = m[s[t] + i];

            tv->ids[i] = mu_seat_id(hub, ev, a);
            tv->names[i] = mu_seat_name(hub, ev, a);
            if (pers != NULL)
                pers[a] += sc->seat[s[t] + i];
        }
        tv->score = sc->table[t];
        /* Borrowed: the schedule lives until the next change, which is
         * when the cache may go. */
        tv->why = sc->why[t];
        out->affinity_total += tv->score;
    }
    ret = 0;
out:
    free(m);
    free(s);
    return ret;
}

static int mu_summarize(struct meetup_schedule *s, const struct mu_event *ev,
                        const double *pers)
{
    uint32_t count = roster_count(ev->roster), r, i;
    uint8_t *seen = calloc(count ? count : 1, 1);
    double min = 0;
    bool any = false;

    if (seen == NULL)
        return -ENOMEM;
    for (r = 0; r < ev->n_rounds; r++) {
        for (i = 0; i < ev->rounds[r].n; i++)
            seen[ev->rounds[r].people[i]] = 1;
        s->repeat_pairs += ev->rounds[r].repeat_pairs;
        s->affinity_total += s->rounds[r].affinity_total;
    }
    for (i = 0; i < count; i++) {
        if (!seen[i])
            continue;
        s->attendees++;
        if (!any || pers[i] < min)
            min = pers[i];
        any = true;
    }
    s->min_attendee_affinity = min;
    if (ev->n_rounds > 0)
        s->repeat_lower_bound =
            ev->rounds[ev->n_rounds - 1].repeat_lower_bound;
    free(seen);
    return 0;
}

int meetup_schedule_get(struct meetup *hub, uint64_t event_id,
                        uint32_t first_round, struct meetup_schedule **out)
{
    struct mu_event *ev = mu_event_find(hub, event_id);
    const struct aff_model *aff;
    struct meetup_schedule *s = NULL;
    double *pers = NULL;
    uint32_t r, first = first_round ? first_round - 1 : 0;
    int ret = -ENOENT;

    *out = NULL;
    if (ev == NULL)
        goto out;
    ret = -ENOMEM;
    aff = mu_event_model(ev);
    s = calloc(1, sizeof(*s));
    if (aff == NULL || s == NULL)
        goto out;
    if (first == 0) {
        pers = calloc(roster_count(ev->roster) + 1, sizeof(*pers));
        if (pers == NULL)
            goto out;
    }
    s->event_id = ev->id;
    s->name = ev->def.name;
    s->n_rounds = first < ev->n_rounds ? ev->n_rounds - first : 0;
    s->rounds = mu_alloc(&s->arena, (s->n_rounds + 1) * sizeof(*s->rounds));
    if (s->rounds == NULL)
        goto out;
    for (r = 0; r < s->n_rounds; r++) {
        ret = mu_round_view(hub, ev, aff, &ev->rounds[first + r],
                            mu_views_slot(ev, first + r), &s->arena,
                            &s->rounds[r], pers);
        if (ret < 0)
            goto out;
    }
    ret = first == 0 ? mu_summarize(s, ev, pers) : 0;
out:
    free(pers);
    if (ret < 0)
        meetup_schedule_free(s);
    else
        *out = s;
    return ret;
}

void meetup_schedule_free(struct meetup_schedule *s)
{
    if (s == NULL)
        return;
    mu_arena_free(s->arena);
    free(s);
}

/* ---- explain ---- */

struct mu_tag_collect {
    const struct vocab *v;
    const char **out;
    size_t n;
};

static int mu_collect_tag(uint32_t id, void *ctx)
{
    struct mu_tag_collect *c = ctx;

    c->out[c->n++] = vocab_display(c->v, id);
    return 0;
}

static int mu_common_tags(void **arena, const struct vocab *v,
                          const struct tagset *a, const struct tagset *b,
                          const char ***out, size_t *n)
{
    struct mu_tag_collect c = { v, NULL, 0 };
    uint32_t k = tagset_common(a, b);

    c.out = mu_alloc(arena, (k ? k : 1) * sizeof(*c.out));
    if (c.out == NULL)
        return -ENOMEM;
    tagset_foreach_common(a, b, mu_collect_tag, &c);
    *out = c.out;
    *n = c.n;
    return 0;
}

static bool mu_met_earlier(const struct meetup *hub, const struct mu_event *ev,
                           uint32_t a, uint32_t b)
{
    uint32_t pa = ev->person_of[a], pb = ev->person_of[b];
    uint64_t k;

    if (ev->def.history.kind == MEETUP_SCOPE_NONE)
        return false;
    for (k = 0; k < hub->n_enc; k++) {
        const struct mu_encounter *e = &hub->enc[k];

        if (((e->a == pa && e->b == pb) || (e->a == pb && e->b == pa)) &&
            mu_in_scope(hub, ev, e->event))
            return true;
    }
    return false;
}

static uint32_t mu_times_met(const struct mu_event *ev, uint32_t a, uint32_t b)
{
    uint32_t r, i, times = 0;

    for (r = 0; r < ev->n_rounds; r++) {
        const struct meetup_round_rec *rec = &ev->rounds[r];
        uint32_t ta = MU_NO_INDEX, tb = MU_NO_INDEX;

        for (i = 0; i < rec->n; i++) {
            if (rec->people[i] == a)
                ta = rec->table_of[i];
            else if (rec->people[i] == b)
                tb = rec->table_of[i];
        }
        times += ta != MU_NO_INDEX && ta == tb;
    }
    return times;
}

int meetup_explain_get(struct meetup *hub, uint64_t event_id, const char *a,
                       const char *b, struct meetup_explain **out)
{
    struct mu_event *ev = mu_event_find(hub, event_id);
    const struct aff_model *aff;
    const struct attendee *pa, *pb;
    const struct vocab *v;
    struct meetup_explain *e = NULL;
    uint32_t ia, ib, both[2];
    int ret = -ENOENT;

    *out = NULL;
    if (ev == NULL || a == NULL || b == NULL ||
        roster_find(ev->roster, a, &ia) < 0 ||
        roster_find(ev->roster, b, &ib) < 0 ||
        roster_get(ev->roster, ia)->removed ||
        roster_get(ev->roster, ib)->removed)
        goto out;
    ret = -EINVAL;
    if (ia == ib)
        goto out;
    ret = -ENOMEM;
    aff = mu_event_model(ev);
    e = calloc(1, sizeof(*e));
    if (aff == NULL || e == NULL)
        goto out;
    pa = roster_get(ev->roster, ia);
    pb = roster_get(ev->roster, ib);
    v = roster_vocab(ev->roster);
    aff_explain(aff, ia, ib, &e->parts);
    if (mu_common_tags(&e->arena, v, &pa->interests, &pb->interests,
                       &e->shared_interests, &e->n_shared_interests) < 0 ||
        mu_common_tags(&e->arena, v, &pa->offers, &pb->seeks,
                       &e->a_offers_b_seeks, &e->n_a_offers_b_seeks) < 0 ||
        mu_common_tags(&e->arena, v, &pb->offers, &pa->seeks,
                       &e->b_offers_a_seeks, &e->n_b_offers_a_seeks) < 0)
        goto out;
    e->met_before = pairset_has(ev->met_before, ia, ib) ||
                    mu_met_earlier(hub, ev, ia, ib);
    e->avoid = pairset_has(ev->avoid, ia, ib) != 0;
    e->times_met = mu_times_met(ev, ia, ib);
    both[0] = ia;
    both[1] = ib;
    aff_table_reason(aff, both, 2, e->why, sizeof(e->why));
    ret = 0;
out:
    if (ret < 0)
        meetup_explain_free(e);
    else
        *out = e;
    return ret;
}

void meetup_explain_free(struct meetup_explain *e)
{
    if (e == NULL)
        return;
    mu_arena_free(e->arena);
    free(e);
}

/* ---- stats ---- */

/* The summed table scores of the event's rounds, scoring only those the
 * cache lacks. */
static int mu_event_affinity(struct mu_event *ev, double *total)
{
    struct mu_score_cache *c = &ev->score;
    const struct aff_model *aff;
    uint32_t r, t, *m, *s;
    int ret;

    if (!c->valid) {
        c->rounds = 0;
        c->total = 0;
        c->valid = true;
    }
    if (c->rounds < ev->n_rounds) {
        aff = mu_event_model(ev);
        if (aff == NULL)
            return -ENOMEM;
        for (r = c->rounds; r < ev->n_rounds; r++) {
            ret = mu_round_groups(&ev->rounds[r], &m, &s);
            if (ret < 0)
                return ret;
            for (t = 0; t < ev->rounds[r].tables; t++)
                c->total += aff_table_score(aff, m + s[t], s[t + 1] - s[t]);
            free(m);
            free(s);
            c->rounds = r + 1;
        }
    }
    *total += c->total;
    return 0;
}

static int mu_stats_add(struct mu_event *ev, struct meetup_stats *out)
{
    uint32_t r;

    out->events++;
    out->attendees += roster_live(ev->roster);
    out->present += ev->n_present;
    out->rounds_done += ev->n_rounds;
    for (r = 0; r < ev->n_rounds; r++)
        out->repeat_pairs += ev->rounds[r].repeat_pairs;
    out->encounters += ev->own_encounters;
    return mu_event_affinity(ev, &out->affinity_total);
}

int meetup_stats_get(struct meetup *hub, uint64_t event_id,
                     struct meetup_stats *out)
{
    struct mu_event *ev;
    size_t i;
    int ret;

    memset(out, 0, sizeof(*out));
    if (event_id != 0) {
        ev = mu_event_find(hub, event_id);
        return ev == NULL ? -ENOENT : mu_stats_add(ev, out);
    }
    for (i = 0; i < hub->n_events; i++) {
        ret = mu_stats_add(hub->events[i], out);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* ---- attendee list ---- */

static const char **mu_tag_names(void **arena, const struct vocab *v,
                                 const struct tagset *t)
{
    const char **out = mu_alloc(arena, (t->n ? t->n : 1) * sizeof(*out));
    uint32_t i;

    if (out == NULL)
        return NULL;
    for (i = 0; i < t->n; i++)
        out[i] = vocab_display(v, t->ids[i]);
    return out;
}

static int mu_list_pairs(void **arena, const struct mu_event *ev,
                         const struct pairset *set, struct meetup_pair **out,
                         size_t *n)
{
    size_t cursor = 0, k = 0;
    uint32_t a, b;

    *out = mu_alloc(arena, (pairset_count(set) + 1) * sizeof(**out));
    if (*out == NULL)
        return -ENOMEM;
    while (pairset_next(set, &cursor, &a, &b)) {
        const struct attendee *pa = roster_get(ev->roster, a);
        const struct attendee *pb = roster_get(ev->roster, b);

        if (pa->removed || pb->removed)
            continue;
        (*out)[k].a = pa->id;
        (*out)[k].b = pb->id;
        k++;
    }
    *n = k;
    return 0;
}

int meetup_attendees_get(const struct meetup *hub, uint64_t event_id,
                         struct meetup_attendee_list **out)
{
    const struct mu_event *ev = mu_event_find(hub, event_id);
    struct meetup_attendee_list *l = NULL;
    const struct vocab *v;
    uint32_t count, i;
    int ret = -ENOENT;

    *out = NULL;
    if (ev == NULL)
        goto out;
    ret = -ENOMEM;
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        goto out;
    count = roster_count(ev->roster);
    v = roster_vocab(ev->roster);
    l->profiles = mu_alloc(&l->arena, (count + 1) * sizeof(*l->profiles));
    l->present = mu_alloc(&l->arena, (count + 1) * sizeof(*l->present));
    if (l->profiles == NULL || l->present == NULL)
        goto out;
    for (i = 0; i < count; i++) {
        const struct attendee *at = roster_get(ev->roster, i);
        struct att_profile *p;

        if (at->removed)
            continue;
        p = &l->profiles[l->n_profiles++];
        p->id = at->id;
        p->name = at->name;
        p->company = at->company;
        p->industry = at->industry;
        p->interests = mu_tag_names(&l->arena, v, &at->interests);
        p->offers = mu_tag_names(&l->arena, v, &at->offers);
        p->seeks = mu_tag_names(&l->arena, v, &at->seeks);
        if (!p->interests || !p->offers || !p->seeks)
            goto out;
        p->n_interests = at->interests.n;
        p->n_offers = at->offers.n;
        p->n_seeks = at->seeks.n;
        if (ev->present[i])
            l->present[l->n_present++] = at->id;
    }
    if (mu_list_pairs(&l->arena, ev, ev->met_before, &l->met_before,
                      &l->n_met_before) < 0 ||
        mu_list_pairs(&l->arena, ev, ev->avoid, &l->avoid, &l->n_avoid) < 0)
        goto out;
    ret = 0;
out:
    if (ret < 0)
        meetup_attendee_list_free(l);
    else
        *out = l;
    return ret;
}

void meetup_attendee_list_free(struct meetup_attendee_list *l)
{
    if (l == NULL)
        return;
    mu_arena_free(l->arena);
    free(l);
}

/* ---- history ---- */

size_t meetup_history(const struct meetup *hub, uint64_t after,
                      struct meetup_encounter *out, size_t cap, bool *more)
{
    uint64_t k;
    size_t n = 0;

    for (k = after; k < hub->n_enc && n < cap; k++) {
        const struct mu_encounter *e = &hub->enc[k];

        out[n].seq = k + 1;
        out[n].a = hub->persons[e->a].id;
        out[n].b = hub->persons[e->b].id;
        out[n].event_id = (uint64_t)e->event + 1;
        out[n].round = e->round;
        out[n].at_unix = e->at_unix;
        n++;
    }
    *more = k < hub->n_enc;
    return n;
}
