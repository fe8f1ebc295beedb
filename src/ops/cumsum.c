/* Running sums along a dim: y[i] = x[0] + ... + x[i], as torch.cumsum.
 *
 * Floats accumulate in double (as PyTorch on the CPU) and keep their dtype;
 * integers and bools give int64. The gradient of a running sum is the running
 * sum taken from the other end: x[i] feeds y[i], y[i+1], ..., so
 * dL/dx[i] = g[i] + g[i+1] + ... = flip(cumsum(flip(g))). */
#include "reduce.h"

#include <stdlib.h>

/* x is a contiguous (outer, n, inner) block, y too. Each block's running sums
 * are kept in one row of `inner` accumulators, so the loop over a row of the
 * block is contiguous and vectorises. */
#define DEFINE_CUMSUM(NAME, T, ACC, OUT)                                                           \
    static void NAME(const void *xv, int64_t n, int64_t inner, ACC *restrict acc, void *yv) {      \
        const T *restrict x = xv;                                                                  \
        OUT *restrict y = yv;                                                                      \
        for (int64_t j = 0; j < inner; j++) acc[j] = 0;                                            \
        for (int64_t i = 0; i < n; i++)                                                            \
            for (int64_t j = 0; j < inner; j++) {                                                  \
                acc[j] += (ACC)x[i * inner + j];                                                   \
                y[i * inner + j] = (OUT)acc[j];                                                    \
            }                                                                                      \
    }

DEFINE_CUMSUM(cumsum_b8, bool, int64_t, int64_t)
DEFINE_CUMSUM(cumsum_u8, uint8_t, int64_t, int64_t)
DEFINE_CUMSUM(cumsum_i32, int32_t, int64_t, int64_t)
DEFINE_CUMSUM(cumsum_i64, int64_t, int64_t, int64_t)
DEFINE_CUMSUM(cumsum_f32, float, double, float)
DEFINE_CUMSUM(cumsum_f64, double, double, double)

/* Runs the blocks (in threads when there is enough work), each with its own
 * accumulator row; int64 and double have the same size, so one buffer fits both. */
static int run_cumsum(nd_dtype dtype, const char *x, int64_t outer, int64_t n, int64_t inner,
                      char *y) {
    size_t in_size = nd_dtype_size(dtype), out_size = nd__is_float(dtype) ? in_size : 8;
    int threads = nd__threads_for(outer * n * inner);
    if (outer < threads) threads = outer > 1 ? (int)outer : 1;
    bool failed = false;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        double *acc = malloc((size_t)inner * sizeof(double));
        if (!acc) {
#pragma omp atomic write
            failed = true;
        }
#pragma omp for schedule(static)
        for (int64_t o = 0; o < outer; o++) {
            if (!acc) continue;
            const char *xo = x + (size_t)(o * n * inner) * in_size;
            char *yo = y + (size_t)(o * n * inner) * out_size;
            switch (dtype) {
            case ND_BOOL:
                cumsum_b8(xo, n, inner, (int64_t *)acc, yo);
                break;
            case ND_U8:
                cumsum_u8(xo, n, inner, (int64_t *)acc, yo);
                break;
            case ND_I32:
                cumsum_i32(xo, n, inner, (int64_t *)acc, yo);
                break;
            case ND_I64:
                cumsum_i64(xo, n, inner, (int64_t *)acc, yo);
                break;
            case ND_F32:
                cumsum_f32(xo, n, inner, acc, yo);
                break;
            case ND_F64:
                cumsum_f64(xo, n, inner, acc, yo);
                break;
            }
        }
        free(acc);
    }
    return failed ? -1 : 0;
}

/* t[::-1] along dim: a view with a negative step. */
static nd_tensor *flip(nd_tensor *t, int dim) {
    return nd_slice(t, dim, ND_END, ND_END, -1);
}

static void cumsum_vjp(const nd_node *node, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    int dim = node->p.dim;
    if (g->ndim == 0) { /* a 0-d running sum is the identity */
        gin[0] = g;
        return;
    }
    gin[0] = flip(nd_cumsum(flip(g, dim), dim), dim);
}
static nd_tensor *cumsum_jvp(const nd_node *node, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return nd_cumsum(tin[0], node->p.dim); /* linear */
}
static const nd_op CUMSUM = {
    .name = "cumsum",
    .vjp = cumsum_vjp,
    .jvp = cumsum_jvp,
    .flags = 0,
    .vjp_formula = "reverse cumsum of g along dim",
    .jvp_formula = "cumsum(dx, dim)",
};

nd_tensor *nd_cumsum(nd_tensor *t, int dim) {
    ND_CHECK("nd_cumsum", t);
    int d = nd__wrap_dim("nd_cumsum", dim, t->ndim);
    if (d < 0) return NULL;
    int64_t outer = 1, n = 1, inner = 1;
    for (int k = 0; k < t->ndim; k++) {
        if (k < d) outer *= t->shape[k];
        if (k == d) n = t->shape[k];
        if (k > d) inner *= t->shape[k];
    }
    nd_tensor *x = t;
    if (!t->contiguous) { /* one contiguous copy, in the same dim order */
        x = nd__empty(t->dtype, t->ndim, t->shape);
        if (!x || nd__copy_into("nd_cumsum", x, t)) return NULL;
    }
    nd_dtype out_dtype = nd__is_float(t->dtype) ? t->dtype : ND_I64;
    nd_tensor *out = nd__empty(out_dtype, t->ndim, t->shape);
    if (!out) return NULL;
    if (out->numel > 0 && run_cumsum(t->dtype, nd__ptr(x), outer, n, inner, nd__ptr(out)))
        return nd__fail_as(ND_ERR_NOMEM,
                           "nd_cumsum: out of memory for %lld accumulators (shape %s)",
                           (long long)inner, nd__tshape(t));
    nd_params p = {.dim = d};
    return nd__record(&CUMSUM, out, 1, &t, &p);
}
