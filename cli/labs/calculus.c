/* Lab 4, 多元微分 (calculus): derivatives as limits, the derivatives of the
 * basic functions, and the shapes of matrix derivatives. The student should
 * see the difference quotient of f(x) = 3x² − 4x approach f'(1) = 2 as h
 * shrinks, the tangent line touch the curve, autodiff reproduce the slide's
 * table of derivatives, and nd_jacobian reproduce the course's table of shapes
 * (y first, then x's dims reversed) — up to a 9-dimensional Jacobian. */
#include "lab.h"

#include <math.h>
#include <nd_plot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static nd_tensor *f(nd_tensor *x) { /* 3x² − 4x */
    return nd_sub(nd_mul_scalar(nd_square(x), 3), nd_mul_scalar(x, 4));
}

/* --h: up to H_MAX positive numbers, separated by spaces or commas; their count, or -1. */
enum { H_MAX = 8 };
static int read_steps(const char *text, double *h) {
    int n = 0;
    for (const char *c = text; *c;) {
        if (*c == ' ' || *c == ',') {
            c++;
            continue;
        }
        char *end;
        double v = strtod(c, &end);
        if (end == c || n == H_MAX || !(v > 0) || !isfinite(v)) return -1;
        h[n++] = v;
        c = end;
    }
    return n ? n : -1;
}
static int steps_ok(const char *text, char *error, size_t size) {
    double h[H_MAX];
    if (read_steps(text, h) > 0) return 0;
    snprintf(error, size, "1 to %d positive numbers such as \"0.1 0.01 0.001\" are needed", H_MAX);
    return -1;
}

/* `nd lab calculus --x 2 --h "0.5 0.05"`: the limit at another point, with other steps;
 * `--m 2 --l 3 --n 5 --k 2`: the table of Jacobian shapes for other sizes. */
static const option options[] = {
    {.name = "x",
     .type = OPTION_NUMBER,
     .fallback = "1",
     .help = "the point x where f(x) = 3x² − 4x is differentiated",
     .min = -100,
     .max = 100},
    {.name = "h",
     .type = OPTION_TEXT,
     .fallback = "0.1 0.01 0.001 0.0001 0.00001",
     .help = "the steps h of the difference quotient (f(x + h) − f(x)) / h",
     .check = steps_ok},
    {.name = "m", .type = OPTION_INT, .fallback = "3", .help = "y's length m", .min = 1, .max = 8},
    {.name = "l", .type = OPTION_INT, .fallback = "2", .help = "Y's columns l", .min = 1, .max = 8},
    {.name = "n", .type = OPTION_INT, .fallback = "4", .help = "x's length n", .min = 1, .max = 8},
    {.name = "k", .type = OPTION_INT, .fallback = "5", .help = "X's columns k", .min = 1, .max = 8},
    {.name = NULL}, /* the end of the table */
};

/* "y = 2x − 3": the line y = slope·x + intercept, as a student writes it. */
static void line_text(char *out, size_t size, double slope, double intercept) {
    if (intercept == 0)
        snprintf(out, size, "y = %gx", slope);
    else
        snprintf(out, size, "y = %gx %s %g", slope, intercept < 0 ? "−" : "+", fabs(intercept));
}

