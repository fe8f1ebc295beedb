/* Data-parallel training (as PyTorch's DistributedDataParallel): every rank
 * holds the whole model; after each backward the gradients are averaged over
 * the ranks, so every copy takes the same optimizer step.
 *
 * Gradients travel in buckets of about opts.bucket_mb, filled in the reverse
 * order of the parameter list (the order backward finishes them: the last
 * layer first). The backward engine calls a hook as soon as a parameter's
 * gradient is final; when every gradient of a bucket is in, the bucket starts
 * a non-blocking allreduce and backward goes on. Buckets start strictly in
 * bucket order, on every rank the same, so the reductions (and their
 * floating-point sums) never depend on which rank was faster. */
#include "dist_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    nd_dtype dtype;
    int first, count; /* its parameters: order[first .. first + count) */
    int64_t numel;    /* elements of all its gradients */
    void *data;       /* the gradients, one after another */
    int ready;        /* gradients copied in during this pass */
    bool started;     /* its allreduce is in flight */
    MPI_Request request;
} bucket;

struct nd_ddp {
    int n;
    nd_tensor **params; /* own references */
    int *order;         /* parameter indices, last parameter first */
    int *bucket_of;     /* per parameter */
    int64_t *offset;    /* per parameter: its first element in its bucket */
    bool *ready;        /* per parameter: its gradient is in its bucket */
    bucket *buckets;
    int nbuckets, next_start;
    bool sync;
    nd_dist__shm *shm; /* the buckets live in memory all ranks share (shm.c), or NULL: MPI */
    char *error;       /* an error raised inside the hook, reported by sync_grads */
};

static int param_index(const nd_ddp *d, const nd_tensor *t) {
    for (int i = 0; i < d->n; i++)
        if (d->params[i] == t) return i;
    return -1;
}

static void note_error(nd_ddp *d) {
    if (!d->error) d->error = strdup(nd_last_error());
}

/* Starts the buckets that are full, in bucket order. */
static void start_ready_buckets(nd_ddp *d) {
    while (d->next_start < d->nbuckets) {
        bucket *b = &d->buckets[d->next_start];
        if (b->ready < b->count) return;
        if (d->shm) {
            nd_dist__shm_publish(d->shm, d->next_start);
            b->started = true;
            d->next_start++;
            continue;
        }
        int rc = MPI_Iallreduce(MPI_IN_PLACE, b->data, (int)b->numel, nd_dist__type(b->dtype),
                                MPI_SUM, nd_dist__comm, &b->request);
        if (rc != MPI_SUCCESS) {
            nd_dist__mpi_fail("nd_ddp (starting a gradient bucket)", rc);
            note_error(d);
            b->request = MPI_REQUEST_NULL;
        }
        b->started = true;
        d->next_start++;
    }
}

/* Copies parameter i's gradient (zeros when it has none) into its bucket. */
static void take_gradient(nd_ddp *d, int i) {
    nd_tensor *p = d->params[i], *g = p->grad;
    bucket *b = &d->buckets[d->bucket_of[i]];
    size_t elem = nd_dtype_size(b->dtype);
    char *dst = (char *)b->data + (size_t)d->offset[i] * elem;
    size_t nbytes = (size_t)p->numel * elem;
    if (!g)
        memset(dst, 0, nbytes);
    else if (nd_read(g, b->dtype, dst, nbytes))
        note_error(d);
    d->ready[i] = true;
    b->ready++;
}

static void on_final_gradient(nd_tensor *leaf, void *ctx) {
    nd_ddp *d = ctx;
    /* after a timeout, buckets are MPI's for good: no gradient goes in */
    if (!d->sync || nd_dist__broken) return;
    int i = param_index(d, leaf);
    if (i < 0) return; /* a leaf that is not one of the model's parameters */
    if (d->ready[i]) {
        nd__set_error("nd_ddp: a second backward before nd_ddp_sync_grads; to accumulate "
                      "gradients over several batches, turn sync off (nd_ddp_set_sync) for all "
                      "but the last");
        note_error(d);
        return;
    }
    take_gradient(d, i);
    start_ready_buckets(d);
    /* through shared memory, a bucket every rank has published is summed at
     * once, while backward goes on (see shm.c) */
    for (int j = 0; d->shm && j < d->next_start; j++) nd_dist__shm_try_sum(d->shm, j);
}

/* Buckets over the parameters, last parameter first, each of one dtype and
 * at most cap bytes (a larger gradient gets a bucket of its own). */
