/* Views: reshape, view, flatten, transpose, permute, squeeze, unsqueeze,
 * expand, slice and select. Expected values from NumPy (tests/reference/shape.py). */
#include "shape_grad.h"

#include <errno.h>

static nd_tensor *arange_f64(double n) {
    return nd_arange(0, n, 1, ND_F64);
}
static nd_tensor *A4d(void) {
    return nd_reshape(arange_f64(120), ND_SHAPE(2, 3, 4, 5));
}

/* ------------------------------------------------ d2l and the course's lab */

ND_TEST(d2l, arange_and_reshape) {
    nd_tensor *x = nd_arange(0, 12, 1, ND_F32);
    assert_shape(x, ND_SHAPE(12));
    cr_assert_eq(nd_numel(x), 12);
    nd_tensor *X = nd_reshape(x, ND_SHAPE(3, 4));
    assert_close(X, golden("shape_d2l_x.npy"), 0, 0);
    cr_assert(nd_shares_storage(X, x), "a contiguous reshape is a view");
    cr_assert(X != x);
    assert_close(nd_reshape(x, ND_SHAPE(-1, 4)), X, 0, 0);
    assert_close(nd_reshape(x, ND_SHAPE(3, -1)), X, 0, 0);
}

ND_TEST(d2l, index_and_slice) {
    nd_tensor *X = golden("shape_d2l_x.npy");
    assert_close(nd_select(X, 0, -1), golden("shape_d2l_last_row.npy"), 0, 0);
    assert_close(nd_slice(X, 0, 1, 3, 1), golden("shape_d2l_rows_1_3.npy"), 0, 0);
}

ND_TEST(d2l, write_through_views) {
    nd_tensor *X = golden("shape_d2l_x.npy");
    /* X[1, 2] = 9 */
    nd_tensor *element = nd_select(nd_select(X, 0, 1), 0, 2);
    assert_shape(element, 0, NULL);
    cr_assert_eq(nd_copy_(element, nd_scalar(9, ND_F32)), 0, "%s", nd_last_error());
    assert_close(X, golden("shape_d2l_set_9.npy"), 0, 0);
    /* X[0:2, :] = 12 */
    nd_tensor *rows = nd_slice(X, 0, 0, 2, 1);
    cr_assert(nd_shares_storage(rows, X));
    cr_assert_eq(nd_copy_(rows, nd_scalar(12, ND_F32)), 0, "%s", nd_last_error());
    assert_close(X, golden("shape_d2l_set_12.npy"), 0, 0);
    /* Z[:] = X + Y keeps Z's memory */
    nd_tensor *Z = nd_zeros(ND_F32, ND_SHAPE(3, 4));
    nd_tensor *all = nd_slice(Z, 0, ND_END, ND_END, 1);
    cr_assert_eq(nd_copy_(all, nd_add(X, golden("shape_d2l_y.npy"))), 0);
    assert_close(Z, nd_add(X, golden("shape_d2l_y.npy")), 0, 0);
}

ND_TEST(d2l, zero_to_five_dims) {
    nd_tensor *t = nd_scalar(3.5, ND_F64); /* 0-d: a scalar */
    cr_assert_eq(nd_ndim(t), 0);
    cr_assert_eq(nd_item(t), 3.5);
    for (int d = 1; d <= 5; d++) {
        t = nd_unsqueeze(t, 0);
        cr_assert_eq(nd_ndim(t), d);
        cr_assert_eq(nd_item(t), 3.5);
    }
    assert_shape(t, ND_SHAPE(1, 1, 1, 1, 1));
    assert_shape(nd_squeeze(t, ND_ALL), 0, NULL);
    assert_shape(nd_flatten(nd_scalar(2, ND_F32)), ND_SHAPE(1));
    /* a batch of RGB videos: (batch, time, channel, height, width) */
    nd_tensor *video = nd_reshape(arange_f64(2 * 3 * 3 * 4 * 5), ND_SHAPE(2, 3, 3, 4, 5));
    cr_assert_eq(nd_get(video, (const int64_t[]){1, 2, 0, 3, 4}), 1 * 180 + 2 * 60 + 19);
    nd_tensor *frame = nd_select(nd_select(video, 0, 1), 0, 2); /* (3, 4, 5) */
    assert_shape(frame, ND_SHAPE(3, 4, 5));
    cr_assert_eq(nd_get(frame, (const int64_t[]){0, 3, 4}), 1 * 180 + 2 * 60 + 19);
}

