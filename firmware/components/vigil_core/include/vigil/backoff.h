/* Reconnect delays: exponential growth with "equal jitter" (half fixed, half random), so a fleet
 * that lost the broker at the same instant does not reconnect in lock-step, yet no delay is ~0. */
#ifndef VIGIL_BACKOFF_H
#define VIGIL_BACKOFF_H

#include <stdint.h>

typedef struct {
    uint32_t base_ms;
    uint32_t max_ms;
    uint32_t attempt;
    uint32_t rng; /* xorshift32 state, never 0 */
} backoff_t;

/* xorshift32: tiny, deterministic for tests; seed from the boot id / hardware RNG. */
uint32_t vigil_rand32(uint32_t *state);

void backoff_init(backoff_t *b, uint32_t base_ms, uint32_t max_ms, uint32_t seed);
/* Delay before the next attempt: d = min(max, base * 2^attempt); returns d/2 + rand(0..d/2). */
uint32_t backoff_next_ms(backoff_t *b);
/* After a successful connection. */
void backoff_reset(backoff_t *b);

#endif
