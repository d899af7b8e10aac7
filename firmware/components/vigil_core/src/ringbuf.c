/* Bounded FIFO of encoded batches with per-slot publish state (see ringbuf.h). */
#include "vigil/ringbuf.h"

#include <string.h>

static rb_slot_t *at(ringbuf_t *rb, size_t i)
{
    return &rb->slots[(rb->head + i) % rb->cap];
}

void rb_init(ringbuf_t *rb, rb_slot_t *slots, size_t cap)
{
    rb->slots = slots;
    rb->cap = cap;
    rb->head = 0;
    rb->count = 0;
    rb->dropped = 0;
}

static void pop_acked(ringbuf_t *rb)
{
    while (rb->count > 0 && at(rb, 0)->state == RB_ACKED) {
        rb->head = (rb->head + 1) % rb->cap;
        rb->count--;
    }
}

bool rb_make_room(ringbuf_t *rb)
{
    if (rb->cap == 0 || rb->count < rb->cap) {
        return false;
    }
    /* A dropped in-flight batch may still be acked later; its mid then matches nothing. */
    rb->head = (rb->head + 1) % rb->cap;
    rb->count--;
    rb->dropped++;
    pop_acked(rb);
    return true;
}

bool rb_push(ringbuf_t *rb, uint32_t seq, const uint8_t *data, size_t len)
{
    if (len > VIGIL_TELEMETRY_MAX_BYTES || rb->cap == 0) {
        return false;
    }
    rb_make_room(rb);
    rb_slot_t *s = at(rb, rb->count);
    s->seq = seq;
    s->mid = -1;
    s->len = (uint16_t)len;
    s->state = RB_PENDING;
    memcpy(s->data, data, len);
    rb->count++;
    return true;
}

rb_slot_t *rb_next_pending(ringbuf_t *rb)
{
    for (size_t i = 0; i < rb->count; i++) {
        rb_slot_t *s = at(rb, i);
        if (s->state == RB_PENDING) {
            return s;
        }
    }
    return NULL;
}

void rb_mark_inflight(rb_slot_t *slot, int mid)
{
    slot->state = RB_INFLIGHT;
    slot->mid = mid;
}

rb_slot_t *rb_find_inflight(ringbuf_t *rb, int mid)
{
    for (size_t i = 0; i < rb->count; i++) {
        rb_slot_t *s = at(rb, i);
        if (s->state == RB_INFLIGHT && s->mid == mid) {
            return s;
        }
    }
    return NULL;
}

bool rb_ack(ringbuf_t *rb, int mid)
{
    rb_slot_t *s = rb_find_inflight(rb, mid);
    if (s == NULL) {
        return false;
    }
    s->state = RB_ACKED;
    pop_acked(rb);
    return true;
}

size_t rb_requeue_inflight(ringbuf_t *rb)
{
    size_t n = 0;
    for (size_t i = 0; i < rb->count; i++) {
        rb_slot_t *s = at(rb, i);
        if (s->state == RB_INFLIGHT) {
            s->state = RB_PENDING;
            s->mid = -1;
            n++;
        }
    }
    return n;
}

size_t rb_count(const ringbuf_t *rb)
{
    return rb->count;
}

size_t rb_inflight(const ringbuf_t *rb)
{
    size_t n = 0;
    for (size_t i = 0; i < rb->count; i++) {
        n += rb->slots[(rb->head + i) % rb->cap].state == RB_INFLIGHT;
    }
    return n;
}
