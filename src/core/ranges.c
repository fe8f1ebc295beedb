/* Ranges of numbers: arange, linspace, eye — with torch's exact semantics, so
 * that element counts and end points agree with what students see in PyTorch. */
#include "internal.h"

#include <math.h>

/* More elements than any range could sensibly have: beyond this the count
 * itself (a double) stops being exact. */
#define MAX_RANGE_ELEMENTS (INT64_C(1) << 52)

nd_tensor *nd_arange(double start, double stop, double step, nd_dtype dtype) {
    if ((unsigned)dtype > ND_F64)
        return nd__fail_as(ND_ERR_DTYPE, "nd_arange: invalid dtype %d", (int)dtype);
    if (dtype == ND_BOOL)
        return nd__fail_as(ND_ERR_DTYPE, "nd_arange: not implemented for dtype bool");
    /* torch converts the bounds to the dtype first: an integer range starts at
     * trunc(start) and steps by trunc(step), so a step of 0.5 is a step of 0. */
    bool integer = !nd__is_float(dtype);
    double first = integer ? trunc(start) : start;
    double last = integer ? trunc(stop) : stop;
    double delta = integer ? trunc(step) : step;
    if (isnan(delta) || delta == 0)
        return nd__fail("nd_arange: step must be nonzero (got %g%s)", step,
                        integer ? " before truncation to an integer" : "");
    if (!isfinite(first) || !isfinite(last) || !isfinite(delta))
        return nd__fail("nd_arange: unsupported range %g -> %g with step %g", start, stop, step);
    if ((delta > 0 && last < first) || (delta < 0 && last > first))
        return nd__fail("nd_arange: upper bound and lower bound inconsistent with step sign "
                        "(start %g, stop %g, step %g)",
                        start, stop, step);
    /* torch counts int64 ranges from the truncated bounds and every other dtype
     * from the bounds as given: arange(0.2, 3.9, 1) has 3 int64 elements, 4 int32. */
    double count = dtype == ND_I64 ? ceil((last - first) / delta) : ceil((stop - start) / step);
    if (!(count >= 0) || count > (double)MAX_RANGE_ELEMENTS)
        return nd__fail("nd_arange: range %g -> %g with step %g has too many elements (%g)", start,
                        stop, step, count);
    int64_t n = (int64_t)count;
    nd_tensor *t = nd__empty(dtype, 1, &n);
    if (!t) return NULL;
    char *p = nd__ptr(t);
    size_t esize = nd_dtype_size(dtype);
    /* first + i·step for each i (never a running sum, whose rounding errors grow). */
    for (int64_t i = 0; i < n; i++)
        nd__store(dtype, p + (size_t)i * esize, first + delta * (double)i);
    return t;
}

nd_tensor *nd_linspace(double start, double stop, int64_t n, nd_dtype dtype) {
    if ((unsigned)dtype > ND_F64)
        return nd__fail_as(ND_ERR_DTYPE, "nd_linspace: invalid dtype %d", (int)dtype);
    if (dtype == ND_BOOL)
        return nd__fail_as(ND_ERR_DTYPE, "nd_linspace: not implemented for dtype bool");
    if (n < 0)
        return nd__fail("nd_linspace: number of steps must be non-negative, got %lld",
                        (long long)n);
    if (!isfinite(start) || !isfinite(stop))
        return nd__fail("nd_linspace: bounds must be finite, got %g and %g", start, stop);
    nd_tensor *t = nd__empty(dtype, 1, &n);
    if (!t || n == 0) return t;
    char *p = nd__ptr(t);
    size_t esize = nd_dtype_size(dtype);
    if (n == 1) {
        nd__store(dtype, p, start);
        return t;
    }
    /* As torch: the first half counts up from start and the second half down
     * from stop, so that both end points come out exact. float32 computes in
     * float32, as torch does, so the values agree to the last bit. */
    int64_t halfway = n / 2;
    if (dtype == ND_F32) {
        float a = (float)start, b = (float)stop;
        float step = (b - a) / (float)(n - 1);
        float *out = (float *)p;
        for (int64_t i = 0; i < n; i++)
            out[i] = i < halfway ? a + step * (float)i : b - step * (float)(n - i - 1);
    } else {
        if (!nd__is_float(dtype)) {
            /* torch converts the bounds to the integer dtype first, then steps
             * in double and truncates each value: (0.5, 10.7, 5) gives 0, 2, 5, 7, 10 */
            nd__store(dtype, p, start);
            start = nd__load(dtype, p);
            nd__store(dtype, p, stop);
            stop = nd__load(dtype, p);
        }
        double step = (stop - start) / (double)(n - 1);
        for (int64_t i = 0; i < n; i++) {
            double v = i < halfway ? start + step * (double)i : stop - step * (double)(n - i - 1);
            nd__store(dtype, p + (size_t)i * esize, v);
        }
    }
    return t;
}

nd_tensor *nd_eye(int64_t n, nd_dtype dtype) {
    if ((unsigned)dtype > ND_F64)
        return nd__fail_as(ND_ERR_DTYPE, "nd_eye: invalid dtype %d", (int)dtype);
    if (n < 0) return nd__fail("nd_eye: n must be non-negative, got %lld", (long long)n);
    nd_tensor *t = nd__zeros(dtype, 2, (const int64_t[]){n, n});
    if (!t) return NULL;
    char *p = nd__ptr(t);
    size_t esize = nd_dtype_size(dtype);
    for (int64_t i = 0; i < n; i++) nd__store(dtype, p + (size_t)(i * (n + 1)) * esize, 1.0);
    return t;
}
