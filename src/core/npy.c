/* NumPy's .npy files, read and written so that numpy.save / numpy.load and nd
 * exchange tensors in both directions.
 *
 * A .npy file is: the magic "\x93NUMPY", a version (1.0: a 2-byte header
 * length; 2.0 and 3.0: 4 bytes), a header that is the text of a Python dict
 * such as {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), },
 * padded with spaces and a newline to a multiple of 64 bytes, then the raw
 * elements. nd reads every version, C and Fortran order and either byte order,
 * and writes exactly the bytes numpy.save writes for the same array.
 *
 * Files are mapped into memory and read by the same code as nd_parse_npy, so
 * the one parser the fuzzer exercises is the one every file goes through. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC              "\x93NUMPY"
#define MAGIC_LENGTH       6
#define ALIGNMENT          64 /* numpy pads the header to this */
#define GROWTH_AXIS_DIGITS 21 /* numpy leaves room to grow the first dim in place */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_ORDER '>'
#else
#define HOST_ORDER '<'
#endif

/* numpy's type codes for nd's dtypes, without the byte order. */
static const char *const type_codes[] = {"b1", "u1", "i4", "i8", "f4", "f8"};

/* --------------------------------------------------------------- header */

typedef struct {
    const char *source; /* "nd_load_npy: data/x.npy" or "nd_parse_npy", for messages */
    nd_dtype dtype;
    bool swap; /* stored in the other byte order */
    bool fortran_order;
    int ndim;
    int64_t shape[ND_MAX_DIMS];
} npy_header;

/* The header text is read with a cursor (internal.h): it is not NUL-terminated. */
typedef nd__cursor cursor;

/* A quoted Python string without escapes (all numpy writes); *len excludes quotes. */
static bool take_string(cursor *c, const char **s, size_t *len) {
    nd__skip_space(c);
    if (c->at >= c->end || (*c->at != '\'' && *c->at != '"')) return false;
    char quote = *c->at++;
    const char *start = c->at;
    while (c->at < c->end && *c->at != quote) {
        if (*c->at == '\\') return false;
        c->at++;
    }
    if (c->at >= c->end) return false;
    *s = start;
    *len = (size_t)(c->at - start);
    c->at++;
    return true;
}

static bool take_word(cursor *c, const char *word) {
    nd__skip_space(c);
    size_t n = strlen(word);
    if ((size_t)(c->end - c->at) < n || memcmp(c->at, word, n) != 0) return false;
    c->at += n;
    return true;
}

static bool same(const char *s, size_t len, const char *literal) {
    return len == strlen(literal) && memcmp(s, literal, len) == 0;
}

static bool bad_header(const npy_header *h, const char *what) {
    nd__set_error_as(ND_ERR_FORMAT, "%s: corrupt header: %s", h->source, what);
    return false;
}

static bool parse_descr(cursor *c, npy_header *h) {
    const char *s;
    size_t len;
    if (!take_string(c, &s, &len)) {
        nd__skip_space(c);
        if (c->at < c->end && *c->at == '[')
            nd__set_error_as(
                ND_ERR_FORMAT,
                "%s: structured arrays are not supported (nd reads bool, uint8, int32, "
                "int64, float32 and float64)",
                h->source);
        else
            bad_header(h, "'descr' is not a string");
        return false;
    }
    if (len == 3 && strchr("<>|=", s[0])) {
        for (int d = 0; d <= ND_F64; d++) {
            if (memcmp(s + 1, type_codes[d], 2) != 0) continue;
            h->dtype = (nd_dtype)d;
            char order = s[0] == '>' || s[0] == '<' ? s[0] : HOST_ORDER;
            h->swap = order != HOST_ORDER && nd_dtype_size(h->dtype) > 1;
            return true;
        }
    }
    nd__set_error_as(ND_ERR_FORMAT,
                     "%s: unsupported dtype '%.*s' (nd reads bool '|b1', uint8 '|u1', int32 "
                     "'<i4', int64 '<i8', float32 '<f4' and float64 '<f8', either byte order)",
                     h->source, (int)(len < 32 ? len : 32), s);
    return false;
}

