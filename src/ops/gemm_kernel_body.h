/*
 * gemm_kernel_body.h — the body of nd's matrix product for one element type,
 * included by gemm_kernel.c once for float and once for double. Before
 * including it, gemm_kernel.c defines
 *   real      the element type
 *   NAME(x)   x with the type's suffix (pack_a → pack_a_f32)
 *   MR, NR    the register tile: MR rows × NR columns of C held in registers
 *   MC, KC, NC  the cache blocks (see gemm_kernel.c)
 *
 * The scheme is the one of GotoBLAS and BLIS: C is computed in blocks; for
 * each block, the pieces of A and B it needs are first copied ("packed") into
 * small contiguous buffers in exactly the order the innermost loop reads them,
 * so that loop streams through memory at unit stride, and every value loaded
 * from a buffer is used MR or NR times from registers.
 */

/* op(A)[i][p] and op(B)[p][j], whichever way round A and B are stored. */
#define A_AT(i, p) (trans_a ? A[(p)*lda + (i)] : A[(i)*lda + (p)])
#define B_AT(p, j) (trans_b ? B[(j)*ldb + (p)] : B[(p)*ldb + (j)])

/* The plain products: for small products (packing would cost more than it
 * saves) and as the fallback when the packing buffers cannot be allocated.
 * A small net's products are all of this kind (1-32-1: 256 × 32 by k = 1,
 * 256 × 1 by k = 32, 32 × 1 by k = 256), and in the browser, where every
 * scalar load and branch costs more than natively, they were most of a
 * training step: so each layout gets a loop that runs along memory at unit
 * stride in vectors, with the partial results in registers. */

/* Vectors of one row of C held in registers by row_axpy. */
#define PV 4

/* row_axpy's work on nv ≤ PV vectors of the row: c[j·cs] = beta·c[j·cs] (0
 * when beta is 0: C may hold garbage) + Σ_p coef[p·coef_stride]·X[p·ldx + j].
 * Each p is one broadcast and nv multiply-adds; the sums run along p in order,
 * as the textbook loop's. Inlined with nv constant, the loops over v unroll. */
static inline void NAME(axpy_vectors)(int nv, int64_t k, const real *coef, int64_t coef_stride,
                                      const real *X, int64_t ldx, real beta, real *c, int64_t cs) {
    /* The tile of C passes through `row` whole vectors at a time, so acc
     * stays in registers (lanes written one by one would keep it in memory). */
    real row[PV * VLEN];
    vec acc[PV];
    if (beta != 0 && cs != 1) /* a column of C: its values one by one */
        for (int j = 0; j < nv * VLEN; j++) row[j] = c[j * cs];
    for (int v = 0; v < nv; v++) {
        acc[v] = (vec){0};
        if (beta != 0) {
            memcpy(&acc[v], (cs == 1 ? c : row) + v * VLEN, sizeof acc[v]);
            acc[v] *= beta;
        }
    }
    for (int64_t p = 0; p < k; p++) {
        vec a = (vec){0} + coef[p * coef_stride]; /* in every lane */
        const real *x = X + p * ldx;
        for (int v = 0; v < nv; v++) {
            vec xv;
            memcpy(&xv, x + v * VLEN, sizeof xv); /* an unaligned load */
            acc[v] += a * xv;
        }
    }
    for (int v = 0; v < nv; v++) memcpy((cs == 1 ? c : row) + v * VLEN, &acc[v], sizeof acc[v]);
    if (cs != 1)
        for (int j = 0; j < nv * VLEN; j++) c[j * cs] = row[j];
}

/* One row of C (cols values, cs apart) as a combination of the rows of X
 * (contiguous along j) weighted by coef: see axpy_vectors. */
static void NAME(row_axpy)(int64_t k, int64_t cols, const real *coef, int64_t coef_stride,
                           const real *X, int64_t ldx, real beta, real *c, int64_t cs) {
    int64_t j = 0;
    for (; j + PV * VLEN <= cols; j += PV * VLEN)
        NAME(axpy_vectors)(PV, k, coef, coef_stride, X + j, ldx, beta, c + j * cs, cs);
    for (; j + VLEN <= cols; j += VLEN)
        NAME(axpy_vectors)(1, k, coef, coef_stride, X + j, ldx, beta, c + j * cs, cs);
    for (; j < cols; j++) {
        real s = beta == 0 ? 0 : beta * c[j * cs];
        for (int64_t p = 0; p < k; p++) s += coef[p * coef_stride] * X[p * ldx + j];
        c[j * cs] = s;
    }
}

