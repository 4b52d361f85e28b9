/* ctl.h -- what minglectl's commands share: the connection on demand,
 * argument helpers, error reporting and exit statuses.
 *
 * Every command function returns the process exit status and has already
 * printed its error (prefixed "minglectl: ") when that status is not 0.
 */
#ifndef MINGLE_CTL_H
#define MINGLE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl_conn.h"

enum ctl_exit {
    CTL_EXIT_OK = 0,
    CTL_EXIT_SERVER = 1, /* the server refused the request */
    CTL_EXIT_USAGE = 2,  /* bad arguments or a bad input file */
    CTL_EXIT_CONN = 3,   /* cannot reach or talk to the server */
};

#define CTL_DEFAULT_HOST "127.0.0.1"
#define CTL_DEFAULT_PORT "7411"
#define CTL_DEFAULT_TIMEOUT_MS 30000

struct ctl {
    struct ctl_conn_opts opts;
    struct ctl_conn *conn; /* opened by the first ctl_call() */
};

struct ctl_cmd {
    const char *words;   /* "event create" */
    const char *usage;   /* the arguments after the words */
    const char *summary; /* one line for the command list */
    const char *help;    /* details for --help; may be NULL */
    int (*run)(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
               char **argv);
};

/* An option a command accepts: `value` for "--name V" / "--name=V",
 * else `flag` for a bare "--name". */
struct ctl_opt {
    const char *name;
    const char **value;
    bool *flag;
};

/* Parses argv[0..argc) against `opts`, moving the positional arguments to
 * the front of argv and their count to *npos.  Returns CTL_EXIT_OK, or
 * CTL_EXIT_USAGE after printing why. */
int ctl_parse_args(const struct ctl_cmd *cmd, int argc, char **argv,
                   const struct ctl_opt *opts, size_t n_opts, int *npos);

/* ctl_parse_args() for a command that takes exactly `npos` positional
 * arguments; `what` names them for the usage error ("one attendee id";
 * unused when npos is 0, where the first stray argument is named).
 * Returns CTL_EXIT_OK, or CTL_EXIT_USAGE after printing why. */
int ctl_parse_exact(const struct ctl_cmd *cmd, int argc, char **argv,
                    const struct ctl_opt *opts, size_t n_opts, int npos,
                    const char *what);

/* The arguments of a command on one event: --event and `npos` positional
 * arguments (as ctl_parse_exact), then the event as ctl_resolve_event()
 * finds it.  Returns CTL_EXIT_OK with *id set, else the exit status after
 * printing why. */
int ctl_event_args(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
                   char **argv, int npos, const char *what, uint64_t *id);

/* Prints "minglectl: <message>" and the command's usage line; returns
 * CTL_EXIT_USAGE. */
__attribute__((format(printf, 2, 3)))
int ctl_usage_error(const struct ctl_cmd *cmd, const char *fmt, ...);

/* Prints "minglectl: <message>" on stderr. */
__attribute__((format(printf, 1, 2)))
void ctl_error(const char *fmt, ...);

/* Prints that memory ran out; returns CTL_EXIT_CONN, the status of a
 * request that could not be made. */
int ctl_oom(void);

/* Flushes stdout, where a command's output goes, so that a full disk or a
 * closed pipe is an error, not a silently short file.  Returns
 * CTL_EXIT_OK, or CTL_EXIT_USAGE after printing "cannot write <what>". */
int ctl_flush(const char *what);

/* Parses a decimal unsigned number no larger than `max`.  Returns 0 or
 * -EINVAL. */
int ctl_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Sends `req` (connecting first if needed) and checks that the answer is
 * of kind `want`.  Returns CTL_EXIT_OK with *resp set (valid until the
 * next call), else the exit status after printing the error. */
int ctl_call(struct ctl *ctl, Mingle__V1__Request *req,
             Mingle__V1__Response__BodyCase want, Mingle__V1__Response **resp);

/* The connection, opened on first use.  Returns CTL_EXIT_OK or the exit
 * status after printing the error. */
int ctl_connect(struct ctl *ctl);

/* Prints the connection's last error and maps `rc` (a ctl_conn return)
 * to an exit status. */
int ctl_conn_fail(struct ctl *ctl, int rc);

/* The event to act on: `arg` (the --event value) when given, else the
 * newest open event.  Returns CTL_EXIT_OK with *id set, else the exit
 * status after printing the error. */
int ctl_resolve_event(struct ctl *ctl, const char *arg, uint64_t *id);

struct cfg_event;

/* Sends the attendees and pairs of a loaded event file to event `id`, in
 * batches that respect the server's frame and batch limits.  Returns an
 * exit status, having printed the error. */
int ctl_upload_event_file(struct ctl *ctl, uint64_t id,
                          const struct cfg_event *ev);

/* Loads an event file, printing file:line:column errors.  Returns
 * CTL_EXIT_OK with *ev set (free with cfg_event_free), or
 * CTL_EXIT_USAGE. */
int ctl_load_event_file(const char *path, struct cfg_event **ev);

/* The commands, one table per file. */
extern const struct ctl_cmd ctl_event_cmds[];
extern const size_t ctl_event_n_cmds;
extern const struct ctl_cmd ctl_attendee_cmds[];
extern const size_t ctl_attendee_n_cmds;
extern const struct ctl_cmd ctl_round_cmds[];
extern const size_t ctl_round_n_cmds;

#endif
