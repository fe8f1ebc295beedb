/* json.c — see json.h. Numbers with 17 significant digits, so that the page
 * and the native driver print the very doubles nd computed. */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *text;
static size_t len, cap;
static bool failed;
static char error[1024];

void json_reset(void) {
    len = 0;
    failed = false;
    if (text) text[0] = '\0';
}

static void append(const char *s, size_t n) {
    if (failed) return;
    if (len + n + 1 > cap) {
        size_t want = cap ? cap : 4096;
        while (want < len + n + 1) want *= 2;
        char *grown = realloc(text, want);
        if (!grown) {
            failed = true;
            return;
        }
        text = grown, cap = want;
    }
    memcpy(text + len, s, n);
    len += n;
    text[len] = '\0';
}

void json_raw(const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        append(small, (size_t)n);
    } else {
        char *big = malloc((size_t)n + 1);
        if (!big) {
            failed = true;
            return;
        }
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        append(big, (size_t)n);
        free(big);
    }
}

void json_key(const char *key) {
    if (len > 0 && text[len - 1] != '{' && text[len - 1] != '[') append(",", 1);
    json_string(key);
    append(":", 1);
}

void json_number(double v) {
    if (!isfinite(v)) {
        json_raw("null");
        return;
    }
    json_raw("%.17g", v);
}

void json_string(const char *s) {
    append("\"", 1);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            append(esc, 2);
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            append(esc, 6);
        } else {
            append((const char *)&c, 1);
        }
    }
    append("\"", 1);
}

void json_numbers(const double *v, int n) {
    append("[", 1);
    for (int i = 0; i < n; i++) {
        if (i) append(",", 1);
        json_number(v[i]);
    }
    append("]", 1);
}

void json_tensor(const nd_tensor *t) {
    nd_scope_begin();
    nd_tensor *flat = nd_contiguous(nd_to(nd_detach((nd_tensor *)t), ND_F64));
    const double *v = flat ? nd_data(flat) : NULL;
    if (v)
        json_numbers(v, (int)nd_numel(flat));
    else
        json_raw("null");
    nd_scope_end();
}

const char *json_text(void) {
    return failed ? web_fail("out of memory writing the result") : text;
}

void *web_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error, sizeof error, fmt, ap);
    va_end(ap);
    return NULL;
}

void *web_fail_nd(const char *what) {
    const char *why = nd_last_error();
    return web_fail("%s: %s", what, why ? why : "failed");
}

const char *web_error(void) {
    return error;
}
