/* store_commit.c -- writing applied changes, one transaction per batch.
 *
 * The store mirrors the numbering the hub gives things, because the rows
 * must replay into the same hub: roster indices per event (seats refer to
 * them), person numbers (a forgotten person's token is made from it) and
 * encounter sequence numbers (history is paged by them).  Each is
 * assigned here exactly as meetup.c assigns it, in the order the changes
 * were applied.
 */
#include "store_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A truncation attempt waits this long at most for readers' locks: it
 * runs on the event loop, whose other clients wait with it. */
#define STORE_CKPT_TRY_MS 5

static const char *const st_sql[ST_COUNT] = {
    [ST_EVENT_INSERT] =
        "INSERT INTO events (id, name, table_size, rounds_planned,"
        " w_interests, w_business, w_same_company, seed, history_kind,"
        " history_last_events, history_since, created)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [ST_EVENT_CLOSE] = "UPDATE events SET closed = 1 WHERE id = ?1",
    [ST_PERSON_INSERT] = "INSERT INTO people (num, id) VALUES (?1, ?2)",
    [ST_PERSON_FORGET] =
        "UPDATE people SET id = 'forgotten-' || num, forgotten = 1"
        " WHERE num = ?1",
    [ST_ATT_OF_PERSON] = "SELECT event FROM attendees WHERE person = ?1",
    [ST_ATT_NEXT_IDX] =
        "SELECT coalesce(max(idx) + 1, 0) FROM attendees WHERE event = ?1",
    [ST_ATT_INSERT] =
        "INSERT INTO attendees (event, idx, seq, person, id, name, company,"
        " industry, interests, offers, seeks)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    /* An upsert of a known id, removed ones too, revives it. */
    [ST_ATT_UPDATE] =
        "UPDATE attendees SET person = ?4, name = ?6, company = ?7,"
        " industry = ?8, interests = ?9, offers = ?10, seeks = ?11,"
        " removed = 0 WHERE event = ?1 AND idx = ?2",
    [ST_ATT_REMOVE] =
        "UPDATE attendees SET removed = 1 WHERE event = ?1 AND idx = ?2",
    [ST_ATT_PERSONS] =
        "SELECT idx, person FROM attendees WHERE event = ?1",
    [ST_ATT_FORGET] =
        "UPDATE attendees SET id = NULL, name = NULL, company = NULL,"
        " industry = NULL, interests = NULL, offers = NULL, seeks = NULL,"
        " removed = 1 WHERE person = ?1",
    [ST_PRESENCE_ADD] =
        "INSERT OR IGNORE INTO presence (event, idx) VALUES (?1, ?2)",
    [ST_PRESENCE_DEL] = "DELETE FROM presence WHERE event = ?1 AND idx = ?2",
    [ST_PRESENCE_FORGET] =
        "DELETE FROM presence WHERE (event, idx) IN"
        " (SELECT event, idx FROM attendees WHERE person = ?1)",
    [ST_PAIR_INSERT] =
        "INSERT OR IGNORE INTO pairs (event, kind, a, b)"
        " VALUES (?1, ?2, ?3, ?4)",
    [ST_PAIR_FORGET] =
        "DELETE FROM pairs WHERE EXISTS (SELECT 1 FROM attendees t"
        " WHERE t.event = pairs.event AND t.person = ?1"
        " AND t.idx IN (pairs.a, pairs.b))",
    [ST_ROUND_INSERT] =
        "INSERT INTO rounds (event, round, seq, at, n, tables, repeat_pairs,"
        " repeat_lower_bound) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_SEAT_INSERT] =
        "INSERT INTO seats (event, round, pos, idx, tbl)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_VOCAB_INSERT] =
        "INSERT INTO vocab (event, pos, spelling) VALUES (?1, ?2, ?3)",
    [ST_ENC_INSERT] =
        "INSERT INTO encounters (seq, a, b, event, round, at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
};

int st_prepare_all(struct store *s)
{
    int i, ret;

    for (i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, st_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &s->st[i], NULL) != SQLITE_OK)
            return st_fail_db(s, st_sql[i]);
    }
    ret = st_load_ids(s, true);
    return ret == 0 ? st_vocab_load(s) : ret;
}

static int st_load_query(struct store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc, ret = 0;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return st_fail_db(s, sql);
    while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (st_map_put(s->ids, (uint64_t)sqlite3_column_int64(st, 0),
                       (const char *)sqlite3_column_text(st, 1),
                       sqlite3_column_int64(st, 2)) < 0)
            ret = st_fail(s, -ENOMEM, "out of memory");
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = st_fail_db(s, sql);
    sqlite3_finalize(st);
    return ret;
}

