/* Matrix products and decompositions: values against NumPy/PyTorch (golden
 * files from tests/reference/linalg.py), views handed to BLAS, and errors. */
#include "support.h"

static nd_tensor *g(const char *name) {
    char path[128];
    snprintf(path, sizeof path, "linalg_%s.npy", name);
    return golden(path);
}

static void check_matmul_case(const char *name, nd_dtype dtype, double tol) {
    char a[64], b[64], out[64];
    snprintf(a, sizeof a, "matmul_%s_a", name);
    snprintf(b, sizeof b, "matmul_%s_b", name);
    snprintf(out, sizeof out, "matmul_%s_out", name);
    nd_tensor *got = nd_matmul(nd_to(g(a), dtype), nd_to(g(b), dtype));
    cr_assert(got, "%s: %s", name, nd_last_error());
    cr_assert_eq(nd_type(got), dtype);
    assert_close(got, g(out), tol, tol);
}

static const char *const CASES[] = {"vv",  "mv",  "vm",   "mm",   "bmv",
                                    "vbm", "bmm", "bm_m", "m_bm", "bcast"};

ND_TEST(matmul, every_shape_combination_f64) {
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
        check_matmul_case(CASES[i], ND_F64, 1e-12);
}

ND_TEST(matmul, every_shape_combination_f32) {
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
        check_matmul_case(CASES[i], ND_F32, 1e-5);
}

ND_TEST(matmul, result_shapes_follow_torch) {
    assert_shape(nd_matmul(nd_ones(ND_F32, ND_SHAPE(3)), nd_ones(ND_F32, ND_SHAPE(3))), 0, NULL);
    assert_shape(nd_matmul(nd_ones(ND_F32, ND_SHAPE(3)), nd_ones(ND_F32, ND_SHAPE(2, 3, 4))),
                 ND_SHAPE(2, 4));
    assert_shape(
        nd_matmul(nd_ones(ND_F32, ND_SHAPE(2, 1, 3, 4)), nd_ones(ND_F32, ND_SHAPE(5, 4, 2))),
        ND_SHAPE(2, 5, 3, 2));
    nd_tensor *dot = nd_matmul(nd_ones(ND_F32, ND_SHAPE(3)), nd_full(ND_F32, ND_SHAPE(3), 2.0));
    cr_assert_float_eq(nd_item(dot), 6.0, 1e-6);
}

ND_TEST(matmul, transposed_and_strided_views) {
    nd_tensor *a = g("matmul_mm_a"), *b = g("matmul_mm_b"); /* (2, 3), (3, 4) */
    nd_tensor *want = g("matmul_mm_out");
    /* aᵀᵀ through a transposed copy: BLAS reads the view with Trans. */
    nd_tensor *at = nd_contiguous(nd_t(a)); /* (3, 2) */
    nd_tensor *bt = nd_contiguous(nd_t(b)); /* (4, 3) */
    assert_close(nd_matmul(nd_t(at), nd_t(bt)), want, 1e-12, 1e-12);
    assert_close(nd_mm(nd_t(at), b), want, 1e-12, 1e-12);
    /* Every other column of a wider matrix: not BLAS-readable, copied once. */
    nd_tensor *wide = nd_zeros(ND_F64, ND_SHAPE(2, 6));
    cr_assert_eq(nd_copy_(nd_slice(wide, 1, 0, ND_END, 2), a), 0);
    assert_close(nd_matmul(nd_slice(wide, 1, 0, ND_END, 2), b), want, 1e-12, 1e-12);
    /* A strided vector. */
    nd_tensor *x = nd_zeros(ND_F64, ND_SHAPE(6));
    cr_assert_eq(nd_copy_(nd_slice(x, 0, 1, ND_END, 2), nd_select(b, 1, 0)), 0);
    assert_close(nd_mv(a, nd_slice(x, 0, 1, ND_END, 2)), nd_select(want, 1, 0), 1e-12, 1e-12);
    /* An expanded (stride 0) operand. */
    nd_tensor *row = nd_expand(nd_ones(ND_F64, ND_SHAPE(1, 3)), ND_SHAPE(2, 3));
    assert_close(nd_matmul(row, b), nd_expand(nd_sum(b, 0, true), ND_SHAPE(2, 4)), 1e-12, 1e-12);
}

