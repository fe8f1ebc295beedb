/* Indexing with tensors: index_select (whole slices by a list of indices),
 * gather (one element per index, torch.gather) and masked_select (the
 * elements where a mask is true). These copy. Each gradient scatters g back,
 * adding where an index repeats; the scatter is an op of its own whose
 * gradient is the indexing again, so second derivatives work. */
#include "elementwise.h" /* nd__copy_into */

#include <stdlib.h>

/* One element of es bytes from src to dst (the compiler turns each case into a move). */
static inline void copy_element(char *dst, const char *src, size_t es) {
    switch (es) {
    case 1:
        memcpy(dst, src, 1);
        break;
    case 4:
        memcpy(dst, src, 4);
        break;
    default:
        memcpy(dst, src, 8);
        break;
    }
}

/* dst += src for one float element of dtype (gradients are always float). */
static inline void add_element(nd_dtype dtype, char *dst, const char *src) {
    if (dtype == ND_F32)
        *(float *)dst += *(const float *)src;
    else
        *(double *)dst += *(const double *)src;
}

/* The indices of idx as contiguous int64 values, each checked against size. */
static const int64_t *indices(const char *op, nd_tensor *idx, int dim, int64_t size) {
    if (idx->dtype != ND_I64 && idx->dtype != ND_I32)
        return nd__set_error_as(ND_ERR_DTYPE,
                                "%s: indices must be an int64 or int32 tensor, got %s", op,
                                nd_dtype_name(idx->dtype)),
               NULL;
    nd_tensor *ix = idx->dtype == ND_I64 && idx->contiguous ? idx : nd_to(idx, ND_I64);
    if (!ix) return NULL;
    const int64_t *v = nd__ptr(ix);
    for (int64_t i = 0; i < ix->numel; i++)
        if (v[i] < 0 || v[i] >= size) /* negative indices are refused, as in PyTorch */
            return nd__set_error_as(ND_ERR_INDEX,
                                    "%s: index %lld is out of range for dim %d of size %lld", op,
                                    (long long)v[i], dim, (long long)size),
                   NULL;
    return v;
}

/* ------------------------------------------------------- index_select */

/* A tensor seen as (outer, size, inner) around dim. */
static void split_at(const nd_tensor *t, int dim, int64_t *outer, int64_t *inner) {
    *outer = *inner = 1;
    for (int i = 0; i < dim; i++) *outer *= t->shape[i];
    for (int i = dim + 1; i < t->ndim; i++) *inner *= t->shape[i];
}

static nd_tensor *index_add_zeros(nd_tensor *g, nd_tensor *idx, int dim, int ndim,
                                  const int64_t *shape);

static void index_select_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *in = n->in[0];
    gin[0] = index_add_zeros(g, n->in[1], n->p.dim, in->ndim, in->shape);
}
static nd_tensor *index_select_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return nd_index_select(tin[0], n->p.dim, n->in[1]);
}
/* The rules read the indices (and masks) again: a later in-place change to them
 * must fail the backward pass rather than give a wrong gradient. */
static const nd_op INDEX_SELECT = {
    .name = "index_select",
    .vjp = index_select_vjp,
    .jvp = index_select_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "index_add(zeros of x's shape, dim, index, g)",
    .jvp_formula = "index_select(dx, dim, index)",
};

nd_tensor *nd_index_select(nd_tensor *t, int dim, nd_tensor *idx) {
    ND_CHECK("nd_index_select", t, idx);
    if (t->ndim == 0)
        return nd__fail_as(ND_ERR_SHAPE, "nd_index_select: cannot index a 0-d tensor");
    if (idx->ndim > 1)
        return nd__fail_as(ND_ERR_SHAPE, "nd_index_select: indices must be 1-d, got shape %s",
                           nd__tshape(idx));
    int d = nd__wrap_dim("nd_index_select", dim, t->ndim);
    if (d < 0) return NULL;
    const int64_t *ix = indices("nd_index_select", idx, dim, t->shape[d]);
    nd_tensor *src = ix ? nd__dense("nd_index_select", t, t->dtype) : NULL;
    if (!src) return NULL;
    int64_t shape[ND_MAX_DIMS], outer, inner, count = idx->numel, size = t->shape[d];
    memcpy(shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    shape[d] = count;
    nd_tensor *out = nd__empty(t->dtype, t->ndim, shape);
    if (!out) return NULL;
    split_at(t, d, &outer, &inner);
    size_t es = nd_dtype_size(t->dtype), row = (size_t)inner * es;
    const char *from = nd__ptr(src);
    char *to = nd__ptr(out);
    /* whole rows of `inner` elements move at once */
#pragma omp parallel for collapse(2)                                                               \
    num_threads(nd__threads_for(out->numel)) if (out->numel > ND_PARALLEL_MIN)
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < count; k++)
            memcpy(to + (size_t)(o * count + k) * row, from + (size_t)(o * size + ix[k]) * row,
                   row);
    if (!nd__needs_record(2, (nd_tensor *[]){t, idx})) return out;
    nd_params p = {.dim = d};
    return nd__record(&INDEX_SELECT, out, 2, (nd_tensor *[]){t, idx}, &p);
}

