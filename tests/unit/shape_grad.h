/* Gradient checks shared by the shape-op tests (test_view, test_join,
 * test_index): reverse mode (nd_gradient), forward mode (nd_make_dual and
 * nd_tangent) and second derivatives, each against central differences in
 * float64. The ops are linear in x, so differences are exact up to rounding. */
#ifndef ND_SHAPE_GRAD_H
#define ND_SHAPE_GRAD_H

#include "support.h"

#include <stdlib.h>

#define FD_EPS 1e-6
#define FD_TOL 1e-6

static double *fd_values(nd_tensor *t) {
    int64_t n = nd_numel(t);
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    cr_assert(v && nd_read(t, ND_F64, v, (size_t)n * sizeof *v) == 0, "nd_read: %s",
              nd_last_error());
    return v;
}

/* x + s·direction, a new f64 leaf shaped like x. */
static nd_tensor *fd_shifted(nd_tensor *x, nd_tensor *direction, double s) {
    return nd_add(x, nd_mul_scalar(direction, s));
}

/* Σ u·f(x)² : a scalar whose gradient goes through the op and whose second
 * derivative goes through the op's backward. power 1 gives Σ u·f(x). */
static nd_tensor *fd_loss(nd_fn f, void *ctx, nd_tensor *x, nd_tensor *u, int power) {
    nd_tensor *y = f(x, ctx);
    if (power == 2) y = nd_mul(y, y);
    return nd_sum(nd_mul(y, u), ND_ALL, false);
}

static nd_tensor *fd_gradient(nd_fn f, void *ctx, nd_tensor *x, nd_tensor *u, int power,
                              bool create_graph) {
    nd_tensor *leaf = nd_set_requires_grad(nd_clone(x), true);
    return nd_gradient(fd_loss(f, ctx, leaf, u, power), leaf, create_graph);
}

static void fd_compare(const char *what, nd_tensor *got, nd_tensor *want, const char *file,
                       int line) {
    cr_assert(got, "%s:%d: %s is NULL: %s", file, line, what, nd_last_error());
    cr_assert_eq(nd_numel(got), nd_numel(want), "%s:%d: %s has %lld elements, expected %lld", file,
                 line, what, (long long)nd_numel(got), (long long)nd_numel(want));
    double *a = fd_values(got), *b = fd_values(want);
    for (int64_t i = 0; i < nd_numel(got); i++)
        cr_assert(fabs(a[i] - b[i]) <= FD_TOL * (1 + fabs(b[i])),
                  "%s:%d: %s element %lld is %.12g, central differences give %.12g", file, line,
                  what, (long long)i, a[i], b[i]);
    free(a);
    free(b);
}

static void check_grads_(nd_fn f, void *ctx, nd_tensor *x0, const char *file, int line) {
    cr_assert(x0, "%s:%d: input is NULL: %s", file, line, nd_last_error());
    nd_scope_begin();
    nd_tensor *x = nd_to(x0, ND_F64);
    nd_tensor *y = f(x, ctx);
    cr_assert(y, "%s:%d: f failed: %s", file, line, nd_last_error());
    nd_tensor *u = nd_randn(ND_F64, nd_ndim(y), nd_shape(y));
    nd_tensor *v = nd_randn(ND_F64, nd_ndim(x), nd_shape(x));

    /* reverse mode: the gradient of Σ u·f(x) against one difference per element of x */
    nd_tensor *grad = fd_gradient(f, ctx, x, u, 1, false);
    int64_t n = nd_numel(x);
    double *xs = fd_values(x), *numeric = malloc((size_t)(n > 0 ? n : 1) * sizeof *numeric);
    for (int64_t j = 0; j < n; j++) {
        double side[2];
        for (int s = 0; s < 2; s++) {
            double saved = xs[j];
            xs[j] += s ? -FD_EPS : FD_EPS;
            side[s] = nd_item(fd_loss(f, ctx, nd_from(ND_F64, nd_ndim(x), nd_shape(x), xs), u, 1));
            xs[j] = saved;
        }
        numeric[j] = (side[0] - side[1]) / (2 * FD_EPS);
    }
    fd_compare("reverse-mode gradient", grad, nd_from(ND_F64, nd_ndim(x), nd_shape(x), numeric),
               file, line);
    free(xs);
    free(numeric);

    /* forward mode: the tangent of f(x + t·v) against its difference along v */
    nd_tensor *tangent = nd_tangent(f(nd_make_dual(x, v), ctx));
    nd_tensor *along = nd_div_scalar(
        nd_sub(f(fd_shifted(x, v, FD_EPS), ctx), f(fd_shifted(x, v, -FD_EPS), ctx)), 2 * FD_EPS);
    fd_compare("forward-mode tangent", tangent, along, file, line);

    /* second order through the op's backward: H·v of Σ u·f(x)², by reverse over reverse */
    nd_tensor *leaf = nd_set_requires_grad(nd_clone(x), true);
    nd_tensor *g = nd_gradient(fd_loss(f, ctx, leaf, u, 2), leaf, true);
    nd_tensor *hv = nd_gradient(nd_sum(nd_mul(g, v), ND_ALL, false), leaf, false);
    nd_tensor *hv_numeric =
        nd_div_scalar(nd_sub(fd_gradient(f, ctx, fd_shifted(x, v, FD_EPS), u, 2, false),
                             fd_gradient(f, ctx, fd_shifted(x, v, -FD_EPS), u, 2, false)),
                      2 * FD_EPS);
    fd_compare("second derivative (reverse over reverse)", hv, hv_numeric, file, line);

    /* and forward over reverse: the tangent of the gradient is H·v too, which runs
     * the JVP rules of the backward ops */
    nd_tensor *dual = nd_make_dual(nd_set_requires_grad(nd_clone(x), true), v);
    nd_tensor *gd = nd_gradient(fd_loss(f, ctx, dual, u, 2), dual, true);
    fd_compare("second derivative (forward over reverse)", nd_tangent(gd), hv_numeric, file, line);
    nd_scope_end();
}
#define check_grads(f, ctx, x) check_grads_((f), (ctx), (x), __FILE__, __LINE__)

#endif
