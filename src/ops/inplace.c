/* Recording in-place writes, as PyTorch does (its CopySlices): after
 * nd_copy_(dst, src) with a src that requires a gradient, dst is part of the
 * graph. When dst is a view (a slice of a buffer, say), the write is
 * recorded on the tensor it views, its base: the base becomes
 *     new = old with the region of dst replaced by (or added to) src,
 * an op of two inputs, the old base and src, and dst becomes the region of
 * the new base again. The old base is a header that takes over the base's
 * history before the write: ops recorded earlier keep their gradients
 * flowing there (each node remembers the node its inputs had, see nd_node).
 *
 * The rules never read a value, only where the region lies:
 *     copy:  ōld = ḡ outside the region (0 inside),   s̄rc = ḡ[region]
 *     add:   ōld = ḡ,                                  s̄rc = α·ḡ[region]
 *     scale: ōld = ḡ scaled by s inside the region
 *     fill:  ōld = ḡ outside the region
 * ḡ[region] and its transpose (scattering into zeros) are two ops of their
 * own, each the other's VJP, so second derivatives work too.
 *
 * A base need not be contiguous (e.g. a detached transpose): as PyTorch's
 * CopySlices, a gradient is then laid out as the base is (its strides)
 * before the region is taken out of it by the view's strides and offset.
 *
 * A view of the base made before the write, used after it, is given the
 * history "the region of the new base" when next used (nd__refresh_view), as
 * PyTorch regenerates a view's grad_fn; ops that used it before keep the old.
 * An expanded view (one element read several times) is a region too: its
 * gradient is summed where it repeats (region_scatter).
 *
 * An op in src's history that used the base would close a cycle of
 * references through the write: see cut_cycles. */
#include "elementwise.h"

#include <math.h>
#include <stdlib.h>

/* Where a region lies in its base (of shape base_shape, laid out with
 * base_strides from offset 0). */
typedef struct {
    int ndim;
    int64_t shape[ND_MAX_DIMS], strides[ND_MAX_DIMS], offset;
    int base_ndim;
    int64_t base_shape[ND_MAX_DIMS], base_strides[ND_MAX_DIMS];
    nd_dtype dtype;
    nd_inplace_kind kind;
    double alpha; /* add: src's factor; scale: the factor */
    /* A view given this region as its new history: the node it had before
     * (owned). Ops that used the view remember that node without owning it
     * (nd_node's in_node): the view's new node keeps it alive for them. */
    nd_node *keep;
} region;

static region *region_copy(const region *r) {
    region *copy = malloc(sizeof *copy);
    if (copy) *copy = *r;
    return copy;
}

static void region_free(void *p) {
    region *r = p;
    if (r->keep) nd__node_release(r->keep);
    free(r);
}

static nd_params region_params(const region *r) {
    region *copy = region_copy(r);
    if (copy) copy->keep = NULL;
    return (nd_params){.ptr = copy, .free_ptr = region_free};
}

static nd_tensor *region_of(nd_tensor *t, const region *r);
static nd_tensor *region_scatter(nd_tensor *v, const region *r);

/* ------------------------------------------------ t[region] and its transpose */

static void region_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    gin[0] = region_scatter(g, n->p.ptr);
}
static nd_tensor *region_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return tin[0] ? region_of(tin[0], n->p.ptr) : NULL;
}
static const nd_op REGION = {
    .name = "inplace_region",
    .vjp = region_vjp,
    .jvp = region_jvp,
    .flags = 0,
    .vjp_formula = "g scattered into the region of zeros of the base's shape",
    .jvp_formula = "dbase[region]",
};

/* A tensor of the base's shape laid out as the base is (its strides, from
 * offset 0 of its own storage), filled with `value` (NaN: left unfilled). */
static nd_tensor *in_base_layout(nd_dtype dtype, const region *r, double value) {
    int64_t span = 1; /* elements from the first to the last, gaps included */
    for (int d = 0; d < r->base_ndim; d++) span += (r->base_shape[d] - 1) * r->base_strides[d];
    for (int d = 0; d < r->base_ndim; d++)
        if (r->base_shape[d] == 0) span = 0;
    nd_tensor *flat = isnan(value) ? nd__empty(dtype, 1, &span) : nd_full(dtype, 1, &span, value);
    return flat ? nd__alias(flat, r->base_ndim, r->base_shape, r->base_strides, 0) : NULL;
}

/* Whether t, of the base's shape, is laid out as the base is. */
static bool in_layout_of_base(const nd_tensor *t, const region *r) {
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] > 1 && t->strides[d] != r->base_strides[d]) return false;
    return true;
}

