/* DeviceStatus messages: the retained presence record and the last will. */
#ifndef VIGIL_STATUS_H
#define VIGIL_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/v1/status.pb.h"

void vigil_status_build(vigil_v1_DeviceStatus *s, const char *device_id, bool online,
                        const char *firmware, float battery_pct, int32_t rssi_dbm,
                        int64_t time_ms, uint32_t boot_id, uint32_t uptime_s);

#endif
