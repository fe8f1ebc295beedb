/* Between the two layouts of a picture: ND_U8 (H, W, C) as files hold it, and
 * floating point (C, H, W) in [0, 1] as networks take it. */
#include "image.h"

#include <math.h>
#include <stdlib.h>

nd_tensor *nd_image_to_float(nd_tensor *img) {
    ND_CHECK("nd_image_to_float", img);
    if (img->dtype != ND_U8 || (img->ndim != 2 && img->ndim != 3))
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_image_to_float: expected an ND_U8 image (H, W, C) or (H, W), got %s "
                           "of shape %s",
                           nd_dtype_name(img->dtype), nd__tshape(img));
    int64_t h = img->shape[0], w = img->shape[1], c = img->ndim == 3 ? img->shape[2] : 1;
    nd_scope_begin();
    nd_tensor *src = nd_contiguous(img);
    nd_tensor *out = src ? nd__empty(ND_F32, 3, (const int64_t[]){c, h, w}) : NULL;
    if (out) {
        const uint8_t *in = nd__ptr(src);
        float *o = nd__ptr(out);
        int64_t plane = h * w;
        for (int64_t k = 0; k < c; k++)
            for (int64_t i = 0; i < plane; i++) o[k * plane + i] = in[i * c + k] * (1.0f / 255);
    }
    out = nd_keep(out); /* NULL when out of memory */
    nd_scope_end();
    return out;
}

static inline uint8_t to_u8(double v) {
    if (!(v > 0)) return 0; /* also NaN */
    if (v >= 1) return 255;
    return (uint8_t)(v * 255 + 0.5);
}

nd_tensor *nd_image_from_float(nd_tensor *t) {
    ND_CHECK("nd_image_from_float", t);
    if (!nd__is_float(t->dtype) || (t->ndim != 2 && t->ndim != 3))
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_image_from_float: expected a floating-point image (C, H, W) or "
                           "(H, W), got %s of shape %s",
                           nd_dtype_name(t->dtype), nd__tshape(t));
    int64_t c = t->ndim == 3 ? t->shape[0] : 1;
    int64_t h = t->shape[t->ndim - 2], w = t->shape[t->ndim - 1];
    nd_scope_begin();
    nd_tensor *src = nd_contiguous(nd_detach(t));
    nd_tensor *out = src ? nd__empty(ND_U8, 3, (const int64_t[]){h, w, c}) : NULL;
    if (out) {
        uint8_t *o = nd__ptr(out);
        int64_t plane = h * w;
        for (int64_t k = 0; k < c; k++)
            for (int64_t i = 0; i < plane; i++) {
                double v = src->dtype == ND_F32 ? ((const float *)nd__ptr(src))[k * plane + i]
                                                : ((const double *)nd__ptr(src))[k * plane + i];
                o[i * c + k] = to_u8(v);
            }
    }
    out = nd_keep(out); /* NULL when out of memory */
    nd_scope_end();
    return out;
}

nd_tensor *nd_image_batch(int n, nd_tensor *const *imgs) {
    if (n <= 0 || !imgs) return nd__fail("nd_image_batch: no images given (n = %d)", n);
    nd_scope_begin();
    nd_tensor **floats = malloc((size_t)n * sizeof *floats);
    nd_tensor *out = NULL;
    if (floats) {
        bool ok = true;
        for (int i = 0; i < n && ok; i++) ok = (floats[i] = nd_image_to_float(imgs[i])) != NULL;
        out = ok ? nd_stack(n, floats, 0) : NULL;
        free(floats);
    } else {
        nd__set_error_as(ND_ERR_NOMEM, "nd_image_batch: out of memory");
    }
    out = nd_keep(out); /* NULL when out of memory */
    nd_scope_end();
    return out;
}

nd_tensor *nd_image_video(int n, int t, nd_tensor *const *frames) {
    if (n <= 0 || t <= 0 || !frames)
        return nd__fail("nd_image_video: no frames given (n = %d clips of t = %d)", n, t);
    nd_scope_begin();
    nd_tensor **clips = malloc((size_t)n * sizeof *clips);
    nd_tensor *out = NULL;
    if (clips) {
        bool ok = true;
        for (int i = 0; i < n && ok; i++)
            ok = (clips[i] = nd_image_batch(t, frames + (size_t)i * (size_t)t)) != NULL;
        out = ok ? nd_stack(n, clips, 0) : NULL;
        free(clips);
    } else {
        nd__set_error_as(ND_ERR_NOMEM, "nd_image_video: out of memory");
    }
    out = nd_keep(out); /* NULL when out of memory */
    nd_scope_end();
    return out;
}
