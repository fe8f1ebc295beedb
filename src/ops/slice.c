/* Slicing: t[start:stop:step] along one dim and t[..., index, ...], both views
 * (negative steps give negative strides, as NumPy). Their gradients scatter g
 * back into zeros of the input's shape; that scatter is an op of its own
 * ("slice_backward") whose gradient is a slice again, so second derivatives
 * work through slices too. */
#include "elementwise.h" /* nd__copy_into */

/* A slice in normal form: the first index taken, how many, and the step. */
typedef struct {
    int dim;
    int64_t start, length, step;
} range;

/* Python's slice.indices(): negative bounds count from the end, bounds past
 * either end are clamped, ND_END is an omitted bound (the end, or the
 * beginning when stepping backwards). */
static range normalise(int dim, int64_t size, int64_t start, int64_t stop, int64_t step) {
    range r = {.dim = dim, .step = step};
    if (step > 0) {
        if (start == ND_END)
            start = 0;
        else if (start < 0)
            start = start + size < 0 ? 0 : start + size;
        else if (start > size)
            start = size;
        if (stop == ND_END)
            stop = size;
        else if (stop < 0)
            stop = stop + size < 0 ? 0 : stop + size;
        else if (stop > size)
            stop = size;
        /* ceil((stop - start) / step) without overflow: both lie in [0, size] */
        r.length = stop > start ? (stop - start - 1) / step + 1 : 0;
    } else {
        if (start == ND_END)
            start = size - 1;
        else if (start < 0)
            start = start + size < 0 ? -1 : start + size;
        else if (start >= size)
            start = size - 1;
        if (stop == ND_END)
            stop = -1;
        else if (stop < 0)
            stop = stop + size < 0 ? -1 : stop + size;
        else if (stop >= size)
            stop = size - 1;
        /* both lie in [-1, size - 1]; a step beyond the distance takes one element */
        int64_t distance = start - stop;
        r.length = distance <= 0 ? 0 : step < -distance ? 1 : (distance - 1) / -step + 1;
    }
    r.start = r.length > 0 ? start : 0;
    if (r.length <= 1) r.step = 1; /* the step is never used: keep strides small */
    return r;
}

/* The view of t that r describes (no autograd record). */
static nd_tensor *slice_view(nd_tensor *t, range r) {
    int64_t shape[ND_MAX_DIMS], strides[ND_MAX_DIMS];
    memcpy(shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    memcpy(strides, t->strides, sizeof(int64_t) * (size_t)t->ndim);
    shape[r.dim] = r.length;
    strides[r.dim] = t->strides[r.dim] * r.step;
    return nd__view(t, t->ndim, shape, strides, t->offset + r.start * t->strides[r.dim]);
}

static nd_params range_params(range r) {
    return (nd_params){.i = {r.dim, r.start, r.length, r.step}};
}
static range params_range(const nd_params *p) {
    return (range){.dim = (int)p->i[0], .start = p->i[1], .length = p->i[2], .step = p->i[3]};
}

static nd_tensor *slice_range(nd_tensor *t, range r);

/* ------------------------------------------------------- slice_backward */

/* zeros(shape)[r] = g: where a slice's gradient comes from. p.shape is the
 * shape of the tensor that was sliced. */
static nd_tensor *slice_backward(nd_tensor *g, int ndim, const int64_t *shape, range r);

static void slice_backward_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    gin[0] = slice_range(g, params_range(&n->p));
}
static nd_tensor *slice_backward_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return slice_backward(tin[0], n->p.ndim, n->p.shape, params_range(&n->p));
}
static const nd_op SLICE_BACKWARD = {
    .name = "slice_backward",
    .vjp = slice_backward_vjp,
    .jvp = slice_backward_jvp,
    .flags = 0,
    .vjp_formula = "gg[slice]",
    .jvp_formula = "zeros with dg in the slice",
};

