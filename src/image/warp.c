/* nd_warp_affine: OpenCV's warpAffine, reproduced down to its rounding.
 *
 * The matrix maps input pixels to output pixels, so each output pixel (x, y)
 * looks up the input at m⁻¹·(x, y, 1)ᵀ. Like OpenCV, the lookup position is
 * kept in fixed point: m⁻¹'s first column times x is tabulated once per column
 * (scaled by 2^10 and rounded), the rest once per row, so the inner loop is
 * integer additions and shifts, with no division and no floating point. The
 * position is then cut to 1/32 of a pixel (5 fractional bits) and the four
 * neighbours are weighted by integers (32 − fx)(32 − fy) ... summing to 1024,
 * which is OpenCV's table of 15-bit weights divided by 32: the same sums, the
 * same rounding, so results equal cv2.warpAffine's. */
#include "image.h"

#include <math.h>
#include <stdlib.h>

#define POSITION_BITS 10 /* OpenCV's AB_BITS */
#define FRACTION_BITS 5  /* OpenCV's INTER_BITS: 1/32 pixel */
#define FRACTION_MASK ((1 << FRACTION_BITS) - 1)
#define ONE           (1 << FRACTION_BITS) /* the weight of a whole pixel along one axis */
#define MAX_SIDE      ((int64_t)1 << 15)
#define MAX_PIXELS    ((int64_t)1 << 28)

/* What every row of the output needs. */
typedef struct {
    double inv[6];          /* m⁻¹, rows (a, b, c) and (d, e, f) */
    int32_t *col_x, *col_y; /* per output column: round(a·x·2^10), round(d·x·2^10) */
    int64_t in_h, in_w, out_h, out_w;
    int64_t planes;   /* images processed together (leading dims of a float tensor) */
    int64_t channels; /* samples per pixel, interleaved (u8 (H, W, C)) */
    const void *src;
    void *dst;
    nd_dtype dtype;
    bool bilinear;
} warp_job;

/* saturate_cast<int>(double) of OpenCV: round half to even, clamped. */
static int32_t round_to_int(double v) {
    if (!(v > INT32_MIN)) return v != v ? 0 : INT32_MIN;
    if (v >= INT32_MAX) return INT32_MAX;
    return (int32_t)lrint(v);
}

/* m⁻¹ of the affine map, written the way OpenCV writes it (each product its
 * own statement, so no compiler fuses them into an FMA and changes a bit). */
static bool invert(const double m[6], double inv[6]) {
    double ae = m[0] * m[4], bd = m[1] * m[3];
    double det = ae - bd;
    if (det == 0 || !isfinite(det)) return false;
    double r = 1. / det;
    inv[0] = m[4] * r;
    inv[1] = m[1] * -r;
    inv[3] = m[3] * -r;
    inv[4] = m[0] * r;
    double t0 = -inv[0] * m[2], t1 = inv[1] * m[5];
    inv[2] = t0 - t1;
    double t2 = -inv[3] * m[2], t3 = inv[4] * m[5];
    inv[5] = t2 - t3;
    for (int i = 0; i < 6; i++)
        if (!isfinite(inv[i])) return false;
    return true;
}

/* The fixed-point lookup position of the start of row y, rounding offset included. */
static void row_start(const warp_job *job, int64_t y, int64_t *x0, int64_t *y0) {
    int64_t round_delta =
        job->bilinear ? (1 << (POSITION_BITS - FRACTION_BITS - 1)) : (1 << (POSITION_BITS - 1));
    double bx = job->inv[1] * (double)y, by = job->inv[4] * (double)y;
    bx += job->inv[2];
    by += job->inv[5];
    *x0 = round_to_int(bx * (1 << POSITION_BITS)) + round_delta;
    *y0 = round_to_int(by * (1 << POSITION_BITS)) + round_delta;
}

/* One output row of an interleaved u8 image with `channels` samples per pixel.
 * Inlined for C = 1, 3, 4 so the channel loop unrolls. The job's fields are
 * copied into locals first: stores through a uint8_t pointer may alias
 * anything, and would otherwise make the compiler reload them every pixel. */
