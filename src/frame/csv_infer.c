/* Reading cells into columns while guessing each column's type, as pandas
 * does: a column is numbers while every present cell is a number, booleans
 * while every present cell is True/False, and text as soon as a cell is
 * neither (or numbers and booleans mix). Each chunk guesses on its own; the
 * chunks then agree (csv_finish_column): any text makes the column text.
 *
 * Numbers go straight into the column's final double array. A chunk that meets
 * its first text cell in a column re-reads that column's earlier cells of the
 * chunk as text — at most once per column and chunk. */
#include "csv_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void chunk_error(csv_chunk *ch, int64_t line, const char *fmt, const char *a, const char *b,
                        int col) {
    if (ch->error_line) return;
    ch->error_line = line;
    char what[200];
    snprintf(what, sizeof what, fmt, a, b);
    snprintf(ch->error, sizeof ch->error, "line %lld, column %d: %s", (long long)line, col + 1,
             what);
}

/* The cell's text for a message: the first 40 bytes. */
static const char *cell_text(char *buf, size_t size, const char *s, size_t len) {
    size_t n = len < size - 1 ? len : size - 1;
    if (n > 40) n = 40;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static bool intern_cell(const csv_reader *rd, csv_chunk_col *cc, int64_t row, const char *s,
                        size_t len) {
    if (csv_is_na(rd, s, len)) {
        if (!cc->any_na) cc->any_na = true;
        cc->codes[row] = -1;
        return true;
    }
    cc->codes[row] = nd__dict_intern(&cc->dict, s, len);
    return cc->codes[row] >= 0;
}

/* Re-reads rows [0, upto) of the chunk, keeping column col's cells as text. */
static bool rescan_as_text(const csv_reader *rd, csv_chunk *ch, int col, int64_t upto) {
    csv_chunk_col *cc = &ch->cols[col];
    cc->mode = MODE_STRING;
    const char *p = ch->begin;
    int64_t lines = 0;
    for (int64_t row = 0; row < upto; row++) {
        p = csv_skip_blank(rd, p, ch->end, &lines);
        p = csv_tokenize(rd, p, ch->end, &ch->rescan, &lines);
        if (!p) return false;
        if (col < ch->rescan.nfields) {
            const csv_field *f = &ch->rescan.fields[col];
            if (!intern_cell(rd, cc, row, f->ptr, f->len)) return false;
        } else {
            cc->codes[row] = -1;
            cc->any_na = true;
        }
    }
    return true;
}

/* One cell of an inferred (not forced) column; false on no memory. */
static bool infer_cell(const csv_reader *rd, csv_chunk *ch, int col, int64_t row, double *num,
                       const char *s, size_t len) {
    csv_chunk_col *cc = &ch->cols[col];
    if (cc->mode == MODE_STRING) return intern_cell(rd, cc, row, s, len);
    bool na_checked = false;
    if (rd->na_numeric || len == 0) {
        if (csv_is_na(rd, s, len)) goto missing;
        na_checked = true;
    }
    double v;
    nd__numkind kind = nd__parse_number(s, len, &v);
    if (kind != ND__NOT_NUMBER) {
        if (cc->mode == MODE_EMPTY) cc->mode = MODE_NUMBER;
        if (cc->mode == MODE_NUMBER) {
            num[row] = v;
            if (kind == ND__FLOAT && cc->all_int) cc->all_int = false;
            return true;
        }
    } else if (!na_checked && csv_is_na(rd, s, len)) {
        goto missing;
    } else {
        bool b;
        if (csv_parse_bool(s, len, &b)) {
            if (cc->mode == MODE_EMPTY) cc->mode = MODE_BOOL;
            if (cc->mode == MODE_BOOL) {
                num[row] = b;
                return true;
            }
        }
    }
    /* Text, or numbers and booleans mixed: the column is text from here on. */
    if (!rescan_as_text(rd, ch, col, row)) return false;
    return intern_cell(rd, cc, row, s, len);
missing:
    if (!cc->any_na) cc->any_na = true;
    num[row] = NAN;
    return true;
}

/* One cell of a column whose type the caller forced. */
static bool forced_cell(const csv_reader *rd, csv_chunk *ch, int col, int64_t row, double *num,
                        const char *s, size_t len, int64_t line) {
    csv_chunk_col *cc = &ch->cols[col];
    char buf[64];
    if (rd->forced[col] == ND_COL_STRING) return intern_cell(rd, cc, row, s, len);
    if (csv_is_na(rd, s, len)) {
        cc->any_na = true;
        num[row] = NAN;
        return true;
    }
    if (rd->forced[col] == ND_COL_NUMBER) {
        nd__numkind kind = nd__parse_number(s, len, &num[row]);
        if (kind == ND__FLOAT) cc->all_int = false;
        if (kind == ND__NOT_NUMBER)
            chunk_error(ch, line, "\"%s\" in column \"%s\" (forced to numbers) is not a number",
                        cell_text(buf, sizeof buf, s, len), rd->names[col], col);
        return true;
    }
    bool b;
    if (csv_parse_bool(s, len, &b))
        num[row] = b;
    else
        chunk_error(ch, line, "\"%s\" in column \"%s\" (forced to booleans) is not True or False",
                    cell_text(buf, sizeof buf, s, len), rd->names[col], col);
    return true;
}

void csv_parse_chunk(const csv_reader *rd, csv_chunk *ch, double *const *num) {
    for (int c = 0; c < rd->ncols; c++) {
        ch->cols[c].all_int = true;
        if (rd->forced[c] >= 0)
            ch->cols[c].mode = (csv_mode)(rd->forced[c] == ND_COL_NUMBER ? MODE_NUMBER
                                          : rd->forced[c] == ND_COL_BOOL ? MODE_BOOL
                                                                         : MODE_STRING);
    }
    const char *p = ch->begin, *released = ch->begin;
    int64_t line = ch->first_line;
    for (int64_t row = 0; row < ch->nrows && !ch->error_line; row++) {
        if ((size_t)(p - released) > CSV_RELEASE_STEP) {
            csv_release(rd, released, p);
            released = p;
        }
        p = csv_skip_blank(rd, p, ch->end, &line);
        int64_t record_line = line;
        p = csv_tokenize(rd, p, ch->end, &ch->rec, &line);
        if (!p) {
            if (ch->rec.out_of_memory) goto no_memory;
            snprintf(ch->error, sizeof ch->error, "line %lld: a quoted field never ends",
                     (long long)record_line);
            ch->error_line = record_line;
            return;
        }
        if (ch->rec.nfields > rd->ncols) {
            snprintf(ch->error, sizeof ch->error, "line %lld: expected %d fields, saw %d",
                     (long long)record_line, rd->ncols, ch->rec.nfields);
            ch->error_line = record_line;
            return;
        }
        for (int c = 0; c < rd->ncols; c++) {
            /* Missing fields at the end of a short row read as missing values. */
            const char *s = c < ch->rec.nfields ? ch->rec.fields[c].ptr : "";
            size_t len = c < ch->rec.nfields ? ch->rec.fields[c].len : 0;
            bool short_row = c >= ch->rec.nfields;
            double *col_num = num[c] + ch->row0;
            bool ok;
            if (short_row && ch->cols[c].mode != MODE_STRING) {
                ch->cols[c].any_na = true;
                col_num[row] = NAN;
                ok = true;
            } else if (short_row) {
                ch->cols[c].any_na = true;
                ch->cols[c].codes[row] = -1;
                ok = true;
            } else if (rd->forced[c] >= 0) {
                ok = forced_cell(rd, ch, c, row, col_num, s, len, record_line);
            } else {
                ok = infer_cell(rd, ch, c, row, col_num, s, len);
            }
            if (!ok) goto no_memory;
        }
    }
    csv_release(rd, released, ch->end);
    return;
no_memory:
    ch->error_line = ch->first_line;
    snprintf(ch->error, sizeof ch->error, "out of memory");
}

/* The column's type, agreed across chunks. */
static csv_mode agree(const csv_reader *rd, const csv_chunk *chunks, int nchunks, int col) {
    if (rd->forced[col] >= 0) return chunks[0].cols[col].mode;
    bool any_number = false, any_bool = false;
    for (int i = 0; i < nchunks; i++) {
        csv_mode m = chunks[i].cols[col].mode;
        if (m == MODE_STRING) return MODE_STRING;
        any_number |= m == MODE_NUMBER;
        any_bool |= m == MODE_BOOL;
    }
    if (any_number && any_bool) return MODE_STRING;
    return any_bool ? MODE_BOOL : MODE_NUMBER;
}

static nd__col *finish_strings(const csv_reader *rd, csv_chunk *chunks, int nchunks, int col,
                               int32_t *codes, int64_t nrows, int threads) {
    int failed = 0;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) reduction(| : failed)
    for (int i = 0; i < nchunks; i++)
        if (chunks[i].cols[col].mode != MODE_STRING)
            failed |= !rescan_as_text(rd, &chunks[i], col, chunks[i].nrows);
    nd__col *c = failed ? NULL : calloc(1, sizeof *c);
    if (!c) {
        nd__big_free(codes);
        return NULL;
    }
    /* The chunks wrote their codes into this array: it becomes the column's. */
    atomic_init(&c->refs, 1);
    c->type = ND_COL_STRING;
    c->n = nrows;
    c->codes = codes;
    /* Codes in the order texts first appear in the file, as a sequential read gives. */
    for (int i = 0; i < nchunks; i++) {
        csv_chunk_col *cc = &chunks[i].cols[col];
        int32_t *remap = malloc((size_t)(cc->dict.n > 0 ? cc->dict.n : 1) * sizeof *remap);
        if (!remap) goto no_memory;
        for (int32_t k = 0; k < cc->dict.n; k++)
            if ((remap[k] = nd__dict_intern(&c->dict, cc->dict.strs[k], cc->dict.lens[k])) < 0) {
                free(remap);
                goto no_memory;
            }
        int32_t *own = cc->codes; /* the chunk's rows of the column's array: renumbered in place */
        int64_t n = chunks[i].nrows;
#pragma omp parallel for num_threads(n > 65536 ? threads : 1) schedule(static)
        for (int64_t r = 0; r < n; r++) own[r] = own[r] < 0 ? -1 : remap[own[r]];
        free(remap);
        nd__dict_free(&cc->dict);
    }
    return c;
no_memory:
    nd__col_release(c);
    return NULL;
}

