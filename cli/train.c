/* `nd train mlp`: trains the MLP of the benchmarks (W5: two hidden layers of
 * 256 ReLUs, cross-entropy, SGD with momentum) on a CSV or .npy data set, in
 * one process or in several under mpirun (libnd_dist: every rank its share of
 * each epoch, gradients averaged before each step). Rank 0 prints each
 * epoch's loss and accuracy (over every rank's rows) and writes the
 * checkpoints; --resume goes on from one, ending with the very numbers an
 * uninterrupted run would have.
 *
 * Built with libnd_dist when MPI was found (ND_HAVE_DIST); without it the
 * command says so. */
#include "commands.h"
#include "options.h"
#include "progress.h"
#include "text.h"

#include <nd.h>
#include <stdio.h>
#include <string.h>

#ifndef ND_HAVE_DIST
int cmd_train(int argc, char **argv) {
    (void)argc, (void)argv;
    fprintf(stderr, "nd train: this nd was built without MPI, so without libnd_dist; install "
                    "Open MPI (scripts/install-deps.sh) and build again\n");
    return 1;
}
#else
#include <nd_dist.h>
#include <nd_frame.h>
#include <stdlib.h>
#include <unistd.h>

static const char *usage =
    "nd train mlp [options]\n"
    "  Trains an MLP (in-HIDDEN-HIDDEN-classes, ReLU, cross-entropy: the W5 model of the\n"
    "  benchmarks) on a data set, in one process or in several:\n"
    "    nd train mlp --data data/blobs.csv --epochs 10\n"
    "    mpirun -np 4 nd train mlp --data data/blobs.csv --checkpoint run.safetensors\n"
    "    mpirun -np 4 nd train mlp --data data/blobs.csv --resume run.safetensors --epochs 20\n"
    "  The data: a CSV file whose column --label holds the class (0, 1, ...) and whose other\n"
    "  columns are the features, or a .npy file of features (rows × features) with\n"
    "  --labels FILE.npy. --batch is per process (the global batch is --batch × processes).\n"
    "  Every --every epochs and at the end, rank 0 writes --checkpoint (parameters, optimizer\n"
    "  state, epoch: a safetensors file); --resume FILE goes on from one to --epochs.\n\n"
    "options:\n";

static const option train_options[] = {
    {.name = "data",
     .type = OPTION_TEXT,
     .fallback = "",
     .help = "the data set: FILE.csv or FILE.npy"},
    {.name = "label",
     .type = OPTION_TEXT,
     .fallback = "label",
     .help = "the CSV column of the classes"},
    {.name = "labels", .type = OPTION_TEXT, .fallback = "", .help = "the classes, for .npy data"},
    {.name = "epochs",
     .type = OPTION_INT,
     .fallback = "10",
     .help = "train up to this epoch",
     .min = 1,
     .max = 1e6},
    {.name = "batch",
     .type = OPTION_INT,
     .fallback = "128",
     .help = "rows per step per process",
     .min = 1,
     .max = 1e7},
    {.name = "hidden",
     .type = OPTION_INT,
     .fallback = "256",
     .help = "units per hidden layer",
     .min = 1,
     .max = 1e5},
    {.name = "optim",
     .type = OPTION_TEXT,
     .fallback = "sgd",
     .help = "the optimizer",
     .choices = "sgd|adam"},
    {.name = "lr",
     .type = OPTION_NUMBER,
     .fallback = "0.01",
     .help = "the learning rate",
     .min = 1e-12,
     .max = 1e3},
    {.name = "momentum",
     .type = OPTION_NUMBER,
     .fallback = "0.9",
     .help = "SGD's momentum",
     .min = 0,
     .max = 0.999999},
    {.name = "seed",
     .type = OPTION_INT,
     .fallback = "0",
     .help = "initial weights and batch order",
     .min = 0,
     .max = 2e9},
    {.name = "checkpoint",
     .type = OPTION_TEXT,
     .fallback = "",
     .help = "write checkpoints to this file"},
    {.name = "every",
     .type = OPTION_INT,
     .fallback = "1",
     .help = "epochs between checkpoints",
     .min = 1,
     .max = 1e6},
    {.name = "resume", .type = OPTION_TEXT, .fallback = "", .help = "go on from this checkpoint"},
    {.name = NULL},
};

