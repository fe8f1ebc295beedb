/* Minibatches: the rows (dim 0) of x, and of y when given, in batches of
 * batch_size, reshuffled every epoch by a generator of the iterator's own (so
 * that two iterators with the same seed give the same batches, whatever else
 * draws random numbers meanwhile).
 *
 *     nd_batches *it = nd_batches_new(x, y, 32, true, false, 0);
 *     for (int epoch = 0; epoch < 10; epoch++) {
 *         nd_scope_begin();                  // this epoch's batches end with it
 *         nd_tensor *xb, *yb;
 *         while (nd_batches_next(it, &xb, &yb)) {
 *             nd_scope_begin();              // one step's temporaries
 *             ... train on xb, yb ...
 *             nd_scope_end();
 *         }
 *         nd_scope_end();
 *     }
 *     nd_batches_free(it);
 *
 * Sharded (nd_batches_set_shard), each of nranks processes takes its own rows
 * of every epoch's order, as torch's DistributedSampler: the order (the same
 * on every rank, from the same seed) is padded to a multiple of nranks by
 * repeating its start, or cut to one (drop_tail); rank r then takes positions
 * r, r + nranks, r + 2·nranks, ...: disjoint shares of equal size.
 */
#include "../core/internal.h"
#include "../core/random.h"

#include <stdlib.h>

struct nd_batches {
    nd_tensor *x, *y; /* owned references */
    int64_t rows, batch_size;
    bool shuffle, drop_last;
    nd__rng rng;
    uint64_t seed;  /* to replay the shuffles of earlier epochs (nd_batches_set_epoch) */
    int64_t *order; /* this epoch's row order */
    int64_t next;   /* the first row of the next batch, in `order` or `shard` */
    bool epoch_started;
    int rank, nranks; /* sharded when nranks > 1 */
    bool drop_tail;
    int64_t *shard;     /* this rank's rows of this epoch's order */
    int64_t shard_rows; /* how many */
};

nd_batches *nd_batches_new(nd_tensor *x, nd_tensor *y, int64_t batch_size, bool shuffle,
                           bool drop_last, uint64_t seed) {
    if (!x) return nd__null_input("nd_batches_new"), NULL;
    if (x->ndim < 1) {
        nd__set_error_as(ND_ERR_SHAPE,
                         "nd_batches_new: x must have at least one dim (its rows), got shape %s",
                         nd__tshape(x));
        return NULL;
    }
    if (y && (y->ndim < 1 || y->shape[0] != x->shape[0])) {
        nd__set_error_as(ND_ERR_SHAPE,
                         "nd_batches_new: y of shape %s must have as many rows as x of shape %s",
                         nd__tshape(y), nd__tshape(x));
        return NULL;
    }
    if (batch_size <= 0) {
        nd__set_error("nd_batches_new: batch_size must be > 0, got %lld", (long long)batch_size);
        return NULL;
    }
    nd_batches *b = calloc(1, sizeof *b);
    int64_t rows = x->shape[0];
    int64_t *order = malloc((size_t)(rows > 0 ? rows : 1) * sizeof *order);
    if (!b || !order) {
        free(b);
        free(order);
        nd__set_error_as(ND_ERR_NOMEM, "nd_batches_new: out of memory for %lld rows",
                         (long long)rows);
        return NULL;
    }
    b->x = nd_retain(x);
    b->y = nd_retain(y);
    b->rows = rows;
    b->batch_size = batch_size;
    b->shuffle = shuffle;
    b->drop_last = drop_last;
    b->order = order;
    b->nranks = 1;
    b->seed = seed;
    nd__rng_seed(&b->rng, seed);
    for (int64_t i = 0; i < rows; i++) order[i] = i;
    return b;
}

/* Each epoch's order is a shuffle of the previous one by the iterator's own
 * generator, so epoch e's order is found by replaying e shuffles from the
 * seed: rows·e draws, no batches made. */
static void shuffle_order(nd_batches *b);

int nd_batches_set_epoch(nd_batches *b, int64_t epoch) {
    if (!b) return nd__fail_int("nd_batches_set_epoch: NULL iterator");
    if (epoch < 0)
        return nd__fail_int("nd_batches_set_epoch: epoch must be >= 0, got %lld", (long long)epoch);
    nd__rng_seed(&b->rng, b->seed);
    for (int64_t i = 0; i < b->rows; i++) b->order[i] = i;
    for (int64_t e = 0; e < epoch; e++) shuffle_order(b);
    b->epoch_started = false;
    return 0;
}

