/* Elementwise functions of one tensor: neg, abs, sign, exp, log, sqrt, square,
 * sin, cos, tanh, cosh, erf, clamp, logical_not. Each op: its kernel, its VJP
 * and its JVP side by side. The activations (sigmoid, relu, softplus, gelu,
 * leaky_relu) live in activations.c.
 *
 * Most derivatives here have the form f'(x): the VJP is g·f'(x) and the JVP is
 * t·f'(x). UNARY_RULES writes both from one expression of f'(x), built with nd
 * ops so that a backward pass is itself differentiable (second derivatives). */
#include "elementwise.h"
#include "vecmath.h"

/* Integer loops compute in the unsigned type of the same width, so overflow
 * (-INT64_MIN, 2^40 squared) wraps around as in PyTorch instead of being
 * undefined behaviour. int_expr(T, U) and float_expr are expressions in x. */
#define WRAPPING_LOOPS(name, int_expr, float_expr)                                                 \
    ND_UNARY_LOOP(name##_u8, uint8_t, uint8_t, int_expr(uint8_t, unsigned))                        \
    ND_UNARY_LOOP(name##_i32, int32_t, int32_t, int_expr(int32_t, uint32_t))                       \
    ND_UNARY_LOOP(name##_i64, int64_t, int64_t, int_expr(int64_t, uint64_t))                       \
    ND_UNARY_LOOP(name##_f32, float, float, float_expr)                                            \
    ND_UNARY_LOOP(name##_f64, double, double, float_expr)                                          \
    static const nd_unary_loops name = {                                                           \
        {NULL, name##_u8, name##_i32, name##_i64, name##_f32, name##_f64}};

/* neg, abs and relu are not defined for bool, as in PyTorch. */
static nd_tensor *refuse_bool(const char *op, const nd_tensor *t, const char *hint) {
    return nd__fail_as(ND_ERR_DTYPE, "%s: not defined for bool tensors (shape %s)%s", op,
                       nd__tshape(t), hint);
}

/* ---------------------------------------------------------------- neg */

#define NEG_INT(T, U) ((T)(0 - (U)x))
WRAPPING_LOOPS(neg_loops, NEG_INT, -x)

static void neg_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)n, (void)out;
    gin[0] = nd_neg(g);
}
static nd_tensor *neg_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n, (void)out;
    return tin[0] ? nd_neg(tin[0]) : NULL;
}
static const nd_op NEG = {
    .name = "neg",
    .vjp = neg_vjp,
    .jvp = neg_jvp,
    .flags = ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "−g",
    .jvp_formula = "−dx",
};

nd_tensor *nd_neg(nd_tensor *t) {
    ND_CHECK("nd_neg", t);
    if (t->dtype == ND_BOOL)
        return refuse_bool("nd_neg", t, "; to invert a mask use nd_logical_not");
    nd_tensor *out = nd__unary_apply("nd_neg", t, t->dtype, t->dtype, &neg_loops);
    return nd__record(&NEG, out, 1, &t, NULL);
}

/* ---------------------------------------------------------------- abs */

#define ABS_INT(T, U) (x > 0 ? x : (T)(0 - (U)x))
WRAPPING_LOOPS(abs_loops, ABS_INT, fabs(x))

/* d|x|/dx = sign(x), which is 0 at 0 (PyTorch's choice). */
UNARY_RULES(abs, nd_sign(x))
static const nd_op ABS = {
    .name = "abs",
    .vjp = abs_vjp,
    .jvp = abs_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g·sign(x)",
    .jvp_formula = "dx·sign(x)",
};

nd_tensor *nd_abs(nd_tensor *t) {
    ND_CHECK("nd_abs", t);
    if (t->dtype == ND_BOOL) return refuse_bool("nd_abs", t, "");
    nd_tensor *out = nd__unary_apply("nd_abs", t, t->dtype, t->dtype, &abs_loops);
    return nd__record(&ABS, out, 1, &t, NULL);
}

/* ---------------------------------------------------------------- sign */

/* (x > 0) - (x < 0), as PyTorch (1.13) computes it: sign(NaN) is 0 (both
 * comparisons are false) and sign(-0.0) is +0.0; so abs's gradient at NaN is 0. */
ND_UNARY_LOOP(sign_b8, bool, bool, x)
ND_UNARY_LOOP(sign_u8, uint8_t, uint8_t, x > 0)
ND_UNARY_LOOP(sign_i32, int32_t, int32_t, (x > 0) - (x < 0))
ND_UNARY_LOOP(sign_i64, int64_t, int64_t, (x > 0) - (x < 0))
ND_UNARY_LOOP(sign_f32, float, float, (float)((x > 0) - (x < 0)))
ND_UNARY_LOOP(sign_f64, double, double, (double)((x > 0) - (x < 0)))
static const nd_unary_loops sign_loops = {
    {sign_b8, sign_u8, sign_i32, sign_i64, sign_f32, sign_f64}};

/* sign is piecewise constant: its derivative is zero everywhere it exists. */
static void sign_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)n, (void)out;
    gin[0] = nd_mul_scalar(g, 0.0);
}
static nd_tensor *sign_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n, (void)tin;
    return nd_zeros_like(out);
}
static const nd_op SIGN = {
    .name = "sign",
    .vjp = sign_vjp,
    .jvp = sign_jvp,
    .flags = ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "zero",
    .jvp_formula = "zero",
};

nd_tensor *nd_sign(nd_tensor *t) {
    ND_CHECK("nd_sign", t);
    nd_tensor *out = nd__unary_apply("nd_sign", t, t->dtype, t->dtype, &sign_loops);
    return nd__record(&SIGN, out, 1, &t, NULL);
}

/* ---------------------------------------------------------------- exp */

ND_UNARY_LOOPS_FLOAT(exp_loops, vm_expf(x), vm_exp(x))
UNARY_RULES(exp, out) /* (e^x)' = e^x, the output itself */
static const nd_op EXP = {
    .name = "exp",
    .vjp = exp_vjp,
    .jvp = exp_jvp,
    .flags = ND_SAVES_OUTPUT | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g·y",
    .jvp_formula = "dx·y",
};

nd_tensor *nd_exp(nd_tensor *t) {
    ND_CHECK("nd_exp", t);
    return nd__record(&EXP, float_unary("nd_exp", t, &exp_loops), 1, &t, NULL);
}

/* ---------------------------------------------------------------- log */

ND_UNARY_LOOPS_FLOAT(log_loops, vm_logf(x), vm_log(x))
UNARY_RULES(log, nd_rdiv_scalar(x, 1.0))
static const nd_op LOG = {
    .name = "log",
    .vjp = log_vjp,
    .jvp = log_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g/x",
    .jvp_formula = "dx/x",
};

nd_tensor *nd_log(nd_tensor *t) {
    ND_CHECK("nd_log", t);
    return nd__record(&LOG, float_unary("nd_log", t, &log_loops), 1, &t, NULL);
}

/* ---------------------------------------------------------------- sqrt */

ND_UNARY_LOOPS_FLOAT(sqrt_loops, sqrtf(x), sqrt(x))
UNARY_RULES(sqrt, nd_rdiv_scalar(out, 0.5)) /* 1 / (2·sqrt(x)): inf at 0, as PyTorch */
static const nd_op SQRT = {
    .name = "sqrt",
    .vjp = sqrt_vjp,
    .jvp = sqrt_jvp,
    .flags = ND_SAVES_OUTPUT | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g/(2·y)",
    .jvp_formula = "dx/(2·y)",
};

nd_tensor *nd_sqrt(nd_tensor *t) {
    ND_CHECK("nd_sqrt", t);
    return nd__record(&SQRT, float_unary("nd_sqrt", t, &sqrt_loops), 1, &t, NULL);
}

/* ---------------------------------------------------------------- square */

#define SQUARE_INT(T, U) ((T)((U)x * (U)x))
WRAPPING_LOOPS(square_loops, SQUARE_INT, (x * x))
UNARY_RULES(square, nd_mul_scalar(x, 2.0))
static const nd_op SQUARE = {
    .name = "square",
    .vjp = square_vjp,
    .jvp = square_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "2·g·x",
    .jvp_formula = "2·dx·x",
};

nd_tensor *nd_square(nd_tensor *t) {
    ND_CHECK("nd_square", t);
    nd_dtype dt = t->dtype == ND_BOOL ? ND_I64 : t->dtype; /* PyTorch: bool² is int64 */
    nd_tensor *out = nd__unary_apply("nd_square", t, dt, dt, &square_loops);
    return nd__record(&SQUARE, out, 1, &t, NULL);
}

/* ------------------------------------------------------- sin, cos, tanh */

ND_UNARY_LOOPS_FLOAT(sin_loops, vm_sinf(x), vm_sin(x))
UNARY_RULES(sin, nd_cos(x))
static const nd_op SIN = {
    .name = "sin",
    .vjp = sin_vjp,
    .jvp = sin_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g·cos(x)",
    .jvp_formula = "dx·cos(x)",
};

nd_tensor *nd_sin(nd_tensor *t) {
    ND_CHECK("nd_sin", t);
    return nd__record(&SIN, float_unary("nd_sin", t, &sin_loops), 1, &t, NULL);
}

ND_UNARY_LOOPS_FLOAT(cos_loops, vm_cosf(x), vm_cos(x))
UNARY_RULES(cos, nd_neg(nd_sin(x)))
static const nd_op COS = {
    .name = "cos",
    .vjp = cos_vjp,
    .jvp = cos_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "−g·sin(x)",
    .jvp_formula = "−dx·sin(x)",
};

nd_tensor *nd_cos(nd_tensor *t) {
    ND_CHECK("nd_cos", t);
    return nd__record(&COS, float_unary("nd_cos", t, &cos_loops), 1, &t, NULL);
}

/* tanh' = 1 - tanh², from the saved output (no second tanh). */
ND_UNARY_LOOPS_FLOAT(tanh_loops, vm_tanhf(x), vm_tanh(x))
UNARY_RULES(tanh, nd_rsub_scalar(nd_mul(out, out), 1.0))
static const nd_op TANH = {
    .name = "tanh",
    .vjp = tanh_vjp,
    .jvp = tanh_jvp,
    .flags = ND_SAVES_OUTPUT | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g·(1 − y²)",
    .jvp_formula = "dx·(1 − y²)",
};

nd_tensor *nd_tanh(nd_tensor *t) {
    ND_CHECK("nd_tanh", t);
    return nd__record(&TANH, float_unary("nd_tanh", t, &tanh_loops), 1, &t, NULL);
}

/* ------------------------------------------------------- cosh (and sinh) */

/* sinh is not public, but cosh' = sinh and sinh' = cosh: a private op keeps
 * cosh differentiable to any order. */
ND_UNARY_LOOPS_FLOAT(sinh_loops, vm_sinhf(x), vm_sinh(x))
UNARY_RULES(sinh, nd_cosh(x))
static const nd_op SINH = {
    .name = "sinh",
    .vjp = sinh_vjp,
    .jvp = sinh_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g·cosh(x)",
    .jvp_formula = "dx·cosh(x)",
};

static nd_tensor *sinh_of(nd_tensor *t) {
    return nd__record(&SINH, float_unary("nd_sinh", t, &sinh_loops), 1, &t, NULL);
}

ND_UNARY_LOOPS_FLOAT(cosh_loops, vm_coshf(x), vm_cosh(x))
UNARY_RULES(cosh, sinh_of(x))
static const nd_op COSH = {
    .name = "cosh",
    .vjp = cosh_vjp,
    .jvp = cosh_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g·sinh(x)",
    .jvp_formula = "dx·sinh(x)",
};

nd_tensor *nd_cosh(nd_tensor *t) {
    ND_CHECK("nd_cosh", t);
    return nd__record(&COSH, float_unary("nd_cosh", t, &cosh_loops), 1, &t, NULL);
}

/* ---------------------------------------------------------------- erf */

/* erf'(x) = 2/√π · exp(-x²) */
ND_UNARY_LOOPS_FLOAT(erf_loops, vm_erff(x), vm_erf(x))
UNARY_RULES(erf, nd_mul_scalar(nd_exp(nd_neg(nd_mul(x, x))), 1.1283791670955126))
static const nd_op ERF = {
    .name = "erf",
    .vjp = erf_vjp,
    .jvp = erf_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g·2/√π·exp(−x²)",
    .jvp_formula = "dx·2/√π·exp(−x²)",
};

nd_tensor *nd_erf(nd_tensor *t) {
    ND_CHECK("nd_erf", t);
    return nd__record(&ERF, float_unary("nd_erf", t, &erf_loops), 1, &t, NULL);
}

/* ---------------------------------------------------------------- clamp */

/* The bounds come as the loop's parameter: (lo, hi) in the loop's type.
 * x < lo, then > hi, in that order: lo > hi gives hi everywhere (PyTorch), and
 * NaN fails both tests and stays NaN. */
#define CLAMP_LOOP(name, T)                                                                        \
    static void name(int64_t n, char *const *p, const int64_t *s, const void *bounds) {            \
        const T *restrict x = (const T *)p[1];                                                     \
        const T lo = ((const T *)bounds)[0], hi = ((const T *)bounds)[1];                          \
        T *restrict o = (T *)p[0];                                                                 \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T v = x[i * s[1]] < lo ? lo : x[i * s[1]];                                             \
            o[i * s[0]] = v > hi ? hi : v;                                                         \
        }                                                                                          \
    }
