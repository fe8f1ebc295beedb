/* Training benchmarks W5 and W6 of BENCHMARKS.md, printed in the line format
 * that scripts/bench.sh collects:
 *
 *   W5_mlp_train: MLP 784-256-256-10, ReLU, cross-entropy, SGD lr 0.01 momentum
 *                 0.9, batch 128 of seeded random data; 10 warm-up steps, then
 *                 the median of 5 runs of 200 steps.  (threads T)
 *   W6_relu_fit:  1-32-1 ReLU net on 256 points of linspace(-10, 10), target
 *                 piecewise linear through (-10,-10), (0,0), (5,-5), (10,20),
 *                 MSE, full-batch Adam lr 0.01, 5000 steps; the median of 5
 *                 runs from the same start, and the final MSE.  (T = 1 only)
 *
 * Usage: bench_train THREADS [quick]   (quick: 50 and 1000 steps)
 * Each step runs in its own scope, as a user's loop would. */
#include "bench.h"

#include <nd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static nd_tensor *param(int ndim, const int64_t *shape) {
    return nd_set_requires_grad(nd_zeros(ND_F32, ndim, shape), true);
}

static int fail(const char *what) {
    fprintf(stderr, "bench_train: %s: %s\n", what, nd_last_error() ? nd_last_error() : "?");
    return 1;
}

/* ----------------------------------------------------------------- W5 */

typedef struct {
    nd_tensor *p[6]; /* w1 b1 w2 b2 w3 b3 */
    nd_tensor *x, *labels;
    nd_optim *sgd;
} mlp_bench;

static int mlp_step(mlp_bench *m) {
    nd_scope_begin();
    nd_optim_zero_grad(m->sgd);
    nd_tensor *h = nd_relu(nd_linear(m->x, m->p[0], m->p[1]));
    h = nd_relu(nd_linear(h, m->p[2], m->p[3]));
    int rc = nd_backward(nd_cross_entropy(nd_linear(h, m->p[4], m->p[5]), m->labels));
    if (rc == 0) rc = nd_optim_step(m->sgd);
    nd_scope_end();
    return rc;
}

static int bench_mlp(int threads, bool quick) {
    nd_manual_seed(0);
    mlp_bench m;
    const int64_t sizes[] = {784, 256, 256, 10};
    for (int layer = 0; layer < 3; layer++) {
        m.p[2 * layer] = param(ND_SHAPE(sizes[layer + 1], sizes[layer]));
        m.p[2 * layer + 1] = param(ND_SHAPE(sizes[layer + 1]));
        if (nd_init_linear_(m.p[2 * layer], m.p[2 * layer + 1])) return fail("init");
    }
    m.x = nd_randn(ND_F32, ND_SHAPE(128, 784));
    m.labels = nd_randint(0, 10, ND_SHAPE(128));
    m.sgd = nd_sgd(6, m.p, (nd_sgd_opts){.lr = 0.01, .momentum = 0.9});
    if (!m.x || !m.labels || !m.sgd) return fail("W5 setup");
    int steps = quick ? 50 : 200;
    for (int i = 0; i < 10; i++)
        if (mlp_step(&m)) return fail("W5 step");
    double rates[5];
    for (int r = 0; r < 5; r++) {
        double start = bench_now();
        for (int i = 0; i < steps; i++)
            if (mlp_step(&m)) return fail("W5 step");
        rates[r] = steps / (bench_now() - start);
    }
    bench_report("W5_mlp_train", threads, "steps_per_s", bench_median(rates, 5), "steps/s");
    nd_optim_free(m.sgd);
    return 0;
}

/* ----------------------------------------------------------------- W6 */

static int bench_relu_fit(int threads, bool quick) {
    float xs[256], ys[256];
    for (int i = 0; i < 256; i++) {
        double x = -10.0 + 20.0 * i / 255.0;
        xs[i] = (float)x;
        ys[i] = (float)(x < 0 ? x : x < 5 ? -x : 5 * x - 30);
    }
    nd_tensor *x = nd_from(ND_F32, ND_SHAPE(256, 1), xs);
    nd_tensor *y = nd_from(ND_F32, ND_SHAPE(256, 1), ys);
    int steps = quick ? 1000 : 5000;
    double rates[5], final = 0;
    for (int r = 0; r < 5; r++) {
        nd_scope_begin();
        nd_manual_seed(0);
        nd_tensor *p[] = {param(ND_SHAPE(32, 1)), param(ND_SHAPE(32)), param(ND_SHAPE(1, 32)),
                          param(ND_SHAPE(1))};
        if (nd_init_linear_(p[0], p[1]) || nd_init_linear_(p[2], p[3])) return fail("init");
        nd_adam_opts opts = ND_ADAM_DEFAULTS;
        opts.lr = 0.01;
        nd_optim *adam = nd_adam(4, p, opts);
        if (!adam) return fail("W6 setup");
        double start = bench_now();
        for (int i = 0; i < steps; i++) {
            nd_scope_begin();
            nd_optim_zero_grad(adam);
            nd_tensor *pred = nd_linear(nd_relu(nd_linear(x, p[0], p[1])), p[2], p[3]);
            nd_tensor *loss = nd_mse_loss(pred, y);
            if (nd_backward(loss) || nd_optim_step(adam)) return fail("W6 step");
            if (i == steps - 1) final = nd_item(loss);
            nd_scope_end();
        }
        rates[r] = steps / (bench_now() - start);
        nd_optim_free(adam);
        nd_scope_end();
    }
    bench_report("W6_relu_fit", threads, "steps_per_s", bench_median(rates, 5), "steps/s");
    bench_report("W6_relu_fit", threads, "final_mse", final, "mse");
    return 0;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    bool quick = (argc > 2 && strcmp(argv[2], "quick") == 0) || getenv("ND_BENCH_QUICK");
    if (threads < 1) threads = 1;
    nd_set_num_threads(threads);
    int rc = bench_mlp(threads, quick);
    if (rc == 0 && threads == 1) rc = bench_relu_fit(threads, quick);
    nd_shutdown();
    return rc;
}
