/* nanopb round trips and known bytes for the two device messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vigil/batch.h"
#include "vigil/encode.h"
#include "vigil/status.h"

static vigil_batch_t in, out;
static uint8_t buf[VIGIL_TELEMETRY_MAX_BYTES];

static void test_telemetry_round_trip_full_batch(void **state)
{
    (void)state;
    size_t len = 0;
    batch_begin(&in, "ESP32-ab:cd", 0xDEADBEEFu, 4294967295u, 1763860000123LL);
    for (int i = 0; i < VIGIL_BATCH_MAX_SAMPLES; i++) {
        batch_add(&in, (vigil_v1_Metric)(1 + i % 4), in.base_time_ms - 5000 + i * 250,
                  i * 1.25 - 3.0, (uint32_t)(i % 101));
    }
    in.dropped_batches = 17;
    assert_int_equal(vigil_encode_telemetry(&in, buf, sizeof buf, &len), 0);
    assert_true(len <= VIGIL_TELEMETRY_MAX_BYTES);
    memset(&out, 0x55, sizeof out);
    assert_int_equal(vigil_decode_telemetry(buf, len, &out), 0);
    assert_string_equal(out.device_id, in.device_id);
    assert_int_equal(out.boot_id, in.boot_id);
    assert_int_equal(out.seq, in.seq);
    assert_int_equal(out.base_time_ms, in.base_time_ms);
    assert_int_equal(out.dropped_batches, 17);
    assert_int_equal(out.samples_count, VIGIL_BATCH_MAX_SAMPLES);
    for (int i = 0; i < VIGIL_BATCH_MAX_SAMPLES; i++) {
        assert_int_equal(out.samples[i].metric, in.samples[i].metric);
        assert_int_equal(out.samples[i].offset_ms, in.samples[i].offset_ms);
        assert_true(out.samples[i].value == in.samples[i].value);
        assert_int_equal(out.samples[i].quality, in.samples[i].quality);
    }
    /* Re-encoding gives the same bytes: re-sent batches are byte-identical. */
    size_t len2 = 0;
    static uint8_t buf2[VIGIL_TELEMETRY_MAX_BYTES];
    assert_int_equal(vigil_encode_telemetry(&out, buf2, sizeof buf2, &len2), 0);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
}

static void test_known_bytes(void **state)
{
    (void)state;
    size_t len = 0;
    batch_begin(&in, "a", 1, 2, 3);
    batch_add(&in, vigil_v1_Metric_METRIC_SPO2, 2, 0.0, 0);
    assert_int_equal(vigil_encode_telemetry(&in, buf, sizeof buf, &len), 0);
    /* field 1 "a", 2=1, 3=2, 4=3, 5={metric 2, offset zigzag(-1)=1} (defaults omitted) */
    const uint8_t want[] = {0x0a, 0x01, 'a', 0x10, 0x01, 0x18, 0x02, 0x20, 0x03,
                            0x2a, 0x04, 0x08, 0x02, 0x10, 0x01};
    in.samples[0].offset_ms = -1;
    assert_int_equal(vigil_encode_telemetry(&in, buf, sizeof buf, &len), 0);
    assert_int_equal(len, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
}

static void test_status_round_trip(void **state)
{
    (void)state;
    vigil_v1_DeviceStatus s, d;
    size_t len = 0;
    vigil_status_build(&s, "oxi-9", true, "vigil-oximeter/0.1.0", 87.5f, -61, 1763860000000LL, 99,
                       3600);
    assert_int_equal(vigil_encode_status(&s, buf, sizeof buf, &len), 0);
    assert_true(len <= VIGIL_STATUS_MAX_BYTES);
    assert_int_equal(vigil_decode_status(buf, len, &d), 0);
    assert_string_equal(d.device_id, "oxi-9");
    assert_true(d.online);
    assert_string_equal(d.firmware, "vigil-oximeter/0.1.0");
    assert_float_equal(d.battery_pct, 87.5f, 0.0f);
    assert_int_equal(d.rssi_dbm, -61);
    assert_int_equal(d.time_ms, 1763860000000LL);
    assert_int_equal(d.boot_id, 99);
    assert_int_equal(d.uptime_s, 3600);
}

static void test_errors(void **state)
{
    (void)state;
    size_t len = 0;
    batch_begin(&in, "abc", 1, 2, 3);
    assert_int_equal(vigil_encode_telemetry(&in, buf, 4, &len), -1); /* buffer too small */
    const uint8_t garbage[] = {0x0a, 0x7f, 0x01};
    assert_int_equal(vigil_decode_telemetry(garbage, sizeof garbage, &out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_telemetry_round_trip_full_batch),
        cmocka_unit_test(test_known_bytes),
        cmocka_unit_test(test_status_round_trip),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
