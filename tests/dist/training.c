/* Data-parallel training equals training in one process on the whole batch;
 * gradient accumulation without sync; sharded batches that are disjoint and
 * cover each epoch. */
#include "check.h"
#include "core/internal.h" /* the backward engine's leaf hook */

#include <stdlib.h>
#include <string.h>

enum { IN = 5, HIDDEN = 8, CLASSES = 3, GLOBAL_BATCH = 24, STEPS = 4 };

typedef struct {
    nd_tensor *p[4]; /* w1 b1 w2 b2 */
} mlp;

static void mlp_init(mlp *m, uint64_t seed) {
    nd_manual_seed(seed);
    const int64_t sizes[] = {IN, HIDDEN, CLASSES};
    for (int l = 0; l < 2; l++) {
        m->p[2 * l] =
            nd_set_requires_grad(nd_zeros(ND_F32, ND_SHAPE(sizes[l + 1], sizes[l])), true);
        m->p[2 * l + 1] = nd_set_requires_grad(nd_zeros(ND_F32, ND_SHAPE(sizes[l + 1])), true);
        nd_init_linear_(m->p[2 * l], m->p[2 * l + 1]);
    }
}

static nd_tensor *mlp_loss(const mlp *m, nd_tensor *x, nd_tensor *labels) {
    nd_tensor *h = nd_relu(nd_linear(x, m->p[0], m->p[1]));
    return nd_cross_entropy(nd_linear(h, m->p[2], m->p[3]), labels);
}

/* The whole batch: the same on every rank (a fixed seed). */
static void make_data(nd_tensor **x, nd_tensor **labels) {
    nd_manual_seed(99);
    *x = nd_randn(ND_F32, ND_SHAPE(GLOBAL_BATCH, IN));
    *labels = nd_randint(0, CLASSES, ND_SHAPE(GLOBAL_BATCH));
}

static bool params_close(const mlp *a, const mlp *b, double rtol) {
    bool ok = true;
    for (int i = 0; i < 4; i++) {
        int64_t n = nd_numel(a->p[i]);
        double *expected = malloc(sizeof(double) * (size_t)n);
        ok = ok && expected && nd_read(b->p[i], ND_F64, expected, sizeof(double) * (size_t)n) == 0;
        ok = ok && CHECK_VALUES(a->p[i], expected, n, rtol);
        free(expected);
    }
    return ok;
}

/* One process, the whole batch: the reference. */
static void train_alone(mlp *m, nd_tensor *x, nd_tensor *labels) {
    mlp_init(m, 1);
    nd_optim *sgd = nd_sgd(4, m->p, (nd_sgd_opts){.lr = 0.1, .momentum = 0.9});
    for (int s = 0; s < STEPS; s++) {
        nd_scope_begin();
        nd_optim_zero_grad(sgd);
        CHECK(nd_backward(mlp_loss(m, x, labels)) == 0);
        CHECK(nd_optim_step(sgd) == 0);
        nd_scope_end();
    }
    nd_optim_free(sgd);
}

/* Every rank its slice of the batch, in `micro` micro-batches accumulated
 * without sync but for the last; the loss of each scaled by 1/micro so that
 * the sum is the mean over the slice. */
static void train_parallel(mlp *m, nd_tensor *x, nd_tensor *labels, nd_ddp_opts opts, int micro,
                           int *buckets) {
    int rank = nd_dist_rank(), size = nd_dist_size();
    mlp_init(m, 1 + (uint64_t)rank); /* different on every rank: the wrapper makes them rank 0's */
    nd_ddp *ddp = nd_ddp_new(4, m->p, opts);
    CHECK(ddp != NULL);
    if (!ddp) return;
    *buckets = nd_ddp_bucket_count(ddp);
    nd_optim *sgd = nd_sgd(4, m->p, (nd_sgd_opts){.lr = 0.1, .momentum = 0.9});
    int64_t share = GLOBAL_BATCH / size, piece = share / micro;
    for (int s = 0; s < STEPS; s++) {
        nd_scope_begin();
        nd_optim_zero_grad(sgd);
        for (int k = 0; k < micro; k++) {
            nd_ddp_set_sync(ddp, k == micro - 1);
            int64_t start = rank * share + k * piece;
            nd_tensor *xb = nd_slice(x, 0, start, start + piece, 1);
            nd_tensor *yb = nd_slice(labels, 0, start, start + piece, 1);
            CHECK(nd_backward(nd_mul_scalar(mlp_loss(m, xb, yb), 1.0 / micro)) == 0);
            if (k < micro - 1) {
                /* without sync the gradient stays this rank's own */
                CHECK(nd_ddp_sync_grads(ddp) == 0);
                nd_tensor *g = nd_dist_allgather(nd_grad(m->p[0]));
                if (size > 1)
                    CHECK(g &&
                          nd_item(nd_max(nd_abs(nd_sub(nd_select(g, 0, 0), nd_select(g, 0, 1))),
                                         ND_ALL, false)) > 0);
            }
        }
        CHECK(nd_ddp_sync_grads(ddp) == 0);
        CHECK(nd_optim_step(sgd) == 0);
        nd_scope_end();
    }
    nd_optim_free(sgd);
    nd_ddp_free(ddp);
}

/* The engine's hook, which the wrapper stands on: once per parameter, each
 * as soon as its gradient is final, so the last layer comes first. */
typedef struct {
    nd_tensor *seen[8];
    int count;
} seen_leaves;

