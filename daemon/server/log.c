/* log.c -- timestamped, levelled log lines on stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

static enum log_level log_threshold = LOG_LEVEL_INFO;

static const char *const log_tags[] = {
    [LOG_LEVEL_ERROR] = "ERROR",
    [LOG_LEVEL_WARN] = "WARN ",
    [LOG_LEVEL_INFO] = "INFO ",
    [LOG_LEVEL_DEBUG] = "DEBUG",
};

void log_set_level(enum log_level level)
{
    log_threshold = level;
}

enum log_level log_get_level(void)
{
    return log_threshold;
}

void log_msg(enum log_level level, uint64_t conn_id, const char *fmt, ...)
{
    if (level > log_threshold)
        return;

    struct timespec now;
    struct tm tm;
    char stamp[32];
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

    /* One fprintf per part would interleave with other writers of stderr;
     * build the line first and write it once. */
    char line[1024];
    int n;
    if (conn_id != 0)
        n = snprintf(line, sizeof(line), "%s.%03ldZ %s conn=%llu ", stamp,
                     now.tv_nsec / 1000000L, log_tags[level],
                     (unsigned long long)conn_id);
    else
        n = snprintf(line, sizeof(line), "%s.%03ldZ %s ", stamp,
                     now.tv_nsec / 1000000L, log_tags[level]);
    if (n < 0 || (size_t)n >= sizeof(line))
        return;

    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    size_t used = (size_t)n + (size_t)m;
    if (used > sizeof(line) - 2)
        used = sizeof(line) - 2;
    line[used++] = '\n';
    fwrite(line, 1, used, stderr);
    fflush(stderr);
}

char *log_escape(char *dst, size_t cap, const uint8_t *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t out = 0;
    size_t i = 0;

    /* Reserve room for "..." and the NUL from the start, so cutting never
     * needs to back up over a half-written escape. */
    size_t room = cap > 4 ? cap - 4 : 0;
    for (; i < len && i < LOG_ESCAPE_MAX_BYTES; i++) {
        uint8_t b = src[i];
        bool plain = b >= 0x20 && b < 0x7f && b != '\\';
        if (out + (plain ? 1 : 4) > room)
            break;
        if (plain) {
            dst[out++] = (char)b;
        } else {
            dst[out++] = '\\';
            dst[out++] = 'x';
            dst[out++] = hex[b >> 4];
            dst[out++] = hex[b & 0xf];
        }
    }
    if (i < len && cap > 4) {
        dst[out++] = '.';
        dst[out++] = '.';
        dst[out++] = '.';
    }
    dst[out] = '\0';
    return dst;
}
