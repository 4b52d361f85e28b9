/* store_vocab.c -- mirroring each event's tag vocabulary.
 *
 * A roster interns every company name and tag the first time its folded
 * form appears, and keeps that first spelling for display; tag ids follow
 * that order, and "why" texts list tags by id.  Replaying only the
 * current profiles would intern in another order whenever a profile was
 * changed, so the store records the vocabulary itself, in interning
 * order.  A spelling seen before is recognised without folding it again:
 * folding is the costly part.
 */
#include "store_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vocab.h"

/* One company name or tag, in roster_upsert() order.  A company that
 * folds to nothing (only white space) is not interned by the roster. */
static int st_vocab_word(struct store *s, uint64_t event, const char *text,
                         bool company)
{
    sqlite3_stmt *st = s->st[ST_VOCAB_INSERT];
    struct st_evc *c;
    int64_t pos;
    size_t len;
    char *folded;
    int ret;

    if (st_map_get(s->ids, event | ST_NS_SPELLING, text, &pos))
        return 0;
    ret = vocab_fold(text, strlen(text), &folded, &len);
    if (ret == -EINVAL && company)
        return 0;
    if (ret < 0)
        return st_fail(s, ret, "event %llu: cannot fold tag %s",
                       (unsigned long long)event, text);
    c = st_evc(s, event);
    if (c == NULL) {
        ret = -ENOMEM;
    } else if (!st_map_get(s->ids, event | ST_NS_FOLDED, folded, &pos)) {
        pos = c->n_vocab;
        sqlite3_bind_int64(st, 1, (int64_t)event);
        sqlite3_bind_int64(st, 2, pos);
        sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
        ret = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
        sqlite3_reset(st);
        if (ret < 0)
            ret = st_fail_db(s, "vocab");
        else
            ret = st_map_put(s->ids, event | ST_NS_FOLDED, folded, pos);
        if (ret == 0)
            c->n_vocab++;
    }
    if (ret == 0)
        ret = st_map_put(s->ids, event | ST_NS_SPELLING, text, pos);
    free(folded);
    if (ret == -ENOMEM)
        return st_fail(s, ret, "out of memory");
    return ret;
}

static int st_vocab_list(struct store *s, uint64_t event,
                         const char *const *tags, size_t n)
{
    size_t i;
    int ret = 0;

    for (i = 0; i < n && ret == 0; i++)
        ret = st_vocab_word(s, event, tags[i], false);
    return ret;
}

int st_vocab_profile(struct store *s, uint64_t event,
                     const struct att_profile *p)
{
    int ret = 0;

    if (p->company != NULL)
        ret = st_vocab_word(s, event, p->company, true);
    if (ret == 0)
        ret = st_vocab_list(s, event, p->interests, p->n_interests);
    if (ret == 0)
        ret = st_vocab_list(s, event, p->offers, p->n_offers);
    if (ret == 0)
        ret = st_vocab_list(s, event, p->seeks, p->n_seeks);
    return ret;
}

int st_vocab_load(struct store *s)
{
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_DONE, ret = 0;

    if (sqlite3_prepare_v2(s->db, "SELECT event, pos, spelling FROM vocab"
                           " ORDER BY event, pos", -1, &st, NULL) !=
        SQLITE_OK)
        return st_fail_db(s, "vocab");
    while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t event = (uint64_t)sqlite3_column_int64(st, 0);
        int64_t pos = sqlite3_column_int64(st, 1);
        const char *text = (const char *)sqlite3_column_text(st, 2);
        struct st_evc *c = st_evc(s, event);
        char *folded = NULL;
        size_t len;

        if (c == NULL)
            ret = -ENOMEM;
        else if (text == NULL || pos != c->n_vocab ||
                 vocab_fold(text, strlen(text), &folded, &len) < 0)
            ret = st_fail(s, -EBADMSG, "vocabulary of event %llu is "
                          "damaged", (unsigned long long)event);
        if (ret == 0)
            ret = st_map_put(s->ids, event | ST_NS_FOLDED, folded, pos);
        if (ret == 0)
            ret = st_map_put(s->ids, event | ST_NS_SPELLING, text, pos);
        if (ret == 0)
            c->n_vocab++;
        free(folded);
    }
    if (ret == -ENOMEM)
        ret = st_fail(s, ret, "out of memory");
    if (ret == 0 && rc != SQLITE_DONE)
        ret = st_fail_db(s, "vocab");
    sqlite3_finalize(st);
    return ret;
}

/* Calls fn on every string of a stored profile row: the company and the
 * joined tag lists, in the four columns from `first`. */
static void st_row_strings(sqlite3_stmt *st, int first,
                           void (*fn)(struct store *, uint64_t, const char *,
                                      void *),
                           struct store *s, uint64_t event, void *ctx)
{
    char word[VOCAB_TAG_MAX_BYTES + 1];
    int col;

    for (col = first; col < first + 4; col++) {
        const char *t = (const char *)sqlite3_column_text(st, col);

        while (t != NULL) {
            const char *end = strchr(t, STORE_TAG_SEP);
            size_t len = end != NULL ? (size_t)(end - t) : strlen(t);

            if (len < sizeof(word)) {
                memcpy(word, t, len);
                word[len] = '\0';
                fn(s, event, word, ctx);
            }
            t = end != NULL ? end + 1 : NULL;
        }
    }
}

/* The vocabulary positions a forgotten person brought and nobody else in
 * the event uses: room for one profile (a company and three tag lists). */
