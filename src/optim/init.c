/* Initialisers, as torch.nn.init: fill a tensor in place with random values
 * whose scale depends on the layer's fan-in and fan-out, so that signals keep
 * their variance through many layers. Seeded by nd_manual_seed.
 *
 * The fans of a weight of shape (out, in, k1, k2, ...) are
 *     fan_in = in·k1·k2·...,   fan_out = out·k1·k2·...
 * (PyTorch's rule: a Linear weight is (out, in), a convolution's adds a kernel).
 *
 * Initialising is not part of the model's computation: the writes happen with
 * gradient recording off, so a parameter that already requires a gradient can
 * be (re)initialised. */
#include "../core/internal.h"
#include "../core/random.h"

#include <math.h>

typedef enum { DRAW_UNIFORM, DRAW_NORMAL } draw_kind;

/* Fills t with lo + (hi − lo)·U[0, 1) or mean + std·N(0, 1), in C order. */
static int fill_random(const char *op, nd_tensor *t, draw_kind kind, double a, double b) {
    if (!nd__is_float(t->dtype))
        return nd__fail_int_as(ND_ERR_DTYPE, "%s: the tensor must be floating point, got %s", op,
                               nd_dtype_name(t->dtype));
    nd_scope_begin();
    bool previous = nd_set_grad_enabled(false);
    nd_tensor *values = nd__empty(ND_F64, t->ndim, t->shape);
    int rc = -1;
    if (values) {
        double *v = nd__ptr(values);
        for (int64_t i = 0; i < values->numel; i++)
            v[i] =
                kind == DRAW_UNIFORM ? a + (b - a) * nd__rand_uniform() : a + b * nd__rand_normal();
        rc = nd_copy_(t, values); /* converts to t's dtype and follows its strides */
    }
    nd_set_grad_enabled(previous);
    nd_scope_end();
    return rc;
}

static int fans(const char *op, const nd_tensor *w, double *fan_in, double *fan_out) {
    if (w->ndim < 2)
        return nd__fail_int_as(ND_ERR_SHAPE,
                               "%s: fan in and fan out need a weight with at least 2 dims, got "
                               "shape %s",
                               op, nd__tshape(w));
    double receptive = 1;
    for (int d = 2; d < w->ndim; d++) receptive *= (double)w->shape[d];
    *fan_in = (double)w->shape[1] * receptive;
    *fan_out = (double)w->shape[0] * receptive;
    if (*fan_in == 0 || *fan_out == 0)
        return nd__fail_int_as(ND_ERR_SHAPE, "%s: a weight of shape %s has no fan in or fan out",
                               op, nd__tshape(w));
    return 0;
}

int nd_init_uniform_(nd_tensor *t, double lo, double hi) {
    ND_CHECK_INT("nd_init_uniform_", t);
    if (!(lo <= hi)) return nd__fail_int("nd_init_uniform_: lo %g must not exceed hi %g", lo, hi);
    return fill_random("nd_init_uniform_", t, DRAW_UNIFORM, lo, hi);
}

int nd_init_normal_(nd_tensor *t, double mean, double std) {
    ND_CHECK_INT("nd_init_normal_", t);
    if (!(std >= 0)) return nd__fail_int("nd_init_normal_: std %g must be >= 0", std);
    return fill_random("nd_init_normal_", t, DRAW_NORMAL, mean, std);
}

/* Glorot & Bengio: std = gain·√(2/(fan_in + fan_out)); a uniform with that std
 * spans ±√3·std. */
int nd_init_xavier_uniform_(nd_tensor *w, double gain) {
    ND_CHECK_INT("nd_init_xavier_uniform_", w);
    double fan_in, fan_out;
    if (fans("nd_init_xavier_uniform_", w, &fan_in, &fan_out)) return -1;
    double bound = sqrt(3.0) * gain * sqrt(2.0 / (fan_in + fan_out));
    return fill_random("nd_init_xavier_uniform_", w, DRAW_UNIFORM, -bound, bound);
}

int nd_init_xavier_normal_(nd_tensor *w, double gain) {
    ND_CHECK_INT("nd_init_xavier_normal_", w);
    double fan_in, fan_out;
    if (fans("nd_init_xavier_normal_", w, &fan_in, &fan_out)) return -1;
    return fill_random("nd_init_xavier_normal_", w, DRAW_NORMAL, 0.0,
                       gain * sqrt(2.0 / (fan_in + fan_out)));
}

/* He et al. with PyTorch's defaults (mode fan_in, nonlinearity leaky_relu with
 * negative slope a): gain √(2/(1 + a²)), std = gain/√fan_in. */
static double kaiming_std(double fan_in, double a) {
    return sqrt(2.0 / (1.0 + a * a)) / sqrt(fan_in);
}

int nd_init_kaiming_uniform_(nd_tensor *w, double a) {
    ND_CHECK_INT("nd_init_kaiming_uniform_", w);
    double fan_in, fan_out;
    if (fans("nd_init_kaiming_uniform_", w, &fan_in, &fan_out)) return -1;
    double bound = sqrt(3.0) * kaiming_std(fan_in, a);
    return fill_random("nd_init_kaiming_uniform_", w, DRAW_UNIFORM, -bound, bound);
}

int nd_init_kaiming_normal_(nd_tensor *w, double a) {
    ND_CHECK_INT("nd_init_kaiming_normal_", w);
    double fan_in, fan_out;
    if (fans("nd_init_kaiming_normal_", w, &fan_in, &fan_out)) return -1;
    return fill_random("nd_init_kaiming_normal_", w, DRAW_NORMAL, 0.0, kaiming_std(fan_in, a));
}

/* torch.nn.Linear.reset_parameters: kaiming_uniform with a = √5 gives the bound
 * √3·√(2/6)/√fan_in = 1/√fan_in for w, and b uses the same bound. */
int nd_init_linear_(nd_tensor *w, nd_tensor *b) {
    ND_CHECK_INT("nd_init_linear_", w);
    double fan_in, fan_out;
    if (fans("nd_init_linear_", w, &fan_in, &fan_out)) return -1;
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return nd__fail_int_as(ND_ERR_SHAPE,
                               "nd_init_linear_: bias of shape %s does not match weight of shape "
                               "%s (expected (%lld,))",
                               nd__tshape(b), nd__tshape(w), (long long)w->shape[0]);
    double bound = 1.0 / sqrt(fan_in);
    if (nd_init_kaiming_uniform_(w, sqrt(5.0))) return -1;
    return b ? fill_random("nd_init_linear_", b, DRAW_UNIFORM, -bound, bound) : 0;
}
