/* Lab 5, 自动微分 (automatic differentiation): the chain rule, done by the
 * machine. The student should see the course's computation graph of
 * z = (<x, w> − y)², the forward pass storing a, b, z, the backward pass
 * multiplying the local derivatives 2b, 1 and xᵀ, forward accumulation and
 * backward propagation agree with 2(<x, w> − y)xᵀ; the MLP graph with weight
 * decay and its gradients equal to the backprop formulas; a gradient through C
 * control flow; and the derivative of sin drawn over cos. */
#include "lab.h"

#include <math.h>
#include <nd_plot.h>
#include <stdio.h>
#include <stdlib.h>

static void draw_graph(report *r, nd_tensor *root, const char *name, const char *caption) {
    char *dot = nd_graph_dot(root);
    if (dot && nd_plot_graph(dot, report_figure_path(r, name)) == 0)
        report_figure(r, name, caption);
    else
        report_fail(r, "%s: %s", name, nd_last_error() ? nd_last_error() : "no graph");
    free(dot);
}

/* `nd lab autodiff --x "[1, 2]" --w "[3, 4]" --y 0`: the slide's z = (<x, w> − y)² at other values.
 */
static int vector_ok(const char *text, char *error, size_t size) {
    nd_scope_begin(); /* the parsed vector goes when the check ends */
    nd_tensor *v = nd_parse(text);
    bool ok = v && nd_ndim(v) == 1 && nd_numel(v) >= 1 && nd_numel(v) <= 64;
    if (!ok) snprintf(error, size, "a vector of 1 to 64 numbers such as \"[1, 2, 3]\" is needed");
    nd_scope_end();
    nd_clear_error();
    return ok ? 0 : -1;
}

static const option options[] = {
    {.name = "x",
     .type = OPTION_TEXT,
     .fallback = "[1, 2, 3]",
     .help = "the input x of z",
     .check = vector_ok},
    {.name = "w",
     .type = OPTION_TEXT,
     .fallback = "[0.5, -1, 2]",
     .help = "the weights w (as long as x)",
     .check = vector_ok},
    {.name = "y", .type = OPTION_NUMBER, .fallback = "1", .help = "the target y"},
    {.name = NULL}, /* the end of the table */
};

/* z = (<x, w> − y)²: the slide's example, step by step. */
static void chain_rule(report *r) {
    report_heading(r,
                   "链式法则 — the chain rule on z = (<x, w> − y)², a = <x, w>, b = a − y, z = b²");
    nd_tensor *x = nd_set_name(nd_to(nd_parse(lab_text("x")), ND_F64), "x");
    nd_tensor *w = nd_set_name(nd_to(nd_parse(lab_text("w")), ND_F64), "w");
    nd_tensor *y = nd_set_name(nd_scalar(lab_number("y"), ND_F64), "y");
    nd_set_requires_grad(w, true);
    /* 前向: run the graph and keep every intermediate value */
    nd_tensor *a = nd_set_name(LAB_CALL(nd_dot(x, w)), "a");
    nd_tensor *b = nd_set_name(LAB_CALL(nd_sub(a, y)), "b");
    nd_tensor *z = nd_set_name(LAB_CALL(nd_square(b)), "z");
    draw_graph(r, z, "autodiff_graph",
               "构建计算图: z = (<x, w> − y)² as a graph of ops; x and y need no gradient "
               "(grey): backward prunes their branches");
    report_pre(r, "forward:  a = <x, w> = %g   b = a − y = %g   z = b² = %g", nd_item(a),
               nd_item(b), nd_item(z));
    /* 反向: the local derivatives, each by autodiff, each against the slide */
    nd_tensor *dz_db = nd_gradient(z, b, false), *db_da = nd_gradient(b, a, false);
    nd_tensor *da_dw = nd_gradient(a, w, false);
    report_pre(r, "backward: ∂z/∂b = 2b = %g   ∂b/∂a = %g", nd_item(dz_db), nd_item(db_da));
    LAB_TENSOR(r, "          ∂a/∂w = xᵀ", da_dw);
    LAB_CHECK_CLOSE(r, "∂z/∂b = 2b", nd_item(dz_db), 2 * nd_item(b), 1e-12);
    LAB_CHECK_CLOSE(r, "∂b/∂a = 1", nd_item(db_da), 1, 1e-12);
    LAB_CHECK_CLOSE(r, "∂a/∂w = xᵀ", max_abs_diff(da_dw, x), 0, 1e-12);

    nd_tensor *formula = nd_mul_scalar(x, 2 * (nd_item(a) - nd_item(y))); /* 2(<x, w> − y)xᵀ */
    LAB_CALL(nd_backward(z));                                             /* backward propagation */
    nd_tensor *reverse = LAB_CALL(nd_grad(w));
    /* forward accumulation: one pass per direction e_i of w, the tangent of z is ∂z/∂w_i */
    int64_t n = nd_numel(w);
    double forward[64];
    for (int i = 0; i < n; i++) {
        nd_tensor *e = nd_zeros(ND_F64, ND_SHAPE(n));
        nd_fill_(nd_select(e, 0, i), 1);
        nd_tensor *wd = nd_make_dual(nd_detach(w), e);
        forward[i] = nd_item(LAB_CALL(nd_tangent(nd_square(nd_sub(nd_dot(x, wd), y)))));
    }
    nd_tensor *forward_t = nd_from(ND_F64, ND_SHAPE(n), forward);
    LAB_TENSOR(r, "∂z/∂w by backward propagation", reverse);
    LAB_TENSOR(r, "∂z/∂w by forward accumulation", forward_t);
    LAB_TENSOR(r, "2(<x, w> − y)xᵀ", formula);
    LAB_CHECK_CLOSE(r, "backward propagation vs 2(<x, w> − y)xᵀ", max_abs_diff(reverse, formula), 0,
                    1e-12);
    LAB_CHECK_CLOSE(r, "forward accumulation vs 2(<x, w> − y)xᵀ", max_abs_diff(forward_t, formula),
                    0, 1e-12);
}

