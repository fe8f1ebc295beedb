/* Tangent arithmetic with NULL meaning zero, for the JVP rules of the ops
 * (forward mode): sums and differences of tangents that may be absent. */
#include "../core/internal.h"

nd_tensor *nd__tangent_sum(nd_tensor *a, nd_tensor *b) {
    if (!a) return b;
    if (!b) return a;
    return nd_add(a, b);
}

nd_tensor *nd__tangent_sub(nd_tensor *a, nd_tensor *b) {
    if (!b) return a;
    if (!a) return nd_neg(b);
    return nd_sub(a, b);
}

nd_tensor *nd__tangent_like(nd_tensor *t, const nd_tensor *out) {
    if (!t) return NULL;
    if (t->dtype != out->dtype) t = nd_to(t, out->dtype);
    if (!t) return NULL;
    int lead = t->ndim > out->ndim ? t->ndim - out->ndim : 0;
    bool same = t->ndim == lead + out->ndim;
    for (int i = 0; same && i < out->ndim; i++) same = t->shape[lead + i] == out->shape[i];
    if (same) return t;
    int64_t shape[ND_MAX_DIMS];
    memcpy(shape, t->shape, sizeof(int64_t) * (size_t)lead);
    memcpy(shape + lead, out->shape, sizeof(int64_t) * (size_t)out->ndim);
    return nd_expand(t, lead + out->ndim, shape);
}
