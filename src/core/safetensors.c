/* safetensors files: named tensors in the format of the Hugging Face world
 * (https://github.com/huggingface/safetensors), read and written so that
 * PyTorch checkpoints and nd checkpoints are the same kind of file.
 *
 * A file is: an 8-byte little-endian length N, N bytes of JSON such as
 *   {"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}
 * padded with spaces so that the data starts 8-byte aligned, then the data
 * area: each tensor's raw little-endian elements in C order, at its
 * data_offsets (relative to the start of the data area).
 *
 * A file is untrusted input: the reader checks everything the reference
 * implementation checks (the header fits the file and is at most 100 MB, the
 * JSON is well formed, each dtype is known, each shape × element size equals
 * its offsets' span, the spans tile the data area with no overlap, hole or
 * byte left over) and also refuses duplicate names, before it copies a byte.
 * Files are mapped into memory and read by the same code as
 * nd_parse_safetensors, so the parser the fuzzer exercises is the one every
 * file goes through.
 *
 * Writing is atomic: a temporary file in the same folder, written, flushed to
 * disk (fsync) and renamed over the target. A failed write (a full disk, an
 * unwritable folder) leaves the old file as it was. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define LENGTH_BYTES    8
#define MAX_HEADER      100000000 /* the reference implementation's limit */
#define METADATA_KEY    "__metadata__"
#define DATA_ALIGNMENT  8
#define MAX_LISTED_NAME 5 /* names shown in "no tensor named" messages */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_IS_LITTLE false
#else
#define HOST_IS_LITTLE true
#endif

/* Every dtype of the format, with its element size, so that a file holding
 * float16 tensors is still checked and listed; nd loads the six it has. */
static const struct {
    const char *name;
    size_t size;
    int nd; /* the nd_dtype, or -1 */
} dtypes[] = {
    {"BOOL", 1, ND_BOOL}, {"U8", 1, ND_U8},   {"I32", 4, ND_I32}, {"I64", 8, ND_I64},
    {"F32", 4, ND_F32},   {"F64", 8, ND_F64}, {"I8", 1, -1},      {"I16", 2, -1},
    {"U16", 2, -1},       {"U32", 4, -1},     {"U64", 8, -1},     {"F16", 2, -1},
    {"BF16", 2, -1},      {"F8_E4M3", 1, -1}, {"F8_E5M2", 1, -1}, {"C64", 8, -1},
};
#define N_DTYPES ((int)(sizeof dtypes / sizeof dtypes[0]))

typedef struct {
    char *name; /* NUL-terminated UTF-8, malloc'd */
    int dtype;  /* index into dtypes[] */
    int ndim;
    int64_t shape[ND_MAX_DIMS];
    uint64_t begin, end; /* data_offsets */
} entry;

typedef struct {
    const char *source; /* "nd_load_safetensors: ckpt.safetensors", for messages */
    entry *entries;
    int n, cap;
    const unsigned char *data; /* the data area */
    uint64_t data_len;
} header;

static void header_free(header *h) {
    for (int i = 0; i < h->n; i++) free(h->entries[i].name);
    free(h->entries);
    h->entries = NULL;
    h->n = h->cap = 0;
}

/* ------------------------------------------------------------------ JSON */

/* A strict reader for the subset of JSON the header uses: objects, strings,
 * arrays of non-negative integers. Not NUL-terminated: bounded by end. */
typedef struct {
    const char *start, *at, *end;
    const char *source;
} json;

static bool json_error(json *j, const char *what) {
    nd__set_error("%s: corrupt header: %s (at byte %zu of the header)", j->source, what,
                  (size_t)(j->at - j->start));
    return false;
}

static void skip_space(json *j) {
    while (j->at < j->end && (*j->at == ' ' || *j->at == '\t' || *j->at == '\n' || *j->at == '\r'))
        j->at++;
}

