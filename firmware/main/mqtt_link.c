/* esp-mqtt with mutual TLS as the core's uplink transport.
 *
 * esp-mqtt's own auto-reconnect is disabled: the core's backoff (exponential + jitter) decides
 * when to reconnect. Events arrive on the MQTT task and are handed to the app task through a
 * queue, so the core's state is only ever touched by one task. */
#include <string.h>

#include "app.h"
#include "cJSON.h"
#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"
#include "mqtt_client.h"

static const char *TAG = "mqtt";
static esp_mqtt_client_handle_t client;
static QueueHandle_t events;
static char commands_topic[VIGIL_TOPIC_MAX];

static void post(link_event_type_t type, int msg_id, const char *url)
{
    link_event_t ev = {.type = type, .msg_id = msg_id};
    if (url != NULL) {
        strlcpy(ev.url, url, sizeof ev.url);
    }
    xQueueSend(events, &ev, 0);
}

static void on_command(const char *data, int len)
{
    cJSON *root = cJSON_ParseWithLength(data, (size_t)len);
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(root, "cmd");
    if (cJSON_IsString(cmd) && strcmp(cmd->valuestring, "ota") == 0) {
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(root, "url");
        if (cJSON_IsString(url)) {
            post(LINK_OTA, 0, url->valuestring);
        }
    } else if (cJSON_IsString(cmd)) {
        ESP_LOGI(TAG, "command %s ignored by this firmware", cmd->valuestring);
    }
    cJSON_Delete(root);
}

static void on_mqtt(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    esp_mqtt_event_handle_t e = data;
    (void)arg;
    (void)base;
    switch ((esp_mqtt_event_id_t)id) {
    case MQTT_EVENT_CONNECTED:
        esp_mqtt_client_subscribe(client, commands_topic, 1);
        post(LINK_CONNECTED, 0, NULL);
        break;
    case MQTT_EVENT_DISCONNECTED:
    case MQTT_EVENT_ERROR:
        post(LINK_DISCONNECTED, 0, NULL);
        break;
    case MQTT_EVENT_PUBLISHED:
        post(LINK_PUBACK, e->msg_id, NULL);
        break;
    case MQTT_EVENT_DATA:
        if (e->topic_len == (int)strlen(commands_topic) &&
            strncmp(e->topic, commands_topic, (size_t)e->topic_len) == 0) {
            on_command(e->data, e->data_len);
        }
        break;
    default:
        break;
    }
}

esp_err_t mqtt_link_start(const app_config_t *cfg, const uint8_t *will, size_t will_len,
                          uplink_t *up)
{
    events = xQueueCreate(32, sizeof(link_event_t));
    strlcpy(commands_topic, up->topic_commands, sizeof commands_topic);
    esp_mqtt_client_config_t mc = {
        .broker.address.uri = cfg->mqtt_uri,
        .broker.verification.certificate = cfg->ca_pem,
        .credentials.client_id = cfg->device_id,
        .credentials.authentication.certificate = cfg->cert_pem,
        .credentials.authentication.key = cfg->key_pem,
        .session.last_will.topic = up->topic_status,
        .session.last_will.msg = (const char *)will,
        .session.last_will.msg_len = (int)will_len,
        .session.last_will.qos = 1,
        .session.last_will.retain = 1,
        .session.keepalive = 30,
        .network.disable_auto_reconnect = true,
    };
    client = esp_mqtt_client_init(&mc);
    if (client == NULL) {
        return ESP_FAIL;
    }
    esp_mqtt_client_register_event(client, ESP_EVENT_ANY_ID, on_mqtt, NULL);
    return esp_mqtt_client_start(client);
}

bool mqtt_link_next_event(link_event_t *ev, int wait_ms)
{
    return xQueueReceive(events, ev, pdMS_TO_TICKS(wait_ms)) == pdTRUE;
}

void mqtt_link_reconnect(void)
{
    esp_mqtt_client_reconnect(client);
}

int mqtt_link_publish(void *ctx, const char *topic, const uint8_t *data, size_t len, bool retain,
                      int *mid)
{
    (void)ctx;
    int id = esp_mqtt_client_publish(client, topic, (const char *)data, (int)len, 1, retain);
    if (id < 0) {
        return -1;
    }
    *mid = id;
    return 0;
}

void mqtt_link_stop(void)
{
    esp_mqtt_client_stop(client);
}