/* The region's elements of t, a tensor of the base's shape: a view of t when
 * it is laid out as the base is, else of a copy laid out so. */
static nd_tensor *region_of(nd_tensor *t, const region *r) {
    if (!t) return NULL;
    nd_tensor *laid = t;
    if (!in_layout_of_base(t, r)) {
        laid = in_base_layout(t->dtype, r, NAN);
        if (!laid || nd__copy_into("in-place write", laid, t)) return NULL;
    }
    nd_tensor *out = nd__view(laid, r->ndim, r->shape, r->strides, laid->offset + r->offset);
    if (!out || !nd__needs_record(1, &t)) return out;
    nd_params p = region_params(r);
    if (!p.ptr) return nd__fail_as(ND_ERR_NOMEM, "in-place write: out of memory");
    return nd__record(&REGION, out, 1, &t, &p);
}

static void scatter_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    gin[0] = region_of(g, n->p.ptr); /* the engine sums it to v's shape */
}
static nd_tensor *scatter_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return tin[0] ? region_scatter(tin[0], n->p.ptr) : NULL;
}
static const nd_op SCATTER = {
    .name = "inplace_region_backward",
    .vjp = scatter_vjp,
    .jvp = scatter_jvp,
    .flags = 0,
    .vjp_formula = "gg[region]",
    .jvp_formula = "zeros with dv in the region",
};

/* Zeros of the base's shape with v (broadcast) in the region. A region that
 * reads one element several times (a view of an expanded view: stride 0)
 * takes the sum of what lands there, the transpose of reading it: v is
 * summed over those dims first, as PyTorch's expand backward. */
static nd_tensor *region_scatter(nd_tensor *v, const region *r) {
    if (!v) return NULL;
    region once = *r;
    bool repeats = false;
    for (int d = 0; d < r->ndim; d++) repeats |= r->shape[d] > 1 && r->strides[d] == 0;
    if (repeats) {
        v = nd_expand(v, r->ndim, r->shape); /* v may come broadcast */
        for (int d = 0; d < r->ndim; d++)
            if (r->shape[d] > 1 && r->strides[d] == 0) {
                v = nd_sum(v, d, true);
                once.shape[d] = 1;
            }
        if (!v) return NULL;
        r = &once;
    }
    nd_tensor *out = in_base_layout(v->dtype, r, 0.0);
    if (!out) return NULL;
    nd_tensor *window = nd__alias(out, r->ndim, r->shape, r->strides, r->offset);
    if (!window || nd__copy_into("in-place write", window, v)) return NULL;
    nd_params p = region_params(r);
    if (!p.ptr) return nd__fail_as(ND_ERR_NOMEM, "in-place write: out of memory");
    return nd__record(&SCATTER, out, 1, &v, &p);
}

/* Ones of the base's shape with `inside` in the region: what the old value's
 * gradient is multiplied by. */
static nd_tensor *region_mask(const region *r, double inside) {
    nd_tensor *mask = in_base_layout(r->dtype, r, 1.0);
    nd_tensor *window = mask ? nd__alias(mask, r->ndim, r->shape, r->strides, r->offset) : NULL;
    nd_tensor *value = nd_scalar(inside, r->dtype);
    if (!window || !value || nd__copy_into("in-place write", window, value)) return NULL;
    return mask;
}

/* ------------------------------------------------ the write */

static void write_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    const region *r = n->p.ptr;
    if (r->kind == ND_INPLACE_ADD)
        gin[0] = g;
    else
        gin[0] = nd_mul(g, region_mask(r, r->kind == ND_INPLACE_SCALE ? r->alpha : 0.0));
    if (n->nin < 2 || !n->in[1]->requires_grad) return;
    nd_tensor *part = region_of(g, r);
    gin[1] = r->kind == ND_INPLACE_ADD && r->alpha != 1 ? nd_mul_scalar(part, r->alpha) : part;
}
/* The new tangent from the old one and src's (NULL: zero). */
static nd_tensor *write_tangent(const region *r, nd_tensor *t_old, nd_tensor *t_src) {
    nd_tensor *kept = t_old;
    if (kept && r->kind != ND_INPLACE_ADD)
        kept = nd_mul(kept, region_mask(r, r->kind == ND_INPLACE_SCALE ? r->alpha : 0.0));
    nd_tensor *written = t_src;
    if (written && r->kind == ND_INPLACE_ADD && r->alpha != 1)
        written = nd_mul_scalar(written, r->alpha);
    return nd__tangent_sum(kept, written ? region_scatter(written, r) : NULL);
}
static nd_tensor *write_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    /* src's tangent may be of another dtype than the base it is written into */
    return nd__tangent_like(write_tangent(n->p.ptr, tin[0], n->nin > 1 ? tin[1] : NULL), out);
}
static const nd_op WRITE = {
    .name = "inplace_write",
    .vjp = write_vjp,
    .jvp = write_jvp,
    .flags = 0,
    .vjp_formula = "old: g (+=), or g with the region zeroed (copy, fill) or times α (*=); src: "
                   "g[region] (times α for +=)",
    .jvp_formula = "dold masked as in the VJP + dsrc (times α for +=) scattered into the region",
};

