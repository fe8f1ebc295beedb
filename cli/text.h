/* Text for a person at a terminal: display widths (Chinese characters take two
 * columns, combining marks none), nd's errors without the library's function
 * names, and the nearest of a set of names for "did you mean". */
#ifndef ND_CLI_TEXT_H
#define ND_CLI_TEXT_H

#include <stdio.h>

/* Columns the UTF-8 text takes on a terminal (wcwidth per character). */
int text_width(const char *s);
/* Prints s, then spaces up to `width` columns (at least one). */
void text_pad(FILE *f, const char *s, int width);
/* s followed by spaces up to `width` columns, into buf (for a printf "%s"). */
const char *text_padded(char *buf, size_t size, const char *s, int width);
/* An nd error for a CLI user: "nd_parse: expected ..." becomes "expected ...". */
const char *text_user_error(const char *message);
/* The name in names[0..n) nearest to word (a prefix, or at most a third of its
 * letters changed), or NULL when none is near. */
const char *text_nearest(const char *word, int n, const char *const *names);

#endif
