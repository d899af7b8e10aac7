/* MAX30102 / MAX30101 pulse-oximeter front end: register map, configuration and FIFO parsing.
 * Bus access goes through a small callback struct so the same code runs on ESP-IDF I2C and in
 * host tests against a fake register file. */
#ifndef VIGIL_MAX30102_H
#define VIGIL_MAX30102_H

#include <stddef.h>
#include <stdint.h>

#define MAX30102_I2C_ADDR 0x57u

/* Register map (datasheet 19-7740 rev 1, table 1). */
#define MAX30102_REG_INTR_STATUS_1 0x00u
#define MAX30102_REG_INTR_STATUS_2 0x01u
#define MAX30102_REG_INTR_ENABLE_1 0x02u
#define MAX30102_REG_INTR_ENABLE_2 0x03u
#define MAX30102_REG_FIFO_WR_PTR   0x04u
#define MAX30102_REG_OVF_COUNTER   0x05u
#define MAX30102_REG_FIFO_RD_PTR   0x06u
#define MAX30102_REG_FIFO_DATA     0x07u
#define MAX30102_REG_FIFO_CONFIG   0x08u
#define MAX30102_REG_MODE_CONFIG   0x09u
#define MAX30102_REG_SPO2_CONFIG   0x0Au
#define MAX30102_REG_LED1_PA       0x0Cu /* red */
#define MAX30102_REG_LED2_PA       0x0Du /* IR */
#define MAX30102_REG_TEMP_INT      0x1Fu
#define MAX30102_REG_TEMP_FRAC     0x20u
#define MAX30102_REG_TEMP_CONFIG   0x21u
#define MAX30102_REG_REV_ID        0xFEu
#define MAX30102_REG_PART_ID       0xFFu

#define MAX30102_PART_ID       0x15u /* same for MAX30101 */
#define MAX30102_FIFO_DEPTH    32u
#define MAX30102_BYTES_PER_SAMPLE 6u /* SpO2 mode: 3 bytes red, then 3 bytes IR */
#define MAX30102_ADC_MAX       262143u /* 18-bit full scale */

#define MAX30102_MODE_RESET  0x40u
#define MAX30102_MODE_SPO2   0x03u
#define MAX30102_INTR_A_FULL 0x80u
#define MAX30102_INTR_PPG_RDY 0x40u

typedef struct {
    /* Both return 0 on success, non-zero on a bus error. */
    int (*write)(void *ctx, uint8_t reg, const uint8_t *data, size_t len);
    int (*read)(void *ctx, uint8_t reg, uint8_t *data, size_t len);
    void *ctx;
} max30102_bus_t;

typedef struct {
    uint16_t sample_rate_hz; /* 50, 100, 200, 400, 800, 1000, 1600, 3200 */
    uint8_t led_red_pa;      /* LED current, 0.2 mA per step */
    uint8_t led_ir_pa;
} max30102_config_t;

typedef struct {
    uint32_t red;
    uint32_t ir;
} max30102_sample_t;

typedef enum {
    MAX30102_OK = 0,
    MAX30102_ERR_BUS = -1,
    MAX30102_ERR_PART_ID = -2,
    MAX30102_ERR_CONFIG = -3
} max30102_status_t;

/* Default: 100 Hz, 18-bit (411 us pulses), ADC range 16384 nA, ~7 mA LEDs. */
max30102_config_t max30102_default_config(void);

/* Encodes the SPO2_CONFIG register; returns -1 for an unsupported sample rate. */
int max30102_spo2_config_value(uint16_t sample_rate_hz);

/* Soft reset, part-id check and configuration for SpO2 mode. */
max30102_status_t max30102_init(const max30102_bus_t *bus, const max30102_config_t *cfg);

/* Number of unread samples between the FIFO pointers (the FIFO is a 32-entry circle). */
uint8_t max30102_fifo_count(uint8_t wr_ptr, uint8_t rd_ptr, uint8_t ovf_counter);

/* Parses raw FIFO bytes (6 per sample, big-endian, 18 significant bits) into samples.
 * Returns the number of samples written (at most max_out; partial trailing bytes ignored). */
size_t max30102_parse_fifo(const uint8_t *data, size_t len, max30102_sample_t *out, size_t max_out);

/* Reads every available sample (up to max_out) from the device FIFO.
 * *n_out receives the count; *overflow receives the samples lost to a FIFO overflow. */
max30102_status_t max30102_read_fifo(const max30102_bus_t *bus, max30102_sample_t *out,
                                     size_t max_out, size_t *n_out, uint8_t *overflow);

#endif
