/* nd's own matrix product (see gemm_kernel.h), used where nd has no BLAS.
 * The algorithm is in gemm_kernel_body.h, written once and compiled here for
 * float and for double with each type's tile sizes.
 *
 * Sizes. The micro-kernel's tile of C lives in vector registers: 6 rows of two
 * vectors is 12 of the 16 registers x86 has (AVX: a 6 × 16 float tile; with
 * AVX-512's 32 registers, 8 rows of two: 8 × 32; SSE2
 * and WebAssembly SIMD128, whose engines map its vectors onto those same 16
 * registers: 6 × 8), leaving room for a row of B and a broadcast value of A.
 * KC rows of a B panel (NR × KC values) stay in the L1
 * cache while an A block (MC × KC) stays in L2 and a B block (KC × NC) in L3. */
#include "gemm_kernel.h"

#include "../core/internal.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Below this many multiply-adds the plain loop wins: packing costs O(mk + kn). */
#define PLAIN_WORK (32 * 32 * 32)

/* The vector width the micro-kernel is written for: 64 bytes where the CPU
 * has AVX-512, 32 with AVX, else 16 (SSE2, NEON, WebAssembly SIMD128; a
 * compiler without the vector unit splits the vectors into scalars, still
 * correct). AVX-512 also has 32 vector registers instead of 16: room for a
 * taller tile (TILE_ROWS), so that each row of B loaded from the L1 cache
 * serves more multiply-adds (8 rows measured best of 6, 8, 12 and 14). */
#if defined(__AVX512F__)
#define VEC_BYTES 64
#define TILE_ROWS 8
#elif defined(__AVX__)
#define VEC_BYTES 32
#define TILE_ROWS 6
#else
#define VEC_BYTES 16
#define TILE_ROWS 6
#endif

#define real    float
#define NAME(x) x##_f32
#define VLEN    (VEC_BYTES / 4)
typedef float vec_f32 __attribute__((vector_size(VEC_BYTES)));
#define vec vec_f32
#define MR  TILE_ROWS
#define NR  (2 * VLEN)
#define MC  96
#define KC  256
#define NC  2048
#include "gemm_kernel_body.h"
#undef real
#undef NAME
#undef VLEN
#undef vec
#undef MR
#undef NR
#undef MC
#undef KC
#undef NC

#define real    double
#define NAME(x) x##_f64
#define VLEN    (VEC_BYTES / 8)
typedef double vec_f64 __attribute__((vector_size(VEC_BYTES)));
#define vec vec_f64
#define MR  TILE_ROWS
#define NR  (2 * VLEN)
#define MC  96
#define KC  128
#define NC  2048
#include "gemm_kernel_body.h"

void nd__gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float *A,
                  int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    gemm_f32(trans_a, trans_b, m, n, k, A, lda, B, ldb, beta, C, ldc);
}

void nd__gemm_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const double *A,
                  int64_t lda, const double *B, int64_t ldb, double beta, double *C, int64_t ldc) {
    gemm_f64(trans_a, trans_b, m, n, k, A, lda, B, ldb, beta, C, ldc);
}
