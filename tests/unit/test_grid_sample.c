/* nd_affine_grid and nd_grid_sample: PyTorch's values and gradients
 * (tests/reference/image.py), both AD modes against central differences in
 * f64, second derivatives where they are supported, and bad inputs. */
#include "support.h"

#include <nd_image.h>

static nd_tensor *gold(const char *what, const char *tag) {
    char file[128];
    snprintf(file, sizeof file, "image_%s%s%s.npy", what, tag ? "_" : "", tag ? tag : "");
    return golden(file);
}

#define GRADCHECK(f, ctx, x)                                                                       \
    cr_assert_eq(nd_gradcheck((f), (ctx), (x), 1e-6, 1e-7, 1e-6), 0, "%s", nd_last_error())

ND_TEST(grid_sample, affine_grid_matches_torch) {
    for (int align = 0; align <= 1; align++) {
        const char *tag = align ? "align" : "noalign";
        nd_tensor *theta = nd_set_requires_grad(nd_clone(gold("theta", NULL)), true);
        nd_tensor *grid = nd_affine_grid(theta, 2, 3, 5, 7, align);
        assert_shape(grid, ND_SHAPE(2, 5, 7, 2));
        assert_close(grid, gold("affine_grid", tag), 1e-12, 1e-13);
        nd_tensor *loss = nd_sum(nd_mul(grid, gold("grid_weight", NULL)), ND_ALL, false);
        cr_assert_eq(nd_backward(loss), 0, "%s", nd_last_error());
        assert_close(nd_grad(theta), gold("affine_grid_gtheta", tag), 1e-12, 1e-12);
        /* f32 in, f32 out */
        nd_tensor *g32 = nd_affine_grid(nd_to(gold("theta", NULL), ND_F32), 2, 3, 5, 7, align);
        cr_assert_eq(nd_type(g32), ND_F32);
        assert_close(g32, gold("affine_grid", tag), 1e-6, 1e-6);
    }
}

ND_TEST(grid_sample, values_and_gradients_match_torch) {
    for (int align = 0; align <= 1; align++) {
        const char *tag = align ? "align" : "noalign";
        nd_tensor *x = nd_set_requires_grad(nd_clone(gold("sample_input", NULL)), true);
        nd_tensor *grid = nd_set_requires_grad(nd_clone(gold("sample_grid", NULL)), true);
        nd_tensor *out = nd_grid_sample(x, grid, align);
        assert_shape(out, ND_SHAPE(2, 3, 4, 3));
        assert_close(out, gold("sample_out", tag), 1e-12, 1e-12);
        cr_assert_str_eq(nd_grad_fn_name(out), "grid_sample");
        nd_tensor *loss = nd_sum(nd_mul(out, gold("sample_weight", NULL)), ND_ALL, false);
        cr_assert_eq(nd_backward(loss), 0, "%s", nd_last_error());
        assert_close(nd_grad(x), gold("sample_ginput", tag), 1e-12, 1e-12);
        assert_close(nd_grad(grid), gold("sample_ggrid", tag), 1e-11, 1e-11);
        nd_tensor *out32 = nd_grid_sample(nd_to(gold("sample_input", NULL), ND_F32),
                                          nd_to(gold("sample_grid", NULL), ND_F32), align);
        cr_assert_eq(nd_type(out32), ND_F32);
        assert_close(out32, gold("sample_out32", tag), 1e-5, 1e-5);
    }
}

ND_TEST(grid_sample, rotating_the_test_card_matches_torch) {
    nd_tensor *card = nd_unsqueeze(nd_image_to_float(nd_image_read(data_path("testcard.png"))), 0);
    double c = cos(0.5), s = sin(0.5);
    const float theta[6] = {(float)c, (float)-s, 0.1f, (float)s, (float)c, -0.2f};
    nd_tensor *grid =
        nd_affine_grid(nd_from(ND_F32, ND_SHAPE(1, 2, 3), theta), 1, 3, 240, 320, false);
    /* torch computes pixel positions near 320 in float (steps of 3e-5): nd in double */
    assert_close(nd_grid_sample(card, grid, false), golden("image_card_rotated.npy"), 0, 1e-4);
}

/* ------------------------------------------------ finite differences */

typedef struct {
    nd_tensor *input, *grid, *theta;
    bool align;
} sample_ctx;

static nd_tensor *of_input(nd_tensor *x, void *p) {
    sample_ctx *c = p;
    return nd_grid_sample(x, c->grid, c->align);
}
static nd_tensor *of_grid(nd_tensor *g, void *p) {
    sample_ctx *c = p;
    return nd_grid_sample(c->input, g, c->align);
}
static nd_tensor *of_theta(nd_tensor *theta, void *p) {
    sample_ctx *c = p;
    return nd_grid_sample(c->input, nd_affine_grid(theta, 2, 3, 3, 4, c->align), c->align);
}
static nd_tensor *grid_of_theta(nd_tensor *theta, void *p) {
    sample_ctx *c = p;
    return nd_affine_grid(theta, 2, 3, 3, 4, c->align);
}

ND_TEST(grid_sample, both_modes_match_central_differences) {
    for (int align = 0; align <= 1; align++) {
        sample_ctx c = {gold("sample_input", NULL), gold("sample_grid", NULL), gold("theta", NULL),
                        align};
        GRADCHECK(of_input, &c, c.input);
        GRADCHECK(of_grid, &c, c.grid);
        GRADCHECK(grid_of_theta, &c, c.theta);
        GRADCHECK(of_theta, &c, c.theta);
    }
}

