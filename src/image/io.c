/* nd_image_read / nd_image_write: files in, tensors out, and back. Reading
 * trusts the file's first bytes (a PNG named .jpg still reads); writing goes
 * by the path's extension. */
#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static nd_tensor *decode(const char *op, const unsigned char *bytes, size_t len) {
    if (nd__png_signature(bytes, len)) return nd__png_decode(op, bytes, len);
    if (nd__jpeg_signature(bytes, len)) return nd__jpeg_decode(op, bytes, len);
    if (nd__pnm_signature(bytes, len)) return nd__pnm_decode(op, bytes, len);
    return nd__fail_as(ND_ERR_FORMAT,
                       "%s: not a PNG, JPEG or PGM/PPM (P2, P3, P5, P6) file (%zu bytes)", op, len);
}

nd_tensor *nd_image_decode(const void *bytes, size_t len) {
    if (!bytes) return nd__fail("nd_image_decode: NULL bytes");
    return decode("nd_image_decode", bytes, len);
}

/* The whole file in memory: pictures are small next to the tensors made of them. */
static unsigned char *read_file(const char *op, const char *path, size_t *len) {
    FILE *file = fopen(path, "rb");
    if (!file) {
        nd__set_error_as(nd__errno_code(errno), "%s: cannot open '%s': %s", op, path,
                         nd__strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *bytes = malloc(cap);
    bool too_large = false;
    while (bytes) {
        n += fread(bytes + n, 1, cap - n, file);
        if (n < cap) break;
        too_large = cap >= ((size_t)1 << 31);
        unsigned char *grown = too_large ? NULL : realloc(bytes, cap * 2);
        if (!grown) {
            free(bytes);
            bytes = NULL;
            break;
        }
        bytes = grown;
        cap *= 2;
    }
    bool failed = ferror(file);
    int saved = errno;
    fclose(file);
    if (!bytes) {
        if (too_large)
            nd__set_error_as(ND_ERR_IO, "%s: '%s' is too large to read", op, path);
        else
            nd__set_error_as(ND_ERR_NOMEM, "%s: out of memory reading '%s'", op, path);
        return NULL;
    }
    if (failed) {
        free(bytes);
        nd__set_error_as(nd__errno_code(saved), "%s: cannot read '%s': %s", op, path,
                         nd__strerror(saved));
        return NULL;
    }
    *len = n;
    return bytes;
}

nd_tensor *nd_image_read(const char *path) {
    if (!path) return nd__fail("nd_image_read: NULL path");
    size_t len = 0;
    unsigned char *bytes = read_file("nd_image_read", path, &len);
    if (!bytes) return NULL;
    nd_tensor *out = decode("nd_image_read", bytes, len);
    free(bytes);
    if (!out) {
        /* name the file: the decoders only know bytes */
        char message[512];
        snprintf(message, sizeof message, "%s", nd_last_error() ? nd_last_error() : "");
        nd_error_code code = nd_errcode(); /* the decoder's: format, out of memory, ... */
        nd_clear_error();
        const char *detail = strchr(message, ':') ? strchr(message, ':') + 2 : message;
        return nd__fail_as(code, "nd_image_read: '%s': %s", path, detail);
    }
    return out;
}

static const char *extension(const char *path) {
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    return dot && (!slash || dot > slash) ? dot + 1 : "";
}

/* Checks an image for writing; returns its (H, W, C) contiguous form. */
static nd_tensor *writable(const char *op, nd_tensor *img, int64_t *h, int64_t *w, int64_t *c) {
    if (img->dtype != ND_U8)
        return nd__fail_as(ND_ERR_DTYPE,
                           "%s: images are written from ND_U8 (H, W, C), got %s of shape %s "
                           "(convert with nd_image_from_float)",
                           op, nd_dtype_name(img->dtype), nd__tshape(img));
    if (img->ndim != 2 && img->ndim != 3)
        return nd__fail_as(ND_ERR_SHAPE, "%s: an image is (H, W) or (H, W, C), got shape %s", op,
                           nd__tshape(img));
    *h = img->shape[0];
    *w = img->shape[1];
    *c = img->ndim == 3 ? img->shape[2] : 1;
    if (*h == 0 || *w == 0 || *c == 0)
        return nd__fail_as(ND_ERR_SHAPE, "%s: cannot write an empty image of shape %s", op,
                           nd__tshape(img));
    if (*h > INT32_MAX || *w > INT32_MAX)
        return nd__fail_as(ND_ERR_SHAPE, "%s: image of shape %s is too large", op, nd__tshape(img));
    return nd_contiguous(img);
}

static int write_image(const char *op, nd_tensor *img, const char *path, int quality) {
    ND_CHECK_INT(op, img);
    if (!path) return nd__fail_int("%s: NULL path", op);
    int64_t h = 0, w = 0, c = 0;
    nd_scope_begin();
    nd_tensor *pixels = writable(op, img, &h, &w, &c);
    const char *ext = extension(path);
    int rc = -1;
    if (!pixels) {
        rc = -1;
    } else if (quality > 0 || !strcasecmp(ext, "jpg") || !strcasecmp(ext, "jpeg")) {
        rc = nd__jpeg_write(op, nd__ptr(pixels), h, w, c, path, quality > 0 ? quality : 95);
    } else if (!strcasecmp(ext, "png")) {
        rc = nd__png_write(op, nd__ptr(pixels), h, w, c, path);
    } else if (!strcasecmp(ext, "ppm") || !strcasecmp(ext, "pgm")) {
        int64_t want = !strcasecmp(ext, "ppm") ? 3 : 1;
        if (c != want)
            nd__set_error_as(ND_ERR_SHAPE,
                             "%s: a .%s file holds %lld channel%s, the image has %lld ('%s')", op,
                             ext, (long long)want, want == 1 ? "" : "s", (long long)c, path);
        else
            rc = nd__pnm_write(op, nd__ptr(pixels), h, w, c, path);
    } else {
        nd__set_error("%s: unsupported extension '.%s' in '%s' (use .png, .jpg, .jpeg, .ppm "
                      "or .pgm)",
                      op, ext, path);
    }
    nd_scope_end();
    return rc;
}

int nd_image_write(nd_tensor *img, const char *path) {
    return write_image("nd_image_write", img, path, 0);
}

int nd_image_write_jpeg(nd_tensor *img, const char *path, int quality) {
    if (img && (quality < 1 || quality > 100))
        return nd__fail_int("nd_image_write_jpeg: quality must be in 1..100, got %d", quality);
    return write_image("nd_image_write_jpeg", img, path, quality);
}