int st_load_ids(struct store *s, bool attendees)
{
    int ret;

    if (s->ids != NULL)
        return 0;
    s->ids = st_map_new();
    if (s->ids == NULL)
        return st_fail(s, -ENOMEM, "out of memory");
    ret = st_load_query(s, "SELECT 0, id, num FROM people"
                        " WHERE forgotten = 0");
    if (ret == 0 && attendees)
        ret = st_load_query(s, "SELECT event, id, idx FROM attendees"
                            " WHERE id IS NOT NULL");
    return ret;
}

/* Steps a statement that returns no row (or whose row is not wanted). */
static int st_run(struct store *s, enum store_stmt k)
{
    int rc = sqlite3_step(s->st[k]);

    sqlite3_reset(s->st[k]);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return st_fail_db(s, st_sql[k]);
    return 0;
}

/* Steps a statement for one integer: 0 with *out, 1 when no row. */
static int st_get(struct store *s, enum store_stmt k, int64_t *out)
{
    int rc = sqlite3_step(s->st[k]);

    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s->st[k], 0);
    sqlite3_reset(s->st[k]);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? 1 : st_fail_db(s, st_sql[k]);
}

/* The roster index of attendee `id` of an event, removed ones included. */
static int st_find_idx(struct store *s, uint64_t event, const char *id,
                       int64_t *idx)
{
    if (!st_map_get(s->ids, event, id, idx))
        return st_fail(s, -EINVAL, "event %llu has no attendee %s",
                       (unsigned long long)event, id);
    return 0;
}

static int st_bind_tags(sqlite3_stmt *st, int col, const char *const *tags,
                        size_t n)
{
    size_t len = 0, i, at = 0;
    char *buf;

    if (n == 0)
        return sqlite3_bind_null(st, col) == SQLITE_OK ? 0 : -ENOMEM;
    for (i = 0; i < n; i++)
        len += strlen(tags[i]) + 1;
    buf = malloc(len);
    if (buf == NULL)
        return -ENOMEM;
    for (i = 0; i < n; i++) {
        size_t l = strlen(tags[i]);

        memcpy(buf + at, tags[i], l);
        at += l;
        buf[at++] = STORE_TAG_SEP;
    }
    /* The last separator is dropped: the length excludes it. */
    return sqlite3_bind_text(st, col, buf, (int)(len - 1), free) == SQLITE_OK
               ? 0 : -ENOMEM;
}

static int st_event_create(struct store *s, const struct meetup_change *ch)
{
    const struct meetup_event_def *d = &ch->event;
    sqlite3_stmt *st = s->st[ST_EVENT_INSERT];

    sqlite3_bind_int64(st, 1, (int64_t)ch->event_id);
    sqlite3_bind_text(st, 2, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, d->table_size);
    sqlite3_bind_int64(st, 4, d->rounds_planned);
    sqlite3_bind_double(st, 5, d->weights.interests);
    sqlite3_bind_double(st, 6, d->weights.business);
    sqlite3_bind_double(st, 7, d->weights.same_company);
    sqlite3_bind_int64(st, 8, (int64_t)d->seed);
    sqlite3_bind_int(st, 9, (int)d->history.kind);
    sqlite3_bind_int64(st, 10, d->history.last_events);
    sqlite3_bind_int64(st, 11, d->history.since_unix);
    sqlite3_bind_int64(st, 12, d->created_unix);
    return st_run(s, ST_EVENT_INSERT);
}

/* The person number for `id`, registered when new (as mu_person_get). */
static int st_person(struct store *s, const char *id, int64_t *num)
{
    sqlite3_stmt *st = s->st[ST_PERSON_INSERT];
    int ret;

    if (st_map_get(s->ids, 0, id, num))
        return 0;
    *num = s->next_person;
    sqlite3_bind_int64(st, 1, *num);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    ret = st_run(s, ST_PERSON_INSERT);
    if (ret == 0 && st_map_put(s->ids, 0, id, *num) < 0)
        ret = st_fail(s, -ENOMEM, "out of memory");
    if (ret == 0)
        s->next_person++;
    return ret;
}

