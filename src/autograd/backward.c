/* The reverse pass: order the graph once, then run each op's VJP from the
 * output back to the inputs, summing gradients where paths meet. */
#include "../core/internal.h"

#include <stdint.h>
#include <stdlib.h>

static _Thread_local nd__leaf_grad_hook leaf_hook;
static _Thread_local void *leaf_hook_ctx;

void nd__set_leaf_grad_hook(nd__leaf_grad_hook hook, void *ctx) {
    leaf_hook = hook;
    leaf_hook_ctx = hook ? ctx : NULL;
}

void nd__get_leaf_grad_hook(nd__leaf_grad_hook *hook, void **ctx) {
    *hook = leaf_hook;
    *ctx = leaf_hook_ctx;
}

typedef struct {
    nd_node **items;
    size_t count, cap;
} node_list;

static bool list_push(node_list *l, nd_node *n) {
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        nd_node **grown = realloc(l->items, cap * sizeof *grown);
        if (!grown) return false;
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->count++] = n;
    return true;
}

/* Input i of n as the graph saw it when n was recorded: the tensor when it
 * takes part (made by an op then, or a leaf that requires a gradient), with
 * the node that made it then in *node (NULL for a leaf); NULL otherwise. A
 * tensor written in place since has a newer node, which n must not follow. */
static nd_tensor *graph_input(const nd_node *n, int i, nd_node **node) {
    nd_tensor *in = n->in[i];
    *node = n->in_node[i];
    if (!in || *node) return in;
    return in->requires_grad && !in->node ? in : NULL;
}

/* The tensors a pass computes gradients for, found by address: the leaves
 * (nd_backward, as PyTorch's engine, whose leaves are its targets) or the
 * caller's inputs (nd_gradient). slot: where its gradient goes; last_step:
 * the step of the pass after which it is final (see mark_needed). */
typedef struct {
    nd_tensor *t;
    int slot;
    size_t last_step;
} target;

typedef struct {
    target *items;
    int count;
    bool leaves_only; /* every target a leaf: an input made by an op is none */
} target_list;

/* Post-order of the nodes reachable from root (inputs before the nodes that use
 * them), without recursion: graphs of 10^5 ops are ordinary in loops. Which
 * nodes were seen is the sort's own set, not a mark on the nodes. */
typedef struct {
    nd_node *node;
    int next; /* the next input to look at */
} frame;

/* How many nodes this thread's last pass ordered: the set starts that big. */
static _Thread_local size_t last_graph_size;

static bool push_target(target_list *targets, nd_tensor *t, int *cap);

/* With leaves non-NULL, also gathers the leaves the graph reaches (unsorted,
 * possibly repeated). */
static bool topological_order(nd_node *root, node_list *order, target_list *leaves) {
    nd__node_set seen = {0};
    size_t count = 0, cap = 64;
    int leaves_cap = 0;
    frame *stack = malloc(cap * sizeof *stack);
    bool ok =
        stack && nd__node_set_reserve(&seen, last_graph_size) && nd__node_set_add(&seen, root) > 0;
    if (ok) stack[count++] = (frame){root, 0};
    while (ok && count) {
        frame *f = &stack[count - 1];
        if (f->next == f->node->nin) {
            nd_node *n = f->node;
            ok = list_push(order, n);
            count--;
            for (int i = 0; ok && leaves && i < n->nin; i++) {
                nd_node *node;
                nd_tensor *in = graph_input(n, i, &node);
                if (in && !node) ok = push_target(leaves, in, &leaves_cap);
            }
            continue;
        }
        nd_node *child = f->node->in_node[f->next++];
        int added = child ? nd__node_set_add(&seen, child) : 0;
        if (added < 0) ok = false;
        if (added <= 0) continue;
        if (count == cap) {
            frame *grown = realloc(stack, (cap *= 2) * sizeof *stack);
            if (!grown) {
                ok = false;
                break;
            }
            stack = grown;
        }
        stack[count++] = (frame){child, 0};
    }
    free(stack);
    nd__node_set_free(&seen);
    last_graph_size = order->count;
    return ok;
}

