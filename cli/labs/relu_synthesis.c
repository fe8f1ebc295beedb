/* Lab 9 — ReLU 合成 (ReLU synthesis) and 万能近似 (universal approximation).
 * A piecewise-linear function is a constant plus one ReLU per kink, each
 * turning the line by the change of slope there:
 *     f(x) = y1 + Σ (m_i − m_{i−1})·relu(x − x_i)    (m_i: the slope after x_i)
 * First built exactly (the course's exercise), then learned by gradient
 * descent with a 1-32-1 ReLU net (and, as an extra, by Adam), then used to
 * approximate sin with N ReLUs. */
#include "lab.h"
#include "relu_sum.h"

#include <math.h>
#include <nd_plot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The points to go through: the course's exercise (-10,-10), (0,0), (5,-5), (10,20) unless
 * --points says otherwise; sorted by x. */
static double POINTS_X[64], POINTS_Y[64];
static int NPOINTS;
#define COURSE_POINTS "-10,-10 0,0 5,-5 10,20"

static int points_ok(const char *text, char *error, size_t size) {
    relu_sum f;
    if (relu_sum_parse(text, &f, error, size)) return -1;
    int n = f.n;
    relu_sum_free(&f);
    if (n > 64) snprintf(error, size, "at most 64 points, not %d", n);
    return n > 64 ? -1 : 0;
}

/* `nd lab relu-synthesis --help` */
static const option options[] = {
    {.name = "points",
     .type = OPTION_TEXT,
     .fallback = COURSE_POINTS,
     .help = "the points \"x1,y1 x2,y2 ...\" the sum of ReLUs goes through",
     .check = points_ok},
    {.name = "hidden",
     .type = OPTION_INT,
     .fallback = "32",
     .help = "hidden ReLUs of the net learned by gradient descent",
     .min = 1,
     .max = 4096},
    {.name = "steps",
     .type = OPTION_INT,
     .fallback = "5000",
     .help = "gradient-descent steps of the net (the Adam extra runs 3000)",
     .min = 1,
     .max = 1000000},
    {.name = NULL}, /* the end of the table */
};

static int use_points(void) {
    relu_sum f;
    char error[256];
    if (relu_sum_parse(lab_text("points"), &f, error, sizeof error)) return -1;
    NPOINTS = f.n;
    for (int i = 0; i < f.n; i++) POINTS_X[i] = f.x[i], POINTS_Y[i] = f.y[i];
    relu_sum_free(&f);
    return 0;
}

/* The sum of ReLUs evaluated with nd ops: bias + Σ weight_i·relu(x − x_i). */
static nd_tensor *relu_sum_apply(const relu_sum *f, nd_tensor *x) {
    nd_tensor *y = nd_full_like(x, f->bias);
    for (int i = 0; i + 1 < f->n; i++)
        y = LAB_CALL(nd_add(y, nd_mul_scalar(nd_relu(nd_sub_scalar(x, f->x[i])), f->weight[i])));
    return y;
}

static int exact(report *r) {
    report_heading(r, "ReLU 合成的一般形式: Σ relu(W·input + b) (the construction)");
    relu_sum f;
    if (relu_sum_build(&f, NPOINTS, POINTS_X, POINTS_Y)) return -1;
    char *formula = relu_sum_formula(&f);
    const char *want = "-10 + relu(x + 10) - 2 relu(x) + 6 relu(x - 5)";
    report_pre(r, "f(x) = %s", formula ? formula : "?");
    lab_check(r, formula && !strcmp(formula, want), "ReLU formula", want, "%s",
              formula ? formula : "");

    nd_tensor *px = LAB_CALL(nd_from(ND_F64, ND_SHAPE(NPOINTS), POINTS_X));
    nd_tensor *py = relu_sum_apply(&f, px);
    LAB_TENSOR(r, "f(x) at the points' x (nd_relu)", py);
    for (int64_t i = 0; i < NPOINTS; i++)
        LAB_CHECK_CLOSE(r, "ReLU sum at a point", nd_get(py, &i), POINTS_Y[i], 1e-12);

    bool course = !strcmp(lab_text("points"), COURSE_POINTS);
    double lo = POINTS_X[0] - 2, hi = POINTS_X[NPOINTS - 1] + 2;
    nd_tensor *x = LAB_CALL(nd_linspace(lo, hi, 241, ND_F64));
    nd_plot *p = nd_plot_new(formula ? formula : "f(x)", "x", "f(x)");
    nd_plot_line(p, x, relu_sum_apply(&f, x), "f(x), the sum");
    for (int i = 0; i + 1 < NPOINTS && i < 8; i++) { /* one dashed ReLU per kink */
        char term[64];
        snprintf(term, sizeof term, "%g relu(x %c %g)", f.weight[i], f.x[i] > 0 ? '-' : '+',
                 fabs(f.x[i]));
        nd_plot_dashed(p, x, nd_mul_scalar(nd_relu(nd_sub_scalar(x, f.x[i])), f.weight[i]), term);
    }
    nd_plot_points(p, px, py, "the points");
    if (course) nd_plot_range(p, -12, 12, -30, 55); /* room for the legend */
    relu_sum_free(&f);
    free(formula);
    return lab_figure(r, p, "relu_exact", 640, 420,
                      "Each ReLU adds a kink; the constant −10 holds the line left of x = −10.");
}

