/* Peak picking in two passes: a first pass with the shortest physiological spacing estimates the
 * beat interval, a second pass with a spacing of 60 % of that interval suppresses the dicrotic
 * (diastolic) wave, which otherwise doubles the rate at low heart rates. */
#include "vigil/beat.h"

#include <math.h>

#define MIN_SPACING_S 0.25f /* 240 bpm */
#define MAX_SPACING_S 1.0f

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

static float median_of(const float *v, int n)
{
    float tmp[BEAT_MAX];
    for (int i = 0; i < n; i++) {
        tmp[i] = v[i];
    }
    sort_floats(tmp, n);
    return (n % 2) ? tmp[n / 2] : 0.5f * (tmp[n / 2 - 1] + tmp[n / 2]);
}

/* Local maxima that dominate +-radius samples and exceed thr. */
static int find_peaks(const float *x, int n, int radius, float thr, beat_list_t *out)
{
    int last = -radius - 1;
    int prev_trough_from = 0;
    out->n = 0;
    for (int i = 1; i < n - 1; i++) {
        if (x[i] < thr || x[i] < x[i - 1] || x[i] < x[i + 1]) {
            continue;
        }
        int lo = i - radius < 0 ? 0 : i - radius;
        int hi = i + radius >= n ? n - 1 : i + radius;
        int is_max = 1;
        for (int k = lo; k <= hi && is_max; k++) {
            if (x[k] > x[i] || (x[k] == x[i] && k < i)) {
                is_max = 0;
            }
        }
        /* A peak at the very edge may be the flank of one outside the window. */
        if (!is_max || i - last <= radius || i < 2 || i > n - 3 || out->n >= BEAT_MAX) {
            continue;
        }
        float trough = x[i];
        int trough_at = i;
        for (int k = prev_trough_from; k < i; k++) {
            if (x[k] < trough) {
                trough = x[k];
                trough_at = k;
            }
        }
        float denom = x[i - 1] - 2.0f * x[i] + x[i + 1];
        float delta = denom != 0.0f ? 0.5f * (x[i - 1] - x[i + 1]) / denom : 0.0f;
        out->pos[out->n] = (float)i + delta;
        out->amp[out->n] = x[i] - trough;
        out->peak[out->n] = i;
        out->trough[out->n] = trough_at;
        out->n++;
        last = i;
        prev_trough_from = i;
    }
    return out->n;
}

int beat_detect(const float *x, int n, float fs_hz, beat_list_t *out)
{
    double ss = 0.0;
    for (int i = 0; i < n; i++) {
        ss += (double)x[i] * x[i];
    }
    float rms = (float)sqrt(ss / (n > 0 ? n : 1));
    out->n = 0;
    if (rms <= 0.0f) {
        return 0;
    }
    int radius = (int)(MIN_SPACING_S * fs_hz);
    find_peaks(x, n, radius, 0.3f * rms, out);
    if (out->n < 3) {
        return out->n;
    }
    float ibis[BEAT_MAX];
    for (int i = 1; i < out->n; i++) {
        ibis[i - 1] = out->pos[i] - out->pos[i - 1];
    }
    float med = median_of(ibis, out->n - 1);
    /* Dicrotic peaks make the first-pass intervals alternate short/long; the largest
     * intervals still approximate the true period, so take the upper of both candidates. */
    float max_ibi = ibis[0];
    for (int i = 1; i < out->n - 1; i++) {
        max_ibi = ibis[i] > max_ibi ? ibis[i] : max_ibi;
    }
    float period = med;
    if (max_ibi > 1.6f * med && max_ibi < 2.4f * med) {
        period = max_ibi;
    }
    int r2 = (int)(0.6f * period);
    int rmax = (int)(MAX_SPACING_S * fs_hz);
    if (r2 < radius) {
        r2 = radius;
    }
    if (r2 > rmax) {
        r2 = rmax;
    }
    return find_peaks(x, n, r2, 0.3f * rms, out);
}

void beat_stats(const beat_list_t *b, float fs_hz, beat_stats_t *out)
{
    float ibis[BEAT_MAX];
    int n = b->n - 1;
    out->hr_bpm = 0.0f;
    out->ibi_cv = 1.0f;
    out->amp_cv = 1.0f;
    out->kept = 0.0f;
    out->mean_ibi = 0.0f;
    out->n_ibi = 0;
    if (n < 2) {
        return;
    }
    for (int i = 0; i < n; i++) {
        ibis[i] = b->pos[i + 1] - b->pos[i];
    }
    float med = median_of(ibis, n);
    double sum = 0.0, sum2 = 0.0;
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (fabsf(ibis[i] - med) <= 0.25f * med) {
            sum += ibis[i];
            sum2 += (double)ibis[i] * ibis[i];
            kept++;
        }
    }
    out->kept = (float)kept / (float)n;
    out->n_ibi = kept;
    if (kept >= 2) {
        double mean = sum / kept;
        double var = sum2 / kept - mean * mean;
        out->mean_ibi = (float)mean;
        out->ibi_cv = (float)(sqrt(var > 0.0 ? var : 0.0) / mean);
        out->hr_bpm = (float)(60.0 * fs_hz / mean);
    }
    double asum = 0.0, asum2 = 0.0;
    for (int i = 0; i < b->n; i++) {
        asum += b->amp[i];
        asum2 += (double)b->amp[i] * b->amp[i];
    }
    double amean = asum / b->n;
    double avar = asum2 / b->n - amean * amean;
    out->amp_cv = amean > 0.0 ? (float)(sqrt(avar > 0.0 ? avar : 0.0) / amean) : 1.0f;
}
