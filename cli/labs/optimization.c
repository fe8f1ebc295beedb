/* Lab 6 — 优化 (optimization), after d2l chapter 11: gradient descent with
 * different learning rates, in one and two dimensions, on a badly conditioned
 * problem with and without momentum, Newton's method, and stochastic gradient
 * descent with learning-rate schedules. Every trajectory is computed by nd's
 * autograd and optimizers and must give d2l's printed numbers. */
#include "lab.h"
#include "optimization_plots.h"
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* `nd lab optimization --help`: the slide's gradient descent on x² and its momentum run. */
static const option options[] = {
    {.name = "eta",
     .type = OPTION_NUMBER,
     .fallback = "0.2",
     .help = "learning rate η of gradient descent on x² (the good rate)"},
    {.name = "steps",
     .type = OPTION_INT,
     .fallback = "10",
     .help = "steps of gradient descent on x²",
     .min = 1,
     .max = 100000},
    {.name = "x0",
     .type = OPTION_NUMBER,
     .fallback = "10",
     .help = "starting point of gradient descent on x²"},
    {.name = "momentum",
     .type = OPTION_NUMBER,
     .fallback = "0.5",
     .help = "momentum β of the run at η = 0.6 on the valley",
     .min = 0,
     .max = 0.999},
    {.name = NULL}, /* the end of the table */
};

/* ------------------------------------------------------------ objectives
 * Written with nd ops so that autograd differentiates them; ctx holds their
 * constants. One-variable functions work elementwise. */

static nd_tensor *square(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_square(x);
}

/* x·cos(c·x): many local minima when c is large. */
static nd_tensor *x_cos_cx(nd_tensor *x, void *ctx) {
    double c = *(const double *)ctx;
    return nd_mul(x, nd_cos(nd_mul_scalar(x, c)));
}

static nd_tensor *cosh_half(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_cosh(nd_mul_scalar(x, 0.5));
}

/* a·x1² + b·x2² over the last dim, ctx = {a, b}: works on one point (2,) and
 * on a grid of points (ny, nx, 2) alike. */
static nd_tensor *quadratic(nd_tensor *x, void *ctx) {
    nd_tensor *coef = nd_from(ND_F64, ND_SHAPE(2), ctx);
    return nd_sum(nd_mul(nd_square(x), coef), -1, false);
}

/* (x1² + (x2² − 1)²/4 over the last dim: a saddle point at (0, 0) between
 * two minima at (0, ±1) (f = 0 there, so its contours can be drawn as √f). */
static nd_tensor *saddle(nd_tensor *x, void *ctx) {
    (void)ctx;
    nd_tensor *x1 = nd_select(x, -1, 0), *x2 = nd_select(x, -1, 1);
    return nd_add(nd_square(x1), nd_div_scalar(nd_square(nd_sub_scalar(nd_square(x2), 1)), 4));
}

/* ------------------------------------------------------------ optimisers */

typedef struct {
    double lr, momentum;
    int steps;
    double noise;                         /* std of N(0, 1)·noise added to each gradient */
    double (*schedule)(double lr, int t); /* the rate at step t = 1, 2, ...; NULL: constant */
} descent;

/* Runs nd_sgd on f from x0 (dim values): the iterates as (steps + 1, dim). */
static nd_tensor *descend(nd_fn f, void *ctx, int dim, const double *x0, descent d) {
    nd_tensor *x = LAB_CALL(nd_set_requires_grad(nd_from(ND_F64, ND_SHAPE(dim), x0), true));
    nd_optim *opt = LAB_CALL(nd_sgd(1, &x, (nd_sgd_opts){.lr = d.lr, .momentum = d.momentum}));
    double *iterates = malloc((size_t)(d.steps + 1) * (size_t)dim * sizeof *iterates);
    if (!opt || !iterates) {
        nd_optim_free(opt);
        free(iterates);
        return NULL;
    }
    int rc = nd_read(x, ND_F64, iterates, (size_t)dim * sizeof *iterates);
    for (int t = 1; t <= d.steps && rc == 0; t++) {
        nd_scope_begin(); /* the step's temporaries go when it ends */
        if (d.schedule) nd_optim_set_lr(opt, d.schedule(d.lr, t));
        nd_optim_zero_grad(opt);
        rc = LAB_CALL(nd_backward(nd_sum(f(x, ctx), ND_ALL, false)));
        /* a stochastic gradient: the true one plus noise of mean zero */
        if (rc == 0 && d.noise > 0)
            rc = nd_axpy_(nd_grad(x), d.noise, nd_randn(ND_F64, ND_SHAPE(dim)));
        if (rc == 0) rc = LAB_CALL(nd_optim_step(opt));
        if (rc == 0) rc = nd_read(x, ND_F64, iterates + t * dim, (size_t)dim * sizeof *iterates);
        nd_scope_end();
    }
    nd_tensor *trace = rc ? NULL : nd_from(ND_F64, ND_SHAPE(d.steps + 1, dim), iterates);
    nd_optim_free(opt);
    free(iterates);
    return trace;
}

