/* The tape: how each result remembers the op that made it (reverse mode), and
 * how tangents ride along with the values (forward mode). The lowest layer of
 * autograd, in core so that every op (src/ops) can record itself without
 * calling up: grad mode, the node of an op (nd_op, nd_node in internal.h),
 * nd__record, leaves and detaching. What needs ops to run (the backward
 * engine, tangent arithmetic, the transforms) is in src/autograd.
 *
 * Calls go up from here only for the op being recorded: its JVP rule
 * (op->jvp, a function pointer: forward mode computes tangents at record
 * time, the one intended call back), whose tangent must already have the
 * output's shape and dtype (checked here, not fitted); and for an input that
 * is a view whose base was written in place since, its new history
 * (nd__refresh_view, with the writes in ops/inplace.c), as PyTorch
 * regenerates a view's grad_fn when it is used. scripts/check-layers.sh
 * allows exactly that one symbol. */
#include "internal.h"

#include <stdlib.h>

static _Thread_local bool grad_disabled;    /* nd_set_grad_enabled(false) */
static _Thread_local bool forward_disabled; /* while a JVP rule runs */

bool nd_set_grad_enabled(bool on) {
    bool previous = !grad_disabled;
    grad_disabled = !on;
    return previous;
}

bool nd_is_grad_enabled(void) {
    return !grad_disabled;
}

bool nd__set_forward_enabled(bool on) {
    bool previous = !forward_disabled;
    forward_disabled = !on;
    return previous;
}

static bool wants_grad(int nin, nd_tensor *const *in) {
    if (grad_disabled) return false;
    for (int i = 0; i < nin; i++)
        if (in[i] && in[i]->requires_grad) return true;
    return false;
}

static bool has_tangent(int nin, nd_tensor *const *in) {
    if (forward_disabled) return false;
    for (int i = 0; i < nin; i++)
        if (in[i] && in[i]->tangent) return true;
    return false;
}

/* Ops this thread ran on a tensor that requires a gradient while gradients
 * were off: each is an op a graph recorded around it does not have. A
 * transform that works from the recorded graph in place of the ops'
 * tangents (batch.c's forward pass) asks whether any ran while f did:
 * forward mode would have carried tangents through them. */
static _Thread_local unsigned long off_graph;

unsigned long nd__ops_off_graph(void) {
    return off_graph;
}

/* The inputs' tangents as op's JVP sees them (NULL: zero). */
static void gather_tangents(int nin, nd_tensor *const *in, nd_tensor **tin) {
    for (int i = 0; i < nin; i++) tin[i] = in[i] ? in[i]->tangent : NULL;
}

bool nd__needs_record(int nin, nd_tensor *const *in) {
    if (wants_grad(nin, in) || has_tangent(nin, in)) return true;
    /* an op that skips nd__record is counted as nd__record would (off_graph) */
    for (int i = 0; grad_disabled && i < nin; i++)
        if (in[i] && in[i]->requires_grad) {
            off_graph++;
            break;
        }
    return false;
}

static nd_node *node_new(const nd_op *op, int nin, nd_tensor *const *in, const nd_params *p) {
    nd_node *n = nd__pool_alloc(sizeof *n);
    if (!n) return NULL;
    n->op = op;
    atomic_init(&n->refcount, 1);
    if (p)
        n->p = *p;
    else
        n->p = (nd_params){0};
    n->out_data = NULL;
    n->out_version = 0;
    n->grad_acc = NULL;
    n->needed = false;
    n->nin = nin;
    if (nin <= 3) {
        n->in = n->in_small;
        n->in_node = n->in_node_small;
        n->in_version = n->ver_small;
    } else {
        n->in = malloc((size_t)nin * sizeof *n->in);
        n->in_node = malloc((size_t)nin * sizeof *n->in_node);
        n->in_version = malloc((size_t)nin * sizeof *n->in_version);
        if (!n->in || !n->in_node || !n->in_version) {
            free(n->in);
            free(n->in_node);
            free(n->in_version);
            nd__pool_free(n, sizeof *n);
            return NULL;
        }
    }
    for (int i = 0; i < nin; i++) {
        n->in[i] = nd_retain(in[i]);
        n->in_node[i] = in[i] ? in[i]->node : NULL;
        n->in_version[i] = in[i] ? atomic_load(&in[i]->storage->version) : 0;
    }
    return n;
}

/* A tangent must look like the value it belongs to, same shape and dtype: the
 * JVP rule's contract (nd__tangent_like fits one an op hands on). A rule that
 * breaks it is named, rather than its tangent silently reshaped. */
static nd_tensor *check_tangent(const nd_op *op, nd_tensor *tangent, const nd_tensor *out) {
    if (!tangent || (tangent->dtype == out->dtype && nd__same_shape(tangent, out))) return tangent;
    return nd__fail_as(ND_ERR_SHAPE,
                       "%s: its forward rule (JVP) gave a tangent of shape %s (%s) for an output "
                       "of shape %s (%s)",
                       op->name, nd__tshape(tangent), nd_dtype_name(tangent->dtype),
                       nd__tshape(out), nd_dtype_name(out->dtype));
}

