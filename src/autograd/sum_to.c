/* The one place where a gradient that came back in a broadcast shape is summed
 * down to the shape of the input it belongs to. In a batched reverse pass
 * (nd_jacobian's, autograd/batch.c) every gradient starts with the batch dims
 * of the seed, which the engine hands down: they are kept, and the dims after
 * them are summed down to the input's shape. */
#include "../core/internal.h"

nd_tensor *nd__sum_to(nd_tensor *g, int nbatch, const int64_t *batch, int ndim,
                      const int64_t *shape) {
    if (!g) return NULL;
    int lead = g->ndim - nbatch - ndim; /* broadcast dims in front of the input's own */
    bool batch_ok = lead >= 0;
    for (int i = 0; batch_ok && i < nbatch; i++) batch_ok = g->shape[i] == batch[i];
    if (!batch_ok)
        return nd__fail_as(
            ND_ERR_SHAPE, "nd_backward: gradient of shape %s cannot be summed to shape %s%s",
            nd__tshape(g), nd__shape_str(ndim, shape), nbatch ? " after the batch dims" : "");
    int dims[ND_MAX_DIMS], n = 0;
    for (int i = nbatch; i < g->ndim; i++) {
        int j = i - nbatch - lead;
        if (j < 0 || (shape[j] == 1 && g->shape[i] != 1))
            dims[n++] = i;
        else if (shape[j] != g->shape[i])
            return nd__fail_as(ND_ERR_SHAPE,
                               "nd_backward: gradient of shape %s does not match input shape %s",
                               nd__tshape(g), nd__shape_str(ndim, shape));
    }
    if (n == 0 && lead == 0) return g;
    int64_t full[ND_MAX_DIMS];
    if (nbatch) memcpy(full, batch, sizeof(int64_t) * (size_t)nbatch);
    memcpy(full + nbatch, shape, sizeof(int64_t) * (size_t)ndim);
    nd_tensor *summed = n ? nd_sum_dims(g, n, dims, false) : g;
    return nd_reshape(summed, nbatch + ndim, full);
}
