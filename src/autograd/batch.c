/* The batching transform behind nd_jacobian's one pass (docs/BATCHING.md):
 * like torch's vectorize=True (vmap), one pass carrying a batch of seeds, the
 * whole identity, instead of one pass per seed. Every op on the way runs its
 * ordinary rule once on batched gradients or tangents (one matrix-matrix
 * product where the loop did one matrix-vector product per seed).
 *
 * Only this file knows a batch exists. It works from the graph f recorded
 * (with gradients on): it plans (every node on the path from x to y takes the
 * batch, and the batch of what it touches fits in memory) before any batched
 * work, and falls back to one pass per seed (functional.c) otherwise.
 * Reverse mode drives the one backward engine with a batch of seeds;
 * forward mode runs the ops' JVP rules itself over the recorded graph, inputs
 * first (JAX's linearize, then vmap).
 *
 * The seeds are the identity by construction, so a batch is carried as
 * DIAG(d), the batch diag(d) with d of the value's shape, for as long as it
 * stays one: through pointwise ops (ND_POINTWISE) on d itself, one unbatched
 * rule, and into the first matrix product whose operand on the path is the
 * 1-D one, where diag(d)·A is A's rows scaled, d[:,None]*A, O(n²) instead of a
 * product of two n×n matrices (W10). Anywhere else DIAG is made DENSE,
 * (B,) + shape. Reverse mode walks back from y while pointwise; forward mode
 * carries DIAG from x forward. */
#include "../core/internal.h"

#include <stdlib.h>

/* A batched pass holds batch × (every intermediate) at once; above this many
 * elements one pass per seed, which holds one intermediate at a time, is kinder. */
#define BATCH_MAX_ELEMENTS ((int64_t)1 << 25)

/* For the tests: which path ran. */
static _Thread_local uint64_t batched_jacobians, diagonal_products;
uint64_t nd__batched_jacobians(void) {
    return batched_jacobians;
}
uint64_t nd__diagonal_products(void) {
    return diagonal_products;
}

/* A batch of count seeds of t: (count,) + t.shape, small enough. */
static bool fits(int64_t count, const nd_tensor *t) {
    if (1 + t->ndim > ND_MAX_DIMS) return false;
    /* double: the product of two large sizes must not wrap */
    return (double)count * (double)t->numel <= (double)BATCH_MAX_ELEMENTS;
}

/* Every one-hot seed for t at once: the identity, shaped (numel t,) + t.shape. */
static nd_tensor *identity_seeds(const nd_tensor *t) {
    int64_t shape[ND_MAX_DIMS];
    shape[0] = t->numel;
    memcpy(shape + 1, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    return nd_reshape(nd_eye(t->numel, t->dtype), 1 + t->ndim, shape);
}

/* DIAG(d) made DENSE: diag(d) shaped (numel d,) + d.shape. */
static nd_tensor *dense_diagonal(nd_tensor *d) {
    int64_t count = d->numel, shape[ND_MAX_DIMS];
    shape[0] = count;
    memcpy(shape + 1, d->shape, sizeof(int64_t) * (size_t)d->ndim);
    nd_tensor *scaled = nd_mul(nd_eye(count, d->dtype), nd_reshape(d, 1, &count));
    return nd_reshape(scaled, 1 + d->ndim, shape);
}

/* --------------------------------------------------------- the graph */

typedef struct {
    const nd_node *node;
    size_t index;
} entry;

/* The nodes of the pass from y back to x, as the engine walks them
 * (nd__graph_visit): the ones that lead to x, and y's own. */
typedef struct {
    const nd_node **nodes; /* inputs before the nodes that use them */
    size_t count, cap;
    entry *by_address; /* the same, sorted by address: index_of */
    const nd_tensor *x;
    bool out_of_memory;
} graph;

static bool collect(const nd_node *n, void *ctx) {
    graph *g = ctx;
    if (g->count == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 64;
        const nd_node **grown = realloc(g->nodes, cap * sizeof *grown);
        if (!grown) {
            g->out_of_memory = true;
            return false;
        }
        g->nodes = grown;
        g->cap = cap;
    }
    g->nodes[g->count++] = n;
    return true;
}

static int by_address(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const entry *)a)->node, y = (uintptr_t)((const entry *)b)->node;
    return (x > y) - (x < y);
}

