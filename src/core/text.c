/* nd__text: text that grows as it is written, for printing tensors and
 * frames, CSV and file headers. One allocation failure makes every later
 * write a no-op and sets out_of_memory, so a writer checks once at the end. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void nd__text_put(nd__text *s, const char *str, size_t n) {
    if (s->out_of_memory) return;
    if (s->length + n + 1 > s->capacity) {
        size_t capacity = s->capacity ? s->capacity : 256;
        while (s->length + n + 1 > capacity) capacity *= 2;
        char *grown = realloc(s->data, capacity);
        if (!grown) {
            s->out_of_memory = true;
            return;
        }
        s->data = grown;
        s->capacity = capacity;
    }
    memcpy(s->data + s->length, str, n);
    s->length += n;
    s->data[s->length] = '\0';
}

void nd__text_puts(nd__text *s, const char *str) {
    nd__text_put(s, str, strlen(str));
}

void nd__text_printf(nd__text *s, const char *fmt, ...) {
    char small[256]; /* most pieces fit: no second formatting */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        s->out_of_memory = true; /* vsnprintf fails only on an impossible format or no memory */
        return;
    }
    if ((size_t)n < sizeof small) {
        nd__text_put(s, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        s->out_of_memory = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    nd__text_put(s, big, (size_t)n);
    free(big);
}

void nd__text_pad(nd__text *s, char c, int64_t n) {
    char block[64];
    memset(block, c, sizeof block);
    for (; n > 0; n -= (int64_t)sizeof block)
        nd__text_put(s, block, (size_t)(n < (int64_t)sizeof block ? n : (int64_t)sizeof block));
}
