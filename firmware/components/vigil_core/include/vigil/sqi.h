/* Signal-quality index (SQI), 0 (unusable) to 100 (clean), for one analysis window.
 *
 * SQI = 100 * min(q_periodicity, q_rhythm, q_amplitude, q_coherence), or 0 when a hard check
 * fails (no finger, ADC saturation, perfusion out of range, fewer than 3 beats). Taking the
 * weakest factor makes the reason for a low score explicit (the flags say which). Motion makes the
 * pulse aperiodic (low autocorrelation at the beat interval), irregular (interval and amplitude
 * spread) and decorrelates red from IR; a missing finger shows as a low DC level. */
#ifndef VIGIL_SQI_H
#define VIGIL_SQI_H

#include <stdint.h>

#define SQI_GOOD 60 /* readings below this are not reported as heart rate / SpO2 */

#define SQI_FLAG_NO_FINGER     0x01u
#define SQI_FLAG_SATURATED     0x02u
#define SQI_FLAG_PERFUSION     0x04u
#define SQI_FLAG_FEW_BEATS     0x08u
#define SQI_FLAG_APERIODIC     0x10u
#define SQI_FLAG_IRREGULAR     0x20u
#define SQI_FLAG_INCOHERENT    0x40u

#define SQI_FINGER_MIN_DC 30000.0f /* 18-bit counts: ambient light alone stays far below */

typedef struct {
    float ir_dc;
    float saturated_fraction; /* samples at ADC full scale */
    float perfusion_pct;      /* 100 * RMS(AC_ir) / DC_ir */
    int beats;
    float periodicity;        /* normalised autocorrelation at the mean beat interval */
    float ibi_cv;
    float amp_cv;
    float kept;               /* fraction of intervals agreeing with the median */
    float red_ir_corr;
} sqi_features_t;

/* Normalised autocorrelation of x at lag (samples, fractional lags are interpolated). */
float sqi_periodicity(const float *x, int n, float lag);
uint8_t sqi_score(const sqi_features_t *f, uint8_t *flags);

#endif
