/* Progress of long work: a bar with step, loss and steps/s on a terminal,
 * one line per 10% otherwise (logs stay short). */
#ifndef ND_PROGRESS_H
#define ND_PROGRESS_H

#include <stdint.h>

typedef struct {
    const char *what;
    int64_t total;
    int last_decile;
    double start;
    double last_draw;
    int tty;
} progress;

progress progress_begin(const char *what, int64_t total);
void progress_update(progress *p, int64_t step, double loss);
void progress_end(progress *p, double loss);

#endif