ND_TEST(d2l, adding_and_removing_dims) {
    nd_tensor *x = nd_reshape(arange_f64(6), ND_SHAPE(2, 3));
    assert_shape(nd_unsqueeze(x, 0), ND_SHAPE(1, 2, 3));
    assert_shape(nd_unsqueeze(x, 1), ND_SHAPE(2, 1, 3));
    assert_shape(nd_unsqueeze(x, 2), ND_SHAPE(2, 3, 1));
    assert_shape(nd_unsqueeze(x, -1), ND_SHAPE(2, 3, 1)); /* counted on the result */
    assert_shape(nd_unsqueeze(x, -3), ND_SHAPE(1, 2, 3));
    cr_assert(nd_is_contiguous(nd_unsqueeze(x, 1)));
    nd_tensor *padded = nd_reshape(x, ND_SHAPE(1, 2, 1, 3, 1));
    assert_shape(nd_squeeze(padded, ND_ALL), ND_SHAPE(2, 3));
    assert_shape(nd_squeeze(padded, 2), ND_SHAPE(1, 2, 3, 1));
    assert_shape(nd_squeeze(padded, -1), ND_SHAPE(1, 2, 1, 3));
    assert_shape(nd_squeeze(padded, 1), ND_SHAPE(1, 2, 1, 3, 1)); /* size 2: left as is */
    assert_values(nd_squeeze(padded, ND_ALL), 0, 0, 1, 2, 3, 4, 5);
}

/* ----------------------------------------------------- views and strides */

ND_TEST(view, reshape_of_transposed_is_a_view_when_strides_allow) {
    nd_tensor *A = A4d();
    nd_tensor *P = nd_permute(A, 4, (const int[]){1, 0, 2, 3}); /* (3, 2, 4, 5) */
    cr_assert(!nd_is_contiguous(P));
    nd_tensor *merged = nd_reshape(P, ND_SHAPE(3, 2, 20)); /* merges the contiguous tail */
    assert_close(merged, golden("shape_transposed_reshaped.npy"), 0, 0);
    cr_assert(nd_shares_storage(merged, A));
    cr_assert(nd_view(P, ND_SHAPE(3, 2, 20)) != NULL, "%s", nd_last_error());
    cr_assert(nd_view(P, ND_SHAPE(3, 2, 2, 10)) != NULL, "%s", nd_last_error());
    nd_tensor *copied = nd_reshape(P, ND_SHAPE(6, 20)); /* dims 0 and 1 straddle */
    cr_assert(!nd_shares_storage(copied, A));
    cr_assert(nd_is_contiguous(copied));
    assert_close(nd_reshape(copied, ND_SHAPE(3, 2, 20)), merged, 0, 0);
    cr_assert_null(nd_view(P, ND_SHAPE(6, 20)));
    assert_error("nd_view: a tensor of shape (3, 2, 4, 5) with strides (20, 60, 5, 1) cannot be "
                 "viewed as shape (6, 20) without a copy");
}

