/* Reductions: sum, sum_dims, mean, var, std, max, min, argmax, argmin, cumsum
 * and norm. Expected values from PyTorch (tests/reference/reduce.py). */
#include "reduce_grad.h"

#include <stdlib.h>

static nd_tensor *g(const char *name) {
    char file[128];
    snprintf(file, sizeof file, "reduce_%s.npy", name);
    return golden(file);
}

/* The course's matrix: A = arange(20).reshape(5, 4). */
static nd_tensor *A(void) {
    return nd_reshape(nd_arange(0, 20, 1, ND_F32), ND_SHAPE(5, 4));
}

/* ------------------------------------------------------------------ d2l */

ND_TEST(d2l, sums_over_axes) {
    nd_tensor *a = A();
    assert_values(nd_sum(a, ND_ALL, false), 0, 190);
    assert_shape(nd_sum(a, ND_ALL, false), 0, NULL);
    assert_values(nd_sum(a, 0, false), 0, 40, 45, 50, 55);
    assert_values(nd_sum(a, 1, false), 0, 6, 22, 38, 54, 70);
    assert_values(nd_sum_dims(a, 2, (const int[]){0, 1}, false), 0, 190);
    nd_tensor *row_sums = nd_sum(a, 1, true);
    assert_shape(row_sums, ND_SHAPE(5, 1));
    assert_values(nd_div(a, row_sums), 1e-7, 0. / 6, 1. / 6, 2. / 6, 3. / 6, 4. / 22, 5. / 22,
                  6. / 22, 7. / 22, 8. / 38, 9. / 38, 10. / 38, 11. / 38, 12. / 54, 13. / 54,
                  14. / 54, 15. / 54, 16. / 70, 17. / 70, 18. / 70, 19. / 70);
    assert_shape(nd_sum(a, ND_ALL, true), ND_SHAPE(1, 1));
    cr_assert_eq(nd_type(nd_sum(a, 0, false)), ND_F32);
}

ND_TEST(d2l, means_and_cumsum) {
    nd_tensor *a = A();
    assert_values(nd_mean(a, ND_ALL, false), 0, 9.5);
    assert_values(nd_div_scalar(nd_sum(a, ND_ALL, false), (double)nd_numel(a)), 0, 9.5);
    assert_values(nd_mean(a, 0, false), 0, 8, 9, 10, 11);
    assert_values(nd_cumsum(a, 0), 0, 0, 1, 2, 3, 4, 6, 8, 10, 12, 15, 18, 21, 24, 28, 32, 36, 40,
                  45, 50, 55);
}

ND_TEST(d2l, norms) {
    nd_tensor *u = nd_parse("[3.0, -4.0]");
    assert_values(nd_norm(u, 2), 0, 5);
    assert_values(nd_norm(u, 1), 0, 7);
    assert_values(nd_norm(u, INFINITY), 0, 4);
    assert_values(nd_norm(nd_ones(ND_F32, ND_SHAPE(4, 9)), 2), 0, 6); /* Frobenius */
    assert_shape(nd_norm(u, 2), 0, NULL);
}

/* ------------------------------------------------------------------ sum */

ND_TEST(sum, golden_f32_3d) {
    nd_tensor *x = g("x3");
    assert_close(nd_sum(x, 0, false), g("x3_sum0"), 1e-6, 1e-6);
    assert_close(nd_sum(x, 1, false), g("x3_sum1"), 1e-6, 1e-6);
    assert_close(nd_sum(x, 2, false), g("x3_sum2"), 1e-6, 1e-6);
    assert_close(nd_sum(x, -1, true), g("x3_sum_m1_keep"), 1e-6, 1e-6);
    assert_close(nd_sum(x, ND_ALL, false), g("x3_sum_all"), 1e-6, 1e-6);
    assert_close(nd_sum_dims(x, 2, (const int[]){0, 2}, false), g("x3_sum02"), 1e-6, 1e-6);
    assert_close(nd_sum_dims(x, 2, (const int[]){-1, 0}, true), g("x3_sum02_keep"), 1e-6, 1e-6);
    assert_close(nd_sum_dims(x, 0, NULL, false), g("x3_sum_all"), 1e-6, 1e-6); /* dim=[] */
    assert_close(nd_sum(g("x1"), 0, false), g("x1_sum"), 1e-6, 1e-6);
}

