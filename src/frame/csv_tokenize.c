/* Splitting CSV text into records and fields, as RFC 4180 and pandas do:
 * a field that starts with a quote runs to the matching quote ("" inside is one
 * quote) and may hold delimiters and line ends; text after the closing quote
 * is kept ("ab"c reads abc); a quote inside an unquoted field is an ordinary
 * character. Lines end with LF, CRLF or a lone CR. */
#include "csv_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static bool is_line_end(char c) {
    return c == '\n' || c == '\r';
}

/* Steps over the line end at p (which is one), counting a line. */
static const char *after_line_end(const char *p, const char *end, int64_t *lines) {
    (*lines)++;
    if (*p == '\r' && p + 1 < end && p[1] == '\n') return p + 2;
    return p + 1;
}

const char *csv_skip_blank(const csv_reader *rd, const char *p, const char *end, int64_t *lines) {
    for (;;) {
        const char *q = p;
        while (q < end && (*q == ' ' || *q == '\t') && *q != rd->delim) q++;
        if (q == end) return end;
        if (!is_line_end(*q)) return p;
        p = after_line_end(q, end, lines);
    }
}

const char *csv_skip_plain(const char *p, const char *end, int64_t *lines) {
    while (p < end && !is_line_end(*p)) p++;
    return p < end ? after_line_end(p, end, lines) : end;
}

static bool scratch_append(csv_record *rec, const char *s, size_t n) {
    if (n == 0) return true;
    if (rec->scratch_len + n > rec->scratch_cap) {
        size_t cap = rec->scratch_cap ? rec->scratch_cap : 256;
        while (cap < rec->scratch_len + n) cap *= 2;
        char *grown = realloc(rec->scratch, cap);
        if (!grown) return false;
        rec->scratch = grown;
        rec->scratch_cap = cap;
    }
    memcpy(rec->scratch + rec->scratch_len, s, n);
    rec->scratch_len += n;
    return true;
}

static csv_field *next_field(csv_record *rec) {
    if (rec->nfields == rec->cap) {
        int cap = rec->cap ? rec->cap * 2 : 16;
        csv_field *grown = realloc(rec->fields, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        rec->fields = grown;
        rec->cap = cap;
    }
    return &rec->fields[rec->nfields++];
}

/* A quoted field from just after its opening quote; returns where it stops
 * (at a delimiter or line end), NULL when the closing quote never comes. */
static const char *quoted_field(const csv_reader *rd, const char *p, const char *end,
                                csv_record *rec, int64_t *lines) {
    for (;;) {
        const char *q = memchr(p, rd->quote, (size_t)(end - p));
        if (!q) return NULL;
        for (const char *s = p; s < q; s++) /* line ends inside quotes still count as lines */
            if (*s == '\n' || (*s == '\r' && (s + 1 == q || s[1] != '\n'))) (*lines)++;
        if (!scratch_append(rec, p, (size_t)(q - p))) goto no_memory;
        p = q + 1;
        if (p < end && *p == rd->quote) { /* "" is one quote */
            if (!scratch_append(rec, p, 1)) goto no_memory;
            p++;
            continue;
        }
        break;
    }
    const char *rest = p;
    while (p < end && *p != rd->delim && !is_line_end(*p)) p++;
    if (!scratch_append(rec, rest, (size_t)(p - rest))) goto no_memory;
    return p;
no_memory:
    rec->out_of_memory = true;
    return NULL;
}

const char *csv_tokenize(const csv_reader *rd, const char *p, const char *end, csv_record *rec,
                         int64_t *lines) {
    rec->nfields = 0;
    rec->scratch_len = 0;
    rec->out_of_memory = false;
    for (;;) {
        csv_field *f = next_field(rec);
        if (!f) {
            rec->out_of_memory = true;
            return NULL;
        }
        if (rd->quote && p < end && *p == rd->quote) {
            size_t off = rec->scratch_len;
            p = quoted_field(rd, p + 1, end, rec, lines);
            if (!p) return NULL;
            *f = (csv_field){.scratch_off = off, .len = rec->scratch_len - off, .in_scratch = true};
        } else {
            const char *start = p;
            while (p < end && *p != rd->delim && !is_line_end(*p)) p++;
            *f = (csv_field){.ptr = start, .len = (size_t)(p - start)};
        }
        if (p < end && *p == rd->delim) {
            p++;
            continue;
        }
        if (p < end) p = after_line_end(p, end, lines);
        break;
    }
    /* Pointers into scratch only now: it may have moved while growing. */
    for (int i = 0; i < rec->nfields; i++)
        if (rec->fields[i].in_scratch)
            rec->fields[i].ptr = rec->scratch ? rec->scratch + rec->fields[i].scratch_off : "";
    return p;
}

void csv_record_free(csv_record *rec) {
    free(rec->fields);
    free(rec->scratch);
    memset(rec, 0, sizeof *rec);
}

bool csv_is_na(const csv_reader *rd, const char *s, size_t len) {
    if (len == 0) return rd->empty_is_na;
    if (!rd->na_first[(unsigned char)s[0]]) return false;
    for (int i = 0; i < rd->nna; i++)
        if (rd->na_len[i] == len && memcmp(rd->na[i], s, len) == 0) return true;
    return false;
}

/* pandas' default true_values and false_values. */
bool csv_parse_bool(const char *s, size_t len, bool *value) {
    if (len == 4 && (!memcmp(s, "True", 4) || !memcmp(s, "TRUE", 4) || !memcmp(s, "true", 4))) {
        *value = true;
        return true;
    }
    if (len == 5 && (!memcmp(s, "False", 5) || !memcmp(s, "FALSE", 5) || !memcmp(s, "false", 5))) {
        *value = false;
        return true;
    }
    return false;
}

void csv_release(const csv_reader *rd, const char *from, const char *to) {
    if (!rd->release_input) return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)from + page - 1) & ~(page - 1), b = (uintptr_t)to & ~(page - 1);
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
}