struct st_evc *st_evc(struct store *s, uint64_t event)
{
    if (event >= s->evc_cap) {
        size_t cap = s->evc_cap ? s->evc_cap : 64;
        struct st_evc *n;

        while (cap <= event)
            cap *= 2;
        n = realloc(s->evc, cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        memset(n + s->evc_cap, 0, (cap - s->evc_cap) * sizeof(*n));
        s->evc = n;
        s->evc_cap = cap;
    }
    return &s->evc[event];
}

/* The next roster index of an event, cached: the store is the only
 * writer, and after a failed commit it writes nothing more. */
static int st_next_idx(struct store *s, uint64_t event, uint32_t **slot)
{
    struct st_evc *c = st_evc(s, event);
    int64_t next = 0;
    int ret;

    if (c == NULL)
        return st_fail(s, -ENOMEM, "out of memory");
    *slot = &c->next_idx;
    if (**slot != 0)
        return 0;
    sqlite3_bind_int64(s->st[ST_ATT_NEXT_IDX], 1, (int64_t)event);
    ret = st_get(s, ST_ATT_NEXT_IDX, &next);
    if (ret > 0)
        return st_fail(s, -EIO, "no next index for event %llu",
                       (unsigned long long)event);
    if (ret < 0)
        return ret;
    **slot = (uint32_t)next + 1;
    return 0;
}

static int st_upsert_one(struct store *s, uint64_t event, int64_t seq,
                         const struct att_profile *p)
{
    enum store_stmt k = ST_ATT_UPDATE;
    int64_t person, idx;
    sqlite3_stmt *st;
    uint32_t *next;
    int ret;

    ret = st_next_idx(s, event, &next);
    if (ret == 0)
        ret = st_person(s, p->id, &person);
    if (ret == 0)
        ret = st_vocab_profile(s, event, p);
    if (ret < 0)
        return ret;
    if (!st_map_get(s->ids, event, p->id, &idx)) {
        k = ST_ATT_INSERT;
        idx = (int64_t)*next - 1;
    }
    st = s->st[k];
    sqlite3_bind_int64(st, 1, (int64_t)event);
    sqlite3_bind_int64(st, 2, idx);
    if (k == ST_ATT_INSERT) {
        sqlite3_bind_int64(st, 3, seq);
        sqlite3_bind_text(st, 5, p->id, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 4, person);
    sqlite3_bind_text(st, 6, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, p->company, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, p->industry, -1, SQLITE_STATIC);
    if (st_bind_tags(st, 9, p->interests, p->n_interests) < 0 ||
        st_bind_tags(st, 10, p->offers, p->n_offers) < 0 ||
        st_bind_tags(st, 11, p->seeks, p->n_seeks) < 0)
        return st_fail(s, -ENOMEM, "out of memory");
    ret = st_run(s, k);
    if (ret == 0 && k == ST_ATT_INSERT) {
        if (st_map_put(s->ids, event, p->id, idx) < 0)
            return st_fail(s, -ENOMEM, "out of memory");
        (*next)++;
    }
    return ret;
}

/* REMOVE, CHECK_IN, CHECK_OUT: per id, what mu_apply_ids does. */
static int st_ids(struct store *s, const struct meetup_change *ch)
{
    size_t i;
    int ret = 0;

    for (i = 0; i < ch->n_ids && ret == 0; i++) {
        enum store_stmt k = ch->kind == MEETUP_CH_CHECK_IN ? ST_PRESENCE_ADD
                                                           : ST_PRESENCE_DEL;
        int64_t idx;

        ret = st_find_idx(s, ch->event_id, ch->ids[i], &idx);
        if (ret < 0)
            break;
        sqlite3_bind_int64(s->st[k], 1, (int64_t)ch->event_id);
        sqlite3_bind_int64(s->st[k], 2, idx);
        ret = st_run(s, k);
        if (ret == 0 && ch->kind == MEETUP_CH_REMOVE) {
            sqlite3_bind_int64(s->st[ST_ATT_REMOVE], 1,
                               (int64_t)ch->event_id);
            sqlite3_bind_int64(s->st[ST_ATT_REMOVE], 2, idx);
            ret = st_run(s, ST_ATT_REMOVE);
        }
    }
    return ret;
}

static int st_pairs(struct store *s, const struct meetup_change *ch)
{
    sqlite3_stmt *st = s->st[ST_PAIR_INSERT];
    size_t i;
    int ret = 0;

    for (i = 0; i < ch->n_pairs && ret == 0; i++) {
        int64_t a, b;

        ret = st_find_idx(s, ch->event_id, ch->pairs[i].a, &a);
        if (ret == 0)
            ret = st_find_idx(s, ch->event_id, ch->pairs[i].b, &b);
        if (ret < 0)
            break;
        sqlite3_bind_int64(st, 1, (int64_t)ch->event_id);
        sqlite3_bind_int(st, 2, ch->pair_kind == MEETUP_PAIR_AVOID);
        sqlite3_bind_int64(st, 3, a < b ? a : b);
        sqlite3_bind_int64(st, 4, a < b ? b : a);
        ret = st_run(s, ST_PAIR_INSERT);
    }
    return ret;
}

/* person_of[] of an event: people.num by roster index. */
static int st_person_of(struct store *s, uint64_t event, int64_t **out,
                        int64_t *count)
{
    sqlite3_stmt *st = s->st[ST_ATT_PERSONS];
    int64_t *map = NULL;
    uint32_t *next;
    int rc, ret;

    ret = st_next_idx(s, event, &next);
    if (ret < 0)
        return ret;
    *count = *next - 1;
    map = calloc((size_t)*count + 1, sizeof(*map));
    if (map == NULL)
        return st_fail(s, -ENOMEM, "out of memory");
    sqlite3_bind_int64(st, 1, (int64_t)event);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t idx = sqlite3_column_int64(st, 0);

        if (idx >= 0 && idx < *count)
            map[idx] = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(map);
        return st_fail_db(s, st_sql[ST_ATT_PERSONS]);
    }
    *out = map;
    return 0;
}

static int st_encounter(struct store *s, int64_t a, int64_t b,
                        const struct meetup_change *ch)
{
    sqlite3_stmt *st = s->st[ST_ENC_INSERT];
    int ret;

    sqlite3_bind_int64(st, 1, s->next_enc);
    sqlite3_bind_int64(st, 2, a);
    sqlite3_bind_int64(st, 3, b);
    sqlite3_bind_int64(st, 4, (int64_t)ch->event_id);
    sqlite3_bind_int64(st, 5, ch->round.round);
    sqlite3_bind_int64(st, 6, ch->round.at_unix);
    ret = st_run(s, ST_ENC_INSERT);
    if (ret == 0)
        s->next_enc++;
    return ret;
}

/* The round, its seats, and its encounters in mu_add_encounters() order:
 * table by table, members in seat order, every pair i < j. */
static int st_round(struct store *s, const struct meetup_change *ch)
{
    const struct meetup_round_rec *r = &ch->round;
    sqlite3_stmt *st = s->st[ST_ROUND_INSERT];
    uint32_t *members = NULL, *start = NULL, i, j, t;
    int64_t *person_of = NULL, count = 0;
    int ret;

    sqlite3_bind_int64(st, 1, (int64_t)ch->event_id);
    sqlite3_bind_int64(st, 2, r->round);
    sqlite3_bind_int64(st, 3, s->next_seq++);
    sqlite3_bind_int64(st, 4, r->at_unix);
    sqlite3_bind_int64(st, 5, r->n);
    sqlite3_bind_int64(st, 6, r->tables);
    sqlite3_bind_int64(st, 7, (int64_t)r->repeat_pairs);
    sqlite3_bind_int64(st, 8, (int64_t)r->repeat_lower_bound);
    ret = st_run(s, ST_ROUND_INSERT);
    if (ret == 0)
        ret = st_person_of(s, ch->event_id, &person_of, &count);
    if (ret < 0)
        goto out;
    members = malloc(((size_t)r->n + 1) * sizeof(*members));
    start = calloc((size_t)r->tables + 2, sizeof(*start));
    if (members == NULL || start == NULL) {
        ret = st_fail(s, -ENOMEM, "out of memory");
        goto out;
    }
    st = s->st[ST_SEAT_INSERT];
    for (i = 0; i < r->n && ret == 0; i++) {
        if (r->people[i] >= count || r->table_of[i] >= r->tables) {
            ret = st_fail(s, -EINVAL, "round %u of event %llu: bad seat",
                          r->round, (unsigned long long)ch->event_id);
            break;
        }
        start[r->table_of[i] + 2]++;
        sqlite3_bind_int64(st, 1, (int64_t)ch->event_id);
        sqlite3_bind_int64(st, 2, r->round);
        sqlite3_bind_int64(st, 3, i);
        sqlite3_bind_int64(st, 4, r->people[i]);
        sqlite3_bind_int64(st, 5, r->table_of[i]);
        ret = st_run(s, ST_SEAT_INSERT);
    }
    if (ret < 0)
        goto out;
    for (t = 0; t < r->tables; t++)
        start[t + 2] += start[t + 1];
    for (i = 0; i < r->n; i++)
        members[start[r->table_of[i] + 1]++] = r->people[i];
    for (t = 0; t < r->tables && ret == 0; t++) {
        for (i = start[t]; i < start[t + 1] && ret == 0; i++) {
            for (j = i + 1; j < start[t + 1] && ret == 0; j++)
                ret = st_encounter(s, person_of[members[i]],
                                   person_of[members[j]], ch);
        }
    }
out:
    free(person_of);
    free(members);
    free(start);
    return ret;
}

/* The profile, presence and pairs go in every event; the rows keep the
 * roster index and person number so rounds and encounters stay whole, and
 * the person's id becomes the token meetup.c shows. */
static int st_forget(struct store *s, const struct meetup_change *ch)
{
    static const enum store_stmt steps[] = {
        ST_PRESENCE_FORGET, ST_PAIR_FORGET, ST_ATT_FORGET, ST_PERSON_FORGET,
    };
    sqlite3_stmt *st = s->st[ST_ATT_OF_PERSON];
    const char *id = ch->ids[0];
    int64_t num;
    size_t i;
    int rc, ret = 0;

    if (!st_map_get(s->ids, 0, id, &num))
        return st_fail(s, -EINVAL, "no person %s", id);
    sqlite3_bind_int64(st, 1, num);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        st_map_del(s->ids, (uint64_t)sqlite3_column_int64(st, 0), id);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return st_fail_db(s, st_sql[ST_ATT_OF_PERSON]);
    st_map_del(s->ids, 0, id);
    ret = st_vocab_forget(s, num);
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && ret == 0; i++) {
        sqlite3_bind_int64(s->st[steps[i]], 1, num);
        ret = st_run(s, steps[i]);
    }
    return ret;
}

