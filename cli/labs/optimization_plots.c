/* The figures of the optimization lab: traces over curves and contours, and the
 * landscapes of d2l 11.1 that explain why optimisation is hard. */
#include "optimization_plots.h"

#include <math.h>
#include <nd_plot.h>
#include <stdio.h>

/* Saves a plot as the report's figure `name` and shows it (w × h pixels). */
/* A single point as two one-element tensors, for nd_plot_points. */
static int mark(nd_plot *p, double x, double y, const char *label) {
    return nd_plot_points(p, nd_from(ND_F64, ND_SHAPE(1), &x), nd_from(ND_F64, ND_SHAPE(1), &y),
                          label);
}

int plot_trace_1d(report *r, const char *name, const char *title, nd_fn f, void *ctx,
                  nd_tensor *iterates, const char *caption) {
    double n = nd_item(nd_max(nd_abs(iterates), ND_ALL, false));
    if (!isfinite(n)) return -1;
    nd_tensor *x = nd_linspace(-n, n, 400, ND_F64);
    nd_plot *p = nd_plot_new(title, "x", "f(x)");
    nd_plot_line(p, x, f(x, ctx), "f(x)");
    nd_plot_path(p, iterates, f(iterates, ctx), "iterates x(t)");
    return lab_figure(r, p, name, 460, 340, caption);
}

/* f on a (ny, nx) grid over box: the points are stacked as (ny, nx, 2). */
static nd_tensor *on_grid(nd_fn f, void *ctx, const double box[4], int64_t nx, int64_t ny) {
    nd_tensor *x1 = nd_reshape(nd_linspace(box[0], box[1], nx, ND_F64), ND_SHAPE(1, nx));
    nd_tensor *x2 = nd_reshape(nd_linspace(box[2], box[3], ny, ND_F64), ND_SHAPE(ny, 1));
    nd_tensor *points[2] = {nd_expand(x1, ND_SHAPE(ny, nx)), nd_expand(x2, ND_SHAPE(ny, nx))};
    return f(nd_stack(2, points, -1), ctx);
}

int plot_trace_2d(report *r, const char *name, const char *title, nd_fn f, void *ctx,
                  const double box[4], int n, nd_tensor *const *traces, const char *const *labels,
                  const char *caption) {
    nd_plot *p = nd_plot_new(title, "x1", "x2");
    /* contours of √f (f >= 0 here): the same curves as f's, but evenly spaced
     * near the minimum, where evenly spaced levels of f would leave a blank */
    nd_tensor *z = nd_sqrt(nd_clamp(on_grid(f, ctx, box, 80, 60), 0, INFINITY));
    nd_plot_contour(p, z, box[0], box[1], box[2], box[3], 14);
    for (int i = 0; i < n; i++)
        nd_plot_path(p, nd_select(traces[i], 1, 0), nd_select(traces[i], 1, 1), labels[i]);
    /* fixed to the box: a diverging trace leaves the picture instead of shrinking it */
    nd_plot_range(p, box[0], box[1], box[2], box[3]);
    return lab_figure(r, p, name, 460, 340, caption);
}

/* x·cos(πx): d2l's risk, and the chapter's example of local minima. */
static nd_tensor *risk(nd_tensor *x) {
    return nd_mul(x, nd_cos(nd_mul_scalar(x, PI)));
}

/* The risk plus a ripple: the empirical risk of a finite training set. */
static nd_tensor *empirical_risk(nd_tensor *x) {
    return nd_add(risk(x), nd_mul_scalar(nd_cos(nd_mul_scalar(x, 5 * PI)), 0.2));
}

/* Index of the smallest y[i] for i in [from, to). */
static int64_t argmin_between(nd_tensor *y, int64_t from, int64_t to) {
    return from + (int64_t)nd_item(nd_argmin(nd_slice(y, 0, from, to, 1), 0, false));
}

static int risk_figure(report *r) {
    nd_tensor *x = nd_linspace(0.5, 1.5, 201, ND_F64);
    nd_tensor *f = risk(x), *g = empirical_risk(x);
    int64_t fi = argmin_between(f, 0, 201), gi = argmin_between(g, 0, 201);
    double fx = nd_get(x, &fi), gx = nd_get(x, &gi), fy = nd_get(f, &fi), gy = nd_get(g, &gi);
    report_para(r,
                "The minimum of the empirical risk g (training loss) lies at x = %.2f, the "
                "minimum of the risk f (expected loss over all data) at x = %.2f: minimising "
                "the training loss is not the same as minimising the risk.",
                gx, fx);
    nd_plot *p = nd_plot_new("Risk versus empirical risk", "x", "risk");
    nd_plot_line(p, x, f, "risk f(x) = x·cos(πx)");
    nd_plot_line(p, x, g, "empirical risk g(x) = f(x) + 0.2·cos(5πx)");
    mark(p, gx, gy, NULL);
    mark(p, fx, fy, NULL);
    nd_plot_text(p, 0.55, -1.12, "min of empirical risk");
    nd_plot_arrow(p, 0.8, -1.15, gx - 0.01, gy, NULL);
    nd_plot_text(p, 0.8, -0.55, "min of risk");
    nd_plot_arrow(p, 0.95, -0.6, fx, fy + 0.02, NULL);
    nd_plot_range(p, 0.5, 1.5, -1.3, 0.5);
    return lab_figure(r, p, "opt_risk", 640, 420,
                      "d2l fig. 11.1.1: the training loss (red) has its minimum elsewhere than the "
                      "risk (blue).");
}