/* Rows per rank per epoch, as DistributedSampler's num_samples. */
static int64_t rows_per_rank(const nd_batches *b) {
    if (b->nranks == 1) return b->rows;
    if (b->drop_tail) return b->rows / b->nranks;
    return (b->rows + b->nranks - 1) / b->nranks;
}

int nd_batches_set_shard(nd_batches *b, int rank, int nranks, bool drop_tail) {
    if (!b) return nd__fail_int("nd_batches_set_shard: NULL iterator");
    if (nranks < 1 || rank < 0 || rank >= nranks)
        return nd__fail_int("nd_batches_set_shard: rank %d of %d: the rank must be in [0, %d)",
                            rank, nranks, nranks);
    if (b->epoch_started)
        return nd__fail_int("nd_batches_set_shard: the epoch has started; shard the iterator "
                            "before its first batch");
    int64_t *shard = NULL;
    if (nranks > 1) {
        /* the share, as for any other rows count: rows_per_rank with these settings */
        int64_t share = drop_tail ? b->rows / nranks : (b->rows + nranks - 1) / nranks;
        shard = malloc((size_t)(share > 0 ? share : 1) * sizeof *shard);
        if (!shard) return nd__fail_int_as(ND_ERR_NOMEM, "nd_batches_set_shard: out of memory");
    }
    free(b->shard);
    b->shard = shard;
    b->rank = rank;
    b->nranks = nranks;
    b->drop_tail = drop_tail;
    return 0;
}

int64_t nd_batches_count(const nd_batches *b) {
    if (!b) return nd__fail_int("nd_batches_count: NULL iterator");
    int64_t rows = rows_per_rank(b);
    return b->drop_last ? rows / b->batch_size : (rows + b->batch_size - 1) / b->batch_size;
}

/* Fisher–Yates over the previous order: every permutation equally likely. */
static void shuffle_order(nd_batches *b) {
    if (b->shuffle)
        for (int64_t i = b->rows - 1; i > 0; i--) {
            int64_t j = (int64_t)nd__rng_below(&b->rng, (uint64_t)i + 1);
            int64_t tmp = b->order[i];
            b->order[i] = b->order[j];
            b->order[j] = tmp;
        }
}

static void start_epoch(nd_batches *b) {
    shuffle_order(b);
    /* this rank's positions of the order, padded cyclically (rows > 0 when any is taken) */
    b->shard_rows = rows_per_rank(b);
    if (b->nranks > 1)
        for (int64_t i = 0; i < b->shard_rows; i++)
            b->shard[i] = b->order[(b->rank + i * b->nranks) % b->rows];
    b->next = 0;
    b->epoch_started = true;
}

bool nd_batches_next(nd_batches *b, nd_tensor **xb, nd_tensor **yb) {
    if (xb) *xb = NULL;
    if (yb) *yb = NULL;
    if (!b || !xb) {
        nd__set_error("nd_batches_next: %s", b ? "NULL output for the x batch" : "NULL iterator");
        return false;
    }
    nd_clear_error(); /* false also ends an epoch: an error set after this is this call's */
    if (!b->epoch_started) start_epoch(b);
    const int64_t *order = b->nranks > 1 ? b->shard : b->order;
    int64_t left = b->shard_rows - b->next;
    int64_t count = left < b->batch_size ? left : b->batch_size;
    if (count == 0 || (b->drop_last && count < b->batch_size)) {
        b->epoch_started = false; /* the next call begins a new (reshuffled) epoch */
        return false;
    }
    nd_tensor *idx = nd_from(ND_I64, 1, (const int64_t[]){count}, order + b->next);
    nd_tensor *x = nd_index_select(b->x, 0, idx);
    nd_tensor *y = b->y ? nd_index_select(b->y, 0, idx) : NULL;
    if (!x || (b->y && !y)) return false;
    b->next += count;
    *xb = x;
    if (yb) *yb = y;
    return true;
}

void nd_batches_free(nd_batches *b) {
    if (!b) return;
    nd_release(b->x);
    nd_release(b->y);
    free(b->order);
    free(b->shard);
    free(b);
}
