/* Functional transforms: jvp, vjp, Jacobians in both modes and layouts (the
 * course's shape table and its 9-dimensional exercise), Hessians, gradcheck of
 * every differentiable op in both modes, and the graph in DOT. */
#include "support.h"

#include <stdlib.h>

/* f(X) = tanh(A·vec(X)) reshaped to out_shape: every output depends on every input. */
typedef struct {
    int out_ndim;
    int64_t out_shape[8];
} shape_ctx;

static nd_tensor *dense_map(nd_tensor *x, void *ctx) {
    shape_ctx *c = ctx;
    int64_t m = 1;
    for (int i = 0; i < c->out_ndim; i++) m *= c->out_shape[i];
    int64_t n = nd_numel(x);
    nd_manual_seed(7); /* the same A on every call */
    nd_tensor *a = nd_to(nd_randn(ND_F64, ND_SHAPE(m, n)), nd_type(x));
    nd_tensor *flat = nd_reshape(x, ND_SHAPE(n));
    return nd_reshape(nd_tanh(nd_mv(a, flat)), c->out_ndim, c->out_shape);
}

static void check_layouts(int ny, const int64_t *yshape, int nx, const int64_t *xshape) {
    shape_ctx c = {.out_ndim = ny};
    memcpy(c.out_shape, yshape, sizeof(int64_t) * (size_t)ny);
    nd_tensor *x = nd_randn(ND_F64, nx, xshape);
    nd_tensor *rev = nd_jacobian(dense_map, &c, x, ND_REVERSE, ND_LAYOUT_TENSOR);
    nd_tensor *fwd = nd_jacobian(dense_map, &c, x, ND_FORWARD, ND_LAYOUT_TENSOR);
    nd_tensor *num = nd_jacobian(dense_map, &c, x, ND_REVERSE, ND_LAYOUT_NUMERATOR);
    cr_assert(rev && fwd && num, "%s", nd_last_error());
    int64_t tensor_shape[16], numerator_shape[16];
    for (int i = 0; i < ny; i++) tensor_shape[i] = numerator_shape[i] = yshape[i];
    for (int i = 0; i < nx; i++) {
        tensor_shape[ny + i] = xshape[i];
        numerator_shape[ny + i] = xshape[nx - 1 - i]; /* x's dims reversed */
    }
    assert_shape(rev, ny + nx, tensor_shape);
    assert_shape(num, ny + nx, numerator_shape);
    assert_close(fwd, rev, 1e-10, 1e-12);
    /* the numerator layout is the tensor layout with x's dims reversed */
    int perm[16];
    for (int i = 0; i < ny; i++) perm[i] = i;
    for (int i = 0; i < nx; i++) perm[ny + i] = ny + nx - 1 - i;
    assert_close(num, nd_permute(rev, ny + nx, perm), 0, 0);
}

ND_TEST(jacobian, course_shape_table) {
    /* rows y: (1,) scalar, (m, 1), (m, l); columns x: (1,), (n, 1), (n, k) */
    int64_t m = 3, l = 2, n = 4, k = 2;
    const int64_t ys[3][2] = {{1, 0}, {m, 1}, {m, l}};
    const int yn[3] = {1, 2, 2};
    const int64_t xs[3][2] = {{1, 0}, {n, 1}, {n, k}};
    const int xn[3] = {1, 2, 2};
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) check_layouts(yn[r], ys[r], xn[c], xs[c]);
    /* y:(m,1), X:(n,k) gives (m, 1, k, n): the course's (m, k, n) with y's column kept */
    shape_ctx ctx = {.out_ndim = 1, .out_shape = {m}};
    nd_tensor *j = nd_jacobian(dense_map, &ctx, nd_randn(ND_F64, ND_SHAPE(n, k)), ND_FORWARD,
                               ND_LAYOUT_NUMERATOR);
    assert_shape(j, ND_SHAPE(m, k, n));
}

ND_TEST(jacobian, nine_dimensional_exercise) {
    /* Y (a, b, c, d), X (h, i, j, k, l) -> (a, b, c, d, l, k, j, i, h) */
    check_layouts(4, (int64_t[]){2, 1, 2, 1}, 5, (int64_t[]){1, 2, 1, 3, 2});
}

static nd_tensor *two_layer(nd_tensor *x, void *ctx) {
    nd_tensor **w = ctx;
    return nd_tanh(nd_mv(w[1], nd_tanh(nd_mv(w[0], x))));
}