static inline __attribute__((always_inline)) void warp_row_u8(const warp_job *job, int64_t y,
                                                              int64_t x_begin, int64_t x_end,
                                                              const int64_t channels) {
    const uint8_t *restrict src = job->src;
    uint8_t *restrict dst = (uint8_t *)job->dst + (y * job->out_w + x_begin) * channels;
    const int32_t *restrict col_x = job->col_x, *restrict col_y = job->col_y;
    const int64_t w = job->in_w, h = job->in_h, row = w * channels;
    int64_t x0, y0;
    row_start(job, y, &x0, &y0);
    if (!job->bilinear) {
        for (int64_t x = x_begin; x < x_end; x++, dst += channels) {
            int64_t sx = (x0 + col_x[x]) >> POSITION_BITS, sy = (y0 + col_y[x]) >> POSITION_BITS;
            bool inside = (uint64_t)sx < (uint64_t)w && (uint64_t)sy < (uint64_t)h;
            const uint8_t *p = src + (inside ? sy * row + sx * channels : 0);
            for (int64_t k = 0; k < channels; k++) dst[k] = inside ? p[k] : 0;
        }
        return;
    }
    /* The lookup position moves monotonically along a row, so the pixels whose
     * four neighbours all lie inside form one run [first, last]: it runs
     * without tests, the few pixels on either side take the careful path. */
#define POSITION(x, sx, sy, fx, fy)                                                                \
    int64_t fxp = (x0 + col_x[x]) >> (POSITION_BITS - FRACTION_BITS);                              \
    int64_t fyp = (y0 + col_y[x]) >> (POSITION_BITS - FRACTION_BITS);                              \
    int64_t sx = fxp >> FRACTION_BITS, sy = fyp >> FRACTION_BITS;                                  \
    int32_t fx = (int32_t)(fxp & FRACTION_MASK), fy = (int32_t)(fyp & FRACTION_MASK)
#define INTERIOR(sx, sy) ((uint64_t)(sx) < (uint64_t)(w - 1) && (uint64_t)(sy) < (uint64_t)(h - 1))
    int64_t first = x_begin, last = x_end - 1;
    for (; first < x_end; first++) {
        POSITION(first, sx, sy, fx, fy);
        (void)fx, (void)fy;
        if (INTERIOR(sx, sy)) break;
    }
    for (; last > first; last--) {
        POSITION(last, sx, sy, fx, fy);
        (void)fx, (void)fy;
        if (INTERIOR(sx, sy)) break;
    }
    for (int64_t x = x_begin; x < x_end; x++, dst += channels) {
        if (x == first) { /* the run inside */
            /* in chunks: first every position (a loop the compiler vectorises),
             * then the blends */
            while (x <= last) {
                enum { CHUNK = 256 };
                int64_t offset[CHUNK];
                int32_t weight_x[CHUNK], weight_y[CHUNK];
                int64_t n = last + 1 - x < CHUNK ? last + 1 - x : CHUNK;
                for (int64_t i = 0; i < n; i++) {
                    POSITION(x + i, sx, sy, fx, fy);
                    offset[i] = sy * row + sx * channels;
                    weight_x[i] = fx;
                    weight_y[i] = fy;
                }
                for (int64_t i = 0; i < n; i++, dst += channels) {
                    const uint8_t *p = src + offset[i], *q = p + row;
                    int32_t fx = weight_x[i], fy = weight_y[i];
                    for (int64_t k = 0; k < channels; k++) {
                        int32_t top = p[k] * ONE + (p[k + channels] - p[k]) * fx;
                        int32_t bottom = q[k] * ONE + (q[k + channels] - q[k]) * fx;
                        dst[k] = (uint8_t)((top * ONE + (bottom - top) * fy + (1 << 9)) >> 10);
                    }
                }
                x += n;
            }
            if (x >= x_end) break;
        }
        POSITION(x, sx, sy, fx, fy);
        if (sx >= w || sx + 1 < 0 || sy >= h || sy + 1 < 0) {
            for (int64_t k = 0; k < channels; k++) dst[k] = 0;
            continue;
        }
        /* on the border: neighbours outside count as 0 */
        bool in_x0 = sx >= 0, in_x1 = sx + 1 < w, in_y0 = sy >= 0, in_y1 = sy + 1 < h;
        for (int64_t k = 0; k < channels; k++) {
            const uint8_t *p = src + k;
            int32_t v00 = in_y0 && in_x0 ? p[sy * row + sx * channels] : 0;
            int32_t v01 = in_y0 && in_x1 ? p[sy * row + (sx + 1) * channels] : 0;
            int32_t v10 = in_y1 && in_x0 ? p[(sy + 1) * row + sx * channels] : 0;
            int32_t v11 = in_y1 && in_x1 ? p[(sy + 1) * row + (sx + 1) * channels] : 0;
            int32_t top = v00 * ONE + (v01 - v00) * fx;
            int32_t bottom = v10 * ONE + (v11 - v10) * fx;
            dst[k] = (uint8_t)((top * ONE + (bottom - top) * fy + (1 << 9)) >> 10);
        }
    }
#undef POSITION
#undef INTERIOR
}

/* One output row of planar float images (planes of (H, W)): OpenCV's float
 * remap, with weights (1 − fx/32)(1 − fy/32) ... in the sample type. */
