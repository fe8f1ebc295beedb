/* Decompositions on LAPACK: inv, det, solve, eigh, eig, svd. Matrices are
 * handed to LAPACK as column-major copies (LAPACK overwrites its input, so
 * the copy is needed anyway) through LAPACKE's _work functions, with
 * workspace nd allocates after asking LAPACK its size: LAPACKE's other
 * functions allocate themselves and print to stderr when they cannot, and
 * nd's out of memory is an error value, never a message on the user's
 * terminal. Each differentiable op keeps its kernel, VJP and JVP side by
 * side. */
#include "elementwise.h"

#include <lapacke.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

/* ------------------------------------------------------------ shared */

/* dst = srcᵀ for n×n matrices whose rows are src_stride and dst_stride elements
 * apart, in tiles of 16 destination rows by 8 source rows; returns whether
 * every element is finite (the check costs nothing here). Few source rows per
 * tile: their stride is often a power of two (4 KiB for 512 doubles), so more
 * of them would fall into the same L1 cache set and evict each other. */
// clang-format off
#define DEFINE_TRANSPOSE(NAME, T)                                                                  \
    static bool NAME(int64_t n, const T *restrict src, int64_t src_stride, T *restrict dst,        \
                     int64_t dst_stride) {                                                         \
        bool finite = true;                                                                        \
        for (int64_t i0 = 0; i0 < n; i0 += 16)                                                     \
            for (int64_t j0 = 0; j0 < n; j0 += 8) {                                                \
                int64_t i1 = i0 + 16 < n ? i0 + 16 : n, j1 = j0 + 8 < n ? j0 + 8 : n;              \
                for (int64_t i = i0; i < i1; i++)                                                  \
                    for (int64_t j = j0; j < j1; j++)                                              \
                        finite &= isfinite(dst[i * dst_stride + j] = src[j * src_stride + i]);     \
            }                                                                                      \
        return finite;                                                                             \
    }
// clang-format on
DEFINE_TRANSPOSE(transpose_f32, float)
DEFINE_TRANSPOSE(transpose_f64, double)

static bool transpose_square(nd_dtype dtype, int64_t n, const void *src, int64_t src_stride,
                             void *dst, int64_t dst_stride) {
    return dtype == ND_F32 ? transpose_f32(n, src, src_stride, dst, dst_stride)
                           : transpose_f64(n, src, src_stride, dst, dst_stride);
}

/* Checks what every decomposition needs: a floating-point 2-D matrix (square
 * when asked) whose sizes fit LAPACK's int. */
static bool lapack_check(const char *op, nd_tensor *a, bool square) {
    if (!nd__is_float(a->dtype))
        nd__fail("%s: expects a floating-point matrix, got %s (convert with nd_to)", op,
                 nd_dtype_name(a->dtype));
    else if (a->ndim != 2)
        nd__fail("%s: expects a 2-D matrix, got shape %s", op, nd__tshape(a));
    else if (square && a->shape[0] != a->shape[1])
        nd__fail("%s: expects a square matrix, got shape %s", op, nd__tshape(a));
    else if (a->shape[0] > INT32_MAX || a->shape[1] > INT32_MAX)
        nd__fail("%s: shape %s is too large for LAPACK", op, nd__tshape(a));
    else
        return true;
    return false;
}

static nd_tensor *not_finite(const char *op, nd_tensor *a) {
    return nd__fail("%s: the matrix of shape %s contains NaN or infinity", op, nd__tshape(a));
}

/* A contiguous copy of a checked matrix that LAPACK may overwrite, all finite
 * (LAPACK's answer on NaN is undefined, so it is refused before the call). */
static nd_tensor *lapack_copy(const char *op, nd_tensor *a, bool square) {
    if (!lapack_check(op, a, square)) return NULL;
    nd_tensor *copy = nd__empty(a->dtype, 2, a->shape);
    if (!copy) return NULL;
    /* A contiguous input is copied and checked in one pass; any other layout
     * goes through the general strided copy first. */
    bool contiguous = nd_is_contiguous(a);
    if (!contiguous && nd__copy_into(op, copy, a)) return NULL;
    bool finite = true;
    if (a->dtype == ND_F32) {
        const float *from = contiguous ? nd__ptr(a) : nd__ptr(copy);
        float *to = nd__ptr(copy);
        for (int64_t i = 0; i < copy->numel; i++) finite &= isfinite(to[i] = from[i]);
    } else {
        const double *from = contiguous ? nd__ptr(a) : nd__ptr(copy);
        double *to = nd__ptr(copy);
        for (int64_t i = 0; i < copy->numel; i++) finite &= isfinite(to[i] = from[i]);
    }
    return finite ? copy : not_finite(op, a);
}

/* The contiguous m×n matrix t as a contiguous tensor of shape (n, m): the
 * same matrix in LAPACK's column-major order (leading dimension m), or a
 * column-major result of LAPACK's turned back into nd's order. */
static nd_tensor *transposed_copy(const char *op, nd_tensor *t) {
    int64_t m = t->shape[0], n = t->shape[1];
    nd_tensor *out = nd__empty(t->dtype, 2, (int64_t[]){n, m});
    nd_tensor *view = out ? nd__alias(t, 2, (int64_t[]){n, m},
                                      (int64_t[]){t->strides[1], t->strides[0]}, t->offset)
                          : NULL;
    if (!view || nd__copy_into(op, out, view)) return NULL;
    return out;
}

/* A leading dimension LAPACK accepts: at least 1, even for an empty matrix. */
static lapack_int ld(int64_t rows) {
    return rows > 0 ? (lapack_int)rows : 1;
}

/* LAPACK's workspace for a query's answer (a float: rounded up, since a
 * large size read back from f32 may have been rounded down), or NULL and
 * nd's out-of-memory error naming op. *lwork receives the count. */
static void *workspace(const char *op, nd_dtype dtype, double query, lapack_int *lwork) {
    double count = ceil(query * (dtype == ND_F32 ? 1.0 + 1e-6 : 1.0));
    *lwork = count >= 1 && count < INT32_MAX ? (lapack_int)count : 1;
    void *work = malloc((size_t)*lwork * nd_dtype_size(dtype));
    if (!work) nd__set_error("%s: out of memory", op);
    return work;
}

/* LU factorisation in place of the column-major n×n matrix m (ld n); ipiv
 * receives n pivots. Returns LAPACK's info. */
static lapack_int lu_factor(nd_tensor *m, lapack_int *ipiv) {
    lapack_int n = (lapack_int)m->shape[0];
    if (m->dtype == ND_F32)
        return LAPACKE_sgetrf_work(LAPACK_COL_MAJOR, n, n, nd__ptr(m), ld(n), ipiv);
    return LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, n, n, nd__ptr(m), ld(n), ipiv);
}

