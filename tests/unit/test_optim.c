/* Optimizers against PyTorch (tests/reference/optim.py runs torch.optim.SGD,
 * Adam and AdamW for 100 steps on a tiny linear regression), their checks and
 * state, learning-rate schedules, initialisers and minibatches. */
#include "support.h"

#include <stdlib.h>

typedef enum { RUN_SGD, RUN_ADAM } optimizer_kind;

/* 100 steps of mse_loss(linear(x, w, b), y) from optim_w0/b0, each step in its
 * own scope (so the optimizer's state must outlive the step's scope); returns
 * the final [w.flatten(), b]. `c` is one row of the cases file. */
static nd_tensor *train(optimizer_kind kind, nd_dtype dtype, const double *c) {
    nd_tensor *x = nd_to(golden("optim_x.npy"), dtype);
    nd_tensor *y = nd_to(golden("optim_y.npy"), dtype);
    nd_tensor *w = nd_set_requires_grad(nd_clone(nd_to(golden("optim_w0.npy"), dtype)), true);
    nd_tensor *b = nd_set_requires_grad(nd_clone(nd_to(golden("optim_b0.npy"), dtype)), true);
    cr_assert(w && b, "%s", nd_last_error());
    nd_tensor *params[] = {w, b};
    nd_optim *o;
    bool halve;
    if (kind == RUN_SGD) {
        o = nd_sgd(2, params,
                   (nd_sgd_opts){.lr = c[0],
                                 .momentum = c[1],
                                 .dampening = c[2],
                                 .weight_decay = c[3],
                                 .nesterov = c[4] != 0});
        halve = c[5] != 0;
    } else {
        o = nd_adam(2, params,
                    (nd_adam_opts){.lr = c[0],
                                   .beta1 = c[1],
                                   .beta2 = c[2],
                                   .eps = c[3],
                                   .weight_decay = c[4],
                                   .decoupled = c[5] != 0});
        halve = c[6] != 0;
    }
    cr_assert(o, "%s", nd_last_error());
    for (int step = 0; step < 100; step++) {
        if (halve && step == 50) nd_optim_set_lr(o, nd_optim_lr(o) * 0.5);
        nd_scope_begin();
        nd_tensor *loss = nd_mse_loss(nd_linear(x, w, b), y);
        cr_assert_eq(nd_backward(loss), 0, "%s", nd_last_error());
        cr_assert_eq(nd_optim_step(o), 0, "%s", nd_last_error());
        nd_optim_zero_grad(o);
        nd_scope_end();
    }
    nd_optim_free(o);
    return nd_cat(2, (nd_tensor *[]){nd_flatten(w), b}, 0);
}

static void check_cases(optimizer_kind kind, const char *cases_file, const char *f64_file,
                        const char *f32_file) {
    nd_tensor *cases = golden(cases_file);
    nd_tensor *want64 = golden(f64_file), *want32 = golden(f32_file);
    int64_t ncases = nd_size(cases, 0), ncols = nd_size(cases, 1);
    double *c = malloc((size_t)(ncases * ncols) * sizeof *c);
    cr_assert_eq(nd_read(cases, ND_F64, c, (size_t)(ncases * ncols) * sizeof *c), 0);
    for (int64_t k = 0; k < ncases; k++) {
        /* f64 gives PyTorch's numbers to rounding; f32 to float rounding */
        assert_close(train(kind, ND_F64, c + k * ncols), nd_select(want64, 0, k), 1e-10, 1e-12);
        assert_close(train(kind, ND_F32, c + k * ncols), nd_select(want32, 0, k), 1e-5, 1e-6);
    }
    free(c);
}

ND_TEST(optim, sgd_matches_torch_every_option) {
    check_cases(RUN_SGD, "optim_sgd_cases.npy", "optim_sgd_f64.npy", "optim_sgd_f32.npy");
}

ND_TEST(optim, adam_and_adamw_match_torch) {
    check_cases(RUN_ADAM, "optim_adam_cases.npy", "optim_adam_f64.npy", "optim_adam_f32.npy");
}

