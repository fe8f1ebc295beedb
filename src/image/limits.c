/* The size limits every decoder checks a picture's header against (see
 * image.h): in a file of its own, under both the decoders (png.c, jpeg.c,
 * pnm.c) and io.c, which calls them, so that no two files use each other. */
#include "image.h"

bool nd__image_size_ok(const char *op, const char *format, int64_t h, int64_t w, int64_t c) {
    if (h <= 0 || w <= 0 || c <= 0) {
        nd__set_error_as(ND_ERR_SHAPE, "%s: %s picture of size %lld×%lld has no pixels", op, format,
                         (long long)w, (long long)h);
        return false;
    }
    if (h > ND_IMAGE_MAX_SIDE || w > ND_IMAGE_MAX_SIDE || h * w * c > ND_IMAGE_MAX_BYTES) {
        nd__set_error_as(ND_ERR_FORMAT,
                         "%s: %s picture of %lld×%lld×%lld is larger than nd reads (%d per side, "
                         "%lld bytes)",
                         op, format, (long long)w, (long long)h, (long long)c, ND_IMAGE_MAX_SIDE,
                         (long long)ND_IMAGE_MAX_BYTES);
        return false;
    }
    return true;
}
