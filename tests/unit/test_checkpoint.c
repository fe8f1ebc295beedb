/* Checkpoints (nd_checkpoint_save / nd_checkpoint_load): a training run
 * stopped after some epochs and resumed in fresh state (other initial
 * weights, a new optimizer, a new batch iterator) from the file ends with the
 * very same bits as the run that never stopped, for SGD with momentum under a
 * decay that depends on the rate saved, and for Adam under a cosine schedule;
 * without the optimizer's state it would not. Files that do not fit (cut
 * short, another optimizer's, other shapes) are refused and change nothing. */
#include "support.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { IN = 4, HIDDEN = 16, CLASSES = 3, ROWS = 60, BATCH = 16, EPOCHS = 6, STOP = 2 };

static const char *names[] = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "epoch"};

typedef struct {
    nd_tensor *t[5]; /* w1 b1 w2 b2, and the 0-d epoch counter */
    nd_optim *opt;
    nd_batches *it;
    bool adam;
} run;

static const char *path_of(const char *name) {
    static char path[256];
    mkdir("checkpoints_written", 0755);
    snprintf(path, sizeof path, "checkpoints_written/%s", name);
    return path;
}

static void run_new(run *r, bool adam, uint64_t init_seed) {
    nd_manual_seed(7);
    nd_tensor *x = nd_retain(nd_randn(ND_F32, ND_SHAPE(ROWS, IN)));
    nd_tensor *y = nd_retain(nd_randint(0, CLASSES, ND_SHAPE(ROWS)));
    nd_manual_seed(init_seed);
    const int64_t sizes[] = {IN, HIDDEN, CLASSES};
    for (int l = 0; l < 2; l++) {
        r->t[2 * l] = nd_set_requires_grad(
            nd_retain(nd_zeros(ND_F32, ND_SHAPE(sizes[l + 1], sizes[l]))), true);
        r->t[2 * l + 1] =
            nd_set_requires_grad(nd_retain(nd_zeros(ND_F32, ND_SHAPE(sizes[l + 1]))), true);
        nd_init_linear_(r->t[2 * l], r->t[2 * l + 1]);
    }
    r->t[4] = nd_retain(nd_scalar(0, ND_I64));
    r->adam = adam;
    r->opt = adam
                 ? nd_adam(4, r->t,
                           (nd_adam_opts){.lr = 0.01,
                                          .beta1 = 0.9,
                                          .beta2 = 0.999,
                                          .eps = 1e-8,
                                          .weight_decay = 0.01,
                                          .decoupled = true})
                 : nd_sgd(4, r->t, (nd_sgd_opts){.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3});
    cr_assert(r->opt, "%s", nd_last_error());
    r->it = nd_batches_new(x, y, BATCH, true, false, 11);
    cr_assert(r->it, "%s", nd_last_error());
    nd_release(x);
    nd_release(y);
}

static void run_free(run *r) {
    nd_optim_free(r->opt);
    nd_batches_free(r->it);
    for (int i = 0; i < 5; i++) nd_release(r->t[i]);
}

/* Epochs from the counter's value up to `to`. SGD's rate decays by 0.8 from
 * the rate it has (so it must come back from the file); Adam's follows a
 * cosine of the epoch. */
static void train(run *r, int64_t to) {
    for (int64_t e = (int64_t)nd_item(r->t[4]); e < to; e++) {
        nd_scope_begin();
        if (r->adam)
            nd_optim_set_lr(r->opt, nd_lr_cosine(0.01, e, EPOCHS, 1e-4));
        else if (e > 0)
            nd_optim_set_lr(r->opt, nd_optim_lr(r->opt) * 0.8);
        nd_tensor *xb, *yb;
        while (nd_batches_next(r->it, &xb, &yb)) {
            nd_optim_zero_grad(r->opt);
            nd_tensor *h = nd_relu(nd_linear(xb, r->t[0], r->t[1]));
            nd_tensor *loss = nd_cross_entropy(nd_linear(h, r->t[2], r->t[3]), yb);
            cr_assert_eq(nd_backward(loss), 0, "%s", nd_last_error());
            cr_assert_eq(nd_optim_step(r->opt), 0, "%s", nd_last_error());
        }
        nd_fill_(r->t[4], (double)(e + 1));
        nd_scope_end();
    }
}

