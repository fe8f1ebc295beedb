/* Unary functions and activations: values against PyTorch (tests/reference/math.py),
 * dtypes, stability at huge inputs, VJP and JVP against central differences,
 * second derivatives, and bad input. */
#include "support.h"

#include <stdlib.h>

/* ------------------------------------------------------------ helpers */

typedef nd_tensor *(*unary_fn)(nd_tensor *);

static nd_tensor *leaky_01(nd_tensor *t) {
    return nd_leaky_relu(t, 0.1);
}
static nd_tensor *clamp_both(nd_tensor *t) {
    return nd_clamp(t, -1.0, 2.0);
}
static nd_tensor *clamp_lo(nd_tensor *t) {
    return nd_clamp(t, -1.0, INFINITY);
}
static nd_tensor *clamp_hi(nd_tensor *t) {
    return nd_clamp(t, -INFINITY, 2.0);
}
static nd_tensor *clamp_crossed(nd_tensor *t) {
    return nd_clamp(t, 2.0, -1.0);
}
static nd_tensor *pow2(nd_tensor *t) {
    return nd_pow_scalar(t, 2.0);
}
static nd_tensor *pow3(nd_tensor *t) {
    return nd_pow_scalar(t, 3.0);
}
static nd_tensor *pow_half(nd_tensor *t) {
    return nd_pow_scalar(t, 0.5);
}
static nd_tensor *pow_m1(nd_tensor *t) {
    return nd_pow_scalar(t, -1.0);
}

/* Every unary op with the golden input it was run on in math.py. */
static const struct {
    const char *name;
    unary_fn fn;
    const char *input;
} OPS[] = {
    {"neg", nd_neg, "wide"},
    {"abs", nd_abs, "wide"},
    {"sign", nd_sign, "wide"},
    {"exp", nd_exp, "wide"},
    {"log", nd_log, "wide"},
    {"sqrt", nd_sqrt, "wide"},
    {"square", nd_square, "wide"},
    {"tanh", nd_tanh, "wide"},
    {"sigmoid", nd_sigmoid, "wide"},
    {"relu", nd_relu, "wide"},
    {"softplus", nd_softplus, "wide"},
    {"gelu", nd_gelu, "wide"},
    {"leaky_relu", leaky_01, "wide"},
    {"clamp", clamp_both, "wide"},
    {"clamp_lo", clamp_lo, "wide"},
    {"clamp_hi", clamp_hi, "wide"},
    {"clamp_crossed", clamp_crossed, "wide"},
    {"erf", nd_erf, "wide"},
    {"pow2", pow2, "wide"},
    {"pow3", pow3, "moderate"},
    {"pow_half", pow_half, "wide"},
    {"pow_m1", pow_m1, "moderate"},
    {"sin", nd_sin, "moderate"},
    {"cos", nd_cos, "moderate"},
    {"cosh", nd_cosh, "moderate"},
};
#define N_OPS (sizeof OPS / sizeof OPS[0])

static nd_tensor *golden_named(const char *fmt, const char *name) {
    char file[128];
    snprintf(file, sizeof file, fmt, name);
    return golden(file);
}

static double *read_all(nd_tensor *t) {
    cr_assert(t, "%s", nd_last_error());
    int64_t n = nd_numel(t);
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    cr_assert(v && nd_read(t, ND_F64, v, (size_t)n * sizeof *v) == 0);
    return v;
}

/* sum(w · f(x)) for fixed weights w: a scalar whose gradient tests the whole VJP. */
static nd_tensor *weighted(unary_fn f, nd_tensor *x, nd_tensor *w) {
    return nd_sum(nd_mul(w, f(x)), ND_ALL, false);
}

/* The VJP (nd_gradient) and the JVP (nd_make_dual) of f at x, in float64,
 * against central differences. */
