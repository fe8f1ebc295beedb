/* Numbers in CSV cells, accepted as pandas' C parser accepts them, converted
 * with correct rounding.
 *
 * Accepted: spaces, an optional sign, digits with an optional '.', an optional
 * exponent (e/E, sign, digits), spaces: "1", " -0 ", "1e3", ".5", "1.", and
 * inf/infinity in any case with a sign. Not numbers: "1_000", "0x10", "1.5e",
 * a value that overflows (1e400; pandas reads it as text too; 1e-400 is 0) and
 * integers beyond the int64 range. Integers from 2^63 on are floats (pandas'
 * uint64).
 *
 * The fast path is Clinger's: a mantissa of at most 15 significant digits is
 * exact in a double, and so is 10^k for k <= 22, so m * 10^k or m / 10^k is one
 * correctly rounded operation. Anything else goes to strtod (in the C locale,
 * whatever the program's locale is), which rounds correctly too.
 */
#include "frame_internal.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double exact_powers_of_ten[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void) {
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static bool is_space(char c) {
    return c == ' ' || c == '\t';
}

static bool equals_nocase(const char *s, size_t len, const char *word) {
    size_t n = strlen(word);
    if (len != n) return false;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != word[i]) return false;
    return true;
}

/* The slow path: strtod on a NUL-terminated copy of the number's text. */
static nd__numkind parse_with_strtod(const char *s, size_t len, double *value) {
    char small[128];
    char *buf = len < sizeof small ? small : malloc(len + 1);
    if (!buf) return ND__NOT_NUMBER;
    memcpy(buf, s, len);
    buf[len] = '\0';
    pthread_once(&c_locale_once, make_c_locale);
    /* uselocale is per thread: the C locale's '.' whatever setlocale says. */
    locale_t previous = c_locale ? uselocale(c_locale) : (locale_t)0;
    errno = 0;
    double v = strtod(buf, NULL);
    int error = errno;
    if (previous) uselocale(previous);
    errno = error;
    bool out_of_range = errno == ERANGE && isinf(v);
    if (buf != small) free(buf);
    if (out_of_range) return ND__NOT_NUMBER;
    *value = v;
    return ND__FLOAT;
}

nd__numkind nd__parse_number(const char *s, size_t len, double *value) {
    const char *p = s, *end = s + len;
    while (p < end && is_space(*p)) p++;
    while (end > p && is_space(end[-1])) end--;
    if (p == end) return ND__NOT_NUMBER;
    const char *start = p;
    bool negative = false;
    if (*p == '+' || *p == '-') negative = *p++ == '-';
    if (p < end && ((*p | 0x20) == 'i')) {
        if (!equals_nocase(p, (size_t)(end - p), "inf") &&
            !equals_nocase(p, (size_t)(end - p), "infinity"))
            return ND__NOT_NUMBER;
        *value = negative ? -INFINITY : INFINITY;
        return ND__FLOAT;
    }
    uint64_t mantissa = 0;
    int significant = 0; /* digits in mantissa, leading zeros not counted */
    int dropped = 0;     /* integer digits beyond 19 that did not fit */
    int fraction_digits = 0;
    bool any_digit = false;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        any_digit = true;
        if (significant < 19) {
            mantissa = mantissa * 10 + (uint64_t)(*p - '0');
            if (mantissa) significant++;
        } else {
            dropped++;
        }
    }
    /* Integers: exact within int64 (and uint64 for positives, as pandas). */
    if (p == end) {
        if (!any_digit || dropped) {
            if (!any_digit) return ND__NOT_NUMBER;
            /* 20+ digits: the last chance is exactly uint64's range, which
             * still overflows 19 digits: treat as text like pandas. */
            return ND__NOT_NUMBER;
        }
        if (negative && mantissa > (uint64_t)INT64_MAX + 1) return ND__NOT_NUMBER;
        *value = negative ? -(double)mantissa : (double)mantissa;
        if (negative && mantissa == 0) *value = -0.0; /* kept for float columns */
        /* An integer column's values must convert back to int64: those that
         * round to 2^63 or more are floats here (pandas makes them uint64). */
        return *value >= 9223372036854775808.0 ? ND__FLOAT : ND__INT;
    }
    if (*p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
            any_digit = true;
            if (significant < 19) {
                mantissa = mantissa * 10 + (uint64_t)(*p - '0');
                if (mantissa) significant++;
                fraction_digits++;
            }
        }
    }
    if (!any_digit) return ND__NOT_NUMBER;
    int exponent = 0;
    if (p < end && (*p | 0x20) == 'e') {
        p++;
        bool exp_negative = false;
        if (p < end && (*p == '+' || *p == '-')) exp_negative = *p++ == '-';
        if (p == end || *p < '0' || *p > '9') return ND__NOT_NUMBER;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (exponent < 100000) exponent = exponent * 10 + (*p - '0');
        if (exp_negative) exponent = -exponent;
    }
    if (p != end) return ND__NOT_NUMBER;
    int scale = exponent - fraction_digits + dropped;
    if (significant <= 15 && scale >= -22 && scale <= 22) {
        double m = (double)mantissa;
        double v = scale >= 0 ? m * exact_powers_of_ten[scale] : m / exact_powers_of_ten[-scale];
        *value = negative ? -v : v;
        return ND__FLOAT;
    }
    return parse_with_strtod(start, (size_t)(end - start), value);
}

int nd__format_double(char *buf, size_t size, double v) {
    if (isnan(v)) return snprintf(buf, size, "nan");
    if (isinf(v)) return snprintf(buf, size, v > 0 ? "inf" : "-inf");
    int n = 0;
    for (int digits = 15; digits <= 17; digits++) {
        n = snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    return n;
}