static lapack_int *pivots(const char *op, int64_t n) {
    lapack_int *ipiv = malloc((size_t)(n > 0 ? n : 1) * sizeof *ipiv);
    if (!ipiv) nd__set_error("%s: out of memory", op);
    return ipiv;
}

/* The last two dims swapped, differentiably. */
static nd_tensor *mT(nd_tensor *t) {
    return nd_transpose(t, -2, -1);
}

/* ---------------------------------------------------------------- inv */

/* X = A⁻¹: dX = -X dA X, so Ā = -Xᵀ X̄ Xᵀ. */
static void inv_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)n;
    nd_tensor *xt = mT(out);
    gin[0] = nd_neg(nd_matmul(nd_matmul(xt, g), xt));
}
static nd_tensor *inv_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n;
    return nd_neg(nd_matmul(nd_matmul(out, tin[0]), out));
}
static const nd_op INV = {"inv", inv_vjp, inv_jvp, ND_SAVES_OUTPUT};

nd_tensor *nd_inv(nd_tensor *a) {
    ND_CHECK("nd_inv", a);
    nd_tensor *x = lapack_copy("nd_inv", a, true);
    if (!x) return NULL;
    lapack_int n = (lapack_int)x->shape[0];
    /* the inverse of a 0×0 matrix is 0×0, as PyTorch; LAPACK would reject
     * the leading dimension 0 (and print to stderr) */
    if (n == 0) return nd__record(&INV, x, 1, &a, NULL);
    x = transposed_copy("nd_inv", x);
    lapack_int *ipiv = x ? pivots("nd_inv", n) : NULL;
    if (!ipiv) return NULL;
    lapack_int info = lu_factor(x, ipiv), lwork = -1;
    void *work = NULL;
    if (info == 0) { /* the size of getri's workspace, then getri */
        double query = 0;
        float query_f = 0;
        info = x->dtype == ND_F32
                   ? LAPACKE_sgetri_work(LAPACK_COL_MAJOR, n, nd__ptr(x), n, ipiv, &query_f, -1)
                   : LAPACKE_dgetri_work(LAPACK_COL_MAJOR, n, nd__ptr(x), n, ipiv, &query, -1);
        work = info ? NULL
                    : workspace("nd_inv", x->dtype, x->dtype == ND_F32 ? query_f : query, &lwork);
        if (!info && !work) {
            free(ipiv);
            return NULL;
        }
    }
    if (info == 0)
        info = x->dtype == ND_F32
                   ? LAPACKE_sgetri_work(LAPACK_COL_MAJOR, n, nd__ptr(x), n, ipiv, work, lwork)
                   : LAPACKE_dgetri_work(LAPACK_COL_MAJOR, n, nd__ptr(x), n, ipiv, work, lwork);
    free(work);
    free(ipiv);
    if (info == 0 && !(x = transposed_copy("nd_inv", x))) return NULL;
    if (info > 0)
        return nd__fail("nd_inv: the matrix of shape %s is singular (pivot %d is exactly zero)",
                        nd__tshape(a), (int)info);
    if (info < 0) return nd__fail("nd_inv: LAPACK rejected argument %d", (int)-info);
    return nd__record(&INV, x, 1, &a, NULL);
}

/* ---------------------------------------------------------------- det */

/* d det(A) = det(A) · tr(A⁻¹ dA), so Ā = ḡ · det(A) · A⁻ᵀ. The rule needs A⁻¹,
 * so a gradient at a singular A is refused (nd_inv says "singular"). */
static void det_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    gin[0] = nd_mul(nd_mul(g, out), mT(nd_inv(n->in[0])));
}
static nd_tensor *det_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    nd_tensor *trace = nd_sum(nd_mul(mT(nd_inv(n->in[0])), tin[0]), ND_ALL, false);
    return nd_mul(out, trace);
}
static const nd_op DET = {"det", det_vjp, det_jvp, ND_SAVES_INPUTS | ND_SAVES_OUTPUT};

nd_tensor *nd_det(nd_tensor *a) {
    ND_CHECK("nd_det", a);
    nd_tensor *lu = lapack_copy("nd_det", a, true);
    if (lu) lu = transposed_copy("nd_det", lu); /* det Aᵀ = det A, but as LAPACK would */
    if (!lu) return NULL;
    int64_t n = lu->shape[0];
    lapack_int *ipiv = pivots("nd_det", n);
    if (!ipiv) return NULL;
    lapack_int info = lu_factor(lu, ipiv);
    if (info < 0) {
        free(ipiv);
        return nd__fail("nd_det: LAPACK rejected argument %d", (int)-info);
    }
    /* det = ± Π U_ii, one sign flip per row swap. A singular matrix has a zero
     * on U's diagonal (info > 0), so the product is 0: not an error. */
    double det = 1.0;
    for (int64_t i = 0; i < n; i++) {
        det *= nd__get_flat(lu, i * n + i);
        if (ipiv[i] != i + 1) det = -det;
    }
    free(ipiv);
    return nd__record(&DET, nd_scalar(det, a->dtype), 1, &a, NULL);
}

/* -------------------------------------------------------------- solve */

/* X = A⁻¹B: B̄ = A⁻ᵀ X̄ and Ā = -B̄ Xᵀ; dX = A⁻¹(dB - dA X). */
static void solve_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    nd_tensor *a = n->in[0];
    nd_tensor *gb = nd_solve(mT(a), g);
    if (n->in[1]->requires_grad) gin[1] = gb;
    if (a->requires_grad)
        gin[0] = nd_neg(out->ndim == 1 ? nd_outer(gb, out) : nd_matmul(gb, mT(out)));
}
static nd_tensor *solve_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    nd_tensor *rhs = nd__tangent_sub(tin[1], tin[0] ? nd_matmul(tin[0], out) : NULL);
    return rhs ? nd_solve(n->in[0], rhs) : NULL;
}
static const nd_op SOLVE = {"solve", solve_vjp, solve_jvp, ND_SAVES_INPUTS | ND_SAVES_OUTPUT};

