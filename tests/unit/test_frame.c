/* test_frame.c -- varint length-prefix framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

#define MAX_TEST_FRAMES 2048

/* Builds a stream of frames whose bodies have the given lengths; body
 * bytes encode their frame number so mixed-up frames are noticed. */
static uint8_t *make_stream(const size_t *lens, size_t n, size_t *out_len)
{
    size_t total = 0, pos = 0, i, j;
    uint8_t *buf;

    for (i = 0; i < n; i++)
        total += FRAME_PREFIX_MAX_BYTES + lens[i];
    buf = malloc(total ? total : 1);
    assert_non_null(buf);
    for (i = 0; i < n; i++) {
        pos += frame_put_prefix(buf + pos, lens[i]);
        for (j = 0; j < lens[i]; j++)
            buf[pos++] = (uint8_t)(i * 31 + j);
    }
    *out_len = pos;
    return buf;
}

/* Consumes every complete frame at the start of buf[0..len), checks each
 * against the expected lengths from frame *next on, and returns how many
 * bytes were consumed. */
static size_t drain(const uint8_t *buf, size_t len, const size_t *lens,
                    size_t n, size_t *next)
{
    size_t off = 0, plen, blen, j;

    for (;;) {
        enum frame_status st = frame_parse(buf + off, len - off,
                                           FRAME_DEFAULT_MAX_BYTES, &plen,
                                           &blen);
        if (st == FRAME_NEED_MORE)
            return off;
        assert_int_equal(st, FRAME_OK);
        assert_true(*next < n);
        assert_int_equal(blen, lens[*next]);
        for (j = 0; j < blen; j++)
            assert_int_equal(buf[off + plen + j], (uint8_t)(*next * 31 + j));
        off += plen + blen;
        (*next)++;
    }
}

static void test_prefix_lengths(void **state)
{
    static const struct {
        uint64_t value;
        size_t bytes;
    } cases[] = {
        {0, 1}, {1, 1}, {127, 1}, {128, 2}, {16383, 2}, {16384, 3},
        {FRAME_DEFAULT_MAX_BYTES, 3}, {UINT32_MAX, 5},
        {UINT64_MAX / 2, 9}, {UINT64_MAX, 10},
    };
    uint8_t out[FRAME_PREFIX_MAX_BYTES];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(frame_put_prefix(out, cases[i].value),
                         cases[i].bytes);
    assert_int_equal(frame_put_prefix(out, 127), 1);
    assert_int_equal(out[0], 0x7f);
    assert_int_equal(frame_put_prefix(out, 128), 2);
    assert_int_equal(out[0], 0x80);
    assert_int_equal(out[1], 0x01);
    assert_int_equal(frame_put_prefix(out, 300), 2);
    assert_int_equal(out[0], 0xac);
    assert_int_equal(out[1], 0x02);
}

static void test_prefix_roundtrip(void **state)
{
    static const uint64_t values[] = {
        0, 1, 127, 128, 255, 16383, 16384, 2097151, 2097152,
        FRAME_DEFAULT_MAX_BYTES - 1, FRAME_DEFAULT_MAX_BYTES, UINT32_MAX,
        (uint64_t)1 << 35, UINT64_MAX / 2, UINT64_MAX,
    };
    uint8_t out[FRAME_PREFIX_MAX_BYTES];
    size_t i, n, plen, blen;

    (void)state;
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        if (values[i] > SIZE_MAX)
            continue;
        n = frame_put_prefix(out, values[i]);
        /* The body is absent, so every non-zero length needs more. */
        assert_int_equal(frame_parse(out, n, SIZE_MAX, &plen, &blen),
                         values[i] == 0 ? FRAME_OK : FRAME_NEED_MORE);
        assert_int_equal(plen, n);
        assert_true(blen == values[i]);
    }
}

static void test_zero_length_body(void **state)
{
    const uint8_t buf[] = {0x00, 0x00, 0x03};
    size_t plen = 99, blen = 99;

    (void)state;
    assert_int_equal(frame_parse(buf, sizeof(buf), 16, &plen, &blen),
                     FRAME_OK);
    assert_int_equal(plen, 1);
    assert_int_equal(blen, 0);
    /* A limit of 0 still admits empty frames. */
    assert_int_equal(frame_parse(buf, 1, 0, &plen, &blen), FRAME_OK);
    assert_int_equal(frame_parse(buf + 2, 1, 0, &plen, &blen),
                     FRAME_TOO_BIG);
}

