/*
 * nd.h — N-dimensional tensors with automatic differentiation, in C11.
 *
 * The public API of libnd (link with `pkg-config --cflags --libs nd`).
 *
 * Conventions (see API.md in the project's shared documents):
 *  - Every function returning `nd_tensor *` returns NULL on error, and returns
 *    NULL (keeping the first error) when any tensor input is NULL. The reason is
 *    in nd_last_error(). Functions returning int give 0 on success, -1 on error.
 *  - Every new tensor belongs to the innermost open scope (nd_scope_begin/end);
 *    nd_keep() hands it to the enclosing scope; nd_retain()/nd_release() are for
 *    long-lived handles. Each declaration says who owns what it returns:
 *      [scope]  a new tensor, owned by the innermost open scope (freed by its
 *               nd_scope_end, or by nd_shutdown when no scope is open); the
 *               caller never frees it, and nd_keep/nd_retain keep it longer;
 *      [lent]   owned by something else (the tensor it was asked of), valid as
 *               long as the note says; never released by the caller; nd_retain
 *               or nd_clone it to keep it;
 *      [t]      the argument t itself, no new reference;
 *      [malloc'd: free() it], [static string]: for text.
 *    Objects made by a _new function (nd_batches, nd_optim, ...) are the
 *    caller's, freed by the matching _free.
 *  - nd_errcode() says what kind of error the last one was (shape, dtype, out
 *    of memory, I/O, ...). A function whose result cannot show failure by
 *    itself (nd_item, nd_get, nd_allclose, nd_equal, nd_batches_next) clears
 *    the error on entry, so nd_last_error() after it is its own.
 *  - Dims and indices may be negative, counted from the end, as in PyTorch.
 *  - Names and meanings follow PyTorch for tensors (`nd_matmul` is torch.matmul).
 *
 * Threads. nd may be used from several threads at once (threads the program
 * makes), each building, differentiating and training its own models:
 *  - Per thread: the last error, scopes (a tensor belongs to the scope of the
 *    thread that made it), grad mode (nd_set_grad_enabled), the random stream
 *    (nd_manual_seed seeds the calling thread only; a thread that never calls
 *    it starts from the same default seed as every other), and the caches of
 *    freed memory. A thread ends with nd_shutdown(), which frees the tensors
 *    still in its scopes and its caches.
 *  - May be shared: a tensor that no thread writes and that has no gradient
 *    history (requires_grad false and made with no recording, or nd_detach'ed),
 *    e.g. a data set made before the threads start. Any number of threads may
 *    read it and use it as an input. It must outlive their use: keep it in its
 *    maker's scope until they are joined, or nd_retain it for each thread that
 *    takes it (that thread nd_releases it; references are counted atomically,
 *    so a tensor may be released on a thread other than its maker's).
 *  - Must not be shared: a tensor one thread writes (in-place `_` ops,
 *    initialisers, an optimizer step) while another uses it; a tensor with
 *    requires_grad or a recorded graph behind it (backward writes into the
 *    graph and into .grad), so two threads' graphs never meet; an nd_optim,
 *    nd_batches or other object made by nd, which belongs to one thread at a
 *    time (hand-overs synchronised by the program, e.g. pthread_join).
 *  - Process-wide: nd_set_num_threads (OpenBLAS has one count for the process:
 *    set it before starting threads). A large op starts nd_num_threads()
 *    OpenMP threads for the thread that calls it, so T threads that each train
 *    large models share the cores best after nd_set_num_threads(cores / T).
 *  - nd prints and parses with a '.' whatever the locale, switching only the
 *    calling thread's locale (uselocale); it never calls setlocale, which is
 *    not thread-safe (POSIX) and is the program's to call before threads start.
 */
#ifndef ND_H
#define ND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What nd's shared libraries export: they are built with -fvisibility=hidden,
 * so only functions marked ND_API (this header's, nd_frame.h's, ... and
 * src/nd_ext.h's for nd's own libraries) are visible to a program. */
#if defined(__GNUC__) || defined(__clang__)
#define ND_API __attribute__((visibility("default")))
#else
#define ND_API
#endif

#define ND_VERSION_MAJOR  0
#define ND_VERSION_MINOR  1
#define ND_VERSION_PATCH  0
#define ND_VERSION_STRING "0.1.0"

/* The most dimensions a tensor may have. */
#define ND_MAX_DIMS 16

/* A reduction over every dim (with keepdim, every dim is kept as size 1). */
#define ND_ALL (-1000000)
/* A slice bound meaning "to the end" (to the beginning when the step is negative). */
#define ND_END INT64_MIN

/* ND_SHAPE(2, 3) expands to `2, (const int64_t[]){2, 3}`: the (ndim, shape) pair. */
#define ND__NARGS(...)                                                                             \
    ND__NARGS_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
#define ND__NARGS_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, N, ...) N
#define ND_SHAPE(...)                                                                             ND__NARGS(__VA_ARGS__), ((const int64_t[]){__VA_ARGS__})

typedef enum { ND_BOOL, ND_U8, ND_I32, ND_I64, ND_F32, ND_F64 } nd_dtype;

typedef struct nd_tensor nd_tensor;

/* ---------------------------------------------------------------- errors */

/* The message of the last error on this thread, or NULL when there is none. [lent: valid until the
 * next error or nd_clear_error on this thread] */
