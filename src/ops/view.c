/* Views: new shapes over the same memory (reshape, transpose, permute,
 * squeeze, unsqueeze, expand). Nothing is copied unless a reshape cannot be
 * expressed with strides. Each op: its kernel (a new header), its VJP (the
 * gradient mapped back to the input's shape) and its JVP (the same view of the
 * tangent), side by side. */
#include "elementwise.h" /* nd__copy_into */

/* ------------------------------------------------------ reshape and view */

/* Strides that let (ndim, shape) read the same elements as t in C order, when
 * they exist. The old dims are taken in chunks that are one evenly strided run
 * of memory; each chunk must be covered exactly by a run of new dims. This is
 * NumPy's and PyTorch's rule: a transposed tensor can still be reshaped
 * without a copy as long as no new dim straddles two chunks. */
static bool view_strides(const nd_tensor *t, int ndim, const int64_t *shape, int64_t *strides) {
    if (t->numel == 0 || t->ndim == 0) { /* any strides read the same (no or one) element */
        nd__contiguous_strides(ndim, shape, strides);
        return true;
    }
    int new_dim = ndim - 1;
    int64_t chunk_stride = t->strides[t->ndim - 1]; /* stride of the chunk's innermost dim */
    int64_t chunk_numel = 1, covered = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        chunk_numel *= t->shape[d];
        bool chunk_ends =
            d == 0 || (t->shape[d - 1] != 1 && t->strides[d - 1] != chunk_numel * chunk_stride);
        if (!chunk_ends) continue;
        while (new_dim >= 0 && (covered < chunk_numel || shape[new_dim] == 1)) {
            strides[new_dim] = covered * chunk_stride;
            covered *= shape[new_dim];
            new_dim--;
        }
        if (covered != chunk_numel) return false;
        if (d > 0) {
            chunk_stride = t->strides[d - 1];
            chunk_numel = covered = 1;
        }
    }
    return new_dim == -1;
}

/* Fills `out` with the requested shape, the one -1 replaced by what makes the
 * element counts agree. */
static bool infer_shape(const char *op, const nd_tensor *t, int ndim, const int64_t *shape,
                        int64_t *out) {
    if (!nd__check_ndim(op, ndim, shape)) return false;
    int inferred = -1;
    int64_t known = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == -1) {
            if (inferred >= 0) {
                nd__set_error_as(ND_ERR_SHAPE, "%s: only one dim may be -1, got shape %s", op,
                                 nd__shape_str(ndim, shape));
                return false;
            }
            inferred = i;
        } else if (shape[i] < 0) {
            nd__set_error_as(ND_ERR_SHAPE, "%s: invalid size %lld at dim %d of shape %s", op,
                             (long long)shape[i], i, nd__shape_str(ndim, shape));
            return false;
        } else { /* saturates instead of overflowing: the count check below fails */
            known = shape[i] && known > INT64_MAX / shape[i] ? INT64_MAX : known * shape[i];
        }
        out[i] = shape[i];
    }
    if (inferred >= 0) {
        if (known == 0) {
            nd__set_error_as(
                ND_ERR_SHAPE,
                "%s: cannot reshape a tensor of shape %s (%lld elements) into shape %s: "
                "the -1 could be any size",
                op, nd__tshape(t), (long long)t->numel, nd__shape_str(ndim, shape));
            return false;
        }
        if (t->numel % known != 0) {
            nd__set_error_as(
                ND_ERR_SHAPE,
                "%s: cannot reshape a tensor of shape %s (%lld elements) into shape %s", op,
                nd__tshape(t), (long long)t->numel, nd__shape_str(ndim, shape));
            return false;
        }
        out[inferred] = t->numel / known;
        known = t->numel;
    }
    if (known != t->numel) {
        nd__set_error_as(ND_ERR_SHAPE,
                         "%s: cannot reshape a tensor of shape %s (%lld elements) into shape %s "
                         "(%lld elements)",
                         op, nd__tshape(t), (long long)t->numel, nd__shape_str(ndim, shape),
                         (long long)known);
        return false;
    }
    return true;
}

/* Reshape, squeeze, unsqueeze and flatten all only regroup the elements: the
 * gradient is regrouped back, the tangent regrouped the same way. */
