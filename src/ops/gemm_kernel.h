/*
 * gemm_kernel.h — nd's own matrix product, for builds without BLAS (the
 * browser build, or `cmake -DND_BLAS=OFF`). Always compiled, so the BLAS build's
 * tests can hold it to OpenBLAS's results.
 *
 * C (m × n, row stride ldc) = op(A) · op(B) + beta · C, all row-major: op(A) is
 * m × k, read as A[i·lda + p], or as A[p·lda + i] when trans_a (A stored
 * transposed); op(B) is k × n, B[p·ldb + j], or B[j·ldb + p] when trans_b.
 * When beta is 0, C is only written (it may hold garbage or NaN), as in BLAS.
 */
#ifndef ND_GEMM_KERNEL_H
#define ND_GEMM_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

void nd__gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float *A,
                  int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
void nd__gemm_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const double *A,
                  int64_t lda, const double *B, int64_t ldb, double beta, double *C, int64_t ldc);

#endif
