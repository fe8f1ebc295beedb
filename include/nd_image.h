/*
 * nd_image.h — images as tensors, 2-D affine transforms and a differentiable
 * warp (link with `pkg-config --cflags --libs nd_image`).
 *
 * Layouts:
 *  - An image as read from a file is ND_U8 of shape (H, W, C): C = 1 (grey),
 *    3 (RGB) or 4 (RGBA). This is the layout of files, OpenCV and PIL.
 *  - An image for learning is floating point (C, H, W) with values in [0, 1]:
 *    the layout of PyTorch. nd_image_to_float / nd_image_from_float convert;
 *    batches are (N, C, H, W), videos (N, T, C, H, W).
 *
 * Coordinates: x is the column, y the row; pixel centres lie at integer
 * coordinates, (0, 0) being the centre of the top-left pixel (OpenCV's rule).
 * A 3×3 affine matrix m maps the column vector (x, y, 1)ᵀ to m·(x, y, 1)ᵀ;
 * matrices compose with nd_matmul (the rightmost applies first) and invert
 * with nd_inv.
 */
#ifndef ND_IMAGE_H
#define ND_IMAGE_H

#include "nd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ files */

/* Reads a PNG, JPEG or PPM/PGM file (recognised by its first bytes) as ND_U8
 * (H, W, C). PNG: grey gives C = 1, RGB 3, RGBA 4, grey+alpha 4 (as RGBA),
 * palette 3 (4 when it has transparency), a tRNS colour key becomes alpha
 * (C = 4); raw samples, no gamma correction; 1/2/4-bit grey is scaled up by bit
 * replication; 16-bit samples are reduced to 8 bits by v >> 8. JPEG gives C = 1
 * or 3. PGM/PPM (P2, P3, P5, P6) give 1 or 3, samples scaled to 0..255 when the
 * file's maxval is not 255 (v >> 8 for maxval 65535). [scope] */
ND_API nd_tensor *nd_image_read(const char *path);
/* The same from bytes in memory (PNG, JPEG or PNM, by signature). [scope] */
ND_API nd_tensor *nd_image_decode(const void *bytes, size_t len);

/* Writes an ND_U8 image, (H, W, C) or (H, W), by the path's extension:
 * .png (C = 1, 2, 3, 4; lossless), .jpg/.jpeg (C = 1 or 3; quality 95),
 * .ppm (C = 3) or .pgm (C = 1). 0 or -1. */
ND_API int nd_image_write(nd_tensor *img, const char *path);
/* JPEG with a quality from 1 to 100. */
ND_API int nd_image_write_jpeg(nd_tensor *img, const char *path, int quality);

/* ------------------------------------------------------ conversions */

/* ND_U8 (H, W, C) or (H, W) -> ND_F32 (C, H, W) with values v / 255. [scope] */
ND_API nd_tensor *nd_image_to_float(nd_tensor *img);
/* Floating point (C, H, W) or (H, W) in [0, 1] -> ND_U8 (H, W, C): values are
 * clamped to [0, 1], scaled by 255 and rounded to nearest. NaN becomes 0. [scope] */
ND_API nd_tensor *nd_image_from_float(nd_tensor *t);
/* n ND_U8 images of one shape -> ND_F32 batch (N, C, H, W) in [0, 1]. [scope] */
ND_API nd_tensor *nd_image_batch(int n, nd_tensor *const *imgs);
/* n·t ND_U8 frames (clip 0's t frames first) -> ND_F32 video (N, T, C, H, W). [scope] */
ND_API nd_tensor *nd_image_video(int n, int t, nd_tensor *const *frames);

/* ------------------------------------------------ affine matrices */

/* 3×3 ND_F64, exactly the course's matrices:
 * identity; translate [[1, 0, tx], [0, 1, ty], [0, 0, 1]];
 * scale [[sx, 0, 0], [0, sy, 0], [0, 0, 1]];
 * rotate [[cos θ, sin θ, 0], [−sin θ, cos θ, 0], [0, 0, 1]] (θ in radians);
 * shear [[1, ex, 0], [ey, 1, 0], [0, 0, 1]]. [scope] */
ND_API nd_tensor *nd_affine_identity(void);
/* The 3×3 matrix of a translation by (tx, ty). [scope] */
ND_API nd_tensor *nd_affine_translate(double tx, double ty);
/* The 3×3 matrix of a scaling by (sx, sy). [scope] */
ND_API nd_tensor *nd_affine_scale(double sx, double sy);
/* The 3×3 matrix of a rotation by theta radians about the origin. [scope] */
ND_API nd_tensor *nd_affine_rotate(double theta);
/* The 3×3 matrix of a shear by (ex, ey). [scope] */
ND_API nd_tensor *nd_affine_shear(double ex, double ey);
/* rotate(θ) about the point (cx, cy): translate(c)·rotate(θ)·translate(−c). [scope] */
ND_API nd_tensor *nd_affine_rotate_about(double theta, double cx, double cy);

/* ----------------------------------------------------------- warps */

typedef enum { ND_NEAREST, ND_BILINEAR } nd_interp;

/* Warps img by the affine matrix m (3×3, or its top 2×3 rows; f32 or f64):
 * m maps the input pixel (x, y, 1)ᵀ to the output pixel m·(x, y, 1)ᵀ, so each
 * output pixel samples the input at m⁻¹·(x_out, y_out, 1)ᵀ — OpenCV's
 * warpAffine without WARP_INVERSE_MAP, with its fixed-point rounding (sample
 * positions in steps of 1/32 pixel), so results match cv2.warpAffine. Pixels
 * from outside the input are 0. img: ND_U8 (H, W, C) or (H, W), or ND_F32/F64
 * (..., H, W) (the last two dims are the picture, e.g. (C, H, W) or
 * (N, C, H, W)). The result has out_h rows and out_w columns. Not recorded for
 * autograd: the differentiable warp is nd_affine_grid + nd_grid_sample. [scope] */
ND_API nd_tensor *nd_warp_affine(nd_tensor *img, nd_tensor *m, int64_t out_h, int64_t out_w,
                                 nd_interp interp);

/* PyTorch's torch.nn.functional.affine_grid for 2-D: theta (N, 2, 3) floating
 * point maps normalised output coordinates (x, y, 1) in [−1, 1] to normalised
 * input coordinates; returns the grid (N, H, W, 2) holding (x, y) per output
 * pixel. C is the channel count of the images the grid is for (unused, as in
 * PyTorch). Differentiable in both modes, to any order. [scope] */
ND_API nd_tensor *nd_affine_grid(nd_tensor *theta, int64_t n, int64_t c, int64_t h, int64_t w,
                                 bool align_corners);
/* PyTorch's torch.nn.functional.grid_sample, 2-D, bilinear, zeros padding:
 * input (N, C, H, W), grid (N, H_out, W_out, 2) of the same floating dtype,
 * (x, y) normalised to [−1, 1] -> (N, C, H_out, W_out). Differentiable in
 * input and grid, in both modes (first derivatives; the gradient with respect
 * to the input can be differentiated again in the incoming gradient). [scope] */
ND_API nd_tensor *nd_grid_sample(nd_tensor *input, nd_tensor *grid, bool align_corners);

#ifdef __cplusplus
}
#endif
#endif /* ND_IMAGE_H */
