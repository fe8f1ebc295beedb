/* The core workloads of BENCHMARKS.md on nd's side: W1 sgemm, W2 bcast_add,
 * W3a/W3b reductions, W9 eigh, and the machine's limits PEAK (FMA throughput)
 * and STREAM (triad bandwidth). Usage: bench_core THREADS [quick]
 * Prints `workload=<id> impl=nd threads=<T> metric=<m> value=<v> unit=<u>` lines;
 * every timing is a warm-up then the median of at least 5 repeats. */
#include "bench.h"

#include <nd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static int threads;
static bool quick;

static void report(const char *workload, const char *metric, double value, const char *unit) {
    bench_report(workload, threads, metric, value, unit);
}

/* Median seconds of `repeats` calls of body(ctx) after one warm-up; each call
 * in its own scope, so a result is allocated and freed per call (as a peer's). */
typedef void (*body_fn)(void *ctx);
static double time_bench_median(body_fn body, void *ctx, int repeats) {
    double *t = malloc((size_t)repeats * sizeof *t);
    nd_scope_begin();
    body(ctx);
    nd_scope_end();
    for (int r = 0; r < repeats; r++) {
        nd_scope_begin();
        double start = bench_now();
        body(ctx);
        t[r] = bench_now() - start;
        nd_scope_end();
    }
    double m = bench_median(t, repeats);
    free(t);
    return m;
}

static void check(const void *p) {
    if (!p) {
        fprintf(stderr, "bench_core: %s\n", nd_last_error());
        exit(1);
    }
}

/* ------------------------------------------------------------------ W1 */

typedef struct {
    nd_tensor *a, *b;
} pair;

static void run_matmul(void *ctx) {
    pair *p = ctx;
    check(nd_matmul(p->a, p->b));
}

static void w1_sgemm(void) {
    const int64_t sizes[] = {256, 1024, 2048};
    for (int i = 0; i < 3; i++) {
        int64_t n = sizes[i];
        nd_scope_begin();
        pair p = {nd_randn(ND_F32, 2, (int64_t[]){n, n}), nd_randn(ND_F32, 2, (int64_t[]){n, n})};
        int repeats = n <= 256 ? 51 : n <= 1024 ? 15 : (quick ? 5 : 9);
        double s = time_bench_median(run_matmul, &p, repeats);
        char id[32];
        snprintf(id, sizeof id, "W1_sgemm_n%d", (int)n);
        report(id, "GFLOPS", 2.0 * (double)n * (double)n * (double)n / s * 1e-9, "GFLOPS");
        nd_scope_end();
    }
}

/* ------------------------------------------------------------- W2, W3 */

static void run_add(void *ctx) {
    pair *p = ctx;
    check(nd_add(p->a, p->b));
}
static void run_sum0(void *ctx) {
    check(nd_sum(((pair *)ctx)->a, 0, false));
}
static void run_sum1(void *ctx) {
    check(nd_sum(((pair *)ctx)->a, 1, false));
}

static void w2_w3(void) {
    const int64_t n = 4096;
    int repeats = quick ? 5 : 11;
    nd_scope_begin();
    pair p = {nd_randn(ND_F32, 2, (int64_t[]){n, n}), nd_randn(ND_F32, 1, (int64_t[]){n})};
    check(p.a), check(p.b);
    double s = time_bench_median(run_add, &p, repeats);
    report("W2_bcast_add", "GB_per_s", (2.0 * n * n + n) * 4 / s * 1e-9, "GB/s");
    s = time_bench_median(run_sum0, &p, repeats);
    report("W3a_reduce_axis0", "GB_per_s", (double)n * n * 4 / s * 1e-9, "GB/s");
    s = time_bench_median(run_sum1, &p, repeats);
    report("W3b_reduce_axis1", "GB_per_s", (double)n * n * 4 / s * 1e-9, "GB/s");
    nd_scope_end();
}

/* ------------------------------------------------------------------ W9 */

static void run_eigh(void *ctx) {
    nd_tensor *w = NULL, *v = NULL;
    if (nd_eigh(ctx, &w, &v)) check(NULL);
}

static void w9_eigh(void) {
    nd_scope_begin();
    nd_tensor *x = nd_randn(ND_F64, 2, (int64_t[]){512, 512});
    nd_tensor *sym = nd_add(x, nd_t(x));
    check(sym);
    double s = time_bench_median(run_eigh, sym, quick ? 5 : 9);
    report("W9_eigh", "ms", s * 1e3, "ms");
    nd_scope_end();
}

/* ---------------------------------------------------------- PEAK, STREAM */

/* Independent multiply-add chains on 16-float vectors (one 512-bit register
 * each): enough chains to cover the FMA latency on both FMA pipes. */
typedef float v16 __attribute__((vector_size(64)));
#define CHAINS 12

static double fma_kernel(int64_t iterations) {
    v16 acc[CHAINS];
    v16 mul, add;
    for (int i = 0; i < 16; i++) mul[i] = 0.999999f, add[i] = 1e-7f;
    for (int c = 0; c < CHAINS; c++)
        for (int i = 0; i < 16; i++) acc[c][i] = (float)(c + i);
    for (int64_t it = 0; it < iterations; it++)
        for (int c = 0; c < CHAINS; c++) acc[c] = acc[c] * mul + add;
    float sum = 0;
    for (int c = 0; c < CHAINS; c++)
        for (int i = 0; i < 16; i++) sum += acc[c][i];
    return (double)sum;
}

static void peak(void) {
    const int64_t iterations = quick ? 20000000 : 50000000;
    double t[5], sink = 0;
    for (int r = 0; r < 5; r++) {
        double start = bench_now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        sink += fma_kernel(iterations / 10);
        t[r] = bench_now() - start;
    }
    double flops = 2.0 * 16 * CHAINS * (double)(iterations / 10) * threads;
    report("PEAK", "GFLOPS", flops / bench_median(t, 5) * 1e-9, "GFLOPS");
    if (sink == 42.0) fprintf(stderr, "unlikely\n"); /* keeps the kernel alive */
}

static void stream_triad(void) {
    const int64_t n = (int64_t)1 << 24; /* 3 × 128 MiB, far beyond the caches */
    double *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b),
           *c = malloc((size_t)n * sizeof *c);
    if (!a || !b || !c) return;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < n; i++) a[i] = 0, b[i] = 1, c[i] = 2; /* first touch, per thread */
    double t[7];
    for (int r = 0; r < 7; r++) {
        double start = bench_now();
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t i = 0; i < n; i++) a[i] = b[i] + 3.0 * c[i];
        t[r] = bench_now() - start;
    }
    report("STREAM", "triad_GB_per_s", 3.0 * 8 * (double)n / bench_median(t, 7) * 1e-9, "GB/s");
    free(a), free(b), free(c);
}

int main(int argc, char **argv) {
    threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1) threads = 1;
    quick = (argc > 2 && strcmp(argv[2], "quick") == 0) ||
            (getenv("ND_BENCH_QUICK") && *getenv("ND_BENCH_QUICK"));
    nd_set_num_threads(threads);
    nd_manual_seed(0);
    w1_sgemm();
    w2_w3();
    w9_eigh();
    peak();
    stream_triad();
    nd_shutdown();
    return 0;
}
