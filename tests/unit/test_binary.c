/* pow, maximum, minimum: values and gradients against PyTorch
 * (tests/reference/math.py), dtype promotion, VJP and JVP against central
 * differences, second derivatives, and bad input. */
#include "support.h"

#include <stdlib.h>

typedef nd_tensor *(*binary_fn)(nd_tensor *, nd_tensor *);

static double *read_all(nd_tensor *t) {
    cr_assert(t, "%s", nd_last_error());
    int64_t n = nd_numel(t);
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    cr_assert(v && nd_read(t, ND_F64, v, (size_t)n * sizeof *v) == 0);
    return v;
}

static nd_tensor *vec(int64_t n, const double *values) {
    return nd_from(ND_F64, 1, (int64_t[]){n}, values);
}

/* sum(w · f(a, b)) with fixed weights. */
static double weighted(binary_fn f, nd_tensor *a, nd_tensor *b, nd_tensor *w) {
    return nd_item(nd_sum(nd_mul(w, f(a, b)), ND_ALL, false));
}

/* Both partial derivatives of f at (a, b), in float64: the VJP (nd_gradients)
 * and the JVP (tangents on both inputs) against central differences. */
static void check_derivatives(const char *name, binary_fn f, int64_t n, const double *as,
                              const double *bs) {
    const double h = 1e-6, tol = 1e-6;
    nd_scope_begin();
    nd_tensor *a = nd_set_requires_grad(vec(n, as), true);
    nd_tensor *b = nd_set_requires_grad(vec(n, bs), true);
    nd_tensor *w = nd_randn(ND_F64, 1, (int64_t[]){n});
    nd_tensor *grads[2];
    nd_tensor *y = nd_sum(nd_mul(w, f(a, b)), ND_ALL, false);
    cr_assert_eq(nd_gradients(y, 2, (nd_tensor *[]){a, b}, grads, false), 0, "%s: %s", name,
                 nd_last_error());
    double *moved = malloc((size_t)n * sizeof *moved);
    for (int side = 0; side < 2; side++) {
        const double *xs = side ? bs : as;
        double *grad = read_all(grads[side]);
        for (int64_t i = 0; i < n; i++) {
            memcpy(moved, xs, (size_t)n * sizeof *moved);
            moved[i] = xs[i] + h;
            double up = side ? weighted(f, a, vec(n, moved), w) : weighted(f, vec(n, moved), b, w);
            moved[i] = xs[i] - h;
            double down =
                side ? weighted(f, a, vec(n, moved), w) : weighted(f, vec(n, moved), b, w);
            double numeric = (up - down) / (2 * h);
            cr_assert(fabs(grad[i] - numeric) <= tol * (1 + fabs(numeric)),
                      "%s: VJP for input %d at %lld is %.10g, central difference %.10g", name, side,
                      (long long)i, grad[i], numeric);
        }
        free(grad);
    }
    /* forward mode, both tangents at once: d/dh f(a + h·va, b + h·vb) */
    nd_tensor *va = nd_randn(ND_F64, 1, (int64_t[]){n}), *vb = nd_randn(ND_F64, 1, (int64_t[]){n});
    double *tangent =
        read_all(nd_tangent(f(nd_make_dual(nd_detach(a), va), nd_make_dual(nd_detach(b), vb))));
    double *up = read_all(f(nd_add(a, nd_mul_scalar(va, h)), nd_add(b, nd_mul_scalar(vb, h))));
    double *down = read_all(f(nd_sub(a, nd_mul_scalar(va, h)), nd_sub(b, nd_mul_scalar(vb, h))));
    for (int64_t i = 0; i < n; i++) {
        double numeric = (up[i] - down[i]) / (2 * h);
        cr_assert(fabs(tangent[i] - numeric) <= tol * (1 + fabs(numeric)),
                  "%s: JVP at %lld is %.10g, central difference %.10g", name, (long long)i,
                  tangent[i], numeric);
    }
    free(moved), free(tangent), free(up), free(down);
    nd_scope_end();
}

