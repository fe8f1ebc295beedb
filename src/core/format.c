/* nd_format: a tensor printed exactly as PyTorch prints it, so that students
 * can compare nd's output with torch's character by character:
 *
 *     tensor([[1.0000, 2.5000],
 *             [3.0000, 4.0000]], dtype=torch.float64, requires_grad=True)
 *
 * The rules are torch's (torch/_tensor_str.py, default print options):
 *  - one format for every element, chosen from the nonzero finite values
 *    printed: integers only -> "3."; a ratio max/min above 1000, a max above
 *    1e8 or (for non-integers) a min below 1e-4 -> scientific "1.0000e-05";
 *    otherwise 4 decimals. Every element is right-aligned to the widest one.
 *  - above 1000 elements, each dim longer than 6 shows its first and last 3
 *    entries around "...".
 *  - rows wrap at 80 columns; dims are separated by as many newlines as the
 *    dims they close.
 *  - dtype=... for dtypes other than float32, int64 and bool; requires_grad /
 *    grad_fn (as nd's op name, e.g. <mul>) and tangent=... after it. */
#include "internal.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum {
    PRECISION = 4,      /* decimals */
    THRESHOLD = 1000,   /* more elements than this are summarised */
    EDGE_ITEMS = 3,     /* entries kept at each end of a summarised dim */
    LINE_WIDTH = 80,    /* columns before a row wraps */
    PREFIX_LENGTH = 7,  /* strlen("tensor(") */
    NUMBER_BUFFER = 64, /* "%.4e" of any double, or any int64, fits */
};

/* -------------------------------------------------------- growing text */

/* ----------------------------------------------------- element formats */

typedef struct {
    bool floating;
    bool int_mode; /* floats that are all integers print as "3." */
    bool sci_mode;
    int width; /* every element is right-aligned to this */
} formatter;

/* Python prints nan and inf without sign tricks ("nan", "inf", "-inf"); C's
 * printf may say "-nan", so non-finite values are spelled here. */
static const char *non_finite(double v) {
    return isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
}

static int format_float(const formatter *f, double v, char *buf) {
    if (!isfinite(v)) return snprintf(buf, NUMBER_BUFFER, "%s", non_finite(v));
    if (f->sci_mode) return snprintf(buf, NUMBER_BUFFER, "%.*e", PRECISION, v);
    if (f->int_mode) return snprintf(buf, NUMBER_BUFFER, "%.0f.", v);
    return snprintf(buf, NUMBER_BUFFER, "%.*f", PRECISION, v);
}

/* The element at `offset` as text (without padding); returns its length. */
static int format_element(const formatter *f, const nd_tensor *t, int64_t offset, char *buf) {
    const char *p = (const char *)t->storage->data + (size_t)offset * nd_dtype_size(t->dtype);
    switch (t->dtype) {
    case ND_BOOL:
        return snprintf(buf, NUMBER_BUFFER, "%s", *(const bool *)p ? "True" : "False");
    case ND_I64:
        return snprintf(buf, NUMBER_BUFFER, "%lld", (long long)*(const int64_t *)p);
    case ND_F32:
        return format_float(f, *(const float *)p, buf);
    case ND_F64:
        return format_float(f, *(const double *)p, buf);
    default:
        return snprintf(buf, NUMBER_BUFFER, "%lld", (long long)nd__load(t->dtype, p));
    }
}

static void put_element(nd__text *s, const formatter *f, const nd_tensor *t, int64_t offset) {
    char buf[NUMBER_BUFFER];
    int n = format_element(f, t, offset, buf);
    nd__text_pad(s, ' ', f->width - n);
    nd__text_put(s, buf, (size_t)n);
}

/* ------------------------------------------ the elements that are shown */

typedef struct {
    double *values; /* the shown floats */
    int64_t count, capacity;
    int int_width; /* the widest shown integer or bool */
    bool out_of_memory;
} shown;

/* Visits the elements that will be printed, in print order (the summarised
 * ones only, when summarising): the format is chosen from these alone. */
