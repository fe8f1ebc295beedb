/* + - * / between tensors (broadcast), with Python-number forms, and the
 * in-place writes. Each op: its kernel, its VJP and its JVP, side by side. */
#include "elementwise.h"

/* ---------------------------------------------------------------- add */

ND_BINARY_LOOPS_WITH_BOOL(add_with_or, x + y, x || y) /* bool + bool is logical or */

static void add_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)n, (void)out;
    gin[0] = g; /* the engine sums broadcast dims back */
    gin[1] = g;
}
static nd_tensor *add_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n; /* one tangent alone is in its input's shape and dtype */
    return nd__tangent_like(nd__tangent_sum(tin[0], tin[1]), out);
}
static const nd_op ADD = {
    .name = "add",
    .vjp = add_vjp,
    .jvp = add_jvp,
    .flags = ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "ga = g, gb = g (summed to each shape)",
    .jvp_formula = "da + db",
};

nd_tensor *nd_add(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_add", a, b);
    nd_dtype dt = nd__result_type(a, b);
    nd_tensor *out = nd__binary_apply("nd_add", a, b, dt, dt, &add_with_or);
    return nd__record(&ADD, out, 2, (nd_tensor *[]){a, b}, NULL);
}

/* ---------------------------------------------------------------- sub */

ND_BINARY_LOOPS_NUMERIC(sub_loops, x - y)

static void sub_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    gin[0] = g;
    if (n->in[1]->requires_grad) gin[1] = nd_neg(g);
}
static nd_tensor *sub_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n;
    return nd__tangent_like(nd__tangent_sub(tin[0], tin[1]), out);
}
static const nd_op SUB = {
    .name = "sub",
    .vjp = sub_vjp,
    .jvp = sub_jvp,
    .flags = ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "ga = g, gb = −g (summed to each shape)",
    .jvp_formula = "da − db",
};

nd_tensor *nd_sub(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_sub", a, b);
    /* PyTorch refuses any subtraction with a bool tensor, numbers included */
    if (a->dtype == ND_BOOL && b->dtype == ND_BOOL)
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_sub: Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use nd_ne (logical xor) instead");
    if (a->dtype == ND_BOOL || b->dtype == ND_BOOL)
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_sub: Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use nd_logical_not "
                           "instead");
    nd_dtype dt = nd__result_type(a, b);
    nd_tensor *out = nd__binary_apply("nd_sub", a, b, dt, dt, &sub_loops);
    return nd__record(&SUB, out, 2, (nd_tensor *[]){a, b}, NULL);
}

/* ---------------------------------------------------------------- mul */

ND_BINARY_LOOPS_WITH_BOOL(mul_with_and, x *y, x &&y) /* bool * bool is logical and */

static void mul_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    if (n->in[0]->requires_grad) gin[0] = nd_mul(g, n->in[1]);
    if (n->in[1]->requires_grad) gin[1] = nd_mul(g, n->in[0]);
}
static nd_tensor *mul_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return nd__tangent_sum(tin[0] ? nd_mul(tin[0], n->in[1]) : NULL,
                           tin[1] ? nd_mul(n->in[0], tin[1]) : NULL);
}
static const nd_op MUL = {
    .name = "mul",
    .vjp = mul_vjp,
    .jvp = mul_jvp,
    .flags = ND_SAVES_INPUTS | ND_READS_0_FOR_1 | ND_READS_1_FOR_0 | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "ga = g·b, gb = g·a (summed to each shape)",
    .jvp_formula = "da·b + a·db",
};

nd_tensor *nd_mul(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_mul", a, b);
    nd_dtype dt = nd__result_type(a, b);
    nd_tensor *out = nd__binary_apply("nd_mul", a, b, dt, dt, &mul_with_and);
    return nd__record(&MUL, out, 2, (nd_tensor *[]){a, b}, NULL);
}

/* ---------------------------------------------------------------- div */

/* True division, as PyTorch's `/`: integers divide as floats. */
ND_BINARY_LOOP(div_f32, float, float, x / y)
ND_BINARY_LOOP(div_f64, double, double, x / y)
static const nd_binary_loops div_loops = {{NULL, NULL, NULL, NULL, div_f32, div_f64}};