/* Gives view (dst of a write, or a view whose base was written) the history
 * "r of base"; with grad, its node before goes into the new node's keep.
 * -1 when recording failed (the view is left as it was). */
static int give_region(nd_tensor *view, nd_tensor *base, const region *r, bool grad) {
    nd_params p = region_params(r);
    if (!p.ptr) return nd__fail_int_as(ND_ERR_NOMEM, "in-place write: out of memory");
    nd_node *previous = grad ? view->node : NULL;
    bool required = view->requires_grad;
    if (previous) atomic_fetch_add(&previous->refcount, 1); /* the keep's reference */
    ((region *)p.ptr)->keep = previous;
    nd_tensor *tangent = view->tangent;
    view->tangent = NULL;
    if (grad) view->node = NULL, view->requires_grad = false;
    if (!nd__record(&REGION, view, 1, &base, &p)) { /* p (and its keep) are freed */
        view->node = previous, view->requires_grad = required, view->tangent = tangent;
        return -1;
    }
    if (previous) nd__node_release(previous); /* the view's own reference */
    if (tangent) nd_release(tangent);
    return 0;
}

/* ------------------------------------------------ the uses of base in src */

/* The write makes base's new node depend on src. An op in src's history that
 * used base (or a view of it) holds base, so base -> write -> src -> ... ->
 * base would be a cycle of references, never freed. As PyTorch, whose nodes
 * save the old version of a tensor rather than the tensor, each such use is
 * given a header of the value the op saw: `old` (which holds base's history
 * before the write) for base itself, and for a view of base a header of the
 * view that holds no base. Values, version checks and gradients stay as they
 * were: a node reaches its inputs' history through in_node, not the tensor. */
static nd_tensor *without_base(nd_tensor *t, nd_tensor *base, nd_tensor *old, nd_node *node) {
    if (t == base) return old;
    if (!t || t->base != base) return t;
    nd_tensor *same = nd__alias(t, t->ndim, t->shape, t->strides, t->offset);
    if (!same) return NULL;
    same->requires_grad = t->requires_grad;
    if (node) atomic_fetch_add(&node->refcount, 1);
    same->node = node;
    same->tangent = t->tangent ? nd_retain(t->tangent) : NULL;
    return same;
}

typedef struct {
    nd__node_set seen;
    nd_node **items;
    size_t count, cap;
} walk;

/* Puts child on the walk's stack unless seen, or NULL, or where the walk
 * stops (the history before the write). -1 when out of memory. */
static int walk_to(walk *w, nd_node *child, const nd_node *stop) {
    if (!child || child == stop) return 0;
    int added = nd__node_set_add(&w->seen, child);
    if (added <= 0) return added;
    if (w->count == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        nd_node **grown = realloc(w->items, cap * sizeof *grown);
        if (!grown) return -1;
        w->items = grown, w->cap = cap;
    }
    w->items[w->count++] = child;
    return 0;
}

/* Re-points the uses of base in src (*src itself, and every op of its history
 * newer than old's node, the history base had before: no op there can hold
 * base, as each earlier write did this). A view's region node leads on to
 * the node it keeps (the view's history before), which may use base too.
 * -1 when out of memory. */
static int cut_cycles(nd_tensor *base, nd_tensor *old, nd_tensor **src) {
    nd_node *start = (*src)->node;
    if (!(*src = without_base(*src, base, old, start))) return -1;
    walk w = {0};
    int rc = walk_to(&w, start, old->node);
    while (rc == 0 && w.count) {
        nd_node *n = w.items[--w.count];
        for (int i = 0; i < n->nin && rc == 0; i++) {
            nd_tensor *t = n->in[i];
            nd_tensor *u = without_base(t, base, old, n->in_node[i]);
            if (!u) {
                rc = -1;
                break;
            }
            if (u != t) {
                n->in[i] = nd_retain(u);
                nd_release(t);
            }
            rc = walk_to(&w, n->in_node[i], old->node);
        }
        if (rc == 0 && n->op == &REGION)
            rc = walk_to(&w, ((const region *)n->p.ptr)->keep, old->node);
    }
    free(w.items);
    nd__node_set_free(&w.seen);
    return rc;
}

