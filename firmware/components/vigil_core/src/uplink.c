/* See uplink.h. The ring buffer is the only record of what is unsent: on a disconnect the client
 * library's own queue is discarded and in-flight batches are re-sent from here. */
#include "vigil/uplink.h"

#include <string.h>

int uplink_init(uplink_t *u, ringbuf_t *rb, uplink_transport_t tx, const char *device_id,
                size_t max_inflight, uint32_t seed)
{
    memset(u, 0, sizeof *u);
    u->rb = rb;
    u->tx = tx;
    u->max_inflight = max_inflight > 0 ? max_inflight : 1;
    if (vigil_topic(u->topic_telemetry, sizeof u->topic_telemetry, device_id,
                    VIGIL_TOPIC_TELEMETRY) == 0 ||
        vigil_topic(u->topic_status, sizeof u->topic_status, device_id, VIGIL_TOPIC_STATUS) == 0 ||
        vigil_topic(u->topic_commands, sizeof u->topic_commands, device_id,
                    VIGIL_TOPIC_COMMANDS) == 0) {
        return -1;
    }
    /* 500 ms doubling to 30 s: a broker restart is bridged within a few attempts. */
    backoff_init(&u->backoff, 500, 30000, seed);
    return 0;
}

bool uplink_connect_due(const uplink_t *u, uint64_t now_ms)
{
    return !u->connected && now_ms >= u->next_attempt_ms;
}

uint32_t uplink_connect_failed(uplink_t *u, uint64_t now_ms)
{
    uint32_t d = backoff_next_ms(&u->backoff);
    u->next_attempt_ms = now_ms + d;
    return d;
}

void uplink_connected(uplink_t *u)
{
    u->connected = true;
    u->connects++;
    backoff_reset(&u->backoff);
}

uint32_t uplink_disconnected(uplink_t *u, uint64_t now_ms)
{
    if (u->connected) {
        u->disconnects++;
    }
    u->connected = false;
    rb_requeue_inflight(u->rb);
    return uplink_connect_failed(u, now_ms);
}

int uplink_pump(uplink_t *u)
{
    int sent = 0;
    while (u->connected && rb_inflight(u->rb) < u->max_inflight) {
        rb_slot_t *s = rb_next_pending(u->rb);
        int mid = -1;
        if (s == NULL) {
            break;
        }
        if (u->tx.publish(u->tx.ctx, u->topic_telemetry, s->data, s->len, false, &mid) != 0) {
            /* The caller learns about the broken link from its client and calls
             * uplink_disconnected; until then nothing more is sent. */
            break;
        }
        rb_mark_inflight(s, mid);
        u->published++;
        sent++;
    }
    return sent;
}

void uplink_puback(uplink_t *u, int mid)
{
    if (rb_ack(u->rb, mid)) {
        u->acked++;
    }
}

bool uplink_drained(const uplink_t *u)
{
    return rb_count(u->rb) == 0;
}