ND_TEST(view, size_one_dims_and_empty_tensors_view_freely) {
    nd_tensor *col = nd_slice(nd_reshape(arange_f64(12), ND_SHAPE(3, 4)), 1, 1, 2, 1); /* (3, 1) */
    cr_assert(nd_view(nd_unsqueeze(col, 0), ND_SHAPE(3)) != NULL, "%s", nd_last_error());
    assert_values(nd_view(col, ND_SHAPE(1, 3, 1)), 0, 1, 5, 9);
    nd_tensor *empty = nd_zeros(ND_F32, ND_SHAPE(0, 4));
    assert_shape(nd_view(nd_t(empty), ND_SHAPE(2, 0, 7)), ND_SHAPE(2, 0, 7));
    assert_shape(nd_reshape(empty, ND_SHAPE(2, 0, 8)), ND_SHAPE(2, 0, 8));
    assert_shape(nd_view(nd_scalar(1, ND_F32), ND_SHAPE(1, 1)), ND_SHAPE(1, 1));
}

ND_TEST(view, writes_through_every_view_reach_the_base) {
    nd_tensor *X = nd_zeros(ND_F64, ND_SHAPE(3, 4));
    cr_assert_eq(nd_copy_(nd_select(nd_t(X), 0, 1), nd_scalar(7, ND_F64)), 0); /* column 1 */
    cr_assert_eq(nd_fill_(nd_slice(nd_reshape(X, ND_SHAPE(12)), 0, -1, ND_END, -5), 1), 0);
    cr_assert_eq(
        nd_copy_(nd_squeeze(nd_unsqueeze(nd_select(X, 0, 0), 0), 0), nd_arange(10, 14, 1, ND_F64)),
        0);
    assert_values(X, 0, 10, 11, 12, 13, 0, 7, 1, 0, 0, 7, 0, 1);
}

ND_TEST(view, non_contiguous_chain_matches_numpy) {
    nd_tensor *B = nd_permute(A4d(), 4, (const int[]){2, 0, -1, 1});
    assert_close(B, golden("shape_permuted.npy"), 0, 0);
    nd_tensor *C = nd_slice(nd_slice(B, 1, ND_END, ND_END, -1), -2, 1, ND_END, 2);
    assert_close(C, golden("shape_sliced.npy"), 0, 0);
    cr_assert(nd_strides(C)[1] < 0, "a negative step gives a negative stride");
    cr_assert(nd_shares_storage(C, B));
    assert_close(nd_reshape(C, ND_SHAPE(8, 6)), golden("shape_sliced_reshaped.npy"), 0, 0);
    nd_tensor *E = nd_slice(nd_select(C, 0, -1), -1, ND_END, ND_END, -2);
    assert_close(E, golden("shape_selected_rev.npy"), 0, 0);
    nd_tensor *F = nd_squeeze(nd_slice(C, 2, 0, 1, 1), 2);
    assert_close(F, golden("shape_squeezed.npy"), 0, 0);
    nd_tensor *H = nd_broadcast_to(nd_unsqueeze(F, -1), ND_SHAPE(2, 4, 2, 3, 5));
    assert_close(H, golden("shape_expanded.npy"), 0, 0);
    cr_assert_eq(nd_strides(H)[0], 0);
    cr_assert_eq(nd_strides(H)[4], 0);
    assert_close(nd_expand(nd_unsqueeze(F, -1), ND_SHAPE(2, -1, -1, -1, 5)), H, 0, 0);
    assert_close(nd_flatten(H), nd_reshape(nd_contiguous(H), ND_SHAPE(240)), 0, 0);
}

ND_TEST(view, transpose_and_t) {
    nd_tensor *x = nd_reshape(arange_f64(24), ND_SHAPE(2, 3, 4));
    nd_tensor *a = nd_transpose(x, -1, 0);
    assert_shape(a, ND_SHAPE(4, 3, 2));
    assert_close(a, nd_permute(x, 3, (const int[]){2, 1, 0}), 0, 0);
    cr_assert_eq(nd_get(a, (const int64_t[]){3, 1, 1}), 12 + 4 + 3);
    assert_close(nd_transpose(x, 1, 1), x, 0, 0);
    nd_tensor *m = nd_reshape(arange_f64(6), ND_SHAPE(2, 3));
    assert_values(nd_t(m), 0, 0, 3, 1, 4, 2, 5);
    assert_values(nd_t(arange_f64(3)), 0, 0, 1, 2);
    assert_shape(nd_t(nd_scalar(1, ND_F64)), 0, NULL);
    cr_assert(nd_t(m) != nd_t(m));
}