nd_tensor *nd_solve(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_solve", a, b);
    nd_tensor *lu = lapack_copy("nd_solve", a, true);
    if (!lu) return NULL;
    if (b->dtype != a->dtype)
        return nd__fail("nd_solve: dtypes %s and %s differ (convert one with nd_to)",
                        nd_dtype_name(a->dtype), nd_dtype_name(b->dtype));
    int64_t n = a->shape[0];
    if ((b->ndim != 1 && b->ndim != 2) || b->shape[0] != n)
        return nd__fail("nd_solve: the right-hand side must be (%lld,) or (%lld, m) for a matrix "
                        "of shape %s, got shape %s",
                        (long long)n, (long long)n, nd__tshape(a), nd__tshape(b));
    /* column-major copies: Aᵀ and (a matrix) Bᵀ in nd's order */
    lu = transposed_copy("nd_solve", lu);
    nd_tensor *x = nd__empty(b->dtype, b->ndim, b->shape);
    if (!lu || !x || nd__copy_into("nd_solve", x, b)) return NULL;
    if (b->ndim == 2 && !(x = transposed_copy("nd_solve", x))) return NULL;
    lapack_int nrhs = b->ndim == 1 ? 1 : (lapack_int)b->shape[1];
    lapack_int *ipiv = pivots("nd_solve", n);
    if (!ipiv) return NULL;
    lapack_int info = a->dtype == ND_F32
                          ? LAPACKE_sgesv_work(LAPACK_COL_MAJOR, (lapack_int)n, nrhs, nd__ptr(lu),
                                               ld(n), ipiv, nd__ptr(x), ld(n))
                          : LAPACKE_dgesv_work(LAPACK_COL_MAJOR, (lapack_int)n, nrhs, nd__ptr(lu),
                                               ld(n), ipiv, nd__ptr(x), ld(n));
    free(ipiv);
    if (info == 0 && b->ndim == 2 && !(x = transposed_copy("nd_solve", x))) return NULL;
    if (info > 0)
        return nd__fail("nd_solve: the matrix of shape %s is singular (pivot %d is exactly zero)",
                        nd__tshape(a), (int)info);
    if (info < 0) return nd__fail("nd_solve: LAPACK rejected argument %d", (int)-info);
    return nd__record(&SOLVE, x, 2, (nd_tensor *[]){a, b}, NULL);
}

/* --------------------------------------------------------------- eigh */

/* The rules of A = V diag(λ) Vᵀ (distinct eigenvalues), with the values and
 * vectors kept as constants (detached copies: keeping the outputs themselves
 * would make a reference cycle through the node). F_ij = 1/(λ_j − λ_i), 0 on
 * the diagonal:  λ̄ → Ā = V diag(λ̄) Vᵀ;  V̄ → Ā = sym(V (F ∘ VᵀV̄) Vᵀ);
 * dλ = diag(Vᵀ dA V);  dV = V (F ∘ Vᵀ dA V). */
typedef struct {
    nd_tensor *values, *vectors, *gaps; /* gaps = F */
} eigh_saved;

static void eigh_saved_free(void *p) {
    eigh_saved *s = p;
    nd_release(s->values);
    nd_release(s->vectors);
    nd_release(s->gaps);
    free(s);
}

/* What a rule computes with: the saved constants, or, when the rule itself
 * must be differentiable (under create_graph, or on a dual input in forward
 * over reverse), values and vectors recomputed from A by nd_eigh, so that
 * they carry their own graph and tangents. F is then built with nd ops, its
 * zero diagonal without dividing by zero (1/0 would make 0·∞ gradients). */
typedef struct {
    nd_tensor *values, *vectors, *gaps;
} eigh_rule;

static eigh_rule eigh_for_rule(const nd_node *n) {
    const eigh_saved *s = n->p.ptr;
    nd_tensor *a = n->in[0];
    if (!nd_is_grad_enabled() && !a->tangent) return (eigh_rule){s->values, s->vectors, s->gaps};
    eigh_rule r = {NULL, NULL, NULL};
    if (nd_eigh(a, &r.values, &r.vectors)) return r;
    nd_tensor *eye = nd_eye(a->shape[0], a->dtype);
    nd_tensor *diff = nd_sub(nd_unsqueeze(r.values, 0), nd_unsqueeze(r.values, 1)); /* λ_j − λ_i */
    r.gaps = nd_mul(nd_rdiv_scalar(nd_add(diff, eye), 1.0), nd_rsub_scalar(eye, 1.0));
    return r;
}

static void eigh_values_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    eigh_rule s = eigh_for_rule(n);
    gin[0] = nd_matmul(nd_mul(s.vectors, g), nd_t(s.vectors)); /* (V ∘ rows of λ̄) Vᵀ */
}
static nd_tensor *eigh_values_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    const eigh_saved *s = n->p.ptr;
    return nd_sum(nd_mul(s->vectors, nd_matmul(tin[0], s->vectors)), 0, false);
}
static void eigh_vectors_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    eigh_rule s = eigh_for_rule(n);
    nd_tensor *inner = nd_mul(s.gaps, nd_matmul(nd_t(s.vectors), g));
    nd_tensor *full = nd_matmul(nd_matmul(s.vectors, inner), nd_t(s.vectors));
    /* A is symmetric, so only its symmetric part has a gradient: PyTorch
     * returns (Ā + Āᵀ)/2 (the JVP takes dA as given, as PyTorch's) */
    gin[0] = nd_mul_scalar(nd_add(full, nd_t(full)), 0.5);
}
static nd_tensor *eigh_vectors_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    const eigh_saved *s = n->p.ptr;
    nd_tensor *rotated = nd_matmul(nd_matmul(nd_t(s->vectors), tin[0]), s->vectors);
    return nd_matmul(s->vectors, nd_mul(s->gaps, rotated));
}
static const nd_op EIGH_VALUES = {"eigh_values", eigh_values_vjp, eigh_values_jvp, 0};
static const nd_op EIGH_VECTORS = {"eigh_vectors", eigh_vectors_vjp, eigh_vectors_jvp, 0};

static nd_tensor *eigen_gaps(nd_tensor *values) {
    int64_t n = values->shape[0];
    nd_tensor *f = nd__empty(values->dtype, 2, (int64_t[]){n, n});
    if (!f) return NULL;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            double gap = nd__get_flat(values, j) - nd__get_flat(values, i);
            nd__store(f->dtype, (char *)nd__ptr(f) + (size_t)(i * n + j) * nd_dtype_size(f->dtype),
                      i == j ? 0.0 : 1.0 / gap);
        }
    return f;
}

/* Records one output of eigh with its own copy of what the rules need. */
static nd_tensor *eigh_record(const nd_op *op, nd_tensor *out, nd_tensor *a, nd_tensor *w,
                              nd_tensor *v) {
    if (!nd__needs_record(1, &a)) return out;
    eigh_saved *s = malloc(sizeof *s);
    nd_tensor *gaps = eigen_gaps(w);
    if (!s || !gaps) {
        free(s);
        return nd__fail("nd_eigh: out of memory");
    }
    s->values = nd_retain(nd_detach(w));
    s->vectors = nd_retain(nd_detach(v));
    s->gaps = nd_retain(gaps);
    nd_params p = {.ptr = s, .free_ptr = eigh_saved_free};
    return nd__record(op, out, 1, &a, &p);
}

