/* roster.h -- the attendees of one event, with their profiles interned.
 *
 * An attendee is addressed by a dense index that stays valid for the life
 * of the roster: removing someone leaves a tombstone, so schedules and pair
 * sets that hold indices never dangle.
 */
#ifndef MINGLE_ROSTER_H
#define MINGLE_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tagset.h"
#include "vocab.h"

#define ATT_ID_MAX_BYTES 64      /* ids are 1..64 printable bytes */
#define ATT_TEXT_MAX_BYTES 256   /* name, company, industry */
#define ATT_TAGS_MAX 256         /* per list: interests, offers, seeks */
#define ATT_NO_COMPANY UINT32_MAX

/* A profile as it arrives from an event file or the wire.  All pointers
 * are borrowed; only `id` is required, the rest may be NULL / empty. */
struct att_profile {
    const char *id;
    const char *name;
    const char *company;
    const char *industry;
    const char *const *interests;
    size_t n_interests;
    const char *const *offers;
    size_t n_offers;
    const char *const *seeks;
    size_t n_seeks;
};

/* An interned attendee, owned by the roster. */
struct attendee {
    char *id;
    char *name;     /* never NULL: falls back to a copy of id */
    char *company;  /* NULL when unknown */
    char *industry; /* NULL when unknown */
    uint32_t company_tag; /* folded company id, or ATT_NO_COMPANY */
    struct tagset interests;
    struct tagset offers;
    struct tagset seeks;
    bool removed;
};

struct roster;

/* Returns an empty roster with its own vocabulary, or NULL on ENOMEM. */
struct roster *roster_new(void);

/* Frees the roster, its attendees and vocabulary; NULL is a no-op. */
void roster_free(struct roster *r);

/* Checks an id: 1..ATT_ID_MAX_BYTES bytes, valid UTF-8, no control
 * characters or spaces.  Returns 0 or -EINVAL. */
int roster_check_id(const char *id);

/* True when the `len` bytes at `s` are valid UTF-8 without control
 * characters (C0, DEL, C1; NUL included): the rule for every text of a
 * profile.  An empty range is fine. */
bool roster_text_ok(const char *s, size_t len);

/* Checks a tag list as roster_upsert() will take it: at most ATT_TAGS_MAX
 * tags (`tags` may be NULL only when n is 0), each accepted by
 * vocab_fold() and free of control characters.  Returns 0, -EINVAL, or
 * -ENOMEM. */
int roster_check_tags(const char *const *tags, size_t n);

/* Adds `p`, or replaces the profile of the attendee with the same id (also
 * reviving a removed one); the index is stored in *index when non-NULL.
 * Returns 0, -EINVAL for a bad id, text or tag (nothing changed), -ENOMEM. */
int roster_upsert(struct roster *r, const struct att_profile *p,
                  uint32_t *index);

/* Marks the attendee removed (index kept).  Returns 0 or -ENOENT. */
int roster_remove(struct roster *r, const char *id);

/* Looks up a live or removed attendee by id: 0 with *index, or -ENOENT. */
int roster_find(const struct roster *r, const char *id, uint32_t *index);

/* Number of indices handed out, removed ones included. */
uint32_t roster_count(const struct roster *r);

/* Number of attendees not removed. */
uint32_t roster_live(const struct roster *r);

/* The attendee at `index` (< roster_count()); owned by the roster and
 * valid until the next roster_upsert() that replaces it or roster_free(). */
const struct attendee *roster_get(const struct roster *r, uint32_t index);

/* The vocabulary shared by all tag lists and company names. */
const struct vocab *roster_vocab(const struct roster *r);

/* How many live attendees list interest `tag`: the document frequency that
 * affinity turns into rarity weights. */
uint32_t roster_interest_df(const struct roster *r, uint32_t tag);

#endif
