/* nd_read_csv and nd_parse_csv: the driver. Reads the header, names the
 * columns as pandas does, splits the records into chunks and parses them in
 * parallel (see csv_internal.h), then assembles the frame. */
#include "csv_internal.h"

#include "nd_ext.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Below this many bytes per thread, threads cost more than they give. */
#define BYTES_PER_THREAD (1 << 20)

static void reader_free(csv_reader *rd) {
    csv_na_free(rd);
    free(rd->forced);
    if (rd->names)
        for (int i = 0; i < rd->ncols; i++) free(rd->names[i]);
    free(rd->names);
}

static bool valid_utf8(const unsigned char *s, size_t len) {
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        size_t extra = c < 0x80         ? 0
                       : (c >> 5) == 6  ? 1
                       : (c >> 4) == 14 ? 2
                       : (c >> 3) == 30 ? 3
                                        : 9;
        if (extra == 9 || c == 0xC0 || c == 0xC1 || c > 0xF4 || i + extra >= len + (extra == 0))
            return false;
        for (size_t k = 1; k <= extra; k++)
            if ((s[i + k] & 0xC0) != 0x80) return false;
        i += extra + 1;
    }
    return true;
}

/* pandas' renaming of duplicate names: the second "a" becomes "a.1" unless a
 * column is already called that, then "a.2", ... Names the header gave are
 * renamed first, in order, then the "Unnamed: N" names made for empty ones
 * (placeholder[i]), so a name written in the header is kept and the
 * placeholder moves on: ",Unnamed: 0" gives "Unnamed: 0.1", "Unnamed: 0". */
static bool dedup_names(char **names, const bool *placeholder, int n) {
    nd__dict seen = {0};
    int *in_header = NULL, *counts = NULL;
    int cap = 0;
    bool ok = false;
#define CODE_OF(s, code_var)                                                                       \
    do {                                                                                           \
        code_var = nd__dict_intern(&seen, (s), strlen(s));                                         \
        if (code_var < 0) goto done;                                                               \
        if (code_var >= cap) {                                                                     \
            int grown = (code_var + 1) * 2;                                                        \
            int *a = realloc(in_header, (size_t)grown * sizeof *a);                                \
            if (!a) goto done;                                                                     \
            in_header = a;                                                                         \
            int *b = realloc(counts, (size_t)grown * sizeof *b);                                   \
            if (!b) goto done;                                                                     \
            counts = b;                                                                            \
            memset(in_header + cap, 0, (size_t)(grown - cap) * sizeof *a);                         \
            memset(counts + cap, 0, (size_t)(grown - cap) * sizeof *b);                            \
            cap = grown;                                                                           \
        }                                                                                          \
    } while (0)
    int32_t code;
    for (int i = 0; i < n; i++) {
        CODE_OF(names[i], code);
        in_header[code]++;
    }
    for (int k = 0; k < 2 * n; k++) {
        int i = k % n; /* k < n: the header's names; k >= n: the placeholders */
        if (placeholder[i] != (k >= n)) continue;
        int32_t old_code;
        CODE_OF(names[i], old_code);
        code = old_code;
        int cur = counts[code];
        if (cur > 0) {
            char *col = NULL;
            while (cur > 0) {
                counts[old_code] = cur + 1;
                free(col);
                size_t size = strlen(names[i]) + 24;
                col = malloc(size);
                if (!col) goto done;
                snprintf(col, size, "%s.%d", names[i], cur);
                CODE_OF(col, code);
                cur = in_header[code] > 0 ? cur + 1 : counts[code];
            }
            in_header[old_code]--;
            in_header[code]++;
            free(names[i]);
            names[i] = col;
        }
        counts[code] = cur + 1;
    }
    ok = true;
done:
#undef CODE_OF
    nd__dict_free(&seen);
    free(in_header);
    free(counts);
    return ok;
}

