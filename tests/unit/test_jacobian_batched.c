/* nd_jacobian's batched pass (one pass carrying every seed, as torch's
 * vectorize=True): for maps that take it and maps that must fall back, in both
 * modes and both layouts, the Jacobian equals the one built seed by seed (rows
 * by nd_vjp, columns by nd_jvp) and torch's; the internal counter shows which
 * path ran. Goldens: tests/reference/jacobian_batched.py. */
#include "core/internal.h"
#include "support.h"

/* Checks nd_jacobian of f at x in both modes and both layouts against the seed
 * by seed matrix (and against torch's when golden is given); `batched` says
 * whether the one-pass path must have been taken. */
static void check(nd_fn f, void *ctx, nd_tensor *x, nd_tensor *golden_jac, bool batched) {
    nd_tensor *y = f(x, ctx);
    cr_assert(y, "%s", nd_last_error());
    int ny = nd_ndim(y), nx = nd_ndim(x), nd = ny + nx;
    int64_t tensor_shape[ND_MAX_DIMS];
    memcpy(tensor_shape, nd_shape(y), sizeof(int64_t) * (size_t)ny);
    memcpy(tensor_shape + ny, nd_shape(x), sizeof(int64_t) * (size_t)nx);
    int perm[ND_MAX_DIMS]; /* the numerator layout is x's dims reversed */
    for (int i = 0; i < ny; i++) perm[i] = i;
    for (int i = 0; i < nx; i++) perm[ny + i] = nd - 1 - i;
    nd_ad_mode modes[2] = {ND_REVERSE, ND_FORWARD};
    for (int k = 0; k < 2; k++) {
        const char *name = modes[k] == ND_REVERSE ? "reverse" : "forward";
        uint64_t before = nd__batched_jacobians();
        nd_tensor *jac = nd_jacobian(f, ctx, x, modes[k], ND_LAYOUT_TENSOR);
        cr_assert(jac, "%s: %s", name, nd_last_error());
        cr_assert_eq(nd__batched_jacobians() - before, batched ? 1u : 0u, "%s: path", name);
        assert_shape(jac, nd, tensor_shape);
        nd_tensor *rows = jacobian_seed_by_seed(f, ctx, x, modes[k]);
        assert_close(nd_reshape(jac, ND_SHAPE(nd_numel(y), nd_numel(x))), rows, 1e-12, 1e-12);
        if (golden_jac) assert_close(jac, golden_jac, 1e-10, 1e-12);
        nd_tensor *num = nd_jacobian(f, ctx, x, modes[k], ND_LAYOUT_NUMERATOR);
        cr_assert(num, "%s: %s", name, nd_last_error());
        assert_close(num, nd_permute(jac, nd, perm), 0, 0);
    }
}

/* ------------------------------------------------------------- the maps */

static nd_tensor *two_layer(nd_tensor *x, void *ctx) {
    nd_tensor **w = ctx;
    return nd_tanh(nd_mv(w[1], nd_tanh(nd_mv(w[0], x))));
}

/* X (2, 3) against the constant C (6, 1, 3): see tests/reference/jacobian_batched.py. */
static nd_tensor *chain(nd_tensor *v, void *ctx) {
    nd_tensor *c = ctx;
    nd_tensor *t = nd_add_scalar(nd_mul(c, v), 0.5);
    nd_tensor *y = nd_sub(nd_div(nd_tanh(t), nd_add_scalar(nd_mul(v, v), 1)),
                          nd_pow(nd_add_scalar(nd_abs(v), 1), nd_mul_scalar(c, 0.1)));
    y = nd_add(y, nd_mul(nd_maximum(v, nd_sub_scalar(c, 1.2)), nd_sigmoid(v)));
    y = nd_add(y, nd_relu(nd_sub_scalar(t, 0.9)));
    y = nd_add(y, nd_log(nd_add_scalar(nd_exp(v), 1)));
    return nd_sub(y, nd_pow_scalar(nd_clamp(v, -0.5, 0.5), 2));
}

static nd_tensor *with_sum(nd_tensor *v, void *ctx) {
    (void)ctx;
    return nd_mul(nd_tanh(v), nd_sum(v, ND_ALL, false));
}

ND_TEST(jacobian_batched, two_layer_map_in_one_pass) {
    nd_tensor *w[2] = {golden("jacobian_batched_w1.npy"), golden("jacobian_batched_w2.npy")};
    check(two_layer, w, golden("jacobian_batched_x.npy"), golden("jacobian_batched_two_layer.npy"),
          true);
}

ND_TEST(jacobian_batched, elementwise_chain_broadcast_against_a_constant) {
    check(chain, golden("jacobian_batched_c.npy"), golden("jacobian_batched_chain_x.npy"),
          golden("jacobian_batched_chain.npy"), true);
}

ND_TEST(jacobian_batched, reduction_falls_back_seed_by_seed) {
    check(with_sum, NULL, golden("jacobian_batched_sum_x.npy"),
          golden("jacobian_batched_with_sum.npy"), false);
}

/* ------------------------------------------------- matrix products */

typedef struct {
    nd_tensor *other;
    bool other_first;
    bool use_dot;
} product_ctx;

static nd_tensor *product(nd_tensor *x, void *ctx) {
    product_ctx *c = ctx;
    nd_tensor *a = c->other_first ? c->other : x, *b = c->other_first ? x : c->other;
    nd_tensor *p = c->use_dot ? nd_mul(nd_dot(a, b), x) : nd_matmul(a, b);
    return nd_sin(p); /* something after the product, so its gradient is not the seed */
}

