/* The gradient buckets of ranks that share one machine's memory, averaged
 * through that memory rather than through MPI messages.
 *
 * Why: Open MPI moves a non-blocking allreduce on only inside MPI calls, on
 * both ranks, and over shared memory it copies each half of a bucket into a
 * staging buffer, sums it there, and copies the sums back. For W11's last
 * bucket (the first layer's 0.8 MB gradient, final only when backward ends)
 * that left 200-300 µs of a 2.3 ms step exposed with 2 processes. Here every
 * rank keeps its buckets in one segment of memory that MPI shares among the
 * ranks of one machine (MPI-3's shared-memory window, MPI_Win_allocate_shared:
 * MPI allocates and maps it, nd adds no transport of its own), so a rank
 * sums its share of a bucket straight out of the others' memory, as soon as
 * they have all published it, without waiting for the others to call
 * anything: a bucket's reduction needs no progress from the other ranks.
 *
 * The segment: a slot per rank (its buckets, one after another), one result
 * area (the sums), and two flags per rank and bucket, each on its own cache
 * line: `ready` (this rank's gradients of the bucket are in its slot) and
 * `reduced` (its share of the sums is in the result area). A flag holds the
 * number of the pass (nd_ddp_sync_grads) it was set in, so nothing is ever
 * reset. Rank r sums elements [numel·r/p, numel·(r+1)/p) of each bucket,
 * adding the slots in rank order: the floating-point result does not depend
 * on timing, and for 2 ranks it is the same a + b as MPI's.
 *
 * Reuse is safe without more flags: a rank writes its slot for pass s+1 only
 * after every rank set `reduced` for pass s (nobody reads slots of pass s any
 * more), and a rank writes the result area for pass s+1 only after every rank
 * set `ready` for pass s+1, which each did after reading pass s's sums. */
#include "dist_internal.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LINE = 64 };

struct nd_dist__shm {
    int rank, ranks, nbuckets;
    MPI_Win window; /* the shared segment, MPI's */
    void *base;     /* where it is mapped in this process */
    size_t bytes, slot_bytes;
    size_t *offset;         /* per bucket: its first byte in a slot (and in the result) */
    int64_t *numel;         /* per bucket */
    nd_dtype *dtype;        /* per bucket */
    int64_t pass;           /* the pass under way, from 1 */
    int64_t *reduced_by_me; /* per bucket: the last pass this rank summed its share of */
    char *result;           /* the sums */
    _Atomic int64_t *flags; /* ready then reduced, [rank][bucket], a line each */
};

static size_t round_up(size_t n) {
    return (n + LINE - 1) / LINE * LINE;
}

static _Atomic int64_t *flag(const nd_dist__shm *s, int which, int rank, int bucket) {
    size_t index =
        ((size_t)which * (size_t)s->ranks + (size_t)rank) * (size_t)s->nbuckets + (size_t)bucket;
    return (_Atomic int64_t *)((char *)s->flags + index * LINE);
}

enum { READY, REDUCED };

static char *slot(const nd_dist__shm *s, int rank) {
    return (char *)s->base + (size_t)rank * s->slot_bytes;
}

/* Every rank: 1 when the ranks all say yes to want, 0 when any says no, -1
 * on an MPI failure or timeout (an error is set). */
static int all_agree(const char *op, bool want) {
    int vote = want ? 1 : 0;
    MPI_Request request;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, &vote, 1, MPI_INT, MPI_MIN, nd_dist__comm, &request);
    if (nd_dist__finish(op, rc, &request)) return -1;
    return vote;
}

void nd_dist__shm_free(nd_dist__shm *s) {
    if (!s) return;
    /* MPI_Win_free is collective and blocks until every rank calls it: first
     * a vote under nd's timeout, so that a rank freeing its wrapper while
     * another has died or gone (a program that stops early) gets an error,
     * not a hang. After a dead rank or a timeout the segment stays, MPI's to
     * clean up when the process ends. */
    if (s->window != MPI_WIN_NULL && !nd_dist__broken && all_agree("nd_ddp_free", true) == 1)
        MPI_Win_free(&s->window);
    free(s->offset);
    free(s->numel);
    free(s->dtype);
    free(s->reduced_by_me);
    free(s);
}