/* ------------------------------------------------------ maximum, minimum */

ND_TEST(binary, maximum_minimum_match_torch) {
    const char *names[] = {"maximum", "minimum"};
    const binary_fn fns[] = {nd_maximum, nd_minimum};
    nd_tensor *a = golden("math_a41.npy"), *b = golden("math_b15.npy");
    for (int k = 0; k < 2; k++) {
        char file[64];
        snprintf(file, sizeof file, "math_%s_f64.npy", names[k]);
        assert_close(fns[k](a, b), golden(file), 0, 0);
        snprintf(file, sizeof file, "math_%s_f32.npy", names[k]);
        nd_tensor *y32 = fns[k](nd_to(a, ND_F32), nd_to(b, ND_F32));
        cr_assert_eq(nd_type(y32), ND_F32);
        assert_close(y32, golden(file), 0, 0);
        /* gradients, broadcast (4, 1) against (1, 5), with ties split half and half */
        nd_tensor *ga = nd_set_requires_grad(nd_clone(a), true);
        nd_tensor *gb = nd_set_requires_grad(nd_clone(b), true);
        nd_tensor *grads[2];
        cr_assert_eq(nd_gradients(nd_sum(fns[k](ga, gb), ND_ALL, false), 2, (nd_tensor *[]){ga, gb},
                                  grads, false),
                     0);
        snprintf(file, sizeof file, "math_%s_ga.npy", names[k]);
        assert_close(grads[0], golden(file), 1e-15, 0);
        snprintf(file, sizeof file, "math_%s_gb.npy", names[k]);
        assert_close(grads[1], golden(file), 1e-15, 0);
    }
}

ND_TEST(binary, maximum_ties_nan_and_types) {
    nd_tensor *a = nd_set_requires_grad(nd_from(ND_F64, ND_SHAPE(3), (double[]){1, 2, 2}), true);
    nd_tensor *b = nd_set_requires_grad(nd_from(ND_F64, ND_SHAPE(3), (double[]){2, 2, 1}), true);
    nd_tensor *grads[2];
    nd_gradients(nd_sum(nd_maximum(a, b), ND_ALL, false), 2, (nd_tensor *[]){a, b}, grads, false);
    assert_values(grads[0], 0, 0, 0.5, 1);
    assert_values(grads[1], 0, 1, 0.5, 0);
    /* NaN wins on either side, as torch.maximum/minimum */
    nd_tensor *x = nd_from(ND_F32, ND_SHAPE(2), (float[]){NAN, 1.0f});
    nd_tensor *y = nd_from(ND_F32, ND_SHAPE(2), (float[]){0.0f, NAN});
    double *mx = read_all(nd_maximum(x, y)), *mn = read_all(nd_minimum(x, y));
    cr_assert(isnan(mx[0]) && isnan(mx[1]) && isnan(mn[0]) && isnan(mn[1]));
    free(mx), free(mn);
    /* promotion as PyTorch: int64 with float32 is float32, float32 with float64 is float64 */
    nd_tensor *i = nd_from(ND_I64, ND_SHAPE(3), (int64_t[]){-5, 0, 7});
    nd_tensor *f = nd_from(ND_F32, ND_SHAPE(3), (float[]){-4.5f, 0.5f, 6.5f});
    nd_tensor *m = nd_maximum(i, f);
    cr_assert_eq(nd_type(m), ND_F32);
    assert_values(m, 0, -4.5, 0.5, 7);
    cr_assert_eq(nd_type(nd_minimum(f, nd_to(f, ND_F64))), ND_F64);
    nd_tensor *i32 = nd_from(ND_I32, ND_SHAPE(3), (int32_t[]){3, -9, 7});
    cr_assert_eq(nd_type(nd_minimum(i, i32)), ND_I64);
    assert_values(nd_minimum(i, i32), 0, -5, -9, 7);
    /* bool: maximum is "or", minimum is "and" */
    nd_tensor *p = nd_from(ND_BOOL, ND_SHAPE(3), (bool[]){true, false, false});
    nd_tensor *q = nd_from(ND_BOOL, ND_SHAPE(3), (bool[]){true, true, false});
    cr_assert_eq(nd_type(nd_maximum(p, q)), ND_BOOL);
    assert_values(nd_maximum(p, q), 0, 1, 1, 0);
    assert_values(nd_minimum(p, q), 0, 1, 0, 0);
}