ND_TEST(view, every_op_returns_a_new_header) {
    nd_tensor *x = nd_reshape(arange_f64(6), ND_SHAPE(2, 3));
    nd_tensor *same[] = {nd_reshape(x, ND_SHAPE(2, 3)),
                         nd_view(x, ND_SHAPE(2, 3)),
                         nd_squeeze(x, 0),
                         nd_expand(x, ND_SHAPE(2, 3)),
                         nd_permute(x, 2, (int[]){0, 1}),
                         nd_slice(x, 0, ND_END, ND_END, 1),
                         nd_broadcast_to(x, ND_SHAPE(2, 3))};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        cr_assert(same[i] && same[i] != x, "op %zu", i);
        cr_assert(nd_shares_storage(same[i], x), "op %zu", i);
    }
}

ND_TEST(view, integer_and_bool_tensors_view_too) {
    nd_tensor *x = nd_arange(0, 6, 1, ND_I64);
    nd_tensor *m = nd_t(nd_reshape(x, ND_SHAPE(2, 3)));
    cr_assert_eq(nd_type(m), ND_I64);
    assert_values(nd_flatten(m), 0, 0, 3, 1, 4, 2, 5);
    nd_tensor *b = nd_expand(nd_parse("[true, false]"), ND_SHAPE(2, 2));
    assert_values(nd_slice(nd_flatten(b), 0, ND_END, ND_END, -1), 0, 0, 1, 0, 1);
}

/* ------------------------------------------------------------ slicing */

/* Every row of tests/golden/shape_slices.csv: NumPy's arange(7)[start:stop:step]. */
ND_TEST(slice, python_semantics_table) {
    FILE *f = fopen(golden_path("shape_slices.csv"), "r");
    cr_assert(f, "%s: %s", golden_path("shape_slices.csv"), strerror(errno));
    nd_tensor *base = nd_arange(0, 7, 1, ND_I64);
    char line[256];
    cr_assert(fgets(line, sizeof line, f)); /* header */
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        char *fields[4], *cursor = line;
        for (int i = 0; i < 4; i++) fields[i] = strsep(&cursor, ",\n");
        int64_t bound[3];
        for (int i = 0; i < 3; i++)
            bound[i] = strcmp(fields[i], "end") == 0 ? ND_END : strtoll(fields[i], NULL, 10);
        double want[8];
        int n = 0;
        for (char *v = fields[3]; v && *v; n++) want[n] = (double)strtol(strsep(&v, ";"), NULL, 10);
        nd_scope_begin();
        nd_tensor *got = nd_slice(base, 0, bound[0], bound[1], bound[2]);
        cr_assert(got, "[%s:%s:%s]: %s", fields[0], fields[1], fields[2], nd_last_error());
        cr_assert_eq(nd_numel(got), n, "[%s:%s:%s] has %lld elements, NumPy %d", fields[0],
                     fields[1], fields[2], (long long)nd_numel(got), n);
        for (int i = 0; i < n; i++)
            cr_assert_eq(nd_get(got, (const int64_t[]){i}), want[i], "[%s:%s:%s] element %d",
                         fields[0], fields[1], fields[2], i);
        nd_scope_end();
        rows++;
    }
    fclose(f);
    cr_assert_gt(rows, 1000);
}

