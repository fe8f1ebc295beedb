/* Indexing with tensors: index_select, gather, masked_select. Expected values
 * and gradients from PyTorch (tests/reference/shape.py). */
#include "shape_grad.h"

static nd_tensor *T(void) {
    return golden("shape_t.npy");
} /* arange(24.).reshape(2, 3, 4) */

/* A bool mask from a predicate on t's values (nd has no remainder op to build it with). */
static nd_tensor *mask_where(nd_tensor *t, bool (*keep)(double)) {
    int64_t n = nd_numel(t);
    double *v = malloc((size_t)n * sizeof *v);
    bool *m = malloc((size_t)n);
    cr_assert(v && m && nd_read(t, ND_F64, v, (size_t)n * sizeof *v) == 0);
    for (int64_t i = 0; i < n; i++) m[i] = keep(v[i]);
    nd_tensor *mask = nd_from(ND_BOOL, nd_ndim(t), nd_shape(t), m);
    free(v);
    free(m);
    return mask;
}
static bool multiple_of_3(double v) {
    return fmod(v, 3) == 0;
}

ND_TEST(index_select, matches_torch) {
    nd_tensor *t = T();
    nd_tensor *rows = nd_from(ND_I64, ND_SHAPE(3), (const int64_t[]){2, 0, 2});
    assert_close(nd_index_select(t, 1, rows), golden("shape_index_select_1.npy"), 0, 0);
    nd_tensor *cols = nd_from(ND_I32, ND_SHAPE(2), (const int32_t[]){3, 1});
    assert_close(nd_index_select(t, -1, cols), golden("shape_index_select_m1.npy"), 0, 0);
    /* a 0-d index keeps the dim with size 1, as torch */
    assert_shape(nd_index_select(t, 0, nd_scalar(1, ND_I64)), ND_SHAPE(1, 3, 4));
    assert_shape(nd_index_select(t, 2, nd_zeros(ND_I64, ND_SHAPE(0))), ND_SHAPE(2, 3, 0));
}

ND_TEST(index_select, strided_inputs) {
    nd_tensor *t = T();
    nd_tensor *tt = nd_permute(t, 3, (const int[]){2, 0, 1}); /* (4, 2, 3), not contiguous */
    nd_tensor *idx = nd_slice(nd_from(ND_I64, ND_SHAPE(5), (const int64_t[]){2, 9, 0, 9, 2}), 0,
                              ND_END, ND_END, 2); /* [2, 0, 2] with stride 2 */
    nd_tensor *got = nd_index_select(tt, 2, idx);
    nd_tensor *want = nd_permute(golden("shape_index_select_1.npy"), 3, (const int[]){2, 0, 1});
    assert_close(got, want, 0, 0);
}

ND_TEST(gather, matches_torch) {
    nd_tensor *t = T();
    assert_close(nd_gather(t, 2, golden("shape_gather_idx.npy")), golden("shape_gather_2.npy"), 0,
                 0);
    assert_close(nd_gather(t, -2, golden("shape_gather_idx1.npy")), golden("shape_gather_1.npy"), 0,
                 0);
    /* on a transposed tensor with transposed indices: the transposed answer */
    nd_tensor *got =
        nd_gather(nd_transpose(t, 0, 2), 0, nd_transpose(golden("shape_gather_idx.npy"), 0, 2));
    assert_close(got, nd_transpose(golden("shape_gather_2.npy"), 0, 2), 0, 0);
    /* 0-d, as torch: the only index is 0 */
    assert_values(nd_gather(nd_scalar(4, ND_F32), 0, nd_scalar(0, ND_I64)), 0, 4);
}

ND_TEST(masked_select, matches_torch) {
    nd_tensor *t = T();
    assert_close(nd_masked_select(t, mask_where(t, multiple_of_3)), golden("shape_masked_mod3.npy"),
                 0, 0);
    nd_tensor *row_mask = nd_parse("[true, false, true, true]"); /* broadcast over rows */
    assert_close(nd_masked_select(t, row_mask), golden("shape_masked_rows.npy"), 0, 0);
    nd_tensor *col = nd_reshape(nd_arange(0, 3, 1, ND_F64), ND_SHAPE(3, 1));
    nd_tensor *grid = nd_parse("[[true, false, true], [false, false, false], [true, true, true]]");
    assert_close(nd_masked_select(col, grid), golden("shape_masked_broadcast.npy"), 0, 0);
    /* strided input, integers */
    nd_tensor *ti = nd_t(nd_reshape(nd_arange(0, 6, 1, ND_I64), ND_SHAPE(2, 3)));
    nd_tensor *none = nd_masked_select(ti, nd_zeros(ND_BOOL, ND_SHAPE(3, 2)));
    assert_shape(none, ND_SHAPE(0));
    assert_values(nd_masked_select(ti, nd_parse("[[true, true], [false, false], [false, true]]")),
                  0, 0, 3, 5);
}

