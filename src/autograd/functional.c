/* Functional transforms over a function f(x): J·v by forward mode, uᵀ·J by
 * reverse mode, whole Jacobians in either mode and either layout, Hessians. */
#include "../core/internal.h"

/* Calls f, making sure a failure leaves a message that says where it came from. */
nd_tensor *nd__call_fn(const char *op, nd_fn f, void *ctx, nd_tensor *x) {
    if (!x) return nd__null_input(op); /* x could not be made: keep the reason */
    nd_clear_error();
    nd_tensor *y = f(x, ctx);
    if (!y && !nd_last_error()) nd__set_error("%s: the function returned NULL", op);
    if (y && !nd__is_float(y->dtype))
        return nd__fail_as(ND_ERR_DTYPE,
                           "%s: the function returned a %s tensor; derivatives need floating point",
                           op, nd_dtype_name(y->dtype));
    return y;
}

static bool check_input(const char *op, nd_fn f, nd_tensor *x) {
    if (!f) {
        nd__set_error("%s: NULL function", op);
        return false;
    }
    if (!x) {
        nd__null_input(op);
        return false;
    }
    if (!nd__is_float(x->dtype)) {
        nd__set_error_as(ND_ERR_DTYPE, "%s: x is a %s tensor; derivatives need floating point", op,
                         nd_dtype_name(x->dtype));
        return false;
    }
    return true;
}

/* A fresh leaf with x's values that requires a gradient: the variable of a
 * reverse-mode transform. */
static nd_tensor *variable(nd_tensor *x) {
    return nd_set_requires_grad(nd_contiguous(nd_detach(x)), true);
}

nd_tensor *nd_jvp(nd_fn f, void *ctx, nd_tensor *x, nd_tensor *v, nd_tensor **fx) {
    if (fx) *fx = NULL;
    if (!check_input("nd_jvp", f, x)) return NULL;
    if (!v) return nd__null_input("nd_jvp");
    if (!nd__same_shape(x, v))
        return nd__fail_as(ND_ERR_SHAPE, "nd_jvp: v of shape %s does not match x of shape %s",
                           nd__tshape(v), nd__tshape(x));
    nd_scope_begin();
    nd_tensor *y = nd__call_fn("nd_jvp", f, ctx, nd_make_dual(nd_detach(x), v));
    nd_tensor *jv = y ? (y->tangent ? y->tangent : nd_zeros_like(y)) : NULL;
    if (y && fx) *fx = nd_keep(nd_detach(y));
    jv = fx && !*fx ? NULL : nd_keep(jv); /* NULL when out of memory */
    if (!jv && fx) *fx = NULL;
    nd_scope_end();
    return jv;
}

nd_tensor *nd_vjp(nd_fn f, void *ctx, nd_tensor *x, nd_tensor *u, nd_tensor **fx) {
    if (fx) *fx = NULL;
    if (!check_input("nd_vjp", f, x)) return NULL;
    if (!u) return nd__null_input("nd_vjp");
    nd_scope_begin();
    nd_tensor *xr = variable(x);
    nd_tensor *y = nd__call_fn("nd_vjp", f, ctx, xr);
    nd_tensor *g = NULL;
    if (y && nd__gradients_seeded("nd_vjp", y, u, 1, &xr, &g, false) == 0) {
        g = nd_keep(g); /* NULL when out of memory */
        if (g && fx) *fx = nd_keep(nd_detach(y));
        if (fx && !*fx) g = NULL;
    }
    nd_scope_end();
    return g;
}

/* ------------------------------------------------- Jacobians in one pass */

/* The batched pass is its own transform: batch.c (nd__jacobian_rows,
 * nd__jacobian_columns), which says when it cannot run. */

/* ------------------------------------------------- Jacobians seed by seed */

/* A one-hot tensor shaped like t with a 1 at C-order position i. */
static nd_tensor *basis(const nd_tensor *t, int64_t i) {
    nd_tensor *e = nd__zeros(t->dtype, t->ndim, t->shape);
    if (e) nd__store(e->dtype, (char *)nd__ptr(e) + (size_t)i * nd_dtype_size(e->dtype), 1.0);
    return e;
}

