/* log.h -- the daemon's log: one line per message on stderr.
 *
 * Line format (tests and operators grep it):
 *
 *     2026-03-14T18:02:11.042Z INFO  conn=7 closing: idle timeout
 *     2026-03-14T18:02:11.042Z INFO  listening on 127.0.0.1:7411
 *
 * ISO-8601 UTC time with milliseconds, the level padded to five columns,
 * `conn=N ` when the message concerns one connection, then the message.
 * Bytes that came from a peer must go through log_escape() first: the log
 * never carries raw control characters or unbounded peer text.
 *
 * Single-threaded, like the event loop that calls it.
 */
#ifndef MINGLE_LOG_H
#define MINGLE_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level {
    LOG_LEVEL_ERROR,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
};

/* log_escape() keeps at most LOG_ESCAPE_MAX_BYTES peer bytes; a buffer of
 * LOG_ESCAPE_BUF_BYTES always holds the result ("\xNN" each, "...", NUL). */
#define LOG_ESCAPE_MAX_BYTES 64
#define LOG_ESCAPE_BUF_BYTES (LOG_ESCAPE_MAX_BYTES * 4 + 4)

/* Messages above `level` are dropped.  The default is LOG_LEVEL_INFO.
 * The config file names levels (cfg_log_level); the server maps them. */
void log_set_level(enum log_level level);

/* The level set last. */
enum log_level log_get_level(void);

/* Writes one line at `level`; `conn_id` 0 means "no connection". */
void log_msg(enum log_level level, uint64_t conn_id, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Copies peer bytes `src` into `dst` (`cap` bytes, cap >= 1) for a log
 * line: printable ASCII as is, everything else and backslash as "\xNN".
 * Stops after LOG_ESCAPE_MAX_BYTES input bytes or when `dst` is full, and
 * then ends with "...".  Always NUL-terminates.  Returns `dst`, so it can
 * sit in a log_msg() argument list. */
char *log_escape(char *dst, size_t cap, const uint8_t *src, size_t len);

#endif
