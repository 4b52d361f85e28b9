/* test_pballoc.c -- the bounded arena for protobuf-c unpacking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mingle.pb-c.h"
#include "pballoc.h"

/* Enough repetitions that the fixed parts of a probe frame vanish next to
 * the repeated element. */
#define PROBE_REPEATS 20000u
#define PROBE_MAX_DEPTH 8

static void test_alloc_alignment_and_zero(void **state)
{
    struct pballoc *a = pballoc_new(1u << 20);
    ProtobufCAllocator *pc;
    void *p, *q, *z1, *z2;

    (void)state;
    assert_non_null(a);
    pc = pballoc_allocator(a);
    assert_int_equal(pballoc_used(a), 0);
    p = pc->alloc(pc->allocator_data, 3);
    q = pc->alloc(pc->allocator_data, 5);
    z1 = pc->alloc(pc->allocator_data, 0);
    z2 = pc->alloc(pc->allocator_data, 0);
    assert_non_null(p);
    assert_non_null(q);
    assert_non_null(z1);
    assert_non_null(z2);
    assert_ptr_not_equal(z1, z2);
    assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
    assert_int_equal((uintptr_t)q % _Alignof(max_align_t), 0);
    memset(p, 0xaa, 3);
    memset(q, 0xbb, 5);
    assert_int_equal(((unsigned char *)p)[2], 0xaa);
    assert_true(pballoc_used(a) > 0);
    assert_false(pballoc_exhausted(a));
    pc->free(pc->allocator_data, p);
    pballoc_free(a);
    pballoc_free(NULL);
}

static void test_cap_is_never_exceeded(void **state)
{
    const size_t cap = 100000;
    struct pballoc *a = pballoc_new(cap);
    ProtobufCAllocator *pc;
    size_t i, granted = 0;

    (void)state;
    assert_non_null(a);
    pc = pballoc_allocator(a);
    for (i = 0; i < 100000; i++) {
        size_t size = (i * 2654435761u) % 7000;
        void *p = pc->alloc(pc->allocator_data, size);

        assert_true(pballoc_used(a) <= cap);
        if (p == NULL)
            break;
        memset(p, 0x5a, size);
        granted += size;
    }
    assert_true(pballoc_exhausted(a));
    assert_true(granted <= cap);
    /* Most of the cap is usable, not lost to chunk slack. */
    assert_true(granted > cap / 2);
    assert_null(pc->alloc(pc->allocator_data, cap));
    assert_null(pc->alloc(pc->allocator_data, SIZE_MAX));
    pballoc_free(a);
}

static void test_reset_restores_and_reuses(void **state)
{
    struct pballoc *a = pballoc_new(4096);
    ProtobufCAllocator *pc;
    size_t used;

    (void)state;
    assert_non_null(a);
    pc = pballoc_allocator(a);
    assert_null(pc->alloc(pc->allocator_data, 8192));
    assert_true(pballoc_exhausted(a));

    pballoc_reset(a, pballoc_cap_for(100));
    assert_false(pballoc_exhausted(a));
    assert_int_equal(pballoc_used(a), 0);
    assert_non_null(pc->alloc(pc->allocator_data, 8192));
    assert_non_null(pc->alloc(pc->allocator_data, 16));
    used = pballoc_used(a);
    assert_true(used >= 8192 + 16);

    /* The shared chunk survives the reset, so a small request after it
     * costs nothing new. */
    pballoc_reset(a, pballoc_cap_for(100));
    used = pballoc_used(a);
    assert_true(used > 0);
    assert_non_null(pc->alloc(pc->allocator_data, 100));
    assert_int_equal(pballoc_used(a), used);

    /* A cap below the kept chunk releases it too. */
    pballoc_reset(a, 64);
    assert_int_equal(pballoc_used(a), 0);
    pballoc_free(a);
}