static void limits(report *r) {
    report_heading(r, "标量导数: 导数是极限 — the derivative as a limit");
    double x0 = lab_number("x"), steps[H_MAX];
    int nh = read_steps(lab_text("h"), steps);
    nd_tensor *h = LAB_CALL(nd_from(ND_F64, ND_SHAPE(nh), steps));
    nd_tensor *at = LAB_CALL(nd_scalar(x0, ND_F64));
    nd_tensor *quotient = nd_div(nd_sub(f(nd_add_scalar(h, x0)), f(at)), h); /* (f(x+h) − f(x))/h */
    double fx0 = nd_item(f(at)), q[H_MAX];
    for (int i = 0; i < nh; i++) q[i] = nd_get(quotient, (int64_t[]){i});

    /* By hand: (f(x + h) − f(x)) / h = 6x − 4 + 3h (the course's 2.3, 2.03, ... at x = 1); the
     * subtraction loses digits as h shrinks, so the tolerance grows with |f(x)|. */
    char text[1024];
    int len = snprintf(text, sizeof text, "f(x) = 3x² − 4x at x = %g\n", x0);
    for (int i = 0; i < nh && len < (int)sizeof text; i++)
        len += snprintf(text + len, sizeof text - (size_t)len,
                        "h = %-8g (f(%g + h) − f(%g)) / h = %.5f\n", steps[i], x0, x0, q[i]);
    report_pre(r, "%s", text);
    for (int i = 0; i < nh; i++) {
        char what[64];
        snprintf(what, sizeof what, "difference quotient at h = %g", steps[i]);
        LAB_CHECK_CLOSE(r, what, q[i], 6 * x0 - 4 + 3 * steps[i], 1e-8 * fmax(1, fabs(fx0)));
    }

    nd_tensor *x = LAB_CALL(nd_set_requires_grad(nd_scalar(x0, ND_F64), true));
    double slope = nd_item(nd_gradient(f(x), x, false));
    char tangent_text[64], what[64], caption[128];
    line_text(tangent_text, sizeof tangent_text, slope, fx0 - slope * x0);
    report_para(r,
                "Autodiff gives f'(%g) = %g exactly (f'(x) = 6x − 4): the tangent at x = %g is "
                "%s.",
                x0, slope, x0, tangent_text);
    snprintf(what, sizeof what, "f'(%g) by autodiff", x0);
    LAB_CHECK_CLOSE(r, what, slope, 6 * x0 - 4, 1e-12 * fmax(1, fabs(x0)));

    nd_tensor *xs = LAB_CALL(nd_linspace(x0 - 1.5, x0 + 1.5, 121, ND_F64));
    nd_tensor *fs = f(xs);
    nd_tensor *tangent = nd_add_scalar(nd_mul_scalar(xs, slope), fx0 - slope * x0);
    double lo = fmin(nd_item(nd_min(fs, ND_ALL, false)), nd_item(nd_min(tangent, ND_ALL, false)));
    double hi = fmax(nd_item(nd_max(fs, ND_ALL, false)), nd_item(nd_max(tangent, ND_ALL, false)));
    char title[96], tangent_label[96];
    snprintf(title, sizeof title, "f(x) = 3x² − 4x and its tangent at x = %g", x0);
    snprintf(tangent_label, sizeof tangent_label, "tangent line %s", tangent_text);
    snprintf(caption, sizeof caption, "The tangent touches f at x = %g with slope f'(%g) = %g", x0,
             x0, slope);
    nd_plot *p = nd_plot_new(title, "x", "f(x)");
    nd_plot_line(p, xs, fs, "f(x)");
    nd_plot_dashed(p, xs, tangent, tangent_label);
    nd_plot_points(p, nd_from(ND_F64, ND_SHAPE(1), &x0), nd_from(ND_F64, ND_SHAPE(1), &fx0),
                   "(x, f(x))");
    nd_plot_range(p, x0 - 1.5, x0 + 1.5, lo - 0.1 * (hi - lo),
                  hi + 0.4 * (hi - lo)); /* room for the legend above the curve */
    if (lab_figure(r, p, "calculus_tangent", 640, 440, caption))
        report_fail(r, "%s", nd_last_error());
}

typedef struct {
    const char *y, *dy;
    nd_tensor *(*fn)(nd_tensor *x);
    nd_tensor *(*derivative)(nd_tensor *x);
} rule;

/* A constant does not depend on x at all; written c·x⁰ it is a function of x
 * that autodiff can differentiate (n xⁿ⁻¹ with n = 0 is 0). */
static nd_tensor *constant(nd_tensor *x) {
    return nd_mul_scalar(nd_pow_scalar(x, 0), 7);
}
static nd_tensor *zero(nd_tensor *x) {
    return nd_zeros_like(x);
}
static nd_tensor *cube(nd_tensor *x) {
    return nd_pow_scalar(x, 3);
}
static nd_tensor *cube_rule(nd_tensor *x) {
    return nd_mul_scalar(nd_square(x), 3);
}
static nd_tensor *root(nd_tensor *x) {
    return nd_pow_scalar(x, 0.5);
}
static nd_tensor *root_rule(nd_tensor *x) {
    return nd_mul_scalar(nd_pow_scalar(x, -0.5), 0.5);
}
static nd_tensor *reciprocal(nd_tensor *x) {
    return nd_rdiv_scalar(x, 1);
}
static nd_tensor *sum_rule(nd_tensor *x) {
    return nd_add(nd_sin(x), cube(x));
}
static nd_tensor *sum_rule_d(nd_tensor *x) {
    return nd_add(nd_cos(x), cube_rule(x));
}
static nd_tensor *product(nd_tensor *x) {
    return nd_mul(nd_sin(x), cube(x));
}
static nd_tensor *product_d(nd_tensor *x) { /* u'v + uv' */
    return nd_add(nd_mul(nd_cos(x), cube(x)), nd_mul(nd_sin(x), cube_rule(x)));
}
static nd_tensor *chain(nd_tensor *x) {
    return nd_exp(nd_sin(x));
}
static nd_tensor *chain_d(nd_tensor *x) {
    return nd_mul(nd_exp(nd_sin(x)), nd_cos(x));
}

