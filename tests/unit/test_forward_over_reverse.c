/* Forward over reverse: the forward-mode Jacobian of a gradient (computed
 * with create_graph on dual inputs) is the Hessian. It is how Hessian-vector
 * products are computed cheaply, so it must hold for every differentiable
 * op: each case below is checked against nd_hessian (reverse over reverse),
 * and a walk over the sources makes sure that every op nd records appears in
 * the graph of some case, so a new op cannot be left out. */
#include "core/internal.h"
#include "support.h"

#include <dirent.h>
#include <nd_image.h>
#include <stdlib.h>

typedef nd_tensor *(*case_fn)(nd_tensor *x);
typedef struct {
    const char *name;
    case_fn f;        /* any shape: the loss is Σ sin(f(x)) */
    int ndim;         /* the input's shape */
    int64_t shape[4]; /* values spread over [lo, hi], distinct */
    double lo, hi;
    double fd_tol; /* of the central differences; 0 for 1e-5, < 0 for none */
} fwd_case;

/* A fixed tensor of the given values, f64. */
static nd_tensor *f64(const char *text) {
    return nd_to(nd_parse(text), ND_F64);
}
/* A well-conditioned matrix near 3·I + x (x small). */
static nd_tensor *near_identity(nd_tensor *x) {
    return nd_add(x, nd_mul_scalar(nd_eye(x->shape[0], ND_F64), 3.0));
}

