/* Matrix products on BLAS: matmul (torch.matmul's full semantics), dot, mv,
 * mm and outer. Each op: its kernel, its VJP and its JVP side by side.
 *
 * Every product reduces to one kernel, `product_into`, over two views of at
 * least two dims, a (..., n, k) and b (..., k, m), whose batch dims broadcast.
 * A 1-D operand is viewed as a one-row (left) or one-column (right) matrix and
 * the added dim is simply absent from the result's shape. Views go to BLAS
 * without a copy whenever BLAS can read them: a row-major matrix is NoTrans
 * with its row stride as leading dimension, a transposed one (unit row
 * stride) is Trans with its column stride. Anything else is copied once.
 * A build without BLAS (ND_BLAS=OFF) runs every product on nd's own kernel,
 * gemm_kernel.c, which reads the same layouts. */
#include "elementwise.h"
#include "gemm_kernel.h"

#ifndef ND_NO_BLAS
#include <cblas.h>
#endif
#include <limits.h>
#include <stdlib.h>

/* -------------------------------------------------------------- layout */

/* How BLAS reads one matrix (rows × cols, strides rs and cs in elements). */
typedef struct {
    bool trans; /* stored transposed: element (r, c) at c·ld + r */
    int64_t ld;
} blas_layout;

static bool layout_of(int64_t rows, int64_t cols, int64_t rs, int64_t cs, blas_layout *l) {
    /* Strides of size-1 dims are never followed, so they may be anything. */
    if ((cs == 1 || cols <= 1) && (rows <= 1 || rs >= (cols > 1 ? cols : 1))) {
        *l = (blas_layout){false, rows <= 1 ? (cols > 1 ? cols : 1) : rs};
        return true;
    }
    if ((rs == 1 || rows <= 1) && (cols <= 1 || cs >= (rows > 1 ? rows : 1))) {
        *l = (blas_layout){true, cols <= 1 ? (rows > 1 ? rows : 1) : cs};
        return true;
    }
    return false;
}

static bool matrix_layout(const nd_tensor *t, blas_layout *l) {
    int d = t->ndim;
    return layout_of(t->shape[d - 2], t->shape[d - 1], t->strides[d - 2], t->strides[d - 1], l);
}

/* The element offsets of every batch of t, for the broadcast batch shape. */
static void batch_offsets(const nd_tensor *t, int nbatch, const int64_t *batch, int64_t count,
                          int64_t *offsets) {
    int own = t->ndim - 2;
    int64_t strides[ND_MAX_DIMS] = {0};
    for (int d = 0; d < own; d++) strides[nbatch - own + d] = t->shape[d] == 1 ? 0 : t->strides[d];
    int64_t index[ND_MAX_DIMS] = {0}, offset = t->offset;
    for (int64_t i = 0; i < count; i++) {
        offsets[i] = offset;
        for (int d = nbatch - 1; d >= 0; d--) { /* odometer */
            offset += strides[d];
            if (++index[d] < batch[d]) break;
            offset -= strides[d] * batch[d];
            index[d] = 0;
        }
    }
}

/* True when t's batch dims and rows are one run of rows of stride rs: the whole
 * batch is then one tall matrix (the common x·W of a 3-D x). */
static bool rows_collapse(const nd_tensor *t) {
    int64_t expected = t->strides[t->ndim - 2] * t->shape[t->ndim - 2];
    for (int d = t->ndim - 3; d >= 0; d--) {
        if (t->shape[d] != 1 && t->strides[d] != expected) return false;
        expected *= t->shape[d];
    }
    return true;
}

/* ----------------------------------------------------------- the kernel */

typedef struct {
    int64_t n, k, m;
    blas_layout la, lb;
    size_t esize;
    nd_dtype dtype;
    double beta; /* C = A·B + beta·C; C is only written when beta is 0 */
} gemm_shape;

/* One product C (n × m, contiguous) = A · B + beta·C for float types, choosing
 * the cheapest BLAS call: dot for 1×1, gemv when one side is a vector, else
 * gemm. Without BLAS, nd's kernel takes every shape (its small-product loop is
 * what dot and gemv would do). The one BLAS wrapper of nd: nn.c's linear layer
 * calls it through nd__gemm (beta = 1 adds the product onto its bias). */
