/* What every benchmark program shares: a monotonic clock, the median of the
 * repeats, and the one output line of BENCHMARKS.md:
 *   workload=<id> impl=nd threads=<T> metric=<name> value=<number> unit=<unit> */
#ifndef ND_BENCH_H
#define ND_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place and returns its median. */
static inline double bench_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, bench_compare);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static inline void bench_report(const char *workload, int threads, const char *metric, double value,
                                const char *unit) {
    printf("workload=%s impl=nd threads=%d metric=%s value=%.6g unit=%s\n", workload, threads,
           metric, value, unit);
    fflush(stdout);
}

#endif
