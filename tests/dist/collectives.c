/* Every collective, for every dtype, contiguous and strided, against the values
 * each rank computes alone from what every rank holds. */
#include "check.h"

#include <stdio.h>
#include <string.h>

enum { N = 7 }; /* an odd count: nothing splits evenly */
static const nd_dtype dtypes[] = {ND_BOOL, ND_U8, ND_I32, ND_I64, ND_F32, ND_F64};

/* What rank r holds at element i: small integers, exact in every dtype. */
static double value(nd_dtype dtype, int r, int64_t i) {
    if (dtype == ND_BOOL) return (double)((i + r) % 3 == 0);
    double v = (double)((i * 7 + r * 5) % 11);
    return dtype == ND_U8 ? v : v - 4;
}

static nd_tensor *rank_tensor(nd_dtype dtype, int r, int ndim, const int64_t *shape) {
    nd_tensor *t = nd_zeros(ND_F64, ndim, shape);
    int64_t n = nd_numel(t);
    double *d = nd_data(t);
    for (int64_t i = 0; i < n; i++) d[i] = value(dtype, r, i);
    return nd_to(t, dtype);
}

static double reduce_expected(nd_dtype dtype, nd_red_op op, int64_t i) {
    int size = nd_dist_size();
    double acc = value(dtype, 0, i);
    for (int r = 1; r < size; r++) {
        double v = value(dtype, r, i);
        if (op == ND_RED_MAX)
            acc = v > acc ? v : acc;
        else if (op == ND_RED_MIN)
            acc = v < acc ? v : acc;
        else
            acc += v;
    }
    if (dtype == ND_BOOL && op != ND_RED_MIN) acc = acc > 0; /* or */
    if (op == ND_RED_MEAN && dtype == ND_F32) return (double)((float)acc / (float)size);
    if (op == ND_RED_MEAN) return acc / size;
    return acc;
}

static void allreduce_every_dtype(void) {
    for (size_t d = 0; d < sizeof dtypes / sizeof *dtypes; d++)
        for (nd_red_op op = ND_RED_SUM; op <= ND_RED_MIN; op++) {
            nd_scope_begin();
            nd_dtype dtype = dtypes[d];
            nd_tensor *t = rank_tensor(dtype, nd_dist_rank(), ND_SHAPE(N));
            bool is_float = dtype == ND_F32 || dtype == ND_F64;
            if (op == ND_RED_MEAN && !is_float) {
                /* every rank refuses, none waits */
                CHECK(nd_dist_allreduce(t, op) == -1 && error_mentions("mean", NULL));
            } else {
                CHECK(nd_dist_allreduce(t, op) == 0);
                double expected[N];
                for (int64_t i = 0; i < N; i++) expected[i] = reduce_expected(dtype, op, i);
                CHECK_VALUES(t, expected, N, 0);
                CHECK(nd_type(t) == dtype);
            }
            nd_scope_end();
        }
}

/* A view with strides: every other column of a (4, 6) tensor. The collective
 * writes the view and leaves the other columns alone. */