/* Reads the header (or, without one, counts the first record's fields). */
static const char *read_header(const char *op, const char *where, csv_reader *rd,
                               const nd_csv_opts *o, const char *p, const char *end,
                               int64_t *line) {
    csv_record rec = {0};
    p = csv_skip_blank(rd, p, end, line);
    if (p == end) {
        nd__set_error_as(ND_ERR_FORMAT, "%s: %sno columns to parse: the input is empty", op, where);
        return NULL;
    }
    int64_t header_line = *line;
    const char *next = csv_tokenize(rd, p, end, &rec, line);
    if (!next) {
        if (rec.out_of_memory)
            nd__set_error_as(ND_ERR_NOMEM, "%s: out of memory", op);
        else
            nd__set_error_as(ND_ERR_FORMAT, "%s: %sline %lld: a quoted field never ends", op, where,
                             (long long)header_line);
        csv_record_free(&rec);
        return NULL;
    }
    rd->ncols = rec.nfields;
    rd->names = calloc((size_t)rd->ncols, sizeof *rd->names);
    rd->forced = malloc((size_t)rd->ncols * sizeof *rd->forced);
    bool *placeholder = calloc((size_t)(rd->ncols > 0 ? rd->ncols : 1), sizeof *placeholder);
    bool ok = rd->names && rd->forced && placeholder;
    for (int i = 0; ok && i < rd->ncols; i++) {
        const csv_field *f = &rec.fields[i];
        char number[32];
        snprintf(number, sizeof number, o->header ? "Unnamed: %d" : "%d", i);
        if (o->header && !valid_utf8((const unsigned char *)f->ptr, f->len)) {
            nd__set_error_as(ND_ERR_FORMAT,
                             "%s: %sline %lld, column %d: the name is not valid UTF-8", op, where,
                             (long long)header_line, i + 1);
            csv_record_free(&rec);
            free(placeholder);
            return NULL;
        }
        if (o->header && f->len > 0 && memchr(f->ptr, '\0', f->len) == NULL) {
            rd->names[i] = malloc(f->len + 1);
            if (rd->names[i]) {
                memcpy(rd->names[i], f->ptr, f->len);
                rd->names[i][f->len] = '\0';
            }
        } else {
            rd->names[i] = nd__strdup(number);
            placeholder[i] = o->header;
        }
        ok = rd->names[i] != NULL;
        rd->forced[i] = -1;
    }
    csv_record_free(&rec);
    ok = ok && dedup_names(rd->names, placeholder, rd->ncols);
    free(placeholder);
    if (!ok) {
        nd__set_error_as(ND_ERR_NOMEM, "%s: out of memory", op);
        return NULL;
    }
    for (int k = 0; k < o->ntypes && o->types; k++) {
        int found = -1;
        for (int i = 0; i < rd->ncols && found < 0; i++)
            if (o->types[k].name && strcmp(rd->names[i], o->types[k].name) == 0) found = i;
        if (found < 0) {
            nd__set_error("%s: a type is forced for column \"%s\", which the input does not have",
                          op, o->types[k].name ? o->types[k].name : "(null)");
            return NULL;
        }
        rd->forced[found] = (int)o->types[k].type;
    }
    if (!o->header) { /* the first record is data */
        *line = header_line;
        return p;
    }
    return next;
}

/* Splits [p, end) into at most want chunks of whole records, counting the
 * records and lines of each. Returns the number of chunks; -1 on a quote that
 * never ends (error_line set). */
