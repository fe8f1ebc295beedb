/* Starting and ending MPI, who this process is, and the checks every
 * collective shares: MPI errors as nd errors, and checked mode's exchange of
 * shapes (so that a mismatch is an error on every rank, not a hang). */
#include "dist_internal.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

MPI_Comm nd_dist__comm = MPI_COMM_NULL;
bool nd_dist__checked = true;
bool nd_dist__broken = false;
static double timeout_s = 0; /* 0: wait for ever */
static bool started_mpi;     /* nd_dist_init called MPI_Init, so finalize ends it */
static int my_rank = 0, world_size = 1, local_rank = 0, local_size = 1;

/* Open MPI's non-blocking allreduce (libnbc, which the gradient buckets use)
 * picks its algorithm by message size and, left to itself, takes 0.7 to 3.5 ms
 * for W11's ~1 MB of gradients between 2 processes where the ring takes
 * ~0.45 ms; the ring is also the bandwidth-optimal one for the large buckets
 * of data-parallel training on many machines (docs/SCALING.md). So nd asks
 * for it, through the environment variable Open MPI reads at MPI_Init, unless
 * the user chose (mpirun --mca coll_libnbc_iallreduce_algorithm N sets that
 * same variable, which setenv then leaves alone). Only the processes where
 * nd_dist_init starts MPI; other MPIs ignore the variable. */
static void prefer_ring_allreduce(void) {
    setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", 0);
}

int nd_dist_init(int *argc, char ***argv) {
    if (nd_dist__comm != MPI_COMM_NULL) return 0;
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        /* nd's kernels run OpenMP threads, but only the calling thread talks to MPI. */
        int provided = 0;
        prefer_ring_allreduce();
        int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) return nd_dist__mpi_fail("nd_dist_init", rc);
        started_mpi = true;
    }
    MPI_Comm comm;
    int rc = MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    if (rc != MPI_SUCCESS) return nd_dist__mpi_fail("nd_dist_init", rc);
    /* Errors come back as return codes, which nd turns into its own errors. */
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm, &my_rank);
    MPI_Comm_size(comm, &world_size);
    /* The processes that share memory with this one: those on this machine. */
    MPI_Comm node;
    rc = MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, my_rank, MPI_INFO_NULL, &node);
    if (rc != MPI_SUCCESS) {
        MPI_Comm_free(&comm);
        return nd_dist__mpi_fail("nd_dist_init", rc);
    }
    MPI_Comm_rank(node, &local_rank);
    MPI_Comm_size(node, &local_size);
    MPI_Comm_free(&node);
    nd_dist__comm = comm;
    return 0;
}

void nd_dist_finalize(void) {
    if (nd_dist__comm != MPI_COMM_NULL && !nd_dist__broken) MPI_Comm_free(&nd_dist__comm);
    nd_dist__comm = MPI_COMM_NULL;
    my_rank = 0, world_size = 1, local_rank = 0, local_size = 1;
    int finalized = 0;
    MPI_Finalized(&finalized);
    /* After a timeout MPI_Finalize may wait for ever for the rank that is
     * gone (it does over TCP), so MPI is left as it is: the process ends
     * without it, which mpirun reports as the failure it is. */
    if (started_mpi && !finalized && !nd_dist__broken) MPI_Finalize();
    started_mpi = false;
}

int nd_dist_rank(void) {
    return my_rank;
}

int nd_dist_size(void) {
    return world_size;
}

int nd_dist_local_rank(void) {
    return local_rank;
}

int nd_dist__local_size(void) {
    return local_size;
}

bool nd_dist_set_checked(bool on) {
    bool previous = nd_dist__checked;
    nd_dist__checked = on;
    return previous;
}

int nd_dist__need_init(const char *op) {
    if (nd_dist__comm == MPI_COMM_NULL) return nd__fail_int("%s: call nd_dist_init first", op);
    if (nd_dist__broken)
        return nd__fail_int_as(
            ND_ERR_EXTERNAL,
            "%s (rank %d of %d): an earlier call timed out, so the ranks are out "
            "of step; end the program (and restart from a checkpoint)",
            op, my_rank, world_size);
    return 0;
}

double nd_dist_set_timeout(double seconds) {
    if (!(seconds >= 0))
        return nd__fail_int("nd_dist_set_timeout: %g seconds (give 0 for no timeout, or more)",
                            seconds);
    double previous = timeout_s;
    timeout_s = seconds;
    return previous;
}

