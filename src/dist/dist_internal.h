/* What the files of libnd_dist share: nd's communicator and the helpers that
 * turn nd tensors into MPI buffers and MPI errors into nd errors. */
#ifndef ND_DIST_INTERNAL_H
#define ND_DIST_INTERNAL_H

#include "../core/internal.h"
#include "nd_dist.h"

#include <mpi.h>

/* nd's own communicator (a duplicate of MPI_COMM_WORLD, errors returned, not
 * fatal); MPI_COMM_NULL before nd_dist_init. */
extern MPI_Comm nd_dist__comm;
extern bool nd_dist__checked;

/* -1 and the error "op (rank r of n): reason" when nd_dist_init was not called. */
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

#endif
