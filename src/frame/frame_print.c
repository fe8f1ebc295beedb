/* A frame as pandas prints it (DataFrame.__repr__ in a plain Python script or
 * terminal: 60 rows at most, else the first and last 5; lines of at most 80
 * characters, columns dropped from the middle, behind a "..." column, until
 * they fit), and describe().
 *
 * How pandas formats a column: every value gets a leading space (numbers a
 * sign place); a float column is "% .6f" with the trailing zeros that every
 * value has trimmed (keeping one decimal), or "% .6e" when a value is tiny
 * (< 1e-6) or large (> 1e6) while the fixed form is long; the column's width is
 * its widest cell or name; names of numeric columns get the leading space too;
 * values and names are right-aligned, the index left-aligned. */
#include "frame_internal.h"

#include "nd_ext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS     60
#define MIN_ROWS     10 /* shown (half at each end) when there are more than MAX_ROWS */
#define LINE_WIDTH   80
#define MAX_COLWIDTH 50

/* Characters, not bytes: pandas measures str lengths in code points. */
static int64_t text_width(const char *s) {
    int64_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* pandas' test for a plain decimal number: spaces, sign, digits, '.', digits. */
static bool is_decimal_number(const char *s) {
    while (*s == ' ') s++;
    if (*s == '+' || *s == '-') s++;
    if (*s < '0' || *s > '9') return false;
    while (*s >= '0' && *s <= '9') s++;
    if (*s++ != '.') return false;
    while (*s >= '0' && *s <= '9') s++;
    return *s == '\0';
}

/* " text" with tabs and line ends shown as \t, \r, \n (pandas' pprint_thing). */
static void put_escaped(char *out, const char *s) {
    *out++ = ' ';
    for (; *s; s++) {
        const char *escape = *s == '\t' ? "\\t" : *s == '\r' ? "\\r" : *s == '\n' ? "\\n" : NULL;
        if (escape) {
            memcpy(out, escape, 2);
            out += 2;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

/* Formats the float cells of one column in place (each cell has room for 64). */
static void format_floats(const nd__col *c, const int64_t *rows, int n, char **cells) {
    for (int i = 0; i < n; i++) {
        double v = c->num[rows[i]];
        if (isnan(v))
            strcpy(cells[i], "NaN");
        else
            snprintf(cells[i], 64, "% .6f", v);
    }
    /* Trim the zeros every decimal number ends with, keep one decimal. */
    for (;;) {
        bool any = false, all_zero = true;
        for (int i = 0; i < n; i++)
            if (is_decimal_number(cells[i])) {
                any = true;
                all_zero &= cells[i][strlen(cells[i]) - 1] == '0';
            }
        if (!any || !all_zero) break;
        for (int i = 0; i < n; i++)
            if (is_decimal_number(cells[i])) cells[i][strlen(cells[i]) - 1] = '\0';
    }
    size_t longest = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(cells[i]);
        if (is_decimal_number(cells[i]) && cells[i][len - 1] == '.') strcat(cells[i], "0"), len++;
        if (len > longest) longest = len;
    }
    bool large = false, small = false;
    for (int i = 0; i < n; i++) {
        double a = fabs(c->num[rows[i]]);
        large |= a > 1e6;
        small |= a < 1e-6 && a > 0;
    }
    if (small || (longest > 6 + 6 && large))
        for (int i = 0; i < n; i++)
            if (!isnan(c->num[rows[i]])) snprintf(cells[i], 64, "% .6e", c->num[rows[i]]);
}

/* The cells of column c for the shown rows (rows[i] < 0: the "..." row). */
static char **format_column(const nd__col *c, const int64_t *rows, int n, bool *numeric_header) {
    char **cells = calloc((size_t)n, sizeof *cells);
    if (!cells) return NULL;
    for (int i = 0; i < n; i++) {
        const char *text = c->type == ND_COL_STRING && rows[i] >= 0 && c->codes[rows[i]] >= 0
                               ? c->dict.strs[c->codes[rows[i]]]
                               : "";
        cells[i] = malloc(2 * strlen(text) + 72); /* room for escapes */
        if (!cells[i]) {
            for (int k = 0; k < i; k++) free(cells[k]);
            free(cells);
            return NULL;
        }
        cells[i][0] = '\0';
    }
    *numeric_header = c->type == ND_COL_NUMBER;
    int64_t *present = malloc((size_t)n * sizeof *present);
    int np = 0;
    for (int i = 0; present && i < n; i++)
        if (rows[i] >= 0) present[np++] = rows[i];
    if (c->type == ND_COL_NUMBER && !c->is_int && present) {
        char **fc = malloc((size_t)(np > 0 ? np : 1) * sizeof *fc);
        if (fc) {
            for (int i = 0, k = 0; i < n; i++)
                if (rows[i] >= 0) fc[k++] = cells[i];
            format_floats(c, present, np, fc);
            free(fc);
        }
    }
    free(present);
    bool bool_with_na = false;
    for (int i = 0; c->type == ND_COL_BOOL && i < c->n && !bool_with_na; i++)
        bool_with_na = nd__col_flag(c, i) == ND__BOOL_NA;
    if (c->type == ND_COL_BOOL) *numeric_header = !bool_with_na; /* pandas: object then */
    for (int i = 0; i < n; i++) {
        int64_t r = rows[i];
        if (r < 0) {
            strcpy(cells[i], "...");
        } else if (c->type == ND_COL_NUMBER && c->is_int) {
            snprintf(cells[i], 64, "% lld", (long long)c->num[r]);
        } else if (c->type == ND_COL_BOOL) {
            uint8_t flag = nd__col_flag(c, r);
            strcpy(cells[i], flag == ND__BOOL_NA ? " NaN" : flag ? " True" : " False");
        } else if (c->type == ND_COL_STRING) {
            if (c->codes[r] < 0)
                strcpy(cells[i], " NaN");
            else
                put_escaped(cells[i], c->dict.strs[c->codes[r]]);
        }
    }
    /* Long text: pandas cuts a cell to 47 characters and "...". */
    for (int i = 0; i < n; i++)
        if (text_width(cells[i]) > MAX_COLWIDTH) {
            char *p = cells[i];
            for (int k = 0; *p; p++)
                if (((unsigned char)*p & 0xC0) != 0x80 && k++ == MAX_COLWIDTH - 3) break;
            strcpy(p, "...");
        }
    return cells;
}

static void put_right(nd__text *b, const char *s, int64_t width) {
    nd__text_pad(b, ' ', width - text_width(s));
    nd__text_puts(b, s);
}

static void put_left(nd__text *b, const char *s, int64_t width) {
    nd__text_puts(b, s);
    nd__text_pad(b, ' ', width - text_width(s));
}

/* The cells of the shown columns: widths[j] the widest of name and cells. */
typedef struct {
    int n;
    const int *cols; /* frame columns, -1 for the "..." column */
    char ***cells;
    char **headers;
    int64_t *widths;
} layout;

static void layout_free(layout *l) {
    for (int j = 0; l->cells && j < l->n; j++) {
        for (int i = 0; l->cells[j] && l->cells[j][i]; i++) free(l->cells[j][i]);
        free(l->cells[j]);
        if (l->headers) free(l->headers[j]);
    }
    free(l->cells);
    free(l->headers);
    free(l->widths);
}

static bool layout_make(layout *l, const nd_frame *f, const int64_t *rows, int nrows) {
    l->cells = calloc((size_t)l->n, sizeof *l->cells);
    l->headers = calloc((size_t)l->n, sizeof *l->headers);
    l->widths = calloc((size_t)l->n, sizeof *l->widths);
    if (!l->cells || !l->headers || !l->widths) return false;
    for (int j = 0; j < l->n; j++) {
        bool numeric = false;
        const char *name = l->cols[j] < 0 ? "..." : f->names[l->cols[j]];
        char **cells = calloc((size_t)nrows + 1, sizeof *cells); /* NULL-terminated */
        if (!cells) return false;
        l->cells[j] = cells;
        if (l->cols[j] >= 0) {
            char **formatted = format_column(f->cols[l->cols[j]], rows, nrows, &numeric);
            if (!formatted) return false;
            memcpy(cells, formatted, (size_t)nrows * sizeof *cells);
            free(formatted);
        } else {
            for (int i = 0; i < nrows; i++)
                if (!(cells[i] = nd__strdup(" ..."))) return false;
        }
        l->headers[j] = malloc(strlen(name) + 3);
        if (!l->headers[j]) return false;
        sprintf(l->headers[j], "%s%s", l->cols[j] < 0 ? " " : numeric ? " " : "", name);
        l->widths[j] = text_width(l->headers[j]);
        for (int i = 0; i < nrows; i++)
            if (rows[i] >= 0 && text_width(cells[i]) > l->widths[j])
                l->widths[j] = text_width(cells[i]);
    }
    return true;
}

/* pandas' _fit_strcols_to_terminal_width: drop middle columns until the lines
 * fit LINE_WIDTH; returns how many columns may be shown (at least 2). */
static int columns_that_fit(int64_t index_width, const int64_t *widths, int n) {
    int64_t line = index_width;
    for (int j = 0; j < n; j++) line += widths[j] + 1;
    int64_t excess = line - LINE_WIDTH + 1;
    int64_t *lens = malloc((size_t)(n + 1) * sizeof *lens);
    if (!lens) return n;
    lens[0] = index_width;
    memcpy(lens + 1, widths, (size_t)n * sizeof *lens);
    int left = n + 1;
    while (excess > 0 && left > 1) {
        /* Python's round(left / 2): halves go to the even neighbour. */
        int mid = left / 2 + ((left % 2) && ((left / 2) % 2) ? 1 : 0);
        excess -= lens[mid] + 1;
        memmove(lens + mid, lens + mid + 1, (size_t)(left - mid - 1) * sizeof *lens);
        left--;
    }
    free(lens);
    return left - 1 > 2 ? left - 1 : 2;
}

static void format_frame(const nd_frame *f, nd__text *b) {
    if (f->ncols == 0 || f->nrows == 0) {
        nd__text_puts(b, "Empty DataFrame\nColumns: [");
        for (int c = 0; c < f->ncols; c++) nd__text_printf(b, "%s%s", c ? ", " : "", f->names[c]);
        nd__text_puts(b, "]\nIndex: []");
        return;
    }
    bool cut_rows = f->nrows > MAX_ROWS;
    int nrows = cut_rows ? MIN_ROWS + 1 : (int)f->nrows;
    int64_t rows[MAX_ROWS + 1];
    for (int i = 0; i < nrows; i++)
        rows[i] = !cut_rows           ? i
                  : i < MIN_ROWS / 2  ? i
                  : i == MIN_ROWS / 2 ? -1
                                      : f->nrows - (nrows - i);

    /* The index column: left-aligned labels under an empty name. */
    char labels[MAX_ROWS + 1][32];
    const char *label_of[MAX_ROWS + 1];
    int64_t index_width = 0;
    for (int i = 0; i < nrows; i++) {
        snprintf(labels[i], sizeof labels[i], "%lld", (long long)rows[i]);
        label_of[i] = f->row_labels && rows[i] >= 0 ? f->row_labels[rows[i]] : labels[i];
        if (rows[i] >= 0 && text_width(label_of[i]) > index_width)
            index_width = text_width(label_of[i]);
    }
    int *cols = malloc((size_t)f->ncols * sizeof *cols);
    layout l = {.n = f->ncols, .cols = cols};
    if (!cols) {
        b->out_of_memory = true;
        return;
    }
    for (int j = 0; j < f->ncols; j++) cols[j] = j;
    if (!layout_make(&l, f, rows, nrows)) goto no_memory;
    int fit = columns_that_fit(index_width, l.widths, l.n);
    bool cut_cols = f->ncols > fit;
    if (cut_cols) { /* the first and last fit/2 columns around a "..." column */
        int half = fit / 2;
        layout_free(&l);
        l = (layout){.n = 2 * half + 1, .cols = cols};
        for (int j = 0; j < l.n; j++)
            cols[j] = j < half ? j : j == half ? -1 : f->ncols - (l.n - j);
        if (!layout_make(&l, f, rows, nrows)) goto no_memory;
    }
    for (int line = -1; line < nrows; line++) {
        bool dots = line >= 0 && rows[line] < 0;
        /* The "..." row: ".." where a column is 3 wide or less, as pandas. */
        const char *label = line < 0 ? ""
                            : dots   ? (index_width > 3 ? "..." : "..")
                                     : label_of[line];
        put_left(b, label, index_width);
        for (int j = 0; j < l.n; j++) {
            nd__text_puts(b, " ");
            const char *text = line < 0          ? l.headers[j]
                               : !dots           ? l.cells[j][line]
                               : l.cols[j] < 0   ? " ..."
                               : l.widths[j] > 3 ? "..."
                                                 : "..";
            put_right(b, text, l.widths[j]);
        }
        if (line + 1 < nrows) nd__text_puts(b, "\n");
    }
    if (cut_rows || cut_cols)
        nd__text_printf(b, "\n\n[%lld rows x %d columns]", (long long)f->nrows, f->ncols);
    layout_free(&l);
    free(cols);
    return;
no_memory:
    layout_free(&l);
    free(cols);
    b->out_of_memory = true;
}

char *nd_frame_format(const nd_frame *f) {
    if (!nd__frame_check("nd_frame_format", f)) return NULL;
    nd__text b = {0};
    format_frame(f, &b);
    if (b.out_of_memory) {
        free(b.data);
        nd__set_error_as(ND_ERR_NOMEM, "nd_frame_format: out of memory");
        return NULL;
    }
    return b.data;
}

int nd_frame_print(const nd_frame *f) {
    char *text = nd_frame_format(f);
    if (!text) return -1;
    int ok = puts(text) >= 0;
    free(text);
    return ok ? 0 : nd__fail_int_as(ND_ERR_IO, "nd_frame_print: cannot write to stdout");
}

/* --------------------------------------------------------------- describe */

nd_frame *nd_frame_describe(const nd_frame *f) {
    static const char *const stats[] = {"count", "mean", "std", "min", "25%", "50%", "75%", "max"};
    if (!nd__frame_check("nd_frame_describe", f)) return NULL;
    int n = 0;
    for (int c = 0; c < f->ncols; c++) n += f->cols[c]->type == ND_COL_NUMBER;
    if (n == 0) return nd__frame_fail("nd_frame_describe: the frame has no number columns");
    nd_frame *out = nd__frame_alloc(n, 8);
    bool ok = out && (out->row_labels = calloc(8, sizeof(char *)));
    for (int i = 0; ok && i < 8; i++) ok = (out->row_labels[i] = nd__strdup(stats[i])) != NULL;
    for (int c = 0, j = 0; ok && c < f->ncols; c++) {
        if (f->cols[c]->type != ND_COL_NUMBER) continue;
        int64_t count;
        double *v = nd__sorted_values(f->cols[c], &count);
        nd__col *col = v ? nd__col_new(ND_COL_NUMBER, 8) : NULL;
        ok = col != NULL;
        if (ok) {
            double sum = 0, squares = 0;
            for (int64_t i = 0; i < count; i++) sum += v[i];
            double mean = count ? sum / (double)count : NAN;
            for (int64_t i = 0; i < count; i++) squares += (v[i] - mean) * (v[i] - mean);
            double q[8] = {(double)count,
                           mean,
                           count > 1 ? sqrt(squares / (double)(count - 1)) : NAN,
                           count ? v[0] : NAN,
                           nd__quantile(v, count, 0.25),
                           nd__quantile(v, count, 0.5),
                           nd__quantile(v, count, 0.75),
                           count ? v[count - 1] : NAN};
            memcpy(col->num, q, sizeof q);
            ok = nd__frame_set(out, j++, f->names[c], col);
        }
        free(v);
        nd__col_release(col);
    }
    if (!ok) {
        nd_frame_free(out);
        return nd__frame_fail_as(ND_ERR_NOMEM, "nd_frame_describe: out of memory");
    }
    return out;
}
