/* The reverse-mode engine and forward mode: d2l's autograd section value for
 * value, the course's z = (<x, w> - y)², accumulation, pruning, detach, in-place
 * safety, memory, and every error the engine can give. */
#include "support.h"

#include <stdlib.h>

ND_TEST(autograd, d2l_dot_product) {
    /* x = arange(4.); y = 2 * dot(x, x); y.backward(); x.grad == 4x */
    nd_tensor *x = nd_set_requires_grad(nd_arange(0, 4, 1, ND_F32), true);
    nd_tensor *y = nd_mul_scalar(nd_dot(x, x), 2);
    assert_values(y, 0, 28);
    cr_assert_eq(nd_backward(y), 0, "%s", nd_last_error());
    assert_values(nd_grad(x), 0, 0, 4, 8, 12);
}

ND_TEST(autograd, accumulates_and_zeroes) {
    nd_tensor *x = nd_set_requires_grad(nd_arange(0, 4, 1, ND_F32), true);
    cr_assert_eq(nd_backward(nd_sum(x, ND_ALL, false)), 0);
    assert_values(nd_grad(x), 0, 1, 1, 1, 1);
    cr_assert_eq(nd_backward(nd_sum(x, ND_ALL, false)), 0);
    assert_values(nd_grad(x), 0, 2, 2, 2, 2); /* accumulated, as PyTorch */
    nd_zero_grad(x);
    assert_values(nd_grad(x), 0, 0, 0, 0, 0);
    cr_assert_eq(nd_backward(nd_sum(x, ND_ALL, false)), 0);
    assert_values(nd_grad(x), 0, 1, 1, 1, 1);
}

ND_TEST(autograd, sum_of_non_scalar) {
    /* y = x * x; y.sum().backward() == y.backward(gradient=ones) */
    nd_tensor *x = nd_set_requires_grad(nd_arange(0, 4, 1, ND_F32), true);
    nd_tensor *y = nd_mul(x, x);
    cr_assert_eq(nd_backward_with(y, nd_ones_like(y)), 0);
    assert_values(nd_grad(x), 0, 0, 2, 4, 6);
}

ND_TEST(autograd, detach_cuts_the_graph) {
    /* y = x * x; u = y.detach(); z = u * x; dz/dx == u */
    nd_tensor *x = nd_set_requires_grad(nd_arange(0, 4, 1, ND_F32), true);
    nd_tensor *y = nd_mul(x, x);
    nd_tensor *u = nd_detach(y);
    cr_assert(!nd_requires_grad(u));
    cr_assert(nd_shares_storage(u, y));
    nd_tensor *z = nd_mul(u, x);
    cr_assert_eq(nd_backward(nd_sum(z, ND_ALL, false)), 0);
    assert_close(nd_grad(x), u, 0, 0);
    nd_zero_grad(x);
    cr_assert_eq(nd_backward(nd_sum(y, ND_ALL, false)), 0);
    assert_values(nd_grad(x), 0, 0, 2, 4, 6);
}

/* d2l: b = a * 2; while b.norm() < 1000: b = b * 2; c = b if b.sum() > 0 else 100 * b */
static nd_tensor *control_flow(nd_tensor *a) {
    nd_tensor *b = nd_mul_scalar(a, 2);
    while (nd_item(nd_norm(b, 2)) < 1000) b = nd_mul_scalar(b, 2);
    return nd_item(nd_sum(b, ND_ALL, false)) > 0 ? b : nd_mul_scalar(b, 100);
}

ND_TEST(autograd, through_loops_and_branches) {
    double values[] = {0.7, -1.3};
    for (int k = 0; k < 2; k++) {
        nd_tensor *a = nd_set_requires_grad(nd_scalar(values[k], ND_F32), true);
        nd_tensor *d = control_flow(a);
        cr_assert_eq(nd_backward(d), 0);
        /* d is linear in a, so the gradient is d / a */
        double expected = nd_item(d) / nd_item(a);
        cr_assert_float_eq(nd_item(nd_grad(a)), expected, 1e-6 * fabs(expected));
    }
}