ND_TEST(errors, index_select) {
    nd_tensor *t = T();
    cr_assert_null(nd_index_select(t, 1, nd_from(ND_I64, ND_SHAPE(2), (const int64_t[]){0, 3})));
    assert_error("nd_index_select: index 3 is out of range for dim 1 of size 3");
    cr_assert_null(nd_index_select(t, 1, nd_from(ND_I64, ND_SHAPE(1), (const int64_t[]){-1})));
    assert_error("nd_index_select: index -1 is out of range for dim 1 of size 3");
    cr_assert_null(nd_index_select(t, 0, nd_zeros(ND_F32, ND_SHAPE(1))));
    assert_error("nd_index_select: indices must be an int64 or int32 tensor, got float32");
    cr_assert_null(nd_index_select(t, 0, nd_zeros(ND_I64, ND_SHAPE(1, 1))));
    assert_error("nd_index_select: indices must be 1-d, got shape (1, 1)");
    cr_assert_null(nd_index_select(t, 3, nd_zeros(ND_I64, ND_SHAPE(1))));
    assert_error("nd_index_select: dim 3 out of range for a 3-d tensor");
    cr_assert_null(nd_index_select(nd_scalar(1, ND_F32), 0, nd_zeros(ND_I64, ND_SHAPE(1))));
    assert_error("nd_index_select: cannot index a 0-d tensor");
    nd_clear_error();
    cr_assert_null(nd_index_select(t, 0, NULL));
    assert_error("nd_index_select: NULL input");
}

ND_TEST(errors, gather) {
    nd_tensor *t = T();
    cr_assert_null(nd_gather(t, 1, nd_zeros(ND_I64, ND_SHAPE(2, 3))));
    assert_error("nd_gather: indices of shape (2, 3) and a tensor of shape (2, 3, 4) must have the "
                 "same number of dims");
    cr_assert_null(nd_gather(t, 1, nd_zeros(ND_I64, ND_SHAPE(2, 3, 5))));
    assert_error("nd_gather: indices of shape (2, 3, 5) are larger than the tensor of shape (2, 3, "
                 "4) at dim 2");
    cr_assert_null(nd_gather(t, 2, nd_full(ND_I64, ND_SHAPE(1, 1, 1), 4)));
    assert_error("nd_gather: index 4 is out of range for dim 2 of size 4");
    cr_assert_null(nd_gather(t, -1, nd_full(ND_I32, ND_SHAPE(1, 1, 1), -1)));
    assert_error("nd_gather: index -1 is out of range for dim -1 of size 4");
    cr_assert_null(nd_gather(t, 0, nd_zeros(ND_U8, ND_SHAPE(1, 1, 1))));
    assert_error("nd_gather: indices must be an int64 or int32 tensor, got uint8");
    cr_assert_null(nd_gather(t, -4, nd_zeros(ND_I64, ND_SHAPE(1, 1, 1))));
    assert_error("nd_gather: dim -4 out of range");
    nd_clear_error();
    cr_assert_null(nd_gather(NULL, 0, t));
    assert_error("nd_gather: NULL input");
}

ND_TEST(errors, masked_select) {
    nd_tensor *t = T();
    cr_assert_null(nd_masked_select(t, nd_ones(ND_U8, ND_SHAPE(4))));
    assert_error("nd_masked_select: the mask must be a bool tensor, got uint8");
    cr_assert_null(nd_masked_select(t, nd_ones(ND_BOOL, ND_SHAPE(5))));
    assert_error("nd_masked_select: shapes (2, 3, 4) and (5,) do not broadcast");
    nd_clear_error();
    cr_assert_null(nd_masked_select(t, NULL));
    assert_error("nd_masked_select: NULL input");
}

/* ------------------------------------------------------------ gradients */

