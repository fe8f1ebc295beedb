/* log Σ exp, softmax and log-softmax along a dim, computed stably: the largest
 * element of each slice is subtracted before exponentiating, so exp never
 * overflows (softmax([1000, 0]) = [1, 0]) and the log never sees 0 for a finite
 * input (log_softmax([1000, 0]) = [0, -1000]).
 *
 * Each is one kernel with its own rules, written with nd ops so that they can
 * themselves be differentiated:
 *   logsumexp:   d lse = Σ softmax(x) · dx
 *   softmax:     dy = y · (dx - Σ y·dx)
 *   log_softmax: dy = dx - Σ softmax(x)·dx */
#include "reduce.h"

#include <math.h>

/* ---------------------------------------------------------------- kernel */

/* One slice: n elements `stride` apart, result in y (one value for LOGSUMEXP,
 * n values `stride` apart otherwise). Exponentials of f32 are taken in float and
 * summed in double. A NaN anywhere makes the slice NaN. logsumexp shifts by 0
 * when the maximum is infinite, so that Σ exp(x - max) does not become inf - inf:
 * lse([inf, 1]) = inf and lse([-inf, -inf]) = -inf, as PyTorch. Softmax keeps
 * the shift and, like PyTorch, gives NaN for those slices. */
#define DEFINE_SLICE(NAME, T, EXP, LOG)                                                            \
    static void NAME(const T *restrict x, int64_t n, int64_t stride, nd_softmax_mode mode,         \
                     T *restrict y) {                                                              \
        T top = -INFINITY;                                                                         \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T v = x[i * stride];                                                                   \
            if (v > top || v != v) top = v;                                                        \
            if (top != top) break;                                                                 \
        }                                                                                          \
        T shift = mode == ND_LOGSUMEXP && isinf(top) ? 0 : top;                                    \
        double total = 0;                                                                          \
        if (mode == ND_SOFTMAX) {                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T e = EXP(x[i * stride] - shift);                                                  \
                y[i * stride] = e;                                                                 \
                total += e;                                                                        \
            }                                                                                      \
            T scale = (T)(1.0 / total);                                                            \
            for (int64_t i = 0; i < n; i++) y[i * stride] *= scale;                                \
            return;                                                                                \
        }                                                                                          \
        for (int64_t i = 0; i < n; i++) total += EXP(x[i * stride] - shift);                       \
        T log_total = (T)LOG(total);                                                               \
        if (mode == ND_LOGSUMEXP) {                                                                \
            *y = log_total + shift;                                                                \
            return;                                                                                \
        }                                                                                          \
        for (int64_t i = 0; i < n; i++) y[i * stride] = (x[i * stride] - shift) - log_total;       \
    }

DEFINE_SLICE(slice_f32, float, expf, log)
DEFINE_SLICE(slice_f64, double, exp, log)

/* Slice number s of the outer·inner slices of x. */
static void run_slice(const char *xp, int64_t n, int64_t inner, nd_softmax_mode mode, char *yp,
                      nd_dtype dtype, int64_t s) {
    int64_t first = s / inner * n * inner + s % inner;
    size_t esize = nd_dtype_size(dtype);
    char *out = yp + (size_t)(mode == ND_LOGSUMEXP ? s : first) * esize;
    if (dtype == ND_F32)
        slice_f32((const float *)xp + first, n, inner, mode, (float *)out);
    else
        slice_f64((const double *)xp + first, n, inner, mode, (double *)out);
}

/* Runs every slice of x, a contiguous (outer, n, inner) block; y is laid out
 * like x, or (outer, inner) for ND_LOGSUMEXP. */
void nd__softmax_slices(nd_tensor *x, int64_t outer, int64_t n, int64_t inner, nd_softmax_mode mode,
                        nd_tensor *y) {
    int64_t slices = outer * inner;
    int threads = nd__threads_for(outer * n * inner);
    const char *xp = nd__ptr(x);
    char *yp = nd__ptr(y);
    if (threads == 1) { /* small: no thread team at all */
        for (int64_t s = 0; s < slices; s++) run_slice(xp, n, inner, mode, yp, x->dtype, s);
        return;
    }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t s = 0; s < slices; s++) run_slice(xp, n, inner, mode, yp, x->dtype, s);
}