static void check_derivatives(const char *name, unary_fn f, int64_t n, const double *xs) {
    const double h = 1e-6, tol = 1e-6;
    nd_scope_begin();
    nd_tensor *x = nd_set_requires_grad(nd_from(ND_F64, 1, (int64_t[]){n}, xs), true);
    nd_tensor *w = nd_randn(ND_F64, 1, (int64_t[]){n});
    nd_tensor *v = nd_randn(ND_F64, 1, (int64_t[]){n});
    double *grad = read_all(nd_gradient(weighted(f, x, w), x, false));
    double *tangent = read_all(nd_tangent(f(nd_make_dual(nd_detach(x), v))));
    double *dir = read_all(v);
    double *moved = malloc((size_t)n * sizeof *moved);
    for (int64_t i = 0; i < n; i++) {
        /* reverse mode: one coordinate at a time */
        memcpy(moved, xs, (size_t)n * sizeof *moved);
        moved[i] = xs[i] + h;
        double up = nd_item(weighted(f, nd_from(ND_F64, 1, (int64_t[]){n}, moved), w));
        moved[i] = xs[i] - h;
        double down = nd_item(weighted(f, nd_from(ND_F64, 1, (int64_t[]){n}, moved), w));
        double numeric = (up - down) / (2 * h);
        cr_assert(fabs(grad[i] - numeric) <= tol * (1 + fabs(numeric)),
                  "%s: VJP at x[%lld] = %g is %.10g, central difference %.10g", name, (long long)i,
                  xs[i], grad[i], numeric);
    }
    /* forward mode: along v, (f(x + hv) - f(x - hv)) / 2h */
    for (int64_t i = 0; i < n; i++) moved[i] = xs[i] + h * dir[i];
    double *up = read_all(f(nd_from(ND_F64, 1, (int64_t[]){n}, moved)));
    for (int64_t i = 0; i < n; i++) moved[i] = xs[i] - h * dir[i];
    double *down = read_all(f(nd_from(ND_F64, 1, (int64_t[]){n}, moved)));
    for (int64_t i = 0; i < n; i++) {
        double numeric = (up[i] - down[i]) / (2 * h);
        cr_assert(fabs(tangent[i] - numeric) <= tol * (1 + fabs(numeric)),
                  "%s: JVP at x[%lld] = %g is %.10g, central difference %.10g", name, (long long)i,
                  xs[i], tangent[i], numeric);
    }
    free(grad), free(tangent), free(dir), free(moved), free(up), free(down);
    nd_scope_end();
}

/* f''(x) by differentiating the VJP (create_graph), against central differences
 * of the first derivative. */
static void check_second_derivative(const char *name, unary_fn f, int64_t n, const double *xs) {
    const double h = 1e-5, tol = 1e-5;
    nd_scope_begin();
    nd_tensor *x = nd_set_requires_grad(nd_from(ND_F64, 1, (int64_t[]){n}, xs), true);
    nd_tensor *first = nd_gradient(nd_sum(f(x), ND_ALL, false), x, true);
    double *second = read_all(nd_gradient(nd_sum(first, ND_ALL, false), x, false));
    double *moved = malloc((size_t)n * sizeof *moved);
    double *slope[2];
    for (int side = 0; side < 2; side++) {
        for (int64_t i = 0; i < n; i++) moved[i] = xs[i] + (side ? -h : h);
        nd_tensor *xm = nd_set_requires_grad(nd_from(ND_F64, 1, (int64_t[]){n}, moved), true);
        slope[side] = read_all(nd_gradient(nd_sum(f(xm), ND_ALL, false), xm, false));
    }
    for (int64_t i = 0; i < n; i++) {
        double numeric = (slope[0][i] - slope[1][i]) / (2 * h);
        cr_assert(fabs(second[i] - numeric) <= tol * (1 + fabs(numeric)),
                  "%s: second derivative at %g is %.10g, central difference %.10g", name, xs[i],
                  second[i], numeric);
    }
    free(second), free(moved), free(slope[0]), free(slope[1]);
    nd_scope_end();
}

