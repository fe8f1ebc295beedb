/* Elementwise functions of two tensors beyond + - * /: pow (and its Python-number
 * form pow_scalar), maximum and minimum. Each op: its kernel, its VJP and its
 * JVP side by side. */
#include "elementwise.h"
#include "vecmath.h"

static nd_tensor *zero_like_scalar(const nd_tensor *t) {
    return nd_scalar(0.0, t->dtype);
}

/* ---------------------------------------------------------------- pow */

/* Integer powers by repeated squaring, wrapping around on overflow (unsigned
 * arithmetic, never undefined behaviour). A negative exponent gives what the
 * true power truncates to, as PyTorch: 1 for 1, ±1 for -1, 0 otherwise. */
static inline int64_t int_pow(int64_t base, int64_t exponent) {
    if (exponent < 0) return base == 1 ? 1 : base == -1 ? ((exponent & 1) ? -1 : 1) : 0;
    uint64_t result = 1, factor = (uint64_t)base;
    for (; exponent; exponent >>= 1) {
        if (exponent & 1) result *= factor;
        factor *= factor;
    }
    return (int64_t)result;
}

ND_BINARY_LOOP(pow_u8, uint8_t, uint8_t, (uint8_t)int_pow(x, y))
ND_BINARY_LOOP(pow_i32, int32_t, int32_t, (int32_t)(uint32_t)(uint64_t)int_pow(x, y))
ND_BINARY_LOOP(pow_i64, int64_t, int64_t, int_pow(x, y))
ND_BINARY_LOOP(pow_f32, float, float, vm_powf(x, y))
ND_BINARY_LOOP(pow_f64, double, double, vm_pow(x, y))
static const nd_binary_loops pow_loops = {{NULL, pow_u8, pow_i32, pow_i64, pow_f32, pow_f64}};

/* d(a^b)/da = b·a^(b-1), set to 0 where b == 0 (so 0^0 has no inf·0 = NaN). */
static nd_tensor *pow_partial_base(nd_tensor *a, nd_tensor *b) {
    nd_tensor *d = nd_mul(b, nd_pow(a, nd_sub_scalar(b, 1.0)));
    return d ? nd_where(nd_eq(b, zero_like_scalar(b)), zero_like_scalar(d), d) : NULL;
}
/* d(a^b)/db = a^b·log(a), set to 0 where a == 0 and b >= 0 (PyTorch's masking:
 * 0^b is constant there, and log(0) = -inf would make NaN or -inf). */
static nd_tensor *pow_partial_exponent(nd_tensor *a, nd_tensor *b, nd_tensor *out) {
    nd_tensor *d = nd_mul(out, nd_log(a));
    nd_tensor *flat = nd_mul(nd_eq(a, zero_like_scalar(a)), nd_ge(b, zero_like_scalar(b)));
    return d ? nd_where(flat, zero_like_scalar(d), d) : NULL;
}

static void pow_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    nd_tensor *a = n->in[0], *b = n->in[1];
    if (a->requires_grad) gin[0] = nd_mul(g, pow_partial_base(a, b));
    if (b->requires_grad) gin[1] = nd_mul(g, pow_partial_exponent(a, b, out));
}
static nd_tensor *pow_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    nd_tensor *a = n->in[0], *b = n->in[1];
    return nd__tangent_sum(tin[0] ? nd_mul(tin[0], pow_partial_base(a, b)) : NULL,
                           tin[1] ? nd_mul(tin[1], pow_partial_exponent(a, b, out)) : NULL);
}
static const nd_op POW = {
    .name = "pow",
    .vjp = pow_vjp,
    .jvp = pow_jvp,
    .flags = ND_SAVES_INPUTS | ND_SAVES_OUTPUT | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "ga = g·b·a^(b−1), gb = g·y·log(a)",
    .jvp_formula = "db·y·log(a) + da·b·a^(b−1)",
};

nd_tensor *nd_pow(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_pow", a, b);
    nd_dtype dt = nd__result_type(a, b);
    nd_tensor *out = nd__binary_apply("nd_pow", a, b, dt, dt, &pow_loops);
    return nd__record(&POW, out, 2, (nd_tensor *[]){a, b}, NULL);
}

/* ---------------------------------------------------------- pow_scalar */

/* x^2 is x·x: exact, and the most common power by far. */
ND_UNARY_LOOP(square_u8, uint8_t, uint8_t, (uint8_t)(x *x))
ND_UNARY_LOOP(square_i32, int32_t, int32_t, (int32_t)((uint32_t)x *(uint32_t)x))
ND_UNARY_LOOP(square_i64, int64_t, int64_t, (int64_t)((uint64_t)x *(uint64_t)x))
ND_UNARY_LOOP(square_f32, float, float, (x * x))
ND_UNARY_LOOP(square_f64, double, double, (x * x))
static const nd_unary_loops square_loops = {
    {NULL, square_u8, square_i32, square_i64, square_f32, square_f64}};
ND_UNARY_LOOPS_FLOAT(sqrt_loops, sqrtf(x), sqrt(x))

/* d(x^s)/dx = s·x^(s-1), and 0 for s = 0 (not 0·x^-1, which is NaN at 0). */
static nd_tensor *pow_scalar_derivative(const nd_node *n) {
    double s = n->p.f[0];
    nd_tensor *x = n->in[0];
    if (s == 0) return nd_zeros_like(x);
    return nd_mul_scalar(nd_pow_scalar(x, s - 1.0), s);
}
static void pow_scalar_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    gin[0] = nd_mul(g, pow_scalar_derivative(n));
}
static nd_tensor *pow_scalar_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return tin[0] ? nd_mul(tin[0], pow_scalar_derivative(n)) : NULL;
}
static const nd_op POW_SCALAR = {
    .name = "pow",
    .vjp = pow_scalar_vjp,
    .jvp = pow_scalar_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g·s·x^(s−1)",
    .jvp_formula = "dx·s·x^(s−1)",
};

