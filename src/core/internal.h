/*
 * internal.h — what the files of libnd share and no user sees: nd_ext.h (the
 * tensor struct, errors, the op record, also used by nd's other libraries)
 * and what only libnd itself uses (views, layout, batching, the engine's
 * helpers, memory, locale). How an op is written: see nd_ext.h.
 */
#ifndef ND_INTERNAL_H
#define ND_INTERNAL_H

#include "../nd_ext.h" /* the tensor, errors and the op record, shared with nd's other libraries */

#include <locale.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>

/* A cursor over text that is not NUL-terminated (the headers of .npy and
 * safetensors files): nd__skip_space passes whitespace (JSON's and Python's
 * alike), nd__take consumes ch when it comes next. */
typedef struct {
    const char *at, *end;
} nd__cursor;
static inline void nd__skip_space(nd__cursor *c) {
    while (c->at < c->end && (*c->at == ' ' || *c->at == '\t' || *c->at == '\n' || *c->at == '\r'))
        c->at++;
}
static inline bool nd__take(nd__cursor *c, char ch) {
    nd__skip_space(c);
    if (c->at < c->end && *c->at == ch) {
        c->at++;
        return true;
    }
    return false;
}

/* Reverses the bytes of each of n elements of `size` bytes at data: the other
 * byte order (.npy files of either order, safetensors' little-endian data on
 * a big-endian host). Defined in npy.c. */
void nd__swap_bytes(void *data, int64_t n, size_t size);

/* ------------------------------------------------------------------ files */

/* Reads the rest of a file that cannot be mapped (a pipe, /dev/stdin) into one
 * malloc'd buffer, its length in *len; NULL with errno set on failure. */
unsigned char *nd__read_all(int fd, size_t *len);

/* ------------------------------------------------------- tensors, layout */

/* A new tensor header over base's storage (no autograd record, no tangent). */
nd_tensor *nd__alias(const nd_tensor *base, int ndim, const int64_t *shape, const int64_t *strides,
                     int64_t offset);
/* nd__alias for the view ops (slice, select, reshape, ...): the result also
 * remembers the tensor it views (its base), so that an in-place write into
 * the view can be recorded on the base, as PyTorch's CopySlices. */
nd_tensor *nd__view(nd_tensor *of, int ndim, const int64_t *shape, const int64_t *strides,
                    int64_t offset);
/* Recomputes numel and the contiguous flag after shape/strides change. */
void nd__finish_layout(nd_tensor *t);
/* Checks ndim (0 to ND_MAX_DIMS) and that shape is given when ndim > 0. */
bool nd__check_ndim(const char *op, int ndim, const int64_t *shape);
/* Checks ndim and sizes (non-negative, product fits) for op's messages. */
bool nd__check_shape(const char *op, int ndim, const int64_t *shape);
void nd__contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);
/* Normalises a possibly negative dim into [0, ndim); -1 (and an error naming op) when out of range.
 */
int nd__wrap_dim(const char *op, int dim, int ndim);
/* The dtype two tensors compute in, as torch.result_type: a 0-d tensor next
 * to one with dims only counts when it is of a higher kind (bool < integer <
 * float): f32 with a 0-d f64 stays f32, u8 with a 0-d i64 stays u8 (wrapping),
 * i32 with a 0-d f64 is f64. Two of the same rank promote as nd_promote_types. */
nd_dtype nd__result_type_mixed(const nd_tensor *a, const nd_tensor *b);
static inline nd_dtype nd__result_type(const nd_tensor *a, const nd_tensor *b) {
    /* the common case inline: same dtype, or both 0-d, or both with dims */
    if (a->dtype == b->dtype || (a->ndim == 0) == (b->ndim == 0))
        return a->dtype > b->dtype ? a->dtype : b->dtype; /* nd_promote_types */
    return nd__result_type_mixed(a, b);
}
/* Shape equality. */
bool nd__same_shape(const nd_tensor *a, const nd_tensor *b);
/* The broadcast of two shapes; false (and an error naming op and both shapes) when they do not. */
bool nd__broadcast_shape(const char *op, int na, const int64_t *sa, int nb, const int64_t *sb,
                         int *nout, int64_t *out);
/* Strides of t viewed as the (broadcast) shape (ndim, shape): 0 where broadcast. */
void nd__broadcast_strides(const nd_tensor *t, int ndim, const int64_t *shape, int64_t *strides);

/* A tensor for "weak" scalars (0-d, f64 tagged weak) is not needed: scalar ops
 * take a double and compute in the tensor's dtype (see ops/elementwise). */

/* ------------------ the op record (the tape, core/tape.c): what only libnd uses */

/* Batched Jacobians (autograd/batch.c, docs/BATCHING.md): one pass carrying
 * every seed at once, planned from the graph f recorded before any batched
 * work; the engine and the rules know nothing of it. */
uint64_t nd__batched_jacobians(void); /* Jacobians this thread built in one pass (tests) */
/* Matrix products this thread's batched passes ran on a DIAG batch as scaled
 * rows instead of a product (tests) */
uint64_t nd__diagonal_products(void);
/* The Jacobian of y with respect to xr (a leaf y's graph was recorded from)
 * as rows (numel y,) + xr.shape in one reverse pass; of f at xr as columns
 * (numel xr,) + f(xr).shape in one forward pass over the graph f records
 * (*y_out: f(xr), or NULL when f failed). NULL with *fallback set when the
 * pass cannot take the batch (not an error: one pass per seed instead), NULL
 * without it on an error. */
