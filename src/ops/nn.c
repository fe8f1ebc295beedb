/* Neural-network pieces: the linear layer, the two losses of a first course
 * (mean squared error, cross-entropy) and the L2 penalty.
 *
 * The layer and the losses are single ops with their own rules rather than
 * chains of primitives: a training step spends most of its small-tensor time
 * in op overhead, and one op instead of three or five is what makes a tiny
 * network train fast.
 * Their VJPs and JVPs are still written with nd ops (so second derivatives
 * work), except when nothing records the backward pass (the usual first-order
 * case): then one fused loop computes the gradient. */
#include "elementwise.h"
#include "gemm_kernel.h"

#ifndef ND_NO_BLAS
#include <cblas.h>
#endif
#include <limits.h>
#include <math.h>

/* -------------------------------------------------------------- helpers */

/* t in dtype, contiguous (t itself when it already is). */
static nd_tensor *dense(nd_tensor *t, nd_dtype dtype) {
    if (t->dtype != dtype) t = nd_to(t, dtype);
    if (t && !t->contiguous) t = nd_contiguous(t);
    return t;
}

/* True when a rule's result will be recorded (create_graph, or tangents in
 * flight): it must then be built from nd ops. */
static bool rule_records(nd_tensor *a, nd_tensor *b, nd_tensor *c) {
    return nd__needs_record(3, (nd_tensor *[]){a, b, c});
}

/* ----------------------------------------------------------------- linear */

/* x·wᵀ + b for x (..., in), w (out, in), b (out,) or NULL: torch.nn.functional.linear.
 * One op rather than transpose + matmul + add: the bias is written into the
 * output and BLAS adds the product to it (beta = 1), and backward needs no
 * reduction pass for the bias' broadcast. Integer tensors take the composite
 * route (matmul has an integer loop; BLAS has none). */

/* C (m × n, contiguous) = op(A)·op(B) + beta·C, row-major. */
static void gemm(nd_dtype dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                 const void *A, int64_t lda, const void *B, int64_t ldb, double beta, void *C) {
    if (m == 0 || n == 0) return;
    if (k == 0) { /* an empty sum: BLAS rejects lda = 0, and C is just beta·C */
        if (beta == 0) memset(C, 0, (size_t)(m * n) * nd_dtype_size(dtype));
        return;
    }
#ifdef ND_NO_BLAS /* nd's own kernel (gemm_kernel.c) */
    if (dtype == ND_F32)
        nd__gemm_f32(trans_a, trans_b, m, n, k, A, lda, B, ldb, (float)beta, C, n);
    else
        nd__gemm_f64(trans_a, trans_b, m, n, k, A, lda, B, ldb, beta, C, n);
#else
    CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
    CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
    if (dtype == ND_F32)
        cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, 1.0f, A, (int)lda, B, (int)ldb,
                    (float)beta, C, (int)n);
    else
        cblas_dgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, 1.0, A, (int)lda, B, (int)ldb,
                    beta, C, (int)n);
#endif
}

/* The rows of x as a matrix (rows × in): the product of its leading dims. */
static int64_t leading_rows(const nd_tensor *x) {
    int64_t rows = 1;
    for (int d = 0; d < x->ndim - 1; d++) rows *= x->shape[d];
    return rows;
}

/* Column sums of G (rows × cols) into out: the bias' gradient. */
#define COLUMN_SUMS(name, T)                                                                       \
    static void name(int64_t rows, int64_t cols, const T *G, T *out) {                             \
        for (int64_t c = 0; c < cols; c++) out[c] = 0;                                             \
        for (int64_t r = 0; r < rows; r++)                                                         \
            for (int64_t c = 0; c < cols; c++) out[c] += G[r * cols + c];                          \
    }
COLUMN_SUMS(column_sums_f32, float)
COLUMN_SUMS(column_sums_f64, double)

static void linear_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *x = n->in[0], *w = n->in[1], *b = n->nin > 2 ? n->in[2] : NULL;
    int64_t rows = leading_rows(x), in = w->shape[1], outf = w->shape[0];
    if (rule_records(x, w, g)) { /* with nd ops, so that it can be differentiated again */
        if (x->requires_grad) gin[0] = nd_matmul(g, w);
        if (w->requires_grad)
            gin[1] = nd_matmul(nd_t(nd_reshape(g, ND_SHAPE(rows, outf))),
                               nd_reshape(x, ND_SHAPE(rows, in)));
        if (b && b->requires_grad) gin[2] = g; /* the engine sums the broadcast rows */
        return;
    }
    nd_dtype dt = w->dtype;
    nd_tensor *G = dense(g, dt);
    if (!G) return;
    if (x->requires_grad) { /* G·W */
        nd_tensor *W = dense(w, dt), *gx = nd__empty(dt, x->ndim, x->shape);
        if (!W || !gx) return;
        gemm(dt, false, false, rows, in, outf, nd__ptr(G), outf, nd__ptr(W), in, 0, nd__ptr(gx));
        gin[0] = gx;
    }
    if (w->requires_grad) { /* Gᵀ·X */
        nd_tensor *X = dense(x, dt), *gw = nd__empty(dt, 2, w->shape);
        if (!X || !gw) return;
        gemm(dt, true, false, outf, in, rows, nd__ptr(G), outf, nd__ptr(X), in, 0, nd__ptr(gw));
        gin[1] = gw;
    }
    if (b && b->requires_grad) {
        nd_tensor *gb = nd__empty(dt, 1, b->shape);
        if (!gb) return;
        if (dt == ND_F32)
            column_sums_f32(rows, outf, nd__ptr(G), nd__ptr(gb));
        else
            column_sums_f64(rows, outf, nd__ptr(G), nd__ptr(gb));
        gin[2] = gb;
    }
}

