/* Which cells are missing: pandas' default NA strings plus the caller's
 * na_values, each expanded as pandas 1.5 expands it (_stringify_na_values and
 * _floatify_na_values in pandas/io/parsers/readers.py). When Python's float()
 * reads an entry as a number v:
 *   - an integer v also gives "<v>.0" and "<v>": "-999" makes "-999.0" missing
 *     too, and "-999.0" or "-9.99e2" make "-999";
 *   - any other finite v gives Python's repr(v): "0.10" makes "0.1" missing;
 *   - v itself is a missing number in a float column, whatever its spelling
 *     ("-999.00", "-0999", " -999"); see csv_finish_column for which columns.
 * When int() reads it, its canonical form too: "007" makes "7" missing.
 * (pandas turns a number given in na_values into a string first; nd's entries
 * are strings already.) */
#include "csv_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pandas' default NA strings (pandas._libs.parsers.STR_NA_VALUES). */
static const char *const default_na[] = {
    "",     "#N/A", "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A",  "NA",       "NULL", "NaN",     "None",     "n/a",  "nan",  "null",   NULL};

/* At most this many strings per na_values entry: itself, "<v>.0" or repr(v), "<v>", int(). */
#define SPELLINGS_PER_ENTRY 4
/* Python refuses int() of a text with more digits (sys.get_int_max_str_digits()). */
#define PYTHON_MAX_INT_DIGITS 4300

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* What Python's str.strip() drops around a number, in ASCII. */
static bool is_python_space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool equals_nocase(const char *s, const char *word) {
    for (; *s && *word; s++, word++)
        if ((*s | 0x20) != *word) return false;
    return *s == *word;
}

/* Adds s (taking it when owned) unless it is there already. */
static bool add_na(csv_reader *rd, const char *s, char *owned) {
    size_t len = strlen(s);
    if (len == 0) {
        rd->empty_is_na = true;
        free(owned);
        return true;
    }
    for (int i = 0; i < rd->nna; i++)
        if (rd->na_len[i] == len && memcmp(rd->na[i], s, len) == 0) {
            free(owned);
            return true;
        }
    if (owned) rd->na_owned[rd->nowned++] = owned;
    rd->na[rd->nna] = s;
    rd->na_len[rd->nna++] = len;
    rd->na_first[(unsigned char)s[0]] = true;
    double v;
    if (nd__parse_number(s, len, &v) != ND__NOT_NUMBER) rd->na_numeric = true;
    return true;
}

static bool add_printed(csv_reader *rd, const char *fmt, double v) {
    int n = snprintf(NULL, 0, fmt, v);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!s) return false;
    snprintf(s, (size_t)n + 1, fmt, v);
    return add_na(rd, s, s);
}

/* Python's repr(v) of a finite v that is not an integer: the fewest digits
 * that read back as v, as d.ddde-XX when the point is 4+ places left of the
 * first digit or 16+ right of it, else positional: "0.1", "1e-05", "1.5e+16". */
