/* nd from several threads at once: six threads (pthreads made here, as a
 * user's program would) each build, differentiate and train their own model,
 * with their own scopes, RNG stream, errors and grad mode, reading two tensors
 * that all share. Each result must be bit for bit the one that the same
 * training gives when the jobs run one after another on one thread. The
 * ThreadSanitizer build (make test-tsan) runs this file too. */
#include "support.h"

#include <pthread.h>
#include <stdint.h>

#define MAX_VALUES 1024

typedef enum { MLP_SGD, RELU_ADAM, NEWTON_HESSIAN } workload;

/* One training: which model, its seed, its size. */
typedef struct {
    workload kind;
    uint64_t seed;
    int64_t size;
} job;

/* What a training leaves: its final loss and every number it learned. */
typedef struct {
    double loss;
    int64_t count;
    double values[MAX_VALUES];
    char error[512]; /* empty when the job went through */
} outcome;

/* Read by every thread, written by none: the W6 grid and target, made before
 * the threads start (no gradient, so no thread's graph writes into them). */
static nd_tensor *shared_x, *shared_y;

static bool failed(outcome *out, const char *what) {
    if (!out->error[0])
        snprintf(out->error, sizeof out->error, "%s: %s", what,
                 nd_last_error() ? nd_last_error() : "(no error message)");
    return true;
}

/* Appends t's values to out->values (as f64: exact for f32). */
static bool record(outcome *out, nd_tensor *t) {
    int64_t n = t ? nd_numel(t) : 0;
    if (!t || out->count + n > MAX_VALUES) return !failed(out, "record");
    if (nd_read(t, ND_F64, out->values + out->count, (size_t)n * sizeof(double)))
        return !failed(out, "nd_read");
    out->count += n;
    return true;
}

static nd_tensor *param(int ndim, const int64_t *shape) {
    return nd_set_requires_grad(nd_zeros(ND_F32, ndim, shape), true);
}

/* ------------------------------- an MLP on two moons, SGD with momentum */

static nd_tensor *mlp_forward(nd_tensor *const *p, nd_tensor *x) {
    nd_tensor *h = nd_relu(nd_linear(x, p[0], p[1]));
    h = nd_relu(nd_linear(h, p[2], p[3]));
    return nd_linear(h, p[4], p[5]);
}

static void train_mlp(const job *j, outcome *out) {
    int64_t n = 100, hidden = j->size;
    nd_tensor *t = nd_mul_scalar(nd_rand(ND_F32, ND_SHAPE(n)), 3.14159265358979);
    nd_tensor *upper = nd_stack(2, (nd_tensor *[]){nd_cos(t), nd_sin(t)}, 1);
    nd_tensor *lower = nd_stack(
        2, (nd_tensor *[]){nd_rsub_scalar(nd_cos(t), 1.0), nd_rsub_scalar(nd_sin(t), 0.5)}, 1);
    nd_tensor *points = nd_cat(2, (nd_tensor *[]){upper, lower}, 0);
    nd_tensor *x = nd_add(points, nd_mul_scalar(nd_randn(ND_F32, ND_SHAPE(2 * n, 2)), 0.15));
    nd_tensor *labels =
        nd_cat(2, (nd_tensor *[]){nd_zeros(ND_I64, ND_SHAPE(n)), nd_ones(ND_I64, ND_SHAPE(n))}, 0);
    nd_tensor *p[6] = {param(ND_SHAPE(hidden, 2)),      param(ND_SHAPE(hidden)),
                       param(ND_SHAPE(hidden, hidden)), param(ND_SHAPE(hidden)),
                       param(ND_SHAPE(2, hidden)),      param(ND_SHAPE(2))};
    if (!x || !labels || !p[5] || nd_init_linear_(p[0], p[1]) || nd_init_linear_(p[2], p[3]) ||
        nd_init_linear_(p[4], p[5]))
        return (void)failed(out, "mlp setup");
    nd_optim *sgd = nd_sgd(6, p, (nd_sgd_opts){.lr = 0.05, .momentum = 0.9});
    nd_batches *batches = nd_batches_new(x, labels, 32, true, false, j->seed);
    if (!sgd || !batches) return (void)failed(out, "mlp optimizer");
    for (int epoch = 0; epoch < 12 && !out->error[0]; epoch++) {
        nd_tensor *xb, *yb;
        nd_scope_begin();
        while (!out->error[0] && nd_batches_next(batches, &xb, &yb)) {
            nd_scope_begin();
            nd_optim_zero_grad(sgd);
            /* Fresh noise on every batch: this thread's RNG stream is drawn
             * from all along, while the other threads draw from theirs. */
            xb = nd_add(xb, nd_mul_scalar(nd_randn(ND_F32, 2, nd_shape(xb)), 0.05));
            if (nd_backward(nd_cross_entropy(mlp_forward(p, xb), yb)) || nd_optim_step(sgd))
                failed(out, "mlp step");
            nd_scope_end();
        }
        nd_scope_end();
        /* Evaluation records nothing: grad mode is this thread's alone, the
         * other threads keep recording their graphs meanwhile. */
        bool previous = nd_set_grad_enabled(false);
        nd_scope_begin();
        out->loss = nd_item(nd_cross_entropy(mlp_forward(p, x), labels));
        nd_scope_end();
        nd_set_grad_enabled(previous);
    }
    for (int i = 0; i < 6 && !out->error[0]; i++) record(out, p[i]);
    nd_batches_free(batches);
    nd_optim_free(sgd);
}