static int st_change(struct store *s, const struct meetup_change *ch)
{
    int64_t seq;
    size_t i;
    int ret = 0;

    switch (ch->kind) {
    case MEETUP_CH_EVENT_CREATE:
        return st_event_create(s, ch);
    case MEETUP_CH_EVENT_CLOSE:
        sqlite3_bind_int64(s->st[ST_EVENT_CLOSE], 1, (int64_t)ch->event_id);
        return st_run(s, ST_EVENT_CLOSE);
    case MEETUP_CH_UPSERT:
        seq = s->next_seq++;
        for (i = 0; i < ch->n_profiles && ret == 0; i++)
            ret = st_upsert_one(s, ch->event_id, seq, &ch->profiles[i]);
        return ret;
    case MEETUP_CH_REMOVE:
    case MEETUP_CH_CHECK_IN:
    case MEETUP_CH_CHECK_OUT:
        return st_ids(s, ch);
    case MEETUP_CH_PAIRS_ADD:
        return st_pairs(s, ch);
    case MEETUP_CH_ROUND:
        return st_round(s, ch);
    case MEETUP_CH_FORGET:
        return st_forget(s, ch);
    }
    return st_fail(s, -EINVAL, "unknown change kind %d", (int)ch->kind);
}

/* The log still holds the forgotten person's old pages after the commit
 * (secure_delete only clears the database's own pages): copy the log into
 * the database and truncate it.  A reader holding a snapshot of the log
 * makes that fail; the owner then retries with store_log_retry()
 * (s->wal_dirty) instead of waiting here. */
