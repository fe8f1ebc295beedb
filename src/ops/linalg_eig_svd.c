/* The non-symmetric decompositions on LAPACK, eig and svd, each with its
 * kernel, VJP and JVP side by side (PyTorch's rules; an error where a rule is
 * undefined, never a silent zero). The matrix helpers they share with inv,
 * det, solve and eigh are in lapack.h (defined in linalg_decomp.c). */
#include "elementwise.h"
#include "lapack.h"

#include <lapacke.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

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
        nd__set_error_as(ND_ERR_NOT_DIFFERENTIABLE,
                         "nd_eig: the gradient through %s is supported for real eigenvalues only, "
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
                nd__set_error_as(ND_ERR_NOT_DIFFERENTIABLE,
                                 "nd_eig: the gradient through %s is not defined for repeated "
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
    nd_tensor *vt = nd__mT(s.vectors);
    gin[0] = nd_solve(vt, nd_mul(nd_unsqueeze(g, 1), vt)); /* V⁻ᵀ diag(L̄) Vᵀ */
}
static void eig_vectors_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    if (!eig_rule_defined(n->p.ptr, "the eigenvectors", true)) return;
    eig_saved s = eig_for_rule(n);
    if (!s.vectors) return;
    nd_tensor *vt = nd__mT(s.vectors);
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
        nd_tensor *phase = diagonal(nd_matmul(nd__mT(s->vectors), g));
        if (!phase) return;
        for (int64_t i = 0; i < phase->numel; i++)
            if (!(fabs(nd__get_flat(phase, i)) <= 1e-2)) {
                nd__set_error_as(ND_ERR_NOT_DIFFERENTIABLE,
                                 "nd_eig: the loss depends on the eigenvectors' phase (through "
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
    nd_tensor *norm = diagonal(nd_matmul(nd__mT(s->vectors), vx)); /* diag(VᵀV X) */
    return nd_sub(vx, nd_mul(s->vectors, norm));
}
static nd_tensor *eig_imag_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)tin;
    bool vectors = out->ndim == 2;
    if (!eig_rule_defined(n->p.ptr, vectors ? "vectors_im" : "values_im", vectors)) return NULL;
    return nd_zeros_like(out);
}
static const nd_op EIG_VALUES = {
    .name = "eig_values",
    .vjp = eig_values_vjp,
    .jvp = eig_values_jvp,
    .flags = 0,
    .vjp_formula = "V⁻ᵀ·diag(g)·Vᵀ (real eigenvalues)",
    .jvp_formula = "diag(V⁻¹·da·V)",
};
static const nd_op EIG_VECTORS = {
    .name = "eig_vectors",
    .vjp = eig_vectors_vjp,
    .jvp = eig_vectors_jvp,
    .flags = 0,
    .vjp_formula = "V⁻ᵀ·(F ∘ Vᵀ·g)·Vᵀ, F_ij = 1/(λ_j − λ_i)",
    .jvp_formula = "V·(F ∘ V⁻¹·da·V), columns renormalised",
};
static const nd_op EIG_IMAG = {
    .name = "eig_imag",
    .vjp = eig_imag_vjp,
    .jvp = eig_imag_jvp,
    .flags = 0,
    .vjp_formula = "not differentiable (zero)",
    .jvp_formula = "zero",
};

