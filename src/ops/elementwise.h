/*
 * elementwise.h — the machinery every elementwise op shares: broadcasting,
 * dtype dispatch, strided iteration and threads, done once per op call (never
 * per element). An op supplies only its inner loops.
 *
 * An inner loop runs over n elements: a and b advance by sa and sb elements
 * (0 for a broadcast operand), the output by so (1 when it is a new tensor).
 * ND_BINARY_LOOPS/ND_UNARY_LOOPS write the loop for one C type with the cases
 * the compiler can vectorise (unit strides, a broadcast scalar) spelled out.
 */
#ifndef ND_ELEMENTWISE_H
#define ND_ELEMENTWISE_H

#include "../core/internal.h"

typedef void (*nd_binary_loop)(int64_t n, const char *a, int64_t sa, const char *b, int64_t sb,
                               char *out, int64_t so);
typedef void (*nd_unary_loop)(int64_t n, const char *in, int64_t si, char *out, int64_t so);

/* Loops indexed by the compute dtype; NULL where the op has no such loop. */
typedef struct {
    nd_binary_loop loop[6];
} nd_binary_loops;
typedef struct {
    nd_unary_loop loop[6];
} nd_unary_loops;

/* out = f(a, b) with broadcasting. Inputs are converted to `compute` first when
 * their dtype differs; the result has dtype `out_dtype` (the loop writes it). */
nd_tensor *nd__binary_apply(const char *op, nd_tensor *a, nd_tensor *b, nd_dtype compute,
                            nd_dtype out_dtype, const nd_binary_loops *loops);
/* out = f(t), t converted to `compute` first; result dtype out_dtype. */
nd_tensor *nd__unary_apply(const char *op, nd_tensor *t, nd_dtype compute, nd_dtype out_dtype,
                           const nd_unary_loops *loops);
/* dst = f(dst, src) in place, src broadcast to dst's shape (dst may be a view). */
int nd__binary_inplace(const char *op, nd_tensor *dst, nd_tensor *src,
                       const nd_binary_loops *loops);
/* The general loop: n elements of every operand, p[0] the output's (written),
 * p[1..] the inputs', each advancing by its stride[k] elements (0 when
 * broadcast); param is the op's own constant data (clamp's bounds). */
typedef void (*nd_loop)(int64_t n, char *const *p, const int64_t *stride, const void *param);
/* Runs loop over out (any layout, shape and dtype already set) and the inputs
 * in[0..nin) (nin <= 3, each in the dtype the loop reads) broadcast to out's
 * shape: the same strided, threaded iteration as the ops above. */
void nd__apply_into(nd_tensor *out, int nin, nd_tensor *const *in, nd_loop loop, const void *param);
/* dst = loop(src), src broadcast to dst's shape (dst may be a view): the
 * iteration under nd__copy_into. Fails, naming op, when src does not broadcast. */
int nd__unary_into(const char *op, nd_tensor *dst, nd_tensor *src, nd_unary_loop loop);

/* cast.c. Copies src (broadcast, converted) into dst, which may be strided. */
int nd__copy_into(const char *op, nd_tensor *dst, nd_tensor *src);
/* t itself when it is of dtype and contiguous, else a contiguous copy in dtype
 * (not recorded: for kernels that read memory in order). NULL for NULL. */
nd_tensor *nd__dense(const char *op, nd_tensor *t, nd_dtype dtype);

/* In-place writes (inplace.c). nd__check_inplace_target refuses a leaf that
 * requires a gradient (or a view of one) while gradients are recorded;
 * nd__record_inplace, called after the kernel wrote dst, records the write
 * (dst = copy of src, += alpha·src, *= alpha, or a fill) when src or the
 * tensor written into takes part in a graph or carries a tangent. */
typedef enum { ND_INPLACE_COPY, ND_INPLACE_ADD, ND_INPLACE_SCALE, ND_INPLACE_FILL } nd_inplace_kind;
int nd__check_inplace_target(const char *op, nd_tensor *dst);
int nd__record_inplace(const char *op, nd_tensor *dst, nd_tensor *src, nd_inplace_kind kind,
                       double alpha);

/* C (n × m, contiguous) = op(A)·op(B) + beta·C for F32/F64, row-major: op(A) is
 * n × k, read as A[i·lda + p] or, when trans_a, A[p·lda + i]; op(B) likewise.
 * nd's one BLAS wrapper (linalg.c; nd's own kernel in a build without BLAS).
 * Sizes and leading dimensions must fit BLAS's int. When beta is 0, C is only
 * written (it may hold garbage). */
void nd__gemm(nd_dtype dtype, bool trans_a, bool trans_b, int64_t n, int64_t m, int64_t k,
              const void *A, int64_t lda, const void *B, int64_t ldb, double beta, void *C);

/* The dtype of an op between a tensor and a Python-style ("weak") number:
 * a float tensor keeps its dtype; an integer tensor stays integer for an
 * integral number and becomes float32 otherwise; bool becomes int64 (or float32). */
nd_dtype nd__weak_scalar_dtype(nd_dtype t, double s);
/* The dtype of a float op (exp, sqrt, division) on dtype d: ints become float32. */
static inline nd_dtype nd__float_dtype(nd_dtype d) {
    return nd__is_float(d) ? d : ND_F32;
}

/* ---------------------------------------------------- loop generators */