/* Gradient descent on a function of one variable: the iterates, 1-d. */
static nd_tensor *descend_1d(nd_fn f, void *ctx, double x0, double lr, int steps) {
    descent d = {.lr = lr, .steps = steps};
    return nd_reshape(descend(f, ctx, 1, &x0, d), ND_SHAPE(-1));
}

/* Newton's method x ← x − η·f'(x)/f''(x): the second derivative is the
 * gradient of the gradient, which autograd records when create_graph is on. */
static nd_tensor *newton(nd_fn f, void *ctx, double x0, double eta, int steps) {
    double iterates[64];
    if (steps >= 64) return NULL;
    iterates[0] = x0;
    for (int t = 1; t <= steps; t++) {
        nd_scope_begin();
        nd_tensor *x = nd_set_requires_grad(nd_scalar(iterates[t - 1], ND_F64), true);
        nd_tensor *gradient = LAB_CALL(nd_gradient(f(x, ctx), x, true));
        nd_tensor *hessian = LAB_CALL(nd_gradient(gradient, x, false));
        iterates[t] = iterates[t - 1] - eta * nd_item(gradient) / nd_item(hessian);
        nd_scope_end();
    }
    return nd_from(ND_F64, ND_SHAPE(steps + 1), iterates);
}

/* The last iterate's coordinate `column` (a 1-d trace reads only the row). */
static double last(nd_tensor *trace, int64_t column) {
    int64_t index[2] = {-1, column};
    return nd_get(trace, index);
}

/* ------------------------------------------------------------ sections */

/* Result lines gathered into one <pre> block, printed before the figures. */
typedef struct {
    char text[1024];
    size_t len;
} lines;

__attribute__((format(printf, 2, 3))) static void add_line(lines *l, const char *fmt, ...) {
    size_t room = sizeof l->text - l->len;
    if (l->len > 0 && room > 1) l->text[l->len++] = '\n', room--;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->text + l->len, room, fmt, ap);
    va_end(ap);
    l->len = n < 0 ? l->len : (size_t)n < room ? l->len + (size_t)n : sizeof l->text - 1;
}

/* Taylor展开: why a small step against the gradient goes downhill, with the
 * slide's f(x) = x·cos(πx) at x = 0.5 and nd's autograd for f' and f''. */
