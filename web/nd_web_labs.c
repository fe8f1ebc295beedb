/* nd_web_labs.c — the page's ReLU-synthesis, activation and warp panels (see
 * nd_web.h): the same constructions as `nd fit` and cli/labs/relu_synthesis.c
 * and activations.c (relu_sum.c is shared with them), with nd's ops. */
#include "json.h"
#include "nd_web.h"
#include "relu_sum.h"

#include <math.h>
#include <nd.h>
#include <nd_image.h>
#include <stdlib.h>
#include <string.h>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#define WEB_EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define WEB_EXPORT
#endif

WEB_EXPORT const char *nd_web_fit(const char *points) {
    relu_sum f;
    char error[512];
    if (relu_sum_parse(points ? points : "", &f, error, sizeof error))
        return web_fail("nd fit: %s", error);
    char *formula = relu_sum_formula(&f);
    json_reset();
    json_raw("{");
    json_key("formula");
    json_string(formula ? formula : "");
    json_key("bias");
    json_number(f.bias);
    json_key("terms");
    json_raw("[");
    for (int i = 0; i + 1 < f.n; i++) {
        json_raw(i ? ",{" : "{");
        json_key("slope");
        json_number(f.weight[i]);
        json_key("knot");
        json_number(f.x[i]);
        json_raw("}");
    }
    json_raw("]");
    json_key("xs");
    json_numbers(f.x, f.n);
    json_key("ys");
    json_numbers(f.y, f.n);
    json_raw("}");
    free(formula);
    relu_sum_free(&f);
    return formula ? json_text() : web_fail("nd fit: out of memory");
}

/* The lab's activations, by their names in `nd lab activations --fn`. */
static nd_tensor *activate(const char *name, nd_tensor *x) {
    if (!strcmp(name, "relu")) return nd_relu(x);
    if (!strcmp(name, "sigmoid")) return nd_sigmoid(x);
    if (!strcmp(name, "tanh")) return nd_tanh(x);
    if (!strcmp(name, "leaky-relu")) return nd_leaky_relu(x, 0.1);
    if (!strcmp(name, "gelu")) return nd_gelu(x);
    return NULL;
}

WEB_EXPORT const char *nd_web_activation(const char *name, double lo, double hi, int n) {
    if (strcmp(name, "relu") && strcmp(name, "sigmoid") && strcmp(name, "tanh") &&
        strcmp(name, "leaky-relu") && strcmp(name, "gelu"))
        return web_fail("activation: unknown function '%s' (relu, sigmoid, tanh, leaky-relu, gelu)",
                        name);
    if (!(n >= 2 && n <= 100000) || !isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return web_fail("activation: want 2 to 100000 points on [lo, hi], lo < hi (got %d on "
                        "[%g, %g])",
                        n, lo, hi);
    nd_scope_begin();
    /* f'(x) by autograd: the gradient of Σ f(x_i) is f'(x_i) in place i */
    nd_tensor *x = nd_set_requires_grad(nd_linspace(lo, hi, n, ND_F64), true);
    nd_tensor *y = activate(name, x);
    nd_tensor *dy = nd_gradient(nd_sum(y, ND_ALL, false), x, false);
    const char *out = NULL;
    if (dy) {
        json_reset();
        json_raw("{");
        json_key("x");
        json_tensor(x);
        json_key("y");
        json_tensor(y);
        json_key("dy");
        json_tensor(dy);
        json_raw("}");
        out = json_text();
    } else {
        web_fail_nd("activation");
    }
    nd_scope_end();
    return out;
}

/* As the lab's universal(): sin through n + 1 equal steps of [−π, π], the
 * error over 4001 points; the curves on 401 of them for drawing. */
WEB_EXPORT const char *nd_web_sin_relu(int n) {
    const double pi = 3.14159265358979323846;
    if (n < 1 || n > 1000) return web_fail("sin by N ReLUs: N must be 1 to 1000, not %d", n);
    double *xs = malloc(2 * (size_t)(n + 1) * sizeof *xs), *ys = xs ? xs + n + 1 : NULL;
    relu_sum f;
    if (!xs) return web_fail("sin by N ReLUs: out of memory");
    for (int i = 0; i <= n; i++) {
        xs[i] = -pi + 2 * pi * i / n;
        ys[i] = sin(xs[i]);
    }
    int rc = relu_sum_build(&f, n + 1, xs, ys);
    free(xs);
    if (rc) return web_fail("sin by N ReLUs: out of memory");
    nd_scope_begin();
    const char *out = NULL;
    nd_tensor *curves[2][2]; /* [error grid, drawing grid][sin, approx] */
    const int sizes[2] = {4001, 401};
    for (int g = 0; g < 2; g++) {
        nd_tensor *x = nd_linspace(-pi, pi, sizes[g], ND_F64);
        nd_tensor *y = nd_full_like(x, f.bias); /* bias + Σ weight_i·relu(x − x_i) */
        for (int i = 0; i + 1 < f.n; i++)
            y = nd_add(y, nd_mul_scalar(nd_relu(nd_sub_scalar(x, f.x[i])), f.weight[i]));
        curves[g][0] = nd_sin(x), curves[g][1] = y;
    }
    nd_tensor *error = nd_max(nd_abs(nd_sub(curves[0][1], curves[0][0])), ND_ALL, false);
    if (error && curves[1][1]) {
        json_reset();
        json_raw("{");
        json_key("n");
        json_raw("%d", n);
        json_key("error");
        json_number(nd_item(error));
        json_key("bound");
        json_number(pow(2 * pi / n, 2) / 8);
        json_key("x");
        json_tensor(nd_linspace(-pi, pi, sizes[1], ND_F64));
        json_key("sin");
        json_tensor(curves[1][0]);
        json_key("approx");
        json_tensor(curves[1][1]);
        json_raw("}");
        out = json_text();
    } else {
        web_fail_nd("sin by N ReLUs");
    }
    nd_scope_end();
    relu_sum_free(&f);
    return out;
}

WEB_EXPORT int nd_web_warp(const uint8_t *rgba, int h, int w, const double *m, uint8_t *out) {
    for (int i = 0; i < 6; i++)
        if (!isfinite(m[i])) {
            web_fail("nd_warp_affine: the matrix holds %g: every entry must be a number", m[i]);
            return -1;
        }
    nd_scope_begin();
    nd_tensor *img = nd_from(ND_U8, ND_SHAPE(h, w, 4), rgba);
    nd_tensor *warped = nd_warp_affine(img, nd_from(ND_F64, ND_SHAPE(2, 3), m), h, w, ND_BILINEAR);
    int rc = warped ? nd_read(warped, ND_U8, out, (size_t)h * (size_t)w * 4) : -1;
    if (rc) web_fail_nd("nd.warp");
    nd_scope_end();
    return rc;
}