ND_API const char *nd_last_error(void);
/* Forgets the last error: nd_last_error() gives NULL, nd_errcode() ND_OK. */
ND_API void nd_clear_error(void);

/* What kind of failure the last error on this thread was: set with its message
 * by every function that fails, ND_OK when there is no error (nd_clear_error
 * clears both). A NULL input passed on keeps the first error's code, as it
 * keeps its message. ND_ERR_ARG is the default: a bad argument that fits no
 * other code. New codes may be added at the end. */
typedef enum {
    ND_OK = 0,
    ND_ERR_ARG,    /* a bad argument: NULL, out of its range, an unknown option */
    ND_ERR_SHAPE,  /* shapes that do not fit (broadcast, matmul, reshape, too many dims) */
    ND_ERR_DTYPE,  /* a dtype the operation does not take (bool to relu, int to mean) */
    ND_ERR_INDEX,  /* an index, dim or name out of range or not found */
    ND_ERR_NOMEM,  /* out of memory */
    ND_ERR_IO,     /* a file could not be opened, read or written (the message has errno's text) */
    ND_ERR_FORMAT, /* the bytes or text are not what the format says (.npy, safetensors, PNG, CSV,
                      nd_parse) */
    ND_ERR_NOT_DIFFERENTIABLE, /* no gradient: nothing requires one, an input changed in place,
                                  the derivative is not defined there */
    ND_ERR_NUMERIC,            /* a singular matrix, no convergence, a failed gradcheck */
    ND_ERR_UNSUPPORTED,        /* not in this build of nd (e.g. decompositions without LAPACK) */
    ND_ERR_EXTERNAL, /* a library nd calls failed (LAPACK, MPI, PLplot, Graphviz) or timed out */
    ND_ERR_FREED,    /* a tensor used after its scope ended (or its last nd_release) */
} nd_error_code;
/* The code of the last error on this thread (ND_OK when none). */
ND_API nd_error_code nd_errcode(void);
/* "shape", "out of memory", ...: a code's name for messages. */
ND_API const char *nd_errcode_name(nd_error_code code);

/* ------------------------------------------------------- library, threads */

/* nd's version, "0.1.0" [static string]. */
ND_API const char *nd_version(void);
/* The BLAS library nd calls (e.g. "OpenBLAS 0.3.21 ..."). [static string] */
ND_API const char *nd_blas_info(void);
/* Threads for nd's kernels and BLAS together; n <= 0 restores the default (the number of cores). */
ND_API void nd_set_num_threads(int n);
/* The thread count nd_set_num_threads set (or its default). */
ND_API int nd_num_threads(void);

/* "float32", "int64", ... as PyTorch. */
ND_API const char *nd_dtype_name(nd_dtype dtype);
/* Bytes per element. */
ND_API size_t nd_dtype_size(nd_dtype dtype);
/* The dtype of `a op b` under PyTorch's promotion rules. */
ND_API nd_dtype nd_promote_types(nd_dtype a, nd_dtype b);

/* --------------------------------------------------------------- lifetime */

/* Opens a scope: the tensors made until its nd_scope_end belong to it. */
ND_API void nd_scope_begin(void);
/* Frees the tensors of the innermost scope (but those nd_keep moved out or retained). */
ND_API void nd_scope_end(void);
/* Hands t to the enclosing scope, so it outlives the current one (returns t).
 * A tensor used after its scope ended is an error naming this rule, not a
 * silent read of freed memory. [t: now owned by the enclosing scope] */
ND_API nd_tensor *nd_keep(nd_tensor *t);
/* Takes / drops an extra reference. [t: the caller owns the new reference and nd_releases it] */
ND_API nd_tensor *nd_retain(nd_tensor *t);
/* Drops one reference (nd_retain's); the tensor is freed with its last one. */
ND_API void nd_release(nd_tensor *t);
/* A scope that grows past `limit` live tensors (100000 by default) prints one
 * warning on stderr: a loop without a scope per step keeps every step's tensors.
 * 0 silences it (as does the environment variable ND_SCOPE_WARNING=0; a number
 * there sets the limit); each call re-arms the once-only warning. */
ND_API void nd_set_scope_warning(size_t limit);
/* Frees every tensor and the thread's state; nd can be used again afterwards. */
ND_API void nd_shutdown(void);

/* -------------------------------------------------------------- creation */

/* A tensor of zeros. [scope] */
ND_API nd_tensor *nd_zeros(nd_dtype dtype, int ndim, const int64_t *shape);
/* A tensor of ones. [scope] */
ND_API nd_tensor *nd_ones(nd_dtype dtype, int ndim, const int64_t *shape);
/* A tensor filled with value. [scope] */
ND_API nd_tensor *nd_full(nd_dtype dtype, int ndim, const int64_t *shape, double value);
/* Uninitialised memory: for kernels that write every element. [scope] */
ND_API nd_tensor *nd_empty(nd_dtype dtype, int ndim, const int64_t *shape);
/* Zeros of t's shape and dtype. [scope] */
ND_API nd_tensor *nd_zeros_like(const nd_tensor *t);
/* Ones of t's shape and dtype. [scope] */
ND_API nd_tensor *nd_ones_like(const nd_tensor *t);
/* value in t's shape and dtype. [scope] */
ND_API nd_tensor *nd_full_like(const nd_tensor *t, double value);
/* Like torch.arange: [start, stop) in steps of step. [scope] */
ND_API nd_tensor *nd_arange(double start, double stop, double step, nd_dtype dtype);
/* n evenly spaced values from start to stop, both included (torch.linspace). [scope] */
ND_API nd_tensor *nd_linspace(double start, double stop, int64_t n, nd_dtype dtype);
/* The n × n identity matrix. [scope] */
ND_API nd_tensor *nd_eye(int64_t n, nd_dtype dtype);
/* Copies `data` (C order, elements of `dtype`). [scope] */
ND_API nd_tensor *nd_from(nd_dtype dtype, int ndim, const int64_t *shape, const void *data);
/* A 0-d tensor. [scope] */
ND_API nd_tensor *nd_scalar(double value, nd_dtype dtype);
/* "[[1, 2.5], [3, 4]]" -> tensor. All-integer text gives ND_I64, any '.', 'e',
 * "inf" or "nan" gives ND_F32, true/false gives ND_BOOL. [scope] */