#ifdef ND_NO_BLAS
static void blas_product(const gemm_shape *s, const void *A, const void *B, void *C) {
    if (s->dtype == ND_F32)
        nd__gemm_f32(s->la.trans, s->lb.trans, s->n, s->m, s->k, A, s->la.ld, B, s->lb.ld,
                     (float)s->beta, C, s->m);
    else
        nd__gemm_f64(s->la.trans, s->lb.trans, s->n, s->m, s->k, A, s->la.ld, B, s->lb.ld, s->beta,
                     C, s->m);
}
#else
static CBLAS_TRANSPOSE cblas_trans(bool trans) {
    return trans ? CblasTrans : CblasNoTrans;
}

static void blas_product(const gemm_shape *s, const void *A, const void *B, void *C) {
    int n = (int)s->n, k = (int)s->k, m = (int)s->m;
    int lda = (int)s->la.ld, ldb = (int)s->lb.ld;
    bool f32 = s->dtype == ND_F32;
    float beta32 = (float)s->beta;
    double beta = s->beta;
    CBLAS_TRANSPOSE ta = cblas_trans(s->la.trans), tb = cblas_trans(s->lb.trans);
    /* A row of A (n = 1) advances by 1 (NoTrans) or by lda (Trans); a column of B likewise. */
    int a_row_step = !s->la.trans ? 1 : lda;
    int b_col_step = !s->lb.trans ? ldb : 1;
    if (n == 1 && m == 1) { /* C may be garbage when beta is 0: never read it then */
        if (f32)
            *(float *)C = cblas_sdot(k, A, a_row_step, B, b_col_step) +
                          (beta32 != 0 ? beta32 * *(float *)C : 0.0f);
        else
            *(double *)C = cblas_ddot(k, A, a_row_step, B, b_col_step) +
                           (beta != 0 ? beta * *(double *)C : 0.0);
    } else if (m == 1) { /* C = op(A) · b */
        int rows = !s->la.trans ? n : k, cols = !s->la.trans ? k : n;
        if (f32)
            cblas_sgemv(CblasRowMajor, ta, rows, cols, 1.0f, A, lda, B, b_col_step, beta32, C, 1);
        else
            cblas_dgemv(CblasRowMajor, ta, rows, cols, 1.0, A, lda, B, b_col_step, beta, C, 1);
    } else if (n == 1) { /* c = aᵀ · op(B), i.e. op(B)ᵀ · a */
        CBLAS_TRANSPOSE t = cblas_trans(!s->lb.trans);
        int rows = !s->lb.trans ? k : m, cols = !s->lb.trans ? m : k;
        if (f32)
            cblas_sgemv(CblasRowMajor, t, rows, cols, 1.0f, B, ldb, A, a_row_step, beta32, C, 1);
        else
            cblas_dgemv(CblasRowMajor, t, rows, cols, 1.0, B, ldb, A, a_row_step, beta, C, 1);
    } else if (f32) {
        cblas_sgemm(CblasRowMajor, ta, tb, n, m, k, 1.0f, A, lda, B, ldb, beta32, C, m);
    } else {
        cblas_dgemm(CblasRowMajor, ta, tb, n, m, k, 1.0, A, lda, B, ldb, beta, C, m);
    }
}
#endif

void nd__gemm(nd_dtype dtype, bool trans_a, bool trans_b, int64_t n, int64_t m, int64_t k,
              const void *A, int64_t lda, const void *B, int64_t ldb, double beta, void *C) {
    if (n == 0 || m == 0) return;
    if (k == 0) { /* an empty sum: BLAS rejects lda = 0, and C is just beta·C */
        for (int64_t i = 0; i < n * m; i++)
            if (dtype == ND_F32)
                ((float *)C)[i] = beta == 0 ? 0.0f : (float)beta * ((float *)C)[i];
            else
                ((double *)C)[i] = beta == 0 ? 0.0 : beta * ((double *)C)[i];
        return;
    }
    gemm_shape s = {.n = n,
                    .k = k,
                    .m = m,
                    .esize = nd_dtype_size(dtype),
                    .dtype = dtype,
                    .la = {trans_a, lda},
                    .lb = {trans_b, ldb},
                    .beta = beta};
    blas_product(&s, A, B, C);
}

/* Integer products (PyTorch allows them on the CPU): a plain loop over
 * contiguous int64 copies, wrapping on overflow as PyTorch does. */