/* Copies a whole tensor into row `row` of a contiguous (rows, n) matrix. */
static int put_row(nd_tensor *matrix, int64_t row, nd_tensor *values) {
    int64_t n = matrix->shape[1];
    if (!values || values->numel != n) return -1;
    size_t es = nd_dtype_size(matrix->dtype);
    return nd_read(values, matrix->dtype, (char *)nd__ptr(matrix) + (size_t)(row * n) * es,
                   (size_t)n * es);
}

/* One backward pass per output element: a row each. */
static nd_tensor *reverse_rows(nd_tensor *y, nd_tensor *xr) {
    int64_t m = y->numel, n = xr->numel;
    nd_tensor *jac = nd__zeros(y->dtype, 2, (int64_t[]){m, n});
    for (int64_t i = 0; jac && i < m; i++) {
        nd_scope_begin();
        nd_tensor *g = NULL;
        int rc = nd__gradients_seeded("nd_jacobian", y, basis(y, i), 1, &xr, &g, false);
        if (rc == 0) rc = put_row(jac, i, g);
        nd_scope_end();
        if (rc) return NULL;
    }
    return jac;
}

/* One forward pass per input element gives a column: rows of the transpose. */
static nd_tensor *forward_columns(nd_fn f, void *ctx, nd_tensor *base, nd_tensor *y) {
    int64_t m = y->numel, n = base->numel;
    nd_tensor *jac_t = nd__zeros(y->dtype, 2, (int64_t[]){n, m});
    for (int64_t j = 0; jac_t && j < n; j++) {
        nd_scope_begin();
        nd_tensor *yj = nd__call_fn("nd_jacobian", f, ctx, nd_make_dual(base, basis(base, j)));
        int rc = -1;
        if (yj && !nd__same_shape(yj, y))
            nd__set_error_as(ND_ERR_SHAPE, "nd_jacobian: the function returned shape %s, then %s",
                             nd__tshape(y), nd__tshape(yj));
        else if (yj)
            rc = put_row(jac_t, j, yj->tangent ? yj->tangent : nd_zeros_like(yj));
        nd_scope_end();
        if (rc) return NULL;
    }
    return nd_t(jac_t);
}

/* The Jacobian as an (m, n) matrix: m = numel f(x), n = numel x. f is
 * recorded once on a variable; one batched pass over that graph when every op
 * allows it (batch.c), else one pass per seed. */
static nd_tensor *jacobian_matrix(nd_fn f, void *ctx, nd_tensor *x, nd_ad_mode mode,
                                  nd_tensor **y_out) {
    bool fallback = false;
    nd_tensor *xr = variable(x), *y = NULL;
    if (mode == ND_REVERSE) {
        y = nd__call_fn("nd_jacobian", f, ctx, xr);
        if (!y) return NULL;
        *y_out = y;
        nd_tensor *rows = nd__jacobian_rows(y, xr, &fallback);
        if (fallback) return reverse_rows(y, xr);
        /* gradients come in x's dtype; the Jacobian is in f(x)'s, as seed by seed */
        if (rows && rows->dtype != y->dtype) rows = nd_to(rows, y->dtype);
        return nd_reshape(rows, 2, (int64_t[]){y->numel, x->numel});
    }
    nd_tensor *columns = nd__jacobian_columns(f, ctx, xr, &y, &fallback);
    if (!y) return NULL;
    *y_out = y;
    nd_tensor *base = fallback ? nd_detach(x) : NULL; /* the duals' primal, seed by seed */
    if (fallback) return base ? nd_contiguous(forward_columns(f, ctx, base, y)) : NULL;
    /* the transpose stays a view, as torch's: a copy only if a reshape needs one */
    return nd_t(nd_reshape(columns, 2, (int64_t[]){x->numel, y->numel}));
}

