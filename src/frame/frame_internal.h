/*
 * frame_internal.h — what the files of libnd_frame share: the column and frame
 * structs, the per-column string dictionary, the number parser.
 *
 * A column is immutable once built and reference-counted, so frame operations
 * share the columns they do not change (fillna copies only the numeric
 * columns it fills; iloc over every row copies nothing).
 */
#ifndef ND_FRAME_INTERNAL_H
#define ND_FRAME_INTERNAL_H

#include "nd_frame.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Strings interned once per column: code -> text, text -> code (a hash table). */
typedef struct {
    char **strs;
    uint32_t *lens;
    int32_t n, cap;
    int32_t *table; /* open addressing; -1 = empty slot */
    uint32_t mask;  /* table size - 1 (a power of two) */
} nd__dict;

/* Returns the code of s (adding it when new), or -1 when memory runs out. */
int32_t nd__dict_intern(nd__dict *d, const char *s, size_t len);
void nd__dict_free(nd__dict *d);

#define ND__BOOL_NA 255 /* a missing cell of a BOOL column */

typedef struct nd__col {
    atomic_int refs;
    nd_coltype type;
    bool is_int; /* NUMBER: every value an integer and none missing (pandas' int64) */
    int64_t n;
    double *num;            /* NUMBER: NaN when missing */
    uint8_t *flag;          /* BOOL: 0, 1, or ND__BOOL_NA; NULL for an indicator column: */
    struct nd__col *source; /* an indicator of `source->codes[r] == source_code` */
    int32_t source_code;    /* (get_dummies' columns cost no memory of their own) */
    int32_t *codes;         /* STRING: index into dict, -1 when missing */
    nd__dict dict;          /* STRING: the distinct texts (may hold some no row uses) */
} nd__col;

struct nd_frame {
    int ncols;
    int64_t nrows;
    char **names;
    nd__col **cols;
    char **row_labels; /* NULL: the default 0, 1, 2, ... index */
};

/* Large arrays (column storage) on transparent huge pages: a million-row
 * column then costs a few page faults instead of thousands. Free with nd__big_free(). */
void *nd__big_alloc(size_t nbytes);
void nd__big_free(void *p);

/* Columns: new ones hold one reference; frames take their own. */
nd__col *nd__col_new(nd_coltype type, int64_t n); /* storage uninitialised */
nd__col *nd__col_retain(nd__col *c);
void nd__col_release(nd__col *c);
bool nd__col_isna(const nd__col *c, int64_t row);
/* A BOOL cell: 0, 1 or ND__BOOL_NA. */
static inline uint8_t nd__col_flag(const nd__col *c, int64_t row) {
    return c->flag ? c->flag[row] : (uint8_t)(c->source->codes[row] == c->source_code);
}
/* A BOOL column whose cell r is 1 where source's code is `code` (-1: missing). */
nd__col *nd__col_indicator(nd__col *source, int32_t code);
double nd__col_number(const nd__col *c, int64_t row); /* NaN for missing or text */
/* A copy of rows [r0, r0 + n) in steps of step (a row subset). */
nd__col *nd__col_slice(const nd__col *c, int64_t r0, int64_t n, int64_t step);
/* A copy of the rows listed in idx. */
nd__col *nd__col_take(const nd__col *c, const int64_t *idx, int64_t n);

/* A frame with room for ncols columns (names and columns NULL, to be filled). */
nd_frame *nd__frame_alloc(int ncols, int64_t nrows);
/* Sets column i (taking a reference) and a copy of its name; false on no memory. */
bool nd__frame_set(nd_frame *f, int i, const char *name, nd__col *c);
/* Checks f and col for op's messages. */
bool nd__frame_check(const char *op, const nd_frame *f);
bool nd__frame_check_col(const char *op, const nd_frame *f, int col);
char *nd__strdup(const char *s);
/* Sets the error and returns NULL: `return nd__frame_fail("nd_frame_x: ...")`. */
nd_frame *nd__frame_fail_as(nd_error_code code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define nd__frame_fail(...) nd__frame_fail_as(ND_ERR_ARG, __VA_ARGS__)

/* The present values of a NUMBER column, sorted (malloc'd; *count of them). */
double *nd__sorted_values(const nd__col *c, int64_t *count);
/* NumPy's linear-interpolation quantile q in [0, 1] of n sorted values (NaN when n = 0). */
double nd__quantile(const double *sorted, int64_t n, double q);

/* Number parsing as pandas' C parser accepts numbers (see numparse.c). */
typedef enum { ND__NOT_NUMBER, ND__INT, ND__FLOAT } nd__numkind;
nd__numkind nd__parse_number(const char *s, size_t len, double *value);
/* Shortest text that reads back as exactly v ("%.17g" at most); buf >= 32 bytes. */
int nd__format_double(char *buf, size_t size, double v);

/* Threads to use for n bytes / rows of work when the caller asked for `want` (0: default). */
int nd__frame_threads(int64_t work, int64_t per_thread, int want);

#endif /* ND_FRAME_INTERNAL_H */
