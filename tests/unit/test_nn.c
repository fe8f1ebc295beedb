/* nd_linear, nd_mse_loss, nd_cross_entropy and nd_l2_penalty against PyTorch
 * (golden values from tests/reference/optim.py), both AD modes by gradcheck,
 * second derivatives, and the messages for bad inputs. */
#include "support.h"

/* ----------------------------------------------------------------- linear */

ND_TEST(nn, linear_matches_torch_with_gradients) {
    nd_tensor *x = nd_set_requires_grad(golden("optim_nn_lin_x.npy"), true);
    nd_tensor *w = nd_set_requires_grad(golden("optim_nn_lin_w.npy"), true);
    nd_tensor *b = nd_set_requires_grad(golden("optim_nn_lin_b.npy"), true);
    nd_tensor *out = nd_linear(x, w, b);
    assert_close(out, golden("optim_nn_lin_out.npy"), 1e-12, 1e-12);
    cr_assert_eq(nd_backward(nd_sum(nd_mul(out, golden("optim_nn_lin_r.npy")), ND_ALL, false)), 0,
                 "%s", nd_last_error());
    assert_close(nd_grad(x), golden("optim_nn_lin_grad_x.npy"), 1e-12, 1e-12);
    assert_close(nd_grad(w), golden("optim_nn_lin_grad_w.npy"), 1e-12, 1e-12);
    assert_close(nd_grad(b), golden("optim_nn_lin_grad_b.npy"), 1e-12, 1e-12);
}

typedef struct {
    nd_tensor *x, *w, *b;
    int wrt; /* which argument gradcheck varies */
} linear_args;

static nd_tensor *linear_of(nd_tensor *v, void *ctx) {
    linear_args *a = ctx;
    return nd_linear(a->wrt == 0 ? v : a->x, a->wrt == 1 ? v : a->w, a->wrt == 2 ? v : a->b);
}

ND_TEST(nn, linear_gradcheck_every_input) {
    linear_args a = {golden("optim_nn_lin_x.npy"), golden("optim_nn_lin_w.npy"),
                     golden("optim_nn_lin_b.npy"), 0};
    nd_tensor *at[] = {a.x, a.w, a.b};
    for (a.wrt = 0; a.wrt < 3; a.wrt++)
        cr_assert_eq(nd_gradcheck(linear_of, &a, at[a.wrt], 1e-6, 1e-7, 1e-6), 0, "input %d: %s",
                     a.wrt, nd_last_error());
}

/* Σ tanh(linear(x, w, b)) as a function of w */
static nd_tensor *tanh_layer(nd_tensor *w, void *ctx) {
    linear_args *a = ctx;
    return nd_sum(nd_tanh(nd_linear(a->x, w, a->b)), ND_ALL, false);
}

ND_TEST(nn, linear_second_derivative) {
    linear_args a = {golden("optim_nn_lin_x.npy"), NULL, golden("optim_nn_lin_b.npy"), 1};
    nd_tensor *w = nd_set_requires_grad(nd_mul_scalar(golden("optim_nn_lin_w.npy"), 0.3), true);
    nd_tensor *v = nd_mul_scalar(golden("optim_nn_lin_w.npy"), -1.0);
    /* H·v by reverse over reverse, against central differences of the gradient */
    nd_tensor *g = nd_gradient(tanh_layer(w, &a), w, true);
    nd_tensor *hv = nd_gradient(nd_sum(nd_mul(g, v), ND_ALL, false), w, false);
    const double eps = 1e-6;
    nd_tensor *wp = nd_set_requires_grad(nd_add(nd_detach(w), nd_mul_scalar(v, eps)), true);
    nd_tensor *wm = nd_set_requires_grad(nd_sub(nd_detach(w), nd_mul_scalar(v, eps)), true);
    nd_tensor *numeric = nd_div_scalar(nd_sub(nd_gradient(tanh_layer(wp, &a), wp, false),
                                              nd_gradient(tanh_layer(wm, &a), wm, false)),
                                       2 * eps);
    assert_close(hv, numeric, 1e-6, 1e-7);
}

