/* DC removal and band-pass filtering of one PPG channel.
 * The DC level is kept (it is the denominator of the SpO2 ratio); the AC part is band-passed to
 * 0.5-5 Hz (30-300 bpm) so respiration, baseline wander and mains/LED noise are removed. */
#ifndef VIGIL_FILTER_H
#define VIGIL_FILTER_H

#include <stdbool.h>

typedef struct {
    float b0, b1, b2, a1, a2;
    float z1, z2; /* transposed direct form II state */
} biquad_t;

typedef struct {
    float dc;        /* slow estimate of the DC level */
    float dc_alpha;  /* EMA weight per sample */
    biquad_t hp;
    biquad_t lp;
    bool primed;
} ppg_filter_t;

void biquad_lowpass(biquad_t *f, float fs_hz, float fc_hz);
void biquad_highpass(biquad_t *f, float fs_hz, float fc_hz);
float biquad_step(biquad_t *f, float x);

/* fs_hz: sample rate; the DC tracker has a ~1.6 s time constant, the band is 0.5-5 Hz. */
void ppg_filter_init(ppg_filter_t *f, float fs_hz);
/* Returns the band-passed AC sample; *dc_out (may be NULL) receives the current DC level. */
float ppg_filter_step(ppg_filter_t *f, float x, float *dc_out);

#endif