static void integer_product(int64_t n, int64_t k, int64_t m, const int64_t *A, const int64_t *B,
                            int64_t *C) {
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < m; j++) C[i * m + j] = 0;
        for (int64_t p = 0; p < k; p++) {
            uint64_t a = (uint64_t)A[i * k + p];
            for (int64_t j = 0; j < m; j++)
                C[i * m + j] = (int64_t)((uint64_t)C[i * m + j] + a * (uint64_t)B[p * m + j]);
        }
    }
}

/* out (contiguous, batch × n × m, of a's dtype) = a · b for views a (..., n, k)
 * and b (..., k, m) whose batch dims broadcast to (nbatch, batch). */
static int product_into(const char *op, nd_tensor *a, nd_tensor *b, int nbatch,
                        const int64_t *batch, nd_tensor *out) {
    int64_t n = a->shape[a->ndim - 2], k = a->shape[a->ndim - 1], m = b->shape[b->ndim - 1];
    int64_t count = 1;
    for (int d = 0; d < nbatch; d++) count *= batch[d];
    if (out->numel == 0) return 0;
    size_t esize = nd_dtype_size(out->dtype);
    if (k == 0) {
        memset(nd__ptr(out), 0, (size_t)out->numel * esize);
        return 0;
    }
    if (!nd__is_float(a->dtype)) {
        nd_tensor *a64 = nd__dense(op, a, ND_I64), *b64 = nd__dense(op, b, ND_I64);
        nd_tensor *c64 = nd__empty(ND_I64, out->ndim, out->shape);
        if (!a64 || !b64 || !c64) return -1;
        int64_t *offa = malloc(2 * (size_t)count * sizeof *offa);
        if (!offa) return nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory", op);
        int64_t *offb = offa + count;
        batch_offsets(a64, nbatch, batch, count, offa);
        batch_offsets(b64, nbatch, batch, count, offb);
        for (int64_t i = 0; i < count; i++)
            integer_product(n, k, m, (int64_t *)a64->storage->data + offa[i],
                            (int64_t *)b64->storage->data + offb[i],
                            (int64_t *)nd__ptr(c64) + i * n * m);
        free(offa);
        return nd__copy_into(op, out, c64);
    }
    if (n > INT_MAX || k > INT_MAX || m > INT_MAX)
        return nd__fail_int_as(ND_ERR_SHAPE, "%s: dims of %s and %s exceed what BLAS can index", op,
                               nd__tshape(a), nd__tshape(b));
    gemm_shape s = {.n = n, .k = k, .m = m, .esize = esize, .dtype = a->dtype};
    if (!matrix_layout(a, &s.la) && (!(a = nd__dense(op, a, a->dtype)) || !matrix_layout(a, &s.la)))
        return -1;
    if (!matrix_layout(b, &s.lb) && (!(b = nd__dense(op, b, b->dtype)) || !matrix_layout(b, &s.lb)))
        return -1;
    if (s.la.ld > INT_MAX || s.lb.ld > INT_MAX) { /* a huge stride: copy instead */
        if (!(a = nd__dense(op, a, a->dtype)) || !(b = nd__dense(op, b, b->dtype))) return -1;
        matrix_layout(a, &s.la), matrix_layout(b, &s.lb);
    }
    char *C = nd__ptr(out);
    /* b shared by the whole batch and a's batches stacked as rows: one tall gemm. */
    if (count > 1 && b->ndim == 2 && !s.la.trans && n > 1 && rows_collapse(a) &&
        count * n <= INT_MAX) {
        s.n = count * n;
        blas_product(&s, nd__ptr(a), nd__ptr(b), C);
        return 0;
    }
    if (count == 1) {
        blas_product(&s, nd__ptr(a), nd__ptr(b), C);
        return 0;
    }
    int64_t *offa = malloc(2 * (size_t)count * sizeof *offa);
    if (!offa) return nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory", op);
    int64_t *offb = offa + count;
    batch_offsets(a, nbatch, batch, count, offa);
    batch_offsets(b, nbatch, batch, count, offb);
    const char *A = a->storage->data, *B = b->storage->data;
    for (int64_t i = 0; i < count; i++)
        blas_product(&s, A + (size_t)offa[i] * esize, B + (size_t)offb[i] * esize,
                     C + (size_t)(i * n * m) * esize);
    free(offa);
    return 0;
}

/* ----------------------------------------------------- shapes and dtypes */

