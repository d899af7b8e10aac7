/* Declarations shared by the ESP-IDF layer's files. Everything here is glue: measurement,
 * batching, buffering, encoding and reconnect policy live in components/vigil_core. */
#ifndef VIGIL_APP_H
#define VIGIL_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"
#include "vigil/max30102.h"
#include "vigil/ringbuf.h"
#include "vigil/uplink.h"

#define VIGIL_FIRMWARE "vigil-oximeter/0.1.0"

typedef struct {
    char device_id[65];
    char mqtt_uri[128];
    /* PEM strings read from NVS (namespace "vigil_tls"); never compiled into the image. */
    char *ca_pem;
    char *cert_pem;
    char *key_pem;
} app_config_t;

/* store.c: configuration and the ring buffer across deep sleep */
esp_err_t store_init(void);
esp_err_t store_load_config(app_config_t *cfg);
esp_err_t store_save_ringbuf(const ringbuf_t *rb);
esp_err_t store_load_ringbuf(ringbuf_t *rb);

/* net.c: Wi-Fi station (provisioning on first boot) and SNTP */
esp_err_t net_start(const char *pop);
esp_err_t net_sync_time(int timeout_ms);
int32_t net_rssi_dbm(void);

/* sensor.c: I2C bus callbacks for the MAX30102 driver */
esp_err_t sensor_bus_init(max30102_bus_t *bus, int sda, int scl);

/* mqtt_link.c: esp-mqtt as an uplink transport; events are queued to the app task */
typedef enum { LINK_CONNECTED, LINK_DISCONNECTED, LINK_PUBACK, LINK_OTA } link_event_type_t;
typedef struct {
    link_event_type_t type;
    int msg_id;
    char url[256]; /* LINK_OTA */
} link_event_t;

esp_err_t mqtt_link_start(const app_config_t *cfg, const uint8_t *will, size_t will_len,
                          uplink_t *up);
bool mqtt_link_next_event(link_event_t *ev, int wait_ms);
void mqtt_link_reconnect(void);
int mqtt_link_publish(void *ctx, const char *topic, const uint8_t *data, size_t len, bool retain,
                      int *mid);
void mqtt_link_stop(void);

/* ota.c */
void ota_run(const char *url, const char *ca_pem);

#endif
