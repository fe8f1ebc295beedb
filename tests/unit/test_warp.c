/* nd_warp_affine against cv2.warpAffine (tests/reference/image.py): with the
 * very matrices OpenCV was given the results are equal to the last bit; with
 * the matrices built by nd's own functions (which may differ in the last bit
 * of a double) bilinear stays within one level and nearest nearly equal. */
#include "support.h"

#include <nd_image.h>

static nd_tensor *card(void) {
    return nd_image_read(data_path("testcard.png"));
}

static nd_tensor *gold(const char *name, const char *what) {
    char file[128];
    snprintf(file, sizeof file, "image_warp_%s_%s.npy", name, what);
    return golden(file);
}

/* The transforms of image.py's WARPS, built with nd. */
static nd_tensor *nd_matrix(const char *name) {
    const double pi = 3.14159265358979323846;
    if (!strcmp(name, "translate")) return nd_affine_translate(30.5, -20.25);
    if (!strcmp(name, "scale")) return nd_affine_scale(1.5, 0.75);
    if (!strcmp(name, "rotate")) return nd_affine_rotate(0.3);
    if (!strcmp(name, "rotate_about")) return nd_affine_rotate_about(pi / 6, 159.5, 119.5);
    if (!strcmp(name, "shear")) return nd_affine_shear(0.3, -0.2);
    if (!strcmp(name, "compose"))
        return nd_matmul(
            nd_affine_translate(20, 10),
            nd_matmul(nd_affine_rotate_about(-0.4, 160, 120), nd_affine_scale(0.8, 1.2)));
    if (!strcmp(name, "shrink")) return nd_affine_scale(0.5, 0.5);
    return nd_affine_rotate_about(1.0, 160, 120); /* grow */
}

static const char *const WARPS[] = {"translate", "scale",   "rotate", "rotate_about",
                                    "shear",     "compose", "shrink", "grow"};

/* The fraction of elements where a and b differ, and the largest difference. */
static double differing(nd_tensor *a, nd_tensor *b, double *largest) {
    nd_tensor *diff = nd_abs(nd_sub(nd_to(a, ND_F64), nd_to(b, ND_F64)));
    *largest = nd_item(nd_max(diff, ND_ALL, false));
    return nd_item(nd_mean(nd_to(nd_gt(diff, nd_scalar(0, ND_F64)), ND_F64), ND_ALL, false));
}

ND_TEST(warp, equals_opencv_given_the_same_matrix) {
    nd_tensor *img = card();
    for (size_t i = 0; i < sizeof WARPS / sizeof *WARPS; i++) {
        nd_tensor *m = gold(WARPS[i], "m");
        nd_tensor *want = gold(WARPS[i], "linear");
        int64_t h = nd_size(want, 0), w = nd_size(want, 1);
        nd_tensor *got = nd_warp_affine(img, m, h, w, ND_BILINEAR);
        cr_assert(got, "%s: %s", WARPS[i], nd_last_error());
        cr_assert_eq(nd_type(got), ND_U8);
        assert_close(got, want, 0, 0);
        assert_close(nd_warp_affine(img, m, h, w, ND_NEAREST), gold(WARPS[i], "nearest"), 0, 0);
    }
}

ND_TEST(warp, course_matrices_match_opencv_within_one_level) {
    nd_tensor *img = card();
    for (size_t i = 0; i < sizeof WARPS / sizeof *WARPS; i++) {
        nd_tensor *m = nd_matrix(WARPS[i]);
        assert_close(m, gold(WARPS[i], "m"), 1e-13, 1e-12);
        nd_tensor *want = gold(WARPS[i], "linear");
        int64_t h = nd_size(want, 0), w = nd_size(want, 1);
        double largest;
        double fraction = differing(nd_warp_affine(img, m, h, w, ND_BILINEAR), want, &largest);
        cr_assert_leq(largest, 1, "%s: bilinear differs by %g levels", WARPS[i], largest);
        fraction = differing(nd_warp_affine(img, m, h, w, ND_NEAREST), gold(WARPS[i], "nearest"),
                             &largest);
        cr_assert_leq(fraction, 1e-3, "%s: nearest differs at %g of the pixels", WARPS[i],
                      fraction);
    }
}