CLAMP_LOOP(clamp_u8, uint8_t)
CLAMP_LOOP(clamp_i32, int32_t)
CLAMP_LOOP(clamp_i64, int64_t)
CLAMP_LOOP(clamp_f32, float)
CLAMP_LOOP(clamp_f64, double)
static const nd_loop clamp_loops[6] = {NULL, clamp_u8, clamp_i32, clamp_i64, clamp_f32, clamp_f64};

/* The gradient passes where lo <= x <= hi (both ends included, as PyTorch). */
static nd_tensor *clamp_mask(const nd_node *n) {
    nd_tensor *x = n->in[0];
    return nd_mul(nd_ge(x, nd_scalar(n->p.f[0], x->dtype)),
                  nd_le(x, nd_scalar(n->p.f[1], x->dtype))); /* bool · bool is "and" */
}
static void clamp_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    gin[0] = nd_where(clamp_mask(n), g, nd_scalar(0.0, g->dtype));
}
static nd_tensor *clamp_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return tin[0] ? nd_where(clamp_mask(n), tin[0], nd_scalar(0.0, tin[0]->dtype)) : NULL;
}
static const nd_op CLAMP = {
    .name = "clamp",
    .vjp = clamp_vjp,
    .jvp = clamp_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g where lo ≤ x ≤ hi, else 0",
    .jvp_formula = "dx where lo ≤ x ≤ hi, else 0",
};