ND_API nd_tensor *nd_parse(const char *text);

/* Random numbers: reproducible after nd_manual_seed (per thread). */
ND_API void nd_manual_seed(uint64_t seed);
/* Uniform in [0, 1). [scope] */
ND_API nd_tensor *nd_rand(nd_dtype dtype, int ndim, const int64_t *shape);
/* Standard normal, N(0, 1). [scope] */
ND_API nd_tensor *nd_randn(nd_dtype dtype, int ndim, const int64_t *shape);
/* Uniform integers in [low, high), ND_I64. [scope] */
ND_API nd_tensor *nd_randint(int64_t low, int64_t high, int ndim, const int64_t *shape);
/* A random permutation of 0..n-1, ND_I64. [scope] */
ND_API nd_tensor *nd_randperm(int64_t n);

/* ------------------------------------------------------------ inspection */

/* The number of dims (-1 on error). */
ND_API int nd_ndim(const nd_tensor *t);
/* The sizes, ndim of them [lent: valid while t lives]. */
ND_API const int64_t *nd_shape(const nd_tensor *t);
/* Strides in elements (not bytes), as torch.Tensor.stride(). [lent: valid while t lives] */
ND_API const int64_t *nd_strides(const nd_tensor *t);
/* The size of dim (-1 on error). */
ND_API int64_t nd_size(const nd_tensor *t, int dim);
/* The number of elements (-1 on error). */
ND_API int64_t nd_numel(const nd_tensor *t);
/* The dtype of t. */
ND_API nd_dtype nd_type(const nd_tensor *t);
/* True when the elements are in C order with no gaps. */
ND_API bool nd_is_contiguous(const nd_tensor *t);
/* True when a and b share storage (b is a view of a, or the other way). */
ND_API bool nd_shares_storage(const nd_tensor *a, const nd_tensor *b);
/* The value of a one-element tensor (NAN on error). Clears the error on entry: an error after it is
 * its own (its result cannot show one). */
ND_API double nd_item(const nd_tensor *t);
/* The element at `index` (ndim indices, negatives allowed; NAN on error). Clears the error on
 * entry: an error after it is its own (its result cannot show one). */
ND_API double nd_get(const nd_tensor *t, const int64_t *index);
/* A C-order copy of the elements into buf, converted to dtype. */
ND_API int nd_read(const nd_tensor *t, nd_dtype dtype, void *buf, size_t nbytes);
/* The first element of a contiguous tensor's memory (NULL when not contiguous):
 * for embedders handing data to other libraries. [lent: valid while t lives] */
ND_API void *nd_data(nd_tensor *t);
/* PyTorch's printed form, e.g. "tensor([[1., 2.],\n        [3., 4.]])";
 * malloc'd, the caller frees it. [malloc'd: free() it] */
ND_API char *nd_format(const nd_tensor *t);
/* Prints nd_format's text and a newline on stdout (0 or -1). */
ND_API int nd_print(const nd_tensor *t);
/* "(2, 3)": malloc'd. [malloc'd: free() it] */
ND_API char *nd_shape_string(const nd_tensor *t);

/* Names t for printing and graphs (a copy of name; NULL clears it) [t]. */
ND_API nd_tensor *nd_set_name(nd_tensor *t, const char *name);
/* t's name, or NULL [lent: valid while t lives and keeps that name]. */
ND_API const char *nd_name(const nd_tensor *t);

/* A copy converted to dtype (t itself, not a copy, when already of that dtype). [scope, or t
 * itself] */
ND_API nd_tensor *nd_to(nd_tensor *t, nd_dtype dtype);
/* A copy with its own memory (differentiable). [scope] */
ND_API nd_tensor *nd_clone(nd_tensor *t);
/* A C-ordered copy, or t itself when already contiguous. [scope, or t itself] */
ND_API nd_tensor *nd_contiguous(nd_tensor *t);

/* ------------------------------------------------ views, joining, indexing */

