/* store.c -- opening the data directory: lock, integrity, schema.
 *
 * Nothing is written to a database before it proved to be a readable
 * mingle database of a version we know: a wrong or damaged file is left
 * exactly as it was for the operator to inspect.
 */
#include "store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_PATH_MAX_BYTES 4096

/* Migration n brings user_version n-1 to n. */
static const char *const st_migrations[STORE_SCHEMA_VERSION] = {
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " table_size INTEGER NOT NULL,"
    " rounds_planned INTEGER NOT NULL,"
    " w_interests REAL NOT NULL,"
    " w_business REAL NOT NULL,"
    " w_same_company REAL NOT NULL,"
    " seed INTEGER NOT NULL," /* the uint64 seed's bits */
    " history_kind INTEGER NOT NULL,"
    " history_last_events INTEGER NOT NULL,"
    " history_since INTEGER NOT NULL,"
    " created INTEGER NOT NULL,"
    " closed INTEGER NOT NULL DEFAULT 0);"
    /* num is the hub's person number + 1; a forgotten person's id is
     * replaced by the token the hub shows, and the id is free again. */
    "CREATE TABLE people ("
    " num INTEGER PRIMARY KEY,"
    " id TEXT NOT NULL,"
    " forgotten INTEGER NOT NULL DEFAULT 0);"
    /* idx is the roster index that seats refer to; seq orders rows across
     * events for replay.  A forgotten person's rows keep only idx, seq and
     * person (id and profile NULL).  Ids are unique per event and live
     * person ids unique, enforced by the store's in-memory index rather
     * than SQL indexes, whose random keys would make every commit rewrite
     * many pages. */
    "CREATE TABLE attendees ("
    " event INTEGER NOT NULL REFERENCES events(id),"
    " idx INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " person INTEGER NOT NULL REFERENCES people(num),"
    " id TEXT,"
    " name TEXT,"
    " company TEXT,"
    " industry TEXT,"
    " interests TEXT," /* tags joined by U+001F; NULL: none */
    " offers TEXT,"
    " seeks TEXT,"
    " removed INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (event, idx)) WITHOUT ROWID;"
    "CREATE INDEX attendees_seq ON attendees(seq);"
    /* Each event's vocabulary in the order its roster interned it: one
     * spelling per folded form, the first one seen, which the roster
     * shows; a replay interns them first so tag ids and display spellings
     * come back even when the profiles that brought them changed. */
    "CREATE TABLE vocab ("
    " event INTEGER NOT NULL REFERENCES events(id),"
    " pos INTEGER NOT NULL,"
    " spelling TEXT NOT NULL,"
    " PRIMARY KEY (event, pos)) WITHOUT ROWID;"
    "CREATE TABLE presence ("
    " event INTEGER NOT NULL,"
    " idx INTEGER NOT NULL,"
    " PRIMARY KEY (event, idx),"
    " FOREIGN KEY (event, idx) REFERENCES attendees(event, idx))"
    " WITHOUT ROWID;"
    "CREATE TABLE pairs ("
    " seq INTEGER PRIMARY KEY,"
    " event INTEGER NOT NULL,"
    " kind INTEGER NOT NULL," /* 0 met_before, 1 avoid */
    " a INTEGER NOT NULL,"
    " b INTEGER NOT NULL,"
    " UNIQUE (event, kind, a, b),"
    " FOREIGN KEY (event, a) REFERENCES attendees(event, idx),"
    " FOREIGN KEY (event, b) REFERENCES attendees(event, idx));"
    "CREATE TABLE rounds ("
    " event INTEGER NOT NULL REFERENCES events(id),"
    " round INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " at INTEGER NOT NULL,"
    " n INTEGER NOT NULL,"
    " tables INTEGER NOT NULL,"
    " repeat_pairs INTEGER NOT NULL,"
    " repeat_lower_bound INTEGER NOT NULL,"
    " PRIMARY KEY (event, round)) WITHOUT ROWID;"
    "CREATE INDEX rounds_seq ON rounds(seq);"
    "CREATE TABLE seats ("
    " event INTEGER NOT NULL,"
    " round INTEGER NOT NULL,"
    " pos INTEGER NOT NULL,"
    " idx INTEGER NOT NULL,"
    " tbl INTEGER NOT NULL," /* 0-based */
    " PRIMARY KEY (event, round, pos),"
    " FOREIGN KEY (event, round) REFERENCES rounds(event, round),"
    " FOREIGN KEY (event, idx) REFERENCES attendees(event, idx))"
    " WITHOUT ROWID;"
    /* seq numbers encounters as meetup_history() does. */
    "CREATE TABLE encounters ("
    " seq INTEGER PRIMARY KEY,"
    " a INTEGER NOT NULL REFERENCES people(num),"
    " b INTEGER NOT NULL REFERENCES people(num),"
    " event INTEGER NOT NULL REFERENCES events(id),"
    " round INTEGER NOT NULL,"
    " at INTEGER NOT NULL);",
};

