/* Sums and what is built on them: sum, sum over several dims, mean, variance
 * and standard deviation. Also the planning every reduction shares (reduce.h).
 *
 * Only sum has a kernel and rules of its own; mean, var and std are composites
 * of sum and arithmetic, so their gradients (of any order) come for free. */
#include "reduce.h"

#include <stdlib.h>

/* ------------------------------------------------------------- planning */

/* Fills in what follows from ndim, shape, reduced and keepdim. */
static void finish_plan(nd_reduction *r) {
    r->nreduced = 0;
    r->out_ndim = 0;
    r->count = 1;
    for (int d = 0; d < r->ndim; d++) {
        r->keep_shape[d] = r->reduced[d] ? 1 : r->shape[d];
        if (r->reduced[d]) {
            r->nreduced++;
            r->count *= r->shape[d];
            if (r->keepdim) r->out_shape[r->out_ndim++] = 1;
        } else {
            r->out_shape[r->out_ndim++] = r->shape[d];
        }
    }
}

bool nd__reduction_plan(const char *op, const nd_tensor *t, int n, const int *dims, bool keepdim,
                        nd_reduction *r) {
    r->ndim = t->ndim;
    r->keepdim = keepdim;
    memcpy(r->shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    for (int d = 0; d < t->ndim; d++) r->reduced[d] = dims == NULL;
    for (int k = 0; dims && k < n; k++) {
        int d = nd__wrap_dim(op, dims[k], t->ndim);
        if (d < 0) return false;
        if (t->ndim == 0) continue; /* dim 0 of a 0-d tensor: nothing to reduce */
        if (r->reduced[d]) {
            nd__set_error_as(ND_ERR_SHAPE,
                             "%s: dim %d appears more than once in the list of dims (shape %s)", op,
                             d, nd__tshape(t));
            return false;
        }
        r->reduced[d] = true;
    }
    finish_plan(r);
    return true;
}

int nd__reduction_dims(const nd_reduction *r, int *dims) {
    int n = 0;
    for (int d = 0; d < r->ndim; d++)
        if (r->reduced[d]) dims[n++] = d;
    return n;
}

void nd__reduction_save(const nd_reduction *r, nd_params *p) {
    *p = (nd_params){0};
    p->ndim = r->ndim;
    memcpy(p->shape, r->shape, sizeof(int64_t) * (size_t)r->ndim);
    for (int d = 0; d < r->ndim; d++) p->i[d] = r->reduced[d];
    p->keepdim = r->keepdim;
}

void nd__reduction_load(const nd_params *p, nd_reduction *r) {
    r->ndim = p->ndim;
    memcpy(r->shape, p->shape, sizeof(int64_t) * (size_t)p->ndim);
    for (int d = 0; d < p->ndim; d++) r->reduced[d] = p->i[d] != 0;
    r->keepdim = p->keepdim;
    finish_plan(r);
}

static int64_t product(const int64_t *shape, int from, int to) {
    int64_t n = 1;
    for (int d = from; d < to; d++) n *= shape[d];
    return n;
}

/* When t is contiguous and its reduced dims are neighbours (size-1 dims do not
 * count: they can sit on either side), t already is an (outer, n, inner) block. */
static bool is_block(const nd_tensor *t, const nd_reduction *r, int *first, int *last) {
    if (!t->contiguous) return false;
    *first = *last = -1;
    for (int d = 0; d < r->ndim; d++) {
        if (r->shape[d] == 1 || !r->reduced[d]) continue;
        if (*first < 0) *first = d;
        *last = d;
    }
    for (int d = *first + 1; *first >= 0 && d < *last; d++)
        if (r->shape[d] != 1 && !r->reduced[d]) return false;
    return true;
}

nd_tensor *nd__reduction_input(nd_tensor *t, const nd_reduction *r, int64_t *outer, int64_t *n,
                               int64_t *inner) {
    int first, last;
    if (is_block(t, r, &first, &last)) {
        if (first < 0) { /* nothing to reduce: each output is one element */
            *outer = t->numel, *n = 1, *inner = 1;
        } else {
            *outer = product(r->shape, 0, first);
            *n = product(r->shape, first, last + 1);
            *inner = product(r->shape, last + 1, r->ndim);
        }
        return t;
    }
    /* Otherwise one copy with the kept dims first and the reduced ones last. */
    int64_t shape[ND_MAX_DIMS], strides[ND_MAX_DIMS];
    int k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int d = 0; d < t->ndim; d++)
            if (r->reduced[d] == (pass == 1)) {
                shape[k] = t->shape[d];
                strides[k++] = t->strides[d];
            }
    nd_tensor *view = nd__alias(t, t->ndim, shape, strides, t->offset);
    nd_tensor *copy = view ? nd__empty(t->dtype, t->ndim, shape) : NULL;
    if (!copy || nd__copy_into("reduction", copy, view)) return NULL;
    *n = r->count;
    *outer = product(shape, 0, t->ndim - r->nreduced);
    *inner = 1;
    return copy;
}