ND_TEST(grid_sample, tangents_of_input_and_grid_together) {
    sample_ctx c = {gold("sample_input", NULL), gold("sample_grid", NULL), NULL, false};
    nd_tensor *vx = nd_randn(ND_F64, 4, nd_shape(c.input));
    nd_tensor *vg = nd_randn(ND_F64, 4, nd_shape(c.grid));
    nd_tensor *out = nd_grid_sample(nd_make_dual(c.input, vx), nd_make_dual(c.grid, vg), false);
    const double eps = 1e-6;
    nd_tensor *plus = nd_grid_sample(nd_add(c.input, nd_mul_scalar(vx, eps)),
                                     nd_add(c.grid, nd_mul_scalar(vg, eps)), false);
    nd_tensor *minus = nd_grid_sample(nd_sub(c.input, nd_mul_scalar(vx, eps)),
                                      nd_sub(c.grid, nd_mul_scalar(vg, eps)), false);
    nd_tensor *numeric = nd_div_scalar(nd_sub(plus, minus), 2 * eps);
    cr_assert(nd_tangent(out), "%s", nd_last_error() ? nd_last_error() : "no tangent");
    assert_close(nd_tangent(out), numeric, 1e-6, 1e-7);
}

static nd_tensor *squared_sample(nd_tensor *x, void *p) {
    return nd_sum(nd_square(of_input(x, p)), ND_ALL, false);
}
static nd_tensor *squared_grid(nd_tensor *theta, void *p) {
    return nd_sum(nd_square(grid_of_theta(theta, p)), ND_ALL, false);
}

/* Σ f(x)² with f linear (f(x) = A·x) has the Hessian 2·AᵀA. */
static void check_linear_hessian(nd_fn f, nd_fn squared, sample_ctx *c, nd_tensor *x) {
    int64_t n = nd_numel(x);
    nd_tensor *a =
        nd_reshape(nd_jacobian(f, c, x, ND_REVERSE, ND_LAYOUT_TENSOR), 2, (const int64_t[]){-1, n});
    nd_tensor *want = nd_mul_scalar(nd_matmul(nd_t(a), a), 2);
    nd_tensor *h = nd_hessian(squared, c, x);
    cr_assert(h, "%s", nd_last_error());
    assert_close(nd_reshape(h, 2, (const int64_t[]){n, n}), want, 1e-10, 1e-10);
}

ND_TEST(grid_sample, second_derivatives_in_input_and_theta) {
    sample_ctx c = {nd_randn(ND_F64, ND_SHAPE(1, 2, 3, 3)), nd_rand(ND_F64, ND_SHAPE(1, 2, 2, 2)),
                    gold("theta", NULL), true};
    c.grid = nd_sub_scalar(nd_mul_scalar(c.grid, 2.4), 1.2);
    check_linear_hessian(of_input, squared_sample, &c, c.input);
    check_linear_hessian(grid_of_theta, squared_grid, &c, c.theta);
}

ND_TEST(grid_sample, second_derivatives_through_the_grid_are_refused) {
    nd_tensor *x = gold("sample_input", NULL);
    nd_tensor *grid = nd_set_requires_grad(nd_clone(gold("sample_grid", NULL)), true);
    nd_tensor *y = nd_sum(nd_square(nd_grid_sample(x, grid, false)), ND_ALL, false);
    nd_tensor *g = nd_gradient(y, grid, true);
    cr_assert(g, "%s", nd_last_error());
    nd_clear_error();
    nd_gradient(nd_sum(g, ND_ALL, false), grid, false);
    assert_error("second derivatives with respect to the grid are not supported");
}

ND_TEST(grid_sample, bad_inputs_give_messages) {
    nd_tensor *x = gold("sample_input", NULL), *grid = gold("sample_grid", NULL);
    cr_assert_null(nd_grid_sample(nd_select(x, 0, 0), grid, false));
    assert_error("expected input (N, C, H, W)");
    cr_assert_null(nd_grid_sample(x, nd_slice(grid, 3, 0, 1, 1), false));
    assert_error("grid (N, H_out, W_out, 2)");
    cr_assert_null(nd_grid_sample(x, nd_slice(grid, 0, 0, 1, 1), false));
    assert_error("the same N");
    cr_assert_null(nd_grid_sample(x, nd_to(grid, ND_F32), false));
    assert_error("same floating dtype");
    cr_assert_null(nd_grid_sample(nd_to(x, ND_I64), nd_to(grid, ND_I64), false));
    assert_error("same floating dtype");
    cr_assert_null(nd_grid_sample(NULL, grid, false));
    assert_error("nd_grid_sample");
    nd_tensor *theta = gold("theta", NULL);
    cr_assert_null(nd_affine_grid(theta, 3, 3, 5, 7, false));
    assert_error("(N, 2, 3) with N = 3");
    cr_assert_null(nd_affine_grid(nd_select(theta, 0, 0), 2, 3, 5, 7, false));
    assert_error("theta must be");
    cr_assert_null(nd_affine_grid(theta, 2, 3, 0, 7, false));
    assert_error("bad size");
    cr_assert_null(nd_affine_grid(theta, 2, 3, 1 << 21, 7, false));
    assert_error("bad size");
    cr_assert_null(nd_affine_grid(NULL, 2, 3, 5, 7, false));
    assert_error("nd_affine_grid");
}