/* One -1 allowed. [scope] */
ND_API nd_tensor *nd_reshape(nd_tensor *t, int ndim, const int64_t *shape);
/* Never copies [scope] [scope] */
ND_API nd_tensor *nd_view(nd_tensor *t, int ndim, const int64_t *shape);
/* t as one dim (a view when possible, else a copy) [scope]. */
ND_API nd_tensor *nd_flatten(nd_tensor *t);
/* A view with dims dim0 and dim1 swapped. [scope] */
ND_API nd_tensor *nd_transpose(nd_tensor *t, int dim0, int dim1);
/* 2-d transpose (0-d and 1-d tensors are returned as they are), like Tensor.t(). [scope] */
ND_API nd_tensor *nd_t(nd_tensor *t);
/* A view with its dims reordered: dim i of the result is perm[i] of t. [scope] */
ND_API nd_tensor *nd_permute(nd_tensor *t, int ndim, const int *perm);
/* Dim = ND_ALL squeezes every size-1 dim [scope] [scope] */
ND_API nd_tensor *nd_squeeze(nd_tensor *t, int dim);
/* A view with a new size-1 dim at dim [scope]. */
ND_API nd_tensor *nd_unsqueeze(nd_tensor *t, int dim);
/* -1 keeps a size [scope] [scope] */
ND_API nd_tensor *nd_expand(nd_tensor *t, int ndim, const int64_t *shape);
/* A view of t broadcast to shape, as torch.broadcast_to [scope]. */
ND_API nd_tensor *nd_broadcast_to(nd_tensor *t, int ndim, const int64_t *shape);
/* Python slice t[start:stop:step] along dim; ND_END for an omitted bound. [scope] */
ND_API nd_tensor *nd_slice(nd_tensor *t, int dim, int64_t start, int64_t stop, int64_t step);
/* t[..., index, ...]: removes dim. [scope] */
ND_API nd_tensor *nd_select(nd_tensor *t, int dim, int64_t index);
/* The n tensors joined along dim (same shapes elsewhere). [scope] */
ND_API nd_tensor *nd_cat(int n, nd_tensor *const *ts, int dim);
/* The n tensors (same shape) joined along a new dim. [scope] */
ND_API nd_tensor *nd_stack(int n, nd_tensor *const *ts, int dim);
/* Copies of rows: idx is a 1-d integer tensor. [scope] */
ND_API nd_tensor *nd_index_select(nd_tensor *t, int dim, nd_tensor *idx);
/* torch.gather: t[idx[i][j]][j] (dim 0), idx an integer tensor of t's ndim. [scope] */
ND_API nd_tensor *nd_gather(nd_tensor *t, int dim, nd_tensor *idx);
/* The elements where mask (bool, broadcast to t) is true, as a 1-d tensor. [scope] */
ND_API nd_tensor *nd_masked_select(nd_tensor *t, nd_tensor *mask);

/* In place (the `_` suffix): 0 or -1. Bumps the tensor's version counter. */
/* Src broadcast into dst (a view or not) */
ND_API int nd_copy_(nd_tensor *dst, nd_tensor *src);
/* Sets every element of t to value. */
ND_API int nd_fill_(nd_tensor *t, double value);
/* dst += src (src broadcast into dst). */
ND_API int nd_add_(nd_tensor *dst, nd_tensor *src);
/* t *= value. */
ND_API int nd_mul_scalar_(nd_tensor *t, double value);
/* dst += alpha * src */
ND_API int nd_axpy_(nd_tensor *dst, double alpha, nd_tensor *src);

/* -------------------------------------------------- math (broadcasting) */

/* a + b. [scope] */
ND_API nd_tensor *nd_add(nd_tensor *a, nd_tensor *b);
/* a - b. [scope] */
ND_API nd_tensor *nd_sub(nd_tensor *a, nd_tensor *b);
/* a · b, elementwise. [scope] */
ND_API nd_tensor *nd_mul(nd_tensor *a, nd_tensor *b);
/* a / b (true division: integers give floats). [scope] */
ND_API nd_tensor *nd_div(nd_tensor *a, nd_tensor *b);
/* a to the power b. [scope] */
ND_API nd_tensor *nd_pow(nd_tensor *a, nd_tensor *b);
/* The larger of a and b, elementwise. [scope] */
ND_API nd_tensor *nd_maximum(nd_tensor *a, nd_tensor *b);
/* The smaller of a and b, elementwise. [scope] */
ND_API nd_tensor *nd_minimum(nd_tensor *a, nd_tensor *b);
/* t + s. Python-number scalars are "weak": an f32 tensor stays f32. [scope] */
ND_API nd_tensor *nd_add_scalar(nd_tensor *t, double s);
/* t - s. [scope] */
ND_API nd_tensor *nd_sub_scalar(nd_tensor *t, double s);
/* t · s. [scope] */
ND_API nd_tensor *nd_mul_scalar(nd_tensor *t, double s);
/* t / s. [scope] */
ND_API nd_tensor *nd_div_scalar(nd_tensor *t, double s);
/* t to the power s. [scope] */
ND_API nd_tensor *nd_pow_scalar(nd_tensor *t, double s);
/* s - t. [scope] */
ND_API nd_tensor *nd_rsub_scalar(nd_tensor *t, double s);
/* s / t. [scope] */
ND_API nd_tensor *nd_rdiv_scalar(nd_tensor *t, double s);

