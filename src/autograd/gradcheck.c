/* Gradient checking: both AD modes against central differences, in float64. */
#include "../core/internal.h"

#include <math.h>
#include <stdlib.h>

/* The numerical Jacobian (m, n) by central differences: column j is
 * (f(x + eps·e_j) − f(x − eps·e_j)) / 2eps. */
static double *numerical_jacobian(nd_fn f, void *ctx, nd_tensor *x, double eps, int64_t m) {
    int64_t n = x->numel;
    double *jac = calloc((size_t)(m * n > 0 ? m * n : 1), sizeof *jac);
    double *xs = malloc((size_t)(n > 0 ? n : 1) * sizeof *xs);
    double *plus = malloc((size_t)(m > 0 ? m : 1) * sizeof *plus);
    double *minus = malloc((size_t)(m > 0 ? m : 1) * sizeof *minus);
    bool ok = jac && xs && plus && minus && nd_read(x, ND_F64, xs, (size_t)n * sizeof *xs) == 0;
    for (int64_t j = 0; ok && j < n; j++) {
        double saved = xs[j];
        for (int side = 0; side < 2 && ok; side++) {
            xs[j] = saved + (side ? -eps : eps);
            nd_scope_begin();
            nd_tensor *xj = nd_from(ND_F64, x->ndim, x->shape, xs);
            bool previous = nd_set_grad_enabled(false);
            nd_tensor *y = xj ? f(xj, ctx) : NULL;
            nd_set_grad_enabled(previous);
            ok = y && y->numel == m &&
                 nd_read(y, ND_F64, side ? minus : plus, (size_t)m * sizeof(double)) == 0;
            nd_scope_end();
        }
        xs[j] = saved;
        for (int64_t i = 0; ok && i < m; i++) jac[i * n + j] = (plus[i] - minus[i]) / (2 * eps);
    }
    free(xs);
    free(plus);
    free(minus);
    if (!ok) {
        free(jac);
        return NULL;
    }
    return jac;
}

/* Compares one analytical Jacobian with the numerical one; names the worst element. */
static int compare(const char *mode, nd_tensor *analytic, const double *numeric, int64_t m,
                   int64_t n, double atol, double rtol) {
    double *a = malloc((size_t)(m * n > 0 ? m * n : 1) * sizeof *a);
    if (!a) return nd__fail_int_as(ND_ERR_NOMEM, "nd_gradcheck: out of memory");
    if (nd_read(analytic, ND_F64, a, (size_t)(m * n) * sizeof *a)) {
        free(a);
        return -1;
    }
    int64_t worst = -1;
    double worst_excess = 0;
    for (int64_t k = 0; k < m * n; k++) {
        double diff = fabs(a[k] - numeric[k]);
        double excess = diff - (atol + rtol * fabs(numeric[k]));
        if (!(excess <= 0) && (worst < 0 || !(excess <= worst_excess))) {
            worst = k;
            worst_excess = excess;
        }
    }
    int rc = 0;
    if (worst >= 0)
        rc = nd__fail_int_as(
            ND_ERR_NUMERIC,
            "nd_gradcheck: %s mode differs from central differences at output %lld, "
            "input %lld: %.10g (%s) vs %.10g (numerical), |diff| %.3g > atol %.3g + "
            "rtol %.3g·|numerical|",
            mode, (long long)(worst / n), (long long)(worst % n), a[worst], mode, numeric[worst],
            fabs(a[worst] - numeric[worst]), atol, rtol);
    free(a);
    return rc;
}

int nd_gradcheck(nd_fn f, void *ctx, nd_tensor *x, double eps, double atol, double rtol) {
    if (!f) return nd__fail_int("nd_gradcheck: NULL function");
    if (!x) return nd__null_input_int("nd_gradcheck");
    if (!(eps > 0)) return nd__fail_int("nd_gradcheck: eps must be > 0, got %g", eps);
    nd_scope_begin();
    nd_tensor *x64 = nd_contiguous(nd_to(nd_detach(x), ND_F64));
    nd_tensor *y = x64 ? f(x64, ctx) : NULL;
    int rc = -1;
    if (y) {
        int64_t m = y->numel, n = x64->numel;
        double *numeric = numerical_jacobian(f, ctx, x64, eps, m);
        if (!numeric) {
            if (!nd_last_error()) nd__set_error("nd_gradcheck: the function failed");
        } else {
            nd_tensor *rev = nd_jacobian(f, ctx, x64, ND_REVERSE, ND_LAYOUT_TENSOR);
            rc = rev ? compare("reverse", rev, numeric, m, n, atol, rtol) : -1;
            if (rc == 0) {
                nd_tensor *fwd = nd_jacobian(f, ctx, x64, ND_FORWARD, ND_LAYOUT_TENSOR);
                rc = fwd ? compare("forward", fwd, numeric, m, n, atol, rtol) : -1;
            }
            free(numeric);
        }
    } else if (!nd_last_error()) {
        nd__set_error("nd_gradcheck: the function returned NULL");
    }
    nd_scope_end();
    return rc;
}