/* The MLP of d2l 5.3 with weight decay, its gradients against the formulas. */
static void mlp(report *r) {
    report_heading(r, "实例: MLP 计算图 — h = σ(W_h x + b_h), o = W_o h + b_o, J = l(o, y) + s");
    const double lambda = 0.1;
    nd_tensor *x = LAB_CALL(nd_set_name(nd_randn(ND_F64, ND_SHAPE(4)), "x"));
    nd_tensor *Wh = LAB_CALL(nd_set_name(nd_randn(ND_F64, ND_SHAPE(5, 4)), "W_h"));
    nd_tensor *bh = LAB_CALL(nd_set_name(nd_randn(ND_F64, ND_SHAPE(5)), "b_h"));
    nd_tensor *Wo = LAB_CALL(nd_set_name(nd_randn(ND_F64, ND_SHAPE(3, 5)), "W_o"));
    nd_tensor *bo = LAB_CALL(nd_set_name(nd_randn(ND_F64, ND_SHAPE(3)), "b_o"));
    nd_tensor *label = LAB_CALL(nd_set_name(nd_parse("[1]"), "y"));
    nd_tensor *params[4] = {Wh, bh, Wo, bo};
    for (int i = 0; i < 4; i++) nd_set_requires_grad(params[i], true);
    nd_tensor *zh = LAB_CALL(nd_set_name(nd_add(nd_mv(Wh, x), bh), "z"));
    nd_tensor *h = LAB_CALL(nd_set_name(nd_sigmoid(zh), "h"));
    nd_tensor *o = LAB_CALL(nd_set_name(nd_add(nd_mv(Wo, h), bo), "o"));
    nd_tensor *L = LAB_CALL(nd_set_name(nd_cross_entropy(nd_unsqueeze(o, 0), label), "L"));
    nd_tensor *s =
        LAB_CALL(nd_set_name(nd_l2_penalty(2, (nd_tensor *const[]){Wh, Wo}, lambda), "s"));
    nd_tensor *J = LAB_CALL(nd_set_name(nd_add(L, s), "J"));
    draw_graph(r, J, "autodiff_mlp",
               "The MLP's graph: L = cross-entropy l(o, y), s = λ/2 (‖W_h‖² + ‖W_o‖²), J = L + s");
    if (nd_backward(J)) return;
    /* backprop by hand (d2l 5.3.3), from J back to W_h */
    nd_tensor *onehot = LAB_CALL(nd_parse("[0.0, 1, 0]"));
    nd_tensor *dJ_do = LAB_CALL(nd_sub(nd_softmax(nd_detach(o), 0), nd_to(onehot, ND_F64)));
    nd_tensor *dJ_dWo =
        LAB_CALL(nd_add(nd_outer(dJ_do, nd_detach(h)), nd_mul_scalar(nd_detach(Wo), lambda)));
    nd_tensor *dJ_dh = LAB_CALL(nd_mv(nd_t(nd_detach(Wo)), dJ_do));
    nd_tensor *sig = LAB_CALL(nd_detach(h));
    nd_tensor *dJ_dz = nd_mul(dJ_dh, nd_mul(sig, nd_rsub_scalar(sig, 1))); /* σ' = σ(1 − σ) */
    nd_tensor *dJ_dWh = LAB_CALL(nd_add(nd_outer(dJ_dz, x), nd_mul_scalar(nd_detach(Wh), lambda)));
    report_pre(r, "∂J/∂o   = softmax(o) − onehot(y)\n"
                  "∂J/∂W_o = (∂J/∂o) hᵀ + λ W_o          ∂J/∂b_o = ∂J/∂o\n"
                  "∂J/∂h   = W_oᵀ (∂J/∂o)\n"
                  "∂J/∂z   = ∂J/∂h ⊙ σ'(z)\n"
                  "∂J/∂W_h = (∂J/∂z) xᵀ + λ W_h          ∂J/∂b_h = ∂J/∂z");
    LAB_TENSOR(r, "∂J/∂W_o (autodiff)", nd_grad(Wo));
    const struct {
        const char *what;
        nd_tensor *autodiff, *formula;
    } checks[] = {{"∂J/∂W_o", nd_grad(Wo), dJ_dWo},
                  {"∂J/∂b_o", nd_grad(bo), dJ_do},
                  {"∂J/∂W_h", nd_grad(Wh), dJ_dWh},
                  {"∂J/∂b_h", nd_grad(bh), dJ_dz}};
    for (int i = 0; i < 4; i++) {
        double d = max_abs_diff(checks[i].autodiff, checks[i].formula);
        report_pre(r, "%s: max |autodiff − formula| = %.1e", checks[i].what, d);
        LAB_CHECK_CLOSE(r, checks[i].what, d, 0, 1e-12);
    }
}