/* The training data: 256 points of the function on [x_first, x_last] (the
 * exercise's [−10, 10]), as (256, 1) columns x and y. */
static int training_data(nd_tensor **x, nd_tensor **y) {
    relu_sum f;
    if (relu_sum_build(&f, NPOINTS, POINTS_X, POINTS_Y)) return -1;
    *x = LAB_CALL(
        nd_reshape(nd_linspace(POINTS_X[0], POINTS_X[NPOINTS - 1], 256, ND_F32), ND_SHAPE(256, 1)));
    *y = relu_sum_apply(&f, *x);
    relu_sum_free(&f);
    return *y ? 0 : -1;
}

/* A 1-hidden-1 ReLU net, initialized as nn.Linear is, from seed 6 (the same
 * start for every optimizer): params = {W1, b1, w2, b2}. */
static int relu_net_init(int hidden, nd_tensor *params[4]) {
    nd_manual_seed(6);
    params[0] = nd_empty(ND_F32, ND_SHAPE(hidden, 1)),
    params[1] = nd_empty(ND_F32, ND_SHAPE(hidden));
    params[2] = nd_empty(ND_F32, ND_SHAPE(1, hidden)), params[3] = nd_empty(ND_F32, ND_SHAPE(1));
    if (nd_init_linear_(params[0], params[1]) || nd_init_linear_(params[2], params[3])) return -1;
    for (int i = 0; i < 4; i++) nd_set_requires_grad(params[i], true);
    return 0;
}

/* ȳ = w2·relu(W1·x + b1) + b2 */
static nd_tensor *relu_net(nd_tensor *const params[4], nd_tensor *x) {
    return nd_linear(nd_relu(nd_linear(x, params[0], params[1])), params[2], params[3]);
}

/* Full-batch training of the net on (xs, ys) by opt: the loss of every step,
 * (10·error)² (the MSE on the original scale, the data being divided by 10),
 * malloc'd; NULL on failure. */
static float *train(nd_optim *opt, nd_tensor *const params[4], nd_tensor *xs, nd_tensor *ys,
                    int steps, const char *what) {
    float *losses = malloc((size_t)steps * sizeof *losses);
    int rc = losses ? 0 : -1;
    progress bar = progress_begin(what, steps);
    for (int t = 0; t < steps && rc == 0; t++) {
        nd_scope_begin();
        nd_tensor *loss = nd_mse_loss(relu_net(params, xs), ys);
        nd_optim_zero_grad(opt);
        rc = nd_backward(loss);
        if (rc == 0) rc = nd_optim_step(opt);
        losses[t] = (float)(100 * nd_item(loss));
        if (t % 100 == 0) progress_update(&bar, t, losses[t]);
        nd_scope_end();
    }
    progress_end(&bar, losses && rc == 0 ? losses[steps - 1] : NAN);
    if (rc) free(losses);
    return rc ? NULL : losses;
}

/* The loss curve on a log scale. */
static int loss_figure(report *r, const char *name, const float *losses, int steps,
                       const char *caption) {
    nd_tensor *step = nd_arange(1, steps + 1, 1, ND_F64);
    nd_tensor *log_loss = nd_div_scalar(nd_log(nd_from(ND_F32, ND_SHAPE(steps), losses)), log(10));
    nd_plot *p = nd_plot_new("Training loss", "step", "log10 MSE");
    nd_plot_line(p, step, log_loss, "log10 of the MSE");
    return lab_figure(r, p, name, 460, 340, caption);
}

/* The slide's 梯度下降法: W₁ = W₀ − ∇J·s, plain full-batch gradient descent
 * (nd_sgd without momentum) on a 1-32-1 ReLU net. */
