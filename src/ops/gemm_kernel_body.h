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

/* The plain triple loop: for small products (packing would cost more than it
 * saves) and as the fallback when the packing buffers cannot be allocated.
 * The inner loop runs along a row of C, unit stride when B is not transposed.
 * When C has a column or two, that loop would run once or twice per multiply-
 * add, and when only B is transposed and k > n it would stride through B:
 * each element of C is then a dot product along p instead (the 1-column
 * products of a small net, y = h·w2ᵀ and its backward, spend most of their
 * time here, in the browser especially). */
static void NAME(plain_product)(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                                const real *A, int64_t lda, const real *B, int64_t ldb, real beta,
                                real *C, int64_t ldc) {
    if (n < 3 || (trans_b && !trans_a && k > n)) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                /* Four partial sums: one sum would wait on each addition's
                 * latency in turn; four run side by side (p = 4q + r in s[r]). */
                real s[4] = {0, 0, 0, 0};
                int64_t p = 0;
                for (; p + 4 <= k; p += 4)
                    for (int r = 0; r < 4; r++) s[r] += A_AT(i, p + r) * B_AT(p + r, j);
                for (; p < k; p++) s[0] += A_AT(i, p) * B_AT(p, j);
                real sum = (s[0] + s[1]) + (s[2] + s[3]);
                real *c = C + i * ldc + j;
                *c = beta == 0 ? sum : beta * *c + sum;
            }
        return;
    }
    /* With one inner product (k = 1), a transposed B with unit stride is the
     * same row as B not transposed: the row loop below then runs at unit stride. */
    if (k == 1 && trans_b && ldb == 1) trans_b = false;
    for (int64_t i = 0; i < m; i++) {
        real *row = C + i * ldc;
        for (int64_t j = 0; j < n; j++) row[j] = beta == 0 ? 0 : beta * row[j];
        for (int64_t p = 0; p < k; p++) {
            real a = A_AT(i, p);
            if (trans_b)
                for (int64_t j = 0; j < n; j++) row[j] += a * B[j * ldb + p];
            else
                for (int64_t j = 0; j < n; j++) row[j] += a * B[p * ldb + j];
        }
    }
}

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
    vec acc[MR][NV];
    memset(acc, 0, sizeof acc);
    for (int64_t p = 0; p < kc; p++, a += MR, b += NR) {
        vec row[NV];
        memcpy(row, b, sizeof row); /* an unaligned load */
        for (int i = 0; i < MR; i++) {
            vec ai = (vec){0} + a[i]; /* a[i] in every lane */
            for (int v = 0; v < NV; v++) acc[i][v] += ai * row[v];
        }
    }
    memcpy(tile, acc, sizeof acc);
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
