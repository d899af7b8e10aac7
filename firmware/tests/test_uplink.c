/* Delivery state machine against a fake transport: in-flight window, PUBACK, outage, resend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vigil/uplink.h"

typedef struct {
    int next_mid;
    int up;
    int sent_seq[64];
    int n_sent;
    char topic[VIGIL_TOPIC_MAX];
} fake_tx_t;

static rb_slot_t slots[8];
static ringbuf_t rb;
static fake_tx_t tx;
static uplink_t up;

static int fake_publish(void *ctx, const char *topic, const uint8_t *data, size_t len, bool retain,
                        int *mid)
{
    fake_tx_t *t = ctx;
    (void)len;
    assert_false(retain);
    if (!t->up) {
        return -1;
    }
    strcpy(t->topic, topic);
    t->sent_seq[t->n_sent++] = data[0];
    *mid = ++t->next_mid;
    return 0;
}

static void setup_all(size_t inflight)
{
    memset(&tx, 0, sizeof tx);
    rb_init(&rb, slots, 8);
    uplink_transport_t t = {fake_publish, &tx};
    assert_int_equal(uplink_init(&up, &rb, t, "oxi-1", inflight, 1), 0);
    for (uint8_t s = 0; s < 5; s++) {
        uint8_t data[1] = {s};
        rb_push(&rb, s, data, 1);
    }
}

static void test_publishes_in_order_with_window(void **state)
{
    (void)state;
    setup_all(2);
    assert_int_equal(uplink_pump(&up), 0); /* not connected */
    assert_true(uplink_connect_due(&up, 0));
    uplink_connected(&up);
    tx.up = 1;
    assert_int_equal(uplink_pump(&up), 2);
    assert_string_equal(tx.topic, "vigil/v1/devices/oxi-1/telemetry");
    assert_int_equal(uplink_pump(&up), 0); /* window full */
    uplink_puback(&up, 1);
    assert_int_equal(uplink_pump(&up), 1);
    uplink_puback(&up, 2);
    uplink_puback(&up, 3);
    uplink_pump(&up);
    uplink_puback(&up, 4);
    uplink_puback(&up, 5);
    assert_true(uplink_drained(&up));
    for (int i = 0; i < 5; i++) {
        assert_int_equal(tx.sent_seq[i], i);
    }
    assert_int_equal(up.acked, 5);
}

static void test_outage_requeues_and_backs_off(void **state)
{
    (void)state;
    setup_all(4);
    uplink_connected(&up);
    tx.up = 1;
    assert_int_equal(uplink_pump(&up), 4);
    uplink_puback(&up, 1); /* seq 0 delivered; 1..3 lost with the connection */
    tx.up = 0;
    uint32_t d1 = uplink_disconnected(&up, 1000);
    assert_false(uplink_connect_due(&up, 1000));
    assert_true(uplink_connect_due(&up, 1000 + d1));
    uint32_t d2 = uplink_connect_failed(&up, 1000 + d1);
    assert_true(d2 >= 500); /* second attempt: 1 s nominal, at least half */
    uplink_connected(&up);
    tx.up = 1;
    int before = tx.n_sent;
    assert_int_equal(uplink_pump(&up), 4);
    /* The re-sent batches start again at seq 1: none lost, order kept. */
    assert_int_equal(tx.sent_seq[before], 1);
    assert_int_equal(tx.sent_seq[before + 3], 4);
    for (int mid = 5; mid <= 8; mid++) {
        uplink_puback(&up, mid);
    }
    assert_true(uplink_drained(&up));
    assert_int_equal(up.disconnects, 1);
}

static void test_stale_acks_ignored(void **state)
{
    (void)state;
    setup_all(1);
    uplink_connected(&up);
    tx.up = 1;
    uplink_pump(&up);
    uplink_disconnected(&up, 0);
    uplink_puback(&up, 1); /* an ack from the old session matches nothing */
    assert_int_equal(up.acked, 0);
    assert_int_equal(rb_count(&rb), 5);
}

static void test_invalid_device_id(void **state)
{
    (void)state;
    uplink_transport_t t = {fake_publish, &tx};
    assert_int_equal(uplink_init(&up, &rb, t, "bad/id", 1, 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publishes_in_order_with_window),
        cmocka_unit_test(test_outage_requeues_and_backs_off),
        cmocka_unit_test(test_stale_acks_ignored),
        cmocka_unit_test(test_invalid_device_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
