/* Offline buffer of encoded telemetry batches.
 *
 * A batch stays in the buffer until the broker acknowledged it (PUBACK); on a disconnect every
 * in-flight batch becomes pending again and is re-sent with identical bytes. When full, the
 * oldest batch is dropped and counted (DeviceTelemetry.dropped_batches carries the count).
 * Slots are caller-provided (static storage; RTC/PSRAM on the device), no heap. */
#ifndef VIGIL_RINGBUF_H
#define VIGIL_RINGBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/encode.h"

typedef enum {
    RB_PENDING = 0, /* waiting to be published */
    RB_INFLIGHT,    /* published, PUBACK outstanding */
    RB_ACKED        /* acknowledged, freed once it reaches the head */
} rb_state_t;

typedef struct {
    uint32_t seq;
    int mid;        /* MQTT message id while in flight */
    uint16_t len;
    uint8_t state;
    uint8_t data[VIGIL_TELEMETRY_MAX_BYTES];
} rb_slot_t;

typedef struct {
    rb_slot_t *slots;
    size_t cap;
    size_t head;  /* oldest */
    size_t count;
    uint32_t dropped; /* batches dropped since boot */
} ringbuf_t;

void rb_init(ringbuf_t *rb, rb_slot_t *slots, size_t cap);
/* Drops the oldest batch if the buffer is full; call before encoding a new batch so its
 * dropped_batches field already includes that drop. Returns true if one was dropped. */
bool rb_make_room(ringbuf_t *rb);
/* Copies an encoded batch in (dropping the oldest if full). Returns false if len is too big. */
bool rb_push(ringbuf_t *rb, uint32_t seq, const uint8_t *data, size_t len);
/* Oldest pending slot, or NULL. */
rb_slot_t *rb_next_pending(ringbuf_t *rb);
void rb_mark_inflight(rb_slot_t *slot, int mid);
/* PUBACK for mid: frees the batch (and any acked ones behind it). Returns true if it matched. */
bool rb_ack(ringbuf_t *rb, int mid);
/* The in-flight slot published with mid, or NULL. */
rb_slot_t *rb_find_inflight(ringbuf_t *rb, int mid);
/* Connection lost: in-flight batches go back to pending. Returns how many. */
size_t rb_requeue_inflight(ringbuf_t *rb);
size_t rb_count(const ringbuf_t *rb);
size_t rb_inflight(const ringbuf_t *rb);

#endif