static bool parse_shape(cursor *c, npy_header *h) {
    if (!nd__take(c, '(')) return bad_header(h, "'shape' is not a tuple");
    h->ndim = 0;
    bool comma_after_last = false;
    while (!nd__take(c, ')')) {
        if (h->ndim > 0 && !comma_after_last) return bad_header(h, "expected ',' in 'shape'");
        if (h->ndim == ND_MAX_DIMS) {
            nd__set_error_as(ND_ERR_FORMAT, "%s: more than %d dims in 'shape'", h->source,
                             ND_MAX_DIMS);
            return false;
        }
        nd__skip_space(c);
        int64_t v = 0;
        int digits = 0;
        while (c->at < c->end && *c->at >= '0' && *c->at <= '9') {
            if (v > (INT64_MAX - 9) / 10) return bad_header(h, "a dim in 'shape' is too large");
            v = v * 10 + (*c->at++ - '0');
            digits++;
        }
        if (digits == 0) return bad_header(h, "'shape' holds something other than sizes");
        h->shape[h->ndim++] = v;
        comma_after_last = nd__take(c, ',');
    }
    /* (3) is the number 3 in Python, not a tuple: numpy writes (3,). */
    if (h->ndim == 1 && !comma_after_last) return bad_header(h, "'shape' (n) lacks its comma");
    return true;
}

/* The dict, keys in any order, as Python's literal syntax allows. */
static bool parse_dict(const char *text, size_t len, npy_header *h) {
    cursor c = {text, text + len};
    bool have_descr = false, have_order = false, have_shape = false;
    if (!nd__take(&c, '{')) return bad_header(h, "not a dict");
    while (!nd__take(&c, '}')) {
        const char *key;
        size_t key_len;
        if (!take_string(&c, &key, &key_len)) return bad_header(h, "expected a quoted key");
        if (!nd__take(&c, ':')) return bad_header(h, "expected ':' after a key");
        if (same(key, key_len, "descr")) {
            if (!parse_descr(&c, h)) return false;
            have_descr = true;
        } else if (same(key, key_len, "fortran_order")) {
            if (take_word(&c, "True"))
                h->fortran_order = true;
            else if (take_word(&c, "False"))
                h->fortran_order = false;
            else
                return bad_header(h, "'fortran_order' is neither True nor False");
            have_order = true;
        } else if (same(key, key_len, "shape")) {
            if (!parse_shape(&c, h)) return false;
            have_shape = true;
        } else {
            return bad_header(h, "unknown key (expected 'descr', 'fortran_order', 'shape')");
        }
        if (!nd__take(&c, ',')) {
            if (!nd__take(&c, '}')) return bad_header(h, "expected ',' or '}'");
            break;
        }
    }
    nd__skip_space(&c);
    if (c.at != c.end) return bad_header(h, "text after the dict");
    if (!have_descr || !have_order || !have_shape)
        return bad_header(h, "missing 'descr', 'fortran_order' or 'shape'");
    return true;
}

/* ----------------------------------------------------------------- data */

void nd__swap_bytes(void *data, int64_t n, size_t size) {
    char *p = data;
    for (int64_t i = 0; i < n; i++, p += size)
        for (size_t a = 0, b = size - 1; a < b; a++, b--) {
            char tmp = p[a];
            p[a] = p[b];
            p[b] = tmp;
        }
}

/* Fortran order is C order of the reversed shape: element (i0, i1, ...) sits at
 * i0 + n0·(i1 + n1·(...)). Copied into C order with an odometer. */
static void from_fortran(const char *src, nd_tensor *t) {
    size_t size = nd_dtype_size(t->dtype);
    int64_t fortran_strides[ND_MAX_DIMS], index[ND_MAX_DIMS] = {0};
    int64_t stride = 1;
    for (int d = 0; d < t->ndim; d++) {
        fortran_strides[d] = stride;
        stride *= t->shape[d];
    }
    char *dst = nd__ptr(t);
    int64_t offset = 0;
    for (int64_t i = 0; i < t->numel; i++) {
        memcpy(dst + (size_t)i * size, src + (size_t)offset * size, size);
        for (int d = t->ndim - 1; d >= 0; d--) {
            offset += fortran_strides[d];
            if (++index[d] < t->shape[d]) break;
            offset -= fortran_strides[d] * t->shape[d];
            index[d] = 0;
        }
    }
}

