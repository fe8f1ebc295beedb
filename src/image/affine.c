/* The course's 2-D affine matrices, 3×3 ND_F64 acting on column vectors
 * (x, y, 1)ᵀ. They compose by nd_matmul (the rightmost applies first) and
 * invert by nd_inv. */
#include "image.h"

#include <math.h>

static nd_tensor *matrix(double a, double b, double c, double d, double e, double f) {
    const double m[9] = {a, b, c, d, e, f, 0, 0, 1};
    return nd_from(ND_F64, 2, (const int64_t[]){3, 3}, m);
}

nd_tensor *nd_affine_identity(void) {
    return matrix(1, 0, 0, 0, 1, 0);
}

nd_tensor *nd_affine_translate(double tx, double ty) {
    return matrix(1, 0, tx, 0, 1, ty);
}

nd_tensor *nd_affine_scale(double sx, double sy) {
    return matrix(sx, 0, 0, 0, sy, 0);
}

/* With y pointing down the rows, a positive θ turns the picture counter-clockwise
 * on the screen, as cv2.getRotationMatrix2D does. */
nd_tensor *nd_affine_rotate(double theta) {
    double c = cos(theta), s = sin(theta);
    return matrix(c, s, 0, -s, c, 0);
}

nd_tensor *nd_affine_shear(double ex, double ey) {
    return matrix(1, ex, 0, ey, 1, 0);
}

/* translate(c)·rotate(θ)·translate(−c), multiplied out: the centre stays put. */
nd_tensor *nd_affine_rotate_about(double theta, double cx, double cy) {
    double c = cos(theta), s = sin(theta);
    return matrix(c, s, cx - c * cx - s * cy, -s, c, cy + s * cx - c * cy);
}
