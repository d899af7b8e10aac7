/* Ratio of ratios and its calibration curve (see spo2.h for the definition). */
#include "vigil/spo2.h"

#include <math.h>
#include <stddef.h>

static void sort_floats(float *v, int n)
{
    for (int i = 1; i < n; i++) {
        float key = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > key) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = key;
    }
}

float spo2_ratio(const float *red_ac, const float *ir_ac, const beat_list_t *beats, float red_dc,
                 float ir_dc)
{
    float ratios[BEAT_MAX];
    int n = 0;
    if (red_dc <= 0.0f || ir_dc <= 0.0f) {
        return -1.0f;
    }
    for (int b = 0; b < beats->n; b++) {
        int p = beats->peak[b], t = beats->trough[b];
        float ir_amp = ir_ac[p] - ir_ac[t];
        float red_amp = red_ac[p] - red_ac[t];
        if (p == t || ir_amp == 0.0f) {
            continue;
        }
        ratios[n++] = red_amp / ir_amp;
    }
    if (n < 2) {
        return -1.0f;
    }
    sort_floats(ratios, n);
    float med = (n % 2) ? ratios[n / 2] : 0.5f * (ratios[n / 2 - 1] + ratios[n / 2]);
    return med * ir_dc / red_dc;
}

float spo2_red_ir_corr(const float *red_ac, const float *ir_ac, int n)
{
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (int i = 0; i < n; i++) {
        sxy += (double)red_ac[i] * ir_ac[i];
        sxx += (double)ir_ac[i] * ir_ac[i];
        syy += (double)red_ac[i] * red_ac[i];
    }
    return (sxx > 0.0 && syy > 0.0) ? (float)(sxy / sqrt(sxx * syy)) : 0.0f;
}

float spo2_from_ratio(float r)
{
    float s = SPO2_CAL_A - SPO2_CAL_B * r;
    return s > 100.0f ? 100.0f : s;
}