/* outer's work on nv ≤ PV vectors of columns: c[i·ldc + j] = beta·c (0 when
 * beta is 0) + a[i·as]·b[j], b's vectors loaded once for all the rows. */
static inline void NAME(outer_vectors)(int nv, int64_t m, const real *a, int64_t as, const real *b,
                                       real beta, real *c, int64_t ldc) {
    vec x[PV];
    for (int v = 0; v < nv; v++) memcpy(&x[v], b + v * VLEN, sizeof x[v]);
    for (int64_t i = 0; i < m; i++) {
        vec ai = (vec){0} + a[i * as]; /* in every lane */
        real *row = c + i * ldc;
        for (int v = 0; v < nv; v++) {
            vec acc = (vec){0};
            if (beta != 0) {
                memcpy(&acc, row + v * VLEN, sizeof acc);
                acc *= beta;
            }
            acc += ai * x[v];
            memcpy(row + v * VLEN, &acc, sizeof acc);
        }
    }
}

/* C = beta·C + a·bᵀ, the product with one inner product (k = 1: a layer with
 * one input, or the input gradient of a layer with one output), column block
 * by column block: row_axpy would reload b's vectors for every row. The same
 * numbers as row_axpy's. */
static void NAME(outer)(int64_t m, int64_t n, const real *a, int64_t as, const real *b, real beta,
                        real *C, int64_t ldc) {
    int64_t j = 0;
    for (; j + PV * VLEN <= n; j += PV * VLEN)
        NAME(outer_vectors)(PV, m, a, as, b + j, beta, C + j, ldc);
    for (; j + VLEN <= n; j += VLEN) NAME(outer_vectors)(1, m, a, as, b + j, beta, C + j, ldc);
    for (; j < n; j++)
        for (int64_t i = 0; i < m; i++) {
            real *c = C + i * ldc + j;
            *c = (beta == 0 ? 0 : beta * *c) + a[i * as] * b[j];
        }
}

/* Σ_p a[p·as]·b[p·bs] in four partial sums (p = 4q + r in sum r: one sum would
 * wait on each addition's latency in turn), as one 4-lane vector when both
 * run at unit stride; the same order either way. */
