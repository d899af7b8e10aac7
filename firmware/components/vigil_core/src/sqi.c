/* Signal-quality index (definition in sqi.h). Thresholds were set on synthetic recordings with
 * motion segments (firmware/scripts/accuracy.py) so that clean windows score >= 80. */
#include "vigil/sqi.h"

#include <math.h>
#include <stddef.h>

static float clamp01(float v)
{
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

static double autocorr_at(const float *x, int n, int lag)
{
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (int i = 0; i + lag < n; i++) {
        sxy += (double)x[i] * x[i + lag];
        sxx += (double)x[i] * x[i];
        syy += (double)x[i + lag] * x[i + lag];
    }
    return (sxx > 0.0 && syy > 0.0) ? sxy / sqrt(sxx * syy) : 0.0;
}

float sqi_periodicity(const float *x, int n, float lag)
{
    if (lag < 1.0f || lag >= (float)(n - 1)) {
        return 0.0f;
    }
    int l0 = (int)lag;
    float frac = lag - (float)l0;
    double a = autocorr_at(x, n, l0);
    double b = autocorr_at(x, n, l0 + 1);
    return (float)(a + (b - a) * frac);
}

uint8_t sqi_score(const sqi_features_t *f, uint8_t *flags)
{
    uint8_t fl = 0;
    if (f->ir_dc < SQI_FINGER_MIN_DC) {
        fl |= SQI_FLAG_NO_FINGER;
    }
    if (f->saturated_fraction > 0.01f) {
        fl |= SQI_FLAG_SATURATED;
    }
    if (f->perfusion_pct < 0.02f || f->perfusion_pct > 5.0f) {
        fl |= SQI_FLAG_PERFUSION;
    }
    if (f->beats < 3) {
        fl |= SQI_FLAG_FEW_BEATS;
    }
    float q_period = clamp01((f->periodicity - 0.4f) / 0.4f);
    float q_rhythm = clamp01(1.0f - (f->ibi_cv - 0.10f) / 0.15f);
    q_rhythm = fminf(q_rhythm, clamp01((f->kept - 0.6f) / 0.3f));
    float q_amp = clamp01(1.0f - (f->amp_cv - 0.25f) / 0.35f);
    float q_coh = clamp01((f->red_ir_corr - 0.7f) / 0.25f);
    if (q_period < 0.6f) {
        fl |= SQI_FLAG_APERIODIC;
    }
    if (q_rhythm < 0.6f || q_amp < 0.6f) {
        fl |= SQI_FLAG_IRREGULAR;
    }
    if (q_coh < 0.6f) {
        fl |= SQI_FLAG_INCOHERENT;
    }
    if (flags != NULL) {
        *flags = fl;
    }
    if (fl & (SQI_FLAG_NO_FINGER | SQI_FLAG_SATURATED | SQI_FLAG_PERFUSION | SQI_FLAG_FEW_BEATS)) {
        return 0;
    }
    float q = fminf(fminf(q_period, q_rhythm), fminf(q_amp, q_coh));
    return (uint8_t)lrintf(100.0f * q);
}