ND_TEST(nn, linear_integers_and_mixed_dtypes) {
    nd_tensor *y =
        nd_linear(nd_parse("[[1, 2]]"), nd_parse("[[3, 4], [5, 6]]"), nd_parse("[1, 1]"));
    cr_assert_eq(nd_type(y), ND_I64);
    assert_values(y, 0, 12, 18);
    cr_assert_null(
        nd_linear(nd_parse("[[1.0, 2.0]]"), nd_to(nd_parse("[[0.5, 0.25]]"), ND_F64), NULL));
    assert_error(
        "nd_linear: input, weight and bias must have one dtype (as in PyTorch), got float32, "
        "float64 and no bias");
}

ND_TEST(nn, linear_vector_input_and_no_bias) {
    nd_tensor *w = nd_parse("[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]");
    nd_tensor *y = nd_linear(nd_parse("[1.0, -1.0]"), w, NULL);
    assert_shape(y, ND_SHAPE(3));
    assert_values(y, 0, -1.0, -1.0, -1.0);
}

ND_TEST(nn, linear_bad_shapes) {
    nd_tensor *w = nd_zeros(ND_F32, ND_SHAPE(3, 2));
    cr_assert_null(nd_linear(nd_zeros(ND_F32, ND_SHAPE(4, 5)), w, NULL));
    assert_error("nd_linear: input of shape (4, 5) does not end in the weight's in-features 2");
    cr_assert_null(nd_linear(nd_zeros(ND_F32, ND_SHAPE(4, 2)), w, nd_zeros(ND_F32, ND_SHAPE(2))));
    assert_error("nd_linear: bias of shape (2,) does not match the weight's out-features");
    cr_assert_null(nd_linear(nd_zeros(ND_F32, ND_SHAPE(2)), nd_zeros(ND_F32, ND_SHAPE(2)), NULL));
    assert_error("nd_linear: the weight must be 2-D (out, in), got shape (2,)");
    nd_clear_error(); /* a NULL input keeps an earlier error */
    cr_assert_null(nd_linear(NULL, w, NULL));
    assert_error("nd_linear: NULL input");
}

/* -------------------------------------------------------------------- mse */

ND_TEST(nn, mse_matches_torch_with_gradients) {
    nd_tensor *p = nd_set_requires_grad(golden("optim_nn_pred.npy"), true);
    nd_tensor *t = nd_set_requires_grad(golden("optim_nn_target.npy"), true);
    nd_tensor *loss = nd_mse_loss(p, t);
    assert_close(loss, golden("optim_nn_mse_loss.npy"), 1e-14, 0);
    cr_assert_eq(nd_backward(loss), 0);
    assert_close(nd_grad(p), golden("optim_nn_mse_grad_pred.npy"), 1e-14, 1e-15);
    assert_close(nd_grad(t), golden("optim_nn_mse_grad_target.npy"), 1e-14, 1e-15);
    /* f32 in, f32 out */
    nd_tensor *l32 = nd_mse_loss(nd_to(p, ND_F32), nd_to(t, ND_F32));
    cr_assert_eq(nd_type(l32), ND_F32);
    assert_close(l32, golden("optim_nn_mse_loss.npy"), 1e-6, 0);
}

static nd_tensor *mse_against(nd_tensor *x, void *target) {
    return nd_mse_loss(x, target);
}

ND_TEST(nn, mse_gradcheck_and_second_derivative) {
    nd_tensor *target = golden("optim_nn_target.npy");
    nd_tensor *x = golden("optim_nn_pred.npy");
    cr_assert_eq(nd_gradcheck(mse_against, target, x, 1e-6, 1e-7, 1e-6), 0, "%s", nd_last_error());
    /* d²/dx² of mean((x − t)²) is 2/N on the diagonal: the Hessian-vector product with v is 2v/N */
    nd_tensor *xv = nd_set_requires_grad(nd_clone(x), true);
    nd_tensor *g = nd_gradient(nd_mse_loss(xv, target), xv, true);
    nd_tensor *v = golden("optim_nn_target.npy");
    nd_tensor *hv = nd_gradient(nd_sum(nd_mul(g, v), ND_ALL, false), xv, false);
    assert_close(hv, nd_mul_scalar(v, 2.0 / 12), 1e-12, 1e-14);
}