int st_fail(struct store *s, int ret, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->err, sizeof(s->err), fmt, ap);
    va_end(ap);
    return ret;
}

int st_fail_db(struct store *s, const char *what)
{
    int code = sqlite3_extended_errcode(s->db);
    int ret;

    switch (code & 0xff) {
    case SQLITE_NOMEM:
        ret = -ENOMEM;
        break;
    case SQLITE_FULL:
        ret = -ENOSPC;
        break;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        ret = -EBADMSG;
        break;
    case SQLITE_READONLY:
        ret = -EROFS;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        ret = -EBUSY;
        break;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
        ret = -EINVAL;
        break;
    default:
        ret = -EIO;
        break;
    }
    return st_fail(s, ret, "%s: %s", what, sqlite3_errmsg(s->db));
}

const char *store_error(const struct store *s)
{
    return s->err;
}

int st_query_int(struct store *s, const char *sql, int64_t dflt,
                 int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return st_fail_db(s, sql);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_type(st, 0) == SQLITE_NULL
                   ? dflt : sqlite3_column_int64(st, 0);
        rc = SQLITE_DONE;
    } else if (rc == SQLITE_DONE) {
        *out = dflt;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : st_fail_db(s, sql);
}

static int st_exec(struct store *s, const char *sql, const char *what)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK
               ? 0 : st_fail_db(s, what);
}

/* Takes DATA_DIR/lock, or names the process holding it. */
static int st_lock(struct store *s, const char *dir, const char *path)
{
    char pid[32];
    ssize_t got;
    int len;

    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0)
        return st_fail(s, -errno, "cannot open %s: %s", path,
                       strerror(errno));
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;

        if (e != EWOULDBLOCK)
            return st_fail(s, -e, "cannot lock %s: %s", path, strerror(e));
        got = pread(s->lock_fd, pid, sizeof(pid) - 1, 0);
        pid[got > 0 ? got : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        return st_fail(s, -EBUSY,
                       "data dir %s is in use by another mingled (pid %s)",
                       dir, pid[0] != '\0' ? pid : "unknown");
    }
    len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    errno = EIO; /* what a short write reports */
    if (ftruncate(s->lock_fd, 0) < 0 ||
        pwrite(s->lock_fd, pid, (size_t)len, 0) != len)
        return st_fail(s, -errno, "cannot write %s: %s", path,
                       strerror(errno));
    return 0;
}