ND_TEST(matmul, batch_collapses_into_one_gemm) {
    /* (2, 3, 4)·(4, 5) equals stacking the batches: checked on a sliced batch too. */
    nd_tensor *a = g("matmul_bm_m_a"), *b = g("matmul_bm_m_b");
    assert_close(nd_matmul(a, b), g("matmul_bm_m_out"), 1e-12, 1e-12);
    nd_tensor *first = nd_matmul(nd_select(a, 0, 1), b);
    assert_close(first, nd_select(g("matmul_bm_m_out"), 0, 1), 1e-12, 1e-12);
}

ND_TEST(matmul, integers_as_torch) {
    nd_tensor *got = nd_matmul(g("matmul_int_a"), g("matmul_int_b"));
    cr_assert_eq(nd_type(got), ND_I64);
    assert_close(got, g("matmul_int_out"), 0, 0);
}

ND_TEST(matmul, empty_inner_dim_gives_zeros) {
    nd_tensor *c = nd_matmul(nd_ones(ND_F32, ND_SHAPE(2, 0)), nd_ones(ND_F32, ND_SHAPE(0, 3)));
    assert_close(c, nd_zeros(ND_F32, ND_SHAPE(2, 3)), 0, 0);
}

ND_TEST(matmul, errors_name_both_shapes) {
    cr_assert_null(nd_matmul(nd_ones(ND_F32, ND_SHAPE(2, 3)), nd_ones(ND_F32, ND_SHAPE(4, 5))));
    assert_error("nd_matmul: shapes (2, 3) and (4, 5) cannot be multiplied (3 vs 4)");
    nd_clear_error();
    cr_assert_null(
        nd_matmul(nd_ones(ND_F32, ND_SHAPE(2, 3, 4)), nd_ones(ND_F32, ND_SHAPE(3, 4, 5))));
    assert_error("(2, 3, 4) and (3, 4, 5) do not broadcast");
    nd_clear_error();
    cr_assert_null(nd_matmul(nd_ones(ND_F32, ND_SHAPE(2, 3)), nd_ones(ND_F64, ND_SHAPE(3))));
    assert_error("float32 and float64");
    nd_clear_error();
    cr_assert_null(nd_matmul(nd_scalar(1, ND_F32), nd_ones(ND_F32, ND_SHAPE(3))));
    assert_error("at least 1 dim");
    nd_clear_error();
    cr_assert_null(nd_matmul(NULL, nd_ones(ND_F32, ND_SHAPE(3))));
    nd_clear_error();
    cr_assert_null(nd_dot(nd_ones(ND_F32, ND_SHAPE(2, 3)), nd_ones(ND_F32, ND_SHAPE(3))));
    assert_error("nd_dot: both arguments must be 1-D");
    nd_clear_error();
    cr_assert_null(nd_dot(nd_ones(ND_F32, ND_SHAPE(2)), nd_ones(ND_F32, ND_SHAPE(3))));
    assert_error("(2,) and (3,)");
    nd_clear_error();
    cr_assert_null(nd_mv(nd_ones(ND_F32, ND_SHAPE(3)), nd_ones(ND_F32, ND_SHAPE(3))));
    assert_error("nd_mv");
    nd_clear_error();
    cr_assert_null(nd_mm(nd_ones(ND_F32, ND_SHAPE(2, 3, 3)), nd_ones(ND_F32, ND_SHAPE(3, 3))));
    assert_error("nd_mm: both arguments must be 2-D");
    nd_clear_error();
    cr_assert_null(nd_outer(nd_ones(ND_F32, ND_SHAPE(2, 1)), nd_ones(ND_F32, ND_SHAPE(3))));
    assert_error("nd_outer");
    nd_clear_error();
    cr_assert_null(nd_matmul(nd_ones(ND_BOOL, ND_SHAPE(2, 2)), nd_ones(ND_BOOL, ND_SHAPE(2, 2))));
    assert_error("bool");
}

ND_TEST(products, dot_mv_mm_outer) {
    nd_tensor *a = nd_parse("[1.0, 2.0, 3.0]"), *b = nd_parse("[4.0, -5.0, 6.0]");
    cr_assert_float_eq(nd_item(nd_dot(a, b)), 12.0, 1e-6);
    assert_values(nd_outer(a, nd_parse("[1.0, -1.0]")), 1e-6, 1, -1, 2, -2, 3, -3);
    nd_tensor *m = nd_parse("[[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]]");
    assert_values(nd_mv(m, b), 1e-6, 16, -11);
    assert_values(nd_mm(m, nd_t(m)), 1e-6, 5, -2, -2, 2);
    assert_close(nd_mm(g("matmul_mm_a"), g("matmul_mm_b")), g("matmul_mm_out"), 1e-12, 1e-12);
}