/* LAPACK's scratch memory for eigh (the matrix copy and syevd's workspace,
 * 4 MiB at n = 512), kept per thread between calls: on this class of machine
 * fresh memory costs page faults and zeroing on every call (up to a third
 * of a 512×512 eigh), and malloc hands the same few MiB back to the kernel
 * after each call. Up to SCRATCH_KEEP bytes are kept; a thread's buffer is
 * freed when it exits. Sanitizer builds allocate per call, so that leaks
 * and overruns stay visible. */
#define SCRATCH_KEEP ((size_t)64 << 20)
#if defined(__SANITIZE_ADDRESS__)
#define ND_SCRATCH_PER_CALL 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ND_SCRATCH_PER_CALL 1
#endif
#endif

typedef struct {
    size_t bytes;
    _Alignas(64) unsigned char data[]; /* aligned for LAPACK's vector loads */
} scratch_block;

#ifndef ND_SCRATCH_PER_CALL
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static void make_scratch_key(void) {
    pthread_key_create(&scratch_key, free); /* free(block) at thread exit */
}
#endif

/* A block of at least `bytes` for this thread; hand it back with scratch_done. */
static scratch_block *scratch_get(size_t bytes) {
#ifndef ND_SCRATCH_PER_CALL
    pthread_once(&scratch_once, make_scratch_key);
    scratch_block *kept = pthread_getspecific(scratch_key);
    if (kept && kept->bytes >= bytes) return kept;
    if (kept) {
        pthread_setspecific(scratch_key, NULL);
        free(kept);
    }
#endif
    scratch_block *block = NULL;
    if (posix_memalign((void **)&block, 64, sizeof *block + bytes)) return NULL;
    block->bytes = bytes;
    return block;
}

static void scratch_done(scratch_block *block) {
#ifndef ND_SCRATCH_PER_CALL
    if (block->bytes <= SCRATCH_KEEP &&
        (pthread_getspecific(scratch_key) == block || pthread_setspecific(scratch_key, block) == 0))
        return; /* kept for the next call */
#endif
    free(block);
}

/* syevd on the n×n column-major matrix a (columns lda apart), with its
 * workspace (asked of LAPACK first) placed at `work`, or only sized when work
 * is NULL: *bytes receives what it needs. */
static lapack_int syevd(nd_dtype dtype, char jobz, lapack_int n, void *a, lapack_int lda, void *w,
                        void *work, size_t *bytes) {
    lapack_int iwork_size = 0;
    double work_size = 0;
    float work_size_f = 0;
    lapack_int info = dtype == ND_F32 ? LAPACKE_ssyevd_work(LAPACK_COL_MAJOR, jobz, 'L', n, a, lda,
                                                            w, &work_size_f, -1, &iwork_size, -1)
                                      : LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, jobz, 'L', n, a, lda,
                                                            w, &work_size, -1, &iwork_size, -1);
    if (info) return info;
    /* The minimum of LAPACK's documentation as a floor: a size above 2^24
     * read back from a float may have been rounded down. */
    lapack_int lwork = (lapack_int)(dtype == ND_F32 ? work_size_f : work_size);
    lapack_int least = jobz == 'V' ? 1 + 6 * n + 2 * n * n : 2 * n + 1;
    if (lwork < least) lwork = least;
    size_t work_bytes = ((size_t)lwork * nd_dtype_size(dtype) + 63) / 64 * 64;
    *bytes = work_bytes + (size_t)iwork_size * sizeof(lapack_int);
    if (!work) return 0;
    lapack_int *iwork = (lapack_int *)((char *)work + work_bytes);
    return dtype == ND_F32 ? LAPACKE_ssyevd_work(LAPACK_COL_MAJOR, jobz, 'L', n, a, lda, w, work,
                                                 lwork, iwork, iwork_size)
                           : LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, jobz, 'L', n, a, lda, w, work,
                                                 lwork, iwork, iwork_size);
}

#define NOT_FINITE (-1000000) /* an info value LAPACK never returns */

/* The eigen-decomposition of the contiguous n×n matrix src into w and (when
 * jobz is 'V') the row-major eigenvectors v. LAPACK is called in its own
 * column-major order on a copy made in that order (the transpose, checked
 * for NaN on the way): LAPACKE's row-major path would allocate a transposed
 * copy and transpose in and out. The lower triangle is read, as in NumPy and
 * PyTorch (syevd's lower path is also the faster one). The copy's columns are
 * padded by 64 bytes: with n a power of two they would be a multiple of 4 KiB
 * apart and keep evicting each other from the same cache sets, both in the
 * transposes and in LAPACK. The eigenvectors come back as columns in
 * column-major order: one transpose makes them row-major. */
static lapack_int eigh_lapack(nd_dtype dtype, char jobz, lapack_int n, const void *src, void *w,
                              void *v) {
    lapack_int lda = n + (lapack_int)(64 / nd_dtype_size(dtype));
    size_t matrix_bytes = (size_t)n * (size_t)lda * nd_dtype_size(dtype);
    size_t work_bytes = 0;
    lapack_int info = syevd(dtype, jobz, n, NULL, lda, w, NULL, &work_bytes);
    if (info) return info;
    scratch_block *block = scratch_get(matrix_bytes + work_bytes);
    if (!block) return LAPACK_WORK_MEMORY_ERROR;
    void *m = block->data;
    if (!transpose_square(dtype, n, src, n, m, lda))
        info = NOT_FINITE;
    else
        info = syevd(dtype, jobz, n, m, lda, w, (char *)m + matrix_bytes, &work_bytes);
    if (!info && v) transpose_square(dtype, n, m, lda, v, n);
    scratch_done(block);
    return info;
}

int nd_eigh(nd_tensor *a, nd_tensor **values, nd_tensor **vectors) {
    ND_CHECK_INT("nd_eigh", a);
    if (!lapack_check("nd_eigh", a, true)) return -1;
    nd_tensor *src = nd_is_contiguous(a) ? a : nd_contiguous(a);
    lapack_int n = (lapack_int)a->shape[0];
    /* Vectors are computed when asked for or when a rule will need them. */
    char jobz = vectors || nd__needs_record(1, &a) ? 'V' : 'N';
    nd_tensor *w = nd__empty(a->dtype, 1, (int64_t[]){n});
    nd_tensor *v = jobz == 'V' ? nd__empty(a->dtype, 2, a->shape) : NULL;
    if (!src || !w || (jobz == 'V' && !v)) return -1;
    lapack_int info =
        eigh_lapack(a->dtype, jobz, n, nd__ptr(src), nd__ptr(w), v ? nd__ptr(v) : NULL);
    if (info == NOT_FINITE) {
        not_finite("nd_eigh", a);
        return -1;
    }
    if (info == LAPACK_WORK_MEMORY_ERROR) return nd__fail_int("nd_eigh: out of memory");
    if (info > 0) return nd__fail_int("nd_eigh: the algorithm failed to converge (info %d)", info);
    if (info < 0) return nd__fail_int("nd_eigh: LAPACK rejected argument %d", (int)-info);
    nd_tensor *rv = values ? eigh_record(&EIGH_VALUES, w, a, w, v) : w;
    nd_tensor *rV = vectors ? eigh_record(&EIGH_VECTORS, v, a, w, v) : v;
    if (!rv || (vectors && !rV)) return -1;
    if (values) *values = rv;
    if (vectors) *vectors = rV;
    return 0;
}

