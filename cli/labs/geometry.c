/* Lab 10 — 深度学习 = 几何变换 (deep learning as geometric transformation).
 * 一切数据都是张量, 即几何空间中的点; 模型的每一层对数据点做一个几何变换.
 * A 2-16-16-2 tanh net learns to separate two interleaved half-moons; the
 * student sees the points as each layer moves them — tangled at the input,
 * pulled apart in the hidden layers (16-d, shown by their two principal
 * axes), and split by a straight line in the output logits — and the curved
 * decision boundary that this straight line is in the input plane. */
#include "lab.h"

#include <math.h>
#include <nd_plot.h>
#include <stdio.h>

/* `nd lab geometry --hidden 4 --noise 0.2`: the data and the net of the slide's example. */
static const option options[] = {
    {.name = "points",
     .type = OPTION_INT,
     .fallback = "150",
     .help = "points in each moon",
     .min = 2,
     .max = 100000},
    {.name = "noise",
     .type = OPTION_NUMBER,
     .fallback = "0.1",
     .help = "standard deviation of the noise on the moons",
     .min = 0,
     .max = 10},
    {.name = "hidden",
     .type = OPTION_INT,
     .fallback = "16",
     .help = "units in each hidden layer",
     .min = 1,
     .max = 4096},
    {.name = "steps",
     .type = OPTION_INT,
     .fallback = "1000",
     .help = "training steps (Adam)",
     .min = 1,
     .max = 1000000},
    {.name = NULL}, /* the end of the table */
};

/* Read from the options when the lab starts. */
static int PER_CLASS, HIDDEN, STEPS;

/* scikit-learn's make_moons: an upper arc and a lower arc hooked into it,
 * with Gaussian noise; points (2n, 2) centred near 0, labels (2n,) ND_I64. */
static void two_moons(int64_t n, double noise, nd_tensor **points, nd_tensor **labels) {
    nd_tensor *t = LAB_CALL(nd_mul_scalar(nd_rand(ND_F64, ND_SHAPE(n)), PI));
    nd_tensor *upper[2] = {nd_cos(t), nd_sin(t)};
    nd_tensor *lower[2] = {nd_rsub_scalar(nd_cos(t), 1.0), nd_rsub_scalar(nd_sin(t), 0.5)};
    nd_tensor *arcs[2] = {nd_stack(2, upper, 1), nd_stack(2, lower, 1)};
    nd_tensor *clean = LAB_CALL(nd_sub(nd_cat(2, arcs, 0), nd_parse("[0.5, 0.25]")));
    *points = nd_add(clean, nd_mul_scalar(nd_randn(ND_F64, ND_SHAPE(2 * n, 2)), noise));
    nd_tensor *classes[2] = {nd_zeros(ND_I64, ND_SHAPE(n)), nd_ones(ND_I64, ND_SHAPE(n))};
    *labels = nd_cat(2, classes, 0);
}

typedef struct {
    nd_tensor *w1, *b1, *w2, *b2, *w3, *b3;
} mlp;

/* The layers' outputs: h1 = tanh(W1·x + b1), h2 = tanh(W2·h1 + b2), logits = W3·h2 + b3. */
static nd_tensor *forward(const mlp *m, nd_tensor *x, nd_tensor **h1, nd_tensor **h2) {
    nd_tensor *a = LAB_CALL(nd_tanh(nd_linear(x, m->w1, m->b1)));
    nd_tensor *b = LAB_CALL(nd_tanh(nd_linear(a, m->w2, m->b2)));
    if (h1) *h1 = a;
    if (h2) *h2 = b;
    return nd_linear(b, m->w3, m->b3);
}

static double accuracy(nd_tensor *logits, nd_tensor *labels) {
    return nd_item(
        nd_mean(nd_to(nd_eq(nd_argmax(logits, 1, false), labels), ND_F64), ND_ALL, false));
}

