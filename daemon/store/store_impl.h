/* store_impl.h -- what the store_*.c files share; not a public API.
 *
 * store.c opens, checks and migrates the database and answers history
 * queries; store_commit.c writes changes; store_load.c replays the tables
 * into a hub.
 */
#ifndef MINGLE_STORE_IMPL_H
#define MINGLE_STORE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

/* Tags cannot hold control characters (meetup rejects them), so the unit
 * separator joins a tag list into one column losslessly. */
#define STORE_TAG_SEP '\x1f'

/* The statements store_commit() runs, prepared once at open. */
enum store_stmt {
    ST_EVENT_INSERT,
    ST_EVENT_CLOSE,
    ST_PERSON_FIND,
    ST_PERSON_INSERT,
    ST_PERSON_FORGET,
    ST_ATT_FIND,
    ST_ATT_NEXT_IDX,
    ST_ATT_INSERT,
    ST_ATT_UPDATE,
    ST_ATT_REMOVE,
    ST_ATT_PERSONS,
    ST_ATT_FORGET,
    ST_PRESENCE_ADD,
    ST_PRESENCE_DEL,
    ST_PRESENCE_FORGET,
    ST_PAIR_INSERT,
    ST_PAIR_FORGET,
    ST_ROUND_INSERT,
    ST_SEAT_INSERT,
    ST_ENC_INSERT,
    ST_COUNT
};

struct store {
    sqlite3 *db;
    int lock_fd;         /* -1 for a read-only store */
    bool readonly;
    bool failed;         /* a commit failed: the disk is behind the hub */
    sqlite3_stmt *st[ST_COUNT];
    int64_t next_seq;    /* global order of attendee rows and rounds */
    int64_t next_person; /* people.num: the hub's person number + 1 */
    int64_t next_enc;    /* encounters.seq, as meetup_history() numbers */
    char err[STORE_ERR_BYTES];
};

/* printf into s->err; returns `ret` for tail calls. */
int st_fail(struct store *s, int ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fails with the database's message; maps SQLite codes to errno. */
int st_fail_db(struct store *s, const char *what);

/* Prepares the commit statements (store_commit.c). */
int st_prepare_all(struct store *s);

/* Runs a single-row integer query (NULL reads as `dflt`). */
int st_query_int(struct store *s, const char *sql, int64_t dflt,
                 int64_t *out);

#endif
