/* store.h -- the durable state: one SQLite database in the data directory.
 *
 * The store mirrors the hub (meetup.h) in relational tables: events,
 * people (the same attendee id in two events is one person), attendees
 * with their profiles, current presence, met_before/avoid pairs, rounds
 * and their seats, and the encounter history.  Every change the hub
 * applies is written with store_commit(); store_load() rebuilds an equal
 * hub from the tables after a restart, without running the scheduler.
 *
 * The durability contract: the daemon applies a batch of changes to the
 * hub, calls store_commit() once for the batch, and answers the requests
 * only when it returned 0.  Then the changes are on disk (WAL with
 * synchronous=FULL fsyncs the log at COMMIT).  When store_commit() fails
 * the hub is ahead of the disk: the daemon must answer the pending
 * requests with an error and stop, and the store refuses further commits.
 *
 * The data directory is locked (flock on DATA_DIR/lock) while a writable
 * store is open, so two daemons never share it.  A database that is not
 * SQLite, fails its integrity check (quick_check of every page, at any
 * size), is empty, has lost its file while its log remains, or comes from
 * a newer mingle is refused and never written.  A new database is built
 * under another name and renamed into place, so an existing mingle.db
 * always held the schema.
 */
#ifndef MINGLE_STORE_H
#define MINGLE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "meetup.h"

#define STORE_DB_FILE "mingle.db"
#define STORE_LOCK_FILE "lock"
#define STORE_SCHEMA_VERSION 1
#define STORE_ERR_BYTES 512 /* a good size for the err buffers below */

struct store;

/* Opens (creating when missing, mode 0700) the data directory `data_dir`,
 * locks it, opens or creates DATA_DIR/mingle.db and brings its schema up
 * to STORE_SCHEMA_VERSION.  Stores the store in *out (close with
 * store_close).  On failure *out is NULL, a message for the operator is
 * written to err[errcap], and the return is -EBUSY (another mingled holds
 * the directory), -EBADMSG (not a database, corrupt, empty, or a log
 * without its database), -EPROTO (written
 * by a newer mingle), -EIO (SQLite failed), -ENOMEM, or the errno of the
 * failed mkdir/open. */
int store_open(const char *data_dir, struct store **out, char *err,
               size_t errcap);

/* Opens an existing store read-only, without taking the lock, for batch
 * mode's --history: the daemon may be running on it.  Creates nothing;
 * -ENOENT when there is no database.  Otherwise like store_open(); only
 * store_history_pairs() and store_load() work on it. */
int store_open_readonly(const char *data_dir, struct store **out, char *err,
                        size_t errcap);

/* Closes the database and releases the lock; NULL is a no-op. */
void store_close(struct store *s);

/* Writes changes[0..n) -- made by meetup_prepare() and already applied to
 * the hub, in the order they were applied -- in one transaction.  Returns
 * 0 only once the transaction committed durably (n == 0: nothing to do).
 * On failure nothing of the batch is stored, the store is marked failed
 * (later commits return -EIO at once), the reason is in store_error(), and
 * the return is -EIO, -ENOSPC, -ENOMEM, -EINVAL (a change that does not fit
 * the stored state) or -EROFS (a read-only store).  The caller owns the
 * changes.
 *
 * A batch with a forget then copies the log into the database and
 * truncates it, so that the person's old pages leave the data dir.  While
 * another process reads the database that cannot happen: the call does
 * not wait (a few ms at most), store_log_pending() then says so, and the
 * owner retries with store_log_retry(); every later commit retries too,
 * and a close does it if no reader is left. */
int store_commit(struct store *s, const struct meetup_change *const *changes,
                 size_t n);

/* True while the log may still hold a forgotten person's pages. */
bool store_log_pending(const struct store *s);

/* One attempt to fold the log into the database and truncate it, waiting
 * a few ms at most for readers.  Returns 0 when nothing is pending any
 * more, -EBUSY while a reader still holds the log. */
int store_log_retry(struct store *s);

/* Rebuilds the stored state into `hub`, which must be empty (fresh from
 * meetup_new()).  Returns 0; -ENOMEM; -EIO (SQLite failed); -EBADMSG when
 * the tables do not replay (the hub is then partly filled: free it).  The
 * reason is in store_error(). */
int store_load(struct store *s, struct meetup *hub);

/* Calls fn(a, b, ctx) once for every distinct pair of person ids who met
 * at a stored event within `scope` (the events a new event would count:
 * MEETUP_SCOPE_ALL every stored event, LAST_EVENTS the `last_events`
 * latest, SINCE those created at or after since_unix, NONE none).
 * Forgotten people are left out.  The strings are valid during the call.
 * Stops at the first non-zero return of fn and returns it; otherwise
 * returns 0, or -EIO with store_error() set. */
int store_history_pairs(struct store *s, const struct meetup_scope *scope,
                        int (*fn)(const char *a, const char *b, void *ctx),
                        void *ctx);

/* The reason of the last failure; owned by the store. */
const char *store_error(const struct store *s);

#endif