static int minima_figure(report *r) {
    nd_tensor *x = nd_linspace(-1.0, 2.0, 301, ND_F64); /* steps of 0.01 */
    nd_tensor *y = risk(x);
    int64_t local = argmin_between(y, 0, 151), global = argmin_between(y, 151, 301);
    double lx = nd_get(x, &local), ly = nd_get(y, &local);
    double gx = nd_get(x, &global), gy = nd_get(y, &global);
    report_para(r,
                "f(x) = x·cos(πx) on [−1, 2] has a local minimum f(%.2f) = %.3f and the global "
                "minimum f(%.2f) = %.3f. The gradient is zero at both: a method that follows the "
                "gradient may stop in either.",
                lx, ly, gx, gy);
    nd_plot *p = nd_plot_new("Local and global minimum", "x", "f(x)");
    nd_plot_line(p, x, y, "f(x) = x·cos(πx)");
    mark(p, lx, ly, NULL);
    mark(p, gx, gy, NULL);
    nd_plot_arrow(p, -0.6, -0.9, lx, ly - 0.05, NULL);
    nd_plot_text(p, -0.95, -0.95, "local minimum");
    nd_plot_arrow(p, 0.5, -0.9, gx - 0.05, gy, NULL);
    nd_plot_text(p, 0.2, -0.8, "global minimum");
    return lab_figure(r, p, "opt_minima", 640, 420, "d2l fig. 11.1.2: local and global minimum.");
}

static nd_tensor *cube(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_pow_scalar(x, 3);
}

/* x1² − x2² on points (..., 2). */
static nd_tensor *saddle(nd_tensor *x, void *ctx) {
    (void)ctx;
    nd_tensor *coef = nd_from(ND_F64, ND_SHAPE(2), (const double[]){1, -1});
    return nd_sum(nd_mul(nd_square(x), coef), -1, false);
}

static int saddle_figures(report *r) {
    report_para(r, "At a saddle point the gradient vanishes too, but it is neither a minimum "
                   "nor a maximum: x³ at 0 (flat, then rising again), and x² − y² at (0, 0), "
                   "a minimum along x and a maximum along y. The eigenvalues of the Hessian "
                   "there have both signs.");
    nd_tensor *x = nd_linspace(-2.0, 2.0, 201, ND_F64);
    nd_plot *p = nd_plot_new("Saddle point of x³", "x", "f(x)");
    nd_plot_line(p, x, cube(x, NULL), "f(x) = x³");
    mark(p, 0, 0, "saddle point");
    if (lab_figure(r, p, "opt_saddle_x3", 460, 340, "f(x) = x³: f'(0) = 0 and f''(0) = 0."))
        return -1;

    const double box[4] = {-1, 1, -1, 1};
    p = nd_plot_new("Saddle point of x² − y²", "x", "y");
    nd_plot_contour(p, on_grid(saddle, NULL, box, 81, 81), -1, 1, -1, 1, 11);
    mark(p, 0, 0, "saddle point");
    nd_plot_text(p, 0.35, 0.05, "minimum along x");
    nd_plot_text(p, 0.05, 0.6, "maximum along y");
    nd_plot_equal_axes(p, true);
    return lab_figure(
        r, p, "opt_saddle_2d", 460, 340,
        "Contours of x² − y²: the level 0 is the two diagonals crossing at the saddle.");
}

int optimization_landscapes(report *r) {
    report_heading(r, "优化与泛化 (optimization and generalization)");
    report_para(r, "经验风险是训练数据集的平均损失; 而风险则是整个数据群的预期损失。 The "
                   "empirical risk is the mean loss on the training set; the risk is the "
                   "expected loss over all the data.");
    if (risk_figure(r)) return -1;
    report_heading(r, "局部最小、全局最小 (local and global minima)");
    if (minima_figure(r)) return -1;
    report_heading(r, "鞍点 (saddle points)");
    return saddle_figures(r);
}
