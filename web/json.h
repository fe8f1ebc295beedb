/* json.h — the growing JSON text the web functions return (one buffer, reused
 * by every call: the text is valid until the next call). */
#ifndef ND_WEB_JSON_H
#define ND_WEB_JSON_H

#include <nd.h>
#include <stdbool.h>

void json_reset(void);
/* Appends raw text (printf-like). */
void json_raw(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "key": — and a comma before it unless it opens the object. */
void json_key(const char *key);
void json_number(double v); /* NaN and ±inf as null */
void json_string(const char *s);
void json_numbers(const double *v, int n);
/* The elements of t (any dtype, any shape), flat, as numbers. */
void json_tensor(const nd_tensor *t);
/* The text, or NULL after an allocation failure. */
const char *json_text(void);

/* The web functions' error: their own message, or nd's. web_fail sets it
 * and returns NULL, for `return web_fail(...)`. */
void *web_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *web_fail_nd(const char *what);
const char *web_error(void);

#endif
