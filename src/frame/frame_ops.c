/* Preparing a frame for a model, as the course does with pandas: missing
 * values (dropna, fillna), categories as indicator columns (get_dummies), and
 * the numbers as a tensor (to_numpy). */
#include "frame_internal.h"

#include "nd_ext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nd_frame *nd_frame_dropna(const nd_frame *f) {
    if (!nd__frame_check("nd_frame_dropna", f)) return NULL;
    int64_t *keep = malloc((size_t)(f->nrows > 0 ? f->nrows : 1) * sizeof *keep);
    if (!keep) return nd__frame_fail_as(ND_ERR_NOMEM, "nd_frame_dropna: out of memory");
    int64_t n = 0;
    for (int64_t r = 0; r < f->nrows; r++) {
        bool any_na = false;
        for (int c = 0; c < f->ncols && !any_na; c++) any_na = nd__col_isna(f->cols[c], r);
        if (!any_na) keep[n++] = r;
    }
    nd_frame *out = nd__frame_alloc(f->ncols, n);
    bool ok = out != NULL;
    for (int c = 0; ok && c < f->ncols; c++) {
        nd__col *col = nd__col_take(f->cols[c], keep, n);
        ok = col && nd__frame_set(out, c, f->names[c], col);
        nd__col_release(col);
    }
    if (ok && f->row_labels) {
        out->row_labels = calloc((size_t)(n > 0 ? n : 1), sizeof(char *));
        ok = out->row_labels != NULL;
        for (int64_t i = 0; ok && i < n; i++)
            out->row_labels[i] = nd__strdup(f->row_labels[keep[i]]);
    }
    free(keep);
    if (!ok) {
        nd_frame_free(out);
        return nd__frame_fail_as(ND_ERR_NOMEM, "nd_frame_dropna: out of memory");
    }
    return out;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The present values of a NUMBER column, sorted (for medians and quantiles). */
double *nd__sorted_values(const nd__col *c, int64_t *count) {
    double *v = malloc((size_t)(c->n > 0 ? c->n : 1) * sizeof *v);
    if (!v) return NULL;
    int64_t n = 0;
    for (int64_t r = 0; r < c->n; r++)
        if (!isnan(c->num[r])) v[n++] = c->num[r];
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    *count = n;
    return v;
}

/* numpy's linear quantile of sorted values. */
double nd__quantile(const double *sorted, int64_t n, double q) {
    if (n == 0) return NAN;
    double pos = q * (double)(n - 1);
    int64_t lo = (int64_t)floor(pos);
    int64_t hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - (double)lo);
}

typedef enum { FILL_MEAN, FILL_MEDIAN, FILL_VALUE } fill_kind;

static nd_frame *fillna(const char *op, const nd_frame *f, fill_kind kind, double value) {
    if (!nd__frame_check(op, f)) return NULL;
    nd_frame *out = nd__frame_alloc(f->ncols, f->nrows);
    bool ok = out != NULL;
    for (int c = 0; ok && c < f->ncols; c++) {
        const nd__col *in = f->cols[c];
        int64_t missing = 0;
        if (in->type == ND_COL_NUMBER)
            for (int64_t r = 0; r < in->n; r++) missing += isnan(in->num[r]);
        if (missing == 0) { /* nothing to fill: share the column */
            ok = nd__frame_set(out, c, f->names[c], f->cols[c]);
            continue;
        }
        double fill = value;
        if (kind == FILL_MEAN) {
            double sum = 0;
            for (int64_t r = 0; r < in->n; r++)
                if (!isnan(in->num[r])) sum += in->num[r];
            fill = in->n > missing ? sum / (double)(in->n - missing) : NAN;
        } else if (kind == FILL_MEDIAN) {
            int64_t n;
            double *sorted = nd__sorted_values(in, &n);
            ok = sorted != NULL;
            fill = ok ? nd__quantile(sorted, n, 0.5) : NAN;
            free(sorted);
        }
        nd__col *col = ok ? nd__col_new(ND_COL_NUMBER, in->n) : NULL;
        ok = col != NULL;
        if (ok) {
            /* Filled columns stay float64, as in pandas (they had NaN). */
            for (int64_t r = 0; r < in->n; r++) col->num[r] = isnan(in->num[r]) ? fill : in->num[r];
            ok = nd__frame_set(out, c, f->names[c], col);
        }
        nd__col_release(col);
    }
    if (!ok) {
        nd_frame_free(out);
        return nd__frame_fail_as(ND_ERR_NOMEM, "%s: out of memory", op);
    }
    return out;
}