static nd_tensor *parse_bytes(const char *source, const unsigned char *bytes, size_t len) {
    npy_header h = {.source = source};
    if (len < MAGIC_LENGTH + 2 || memcmp(bytes, MAGIC, MAGIC_LENGTH) != 0)
        return nd__fail_as(ND_ERR_FORMAT,
                           "%s: not a .npy file (it does not start with \"\\x93NUMPY\")", source);
    int major = bytes[6], minor = bytes[7];
    if ((major < 1 || major > 3) || minor != 0)
        return nd__fail_as(ND_ERR_FORMAT,
                           "%s: unsupported .npy format version %d.%d (nd reads 1.0, 2.0, 3.0)",
                           source, major, minor);
    size_t prefix = major == 1 ? 10 : 12;
    if (len < prefix)
        return nd__fail_as(ND_ERR_FORMAT, "%s: truncated file (%zu bytes)", source, len);
    size_t header_length = major == 1 ? (size_t)bytes[8] | (size_t)bytes[9] << 8
                                      : (size_t)bytes[8] | (size_t)bytes[9] << 8 |
                                            (size_t)bytes[10] << 16 | (size_t)bytes[11] << 24;
    if (header_length > len - prefix)
        return nd__fail_as(ND_ERR_FORMAT, "%s: truncated header (%zu bytes announced, %zu present)",
                           source, header_length, len - prefix);
    if (!parse_dict((const char *)bytes + prefix, header_length, &h)) return NULL;
    if (!nd__check_shape(source, h.ndim, h.shape)) return NULL;
    int64_t numel = 1;
    for (int d = 0; d < h.ndim; d++) numel *= h.shape[d];
    size_t size = nd_dtype_size(h.dtype);
    size_t data_bytes = (size_t)numel * size, present = len - prefix - header_length;
    if (present != data_bytes)
        return nd__fail_as(
            ND_ERR_FORMAT, "%s: %s data: shape %s of %s needs %zu bytes, the file has %zu", source,
            present < data_bytes ? "truncated" : "extra bytes after the",
            nd__shape_str(h.ndim, h.shape), nd_dtype_name(h.dtype), data_bytes, present);
    nd_tensor *t = nd__empty(h.dtype, h.ndim, h.shape);
    if (!t) return NULL;
    if (numel == 0) return t;
    const char *data = (const char *)bytes + prefix + header_length;
    if (h.fortran_order)
        from_fortran(data, t);
    else
        memcpy(nd__ptr(t), data, data_bytes);
    if (h.swap) nd__swap_bytes(nd__ptr(t), numel, size);
    if (h.dtype == ND_BOOL) { /* any non-zero byte is True, as numpy reads it; nd keeps 0/1 */
        unsigned char *p = nd__ptr(t);
        for (int64_t i = 0; i < numel; i++) p[i] = p[i] != 0;
    }
    return t;
}

nd_tensor *nd_parse_npy(const void *bytes, size_t len) {
    if (!bytes && len) return nd__fail("nd_parse_npy: NULL bytes");
    return parse_bytes("nd_parse_npy", bytes ? bytes : "", len);
}

unsigned char *nd__read_all(int fd, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) break;
        if (got == 0) {
            *len = n;
            return buf;
        }
        n += (size_t)got;
        if (n == cap) {
            unsigned char *grown = realloc(buf, cap *= 2);
            if (!grown) break;
            buf = grown;
        }
    }
    free(buf);
    return NULL;
}