static void record_leaf(nd_tensor *leaf, void *ctx) {
    seen_leaves *s = ctx;
    if (s->count < 8) s->seen[s->count] = leaf;
    s->count++;
}

static void leaf_hook_order(nd_tensor *x, nd_tensor *labels) {
    nd_scope_begin();
    mlp m;
    mlp_init(&m, 5);
    seen_leaves seen = {0};
    nd__set_leaf_grad_hook(record_leaf, &seen);
    CHECK(nd_backward(mlp_loss(&m, x, labels)) == 0);
    nd__set_leaf_grad_hook(NULL, NULL);
    CHECK(seen.count == 4);
    /* w2 and b2 (either order) before w1 and b1 */
    bool last_first = seen.count == 4;
    for (int i = 0; i < 2 && last_first; i++)
        last_first = (seen.seen[i] == m.p[2] || seen.seen[i] == m.p[3]) &&
                     (seen.seen[2 + i] == m.p[0] || seen.seen[2 + i] == m.p[1]) &&
                     seen.seen[i] != seen.seen[1 - i] && seen.seen[2 + i] != seen.seen[3 - i];
    CHECK(last_first);
    nd_scope_end();
}

void test_training(void) {
    nd_scope_begin();
    nd_tensor *x, *labels;
    make_data(&x, &labels);
    leaf_hook_order(x, labels);
    mlp alone, parallel;
    train_alone(&alone, x, labels);
    int buckets = 0;
    train_parallel(&parallel, x, labels, ND_DDP_DEFAULTS, 1, &buckets);
    CHECK(buckets == 1);
    CHECK(params_close(&parallel, &alone, 1e-5));
    /* a bucket per parameter (buckets smaller than any gradient), and gradient accumulation */
    train_parallel(&parallel, x, labels, (nd_ddp_opts){.bucket_mb = 1e-6}, 2, &buckets);
    CHECK(buckets == 4);
    CHECK(params_close(&parallel, &alone, 1e-5));
    /* every rank ends with the same parameters, bit for bit */
    for (int i = 0; i < 4; i++) {
        nd_tensor *g = nd_dist_allgather(parallel.p[i]);
        nd_tensor *first = nd_select(g, 0, 0);
        for (int r = 1; r < nd_dist_size(); r++)
            CHECK(nd_item(nd_max(nd_abs(nd_sub(nd_select(g, 0, r), first)), ND_ALL, false)) == 0);
    }
    CHECK(nd_ddp_new(4, parallel.p, (nd_ddp_opts){0}) == NULL && error_mentions("bucket_mb", NULL));
    nd_scope_end();
}

/* The rows every rank sees in one epoch, gathered: disjoint, covering. */
static void shards_of(int64_t rows, int64_t batch, bool drop_tail) {
    nd_scope_begin();
    int rank = nd_dist_rank(), size = nd_dist_size();
    nd_tensor *ids = nd_arange(0, (double)rows, 1, ND_I64);
    nd_batches *it = nd_batches_new(ids, NULL, batch, true, false, 42);
    CHECK(nd_batches_set_shard(it, rank, size, drop_tail) == 0);
    int64_t share = drop_tail ? rows / size : (rows + size - 1) / size;
    CHECK(nd_batches_count(it) == (share + batch - 1) / batch);
    for (int epoch = 0; epoch < 2; epoch++) {
        nd_scope_begin();
        nd_tensor *mine = nd_full(ND_I64, ND_SHAPE(share), -1);
        int64_t got = 0, *m = nd_data(mine);
        nd_tensor *xb;
        while (nd_batches_next(it, &xb, NULL)) {
            int64_t n = nd_numel(xb);
            if (got + n <= share) nd_read(xb, ND_I64, m + got, sizeof(int64_t) * (size_t)n);
            got += n;
        }
        CHECK(got == share);
        nd_tensor *all = nd_dist_allgather(mine);
        int64_t total = share * size, *a = all ? nd_data(all) : NULL;
        int *seen = calloc((size_t)rows + 1, sizeof *seen);
        bool in_range = a && seen;
        for (int64_t i = 0; in_range && i < total; i++) {
            in_range = a[i] >= 0 && a[i] < rows;
            if (in_range) seen[a[i]]++;
        }
        CHECK(in_range);
        /* each row once; padding repeats the first (total - rows) rows of the order once more */
        int64_t once = 0, twice = 0, never = 0;
        for (int64_t r = 0; in_range && r < rows; r++) {
            once += seen[r] == 1;
            twice += seen[r] == 2;
            never += seen[r] == 0;
        }
        if (drop_tail)
            CHECK(once == total && twice == 0 && never == rows - total);
        else
            CHECK(once == rows - (total - rows) && twice == total - rows && never == 0);
        free(seen);
        nd_scope_end();
    }
    nd_batches_free(it);
    nd_scope_end();
}

void test_shards(void) {
    shards_of(10, 3, false); /* 10 rows over 3 ranks: padded to 12 */
    shards_of(10, 3, true);  /* or cut to 9 */
    shards_of(12, 4, false);
    shards_of(11, 2, true);
    nd_scope_begin();
    nd_batches *it = nd_batches_new(nd_zeros(ND_F32, ND_SHAPE(4, 2)), NULL, 2, false, false, 0);
    CHECK(nd_batches_set_shard(it, 2, 2, false) == -1 && error_mentions("rank 2 of 2", NULL));
    nd_batches_free(it);
    nd_scope_end();
}
