/* Joining: nd_cat along an existing dim, nd_stack along a new one. The
 * gradient of each input is its slice of g; the tangent is the cat of the
 * inputs' tangents. */
#include "elementwise.h" /* nd__copy_into */

#include <stdlib.h>

/* PyTorch skips 1-d empty tensors in a cat whatever the other shapes are
 * (a habit from code that starts with an empty accumulator). */
static bool skipped(const nd_tensor *t) {
    return t->ndim == 1 && t->shape[0] == 0;
}

static void cat_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    int dim = n->p.dim;
    int64_t at = 0;
    for (int i = 0; i < n->nin; i++) {
        nd_tensor *in = n->in[i];
        if (skipped(in)) continue; /* it added nothing to the result */
        int64_t size = in->shape[dim];
        if (in->requires_grad) gin[i] = nd_slice(g, dim, at, at + size, 1);
        at += size;
    }
}

static nd_tensor *cat_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    nd_tensor *small[3] = {NULL};
    nd_tensor **parts = n->nin <= 3 ? small : malloc((size_t)n->nin * sizeof *parts);
    if (!parts) return nd__fail_as(ND_ERR_NOMEM, "nd_cat: out of memory");
    for (int i = 0; i < n->nin; i++)
        parts[i] = tin[i] ? tin[i] : nd__zeros(out->dtype, n->in[i]->ndim, n->in[i]->shape);
    nd_tensor *tangent = nd_cat(n->nin, parts, n->p.dim);
    if (parts != small) free(parts);
    return tangent;
}

static const nd_op CAT = {
    .name = "cat",
    .vjp = cat_vjp,
    .jvp = cat_jvp,
    .flags = 0,
    .vjp_formula = "g sliced back into each input's part",
    .jvp_formula = "cat(dx_i) (zero for inputs without one)",
};

/* The first input that is not skipped, or 0 when all are (then the result is (0,)). */
static int first_kept(int n, nd_tensor *const *ts) {
    for (int i = 0; i < n; i++)
        if (!skipped(ts[i])) return i;
    return 0;
}

nd_tensor *nd_cat(int n, nd_tensor *const *ts, int dim) {
    if (n <= 0 || !ts) return nd__fail("nd_cat: expected at least one tensor, got %d", n);
    if (nd__any_null("nd_cat", n, ts)) return NULL;
    const nd_tensor *ref = ts[first_kept(n, ts)];
    if (ref->ndim == 0)
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_cat: cannot concatenate 0-d tensors (tensor %d); use nd_stack",
                           first_kept(n, ts));
    int d = nd__wrap_dim("nd_cat", dim, ref->ndim);
    if (d < 0) return NULL;
    nd_dtype dtype = ts[0]->dtype;
    int64_t shape[ND_MAX_DIMS];
    memcpy(shape, ref->shape, sizeof(int64_t) * (size_t)ref->ndim);
    shape[d] = 0;
    for (int i = 0; i < n; i++) {
        const nd_tensor *t = ts[i];
        dtype = nd_promote_types(dtype, t->dtype);
        if (skipped(t) && t != ref) continue;
        bool same = t->ndim == ref->ndim;
        for (int k = 0; same && k < t->ndim; k++) same = k == d || t->shape[k] == ref->shape[k];
        if (!same)
            return nd__fail_as(ND_ERR_SHAPE,
                               "nd_cat: tensors of shapes %s (tensor %d) and %s (tensor %d) differ "
                               "outside the concatenation dim %d",
                               nd__tshape(ref), first_kept(n, ts), nd__tshape(t), i, dim);
        shape[d] += t->shape[d];
    }
    nd_tensor *out = nd__empty(dtype, ref->ndim, shape);
    if (!out) return NULL;
    /* each input is copied (and converted) into its window of the result */
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        nd_tensor *t = ts[i];
        if ((skipped(t) && t != ref) || t->shape[d] == 0) continue;
        int64_t window_shape[ND_MAX_DIMS];
        memcpy(window_shape, shape, sizeof(int64_t) * (size_t)ref->ndim);
        window_shape[d] = t->shape[d];
        nd_tensor *window =
            nd__alias(out, out->ndim, window_shape, out->strides, at * out->strides[d]);
        if (!window || nd__copy_into("nd_cat", window, t)) return NULL;
        at += t->shape[d];
    }
    if (!nd__needs_record(n, ts)) return out;
    nd_params p = {.dim = d};
    return nd__record(&CAT, out, n, ts, &p);
}

nd_tensor *nd_stack(int n, nd_tensor *const *ts, int dim) {
    if (n <= 0 || !ts) return nd__fail("nd_stack: expected at least one tensor, got %d", n);
    if (nd__any_null("nd_stack", n, ts)) return NULL;
    for (int i = 1; i < n; i++)
        if (!nd__same_shape(ts[i], ts[0]))
            return nd__fail_as(
                ND_ERR_SHAPE,
                "nd_stack: every tensor must have the same shape: tensor 0 has shape "
                "%s, tensor %d has shape %s",
                nd__tshape(ts[0]), i, nd__tshape(ts[i]));
    if (ts[0]->ndim + 1 > ND_MAX_DIMS)
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_stack: stacking tensors of shape %s would need more than %d dims",
                           nd__tshape(ts[0]), ND_MAX_DIMS);
    int d = nd__wrap_dim("nd_stack", dim, ts[0]->ndim + 1); /* counted on the result */
    if (d < 0) return NULL;
    nd_tensor *small[3] = {NULL};
    nd_tensor **parts = n <= 3 ? small : malloc((size_t)n * sizeof *parts);
    if (!parts) return nd__fail_as(ND_ERR_NOMEM, "nd_stack: out of memory");
    /* stack = cat of the inputs with a new size-1 dim: its gradient comes for free */
    bool ok = true;
    for (int i = 0; i < n; i++) ok = (parts[i] = nd_unsqueeze(ts[i], d)) != NULL && ok;
    nd_tensor *out = ok ? nd_cat(n, parts, d) : NULL;
    if (parts != small) free(parts);
    return out;
}