/* t contiguous (copied once when it is not), as the (outer, n, inner) block
 * around dim; every dim when all. */
static nd_tensor *as_block(nd_tensor *t, int dim, bool all, int64_t *outer, int64_t *n,
                           int64_t *inner) {
    *outer = *n = *inner = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (all || d == dim)
            *n *= t->shape[d];
        else if (d < dim)
            *outer *= t->shape[d];
        else
            *inner *= t->shape[d];
    }
    if (t->contiguous) return t;
    nd_tensor *copy = nd__empty(t->dtype, t->ndim, t->shape);
    if (!copy || nd__copy_into("softmax", copy, t)) return NULL;
    return copy;
}

/* ------------------------------------------------------------- shared rules */

/* The op's output as a rule should use it: the saved one, unless the input
 * carries a tangent (forward over reverse), which only a recomputation from
 * the input passes on. */
static nd_tensor *output_for_rule(const nd_node *node, nd_tensor *out,
                                  nd_tensor *(*recompute)(const nd_node *)) {
    if (out && !node->in[0]->tangent) return out;
    return recompute(node);
}

/* Each node keeps its dim in p.dim, wrapped, or ND_ALL along every dim
 * (logsumexp's ND_ALL, or a 0-d input), and logsumexp's keepdim in p.keepdim. */

/* Σ along the op's dim, kept as size 1 so that it broadcasts back. */
static nd_tensor *sum_along(nd_tensor *t, const nd_node *node) {
    return nd_sum(t, node->p.dim, true);
}

/* ------------------------------------------------------------- logsumexp */

static nd_tensor *recompute_logsumexp(const nd_node *node) {
    return nd_logsumexp(node->in[0], node->p.dim, node->p.keepdim);
}

/* softmax(x) = exp(x - lse), with lse's reduced dims back as size 1. */
static nd_tensor *logsumexp_softmax(const nd_node *node, nd_tensor *out, nd_reduction *r) {
    int dim = node->p.dim;
    if (!nd__reduction_plan("nd_logsumexp", node->in[0], 1, dim == ND_ALL ? NULL : &dim,
                            node->p.keepdim, r))
        return NULL;
    nd_tensor *lse = nd__unreduce(output_for_rule(node, out, recompute_logsumexp), r, false);
    return nd_exp(nd_sub(node->in[0], lse));
}

static void logsumexp_vjp(const nd_node *node, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    nd_reduction r;
    nd_tensor *softmax = logsumexp_softmax(node, out, &r);
    if (softmax) gin[0] = nd_mul(nd__unreduce(g, &r, false), softmax);
}

static nd_tensor *logsumexp_jvp(const nd_node *node, nd_tensor *out, nd_tensor *const *tin) {
    nd_reduction r;
    nd_tensor *softmax = logsumexp_softmax(node, out, &r);
    if (!softmax) return NULL;
    int dims[ND_MAX_DIMS];
    int n = nd__reduction_dims(&r, dims);
    return nd_sum_dims(nd_mul(tin[0], softmax), n, dims, r.keepdim);
}
static const nd_op LOGSUMEXP_OP = {
    .name = "logsumexp",
    .vjp = logsumexp_vjp,
    .jvp = logsumexp_jvp,
    .flags = ND_SAVES_INPUTS | ND_SAVES_OUTPUT,
    .vjp_formula = "g·softmax(x)",
    .jvp_formula = "Σ softmax(x)·dx",
};

nd_tensor *nd_logsumexp(nd_tensor *t, int dim, bool keepdim) {
    ND_CHECK("nd_logsumexp", t);
    if (!nd__is_float(t->dtype)) t = nd_to(t, ND_F32); /* integers: as PyTorch */
    bool all = dim == ND_ALL;
    nd_reduction r;
    if (!t || !nd__reduction_plan("nd_logsumexp", t, 1, all ? NULL : &dim, keepdim, &r))
        return NULL;
    int d = all || t->ndim == 0 ? 0 : nd__wrap_dim("nd_logsumexp", dim, t->ndim);
    int64_t outer, n, inner;
    nd_tensor *x = as_block(t, d, all, &outer, &n, &inner);
    nd_tensor *out = x ? nd__empty(t->dtype, r.out_ndim, r.out_shape) : NULL;
    if (!out) return NULL;
    if (out->numel > 0) nd__softmax_slices(x, outer, n, inner, ND_LOGSUMEXP, out);
    nd_params p = {.dim = all ? ND_ALL : d, .keepdim = keepdim};
    return nd__record(&LOGSUMEXP_OP, out, 1, &t, &p);
}

