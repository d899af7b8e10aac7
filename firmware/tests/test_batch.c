/* Batches: offsets, capacity, and that invalid readings never become HR/SpO2 samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vigil/batch.h"

static vigil_batch_t b;

static void test_offsets_relative_to_base(void **state)
{
    (void)state;
    batch_begin(&b, "oxi-1", 7, 3, 1700000000000LL);
    assert_true(batch_add(&b, vigil_v1_Metric_METRIC_BATTERY, 1700000000500LL, 88.0, 100));
    assert_true(batch_add(&b, vigil_v1_Metric_METRIC_BATTERY, 1699999999000LL, 88.0, 250));
    assert_string_equal(b.device_id, "oxi-1");
    assert_int_equal(b.boot_id, 7);
    assert_int_equal(b.seq, 3);
    assert_int_equal(b.samples[0].offset_ms, 500);
    assert_int_equal(b.samples[1].offset_ms, -1000);
    assert_int_equal(b.samples[1].quality, 100); /* clamped to 0..100 */
}

static void test_capacity(void **state)
{
    (void)state;
    batch_begin(&b, "oxi-1", 1, 0, 1700000000000LL);
    for (int i = 0; i < VIGIL_BATCH_MAX_SAMPLES; i++) {
        assert_true(batch_add(&b, vigil_v1_Metric_METRIC_SPO2, 1700000000000LL + i, 97.0, 90));
    }
    assert_false(batch_add(&b, vigil_v1_Metric_METRIC_SPO2, 1700000001000LL, 97.0, 90));
    vitals_reading_t r = {true, 70.0f, 97.0f, 90, 0, 0};
    assert_int_equal(batch_add_reading(&b, &r, 1700000002000LL), 0);
}

static void test_invalid_reading_only_sqi(void **state)
{
    (void)state;
    vitals_reading_t bad = {false, 70.0f, 97.0f, 12, 0x10, 0};
    vitals_reading_t good = {true, 71.26f, 96.84f, 95, 0, 0};
    batch_begin(&b, "oxi-1", 1, 0, 1700000000000LL);
    assert_int_equal(batch_add_reading(&b, &bad, 1700000001000LL), 1);
    assert_int_equal(b.samples[0].metric, vigil_v1_Metric_METRIC_SIGNAL_QUALITY);
    assert_int_equal(batch_add_reading(&b, &good, 1700000002000LL), 3);
    assert_int_equal(b.samples[2].metric, vigil_v1_Metric_METRIC_HEART_RATE);
    assert_float_equal(b.samples[2].value, 71.3, 1e-9);
    assert_int_equal(b.samples[3].metric, vigil_v1_Metric_METRIC_SPO2);
    assert_float_equal(b.samples[3].value, 96.8, 1e-9);
    assert_int_equal(b.samples[3].quality, 95);
    assert_int_equal(VIGIL_BATCH_MAX_READINGS * 3 + 1 <= VIGIL_BATCH_MAX_SAMPLES, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets_relative_to_base),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_invalid_reading_only_sqi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