typedef real NAME(v4) __attribute__((vector_size(4 * sizeof(real))));
static real NAME(dot)(int64_t k, const real *a, int64_t as, const real *b, int64_t bs) {
    NAME(v4) s = {0, 0, 0, 0};
    int64_t p = 0;
    if (as == 1 && bs == 1)
        for (; p + 4 <= k; p += 4) {
            NAME(v4) x, y;
            memcpy(&x, a + p, sizeof x);
            memcpy(&y, b + p, sizeof y);
            s += x * y;
        }
    else
        for (; p + 4 <= k; p += 4)
            for (int r = 0; r < 4; r++) s[r] += a[(p + r) * as] * b[(p + r) * bs];
    for (; p < k; p++) s[0] += a[p * as] * b[p * bs];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* The most values of op(B) that plain_product copies to its stack to read
 * them along rows: a transposed B with fewer than 8 inner products (a layer
 * with two or three inputs, whose dot products would be two or three long). */
#define SMALL_B 1024

/* C = A·op(B) + beta·C, A not transposed, B transposed, k·n ≤ SMALL_B: op(B)
 * (k × n) copied row-major, then each row of C as in plain_product. */
static void NAME(product_copying_b)(int64_t m, int64_t n, int64_t k, const real *A, int64_t lda,
                                    const real *B, int64_t ldb, real beta, real *C, int64_t ldc) {
    real copy[SMALL_B];
    for (int64_t p = 0; p < k; p++)
        for (int64_t j = 0; j < n; j++) copy[p * n + j] = B[j * ldb + p];
    for (int64_t i = 0; i < m; i++)
        NAME(row_axpy)(k, n, A + i * lda, 1, copy, n, beta, C + i * ldc, 1);
}

static void NAME(plain_product)(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                                const real *A, int64_t lda, const real *B, int64_t ldb, real beta,
                                real *C, int64_t ldc) {
    /* op(B)'s rows contiguous: B not transposed, or one inner product of a
     * transposed B with unit stride (a column that is also a row). */
    bool b_rows = !trans_b || (k == 1 && ldb == 1);
    bool copy_b = !trans_a && !b_rows && k < 8 && k * n <= SMALL_B;
    if (!trans_a && (n < 3 || (!b_rows && !copy_b))) {
        /* A's rows are contiguous, and so are B's columns when B is
         * transposed: each element of C is a dot product along p (C of one
         * or two columns, y = h·w2ᵀ, or a layer with many inputs). */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                real sum = trans_b ? NAME(dot)(k, A + i * lda, 1, B + j * ldb, 1)
                                   : NAME(dot)(k, A + i * lda, 1, B + j, ldb);
                real *c = C + i * ldc + j;
                *c = beta == 0 ? sum : beta * *c + sum;
            }
        return;
    }
    if (copy_b) {
        NAME(product_copying_b)(m, n, k, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (b_rows && k == 1) {
        NAME(outer)(m, n, A, trans_a ? 1 : lda, B, beta, C, ldc);
        return;
    }
    if (b_rows && (!trans_a || n >= m)) {
        /* Row i of C = Σ_p op(A)[i][p] · row p of op(B). */
        for (int64_t i = 0; i < m; i++) NAME(row_axpy)
        (k, n, trans_a ? A + i : A + i * lda, trans_a ? lda : 1, B, ldb, beta, C + i * ldc, 1);
        return;
    }
    /* A transposed: op(A)'s columns are A's rows, contiguous along i, so
     * column j of C = Σ_p op(B)[p][j] · row p of A (a gradient of the weights
     * of a layer with few outputs, dw = gᵀ·x). */
    for (int64_t j = 0; j < n; j++) NAME(row_axpy)
    (k, m, trans_b ? B + j * ldb : B + j, trans_b ? 1 : ldb, A, lda, beta, C + j, ldc);
}
#undef PV
#undef SMALL_B

/* Copies op(A)[i0 .. i0+mc)[p0 .. p0+kc) into panels of MR rows: panel r holds,
 * for p = 0 .. kc-1, the MR values of column p (zeros past the last row). */
static void NAME(pack_a)(bool trans_a, const real *A, int64_t lda, int64_t i0, int64_t p0,
                         int64_t mc, int64_t kc, real *out) {
    for (int64_t ir = 0; ir < mc; ir += MR) {
        int64_t rows = mc - ir < MR ? mc - ir : MR;
        for (int64_t p = 0; p < kc; p++, out += MR) {
            for (int64_t i = 0; i < rows; i++) out[i] = A_AT(i0 + ir + i, p0 + p);
            for (int64_t i = rows; i < MR; i++) out[i] = 0;
        }
    }
}

/* Copies op(B)[p0 .. p0+kc)[j0 .. j0+nc) into panels of NR columns: panel c
 * holds, for p = 0 .. kc-1, the NR values of row p (zeros past the last column). */
static void NAME(pack_b)(bool trans_b, const real *B, int64_t ldb, int64_t p0, int64_t j0,
                         int64_t kc, int64_t nc, real *out) {
    for (int64_t jr = 0; jr < nc; jr += NR) {
        int64_t cols = nc - jr < NR ? nc - jr : NR;
        for (int64_t p = 0; p < kc; p++, out += NR) {
            for (int64_t j = 0; j < cols; j++) out[j] = B_AT(p0 + p, j0 + jr + j);
            for (int64_t j = cols; j < NR; j++) out[j] = 0;
        }
    }
}

/* The micro-kernel: an MR × NR tile of C from an A panel and a B panel, as kc
 * rank-1 updates. The tile is held as MR × NR/VLEN vectors (GCC's and clang's
 * vector extension: `vec` is VLEN reals that + and * act on lane by lane,
 * compiled to AVX on x86 and to SIMD128 in WebAssembly), so it stays in
 * registers and each step is one broadcast of a[i] and NR/VLEN multiply-adds
 * per row. This loop is where all the time goes. */
#define NV (NR / VLEN)
static void NAME(micro_kernel)(int64_t kc, const real *restrict a, const real *restrict b,
                               real tile[MR][NR]) {
    /* Element by element, never the whole array at once (memset, memcpy):
     * the compiler then keeps acc in registers instead of storing it to the
     * stack at every step. */
    vec acc[MR][NV];
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < NV; v++) acc[i][v] = (vec){0};
    for (int64_t p = 0; p < kc; p++, a += MR, b += NR) {
        vec row[NV];
        for (int v = 0; v < NV; v++) memcpy(&row[v], b + v * VLEN, sizeof row[v]); /* unaligned */
        for (int i = 0; i < MR; i++)
            for (int v = 0; v < NV; v++) acc[i][v] += a[i] * row[v]; /* a[i] in every lane */
    }
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < NV; v++) memcpy(&tile[i][v * VLEN], &acc[i][v], sizeof acc[i][v]);
}
#undef NV

