/* The sweep's workloads (workloads.h). They are small on purpose: the sweep
 * runs each one once per allocation it makes. Tensors are tiny, so no kernel
 * goes parallel and every run allocates in the same order. */
#include "workloads.h"

#include <nd.h>
#include <nd_frame.h>
#include <nd_image.h>
#include <nd_plot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

static char out_dir[256];

/* dir/name in a static buffer (one at a time). */
static const char *path_in(const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    return path;
}

/* FNV-1a: the digest of a run is the hash of every result's bytes. */
static void hash_bytes(uint64_t *h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) *h = (*h ^ b[i]) * 0x100000001b3ull;
}

static int hash_text(uint64_t *h, const char *text) {
    if (!text) return -1;
    hash_bytes(h, text, strlen(text));
    return 0;
}

/* Shape and values (as doubles); -1 for a NULL tensor or a failed read. */
static int hash_tensor(uint64_t *h, nd_tensor *t) {
    if (!t) return -1;
    int64_t n = nd_numel(t);
    hash_bytes(h, nd_shape(t), (size_t)nd_ndim(t) * sizeof(int64_t));
    double *values = malloc((size_t)(n + 1) * sizeof *values);
    if (!values) {
        fprintf(stderr, "alloc_sweep: the harness itself is out of memory\n");
        exit(2);
    }
    int rc = nd_read(t, ND_F64, values, (size_t)n * sizeof *values);
    if (rc == 0) hash_bytes(h, values, (size_t)n * sizeof *values);
    free(values);
    return rc;
}

/* ------------------------------------------------------------- core */

/* parse, broadcast, matmul, reduce, backward, and the gradient as text. */
static int core(uint64_t *digest) {
    int rc = -1;
    nd_scope_begin();
    nd_tensor *a = nd_set_requires_grad(nd_parse("[[1.5, -2, 0.5], [3, 0.25, -1]]"), true);
    nd_tensor *b = nd_parse("[0.5, -1, 2]");
    nd_tensor *c = nd_mul(nd_add(a, b), a); /* (2, 3) + (3,) broadcasts */
    nd_tensor *m = nd_matmul(c, nd_t(a));
    nd_tensor *loss =
        nd_add(nd_sum(nd_tanh(m), ND_ALL, false), nd_mean(nd_max(c, 1, false), ND_ALL, false));
    if (loss && nd_backward(loss) == 0) {
        char *text = nd_format(nd_grad(a));
        if (text && hash_tensor(digest, m) == 0 && hash_tensor(digest, loss) == 0)
            rc = hash_text(digest, text);
        free(text);
    }
    nd_scope_end();
    return rc;
}

/* ---------------------------------------------------------- autodiff */

/* (2, 3) -> (2,): row sums of tanh(x)·x. */
static nd_tensor *row_map(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_sum(nd_mul(nd_tanh(x), x), 1, false);
}

/* (3,) -> scalar: Σ sin(x)·exp(x). */
static nd_tensor *scalar_map(nd_tensor *x, void *ctx) {
    (void)ctx;
    return nd_sum(nd_mul(nd_sin(x), nd_exp(x)), ND_ALL, false);
}

/* Step by step: the transforms clear the error of an earlier step when they
 * call f, so the first failure must end the run. */
static int autodiff(uint64_t *digest) {
    nd_scope_begin();
    nd_tensor *x = nd_parse("[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]");
    nd_tensor *v = nd_parse("[[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]]");
    nd_tensor *u = nd_parse("[1.0, -2.0]");
    nd_tensor *x3 = nd_parse("[0.5, -1.0, 2.0]");
    int rc = x && v && u && x3 ? 0 : -1;
    for (int k = 0; k < 4 && rc == 0; k++) /* both modes, both layouts */
        rc = hash_tensor(digest, nd_jacobian(row_map, NULL, x, k & 1 ? ND_REVERSE : ND_FORWARD,
                                             k & 2 ? ND_LAYOUT_NUMERATOR : ND_LAYOUT_TENSOR));
    if (rc == 0) rc = hash_tensor(digest, nd_hessian(scalar_map, NULL, x3));
    nd_tensor *fx = NULL;
    if (rc == 0) rc = hash_tensor(digest, nd_jvp(row_map, NULL, x, v, &fx));
    if (rc == 0) rc = hash_tensor(digest, fx);
    if (rc == 0) rc = hash_tensor(digest, nd_vjp(row_map, NULL, x, u, NULL));
    nd_scope_end();
    return rc;
}

