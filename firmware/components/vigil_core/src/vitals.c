/* Glue between filter, beat, spo2 and sqi; see vitals.h. */
#include "vigil/vitals.h"

#include "vigil/beat.h"
#include "vigil/max30102.h"
#include "vigil/spo2.h"
#include "vigil/sqi.h"

#include <math.h>

void vitals_init(vitals_t *v)
{
    ppg_filter_init(&v->f_red, (float)VITALS_FS_HZ);
    ppg_filter_init(&v->f_ir, (float)VITALS_FS_HZ);
    v->head = 0;
    v->count = 0;
}

/* Copies the circular window into chronological order. */
static void unroll(const vitals_t *v, const float *ring, float *out)
{
    for (uint32_t i = 0; i < VITALS_WINDOW_N; i++) {
        out[i] = ring[(v->head + i) % VITALS_WINDOW_N];
    }
}

static float mean_of(const float *x, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        s += x[i];
    }
    return (float)(s / n);
}

static void analyse(vitals_t *v, vitals_reading_t *out)
{
    const int n = VITALS_WINDOW_N;
    const float fs = (float)VITALS_FS_HZ;
    float *ir = v->scratch_a;
    float *red = v->scratch_b;
    sqi_features_t f;
    beat_list_t beats;
    beat_stats_t st;

    /* DC levels and saturation come from the raw samples. */
    unroll(v, v->ir_raw, ir);
    f.ir_dc = mean_of(ir, n);
    int sat = 0;
    for (int i = 0; i < n; i++) {
        sat += ir[i] >= 0.98f * (float)MAX30102_ADC_MAX;
    }
    unroll(v, v->red_raw, red);
    float red_dc = mean_of(red, n);
    for (int i = 0; i < n; i++) {
        sat += red[i] >= 0.98f * (float)MAX30102_ADC_MAX;
    }
    f.saturated_fraction = (float)sat / (float)(2 * n);

    unroll(v, v->ir_ac, ir);
    unroll(v, v->red_ac, red);
    f.red_ir_corr = spo2_red_ir_corr(red, ir, n);

    /* Arterial pulses lower the detected light, so the systolic peak is a minimum of the raw
     * signal: invert for the peak detector. */
    double ss = 0.0;
    for (int i = 0; i < n; i++) {
        ss += (double)ir[i] * ir[i];
        ir[i] = -ir[i];
    }
    f.perfusion_pct = f.ir_dc > 0.0f ? (float)(100.0 * sqrt(ss / n) / f.ir_dc) : 0.0f;
    beat_detect(ir, n, fs, &beats);
    beat_stats(&beats, fs, &st);
    /* Both channels inverted alike, so per-beat amplitudes keep their sign and ratio. */
    for (int i = 0; i < n; i++) {
        red[i] = -red[i];
    }
    float r = spo2_ratio(red, ir, &beats, red_dc, f.ir_dc);
    f.beats = beats.n;
    f.ibi_cv = st.ibi_cv;
    f.amp_cv = st.amp_cv;
    f.kept = st.kept;
    f.periodicity = st.mean_ibi > 0.0f ? sqi_periodicity(ir, n, st.mean_ibi) : 0.0f;

    out->sqi = sqi_score(&f, &out->flags);
    out->hr_bpm = st.hr_bpm;
    out->spo2_pct = r > 0.0f ? spo2_from_ratio(r) : 0.0f;
    out->valid = out->sqi >= SQI_GOOD && out->hr_bpm >= 20.0f && out->hr_bpm <= 300.0f &&
                 out->spo2_pct >= 50.0f && out->spo2_pct <= 100.0f;
    out->sample_index = v->count - 1;
}

bool vitals_push(vitals_t *v, uint32_t red, uint32_t ir, vitals_reading_t *out)
{
    float red_dc, ir_dc;
    float red_ac = ppg_filter_step(&v->f_red, (float)red, &red_dc);
    float ir_ac = ppg_filter_step(&v->f_ir, (float)ir, &ir_dc);
    v->red_ac[v->head] = red_ac;
    v->ir_ac[v->head] = ir_ac;
    v->red_raw[v->head] = (float)red;
    v->ir_raw[v->head] = (float)ir;
    v->head = (v->head + 1) % VITALS_WINDOW_N;
    v->count++;
    if (v->count < VITALS_WINDOW_N + VITALS_WARMUP_N || v->count % VITALS_FS_HZ != 0) {
        return false;
    }
    analyse(v, out);
    return true;
}
