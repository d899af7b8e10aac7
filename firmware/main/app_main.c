/* ESP32 pulse-oximeter node: one measurement window per wake-up, then deep sleep.
 *
 * Per window: read the MAX30102 FIFO at 100 Hz, feed vitals_push(), batch the one-second
 * readings, encode and buffer them, publish through the uplink state machine (QoS 1, freed on
 * PUBACK), and before sleeping persist whatever is still unacknowledged to NVS. boot_id and seq
 * live in RTC memory, so they survive deep sleep and restart only on a real reset. */
#include <string.h>
#include <sys/time.h>

#include "app.h"
#include "esp_attr.h"
#include "esp_log.h"
#include "esp_random.h"
#include "esp_sleep.h"
#include "esp_system.h"
#include "esp_task_wdt.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "vigil/batch.h"
#include "vigil/encode.h"
#include "vigil/status.h"
#include "vigil/vitals.h"

static const char *TAG = "vigil";

RTC_DATA_ATTR static uint32_t rtc_boot_id;
RTC_DATA_ATTR static uint32_t rtc_seq;
RTC_DATA_ATTR static uint32_t rtc_dropped;

static rb_slot_t slots[CONFIG_VIGIL_BUFFER_BATCHES];
static ringbuf_t rb;
static vitals_t vitals;
static vigil_batch_t batch;
static uint8_t enc[VIGIL_TELEMETRY_MAX_BYTES];
static app_config_t cfg;
static uplink_t up;

static int64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static uint64_t mono_ms(void)
{
    return (uint64_t)(esp_timer_get_time() / 1000);
}

static void close_batch(void)
{
    rb_make_room(&rb);
    batch.dropped_batches = rb.dropped;
    size_t len = 0;
    if (vigil_encode_telemetry(&batch, enc, sizeof enc, &len) == 0) {
        rb_push(&rb, batch.seq, enc, len);
        rtc_seq = batch.seq + 1;
    }
    ESP_LOGI(TAG, "batch seq=%u samples=%u buffered=%u", (unsigned)batch.seq,
             (unsigned)batch.samples_count, (unsigned)rb_count(&rb));
}

static void handle_link_events(int wait_ms)
{
    link_event_t ev;
    while (mqtt_link_next_event(&ev, wait_ms)) {
        wait_ms = 0;
        switch (ev.type) {
        case LINK_CONNECTED: {
            vigil_v1_DeviceStatus st;
            uint8_t buf[VIGIL_STATUS_MAX_BYTES];
            size_t len = 0;
            int mid;
            uplink_connected(&up);
            vigil_status_build(&st, cfg.device_id, true, VIGIL_FIRMWARE, -1.0f, net_rssi_dbm(),
                               wall_ms(), rtc_boot_id,
                               (uint32_t)(esp_timer_get_time() / 1000000));
            if (vigil_encode_status(&st, buf, sizeof buf, &len) == 0) {
                mqtt_link_publish(NULL, up.topic_status, buf, len, true, &mid);
            }
            break;
        }
        case LINK_DISCONNECTED:
            ESP_LOGW(TAG, "disconnected, retry in %u ms",
                     (unsigned)uplink_disconnected(&up, mono_ms()));
            break;
        case LINK_PUBACK:
            uplink_puback(&up, ev.msg_id);
            break;
        case LINK_OTA:
            store_save_ringbuf(&rb);
            ota_run(ev.url, cfg.ca_pem); /* restarts on success */
            break;
        }
    }
    if (uplink_connect_due(&up, mono_ms())) {
        /* A no-op while esp-mqtt is still connecting; the backoff paces the retries. */
        mqtt_link_reconnect();
        uplink_connect_failed(&up, mono_ms()); /* next try if this one does not connect */
    }
    uplink_pump(&up);
}

