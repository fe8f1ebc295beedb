/* Learning-rate schedules as closed forms: the rate at step (or epoch) t from
 * the base rate lr0. PyTorch's schedulers (StepLR, ExponentialLR,
 * CosineAnnealingLR) give these same values step by step; the last two are the
 * decays of the optimization chapter. Use them with nd_optim_set_lr:
 *
 *     nd_optim_set_lr(opt, nd_lr_cosine(0.1, epoch, 100, 0.0));
 */
#include "../core/internal.h"

#include <math.h>

/* lr0·γ^⌊t/step_size⌋: decays by γ every step_size steps. */
double nd_lr_step(double lr0, int64_t t, int64_t step_size, double gamma) {
    if (step_size <= 0)
        return nd__fail_nan("nd_lr_step: step_size must be > 0, got %lld", (long long)step_size);
    if (t < 0) return nd__fail_nan("nd_lr_step: step t must be >= 0, got %lld", (long long)t);
    return lr0 * pow(gamma, (double)(t / step_size));
}

/* lr0·γ^t. */
double nd_lr_exponential(double lr0, int64_t t, double gamma) {
    if (t < 0)
        return nd__fail_nan("nd_lr_exponential: step t must be >= 0, got %lld", (long long)t);
    return lr0 * pow(gamma, (double)t);
}

/* lr_min + (lr0 − lr_min)·(1 + cos(π t / t_max))/2: from lr0 at t = 0 down to
 * lr_min at t = t_max (and back up after, as PyTorch's closed form). */
double nd_lr_cosine(double lr0, int64_t t, int64_t t_max, double lr_min) {
    if (t_max <= 0)
        return nd__fail_nan("nd_lr_cosine: t_max must be > 0, got %lld", (long long)t_max);
    if (t < 0) return nd__fail_nan("nd_lr_cosine: step t must be >= 0, got %lld", (long long)t);
    const double pi = 3.14159265358979323846;
    return lr_min + (lr0 - lr_min) * (1.0 + cos(pi * (double)t / (double)t_max)) / 2.0;
}

/* lr0·exp(−k t). */
double nd_lr_exp_decay(double lr0, double t, double k) {
    if (!(t >= 0)) return nd__fail_nan("nd_lr_exp_decay: t must be >= 0, got %g", t);
    return lr0 * exp(-k * t);
}

/* lr0·(1 + α t)^−p. */
double nd_lr_poly_decay(double lr0, double t, double alpha, double power) {
    if (!(t >= 0)) return nd__fail_nan("nd_lr_poly_decay: t must be >= 0, got %g", t);
    double base = 1.0 + alpha * t;
    if (!(base > 0))
        return nd__fail_nan("nd_lr_poly_decay: 1 + alpha·t = %g must be > 0 (alpha %g, t %g)", base,
                            alpha, t);
    return lr0 * pow(base, -power);
}
