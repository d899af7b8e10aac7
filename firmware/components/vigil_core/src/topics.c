/* Topic construction with device-id validation. */
#include "vigil/topics.h"

#include <stdio.h>
#include <string.h>

static bool is_alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool vigil_device_id_valid(const char *id)
{
    if (id == NULL || !is_alnum(id[0])) {
        return false;
    }
    size_t i = 1;
    for (; id[i] != '\0'; i++) {
        char c = id[i];
        if (i >= VIGIL_DEVICE_ID_MAX || !(is_alnum(c) || c == '_' || c == '.' || c == ':' || c == '-')) {
            return false;
        }
    }
    return true;
}

size_t vigil_topic(char *buf, size_t cap, const char *device_id, vigil_topic_kind_t kind)
{
    static const char *const suffix[] = {"telemetry", "status", "commands"};
    if (!vigil_device_id_valid(device_id) || (int)kind < 0 || kind > VIGIL_TOPIC_COMMANDS) {
        return 0;
    }
    int n = snprintf(buf, cap, "vigil/v1/devices/%s/%s", device_id, suffix[kind]);
    if (n < 0 || (size_t)n >= cap) {
        return 0;
    }
    return (size_t)n;
}