/* Records one output of eig with its own copy of L and V. */
static nd_tensor *eig_record(const nd_op *op, nd_tensor *out, nd_tensor *a, nd_tensor *values,
                             nd_tensor *vectors, bool has_complex) {
    if (!nd__needs_record(1, &a)) return out;
    eig_saved *s = malloc(sizeof *s);
    if (!s) return nd__fail_as(ND_ERR_NOMEM, "nd_eig: out of memory");
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
    nd_tensor *m = nd__lapack_copy("nd_eig", a, true);
    if (!m) return -1;
    lapack_int n = (lapack_int)m->shape[0];
    nd_dtype dt = a->dtype;
    /* the vectors are computed when asked for or when a rule will need them */
    bool want_vectors = vectors_re || vectors_im || nd__needs_record(1, &a);
    nd_tensor *wr = nd__empty(dt, 1, (int64_t[]){n}), *wi = nd__empty(dt, 1, (int64_t[]){n});
    nd_tensor *vr = nd__empty(dt, 2, (int64_t[]){n, n});
    if (!wr || !wi || !vr) return -1;
    char jobvr = want_vectors ? 'V' : 'N';
    if (!(m = nd__lapack_transposed_copy("nd_eig", m))) return -1;
    /* the size of geev's workspace, then geev (the vectors come back
     * column-major: turned into nd's order below) */
    double query = 0;
    float query_f = 0;
    lapack_int info = dt == ND_F32
                          ? LAPACKE_sgeev_work(LAPACK_COL_MAJOR, 'N', jobvr, n, nd__ptr(m),
                                               nd__lapack_ld(n), nd__ptr(wr), nd__ptr(wi), NULL, 1,
                                               nd__ptr(vr), nd__lapack_ld(n), &query_f, -1)
                          : LAPACKE_dgeev_work(LAPACK_COL_MAJOR, 'N', jobvr, n, nd__ptr(m),
                                               nd__lapack_ld(n), nd__ptr(wr), nd__ptr(wi), NULL, 1,
                                               nd__ptr(vr), nd__lapack_ld(n), &query, -1);
    lapack_int lwork = 0;
    void *work =
        info ? NULL : nd__lapack_workspace("nd_eig", dt, dt == ND_F32 ? query_f : query, &lwork);
    if (!info && !work) return -1;
    if (!info)
        info = dt == ND_F32 ? LAPACKE_sgeev_work(LAPACK_COL_MAJOR, 'N', jobvr, n, nd__ptr(m),
                                                 nd__lapack_ld(n), nd__ptr(wr), nd__ptr(wi), NULL,
                                                 1, nd__ptr(vr), nd__lapack_ld(n), work, lwork)
                            : LAPACKE_dgeev_work(LAPACK_COL_MAJOR, 'N', jobvr, n, nd__ptr(m),
                                                 nd__lapack_ld(n), nd__ptr(wr), nd__ptr(wi), NULL,
                                                 1, nd__ptr(vr), nd__lapack_ld(n), work, lwork);
    free(work);
    if (info == 0 && want_vectors && !(vr = nd__lapack_transposed_copy("nd_eig", vr))) return -1;
    if (info > 0)
        return nd__fail_int_as(ND_ERR_NUMERIC,
                               "nd_eig: the QR algorithm failed to converge (info %d)", info);
    if (info < 0)
        return nd__fail_int_as(ND_ERR_EXTERNAL, "nd_eig: LAPACK rejected argument %d", (int)-info);
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
            return nd__fail_as(
                ND_ERR_NOT_DIFFERENTIABLE,
                "nd_svd: the gradient through %s is not defined where a singular value "
                "is 0 (the matrix is rank-deficient); PyTorch gives inf or NaN there",
                which);
        for (int64_t j = i + 1; j < k; j++)
            if (si == nd__get_flat(s, j))
                return nd__fail_as(ND_ERR_NOT_DIFFERENTIABLE,
                                   "nd_svd: the gradient through %s is not defined for repeated "
                                   "singular values (%g appears twice): the singular vectors are "
                                   "not unique; PyTorch gives NaN there",
                                   which, si);
    }
    nd_tensor *s2 = nd_mul(s, s);
    nd_tensor *e = nd_sub(nd_unsqueeze(s2, 0), nd_unsqueeze(s2, 1)); /* S_k² − S_j² */
    return nd_add(e, nd_eye(k, s->dtype));
}