ND_TEST(jacobian, jvp_and_vjp_agree_with_the_matrix) {
    nd_tensor *w[2] = {nd_randn(ND_F64, ND_SHAPE(5, 4)), nd_randn(ND_F64, ND_SHAPE(3, 5))};
    nd_tensor *x = nd_randn(ND_F64, ND_SHAPE(4));
    nd_tensor *jac = nd_jacobian(two_layer, w, x, ND_REVERSE, ND_LAYOUT_TENSOR);
    nd_tensor *v = nd_randn(ND_F64, ND_SHAPE(4)), *u = nd_randn(ND_F64, ND_SHAPE(3));
    nd_tensor *fx = NULL;
    nd_tensor *jv = nd_jvp(two_layer, w, x, v, &fx);
    assert_close(jv, nd_mv(jac, v), 1e-10, 1e-12);
    assert_close(fx, two_layer(x, w), 0, 0);
    assert_close(nd_vjp(two_layer, w, x, u, NULL), nd_mv(nd_t(jac), u), 1e-10, 1e-12);
    cr_assert_null(nd_vjp(two_layer, w, x, nd_ones(ND_F64, ND_SHAPE(2)), NULL));
    assert_error("does not match");
}

static nd_tensor *quadratic(nd_tensor *x, void *ctx) {
    nd_tensor *a = ctx; /* f = xᵀ A x: Hessian A + Aᵀ */
    return nd_dot(x, nd_mv(a, x));
}

ND_TEST(jacobian, hessian_of_quadratic_form) {
    nd_tensor *a = nd_randn(ND_F64, ND_SHAPE(3, 3));
    nd_tensor *h = nd_hessian(quadratic, a, nd_randn(ND_F64, ND_SHAPE(3)));
    assert_close(h, nd_add(a, nd_t(a)), 1e-12, 1e-12);
}

static nd_tensor *failing(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_add(x, nd_ones(ND_F64, ND_SHAPE(7))); /* does not broadcast */
}
static nd_tensor *to_int(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_to(x, ND_I64);
}

ND_TEST(jacobian, errors) {
    nd_tensor *x = nd_ones(ND_F64, ND_SHAPE(3));
    cr_assert_null(nd_jacobian(failing, NULL, x, ND_REVERSE, ND_LAYOUT_TENSOR));
    assert_error("broadcast"); /* the function's own error is kept */
    cr_assert_null(
        nd_jacobian(failing, NULL, nd_ones(ND_I64, ND_SHAPE(3)), ND_FORWARD, ND_LAYOUT_TENSOR));
    assert_error("floating point");
    cr_assert_null(nd_jacobian(to_int, NULL, x, ND_REVERSE, ND_LAYOUT_TENSOR));
    assert_error("floating point");
    cr_assert_null(nd_jacobian(NULL, NULL, x, ND_REVERSE, ND_LAYOUT_TENSOR));
    assert_error("NULL function");
    cr_assert_null(nd_hessian(dense_map, &(shape_ctx){.out_ndim = 1, .out_shape = {2}}, x));
    assert_error("one-element");
}

/* ------------------------------------------- gradcheck of every op */

typedef nd_tensor *(*unary_fn)(nd_tensor *);
typedef struct {
    const char *name;
    unary_fn f;
    double lo, hi; /* input range keeping away from kinks and poles */
} unary_case;