static int taylor(report *r) {
    report_heading(r, "梯度下降 · Taylor展开 (why the negative gradient)");
    report_para(r, "Taylor展开, 函数的一阶近似: f(x + ε) = f(x) + ε·f'(x) + O(ε²). The "
                   "remainder f(x + ε) − f(x) − ε·f'(x) shrinks like ε² (it tends to "
                   "ε²·f''(x)/2). 向梯度的反方向走一小步: with ε = −η·f'(x), "
                   "f(x − η·f'(x)) ≈ f(x) − η·f'(x)² ≤ f(x). Here f(x) = x·cos(πx) at x = 0.5; "
                   "f' and f'' come from nd_gradient (the second with create_graph).");
    double c = PI, x0 = 0.5;
    nd_tensor *x = nd_set_requires_grad(nd_scalar(x0, ND_F64), true);
    nd_tensor *fx = x_cos_cx(x, &c);
    nd_tensor *gradient = nd_gradient(fx, x, true);
    nd_tensor *curvature = nd_gradient(gradient, x, false);
    if (!curvature) return -1;
    double f0 = nd_item(fx), d1 = nd_item(gradient), d2 = nd_item(curvature);
    /* by hand: f' = cos(πx) − πx·sin(πx), f'' = −2π·sin(πx) − π²x·cos(πx) */
    LAB_CHECK_CLOSE(r, "f'(0.5) by autograd = -π/2", d1, -PI / 2, 1e-12);
    LAB_CHECK_CLOSE(r, "f''(0.5) by autograd = -2π", d2, -2 * PI, 1e-12);
    lines out = {0};
    add_line(&out, "f(0.5) = %.6f, f'(0.5) = %.6f, f''(0.5) = %.6f", f0, d1, d2);
    const double epsilons[3] = {0.1, 0.01, 0.001};
    double ratio = 0;
    for (int i = 0; i < 3; i++) {
        double e = epsilons[i];
        double exact = nd_item(x_cos_cx(nd_scalar(x0 + e, ND_F64), &c));
        double linear = f0 + e * d1;
        ratio = (exact - linear) / (e * e);
        add_line(&out, "eps = %-5g f(x+eps) = %.8f  first order %.8f  remainder/eps² = %.4f", e,
                 exact, linear, ratio);
    }
    LAB_CHECK_CLOSE(r, "Taylor remainder / ε² at ε = 0.001 (→ f''/2 = -π)", ratio, -PI, 0.01);
    double eta = 0.1, x1 = x0 - eta * d1;
    double f1 = nd_item(x_cos_cx(nd_scalar(x1, ND_F64), &c));
    add_line(&out, "one step, eta = %g: x = %.6f, f = %.6f (first order predicts %.6f)", eta, x1,
             f1, f0 - eta * d1 * d1);
    report_pre(r, "%s", out.text);
    if (!(f1 < f0)) report_fail(r, "a gradient step raised f: from %f to %f", f0, f1);
    LAB_CHECK_CLOSE(r, "x after one step of η = 0.1", x1, 0.5 + 0.1 * PI / 2, 1e-12);
    return 0;
}

static int learning_rates(report *r) {
    report_heading(r, "梯度下降 · 学习率 (gradient descent · learning rate)");
    const int steps = lab_int("steps");
    const double x0 = lab_number("x0");
    report_para(r,
                "x ← x − η·f'(x) on f(x) = x², from x = %g, %d steps (nd_sgd). 太小: 收敛慢; "
                "太大: 发散 — too small converges slowly, too large diverges.",
                x0, steps);
    const double rates[3] = {lab_number("eta"), 0.05, 1.1},
                 want[3] = {0.060466, 3.486784, 61.917364};
    const char *what[3] = {"a good rate", "too small: slow", "too large: diverges"};
    nd_tensor *traces[3];
    lines out = {0};
    for (int i = 0; i < 3; i++) {
        traces[i] = descend_1d(square, NULL, x0, rates[i], steps);
        if (!traces[i]) return -1;
        add_line(&out, "eta = %-4g epoch %d, x: %f", rates[i], steps, last(traces[i], 0));
        char label[64];
        snprintf(label, sizeof label, "gradient descent on x² (x after %d steps)", steps);
        LAB_CHECK_CLOSE(r, label, last(traces[i], 0), want[i], 1e-6);
    }
    report_pre(r, "%s", out.text);
    for (int i = 0; i < 3; i++) { /* the figures side by side, after the numbers */
        char title[64], name[32], caption[96];
        snprintf(title, sizeof title, "η = %g: x after %d steps = %.6f", rates[i], steps,
                 last(traces[i], 0));
        snprintf(name, sizeof name, "opt_gd_lr%d", i);
        snprintf(caption, sizeof caption, "η = %g, %s.", rates[i], what[i]);
        if (plot_trace_1d(r, name, title, square, NULL, traces[i], caption)) return -1;
    }
    double c = 0.15 * PI;
    nd_tensor *trace = descend_1d(x_cos_cx, &c, 10.0, 2.0, 10);
    double x10 = last(trace, 0);
    report_para(r,
                "On a non-convex f(x) = x·cos(cx), c = 0.15π, a large rate η = 2 jumps "
                "over the nearest minimum into a worse local one: x = %f.",
                x10);
    LAB_CHECK_CLOSE(r, "gradient descent on x·cos(cx), η = 2", x10, -1.528166, 1e-6);
    return plot_trace_1d(r, "opt_gd_local", "x·cos(0.15πx), η = 2", x_cos_cx, &c, trace,
                         "A poor local minimum.");
}

