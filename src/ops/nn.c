/* Neural-network pieces: the linear layer, the two losses of a first course
 * (mean squared error, cross-entropy) and the L2 penalty.
 *
 * The layer and the losses are single ops with their own rules rather than
 * chains of primitives: a training step spends most of its small-tensor time
 * in op overhead, and one op instead of three or five is what makes a tiny
 * network train fast.
 * Each has one VJP. Linear's is two products (BLAS already fuses them). The
 * losses' gradients are one loop each, run as an op of its own
 * (mse_loss_backward, cross_entropy_backward) whose rules are written with nd ops:
 * the first-order step costs one loop, and second derivatives still work. */
#include "reduce.h" /* nd__softmax_slices */

#include <limits.h>
#include <math.h>

/* ----------------------------------------------------------------- linear */

/* x·wᵀ + b for x (..., in), w (out, in), b (out,) or NULL: torch.nn.functional.linear.
 * One op rather than transpose + matmul + add: the bias is written into the
 * output and BLAS adds the product to it (beta = 1). Integer tensors take the
 * composite route (matmul has an integer loop; BLAS has none). */

/* The rows of x as a matrix (rows × in): the product of its leading dims. */
static int64_t leading_rows(const nd_tensor *x) {
    int64_t rows = 1;
    for (int d = 0; d < x->ndim - 1; d++) rows *= x->shape[d];
    return rows;
}

/* dx = g·w, dw = gᵀ·x (rows of g and x as matrices), db = g summed over the
 * rows (by the engine, which sums a broadcast input's gradient back). Two
 * products, each one BLAS call through nd_matmul (a transposed view is read
 * as such, not copied), and themselves differentiable. */
static void linear_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *x = n->in[0], *w = n->in[1], *b = n->nin > 2 ? n->in[2] : NULL;
    int64_t rows = leading_rows(x), in = w->shape[1], outf = w->shape[0];
    if (x->requires_grad) gin[0] = nd_matmul(g, w);
    if (w->requires_grad)
        gin[1] =
            nd_matmul(nd_t(nd_reshape(g, ND_SHAPE(rows, outf))), nd_reshape(x, ND_SHAPE(rows, in)));
    if (b && b->requires_grad) gin[2] = g;
}

/* d(x·wᵀ + b) = dx·wᵀ + x·dwᵀ + db */
static nd_tensor *linear_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    nd_tensor *x = n->in[0], *w = n->in[1];
    nd_tensor *t = nd__tangent_sum(tin[0] ? nd_matmul(tin[0], nd_t(w)) : NULL,
                                   tin[1] ? nd_matmul(x, nd_t(tin[1])) : NULL);
    /* db alone is the bias's shape */
    return nd__tangent_like(n->nin > 2 ? nd__tangent_sum(t, tin[2]) : t, out);
}

/* x is read for w's gradient, w for x's; the bias never */
static const nd_op LINEAR = {
    .name = "linear",
    .vjp = linear_vjp,
    .jvp = linear_jvp,
    .flags = ND_SAVES_INPUTS | ND_READS_0_FOR_1 | ND_READS_1_FOR_0,
    .vjp_formula = "gx = g·w, gw = gᵀ·x, gb = Σ_rows g",
    .jvp_formula = "dx·wᵀ + x·dwᵀ + db",
};

/* The fused kernel takes floats and sizes BLAS can index. */
static bool linear_fusable(const nd_tensor *x, const nd_tensor *w) {
    if (!nd__is_float(w->dtype)) return false;
    return leading_rows(x) <= INT_MAX && w->shape[0] <= INT_MAX && w->shape[1] <= INT_MAX;
}