ND_TEST(optim, first_momentum_step_is_plain_gradient_step) {
    /* torch initialises the buffer to the first gradient: no dampening at step 1 */
    nd_tensor *p = nd_set_requires_grad(nd_parse("[1.0, -2.0]"), true);
    nd_optim *o = nd_sgd(1, &p, (nd_sgd_opts){.lr = 0.1, .momentum = 0.9, .dampening = 0.5});
    nd_backward(nd_sum(nd_mul_scalar(p, 3.0), ND_ALL, false)); /* grad = 3 */
    cr_assert_eq(nd_optim_step(o), 0);
    assert_values(p, 1e-6, 0.7, -2.3);
    /* step 2: buf = 0.9·3 + 0.5·3 = 4.2 (grad accumulated to 3 again after zeroing) */
    nd_optim_zero_grad(o);
    nd_backward(nd_sum(nd_mul_scalar(p, 3.0), ND_ALL, false));
    nd_optim_step(o);
    assert_values(p, 1e-6, 0.7 - 0.42, -2.3 - 0.42);
    nd_optim_free(o);
}

ND_TEST(optim, params_without_grad_are_skipped) {
    nd_tensor *used = nd_set_requires_grad(nd_parse("[1.0]"), true);
    nd_tensor *unused = nd_set_requires_grad(nd_parse("[5.0]"), true);
    nd_adam_opts a = ND_ADAM_DEFAULTS;
    a.weight_decay = 0.1; /* would move `unused` if it were not skipped */
    nd_optim *o = nd_adam(2, (nd_tensor *[]){used, unused}, a);
    nd_backward(nd_sum(nd_square(used), ND_ALL, false));
    cr_assert_eq(nd_optim_step(o), 0, "%s", nd_last_error());
    assert_values(unused, 0, 5.0);
    /* Adam's first step moves by lr·sign(g) */
    assert_values(used, 1e-6, 1.0 - 1e-3);
    nd_optim_free(o);
}

ND_TEST(optim, zero_grad_keeps_tensor_and_zeroes_it) {
    nd_tensor *p = nd_set_requires_grad(nd_parse("[1.0, 2.0]"), true);
    nd_optim *o = nd_sgd(1, &p, (nd_sgd_opts){.lr = 1});
    nd_backward(nd_sum(nd_square(p), ND_ALL, false));
    nd_tensor *g = nd_grad(p);
    assert_values(g, 0, 2.0, 4.0);
    nd_optim_zero_grad(o);
    cr_assert_eq(nd_grad(p), g, "the gradient tensor stays the same (set_to_none=False)");
    assert_values(g, 0, 0.0, 0.0);
    nd_optim_free(o);
}

ND_TEST(optim, learning_rate_get_and_set) {
    nd_tensor *p = nd_set_requires_grad(nd_parse("[1.0]"), true);
    nd_optim *o = nd_sgd(1, &p, (nd_sgd_opts){.lr = 0.5});
    cr_assert_float_eq(nd_optim_lr(o), 0.5, 0);
    nd_optim_set_lr(o, 0.0); /* a schedule may reach 0 */
    cr_assert_float_eq(nd_optim_lr(o), 0.0, 0);
    nd_optim_set_lr(o, -1.0);
    assert_error("invalid learning rate -1");
    cr_assert_float_eq(nd_optim_lr(o), 0.0, 0);
    cr_assert(isnan(nd_optim_lr(NULL)));
    nd_optim_free(o);
}

ND_TEST(optim, step_updates_strided_and_f32_params_in_place) {
    nd_tensor *base = nd_set_requires_grad(nd_parse("[[1.0, 2.0], [3.0, 4.0]]"), true);
    nd_tensor *wt = nd_set_requires_grad(nd_detach(nd_t(base)), true); /* a strided leaf */
    nd_optim *o = nd_sgd(1, &wt, (nd_sgd_opts){.lr = 0.5});
    nd_backward(nd_sum(nd_mul(wt, nd_parse("[[1.0, 0.0], [0.0, 2.0]]")), ND_ALL, false));
    cr_assert_eq(nd_optim_step(o), 0, "%s", nd_last_error());
    assert_values(wt, 1e-7, 0.5, 3.0, 2.0, 3.0);
    nd_optim_free(o);
}