static void regroup_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    gin[0] = nd_reshape(g, n->in[0]->ndim, n->in[0]->shape);
}
static nd_tensor *regroup_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n;
    return nd_reshape(tin[0], out->ndim, out->shape);
}
static const nd_op RESHAPE = {
    .name = "reshape",
    .vjp = regroup_vjp,
    .jvp = regroup_jvp,
    .flags = 0,
    .vjp_formula = "reshape(g, x's shape)",
    .jvp_formula = "reshape(dx, y's shape)",
};
static const nd_op VIEW = {
    .name = "view",
    .vjp = regroup_vjp,
    .jvp = regroup_jvp,
    .flags = 0,
    .vjp_formula = "reshape(g, x's shape)",
    .jvp_formula = "reshape(dx, y's shape)",
};
static const nd_op FLATTEN = {
    .name = "flatten",
    .vjp = regroup_vjp,
    .jvp = regroup_jvp,
    .flags = 0,
    .vjp_formula = "reshape(g, x's shape)",
    .jvp_formula = "reshape(dx, y's shape)",
};
static const nd_op SQUEEZE = {
    .name = "squeeze",
    .vjp = regroup_vjp,
    .jvp = regroup_jvp,
    .flags = 0,
    .vjp_formula = "reshape(g, x's shape)",
    .jvp_formula = "reshape(dx, y's shape)",
};
static const nd_op UNSQUEEZE = {
    .name = "unsqueeze",
    .vjp = regroup_vjp,
    .jvp = regroup_jvp,
    .flags = 0,
    .vjp_formula = "reshape(g, x's shape)",
    .jvp_formula = "reshape(dx, y's shape)",
};

/* The elements of t in C order under a new shape: a view when strides allow,
 * else (only when allowed to) a contiguous copy. */
static nd_tensor *regroup(const char *op, const nd_op *rule, nd_tensor *t, int ndim,
                          const int64_t *shape, bool may_copy) {
    int64_t strides[ND_MAX_DIMS];
    nd_tensor *out;
    if (view_strides(t, ndim, shape, strides)) {
        out = nd__view(t, ndim, shape, strides, t->offset);
    } else if (!may_copy) {
        return nd__fail_as(ND_ERR_SHAPE,
                           "%s: a tensor of shape %s with strides %s cannot be viewed as shape %s "
                           "without a copy (use nd_reshape, or nd_contiguous first)",
                           op, nd__tshape(t), nd__shape_str(t->ndim, t->strides),
                           nd__shape_str(ndim, shape));
    } else {
        /* copy in the input's shape, then regroup the contiguous result */
        nd_tensor *copy = nd__empty(t->dtype, t->ndim, t->shape);
        if (!copy || nd__copy_into(op, copy, t)) return NULL;
        nd__contiguous_strides(ndim, shape, strides);
        out = nd__alias(copy, ndim, shape, strides, 0);
    }
    return nd__record(rule, out, 1, &t, NULL);
}

nd_tensor *nd_reshape(nd_tensor *t, int ndim, const int64_t *shape) {
    ND_CHECK("nd_reshape", t);
    int64_t full[ND_MAX_DIMS];
    if (!infer_shape("nd_reshape", t, ndim, shape, full)) return NULL;
    return regroup("nd_reshape", &RESHAPE, t, ndim, full, true);
}

nd_tensor *nd_view(nd_tensor *t, int ndim, const int64_t *shape) {
    ND_CHECK("nd_view", t);
    int64_t full[ND_MAX_DIMS];
    if (!infer_shape("nd_view", t, ndim, shape, full)) return NULL;
    return regroup("nd_view", &VIEW, t, ndim, full, false);
}

/* Always 1-d, a 0-d tensor included (as torch.flatten). */
nd_tensor *nd_flatten(nd_tensor *t) {
    ND_CHECK("nd_flatten", t);
    return regroup("nd_flatten", &FLATTEN, t, 1, &t->numel, true);
}

/* ---------------------------------------------------- squeeze, unsqueeze */