ND_TEST(autograd, course_example_both_modes) {
    /* z = (<x, w> - y)²; dz/dw = 2(<x, w> - y) xᵀ */
    nd_tensor *x = nd_parse("[1.0, 2.0, 3.0]");
    nd_tensor *w = nd_set_requires_grad(nd_parse("[0.5, -1.0, 2.0]"), true);
    nd_tensor *y = nd_scalar(1, ND_F32);
    nd_tensor *a = nd_dot(x, w), *b = nd_sub(a, y), *z = nd_pow_scalar(b, 2);
    assert_values(a, 1e-6, 4.5);
    assert_values(b, 1e-6, 3.5);
    assert_values(z, 1e-6, 12.25);
    cr_assert_eq(nd_backward(z), 0);
    assert_values(nd_grad(w), 1e-6, 7, 14, 21); /* 2 · 3.5 · x */
    /* forward mode: one pass per direction e_i gives dz/dw_i */
    for (int i = 0; i < 3; i++) {
        nd_tensor *e = nd_zeros(ND_F32, ND_SHAPE(3));
        nd_copy_(nd_select(e, 0, i), nd_scalar(1, ND_F32));
        nd_tensor *wd = nd_make_dual(nd_detach(w), e);
        nd_tensor *zd = nd_pow_scalar(nd_sub(nd_dot(x, wd), y), 2);
        cr_assert(nd_tangent(zd), "%s", nd_last_error());
        cr_assert_float_eq(nd_item(nd_tangent(zd)), 7.0 * (i + 1), 1e-5);
    }
}

ND_TEST(autograd, gradient_of_intermediate_and_higher_order) {
    nd_tensor *x = nd_set_requires_grad(nd_scalar(2, ND_F64), true);
    nd_tensor *u = nd_mul(x, x);                       /* u = x² */
    nd_tensor *y = nd_mul(u, u);                       /* y = u² = x⁴ */
    assert_values(nd_gradient(y, u, false), 1e-12, 8); /* dy/du = 2u = 8 */
    nd_tensor *dy = nd_gradient(y, x, true);           /* 4x³ = 32 */
    assert_values(dy, 1e-12, 32);
    nd_tensor *d2y = nd_gradient(dy, x, true); /* 12x² = 48 */
    assert_values(d2y, 1e-12, 48);
    assert_values(nd_gradient(d2y, x, false), 1e-12, 48); /* 24x */
}

ND_TEST(autograd, broadcast_gradients_are_summed_back) {
    nd_tensor *a = nd_set_requires_grad(nd_ones(ND_F64, ND_SHAPE(3, 1)), true);
    nd_tensor *b = nd_set_requires_grad(nd_ones(ND_F64, ND_SHAPE(1, 2)), true);
    nd_tensor *s = nd_sum(nd_mul(nd_add(a, b), nd_scalar(3, ND_F64)), ND_ALL, false);
    cr_assert_eq(nd_backward(s), 0);
    assert_shape(nd_grad(a), ND_SHAPE(3, 1));
    assert_values(nd_grad(a), 0, 6, 6, 6);
    assert_shape(nd_grad(b), ND_SHAPE(1, 2));
    assert_values(nd_grad(b), 0, 9, 9);
}

ND_TEST(autograd, pruned_branches_get_no_gradient) {
    nd_tensor *x = nd_set_requires_grad(nd_ones(ND_F32, ND_SHAPE(2)), true);
    nd_tensor *c = nd_ones(ND_F32, ND_SHAPE(2)); /* needs no gradient */
    cr_assert_eq(nd_backward(nd_sum(nd_mul(x, c), ND_ALL, false)), 0);
    cr_assert_null(nd_grad(c));
    cr_assert(nd_grad(x));
}

ND_TEST(autograd, grad_mode_off_records_nothing) {
    nd_tensor *x = nd_set_requires_grad(nd_ones(ND_F32, ND_SHAPE(2)), true);
    bool previous = nd_set_grad_enabled(false);
    nd_tensor *y = nd_mul(x, x);
    nd_set_grad_enabled(previous);
    cr_assert(!nd_requires_grad(y));
    cr_assert_eq(nd_backward(nd_sum(y, ND_ALL, false)), -1);
    assert_error("does not require a gradient");
}

ND_TEST(autograd, in_place_change_of_saved_tensor_fails) {
    nd_tensor *x = nd_set_requires_grad(nd_ones(ND_F32, ND_SHAPE(3)), true);
    nd_tensor *c = nd_full(ND_F32, ND_SHAPE(3), 2);
    nd_tensor *y = nd_sum(nd_mul(x, c), ND_ALL, false); /* mul saved c */
    cr_assert_eq(nd_fill_(c, 5), 0);
    cr_assert_eq(nd_backward(y), -1);
    assert_error("modified in place");
    cr_assert_eq(nd_fill_(x, 1), -1); /* a leaf that requires grad is not written in place */
    assert_error("requires a gradient");
}