/* ------------------------------------------------------------------ pow */

ND_TEST(binary, pow_matches_torch) {
    nd_tensor *a = golden("math_pow_a.npy"), *b = golden("math_pow_b.npy");
    assert_close(nd_pow(a, b), golden("math_pow_f64.npy"), 1e-14, 0);
    nd_tensor *y32 = nd_pow(nd_to(a, ND_F32), nd_to(b, ND_F32));
    cr_assert_eq(nd_type(y32), ND_F32);
    assert_close(y32, golden("math_pow_f32.npy"), 1e-6, 0);
    nd_tensor *ga = nd_set_requires_grad(nd_clone(a), true);
    nd_tensor *gb = nd_set_requires_grad(nd_clone(b), true);
    nd_tensor *y = nd_sum(nd_mul(nd_pow(ga, gb), golden("math_pow_w.npy")), ND_ALL, false);
    nd_tensor *grads[2];
    cr_assert_eq(nd_gradients(y, 2, (nd_tensor *[]){ga, gb}, grads, false), 0);
    assert_close(grads[0], golden("math_pow_ga.npy"), 1e-12, 1e-14);
    assert_close(grads[1], golden("math_pow_gb.npy"), 1e-12, 1e-14);
}

/* 0^0, 0^b·log(0) and friends: PyTorch's masked gradients (0 where they would be
 * NaN or -inf from a constant region), and its -inf where the power really blows up. */
ND_TEST(binary, pow_at_zero_base) {
    nd_tensor *a = nd_set_requires_grad(golden("math_pow0_a.npy"), true);
    nd_tensor *b = nd_set_requires_grad(golden("math_pow0_b.npy"), true);
    nd_tensor *y = nd_pow(a, b);
    assert_close(y, golden("math_pow0.npy"), 1e-15, 0);
    nd_tensor *grads[2];
    cr_assert_eq(nd_gradients(nd_sum(y, ND_ALL, false), 2, (nd_tensor *[]){a, b}, grads, false), 0);
    assert_close(grads[0], golden("math_pow0_ga.npy"), 1e-15, 0);
    assert_close(grads[1], golden("math_pow0_gb.npy"), 1e-15, 0);
}

ND_TEST(binary, integer_and_bool_powers) {
    nd_tensor *p = nd_pow(golden("math_ipow_a.npy"), golden("math_ipow_b.npy"));
    cr_assert_eq(nd_type(p), ND_I64);
    assert_close(p, golden("math_ipow.npy"), 0, 0);
    /* int ** float tensor promotes to float32 */
    nd_tensor *i = nd_from(ND_I64, ND_SHAPE(2), (int64_t[]){4, 9});
    nd_tensor *half = nd_from(ND_F32, ND_SHAPE(1), (float[]){0.5f});
    cr_assert_eq(nd_type(nd_pow(i, half)), ND_F32);
    assert_values(nd_pow(i, half), 0, 2, 3);
    /* weak scalars: f32 stays f32, f64 stays f64, bool ** 2 is int64 (torch) */
    nd_tensor *f = nd_from(ND_F32, ND_SHAPE(2), (float[]){4, 9});
    cr_assert_eq(nd_type(nd_pow_scalar(f, 2.5)), ND_F32);
    assert_values(nd_pow_scalar(f, 2.5), 1e-6, 32, 243);
    cr_assert_eq(nd_type(nd_pow_scalar(nd_to(f, ND_F64), 3)), ND_F64);
    nd_tensor *mask = nd_from(ND_BOOL, ND_SHAPE(2), (bool[]){true, false});
    cr_assert_eq(nd_type(nd_pow_scalar(mask, 2)), ND_I64);
    assert_values(nd_pow_scalar(mask, 2), 0, 1, 0);
    cr_assert_null(nd_pow(mask, mask));
    assert_error("nd_pow: not defined for bool tensors");
}