static nd_tensor *c_neg(nd_tensor *x) {
    return nd_mul(nd_neg(x), x);
}
static nd_tensor *c_abs(nd_tensor *x) {
    return nd_mul(nd_abs(x), x);
}
static nd_tensor *c_sign(nd_tensor *x) {
    return nd_mul(nd_sign(x), nd_square(x));
}
static nd_tensor *c_leaky(nd_tensor *x) {
    return nd_mul(nd_leaky_relu(x, 0.1), x);
}
static nd_tensor *c_relu(nd_tensor *x) {
    return nd_mul(nd_relu(x), x);
}
static nd_tensor *c_clamp(nd_tensor *x) {
    return nd_mul(nd_clamp(x, -0.5, 0.5), x);
}
static nd_tensor *c_sqrt_std(nd_tensor *x) {
    return nd_sqrt(nd_add_scalar(nd_square(x), 1.0)); /* the example */
}
static nd_tensor *c_pow_scalar(nd_tensor *x) {
    return nd_pow_scalar(x, 3);
}
static nd_tensor *c_add(nd_tensor *x) {
    return nd_add(x, nd_exp(x));
}
static nd_tensor *c_sub(nd_tensor *x) {
    return nd_sub(nd_square(x), x);
}
static nd_tensor *c_mul(nd_tensor *x) {
    return nd_mul(x, nd_cos(x));
}
static nd_tensor *c_div(nd_tensor *x) {
    return nd_div(x, nd_add_scalar(nd_square(x), 2.0));
}
static nd_tensor *c_pow(nd_tensor *x) {
    return nd_pow(x, nd_add_scalar(x, 0.5));
}
static nd_tensor *c_maximum(nd_tensor *x) {
    return nd_mul(nd_maximum(x, nd_mul_scalar(x, -0.5)), x);
}
static nd_tensor *c_minimum(nd_tensor *x) {
    return nd_mul(nd_minimum(x, nd_mul_scalar(x, -0.5)), x);
}
static nd_tensor *c_where(nd_tensor *x) {
    return nd_where(nd_gt(x, nd_scalar(0, ND_F64)), nd_exp(x), nd_square(x));
}
static nd_tensor *c_sum(nd_tensor *x) {
    return nd_square(nd_sum(x, 0, false));
}
static nd_tensor *c_mean(nd_tensor *x) {
    return nd_square(nd_mean(x, 1, true));
}
static nd_tensor *c_max(nd_tensor *x) {
    return nd_square(nd_max(x, 1, false));
}
static nd_tensor *c_min(nd_tensor *x) {
    return nd_square(nd_min(x, 0, false));
}
static nd_tensor *c_logsumexp(nd_tensor *x) {
    return nd_logsumexp(x, 1, false);
}
static nd_tensor *c_softmax(nd_tensor *x) {
    return nd_softmax(x, 1);
}
static nd_tensor *c_log_softmax(nd_tensor *x) {
    return nd_log_softmax(x, 0);
}
static nd_tensor *c_cumsum(nd_tensor *x) {
    return nd_square(nd_cumsum(x, 1));
}
static nd_tensor *c_norm2(nd_tensor *x) {
    return nd_norm(x, 2);
}
static nd_tensor *c_norm1(nd_tensor *x) {
    return nd_mul(nd_norm(x, 1), nd_sum(x, ND_ALL, false));
}
static nd_tensor *c_norm_inf(nd_tensor *x) {
    return nd_mul(nd_norm(x, INFINITY), nd_sum(x, ND_ALL, false));
}
static nd_tensor *c_var(nd_tensor *x) {
    return nd_var(x, 0, false);
}
static nd_tensor *c_std(nd_tensor *x) {
    return nd_std(x, 1, true);
}
static nd_tensor *c_views(nd_tensor *x) { /* reshape, view, flatten, squeeze, unsqueeze */
    nd_tensor *y = nd_unsqueeze(nd_reshape(nd_exp(x), ND_SHAPE(4, 3)), 0);
    return nd_mul(nd_flatten(nd_squeeze(nd_view(y, ND_SHAPE(1, 2, 6)), 0)), nd_flatten(x));
}
static nd_tensor *c_permute(nd_tensor *x) {
    nd_tensor *y = nd_permute(nd_unsqueeze(nd_exp(x), 1), 3, (const int[]){2, 0, 1});
    return nd_mul(nd_transpose(nd_squeeze(y, 2), 0, 1), x);
}
static nd_tensor *c_expand(nd_tensor *x) {
    return nd_mul(nd_expand(nd_unsqueeze(nd_sin(x), 0), ND_SHAPE(2, 3, 4)), x);
}
static nd_tensor *c_slice(nd_tensor *x) {
    return nd_mul(nd_slice(nd_exp(x), 1, 1, 3, 1), nd_unsqueeze(nd_select(nd_exp(x), 1, -1), 1));
}
static nd_tensor *c_cat(nd_tensor *x) {
    nd_tensor *y = nd_cat(2, (nd_tensor *[]){nd_exp(x), x}, 1);
    return nd_mul(nd_stack(2, (nd_tensor *[]){y, nd_sin(y)}, 0), nd_cos(y));
}
static nd_tensor *c_index(nd_tensor *x) { /* index_select, gather, masked_select */
    nd_tensor *rows = nd_index_select(nd_exp(x), 0, nd_parse("[2, 0, 2]"));
    nd_tensor *picked = nd_gather(nd_mul(x, x), 1, nd_parse("[[0, 3], [1, 1], [2, 0]]"));
    nd_tensor *masked = nd_masked_select(nd_sin(x), nd_gt(x, nd_scalar(0, ND_F64)));
    return nd_add(nd_sum(nd_mul(rows, rows), ND_ALL, false),
                  nd_add(nd_sum(nd_mul(picked, picked), ND_ALL, false),
                         nd_sum(nd_square(masked), ND_ALL, false)));
}
static nd_tensor *c_to_clone(nd_tensor *x) {
    nd_tensor *y = nd_to(nd_clone(nd_exp(x)), ND_F32);
    return nd_mul(nd_to(y, ND_F64), x);
}
static nd_tensor *c_matmul(nd_tensor *x) { /* matmul, mm, mv, dot, outer */
    nd_tensor *e = nd_exp(x);
    nd_tensor *gram = nd_matmul(x, nd_t(e));
    nd_tensor *mm = nd_mm(nd_t(e), x);
    nd_tensor *mv = nd_mv(x, nd_select(e, 0, 1));
    nd_tensor *dot = nd_dot(nd_select(x, 0, 0), nd_select(e, 0, 2));
    nd_tensor *outer = nd_outer(nd_select(x, 1, 0), nd_select(e, 0, 1));
    return nd_cat(5,
                  (nd_tensor *[]){nd_flatten(gram), nd_flatten(mm), mv,
                                  nd_reshape(dot, ND_SHAPE(1)), nd_flatten(outer)},
                  0);
}
static nd_tensor *c_batched_matmul(nd_tensor *x) {
    nd_tensor *b = nd_reshape(x, ND_SHAPE(2, 3, 2));
    return nd_matmul(b, nd_transpose(nd_exp(b), 1, 2));
}
static nd_tensor *c_inv(nd_tensor *x) {
    return nd_inv(near_identity(x));
}
static nd_tensor *c_det(nd_tensor *x) {
    return nd_det(near_identity(x));
}
static nd_tensor *c_solve(nd_tensor *x) {
    nd_tensor *a = near_identity(x);
    nd_tensor *vector = nd_solve(a, nd_exp(nd_select(x, 0, 1)));
    nd_tensor *matrix = nd_solve(a, nd_t(x));
    return nd_cat(2, (nd_tensor *[]){vector, nd_flatten(matrix)}, 0);
}
static nd_tensor *c_eigh(nd_tensor *x) {
    nd_tensor *sym = nd_add(near_identity(x), nd_t(x)); /* eigh reads one triangle */
    nd_tensor *values = NULL, *vectors = NULL;
    if (nd_eigh(sym, &values, &vectors)) return NULL;
    /* a sign-independent function of the vectors: Σ_ij v_ij² w_j */
    nd_tensor *w = f64("[1.0, 2.0, -1.5]");
    return nd_add(nd_sum(nd_mul(nd_square(vectors), w), ND_ALL, false),
                  nd_sum(nd_square(values), ND_ALL, false));
}
static nd_tensor *c_linear(nd_tensor *x) {
    nd_tensor *w = nd_slice(x, 0, 0, 2, 1);
    nd_tensor *b = nd_slice(nd_select(x, 1, 3), 0, 1, 3, 1);
    return nd_linear(nd_exp(x), w, b);
}
static nd_tensor *c_mse(nd_tensor *x) {
    return nd_mse_loss(nd_exp(x), nd_sin(x));
}
static nd_tensor *c_cross_entropy(nd_tensor *x) {
    return nd_cross_entropy(nd_mul(x, x), nd_parse("[3, 0, 1]"));
}
static nd_tensor *c_grid_sample(nd_tensor *x) { /* the image from x, a fixed grid */
    nd_tensor *image = nd_reshape(nd_exp(x), ND_SHAPE(1, 1, 3, 4));
    nd_tensor *grid = nd_mul_scalar(
        nd_sin(nd_reshape(nd_linspace(-3, 3, 12, ND_F64), ND_SHAPE(1, 2, 3, 2))), 0.9);
    return nd_grid_sample(image, grid, false);
}
static nd_tensor *c_grid_sample_grid(nd_tensor *x) { /* the grid from x */
    nd_tensor *image = nd_reshape(nd_linspace(-1, 2, 12, ND_F64), ND_SHAPE(1, 1, 3, 4));
    return nd_grid_sample(image, nd_reshape(x, ND_SHAPE(1, 2, 3, 2)), true);
}
static nd_tensor *c_affine_grid(nd_tensor *x) {
    nd_tensor *theta = nd_reshape(nd_slice(nd_flatten(x), 0, 0, 6, 1), ND_SHAPE(1, 2, 3));
    nd_tensor *grid = nd_affine_grid(theta, 1, 1, 2, 3, false);
    return nd_mul(grid, nd_exp(grid));
}

