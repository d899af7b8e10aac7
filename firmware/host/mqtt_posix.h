/* libmosquitto transport for the virtual device. Single-threaded: the caller drives the network
 * with mqtt_posix_loop(). On a disconnect the client is destroyed with its internal queue, so the
 * core's ring buffer stays the only record of unacknowledged batches (as on the device). */
#ifndef VIGIL_HOST_MQTT_POSIX_H
#define VIGIL_HOST_MQTT_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/uplink.h"

struct mosquitto;

typedef struct {
    char host[256];
    int port;
    bool tls;
    const char *cafile, *certfile, *keyfile; /* mutual TLS for mqtts:// */
    char client_id[80];
    struct mosquitto *m;
    bool connected;
    bool lost;
    uplink_t *up;
    /* Called for each PUBACK before the uplink frees the batch (the host tracks acked seqs). */
    void (*on_ack)(void *ctx, int mid);
    void *on_ack_ctx;
    const uint8_t *will;
    size_t will_len;
} mqtt_posix_t;

/* mqtt://host[:port] or mqtts://host[:port]. Returns 0 or -1. */
int mqtt_posix_parse_url(mqtt_posix_t *p, const char *url);
/* Creates a fresh client, sets the last will and connects (waits for CONNACK up to timeout_ms).
 * Returns 0 when connected. */
int mqtt_posix_connect(mqtt_posix_t *p, int timeout_ms);
/* Services the socket for up to timeout_ms. Returns -1 when the connection was lost. */
int mqtt_posix_loop(mqtt_posix_t *p, int timeout_ms);
/* uplink transport callback (QoS 1). */
int mqtt_posix_publish(void *ctx, const char *topic, const uint8_t *data, size_t len, bool retain,
                       int *mid);
void mqtt_posix_close(mqtt_posix_t *p);

#endif
