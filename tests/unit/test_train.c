/* Training end to end: the optimization chapter's numbers (d2l, chapter 12)
 * reproduced with nd's optimizers and autograd, Newton's method through
 * second derivatives, a small MLP on two moons, the ReLU fit of W6, and memory
 * that stays flat over a long training loop. */
#include "support.h"

#include <time.h>
#include <unistd.h>

/* ------------------------------------------------ gradient descent (d2l 12.3) */

typedef nd_tensor *(*objective)(nd_tensor *x);

/* `steps` steps of nd_sgd on objective(x) from x0 (f64, so the numbers are d2l's
 * to the last printed digit); x is left in `out`. */
static void descend(objective f, int n, const double *x0, double lr, double momentum, int steps,
                    double *out) {
    nd_tensor *x = nd_set_requires_grad(nd_from(ND_F64, 1, (int64_t[]){n}, x0), true);
    nd_optim *o = nd_sgd(1, &x, (nd_sgd_opts){.lr = lr, .momentum = momentum});
    cr_assert(o, "%s", nd_last_error());
    for (int i = 0; i < steps; i++) {
        nd_scope_begin();
        cr_assert_eq(nd_backward(f(x)), 0, "%s", nd_last_error());
        cr_assert_eq(nd_optim_step(o), 0, "%s", nd_last_error());
        nd_optim_zero_grad(o);
        nd_scope_end();
    }
    nd_read(x, ND_F64, out, (size_t)n * sizeof *out);
    nd_optim_free(o);
}

static nd_tensor *square(nd_tensor *x) {
    return nd_sum(nd_square(x), ND_ALL, false);
}

static const double c_cos = 0.15 * 3.14159265358979323846;
static nd_tensor *x_cos_cx(nd_tensor *x) {
    return nd_sum(nd_mul(x, nd_cos(nd_mul_scalar(x, c_cos))), ND_ALL, false);
}

static nd_tensor *bowl(nd_tensor *x) { /* x1² + 2 x2² */
    return nd_sum(nd_mul(nd_parse("[1.0, 2.0]"), nd_square(x)), ND_ALL, false);
}

static nd_tensor *ill_conditioned(nd_tensor *x) { /* 0.1 x1² + 2 x2² */
    nd_tensor *coefficients = nd_from(ND_F64, ND_SHAPE(2), (const double[]){0.1, 2.0});
    return nd_sum(nd_mul(coefficients, nd_square(x)), ND_ALL, false);
}

ND_TEST(d2l, gradient_descent_in_one_dimension) {
    double x;
    descend(square, 1, (double[]){10}, 0.2, 0, 10, &x);
    cr_assert_float_eq(x, 0.060466, 5e-7);
    descend(square, 1, (double[]){10}, 0.05, 0, 10, &x);
    cr_assert_float_eq(x, 3.486784, 5e-7);
    descend(square, 1, (double[]){10}, 1.1, 0, 10, &x); /* too large a rate: diverges */
    cr_assert_float_eq(x, 61.917364, 5e-7);
    descend(x_cos_cx, 1, (double[]){10}, 2, 0, 10, &x); /* a local minimum */
    cr_assert_float_eq(x, -1.528166, 5e-7);
}

ND_TEST(d2l, gradient_descent_in_two_dimensions) {
    double x[2];
    descend(bowl, 2, (double[]){-5, -2}, 0.1, 0, 20, x);
    cr_assert_float_eq(x[0], -0.057646, 5e-7);
    cr_assert_float_eq(x[1], -0.000073, 5e-7);
}

ND_TEST(d2l, momentum_on_an_ill_conditioned_problem) {
    double x[2];
    descend(ill_conditioned, 2, (double[]){-5, -2}, 0.4, 0, 20, x);
    cr_assert(fabs(x[0] + 0.943467) < 5e-7 && fabs(x[1] + 0.000073) < 5e-7, "%f %f", x[0], x[1]);
    descend(ill_conditioned, 2, (double[]){-5, -2}, 0.6, 0, 20, x); /* x2 diverges */
    cr_assert(fabs(x[0] + 0.387814) < 5e-7 && fabs(x[1] + 1673.365109) < 5e-6, "%f %f", x[0], x[1]);
    descend(ill_conditioned, 2, (double[]){-5, -2}, 0.6, 0.5, 20, x); /* momentum tames it */
    cr_assert(fabs(x[0] - 0.007188) < 5e-7 && fabs(x[1] - 0.002553) < 5e-7, "%f %f", x[0], x[1]);
    descend(ill_conditioned, 2, (double[]){-5, -2}, 0.6, 0.25, 20, x);
    cr_assert(fabs(x[0] + 0.126340) < 5e-7 && fabs(x[1] + 0.186632) < 5e-7, "%f %f", x[0], x[1]);
}

