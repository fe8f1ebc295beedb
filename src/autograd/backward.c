/* The reverse pass: order the graph once, then run each op's VJP from the
 * output back to the inputs, summing gradients where paths meet. */
#include "../core/internal.h"

#include <stdlib.h>

static _Thread_local uint64_t visit_epoch;
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

/* Post-order of the nodes reachable from root (inputs before the nodes that use
 * them), without recursion: graphs of 10^5 ops are ordinary in loops. */
static bool topological_order(nd_node *root, node_list *order) {
    uint64_t epoch = ++visit_epoch;
    node_list stack = {0};
    bool ok = list_push(&stack, root);
    root->visit = epoch;
    root->pending = 0; /* index of the next input to visit */
    while (ok && stack.count) {
        nd_node *n = stack.items[stack.count - 1];
        if (n->pending < n->nin) {
            nd_node *child = n->in_node[n->pending++];
            if (child && child->visit != epoch) {
                child->visit = epoch;
                child->pending = 0;
                ok = list_push(&stack, child);
            }
        } else {
            stack.count--;
            ok = list_push(order, n);
        }
    }
    free(stack.items);
    return ok;
}

static int find_target(nd_tensor *t, int ntargets, nd_tensor *const *targets) {
    for (int i = 0; i < ntargets; i++)
        if (targets[i] == t) return i;
    return -1;
}

/* Which nodes lead to something that wants a gradient: leaves that require one
 * (for nd_backward) or the targets (for nd_gradient). Other branches are pruned. */