ND_TEST(grad, repeated_indices_add_up_as_torch) {
    nd_tensor *x = nd_set_requires_grad(nd_clone(T()), true);
    nd_tensor *w = nd_reshape(nd_linspace(-1, 1, 12, ND_F64), ND_SHAPE(2, 2, 3));
    nd_tensor *y =
        nd_sum(nd_mul(nd_gather(x, 2, golden("shape_gather_idx.npy")), w), ND_ALL, false);
    cr_assert_str_eq(nd_grad_fn_name(nd_gather(x, 2, golden("shape_gather_idx.npy"))), "gather");
    cr_assert_eq(nd_backward(y), 0, "%s", nd_last_error());
    assert_close(nd_grad(x), golden("shape_gather_grad.npy"), 1e-12, 1e-12);

    nd_zero_grad(x);
    nd_tensor *rows = nd_from(ND_I64, ND_SHAPE(3), (const int64_t[]){2, 0, 2});
    nd_tensor *weights = nd_reshape(nd_arange(1, 4, 1, ND_F64), ND_SHAPE(1, 3, 1));
    y = nd_sum(nd_mul(nd_index_select(x, 1, rows), weights), ND_ALL, false);
    cr_assert_eq(nd_backward(y), 0, "%s", nd_last_error());
    assert_close(nd_grad(x), golden("shape_index_select_grad.npy"), 1e-12, 1e-12);

    nd_tensor *col =
        nd_set_requires_grad(nd_reshape(nd_arange(0, 3, 1, ND_F64), ND_SHAPE(3, 1)), true);
    nd_tensor *grid = nd_parse("[[true, false, true], [false, false, false], [true, true, true]]");
    nd_tensor *picked = nd_masked_select(col, grid);
    y = nd_sum(nd_mul(picked, nd_arange(1, 6, 1, ND_F64)), ND_ALL, false);
    cr_assert_eq(nd_backward(y), 0, "%s", nd_last_error());
    assert_close(nd_grad(col), golden("shape_masked_broadcast_grad.npy"), 1e-12, 1e-12);
}

static nd_tensor *f_index_select(nd_tensor *x, void *ctx) {
    (void)ctx;
    nd_tensor *idx = nd_from(ND_I32, ND_SHAPE(5), (const int32_t[]){3, 0, 3, 3, 1});
    return nd_index_select(nd_t(x), 0, idx); /* (5, 3) from rows of x's transpose */
}
static nd_tensor *f_gather(nd_tensor *x, void *ctx) {
    (void)ctx;
    int64_t idx[] = {1, 1, 0, 2, 2, 2, 0, 1};
    return nd_gather(nd_t(x), 1, nd_from(ND_I64, ND_SHAPE(4, 2), idx)); /* repeats add */
}
static nd_tensor *f_masked_select(nd_tensor *x, void *ctx) {
    (void)ctx;
    nd_tensor *mask = nd_gt(nd_reshape(nd_arange(0, 24, 1, ND_F64), ND_SHAPE(2, 3, 4)),
                            nd_scalar(9.5, ND_F64)); /* broadcasts x (3, 4) to (2, 3, 4) */
    return nd_masked_select(nd_slice(x, 1, ND_END, ND_END, -1), mask);
}

ND_TEST(grad, indexing_both_modes_and_second_order) {
    nd_tensor *x = nd_randn(ND_F64, ND_SHAPE(3, 4));
    check_grads(f_index_select, NULL, x);
    check_grads(f_gather, NULL, x);
    check_grads(f_masked_select, NULL, x);
}

ND_TEST(grad, changing_the_indices_in_place_fails_the_backward_pass) {
    nd_tensor *x = nd_set_requires_grad(nd_clone(T()), true);
    nd_tensor *idx = nd_zeros(ND_I64, ND_SHAPE(2, 3, 1));
    nd_tensor *y = nd_sum(nd_gather(x, 2, idx), ND_ALL, false);
    cr_assert_eq(nd_fill_(idx, 3), 0);
    cr_assert_eq(nd_backward(y), -1);
    assert_error("input 1 of 'gather' (shape (2, 3, 1)) was modified in place");
    nd_tensor *mask = nd_ones(ND_BOOL, ND_SHAPE(2, 3, 4));
    y = nd_sum(nd_masked_select(x, mask), ND_ALL, false);
    cr_assert_eq(nd_fill_(mask, 0), 0);
    cr_assert_eq(nd_backward(y), -1);
    assert_error("of 'masked_select' (shape (2, 3, 4)) was modified in place");
}