static void test_cap_for(void **state)
{
    (void)state;
    assert_int_equal(pballoc_cap_for(0), PBALLOC_BASE_BYTES);
    assert_int_equal(pballoc_cap_for(10),
                     PBALLOC_BASE_BYTES + 10 * PBALLOC_BYTES_PER_WIRE_BYTE);
    assert_true(pballoc_cap_for(SIZE_MAX / 2) == SIZE_MAX);
}

struct wire {
    uint8_t *buf;
    size_t len, cap;
};

static void wire_byte(struct wire *w, uint8_t b)
{
    if (w->len == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 1024;
        w->buf = realloc(w->buf, w->cap);
        assert_non_null(w->buf);
    }
    w->buf[w->len++] = b;
}

static void wire_varint(struct wire *w, uint64_t v)
{
    while (v >= 0x80) {
        wire_byte(w, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    wire_byte(w, (uint8_t)v);
}

/* Appends one occurrence of field `f` with the cheapest value its type
 * allows on the wire. */
static void wire_empty_field(struct wire *w, const ProtobufCFieldDescriptor *f)
{
    int i;

    switch (f->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
        wire_varint(w, (uint64_t)f->id << 3 | 2);
        wire_byte(w, 0);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
        wire_varint(w, (uint64_t)f->id << 3 | 1);
        for (i = 0; i < 8; i++)
            wire_byte(w, 0);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
        wire_varint(w, (uint64_t)f->id << 3 | 5);
        for (i = 0; i < 4; i++)
            wire_byte(w, 0);
        break;
    default:
        wire_varint(w, (uint64_t)f->id << 3);
        wire_byte(w, 0);
        break;
    }
}

struct probe {
    struct pballoc *arena;
    double worst;
    char worst_path[256];
    unsigned frames;
};

/* Unpacks a root message whose path of submessage fields leads to
 * PROBE_REPEATS occurrences of `leaf`, and records arena bytes per wire
 * byte.  The frame must decode within pballoc_cap_for(). */
static void probe_leaf(struct probe *pr, const ProtobufCMessageDescriptor *root,
                       const ProtobufCFieldDescriptor *const *path,
                       size_t depth, const ProtobufCFieldDescriptor *leaf)
{
    struct wire w = {0}, outer;
    ProtobufCMessage *m;
    double factor;
    size_t i, d;

    for (i = 0; i < PROBE_REPEATS; i++)
        wire_empty_field(&w, leaf);
    for (d = depth; d-- > 0;) {
        outer = (struct wire){0};
        wire_varint(&outer, (uint64_t)path[d]->id << 3 | 2);
        wire_varint(&outer, w.len);
        for (i = 0; i < w.len; i++)
            wire_byte(&outer, w.buf[i]);
        free(w.buf);
        w = outer;
    }
    pballoc_reset(pr->arena, pballoc_cap_for(w.len));
    m = protobuf_c_message_unpack(root, pballoc_allocator(pr->arena), w.len,
                                  w.buf);
    assert_non_null(m);
    assert_false(pballoc_exhausted(pr->arena));
    factor = (double)pballoc_used(pr->arena) / (double)w.len;
    if (factor > pr->worst) {
        int off = snprintf(pr->worst_path, sizeof(pr->worst_path), "%s",
                           root->short_name);

        for (d = 0; d < depth && off > 0 && (size_t)off < sizeof(pr->worst_path);
             d++)
            off += snprintf(pr->worst_path + off,
                            sizeof(pr->worst_path) - (size_t)off, ".%s",
                            path[d]->name);
        if (off > 0 && (size_t)off < sizeof(pr->worst_path))
            snprintf(pr->worst_path + off, sizeof(pr->worst_path) - (size_t)off,
                     ".%s", leaf->name);
        pr->worst = factor;
    }
    pr->frames++;

    /* The same frame with a tenth of the cap fails cleanly. */
    pballoc_reset(pr->arena, pballoc_cap_for(w.len) / 10);
    m = protobuf_c_message_unpack(root, pballoc_allocator(pr->arena), w.len,
                                  w.buf);
    if (m == NULL)
        assert_true(pballoc_exhausted(pr->arena));
    free(w.buf);
}

/* Probes every field of `desc`, then descends into its message fields.
 * mingle.proto has no recursive types, so the walk ends. */
static void probe_message(struct probe *pr,
                          const ProtobufCMessageDescriptor *root,
                          const ProtobufCMessageDescriptor *desc,
                          const ProtobufCFieldDescriptor **path, size_t depth)
{
    unsigned i;

    assert_true(depth < PROBE_MAX_DEPTH);
    for (i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];

        probe_leaf(pr, root, path, depth, f);
        if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            path[depth] = f;
            probe_message(pr, root, f->descriptor, path, depth + 1);
        }
    }
}

