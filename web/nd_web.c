/* nd_web.c — the small C API the browser page calls (declared in nd_web.h):
 * nd itself (its tensors, autograd and optimizers, compiled to WebAssembly),
 * with plain numbers in and JSON text out. This file: the version, the error,
 * the matrix product and the optimization panel's trajectories. */
#include "nd_web.h"

#include "json.h"

#include <math.h>
#include <nd.h>
#include <stdlib.h>
#include <string.h>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#define WEB_EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define WEB_EXPORT
#endif

WEB_EXPORT const char *nd_web_version(void) {
    return nd_version();
}

WEB_EXPORT const char *nd_web_error(void) {
    return web_error();
}

/* out (n × m) = a (n × k) · b (k × m), row-major doubles, through nd_matmul. */
WEB_EXPORT int nd_web_matmul(const double *a, int n, int k, const double *b, int m, double *out) {
    nd_scope_begin();
    nd_tensor *c =
        nd_matmul(nd_from(ND_F64, ND_SHAPE(n, k), a), nd_from(ND_F64, ND_SHAPE(k, m), b));
    if (c) memcpy(out, nd_data(nd_contiguous(c)), (size_t)n * (size_t)m * sizeof *out);
    if (!c) web_fail_nd("matmul");
    nd_scope_end();
    return c ? 0 : -1;
}

/* ------------------------------------------------------------ optimization
 * The objectives of cli/labs/optimization.c, written with nd ops so that
 * autograd differentiates them. `coef` is the 2-D quadratic's (a, b). */

typedef struct {
    const char *name;
    double c; /* x·cos(c·x)'s c */
} objective;

static nd_tensor *apply(const objective *o, nd_tensor *x, const double *coef) {
    if (coef) return nd_sum(nd_mul(nd_square(x), nd_from(ND_F64, ND_SHAPE(2), coef)), -1, false);
    if (!strcmp(o->name, "x^2")) return nd_square(x);
    if (!strcmp(o->name, "cosh")) return nd_cosh(nd_mul_scalar(x, 0.5));
    return nd_mul(x, nd_cos(nd_mul_scalar(x, o->c)));
}

static int objective_of(const char *name, objective *o) {
    const double pi = 3.14159265358979323846;
    *o = (objective){.name = name, .c = 0};
    if (!strcmp(name, "xcos")) o->c = pi;
    if (!strcmp(name, "xcos015")) o->c = 0.15 * pi;
    if (o->c != 0 || !strcmp(name, "x^2") || !strcmp(name, "cosh")) return 0;
    web_fail("nd.gd: unknown function '%s' (x^2, xcos, xcos015 or cosh)", name);
    return -1;
}

/* One step of Newton's method from x (dim 1 or 2) into next:
 * x − η·H⁻¹∇f, with ∇f and the Hessian H by autograd (row i of H is the
 * gradient of ∂f/∂xi) and the 2 × 2 system solved by Cramer's rule. A
 * singular H (f'' = 0 in 1-D) has no Newton step: an error, not an inf. */
static int newton_step(nd_tensor *f, nd_tensor *at, int dim, double lr, const double *x,
                       double *next) {
    double g[2], h[2][2];
    nd_tensor *grad = nd_gradient(f, at, true);
    for (int i = 0; i < dim; i++) {
        nd_tensor *gi = nd_select(grad, 0, i);
        nd_tensor *row = nd_gradient(gi, at, false);
        if (!row || nd_read(row, ND_F64, h[i], (size_t)dim * sizeof(double))) return -1;
        g[i] = nd_item(gi);
    }
    double det = dim == 1 ? h[0][0] : h[0][0] * h[1][1] - h[0][1] * h[1][0];
    if (det == 0 || !isfinite(det)) {
        if (dim == 1)
            web_fail("nd.gd: Newton's method needs f''(x) != 0, but f''(%g) = %g", x[0], h[0][0]);
        else
            web_fail("nd.gd: Newton's method needs an invertible Hessian, but at (%g, %g) it is "
                     "[[%g, %g], [%g, %g]]",
                     x[0], x[1], h[0][0], h[0][1], h[1][0], h[1][1]);
        return 1;
    }
    if (dim == 1) {
        next[0] = x[0] - lr * g[0] / det;
        return 0;
    }
    next[0] = x[0] - lr * (h[1][1] * g[0] - h[0][1] * g[1]) / det;
    next[1] = x[1] - lr * (h[0][0] * g[1] - h[1][0] * g[0]) / det;
    return 0;
}

/* Descends from x0 (dim 1 or 2) by method; iterates into xs ((steps + 1) × dim)
 * and f at each into fs. */