ND_TEST(nn, mse_bad_inputs) {
    cr_assert_null(nd_mse_loss(nd_zeros(ND_F32, ND_SHAPE(3)), nd_zeros(ND_F32, ND_SHAPE(3, 1))));
    assert_error("nd_mse_loss: pred of shape (3,) and target of shape (3, 1) must have the same "
                 "shape");
    cr_assert_null(nd_mse_loss(nd_zeros(ND_I64, ND_SHAPE(3)), nd_zeros(ND_I64, ND_SHAPE(3))));
    assert_error("must be floating point, got int64 and int64");
    nd_clear_error(); /* a NULL input keeps an earlier error */
    cr_assert_null(nd_mse_loss(nd_zeros(ND_F32, ND_SHAPE(3)), NULL));
    assert_error("nd_mse_loss: NULL input");
}

/* ---------------------------------------------------------- cross-entropy */

ND_TEST(nn, cross_entropy_matches_torch_and_is_stable) {
    nd_tensor *logits = nd_set_requires_grad(golden("optim_nn_logits.npy"), true);
    nd_tensor *labels = golden("optim_nn_labels.npy"); /* row 3 holds ±1000 */
    nd_tensor *loss = nd_cross_entropy(logits, labels);
    assert_close(loss, golden("optim_nn_ce_loss.npy"), 1e-13, 0);
    nd_tensor *g = nd_gradient(loss, logits, true);
    assert_close(g, golden("optim_nn_ce_grad.npy"), 1e-12, 1e-15);
    nd_tensor *hvp = nd_gradient(nd_sum(nd_mul(g, golden("optim_nn_direction.npy")), ND_ALL, false),
                                 logits, false);
    assert_close(hvp, golden("optim_nn_ce_hvp.npy"), 1e-10, 1e-13);
    /* first order without create_graph takes the fused path: same numbers */
    cr_assert_eq(nd_backward(nd_cross_entropy(logits, labels)), 0);
    assert_close(nd_grad(logits), golden("optim_nn_ce_grad.npy"), 1e-12, 1e-15);
    /* f32 at ±1000: finite, and right */
    nd_tensor *l32 = nd_cross_entropy(nd_to(logits, ND_F32), labels);
    cr_assert_eq(nd_type(l32), ND_F32);
    assert_close(l32, golden("optim_nn_ce_loss.npy"), 1e-6, 0);
}

ND_TEST(nn, cross_entropy_is_log_softmax_and_softmax_in_f32) {
    /* one kernel (softmax.c's) for both, f32 exponentials taken in float: the
     * loss is exactly −mean(log_softmax(x)[label]), and with N = 64 (dividing
     * by it is exact) the gradient is exactly (softmax(x) − onehot)/N */
    nd_manual_seed(7);
    nd_tensor *x = nd_mul_scalar(nd_randn(ND_F32, ND_SHAPE(64, 1000)), 3.0);
    nd_tensor *labels = nd_randint(0, 1000, ND_SHAPE(64));
    nd_tensor *rows = nd_unsqueeze(labels, 1);
    nd_tensor *picked = nd_gather(nd_log_softmax(x, -1), 1, rows);
    assert_close(nd_cross_entropy(x, labels), nd_neg(nd_mean(picked, ND_ALL, false)), 0, 0);
    nd_tensor *xv = nd_set_requires_grad(nd_clone(x), true);
    cr_assert_eq(nd_backward(nd_cross_entropy(xv, labels)), 0);
    nd_tensor *hot = nd_eq(nd_unsqueeze(nd_arange(0, (double)nd_shape(x)[1], 1, ND_I64), 0), rows);
    nd_tensor *expected =
        nd_div_scalar(nd_sub(nd_softmax(x, -1), nd_to(hot, ND_F32)), (double)nd_shape(x)[0]);
    assert_close(nd_grad(xv), expected, 0, 0);
}