int nd_dist__shm_new(const char *op, int nbuckets, const int64_t *numel, const nd_dtype *dtype,
                     nd_dist__shm **out) {
    *out = NULL;
    int ranks = nd_dist_size(), rank = nd_dist_rank();
    const char *transport = getenv("ND_DDP_TRANSPORT");
    bool want = ranks > 1 && nd_dist__local_size() == ranks &&
                !(transport && strcmp(transport, "mpi") == 0);
    nd_dist__shm *s = want ? calloc(1, sizeof *s) : NULL;
    if (s) {
        s->window = MPI_WIN_NULL;
        s->rank = rank, s->ranks = ranks, s->nbuckets = nbuckets, s->pass = 1;
        s->offset = calloc((size_t)nbuckets, sizeof *s->offset);
        s->numel = calloc((size_t)nbuckets, sizeof *s->numel);
        s->dtype = calloc((size_t)nbuckets, sizeof *s->dtype);
        s->reduced_by_me = calloc((size_t)nbuckets, sizeof *s->reduced_by_me);
        if (!s->offset || !s->numel || !s->dtype || !s->reduced_by_me) {
            nd_dist__shm_free(s);
            s = NULL;
        }
    }
    if (s) {
        for (int j = 0; j < nbuckets; j++) {
            s->offset[j] = s->slot_bytes;
            s->numel[j] = numel[j];
            s->dtype[j] = dtype[j];
            s->slot_bytes += round_up((size_t)numel[j] * nd_dtype_size(dtype[j]));
        }
        /* ranks' slots, the result, the flags */
        s->bytes = s->slot_bytes * (size_t)(ranks + 1) + (size_t)(2 * ranks * nbuckets) * LINE;
    }
    /* The segment is MPI's (MPI-3 shared memory): rank 0 allocates all of it
     * in a window the ranks share, each asks MPI where it is mapped in its own
     * address space. When it cannot be had (/dev/shm too small: Open MPI
     * checks the space first) the ranks agree to average through MPI. */
    int agreed = all_agree(op, s != NULL);
    if (agreed == 1) {
        void *mine = NULL;
        MPI_Aint size = rank == 0 ? (MPI_Aint)s->bytes : 0, got = 0;
        int unit;
        if (MPI_Win_allocate_shared(size, 1, MPI_INFO_NULL, nd_dist__comm, &mine, &s->window) !=
            MPI_SUCCESS)
            s->window = MPI_WIN_NULL;
        else if (MPI_Win_set_errhandler(s->window, MPI_ERRORS_RETURN) != MPI_SUCCESS ||
                 MPI_Win_shared_query(s->window, 0, &got, &unit, &s->base) != MPI_SUCCESS ||
                 (size_t)got < s->bytes)
            s->base = NULL;
    }
    /* The flags start at 0 (pass 0: nothing published), set before the
     * vote, which no rank leaves before rank 0 has voted. */
    if (agreed == 1 && rank == 0 && s->base)
        memset((char *)s->base + s->slot_bytes * (size_t)(ranks + 1), 0,
               s->bytes - s->slot_bytes * (size_t)(ranks + 1));
    if (agreed == 1) agreed = all_agree(op, s->base != NULL);
    if (agreed != 1) {
        /* every rank is here: the window (where it was made) is freed together */
        if (s && s->window != MPI_WIN_NULL && agreed == 0) MPI_Win_free(&s->window);
        nd_dist__shm_free(s);
        return agreed; /* 0: the ranks average through MPI; -1: an error */
    }
    s->result = slot(s, ranks);
    s->flags = (_Atomic int64_t *)(s->result + s->slot_bytes);
    *out = s;
    return 1;
}

void *nd_dist__shm_bucket(nd_dist__shm *s, int bucket) {
    return slot(s, s->rank) + s->offset[bucket];
}

const void *nd_dist__shm_sums(const nd_dist__shm *s, int bucket) {
    return s->result + s->offset[bucket];
}

void nd_dist__shm_publish(nd_dist__shm *s, int bucket) {
    atomic_store_explicit(flag(s, READY, s->rank, bucket), s->pass, memory_order_release);
}

static bool all_set(const nd_dist__shm *s, int which, int bucket) {
    for (int r = 0; r < s->ranks; r++)
        if (atomic_load_explicit(flag(s, which, r, bucket), memory_order_acquire) < s->pass)
            return false;
    return true;
}

/* Polls until every rank set the flag for this pass, yielding the core
 * between polls (as nd_dist__wait, and for the same reason), under the
 * timeout. */
static int wait_all(const nd_dist__shm *s, int which, int bucket, const char *op) {
    double deadline = nd_dist__deadline();
    while (!all_set(s, which, bucket)) {
        if (nd_dist__past(deadline)) return nd_dist__timed_out(op);
        sched_yield();
    }
    return 0;
}

/* This rank's share of the bucket: the slots summed in rank order. */
static void sum_share(nd_dist__shm *s, int bucket) {
    int64_t n = s->numel[bucket];
    int64_t lo = n * s->rank / s->ranks, hi = n * (s->rank + 1) / s->ranks;
    size_t off = s->offset[bucket];
    if (s->dtype[bucket] == ND_F32) {
        float *out = (float *)(s->result + off);
        const float *first = (const float *)(slot(s, 0) + off);
        for (int64_t i = lo; i < hi; i++) out[i] = first[i];
        for (int r = 1; r < s->ranks; r++) {
            const float *in = (const float *)(slot(s, r) + off);
            for (int64_t i = lo; i < hi; i++) out[i] += in[i];
        }
    } else {
        double *out = (double *)(s->result + off);
        const double *first = (const double *)(slot(s, 0) + off);
        for (int64_t i = lo; i < hi; i++) out[i] = first[i];
        for (int r = 1; r < s->ranks; r++) {
            const double *in = (const double *)(slot(s, r) + off);
            for (int64_t i = lo; i < hi; i++) out[i] += in[i];
        }
    }
    s->reduced_by_me[bucket] = s->pass;
    atomic_store_explicit(flag(s, REDUCED, s->rank, bucket), s->pass, memory_order_release);
}

void nd_dist__shm_try_sum(nd_dist__shm *s, int bucket) {
    if (s->reduced_by_me[bucket] < s->pass && all_set(s, READY, bucket)) sum_share(s, bucket);
}

int nd_dist__shm_sum(nd_dist__shm *s, int bucket, const char *op) {
    if (s->reduced_by_me[bucket] == s->pass) return 0;
    if (wait_all(s, READY, bucket, op)) return -1;
    sum_share(s, bucket);
    return 0;
}

int nd_dist__shm_wait_sums(nd_dist__shm *s, int bucket, const char *op) {
    return wait_all(s, REDUCED, bucket, op);
}

void nd_dist__shm_end_pass(nd_dist__shm *s) {
    s->pass++;
}