static void mark_needed(node_list *order, int ntargets, nd_tensor *const *targets) {
    for (size_t k = 0; k < order->count; k++) {
        nd_node *n = order->items[k];
        n->needed = false;
        for (int i = 0; i < n->nin && !n->needed; i++) {
            nd_node *node;
            nd_tensor *in = graph_input(n, i, &node);
            if (!in) continue;
            if (ntargets ? find_target(in, ntargets, targets) >= 0 : !node)
                n->needed = true;
            else if (node && node->needed)
                n->needed = true;
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
                return nd__fail_int(
                    "nd_backward: input %d of '%s' (shape %s) was modified in place after the op "
                    "used it (version %lu, saved at %lu); compute gradients before changing it, "
                    "or change a clone",
                    i, n->op->name, nd__tshape(in), now, n->in_version[i]);
        }
    if (n->out_data && atomic_load(&n->out_data->storage->version) != n->out_version)
        return nd__fail_int("nd_backward: the output of '%s' (shape %s) was modified in place "
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

static int run_node(nd_node *n, bool create_graph, int ntargets, nd_tensor *const *targets,
                    nd_tensor **target_grads) {
    nd_tensor *g = n->grad_acc;
    if (check_versions(n)) return -1;
    nd_tensor *gin_small[3] = {0};
    nd_tensor **gin = n->nin <= 3 ? gin_small : calloc((size_t)n->nin, sizeof *gin);
    if (!gin) return nd__fail_int("nd_backward: out of memory");
    unsigned long errors = nd__error_count();
    n->op->vjp(n, saved_output(n, create_graph), g, gin);
    /* a rule that raised an error failed, whatever it left in gin */
    int rc = nd__error_count() == errors ? 0 : -1;
    for (int i = 0; i < n->nin && rc == 0; i++) {
        nd_node *node;
        nd_tensor *in = graph_input(n, i, &node);
        if (!gin[i] || !in) continue;
        if (node && !node->needed && (!ntargets || find_target(in, ntargets, targets) < 0))
            continue;
        nd_tensor *gi = nd__sum_to(gin[i], in->ndim, in->shape); /* g itself when it fits */
        if (gi && gi->dtype != in->dtype) gi = nd_to(gi, in->dtype);
        if (!gi) {
            rc = -1;
            break;
        }
        int t = ntargets ? find_target(in, ntargets, targets) : -1;
        if (t >= 0) rc = accumulate(&target_grads[t], gi);
        /* past a target only when another target lies further back */
        if (rc == 0 && node && (t < 0 || node->needed))
            rc = accumulate(&node->grad_acc, gi);
        else if (rc == 0 && !node && !ntargets)
            rc = accumulate_leaf(in, gi, create_graph);
    }
    if (gin != gin_small) free(gin);
    /* A VJP that failed leaves its error; a missing gradient for a needed input is
     * only an error when one was raised. */
    return rc;
}

/* For the leaf hook: each leaf with the step of the pass after which its
 * gradient is final, the last node (in backward order) that takes it. The
 * pass runs order[k] for k going down, so that is the smallest k. */
typedef struct {
    nd_tensor *leaf;
    size_t last_step;
} leaf_use;

static int by_leaf_then_step(const void *a, const void *b) {
    const leaf_use *x = a, *y = b;
    if (x->leaf != y->leaf) return (uintptr_t)x->leaf < (uintptr_t)y->leaf ? -1 : 1;
    return (x->last_step > y->last_step) - (x->last_step < y->last_step);
}

static int by_step_descending(const void *a, const void *b) {
    const leaf_use *x = a, *y = b;
    return (x->last_step < y->last_step) - (x->last_step > y->last_step);
}

/* The leaves of the nodes that run, in the order their gradients become final. */
static bool final_leaf_order(const node_list *order, const nd_node *root, leaf_use **out,
                             size_t *count) {
    size_t n = 0, cap = 0;
    leaf_use *uses = NULL;
    for (size_t k = 0; k < order->count; k++) {
        const nd_node *node = order->items[k];
        if (!node->needed && node != root) continue;
        for (int i = 0; i < node->nin; i++) {
            nd_tensor *in = node->in[i];
            if (!in || !in->requires_grad || in->node) continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                leaf_use *grown = realloc(uses, cap * sizeof *uses);
                if (!grown) {
                    free(uses);
                    return false;
                }
                uses = grown;
            }
            uses[n++] = (leaf_use){in, k};
        }
    }
    if (n) qsort(uses, n, sizeof *uses, by_leaf_then_step);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) /* the first of each leaf has its smallest step */
        if (i == 0 || uses[i].leaf != uses[i - 1].leaf) uses[distinct++] = uses[i];
    if (distinct) qsort(uses, distinct, sizeof *uses, by_step_descending);
    *out = uses;
    *count = distinct;
    return true;
}

/* A batched pass (see internal.h) is only right when every op it runs has a
 * rule that takes the batch dims, and only kind when the batch of every
 * intermediate fits in memory: checked on the whole graph before starting. */
static bool graph_takes_batch(nd_tensor *y, const node_list *order) {
    if (!nd__batch_fits(y->ndim, y->shape)) return false;
    for (size_t k = 0; k < order->count; k++) {
        const nd_node *n = order->items[k];
        if (!n->needed && n != y->node) continue; /* never run */
        if (!(n->op->flags & ND_BATCHABLE)) return false;
        for (int i = 0; i < n->nin; i++)
            if (n->in[i] && !nd__batch_fits(n->in[i]->ndim, n->in[i]->shape)) return false;
    }
    return true;
}

/* The pass shared by nd_backward and nd_gradient. targets == NULL: accumulate
 * into leaves. Gradients of targets are returned in target_grads (owned refs). */
static int run_backward(const char *op, nd_tensor *y, nd_tensor *seed, bool create_graph,
                        int ntargets, nd_tensor *const *targets, nd_tensor **target_grads) {
    /* a view whose base was written since its history was made (see nd__record) */
    if (y->base && atomic_load(&y->storage->version) != y->base_version) nd__refresh_view(y);
    if (!y->requires_grad)
        return nd__fail_int("%s: the tensor does not require a gradient (no input of the "
                            "computation had nd_set_requires_grad(t, true))",
                            op);
    if (seed && seed->dtype != y->dtype) seed = nd_to(seed, y->dtype);
    if (!seed) return nd__null_input_int(op); /* keeps the reason it could not be made */
    int t = ntargets ? find_target(y, ntargets, targets) : -1;
    if (t >= 0) return accumulate(&target_grads[t], seed);
    if (!y->node) {
        if (ntargets) return 0;
        int rc = accumulate_leaf(y, seed, create_graph);
        if (rc == 0 && leaf_hook) leaf_hook(y, leaf_hook_ctx);
        return rc;
    }

    node_list order = {0};
    if (!topological_order(y->node, &order)) {
        free(order.items);
        return nd__fail_int("%s: out of memory ordering the graph", op);
    }
    mark_needed(&order, ntargets, targets);
    if (nd__batch_dims(ND_REVERSE, NULL) && !graph_takes_batch(y, &order)) {
        free(order.items);
        return 1; /* not an error: the caller runs one pass per seed instead */
    }
    size_t nleaves = 0, next_leaf = 0;
    leaf_use *leaves = NULL;
    if (leaf_hook && !ntargets && !final_leaf_order(&order, y->node, &leaves, &nleaves)) {
        free(order.items);
        return nd__fail_int("%s: out of memory ordering the leaves", op);
    }
    bool previous = nd_set_grad_enabled(create_graph);
    int rc = accumulate(&y->node->grad_acc, seed);
    for (size_t k = order.count; k-- > 0 && rc == 0;) {
        nd_node *n = order.items[k];
        if (n->grad_acc && (n->needed || n == y->node))
            rc = run_node(n, create_graph, ntargets, targets, target_grads);
        if (n->grad_acc) {
            nd_release(n->grad_acc);
            n->grad_acc = NULL;
        }
        for (; rc == 0 && next_leaf < nleaves && leaves[next_leaf].last_step == k; next_leaf++)
            if (leaves[next_leaf].leaf->grad) leaf_hook(leaves[next_leaf].leaf, leaf_hook_ctx);
    }
    free(leaves);
    for (size_t k = 0; k < order.count; k++) /* after an error, drop what is left */
        if (order.items[k]->grad_acc) {
            nd_release(order.items[k]->grad_acc);
            order.items[k]->grad_acc = NULL;
        }
    nd_set_grad_enabled(previous);
    free(order.items);
    return rc;
}

int nd_backward_with(nd_tensor *y, nd_tensor *seed) {
    ND_CHECK_INT("nd_backward_with", y, seed);
    if (!nd__same_shape(y, seed))
        return nd__fail_int("nd_backward_with: seed of shape %s does not match the output's "
                            "shape %s",
                            nd__tshape(seed), nd__tshape(y));
    nd_scope_begin(); /* every temporary of the pass dies here; leaves own their grads */
    int rc = run_backward("nd_backward", y, seed, false, 0, NULL, NULL);
    nd_scope_end();
    return rc;
}

int nd_backward(nd_tensor *y) {
    if (nd__bad_tensor("nd_backward", y)) return -1;
    if (y->numel != 1)
        return nd__fail_int("nd_backward: the output has shape %s; backward needs exactly one "
                            "element (reduce it with nd_sum, or pass a seed to nd_backward_with)",
                            nd__tshape(y));
    nd_scope_begin();
    int rc = run_backward("nd_backward", y, nd_ones_like(y), false, 0, NULL, NULL);
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

int nd__gradients_seeded(const char *op, nd_tensor *y, nd_tensor *seed, int n, nd_tensor *const *xs,
                         nd_tensor **grads, bool create_graph) {
    if (nd__bad_tensor(op, y) || nd__bad_tensor(op, seed)) return -1;
    if (n <= 0 || !xs || !grads) return nd__fail_int("%s: no inputs given", op);
    for (int i = 0; i < n; i++) {
        grads[i] = NULL;
        if (nd__bad_tensor(op, xs[i])) return -1;
        if (!xs[i]->requires_grad)
            return nd__fail_int("%s: input %d (shape %s) does not require a gradient", op, i,
                                nd__tshape(xs[i]));
    }
    /* in a batched pass the seed is a batch of seeds, and so is every gradient */
    int64_t shape[ND_MAX_DIMS];
    int nb = nd__batch_dims(ND_REVERSE, shape);
    bool seed_fits = seed->ndim == nb + y->ndim &&
                     !memcmp(seed->shape, shape, sizeof(int64_t) * (size_t)nb) &&
                     !memcmp(seed->shape + nb, y->shape, sizeof(int64_t) * (size_t)y->ndim);
    if (!seed_fits)
        return nd__fail_int("%s: seed of shape %s does not match the output's shape %s", op,
                            nd__tshape(seed), nd__tshape(y));
    nd_tensor *owned_small[4] = {0};
    nd_tensor **owned = n <= 4 ? owned_small : calloc((size_t)n, sizeof *owned);
    if (!owned) return nd__fail_int("%s: out of memory", op);
    nd_scope_begin();
    /* y that does not depend on any input: every gradient is zero */
    int rc = y->requires_grad ? run_backward(op, y, seed, create_graph, n, xs, owned) : 0;
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

int nd_gradients(nd_tensor *y, int n, nd_tensor *const *xs, nd_tensor **grads, bool create_graph) {
    if (nd__bad_tensor("nd_gradient", y)) return -1;
    if (y->numel != 1)
        return nd__fail_int("nd_gradient: y has shape %s; it must have exactly one element",
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
