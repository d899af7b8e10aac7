/* PPG sources for the virtual device: a synthetic generator at a set heart rate and SpO2, or a
 * recording (CSV, one "red,ir" pair of 18-bit counts per line at 100 Hz, looped). */
#ifndef VIGIL_HOST_PPG_SOURCE_H
#define VIGIL_HOST_PPG_SOURCE_H

#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *file;        /* NULL: generator */
    double hr_bpm;
    double spo2_pct;
    double phase;      /* position within the current beat, 0..1 */
    double beat_len_s; /* length of the current beat (varies a little, like a real heart) */
    uint64_t n;
    uint32_t rng;
} signal_src_t;

/* spec: "generator" or a CSV path. Returns 0, or -1 if the file cannot be opened. */
int signal_open(signal_src_t *s, const char *spec, double hr_bpm, double spo2_pct, uint32_t seed);
/* Next sample at 100 Hz. Returns 0, or -1 on a malformed recording. */
int signal_next(signal_src_t *s, uint32_t *red, uint32_t *ir);
void signal_close(signal_src_t *s);

#endif
