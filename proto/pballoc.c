/* pballoc.c -- a capped bump allocator in malloc'ed chunks.
 *
 * Decoded messages are short-lived (one request), so individual frees are
 * not worth tracking: everything goes at the next reset.  Allocations too
 * big for a shared chunk get a chunk of their own, which keeps the waste
 * at the end of a shared chunk below a quarter of it.
 */
#include "pballoc.h"

#include <stdint.h>
#include <stdlib.h>

/* Small enough that an idle connection's retained chunk is cheap, large
 * enough that a typical request decodes from one chunk. */
#define PBALLOC_CHUNK_BYTES (16u * 1024u)
#define PBALLOC_ALIGN_BYTES (_Alignof(max_align_t))

struct pballoc_chunk {
    struct pballoc_chunk *next;
    size_t size; /* usable bytes in data */
    size_t used;
    max_align_t data[];
};

#define PBALLOC_HEADER_BYTES (offsetof(struct pballoc_chunk, data))

struct pballoc {
    ProtobufCAllocator pc;
    struct pballoc_chunk *chunks; /* head: the chunk small requests use */
    size_t cap;
    size_t charged; /* malloc'ed chunk bytes, headers included */
    bool exhausted;
};

/* A new chunk with room for `need` bytes, charged against the cap; NULL
 * when the cap or malloc refuses. */
static struct pballoc_chunk *pballoc_chunk_new(struct pballoc *a, size_t need)
{
    size_t room = a->cap - a->charged;
    size_t size = need > PBALLOC_CHUNK_BYTES / 4 ? need : PBALLOC_CHUNK_BYTES;
    struct pballoc_chunk *c;

    if (room < PBALLOC_HEADER_BYTES || room - PBALLOC_HEADER_BYTES < need) {
        a->exhausted = true;
        return NULL;
    }
    /* Near the cap, a short last chunk still serves small requests. */
    if (size > room - PBALLOC_HEADER_BYTES)
        size = room - PBALLOC_HEADER_BYTES;
    c = malloc(PBALLOC_HEADER_BYTES + size);
    if (c == NULL)
        return NULL;
    c->size = size;
    c->used = 0;
    a->charged += PBALLOC_HEADER_BYTES + size;
    return c;
}

static void *pballoc_alloc(void *data, size_t size)
{
    struct pballoc *a = data;
    struct pballoc_chunk *c = a->chunks;
    size_t need;
    void *p;

    if (size > SIZE_MAX - PBALLOC_ALIGN_BYTES) {
        a->exhausted = true;
        return NULL;
    }
    /* Zero-byte requests still get a distinct, valid pointer. */
    need = (size + PBALLOC_ALIGN_BYTES - (size == 0 ? 0 : 1)) /
           PBALLOC_ALIGN_BYTES * PBALLOC_ALIGN_BYTES;
    if (c == NULL || c->size - c->used < need) {
        c = pballoc_chunk_new(a, need);
        if (c == NULL)
            return NULL;
        /* A dedicated chunk goes behind the head, so the head's remaining
         * room stays available to the next small request. */
        if (need > PBALLOC_CHUNK_BYTES / 4 && a->chunks != NULL) {
            c->next = a->chunks->next;
            a->chunks->next = c;
        } else {
            c->next = a->chunks;
            a->chunks = c;
        }
    }
    p = (unsigned char *)c->data + c->used;
    c->used += need;
    return p;
}

static void pballoc_free_noop(void *data, void *ptr)
{
    (void)data;
    (void)ptr;
}

struct pballoc *pballoc_new(size_t cap_bytes)
{
    struct pballoc *a = calloc(1, sizeof(*a));

    if (a == NULL)
        return NULL;
    a->pc.alloc = pballoc_alloc;
    a->pc.free = pballoc_free_noop;
    a->pc.allocator_data = a;
    a->cap = cap_bytes;
    return a;
}

void pballoc_free(struct pballoc *a)
{
    if (a == NULL)
        return;
    pballoc_reset(a, 0);
    free(a);
}

ProtobufCAllocator *pballoc_allocator(struct pballoc *a)
{
    return &a->pc;
}

void pballoc_reset(struct pballoc *a, size_t cap_bytes)
{
    struct pballoc_chunk *c = a->chunks, *next, *keep = NULL;

    for (; c != NULL; c = next) {
        next = c->next;
        if (keep == NULL && c->size == PBALLOC_CHUNK_BYTES &&
            PBALLOC_HEADER_BYTES + c->size <= cap_bytes)
            keep = c;
        else
            free(c);
    }
    a->chunks = keep;
    a->charged = 0;
    if (keep != NULL) {
        keep->next = NULL;
        keep->used = 0;
        a->charged = PBALLOC_HEADER_BYTES + keep->size;
    }
    a->cap = cap_bytes;
    a->exhausted = false;
}

size_t pballoc_cap_for(size_t wire_bytes)
{
    if (wire_bytes > (SIZE_MAX - PBALLOC_BASE_BYTES) /
                         PBALLOC_BYTES_PER_WIRE_BYTE)
        return SIZE_MAX;
    return PBALLOC_BASE_BYTES + PBALLOC_BYTES_PER_WIRE_BYTE * wire_bytes;
}

size_t pballoc_used(const struct pballoc *a)
{
    return a->charged;
}

bool pballoc_exhausted(const struct pballoc *a)
{
    return a->exhausted;
}
