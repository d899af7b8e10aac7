/* Thin wrappers so callers never touch nanopb streams directly. */
#include "vigil/encode.h"

#include <pb_decode.h>
#include <pb_encode.h>

int vigil_encode_telemetry(const vigil_v1_DeviceTelemetry *msg, uint8_t *buf, size_t cap,
                           size_t *len)
{
    pb_ostream_t os = pb_ostream_from_buffer(buf, cap);
    if (!pb_encode(&os, vigil_v1_DeviceTelemetry_fields, msg)) {
        return -1;
    }
    *len = os.bytes_written;
    return 0;
}

int vigil_decode_telemetry(const uint8_t *buf, size_t len, vigil_v1_DeviceTelemetry *msg)
{
    pb_istream_t is = pb_istream_from_buffer(buf, len);
    return pb_decode(&is, vigil_v1_DeviceTelemetry_fields, msg) ? 0 : -1;
}

int vigil_encode_status(const vigil_v1_DeviceStatus *msg, uint8_t *buf, size_t cap, size_t *len)
{
    pb_ostream_t os = pb_ostream_from_buffer(buf, cap);
    if (!pb_encode(&os, vigil_v1_DeviceStatus_fields, msg)) {
        return -1;
    }
    *len = os.bytes_written;
    return 0;
}

int vigil_decode_status(const uint8_t *buf, size_t len, vigil_v1_DeviceStatus *msg)
{
    pb_istream_t is = pb_istream_from_buffer(buf, len);
    return pb_decode(&is, vigil_v1_DeviceStatus_fields, msg) ? 0 : -1;
}