nd_tensor *nd_linear(nd_tensor *x, nd_tensor *w, nd_tensor *b) {
    ND_CHECK("nd_linear", x, w);
    if (w->ndim != 2)
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_linear: the weight must be 2-D (out, in), got shape %s",
                           nd__tshape(w));
    if (x->ndim < 1 || x->shape[x->ndim - 1] != w->shape[1])
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_linear: input of shape %s does not end in the weight's in-features "
                           "%lld (weight shape %s)",
                           nd__tshape(x), (long long)w->shape[1], nd__tshape(w));
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_linear: bias of shape %s does not match the weight's out-features "
                           "(expected (%lld,), weight shape %s)",
                           nd__tshape(b), (long long)w->shape[0], nd__tshape(w));
    if (x->dtype != w->dtype || (b && b->dtype != w->dtype))
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_linear: input, weight and bias must have one dtype (as in PyTorch), "
                           "got %s, %s and %s; convert with nd_to",
                           nd_dtype_name(x->dtype), nd_dtype_name(w->dtype),
                           b ? nd_dtype_name(b->dtype) : "no bias");
    if (!linear_fusable(x, w)) { /* integers: matmul's own loop */
        nd_tensor *y = nd_matmul(x, nd_t(w));
        return b ? nd_add(y, b) : y;
    }
    nd_dtype dt = w->dtype;
    int64_t rows = leading_rows(x), in = w->shape[1], outf = w->shape[0];
    int64_t shape[ND_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = outf;
    nd_tensor *X = nd__dense("nd_linear", x, dt), *W = nd__dense("nd_linear", w, dt),
              *B = b ? nd__dense("nd_linear", b, dt) : NULL;
    nd_tensor *out = nd__empty(dt, x->ndim, shape);
    if (!X || !W || (b && !B) || !out) return NULL;
    /* Every row starts as the bias (BLAS then adds X·Wᵀ onto it): one row
     * copied, then what is filled doubled, log₂(rows) copies rather than one
     * per row (a call each, and a call into JavaScript in the browser). */
    size_t row_bytes = (size_t)outf * nd_dtype_size(dt), total = (size_t)rows * row_bytes;
    char *o = nd__ptr(out);
    if (B && total) memcpy(o, nd__ptr(B), row_bytes);
    for (size_t filled = row_bytes; B && filled < total;) {
        size_t n = filled < total - filled ? filled : total - filled;
        memcpy(o + filled, o, n);
        filled += n;
    }
    nd__gemm(dt, false, true, rows, outf, in, nd__ptr(X), in, nd__ptr(W), in, B ? 1.0 : 0.0,
             nd__ptr(out));
    return nd__record(&LINEAR, out, b ? 3 : 2, (nd_tensor *[]){x, w, b}, NULL);
}

/* ------------------------------------------------------------------- mse */

/* mean((pred − target)²), summed in double. */
#define SQUARED_ERROR_SUM(name, T)                                                                 \
    static double name(int64_t n, const T *p, const T *t) {                                        \
        double sum = 0;                                                                            \
        for (int64_t i = 0; i < n; i++) {                                                          \
            double d = (double)p[i] - (double)t[i];                                                \
            sum += d * d;                                                                          \
        }                                                                                          \
        return sum;                                                                                \
    }
SQUARED_ERROR_SUM(squared_error_f32, float)
SQUARED_ERROR_SUM(squared_error_f64, double)

/* 2(pred − target)·s, one loop. */
#define MSE_GRAD(name, T)                                                                          \
    static void name(int64_t n, const T *p, const T *t, T scale, T *out) {                         \
        for (int64_t i = 0; i < n; i++) out[i] = scale * (p[i] - t[i]);                            \
    }
MSE_GRAD(mse_grad_f32, float)
MSE_GRAD(mse_grad_f64, double)

static nd_tensor *mse_backward(nd_tensor *pred, nd_tensor *target, nd_tensor *g);

/* mse_backward(p, t, g) = (p − t)·2g/N is linear in g and in p − t:
 *   d/dp = gg·2g/N, d/dt = −gg·2g/N, d/dg = Σ gg·(p − t)·2/N = Σ gg·mse_backward(p, t, 1) */
static void mse_backward_vjp(const nd_node *n, nd_tensor *out, nd_tensor *gg, nd_tensor **gin) {
    (void)out;
    nd_tensor *pred = n->in[0], *target = n->in[1], *g = n->in[2];
    nd_tensor *scaled = nd_mul(gg, nd_mul_scalar(g, 2.0 / (double)pred->numel));
    if (pred->requires_grad) gin[0] = scaled;
    if (target->requires_grad) gin[1] = nd_neg(scaled);
    if (g->requires_grad)
        gin[2] =
            nd_sum(nd_mul(gg, mse_backward(pred, target, nd_scalar(1.0, g->dtype))), ND_ALL, false);
}
static nd_tensor *mse_backward_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    nd_tensor *pred = n->in[0], *target = n->in[1], *g = n->in[2];
    nd_tensor *d = nd__tangent_sub(tin[0], tin[1]); /* dtarget alone: target's shape */
    return nd__tangent_like(
        nd__tangent_sum(d ? nd_mul(d, nd_mul_scalar(g, 2.0 / (double)pred->numel)) : NULL,
                        tin[2] ? mse_backward(pred, target, tin[2]) : NULL),
        out);
}
static const nd_op MSE_BACKWARD = {
    .name = "mse_loss_backward",
    .vjp = mse_backward_vjp,
    .jvp = mse_backward_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "gp = gg·2g/N, gt = −gp, gg' = Σ gg·(p − t)·2/N",
    .jvp_formula = "(dp − dt)·2g/N + (p − t)·2dg/N",
};