static void test_truncated(void **state)
{
    const uint8_t prefix_cut[] = {0x80, 0x80};
    const uint8_t body_cut[] = {0x05, 'a', 'b'};
    size_t plen = 99, blen = 99;

    (void)state;
    assert_int_equal(frame_parse(prefix_cut, 0, 16, &plen, &blen),
                     FRAME_NEED_MORE);
    assert_int_equal(plen, 0);
    assert_int_equal(blen, 0);
    assert_int_equal(frame_parse(prefix_cut, sizeof(prefix_cut), 16, &plen,
                                 &blen),
                     FRAME_NEED_MORE);
    assert_int_equal(plen, 0);
    assert_int_equal(blen, 0);
    /* With the prefix complete the caller learns the whole frame size. */
    assert_int_equal(frame_parse(body_cut, sizeof(body_cut), 16, &plen,
                                 &blen),
                     FRAME_NEED_MORE);
    assert_int_equal(plen, 1);
    assert_int_equal(blen, 5);
}

static void test_non_minimal_accepted(void **state)
{
    const uint8_t zero[] = {0x80, 0x00};
    const uint8_t one[] = {0x81, 0x80, 0x80, 0x00, 'x'};
    const uint8_t ten[] = {0x80, 0x80, 0x80, 0x80, 0x80,
                           0x80, 0x80, 0x80, 0x80, 0x00};
    size_t plen, blen;

    (void)state;
    assert_int_equal(frame_parse(zero, sizeof(zero), 16, &plen, &blen),
                     FRAME_OK);
    assert_int_equal(plen, 2);
    assert_int_equal(blen, 0);
    assert_int_equal(frame_parse(one, sizeof(one), 16, &plen, &blen),
                     FRAME_OK);
    assert_int_equal(plen, 4);
    assert_int_equal(blen, 1);
    assert_int_equal(frame_parse(ten, sizeof(ten), 16, &plen, &blen),
                     FRAME_OK);
    assert_int_equal(plen, 10);
    assert_int_equal(blen, 0);
}

static void test_bad_varint(void **state)
{
    uint8_t eleven[11];
    uint8_t overflow[10];
    uint8_t max64[10];
    size_t plen = 99, blen = 99;

    (void)state;
    /* Eleven bytes, all small: only the length rule can reject it. */
    memset(eleven, 0x80, sizeof(eleven));
    eleven[10] = 0x00;
    assert_int_equal(frame_parse(eleven, sizeof(eleven), SIZE_MAX, &plen,
                                 &blen),
                     FRAME_BAD);
    assert_int_equal(plen, 0);
    assert_int_equal(blen, 0);
    /* Ten bytes still continuing: known bad before the 11th arrives. */
    assert_int_equal(frame_parse(eleven, 10, SIZE_MAX, &plen, &blen),
                     FRAME_BAD);
    /* Nine bytes could still end well. */
    assert_int_equal(frame_parse(eleven, 9, SIZE_MAX, &plen, &blen),
                     FRAME_NEED_MORE);

    memset(overflow, 0x80, sizeof(overflow));
    overflow[9] = 0x02; /* bit 64 */
    assert_int_equal(frame_parse(overflow, sizeof(overflow), SIZE_MAX, &plen,
                                 &blen),
                     FRAME_BAD);

    memset(max64, 0xff, sizeof(max64));
    max64[9] = 0x01;
    assert_int_equal(frame_parse(max64, sizeof(max64), SIZE_MAX, &plen,
                                 &blen),
                     SIZE_MAX == UINT64_MAX ? FRAME_NEED_MORE : FRAME_TOO_BIG);
}