/* a == b, as ND_BOOL (as every comparison). [scope] */
ND_API nd_tensor *nd_eq(nd_tensor *a, nd_tensor *b);
/* a != b, as ND_BOOL. [scope] */
ND_API nd_tensor *nd_ne(nd_tensor *a, nd_tensor *b);
/* a < b, as ND_BOOL. [scope] */
ND_API nd_tensor *nd_lt(nd_tensor *a, nd_tensor *b);
/* a <= b, as ND_BOOL. [scope] */
ND_API nd_tensor *nd_le(nd_tensor *a, nd_tensor *b);
/* a > b, as ND_BOOL. [scope] */
ND_API nd_tensor *nd_gt(nd_tensor *a, nd_tensor *b);
/* a >= b, as ND_BOOL. [scope] */
ND_API nd_tensor *nd_ge(nd_tensor *a, nd_tensor *b);
/* a where cond (bool) is true, else b; all three broadcast. [scope] */
ND_API nd_tensor *nd_where(nd_tensor *cond, nd_tensor *a, nd_tensor *b);
/* !t, as ND_BOOL. [scope] */
ND_API nd_tensor *nd_logical_not(nd_tensor *t);
/* True when every element of a and b is close: |a - b| <= atol + rtol·|b|. Clears the error on
 * entry: an error after it is its own (its result cannot show one). */
ND_API bool nd_allclose(nd_tensor *a, nd_tensor *b, double rtol, double atol);
/* True when shapes and every value are equal. Clears the error on entry: an error after it is its
 * own (its result cannot show one). */
ND_API bool nd_equal(nd_tensor *a, nd_tensor *b);

/* -t. [scope] */
ND_API nd_tensor *nd_neg(nd_tensor *t);
/* |t|. [scope] */
ND_API nd_tensor *nd_abs(nd_tensor *t);
/* -1, 0 or 1 by the sign of t. [scope] */
ND_API nd_tensor *nd_sign(nd_tensor *t);
/* e^t. [scope] */
ND_API nd_tensor *nd_exp(nd_tensor *t);
/* The natural logarithm of t. [scope] */
ND_API nd_tensor *nd_log(nd_tensor *t);
/* The square root of t. [scope] */
ND_API nd_tensor *nd_sqrt(nd_tensor *t);
/* t². [scope] */
ND_API nd_tensor *nd_square(nd_tensor *t);
/* sin t. [scope] */
ND_API nd_tensor *nd_sin(nd_tensor *t);
/* cos t. [scope] */
ND_API nd_tensor *nd_cos(nd_tensor *t);
/* tanh t. [scope] */
ND_API nd_tensor *nd_tanh(nd_tensor *t);
/* 1 / (1 + e^-t). [scope] */
ND_API nd_tensor *nd_sigmoid(nd_tensor *t);
/* max(t, 0). [scope] */
ND_API nd_tensor *nd_relu(nd_tensor *t);
/* log(1 + e^t), beta 1, threshold 20, as PyTorch. [scope] */
ND_API nd_tensor *nd_softplus(nd_tensor *t);
/* GELU, the exact one (with erf). [scope] */
ND_API nd_tensor *nd_gelu(nd_tensor *t);
/* t where t > 0, else slope · t. [scope] */
ND_API nd_tensor *nd_leaky_relu(nd_tensor *t, double slope);
/* t limited to [lo, hi]; ±INFINITY leaves a side open. [scope] */
ND_API nd_tensor *nd_clamp(nd_tensor *t, double lo, double hi);
/* cosh t. [scope] */
ND_API nd_tensor *nd_cosh(nd_tensor *t);
/* The error function of t. [scope] */
ND_API nd_tensor *nd_erf(nd_tensor *t);

/* ------------------------------------------------------------ reductions */

/* The sum over dim. Reductions: dim = ND_ALL reduces every dim; a sum of
 * ints/bools gives ND_I64, as PyTorch. [scope] */
ND_API nd_tensor *nd_sum(nd_tensor *t, int dim, bool keepdim);
/* The sum over the n dims listed. [scope] */
ND_API nd_tensor *nd_sum_dims(nd_tensor *t, int n, const int *dims, bool keepdim);
/* The mean over dim (floating-point t only, as PyTorch). [scope] */
ND_API nd_tensor *nd_mean(nd_tensor *t, int dim, bool keepdim);
/* The largest value over dim. [scope] */
ND_API nd_tensor *nd_max(nd_tensor *t, int dim, bool keepdim);
/* The smallest value over dim. [scope] */
ND_API nd_tensor *nd_min(nd_tensor *t, int dim, bool keepdim);
/* The index (ND_I64) of the largest value over dim (the first when tied). [scope] */
ND_API nd_tensor *nd_argmax(nd_tensor *t, int dim, bool keepdim);
/* The index (ND_I64) of the smallest value over dim (the first when tied). [scope] */
ND_API nd_tensor *nd_argmin(nd_tensor *t, int dim, bool keepdim);
/* log Σ e^t over dim, computed without overflow. [scope] */
ND_API nd_tensor *nd_logsumexp(nd_tensor *t, int dim, bool keepdim);
/* The unbiased (n - 1) variance over dim, as torch.var. [scope] */
ND_API nd_tensor *nd_var(nd_tensor *t, int dim, bool keepdim);
/* The unbiased standard deviation over dim, as torch.std. [scope] */
ND_API nd_tensor *nd_std(nd_tensor *t, int dim, bool keepdim);
/* Running sums along dim. [scope] */
ND_API nd_tensor *nd_cumsum(nd_tensor *t, int dim);
/* The p-norm over all elements, p = 1 or 2 (2 of a matrix is Frobenius) or
 * INFINITY (max |x|); 0-d. [scope] */
ND_API nd_tensor *nd_norm(nd_tensor *t, double p);
/* e^t / Σ e^t along dim. [scope] */
ND_API nd_tensor *nd_softmax(nd_tensor *t, int dim);
/* log softmax along dim, computed without overflow. [scope] */
ND_API nd_tensor *nd_log_softmax(nd_tensor *t, int dim);