/* ---------------------------------------------------------- training */

/* Two epochs of minibatches (shuffled) through a linear model, with an
 * optimizer made by make. */
static int train(uint64_t *digest, nd_optim *(*make)(nd_tensor *w, nd_tensor *b)) {
    int rc = -1;
    nd_scope_begin();
    nd_tensor *x = nd_reshape(nd_linspace(-1, 1, 24, ND_F32), ND_SHAPE(8, 3));
    nd_tensor *y = nd_reshape(nd_cos(nd_linspace(0, 3, 16, ND_F32)), ND_SHAPE(8, 2));
    nd_tensor *w = nd_set_requires_grad(nd_full(ND_F32, ND_SHAPE(2, 3), 0.1), true);
    nd_tensor *b = nd_set_requires_grad(nd_zeros(ND_F32, ND_SHAPE(2)), true);
    nd_optim *opt = w && b ? make(w, b) : NULL;
    nd_batches *batches = x && y ? nd_batches_new(x, y, 3, true, false, 7) : NULL;
    if (opt && batches) {
        rc = 0;
        for (int epoch = 0; epoch < 2 && rc == 0; epoch++) {
            int seen = 0;
            nd_tensor *xb, *yb;
            while (rc == 0 && nd_batches_next(batches, &xb, &yb)) {
                seen++;
                nd_scope_begin();
                nd_tensor *loss = nd_mse_loss(nd_linear(xb, w, b), yb);
                nd_optim_zero_grad(opt);
                if (!loss || nd_backward(loss) != 0 || nd_optim_step(opt) != 0) rc = -1;
                nd_scope_end();
            }
            /* nd_batches_next says false at the end of an epoch and on an error */
            if (rc == 0 && seen != 3) rc = -1;
        }
        if (rc == 0 && hash_tensor(digest, w) == 0) rc = hash_tensor(digest, b);
    }
    nd_batches_free(batches);
    nd_optim_free(opt);
    nd_scope_end();
    return rc;
}

static nd_optim *make_sgd(nd_tensor *w, nd_tensor *b) {
    return nd_sgd(2, (nd_tensor *[]){w, b}, (nd_sgd_opts){.lr = 0.1, .momentum = 0.9});
}

static nd_optim *make_adam(nd_tensor *w, nd_tensor *b) {
    return nd_adam(2, (nd_tensor *[]){w, b}, ND_ADAM_DEFAULTS);
}

static int training(uint64_t *digest) {
    return train(digest, make_sgd) == 0 ? train(digest, make_adam) : -1;
}

/* ------------------------------------------------------------ frames */

static const char csv_text[] = "age,city,score,member\n"
                               "31,Oslo,2.5,True\n"
                               ",Lima,,False\n"
                               "45,Oslo,4.0,True\n"
                               "27,,3.5,False\n";

static int frames(uint64_t *digest) {
    nd_scope_begin();
    nd_frame *read = nd_read_csv(path_in("people.csv"), NULL);
    nd_frame *filled = read ? nd_frame_fillna_mean(read) : NULL;
    nd_frame *dummies = filled ? nd_frame_get_dummies(filled, false) : NULL;
    int rc = dummies ? hash_tensor(digest, nd_frame_to_tensor(dummies, ND_F64)) : -1;
    nd_frame_free(dummies);
    nd_frame_free(filled);
    nd_frame_free(read);
    nd_scope_end();
    return rc;
}

/* ------------------------------------------------------------ images */