/* ------------------------------------------------------ decompositions */

ND_TEST(decomp, det_of_the_course_example) {
    cr_assert_float_eq(nd_item(nd_det(nd_parse("[[1.0, -1.0], [2.0, 3.0]]"))), 5.0, 1e-6);
    /* A row swap flips the sign. */
    cr_assert_float_eq(nd_item(nd_det(nd_parse("[[2.0, 3.0], [1.0, -1.0]]"))), -5.0, 1e-6);
    cr_assert_float_eq(nd_item(nd_det(g("m"))), nd_item(g("det")), 1e-9);
    /* Singular: 0, not an error. */
    cr_assert_float_eq(nd_item(nd_det(nd_parse("[[1.0, 2.0], [2.0, 4.0]]"))), 0.0, 1e-12);
    cr_assert_null(nd_last_error());
}

ND_TEST(decomp, inv_times_m_is_identity) {
    nd_tensor *m = g("m");
    nd_tensor *inv = nd_inv(m);
    assert_close(inv, g("inv"), 1e-10, 1e-12);
    assert_close(nd_matmul(inv, m), nd_eye(5, ND_F64), 1e-10, 1e-12);
    nd_tensor *m32 = nd_to(m, ND_F32);
    assert_close(nd_matmul(nd_inv(m32), m32), nd_eye(5, ND_F32), 1e-5, 1e-5);
}

ND_TEST(decomp, solve_vector_and_matrix) {
    assert_close(nd_solve(g("m"), g("rhs_v")), g("solve_v"), 1e-10, 1e-12);
    assert_close(nd_solve(g("m"), g("rhs_m")), g("solve_m"), 1e-10, 1e-12);
    nd_tensor *x = nd_solve(nd_to(g("m"), ND_F32), nd_to(g("rhs_m"), ND_F32));
    assert_close(x, g("solve_m"), 1e-4, 1e-5);
}

/* Eigenvectors are unique up to sign: compare v·sign(v[0, j]) column by column. */
static nd_tensor *fix_signs(nd_tensor *v) {
    return nd_mul(v, nd_sign(nd_select(v, 0, 0)));
}

ND_TEST(decomp, eigh_values_ascending_vectors_as_columns) {
    nd_tensor *w = NULL, *v = NULL;
    cr_assert_eq(nd_eigh(g("sym"), &w, &v), 0, "%s", nd_last_error());
    assert_close(w, g("eigh_values"), 1e-10, 1e-12);
    assert_close(fix_signs(v), fix_signs(g("eigh_vectors")), 1e-8, 1e-10);
    /* A V = V diag(w) */
    assert_close(nd_matmul(g("sym"), v), nd_mul(v, w), 1e-10, 1e-10);
    nd_tensor *w32 = NULL;
    cr_assert_eq(nd_eigh(nd_to(g("sym"), ND_F32), &w32, NULL), 0);
    assert_close(w32, g("eigh_values"), 1e-4, 1e-4);
}

ND_TEST(decomp, eig_of_the_course_example) {
    nd_tensor *re = NULL, *im = NULL, *vre = NULL, *vim = NULL;
    cr_assert_eq(nd_eig(nd_parse("[[2.0, 1.0], [2.0, 3.0]]"), &re, &im, &vre, &vim), 0);
    double l0 = nd_get(re, (int64_t[]){0}), l1 = nd_get(re, (int64_t[]){1});
    cr_assert(fabs(fmin(l0, l1) - 1) < 1e-6 && fabs(fmax(l0, l1) - 4) < 1e-6, "%g %g", l0, l1);
    assert_values(im, 1e-12, 0, 0);
    assert_values(vim, 1e-12, 0, 0, 0, 0);
    for (int64_t j = 0; j < 2; j++) {
        double x = nd_get(vre, (int64_t[]){0, j}), y = nd_get(vre, (int64_t[]){1, j});
        double lambda = nd_get(re, (int64_t[]){j});
        if (fabs(lambda - 1) < 1e-6)
            cr_assert_float_eq(y / x, -1.0, 1e-6); /* along [1, -1] */
        else
            cr_assert_float_eq(y / x, 2.0, 1e-6); /* along [1, 2] */
    }
}

