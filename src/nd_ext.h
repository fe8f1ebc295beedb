/*
 * nd_ext.h — what an op outside libnd's core needs, and nd's other libraries
 * (frame, image, plot, dist) use instead of src/core/internal.h: the tensor
 * struct, errors with their codes, new tensors, element access, and the op
 * record (nd__record, nd_op, nd_node) that autograd runs on.
 *
 * Not installed, not a stable interface: the struct layouts follow libnd's
 * internals (the tape: src/core/tape.c). Its functions are exported
 * from libnd.so (ND_API) because the other libraries link it as a shared
 * library; everything else in libnd is hidden (-fvisibility=hidden).
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
 *     static const nd_op MUL = {
 *         .name = "mul", .vjp = mul_vjp, .jvp = mul_jvp, .flags = ND_SAVES_INPUTS,
 *         .vjp_formula = "ga = g·b, gb = g·a", .jvp_formula = "da·b + a·db",
 *     };
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
 * NULL as zero. A JVP returns a tangent of the output's shape and dtype (the
 * tape checks it and fails naming the op): one that hands an input's tangent
 * on through a broadcasting or promoting op fits it with nd__tangent_like.
 */
#ifndef ND_EXT_H
#define ND_EXT_H

#include "nd.h"

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

/* ----------------------------------------------------------------- errors */

/* Sets the thread's error message (printf-style) and its code (nd_errcode),
 * replacing any earlier error: the newest failure is the one reported. Only a
 * NULL input being passed on keeps the earlier error (nd__null_input, ND_CHECK),
 * so the first cause survives a chain of ops that each get NULL.
 * The _as variants take the code; the others set ND_ERR_ARG, the default for
 * a bad argument that fits no other code. */
ND_API void nd__set_error_as(nd_error_code code, const char *fmt, ...) ND_PRINTF(2, 3);
ND_API void nd__set_errorv_as(nd_error_code code, const char *fmt, va_list ap);
/* Sets the error, returns NULL / -1 / NAN:
 * `return nd__fail_as(ND_ERR_SHAPE, "nd_add: ...")`. */
ND_API nd_tensor *nd__fail_as(nd_error_code code, const char *fmt, ...) ND_PRINTF(2, 3);
ND_API int nd__fail_int_as(nd_error_code code, const char *fmt, ...) ND_PRINTF(2, 3);
ND_API double nd__fail_nan_as(nd_error_code code, const char *fmt, ...) ND_PRINTF(2, 3);
/* Without a code: ND_ERR_ARG. */
#define nd__set_error(...)      nd__set_error_as(ND_ERR_ARG, __VA_ARGS__)
#define nd__set_errorv(fmt, ap) nd__set_errorv_as(ND_ERR_ARG, fmt, ap)
#define nd__fail(...)           nd__fail_as(ND_ERR_ARG, __VA_ARGS__)
#define nd__fail_int(...)       nd__fail_int_as(ND_ERR_ARG, __VA_ARGS__)
#define nd__fail_nan(...)       nd__fail_nan_as(ND_ERR_ARG, __VA_ARGS__)
/* strerror's text for a failed call's errno, but "out of memory" for ENOMEM:
 * every allocation failure says so in the same words. */
ND_API const char *nd__strerror(int err);
/* The code for a failed call's errno: ND_ERR_NOMEM for ENOMEM, else ND_ERR_IO. */
ND_API nd_error_code nd__errno_code(int err);
/* How many errors this thread has raised: lets a caller tell whether a step it
 * ran (a VJP rule, say) failed, even when that step returns nothing. */
ND_API unsigned long nd__error_count(void);
/* For a NULL input: keeps an earlier error (message and code), else says
 * "op: NULL input" (ND_ERR_ARG). */
ND_API nd_tensor *nd__null_input(const char *op);
ND_API int nd__null_input_int(const char *op);
/* Returns true (and sets the error) when any of the n tensors is NULL or freed. */
ND_API bool nd__any_null(const char *op, int n, nd_tensor *const *ts);
/* The error for a tensor that is NULL or was freed (see nd__bad_tensor). */
ND_API bool nd__report_bad_tensor(const char *op, const nd_tensor *t);
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
/* Text that grows as it is written (printing, CSV, file headers): after an
 * allocation fails, writes are ignored and out_of_memory says so. data is
 * NUL-terminated, malloc'd; the writer frees it. Defined in core/text.c. */
typedef struct {
    char *data;
    size_t length, capacity;
    bool out_of_memory;
} nd__text;
ND_API void nd__text_put(nd__text *s, const char *str, size_t n);
ND_API void nd__text_puts(nd__text *s, const char *str);
ND_API void nd__text_printf(nd__text *s, const char *fmt, ...) ND_PRINTF(2, 3);
ND_API void nd__text_pad(nd__text *s, char c, int64_t n); /* n copies of c */

ND_API const char *nd__shape_str(int ndim, const int64_t *shape);
ND_API const char *nd__tshape(const nd_tensor *t);

/* ------------------------------------------------------- tensors, elements */

/* A new contiguous tensor, uninitialised, owned by the current scope. */
ND_API nd_tensor *nd__empty(nd_dtype dtype, int ndim, const int64_t *shape);
ND_API nd_tensor *nd__zeros(nd_dtype dtype, int ndim, const int64_t *shape);
/* The element pointer of the first element. */
static inline void *nd__ptr(const nd_tensor *t) {
    return (char *)t->storage->data + (size_t)t->offset * nd_dtype_size(t->dtype);
}
/* An element as double, and writing one from double, at a C-order linear index. */
ND_API double nd__get_flat(const nd_tensor *t, int64_t linear);
ND_API double nd__load(nd_dtype dtype, const void *p);
ND_API void nd__store(nd_dtype dtype, void *p, double v);
/* A double as int64, as a C cast would give it but defined for every input:
 * NaN is 0, out-of-range values saturate (nd__store's and the casts' rule). */
