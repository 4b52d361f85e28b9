/* meetup_people.c -- the hub's person registry: attendee id -> person.
 *
 * People are numbered densely in order of first appearance, and encounters
 * refer to these numbers.  The map from id to number is open-addressed
 * over the numbers; forgetting a person leaves a "gone" marker so probe
 * chains stay intact, and the number lives on under a token.
 */
#include "meetup_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strhash.h"

#define MU_PMAP_GONE UINT32_MAX
#define MU_PMAP_MIN_SLOTS 1024 /* power of two */

static size_t mu_hash(const char *s)
{
    uint64_t h = strhash_fnv1a(s, strlen(s));

    return (size_t)(h ^ (h >> 29));
}

uint32_t mu_person_find(const struct meetup *hub, const char *id)
{
    size_t i;

    if (hub->pmap == NULL)
        return MU_NO_INDEX;
    for (i = mu_hash(id) & hub->pmap_mask; hub->pmap[i] != 0;
         i = (i + 1) & hub->pmap_mask) {
        uint32_t v = hub->pmap[i];

        if (v != MU_PMAP_GONE && strcmp(hub->persons[v - 1].id, id) == 0)
            return v - 1;
    }
    return MU_NO_INDEX;
}

static void mu_pmap_put(uint32_t *map, size_t mask, const char *id,
                        uint32_t person)
{
    size_t i = mu_hash(id) & mask;

    while (map[i] != 0 && map[i] != MU_PMAP_GONE)
        i = (i + 1) & mask;
    map[i] = person + 1;
}

static int mu_pmap_grow(struct meetup *hub)
{
    size_t slots = hub->pmap == NULL ? MU_PMAP_MIN_SLOTS
                                     : (hub->pmap_mask + 1) * 2;
    uint32_t *map;
    uint32_t p;

    /* A map full of forgotten slots rehashes at the same size. */
    if (hub->pmap != NULL && (size_t)hub->n_persons * 4 < hub->pmap_mask + 1)
        slots = hub->pmap_mask + 1;
    map = calloc(slots, sizeof(*map));
    if (map == NULL)
        return -ENOMEM;
    hub->pmap_used = 0;
    for (p = 0; p < hub->n_persons; p++) {
        if (!hub->persons[p].forgotten) {
            mu_pmap_put(map, slots - 1, hub->persons[p].id, p);
            hub->pmap_used++;
        }
    }
    free(hub->pmap);
    hub->pmap = map;
    hub->pmap_mask = slots - 1;
    return 0;
}

/* The person number for `id`, registering a new person when unknown. */
int mu_person_get(struct meetup *hub, const char *id, uint32_t *out)
{
    uint32_t p = mu_person_find(hub, id);
    char *copy;

    if (p != MU_NO_INDEX) {
        *out = p;
        return 0;
    }
    if (hub->pmap == NULL || (hub->pmap_used + 1) * 2 > hub->pmap_mask + 1) {
        if (mu_pmap_grow(hub) < 0)
            return -ENOMEM;
    }
    if (hub->n_persons == hub->persons_cap) {
        uint32_t cap = hub->persons_cap ? hub->persons_cap * 2 : 256;
        struct mu_person *np = realloc(hub->persons, cap * sizeof(*np));

        if (np == NULL)
            return -ENOMEM;
        hub->persons = np;
        hub->persons_cap = cap;
    }
    copy = strdup(id);
    if (copy == NULL)
        return -ENOMEM;
    p = hub->n_persons++;
    hub->persons[p].id = copy;
    hub->persons[p].forgotten = false;
    mu_pmap_put(hub->pmap, hub->pmap_mask, copy, p);
    hub->pmap_used++;
    *out = p;
    return 0;
}

static void mu_pmap_remove(struct meetup *hub, uint32_t person)
{
    size_t i;

    for (i = mu_hash(hub->persons[person].id) & hub->pmap_mask;
         hub->pmap[i] != 0; i = (i + 1) & hub->pmap_mask) {
        if (hub->pmap[i] == person + 1) {
            hub->pmap[i] = MU_PMAP_GONE;
            return;
        }
    }
}

int mu_person_forget(struct meetup *hub, uint32_t person)
{
    char token[32];
    char *copy;

    snprintf(token, sizeof(token), "forgotten-%lu",
             (unsigned long)person + 1);
    copy = strdup(token);
    if (copy == NULL)
        return -ENOMEM;
    mu_pmap_remove(hub, person);
    free(hub->persons[person].id);
    hub->persons[person].id = copy;
    hub->persons[person].forgotten = true;
    return 0;
}