nd_tensor *nd__unreduce(nd_tensor *g, const nd_reduction *r, bool expand) {
    if (!g) return NULL;
    nd_tensor *kept = r->keepdim ? g : nd_reshape(g, r->ndim, r->keep_shape);
    return expand ? nd_expand(kept, r->ndim, r->shape) : kept;
}

/* ---------------------------------------------------------- sum kernels */

/* Partial sums kept apart along a row: they pipeline and vectorise, and the
 * order of additions is fixed, so results do not depend on the machine.
 * 64 float lanes are four 512-bit registers. A block of ROW_BLOCK elements is
 * summed in the input's own type (each lane adds only 16 numbers, so floats
 * lose next to nothing), then flushed into the wide accumulators: converting
 * once per block instead of once per element keeps the loop at memory speed. */
#define ROW_LANES 64
#define ROW_BLOCK 1024
/* Columns summed at once across rows: their double accumulators stay in L1. */
#define COL_TILE  1024
#define MAX_SPLIT 64

/* A kernel sums x viewed as (outer, n, inner) over n into out (outer, inner).
 * Floats accumulate in double (a sum of 10^7 ones is exact); integers and bools
 * in int64, as PyTorch. Across rows, eight rows are first added pairwise in the
 * input's own type (GROUP; int64 for integers, which must not wrap): that is 8x
 * less traffic to the accumulators and as accurate as pairwise summation.
 * Threads take rows, column tiles, or parts of one long row. */
