/* cfg_quote.h -- writes strings as double-quoted scalars.
 *
 * One writer for everything mingle prints for a machine to read back: the
 * daemon's --print-config (YAML) and minglectl's exports (event-file YAML,
 * JSON).  The escapes chosen are the ones YAML and JSON share.
 */
#ifndef MINGLE_CFG_QUOTE_H
#define MINGLE_CFG_QUOTE_H

#include <stdio.h>

/* Writes `s` between double quotes: '"' and '\' backslash-escaped, control
 * bytes as \u00XX, everything else (UTF-8 included) as it is, so YAML and
 * JSON readers get the same bytes back.  Write errors show in ferror(f). */
void cfg_put_quoted(FILE *f, const char *s);

#endif
