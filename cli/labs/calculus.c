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

static void limits(report *r) {
    report_heading(r, "标量导数: 导数是极限 — the derivative as a limit");
    nd_tensor *h = LAB_CALL(nd_parse("[0.1, 0.01, 0.001, 0.0001, 0.00001]"));
    h = nd_to(h, ND_F64);
    nd_tensor *one = LAB_CALL(nd_scalar(1, ND_F64));
    nd_tensor *quotient = nd_div(nd_sub(f(nd_add_scalar(h, 1)), f(one)), h); /* (f(1+h) − f(1))/h */
    const double course[5] = {2.3, 2.03, 2.003, 2.0003, 2.00003};
    char text[512] = "f(x) = 3x² − 4x at x = 1\n";
    for (int i = 0; i < 5; i++) {
        double hi = nd_get(h, (int64_t[]){i}), qi = nd_get(quotient, (int64_t[]){i});
        size_t used = strlen(text);
        snprintf(text + used, sizeof text - used, "h = %-8g (f(1 + h) − f(1)) / h = %.5f\n", hi,
                 qi);
        char what[64];
        snprintf(what, sizeof what, "difference quotient at h = %g", hi);
        LAB_CHECK_CLOSE(r, what, qi, course[i], 1e-8);
    }
    report_pre(r, "%s", text);
    nd_tensor *x = LAB_CALL(nd_set_requires_grad(nd_scalar(1, ND_F64), true));
    double slope = nd_item(nd_gradient(f(x), x, false));
    report_para(r,
                "Autodiff gives f'(1) = %g exactly (f'(x) = 6x − 4): the tangent at x = 1 is "
                "y = 2x − 3.",
                slope);
    LAB_CHECK_CLOSE(r, "f'(1) by autodiff", slope, 2, 1e-12);

    nd_tensor *xs = LAB_CALL(nd_linspace(-0.5, 2.5, 121, ND_F64));
    nd_tensor *tangent = nd_add_scalar(nd_mul_scalar(xs, slope), -3); /* y = f(1) + f'(1)(x − 1) */
    nd_plot *p = nd_plot_new("f(x) = 3x² − 4x and its tangent at x = 1", "x", "f(x)");
    nd_plot_line(p, xs, f(xs), "f(x)");
    nd_plot_dashed(p, xs, tangent, "tangent line y = 2x − 3");
    nd_plot_points(p, nd_parse("[1.0]"), nd_parse("[-1.0]"), "(1, f(1))");
    nd_plot_range(p, -0.5, 2.5, -5, 14); /* room for the legend above the curve */
    if (lab_figure(r, p, "calculus_tangent", 640, 440,
                   "The tangent touches f at x = 1 with slope f'(1) = 2"))
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
    const char *cells[NRULES * 3];
    char errors[NRULES][32];
    /* x in [0.5, 3]: where log and x^0.5 are defined */
    nd_tensor *x = LAB_CALL(nd_set_requires_grad(nd_linspace(0.5, 3, 26, ND_F64), true));
    for (int i = 0; i < NRULES; i++) {
        /* the sum's gradient is each element's derivative: ∂(Σ f(xⱼ))/∂xᵢ = f'(xᵢ) */
        nd_tensor *grad = nd_gradient(nd_sum(rules[i].fn(x), ND_ALL, false), x, false);
        double error = max_abs_diff(grad, rules[i].derivative(nd_detach(x)));
        snprintf(errors[i], sizeof errors[i], "%.1e", error);
        cells[3 * i] = rules[i].y, cells[3 * i + 1] = rules[i].dy, cells[3 * i + 2] = errors[i];
        char what[96];
        snprintf(what, sizeof what, "d/dx %s = %s on the grid", rules[i].y, rules[i].dy);
        LAB_CHECK_CLOSE(r, what, error, 0, 1e-12);
    }
    report_table(r, 3, NRULES, (const char *const[]){"y", "dy/dx", "max |autodiff − formula|"},
                 cells);
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

static void shape_table(report *r) {
    report_heading(r, "拓展到矩阵 — the shapes of derivatives (numerator layout), m=3 l=2 n=4 k=5");
    const int64_t ys[3][2] = {{1}, {3, 1}, {3, 2}}, xs[3][2] = {{1}, {4, 1}, {4, 5}};
    const int yn[3] = {1, 2, 2}, xn[3] = {1, 2, 2};
    const char *course[3][3] = {{"(1,)", "(1, n)", "(k, n)"},
                                {"(m, 1)", "(m, n)", "(m, k, n)"},
                                {"(m, l)", "(m, l, n)", "(m, l, k, n)"}};
    const char *course_sizes[3][3] = {{"()", "(4)", "(5, 4)"},
                                      {"(3)", "(3, 4)", "(3, 5, 4)"},
                                      {"(3, 2)", "(3, 2, 4)", "(3, 2, 5, 4)"}};
    const char *rows[3] = {"y: (1,)", "y: (m, 1)", "Y: (m, l)"};
    char found[3][3][128];
    const char *cells[3 * 4];
    for (int i = 0; i < 3; i++) {
        cells[4 * i] = rows[i];
        for (int j = 0; j < 3; j++) {
            nd_tensor *jac = jacobian(yn[i], ys[i], xn[j], xs[j], ND_REVERSE);
            char shape[64], bare[64];
            dims_text(jac, false, shape, sizeof shape);
            dims_text(jac, true, bare, sizeof bare);
            snprintf(found[i][j], sizeof found[i][j], "%s  [course %s]", shape, course[i][j]);
            cells[4 * i + 1 + j] = found[i][j];
            char what[64];
            snprintf(what, sizeof what, "shape of ∂%s/∂x%d", rows[i], j);
            lab_check(r, !strcmp(bare, course_sizes[i][j]), what, course[i][j], "%s", shape);
        }
    }
    report_table(r, 4, 3, (const char *const[]){"nd_jacobian", "x: (1,)", "x: (n, 1)", "X: (n, k)"},
                 cells);
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
                          .run = run};
