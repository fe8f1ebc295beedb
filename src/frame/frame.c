/* Frames: making and freeing one (a frame holds its columns, column.c, by
 * reference), looking into it, and choosing rows and columns (iloc, select,
 * drop). Choosing columns shares them; choosing rows copies the chosen rows. */
#include "frame_internal.h"

#include "nd_ext.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- frames */

nd_frame *nd__frame_alloc(int ncols, int64_t nrows) {
    nd_frame *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->ncols = ncols;
    f->nrows = nrows;
    f->names = calloc((size_t)(ncols > 0 ? ncols : 1), sizeof *f->names);
    f->cols = calloc((size_t)(ncols > 0 ? ncols : 1), sizeof *f->cols);
    if (!f->names || !f->cols) {
        nd_frame_free(f);
        return NULL;
    }
    return f;
}

bool nd__frame_set(nd_frame *f, int i, const char *name, nd__col *c) {
    f->names[i] = nd__strdup(name);
    f->cols[i] = nd__col_retain(c);
    return f->names[i] != NULL;
}

void nd_frame_free(nd_frame *f) {
    if (!f) return;
    for (int i = 0; i < f->ncols; i++) {
        if (f->names) free(f->names[i]);
        if (f->cols) nd__col_release(f->cols[i]);
    }
    if (f->row_labels)
        for (int64_t r = 0; r < f->nrows; r++) free(f->row_labels[r]);
    free(f->row_labels);
    free(f->names);
    free(f->cols);
    free(f);
}

bool nd__frame_check(const char *op, const nd_frame *f) {
    if (f) return true;
    if (!nd_last_error()) nd__set_error("%s: NULL frame", op);
    return false;
}

bool nd__frame_check_col(const char *op, const nd_frame *f, int col) {
    if (!nd__frame_check(op, f)) return false;
    if (col >= 0 && col < f->ncols) return true;
    nd__set_error("%s: column %d out of range for a frame of %d columns", op, col, f->ncols);
    return false;
}

int nd__frame_threads(int64_t work, int64_t per_thread, int want) {
    int threads = want > 0 ? want : nd_num_threads();
    int64_t useful = work / (per_thread > 0 ? per_thread : 1);
    if (useful < threads) threads = (int)(useful > 1 ? useful : 1);
    return threads;
}

nd_frame *nd__frame_fail_as(nd_error_code code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    nd__set_errorv_as(code, fmt, ap);
    va_end(ap);
    return NULL;
}

int64_t nd_frame_rows(const nd_frame *f) {
    return nd__frame_check("nd_frame_rows", f) ? f->nrows : -1;
}

int nd_frame_cols(const nd_frame *f) {
    return nd__frame_check("nd_frame_cols", f) ? f->ncols : -1;
}

const char *nd_frame_name(const nd_frame *f, int col) {
    return nd__frame_check_col("nd_frame_name", f, col) ? f->names[col] : NULL;
}

int nd_frame_col(const nd_frame *f, const char *name) {
    if (!nd__frame_check("nd_frame_col", f)) return -1;
    if (!name) return nd__fail_int("nd_frame_col: NULL name");
    for (int i = 0; i < f->ncols; i++)
        if (strcmp(f->names[i], name) == 0) return i;
    return nd__fail_int_as(ND_ERR_INDEX, "nd_frame_col: no column is called \"%s\"", name);
}

nd_coltype nd_frame_type(const nd_frame *f, int col) {
    return nd__frame_check_col("nd_frame_type", f, col) ? f->cols[col]->type : ND_COL_NUMBER;
}

const char *nd_frame_dtype_name(const nd_frame *f, int col) {
    if (!nd__frame_check_col("nd_frame_dtype_name", f, col)) return NULL;
    const nd__col *c = f->cols[col];
    switch (c->type) {
    case ND_COL_NUMBER:
        return c->is_int ? "int64" : "float64";
    case ND_COL_BOOL:
        return nd_frame_na_count(f, col) ? "object" : "bool";
    case ND_COL_STRING:
        return "object";
    }
    return NULL;
}

