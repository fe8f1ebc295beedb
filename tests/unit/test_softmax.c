/* logsumexp, softmax and log_softmax: values against PyTorch
 * (tests/reference/reduce.py), stability at ±1000, gradients in both modes and
 * second order, bad inputs. */
#include "reduce_grad.h"

static nd_tensor *g(const char *name) {
    char file[128];
    snprintf(file, sizeof file, "reduce_%s.npy", name);
    return golden(file);
}

ND_TEST(softmax, golden) {
    nd_tensor *x3 = g("x3"), *x4 = g("x4");
    assert_close(nd_softmax(x3, -1), g("x3_softmax_m1"), 1e-5, 1e-7);
    assert_close(nd_softmax(x3, 0), g("x3_softmax0"), 1e-5, 1e-7);
    assert_close(nd_softmax(x4, 2), g("x4_softmax2"), 1e-12, 1e-14);
    assert_close(nd_log_softmax(x3, 1), g("x3_log_softmax1"), 1e-5, 1e-6);
    assert_close(nd_log_softmax(x4, -1), g("x4_log_softmax_m1"), 1e-12, 1e-12);
    cr_assert_eq(nd_type(nd_softmax(x3, 0)), ND_F32);
    assert_close(nd_softmax(nd_transpose(x3, 0, 2), 1), g("x3_t_softmax1"), 1e-5, 1e-7);
    /* rows of a softmax sum to 1 */
    assert_close(nd_sum(nd_softmax(x4, 2), 2, false), nd_ones(ND_F64, ND_SHAPE(2, 3, 5)), 1e-12,
                 1e-12);
    assert_values(nd_softmax(nd_scalar(5, ND_F32), 0), 0, 1);
}

ND_TEST(logsumexp, golden) {
    nd_tensor *x3 = g("x3"), *x4 = g("x4");
    assert_close(nd_logsumexp(x4, 1, false), g("x4_logsumexp1"), 1e-12, 1e-12);
    assert_close(nd_logsumexp(x4, ND_ALL, false), g("x4_logsumexp_all"), 1e-12, 1e-12);
    assert_close(nd_logsumexp(x3, -1, true), g("x3_logsumexp_m1_keep"), 1e-6, 1e-6);
    assert_shape(nd_logsumexp(x3, -1, true), ND_SHAPE(3, 4, 1));
    nd_tensor *from_ints = nd_logsumexp(g("xi"), 1, false); /* integers become float32 */
    cr_assert_eq(nd_type(from_ints), ND_F32);
    assert_close(from_ints, g("xi_logsumexp1"), 1e-6, 1e-5);
    /* log Σ exp over nothing is log 0 */
    assert_values(nd_logsumexp(nd_zeros(ND_F32, ND_SHAPE(0, 2)), 0, false), 0, -INFINITY,
                  -INFINITY);
}

ND_TEST(stability, plus_minus_1000) {
    nd_tensor *big = g("big");
    assert_close(nd_softmax(big, 1), g("big_softmax1"), 1e-12, 1e-300);
    assert_close(nd_log_softmax(big, 1), g("big_log_softmax1"), 1e-12, 1e-12);
    assert_close(nd_logsumexp(big, 1, false), g("big_logsumexp1"), 1e-12, 1e-12);
    nd_tensor *pair = nd_parse("[1000.0, 0.0]"); /* float32 */
    assert_values(nd_softmax(pair, 0), 0, 1, 0);
    assert_values(nd_log_softmax(pair, 0), 0, 0, -1000);
    assert_values(nd_logsumexp(nd_parse("[-1000.0, -1000.0]"), 0, false), 1e-6, -1000 + log(2.0));
    /* gradients stay finite too */
    nd_tensor *x = nd_set_requires_grad(nd_parse("[1000.0, 0.0, -1000.0]"), true);
    assert_values(nd_gradient(nd_logsumexp(x, 0, false), x, false), 0, 1, 0, 0);
    nd_tensor *w = nd_parse("[1.0, 2.0, 3.0]");
    assert_values(nd_gradient(nd_sum(nd_mul(nd_log_softmax(x, 0), w), ND_ALL, false), x, false),
                  1e-6, -5, 2, 3);
}

