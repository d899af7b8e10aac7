/* MAX30102 driver logic that does not depend on a particular I2C stack. */
#include "vigil/max30102.h"

max30102_config_t max30102_default_config(void)
{
    max30102_config_t c;
    c.sample_rate_hz = 100;
    /* ~7 mA: enough for a fingertip without saturating the 18-bit ADC at the 16 uA range. */
    c.led_red_pa = 0x24;
    c.led_ir_pa = 0x24;
    return c;
}

int max30102_spo2_config_value(uint16_t sample_rate_hz)
{
    static const uint16_t rates[] = {50, 100, 200, 400, 800, 1000, 1600, 3200};
    for (int i = 0; i < 8; i++) {
        if (rates[i] == sample_rate_hz) {
            /* ADC range 16384 nA (0b11 << 5), rate index << 2, pulse width 411 us (0b11). */
            return (0x3 << 5) | (i << 2) | 0x3;
        }
    }
    return -1;
}

static int write_reg(const max30102_bus_t *bus, uint8_t reg, uint8_t value)
{
    return bus->write(bus->ctx, reg, &value, 1);
}

max30102_status_t max30102_init(const max30102_bus_t *bus, const max30102_config_t *cfg)
{
    uint8_t part = 0;
    int spo2 = max30102_spo2_config_value(cfg->sample_rate_hz);
    if (spo2 < 0) {
        return MAX30102_ERR_CONFIG;
    }
    if (bus->read(bus->ctx, MAX30102_REG_PART_ID, &part, 1) != 0) {
        return MAX30102_ERR_BUS;
    }
    if (part != MAX30102_PART_ID) {
        return MAX30102_ERR_PART_ID;
    }
    /* The reset bit clears itself; registers are then at power-on defaults. */
    const uint8_t seq[][2] = {
        {MAX30102_REG_MODE_CONFIG, MAX30102_MODE_RESET},
        {MAX30102_REG_INTR_ENABLE_1, MAX30102_INTR_A_FULL},
        {MAX30102_REG_INTR_ENABLE_2, 0x00},
        {MAX30102_REG_FIFO_WR_PTR, 0x00},
        {MAX30102_REG_OVF_COUNTER, 0x00},
        {MAX30102_REG_FIFO_RD_PTR, 0x00},
        /* No on-chip averaging (filtering is ours), roll-over on, almost-full at 17 free. */
        {MAX30102_REG_FIFO_CONFIG, 0x10 | 0x0F},
        {MAX30102_REG_SPO2_CONFIG, (uint8_t)spo2},
        {MAX30102_REG_LED1_PA, cfg->led_red_pa},
        {MAX30102_REG_LED2_PA, cfg->led_ir_pa},
        {MAX30102_REG_MODE_CONFIG, MAX30102_MODE_SPO2},
    };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        if (write_reg(bus, seq[i][0], seq[i][1]) != 0) {
            return MAX30102_ERR_BUS;
        }
    }
    return MAX30102_OK;
}

uint8_t max30102_fifo_count(uint8_t wr_ptr, uint8_t rd_ptr, uint8_t ovf_counter)
{
    /* When the FIFO overflowed the pointers are equal but the FIFO is full, not empty. */
    if (ovf_counter != 0) {
        return MAX30102_FIFO_DEPTH;
    }
    return (uint8_t)((wr_ptr - rd_ptr) & (MAX30102_FIFO_DEPTH - 1u));
}

size_t max30102_parse_fifo(const uint8_t *data, size_t len, max30102_sample_t *out, size_t max_out)
{
    size_t n = len / MAX30102_BYTES_PER_SAMPLE;
    if (n > max_out) {
        n = max_out;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = data + i * MAX30102_BYTES_PER_SAMPLE;
        /* Bits 23..18 are undefined on the wire and must be masked. */
        out[i].red = (((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2]) & 0x3FFFFu;
        out[i].ir = (((uint32_t)p[3] << 16) | ((uint32_t)p[4] << 8) | p[5]) & 0x3FFFFu;
    }
    return n;
}

max30102_status_t max30102_read_fifo(const max30102_bus_t *bus, max30102_sample_t *out,
                                     size_t max_out, size_t *n_out, uint8_t *overflow)
{
    uint8_t ptrs[3]; /* WR_PTR, OVF_COUNTER, RD_PTR are consecutive registers */
    uint8_t raw[MAX30102_FIFO_DEPTH * MAX30102_BYTES_PER_SAMPLE];
    *n_out = 0;
    *overflow = 0;
    if (bus->read(bus->ctx, MAX30102_REG_FIFO_WR_PTR, ptrs, 3) != 0) {
        return MAX30102_ERR_BUS;
    }
    size_t count = max30102_fifo_count(ptrs[0], ptrs[2], ptrs[1]);
    *overflow = ptrs[1];
    if (count > max_out) {
        count = max_out;
    }
    if (count == 0) {
        return MAX30102_OK;
    }
    /* FIFO_DATA does not auto-increment the register address: one burst drains the samples. */
    if (bus->read(bus->ctx, MAX30102_REG_FIFO_DATA, raw, count * MAX30102_BYTES_PER_SAMPLE) != 0) {
        return MAX30102_ERR_BUS;
    }
    *n_out = max30102_parse_fifo(raw, count * MAX30102_BYTES_PER_SAMPLE, out, max_out);
    return MAX30102_OK;
}