static bool check_cell(const char *op, const nd_frame *f, int64_t row, int col) {
    if (!nd__frame_check_col(op, f, col)) return false;
    if (row >= 0 && row < f->nrows) return true;
    nd__set_error_as(ND_ERR_INDEX, "%s: row %lld out of range for a frame of %lld rows", op,
                     (long long)row, (long long)f->nrows);
    return false;
}

bool nd_frame_isna(const nd_frame *f, int64_t row, int col) {
    return check_cell("nd_frame_isna", f, row, col) && nd__col_isna(f->cols[col], row);
}

double nd_frame_number(const nd_frame *f, int64_t row, int col) {
    if (!check_cell("nd_frame_number", f, row, col)) return NAN;
    if (f->cols[col]->type == ND_COL_STRING)
        return nd__fail_nan_as(ND_ERR_DTYPE, "nd_frame_number: column %d (\"%s\") holds text", col,
                               f->names[col]);
    return nd__col_number(f->cols[col], row);
}

const char *nd_frame_string(const nd_frame *f, int64_t row, int col) {
    if (!check_cell("nd_frame_string", f, row, col)) return NULL;
    const nd__col *c = f->cols[col];
    if (c->type != ND_COL_STRING) {
        nd__set_error_as(ND_ERR_DTYPE, "nd_frame_string: column %d (\"%s\") holds %s, not text",
                         col, f->names[col], c->type == ND_COL_BOOL ? "booleans" : "numbers");
        return NULL;
    }
    return c->codes[row] < 0 ? NULL : c->dict.strs[c->codes[row]];
}

int64_t nd_frame_na_count(const nd_frame *f, int col) {
    if (!nd__frame_check_col("nd_frame_na_count", f, col)) return -1;
    int64_t count = 0;
    for (int64_t r = 0; r < f->nrows; r++) count += nd__col_isna(f->cols[col], r);
    return count;
}

const char *nd_frame_row_label(const nd_frame *f, int64_t row) {
    if (!nd__frame_check("nd_frame_row_label", f)) return NULL;
    return f->row_labels && row >= 0 && row < f->nrows ? f->row_labels[row] : NULL;
}

/* Python's slice.indices for step 1: clip, count negatives from the end. */
static void slice_bounds(int64_t n, int64_t *start, int64_t *stop) {
    int64_t a = *start == ND_END ? 0 : *start, b = *stop == ND_END ? n : *stop;
    if (a < 0) a = a + n < 0 ? 0 : a + n;
    if (b < 0) b = b + n < 0 ? 0 : b + n;
    if (a > n) a = n;
    if (b > n) b = n;
    if (b < a) b = a;
    *start = a;
    *stop = b;
}

/* The frame made of columns cols[0..n) of f (shared) over its rows. */
static nd_frame *pick_columns(const nd_frame *f, int n, const int *cols) {
    nd_frame *out = nd__frame_alloc(n, f->nrows);
    if (!out) return NULL;
    for (int i = 0; i < n; i++)
        if (!nd__frame_set(out, i, f->names[cols[i]], f->cols[cols[i]])) {
            nd_frame_free(out);
            return NULL;
        }
    if (f->row_labels) {
        out->row_labels = calloc((size_t)(f->nrows > 0 ? f->nrows : 1), sizeof(char *));
        for (int64_t r = 0; out->row_labels && r < f->nrows; r++)
            out->row_labels[r] = nd__strdup(f->row_labels[r]);
    }
    return out;
}