ND_TEST(stability, infinities_as_pytorch) {
    assert_values(nd_logsumexp(nd_parse("[inf, 1.0]"), 0, false), 0, INFINITY);
    assert_values(nd_logsumexp(nd_parse("[-inf, -inf]"), 0, false), 0, -INFINITY);
    assert_values(nd_softmax(nd_parse("[inf, 1.0]"), 0), 0, NAN, NAN);
    assert_values(nd_softmax(nd_parse("[-inf, -inf]"), 0), 0, NAN, NAN);
    assert_values(nd_softmax(nd_parse("[-inf, 0.0]"), 0), 0, 0, 1);
    assert_values(nd_softmax(nd_parse("[nan, 0.0]"), 0), 0, NAN, NAN);
}

ND_TEST(softmax, errors) {
    cr_assert_null(nd_softmax(g("xi"), 0));
    assert_error("nd_softmax: expected a floating-point tensor, got int64");
    cr_assert_null(nd_log_softmax(g("x3"), 3));
    assert_error("nd_log_softmax: dim 3 out of range for a 3-d tensor");
    cr_assert_null(nd_softmax(g("x3"), ND_ALL));
    assert_error("nd_softmax: dim");
    cr_assert_null(nd_logsumexp(g("x3"), -4, false));
    assert_error("nd_logsumexp: dim -4 out of range");
    nd_clear_error();
    cr_assert_null(nd_softmax(NULL, 0));
    assert_error("nd_softmax: NULL input");
    cr_assert_null(nd_logsumexp(NULL, 0, false));
    assert_error("nd_softmax: NULL input"); /* the first error is kept */
}

/* ------------------------------------------------------------- gradients */

static nd_tensor *logsumexp1(nd_tensor *x) {
    return nd_logsumexp(x, 1, false);
}
static nd_tensor *softmax0(nd_tensor *x) {
    return nd_softmax(x, 0);
}
static nd_tensor *log_softmax1(nd_tensor *x) {
    return nd_log_softmax(x, 1);
}

ND_TEST(grad, logsumexp) {
    check_gradients("logsumexp1", logsumexp1);
}
ND_TEST(grad, softmax) {
    check_gradients("softmax0", softmax0);
}
ND_TEST(grad, log_softmax) {
    check_gradients("log_softmax1", log_softmax1);
}

ND_TEST(grad, logsumexp_over_everything_and_keepdim) {
    /* d lse / dx = softmax(x), whatever the dims */
    nd_tensor *x0 = g("gx");
    nd_tensor *x = nd_set_requires_grad(nd_clone(x0), true);
    nd_tensor *all = nd_logsumexp(x, ND_ALL, true);
    assert_shape(all, ND_SHAPE(1, 1));
    nd_tensor *expected = nd_reshape(nd_softmax(nd_flatten(x0), 0), ND_SHAPE(3, 4));
    assert_close(nd_gradient(nd_sum(all, ND_ALL, false), x, false), expected, 1e-12, 1e-14);
    nd_tensor *dual = nd_make_dual(x0, nd_ones(ND_F64, ND_SHAPE(3, 4)));
    assert_values(nd_tangent(nd_logsumexp(dual, 0, true)), 1e-12, 1, 1, 1, 1);
}

static nd_tensor *softmax_loss(int which, nd_tensor *x) {
    nd_tensor *w = nd_parse("[1.0, -2.0, 0.5]");
    nd_tensor *y = which == 0   ? nd_softmax(x, 0)
                   : which == 1 ? nd_log_softmax(x, 0)
                                : nd_mul(nd_logsumexp(x, 0, true), w);
    return nd_sum(nd_mul(y, w), ND_ALL, false);
}

ND_TEST(grad, forward_over_reverse) {
    /* The tangent of a gradient is a Hessian-vector product: the rules must
     * pass the input's tangent on (they recompute the output from the input). */
    for (int which = 0; which < 3; which++) {
        nd_tensor *x = nd_set_requires_grad(nd_to(nd_parse("[0.3, -1.2, 2.0]"), ND_F64), true);
        nd_tensor *dual = nd_make_dual(x, nd_to(nd_parse("[1.0, 0.0, 0.0]"), ND_F64));
        nd_tensor *gx = nd_gradient(softmax_loss(which, dual), x, true);
        nd_tensor *x2 = nd_set_requires_grad(nd_to(nd_parse("[0.3, -1.2, 2.0]"), ND_F64), true);
        nd_tensor *g2 = nd_gradient(softmax_loss(which, x2), x2, true);
        nd_tensor *hessian_row = nd_gradient(nd_select(g2, 0, 0), x2, false); /* symmetric */
        assert_close(nd_tangent(gx), hessian_row, 1e-12, 1e-14);
    }
}