static int gradient_descent(report *r) {
    report_heading(r, "梯度下降法 (learning the same function by gradient descent)");
    const int hidden = lab_int("hidden"), steps = lab_int("steps");
    const double step_size = 0.05;
    report_para(r,
                "Objective: find the W and b that minimize J (arg min over W, b), "
                "J = ‖ȳ − y‖², ȳ = w2·relu(W1·x + b1) + b2: a 1-%d-1 ReLU net on 256 points "
                "of linspace(%g, %g). 梯度下降更新 W₁ = W₀ − ∇J·s: full-batch gradient "
                "descent (nd_sgd, no momentum), step size s = %g, %d steps. Inputs and targets "
                "are divided by 10 so that they are of order 1 (the MSE is reported on the "
                "original scale).",
                hidden, POINTS_X[0], POINTS_X[NPOINTS - 1], step_size, steps);
    nd_tensor *x, *y, *params[4];
    if (training_data(&x, &y) || relu_net_init(hidden, params)) return -1;
    nd_tensor *xs = LAB_CALL(nd_div_scalar(x, 10)), *ys = LAB_CALL(nd_div_scalar(y, 10));
    nd_optim *sgd = LAB_CALL(nd_sgd(4, params, (nd_sgd_opts){.lr = step_size}));
    float *losses =
        sgd ? train(sgd, params, xs, ys, steps, "relu-synthesis: gradient descent") : NULL;
    nd_optim_free(sgd);
    if (!losses) return -1;
    /* A small enough step makes every step go downhill: the curve has no spikes. */
    double worst_rise = 0;
    int rises = 0;
    for (int t = 1; t < steps; t++)
        if (losses[t] > losses[t - 1]) {
            rises++;
            worst_rise = fmax(worst_rise, losses[t] / losses[t - 1] - 1);
        }
    nd_tensor *fit = LAB_CALL(nd_mul_scalar(relu_net(params, xs), 10));
    double mse = nd_item(nd_mse_loss(fit, y));
    int middle = steps / 5; /* step 1000 of the slide's 5000 */
    report_pre(r,
               "MSE at step 1: %.4f, step %d: %.4f, step %d: %.6f\n"
               "steps where the loss rose: %d (largest rise %.2g%%)",
               losses[0], middle + 1, losses[middle], steps, mse, rises, 100 * worst_rise);
    lab_check(r, mse < 0.01, "MSE of the ReLU net after gradient descent", "< 0.01", "%f", mse);
    lab_check(r, worst_rise < 1e-3, "largest one-step rise of the gradient-descent loss",
              "< 0.1% (no spike)", "%.3g%%", 100 * worst_rise);
    int rc = loss_figure(r, "relu_gd_loss", losses, steps,
                         "Gradient descent: the loss falls at every step, fast at first, then "
                         "slowly once the kinks are nearly in place.");
    free(losses);
    if (rc) return -1;
    nd_plot *p = nd_plot_new("The learned function", "x", "f(x)");
    nd_plot_line(p, nd_flatten(x), nd_flatten(y), "target");
    char label[32];
    snprintf(label, sizeof label, "1-%d-1 ReLU net", hidden);
    nd_plot_dashed(p, nd_flatten(x), nd_flatten(fit), label);
    nd_plot_points(p, nd_from(ND_F64, ND_SHAPE(NPOINTS), POINTS_X),
                   nd_from(ND_F64, ND_SHAPE(NPOINTS), POINTS_Y), "the points");
    return lab_figure(r, p, "relu_fit", 460, 340,
                      "The net's kinks settle on the function's kinks.");
}

/* An extra, not on the slide: the same net and start trained by full-batch
 * Adam (lr 0.01), as benchmark W6. */
static int learned(report *r) {
    report_heading(r, "Extra, beyond the slides: the same net trained by Adam");
    const int hidden = lab_int("hidden"), steps = 3000;
    report_para(r,
                "Not in the slides: Adam (nd_adam, lr 0.01) instead of plain gradient descent, "
                "from the same 1-%d-1 net and the same start, %d steps. Adam scales each "
                "parameter's step by its own gradient history, so it gets much lower in fewer "
                "steps.",
                hidden, steps);
    nd_tensor *x, *y, *params[4];
    if (training_data(&x, &y) || relu_net_init(hidden, params)) return -1;
    nd_tensor *xs = nd_div_scalar(x, 10), *ys = nd_div_scalar(y, 10);
    nd_adam_opts o = ND_ADAM_DEFAULTS;
    o.lr = 0.01;
    nd_optim *adam = LAB_CALL(nd_adam(4, params, o));
    float *losses = adam ? train(adam, params, xs, ys, steps, "relu-synthesis: Adam") : NULL;
    nd_optim_free(adam);
    if (!losses) return -1;
    double mse = nd_item(nd_mse_loss(nd_mul_scalar(relu_net(params, xs), 10), y));
    report_para(r, "MSE after %d steps: %.6f (on the original scale).", steps, mse);
    lab_check(r, mse < 0.01, "MSE of the ReLU net trained by Adam", "< 0.01", "%f", mse);
    int rc = loss_figure(
        r, "relu_loss", losses, steps,
        "Adam, on a log scale. The spikes are Adam overshooting: once the gradients are tiny, "
        "its step (the gradient divided by the root of its running mean square) is no longer "
        "small; it recovers within a few steps. Plain gradient descent, above, has none.");
    free(losses);
    return rc;
}