static nd_tensor *c_inplace(nd_tensor *x) { /* writes into views, recorded */
    nd_tensor *h = nd_mul_scalar(x, 1.0);
    nd_copy_(nd_slice(h, 0, 0, 2, 1), nd_exp(nd_slice(x, 0, 1, 3, 1)));
    nd_tensor *column = nd_select(h, 1, 0); /* used after the write: its region's rules */
    nd_axpy_(column, 0.5, nd_sin(nd_select(x, 1, 1)));
    nd_add_(nd_select(h, 0, 1), nd_square(nd_select(x, 0, 2)));
    nd_mul_scalar_(nd_select(h, 0, 2), 3.0);
    nd_fill_(nd_select(nd_select(h, 0, 2), 0, 0), 1.0);
    return nd_cat(2, (nd_tensor *[]){nd_flatten(nd_mul(h, x)), nd_square(column)}, 0);
}

static nd_tensor *c_svd(nd_tensor *x) { /* sign-independent: squares of the vectors */
    nd_tensor *u, *s, *vt;
    if (nd_svd(x, &u, &s, &vt)) return NULL;
    nd_tensor *wu = f64("[[1.0, -0.5, 2.0], [0.3, 1.5, -1.0], [-2.0, 0.7, 0.4]]");
    return nd_add(
        nd_add(nd_sum(nd_mul(nd_square(u), wu), ND_ALL, false),
               nd_sum(nd_mul(s, f64("[0.5, -1.0, 2.0]")), ND_ALL, false)),
        nd_sum(nd_mul(nd_square(vt), nd_reshape(nd_linspace(-1, 1.2, 12, ND_F64), ND_SHAPE(3, 4))),
               ND_ALL, false));
}
static nd_tensor *c_eig(nd_tensor *x) {
    /* Gershgorin discs of radius at most 0.5 around 1, 3 and 5: three
     * distinct real eigenvalues for any x of the case, not symmetric */
    nd_tensor *a = nd_add(nd_mul_scalar(x, 0.5), nd_mul(nd_eye(3, ND_F64), f64("[1.0, 3.0, 5.0]")));
    nd_tensor *re, *im, *vectors;
    if (nd_eig(a, &re, &im, &vectors, NULL)) return NULL;
    nd_tensor *w = f64("[1.0, 2.0, -1.5]"); /* sign-independent in the vectors */
    return nd_add(nd_add(nd_sum(nd_mul(nd_square(vectors), w), ND_ALL, false),
                         nd_sum(nd_mul(re, f64("[0.5, -1.0, 2.0]")), ND_ALL, false)),
                  nd_sum(im, ND_ALL, false));
}