static void basic_rules(report *r) {
    report_heading(r, "基本函数与复合函数 — the slide's table, checked by autodiff on a grid");
    const rule rules[] = {
        {"c = 7", "0", constant, zero},
        {"x³", "3x²", cube, cube_rule},
        {"x^0.5", "0.5 x^-0.5", root, root_rule},
        {"exp(x)", "exp(x)", nd_exp, nd_exp},
        {"log(x)", "1/x", nd_log, reciprocal},
        {"sin(x)", "cos(x)", nd_sin, nd_cos},
        {"u + v = sin x + x³", "u' + v'", sum_rule, sum_rule_d},
        {"uv = sin x · x³", "u'v + uv'", product, product_d},
        {"f(g(x)) = exp(sin x)", "f'(g) g'", chain, chain_d},
    };
    enum { NRULES = sizeof rules / sizeof rules[0] };
    double errors[NRULES];
    /* x in [0.5, 3]: where log and x^0.5 are defined */
    nd_tensor *x = LAB_CALL(nd_set_requires_grad(nd_linspace(0.5, 3, 26, ND_F64), true));
    for (int i = 0; i < NRULES; i++) {
        /* the sum's gradient is each element's derivative: ∂(Σ f(xⱼ))/∂xᵢ = f'(xᵢ) */
        nd_tensor *grad = nd_gradient(nd_sum(rules[i].fn(x), ND_ALL, false), x, false);
        errors[i] = max_abs_diff(grad, rules[i].derivative(nd_detach(x)));
    }
    for (int i = 0; i < NRULES; i++) {
        char what[96];
        snprintf(what, sizeof what, "d/dx %s = %s on the grid", rules[i].y, rules[i].dy);
        LAB_CHECK_CLOSE(r, what, errors[i], 0, 1e-12);
    }
    report_table_begin(r, 3, (const char *const[]){"y", "dy/dx", "max |autodiff − formula|"});
    for (int i = 0; i < NRULES; i++)
        report_table_row(r, "%s\t%s\t%.1e", rules[i].y, rules[i].dy, errors[i]);
    report_table_end(r);
}

/* y = tanh(W · flatten(x)) reshaped: a dense map from any shape to any shape. */
typedef struct {
    nd_tensor *W;
    int ndim;
    int64_t shape[8];
} dense_map;

static nd_tensor *apply_dense(nd_tensor *x, void *ctx) {
    dense_map *m = ctx;
    return nd_reshape(nd_tanh(nd_mv(m->W, nd_flatten(x))), m->ndim, m->shape);
}

/* The Jacobian of a dense map from xshape to yshape, numerator layout. */
static nd_tensor *jacobian(int yn, const int64_t *yshape, int xn, const int64_t *xshape,
                           nd_ad_mode mode) {
    int64_t ny = 1, nx = 1;
    for (int i = 0; i < yn; i++) ny *= yshape[i];
    for (int i = 0; i < xn; i++) nx *= xshape[i];
    nd_manual_seed(7); /* the same map and x in both modes */
    dense_map m = {.W = nd_randn(ND_F64, ND_SHAPE(ny, nx)), .ndim = yn};
    memcpy(m.shape, yshape, sizeof(int64_t) * (size_t)yn);
    return nd_jacobian(apply_dense, &m, nd_randn(ND_F64, xn, xshape), mode, ND_LAYOUT_NUMERATOR);
}

/* "(3, 4)"; with skip_ones the size-1 dims are left out (the course's 1s only
 * mark rows and columns), a single dim written "(4)". */
/* f(x1, x2) = x1²·x2 + 3·x2, on a (2,) tensor. */
static nd_tensor *g(nd_tensor *x) {
    nd_tensor *x1 = nd_select(x, 0, 0), *x2 = nd_select(x, 0, 1);
    return nd_add(nd_mul(nd_square(x1), x2), nd_mul_scalar(x2, 3));
}

/* 全微分公式: df = Σ ∂f/∂xᵢ dxᵢ = ∇f·dx, the inner product of the gradient and
 * the differential; the true change differs from it by O(|dx|²). */
