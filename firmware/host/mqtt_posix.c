/* See mqtt_posix.h. */
#include "mqtt_posix.h"

#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int mqtt_posix_parse_url(mqtt_posix_t *p, const char *url)
{
    const char *rest;
    if (strncmp(url, "mqtt://", 7) == 0) {
        p->tls = false;
        p->port = 1883;
        rest = url + 7;
    } else if (strncmp(url, "mqtts://", 8) == 0) {
        p->tls = true;
        p->port = 8883;
        rest = url + 8;
    } else {
        return -1;
    }
    const char *colon = strrchr(rest, ':');
    size_t hl = colon ? (size_t)(colon - rest) : strcspn(rest, "/");
    if (hl == 0 || hl >= sizeof p->host) {
        return -1;
    }
    memcpy(p->host, rest, hl);
    p->host[hl] = '\0';
    if (colon != NULL) {
        p->port = atoi(colon + 1);
    }
    return (p->port > 0 && p->port < 65536) ? 0 : -1;
}

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    mqtt_posix_t *p = obj;
    (void)m;
    if (rc == 0) {
        p->connected = true;
        mosquitto_subscribe(p->m, NULL, p->up->topic_commands, 1);
    } else {
        p->lost = true;
    }
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    mqtt_posix_t *p = obj;
    (void)m;
    (void)rc;
    p->connected = false;
    p->lost = true;
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    mqtt_posix_t *p = obj;
    (void)m;
    if (p->on_ack != NULL) {
        p->on_ack(p->on_ack_ctx, mid);
    }
    uplink_puback(p->up, mid);
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)m;
    (void)obj;
    /* The host build only logs commands; OTA and config are handled by the ESP-IDF app. */
    char cmd[32] = "";
    const char *k = msg->payloadlen > 0 ? strstr((const char *)msg->payload, "\"cmd\"") : NULL;
    /* A blank in a scanf format matches any amount of white space, including none. */
    if (k != NULL && sscanf(k, "\"cmd\" : \"%31[A-Za-z0-9_-]", cmd) != 1) {
        cmd[0] = '\0';
    }
    log_event("command", "\"cmd\":\"%s\",\"bytes\":%d", cmd, msg->payloadlen);
}

void mqtt_posix_close(mqtt_posix_t *p)
{
    if (p->m != NULL) {
        mosquitto_disconnect(p->m);
        mosquitto_destroy(p->m);
        p->m = NULL;
    }
    p->connected = false;
}

int mqtt_posix_connect(mqtt_posix_t *p, int timeout_ms)
{
    mqtt_posix_close(p);
    p->lost = false;
    /* Clean session: redelivery is the ring buffer's job, not the broker's. */
    p->m = mosquitto_new(p->client_id, true, p);
    if (p->m == NULL) {
        return -1;
    }
    mosquitto_connect_callback_set(p->m, on_connect);
    mosquitto_disconnect_callback_set(p->m, on_disconnect);
    mosquitto_publish_callback_set(p->m, on_publish);
    mosquitto_message_callback_set(p->m, on_message);
    mosquitto_max_inflight_messages_set(p->m, 0);
    if (p->will != NULL) {
        mosquitto_will_set(p->m, p->up->topic_status, (int)p->will_len, p->will, 1, true);
    }
    if (p->tls && mosquitto_tls_set(p->m, p->cafile, NULL, p->certfile, p->keyfile, NULL) !=
                      MOSQ_ERR_SUCCESS) {
        return -1;
    }
    if (mosquitto_connect(p->m, p->host, p->port, 30) != MOSQ_ERR_SUCCESS) {
        return -1;
    }
    for (int waited = 0; waited < timeout_ms && !p->connected && !p->lost; waited += 50) {
        if (mosquitto_loop(p->m, 50, 1) != MOSQ_ERR_SUCCESS) {
            return -1;
        }
    }
    return p->connected ? 0 : -1;
}

int mqtt_posix_loop(mqtt_posix_t *p, int timeout_ms)
{
    if (p->m == NULL || !p->connected) {
        return -1;
    }
    int rc = mosquitto_loop(p->m, timeout_ms, 1);
    if (rc != MOSQ_ERR_SUCCESS || p->lost) {
        p->connected = false;
        return -1;
    }
    return 0;
}

int mqtt_posix_publish(void *ctx, const char *topic, const uint8_t *data, size_t len, bool retain,
                       int *mid)
{
    mqtt_posix_t *p = ctx;
    if (p->m == NULL || !p->connected) {
        return -1;
    }
    return mosquitto_publish(p->m, mid, topic, (int)len, data, 1, retain) == MOSQ_ERR_SUCCESS ? 0
                                                                                              : -1;
}
