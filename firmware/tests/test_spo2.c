/* Ratio of ratios and the calibration curve. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "synth.h"
#include "vigil/spo2.h"

static float red[800], ir[800];

static void test_curve(void **state)
{
    (void)state;
    assert_float_equal(spo2_from_ratio(0.4f), 100.0f, 1e-4f);
    assert_float_equal(spo2_from_ratio(1.0f), 85.0f, 1e-4f);
    assert_float_equal(spo2_from_ratio(0.2f), 100.0f, 1e-4f); /* clamped */
}

static void test_ratio_recovered(void **state)
{
    (void)state;
    const float ratios[] = {0.45f, 0.6f, 0.8f, 1.0f, 1.4f};
    for (size_t j = 0; j < 5; j++) {
        beat_list_t b;
        for (int k = 0; k < 800; k++) {
            double p = synth_pulse(fmod(k / 100.0 * 72.0 / 60.0, 1.0)) - 0.3;
            ir[k] = (float)(120000.0 * 0.015 * p);
            red[k] = (float)(90000.0 * 0.015 * ratios[j] * p);
        }
        beat_detect(ir, 800, 100.0f, &b);
        float r = spo2_ratio(red, ir, &b, 90000.0f, 120000.0f);
        assert_float_equal(r, ratios[j], 1e-3f);
        assert_float_equal(spo2_red_ir_corr(red, ir, 800), 1.0f, 1e-4f);
    }
}

static void test_no_beats(void **state)
{
    (void)state;
    beat_list_t b;
    b.n = 0;
    assert_true(spo2_ratio(red, ir, &b, 1.0f, 1.0f) < 0.0f);
    assert_float_equal(spo2_red_ir_corr(red, ir, 0), 0.0f, 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curve),
        cmocka_unit_test(test_ratio_recovered),
        cmocka_unit_test(test_no_beats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