static int split_chunks(const csv_reader *rd, const char *p, const char *end, int64_t first_line,
                        csv_chunk *chunks, int want, int threads, int64_t *error_line) {
    size_t len = (size_t)(end - p);
    bool has_quotes = rd->quote && memchr(p, rd->quote, len) != NULL;
    if (!has_quotes) {
        /* Cut anywhere at a line end, then count each piece in parallel. */
        const char *cut = p;
        for (int i = 0; i < want; i++) {
            chunks[i].begin = cut;
            const char *target = i == want - 1 ? end : p + len / (size_t)want * (size_t)(i + 1);
            if (target < cut) target = cut;
            while (target > p && target < end && target[-1] != '\n' && target[-1] != '\r') target++;
            if (target > p && target < end && target[-1] == '\r' && *target == '\n') target++;
            chunks[i].end = cut = target;
        }
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
        for (int i = 0; i < want; i++) {
            int64_t lines = 0, rows = 0;
            const char *q = chunks[i].begin;
            const char *released = q;
            while ((q = csv_skip_blank(rd, q, chunks[i].end, &lines)) < chunks[i].end) {
                q = csv_skip_plain(q, chunks[i].end, &lines);
                rows++;
                if ((size_t)(q - released) > CSV_RELEASE_STEP) {
                    csv_release(rd, released, q);
                    released = q;
                }
            }
            csv_release(rd, released, chunks[i].end);
            chunks[i].nrows = rows;
            chunks[i].first_line = lines; /* this chunk's line count, for now */
        }
        int64_t line = first_line, row = 0;
        for (int i = 0; i < want; i++) {
            int64_t lines = chunks[i].first_line;
            chunks[i].first_line = line;
            chunks[i].row0 = row;
            line += lines;
            row += chunks[i].nrows;
        }
        return want;
    }
    /* Quotes may hide line ends: walk the records once, cutting near the targets. */
    csv_record rec = {0};
    int n = 0;
    int64_t line = first_line, row = 0;
    chunks[0] = (csv_chunk){.begin = p, .first_line = line, .row0 = 0};
    while ((p = csv_skip_blank(rd, p, end, &line)) < end) {
        int64_t record_line = line;
        p = csv_tokenize(rd, p, end, &rec, &line);
        if (!p) {
            *error_line = record_line;
            csv_record_free(&rec);
            return -1;
        }
        row++;
        if (n + 1 < want && (size_t)(p - chunks[n].begin) >= len / (size_t)want) {
            chunks[n].end = p;
            chunks[n].nrows = row - chunks[n].row0;
            n++;
            chunks[n] = (csv_chunk){.begin = p, .first_line = line, .row0 = row};
        }
    }
    chunks[n].end = end;
    chunks[n].nrows = row - chunks[n].row0;
    csv_record_free(&rec);
    return n + 1;
}

