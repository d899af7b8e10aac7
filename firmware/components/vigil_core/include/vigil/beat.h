/* Beat detection and heart rate over an analysis window of the band-passed IR signal. */
#ifndef VIGIL_BEAT_H
#define VIGIL_BEAT_H

#define BEAT_MAX 48 /* 300 bpm over 8 s is 40 beats */

typedef struct {
    float pos[BEAT_MAX]; /* sample index of each systolic peak, sub-sample (parabolic fit) */
    float amp[BEAT_MAX]; /* peak-to-preceding-trough amplitude */
    int peak[BEAT_MAX];   /* sample index of the peak and of the trough before it */
    int trough[BEAT_MAX];
    int n;
} beat_list_t;

typedef struct {
    float hr_bpm;   /* 0 when there are too few consistent intervals */
    float ibi_cv;   /* coefficient of variation of the kept inter-beat intervals */
    float amp_cv;   /* coefficient of variation of the beat amplitudes */
    float kept;     /* fraction of intervals within 25 % of the median */
    float mean_ibi; /* samples */
    int n_ibi;
} beat_stats_t;

/* x: n samples of a zero-mean pulse signal with the systolic peak pointing up. */
int beat_detect(const float *x, int n, float fs_hz, beat_list_t *out);
/* Heart rate from the mean of the intervals that agree with the median interval. */
void beat_stats(const beat_list_t *b, float fs_hz, beat_stats_t *out);

#endif
