/* nd_web_bench.c — W6 and W4 of BENCHMARKS.md inside the WebAssembly module,
 * for the browser benchmark W12 (bench/web/). They do exactly what
 * bench/bench_train.c and bench/bench_autograd.c do natively, so that the
 * browser's numbers compare with the native ones; the page times each call
 * (performance.now()), the C side only runs the work, with no JSON per step. */
#include "nd_web.h"

#include <math.h>
#include <nd.h>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#define WEB_EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define WEB_EXPORT
#endif

static nd_tensor *param(int ndim, const int64_t *shape) {
    return nd_set_requires_grad(nd_zeros(ND_F32, ndim, shape), true);
}

/* W6: the 1-32-1 ReLU net on 256 points of linspace(-10, 10), target through
 * (-10,-10), (0,0), (5,-5), (10,20), MSE, full-batch Adam lr 0.01 from seed 0,
 * each step in its own scope as a user's loop. Returns the final MSE, NaN on
 * failure (nd_last_error() says why). */
WEB_EXPORT double nd_web_bench_w6(int steps) {
    float xs[256], ys[256];
    for (int i = 0; i < 256; i++) {
        double x = -10.0 + 20.0 * i / 255.0;
        xs[i] = (float)x;
        ys[i] = (float)(x < 0 ? x : x < 5 ? -x : 5 * x - 30);
    }
    double final = NAN;
    nd_scope_begin();
    nd_manual_seed(0);
    nd_tensor *x = nd_from(ND_F32, ND_SHAPE(256, 1), xs);
    nd_tensor *y = nd_from(ND_F32, ND_SHAPE(256, 1), ys);
    nd_tensor *p[] = {param(ND_SHAPE(32, 1)), param(ND_SHAPE(32)), param(ND_SHAPE(1, 32)),
                      param(ND_SHAPE(1))};
    nd_adam_opts opts = ND_ADAM_DEFAULTS;
    opts.lr = 0.01;
    nd_optim *adam = NULL;
    if (x && y && !nd_init_linear_(p[0], p[1]) && !nd_init_linear_(p[2], p[3]))
        adam = nd_adam(4, p, opts);
    for (int i = 0; adam && i < steps; i++) {
        nd_scope_begin();
        nd_optim_zero_grad(adam);
        nd_tensor *loss = nd_mse_loss(nd_linear(nd_relu(nd_linear(x, p[0], p[1])), p[2], p[3]), y);
        int rc = nd_backward(loss) || nd_optim_step(adam);
        if (rc == 0 && i == steps - 1) final = nd_item(loss);
        nd_scope_end();
        if (rc) break;
    }
    nd_optim_free(adam);
    nd_scope_end();
    return final;
}

/* W4: y = x (a scalar when n is 0, else n ones); 1000 × { y = y·1.0001 + 0.5 };
 * backward (through a sum when n > 0): 2000 small ops forward and back.
 * Returns x's gradient (its first element), NaN on failure. */
WEB_EXPORT double nd_web_bench_w4(int n) {
    nd_scope_begin();
    nd_tensor *x =
        nd_set_requires_grad(n ? nd_ones(ND_F32, ND_SHAPE(n)) : nd_scalar(1, ND_F32), true);
    nd_tensor *y = x;
    for (int i = 0; i < 1000; i++) y = nd_add_scalar(nd_mul_scalar(y, 1.0001), 0.5);
    if (n) y = nd_sum(y, ND_ALL, false);
    double grad = NAN;
    if (nd_backward(y) == 0) {
        nd_tensor *g = nd_grad(x);
        if (g) grad = n ? nd_item(nd_select(g, 0, 0)) : nd_item(g);
    }
    nd_scope_end();
    return grad;
}