/* Every wait polls MPI_Test and yields the core between tests (sched_yield)
 * rather than spinning inside MPI_Wait. Two ranks that share cores with each
 * other or with other work (2 processes on this 2-core machine, W11) would
 * otherwise each burn their time slice spinning while the rank they wait for
 * waits for a core; yielding lets it run. Measured on W11 here, the machine
 * loaded by other work: 2 processes yielding (Open MPI's mpi_yield_when_idle,
 * the same thing) 45 and 47 steps/s, spinning 25 and 29; this loop 65 to 69
 * a few minutes later. Where every rank has a core of its own the yield
 * returns at once, adding about half a microsecond to a message (8-byte
 * ping-pong 1.2 µs against 0.6). Open MPI yields too when it knows a node is
 * oversubscribed, but not when the other load is not its own.
 * Each MPI_Test also moves MPI's communication on, as MPI_Wait would; the
 * timeout (nd_dist_set_timeout) is checked between polls. */
int nd_dist__wait(const char *op, MPI_Request *request) {
    double deadline = nd_dist__deadline();
    for (;;) {
        int done = 0;
        int rc = MPI_Test(request, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) return nd_dist__mpi_fail(op, rc);
        if (done) return 0;
        if (nd_dist__past(deadline)) return nd_dist__timed_out(op);
        sched_yield();
    }
}

double nd_dist__deadline(void) {
    return timeout_s > 0 ? MPI_Wtime() + timeout_s : 0;
}

bool nd_dist__past(double deadline) {
    return deadline > 0 && MPI_Wtime() > deadline;
}

int nd_dist__timed_out(const char *op) {
    nd_dist__broken = true;
    return nd__fail_int_as(ND_ERR_EXTERNAL,
                           "%s (rank %d of %d): timed out after %g s waiting for the other ranks "
                           "(nd_dist_set_timeout): a rank has exited, crashed or stopped",
                           op, my_rank, world_size, timeout_s);
}

int nd_dist__finish(const char *op, int start_rc, MPI_Request *request) {
    if (start_rc != MPI_SUCCESS) return nd_dist__mpi_fail(op, start_rc);
    return nd_dist__wait(op, request);
}

void nd_dist__abandon(void *tensor_or_null) {
    if (tensor_or_null && nd_dist__broken) nd_retain(tensor_or_null);
}