static bool add_repr(csv_reader *rd, double v) {
    char digits[24] = "", buf[64];
    int exp10 = 0, ndigits = 0;
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buf, sizeof buf, "%.*e", precision - 1, fabs(v));
        const char *p = buf;
        ndigits = 0;
        for (; *p && *p != 'e'; p++) /* digits only: the locale may print ',' */
            if (is_digit(*p)) digits[ndigits++] = *p;
        digits[ndigits] = '\0';
        exp10 = atoi(p + 1);
        snprintf(buf, sizeof buf, "%c.%se%d", digits[0], digits + 1, exp10);
        double back;
        if (nd__parse_number(buf, strlen(buf), &back) != ND__NOT_NUMBER && back == fabs(v)) break;
    }
    while (ndigits > 1 && digits[ndigits - 1] == '0') digits[--ndigits] = '\0';
    int point = exp10 + 1; /* |v| = 0.<digits> * 10^point */
    char *out = malloc((size_t)ndigits + 32), *o = out;
    if (!out) return false;
    if (v < 0) *o++ = '-';
    if (point <= -4 || point > 16) {
        *o++ = digits[0];
        if (ndigits > 1) o += sprintf(o, ".%s", digits + 1);
        sprintf(o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (point <= 0) {
        o += sprintf(o, "0.");
        for (int i = 0; i < -point; i++) *o++ = '0';
        strcpy(o, digits);
    } else { /* 0 < point < ndigits: v is not an integer */
        memcpy(o, digits, (size_t)point);
        sprintf(o + point, ".%s", digits + point);
    }
    return add_na(rd, out, out);
}

/* One na_values entry and the spellings and number pandas makes of it. */
static bool add_entry(csv_reader *rd, const char *s) {
    if (!add_na(rd, s, NULL)) return false;
    const char *b = s, *e = s + strlen(s);
    while (b < e && is_python_space((unsigned char)*b)) b++;
    while (e > b && is_python_space((unsigned char)e[-1])) e--;
    /* The text without the '_' Python allows between two digits ("1_000"). */
    char *t = malloc((size_t)(e - b) + 3);
    if (!t) return false;
    size_t n = 0;
    for (const char *p = b; p < e; p++) {
        if (*p != '_') {
            t[n++] = *p;
        } else if (p == b || p + 1 == e || !is_digit(p[-1]) || !is_digit(p[1])) {
            free(t);
            return true; /* neither float() nor int() reads it */
        }
    }
    t[n] = '\0';
    const char *q = t + (t[0] == '+' || t[0] == '-');
    bool negative = t[0] == '-';
    bool is_float = false, is_int = false;
    double v = 0;
    if (equals_nocase(q, "inf") || equals_nocase(q, "infinity")) {
        is_float = true;
        v = negative ? -INFINITY : INFINITY;
    } else if (equals_nocase(q, "nan")) {
        is_float = true;
        v = NAN;
    } else {
        const char *p = q;
        size_t int_digits = 0, frac_digits = 0;
        while (is_digit(*p)) p++, int_digits++;
        bool point = *p == '.';
        if (point)
            for (p++; is_digit(*p); p++) frac_digits++;
        bool valid = int_digits + frac_digits > 0;
        bool exponent = valid && (*p | 0x20) == 'e';
        if (exponent) {
            p += 1 + (p[1] == '+' || p[1] == '-');
            valid = is_digit(*p); /* "1e" is not a number */
            while (is_digit(*p)) p++;
        }
        is_float = valid && *p == '\0';
        is_int = is_float && !point && !exponent && int_digits <= PYTHON_MAX_INT_DIGITS;
        if (is_float) {
            /* nd's parser takes integers only within int64: as "<digits>.0" any length reads;
             * what it still refuses overflows a double, which Python reads as inf */
            if (!point && !exponent) strcat(t, ".0");
            if (nd__parse_number(t, strlen(t), &v) == ND__NOT_NUMBER)
                v = negative ? -INFINITY : INFINITY;
        }
    }
    bool ok = true;
    if (is_float && isfinite(v) && v == trunc(v))
        ok = add_printed(rd, "%.0f.0", v + 0.0) && add_printed(rd, "%.0f", v + 0.0); /* no "-0" */
    else if (is_float && isfinite(v))
        ok = add_repr(rd, v);
    if (ok && is_int) { /* str(int(t)): no '+', no leading zeros, "0" for "-0" */
        const char *d = q;
        while (*d == '0' && is_digit(d[1])) d++;
        size_t len = strspn(d, "0123456789");
        char *canonical = malloc(len + 2);
        ok = canonical != NULL;
        if (ok) {
            bool minus = negative && !(len == 1 && d[0] == '0');
            sprintf(canonical, "%s%.*s", minus ? "-" : "", (int)len, d);
            ok = add_na(rd, canonical, canonical);
        }
    }
    if (is_float && !isnan(v)) rd->na_num[rd->nna_num++] = v;
    free(t);
    return ok;
}

bool csv_na_init(csv_reader *rd, const nd_csv_opts *o) {
    int n = 0;
    if (o->keep_default_na)
        while (default_na[n]) n++;
    int extra = 0;
    if (o->na_values)
        while (o->na_values[extra]) extra++;
    size_t cap = (size_t)n + (size_t)extra * SPELLINGS_PER_ENTRY + 1;
    rd->na = malloc(cap * sizeof *rd->na);
    rd->na_len = malloc(cap * sizeof *rd->na_len);
    rd->na_owned = malloc(cap * sizeof *rd->na_owned);
    rd->na_num = malloc(((size_t)extra + 1) * sizeof *rd->na_num);
    if (!rd->na || !rd->na_len || !rd->na_owned || !rd->na_num) return false;
    for (int i = 0; i < n; i++) add_na(rd, default_na[i], NULL);
    for (int i = 0; i < extra; i++)
        if (!add_entry(rd, o->na_values[i])) return false;
    return true;
}

void csv_na_free(csv_reader *rd) {
    for (int i = 0; i < rd->nowned; i++) free(rd->na_owned[i]);
    free(rd->na_owned);
    free(rd->na);
    free(rd->na_len);
    free(rd->na_num);
}

bool csv_is_na_number(const csv_reader *rd, double v) {
    for (int i = 0; i < rd->nna_num; i++)
        if (v == rd->na_num[i]) return true;
    return false;
}