static void div_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *a = n->in[0], *b = n->in[1];
    if (a->requires_grad) gin[0] = nd_div(g, b);
    if (b->requires_grad) /* d(a/b)/db = -a/b² */
        gin[1] = nd_neg(nd_div(nd_mul(g, a), nd_mul(b, b)));
}
static nd_tensor *div_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    nd_tensor *a = n->in[0], *b = n->in[1];
    nd_tensor *ta = tin[0] ? nd_div(tin[0], b) : NULL;
    nd_tensor *tb = tin[1] ? nd_div(nd_mul(tin[1], a), nd_mul(b, b)) : NULL;
    return nd__tangent_sub(ta, tb);
}
/* a is read only for b's gradient; b always */
static const nd_op DIV = {
    .name = "div",
    .vjp = div_vjp,
    .jvp = div_jvp,
    .flags = ND_SAVES_INPUTS | ND_READS_0_FOR_1 | ND_BATCHABLE | ND_POINTWISE,
    .vjp_formula = "ga = g/b, gb = −g·a/b² (summed to each shape)",
    .jvp_formula = "da/b − a·db/b²",
};

nd_tensor *nd_div(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_div", a, b);
    nd_dtype dt = nd__float_dtype(nd__result_type(a, b));
    nd_tensor *out = nd__binary_apply("nd_div", a, b, dt, dt, &div_loops);
    return nd__record(&DIV, out, 2, (nd_tensor *[]){a, b}, NULL);
}

/* ------------------------------------------------------ Python numbers */

/* A number next to a tensor is a 0-d constant of the dtype the pair computes
 * in ("weak" typing): the op itself, its gradient and tangent are the tensor op's. */
static nd_tensor *weak(nd_tensor *t, double s) {
    return nd_scalar(s, nd__weak_scalar_dtype(t->dtype, s));
}

nd_tensor *nd_add_scalar(nd_tensor *t, double s) {
    ND_CHECK("nd_add_scalar", t);
    return nd_add(t, weak(t, s));
}
nd_tensor *nd_sub_scalar(nd_tensor *t, double s) {
    ND_CHECK("nd_sub_scalar", t);
    return nd_sub(t, weak(t, s));
}
nd_tensor *nd_mul_scalar(nd_tensor *t, double s) {
    ND_CHECK("nd_mul_scalar", t);
    return nd_mul(t, weak(t, s));
}
nd_tensor *nd_div_scalar(nd_tensor *t, double s) {
    ND_CHECK("nd_div_scalar", t);
    return nd_div(t, weak(t, s));
}
nd_tensor *nd_rsub_scalar(nd_tensor *t, double s) {
    ND_CHECK("nd_rsub_scalar", t);
    return nd_sub(weak(t, s), t);
}
nd_tensor *nd_rdiv_scalar(nd_tensor *t, double s) {
    ND_CHECK("nd_rdiv_scalar", t);
    return nd_div(weak(t, s), t);
}

/* ------------------------------------------------------------ in place */

/* In-place writes: a leaf that requires a gradient is refused while
 * gradients are recorded (nd__check_inplace_target); otherwise the write is
 * recorded when it takes part in a graph (inplace.c), and changing a tensor
 * that a backward rule reads is caught later by the version counters. */

/* An expanded view has elements that share one memory location (stride 0
 * over a dim of size > 1): a computed write into it would depend on the order
 * of the writes, so it is refused, as PyTorch does. (A fill writes one value
 * everywhere and is allowed.) */
static int check_no_shared_elements(const char *op, nd_tensor *t) {
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] > 1 && t->strides[d] == 0)
            return nd__fail_int("%s: unsupported operation: more than one element of the "
                                "written-to tensor refers to a single memory location. Please "
                                "clone() the tensor before performing the operation. (shape %s "
                                "is expanded along dim %d)",
                                op, nd__tshape(t), d);
    return 0;
}

/* PyTorch's names of dtypes in its casting message. */
static const char *torch_type_name(nd_dtype dtype) {
    static const char *names[] = {"Bool", "Byte", "Int", "Long", "Float", "Double"};
    return names[dtype];
}