static void total_differential(report *r) {
    report_heading(r, "梯度: 全微分公式 df = Σ ∂f/∂xᵢ dxᵢ — the total differential");
    report_para(r, "全微分公式; 梯度向量与微分向量的内积: df = ∂f/∂x₁·dx₁ + ∂f/∂x₂·dx₂ = ∇f·dx. "
                   "For f(x₁, x₂) = x₁²·x₂ + 3x₂ at x = (1, 2), nd_gradient gives "
                   "∇f = (2x₁x₂, x₁² + 3) = (4, 4); df = nd_dot(∇f, dx) predicts the change "
                   "f(x + dx) − f(x), up to a remainder of order |dx|².");
    nd_tensor *x = nd_set_requires_grad(nd_to(nd_parse("[1.0, 2]"), ND_F64), true);
    nd_tensor *fx = g(x), *gradient = nd_gradient(fx, x, false);
    if (!gradient) return;
    LAB_CHECK_CLOSE(r, "∂f/∂x₁ = 2x₁x₂", nd_get(gradient, (int64_t[]){0}), 4, 1e-12);
    LAB_CHECK_CLOSE(r, "∂f/∂x₂ = x₁² + 3", nd_get(gradient, (int64_t[]){1}), 4, 1e-12);
    char text[512];
    int len = snprintf(text, sizeof text, "grad f(1, 2) = [%g, %g]",
                       nd_get(gradient, (int64_t[]){0}), nd_get(gradient, (int64_t[]){1}));
    const double scales[2] = {1, 0.1};
    double remainders[2], dfs[2];
    nd_tensor *dx0 = nd_from(ND_F64, ND_SHAPE(2), (double[]){0.01, -0.02}); /* exact doubles */
    for (int i = 0; i < 2; i++) {
        nd_tensor *dx = nd_mul_scalar(dx0, scales[i]);
        double df = dfs[i] = nd_item(nd_dot(gradient, dx));
        double change = nd_item(g(nd_add(nd_detach(x), dx))) - nd_item(fx);
        remainders[i] = change - df;
        len += snprintf(text + len, sizeof text - (size_t)len,
                        "\ndx = [%g, %g]: df = %.8f, f(x + dx) - f(x) = %.8f, difference %.2e",
                        nd_get(dx, (int64_t[]){0}), nd_get(dx, (int64_t[]){1}), df, change,
                        remainders[i]);
    }
    report_pre(r, "%s", text);
    LAB_CHECK_CLOSE(r, "df for dx = (0.01, -0.02)", dfs[0], -0.04, 1e-12);
    /* by hand: the remainder is x₂dx₁² + 2x₁dx₁dx₂ + dx₁²dx₂ = -0.000202 */
    LAB_CHECK_CLOSE(r, "f(x + dx) - f(x) - df for dx = (0.01, -0.02)", remainders[0], -0.000202,
                    1e-9);
    LAB_CHECK_CLOSE(r, "remainder ratio when dx shrinks 10× (about 100: O(|dx|²))",
                    remainders[0] / remainders[1], 100, 2);
}

static void dims_text(const nd_tensor *t, bool skip_ones, char *out, size_t size) {
    size_t k = (size_t)snprintf(out, size, "(");
    int written = 0;
    for (int i = 0; i < nd_ndim(t) && k < size; i++) {
        if (skip_ones && nd_size(t, i) == 1) continue;
        k += (size_t)snprintf(out + k, size - k, "%s%lld", written++ ? ", " : "",
                              (long long)nd_size(t, i));
    }
    if (k < size) snprintf(out + k, size - k, "%s)", !skip_ones && nd_ndim(t) == 1 ? "," : "");
}

/* "(3, 5, 4)": the sizes of dims, those of size 1 left out as the course writes them. */
static void sizes_text(int count, const int64_t *dims, char *out, size_t size) {
    int64_t kept[8];
    int n = 0;
    for (int i = 0; i < count; i++)
        if (dims[i] != 1) kept[n++] = dims[i];
    nd_tensor *t = nd_zeros(ND_F32, n, kept); /* a tensor of those dims, to write them alike */
    dims_text(t, true, out, size);
}