/* A bound as the integer type can hold it (infinite means "no bound"). */
static double fit_bound(double v, nd_dtype dt) {
    static const double lowest[] = {0, 0, -2147483648.0, -9223372036854775808.0};
    static const double highest[] = {1, 255, 2147483647.0, 9223372036854774784.0};
    if (nd__is_float(dt)) return v;
    return v < lowest[dt] ? lowest[dt] : v > highest[dt] ? highest[dt] : v;
}

nd_tensor *nd_clamp(nd_tensor *t, double lo, double hi) {
    ND_CHECK("nd_clamp", t);
    if (isnan(lo) || isnan(hi))
        return nd__fail("nd_clamp: the bounds must not be NaN (got %g, %g)", lo, hi);
    if (t->dtype == ND_BOOL) return refuse_bool("nd_clamp", t, "");
    /* Like PyTorch: a fractional bound makes an integer tensor float32; an
     * infinite one is no bound at all and changes nothing. */
    nd_dtype dt = t->dtype;
    if (isfinite(lo)) dt = nd_promote_types(dt, nd__weak_scalar_dtype(t->dtype, lo));
    if (isfinite(hi)) dt = nd_promote_types(dt, nd__weak_scalar_dtype(t->dtype, hi));
    _Alignas(double) char bounds[2 * sizeof(double)]; /* (lo, hi) as dt */
    nd__store(dt, bounds, fit_bound(lo, dt));
    nd__store(dt, bounds + nd_dtype_size(dt), fit_bound(hi, dt));
    nd_tensor *x = t->dtype == dt ? t : nd_to(t, dt);
    nd_tensor *out = x ? nd__empty(dt, t->ndim, t->shape) : NULL;
    if (!out) return NULL;
    nd__apply_into(out, 1, &x, clamp_loops[dt], bounds);
    nd_params p = {.f = {lo, hi}};
    return nd__record(&CLAMP, out, 1, &t, &p);
}

/* ---------------------------------------------------------- logical_not */

#define NOT_LOOP(name, T) ND_UNARY_LOOP(name, T, bool, x == 0)
NOT_LOOP(not_b8, bool)
NOT_LOOP(not_u8, uint8_t)
NOT_LOOP(not_i32, int32_t)
NOT_LOOP(not_i64, int64_t)
NOT_LOOP(not_f32, float)
NOT_LOOP(not_f64, double)
static const nd_unary_loops not_loops = {{not_b8, not_u8, not_i32, not_i64, not_f32, not_f64}};

/* Not differentiable: the result is bool. */
nd_tensor *nd_logical_not(nd_tensor *t) {
    ND_CHECK("nd_logical_not", t);
    return nd__unary_apply("nd_logical_not", t, t->dtype, ND_BOOL, &not_loops);
}