static void measure_window(const max30102_bus_t *bus)
{
    max30102_sample_t s[MAX30102_FIFO_DEPTH];
    vitals_reading_t r;
    int readings = 0;
    int64_t t0 = wall_ms();
    uint32_t n_samples = 0;
    uint64_t end = mono_ms() + (uint64_t)CONFIG_VIGIL_WINDOW_S * 1000u;

    vitals_init(&vitals);
    batch_begin(&batch, cfg.device_id, rtc_boot_id, rtc_seq, t0);
    while (mono_ms() < end) {
        size_t n = 0;
        uint8_t ovf = 0;
        esp_task_wdt_reset();
        if (max30102_read_fifo(bus, s, MAX30102_FIFO_DEPTH, &n, &ovf) != MAX30102_OK) {
            ESP_LOGE(TAG, "sensor read failed");
        }
        for (size_t i = 0; i < n; i++, n_samples++) {
            if (!vitals_push(&vitals, s[i].red, s[i].ir, &r)) {
                continue;
            }
            int64_t t = t0 + ((int64_t)r.sample_index + 1) * 1000 / VITALS_FS_HZ;
            batch_add_reading(&batch, &r, t);
            if (++readings == CONFIG_VIGIL_READINGS_PER_BATCH) {
                close_batch();
                readings = 0;
                batch_begin(&batch, cfg.device_id, rtc_boot_id, rtc_seq, t);
            }
        }
        /* 32-deep FIFO at 100 Hz fills in 320 ms; servicing every 100 ms leaves margin. */
        handle_link_events(100);
    }
    if (readings > 0) {
        close_batch();
    }
}

void app_main(void)
{
    max30102_bus_t bus;
    vigil_v1_DeviceStatus will_msg;
    uint8_t will[VIGIL_STATUS_MAX_BYTES];
    size_t will_len = 0;

    if (esp_reset_reason() != ESP_RST_DEEPSLEEP || rtc_boot_id == 0) {
        rtc_boot_id = esp_random() | 1u;
        rtc_seq = 0;
        rtc_dropped = 0;
    }
    ESP_ERROR_CHECK(esp_task_wdt_add(NULL));
    ESP_ERROR_CHECK(store_init());
    ESP_ERROR_CHECK(store_load_config(&cfg));
    rb_init(&rb, slots, CONFIG_VIGIL_BUFFER_BATCHES);
    store_load_ringbuf(&rb);
    rb.dropped = rtc_dropped;

    uplink_transport_t tx = {mqtt_link_publish, NULL};
    if (uplink_init(&up, &rb, tx, cfg.device_id, 8, rtc_boot_id ^ esp_random()) != 0) {
        ESP_LOGE(TAG, "invalid device id in NVS");
        esp_deep_sleep((uint64_t)CONFIG_VIGIL_SLEEP_S * 1000000u);
    }
    vigil_status_build(&will_msg, cfg.device_id, false, VIGIL_FIRMWARE, -1.0f, 0, 0, rtc_boot_id,
                       0);
    vigil_encode_status(&will_msg, will, sizeof will, &will_len);

    ESP_ERROR_CHECK(net_start(CONFIG_VIGIL_PROV_POP));
    /* Without a valid clock the platform would reject the batches (base_time_ms < 2017). */
    while (net_sync_time(10000) != ESP_OK) {
        esp_task_wdt_reset();
    }
    ESP_ERROR_CHECK(mqtt_link_start(&cfg, will, will_len, &up));
    ESP_ERROR_CHECK(sensor_bus_init(&bus, CONFIG_VIGIL_I2C_SDA, CONFIG_VIGIL_I2C_SCL));
    max30102_config_t scfg = max30102_default_config();
    if (max30102_init(&bus, &scfg) != MAX30102_OK) {
        ESP_LOGE(TAG, "MAX30102 not found");
    } else {
        measure_window(&bus);
    }

    /* Give the link a bounded time to drain, then keep the rest for the next wake-up. */
    uint64_t deadline = mono_ms() + 15000u;
    while (!uplink_drained(&up) && mono_ms() < deadline) {
        esp_task_wdt_reset();
        handle_link_events(100);
    }
    rtc_dropped = rb.dropped;
    store_save_ringbuf(&rb);
    mqtt_link_stop();
    ESP_LOGI(TAG, "sleeping %d s, %u batches buffered", CONFIG_VIGIL_SLEEP_S,
             (unsigned)rb_count(&rb));
    esp_deep_sleep((uint64_t)CONFIG_VIGIL_SLEEP_S * 1000000u);
}
