/* Topics and device ids (the DESIGN.md contract). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vigil/topics.h"

static void test_topic_names(void **state)
{
    (void)state;
    char buf[VIGIL_TOPIC_MAX];
    assert_int_equal(vigil_topic(buf, sizeof buf, "oxi-01", VIGIL_TOPIC_TELEMETRY), 33);
    assert_string_equal(buf, "vigil/v1/devices/oxi-01/telemetry");
    vigil_topic(buf, sizeof buf, "oxi-01", VIGIL_TOPIC_STATUS);
    assert_string_equal(buf, "vigil/v1/devices/oxi-01/status");
    vigil_topic(buf, sizeof buf, "oxi-01", VIGIL_TOPIC_COMMANDS);
    assert_string_equal(buf, "vigil/v1/devices/oxi-01/commands");
    assert_int_equal(vigil_topic(buf, 10, "oxi-01", VIGIL_TOPIC_STATUS), 0);
}

static void test_device_ids(void **state)
{
    (void)state;
    char longest[65];
    memset(longest, 'a', 64);
    longest[64] = '\0';
    assert_true(vigil_device_id_valid("a"));
    assert_true(vigil_device_id_valid("ESP32_ab.cd:ef-01"));
    assert_true(vigil_device_id_valid(longest));
    longest[63] = '\0';
    assert_true(vigil_device_id_valid(longest));
    char too_long[66];
    memset(too_long, 'a', 65);
    too_long[65] = '\0';
    assert_false(vigil_device_id_valid(too_long));
    assert_false(vigil_device_id_valid(""));
    assert_false(vigil_device_id_valid(NULL));
    assert_false(vigil_device_id_valid("-lead"));
    assert_false(vigil_device_id_valid("a/b"));
    assert_false(vigil_device_id_valid("a+"));
    assert_false(vigil_device_id_valid("a#"));
    assert_false(vigil_device_id_valid("a b"));
    char buf[VIGIL_TOPIC_MAX];
    assert_int_equal(vigil_topic(buf, sizeof buf, "a/b", VIGIL_TOPIC_TELEMETRY), 0);
    memset(too_long, 'a', 64);
    too_long[64] = '\0';
    assert_true(vigil_topic(buf, sizeof buf, too_long, VIGIL_TOPIC_TELEMETRY) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_names),
        cmocka_unit_test(test_device_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
