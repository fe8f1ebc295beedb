/* nd's own matrix kernel (src/ops/gemm_kernel.c, the product of builds without
 * BLAS): against a long-double triple loop for every transpose combination,
 * padded leading dimensions, edge tiles and beta; nd_matmul on large strided
 * and transposed views against a product made of elementwise ops; and, in a
 * build without LAPACK, the decompositions' errors. In the BLAS build the same
 * tests check the kernel that the browser build will run. */
#include "support.h"

#include "ops/gemm_kernel.h"

#include <stdlib.h>

/* A deterministic value in [-1, 1) for element i of matrix `which`. */
static double value_at(int which, int64_t i) {
    uint64_t x =
        (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull + (uint64_t)which * 0xD1B54A32D192ED03ull;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 32;
    return (double)(x >> 11) / (double)(1ull << 52) - 1.0;
}

/* Runs one product of the kernel, in dtype (ND_F32 or ND_F64), and checks it;
 * rows of A, B and C padded (not contiguous with each other) or not. */
static void check_layout(nd_dtype dtype, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                         double beta, bool padded) {
    int64_t a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
    int64_t lda = a_cols + 3 * padded, ldb = b_cols + 5 * padded, ldc = n + 2 * padded;
    size_t esize = dtype == ND_F32 ? 4 : 8;
    char *A = malloc((size_t)(a_rows * lda) * esize), *B = malloc((size_t)(b_rows * ldb) * esize);
    char *C = malloc((size_t)(m * ldc) * esize);
    double *C0 = malloc((size_t)(m * ldc) * sizeof *C0);
    cr_assert(A && B && C && C0);
#define SET(P, i, v)                                                                               \
    (dtype == ND_F32 ? (void)(((float *)(P))[i] = (float)(v)) : (void)(((double *)(P))[i] = (v)))
#define GET(P, i) (dtype == ND_F32 ? (double)((float *)(P))[i] : ((double *)(P))[i])
    for (int64_t i = 0; i < a_rows * lda; i++) SET(A, i, value_at(1, i));
    for (int64_t i = 0; i < b_rows * ldb; i++) SET(B, i, value_at(2, i));
    /* With beta = 0, C's old values must not leak in, not even NaN. */
    for (int64_t i = 0; i < m * ldc; i++) {
        SET(C, i, beta == 0 ? NAN : value_at(3, i));
        C0[i] = GET(C, i); /* as stored, rounded to dtype */
    }
    if (dtype == ND_F32)
        nd__gemm_f32(ta, tb, m, n, k, (float *)A, lda, (float *)B, ldb, (float)beta, (float *)C,
                     ldc);
    else
        nd__gemm_f64(ta, tb, m, n, k, (double *)A, lda, (double *)B, ldb, beta, (double *)C, ldc);
    double eps = dtype == ND_F32 ? 1.2e-7 : 2.3e-16;
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            long double sum = 0, size = 0;
            for (int64_t p = 0; p < k; p++) {
                long double a = GET(A, ta ? p * lda + i : i * lda + p);
                long double b = GET(B, tb ? j * ldb + p : p * ldb + j);
                sum += a * b;
                size += fabsl(a * b);
            }
            if (beta != 0) sum += (long double)beta * C0[i * ldc + j];
            double got = GET(C, i * ldc + j);
            double tol = 2.0 * (double)(k + 2) * eps * (double)(size + 1);
            cr_assert(
                fabs(got - (double)sum) <= tol,
                "%s ta=%d tb=%d m=%ld n=%ld k=%ld beta=%g: C[%ld][%ld] = %.17g, expected %.17g",
                nd_dtype_name(dtype), ta, tb, (long)m, (long)n, (long)k, beta, (long)i, (long)j,
                got, (double)sum);
        }
        /* The padding between rows of C is left as it was. */
        for (int64_t j = n; j < ldc; j++) {
            double got = GET(C, i * ldc + j);
            cr_assert(got == C0[i * ldc + j] || (isnan(got) && isnan(C0[i * ldc + j])),
                      "padding of C written at [%ld][%ld]", (long)i, (long)j);
        }
    }
#undef SET
#undef GET
    free(A), free(B), free(C), free(C0);
}

static void check_kernel(nd_dtype dtype, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                         double beta) {
    check_layout(dtype, ta, tb, m, n, k, beta, true);
}

/* Sizes that hit the plain loop, the packed path, partial tiles (not multiples
 * of 6, 8 or 16) and more than one cache block along each dimension. */
static const int64_t SIZES[][3] = {
    {1, 1, 1},    {1, 7, 3},      {5, 1, 9},    {3, 4, 0},     {7, 9, 11},   {33, 35, 37},
    {64, 64, 64}, {97, 130, 300}, {200, 17, 5}, {5, 300, 260}, {256, 32, 1}, {256, 1, 32},
    {1, 32, 256}, {32, 1, 256},   {40, 33, 2},  {19, 70, 7},   {3, 37, 41}};

static void check_all(nd_dtype dtype) {
    for (size_t s = 0; s < sizeof SIZES / sizeof *SIZES; s++)
        for (int t = 0; t < 4; t++)
            for (int b = 0; b < 2; b++)
                check_kernel(dtype, t & 1, t & 2, SIZES[s][0], SIZES[s][1], SIZES[s][2],
                             b ? 0.5 : 0.0);
}