ND_TEST(slice, extreme_bounds_and_steps) {
    nd_tensor *x = arange_f64(5);
    assert_values(nd_slice(x, 0, INT64_MIN + 1, INT64_MAX, INT64_MAX), 0, 0);
    assert_values(nd_slice(x, 0, INT64_MAX, INT64_MIN + 1, INT64_MIN + 1), 0, 4);
    assert_values(nd_slice(x, 0, ND_END, ND_END, INT64_MIN + 1), 0, 4);
    assert_values(nd_slice(x, 0, 1, 4, ND_END), 0, 1, 2, 3); /* ND_END step: omitted, 1 */
    assert_shape(nd_slice(x, 0, 3, 1, 1), ND_SHAPE(0));
    assert_shape(nd_slice(nd_zeros(ND_F32, ND_SHAPE(0)), 0, ND_END, ND_END, -1), ND_SHAPE(0));
}

ND_TEST(slice, select_negative_and_every_dim) {
    nd_tensor *x = nd_reshape(arange_f64(24), ND_SHAPE(2, 3, 4));
    assert_values(nd_select(x, -1, -1), 0, 3, 7, 11, 15, 19, 23);
    assert_values(nd_select(x, 1, 2), 0, 8, 9, 10, 11, 20, 21, 22, 23);
    assert_values(nd_select(nd_select(nd_select(x, 0, 1), 0, -3), 0, 3), 0, 15);
    assert_values(nd_slice(x, -1, -2, ND_END, 1), 0, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23);
}

/* -------------------------------------------------------- bad inputs */

ND_TEST(errors, reshape_and_view) {
    nd_tensor *x = nd_zeros(ND_F32, ND_SHAPE(2, 3));
    cr_assert_null(nd_reshape(x, ND_SHAPE(4, 2)));
    assert_error("nd_reshape: cannot reshape a tensor of shape (2, 3) (6 elements) into shape "
                 "(4, 2) (8 elements)");
    cr_assert_null(nd_reshape(x, ND_SHAPE(4, -1)));
    assert_error("nd_reshape: cannot reshape a tensor of shape (2, 3) (6 elements) into shape "
                 "(4, -1)");
    cr_assert_null(nd_reshape(x, ND_SHAPE(-1, -1)));
    assert_error("nd_reshape: only one dim may be -1");
    cr_assert_null(nd_view(x, ND_SHAPE(-2, -3)));
    assert_error("nd_view: invalid size -2 at dim 0");
    cr_assert_null(nd_reshape(nd_zeros(ND_F32, ND_SHAPE(0, 3)), ND_SHAPE(-1, 0)));
    assert_error("the -1 could be any size");
    cr_assert_null(nd_reshape(x, ND_SHAPE(INT64_MAX, INT64_MAX, 2)));
    assert_error("nd_reshape: cannot reshape a tensor of shape (2, 3) (6 elements)");
    int64_t ones[17] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    cr_assert_null(nd_reshape(nd_zeros(ND_F32, ND_SHAPE(1)), 17, ones));
    assert_error("nd_reshape: 17 dims requested, at most 16 are supported");
    cr_assert_null(nd_reshape(x, 2, NULL));
    assert_error("nd_reshape: NULL shape");
}

ND_TEST(errors, dims_out_of_range) {
    nd_tensor *x = nd_zeros(ND_F32, ND_SHAPE(2, 3));
    cr_assert_null(nd_transpose(x, 0, 2));
    assert_error("nd_transpose: dim 2 out of range for a 2-d tensor (expected -2 to 1)");
    cr_assert_null(nd_squeeze(x, -3));
    assert_error("nd_squeeze: dim -3 out of range");
    cr_assert_null(nd_unsqueeze(x, 3));
    assert_error("nd_unsqueeze: dim 3 out of range for a 3-d tensor (expected -3 to 2)");
    cr_assert_null(nd_slice(x, 2, 0, 1, 1));
    assert_error("nd_slice: dim 2 out of range");
    cr_assert_null(nd_select(x, -3, 0));
    assert_error("nd_select: dim -3 out of range");
    int64_t sixteen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    cr_assert_null(nd_unsqueeze(nd_zeros(ND_F32, 16, sixteen), 0));
    assert_error("already has 16 dims");
}