static void collect(const nd_tensor *t, int dim, int64_t offset, bool summarize, shown *out) {
    if (dim == t->ndim) {
        if (!nd__is_float(t->dtype)) {
            char buf[NUMBER_BUFFER];
            int n = format_element(NULL, t, offset, buf);
            if (n > out->int_width) out->int_width = n;
            return;
        }
        if (out->count == out->capacity) {
            int64_t capacity = out->capacity ? out->capacity * 2 : 256;
            double *grown = realloc(out->values, (size_t)capacity * sizeof *grown);
            if (!grown) {
                out->out_of_memory = true;
                return;
            }
            out->values = grown;
            out->capacity = capacity;
        }
        const char *p = (const char *)t->storage->data + (size_t)offset * nd_dtype_size(t->dtype);
        out->values[out->count++] = nd__load(t->dtype, p);
        return;
    }
    int64_t n = t->shape[dim], stride = t->strides[dim];
    bool elide = summarize && n > 2 * EDGE_ITEMS;
    for (int64_t i = 0; i < n; i++) {
        if (elide && i == EDGE_ITEMS) i = n - EDGE_ITEMS;
        collect(t, dim + 1, offset + i * stride, summarize, out);
    }
}

static void widen(formatter *f, int n) {
    if (n > f->width) f->width = n;
}

/* torch's _Formatter: the mode and width from the nonzero finite values. */
static formatter choose_format(const nd_tensor *t, const shown *values) {
    formatter f = {.floating = nd__is_float(t->dtype), .int_mode = true, .width = 1};
    if (!f.floating) {
        widen(&f, values->int_width);
        return f;
    }
    double lo = INFINITY, hi = 0;
    int64_t nonzero = 0;
    for (int64_t i = 0; i < values->count; i++) {
        double v = values->values[i];
        if (!isfinite(v) || v == 0) continue;
        nonzero++;
        double a = fabs(v);
        if (a < lo) lo = a;
        if (a > hi) hi = a;
        if (v != ceil(v)) f.int_mode = false;
    }
    if (nonzero == 0) return f; /* zeros, nan and inf only: "0.", "nan" */
    bool wide_range = hi / lo > 1000.0 || hi > 1.0e8;
    f.sci_mode = f.int_mode ? wide_range : wide_range || lo < 1.0e-4;
    char buf[NUMBER_BUFFER];
    for (int64_t i = 0; i < values->count; i++) {
        double v = values->values[i];
        if (isfinite(v) && v != 0) widen(&f, format_float(&f, v, buf));
    }
    return f;
}

/* ------------------------------------------------------------ layout */

/* One dim's worth of elements, wrapped to the line width (torch's _vector_str). */
static void put_vector(nd__text *s, const formatter *f, const nd_tensor *t, int64_t offset,
                       int indent, bool summarize) {
    int dim = t->ndim - 1;
    int64_t n = t->shape[dim], stride = t->strides[dim];
    int per_line = (LINE_WIDTH - indent) / (f->width + 2);
    if (per_line < 1) per_line = 1;
    bool elide = summarize && n > 2 * EDGE_ITEMS;
    nd__text_puts(s, "[");
    int64_t item = 0; /* entries written, the "..." counting as one */
    for (int64_t i = 0; i < n; i++, item++) {
        if (item > 0) {
            if (item % per_line == 0) {
                nd__text_puts(s, ",\n");
                nd__text_pad(s, ' ', indent + 1);
            } else {
                nd__text_puts(s, ", ");
            }
        }
        if (elide && i == EDGE_ITEMS) {
            nd__text_puts(s, " ...");
            i = n - EDGE_ITEMS - 1;
            continue;
        }
        put_element(s, f, t, offset + i * stride);
    }
    nd__text_puts(s, "]");
}

static void put_tensor(nd__text *s, const formatter *f, const nd_tensor *t, int dim, int64_t offset,
                       int indent, bool summarize) {
    int remaining = t->ndim - dim;
    if (remaining == 0) {
        char buf[NUMBER_BUFFER];
        int n = format_element(f, t, offset, buf);
        nd__text_pad(s, ' ', f->width - n);
        nd__text_put(s, buf, (size_t)n);
        return;
    }
    if (remaining == 1) {
        put_vector(s, f, t, offset, indent, summarize);
        return;
    }
    int64_t n = t->shape[dim], stride = t->strides[dim];
    bool elide = summarize && n > 2 * EDGE_ITEMS;
    nd__text_puts(s, "[");
    for (int64_t i = 0; i < n; i++) {
        if (i > 0) { /* "," then a newline per dim being closed, then the indent */
            nd__text_puts(s, ",");
            for (int k = 0; k < remaining - 1; k++) nd__text_puts(s, "\n");
            nd__text_pad(s, ' ', indent + 1);
        }
        if (elide && i == EDGE_ITEMS) {
            nd__text_puts(s, "...");
            i = n - EDGE_ITEMS - 1;
            continue;
        }
        put_tensor(s, f, t, dim + 1, offset + i * stride, indent + 1, summarize);
    }
    nd__text_puts(s, "]");
}