// clang-format off
#define DEFINE_SUM(NAME, T, GROUP, ACC, OUT)                                                       \
    static ACC NAME##_row(const T *restrict x, int64_t n) {                                        \
        ACC wide[ROW_LANES] = {0};                                                                 \
        GROUP lane[ROW_LANES];                                                                     \
        int64_t i = 0;                                                                             \
        for (; i + ROW_BLOCK <= n; i += ROW_BLOCK) { /* fixed trip count: fully unrolled */        \
            for (int k = 0; k < ROW_LANES; k++) lane[k] = 0;                                       \
            for (int64_t b = 0; b < ROW_BLOCK; b += ROW_LANES)                                     \
                for (int k = 0; k < ROW_LANES; k++) lane[k] += (GROUP)x[i + b + k];                \
            for (int k = 0; k < ROW_LANES; k++) wide[k] += (ACC)lane[k];                           \
        }                                                                                          \
        for (int k = 0; k < ROW_LANES; k++) lane[k] = 0; /* the last, partial block */             \
        for (; i + ROW_LANES <= n; i += ROW_LANES)                                                 \
            for (int k = 0; k < ROW_LANES; k++) lane[k] += (GROUP)x[i + k];                        \
        for (int k = 0; k < ROW_LANES; k++) wide[k] += (ACC)lane[k];                               \
        /* Lanes added as a tree: short dependency chains, and pairwise-accurate. */               \
        for (int half = ROW_LANES / 2; half >= 1; half /= 2)                                       \
            for (int k = 0; k < half; k++) wide[k] += wide[k + half];                              \
        ACC total = wide[0];                                                                       \
        for (; i < n; i++) total += (ACC)x[i];                                                     \
        return total;                                                                              \
    }                                                                                              \
    static void NAME##_cols(const T *restrict x, int64_t n, int64_t inner, int64_t width,          \
                            OUT *restrict out) {                                                   \
        ACC acc[COL_TILE];                                                                         \
        for (int64_t j = 0; j < width; j++) acc[j] = 0;                                            \
        int64_t i = 0;                                                                             \
        for (; i + 8 <= n; i += 8) { /* eight rows per pass over acc, added pairwise first */      \
            const T *r = x + i * inner;                                                            \
            for (int64_t j = 0; j < width; j++) {                                                  \
                GROUP s = (((GROUP)r[j] + (GROUP)r[j + inner]) +                                   \
                           ((GROUP)r[j + 2 * inner] + (GROUP)r[j + 3 * inner])) +                  \
                          (((GROUP)r[j + 4 * inner] + (GROUP)r[j + 5 * inner]) +                   \
                           ((GROUP)r[j + 6 * inner] + (GROUP)r[j + 7 * inner]));                   \
                acc[j] += (ACC)s;                                                                  \
            }                                                                                      \
        }                                                                                          \
        for (; i < n; i++)                                                                         \
            for (int64_t j = 0; j < width; j++) acc[j] += (ACC)x[i * inner + j];                   \
        for (int64_t j = 0; j < width; j++) out[j] = (OUT)acc[j];                                  \
    }                                                                                              \
    /* Task number `task` of the (block, column tile) pairs. */                                    \
    static void NAME##_tile(const T *x, int64_t n, int64_t inner, int64_t width, int64_t tiles,    \
                            int64_t task, OUT *out) {                                              \
        int64_t o = task / tiles, j0 = task % tiles * width;                                       \
        int64_t w = inner - j0 < width ? inner - j0 : width;                                       \
        NAME##_cols(x + o * n * inner + j0, n, inner, w, out + o * inner + j0);                    \
    }                                                                                              \
    static void NAME(const void *xv, int64_t outer, int64_t n, int64_t inner, void *ov) {          \
        const T *x = xv;                                                                           \
        OUT *out = ov;                                                                             \
        int threads = nd__threads_for(outer * n * inner);                                          \
        if (threads > MAX_SPLIT) threads = MAX_SPLIT;                                              \
        if (inner == 1 && outer < threads) { /* few long rows: split each row */                   \
            for (int64_t o = 0; o < outer; o++) {                                                  \
                ACC part[MAX_SPLIT];                                                               \
                _Pragma("omp parallel for num_threads(threads) schedule(static)")                  \
                for (int t = 0; t < threads; t++) {                                                \
                    int64_t lo = n * t / threads, hi = n * (t + 1) / threads;                      \
                    part[t] = NAME##_row(x + o * n + lo, hi - lo);                                 \
                }                                                                                  \
                ACC total = 0;                                                                     \
                for (int t = 0; t < threads; t++) total += part[t];                                \
                out[o] = (OUT)total;                                                               \
            }                                                                                      \
        } else if (inner == 1 && threads == 1) { /* small: no thread team at all */              \
            for (int64_t o = 0; o < outer; o++) out[o] = (OUT)NAME##_row(x + o * n, n);            \
        } else if (inner == 1) {                                                                   \
            _Pragma("omp parallel for num_threads(threads) schedule(static)")                      \
            for (int64_t o = 0; o < outer; o++) out[o] = (OUT)NAME##_row(x + o * n, n);            \
        } else {                                                                                   \
            int64_t width = COL_TILE;                                                              \
            if (outer < threads) { /* share each block's columns between the threads */           \
                int64_t share = (inner + threads - 1) / threads;                                   \
                share = (share + 15) / 16 * 16;                                                    \
                if (share < width) width = share;                                                  \
            }                                                                                      \
            int64_t tiles = (inner + width - 1) / width;                                           \
            if (threads == 1) {                                                                    \
                for (int64_t task = 0; task < outer * tiles; task++)                               \
                    NAME##_tile(x, n, inner, width, tiles, task, out);                             \
            } else {                                                                               \
                _Pragma("omp parallel for num_threads(threads) schedule(static)")                  \
                for (int64_t task = 0; task < outer * tiles; task++)                               \
                    NAME##_tile(x, n, inner, width, tiles, task, out);                             \
            }                                                                                      \
        }                                                                                          \
    }
