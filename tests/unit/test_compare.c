/* Comparisons, where, allclose and equal: values against NumPy/PyTorch
 * (tests/reference/math.py), dtypes, broadcasting, where's gradients, and bad input. */
#include "support.h"

#include <stdlib.h>

typedef nd_tensor *(*binary_fn)(nd_tensor *, nd_tensor *);

static const struct {
    const char *name;
    binary_fn fn;
} COMPARISONS[] = {{"eq", nd_eq}, {"ne", nd_ne}, {"lt", nd_lt},
                   {"le", nd_le}, {"gt", nd_gt}, {"ge", nd_ge}};

ND_TEST(compare, comparisons_match_numpy) {
    /* (3, 1) against (1, 4), with NaN on both sides: NaN is only ever "ne" */
    nd_tensor *a = golden("math_ca.npy"), *b = golden("math_cb.npy");
    for (int k = 0; k < 6; k++) {
        char file[64];
        snprintf(file, sizeof file, "math_cmp_%s.npy", COMPARISONS[k].name);
        nd_tensor *want = golden(file);
        nd_tensor *got = COMPARISONS[k].fn(a, b);
        cr_assert_eq(nd_type(got), ND_BOOL, "%s gives bool", COMPARISONS[k].name);
        assert_close(got, want, 0, 0);
        assert_close(COMPARISONS[k].fn(nd_to(a, ND_F32), nd_to(b, ND_F32)), want, 0, 0);
    }
}

ND_TEST(compare, mixed_dtypes_are_promoted_first) {
    /* int64 3 vs float32 3.5: compared as float32, not truncated to 3 */
    nd_tensor *i = nd_from(ND_I64, ND_SHAPE(3), (int64_t[]){3, 4, -1});
    nd_tensor *f = nd_from(ND_F32, ND_SHAPE(3), (float[]){3.5f, 4.0f, -1.5f});
    assert_values(nd_lt(i, f), 0, 1, 0, 0);
    assert_values(nd_eq(i, f), 0, 0, 1, 0);
    /* float32 vs float64: 0.1f is not 0.1 */
    nd_tensor *f32 = nd_from(ND_F32, ND_SHAPE(1), (float[]){0.1f});
    nd_tensor *f64 = nd_from(ND_F64, ND_SHAPE(1), (double[]){0.1});
    assert_values(nd_eq(f32, f64), 0, 0);
    assert_values(nd_gt(f32, f64), 0, 1);
    /* bool with bool, and bool with int */
    nd_tensor *p = nd_from(ND_BOOL, ND_SHAPE(2), (bool[]){true, false});
    nd_tensor *q = nd_from(ND_BOOL, ND_SHAPE(2), (bool[]){true, true});
    assert_values(nd_eq(p, q), 0, 1, 0);
    assert_values(nd_lt(p, q), 0, 0, 1);
    nd_tensor *two = nd_from(ND_I64, ND_SHAPE(1), (int64_t[]){1});
    assert_values(nd_ge(p, two), 0, 1, 0);
    /* a uint8 200 is not a negative number */
    nd_tensor *u8 = nd_from(ND_U8, ND_SHAPE(1), (uint8_t[]){200});
    assert_values(nd_gt(u8, nd_from(ND_I32, ND_SHAPE(1), (int32_t[]){100})), 0, 1);
}

ND_TEST(compare, comparisons_are_not_differentiable) {
    nd_tensor *x = nd_set_requires_grad(nd_randn(ND_F32, ND_SHAPE(3)), true);
    nd_tensor *c = nd_gt(x, nd_zeros(ND_F32, ND_SHAPE(1)));
    cr_assert(!nd_requires_grad(c));
    cr_assert_null(nd_grad_fn_name(c));
}

ND_TEST(compare, where_matches_torch) {
    /* cond (3, 1), a (1, 4), b () */
    nd_tensor *cond = golden("math_where_cond.npy");
    nd_tensor *a = nd_set_requires_grad(golden("math_where_a.npy"), true);
    nd_tensor *b = nd_set_requires_grad(golden("math_where_b.npy"), true);
    nd_tensor *y = nd_where(cond, a, b);
    assert_close(y, golden("math_where.npy"), 0, 0);
    cr_assert_str_eq(nd_grad_fn_name(y), "where");
    nd_tensor *weights = nd_reshape(nd_arange(0, 12, 1, ND_F64), ND_SHAPE(3, 4));
    nd_tensor *grads[2];
    cr_assert_eq(nd_gradients(nd_sum(nd_mul(y, weights), ND_ALL, false), 2, (nd_tensor *[]){a, b},
                              grads, false),
                 0, "%s", nd_last_error());
    assert_close(grads[0], golden("math_where_ga.npy"), 0, 0);
    assert_close(grads[1], golden("math_where_gb.npy"), 0, 0);
}