nd_tensor *nd_load_npy(const char *path) {
    if (!path) return nd__fail("nd_load_npy: NULL path");
    char source[512];
    snprintf(source, sizeof source, "nd_load_npy: %s", path);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return nd__fail_as(nd__errno_code(errno), "%s: cannot open: %s", source, strerror(errno));
    struct stat st;
    nd_tensor *t = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        size_t len = (size_t)st.st_size;
        /* MAP_POPULATE maps every page at once: far fewer faults than touching
         * the pages one by one while copying. */
        int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
        flags |= MAP_POPULATE;
#endif
        void *map = mmap(NULL, len, PROT_READ, flags, fd, 0);
        if (map != MAP_FAILED) {
            t = parse_bytes(source, map, len);
            munmap(map, len);
            close(fd);
            return t;
        }
    }
    size_t len = 0;
    unsigned char *all = nd__read_all(fd, &len);
    close(fd);
    if (!all)
        return nd__fail_as(nd__errno_code(errno), "%s: cannot read: %s", source, strerror(errno));
    t = parse_bytes(source, all, len);
    free(all);
    return t;
}

/* ---------------------------------------------------------------- write */

/* The header numpy.save writes for this dtype and shape, byte for byte
 * (numpy's format.py: sorted keys, room to grow dim 0, padding to 64). */
static size_t make_header(const nd_tensor *t, char *out, size_t cap) {
    char dict[ND_MAX_DIMS * 22 + 128];
    char order = nd_dtype_size(t->dtype) == 1 ? '|' : HOST_ORDER;
    int n = snprintf(dict, sizeof dict, "{'descr': '%c%s', 'fortran_order': False, 'shape': %s, }",
                     order, type_codes[t->dtype], nd__tshape(t));
    if (t->ndim > 0) {
        int digits = snprintf(NULL, 0, "%lld", (long long)t->shape[0]);
        for (int i = digits; i < GROWTH_AXIS_DIGITS; i++) dict[n++] = ' ';
    }
    size_t text_length = (size_t)n + 1; /* the dict and its final newline */
    size_t prefix = 10;
    size_t pad = ALIGNMENT - (prefix + text_length) % ALIGNMENT;
    if (text_length + pad > 0xffff) { /* does not fit version 1.0's 2-byte length */
        prefix = 12;
        pad = ALIGNMENT - (prefix + text_length) % ALIGNMENT;
    }
    size_t header_length = text_length + pad, total = prefix + header_length;
    if (total > cap) return 0;
    memcpy(out, MAGIC, MAGIC_LENGTH);
    out[6] = prefix == 10 ? 1 : 2;
    out[7] = 0;
    for (size_t i = 0; i < prefix - 8; i++) out[8 + i] = (char)(header_length >> (8 * i) & 0xff);
    memcpy(out + prefix, dict, (size_t)n);
    memset(out + prefix + n, ' ', pad);
    out[total - 1] = '\n';
    return total;
}

int nd_save_npy(const nd_tensor *t, const char *path) {
    if (!t) return nd__null_input_int("nd_save_npy");
    if (!path) return nd__fail_int("nd_save_npy: NULL path");
    char header[ND_MAX_DIMS * 22 + 256];
    size_t header_length = make_header(t, header, sizeof header);
    size_t data_bytes = (size_t)t->numel * nd_dtype_size(t->dtype);
    /* A strided tensor is written from a C-order copy. */
    void *copy = NULL;
    const void *data = t->numel ? nd__ptr(t) : NULL;
    if (!t->contiguous && data_bytes) {
        if (!(copy = malloc(data_bytes)))
            return nd__fail_int_as(ND_ERR_NOMEM, "nd_save_npy: %s: out of memory", path);
        if (nd_read(t, t->dtype, copy, data_bytes) != 0) {
            free(copy);
            return -1;
        }
        data = copy;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(copy);
        return nd__fail_int_as(nd__errno_code(errno),
                               "nd_save_npy: %s: cannot open for writing: %s", path,
                               strerror(errno));
    }
    bool ok = fwrite(header, 1, header_length, f) == header_length &&
              (data_bytes == 0 || fwrite(data, 1, data_bytes, f) == data_bytes);
    int saved_errno = errno;
    ok = (fclose(f) == 0) && ok;
    free(copy);
    if (!ok)
        return nd__fail_int_as(nd__errno_code(saved_errno ? saved_errno : errno),
                               "nd_save_npy: %s: write failed: %s", path,
                               strerror(saved_errno ? saved_errno : errno));
    return 0;
}