/* -------------------------------------- the ReLU fit of W6, with Adam */

static void train_relu(const job *j, outcome *out) {
    int64_t hidden = j->size;
    nd_tensor *p[4] = {param(ND_SHAPE(hidden, 1)), param(ND_SHAPE(hidden)),
                       param(ND_SHAPE(1, hidden)), param(ND_SHAPE(1))};
    if (!p[3] || nd_init_linear_(p[0], p[1]) || nd_init_linear_(p[2], p[3]))
        return (void)failed(out, "relu setup");
    nd_adam_opts opts = ND_ADAM_DEFAULTS;
    opts.lr = 0.01;
    nd_optim *adam = nd_adam(4, p, opts);
    if (!adam) return (void)failed(out, "nd_adam");
    for (int step = 0; step < 300 && !out->error[0]; step++) {
        nd_scope_begin();
        nd_optim_zero_grad(adam);
        nd_tensor *pred = nd_linear(nd_relu(nd_linear(shared_x, p[0], p[1])), p[2], p[3]);
        nd_tensor *loss = nd_mse_loss(pred, shared_y);
        if (nd_backward(loss) || nd_optim_step(adam)) failed(out, "relu step");
        out->loss = nd_item(loss);
        nd_scope_end();
    }
    for (int i = 0; i < 4 && !out->error[0]; i++) record(out, p[i]);
    nd_optim_free(adam);
}

/* ------------------ Newton's method with nd_jacobian and nd_hessian */

typedef struct {
    nd_tensor *a, *q; /* f(x) = Σ exp(a ⊙ x) + ½ xᵀ Q x, Q positive definite */
} convex;

static nd_tensor *convex_f(nd_tensor *x, void *ctx) {
    const convex *c = ctx;
    nd_tensor *quadratic = nd_mul_scalar(nd_dot(x, nd_mv(c->q, x)), 0.5);
    return nd_add(nd_sum(nd_exp(nd_mul(c->a, x)), ND_ALL, false), quadratic);
}

static void newton(const job *j, outcome *out) {
    int64_t n = j->size;
    nd_tensor *b = nd_randn(ND_F64, ND_SHAPE(n, n));
    convex c = {nd_randn(ND_F64, ND_SHAPE(n)),
                nd_add(nd_div_scalar(nd_matmul(b, nd_t(b)), (double)n), nd_eye(n, ND_F64))};
    nd_tensor *x = nd_randn(ND_F64, ND_SHAPE(n));
    if (!c.a || !c.q || !x) return (void)failed(out, "newton setup");
    for (int i = 0; i < 8 && !out->error[0]; i++) {
        nd_scope_begin();
        nd_tensor *g = nd_jacobian(convex_f, &c, x, ND_REVERSE, ND_LAYOUT_TENSOR);
        nd_tensor *h = nd_hessian(convex_f, &c, x);
        nd_tensor *next = nd_sub(x, nd_solve(h, g));
        if (!next) failed(out, "newton step");
        x = nd_keep(next);
        nd_scope_end();
    }
    if (out->error[0]) return;
    /* The gradient at the end, by forward mode and by a JVP against ones:
     * both near zero at the minimum, and both must match the serial run. */
    nd_tensor *fx;
    nd_tensor *g_forward = nd_jacobian(convex_f, &c, x, ND_FORWARD, ND_LAYOUT_NUMERATOR);
    nd_tensor *slope = nd_jvp(convex_f, &c, x, nd_ones(ND_F64, ND_SHAPE(n)), &fx);
    if (!g_forward || !slope || !fx) return (void)failed(out, "newton gradient");
    out->loss = nd_item(fx);
    if (record(out, x) && record(out, g_forward)) record(out, slope);
}