nd_frame *nd_frame_fillna_mean(const nd_frame *f) {
    return fillna("nd_frame_fillna_mean", f, FILL_MEAN, 0);
}
nd_frame *nd_frame_fillna_median(const nd_frame *f) {
    return fillna("nd_frame_fillna_median", f, FILL_MEDIAN, 0);
}
nd_frame *nd_frame_fillna_value(const nd_frame *f, double value) {
    return fillna("nd_frame_fillna_value", f, FILL_VALUE, value);
}

/* ------------------------------------------------------------ get_dummies */

/* qsort takes no context argument in C11: the dictionary being sorted by, per thread. */
static _Thread_local const nd__dict *sort_dict;
static int compare_codes(const void *a, const void *b) {
    /* strcmp on UTF-8 orders by code point, as Python sorts str. */
    return strcmp(sort_dict->strs[*(const int32_t *)a], sort_dict->strs[*(const int32_t *)b]);
}

/* The codes rows use, sorted by their text; *count of them. */
static int32_t *used_codes_sorted(const nd__col *c, int32_t *count) {
    uint8_t *used = calloc((size_t)(c->dict.n > 0 ? c->dict.n : 1), 1);
    int32_t *codes = malloc((size_t)(c->dict.n > 0 ? c->dict.n : 1) * sizeof *codes);
    if (!used || !codes) {
        free(used);
        free(codes);
        return NULL;
    }
    for (int64_t r = 0; r < c->n; r++)
        if (c->codes[r] >= 0) used[c->codes[r]] = 1;
    int32_t n = 0;
    for (int32_t k = 0; k < c->dict.n; k++)
        if (used[k]) codes[n++] = k;
    free(used);
    sort_dict = &c->dict;
    qsort(codes, (size_t)n, sizeof *codes, compare_codes);
    *count = n;
    return codes;
}

static bool add_indicator(nd_frame *out, int *at, const char *prefix, const char *value, nd__col *c,
                          int32_t code) {
    nd__col *col = nd__col_indicator(c, code);
    if (!col) return false;
    size_t size = strlen(prefix) + strlen(value) + 2;
    char *name = malloc(size);
    bool ok = name != NULL;
    if (ok) {
        snprintf(name, size, "%s_%s", prefix, value);
        ok = nd__frame_set(out, (*at)++, name, col);
    }
    free(name);
    nd__col_release(col);
    return ok;
}

nd_frame *nd_frame_get_dummies(const nd_frame *f, bool dummy_na) {
    if (!nd__frame_check("nd_frame_get_dummies", f)) return NULL;
    int32_t **codes = calloc((size_t)(f->ncols > 0 ? f->ncols : 1), sizeof *codes);
    int32_t *counts = calloc((size_t)(f->ncols > 0 ? f->ncols : 1), sizeof *counts);
    nd_frame *out = NULL;
    bool ok = codes && counts;
    int64_t total = 0;
    for (int c = 0; ok && c < f->ncols; c++) {
        if (f->cols[c]->type != ND_COL_STRING) {
            total++;
            continue;
        }
        ok = (codes[c] = used_codes_sorted(f->cols[c], &counts[c])) != NULL;
        total += counts[c] + dummy_na;
    }
    if (ok && total > INT32_MAX) {
        free(codes);
        free(counts);
        return nd__frame_fail("nd_frame_get_dummies: %lld columns are too many", (long long)total);
    }
    if (ok) out = nd__frame_alloc((int)total, f->nrows);
    ok = ok && out;
    int at = 0;
    /* pandas: the columns left as they are first, then each encoded column's indicators. */
    for (int c = 0; ok && c < f->ncols; c++)
        if (f->cols[c]->type != ND_COL_STRING)
            ok = nd__frame_set(out, at++, f->names[c], f->cols[c]);
    for (int c = 0; ok && c < f->ncols; c++) {
        if (f->cols[c]->type != ND_COL_STRING) continue;
        for (int32_t k = 0; ok && k < counts[c]; k++)
            ok = add_indicator(out, &at, f->names[c], f->cols[c]->dict.strs[codes[c][k]],
                               f->cols[c], codes[c][k]);
        if (ok && dummy_na) ok = add_indicator(out, &at, f->names[c], "nan", f->cols[c], -1);
    }
    for (int c = 0; codes && c < f->ncols; c++) free(codes[c]);
    free(codes);
    free(counts);
    if (!ok) {
        nd_frame_free(out);
        return nd__frame_fail_as(ND_ERR_NOMEM, "nd_frame_get_dummies: out of memory");
    }
    return out;
}

