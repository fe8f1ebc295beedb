/* image.h — what the files of libnd_image share and no user sees: the
 * decoders and encoders behind nd_image_read/nd_image_write. */
#ifndef ND_IMAGE_PRIVATE_H
#define ND_IMAGE_PRIVATE_H

#include "nd_ext.h"
#include "nd_image.h"

/* The largest picture a decoder accepts: protects against files whose header
 * promises gigabytes (decompression bombs, fuzzed headers). */
#define ND_IMAGE_MAX_SIDE  (1 << 16)
#define ND_IMAGE_MAX_BYTES ((int64_t)1 << 28)

/* Decoders from memory: ND_U8 (H, W, C) or NULL with an error naming `op`. */
nd_tensor *nd__png_decode(const char *op, const unsigned char *bytes, size_t len);
nd_tensor *nd__jpeg_decode(const char *op, const unsigned char *bytes, size_t len);
nd_tensor *nd__pnm_decode(const char *op, const unsigned char *bytes, size_t len);
bool nd__png_signature(const unsigned char *bytes, size_t len);
bool nd__jpeg_signature(const unsigned char *bytes, size_t len);
bool nd__pnm_signature(const unsigned char *bytes, size_t len);

/* Encoders: pixels are contiguous (H, W, C) u8 rows. 0 or -1 with an error. */
int nd__png_write(const char *op, const uint8_t *pixels, int64_t h, int64_t w, int64_t c,
                  const char *path);
int nd__jpeg_write(const char *op, const uint8_t *pixels, int64_t h, int64_t w, int64_t c,
                   const char *path, int quality);
int nd__pnm_write(const char *op, const uint8_t *pixels, int64_t h, int64_t w, int64_t c,
                  const char *path);

/* Checks a decoded size against the limits above (error naming op and format). */
bool nd__image_size_ok(const char *op, const char *format, int64_t h, int64_t w, int64_t c);

#endif
