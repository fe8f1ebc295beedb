/* Adam and AdamW: PyTorch's torch.optim.Adam / AdamW (single-tensor path),
 * operation for operation, so the same run gives the same numbers. At step t:
 *
 *     g = g + weight_decay·p              (Adam: L2 coupled into the gradient)
 *     p = p·(1 − lr·weight_decay)         (AdamW: decay decoupled from it)
 *     m = β1·m + (1 − β1)·g
 *     v = β2·v + (1 − β2)·g²
 *     p = p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
 *
 * ε is added after the square root and the bias correction, as PyTorch does.
 * The step count t is kept per parameter: a parameter that got no gradient at
 * some step is not counted there, as in PyTorch. */
#include "optim.h"

#include <math.h>

/* The scalars of one step, computed in double as PyTorch's Python floats are,
 * then cast to the parameter's type. */
typedef struct {
    double wd_coupled, decay, beta1, keep1, beta2, keep2, bias2_sqrt, eps, neg_step;
} adam_scalars;

#define ADAM_LOOP(name, T, FMA, SQRT)                                                              \
    static void name(int64_t n, T *restrict p, const T *restrict g, T *restrict m, T *restrict v,  \
                     const adam_scalars *s) {                                                      \
        const T wd = (T)s->wd_coupled, decay = (T)s->decay;                                        \
        const T beta1 = (T)s->beta1, keep1 = (T)s->keep1, beta2 = (T)s->beta2;                     \
        const T keep2 = (T)s->keep2, bias2_sqrt = (T)s->bias2_sqrt, eps = (T)s->eps;               \
        const T neg_step = (T)s->neg_step;                                                         \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T grad = g[i], param = p[i];                                                           \
            if (wd != 0) grad = FMA(wd, param, grad);                                              \
            if (decay != 1) param = param * decay;                                                 \
            T mi = FMA(keep1, grad, m[i] * beta1);                                                 \
            T vi = v[i] * beta2 + keep2 * grad * grad;                                             \
            T denom = SQRT(vi) / bias2_sqrt + eps;                                                 \
            m[i] = mi;                                                                             \
            v[i] = vi;                                                                             \
            p[i] = param + neg_step * mi / denom;                                                  \
        }                                                                                          \
    }
ADAM_LOOP(adam_f32, float, fmaf, sqrtf)
ADAM_LOOP(adam_f64, double, fma, sqrt)

static void adam_update(nd_optim *o, int index, nd_dtype dtype, int64_t n, void *p, const void *g,
                        void *m, void *v) {
    const nd_adam_opts *a = &o->adam;
    double t = (double)o->steps[index];
    adam_scalars s = {
        .wd_coupled = a->decoupled ? 0.0 : a->weight_decay,
        .decay = a->decoupled ? 1.0 - o->lr * a->weight_decay : 1.0,
        .beta1 = a->beta1,
        .keep1 = 1.0 - a->beta1,
        .beta2 = a->beta2,
        .keep2 = 1.0 - a->beta2,
        .bias2_sqrt = sqrt(1.0 - pow(a->beta2, t)),
        .eps = a->eps,
        .neg_step = -(o->lr / (1.0 - pow(a->beta1, t))),
    };
    if (dtype == ND_F32)
        adam_f32(n, p, g, m, v, &s);
    else
        adam_f64(n, p, g, m, v, &s);
}

static bool adam_opts_valid(nd_adam_opts opts) {
    if (!(opts.lr > 0) || isinf(opts.lr))
        return nd__set_error("nd_adam: invalid learning rate %g (must be > 0)", opts.lr), false;
    if (!(opts.eps >= 0))
        return nd__set_error("nd_adam: invalid eps %g (must be >= 0)", opts.eps), false;
    if (!(opts.beta1 >= 0 && opts.beta1 < 1))
        return nd__set_error("nd_adam: invalid beta1 %g (must be in [0, 1))", opts.beta1), false;
    if (!(opts.beta2 >= 0 && opts.beta2 < 1))
        return nd__set_error("nd_adam: invalid beta2 %g (must be in [0, 1))", opts.beta2), false;
    if (!(opts.weight_decay >= 0))
        return nd__set_error("nd_adam: invalid weight_decay %g (must be >= 0)", opts.weight_decay),
               false;
    return true;
}

nd_optim *nd_adam(int n, nd_tensor *const *params, nd_adam_opts opts) {
    if (!adam_opts_valid(opts)) return NULL;
    nd_optim *o = nd__optim_new("nd_adam", n, params, 2, adam_update);
    if (!o) return NULL;
    o->adam = opts;
    o->lr = opts.lr;
    return o;
}