ND_TEST(compare, where_forward_mode_and_second_order) {
    nd_tensor *cond = nd_from(ND_BOOL, ND_SHAPE(3), (bool[]){true, false, true});
    nd_tensor *a = nd_from(ND_F64, ND_SHAPE(3), (double[]){1, 2, 3});
    nd_tensor *b = nd_from(ND_F64, ND_SHAPE(3), (double[]){-1, -2, -3});
    nd_tensor *ta = nd_from(ND_F64, ND_SHAPE(3), (double[]){10, 20, 30});
    /* a tangent on a only: b's side contributes zero */
    nd_tensor *y = nd_where(cond, nd_make_dual(a, ta), b);
    assert_values(nd_tangent(y), 0, 10, 0, 30);
    /* where(x > 0, x², -x): second derivative 2 on the x > 0 side, 0 elsewhere */
    nd_tensor *x = nd_set_requires_grad(nd_from(ND_F64, ND_SHAPE(3), (double[]){-1, 2, 3}), true);
    nd_tensor *f = nd_where(nd_gt(x, nd_scalar(0, ND_F64)), nd_square(x), nd_neg(x));
    nd_tensor *first = nd_gradient(nd_sum(f, ND_ALL, false), x, true);
    assert_values(first, 0, -1, 4, 6);
    assert_values(nd_gradient(nd_sum(first, ND_ALL, false), x, false), 0, 0, 2, 2);
}

ND_TEST(compare, where_dtypes_and_numeric_condition) {
    /* a numeric condition means != 0; a and b are promoted (int64 with float32 -> float32) */
    nd_tensor *cond = nd_from(ND_F32, ND_SHAPE(4), (float[]){0.0f, 2.0f, -1.0f, NAN});
    nd_tensor *a = nd_from(ND_I64, ND_SHAPE(4), (int64_t[]){1, 2, 3, 4});
    nd_tensor *b = nd_scalar(-0.5, ND_F32);
    nd_tensor *y = nd_where(cond, a, b);
    cr_assert_eq(nd_type(y), ND_F32);
    assert_values(y, 0, -0.5, 2, 3, 4);
    /* every element size: bool, uint8, int32, float64 */
    nd_tensor *m = nd_from(ND_BOOL, ND_SHAPE(2), (bool[]){false, true});
    nd_tensor *t = nd_from(ND_BOOL, ND_SHAPE(2), (bool[]){true, true});
    cr_assert_eq(nd_type(nd_where(m, t, nd_logical_not(t))), ND_BOOL);
    assert_values(nd_where(m, t, nd_logical_not(t)), 0, 0, 1);
    nd_tensor *u = nd_from(ND_U8, ND_SHAPE(2), (uint8_t[]){7, 8});
    assert_values(nd_where(m, u, nd_from(ND_U8, ND_SHAPE(1), (uint8_t[]){255})), 0, 255, 8);
    nd_tensor *i32 = nd_from(ND_I32, ND_SHAPE(2), (int32_t[]){-7, 8});
    cr_assert_eq(nd_type(nd_where(m, i32, i32)), ND_I32);
    assert_values(nd_where(m, nd_neg(i32), i32), 0, -7, -8);
}

ND_TEST(compare, where_strided_and_large) {
    /* transposed and sliced operands, large enough for several threads */
    nd_tensor *x = nd_transpose(nd_randn(ND_F32, ND_SHAPE(300, 400)), 0, 1);
    nd_tensor *y = nd_slice(nd_randn(ND_F32, ND_SHAPE(400, 600)), 1, 0, ND_END, 2);
    nd_tensor *cond = nd_gt(x, y);
    nd_tensor *got = nd_where(cond, x, y);
    assert_close(got, nd_maximum(x, y), 0, 0);
    nd_tensor *same = nd_where(nd_contiguous(cond), nd_contiguous(x), nd_contiguous(y));
    assert_close(got, same, 0, 0);
    /* broadcast in every operand: (400, 1) cond, (1, 300) a, () b */
    nd_tensor *col = nd_gt(nd_randn(ND_F32, ND_SHAPE(400, 1)), nd_scalar(0, ND_F32));
    nd_tensor *row = nd_randn(ND_F32, ND_SHAPE(1, 300));
    nd_tensor *w = nd_where(col, row, nd_scalar(7, ND_F32));
    assert_shape(w, ND_SHAPE(400, 300));
    for (int64_t i = 0; i < 400; i += 57)
        for (int64_t j = 0; j < 300; j += 31) {
            bool c = nd_get(col, (int64_t[]){i, 0}) != 0;
            double want = c ? nd_get(row, (int64_t[]){0, j}) : 7.0;
            cr_assert_eq(nd_get(w, (int64_t[]){i, j}), want);
        }
}