/* ------------------------------------------------------- values vs torch */

ND_TEST(unary, values_match_torch_f64) {
    for (size_t k = 0; k < N_OPS; k++) {
        nd_tensor *x = golden_named("math_%s.npy", OPS[k].input);
        nd_tensor *y = OPS[k].fn(x);
        cr_assert(y, "%s: %s", OPS[k].name, nd_last_error());
        cr_assert_eq(nd_type(y), ND_F64, "%s keeps float64", OPS[k].name);
        assert_close(y, golden_named("math_%s_f64.npy", OPS[k].name), 1e-12, 1e-12);
    }
}

ND_TEST(unary, values_match_torch_f32) {
    for (size_t k = 0; k < N_OPS; k++) {
        nd_tensor *x = nd_to(golden_named("math_%s.npy", OPS[k].input), ND_F32);
        nd_tensor *y = OPS[k].fn(x);
        cr_assert(y, "%s: %s", OPS[k].name, nd_last_error());
        cr_assert_eq(nd_type(y), ND_F32, "%s keeps float32", OPS[k].name);
        assert_close(y, golden_named("math_%s_f32.npy", OPS[k].name), 2e-6, 1e-6);
    }
}

/* The VJP at every golden point, including kinks (relu and abs at 0 give 0,
 * clamp passes the gradient at its bounds) and overflow (exp(1000)). */
ND_TEST(unary, gradients_match_torch) {
    for (size_t k = 0; k < N_OPS; k++) {
        nd_tensor *x = nd_set_requires_grad(golden_named("math_%s.npy", OPS[k].input), true);
        nd_tensor *g = nd_gradient(nd_sum(OPS[k].fn(x), ND_ALL, false), x, false);
        cr_assert(g, "%s: %s", OPS[k].name, nd_last_error());
        assert_close(g, golden_named("math_%s_grad.npy", OPS[k].name), 1e-12, 1e-12);
    }
}

ND_TEST(unary, integer_inputs) {
    nd_tensor *ints = golden("math_ints.npy");
    const struct {
        const char *name;
        unary_fn fn;
        nd_dtype dtype;
    } cases[] = {
        {"exp", nd_exp, ND_F32},       {"sigmoid", nd_sigmoid, ND_F32},
        {"sqrt", nd_sqrt, ND_F32},     {"neg", nd_neg, ND_I64},
        {"abs", nd_abs, ND_I64},       {"sign", nd_sign, ND_I64},
        {"square", nd_square, ND_I64}, {"relu", nd_relu, ND_I64},
        {"clamp", clamp_both, ND_I64}, {"pow2", pow2, ND_I64},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nd_tensor *y = cases[k].fn(ints);
        cr_assert(y, "%s: %s", cases[k].name, nd_last_error());
        cr_assert_eq(nd_type(y), cases[k].dtype, "%s of int64 gives %s", cases[k].name,
                     nd_dtype_name(nd_type(y)));
        assert_close(y, golden_named("math_ints_%s.npy", cases[k].name), 1e-6, 1e-6);
    }
    /* a fractional bound makes the result float32, as torch.clamp */
    nd_tensor *frac = nd_clamp(ints, -0.5, 2.5);
    cr_assert_eq(nd_type(frac), ND_F32);
    assert_close(frac, golden("math_ints_clamp_frac.npy"), 0, 0);
    /* int32 and uint8 keep their types too; overflow wraps instead of trapping */
    nd_tensor *i32 = nd_from(ND_I32, ND_SHAPE(3), (int32_t[]){INT32_MIN, -7, 65536});
    cr_assert_eq(nd_type(nd_neg(i32)), ND_I32);
    assert_values(nd_neg(i32), 0, (double)INT32_MIN, 7, -65536);
    assert_values(nd_abs(i32), 0, (double)INT32_MIN, 7, 65536);
    assert_values(nd_square(i32), 0, 0, 49, 0);
    nd_tensor *u8 = nd_from(ND_U8, ND_SHAPE(3), (uint8_t[]){0, 3, 200});
    assert_values(nd_neg(u8), 0, 0, 253, 56);
    assert_values(nd_sign(u8), 0, 0, 1, 1);
    assert_values(nd_relu(u8), 0, 0, 3, 200);
}