#define SQUARE3                                                                                    \
    2, {                                                                                           \
        3, 3                                                                                       \
    }
#define RECT34                                                                                     \
    2, {                                                                                           \
        3, 4                                                                                       \
    }

static const fwd_case cases[] = {
    {"neg", c_neg, RECT34, -2, 2, 0},
    {"abs", c_abs, RECT34, 0.2, 2, 0},
    {"sign", c_sign, RECT34, -2, 2, 0},
    {"exp", nd_exp, RECT34, -2, 2, 0},
    {"log", nd_log, RECT34, 0.5, 3, 0},
    {"sqrt", c_sqrt_std, RECT34, -2, 2, 0},
    {"square", nd_square, RECT34, -2, 2, 0},
    {"sin", nd_sin, RECT34, -2, 2, 0},
    {"cos", nd_cos, RECT34, -2, 2, 0},
    {"tanh", nd_tanh, RECT34, -2, 2, 0},
    {"cosh", nd_cosh, RECT34, -2, 2, 0},
    {"erf", nd_erf, RECT34, -2, 2, 0},
    {"sigmoid", nd_sigmoid, RECT34, -3, 3, 0},
    {"relu", c_relu, RECT34, -2, 2, 0},
    {"softplus", nd_softplus, RECT34, -3, 3, 0},
    {"gelu", nd_gelu, RECT34, -2, 2, 0},
    {"leaky_relu", c_leaky, RECT34, -2, 2, 0},
    {"clamp", c_clamp, RECT34, -1, 1, 0},
    {"pow_scalar", c_pow_scalar, RECT34, -2, 2, 0},
    {"add", c_add, RECT34, -2, 2, 0},
    {"sub", c_sub, RECT34, -2, 2, 0},
    {"mul", c_mul, RECT34, -2, 2, 0},
    {"div", c_div, RECT34, -2, 2, 0},
    {"pow", c_pow, RECT34, 0.5, 2, 0},
    {"maximum", c_maximum, RECT34, -2, 2, 0},
    {"minimum", c_minimum, RECT34, -2, 2, 0},
    {"where", c_where, RECT34, -2, 2, 0},
    {"sum", c_sum, RECT34, -2, 2, 0},
    {"mean", c_mean, RECT34, -2, 2, 0},
    {"max", c_max, RECT34, -2, 2, 0},
    {"min", c_min, RECT34, -2, 2, 0},
    {"logsumexp", c_logsumexp, RECT34, -2, 2, 0},
    {"softmax", c_softmax, RECT34, -2, 2, 0},
    {"log_softmax", c_log_softmax, RECT34, -2, 2, 0},
    {"cumsum", c_cumsum, RECT34, -2, 2, 0},
    {"norm 2", c_norm2, RECT34, -2, 2, 0},
    {"norm 1", c_norm1, RECT34, 0.2, 2, 0},
    {"norm inf", c_norm_inf, RECT34, -2, 1, 0},
    {"var", c_var, RECT34, -2, 2, 0},
    {"std", c_std, RECT34, -2, 2, 0},
    {"views", c_views, RECT34, -2, 2, 0},
    {"permute", c_permute, RECT34, -2, 2, 0},
    {"expand", c_expand, RECT34, -2, 2, 0},
    {"slice", c_slice, RECT34, -2, 2, 0},
    {"cat", c_cat, RECT34, -2, 2, 0},
    {"index", c_index, RECT34, -2, 2, 0},
    {"to_clone", c_to_clone, RECT34, -2, 2, -1}, /* float32: differences see rounding */
    {"matmul", c_matmul, RECT34, -1, 1, 0},
    {"batched_matmul", c_batched_matmul, RECT34, -1, 1, 0},
    {"inv", c_inv, SQUARE3, -0.5, 0.5, 0},
    {"det", c_det, SQUARE3, -0.5, 0.5, 0},
    {"solve", c_solve, SQUARE3, -0.5, 0.5, 0},
    {"eigh", c_eigh, SQUARE3, -0.5, 0.5, 0},
    {"linear", c_linear, RECT34, -1, 1, 0},
    {"mse_loss", c_mse, RECT34, -1, 1, 0},
    {"cross_entropy", c_cross_entropy, RECT34, -2, 2, 0},
    {"grid_sample", c_grid_sample, RECT34, -2, 2, 0},
    {"affine_grid", c_affine_grid, RECT34, -1, 1, 0},
    {"inplace", c_inplace, RECT34, -2, 2, 0},
    {"svd", c_svd, RECT34, -2, 2, 0},
    {"eig", c_eig, SQUARE3, -0.5, 0.5, 0},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Second derivatives nd refuses with an error, as PyTorch does (its
 * grid_sampler_2d_backward has no derivative): first order only. */
static const fwd_case first_order_cases[] = {
    {"grid_sample grid", c_grid_sample_grid, RECT34, -0.9, 0.9, 0},
};
#define NFIRST (sizeof first_order_cases / sizeof first_order_cases[0])

/* The case's input: distinct values over [lo, hi] in a scrambled order (no
 * ties for max, no symmetric matrix by accident). */
static nd_tensor *case_input(const fwd_case *c) {
    int64_t n = 1;
    for (int d = 0; d < c->ndim; d++) n *= c->shape[d];
    nd_tensor *values = nd_linspace(c->lo, c->hi, n, ND_F64);
    int64_t *o = malloc((size_t)n * sizeof *o);
    for (int64_t i = 0; i < n; i++) o[i] = (i * 7 + 3) % n; /* n is never a multiple of 7 */
    nd_tensor *order = nd_from(ND_I64, 1, &n, o);
    free(o);
    return nd_reshape(nd_index_select(values, 0, order), c->ndim, c->shape);
}

static nd_tensor *loss(nd_tensor *x, void *ctx) {
    const fwd_case *c = ctx;
    nd_tensor *y = c->f(x);
    return y ? nd_sum(nd_sin(y), ND_ALL, false) : NULL;
}

/* The gradient of the loss, itself differentiable (create_graph); x may be a
 * dual tensor of nd_jacobian's forward pass. */
static nd_tensor *gradient_of_loss(nd_tensor *x, void *ctx) {
    if (!nd_requires_grad(x)) x = nd_set_requires_grad(x, true);
    return nd_gradient(loss(x, ctx), x, true);
}

/* The same without create_graph: the gradient keeps its tangent (PyTorch's
 * autograd.grad on duals), so forward over reverse needs no graph. */
static nd_tensor *gradient_of_loss_no_graph(nd_tensor *x, void *ctx) {
    if (!nd_requires_grad(x)) x = nd_set_requires_grad(x, true);
    return nd_gradient(loss(x, ctx), x, false);
}

ND_TEST(forward_over_reverse, equals_the_hessian_for_every_case) {
    for (size_t i = 0; i < NCASES; i++) {
        const fwd_case *c = &cases[i];
        nd_scope_begin();
        nd_tensor *x = case_input(c);
        nd_tensor *hessian = nd_hessian(loss, (void *)c, x);
        cr_assert(hessian, "%s: nd_hessian: %s", c->name, nd_last_error());
        nd_tensor *jf = nd_jacobian(gradient_of_loss, (void *)c, x, ND_FORWARD, ND_LAYOUT_TENSOR);
        cr_assert(jf, "%s: forward over reverse: %s", c->name, nd_last_error());
        /* a Hessian of all zeros would make the comparison empty */
        cr_assert_gt(nd_item(nd_norm(hessian, 1)), 1e-6, "%s: the Hessian is zero", c->name);
        assert_close(jf, hessian, 1e-9, 1e-10);
        jf = nd_jacobian(gradient_of_loss_no_graph, (void *)c, x, ND_FORWARD, ND_LAYOUT_TENSOR);
        cr_assert(jf, "%s: forward over reverse without create_graph: %s", c->name,
                  nd_last_error());
        assert_close(jf, hessian, 1e-9, 1e-10);
        /* and both are right: central differences of the gradient */
        if (c->fd_tol < 0) {
            nd_scope_end();
            continue;
        }
        double eps = 1e-5;
        int64_t n = nd_numel(x);
        nd_tensor *flat = nd_flatten(x), *columns[16];
        cr_assert_leq(n, 16);
        for (int64_t j = 0; j < n; j++) {
            nd_tensor *step = nd_mul_scalar(nd_select(nd_eye(n, ND_F64), 0, j), eps);
            nd_tensor *up = nd_reshape(nd_add(flat, step), c->ndim, c->shape);
            nd_tensor *down = nd_reshape(nd_sub(flat, step), c->ndim, c->shape);
            nd_tensor *diff =
                nd_sub(gradient_of_loss(up, (void *)c), gradient_of_loss(down, (void *)c));
            columns[j] = nd_div_scalar(nd_detach(diff), 2 * eps);
        }
        nd_tensor *numeric = nd_stack((int)n, columns, -1); /* x.shape + (n,) */
        assert_close(nd_reshape(hessian, c->ndim + 1, numeric->shape), numeric,
                     c->fd_tol ? c->fd_tol : 1e-5, 1e-6);
        nd_scope_end();
    }
}

ND_TEST(forward_over_reverse, refused_where_pytorch_refuses) {
    for (size_t i = 0; i < NFIRST; i++) {
        const fwd_case *c = &first_order_cases[i];
        nd_scope_begin();
        nd_tensor *x = case_input(c);
        cr_assert_null(nd_hessian(loss, (void *)c, x), "%s", c->name);
        assert_error("not supported");
        nd_clear_error();
        cr_assert_null(nd_jacobian(gradient_of_loss, (void *)c, x, ND_FORWARD, ND_LAYOUT_TENSOR),
                       "%s", c->name);
        assert_error("not supported");
        nd_scope_end();
    }
}

/* ------------------------------------------- every op is covered */

#define MAX_NAMES 256
typedef struct {
    const char *names[MAX_NAMES];
    int count;
} name_set;

static bool set_has(const name_set *s, const char *name) {
    for (int i = 0; i < s->count; i++)
        if (!strcmp(s->names[i], name)) return true;
    return false;
}
static void set_add(name_set *s, const char *name) {
    if (!set_has(s, name) && s->count < MAX_NAMES) s->names[s->count++] = name;
}

/* The op names of every node the graph of t reaches. */
static void collect_ops(const nd_tensor *t, name_set *seen, const nd_node **visited,
                        int *nvisited) {
    if (!t || !t->node) return;
    for (int i = 0; i < *nvisited; i++)
        if (visited[i] == t->node) return;
    cr_assert_lt(*nvisited, 100000);
    visited[(*nvisited)++] = t->node;
    set_add(seen, t->node->op->name);
    /* docs/OPS.md lists these; tools/gen_ops_md.c refuses a table without them */
    cr_expect(t->node->op->vjp_formula && t->node->op->jvp_formula,
              "op '%s' has no .vjp_formula/.jvp_formula", t->node->op->name);
    for (int i = 0; i < t->node->nin; i++) collect_ops(t->node->in[i], seen, visited, nvisited);
}

/* Every `static const nd_op NAME = {"name", ...}` under src/<part>/. */
static void ops_in_sources(const char *part, name_set *ops, char storage[][64], int *nstorage) {
    char dir_path[4096];
    snprintf(dir_path, sizeof dir_path, "%s/../../src/%s", ND_GOLDEN_DIR, part);
    DIR *dir = opendir(dir_path);
    cr_assert(dir, "cannot list %s", dir_path);
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".c")) continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
        char *text = read_file(path, NULL);
        for (char *p = strstr(text, "const nd_op "); p; p = strstr(p + 1, "const nd_op ")) {
            char *id = p + strlen("const nd_op "), *after = id;
            while ((*after >= 'A' && *after <= 'Z') || (*after >= '0' && *after <= '9') ||
                   *after == '_')
                after++;
            if (after == id || strncmp(after, " =", 2)) continue; /* a pointer, a parameter */
            char *open = strchr(p, '{');
            char *q = open ? strchr(open, '"') : NULL;
            char *end = q ? strchr(q + 1, '"') : NULL;
            cr_assert(end && end - q - 1 < 64, "%s: cannot read the op after %.40s", path, p);
            cr_assert_lt(*nstorage, MAX_NAMES);
            char *name = storage[(*nstorage)++];
            memcpy(name, q + 1, (size_t)(end - q - 1));
            name[end - q - 1] = '\0';
            set_add(ops, name);
        }
        free(text);
    }
    closedir(dir);
}