static nd_tensor *leaky(nd_tensor *x) {
    return nd_leaky_relu(x, 0.1);
}
static nd_tensor *clamp_mid(nd_tensor *x) {
    return nd_clamp(x, -0.5, 0.5);
}
static nd_tensor *pow3(nd_tensor *x) {
    return nd_pow_scalar(x, 3);
}
static nd_tensor *sum0(nd_tensor *x) {
    return nd_sum(x, 0, false);
}
static nd_tensor *mean1(nd_tensor *x) {
    return nd_mean(x, -1, true);
}
static nd_tensor *max1(nd_tensor *x) {
    return nd_max(x, 1, false);
}
static nd_tensor *lse(nd_tensor *x) {
    return nd_logsumexp(x, 1, false);
}
static nd_tensor *smax(nd_tensor *x) {
    return nd_softmax(x, 1);
}
static nd_tensor *lsmax(nd_tensor *x) {
    return nd_log_softmax(x, 0);
}
static nd_tensor *csum(nd_tensor *x) {
    return nd_cumsum(x, 1);
}
static nd_tensor *norm2(nd_tensor *x) {
    return nd_norm(x, 2);
}
static nd_tensor *var0(nd_tensor *x) {
    return nd_var(x, 0, false);
}
static nd_tensor *tr(nd_tensor *x) {
    return nd_transpose(x, 0, 1);
}
static nd_tensor *sl(nd_tensor *x) {
    return nd_slice(x, 1, 3, 0, -2);
}
static nd_tensor *sel(nd_tensor *x) {
    return nd_select(x, 0, -1);
}
static nd_tensor *resh(nd_tensor *x) {
    return nd_reshape(x, ND_SHAPE(4, 3));
}
static nd_tensor *expd(nd_tensor *x) {
    return nd_expand(nd_unsqueeze(x, 0), ND_SHAPE(2, 3, 4));
}
static nd_tensor *catself(nd_tensor *x) {
    return nd_cat(2, (nd_tensor *[]){x, nd_exp(x)}, 1);
}
static nd_tensor *stackself(nd_tensor *x) {
    return nd_stack(2, (nd_tensor *[]){x, x}, -1);
}
static nd_tensor *gram(nd_tensor *x) {
    return nd_matmul(x, nd_t(x));
}

static const unary_case unary_cases[] = {
    {"neg", nd_neg, -2, 2},
    {"abs", nd_abs, 0.2, 2},
    {"exp", nd_exp, -2, 2},
    {"log", nd_log, 0.5, 3},
    {"sqrt", nd_sqrt, 0.5, 3},
    {"square", nd_square, -2, 2},
    {"sin", nd_sin, -2, 2},
    {"cos", nd_cos, -2, 2},
    {"tanh", nd_tanh, -2, 2},
    {"sigmoid", nd_sigmoid, -3, 3},
    {"relu", nd_relu, 0.2, 2},
    {"softplus", nd_softplus, -3, 3},
    {"gelu", nd_gelu, -2, 2},
    {"leaky_relu", leaky, -2, -0.2},
    {"clamp", clamp_mid, -0.4, 0.4},
    {"cosh", nd_cosh, -2, 2},
    {"erf", nd_erf, -2, 2},
    {"pow_scalar", pow3, -2, 2},
    {"sum", sum0, -2, 2},
    {"mean", mean1, -2, 2},
    {"max", max1, -2, 2},
    {"logsumexp", lse, -2, 2},
    {"softmax", smax, -2, 2},
    {"log_softmax", lsmax, -2, 2},
    {"cumsum", csum, -2, 2},
    {"norm", norm2, 0.5, 2},
    {"var", var0, -2, 2},
    {"transpose", tr, -2, 2},
    {"slice", sl, -2, 2},
    {"select", sel, -2, 2},
    {"reshape", resh, -2, 2},
    {"expand", expd, -2, 2},
    {"cat", catself, -2, 2},
    {"stack", stackself, -2, 2},
    {"matmul", gram, -2, 2},
};

static nd_tensor *apply_unary(nd_tensor *x, void *ctx) {
    return ((const unary_case *)ctx)->f(x);
}

/* inputs of shape (3, 4): values spread over [lo, hi], distinct (no ties for max) */
static nd_tensor *spread(double lo, double hi) {
    nd_tensor *t = nd_linspace(lo, hi, 12, ND_F64);
    nd_tensor *perm = nd_parse("[5, 0, 9, 2, 11, 7, 1, 10, 4, 8, 3, 6]");
    return nd_reshape(nd_index_select(t, 0, perm), ND_SHAPE(3, 4));
}

ND_TEST(gradcheck, every_unary_op_both_modes) {
    for (size_t i = 0; i < sizeof unary_cases / sizeof unary_cases[0]; i++) {
        const unary_case *c = &unary_cases[i];
        nd_tensor *x = spread(c->lo, c->hi);
        cr_assert_eq(nd_gradcheck(apply_unary, (void *)c, x, 1e-6, 1e-7, 1e-5), 0, "%s: %s",
                     c->name, nd_last_error());
        /* the same op on a non-contiguous view */
        nd_tensor *xt = nd_t(nd_contiguous(nd_t(x)));
        cr_assert(!nd_is_contiguous(xt) || nd_numel(xt) == 1);
        cr_assert_eq(nd_gradcheck(apply_unary, (void *)c, xt, 1e-6, 1e-7, 1e-5), 0,
                     "%s (strided): %s", c->name, nd_last_error());
    }
}

