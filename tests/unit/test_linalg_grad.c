/* Gradients of the linear-algebra ops: both AD modes against central
 * differences in f64 (nd_gradcheck), PyTorch's gradients for matmul's shape
 * cases, and a second derivative. */
#include "support.h"

static nd_tensor *g(const char *name) {
    char path[128];
    snprintf(path, sizeof path, "linalg_%s.npy", name);
    return golden(path);
}

#define GRADCHECK(f, ctx, x)                                                                       \
    cr_assert_eq(nd_gradcheck((f), (ctx), (x), 1e-6, 1e-6, 1e-5), 0, "%s", nd_last_error())

typedef nd_tensor *(*binary_fn)(nd_tensor *, nd_tensor *);
typedef struct {
    binary_fn op;
    nd_tensor *other;
} with_other;

static nd_tensor *as_left(nd_tensor *x, void *ctx) {
    with_other *w = ctx;
    return w->op(x, w->other);
}
static nd_tensor *as_right(nd_tensor *x, void *ctx) {
    with_other *w = ctx;
    return w->op(w->other, x);
}

static void check_both_sides(binary_fn op, nd_tensor *a, nd_tensor *b) {
    GRADCHECK(as_left, (&(with_other){op, b}), a);
    GRADCHECK(as_right, (&(with_other){op, a}), b);
}

static const char *const CASES[] = {"vv",  "mv",  "vm",   "mm",   "bmv",
                                    "vbm", "bmm", "bm_m", "m_bm", "bcast"};

static nd_tensor *case_tensor(const char *name, const char *what) {
    char full[64];
    snprintf(full, sizeof full, "matmul_%s_%s", name, what);
    return g(full);
}

ND_TEST(linalg_grad, matmul_every_shape_both_modes) {
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
        check_both_sides(nd_matmul, case_tensor(CASES[i], "a"), case_tensor(CASES[i], "b"));
}

ND_TEST(linalg_grad, matmul_matches_torch_with_broadcast_batches) {
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        nd_tensor *a = nd_set_requires_grad(nd_clone(case_tensor(CASES[i], "a")), true);
        nd_tensor *b = nd_set_requires_grad(nd_clone(case_tensor(CASES[i], "b")), true);
        nd_tensor *loss =
            nd_sum(nd_mul(nd_matmul(a, b), case_tensor(CASES[i], "w")), ND_ALL, false);
        cr_assert_eq(nd_backward(loss), 0, "%s: %s", CASES[i], nd_last_error());
        assert_close(nd_grad(a), case_tensor(CASES[i], "ga"), 1e-10, 1e-12);
        assert_close(nd_grad(b), case_tensor(CASES[i], "gb"), 1e-10, 1e-12);
    }
}

ND_TEST(linalg_grad, dot_mv_mm_outer) {
    nd_tensor *a = g("matmul_mm_a"), *b = g("matmul_mm_b"), *x = g("matmul_vv_a");
    check_both_sides(nd_dot, x, g("matmul_vv_b"));
    check_both_sides(nd_mv, nd_t(b), x); /* (4, 3)·(3,) */
    check_both_sides(nd_mm, a, b);
    check_both_sides(nd_outer, x, nd_select(b, 0, 1));
    /* f32 results record too (the rules run in the input's dtype). */
    nd_tensor *a32 = nd_set_requires_grad(nd_to(a, ND_F32), true);
    cr_assert_eq(nd_backward(nd_sum(nd_mm(a32, nd_to(b, ND_F32)), ND_ALL, false)), 0);
    assert_close(nd_grad(a32), nd_expand(nd_t(nd_sum(nd_to(b, ND_F32), 1, true)), ND_SHAPE(2, 3)),
                 1e-5, 1e-5);
    cr_assert_str_eq(nd_grad_fn_name(nd_mm(a32, nd_to(b, ND_F32))), "mm");
}

static nd_tensor *inv_fn(nd_tensor *x, void *ctx) {
    return (void)ctx, nd_inv(x);
}
static nd_tensor *det_fn(nd_tensor *x, void *ctx) {
    return (void)ctx, nd_det(x);
}

ND_TEST(linalg_grad, inv_det_solve) {
    nd_tensor *m = g("m");
    GRADCHECK(inv_fn, NULL, m);
    GRADCHECK(det_fn, NULL, m);
    check_both_sides(nd_solve, m, g("rhs_v"));
    check_both_sides(nd_solve, m, g("rhs_m"));
    /* torch's gradient of det. */
    nd_tensor *leaf = nd_set_requires_grad(nd_clone(m), true);
    cr_assert_eq(nd_backward(nd_det(leaf)), 0);
    assert_close(nd_grad(leaf), g("det_grad"), 1e-10, 1e-10);
}

/* eigh reads one triangle, so it is differentiated as a function of a
 * symmetric matrix: f(X) = eigh((X + Xᵀ)/2). */
static nd_tensor *symmetric(nd_tensor *x) {
    return nd_mul_scalar(nd_add(x, nd_t(x)), 0.5);
}
static nd_tensor *eigh_values_fn(nd_tensor *x, void *ctx) {
    (void)ctx;
    nd_tensor *w = NULL;
    return nd_eigh(symmetric(x), &w, NULL) ? NULL : w;
}
static nd_tensor *eigh_vectors_fn(nd_tensor *x, void *ctx) {
    (void)ctx;
    nd_tensor *v = NULL;
    return nd_eigh(symmetric(x), NULL, &v) ? NULL : v;
}
static nd_tensor *eigh_both_fn(nd_tensor *x, void *ctx) {
    (void)ctx;
    nd_tensor *w = NULL, *v = NULL;
    if (nd_eigh(symmetric(x), &w, &v)) return NULL;
    return nd_add(nd_sum(nd_mul(w, w), ND_ALL, false), nd_sum(nd_mul(v, v), 0, false));
}

ND_TEST(linalg_grad, eigh_distinct_values) {
    nd_tensor *s = g("sym");
    GRADCHECK(eigh_values_fn, NULL, s);
    GRADCHECK(eigh_vectors_fn, NULL, s);
    GRADCHECK(eigh_both_fn, NULL, s);
}

/* f(x) = xᵀAx has Hessian A + Aᵀ: a second derivative through mv and dot. */
static nd_tensor *quadratic_form(nd_tensor *x, void *ctx) {
    return nd_dot(x, nd_mv(ctx, x));
}

ND_TEST(linalg_grad, second_derivative_of_a_quadratic_form) {
    nd_tensor *a = g("m"), *x = g("rhs_v");
    nd_tensor *h = nd_hessian(quadratic_form, a, x);
    assert_close(h, nd_add(a, nd_t(a)), 1e-10, 1e-12);
    /* The same through nd_gradient with create_graph, by hand. */
    nd_tensor *leaf = nd_set_requires_grad(nd_clone(x), true);
    nd_tensor *grad = nd_gradient(quadratic_form(leaf, a), leaf, true);
    assert_close(grad, nd_mv(nd_add(a, nd_t(a)), x), 1e-10, 1e-12);
    nd_tensor *second = nd_gradient(nd_select(grad, 0, 2), leaf, false);
    assert_close(second, nd_select(nd_add(a, nd_t(a)), 0, 2), 1e-10, 1e-12);
}