ND_TEST(errors, permute_t_expand) {
    nd_tensor *x = nd_zeros(ND_F32, ND_SHAPE(2, 3, 4));
    cr_assert_null(nd_permute(x, 2, (const int[]){1, 0}));
    assert_error("nd_permute: perm has 2 entries for a tensor of shape (2, 3, 4) (3 dims)");
    cr_assert_null(nd_permute(x, 3, (const int[]){0, 1, -2}));
    assert_error("nd_permute: dim 1 appears twice");
    cr_assert_null(nd_permute(x, 3, (const int[]){0, 1, 3}));
    assert_error("nd_permute: dim 3 out of range");
    cr_assert_null(nd_t(x));
    assert_error("nd_t: expects a tensor with at most 2 dims, got shape (2, 3, 4)");
    cr_assert_null(nd_expand(x, ND_SHAPE(2, 5, 4)));
    assert_error("nd_expand: a tensor of shape (2, 3, 4) cannot be expanded to shape (2, 5, 4): "
                 "size 3 at dim 1 must be 1 or match 5");
    cr_assert_null(nd_expand(x, ND_SHAPE(3, 4)));
    assert_error("nd_expand: cannot expand a tensor of shape (2, 3, 4) to 2 dims");
    cr_assert_null(nd_expand(x, ND_SHAPE(-1, 2, 3, 4)));
    assert_error("nd_expand: invalid size -1 at dim 0");
    cr_assert_null(nd_broadcast_to(nd_zeros(ND_F32, ND_SHAPE(3)), ND_SHAPE(2, 4)));
    assert_error("nd_broadcast_to: a tensor of shape (3,) cannot be expanded to shape (2, 4)");
}

ND_TEST(errors, slice_and_select) {
    nd_tensor *x = nd_zeros(ND_F32, ND_SHAPE(3, 2));
    cr_assert_null(nd_slice(x, 0, 0, 2, 0));
    assert_error("nd_slice: slice step cannot be zero");
    cr_assert_null(nd_slice(nd_scalar(1, ND_F32), 0, 0, 1, 1));
    assert_error("nd_slice: cannot slice a 0-d tensor");
    cr_assert_null(nd_select(x, 0, 3));
    assert_error("nd_select: index 3 is out of range for dim 0 of size 3");
    cr_assert_null(nd_select(x, -1, -3));
    assert_error("nd_select: index -3 is out of range for dim -1 of size 2");
    cr_assert_null(nd_select(nd_scalar(1, ND_F32), 0, 0));
    assert_error("nd_select: cannot select from a 0-d tensor");
}

ND_TEST(errors, null_inputs_keep_the_first_error) {
    cr_assert_null(nd_reshape(NULL, ND_SHAPE(2)));
    assert_error("nd_reshape: NULL input");
    cr_assert_null(nd_t(nd_reshape(nd_zeros(ND_F32, ND_SHAPE(2)), ND_SHAPE(3))));
    assert_error("nd_reshape: cannot reshape");
    nd_clear_error();
    nd_tensor *nulls[] = {nd_view(NULL, ND_SHAPE(1)),
                          nd_flatten(NULL),
                          nd_transpose(NULL, 0, 1),
                          nd_t(NULL),
                          nd_permute(NULL, 1, (int[]){0}),
                          nd_squeeze(NULL, 0),
                          nd_unsqueeze(NULL, 0),
                          nd_expand(NULL, ND_SHAPE(1)),
                          nd_broadcast_to(NULL, ND_SHAPE(1)),
                          nd_slice(NULL, 0, 0, 1, 1),
                          nd_select(NULL, 0, 0)};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++) cr_assert_null(nulls[i]);
    assert_error("nd_view: NULL input");
}

/* ------------------------------------------------------------ gradients */

