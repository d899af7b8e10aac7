/* OTA update on a {"cmd":"ota","url":"https://..."} command: HTTPS only, verified against the
 * platform CA; the bootloader rolls back an image that does not confirm itself. */
#include <string.h>

#include "app.h"
#include "esp_https_ota.h"
#include "esp_log.h"
#include "esp_system.h"

static const char *TAG = "ota";

void ota_run(const char *url, const char *ca_pem)
{
    if (strncmp(url, "https://", 8) != 0) {
        ESP_LOGW(TAG, "refusing non-HTTPS OTA url");
        return;
    }
    esp_http_client_config_t http = {
        .url = url,
        .cert_pem = ca_pem,
        .timeout_ms = 15000,
        .keep_alive_enable = true,
    };
    esp_https_ota_config_t cfg = {.http_config = &http};
    ESP_LOGI(TAG, "starting OTA");
    if (esp_https_ota(&cfg) == ESP_OK) {
        esp_restart();
    }
    ESP_LOGE(TAG, "OTA failed; staying on the running image");
}