ND_TEST(gemm_kernel, every_transpose_and_edge_f32) {
    check_all(ND_F32);
}

ND_TEST(gemm_kernel, every_transpose_and_edge_f64) {
    check_all(ND_F64);
}

/* The small products of a 1-32-1 net without padding: a transposed B with one
 * inner product is then a row (its own loop), and a C of one column is contiguous. */
ND_TEST(gemm_kernel, small_net_products_unpadded) {
    for (int d = 0; d < 2; d++)
        for (int t = 0; t < 4; t++)
            for (int b = 0; b < 2; b++) {
                nd_dtype dtype = d ? ND_F64 : ND_F32;
                double beta = b ? 1.0 : 0.0;
                check_layout(dtype, t & 1, t & 2, 256, 32, 1, beta, false);
                check_layout(dtype, t & 1, t & 2, 256, 1, 32, beta, false);
                check_layout(dtype, t & 1, t & 2, 32, 1, 256, beta, false);
                check_layout(dtype, t & 1, t & 2, 1, 32, 256, beta, false);
                check_layout(dtype, t & 1, t & 2, 50, 30, 2, beta, false);
            }
}

ND_TEST(gemm_kernel, more_row_blocks_than_threads) {
    nd_set_num_threads(2);
    check_kernel(ND_F32, false, false, 400, 70, 300, 0.0);
    check_kernel(ND_F64, true, true, 401, 33, 140, 1.0);
    nd_set_num_threads(0);
}

/* a · b written as a broadcast multiply and a sum: no matrix kernel involved. */
static nd_tensor *product_by_sum(nd_tensor *a, nd_tensor *b) {
    return nd_sum(nd_mul(nd_unsqueeze(a, -1), nd_unsqueeze(b, -3)), -2, false);
}

ND_TEST(gemm_kernel, matmul_of_strided_and_transposed_views) {
    nd_manual_seed(14);
    for (int d = 0; d < 2; d++) {
        nd_dtype dtype = d ? ND_F64 : ND_F32;
        double tol = d ? 1e-12 : 2e-5;
        nd_tensor *big = nd_randn(dtype, ND_SHAPE(3, 140, 150));
        /* A transposed batch (unit row stride) times every other row of a matrix. */
        nd_tensor *a = nd_transpose(big, 1, 2); /* (3, 150, 140) */
        nd_tensor *b = nd_slice(nd_randn(dtype, ND_SHAPE(280, 90)), 0, 0, 280, 2);
        assert_close(nd_matmul(a, b), product_by_sum(a, b), tol, tol);
        /* Neither layout readable as a matrix: every other column. */
        nd_tensor *c = nd_slice(big, 2, 0, 150, 2); /* (3, 140, 75) */
        nd_tensor *e = nd_slice(nd_randn(dtype, ND_SHAPE(75, 66)), 1, 0, 66, 3);
        assert_close(nd_matmul(c, e), product_by_sum(c, e), tol, tol);
        /* A broadcast batch: (2, 1, 40, 50) · (3, 50, 60). */
        nd_tensor *f = nd_randn(dtype, ND_SHAPE(2, 1, 40, 50));
        nd_tensor *h = nd_randn(dtype, ND_SHAPE(3, 50, 60));
        assert_close(nd_matmul(f, h), product_by_sum(f, h), tol, tol);
    }
}

/* Without LAPACK (ND_BLAS=OFF) each decomposition says so; with it, it works. */
ND_TEST(gemm_kernel, decompositions_without_lapack_say_so) {
    nd_tensor *m = nd_parse("[[2.0, 1.0], [1.0, 3.0]]");
    nd_tensor *values = NULL, *vectors = NULL;
    int eigh = nd_eigh(m, &values, &vectors);
    if (strncmp(nd_blas_info(), "none", 4) != 0) {
        cr_assert_eq(eigh, 0, "%s", nd_last_error());
        return;
    }
    cr_assert_eq(eigh, -1);
    assert_error("nd_eigh: this build of nd has no LAPACK");
    cr_assert_null(values);
    cr_assert_null(nd_inv(m));
    assert_error("nd_inv: this build of nd has no LAPACK");
    cr_assert_null(nd_det(m));
    assert_error("nd_det: this build of nd has no LAPACK");
    cr_assert_null(nd_solve(m, m));
    assert_error("nd_solve: this build of nd has no LAPACK");
    cr_assert_eq(nd_eig(m, &values, NULL, NULL, NULL), -1);
    assert_error("nd_eig: this build of nd has no LAPACK");
    cr_assert_eq(nd_svd(m, NULL, &values, NULL), -1);
    assert_error("nd_svd: this build of nd has no LAPACK");
    /* A NULL input passes its earlier error on. */
    nd_tensor *bad = nd_parse("[[1.0, 2.0]");
    cr_assert_null(bad);
    char earlier[256];
    snprintf(earlier, sizeof earlier, "%s", nd_last_error());
    cr_assert_null(nd_inv(bad));
    cr_assert_str_eq(nd_last_error(), earlier);
}
