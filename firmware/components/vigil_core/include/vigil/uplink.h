/* Delivery state machine shared by the ESP-IDF app and the virtual device: publishes buffered
 * batches QoS 1, frees them on PUBACK, re-queues in-flight ones on a disconnect and schedules
 * reconnects with backoff. The MQTT client itself is behind a one-function transport. */
#ifndef VIGIL_UPLINK_H
#define VIGIL_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/backoff.h"
#include "vigil/ringbuf.h"
#include "vigil/topics.h"

typedef struct {
    /* Queues a QoS-1 publish; 0 and *mid set on success, non-zero when the link is down. */
    int (*publish)(void *ctx, const char *topic, const uint8_t *data, size_t len, bool retain,
                   int *mid);
    void *ctx;
} uplink_transport_t;

typedef struct {
    ringbuf_t *rb;
    uplink_transport_t tx;
    char topic_telemetry[VIGIL_TOPIC_MAX];
    char topic_status[VIGIL_TOPIC_MAX];
    char topic_commands[VIGIL_TOPIC_MAX];
    backoff_t backoff;
    bool connected;
    uint64_t next_attempt_ms;
    size_t max_inflight;
    uint32_t connects, disconnects, published, acked;
} uplink_t;

/* Returns 0, or -1 for an invalid device id. */
int uplink_init(uplink_t *u, ringbuf_t *rb, uplink_transport_t tx, const char *device_id,
                size_t max_inflight, uint32_t seed);
bool uplink_connect_due(const uplink_t *u, uint64_t now_ms);
/* Returns the delay chosen before the next attempt. */
uint32_t uplink_connect_failed(uplink_t *u, uint64_t now_ms);
void uplink_connected(uplink_t *u);
/* Returns the delay chosen before the next attempt. */
uint32_t uplink_disconnected(uplink_t *u, uint64_t now_ms);
/* Publishes pending batches while fewer than max_inflight are unacknowledged. */
int uplink_pump(uplink_t *u);
void uplink_puback(uplink_t *u, int mid);
/* True when every buffered batch has been acknowledged. */
bool uplink_drained(const uplink_t *u);

#endif
