/*
 * nd_dist.h — training on several processes (libnd_dist, over MPI).
 *
 * The same program runs as N processes (`mpirun -np N ./train`), each with
 * its rank 0..N-1. Every process holds a full copy of the model, trains on its
 * own share of each batch, and the processes average their gradients before
 * every optimizer step, so all copies stay identical: data parallelism, as
 * PyTorch's DistributedDataParallel.
 *
 *     nd_dist_init(&argc, &argv);
 *     nd_ddp *ddp = nd_ddp_new(n, params, ND_DDP_DEFAULTS); // rank 0's weights everywhere
 *     nd_batches *it = nd_batches_new(x, y, 64, true, false, seed); // same seed on every rank
 *     nd_batches_set_shard(it, nd_dist_rank(), nd_dist_size(), false);
 *     ... loss = ...; nd_backward(loss);  // gradients leave while backward runs
 *     nd_ddp_sync_grads(ddp);             // averaged over the ranks
 *     nd_optim_step(opt);
 *     nd_ddp_free(ddp);
 *     nd_dist_finalize();
 *
 * Collectives are called by every rank, in the same order, with tensors of the
 * same dtype and shape. They work in place on tensors of any dtype and layout
 * (a strided view is copied to a contiguous buffer and back). Errors are
 * values: -1 or NULL and nd_last_error() naming the call and the rank, never
 * an abort. In checked mode (on by default) every collective first exchanges
 * the dtypes and shapes, so that tensors that differ between ranks give an
 * error on every rank naming both ranks and both shapes, rather than a hang or
 * corrupted memory; it costs one small message per call.
 */
#ifndef ND_DIST_H
#define ND_DIST_H

#include <nd.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Starts MPI (unless the program already did) and nd's communicator. Works
 * without mpirun too: one process, rank 0 of size 1. 0, or -1 + nd_last_error(). */
ND_API int nd_dist_init(int *argc, char ***argv);
/* Ends what nd_dist_init started (MPI itself only when nd_dist_init started
 * it, and not after a timeout: MPI_Finalize could wait for ever for the rank
 * that is gone, so the process then ends without it and mpirun reports the
 * job as failed). */
ND_API void nd_dist_finalize(void);
/* This process's rank and the number of processes: 0 and 1 before nd_dist_init. */
ND_API int nd_dist_rank(void);
/* The number of ranks. */
ND_API int nd_dist_size(void);
/* The rank among the processes on this machine (to pick a device or a core). */
ND_API int nd_dist_local_rank(void);
/* Checked mode (default on): shapes and dtypes are compared before each
 * collective. Every rank must set the same. Returns the previous setting. */
ND_API bool nd_dist_set_checked(bool on);

/* How long a wait for the other ranks may take, in seconds (0, the default:
 * for ever). A rank that exited or stopped mid-training would otherwise leave
 * the others waiting for ever; with a timeout they return -1 with an error
 * naming the call and their rank. After a timeout the processes no longer
 * agree on where they are: every later collective fails at once, and the
 * program should end (MPI may still own the buffers of the abandoned
 * operation, so they are not freed). Every rank should set the same; the
 * setting is this process's own. Returns the previous setting; a negative or
 * not-a-number value is refused (-1 + nd_last_error()). */
ND_API double nd_dist_set_timeout(double seconds);

typedef enum { ND_RED_SUM, ND_RED_MEAN, ND_RED_MAX, ND_RED_MIN } nd_red_op;

/* Reduces t over the ranks, in place on every rank. MEAN needs a floating
 * dtype; on bool tensors SUM and MAX are a logical or, MIN a logical and. */
ND_API int nd_dist_allreduce(nd_tensor *t, nd_red_op op);
/* Copies root's t into every rank's t, in place. */
ND_API int nd_dist_broadcast(nd_tensor *t, int root);
/* Every rank's t, stacked along a new dim 0 of size nd_dist_size(), in rank order. [scope] */
ND_API nd_tensor *nd_dist_allgather(nd_tensor *t);
/* Reduces t over the ranks and gives each rank its part: t's dim 0 must be a
 * multiple of nd_dist_size(); rank r gets rows [r·k, (r+1)·k) of the result. [scope] */
ND_API nd_tensor *nd_dist_reduce_scatter(nd_tensor *t, nd_red_op op);
/* Returns when every rank has called it. */
ND_API int nd_dist_barrier(void);

/* A non-blocking allreduce: starts it and returns at once; t must not be read
 * or written until nd_dist_wait returns. NULL + nd_last_error() when it could
 * not start. Every started one must be waited for (wait frees the handle). */
typedef struct nd_dist_work nd_dist_work;
/* Starts an allreduce of t in place and returns at once: nd_dist_wait finishes it. */
ND_API nd_dist_work *nd_dist_allreduce_start(nd_tensor *t, nd_red_op op);
/* Waits for a started collective and frees its handle (0 or -1). */
ND_API int nd_dist_wait(nd_dist_work *work);

/* --------------------------------------------- data-parallel training */

typedef struct nd_ddp nd_ddp;
typedef struct {
    /* Gradients are averaged in buckets of about this many megabytes (2^20
     * bytes): each leaves as soon as all of its gradients are final, while
     * backward goes on; must be > 0. */
    double bucket_mb;
} nd_ddp_opts;
#define ND_DDP_DEFAULTS ((nd_ddp_opts){.bucket_mb = 25.0})

/* Wraps the model's parameters (leaves that require gradients): copies rank
 * 0's values into every rank, and from then on averages the gradients of each
 * nd_backward on this thread over the ranks. Every rank passes the same
 * parameters in the same order. When every rank runs on this machine, the
 * buckets are summed through memory MPI shares among the ranks (an MPI-3
 * shared-memory window, about (ranks + 1) × the gradients' bytes); otherwise, or when the
 * environment has ND_DDP_TRANSPORT=mpi, through MPI's allreduce. */
ND_API nd_ddp *nd_ddp_new(int n, nd_tensor *const *params, nd_ddp_opts opts);
/* Waits until every gradient is averaged: call it after backward, before the
 * optimizer step. Buckets are reduced in one fixed order, so the result never
 * depends on timing. */
ND_API int nd_ddp_sync_grads(nd_ddp *ddp);
/* Off: backward and nd_ddp_sync_grads leave gradients local, to accumulate
 * several micro-batches (torch's no_sync); the first backward after turning
 * it on again averages the whole sum. Returns the previous setting. */
ND_API bool nd_ddp_set_sync(nd_ddp *ddp, bool on);
/* How many buckets the gradients travel in. */
ND_API int nd_ddp_bucket_count(const nd_ddp *ddp);
/* Frees the data-parallel wrapper (NULL is fine); the parameters stay. */
ND_API void nd_ddp_free(nd_ddp *ddp);

/* ------------------------------------------------------ checkpoints */

/* nd_checkpoint_save / nd_checkpoint_load (nd.h) for a data-parallel run,
 * called by every rank with its own (identical) tensors and optimizer: rank 0
 * writes the file (atomically) and every rank returns only once it is
 * written, -1 on every rank when it could not be; loading, every rank reads
 * the file (so every machine must see it at that path) and every rank gets
 * -1 when any rank could not. */
ND_API int nd_dist_save_checkpoint(const char *path, int n, const char *const *names,
                                   nd_tensor *const *tensors, const nd_optim *opt);
ND_API int nd_dist_load_checkpoint(const char *path, int n, const char *const *names,
                                   nd_tensor *const *tensors, nd_optim *opt);

#ifdef __cplusplus
}
#endif
#endif