static void strided(void) {
    nd_scope_begin();
    int rank = nd_dist_rank(), size = nd_dist_size();
    nd_tensor *base = rank_tensor(ND_F32, rank, ND_SHAPE(4, 6));
    nd_tensor *view = nd_slice(base, 1, 0, ND_END, 2);
    CHECK(view && !nd_is_contiguous(view));
    CHECK(nd_dist_allreduce(view, ND_RED_SUM) == 0);
    double expected[24];
    for (int64_t i = 0; i < 24; i++) {
        double sum = 0;
        for (int r = 0; r < size; r++) sum += value(ND_F32, r, i);
        expected[i] = i % 2 == 0 ? sum : value(ND_F32, rank, i);
    }
    CHECK_VALUES(base, expected, 24, 0);

    /* a transposed view, broadcast from the last rank */
    nd_tensor *other = rank_tensor(ND_I64, rank, ND_SHAPE(3, 4));
    nd_tensor *t = nd_transpose(other, 0, 1);
    CHECK(nd_dist_broadcast(t, size - 1) == 0);
    for (int64_t i = 0; i < 12; i++) expected[i] = value(ND_I64, size - 1, i);
    CHECK_VALUES(other, expected, 12, 0);

    /* a strided allgather gathers the view's values, in C order */
    nd_tensor *g = nd_dist_allgather(nd_transpose(rank_tensor(ND_F64, rank, ND_SHAPE(2, 3)), 0, 1));
    CHECK(g && nd_ndim(g) == 3 && nd_shape(g)[0] == size && nd_shape(g)[1] == 3);
    double gathered[3 * 6 * 8];
    for (int r = 0; r < size && size <= 8; r++)
        for (int64_t j = 0; j < 3; j++)
            for (int64_t k = 0; k < 2; k++)
                gathered[r * 6 + j * 2 + k] = value(ND_F64, r, k * 3 + j);
    if (size <= 8) CHECK_VALUES(g, gathered, 6 * size, 0);
    nd_scope_end();
}

static void broadcast_gather_scatter(void) {
    int rank = nd_dist_rank(), size = nd_dist_size();
    for (size_t d = 0; d < sizeof dtypes / sizeof *dtypes; d++) {
        nd_scope_begin();
        nd_dtype dtype = dtypes[d];
        double expected[8 * N * 2];
        /* broadcast from rank 0 and from the last rank */
        for (int root = 0; root<size; root += size - 1> 0 ? size - 1 : 1) {
            nd_tensor *t = rank_tensor(dtype, rank, ND_SHAPE(N));
            CHECK(nd_dist_broadcast(t, root) == 0);
            for (int64_t i = 0; i < N; i++) expected[i] = value(dtype, root, i);
            CHECK_VALUES(t, expected, N, 0);
        }
        /* allgather: row r is rank r's tensor */
        nd_tensor *g = nd_dist_allgather(rank_tensor(dtype, rank, ND_SHAPE(N)));
        CHECK(g && nd_ndim(g) == 2 && nd_shape(g)[0] == size && nd_shape(g)[1] == N &&
              nd_type(g) == dtype);
        for (int r = 0; r < size && size <= 8; r++)
            for (int64_t i = 0; i < N; i++) expected[r * N + i] = value(dtype, r, i);
        if (size <= 8) CHECK_VALUES(g, expected, size * N, 0);
        /* reduce_scatter: rank r gets rows [2r, 2r + 2) of the sum of (2·size, 3) */
        nd_red_op op = dtype == ND_BOOL ? ND_RED_MAX : dtype == ND_F64 ? ND_RED_MEAN : ND_RED_SUM;
        nd_tensor *s = nd_dist_reduce_scatter(rank_tensor(dtype, rank, ND_SHAPE(2 * size, 3)), op);
        CHECK(s && nd_ndim(s) == 2 && nd_shape(s)[0] == 2 && nd_shape(s)[1] == 3);
        for (int64_t i = 0; i < 6; i++) expected[i] = reduce_expected(dtype, op, rank * 6 + i);
        CHECK_VALUES(s, expected, 6, 0);
        nd_scope_end();
    }
    nd_scope_begin();
    if (size > 1)
        CHECK(nd_dist_reduce_scatter(nd_zeros(ND_F32, ND_SHAPE(2 * size + 1)), ND_RED_SUM) ==
                  NULL &&
              error_mentions("split evenly", NULL));
    nd_scope_end();
}

