/* fuzz_event_file.c -- libFuzzer harness for cfg_event_parse().
 *
 * Built with -Dfuzz=true; tests/fuzz/README.md says how to run it.
 *
 * Besides crashes and sanitizer reports it checks the loader's contract:
 * an error always has a message and a 1-based position (or none), and a
 * loaded event satisfies every invariant event_file.h promises.
 */
#include <stdint.h>
#include <stdlib.h>

#include "event_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_event(const struct cfg_event *ev)
{
    size_t i;

    if (ev->name == NULL || ev->rounds < 1 || ev->table_size < 2)
        abort();
    for (i = 0; i < ev->n_attendees; i++)
        if (roster_check_id(ev->attendees[i].id) != 0)
            abort();
    for (i = 0; i < ev->n_met_before; i++)
        if (ev->met_before[i].a == ev->met_before[i].b ||
            ev->met_before[i].a >= ev->n_attendees ||
            ev->met_before[i].b >= ev->n_attendees)
            abort();
    for (i = 0; i < ev->n_avoid; i++)
        if (ev->avoid[i].a == ev->avoid[i].b ||
            ev->avoid[i].a >= ev->n_attendees ||
            ev->avoid[i].b >= ev->n_attendees)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Small limits so the fuzzer reaches the limit paths too. */
    const struct cfg_limits lim = {.max_file_bytes = 1u << 20,
                                   .max_attendees = 64};
    struct cfg_event *ev = NULL;
    struct cfg_error err;
    int rc;

    rc = cfg_event_parse((const char *)data, size, "fuzz.yaml", &lim, &ev,
                         &err);
    if (rc == 0) {
        fuzz_check_event(ev);
        cfg_event_free(ev);
    } else if (ev != NULL || err.msg[0] == '\0' ||
               (err.line != 0 && err.column == 0)) {
        abort();
    }
    return 0;
}