/* d(x·wᵀ + b) = dx·wᵀ + x·dwᵀ + db */
static nd_tensor *linear_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    nd_tensor *x = n->in[0], *w = n->in[1];
    nd_tensor *t = nd__tangent_sum(tin[0] ? nd_matmul(tin[0], nd_t(w)) : NULL,
                                   tin[1] ? nd_matmul(x, nd_t(tin[1])) : NULL);
    return n->nin > 2 ? nd__tangent_sum(t, tin[2]) : t;
}

/* x is read for w's gradient, w for x's; the bias never */
static const nd_op LINEAR = {"linear", linear_vjp, linear_jvp,
                             ND_SAVES_INPUTS | ND_READS_0_FOR_1 | ND_READS_1_FOR_0};

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
    nd_tensor *X = dense(x, dt), *W = dense(w, dt), *B = b ? dense(b, dt) : NULL;
    nd_tensor *out = nd__empty(dt, x->ndim, shape);
    if (!X || !W || (b && !B) || !out) return NULL;
    size_t row_bytes = (size_t)outf * nd_dtype_size(dt);
    for (int64_t r = 0; B && r < rows; r++) /* BLAS then adds X·Wᵀ onto the bias */
        memcpy((char *)nd__ptr(out) + (size_t)r * row_bytes, nd__ptr(B), row_bytes);
    gemm(dt, false, true, rows, outf, in, nd__ptr(X), in, nd__ptr(W), in, B ? 1.0 : 0.0,
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

/* d/dpred = 2(pred − target)·g/N, one loop. */
#define MSE_GRAD(name, T)                                                                          \
    static void name(int64_t n, const T *p, const T *t, T scale, T *out) {                         \
        for (int64_t i = 0; i < n; i++) out[i] = scale * (p[i] - t[i]);                            \
    }
MSE_GRAD(mse_grad_f32, float)
MSE_GRAD(mse_grad_f64, double)

static void mse_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *pred = n->in[0], *target = n->in[1];
    double two_over_n = 2.0 / (double)pred->numel;
    nd_tensor *grad;
    if (!rule_records(pred, target, g)) {
        nd_dtype dt = nd__float_dtype(nd_promote_types(pred->dtype, target->dtype));
        nd_tensor *p = dense(pred, dt), *t = dense(target, dt);
        grad = p && t ? nd__empty(dt, pred->ndim, pred->shape) : NULL;
        if (!grad) return;
        double scale = two_over_n * nd_item(g);
        if (dt == ND_F32)
            mse_grad_f32(grad->numel, nd__ptr(p), nd__ptr(t), (float)scale, nd__ptr(grad));
        else
            mse_grad_f64(grad->numel, nd__ptr(p), nd__ptr(t), scale, nd__ptr(grad));
    } else {
        grad = nd_mul(nd_sub(pred, target), nd_mul_scalar(g, two_over_n));
    }
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

static const nd_op MSE_LOSS = {"mse_loss", mse_vjp, mse_jvp, ND_SAVES_INPUTS};

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
    nd_tensor *p = dense(pred, dt), *t = dense(target, dt);
    if (!out || !p || !t) return NULL;
    double sum = dt == ND_F32 ? squared_error_f32(p->numel, nd__ptr(p), nd__ptr(t))
                              : squared_error_f64(p->numel, nd__ptr(p), nd__ptr(t));
    nd__store(dt, nd__ptr(out), sum / (double)p->numel); /* NaN for no elements, as PyTorch */
    return nd__record(&MSE_LOSS, out, 2, (nd_tensor *[]){pred, target}, NULL);
}

/* --------------------------------------------------------- cross-entropy */

/* Σ over rows of logsumexp(row) − row[label], with the row's max subtracted
 * first so that logits of ±1000 neither overflow nor lose the answer. */
