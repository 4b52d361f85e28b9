/* bench_store.c -- what durability costs: acknowledged upserts per second
 * through store_commit(), the restart time of a big store, and the
 * start-up integrity check on a mingle.db of about 100 MB.
 *
 *   bench_store [DIR]     (DIR: a scratch directory on the disk to measure;
 *                          default a fresh /tmp/mingle-bench-XXXXXX)
 *
 * Prints one line per figure.  Every upsert goes the daemon's way:
 * meetup_prepare(), meetup_apply(), store_commit(); "acknowledged" means
 * store_commit() returned, i.e. the transaction is fsynced.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "meetup.h"
#include "store.h"

#define BENCH_SINGLE 1000            /* one change per transaction */
#define BENCH_PIPELINED 20000        /* changes grouped per transaction */
#define BENCH_GROUP 64               /* changes one loop pass may gather */
#define BENCH_BATCHES 200            /* upserts of BENCH_BATCH_SIZE each */
#define BENCH_BATCH_SIZE 100
#define BENCH_BATCH_GROUP 8          /* pipelined batches per transaction */
#define BENCH_BIG_ATTENDEES 100000
#define BENCH_CHECK_ATTENDEES 220000 /* a mingle.db of about 100 MB */
#define BENCH_BIG_TABLE_SIZE 6
#define BENCH_BIG_ROUNDS 4           /* 4 x 250,000 encounters */
#define BENCH_TAG_POOL 200

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: the figure that a shared machine's load
 * disturbs least. */
static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, int ret, const char *why)
{
    fprintf(stderr, "bench_store: %s: %s (%s)\n", what, strerror(-ret),
            why != NULL ? why : "");
    exit(1);
}

struct bench {
    char dir[256];
    struct store *s;
    struct meetup *hub;
    char tag[BENCH_TAG_POOL][16];
    const char *tags[BENCH_TAG_POOL];
};

static void bench_open(struct bench *b)
{
    char err[STORE_ERR_BYTES];
    int ret = store_open(b->dir, &b->s, err, sizeof(err));

    if (ret < 0)
        die("store_open", ret, err);
}

static uint64_t bench_event(struct bench *b, const char *name)
{
    struct meetup_request req = { .op = MEETUP_OP_EVENT_CREATE };
    struct meetup_change *ch;
    const struct meetup_change *one[1];
    int ret;

    req.event.name = name;
    req.event.table_size = BENCH_BIG_TABLE_SIZE;
    req.event.rounds_planned = BENCH_BIG_ROUNDS;
    aff_weights_default(&req.event.weights);
    req.event.created_unix = 1700000000;
    ret = meetup_prepare(b->hub, &req, &ch);
    if (ret == 0)
        ret = meetup_apply(b->hub, ch);
    one[0] = ch;
    if (ret == 0)
        ret = store_commit(b->s, one, 1);
    if (ret < 0)
        die("create event", ret, store_error(b->s));
    meetup_change_free(ch);
    return meetup_event_count(b->hub);
}

/* Fills p[0..n) with attendees first.. of a plausible shape. */
static void bench_profiles(struct bench *b, struct att_profile *p,
                           char (*ids)[24], uint32_t first, uint32_t n)
{
    uint32_t i;

    for (i = 0; i < n; i++) {
        uint32_t k = first + i;

        snprintf(ids[i], sizeof(ids[i]), "person-%u", k);
        memset(&p[i], 0, sizeof(p[i]));
        p[i].id = ids[i];
        p[i].name = ids[i];
        p[i].company = b->tags[k % 97];
        p[i].interests = &b->tags[k % (BENCH_TAG_POOL - 3)];
        p[i].n_interests = 3;
        p[i].offers = &b->tags[(k * 7) % BENCH_TAG_POOL];
        p[i].n_offers = 1;
        p[i].seeks = &b->tags[(k * 13) % BENCH_TAG_POOL];
        p[i].n_seeks = 1;
    }
}

/* The event the next `more` attendees go to: *ev, or a new one of the
 * same name once *ev would pass the attendee limit of an event. */
static void bench_room(struct bench *b, uint64_t *ev, uint32_t more)
{
    struct meetup_event_info info;

    if (meetup_event_info(b->hub, *ev, &info) < 0)
        die("event", -ENOENT, NULL);
    if (info.attendees + more > meetup_attendees_max(BENCH_BIG_TABLE_SIZE))
        *ev = bench_event(b, info.def.name);
}