/* zeros(shape) with g's rows added at idx along dim (index_add): where an
 * index_select's gradient comes from. Its own gradient is index_select. */
static void index_add_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    gin[0] = nd_index_select(g, n->p.dim, n->in[1]);
}
static nd_tensor *index_add_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return index_add_zeros(tin[0], n->in[1], n->p.dim, n->p.ndim, n->p.shape);
}
static const nd_op INDEX_ADD = {
    .name = "index_select_backward",
    .vjp = index_add_vjp,
    .jvp = index_add_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "index_select(gg, dim, index)",
    .jvp_formula = "index_add(zeros, dim, index, dg)",
};

static nd_tensor *index_add_zeros(nd_tensor *g, nd_tensor *idx, int dim, int ndim,
                                  const int64_t *shape) {
    if (!g) return NULL;
    if (!nd__is_float(g->dtype))
        return nd__fail_as(ND_ERR_DTYPE, "index_select_backward: gradients must be float, got %s",
                           nd_dtype_name(g->dtype));
    nd_tensor *out = nd__zeros(g->dtype, ndim, shape);
    const int64_t *ix = out ? indices("index_select_backward", idx, dim, shape[dim]) : NULL;
    nd_tensor *src = ix ? nd__dense("index_select_backward", g, g->dtype) : NULL;
    if (!src) return NULL;
    int64_t outer, inner, count = idx->numel, size = shape[dim];
    split_at(out, dim, &outer, &inner);
    size_t es = nd_dtype_size(g->dtype);
    const char *from = nd__ptr(src);
    char *to = nd__ptr(out);
    /* rows of different o never meet; a repeated index adds twice into one row */
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < count; k++)
            for (int64_t j = 0; j < inner; j++)
                add_element(g->dtype, to + (size_t)((o * size + ix[k]) * inner + j) * es,
                            from + (size_t)((o * count + k) * inner + j) * es);
    nd_params p = {.dim = dim, .ndim = ndim};
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)ndim);
    return nd__record(&INDEX_ADD, out, 2, (nd_tensor *[]){g, idx}, &p);
}

/* ------------------------------------------------------------- gather */

/* out[i][j][k] = t[i][idx[i][j][k]][k] for dim 1: the position of an index
 * element says where to read in every dim but `dim`, its value says where in
 * `dim`. A 0-d tensor counts as one element along dim 0. */
static bool gather_shapes_fit(const char *op, const nd_tensor *t, const nd_tensor *idx, int dim) {
    if (idx->ndim != t->ndim) {
        nd__set_error_as(ND_ERR_SHAPE,
                         "%s: indices of shape %s and a tensor of shape %s must have the same "
                         "number of dims",
                         op, nd__tshape(idx), nd__tshape(t));
        return false;
    }
    for (int i = 0; i < t->ndim; i++)
        if (i != dim && idx->shape[i] > t->shape[i]) {
            nd__set_error_as(
                ND_ERR_SHAPE,
                "%s: indices of shape %s are larger than the tensor of shape %s at dim "
                "%d",
                op, nd__tshape(idx), nd__tshape(t), i);
            return false;
        }
    return true;
}

/* Runs BODY for every element of idx in C order, with `i` its position in idx
 * and `at` the element offset it points to in a tensor with `strides`: the
 * position gives every dim but `dim`, the index value gives `dim`. */