nd_tensor *nd_squeeze(nd_tensor *t, int dim) {
    ND_CHECK("nd_squeeze", t);
    int only = -1; /* the one dim to squeeze, or -1 for all size-1 dims */
    if (dim != ND_ALL && (only = nd__wrap_dim("nd_squeeze", dim, t->ndim)) < 0) return NULL;
    int ndim = 0;
    int64_t shape[ND_MAX_DIMS], strides[ND_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) {
        bool drop = t->shape[i] == 1 && (only < 0 || only == i); /* size != 1: left as is */
        if (drop) continue;
        shape[ndim] = t->shape[i];
        strides[ndim++] = t->strides[i];
    }
    nd_tensor *out = nd__view(t, ndim, shape, strides, t->offset);
    return nd__record(&SQUEEZE, out, 1, &t, NULL);
}

nd_tensor *nd_unsqueeze(nd_tensor *t, int dim) {
    ND_CHECK("nd_unsqueeze", t);
    if (t->ndim + 1 > ND_MAX_DIMS)
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_unsqueeze: a tensor of shape %s already has %d dims, the most "
                           "supported",
                           nd__tshape(t), ND_MAX_DIMS);
    int at = nd__wrap_dim("nd_unsqueeze", dim, t->ndim + 1); /* counted on the result */
    if (at < 0) return NULL;
    int64_t shape[ND_MAX_DIMS], strides[ND_MAX_DIMS];
    for (int i = 0, j = 0; i <= t->ndim; i++) {
        if (i == at) {
            shape[i] = 1;
            /* any stride reads the same; this one keeps a contiguous tensor contiguous */
            strides[i] = at < t->ndim ? t->shape[at] * t->strides[at] : 1;
        } else {
            shape[i] = t->shape[j];
            strides[i] = t->strides[j++];
        }
    }
    nd_tensor *out = nd__view(t, t->ndim + 1, shape, strides, t->offset);
    return nd__record(&UNSQUEEZE, out, 1, &t, NULL);
}

/* ---------------------------------------------------- permute, transpose */

/* The gradient goes back through the inverse permutation; the tangent goes
 * through the same one. p.i holds the permutation. */
static void permute_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    int inverse[ND_MAX_DIMS];
    for (int i = 0; i < n->p.ndim; i++) inverse[n->p.i[i]] = i;
    gin[0] = nd_permute(g, n->p.ndim, inverse);
}
static nd_tensor *permute_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    int perm[ND_MAX_DIMS];
    for (int i = 0; i < n->p.ndim; i++) perm[i] = (int)n->p.i[i];
    return nd_permute(tin[0], n->p.ndim, perm);
}
static const nd_op PERMUTE = {
    .name = "permute",
    .vjp = permute_vjp,
    .jvp = permute_jvp,
    .flags = 0,
    .vjp_formula = "permute(g, inverse permutation)",
    .jvp_formula = "permute(dx, same permutation)",
};
static const nd_op TRANSPOSE = {
    .name = "transpose",
    .vjp = permute_vjp,
    .jvp = permute_jvp,
    .flags = 0,
    .vjp_formula = "transpose(g, same dims)",
    .jvp_formula = "transpose(dx, same dims)",
};

/* perm is already checked: dims of the result in terms of the input's. */
static nd_tensor *permuted(const nd_op *rule, nd_tensor *t, const int *perm) {
    int64_t shape[ND_MAX_DIMS], strides[ND_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) {
        shape[i] = t->shape[perm[i]];
        strides[i] = t->strides[perm[i]];
    }
    nd_tensor *out = nd__view(t, t->ndim, shape, strides, t->offset);
    if (!out || !nd__needs_record(1, &t)) return out;
    nd_params p = {.ndim = t->ndim};
    for (int i = 0; i < t->ndim; i++) p.i[i] = perm[i];
    return nd__record(rule, out, 1, &t, &p);
}

nd_tensor *nd_permute(nd_tensor *t, int ndim, const int *perm) {
    ND_CHECK("nd_permute", t);
    if (ndim != t->ndim)
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_permute: perm has %d entries for a tensor of shape %s (%d dims)",
                           ndim, nd__tshape(t), t->ndim);
    if (ndim > 0 && !perm) return nd__fail("nd_permute: NULL perm");
    int wrapped[ND_MAX_DIMS];
    bool seen[ND_MAX_DIMS] = {false};
    for (int i = 0; i < ndim; i++) {
        int d = nd__wrap_dim("nd_permute", perm[i], ndim);
        if (d < 0) return NULL;
        if (seen[d])
            return nd__fail_as(ND_ERR_SHAPE,
                               "nd_permute: dim %d appears twice in the permutation (entry %d) for "
                               "a tensor of shape %s",
                               d, i, nd__tshape(t));
        seen[d] = true;
        wrapped[i] = d;
    }
    return permuted(&PERMUTE, t, wrapped);
}

