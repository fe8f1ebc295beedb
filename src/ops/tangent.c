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
