/* Collectives on tensors: every rank calls them in the same order. Each works
 * on one contiguous buffer (the tensor itself, or a copy of a strided view
 * that is copied back), after checked mode has made sure that every rank
 * passes the same dtype and shape. */
#include "dist_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define REDUCTION_NAMES "reduction (0 sum, 1 mean, 2 max, 3 min)"

/* MPI counts elements in an int. */
static int count_of(const char *op, const nd_tensor *t, int *count) {
    if (t->numel > INT_MAX)
        return nd__fail_int_as(ND_ERR_EXTERNAL,
                               "%s: %lld elements (shape %s) are more than MPI sends in one call",
                               op, (long long)t->numel, nd__tshape(t));
    *count = (int)t->numel;
    return 0;
}

int nd_dist_barrier(void) {
    if (nd_dist__need_init("nd_dist_barrier")) return -1;
    MPI_Request request;
    return nd_dist__finish("nd_dist_barrier", MPI_Ibarrier(nd_dist__comm, &request), &request);
}

int nd_dist_allreduce(nd_tensor *t, nd_red_op op) {
    const char *name = "nd_dist_allreduce";
    if (nd_dist__agree(name, t, op, REDUCTION_NAMES)) return -1;
    int count = 0;
    if (nd_dist__check_op(name, op, t->dtype) || count_of(name, t, &count)) return -1;
    nd_scope_begin();
    nd_tensor *buf = nd_dist__contiguous(t);
    MPI_Request request;
    int result =
        !buf ? -1
             : nd_dist__finish(name,
                               MPI_Iallreduce(MPI_IN_PLACE, nd__ptr(buf), count,
                                              nd_dist__type(t->dtype), nd_dist__op(op, t->dtype),
                                              nd_dist__comm, &request),
                               &request);
    if (result) nd_dist__abandon(buf);
    if (result == 0 && op == ND_RED_MEAN)
        nd_dist__divide(t->dtype, nd__ptr(buf), t->numel, nd_dist_size());
    if (result == 0) result = nd_dist__put_back(name, t, buf);
    nd_scope_end();
    return result;
}

int nd_dist_broadcast(nd_tensor *t, int root) {
    const char *name = "nd_dist_broadcast";
    if (nd_dist__agree(name, t, root, "root")) return -1;
    if (root < 0 || root >= nd_dist_size())
        return nd__fail_int("%s: root %d is not a rank (there are %d)", name, root, nd_dist_size());
    int count = 0;
    if (count_of(name, t, &count)) return -1;
    nd_scope_begin();
    nd_tensor *buf = nd_dist__contiguous(t);
    MPI_Request request;
    int result = !buf ? -1
                      : nd_dist__finish(name,
                                        MPI_Ibcast(nd__ptr(buf), count, nd_dist__type(t->dtype),
                                                   root, nd_dist__comm, &request),
                                        &request);
    if (result) nd_dist__abandon(buf);
    if (result == 0) result = nd_dist__put_back(name, t, buf);
    nd_scope_end();
    return result;
}