/* -------------------------------------------------------- linear algebra */

/* The matrix product with broadcast batch dims, as torch.matmul. [scope] */
ND_API nd_tensor *nd_matmul(nd_tensor *a, nd_tensor *b);
/* The dot product of two vectors, 0-d. [scope] */
ND_API nd_tensor *nd_dot(nd_tensor *a, nd_tensor *b);
/* Matrix (m, n) times vector (n,). [scope] */
ND_API nd_tensor *nd_mv(nd_tensor *a, nd_tensor *x);
/* Matrix (m, k) times matrix (k, n), no broadcasting. [scope] */
ND_API nd_tensor *nd_mm(nd_tensor *a, nd_tensor *b);
/* The outer product of two vectors: (m,) and (n,) give (m, n). [scope] */
ND_API nd_tensor *nd_outer(nd_tensor *a, nd_tensor *b);
/* The inverse of a square matrix (LAPACK). [scope] */
ND_API nd_tensor *nd_inv(nd_tensor *a);
/* The determinant of a square matrix, 0-d (LAPACK). [scope] */
ND_API nd_tensor *nd_det(nd_tensor *a);
/* x with a·x = b, a square, b (n,) or (n, k) (LAPACK). [scope] */
ND_API nd_tensor *nd_solve(nd_tensor *a, nd_tensor *b);
/* Symmetric eigendecomposition, values ascending, vectors as columns. [outputs: scope; untouched on
 * error] */
ND_API int nd_eigh(nd_tensor *a, nd_tensor **values, nd_tensor **vectors);
/* General eigendecomposition, values in LAPACK's order; outputs optional.
 * Differentiable (PyTorch's rules) where the eigenvalues are real and distinct. [outputs: scope;
 * untouched on error] */
ND_API int nd_eig(nd_tensor *a, nd_tensor **values_re, nd_tensor **values_im,
                  nd_tensor **vectors_re, nd_tensor **vectors_im);
/* Reduced SVD: u (m, k), s (k,), vt (k, n), k = min(m, n). [outputs: scope; untouched on error] */
ND_API int nd_svd(nd_tensor *a, nd_tensor **u, nd_tensor **s, nd_tensor **vt);

/* -------------------------------------------------------------- autograd */

/* Makes t a leaf whose gradient backward accumulates (float only) [t]. */
ND_API nd_tensor *nd_set_requires_grad(nd_tensor *t, bool on);
/* True when gradients flow to t (it requires one, or was made from one that does). */
ND_API bool nd_requires_grad(const nd_tensor *t);
/* The accumulated gradient of a leaf (NULL until a backward reaches it). [lent: the leaf owns it;
 * the next backward adds into it in place, an optimizer's zero_grad may replace it; nd_clone to
 * keep the values] */
ND_API nd_tensor *nd_grad(const nd_tensor *t);
/* Sets t's gradient to zeros in place (when it has one). */
ND_API void nd_zero_grad(nd_tensor *t);
/* True for tensors not made by a recorded op. */
ND_API bool nd_is_leaf(const nd_tensor *t);
/* The name of the op that made t ("mul", "matmul", ...), or NULL for a leaf. [static string] */
ND_API const char *nd_grad_fn_name(const nd_tensor *t);
/* Adds dy/dleaf into the gradient of every leaf y depends on; y must have
 * exactly one element (0 or -1). */
ND_API int nd_backward(nd_tensor *y);
/* nd_backward from a seed shaped like y (the gradient of a loss with respect to y). */
ND_API int nd_backward_with(nd_tensor *y, nd_tensor *seed);
/* A view of t outside the graph: same memory, no gradient history. [scope] */
ND_API nd_tensor *nd_detach(nd_tensor *t);
/* Turns recording for backward on or off on this thread; returns the previous mode. */
ND_API bool nd_set_grad_enabled(bool on);
/* True while ops record for backward (the default). */
ND_API bool nd_is_grad_enabled(void);
/* dy/dx of a one-element y; x may be a leaf or an intermediate that y depends on.
 * With create_graph the result is itself differentiable; without, it still
 * keeps its tangent when x is dual (a Hessian-vector product, as PyTorch). [scope] */
ND_API nd_tensor *nd_gradient(nd_tensor *y, nd_tensor *x, bool create_graph);
/* Several inputs at once: grads[i] receives dy/dxs[i] (zeros where y does not depend on it).
 * [grads: scope] */
ND_API int nd_gradients(nd_tensor *y, int n, nd_tensor *const *xs, nd_tensor **grads,
                        bool create_graph);

/* Forward mode: a dual tensor carries a tangent through every op. A new
 * tensor: primal's values with tangent attached. [scope] */
ND_API nd_tensor *nd_make_dual(nd_tensor *primal, nd_tensor *tangent);
/* t's tangent, NULL when none. [lent: t owns it, valid while t lives] */
ND_API nd_tensor *nd_tangent(const nd_tensor *t);

typedef enum { ND_FORWARD, ND_REVERSE } nd_ad_mode;
typedef enum { ND_LAYOUT_TENSOR, ND_LAYOUT_NUMERATOR } nd_layout;
typedef nd_tensor *(*nd_fn)(nd_tensor *x, void *ctx);