static nd_tensor *cross_entropy_of(nd_tensor *x, void *labels) {
    return nd_cross_entropy(x, labels);
}

ND_TEST(nn, cross_entropy_gradcheck_both_modes) {
    nd_tensor *logits = nd_mul_scalar(golden("optim_nn_direction.npy"), 2.0);
    cr_assert_eq(
        nd_gradcheck(cross_entropy_of, golden("optim_nn_labels.npy"), logits, 1e-6, 1e-7, 1e-6), 0,
        "%s", nd_last_error());
}

ND_TEST(nn, cross_entropy_single_sample_and_extremes) {
    /* (C,) logits with a 0-d label, as PyTorch: -log softmax(x)[label] */
    nd_tensor *loss = nd_cross_entropy(nd_parse("[1.0, 2.0, 3.0]"), nd_scalar(2, ND_I64));
    assert_values(loss, 1e-6, 0.40760596);
    /* the right class at +1000 above the others: loss 0, not NaN */
    loss = nd_cross_entropy(nd_parse("[[1000.0, -1000.0], [-1000.0, 1000.0]]"), nd_parse("[0, 1]"));
    assert_values(loss, 0, 0.0);
    loss = nd_cross_entropy(nd_parse("[[1000.0, -1000.0]]"), nd_parse("[1]"));
    assert_values(loss, 1e-9, 2000.0);
}

ND_TEST(nn, cross_entropy_bad_inputs) {
    nd_tensor *logits = nd_zeros(ND_F32, ND_SHAPE(2, 3));
    cr_assert_null(nd_cross_entropy(logits, nd_parse("[0.0, 1.0]")));
    assert_error("nd_cross_entropy: labels must be integer class indices (ND_I64), got float32");
    cr_assert_null(nd_cross_entropy(logits, nd_parse("[0, 3]")));
    assert_error("nd_cross_entropy: label 3 at row 1 is out of range for 3 classes");
    cr_assert_null(nd_cross_entropy(logits, nd_parse("[-1, 0]")));
    assert_error("label -1 at row 0 is out of range");
    cr_assert_null(nd_cross_entropy(logits, nd_parse("[0, 1, 2]")));
    assert_error("expected logits (N, C) and labels (N,)");
    cr_assert_null(nd_cross_entropy(nd_zeros(ND_I64, ND_SHAPE(2, 3)), nd_parse("[0, 1]")));
    assert_error("nd_cross_entropy: logits must be floating point, got int64");
    nd_clear_error(); /* a NULL input keeps an earlier error */
    cr_assert_null(nd_cross_entropy(logits, NULL));
    assert_error("nd_cross_entropy: NULL input");
}

/* ------------------------------------------------------------- l2 penalty */

ND_TEST(nn, l2_penalty_value_and_gradient) {
    nd_tensor *w1 = nd_set_requires_grad(nd_parse("[[1.0, 2.0], [3.0, 4.0]]"), true);
    nd_tensor *w2 = nd_set_requires_grad(nd_parse("[-1.0, 0.5]"), true);
    nd_tensor *p = nd_l2_penalty(2, (nd_tensor *[]){w1, w2}, 0.1);
    assert_values(p, 1e-6, 0.05 * (30.0 + 1.25)); /* λ/2·Σ‖w‖² */
    cr_assert_eq(nd_backward(p), 0);
    assert_values(nd_grad(w1), 1e-6, 0.1, 0.2, 0.3, 0.4); /* λ·w */
    assert_values(nd_grad(w2), 1e-6, -0.1, 0.05);
    assert_values(nd_l2_penalty(0, NULL, 1.0), 0, 0.0);
    nd_clear_error(); /* a NULL input keeps an earlier error */
    cr_assert_null(nd_l2_penalty(2, (nd_tensor *[]){w1, NULL}, 0.1));
    assert_error("nd_l2_penalty: NULL input");
    cr_assert_null(nd_l2_penalty(-1, NULL, 0.1));
    assert_error("nd_l2_penalty: expected n >= 0 tensors");
}