ND_TEST(jacobian_batched, every_matmul_case) {
    nd_manual_seed(3);
    /* x's shape, the other operand's, which side x is on, whether batched */
    struct {
        int nx, no;
        int64_t sx[3], so[3];
        bool other_first, batched;
    } cases[] = {
        {1, 2, {3}, {4, 3}, true, true},           /* A·x (mv) */
        {1, 2, {4}, {4, 3}, false, true},          /* x·A */
        {2, 2, {3, 2}, {4, 3}, true, true},        /* A·X */
        {2, 2, {2, 3}, {3, 5}, false, true},       /* X·B */
        {2, 3, {2, 3}, {4, 3, 5}, false, true},    /* X against batched B */
        {3, 2, {2, 4, 3}, {3, 2}, false, true},    /* batched X against B */
        {3, 3, {2, 2, 3}, {2, 3, 4}, false, true}, /* both batched */
        {1, 3, {3}, {2, 3, 4}, false, true},       /* 1-D x with batched B */
        {3, 1, {2, 4, 3}, {3}, false, true},       /* batched X with 1-D b */
        {1, 3, {3}, {2, 4, 3}, true, true},        /* batched A with 1-D x */
        {3, 1, {2, 3, 4}, {3}, true, true},        /* 1-D a with batched X */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        product_ctx c = {nd_randn(ND_F64, cases[i].no, cases[i].so), cases[i].other_first, false};
        nd_tensor *x = nd_randn(ND_F64, cases[i].nx, cases[i].sx);
        check(product, &c, x, NULL, cases[i].batched);
    }
    /* dot of two vectors, times x */
    product_ctx c = {nd_randn(ND_F64, ND_SHAPE(4)), false, true};
    check(product, &c, nd_randn(ND_F64, ND_SHAPE(4)), NULL, true);
}

/* --------------------------------------------------------- edge cases */

static nd_tensor *identity(nd_tensor *x, void *ctx) {
    (void)ctx;
    return x;
}
static nd_tensor *constant(nd_tensor *x, void *ctx) {
    (void)x, (void)ctx;
    return nd_ones(ND_F64, ND_SHAPE(2, 2));
}
static nd_tensor *signs(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_add(nd_sign(x), nd_mul_scalar(x, 3)); /* sign's tangent is a zeros_like */
}

ND_TEST(jacobian_batched, identity_constant_scalar_and_zero_tangent) {
    nd_tensor *x = nd_randn(ND_F64, ND_SHAPE(2, 3));
    check(identity, NULL, x, nd_reshape(nd_eye(6, ND_F64), ND_SHAPE(2, 3, 2, 3)), true);
    check(constant, NULL, x, nd_zeros(ND_F64, ND_SHAPE(2, 2, 2, 3)), true);
    check(signs, NULL, x, nd_mul_scalar(nd_reshape(nd_eye(6, ND_F64), ND_SHAPE(2, 3, 2, 3)), 3),
          true);
    nd_tensor *s = nd_scalar(0.3, ND_F64); /* a 0-d x and a 0-d f(x): a 0-d Jacobian */
    check(signs, NULL, s, nd_scalar(3, ND_F64), true);
}

ND_TEST(jacobian_batched, float32_map_keeps_its_dtype) {
    nd_tensor *w[2] = {nd_to(golden("jacobian_batched_w1.npy"), ND_F32),
                       nd_to(golden("jacobian_batched_w2.npy"), ND_F32)};
    nd_tensor *x = nd_to(golden("jacobian_batched_x.npy"), ND_F32);
    for (int k = 0; k < 2; k++) {
        nd_tensor *jac =
            nd_jacobian(two_layer, w, x, k ? ND_FORWARD : ND_REVERSE, ND_LAYOUT_TENSOR);
        cr_assert(jac, "%s", nd_last_error());
        cr_assert_eq(nd_type(jac), ND_F32);
        assert_close(jac, nd_to(golden("jacobian_batched_two_layer.npy"), ND_F32), 1e-4, 1e-5);
    }
}

static nd_tensor *failing(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_add(nd_tanh(x), nd_ones(ND_F64, ND_SHAPE(7))); /* does not broadcast */
}
/* Works on the first call (the batched try, which the sum refuses), then fails
 * in the seed-by-seed fall back. */
static int late_calls;
static nd_tensor *failing_late(nd_tensor *x, void *ctx) {
    (void)ctx;
    return late_calls++ == 0 ? nd_mul(x, nd_sum(x, ND_ALL, false)) : NULL;
}

ND_TEST(jacobian_batched, errors_of_the_function_are_kept) {
    nd_tensor *x = nd_ones(ND_F64, ND_SHAPE(3));
    for (int k = 0; k < 2; k++) {
        nd_ad_mode mode = k ? ND_FORWARD : ND_REVERSE;
        uint64_t before = nd__batched_jacobians();
        cr_assert_null(nd_jacobian(failing, NULL, x, mode, ND_LAYOUT_TENSOR));
        assert_error("broadcast");
        cr_assert_eq(nd__batched_jacobians(), before);
    }
    /* a fall back whose later call fails reports it */
    late_calls = 0;
    cr_assert_null(nd_jacobian(failing_late, NULL, nd_ones(ND_F64, ND_SHAPE(2, 2, 2)), ND_FORWARD,
                               ND_LAYOUT_TENSOR));
    assert_error("returned NULL");
    /* outside a batched pass a batch of tangents is refused, as before */
    cr_assert_null(nd_make_dual(x, nd_ones(ND_F64, ND_SHAPE(3, 3))));
    assert_error("does not match");
    cr_assert_null(nd_vjp(identity, NULL, x, nd_ones(ND_F64, ND_SHAPE(3, 3)), NULL));
    assert_error("does not match");
}