ND_TEST(sum, golden_f64_4d) {
    nd_tensor *x = g("x4");
    assert_close(nd_sum(x, 1, true), g("x4_sum1_keep"), 1e-12, 1e-12);
    assert_close(nd_sum_dims(x, 2, (const int[]){1, 3}, false), g("x4_sum13"), 1e-12, 1e-12);
    assert_close(nd_sum(x, -4, false), g("x4_sum_m4"), 1e-12, 1e-12);
    cr_assert_eq(nd_type(nd_sum(x, 0, false)), ND_F64);
}

ND_TEST(sum, integers_and_bools_give_int64) {
    nd_tensor *xi = g("xi");
    nd_tensor *s = nd_sum(xi, 0, false);
    cr_assert_eq(nd_type(s), ND_I64);
    assert_close(s, g("xi_sum0"), 0, 0);
    assert_close(nd_sum(xi, ND_ALL, false), g("xi_sum_all"), 0, 0);
    nd_tensor *flags = nd_parse("[[true, false, true], [true, true, true]]");
    cr_assert_eq(nd_type(nd_sum(flags, 1, false)), ND_I64);
    assert_values(nd_sum(flags, 1, false), 0, 2, 3);
    nd_tensor *bytes = nd_full(ND_U8, ND_SHAPE(300), 200); /* no wrap-around at 255 */
    assert_values(nd_sum(bytes, 0, false), 0, 60000);
    cr_assert_eq(nd_type(nd_sum(nd_to(xi, ND_I32), 1, false)), ND_I64);
}

ND_TEST(sum, views_are_not_copied_wrongly) {
    nd_tensor *x = g("x3");
    nd_tensor *perm = nd_permute(x, 3, (const int[]){2, 0, 1});
    cr_assert(!nd_is_contiguous(perm));
    assert_close(nd_sum(perm, 1, false), g("x3_perm_sum1"), 1e-6, 1e-6);
    assert_close(nd_sum_dims(perm, 2, (const int[]){0, 2}, false), g("x3_perm_sum02"), 1e-6, 1e-6);
    nd_tensor *stepped = nd_slice(nd_slice(x, 1, ND_END, ND_END, 2), 2, 1, ND_END, 1);
    assert_close(nd_sum(stepped, 0, false), g("x3_step_sum0"), 1e-6, 1e-6);
    assert_close(nd_sum(stepped, 2, false), g("x3_step_sum2"), 1e-6, 1e-6);
    /* an expanded (stride 0) input */
    nd_tensor *wide = nd_expand(nd_parse("[[1.0], [2.0]]"), ND_SHAPE(2, 1000));
    assert_values(nd_sum(wide, 1, false), 0, 1000, 2000);
    assert_values(nd_sum(nd_sum(wide, 0, false), 0, false), 0, 3000);
}

ND_TEST(sum, scalars_and_size_one_dims) {
    nd_tensor *s = nd_scalar(5, ND_F32);
    assert_shape(nd_sum(s, 0, false), 0, NULL);
    assert_values(nd_sum(s, -1, true), 0, 5);
    assert_values(nd_sum(s, ND_ALL, false), 0, 5);
    nd_tensor *col = nd_reshape(nd_arange(0, 3, 1, ND_F64), ND_SHAPE(3, 1));
    assert_values(nd_sum(col, 1, false), 0, 0, 1, 2);
    assert_shape(nd_sum(col, 1, false), ND_SHAPE(3));
}

