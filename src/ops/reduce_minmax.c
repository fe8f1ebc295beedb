/* Maximum and minimum over a dim (or every dim), and the positions where they
 * are: nd_max, nd_min, nd_argmax, nd_argmin.
 *
 * As PyTorch: a NaN wins (the result is NaN, its index that of the first NaN),
 * ties go to the first occurrence, and reducing an empty dim is an error (the
 * maximum of nothing has no value). The gradient of max over a dim flows to the
 * element that was selected, as torch.max(t, dim); over every dim it is shared
 * evenly between the tied elements, as torch.max(t). */
#include "reduce.h"

#include <math.h>

/* ---------------------------------------------------------------- kernel */

/* Over x viewed as (outer, n, inner): the best of the n elements `inner` apart,
 * for each of the outer·inner outputs, and its index. The outputs themselves
 * hold the best so far, so the loop over a block's columns vectorises. A NaN
 * (v != v) is better than anything, and nothing replaces it. */
#define DEFINE_EXTREME(NAME, T, BETTER)                                                            \
    static void NAME##_block(const T *restrict x, int64_t n, int64_t inner, T *restrict best,      \
                             int64_t *restrict where) {                                            \
        for (int64_t j = 0; j < inner; j++) {                                                      \
            best[j] = x[j];                                                                        \
            where[j] = 0;                                                                          \
        }                                                                                          \
        for (int64_t i = 1; i < n; i++) {                                                          \
            const T *row = x + i * inner;                                                          \
            for (int64_t j = 0; j < inner; j++) {                                                  \
                T v = row[j], b = best[j];                                                         \
                if (b == b && (BETTER(v, b) || v != v)) {                                          \
                    best[j] = v;                                                                   \
                    where[j] = i;                                                                  \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void NAME(const void *xv, int64_t outer, int64_t n, int64_t inner, void *bv,            \
                     int64_t *where) {                                                             \
        const T *x = xv;                                                                           \
        T *best = bv;                                                                              \
        int threads = nd__threads_for(outer * n * inner);                                          \
        if (threads == 1 || outer == 1) {                                                          \
            for (int64_t o = 0; o < outer; o++)                                                    \
                NAME##_block(x + o * n * inner, n, inner, best + o * inner, where + o * inner);    \
            return;                                                                                \
        }                                                                                          \
        _Pragma("omp parallel for num_threads(threads) schedule(static)") for (int64_t o = 0;      \
                                                                               o < outer; o++)     \
            NAME##_block(x + o * n * inner, n, inner, best + o * inner, where + o * inner);        \
    }

#define GREATER(v, b) ((v) > (b))
#define LESS(v, b)    ((v) < (b))

// clang-format off
DEFINE_EXTREME(max_b8, bool, GREATER)
DEFINE_EXTREME(max_u8, uint8_t, GREATER)
DEFINE_EXTREME(max_i32, int32_t, GREATER)
DEFINE_EXTREME(max_i64, int64_t, GREATER)
DEFINE_EXTREME(max_f32, float, GREATER)
DEFINE_EXTREME(max_f64, double, GREATER)
DEFINE_EXTREME(min_b8, bool, LESS)
DEFINE_EXTREME(min_u8, uint8_t, LESS)
DEFINE_EXTREME(min_i32, int32_t, LESS)
DEFINE_EXTREME(min_i64, int64_t, LESS)
DEFINE_EXTREME(min_f32, float, LESS)
DEFINE_EXTREME(min_f64, double, LESS)
// clang-format on

typedef void (*extreme_kernel)(const void *x, int64_t outer, int64_t n, int64_t inner, void *best,
                               int64_t *where);
static const extreme_kernel max_kernels[6] = {max_b8, max_u8, max_i32, max_i64, max_f32, max_f64};
static const extreme_kernel min_kernels[6] = {min_b8, min_u8, min_i32, min_i64, min_f32, min_f64};

typedef struct {
    const char *op;    /* the public name, for messages */
    bool is_max;       /* max or min */
    nd_reduction plan; /* which dims */
    bool all;          /* over every dim (dim = ND_ALL) */
    int dim;           /* the dim, when not all */
} extreme_call;

/* Computes the values (shaped as the result) and indices (shaped as the input
 * with the reduced dims as size 1). */
static bool run_extreme(nd_tensor *t, int dim, bool keepdim, extreme_call *c, nd_tensor **values,
                        nd_tensor **indices) {
    c->all = dim == ND_ALL;
    if (!nd__reduction_plan(c->op, t, 1, c->all ? NULL : &dim, keepdim, &c->plan)) return false;
    c->dim = c->all || t->ndim == 0 ? 0 : nd__wrap_dim(c->op, dim, t->ndim);
    if (c->plan.count == 0) {
        if (c->all)
            nd__set_error_as(ND_ERR_SHAPE,
                             "%s: cannot reduce an empty tensor (shape %s) over every dim: the "
                             "result would have no value; give a dim",
                             c->op, nd__tshape(t));
        else
            nd__set_error_as(ND_ERR_SHAPE,
                             "%s: cannot reduce over dim %d of size 0 (shape %s): the result would "
                             "have no value",
                             c->op, c->dim, nd__tshape(t));
        return false;
    }
    int64_t outer, n, inner;
    nd_tensor *x = nd__reduction_input(t, &c->plan, &outer, &n, &inner);
    *values = x ? nd__empty(t->dtype, c->plan.out_ndim, c->plan.out_shape) : NULL;
    *indices = *values ? nd__empty(ND_I64, c->plan.ndim, c->plan.keep_shape) : NULL;
    if (!*indices) return false;
    if ((*values)->numel > 0)
        (c->is_max ? max_kernels : min_kernels)[t->dtype](nd__ptr(x), outer, n, inner,
                                                          nd__ptr(*values), nd__ptr(*indices));
    return true;
}

/* ------------------------------------------------------ gradient rules */

/* Where the gradient goes, as a bool tensor shaped like the input. Over a dim:
 * the selected element of each slice (the saved indices against 0..n-1 along
 * the dim). Over every dim: each element equal to the result (a NaN result
 * selects the NaNs). *share receives how many elements split one gradient. */
static nd_tensor *selected(const nd_node *node, const nd_reduction *r, double *share) {
    nd_tensor *x = node->in[0];
    *share = 1;
    if (node->p.dim == ND_ALL) { /* one result for the whole tensor */
        double value = node->p.f[0];
        nd_tensor *mask = isnan(value) ? nd_ne(x, x) : nd_eq(x, nd_scalar(value, x->dtype));
        *share = nd_item(nd_sum(mask, ND_ALL, false));
        return mask;
    }
    int dim = node->p.dim;
    int64_t along[ND_MAX_DIMS];
    for (int d = 0; d < r->ndim; d++) along[d] = d == dim ? r->shape[d] : 1;
    nd_tensor *positions =
        nd_reshape(nd_arange(0, (double)r->shape[dim], 1, ND_I64), r->ndim, along);
    return nd_eq(node->in[1], positions);
}

static void extreme_vjp(const nd_node *node, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_reduction r;
    nd__reduction_load(&node->p, &r);
    double share;
    nd_tensor *mask = selected(node, &r, &share);
    nd_tensor *spread = nd__unreduce(share == 1 ? g : nd_div_scalar(g, share), &r, false);
    gin[0] = nd_where(mask, spread, nd_scalar(0, g->dtype));
}

static nd_tensor *extreme_jvp(const nd_node *node, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    nd_reduction r;
    nd__reduction_load(&node->p, &r);
    double share;
    nd_tensor *mask = selected(node, &r, &share);
    nd_tensor *picked = nd_where(mask, tin[0], nd_scalar(0, tin[0]->dtype));
    int dims[ND_MAX_DIMS];
    int n = nd__reduction_dims(&r, dims);
    nd_tensor *total = nd_sum_dims(picked, n, dims, r.keepdim);
    return share == 1 ? total : nd_div_scalar(total, share);
}

static const nd_op MAX = {
    .name = "max",
    .vjp = extreme_vjp,
    .jvp = extreme_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "g shared evenly among the maximal elements",
    .jvp_formula = "mean of dx over the maximal elements",
};
static const nd_op MIN = {
    .name = "min",
    .vjp = extreme_vjp,
    .jvp = extreme_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "g shared evenly among the minimal elements",
    .jvp_formula = "mean of dx over the minimal elements",
};

static nd_tensor *extreme_value(const char *op, bool is_max, nd_tensor *t, int dim, bool keepdim) {
    ND_CHECK(op, t);
    extreme_call c = {.op = op, .is_max = is_max};
    nd_tensor *values, *indices;
    if (!run_extreme(t, dim, keepdim, &c, &values, &indices)) return NULL;
    if (!nd__needs_record(1, &t)) return values;
    nd_params p;
    nd__reduction_save(&c.plan, &p);
    bool whole = c.all || t->ndim == 0; /* one result for the whole tensor */
    p.dim = whole ? ND_ALL : c.dim;
    p.f[0] = whole ? nd_item(values) : 0; /* the extreme value, to find its elements */
    const nd_op *rule = is_max ? &MAX : &MIN;
    if (whole) return nd__record(rule, values, 1, &t, &p);
    /* The indices ride along as a second input: they need no gradient. */
    return nd__record(rule, values, 2, (nd_tensor *[]){t, indices}, &p);
}

static nd_tensor *extreme_index(const char *op, bool is_max, nd_tensor *t, int dim, bool keepdim) {
    ND_CHECK(op, t);
    extreme_call c = {.op = op, .is_max = is_max};
    nd_tensor *values, *indices;
    if (!run_extreme(t, dim, keepdim, &c, &values, &indices)) return NULL;
    if (nd__same_shape(indices, values)) return indices;
    return nd__alias(indices, c.plan.out_ndim, c.plan.out_shape, values->strides, 0);
}

nd_tensor *nd_max(nd_tensor *t, int dim, bool keepdim) {
    return extreme_value("nd_max", true, t, dim, keepdim);
}
nd_tensor *nd_min(nd_tensor *t, int dim, bool keepdim) {
    return extreme_value("nd_min", false, t, dim, keepdim);
}
nd_tensor *nd_argmax(nd_tensor *t, int dim, bool keepdim) {
    return extreme_index("nd_argmax", true, t, dim, keepdim);
}
nd_tensor *nd_argmin(nd_tensor *t, int dim, bool keepdim) {
    return extreme_index("nd_argmin", false, t, dim, keepdim);
}