/* Proves the file is a sound database of a known version; reads only. */
static int st_check(struct store *s, const char *path, int64_t *version)
{
    int64_t n = 0;
    sqlite3_stmt *st = NULL;
    int ret;

    ret = st_query_int(s, "SELECT count(*) FROM sqlite_schema", 0, &n);
    if (ret == 0)
        ret = st_query_int(s, "PRAGMA user_version", 0, version);
    if (ret == -EBADMSG || ret == -EIO)
        return st_fail(s, -EBADMSG,
                       "%s is not a readable mingle database (%s); "
                       "refusing to use or change it", path,
                       sqlite3_errmsg(s->db));
    if (ret < 0)
        return ret;
    if (*version > STORE_SCHEMA_VERSION)
        return st_fail(s, -EPROTO,
                       "%s has schema version %lld, this mingled knows up "
                       "to %d: use a newer mingled", path,
                       (long long)*version, STORE_SCHEMA_VERSION);
    if (*version == 0 && n > 0)
        return st_fail(s, -EBADMSG, "%s holds tables but no mingle schema; "
                       "refusing to use or change it", path);
    /* Every page, at any size: a damaged page anywhere (the encounters,
     * an index, an overflow page) would otherwise be found only by a
     * later query, after the daemon wrote to the file.  quick_check reads
     * the file once: 0.6 s for 100 MB (bench/bench_store.sh). */
    if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL) !=
        SQLITE_OK)
        return st_fail_db(s, "quick_check");
    if (sqlite3_step(st) != SQLITE_ROW) {
        ret = st_fail(s, -EBADMSG, "%s is corrupt; refusing to use or "
                      "change it (%s)", path, sqlite3_errmsg(s->db));
    } else {
        const char *msg = (const char *)sqlite3_column_text(st, 0);
        const char *nl = msg != NULL ? strchr(msg, '\n') : NULL;

        /* A first line "*** in database main ***" only names the schema;
         * the damage is described on the next one. */
        if (nl != NULL && strncmp(msg, "*** ", 4) == 0)
            msg = nl + 1;
        if (msg == NULL || strcmp(msg, "ok") != 0)
            ret = st_fail(s, -EBADMSG, "%s is corrupt; refusing to use or "
                          "change it (%.*s)", path, msg != NULL ?
                          (int)strcspn(msg, "\n") : 0, msg != NULL ? msg : "");
    }
    sqlite3_finalize(st);
    return ret;
}

static int st_migrate(struct store *s, int64_t version)
{
    char sql[64];
    int ret;

    while (version < STORE_SCHEMA_VERSION) {
        ret = st_exec(s, "BEGIN IMMEDIATE", "begin migration");
        if (ret < 0)
            return ret;
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld",
                 (long long)version + 1);
        ret = st_exec(s, st_migrations[version], "migration");
        if (ret == 0)
            ret = st_exec(s, sql, "migration");
        if (ret == 0)
            ret = st_exec(s, "COMMIT", "commit migration");
        if (ret < 0) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return ret;
        }
        version++;
    }
    return 0;
}

/* What SQLite would take for a new database: an empty mingle.db (a
 * truncated file, a copy that failed) and a log without its database,
 * which SQLite would replay into a new one.  *fresh tells whether there is
 * no database yet. */
static int st_check_files(struct store *s, const char *db_path, bool *fresh)
{
    char wal[STORE_PATH_MAX_BYTES + sizeof("-wal")];
    struct stat st;

    *fresh = false;
    if (stat(db_path, &st) == 0) {
        if (S_ISREG(st.st_mode) && st.st_size == 0)
            return st_fail(s, -EBADMSG, "%s is empty: the database it held "
                           "is lost (a new data dir has no %s at all); "
                           "refusing to start from nothing", db_path,
                           STORE_DB_FILE);
        return 0;
    }
    /* Anything but a missing file is SQLite's to report. */
    if (errno != ENOENT)
        return 0;
    snprintf(wal, sizeof(wal), "%s-wal", db_path);
    if (stat(wal, &st) == 0 && st.st_size > 0)
        return st_fail(s, -EBADMSG, "%s is missing but its log %s is "
                       "there; refusing to start a new database beside it",
                       db_path, wal);
    *fresh = true;
    return 0;
}

/* Builds a new database beside its final name and renames it into place:
 * once mingle.db exists it holds the schema, so an empty mingle.db always
 * means a lost database, even after a crash during the first start. */