nd_tensor *nd__jacobian_rows(nd_tensor *y, nd_tensor *xr, bool *fallback);
nd_tensor *nd__jacobian_columns(nd_fn f, void *ctx, nd_tensor *xr, nd_tensor **y_out,
                                bool *fallback);
/* f(x) for a transform (functional.c): a NULL result always has a message
 * naming op, and a result that is not floating point is refused. */
nd_tensor *nd__call_fn(const char *op, nd_fn f, void *ctx, nd_tensor *x);

/* A set of nodes for a walk over a graph (node_set.c): the walk's own
 * visited set, no mark left on the nodes. Starts zeroed ({0}). */
typedef struct {
    nd_node **slots;
    size_t cap, count;
} nd__node_set;
/* 1 when n was added, 0 when it was there already, -1 when out of memory. */
int nd__node_set_add(nd__node_set *s, nd_node *n);
/* Room for n nodes without growing (a walk that knows about how many it
 * will see); false when out of memory. */
bool nd__node_set_reserve(nd__node_set *s, size_t n);
void nd__node_set_free(nd__node_set *s);

/* A view whose base was written in place since its history was made (see
 * ops/inplace.c): its history becomes "the region of the base" again, as
 * PyTorch regenerates a view's grad_fn. nd__record calls it for its inputs. */
void nd__refresh_view(nd_tensor *view);
/* A view whose base was written in place since its history was made: its
 * history must be refreshed (nd__refresh_view) before it is used. */
static inline bool nd__view_is_stale(const nd_tensor *t) {
    return t->base && atomic_load(&t->storage->version) != t->base_version;
}

/* Gradients of y (any shape) seeded with `seed` (shaped like y) with respect to
 * xs: the reverse pass behind nd_gradient, nd_vjp and nd_jacobian. */
int nd__gradients_seeded(const char *op, nd_tensor *y, nd_tensor *seed, int n, nd_tensor *const *xs,
                         nd_tensor **grads, bool create_graph);
/* The same pass with a batch of seeds (batch.c): seeds shaped (batch) + y.shape,
 * its first nbatch dims the batch, kept in front of every gradient, which is
 * then (batch) + x.shape. No create_graph. */
int nd__gradients_batched(const char *op, nd_tensor *y, nd_tensor *seeds, int nbatch, int n,
                          nd_tensor *const *xs, nd_tensor **grads);

/* Calls visit(node, ctx) for every node a backward pass from y to the targets
 * xs would run, in the pass's order, stopping at the first false: for a
 * transform that decides before the pass whether it can run its own way
 * (batch.c). 1 when every node passed, 0 when one did not, -1 (an error
 * naming op) when out of memory. */
int nd__graph_visit(const char *op, nd_tensor *y, int n, nd_tensor *const *xs,
                    bool (*visit)(const nd_node *node, void *ctx), void *ctx);

/* The node-free-tensor release used by the engine and the scope. */
void nd__node_release(nd_node *n);

/* Forward-mode switch: off while a JVP rule runs (its arithmetic carries no tangent). */
bool nd__set_forward_enabled(bool on);
/* How many ops this thread has run on a tensor that requires a gradient while
 * gradients were off (nd_set_grad_enabled(false), a backward pass without
 * create_graph): a count that moves while f runs says f's recorded graph
 * lacks ops forward mode would carry tangents through (batch.c). */
unsigned long nd__ops_off_graph(void);

/* Adds a tensor to the current scope (the scope then owns one reference);
 * false when out of memory (the caller still owns t). */
bool nd__scope_add(nd_tensor *t);

/* Sums g down to shape (ndim, shape) over broadcast dims (the engine's one place
 * for it), keeping g's first nbatch dims, which must be batch (a batched pass's). */
nd_tensor *nd__sum_to(nd_tensor *g, int nbatch, const int64_t *batch, int ndim,
                      const int64_t *shape);

/* ------------------------------------------------------------ locale */

/* Switches this thread to the C locale for printf/strtod (nd's text uses a
 * decimal point whatever the locale); restore with what it returned. */
locale_t nd__use_c_locale(locale_t *previous);
void nd__restore_locale(locale_t c, locale_t previous);

/* ------------------------------------------------------------ memory */

/* Per-thread recycling of small blocks (64-byte aligned); size must be the same
 * at free as at allocation. nd__pool_trim returns the thread's cache to malloc. */
void *nd__pool_alloc(size_t size);
void nd__pool_free(void *p, size_t size);
void nd__pool_trim(void);
/* false: freed blocks go straight back to malloc, so every allocation reaches
 * it (the allocation-failure sweep needs that); true (the default): kept.
 * Exported: tests/faults/alloc_sweep links the shared library. */
ND_API void nd__pool_keep(bool keep);
/* Buffers of ND_LARGE_BLOCK bytes and more: 2 MiB aligned, transparent huge
 * pages asked for (a fresh 64 MiB result then costs a few hundred page faults,
 * not sixteen thousand), and the last few freed are kept for reuse. */
#define ND_LARGE_BLOCK ((size_t)2 << 20)
void *nd__large_alloc(size_t bytes);
void nd__large_free(void *data, size_t bytes);

#endif /* ND_INTERNAL_H */
