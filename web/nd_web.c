/* nd_web.c — the small C API the browser page calls: nd itself (its tensors,
 * autograd and optimizers, compiled to WebAssembly), with plain numbers in and
 * out so that JavaScript needs no knowledge of nd's structs. Each function
 * returns 0, or -1 with the reason in nd_web_error(). */
#include <nd.h>
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
    return nd_last_error();
}

/* out (n × m) = a (n × k) · b (k × m), row-major doubles, through nd_matmul. */
WEB_EXPORT int nd_web_matmul(const double *a, int n, int k, const double *b, int m, double *out) {
    nd_scope_begin();
    nd_tensor *c =
        nd_matmul(nd_from(ND_F64, ND_SHAPE(n, k), a), nd_from(ND_F64, ND_SHAPE(k, m), b));
    if (c) memcpy(out, nd_data(nd_contiguous(c)), (size_t)n * (size_t)m * sizeof *out);
    nd_scope_end();
    return c ? 0 : -1;
}

/* Gradient descent on f(x) = x² with nd's SGD (momentum as PyTorch's): the
 * gradient by autograd, steps + 1 positions into xs (xs[0] = x0). */
WEB_EXPORT int nd_web_gd_square(double x0, double lr, double momentum, int steps, double *xs) {
    nd_scope_begin(); /* holds x; each step has its own scope inside */
    nd_tensor *x = nd_set_requires_grad(nd_from(ND_F64, 0, NULL, &x0), true);
    nd_optim *opt = nd_sgd(1, &x, (nd_sgd_opts){.lr = lr, .momentum = momentum});
    int status = opt ? 0 : -1;
    xs[0] = x0;
    for (int t = 0; t < steps && status == 0; t++) {
        nd_scope_begin();
        nd_optim_zero_grad(opt);
        status = nd_backward(nd_square(x)) || nd_optim_step(opt) ? -1 : 0;
        xs[t + 1] = nd_item(x);
        nd_scope_end();
    }
    nd_optim_free(opt);
    nd_scope_end();
    return status;
}
