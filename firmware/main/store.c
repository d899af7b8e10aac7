/* NVS: configuration (namespace "vigil"), the device's TLS identity (namespace "vigil_tls",
 * written at manufacturing with `nvs_partition_gen.py`, never part of the image), and the
 * unacknowledged batches across deep sleep (partition "nvs_buf"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "esp_log.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "sdkconfig.h"

static const char *TAG = "store";

esp_err_t store_init(void)
{
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    if (err == ESP_OK) {
        err = nvs_flash_init_partition("nvs_buf");
    }
    return err;
}

static char *read_str(nvs_handle_t h, const char *key)
{
    size_t len = 0;
    if (nvs_get_str(h, key, NULL, &len) != ESP_OK) {
        return NULL;
    }
    char *s = malloc(len); /* the app layer may allocate at start-up; the core never does */
    if (s != NULL && nvs_get_str(h, key, s, &len) != ESP_OK) {
        free(s);
        s = NULL;
    }
    return s;
}

esp_err_t store_load_config(app_config_t *cfg)
{
    nvs_handle_t h;
    size_t len;
    memset(cfg, 0, sizeof *cfg);
    strlcpy(cfg->mqtt_uri, CONFIG_VIGIL_MQTT_URI, sizeof cfg->mqtt_uri);
    if (nvs_open("vigil", NVS_READONLY, &h) == ESP_OK) {
        len = sizeof cfg->device_id;
        nvs_get_str(h, "device_id", cfg->device_id, &len);
        len = sizeof cfg->mqtt_uri;
        nvs_get_str(h, "mqtt_uri", cfg->mqtt_uri, &len);
        nvs_close(h);
    }
    esp_err_t err = nvs_open("vigil_tls", NVS_READONLY, &h);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "no TLS identity in NVS");
        return err;
    }
    cfg->ca_pem = read_str(h, "ca");
    cfg->cert_pem = read_str(h, "cert");
    cfg->key_pem = read_str(h, "key");
    nvs_close(h);
    if (cfg->device_id[0] == '\0' || !cfg->ca_pem || !cfg->cert_pem || !cfg->key_pem) {
        ESP_LOGE(TAG, "incomplete provisioning (device_id, ca, cert, key)");
        return ESP_ERR_NOT_FOUND;
    }
    return ESP_OK;
}

esp_err_t store_save_ringbuf(const ringbuf_t *rb)
{
    nvs_handle_t h;
    char key[8];
    uint32_t n = 0;
    esp_err_t err = nvs_open_from_partition("nvs_buf", "rb", NVS_READWRITE, &h);
    if (err != ESP_OK) {
        return err;
    }
    nvs_erase_all(h);
    for (size_t i = 0; i < rb->count; i++) {
        const rb_slot_t *s = &rb->slots[(rb->head + i) % rb->cap];
        if (s->state == RB_ACKED) {
            continue;
        }
        snprintf(key, sizeof key, "b%u", (unsigned)n);
        /* seq first, then the encoded bytes exactly as they will be re-sent */
        uint8_t tmp[4 + VIGIL_TELEMETRY_MAX_BYTES];
        memcpy(tmp, &s->seq, 4);
        memcpy(tmp + 4, s->data, s->len);
        if (nvs_set_blob(h, key, tmp, 4u + s->len) == ESP_OK) {
            n++;
        }
    }
    nvs_set_u32(h, "n", n);
    err = nvs_commit(h);
    nvs_close(h);
    return err;
}

esp_err_t store_load_ringbuf(ringbuf_t *rb)
{
    nvs_handle_t h;
    char key[8];
    uint32_t n = 0;
    static uint8_t tmp[4 + VIGIL_TELEMETRY_MAX_BYTES];
    esp_err_t err = nvs_open_from_partition("nvs_buf", "rb", NVS_READONLY, &h);
    if (err != ESP_OK) {
        return err;
    }
    nvs_get_u32(h, "n", &n);
    for (uint32_t i = 0; i < n; i++) {
        size_t len = sizeof tmp;
        uint32_t seq;
        snprintf(key, sizeof key, "b%u", (unsigned)i);
        if (nvs_get_blob(h, key, tmp, &len) == ESP_OK && len > 4) {
            memcpy(&seq, tmp, 4);
            rb_push(rb, seq, tmp + 4, len - 4);
        }
    }
    nvs_close(h);
    return ESP_OK;
}
