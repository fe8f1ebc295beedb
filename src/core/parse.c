/* nd_parse: a tensor from the text of a (nested) Python-style list,
 * "[[1, 2.5], [3, 4]]", the way torch.tensor reads a Python list.
 *
 * A recursive descent over the text. The first number fixes how deep numbers
 * sit (the tensor's ndim) and the first list closed at each depth fixes that
 * dim's size; every later list must agree, or the error says where it does
 * not. Numbers are kept both as int64 and as double, and the dtype is chosen
 * at the end: any float makes float32, else any integer makes int64, else bool. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    double real;
    int64_t integer;
} number;

typedef struct {
    const char *text;
    const char *at;
    int ndim; /* depth at which numbers sit; -1 until the first one */
    int64_t shape[ND_MAX_DIMS];
    number *values;
    int64_t count, cap;
    bool any_float, any_integer;
    bool failed;
} parser;

/* ------------------------------------------------------------- errors */

static void describe_here(const parser *ps, char *buf, size_t cap) {
    unsigned char c = (unsigned char)*ps->at;
    if (c == '\0')
        snprintf(buf, cap, "the end of the text");
    else if (isprint(c))
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "byte 0x%02x", c);
}

/* "nd_parse: at character 9 (line 2, column 3): expected ..., found ']'".
 * Lines are mentioned only when the text has several. */
static bool fail(parser *ps, const char *expected_fmt, ...) ND_PRINTF(2, 3);
static bool fail(parser *ps, const char *expected_fmt, ...) {
    if (ps->failed) return false;
    ps->failed = true;
    long long position = (long long)(ps->at - ps->text) + 1;
    long long line = 1, column = 1;
    for (const char *c = ps->text; c < ps->at; c++) {
        column++;
        if (*c == '\n') line++, column = 1;
    }
    char where[96], found[32], expected[256];
    if (strchr(ps->text, '\n'))
        snprintf(where, sizeof where, "at character %lld (line %lld, column %lld)", position, line,
                 column);
    else
        snprintf(where, sizeof where, "at character %lld", position);
    describe_here(ps, found, sizeof found);
    va_list ap;
    va_start(ap, expected_fmt);
    vsnprintf(expected, sizeof expected, expected_fmt, ap);
    va_end(ap);
    nd__set_error_as(ND_ERR_FORMAT, "nd_parse: %s: expected %s, found %s", where, expected, found);
    return false;
}

/* -------------------------------------------------------------- lexing */

static void skip_space(parser *ps) {
    while (isspace((unsigned char)*ps->at)) ps->at++;
}

static bool push(parser *ps, double real, int64_t integer) {
    if (ps->count == ps->cap) {
        int64_t cap = ps->cap ? ps->cap * 2 : 64;
        number *grown = realloc(ps->values, (size_t)cap * sizeof *grown);
        if (!grown) {
            ps->failed = true;
            nd__set_error_as(ND_ERR_NOMEM, "nd_parse: out of memory after %lld numbers",
                             (long long)ps->count);
            return false;
        }
        ps->values = grown;
        ps->cap = cap;
    }
    ps->values[ps->count++] = (number){real, integer};
    return true;
}

static bool word_is(const char *word, size_t len, const char *expected) {
    if (strlen(expected) != len) return false;
    for (size_t i = 0; i < len; i++)
        if (tolower((unsigned char)word[i]) != expected[i]) return false;
    return true;
}

/* true/false, nan, inf, infinity (any case, as Python's float() accepts them). */
static bool parse_word(parser *ps, int sign) {
    const char *start = ps->at;
    size_t len = 0;
    while (isalpha((unsigned char)start[len])) len++;
    if (sign == 0 && (word_is(start, len, "true") || word_is(start, len, "false"))) {
        double v = tolower((unsigned char)*start) == 't';
        ps->at += len;
        return push(ps, v, (int64_t)v);
    }
    double v;
    if (word_is(start, len, "nan"))
        v = NAN;
    else if (word_is(start, len, "inf") || word_is(start, len, "infinity"))
        v = sign < 0 ? -INFINITY : INFINITY;
    else
        return fail(ps, "a number, true, false, inf or nan");
    ps->at += len;
    ps->any_float = true;
    return push(ps, v, 0);
}

/* [+-] digits [. digits] [(e|E) [+-] digits], with at least one digit before the exponent. */
static bool parse_number(parser *ps) {
    const char *start = ps->at, *p = start;
    int sign = 0;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    if (isalpha((unsigned char)*p)) {
        ps->at = p;
        return parse_word(ps, sign);
    }
    int digits = 0;
    bool is_float = false;
    while (isdigit((unsigned char)*p)) p++, digits++;
    if (*p == '.') {
        is_float = true;
        p++;
        while (isdigit((unsigned char)*p)) p++, digits++;
    }
    if (digits == 0) {
        ps->at = p;
        return fail(ps, "a number or '['");
    }
    if (*p == 'e' || *p == 'E') {
        is_float = true;
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) {
            ps->at = p;
            return fail(ps, "the digits of an exponent");
        }
        while (isdigit((unsigned char)*p)) p++;
    }
    /* strtod and strtoll read exactly this span (our grammar is a subset of theirs). */
    size_t len = (size_t)(p - start);
    char small[64];
    char *span = len < sizeof small ? small : malloc(len + 1);
    if (!span) return fail(ps, "a shorter number (out of memory)");
    memcpy(span, start, len);
    span[len] = '\0';
    double real = strtod(span, NULL);
    int64_t integer = 0;
    bool ok = true;
    if (!is_float) {
        errno = 0;
        long long v = strtoll(span, NULL, 10);
        if (errno == ERANGE) ok = fail(ps, "an integer that fits in int64 (%s does not)", span);
        integer = v;
        ps->any_integer = true;
    } else {
        ps->any_float = true;
    }
    if (span != small) free(span);
    if (!ok) return false;
    ps->at = p;
    return push(ps, real, integer);
}