ND_TEST(autograd, errors) {
    nd_tensor *x = nd_set_requires_grad(nd_ones(ND_F32, ND_SHAPE(3)), true);
    nd_tensor *y = nd_mul(x, x);
    cr_assert_eq(nd_backward(y), -1);
    assert_error("shape (3,)");
    cr_assert_eq(nd_backward_with(y, nd_ones(ND_F32, ND_SHAPE(2))), -1);
    assert_error("seed of shape (2,)");
    cr_assert_eq(nd_backward(nd_sum(nd_ones(ND_F32, ND_SHAPE(3)), ND_ALL, false)), -1);
    assert_error("does not require a gradient");
    cr_assert_null(nd_set_requires_grad(nd_ones(ND_I64, ND_SHAPE(2)), true));
    assert_error("floating-point");
    nd_clear_error();
    cr_assert_eq(nd_backward(NULL), -1);
    assert_error("NULL");
    cr_assert_null(nd_make_dual(x, nd_ones(ND_F32, ND_SHAPE(4))));
    assert_error("does not match");
}

ND_TEST(autograd, forward_mode_every_result_of_a_dual_has_a_tangent) {
    nd_tensor *x = nd_make_dual(nd_parse("[1.0, 2.0]"), nd_parse("[1.0, 0.0]"));
    nd_tensor *y = nd_exp(nd_mul(x, x)); /* d/dx0 exp(x0²) = 2 x0 exp(x0²) */
    cr_assert(nd_tangent(y));
    assert_values(nd_tangent(y), 1e-5, 2 * exp(1.0), 0);
    nd_tensor *v = nd_reshape(x, ND_SHAPE(2, 1)); /* views carry tangents too */
    cr_assert(nd_tangent(v));
    assert_shape(nd_tangent(v), ND_SHAPE(2, 1));
}

ND_TEST(autograd, memory_stays_flat_in_scoped_loop) {
    nd_tensor *w = nd_set_requires_grad(nd_ones(ND_F32, ND_SHAPE(16)), true);
    nd_tensor *x = nd_ones(ND_F32, ND_SHAPE(16));
    size_t before = 0, after = 0;
    for (int i = 0; i < 100000; i++) {
        nd_scope_begin();
        nd_tensor *loss = nd_sum(nd_square(nd_sub(nd_mul(w, x), x)), ND_ALL, false);
        nd_backward(loss);
        nd_scope_end();
        if (i == 1000) before = bytes_in_use();
        if (i == 99999) after = bytes_in_use();
    }
    cr_assert(after < before + 64 * 1024, "bytes in use grew from %zu to %zu", before, after);
}

/* One pass for every target (backward_targets.py): an input given twice gets
 * its gradient twice; the output itself and an intermediate among the inputs
 * do not stop the pass before the inputs behind them. */
ND_TEST(backward_targets, an_input_given_twice) {
    nd_tensor *x = nd_set_requires_grad(nd_clone(golden("backward_targets_x.npy")), true);
    nd_tensor *g[2];
    nd_tensor *y = nd_sum(nd_sin(nd_mul(x, x)), ND_ALL, false);
    cr_assert_eq(nd_gradients(y, 2, (nd_tensor *[]){x, x}, g, false), 0, "%s", nd_last_error());
    assert_close(g[0], golden("backward_targets_twice_0.npy"), 1e-14, 0);
    assert_close(g[1], golden("backward_targets_twice_1.npy"), 1e-14, 0);
}

ND_TEST(backward_targets, the_output_and_an_intermediate_among_the_inputs) {
    nd_tensor *x = nd_set_requires_grad(nd_clone(golden("backward_targets_x.npy")), true);
    nd_tensor *z = nd_mul(x, x);
    nd_tensor *w = nd_sum(nd_exp(nd_mul_scalar(z, 0.5)), ND_ALL, false);
    nd_tensor *g[3];
    cr_assert_eq(nd_gradients(w, 3, (nd_tensor *[]){w, z, x}, g, false), 0, "%s", nd_last_error());
    assert_close(g[0], golden("backward_targets_with_output_w.npy"), 1e-14, 0);
    assert_close(g[1], golden("backward_targets_with_output_z.npy"), 1e-14, 0);
    assert_close(g[2], golden("backward_targets_with_output_x.npy"), 1e-14, 0);
}