// clang-format on

DEFINE_SUM(sum_b8, bool, int64_t, int64_t, int64_t)
DEFINE_SUM(sum_u8, uint8_t, int64_t, int64_t, int64_t)
DEFINE_SUM(sum_i32, int32_t, int64_t, int64_t, int64_t)
DEFINE_SUM(sum_i64, int64_t, int64_t, int64_t, int64_t)
DEFINE_SUM(sum_f32, float, float, double, float)
DEFINE_SUM(sum_f64, double, double, double, double)

typedef void (*sum_kernel)(const void *x, int64_t outer, int64_t n, int64_t inner, void *out);
static const sum_kernel sum_kernels[6] = {sum_b8, sum_u8, sum_i32, sum_i64, sum_f32, sum_f64};

/* ------------------------------------------------------------------- sum */

/* Each input element receives the gradient of the output it was summed into. */
static void sum_vjp(const nd_node *node, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_reduction r;
    nd__reduction_load(&node->p, &r);
    gin[0] = nd__unreduce(g, &r, true);
}
static nd_tensor *sum_jvp(const nd_node *node, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    nd_reduction r;
    nd__reduction_load(&node->p, &r);
    int dims[ND_MAX_DIMS];
    int n = nd__reduction_dims(&r, dims);
    return nd_sum_dims(tin[0], n, dims, r.keepdim); /* sum is linear */
}
static const nd_op SUM = {
    .name = "sum",
    .vjp = sum_vjp,
    .jvp = sum_jvp,
    .flags = 0,
    .vjp_formula = "g broadcast back over the summed dims",
    .jvp_formula = "sum(dx) over the same dims",
};

static nd_tensor *sum_planned(nd_tensor *t, const nd_reduction *r) {
    if (!t) return NULL;
    nd_dtype out_dtype = nd__is_float(t->dtype) ? t->dtype : ND_I64;
    int64_t outer, n, inner;
    nd_tensor *x = nd__reduction_input(t, r, &outer, &n, &inner);
    nd_tensor *out = x ? nd__empty(out_dtype, r->out_ndim, r->out_shape) : NULL;
    if (!out) return NULL;
    if (out->numel > 0) sum_kernels[t->dtype](nd__ptr(x), outer, n, inner, nd__ptr(out));
    if (!nd__needs_record(1, &t)) return out;
    nd_params p;
    nd__reduction_save(r, &p);
    return nd__record(&SUM, out, 1, &t, &p);
}

nd_tensor *nd_sum(nd_tensor *t, int dim, bool keepdim) {
    ND_CHECK("nd_sum", t);
    nd_reduction r;
    bool all = dim == ND_ALL;
    if (!nd__reduction_plan("nd_sum", t, 1, all ? NULL : &dim, keepdim, &r)) return NULL;
    return sum_planned(t, &r);
}

nd_tensor *nd_sum_dims(nd_tensor *t, int n, const int *dims, bool keepdim) {
    ND_CHECK("nd_sum_dims", t);
    if (n < 0 || n > ND_MAX_DIMS || (n > 0 && !dims))
        return nd__fail("nd_sum_dims: %d dims given (expected 0 to %d, and a list)", n,
                        ND_MAX_DIMS);
    nd_reduction r; /* an empty list reduces every dim, as torch.sum(t, dim=[]) */
    if (!nd__reduction_plan("nd_sum_dims", t, n, n > 0 ? dims : NULL, keepdim, &r)) return NULL;
    return sum_planned(t, &r);
}