#define FOR_EACH_GATHERED(idx_tensor, ix, dim, strides, base, BODY)                                \
    do {                                                                                           \
        int64_t pos_[ND_MAX_DIMS] = {0};                                                           \
        int nd_ = (idx_tensor)->ndim;                                                              \
        for (int64_t i_ = 0; i_ < (idx_tensor)->numel; i_++) {                                     \
            int64_t at = (base);                                                                   \
            for (int d_ = 0; d_ < nd_; d_++)                                                       \
                at += (d_ == (dim) ? (ix)[i_] : pos_[d_]) * (strides)[d_];                         \
            int64_t i = i_;                                                                        \
            BODY;                                                                                  \
            for (int d_ = nd_ - 1; d_ >= 0 && ++pos_[d_] == (idx_tensor)->shape[d_]; d_--)         \
                pos_[d_] = 0;                                                                      \
        }                                                                                          \
    } while (0)

static nd_tensor *gather_add_zeros(nd_tensor *g, nd_tensor *idx, int dim, int ndim,
                                   const int64_t *shape);

static void gather_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *in = n->in[0];
    gin[0] = gather_add_zeros(g, n->in[1], n->p.dim, in->ndim, in->shape);
}
static nd_tensor *gather_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return nd_gather(tin[0], n->p.dim, n->in[1]);
}
static const nd_op GATHER = {
    .name = "gather",
    .vjp = gather_vjp,
    .jvp = gather_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "scatter_add(zeros of x's shape, dim, index, g)",
    .jvp_formula = "gather(dx, dim, index)",
};

nd_tensor *nd_gather(nd_tensor *t, int dim, nd_tensor *idx) {
    ND_CHECK("nd_gather", t, idx);
    int d = nd__wrap_dim("nd_gather", dim, t->ndim);
    if (d < 0 || !gather_shapes_fit("nd_gather", t, idx, d)) return NULL;
    const int64_t *ix = indices("nd_gather", idx, dim, t->ndim ? t->shape[d] : 1);
    nd_tensor *out = ix ? nd__empty(t->dtype, idx->ndim, idx->shape) : NULL;
    if (!out) return NULL;
    size_t es = nd_dtype_size(t->dtype);
    const char *from = t->storage->data;
    char *to = nd__ptr(out);
    FOR_EACH_GATHERED(idx, ix, d, t->strides, t->offset,
                      copy_element(to + (size_t)i * es, from + (size_t)at * es, es));
    if (!nd__needs_record(2, (nd_tensor *[]){t, idx})) return out;
    nd_params p = {.dim = d};
    return nd__record(&GATHER, out, 2, (nd_tensor *[]){t, idx}, &p);
}

/* zeros(shape) with g added where gather read (scatter_add): where a gather's
 * gradient comes from. Its own gradient is gather. */
static void gather_add_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    gin[0] = nd_gather(g, n->p.dim, n->in[1]);
}
static nd_tensor *gather_add_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return gather_add_zeros(tin[0], n->in[1], n->p.dim, n->p.ndim, n->p.shape);
}
static const nd_op GATHER_ADD = {
    .name = "gather_backward",
    .vjp = gather_add_vjp,
    .jvp = gather_add_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "gather(gg, dim, index)",
    .jvp_formula = "scatter_add(zeros, dim, index, dg)",
};

static nd_tensor *gather_add_zeros(nd_tensor *g, nd_tensor *idx, int dim, int ndim,
                                   const int64_t *shape) {
    if (!g) return NULL;
    if (!nd__is_float(g->dtype))
        return nd__fail_as(ND_ERR_DTYPE, "gather_backward: gradients must be float, got %s",
                           nd_dtype_name(g->dtype));
    nd_tensor *out = nd__zeros(g->dtype, ndim, shape);
    const int64_t *ix = out ? indices("gather_backward", idx, dim, ndim ? shape[dim] : 1) : NULL;
    nd_tensor *src = ix ? nd__dense("gather_backward", g, g->dtype) : NULL;
    if (!src) return NULL;
    size_t es = nd_dtype_size(g->dtype);
    const char *from = nd__ptr(src);
    char *to = nd__ptr(out);
    FOR_EACH_GATHERED(idx, ix, dim, out->strides, 0,
                      add_element(g->dtype, to + (size_t)at * es, from + (size_t)i * es));
    nd_params p = {.dim = dim, .ndim = ndim};
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)ndim);
    return nd__record(&GATHER_ADD, out, 2, (nd_tensor *[]){g, idx}, &p);
}

/* ------------------------------------------------------ masked_select */