/* d2l 2.5.4: the graph is whatever the C code did, loops and branches included. */
static nd_tensor *doubled_until_large(nd_tensor *a) {
    nd_tensor *b = LAB_CALL(nd_mul_scalar(a, 2));
    while (nd_item(nd_norm(b, 2)) < 1000) b = nd_mul_scalar(b, 2);
    return nd_item(nd_sum(b, ND_ALL, false)) > 0 ? b : nd_mul_scalar(b, 100);
}

static void control_flow(report *r) {
    report_heading(r, "Python控制流的梯度计算 — a gradient through a C loop and branch");
    nd_tensor *a = LAB_CALL(nd_set_requires_grad(nd_randn(ND_F64, 0, NULL), true));
    nd_tensor *d = doubled_until_large(a);
    nd_backward(d);
    /* d = k·a for some k the loop chose, so dd/da = k = d/a */
    report_pre(r, "a = %.6f   d = f(a) = %.6f   a.grad = %.6f   d / a = %.6f", nd_item(a),
               nd_item(d), nd_item(nd_grad(a)), nd_item(d) / nd_item(a));
    LAB_CHECK_CLOSE(r, "a.grad == d / a", nd_item(nd_grad(a)), nd_item(d) / nd_item(a), 1e-9);
}

static void sine(report *r) {
    report_heading(r, "练习 — sin(x) and its derivative by autodiff, on [−2π, 2π]");
    nd_tensor *x = LAB_CALL(nd_set_requires_grad(nd_linspace(-2 * PI, 2 * PI, 201, ND_F64), true));
    nd_tensor *y = LAB_CALL(nd_sin(x));
    nd_backward(nd_sum(y, ND_ALL, false)); /* each y_i depends on x_i alone */
    nd_tensor *xs = nd_detach(x), *dy = nd_grad(x);
    nd_plot *p = nd_plot_new("sin(x) and d sin(x)/dx by autodiff", "x", "y");
    nd_plot_line(p, xs, nd_detach(y), "sin(x)");
    nd_plot_line(p, xs, dy, "d sin(x)/dx (autodiff)");
    nd_plot_dashed(p, xs, nd_cos(xs), "cos(x)");
    nd_plot_range(p, -2 * PI, 2 * PI, -1.3, 2.0); /* room for the legend */
    if (lab_figure(r, p, "autodiff_sin", 720, 420, "The gradient of sin lies on cos (dashed)"))
        report_fail(r, "%s", nd_last_error());
    LAB_CHECK_CLOSE(r, "max |d sin/dx − cos|", max_abs_diff(dy, nd_cos(xs)), 0, 1e-12);
}

static int run(report *r) {
    report_section(r, "autodiff", "自动微分 (automatic differentiation)",
                   "链式法则, 计算图, 前向积累与反向传递: the chain rule by graph, in both modes");
    chain_rule(r);
    mlp(r);
    control_flow(r);
    sine(r);
    return nd_last_error() ? -1 : 0;
}

/* Listed in registry.c, in the chapter's order. */
const lab autodiff_lab = {.name = "autodiff",
                          .title = "自动微分",
                          .summary = "computation graphs, forward accumulation and backward "
                                     "propagation, the MLP's gradients",
                          .options = options,
                          .run = run};