static nd_tensor *f_reshape_copy(nd_tensor *x, void *ctx) { /* (3, 4) transposed: copies */
    (void)ctx;
    return nd_reshape(nd_t(x), ND_SHAPE(2, -1));
}
static nd_tensor *f_view(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_view(nd_slice(x, 1, 1, 3, 1), ND_SHAPE(3, 2, 1));
}
static nd_tensor *f_flatten(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_flatten(nd_transpose(x, 0, -1));
}
static nd_tensor *f_permute(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_permute(nd_reshape(x, ND_SHAPE(3, 2, 2)), 3, (const int[]){-1, 0, 1});
}
static nd_tensor *f_squeeze_unsqueeze(nd_tensor *x, void *ctx) {
    (void)ctx;
    nd_tensor *column = nd_slice(x, 1, 2, 3, 1);               /* (3, 1) */
    return nd_unsqueeze(nd_squeeze(nd_t(column), ND_ALL), -2); /* (3,) -> (3, 1) */
}
static nd_tensor *f_expand(nd_tensor *x, void *ctx) {
    (void)ctx;
    nd_tensor *row = nd_slice(x, 0, 1, 2, 1); /* (1, 4) */
    return nd_mul(nd_expand(row, ND_SHAPE(2, 3, -1)), nd_broadcast_to(row, ND_SHAPE(3, 4)));
}
static nd_tensor *f_slice(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_slice(nd_slice(nd_t(x), 0, -1, 0, -2), 1, 2, ND_END, -2);
}
static nd_tensor *f_select(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_add(nd_select(x, -1, -1), nd_select(nd_t(x), 0, 0));
}

ND_TEST(grad, every_view_both_modes_and_second_order) {
    nd_tensor *x = nd_randn(ND_F64, ND_SHAPE(3, 4));
    check_grads(f_reshape_copy, NULL, x);
    check_grads(f_view, NULL, x);
    check_grads(f_flatten, NULL, x);
    check_grads(f_permute, NULL, x);
    check_grads(f_squeeze_unsqueeze, NULL, x);
    check_grads(f_expand, NULL, x);
    check_grads(f_slice, NULL, x);
    check_grads(f_select, NULL, x);
}

ND_TEST(grad, records_the_op_names) {
    nd_tensor *x = nd_set_requires_grad(nd_zeros(ND_F32, ND_SHAPE(2, 3)), true);
    cr_assert_str_eq(nd_grad_fn_name(nd_reshape(x, ND_SHAPE(3, 2))), "reshape");
    cr_assert_str_eq(nd_grad_fn_name(nd_t(x)), "transpose");
    cr_assert_str_eq(nd_grad_fn_name(nd_slice(x, 1, 0, 2, 1)), "slice");
    cr_assert_str_eq(nd_grad_fn_name(nd_select(x, 1, 0)), "select");
    cr_assert_str_eq(nd_grad_fn_name(nd_expand(x, ND_SHAPE(4, 2, 3))), "expand");
    cr_assert_null(nd_grad_fn_name(nd_t(nd_zeros(ND_F32, ND_SHAPE(2, 3)))));
}

ND_TEST(grad, slice_gradient_is_zero_outside_the_slice) {
    nd_tensor *x = nd_set_requires_grad(nd_ones(ND_F64, ND_SHAPE(5)), true);
    nd_tensor *y = nd_sum(nd_slice(x, 0, ND_END, ND_END, -2), ND_ALL, false);
    cr_assert_eq(nd_backward(y), 0, "%s", nd_last_error());
    assert_values(nd_grad(x), 0, 1, 0, 1, 0, 1);
}

/* Every shape op on a non-contiguous tensor (a transposed, reversed slice)
 * gives what it gives on a contiguous copy of the same values; dims negative. */