#define ND_BINARY_LOOP(name, T, OUT_T, expr)                                                       \
    static void name(int64_t n, const char *pa, int64_t sa, const char *pb, int64_t sb, char *po,  \
                     int64_t so) {                                                                 \
        const T *restrict A = (const T *)pa;                                                       \
        const T *restrict B = (const T *)pb;                                                       \
        OUT_T *restrict O = (OUT_T *)po;                                                           \
        if (so == 1 && sa == 1 && sb == 1) {                                                       \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T x = A[i], y = B[i];                                                              \
                O[i] = (OUT_T)(expr);                                                              \
            }                                                                                      \
        } else if (so == 1 && sa == 1 && sb == 0) {                                                \
            const T y = B[0];                                                                      \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T x = A[i];                                                                        \
                O[i] = (OUT_T)(expr);                                                              \
            }                                                                                      \
        } else if (so == 1 && sa == 0 && sb == 1) {                                                \
            const T x = A[0];                                                                      \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T y = B[i];                                                                        \
                O[i] = (OUT_T)(expr);                                                              \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T x = A[i * sa], y = B[i * sb];                                                    \
                O[i * so] = (OUT_T)(expr);                                                         \
            }                                                                                      \
        }                                                                                          \
    }

#define ND_UNARY_LOOP(name, T, OUT_T, expr)                                                        \
    static void name(int64_t n, const char *pi, int64_t si, char *po, int64_t so) {                \
        const T *restrict I = (const T *)pi;                                                       \
        OUT_T *restrict O = (OUT_T *)po;                                                           \
        if (si == 1 && so == 1) {                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T x = I[i];                                                                        \
                O[i] = (OUT_T)(expr);                                                              \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T x = I[i * si];                                                                   \
                O[i * so] = (OUT_T)(expr);                                                         \
            }                                                                                      \
        }                                                                                          \
    }

/* All six types; bool gets its own expression (bool + bool is logical or in PyTorch). */
#define ND_BINARY_LOOPS_WITH_BOOL(name, expr, bool_expr)                                           \
    ND_BINARY_LOOP(name##_b8, bool, bool, bool_expr)                                               \
    ND_BINARY_LOOP(name##_u8, uint8_t, uint8_t, expr)                                              \
    ND_BINARY_LOOP(name##_i32, int32_t, int32_t, expr)                                             \
    ND_BINARY_LOOP(name##_i64, int64_t, int64_t, expr)                                             \
    ND_BINARY_LOOP(name##_f32, float, float, expr)                                                 \
    ND_BINARY_LOOP(name##_f64, double, double, expr)                                               \
    static const nd_binary_loops name = {                                                          \
        {name##_b8, name##_u8, name##_i32, name##_i64, name##_f32, name##_f64}};

/* Only the numeric (non-bool) types. */
#define ND_BINARY_LOOPS_NUMERIC(name, expr)                                                        \
    ND_BINARY_LOOP(name##_u8, uint8_t, uint8_t, expr)                                              \
    ND_BINARY_LOOP(name##_i32, int32_t, int32_t, expr)                                             \
    ND_BINARY_LOOP(name##_i64, int64_t, int64_t, expr)                                             \
    ND_BINARY_LOOP(name##_f32, float, float, expr)                                                 \
    ND_BINARY_LOOP(name##_f64, double, double, expr)                                               \
    static const nd_binary_loops name = {                                                          \
        {NULL, name##_u8, name##_i32, name##_i64, name##_f32, name##_f64}};

/* Float-only ops (exp, tanh...): f32 computes in float with the f-suffixed function
 * given as fexpr, f64 in double with dexpr. */
#define ND_UNARY_LOOPS_FLOAT(name, fexpr, dexpr)                                                   \
    ND_UNARY_LOOP(name##_f32, float, float, fexpr)                                                 \
    ND_UNARY_LOOP(name##_f64, double, double, dexpr)                                               \
    static const nd_unary_loops name = {{NULL, NULL, NULL, NULL, name##_f32, name##_f64}};

#define ND_UNARY_LOOPS_NUMERIC(name, expr)                                                         \
    ND_UNARY_LOOP(name##_u8, uint8_t, uint8_t, expr)                                               \
    ND_UNARY_LOOP(name##_i32, int32_t, int32_t, expr)                                              \
    ND_UNARY_LOOP(name##_i64, int64_t, int64_t, expr)                                              \
    ND_UNARY_LOOP(name##_f32, float, float, expr)                                                  \
    ND_UNARY_LOOP(name##_f64, double, double, expr)                                                \
    static const nd_unary_loops name = {                                                           \
        {NULL, name##_u8, name##_i32, name##_i64, name##_f32, name##_f64}};

/* ------------------------------------------- rules of f(x) elementwise */

/* The VJP (g·f'(x)) and the JVP (t·f'(x)) of an elementwise op from one
 * expression of its derivative, in x (the input) and out (the saved output,
 * for ops flagged ND_SAVES_OUTPUT). Built with nd ops, so a backward pass is
 * itself differentiable (second derivatives). */
#define UNARY_RULES(name, derivative)                                                              \
    static nd_tensor *name##_derivative(const nd_node *n, nd_tensor *out) {                        \
        nd_tensor *x = n->in[0];                                                                   \
        (void)x, (void)out;                                                                        \
        return derivative;                                                                         \
    }                                                                                              \
    static void name##_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {      \
        gin[0] = nd_mul(g, name##_derivative(n, out));                                             \
    }                                                                                              \
    static nd_tensor *name##_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {        \
        return tin[0] ? nd_mul(tin[0], name##_derivative(n, out)) : NULL;                          \
    }

/* A float op of one tensor: integer and bool inputs compute in float32. */
static inline nd_tensor *float_unary(const char *op, nd_tensor *t, const nd_unary_loops *loops) {
    nd_dtype dt = nd__float_dtype(t->dtype);
    return nd__unary_apply(op, t, dt, dt, loops);
}

#endif /* ND_ELEMENTWISE_H */
