/* vocab.c -- folding and interning of free-text tags.
 *
 * Folding is trim + NFC + full Unicode case folding, all by libunistring:
 * German users write "Fußball" and "FUSSBALL" for one hobby, which ASCII
 * tolower cannot equate.  Folded strings are interned in an open-addressed
 * table of ids, probed linearly; ids are dense so callers can index arrays
 * by them.
 */
#include "vocab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "strhash.h"

#define VOCAB_MIN_SLOTS 64 /* power of two */
#define VOCAB_EMPTY UINT32_MAX

struct vocab_entry {
    char *folded;
    size_t folded_len;
    uint64_t hash;
    char *display; /* first spelling, trimmed */
};

struct vocab {
    struct vocab_entry *entries; /* indexed by id */
    uint32_t count;
    uint32_t entries_cap;
    uint32_t *slots; /* ids, VOCAB_EMPTY when free */
    size_t mask;     /* slot count - 1 */
};

/* Unicode White_Space rather than ASCII blanks: copy-paste from word
 * processors brings in U+00A0 and the other wide spaces. */
void vocab_trim(const char *text, size_t *start, size_t *end)
{
    const uint8_t *s = (const uint8_t *)text;
    size_t b = *start, e = *end;

    while (b < e) {
        ucs4_t uc;
        int n = u8_mbtouc(&uc, s + b, e - b);

        if (n <= 0 || !uc_is_property_white_space(uc))
            break;
        b += (size_t)n;
    }
    while (e > b) {
        ucs4_t uc;
        const uint8_t *prev = u8_prev(&uc, s + e, s + b);

        if (prev == NULL || !uc_is_property_white_space(uc))
            break;
        e = (size_t)(prev - s);
    }
    *start = b;
    *end = e;
}

/* Validates and trims `text`; on success [*start, *end) is the non-empty
 * trimmed range. */
static int vocab_prepare(const char *text, size_t len, size_t *start,
                         size_t *end)
{
    if (len > VOCAB_TAG_MAX_BYTES)
        return -EINVAL;
    if (len > 0 && (text == NULL || u8_check((const uint8_t *)text, len)))
        return -EINVAL;
    *start = 0;
    *end = len;
    if (len > 0)
        vocab_trim(text, start, end);
    return *start < *end ? 0 : -EINVAL;
}

/* Folds the trimmed range [start, end) of `text` into a NUL-terminated
 * string. */
static int vocab_fold_range(const char *text, size_t start, size_t end,
                            char **out, size_t *out_len)
{
    uint8_t *folded, *grown;
    size_t n = 0, i;

    /* Most tags are plain ASCII, where NFC changes nothing and full case
     * folding is A-Z to a-z; libunistring's general path cost a quarter
     * of the daemon's time when profiles arrive in bulk. */
    for (i = start; i < end && (unsigned char)text[i] < 0x80; i++)
        ;
    if (i == end) {
        folded = malloc(end - start + 1);
        if (folded == NULL)
            return -ENOMEM;
        for (i = start; i < end; i++) {
            unsigned char c = (unsigned char)text[i];
            folded[i - start] = c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
        }
        folded[end - start] = '\0';
        *out = (char *)folded;
        *out_len = end - start;
        return 0;
    }
    folded = u8_casefold((const uint8_t *)text + start, end - start, NULL,
                         UNINORM_NFC, NULL, &n);
    if (folded == NULL)
        return errno == ENOMEM ? -ENOMEM : -EINVAL;
    /* libunistring does not NUL-terminate. */
    grown = realloc(folded, n + 1);
    if (grown == NULL) {
        free(folded);
        return -ENOMEM;
    }
    grown[n] = '\0';
    *out = (char *)grown;
    *out_len = n;
    return 0;
}

int vocab_fold(const char *text, size_t len, char **out, size_t *out_len)
{
    size_t start, end;
    int rc;

    *out = NULL;
    *out_len = 0;
    rc = vocab_prepare(text, len, &start, &end);
    if (rc != 0)
        return rc;
    return vocab_fold_range(text, start, end, out, out_len);
}

struct vocab *vocab_new(void)
{
    struct vocab *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return NULL;
    v->slots = malloc(VOCAB_MIN_SLOTS * sizeof(*v->slots));
    if (v->slots == NULL) {
        free(v);
        return NULL;
    }
    memset(v->slots, 0xff, VOCAB_MIN_SLOTS * sizeof(*v->slots));
    v->mask = VOCAB_MIN_SLOTS - 1;
    return v;
}