/* d mse / d pred for the output gradient g (0-d): (pred − target)·2g/N. */
static nd_tensor *mse_backward(nd_tensor *pred, nd_tensor *target, nd_tensor *g) {
    if (!pred || !target || !g) return NULL;
    nd_dtype dt = nd__float_dtype(nd_promote_types(pred->dtype, target->dtype));
    nd_tensor *p = nd__dense("mse_loss_backward", pred, dt),
              *t = nd__dense("mse_loss_backward", target, dt);
    nd_tensor *grad = p && t ? nd__empty(dt, pred->ndim, pred->shape) : NULL;
    if (!grad) return NULL;
    double scale = 2.0 / (double)pred->numel * nd_item(g);
    if (dt == ND_F32)
        mse_grad_f32(grad->numel, nd__ptr(p), nd__ptr(t), (float)scale, nd__ptr(grad));
    else
        mse_grad_f64(grad->numel, nd__ptr(p), nd__ptr(t), scale, nd__ptr(grad));
    return nd__record(&MSE_BACKWARD, grad, 3, (nd_tensor *[]){pred, target, g}, NULL);
}

static void mse_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *pred = n->in[0], *target = n->in[1];
    nd_tensor *grad = mse_backward(pred, target, g);
    if (pred->requires_grad) gin[0] = grad;
    if (target->requires_grad) gin[1] = nd_neg(grad);
}

/* d loss = 2/N · Σ (pred − target)·(dpred − dtarget) */
static nd_tensor *mse_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    nd_tensor *diff = nd_sub(n->in[0], n->in[1]);
    nd_tensor *tangent = nd__tangent_sub(tin[0], tin[1]);
    return nd_mul_scalar(nd_sum(nd_mul(diff, tangent), ND_ALL, false),
                         2.0 / (double)n->in[0]->numel);
}

static const nd_op MSE_LOSS = {
    .name = "mse_loss",
    .vjp = mse_vjp,
    .jvp = mse_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "mse_loss_backward(p, t, g) = (p − t)·2g/N; gt = −that",
    .jvp_formula = "Σ (p − t)·(dp − dt)·2/N",
};

nd_tensor *nd_mse_loss(nd_tensor *pred, nd_tensor *target) {
    ND_CHECK("nd_mse_loss", pred, target);
    if (!nd__same_shape(pred, target))
        return nd__fail_as(
            ND_ERR_SHAPE,
            "nd_mse_loss: pred of shape %s and target of shape %s must have the same "
            "shape (reshape one of them: broadcasting them is a common silent bug)",
            nd__tshape(pred), nd__tshape(target));
    nd_dtype dt = nd_promote_types(pred->dtype, target->dtype);
    if (!nd__is_float(dt))
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_mse_loss: pred and target must be floating point, got %s and %s",
                           nd_dtype_name(pred->dtype), nd_dtype_name(target->dtype));
    nd_tensor *out = nd__empty(dt, 0, NULL);
    nd_tensor *p = nd__dense("nd_mse_loss", pred, dt), *t = nd__dense("nd_mse_loss", target, dt);
    if (!out || !p || !t) return NULL;
    double sum = dt == ND_F32 ? squared_error_f32(p->numel, nd__ptr(p), nd__ptr(t))
                              : squared_error_f64(p->numel, nd__ptr(p), nd__ptr(t));
    nd__store(dt, nd__ptr(out), sum / (double)p->numel); /* NaN for no elements, as PyTorch */
    return nd__record(&MSE_LOSS, out, 2, (nd_tensor *[]){pred, target}, NULL);
}

/* --------------------------------------------------------- cross-entropy */

/* Rows of logits: N for (N, C), 1 for (C,). */
static int64_t rows_of(const nd_tensor *logits) {
    return logits->ndim == 2 ? logits->shape[0] : 1;
}

