/* nd_web_train.c — the two trainings the page runs step by step, so that it
 * can draw between steps and stop: the relu-synthesis lab's 1-N-1 ReLU net
 * with full-batch Adam, and the affine lab's recovery of theta through
 * grid_sample. Their tensors live from start to the next start: each is
 * retained out of the call's scope (nd_retain) and released at the next start. */
#include "json.h"
#include "nd_web.h"
#include "relu_sum.h"

#include <math.h>
#include <nd.h>
#include <nd_image.h>
#include <stdlib.h>
#include <string.h>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#define WEB_EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define WEB_EXPORT
#endif

typedef struct {
    nd_tensor *keep[6]; /* the parameters, inputs and targets kept across calls */
    int nkeep;
    nd_optim *opt;
    int step;
} training;

static void training_free(training *t) {
    nd_optim_free(t->opt);
    for (int i = 0; i < t->nkeep; i++) nd_release(t->keep[i]);
    memset(t, 0, sizeof *t);
}

static nd_tensor *kept(training *t, nd_tensor *x) {
    if (x) t->keep[t->nkeep++] = nd_retain(x);
    return x;
}

/* ---------------------------------------------------------- the ReLU net */

static training net; /* keep: W1, b1, w2, b2, xs, ys */
static double net_scale = 10;

/* ȳ = w2·relu(W1·x + b1) + b2, as the lab's relu_net */
static nd_tensor *relu_net(nd_tensor *x) {
    return nd_linear(nd_relu(nd_linear(x, net.keep[0], net.keep[1])), net.keep[2], net.keep[3]);
}

/* As the lab: 256 points of the sum of ReLUs through the points, divided by
 * 10; the net initialized as nn.Linear from seed 6. */
WEB_EXPORT const char *nd_web_relu_net_start(const char *points, int hidden, double lr) {
    training_free(&net);
    relu_sum f;
    char error[512];
    if (relu_sum_parse(points ? points : "", &f, error, sizeof error))
        return web_fail("ReLU net: %s", error);
    if (hidden < 1 || hidden > 4096 || !(lr > 0) || !isfinite(lr)) {
        relu_sum_free(&f);
        return web_fail("ReLU net: want 1 to 4096 hidden units and a learning rate > 0 (got %d, "
                        "%g)",
                        hidden, lr);
    }
    nd_scope_begin();
    nd_manual_seed(6);
    nd_tensor *p[4] = {nd_empty(ND_F32, ND_SHAPE(hidden, 1)), nd_empty(ND_F32, ND_SHAPE(hidden)),
                       nd_empty(ND_F32, ND_SHAPE(1, hidden)), nd_empty(ND_F32, ND_SHAPE(1))};
    int rc = nd_init_linear_(p[0], p[1]) || nd_init_linear_(p[2], p[3]) ? -1 : 0;
    for (int i = 0; i < 4 && rc == 0; i++) kept(&net, nd_set_requires_grad(p[i], true));
    nd_tensor *x = nd_reshape(nd_linspace(f.x[0], f.x[f.n - 1], 256, ND_F32), ND_SHAPE(256, 1));
    nd_tensor *y = nd_full_like(x, f.bias);
    for (int i = 0; i + 1 < f.n; i++)
        y = nd_add(y, nd_mul_scalar(nd_relu(nd_sub_scalar(x, f.x[i])), f.weight[i]));
    relu_sum_free(&f);
    if (rc == 0 && y) {
        kept(&net, nd_div_scalar(x, net_scale));
        kept(&net, nd_div_scalar(y, net_scale));
        nd_adam_opts o = ND_ADAM_DEFAULTS;
        o.lr = lr;
        net.opt = nd_adam(4, net.keep, o);
    }
    const char *out = NULL;
    if (net.opt) {
        json_reset();
        json_raw("{");
        json_key("x");
        json_tensor(x);
        json_key("y");
        json_tensor(y);
        json_raw("}");
        out = json_text();
    } else {
        web_fail_nd("ReLU net");
    }
    nd_scope_end();
    if (!out) training_free(&net);
    return out;
}

/* `steps` more steps: the loss of each, as the lab reports it (the MSE on the
 * original scale: 100 × the scaled one), and the net's function after them. */
WEB_EXPORT const char *nd_web_relu_net_steps(int steps) {
    if (!net.opt) return web_fail("ReLU net: start it first (nd_web_relu_net_start)");
    if (steps < 0 || steps > 100000) return web_fail("ReLU net: 0 to 100000 steps, not %d", steps);
    double *losses = malloc(((size_t)steps + 1) * sizeof *losses);
    if (!losses) return web_fail("ReLU net: out of memory");
    int rc = 0;
    for (int t = 0; t < steps && rc == 0; t++) {
        nd_scope_begin();
        nd_tensor *loss = nd_mse_loss(relu_net(net.keep[4]), net.keep[5]);
        nd_optim_zero_grad(net.opt);
        rc = nd_backward(loss) || nd_optim_step(net.opt) ? -1 : 0;
        losses[t] = (float)(net_scale * net_scale * nd_item(loss)); /* float: as the lab */
        nd_scope_end();
    }
    const char *out = NULL;
    nd_scope_begin();
    nd_tensor *fit = rc ? NULL : nd_mul_scalar(relu_net(net.keep[4]), net_scale);
    if (fit) {
        net.step += steps;
        json_reset();
        json_raw("{");
        json_key("step");
        json_raw("%d", net.step);
        json_key("losses");
        json_numbers(losses, steps);
        json_key("fit");
        json_tensor(fit);
        json_raw("}");
        out = json_text();
    } else {
        web_fail_nd("ReLU net");
    }
    nd_scope_end();
    free(losses);
    return out;
}