static bool make_buckets(nd_ddp *d, size_t cap) {
    d->buckets = calloc((size_t)d->n, sizeof *d->buckets);
    if (!d->buckets) return false;
    size_t bytes = 0;
    for (int k = 0; k < d->n; k++) {
        int i = d->order[k];
        nd_tensor *p = d->params[i];
        size_t size = (size_t)p->numel * nd_dtype_size(p->dtype);
        bucket *b = d->nbuckets ? &d->buckets[d->nbuckets - 1] : NULL;
        if (!b || b->dtype != p->dtype || (bytes + size > cap && b->count > 0)) {
            b = &d->buckets[d->nbuckets++];
            b->dtype = p->dtype;
            b->first = k;
            b->request = MPI_REQUEST_NULL;
            bytes = 0;
        }
        d->bucket_of[i] = d->nbuckets - 1;
        d->offset[i] = b->numel;
        b->numel += p->numel;
        b->count++;
        bytes += size;
    }
    for (int j = 0; j < d->nbuckets; j++) {
        bucket *b = &d->buckets[j];
        b->data = malloc((size_t)(b->numel > 0 ? b->numel : 1) * nd_dtype_size(b->dtype));
        if (!b->data) return false;
    }
    return true;
}

/* Collective: the buckets move into memory that every rank maps, when they
 * all run on this machine (shm.c); otherwise they stay and go through MPI.
 * -1 only when MPI failed (the error is set). */
static int use_shared_memory(nd_ddp *d, const char *name) {
    size_t count = d->nbuckets > 0 ? (size_t)d->nbuckets : 1;
    int64_t *numel = calloc(count, sizeof *numel);
    nd_dtype *dtype = calloc(count, sizeof *dtype);
    for (int j = 0; numel && dtype && j < d->nbuckets; j++)
        numel[j] = d->buckets[j].numel, dtype[j] = d->buckets[j].dtype;
    /* (out of memory here: the ranks still agree, and go through MPI) */
    int got = nd_dist__shm_new(name, numel && dtype ? d->nbuckets : 0, numel, dtype, &d->shm);
    free(numel);
    free(dtype);
    for (int j = 0; d->shm && j < d->nbuckets; j++) {
        free(d->buckets[j].data);
        d->buckets[j].data = nd_dist__shm_bucket(d->shm, j);
    }
    return got < 0 ? -1 : 0;
}

nd_ddp *nd_ddp_new(int n, nd_tensor *const *params, nd_ddp_opts opts) {
    const char *name = "nd_ddp_new";
    if (nd_dist__need_init(name)) return NULL;
    if (n <= 0 || !params) return nd__fail_int("%s: no parameters given", name), NULL;
    if (!(opts.bucket_mb > 0))
        return (void *)nd__fail("%s: bucket_mb must be > 0, got %g (ND_DDP_DEFAULTS has 25)", name,
                                opts.bucket_mb);
    for (int i = 0; i < n; i++) {
        if (nd__bad_tensor(name, params[i])) return NULL;
        if (params[i]->node || !params[i]->requires_grad || !nd__is_float(params[i]->dtype))
            return (void *)nd__fail_as(
                ND_ERR_NOT_DIFFERENTIABLE,
                "%s: parameter %d (shape %s) must be a floating-point leaf that "
                "requires a gradient",
                name, i, nd__tshape(params[i]));
        if (params[i]->numel > INT32_MAX)
            return (void *)nd__fail_as(
                ND_ERR_EXTERNAL, "%s: parameter %d (shape %s) is larger than MPI sends in one call",
                name, i, nd__tshape(params[i]));
    }
    /* Every rank starts from rank 0's values (checked mode also makes sure
     * that every rank has the same parameters in the same order). */
    for (int i = 0; i < n; i++)
        if (nd_dist_broadcast(params[i], 0)) return NULL;

    nd_ddp *d = calloc(1, sizeof *d);
    if (!d) return nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory", name), NULL;
    d->n = n;
    d->sync = true;
    d->params = calloc((size_t)n, sizeof *d->params);
    d->order = calloc((size_t)n, sizeof *d->order);
    d->bucket_of = calloc((size_t)n, sizeof *d->bucket_of);
    d->offset = calloc((size_t)n, sizeof *d->offset);
    d->ready = calloc((size_t)n, sizeof *d->ready);
    bool ok = d->params && d->order && d->bucket_of && d->offset && d->ready;
    for (int i = 0; ok && i < n; i++) {
        d->params[i] = nd_retain(params[i]);
        d->order[i] = n - 1 - i;
    }
    double cap = opts.bucket_mb * 1048576.0;
    if (!ok || !make_buckets(d, cap > (double)SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)cap)) {
        nd_ddp_free(d);
        return nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory for %d parameters", name, n), NULL;
    }
    if (use_shared_memory(d, name)) {
        nd_ddp_free(d);
        return NULL;
    }
    nd__set_leaf_grad_hook(on_final_gradient, d);
    return d;
}