/* ------------------------------------------------------------- parsing */

static bool parse_value(parser *ps, int depth);

/* A list at `depth` has just closed with `count` elements: it must agree with
 * the first list closed at that depth. */
static bool close_list(parser *ps, int depth, int64_t count) {
    if (count == 0) {
        /* An empty list holds no numbers: it is the innermost dim. */
        if (ps->ndim < 0) ps->ndim = depth + 1;
        if (ps->ndim != depth + 1)
            return fail(ps,
                        "a list of lists (the first element is nested %d deep, this empty "
                        "list %d)",
                        ps->ndim, depth + 1);
    }
    if (ps->shape[depth] < 0)
        ps->shape[depth] = count;
    else if (ps->shape[depth] != count)
        return fail(ps,
                    "%lld elements like the first list at depth %d, not %lld (ragged "
                    "nesting)",
                    (long long)ps->shape[depth], depth + 1, (long long)count);
    ps->at++; /* the ']' */
    return true;
}

static bool parse_list(parser *ps, int depth) {
    ps->at++; /* the '[' */
    skip_space(ps);
    int64_t count = 0;
    if (*ps->at == ']') return close_list(ps, depth, 0);
    for (;;) {
        if (ps->shape[depth] >= 0 && count >= ps->shape[depth])
            return fail(ps,
                        "']' after %lld elements, like the first list at depth %d (ragged "
                        "nesting)",
                        (long long)ps->shape[depth], depth + 1);
        if (!parse_value(ps, depth + 1)) return false;
        count++;
        skip_space(ps);
        if (*ps->at == ',') {
            ps->at++;
            skip_space(ps);
            if (*ps->at == ']') return close_list(ps, depth, count); /* a trailing comma */
        } else if (*ps->at == ']') {
            return close_list(ps, depth, count);
        } else {
            return fail(ps, "',' or ']'");
        }
    }
}

static bool parse_value(parser *ps, int depth) {
    skip_space(ps);
    if (*ps->at == '[') {
        if (ps->ndim >= 0 && depth >= ps->ndim)
            return fail(ps, "a number (the first element is nested %d deep)", ps->ndim);
        if (depth >= ND_MAX_DIMS) return fail(ps, "at most %d nested lists", ND_MAX_DIMS);
        return parse_list(ps, depth);
    }
    if (ps->ndim < 0) ps->ndim = depth;
    if (depth < ps->ndim)
        return fail(ps, "'[' (the first element is nested %d deep, this one %d)", ps->ndim, depth);
    return parse_number(ps);
}

static nd_tensor *build(parser *ps) {
    int ndim = ps->ndim;
    nd_dtype dtype = ps->any_float ? ND_F32 : ps->any_integer ? ND_I64 : ND_BOOL;
    if (ps->count == 0) dtype = ND_F32; /* as torch.tensor([]) */
    nd_tensor *t = nd__empty(dtype, ndim, ps->shape);
    if (!t) return NULL;
    if (t->numel != ps->count) /* the checks above make this impossible; say so if not */
        return nd__fail("nd_parse: internal error: %lld numbers for shape %s", (long long)ps->count,
                        nd__tshape(t));
    char *p = nd__ptr(t);
    size_t esize = nd_dtype_size(dtype);
    for (int64_t i = 0; i < ps->count; i++) {
        if (dtype == ND_F32)
            ((float *)p)[i] = (float)ps->values[i].real;
        else if (dtype == ND_I64)
            ((int64_t *)p)[i] = ps->values[i].integer;
        else
            nd__store(dtype, p + (size_t)i * esize, ps->values[i].real);
    }
    return t;
}

nd_tensor *nd_parse(const char *text) {
    if (!text) return nd__fail("nd_parse: NULL text");
    parser ps = {.text = text, .at = text, .ndim = -1};
    for (int i = 0; i < ND_MAX_DIMS; i++) ps.shape[i] = -1;
    locale_t previous, c = nd__use_c_locale(&previous);
    bool ok = parse_value(&ps, 0);
    if (ok) {
        skip_space(&ps);
        if (*ps.at != '\0') ok = fail(&ps, "the end of the text after a complete value");
    }
    nd__restore_locale(c, previous);
    nd_tensor *t = ok ? build(&ps) : NULL;
    free(ps.values);
    return t;
}
