/* Second-order Butterworth sections (RBJ cookbook, Q = 1/sqrt(2)) and a DC tracker. */
#include "vigil/filter.h"

#include <math.h>
#include <stddef.h>

#define VIGIL_PI 3.14159265358979f

static void set_coeffs(biquad_t *f, float b0, float b1, float b2, float a0, float a1, float a2)
{
    f->b0 = b0 / a0;
    f->b1 = b1 / a0;
    f->b2 = b2 / a0;
    f->a1 = a1 / a0;
    f->a2 = a2 / a0;
    f->z1 = 0.0f;
    f->z2 = 0.0f;
}

void biquad_lowpass(biquad_t *f, float fs_hz, float fc_hz)
{
    float w0 = 2.0f * VIGIL_PI * fc_hz / fs_hz;
    float alpha = sinf(w0) / (2.0f * 0.70710678f);
    float c = cosf(w0);
    set_coeffs(f, (1.0f - c) / 2.0f, 1.0f - c, (1.0f - c) / 2.0f, 1.0f + alpha, -2.0f * c,
               1.0f - alpha);
}

void biquad_highpass(biquad_t *f, float fs_hz, float fc_hz)
{
    float w0 = 2.0f * VIGIL_PI * fc_hz / fs_hz;
    float alpha = sinf(w0) / (2.0f * 0.70710678f);
    float c = cosf(w0);
    set_coeffs(f, (1.0f + c) / 2.0f, -(1.0f + c), (1.0f + c) / 2.0f, 1.0f + alpha, -2.0f * c,
               1.0f - alpha);
}

float biquad_step(biquad_t *f, float x)
{
    float y = f->b0 * x + f->z1;
    f->z1 = f->b1 * x - f->a1 * y + f->z2;
    f->z2 = f->b2 * x - f->a2 * y;
    return y;
}

void ppg_filter_init(ppg_filter_t *f, float fs_hz)
{
    f->dc = 0.0f;
    f->dc_alpha = 1.0f / (1.6f * fs_hz);
    biquad_highpass(&f->hp, fs_hz, 0.5f);
    biquad_lowpass(&f->lp, fs_hz, 5.0f);
    f->primed = false;
}

float ppg_filter_step(ppg_filter_t *f, float x, float *dc_out)
{
    if (!f->primed) {
        /* Start at the first sample so the tracker does not ramp up from zero for seconds. */
        f->dc = x;
        f->primed = true;
    }
    f->dc += f->dc_alpha * (x - f->dc);
    /* Subtracting the DC estimate before the high-pass keeps the filter input small, which
     * matters in single precision with an 18-bit signal on a ~100k count pedestal. */
    float y = biquad_step(&f->hp, x - f->dc);
    y = biquad_step(&f->lp, y);
    if (dc_out != NULL) {
        *dc_out = f->dc;
    }
    return y;
}