ND_TEST(sum, empty_dims) {
    nd_tensor *e = nd_zeros(ND_F32, ND_SHAPE(0, 3));
    assert_shape(nd_sum(e, 0, false), ND_SHAPE(3));
    assert_values(nd_sum(e, 0, false), 0, 0, 0, 0);
    assert_shape(nd_sum(e, 1, false), ND_SHAPE(0));
    assert_values(nd_sum(e, ND_ALL, false), 0, 0);
    assert_values(nd_mean(e, 0, false), 0, NAN, NAN, NAN);
    assert_values(nd_var(e, 0, false), 0, NAN, NAN, NAN);
}

ND_TEST(sum, accurate_and_thread_independent) {
    /* 10^7 ones in f32: a float accumulator would stop at 2^24 = 16777216, a
     * naive one drifts far earlier; the result must be exact. */
    nd_tensor *ones = nd_ones(ND_F32, ND_SHAPE(10000000));
    assert_values(nd_sum(ones, 0, false), 0, 1e7);
    nd_tensor *m = nd_ones(ND_F32, ND_SHAPE(5000, 2000));
    assert_values(nd_sum(nd_sum(m, 0, false), 0, false), 0, 1e7);
    assert_values(nd_sum(nd_sum(m, 1, false), 0, false), 0, 1e7);
    /* the same values with 1 and 2 threads, against a float64 sum */
    nd_tensor *x = nd_randn(ND_F32, ND_SHAPE(1027, 1500)); /* 8-row groups and a tail */
    nd_tensor *x64 = nd_to(x, ND_F64);
    for (int threads = 1; threads <= 2; threads++) {
        nd_set_num_threads(threads);
        for (int dim = 0; dim < 2; dim++)
            assert_close(nd_sum(x, dim, false), nd_to(nd_sum(x64, dim, false), ND_F32), 1e-6, 1e-5);
        assert_close(nd_sum(x, ND_ALL, false), nd_to(nd_sum(x64, ND_ALL, false), ND_F32), 1e-6,
                     1e-4);
    }
    nd_set_num_threads(0);
}

ND_TEST(sum, errors) {
    nd_tensor *x = g("x3");
    cr_assert_null(nd_sum(x, 3, false));
    assert_error("nd_sum: dim 3 out of range for a 3-d tensor (expected -3 to 2)");
    cr_assert_null(nd_sum(x, -4, false));
    assert_error("dim -4 out of range");
    cr_assert_null(nd_sum_dims(x, 2, (const int[]){0, -3}, false));
    assert_error("nd_sum_dims: dim 0 appears more than once");
    cr_assert_null(nd_sum_dims(x, -1, NULL, false));
    assert_error("nd_sum_dims");
    nd_clear_error();
    cr_assert_null(nd_sum(NULL, 0, false));
    assert_error("nd_sum: NULL input");
    cr_assert_null(nd_mean(g("xi"), 0, false));
    assert_error("nd_mean: could not infer output dtype");
    assert_error("int64");
    cr_assert_null(nd_var(g("xi"), 0, false));
    assert_error("nd_var: std and var only support floating-point tensors");
    cr_assert_null(nd_std(g("xi"), ND_ALL, false));
    assert_error("nd_std");
    cr_assert_null(nd_mean(x, 5, false));
    assert_error("nd_mean: dim 5 out of range");
}

/* --------------------------------------------------------- mean, var, std */

ND_TEST(moments, golden) {
    nd_tensor *x3 = g("x3"), *x4 = g("x4");
    assert_close(nd_mean(x3, 1, false), g("x3_mean1"), 1e-6, 1e-6);
    assert_close(nd_mean(x3, ND_ALL, false), g("x3_mean_all"), 1e-6, 1e-6);
    assert_close(nd_mean(x4, -2, true), g("x4_mean_m2_keep"), 1e-12, 1e-12);
    assert_close(nd_var(x4, 0, false), g("x4_var0"), 1e-12, 1e-12);
    assert_close(nd_var(x4, ND_ALL, false), g("x4_var_all"), 1e-12, 1e-12);
    assert_close(nd_std(x4, 3, false), g("x4_std3"), 1e-12, 1e-12);
    assert_close(nd_var(x3, 2, true), g("x3_var2_keep"), 1e-5, 1e-6);
    cr_assert_eq(nd_type(nd_var(x3, 2, true)), ND_F32);
    /* one element: n - 1 = 0, NaN as PyTorch */
    assert_values(nd_var(nd_parse("[1.0]"), 0, false), 0, NAN);
    assert_values(nd_std(nd_parse("[1.0]"), 0, false), 0, NAN);
}