/* torch's _add_suffixes: ", suffix" while the line stays within 80 columns,
 * else ",\n" and the indent. Its line length counts two more than the
 * characters after the last newline; kept, so lines break where torch's do. */
static void put_suffixes(nd__text *s, char **suffixes, int count) {
    const char *last_newline = strrchr(s->data ? s->data : "", '\n');
    size_t line = last_newline ? (size_t)(s->data + s->length - last_newline) + 1 : s->length + 2;
    for (int i = 0; i < count; i++) {
        size_t length = strlen(suffixes[i]);
        if (line + length + 2 > LINE_WIDTH) {
            nd__text_puts(s, ",\n");
            nd__text_pad(s, ' ', PREFIX_LENGTH);
            line = PREFIX_LENGTH + length;
        } else {
            nd__text_puts(s, ", ");
            line += length + 2;
        }
        nd__text_puts(s, suffixes[i]);
    }
    nd__text_puts(s, ")");
}

/* depth counts tangents of tangents (each printed inside its primal's text). */
static char *format_tensor(const nd_tensor *t, int depth) {
    nd__text s = {0};
    char *suffixes[4];
    char owned[3][ND_MAX_DIMS * 22 + 32]; /* "size=(...)" of any shape fits */
    int count = 0;
    nd__text_puts(&s, "tensor(");
    bool default_dtype = t->dtype == ND_F32 || t->dtype == ND_I64 || t->dtype == ND_BOOL;
    if (t->numel == 0) {
        /* No element shows the dtype, so any but float32 is named; any shape
         * but (0,) is given, as NumPy does. */
        if (t->ndim != 1) {
            snprintf(owned[count], sizeof owned[count], "size=%s", nd__tshape(t));
            suffixes[count] = owned[count];
            count++;
        }
        default_dtype = t->dtype == ND_F32;
        nd__text_puts(&s, "[]");
    } else {
        bool summarize = t->numel > THRESHOLD;
        shown values = {0};
        collect(t, 0, t->offset, summarize, &values);
        formatter f = choose_format(t, &values);
        free(values.values);
        if (values.out_of_memory) s.out_of_memory = true;
        put_tensor(&s, &f, t, 0, t->offset, PREFIX_LENGTH, summarize);
    }
    if (!default_dtype) {
        snprintf(owned[count], sizeof owned[count], "dtype=torch.%s", nd_dtype_name(t->dtype));
        suffixes[count] = owned[count];
        count++;
    }
    if (t->node) {
        snprintf(owned[count], sizeof owned[count], "grad_fn=<%s>", nd_grad_fn_name(t));
        suffixes[count] = owned[count];
        count++;
    } else if (t->requires_grad) {
        suffixes[count++] = "requires_grad=True";
    }
    char *tangent = NULL;
    if (t->tangent && depth < 4) { /* a tangent's own tangent, and so on, stops somewhere */
        char *inner = format_tensor(t->tangent, depth + 1);
        if (inner && (tangent = malloc(strlen(inner) + sizeof "tangent="))) {
            strcpy(tangent, "tangent=");
            strcat(tangent, inner);
            suffixes[count++] = tangent;
        }
        free(inner);
    }
    put_suffixes(&s, suffixes, count);
    free(tangent);
    if (s.out_of_memory) {
        free(s.data);
        return NULL;
    }
    return s.data;
}

char *nd_format(const nd_tensor *t) {
    if (!t) return (nd__null_input("nd_format"), NULL);
    locale_t previous, c = nd__use_c_locale(&previous);
    char *s = format_tensor(t, 0);
    nd__restore_locale(c, previous);
    if (!s)
        nd__set_error_as(ND_ERR_NOMEM, "nd_format: out of memory formatting a tensor of shape %s",
                         nd__tshape(t));
    return s;
}

int nd_print(const nd_tensor *t) {
    char *s = nd_format(t);
    if (!s) return -1;
    int ok = puts(s);
    free(s);
    return ok < 0 ? nd__fail_int_as(ND_ERR_IO, "nd_print: cannot write to stdout") : 0;
}
