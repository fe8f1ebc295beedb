/* Decompositions on LAPACK: inv, det, solve, eigh here, eig and svd in
 * linalg_eig_svd.c. Matrices are
 * handed to LAPACK as column-major copies (LAPACK overwrites its input, so
 * the copy is needed anyway) through LAPACKE's _work functions, with
 * workspace nd allocates after asking LAPACK its size: LAPACKE's other
 * functions allocate themselves and print to stderr when they cannot, and
 * nd's out of memory is an error value, never a message on the user's
 * terminal. Each differentiable op keeps its kernel, VJP and JVP side by
 * side. */
#include "elementwise.h"
#include "lapack.h"

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
        nd__fail_as(ND_ERR_DTYPE,
                    "%s: expects a floating-point matrix, got %s (convert with nd_to)", op,
                    nd_dtype_name(a->dtype));
    else if (a->ndim != 2)
        nd__fail_as(ND_ERR_SHAPE, "%s: expects a 2-D matrix, got shape %s", op, nd__tshape(a));
    else if (square && a->shape[0] != a->shape[1])
        nd__fail_as(ND_ERR_SHAPE, "%s: expects a square matrix, got shape %s", op, nd__tshape(a));
    else if (a->shape[0] > INT32_MAX || a->shape[1] > INT32_MAX)
        nd__fail_as(ND_ERR_SHAPE, "%s: shape %s is too large for LAPACK", op, nd__tshape(a));
    else
        return true;
    return false;
}

static nd_tensor *not_finite(const char *op, nd_tensor *a) {
    return nd__fail_as(ND_ERR_NUMERIC, "%s: the matrix of shape %s contains NaN or infinity", op,
                       nd__tshape(a));
}

/* A contiguous copy of a checked matrix that LAPACK may overwrite, all finite
 * (LAPACK's answer on NaN is undefined, so it is refused before the call). */
nd_tensor *nd__lapack_copy(const char *op, nd_tensor *a, bool square) {
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
nd_tensor *nd__lapack_transposed_copy(const char *op, nd_tensor *t) {
    int64_t m = t->shape[0], n = t->shape[1];
    nd_tensor *out = nd__empty(t->dtype, 2, (int64_t[]){n, m});
    nd_tensor *view = out ? nd__alias(t, 2, (int64_t[]){n, m},
                                      (int64_t[]){t->strides[1], t->strides[0]}, t->offset)
                          : NULL;
    if (!view || nd__copy_into(op, out, view)) return NULL;
    return out;
}

/* A leading dimension LAPACK accepts: at least 1, even for an empty matrix. */
lapack_int nd__lapack_ld(int64_t rows) {
    return rows > 0 ? (lapack_int)rows : 1;
}

/* LAPACK's workspace for a query's answer (a float: rounded up, since a
 * large size read back from f32 may have been rounded down), or NULL and
 * nd's out-of-memory error naming op. *lwork receives the count. */
void *nd__lapack_workspace(const char *op, nd_dtype dtype, double query, lapack_int *lwork) {
    double count = ceil(query * (dtype == ND_F32 ? 1.0 + 1e-6 : 1.0));
    *lwork = count >= 1 && count < INT32_MAX ? (lapack_int)count : 1;
    void *work = malloc((size_t)*lwork * nd_dtype_size(dtype));
    if (!work) nd__set_error_as(ND_ERR_NOMEM, "%s: out of memory", op);
    return work;
}

/* LU factorisation in place of the column-major n×n matrix m (ld n); ipiv
 * receives n pivots. Returns LAPACK's info. */
static lapack_int lu_factor(nd_tensor *m, lapack_int *ipiv) {
    lapack_int n = (lapack_int)m->shape[0];
    if (m->dtype == ND_F32)
        return LAPACKE_sgetrf_work(LAPACK_COL_MAJOR, n, n, nd__ptr(m), nd__lapack_ld(n), ipiv);
    return LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, n, n, nd__ptr(m), nd__lapack_ld(n), ipiv);
}

static lapack_int *pivots(const char *op, int64_t n) {
    lapack_int *ipiv = malloc((size_t)(n > 0 ? n : 1) * sizeof *ipiv);
    if (!ipiv) nd__set_error_as(ND_ERR_NOMEM, "%s: out of memory", op);
    return ipiv;
}

/* ---------------------------------------------------------------- inv */