ND_TEST(decomp, eig_complex_pair_of_a_rotation) {
    nd_tensor *re = NULL, *im = NULL, *vre = NULL, *vim = NULL;
    cr_assert_eq(nd_eig(nd_parse("[[0.0, -1.0], [1.0, 0.0]]"), &re, &im, &vre, &vim), 0);
    assert_values(re, 1e-12, 0, 0);
    assert_values(im, 1e-12, 1, -1);
    /* Columns are conjugates: same real parts, opposite imaginary parts. */
    cr_assert_float_eq(nd_get(vre, (int64_t[]){0, 0}), nd_get(vre, (int64_t[]){0, 1}), 1e-12);
    cr_assert_float_eq(nd_get(vim, (int64_t[]){1, 0}), -nd_get(vim, (int64_t[]){1, 1}), 1e-12);
    /* Only the values: outputs are optional. */
    cr_assert_eq(nd_eig(nd_parse("[[0.0, -1.0], [1.0, 0.0]]"), NULL, &im, NULL, NULL), 0);
}

ND_TEST(decomp, svd_reconstructs) {
    nd_tensor *u = NULL, *s = NULL, *vt = NULL, *r = g("rect");
    cr_assert_eq(nd_svd(r, &u, &s, &vt), 0, "%s", nd_last_error());
    assert_shape(u, ND_SHAPE(6, 4));
    assert_shape(vt, ND_SHAPE(4, 4));
    assert_close(s, g("svd_s"), 1e-10, 1e-12);
    assert_close(nd_matmul(nd_mul(u, s), vt), r, 1e-10, 1e-12);
    nd_tensor *wide = nd_t(r); /* (4, 6) */
    cr_assert_eq(nd_svd(wide, &u, &s, &vt), 0);
    assert_shape(u, ND_SHAPE(4, 4));
    assert_shape(vt, ND_SHAPE(4, 6));
    assert_close(nd_matmul(nd_mul(u, s), vt), wide, 1e-10, 1e-12);
}

ND_TEST(decomp, errors) {
    nd_tensor *rect = nd_ones(ND_F64, ND_SHAPE(2, 3));
    cr_assert_null(nd_inv(rect));
    assert_error("nd_inv: expects a square matrix, got shape (2, 3)");
    nd_clear_error();
    cr_assert_null(nd_det(rect));
    assert_error("nd_det: expects a square matrix");
    nd_clear_error();
    cr_assert_eq(nd_eigh(rect, NULL, NULL), -1);
    assert_error("nd_eigh: expects a square matrix");
    nd_clear_error();
    cr_assert_eq(nd_eig(rect, NULL, NULL, NULL, NULL), -1);
    assert_error("nd_eig: expects a square matrix");
    nd_clear_error();
    nd_tensor *singular = nd_parse("[[1.0, 2.0], [2.0, 4.0]]");
    cr_assert_null(nd_inv(singular));
    assert_error("singular");
    nd_clear_error();
    cr_assert_null(nd_solve(singular, nd_parse("[1.0, 1.0]")));
    assert_error("singular");
    nd_clear_error();
    cr_assert_null(nd_inv(nd_parse("[[1.0, nan], [0.0, 1.0]]")));
    assert_error("NaN or infinity");
    nd_clear_error();
    cr_assert_eq(nd_svd(nd_parse("[[1.0, inf]]"), NULL, NULL, NULL), -1);
    assert_error("NaN or infinity");
    nd_clear_error();
    cr_assert_null(nd_inv(nd_parse("[[1, 2], [3, 4]]")));
    assert_error("expects a floating-point matrix, got int64");
    nd_clear_error();
    cr_assert_null(nd_det(nd_ones(ND_F32, ND_SHAPE(2, 2, 2))));
    assert_error("expects a 2-D matrix");
    nd_clear_error();
    cr_assert_null(nd_solve(nd_eye(2, ND_F64), nd_ones(ND_F64, ND_SHAPE(3))));
    assert_error("got shape (3,)");
    nd_clear_error();
    cr_assert_null(nd_solve(nd_eye(2, ND_F64), nd_ones(ND_F32, ND_SHAPE(2))));
    assert_error("float64 and float32");
    nd_clear_error();
    cr_assert_eq(nd_eigh(NULL, NULL, NULL), -1);
}
