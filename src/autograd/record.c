/* Leaves and duals that need ops: a leaf's gradient (nd_grad, zeroing it),
 * nd_make_dual and nd_tangent. Recording itself is the tape, src/core/tape.c. */
#include "../core/internal.h"

/* Only leaves keep a gradient, as in PyTorch. Asking a non-leaf for one is
 * almost always the slide's update written as C, `w = nd_sub(w, ...)`: the new
 * w is the result of an op, so the next backward leaves its gradient empty.
 * The error says so, and how to update instead. */
nd_tensor *nd_grad(const nd_tensor *t) {
    if (nd__bad_tensor("nd_grad", t)) return NULL;
    if (t->node && t->requires_grad)
        return nd__fail_as(
            ND_ERR_NOT_DIFFERENTIABLE,
            "nd_grad: this tensor is not a leaf: it is the result of '%s', and backward keeps "
            "gradients only in leaves (tensors made by nd_set_requires_grad). If it is a parameter "
            "you replaced with an update like w = nd_sub(w, nd_mul_scalar(nd_grad(w), lr)), the "
            "new w is an op's result and has no gradient: update w in place with gradients off "
            "(nd_set_grad_enabled(false); nd_axpy_(w, -lr, nd_grad(w)); "
            "nd_set_grad_enabled(true)) or use an optimizer (nd_sgd, nd_optim_step)",
            t->node->op->name);
    return t->grad;
}

void nd_zero_grad(nd_tensor *t) {
    if (t && t->grad) nd_fill_(t->grad, 0.0);
}

static void dual_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)n, (void)out;
    gin[0] = g;
}
static nd_tensor *dual_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n, (void)out, (void)tin;
    return NULL; /* make_dual sets the tangent itself */
}
static const nd_op MAKE_DUAL = {
    .name = "make_dual",
    .vjp = dual_vjp,
    .jvp = dual_jvp,
    .flags = 0,
    .vjp_formula = "g (make_dual only marks its input)",
    .jvp_formula = "the tangent it was given",
};

nd_tensor *nd_make_dual(nd_tensor *primal, nd_tensor *tangent) {
    ND_CHECK("nd_make_dual", primal, tangent);
    if (!nd__is_float(primal->dtype))
        return nd__fail_as(ND_ERR_DTYPE, "nd_make_dual: the primal must be floating point, got %s",
                           nd_dtype_name(primal->dtype));
    if (!nd__same_shape(primal, tangent))
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_make_dual: tangent of shape %s does not match primal of shape %s",
                           nd__tshape(tangent), nd__tshape(primal));
    nd_tensor *dual =
        nd__alias(primal, primal->ndim, primal->shape, primal->strides, primal->offset);
    bool previous = nd__set_forward_enabled(false);
    dual = nd__record(&MAKE_DUAL, dual, 1, &primal, NULL);
    nd__set_forward_enabled(previous);
    if (!dual) return NULL;
    if (tangent->dtype != primal->dtype) tangent = nd_to(tangent, primal->dtype);
    if (!tangent) return NULL;
    if (dual->tangent) nd_release(dual->tangent);
    dual->tangent = nd_retain(tangent);
    return dual;
}

nd_tensor *nd_tangent(const nd_tensor *t) {
    return t ? t->tangent : NULL;
}
