/* The batching transform behind nd_jacobian's one pass (docs/BATCHING.md):
 * like torch's vectorize=True (vmap), one pass carrying a batch of seeds, the
 * whole identity, instead of one pass per seed. Every op on the way runs its
 * ordinary rule once on batched gradients or tangents (one matrix-matrix
 * product where the loop did one matrix-vector product per seed).
 *
 * Whether a pass can take the batch is decided here: in reverse mode before
 * the pass, from the graph f recorded (the engine knows nothing of it); in
 * forward mode by the tape while f runs (tangents are made as it records),
 * which the caller reads back. Either way the caller falls back to one pass
 * per seed (functional.c). */
#include "../core/internal.h"

static _Thread_local uint64_t batched_jacobians;
uint64_t nd__batched_jacobians(void) {
    return batched_jacobians;
}

/* Every one-hot seed for t at once: the identity, shaped (numel t,) + t.shape. */
static nd_tensor *identity_seeds(const nd_tensor *t) {
    int64_t shape[ND_MAX_DIMS];
    shape[0] = t->numel;
    memcpy(shape + 1, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    return nd_reshape(nd_eye(t->numel, t->dtype), 1 + t->ndim, shape);
}

/* Starts a batch of numel(t) seeds, unless one is running (an f that takes a
 * Jacobian itself takes it seed by seed) or the seeds would not fit. */
static bool start_batch(const nd_tensor *t, nd_ad_mode mode) {
    if (nd__batch_dims(ND_FORWARD, NULL) || nd__batch_dims(ND_REVERSE, NULL)) return false;
    int64_t count = t->numel;
    nd__set_batch(1, &count, mode);
    if (nd__batch_fits(t->ndim, t->shape)) return true;
    nd__set_batch(0, NULL, mode);
    return false;
}

/* A node of the reverse pass takes the batch when its rule is right with
 * leading batch dims on g, and kindly when the batch of each of its inputs
 * fits in memory. */
static bool node_takes_batch(const nd_node *n, void *ctx) {
    (void)ctx;
    if (!(n->op->flags & ND_BATCHABLE)) return false;
    for (int i = 0; i < n->nin; i++)
        if (n->in[i] && !nd__batch_fits(n->in[i]->ndim, n->in[i]->shape)) return false;
    return true;
}

nd_tensor *nd__jacobian_rows(nd_tensor *y, nd_tensor *xr, bool *fallback) {
    *fallback = !start_batch(y, ND_REVERSE);
    if (*fallback) return NULL;
    /* the plan: every node the pass would run, before any of it runs */
    int plan = nd__graph_visit("nd_jacobian", y, 1, &xr, node_takes_batch, NULL);
    nd_tensor *rows = NULL;
    int rc = -1;
    if (plan == 1) {
        nd_tensor *seeds = identity_seeds(y);
        rc = seeds ? nd__gradients_seeded("nd_jacobian", y, seeds, 1, &xr, &rows, false) : -1;
    }
    nd__set_batch(0, NULL, ND_REVERSE);
    *fallback = plan == 0;
    if (rc == 0) batched_jacobians++;
    return rc == 0 ? rows : NULL;
}

nd_tensor *nd__jacobian_columns(nd_fn f, void *ctx, nd_tensor *base, nd_tensor **y_out,
                                bool *fallback) {
    *fallback = !start_batch(base, ND_FORWARD);
    if (*fallback) return NULL;
    int64_t n = base->numel;
    nd_tensor *seeds = identity_seeds(base);
    nd_tensor *y = seeds ? nd__call_fn("nd_jacobian", f, ctx, nd_make_dual(base, seeds)) : NULL;
    *fallback = nd__batch_refused();
    nd__set_batch(0, NULL, ND_FORWARD);
    *y_out = y;
    if (!y || *fallback) return NULL;
    int64_t shape[ND_MAX_DIMS] = {n};
    memcpy(shape + 1, y->shape, sizeof(int64_t) * (size_t)y->ndim);
    nd_tensor *columns = y->tangent;
    if (!columns) /* f does not depend on x */
        columns = nd_zeros(y->dtype, 1 + y->ndim, shape);
    else if (columns->ndim != 1 + y->ndim ||
             memcmp(columns->shape, shape, sizeof(int64_t) * (size_t)columns->ndim))
        *fallback = true;
    if (*fallback || !columns) return NULL;
    batched_jacobians++;
    return columns;
}
