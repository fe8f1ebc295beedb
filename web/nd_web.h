/* nd_web.h — the C functions the browser page calls (web/interactive/nd.js
 * wraps them as window.nd). Numbers and text in, JSON text out: JavaScript
 * needs no knowledge of nd's structs, and the native test driver (web/native.c)
 * prints the very same JSON, so that the page's numbers can be compared with
 * native nd's. Each function returning text returns NULL on failure, with the
 * reason in nd_web_error(); the text stays valid until the next call. */
#ifndef ND_WEB_H
#define ND_WEB_H

#include <stdint.h>

const char *nd_web_version(void);
const char *nd_web_error(void);
int nd_web_matmul(const double *a, int n, int k, const double *b, int m, double *out);

/* Optimization: method "gd", "momentum" (nd_sgd with momentum β) or "newton"
 * (x ← x − η·f'/f'', f'' by autograd) on f "x^2", "xcos" (x·cos(πx)),
 * "xcos015" (x·cos(0.15πx)) or "cosh" (cosh(x/2)) → {xs, fs, final}. */
const char *nd_web_gd(const char *f, const char *method, double x0, double lr, double momentum,
                      int steps);
/* The slides' quadratic a·x1² + b·x2² from (x1, x2) → {x1s, x2s, fs, final}. */
const char *nd_web_gd2(const char *method, double a, double b, double x1, double x2, double lr,
                       double momentum, int steps);
/* `nd fit`: "x1,y1 x2,y2 ..." → {formula, bias, terms: [{slope, knot}], xs, ys}. */
const char *nd_web_fit(const char *points);
/* `nd autodiff`: the expression and its inputs, "name=value" lines (x=[1,2,3])
 * → {output, value, shape, nodes, forward, backward, grads, dot}. */
const char *nd_web_autodiff(const char *text, const char *inputs);
/* An activation ("relu", "sigmoid", "tanh", "leaky-relu", "gelu") and its
 * derivative by autograd on n points of [lo, hi] → {x, y, dy}. */
const char *nd_web_activation(const char *name, double lo, double hi, int n);
/* sin on [−π, π] by n ReLUs (the relu-synthesis lab) → {n, error, bound, x, sin, approx}. */
const char *nd_web_sin_relu(int n);
/* nd_warp_affine, bilinear: rgba (h, w, 4) bytes by m (2×3, row-major) into out. */
int nd_web_warp(const uint8_t *rgba, int h, int w, const double *m, uint8_t *out);

/* The 1-N-1 ReLU net of the relu-synthesis lab, trained with full-batch Adam
 * step by step: start → {x, y}; steps → {step, losses, fit}. */
const char *nd_web_relu_net_start(const char *points, int hidden, double lr);
const char *nd_web_relu_net_steps(int steps);
/* The affine lab's recovery of theta by Adam through grid_sample, from the
 * test card (rgba, h × w): start → {size, source, target}; steps → {step,
 * losses, theta, current} (pictures as RGBA bytes of size × size). */
const char *nd_web_affine_start(const uint8_t *rgba, int h, int w, double lr);
const char *nd_web_affine_steps(int steps);

/* W12 of BENCHMARKS.md (bench/web/): W6 (the 1-32-1 ReLU fit by full-batch
 * Adam, `steps` steps) → its final MSE, and W4 (1000 × {y·1.0001 + 0.5} and
 * backward, on a scalar for n = 0 or n elements) → x's gradient; NaN on failure.
 * As bench/bench_train.c and bench/bench_autograd.c; the caller times them. */
double nd_web_bench_w6(int steps);
double nd_web_bench_w4(int n);

#endif