ND_TEST(unary, bool_inputs) {
    nd_tensor *mask = nd_from(ND_BOOL, ND_SHAPE(2), (bool[]){true, false});
    cr_assert_null(nd_neg(mask));
    assert_error("nd_neg: not defined for bool tensors (shape (2,)); to invert a mask use "
                 "nd_logical_not");
    nd_clear_error();
    cr_assert_null(nd_abs(mask));
    assert_error("nd_abs: not defined for bool");
    nd_clear_error();
    cr_assert_null(nd_relu(mask));
    assert_error("nd_relu: not defined for bool");
    nd_clear_error();
    cr_assert_null(nd_clamp(mask, 0, 1));
    assert_error("nd_clamp: not defined for bool");
    nd_clear_error();
    /* what PyTorch allows: sign keeps bool, square gives int64, exp gives float32 */
    cr_assert_eq(nd_type(nd_sign(mask)), ND_BOOL);
    nd_tensor *sq = nd_square(mask);
    cr_assert_eq(nd_type(sq), ND_I64);
    assert_values(sq, 0, 1, 0);
    nd_tensor *e = nd_exp(mask);
    cr_assert_eq(nd_type(e), ND_F32);
    assert_values(e, 1e-6, M_E, 1);
}

ND_TEST(unary, logical_not) {
    nd_tensor *x = nd_from(ND_F32, ND_SHAPE(4), (float[]){0.0f, -0.0f, 2.5f, NAN});
    nd_tensor *y = nd_logical_not(x);
    cr_assert_eq(nd_type(y), ND_BOOL);
    assert_values(y, 0, 1, 1, 0, 0); /* NaN is "true", as torch */
    assert_values(nd_logical_not(nd_logical_not(nd_from(ND_I64, ND_SHAPE(2), (int64_t[]){0, 7}))),
                  0, 0, 1);
    cr_assert_null(nd_logical_not(NULL));
}

/* ------------------------------------------------------------- stability */

ND_TEST(unary, activations_finite_at_huge_inputs) {
    const double xs[] = {-1e30, -1e4, -1000, -100, 100, 1000, 1e4, 1e30};
    const unary_fn fns[] = {nd_sigmoid, nd_softplus, nd_tanh, nd_gelu, nd_relu, leaky_01, nd_erf};
    for (int d = 0; d < 2; d++) {
        nd_dtype dtype = d ? ND_F64 : ND_F32;
        for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
            nd_tensor *x =
                nd_set_requires_grad(nd_to(nd_from(ND_F64, ND_SHAPE(8), xs), dtype), true);
            double *y = read_all(fns[k](x));
            double *g = read_all(nd_gradient(nd_sum(fns[k](x), ND_ALL, false), x, false));
            for (int i = 0; i < 8; i++) {
                cr_assert(isfinite(y[i]), "op %zu (%s) at %g gives %g", k, nd_dtype_name(dtype),
                          xs[i], y[i]);
                cr_assert(isfinite(g[i]), "op %zu (%s) gradient at %g gives %g", k,
                          nd_dtype_name(dtype), xs[i], g[i]);
            }
            free(y), free(g);
        }
    }
    /* the exact limits */
    nd_tensor *x = nd_from(ND_F32, ND_SHAPE(2), (float[]){-1000.0f, 1000.0f});
    assert_values(nd_sigmoid(x), 0, 0, 1);
    assert_values(nd_softplus(x), 0, 0, 1000);
    assert_values(nd_gelu(x), 0, 0, 1000);
    assert_values(nd_tanh(x), 0, -1, 1);
}