bool nd_ddp_set_sync(nd_ddp *d, bool on) {
    if (!d) return false;
    bool previous = d->sync;
    d->sync = on;
    return previous;
}

int nd_ddp_bucket_count(const nd_ddp *d) {
    return d ? d->nbuckets : nd__fail_int("nd_ddp_bucket_count: NULL");
}

/* Writes the summed bucket back into parameter i's gradient as the average
 * over the ranks. The usual gradient (contiguous, the bucket's dtype) takes
 * the quotient straight from the bucket: one pass over the memory, where
 * dividing the bucket in place, wrapping it in a tensor and copying that into
 * the gradient took three (about 10% of a W11 step's time beside the
 * allreduce). Same division, same results. */
static int give_back(nd_ddp *d, int i) {
    nd_tensor *p = d->params[i], *g = p->grad;
    int j = d->bucket_of[i];
    bucket *b = &d->buckets[j];
    const char *sums = d->shm ? nd_dist__shm_sums(d->shm, j) : b->data;
    const void *src = sums + (size_t)d->offset[i] * nd_dtype_size(b->dtype);
    int ranks = nd_dist_size();
    if (g && g->contiguous && g->dtype == b->dtype && g->numel == p->numel) {
        nd_dist__divide_into(b->dtype, nd__ptr(g), src, p->numel, ranks);
        nd__bump_version(g);
        return 0;
    }
    nd_scope_begin();
    nd_tensor *avg = nd_from(b->dtype, p->ndim, p->shape, src);
    if (avg) nd_dist__divide(b->dtype, nd__ptr(avg), p->numel, ranks);
    int rc = -1;
    if (avg && !g) {
        p->grad = nd_retain(avg); /* a parameter this rank gave no gradient */
        rc = 0;
    } else if (avg) {
        rc = nd_dist__put_back("nd_ddp_sync_grads", g, avg);
    }
    nd_scope_end();
    return rc;
}

int nd_ddp_sync_grads(nd_ddp *d) {
    const char *name = "nd_ddp_sync_grads";
    if (!d) return nd__fail_int("%s: NULL", name);
    if (!d->sync) return 0; /* accumulating: gradients stay local */
    /* Parameters that got no gradient in this pass (unused, or no backward
     * ran on this thread) take what they have, so no rank waits forever. */
    for (int k = 0; k < d->n; k++)
        if (!d->ready[d->order[k]]) take_gradient(d, d->order[k]);
    start_ready_buckets(d);
    int rc = nd_dist__need_init(name); /* an earlier timeout: nothing will end */
    for (int j = 0; j < d->nbuckets && !nd_dist__broken; j++) {
        bucket *b = &d->buckets[j];
        int failed = d->shm ? nd_dist__shm_sum(d->shm, j, name) : nd_dist__wait(name, &b->request);
        if (failed && nd_dist__broken) break; /* timed out: b stays started, MPI keeps its data */
        if (failed && rc == 0) rc = -1;
        b->ready = 0;
        b->started = false;
    }
    for (int j = 0; d->shm && j < d->nbuckets && !nd_dist__broken; j++)
        nd_dist__shm_wait_sums(d->shm, j, name);
    if (nd_dist__broken) return -1;
    for (int i = 0; i < d->n && rc == 0; i++) rc = give_back(d, i);
    if (d->shm) nd_dist__shm_end_pass(d->shm);
    for (int i = 0; i < d->n; i++) d->ready[i] = false;
    d->next_start = 0;
    if (d->error) {
        nd__set_error("%s: %s", name, d->error);
        free(d->error);
        d->error = NULL;
        rc = -1;
    }
    return rc;
}

void nd_ddp_free(nd_ddp *d) {
    if (!d) return;
    nd__leaf_grad_hook hook;
    void *ctx;
    nd__get_leaf_grad_hook(&hook, &ctx);
    if (hook == on_final_gradient && ctx == d) nd__set_leaf_grad_hook(NULL, NULL);
    for (int j = 0; d->buckets && j < d->nbuckets; j++) {
        /* after a timeout a started bucket may never end: MPI keeps its data */
        if (d->buckets[j].started && nd_dist__broken) continue;
        if (d->buckets[j].started) MPI_Wait(&d->buckets[j].request, MPI_STATUS_IGNORE);
        if (!d->shm) free(d->buckets[j].data);
    }
    nd_dist__shm_free(d->shm);
    for (int i = 0; d->params && i < d->n; i++) nd_release(d->params[i]);
    free(d->buckets);
    free(d->params);
    free(d->order);
    free(d->bucket_of);
    free(d->offset);
    free(d->ready);
    free(d->error);
    free(d);
}