/* The optimization lab's momentum runs (cli/labs/optimization.c states their
 * end points as course checks) against torch.optim.SGD: golden rows from
 * tests/reference/labs_momentum.py. */
static nd_tensor *valley(nd_tensor *x) { /* 0.1 x1² + 2 x2² */
    return ill_conditioned(x);
}
static nd_tensor *saddle(nd_tensor *x) { /* x1² + (x2² − 1)²/4 */
    nd_tensor *x1 = nd_select(x, 0, 0), *x2 = nd_select(x, 0, 1);
    return nd_add(nd_square(x1), nd_div_scalar(nd_square(nd_sub_scalar(nd_square(x2), 1)), 4));
}
static nd_tensor *x_cos_pi_x(nd_tensor *x) {
    return nd_sum(nd_mul(x, nd_cos(nd_mul_scalar(x, 3.14159265358979323846))), ND_ALL, false);
}

ND_TEST(d2l, lab_momentum_runs_equal_torch) {
    static const objective problems[3] = {valley, saddle, x_cos_pi_x};
    nd_tensor *rows = golden("labs_momentum.npy");
    cr_assert_eq(nd_ndim(rows), 2);
    cr_assert_eq(nd_size(rows, 1), 8);
    for (int64_t i = 0; i < nd_size(rows, 0); i++) {
        double row[8];
        nd_read(nd_select(rows, 0, i), ND_F64, row, sizeof row);
        int problem = (int)row[0], n = problem == 2 ? 1 : 2;
        double x[2] = {0, 0};
        descend(problems[problem], n, row + 4, row[1], row[2], (int)row[3], x);
        for (int k = 0; k < n; k++)
            cr_assert(fabs(x[k] - row[6 + k]) <= 1e-9 * fmax(1, fabs(row[6 + k])),
                      "run %lld (problem %d, lr %g, momentum %g): x[%d] = %.12g, torch %.12g",
                      (long long)i, problem, row[1], row[2], k, x[k], row[6 + k]);
    }
}

/* --------------------------------------------------------- Newton (d2l 12.3) */

static nd_tensor *cosh_half(nd_tensor *x) {
    return nd_cosh(nd_mul_scalar(x, 0.5));
}

/* x ← x − η f'(x)/f''(x), both derivatives by autograd: f'' differentiates the
 * graph that create_graph kept for f'. */
static double newton(objective f, double eta) {
    double x = 10.0;
    for (int i = 0; i < 10; i++) {
        nd_scope_begin();
        nd_tensor *xt = nd_set_requires_grad(nd_scalar(x, ND_F64), true);
        nd_tensor *slope = nd_gradient(f(xt), xt, true);
        nd_tensor *curvature = nd_gradient(slope, xt, false);
        cr_assert(slope && curvature, "%s", nd_last_error());
        x -= eta * nd_item(slope) / nd_item(curvature);
        nd_scope_end();
    }
    return x;
}

ND_TEST(d2l, newtons_method) {
    cr_assert_float_eq(newton(cosh_half, 1.0), 0.0, 1e-12);
    cr_assert_float_eq(newton(x_cos_cx, 1.0), 26.834133, 5e-7); /* a maximum: non-convex */
    cr_assert_float_eq(newton(x_cos_cx, 0.5), 7.269860, 5e-7);
}

/* --------------------------------------------------------- a small MLP */

typedef struct {
    nd_tensor *w1, *b1, *w2, *b2, *w3, *b3;
} mlp;

static nd_tensor *param(int ndim, const int64_t *shape) {
    return nd_set_requires_grad(nd_zeros(ND_F32, ndim, shape), true);
}