#define CROSS_ENTROPY_SUM(name, T)                                                                 \
    static double name(int64_t rows, int64_t classes, const T *x, const int64_t *labels) {         \
        double total = 0;                                                                          \
        for (int64_t r = 0; r < rows; r++) {                                                       \
            const T *row = x + r * classes;                                                        \
            double max = row[0], sum = 0;                                                          \
            for (int64_t c = 1; c < classes; c++) max = row[c] > max ? row[c] : max;               \
            for (int64_t c = 0; c < classes; c++) sum += exp((double)row[c] - max);                \
            total += max + log(sum) - (double)row[labels[r]];                                      \
        }                                                                                          \
        return total;                                                                              \
    }
CROSS_ENTROPY_SUM(cross_entropy_f32, float)
CROSS_ENTROPY_SUM(cross_entropy_f64, double)

/* d/dlogits = (softmax − onehot)·scale, one pass per row. */
#define CROSS_ENTROPY_GRAD(name, T)                                                                \
    static void name(int64_t rows, int64_t classes, const T *x, const int64_t *labels,             \
                     double scale, T *out) {                                                       \
        for (int64_t r = 0; r < rows; r++) {                                                       \
            const T *row = x + r * classes;                                                        \
            T *grad = out + r * classes;                                                           \
            double max = row[0], sum = 0;                                                          \
            for (int64_t c = 1; c < classes; c++) max = row[c] > max ? row[c] : max;               \
            for (int64_t c = 0; c < classes; c++) sum += exp((double)row[c] - max);                \
            double factor = scale / sum;                                                           \
            for (int64_t c = 0; c < classes; c++)                                                  \
                grad[c] = (T)(exp((double)row[c] - max) * factor);                                 \
            grad[labels[r]] = (T)((double)grad[labels[r]] - scale);                                \
        }                                                                                          \
    }
CROSS_ENTROPY_GRAD(cross_entropy_grad_f32, float)
CROSS_ENTROPY_GRAD(cross_entropy_grad_f64, double)

/* The one-hot rows of the labels, shaped and typed like the logits. */
static nd_tensor *one_hot_like(nd_tensor *logits, nd_tensor *labels) {
    nd_tensor *hot = nd__zeros(logits->dtype, logits->ndim, logits->shape);
    nd_tensor *lab = dense(labels, ND_I64);
    if (!hot || !lab) return NULL;
    int64_t classes = logits->shape[logits->ndim - 1];
    const int64_t *l = nd__ptr(lab);
    char *h = nd__ptr(hot);
    size_t size = nd_dtype_size(hot->dtype);
    for (int64_t r = 0; r < lab->numel; r++)
        nd__store(hot->dtype, h + (size_t)(r * classes + l[r]) * size, 1.0);
    return hot;
}

static int64_t rows_of(const nd_tensor *logits) {
    return logits->ndim == 2 ? logits->shape[0] : 1;
}

static void cross_entropy_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *logits = n->in[0], *labels = n->in[1];
    double inv_rows = 1.0 / (double)rows_of(logits);
    if (!rule_records(logits, g, NULL)) {
        nd_tensor *x = dense(logits, logits->dtype), *lab = dense(labels, ND_I64);
        nd_tensor *grad = x && lab ? nd__empty(x->dtype, x->ndim, x->shape) : NULL;
        if (!grad) return;
        int64_t rows = rows_of(x), classes = x->shape[x->ndim - 1];
        double scale = nd_item(g) * inv_rows;
        if (x->dtype == ND_F32)
            cross_entropy_grad_f32(rows, classes, nd__ptr(x), nd__ptr(lab), scale, nd__ptr(grad));
        else
            cross_entropy_grad_f64(rows, classes, nd__ptr(x), nd__ptr(lab), scale, nd__ptr(grad));
        gin[0] = grad;
        return;
    }
    nd_tensor *residual = nd_sub(nd_softmax(logits, -1), one_hot_like(logits, labels));
    gin[0] = nd_mul(residual, nd_mul_scalar(g, inv_rows));
}

/* d loss = Σ (softmax − onehot)·dlogits / N */
static nd_tensor *cross_entropy_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    nd_tensor *logits = n->in[0];
    nd_tensor *residual = nd_sub(nd_softmax(logits, -1), one_hot_like(logits, n->in[1]));
    return nd_div_scalar(nd_sum(nd_mul(residual, tin[0]), ND_ALL, false), (double)rows_of(logits));
}

static const nd_op CROSS_ENTROPY = {"cross_entropy", cross_entropy_vjp, cross_entropy_jvp,
                                    ND_SAVES_INPUTS};

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
    nd_tensor *x = dense(logits, logits->dtype), *lab = dense(labels, ND_I64);
    if (!out || !x || !lab) return NULL;
    int64_t rows = rows_of(x), classes = x->shape[x->ndim - 1];
    double total = x->dtype == ND_F32 ? cross_entropy_f32(rows, classes, nd__ptr(x), nd__ptr(lab))
                                      : cross_entropy_f64(rows, classes, nd__ptr(x), nd__ptr(lab));
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