ND_TEST(optim, bad_options_and_params) {
    nd_tensor *p = nd_set_requires_grad(nd_parse("[1.0]"), true);
    nd_tensor *ps[] = {p};
    cr_assert_null(nd_sgd(1, ps, (nd_sgd_opts){.lr = 0}));
    assert_error("nd_sgd: invalid learning rate 0");
    cr_assert_null(nd_sgd(1, ps, (nd_sgd_opts){.lr = 0.1, .momentum = -0.5}));
    assert_error("nd_sgd: invalid momentum -0.5");
    cr_assert_null(nd_sgd(1, ps, (nd_sgd_opts){.lr = 0.1, .weight_decay = -1}));
    assert_error("nd_sgd: invalid weight_decay");
    cr_assert_null(nd_sgd(1, ps, (nd_sgd_opts){.lr = 0.1, .nesterov = true}));
    assert_error("Nesterov momentum requires a momentum");
    cr_assert_null(nd_sgd(
        1, ps, (nd_sgd_opts){.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}));
    assert_error("zero dampening");

    nd_adam_opts a = ND_ADAM_DEFAULTS;
    a.beta1 = 1.0;
    cr_assert_null(nd_adam(1, ps, a));
    assert_error("nd_adam: invalid beta1 1");
    a = ND_ADAM_DEFAULTS, a.beta2 = -0.1;
    cr_assert_null(nd_adam(1, ps, a));
    assert_error("nd_adam: invalid beta2");
    a = ND_ADAM_DEFAULTS, a.eps = -1;
    cr_assert_null(nd_adam(1, ps, a));
    assert_error("nd_adam: invalid eps");
    a = ND_ADAM_DEFAULTS, a.lr = -1;
    cr_assert_null(nd_adam(1, ps, a));
    assert_error("nd_adam: invalid learning rate");
    a = ND_ADAM_DEFAULTS, a.weight_decay = -0.01;
    cr_assert_null(nd_adam(1, ps, a));
    assert_error("nd_adam: invalid weight_decay");

    cr_assert_null(nd_sgd(0, ps, (nd_sgd_opts){.lr = 0.1}));
    assert_error("nd_sgd: got an empty parameter list");
    cr_assert_null(nd_adam(1, (nd_tensor *[]){NULL}, ND_ADAM_DEFAULTS));
    assert_error("nd_adam: parameter 0 is NULL");
    cr_assert_null(nd_sgd(1, (nd_tensor *[]){nd_parse("[1.0]")}, (nd_sgd_opts){.lr = 0.1}));
    assert_error("nd_sgd: parameter 0 (shape (1,)) does not require a gradient");
    cr_assert_null(nd_adam(1, (nd_tensor *[]){nd_mul_scalar(p, 2)}, ND_ADAM_DEFAULTS));
    assert_error("nd_adam: parameter 0 (shape (1,)) is not a leaf");
    cr_assert_null(nd_sgd(2, (nd_tensor *[]){p, p}, (nd_sgd_opts){.lr = 0.1}));
    assert_error("parameter 1 is the same tensor as parameter 0");

    cr_assert_eq(nd_optim_step(NULL), -1);
    assert_error("nd_optim_step: NULL optimizer");
    nd_optim_zero_grad(NULL);
    nd_optim_free(NULL); /* a no-op, like free(NULL) */
}

/* ------------------------------------------------------------- schedules */