static mlp mlp_new(int64_t in, int64_t hidden, int64_t out) {
    mlp m = {param(ND_SHAPE(hidden, in)),     param(ND_SHAPE(hidden)),
             param(ND_SHAPE(hidden, hidden)), param(ND_SHAPE(hidden)),
             param(ND_SHAPE(out, hidden)),    param(ND_SHAPE(out))};
    cr_assert_eq(nd_init_linear_(m.w1, m.b1) | nd_init_linear_(m.w2, m.b2) |
                     nd_init_linear_(m.w3, m.b3),
                 0, "%s", nd_last_error());
    return m;
}

static nd_tensor *mlp_forward(const mlp *m, nd_tensor *x) {
    nd_tensor *h = nd_relu(nd_linear(x, m->w1, m->b1));
    h = nd_relu(nd_linear(h, m->w2, m->b2));
    return nd_linear(h, m->w3, m->b3);
}

/* Two interleaved half circles (scikit-learn's make_moons), with noise. */
static void two_moons(int64_t n, double noise, nd_tensor **x, nd_tensor **labels) {
    nd_tensor *t = nd_mul_scalar(nd_rand(ND_F32, ND_SHAPE(n)), 3.14159265358979);
    nd_tensor *upper = nd_stack(2, (nd_tensor *[]){nd_cos(t), nd_sin(t)}, 1);
    nd_tensor *lower = nd_stack(
        2, (nd_tensor *[]){nd_rsub_scalar(nd_cos(t), 1.0), nd_rsub_scalar(nd_sin(t), 0.5)}, 1);
    nd_tensor *points = nd_cat(2, (nd_tensor *[]){upper, lower}, 0);
    *x = nd_add(points, nd_mul_scalar(nd_randn(ND_F32, ND_SHAPE(2 * n, 2)), noise));
    *labels =
        nd_cat(2, (nd_tensor *[]){nd_zeros(ND_I64, ND_SHAPE(n)), nd_ones(ND_I64, ND_SHAPE(n))}, 0);
    cr_assert(*x && *labels, "%s", nd_last_error());
}

ND_TEST(train, mlp_separates_two_moons) {
    nd_manual_seed(3);
    nd_tensor *x, *labels;
    two_moons(200, 0.1, &x, &labels);
    mlp m = mlp_new(2, 32, 2);
    nd_adam_opts a = ND_ADAM_DEFAULTS;
    a.lr = 0.01;
    nd_optim *o = nd_adam(6, (nd_tensor *[]){m.w1, m.b1, m.w2, m.b2, m.w3, m.b3}, a);
    nd_batches *batches = nd_batches_new(x, labels, 32, true, false, 11);
    for (int epoch = 0; epoch < 100; epoch++) {
        nd_tensor *xb, *yb;
        nd_scope_begin();
        while (nd_batches_next(batches, &xb, &yb)) {
            nd_scope_begin();
            nd_optim_zero_grad(o);
            cr_assert_eq(nd_backward(nd_cross_entropy(mlp_forward(&m, xb), yb)), 0, "%s",
                         nd_last_error());
            nd_optim_step(o);
            nd_scope_end();
        }
        nd_scope_end();
    }
    nd_tensor *predicted = nd_argmax(mlp_forward(&m, x), 1, false);
    double accuracy = nd_item(nd_sum(nd_eq(predicted, labels), ND_ALL, false)) / 400.0;
    cr_assert(accuracy >= 0.98, "training accuracy %.4f", accuracy);
    nd_batches_free(batches);
    nd_optim_free(o);
}

/* ------------------------------------------------------ the ReLU fit (W6) */

typedef struct {
    nd_tensor *x, *y, *w1, *b1, *w2, *b2;
    nd_optim *adam;
} relu_fit;

/* 256 points on linspace(−10, 10) (fed to the net scaled by 1/10), the target
 * piecewise linear through (−10, −10), (0, 0), (5, −5), (10, 20). */
