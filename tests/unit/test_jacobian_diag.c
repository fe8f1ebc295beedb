/* The batching transform's structure (src/autograd/batch.c, docs/BATCHING.md):
 * the identity seed carried as DIAG(d) through pointwise ops and into the
 * first matrix product with a 1-D operand on the path, made DENSE elsewhere;
 * forward mode's batched JVPs over the recorded graph. Each Jacobian is held
 * to the one built seed by seed (one nd_vjp / nd_jvp per seed, 1e-12 in
 * f64), and the internal counters say which path ran. */
#include "core/internal.h"
#include "support.h"

/* Checks nd_jacobian of f at x in one mode against the seed-by-seed matrix;
 * batched: whether the one-pass path must run; diagonal: how many matrix
 * products it must run on DIAG as scaled rows. */
static void check_mode(const char *name, nd_fn f, void *ctx, nd_tensor *x, nd_ad_mode mode,
                       bool batched, unsigned diagonal) {
    uint64_t passes = nd__batched_jacobians(), products = nd__diagonal_products();
    nd_tensor *jac = nd_jacobian(f, ctx, x, mode, ND_LAYOUT_TENSOR);
    const char *m = mode == ND_REVERSE ? "reverse" : "forward";
    cr_assert(jac, "%s, %s: %s", name, m, nd_last_error());
    cr_assert_eq(nd__batched_jacobians() - passes, batched ? 1u : 0u, "%s, %s: path", name, m);
    cr_assert_eq(nd__diagonal_products() - products, diagonal, "%s, %s: DIAG products", name, m);
    nd_tensor *y = f(x, ctx);
    nd_tensor *want = jacobian_seed_by_seed(f, ctx, x, mode);
    assert_close(nd_reshape(jac, ND_SHAPE(nd_numel(y), nd_numel(x))), want, 1e-12, 1e-12);
}

static void check(const char *name, nd_fn f, void *ctx, nd_tensor *x, bool batched,
                  unsigned diagonal) {
    check_mode(name, f, ctx, x, ND_REVERSE, batched, diagonal);
    check_mode(name, f, ctx, x, ND_FORWARD, batched, diagonal);
}

/* The constants a map closes over. */
typedef struct {
    nd_tensor *a, *b, *c;
} consts;

static consts some_consts(void) {
    nd_manual_seed(7);
    return (consts){nd_randn(ND_F64, ND_SHAPE(3, 4)), nd_randn(ND_F64, ND_SHAPE(4, 5)),
                    nd_randn(ND_F64, ND_SHAPE(2, 4))};
}

/* ------------------------------------------------------ DIAG taken */

static nd_tensor *pointwise_only(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_mul_scalar(nd_exp(nd_tanh(nd_square(nd_sin(x)))), 0.5);
}
static nd_tensor *pointwise_fan_in(nd_tensor *x, void *ctx) {
    (void)ctx; /* two pointwise branches of x meet in a pointwise op: still diagonal */
    return nd_div(nd_sin(x), nd_add_scalar(nd_exp(x), 1));
}
static nd_tensor *matrix_times_vector(nd_tensor *x, void *ctx) {
    consts *c = ctx; /* a·v with v = sigmoid(x) 1-D */
    return nd_tanh(nd_mv(c->a, nd_sigmoid(x)));
}
static nd_tensor *vector_times_matrix(nd_tensor *x, void *ctx) {
    consts *c = ctx; /* v·b with v = tanh(x) 1-D on the left */
    return nd_exp(nd_mul_scalar(nd_matmul(nd_tanh(x), c->b), 0.25));
}
static nd_tensor *bare_product(nd_tensor *x, void *ctx) {
    consts *c = ctx; /* no head at all: x itself is the 1-D operand */
    return nd_matmul(c->a, x);
}
static nd_tensor *two_layers(nd_tensor *x, void *ctx) {
    consts *c = ctx; /* W10's shape: reverse meets DIAG at the last product, forward the first */
    return nd_tanh(nd_mv(nd_t(c->a), nd_tanh(nd_mv(c->a, nd_relu(x)))));
}

ND_TEST(jacobian_diag, pointwise_heads_and_products_with_a_1d_operand) {
    consts c = some_consts();
    nd_tensor *x2 = nd_randn(ND_F64, ND_SHAPE(2, 3)), *x4 = nd_randn(ND_F64, ND_SHAPE(4));
    check("pointwise only", pointwise_only, NULL, x2, true, 0);
    check("pointwise fan-in", pointwise_fan_in, NULL, x2, true, 0);
    check("a·v", matrix_times_vector, &c, x4, true, 1);
    check("v·b", vector_times_matrix, &c, x4, true, 1);
    check("a·x", bare_product, &c, x4, true, 1);
    check("two layers", two_layers, &c, x4, true, 1);
}

/* ------------------------------------------------- DIAG made DENSE */

