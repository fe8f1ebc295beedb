/*
 * internal.h — what every part of libnd shares and no user sees: the tensor
 * struct, storage, errors, and the op record that autograd runs on.
 *
 * How an op is written (one op, one place: kernel, VJP and JVP side by side):
 *
 *     static void mul_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
 *         gin[0] = nd_mul(g, n->in[1]);      // d(a·b)/da = b
 *         gin[1] = nd_mul(g, n->in[0]);
 *     }
 *     static nd_tensor *mul_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
 *         return nd__tangent_sum(nd_mul(tin[0], n->in[1]), nd_mul(n->in[0], tin[1]));
 *     }
 *     static const nd_op MUL = {"mul", mul_vjp, mul_jvp, ND_SAVES_INPUTS};
 *     nd_tensor *nd_mul(nd_tensor *a, nd_tensor *b) {
 *         nd_tensor *out = binary_kernel(...);           // the computation
 *         return nd__record(&MUL, out, 2, (nd_tensor *[]){a, b}, NULL);
 *     }
 *
 * Rules are written with nd ops, so a backward pass is itself recorded when
 * create_graph is on (higher order). The engine sums a gradient that came back
 * in a broadcast shape down to the input's shape, and casts it to the input's
 * dtype: a VJP never has to. A tangent (tin[i]) is NULL where the input has
 * none; nd ops take NULL and give NULL, and nd__tangent_sum/nd__tangent_* treat
 * NULL as zero. The engine expands a tangent to the output's shape and dtype.
 */
#ifndef ND_INTERNAL_H
#define ND_INTERNAL_H

#include "nd.h"

#include <locale.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__GNUC__)
#define ND_LIKELY(x)    __builtin_expect(!!(x), 1)
#define ND_UNLIKELY(x)  __builtin_expect(!!(x), 0)
#define ND_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ND_LIKELY(x)   (x)
#define ND_UNLIKELY(x) (x)
#define ND_PRINTF(f, a)
#endif

/* Elementwise kernels go parallel above this many elements. */
#define ND_PARALLEL_MIN 32768

/* ---------------------------------------------------------------- storage */

typedef struct nd_storage {
    void *data;
    size_t nbytes;
    atomic_long refcount;
    /* Bumped by every in-place write: a backward rule that saved a tensor checks it. */
    atomic_ulong version;
} nd_storage;

typedef struct nd_node nd_node;

struct nd_tensor {
    nd_dtype dtype;
    int ndim;
    int64_t shape[ND_MAX_DIMS];
    int64_t strides[ND_MAX_DIMS]; /* in elements */
    int64_t offset;               /* in elements, into storage */
    int64_t numel;
    nd_storage *storage;
    atomic_long refcount;
    bool requires_grad;
    bool contiguous;            /* C-contiguous (kept up to date by nd__finish_layout) */
    nd_node *node;              /* the op that made it (owned reference), NULL for a leaf */
    nd_tensor *grad;            /* a leaf's accumulated gradient (owned reference) */
    nd_tensor *tangent;         /* forward-mode tangent (owned reference) */
    nd_tensor *base;            /* for a view made by a view op: the tensor it views (owned) */
    unsigned long base_version; /* the storage's version when the view's history was made */
    char *name;
    nd_tensor *next_free; /* links the tensors waiting to be freed (tensor.c) */
    /* ND_TENSOR_LIVE while the tensor exists; overwritten when it is freed, so a
     * tensor used after its scope ended is caught at the next public entry. */
    uint32_t live;
};

#define ND_TENSOR_LIVE 0x6e646c76u /* "ndlv" */
#define ND_TENSOR_DEAD 0xdeadbeefu

/* Text that grows as it is written (printing, file headers): after an
 * allocation fails, writes are ignored and out_of_memory says so. data is
 * NUL-terminated, malloc'd; the writer frees it. Defined in format.c. */
typedef struct {
    char *data;
    size_t length, capacity;
    bool out_of_memory;
} nd__text;
void nd__text_put(nd__text *s, const char *str, size_t n);
void nd__text_puts(nd__text *s, const char *str);

/* Reverses the bytes of each of n elements of `size` bytes at data: the other
 * byte order (.npy files of either order, safetensors' little-endian data on
 * a big-endian host). Defined in npy.c. */
void nd__swap_bytes(void *data, int64_t n, size_t size);

/* ----------------------------------------------------------------- errors */

/* Sets the thread's error message (printf-style). Keeps the first error while
 * a NULL is being propagated: see nd__fail. */
void nd__set_error(const char *fmt, ...) ND_PRINTF(1, 2);
void nd__set_errorv(const char *fmt, va_list ap);
/* Sets the error, returns NULL / -1 / NAN: `return nd__fail("nd_add: ...")`. */
nd_tensor *nd__fail(const char *fmt, ...) ND_PRINTF(1, 2);
int nd__fail_int(const char *fmt, ...) ND_PRINTF(1, 2);
double nd__fail_nan(const char *fmt, ...) ND_PRINTF(1, 2);
/* strerror's text for a failed call's errno, but "out of memory" for ENOMEM:
 * every allocation failure says so in the same words. */