#define ST_SCRUB_MAX (1 + 3 * ATT_TAGS_MAX)

struct st_scrub {
    int64_t pos[ST_SCRUB_MAX];
    char *spelling[ST_SCRUB_MAX];
    size_t n;
    int err; /* -ENOMEM, or -EBADMSG for a row with too many tags */
};

/* Whether `word` is in the event's vocabulary, at *pos; *i is where
 * that position is in sc, sc->n when it is not there. */
static bool st_scrub_find(const struct store *s, uint64_t event,
                          const char *word, const struct st_scrub *sc,
                          int64_t *pos, size_t *i)
{
    if (!st_map_get(s->ids, event | ST_NS_SPELLING, word, pos))
        return false;
    for (*i = 0; *i < sc->n && sc->pos[*i] != *pos; (*i)++)
        ;
    return true;
}

static void st_scrub_add(struct store *s, uint64_t event, const char *word,
                         void *ctx)
{
    struct st_scrub *sc = ctx;
    int64_t pos;
    size_t i;

    if (!st_scrub_find(s, event, word, sc, &pos, &i) || i < sc->n)
        return;
    /* Rows are written from checked profiles; more words means damage. */
    if (sc->n == ST_SCRUB_MAX) {
        sc->err = -EBADMSG;
        return;
    }
    sc->spelling[sc->n] = strdup(word);
    if (sc->spelling[sc->n] == NULL)
        sc->err = -ENOMEM;
    else
        sc->pos[sc->n++] = pos;
}

/* Someone else uses `word`: its position is not scrubbed. */
static void st_scrub_keep(struct store *s, uint64_t event, const char *word,
                          void *ctx)
{
    struct st_scrub *sc = ctx;
    int64_t pos;
    size_t i;

    if (st_scrub_find(s, event, word, sc, &pos, &i) && i < sc->n)
        sc->pos[i] = -1;
}

/* Replaces the spellings in one event's vocabulary that only the
 * forgotten person used; their ids stay, so tag order is kept. */
static int st_scrub_event(struct store *s, uint64_t event, int64_t num,
                          struct st_scrub *sc)
{
    static const char others_sql[] =
        "SELECT company, interests, offers, seeks FROM attendees"
        " WHERE event = ?1 AND person != ?2 AND id IS NOT NULL";
    sqlite3_stmt *st = NULL;
    char placeholder[48];
    size_t i;
    int rc, ret = 0;

    if (sqlite3_prepare_v2(s->db, others_sql, -1, &st, NULL) != SQLITE_OK)
        return st_fail_db(s, "forget vocabulary");
    sqlite3_bind_int64(st, 1, (int64_t)event);
    sqlite3_bind_int64(st, 2, num);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        st_row_strings(st, 0, st_scrub_keep, s, event, sc);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return st_fail_db(s, "forget vocabulary");
    if (sqlite3_prepare_v2(s->db, "UPDATE vocab SET spelling = ?3"
                           " WHERE event = ?1 AND pos = ?2", -1, &st,
                           NULL) != SQLITE_OK)
        return st_fail_db(s, "forget vocabulary");
    for (i = 0; i < sc->n && ret == 0; i++) {
        char *folded;
        size_t len;

        if (sc->pos[i] < 0)
            continue;
        snprintf(placeholder, sizeof(placeholder), "forgotten-tag-%lld",
                 (long long)sc->pos[i]);
        sqlite3_bind_int64(st, 1, (int64_t)event);
        sqlite3_bind_int64(st, 2, sc->pos[i]);
        sqlite3_bind_text(st, 3, placeholder, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            ret = st_fail_db(s, "forget vocabulary");
        sqlite3_reset(st);
        /* Later, the same tag from someone else is new again. */
        st_map_del(s->ids, event | ST_NS_SPELLING, sc->spelling[i]);
        if (ret == 0 && vocab_fold(sc->spelling[i], strlen(sc->spelling[i]),
                                   &folded, &len) == 0) {
            st_map_del(s->ids, event | ST_NS_FOLDED, folded);
            free(folded);
        }
    }
    sqlite3_finalize(st);
    return ret;
}

int st_vocab_forget(struct store *s, int64_t num)
{
    static const char mine_sql[] =
        "SELECT event, company, interests, offers, seeks FROM attendees"
        " WHERE person = ?1 AND id IS NOT NULL";
    struct st_scrub *sc = calloc(1, sizeof(*sc));
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_DONE, ret = 0;
    size_t i;

    if (sc == NULL)
        return st_fail(s, -ENOMEM, "out of memory");
    if (sqlite3_prepare_v2(s->db, mine_sql, -1, &st, NULL) != SQLITE_OK) {
        free(sc);
        return st_fail_db(s, "forget vocabulary");
    }
    sqlite3_bind_int64(st, 1, num);
    while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t event = (uint64_t)sqlite3_column_int64(st, 0);

        st_row_strings(st, 1, st_scrub_add, s, event, sc);
        if (sc->err == -ENOMEM)
            ret = st_fail(s, -ENOMEM, "out of memory");
        else if (sc->err < 0)
            ret = st_fail(s, sc->err, "the profiles of person %lld in "
                          "event %llu are damaged", (long long)num,
                          (unsigned long long)event);
        else if (sc->n > 0)
            ret = st_scrub_event(s, event, num, sc);
        for (i = 0; i < sc->n; i++)
            free(sc->spelling[i]);
        sc->n = 0;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = st_fail_db(s, "forget vocabulary");
    sqlite3_finalize(st);
    free(sc);
    return ret;
}