static inline int64_t nd__to_int64(double v) {
    if (v != v) return 0;
    if (v >= 9.2233720368547758e18) return INT64_MAX;
    if (v <= -9.2233720368547758e18) return INT64_MIN;
    return (int64_t)v;
}
ND_API bool nd__is_float(nd_dtype dtype);
/* Marks an in-place write (version counter). */
static inline void nd__bump_version(nd_tensor *t) {
    atomic_fetch_add(&t->storage->version, 1);
}
/* dst ← src broadcast into dst's shape, converting dtype (ops/elementwise.c). */
ND_API int nd__copy_into(const char *op, nd_tensor *dst, nd_tensor *src);
/* nd's OpenMP thread count for kernels (1 when serial is better). */
ND_API int nd__threads_for(int64_t work);

/* --------------------------------------------------------------- the op record */

enum {
    ND_SAVES_INPUTS = 1, /* the VJP reads input values: check their versions */
    ND_SAVES_OUTPUT = 2, /* the VJP reads the output value: keep it and check its version */
    /* Structural properties read only by the batching transform (autograd/batch.c,
     * docs/BATCHING.md), never by a rule: */
    ND_BATCHABLE = 4, /* VJP and JVP stay right with leading batch dims on g / on tangents */
    /* With ND_SAVES_INPUTS, for products (x·a, matmul, linear): the VJP reads
     * input 0 only for input 1's gradient (ND_READS_0_FOR_1), input 1 only for
     * input 0's (ND_READS_1_FOR_0), and with either flag no input after
     * those two. Only what is read is version-checked, as PyTorch saves only
     * what the formula needs: changing the unread one in place stays allowed. */
    ND_READS_0_FOR_1 = 8,
    ND_READS_1_FOR_0 = 16,
    /* Elementwise: output element i depends only on element i of each
     * (broadcast) input, so its Jacobian to an input of the output's shape is
     * diagonal (neg, exp, tanh, the activations, + − · ÷, pow, maximum, …). */
    ND_POINTWISE = 32,
    /* out = in[0]·in[1] as torch.matmul (a 1-D left operand a row, a 1-D right
     * operand a column, that dim dropped from the result). */
    ND_MATRIX_PRODUCT = 64,
};

typedef struct nd_op {
    const char *name;
    /* Reverse mode: given the gradient g of the output, set gin[i] for each input
     * that needs one (gin[i] may stay NULL: no gradient flows there). `out` is the
     * output (connected to the graph under create_graph), NULL unless ND_SAVES_OUTPUT. */
    void (*vjp)(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin);
    /* Forward mode: the output's tangent from the inputs' tangents (NULL = zero). */
    nd_tensor *(*jvp)(const nd_node *n, nd_tensor *out, nd_tensor *const *tin);
    unsigned flags;
    /* The two rules as short formulas, listed in docs/OPS.md (written by
     * tools/gen_ops_md.c; a test keeps it current and refuses an op without
     * them): g the output's gradient, dx an input's tangent, y the output. */
    const char *vjp_formula;
    const char *jvp_formula;
} nd_op;

/* An op's scalar parameters, kept for its rules. The named fields say what
 * they hold; an op with other needs keeps them in f and i, packed and
 * unpacked by one pair of functions in its file (slice.c's range_params). */
typedef struct nd_params {
    int dim;      /* the dim the op works along, wrapped; ND_ALL for every dim */
    bool keepdim; /* a reduction's reduced dims stay as size 1 */
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

/* Records how `out` was made from in[0..nin): creates the graph node when grad
 * mode is on and an input requires a gradient, and computes out's tangent when
 * an input has one. Returns out (NULL when out is NULL; releases nothing).
 * params may be NULL. */
ND_API nd_tensor *nd__record(const nd_op *op, nd_tensor *out, int nin, nd_tensor *const *in,
                             const nd_params *params);
/* True when an op on these inputs must record (grad or tangent). Lets an op
 * skip building params in the common no-grad case. */
ND_API bool nd__needs_record(int nin, nd_tensor *const *in);

/* Tangent arithmetic with NULL meaning zero (ops/tangent.c). */
ND_API nd_tensor *nd__tangent_sum(nd_tensor *a, nd_tensor *b);
ND_API nd_tensor *nd__tangent_sub(nd_tensor *a, nd_tensor *b);
/* t as the tangent of out: in out's dtype, broadcast to out's shape (for a rule
 * that hands on an input's tangent through a broadcasting or promoting op);
 * dims of t in front of out's own (a batched pass's) are kept. NULL for NULL. */
ND_API nd_tensor *nd__tangent_like(nd_tensor *t, const nd_tensor *out);

/* Called during nd_backward once for each leaf that gets a gradient, as soon
 * as its .grad is final for the pass (every op that uses it has run): lets a
 * layer above (data-parallel training, src/dist) start sending a gradient
 * while the rest of the pass runs. One hook per thread; NULL clears it. The
 * engine only calls it: autograd knows nothing of what it is for. */
typedef void (*nd__leaf_grad_hook)(nd_tensor *leaf, void *ctx);
ND_API void nd__set_leaf_grad_hook(nd__leaf_grad_hook hook, void *ctx);
ND_API void nd__get_leaf_grad_hook(nd__leaf_grad_hook *hook, void **ctx);

#endif /* ND_EXT_H */
