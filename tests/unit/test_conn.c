/* test_conn.c -- one connection over a socketpair, driven by its loop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "conn.h"
#include "share.h"
#include "frame.h"
#include "mingle.pb-c.h"

#define FIX_MAX_FRAMES 8
#define FIX_MAX_BODY 64

struct fix {
    struct event_base *base;
    struct conn *conn;
    int peer; /* our end of the socketpair, non-blocking */
    struct conn_limits limits;
    enum dispatch_verdict verdict; /* what the frame hook answers */
    const char *reply;             /* sent by the frame hook when set */
    size_t n_frames;
    uint8_t frames[FIX_MAX_FRAMES][FIX_MAX_BODY];
    size_t frame_lens[FIX_MAX_FRAMES];
    int done;
};

static enum dispatch_verdict fix_frame(void *owner, struct conn *c,
                                       const uint8_t *body, size_t len)
{
    struct fix *f = owner;
    if (f->n_frames < FIX_MAX_FRAMES && len <= FIX_MAX_BODY) {
        memcpy(f->frames[f->n_frames], body, len);
        f->frame_lens[f->n_frames] = len;
    }
    f->n_frames++;
    if (f->reply != NULL)
        assert_int_equal(conn_send(c, (const uint8_t *)f->reply,
                                   strlen(f->reply)), 0);
    return f->verdict;
}

static void fix_done(void *owner, struct conn *c)
{
    struct fix *f = owner;
    assert_ptr_equal(c, f->conn);
    f->done++;
}

static const struct conn_hooks fix_hooks = {
    .frame = fix_frame,
    .done = fix_done,
};

static struct fix *fix_open_limits(const struct conn_limits *limits)
{
    struct fix *f = calloc(1, sizeof(*f));
    int sv[2];
    assert_non_null(f);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
    assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
    f->peer = sv[1];
    f->limits = *limits;
    f->verdict = DISPATCH_CONTINUE;
    f->base = event_base_new();
    assert_non_null(f->base);
    f->conn = conn_new(f->base, sv[0], 7, &f->limits, NULL, &fix_hooks, f);
    assert_non_null(f->conn);
    return f;
}

static struct fix *fix_open(uint32_t frame_ms, uint32_t idle_ms, size_t cap)
{
    const struct conn_limits limits = {
        .max_frame_bytes = 1024,
        .frame_timeout_ms = frame_ms,
        .idle_timeout_ms = idle_ms,
        .output_cap_bytes = cap,
    };
    return fix_open_limits(&limits);
}

