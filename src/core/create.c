/* The basic constructors: filled tensors and tensors from C arrays. */
#include "internal.h"

#include <math.h>

nd_tensor *nd_empty(nd_dtype dtype, int ndim, const int64_t *shape) {
    return nd__empty(dtype, ndim, shape);
}

nd_tensor *nd_zeros(nd_dtype dtype, int ndim, const int64_t *shape) {
    return nd__zeros(dtype, ndim, shape);
}

nd_tensor *nd_full(nd_dtype dtype, int ndim, const int64_t *shape, double value) {
    nd_tensor *t = nd__empty(dtype, ndim, shape);
    if (!t || t->numel == 0) return t;
    size_t esize = nd_dtype_size(dtype);
    char *p = nd__ptr(t);
    nd__store(dtype, p, value); /* one element converted, then replicated */
    switch (esize) {
    case 1:
        memset(p, *(unsigned char *)p, (size_t)t->numel);
        break;
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        uint32_t *q = (uint32_t *)p;
        for (int64_t i = 1; i < t->numel; i++) q[i] = v;
        break;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        uint64_t *q = (uint64_t *)p;
        for (int64_t i = 1; i < t->numel; i++) q[i] = v;
    }
    }
    return t;
}

nd_tensor *nd_ones(nd_dtype dtype, int ndim, const int64_t *shape) {
    return nd_full(dtype, ndim, shape, 1.0);
}

nd_tensor *nd_zeros_like(const nd_tensor *t) {
    if (!t) return nd__null_input("nd_zeros_like");
    return nd__zeros(t->dtype, t->ndim, t->shape);
}

nd_tensor *nd_ones_like(const nd_tensor *t) {
    if (!t) return nd__null_input("nd_ones_like");
    return nd_full(t->dtype, t->ndim, t->shape, 1.0);
}

nd_tensor *nd_full_like(const nd_tensor *t, double value) {
    if (!t) return nd__null_input("nd_full_like");
    return nd_full(t->dtype, t->ndim, t->shape, value);
}

nd_tensor *nd_scalar(double value, nd_dtype dtype) {
    return nd_full(dtype, 0, NULL, value);
}

nd_tensor *nd_from(nd_dtype dtype, int ndim, const int64_t *shape, const void *data) {
    nd_tensor *t = nd__empty(dtype, ndim, shape);
    if (!t) return NULL;
    if (t->numel > 0) {
        if (!data) return nd__fail("nd_from: NULL data for shape %s", nd__shape_str(ndim, shape));
        if (dtype == ND_BOOL) { /* any non-zero byte is true: keep bools canonical */
            const unsigned char *in = data;
            bool *out = nd__ptr(t);
            for (int64_t i = 0; i < t->numel; i++) out[i] = in[i] != 0;
        } else {
            memcpy(nd__ptr(t), data, t->storage->nbytes);
        }
    }
    return t;
}