/* ------------------------------------------------------------- max, min */

ND_TEST(minmax, golden_with_ties) {
    nd_tensor *t = g("ties");
    char name[64];
    for (int dim = 0; dim < 2; dim++) {
        snprintf(name, sizeof name, "ties_max%d", dim);
        assert_close(nd_max(t, dim, false), g(name), 0, 0);
        snprintf(name, sizeof name, "ties_min%d", dim);
        assert_close(nd_min(t, dim, false), g(name), 0, 0);
        snprintf(name, sizeof name, "ties_argmax%d", dim); /* first occurrence */
        assert_close(nd_argmax(t, dim, false), g(name), 0, 0);
        snprintf(name, sizeof name, "ties_argmin%d", dim);
        assert_close(nd_argmin(t, dim, false), g(name), 0, 0);
    }
    cr_assert_eq(nd_type(nd_argmax(t, 0, false)), ND_I64);
    assert_close(nd_argmax(t, ND_ALL, false), g("ties_argmax_all"), 0, 0);
    assert_close(nd_argmin(t, ND_ALL, false), g("ties_argmin_all"), 0, 0);
    assert_values(nd_max(t, ND_ALL, false), 0, 7);
    assert_values(nd_min(t, ND_ALL, true), 0, -4);
    assert_shape(nd_min(t, ND_ALL, true), ND_SHAPE(1, 1));
    assert_shape(nd_argmax(t, 1, true), ND_SHAPE(4, 1));
}

ND_TEST(minmax, golden_other_dtypes_and_views) {
    assert_close(nd_max(g("x4"), 2, true), g("x4_max2_keep"), 0, 0);
    assert_close(nd_argmin(g("x4"), -1, false), g("x4_argmin_m1"), 0, 0);
    nd_tensor *xi = g("xi");
    assert_close(nd_max(xi, 1, false), g("xi_max1"), 0, 0);
    cr_assert_eq(nd_type(nd_max(xi, 1, false)), ND_I64);
    assert_close(nd_argmin(xi, 0, false), g("xi_argmin0"), 0, 0);
    nd_tensor *t = nd_transpose(g("x3"), 0, 2);
    assert_close(nd_max(t, 1, false), g("x3_t_max1"), 0, 0);
    assert_close(nd_argmax(t, 1, false), g("x3_t_argmax1"), 0, 0);
}

ND_TEST(minmax, nan_propagates) {
    nd_tensor *t = nd_parse("[[1.0, nan, 3.0, nan], [2.0, 1.0, 0.0, 5.0]]");
    assert_values(nd_max(t, 1, false), 0, NAN, 5);
    assert_values(nd_argmax(t, 1, false), 0, 1, 3);
    assert_values(nd_min(t, 1, false), 0, NAN, 0);
    assert_values(nd_argmin(t, 1, false), 0, 1, 2);
    assert_values(nd_max(t, ND_ALL, false), 0, NAN);
    assert_values(nd_argmax(t, ND_ALL, false), 0, 1);
}

ND_TEST(minmax, errors) {
    nd_tensor *e = nd_zeros(ND_F32, ND_SHAPE(0, 3));
    cr_assert_null(nd_max(e, 0, false));
    assert_error("nd_max: cannot reduce over dim 0 of size 0 (shape (0, 3))");
    cr_assert_null(nd_argmin(e, ND_ALL, false));
    assert_error("nd_argmin: cannot reduce an empty tensor (shape (0, 3)) over every dim");
    assert_shape(nd_max(e, 1, false), ND_SHAPE(0)); /* nothing empty is reduced */
    cr_assert_null(nd_min(g("x3"), 3, false));
    assert_error("nd_min: dim 3 out of range");
    nd_clear_error();
    cr_assert_null(nd_argmax(NULL, 0, false));
    assert_error("nd_argmax: NULL input");
}