/* J·v by forward mode; fx optional (receives f(x)). [result and *fx: scope] */
ND_API nd_tensor *nd_jvp(nd_fn f, void *ctx, nd_tensor *x, nd_tensor *v, nd_tensor **fx);
/* uᵀ·J by reverse mode; fx optional. [result and *fx: scope] */
ND_API nd_tensor *nd_vjp(nd_fn f, void *ctx, nd_tensor *x, nd_tensor *u, nd_tensor **fx);
/* The Jacobian of f at x. ND_LAYOUT_TENSOR: shape f(x).shape + x.shape;
 * ND_LAYOUT_NUMERATOR: f(x).shape + reversed x.shape. [scope] */
ND_API nd_tensor *nd_jacobian(nd_fn f, void *ctx, nd_tensor *x, nd_ad_mode mode, nd_layout layout);
/* The Hessian of a scalar f at x: shape x.shape + x.shape. [scope] */
ND_API nd_tensor *nd_hessian(nd_fn f, void *ctx, nd_tensor *x);
/* 0 when both AD modes match central differences (in f64); else -1, the message
 * naming the worst element and both values. */
ND_API int nd_gradcheck(nd_fn f, void *ctx, nd_tensor *x, double eps, double atol, double rtol);
/* Graphviz DOT text of the graph behind root. [malloc'd: free() it] */
ND_API char *nd_graph_dot(const nd_tensor *root);

/* ------------------------------------------------ neural-network pieces */

/* x·wᵀ + b, w is (out, in); b optional (NULL). [scope] */
ND_API nd_tensor *nd_linear(nd_tensor *x, nd_tensor *w, nd_tensor *b);
/* The mean squared error, (pred - target)² averaged. [scope] */
ND_API nd_tensor *nd_mse_loss(nd_tensor *pred, nd_tensor *target);
/* Mean cross-entropy of logits (N, C) against ND_I64 labels (N,). [scope] */
ND_API nd_tensor *nd_cross_entropy(nd_tensor *logits, nd_tensor *labels);
/* lambda/2 · Σ‖w‖² over the n tensors: weight decay as a term of the loss. [scope] */
ND_API nd_tensor *nd_l2_penalty(int n, nd_tensor *const *ws, double lambda);

/* Initialisers, in place (seeded by nd_manual_seed), as torch.nn.init. */
/* torch.nn.Linear's default: w and b ~ U(-1/sqrt(in), 1/sqrt(in)); b optional. */
ND_API int nd_init_linear_(nd_tensor *w, nd_tensor *b);
/* t ~ U(lo, hi), in place. */
ND_API int nd_init_uniform_(nd_tensor *t, double lo, double hi);
/* t ~ N(mean, std²), in place. */
ND_API int nd_init_normal_(nd_tensor *t, double mean, double std);
/* Glorot uniform: U(±gain·sqrt(6 / (fan_in + fan_out))), in place. */
ND_API int nd_init_xavier_uniform_(nd_tensor *w, double gain);
/* Glorot normal: N(0, gain²·2 / (fan_in + fan_out)), in place. */
ND_API int nd_init_xavier_normal_(nd_tensor *w, double gain);
/* He uniform (fan_in, leaky_relu gain with slope a), in place. */
ND_API int nd_init_kaiming_uniform_(nd_tensor *w, double a);
/* He normal: N(0, gain² / fan_in), in place. */
ND_API int nd_init_kaiming_normal_(nd_tensor *w, double a);

/* Minibatches over the rows (dim 0) of x and y (y optional). */
typedef struct nd_batches nd_batches;
/* An iterator over minibatches (keeps x and y alive); free it with nd_batches_free. */
ND_API nd_batches *nd_batches_new(nd_tensor *x, nd_tensor *y, int64_t batch_size, bool shuffle,
                                  bool drop_last, uint64_t seed);
/* The next batch (in the current scope); false at the end of an epoch, after
 * which the next call starts a new epoch (reshuffled). Clears the error on entry: an error after it
 * is its own (its result cannot show one). [*xb, *yb: scope] */
ND_API bool nd_batches_next(nd_batches *b, nd_tensor **xb, nd_tensor **yb);
/* Batches per epoch (of this rank when sharded). */
ND_API int64_t nd_batches_count(const nd_batches *b);
/* Distributed mode, as torch's DistributedSampler: rank `rank` of `nranks`
 * (processes that made their iterators with the same seed) takes its own share
 * of every epoch's order: the order padded by repeating its start to a
 * multiple of nranks (or, with drop_tail, cut to one), then every nranks-th
 * row from position rank. Shares are disjoint (but for the padding) and
 * together cover the epoch. Call before the first batch. */
ND_API int nd_batches_set_shard(nd_batches *b, int rank, int nranks, bool drop_tail);
/* Frees the iterator (NULL is fine); its batches stay in their scopes. */
ND_API void nd_batches_free(nd_batches *b);

/* ------------------------------------------------------------ optimizers */

typedef struct nd_optim nd_optim;

typedef struct {
    double lr; /* must be > 0 */
    double momentum;
    double dampening;
    double weight_decay;
    bool nesterov;
} nd_sgd_opts;

typedef struct {
    double lr;
    double beta1, beta2;
    double eps;
    double weight_decay;
    bool decoupled; /* AdamW */
} nd_adam_opts;