nd_frame *nd_frame_iloc(const nd_frame *f, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    if (!nd__frame_check("nd_frame_iloc", f)) return NULL;
    slice_bounds(f->nrows, &r0, &r1);
    slice_bounds(f->ncols, &c0, &c1);
    int n = (int)(c1 - c0);
    int *cols = malloc((size_t)(n > 0 ? n : 1) * sizeof *cols);
    if (!cols) return nd__frame_fail_as(ND_ERR_NOMEM, "nd_frame_iloc: out of memory");
    for (int i = 0; i < n; i++) cols[i] = (int)c0 + i;
    nd_frame *picked = pick_columns(f, n, cols);
    free(cols);
    if (!picked) return nd__frame_fail_as(ND_ERR_NOMEM, "nd_frame_iloc: out of memory");
    if (r0 == 0 && r1 == f->nrows) return picked;
    /* A row range: copy those rows of each chosen column. */
    nd_frame *out = nd__frame_alloc(n, r1 - r0);
    bool ok = out != NULL;
    for (int i = 0; ok && i < n; i++) {
        nd__col *c = nd__col_slice(picked->cols[i], r0, r1 - r0, 1);
        ok = c && nd__frame_set(out, i, picked->names[i], c);
        nd__col_release(c);
    }
    if (ok && f->row_labels) {
        out->row_labels = calloc((size_t)(r1 - r0 > 0 ? r1 - r0 : 1), sizeof(char *));
        ok = out->row_labels != NULL;
        for (int64_t r = r0; ok && r < r1; r++)
            out->row_labels[r - r0] = nd__strdup(f->row_labels[r]);
    }
    nd_frame_free(picked);
    if (!ok) {
        nd_frame_free(out);
        return nd__frame_fail_as(ND_ERR_NOMEM, "nd_frame_iloc: out of memory");
    }
    return out;
}

nd_frame *nd_frame_select(const nd_frame *f, int n, const char *const *names) {
    if (!nd__frame_check("nd_frame_select", f)) return NULL;
    if (n < 0 || (n > 0 && !names))
        return nd__frame_fail("nd_frame_select: %d names at %p", n, (const void *)names);
    int *cols = malloc((size_t)(n > 0 ? n : 1) * sizeof *cols);
    if (!cols) return nd__frame_fail_as(ND_ERR_NOMEM, "nd_frame_select: out of memory");
    for (int i = 0; i < n; i++) {
        cols[i] = -1;
        for (int c = 0; names[i] && c < f->ncols && cols[i] < 0; c++)
            if (strcmp(f->names[c], names[i]) == 0) cols[i] = c;
        if (cols[i] < 0) {
            free(cols);
            return nd__frame_fail_as(ND_ERR_INDEX, "nd_frame_select: no column is called \"%s\"",
                                     names[i] ? names[i] : "(null)");
        }
    }
    nd_frame *out = pick_columns(f, n, cols);
    free(cols);
    if (!out) nd__frame_fail_as(ND_ERR_NOMEM, "nd_frame_select: out of memory");
    return out;
}

nd_frame *nd_frame_drop(const nd_frame *f, const char *col) {
    if (!nd__frame_check("nd_frame_drop", f)) return NULL;
    int dropped = -1;
    for (int c = 0; col && c < f->ncols && dropped < 0; c++)
        if (strcmp(f->names[c], col) == 0) dropped = c;
    if (dropped < 0)
        return nd__frame_fail_as(ND_ERR_INDEX, "nd_frame_drop: no column is called \"%s\"",
                                 col ? col : "(null)");
    int *cols = malloc((size_t)(f->ncols > 1 ? f->ncols - 1 : 1) * sizeof *cols);
    if (!cols) return nd__frame_fail_as(ND_ERR_NOMEM, "nd_frame_drop: out of memory");
    int n = 0;
    for (int c = 0; c < f->ncols; c++)
        if (strcmp(f->names[c], col) != 0) cols[n++] = c; /* every column of that name, as pandas */
    nd_frame *out = pick_columns(f, n, cols);
    free(cols);
    if (!out) nd__frame_fail_as(ND_ERR_NOMEM, "nd_frame_drop: out of memory");
    return out;
}