#define WARP_ROW_FLOAT(NAME, T)                                                                    \
    static void NAME(const warp_job *job, int64_t y, int64_t x_begin, int64_t x_end) {             \
        const T *src = job->src;                                                                   \
        T *dst = job->dst;                                                                         \
        const int64_t w = job->in_w, h = job->in_h;                                                \
        const int64_t in_plane = w * h, out_plane = job->out_w * job->out_h;                       \
        int64_t x0, y0;                                                                            \
        row_start(job, y, &x0, &y0);                                                               \
        for (int64_t x = x_begin; x < x_end; x++) {                                                \
            T *d = dst + y * job->out_w + x;                                                       \
            if (!job->bilinear) {                                                                  \
                int64_t sx = (x0 + job->col_x[x]) >> POSITION_BITS;                                \
                int64_t sy = (y0 + job->col_y[x]) >> POSITION_BITS;                                \
                bool inside = (uint64_t)sx < (uint64_t)w && (uint64_t)sy < (uint64_t)h;            \
                for (int64_t k = 0; k < job->planes; k++)                                          \
                    d[k * out_plane] = inside ? src[k * in_plane + sy * w + sx] : (T)0;            \
                continue;                                                                          \
            }                                                                                      \
            int64_t fxp = (x0 + job->col_x[x]) >> (POSITION_BITS - FRACTION_BITS);                 \
            int64_t fyp = (y0 + job->col_y[x]) >> (POSITION_BITS - FRACTION_BITS);                 \
            int64_t sx = fxp >> FRACTION_BITS, sy = fyp >> FRACTION_BITS;                          \
            T ax = (T)(fxp & FRACTION_MASK) / ONE, ay = (T)(fyp & FRACTION_MASK) / ONE;            \
            T w00 = (1 - ay) * (1 - ax), w01 = (1 - ay) * ax, w10 = ay * (1 - ax), w11 = ay * ax;  \
            bool in_x0 = sx >= 0 && sx < w, in_x1 = sx + 1 >= 0 && sx + 1 < w;                     \
            bool in_y0 = sy >= 0 && sy < h, in_y1 = sy + 1 >= 0 && sy + 1 < h;                     \
            for (int64_t k = 0; k < job->planes; k++) {                                            \
                const T *p = src + k * in_plane;                                                   \
                T v00 = in_y0 && in_x0 ? p[sy * w + sx] : 0;                                       \
                T v01 = in_y0 && in_x1 ? p[sy * w + sx + 1] : 0;                                   \
                T v10 = in_y1 && in_x0 ? p[(sy + 1) * w + sx] : 0;                                 \
                T v11 = in_y1 && in_x1 ? p[(sy + 1) * w + sx + 1] : 0;                             \
                d[k * out_plane] = v00 * w00 + v01 * w01 + v10 * w10 + v11 * w11;                  \
            }                                                                                      \
        }                                                                                          \
    }
WARP_ROW_FLOAT(warp_row_f32, float)
WARP_ROW_FLOAT(warp_row_f64, double)

static void warp_span(const warp_job *job, int64_t y, int64_t x0, int64_t x1) {
    if (job->dtype == ND_F32) return warp_row_f32(job, y, x0, x1);
    if (job->dtype == ND_F64) return warp_row_f64(job, y, x0, x1);
    switch (job->channels) {
    case 1:
        return warp_row_u8(job, y, x0, x1, 1);
    case 3:
        return warp_row_u8(job, y, x0, x1, 3);
    case 4:
        return warp_row_u8(job, y, x0, x1, 4);
    default:
        return warp_row_u8(job, y, x0, x1, job->channels);
    }
}

/* The six numbers of an affine matrix given as 3×3 or as its top 2×3 rows. */
static bool read_matrix(nd_tensor *m, double out[6]) {
    if (!(m->ndim == 2 && (m->shape[0] == 2 || m->shape[0] == 3) && m->shape[1] == 3) ||
        !nd__is_float(m->dtype)) {
        nd__set_error_as(ND_ERR_SHAPE,
                         "nd_warp_affine: the matrix must be 3×3 or 2×3, f32 or f64, got %s of "
                         "shape %s",
                         nd_dtype_name(m->dtype), nd__tshape(m));
        return false;
    }
    for (int i = 0; i < 6; i++) out[i] = nd__get_flat(m, i);
    if (m->shape[0] == 3) {
        double g = nd__get_flat(m, 6), h = nd__get_flat(m, 7), k = nd__get_flat(m, 8);
        if (fabs(g) > 1e-9 || fabs(h) > 1e-9 || fabs(k - 1) > 1e-9) {
            nd__set_error("nd_warp_affine: the 3×3 matrix is not affine: its last row is "
                          "(%g, %g, %g), not (0, 0, 1)",
                          g, h, k);
            return false;
        }
    }
    return true;
}