const char *nd__strerror(int err);
/* How many errors this thread has raised: lets a caller tell whether a step it
 * ran (a VJP rule, say) failed, even when that step returns nothing. */
unsigned long nd__error_count(void);
/* For a NULL input: keeps an earlier error, else says "op: NULL input". */
nd_tensor *nd__null_input(const char *op);
int nd__null_input_int(const char *op);
/* Returns true (and sets the error) when any of the n tensors is NULL or freed. */
bool nd__any_null(const char *op, int n, nd_tensor *const *ts);
/* The error for a tensor that is NULL or was freed (see nd__bad_tensor). */
bool nd__report_bad_tensor(const char *op, const nd_tensor *t);
/* True (with the error set) when t cannot be used: NULL (an earlier error being
 * passed on) or freed (used after its scope ended). One compare when t is fine. */
static inline bool nd__bad_tensor(const char *op, const nd_tensor *t) {
    return ND_UNLIKELY(!t || t->live != ND_TENSOR_LIVE) && nd__report_bad_tensor(op, t);
}
#define ND_CHECK(op, ...)                                                                          \
    do {                                                                                           \
        nd_tensor *const nd__args_[] = {__VA_ARGS__};                                              \
        if (nd__any_null(op, (int)(sizeof nd__args_ / sizeof nd__args_[0]), nd__args_))            \
            return NULL;                                                                           \
    } while (0)
#define ND_CHECK_INT(op, ...)                                                                      \
    do {                                                                                           \
        nd_tensor *const nd__args_[] = {__VA_ARGS__};                                              \
        if (nd__any_null(op, (int)(sizeof nd__args_ / sizeof nd__args_[0]), nd__args_)) return -1; \
    } while (0)

/* "(2, 3)" for messages: thread-local rotating buffers, valid for a few calls. */
const char *nd__shape_str(int ndim, const int64_t *shape);
const char *nd__tshape(const nd_tensor *t);

/* ------------------------------------------------------------------ files */

/* Reads the rest of a file that cannot be mapped (a pipe, /dev/stdin) into one
 * malloc'd buffer, its length in *len; NULL with errno set on failure. */
unsigned char *nd__read_all(int fd, size_t *len);

/* ------------------------------------------------------- tensors, layout */

