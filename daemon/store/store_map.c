/* store_map.c -- the store's in-memory index from ids to numbers.
 *
 * Person ids and (event, attendee id) pairs are looked up at every upsert.
 * As SQL indexes they would be B-trees keyed by random strings, so every
 * commit would rewrite a leaf page per new attendee into the log; kept
 * here, a commit appends rows only.  Open addressing with tombstones.
 */
#include "store_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strhash.h"

#define ST_MAP_MIN_SLOTS 1024 /* power of two */

struct st_slot {
    char *key;      /* NULL: empty; st_tomb: deleted */
    uint64_t ns;
    uint64_t hash;
    int64_t value;
};

struct st_map {
    struct st_slot *slots;
    size_t mask;
    size_t used;    /* live and deleted slots */
    size_t live;
};

static char st_tomb_mark;
#define ST_TOMB (&st_tomb_mark)

/* The key space is mixed in after the string hash so that one id in
 * several events lands in different places; the final shift brings the
 * high bits, which FNV-1a mixes best, down to the masked low ones. */
static uint64_t st_hash(uint64_t ns, const char *key)
{
    uint64_t h = strhash_fnv1a(key, strlen(key)) ^
                 (ns * 0x9e3779b97f4a7c15u);

    return h ^ (h >> 31);
}

struct st_map *st_map_new(void)
{
    struct st_map *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return NULL;
    m->slots = calloc(ST_MAP_MIN_SLOTS, sizeof(*m->slots));
    if (m->slots == NULL) {
        free(m);
        return NULL;
    }
    m->mask = ST_MAP_MIN_SLOTS - 1;
    return m;
}

void st_map_free(struct st_map *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i <= m->mask; i++) {
        if (m->slots[i].key != NULL && m->slots[i].key != ST_TOMB)
            free(m->slots[i].key);
    }
    free(m->slots);
    free(m);
}

static struct st_slot *st_map_find(const struct st_map *m, uint64_t ns,
                                   const char *key, uint64_t h)
{
    size_t i;

    for (i = h & m->mask; m->slots[i].key != NULL; i = (i + 1) & m->mask) {
        struct st_slot *s = &m->slots[i];

        if (s->key != ST_TOMB && s->hash == h && s->ns == ns &&
            strcmp(s->key, key) == 0)
            return s;
    }
    return NULL;
}

static int st_map_grow(struct st_map *m)
{
    size_t cap = m->mask + 1, i;
    struct st_slot *old = m->slots;

    /* Mostly tombstones: rehash at the same size. */
    if (m->live * 4 >= cap)
        cap *= 2;
    m->slots = calloc(cap, sizeof(*m->slots));
    if (m->slots == NULL) {
        m->slots = old;
        return -ENOMEM;
    }
    for (i = 0; i <= m->mask; i++) {
        size_t j;

        if (old[i].key == NULL || old[i].key == ST_TOMB)
            continue;
        for (j = old[i].hash & (cap - 1); m->slots[j].key != NULL;
             j = (j + 1) & (cap - 1))
            ;
        m->slots[j] = old[i];
    }
    free(old);
    m->mask = cap - 1;
    m->used = m->live;
    return 0;
}

int st_map_put(struct st_map *m, uint64_t ns, const char *key, int64_t value)
{
    uint64_t h = st_hash(ns, key);
    struct st_slot *s = st_map_find(m, ns, key, h);
    char *copy;
    size_t i;

    if (s != NULL) {
        s->value = value;
        return 0;
    }
    copy = strdup(key);
    if (copy == NULL ||
        ((m->used + 1) * 2 > m->mask + 1 && st_map_grow(m) < 0)) {
        free(copy);
        return -ENOMEM;
    }
    for (i = h & m->mask; m->slots[i].key != NULL &&
                          m->slots[i].key != ST_TOMB;
         i = (i + 1) & m->mask)
        ;
    s = &m->slots[i];
    if (s->key == NULL)
        m->used++;
    s->key = copy;
    s->ns = ns;
    s->hash = h;
    s->value = value;
    m->live++;
    return 0;
}

bool st_map_get(const struct st_map *m, uint64_t ns, const char *key,
                int64_t *value)
{
    const struct st_slot *s = st_map_find(m, ns, key, st_hash(ns, key));

    if (s != NULL)
        *value = s->value;
    return s != NULL;
}

void st_map_del(struct st_map *m, uint64_t ns, const char *key)
{
    struct st_slot *s = st_map_find(m, ns, key, st_hash(ns, key));

    if (s == NULL)
        return;
    free(s->key);
    s->key = ST_TOMB;
    m->live--;
}
