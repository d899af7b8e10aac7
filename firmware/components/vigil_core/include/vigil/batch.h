/* Batching of readings into one DeviceTelemetry message (the nanopb struct is the batch). */
#ifndef VIGIL_BATCH_H
#define VIGIL_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/v1/telemetry.pb.h"
#include "vigil/vitals.h"

#define VIGIL_BATCH_MAX_SAMPLES 64 /* = samples max_count in proto/telemetry.options */
/* Each reading adds up to 3 samples (SQI, HR, SpO2) and each batch one battery sample. */
#define VIGIL_BATCH_MAX_READINGS ((VIGIL_BATCH_MAX_SAMPLES - 1) / 3)

typedef vigil_v1_DeviceTelemetry vigil_batch_t;

/* Starts an empty batch. device_id must already be valid (see topics.h). */
void batch_begin(vigil_batch_t *b, const char *device_id, uint32_t boot_id, uint32_t seq,
                 int64_t base_time_ms);
/* Adds one sample at absolute time time_ms; false when the batch is full. */
bool batch_add(vigil_batch_t *b, vigil_v1_Metric metric, int64_t time_ms, double value,
               uint32_t quality);
/* Adds a reading: the SQI always; HR and SpO2 only when the reading is valid, so windows with
 * motion or no finger never reach the platform as vital signs. Returns samples added. */
int batch_add_reading(vigil_batch_t *b, const vitals_reading_t *r, int64_t time_ms);

#endif