/* An in-place op computes in `result` (the promotion of its operands) and
 * writes into dst: a float result cannot go into an integer tensor, nor a
 * number into a bool one, without losing what was computed (PyTorch's
 * can_cast). */
static int check_result_fits(const char *op, nd_tensor *dst, nd_dtype result) {
    bool fits = nd__is_float(dst->dtype) ||
                (!nd__is_float(result) && (dst->dtype != ND_BOOL || result == ND_BOOL));
    if (fits) return 0;
    return nd__fail_int_as(ND_ERR_DTYPE,
                           "%s: result type %s can't be cast to the desired output type %s (a %s "
                           "result into a %s tensor of shape %s)",
                           op, torch_type_name(result), torch_type_name(dst->dtype),
                           nd_dtype_name(result), nd_dtype_name(dst->dtype), nd__tshape(dst));
}

int nd_copy_(nd_tensor *dst, nd_tensor *src) {
    ND_CHECK_INT("nd_copy_", dst, src);
    if (nd__check_inplace_target("nd_copy_", dst) || check_no_shared_elements("nd_copy_", dst) ||
        nd__copy_into("nd_copy_", dst, src))
        return -1;
    nd__bump_version(dst);
    return nd__record_inplace("nd_copy_", dst, src, ND_INPLACE_COPY, 1.0);
}

int nd_fill_(nd_tensor *t, double value) {
    ND_CHECK_INT("nd_fill_", t);
    if (nd__check_inplace_target("nd_fill_", t)) return -1;
    nd_scope_begin();
    int rc = nd__copy_into("nd_fill_", t, nd_scalar(value, ND_F64));
    nd_scope_end();
    if (rc) return rc;
    nd__bump_version(t);
    return nd__record_inplace("nd_fill_", t, NULL, ND_INPLACE_FILL, 0.0);
}

int nd_add_(nd_tensor *dst, nd_tensor *src) {
    ND_CHECK_INT("nd_add_", dst, src);
    if (nd__check_inplace_target("nd_add_", dst) || check_no_shared_elements("nd_add_", dst) ||
        check_result_fits("nd_add_", dst, nd__result_type(dst, src)))
        return -1;
    if (nd__binary_inplace("nd_add_", dst, src, &add_with_or)) return -1;
    return nd__record_inplace("nd_add_", dst, src, ND_INPLACE_ADD, 1.0);
}

int nd_mul_scalar_(nd_tensor *t, double value) {
    ND_CHECK_INT("nd_mul_scalar_", t);
    if (nd__check_inplace_target("nd_mul_scalar_", t) ||
        check_no_shared_elements("nd_mul_scalar_", t) ||
        check_result_fits("nd_mul_scalar_", t, nd__weak_scalar_dtype(t->dtype, value)))
        return -1;
    nd_scope_begin();
    int rc = nd__binary_inplace("nd_mul_scalar_", t, nd_scalar(value, t->dtype), &mul_with_and);
    nd_scope_end();
    return rc ? rc : nd__record_inplace("nd_mul_scalar_", t, NULL, ND_INPLACE_SCALE, value);
}

int nd_axpy_(nd_tensor *dst, double alpha, nd_tensor *src) {
    ND_CHECK_INT("nd_axpy_", dst, src);
    if (nd__check_inplace_target("nd_axpy_", dst) || check_no_shared_elements("nd_axpy_", dst) ||
        check_result_fits("nd_axpy_", dst, nd__result_type(dst, src)))
        return -1;
    if (!nd__is_float(dst->dtype) && nd__weak_scalar_dtype(dst->dtype, alpha) == ND_F32)
        return nd__fail_int_as(ND_ERR_DTYPE,
                               "nd_axpy_: For integral input tensors, argument alpha must not be a "
                               "floating point number (got %g for a %s tensor)",
                               alpha, nd_dtype_name(dst->dtype));
    nd_scope_begin();
    bool previous = nd_set_grad_enabled(false);
    int rc =
        nd__binary_inplace("nd_axpy_", dst, nd_mul_scalar(nd_detach(src), alpha), &add_with_or);
    nd_set_grad_enabled(previous);
    nd_scope_end();
    return rc ? rc : nd__record_inplace("nd_axpy_", dst, src, ND_INPLACE_ADD, alpha);
}