/* ----------------------------------------------------------- one job */

static void run_job(const job *j, outcome *out) {
    memset(out, 0, sizeof *out);
    nd_manual_seed(j->seed); /* this thread's stream only */
    nd_scope_begin();
    /* An error here is this thread's: it names this job's shapes, and no other
     * thread's errors ever show up in it. */
    int64_t size = j->size;
    nd_tensor *bad =
        nd_matmul(nd_zeros(ND_F32, ND_SHAPE(size, 3)), nd_zeros(ND_F32, ND_SHAPE(4, 5)));
    char expected[64];
    snprintf(expected, sizeof expected, "(%lld, 3)", (long long)size);
    if (bad || !nd_last_error() || !strstr(nd_last_error(), expected))
        snprintf(out->error, sizeof out->error, "expected an error naming %s, got %s", expected,
                 nd_last_error() ? nd_last_error() : "none");
    nd_clear_error();
    if (!out->error[0]) {
        if (j->kind == MLP_SGD)
            train_mlp(j, out);
        else if (j->kind == RELU_ADAM)
            train_relu(j, out);
        else
            newton(j, out);
    }
    if (!out->error[0] && nd_last_error()) failed(out, "an error appeared from elsewhere");
    nd_scope_end();
}

/* ------------------------------------------------------------ threads */

#define JOBS 6
static const job jobs[JOBS] = {
    {MLP_SGD, 11, 16}, {RELU_ADAM, 12, 32},  {NEWTON_HESSIAN, 13, 6},
    {MLP_SGD, 14, 24}, {RELU_ADAM, 15, 130}, {NEWTON_HESSIAN, 16, 10},
};

typedef struct {
    const job *job;
    outcome *out;
    pthread_barrier_t *start;
} worker_args;

static void *worker(void *arg) {
    worker_args *w = arg;
    pthread_barrier_wait(w->start); /* all jobs start together, to overlap */
    run_job(w->job, w->out);
    nd_shutdown(); /* a thread frees its own nd state before it ends */
    return NULL;
}

static void make_shared_data(void) {
    nd_tensor *x = nd_reshape(nd_linspace(-10, 10, 256, ND_F32), ND_SHAPE(256, 1));
    nd_tensor *right = nd_sub_scalar(nd_mul_scalar(x, 5.0), 30.0); /* 5x − 30 on [5, 10] */
    shared_y = nd_where(nd_lt(x, nd_scalar(0, ND_F32)), x,
                        nd_where(nd_lt(x, nd_scalar(5, ND_F32)), nd_neg(x), right));
    shared_x = nd_mul_scalar(x, 0.1);
    cr_assert(shared_x && shared_y, "%s", nd_last_error());
}

static void assert_same(const job *j, const outcome *serial, const outcome *parallel) {
    cr_assert(!serial->error[0], "job %d (serial): %s", (int)(j - jobs), serial->error);
    cr_assert(!parallel->error[0], "job %d (threaded): %s", (int)(j - jobs), parallel->error);
    cr_assert(serial->count > 0 && isfinite(serial->loss), "job %d learned nothing",
              (int)(j - jobs));
    cr_assert(memcmp(&serial->loss, &parallel->loss, sizeof(double)) == 0,
              "job %d: final loss %.17g threaded, %.17g serial", (int)(j - jobs), parallel->loss,
              serial->loss);
    cr_assert_eq(serial->count, parallel->count);
    for (int64_t i = 0; i < serial->count; i++)
        cr_assert(memcmp(&serial->values[i], &parallel->values[i], sizeof(double)) == 0,
                  "job %d, value %lld: %.17g threaded, %.17g serial", (int)(j - jobs), (long long)i,
                  parallel->values[i], serial->values[i]);
}

