/* Deterministic synthetic PPG for the unit tests (header-only, test code only). */
#ifndef VIGIL_TEST_SYNTH_H
#define VIGIL_TEST_SYNTH_H

#include <math.h>
#include <stdint.h>

#define SYNTH_PI 3.14159265358979

/* Pulse waveform in 0..~1 at phase 0..1: systolic and diastolic Gaussians. */
static inline double synth_pulse(double ph)
{
    double a = (ph - 0.15) / 0.07;
    double b = (ph - 0.45) / 0.10;
    return exp(-0.5 * a * a) + 0.4 * exp(-0.5 * b * b);
}

/* Sample k at 100 Hz of a PPG at hr_bpm whose ratio of ratios is r. */
static inline void synth_sample(uint32_t k, double hr_bpm, double r, uint32_t *red, uint32_t *ir)
{
    double t = k / 100.0;
    double ph = fmod(t * hr_bpm / 60.0, 1.0);
    double p = synth_pulse(ph);
    *ir = (uint32_t)(120000.0 * (1.0 - 0.015 * p));
    *red = (uint32_t)(90000.0 * (1.0 - 0.015 * r * p));
}

#endif
