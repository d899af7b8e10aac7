/* Backoff: exponential growth, cap, jitter bounds, reset, determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vigil/backoff.h"

static void test_growth_and_bounds(void **state)
{
    (void)state;
    backoff_t b;
    backoff_init(&b, 500, 30000, 42);
    uint32_t nominal = 500;
    for (int i = 0; i < 40; i++) {
        uint32_t d = backoff_next_ms(&b);
        assert_true(d >= nominal - nominal / 2);
        assert_true(d <= nominal);
        nominal = nominal * 2 > 30000 ? 30000 : nominal * 2;
    }
    backoff_reset(&b);
    uint32_t d = backoff_next_ms(&b);
    assert_true(d >= 250 && d <= 500);
}

static void test_jitter_varies_and_is_deterministic(void **state)
{
    (void)state;
    backoff_t a, b;
    backoff_init(&a, 1000, 1000, 7);
    backoff_init(&b, 1000, 1000, 7);
    int differs = 0;
    uint32_t prev = backoff_next_ms(&a);
    assert_int_equal(prev, backoff_next_ms(&b));
    for (int i = 0; i < 20; i++) {
        uint32_t d = backoff_next_ms(&a);
        assert_int_equal(d, backoff_next_ms(&b));
        differs += d != prev;
        prev = d;
    }
    assert_true(differs > 10);
}

static void test_zero_seed_and_rng(void **state)
{
    (void)state;
    backoff_t b;
    backoff_init(&b, 0, 0, 0);
    assert_true(b.rng != 0);
    assert_true(backoff_next_ms(&b) >= 1);
    uint32_t s = 1;
    assert_true(vigil_rand32(&s) != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_growth_and_bounds),
        cmocka_unit_test(test_jitter_varies_and_is_deterministic),
        cmocka_unit_test(test_zero_seed_and_rng),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