static void graph_free(graph *g) {
    free(g->nodes);
    free(g->by_address);
}

/* 0, or -1 with an error when out of memory. */
static int graph_build(graph *g, nd_tensor *y, nd_tensor *x) {
    g->x = x;
    int rc = nd__graph_visit("nd_jacobian", y, 1, &x, collect, g);
    if (rc < 0) return -1;
    if (g->out_of_memory || !(g->by_address = malloc((g->count ? g->count : 1) * sizeof(entry))))
        return nd__fail_int_as(ND_ERR_NOMEM, "nd_jacobian: out of memory ordering the graph");
    /* the engine's order runs from y back: reversed, inputs come first */
    for (size_t i = 0, j = g->count; i + 1 < j; i++, j--) {
        const nd_node *t = g->nodes[i];
        g->nodes[i] = g->nodes[j - 1];
        g->nodes[j - 1] = t;
    }
    for (size_t i = 0; i < g->count; i++) g->by_address[i] = (entry){g->nodes[i], i};
    if (g->count) qsort(g->by_address, g->count, sizeof(entry), by_address);
    return 0;
}

/* n's position in g->nodes, or -1 when n is not on the pass. */
static long index_of(const graph *g, const nd_node *n) {
    size_t lo = 0, hi = g->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((uintptr_t)g->by_address[mid].node < (uintptr_t)n)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->count && g->by_address[lo].node == n ? (long)g->by_address[lo].index : -1;
}

/* Whether input i of n carries the batch: made by a node of the pass, or x. */
static bool on_path(const graph *g, const nd_node *n, int i) {
    if (!n->in[i]) return false;
    if (n->in_node[i]) return index_of(g, n->in_node[i]) >= 0;
    return n->in[i] == g->x;
}

/* The one input of n that carries the batch, or -1 (none, or several). */
static int sole_input_on_path(const graph *g, const nd_node *n) {
    int found = -1;
    for (int i = 0; i < n->nin; i++)
        if (on_path(g, n, i)) {
            if (found >= 0) return -1;
            found = i;
        }
    return found;
}

static bool node_on_path(const graph *g, const nd_node *n) {
    for (int i = 0; i < n->nin; i++)
        if (on_path(g, n, i)) return true;
    return false;
}

/* The plan: every node on the path runs its rule on the batch (ND_BATCHABLE),
 * and the batch of each of its inputs fits in memory. */
static bool plan(const graph *g, int64_t count) {
    for (size_t k = 0; k < g->count; k++) {
        const nd_node *n = g->nodes[k];
        if (!node_on_path(g, n)) continue; /* y's node when y does not depend on x */
        if (!(n->op->flags & ND_BATCHABLE)) return false;
        for (int i = 0; i < n->nin; i++)
            if (n->in[i] && !fits(count, n->in[i])) return false;
    }
    return true;
}

/* Whether input i of n still holds the values n was recorded with. */
static bool unchanged(const nd_node *n, int i) {
    return n->in[i] && atomic_load(&n->in[i]->storage->version) == n->in_version[i];
}

/* ------------------------------------------------------ reverse mode */

/* Whether the engine can start a pass at t, input of an op whose history
 * was then node: t still has that history. */
static bool can_start(const nd_tensor *t, const nd_node *node) {
    return t->node == node && t->requires_grad && !nd__view_is_stale(t);
}

/* At s = m·v or v·m (a matrix product with the batch on the 1-D v only and a
 * matrix m): DIAG(d) on s is, on v, the rows d[:,None]*m (s = m·v) or
 * d[:,None]*mᵀ (s = v·m): seed k's gradient of v is d_k times row k of m, or
 * column k. NULL when s is not such a product; *start is then left as is. */
