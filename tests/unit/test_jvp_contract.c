/* A forward rule (JVP) returns a tangent of its output's shape and dtype: the
 * tape checks it and names the op that breaks it, rather than fitting the
 * tangent itself (src/core/tape.c). The rules that hand an input's tangent on
 * through a broadcasting or promoting op fit it with nd__tangent_like. */
#include "core/internal.h"
#include "support.h"

typedef struct {
    nd_tensor *c, *cond, *w, *x;
} ctx_t;

static nd_tensor *add_wide(nd_tensor *x, void *ctx) {
    return nd_add(x, ((ctx_t *)ctx)->c); /* (3,) + (2, 3) */
}
static nd_tensor *sub_from_wide(nd_tensor *x, void *ctx) {
    return nd_sub(((ctx_t *)ctx)->c, x);
}
static nd_tensor *where_wide(nd_tensor *x, void *ctx) {
    ctx_t *c = ctx; /* the operand without a tangent is the widest */
    return nd_where(c->cond, x, c->c);
}
static nd_tensor *bias_only(nd_tensor *b, void *ctx) {
    ctx_t *c = ctx; /* (4, 2)·(3, 2)ᵀ + b (3,) */
    return nd_linear(c->x, c->w, b);
}
static nd_tensor *add_f64(nd_tensor *x, void *ctx) {
    return nd_add(x, nd_select(((ctx_t *)ctx)->c, 0, 0)); /* f32 (3,) + f64 (3,) */
}
static nd_tensor *maximum_f64(nd_tensor *x, void *ctx) {
    return nd_maximum(x, nd_select(((ctx_t *)ctx)->c, 0, 0));
}

static nd_tensor *f64(const char *text) {
    return nd_to(nd_parse(text), ND_F64);
}

/* nd_jvp of f at x along v: shape, dtype and values. */
static void check(nd_fn f, ctx_t *c, nd_tensor *x, nd_tensor *v, nd_tensor *want) {
    nd_tensor *jv = nd_jvp(f, c, x, v, NULL);
    cr_assert(jv, "%s", nd_last_error());
    cr_assert_eq(nd_type(jv), nd_type(want));
    assert_shape(jv, nd_ndim(want), nd_shape(want));
    assert_close(jv, want, 0, 0);
}

ND_TEST(jvp_contract, rules_hand_on_tangents_in_the_outputs_shape_and_dtype) {
    ctx_t c = {f64("[[1.0, -2.0, 3.0], [0.5, 0.25, -4.0]]"),
               nd_parse("[[true, false, true], [false, false, true]]"),
               f64("[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]"), nd_ones(ND_F64, ND_SHAPE(4, 2))};
    nd_tensor *x = f64("[0.1, 0.2, 0.3]"), *v = f64("[1.0, 10.0, 100.0]");
    nd_tensor *wide = nd_contiguous(nd_expand(v, ND_SHAPE(2, 3)));
    check(add_wide, &c, x, v, wide);
    check(sub_from_wide, &c, x, v, nd_neg(wide));
    check(where_wide, &c, x, v, nd_where(c.cond, v, nd_scalar(0, ND_F64)));
    check(bias_only, &c, x, v, nd_contiguous(nd_expand(v, ND_SHAPE(4, 3))));
    /* f32 against f64: the output, and so its tangent, is f64 */
    nd_tensor *x32 = nd_to(x, ND_F32), *v32 = nd_to(v, ND_F32);
    check(add_f64, &c, x32, v32, nd_to(v32, ND_F64));
    /* maximum(x, [1, -2, 3]) = [1, x1, 3]: only the middle element follows x */
    check(maximum_f64, &c, x32, v32, nd_mul(nd_to(v32, ND_F64), f64("[0.0, 1.0, 0.0]")));
}

/* ------------------------------------------ a rule that breaks it */

static void summed_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)n, (void)out;
    gin[0] = g;
}
static nd_tensor *summed_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n, (void)out;
    return nd_sum(tin[0], ND_ALL, false); /* a 0-d tangent for an output of x's shape */
}
static nd_tensor *cast_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n, (void)out;
    return nd_to(tin[0], ND_F32); /* the output is f64 */
}

ND_TEST(jvp_contract, the_tape_names_a_rule_that_breaks_it) {
    const nd_op bad_shape = {.name = "bad_shape_rule", .vjp = summed_vjp, .jvp = summed_jvp};
    const nd_op bad_dtype = {.name = "bad_dtype_rule", .vjp = summed_vjp, .jvp = cast_jvp};
    nd_tensor *x = f64("[1.0, 2.0, 3.0]");
    nd_tensor *dual = nd_make_dual(x, nd_ones_like(x));
    cr_assert(dual, "%s", nd_last_error());
    cr_assert_null(nd__record(&bad_shape, nd_clone(x), 1, &dual, NULL));
    assert_error("bad_shape_rule: its forward rule (JVP) gave a tangent of shape ()");
    cr_assert_eq(nd_errcode(), ND_ERR_SHAPE);
    cr_assert_null(nd__record(&bad_dtype, nd_clone(x), 1, &dual, NULL));
    assert_error("bad_dtype_rule");
    assert_error("float32");
    /* a rule that keeps it goes through */
    cr_assert(nd__record(&(nd_op){.name = "fine", .vjp = summed_vjp, .jvp = cast_jvp},
                         nd_to(x, ND_F32), 1, &dual, NULL),
              "%s", nd_last_error());
}