ND_TEST(schedule, closed_forms) {
    cr_assert_float_eq(nd_lr_step(0.1, 0, 30, 0.1), 0.1, 1e-15);
    cr_assert_float_eq(nd_lr_step(0.1, 29, 30, 0.1), 0.1, 1e-15);
    cr_assert_float_eq(nd_lr_step(0.1, 30, 30, 0.1), 0.01, 1e-15);
    cr_assert_float_eq(nd_lr_step(0.1, 65, 30, 0.1), 0.001, 1e-15);
    cr_assert_float_eq(nd_lr_exponential(0.1, 3, 0.5), 0.0125, 1e-15);
    cr_assert_float_eq(nd_lr_cosine(0.1, 0, 10, 0.001), 0.1, 1e-15);
    cr_assert_float_eq(nd_lr_cosine(0.1, 5, 10, 0.001), 0.0505, 1e-15);
    cr_assert_float_eq(nd_lr_cosine(0.1, 10, 10, 0.001), 0.001, 1e-15);
    cr_assert_float_eq(nd_lr_exp_decay(1.0, 2.0, 0.5), exp(-1.0), 1e-15);
    cr_assert_float_eq(nd_lr_poly_decay(1.0, 3.0, 1.0, 0.5), 0.5, 1e-15);
}

ND_TEST(schedule, bad_arguments) {
    cr_assert(isnan(nd_lr_step(0.1, 1, 0, 0.1)));
    assert_error("nd_lr_step: step_size must be > 0, got 0");
    cr_assert(isnan(nd_lr_cosine(0.1, 1, 0, 0.0)));
    assert_error("nd_lr_cosine: t_max must be > 0");
    cr_assert(isnan(nd_lr_exponential(0.1, -1, 0.9)));
    assert_error("nd_lr_exponential: step t must be >= 0, got -1");
    cr_assert(isnan(nd_lr_poly_decay(1.0, 2.0, -1.0, 1.0)));
    assert_error("nd_lr_poly_decay: 1 + alpha");
}

/* ------------------------------------------------------------ initialisers */

static void moments(nd_tensor *t, double *mean, double *var, double *lo, double *hi) {
    int64_t n = nd_numel(t);
    double *v = malloc((size_t)n * sizeof *v);
    nd_read(t, ND_F64, v, (size_t)n * sizeof *v);
    double s = 0, s2 = 0;
    *lo = INFINITY, *hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        s += v[i], s2 += v[i] * v[i];
        *lo = fmin(*lo, v[i]), *hi = fmax(*hi, v[i]);
    }
    *mean = s / (double)n;
    *var = s2 / (double)n - *mean * *mean;
    free(v);
}

ND_TEST(init, linear_default_bounds_and_spread) {
    nd_tensor *w = nd_set_requires_grad(nd_zeros(ND_F32, ND_SHAPE(400, 100)), true);
    nd_tensor *b = nd_set_requires_grad(nd_zeros(ND_F32, ND_SHAPE(400)), true);
    cr_assert_eq(nd_init_linear_(w, b), 0, "%s", nd_last_error()); /* leaves that require grad */
    double mean, var, lo, hi, bound = 0.1;                         /* 1/√100 */
    moments(w, &mean, &var, &lo, &hi);
    cr_assert(lo >= -bound && hi < bound && lo < -0.99 * bound && hi > 0.99 * bound);
    cr_assert(fabs(mean) < 0.002 && fabs(var - bound * bound / 3) < 0.0002, "var %g", var);
    moments(b, &mean, &var, &lo, &hi);
    cr_assert(lo >= -bound && hi < bound && hi - lo > 1.8 * bound);
    cr_assert(nd_requires_grad(w) && nd_is_leaf(w));
}