static nd_tensor *product_rows(const graph *g, nd_tensor *s, nd_tensor *d, nd_tensor **start) {
    const nd_node *n = s->node;
    if (!n || !(n->op->flags & ND_MATRIX_PRODUCT) || n->nin != 2 || s->ndim != 1) return NULL;
    int i = sole_input_on_path(g, n);
    if (i < 0) return NULL;
    nd_tensor *v = n->in[i], *m = n->in[1 - i];
    /* m read as it is now: only when the product was recorded with it */
    if (v->ndim != 1 || !m || m->ndim != 2 || !can_start(v, n->in_node[i]) || !unchanged(n, 1 - i))
        return NULL;
    nd_tensor *rows = nd_mul(nd_unsqueeze(d, 1), i == 1 ? m : nd_t(m));
    if (rows) *start = v, diagonal_products++;
    return rows;
}

/* The rows in one reverse pass of the engine: the head of pointwise ops
 * after y's last matrix product is one unbatched pass (d), the product
 * takes DIAG(d) as scaled rows, and the engine carries them from there. */
static nd_tensor *reverse_pass(const graph *g, nd_tensor *y, nd_tensor *xr) {
    nd_tensor *s = y; /* the head: back from y while pointwise, y's shape */
    for (const nd_node *n = y->node; n && (n->op->flags & ND_POINTWISE); n = s->node) {
        int i = sole_input_on_path(g, n);
        if (i < 0 || !nd__same_shape(n->in[i], s) || !can_start(n->in[i], n->in_node[i])) break;
        s = n->in[i];
    }
    /* DIAG(d) on s: ∂y/∂s is diag(d), d the gradient of y's sum */
    nd_tensor *d = s == y ? nd_ones_like(y) : NULL;
    if (s != y && nd__gradients_seeded("nd_jacobian", y, nd_ones_like(y), 1, &s, &d, false))
        return NULL;
    if (!d) return NULL;
    bool previous = nd_set_grad_enabled(false); /* the seeds carry no history */
    unsigned long errors = nd__error_count();
    nd_tensor *start = s;
    nd_tensor *seeds = product_rows(g, s, d, &start);
    if (!seeds && nd__error_count() == errors)
        seeds = s == y ? identity_seeds(y) : dense_diagonal(d);
    nd_set_grad_enabled(previous);
    nd_tensor *rows = NULL;
    if (!seeds || nd__gradients_batched("nd_jacobian", start, seeds, 1, 1, &xr, &rows)) return NULL;
    return rows;
}

nd_tensor *nd__jacobian_rows(nd_tensor *y, nd_tensor *xr, bool *fallback) {
    *fallback = false;
    graph g = {0};
    if (graph_build(&g, y, xr)) {
        graph_free(&g);
        return NULL;
    }
    nd_tensor *rows = NULL;
    if (nd__view_is_stale(y) || !fits(y->numel, y) || !plan(&g, y->numel))
        *fallback = true;
    else
        rows = reverse_pass(&g, y, xr);
    graph_free(&g);
    if (rows) batched_jacobians++;
    return rows;
}

/* ------------------------------------------------------ forward mode */

/* A tangent of the batched forward pass: zero (value NULL), DIAG(value) or
 * DENSE value, (B,) + shape. */
typedef struct {
    nd_tensor *value;
    bool diag;
} tangent;

/* t fitted to out's dtype and to out's shape, after count batch dims when
 * count is not 0 (a rule may give a broadcastable or unbatched tangent):
 * nd__tangent_like, which the rules use, and the batch dim where it lacks. */
static nd_tensor *fit(nd_tensor *t, const nd_tensor *out, int64_t count) {
    t = nd__tangent_like(t, out);
    if (!t || !count || (t->ndim == 1 + out->ndim && t->shape[0] == count)) return t;
    int64_t shape[ND_MAX_DIMS];
    shape[0] = count;
    memcpy(shape + 1, out->shape, sizeof(int64_t) * (size_t)out->ndim);
    return nd_expand(t, 1 + out->ndim, shape);
}

/* A batched tangent (B,) + t.shape of an input, seen by an op whose output has
 * out_ndim dims: viewed as (B, 1, ..., 1) + t.shape, so that t's dims stay
 * right-aligned with the output's when the rule broadcasts it against the
 * op's other operands (a bare (B, 3) against a (4, 3) operand would pair B
 * with the 4). */