typedef nd_tensor *(*unary_op)(nd_tensor *t);
static nd_tensor *op_reshape(nd_tensor *t) {
    return nd_reshape(t, ND_SHAPE(-1, 2));
}
static nd_tensor *op_view(nd_tensor *t) {
    return nd_view(nd_unsqueeze(t, -1), ND_SHAPE(4, 3, 1, 1));
}
static nd_tensor *op_flatten(nd_tensor *t) {
    return nd_flatten(t);
}
static nd_tensor *op_transpose(nd_tensor *t) {
    return nd_transpose(t, -1, -2);
}
static nd_tensor *op_t(nd_tensor *t) {
    return nd_t(t);
}
static nd_tensor *op_permute(nd_tensor *t) {
    return nd_permute(t, 2, (const int[]){-1, -2});
}
static nd_tensor *op_squeeze(nd_tensor *t) {
    return nd_squeeze(nd_slice(t, -1, 1, 2, 1), -1);
}
static nd_tensor *op_unsqueeze(nd_tensor *t) {
    return nd_unsqueeze(t, -2);
}
static nd_tensor *op_expand(nd_tensor *t) {
    return nd_expand(t, ND_SHAPE(2, -1, -1));
}
static nd_tensor *op_broadcast(nd_tensor *t) {
    return nd_broadcast_to(nd_unsqueeze(t, -1), ND_SHAPE(4, 3, 2));
}
static nd_tensor *op_slice(nd_tensor *t) {
    return nd_slice(t, -2, -1, 0, -2);
}
static nd_tensor *op_select(nd_tensor *t) {
    return nd_select(t, -1, -1);
}
static nd_tensor *op_cat(nd_tensor *t) {
    return nd_cat(2, (nd_tensor *[]){t, t}, -1);
}
static nd_tensor *op_stack(nd_tensor *t) {
    return nd_stack(2, (nd_tensor *[]){t, t}, -1);
}
static nd_tensor *op_index_select(nd_tensor *t) {
    return nd_index_select(t, -2, nd_from(ND_I64, ND_SHAPE(3), (const int64_t[]){3, 0, 3}));
}
static nd_tensor *op_gather(nd_tensor *t) {
    return nd_gather(t, -1, nd_from(ND_I64, ND_SHAPE(2, 2), (const int64_t[]){2, 0, 1, 1}));
}
static nd_tensor *op_masked_select(nd_tensor *t) {
    return nd_masked_select(t, nd_parse("[true, false, true]"));
}

ND_TEST(strided, every_op_matches_its_contiguous_input) {
    nd_tensor *base = nd_reshape(nd_arange(0, 24, 1, ND_F64), ND_SHAPE(3, 8));
    nd_tensor *t = nd_t(nd_slice(base, 1, ND_END, ND_END, -2)); /* (4, 3), strides (-2, 8) */
    cr_assert(!nd_is_contiguous(t));
    nd_tensor *c = nd_contiguous(t);
    unary_op ops[] = {op_reshape, op_view,         op_flatten,   op_transpose, op_t,
                      op_permute, op_squeeze,      op_unsqueeze, op_expand,    op_broadcast,
                      op_slice,   op_select,       op_cat,       op_stack,     op_index_select,
                      op_gather,  op_masked_select};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        nd_tensor *got = ops[i](t), *want = ops[i](c);
        cr_assert(got && want, "op %zu: %s", i, nd_last_error());
        assert_close(got, want, 0, 0);
    }
}

ND_TEST(d2l, broadcasting_is_expanding) {
    nd_tensor *a = nd_reshape(nd_arange(0, 3, 1, ND_I64), ND_SHAPE(3, 1));
    nd_tensor *b = nd_reshape(nd_arange(0, 2, 1, ND_I64), ND_SHAPE(1, 2));
    nd_tensor *sum = nd_add(nd_broadcast_to(a, ND_SHAPE(3, 2)), nd_expand(b, ND_SHAPE(3, -1)));
    assert_values(sum, 0, 0, 1, 1, 2, 2, 3);
    assert_close(sum, nd_add(a, b), 0, 0);
}
