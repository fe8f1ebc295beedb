/* Netpbm grey and colour pictures: P2/P5 (PGM) and P3/P6 (PPM), ASCII and
 * binary, maxval up to 65535. The header is text: magic, width, height,
 * maxval, separated by whitespace, with '#' comments to the end of a line. */
#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    const unsigned char *bytes;
    size_t len, pos;
} pnm_reader;

bool nd__pnm_signature(const unsigned char *bytes, size_t len) {
    return len >= 2 && bytes[0] == 'P' &&
           (bytes[1] == '2' || bytes[1] == '3' || bytes[1] == '5' || bytes[1] == '6');
}

static bool is_space(unsigned char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static void skip_space_and_comments(pnm_reader *r) {
    while (r->pos < r->len) {
        if (is_space(r->bytes[r->pos])) {
            r->pos++;
        } else if (r->bytes[r->pos] == '#') {
            while (r->pos < r->len && r->bytes[r->pos] != '\n') r->pos++;
        } else {
            break;
        }
    }
}

/* A decimal number of at most 9 digits (so it fits and cannot overflow); -1 if none. */
static int64_t read_number(pnm_reader *r) {
    skip_space_and_comments(r);
    int64_t value = 0;
    int digits = 0;
    while (r->pos < r->len && r->bytes[r->pos] >= '0' && r->bytes[r->pos] <= '9') {
        if (++digits > 9) return -1;
        value = value * 10 + (r->bytes[r->pos++] - '0');
    }
    return digits ? value : -1;
}

/* Samples scaled from 0..maxval to 0..255: v >> 8 for 16-bit maxval 65535
 * (as nd's PNG reader does), rounded v·255/maxval otherwise. */
static uint8_t scale_sample(int64_t v, int64_t maxval) {
    if (maxval == 255) return (uint8_t)v;
    if (maxval == 65535) return (uint8_t)(v >> 8);
    return (uint8_t)((v * 255 + maxval / 2) / maxval);
}

/* The samples after the header, ASCII or binary (one or two bytes, big-endian). */
static bool read_samples(const char *op, char kind, pnm_reader *r, uint8_t *pixels, int64_t count,
                         int64_t maxval) {
    bool ascii = kind == '2' || kind == '3';
    for (int64_t i = 0; i < count; i++) {
        int64_t v;
        if (ascii) {
            v = read_number(r);
            if (v < 0) {
                nd__set_error_as(ND_ERR_FORMAT,
                                 "%s: truncated or corrupt P%c file at sample %lld of %lld", op,
                                 kind, (long long)i, (long long)count);
                return false;
            }
        } else if (maxval > 255) {
            v = (int64_t)r->bytes[r->pos] << 8 | r->bytes[r->pos + 1];
            r->pos += 2;
        } else {
            v = r->bytes[r->pos++];
        }
        if (v > maxval) {
            nd__set_error_as(ND_ERR_FORMAT, "%s: P%c sample %lld is %lld, above maxval %lld", op,
                             kind, (long long)i, (long long)v, (long long)maxval);
            return false;
        }
        pixels[i] = scale_sample(v, maxval);
    }
    return true;
}

nd_tensor *nd__pnm_decode(const char *op, const unsigned char *bytes, size_t len) {
    if (!nd__pnm_signature(bytes, len))
        return nd__fail_as(ND_ERR_FORMAT, "%s: not a PGM/PPM file", op);
    char kind = (char)bytes[1];
    bool ascii = kind == '2' || kind == '3';
    int64_t c = kind == '3' || kind == '6' ? 3 : 1;
    pnm_reader r = {bytes, len, 2};
    int64_t w = read_number(&r), h = read_number(&r), maxval = read_number(&r);
    if (w <= 0 || h <= 0 || maxval <= 0 || maxval > 65535)
        return nd__fail_as(ND_ERR_FORMAT,
                           "%s: corrupt P%c header (width %lld, height %lld, maxval %lld)", op,
                           kind, (long long)w, (long long)h, (long long)maxval);
    if (!nd__image_size_ok(op, "PNM", h, w, c)) return NULL;
    int64_t count = h * w * c;
    int bytes_per_sample = maxval > 255 ? 2 : 1;
    if (!ascii) {
        /* exactly one whitespace byte separates the header from the samples */
        if (r.pos >= len || !is_space(bytes[r.pos]))
            return nd__fail_as(ND_ERR_FORMAT, "%s: corrupt P%c header: no whitespace after maxval",
                               op, kind);
        r.pos++;
        if ((uint64_t)(len - r.pos) < (uint64_t)(count * bytes_per_sample))
            return nd__fail_as(ND_ERR_FORMAT,
                               "%s: truncated P%c file: %lld samples expected, %zu bytes left", op,
                               kind, (long long)count, len - r.pos);
    }
    nd_scope_begin(); /* owns the pixels until they are complete */
    nd_tensor *out = nd__empty(ND_U8, 3, (const int64_t[]){h, w, c});
    if (!out || !read_samples(op, kind, &r, nd__ptr(out), count, maxval)) {
        nd_scope_end();
        return NULL;
    }
    out = nd_keep(out); /* NULL when out of memory */
    nd_scope_end();
    return out;
}

int nd__pnm_write(const char *op, const uint8_t *pixels, int64_t h, int64_t w, int64_t c,
                  const char *path) {
    FILE *file = fopen(path, "wb");
    if (!file)
        return nd__fail_int_as(nd__errno_code(errno), "%s: cannot write '%s': %s", op, path,
                               nd__strerror(errno));
    fprintf(file, "P%c\n%lld %lld\n255\n", c == 1 ? '5' : '6', (long long)w, (long long)h);
    size_t n = (size_t)(h * w * c);
    bool ok = fwrite(pixels, 1, n, file) == n;
    int saved = errno;
    if (fclose(file) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok)
        return nd__fail_int_as(nd__errno_code(saved), "%s: cannot write '%s': %s", op, path,
                               nd__strerror(saved));
    return 0;
}