static nd_frame *parse(const char *op, const char *where, const char *text, size_t len,
                       const nd_csv_opts *opts, bool mapped) {
    nd_csv_opts o = opts ? *opts : ND_CSV_DEFAULTS;
    if (!text && len) {
        nd__set_error("%s: NULL text", op);
        return NULL;
    }
    if (o.delimiter == '\n' || o.delimiter == '\r' || (o.quote && o.quote == o.delimiter)) {
        nd__set_error("%s: the delimiter cannot be a line end or the quote character", op);
        return NULL;
    }
    csv_reader rd = {.delim = o.delimiter, .quote = o.quote, .release_input = mapped};
    csv_chunk *chunks = NULL;
    double **num = NULL;
    int32_t **codes = NULL; /* text codes: untouched (unmapped) pages cost nothing */
    nd_frame *frame = NULL;
    int nchunks = 0;
    const char *p = text ? text : "", *end = p + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; /* UTF-8 byte-order mark */
    int64_t line = 1;
    if (!csv_na_init(&rd, &o)) goto no_memory;
    if (!(p = read_header(op, where, &rd, &o, p, end, &line))) goto fail;

    int threads = nd__frame_threads((int64_t)(end - p), BYTES_PER_THREAD, o.num_threads);
    /* A few chunks per thread, taken in turn: a thread slowed by other work
     * (or slower text) does not hold the others up. */
    int want =
        threads > 1 ? nd__frame_threads((int64_t)(end - p), BYTES_PER_THREAD, 4 * threads) : 1;
    chunks = calloc((size_t)want, sizeof *chunks);
    if (!chunks) goto no_memory;
    int64_t error_line = 0;
    nchunks = split_chunks(&rd, p, end, line, chunks, want, threads, &error_line);
    if (nchunks < 0) {
        nchunks = 0;
        nd__set_error_as(ND_ERR_FORMAT, "%s: %sline %lld: a quoted field never ends", op, where,
                         (long long)error_line);
        goto fail;
    }
    int64_t nrows = chunks[nchunks - 1].row0 + chunks[nchunks - 1].nrows;
    num = calloc((size_t)(rd.ncols > 0 ? rd.ncols : 1), sizeof *num);
    if (!num) goto no_memory;
    codes = calloc((size_t)(rd.ncols > 0 ? rd.ncols : 1), sizeof *codes);
    if (!codes) goto no_memory;
    for (int c = 0; c < rd.ncols; c++)
        if (!(num[c] = nd__big_alloc((size_t)nrows * sizeof(double))) ||
            !(codes[c] = nd__big_alloc((size_t)nrows * sizeof(int32_t))))
            goto no_memory;
    for (int i = 0; i < nchunks; i++) {
        /* Whole cache lines per chunk: two threads never write to one line. */
        size_t size = ((size_t)(rd.ncols > 0 ? rd.ncols : 1) * sizeof(csv_chunk_col) + 63) & ~63u;
        void *cols = NULL;
        if (posix_memalign(&cols, 64, size) != 0) goto no_memory;
        memset(cols, 0, size);
        chunks[i].cols = cols;
        for (int c = 0; c < rd.ncols; c++) chunks[i].cols[c].codes = codes[c] + chunks[i].row0;
    }

#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int i = 0; i < nchunks; i++) csv_parse_chunk(&rd, &chunks[i], num);
    for (int i = 0; i < nchunks; i++)
        if (chunks[i].error_line) {
            /* a chunk fails on the text, or on memory (csv_infer.c says which) */
            bool nomem = strcmp(chunks[i].error, "out of memory") == 0;
            nd__set_error_as(nomem ? ND_ERR_NOMEM : ND_ERR_FORMAT, "%s: %s%s", op, where,
                             chunks[i].error);
            goto fail;
        }

    frame = nd__frame_alloc(rd.ncols, nrows);
    if (!frame) goto no_memory;
    for (int c = 0; c < rd.ncols; c++) {
        nd__col *col = csv_finish_column(&rd, chunks, nchunks, c, num[c], codes[c], nrows, threads);
        num[c] = NULL; /* the column owns them now, or they are freed */
        codes[c] = NULL;
        if (!col) goto no_memory;
        bool ok = nd__frame_set(frame, c, rd.names[c], col);
        nd__col_release(col);
        if (!ok) goto no_memory;
    }
    goto done;
no_memory:
    nd__set_error_as(ND_ERR_NOMEM, "%s: out of memory", op);
fail:
    nd_frame_free(frame);
    frame = NULL;
done:
    for (int i = 0; i < nchunks; i++) {
        for (int c = 0; chunks[i].cols && c < rd.ncols; c++) {
            nd__dict_free(&chunks[i].cols[c].dict);
        }
        free(chunks[i].cols);
        csv_record_free(&chunks[i].rec);
        csv_record_free(&chunks[i].rescan);
    }
    free(chunks);
    for (int c = 0; num && c < rd.ncols; c++) nd__big_free(num[c]);
    for (int c = 0; codes && c < rd.ncols; c++) nd__big_free(codes[c]);
    free(num);
    free(codes);
    reader_free(&rd);
    return frame;
}

nd_frame *nd_parse_csv(const char *text, size_t len, const nd_csv_opts *opts) {
    return parse("nd_parse_csv", "", text, len, opts, false);
}

nd_frame *nd_read_csv(const char *path, const nd_csv_opts *opts) {
    if (!path) {
        nd__set_error("nd_read_csv: NULL path");
        return NULL;
    }
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        nd__set_error_as(nd__errno_code(errno), "nd_read_csv: cannot open %s: %s", path,
                         strerror(errno));
        if (fd >= 0) close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        nd__set_error_as(nd__errno_code(EISDIR), "nd_read_csv: cannot read %s: %s", path,
                         strerror(EISDIR));
        close(fd);
        return NULL;
    }
    char where[320];
    snprintf(where, sizeof where, "%.300s: ", path);
    size_t len = (size_t)st.st_size;
    if (len == 0) {
        close(fd);
        nd__set_error_as(ND_ERR_FORMAT, "nd_read_csv: %sno columns to parse: the file is empty",
                         where);
        return NULL;
    }
    /* One mapping, read by every thread; the pages go when it is unmapped. */
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        nd__set_error_as(nd__errno_code(errno), "nd_read_csv: cannot read %s: %s", path,
                         strerror(errno));
        return NULL;
    }
    madvise(map, len, MADV_WILLNEED);
    nd_frame *f = parse("nd_read_csv", where, map, len, opts, true);
    munmap(map, len);
    return f;
}