/* X = A⁻¹: dX = -X dA X, so Ā = -Xᵀ X̄ Xᵀ. */
static void inv_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)n;
    nd_tensor *xt = nd__mT(out);
    gin[0] = nd_neg(nd_matmul(nd_matmul(xt, g), xt));
}
static nd_tensor *inv_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n;
    return nd_neg(nd_matmul(nd_matmul(out, tin[0]), out));
}
static const nd_op INV = {
    .name = "inv",
    .vjp = inv_vjp,
    .jvp = inv_jvp,
    .flags = ND_SAVES_OUTPUT,
    .vjp_formula = "−yᵀ·g·yᵀ (y = a⁻¹)",
    .jvp_formula = "−y·da·y",
};

nd_tensor *nd_inv(nd_tensor *a) {
    ND_CHECK("nd_inv", a);
    nd_tensor *x = nd__lapack_copy("nd_inv", a, true);
    if (!x) return NULL;
    lapack_int n = (lapack_int)x->shape[0];
    /* the inverse of a 0×0 matrix is 0×0, as PyTorch; LAPACK would reject
     * the leading dimension 0 (and print to stderr) */
    if (n == 0) return nd__record(&INV, x, 1, &a, NULL);
    x = nd__lapack_transposed_copy("nd_inv", x);
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
                    : nd__lapack_workspace("nd_inv", x->dtype, x->dtype == ND_F32 ? query_f : query,
                                           &lwork);
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
    if (info == 0 && !(x = nd__lapack_transposed_copy("nd_inv", x))) return NULL;
    if (info > 0)
        return nd__fail_as(ND_ERR_NUMERIC,
                           "nd_inv: the matrix of shape %s is singular (pivot %d is exactly zero)",
                           nd__tshape(a), (int)info);
    if (info < 0)
        return nd__fail_as(ND_ERR_EXTERNAL, "nd_inv: LAPACK rejected argument %d", (int)-info);
    return nd__record(&INV, x, 1, &a, NULL);
}

/* ---------------------------------------------------------------- det */

/* d det(A) = det(A) · tr(A⁻¹ dA), so Ā = ḡ · det(A) · A⁻ᵀ. The rule needs A⁻¹,
 * so a gradient at a singular A is refused (nd_inv says "singular"). */
static void det_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    gin[0] = nd_mul(nd_mul(g, out), nd__mT(nd_inv(n->in[0])));
}
static nd_tensor *det_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    nd_tensor *trace = nd_sum(nd_mul(nd__mT(nd_inv(n->in[0])), tin[0]), ND_ALL, false);
    return nd_mul(out, trace);
}
static const nd_op DET = {
    .name = "det",
    .vjp = det_vjp,
    .jvp = det_jvp,
    .flags = ND_SAVES_INPUTS | ND_SAVES_OUTPUT,
    .vjp_formula = "g·y·a⁻ᵀ (y = det a)",
    .jvp_formula = "y·tr(a⁻¹·da)",
};

nd_tensor *nd_det(nd_tensor *a) {
    ND_CHECK("nd_det", a);
    nd_tensor *lu = nd__lapack_copy("nd_det", a, true);
    if (lu) lu = nd__lapack_transposed_copy("nd_det", lu); /* det Aᵀ = det A, but as LAPACK would */
    if (!lu) return NULL;
    int64_t n = lu->shape[0];
    lapack_int *ipiv = pivots("nd_det", n);
    if (!ipiv) return NULL;
    lapack_int info = lu_factor(lu, ipiv);
    if (info < 0) {
        free(ipiv);
        return nd__fail_as(ND_ERR_EXTERNAL, "nd_det: LAPACK rejected argument %d", (int)-info);
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
    nd_tensor *gb = nd_solve(nd__mT(a), g);
    if (n->in[1]->requires_grad) gin[1] = gb;
    if (a->requires_grad)
        gin[0] = nd_neg(out->ndim == 1 ? nd_outer(gb, out) : nd_matmul(gb, nd__mT(out)));
}
static nd_tensor *solve_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    nd_tensor *rhs = nd__tangent_sub(tin[1], tin[0] ? nd_matmul(tin[0], out) : NULL);
    return rhs ? nd_solve(n->in[0], rhs) : NULL;
}
static const nd_op SOLVE = {
    .name = "solve",
    .vjp = solve_vjp,
    .jvp = solve_jvp,
    .flags = ND_SAVES_INPUTS | ND_SAVES_OUTPUT,
    .vjp_formula = "gb = a⁻ᵀ·g, ga = −gb·yᵀ (y = a⁻¹·b)",
    .jvp_formula = "a⁻¹·(db − da·y)",
};