static bool check_dtypes(const char *op, const nd_tensor *a, const nd_tensor *b) {
    if (a->dtype != b->dtype) {
        nd__set_error_as(ND_ERR_DTYPE,
                         "%s: dtypes %s and %s differ (like PyTorch, matrix products do not "
                         "promote; convert one with nd_to)",
                         op, nd_dtype_name(a->dtype), nd_dtype_name(b->dtype));
        return false;
    }
    if (a->dtype == ND_BOOL) {
        nd__set_error_as(ND_ERR_DTYPE,
                         "%s: bool tensors cannot be multiplied as matrices (convert with nd_to)",
                         op);
        return false;
    }
    return true;
}

/* torch.matmul: a 1-D left operand is a row (its dim removed from the result),
 * a 1-D right operand a column; batch dims broadcast. */
static nd_tensor *matmul_compute(const char *op, nd_tensor *a, nd_tensor *b) {
    if (a->ndim == 0 || b->ndim == 0)
        return nd__fail_as(ND_ERR_SHAPE,
                           "%s: both arguments need at least 1 dim, got shapes %s and %s", op,
                           nd__tshape(a), nd__tshape(b));
    if (!check_dtypes(op, a, b)) return NULL;
    int64_t one = 1;
    /* Matrix views: (1, k) for a 1-D a, (k, 1) for a 1-D b. */
    nd_tensor *am =
        a->ndim == 1 ? nd__alias(a, 2, (int64_t[]){1, a->shape[0]},
                                 (int64_t[]){a->shape[0] * a->strides[0], a->strides[0]}, a->offset)
                     : a;
    nd_tensor *bm = b->ndim == 1 ? nd__alias(b, 2, (int64_t[]){b->shape[0], 1},
                                             (int64_t[]){b->strides[0], one}, b->offset)
                                 : b;
    if (!am || !bm) return NULL;
    int64_t n = am->shape[am->ndim - 2], k = am->shape[am->ndim - 1];
    int64_t kb = bm->shape[bm->ndim - 2], m = bm->shape[bm->ndim - 1];
    if (k != kb)
        return nd__fail_as(ND_ERR_SHAPE, "%s: shapes %s and %s cannot be multiplied (%lld vs %lld)",
                           op, nd__tshape(a), nd__tshape(b), (long long)k, (long long)kb);
    /* Broadcast batch dims (right-aligned), named with the full shapes on failure. */
    int na = am->ndim - 2, nb = bm->ndim - 2, nbatch = na > nb ? na : nb;
    int64_t batch[ND_MAX_DIMS];
    for (int d = 0; d < nbatch; d++) {
        int64_t sa = d - (nbatch - na) >= 0 ? am->shape[d - (nbatch - na)] : 1;
        int64_t sb = d - (nbatch - nb) >= 0 ? bm->shape[d - (nbatch - nb)] : 1;
        if (sa != sb && sa != 1 && sb != 1)
            return nd__fail_as(
                ND_ERR_SHAPE,
                "%s: batch dims of shapes %s and %s do not broadcast (%lld vs %lld at "
                "batch dim %d)",
                op, nd__tshape(a), nd__tshape(b), (long long)sa, (long long)sb, d);
        batch[d] = sa == 1 ? sb : sa;
    }
    /* The result: batch, then n unless a was 1-D, then m unless b was 1-D. */
    int64_t shape[ND_MAX_DIMS + 2];
    int ndim = 0;
    for (int d = 0; d < nbatch; d++) shape[ndim++] = batch[d];
    if (a->ndim > 1) shape[ndim++] = n;
    if (b->ndim > 1) shape[ndim++] = m;
    if (ndim > ND_MAX_DIMS)
        return nd__fail_as(ND_ERR_SHAPE, "%s: the result of %s and %s would have more than %d dims",
                           op, nd__tshape(a), nd__tshape(b), ND_MAX_DIMS);
    nd_tensor *out = nd__empty(a->dtype, ndim, shape);
    if (!out || product_into(op, am, bm, nbatch, batch, out)) return NULL;
    return out;
}

/* --------------------------------------------------- rules (shared by all) */

/* The last two dims swapped (a view). */
static nd_tensor *mT(nd_tensor *t) {
    return nd_transpose(t, -2, -1);
}

/* d(a·b) = da·b + a·db in every case torch.matmul accepts. A 1-D operand is
 * lifted to a matrix (row for a, column for b), the gradient computed for
 * matrices, and the lifted dim dropped again; broadcast batch dims are summed
 * by the engine.
 *
 * The products broadcast, so a g with extra leading dims (nd_jacobian's
 * batched pass, autograd/batch.c) keeps them in front. For A·x (x 1-D) the
 * gradient of x is written g·A: one matrix product for a whole batch of rows
 * g, where Aᵀ·g would be one matrix-vector product per row. */
