/* Lab 7 — 二维仿射变换 (2-D affine transforms), 几何意义: 矩阵. The course's five
 * basic 3×3 matrices (identity, translation, scaling, rotation, shear) and a
 * composition, applied to the test card; then the reverse problem: an unknown
 * transform recovered by gradient descent through a differentiable warp
 * (nd_affine_grid + nd_grid_sample), the way a spatial transformer learns. */
#include "lab.h"

#include <math.h>
#include <nd_image.h>
#include <nd_plot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `nd lab affine --rotate 30 --image my.png` */
static const option options[] = {
    {.name = "rotate",
     .type = OPTION_NUMBER,
     .fallback = "30",
     .help = "the rotation's angle θ in degrees"},
    {.name = "shear", .type = OPTION_NUMBER, .fallback = "0.4", .help = "the shear's ex"},
    {.name = "image",
     .type = OPTION_TEXT,
     .fallback = "testcard.png",
     .help = "the picture to transform (PNG or JPEG; testcard.png: the bundled test card)"},
    {.name = NULL}, /* the end of the table */
};

/* M about the point c: T(c)·M·T(−c), so the picture turns around its centre
 * instead of its top-left corner. */
static nd_tensor *about(nd_tensor *m, double cx, double cy) {
    return nd_matmul(nd_affine_translate(cx, cy), nd_matmul(m, nd_affine_translate(-cx, -cy)));
}

static int write_picture(report *r, nd_tensor *u8, const char *name) {
    return nd_image_write(u8, report_png_path(r, name));
}

static int basic_transforms(report *r, nd_tensor *card) {
    report_heading(r, "基本二维仿射变换矩阵 (the five basic transforms)");
    report_para(r, "A pixel (x, y) moves to M·(x, y, 1)ᵀ (nd_warp_affine, OpenCV's rule). "
                   "Scaling, rotation and shear are applied about the picture's centre c as "
                   "T(c)·M·T(−c); the matrices printed are the course's M.");
    int64_t h = nd_size(card, 0), w = nd_size(card, 1);
    double cx = (double)(w - 1) / 2, cy = (double)(h - 1) / 2;
    double degrees = lab_number("rotate"), shear = lab_number("shear");
    nd_tensor *rotation = nd_affine_rotate(degrees * PI / 180),
              *scaling = nd_affine_scale(0.6, 0.8);
    char rotated[64], sheared[64];
    snprintf(rotated, sizeof rotated, "rotation θ = %g°", degrees);
    snprintf(sheared, sizeof sheared, "shear ex = %g, ey = 0", shear);
    struct {
        const char *name, *caption;
        nd_tensor *m;
        bool centred;
    } transforms[6] = {
        {"affine_identity", "identity", nd_affine_identity(), false},
        {"affine_translate", "translation tx = 60, ty = 40", nd_affine_translate(60, 40), false},
        {"affine_scale", "scaling sx = 0.6, sy = 0.8", scaling, true},
        {"affine_rotate", rotated, rotation, true},
        {"affine_shear", sheared, nd_affine_shear(shear, 0), true},
        {"affine_compose", "rotation·scaling (scaling first)", nd_matmul(rotation, scaling), true},
    };
    const char *names[6], *captions[6];
    for (int i = 0; i < 6; i++) {
        nd_tensor *m = transforms[i].m;
        LAB_TENSOR(r, transforms[i].caption, m);
        if (transforms[i].centred) m = about(m, cx, cy);
        nd_tensor *out = nd_warp_affine(card, m, h, w, ND_BILINEAR);
        if (write_picture(r, out, transforms[i].name)) return -1;
        names[i] = transforms[i].name;
        captions[i] = transforms[i].caption;
    }
    report_gallery(r, 6, names, captions);
    return 0;
}

/* The test card's centre square, averaged down 4× per side: (1, C, 60, 60). */
static nd_tensor *small_card(nd_tensor *card) {
    nd_tensor *chw = nd_image_to_float(card); /* (3, 240, 320) */
    int64_t channels = nd_size(chw, 0), side = nd_size(chw, 1) / 4 * 4;
    int64_t left = (nd_size(chw, 2) - side) / 2;
    nd_tensor *square = LAB_CALL(nd_slice(nd_slice(chw, 1, 0, side, 1), 2, left, left + side, 1));
    nd_tensor *blocks = LAB_CALL(nd_reshape(square, ND_SHAPE(channels, side / 4, 4, side / 4, 4)));
    return nd_unsqueeze(nd_mean(nd_mean(blocks, 4, false), 2, false), 0);
}

/* One picture of a (1, 3, H, W) batch, 4× bigger (nearest) so its pixels show. */
static int show(report *r, nd_tensor *batch, const char *name) {
    nd_tensor *u8 = LAB_CALL(nd_image_from_float(nd_select(nd_detach(batch), 0, 0)));
    int64_t h = nd_size(u8, 0), w = nd_size(u8, 1);
    return write_picture(r, nd_warp_affine(u8, nd_affine_scale(4, 4), 4 * h, 4 * w, ND_NEAREST),
                         name);
}

