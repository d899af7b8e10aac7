/* MAX30102: FIFO pointer arithmetic, sample parsing, init sequence against a fake register file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vigil/max30102.h"

typedef struct {
    uint8_t regs[256];
    uint8_t fifo[MAX30102_FIFO_DEPTH * MAX30102_BYTES_PER_SAMPLE];
    int writes;
    int fail;
} fake_t;

static int fake_write(void *ctx, uint8_t reg, const uint8_t *data, size_t len)
{
    fake_t *f = ctx;
    if (f->fail) {
        return -1;
    }
    memcpy(&f->regs[reg], data, len);
    f->writes++;
    if (reg == MAX30102_REG_MODE_CONFIG && (data[0] & MAX30102_MODE_RESET)) {
        f->regs[reg] = 0; /* reset bit self-clears */
    }
    return 0;
}

static int fake_read(void *ctx, uint8_t reg, uint8_t *data, size_t len)
{
    fake_t *f = ctx;
    if (f->fail) {
        return -1;
    }
    if (reg == MAX30102_REG_FIFO_DATA) {
        memcpy(data, f->fifo, len);
    } else {
        memcpy(data, &f->regs[reg], len);
    }
    return 0;
}

static void test_fifo_count(void **state)
{
    (void)state;
    assert_int_equal(max30102_fifo_count(5, 2, 0), 3);
    assert_int_equal(max30102_fifo_count(2, 30, 0), 4); /* wrapped */
    assert_int_equal(max30102_fifo_count(7, 7, 0), 0);
    assert_int_equal(max30102_fifo_count(7, 7, 3), 32); /* overflow: full, not empty */
}

static void test_parse_masks_to_18_bits(void **state)
{
    (void)state;
    const uint8_t raw[] = {0xFF, 0xFF, 0xFF, 0x01, 0x23, 0x45, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0xAA};
    max30102_sample_t s[4];
    size_t n = max30102_parse_fifo(raw, sizeof raw, s, 4);
    assert_int_equal(n, 2); /* the trailing partial byte is ignored */
    assert_int_equal(s[0].red, 0x3FFFF);
    assert_int_equal(s[0].ir, 0x12345);
    assert_int_equal(s[1].red, 1);
    assert_int_equal(s[1].ir, 0x30000);
    assert_int_equal(max30102_parse_fifo(raw, sizeof raw, s, 1), 1);
}

static void test_spo2_config(void **state)
{
    (void)state;
    assert_int_equal(max30102_spo2_config_value(100), 0x67);
    assert_int_equal(max30102_spo2_config_value(50), 0x63);
    assert_int_equal(max30102_spo2_config_value(123), -1);
}

static void test_init_configures_spo2_mode(void **state)
{
    (void)state;
    fake_t f;
    memset(&f, 0, sizeof f);
    f.regs[MAX30102_REG_PART_ID] = MAX30102_PART_ID;
    max30102_bus_t bus = {fake_write, fake_read, &f};
    max30102_config_t cfg = max30102_default_config();
    assert_int_equal(max30102_init(&bus, &cfg), MAX30102_OK);
    assert_int_equal(f.regs[MAX30102_REG_MODE_CONFIG], MAX30102_MODE_SPO2);
    assert_int_equal(f.regs[MAX30102_REG_SPO2_CONFIG], 0x67);
    assert_int_equal(f.regs[MAX30102_REG_LED1_PA], cfg.led_red_pa);
    assert_int_equal(f.regs[MAX30102_REG_LED2_PA], cfg.led_ir_pa);
}

static void test_init_errors(void **state)
{
    (void)state;
    fake_t f;
    memset(&f, 0, sizeof f);
    max30102_bus_t bus = {fake_write, fake_read, &f};
    max30102_config_t cfg = max30102_default_config();
    f.regs[MAX30102_REG_PART_ID] = 0x11;
    assert_int_equal(max30102_init(&bus, &cfg), MAX30102_ERR_PART_ID);
    f.fail = 1;
    assert_int_equal(max30102_init(&bus, &cfg), MAX30102_ERR_BUS);
    cfg.sample_rate_hz = 7;
    assert_int_equal(max30102_init(&bus, &cfg), MAX30102_ERR_CONFIG);
}

static void test_read_fifo(void **state)
{
    (void)state;
    fake_t f;
    memset(&f, 0, sizeof f);
    max30102_bus_t bus = {fake_write, fake_read, &f};
    f.regs[MAX30102_REG_FIFO_WR_PTR] = 2;
    f.regs[MAX30102_REG_FIFO_RD_PTR] = 0;
    const uint8_t two[] = {0, 0, 10, 0, 0, 20, 0, 0, 11, 0, 0, 21};
    memcpy(f.fifo, two, sizeof two);
    max30102_sample_t s[32];
    size_t n = 0;
    uint8_t ovf = 9;
    assert_int_equal(max30102_read_fifo(&bus, s, 32, &n, &ovf), MAX30102_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ovf, 0);
    assert_int_equal(s[1].red, 11);
    assert_int_equal(s[1].ir, 21);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_count),         cmocka_unit_test(test_parse_masks_to_18_bits),
        cmocka_unit_test(test_spo2_config),        cmocka_unit_test(test_init_configures_spo2_mode),
        cmocka_unit_test(test_init_errors),        cmocka_unit_test(test_read_fifo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
