/* Signal-quality index: clean features score high; each hard check and soft factor bites. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "vigil/sqi.h"

static sqi_features_t clean(void)
{
    sqi_features_t f = {120000.0f, 0.0f, 0.5f, 10, 0.95f, 0.03f, 0.05f, 1.0f, 0.99f};
    return f;
}

static void test_clean_is_good(void **state)
{
    (void)state;
    sqi_features_t f = clean();
    uint8_t flags = 0xFF;
    assert_int_equal(sqi_score(&f, &flags), 100);
    assert_int_equal(flags, 0);
}

static void test_hard_checks(void **state)
{
    (void)state;
    uint8_t flags;
    sqi_features_t f = clean();
    f.ir_dc = 2000.0f;
    assert_int_equal(sqi_score(&f, &flags), 0);
    assert_true(flags & SQI_FLAG_NO_FINGER);
    f = clean();
    f.saturated_fraction = 0.5f;
    assert_int_equal(sqi_score(&f, &flags), 0);
    assert_true(flags & SQI_FLAG_SATURATED);
    f = clean();
    f.perfusion_pct = 0.001f;
    assert_int_equal(sqi_score(&f, &flags), 0);
    assert_true(flags & SQI_FLAG_PERFUSION);
    f = clean();
    f.beats = 2;
    assert_int_equal(sqi_score(&f, &flags), 0);
    assert_true(flags & SQI_FLAG_FEW_BEATS);
}

static void test_motion_features_lower_score(void **state)
{
    (void)state;
    uint8_t flags;
    sqi_features_t f = clean();
    f.periodicity = 0.3f;
    assert_true(sqi_score(&f, &flags) < SQI_GOOD);
    assert_true(flags & SQI_FLAG_APERIODIC);
    f = clean();
    f.ibi_cv = 0.3f;
    assert_true(sqi_score(&f, &flags) < SQI_GOOD);
    assert_true(flags & SQI_FLAG_IRREGULAR);
    f = clean();
    f.red_ir_corr = 0.5f;
    assert_true(sqi_score(&f, &flags) < SQI_GOOD);
    assert_true(flags & SQI_FLAG_INCOHERENT);
}

static void test_periodicity(void **state)
{
    (void)state;
    static float x[800];
    for (int i = 0; i < 800; i++) {
        x[i] = (float)sin(2.0 * 3.14159265358979 * i / 80.0);
    }
    assert_true(sqi_periodicity(x, 800, 80.0f) > 0.99f);
    assert_true(sqi_periodicity(x, 800, 40.0f) < -0.9f);
    assert_float_equal(sqi_periodicity(x, 800, 0.0f), 0.0f, 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_is_good),
        cmocka_unit_test(test_hard_checks),
        cmocka_unit_test(test_motion_features_lower_score),
        cmocka_unit_test(test_periodicity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
