/* Lab 8 — 激活函数 (activation functions): ReLU, sigmoid and tanh (the
 * course's three basic ones), leaky ReLU and GELU, each drawn on [−8, 8] with
 * its derivative. The derivatives are not written by hand: autograd computes
 * them (nd_gradient of the sum, since each output depends on its own input
 * only), and the checks compare them with the textbook formulas. */
#include "lab.h"

#include <math.h>
#include <nd_plot.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name, *formula, *derivative;
    nd_tensor *(*apply)(nd_tensor *x);
    double ymin, ymax; /* the figure's range, with room for the legend at the top */
} activation;

static nd_tensor *leaky_relu(nd_tensor *x) {
    return nd_leaky_relu(x, 0.1);
}

static const activation activations[] = {
    {"ReLU", "relu(x) = max(x, 0)", "1 for x > 0, 0 for x <= 0", nd_relu, -1, 11},
    {"sigmoid", "sigmoid(x) = 1 / (1 + exp(−x))", "sigmoid(x)·(1 − sigmoid(x))", nd_sigmoid, -0.1,
     1.4},
    {"tanh", "tanh(x) = (1 − exp(−2x)) / (1 + exp(−2x))", "1 − tanh²(x)", nd_tanh, -1.1, 1.7},
    {"leaky ReLU", "leaky_relu(x) = max(x, 0.1·x)", "1 for x > 0, 0.1 for x <= 0", leaky_relu, -1.5,
     11},
    {"GELU", "gelu(x) = x·Φ(x)", "Φ(x) + x·φ(x)", nd_gelu, -1, 11},
};
#define COUNT ((int)(sizeof activations / sizeof activations[0]))

/* `nd lab activations --fn gelu`: the names, in the order of activations[]. */
static const char *const KEYS[COUNT] = {"relu", "sigmoid", "tanh", "leaky-relu", "gelu"};
static const option options[] = {
    {.name = "fn",
     .type = OPTION_TEXT,
     .fallback = "all",
     .help = "the activation function to draw with its derivative",
     .choices = "all|relu|sigmoid|tanh|leaky-relu|gelu"},
    {.name = NULL}, /* the end of the table */
};

static bool drawn(int i) {
    return !strcmp(lab_text("fn"), "all") || !strcmp(lab_text("fn"), KEYS[i]);
}

/* f(x) and f'(x) by autograd: the gradient of Σ f(x_i) is f'(x_i) in place i. */
static int with_derivative(const activation *a, nd_tensor *x, nd_tensor **y, nd_tensor **dy) {
    nd_tensor *leaf = LAB_CALL(nd_set_requires_grad(nd_clone(x), true));
    nd_tensor *out = a->apply(leaf);
    *dy = LAB_CALL(nd_gradient(nd_sum(out, ND_ALL, false), leaf, false));
    *y = nd_detach(out);
    return *y && *dy ? 0 : -1;
}

static int figure(report *r, const activation *a, nd_tensor *x, nd_tensor *y, nd_tensor *dy,
                  int index) {
    char name[32], label[64];
    snprintf(name, sizeof name, "act_%d", index);
    snprintf(label, sizeof label, "%s'(x) (autograd)", a->name);
    nd_plot *p = nd_plot_new(a->name, "x", "");
    nd_plot_line(p, x, y, a->formula);
    nd_plot_dashed(p, x, dy, label);
    nd_plot_range(p, -8.5, 8.5, a->ymin, a->ymax);
    char caption[128];
    snprintf(caption, sizeof caption, "%s'(x) = %s", a->name, a->derivative);
    int rc = lab_figure(r, p, name, 420, 320, caption);
    return rc;
}

