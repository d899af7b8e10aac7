/* vector-tool: the C side of the shared protobuf test vectors (firmware/tests/test_vectors.py).
 *
 *   vector-tool encode          text records on stdin -> one hex payload per message on stdout
 *   vector-tool decode KIND     hex payloads on stdin (KIND telemetry|status) -> text records
 *
 * Text records, one field set per line (doubles printed with 17 significant digits so they
 * round-trip exactly):
 *   telemetry DEVICE_ID BOOT_ID SEQ BASE_TIME_MS DROPPED_BATCHES
 *   sample METRIC OFFSET_MS VALUE QUALITY        (repeated, belongs to the telemetry above)
 *   end
 *   status DEVICE_ID ONLINE FIRMWARE BATTERY_PCT RSSI_DBM TIME_MS BOOT_ID UPTIME_S
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/encode.h"

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

static vigil_v1_DeviceTelemetry tel;
static uint8_t buf[VIGIL_TELEMETRY_MAX_BYTES];

static void print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        printf("%02x", p[i]);
    }
    printf("\n");
}

static int encode_main(void)
{
    char line[512];
    int in_tel = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        char id[80], fw[40];
        unsigned long a, b, c, d, e;
        long long t, off;
        int online;
        double v;
        float batt;
        long rssi;
        size_t len = 0;
        if (sscanf(line, "telemetry %79s %lu %lu %lld %lu", id, &a, &b, &t, &c) == 5) {
            vigil_v1_DeviceTelemetry zero = vigil_v1_DeviceTelemetry_init_zero;
            tel = zero;
            copy_str(tel.device_id, sizeof tel.device_id, id);
            tel.boot_id = (uint32_t)a;
            tel.seq = (uint32_t)b;
            tel.base_time_ms = t;
            tel.dropped_batches = (uint32_t)c;
            in_tel = 1;
        } else if (in_tel && sscanf(line, "sample %lu %lld %lf %lu", &a, &off, &v, &b) == 4) {
            if (tel.samples_count >= 64) {
                return 1;
            }
            vigil_v1_Sample *s = &tel.samples[tel.samples_count++];
            s->metric = (vigil_v1_Metric)a;
            s->offset_ms = off;
            s->value = v;
            s->quality = (uint32_t)b;
        } else if (in_tel && strncmp(line, "end", 3) == 0) {
            if (vigil_encode_telemetry(&tel, buf, sizeof buf, &len) != 0) {
                return 1;
            }
            print_hex(buf, len);
            in_tel = 0;
        } else if (sscanf(line, "status %79s %d %39s %f %ld %lld %lu %lu", id, &online, fw, &batt,
                          &rssi, &t, &d, &e) == 8) {
            vigil_v1_DeviceStatus st = vigil_v1_DeviceStatus_init_zero;
            copy_str(st.device_id, sizeof st.device_id, id);
            copy_str(st.firmware, sizeof st.firmware, fw);
            st.online = online != 0;
            st.battery_pct = batt;
            st.rssi_dbm = (int32_t)rssi;
            st.time_ms = t;
            st.boot_id = (uint32_t)d;
            st.uptime_s = (uint32_t)e;
            if (vigil_encode_status(&st, buf, sizeof buf, &len) != 0) {
                return 1;
            }
            print_hex(buf, len);
        }
    }
    return 0;
}

static size_t from_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    unsigned int byte;
    while (s[0] && s[1] && n < cap && sscanf(s, "%2x", &byte) == 1) {
        out[n++] = (uint8_t)byte;
        s += 2;
    }
    return n;
}

static int decode_main(const char *kind)
{
    static char line[2 * VIGIL_TELEMETRY_MAX_BYTES + 8];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t n = from_hex(line, buf, sizeof buf);
        if (strcmp(kind, "telemetry") == 0) {
            if (vigil_decode_telemetry(buf, n, &tel) != 0) {
                return 1;
            }
            printf("telemetry %s %" PRIu32 " %" PRIu32 " %" PRId64 " %" PRIu32 "\n",
                   tel.device_id, tel.boot_id, tel.seq, tel.base_time_ms, tel.dropped_batches);
            for (pb_size_t i = 0; i < tel.samples_count; i++) {
                const vigil_v1_Sample *s = &tel.samples[i];
                printf("sample %d %" PRId64 " %.17g %" PRIu32 "\n", (int)s->metric, s->offset_ms,
                       s->value, s->quality);
            }
            printf("end\n");
        } else {
            vigil_v1_DeviceStatus st;
            if (vigil_decode_status(buf, n, &st) != 0) {
                return 1;
            }
            printf("status %s %d %s %.9g %" PRId32 " %" PRId64 " %" PRIu32 " %" PRIu32 "\n",
                   st.device_id, st.online ? 1 : 0, st.firmware, (double)st.battery_pct,
                   st.rssi_dbm, st.time_ms, st.boot_id, st.uptime_s);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "encode") == 0) {
        return encode_main();
    }
    if (argc == 3 && strcmp(argv[1], "decode") == 0 &&
        (strcmp(argv[2], "telemetry") == 0 || strcmp(argv[2], "status") == 0)) {
        return decode_main(argv[2]);
    }
    fprintf(stderr, "usage: vector-tool encode | vector-tool decode telemetry|status\n");
    return 2;
}