static nd_tensor *padded(nd_tensor *t, int out_ndim) {
    int own = t->ndim - 1, pad = out_ndim > own ? out_ndim - own : 0;
    if (!pad) return t;
    int64_t shape[ND_MAX_DIMS], strides[ND_MAX_DIMS];
    int d = 0;
    shape[d] = t->shape[0], strides[d++] = t->strides[0];
    for (int i = 0; i < pad; i++) shape[d] = 1, strides[d++] = 0;
    for (int i = 1; i < t->ndim; i++) shape[d] = t->shape[i], strides[d++] = t->strides[i];
    return nd__alias(t, d, shape, strides, t->offset);
}

/* The output of every node of the pass: y, or the input of a node that uses
 * it. false when a value some rule reads was written in place since it was
 * recorded (the JVPs would read the new one): one pass per seed then. */
static bool find_outputs(const graph *g, nd_tensor *y, nd_tensor **outs) {
    long k = y->node ? index_of(g, y->node) : -1;
    if (k >= 0) outs[k] = y;
    for (size_t c = 0; c < g->count; c++) {
        const nd_node *n = g->nodes[c];
        for (int i = 0; i < n->nin; i++) {
            if (!n->in[i]) continue;
            if (!unchanged(n, i)) return false;
            long p = n->in_node[i] ? index_of(g, n->in_node[i]) : -1;
            if (p >= 0) outs[p] = n->in[i];
        }
        if (n->out_data && atomic_load(&n->out_data->storage->version) != n->out_version)
            return false;
    }
    for (size_t c = 0; c < g->count; c++)
        if (!outs[c] && node_on_path(g, g->nodes[c])) return false;
    return true;
}

/* n's JVP on tin (forward mode off, as the tape runs it), fitted to out
 * (count: its batch, 0 for a DIAG value). */
static nd_tensor *run_jvp(const nd_node *n, nd_tensor *out, nd_tensor **tin, int64_t count) {
    bool previous = nd__set_forward_enabled(false);
    nd_tensor *t = fit(n->op->jvp(n, out, tin), out, count);
    nd__set_forward_enabled(previous);
    return t;
}

/* The tangent of node n's output out from its inputs' (ts). *failed when an
 * error was raised on the way (a rule that raised one failed, whatever it
 * returned: a NULL from a failed op inside it would pass for a zero tangent). */
static tangent node_tangent(const nd_node *n, nd_tensor *out, const tangent *ts, int64_t count,
                            bool *failed) {
    unsigned long errors = nd__error_count();
    nd_tensor *tin_small[3] = {0};
    nd_tensor **tin = n->nin <= 3 ? tin_small : calloc((size_t)n->nin, sizeof *tin);
    if (!tin) {
        nd__set_error_as(ND_ERR_NOMEM, "nd_jacobian: out of memory");
        *failed = true;
        return (tangent){0};
    }
    int carried = 0, diag = 0, vector = -1;
    bool diag_fits = true; /* every DIAG input has the output's shape */
    for (int i = 0; i < n->nin; i++) {
        if (!ts[i].value) continue;
        carried++;
        vector = i;
        if (ts[i].diag) diag++, diag_fits &= nd__same_shape(n->in[i], out);
    }
    tangent result = {0};
    nd_tensor *m = carried == 1 && n->nin == 2 ? n->in[1 - vector] : NULL;
    if (carried == 0) {
    } else if ((n->op->flags & ND_POINTWISE) && diag == carried && diag_fits) {
        /* elementwise: diag(d)·f'(x) = diag(d·f'(x)), the unbatched rule on d */
        for (int i = 0; i < n->nin; i++) tin[i] = ts[i].value;
        result = (tangent){run_jvp(n, out, tin, 0), true};
    } else if ((n->op->flags & ND_MATRIX_PRODUCT) && diag == 1 && m && m->ndim == 2 &&
               n->in[vector]->ndim == 1) {
        /* out = m·v or v·m, the batch diag(d) on v: seed k's tangent is d_k
         * times column k of m (m·v) or row k (v·m) */
        nd_tensor *d = ts[vector].value;
        result.value = nd_mul(nd_unsqueeze(d, 1), vector == 1 ? nd_t(m) : m);
        result.value = fit(result.value, out, count);
        diagonal_products += result.value != NULL;
    } else {
        for (int i = 0; i < n->nin; i++) {
            nd_tensor *t = ts[i].diag ? dense_diagonal(ts[i].value) : ts[i].value;
            tin[i] = t ? padded(t, out->ndim) : NULL;
        }
        if (nd__error_count() == errors) result.value = run_jvp(n, out, tin, count);
    }
    if (tin != tin_small) free(tin);
    if (nd__error_count() != errors) *failed = true;
    return result;
}