/* ---------------------------------------------------------------- tensors */

static bool check_float_dtype(const char *op, nd_dtype dtype) {
    if (dtype == ND_F32 || dtype == ND_F64) return true;
    nd__set_error_as(ND_ERR_DTYPE, "%s: dtype %s: a frame converts to float32 or float64", op,
                     nd_dtype_name(dtype));
    return false;
}

/* Column c's values into out[r * stride] (a column of a row-major matrix). */
#define COLUMN_INTO(T)                                                                             \
    do {                                                                                           \
        T *o = out;                                                                                \
        if (c->type == ND_COL_NUMBER) {                                                            \
            for (int64_t r = r0; r < r1; r++) o[r * stride] = (T)c->num[r];                        \
        } else if (!c->flag) { /* an indicator: straight from the codes */                         \
            const int32_t *codes = c->source->codes, code = c->source_code;                        \
            for (int64_t r = r0; r < r1; r++) o[r * stride] = (T)(codes[r] == code);               \
        } else {                                                                                   \
            for (int64_t r = r0; r < r1; r++)                                                      \
                o[r * stride] = c->flag[r] == ND__BOOL_NA ? (T)NAN : (T)c->flag[r];                \
        }                                                                                          \
    } while (0)

static void column_into(const nd__col *c, nd_dtype dtype, void *out, int64_t stride, int64_t r0,
                        int64_t r1) {
    if (dtype == ND_F32)
        COLUMN_INTO(float);
    else
        COLUMN_INTO(double);
}

nd_tensor *nd_frame_to_tensor(const nd_frame *f, nd_dtype dtype) {
    if (!nd__frame_check("nd_frame_to_tensor", f)) return NULL;
    if (!check_float_dtype("nd_frame_to_tensor", dtype)) return NULL;
    for (int c = 0; c < f->ncols; c++)
        if (f->cols[c]->type == ND_COL_STRING)
            return nd__fail_as(ND_ERR_DTYPE,
                               "nd_frame_to_tensor: column %d (\"%s\") holds text; encode it first "
                               "(nd_frame_get_dummies) or drop it",
                               c, f->names[c]);
    nd_tensor *t = nd__empty(dtype, 2, (const int64_t[]){f->nrows, f->ncols});
    if (!t) return NULL;
    char *data = nd__ptr(t);
    size_t elem = nd_dtype_size(dtype);
    int64_t ncols = f->ncols, nrows = f->nrows;
    /* Blocks of rows per thread: each writes whole rows of the result. */
    int threads = nd__frame_threads(nrows * ncols, 1 << 16, 0);
    int64_t block = 4096;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t b = 0; b < (nrows + block - 1) / block; b++) {
        int64_t r0 = b * block, r1 = r0 + block < nrows ? r0 + block : nrows;
        for (int64_t c = 0; c < ncols; c++)
            column_into(f->cols[c], dtype, data + (size_t)c * elem, ncols, r0, r1);
    }
    return t;
}

nd_tensor *nd_frame_column_tensor(const nd_frame *f, int col, nd_dtype dtype) {
    if (!nd__frame_check_col("nd_frame_column_tensor", f, col)) return NULL;
    if (!check_float_dtype("nd_frame_column_tensor", dtype)) return NULL;
    if (f->cols[col]->type == ND_COL_STRING)
        return nd__fail_as(ND_ERR_DTYPE, "nd_frame_column_tensor: column %d (\"%s\") holds text",
                           col, f->names[col]);
    nd_tensor *t = nd__empty(dtype, 1, (const int64_t[]){f->nrows});
    if (t) column_into(f->cols[col], dtype, nd__ptr(t), 1, 0, f->nrows);
    return t;
}