/* Upserts `total` attendees, `per_change` per change, committing
 * `per_commit` changes per transaction, into *ev and the events after it
 * as each fills up; returns the seconds taken. */
static double bench_upserts(struct bench *b, uint64_t *ev, uint32_t first,
                            uint32_t total, uint32_t per_change,
                            uint32_t per_commit)
{
    struct att_profile *p = calloc(per_change, sizeof(*p));
    char (*ids)[24] = calloc(per_change, sizeof(*ids));
    struct meetup_change **chs = calloc(per_commit, sizeof(*chs));
    uint32_t done = 0, k = 0, i;
    double t0 = now_s();
    int ret;

    if (p == NULL || ids == NULL || chs == NULL)
        die("bench", -ENOMEM, NULL);
    while (done < total) {
        struct meetup_request req = { .op = MEETUP_OP_UPSERT,
                                      .profiles = p,
                                      .n_profiles = per_change };

        bench_room(b, ev, per_change);
        req.event_id = *ev;
        bench_profiles(b, p, ids, first + done, per_change);
        ret = meetup_prepare(b->hub, &req, &chs[k]);
        if (ret == 0)
            ret = meetup_apply(b->hub, chs[k]);
        if (ret < 0)
            die("upsert", ret, meetup_error(b->hub));
        k++;
        done += per_change;
        if (k == per_commit || done >= total) {
            ret = store_commit(b->s, (const struct meetup_change *const *)chs,
                               k);
            if (ret < 0)
                die("store_commit", ret, store_error(b->s));
            for (i = 0; i < k; i++)
                meetup_change_free(chs[i]);
            k = 0;
        }
    }
    free(p);
    free(ids);
    free(chs);
    return now_s() - t0;
}

/* A seating of everyone, made by hand (the scheduler is not what is
 * measured): round r puts seat position (i * m + r) mod n at table
 * position / BENCH_BIG_TABLE_SIZE, m odd and coprime to n. */
static void bench_round(struct bench *b, uint64_t ev, uint32_t n, uint32_t r)
{
    static const uint32_t mult[BENCH_BIG_ROUNDS] = { 1, 3, 7, 9 };
    struct meetup_change ch = {0};
    const struct meetup_change *one[1] = { &ch };
    uint32_t i;
    int ret;

    ch.kind = MEETUP_CH_ROUND;
    ch.event_id = ev;
    ch.round.round = r + 1;
    ch.round.at_unix = 1700000100 + r;
    ch.round.n = n;
    ch.round.tables = (n + BENCH_BIG_TABLE_SIZE - 1) / BENCH_BIG_TABLE_SIZE;
    ch.round.people = malloc(n * sizeof(uint32_t));
    ch.round.table_of = malloc(n * sizeof(uint32_t));
    if (ch.round.people == NULL || ch.round.table_of == NULL)
        die("round", -ENOMEM, NULL);
    for (i = 0; i < n; i++) {
        ch.round.people[i] = i;
        ch.round.table_of[i] = (uint32_t)(((uint64_t)i * mult[r] + r) % n) /
                               BENCH_BIG_TABLE_SIZE;
    }
    ret = meetup_apply(b->hub, &ch);
    if (ret == 0)
        ret = store_commit(b->s, one, 1);
    if (ret < 0)
        die("round", ret, store_error(b->s));
    free(ch.round.people);
    free(ch.round.table_of);
}

