#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

progress progress_begin(const char *what, int64_t total) {
    progress p = {what, total > 0 ? total : 1, -1, now(), 0, isatty(STDERR_FILENO)};
    return p;
}

void progress_update(progress *p, int64_t step, double loss) {
    double t = now();
    double rate = step / (t - p->start + 1e-12);
    if (p->tty) {
        if (t - p->last_draw < 0.1 && step < p->total) return; /* ten redraws a second */
        p->last_draw = t;
        int width = 30, filled = (int)(width * step / p->total);
        fprintf(stderr, "\r  %-22s [", p->what);
        for (int i = 0; i < width; i++) fputc(i < filled ? '#' : '.', stderr);
        fprintf(stderr, "] %lld/%lld loss %.5g  %.0f steps/s ", (long long)step,
                (long long)p->total, loss, rate);
        fflush(stderr);
    } else {
        int decile = (int)(10 * step / p->total);
        if (decile == p->last_decile) return;
        p->last_decile = decile;
        fprintf(stderr, "  %s: %3d%% (step %lld/%lld, loss %.5g, %.0f steps/s)\n", p->what,
                decile * 10, (long long)step, (long long)p->total, loss, rate);
    }
}

void progress_end(progress *p, double loss) {
    p->last_draw = 0;
    p->last_decile = 9;
    progress_update(p, p->total, loss);
    if (p->tty) fputc('\n', stderr);
}