static void shape_table(report *r) {
    const int64_t m = lab_int("m"), l = lab_int("l"), n = lab_int("n"), k = lab_int("k");
    char heading[160];
    snprintf(heading, sizeof heading,
             "拓展到矩阵 — the shapes of derivatives (numerator layout), m=%d l=%d n=%d k=%d",
             (int)m, (int)l, (int)n, (int)k);
    report_heading(r, heading);
    const int64_t ys[3][2] = {{1}, {m, 1}, {m, l}}, xs[3][2] = {{1}, {n, 1}, {n, k}};
    const int yn[3] = {1, 2, 2}, xn[3] = {1, 2, 2};
    const char *course[3][3] = {{"(1,)", "(1, n)", "(k, n)"},
                                {"(m, 1)", "(m, n)", "(m, k, n)"},
                                {"(m, l)", "(m, l, n)", "(m, l, k, n)"}};
    /* the course's rule with the sizes put in: y's dims first, then x's reversed */
    const int64_t rule[3][3][4] = {
        {{0}, {n}, {k, n}}, {{m}, {m, n}, {m, k, n}}, {{m, l}, {m, l, n}, {m, l, k, n}}};
    const int rule_dims[3][3] = {{0, 1, 2}, {1, 2, 3}, {2, 3, 4}};
    const char *rows[3] = {"y: (1,)", "y: (m, 1)", "Y: (m, l)"};
    char shapes[3][3][64], bare[3][3][64], by_rule[3][3][64];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            nd_tensor *jac = jacobian(yn[i], ys[i], xn[j], xs[j], ND_REVERSE);
            dims_text(jac, false, shapes[i][j], sizeof shapes[i][j]);
            dims_text(jac, true, bare[i][j], sizeof bare[i][j]);
            sizes_text(rule_dims[i][j], rule[i][j], by_rule[i][j], sizeof by_rule[i][j]);
        }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            char what[64];
            snprintf(what, sizeof what, "shape of ∂%s/∂x%d", rows[i], j);
            lab_check(r, !strcmp(bare[i][j], by_rule[i][j]), what, course[i][j], "%s",
                      shapes[i][j]);
        }
    report_table_begin(r, 4,
                       (const char *const[]){"nd_jacobian", "x: (1,)", "x: (n, 1)", "X: (n, k)"});
    for (int i = 0; i < 3; i++)
        report_table_row(r, "%s\t%s  [course %s]\t%s  [course %s]\t%s  [course %s]", rows[i],
                         shapes[i][0], course[i][0], shapes[i][1], course[i][1], shapes[i][2],
                         course[i][2]);
    report_table_end(r);
    report_para(r,
                "先排y, 再排x逆序: y's dims first, then x's reversed. nd keeps every size-1 "
                "dim of y and x; the course's table writes only the dims that count (its 1s "
                "mark row and column vectors). Leave nd's 1s out and every cell is the course's.");

    report_heading(r, "思考: 拓展到N维张量 — Y (a, b, c, d), X (h, i, j, k, l)");
    const int64_t Y[4] = {2, 3, 1, 2}, X[5] = {1, 2, 3, 4, 5};
    nd_tensor *forward = jacobian(4, Y, 5, X, ND_FORWARD);
    nd_tensor *reverse = jacobian(4, Y, 5, X, ND_REVERSE);
    char *shape = nd_shape_string(reverse);
    report_para(r,
                "Y (a, b, c, d) = (2, 3, 1, 2), X (h, i, j, k, l) = (1, 2, 3, 4, 5): ∂Y/∂X "
                "has %d dims, shape %s = (a, b, c, d, l, k, j, i, h); forward mode (%d passes) "
                "and reverse mode (%d passes) agree: %s.",
                nd_ndim(reverse), shape ? shape : "?", 120, 12,
                nd_allclose(forward, reverse, 1e-12, 1e-12) ? "yes" : "NO");
    free(shape);
    const int64_t want[9] = {2, 3, 1, 2, 5, 4, 3, 2, 1};
    LAB_CHECK_CLOSE(r, "dims of ∂Y/∂X", nd_ndim(reverse), 9, 0);
    for (int i = 0; i < 9 && nd_ndim(reverse) == 9; i++)
        LAB_CHECK_CLOSE(r, "a size of ∂Y/∂X", nd_size(reverse, i), want[i], 0);
    LAB_CHECK_CLOSE(r, "|forward − reverse|", max_abs_diff(forward, reverse), 0, 1e-12);
}

static int run(report *r) {
    report_section(r, "calculus", "多元微分 (calculus)",
                   "标量导数, 梯度, 雅可比矩阵: derivatives, the rules, the shapes of Jacobians");
    limits(r);
    basic_rules(r);
    total_differential(r);
    shape_table(r);
    return nd_last_error() ? -1 : 0;
}

/* Listed in registry.c, in the chapter's order. */
const lab calculus_lab = {.name = "calculus",
                          .title = "多元微分",
                          .summary = "derivatives as limits, the rules by autodiff, shapes of "
                                     "Jacobians up to 9-d",
                          .options = options,
                          .run = run};