/* ------------------------------------------------------- mean, var, std */

nd_tensor *nd_mean(nd_tensor *t, int dim, bool keepdim) {
    ND_CHECK("nd_mean", t);
    if (!nd__is_float(t->dtype))
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_mean: could not infer output dtype: the input must be floating "
                           "point, got %s (convert it with nd_to)",
                           nd_dtype_name(t->dtype));
    nd_reduction r;
    if (!nd__reduction_plan("nd_mean", t, 1, dim == ND_ALL ? NULL : &dim, keepdim, &r)) return NULL;
    /* An empty reduction divides 0 by 0: NaN, as PyTorch. */
    return nd_div_scalar(sum_planned(t, &r), (double)r.count);
}

/* Σ(x - mean)² / (n - 1), two passes: the deviations are formed before squaring,
 * which keeps f32 accurate where Σx² - n·mean² would cancel. */
static nd_tensor *unbiased_variance(const char *op, nd_tensor *t, int dim, bool keepdim) {
    if (!nd__is_float(t->dtype))
        return nd__fail_as(ND_ERR_DTYPE,
                           "%s: std and var only support floating-point tensors, got %s (convert "
                           "it with nd_to)",
                           op, nd_dtype_name(t->dtype));
    nd_reduction r, kept;
    const int *dims = dim == ND_ALL ? NULL : &dim;
    if (!nd__reduction_plan(op, t, 1, dims, keepdim, &r) ||
        !nd__reduction_plan(op, t, 1, dims, true, &kept))
        return NULL;
    nd_tensor *mean = nd_div_scalar(sum_planned(t, &kept), (double)r.count);
    nd_tensor *deviation = nd_sub(t, mean);
    nd_tensor *squares = sum_planned(nd_mul(deviation, deviation), &r);
    /* n = 1 gives 0/0 = NaN, as PyTorch (and n = 0 too). */
    double bessel = r.count > 1 ? (double)(r.count - 1) : 0.0;
    return nd_div_scalar(squares, bessel);
}

nd_tensor *nd_var(nd_tensor *t, int dim, bool keepdim) {
    ND_CHECK("nd_var", t);
    return unbiased_variance("nd_var", t, dim, keepdim);
}

/* std = √var, with PyTorch's derivative where the spread is 0 (a constant
 * column is common in real data): 0 there, not 1/(2·0) · 0 = NaN. The
 * division is by 1 at those places, so that no ∞ appears in second
 * derivatives either. */
static nd_tensor *std_derivative(const nd_node *n, nd_tensor *out) {
    (void)n;
    nd_tensor *flat = nd_eq(out, nd_scalar(0, out->dtype));
    nd_tensor *safe = nd_where(flat, nd_scalar(1, out->dtype), out);
    return nd_where(flat, nd_scalar(0, out->dtype), nd_rdiv_scalar(safe, 0.5));
}
static void std_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    gin[0] = nd_mul(g, std_derivative(n, out));
}
static nd_tensor *std_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    return tin[0] ? nd_mul(tin[0], std_derivative(n, out)) : NULL;
}
static const nd_op STD = {
    .name = "std",
    .vjp = std_vjp,
    .jvp = std_jvp,
    .flags = ND_SAVES_OUTPUT | ND_BATCHABLE,
    .vjp_formula = "g/(2y), 0 where y = 0 (the input is the variance)",
    .jvp_formula = "dx/(2y), 0 where y = 0",
};

nd_tensor *nd_std(nd_tensor *t, int dim, bool keepdim) {
    ND_CHECK("nd_std", t);
    nd_tensor *var = unbiased_variance("nd_std", t, dim, keepdim);
    if (!var) return NULL;
    /* sqrt's kernel on a detached var (nothing recorded); the rules are STD's */
    return nd__record(&STD, nd_sqrt(nd_detach(var)), 1, &var, NULL);
}
