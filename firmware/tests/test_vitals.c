/* The whole pipeline on synthetic red/IR: cadence, accuracy, no finger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "synth.h"
#include "vigil/sqi.h"
#include "vigil/vitals.h"

static vitals_t v;

static void test_one_reading_per_second_after_warmup(void **state)
{
    (void)state;
    vitals_reading_t r;
    int readings = 0;
    uint32_t first = 0;
    vitals_init(&v);
    for (uint32_t k = 0; k < 2000; k++) {
        uint32_t red, ir;
        synth_sample(k, 72.0, 0.6, &red, &ir);
        if (vitals_push(&v, red, ir, &r)) {
            if (readings++ == 0) {
                first = r.sample_index;
            }
        }
    }
    assert_int_equal(first, VITALS_WINDOW_N + VITALS_WARMUP_N - 1);
    assert_int_equal(readings, 11); /* at 10 s, 11 s, ... 20 s */
}

static void test_accuracy_on_clean_signal(void **state)
{
    (void)state;
    const double hrs[] = {48, 72, 110, 160};
    const double rs[] = {0.5, 0.7, 0.9, 1.1};
    for (int j = 0; j < 4; j++) {
        vitals_reading_t r;
        vitals_init(&v);
        for (uint32_t k = 0; k < 1500; k++) {
            uint32_t red, ir;
            synth_sample(k, hrs[j], rs[j], &red, &ir);
            if (vitals_push(&v, red, ir, &r)) {
                assert_true(r.valid);
                assert_true(r.sqi >= SQI_GOOD);
                assert_float_equal(r.hr_bpm, hrs[j], 1.5);
                assert_float_equal(r.spo2_pct, 110.0 - 25.0 * rs[j], 1.0);
            }
        }
    }
}

static void test_no_finger_is_invalid(void **state)
{
    (void)state;
    vitals_reading_t r;
    int seen = 0;
    vitals_init(&v);
    for (uint32_t k = 0; k < 1500; k++) {
        if (vitals_push(&v, 1200u + (k % 7), 1500u + (k % 5), &r)) {
            assert_false(r.valid);
            assert_int_equal(r.sqi, 0);
            assert_true(r.flags & SQI_FLAG_NO_FINGER);
            seen++;
        }
    }
    assert_true(seen > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_reading_per_second_after_warmup),
        cmocka_unit_test(test_accuracy_on_clean_signal),
        cmocka_unit_test(test_no_finger_is_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