static int images(uint64_t *digest) {
    int rc = -1;
    nd_scope_begin();
    nd_tensor *img = nd_reshape(nd_to(nd_mul_scalar(nd_arange(0, 144, 1, ND_F64), 1.7), ND_U8),
                                ND_SHAPE(6, 8, 3));
    nd_tensor *png =
        nd_image_write(img, path_in("w.png")) == 0 ? nd_image_read(path_in("w.png")) : NULL;
    nd_tensor *jpg =
        png && nd_image_write(img, path_in("w.jpg")) == 0 ? nd_image_read(path_in("w.jpg")) : NULL;
    nd_tensor *warped = nd_warp_affine(img, nd_affine_rotate_about(0.3, 4, 3), 6, 8, ND_BILINEAR);
    /* the differentiable warp, and its gradients in the image and the matrix */
    nd_tensor *input = nd_set_requires_grad(nd_unsqueeze(nd_image_to_float(img), 0), true);
    nd_tensor *theta =
        nd_set_requires_grad(nd_parse("[[[0.9, -0.2, 0.1], [0.2, 0.9, -0.1]]]"), true);
    nd_tensor *sampled = nd_grid_sample(input, nd_affine_grid(theta, 1, 3, 5, 5, false), false);
    nd_tensor *loss = nd_sum(nd_square(sampled), ND_ALL, false);
    if (jpg && warped && loss && nd_backward(loss) == 0) {
        nd_tensor *results[] = {png, jpg, warped, sampled, nd_grad(input), nd_grad(theta)};
        rc = 0;
        for (size_t i = 0; i < sizeof results / sizeof *results && rc == 0; i++)
            rc = hash_tensor(digest, results[i]);
    }
    nd_scope_end();
    return rc;
}

/* ------------------------------------------------------------- plots */

static int plots(uint64_t *digest) {
    int rc = -1;
    nd_scope_begin();
    nd_tensor *x = nd_set_requires_grad(nd_linspace(0, 1, 5, ND_F64), true);
    nd_tensor *y = nd_square(x);
    nd_plot *p = nd_plot_new("sweep", "x", "y");
    if (p && nd_plot_line(p, x, y, "x squared") == 0 && nd_plot_points(p, x, y, NULL) == 0 &&
        nd_plot_save(p, path_in("plot.png"), 160, 120) == 0) {
        char *dot = nd_graph_dot(nd_sum(y, ND_ALL, false));
        if (dot && nd_plot_graph(dot, path_in("graph.svg")) == 0) rc = hash_text(digest, dot);
        free(dot);
    }
    nd_plot_free(p);
    nd_scope_end();
    return rc;
}

/* -------------------------------------------------------------- linalg */

/* Every decomposition, in f64 and f32, with gradients: nd allocates LAPACK's
 * workspace itself, so a failure there is nd's error, and nothing prints. */
static int linalg(uint64_t *digest) {
    int rc = 0;
    nd_scope_begin();
    for (int k = 0; k < 2 && rc == 0; k++) {
        nd_dtype dtype = k ? ND_F32 : ND_F64;
        nd_tensor *a = nd_set_requires_grad(
            nd_to(nd_parse("[[2, 1, 0.5], [0.3, -1, 0.7], [0.2, 0.4, 3]]"), dtype), true);
        nd_tensor *b = nd_to(nd_parse("[[1, 2], [0, -1], [3, 0.5]]"), dtype);
        nd_tensor *values, *vectors, *values_im, *vectors_im, *u, *s, *vt, *w, *v;
        nd_tensor *sym = nd_add(a, nd_t(a));
        if (nd_eig(a, &values, &values_im, &vectors, &vectors_im) || nd_svd(b, &u, &s, &vt) ||
            nd_eigh(sym, &w, &v)) {
            rc = -1;
            break;
        }
        nd_tensor *parts[] = {nd_inv(a),
                              nd_det(a),
                              nd_solve(a, b),
                              nd_solve(a, nd_select(b, 1, 0)),
                              values,
                              nd_square(vectors),
                              s,
                              nd_square(u),
                              w};
        nd_tensor *loss = nd_scalar(0, dtype);
        for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
            rc |= hash_tensor(digest, parts[i]);
            loss = nd_add(loss, nd_sum(parts[i], ND_ALL, false));
        }
        if (rc == 0) rc = hash_tensor(digest, nd_gradient(loss, a, false));
    }
    nd_scope_end();
    return rc;
}

/* -------------------------------------------------------------- setup */

int workloads_setup(const char *dir) {
    snprintf(out_dir, sizeof out_dir, "%s", dir);
    FILE *f = fopen(path_in("people.csv"), "w");
    if (!f) return -1;
    fputs(csv_text, f);
    return fclose(f) == 0 ? 0 : -1;
}

void workloads_cleanup(void) {
    const char *files[] = {"people.csv", "w.png", "w.jpg", "plot.png", "graph.svg"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) remove(path_in(files[i]));
    remove(out_dir);
}

const workload workloads[] = {
    {"core", core},     {"autodiff", autodiff}, {"training", training}, {"frames", frames},
    {"images", images}, {"plots", plots},       {"linalg", linalg},
};
const int workload_count = (int)(sizeof workloads / sizeof *workloads);
