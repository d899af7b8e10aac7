/* Beat detection: rate across the physiological range, no dicrotic doubling, flat input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "synth.h"
#include "vigil/beat.h"

static float x[800];

static void make(double hr)
{
    for (int k = 0; k < 800; k++) {
        double ph = fmod(k / 100.0 * hr / 60.0, 1.0);
        x[k] = (float)(synth_pulse(ph) - 0.3);
    }
}

static void test_rates(void **state)
{
    (void)state;
    const double rates[] = {40, 45, 60, 75, 90, 120, 150, 180, 210};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        beat_list_t b;
        beat_stats_t st;
        make(rates[i]);
        beat_detect(x, 800, 100.0f, &b);
        beat_stats(&b, 100.0f, &st);
        assert_float_equal(st.hr_bpm, rates[i], 1.0);
        assert_true(st.ibi_cv < 0.05f);
        assert_true(st.kept > 0.99f);
    }
}

static void test_flat_signal_has_no_beats(void **state)
{
    (void)state;
    beat_list_t b;
    beat_stats_t st;
    for (int k = 0; k < 800; k++) {
        x[k] = 0.0f;
    }
    assert_int_equal(beat_detect(x, 800, 100.0f, &b), 0);
    beat_stats(&b, 100.0f, &st);
    assert_float_equal(st.hr_bpm, 0.0f, 0.0f);
}

static void test_trough_precedes_peak(void **state)
{
    (void)state;
    beat_list_t b;
    make(70);
    beat_detect(x, 800, 100.0f, &b);
    assert_true(b.n >= 8);
    for (int i = 0; i < b.n; i++) {
        assert_true(b.trough[i] < b.peak[i]);
        assert_true(b.amp[i] > 0.5f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_flat_signal_has_no_beats),
        cmocka_unit_test(test_trough_precedes_peak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