static void bench_cleanup(const char *dir)
{
    static const char *const files[] = { "mingle.db", "mingle.db-wal",
                                         "mingle.db-shm", "lock" };
    char p[512];
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* A fresh store with n attendees in events as big as they may be, and
 * BENCH_BIG_ROUNDS rounds of every event: what it takes to fill it and
 * to start on it. */
static void bench_big(struct bench *b, const char *root, uint32_t n)
{
    struct meetup *loaded;
    char db[sizeof(b->dir) + sizeof(STORE_DB_FILE) + 1];
    struct stat st;
    uint64_t ev, e;
    uint32_t r;
    double t, t_load, t_open, c;
    int ret;

    snprintf(b->dir, sizeof(b->dir), "%s/mingle-bench-XXXXXX", root);
    if (mkdtemp(b->dir) == NULL)
        die("mkdtemp", -errno, b->dir);
    b->hub = meetup_new();
    bench_open(b);
    ev = bench_event(b, "Big");
    t = bench_upserts(b, &ev, 0, n, 1000, 1);
    printf("store fill: %u attendees in %.2f s (%llu events)\n", n, t,
           (unsigned long long)ev);
    t = now_s();
    for (r = 0; r < BENCH_BIG_ROUNDS; r++) {
        for (e = 1; e <= ev; e++) {
            struct meetup_event_info info;

            meetup_event_info(b->hub, e, &info);
            bench_round(b, e, info.attendees, r);
        }
    }
    t = now_s() - t;
    printf("store rounds: %llu encounters committed in %.2f s "
           "(%.2f s per round of %u, one commit per event)\n",
           (unsigned long long)meetup_encounter_count(b->hub), t,
           t / BENCH_BIG_ROUNDS, n);
    store_close(b->s);
    snprintf(db, sizeof(db), "%s/%s", b->dir, STORE_DB_FILE);
    if (stat(db, &st) < 0)
        die("stat", -errno, db);

    t = now_s();
    c = cpu_s();
    bench_open(b);
    t_open = now_s() - t;
    loaded = meetup_new();
    ret = store_load(b->s, loaded);
    if (ret < 0)
        die("store_load", ret, store_error(b->s));
    t_load = now_s() - t;
    printf("store restart (open + load): %u attendees, %llu encounters in "
           "%.2f s (open %.2f s; %.2f s CPU)\n", n,
           (unsigned long long)meetup_encounter_count(loaded), t_load,
           t_open, cpu_s() - c);
    printf("store start-up check: %.0f MB mingle.db opened (every page "
           "checked) in %.2f s\n",
           st.st_size / 1e6, t_open);
    meetup_free(loaded);
    meetup_free(b->hub);
    store_close(b->s);
    bench_cleanup(b->dir);
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "/tmp";
    struct bench b = {0};
    uint64_t ev;
    uint32_t i, r, base;
    double t;

    snprintf(b.dir, sizeof(b.dir), "%s/mingle-bench-XXXXXX", root);
    if (mkdtemp(b.dir) == NULL)
        die("mkdtemp", -errno, b.dir);
    for (i = 0; i < BENCH_TAG_POOL; i++) {
        snprintf(b.tag[i], sizeof(b.tag[i]), "Thema %u", i);
        b.tags[i] = b.tag[i];
    }
    b.hub = meetup_new();
    bench_open(&b);

    ev = bench_event(&b, "Upserts");
    t = bench_upserts(&b, &ev, 0, BENCH_SINGLE, 1, 1);
    printf("store upserts, one per transaction: %.0f acknowledged/s "
           "(%u in %.2f s)\n", BENCH_SINGLE / t, BENCH_SINGLE, t);
    t = bench_upserts(&b, &ev, BENCH_SINGLE, BENCH_PIPELINED, 1, BENCH_GROUP);
    printf("store upserts, pipelined (%u per transaction): %.0f "
           "acknowledged/s (%u in %.2f s)\n", BENCH_GROUP,
           BENCH_PIPELINED / t, BENCH_PIPELINED, t);
    base = BENCH_SINGLE + BENCH_PIPELINED;
    t = bench_upserts(&b, &ev, base, BENCH_BATCHES * BENCH_BATCH_SIZE,
                      BENCH_BATCH_SIZE, 1);
    printf("store upserts, batches of %u, one per transaction: %.0f "
           "attendees/s (%u in %.2f s)\n", BENCH_BATCH_SIZE,
           BENCH_BATCHES * BENCH_BATCH_SIZE / t,
           BENCH_BATCHES * BENCH_BATCH_SIZE, t);
    base += BENCH_BATCHES * BENCH_BATCH_SIZE;
    t = bench_upserts(&b, &ev, base, BENCH_BATCHES * BENCH_BATCH_SIZE,
                      BENCH_BATCH_SIZE, BENCH_BATCH_GROUP);
    printf("store upserts, batches of %u, pipelined (%u per transaction): "
           "%.0f attendees/s (%u in %.2f s)\n", BENCH_BATCH_SIZE,
           BENCH_BATCH_GROUP, BENCH_BATCHES * BENCH_BATCH_SIZE / t,
           BENCH_BATCHES * BENCH_BATCH_SIZE, t);
    meetup_free(b.hub);
    store_close(b.s);
    bench_cleanup(b.dir);

    /* The restart figure, and the start-up check at about 100 MB. */
    bench_big(&b, root, BENCH_BIG_ATTENDEES);
    bench_big(&b, root, BENCH_CHECK_ATTENDEES);
    return 0;
}
