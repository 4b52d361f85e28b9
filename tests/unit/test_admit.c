/* test_admit.c -- who gets a slot and who gives one up (admit.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "admit.h"

static const struct admit_limits LIM = {.max_connections = 10,
                                        .per_address = 4, .reserved = 2};

static void test_rank(void **state)
{
    (void)state;
    /* With a token: not through Hello first, then subscribers. */
    assert_int_equal(admit_rank(true, false, false),
                     ADMIT_RANK_UNAUTHENTICATED);
    assert_int_equal(admit_rank(true, false, true),
                     ADMIT_RANK_UNAUTHENTICATED);
    assert_int_equal(admit_rank(true, true, true), ADMIT_RANK_SUBSCRIBER);
    assert_int_equal(admit_rank(true, true, false), ADMIT_RANK_KEEP);
    /* Without one: only subscribers give way. */
    assert_int_equal(admit_rank(false, false, true), ADMIT_RANK_SUBSCRIBER);
    assert_int_equal(admit_rank(false, true, false), ADMIT_RANK_KEEP);
}

static void test_decide(void **state)
{
    (void)state;
    struct admit_count n = {.live = 3, .from_address = 1};
    assert_int_equal(admit_decide(&LIM, &n), ADMIT_OK);

    /* In the reserve: a connection without Hello goes first... */
    n = (struct admit_count){.live = 8,
                             .victim_rank = ADMIT_RANK_UNAUTHENTICATED};
    assert_int_equal(admit_decide(&LIM, &n), ADMIT_EVICT);
    /* ...a subscriber keeps its slot until the table is full... */
    n.victim_rank = ADMIT_RANK_SUBSCRIBER;
    assert_int_equal(admit_decide(&LIM, &n), ADMIT_OK);
    n.live = 10;
    assert_int_equal(admit_decide(&LIM, &n), ADMIT_EVICT);
    /* ...and a full table of keepers refuses. */
    n.victim_rank = ADMIT_RANK_KEEP;
    assert_int_equal(admit_decide(&LIM, &n), ADMIT_REFUSE_FULL);

    /* Per address: evict from that address, or refuse. */
    n = (struct admit_count){.live = 5, .from_address = 4,
                             .address_victim_rank = ADMIT_RANK_SUBSCRIBER};
    assert_int_equal(admit_decide(&LIM, &n), ADMIT_EVICT_ADDRESS);
    n.address_victim_rank = ADMIT_RANK_KEEP;
    assert_int_equal(admit_decide(&LIM, &n), ADMIT_REFUSE_ADDRESS);
}

static void test_same_address(void **state)
{
    (void)state;
    struct sockaddr_storage a = {0};
    struct sockaddr_in *a4 = (struct sockaddr_in *)&a;
    struct sockaddr_in6 b6 = {.sin6_family = AF_INET6};
    struct sockaddr_in b4 = {.sin_family = AF_INET, .sin_port = htons(9)};

    a4->sin_family = AF_INET;
    a4->sin_port = htons(1);
    inet_pton(AF_INET, "127.0.0.7", &a4->sin_addr);
    inet_pton(AF_INET, "127.0.0.7", &b4.sin_addr);
    assert_true(admit_same_address(&a, (struct sockaddr *)&b4));
    /* An IPv4-mapped IPv6 address is the IPv4 one. */
    inet_pton(AF_INET6, "::ffff:127.0.0.7", &b6.sin6_addr);
    assert_true(admit_same_address(&a, (struct sockaddr *)&b6));
    inet_pton(AF_INET, "127.0.0.8", &b4.sin_addr);
    assert_false(admit_same_address(&a, (struct sockaddr *)&b4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rank),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_same_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