enum { LAYERS = 3, NPARAMS = 2 * LAYERS };
static const char *names[NPARAMS + 1] = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias",
                                         "fc3.weight", "fc3.bias", "epoch"};

typedef struct {
    nd_tensor *t[NPARAMS + 1]; /* w1 b1 w2 b2 w3 b3, and the 0-d epoch counter */
    nd_tensor *x, *y;          /* the whole data set (every rank reads it) */
    int64_t classes;
} model;

/* Rank 0 speaks; every rank fails together (the callers agree on errors). */
static int say_error(const char *what) {
    fprintf(stderr, "nd train (rank %d of %d): %s: %s\n", nd_dist_rank(), nd_dist_size(), what,
            text_user_error(nd_last_error()));
    return 1;
}

static bool ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && !strcmp(s + n - k, tail);
}

/* x (float32, rows × features) and y (int64 classes) from the data file(s). */
static int load_data(const option_values *o, model *m) {
    const char *data = options_text(o, "data");
    if (ends_with(data, ".npy")) {
        const char *labels = options_text(o, "labels");
        if (!*labels) {
            fprintf(stderr, "nd train: .npy data needs its classes too: --labels FILE.npy\n");
            return 2;
        }
        nd_tensor *x = nd_load_npy(data), *y = x ? nd_load_npy(labels) : NULL;
        if (!x || !y) return say_error("reading the data");
        m->x = nd_to(x, ND_F32);
        m->y = nd_to(y, ND_I64);
    } else {
        nd_frame *f = nd_read_csv(data, NULL);
        if (!f) return say_error("reading the data");
        int col = nd_frame_col(f, options_text(o, "label"));
        nd_frame *features = col >= 0 ? nd_frame_drop(f, options_text(o, "label")) : NULL;
        /* frames convert to floating point; the classes are whole numbers in it */
        if (col >= 0) m->y = nd_to(nd_frame_column_tensor(f, col, ND_F64), ND_I64);
        if (features) m->x = nd_frame_to_tensor(features, ND_F32);
        nd_frame_free(features);
        nd_frame_free(f);
        if (col < 0) {
            fprintf(stderr, "nd train: %s has no column '%s' (give the classes' column: --label)\n",
                    data, options_text(o, "label"));
            return 2;
        }
    }
    if (!m->x || !m->y) return say_error("reading the data");
    if (nd_ndim(m->x) != 2 || nd_ndim(m->y) != 1 || nd_shape(m->y)[0] != nd_shape(m->x)[0]) {
        fprintf(stderr, "nd train: the features must be rows × columns and the classes one per "
                        "row\n");
        return 2;
    }
    nd_tensor *lowest = nd_min(m->y, ND_ALL, false), *highest = nd_max(m->y, ND_ALL, false);
    if (!lowest || !highest) return say_error("reading the classes");
    if (nd_item(lowest) < 0) {
        fprintf(stderr, "nd train: the classes must be 0, 1, 2, ...; found %g\n", nd_item(lowest));
        return 2;
    }
    m->classes = (int64_t)nd_item(highest) + 1;
    return 0;
}

static int model_init(model *m, int64_t hidden, uint64_t seed) {
    nd_manual_seed(seed);
    const int64_t sizes[] = {nd_shape(m->x)[1], hidden, hidden, m->classes};
    for (int l = 0; l < LAYERS; l++) {
        nd_tensor *w = nd_zeros(ND_F32, ND_SHAPE(sizes[l + 1], sizes[l]));
        nd_tensor *b = nd_zeros(ND_F32, ND_SHAPE(sizes[l + 1]));
        if (!w || !b || nd_init_linear_(w, b)) return -1;
        m->t[2 * l] = nd_set_requires_grad(w, true);
        m->t[2 * l + 1] = nd_set_requires_grad(b, true);
    }
    m->t[NPARAMS] = nd_scalar(0, ND_I64);
    return m->t[NPARAMS] ? 0 : -1;
}

