/* JPEG through libjpeg(-turbo). libjpeg reports a fatal error by calling
 * error_exit, which must not return: ours longjmps back to the caller, which
 * frees what it made. A file that ends early is only a warning to libjpeg (it
 * pads the picture with grey); nd refuses it, so a truncated file is an error. */
#include "image.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr mgr; /* first, so the libjpeg pointer converts */
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    bool out_of_memory; /* the error was a failed allocation, not a bad file */
} jpeg_errors;

static void on_error_exit(j_common_ptr cinfo) {
    jpeg_errors *errors = (jpeg_errors *)cinfo->err;
    errors->out_of_memory = errors->mgr.msg_code == JERR_OUT_OF_MEMORY;
    if (errors->out_of_memory) /* libjpeg's "Insufficient memory (case 4)" */
        snprintf(errors->message, sizeof errors->message, "out of memory in libjpeg");
    else
        errors->mgr.format_message(cinfo, errors->message);
    longjmp(errors->jump, 1);
}

/* msg_level < 0 is a warning: "premature end of data" is fatal for nd, the
 * others (extraneous bytes, say) are ignored as every viewer does. */
static void on_message(j_common_ptr cinfo, int msg_level) {
    if (msg_level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) on_error_exit(cinfo);
}

bool nd__jpeg_signature(const unsigned char *bytes, size_t len) {
    return len >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
}

nd_tensor *nd__jpeg_decode(const char *op, const unsigned char *bytes, size_t len) {
    if (!nd__jpeg_signature(bytes, len))
        return nd__fail_as(ND_ERR_FORMAT, "%s: not a JPEG file", op);
    struct jpeg_decompress_struct cinfo;
    jpeg_errors errors;
    cinfo.err = jpeg_std_error(&errors.mgr);
    errors.mgr.error_exit = on_error_exit;
    errors.mgr.emit_message = on_message;
    nd_tensor *volatile out = NULL;
    nd_scope_begin(); /* owns the pixels until they are complete */
    if (setjmp(errors.jump)) {
        jpeg_destroy_decompress(&cinfo);
        nd_scope_end();
        return nd__fail_as(errors.out_of_memory ? ND_ERR_NOMEM : ND_ERR_FORMAT, "%s: %s%s", op,
                           errors.out_of_memory ? "" : "corrupt JPEG: ", errors.message);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, bytes, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&cinfo);
        nd_scope_end();
        return nd__fail_as(ND_ERR_FORMAT,
                           "%s: CMYK JPEG files are not supported (convert to RGB first)", op);
    }
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    cinfo.mem->max_memory_to_use = (long)ND_IMAGE_MAX_BYTES;
    jpeg_calc_output_dimensions(&cinfo);
    int64_t h = cinfo.output_height, w = cinfo.output_width, c = cinfo.output_components;
    if (!nd__image_size_ok(op, "JPEG", h, w, c)) {
        jpeg_destroy_decompress(&cinfo);
        nd_scope_end();
        return NULL;
    }
    jpeg_start_decompress(&cinfo);
    out = nd__empty(ND_U8, 3, (const int64_t[]){h, w, c});
    if (!out) {
        jpeg_destroy_decompress(&cinfo);
        nd_scope_end();
        return NULL;
    }
    uint8_t *pixels = nd__ptr(out);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * (size_t)(w * c);
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    out = nd_keep(out); /* NULL when out of memory */
    nd_scope_end();
    return out;
}

int nd__jpeg_write(const char *op, const uint8_t *pixels, int64_t h, int64_t w, int64_t c,
                   const char *path, int quality) {
    if (c != 1 && c != 3)
        return nd__fail_int_as(ND_ERR_SHAPE, "%s: a JPEG holds 1 or 3 channels, got %lld ('%s')",
                               op, (long long)c, path);
    if (quality < 1 || quality > 100)
        return nd__fail_int("%s: JPEG quality must be in 1..100, got %d", op, quality);
    if (h > JPEG_MAX_DIMENSION || w > JPEG_MAX_DIMENSION)
        return nd__fail_int_as(ND_ERR_SHAPE,
                               "%s: a JPEG is at most %d pixels on a side, got (%lld, %lld)", op,
                               (int)JPEG_MAX_DIMENSION, (long long)h, (long long)w);
    FILE *volatile file = fopen(path, "wb");
    if (!file)
        return nd__fail_int_as(nd__errno_code(errno), "%s: cannot write '%s': %s", op, path,
                               nd__strerror(errno));
    struct jpeg_compress_struct cinfo;
    jpeg_errors errors;
    cinfo.err = jpeg_std_error(&errors.mgr);
    errors.mgr.error_exit = on_error_exit;
    if (setjmp(errors.jump)) {
        jpeg_destroy_compress(&cinfo);
        fclose(file);
        return nd__fail_int_as(errors.out_of_memory ? ND_ERR_NOMEM : ND_ERR_IO,
                               "%s: cannot write '%s': %s", op, path, errors.message);
    }
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, file);
    cinfo.image_width = (JDIMENSION)w;
    cinfo.image_height = (JDIMENSION)h;
    cinfo.input_components = (int)c;
    cinfo.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * (size_t)(w * c));
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    if (fclose(file) != 0)
        return nd__fail_int_as(nd__errno_code(errno), "%s: cannot write '%s': %s", op, path,
                               nd__strerror(errno));
    return 0;
}
