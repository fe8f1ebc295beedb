/* wcwidth is X/Open */
#define _XOPEN_SOURCE 700

#include "text.h"

#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* Decodes one UTF-8 character at s into *c; returns its length in bytes (1 for
 * a byte that starts no valid character, which then counts as one column). */
static int decode(const unsigned char *s, uint32_t *c) {
    int n = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    if (n <= 1) {
        *c = n ? s[0] : '?';
        return 1;
    }
    uint32_t v = s[0] & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *c = '?';
            return 1;
        }
        v = v << 6 | (s[i] & 0x3f);
    }
    *c = v;
    return n;
}

/* Without a UTF-8 locale wcwidth knows nothing: the common wide and zero-width
 * ranges, enough for the labs' Chinese and math. */
static int fallback_width(uint32_t c) {
    if ((c >= 0x300 && c <= 0x36f) || (c >= 0x200b && c <= 0x200f) || c == 0xfe0f) return 0;
    if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf && c != 0x303f) ||
        (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
        (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
        (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x20000 && c <= 0x3fffd))
        return 2;
    return 1;
}

static int char_width(uint32_t c) {
    static int utf8 = -1; /* whether wcwidth can be asked: a UTF-8 LC_CTYPE */
    if (utf8 < 0) {
        /* only character classes: numbers keep the C locale's decimal point */
        utf8 = setlocale(LC_CTYPE, "C.UTF-8") || setlocale(LC_CTYPE, "en_US.UTF-8");
    }
    int w = utf8 ? wcwidth((wchar_t)c) : -1;
    return w >= 0 ? w : fallback_width(c);
}

int text_width(const char *s) {
    int width = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t c;
        p += decode(p, &c);
        width += c < 0x20 ? 0 : char_width(c);
    }
    return width;
}

void text_pad(FILE *f, const char *s, int width) {
    int w = text_width(s);
    fprintf(f, "%s%*s", s, w < width ? width - w : 1, "");
}

const char *text_padded(char *buf, size_t size, const char *s, int width) {
    int w = text_width(s);
    snprintf(buf, size, "%s%*s", s, w < width ? width - w : 0, "");
    return buf;
}

const char *text_user_error(const char *message) {
    if (!message) return "unknown error";
    /* the library's messages start with the function that failed: "nd_xxx: " */
    if (strncmp(message, "nd_", 3) == 0) {
        const char *colon = strstr(message, ": ");
        size_t span = strspn(message, "abcdefghijklmnopqrstuvwxyz_0123456789");
        if (colon && (size_t)(colon - message) == span) return colon + 2;
    }
    return message;
}

/* Letters to change, insert or delete to turn a into b (Levenshtein). */
static int distance(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    if (na > 63 || nb > 63) return 1 << 20;
    int row[64];
    for (size_t j = 0; j <= nb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int diagonal = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int above = row[j];
            int best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best) best = above + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[nb];
}

const char *text_nearest(const char *word, int n, const char *const *names) {
    size_t len = strlen(word);
    if (len == 0) return NULL;
    for (int i = 0; i < n; i++) /* "relu" for "relu-synthesis" */
        if (!strncmp(names[i], word, len)) return names[i];
    const char *best = NULL;
    int best_distance = (int)len / 3 + 1;
    for (int i = 0; i < n; i++) {
        int d = distance(word, names[i]);
        if (d < best_distance) {
            best = names[i];
            best_distance = d;
        }
    }
    return best;
}
