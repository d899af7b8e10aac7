/* MQTT topic names (DESIGN.md, "Topics (v1)"): a public contract, never edited in place. */
#ifndef VIGIL_TOPICS_H
#define VIGIL_TOPICS_H

#include <stdbool.h>
#include <stddef.h>

#define VIGIL_DEVICE_ID_MAX 64
/* "vigil/v1/devices/" + id + "/telemetry" + NUL */
#define VIGIL_TOPIC_MAX (17 + VIGIL_DEVICE_ID_MAX + 10 + 1)

typedef enum {
    VIGIL_TOPIC_TELEMETRY,
    VIGIL_TOPIC_STATUS,
    VIGIL_TOPIC_COMMANDS
} vigil_topic_kind_t;

/* ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$ — the platform registry's pattern; it also keeps MQTT
 * wildcards and separators (+ # /) out of topic names. */
bool vigil_device_id_valid(const char *id);
/* Writes the topic; returns its length, or 0 if the id is invalid or the buffer too small. */
size_t vigil_topic(char *buf, size_t cap, const char *device_id, vigil_topic_kind_t kind);

#endif