static int train(report *r, mlp *m, nd_tensor *x, nd_tensor *labels) {
    *m = (mlp){nd_empty(ND_F64, ND_SHAPE(HIDDEN, 2)),      nd_empty(ND_F64, ND_SHAPE(HIDDEN)),
               nd_empty(ND_F64, ND_SHAPE(HIDDEN, HIDDEN)), nd_empty(ND_F64, ND_SHAPE(HIDDEN)),
               nd_empty(ND_F64, ND_SHAPE(2, HIDDEN)),      nd_empty(ND_F64, ND_SHAPE(2))};
    nd_tensor *list[6] = {m->w1, m->b1, m->w2, m->b2, m->w3, m->b3};
    /* PyTorch's nn.Linear initialisation, seeded */
    for (int i = 0; i < 6; i += 2)
        if (nd_init_linear_(list[i], list[i + 1])) return -1;
    for (int i = 0; i < 6; i++) nd_set_requires_grad(list[i], true);
    nd_adam_opts o = ND_ADAM_DEFAULTS;
    o.lr = 0.01;
    nd_optim *adam = nd_adam(6, list, o);
    int rc = adam ? 0 : -1;
    double loss = NAN;
    progress bar = progress_begin("geometry: training", STEPS);
    for (int t = 0; t < STEPS && rc == 0; t++) {
        nd_scope_begin();
        nd_tensor *l = nd_cross_entropy(forward(m, x, NULL, NULL), labels);
        nd_optim_zero_grad(adam);
        rc = nd_backward(l);
        if (rc == 0) rc = nd_optim_step(adam);
        loss = nd_item(l);
        if (t % 50 == 0) progress_update(&bar, t, loss);
        nd_scope_end();
    }
    progress_end(&bar, loss);
    nd_optim_free(adam);
    if (rc == 0)
        report_para(r, "Full-batch Adam (lr 0.01), %d steps: cross-entropy %.4f.", STEPS, loss);
    return rc;
}

/* The rows of h (N, D) on their two principal axes (by SVD), and the share of
 * the variance those two axes hold. */
static nd_tensor *principal_plane(nd_tensor *h, double *share) {
    nd_tensor *centred = LAB_CALL(nd_sub(h, nd_mean(h, 0, true)));
    nd_tensor *u, *s, *vt;
    if (nd_svd(centred, &u, &s, &vt)) return NULL;
    nd_tensor *variance = LAB_CALL(nd_square(s));
    *share = nd_item(nd_sum(nd_slice(variance, 0, 0, 2, 1), ND_ALL, false)) /
             nd_item(nd_sum(variance, ND_ALL, false));
    return nd_matmul(centred, nd_t(nd_slice(vt, 0, 0, 2, 1)));
}

/* The points of a stage, one colour per class. */
static nd_plot *scatter(const char *title, const char *xlabel, const char *ylabel,
                        nd_tensor *points, nd_tensor *labels) {
    nd_plot *p = nd_plot_new(title, xlabel, ylabel);
    for (int c = 0; c < 2; c++) {
        nd_tensor *mine = nd_eq(labels, nd_scalar(c, ND_I64));
        nd_tensor *xs = nd_masked_select(nd_select(points, 1, 0), mine);
        nd_tensor *ys = nd_masked_select(nd_select(points, 1, 1), mine);
        nd_plot_points(p, xs, ys, c == 0 ? "class 0 (upper moon)" : "class 1 (lower moon)");
    }
    return p;
}

/* Every figure of this lab has the same size. */
static int save(report *r, nd_plot *p, const char *name, const char *caption) {
    return lab_figure(r, p, name, 460, 380, caption);
}