ND_TEST(unary, nan_propagates) {
    nd_tensor *x = nd_from(ND_F64, ND_SHAPE(1), (double[]){NAN});
    const unary_fn fns[] = {nd_neg,  nd_abs,      nd_exp,     nd_sqrt,    nd_tanh, nd_relu,
                            nd_gelu, nd_softplus, nd_sigmoid, clamp_both, leaky_01};
    for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++)
        cr_assert(isnan(nd_item(fns[k](x))), "op %zu drops NaN", k);
    /* except sign, which is 0 at NaN in PyTorch (test_corners.c checks it) */
    cr_assert_eq(nd_item(nd_sign(x)), 0.0);
}

/* --------------------------------------------------------- derivatives */

ND_TEST(unary, derivatives_match_central_differences) {
    const double any[] = {-2.3, -0.7, -0.05, 0.4, 1.3, 2.6};
    const double positive[] = {0.3, 0.9, 1.7, 2.5};
    const double around_threshold[] = {-25.3, 18.7, 19.5, 21.0, 25.3};
    for (size_t k = 0; k < N_OPS; k++) {
        bool needs_positive = !strcmp(OPS[k].name, "log") || !strcmp(OPS[k].name, "sqrt") ||
                              !strcmp(OPS[k].name, "pow_half");
        if (!strcmp(OPS[k].name, "sign")) continue; /* checked below: zero everywhere */
        if (needs_positive)
            check_derivatives(OPS[k].name, OPS[k].fn, 4, positive);
        else
            check_derivatives(OPS[k].name, OPS[k].fn, 6, any);
    }
    check_derivatives("softplus", nd_softplus, 5, around_threshold);
    nd_tensor *x = nd_set_requires_grad(nd_from(ND_F64, ND_SHAPE(3), (double[]){-2, 0, 3}), true);
    assert_values(nd_gradient(nd_sum(nd_sign(x), ND_ALL, false), x, false), 0, 0, 0, 0);
    assert_values(nd_tangent(nd_sign(nd_make_dual(nd_detach(x), nd_ones_like(x)))), 0, 0, 0, 0);
}

