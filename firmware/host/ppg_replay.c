/* ppg-replay: runs the measurement pipeline over a recording and prints one line per reading.
 * Used by the accuracy report (scripts/accuracy.py). Usage: ppg-replay FILE.csv */
#include <stdio.h>

#include "vigil/vitals.h"

static vitals_t vitals; /* large: keep it off the stack */

int main(int argc, char **argv)
{
    char line[128];
    if (argc != 2) {
        fprintf(stderr, "usage: ppg-replay FILE.csv\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    vitals_init(&vitals);
    printf("t_s,valid,hr_bpm,spo2_pct,sqi,flags\n");
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long red, ir;
        vitals_reading_t r;
        if (sscanf(line, "%lu,%lu", &red, &ir) != 2) {
            continue; /* header */
        }
        if (vitals_push(&vitals, (uint32_t)red, (uint32_t)ir, &r)) {
            printf("%.2f,%d,%.2f,%.2f,%u,%u\n", (double)(r.sample_index + 1) / VITALS_FS_HZ,
                   r.valid ? 1 : 0, (double)r.hr_bpm, (double)r.spo2_pct, r.sqi, r.flags);
        }
    }
    fclose(f);
    return 0;
}