/* The input plane with the decision boundary: the level 0 of logit1 − logit0. */
static int input_figure(report *r, const mlp *m, nd_tensor *x, nd_tensor *labels) {
    const double box[4] = {-2.0, 2.0, -1.5, 1.5};
    const int64_t nx = 121, ny = 91;
    nd_tensor *gx = nd_expand(nd_reshape(nd_linspace(box[0], box[1], nx, ND_F64), ND_SHAPE(1, nx)),
                              ND_SHAPE(ny, nx));
    nd_tensor *gy = nd_expand(nd_reshape(nd_linspace(box[2], box[3], ny, ND_F64), ND_SHAPE(ny, 1)),
                              ND_SHAPE(ny, nx));
    nd_tensor *grid =
        LAB_CALL(nd_reshape(nd_stack(2, (nd_tensor *const[]){gx, gy}, -1), ND_SHAPE(-1, 2)));
    nd_tensor *logits = forward(m, grid, NULL, NULL);
    nd_tensor *margin = LAB_CALL(nd_sub(nd_select(logits, 1, 1), nd_select(logits, 1, 0)));
    /* one contour level sits halfway between the extremes: clamping them to
     * ±c puts it exactly at 0, the boundary */
    double c =
        fmin(-nd_item(nd_min(margin, ND_ALL, false)), nd_item(nd_max(margin, ND_ALL, false)));
    nd_tensor *z = LAB_CALL(nd_reshape(nd_clamp(margin, -c, c), ND_SHAPE(ny, nx)));
    nd_plot *p = scatter("Input: the two moons", "x1", "x2", x, labels);
    nd_plot_contour(p, z, box[0], box[1], box[2], box[3], 1);
    nd_plot_range(p, box[0], box[1], box[2], box[3]);
    nd_plot_equal_axes(p, true);
    return save(r, p, "geometry_input",
                "Input space; the grey curve is the decision boundary (logit1 = logit0).");
}

static int run(report *r) {
    report_section(r, "geometry", "深度学习 = 几何变换 (deep learning as geometric transformation)",
                   "深度学习可以解释为高维空间中非常复杂的几何变换: every layer moves the data "
                   "points; the model is the composition of these moves, and each must be "
                   "differentiable.");
    PER_CLASS = lab_int("points"), HIDDEN = lab_int("hidden"), STEPS = lab_int("steps");
    double noise = lab_number("noise");
    nd_manual_seed(10);
    nd_tensor *x, *labels;
    two_moons(PER_CLASS, noise, &x, &labels);
    report_para(r,
                "Two interleaved half-moons, %d points each (noise %g, seeded): no straight "
                "line separates them. Net: 2-%d-%d-2 with tanh, cross-entropy loss.",
                PER_CLASS, noise, HIDDEN, HIDDEN);
    mlp m;
    if (train(r, &m, x, labels)) return -1;
    nd_tensor *h1, *h2;
    nd_tensor *logits = forward(&m, x, &h1, &h2);
    double acc = accuracy(logits, labels);
    report_para(r, "Training accuracy: %.1f%%.", 100 * acc);
    lab_check(r, acc >= 0.98, "training accuracy", ">= 98%", "%.1f%%", 100 * acc);

    report_heading(r, "模型的每一层对数据点做一个几何变换 (each layer moves the points)");
    if (input_figure(r, &m, x, labels)) return -1;
    double share1, share2;
    nd_tensor *plane1 = principal_plane(h1, &share1), *plane2 = principal_plane(h2, &share2);
    if (!plane1 || !plane2) return -1;
    char caption[160];
    snprintf(caption, sizeof caption,
             "Layer 1, tanh(W1·x + b1): 16-d, shown on its two principal axes (%.0f%% of the "
             "variance). The plane is bent and stretched.",
             100 * share1);
    if (save(r, scatter("After layer 1", "PC 1", "PC 2", plane1, labels), "geometry_layer1",
             caption))
        return -1;
    snprintf(caption, sizeof caption,
             "Layer 2: the moons are pulled apart (%.0f%% of the variance in these two axes).",
             100 * share2);
    if (save(r, scatter("After layer 2", "PC 1", "PC 2", plane2, labels), "geometry_layer2",
             caption))
        return -1;
    nd_plot *p = scatter("Output logits", "logit 0", "logit 1", logits, labels);
    double lo = nd_item(nd_min(logits, ND_ALL, false)), hi = nd_item(nd_max(logits, ND_ALL, false));
    nd_plot_dashed(p, nd_parse("[-100.0, 100.0]"), nd_parse("[-100.0, 100.0]"),
                   "boundary logit1 = logit0");
    nd_plot_range(p, lo - 0.5, hi + 0.5, lo - 0.5, hi + 0.5);
    return save(r, p, "geometry_logits",
                "Output: a straight line now separates the classes — the last layer is linear.");
}

/* Listed in registry.c, in the chapter's order. */
const lab geometry_lab = {
    .name = "geometry",
    .title = "深度学习 = 几何变换 (deep learning as geometric transformation)",
    .summary = "an MLP separating two moons, the points drawn after each layer",
    .options = options,
    .run = run};
