/* I2C master bus (driver/i2c_master.h, IDF >= 5.2) behind the core's max30102_bus_t. */
#include "app.h"
#include "driver/i2c_master.h"

static i2c_master_dev_handle_t dev;

static int bus_write(void *ctx, uint8_t reg, const uint8_t *data, size_t len)
{
    uint8_t buf[8];
    (void)ctx;
    if (len + 1 > sizeof buf) {
        return -1;
    }
    buf[0] = reg;
    for (size_t i = 0; i < len; i++) {
        buf[i + 1] = data[i];
    }
    return i2c_master_transmit(dev, buf, len + 1, 50) == ESP_OK ? 0 : -1;
}

static int bus_read(void *ctx, uint8_t reg, uint8_t *data, size_t len)
{
    (void)ctx;
    return i2c_master_transmit_receive(dev, &reg, 1, data, len, 50) == ESP_OK ? 0 : -1;
}

esp_err_t sensor_bus_init(max30102_bus_t *bus, int sda, int scl)
{
    i2c_master_bus_handle_t h;
    i2c_master_bus_config_t bc = {
        .i2c_port = I2C_NUM_0,
        .sda_io_num = sda,
        .scl_io_num = scl,
        .clk_source = I2C_CLK_SRC_DEFAULT,
        .glitch_ignore_cnt = 7,
        .flags.enable_internal_pullup = true,
    };
    i2c_device_config_t dc = {
        .dev_addr_length = I2C_ADDR_BIT_LEN_7,
        .device_address = MAX30102_I2C_ADDR,
        .scl_speed_hz = 400000,
    };
    esp_err_t err = i2c_new_master_bus(&bc, &h);
    if (err == ESP_OK) {
        err = i2c_master_bus_add_device(h, &dc, &dev);
    }
    bus->write = bus_write;
    bus->read = bus_read;
    bus->ctx = NULL;
    return err;
}