/* ------------------------------------------------- recovering an affine map */

static training affine; /* keep: theta, source, target */

/* grid_sample(source, affine_grid(theta)), as the lab's warp() */
static nd_tensor *warp(nd_tensor *source, nd_tensor *theta) {
    const int64_t *s = nd_shape(source);
    return nd_grid_sample(source, nd_affine_grid(theta, s[0], s[1], s[2], s[3], false), false);
}

/* A (1, 3, H, W) batch as RGBA bytes. */
static void json_picture(nd_tensor *batch) {
    nd_scope_begin();
    nd_tensor *u8 = nd_image_from_float(nd_select(nd_detach(batch), 0, 0)); /* (H, W, 3) */
    nd_tensor *alpha = u8 ? nd_full(ND_U8, ND_SHAPE(nd_size(u8, 0), nd_size(u8, 1), 1), 255) : NULL;
    json_tensor(nd_cat(2, (nd_tensor *[]){u8, alpha}, 2));
    nd_scope_end();
}

/* The lab's small_card (the centre square averaged down 4× per side) and its
 * target: the same known theta, a rotation by 0.25 rad after a shear of 0.2
 * and a shift of (0.1, −0.05). */
WEB_EXPORT const char *nd_web_affine_start(const uint8_t *rgba, int h, int w, double lr) {
    training_free(&affine);
    if (h < 4 || w < 4) return web_fail("affine recovery: the picture is %d×%d, too small", h, w);
    nd_scope_begin();
    nd_tensor *card = nd_slice(nd_from(ND_U8, ND_SHAPE(h, w, 4), rgba), 2, 0, 3, 1);
    nd_tensor *chw = nd_image_to_float(card);
    int64_t side = h / 4 * 4, left = (w - side) / 2;
    nd_tensor *square = nd_slice(nd_slice(chw, 1, 0, side, 1), 2, left, left + side, 1);
    nd_tensor *blocks = nd_reshape(square, ND_SHAPE(3, side / 4, 4, side / 4, 4));
    nd_tensor *source = nd_unsqueeze(nd_mean(nd_mean(blocks, 4, false), 2, false), 0);
    double c = cos(0.25), s = sin(0.25), e = 0.2;
    const double truth[6] = {c, c * e - s, 0.1, s, s * e + c, -0.05};
    nd_tensor *target = warp(source, nd_to(nd_from(ND_F64, ND_SHAPE(1, 2, 3), truth), ND_F32));
    const float identity[6] = {1, 0, 0, 0, 1, 0};
    nd_tensor *theta = nd_set_requires_grad(nd_from(ND_F32, ND_SHAPE(1, 2, 3), identity), true);
    const char *out = NULL;
    if (target && theta && side <= w) {
        kept(&affine, theta), kept(&affine, source), kept(&affine, target);
        nd_adam_opts o = ND_ADAM_DEFAULTS;
        o.lr = lr;
        affine.opt = nd_adam(1, &affine.keep[0], o);
    }
    if (affine.opt) {
        json_reset();
        json_raw("{");
        json_key("size");
        json_raw("%lld", (long long)(side / 4));
        json_key("truth");
        json_numbers(truth, 6);
        json_key("source");
        json_picture(source);
        json_key("target");
        json_picture(target);
        json_raw("}");
        out = json_text();
    } else {
        web_fail_nd("affine recovery");
    }
    nd_scope_end();
    if (!out) training_free(&affine);
    return out;
}

WEB_EXPORT const char *nd_web_affine_steps(int steps) {
    if (!affine.opt) return web_fail("affine recovery: start it first (nd_web_affine_start)");
    if (steps < 0 || steps > 10000)
        return web_fail("affine recovery: 0 to 10000 steps, not %d", steps);
    double *losses = malloc(((size_t)steps + 1) * sizeof *losses);
    if (!losses) return web_fail("affine recovery: out of memory");
    int rc = 0;
    for (int t = 0; t < steps && rc == 0; t++) {
        nd_scope_begin();
        nd_tensor *loss = nd_mse_loss(warp(affine.keep[1], affine.keep[0]), affine.keep[2]);
        nd_optim_zero_grad(affine.opt);
        rc = nd_backward(loss) || nd_optim_step(affine.opt) ? -1 : 0;
        losses[t] = nd_item(loss);
        nd_scope_end();
    }
    const char *out = NULL;
    nd_scope_begin();
    nd_tensor *current = rc ? NULL : warp(affine.keep[1], affine.keep[0]);
    if (current) {
        affine.step += steps;
        json_reset();
        json_raw("{");
        json_key("step");
        json_raw("%d", affine.step);
        json_key("losses");
        json_numbers(losses, steps);
        json_key("theta");
        json_tensor(affine.keep[0]);
        json_key("current");
        json_picture(current);
        json_raw("}");
        out = json_text();
    } else {
        web_fail_nd("affine recovery");
    }
    nd_scope_end();
    free(losses);
    return out;
}