int nd_dist__mpi_fail(const char *op, int code) {
    char words[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    if (MPI_Error_string(code, words, &len) != MPI_SUCCESS)
        snprintf(words, sizeof words, "code %d", code);
    return nd__fail_int_as(ND_ERR_EXTERNAL, "%s (rank %d of %d): MPI failed: %s", op, my_rank,
                           world_size, words);
}

MPI_Datatype nd_dist__type(nd_dtype dtype) {
    switch (dtype) {
    case ND_BOOL:
        return MPI_C_BOOL;
    case ND_U8:
        return MPI_UINT8_T;
    case ND_I32:
        return MPI_INT32_T;
    case ND_I64:
        return MPI_INT64_T;
    case ND_F32:
        return MPI_FLOAT;
    case ND_F64:
        return MPI_DOUBLE;
    }
    return MPI_DATATYPE_NULL;
}

MPI_Op nd_dist__op(nd_red_op op, nd_dtype dtype) {
    if (dtype == ND_BOOL)
        return op == ND_RED_MIN ? MPI_LAND : MPI_LOR; /* as bool + bool in torch */
    switch (op) {
    case ND_RED_MAX:
        return MPI_MAX;
    case ND_RED_MIN:
        return MPI_MIN;
    default:
        return MPI_SUM;
    }
}

int nd_dist__check_op(const char *op_name_, nd_red_op op, nd_dtype dtype) {
    if ((unsigned)op > ND_RED_MIN)
        return nd__fail_int("%s: unknown reduction %d (ND_RED_SUM, _MEAN, _MAX or _MIN)", op_name_,
                            (int)op);
    if (op == ND_RED_MEAN && !nd__is_float(dtype))
        return nd__fail_int_as(ND_ERR_DTYPE,
                               "%s: the mean of %s tensors is not defined (it needs float32 or "
                               "float64); use ND_RED_SUM and divide",
                               op_name_, nd_dtype_name(dtype));
    return 0;
}

void nd_dist__divide(nd_dtype dtype, void *data, int64_t n, int ranks) {
    nd_dist__divide_into(dtype, data, data, n, ranks);
}

void nd_dist__divide_into(nd_dtype dtype, void *dst, const void *src, int64_t n, int ranks) {
    if (dtype == ND_F32)
        for (int64_t i = 0; i < n; i++) ((float *)dst)[i] = ((const float *)src)[i] / (float)ranks;
    else if (dtype == ND_F64)
        for (int64_t i = 0; i < n; i++)
            ((double *)dst)[i] = ((const double *)src)[i] / (double)ranks;
}

/* What one rank says of its tensor: dtype (-1: no tensor), ndim, extra, shape. */
enum { DESC_DTYPE, DESC_NDIM, DESC_EXTRA, DESC_SHAPE, DESC_LEN = DESC_SHAPE + ND_MAX_DIMS };

static void describe(const int64_t *d, char *out, size_t size) {
    if (d[DESC_DTYPE] < 0) {
        snprintf(out, size, "no tensor (an earlier error on that rank)");
        return;
    }
    snprintf(out, size, "%s of shape %s", nd_dtype_name((nd_dtype)d[DESC_DTYPE]),
             nd__shape_str((int)d[DESC_NDIM], d + DESC_SHAPE));
}

int nd_dist__agree(const char *op, const nd_tensor *t, int64_t extra, const char *extra_name) {
    if (nd_dist__need_init(op)) return -1;
    bool bad = !t || t->live != ND_TENSOR_LIVE;
    if (!nd_dist__checked) return bad ? nd__bad_tensor(op, t), -1 : 0;
    /* every rank's description, then this rank's own (one block, which a
     * timeout leaves to MPI) */
    int64_t *all = calloc((size_t)world_size + 1, sizeof(int64_t) * DESC_LEN);
    if (!all)
        return nd__fail_int_as(ND_ERR_NOMEM, "%s (rank %d of %d): out of memory", op, my_rank,
                               world_size);
    int64_t *mine = all + (size_t)world_size * DESC_LEN;
    mine[DESC_DTYPE] = bad ? -1 : (int64_t)t->dtype;
    mine[DESC_EXTRA] = extra;
    if (!bad) {
        mine[DESC_NDIM] = t->ndim;
        memcpy(mine + DESC_SHAPE, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    }
    MPI_Request request;
    int rc = MPI_Iallgather(mine, DESC_LEN, MPI_INT64_T, all, DESC_LEN, MPI_INT64_T, nd_dist__comm,
                            &request);
    if (nd_dist__finish(op, rc, &request)) {
        if (!nd_dist__broken) free(all); /* after a timeout MPI may still write into it */
        return -1;
    }
    /* Every rank compares every rank with rank 0, so all of them report the same. */
    int differs = -1;
    for (int r = 0; r < world_size && differs < 0; r++)
        if (memcmp(all, all + (size_t)r * DESC_LEN, sizeof(int64_t) * DESC_LEN) ||
            all[(size_t)r * DESC_LEN] < 0)
            differs = r;
    if (differs < 0) {
        free(all);
        return 0;
    }
    const int64_t *first = all, *other = all + (size_t)differs * DESC_LEN;
    char a[160], b[160];
    describe(first, a, sizeof a);
    describe(other, b, sizeof b);
    if (differs == 0)
        nd__set_error("%s: rank 0 has %s", op, a);
    else if (strcmp(a, b))
        nd__set_error_as(first[DESC_DTYPE] != other[DESC_DTYPE] ? ND_ERR_DTYPE : ND_ERR_SHAPE,
                         "%s: the tensors differ between ranks: rank 0 has %s, rank %d has %s", op,
                         a, differs, b);
    else
        nd__set_error("%s: the ranks disagree on the %s: rank 0 passes %lld, rank %d passes %lld",
                      op, extra_name, (long long)first[DESC_EXTRA], differs,
                      (long long)other[DESC_EXTRA]);
    free(all);
    return -1;
}

nd_tensor *nd_dist__contiguous(nd_tensor *t) {
    if (t->contiguous) return t;
    /* detached, so that the copy records nothing for autograd */
    return nd_contiguous(nd_detach(t));
}

int nd_dist__put_back(const char *op, nd_tensor *t, nd_tensor *buf) {
    if (buf != t && nd__copy_into(op, t, buf)) return -1;
    nd__bump_version(t);
    return 0;
}
