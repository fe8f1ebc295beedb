/* Casts and copies: nd_to (a dtype conversion), nd_clone, nd_contiguous, and
 * the copy under them, nd__copy_into, which every op that writes into an
 * existing tensor uses. One loop per (from, to) pair of dtypes, run by the
 * shared elementwise iteration (elementwise.c). */
#include "elementwise.h"

#define CAST_LOOP(FROM, FT, TO, TT, expr) ND_UNARY_LOOP(cast_##FROM##_##TO, FT, TT, expr)

/* Float to integer goes through nd__to_int64 (core/internal.h, nd__store's
 * too): defined for NaN and out-of-range values. */
#define CAST_FROM(FROM, FT)                                                                        \
    CAST_LOOP(FROM, FT, b8, bool, x != 0)                                                          \
    CAST_LOOP(FROM, FT, u8, uint8_t, (uint8_t)(nd__to_int64((double)x) & 0xff))                    \
    CAST_LOOP(FROM, FT, i32, int32_t, (int32_t)(uint32_t)(uint64_t)nd__to_int64((double)x))        \
    CAST_LOOP(FROM, FT, i64, int64_t, nd__to_int64((double)x))                                     \
    CAST_LOOP(FROM, FT, f32, float, (float)x)                                                      \
    CAST_LOOP(FROM, FT, f64, double, (double)x)
CAST_FROM(b8, bool)
CAST_FROM(u8, uint8_t)
CAST_FROM(i32, int32_t)
CAST_FROM(i64, int64_t)
CAST_FROM(f32, float)
CAST_FROM(f64, double)

#define CAST_ROW(FROM)                                                                             \
    {                                                                                              \
        cast_##FROM##_b8, cast_##FROM##_u8, cast_##FROM##_i32, cast_##FROM##_i64,                  \
            cast_##FROM##_f32, cast_##FROM##_f64                                                   \
    }
static const nd_unary_loop cast_loops[6][6] = {CAST_ROW(b8),  CAST_ROW(u8),  CAST_ROW(i32),
                                               CAST_ROW(i64), CAST_ROW(f32), CAST_ROW(f64)};

int nd__copy_into(const char *op, nd_tensor *dst, nd_tensor *src) {
    ND_CHECK_INT(op, dst, src);
    /* a source that shares memory with dst is read from a copy: a write must
     * not overwrite what it has yet to read */
    if (src->storage == dst->storage && dst->numel > 0) src = nd_clone(src);
    if (!src) return -1;
    return nd__unary_into(op, dst, src, cast_loops[src->dtype][dst->dtype]);
}

nd_tensor *nd__dense(const char *op, nd_tensor *t, nd_dtype dtype) {
    if (!t) return NULL;
    if (t->dtype == dtype && t->contiguous) return t;
    nd_tensor *copy = nd__empty(dtype, t->ndim, t->shape);
    return copy && nd__copy_into(op, copy, t) == 0 ? copy : NULL;
}

/* Casting is differentiable between float types: the gradient is cast back by
 * the engine, so the VJP passes it through. */
static void to_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)n, (void)out;
    gin[0] = g;
}
static nd_tensor *to_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n;
    return tin[0] ? nd_to(tin[0], out->dtype) : NULL;
}
static const nd_op TO = {
    .name = "to",
    .vjp = to_vjp,
    .jvp = to_jvp,
    .flags = 0,
    .vjp_formula = "to(g, x's dtype)",
    .jvp_formula = "to(dx, y's dtype)",
};

nd_tensor *nd_to(nd_tensor *t, nd_dtype dtype) {
    ND_CHECK("nd_to", t);
    if ((unsigned)dtype > ND_F64)
        return nd__fail_as(ND_ERR_DTYPE, "nd_to: invalid dtype %d", (int)dtype);
    nd_tensor *out = nd__empty(dtype, t->ndim, t->shape);
    if (!out || nd__copy_into("nd_to", out, t)) return NULL;
    if (!nd__is_float(t->dtype)) return out;
    return nd__record(&TO, out, 1, &t, NULL);
}

static void clone_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)n, (void)out;
    gin[0] = g;
}
static nd_tensor *clone_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n, (void)out;
    return tin[0];
}
static const nd_op CLONE = {
    .name = "clone",
    .vjp = clone_vjp,
    .jvp = clone_jvp,
    .flags = 0,
    .vjp_formula = "g",
    .jvp_formula = "dx",
};

nd_tensor *nd_clone(nd_tensor *t) {
    ND_CHECK("nd_clone", t);
    nd_tensor *out = nd__empty(t->dtype, t->ndim, t->shape);
    if (!out || nd__copy_into("nd_clone", out, t)) return NULL;
    return nd__record(&CLONE, out, 1, &t, NULL);
}

nd_tensor *nd_contiguous(nd_tensor *t) {
    ND_CHECK("nd_contiguous", t);
    if (t->contiguous) /* a new header over the same memory: every op returns a new tensor */
        return nd__record(&CLONE, nd__alias(t, t->ndim, t->shape, t->strides, t->offset), 1, &t,
                          NULL);
    return nd_clone(t);
}