static void matmul_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *a = n->in[0], *b = n->in[1];
    nd_tensor *am = a->ndim == 1 ? nd_unsqueeze(a, 0) : a;
    nd_tensor *bm = b->ndim == 1 ? nd_unsqueeze(b, 1) : b;
    nd_tensor *gm = g;
    if (a->ndim == 1) gm = nd_unsqueeze(gm, b->ndim == 1 ? -1 : -2);
    if (b->ndim == 1) gm = nd_unsqueeze(gm, -1);
    if (a->requires_grad) {
        nd_tensor *ga = nd_matmul(gm, mT(bm));
        gin[0] = a->ndim == 1 ? nd_squeeze(ga, -2) : ga;
    }
    if (b->requires_grad && b->ndim == 1 && a->ndim == 2) {
        gin[1] = nd_matmul(g, a);
    } else if (b->requires_grad) {
        nd_tensor *gb = nd_matmul(mT(am), gm);
        gin[1] = b->ndim == 1 ? nd_squeeze(gb, -1) : gb;
    }
}

/* d(a·b) = da·b + a·db. A tangent may carry leading dims its operand lacks
 * (a batched pass's, which batch.c has padded to the output's rank): each
 * product is written so that those broadcast like batch dims. A 1-D operand's
 * tangent is then a stack of vectors: against an operand with batch dims of
 * its own it is lifted to a stack of rows (a) or columns (b) and the lifted
 * dim dropped again, so that its leading dims pair with the other's batch
 * dims and not with its rows. For a matrix a and a stack of tangents of a
 * 1-D b, a·v for each v is v·aᵀ: one product for the whole stack. */
static nd_tensor *matmul_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    nd_tensor *a = n->in[0], *b = n->in[1], *ta = tin[0], *tb = tin[1];
    nd_tensor *a_part = NULL, *b_part = NULL;
    if (ta && a->ndim == 1 && b->ndim > 2)
        a_part = nd_squeeze(nd_matmul(nd_unsqueeze(ta, -2), b), -2);
    else if (ta)
        a_part = nd_matmul(ta, b);
    if (tb && b->ndim == 1 && a->ndim > 2)
        b_part = nd_squeeze(nd_matmul(a, nd_unsqueeze(tb, -1)), -1);
    else if (tb && b->ndim == 1 && tb->ndim > 1)
        b_part = nd_matmul(tb, a->ndim == 1 ? a : mT(a));
    else if (tb)
        b_part = nd_matmul(a, tb);
    return nd__tangent_sum(a_part, b_part);
}

/* A product reads each factor only for the other's gradient: ND_SAVES_INPUTS
 * with ND_READS_0_FOR_1 | ND_READS_1_FOR_0. */
static const nd_op MATMUL = {
    .name = "matmul",
    .vjp = matmul_vjp,
    .jvp = matmul_jvp,
    .flags =
        ND_SAVES_INPUTS | ND_READS_0_FOR_1 | ND_READS_1_FOR_0 | ND_BATCHABLE | ND_MATRIX_PRODUCT,
    .vjp_formula = "ga = g·bᵀ, gb = aᵀ·g (batch dims summed back)",
    .jvp_formula = "da·b + a·db",
};
static const nd_op DOT = {
    .name = "dot",
    .vjp = matmul_vjp,
    .jvp = matmul_jvp,
    .flags =
        ND_SAVES_INPUTS | ND_READS_0_FOR_1 | ND_READS_1_FOR_0 | ND_BATCHABLE | ND_MATRIX_PRODUCT,
    .vjp_formula = "ga = g·b, gb = g·a",
    .jvp_formula = "da·b + a·db",
};
static const nd_op MV = {
    .name = "mv",
    .vjp = matmul_vjp,
    .jvp = matmul_jvp,
    .flags =
        ND_SAVES_INPUTS | ND_READS_0_FOR_1 | ND_READS_1_FOR_0 | ND_BATCHABLE | ND_MATRIX_PRODUCT,
    .vjp_formula = "ga = g ⊗ b, gb = aᵀ·g",
    .jvp_formula = "da·b + a·db",
};
static const nd_op MM = {
    .name = "mm",
    .vjp = matmul_vjp,
    .jvp = matmul_jvp,
    .flags =
        ND_SAVES_INPUTS | ND_READS_0_FOR_1 | ND_READS_1_FOR_0 | ND_BATCHABLE | ND_MATRIX_PRODUCT,
    .vjp_formula = "ga = g·bᵀ, gb = aᵀ·g",
    .jvp_formula = "da·b + a·db",
};

