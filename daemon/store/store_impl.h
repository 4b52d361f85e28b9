/* store_impl.h -- what the store_*.c files share; not a public API.
 *
 * store.c opens, checks and migrates the database and answers history
 * queries; store_commit.c writes changes; store_vocab.c mirrors the
 * events' tag vocabularies; store_map.c is the in-memory id index;
 * store_load.c replays the tables into a hub.
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

/* How long a statement waits for the lock of another connection. */
#define STORE_BUSY_TIMEOUT_MS 5000

/* The statements store_commit() runs, prepared once at open. */
enum store_stmt {
    ST_EVENT_INSERT,
    ST_EVENT_CLOSE,
    ST_PERSON_INSERT,
    ST_PERSON_FORGET,
    ST_ATT_OF_PERSON,
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
    ST_VOCAB_INSERT,
    ST_ENC_INSERT,
    ST_COUNT
};

/* What the store counts per event, in memory. */
struct st_evc {
    uint32_t next_idx; /* the next roster index + 1; 0 not read yet */
    uint32_t n_vocab;  /* rows in vocab */
};

/* Key spaces of struct store.ids beside people (0) and attendees (the
 * event id): an event's vocabulary by spelling and by folded form. */
#define ST_NS_SPELLING (1ull << 62)
#define ST_NS_FOLDED (1ull << 63)

/* ids to numbers, in memory (store_map.c); `ns` separates key spaces:
 * 0 for person ids, the event id for its attendees. */
struct st_map;

/* An empty map, or NULL on ENOMEM; free with st_map_free (NULL: no-op). */
struct st_map *st_map_new(void);
void st_map_free(struct st_map *m);

/* Maps (ns, key) to `value`, replacing any old value; the map keeps its
 * own copy of `key`.  Returns 0, or -ENOMEM with the map unchanged. */
int st_map_put(struct st_map *m, uint64_t ns, const char *key, int64_t value);

/* Whether (ns, key) is mapped; if so, its value is stored in *value. */
bool st_map_get(const struct st_map *m, uint64_t ns, const char *key,
                int64_t *value);

/* Unmaps (ns, key); a key that is not mapped is ignored. */
void st_map_del(struct st_map *m, uint64_t ns, const char *key);

struct store {
    sqlite3 *db;
    int lock_fd;         /* -1 for a read-only store */
    bool readonly;
    bool failed;         /* a commit failed: the disk is behind the hub */
    bool wal_dirty;      /* the log may still hold a forgotten person */
    sqlite3_stmt *st[ST_COUNT];
    int64_t next_seq;    /* global order of attendee rows and rounds */
    int64_t next_person; /* people.num: the hub's person number + 1 */
    int64_t next_enc;    /* encounters.seq, as meetup_history() numbers */
    struct st_evc *evc;  /* by event id */
    size_t evc_cap;
    /* Live person id -> people.num, (event, attendee id) -> roster index
     * (removed attendees included, forgotten ones not), and the events'
     * vocabularies.  Loaded at open; a failed commit leaves them ahead of
     * the disk, which is why the store then refuses to go on. */
    struct st_map *ids;
    char err[STORE_ERR_BYTES];
};

/* The functions below that return int return 0 or a negative errno, with
 * the reason in s->err. */

/* printf into s->err; returns `ret` for tail calls. */
int st_fail(struct store *s, int ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fails with the database's message; maps SQLite codes to errno. */
int st_fail_db(struct store *s, const char *what);

/* Prepares the commit statements and loads the id maps (store_commit.c). */
int st_prepare_all(struct store *s);

/* The counters of `event`, zeroed when new; NULL on ENOMEM. */
struct st_evc *st_evc(struct store *s, uint64_t event);

/* Mirrors the vocabulary an upsert of `p` grows in the event's roster
 * (store_vocab.c): new folded forms are appended to the vocab table in
 * the order roster_upsert() interns them. */
int st_vocab_profile(struct store *s, uint64_t event,
                     const struct att_profile *p);

/* Before forgetting person `num`: replaces the vocabulary spellings that
 * only their profiles use by placeholders, keeping positions. */
int st_vocab_forget(struct store *s, int64_t num);

/* Fills s->ids with the stored vocabularies. */
int st_vocab_load(struct store *s);

/* Fills s->ids with the live person ids (and, when `attendees`, the
 * attendee ids) from the tables. */
int st_load_ids(struct store *s, bool attendees);

/* Runs a single-row integer query (NULL reads as `dflt`). */
int st_query_int(struct store *s, const char *sql, int64_t dflt,
                 int64_t *out);

#endif