/* relu'(0), sigmoid' = s(1 − s), tanh' = 1 − tanh² at a few points. */
static int checks(report *r) {
    report_heading(r, "导数的检查 (checking the derivatives)");
    const double points[] = {-3.0, -1.0, -0.5, 0.0, 0.5, 2.0};
    nd_tensor *x = LAB_CALL(nd_from(ND_F64, ND_SHAPE(6), points));
    nd_tensor *y, *dy;

    if (with_derivative(&activations[0], x, &y, &dy)) return -1;
    int64_t zero = 3;
    report_para(r,
                "relu'(0) = %g: at the kink autograd takes the derivative 0 (PyTorch's "
                "convention), the left one.",
                nd_get(dy, &zero));
    LAB_CHECK_CLOSE(r, "relu'(0)", nd_get(dy, &zero), 0.0, 0.0);
    LAB_TENSOR(r, "x", x);
    LAB_TENSOR(r, "relu'(x)", dy);

    if (with_derivative(&activations[1], x, &y, &dy)) return -1;
    nd_tensor *formula = LAB_CALL(nd_mul(y, nd_rsub_scalar(y, 1.0)));
    LAB_TENSOR(r, "sigmoid'(x) (autograd)", dy);
    LAB_TENSOR(r, "sigmoid(x)·(1 − sigmoid(x))", formula);
    LAB_CHECK_CLOSE(r, "sigmoid' − s(1 − s), largest gap", max_abs_diff(dy, formula), 0.0, 1e-12);
    LAB_CHECK_CLOSE(r, "sigmoid'(0)", nd_get(dy, &zero), 0.25, 1e-12);

    if (with_derivative(&activations[2], x, &y, &dy)) return -1;
    formula = nd_rsub_scalar(nd_square(y), 1.0);
    LAB_TENSOR(r, "tanh'(x) (autograd)", dy);
    LAB_TENSOR(r, "1 − tanh²(x)", formula);
    LAB_CHECK_CLOSE(r, "tanh' − (1 − tanh²), largest gap", max_abs_diff(dy, formula), 0.0, 1e-12);
    LAB_CHECK_CLOSE(r, "tanh'(0)", nd_get(dy, &zero), 1.0, 1e-12);

    if (with_derivative(&activations[4], x, &y, &dy)) return -1;
    LAB_CHECK_CLOSE(r, "gelu'(0) = Φ(0)", nd_get(dy, &zero), 0.5, 1e-12);
    return 0;
}

static int run(report *r) {
    report_section(r, "activations", "激活函数 (activation functions)",
                   "Three basic activation functions — ReLU, sigmoid, tanh — and two more, "
                   "with their derivatives computed by autograd.");
    report_para(r, "激活函数的作用: 提供非线性。 Without an activation, layers GT = W·input + b "
                   "compose to one affine map; output = activate(GT) bends the space, so that "
                   "a stack of layers can represent more than a linear function.");
    nd_tensor *x = LAB_CALL(nd_linspace(-8.0, 8.0, 321, ND_F64));
    nd_plot *all = nd_plot_new("Activation functions", "x", "f(x)");
    for (int i = 0; i < COUNT; i++) {
        if (!drawn(i)) continue;
        nd_scope_begin();
        nd_tensor *y, *dy;
        int rc = with_derivative(&activations[i], x, &y, &dy);
        if (rc == 0) rc = figure(r, &activations[i], x, y, dy, i);
        if (rc == 0) rc = nd_plot_line(all, x, y, activations[i].name);
        nd_scope_end();
        if (rc) {
            nd_plot_free(all);
            return -1;
        }
    }
    nd_plot_range(all, -8, 8, -1.5, 3);
    if (lab_figure(r, all, "act_all", 640, 420, "The five together near the origin.")) return -1;
    return checks(r);
}

/* Listed in registry.c, in the chapter's order. */
const lab activations_lab = {.name = "activations",
                             .title = "激活函数 (activation functions)",
                             .summary =
                                 "ReLU, sigmoid, tanh, leaky ReLU, GELU and their derivatives "
                                 "by autograd",
                             .options = options,
                             .run = run};