static bool same_bits(const run *a, const run *b) {
    for (int i = 0; i < 4; i++) {
        size_t bytes = (size_t)nd_numel(a->t[i]) * sizeof(float);
        float va[HIDDEN * HIDDEN], vb[HIDDEN * HIDDEN];
        nd_read(a->t[i], ND_F32, va, bytes);
        nd_read(b->t[i], ND_F32, vb, bytes);
        if (memcmp(va, vb, bytes)) return false;
    }
    return true;
}

/* Uninterrupted, then stopped at STOP and resumed from the file (with and
 * without the optimizer's state). */
static void check_resume(bool adam, const char *file) {
    run whole, first, resumed, params_only;
    run_new(&whole, adam, 1);
    train(&whole, EPOCHS);

    run_new(&first, adam, 1);
    train(&first, STOP);
    cr_assert_eq(nd_checkpoint_save(path_of(file), 5, names, first.t, first.opt), 0, "%s",
                 nd_last_error());
    run_free(&first);

    run_new(&resumed, adam, 2); /* other initial weights: all must come from the file */
    cr_assert_eq(nd_checkpoint_load(path_of(file), 5, names, resumed.t, resumed.opt), 0, "%s",
                 nd_last_error());
    cr_assert_eq(nd_item(resumed.t[4]), STOP);
    cr_assert_eq(nd_batches_set_epoch(resumed.it, STOP), 0, "%s", nd_last_error());
    train(&resumed, EPOCHS);
    cr_assert(same_bits(&whole, &resumed), "the resumed run differs from the uninterrupted one");
    cr_assert_eq(nd_optim_lr(resumed.opt), nd_optim_lr(whole.opt));

    /* the optimizer's state matters: parameters alone do not resume the run */
    run_new(&params_only, adam, 2);
    cr_assert_eq(nd_checkpoint_load(path_of(file), 5, names, params_only.t, NULL), 0, "%s",
                 nd_last_error());
    nd_batches_set_epoch(params_only.it, STOP);
    train(&params_only, EPOCHS);
    cr_assert(!same_bits(&whole, &params_only));

    run_free(&whole);
    run_free(&resumed);
    run_free(&params_only);
}

ND_TEST(checkpoint, sgd_momentum_resumes_bit_identical) {
    check_resume(false, "sgd.safetensors");
}

ND_TEST(checkpoint, adam_resumes_bit_identical) {
    check_resume(true, "adam.safetensors");
}

/* PyTorch's names for the state, 0-d step counts; no buffer before a step. */
ND_TEST(checkpoint, entries) {
    run r;
    run_new(&r, true, 1);
    cr_assert_eq(nd_checkpoint_save(path_of("fresh.safetensors"), 5, names, r.t, r.opt), 0);
    char **list = NULL;
    cr_assert_eq(nd_safetensors_names(path_of("fresh.safetensors"), &list), 5 + 1 + 4);
    free(list);
    train(&r, 1);
    cr_assert_eq(nd_checkpoint_save(path_of("one.safetensors"), 5, names, r.t, r.opt), 0);
    nd_tensor *m = nd_load_safetensors(path_of("one.safetensors"), "optim.fc1.weight.exp_avg");
    cr_assert(m && nd_ndim(m) == 2, "%s", nd_last_error());
    nd_tensor *step = nd_load_safetensors(path_of("one.safetensors"), "optim.fc2.bias.step");
    cr_assert(step && nd_ndim(step) == 0 && nd_type(step) == ND_I64);
    cr_assert_eq(nd_item(step), (ROWS + BATCH - 1) / BATCH);
    /* a fresh optimizer's file loads into a trained one: the buffers go away */
    cr_assert_eq(nd_checkpoint_load(path_of("fresh.safetensors"), 5, names, r.t, r.opt), 0, "%s",
                 nd_last_error());
    run_free(&r);
}