/* The columns in one forward pass over the recorded graph: each node of the
 * path, inputs first, gets its tangent from its inputs'. */
static nd_tensor *forward_pass(const graph *g, nd_tensor *y, nd_tensor *xr, bool *fallback) {
    int64_t count = xr->numel;
    nd_tensor **outs = calloc(g->count ? g->count : 1, sizeof *outs);
    tangent *ts = calloc(g->count ? g->count : 1, sizeof *ts);
    tangent x_tangent = {0, true}; /* the identity: DIAG(ones) */
    nd_tensor *columns = NULL;
    bool failed = false;
    if (!outs || !ts) {
        nd__set_error_as(ND_ERR_NOMEM, "nd_jacobian: out of memory");
        goto done;
    }
    if (!find_outputs(g, y, outs)) {
        *fallback = true;
        goto done;
    }
    for (size_t k = 0; k < g->count; k++)
        if (outs[k] && node_on_path(g, g->nodes[k]) && !fits(count, outs[k])) {
            *fallback = true;
            goto done;
        }
    if (!(x_tangent.value = nd_ones_like(xr))) goto done;
    for (size_t k = 0; k < g->count && !failed; k++) {
        const nd_node *n = g->nodes[k];
        tangent small[3];
        tangent *tin = n->nin <= 3 ? small : malloc((size_t)n->nin * sizeof *tin);
        if (!tin) {
            nd__set_error_as(ND_ERR_NOMEM, "nd_jacobian: out of memory");
            goto done;
        }
        for (int i = 0; i < n->nin; i++) {
            long p = n->in_node[i] ? index_of(g, n->in_node[i]) : -1;
            tin[i] = p >= 0 ? ts[p] : on_path(g, n, i) ? x_tangent : (tangent){0};
        }
        if (outs[k]) ts[k] = node_tangent(n, outs[k], tin, count, &failed);
        if (tin != small) free(tin);
    }
    if (failed) goto done;
    long k = y->node ? index_of(g, y->node) : -1;
    tangent t = y == xr ? x_tangent : k >= 0 ? ts[k] : (tangent){0};
    if (!t.value) {
        int64_t shape[ND_MAX_DIMS];
        shape[0] = count;
        memcpy(shape + 1, y->shape, sizeof(int64_t) * (size_t)y->ndim);
        columns = nd_zeros(y->dtype, 1 + y->ndim, shape); /* f does not depend on x */
    } else {
        columns = fit(t.diag ? dense_diagonal(t.value) : t.value, y, count);
    }
done:
    free(outs);
    free(ts);
    return columns;
}

nd_tensor *nd__jacobian_columns(nd_fn f, void *ctx, nd_tensor *xr, nd_tensor **y_out,
                                bool *fallback) {
    *fallback = false;
    unsigned long off_graph = nd__ops_off_graph();
    nd_tensor *y = *y_out = nd__call_fn("nd_jacobian", f, ctx, xr);
    if (!y) return NULL;
    /* Ops f ran with gradients off are not in its graph, though forward mode
     * carries tangents through them (e.g. a gradient taken without
     * create_graph inside f): the tape's tangents, seed by seed, then. */
    if (nd__ops_off_graph() != off_graph || nd__view_is_stale(y) || !fits(xr->numel, xr)) {
        *fallback = true;
        return NULL;
    }
    graph g = {0};
    if (graph_build(&g, y, xr)) {
        graph_free(&g);
        return NULL;
    }
    nd_tensor *columns = NULL;
    if (!plan(&g, xr->numel)) {
        *fallback = true;
    } else {
        bool previous = nd_set_grad_enabled(false); /* the tangents carry no history */
        columns = forward_pass(&g, y, xr, fallback);
        nd_set_grad_enabled(previous);
    }
    graph_free(&g);
    if (columns) batched_jacobians++;
    return columns;
}