/* ------------------------------------------------------ softmax, log_softmax */

static nd_tensor *recompute_softmax(const nd_node *node) {
    return nd_softmax(node->in[0], node->p.dim);
}
static nd_tensor *recompute_log_softmax(const nd_node *node) {
    return nd_log_softmax(node->in[0], node->p.dim);
}

static void softmax_vjp(const nd_node *node, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    nd_tensor *y = output_for_rule(node, out, recompute_softmax);
    gin[0] = nd_mul(y, nd_sub(g, sum_along(nd_mul(g, y), node)));
}
static nd_tensor *softmax_jvp(const nd_node *node, nd_tensor *out, nd_tensor *const *tin) {
    nd_tensor *y = output_for_rule(node, out, recompute_softmax);
    return nd_mul(y, nd_sub(tin[0], sum_along(nd_mul(tin[0], y), node)));
}
static const nd_op SOFTMAX_OP = {
    .name = "softmax",
    .vjp = softmax_vjp,
    .jvp = softmax_jvp,
    .flags = ND_SAVES_INPUTS | ND_SAVES_OUTPUT,
    .vjp_formula = "y·(g − Σ g·y)",
    .jvp_formula = "y·(dx − Σ y·dx)",
};

static void log_softmax_vjp(const nd_node *node, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    nd_tensor *probabilities = nd_exp(output_for_rule(node, out, recompute_log_softmax));
    gin[0] = nd_sub(g, nd_mul(probabilities, sum_along(g, node)));
}
static nd_tensor *log_softmax_jvp(const nd_node *node, nd_tensor *out, nd_tensor *const *tin) {
    nd_tensor *probabilities = nd_exp(output_for_rule(node, out, recompute_log_softmax));
    return nd_sub(tin[0], sum_along(nd_mul(probabilities, tin[0]), node));
}
static const nd_op LOG_SOFTMAX_OP = {
    .name = "log_softmax",
    .vjp = log_softmax_vjp,
    .jvp = log_softmax_jvp,
    .flags = ND_SAVES_INPUTS | ND_SAVES_OUTPUT,
    .vjp_formula = "g − exp(y)·Σ g",
    .jvp_formula = "dx − Σ exp(y)·dx",
};

static nd_tensor *normalise(const char *op, const nd_op *rule, nd_softmax_mode mode, nd_tensor *t,
                            int dim) {
    ND_CHECK(op, t);
    if (!nd__is_float(t->dtype))
        return nd__fail_as(ND_ERR_DTYPE,
                           "%s: expected a floating-point tensor, got %s (convert it with nd_to)",
                           op, nd_dtype_name(t->dtype));
    int d = nd__wrap_dim(op, dim, t->ndim);
    if (d < 0) return NULL;
    if (t->ndim == 0) d = 0;
    int64_t outer, n, inner;
    nd_tensor *x = as_block(t, d, t->ndim == 0, &outer, &n, &inner);
    nd_tensor *out = x ? nd__empty(t->dtype, t->ndim, t->shape) : NULL;
    if (!out) return NULL;
    if (out->numel > 0) nd__softmax_slices(x, outer, n, inner, mode, out);
    nd_params p = {.dim = t->ndim == 0 ? ND_ALL : d};
    return nd__record(rule, out, 1, &t, &p);
}

nd_tensor *nd_softmax(nd_tensor *t, int dim) {
    return normalise("nd_softmax", &SOFTMAX_OP, ND_SOFTMAX, t, dim);
}
nd_tensor *nd_log_softmax(nd_tensor *t, int dim) {
    return normalise("nd_log_softmax", &LOG_SOFTMAX_OP, ND_LOG_SOFTMAX, t, dim);
}