static int two_dimensions(report *r) {
    report_heading(r, "多元梯度下降 (gradient descent in two dimensions)");
    double coef[2] = {1, 2}, start[2] = {-5, -2};
    const double box[4] = {-5.5, 1.0, -3.0, 1.0};
    nd_tensor *trace = descend(quadratic, coef, 2, start, (descent){.lr = 0.1, .steps = 20});
    if (!trace) return -1;
    double x1 = last(trace, 0), x2 = last(trace, 1);
    report_pre(r, "f(x1, x2) = x1² + 2·x2², eta = 0.1: epoch 20, x1: %f, x2: %f", x1, x2);
    LAB_CHECK_CLOSE(r, "2-D gradient descent x1", x1, -0.057646, 1e-6);
    LAB_CHECK_CLOSE(r, "2-D gradient descent x2", x2, -0.000073, 1e-6);
    const char *label = "gradient descent";
    return plot_trace_2d(r, "opt_gd_2d", "x1² + 2·x2², η = 0.1", quadratic, coef, box, 1, &trace,
                         &label, "The steps follow the negative gradient across the contours.");
}

static int newton_section(report *r) {
    report_heading(r, "牛顿法 (Newton's method)");
    report_para(r, "牛顿法: 二阶展开, 需要能够计算二阶导数 (Hessian). x ← x − η·f'(x)/f''(x), "
                   "with f'' as nd_gradient of nd_gradient(create_graph = true).");
    double c = 0.15 * PI;
    const double etas[3] = {1.0, 1.0, 0.5}, want[3] = {0.0, 26.834133, 7.269860};
    nd_fn functions[3] = {cosh_half, x_cos_cx, x_cos_cx};
    const char *titles[3] = {"Newton on cosh(0.5x), η = 1", "Newton on x·cos(0.15πx), η = 1",
                             "Newton on x·cos(0.15πx), η = 0.5"};
    const char *captions[3] = {"Convex: Newton converges in a few steps.",
                               "η = 1: where f'' < 0, Newton steps uphill, away from the minimum.",
                               "η = 0.5: a smaller step finds the minimum."};
    nd_tensor *traces[3];
    lines out = {0};
    for (int i = 0; i < 3; i++) {
        traces[i] = newton(functions[i], &c, 10.0, etas[i], 10);
        double x = last(traces[i], 0);
        add_line(&out, "%s: epoch 10, x: %f", titles[i], x);
        LAB_CHECK_CLOSE(r, titles[i], x, want[i], i == 0 ? 1e-9 : 1e-6);
    }
    report_pre(r, "%s", out.text);
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "opt_newton_%d", i);
        if (plot_trace_1d(r, name, titles[i], functions[i], &c, traces[i], captions[i])) return -1;
    }
    return 0;
}

static double constant_lr(double lr, int t) {
    (void)t;
    return lr;
}
static double exponential_lr(double lr, int t) {
    return nd_lr_exp_decay(lr, t, 0.1);
}
static double polynomial_lr(double lr, int t) {
    return nd_lr_poly_decay(lr, t, 0.1, 0.5);
}

static int stochastic(report *r) {
    report_heading(r, "随机梯度下降 (stochastic gradient descent)");
    report_para(r, "The gradient of x1² + 2·x2² plus N(0, 1) noise, η = 0.1, 50 steps from "
                   "(−5, −2) (seeded). With a constant rate the iterates keep jittering near "
                   "the minimum; a decaying rate η·exp(−0.1t) or η·(1 + 0.1t)^−½ quiets them "
                   "(the exponential one so fast that it stops short).");
    double coef[2] = {1, 2}, start[2] = {-5, -2};
    const double box[4] = {-5.5, 1.0, -3.0, 1.0};
    double (*schedules[3])(double, int) = {constant_lr, exponential_lr, polynomial_lr};
    const char *labels[3] = {"constant η", "η·exp(−0.1t)", "η·(1 + 0.1t)^−½"};
    const char *captions[3] = {
        "Constant η = 0.1: the noise keeps the iterates jittering around the minimum.",
        "η·exp(−0.1t): the rate dies out within a few dozen steps, and the iterates stop short "
        "of the minimum.",
        "η·(1 + 0.1t)^−½: the rate decays slowly; the iterates reach the minimum and the jitter "
        "quiets down."};
    nd_tensor *traces[3];
    lines out = {0};
    for (int i = 0; i < 3; i++) {
        nd_manual_seed(2024);
        descent d = {.lr = 0.1, .steps = 50, .noise = 1.0, .schedule = schedules[i]};
        traces[i] = descend(quadratic, coef, 2, start, d);
        if (!traces[i]) return -1;
        char label[64]; /* padded by display width: η is two bytes but one column */
        add_line(&out, "%s epoch 50, x1: %f, x2: %f",
                 text_padded(label, sizeof label, labels[i], 16), last(traces[i], 0),
                 last(traces[i], 1));
    }
    report_pre(r, "%s", out.text);
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "opt_sgd_%d", i);
        if (plot_trace_2d(r, name, labels[i], quadratic, coef, box, 1, &traces[i], &labels[i],
                          captions[i]))
            return -1;
    }
    return 0;
}

