/* Synthetic PPG: each beat is a systolic and a smaller diastolic Gaussian; arterial blood absorbs
 * light, so the detected signal dips at each pulse. Red and IR pulses are scaled so that their
 * ratio of ratios matches the requested SpO2 through the calibration curve of spo2.h. */
#include "ppg_source.h"

#include <math.h>
#include <string.h>

#include "vigil/backoff.h"
#include "vigil/spo2.h"

#define FS 100.0
#define IR_DC 120000.0
#define RED_DC 90000.0
#define IR_PI 0.02 /* pulse depth relative to DC */

int signal_open(signal_src_t *s, const char *spec, double hr_bpm, double spo2_pct, uint32_t seed)
{
    memset(s, 0, sizeof *s);
    s->hr_bpm = hr_bpm;
    s->spo2_pct = spo2_pct;
    s->beat_len_s = 60.0 / hr_bpm;
    s->rng = seed ? seed : 1u;
    if (spec != NULL && strcmp(spec, "generator") != 0) {
        s->file = fopen(spec, "r");
        if (s->file == NULL) {
            return -1;
        }
    }
    return 0;
}

static double uniform(signal_src_t *s)
{
    return (double)(vigil_rand32(&s->rng) >> 8) / (double)(1u << 24);
}

static double pulse(double ph)
{
    double a = (ph - 0.15) / 0.07;
    double b = (ph - 0.45) / 0.10;
    return exp(-0.5 * a * a) + 0.4 * exp(-0.5 * b * b);
}

static int next_from_file(signal_src_t *s, uint32_t *red, uint32_t *ir)
{
    char line[128];
    for (int pass = 0; pass < 2; pass++) {
        while (fgets(line, sizeof line, s->file) != NULL) {
            unsigned long r, i;
            if (sscanf(line, "%lu,%lu", &r, &i) == 2) {
                *red = (uint32_t)r;
                *ir = (uint32_t)i;
                return 0;
            }
        }
        rewind(s->file); /* loop the recording */
    }
    return -1;
}

int signal_next(signal_src_t *s, uint32_t *red, uint32_t *ir)
{
    if (s->file != NULL) {
        return next_from_file(s, red, ir);
    }
    double r = (SPO2_CAL_A - s->spo2_pct) / SPO2_CAL_B;
    double t = (double)s->n / FS;
    double p = pulse(s->phase);
    double resp = 0.004 * sin(2.0 * 3.14159265358979 * 0.25 * t);
    double noise_ir = (uniform(s) - 0.5) * 40.0;
    double noise_red = (uniform(s) - 0.5) * 40.0;
    *ir = (uint32_t)(IR_DC * (1.0 + resp - IR_PI * p) + noise_ir);
    *red = (uint32_t)(RED_DC * (1.0 + resp - IR_PI * r * p) + noise_red);
    s->phase += 1.0 / (FS * s->beat_len_s);
    if (s->phase >= 1.0) {
        s->phase -= 1.0;
        /* +-2 % beat-to-beat variability around the set rate. */
        s->beat_len_s = 60.0 / s->hr_bpm * (1.0 + 0.04 * (uniform(s) - 0.5));
    }
    s->n++;
    return 0;
}

void signal_close(signal_src_t *s)
{
    if (s->file != NULL) {
        fclose(s->file);
        s->file = NULL;
    }
}
