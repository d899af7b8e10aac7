/* Building batches; offsets are relative to base_time_ms so the message stays small. */
#include "vigil/batch.h"

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

void batch_begin(vigil_batch_t *b, const char *device_id, uint32_t boot_id, uint32_t seq,
                 int64_t base_time_ms)
{
    vigil_batch_t zero = vigil_v1_DeviceTelemetry_init_zero;
    *b = zero;
    copy_str(b->device_id, sizeof b->device_id, device_id);
    b->boot_id = boot_id;
    b->seq = seq;
    b->base_time_ms = base_time_ms;
}

bool batch_add(vigil_batch_t *b, vigil_v1_Metric metric, int64_t time_ms, double value,
               uint32_t quality)
{
    if (b->samples_count >= VIGIL_BATCH_MAX_SAMPLES) {
        return false;
    }
    vigil_v1_Sample *s = &b->samples[b->samples_count++];
    s->metric = metric;
    s->offset_ms = time_ms - b->base_time_ms;
    s->value = value;
    s->quality = quality > 100 ? 100 : quality;
    return true;
}

int batch_add_reading(vigil_batch_t *b, const vitals_reading_t *r, int64_t time_ms)
{
    if (b->samples_count + 3 > VIGIL_BATCH_MAX_SAMPLES) {
        return 0;
    }
    int n = 0;
    n += batch_add(b, vigil_v1_Metric_METRIC_SIGNAL_QUALITY, time_ms, (double)r->sqi, r->sqi);
    if (r->valid) {
        /* One decimal is the sensor's real resolution; rounding keeps payloads reproducible. */
        double hr = (double)(int32_t)(r->hr_bpm * 10.0f + 0.5f) / 10.0;
        double spo2 = (double)(int32_t)(r->spo2_pct * 10.0f + 0.5f) / 10.0;
        n += batch_add(b, vigil_v1_Metric_METRIC_HEART_RATE, time_ms, hr, r->sqi);
        n += batch_add(b, vigil_v1_Metric_METRIC_SPO2, time_ms, spo2, r->sqi);
    }
    return n;
}