typedef nd_tensor *(*binary_fn)(nd_tensor *, nd_tensor *);
typedef struct {
    const char *name;
    binary_fn f;
    nd_tensor *other;
    bool other_first;
} binary_case;

static nd_tensor *apply_binary(nd_tensor *x, void *ctx) {
    const binary_case *c = ctx;
    return c->other_first ? c->f(c->other, x) : c->f(x, c->other);
}

ND_TEST(gradcheck, every_binary_op_broadcast_both_sides) {
    binary_fn fs[] = {nd_add, nd_sub, nd_mul, nd_div, nd_pow, nd_maximum, nd_minimum};
    const char *names[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum"};
    nd_tensor *x = nd_add_scalar(nd_rand(ND_F64, ND_SHAPE(3, 1)), 0.5);     /* positive for pow */
    nd_tensor *other = nd_add_scalar(nd_rand(ND_F64, ND_SHAPE(1, 4)), 1.6); /* no ties */
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        for (int side = 0; side < 2; side++) {
            binary_case c = {names[i], fs[i], other, side == 1};
            cr_assert_eq(nd_gradcheck(apply_binary, &c, x, 1e-6, 1e-7, 1e-5), 0, "%s: %s", names[i],
                         nd_last_error());
        }
}

ND_TEST(gradcheck, second_derivatives_of_elementwise_ops) {
    for (size_t i = 0; i < 18; i++) { /* the elementwise cases */
        const unary_case *c = &unary_cases[i];
        nd_tensor *x = nd_set_requires_grad(spread(c->lo, c->hi), true);
        nd_tensor *g = nd_gradient(nd_sum(c->f(x), ND_ALL, false), x, true);
        cr_assert(g, "%s: %s", c->name, nd_last_error());
        /* d/dx of Σ g(x) where g = f' elementwise: f'' by reverse over reverse */
        nd_tensor *h = nd_gradient(nd_sum(g, ND_ALL, false), x, false);
        cr_assert(h, "%s: %s", c->name, nd_last_error());
        /* compare with central differences of f' */
        double eps = 1e-5;
        nd_tensor *xp = nd_set_requires_grad(nd_add_scalar(nd_detach(x), eps), true);
        nd_tensor *xm = nd_set_requires_grad(nd_add_scalar(nd_detach(x), -eps), true);
        nd_tensor *gp = nd_gradient(nd_sum(c->f(xp), ND_ALL, false), xp, false);
        nd_tensor *gm = nd_gradient(nd_sum(c->f(xm), ND_ALL, false), xm, false);
        nd_tensor *numeric = nd_div_scalar(nd_sub(gp, gm), 2 * eps);
        assert_close(h, numeric, 1e-4, 1e-6);
    }
}

static nd_tensor *broken(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_mul(x, nd_detach(x)); /* true derivative 2x, AD sees x */
}

ND_TEST(gradcheck, catches_a_wrong_gradient) {
    nd_tensor *x = nd_parse("[1.0, 2.0, 3.0]");
    cr_assert_eq(nd_gradcheck(broken, NULL, x, 1e-6, 1e-7, 1e-5), -1);
    assert_error("reverse mode differs from central differences at output 2, input 2");
}

ND_TEST(graph, course_graph_in_dot) {
    nd_tensor *x = nd_set_name(nd_parse("[1.0, 2.0, 3.0]"), "x");
    nd_tensor *w = nd_set_name(nd_set_requires_grad(nd_parse("[0.5, -1.0, 2.0]"), true), "w");
    nd_tensor *y = nd_set_name(nd_scalar(1, ND_F32), "y");
    nd_tensor *a = nd_set_name(nd_dot(x, w), "a");
    nd_tensor *b = nd_set_name(nd_sub(a, y), "b");
    nd_tensor *z = nd_set_name(nd_pow_scalar(b, 2), "z");
    char *dot = nd_graph_dot(z);
    cr_assert(dot);
    cr_assert(strstr(dot, "digraph"));
    cr_assert(strstr(dot, "a = dot"), "%s", dot);
    cr_assert(strstr(dot, "b = sub"), "%s", dot);
    cr_assert(strstr(dot, "z = pow"), "%s", dot);
    cr_assert(strstr(dot, "w\\n(3,)\\nrequires grad"), "%s", dot);
    cr_assert(strstr(dot, "x\\n(3,)\\nno grad"), "%s", dot);
    free(dot);
    cr_assert_null(nd_graph_dot(NULL));
}