ND_TEST(threads, concurrent_trainings_equal_serial_ones) {
    make_shared_data();
    static outcome serial[JOBS], parallel[JOBS];
    for (int i = 0; i < JOBS; i++) run_job(&jobs[i], &serial[i]);

    pthread_t threads[JOBS];
    worker_args args[JOBS];
    pthread_barrier_t start;
    cr_assert_eq(pthread_barrier_init(&start, NULL, JOBS), 0);
    for (int i = 0; i < JOBS; i++) {
        args[i] = (worker_args){&jobs[i], &parallel[i], &start};
        cr_assert_eq(pthread_create(&threads[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < JOBS; i++) pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);

    for (int i = 0; i < JOBS; i++) assert_same(&jobs[i], &serial[i], &parallel[i]);
    /* The trainings did train: the fits are far below where they started. */
    cr_assert(serial[0].loss < 0.3 && serial[3].loss < 0.3, "MLP losses %g %g", serial[0].loss,
              serial[3].loss);
    cr_assert(serial[1].loss < 10 && serial[4].loss < 10, "ReLU fit losses %g %g", serial[1].loss,
              serial[4].loss);
    for (int k = 2; k < JOBS; k += 3) { /* Newton ended at the minimum: the gradient vanishes */
        int64_t n = jobs[k].size;
        for (int64_t i = n; i < 2 * n; i++)
            cr_assert(fabs(serial[k].values[i]) < 1e-9, "job %d: gradient %g", k,
                      serial[k].values[i]);
    }
}

/* Tensors made on one thread and released on another go back through the
 * releasing thread's pools; both threads' pools stay usable. */
static void *release_all(void *arg) {
    nd_tensor **ts = arg;
    for (int i = 0; i < 64; i++) nd_release(ts[i]);
    nd_scope_begin();
    nd_tensor *t = nd_ones(ND_F32, ND_SHAPE(1000));
    double total = t ? nd_item(nd_sum(t, ND_ALL, false)) : -1;
    nd_scope_end();
    nd_shutdown();
    return total == 1000 ? arg : NULL;
}

ND_TEST(threads, tensors_released_on_another_thread) {
    nd_tensor *ts[64];
    nd_scope_begin(); /* at its end the other thread's references are the only ones */
    for (int i = 0; i < 64; i++) ts[i] = nd_retain(nd_full(ND_F32, ND_SHAPE(i + 1, 3), i));
    nd_scope_end();
    pthread_t thread;
    void *result = NULL;
    cr_assert_eq(pthread_create(&thread, NULL, release_all, ts), 0);
    pthread_join(thread, &result);
    cr_assert(result == ts, "the other thread could not use nd after releasing");
    nd_tensor *t = nd_full(ND_F32, ND_SHAPE(5, 3), 2.0);
    cr_assert_float_eq(nd_item(nd_sum(t, ND_ALL, false)), 30.0, 0);
}

/* OpenBLAS serves every thread: large products (which it splits over its own
 * threads) made from several threads at once equal the ones made alone. */
typedef struct {
    nd_tensor *a, *b;
    double *out;
} product_args;

static void products(product_args *p) {
    nd_scope_begin();
    nd_tensor *c = nd_matmul(p->a, p->b);
    for (int i = 0; i < 4 && c; i++) c = nd_matmul(nd_tanh(c), p->b);
    if (!c || nd_read(c, ND_F64, p->out, 384 * 384 * sizeof(double))) p->out[0] = NAN;
    nd_scope_end();
}

static void *products_thread(void *arg) {
    products(arg);
    nd_shutdown();
    return NULL;
}

ND_TEST(threads, blas_from_several_threads) {
    enum { N = 384, THREADS = 4 };
    nd_manual_seed(5);
    nd_tensor *b = nd_div_scalar(nd_randn(ND_F32, ND_SHAPE(N, N)), 20);
    nd_tensor *a[THREADS];
    double *alone[THREADS], *together[THREADS];
    product_args args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        a[i] = nd_randn(ND_F32, ND_SHAPE(N, N));
        alone[i] = malloc(N * N * sizeof(double));
        together[i] = malloc(N * N * sizeof(double));
        cr_assert(a[i] && alone[i] && together[i]);
        args[i] = (product_args){a[i], b, alone[i]};
        products(&args[i]);
    }
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i].out = together[i];
        cr_assert_eq(pthread_create(&threads[i], NULL, products_thread, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        cr_assert(!isnan(alone[i][0]) && !isnan(together[i][0]), "thread %d failed", i);
        cr_assert(memcmp(alone[i], together[i], N * N * sizeof(double)) == 0,
                  "thread %d: products differ", i);
        free(alone[i]);
        free(together[i]);
    }
}