static nd_tensor *slice_backward(nd_tensor *g, int ndim, const int64_t *shape, range r) {
    if (!g) return NULL;
    nd_tensor *out = nd__zeros(g->dtype, ndim, shape);
    if (!out) return NULL;
    nd_tensor *window = slice_view(out, r);
    if (!window || nd__copy_into("slice_backward", window, g)) return NULL;
    nd_params p = range_params(r);
    p.ndim = ndim;
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)ndim);
    return nd__record(&SLICE_BACKWARD, out, 1, &g, &p);
}

/* ---------------------------------------------------------------- slice */

static void slice_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *in = n->in[0];
    gin[0] = slice_backward(g, in->ndim, in->shape, params_range(&n->p));
}
static nd_tensor *slice_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return slice_range(tin[0], params_range(&n->p));
}
static const nd_op SLICE = {
    .name = "slice",
    .vjp = slice_vjp,
    .jvp = slice_jvp,
    .flags = 0,
    .vjp_formula = "slice_backward(g): zeros of x's shape with g in the slice",
    .jvp_formula = "dx[slice]",
};

static nd_tensor *slice_range(nd_tensor *t, range r) {
    if (!t) return NULL;
    nd_tensor *out = slice_view(t, r);
    if (!out || !nd__needs_record(1, &t)) return out;
    nd_params p = range_params(r);
    return nd__record(&SLICE, out, 1, &t, &p);
}

nd_tensor *nd_slice(nd_tensor *t, int dim, int64_t start, int64_t stop, int64_t step) {
    ND_CHECK("nd_slice", t);
    if (t->ndim == 0) return nd__fail_as(ND_ERR_SHAPE, "nd_slice: cannot slice a 0-d tensor");
    int d = nd__wrap_dim("nd_slice", dim, t->ndim);
    if (d < 0) return NULL;
    if (step == 0) return nd__fail("nd_slice: slice step cannot be zero (dim %d)", dim);
    if (step == ND_END) step = 1; /* an omitted step, as in Python */
    return slice_range(t, normalise(d, t->shape[d], start, stop, step));
}

/* ---------------------------------------------------------------- select */

/* select = a slice of length 1 without its dim: the gradient puts the dim back
 * and scatters through slice_backward; the tangent is selected alike. */
static void select_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *in = n->in[0];
    range r = params_range(&n->p);
    gin[0] = slice_backward(nd_unsqueeze(g, r.dim), in->ndim, in->shape, r);
}
static nd_tensor *select_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    range r = params_range(&n->p);
    return nd_select(tin[0], r.dim, r.start);
}
static const nd_op SELECT = {
    .name = "select",
    .vjp = select_vjp,
    .jvp = select_jvp,
    .flags = 0,
    .vjp_formula = "slice_backward(g): zeros of x's shape with g at the index",
    .jvp_formula = "dx[index]",
};

nd_tensor *nd_select(nd_tensor *t, int dim, int64_t index) {
    ND_CHECK("nd_select", t);
    if (t->ndim == 0)
        return nd__fail_as(ND_ERR_SHAPE, "nd_select: cannot select from a 0-d tensor");
    int d = nd__wrap_dim("nd_select", dim, t->ndim);
    if (d < 0) return NULL;
    int64_t size = t->shape[d];
    if (index < -size || index >= size)
        return nd__fail_as(ND_ERR_INDEX,
                           "nd_select: index %lld is out of range for dim %d of size %lld "
                           "(shape %s)",
                           (long long)index, dim, (long long)size, nd__tshape(t));
    int64_t at = index < 0 ? index + size : index;
    int64_t shape[ND_MAX_DIMS], strides[ND_MAX_DIMS];
    for (int i = 0, j = 0; i < t->ndim; i++) {
        if (i == d) continue;
        shape[j] = t->shape[i];
        strides[j++] = t->strides[i];
    }
    nd_tensor *out = nd__view(t, t->ndim - 1, shape, strides, t->offset + at * t->strides[d]);
    if (!out || !nd__needs_record(1, &t)) return out;
    nd_params p = range_params((range){.dim = d, .start = at, .length = 1, .step = 1});
    return nd__record(&SELECT, out, 1, &t, &p);
}
