/* Joining: nd_cat and nd_stack. Expected values from NumPy (tests/reference/shape.py). */
#include "shape_grad.h"

ND_TEST(d2l, cat_on_dims_0_and_1) {
    nd_tensor *X = golden("shape_d2l_x.npy"), *Y = golden("shape_d2l_y.npy");
    nd_tensor *XY[] = {X, Y};
    assert_close(nd_cat(2, XY, 0), golden("shape_d2l_cat0.npy"), 0, 0);
    assert_close(nd_cat(2, XY, 1), golden("shape_d2l_cat1.npy"), 0, 0);
    assert_close(nd_cat(2, XY, -1), golden("shape_d2l_cat1.npy"), 0, 0);
    assert_close(nd_cat(2, XY, -2), golden("shape_d2l_cat0.npy"), 0, 0);
    nd_tensor *one = nd_cat(1, &X, 0);
    assert_close(one, X, 0, 0);
    cr_assert(one != X && !nd_shares_storage(one, X), "cat always copies");
}

ND_TEST(d2l, stack_on_every_dim) {
    nd_tensor *XY[] = {golden("shape_d2l_x.npy"), golden("shape_d2l_y.npy")};
    assert_close(nd_stack(2, XY, 0), golden("shape_stack0.npy"), 0, 0);
    assert_close(nd_stack(2, XY, 1), golden("shape_stack1.npy"), 0, 0);
    assert_close(nd_stack(2, XY, 2), golden("shape_stack2.npy"), 0, 0);
    assert_close(nd_stack(2, XY, -1), golden("shape_stack_m1.npy"), 0, 0);
    assert_close(nd_stack(2, XY, -3), golden("shape_stack0.npy"), 0, 0);
    nd_tensor *scalars[] = {nd_scalar(1, ND_F32), nd_scalar(2, ND_F32), nd_scalar(3, ND_F32)};
    nd_tensor *v = nd_stack(3, scalars, 0);
    assert_shape(v, ND_SHAPE(3));
    assert_values(v, 0, 1, 2, 3);
}

ND_TEST(cat, strided_inputs) {
    nd_tensor *A = nd_reshape(nd_arange(0, 120, 1, ND_F64), ND_SHAPE(2, 3, 4, 5));
    nd_tensor *B = nd_permute(A, 4, (const int[]){2, 0, 3, 1});
    nd_tensor *C = nd_slice(nd_slice(B, 1, ND_END, ND_END, -1), 2, 1, ND_END, 2);
    nd_tensor *parts[] = {nd_slice(B, 2, 1, 4, 1), C};
    assert_close(nd_cat(2, parts, 2), golden("shape_cat_strided.npy"), 0, 0);
}

ND_TEST(cat, many_inputs_promotion_and_empty_tensors) {
    nd_tensor *parts[6];
    for (int i = 0; i < 6; i++) parts[i] = nd_full(ND_I32, ND_SHAPE(1, 2), i);
    parts[3] = nd_full(ND_F32, ND_SHAPE(1, 2), 3.5); /* int + float: float32, as torch */
    nd_tensor *r = nd_cat(6, parts, 0);
    cr_assert_eq(nd_type(r), ND_F32);
    assert_values(r, 0, 0, 0, 1, 1, 2, 2, 3.5, 3.5, 4, 4, 5, 5);
    /* 1-d empty tensors are skipped whatever the other shapes (torch's legacy rule) */
    nd_tensor *X = golden("shape_d2l_x.npy");
    nd_tensor *with_empty[] = {nd_zeros(ND_F32, ND_SHAPE(0)), X, nd_zeros(ND_F64, ND_SHAPE(0))};
    nd_tensor *skipped = nd_cat(3, with_empty, 1);
    cr_assert_eq(nd_type(skipped), ND_F64);
    assert_close(skipped, X, 0, 0);
    nd_tensor *only_empty[] = {nd_zeros(ND_F32, ND_SHAPE(0)), nd_zeros(ND_F32, ND_SHAPE(0))};
    assert_shape(nd_cat(2, only_empty, 0), ND_SHAPE(0));
    /* an empty slab along the cat dim is fine */
    nd_tensor *slabs[] = {nd_zeros(ND_F32, ND_SHAPE(2, 0)), nd_ones(ND_F32, ND_SHAPE(2, 3))};
    assert_values(nd_cat(2, slabs, 1), 0, 1, 1, 1, 1, 1, 1);
    nd_tensor *bools[] = {nd_parse("[true]"), nd_parse("[false, true]")};
    nd_tensor *b = nd_cat(2, bools, 0);
    cr_assert_eq(nd_type(b), ND_BOOL);
    assert_values(b, 0, 1, 0, 1);
}

