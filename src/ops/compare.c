/* Comparisons (eq, ne, lt, le, gt, ge -> bool), where(cond, a, b), and the two
 * whole-tensor tests allclose and equal. Comparisons are not differentiable:
 * their results are bool, which carries no gradient. where is differentiable
 * in a and b. */
#include "elementwise.h"

#include <math.h>

/* ---------------------------------------------------------- comparisons */

/* Both operands are promoted to a common dtype first (an int64 and a float32
 * compare as float32), as PyTorch. NaN compares false except with ne. */
#define COMPARE_LOOPS(name, expr)                                                                  \
    ND_BINARY_LOOP(name##_b8, bool, bool, expr)                                                    \
    ND_BINARY_LOOP(name##_u8, uint8_t, bool, expr)                                                 \
    ND_BINARY_LOOP(name##_i32, int32_t, bool, expr)                                                \
    ND_BINARY_LOOP(name##_i64, int64_t, bool, expr)                                                \
    ND_BINARY_LOOP(name##_f32, float, bool, expr)                                                  \
    ND_BINARY_LOOP(name##_f64, double, bool, expr)                                                 \
    static const nd_binary_loops name = {                                                          \
        {name##_b8, name##_u8, name##_i32, name##_i64, name##_f32, name##_f64}};

COMPARE_LOOPS(eq_loops, x == y)
COMPARE_LOOPS(ne_loops, x != y)
COMPARE_LOOPS(lt_loops, x < y)
COMPARE_LOOPS(le_loops, x <= y)
COMPARE_LOOPS(gt_loops, x > y)
COMPARE_LOOPS(ge_loops, x >= y)

static nd_tensor *compare(const char *op, nd_tensor *a, nd_tensor *b,
                          const nd_binary_loops *loops) {
    ND_CHECK(op, a, b);
    return nd__binary_apply(op, a, b, nd__result_type(a, b), ND_BOOL, loops);
}

nd_tensor *nd_eq(nd_tensor *a, nd_tensor *b) {
    return compare("nd_eq", a, b, &eq_loops);
}
nd_tensor *nd_ne(nd_tensor *a, nd_tensor *b) {
    return compare("nd_ne", a, b, &ne_loops);
}
nd_tensor *nd_lt(nd_tensor *a, nd_tensor *b) {
    return compare("nd_lt", a, b, &lt_loops);
}
nd_tensor *nd_le(nd_tensor *a, nd_tensor *b) {
    return compare("nd_le", a, b, &le_loops);
}
nd_tensor *nd_gt(nd_tensor *a, nd_tensor *b) {
    return compare("nd_gt", a, b, &gt_loops);
}
nd_tensor *nd_ge(nd_tensor *a, nd_tensor *b) {
    return compare("nd_ge", a, b, &ge_loops);
}

/* ---------------------------------------------------------------- where */

/* where only moves elements, so one loop per element size (1, 4, 8 bytes)
 * serves every dtype. The selection is a bit mask (all ones where cond holds),
 * which the compiler vectorises; `c ? a : b` it does not. */
enum { W_OUT, W_COND, W_A, W_B };

#define SELECT(T, c, a, b) ((T)(((a) & (T)(0 - (T)(c))) | ((b) & (T) ~(T)(0 - (T)(c)))))
#define WHERE_LOOP(name, T)                                                                        \
    static void name(int64_t n, char *const *p, const int64_t *s, const void *param) {             \
        (void)param;                                                                               \
        const bool *restrict c = (const bool *)p[W_COND];                                          \
        const T *restrict a = (const T *)p[W_A];                                                   \
        const T *restrict b = (const T *)p[W_B];                                                   \
        T *restrict o = (T *)p[W_OUT];                                                             \
        if (s[W_OUT] == 1 && s[W_COND] == 1 && s[W_A] == 1 && s[W_B] == 1) {                       \
            for (int64_t i = 0; i < n; i++) o[i] = SELECT(T, c[i], a[i], b[i]);                    \
        } else if (s[W_OUT] == 1 && s[W_COND] == 1 && s[W_A] == 1 && s[W_B] == 0) {                \
            const T other = b[0]; /* where(mask, g, 0): the common backward case */                \
            for (int64_t i = 0; i < n; i++) o[i] = SELECT(T, c[i], a[i], other);                   \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++)                                                        \
                o[i * s[W_OUT]] = SELECT(T, c[i * s[W_COND]], a[i * s[W_A]], b[i * s[W_B]]);       \
        }                                                                                          \
    }
WHERE_LOOP(where_1, uint8_t)
WHERE_LOOP(where_4, uint32_t)
WHERE_LOOP(where_8, uint64_t)

static void where_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *cond = n->in[0], *zero = nd_scalar(0.0, g->dtype);
    if (n->in[1]->requires_grad) gin[1] = nd_where(cond, g, zero);
    if (n->in[2]->requires_grad) gin[2] = nd_where(cond, zero, g);
}
static nd_tensor *where_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    if (!tin[1] && !tin[2]) return nd_zeros_like(out); /* only cond has a tangent */
    nd_tensor *zero = nd_scalar(0.0, out->dtype); /* the operand without one may be the widest */
    return nd__tangent_like(nd_where(n->in[0], tin[1] ? tin[1] : zero, tin[2] ? tin[2] : zero),
                            out);
}
static const nd_op WHERE = {
    .name = "where",
    .vjp = where_vjp,
    .jvp = where_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "ga = g where cond, gb = g where not cond (summed to each shape)",
    .jvp_formula = "where(cond, da, db)",
};

nd_tensor *nd_where(nd_tensor *cond, nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_where", cond, a, b);
    int ndim_ab, ndim;
    int64_t shape_ab[ND_MAX_DIMS], shape[ND_MAX_DIMS];
    if (!nd__broadcast_shape("nd_where", a->ndim, a->shape, b->ndim, b->shape, &ndim_ab,
                             shape_ab) ||
        !nd__broadcast_shape("nd_where", cond->ndim, cond->shape, ndim_ab, shape_ab, &ndim, shape))
        return NULL;
    nd_dtype dt = nd__result_type(a, b);
    /* A numeric condition means "!= 0", as NumPy. */
    nd_tensor *mask = cond->dtype == ND_BOOL ? cond : nd_ne(cond, nd_scalar(0.0, cond->dtype));
    nd_tensor *av = a->dtype == dt ? a : nd_to(a, dt);
    nd_tensor *bv = b->dtype == dt ? b : nd_to(b, dt);
    nd_tensor *out = nd__empty(dt, ndim, shape);
    if (!mask || !av || !bv || !out) return NULL;
    size_t esize = nd_dtype_size(dt);
    nd__apply_into(out, 3, (nd_tensor *[]){mask, av, bv},
                   esize == 1   ? where_1
                   : esize == 4 ? where_4
                                : where_8,
                   NULL);
    return nd__record(&WHERE, out, 3, (nd_tensor *[]){cond, a, b}, NULL);
}

/* ------------------------------------------------- allclose and equal */

/* True when every element of the bool tensor is true. */
static bool all_true(nd_tensor *t) {
    const bool *p = nd__ptr(t); /* a fresh comparison result: contiguous */
    for (int64_t i = 0; i < t->numel; i++)
        if (!p[i]) return false;
    return true;
}

/* NumPy's allclose: |a - b| <= atol + rtol·|b| elementwise, with broadcasting;
 * NaN is never close, infinities are close only to themselves. */
bool nd_allclose(nd_tensor *a, nd_tensor *b, double rtol, double atol) {
    if (nd__any_null("nd_allclose", 2, (nd_tensor *[]){a, b})) return false;
    nd_clear_error(); /* false may be the answer: an error set after this is this call's */
    if (isnan(rtol) || isnan(atol) || rtol < 0 || atol < 0) {
        nd__set_error("nd_allclose: tolerances must be non-negative numbers (rtol %g, atol %g)",
                      rtol, atol);
        return false;
    }
    int ndim;
    int64_t shape[ND_MAX_DIMS];
    if (!nd__broadcast_shape("nd_allclose", a->ndim, a->shape, b->ndim, b->shape, &ndim, shape))
        return false;
    nd_scope_begin();
    bool previous = nd_set_grad_enabled(false);
    nd_tensor *a64 = nd_to(nd_detach(a), ND_F64), *b64 = nd_to(nd_detach(b), ND_F64);
    nd_tensor *tolerance = nd_add_scalar(nd_mul_scalar(nd_abs(b64), rtol), atol);
    nd_tensor *within = nd_le(nd_abs(nd_sub(a64, b64)), tolerance);
    /* The formula holds for finite values only (NumPy): inf is close to nothing but
     * itself, which == catches. bool · bool is "and", bool + bool is "or". */
    nd_tensor *inf = nd_scalar(INFINITY, ND_F64);
    nd_tensor *finite = nd_mul(nd_lt(nd_abs(a64), inf), nd_lt(nd_abs(b64), inf));
    nd_tensor *close = nd_add(nd_mul(within, finite), nd_eq(a64, b64));
    bool result = close && all_true(close);
    nd_set_grad_enabled(previous);
    nd_scope_end();
    return result;
}

/* torch.equal: same shape and every value equal (NaN is not equal to itself). */
bool nd_equal(nd_tensor *a, nd_tensor *b) {
    if (nd__any_null("nd_equal", 2, (nd_tensor *[]){a, b})) return false;
    nd_clear_error(); /* false may be the answer: an error set after this is this call's */
    if (!nd__same_shape(a, b)) return false;
    nd_scope_begin();
    nd_tensor *same = nd_eq(a, b);
    bool result = same && all_true(same);
    nd_scope_end();
    return result;
}