ND_TEST(warp, grey_rgba_and_float_images) {
    nd_tensor *img = card();
    nd_tensor *m = gold("rotate_about", "m");
    nd_tensor *grey = nd_select(img, 2, 1);
    nd_tensor *out = nd_warp_affine(grey, m, 240, 320, ND_BILINEAR);
    assert_shape(out, ND_SHAPE(240, 320));
    assert_close(out, golden("image_warp_grey_linear.npy"), 0, 0);
    nd_tensor *rgba = nd_cat(2, (nd_tensor *[]){img, nd_slice(img, 2, 0, 1, 1)}, 2);
    assert_close(nd_warp_affine(rgba, m, 240, 320, ND_BILINEAR),
                 golden("image_warp_rgba_linear.npy"), 0, 0);
    /* a float picture is (..., H, W): here (1, H, W) and a batch (2, 1, H, W) */
    nd_tensor *plane = nd_div_scalar(nd_to(nd_unsqueeze(grey, 0), ND_F32), 255);
    nd_tensor *want = nd_unsqueeze(golden("image_warp_float_linear.npy"), 0);
    assert_close(nd_warp_affine(plane, m, 240, 320, ND_BILINEAR), want, 1e-6, 1e-6);
    nd_tensor *batch = nd_stack(2, (nd_tensor *[]){plane, plane}, 0);
    nd_tensor *both = nd_warp_affine(nd_to(batch, ND_F64), m, 240, 320, ND_BILINEAR);
    assert_shape(both, ND_SHAPE(2, 1, 240, 320));
    assert_close(nd_select(both, 0, 1), want, 1e-6, 1e-6);
}

ND_TEST(warp, accepts_2x3_f32_and_non_contiguous_inputs) {
    nd_tensor *img = card();
    nd_tensor *m = gold("translate", "m");
    nd_tensor *want = gold("translate", "linear");
    assert_close(nd_warp_affine(img, nd_slice(m, 0, 0, 2, 1), 240, 320, ND_BILINEAR), want, 0, 0);
    assert_close(nd_warp_affine(img, nd_to(m, ND_F32), 240, 320, ND_BILINEAR), want, 0, 0);
    /* a view: the picture mirrored by a negative-step slice, warped by the identity */
    nd_tensor *flipped = nd_slice(img, 1, ND_END, ND_END, -1);
    assert_close(nd_warp_affine(flipped, nd_affine_identity(), 240, 320, ND_BILINEAR),
                 nd_contiguous(flipped), 0, 0);
    /* the identity is the identity, and a 1-pixel image works */
    assert_close(nd_warp_affine(img, nd_affine_identity(), 240, 320, ND_NEAREST), img, 0, 0);
    nd_tensor *dot = nd_full(ND_U8, ND_SHAPE(1, 1, 3), 200);
    assert_values(nd_warp_affine(dot, nd_affine_identity(), 1, 2, ND_BILINEAR), 0, 200, 200, 200, 0,
                  0, 0);
}

ND_TEST(warp, bad_inputs_give_messages) {
    nd_tensor *img = card();
    nd_tensor *id = nd_affine_identity();
    cr_assert_null(nd_warp_affine(img, nd_eye(2, ND_F64), 10, 10, ND_BILINEAR));
    assert_error("must be 3×3 or 2×3");
    cr_assert_null(nd_warp_affine(img, nd_eye(3, ND_I64), 10, 10, ND_BILINEAR));
    assert_error("must be 3×3 or 2×3");
    cr_assert_null(nd_warp_affine(img, nd_affine_scale(0, 1), 10, 10, ND_BILINEAR));
    assert_error("singular");
    cr_assert_null(nd_warp_affine(img, nd_affine_scale(NAN, 1), 10, 10, ND_BILINEAR));
    assert_error("singular");
    nd_tensor *perspective = nd_parse("[[1., 0, 0], [0, 1, 0], [0.001, 0, 1]]");
    cr_assert_null(nd_warp_affine(img, perspective, 10, 10, ND_BILINEAR));
    assert_error("not affine");
    cr_assert_null(nd_warp_affine(img, id, 0, 10, ND_BILINEAR));
    assert_error("output size 0×10");
    cr_assert_null(nd_warp_affine(img, id, 10, -1, ND_BILINEAR));
    assert_error("output size");
    cr_assert_null(nd_warp_affine(img, id, 40000, 10, ND_BILINEAR));
    assert_error("output size");
    cr_assert_null(nd_warp_affine(img, id, 30000, 30000, ND_BILINEAR));
    assert_error("at most");
    cr_assert_null(nd_warp_affine(img, id, 10, 10, (nd_interp)7));
    assert_error("unknown interpolation");
    cr_assert_null(nd_warp_affine(nd_zeros(ND_I32, ND_SHAPE(4, 4)), id, 10, 10, ND_BILINEAR));
    assert_error("expected an ND_U8 image");
    cr_assert_null(nd_warp_affine(nd_zeros(ND_U8, ND_SHAPE(0, 4, 3)), id, 10, 10, ND_BILINEAR));
    assert_error("empty");
    cr_assert_null(nd_warp_affine(NULL, id, 10, 10, ND_BILINEAR));
    assert_error("nd_warp_affine");
    nd_clear_error();
    cr_assert_null(nd_warp_affine(img, NULL, 10, 10, ND_BILINEAR));
    assert_error("nd_warp_affine");
}