ND_TEST(errors, cat) {
    nd_tensor *a = nd_zeros(ND_F32, ND_SHAPE(2, 3)), *b = nd_zeros(ND_F32, ND_SHAPE(2, 4));
    cr_assert_null(nd_cat(2, (nd_tensor *[]){a, b}, 0));
    assert_error("nd_cat: tensors of shapes (2, 3) (tensor 0) and (2, 4) (tensor 1) differ "
                 "outside the concatenation dim 0");
    cr_assert_not_null(nd_cat(2, (nd_tensor *[]){a, b}, -1));
    cr_assert_null(nd_cat(2, (nd_tensor *[]){a, nd_zeros(ND_F32, ND_SHAPE(3))}, 0));
    assert_error("nd_cat: tensors of shapes (2, 3) (tensor 0) and (3,) (tensor 1)");
    cr_assert_null(nd_cat(2, (nd_tensor *[]){a, a}, 2));
    assert_error("nd_cat: dim 2 out of range for a 2-d tensor");
    cr_assert_null(nd_cat(2, (nd_tensor *[]){nd_scalar(1, ND_F32), nd_scalar(2, ND_F32)}, 0));
    assert_error("nd_cat: cannot concatenate 0-d tensors");
    cr_assert_null(nd_cat(0, (nd_tensor *[]){a}, 0));
    assert_error("nd_cat: expected at least one tensor, got 0");
    cr_assert_null(nd_cat(2, NULL, 0));
    assert_error("nd_cat: expected at least one tensor");
    nd_clear_error();
    cr_assert_null(nd_cat(2, (nd_tensor *[]){a, NULL}, 0));
    assert_error("nd_cat: NULL input");
}

ND_TEST(errors, stack) {
    nd_tensor *a = nd_zeros(ND_F32, ND_SHAPE(2, 3)), *b = nd_zeros(ND_F32, ND_SHAPE(3, 2));
    cr_assert_null(nd_stack(2, (nd_tensor *[]){a, b}, 0));
    assert_error("nd_stack: every tensor must have the same shape: tensor 0 has shape (2, 3), "
                 "tensor 1 has shape (3, 2)");
    cr_assert_null(nd_stack(2, (nd_tensor *[]){a, a}, 3));
    assert_error("nd_stack: dim 3 out of range for a 3-d tensor (expected -3 to 2)");
    cr_assert_null(nd_stack(0, NULL, 0));
    assert_error("nd_stack: expected at least one tensor, got 0");
    int64_t sixteen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    nd_tensor *big = nd_zeros(ND_F32, 16, sixteen);
    cr_assert_null(nd_stack(2, (nd_tensor *[]){big, big}, 0));
    assert_error("would need more than 16 dims");
    nd_clear_error();
    cr_assert_null(nd_stack(2, (nd_tensor *[]){NULL, a}, 0));
    assert_error("nd_stack: NULL input");
}

/* ------------------------------------------------------------ gradients */

/* x with pieces of itself, a constant and an integer tensor, in four inputs:
 * the gradient slices g, the tangent cats zeros where an input has none. */
static nd_tensor *f_cat(nd_tensor *x, void *ctx) {
    (void)ctx;
    nd_tensor *parts[] = {nd_slice(x, 1, 1, 3, 1), nd_t(nd_reshape(x, ND_SHAPE(4, 3))),
                          nd_full(ND_F32, ND_SHAPE(3, 2), 0.5), nd_ones(ND_I64, ND_SHAPE(3, 1)),
                          nd_zeros(ND_F64, ND_SHAPE(0))};
    return nd_cat(5, parts, -1);
}
static nd_tensor *f_cat_rows(nd_tensor *x, void *ctx) {
    (void)ctx;
    nd_tensor *parts[] = {nd_unsqueeze(nd_select(x, 0, 2), 0), x, nd_slice(x, 0, ND_END, 0, -1)};
    return nd_cat(3, parts, 0);
}
static nd_tensor *f_stack(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_stack(3, (nd_tensor *[]){x, nd_mul_scalar(x, 2), nd_zeros(ND_F64, ND_SHAPE(3, 4))},
                    1);
}

ND_TEST(grad, cat_and_stack_both_modes_and_second_order) {
    nd_tensor *x = nd_randn(ND_F64, ND_SHAPE(3, 4));
    check_grads(f_cat, NULL, x);
    check_grads(f_cat_rows, NULL, x);
    check_grads(f_stack, NULL, x);
}

ND_TEST(grad, cat_gives_each_input_its_slice) {
    nd_tensor *a = nd_set_requires_grad(nd_zeros(ND_F64, ND_SHAPE(2)), true);
    nd_tensor *b = nd_set_requires_grad(nd_zeros(ND_F32, ND_SHAPE(3)), true);
    nd_tensor *y = nd_cat(2, (nd_tensor *[]){a, b}, 0);
    cr_assert_str_eq(nd_grad_fn_name(y), "cat");
    cr_assert_eq(nd_backward_with(y, nd_arange(1, 6, 1, ND_F64)), 0, "%s", nd_last_error());
    assert_values(nd_grad(a), 0, 1, 2);
    assert_values(nd_grad(b), 0, 3, 4, 5);
    cr_assert_eq(nd_type(nd_grad(b)), ND_F32);
}