/* Checks the image: u8 (H, W[, C]) or float (..., H, W). */
static bool image_layout(nd_tensor *img, warp_job *job) {
    if (img->dtype == ND_U8 && (img->ndim == 2 || img->ndim == 3)) {
        job->in_h = img->shape[0];
        job->in_w = img->shape[1];
        job->channels = img->ndim == 3 ? img->shape[2] : 1;
        job->planes = 1;
    } else if ((img->dtype == ND_F32 || img->dtype == ND_F64) && img->ndim >= 2) {
        job->in_h = img->shape[img->ndim - 2];
        job->in_w = img->shape[img->ndim - 1];
        job->channels = 1;
        int64_t plane = job->in_h * job->in_w;
        job->planes = plane > 0 ? img->numel / plane : 0;
    } else {
        nd__set_error_as(ND_ERR_DTYPE,
                         "nd_warp_affine: expected an ND_U8 image (H, W, C) or (H, W), or a float "
                         "image (..., H, W), got %s of shape %s",
                         nd_dtype_name(img->dtype), nd__tshape(img));
        return false;
    }
    if (img->numel == 0) {
        nd__set_error_as(ND_ERR_SHAPE, "nd_warp_affine: the image of shape %s is empty",
                         nd__tshape(img));
        return false;
    }
    return true;
}

nd_tensor *nd_warp_affine(nd_tensor *img, nd_tensor *m, int64_t out_h, int64_t out_w,
                          nd_interp interp) {
    ND_CHECK("nd_warp_affine", img, m);
    if (interp != ND_NEAREST && interp != ND_BILINEAR)
        return nd__fail("nd_warp_affine: unknown interpolation %d (ND_NEAREST or ND_BILINEAR)",
                        (int)interp);
    if (out_h <= 0 || out_w <= 0 || out_h > MAX_SIDE || out_w > MAX_SIDE ||
        out_h * out_w > MAX_PIXELS)
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_warp_affine: output size %lld×%lld (rows × columns) must be from 1 "
                           "to %lld per side and at most %lld pixels",
                           (long long)out_h, (long long)out_w, (long long)MAX_SIDE,
                           (long long)MAX_PIXELS);
    warp_job job = {.out_h = out_h, .out_w = out_w, .bilinear = interp == ND_BILINEAR};
    double matrix[6];
    if (!read_matrix(m, matrix) || !image_layout(img, &job)) return NULL;
    if (!invert(matrix, job.inv))
        return nd__fail_as(ND_ERR_NUMERIC,
                           "nd_warp_affine: the matrix [[%g, %g, %g], [%g, %g, %g]] is singular "
                           "(or not finite): no input pixel maps to an output pixel",
                           matrix[0], matrix[1], matrix[2], matrix[3], matrix[4], matrix[5]);

    int64_t out_shape[ND_MAX_DIMS];
    memcpy(out_shape, img->shape, sizeof(int64_t) * (size_t)img->ndim);
    int hdim = img->dtype == ND_U8 ? 0 : img->ndim - 2;
    out_shape[hdim] = out_h;
    out_shape[hdim + 1] = out_w;
    nd_scope_begin();
    nd_tensor *src = nd_contiguous(nd_detach(img));
    nd_tensor *out = src ? nd__empty(img->dtype, img->ndim, out_shape) : NULL;
    job.col_x = malloc((size_t)out_w * sizeof *job.col_x);
    job.col_y = malloc((size_t)out_w * sizeof *job.col_y);
    if (out && job.col_x && job.col_y) {
        job.src = nd__ptr(src);
        job.dst = nd__ptr(out);
        job.dtype = img->dtype;
        for (int64_t x = 0; x < out_w; x++) {
            job.col_x[x] = round_to_int(job.inv[0] * (double)x * (1 << POSITION_BITS));
            job.col_y[x] = round_to_int(job.inv[3] * (double)x * (1 << POSITION_BITS));
        }
        int threads = nd__threads_for(out_h * out_w * job.channels * job.planes * 4);
        (void)threads; /* unused where there is no OpenMP (the WebAssembly build) */
                       /* rows in order: consecutive rows read neighbouring input, which stays in
                        * the cache (tiling the rows measured slower here) */
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t y = 0; y < out_h; y++) warp_span(&job, y, 0, out_w);
    } else if (out) {
        nd__set_error_as(ND_ERR_NOMEM, "nd_warp_affine: out of memory");
        out = NULL;
    }
    free(job.col_x);
    free(job.col_y);
    out = nd_keep(out); /* NULL when out of memory */
    nd_scope_end();
    return out;
}
