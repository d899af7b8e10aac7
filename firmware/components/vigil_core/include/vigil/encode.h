/* Protobuf encoding/decoding of the device messages with nanopb (proto/vigil/v1/{telemetry,status}.proto). */
#ifndef VIGIL_ENCODE_H
#define VIGIL_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/v1/status.pb.h"
#include "vigil/v1/telemetry.pb.h"

#define VIGIL_TELEMETRY_MAX_BYTES vigil_v1_DeviceTelemetry_size
#define VIGIL_STATUS_MAX_BYTES vigil_v1_DeviceStatus_size

/* Each returns 0 on success (with *len set), -1 on failure. */
int vigil_encode_telemetry(const vigil_v1_DeviceTelemetry *msg, uint8_t *buf, size_t cap,
                           size_t *len);
int vigil_decode_telemetry(const uint8_t *buf, size_t len, vigil_v1_DeviceTelemetry *msg);
int vigil_encode_status(const vigil_v1_DeviceStatus *msg, uint8_t *buf, size_t cap, size_t *len);
int vigil_decode_status(const uint8_t *buf, size_t len, vigil_v1_DeviceStatus *msg);

#endif
