/* Checkpoints of a data-parallel run (nd_dist_save_checkpoint /
 * nd_dist_load_checkpoint): DDP training with sharded batches, stopped after
 * some epochs and resumed in fresh state (other initial weights on every
 * rank, a new optimizer, wrapper and iterator) from rank 0's file, ends with
 * the very bits of the run that never stopped, on every rank, for SGD with
 * momentum and for Adam. A file cut short is refused on every rank. */
#include "check.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { IN = 5, HIDDEN = 8, CLASSES = 3, ROWS = 40, BATCH = 4, EPOCHS = 4, STOP = 2 };

static const char *names[] = {"w1", "b1", "w2", "b2", "epoch"};

typedef struct {
    nd_tensor *t[5]; /* w1 b1 w2 b2 epoch (retained) */
    nd_ddp *ddp;
    nd_optim *opt;
    nd_batches *it;
} run;

static void run_new(run *r, bool adam, uint64_t init_seed, nd_tensor *x, nd_tensor *y) {
    nd_manual_seed(init_seed + (uint64_t)nd_dist_rank());
    const int64_t sizes[] = {IN, HIDDEN, CLASSES};
    for (int l = 0; l < 2; l++) {
        r->t[2 * l] = nd_set_requires_grad(
            nd_retain(nd_zeros(ND_F32, ND_SHAPE(sizes[l + 1], sizes[l]))), true);
        r->t[2 * l + 1] =
            nd_set_requires_grad(nd_retain(nd_zeros(ND_F32, ND_SHAPE(sizes[l + 1]))), true);
        nd_init_linear_(r->t[2 * l], r->t[2 * l + 1]);
    }
    r->t[4] = nd_retain(nd_scalar(0, ND_I64));
    r->ddp = nd_ddp_new(4, r->t, ND_DDP_DEFAULTS);
    r->opt = adam ? nd_adam(4, r->t, ND_ADAM_DEFAULTS)
                  : nd_sgd(4, r->t, (nd_sgd_opts){.lr = 0.05, .momentum = 0.9});
    r->it = nd_batches_new(x, y, BATCH, true, false, 3);
    CHECK(r->ddp && r->opt && r->it);
    CHECK(nd_batches_set_shard(r->it, nd_dist_rank(), nd_dist_size(), false) == 0);
}

static void run_free(run *r) {
    nd_batches_free(r->it);
    nd_optim_free(r->opt);
    nd_ddp_free(r->ddp);
    for (int i = 0; i < 5; i++) nd_release(r->t[i]);
}

static void train(run *r, int64_t to) {
    for (int64_t e = (int64_t)nd_item(r->t[4]); e < to; e++) {
        nd_scope_begin();
        nd_optim_set_lr(r->opt, nd_lr_step(0.05, e, 1, 0.7));
        nd_tensor *xb, *yb;
        while (nd_batches_next(r->it, &xb, &yb)) {
            nd_optim_zero_grad(r->opt);
            nd_tensor *h = nd_relu(nd_linear(xb, r->t[0], r->t[1]));
            CHECK(nd_backward(nd_cross_entropy(nd_linear(h, r->t[2], r->t[3]), yb)) == 0);
            CHECK(nd_ddp_sync_grads(r->ddp) == 0);
            CHECK(nd_optim_step(r->opt) == 0);
        }
        nd_fill_(r->t[4], (double)(e + 1));
        nd_scope_end();
    }
}

static bool same_bits(const run *a, const run *b) {
    for (int i = 0; i < 4; i++) {
        float va[HIDDEN * HIDDEN], vb[HIDDEN * HIDDEN];
        size_t bytes = (size_t)nd_numel(a->t[i]) * sizeof(float);
        if (nd_read(a->t[i], ND_F32, va, bytes) || nd_read(b->t[i], ND_F32, vb, bytes) ||
            memcmp(va, vb, bytes))
            return false;
    }
    return true;
}

static void resume(bool adam, const char *path, nd_tensor *x, nd_tensor *y) {
    run whole, first, resumed;
    run_new(&whole, adam, 10, x, y);
    train(&whole, EPOCHS);
    run_new(&first, adam, 10, x, y);
    train(&first, STOP);
    CHECK(nd_dist_save_checkpoint(path, 5, names, first.t, first.opt) == 0);
    run_free(&first);
    run_new(&resumed, adam, 20, x, y);
    CHECK(nd_dist_load_checkpoint(path, 5, names, resumed.t, resumed.opt) == 0);
    CHECK(nd_item(resumed.t[4]) == STOP);
    CHECK(nd_batches_set_epoch(resumed.it, STOP) == 0);
    train(&resumed, EPOCHS);
    CHECK(same_bits(&whole, &resumed));

    /* cut short by rank 0, after which every rank refuses it */
    if (nd_dist_rank() == 0) CHECK(truncate(path, 100) == 0);
    CHECK(nd_dist_barrier() == 0);
    CHECK(nd_dist_load_checkpoint(path, 5, names, resumed.t, resumed.opt) == -1);
    CHECK(error_mentions(path, NULL));  /* each rank read it, and says which file */
    CHECK(same_bits(&whole, &resumed)); /* and nothing changed */
    run_free(&whole);
    run_free(&resumed);
}

void test_checkpoints(void) {
    nd_scope_begin();
    /* one path for every rank: rank 0's process id, sent to all */
    nd_tensor *pid = nd_scalar(getpid(), ND_I64);
    CHECK(nd_dist_broadcast(pid, 0) == 0);
    char path[128];
    snprintf(path, sizeof path, "test_dist_checkpoint_%lld.safetensors", (long long)nd_item(pid));
    nd_manual_seed(5);
    nd_tensor *x = nd_randn(ND_F32, ND_SHAPE(ROWS, IN));
    nd_tensor *y = nd_randint(0, CLASSES, ND_SHAPE(ROWS));
    resume(false, path, x, y);
    resume(true, path, x, y);
    CHECK(nd_dist_barrier() == 0);
    if (nd_dist_rank() == 0) remove(path);
    nd_scope_end();
}