static int st_create(struct store *s, const char *dir, const char *db_path)
{
    char tmp[STORE_PATH_MAX_BYTES], journal[STORE_PATH_MAX_BYTES];
    int dfd = -1, ret;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", db_path) >=
            sizeof(tmp) ||
        (size_t)snprintf(journal, sizeof(journal), "%s-journal", tmp) >=
            sizeof(journal))
        return st_fail(s, -ENAMETOOLONG, "data dir path too long");
    /* Leftovers of a start that was killed: never a database yet. */
    if ((unlink(tmp) < 0 && errno != ENOENT) ||
        (unlink(journal) < 0 && errno != ENOENT))
        return st_fail(s, -errno, "cannot remove %s: %s", tmp,
                       strerror(errno));
    if (sqlite3_open_v2(tmp, &s->db, SQLITE_OPEN_READWRITE |
                        SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        ret = s->db == NULL ? st_fail(s, -ENOMEM, "out of memory")
                            : st_fail_db(s, tmp);
        goto out;
    }
    ret = st_migrate(s, 0);
    if (ret < 0)
        goto out;
    if (sqlite3_close(s->db) != SQLITE_OK) {
        ret = st_fail_db(s, tmp);
        goto out;
    }
    s->db = NULL;
    if (rename(tmp, db_path) < 0) {
        ret = st_fail(s, -errno, "cannot rename %s: %s", tmp,
                      strerror(errno));
        goto out;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0)
        ret = st_fail(s, -errno, "cannot sync %s: %s", dir, strerror(errno));
out:
    if (dfd >= 0)
        close(dfd);
    sqlite3_close(s->db);
    s->db = NULL;
    return ret;
}

/* The counters store_commit() continues from. */
static int st_load_counters(struct store *s)
{
    int64_t a = 0, r = 0, p = 0, e = 0;
    int ret;

    ret = st_query_int(s, "SELECT max(seq) FROM attendees", 0, &a);
    if (ret == 0)
        ret = st_query_int(s, "SELECT max(seq) FROM rounds", 0, &r);
    if (ret == 0)
        ret = st_query_int(s, "SELECT max(num) FROM people", 0, &p);
    if (ret == 0)
        ret = st_query_int(s, "SELECT max(seq) FROM encounters", 0, &e);
    s->next_seq = (a > r ? a : r) + 1;
    s->next_person = p + 1;
    s->next_enc = e + 1;
    return ret;
}