/* ------------------------------------------------------------------ cumsum */

ND_TEST(cumsum, golden) {
    assert_close(nd_cumsum(g("x3"), 0), g("x3_cumsum0"), 1e-6, 1e-6);
    assert_close(nd_cumsum(g("x3"), -1), g("x3_cumsum_m1"), 1e-6, 1e-6);
    assert_close(nd_cumsum(g("x4"), 2), g("x4_cumsum2"), 1e-12, 1e-12);
    nd_tensor *ci = nd_cumsum(g("xi"), 1);
    cr_assert_eq(nd_type(ci), ND_I64);
    assert_close(ci, g("xi_cumsum1"), 0, 0);
    assert_close(nd_cumsum(nd_transpose(g("x3"), 0, 2), 2), g("x3_t_cumsum2"), 1e-6, 1e-6);
    assert_values(nd_cumsum(nd_parse("[true, true, false, true]"), 0), 0, 1, 2, 2, 3);
    assert_values(nd_cumsum(nd_scalar(4, ND_F64), 0), 0, 4);
    assert_shape(nd_cumsum(nd_zeros(ND_F32, ND_SHAPE(0, 2)), 0), ND_SHAPE(0, 2));
}

ND_TEST(cumsum, errors) {
    cr_assert_null(nd_cumsum(g("x3"), 3));
    assert_error("nd_cumsum: dim 3 out of range for a 3-d tensor");
    nd_clear_error();
    cr_assert_null(nd_cumsum(NULL, 0));
    assert_error("nd_cumsum: NULL input");
}

/* -------------------------------------------------------------------- norm */

ND_TEST(norm, golden) {
    assert_close(nd_norm(g("x3"), 1), g("x3_norm1"), 1e-6, 1e-6);
    assert_close(nd_norm(g("x3"), 2), g("x3_norm2"), 1e-6, 1e-6);
    assert_close(nd_norm(g("x3"), INFINITY), g("x3_norminf"), 0, 0);
    assert_close(nd_norm(g("x4"), 2), g("x4_norm2"), 1e-12, 1e-12);
    assert_close(nd_norm(nd_transpose(g("x4"), 1, 3), 2), g("x4_norm2"), 1e-12, 1e-12);
    assert_values(nd_norm(nd_zeros(ND_F64, ND_SHAPE(0)), 2), 0, 0);
    assert_values(nd_norm(nd_parse("[1.0, nan]"), INFINITY), 0, NAN);
}

ND_TEST(norm, errors) {
    cr_assert_null(nd_norm(g("xi"), 2));
    assert_error("nd_norm: expected a floating-point tensor, got int64");
    cr_assert_null(nd_norm(g("x3"), 3));
    assert_error("nd_norm: p must be 1, 2 or INFINITY, got 3");
    cr_assert_null(nd_norm(nd_zeros(ND_F32, ND_SHAPE(0, 2)), INFINITY));
    assert_error("nd_norm: the inf norm of an empty tensor (shape (0, 2))");
}

/* ------------------------------------------------------------- gradients */

