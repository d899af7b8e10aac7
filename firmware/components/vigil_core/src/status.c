/* DeviceStatus construction (see status.h). */
#include "vigil/status.h"

#include <string.h>

/* Bounded copy that always terminates (strncpy neither terminates nor keeps -O2 quiet). */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void vigil_status_build(vigil_v1_DeviceStatus *s, const char *device_id, bool online,
                        const char *firmware, float battery_pct, int32_t rssi_dbm,
                        int64_t time_ms, uint32_t boot_id, uint32_t uptime_s)
{
    vigil_v1_DeviceStatus zero = vigil_v1_DeviceStatus_init_zero;
    *s = zero;
    copy_str(s->device_id, sizeof s->device_id, device_id);
    copy_str(s->firmware, sizeof s->firmware, firmware);
    s->online = online;
    s->battery_pct = battery_pct;
    s->rssi_dbm = rssi_dbm;
    s->time_ms = time_ms;
    s->boot_id = boot_id;
    s->uptime_s = uptime_s;
}