static int st_open(const char *data_dir, bool readonly, struct store **out,
                   char *err, size_t errcap)
{
    struct store *s = calloc(1, sizeof(*s));
    char db_path[STORE_PATH_MAX_BYTES], lock_path[STORE_PATH_MAX_BYTES];
    int64_t version = 0;
    bool fresh = false;
    int flags, ret;

    *out = NULL;
    if (s == NULL) {
        snprintf(err, errcap, "out of memory");
        return -ENOMEM;
    }
    s->lock_fd = -1;
    s->readonly = readonly;
    if ((size_t)snprintf(db_path, sizeof(db_path), "%s/%s", data_dir,
                         STORE_DB_FILE) >= sizeof(db_path) ||
        (size_t)snprintf(lock_path, sizeof(lock_path), "%s/%s", data_dir,
                         STORE_LOCK_FILE) >= sizeof(lock_path)) {
        ret = st_fail(s, -ENAMETOOLONG, "data dir path too long");
        goto out;
    }
    if (readonly) {
        if (access(db_path, R_OK) < 0) {
            ret = st_fail(s, -errno, "cannot read %s: %s", db_path,
                          strerror(errno));
            goto out;
        }
        flags = SQLITE_OPEN_READONLY;
    } else {
        if (mkdir(data_dir, 0700) < 0 && errno != EEXIST) {
            ret = st_fail(s, -errno, "cannot create data dir %s: %s",
                          data_dir, strerror(errno));
            goto out;
        }
        ret = st_lock(s, data_dir, lock_path);
        if (ret < 0)
            goto out;
        flags = SQLITE_OPEN_READWRITE;
    }
    ret = st_check_files(s, db_path, &fresh);
    if (ret == 0 && fresh && !readonly)
        ret = st_create(s, data_dir, db_path);
    if (ret < 0)
        goto out;
    if (sqlite3_open_v2(db_path, &s->db, flags | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        ret = s->db == NULL ? st_fail(s, -ENOMEM, "out of memory")
                            : st_fail_db(s, db_path);
        goto out;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    /* The working set of a big event (attendee and people indexes) must
     * not be read from the OS page cache at every upsert. */
    sqlite3_exec(s->db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
    /* Closing checkpoints the log into the database: not before the file
     * proved sound. */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    ret = st_check(s, db_path, &version);
    if (ret == 0)
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
    if (ret < 0)
        goto out;
    if (readonly) {
        if (version != STORE_SCHEMA_VERSION)
            ret = st_fail(s, -EBADMSG, "%s holds no mingle data", db_path);
    } else {
        ret = st_exec(s, "PRAGMA journal_mode = WAL", "journal_mode");
        if (ret == 0)
            ret = st_exec(s, "PRAGMA synchronous = FULL", "synchronous");
        if (ret == 0)
            ret = st_exec(s, "PRAGMA foreign_keys = ON", "foreign_keys");
        /* Forgetting a person must not leave their bytes in free space. */
        if (ret == 0)
            ret = st_exec(s, "PRAGMA secure_delete = ON", "secure_delete");
        if (ret == 0)
            ret = st_migrate(s, version);
        if (ret == 0)
            ret = st_prepare_all(s);
    }
    if (ret == 0)
        ret = st_load_counters(s);
out:
    if (ret < 0) {
        snprintf(err, errcap, "%s", s->err);
        store_close(s);
        return ret;
    }
    *out = s;
    return 0;
}

int store_open(const char *data_dir, struct store **out, char *err,
               size_t errcap)
{
    return st_open(data_dir, false, out, err, errcap);
}

int store_open_readonly(const char *data_dir, struct store **out, char *err,
                        size_t errcap)
{
    return st_open(data_dir, true, out, err, errcap);
}

void store_close(struct store *s)
{
    int i;

    if (s == NULL)
        return;
    for (i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s->evc);
    st_map_free(s->ids);
    free(s);
}

int store_history_pairs(struct store *s, const struct meetup_scope *scope,
                        int (*fn)(const char *a, const char *b, void *ctx),
                        void *ctx)
{
    static const char sql[] =
        "SELECT DISTINCT min(pa.id, pb.id), max(pa.id, pb.id)"
        " FROM encounters e"
        " JOIN events v ON v.id = e.event"
        " JOIN people pa ON pa.num = e.a"
        " JOIN people pb ON pb.num = e.b"
        " WHERE pa.forgotten = 0 AND pb.forgotten = 0"
        " AND (?1 = 0 OR (?1 = 2 AND v.id > (SELECT max(id) FROM events) - ?2)"
        " OR (?1 = 3 AND v.created >= ?3))";
    sqlite3_stmt *st = NULL;
    int rc, ret = 0;

    if (scope->kind == MEETUP_SCOPE_NONE)
        return 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return st_fail_db(s, "history");
    sqlite3_bind_int(st, 1, (int)scope->kind);
    sqlite3_bind_int64(st, 2, scope->last_events);
    sqlite3_bind_int64(st, 3, scope->since_unix);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && ret == 0)
        ret = fn((const char *)sqlite3_column_text(st, 0),
                 (const char *)sqlite3_column_text(st, 1), ctx);
    if (ret == 0 && rc != SQLITE_DONE)
        ret = st_fail_db(s, "history");
    sqlite3_finalize(st);
    return ret;
}
