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
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HEADER      100000000 /* the reference implementation's limit */
#define MAX_LISTED_NAME 5         /* names shown in "no tensor named" messages */

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
    nd__cursor c; /* where the reader is, and the end of the header */
    const char *start;
    const char *source;
} json;

static bool json_error(json *j, const char *what) {
    nd__set_error_as(ND_ERR_FORMAT, "%s: corrupt header: %s (at byte %zu of the header)", j->source,
                     what, (size_t)(j->c.at - j->start));
    return false;
}

static void skip_space(json *j) {
    nd__skip_space(&j->c);
}

static bool take(json *j, char ch) {
    return nd__take(&j->c, ch);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool take_hex4(json *j, unsigned *v) {
    if (j->c.end - j->c.at < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(j->c.at[i]);
        if (d < 0) return false;
        *v = *v << 4 | (unsigned)d;
    }
    j->c.at += 4;
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

bool nd__safetensors_valid_name(const char *s) {
    size_t n = strlen(s);
    for (size_t len; n > 0; s += len, n -= len)
        if (!(len = utf8_length((const unsigned char *)s, n))) return false;
    return true;
}

/* A JSON string, unescaped into a malloc'd NUL-terminated buffer. */
static bool take_string(json *j, char **out) {
    if (!take(j, '"')) return json_error(j, "expected a string");
    const char *start = j->c.at;
    while (j->c.at < j->c.end && *j->c.at != '"')
        j->c.at += *j->c.at == '\\' && j->c.at + 1 < j->c.end ? 2 : 1;
    if (j->c.at >= j->c.end) return json_error(j, "unterminated string");
    size_t span = (size_t)(j->c.at - start);
    j->c.at = start;
    char *s = malloc(span + 1), *o = s;
    if (!s) {
        nd__set_error_as(ND_ERR_NOMEM, "%s: out of memory reading the header", j->source);
        return false;
    }
    while (*j->c.at != '"') {
        unsigned char c = (unsigned char)*j->c.at;
        if (c < 0x20) {
            free(s);
            return json_error(j, "control character in a string");
        }
        if (c != '\\') {
            size_t len = utf8_length((const unsigned char *)j->c.at, (size_t)(j->c.end - j->c.at));
            if (len == 0) {
                free(s);
                return json_error(j, "a string is not valid UTF-8");
            }
            memcpy(o, j->c.at, len);
            o += len;
            j->c.at += len;
            continue;
        }
        char e = j->c.at[1];
        j->c.at += 2;
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
            if (j->c.end - j->c.at < 6 || j->c.at[0] != '\\' || j->c.at[1] != 'u' ||
                (j->c.at += 2, !take_hex4(j, &low)) || low < 0xdc00 || low > 0xdfff) {
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
    j->c.at++; /* the closing quote */
    *o = '\0';
    *out = s;
    return true;
}

/* A non-negative JSON integer: digits, no sign, fraction or exponent. */
static bool take_uint(json *j, uint64_t *v) {
    skip_space(j);
    const char *start = j->c.at;
    *v = 0;
    while (j->c.at < j->c.end && *j->c.at >= '0' && *j->c.at <= '9') {
        unsigned d = (unsigned)(*j->c.at - '0');
        if (*v > (UINT64_MAX - d) / 10) return json_error(j, "an integer is too large");
        *v = *v * 10 + d;
        j->c.at++;
    }
    if (j->c.at == start) return json_error(j, "expected a non-negative integer");
    if (*start == '0' && j->c.at - start > 1) return json_error(j, "an integer has a leading zero");
    if (j->c.at < j->c.end && (*j->c.at == '.' || *j->c.at == 'e' || *j->c.at == 'E'))
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
        if (j->c.at < j->c.end && *j->c.at != '"')
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
            nd__set_error_as(ND_ERR_FORMAT, "%s: tensor '%s' has more than %d dims", j->source,
                             e->name, ND_MAX_DIMS);
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
    if (j->c.at < j->c.end && *j->c.at != '"') return json_error(j, "\"dtype\" is not a string");
    if (!take_string(j, &name)) return false;
    for (int d = 0; d < N_DTYPES; d++)
        if (strcmp(name, dtypes[d].name) == 0) {
            e->dtype = d;
            free(name);
            return true;
        }
    nd__set_error_as(ND_ERR_FORMAT, "%s: tensor '%s' has an unknown dtype \"%.32s\"", j->source,
                     e->name, name);
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
        nd__set_error_as(ND_ERR_FORMAT,
                         "%s: corrupt header: tensor '%s' lacks \"dtype\", \"shape\" or "
                         "\"data_offsets\"",
                         j->source, e->name);
        return false;
    }
    return true;
}

static bool parse_json(header *h, const char *text, size_t len) {
    json j = {.c = {text, text + len}, .start = text, .source = h->source};
    bool have_metadata = false;
    if (len == 0 || text[0] != '{') return json_error(&j, "it does not start with '{'");
    j.c.at++;
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
                    nd__set_error_as(ND_ERR_NOMEM, "%s: out of memory reading the header",
                                     h->source);
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
    if (j.c.at != j.c.end) return json_error(&j, "text after the header's object");
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
                nd__set_error_as(ND_ERR_FORMAT, "%s: tensor '%s' of shape %s is too large",
                                 h->source, e->name, nd__shape_str(e->ndim, e->shape));
                return false;
            }
            bytes *= n;
        }
        if (e->end < e->begin) {
            nd__set_error_as(ND_ERR_FORMAT,
                             "%s: tensor '%s' has data_offsets [%llu, %llu] that end before they "
                             "begin",
                             h->source, e->name, (unsigned long long)e->begin,
                             (unsigned long long)e->end);
            return false;
        }
        if (e->end > h->data_len) {
            nd__set_error_as(ND_ERR_FORMAT,
                             "%s: tensor '%s' has data_offsets [%llu, %llu] out of range: the data "
                             "area has %llu bytes (truncated file?)",
                             h->source, e->name, (unsigned long long)e->begin,
                             (unsigned long long)e->end, (unsigned long long)h->data_len);
            return false;
        }
        if (e->end - e->begin != bytes) {
            nd__set_error_as(ND_ERR_FORMAT,
                             "%s: tensor '%s': shape %s of %s needs %llu bytes, its data_offsets "
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
        nd__set_error_as(ND_ERR_NOMEM, "%s: out of memory checking the header", h->source);
        return false;
    }
    if (h->n) memcpy(sorted, h->entries, (size_t)h->n * sizeof *sorted);
    bool ok = true;
    qsort(sorted, (size_t)h->n, sizeof *sorted, by_name);
    for (int i = 1; i < h->n && ok; i++)
        if (strcmp(sorted[i - 1].name, sorted[i].name) == 0) {
            nd__set_error_as(ND_ERR_FORMAT, "%s: corrupt header: the name '%s' is given twice",
                             h->source, sorted[i].name);
            ok = false;
        }
    qsort(sorted, (size_t)h->n, sizeof *sorted, by_offsets);
    uint64_t covered = 0;
    for (int i = 0; i < h->n && ok; i++) {
        if (sorted[i].begin != covered) {
            if (sorted[i].begin < covered)
                nd__set_error_as(ND_ERR_FORMAT,
                                 "%s: tensors '%s' and '%s' overlap in the data area", h->source,
                                 sorted[i - 1].name, sorted[i].name);
            else
                nd__set_error_as(ND_ERR_FORMAT,
                                 "%s: a hole in the data area: bytes %llu to %llu belong to no "
                                 "tensor",
                                 h->source, (unsigned long long)covered,
                                 (unsigned long long)sorted[i].begin);
            ok = false;
        }
        covered = sorted[i].end;
    }
    if (ok && covered != h->data_len) {
        nd__set_error_as(ND_ERR_FORMAT,
                         "%s: %llu bytes after the last tensor's data (the data area has %llu, the "
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
        nd__set_error_as(ND_ERR_FORMAT,
                         "%s: truncated file (%zu bytes; a safetensors file starts with an 8-byte "
                         "header length)",
                         h->source, len);
        return false;
    }
    uint64_t n = 0;
    for (int i = LENGTH_BYTES - 1; i >= 0; i--) n = n << 8 | bytes[i];
    if (n > MAX_HEADER) {
        nd__set_error_as(ND_ERR_FORMAT, "%s: header too large (%llu bytes announced, at most %d)",
                         h->source, (unsigned long long)n, MAX_HEADER);
        return false;
    }
    if (n > len - LENGTH_BYTES) {
        nd__set_error_as(ND_ERR_FORMAT, "%s: truncated header (%llu bytes announced, %zu present)",
                         h->source, (unsigned long long)n, len - LENGTH_BYTES);
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
        return nd__fail_as(ND_ERR_INDEX, "%s: no tensor named '%s' (the file holds %d%s%s%s)",
                           h->source, name, h->n, h->n ? ": " : "", listed,
                           h->n > MAX_LISTED_NAME ? ", ..." : "");
    }
    if (dtypes[e->dtype].nd < 0)
        return nd__fail_as(ND_ERR_FORMAT,
                           "%s: tensor '%s' has dtype %s, which nd does not have (nd reads BOOL, "
                           "U8, I32, I64, F32 and F64)",
                           h->source, name, dtypes[e->dtype].name);
    if (!nd__check_shape(h->source, e->ndim, e->shape)) return NULL;
    nd_tensor *t = nd__empty((nd_dtype)dtypes[e->dtype].nd, e->ndim, e->shape);
    if (!t || t->numel == 0) return t;
    size_t size = dtypes[e->dtype].size, bytes = (size_t)(e->end - e->begin);
    unsigned char *p = nd__ptr(t);
    memcpy(p, h->data + e->begin, bytes);
    if (!HOST_IS_LITTLE) nd__swap_bytes(p, (int64_t)(bytes / size), size);
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
    if (!names)
        return nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory listing the names", h->source);
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
        nd__set_error_as(nd__errno_code(errno), "%s: cannot open: %s", source, nd__strerror(errno));
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
        nd__set_error_as(nd__errno_code(err), "%s: cannot read: %s", source, nd__strerror(err));
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

const char *nd__safetensors_dtype_code(nd_dtype d) {
    for (int i = 0; i < N_DTYPES; i++)
        if (dtypes[i].nd == (int)d) return dtypes[i].name;
    return "?";
}