/* The worst case over every field of every message a client or server
 * decodes stays within PBALLOC_BYTES_PER_WIRE_BYTE, so a legitimate frame
 * always decodes within pballoc_cap_for(its length). */
static void test_worst_case_unpack_factor(void **state)
{
    const ProtobufCFieldDescriptor *path[PROBE_MAX_DEPTH];
    struct probe pr = {0};

    (void)state;
    pr.arena = pballoc_new(0);
    assert_non_null(pr.arena);
    probe_message(&pr, &mingle__v1__request__descriptor,
                  &mingle__v1__request__descriptor, path, 0);
    probe_message(&pr, &mingle__v1__response__descriptor,
                  &mingle__v1__response__descriptor, path, 0);
    printf("pballoc: %u probe frames, worst %.1f arena bytes per wire byte "
           "(%s)\n",
           pr.frames, pr.worst, pr.worst_path);
    assert_true(pr.frames > 50);
    assert_true(pr.worst > 1.0);
    assert_true(pr.worst <= PBALLOC_BYTES_PER_WIRE_BYTE);
    pballoc_free(pr.arena);
}

/* A hostile UpsertAttendees: 200,000 empty profiles in 400 KB. */
static void test_hostile_frame_is_bounded(void **state)
{
    struct wire inner = {0}, req = {0};
    struct pballoc *a;
    Mingle__V1__Request *r;
    size_t i;

    (void)state;
    for (i = 0; i < 200000; i++) {
        wire_byte(&inner, 0x12); /* attendees, length-delimited */
        wire_byte(&inner, 0x00);
    }
    wire_byte(&req, 0x3a); /* upsert_attendees */
    wire_varint(&req, inner.len);
    for (i = 0; i < inner.len; i++)
        wire_byte(&req, inner.buf[i]);

    a = pballoc_new(8 * req.len);
    assert_non_null(a);
    r = mingle__v1__request__unpack(pballoc_allocator(a), req.len, req.buf);
    assert_null(r);
    assert_true(pballoc_exhausted(a));
    assert_true(pballoc_used(a) <= 8 * req.len);

    pballoc_reset(a, pballoc_cap_for(req.len));
    r = mingle__v1__request__unpack(pballoc_allocator(a), req.len, req.buf);
    assert_non_null(r);
    assert_int_equal(r->body_case, MINGLE__V1__REQUEST__BODY_UPSERT_ATTENDEES);
    assert_int_equal(r->upsert_attendees->n_attendees, 200000);
    assert_string_equal(r->upsert_attendees->attendees[199999]->id, "");
    /* Freeing through the arena is a harmless no-op. */
    mingle__v1__request__free_unpacked(r, pballoc_allocator(a));
    pballoc_free(a);
    free(inner.buf);
    free(req.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_alignment_and_zero),
        cmocka_unit_test(test_cap_is_never_exceeded),
        cmocka_unit_test(test_reset_restores_and_reuses),
        cmocka_unit_test(test_cap_for),
        cmocka_unit_test(test_worst_case_unpack_factor),
        cmocka_unit_test(test_hostile_frame_is_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
