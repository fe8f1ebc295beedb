/* Writing a frame as CSV, as pandas' to_csv(index=False) writes it: quotes
 * only where a field needs them, floats in their shortest exact form ("3.0",
 * "0.1", "1e+20"), integers as integers, True/False, and nothing for a
 * missing value — so that reading the file back gives the same frame. */
#include "frame_internal.h"

#include "nd_ext.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_text(nd__text *b, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        nd__text_puts(b, s);
        return;
    }
    nd__text_puts(b, "\"");
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        nd__text_put(b, s, (size_t)(q - s + 1));
        nd__text_puts(b, "\""); /* a quote inside is doubled */
    }
    nd__text_puts(b, s);
    nd__text_puts(b, "\"");
}

static void put_cell(nd__text *b, const nd__col *c, int64_t r) {
    char num[48];
    if (nd__col_isna(c, r)) return;
    switch (c->type) {
    case ND_COL_STRING:
        put_text(b, c->dict.strs[c->codes[r]]);
        return;
    case ND_COL_BOOL:
        nd__text_puts(b, nd__col_flag(c, r) ? "True" : "False");
        return;
    case ND_COL_NUMBER:
        if (c->is_int) {
            nd__text_printf(b, "%lld", (long long)c->num[r]);
            return;
        }
        nd__format_double(num, sizeof num, c->num[r]);
        nd__text_puts(b, num);
        /* A float column's whole numbers keep their ".0", as Python writes them. */
        if (!strpbrk(num, ".en")) nd__text_puts(b, ".0");
        return;
    }
}

char *nd_frame_to_csv(const nd_frame *f, size_t *len) {
    if (!nd__frame_check("nd_frame_to_csv", f)) return NULL;
    nd__text b = {0};
    for (int c = 0; c < f->ncols; c++) {
        if (c) nd__text_puts(&b, ",");
        put_text(&b, f->names[c]);
    }
    nd__text_puts(&b, "\n");
    for (int64_t r = 0; r < f->nrows && !b.out_of_memory; r++) {
        size_t row_start = b.length;
        for (int c = 0; c < f->ncols; c++) {
            if (c) nd__text_puts(&b, ",");
            put_cell(&b, f->cols[c], r);
        }
        /* An empty line would be skipped when read back: write "" instead (as Python's csv). */
        if (b.length == row_start) nd__text_puts(&b, "\"\"");
        nd__text_puts(&b, "\n");
    }
    if (b.out_of_memory) {
        free(b.data);
        nd__set_error_as(ND_ERR_NOMEM, "nd_frame_to_csv: out of memory");
        return NULL;
    }
    if (len) *len = b.length;
    return b.data;
}

int nd_frame_write_csv(const nd_frame *f, const char *path) {
    if (!nd__frame_check("nd_frame_write_csv", f)) return -1;
    if (!path) return nd__fail_int("nd_frame_write_csv: NULL path");
    size_t len;
    char *text = nd_frame_to_csv(f, &len);
    if (!text) return -1;
    FILE *out = fopen(path, "wb");
    if (!out) {
        free(text);
        return nd__fail_int_as(nd__errno_code(errno), "nd_frame_write_csv: cannot open %s: %s",
                               path, strerror(errno));
    }
    bool ok = fwrite(text, 1, len, out) == len;
    ok &= fclose(out) == 0;
    free(text);
    return ok ? 0
              : nd__fail_int_as(nd__errno_code(errno), "nd_frame_write_csv: cannot write %s: %s",
                                path, strerror(errno));
}