static bool take(json *j, char ch) {
    skip_space(j);
    if (j->at < j->end && *j->at == ch) {
        j->at++;
        return true;
    }
    return false;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool take_hex4(json *j, unsigned *v) {
    if (j->end - j->at < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(j->at[i]);
        if (d < 0) return false;
        *v = *v << 4 | (unsigned)d;
    }
    j->at += 4;
    return true;
}

static size_t put_utf8(unsigned cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid
 * (overlong forms, surrogates and code points past U+10FFFF are invalid). */
static size_t utf8_length(const unsigned char *p, size_t n) {
    if (p[0] < 0x80) return 1;
    size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (len == 0 || len > n || p[0] > 0xf4) return 0;
    unsigned cp = p[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static bool utf8_valid_name(const char *s) {
    size_t n = strlen(s);
    for (size_t len; n > 0; s += len, n -= len)
        if (!(len = utf8_length((const unsigned char *)s, n))) return false;
    return true;
}

/* A JSON string, unescaped into a malloc'd NUL-terminated buffer. */
static bool take_string(json *j, char **out) {
    if (!take(j, '"')) return json_error(j, "expected a string");
    const char *start = j->at;
    while (j->at < j->end && *j->at != '"') j->at += *j->at == '\\' && j->at + 1 < j->end ? 2 : 1;
    if (j->at >= j->end) return json_error(j, "unterminated string");
    size_t span = (size_t)(j->at - start);
    j->at = start;
    char *s = malloc(span + 1), *o = s;
    if (!s) {
        nd__set_error("%s: out of memory reading the header", j->source);
        return false;
    }
    while (*j->at != '"') {
        unsigned char c = (unsigned char)*j->at;
        if (c < 0x20) {
            free(s);
            return json_error(j, "control character in a string");
        }
        if (c != '\\') {
            size_t len = utf8_length((const unsigned char *)j->at, (size_t)(j->end - j->at));
            if (len == 0) {
                free(s);
                return json_error(j, "a string is not valid UTF-8");
            }
            memcpy(o, j->at, len);
            o += len;
            j->at += len;
            continue;
        }
        char e = j->at[1];
        j->at += 2;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            *o++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned cp, low;
        if (e != 'u' || !take_hex4(j, &cp)) {
            free(s);
            return json_error(j, "bad escape in a string");
        }
        if (cp >= 0xd800 && cp <= 0xdbff) { /* a surrogate pair: \ud83d\ude00 */
            if (j->end - j->at < 6 || j->at[0] != '\\' || j->at[1] != 'u' ||
                (j->at += 2, !take_hex4(j, &low)) || low < 0xdc00 || low > 0xdfff) {
                free(s);
                return json_error(j, "unpaired surrogate in a string");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        } else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0) {
            free(s);
            return json_error(j, cp ? "unpaired surrogate in a string" : "\\u0000 in a string");
        }
        o += put_utf8(cp, o);
    }
    j->at++; /* the closing quote */
    *o = '\0';
    *out = s;
    return true;
}

/* A non-negative JSON integer: digits, no sign, fraction or exponent. */
static bool take_uint(json *j, uint64_t *v) {
    skip_space(j);
    const char *start = j->at;
    *v = 0;
    while (j->at < j->end && *j->at >= '0' && *j->at <= '9') {
        unsigned d = (unsigned)(*j->at - '0');
        if (*v > (UINT64_MAX - d) / 10) return json_error(j, "an integer is too large");
        *v = *v * 10 + d;
        j->at++;
    }
    if (j->at == start) return json_error(j, "expected a non-negative integer");
    if (*start == '0' && j->at - start > 1) return json_error(j, "an integer has a leading zero");
    if (j->at < j->end && (*j->at == '.' || *j->at == 'e' || *j->at == 'E'))
        return json_error(j, "expected an integer, not a fraction");
    return true;
}

static bool take_key(json *j, char **key) {
    if (!take_string(j, key)) return false;
    if (!take(j, ':')) {
        free(*key);
        return json_error(j, "expected ':' after a key");
    }
    return true;
}

/* ',' between members or the closing bracket; *more says which. */
static bool next_member(json *j, char close, bool *more) {
    if (take(j, ',')) return *more = true;
    if (take(j, close)) return !(*more = false);
    return json_error(j, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

static bool parse_metadata(json *j) {
    if (!take(j, '{')) return json_error(j, "\"__metadata__\" is not an object");
    if (take(j, '}')) return true;
    for (bool more = true; more;) {
        char *key, *value;
        if (!take_key(j, &key)) return false;
        free(key);
        skip_space(j);
        if (j->at < j->end && *j->at != '"')
            return json_error(j, "a \"__metadata__\" value is not a string");
        if (!take_string(j, &value)) return false;
        free(value);
        if (!next_member(j, '}', &more)) return false;
    }
    return true;
}

static bool parse_shape(json *j, entry *e) {
    if (!take(j, '[')) return json_error(j, "\"shape\" is not an array");
    e->ndim = 0;
    if (take(j, ']')) return true;
    for (bool more = true; more;) {
        uint64_t v;
        if (e->ndim == ND_MAX_DIMS) {
            nd__set_error("%s: tensor '%s' has more than %d dims", j->source, e->name, ND_MAX_DIMS);
            return false;
        }
        if (!take_uint(j, &v)) return false;
        if (v > INT64_MAX) return json_error(j, "a size in \"shape\" is too large");
        e->shape[e->ndim++] = (int64_t)v;
        if (!next_member(j, ']', &more)) return false;
    }
    return true;
}

static bool parse_offsets(json *j, entry *e) {
    if (!take(j, '[')) return json_error(j, "\"data_offsets\" is not an array");
    if (!take_uint(j, &e->begin)) return false;
    if (!take(j, ',')) return json_error(j, "\"data_offsets\" needs two integers");
    if (!take_uint(j, &e->end)) return false;
    if (!take(j, ']')) return json_error(j, "\"data_offsets\" needs exactly two integers");
    return true;
}

static bool parse_dtype(json *j, entry *e) {
    char *name;
    skip_space(j);
    if (j->at < j->end && *j->at != '"') return json_error(j, "\"dtype\" is not a string");
    if (!take_string(j, &name)) return false;
    for (int d = 0; d < N_DTYPES; d++)
        if (strcmp(name, dtypes[d].name) == 0) {
            e->dtype = d;
            free(name);
            return true;
        }
    nd__set_error("%s: tensor '%s' has an unknown dtype \"%.32s\"", j->source, e->name, name);
    free(name);
    return false;
}

/* {"dtype": ..., "shape": [...], "data_offsets": [b, e]}, keys in any order. */
static bool parse_tensor(json *j, entry *e) {
    bool have[3] = {false, false, false};
    if (!take(j, '{')) return json_error(j, "a tensor's entry is not an object");
    for (bool more = !take(j, '}'); more;) {
        char *key;
        if (!take_key(j, &key)) return false;
        int which = strcmp(key, "dtype") == 0          ? 0
                    : strcmp(key, "shape") == 0        ? 1
                    : strcmp(key, "data_offsets") == 0 ? 2
                                                       : -1;
        free(key);
        if (which < 0)
            return json_error(j, "unknown key in a tensor's entry (expected \"dtype\", "
                                 "\"shape\", \"data_offsets\")");
        if (have[which]) return json_error(j, "a key repeated in a tensor's entry");
        have[which] = true;
        bool ok = which == 0   ? parse_dtype(j, e)
                  : which == 1 ? parse_shape(j, e)
                               : parse_offsets(j, e);
        if (!ok || !next_member(j, '}', &more)) return false;
    }
    if (!have[0] || !have[1] || !have[2]) {
        nd__set_error("%s: corrupt header: tensor '%s' lacks \"dtype\", \"shape\" or "
                      "\"data_offsets\"",
                      j->source, e->name);
        return false;
    }
    return true;
}

static bool parse_json(header *h, const char *text, size_t len) {
    json j = {text, text, text + len, h->source};
    bool have_metadata = false;
    if (len == 0 || text[0] != '{') return json_error(&j, "it does not start with '{'");
    j.at++;
    for (bool more = !take(&j, '}'); more;) {
        char *key;
        if (!take_key(&j, &key)) return false;
        if (strcmp(key, METADATA_KEY) == 0) {
            free(key);
            if (have_metadata) return json_error(&j, "\"__metadata__\" given twice");
            have_metadata = true;
            if (!parse_metadata(&j)) return false;
        } else {
            if (h->n == h->cap) {
                int cap = h->cap ? 2 * h->cap : 16;
                entry *grown = realloc(h->entries, (size_t)cap * sizeof *grown);
                if (!grown) {
                    free(key);
                    nd__set_error("%s: out of memory reading the header", h->source);
                    return false;
                }
                h->entries = grown;
                h->cap = cap;
            }
            entry *e = &h->entries[h->n++];
            memset(e, 0, sizeof *e);
            e->name = key;
            if (!parse_tensor(&j, e)) return false;
        }
        if (!next_member(&j, '}', &more)) return false;
    }
    skip_space(&j);
    if (j.at != j.end) return json_error(&j, "text after the header's object");
    return true;
}

/* ------------------------------------------------------------ validation */

static int by_name(const void *a, const void *b) {
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static int by_offsets(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Each tensor's size agrees with its span; the spans tile the data area. */
static bool check_entries(header *h) {
    for (int i = 0; i < h->n; i++) {
        const entry *e = &h->entries[i];
        uint64_t bytes = dtypes[e->dtype].size;
        for (int d = 0; d < e->ndim; d++) {
            uint64_t n = (uint64_t)e->shape[d];
            if (n && bytes > UINT64_MAX / n) {
                nd__set_error("%s: tensor '%s' of shape %s is too large", h->source, e->name,
                              nd__shape_str(e->ndim, e->shape));
                return false;
            }
            bytes *= n;
        }
        if (e->end < e->begin) {
            nd__set_error("%s: tensor '%s' has data_offsets [%llu, %llu] that end before they "
                          "begin",
                          h->source, e->name, (unsigned long long)e->begin,
                          (unsigned long long)e->end);
            return false;
        }
        if (e->end > h->data_len) {
            nd__set_error("%s: tensor '%s' has data_offsets [%llu, %llu] out of range: the data "
                          "area has %llu bytes (truncated file?)",
                          h->source, e->name, (unsigned long long)e->begin,
                          (unsigned long long)e->end, (unsigned long long)h->data_len);
            return false;
        }
        if (e->end - e->begin != bytes) {
            nd__set_error("%s: tensor '%s': shape %s of %s needs %llu bytes, its data_offsets "
                          "[%llu, %llu] hold %llu",
                          h->source, e->name, nd__shape_str(e->ndim, e->shape),
                          dtypes[e->dtype].name, (unsigned long long)bytes,
                          (unsigned long long)e->begin, (unsigned long long)e->end,
                          (unsigned long long)(e->end - e->begin));
            return false;
        }
    }
    entry *sorted = malloc((size_t)(h->n ? h->n : 1) * sizeof *sorted);
    if (!sorted) {
        nd__set_error("%s: out of memory checking the header", h->source);
        return false;
    }
    if (h->n) memcpy(sorted, h->entries, (size_t)h->n * sizeof *sorted);
    bool ok = true;
    qsort(sorted, (size_t)h->n, sizeof *sorted, by_name);
    for (int i = 1; i < h->n && ok; i++)
        if (strcmp(sorted[i - 1].name, sorted[i].name) == 0) {
            nd__set_error("%s: corrupt header: the name '%s' is given twice", h->source,
                          sorted[i].name);
            ok = false;
        }
    qsort(sorted, (size_t)h->n, sizeof *sorted, by_offsets);
    uint64_t covered = 0;
    for (int i = 0; i < h->n && ok; i++) {
        if (sorted[i].begin != covered) {
            if (sorted[i].begin < covered)
                nd__set_error("%s: tensors '%s' and '%s' overlap in the data area", h->source,
                              sorted[i - 1].name, sorted[i].name);
            else
                nd__set_error("%s: a hole in the data area: bytes %llu to %llu belong to no "
                              "tensor",
                              h->source, (unsigned long long)covered,
                              (unsigned long long)sorted[i].begin);
            ok = false;
        }
        covered = sorted[i].end;
    }
    if (ok && covered != h->data_len) {
        nd__set_error("%s: %llu bytes after the last tensor's data (the data area has %llu, the "
                      "tensors take %llu)",
                      h->source, (unsigned long long)(h->data_len - covered),
                      (unsigned long long)h->data_len, (unsigned long long)covered);
        ok = false;
    }
    free(sorted);
    return ok;
}

/* The length prefix, the header and its entries, all checked. */
static bool parse_header(header *h, const unsigned char *bytes, size_t len) {
    if (len < LENGTH_BYTES) {
        nd__set_error("%s: truncated file (%zu bytes; a safetensors file starts with an 8-byte "
                      "header length)",
                      h->source, len);
        return false;
    }
    uint64_t n = 0;
    for (int i = LENGTH_BYTES - 1; i >= 0; i--) n = n << 8 | bytes[i];
    if (n > MAX_HEADER) {
        nd__set_error("%s: header too large (%llu bytes announced, at most %d)", h->source,
                      (unsigned long long)n, MAX_HEADER);
        return false;
    }
    if (n > len - LENGTH_BYTES) {
        nd__set_error("%s: truncated header (%llu bytes announced, %zu present)", h->source,
                      (unsigned long long)n, len - LENGTH_BYTES);
        return false;
    }
    if (!parse_json(h, (const char *)bytes + LENGTH_BYTES, (size_t)n)) return false;
    h->data = bytes + LENGTH_BYTES + n;
    h->data_len = len - LENGTH_BYTES - n;
    return check_entries(h);
}

/* --------------------------------------------------------------- reading */

static nd_tensor *tensor_from(const header *h, const char *name) {
    const entry *e = NULL;
    for (int i = 0; i < h->n && !e; i++)
        if (strcmp(h->entries[i].name, name) == 0) e = &h->entries[i];
    if (!e) {
        char listed[256] = "";
        size_t at = 0;
        for (int i = 0; i < h->n && i < MAX_LISTED_NAME && at < sizeof listed; i++)
            at += (size_t)snprintf(listed + at, sizeof listed - at, "%s'%.40s'", i ? ", " : "",
                                   h->entries[i].name);
        return nd__fail("%s: no tensor named '%s' (the file holds %d%s%s%s)", h->source, name, h->n,
                        h->n ? ": " : "", listed, h->n > MAX_LISTED_NAME ? ", ..." : "");
    }
    if (dtypes[e->dtype].nd < 0)
        return nd__fail("%s: tensor '%s' has dtype %s, which nd does not have (nd reads BOOL, "
                        "U8, I32, I64, F32 and F64)",
                        h->source, name, dtypes[e->dtype].name);
    if (!nd__check_shape(h->source, e->ndim, e->shape)) return NULL;
    nd_tensor *t = nd__empty((nd_dtype)dtypes[e->dtype].nd, e->ndim, e->shape);
    if (!t || t->numel == 0) return t;
    size_t size = dtypes[e->dtype].size, bytes = (size_t)(e->end - e->begin);
    unsigned char *p = nd__ptr(t);
    memcpy(p, h->data + e->begin, bytes);
    if (!HOST_IS_LITTLE)
        for (size_t i = 0; i < bytes; i += size)
            for (size_t a = i, b = i + size - 1; a < b; a++, b--) {
                unsigned char tmp = p[a];
                p[a] = p[b];
                p[b] = tmp;
            }
    if (t->dtype == ND_BOOL) /* any non-zero byte is true; nd keeps 0/1 */
        for (size_t i = 0; i < bytes; i++) p[i] = p[i] != 0;
    return t;
}

/* The names in header order as one malloc'd block: the pointer array, NULL
 * at the end, then the strings. */
static int names_from(const header *h, char ***out) {
    size_t bytes = (size_t)(h->n + 1) * sizeof(char *);
    for (int i = 0; i < h->n; i++) bytes += strlen(h->entries[i].name) + 1;
    char **names = malloc(bytes);
    if (!names) return nd__fail_int("%s: out of memory listing the names", h->source);
    char *text = (char *)(names + h->n + 1);
    for (int i = 0; i < h->n; i++) {
        size_t len = strlen(h->entries[i].name) + 1;
        names[i] = memcpy(text, h->entries[i].name, len);
        text += len;
    }
    names[h->n] = NULL;
    *out = names;
    return h->n;
}

nd_tensor *nd_parse_safetensors(const void *bytes, size_t len, const char *name) {
    if (!bytes && len) return nd__fail("nd_parse_safetensors: NULL bytes");
    if (!name) return nd__fail("nd_parse_safetensors: NULL name");
    header h = {.source = "nd_parse_safetensors"};
    nd_tensor *t = parse_header(&h, bytes ? bytes : "", len) ? tensor_from(&h, name) : NULL;
    header_free(&h);
    return t;
}

int nd_parse_safetensors_names(const void *bytes, size_t len, char ***names) {
    if (!bytes && len) return nd__fail_int("nd_parse_safetensors_names: NULL bytes");
    if (!names) return nd__fail_int("nd_parse_safetensors_names: NULL names");
    header h = {.source = "nd_parse_safetensors_names"};
    int n = parse_header(&h, bytes ? bytes : "", len) ? names_from(&h, names) : -1;
    header_free(&h);
    return n;
}

/* Maps (or, for a pipe, reads) the file, checks its header, then loads the
 * tensor r->name or lists the names into r->names. */
typedef struct {
    const char *name;  /* for loading */
    nd_tensor *tensor; /* loaded */
    char ***names;     /* for listing */
    int count;
} file_request;

static bool with_file(const char *op, const char *path, file_request *r) {
    char source[512];
    snprintf(source, sizeof source, "%s: %s", op, path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        nd__set_error("%s: cannot open: %s", source, nd__strerror(errno));
        return false;
    }
    struct stat st;
    void *map = NULL;
    size_t len = 0;
    unsigned char *all = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        len = (size_t)st.st_size;
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) map = NULL;
    }
    if (!map && !(all = nd__read_all(fd, &len))) {
        int err = errno;
        close(fd);
        nd__set_error("%s: cannot read: %s", source, nd__strerror(err));
        return false;
    }
    close(fd);
    header h = {.source = source};
    bool ok = parse_header(&h, map ? map : all, len);
    if (ok && r->name) ok = (r->tensor = tensor_from(&h, r->name)) != NULL;
    if (ok && r->names) ok = (r->count = names_from(&h, r->names)) >= 0;
    header_free(&h);
    if (map) munmap(map, len);
    free(all);
    return ok;
}

nd_tensor *nd_load_safetensors(const char *path, const char *name) {
    if (!path) return nd__fail("nd_load_safetensors: NULL path");
    if (!name) return nd__fail("nd_load_safetensors: %s: NULL name", path);
    file_request r = {.name = name};
    return with_file("nd_load_safetensors", path, &r) ? r.tensor : NULL;
}

int nd_safetensors_names(const char *path, char ***names) {
    if (!path) return nd__fail_int("nd_safetensors_names: NULL path");
    if (!names) return nd__fail_int("nd_safetensors_names: %s: NULL names", path);
    file_request r = {.names = names};
    return with_file("nd_safetensors_names", path, &r) ? r.count : -1;
}

/* --------------------------------------------------------------- writing */

/* A growable text buffer for the header. */
typedef struct {
    char *text;
    size_t len, cap;
    bool failed;
} text_buffer;

static void append(text_buffer *b, const char *s, size_t n) {
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap) cap *= 2;
        char *grown = realloc(b->text, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->text = grown;
        b->cap = cap;
    }
    memcpy(b->text + b->len, s, n);
    b->len += n;
    b->text[b->len] = '\0';
}

static void append_str(text_buffer *b, const char *s) {
    append(b, s, strlen(s));
}

/* A JSON string literal: quotes, backslashes and control characters escaped. */
static void append_quoted(text_buffer *b, const char *s) {
    append(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            append(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            append(b, esc, 6);
        } else {
            append(b, s, 1);
        }
    }
    append(b, "\"", 1);
}

static const char *dtype_code(nd_dtype d) {
    for (int i = 0; i < N_DTYPES; i++)
        if (dtypes[i].nd == (int)d) return dtypes[i].name;
    return "?";
}

/* write() until every byte is out: short writes and EINTR are not errors. */
static bool write_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n > 0) {
        ssize_t done = write(fd, p, n);
        if (done < 0 && errno == EINTR) continue;
        if (done <= 0) {
            if (done == 0) errno = EIO;
            return false;
        }
        p += done;
        n -= (size_t)done;
    }
    return true;
}

/* One tensor's bytes, little-endian, C order. */
static bool write_tensor(int fd, const nd_tensor *t) {
    size_t size = nd_dtype_size(t->dtype), bytes = (size_t)t->numel * size;
    if (bytes == 0) return true;
    if (t->contiguous && HOST_IS_LITTLE) return write_all(fd, nd__ptr(t), bytes);
    unsigned char *copy = malloc(bytes); /* strided, or big-endian: a C-order copy */
    if (!copy) {
        errno = ENOMEM;
        return false;
    }
    if (nd_read(t, t->dtype, copy, bytes) != 0) {
        free(copy);
        errno = EINVAL;
        return false;
    }
    if (!HOST_IS_LITTLE)
        for (size_t i = 0; i < bytes; i += size)
            for (size_t a = i, b = i + size - 1; a < b; a++, b--) {
                unsigned char tmp = copy[a];
                copy[a] = copy[b];
                copy[b] = tmp;
            }
    bool ok = write_all(fd, copy, bytes);
    free(copy);
    return ok;
}

/* The header, with the data in the order of `order`; padded with spaces so
 * that the data area starts at a multiple of 8. */
static bool make_header(text_buffer *b, int n, const char *const *names, nd_tensor *const *tensors,
                        const int *order) {
    uint64_t offset = 0;
    append_str(b, "{");
    for (int k = 0; k < n; k++) {
        int i = order[k];
        const nd_tensor *t = tensors[i];
        uint64_t bytes = (uint64_t)t->numel * nd_dtype_size(t->dtype);
        char numbers[64];
        if (k) append_str(b, ",");
        append_quoted(b, names[i]);
        append_str(b, ":{\"dtype\":\"");
        append_str(b, dtype_code(t->dtype));
        append_str(b, "\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            snprintf(numbers, sizeof numbers, "%s%lld", d ? "," : "", (long long)t->shape[d]);
            append_str(b, numbers);
        }
        snprintf(numbers, sizeof numbers, "],\"data_offsets\":[%llu,%llu]}",
                 (unsigned long long)offset, (unsigned long long)(offset + bytes));
        append_str(b, numbers);
        offset += bytes;
    }
    append_str(b, "}");
    while (!b->failed && (LENGTH_BYTES + b->len) % DATA_ALIGNMENT) append_str(b, " ");
    return !b->failed;
}

/* Checks the arguments: tensors alive, names present, distinct, not the
 * metadata key. */
static bool check_save_args(const char *path, int n, const char *const *names,
                            nd_tensor *const *tensors) {
    const char *op = "nd_save_safetensors";
    if (n < 0) {
        nd__set_error("%s: %s: negative count %d", op, path, n);
        return false;
    }
    if (n > 0 && (!names || !tensors)) {
        nd__set_error("%s: %s: NULL names or tensors", op, path);
        return false;
    }
    for (int i = 0; i < n; i++) {
        if (nd__bad_tensor(op, tensors[i])) return false;
        const char *problem = !names[i]                             ? "a NULL name"
                              : !names[i][0]                        ? "an empty name"
                              : strcmp(names[i], METADATA_KEY) == 0 ? "the reserved name"
                              : !utf8_valid_name(names[i])          ? "a name that is not UTF-8"
                                                                    : NULL;
        if (problem) {
            nd__set_error("%s: %s: tensor %d has %s", op, path, i, problem);
            return false;
        }
        for (int k = 0; k < i; k++)
            if (strcmp(names[k], names[i]) == 0) {
                nd__set_error("%s: %s: the name '%s' is given twice", op, path, names[i]);
                return false;
            }
    }
    return true;
}

int nd_save_safetensors(const char *path, int n, const char *const *names,
                        nd_tensor *const *tensors) {
    if (!path) return nd__fail_int("nd_save_safetensors: NULL path");
    if (!check_save_args(path, n, names, tensors)) return -1;
    /* Wider elements first (stable), as the reference writer does: every
     * tensor then starts at a multiple of its element size. */
    int *order = malloc((size_t)(n ? n : 1) * sizeof *order);
    if (!order) return nd__fail_int("nd_save_safetensors: %s: out of memory", path);
    int k = 0;
    for (size_t size = 8; size >= 1; size /= 2)
        for (int i = 0; i < n; i++)
            if (nd_dtype_size(tensors[i]->dtype) == size) order[k++] = i;
    text_buffer b = {0};
    if (!make_header(&b, n, names, tensors, order)) {
        free(order);
        free(b.text);
        return nd__fail_int("nd_save_safetensors: %s: out of memory", path);
    }
    unsigned char length[LENGTH_BYTES];
    for (int i = 0; i < LENGTH_BYTES; i++) length[i] = (unsigned char)((uint64_t)b.len >> 8 * i);

    /* The temporary file sits beside the target, so that rename() is atomic. */
    size_t tmp_cap = strlen(path) + 64;
    char *tmp = malloc(tmp_cap);
    int fd = -1;
    for (int attempt = 0; tmp && fd < 0 && attempt < 100; attempt++) {
        snprintf(tmp, tmp_cap, "%s.tmp.%ld.%d", path, (long)getpid(), attempt);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    int err = tmp ? errno : ENOMEM;
    const char *step = "cannot create a temporary file beside it";
    bool ok = fd >= 0;
    if (ok) {
        step = "write failed";
        ok = write_all(fd, length, sizeof length) && write_all(fd, b.text, b.len);
        for (int i = 0; ok && i < n; i++) ok = write_tensor(fd, tensors[order[i]]);
        if (ok && fsync(fd) != 0) {
            step = "fsync failed";
            ok = false;
        }
        if (!ok) err = errno;
        if (close(fd) != 0 && ok) { /* NFS reports some write errors only here */
            step = "close failed";
            ok = false;
            err = errno;
        }
        if (ok && rename(tmp, path) != 0) {
            step = "cannot rename the temporary file over it";
            ok = false;
            err = errno;
        }
        if (!ok) unlink(tmp);
    }
    free(order);
    free(b.text);
    free(tmp);
    if (!ok)
        return nd__fail_int("nd_save_safetensors: %s: %s: %s (the old file, if any, is kept)", path,
                            step, nd__strerror(err));
    /* Flush the rename too. Best effort: the data are safe either way, and a
     * folder that cannot be opened for reading is not an error of the save. */
    char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
    int dir_fd = dir ? open(dir, O_RDONLY | O_DIRECTORY) : -1;
    if (dir_fd >= 0) {
        fsync(dir_fd);
        close(dir_fd);
    }
    free(dir);
    return 0;
}
