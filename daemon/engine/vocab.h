/* vocab.h -- tag vocabulary: folds free-text tags and interns them once.
 *
 * Every interest, offer, seek and company name is folded (surrounding
 * white space trimmed, NFC-normalised, full Unicode case folding, so
 * "Fußball" == "FUSSBALL" and "Ärzte" == "ärzte") and mapped to a dense
 * uint32_t id.  The first spelling seen is kept for display.
 */
#ifndef MINGLE_VOCAB_H
#define MINGLE_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#define VOCAB_TAG_MAX_BYTES 256 /* longest tag accepted, before folding */

struct vocab;

/* Returns an empty vocabulary, or NULL when out of memory. */
struct vocab *vocab_new(void);

/* Frees the vocabulary and every string it owns; NULL is a no-op. */
void vocab_free(struct vocab *v);

/* Folds `text` (len bytes, need not be NUL-terminated) into a newly
 * allocated NUL-terminated string stored in *out (caller frees), its length
 * in *out_len.  Returns 0, -EINVAL for invalid UTF-8, an empty result after
 * trimming, or input over VOCAB_TAG_MAX_BYTES, or -ENOMEM. */
int vocab_fold(const char *text, size_t len, char **out, size_t *out_len);

/* Narrows the range [*start, *end) of the valid UTF-8 string `text` to
 * leave out leading and trailing Unicode White_Space; the range is empty
 * (*start == *end) when it held only blanks.  Folding trims this way, and
 * so does the roster for names, so " Anna" and "Anna" stay one spelling. */
void vocab_trim(const char *text, size_t *start, size_t *end);

/* Interns `text`: stores its id in *id (existing id if the folded form is
 * already known).  Returns 0, or the errors of vocab_fold(). */
int vocab_intern(struct vocab *v, const char *text, size_t len, uint32_t *id);

/* Looks `text` up without adding it.  Returns 0 with *id set, -ENOENT when
 * unknown, or the errors of vocab_fold(). */
int vocab_find(const struct vocab *v, const char *text, size_t len,
               uint32_t *id);

/* The first spelling interned for `id` (trimmed, not folded); owned by the
 * vocabulary.  `id` must be below vocab_count(). */
const char *vocab_display(const struct vocab *v, uint32_t id);

/* Number of distinct tags interned so far. */
uint32_t vocab_count(const struct vocab *v);

#endif