#define ND_ADAM_DEFAULTS                                                                           \
    ((nd_adam_opts){.lr = 1e-3,                                                                    \
                    .beta1 = 0.9,                                                                  \
                    .beta2 = 0.999,                                                                \
                    .eps = 1e-8,                                                                   \
                    .weight_decay = 0.0,                                                           \
                    .decoupled = false})

/* SGD over the n parameters (each kept alive by the optimizer); free with nd_optim_free. */
ND_API nd_optim *nd_sgd(int n, nd_tensor *const *params, nd_sgd_opts opts);
/* Adam (AdamW when opts.decoupled) over the n parameters; free with nd_optim_free. */
ND_API nd_optim *nd_adam(int n, nd_tensor *const *params, nd_adam_opts opts);
/* Updates every parameter from its gradient (0 or -1). */
ND_API int nd_optim_step(nd_optim *o);
/* Zeros every parameter's gradient (before the next backward). */
ND_API void nd_optim_zero_grad(nd_optim *o);
/* Sets the learning rate of the next steps (a schedule calls it each epoch). */
ND_API void nd_optim_set_lr(nd_optim *o, double lr);
/* The current learning rate (NAN on error). */
ND_API double nd_optim_lr(const nd_optim *o);
/* Frees the optimizer and its state (NULL is fine); the parameters stay. */
ND_API void nd_optim_free(nd_optim *o);

/* Learning-rate schedules: the rate at step (or epoch) t from the base rate lr0. */
/* StepLR: lr0 · gamma^(t / step_size). */
ND_API double nd_lr_step(double lr0, int64_t t, int64_t step_size, double gamma);
/* ExponentialLR: lr0 · gamma^t. */
ND_API double nd_lr_exponential(double lr0, int64_t t, double gamma);
/* CosineAnnealingLR: from lr0 down to lr_min over t_max steps. */
ND_API double nd_lr_cosine(double lr0, int64_t t, int64_t t_max, double lr_min);
/* lr0·exp(-k t). */
ND_API double nd_lr_exp_decay(double lr0, double t, double k);
/* lr0·(1+αt)^-p. */
ND_API double nd_lr_poly_decay(double lr0, double t, double alpha, double power);

/* ----------------------------------------------------------------- files */

/* Writes t as a NumPy .npy file (0 or -1). */
ND_API int nd_save_npy(const nd_tensor *t, const char *path);
/* Reads a NumPy .npy file. [scope] */
ND_API nd_tensor *nd_load_npy(const char *path);
/* The same from memory (for tests and embedding). [scope] */
ND_API nd_tensor *nd_parse_npy(const void *bytes, size_t len);

/* safetensors files (Hugging Face's format for named tensors, what PyTorch
 * checkpoints use): nd_save_safetensors writes n tensors under n distinct
 * names (strided tensors are written as contiguous), atomically: the old
 * file stays whole if the write fails. nd_load_safetensors reads the tensor
 * `name` (NULL, and a message naming the file and the name, when absent).
 * nd_safetensors_names gives the number of tensors and their names in the
 * header's order as one malloc'd block, NULL-terminated: free(*names) frees
 * the array and the strings; -1 on error. Every file is checked in full. */
ND_API int nd_save_safetensors(const char *path, int n, const char *const *names,
                               nd_tensor *const *tensors);
/* Reads the tensor called name from a safetensors file. [scope] */
ND_API nd_tensor *nd_load_safetensors(const char *path, const char *name);
/* The names in a safetensors file (see above): the count, or -1. [*names: malloc'd, free(*names)]
 */
ND_API int nd_safetensors_names(const char *path, char ***names);
/* The same from memory (for tests and embedding). [scope] */
ND_API nd_tensor *nd_parse_safetensors(const void *bytes, size_t len, const char *name);
/* nd_safetensors_names from memory. [*names: malloc'd, free(*names)] */
ND_API int nd_parse_safetensors_names(const void *bytes, size_t len, char ***names);

/* ------------------------------------------- checkpoints (training state) */

/* A training run in one safetensors file, to stop and resume it bit-identical
 * to a run that never stopped. nd_checkpoint_save writes the n named tensors
 * (the model's parameters, and 0-d counters such as the epoch, from which a
 * schedule gives the rate) and, when opt is not NULL, the optimizer's state
 * under names beginning "optim.": its current learning rate, and per
 * parameter its step count and buffers (SGD's momentum_buffer, Adam's exp_avg
 * and exp_avg_sq, as PyTorch names them). Every optimizer parameter must be
 * among the tensors; its state is stored under that tensor's name. Written
 * atomically (the old file stays whole if the write fails).
 * nd_checkpoint_load reads such a file back in place into tensors of the same
 * names, shapes and dtypes and into opt (made over the same parameters with
 * the same kind and options); it checks every entry first, so a file that
 * does not fit (or is cut short) changes nothing. 0, or -1 + nd_last_error(). */
ND_API int nd_checkpoint_save(const char *path, int n, const char *const *names,
                              nd_tensor *const *tensors, const nd_optim *opt);
ND_API int nd_checkpoint_load(const char *path, int n, const char *const *names,
                              nd_tensor *const *tensors, nd_optim *opt);
/* Puts an iterator at the start of epoch `epoch` (0 is the first), with the
 * order it would have there had it run through the epochs before: for a run
 * resumed from a checkpoint. Keeps the shard settings. */
ND_API int nd_batches_set_epoch(nd_batches *b, int64_t epoch);

#ifdef __cplusplus
}
#endif
#endif /* ND_H */