/* The output as a JVP rule sees it when gradients are recorded too: a
 * separate header already connected to the node, so that a tangent computed
 * from it (e.g. det's, det·tr(A⁻¹dA)) differentiates through the output in
 * reverse over forward, while out->tangent → tangent's graph → out would be
 * a reference cycle, never freed. */
static nd_tensor *output_for_jvp(nd_node *n, nd_tensor *out) {
    nd_tensor *connected = nd__alias(out, out->ndim, out->shape, out->strides, out->offset);
    if (!connected) return out;
    atomic_fetch_add(&n->refcount, 1);
    connected->node = n;
    connected->requires_grad = true;
    return connected;
}

nd_tensor *nd__record(const nd_op *op, nd_tensor *out, int nin, nd_tensor *const *in,
                      const nd_params *params) {
    if (!out) {
        if (params && params->free_ptr) params->free_ptr(params->ptr);
        return NULL;
    }
    /* one pass over the inputs (this runs for every op): whether any requires
     * a gradient or has a tangent, after refreshing a view whose base was
     * written in place since its history was made */
    bool any_grad = false, any_tangent = false;
    for (int i = 0; i < nin; i++) {
        nd_tensor *t = in[i];
        if (!t) continue;
        if (nd__view_is_stale(t)) nd__refresh_view(t);
        any_grad |= t->requires_grad;
        any_tangent |= t->tangent != NULL;
    }
    bool is_float = nd__is_float(out->dtype);
    bool grad = any_grad && !grad_disabled && is_float;
    if (any_grad && grad_disabled && is_float) off_graph++;
    bool forward = any_tangent && !forward_disabled && is_float;
    if (!grad && !forward) {
        if (params && params->free_ptr) params->free_ptr(params->ptr);
        return out;
    }
    nd_node *n = node_new(op, nin, in, params);
    if (!n) {
        if (params && params->free_ptr) params->free_ptr(params->ptr);
        return nd__fail_as(ND_ERR_NOMEM, "%s: out of memory recording the graph", op->name);
    }
    if (forward) {
        nd_tensor *tin_small[3];
        nd_tensor **tin = nin <= 3 ? tin_small : malloc((size_t)nin * sizeof *tin);
        if (!tin) {
            nd__node_release(n);
            return nd__fail_as(ND_ERR_NOMEM, "%s: out of memory", op->name);
        }
        nd_tensor *tangent = NULL;
        unsigned long errors = nd__error_count();
        gather_tangents(nin, in, tin);
        bool previous = nd__set_forward_enabled(false);
        /* the call back up to the op's own JVP rule (see the top) */
        tangent = check_tangent(op, op->jvp(n, grad ? output_for_jvp(n, out) : out, tin), out);
        nd__set_forward_enabled(previous);
        if (tin != tin_small) free(tin);
        /* A rule that raised an error failed, whatever it returned: a NULL from
         * a failed op inside it would otherwise pass for a zero tangent. */
        if (nd__error_count() != errors) {
            nd__node_release(n);
            return NULL;
        }
        if (tangent) out->tangent = nd_retain(tangent);
    }
    if (grad) {
        if (op->flags & ND_SAVES_OUTPUT) {
            nd_tensor *saved = nd__alias(out, out->ndim, out->shape, out->strides, out->offset);
            if (!saved) {
                nd__node_release(n);
                return nd__fail_as(ND_ERR_NOMEM, "%s: out of memory recording the graph", op->name);
            }
            n->out_data = nd_retain(saved);
            n->out_version = atomic_load(&out->storage->version);
            /* The VJP computes with this value: on dual inputs it must carry
             * the output's tangent, or a gradient computed on duals (forward
             * over reverse, e.g. Hessian-vector products) loses d(out). */
            /* Detached: the tangent's own graph may lead back to this node. */
            if (n->out_data && out->tangent)
                n->out_data->tangent = nd_retain(nd_detach(out->tangent));
        }
        out->node = n;
        out->requires_grad = true;
    } else {
        nd__node_release(n);
    }
    return out;
}

/* ----------------------------------------------------- leaves and duals */

nd_tensor *nd_set_requires_grad(nd_tensor *t, bool on) {
    if (nd__bad_tensor("nd_set_requires_grad", t)) return NULL;
    if (on && !nd__is_float(t->dtype))
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_set_requires_grad: only floating-point tensors can require "
                           "gradients, got %s",
                           nd_dtype_name(t->dtype));
    if (!on && t->node)
        return nd__fail_as(ND_ERR_NOT_DIFFERENTIABLE,
                           "nd_set_requires_grad: cannot turn off gradients of a non-leaf tensor "
                           "(made by '%s'); use nd_detach",
                           t->node->op->name);
    t->requires_grad = on;
    return t;
}

bool nd_requires_grad(const nd_tensor *t) {
    return t && t->requires_grad;
}
bool nd_is_leaf(const nd_tensor *t) {
    return t && !t->node;
}
const char *nd_grad_fn_name(const nd_tensor *t) {
    return t && t->node ? t->node->op->name : NULL;
}
nd_tensor *nd_detach(nd_tensor *t) {
    if (nd__bad_tensor("nd_detach", t)) return NULL;
    return nd__alias(t, t->ndim, t->shape, t->strides, t->offset);
}
