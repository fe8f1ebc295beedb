/* What the files of libnd_dist share: nd's communicator and the helpers that
 * turn nd tensors into MPI buffers and MPI errors into nd errors. */
#ifndef ND_DIST_INTERNAL_H
#define ND_DIST_INTERNAL_H

#include "../nd_ext.h"
#include "nd_dist.h"

#include <mpi.h>

/* nd's own communicator (a duplicate of MPI_COMM_WORLD, errors returned, not
 * fatal); MPI_COMM_NULL before nd_dist_init. */
extern MPI_Comm nd_dist__comm;
extern bool nd_dist__checked;

/* Waits for request under the timeout of nd_dist_set_timeout (polling
 * MPI_Test against the deadline): 0, or -1 and an error naming op and this
 * rank when MPI fails or the time runs out (which also marks the
 * communicator broken). */
int nd_dist__wait(const char *op, MPI_Request *request);
/* The pieces of that wait, for waits on something other than MPI (the
 * shared-memory buckets, shm.c): the deadline of a wait starting now (0: none,
 * no timeout set), whether it has passed, and the timeout error (which marks
 * the communicator broken; returns -1). */
double nd_dist__deadline(void);
bool nd_dist__past(double deadline);
int nd_dist__timed_out(const char *op);
/* How many ranks share this machine's memory (this one included). */
int nd_dist__local_size(void);
/* Starts with the MPI code of the call that started request (MPI_SUCCESS or
 * not), then waits as nd_dist__wait: so that each collective is started in
 * its non-blocking form and bounded by the timeout, in one line. */
int nd_dist__finish(const char *op, int start_rc, MPI_Request *request);
/* True after a timeout: the ranks are out of step, requests still in flight
 * are never waited for, and their buffers are never freed (MPI may write
 * into them yet): a collective that fails while broken keeps its buffer
 * alive with nd_dist__abandon. */
extern bool nd_dist__broken;
void nd_dist__abandon(void *tensor_or_null);

/* -1 and the error "op (rank r of n): reason" when nd_dist_init was not
 * called, or when an earlier timeout left the ranks out of step. */
int nd_dist__need_init(const char *op);
/* -1 and an error naming op, this rank and MPI's own words for code. */
int nd_dist__mpi_fail(const char *op, int code);
/* The MPI type of an nd dtype. */
MPI_Datatype nd_dist__type(nd_dtype dtype);
/* The MPI reduction for op on dtype (bool: or / and; MEAN sums, the caller divides). */
MPI_Op nd_dist__op(nd_red_op op, nd_dtype dtype);
/* -1 and an error when op cannot reduce dtype (MEAN of an integer). */
int nd_dist__check_op(const char *op_name, nd_red_op op, nd_dtype dtype);
/* Divides the n elements at data by the number of ranks (ND_RED_MEAN). */
void nd_dist__divide(nd_dtype dtype, void *data, int64_t n, int ranks);
/* dst[i] = src[i] / ranks for n elements of a float dtype (dst may be src). */
void nd_dist__divide_into(nd_dtype dtype, void *dst, const void *src, int64_t n, int ranks);

/* Checked mode: every rank sends its tensor's dtype and shape (and `extra`, an
 * op or root that must agree too); -1 on every rank, with an error naming the
 * first rank that differs from rank 0 and both shapes, when they are not all
 * the same. t may be NULL (an earlier error on this rank): every rank fails.
 * 0 at once when checked mode is off. */
int nd_dist__agree(const char *op, const nd_tensor *t, int64_t extra, const char *extra_name);

/* t's elements as one contiguous buffer: t itself when contiguous, else a copy
 * (in the current scope). nd_dist__put_back copies the buffer back into t when
 * it was a copy and marks t as written. */
nd_tensor *nd_dist__contiguous(nd_tensor *t);
int nd_dist__put_back(const char *op, nd_tensor *t, nd_tensor *buf);

/* Gradient buckets averaged through shared memory (shm.c), when every rank
 * runs on this machine. */
typedef struct nd_dist__shm nd_dist__shm;
/* Collective: 1 and *out when the ranks share one segment for these buckets
 * (their element counts and dtypes, float32 or float64); 0 when the buckets
 * go through MPI (one rank, ranks on several machines, ND_DDP_TRANSPORT=mpi,
 * or no segment to be had on some rank); -1 and an error when MPI failed. */
int nd_dist__shm_new(const char *op, int nbuckets, const int64_t *numel, const nd_dtype *dtype,
                     nd_dist__shm **out);
void nd_dist__shm_free(nd_dist__shm *s);
/* This rank's copy of a bucket (its gradients go there), and the sums of all
 * ranks' copies (complete once nd_dist__shm_wait_sums returned). */
void *nd_dist__shm_bucket(nd_dist__shm *s, int bucket);
const void *nd_dist__shm_sums(const nd_dist__shm *s, int bucket);
/* This rank's copy of the bucket is complete for this pass. */
void nd_dist__shm_publish(nd_dist__shm *s, int bucket);
/* Sums this rank's share of the bucket when every rank has published it:
 * try_sum only if they have (it never waits), sum waits for them (0, or -1
 * and an error on timeout). */
void nd_dist__shm_try_sum(nd_dist__shm *s, int bucket);
int nd_dist__shm_sum(nd_dist__shm *s, int bucket, const char *op);
/* Waits until every rank has summed its share of the bucket. */
int nd_dist__shm_wait_sums(nd_dist__shm *s, int bucket, const char *op);
/* The pass is over (every bucket's sums read): the next one begins. */
void nd_dist__shm_end_pass(nd_dist__shm *s);

#endif