nd_tensor *nd_jacobian(nd_fn f, void *ctx, nd_tensor *x, nd_ad_mode mode, nd_layout layout) {
    if (!check_input("nd_jacobian", f, x)) return NULL;
    if (mode != ND_FORWARD && mode != ND_REVERSE)
        return nd__fail("nd_jacobian: mode must be ND_FORWARD or ND_REVERSE");
    if (layout != ND_LAYOUT_TENSOR && layout != ND_LAYOUT_NUMERATOR)
        return nd__fail("nd_jacobian: layout must be ND_LAYOUT_TENSOR or ND_LAYOUT_NUMERATOR");
    nd_scope_begin();
    nd_tensor *y = NULL;
    nd_tensor *jac = jacobian_matrix(f, ctx, x, mode, &y);
    nd_tensor *result = NULL;
    if (jac && y->ndim + x->ndim > ND_MAX_DIMS) {
        nd__set_error_as(ND_ERR_SHAPE,
                         "nd_jacobian: f(x) of shape %s and x of shape %s give more than %d dims",
                         nd__tshape(y), nd__tshape(x), ND_MAX_DIMS);
    } else if (jac) {
        int64_t shape[ND_MAX_DIMS];
        int nd = y->ndim + x->ndim;
        memcpy(shape, y->shape, sizeof(int64_t) * (size_t)y->ndim);
        memcpy(shape + y->ndim, x->shape, sizeof(int64_t) * (size_t)x->ndim);
        result = nd_reshape(jac, nd, shape); /* the tensor layout: f(x).shape + x.shape */
        if (result && layout == ND_LAYOUT_NUMERATOR) {
            /* the course's layout: x's dims reversed */
            int perm[ND_MAX_DIMS];
            for (int i = 0; i < y->ndim; i++) perm[i] = i;
            for (int i = 0; i < x->ndim; i++) perm[y->ndim + i] = nd - 1 - i;
            result = nd_contiguous(nd_permute(result, nd, perm));
        }
    }
    result = nd_keep(result); /* NULL when out of memory */
    nd_scope_end();
    return result;
}

nd_tensor *nd_hessian(nd_fn f, void *ctx, nd_tensor *x) {
    if (!check_input("nd_hessian", f, x)) return NULL;
    if (2 * x->ndim > ND_MAX_DIMS)
        return nd__fail_as(ND_ERR_SHAPE, "nd_hessian: x of shape %s gives more than %d dims",
                           nd__tshape(x), ND_MAX_DIMS);
    nd_scope_begin();
    nd_tensor *result = NULL;
    nd_tensor *xr = variable(x);
    nd_tensor *y = nd__call_fn("nd_hessian", f, ctx, xr);
    if (y && y->numel != 1) {
        nd__set_error_as(ND_ERR_SHAPE,
                         "nd_hessian: f(x) has shape %s; the Hessian needs a one-element output",
                         nd__tshape(y));
        y = NULL;
    }
    /* reverse over reverse: the gradient, kept differentiable, then one more
     * backward pass per element of it */
    nd_tensor *g = y ? nd_gradient(y, xr, true) : NULL;
    nd_tensor *g_flat = nd_reshape(g, 1, (int64_t[]){x->numel});
    int64_t n = x->numel;
    nd_tensor *h = g_flat ? nd__zeros(g_flat->dtype, 2, (int64_t[]){n, n}) : NULL;
    for (int64_t i = 0; h && i < n; i++) {
        nd_scope_begin();
        nd_tensor *gi = nd_select(g_flat, 0, i), *row = NULL;
        int rc =
            gi ? nd__gradients_seeded("nd_hessian", gi, nd_ones_like(gi), 1, &xr, &row, false) : -1;
        if (rc == 0) rc = put_row(h, i, row);
        nd_scope_end();
        if (rc) h = NULL;
    }
    if (h) {
        int64_t shape[ND_MAX_DIMS];
        memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
        memcpy(shape + x->ndim, x->shape, sizeof(int64_t) * (size_t)x->ndim);
        result = nd_reshape(h, 2 * x->ndim, shape);
    }
    result = nd_keep(result); /* NULL when out of memory */
    nd_scope_end();
    return result;
}
