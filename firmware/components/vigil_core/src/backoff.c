/* Exponential backoff with jitter (see backoff.h). */
#include "vigil/backoff.h"

uint32_t vigil_rand32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

void backoff_init(backoff_t *b, uint32_t base_ms, uint32_t max_ms, uint32_t seed)
{
    b->base_ms = base_ms > 0 ? base_ms : 1;
    b->max_ms = max_ms >= b->base_ms ? max_ms : b->base_ms;
    b->attempt = 0;
    b->rng = seed != 0 ? seed : 0x9E3779B9u;
}

uint32_t backoff_next_ms(backoff_t *b)
{
    uint64_t d = b->base_ms;
    /* Stop doubling once the cap is reached so the shift cannot overflow. */
    for (uint32_t i = 0; i < b->attempt && d < b->max_ms; i++) {
        d *= 2;
    }
    if (d > b->max_ms) {
        d = b->max_ms;
    }
    if (b->attempt < 32) {
        b->attempt++;
    }
    uint32_t half = (uint32_t)(d / 2);
    uint32_t jitter = half > 0 ? vigil_rand32(&b->rng) % (half + 1) : 0;
    return (uint32_t)(d - half) + jitter;
}

void backoff_reset(backoff_t *b)
{
    b->attempt = 0;
}
