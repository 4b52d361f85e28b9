/* test_share.c -- bytes shared by many evbuffers, freed by the last one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "share.h"

static void test_holders_follow_the_buffers(void **state)
{
    (void)state;
    const uint8_t round[] = "round three";
    struct share *s = share_new(round, sizeof(round));
    struct evbuffer *a = evbuffer_new(), *b = evbuffer_new();
    char out[sizeof(round)];

    assert_non_null(s);
    assert_int_equal(share_len(s), sizeof(round));
    assert_int_equal(share_holders(s), 1);
    assert_int_equal(share_add(s, a), 0);
    assert_int_equal(share_add(s, b), 0);
    assert_int_equal(share_holders(s), 3);

    /* A reader that has taken all of it lets go... */
    assert_int_equal(evbuffer_remove(a, out, sizeof(out)), (int)sizeof(out));
    assert_memory_equal(out, round, sizeof(round));
    assert_int_equal(share_holders(s), 2);
    /* ...and so does a buffer freed unread (a dropped subscriber). */
    evbuffer_free(b);
    assert_int_equal(share_holders(s), 1);
    evbuffer_free(a);
    /* The last hold frees the bytes: LeakSanitizer would see them. */
    share_free(s);
    share_free(NULL);
}

static void test_creator_may_let_go_first(void **state)
{
    (void)state;
    const uint8_t round[] = {1, 2, 3, 4};
    struct share *s = share_new(round, sizeof(round));
    struct evbuffer *a = evbuffer_new();
    uint8_t out[4];

    assert_int_equal(share_add(s, a), 0);
    share_free(s);
    /* Still readable: the buffer holds the bytes, not a copy. */
    assert_int_equal(evbuffer_remove(a, out, sizeof(out)), 4);
    assert_memory_equal(out, round, sizeof(round));
    evbuffer_free(a);
}

static void test_empty_share(void **state)
{
    (void)state;
    struct share *s = share_new(NULL, 0);

    assert_non_null(s);
    assert_int_equal(share_len(s), 0);
    share_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_holders_follow_the_buffers),
        cmocka_unit_test(test_creator_may_let_go_first),
        cmocka_unit_test(test_empty_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
