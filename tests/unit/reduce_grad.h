/* Gradient checks shared by test_reduce.c and test_softmax.c. For an op and
 * f(x) = Σ w ⊙ op(x) (w = linspace(-1, 2) shaped like op(x)) at the float64
 * input reduce_gx.npy, it checks:
 *   - reverse mode (nd_gradient) against PyTorch's gradient,
 *   - reverse mode against central differences,
 *   - forward mode (nd_make_dual, nd_tangent), one basis direction at a time,
 *   - a second derivative, the Hessian times v = (1..12)/12, against PyTorch,
 *   - nd_gradcheck. */
#ifndef ND_REDUCE_GRAD_H
#define ND_REDUCE_GRAD_H

#include "support.h"

typedef nd_tensor *(*reduce_op)(nd_tensor *x);

static nd_tensor *weighted_loss(reduce_op op, nd_tensor *x) {
    nd_tensor *y = op(x);
    nd_tensor *w = nd_reshape(nd_linspace(-1, 2, nd_numel(y), ND_F64), nd_ndim(y), nd_shape(y));
    return nd_sum(nd_mul(w, y), ND_ALL, false);
}

static nd_tensor *as_fn(nd_tensor *x, void *ctx) {
    return weighted_loss(*(reduce_op *)ctx, x);
}

static void check_gradients_(const char *name, reduce_op op, const char *file, int line) {
    char path[128];
    double xs[12], grad[12];
    nd_tensor *x0 = golden("reduce_gx.npy");
    cr_assert_eq(nd_read(x0, ND_F64, xs, sizeof xs), 0);
    nd_tensor *x = nd_set_requires_grad(nd_clone(x0), true);
    nd_tensor *gx = nd_gradient(weighted_loss(op, x), x, true);
    cr_assert(gx, "%s:%d: %s: no gradient: %s", file, line, name, nd_last_error());
    snprintf(path, sizeof path, "reduce_grad_%s.npy", name);
    assert_close_(gx, golden(path), 1e-9, 1e-10, file, line);
    cr_assert_eq(nd_read(gx, ND_F64, grad, sizeof grad), 0);

    const double h = 1e-6;
    for (int i = 0; i < 12; i++) {
        double shifted[12];
        memcpy(shifted, xs, sizeof xs);
        shifted[i] = xs[i] + h;
        double up = nd_item(weighted_loss(op, nd_from(ND_F64, ND_SHAPE(3, 4), shifted)));
        shifted[i] = xs[i] - h;
        double down = nd_item(weighted_loss(op, nd_from(ND_F64, ND_SHAPE(3, 4), shifted)));
        double central = (up - down) / (2 * h);
        cr_assert(fabs(grad[i] - central) <= 1e-6 * (1 + fabs(central)),
                  "%s:%d: %s: d/dx[%d] is %.12g by reverse mode, %.12g by differences", file, line,
                  name, i, grad[i], central);

        double basis[12] = {0};
        basis[i] = 1;
        nd_tensor *dual = nd_make_dual(x0, nd_from(ND_F64, ND_SHAPE(3, 4), basis));
        nd_tensor *tangent = nd_tangent(weighted_loss(op, dual));
        double forward = tangent ? nd_item(tangent) : 0; /* no tangent: zero */
        cr_assert(fabs(forward - grad[i]) <= 1e-9 * (1 + fabs(grad[i])),
                  "%s:%d: %s: d/dx[%d] is %.12g by forward mode, %.12g by reverse mode", file, line,
                  name, i, forward, grad[i]);
    }

    snprintf(path, sizeof path, "reduce_hvp_%s.npy", name);
    nd_tensor *v = nd_div_scalar(nd_reshape(nd_arange(1, 13, 1, ND_F64), ND_SHAPE(3, 4)), 12);
    nd_tensor *hv = nd_requires_grad(gx)
                        ? nd_gradient(nd_sum(nd_mul(gx, v), ND_ALL, false), x, false)
                        : nd_zeros(ND_F64, ND_SHAPE(3, 4)); /* linear op */
    assert_close_(hv, golden(path), 1e-8, 1e-9, file, line);

    cr_assert_eq(nd_gradcheck(as_fn, &op, x0, 1e-6, 1e-6, 1e-5), 0, "%s:%d: %s: %s", file, line,
                 name, nd_last_error());
}
#define check_gradients(name, op) check_gradients_((name), (op), __FILE__, __LINE__)

#endif