/* ---------------------------------------------------------------- eig */

/* The rules of A V = V diag(L), PyTorch's (its linalg_eig_backward and
 * linalg_eig_jvp), for a matrix whose eigenvalues are real and distinct:
 * then V is real with columns of unit norm. With E_ij = L_j − L_i and
 * F = 1/E off the diagonal (0 on it):
 *   L̄ → Ā = V⁻ᵀ diag(L̄) Vᵀ
 *   V̄ → Ā = V⁻ᵀ (F ∘ (VᵀV̄ − VᵀV diag(VᵀV̄))) Vᵀ
 * and, with dP = V⁻¹ dA V and X = F ∘ dP:
 *   dL = diag(dP),  dV = V (X − diag(VᵀV X))
 * (the last term keeps each column at unit norm). Near such a matrix the
 * imaginary parts stay 0, so their gradients and tangents are 0 — except
 * that, as PyTorch, a loss that depends on the eigenvectors' phase (the
 * diagonal of Vᵀ times the gradient of vectors_im) is refused. Complex
 * eigenvalues are not supported by these rules, and repeated ones make the
 * eigenvectors undefined: both are errors, never a silent zero. */
typedef struct {
    nd_tensor *values, *vectors; /* detached, as for eigh */
    bool has_complex;            /* some eigenvalue has an imaginary part */
} eig_saved;

static void eig_saved_free(void *p) {
    eig_saved *s = p;
    nd_release(s->values);
    nd_release(s->vectors);
    free(s);
}

/* false and an error unless the rule of `which` is defined at this matrix. */
static bool eig_rule_defined(const eig_saved *s, const char *which, bool needs_distinct) {
    if (s->has_complex) {
        nd__set_error("nd_eig: the gradient through %s is supported for real eigenvalues only, "
                      "and this matrix has complex ones (for a symmetric matrix, nd_eigh has "
                      "gradients)",
                      which);
        return false;
    }
    int64_t n = s->values->shape[0];
    for (int64_t i = 0; needs_distinct && i < n; i++) {
        double li = nd__get_flat(s->values, i);
        for (int64_t j = i + 1; j < n; j++)
            if (li == nd__get_flat(s->values, j)) {
                nd__set_error("nd_eig: the gradient through %s is not defined for repeated "
                              "eigenvalues (%g appears twice): the eigenvectors are not unique; "
                              "PyTorch gives NaN or inf there",
                              which, li);
                return false;
            }
    }
    return true;
}

/* L and V as a rule computes with them: the saved constants, or recomputed
 * from A (carrying graph and tangents) when the rule must be differentiable,
 * as for eigh. */
static eig_saved eig_for_rule(const nd_node *n) {
    const eig_saved *s = n->p.ptr;
    nd_tensor *a = n->in[0];
    if (!nd_is_grad_enabled() && !a->tangent) return *s;
    eig_saved r = {NULL, NULL, s->has_complex};
    if (nd_eig(a, &r.values, NULL, &r.vectors, NULL)) r.values = r.vectors = NULL;
    return r;
}

/* F: 1/(L_j − L_i) off the diagonal, 0 on it (built without dividing by 0). */
static nd_tensor *eig_f(nd_tensor *values) {
    if (!values) return NULL;
    nd_tensor *eye = nd_eye(values->shape[0], values->dtype);
    nd_tensor *e = nd_add(nd_sub(nd_unsqueeze(values, 0), nd_unsqueeze(values, 1)), eye);
    return nd_mul(nd_rdiv_scalar(e, 1.0), nd_rsub_scalar(eye, 1.0));
}

/* The diagonal of a square matrix as a vector. */
static nd_tensor *diagonal(nd_tensor *m) {
    return m ? nd_sum(nd_mul(m, nd_eye(m->shape[0], m->dtype)), -1, false) : NULL;
}

static void eig_values_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    if (!eig_rule_defined(n->p.ptr, "the eigenvalues", false)) return;
    eig_saved s = eig_for_rule(n);
    if (!s.vectors) return;
    nd_tensor *vt = mT(s.vectors);
    gin[0] = nd_solve(vt, nd_mul(nd_unsqueeze(g, 1), vt)); /* V⁻ᵀ diag(L̄) Vᵀ */
}
static void eig_vectors_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    if (!eig_rule_defined(n->p.ptr, "the eigenvectors", true)) return;
    eig_saved s = eig_for_rule(n);
    if (!s.vectors) return;
    nd_tensor *vt = mT(s.vectors);
    nd_tensor *vtg = nd_matmul(vt, g);
    nd_tensor *projected = nd_sub(vtg, nd_mul(nd_matmul(vt, s.vectors), diagonal(vtg)));
    gin[0] = nd_solve(vt, nd_matmul(nd_mul(eig_f(s.values), projected), vt));
}
static void eig_imag_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out; /* NULL: the rule does not read it */
    const eig_saved *s = n->p.ptr;
    bool vectors = g->ndim == 2;
    if (!eig_rule_defined(s, vectors ? "vectors_im" : "values_im", vectors)) return;
    if (vectors) { /* PyTorch's check of the phase, with its tolerance */
        nd_tensor *phase = diagonal(nd_matmul(mT(s->vectors), g));
        if (!phase) return;
        for (int64_t i = 0; i < phase->numel; i++)
            if (!(fabs(nd__get_flat(phase, i)) <= 1e-2)) {
                nd__set_error("nd_eig: the loss depends on the eigenvectors' phase (through "
                              "vectors_im), which is not defined; PyTorch refuses it too");
                return;
            }
    }
    gin[0] = nd_zeros_like(n->in[0]);
}