static void test_limit_boundaries(void **state)
{
    const size_t max = 1000;
    uint8_t buf[FRAME_PREFIX_MAX_BYTES + 1001];
    size_t n, plen, blen;

    (void)state;
    memset(buf, 'z', sizeof(buf));
    n = frame_put_prefix(buf, max - 1);
    assert_int_equal(frame_parse(buf, n, max, &plen, &blen), FRAME_NEED_MORE);
    assert_int_equal(blen, max - 1);
    assert_int_equal(frame_parse(buf, n + max - 1, max, &plen, &blen),
                     FRAME_OK);

    n = frame_put_prefix(buf, max);
    assert_int_equal(frame_parse(buf, n, max, &plen, &blen), FRAME_NEED_MORE);
    assert_int_equal(frame_parse(buf, n + max - 1, max, &plen, &blen),
                     FRAME_NEED_MORE);
    assert_int_equal(frame_parse(buf, n + max, max, &plen, &blen), FRAME_OK);
    assert_int_equal(plen, n);
    assert_int_equal(blen, max);

    /* Refused from the prefix alone: no body byte has arrived. */
    n = frame_put_prefix(buf, max + 1);
    assert_int_equal(frame_parse(buf, n, max, &plen, &blen), FRAME_TOO_BIG);
    assert_int_equal(plen, 0);
    assert_int_equal(blen, 0);
}

static void test_too_big_before_prefix_ends(void **state)
{
    const uint8_t partial[] = {0xff, 0xff, 0xff};
    uint8_t huge[FRAME_PREFIX_MAX_BYTES];
    size_t n, plen, blen;

    (void)state;
    /* 2^21 - 1 from three bytes, still continuing: already over 1 MiB. */
    assert_int_equal(frame_parse(partial, sizeof(partial),
                                 FRAME_DEFAULT_MAX_BYTES, &plen, &blen),
                     FRAME_TOO_BIG);
    assert_int_equal(frame_parse(partial, 2, FRAME_DEFAULT_MAX_BYTES, &plen,
                                 &blen),
                     FRAME_NEED_MORE);
    n = frame_put_prefix(huge, UINT64_MAX);
    assert_int_equal(frame_parse(huge, n, FRAME_DEFAULT_MAX_BYTES, &plen,
                                 &blen),
                     FRAME_TOO_BIG);
}

/* Every split point of a two-frame stream: the bytes arrive in two reads,
 * and both frames come out whole and in order. */
static void test_every_split_point(void **state)
{
    const size_t lens[] = {3, 200};
    size_t total, split, next, used;
    uint8_t *stream;
    uint8_t *rx;

    (void)state;
    stream = make_stream(lens, 2, &total);
    rx = malloc(total);
    assert_non_null(rx);
    for (split = 0; split <= total; split++) {
        size_t have;

        next = 0;
        memcpy(rx, stream, split);
        used = drain(rx, split, lens, 2, &next);
        /* Keep the unconsumed tail, then append the second read. */
        have = split - used;
        memmove(rx, rx + used, have);
        memcpy(rx + have, stream + split, total - split);
        have += total - split;
        used = drain(rx, have, lens, 2, &next);
        assert_int_equal(used, have);
        assert_int_equal(next, 2);
    }
    free(rx);
    free(stream);
}

/* The same stream fed one byte at a time. */
static void test_byte_by_byte(void **state)
{
    const size_t lens[] = {0, 1, 127, 128, 5, 0};
    const size_t n = sizeof(lens) / sizeof(lens[0]);
    size_t total, i, next = 0, start = 0;
    uint8_t *stream;

    (void)state;
    stream = make_stream(lens, n, &total);
    for (i = 1; i <= total; i++)
        start += drain(stream + start, i - start, lens, n, &next);
    assert_int_equal(start, total);
    assert_int_equal(next, n);
    free(stream);
}

static void test_many_frames_one_buffer(void **state)
{
    size_t lens[MAX_TEST_FRAMES];
    size_t total, i, next = 0;
    uint8_t *stream;

    (void)state;
    for (i = 0; i < MAX_TEST_FRAMES; i++)
        lens[i] = (i * 7919) % 300;
    stream = make_stream(lens, MAX_TEST_FRAMES, &total);
    assert_int_equal(drain(stream, total, lens, MAX_TEST_FRAMES, &next),
                     total);
    assert_int_equal(next, MAX_TEST_FRAMES);
    free(stream);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_lengths),
        cmocka_unit_test(test_prefix_roundtrip),
        cmocka_unit_test(test_zero_length_body),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_non_minimal_accepted),
        cmocka_unit_test(test_bad_varint),
        cmocka_unit_test(test_limit_boundaries),
        cmocka_unit_test(test_too_big_before_prefix_ends),
        cmocka_unit_test(test_every_split_point),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_many_frames_one_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