nd_tensor *nd_transpose(nd_tensor *t, int dim0, int dim1) {
    ND_CHECK("nd_transpose", t);
    int a = nd__wrap_dim("nd_transpose", dim0, t->ndim);
    int b = a < 0 ? -1 : nd__wrap_dim("nd_transpose", dim1, t->ndim);
    if (b < 0) return NULL;
    int perm[ND_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) perm[i] = i;
    if (t->ndim > 0) {
        perm[a] = b;
        perm[b] = a;
    }
    return permuted(&TRANSPOSE, t, perm);
}

nd_tensor *nd_t(nd_tensor *t) {
    ND_CHECK("nd_t", t);
    if (t->ndim > 2)
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_t: expects a tensor with at most 2 dims, got shape %s (use "
                           "nd_transpose or nd_permute)",
                           nd__tshape(t));
    return nd_transpose(t, 0, t->ndim == 2 ? 1 : 0);
}

/* ------------------------------------------------- expand, broadcast_to */

/* The engine sums a gradient in the broadcast shape back to the input's
 * shape, so the VJP hands g over as it is. */
static void expand_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)n, (void)out;
    gin[0] = g;
}
static nd_tensor *expand_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n;
    return nd_expand(tin[0], out->ndim, out->shape);
}
static const nd_op EXPAND = {
    .name = "expand",
    .vjp = expand_vjp,
    .jvp = expand_jvp,
    .flags = 0,
    .vjp_formula = "g summed over the expanded dims",
    .jvp_formula = "expand(dx, same shape)",
};

static nd_tensor *expanded(const char *op, nd_tensor *t, int ndim, const int64_t *shape) {
    if (ndim < t->ndim || ndim > ND_MAX_DIMS)
        return nd__fail_as(ND_ERR_SHAPE,
                           "%s: cannot expand a tensor of shape %s to %d dims (the target needs "
                           "between %d and %d)",
                           op, nd__tshape(t), ndim, t->ndim, ND_MAX_DIMS);
    if (ndim > 0 && !shape) return nd__fail("%s: NULL shape", op);
    int lead = ndim - t->ndim;
    int64_t sizes[ND_MAX_DIMS], strides[ND_MAX_DIMS];
    for (int i = 0; i < ndim; i++) {
        int j = i - lead;
        int64_t want = shape[i];
        if (want == -1 && j >= 0) want = t->shape[j]; /* -1 keeps the size */
        if (want < 0)
            return nd__fail_as(ND_ERR_SHAPE,
                               "%s: invalid size %lld at dim %d of target shape %s for a tensor of "
                               "shape %s",
                               op, (long long)shape[i], i, nd__shape_str(ndim, shape),
                               nd__tshape(t));
        if (j >= 0 && t->shape[j] != 1 && t->shape[j] != want)
            return nd__fail_as(ND_ERR_SHAPE,
                               "%s: a tensor of shape %s cannot be expanded to shape %s: size %lld "
                               "at dim %d must be 1 or match %lld",
                               op, nd__tshape(t), nd__shape_str(ndim, shape),
                               (long long)t->shape[j], i, (long long)want);
        sizes[i] = want;
        /* new leading dims and stretched size-1 dims read the same element: stride 0 */
        strides[i] = j < 0 || t->shape[j] != want ? 0 : t->strides[j];
    }
    if (!nd__check_shape(op, ndim, sizes)) return NULL;
    nd_tensor *out = nd__view(t, ndim, sizes, strides, t->offset);
    return nd__record(&EXPAND, out, 1, &t, NULL);
}

nd_tensor *nd_expand(nd_tensor *t, int ndim, const int64_t *shape) {
    ND_CHECK("nd_expand", t);
    return expanded("nd_expand", t, ndim, shape);
}

nd_tensor *nd_broadcast_to(nd_tensor *t, int ndim, const int64_t *shape) {
    ND_CHECK("nd_broadcast_to", t);
    return expanded("nd_broadcast_to", t, ndim, shape);
}