/* dP = V⁻¹ dA V, from the saved factors (a JVP is first order). */
static nd_tensor *eig_dp(const eig_saved *s, nd_tensor *da) {
    return nd_solve(s->vectors, nd_matmul(da, s->vectors));
}
static nd_tensor *eig_values_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    const eig_saved *s = n->p.ptr;
    return eig_rule_defined(s, "the eigenvalues", false) ? diagonal(eig_dp(s, tin[0])) : NULL;
}
static nd_tensor *eig_vectors_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    const eig_saved *s = n->p.ptr;
    if (!eig_rule_defined(s, "the eigenvectors", true)) return NULL;
    nd_tensor *vx = nd_matmul(s->vectors, nd_mul(eig_f(s->values), eig_dp(s, tin[0])));
    nd_tensor *norm = diagonal(nd_matmul(mT(s->vectors), vx)); /* diag(VᵀV X) */
    return nd_sub(vx, nd_mul(s->vectors, norm));
}
static nd_tensor *eig_imag_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)tin;
    bool vectors = out->ndim == 2;
    if (!eig_rule_defined(n->p.ptr, vectors ? "vectors_im" : "values_im", vectors)) return NULL;
    return nd_zeros_like(out);
}
static const nd_op EIG_VALUES = {"eig_values", eig_values_vjp, eig_values_jvp, 0};
static const nd_op EIG_VECTORS = {"eig_vectors", eig_vectors_vjp, eig_vectors_jvp, 0};
static const nd_op EIG_IMAG = {"eig_imag", eig_imag_vjp, eig_imag_jvp, 0};

/* Records one output of eig with its own copy of L and V. */
static nd_tensor *eig_record(const nd_op *op, nd_tensor *out, nd_tensor *a, nd_tensor *values,
                             nd_tensor *vectors, bool has_complex) {
    if (!nd__needs_record(1, &a)) return out;
    eig_saved *s = malloc(sizeof *s);
    if (!s) return nd__fail("nd_eig: out of memory");
    s->values = nd_retain(nd_detach(values));
    s->vectors = nd_retain(nd_detach(vectors));
    s->has_complex = has_complex;
    nd_params p = {.ptr = s, .free_ptr = eig_saved_free};
    return nd__record(op, out, 1, &a, &p);
}

int nd_eig(nd_tensor *a, nd_tensor **values_re, nd_tensor **values_im, nd_tensor **vectors_re,
           nd_tensor **vectors_im) {
    ND_CHECK_INT("nd_eig", a);
    unsigned long errors = nd__error_count();
    nd_tensor *m = lapack_copy("nd_eig", a, true);
    if (!m) return -1;
    lapack_int n = (lapack_int)m->shape[0];
    nd_dtype dt = a->dtype;
    /* the vectors are computed when asked for or when a rule will need them */
    bool want_vectors = vectors_re || vectors_im || nd__needs_record(1, &a);
    nd_tensor *wr = nd__empty(dt, 1, (int64_t[]){n}), *wi = nd__empty(dt, 1, (int64_t[]){n});
    nd_tensor *vr = nd__empty(dt, 2, (int64_t[]){n, n});
    if (!wr || !wi || !vr) return -1;
    char jobvr = want_vectors ? 'V' : 'N';
    if (!(m = transposed_copy("nd_eig", m))) return -1;
    /* the size of geev's workspace, then geev (the vectors come back
     * column-major: turned into nd's order below) */
    double query = 0;
    float query_f = 0;
    lapack_int info =
        dt == ND_F32
            ? LAPACKE_sgeev_work(LAPACK_COL_MAJOR, 'N', jobvr, n, nd__ptr(m), ld(n), nd__ptr(wr),
                                 nd__ptr(wi), NULL, 1, nd__ptr(vr), ld(n), &query_f, -1)
            : LAPACKE_dgeev_work(LAPACK_COL_MAJOR, 'N', jobvr, n, nd__ptr(m), ld(n), nd__ptr(wr),
                                 nd__ptr(wi), NULL, 1, nd__ptr(vr), ld(n), &query, -1);
    lapack_int lwork = 0;
    void *work = info ? NULL : workspace("nd_eig", dt, dt == ND_F32 ? query_f : query, &lwork);
    if (!info && !work) return -1;
    if (!info)
        info = dt == ND_F32 ? LAPACKE_sgeev_work(LAPACK_COL_MAJOR, 'N', jobvr, n, nd__ptr(m), ld(n),
                                                 nd__ptr(wr), nd__ptr(wi), NULL, 1, nd__ptr(vr),
                                                 ld(n), work, lwork)
                            : LAPACKE_dgeev_work(LAPACK_COL_MAJOR, 'N', jobvr, n, nd__ptr(m), ld(n),
                                                 nd__ptr(wr), nd__ptr(wi), NULL, 1, nd__ptr(vr),
                                                 ld(n), work, lwork);
    free(work);
    if (info == 0 && want_vectors && !(vr = transposed_copy("nd_eig", vr))) return -1;
    if (info > 0)
        return nd__fail_int("nd_eig: the QR algorithm failed to converge (info %d)", info);
    if (info < 0) return nd__fail_int("nd_eig: LAPACK rejected argument %d", (int)-info);
    nd_tensor *re = NULL, *im = NULL;
    if (want_vectors) {
        /* LAPACK packs a complex pair (λ_j, λ_j+1 = conj λ_j) into columns j and
         * j+1 as real and imaginary parts; unpack into two real matrices. */
        re = nd__empty(dt, 2, (int64_t[]){n, n});
        im = nd__zeros(dt, 2, (int64_t[]){n, n});
        if (!re || !im) return -1;
        size_t es = nd_dtype_size(dt);
        char *pre = nd__ptr(re), *pim = nd__ptr(im);
        for (lapack_int j = 0; j < n; j++) {
            bool pair = nd__get_flat(wi, j) != 0.0 && j + 1 < n;
            for (lapack_int i = 0; i < n; i++) {
                double x = nd__get_flat(vr, (int64_t)i * n + j);
                nd__store(dt, pre + (size_t)(i * n + j) * es, x);
                if (pair) {
                    double y = nd__get_flat(vr, (int64_t)i * n + j + 1);
                    nd__store(dt, pre + (size_t)(i * n + j + 1) * es, x);
                    nd__store(dt, pim + (size_t)(i * n + j) * es, y);
                    nd__store(dt, pim + (size_t)(i * n + j + 1) * es, -y);
                }
            }
            if (pair) j++;
        }
    }
    bool has_complex = false;
    for (lapack_int j = 0; j < n; j++) has_complex |= nd__get_flat(wi, j) != 0.0;
    if (values_re) *values_re = eig_record(&EIG_VALUES, wr, a, wr, re, has_complex);
    if (values_im) *values_im = eig_record(&EIG_IMAG, wi, a, wr, re, has_complex);
    if (vectors_re) *vectors_re = eig_record(&EIG_VECTORS, re, a, wr, re, has_complex);
    if (vectors_im) *vectors_im = eig_record(&EIG_IMAG, im, a, wr, re, has_complex);
    return nd__error_count() == errors ? 0 : -1;
}

/* ---------------------------------------------------------------- svd */