ND_TEST(forward_over_reverse, every_recorded_op_is_in_some_case) {
    static char storage[MAX_NAMES][64];
    int nstorage = 0;
    name_set ops = {0}, seen = {0};
    const char *parts[] = {"core", "ops", "autograd", "image", "frame", "optim", "plot"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        ops_in_sources(parts[i], &ops, storage, &nstorage);
    cr_assert_gt(ops.count, 50, "only %d ops found in the sources", ops.count);

    static const nd_node *visited[100000];
    for (size_t i = 0; i < NCASES; i++) {
        nd_scope_begin();
        nd_tensor *x = nd_set_requires_grad(case_input(&cases[i]), true);
        nd_tensor *g = gradient_of_loss(x, (void *)&cases[i]);
        cr_assert(g, "%s: %s", cases[i].name, nd_last_error());
        int nvisited = 0;
        /* the gradient's graph holds both the op's backward rule and (through
         * the values the rule reads) the op itself */
        collect_ops(g, &seen, visited, &nvisited);
        collect_ops(loss(x, (void *)&cases[i]), &seen, visited, &nvisited);
        nd_scope_end();
    }
    for (size_t i = 0; i < NFIRST; i++) {
        nd_scope_begin();
        nd_tensor *x = nd_set_requires_grad(case_input(&first_order_cases[i]), true);
        nd_tensor *g = gradient_of_loss(x, (void *)&first_order_cases[i]);
        cr_assert(g, "%s: %s", first_order_cases[i].name, nd_last_error());
        int nvisited = 0;
        collect_ops(g, &seen, visited, &nvisited);
        nd_scope_end();
    }
    /* make_dual only marks a tensor as dual: nothing to differentiate */
    set_add(&seen, "make_dual");
    for (int i = 0; i < ops.count; i++)
        cr_expect(set_has(&seen, ops.names[i]),
                  "op '%s' is in no case of test_forward_over_reverse.c: add one", ops.names[i]);
}

/* ------------------------------------------- against PyTorch */

static nd_tensor *g_sqrt(nd_tensor *x) {
    return nd_sqrt(nd_add_scalar(nd_mul(x, x), 1.0));
}
static nd_tensor *g_std(nd_tensor *x) {
    return nd_std(x, 0, false);
}
static nd_tensor *g_solve(nd_tensor *x) {
    return nd_solve(near_identity(x), f64("[0.5, -1.0, 2.0]"));
}

ND_TEST(forward_over_reverse, ops_that_save_their_output_match_pytorch) {
    /* tests/reference/corners.py: torch.autograd.functional.hessian of Σ sin(f(x)) */
    const struct {
        const char *golden;
        case_fn f;
    } golden_cases[] = {
        {"corners_hessian_sqrt.npy", g_sqrt},  {"corners_hessian_exp.npy", nd_exp},
        {"corners_hessian_tanh.npy", nd_tanh}, {"corners_hessian_sigmoid.npy", nd_sigmoid},
        {"corners_hessian_std.npy", g_std},    {"corners_hessian_inv.npy", c_inv},
        {"corners_hessian_det.npy", c_det},    {"corners_hessian_solve.npy", g_solve},
    };
    nd_tensor *x = golden("corners_hessian_x.npy");
    for (size_t i = 0; i < sizeof golden_cases / sizeof golden_cases[0]; i++) {
        fwd_case c = {golden_cases[i].golden, golden_cases[i].f, SQUARE3, 0, 0, 0};
        nd_tensor *jf = nd_jacobian(gradient_of_loss, &c, x, ND_FORWARD, ND_LAYOUT_TENSOR);
        cr_assert(jf, "%s: %s", c.name, nd_last_error());
        assert_close(jf, golden(c.name), 1e-10, 1e-12);
        /* one Hessian-vector product by hand: a dual x, its gradient's tangent */
        nd_tensor *v = nd_reshape(nd_linspace(-1, 1, 9, ND_F64), ND_SHAPE(3, 3));
        nd_tensor *dual = nd_set_requires_grad(nd_make_dual(nd_clone(x), v), true);
        nd_tensor *g = nd_gradient(loss(dual, &c), dual, true);
        cr_assert(g && nd_tangent(g), "%s: the gradient has no tangent: %s", c.name,
                  nd_last_error());
        nd_tensor *hv = nd_sum_dims(nd_mul(golden(c.name), v), 2, (const int[]){2, 3}, false);
        assert_close(nd_tangent(g), hv, 1e-10, 1e-12);
        /* without create_graph too: PyTorch's autograd.grad on duals returns a
         * gradient that keeps its tangent (only the graph is dropped) */
        g = nd_gradient(loss(dual, &c), dual, false);
        cr_assert(g && nd_tangent(g), "%s: no tangent without create_graph: %s", c.name,
                  nd_last_error());
        cr_assert_not(nd_requires_grad(g));
        assert_close(nd_tangent(g), hv, 1e-10, 1e-12);
        /* while a leaf's accumulated gradient has none, as PyTorch's x.grad */
        cr_assert_eq(nd_backward(loss(dual, &c)), 0, "%s", nd_last_error());
        cr_assert(nd_grad(dual));
        cr_assert_null(nd_tangent(nd_grad(dual)));
        assert_close(nd_grad(dual), g, 1e-12, 1e-14);
    }
}

/* Reverse over forward: the gradient of a tangent, for rules that use the
 * output (det·tr(A⁻¹V), e^x·v, ...), against central differences. */
static double tangent_sum(case_fn f, nd_tensor *x, nd_tensor *v) {
    nd_tensor *y = f(nd_make_dual(x, v));
    return nd_item(nd_sum(nd_tangent(y), ND_ALL, false));
}

ND_TEST(forward_over_reverse, reverse_over_forward_through_the_output) {
    case_fn fs[] = {c_det, c_inv, g_solve, nd_exp, nd_tanh, nd_sigmoid, g_sqrt};
    nd_tensor *x0 = golden("corners_hessian_x.npy");
    nd_tensor *v = nd_reshape(nd_linspace(-1, 1, 9, ND_F64), ND_SHAPE(3, 3));
    for (size_t k = 0; k < sizeof fs / sizeof fs[0]; k++) {
        nd_tensor *x = nd_set_requires_grad(nd_clone(x0), true);
        nd_tensor *t = nd_tangent(fs[k](nd_make_dual(x, v)));
        cr_assert(t, "case %zu: no tangent: %s", k, nd_last_error());
        nd_tensor *g = nd_gradient(nd_sum(t, ND_ALL, false), x, false);
        cr_assert(g, "case %zu: %s", k, nd_last_error());
        double numeric[9], eps = 1e-6;
        for (int j = 0; j < 9; j++) {
            nd_tensor *step =
                nd_reshape(nd_mul_scalar(nd_select(nd_eye(9, ND_F64), 0, j), eps), ND_SHAPE(3, 3));
            numeric[j] = (tangent_sum(fs[k], nd_add(x0, step), v) -
                          tangent_sum(fs[k], nd_sub(x0, step), v)) /
                         (2 * eps);
        }
        assert_close(g, nd_from(ND_F64, ND_SHAPE(3, 3), numeric), 1e-5, 1e-7);
    }
}
