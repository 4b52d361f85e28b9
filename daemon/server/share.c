/* share.c -- reference-counted bytes for evbuffer outputs (see share.h). */
#include "share.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

struct share {
    unsigned holders;
    size_t len;
    uint8_t bytes[];
};

struct share *share_new(const uint8_t *bytes, size_t len)
{
    struct share *s = malloc(sizeof(*s) + len);

    if (s == NULL)
        return NULL;
    s->holders = 1;
    s->len = len;
    if (len > 0)
        memcpy(s->bytes, bytes, len);
    return s;
}

void share_free(struct share *s)
{
    if (s != NULL && --s->holders == 0)
        free(s);
}

/* evbuffer's cleanup hook: the evbuffer no longer needs the bytes. */
static void share_release(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    share_free(arg);
}

int share_add(struct share *s, struct evbuffer *out)
{
    /* A failed add never calls the cleanup hook: the hold is ours to give
     * back. */
    s->holders++;
    if (evbuffer_add_reference(out, s->bytes, s->len, share_release, s) != 0) {
        s->holders--;
        return -ENOMEM;
    }
    return 0;
}

size_t share_len(const struct share *s)
{
    return s->len;
}

unsigned share_holders(const struct share *s)
{
    return s->holders;
}