static void fix_close(struct fix *f)
{
    conn_free(f->conn);
    conn_free(NULL);
    close(f->peer);
    event_base_free(f->base);
    free(f);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Runs the loop for about `ms` milliseconds, or until done when
 * `until_done`. */
static void fix_run(struct fix *f, int ms, bool until_done)
{
    double end = now_ms() + ms;
    while (now_ms() < end && !(until_done && f->done)) {
        struct timeval tv = {0, 5000};
        event_base_loopexit(f->base, &tv);
        event_base_dispatch(f->base);
    }
}

static void fix_write(struct fix *f, const void *data, size_t len)
{
    assert_int_equal(write(f->peer, data, len), (ssize_t)len);
}

/* Everything the connection sent until it closed its side. */
static size_t fix_read_all(struct fix *f, uint8_t *buf, size_t cap)
{
    size_t got = 0;
    for (int i = 0; i < 200; i++) {
        ssize_t n = read(f->peer, buf + got, cap - got);
        if (n == 0)
            return got;
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
        fix_run(f, 5, false);
    }
    fail_msg("connection never closed its side");
    return got;
}

/* Asserts that `buf` holds exactly one Error frame with `code`. */
static void assert_error_frame(const uint8_t *buf, size_t len, int code)
{
    size_t prefix_len = 0;
    size_t body_len = 0;
    assert_int_equal(frame_parse(buf, len, 4096, &prefix_len, &body_len),
                     FRAME_OK);
    assert_int_equal(prefix_len + body_len, len);
    Mingle__V1__Response *r =
        mingle__v1__response__unpack(NULL, body_len, buf + prefix_len);
    assert_non_null(r);
    assert_int_equal(r->body_case, MINGLE__V1__RESPONSE__BODY_ERROR);
    assert_int_equal(r->error->code, code);
    mingle__v1__response__free_unpacked(r, NULL);
}

static void test_frames_packed_and_split(void **state)
{
    (void)state;
    struct fix *f = fix_open(1000, 5000, 65536);
    const uint8_t two[] = {3, 'a', 'b', 'c', 0, 2, 'x', 'y'};
    fix_write(f, two, sizeof(two));
    fix_run(f, 20, false);
    assert_int_equal(f->n_frames, 3);
    assert_memory_equal(f->frames[0], "abc", 3);
    assert_int_equal(f->frame_lens[1], 0);
    assert_memory_equal(f->frames[2], "xy", 2);

    const uint8_t split[] = {4, 'w', 'x', 'y', 'z'};
    for (size_t i = 0; i < sizeof(split); i++) {
        assert_int_equal(f->n_frames, 3);
        fix_write(f, &split[i], 1);
        fix_run(f, 10, false);
    }
    assert_int_equal(f->n_frames, 4);
    assert_int_equal(f->frame_lens[3], 4);
    assert_memory_equal(f->frames[3], "wxyz", 4);
    assert_int_equal(f->done, 0);
    fix_close(f);
}

/* A pipelined burst takes turns: one pass of the loop handles
 * CONN_FRAMES_PER_TURN frames, the next ones the rest. */
static void test_pipelined_burst_takes_turns(void **state)
{
    (void)state;
    struct fix *f = fix_open(1000, 5000, 65536);
    uint8_t burst[2 * CONN_FRAMES_PER_TURN + 1][2];
    for (size_t i = 0; i < sizeof(burst) / sizeof(burst[0]); i++) {
        burst[i][0] = 1;
        burst[i][1] = (uint8_t)('a' + i);
    }
    fix_write(f, burst, sizeof(burst));
    /* The first pass that reads the burst handles one turn of it. */
    for (int i = 0; i < 100 && f->n_frames == 0; i++)
        event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    assert_int_equal(f->n_frames, CONN_FRAMES_PER_TURN);
    fix_run(f, 50, false);
    assert_int_equal(f->n_frames, 2 * CONN_FRAMES_PER_TURN + 1);
    assert_memory_equal(f->frames[CONN_FRAMES_PER_TURN], "e", 1);
    assert_int_equal(f->done, 0);
    fix_close(f);
}

static void test_too_big_closes_before_body(void **state)
{
    (void)state;
    struct fix *f = fix_open(1000, 5000, 65536);
    uint8_t prefix[FRAME_PREFIX_MAX_BYTES];
    size_t n = frame_put_prefix(prefix, 1025);
    fix_write(f, prefix, n);
    fix_run(f, 200, true);
    assert_int_equal(f->done, 1);
    assert_int_equal(f->n_frames, 0);
    assert_true(conn_is_closing(f->conn));
    uint8_t buf[512];
    assert_error_frame(buf, fix_read_all(f, buf, sizeof(buf)),
                       DISPATCH_ERR_FRAME_TOO_BIG);
    fix_close(f);
}

static void test_bad_varint(void **state)
{
    (void)state;
    struct fix *f = fix_open(1000, 5000, 65536);
    const uint8_t bad[11] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                             0x80, 0x80, 0x80, 0x80, 0x80};
    fix_write(f, bad, sizeof(bad));
    fix_run(f, 200, true);
    assert_int_equal(f->done, 1);
    uint8_t buf[512];
    assert_error_frame(buf, fix_read_all(f, buf, sizeof(buf)),
                       DISPATCH_ERR_BAD_FRAME);
    fix_close(f);
}

static void test_frame_timeout(void **state)
{
    (void)state;
    struct fix *f = fix_open(60, 5000, 65536);
    const uint8_t partial[] = {10, 'a', 'b'};
    fix_write(f, partial, sizeof(partial));
    double t0 = now_ms();
    fix_run(f, 1000, true);
    assert_int_equal(f->done, 1);
    assert_true(now_ms() - t0 >= 50);
    assert_true(now_ms() - t0 < 900);
    uint8_t buf[512];
    assert_error_frame(buf, fix_read_all(f, buf, sizeof(buf)),
                       DISPATCH_ERR_FRAME_TIMEOUT);
    fix_close(f);
}