ND_TEST(binary, derivatives_match_central_differences) {
    const double as[] = {0.4, 1.3, 2.2, 0.9, 3.1};
    const double bs[] = {-1.2, 0.5, 2.0, 3.3, -0.4};
    check_derivatives("pow", nd_pow, 5, as, bs);
    const double xs[] = {-1.5, 0.2, 2.0, -0.3, 1.1};
    const double ys[] = {0.5, -0.4, 1.0, 0.7, 1.4};
    check_derivatives("maximum", nd_maximum, 5, xs, ys);
    check_derivatives("minimum", nd_minimum, 5, xs, ys);
}

/* d²(a^b)/da² and d²(a^b)/db² through the VJP recorded under create_graph. */
ND_TEST(binary, pow_second_derivatives) {
    const double av = 1.7, bv = 2.6;
    nd_tensor *a = nd_set_requires_grad(nd_scalar(av, ND_F64), true);
    nd_tensor *b = nd_set_requires_grad(nd_scalar(bv, ND_F64), true);
    nd_tensor *y = nd_pow(a, b);
    nd_tensor *da = nd_gradient(y, a, true), *db = nd_gradient(y, b, true);
    double daa = nd_item(nd_gradient(da, a, false));
    double dbb = nd_item(nd_gradient(db, b, false));
    double dab = nd_item(nd_gradient(da, b, false));
    cr_assert_float_eq(daa, bv * (bv - 1) * pow(av, bv - 2), 1e-12);
    cr_assert_float_eq(dbb, pow(av, bv) * log(av) * log(av), 1e-12);
    /* d/db (b·a^(b-1)) = a^(b-1) + b·a^(b-1)·log a */
    cr_assert_float_eq(dab, pow(av, bv - 1) * (1 + bv * log(av)), 1e-12);
    /* and pow_scalar: (x^3)'' = 6x */
    nd_tensor *x = nd_set_requires_grad(nd_scalar(av, ND_F64), true);
    nd_tensor *dx = nd_gradient(nd_pow_scalar(x, 3), x, true);
    cr_assert_float_eq(nd_item(nd_gradient(dx, x, false)), 6 * av, 1e-12);
}

ND_TEST(binary, non_contiguous_inputs) {
    nd_tensor *base = nd_rand(ND_F64, ND_SHAPE(4, 6));
    nd_tensor *t = nd_transpose(base, 0, 1);                                /* (6, 4) */
    nd_tensor *s = nd_slice(nd_rand(ND_F64, ND_SHAPE(8)), 0, 0, ND_END, 2); /* (4,) */
    const binary_fn fns[] = {nd_pow, nd_maximum, nd_minimum};
    for (int k = 0; k < 3; k++)
        assert_close(fns[k](t, s), fns[k](nd_contiguous(t), nd_contiguous(s)), 1e-14, 0);
}

ND_TEST(binary, bad_inputs) {
    nd_tensor *a = nd_zeros(ND_F32, ND_SHAPE(5, 4)), *b = nd_zeros(ND_F32, ND_SHAPE(5));
    const char *names[] = {"nd_pow", "nd_maximum", "nd_minimum"};
    const binary_fn fns[] = {nd_pow, nd_maximum, nd_minimum};
    for (int k = 0; k < 3; k++) {
        nd_clear_error();
        cr_assert_null(fns[k](a, b));
        char want[128];
        snprintf(want, sizeof want,
                 "%s: shapes (5, 4) and (5,) do not broadcast at dim -1 (4 vs 5)", names[k]);
        assert_error(want);
        nd_clear_error();
        cr_assert_null(fns[k](NULL, b));
        assert_error("NULL input");
        cr_assert_null(fns[k](a, NULL));
    }
    nd_clear_error();
    cr_assert_null(nd_pow_scalar(NULL, 2));
    assert_error("nd_pow_scalar: NULL input");
}