static nd_tensor *cross_entropy_backward(nd_tensor *logits, nd_tensor *labels, nd_tensor *g);

/* y = (softmax(x) − onehot)·s with s = g/N, per row. Linear in g, and the
 * softmax's rule in x:
 *   d/dx = s·p·(gg − Σ_row p·gg), p = softmax(x)
 *   d/dg = Σ gg·(p − onehot)/N = Σ gg·cross_entropy_backward(x, labels, 1) */
static void cross_entropy_backward_vjp(const nd_node *n, nd_tensor *out, nd_tensor *gg,
                                       nd_tensor **gin) {
    (void)out;
    nd_tensor *logits = n->in[0], *labels = n->in[1], *g = n->in[2];
    if (logits->requires_grad) {
        nd_tensor *p = nd_softmax(logits, -1);
        nd_tensor *s = nd_div_scalar(g, (double)rows_of(logits));
        gin[0] = nd_mul(nd_mul(p, nd_sub(gg, nd_sum(nd_mul(gg, p), -1, true))), s);
    }
    if (g->requires_grad)
        gin[2] =
            nd_sum(nd_mul(gg, cross_entropy_backward(logits, labels, nd_scalar(1.0, g->dtype))),
                   ND_ALL, false);
}
static nd_tensor *cross_entropy_backward_jvp(const nd_node *n, nd_tensor *out,
                                             nd_tensor *const *tin) {
    (void)out;
    nd_tensor *logits = n->in[0], *labels = n->in[1], *g = n->in[2];
    nd_tensor *dx = NULL;
    if (tin[0]) {
        nd_tensor *p = nd_softmax(logits, -1);
        nd_tensor *s = nd_div_scalar(g, (double)rows_of(logits));
        dx = nd_mul(nd_mul(p, nd_sub(tin[0], nd_sum(nd_mul(tin[0], p), -1, true))), s);
    }
    return nd__tangent_sum(dx, tin[2] ? cross_entropy_backward(logits, labels, tin[2]) : NULL);
}
static const nd_op CROSS_ENTROPY_BACKWARD = {
    .name = "cross_entropy_backward",
    .vjp = cross_entropy_backward_vjp,
    .jvp = cross_entropy_backward_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "gx = g/N·p·(gg − Σ_row p·gg), p = softmax(x); gg' = Σ gg·(p − onehot)/N",
    .jvp_formula = "g/N·p·(dx − Σ_row p·dx) + (p − onehot)·dg/N",
};

/* d cross_entropy / d logits for the output gradient g (0-d): per row
 * (softmax(row) − onehot(label))·g/N, the softmax from softmax.c's kernel. */
static nd_tensor *cross_entropy_backward(nd_tensor *logits, nd_tensor *labels, nd_tensor *g) {
    if (!logits || !labels || !g) return NULL;
    nd_tensor *x = nd__dense("cross_entropy_backward", logits, logits->dtype),
              *lab = nd__dense("cross_entropy_backward", labels, ND_I64);
    nd_tensor *grad = x && lab ? nd__empty(x->dtype, x->ndim, x->shape) : NULL;
    if (!grad) return NULL;
    int64_t rows = rows_of(x), classes = x->shape[x->ndim - 1];
    double scale = nd_item(g) / (double)rows;
    if (grad->numel > 0) nd__softmax_slices(x, rows, classes, 1, ND_SOFTMAX, grad);
    const int64_t *l = nd__ptr(lab);
    if (x->dtype == ND_F32) {
        float *o = nd__ptr(grad), s = (float)scale;
        for (int64_t i = 0; i < grad->numel; i++) o[i] *= s;
        for (int64_t r = 0; r < rows; r++) o[r * classes + l[r]] -= s;
    } else {
        double *o = nd__ptr(grad);
        for (int64_t i = 0; i < grad->numel; i++) o[i] *= scale;
        for (int64_t r = 0; r < rows; r++) o[r * classes + l[r]] -= scale;
    }
    return nd__record(&CROSS_ENTROPY_BACKWARD, grad, 3, (nd_tensor *[]){logits, labels, g}, NULL);
}

static void cross_entropy_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    gin[0] = cross_entropy_backward(n->in[0], n->in[1], g);
}

/* d loss = Σ (softmax − onehot)·dlogits / N */
static nd_tensor *cross_entropy_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    nd_tensor *one = nd_scalar(1.0, n->in[0]->dtype);
    (void)out;
    return nd_sum(nd_mul(cross_entropy_backward(n->in[0], n->in[1], one), tin[0]), ND_ALL, false);
}

