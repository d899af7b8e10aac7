/* SpO2 by the ratio of ratios.
 *
 *   R = (AC_red / DC_red) / (AC_ir / DC_ir)
 *
 * AC_red / AC_ir is the median over the window's beats of the red pulse amplitude divided by the
 * IR pulse amplitude, both taken between the same trough and peak samples found on IR (the
 * median ignores a beat or two disturbed by a filter transient or a twitch); DC is the window
 * mean of the raw signal.
 *
 * Calibration: the linear empirical curve SpO2 = 110 - 25 * R (valid for R in 0.4..2.4, the
 * usual first-order fit for red 660 nm / IR 880-940 nm reflectance probes). A production device
 * replaces SPO2_CAL_A/B with a fit against a reference CO-oximeter for its optics. */
#ifndef VIGIL_SPO2_H
#define VIGIL_SPO2_H

#define SPO2_CAL_A 110.0f
#define SPO2_CAL_B 25.0f

#include "vigil/beat.h"

/* Returns R, or a negative value without at least 2 usable beats. red_ac/ir_ac are the
 * band-passed signals in the sample order of the beat list (either sign convention). */
float spo2_ratio(const float *red_ac, const float *ir_ac, const beat_list_t *beats, float red_dc,
                 float ir_dc);
/* Pearson correlation of the red and IR AC parts (motion decorrelates them); for the SQI. */
float spo2_red_ir_corr(const float *red_ac, const float *ir_ac, int n);
/* The calibration curve, clamped to 100 % (values above 100 are optical noise, not biology). */
float spo2_from_ratio(float r);

#endif
