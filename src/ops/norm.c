/* Vector norms over every element: p = 1 (Σ|x|), p = 2 (√Σx², the Frobenius
 * norm of a matrix) and p = INFINITY (max |x|), as torch.linalg.vector_norm.
 *
 * The norm has its own rules rather than being a composite of sqrt and sum:
 * at x = 0 the composite's gradient would be 0·∞ = NaN, where PyTorch (and
 * the subgradient everyone uses) gives 0. */
#include "reduce.h"

#include <math.h>

/* ---------------------------------------------------------------- kernel */

#define NORM_LANES 16
#define MAX_SPLIT  64

/* One part of the elements, as partial sums kept apart (they vectorise and the
 * order of additions is fixed) or as a running maximum. Accumulates in double. */
#define DEFINE_NORM_PART(NAME, T)                                                                  \
    static double NAME(const T *restrict x, int64_t n, double p) {                                 \
        if (isinf(p)) {                                                                            \
            double top = 0;                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                      \
                double v = fabs((double)x[i]);                                                     \
                if (v > top || v != v) top = v;                                                    \
                if (top != top) break;                                                             \
            }                                                                                      \
            return top;                                                                            \
        }                                                                                          \
        double lane[NORM_LANES] = {0};                                                             \
        int64_t i = 0;                                                                             \
        bool squares = p == 2;                                                                     \
        for (; i + NORM_LANES <= n; i += NORM_LANES)                                               \
            for (int k = 0; k < NORM_LANES; k++) {                                                 \
                double v = (double)x[i + k];                                                       \
                lane[k] += squares ? v * v : fabs(v);                                              \
            }                                                                                      \
        double total = 0;                                                                          \
        for (; i < n; i++) total += squares ? (double)x[i] * x[i] : fabs((double)x[i]);            \
        for (int k = 0; k < NORM_LANES; k++) total += lane[k];                                     \
        return total;                                                                              \
    }

DEFINE_NORM_PART(norm_part_f32, float)
DEFINE_NORM_PART(norm_part_f64, double)

/* Σ|x|^p (p = 1, 2) or max |x| (p = ∞) over a contiguous x, split between
 * threads and combined in a fixed order, so results do not depend on timing. */
static double norm_accumulate(nd_tensor *x, double p) {
    int64_t n = x->numel;
    int threads = nd__threads_for(n);
    if (threads > MAX_SPLIT) threads = MAX_SPLIT;
    double part[MAX_SPLIT];
    bool f32 = x->dtype == ND_F32;
    const void *data = nd__ptr(x);
    if (threads == 1) {
        part[0] = f32 ? norm_part_f32(data, n, p) : norm_part_f64(data, n, p);
    } else {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int t = 0; t < threads; t++) {
            int64_t lo = n * t / threads, hi = n * (t + 1) / threads;
            part[t] = f32 ? norm_part_f32((const float *)data + lo, hi - lo, p)
                          : norm_part_f64((const double *)data + lo, hi - lo, p);
        }
    }
    double total = 0;
    for (int t = 0; t < threads; t++) {
        if (isinf(p)) { /* a NaN from any part wins, and nothing replaces it */
            if (total == total && !(part[t] <= total)) total = part[t];
        } else
            total += part[t];
    }
    if (total != total && isinf(p)) return NAN;
    return p == 2 ? sqrt(total) : total;
}

/* ----------------------------------------------------------------- rules */

/* The saved norm (connected under create_graph), or, when the input carries a
 * tangent (forward over reverse), the norm recomputed so the tangent flows. */
static nd_tensor *norm_for_rule(const nd_node *node, nd_tensor *out) {
    if (out && !node->in[0]->tangent) return out;
    return nd_norm(node->in[0], node->p.f[0]);
}

/* d‖x‖/dx: sign(x) for p = 1; x/‖x‖ for p = 2 (0 at x = 0); for p = ∞, sign(x)
 * on the elements where |x| reaches the maximum, shared evenly between them. */
static nd_tensor *norm_derivative(const nd_node *node, nd_tensor *out) {
    nd_tensor *x = node->in[0];
    double p = node->p.f[0];
    if (p == 1) return nd_sign(x);
    if (p == 2) {
        nd_tensor *norm = norm_for_rule(node, out);
        nd_tensor *zero = nd_scalar(0, x->dtype);
        /* Dividing by 1 instead of 0 leaves x/‖x‖ = 0/1 = 0 at the origin. */
        nd_tensor *safe = nd_where(nd_eq(norm, zero), nd_scalar(1, x->dtype), norm);
        return nd_div(x, safe);
    }
    nd_tensor *reached = nd_eq(nd_abs(nd_detach(x)), nd_scalar(node->p.f[1], x->dtype));
    double ties = nd_item(nd_sum(reached, ND_ALL, false));
    nd_tensor *picked = nd_where(reached, nd_sign(x), nd_scalar(0, x->dtype));
    return ties > 1 ? nd_div_scalar(picked, ties) : picked;
}

static void norm_vjp(const nd_node *node, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    gin[0] = nd_mul(g, norm_derivative(node, out));
}
static nd_tensor *norm_jvp(const nd_node *node, nd_tensor *out, nd_tensor *const *tin) {
    return nd_sum(nd_mul(tin[0], norm_derivative(node, out)), ND_ALL, false);
}
static const nd_op NORM = {
    .name = "norm",
    .vjp = norm_vjp,
    .jvp = norm_jvp,
    .flags = ND_SAVES_INPUTS | ND_SAVES_OUTPUT,
    .vjp_formula = "g·∂y/∂x: sign(x) (p = 1), x/y (p = 2, 0 at x = 0), sign(x) shared among the "
                   "largest |x| (p = ∞)",
    .jvp_formula = "Σ dx·∂y/∂x",
};

nd_tensor *nd_norm(nd_tensor *t, double p) {
    ND_CHECK("nd_norm", t);
    if (!nd__is_float(t->dtype))
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_norm: expected a floating-point tensor, got %s (convert it with "
                           "nd_to)",
                           nd_dtype_name(t->dtype));
    if (p != 1 && p != 2 && p != INFINITY)
        return nd__fail("nd_norm: p must be 1, 2 or INFINITY, got %g", p);
    if (isinf(p) && t->numel == 0)
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_norm: the inf norm of an empty tensor (shape %s) is undefined: the "
                           "maximum of nothing has no value",
                           nd__tshape(t));
    nd_tensor *x = t;
    if (!t->contiguous) {
        x = nd__empty(t->dtype, t->ndim, t->shape);
        if (!x || nd__copy_into("nd_norm", x, t)) return NULL;
    }
    double value = norm_accumulate(x, p);
    nd_tensor *out = nd_scalar(value, t->dtype);
    nd_params params = {.f = {p, value}};
    return nd__record(&NORM, out, 1, &t, &params);
}