static relu_fit relu_fit_new(void) {
    relu_fit r;
    nd_tensor *x = nd_reshape(nd_linspace(-10, 10, 256, ND_F32), ND_SHAPE(256, 1));
    nd_tensor *right = nd_sub_scalar(nd_mul_scalar(x, 5.0), 30.0); /* 5x − 30 on [5, 10] */
    nd_tensor *middle = nd_neg(x);                                 /* −x on [0, 5] */
    nd_tensor *y = nd_where(nd_lt(x, nd_scalar(0, ND_F32)), x,
                            nd_where(nd_lt(x, nd_scalar(5, ND_F32)), middle, right));
    r.x = nd_mul_scalar(x, 0.1);
    r.y = y;
    r.w1 = param(ND_SHAPE(32, 1)), r.b1 = param(ND_SHAPE(32));
    r.w2 = param(ND_SHAPE(1, 32)), r.b2 = param(ND_SHAPE(1));
    cr_assert_eq(nd_init_linear_(r.w1, r.b1) | nd_init_linear_(r.w2, r.b2), 0);
    nd_adam_opts a = ND_ADAM_DEFAULTS;
    a.lr = 0.01;
    r.adam = nd_adam(4, (nd_tensor *[]){r.w1, r.b1, r.w2, r.b2}, a);
    cr_assert(r.y && r.adam, "%s", nd_last_error());
    return r;
}

static double relu_fit_step(relu_fit *r) {
    nd_scope_begin();
    nd_optim_zero_grad(r->adam);
    nd_tensor *pred = nd_linear(nd_relu(nd_linear(r->x, r->w1, r->b1)), r->w2, r->b2);
    nd_tensor *loss = nd_mse_loss(pred, r->y);
    cr_assert_eq(nd_backward(loss), 0, "%s", nd_last_error());
    nd_optim_step(r->adam);
    double value = nd_item(loss);
    nd_scope_end();
    return value;
}

ND_TEST(train, relu_net_fits_piecewise_linear_target) {
    relu_fit r = relu_fit_new();
    double loss = 0;
    for (int step = 0; step < 5000; step++) loss = relu_fit_step(&r);
    cr_assert(loss < 0.01, "final MSE %g", loss);
    nd_optim_free(r.adam);
}

/* Resident memory of this process, from /proc/self/statm (pages in RAM). */
static size_t resident_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    int got = f ? fscanf(f, "%lu %lu", &size, &resident) : 0;
    if (f) fclose(f);
    cr_assert_eq(got, 2, "cannot read /proc/self/statm");
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A long run stays flat: 100,000 steps of the W6 fit (or as many as 20 s
 * allow), each in its own scope, and neither the memory in RAM nor what malloc
 * has handed out grows by 1 MiB after the first thousand steps. Skipped under
 * AddressSanitizer, whose quarantine keeps freed blocks in RAM on purpose (the
 * test above checks ASan's own count of live bytes there). */
ND_TEST(train, long_run_stays_flat) {
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("resident memory means nothing under AddressSanitizer");
#endif
    relu_fit r = relu_fit_new();
    for (int step = 0; step < 1000; step++) relu_fit_step(&r); /* pools and caches settle */
    size_t rss_before = resident_bytes(), heap_before = bytes_in_use();
    double start = seconds_now(), elapsed = 0;
    int steps = 0;
    double loss = 0;
    while (steps < 100000 && elapsed < 20) {
        loss = relu_fit_step(&r);
        if (++steps % 256 == 0) elapsed = seconds_now() - start;
    }
    size_t rss_after = resident_bytes(), heap_after = bytes_in_use();
    fprintf(stderr,
            "long run: %d steps in %.1f s, final MSE %g; resident %zu -> %zu bytes, "
            "heap %zu -> %zu bytes\n",
            steps, seconds_now() - start, loss, rss_before, rss_after, heap_before, heap_after);
    cr_assert(steps >= 10000, "only %d steps in 20 s", steps);
    cr_assert(rss_after < rss_before + (1 << 20), "resident memory grew from %zu to %zu bytes",
              rss_before, rss_after);
    cr_assert(heap_after < heap_before + (1 << 20), "the heap grew from %zu to %zu bytes",
              heap_before, heap_after);
    nd_optim_free(r.adam);
}

ND_TEST(train, memory_stays_flat_over_ten_thousand_steps) {
    relu_fit r = relu_fit_new();
    for (int step = 0; step < 100; step++) relu_fit_step(&r); /* state and scratch settle */
    size_t before = bytes_in_use();
    for (int step = 0; step < 10000; step++) relu_fit_step(&r);
    size_t after = bytes_in_use();
    /* a leak of one 256-element tensor per step would be 10 MB */
    cr_assert(after < before + 64 * 1024, "grew from %zu to %zu bytes", before, after);
    nd_optim_free(r.adam);
}