static const nd_op CROSS_ENTROPY = {
    .name = "cross_entropy",
    .vjp = cross_entropy_vjp,
    .jvp = cross_entropy_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "cross_entropy_backward(x, labels, g) = (softmax(x) − onehot)·g/N",
    .jvp_formula = "Σ (softmax(x) − onehot)·dx / N",
};

static bool labels_valid(nd_tensor *logits, nd_tensor *labels) {
    if (!nd__is_float(logits->dtype))
        return nd__fail_as(ND_ERR_DTYPE, "nd_cross_entropy: logits must be floating point, got %s",
                           nd_dtype_name(logits->dtype)),
               false;
    if (labels->dtype == ND_BOOL || nd__is_float(labels->dtype))
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_cross_entropy: labels must be integer class indices (ND_I64), got "
                           "%s labels",
                           nd_dtype_name(labels->dtype)),
               false;
    bool batched = logits->ndim == 2;
    if ((logits->ndim != 1 && !batched) || labels->ndim != (batched ? 1 : 0) ||
        (batched && labels->shape[0] != logits->shape[0]))
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_cross_entropy: expected logits (N, C) and labels (N,), or logits "
                           "(C,) and a 0-d label; got logits %s and labels %s",
                           nd__tshape(logits), nd__tshape(labels)),
               false;
    int64_t classes = logits->shape[logits->ndim - 1];
    for (int64_t r = 0; r < labels->numel; r++) {
        double label = nd__get_flat(labels, r);
        if (label < 0 || label >= (double)classes)
            return nd__fail_as(ND_ERR_INDEX,
                               "nd_cross_entropy: label %g at row %lld is out of range for %lld "
                               "classes (logits %s)",
                               label, (long long)r, (long long)classes, nd__tshape(logits)),
                   false;
    }
    return true;
}

nd_tensor *nd_cross_entropy(nd_tensor *logits, nd_tensor *labels) {
    ND_CHECK("nd_cross_entropy", logits, labels);
    if (!labels_valid(logits, labels)) return NULL;
    nd_tensor *out = nd__empty(logits->dtype, 0, NULL);
    nd_tensor *x = nd__dense("nd_cross_entropy", logits, logits->dtype),
              *lab = nd__dense("nd_cross_entropy", labels, ND_I64);
    if (!out || !x || !lab) return NULL;
    /* −Σ over rows of log_softmax(row)[label], as PyTorch (nll_loss of
     * log_softmax): softmax.c's kernel subtracts the row's max before
     * exponentiating, so logits of ±1000 neither overflow nor lose the answer. */
    int64_t rows = rows_of(x), classes = x->shape[x->ndim - 1];
    nd_tensor *logp = nd__empty(x->dtype, x->ndim, x->shape);
    if (!logp) return NULL;
    if (x->numel > 0) nd__softmax_slices(x, rows, classes, 1, ND_LOG_SOFTMAX, logp);
    const int64_t *l = nd__ptr(lab);
    double total = 0;
    for (int64_t r = 0; r < rows; r++) total -= nd__get_flat(logp, r * classes + l[r]);
    nd__store(out->dtype, nd__ptr(out), total / (double)rows); /* NaN for no rows, as PyTorch */
    return nd__record(&CROSS_ENTROPY, out, 2, (nd_tensor *[]){logits, labels}, NULL);
}

/* ------------------------------------------------------------ l2 penalty */

/* λ/2·Σ‖w‖²: weight decay written as a term of the loss (d/dw = λ·w). */
nd_tensor *nd_l2_penalty(int n, nd_tensor *const *ws, double lambda) {
    if (n < 0 || (n > 0 && !ws))
        return nd__fail("nd_l2_penalty: expected n >= 0 tensors, got n = %d%s", n,
                        ws ? "" : " and no array");
    if (n == 0) return nd_scalar(0.0, ND_F32);
    nd_tensor *total = NULL;
    for (int i = 0; i < n; i++) {
        if (!ws[i]) return nd__null_input("nd_l2_penalty");
        nd_tensor *sq = nd_sum(nd_square(ws[i]), ND_ALL, false);
        total = total ? nd_add(total, sq) : sq;
    }
    return nd_mul_scalar(total, lambda / 2.0);
}