static int descend(const objective *o, const double *coef, int dim, const double *x0,
                   const char *method, double lr, double momentum, int steps, double *xs,
                   double *fs) {
    bool newton = !strcmp(method, "newton");
    if (strcmp(method, "gd") && strcmp(method, "momentum") && !newton) {
        web_fail("nd.gd: unknown method '%s' (gd, momentum or newton)", method);
        return -1;
    }
    if (!strcmp(method, "gd")) momentum = 0;
    if (!isfinite(lr) || !isfinite(momentum) || !isfinite(x0[0]) || !isfinite(x0[dim - 1])) {
        web_fail("nd.gd: the learning rate, momentum and start must be numbers (got lr %g, "
                 "momentum %g, start %g)",
                 lr, momentum, x0[0]);
        return -1;
    }
    nd_scope_begin();
    nd_tensor *x = nd_set_requires_grad(nd_from(ND_F64, ND_SHAPE(dim), x0), true);
    nd_optim *opt = newton ? NULL : nd_sgd(1, &x, (nd_sgd_opts){.lr = lr, .momentum = momentum});
    int rc = x && (newton || opt) ? 0 : -1;
    memcpy(xs, x0, (size_t)dim * sizeof *xs);
    for (int t = 0; t <= steps && rc == 0; t++) {
        nd_scope_begin();
        /* Newton starts each step from a fresh leaf at the last iterate */
        nd_tensor *at =
            newton ? nd_set_requires_grad(nd_from(ND_F64, ND_SHAPE(dim), xs + t * dim), true) : x;
        nd_tensor *f = nd_sum(apply(o, at, coef), ND_ALL, false);
        fs[t] = nd_item(f);
        if (!f) rc = -1;
        if (t < steps && newton && rc == 0) {
            rc = newton_step(f, at, dim, lr, xs + t * dim, xs + (t + 1) * dim);
        } else if (t < steps && rc == 0) {
            nd_optim_zero_grad(opt);
            rc = nd_backward(f) || nd_optim_step(opt) ? -1 : 0;
            if (rc == 0) rc = nd_read(x, ND_F64, xs + (t + 1) * dim, (size_t)dim * sizeof *xs);
        }
        nd_scope_end();
    }
    if (rc < 0) web_fail_nd("nd.gd"); /* rc > 0: newton_step said why */
    nd_optim_free(opt);
    nd_scope_end();
    return rc;
}

static const char *trajectory(int dim, const double *xs, const double *fs, int steps) {
    json_reset();
    json_raw("{");
    double *column = malloc((size_t)(steps + 1) * sizeof *column);
    if (!column) return web_fail("nd.gd: out of memory");
    for (int i = 0; i < dim; i++) {
        for (int t = 0; t <= steps; t++) column[t] = xs[t * dim + i];
        json_key(dim == 1 ? "xs" : i ? "x2s" : "x1s");
        json_numbers(column, steps + 1);
    }
    free(column);
    json_key("fs");
    json_numbers(fs, steps + 1);
    json_key("final");
    if (dim == 1)
        json_number(xs[steps]);
    else
        json_numbers(xs + steps * dim, dim);
    json_raw("}");
    return json_text();
}

static int steps_ok(int steps) {
    if (steps >= 0 && steps <= 10000) return 0;
    web_fail("nd.gd: steps must be 0 to 10000, not %d", steps);
    return -1;
}

WEB_EXPORT const char *nd_web_gd(const char *f, const char *method, double x0, double lr,
                                 double momentum, int steps) {
    objective o;
    if (objective_of(f, &o) || steps_ok(steps)) return NULL;
    double *buf = malloc(2 * (size_t)(steps + 1) * sizeof *buf);
    if (!buf) return web_fail("nd.gd: out of memory");
    const char *out = descend(&o, NULL, 1, &x0, method, lr, momentum, steps, buf, buf + steps + 1)
                          ? NULL
                          : trajectory(1, buf, buf + steps + 1, steps);
    free(buf);
    return out;
}

WEB_EXPORT const char *nd_web_gd2(const char *method, double a, double b, double x1, double x2,
                                  double lr, double momentum, int steps) {
    objective o = {.name = "quadratic"};
    const double coef[2] = {a, b}, start[2] = {x1, x2};
    if (steps_ok(steps)) return NULL;
    double *buf = malloc(3 * (size_t)(steps + 1) * sizeof *buf);
    if (!buf) return web_fail("nd.gd2: out of memory");
    const char *out =
        descend(&o, coef, 2, start, method, lr, momentum, steps, buf, buf + 2 * (steps + 1))
            ? NULL
            : trajectory(2, buf, buf + 2 * (steps + 1), steps);
    free(buf);
    return out;
}
