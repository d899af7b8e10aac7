/* The measurement pipeline: raw red/IR samples in, one reading (HR, SpO2, SQI) per second out,
 * each computed over the last VITALS_WINDOW_S seconds. All state is in the struct (no heap). */
#ifndef VIGIL_VITALS_H
#define VIGIL_VITALS_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/filter.h"

#define VITALS_FS_HZ 100
#define VITALS_WINDOW_S 8
#define VITALS_WINDOW_N (VITALS_FS_HZ * VITALS_WINDOW_S)
/* Filter settling time before the first window is trusted. */
#define VITALS_WARMUP_N (2 * VITALS_FS_HZ)

typedef struct {
    bool valid;       /* SQI >= SQI_GOOD and HR/SpO2 inside the platform's ranges */
    float hr_bpm;
    float spo2_pct;
    uint8_t sqi;
    uint8_t flags;    /* SQI_FLAG_* */
    uint32_t sample_index; /* index of the last sample in the window (time = index / fs) */
} vitals_reading_t;

typedef struct {
    ppg_filter_t f_red, f_ir;
    float red_ac[VITALS_WINDOW_N], ir_ac[VITALS_WINDOW_N];
    float red_raw[VITALS_WINDOW_N], ir_raw[VITALS_WINDOW_N];
    float scratch_a[VITALS_WINDOW_N], scratch_b[VITALS_WINDOW_N];
    uint32_t head;     /* next write position in the circular window */
    uint32_t count;    /* samples pushed since init */
} vitals_t;

void vitals_init(vitals_t *v);
/* Feeds one sample; returns true (and fills *out) once per second after the warm-up. */
bool vitals_push(vitals_t *v, uint32_t red, uint32_t ir, vitals_reading_t *out);

#endif