/* The rules of A = U diag(S) Vᵀ (thin: k = min(m, n)), PyTorch's (its
 * svd_backward and svd_jvp), one node per output as for eigh. With
 * E_jk = S_k² − S_j² (1 on the diagonal) and skew(X) = X − Xᵀ:
 *   S̄ → Ā = U diag(S̄) Vᵀ
 *   Ū → Ā = U ((skew(UᵀŪ) ∘ S_k) / E) Vᵀ  [+ (I − UUᵀ) Ū S⁻¹ Vᵀ when m > k]
 *   V̄ᵀ→ Ā = U ((S_j ∘ skew(Vᵀ V̄)) / E) Vᵀ  [+ U S⁻¹ V̄ᵀ (I − VVᵀ) when n > k]
 * and, with dP = Uᵀ dA V and F = 1/E off the diagonal (0 on it):
 *   dS = diag(dP),  dU = U (F ∘ (dP S + S dPᵀ)) + (I − UUᵀ) dA V S⁻¹,
 *   dV = V (F ∘ (S dP + dPᵀ S)) + (I − VVᵀ) dAᵀ U S⁻¹.
 * U and V are defined only up to rotations within repeated singular values
 * (and the extra columns need S > 0): there the rules for U and V refuse
 * with an error, where PyTorch would give NaN or ∞. S's rule is always
 * defined. */
typedef struct {
    nd_tensor *u, *s, *vt;
} svd_saved;

static void svd_saved_free(void *p) {
    svd_saved *sv = p;
    nd_release(sv->u);
    nd_release(sv->s);
    nd_release(sv->vt);
    free(sv);
}

/* The factors a rule computes with: the saved constants, or recomputed from
 * A (so that they carry graph and tangents) when the rule must itself be
 * differentiable, as for eigh. */
static svd_saved svd_for_rule(const nd_node *n) {
    const svd_saved *sv = n->p.ptr;
    nd_tensor *a = n->in[0];
    if (!nd_is_grad_enabled() && !a->tangent) return *sv;
    svd_saved r = {NULL, NULL, NULL};
    if (nd_svd(a, &r.u, &r.s, &r.vt)) r.u = r.s = r.vt = NULL;
    return r;
}

/* E (1 on the diagonal), or NULL and an error when two singular values are
 * equal, or when one is 0 and `need_positive` (the extra columns divide by S). */
static nd_tensor *svd_gaps(const char *which, nd_tensor *s, bool need_positive) {
    if (!s) return NULL;
    int64_t k = s->shape[0];
    for (int64_t i = 0; i < k; i++) {
        double si = nd__get_flat(s, i);
        if (need_positive && si == 0)
            return nd__fail("nd_svd: the gradient through %s is not defined where a singular value "
                            "is 0 (the matrix is rank-deficient); PyTorch gives inf or NaN there",
                            which);
        for (int64_t j = i + 1; j < k; j++)
            if (si == nd__get_flat(s, j))
                return nd__fail("nd_svd: the gradient through %s is not defined for repeated "
                                "singular values (%g appears twice): the singular vectors are "
                                "not unique; PyTorch gives NaN there",
                                which, si);
    }
    nd_tensor *s2 = nd_mul(s, s);
    nd_tensor *e = nd_sub(nd_unsqueeze(s2, 0), nd_unsqueeze(s2, 1)); /* S_k² − S_j² */
    return nd_add(e, nd_eye(k, s->dtype));
}

static nd_tensor *skew(nd_tensor *x) {
    return nd_sub(x, mT(x));
}

static void svd_s_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    svd_saved f = svd_for_rule(n);
    gin[0] = nd_matmul(nd_mul(f.u, g), f.vt); /* U diag(S̄) Vᵀ */
}
static void svd_u_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    svd_saved f = svd_for_rule(n);
    bool tall = f.u && f.u->shape[0] > f.u->shape[1];
    nd_tensor *e = svd_gaps("U", f.s, tall);
    if (!e) return;
    nd_tensor *inner = nd_div(nd_mul(skew(nd_matmul(mT(f.u), g)), f.s), e);
    nd_tensor *ga = nd_matmul(f.u, inner);
    if (tall) { /* + (I − UUᵀ) Ū S⁻¹ */
        nd_tensor *gs = nd_div(g, f.s);
        ga = nd_add(ga, nd_sub(gs, nd_matmul(f.u, nd_matmul(mT(f.u), gs))));
    }
    gin[0] = nd_matmul(ga, f.vt);
}
static void svd_vt_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    svd_saved f = svd_for_rule(n);
    bool wide = f.vt && f.vt->shape[1] > f.vt->shape[0];
    nd_tensor *e = svd_gaps("V", f.s, wide);
    if (!e) return;
    nd_tensor *s_col = nd_unsqueeze(f.s, 1);
    nd_tensor *inner = nd_div(nd_mul(s_col, skew(nd_matmul(f.vt, mT(g)))), e);
    nd_tensor *ga = nd_matmul(inner, f.vt);
    if (wide) { /* + S⁻¹ V̄ᵀ (I − VVᵀ) */
        nd_tensor *sg = nd_div(g, s_col);
        ga = nd_add(ga, nd_sub(sg, nd_matmul(nd_matmul(sg, mT(f.vt)), f.vt)));
    }
    gin[0] = nd_matmul(f.u, ga);
}

/* dP = Uᵀ dA V, from the saved factors (a JVP is first order). */
static nd_tensor *svd_dp(const svd_saved *f, nd_tensor *da) {
    return nd_matmul(nd_matmul(mT(f->u), da), mT(f->vt));
}
static nd_tensor *svd_s_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    const svd_saved *f = n->p.ptr;
    nd_tensor *dp = svd_dp(f, tin[0]);
    return nd_sum(nd_mul(dp, nd_eye(f->s->shape[0], f->s->dtype)), -1, false); /* diag */
}
/* F = 1/E off the diagonal, 0 on it. */
static nd_tensor *svd_f(nd_tensor *e) {
    nd_tensor *eye = nd_eye(e->shape[0], e->dtype);
    return nd_mul(nd_rdiv_scalar(e, 1.0), nd_rsub_scalar(eye, 1.0));
}
static nd_tensor *svd_u_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    const svd_saved *f = n->p.ptr;
    bool tall = f->u->shape[0] > f->u->shape[1];
    nd_tensor *e = svd_gaps("U", f->s, tall);
    if (!e) return NULL;
    nd_tensor *dp = svd_dp(f, tin[0]);
    nd_tensor *sym = nd_add(nd_mul(dp, f->s), nd_mul(nd_unsqueeze(f->s, 1), mT(dp)));
    nd_tensor *du = nd_matmul(f->u, nd_mul(svd_f(e), sym));
    if (tall) { /* + (I − UUᵀ) dA V S⁻¹ */
        nd_tensor *x = nd_div(nd_matmul(tin[0], mT(f->vt)), f->s);
        du = nd_add(du, nd_sub(x, nd_matmul(f->u, nd_matmul(mT(f->u), x))));
    }
    return du;
}
static nd_tensor *svd_vt_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    const svd_saved *f = n->p.ptr;
    bool wide = f->vt->shape[1] > f->vt->shape[0];
    nd_tensor *e = svd_gaps("V", f->s, wide);
    if (!e) return NULL;
    nd_tensor *dp = svd_dp(f, tin[0]);
    nd_tensor *sym = nd_add(nd_mul(nd_unsqueeze(f->s, 1), dp), nd_mul(mT(dp), f->s));
    nd_tensor *dv = nd_matmul(mT(f->vt), nd_mul(svd_f(e), sym));
    if (wide) { /* + (I − VVᵀ) dAᵀ U S⁻¹ */
        nd_tensor *x = nd_div(nd_matmul(mT(tin[0]), f->u), f->s);
        dv = nd_add(dv, nd_sub(x, nd_matmul(mT(f->vt), nd_matmul(f->vt, x))));
    }
    return mT(dv);
}
static const nd_op SVD_U = {"svd_u", svd_u_vjp, svd_u_jvp, 0};
static const nd_op SVD_S = {"svd_s", svd_s_vjp, svd_s_jvp, 0};
static const nd_op SVD_VT = {"svd_vt", svd_vt_vjp, svd_vt_jvp, 0};