/* sin on [−π, π] through N + 1 equally spaced points: N ReLUs. */
static int universal(report *r) {
    report_heading(r, "一致逼近原理 (universal approximation)");
    report_para(r, "构造方法: 构造线性函数; 构造分段线性函数; 构造离散化的任意函数。 sin(x) on "
                   "[−π, π] through N + 1 equally spaced points is a sum of N ReLUs. Linear "
                   "interpolation with spacing h = 2π/N is off by at most h²/8·max|sin''| = "
                   "h²/8: doubling N divides the error by 4.");
    enum { RUNS = 6 };
    const int ns[RUNS] = {2, 4, 8, 16, 32, 64};
    nd_tensor *grid = nd_linspace(-PI, PI, 4001, ND_F64);
    nd_tensor *exact = nd_sin(grid);
    double errors[RUNS], bounds[RUNS], log_n[RUNS], log_error[RUNS], log_bound[RUNS];
    nd_plot *shapes = nd_plot_new("sin(x) by N ReLUs", "x", "y");
    nd_plot_line(shapes, grid, exact, "sin(x)");
    for (int k = 0; k < RUNS; k++) {
        int n = ns[k];
        double xs[65], ys[65];
        for (int i = 0; i <= n; i++) {
            xs[i] = -PI + 2 * PI * i / n;
            ys[i] = sin(xs[i]);
        }
        relu_sum f;
        if (relu_sum_build(&f, n + 1, xs, ys)) return -1;
        nd_tensor *approx = relu_sum_apply(&f, grid);
        relu_sum_free(&f);
        errors[k] = max_abs_diff(approx, exact);
        bounds[k] = pow(2 * PI / n, 2) / 8;
        log_n[k] = log10(n), log_error[k] = log10(errors[k]), log_bound[k] = log10(bounds[k]);
        if (errors[k] > bounds[k] + 1e-12)
            report_fail(r, "sin by %d ReLUs: max error %g above the bound h²/8 = %g", n, errors[k],
                        bounds[k]);
        if (k > 0 && !(errors[k] < errors[k - 1]))
            report_fail(r, "sin by ReLUs: the error did not fall from N = %d to %d", ns[k - 1], n);
        if (n <= 8) {
            char label[32];
            snprintf(label, sizeof label, "N = %d", n);
            nd_plot_dashed(shapes, grid, approx, label);
        }
    }
    nd_plot_range(shapes, -3.3, 3.3, -1.2, 1.9);
    report_table_begin(r, 3, (const char *const[]){"N (ReLUs)", "max |error|", "bound h²/8"});
    for (int k = 0; k < RUNS; k++)
        report_table_row(r, "%d\t%.6f\t%.6f", ns[k], errors[k], bounds[k]);
    report_table_end(r);
    LAB_CHECK_CLOSE(r, "error ratio from N = 32 to 64 (about 4)", errors[4] / errors[5], 4.0, 0.1);
    if (lab_figure(r, shapes, "relu_sin", 460, 340, "The approximations for N = 2, 4, 8."))
        return -1;

    nd_plot *p = nd_plot_new("Max error versus N", "log10 N", "log10 max |error|");
    nd_plot_path(p, nd_from(ND_F64, ND_SHAPE(RUNS), log_n),
                 nd_from(ND_F64, ND_SHAPE(RUNS), log_error), "max |sin − ReLU sum|");
    nd_plot_dashed(p, nd_from(ND_F64, ND_SHAPE(RUNS), log_n),
                   nd_from(ND_F64, ND_SHAPE(RUNS), log_bound), "bound (2π/N)²/8");
    return lab_figure(r, p, "relu_error", 460, 340,
                      "A straight line of slope −2 on log-log axes: error ∝ 1/N².");
}

static int run(report *r) {
    report_section(r, "relu-synthesis", "ReLU 合成 (ReLU synthesis)",
                   "Piecewise-linear functions as sums of ReLUs, built exactly, learned by "
                   "gradient descent, and the universal approximation of sin.");
    if (use_points() || exact(r) || gradient_descent(r) || learned(r) || universal(r)) return -1;
    return 0;
}

/* Listed in registry.c, in the chapter's order. */
const lab relu_synthesis_lab = {.name = "relu-synthesis",
                                .title = "ReLU 合成 (ReLU synthesis)",
                                .summary = "a piecewise-linear function as a sum of ReLUs, learned "
                                           "by a 1-32-1 net; sin by N ReLUs",
                                .options = options,
                                .run = run};