static nd_tensor *logits_of(const model *m, nd_tensor *x) {
    nd_tensor *h = nd_relu(nd_linear(x, m->t[0], m->t[1]));
    h = nd_relu(nd_linear(h, m->t[2], m->t[3]));
    return nd_linear(h, m->t[4], m->t[5]);
}

/* One epoch on this rank's share; sums[] gets this rank's loss·rows, right
 * answers and rows, then the sums over every rank. */
static int epoch(const model *m, nd_ddp *ddp, nd_optim *opt, nd_batches *it, int64_t e,
                 int64_t epochs, double sums[3]) {
    bool show = nd_dist_rank() == 0 && isatty(STDERR_FILENO);
    char what[64];
    snprintf(what, sizeof what, "epoch %lld/%lld", (long long)e + 1, (long long)epochs);
    progress bar = progress_begin(what, nd_batches_count(it));
    double local[3] = {0, 0, 0};
    int64_t step = 0;
    nd_tensor *xb, *yb;
    while (nd_batches_next(it, &xb, &yb)) {
        nd_scope_begin();
        nd_optim_zero_grad(opt);
        nd_tensor *logits = logits_of(m, xb);
        nd_tensor *loss = nd_cross_entropy(logits, yb);
        int rc = loss ? nd_backward(loss) : -1;
        if (rc == 0) rc = nd_ddp_sync_grads(ddp);
        if (rc == 0) rc = nd_optim_step(opt);
        nd_tensor *right =
            rc == 0 ? nd_sum(nd_eq(nd_argmax(logits, 1, false), yb), ND_ALL, false) : NULL;
        double rows = (double)nd_shape(yb)[0];
        if (right) {
            local[0] += nd_item(loss) * rows;
            local[1] += nd_item(right);
            local[2] += rows;
        }
        if (show) progress_update(&bar, ++step, local[0] / local[2]);
        nd_scope_end();
        if (!right) return -1;
    }
    if (show) progress_end(&bar, local[0] / (local[2] > 0 ? local[2] : 1));
    nd_tensor *totals = nd_from(ND_F64, ND_SHAPE(3), local);
    if (!totals || nd_dist_allreduce(totals, ND_RED_SUM)) return -1;
    return nd_read(totals, ND_F64, sums, 3 * sizeof *sums);
}