static int by_address(const void *a, const void *b) {
    const target *x = a, *y = b;
    if (x->t != y->t) return (uintptr_t)x->t < (uintptr_t)y->t ? -1 : 1;
    return (x->slot > y->slot) - (x->slot < y->slot);
}

/* The target that is input t (made then by node), or NULL. */
static target *find_target(const target_list *targets, const nd_tensor *t) {
    int lo = 0, hi = targets->count;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if ((uintptr_t)targets->items[mid].t < (uintptr_t)t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < targets->count && targets->items[lo].t == t ? &targets->items[lo] : NULL;
}

/* Sorts by address and keeps one entry per tensor (the first slot). */
static void sort_targets(target_list *targets) {
    if (targets->count) qsort(targets->items, (size_t)targets->count, sizeof(target), by_address);
    int distinct = 0;
    for (int i = 0; i < targets->count; i++)
        if (i == 0 || targets->items[i].t != targets->items[i - 1].t)
            targets->items[distinct++] = targets->items[i];
    targets->count = distinct;
}

static bool push_target(target_list *targets, nd_tensor *t, int *cap) {
    if (targets->count == *cap) {
        int grown_cap = *cap ? *cap * 2 : 16;
        target *grown = realloc(targets->items, (size_t)grown_cap * sizeof *grown);
        if (!grown) return false;
        targets->items = grown;
        *cap = grown_cap;
    }
    targets->items[targets->count] = (target){t, targets->count, SIZE_MAX};
    targets->count++;
    return true;
}

/* Which nodes lead to a target; other branches are pruned. And for each
 * target the step of the pass after which its gradient is final: the last
 * node (in backward order) that takes it. The pass runs order[k] for k going
 * down, so that is the smallest k. */
static void mark_needed(node_list *order, const target_list *targets) {
    for (size_t k = 0; k < order->count; k++) {
        nd_node *n = order->items[k];
        n->needed = false;
        for (int i = 0; i < n->nin; i++) {
            nd_node *node;
            nd_tensor *in = graph_input(n, i, &node);
            if (!in) continue;
            target *t = node && targets->leaves_only ? NULL : find_target(targets, in);
            if (t && t->last_step == SIZE_MAX) t->last_step = k;
            if (t || (node && node->needed)) n->needed = true;
        }
    }
}

/* Whether n's VJP reads input i's value (see ND_READS_0_FOR_1 in internal.h). */
static bool reads_input(const nd_node *n, int i) {
    unsigned flags = n->op->flags;
    if (!(flags & ND_SAVES_INPUTS)) return false;
    if (!(flags & (ND_READS_0_FOR_1 | ND_READS_1_FOR_0))) return true;
    if (i > 1) return false;
    if (!(flags & (i == 0 ? ND_READS_0_FOR_1 : ND_READS_1_FOR_0))) return true;
    nd_tensor *other = n->in[1 - i];
    return other && other->requires_grad;
}

static int check_versions(const nd_node *n) {
    if (n->op->flags & ND_SAVES_INPUTS)
        for (int i = 0; i < n->nin; i++) {
            nd_tensor *in = n->in[i];
            unsigned long now = in ? atomic_load(&in->storage->version) : 0;
            if (in && now != n->in_version[i] && reads_input(n, i))
                return nd__fail_int_as(
                    ND_ERR_NOT_DIFFERENTIABLE,
                    "nd_backward: input %d of '%s' (shape %s) was modified in place after the op "
                    "used it (version %lu, saved at %lu); compute gradients before changing it, "
                    "or change a clone",
                    i, n->op->name, nd__tshape(in), now, n->in_version[i]);
        }
    if (n->out_data && atomic_load(&n->out_data->storage->version) != n->out_version)
        return nd__fail_int_as(ND_ERR_NOT_DIFFERENTIABLE,
                               "nd_backward: the output of '%s' (shape %s) was modified in place "
                               "after the op saved it; compute gradients before changing it",
                               n->op->name, nd__tshape(n->out_data));
    return 0;
}

/* Adds g into *slot (which owns one reference). */
static int accumulate(nd_tensor **slot, nd_tensor *g) {
    nd_tensor *sum = *slot ? nd_add(*slot, g) : g;
    if (!sum) return -1;
    nd_retain(sum);
    if (*slot) nd_release(*slot);
    *slot = sum;
    return 0;
}

/* A leaf keeps its gradient beyond every scope: its own copy, summed in place
 * afterwards (or, under create_graph, replaced by a differentiable sum). */
static int accumulate_leaf(nd_tensor *leaf, nd_tensor *g, bool create_graph) {
    if (!leaf->grad) {
        nd_tensor *copy = create_graph ? g : nd_clone(nd_detach(g));
        if (!copy) return -1;
        leaf->grad = nd_retain(copy);
        return 0;
    }
    /* (a gradient computed on duals keeps no tangent in the leaf, as PyTorch's
     * x.grad: the in-place sum would otherwise carry it over) */
    if (!create_graph) return nd_add_(leaf->grad, g->tangent ? nd_detach(g) : g);
    return accumulate(&leaf->grad, g);
}

/* The output value as a VJP sees it: under create_graph it is connected to the
 * node, so second derivatives through it are right. */
static nd_tensor *saved_output(nd_node *n, bool create_graph) {
    if (!n->out_data) return NULL;
    if (!create_graph) return n->out_data;
    nd_tensor *o = n->out_data;
    nd_tensor *out = nd__alias(o, o->ndim, o->shape, o->strides, o->offset);
    if (!out) return NULL;
    atomic_fetch_add(&n->refcount, 1);
    out->node = n;
    if (o->tangent) out->tangent = nd_retain(o->tangent); /* forward over reverse */
    out->requires_grad = true;
    return out;
}

/* Runs n's VJP on the gradient summed into it, and passes each input's part
 * on: into the input's slot when it is a target, into the node that made it
 * when that node leads to a target. A batched pass's gradients keep the
 * seed's nbatch leading dims (batch) in front. */
static int run_node(nd_node *n, bool create_graph, const target_list *targets, nd_tensor **slots,
                    int nbatch, const int64_t *batch) {
    nd_tensor *g = n->grad_acc;
    if (check_versions(n)) return -1;
    nd_tensor *gin_small[3] = {0};
    nd_tensor **gin = n->nin <= 3 ? gin_small : calloc((size_t)n->nin, sizeof *gin);
    if (!gin) return nd__fail_int_as(ND_ERR_NOMEM, "nd_backward: out of memory");
    unsigned long errors = nd__error_count();
    n->op->vjp(n, saved_output(n, create_graph), g, gin);
    /* a rule that raised an error failed, whatever it left in gin */
    int rc = nd__error_count() == errors ? 0 : -1;
    for (int i = 0; i < n->nin && rc == 0; i++) {
        nd_node *node;
        nd_tensor *in = graph_input(n, i, &node);
        if (!gin[i] || !in) continue;
        const target *t = node && targets->leaves_only ? NULL : find_target(targets, in);
        bool onward = node && node->needed; /* past a target only when another lies further back */
        if (!t && !onward) continue;
        /* g itself when it fits */
        nd_tensor *gi = nd__sum_to(gin[i], nbatch, batch, in->ndim, in->shape);
        if (gi && gi->dtype != in->dtype) gi = nd_to(gi, in->dtype);
        if (!gi) {
            rc = -1;
            break;
        }
        if (t) rc = accumulate(&slots[t->slot], gi);
        if (rc == 0 && onward) rc = accumulate(&node->grad_acc, gi);
    }
    if (gin != gin_small) free(gin);
    /* A VJP that failed leaves its error; a missing gradient for a needed input is
     * only an error when one was raised. */
    return rc;
}

/* For leaves (nd_backward): the targets' indices in the order their
 * gradients become final (see mark_needed). */
static int *final_order(const target_list *targets) {
    int *by_step = malloc((size_t)(targets->count ? targets->count : 1) * sizeof *by_step);
    if (!by_step) return NULL;
    for (int i = 0; i < targets->count; i++) by_step[i] = i;
    /* insertion sort by step, descending: the leaves of a model are few */
    for (int i = 1; i < targets->count; i++) {
        int v = by_step[i], j = i;
        for (; j > 0 && targets->items[by_step[j - 1]].last_step < targets->items[v].last_step; j--)
            by_step[j] = by_step[j - 1];
        by_step[j] = v;
    }
    return by_step;
}

/* A leaf's gradient is final: into leaf->grad, and the hook told. */
static int deliver(target *t, nd_tensor **slots, bool create_graph) {
    /* (a leaf of the ops that ran but given no gradient by them: its .grad
     * is final as it was, and the hook hears of it when it has one) */
    int rc = slots[t->slot] ? accumulate_leaf(t->t, slots[t->slot], create_graph) : 0;
    if (!t->t->grad) return rc;
    if (rc == 0 && leaf_hook) leaf_hook(t->t, leaf_hook_ctx);
    return rc;
}

/* The plan of a pass without the pass (see internal.h): the same order and
 * pruning as run_backward, no gradient computed. */
int nd__graph_visit(const char *op, nd_tensor *y, int n, nd_tensor *const *xs,
                    bool (*visit)(const nd_node *node, void *ctx), void *ctx) {
    if (!y->node || !y->requires_grad) return 1; /* the pass runs no node */
    node_list order = {0};
    target_list targets = {0};
    int cap = 0;
    int rc = topological_order(y->node, &order, NULL) ? 1 : -1;
    for (int i = 0; rc == 1 && i < n; i++)
        if (!push_target(&targets, xs[i], &cap)) rc = -1;
    if (rc == 1) {
        sort_targets(&targets);
        targets.leaves_only = true;
        for (int i = 0; i < targets.count; i++) targets.leaves_only &= !targets.items[i].t->node;
        mark_needed(&order, &targets);
        /* the nodes run_backward runs, in its order */
        for (size_t k = order.count; k-- > 0 && rc == 1;) {
            const nd_node *node = order.items[k];
            if ((node->needed || node == y->node) && !visit(node, ctx)) rc = 0;
        }
    }
    free(order.items);
    free(targets.items);
    if (rc < 0) nd__set_error_as(ND_ERR_NOMEM, "%s: out of memory ordering the graph", op);
    return rc;
}

/* The one pass behind nd_backward, nd_gradient and nd_jacobian: gradients of
 * y, seeded with seed, for its targets. xs == NULL: the targets are the
 * leaves y depends on, each given its gradient (leaf->grad) as soon as it is
 * final; else the targets are xs, their gradients returned in grads (owned
 * refs). The seed's first nbatch dims are a batch of seeds (batch.c's), kept
 * in front of every gradient. */
static int run_backward(const char *op, nd_tensor *y, nd_tensor *seed, bool create_graph, int n,
                        nd_tensor *const *xs, nd_tensor **grads, int nbatch) {
    /* a view whose base was written since its history was made (see nd__record) */
    if (nd__view_is_stale(y)) nd__refresh_view(y);
    if (!y->requires_grad)
        return nd__fail_int_as(ND_ERR_NOT_DIFFERENTIABLE,
                               "%s: the tensor does not require a gradient (no input of the "
                               "computation had nd_set_requires_grad(t, true))",
                               op);
    if (seed && seed->dtype != y->dtype) seed = nd_to(seed, y->dtype);
    if (!seed) return nd__null_input_int(op); /* keeps the reason it could not be made */

    node_list order = {0};
    target_list targets = {0};
    nd_tensor **slots = NULL;
    int *by_step = NULL;
    int rc = 0;
    int cap = 0;
    if (y->node && !topological_order(y->node, &order, xs ? NULL : &targets)) rc = -1;
    if (rc == 0 && !xs && !y->node && !push_target(&targets, y, &cap)) rc = -1; /* y a leaf */
    for (int i = 0; rc == 0 && xs && i < n; i++)
        if (!push_target(&targets, xs[i], &cap)) rc = -1;
    if (rc == 0) {
        sort_targets(&targets);
        targets.leaves_only = true;
        for (int i = 0; i < targets.count; i++) targets.leaves_only &= !targets.items[i].t->node;
        if (!xs) /* the leaves' gradients need a slot each, in any order */
            for (int i = 0; i < targets.count; i++) targets.items[i].slot = i;
    }
    if (rc == 0) {
        slots = xs ? grads : calloc((size_t)(targets.count ? targets.count : 1), sizeof *slots);
        if (!slots) rc = -1;
    }
    if (rc) {
        free(order.items);
        free(targets.items);
        return nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory ordering the graph", op);
    }
    mark_needed(&order, &targets);
    if (!xs && !(by_step = final_order(&targets))) {
        free(order.items);
        free(targets.items);
        free(slots);
        return nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory ordering the leaves", op);
    }

    bool previous = nd_set_grad_enabled(create_graph);
    const target *root = find_target(&targets, y);
    if (root) rc = accumulate(&slots[root->slot], seed);
    if (rc == 0 && y->node) rc = accumulate(&y->node->grad_acc, seed);
    int next = 0; /* by_step: the next leaf to be final */
    for (; !xs && rc == 0 && next < targets.count &&
           targets.items[by_step[next]].last_step == SIZE_MAX;
         next++) /* y itself, a leaf: final before any step */
        rc = deliver(&targets.items[by_step[next]], slots, create_graph);
    for (size_t k = order.count; k-- > 0 && rc == 0;) {
        nd_node *node = order.items[k];
        if (node->grad_acc && (node->needed || node == y->node))
            rc = run_node(node, create_graph, &targets, slots, nbatch, seed->shape);
        if (node->grad_acc) {
            nd_release(node->grad_acc);
            node->grad_acc = NULL;
        }
        for (;
             !xs && rc == 0 && next < targets.count && targets.items[by_step[next]].last_step == k;
             next++)
            rc = deliver(&targets.items[by_step[next]], slots, create_graph);
    }
    for (size_t k = 0; k < order.count; k++) /* after an error, drop what is left */
        if (order.items[k]->grad_acc) {
            nd_release(order.items[k]->grad_acc);
            order.items[k]->grad_acc = NULL;
        }
    /* nd_gradient: a tensor given twice gets its gradient twice */
    for (int i = 0; xs && rc == 0 && i < n; i++) {
        const target *t = find_target(&targets, xs[i]);
        if (t->slot != i && slots[t->slot]) grads[i] = nd_retain(slots[t->slot]);
    }
    if (!xs) {
        for (int i = 0; i < targets.count; i++)
            if (slots[i]) nd_release(slots[i]);
        free(slots);
    }
    nd_set_grad_enabled(previous);
    free(by_step);
    free(targets.items);
    free(order.items);
    return rc;
}

int nd_backward_with(nd_tensor *y, nd_tensor *seed) {
    ND_CHECK_INT("nd_backward_with", y, seed);
    if (!nd__same_shape(y, seed))
        return nd__fail_int_as(ND_ERR_SHAPE,
                               "nd_backward_with: seed of shape %s does not match the output's "
                               "shape %s",
                               nd__tshape(seed), nd__tshape(y));
    nd_scope_begin(); /* every temporary of the pass dies here; leaves own their grads */
    int rc = run_backward("nd_backward", y, seed, false, 0, NULL, NULL, 0);
    nd_scope_end();
    return rc;
}

int nd_backward(nd_tensor *y) {
    if (nd__bad_tensor("nd_backward", y)) return -1;
    if (y->numel != 1)
        return nd__fail_int_as(
            ND_ERR_SHAPE,
            "nd_backward: the output has shape %s; backward needs exactly one "
            "element (reduce it with nd_sum, or pass a seed to nd_backward_with)",
            nd__tshape(y));
    nd_scope_begin();
    int rc = run_backward("nd_backward", y, nd_ones_like(y), false, 0, NULL, NULL, 0);
    nd_scope_end();
    return rc;
}

/* Without create_graph a gradient is handed back without its graph, but on
 * dual inputs it keeps its tangent (computed with the graph off, so it has
 * none): PyTorch's autograd.grad does the same, which is what makes a
 * Hessian-vector product one forward-over-reverse call without create_graph.
 * nd_detach itself drops the tangent, as PyTorch's detach. */
static nd_tensor *detach_keeping_tangent(nd_tensor *g) {
    nd_tensor *d = nd_detach(g);
    if (d && g->tangent) d->tangent = nd_retain(g->tangent);
    return d;
}

/* nd__gradients_seeded's pass, for a seed whose first nbatch dims are a batch
 * of seeds (0: one seed shaped like y). */
static int gradients(const char *op, nd_tensor *y, nd_tensor *seed, int nbatch, int n,
                     nd_tensor *const *xs, nd_tensor **grads, bool create_graph) {
    if (nd__bad_tensor(op, y) || nd__bad_tensor(op, seed)) return -1;
    if (n <= 0 || !xs || !grads) return nd__fail_int("%s: no inputs given", op);
    for (int i = 0; i < n; i++) {
        grads[i] = NULL;
        if (nd__bad_tensor(op, xs[i])) return -1;
        if (!xs[i]->requires_grad)
            return nd__fail_int_as(ND_ERR_NOT_DIFFERENTIABLE,
                                   "%s: input %d (shape %s) does not require a gradient", op, i,
                                   nd__tshape(xs[i]));
    }
    /* a batch of seeds gives a batch of gradients: the same leading dims */
    int nb = nbatch;
    int64_t shape[ND_MAX_DIMS];
    bool seed_fits = nb >= 0 && seed->ndim == nb + y->ndim &&
                     !memcmp(seed->shape + nb, y->shape, sizeof(int64_t) * (size_t)y->ndim);
    if (seed_fits && nb) memcpy(shape, seed->shape, sizeof(int64_t) * (size_t)nb);
    if (!seed_fits)
        return nd__fail_int_as(ND_ERR_SHAPE,
                               "%s: seed of shape %s does not match the output's shape %s", op,
                               nd__tshape(seed), nd__tshape(y));
    nd_tensor *owned_small[4] = {0};
    nd_tensor **owned = n <= 4 ? owned_small : calloc((size_t)n, sizeof *owned);
    if (!owned) return nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory", op);
    nd_scope_begin();
    /* y that does not depend on any input: every gradient is zero */
    int rc = y->requires_grad ? run_backward(op, y, seed, create_graph, n, xs, owned, nb) : 0;
    for (int i = 0; i < n && rc == 0; i++) {
        /* x that y does not depend on: a zero gradient, as torch's materialize_grads */
        nd_tensor *g = owned[i];
        if (!g) {
            memcpy(shape + nb, xs[i]->shape, sizeof(int64_t) * (size_t)xs[i]->ndim);
            g = nd_zeros(xs[i]->dtype, nb + xs[i]->ndim, shape);
        }
        if (g && !create_graph) g = detach_keeping_tangent(g);
        grads[i] = nd_keep(g); /* NULL when g is, or when out of memory */
        if (!grads[i]) rc = -1;
    }
    nd_scope_end();
    for (int i = 0; i < n; i++)
        if (owned[i]) nd_release(owned[i]);
    if (owned != owned_small) free(owned);
    if (rc) {
        for (int i = 0; i < n; i++) grads[i] = NULL;
    }
    return rc;
}

int nd__gradients_seeded(const char *op, nd_tensor *y, nd_tensor *seed, int n, nd_tensor *const *xs,
                         nd_tensor **grads, bool create_graph) {
    return gradients(op, y, seed, 0, n, xs, grads, create_graph);
}

int nd__gradients_batched(const char *op, nd_tensor *y, nd_tensor *seeds, int nbatch, int n,
                          nd_tensor *const *xs, nd_tensor **grads) {
    return gradients(op, y, seeds, nbatch, n, xs, grads, false);
}

int nd_gradients(nd_tensor *y, int n, nd_tensor *const *xs, nd_tensor **grads, bool create_graph) {
    if (nd__bad_tensor("nd_gradient", y)) return -1;
    if (y->numel != 1)
        return nd__fail_int_as(ND_ERR_SHAPE,
                               "nd_gradient: y has shape %s; it must have exactly one element",
                               nd__tshape(y));
    nd_scope_begin();
    nd_tensor *seed = nd_ones_like(y);
    int rc = nd__gradients_seeded("nd_gradient", y, seed, n, xs, grads, create_graph);
    for (int i = 0; i < n && rc == 0; i++)
        if (!nd_keep(grads[i])) rc = -1; /* out of memory */
    nd_scope_end();
    if (rc) {
        for (int i = 0; i < n; i++) grads[i] = NULL;
    }
    return rc;
}

nd_tensor *nd_gradient(nd_tensor *y, nd_tensor *x, bool create_graph) {
    nd_tensor *g = NULL;
    if (nd_gradients(y, 1, &x, &g, create_graph)) return NULL;
    return g;
}