nd_tensor *nd_dist_allgather(nd_tensor *t) {
    const char *name = "nd_dist_allgather";
    if (nd_dist__agree(name, t, 0, "")) return NULL;
    int count = 0;
    if (count_of(name, t, &count)) return NULL;
    if (t->ndim == ND_MAX_DIMS)
        return nd__fail_as(ND_ERR_SHAPE,
                           "%s: shape %s has the most dims a tensor can have; the result needs one "
                           "more",
                           name, nd__tshape(t));
    int64_t shape[ND_MAX_DIMS];
    shape[0] = nd_dist_size();
    memcpy(shape + 1, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    nd_tensor *out = nd__empty(t->dtype, t->ndim + 1, shape);
    if (!out) return NULL;
    nd_scope_begin();
    nd_tensor *buf = nd_dist__contiguous(t);
    MPI_Datatype type = nd_dist__type(t->dtype);
    MPI_Request request;
    int result = !buf ? -1
                      : nd_dist__finish(name,
                                        MPI_Iallgather(nd__ptr(buf), count, type, nd__ptr(out),
                                                       count, type, nd_dist__comm, &request),
                                        &request);
    if (result) nd_dist__abandon(buf), nd_dist__abandon(out);
    nd_scope_end();
    return result ? NULL : out;
}

nd_tensor *nd_dist_reduce_scatter(nd_tensor *t, nd_red_op op) {
    const char *name = "nd_dist_reduce_scatter";
    if (nd_dist__agree(name, t, op, REDUCTION_NAMES)) return NULL;
    int count = 0, ranks = nd_dist_size();
    if (nd_dist__check_op(name, op, t->dtype) || count_of(name, t, &count)) return NULL;
    if (t->ndim == 0 || t->shape[0] % ranks)
        return nd__fail_as(ND_ERR_SHAPE,
                           "%s: dim 0 of shape %s must split evenly over the %d ranks", name,
                           nd__tshape(t), ranks);
    int64_t shape[ND_MAX_DIMS];
    memcpy(shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    shape[0] /= ranks;
    nd_tensor *out = nd__empty(t->dtype, t->ndim, shape);
    if (!out) return NULL;
    nd_scope_begin();
    nd_tensor *buf = nd_dist__contiguous(t);
    MPI_Request request;
    int result = !buf ? -1
                      : nd_dist__finish(name,
                                        MPI_Ireduce_scatter_block(
                                            nd__ptr(buf), nd__ptr(out), count / ranks,
                                            nd_dist__type(t->dtype), nd_dist__op(op, t->dtype),
                                            nd_dist__comm, &request),
                                        &request);
    if (result) nd_dist__abandon(buf), nd_dist__abandon(out);
    nd_scope_end();
    if (result) return NULL;
    if (op == ND_RED_MEAN) nd_dist__divide(out->dtype, nd__ptr(out), out->numel, ranks);
    return out;
}

/* --------------------------------------------------- non-blocking allreduce */

struct nd_dist_work {
    MPI_Request request;
    nd_tensor *target, *buf; /* own references; buf is target when contiguous */
    nd_red_op op;
};

nd_dist_work *nd_dist_allreduce_start(nd_tensor *t, nd_red_op op) {
    const char *name = "nd_dist_allreduce_start";
    if (nd_dist__agree(name, t, op, REDUCTION_NAMES)) return NULL;
    int count = 0;
    if (nd_dist__check_op(name, op, t->dtype) || count_of(name, t, &count)) return NULL;
    nd_dist_work *w = calloc(1, sizeof *w);
    if (!w) return nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory", name), NULL;
    nd_scope_begin();
    nd_tensor *buf = nd_dist__contiguous(t);
    if (buf) nd_retain(buf); /* outlives this scope, until the wait */
    nd_scope_end();
    if (!buf) {
        free(w);
        return NULL;
    }
    w->target = nd_retain(t);
    w->buf = buf;
    w->op = op;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, nd__ptr(buf), count, nd_dist__type(t->dtype),
                            nd_dist__op(op, t->dtype), nd_dist__comm, &w->request);
    if (rc != MPI_SUCCESS) {
        nd_release(w->buf);
        nd_release(w->target);
        free(w);
        return nd_dist__mpi_fail(name, rc), NULL;
    }
    return w;
}

int nd_dist_wait(nd_dist_work *w) {
    if (!w) return nd__fail_int("nd_dist_wait: NULL handle (the start failed)");
    if (nd_dist__broken) /* an earlier timeout: the request may never end */
        return nd__fail_int_as(ND_ERR_EXTERNAL,
                               "nd_dist_wait (rank %d of %d): an earlier call timed out, so the "
                               "ranks are out of step; end the program",
                               nd_dist_rank(), nd_dist_size());
    int result = nd_dist__wait("nd_dist_wait", &w->request);
    if (result && nd_dist__broken) return -1; /* MPI keeps w's buffer: keep it too */
    if (result == 0 && w->op == ND_RED_MEAN)
        nd_dist__divide(w->buf->dtype, nd__ptr(w->buf), w->buf->numel, nd_dist_size());
    if (result == 0) result = nd_dist__put_back("nd_dist_wait", w->target, w->buf);
    nd_release(w->buf);
    nd_release(w->target);
    free(w);
    return result;
}