static nd_tensor *sum1(nd_tensor *x) {
    return nd_sum(x, 1, false);
}
static nd_tensor *sum_all_keep(nd_tensor *x) {
    return nd_sum_dims(x, 2, (const int[]){0, 1}, true);
}
static nd_tensor *mean0_keep(nd_tensor *x) {
    return nd_mean(x, 0, true);
}
static nd_tensor *var1(nd_tensor *x) {
    return nd_var(x, 1, false);
}
static nd_tensor *std0(nd_tensor *x) {
    return nd_std(x, 0, false);
}
static nd_tensor *max1(nd_tensor *x) {
    return nd_max(x, 1, false);
}
static nd_tensor *min0(nd_tensor *x) {
    return nd_min(x, 0, false);
}
static nd_tensor *cumsum1(nd_tensor *x) {
    return nd_cumsum(x, 1);
}
static nd_tensor *cumsum0(nd_tensor *x) {
    return nd_cumsum(x, 0);
}
static nd_tensor *norm1(nd_tensor *x) {
    return nd_norm(x, 1);
}
static nd_tensor *norm2(nd_tensor *x) {
    return nd_norm(x, 2);
}
static nd_tensor *norminf(nd_tensor *x) {
    return nd_norm(x, INFINITY);
}

ND_TEST(grad, sums) {
    check_gradients("sum1", sum1);
    check_gradients("sum_all_keep", sum_all_keep);
    check_gradients("mean0_keep", mean0_keep);
}
ND_TEST(grad, moments) {
    check_gradients("var1", var1);
    check_gradients("std0", std0);
}
ND_TEST(grad, extremes) {
    check_gradients("max1", max1);
    check_gradients("min0", min0);
}
ND_TEST(grad, cumsums) {
    check_gradients("cumsum1", cumsum1);
    check_gradients("cumsum0", cumsum0);
}
ND_TEST(grad, norms) {
    check_gradients("norm1", norm1);
    check_gradients("norm2", norm2);
    check_gradients("norminf", norminf);
}

ND_TEST(grad, ties_as_pytorch) {
    nd_tensor *x = nd_set_requires_grad(nd_to(g("ties"), ND_F64), true);
    /* over every dim the tied maxima share the gradient; over a dim the
     * selected (first) element takes it all */
    assert_close(nd_gradient(nd_max(x, ND_ALL, false), x, false), g("grad_ties_max_all"), 0, 1e-15);
    assert_close(nd_gradient(nd_sum(nd_max(x, 1, false), ND_ALL, false), x, false),
                 g("grad_ties_max1"), 0, 0);
    assert_close(nd_gradient(nd_norm(x, INFINITY), x, false), g("grad_ties_norminf"), 0, 1e-15);
}

ND_TEST(grad, norm_at_zero_is_zero) {
    /* PyTorch gives 0 (not NaN) at the origin for p = 1, 2 and inf */
    double ps[] = {1, 2, INFINITY};
    for (int k = 0; k < 3; k++) {
        nd_tensor *z = nd_set_requires_grad(nd_zeros(ND_F64, ND_SHAPE(3)), true);
        assert_values(nd_gradient(nd_norm(z, ps[k]), z, false), 0, 0, 0, 0);
        nd_tensor *dual = nd_make_dual(nd_zeros(ND_F64, ND_SHAPE(3)), nd_ones(ND_F64, ND_SHAPE(3)));
        nd_tensor *tangent = nd_tangent(nd_norm(dual, ps[k]));
        cr_assert(tangent == NULL || nd_item(tangent) == 0, "p = %g: tangent %g", ps[k],
                  nd_item(tangent));
    }
}

ND_TEST(grad, f32_and_4d) {
    /* float32, a 4-d input, a reduction over two dims, keepdim */
    nd_tensor *x = nd_set_requires_grad(nd_to(g("x4"), ND_F32), true);
    nd_tensor *gx = nd_gradient(nd_sum(nd_mean(x, 2, true), ND_ALL, false), x, false);
    cr_assert_eq(nd_type(gx), ND_F32);
    assert_close(gx, nd_full(ND_F32, ND_SHAPE(2, 3, 4, 5), 0.25), 0, 0);
    nd_tensor *d =
        nd_tangent(nd_sum_dims(nd_make_dual(g("x4"), nd_ones(ND_F64, ND_SHAPE(2, 3, 4, 5))), 2,
                               (const int[]){1, 3}, false));
    assert_close(d, nd_full(ND_F64, ND_SHAPE(2, 4), 15), 0, 0);
}