static void size_zero_and_nonblocking(void) {
    nd_scope_begin();
    int size = nd_dist_size();
    nd_tensor *empty = nd_zeros(ND_F32, ND_SHAPE(0, 3));
    CHECK(nd_dist_allreduce(empty, ND_RED_SUM) == 0);
    CHECK(nd_dist_broadcast(empty, 0) == 0);
    nd_tensor *g = nd_dist_allgather(empty);
    CHECK(g && nd_ndim(g) == 3 && nd_shape(g)[0] == size && nd_numel(g) == 0);
    CHECK(nd_dist_barrier() == 0);

    /* two in flight at once, one of them strided, waited for in either order */
    nd_tensor *a = rank_tensor(ND_F32, nd_dist_rank(), ND_SHAPE(N));
    nd_tensor *base = rank_tensor(ND_I64, nd_dist_rank(), ND_SHAPE(2, N));
    nd_tensor *b = nd_select(base, 0, 1);
    nd_dist_work *wa = nd_dist_allreduce_start(a, ND_RED_MEAN);
    nd_dist_work *wb = nd_dist_allreduce_start(b, ND_RED_MAX);
    CHECK(wa && wb);
    CHECK(nd_dist_wait(wb) == 0);
    CHECK(nd_dist_wait(wa) == 0);
    double expected[N];
    for (int64_t i = 0; i < N; i++) expected[i] = reduce_expected(ND_F32, ND_RED_MEAN, i);
    CHECK_VALUES(a, expected, N, 0);
    for (int64_t i = 0; i < N; i++) expected[i] = reduce_expected(ND_I64, ND_RED_MAX, N + i);
    CHECK_VALUES(b, expected, N, 0);
    CHECK(nd_dist_wait(NULL) == -1);
    nd_scope_end();
}

/* Tensors that differ between ranks: -1 on every rank, naming both ranks and
 * both shapes, and the ranks go on talking afterwards (nothing hangs). */
static void mismatches(void) {
    int rank = nd_dist_rank(), size = nd_dist_size();
    if (size < 2) return;
    nd_scope_begin();
    nd_tensor *t = rank == 1 ? nd_zeros(ND_F32, ND_SHAPE(3, 2)) : nd_zeros(ND_F32, ND_SHAPE(2, 3));
    CHECK(nd_dist_allreduce(t, ND_RED_SUM) == -1 &&
          error_mentions("nd_dist_allreduce", "rank 0", "(2, 3)", "rank 1", "(3, 2)", NULL));
    CHECK(nd_errcode() == ND_ERR_SHAPE);
    CHECK(nd_dist_allgather(t) == NULL && error_mentions("rank 1", "(3, 2)", NULL));
    nd_tensor *u = nd_zeros(rank == size - 1 ? ND_F64 : ND_F32, ND_SHAPE(4));
    char last[32];
    snprintf(last, sizeof last, "rank %d", size - 1);
    CHECK(nd_dist_broadcast(u, 0) == -1 &&
          error_mentions("rank 0 has float32", last, "float64", NULL));
    CHECK(nd_errcode() == ND_ERR_DTYPE);
    /* ranks that ask for different reductions, or a rank with no tensor */
    nd_tensor *v = nd_zeros(ND_F32, ND_SHAPE(4));
    CHECK(nd_dist_allreduce(v, rank == 1 ? ND_RED_MAX : ND_RED_SUM) == -1 &&
          error_mentions("reduction", "rank 1 passes 2", NULL));
    CHECK(nd_dist_allreduce(rank == 1 ? NULL : v, ND_RED_SUM) == -1 &&
          error_mentions("rank 1", "no tensor", NULL));
    /* and the ranks still agree on the next call */
    nd_tensor *one = nd_ones(ND_I32, ND_SHAPE(2));
    CHECK(nd_dist_allreduce(one, ND_RED_SUM) == 0);
    CHECK_VALUES(one, ((double[]){size, size}), 2, 0);
    /* a root that is not a rank */
    CHECK(nd_dist_broadcast(one, size) == -1 && error_mentions("root", NULL));
    nd_scope_end();
}

void test_collectives(void) {
    allreduce_every_dtype();
    strided();
    broadcast_gather_scatter();
    size_zero_and_nonblocking();
    mismatches();
}