nd_tensor *nd_solve(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_solve", a, b);
    nd_tensor *lu = nd__lapack_copy("nd_solve", a, true);
    if (!lu) return NULL;
    if (b->dtype != a->dtype)
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_solve: dtypes %s and %s differ (convert one with nd_to)",
                           nd_dtype_name(a->dtype), nd_dtype_name(b->dtype));
    int64_t n = a->shape[0];
    if ((b->ndim != 1 && b->ndim != 2) || b->shape[0] != n)
        return nd__fail_as(
            ND_ERR_SHAPE,
            "nd_solve: the right-hand side must be (%lld,) or (%lld, m) for a matrix "
            "of shape %s, got shape %s",
            (long long)n, (long long)n, nd__tshape(a), nd__tshape(b));
    /* column-major copies: Aᵀ and (a matrix) Bᵀ in nd's order */
    lu = nd__lapack_transposed_copy("nd_solve", lu);
    nd_tensor *x = nd__empty(b->dtype, b->ndim, b->shape);
    if (!lu || !x || nd__copy_into("nd_solve", x, b)) return NULL;
    if (b->ndim == 2 && !(x = nd__lapack_transposed_copy("nd_solve", x))) return NULL;
    lapack_int nrhs = b->ndim == 1 ? 1 : (lapack_int)b->shape[1];
    lapack_int *ipiv = pivots("nd_solve", n);
    if (!ipiv) return NULL;
    lapack_int info =
        a->dtype == ND_F32
            ? LAPACKE_sgesv_work(LAPACK_COL_MAJOR, (lapack_int)n, nrhs, nd__ptr(lu),
                                 nd__lapack_ld(n), ipiv, nd__ptr(x), nd__lapack_ld(n))
            : LAPACKE_dgesv_work(LAPACK_COL_MAJOR, (lapack_int)n, nrhs, nd__ptr(lu),
                                 nd__lapack_ld(n), ipiv, nd__ptr(x), nd__lapack_ld(n));
    free(ipiv);
    if (info == 0 && b->ndim == 2 && !(x = nd__lapack_transposed_copy("nd_solve", x))) return NULL;
    if (info > 0)
        return nd__fail_as(
            ND_ERR_NUMERIC,
            "nd_solve: the matrix of shape %s is singular (pivot %d is exactly zero)",
            nd__tshape(a), (int)info);
    if (info < 0)
        return nd__fail_as(ND_ERR_EXTERNAL, "nd_solve: LAPACK rejected argument %d", (int)-info);
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
static const nd_op EIGH_VALUES = {
    .name = "eigh_values",
    .vjp = eigh_values_vjp,
    .jvp = eigh_values_jvp,
    .flags = 0,
    .vjp_formula = "V·diag(g)·Vᵀ",
    .jvp_formula = "diag(Vᵀ·da·V)",
};
static const nd_op EIGH_VECTORS = {
    .name = "eigh_vectors",
    .vjp = eigh_vectors_vjp,
    .jvp = eigh_vectors_jvp,
    .flags = 0,
    .vjp_formula = "V·(F ∘ Vᵀ·g)·Vᵀ symmetrised, F_ij = 1/(λ_j − λ_i)",
    .jvp_formula = "V·(F ∘ Vᵀ·da·V)",
};

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
        return nd__fail_as(ND_ERR_NOMEM, "nd_eigh: out of memory");
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
    if (info == LAPACK_WORK_MEMORY_ERROR)
        return nd__fail_int_as(ND_ERR_NOMEM, "nd_eigh: out of memory");
    if (info > 0)
        return nd__fail_int_as(ND_ERR_NUMERIC,
                               "nd_eigh: the algorithm failed to converge (info %d)", info);
    if (info < 0)
        return nd__fail_int_as(ND_ERR_EXTERNAL, "nd_eigh: LAPACK rejected argument %d", (int)-info);
    nd_tensor *rv = values ? eigh_record(&EIGH_VALUES, w, a, w, v) : w;
    nd_tensor *rV = vectors ? eigh_record(&EIGH_VECTORS, v, a, w, v) : v;
    if (!rv || (vectors && !rV)) return -1;
    if (values) *values = rv;
    if (vectors) *vectors = rV;
    return 0;
}
