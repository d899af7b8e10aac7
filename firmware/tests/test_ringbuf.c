/* Offline buffer: FIFO order, drop-oldest with a count, ack/requeue semantics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vigil/ringbuf.h"

static rb_slot_t slots[4];
static ringbuf_t rb;

static void push(uint32_t seq)
{
    uint8_t data[3] = {(uint8_t)seq, 0xAB, 0xCD};
    assert_true(rb_push(&rb, seq, data, sizeof data));
}

static void test_fifo_and_ack(void **state)
{
    (void)state;
    rb_init(&rb, slots, 4);
    push(0);
    push(1);
    rb_slot_t *s = rb_next_pending(&rb);
    assert_int_equal(s->seq, 0);
    rb_mark_inflight(s, 10);
    s = rb_next_pending(&rb);
    assert_int_equal(s->seq, 1);
    rb_mark_inflight(s, 11);
    assert_null(rb_next_pending(&rb));
    assert_int_equal(rb_inflight(&rb), 2);
    /* Out-of-order ack: 1 is acked but stays until 0 is. */
    assert_true(rb_ack(&rb, 11));
    assert_int_equal(rb_count(&rb), 2);
    assert_false(rb_ack(&rb, 99));
    assert_true(rb_ack(&rb, 10));
    assert_int_equal(rb_count(&rb), 0);
}

static void test_drop_oldest_counted(void **state)
{
    (void)state;
    rb_init(&rb, slots, 4);
    for (uint32_t i = 0; i < 6; i++) {
        push(i);
    }
    assert_int_equal(rb_count(&rb), 4);
    assert_int_equal(rb.dropped, 2);
    assert_int_equal(rb_next_pending(&rb)->seq, 2);
    assert_true(rb_make_room(&rb)); /* full: the oldest (seq 2) goes */
    assert_int_equal(rb.dropped, 3);
    assert_int_equal(rb_next_pending(&rb)->seq, 3);
    assert_false(rb_make_room(&rb)); /* room now */
}

static void test_requeue_keeps_bytes(void **state)
{
    (void)state;
    rb_init(&rb, slots, 4);
    push(5);
    rb_slot_t *s = rb_next_pending(&rb);
    uint8_t before[3];
    memcpy(before, s->data, 3);
    rb_mark_inflight(s, 1);
    assert_int_equal(rb_requeue_inflight(&rb), 1);
    s = rb_next_pending(&rb);
    assert_non_null(s);
    assert_int_equal(s->seq, 5);
    assert_int_equal(s->len, 3);
    assert_memory_equal(s->data, before, 3);
    assert_false(rb_ack(&rb, 1)); /* the old mid is gone */
}

static void test_rejects_oversize(void **state)
{
    (void)state;
    static uint8_t big[VIGIL_TELEMETRY_MAX_BYTES + 1];
    rb_init(&rb, slots, 4);
    assert_false(rb_push(&rb, 0, big, sizeof big));
    assert_int_equal(rb_count(&rb), 0);
    rb_init(&rb, slots, 0); /* a zero-size buffer refuses, never divides by zero */
    assert_false(rb_make_room(&rb));
    assert_false(rb_push(&rb, 0, big, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_and_ack),
        cmocka_unit_test(test_drop_oldest_counted),
        cmocka_unit_test(test_requeue_keeps_bytes),
        cmocka_unit_test(test_rejects_oversize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