static int st_wal_truncate(struct store *s)
{
    int rc;

    sqlite3_busy_timeout(s->db, STORE_CKPT_TRY_MS);
    rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                   NULL, NULL);
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    s->wal_dirty = rc != SQLITE_OK;
    return s->wal_dirty ? -EBUSY : 0;
}

bool store_log_pending(const struct store *s)
{
    return s->wal_dirty;
}

int store_log_retry(struct store *s)
{
    if (!s->wal_dirty)
        return 0;
    return st_wal_truncate(s);
}

int store_commit(struct store *s, const struct meetup_change *const *changes,
                 size_t n)
{
    bool forgot = false;
    size_t i;
    int ret = 0;

    if (s->readonly)
        return st_fail(s, -EROFS, "the store is read-only");
    if (s->failed)
        return -EIO;
    if (n == 0)
        return 0;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        ret = st_fail_db(s, "begin");
    for (i = 0; i < n && ret == 0; i++) {
        ret = st_change(s, changes[i]);
        forgot |= changes[i]->kind == MEETUP_CH_FORGET;
    }
    if (ret == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) !=
                        SQLITE_OK)
        ret = st_fail_db(s, "commit");
    if (ret < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->failed = true;
    }
    /* The commit is durable either way: a log that stays is no error. */
    if (ret == 0 && (forgot || s->wal_dirty))
        st_wal_truncate(s);
    return ret;
}
