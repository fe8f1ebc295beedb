/* W4 (autograd overhead of small ops) and W10 (Jacobian of a two-layer map in
 * both modes) of BENCHMARKS.md on nd's side. Usage: bench_autograd THREADS [quick]
 * Prints `workload=<id> impl=nd threads=<T> metric=<m> value=<v> unit=<u>` lines;
 * every timing is a warm-up then the median of the repeats. */
#include "bench.h"

#include <nd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int threads;

static void report(const char *workload, const char *metric, double value, const char *unit) {
    bench_report(workload, threads, metric, value, unit);
}

/* W4: y = x; 1000 × { y = y·1.0001 + 0.5 }; backward. 2000 ops forward and back. */
static double chain_seconds(int64_t n) {
    nd_scope_begin();
    nd_tensor *x =
        nd_set_requires_grad(n ? nd_ones(ND_F32, ND_SHAPE(n)) : nd_scalar(1, ND_F32), true);
    double start = bench_now();
    nd_tensor *y = x;
    for (int i = 0; i < 1000; i++) y = nd_add_scalar(nd_mul_scalar(y, 1.0001), 0.5);
    if (n) y = nd_sum(y, ND_ALL, false); /* backward needs one element */
    if (nd_backward(y) != 0) fprintf(stderr, "bench_autograd: %s\n", nd_last_error());
    double seconds = bench_now() - start;
    nd_scope_end();
    return seconds;
}

static void w4(const char *id, int64_t n, int repeats) {
    double *t = malloc((size_t)repeats * sizeof *t);
    chain_seconds(n);
    for (int r = 0; r < repeats; r++) t[r] = chain_seconds(n);
    report(id, "ns_per_op", bench_median(t, repeats) / 2000 * 1e9, "ns");
    free(t);
}

static nd_tensor *two_layer(nd_tensor *x, void *ctx) {
    nd_tensor **w = ctx;
    return nd_tanh(nd_mv(w[1], nd_tanh(nd_mv(w[0], x))));
}

static void w10(nd_ad_mode mode, const char *id, int repeats) {
    nd_scope_begin();
    nd_manual_seed(0);
    nd_tensor *w[2] = {nd_mul_scalar(nd_randn(ND_F32, ND_SHAPE(256, 256)), 1.0 / 16),
                       nd_mul_scalar(nd_randn(ND_F32, ND_SHAPE(256, 256)), 1.0 / 16)};
    nd_tensor *x = nd_randn(ND_F32, ND_SHAPE(256));
    double *t = malloc((size_t)repeats * sizeof *t);
    for (int r = -1; r < repeats; r++) {
        nd_scope_begin();
        double start = bench_now();
        nd_tensor *j = nd_jacobian(two_layer, w, x, mode, ND_LAYOUT_TENSOR);
        double seconds = bench_now() - start;
        if (!j) fprintf(stderr, "bench_autograd: %s\n", nd_last_error());
        nd_scope_end();
        if (r >= 0) t[r] = seconds;
    }
    report(id, "ms", bench_median(t, repeats) * 1e3, "ms");
    free(t);
    nd_scope_end();
}

int main(int argc, char **argv) {
    threads = argc > 1 ? atoi(argv[1]) : 1;
    bool quick = argc > 2 && !strcmp(argv[2], "quick");
    nd_set_num_threads(threads);
    int repeats = quick ? 5 : 21;
    w4("W4_autograd_scalar", 0, repeats);
    w4("W4_autograd_vec64", 64, repeats);
    w10(ND_REVERSE, "W10_jacobian_rev", quick ? 5 : 11);
    w10(ND_FORWARD, "W10_jacobian_fwd", quick ? 5 : 11);
    nd_shutdown();
    return 0;
}