/* C[rows × cols tile] = tile + (first k block ? beta·C : C). */
static void NAME(store_tile)(real tile[MR][NR], int64_t rows, int64_t cols, bool first, real beta,
                             real *C, int64_t ldc) {
    for (int64_t i = 0; i < rows; i++) {
        real *row = C + i * ldc;
        if (first && beta == 0)
            for (int64_t j = 0; j < cols; j++) row[j] = tile[i][j];
        else if (first)
            for (int64_t j = 0; j < cols; j++) row[j] = beta * row[j] + tile[i][j];
        else
            for (int64_t j = 0; j < cols; j++) row[j] += tile[i][j];
    }
}

/* One MC-row block of C's current column block: pack its rows of A, then
 * sweep the tiles. */
static void NAME(row_block)(bool trans_a, const real *A, int64_t lda, int64_t i0, int64_t p0,
                            int64_t mc, int64_t kc, int64_t nc, const real *packed_b,
                            real *packed_a, bool first, real beta, real *C, int64_t ldc) {
    NAME(pack_a)(trans_a, A, lda, i0, p0, mc, kc, packed_a);
    real tile[MR][NR];
    for (int64_t jr = 0; jr < nc; jr += NR) {
        int64_t cols = nc - jr < NR ? nc - jr : NR;
        for (int64_t ir = 0; ir < mc; ir += MR) {
            int64_t rows = mc - ir < MR ? mc - ir : MR;
            NAME(micro_kernel)(kc, packed_a + ir * kc, packed_b + jr * kc, tile);
            NAME(store_tile)(tile, rows, cols, first, beta, C + (i0 + ir) * ldc + jr, ldc);
        }
    }
}

static void NAME(gemm)(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const real *A,
                       int64_t lda, const real *B, int64_t ldb, real beta, real *C, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || m == 1 || n == 1 || m * n * k <= PLAIN_WORK) { /* vectors: gemv-like */
        NAME(plain_product)(trans_a, trans_b, m, n, k, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    int64_t row_blocks = (m + MC - 1) / MC;
    int threads = nd__threads_for(m * n * k / 64);
    if (threads > row_blocks) threads = (int)row_blocks;
    /* Buffers sized to this product: one B block, one A block per thread. */
    int64_t kc_max = k < KC ? k : KC, nc_max = n < NC ? n : NC, mc_max = m < MC ? m : MC;
    size_t b_size = (size_t)(kc_max * ((nc_max + NR - 1) / NR * NR));
    size_t a_size = (size_t)(kc_max * ((mc_max + MR - 1) / MR * MR));
    real *packed_b = malloc((b_size + (size_t)threads * a_size) * sizeof(real));
    if (!packed_b) { /* slower, but the same product */
        NAME(plain_product)(trans_a, trans_b, m, n, k, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    real *packed_a = packed_b + b_size;
    for (int64_t j0 = 0; j0 < n; j0 += NC) {
        int64_t nc = n - j0 < NC ? n - j0 : NC;
        for (int64_t p0 = 0; p0 < k; p0 += KC) {
            int64_t kc = k - p0 < KC ? k - p0 : KC;
            NAME(pack_b)(trans_b, B, ldb, p0, j0, kc, nc, packed_b);
            /* Row blocks write disjoint rows of C: one thread each, and every
             * element is summed in the same order whatever the thread count. */
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
#endif
            for (int64_t block = 0; block < row_blocks; block++) {
                int64_t i0 = block * MC, mc = m - i0 < MC ? m - i0 : MC;
                int thread = 0;
#ifdef _OPENMP
                thread = omp_get_thread_num();
#endif
                NAME(row_block)
                (trans_a, A, lda, i0, p0, mc, kc, nc, packed_b, packed_a + (size_t)thread * a_size,
                 p0 == 0, beta, C + j0, ldc);
            }
        }
    }
    free(packed_b);
}

#undef A_AT
#undef B_AT