ND_TEST(init, xavier_and_kaiming_scales) {
    nd_tensor *w = nd_zeros(ND_F64, ND_SHAPE(300, 200));
    double mean, var, lo, hi;
    cr_assert_eq(nd_init_xavier_uniform_(w, 2.0), 0);
    moments(w, &mean, &var, &lo, &hi);
    double std = 2.0 * sqrt(2.0 / 500);
    cr_assert(hi <= sqrt(3.0) * std && fabs(var / (std * std) - 1) < 0.02, "var %g", var);
    cr_assert_eq(nd_init_xavier_normal_(w, 1.0), 0);
    moments(w, &mean, &var, &lo, &hi);
    cr_assert(fabs(var / (2.0 / 500) - 1) < 0.02 && fabs(mean) < 0.002, "var %g", var);
    cr_assert_eq(nd_init_kaiming_uniform_(w, 0.0), 0); /* ReLU: std √(2/fan_in) */
    moments(w, &mean, &var, &lo, &hi);
    cr_assert(hi <= sqrt(6.0 / 200) && fabs(var / (2.0 / 200) - 1) < 0.02, "var %g", var);
    cr_assert_eq(nd_init_kaiming_normal_(w, 1.0), 0); /* gain √(2/2) = 1 */
    moments(w, &mean, &var, &lo, &hi);
    cr_assert(fabs(var / (1.0 / 200) - 1) < 0.02, "var %g", var);
    cr_assert_eq(nd_init_normal_(w, 3.0, 0.5), 0);
    moments(w, &mean, &var, &lo, &hi);
    cr_assert(fabs(mean - 3.0) < 0.005 && fabs(var / 0.25 - 1) < 0.02);
    cr_assert_eq(nd_init_uniform_(w, -2.0, 1.0), 0);
    moments(w, &mean, &var, &lo, &hi);
    cr_assert(lo >= -2.0 && hi < 1.0 && fabs(mean + 0.5) < 0.01);
}

ND_TEST(init, seeded_and_strided) {
    nd_tensor *a = nd_zeros(ND_F32, ND_SHAPE(4, 3)), *b = nd_zeros(ND_F32, ND_SHAPE(4, 3));
    nd_manual_seed(42);
    nd_init_kaiming_uniform_(a, 0.0);
    nd_manual_seed(42);
    nd_init_kaiming_uniform_(b, 0.0);
    cr_assert(nd_equal(a, b));
    nd_init_kaiming_uniform_(b, 0.0);
    cr_assert(!nd_equal(a, b), "the next draw differs");
    nd_tensor *base = nd_zeros(ND_F64, ND_SHAPE(3, 4));
    cr_assert_eq(nd_init_uniform_(nd_slice(base, 1, 0, 4, 2), 1.0, 2.0), 0);
    assert_values(nd_slice(base, 1, 1, 4, 2), 0, 0, 0, 0, 0, 0, 0); /* untouched columns */
}

ND_TEST(init, bad_inputs) {
    cr_assert_eq(nd_init_xavier_uniform_(nd_zeros(ND_F32, ND_SHAPE(5)), 1.0), -1);
    assert_error("nd_init_xavier_uniform_: fan in and fan out need a weight with at least 2 dims, "
                 "got shape (5,)");
    cr_assert_eq(nd_init_linear_(nd_zeros(ND_F32, ND_SHAPE(3, 2)), nd_zeros(ND_F32, ND_SHAPE(2))),
                 -1);
    assert_error("nd_init_linear_: bias of shape (2,) does not match weight of shape (3, 2)");
    cr_assert_eq(nd_init_normal_(nd_zeros(ND_I64, ND_SHAPE(3)), 0, 1), -1);
    assert_error("must be floating point, got int64");
    cr_assert_eq(nd_init_uniform_(nd_zeros(ND_F32, ND_SHAPE(3)), 1, 0), -1);
    assert_error("lo 1 must not exceed hi 0");
    nd_clear_error(); /* a NULL input keeps an earlier error */
    cr_assert_eq(nd_init_kaiming_normal_(NULL, 0), -1);
    assert_error("nd_init_kaiming_normal_: NULL input");
}

/* ------------------------------------------------------------ minibatches */