static nd_tensor *warp(nd_tensor *source, nd_tensor *theta) {
    const int64_t *s = nd_shape(source);
    return nd_grid_sample(source, nd_affine_grid(theta, s[0], s[1], s[2], s[3], false), false);
}

static int recover(report *r, nd_tensor *card) {
    report_heading(r, "梯度下降求仿射变换 (recovering an unknown transform by gradient descent)");
    report_para(r,
                "The transform to recover is always the same one: a rotation by 0.25 rad after a "
                "shear of 0.2 and a shift of (0.1, −0.05); --rotate, --shear and the other "
                "knobs change the basic transforms above, not this one.");
    nd_tensor *source = small_card(card);
    /* theta maps output coordinates (normalised to [−1, 1]) to where the output
     * pixel samples the input: rotation by 0.25 rad after a shear of 0.2 */
    double c = cos(0.25), s = sin(0.25), e = 0.2;
    const double truth[6] = {c, c * e - s, 0.1, s, s * e + c, -0.05};
    nd_tensor *theta_true = LAB_CALL(nd_from(ND_F64, ND_SHAPE(1, 2, 3), truth));
    nd_tensor *target = warp(source, nd_to(theta_true, ND_F32));
    const float identity[6] = {1, 0, 0, 0, 1, 0};
    nd_tensor *theta =
        LAB_CALL(nd_set_requires_grad(nd_from(ND_F32, ND_SHAPE(1, 2, 3), identity), true));
    nd_tensor *start = warp(source, theta);
    report_para(r,
                "Target: the %lld×%lld test card warped by a known theta (a rotation after a "
                "shear, and a shift). Start from the identity and minimise "
                "MSE(grid_sample(source, affine_grid(theta)), target) with Adam (lr 0.01): "
                "the gradient flows through the bilinear sampling into theta.",
                (long long)nd_size(source, 2), (long long)nd_size(source, 3));

    enum { STEPS = 300 };
    nd_adam_opts o = ND_ADAM_DEFAULTS;
    o.lr = 0.01;
    nd_optim *adam = nd_adam(1, &theta, o);
    double losses[STEPS];
    int rc = adam ? 0 : -1;
    progress bar = progress_begin("affine: recovering theta", STEPS);
    for (int t = 0; t < STEPS && rc == 0; t++) {
        nd_scope_begin();
        nd_tensor *loss = nd_mse_loss(warp(source, theta), target);
        nd_optim_zero_grad(adam);
        rc = nd_backward(loss);
        if (rc == 0) rc = nd_optim_step(adam);
        losses[t] = nd_item(loss);
        progress_update(&bar, t, losses[t]);
        nd_scope_end();
    }
    progress_end(&bar, losses[STEPS - 1]);
    nd_optim_free(adam);
    if (rc) return -1;

    LAB_TENSOR(r, "theta, true", theta_true);
    LAB_TENSOR(r, "theta, recovered", theta);
    double gap = max_abs_diff(nd_to(theta, ND_F64), theta_true);
    report_para(r, "Largest difference between recovered and true theta: %.4f; final MSE %.2e.",
                gap, losses[STEPS - 1]);
    LAB_CHECK_CLOSE(r, "recovered theta (largest difference)", gap, 0.0, 0.02);

    nd_tensor *steps = LAB_CALL(nd_arange(1, STEPS + 1, 1, ND_F64));
    nd_tensor *log_loss =
        LAB_CALL(nd_div_scalar(nd_log(nd_from(ND_F64, ND_SHAPE(STEPS), losses)), log(10)));
    nd_plot *p = nd_plot_new("Recovering theta: the loss", "step", "log10 MSE");
    nd_plot_line(p, steps, log_loss, "log10 MSE(warped source, target)");
    if (lab_figure(r, p, "affine_loss", 520, 360,
                   "The loss falls as theta approaches the true transform."))
        return -1;
    if (show(r, source, "affine_source") || show(r, target, "affine_target") ||
        show(r, start, "affine_start") || show(r, warp(source, theta), "affine_recovered"))
        return -1;
    const char *names[4] = {"affine_source", "affine_target", "affine_start", "affine_recovered"};
    const char *captions[4] = {"source", "target (true theta)", "before: identity theta",
                               "after: recovered theta"};
    report_gallery(r, 4, names, captions);
    return 0;
}

static int run(report *r) {
    report_section(r, "affine", "二维仿射变换 (2-D affine transforms)",
                   "几何意义: 矩阵 — the geometric meaning of a matrix: GT = W·input + b moves "
                   "every point of the plane.");
    const char *image = lab_text("image");
    nd_tensor *card =
        nd_image_read(!strcmp(image, "testcard.png") ? lab_data_path("testcard.png") : image);
    if (!card) return -1;
    if (nd_size(card, 2) == 4) card = nd_slice(card, 2, 0, 3, 1); /* drop an alpha channel */
    if (basic_transforms(r, card) || recover(r, card)) return -1;
    return 0;
}

/* Listed in registry.c, in the chapter's order. */
const lab affine_lab = {.name = "affine",
                        .title = "二维仿射变换 (2-D affine transforms)",
                        .summary = "the five basic affine transforms on a picture; a transform "
                                   "recovered by gradient descent through grid_sample",
                        .options = options,
                        .run = run};