static int train(const option_values *o, model *m) {
    int rc = 0;
    nd_ddp *ddp = nd_ddp_new(NPARAMS, m->t, ND_DDP_DEFAULTS); /* rank 0's weights everywhere */
    nd_optim *opt =
        !strcmp(options_text(o, "optim"), "adam")
            ? nd_adam(NPARAMS, m->t,
                      (nd_adam_opts){
                          .lr = options_number(o, "lr"), .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8})
            : nd_sgd(NPARAMS, m->t,
                     (nd_sgd_opts){.lr = options_number(o, "lr"),
                                   .momentum = options_number(o, "momentum")});
    uint64_t seed = (uint64_t)options_int(o, "seed");
    nd_batches *it = nd_batches_new(m->x, m->y, options_int(o, "batch"), true, false, seed);
    if (!ddp || !opt || !it || nd_batches_set_shard(it, nd_dist_rank(), nd_dist_size(), false))
        rc = say_error("setting up");
    const char *resume = options_text(o, "resume"), *ckpt = options_text(o, "checkpoint");
    if (rc == 0 && *resume) {
        if (nd_dist_load_checkpoint(resume, NPARAMS + 1, names, m->t, opt))
            rc = say_error("resuming");
        else if (nd_batches_set_epoch(it, (int64_t)nd_item(m->t[NPARAMS])))
            rc = say_error("resuming");
        else if (nd_dist_rank() == 0)
            printf("resumed from %s at epoch %lld\n", resume, (long long)nd_item(m->t[NPARAMS]));
    }
    int64_t epochs = options_int(o, "epochs"), every = options_int(o, "every");
    if (rc == 0 && nd_dist_rank() == 0)
        printf("%lld rows, %lld features, %lld classes; %d process%s × batch %d\n",
               (long long)nd_shape(m->x)[0], (long long)nd_shape(m->x)[1], (long long)m->classes,
               nd_dist_size(), nd_dist_size() > 1 ? "es" : "", options_int(o, "batch"));
    for (int64_t e = rc == 0 ? (int64_t)nd_item(m->t[NPARAMS]) : epochs; e < epochs; e++) {
        double sums[3];
        if (epoch(m, ddp, opt, it, e, epochs, sums)) {
            rc = say_error("training");
            break;
        }
        nd_fill_(m->t[NPARAMS], (double)(e + 1));
        if (nd_dist_rank() == 0)
            printf("epoch %lld/%lld  loss %.6f  accuracy %.2f%%\n", (long long)e + 1,
                   (long long)epochs, sums[0] / sums[2], 100 * sums[1] / sums[2]);
        fflush(stdout);
        if (*ckpt && ((e + 1) % every == 0 || e + 1 == epochs)) {
            if (nd_dist_save_checkpoint(ckpt, NPARAMS + 1, names, m->t, opt)) {
                rc = say_error("writing the checkpoint");
                break;
            }
            if (nd_dist_rank() == 0) printf("checkpoint %s (epoch %lld)\n", ckpt, (long long)e + 1);
        }
    }
    nd_batches_free(it);
    nd_optim_free(opt);
    nd_ddp_free(ddp);
    return rc;
}

int cmd_train(int argc, char **argv) {
    option_values o;
    options_init(&o, train_options);
    const char *what[2];
    int count = 0;
    bool help = false;
    for (int i = 1; i < argc; i++) help = help || !strcmp(argv[i], "--help");
    if (help) {
        fputs(usage, stdout);
        options_help(stdout, train_options);
        return 0;
    }
    if (options_parse("train", argc, argv, 1, &o, NULL, what, 2, &count)) return 2;
    if (count != 1 || strcmp(what[0], "mlp")) {
        fprintf(stderr, "nd train: the model to train is 'mlp' (nd train mlp --data FILE)\n");
        return 2;
    }
    if (!*options_text(&o, "data")) {
        fprintf(stderr, "nd train: give the data: --data FILE.csv (or FILE.npy with --labels)\n");
        return 2;
    }
    if (nd_dist_init(&argc, &argv)) return say_error("starting");
    /* several processes: one thread each (mpirun starts one per core), unless told */
    if (nd_dist_size() > 1 && !getenv("OMP_NUM_THREADS")) nd_set_num_threads(1);
    model m = {0};
    nd_scope_begin();
    int rc = load_data(&o, &m);
    if (rc == 0 && model_init(&m, options_int(&o, "hidden"), (uint64_t)options_int(&o, "seed")))
        rc = say_error("making the model");
    /* every rank goes on only if every rank has its data and model (a rank
     * that could not read the file would otherwise leave the others waiting) */
    nd_tensor *worst = nd_scalar(rc, ND_I32);
    if (!worst || nd_dist_allreduce(worst, ND_RED_MAX))
        rc = rc ? rc : say_error("starting");
    else if (rc == 0 && nd_item(worst) != 0)
        rc = 1, fprintf(stderr, "nd train (rank %d of %d): another rank could not start\n",
                        nd_dist_rank(), nd_dist_size());
    if (rc == 0) rc = train(&o, &m);
    nd_scope_end();
    nd_dist_finalize();
    nd_shutdown();
    return rc;
}
#endif