static nd_tensor *skew(nd_tensor *x) {
    return nd_sub(x, nd__mT(x));
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
    nd_tensor *inner = nd_div(nd_mul(skew(nd_matmul(nd__mT(f.u), g)), f.s), e);
    nd_tensor *ga = nd_matmul(f.u, inner);
    if (tall) { /* + (I − UUᵀ) Ū S⁻¹ */
        nd_tensor *gs = nd_div(g, f.s);
        ga = nd_add(ga, nd_sub(gs, nd_matmul(f.u, nd_matmul(nd__mT(f.u), gs))));
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
    nd_tensor *inner = nd_div(nd_mul(s_col, skew(nd_matmul(f.vt, nd__mT(g)))), e);
    nd_tensor *ga = nd_matmul(inner, f.vt);
    if (wide) { /* + S⁻¹ V̄ᵀ (I − VVᵀ) */
        nd_tensor *sg = nd_div(g, s_col);
        ga = nd_add(ga, nd_sub(sg, nd_matmul(nd_matmul(sg, nd__mT(f.vt)), f.vt)));
    }
    gin[0] = nd_matmul(f.u, ga);
}

/* dP = Uᵀ dA V, from the saved factors (a JVP is first order). */
static nd_tensor *svd_dp(const svd_saved *f, nd_tensor *da) {
    return nd_matmul(nd_matmul(nd__mT(f->u), da), nd__mT(f->vt));
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
    nd_tensor *sym = nd_add(nd_mul(dp, f->s), nd_mul(nd_unsqueeze(f->s, 1), nd__mT(dp)));
    nd_tensor *du = nd_matmul(f->u, nd_mul(svd_f(e), sym));
    if (tall) { /* + (I − UUᵀ) dA V S⁻¹ */
        nd_tensor *x = nd_div(nd_matmul(tin[0], nd__mT(f->vt)), f->s);
        du = nd_add(du, nd_sub(x, nd_matmul(f->u, nd_matmul(nd__mT(f->u), x))));
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
    nd_tensor *sym = nd_add(nd_mul(nd_unsqueeze(f->s, 1), dp), nd_mul(nd__mT(dp), f->s));
    nd_tensor *dv = nd_matmul(nd__mT(f->vt), nd_mul(svd_f(e), sym));
    if (wide) { /* + (I − VVᵀ) dAᵀ U S⁻¹ */
        nd_tensor *x = nd_div(nd_matmul(nd__mT(tin[0]), f->u), f->s);
        dv = nd_add(dv, nd_sub(x, nd_matmul(nd__mT(f->vt), nd_matmul(f->vt, x))));
    }
    return nd__mT(dv);
}
static const nd_op SVD_U = {
    .name = "svd_u",
    .vjp = svd_u_vjp,
    .jvp = svd_u_jvp,
    .flags = 0,
    .vjp_formula = "through U, S, Vᵀ (Townsend's formula)",
    .jvp_formula = "dU from U·(F ∘ (Uᵀ·da·V·S + S·Vᵀ·daᵀ·U))",
};
static const nd_op SVD_S = {
    .name = "svd_s",
    .vjp = svd_s_vjp,
    .jvp = svd_s_jvp,
    .flags = 0,
    .vjp_formula = "U·diag(g)·Vᵀ",
    .jvp_formula = "diag(Uᵀ·da·V)",
};
static const nd_op SVD_VT = {
    .name = "svd_vt",
    .vjp = svd_vt_vjp,
    .jvp = svd_vt_jvp,
    .flags = 0,
    .vjp_formula = "through U, S, Vᵀ (Townsend's formula)",
    .jvp_formula = "dVᵀ from (F ∘ (S·Uᵀ·da·V + Vᵀ·daᵀ·U·S))·Vᵀ",
};

/* Records one output of svd with its own copy of the factors. */
static nd_tensor *svd_record(const nd_op *op, nd_tensor *out, nd_tensor *a, nd_tensor *u,
                             nd_tensor *s, nd_tensor *vt) {
    if (!nd__needs_record(1, &a)) return out;
    svd_saved *sv = malloc(sizeof *sv);
    if (!sv) return nd__fail_as(ND_ERR_NOMEM, "nd_svd: out of memory");
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
    nd_tensor *mc = nd__lapack_transposed_copy("nd_svd", m);
    nd_tensor *uc = nd__empty(dt, 2, (int64_t[]){k, rows});  /* U, column-major */
    nd_tensor *vtc = nd__empty(dt, 2, (int64_t[]){cols, k}); /* Vᵀ, column-major */
    lapack_int *iwork = malloc(8 * (size_t)k * sizeof *iwork);
    if (!mc || !uc || !vtc || !iwork) {
        free(iwork);
        if (mc && uc && vtc) nd__set_error_as(ND_ERR_NOMEM, "nd_svd: out of memory");
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
    void *work =
        info ? NULL : nd__lapack_workspace("nd_svd", dt, dt == ND_F32 ? query_f : query, &lwork);
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
    *u = nd__lapack_transposed_copy("nd_svd", uc);
    *vt = nd__lapack_transposed_copy("nd_svd", vtc);
    return *u && *vt ? 0 : LAPACK_WORK_MEMORY_ERROR;
}

int nd_svd(nd_tensor *a, nd_tensor **u, nd_tensor **s, nd_tensor **vt) {
    ND_CHECK_INT("nd_svd", a);
    nd_tensor *m = nd__lapack_copy("nd_svd", a, false);
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
    if (info > 0)
        return nd__fail_int_as(ND_ERR_NUMERIC, "nd_svd: the algorithm failed to converge (info %d)",
                               info);
    if (info < 0)
        return nd__fail_int_as(ND_ERR_EXTERNAL, "nd_svd: LAPACK rejected argument %d", (int)-info);
    nd_tensor *ru = u ? svd_record(&SVD_U, uu, a, uu, ss, vv) : uu;
    nd_tensor *rs = s ? svd_record(&SVD_S, ss, a, uu, ss, vv) : ss;
    nd_tensor *rvt = vt ? svd_record(&SVD_VT, vv, a, uu, ss, vv) : vv;
    if (!ru || !rs || !rvt) return -1;
    if (u) *u = ru;
    if (s) *s = rs;
    if (vt) *vt = rvt;
    return 0;
}