int nd__check_inplace_target(const char *op, nd_tensor *dst) {
    nd_tensor *base = dst->base ? dst->base : dst;
    if (nd_is_grad_enabled() && base->requires_grad && !base->node)
        return nd__fail_int_as(ND_ERR_NOT_DIFFERENTIABLE,
                               "%s: a leaf tensor that requires a gradient (shape %s)%s cannot be "
                               "written in place: its gradient would be lost; do it with "
                               "nd_set_grad_enabled(false), or use the out-of-place op",
                               op, nd__tshape(base), base == dst ? "" : ", or a view of one,");
    return 0;
}

int nd__record_inplace(const char *op, nd_tensor *dst, nd_tensor *src, nd_inplace_kind kind,
                       double alpha) {
    nd_tensor *base = dst->base ? dst->base : dst;
    nd_tensor *ins[2] = {base, src};
    int nin = src ? 2 : 1;
    if (!nd__is_float(base->dtype) || !nd__needs_record(nin, ins)) return 0;
    bool grad = nd_is_grad_enabled() && (base->requires_grad || (src && src->requires_grad));
    for (int d = 0; d < base->ndim; d++)
        if (base->shape[d] > 1 && base->strides[d] == 0)
            return nd__fail_int("%s: the tensor written (shape %s) is a view of an expanded "
                                "tensor whose elements share memory; write into a copy "
                                "(nd_contiguous)",
                                op, nd__tshape(base));
    region r = {.ndim = dst->ndim,
                .offset = dst->offset - base->offset,
                .base_ndim = base->ndim,
                .dtype = base->dtype,
                .kind = kind,
                .alpha = alpha};
    memcpy(r.shape, dst->shape, sizeof(int64_t) * (size_t)dst->ndim);
    memcpy(r.strides, dst->strides, sizeof(int64_t) * (size_t)dst->ndim);
    memcpy(r.base_shape, base->shape, sizeof(int64_t) * (size_t)base->ndim);
    memcpy(r.base_strides, base->strides, sizeof(int64_t) * (size_t)base->ndim);
    /* the old value's header takes over the base's tangent, and its history
     * when this write is recorded in the graph (else the graph stays as is) */
    nd_tensor *old = nd__alias(base, base->ndim, base->shape, base->strides, base->offset);
    nd_params p = region_params(&r);
    if (!old || !p.ptr) {
        free(p.ptr);
        return nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory recording the write", op);
    }
    old->tangent = base->tangent, base->tangent = NULL;
    if (grad) {
        old->node = base->node, base->node = NULL;
        old->requires_grad = base->requires_grad, base->requires_grad = false;
    }
    ins[0] = old;
    if (grad && src && cut_cycles(base, old, &ins[1])) {
        free(p.ptr);
        return nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory recording the write", op);
    }
    if (!nd__record(&WRITE, base, nin, ins, &p)) return -1;
    if (dst == base) return 0;
    /* the view shows the new base's region */
    if (give_region(dst, base, &r, grad)) return -1;
    dst->base_version = atomic_load(&base->storage->version);
    return 0;
}

void nd__refresh_view(nd_tensor *view) {
    nd_tensor *base = view->base;
    bool grad = nd_is_grad_enabled() && base->requires_grad;
    if (!grad && !base->tangent) return; /* nothing to follow: refresh when it matters */
    view->base_version = atomic_load(&base->storage->version);
    /* a view that repeats elements (expanded) is a region too, its gradient
     * summed where it repeats (region_scatter); a base whose own elements
     * share memory cannot have been written in place */
    for (int d = 0; d < base->ndim; d++)
        if (base->shape[d] > 1 && base->strides[d] == 0) return;
    if (!nd__is_float(base->dtype)) return;
    region r = {.ndim = view->ndim,
                .offset = view->offset - base->offset,
                .base_ndim = base->ndim,
                .dtype = base->dtype,
                .kind = ND_INPLACE_COPY};
    memcpy(r.shape, view->shape, sizeof(int64_t) * (size_t)view->ndim);
    memcpy(r.strides, view->strides, sizeof(int64_t) * (size_t)view->ndim);
    memcpy(r.base_shape, base->shape, sizeof(int64_t) * (size_t)base->ndim);
    memcpy(r.base_strides, base->strides, sizeof(int64_t) * (size_t)base->ndim);
    give_region(view, base, &r, grad);
}