static void test_idle_timeout_spares_subscribers(void **state)
{
    (void)state;
    struct fix *f = fix_open(1000, 60, 65536);
    conn_set_subscribed(f->conn, true);
    fix_run(f, 200, true);
    assert_int_equal(f->done, 0);
    conn_set_subscribed(f->conn, false);
    fix_run(f, 1000, true);
    assert_int_equal(f->done, 1);
    uint8_t buf[512];
    assert_error_frame(buf, fix_read_all(f, buf, sizeof(buf)),
                       DISPATCH_ERR_IDLE_TIMEOUT);
    fix_close(f);
}

/* The Hello deadline closes a connection that sent requests but never
 * authenticated, well before its idle timeout; a session that passed
 * Hello in time is spared, and so is any once the deadline is off. */
static void test_hello_deadline(void **state)
{
    const struct conn_limits limits = {
        .max_frame_bytes = 1024,
        .frame_timeout_ms = 1000,
        .idle_timeout_ms = 5000,
        .hello_timeout_ms = 80,
        .output_cap_bytes = 65536,
    };
    (void)state;
    struct fix *f = fix_open_limits(&limits);
    const uint8_t one[] = {1, 'a'};
    double t0 = now_ms();
    for (int i = 0; i < 5 && !f->done; i++) {
        fix_write(f, one, sizeof(one));
        fix_run(f, 30, true);
    }
    fix_run(f, 1000, true);
    assert_int_equal(f->done, 1);
    assert_true(now_ms() - t0 < 1000);
    uint8_t buf[512];
    assert_error_frame(buf, fix_read_all(f, buf, sizeof(buf)),
                       DISPATCH_ERR_UNAUTHENTICATED);
    fix_close(f);

    f = fix_open_limits(&limits);
    conn_session(f->conn)->authenticated = true;
    fix_run(f, 300, true);
    assert_int_equal(f->done, 0);
    fix_close(f);

    /* A reload that drops the token cancels the deadline. */
    struct conn_limits none = limits;
    none.hello_timeout_ms = 0;
    f = fix_open_limits(&limits);
    conn_set_limits(f->conn, &none);
    fix_run(f, 300, true);
    assert_int_equal(f->done, 0);
    fix_close(f);
}

static void test_close_verdict_flushes_reply(void **state)
{
    (void)state;
    struct fix *f = fix_open(1000, 5000, 65536);
    f->reply = "goodbye";
    f->verdict = DISPATCH_CLOSE;
    const uint8_t two[] = {1, 'a', 1, 'b'};
    fix_write(f, two, sizeof(two));
    fix_run(f, 200, true);
    /* The second frame arrived after the close verdict: not handled. */
    assert_int_equal(f->n_frames, 1);
    assert_int_equal(f->done, 1);
    uint8_t buf[64];
    size_t n = fix_read_all(f, buf, sizeof(buf));
    assert_int_equal(n, 7);
    assert_memory_equal(buf, "goodbye", 7);
    assert_int_equal(conn_send(f->conn, buf, 1), -EPIPE);
    fix_close(f);
}

static void test_output_cap_drops_stalled_peer(void **state)
{
    (void)state;
    size_t cap = 8192;
    struct fix *f = fix_open(1000, 5000, cap);
    uint8_t chunk[1000];
    memset(chunk, 'q', sizeof(chunk));
    int rc = 0;
    size_t sent = 0;
    /* The peer never reads: kernel buffers fill, then the cap applies. */
    for (int i = 0; i < 10000 && rc == 0; i++) {
        rc = conn_send(f->conn, chunk, sizeof(chunk));
        if (rc == 0)
            sent += sizeof(chunk);
        fix_run(f, 1, false);
    }
    assert_int_equal(rc, -ENOBUFS);
    assert_int_equal(f->done, 1);
    assert_true(conn_is_closing(f->conn));
    /* Bounded: the cap plus what the kernel holds for a socketpair. */
    assert_true(sent < 4u * 1024 * 1024);
    assert_int_equal(conn_send(f->conn, chunk, 1), -EPIPE);
    fix_close(f);
}

static void test_one_large_reply_fits_empty_output(void **state)
{
    (void)state;
    struct fix *f = fix_open(1000, 5000, 1024);
    uint8_t big[4096];
    memset(big, 'z', sizeof(big));
    assert_int_equal(conn_send(f->conn, big, sizeof(big)), 0);
    assert_int_equal(f->done, 0);
    fix_close(f);
}

