/* The activation functions of neural networks: sigmoid, relu, leaky_relu,
 * softplus and gelu. Each op: its kernel, its VJP and its JVP side by side.
 * The kernels stay finite for any finite input (±1000, ±1e30): no exp of a
 * large positive number is ever taken. */
#include "elementwise.h"
#include "vecmath.h"

/* where(x > 0, g, else_value): the mask of the piecewise-linear activations.
 * A where (not a multiplication by a 0/1 mask) keeps an inf or NaN in g from
 * leaking into the zero side, as PyTorch's threshold_backward. */
static nd_tensor *where_positive(nd_tensor *x, nd_tensor *g, nd_tensor *else_value) {
    return nd_where(nd_gt(x, nd_scalar(0.0, x->dtype)), g, else_value);
}

/* ---------------------------------------------------------------- sigmoid */

/* With e = exp(-|x|) <= 1: sigmoid(x) = 1/(1+e) for x >= 0 and e/(1+e) below,
 * so exp never overflows and sigmoid(-1000) is 0, not 0/inf. */
static inline float sigmoidf_stable(float x) {
    float e = vm_expf(-fabsf(x)), r = 1.0f / (1.0f + e);
    return x >= 0 ? r : e * r;
}
static inline double sigmoid_stable(double x) {
    double e = vm_exp(-fabs(x)), r = 1.0 / (1.0 + e);
    return x >= 0 ? r : e * r;
}
ND_UNARY_LOOPS_FLOAT(sigmoid_loops, sigmoidf_stable(x), sigmoid_stable(x))

/* sigmoid' = s·(1 - s), from the saved output s. */
UNARY_RULES(sigmoid, nd_mul(out, nd_rsub_scalar(out, 1.0)))
static const nd_op SIGMOID = {
    .name = "sigmoid",
    .vjp = sigmoid_vjp,
    .jvp = sigmoid_jvp,
    .flags = ND_SAVES_OUTPUT | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g·y·(1 − y)",
    .jvp_formula = "dx·y·(1 − y)",
};

nd_tensor *nd_sigmoid(nd_tensor *t) {
    ND_CHECK("nd_sigmoid", t);
    return nd__record(&SIGMOID, float_unary("nd_sigmoid", t, &sigmoid_loops), 1, &t, NULL);
}

/* ---------------------------------------------------------------- relu */

/* x < 0 ? 0 : x lets NaN through (PyTorch's relu(NaN) is NaN); uint8 is never negative. */
ND_UNARY_LOOP(relu_u8, uint8_t, uint8_t, x)
ND_UNARY_LOOP(relu_i32, int32_t, int32_t, x < 0 ? 0 : x)
ND_UNARY_LOOP(relu_i64, int64_t, int64_t, x < 0 ? 0 : x)
ND_UNARY_LOOP(relu_f32, float, float, x < 0 ? 0.0f : x)
ND_UNARY_LOOP(relu_f64, double, double, x < 0 ? 0.0 : x)
static const nd_unary_loops relu_loops = {{NULL, relu_u8, relu_i32, relu_i64, relu_f32, relu_f64}};

/* relu's gradient from its output x: 0 where x <= 0 and g elsewhere, as
 * PyTorch's threshold_backward, so the derivative is 0 at 0 and 1 at NaN (NaN
 * in g stays on its side). One op: one pass over memory instead of a
 * comparison then a where — it runs twice per step in every ReLU network.
 * It is linear in g, so its own rules are itself; in x it is flat (zero). */
ND_BINARY_LOOP(relu_grad_f32, float, float, x <= 0 ? 0.0f : y)
ND_BINARY_LOOP(relu_grad_f64, double, double, x <= 0 ? 0.0 : y)
static const nd_binary_loops relu_grad_loops = {
    {NULL, NULL, NULL, NULL, relu_grad_f32, relu_grad_f64}};