nd_tensor *nd_matmul(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_matmul", a, b);
    nd_tensor *out = matmul_compute("nd_matmul", a, b);
    return nd__record(&MATMUL, out, 2, (nd_tensor *[]){a, b}, NULL);
}

nd_tensor *nd_dot(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_dot", a, b);
    if (a->ndim != 1 || b->ndim != 1)
        return nd__fail_as(ND_ERR_SHAPE, "nd_dot: both arguments must be 1-D, got shapes %s and %s",
                           nd__tshape(a), nd__tshape(b));
    if (a->shape[0] != b->shape[0])
        return nd__fail_as(ND_ERR_SHAPE, "nd_dot: shapes %s and %s have different lengths",
                           nd__tshape(a), nd__tshape(b));
    nd_tensor *out = matmul_compute("nd_dot", a, b);
    return nd__record(&DOT, out, 2, (nd_tensor *[]){a, b}, NULL);
}

nd_tensor *nd_mv(nd_tensor *a, nd_tensor *x) {
    ND_CHECK("nd_mv", a, x);
    if (a->ndim != 2 || x->ndim != 1)
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_mv: expects a 2-D matrix and a 1-D vector, got shapes %s and %s",
                           nd__tshape(a), nd__tshape(x));
    nd_tensor *out = matmul_compute("nd_mv", a, x);
    return nd__record(&MV, out, 2, (nd_tensor *[]){a, x}, NULL);
}

nd_tensor *nd_mm(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_mm", a, b);
    if (a->ndim != 2 || b->ndim != 2)
        return nd__fail_as(ND_ERR_SHAPE, "nd_mm: both arguments must be 2-D, got shapes %s and %s",
                           nd__tshape(a), nd__tshape(b));
    nd_tensor *out = matmul_compute("nd_mm", a, b);
    return nd__record(&MM, out, 2, (nd_tensor *[]){a, b}, NULL);
}

/* ---------------------------------------------------------------- outer */

/* out_ij = a_i b_j: ā = Ḡ b, b̄ = Ḡᵀ a. */
static void outer_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *a = n->in[0], *b = n->in[1];
    if (a->requires_grad) gin[0] = nd_mv(g, b);
    if (b->requires_grad) gin[1] = nd_mv(nd_t(g), a);
}
static nd_tensor *outer_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return nd__tangent_sum(tin[0] ? nd_outer(tin[0], n->in[1]) : NULL,
                           tin[1] ? nd_outer(n->in[0], tin[1]) : NULL);
}
static const nd_op OUTER = {
    .name = "outer",
    .vjp = outer_vjp,
    .jvp = outer_jvp,
    .flags = ND_SAVES_INPUTS | ND_READS_0_FOR_1 | ND_READS_1_FOR_0,
    .vjp_formula = "ga = g·b, gb = gᵀ·a",
    .jvp_formula = "da ⊗ b + a ⊗ db",
};

nd_tensor *nd_outer(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_outer", a, b);
    if (a->ndim != 1 || b->ndim != 1)
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_outer: both arguments must be 1-D, got shapes %s and %s",
                           nd__tshape(a), nd__tshape(b));
    if (!check_dtypes("nd_outer", a, b)) return NULL;
    /* A column (n, 1) times a row (1, m): a product with k = 1. */
    nd_tensor *col =
        nd__alias(a, 2, (int64_t[]){a->shape[0], 1}, (int64_t[]){a->strides[0], 1}, a->offset);
    nd_tensor *row = nd__alias(b, 2, (int64_t[]){1, b->shape[0]},
                               (int64_t[]){b->shape[0] * b->strides[0], b->strides[0]}, b->offset);
    nd_tensor *out = nd__empty(a->dtype, 2, (int64_t[]){a->shape[0], b->shape[0]});
    if (!col || !row || !out || product_into("nd_outer", col, row, 0, NULL, out)) return NULL;
    return nd__record(&OUTER, out, 2, (nd_tensor *[]){a, b}, NULL);
}