ND_TEST(unary, second_derivatives) {
    const double any[] = {-2.3, -0.7, 0.4, 1.3, 2.6};
    const double positive[] = {0.3, 0.9, 1.7, 2.5};
    const struct {
        const char *name;
        unary_fn fn;
        bool positive;
    } cases[] = {
        {"exp", nd_exp, false},
        {"log", nd_log, true},
        {"sqrt", nd_sqrt, true},
        {"square", nd_square, false},
        {"sin", nd_sin, false},
        {"cos", nd_cos, false},
        {"tanh", nd_tanh, false},
        {"sigmoid", nd_sigmoid, false},
        {"cosh", nd_cosh, false},
        {"erf", nd_erf, false},
        {"softplus", nd_softplus, false},
        {"gelu", nd_gelu, false},
        {"pow3", pow3, false},
        {"abs", nd_abs, false},
        {"relu", nd_relu, false},
        {"clamp", clamp_both, false},
        {"leaky_relu", leaky_01, false},
        {"neg", nd_neg, false},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        check_second_derivative(cases[k].name, cases[k].fn, cases[k].positive ? 4 : 5,
                                cases[k].positive ? positive : any);
}

/* x² via pow_scalar(x, 2): exact squares, derivative exactly 2x. */
ND_TEST(unary, pow_scalar_two_is_exact) {
    nd_tensor *x = nd_set_requires_grad(
        nd_from(ND_F32, ND_SHAPE(4), (float[]){3.0f, -1.1f, 16777215.0f, 1e-20f}), true);
    nd_tensor *y = nd_pow_scalar(x, 2);
    cr_assert_eq(nd_type(y), ND_F32);
    float got[4], xs[4];
    nd_read(y, ND_F32, got, sizeof got);
    nd_read(x, ND_F32, xs, sizeof xs);
    for (int i = 0; i < 4; i++) cr_assert_eq(got[i], xs[i] * xs[i]);
    nd_tensor *g = nd_gradient(nd_sum(y, ND_ALL, false), x, false);
    nd_read(g, ND_F32, got, sizeof got);
    for (int i = 0; i < 4; i++) cr_assert_eq(got[i], 2 * xs[i]);
    /* int64 ** 2 stays int64; a negative power of integers is refused, as torch */
    nd_tensor *ints = nd_from(ND_I64, ND_SHAPE(2), (int64_t[]){-3, 3037000499});
    cr_assert_eq(nd_type(nd_pow_scalar(ints, 2)), ND_I64);
    assert_values(nd_pow_scalar(ints, 2), 0, 9, (double)INT64_C(9223372030926249001));
    cr_assert_eq(nd_type(nd_pow_scalar(ints, 0.5)), ND_F32);
    cr_assert_null(nd_pow_scalar(ints, -1));
    assert_error("nd_pow_scalar: integers to negative integer powers are not allowed");
}

/* ----------------------------------------------------------- layouts */

ND_TEST(unary, non_contiguous_inputs) {
    nd_tensor *base = nd_randn(ND_F32, ND_SHAPE(4, 6));
    nd_tensor *transposed = nd_transpose(base, 0, 1);
    nd_tensor *strided = nd_slice(base, 1, 1, ND_END, 2);
    cr_assert(!nd_is_contiguous(transposed) && !nd_is_contiguous(strided));
    const unary_fn fns[] = {nd_neg, nd_exp, nd_tanh, nd_sigmoid, nd_gelu, clamp_both, pow3};
    for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
        /* vectorised (libmvec) and scalar libm may differ in the last bits */
        assert_close(fns[k](transposed), fns[k](nd_contiguous(transposed)), 1e-6, 1e-7);
        assert_close(fns[k](strided), fns[k](nd_contiguous(strided)), 1e-6, 1e-7);
    }
    /* large enough to run on several threads */
    nd_tensor *big = nd_transpose(nd_randn(ND_F32, ND_SHAPE(300, 400)), 0, 1);
    assert_close(nd_sigmoid(big), nd_sigmoid(nd_contiguous(big)), 1e-6, 1e-7);
}

ND_TEST(unary, empty_and_scalar) {
    assert_shape(nd_exp(nd_zeros(ND_F32, ND_SHAPE(0, 3))), ND_SHAPE(0, 3));
    nd_tensor *s = nd_tanh(nd_scalar(0.5, ND_F64));
    cr_assert_eq(nd_ndim(s), 0);
    cr_assert_float_eq(nd_item(s), tanh(0.5), 1e-15);
}

/* ------------------------------------------------------------ bad input */

ND_TEST(unary, null_inputs_propagate) {
    const unary_fn fns[] = {nd_neg,      nd_abs,  nd_sign, nd_exp,  nd_log,     nd_sqrt,
                            nd_square,   nd_sin,  nd_cos,  nd_tanh, nd_sigmoid, nd_relu,
                            nd_softplus, nd_gelu, nd_cosh, nd_erf,  leaky_01,   clamp_both};
    for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
        nd_clear_error();
        cr_assert_null(fns[k](NULL));
        assert_error("NULL input");
    }
    nd_clear_error();
    cr_assert_null(nd_exp(NULL));
    assert_error("nd_exp: NULL input");
    /* the first error is the one reported */
    nd_clear_error();
    nd_tensor *a = nd_zeros(ND_F32, ND_SHAPE(5, 4)), *b = nd_zeros(ND_F32, ND_SHAPE(5));
    cr_assert_null(nd_tanh(nd_exp(nd_add(a, b))));
    assert_error("nd_add: shapes (5, 4) and (5,) do not broadcast at dim -1 (4 vs 5)");
    nd_clear_error();
    cr_assert_null(nd_clamp(a, NAN, 1));
    assert_error("nd_clamp: the bounds must not be NaN");
}