ND_TEST(checkpoint, refused_files_change_nothing) {
    run r, other;
    run_new(&r, false, 1);
    train(&r, 1);
    char good[256], cut[256]; /* path_of's buffer is reused */
    snprintf(good, sizeof good, "%s", path_of("good.safetensors"));
    snprintf(cut, sizeof cut, "%s", path_of("cut.safetensors"));
    cr_assert_eq(nd_checkpoint_save(good, 5, names, r.t, r.opt), 0);
    float before[HIDDEN * IN], after[HIDDEN * IN];
    nd_read(r.t[0], ND_F32, before, sizeof before);

    /* cut short on disk: every length refused, the tensors as they were */
    FILE *f = fopen(good, "rb");
    cr_assert(f);
    static unsigned char bytes[1 << 16];
    size_t len = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    cr_assert(len > 100 && len < sizeof bytes);
    for (size_t keep = 0; keep < len; keep += len / 7) {
        f = fopen(cut, "wb");
        fwrite(bytes, 1, keep, f);
        fclose(f);
        cr_assert_neq(nd_checkpoint_load(cut, 5, names, r.t, r.opt), 0, "%zu bytes", keep);
        assert_error("cut.safetensors");
    }
    f = fopen(cut, "wb");
    fwrite(bytes, 1, len - 1, f);
    fclose(f);
    cr_assert_neq(nd_checkpoint_load(cut, 5, names, r.t, r.opt), 0);
    assert_error("truncated");
    nd_read(r.t[0], ND_F32, after, sizeof after);
    cr_assert(!memcmp(before, after, sizeof before));

    /* another optimizer's state */
    run_new(&other, true, 3);
    cr_assert_neq(nd_checkpoint_load(good, 5, names, other.t, other.opt), 0);
    assert_error("momentum_buffer' is not part of nd_adam's state");

    /* other shapes: a tensor of the wrong shape named like the file's */
    nd_tensor *wrong[5] = {r.t[2], r.t[1], r.t[0], r.t[3], r.t[4]};
    cr_assert_neq(nd_checkpoint_load(good, 5, names, wrong, NULL), 0);
    assert_error("'fc1.weight' is float32 of shape (16, 4) in the file");
    cr_assert_eq(nd_errcode(), ND_ERR_SHAPE, "%s", nd_errcode_name(nd_errcode()));
    nd_read(r.t[0], ND_F32, after, sizeof after);
    cr_assert(!memcmp(before, after, sizeof before));

    /* an optimizer parameter without a name; a name kept for the optimizer */
    cr_assert_neq(nd_checkpoint_save(path_of("x.safetensors"), 3, names, r.t, r.opt), 0);
    assert_error("the optimizer's parameter 3");
    const char *bad_names[] = {"optim.lr"};
    cr_assert_neq(nd_checkpoint_save(path_of("x.safetensors"), 1, bad_names, r.t, NULL), 0);
    assert_error("kept for the optimizer's state");
    cr_assert_neq(nd_checkpoint_load(path_of("absent.safetensors"), 5, names, r.t, r.opt), 0);
    assert_error("absent.safetensors");
    run_free(&r);
    run_free(&other);
}

/* nd_batches_set_epoch: epoch e's batches, as an iterator that ran through
 * the epochs before gives them; sharded too. */
static void first_batch(nd_batches *it, int64_t *out) {
    nd_tensor *xb;
    cr_assert(nd_batches_next(it, &xb, NULL), "%s", nd_last_error());
    nd_read(xb, ND_I64, out, (size_t)nd_numel(xb) * sizeof *out);
}

ND_TEST(checkpoint, batches_set_epoch) {
    for (int sharded = 0; sharded < 2; sharded++) {
        nd_tensor *ids = nd_arange(0, 20, 1, ND_I64);
        nd_batches *ran = nd_batches_new(ids, NULL, 5, true, false, 9);
        nd_batches *jumped = nd_batches_new(ids, NULL, 5, true, false, 9);
        if (sharded) {
            nd_batches_set_shard(ran, 1, 3, false);
            nd_batches_set_shard(jumped, 1, 3, false);
        }
        int64_t want[5], got[5], first[5];
        first_batch(ran, first);
        for (int e = 0; e < 3; e++) { /* the rest of epoch 0, then epochs 1 and 2 */
            nd_tensor *xb;
            while (nd_batches_next(ran, &xb, NULL)) {
            }
            if (e < 2) first_batch(ran, want);
        }
        cr_assert_eq(nd_batches_set_epoch(jumped, 2), 0, "%s", nd_last_error());
        first_batch(jumped, got);
        cr_assert(!memcmp(want, got, sizeof want), "epoch 2's first batch differs");
        cr_assert(memcmp(first, got, sizeof got), "epoch 2 is epoch 0 again");
        cr_assert_eq(nd_batches_set_epoch(jumped, 0), 0); /* back to the start, mid-epoch */
        first_batch(jumped, got);
        cr_assert(!memcmp(first, got, sizeof got));
        cr_assert_eq(nd_batches_set_epoch(jumped, -1), -1);
        assert_error("nd_batches_set_epoch: epoch must be >= 0, got -1");
        nd_batches_free(ran);
        nd_batches_free(jumped);
    }
    cr_assert_eq(nd_batches_set_epoch(NULL, 0), -1);
}
