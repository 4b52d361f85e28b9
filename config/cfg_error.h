/* cfg_error.h -- a located error from a configuration or event file. */
#ifndef MINGLE_CFG_ERROR_H
#define MINGLE_CFG_ERROR_H

#define CFG_ERROR_MSG_BYTES 256
#define CFG_ERROR_FILE_BYTES 512

struct cfg_error {
    char file[CFG_ERROR_FILE_BYTES];
    unsigned line;   /* 1-based; 0 when the error has no position */
    unsigned column; /* 1-based */
    char msg[CFG_ERROR_MSG_BYTES];
};

/* Formats "file:line:column: msg" (or "file: msg" without a position)
 * into buf; always NUL-terminates when cap > 0.  Returns buf. */
char *cfg_error_format(const struct cfg_error *e, char *buf, unsigned cap);

#endif