ND_TEST(compare, allclose_numpy_semantics) {
    nd_tensor *a = nd_from(ND_F64, ND_SHAPE(3), (double[]){1.0, 100.0, INFINITY});
    nd_tensor *b = nd_from(ND_F64, ND_SHAPE(3), (double[]){1.0 + 1e-9, 100.0 + 1e-4, INFINITY});
    cr_assert(nd_allclose(a, b, 1e-5, 1e-8));  /* within rtol·|b|, inf equals inf */
    cr_assert(!nd_allclose(a, b, 1e-7, 1e-8)); /* 1e-4 > 1e-8 + 1e-7·100 */
    /* NaN is never close, not even to NaN */
    nd_tensor *n = nd_from(ND_F64, ND_SHAPE(1), (double[]){NAN});
    cr_assert(!nd_allclose(n, n, 1, 1));
    /* -inf is not close to inf; inf is not close to a big number */
    nd_tensor *inf = nd_from(ND_F64, ND_SHAPE(1), (double[]){INFINITY});
    cr_assert(!nd_allclose(inf, nd_neg(inf), 1, 1));
    cr_assert(!nd_allclose(inf, nd_from(ND_F64, ND_SHAPE(1), (double[]){1e308}), 1, 1));
    /* asymmetric, as NumPy: tolerance is relative to b */
    nd_tensor *x = nd_scalar(10, ND_F64), *y = nd_scalar(11, ND_F64);
    cr_assert(nd_allclose(x, y, 0.095, 0));
    cr_assert(!nd_allclose(y, x, 0.095, 0));
    /* broadcasting and mixed dtypes */
    nd_tensor *col = nd_from(ND_I64, ND_SHAPE(2, 1), (int64_t[]){3, 3});
    nd_tensor *row = nd_from(ND_F32, ND_SHAPE(3), (float[]){3.0f, 3.0f, 3.0f});
    cr_assert(nd_allclose(col, row, 0, 0));
    cr_assert(
        nd_allclose(nd_from(ND_BOOL, ND_SHAPE(1), (bool[]){true}), nd_scalar(1, ND_F32), 0, 0));
    cr_assert_null(nd_last_error());
}

ND_TEST(compare, allclose_bad_inputs) {
    nd_tensor *a = nd_zeros(ND_F32, ND_SHAPE(5, 4)), *b = nd_zeros(ND_F32, ND_SHAPE(5));
    cr_assert(!nd_allclose(a, b, 1e-5, 1e-8));
    assert_error("nd_allclose: shapes (5, 4) and (5,) do not broadcast at dim -1 (4 vs 5)");
    nd_clear_error();
    cr_assert(!nd_allclose(NULL, b, 1e-5, 1e-8));
    assert_error("nd_allclose: NULL input");
    nd_clear_error();
    cr_assert(!nd_allclose(a, a, -1, 0));
    assert_error("nd_allclose: tolerances must be non-negative");
}

ND_TEST(compare, equal_means_same_shape_and_values) {
    nd_tensor *a = nd_from(ND_F32, ND_SHAPE(2, 2), (float[]){1, 2, 3, 4});
    cr_assert(nd_equal(a, nd_clone(a)));
    cr_assert(nd_equal(a, nd_from(ND_I64, ND_SHAPE(2, 2), (int64_t[]){1, 2, 3, 4})));
    cr_assert(!nd_equal(a, nd_reshape(a, ND_SHAPE(4)))); /* shape differs */
    cr_assert(!nd_equal(a, nd_add_scalar(a, 1e-6)));     /* a value differs */
    cr_assert(nd_equal(nd_transpose(a, 0, 1), nd_contiguous(nd_transpose(a, 0, 1))));
    nd_tensor *n = nd_from(ND_F64, ND_SHAPE(1), (double[]){NAN});
    cr_assert(!nd_equal(n, n)); /* NaN is not equal to itself */
    cr_assert(nd_equal(nd_zeros(ND_F32, ND_SHAPE(0)), nd_zeros(ND_F32, ND_SHAPE(0))));
    cr_assert_null(nd_last_error());
    cr_assert(!nd_equal(a, NULL));
    assert_error("nd_equal: NULL input");
}

ND_TEST(compare, bad_inputs) {
    nd_tensor *a = nd_zeros(ND_F32, ND_SHAPE(5, 4)), *b = nd_zeros(ND_F32, ND_SHAPE(5));
    for (int k = 0; k < 6; k++) {
        nd_clear_error();
        cr_assert_null(COMPARISONS[k].fn(a, b));
        char want[128];
        snprintf(want, sizeof want, "nd_%s: shapes (5, 4) and (5,) do not broadcast at dim -1",
                 COMPARISONS[k].name);
        assert_error(want);
        nd_clear_error();
        cr_assert_null(COMPARISONS[k].fn(a, NULL));
        assert_error("NULL input");
    }
    nd_clear_error();
    nd_tensor *cond = nd_zeros(ND_BOOL, ND_SHAPE(3));
    cr_assert_null(nd_where(cond, a, a));
    assert_error("nd_where: shapes (3,) and (5, 4) do not broadcast at dim -1 (3 vs 4)");
    nd_clear_error();
    cr_assert_null(nd_where(cond, NULL, a));
    assert_error("nd_where: NULL input");
    nd_clear_error();
    cr_assert_null(nd_where(NULL, a, a));
    assert_error("nd_where: NULL input");
}
