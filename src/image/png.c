/* PNG through libpng's classic API: every colour type becomes 8-bit grey, RGB
 * or RGBA by libpng's own transformations, with no gamma correction.
 *
 * libpng reports errors by longjmp back to the setjmp below. Everything that
 * must be freed after such a jump is either owned by the scope opened before
 * setjmp (the pixels) or held in a volatile variable (the row pointers), so
 * no error path leaks and no half-decoded tensor escapes. */
#include "image.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

typedef struct {
    const unsigned char *bytes;
    size_t len, pos;
    char message[200]; /* libpng's error text */
    bool out_of_memory;
} png_source;

static bool mentions_memory(const char *message) {
    for (const char *p = message; *p; p++)
        if (strncasecmp(p, "memory", 6) == 0) return true;
    return false;
}

static void on_error(png_structp png, png_const_charp message) {
    png_source *src = png_get_error_ptr(png);
    /* libpng says "Out of memory", "insufficient memory", "IDAT: insufficient
     * memory to read chunk", ...: a failed allocation, not a bad file */
    src->out_of_memory = mentions_memory(message);
    if (src->out_of_memory)
        snprintf(src->message, sizeof src->message, "out of memory in libpng (%s)", message);
    else
        snprintf(src->message, sizeof src->message, "%s", message);
    png_longjmp(png, 1);
}

/* Warnings (a bad CRC in an ancillary chunk, say) are not worth a word. */
static void on_warning(png_structp png, png_const_charp message) {
    (void)png, (void)message;
}

static void read_from_memory(png_structp png, png_bytep out, size_t n) {
    png_source *src = png_get_io_ptr(png);
    if (n > src->len - src->pos) png_error(png, "file is truncated");
    memcpy(out, src->bytes + src->pos, n);
    src->pos += n;
}

bool nd__png_signature(const unsigned char *bytes, size_t len) {
    return len >= 8 && png_sig_cmp(bytes, 0, 8) == 0;
}

/* Asks libpng for 8-bit grey, RGB or RGBA samples whatever the file holds. */
static void request_8bit_samples(png_structp png, png_infop info) {
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    bool transparency = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (transparency) png_set_tRNS_to_alpha(png); /* a colour key or palette alpha */
    if (depth == 16) png_set_strip_16(png);       /* keeps the high byte: v >> 8 */
    /* grey with alpha (from the file or from a tRNS key) is given as RGBA */
    if (color == PNG_COLOR_TYPE_GRAY_ALPHA || (color == PNG_COLOR_TYPE_GRAY && transparency))
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

nd_tensor *nd__png_decode(const char *op, const unsigned char *bytes, size_t len) {
    if (!nd__png_signature(bytes, len)) return nd__fail_as(ND_ERR_FORMAT, "%s: not a PNG file", op);
    png_source src = {bytes, len, 0, "", false};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return nd__fail_as(ND_ERR_NOMEM, "%s: out of memory starting libpng", op);
    }
    png_bytep *volatile rows = NULL;
    nd_tensor *volatile out = NULL;
    nd_scope_begin(); /* owns the pixels until they are complete */
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        nd_scope_end();
        return nd__fail_as(src.out_of_memory ? ND_ERR_NOMEM : ND_ERR_FORMAT, "%s: %s%s", op,
                           src.out_of_memory ? "" : "corrupt PNG: ", src.message);
    }
    png_set_user_limits(png, ND_IMAGE_MAX_SIDE, ND_IMAGE_MAX_SIDE);
    png_set_chunk_malloc_max(png, (png_alloc_size_t)ND_IMAGE_MAX_BYTES);
    png_set_read_fn(png, &src, read_from_memory);
    png_read_info(png, info);
    request_8bit_samples(png, info);
    int64_t h = png_get_image_height(png, info), w = png_get_image_width(png, info);
    int64_t c = png_get_channels(png, info);
    if (!nd__image_size_ok(op, "PNG", h, w, c) || png_get_rowbytes(png, info) != (size_t)(w * c)) {
        png_destroy_read_struct(&png, &info, NULL);
        nd_scope_end();
        return NULL;
    }
    out = nd__empty(ND_U8, 3, (const int64_t[]){h, w, c});
    rows = malloc((size_t)h * sizeof *rows);
    if (!out || !rows) png_error(png, "out of memory");
    for (int64_t y = 0; y < h; y++) rows[y] = (png_bytep)nd__ptr(out) + y * w * c;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    out = nd_keep(out); /* NULL when out of memory */
    nd_scope_end();
    return out;
}

/* libpng's simplified writer: 8-bit samples go to the file unchanged. */
int nd__png_write(const char *op, const uint8_t *pixels, int64_t h, int64_t w, int64_t c,
                  const char *path) {
    static const png_uint_32 formats[] = {PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB,
                                          PNG_FORMAT_RGBA};
    if (c < 1 || c > 4)
        return nd__fail_int_as(ND_ERR_SHAPE,
                               "%s: a PNG holds 1, 2, 3 or 4 channels, got %lld ('%s')", op,
                               (long long)c, path);
    png_image image = {.version = PNG_IMAGE_VERSION,
                       .width = (png_uint_32)w,
                       .height = (png_uint_32)h,
                       .format = formats[c - 1]};
    errno = 0;
    if (!png_image_write_to_file(&image, path, 0, pixels, (png_int_32)(w * c), NULL)) {
        int saved = errno;
        png_image_free(&image);
        return nd__fail_int_as(nd__errno_code(saved), "%s: cannot write '%s': %s", op, path,
                               saved ? nd__strerror(saved) : image.message);
    }
    return 0;
}