nd__col *csv_finish_column(const csv_reader *rd, csv_chunk *chunks, int nchunks, int col,
                           double *num, int32_t *codes, int64_t nrows, int threads) {
    csv_mode mode = agree(rd, chunks, nchunks, col);
    if (mode == MODE_STRING) {
        nd__big_free(num);
        return finish_strings(rd, chunks, nchunks, col, codes, nrows, threads);
    }
    nd__big_free(codes);
    if (mode == MODE_BOOL) {
        nd__col *c = nd__col_new(ND_COL_BOOL, nrows);
        if (c)
            for (int64_t r = 0; r < nrows; r++)
                c->flag[r] = isnan(num[r]) ? ND__BOOL_NA : (uint8_t)(num[r] != 0);
        nd__big_free(num);
        return c;
    }
    nd__col *c = calloc(1, sizeof *c);
    if (!c) {
        nd__big_free(num);
        return NULL;
    }
    atomic_init(&c->refs, 1);
    c->type = ND_COL_NUMBER;
    c->n = nrows;
    c->num = num; /* the array the chunks wrote is the column */
    bool all_int = true, any_na = false;
    for (int i = 0; i < nchunks; i++) {
        all_int &= chunks[i].cols[col].all_int;
        any_na |= chunks[i].cols[col].any_na;
    }
    c->is_int = nrows > 0 && all_int && !any_na;
    /* pandas reads a column with a number that is not an integer as floats, and
     * there a number of na_values is missing whatever its spelling ("-999.00",
     * "-0999" for "-999"). A column of integers (missing cells or not) only
     * knows the NA strings: "-0999" stays -999 there, as in pandas. */
    if (!all_int && rd->nna_num > 0) {
#pragma omp parallel for num_threads(nrows > 65536 ? threads : 1) schedule(static)
        for (int64_t r = 0; r < nrows; r++)
            if (csv_is_na_number(rd, num[r])) num[r] = NAN;
    }
    /* int64 has no -0, and pandas reads integers with missing cells as int64
     * too before making them floats: "-0" is 0 in both (NaN + 0 stays NaN). */
    if (all_int)
        for (int64_t r = 0; r < nrows; r++) num[r] += 0.0;
    return c;
}
