/* A rank that leaves mid-training must not leave the others waiting for
 * ever: `mpirun -np N test_dist_fault crash|leave`. The last rank trains two
 * steps and goes: `crash` ends the process at once, without MPI_Finalize (as
 * a crash would; mpirun is told to let that pass, so that the job is not
 * killed before the others notice), `leave` frees its nd objects and
 * returns from main as a program that stops early does. The other ranks train on with a 2-second
 * timeout (nd_dist_set_timeout) and must get an error from the next step, naming their rank and the
 * call, within the timeout and a margin; and every later collective must fail at once. Each rank
 * prints one line and exits 0 when all of that held, 1 otherwise. */
#include <nd.h>
#include <nd_dist.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { STEPS_BEFORE_LEAVING = 2, MAX_STEPS = 50 };
static const double TIMEOUT_S = 2.0, MARGIN_S = 3.0;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool mentions(const char *what) {
    const char *err = nd_last_error();
    return err && strstr(err, what);
}

int main(int argc, char **argv) {
    bool crash = argc > 1 && !strcmp(argv[1], "crash");
    if (argc < 2 || (!crash && strcmp(argv[1], "leave"))) {
        fprintf(stderr, "usage: test_dist_fault crash|leave\n");
        return 1;
    }
    if (nd_dist_init(&argc, &argv)) {
        fprintf(stderr, "test_dist_fault: %s\n", nd_last_error());
        return 1;
    }
    int rank = nd_dist_rank(), size = nd_dist_size();
    if (size < 2) {
        fprintf(stderr, "test_dist_fault: run it under mpirun with 2 or more processes\n");
        nd_dist_finalize();
        return 1;
    }
    bool leaver = rank == size - 1;
    nd_dist_set_timeout(TIMEOUT_S);

    nd_manual_seed(7);
    nd_tensor *w = nd_set_requires_grad(nd_zeros(ND_F32, ND_SHAPE(3, 4)), true);
    nd_tensor *b = nd_set_requires_grad(nd_zeros(ND_F32, ND_SHAPE(3)), true);
    nd_init_linear_(w, b);
    nd_tensor *params[] = {w, b};
    nd_ddp *ddp = nd_ddp_new(2, params, ND_DDP_DEFAULTS);
    nd_optim *sgd = nd_sgd(2, params, (nd_sgd_opts){.lr = 0.1});
    nd_tensor *x = nd_randn(ND_F32, ND_SHAPE(8, 4)), *y = nd_randint(0, 3, ND_SHAPE(8));
    if (!ddp || !sgd || !x || !y) {
        fprintf(stderr, "rank %d: setting up failed: %s\n", rank, nd_last_error());
        return 1;
    }

    int failed_step = -1;
    double waited = 0;
    for (int step = 0; step < MAX_STEPS && failed_step < 0; step++) {
        if (leaver && step == STEPS_BEFORE_LEAVING) {
            printf("rank %d: leaving at step %d (%s)\n", rank, step, crash ? "crash" : "leave");
            fflush(stdout);
            if (crash) _exit(0); /* no cleanup at all, as a crash */
            nd_optim_free(sgd);
            nd_ddp_free(ddp);
            /* Not nd_dist_finalize: MPI_Finalize waits for every rank (a
             * fence), and the others never come. Under mpirun's defaults the
             * job is ended when they exit; with the test's
             * orte_allowed_exit_without_sync it could wait for ever (seen
             * about one run in three under load). */
            return 0;
        }
        nd_scope_begin();
        nd_optim_zero_grad(sgd);
        double start = now_s();
        int rc = nd_backward(nd_cross_entropy(nd_linear(x, w, b), y));
        if (rc == 0) rc = nd_ddp_sync_grads(ddp);
        if (rc == 0) rc = nd_optim_step(sgd);
        waited = now_s() - start;
        if (rc) failed_step = step;
        nd_scope_end();
    }

    /* Only the others get here. */
    bool ok = failed_step == STEPS_BEFORE_LEAVING;
    char first[512];
    snprintf(first, sizeof first, "%s", nd_last_error() ? nd_last_error() : "");
    char me[64];
    snprintf(me, sizeof me, "rank %d of %d", rank, size);
    ok = ok && mentions("nd_ddp_sync_grads") && mentions("timed out") && mentions(me);
    ok = ok && waited >= TIMEOUT_S * 0.9 && waited <= TIMEOUT_S + MARGIN_S;
    /* from now on every collective fails at once */
    double start = now_s();
    nd_scope_begin();
    ok = ok && nd_dist_allreduce(nd_ones(ND_F32, ND_SHAPE(2)), ND_RED_SUM) == -1 &&
         mentions("nd_dist_allreduce") && mentions("earlier call timed out");
    ok = ok && nd_dist_barrier() == -1 && mentions("nd_dist_barrier");
    nd_scope_end();
    ok = ok && now_s() - start < 0.5;
    printf("rank %d: %s: step %d failed after %.2f s: %s\n", rank,
           ok ? "stopped with the expected error" : "FAILED", failed_step, waited, first);
    fflush(stdout);
    nd_optim_free(sgd);
    nd_ddp_free(ddp);
    nd_dist_finalize();
    return ok ? 0 : 1;
}