static int momentum(report *r) {
    report_heading(r, "带动量的梯度下降 · 病态的山谷 (momentum in an ill-conditioned valley)");
    report_para(
        r, "Momentum also helps where the slide speaks of 收敛速度 (speed of "
           "convergence). On the badly conditioned f = 0.1·x1² + 2·x2² a rate small enough for x2 "
           "is too slow for x1, and a rate fast for x1 makes x2 diverge. Momentum "
           "v ← βv + g, x ← x − ηv (nd_sgd with momentum β) averages the steps: the "
           "oscillations across the valley cancel and the steps along it add up.");
    double coef[2] = {0.1, 2}, start[2] = {-5, -2};
    const double box[4] = {-6.0, 1.0, -3.0, 3.0};
    struct {
        double lr, beta, want1, want2;
        const char *caption;
    } runs[4] = {
        {0.4, 0, -0.943467, -0.000073, "η = 0.4: x1 converges slowly."},
        {0.6, 0, -0.387814, -1673.365109, "η = 0.6: x2 oscillates and diverges."},
        {0.6, lab_number("momentum"), 0.007188, 0.002553, NULL}, /* caption: after the run */
        {0.6, 0.25, -0.126340, -0.186632, "Momentum β = 0.25, η = 0.6: slower."},
    };
    nd_tensor *traces[4];
    lines out = {0};
    for (int i = 0; i < 4; i++) {
        descent d = {.lr = runs[i].lr, .momentum = runs[i].beta, .steps = 20};
        traces[i] = descend(quadratic, coef, 2, start, d);
        if (!traces[i]) return -1;
        double x1 = last(traces[i], 0), x2 = last(traces[i], 1);
        add_line(&out, "eta = %g, beta = %-4g epoch 20, x1: %f, x2: %f", runs[i].lr, runs[i].beta,
                 x1, x2);
        LAB_CHECK_CLOSE(r, "ill-conditioned descent x1", x1, runs[i].want1, 1e-6);
        LAB_CHECK_CLOSE(r, "ill-conditioned descent x2", x2, runs[i].want2,
                        1e-6 * fmax(1, fabs(runs[i].want2)));
    }
    report_pre(r, "%s", out.text);
    /* the caption follows --momentum: it says what this β did */
    char momentum_caption[96];
    double x1 = last(traces[2], 0), x2 = last(traces[2], 1);
    snprintf(momentum_caption, sizeof momentum_caption, "Momentum β = %g, η = 0.6: %s.",
             runs[2].beta, fabs(x1) < 0.1 && fabs(x2) < 0.1 ? "converges" : "does not settle");
    runs[2].caption = momentum_caption;
    for (int i = 0; i < 4; i++) {
        char title[64], name[32];
        snprintf(title, sizeof title, "0.1·x1² + 2·x2², η = %g, β = %g", runs[i].lr, runs[i].beta);
        snprintf(name, sizeof name, "opt_momentum_%d", i);
        const char *label = runs[i].beta > 0 ? "momentum" : "gradient descent";
        if (plot_trace_2d(r, name, title, quadratic, coef, box, 1, &traces[i], &label,
                          runs[i].caption))
            return -1;
    }
    return 0;
}

/* The slide's two reasons for momentum: 摆脱鞍点 and 摆脱多个极小值. The
 * expected numbers are torch.optim.SGD's with the same rate and momentum
 * (tests/reference/labs_momentum.py; test_train.c compares nd with them). */