static nd_tensor *relu_grad(nd_tensor *x, nd_tensor *g);
static void relu_grad_vjp(const nd_node *n, nd_tensor *out, nd_tensor *gg, nd_tensor **gin) {
    (void)out;
    if (n->in[1]->requires_grad) gin[1] = relu_grad(n->in[0], gg);
}
static nd_tensor *relu_grad_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return tin[1] ? relu_grad(n->in[0], tin[1]) : NULL;
}
static const nd_op RELU_GRAD = {
    .name = "relu_backward",
    .vjp = relu_grad_vjp,
    .jvp = relu_grad_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "to its g input: relu_backward(x, g); none to x",
    .jvp_formula = "relu_backward(x, dg)",
};

static nd_tensor *relu_grad(nd_tensor *x, nd_tensor *g) {
    ND_CHECK("relu_backward", x, g);
    nd_dtype dt = nd__float_dtype(nd_promote_types(x->dtype, g->dtype));
    nd_tensor *out = nd__binary_apply("relu_backward", x, g, dt, dt, &relu_grad_loops);
    return nd__record(&RELU_GRAD, out, 2, (nd_tensor *[]){x, g}, NULL);
}

/* out > 0 exactly where x > 0 (a NaN x gives a NaN out): the rules read the
 * output, as PyTorch's, so that changing x in place afterwards is allowed. */
static void relu_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)n;
    gin[0] = relu_grad(out, g);
}
static nd_tensor *relu_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n;
    return tin[0] ? relu_grad(out, tin[0]) : NULL;
}
static const nd_op RELU = {
    .name = "relu",
    .vjp = relu_vjp,
    .jvp = relu_jvp,
    .flags = ND_SAVES_OUTPUT | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "relu_backward(y, g) = g·[y > 0]",
    .jvp_formula = "dx·[y > 0]",
};

nd_tensor *nd_relu(nd_tensor *t) {
    ND_CHECK("nd_relu", t);
    if (t->dtype == ND_BOOL)
        return nd__fail_as(ND_ERR_DTYPE, "nd_relu: not defined for bool tensors (shape %s)",
                           nd__tshape(t));
    nd_tensor *out = nd__unary_apply("nd_relu", t, t->dtype, t->dtype, &relu_loops);
    return nd__record(&RELU, out, 1, &t, NULL);
}

/* ---------------------------------------------------------- leaky_relu */

/* The slope rides in the second operand as a 0-d tensor (broadcast, stride 0). */
ND_BINARY_LOOP(leaky_f32, float, float, x > 0 ? x : x * y)
ND_BINARY_LOOP(leaky_f64, double, double, x > 0 ? x : x * y)
static const nd_binary_loops leaky_loops = {{NULL, NULL, NULL, NULL, leaky_f32, leaky_f64}};

static void leaky_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    gin[0] = where_positive(n->in[0], g, nd_mul_scalar(g, n->p.f[0]));
}
static nd_tensor *leaky_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return tin[0] ? where_positive(n->in[0], tin[0], nd_mul_scalar(tin[0], n->p.f[0])) : NULL;
}
static const nd_op LEAKY_RELU = {
    .name = "leaky_relu",
    .vjp = leaky_vjp,
    .jvp = leaky_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g·(x > 0 ? 1 : slope)",
    .jvp_formula = "dx·(x > 0 ? 1 : slope)",
};

nd_tensor *nd_leaky_relu(nd_tensor *t, double slope) {
    ND_CHECK("nd_leaky_relu", t);
    nd_dtype dt = nd__float_dtype(t->dtype);
    nd_tensor *out =
        nd__binary_apply("nd_leaky_relu", t, nd_scalar(slope, dt), dt, dt, &leaky_loops);
    nd_params p = {.f = {slope}};
    return nd__record(&LEAKY_RELU, out, 1, &t, &p);
}

/* ---------------------------------------------------------------- softplus */

/* log(1 + e^x) = log1p(e^-|x|) + max(x, 0): exact for large |x| of either sign.
 * Above the threshold 20 the result is x itself, as PyTorch (beta 1).
 * log1p(e) is computed as log(u)·e/(u - 1) with u = 1 + e (Goldberg's trick:
 * the rounding of u cancels), which vectorises where libmvec's log1pf is slow. */