void vocab_free(struct vocab *v)
{
    uint32_t i;

    if (v == NULL)
        return;
    for (i = 0; i < v->count; i++) {
        free(v->entries[i].folded);
        free(v->entries[i].display);
    }
    free(v->entries);
    free(v->slots);
    free(v);
}

/* The slot holding `folded`, or the empty slot where it would go. */
static size_t vocab_slot(const struct vocab *v, const char *folded,
                         size_t len, uint64_t hash)
{
    size_t i = (size_t)hash & v->mask;

    for (;;) {
        uint32_t id = v->slots[i];
        const struct vocab_entry *e;

        if (id == VOCAB_EMPTY)
            return i;
        e = &v->entries[id];
        if (e->hash == hash && e->folded_len == len &&
            memcmp(e->folded, folded, len) == 0)
            return i;
        i = (i + 1) & v->mask;
    }
}

static int vocab_grow_slots(struct vocab *v)
{
    size_t n = (v->mask + 1) * 2, i;
    uint32_t *slots;
    uint32_t id;

    if (n > SIZE_MAX / sizeof(*slots))
        return -ENOMEM;
    slots = malloc(n * sizeof(*slots));
    if (slots == NULL)
        return -ENOMEM;
    memset(slots, 0xff, n * sizeof(*slots));
    for (id = 0; id < v->count; id++) {
        i = (size_t)v->entries[id].hash & (n - 1);
        while (slots[i] != VOCAB_EMPTY)
            i = (i + 1) & (n - 1);
        slots[i] = id;
    }
    free(v->slots);
    v->slots = slots;
    v->mask = n - 1;
    return 0;
}

static int vocab_grow_entries(struct vocab *v)
{
    uint32_t cap = v->entries_cap ? v->entries_cap * 2 : 16;
    struct vocab_entry *entries;

    /* Ids are uint32_t and VOCAB_EMPTY must stay unused. */
    if (v->entries_cap >= UINT32_MAX / 2)
        return -ENOMEM;
    entries = realloc(v->entries, (size_t)cap * sizeof(*entries));
    if (entries == NULL)
        return -ENOMEM;
    v->entries = entries;
    v->entries_cap = cap;
    return 0;
}

int vocab_intern(struct vocab *v, const char *text, size_t len, uint32_t *id)
{
    char *folded = NULL, *display = NULL;
    size_t folded_len, start, end, slot;
    struct vocab_entry *e;
    uint64_t hash;
    int rc;

    rc = vocab_prepare(text, len, &start, &end);
    if (rc != 0)
        goto out;
    rc = vocab_fold_range(text, start, end, &folded, &folded_len);
    if (rc != 0)
        goto out;
    hash = strhash_fnv1a(folded, folded_len);
    slot = vocab_slot(v, folded, folded_len, hash);
    if (v->slots[slot] != VOCAB_EMPTY) {
        *id = v->slots[slot];
        goto out;
    }
    /* Keep the load factor at or below 1/2 so probes stay short. */
    if (((size_t)v->count + 1) * 2 > v->mask + 1) {
        rc = vocab_grow_slots(v);
        if (rc != 0)
            goto out;
        slot = vocab_slot(v, folded, folded_len, hash);
    }
    if (v->count == v->entries_cap) {
        rc = vocab_grow_entries(v);
        if (rc != 0)
            goto out;
    }
    display = malloc(end - start + 1);
    if (display == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(display, text + start, end - start);
    display[end - start] = '\0';
    e = &v->entries[v->count];
    e->folded = folded;
    e->folded_len = folded_len;
    e->hash = hash;
    e->display = display;
    folded = NULL;
    v->slots[slot] = v->count;
    *id = v->count++;
out:
    free(folded);
    return rc;
}

int vocab_find(const struct vocab *v, const char *text, size_t len,
               uint32_t *id)
{
    char *folded;
    size_t folded_len, slot;
    int rc;

    rc = vocab_fold(text, len, &folded, &folded_len);
    if (rc != 0)
        return rc;
    slot = vocab_slot(v, folded, folded_len,
                      strhash_fnv1a(folded, folded_len));
    if (v->slots[slot] == VOCAB_EMPTY) {
        rc = -ENOENT;
    } else {
        *id = v->slots[slot];
    }
    free(folded);
    return rc;
}

const char *vocab_display(const struct vocab *v, uint32_t id)
{
    return v->entries[id].display;
}

uint32_t vocab_count(const struct vocab *v)
{
    return v->count;
}
