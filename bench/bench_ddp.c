/* Benchmark W11 of BENCHMARKS.md: data-parallel training (libnd_dist) of the
 * W5 MLP 784-256-256-10, ReLU, cross-entropy, SGD lr 0.01 momentum 0.9, every
 * process one batch of 128 rows of its own seeded random data per step; 10
 * warm-up steps, then the median of 5 runs of 200 steps. A step is every
 * process one batch, timed until the slowest process is done.
 *
 *   bench_ddp 1 [quick]                  one process: metric=steps_per_s_1proc
 *   mpirun -np 2 bench_ddp 1 [quick] [R] two: metric=steps_per_s (global), and
 *                                        with R, the one-process rate, also
 *                                        metric=weak_scaling_efficiency = rate / R
 *
 * One thread per process (the first argument must be 1). scripts/bench.sh runs
 * both and passes R. */
#include "bench.h"

#include <nd.h>
#include <nd_dist.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    nd_tensor *p[6]; /* w1 b1 w2 b2 w3 b3 */
    nd_tensor *x, *labels;
    nd_optim *sgd;
    nd_ddp *ddp;
} ddp_bench;

static int fail(const char *what) {
    fprintf(stderr, "bench_ddp (rank %d): %s: %s\n", nd_dist_rank(), what,
            nd_last_error() ? nd_last_error() : "?");
    return 1;
}

static int step(ddp_bench *m) {
    nd_scope_begin();
    nd_optim_zero_grad(m->sgd);
    nd_tensor *h = nd_relu(nd_linear(m->x, m->p[0], m->p[1]));
    h = nd_relu(nd_linear(h, m->p[2], m->p[3]));
    int rc = nd_backward(nd_cross_entropy(nd_linear(h, m->p[4], m->p[5]), m->labels));
    if (rc == 0) rc = nd_ddp_sync_grads(m->ddp); /* the gradients, averaged over the ranks */
    if (rc == 0) rc = nd_optim_step(m->sgd);
    nd_scope_end();
    return rc;
}

/* steps / the time of the slowest rank */
static int timed_run(ddp_bench *m, int steps, double *rate) {
    if (nd_dist_barrier()) return -1;
    double start = bench_now();
    for (int i = 0; i < steps; i++)
        if (step(m)) return -1;
    nd_scope_begin();
    nd_tensor *elapsed = nd_scalar(bench_now() - start, ND_F64);
    int rc = nd_dist_allreduce(elapsed, ND_RED_MAX);
    if (rc == 0) *rate = steps / nd_item(elapsed);
    nd_scope_end();
    return rc;
}

static int run(bool quick, double one_process_rate) {
    int rank = nd_dist_rank(), size = nd_dist_size();
    ddp_bench m;
    nd_manual_seed(0); /* the model: rank 0's reaches every rank through nd_ddp_new */
    const int64_t sizes[] = {784, 256, 256, 10};
    for (int layer = 0; layer < 3; layer++) {
        m.p[2 * layer] =
            nd_set_requires_grad(nd_zeros(ND_F32, ND_SHAPE(sizes[layer + 1], sizes[layer])), true);
        m.p[2 * layer + 1] =
            nd_set_requires_grad(nd_zeros(ND_F32, ND_SHAPE(sizes[layer + 1])), true);
        if (nd_init_linear_(m.p[2 * layer], m.p[2 * layer + 1])) return fail("init");
    }
    nd_manual_seed(1000 + (uint64_t)rank); /* every rank its own data */
    m.x = nd_randn(ND_F32, ND_SHAPE(128, 784));
    m.labels = nd_randint(0, 10, ND_SHAPE(128));
    m.ddp = nd_ddp_new(6, m.p, ND_DDP_DEFAULTS);
    m.sgd = nd_sgd(6, m.p, (nd_sgd_opts){.lr = 0.01, .momentum = 0.9});
    if (!m.x || !m.labels || !m.ddp || !m.sgd) return fail("setup");
    int steps = quick ? 50 : 200;
    for (int i = 0; i < 10; i++)
        if (step(&m)) return fail("warm-up step");
    double rates[5];
    for (int r = 0; r < 5; r++)
        if (timed_run(&m, steps, &rates[r])) return fail("timed step");
    double rate = bench_median(rates, 5);
    if (rank == 0 && size == 1)
        bench_report("W11_ddp_mlp_train", 1, "steps_per_s_1proc", rate, "steps/s");
    if (rank == 0 && size > 1) {
        bench_report("W11_ddp_mlp_train", 1, "steps_per_s", rate, "steps/s");
        if (one_process_rate > 0)
            bench_report("W11_ddp_mlp_train", 1, "weak_scaling_efficiency", rate / one_process_rate,
                         "ratio");
    }
    nd_optim_free(m.sgd);
    nd_ddp_free(m.ddp);
    return 0;
}

int main(int argc, char **argv) {
    if (nd_dist_init(&argc, &argv)) return fail("nd_dist_init");
    if (argc > 1 && atoi(argv[1]) != 1) {
        fprintf(stderr, "bench_ddp: W11 runs one thread per process (give 1)\n");
        nd_dist_finalize();
        return 2;
    }
    bool quick = (argc > 2 && strcmp(argv[2], "quick") == 0) || getenv("ND_BENCH_QUICK");
    double one_process_rate = argc > 3 ? atof(argv[3]) : 0;
    nd_set_num_threads(1);
    int rc = run(quick, one_process_rate);
    nd_dist_finalize();
    nd_shutdown();
    return rc;
}