/* A new contiguous tensor, uninitialised, owned by the current scope. */
nd_tensor *nd__empty(nd_dtype dtype, int ndim, const int64_t *shape);
nd_tensor *nd__zeros(nd_dtype dtype, int ndim, const int64_t *shape);
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
/* The element pointer of the first element. */
static inline void *nd__ptr(const nd_tensor *t) {
    return (char *)t->storage->data + (size_t)t->offset * nd_dtype_size(t->dtype);
}
/* An element as double, and writing one from double, at a C-order linear index. */
double nd__get_flat(const nd_tensor *t, int64_t linear);
double nd__load(nd_dtype dtype, const void *p);
void nd__store(nd_dtype dtype, void *p, double v);
bool nd__is_float(nd_dtype dtype);
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
/* Marks an in-place write (version counter). */
static inline void nd__bump_version(nd_tensor *t) {
    atomic_fetch_add(&t->storage->version, 1);
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

/* ----------------------------------------- the op record (the tape, core/tape.c) */

enum {
    ND_SAVES_INPUTS = 1, /* the VJP reads input values: check their versions */
    ND_SAVES_OUTPUT = 2, /* the VJP reads the output value: keep it and check its version */
    ND_BATCHABLE = 4,    /* VJP and JVP stay right with leading batch dims on g / on tangents */
    /* With ND_SAVES_INPUTS, for products (x·a, matmul, linear): the VJP reads
     * input 0 only for input 1's gradient (ND_READS_0_FOR_1), input 1 only for
     * input 0's (ND_READS_1_FOR_0), and with either flag no input after
     * those two. Only what is read is version-checked, as PyTorch saves only
     * what the formula needs: changing the unread one in place stays allowed. */
    ND_READS_0_FOR_1 = 8,
    ND_READS_1_FOR_0 = 16,
};

/* Batched transforms (nd_jacobian's one pass with a batch of seeds). While a
 * batch is set, every gradient (mode ND_REVERSE) or tangent (ND_FORWARD)
 * carries these leading dims before the shape of its tensor; ops without
 * ND_BATCHABLE refuse it and the caller falls back to one pass per seed.
 * nd__set_batch(0, NULL, mode) clears it. */
void nd__set_batch(int ndim, const int64_t *shape, nd_ad_mode mode);
int nd__batch_dims(nd_ad_mode mode, int64_t *shape); /* 0 when none is set for mode */
bool nd__batch_fits(int ndim, const int64_t *shape); /* batch × shape small enough */
bool nd__batch_refused(void);         /* a forward op refused the batch since it was set */
uint64_t nd__batched_jacobians(void); /* Jacobians this thread built in one pass (tests) */

typedef struct nd_op {
    const char *name;
    /* Reverse mode: given the gradient g of the output, set gin[i] for each input
     * that needs one (gin[i] may stay NULL: no gradient flows there). `out` is the
     * output (connected to the graph under create_graph), NULL unless ND_SAVES_OUTPUT. */
    void (*vjp)(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin);
    /* Forward mode: the output's tangent from the inputs' tangents (NULL = zero). */
    nd_tensor *(*jvp)(const nd_node *n, nd_tensor *out, nd_tensor *const *tin);
    unsigned flags;
} nd_op;

/* An op's scalar parameters, kept for its rules. */
typedef struct nd_params {
    double f[4];
    int64_t i[ND_MAX_DIMS + 4];
    int64_t shape[ND_MAX_DIMS]; /* e.g. the input shape a reshape came from */
    int ndim;
    void *ptr; /* anything else: owned by the node only when free_ptr is set */
    void (*free_ptr)(void *);
} nd_params;

struct nd_node {
    const nd_op *op;
    atomic_long refcount;
    nd_params p;
    nd_tensor *out_data; /* detached alias of the output, when ND_SAVES_OUTPUT */
    unsigned long out_version;
    /* Engine scratch, valid during one backward pass. */
    nd_tensor *grad_acc;
    bool needed;
    int nin;
    nd_tensor **in;
    /* The node each input had when this op used it (NULL for a leaf): an
     * in-place write later gives the tensor a new node (and a view whose base
     * was written is given a new one when next used), and the gradient of
     * this op must still flow to the old one. Borrowed (owning would cost an
     * atomic count per input of every op): the input keeps its old node
     * alive, a written base through the write's node (its old value's
     * header), a view through its new node (ops/inplace.c's keep). */
    nd_node **in_node;
    unsigned long *in_version;
    nd_tensor *in_small[3];
    nd_node *in_node_small[3];
    unsigned long ver_small[3];
    nd_node *next_free; /* links the nodes waiting to be freed (tensor.c) */
};

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

/* Records how `out` was made from in[0..nin): creates the graph node when grad
 * mode is on and an input requires a gradient, and computes out's tangent when
 * an input has one. Returns out (NULL when out is NULL; releases nothing).
 * params may be NULL. */
nd_tensor *nd__record(const nd_op *op, nd_tensor *out, int nin, nd_tensor *const *in,
                      const nd_params *params);
/* True when an op on these inputs must record (grad or tangent). Lets an op
 * skip building params in the common no-grad case. */
bool nd__needs_record(int nin, nd_tensor *const *in);

/* Tangent arithmetic with NULL meaning zero (ops/tangent.c). */
nd_tensor *nd__tangent_sum(nd_tensor *a, nd_tensor *b);
nd_tensor *nd__tangent_sub(nd_tensor *a, nd_tensor *b);

/* Gradients of y (any shape) seeded with `seed` (shaped like y) with respect to
 * xs: the reverse pass behind nd_gradient, nd_vjp and nd_jacobian. */
int nd__gradients_seeded(const char *op, nd_tensor *y, nd_tensor *seed, int n, nd_tensor *const *xs,
                         nd_tensor **grads, bool create_graph);

/* Called during nd_backward once for each leaf that gets a gradient, as soon
 * as its .grad is final for the pass (every op that uses it has run): lets a
 * layer above (data-parallel training, src/dist) start sending a gradient
 * while the rest of the pass runs. One hook per thread; NULL clears it. The
 * engine only calls it: autograd knows nothing of what it is for. */
typedef void (*nd__leaf_grad_hook)(nd_tensor *leaf, void *ctx);
void nd__set_leaf_grad_hook(nd__leaf_grad_hook hook, void *ctx);
void nd__get_leaf_grad_hook(nd__leaf_grad_hook *hook, void **ctx);

/* The node-free-tensor release used by the engine and the scope. */
void nd__node_release(nd_node *n);

/* Forward-mode switch: off while a JVP rule runs (its arithmetic carries no tangent). */
bool nd__set_forward_enabled(bool on);

/* Adds a tensor to the current scope (the scope then owns one reference);
 * false when out of memory (the caller still owns t). */
bool nd__scope_add(nd_tensor *t);

/* Sums g down to shape (ndim, shape) over broadcast dims (the engine's one place for it). */
nd_tensor *nd__sum_to(nd_tensor *g, int ndim, const int64_t *shape);

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
 * it (the allocation-failure sweep needs that); true (the default): kept. */
void nd__pool_keep(bool keep);
/* Buffers of ND_LARGE_BLOCK bytes and more: 2 MiB aligned, transparent huge
 * pages asked for (a fresh 64 MiB result then costs a few hundred page faults,
 * not sixteen thousand), and the last few freed are kept for reuse. */
#define ND_LARGE_BLOCK ((size_t)2 << 20)
void *nd__large_alloc(size_t bytes);
void nd__large_free(void *data, size_t bytes);

/* ------------------------------------------------------------ threads */

/* nd's OpenMP thread count for kernels (1 when serial is better). */
int nd__threads_for(int64_t work);

#endif /* ND_INTERNAL_H */