nd_tensor *nd_pow_scalar(nd_tensor *t, double s) {
    ND_CHECK("nd_pow_scalar", t);
    nd_dtype dt = nd__weak_scalar_dtype(t->dtype, s); /* f32 stays f32; int ** 2 stays int */
    if (!nd__is_float(dt) && s < 0)
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_pow_scalar: integers to negative integer powers are not allowed "
                           "(%s tensor of shape %s to the power %g); convert with nd_to first",
                           nd_dtype_name(t->dtype), nd__tshape(t), s);
    nd_tensor *out;
    if (s == 2)
        out = nd__unary_apply("nd_pow_scalar", t, dt, dt, &square_loops);
    else if (s == 0.5 && nd__is_float(dt))
        out = nd__unary_apply("nd_pow_scalar", t, dt, dt, &sqrt_loops);
    else
        out = nd__binary_apply("nd_pow_scalar", t, nd_scalar(s, dt), dt, dt, &pow_loops);
    nd_params p = {.f = {s}};
    return nd__record(&POW_SCALAR, out, 1, &t, &p);
}

/* -------------------------------------------------- maximum, minimum */

/* NaN wins (PyTorch's maximum/minimum propagate it); bool max is "or", min "and". */
ND_BINARY_LOOP(max_b8, bool, bool, x || y)
ND_BINARY_LOOP(max_u8, uint8_t, uint8_t, x > y ? x : y)
ND_BINARY_LOOP(max_i32, int32_t, int32_t, x > y ? x : y)
ND_BINARY_LOOP(max_i64, int64_t, int64_t, x > y ? x : y)
ND_BINARY_LOOP(max_f32, float, float, (x > y || isnan(x)) ? x : y)
ND_BINARY_LOOP(max_f64, double, double, (x > y || isnan(x)) ? x : y)
static const nd_binary_loops max_loops = {{max_b8, max_u8, max_i32, max_i64, max_f32, max_f64}};

ND_BINARY_LOOP(min_b8, bool, bool, (x && y))
ND_BINARY_LOOP(min_u8, uint8_t, uint8_t, x < y ? x : y)
ND_BINARY_LOOP(min_i32, int32_t, int32_t, x < y ? x : y)
ND_BINARY_LOOP(min_i64, int64_t, int64_t, x < y ? x : y)
ND_BINARY_LOOP(min_f32, float, float, (x < y || isnan(x)) ? x : y)
ND_BINARY_LOOP(min_f64, double, double, (x < y || isnan(x)) ? x : y)
static const nd_binary_loops min_loops = {{min_b8, min_u8, min_i32, min_i64, min_f32, min_f64}};

/* The share of g that goes to one side: half on ties (PyTorch splits a tie
 * evenly), none where that side loses, all of it elsewhere — so where either
 * side is NaN (no tie, no loser) both get all of it, as PyTorch. */
static nd_tensor *share(nd_tensor *g, nd_tensor *loses, nd_tensor *ties) {
    if (!g) return NULL;
    nd_tensor *kept = nd_where(loses, zero_like_scalar(g), g);
    return nd_where(ties, nd_mul_scalar(g, 0.5), kept);
}

static bool is_maximum(const nd_node *n); /* which of the two tables n has (below) */

/* For maximum, a loses where a < b; for minimum where a > b. */
static nd_tensor *a_loses(const nd_node *n) {
    return is_maximum(n) ? nd_lt(n->in[0], n->in[1]) : nd_gt(n->in[0], n->in[1]);
}
static nd_tensor *b_loses(const nd_node *n) {
    return is_maximum(n) ? nd_lt(n->in[1], n->in[0]) : nd_gt(n->in[1], n->in[0]);
}

static void extremum_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *ties = nd_eq(n->in[0], n->in[1]);
    if (n->in[0]->requires_grad) gin[0] = share(g, a_loses(n), ties);
    if (n->in[1]->requires_grad) gin[1] = share(g, b_loses(n), ties);
}
static nd_tensor *extremum_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    nd_tensor *ties = nd_eq(n->in[0], n->in[1]); /* a share keeps its tangent's dtype */
    return nd__tangent_like(nd__tangent_sum(tin[0] ? share(tin[0], a_loses(n), ties) : NULL,
                                            tin[1] ? share(tin[1], b_loses(n), ties) : NULL),
                            out);
}
static const nd_op MAXIMUM = {
    .name = "maximum",
    .vjp = extremum_vjp,
    .jvp = extremum_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g to the larger input, half to each on ties",
    .jvp_formula = "da or db from the larger input, their mean on ties",
};
static const nd_op MINIMUM = {
    .name = "minimum",
    .vjp = extremum_vjp,
    .jvp = extremum_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g to the smaller input, half to each on ties",
    .jvp_formula = "da or db from the smaller input, their mean on ties",
};

static bool is_maximum(const nd_node *n) {
    return n->op == &MAXIMUM;
}

nd_tensor *nd_maximum(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_maximum", a, b);
    nd_dtype dt = nd__result_type(a, b);
    nd_tensor *out = nd__binary_apply("nd_maximum", a, b, dt, dt, &max_loops);
    return nd__record(&MAXIMUM, out, 2, (nd_tensor *[]){a, b}, NULL);
}

nd_tensor *nd_minimum(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_minimum", a, b);
    nd_dtype dt = nd__result_type(a, b);
    nd_tensor *out = nd__binary_apply("nd_minimum", a, b, dt, dt, &min_loops);
    return nd__record(&MINIMUM, out, 2, (nd_tensor *[]){a, b}, NULL);
}
