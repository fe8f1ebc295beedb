/* The one place where a gradient that came back in a broadcast shape is summed
 * down to the shape of the input it belongs to. */
#include "../core/internal.h"

nd_tensor *nd__sum_to(nd_tensor *g, int ndim, const int64_t *shape) {
    if (!g) return NULL;
    int lead = g->ndim - ndim;
    if (lead < 0)
        return nd__fail("nd_backward: gradient of shape %s cannot be summed to shape %s",
                        nd__tshape(g), nd__shape_str(ndim, shape));
    int dims[ND_MAX_DIMS], n = 0;
    for (int i = 0; i < g->ndim; i++) {
        int j = i - lead;
        if (j < 0 || (shape[j] == 1 && g->shape[i] != 1)) dims[n++] = i;
        else if (shape[j] != g->shape[i])
            return nd__fail("nd_backward: gradient of shape %s does not match input shape %s",
                            nd__tshape(g), nd__shape_str(ndim, shape));
    }
    if (n == 0) return g;
    nd_tensor *summed = nd_sum_dims(g, n, dims, false);
    return nd_reshape(summed, ndim, shape);
}
