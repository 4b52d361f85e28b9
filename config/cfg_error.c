/* cfg_error.c -- formatting of located errors. */
#include "cfg_error.h"

#include <stdio.h>

char *cfg_error_format(const struct cfg_error *e, char *buf, unsigned cap)
{
    if (cap == 0)
        return buf;
    if (e->file[0] == '\0')
        snprintf(buf, cap, "%s", e->msg);
    else if (e->line == 0)
        snprintf(buf, cap, "%s: %s", e->file, e->msg);
    else
        snprintf(buf, cap, "%s:%u:%u: %s", e->file, e->line, e->column,
                 e->msg);
    return buf;
}