static nd_tensor *matrix_operand(nd_tensor *x, void *ctx) {
    consts *c = ctx; /* the operand on the path is a matrix */
    return nd_tanh(nd_matmul(nd_sin(x), c->b));
}
static nd_tensor *both_operands(nd_tensor *x, void *ctx) {
    (void)ctx; /* dot of two tensors on the path */
    return nd_tanh(nd_dot(nd_sin(x), x));
}
static nd_tensor *broadcast_after(nd_tensor *x, void *ctx) {
    consts *c = ctx; /* tanh(x) of shape (4,) broadcast to (2, 4) */
    return nd_mul(nd_add(nd_tanh(x), c->c), nd_sigmoid(x));
}
static nd_tensor *broadcast_before(nd_tensor *x, void *ctx) {
    consts *c = ctx; /* x broadcast by its first op, then a product with a 1-D operand */
    return nd_mv(c->a, nd_sum(nd_mul(c->c, x), 0, false));
}

ND_TEST(jacobian_diag, dense_where_the_batch_stops_being_diagonal) {
    consts c = some_consts();
    nd_tensor *x4 = nd_randn(ND_F64, ND_SHAPE(4)), *x24 = nd_randn(ND_F64, ND_SHAPE(2, 4));
    check("matrix operand", matrix_operand, &c, x24, true, 0);
    check("both operands", both_operands, NULL, x4, true, 0);
    check("broadcast after", broadcast_after, &c, x4, true, 0);
    check("a reduction", broadcast_before, &c, x4, false, 0); /* sum: one pass per seed */
}

/* ------------------------------- forward mode over the recorded graph */

static nd_tensor *through_a_view(nd_tensor *x, void *ctx) {
    (void)ctx; /* a view op on the path: not batchable */
    return nd_tanh(nd_reshape(nd_sin(x), ND_SHAPE(6)));
}
static nd_tensor *view_operand(nd_tensor *x, void *ctx) {
    consts *c = ctx;            /* views off the path are ordinary operands */
    nd_tensor *at = nd_t(c->a); /* (4, 3), transposed strides */
    nd_tensor *col = nd_select(c->b, 1, 2);
    return nd_mul(nd_mv(at, nd_tanh(x)), nd_sum(col, ND_ALL, false));
}
static nd_tensor *written_after_use(nd_tensor *x, void *ctx) {
    (void)ctx; /* the tape's tangent used c = 1; the graph's c is 2 by now */
    nd_tensor *c = nd_ones_like(x);
    nd_tensor *y = nd_mul(nd_tanh(x), c);
    cr_assert_eq(nd_fill_(c, 2.0), 0, "%s", nd_last_error());
    return y;
}
static nd_tensor *gradients_off_inside(nd_tensor *x, void *ctx) {
    (void)ctx; /* forward mode carries tangents through ops with gradients off */
    bool previous = nd_set_grad_enabled(false);
    nd_tensor *t = nd_tanh(x);
    nd_set_grad_enabled(previous);
    return nd_add(nd_mul_scalar(t, 2), nd_sin(x));
}

ND_TEST(jacobian_diag, forward_replay_matches_the_tape_seed_by_seed) {
    consts c = some_consts();
    nd_tensor *x3 = nd_randn(ND_F64, ND_SHAPE(3)), *x23 = nd_randn(ND_F64, ND_SHAPE(2, 3));
    check_mode("through a view", through_a_view, NULL, x23, ND_FORWARD, false, 0);
    check_mode("view operands", view_operand, &c, x3, ND_FORWARD, true, 1);
    /* x itself a view: the transform works on its own contiguous variable */
    check_mode("transposed x", pointwise_fan_in, NULL, nd_t(x23), ND_FORWARD, true, 0);
    check_mode("written after use", written_after_use, NULL, x23, ND_FORWARD, false, 0);
    check_mode("gradients off inside", gradients_off_inside, NULL, x23, ND_FORWARD, false, 0);
}

/* f is called once for the plan, then once per seed when it falls back. */
static int calls;
static nd_tensor *counted(nd_tensor *x, void *ctx) {
    (void)ctx;
    calls++;
    return nd_mul(x, nd_sum(x, ND_ALL, false));
}

ND_TEST(jacobian_diag, one_call_before_the_fall_back) {
    nd_tensor *x = nd_randn(ND_F64, ND_SHAPE(5));
    for (int k = 0; k < 2; k++) {
        calls = 0;
        cr_assert(nd_jacobian(counted, NULL, x, k ? ND_FORWARD : ND_REVERSE, ND_LAYOUT_TENSOR),
                  "%s", nd_last_error());
        cr_assert_eq(calls, k ? 1 + 5 : 1, "mode %d: %d calls", k, calls);
    }
}

ND_TEST(jacobian_diag, float32_keeps_its_dtype_on_every_path) {
    consts c = some_consts();
    consts c32 = {nd_to(c.a, ND_F32), nd_to(c.b, ND_F32), nd_to(c.c, ND_F32)};
    nd_tensor *x = nd_randn(ND_F64, ND_SHAPE(4));
    nd_fn maps[] = {matrix_times_vector, vector_times_matrix, broadcast_after, pointwise_only};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
        for (int k = 0; k < 2; k++) {
            nd_ad_mode mode = k ? ND_FORWARD : ND_REVERSE;
            nd_tensor *j32 = nd_jacobian(maps[i], &c32, nd_to(x, ND_F32), mode, ND_LAYOUT_TENSOR);
            cr_assert(j32, "%zu: %s", i, nd_last_error());
            cr_assert_eq(nd_type(j32), ND_F32);
            assert_close(nd_to(j32, ND_F64), nd_jacobian(maps[i], &c, x, mode, ND_LAYOUT_TENSOR),
                         1e-4, 1e-5);
        }
}
