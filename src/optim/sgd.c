/* Stochastic gradient descent with momentum, dampening, weight decay and
 * Nesterov momentum: PyTorch's torch.optim.SGD, operation for operation, so
 * the same run gives the same numbers:
 *
 *     d = g + weight_decay·p
 *     buf = d                                   (first step)
 *     buf = momentum·buf + (1 − dampening)·d    (later steps)
 *     d = nesterov ? d + momentum·buf : buf     (when momentum ≠ 0)
 *     p = p − lr·d
 *
 * PyTorch's `a.add_(b, alpha=c)` is one fused multiply-add per element on its
 * vectorised path, and so is ours (fma), so the roundings agree too. */
#include "optim.h"

#include <math.h>

/* The update of one element; WD, MOMENTUM, FIRST and NESTEROV are constants
 * where it is expanded (below), so that each case compiles to a branch-free
 * vector loop. Scalars are cast to the parameter's type first, as PyTorch
 * casts its Python numbers. */
#define SGD_ELEMENTS(T, FMA, WD, MOMENTUM, FIRST, NESTEROV)                                        \
    for (int64_t i = 0; i < n; i++) {                                                              \
        T d = g[i];                                                                                \
        if (WD) d = FMA(wd, p[i], d);                                                              \
        if (MOMENTUM) {                                                                            \
            T b = FIRST ? d : FMA(keep, d, buf[i] * momentum);                                     \
            buf[i] = b;                                                                            \
            d = NESTEROV ? FMA(momentum, b, d) : b;                                                \
        }                                                                                          \
        p[i] = FMA(neg_lr, d, p[i]);                                                               \
    }

#define SGD_LOOP(name, T, FMA)                                                                     \
    static void name(int64_t n, T *restrict p, const T *restrict g, T *restrict buf, bool first,   \
                     const nd_sgd_opts *opts, double lr) {                                         \
        const T wd = (T)opts->weight_decay, momentum = (T)opts->momentum;                          \
        const T keep = (T)(1.0 - opts->dampening), neg_lr = (T)(-lr);                              \
        const bool decay = opts->weight_decay != 0, nesterov = opts->nesterov;                     \
        if (!buf && decay)                                                                         \
            SGD_ELEMENTS(T, FMA, 1, 0, 0, 0)                                                       \
        else if (!buf)                                                                             \
            SGD_ELEMENTS(T, FMA, 0, 0, 0, 0)                                                       \
        else if (first && decay)                                                                   \
            SGD_ELEMENTS(T, FMA, 1, 1, 1, nesterov)                                                \
        else if (first)                                                                            \
            SGD_ELEMENTS(T, FMA, 0, 1, 1, nesterov)                                                \
        else if (decay && nesterov)                                                                \
            SGD_ELEMENTS(T, FMA, 1, 1, 0, 1)                                                       \
        else if (decay)                                                                            \
            SGD_ELEMENTS(T, FMA, 1, 1, 0, 0)                                                       \
        else if (nesterov)                                                                         \
            SGD_ELEMENTS(T, FMA, 0, 1, 0, 1)                                                       \
        else                                                                                       \
            SGD_ELEMENTS(T, FMA, 0, 1, 0, 0)                                                       \
    }
SGD_LOOP(sgd_f32, float, fmaf)
SGD_LOOP(sgd_f64, double, fma)

static void sgd_update(nd_optim *o, int index, nd_dtype dtype, int64_t n, void *p, const void *g,
                       void *buf, void *unused) {
    (void)unused;
    bool first = o->steps[index] == 1;
    if (o->sgd.momentum == 0) buf = NULL; /* plain SGD keeps no buffer */
    if (dtype == ND_F32)
        sgd_f32(n, p, g, buf, first, &o->sgd, o->lr);
    else
        sgd_f64(n, p, g, buf, first, &o->sgd, o->lr);
}

static bool sgd_opts_valid(nd_sgd_opts opts) {
    if (!(opts.lr > 0) || isinf(opts.lr))
        return nd__set_error("nd_sgd: invalid learning rate %g (must be > 0)", opts.lr), false;
    if (!(opts.momentum >= 0))
        return nd__set_error("nd_sgd: invalid momentum %g (must be >= 0)", opts.momentum), false;
    if (!(opts.weight_decay >= 0))
        return nd__set_error("nd_sgd: invalid weight_decay %g (must be >= 0)", opts.weight_decay),
               false;
    if (isnan(opts.dampening))
        return nd__set_error("nd_sgd: invalid dampening %g", opts.dampening), false;
    if (opts.nesterov && (opts.momentum <= 0 || opts.dampening != 0))
        return nd__set_error("nd_sgd: Nesterov momentum requires a momentum > 0 and zero "
                             "dampening (got momentum %g, dampening %g)",
                             opts.momentum, opts.dampening),
               false;
    return true;
}

nd_optim *nd_sgd(int n, nd_tensor *const *params, nd_sgd_opts opts) {
    if (!sgd_opts_valid(opts)) return NULL;
    nd_optim *o = nd__optim_new("nd_sgd", n, params, opts.momentum != 0 ? 1 : 0, sgd_update);
    if (!o) return NULL;
    o->sgd = opts;
    o->lr = opts.lr;
    return o;
}