ND_TEST(batches, every_row_once_per_epoch_reshuffled) {
    nd_tensor *x = nd_reshape(nd_arange(0, 20, 1, ND_F32), ND_SHAPE(10, 2));
    nd_tensor *y = nd_arange(0, 10, 1, ND_I64);
    nd_batches *it = nd_batches_new(x, y, 4, true, false, 7);
    cr_assert_eq(nd_batches_count(it), 3);
    double order[2][10];
    for (int epoch = 0; epoch < 2; epoch++) {
        int seen[10] = {0}, count = 0, sizes[3];
        nd_tensor *xb, *yb;
        nd_scope_begin();
        while (nd_batches_next(it, &xb, &yb)) {
            cr_assert_eq(nd_size(xb, 1), 2);
            sizes[count++] = (int)nd_size(xb, 0);
            for (int64_t r = 0; r < nd_size(yb, 0); r++) {
                int64_t row = (int64_t)nd_get(yb, (int64_t[]){r});
                /* x and y stay aligned: row k of x is (2k, 2k+1) */
                cr_assert_eq(nd_get(xb, (int64_t[]){r, 0}), 2.0 * (double)row);
                order[epoch][(count - 1) * 4 + r] = (double)row;
                seen[row]++;
            }
        }
        nd_scope_end();
        cr_assert_eq(count, 3);
        cr_assert(sizes[0] == 4 && sizes[1] == 4 && sizes[2] == 2, "last partial batch kept");
        for (int k = 0; k < 10; k++) cr_assert_eq(seen[k], 1, "row %d seen %d times", k, seen[k]);
    }
    bool shuffled = false, reshuffled = false;
    for (int k = 0; k < 10; k++) {
        shuffled |= order[0][k] != k;
        reshuffled |= order[1][k] != order[0][k];
    }
    cr_assert(shuffled && reshuffled);
    nd_batches_free(it);
}

ND_TEST(batches, seeded_drop_last_and_in_order) {
    nd_tensor *x = nd_arange(0, 10, 1, ND_F64);
    nd_batches *a = nd_batches_new(x, NULL, 3, true, true, 1);
    nd_batches *b = nd_batches_new(x, NULL, 3, true, true, 1);
    cr_assert_eq(nd_batches_count(a), 3);
    nd_tensor *xa, *xb, *yb;
    int n = 0;
    while (nd_batches_next(a, &xa, NULL)) {
        cr_assert(nd_batches_next(b, &xb, &yb));
        cr_assert_null(yb);
        cr_assert(nd_equal(xa, xb), "same seed, same batches");
        cr_assert_eq(nd_numel(xa), 3);
        n++;
    }
    cr_assert_eq(n, 3, "the partial batch is dropped");
    nd_batches *plain = nd_batches_new(x, NULL, 4, false, false, 0);
    cr_assert(nd_batches_next(plain, &xa, NULL));
    assert_values(xa, 0, 0, 1, 2, 3);
    nd_batches_free(a);
    nd_batches_free(b);
    nd_batches_free(plain);
}

ND_TEST(batches, bad_inputs) {
    nd_tensor *x = nd_zeros(ND_F32, ND_SHAPE(5, 2));
    cr_assert_null(nd_batches_new(x, nd_zeros(ND_F32, ND_SHAPE(4)), 2, true, false, 0));
    assert_error("nd_batches_new: y of shape (4,) must have as many rows as x of shape (5, 2)");
    cr_assert_null(nd_batches_new(x, NULL, 0, true, false, 0));
    assert_error("nd_batches_new: batch_size must be > 0, got 0");
    cr_assert_null(nd_batches_new(nd_scalar(1, ND_F32), NULL, 1, true, false, 0));
    assert_error("x must have at least one dim");
    nd_clear_error(); /* a NULL input keeps an earlier error */
    cr_assert_null(nd_batches_new(NULL, NULL, 1, true, false, 0));
    assert_error("nd_batches_new: NULL input");
    nd_tensor *xb;
    cr_assert(!nd_batches_next(NULL, &xb, NULL));
    assert_error("nd_batches_next: NULL iterator");
    cr_assert_eq(nd_batches_count(NULL), -1);
    nd_batches_free(NULL);
}