static nd_tensor *masked_scatter_zeros(nd_tensor *g, nd_tensor *mask);

/* n->in[1] is the mask already broadcast (contiguous): the gradient goes back
 * to the broadcast shape and the engine sums it down to the input's. */
static void masked_select_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    gin[0] = masked_scatter_zeros(g, n->in[1]);
}
static nd_tensor *masked_select_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return nd_masked_select(tin[0], n->in[1]);
}
static const nd_op MASKED_SELECT = {
    .name = "masked_select",
    .vjp = masked_select_vjp,
    .jvp = masked_select_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "zeros of x's shape with g where mask",
    .jvp_formula = "masked_select(dx, mask)",
};

/* A contiguous copy of t broadcast to (ndim, shape), or t when it already is one. */
static nd_tensor *dense_broadcast(const char *op, nd_tensor *t, int ndim, const int64_t *shape) {
    if (t->contiguous && t->ndim == ndim &&
        memcmp(t->shape, shape, sizeof(int64_t) * (size_t)ndim) == 0)
        return t;
    nd_tensor *copy = nd__empty(t->dtype, ndim, shape);
    return copy && nd__copy_into(op, copy, t) == 0 ? copy : NULL;
}

nd_tensor *nd_masked_select(nd_tensor *t, nd_tensor *mask) {
    ND_CHECK("nd_masked_select", t, mask);
    if (mask->dtype != ND_BOOL)
        return nd__fail_as(ND_ERR_DTYPE, "nd_masked_select: the mask must be a bool tensor, got %s",
                           nd_dtype_name(mask->dtype));
    int ndim;
    int64_t shape[ND_MAX_DIMS];
    if (!nd__broadcast_shape("nd_masked_select", t->ndim, t->shape, mask->ndim, mask->shape, &ndim,
                             shape))
        return NULL;
    nd_tensor *values = dense_broadcast("nd_masked_select", t, ndim, shape);
    nd_tensor *bits = values ? dense_broadcast("nd_masked_select", mask, ndim, shape) : NULL;
    if (!bits) return NULL;
    const bool *keep = nd__ptr(bits);
    int64_t count = 0;
    for (int64_t i = 0; i < bits->numel; i++) count += keep[i];
    nd_tensor *out = nd__empty(t->dtype, 1, &count);
    if (!out) return NULL;
    size_t es = nd_dtype_size(t->dtype);
    const char *from = nd__ptr(values);
    char *to = nd__ptr(out);
    for (int64_t i = 0, k = 0; i < bits->numel; i++)
        if (keep[i]) copy_element(to + (size_t)k++ * es, from + (size_t)i * es, es);
    if (!nd__needs_record(1, &t)) return out;
    return nd__record(&MASKED_SELECT, out, 2, (nd_tensor *[]){t, bits}, NULL);
}

/* zeros(mask.shape) with g's elements placed where mask is true, in order:
 * where a masked_select's gradient comes from. Its own gradient is masked_select. */
static void masked_scatter_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    gin[0] = nd_masked_select(g, n->in[1]);
}
static nd_tensor *masked_scatter_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return masked_scatter_zeros(tin[0], n->in[1]);
}
static const nd_op MASKED_SCATTER = {
    .name = "masked_select_backward",
    .vjp = masked_scatter_vjp,
    .jvp = masked_scatter_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "masked_select(gg, mask)",
    .jvp_formula = "zeros with dg where mask",
};

/* mask is contiguous bool with exactly g->numel true elements (made by nd_masked_select). */
static nd_tensor *masked_scatter_zeros(nd_tensor *g, nd_tensor *mask) {
    if (!g) return NULL;
    nd_tensor *out = nd__zeros(g->dtype, mask->ndim, mask->shape);
    nd_tensor *src = out ? nd__dense("masked_select_backward", g, g->dtype) : NULL;
    if (!src) return NULL;
    const bool *keep = nd__ptr(mask);
    size_t es = nd_dtype_size(g->dtype);
    const char *from = nd__ptr(src);
    char *to = nd__ptr(out);
    for (int64_t i = 0, k = 0; i < mask->numel && k < src->numel; i++)
        if (keep[i]) copy_element(to + (size_t)i * es, from + (size_t)k++ * es, es);
    return nd__record(&MASKED_SCATTER, out, 2, (nd_tensor *[]){g, mask}, NULL);
}