static int momentum_escapes(report *r) {
    report_heading(r, "带动量的梯度下降: 摆脱鞍点, 摆脱多个极小值 (momentum escapes saddle "
                      "points and shallow minima)");
    report_para(r, "Momentum v ← βv + g, x ← x − ηv keeps the velocity of past steps. 摆脱鞍点: "
                   "on f = x1² + (x2² − 1)²/4, from (3, 0.001), just off the ridge through the "
                   "saddle point (0, 0), the gradient along x2 is almost zero: plain gradient "
                   "descent slides into the saddle and lingers there, while momentum gathers "
                   "speed along x2 and leaves for a minimum (0, ±1). η = 0.1, 30 steps.");
    double start[2] = {3, 0.001};
    const double box[4] = {-3.5, 3.5, -1.6, 1.6};
    const double betas[2] = {0, 0.9}, want[2][2] = {{0.003714, 0.017447}, {0.132128, 1.282892}};
    const char *labels[2] = {"gradient descent", "momentum β = 0.9"};
    nd_tensor *traces[2];
    lines out = {0};
    for (int i = 0; i < 2; i++) {
        traces[i] = descend(saddle, NULL, 2, start,
                            (descent){.lr = 0.1, .momentum = betas[i], .steps = 30});
        if (!traces[i]) return -1;
        double x1 = last(traces[i], 0), x2 = last(traces[i], 1);
        add_line(&out, "%s epoch 30, x1: %f, x2: %f",
                 i ? "momentum, beta = 0.9:" : "gradient descent:    ", x1, x2);
        LAB_CHECK_CLOSE(r, "saddle: x1 after 30 steps", x1, want[i][0], 1e-6);
        LAB_CHECK_CLOSE(r, "saddle: x2 after 30 steps", x2, want[i][1], 1e-6);
    }
    report_pre(r, "%s", out.text);
    if (plot_trace_2d(r, "opt_momentum_saddle", "x1² + (x2² − 1)²/4, η = 0.1", saddle, NULL, box, 2,
                      traces, labels,
                      "Gradient descent stops at the saddle point (0, 0); momentum carries on to "
                      "the minimum (0, 1)."))
        return -1;
    report_para(r, "摆脱多个极小值: on the slide's f(x) = x·cos(πx), from x = −1, gradient "
                   "descent (η = 0.05, 100 steps) settles in the shallow local minimum near "
                   "x = −0.27; with momentum β = 0.9 the iterates roll through it, over the hump "
                   "at x ≈ 0.27, into the deeper minimum near x = 1.09.");
    double c = PI;
    const double want_x[2] = {-0.273853, 1.090329};
    const char *captions[2] = {"Gradient descent: caught in the shallow local minimum.",
                               "Momentum β = 0.9: through the shallow minimum into the deep one."};
    out = (lines){0};
    for (int i = 0; i < 2; i++) {
        double x0 = -1;
        descent d = {.lr = 0.05, .momentum = betas[i], .steps = 100};
        traces[i] = nd_reshape(descend(x_cos_cx, &c, 1, &x0, d), ND_SHAPE(-1));
        if (!traces[i]) return -1;
        double x = last(traces[i], 0);
        add_line(&out, "%s epoch 100, x: %f, f(x): %f",
                 i ? "momentum, beta = 0.9:" : "gradient descent:    ", x, x * cos(PI * x));
        LAB_CHECK_CLOSE(r, "x·cos(πx): x after 100 steps", x, want_x[i], 1e-6);
    }
    report_pre(r, "%s", out.text);
    for (int i = 0; i < 2; i++) {
        char name[32], title[64];
        snprintf(name, sizeof name, "opt_momentum_minima_%d", i);
        snprintf(title, sizeof title, "x·cos(πx), η = 0.05, β = %g", betas[i]);
        if (plot_trace_1d(r, name, title, x_cos_cx, &c, traces[i], captions[i])) return -1;
    }
    return 0;
}

static int run(report *r) {
    report_section(r, "optimization", "优化 (optimization)",
                   "Gradient-based optimization, after d2l chapter 11: risk, minima, saddle "
                   "points, learning rates, Newton's method, SGD and momentum.");
    if (optimization_landscapes(r) || taylor(r) || learning_rates(r) || two_dimensions(r) ||
        newton_section(r) || stochastic(r) || momentum_escapes(r) || momentum(r))
        return -1;
    return 0;
}

/* Listed in registry.c, in the chapter's order. */
const lab optimization_lab = {.name = "optimization",
                              .source = "d2l 11",
                              .options = options,
                              .title = "优化 (optimization)",
                              .summary = "gradient descent, learning rates, Newton, SGD, momentum "
                                         "(d2l ch. 11)",
                              .run = run};