/* Both sides of each choice are computed, then one is picked: a call inside a
 * branch would keep the compiler from vectorising the loop. */
static inline float log1pf_small(float e) {
    float u = 1.0f + e, log_u = vm_logf(u);
    float ratio = e / (u == 1.0f ? 1.0f : u - 1.0f); /* never 0/0, so always computed */
    return u == 1.0f ? e : log_u * ratio;
}
static inline double log1p_small(double e) {
    double u = 1.0 + e, log_u = vm_log(u);
    double ratio = e / (u == 1.0 ? 1.0 : u - 1.0);
    return u == 1.0 ? e : log_u * ratio;
}
static inline float softplusf_stable(float x) {
    float smooth = log1pf_small(vm_expf(-fabsf(x))) + (x > 0 ? x : 0.0f);
    return x > 20.0f ? x : smooth;
}
static inline double softplus_stable(double x) {
    double smooth = log1p_small(vm_exp(-fabs(x))) + (x > 0 ? x : 0.0);
    return x > 20.0 ? x : smooth;
}
ND_UNARY_LOOPS_FLOAT(softplus_loops, softplusf_stable(x), softplus_stable(x))

/* softplus' = sigmoid below the threshold, 1 above it (PyTorch's backward). */
static void softplus_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *x = n->in[0];
    gin[0] = nd_where(nd_gt(x, nd_scalar(20.0, x->dtype)), g, nd_mul(g, nd_sigmoid(x)));
}
static nd_tensor *softplus_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    nd_tensor *x = n->in[0], *t = tin[0];
    return t ? nd_where(nd_gt(x, nd_scalar(20.0, x->dtype)), t, nd_mul(t, nd_sigmoid(x))) : NULL;
}
static const nd_op SOFTPLUS = {
    .name = "softplus",
    .vjp = softplus_vjp,
    .jvp = softplus_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g·sigmoid(x), g where x > 20",
    .jvp_formula = "dx·sigmoid(x), dx where x > 20",
};

nd_tensor *nd_softplus(nd_tensor *t) {
    ND_CHECK("nd_softplus", t);
    return nd__record(&SOFTPLUS, float_unary("nd_softplus", t, &softplus_loops), 1, &t, NULL);
}

/* ---------------------------------------------------------------- gelu */

/* gelu(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2)), written with erfc(-x/√2) = 1 + erf(x/√2),
 * which keeps its accuracy where Φ(x) is tiny (x far below 0). */
ND_UNARY_LOOPS_FLOAT(gelu_loops, 0.5f * x * vm_erfcf(-x * 0.70710678118654752f),
                     0.5 * x * vm_erfc(-x * 0.70710678118654752))

/* gelu' = Φ(x) + x·φ(x), with φ(x) = exp(-x²/2)/√(2π). */
static nd_tensor *gelu_derivative(const nd_node *n, nd_tensor *out) {
    (void)out;
    nd_tensor *x = n->in[0];
    nd_tensor *cdf =
        nd_mul_scalar(nd_add_scalar(nd_erf(nd_mul_scalar(x, 0.70710678118654752)), 1.0), 0.5);
    nd_tensor *pdf = nd_mul_scalar(nd_exp(nd_mul_scalar(nd_mul(x, x), -0.5)), 0.3989422804014327);
    return nd_add(cdf, nd_mul(x, pdf));
}
static void gelu_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    gin[0] = nd_mul(g, gelu_derivative(n, out));
}
static nd_tensor *gelu_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    return tin[0] ? nd_mul(tin[0], gelu_derivative(n, out)) : NULL;
}
static const nd_op GELU = {
    .name = "gelu",
    .vjp = gelu_vjp,
    .jvp = gelu_jvp,
    .flags = ND_SAVES_INPUTS | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "g·(Φ(x) + x·φ(x))",
    .jvp_formula = "dx·(Φ(x) + x·φ(x))",
};

nd_tensor *nd_gelu(nd_tensor *t) {
    ND_CHECK("nd_gelu", t);
    return nd__record(&GELU, float_unary("nd_gelu", t, &gelu_loops), 1, &t, NULL);
}