static void test_peer_half_close_still_gets_replies(void **state)
{
    (void)state;
    struct fix *f = fix_open(1000, 5000, 65536);
    f->reply = "pong";
    const uint8_t ping[] = {4, 'p', 'i', 'n', 'g'};
    fix_write(f, ping, sizeof(ping));
    assert_int_equal(shutdown(f->peer, SHUT_WR), 0);
    fix_run(f, 200, true);
    assert_int_equal(f->n_frames, 1);
    assert_int_equal(f->done, 1);
    uint8_t buf[64];
    size_t n = fix_read_all(f, buf, sizeof(buf));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "pong", 4);
    fix_close(f);
}

static void test_shared_body_sent_then_released(void **state)
{
    (void)state;
    struct fix *f = fix_open(1000, 5000, 65536);
    const uint8_t body[] = "the round";
    struct share *s = share_new(body, sizeof(body) - 1);

    assert_int_equal(conn_send_shared(f->conn, (const uint8_t *)"ID", 2, s),
                     0);
    assert_int_equal(share_holders(s), 2);
    fix_run(f, 50, false);
    uint8_t buf[32];
    assert_int_equal(read(f->peer, buf, sizeof(buf)), 11);
    assert_memory_equal(buf, "IDthe round", 11);
    /* Sent: the output no longer holds the body. */
    assert_int_equal(share_holders(s), 1);
    share_free(s);
    fix_close(f);
}

static void test_shared_body_released_by_a_dropped_peer(void **state)
{
    (void)state;
    struct fix *f = fix_open(1000, 5000, 8192);
    uint8_t chunk[1000];
    memset(chunk, 'r', sizeof(chunk));
    struct share *s = share_new(chunk, sizeof(chunk));
    int rc = 0;

    for (int i = 0; i < 10000 && rc == 0; i++) {
        rc = conn_send_shared(f->conn, (const uint8_t *)"H", 1, s);
        fix_run(f, 1, false);
    }
    assert_int_equal(rc, -ENOBUFS);
    assert_int_equal(f->done, 1);
    assert_true(share_holders(s) > 1);
    conn_free(f->conn);
    f->conn = NULL;
    /* libevent finishes freeing a bufferevent from its loop. */
    fix_run(f, 20, false);
    assert_int_equal(share_holders(s), 1);
    share_free(s);
    fix_close(f);
}

/* A subscriber's peer is probed by TCP: over a loopback TCP pair, the
 * options are set once it subscribes, not before. */
static void test_subscriber_peer_probed(void **state)
{
    (void)state;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    int fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);

    struct event_base *base = event_base_new();
    const struct conn_limits limits = {.max_frame_bytes = 1024,
                                       .output_cap_bytes = 65536};
    struct fix owner = {0};
    struct conn *c = conn_new(base, fd, 1, &limits, NULL, &fix_hooks, &owner);
    int v = -1;
    socklen_t vl = sizeof(v);
    assert_non_null(c);
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, &vl), 0);
    assert_int_equal(v, 0);
    conn_set_subscribed(c, true);
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, &vl), 0);
    assert_int_equal(v, 1);
    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, &vl), 0);
    assert_int_equal(v, CONN_PROBE_IDLE_S);
    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, &vl), 0);
    assert_int_equal(v, CONN_PROBE_COUNT);
    unsigned user_ms = 0;
    socklen_t ul = sizeof(user_ms);
    assert_int_equal(
        getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_ms, &ul), 0);
    assert_int_equal(user_ms, (CONN_PROBE_IDLE_S + CONN_PROBE_INTERVAL_S *
                               CONN_PROBE_COUNT) * 1000);
    conn_free(c);
    event_base_free(base);
    close(cfd);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_packed_and_split),
        cmocka_unit_test(test_pipelined_burst_takes_turns),
        cmocka_unit_test(test_too_big_closes_before_body),
        cmocka_unit_test(test_bad_varint),
        cmocka_unit_test(test_frame_timeout),
        cmocka_unit_test(test_idle_timeout_spares_subscribers),
        cmocka_unit_test(test_hello_deadline),
        cmocka_unit_test(test_close_verdict_flushes_reply),
        cmocka_unit_test(test_output_cap_drops_stalled_peer),
        cmocka_unit_test(test_one_large_reply_fits_empty_output),
        cmocka_unit_test(test_peer_half_close_still_gets_replies),
        cmocka_unit_test(test_shared_body_sent_then_released),
        cmocka_unit_test(test_shared_body_released_by_a_dropped_peer),
        cmocka_unit_test(test_subscriber_peer_probed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
