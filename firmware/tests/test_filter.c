/* Filters: DC removal and the 0.5-5 Hz band (gain measured on sinusoids after settling). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "vigil/filter.h"

static double band_gain(double f_hz)
{
    ppg_filter_t f;
    ppg_filter_init(&f, 100.0f);
    double peak = 0.0;
    for (int k = 0; k < 3000; k++) {
        float x = 100000.0f + (float)(1000.0 * sin(2.0 * 3.14159265358979 * f_hz * k / 100.0));
        float y = ppg_filter_step(&f, x, NULL);
        if (k > 2000 && fabs(y) > peak) {
            peak = fabs(y);
        }
    }
    return peak / 1000.0;
}

static void test_passband_and_stopbands(void **state)
{
    (void)state;
    assert_true(band_gain(1.5) > 0.85);
    assert_true(band_gain(2.5) > 0.8);
    assert_true(band_gain(0.05) < 0.1); /* baseline wander */
    assert_true(band_gain(25.0) < 0.1); /* out-of-band noise */
}

static void test_dc_tracked_and_removed(void **state)
{
    (void)state;
    ppg_filter_t f;
    float dc = 0.0f, y = 1.0f;
    ppg_filter_init(&f, 100.0f);
    for (int k = 0; k < 1000; k++) {
        y = ppg_filter_step(&f, 50000.0f, &dc);
    }
    assert_float_equal(dc, 50000.0f, 1.0f);
    assert_float_equal(y, 0.0f, 1e-3f);
}

static void test_biquad_lowpass_unity_dc(void **state)
{
    (void)state;
    biquad_t b;
    float y = 0.0f;
    biquad_lowpass(&b, 100.0f, 5.0f);
    for (int k = 0; k < 500; k++) {
        y = biquad_step(&b, 1.0f);
    }
    assert_float_equal(y, 1.0f, 1e-4f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passband_and_stopbands),
        cmocka_unit_test(test_dc_tracked_and_removed),
        cmocka_unit_test(test_biquad_lowpass_unity_dc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