/* Records one output of svd with its own copy of the factors. */
static nd_tensor *svd_record(const nd_op *op, nd_tensor *out, nd_tensor *a, nd_tensor *u,
                             nd_tensor *s, nd_tensor *vt) {
    if (!nd__needs_record(1, &a)) return out;
    svd_saved *sv = malloc(sizeof *sv);
    if (!sv) return nd__fail("nd_svd: out of memory");
    sv->u = nd_retain(nd_detach(u));
    sv->s = nd_retain(nd_detach(s));
    sv->vt = nd_retain(nd_detach(vt));
    nd_params p = {.ptr = sv, .free_ptr = svd_saved_free};
    return nd__record(op, out, 1, &a, &p);
}

/* gesdd on the rows×cols matrix m (nd's order) into s and, with jobz 'S',
 * *u (rows, k) and *vt (k, cols): on column-major copies, with workspace nd
 * allocates. Returns LAPACK's info, or LAPACK_WORK_MEMORY_ERROR with nd's
 * error set. */
static lapack_int svd_lapack(char jobz, nd_tensor *m, nd_tensor *s, nd_tensor **u, nd_tensor **vt) {
    nd_dtype dt = m->dtype;
    lapack_int rows = (lapack_int)m->shape[0], cols = (lapack_int)m->shape[1];
    lapack_int k = rows < cols ? rows : cols;
    nd_tensor *mc = transposed_copy("nd_svd", m);
    nd_tensor *uc = nd__empty(dt, 2, (int64_t[]){k, rows});  /* U, column-major */
    nd_tensor *vtc = nd__empty(dt, 2, (int64_t[]){cols, k}); /* Vᵀ, column-major */
    lapack_int *iwork = malloc(8 * (size_t)k * sizeof *iwork);
    if (!mc || !uc || !vtc || !iwork) {
        free(iwork);
        if (mc && uc && vtc) nd__set_error("nd_svd: out of memory");
        return LAPACK_WORK_MEMORY_ERROR;
    }
    double query = 0;
    float query_f = 0;
    lapack_int info =
        dt == ND_F32
            ? LAPACKE_sgesdd_work(LAPACK_COL_MAJOR, jobz, rows, cols, nd__ptr(mc), rows, nd__ptr(s),
                                  nd__ptr(uc), rows, nd__ptr(vtc), k, &query_f, -1, iwork)
            : LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, jobz, rows, cols, nd__ptr(mc), rows, nd__ptr(s),
                                  nd__ptr(uc), rows, nd__ptr(vtc), k, &query, -1, iwork);
    lapack_int lwork = 0;
    void *work = info ? NULL : workspace("nd_svd", dt, dt == ND_F32 ? query_f : query, &lwork);
    if (!info && !work) {
        free(iwork);
        return LAPACK_WORK_MEMORY_ERROR;
    }
    if (!info)
        info = dt == ND_F32 ? LAPACKE_sgesdd_work(LAPACK_COL_MAJOR, jobz, rows, cols, nd__ptr(mc),
                                                  rows, nd__ptr(s), nd__ptr(uc), rows, nd__ptr(vtc),
                                                  k, work, lwork, iwork)
                            : LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, jobz, rows, cols, nd__ptr(mc),
                                                  rows, nd__ptr(s), nd__ptr(uc), rows, nd__ptr(vtc),
                                                  k, work, lwork, iwork);
    free(work);
    free(iwork);
    if (info || jobz == 'N') return info;
    *u = transposed_copy("nd_svd", uc);
    *vt = transposed_copy("nd_svd", vtc);
    return *u && *vt ? 0 : LAPACK_WORK_MEMORY_ERROR;
}

int nd_svd(nd_tensor *a, nd_tensor **u, nd_tensor **s, nd_tensor **vt) {
    ND_CHECK_INT("nd_svd", a);
    nd_tensor *m = lapack_copy("nd_svd", a, false);
    if (!m) return -1;
    lapack_int rows = (lapack_int)m->shape[0], cols = (lapack_int)m->shape[1];
    lapack_int k = rows < cols ? rows : cols;
    nd_dtype dt = a->dtype;
    nd_tensor *uu = nd__empty(dt, 2, (int64_t[]){rows, k});
    nd_tensor *ss = nd__empty(dt, 1, (int64_t[]){k});
    nd_tensor *vv = nd__empty(dt, 2, (int64_t[]){k, cols});
    if (!uu || !ss || !vv) return -1;
    if (k == 0) { /* an empty matrix: nothing for LAPACK to do */
        if (u) *u = uu;
        if (s) *s = ss;
        if (vt) *vt = vv;
        return 0;
    }
    /* the vectors are computed when asked for or when a rule will need them */
    char jobz = u || vt || nd__needs_record(1, &a) ? 'S' : 'N';
    lapack_int info = svd_lapack(jobz, m, ss, &uu, &vv);
    if (info == LAPACK_WORK_MEMORY_ERROR) return -1; /* the error is set */
    if (info > 0) return nd__fail_int("nd_svd: the algorithm failed to converge (info %d)", info);
    if (info < 0) return nd__fail_int("nd_svd: LAPACK rejected argument %d", (int)-info);
    nd_tensor *ru = u ? svd_record(&SVD_U, uu, a, uu, ss, vv) : uu;
    nd_tensor *rs = s ? svd_record(&SVD_S, ss, a, uu, ss, vv) : ss;
    nd_tensor *rvt = vt ? svd_record(&SVD_VT, vv, a, uu, ss, vv) : vv;
    if (!ru || !rs || !rvt) return -1;
    if (u) *u = ru;
    if (s) *s = rs;
    if (vt) *vt = rvt;
    return 0;
}
