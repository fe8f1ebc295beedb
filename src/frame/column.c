/* Columns (typed, immutable, shared by reference count) and the string
 * dictionary that keeps a text column small: each distinct text is stored
 * once, and the rows hold 4-byte codes (what pandas calls a categorical). */
#include "frame_internal.h"

#include "nd_ext.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

char *nd__strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy) memcpy(copy, s, n);
    return copy;
}

/* ------------------------------------------------------------ dictionary */

static uint32_t hash_bytes(const char *s, size_t len) {
    uint32_t h = 2166136261u; /* FNV-1a: short keys, good enough spread */
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static bool dict_grow_table(nd__dict *d) {
    uint32_t size = d->mask ? (d->mask + 1) * 2 : 64;
    int32_t *table = malloc(size * sizeof *table);
    if (!table) return false;
    for (uint32_t i = 0; i < size; i++) table[i] = -1;
    for (int32_t code = 0; code < d->n; code++) {
        uint32_t slot = hash_bytes(d->strs[code], d->lens[code]) & (size - 1);
        while (table[slot] >= 0) slot = (slot + 1) & (size - 1);
        table[slot] = code;
    }
    free(d->table);
    d->table = table;
    d->mask = size - 1;
    return true;
}

int32_t nd__dict_intern(nd__dict *d, const char *s, size_t len) {
    if (len > UINT32_MAX || d->n == INT32_MAX) return -1;
    /* Keep the table at most half full so probes stay short. */
    if (!d->table || (uint32_t)d->n * 2 >= d->mask + 1)
        if (!dict_grow_table(d)) return -1;
    uint32_t slot = hash_bytes(s, len) & d->mask;
    for (int32_t code; (code = d->table[slot]) >= 0; slot = (slot + 1) & d->mask)
        if (d->lens[code] == len && memcmp(d->strs[code], s, len) == 0) return code;
    if (d->n == d->cap) {
        int32_t cap = d->cap ? d->cap * 2 : 16;
        char **strs = realloc(d->strs, (size_t)cap * sizeof *strs);
        if (!strs) return -1;
        d->strs = strs;
        uint32_t *lens = realloc(d->lens, (size_t)cap * sizeof *lens);
        if (!lens) return -1;
        d->lens = lens;
        d->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    d->strs[d->n] = copy;
    d->lens[d->n] = (uint32_t)len;
    d->table[slot] = d->n;
    return d->n++;
}

void nd__dict_free(nd__dict *d) {
    for (int32_t i = 0; i < d->n; i++) free(d->strs[i]);
    free(d->strs);
    free(d->lens);
    free(d->table);
    memset(d, 0, sizeof *d);
}

/* --------------------------------------------------------------- columns */

#define HUGE_PAGE ((size_t)2 << 20)

/* Big arrays are mapped on their own and unmapped when freed, so their memory
 * goes back to the system at once (malloc would keep freed blocks for reuse,
 * and a program reading many files would hold on to the largest ever read). A
 * header in front records how the array was made. */
#define BIG_HEADER 64

void *nd__big_alloc(size_t nbytes) {
    if (nbytes > SIZE_MAX - HUGE_PAGE) return NULL;
    size_t total = nbytes + BIG_HEADER;
    char *base;
    if (total < HUGE_PAGE) {
        if (!(base = malloc(total))) return NULL;
        *(size_t *)base = 0;
        return base + BIG_HEADER;
    }
    base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(base, total, MADV_HUGEPAGE);
#endif
    *(size_t *)base = total;
    return base + BIG_HEADER;
}

void nd__big_free(void *p) {
    if (!p) return;
    char *base = (char *)p - BIG_HEADER;
    size_t mapped = *(size_t *)base;
    if (mapped)
        munmap(base, mapped);
    else
        free(base);
}

nd__col *nd__col_new(nd_coltype type, int64_t n) {
    nd__col *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    atomic_init(&c->refs, 1);
    c->type = type;
    c->n = n;
    size_t rows = (size_t)(n > 0 ? n : 1);
    if (type == ND_COL_NUMBER) c->num = nd__big_alloc(rows * sizeof *c->num);
    if (type == ND_COL_BOOL) c->flag = nd__big_alloc(rows);
    if (type == ND_COL_STRING) c->codes = nd__big_alloc(rows * sizeof *c->codes);
    if (!c->num && !c->flag && !c->codes) {
        free(c);
        return NULL;
    }
    return c;
}

nd__col *nd__col_retain(nd__col *c) {
    if (c) atomic_fetch_add(&c->refs, 1);
    return c;
}

void nd__col_release(nd__col *c) {
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1) return;
    nd__big_free(c->num);
    nd__big_free(c->flag);
    nd__col_release(c->source);
    nd__big_free(c->codes);
    nd__dict_free(&c->dict);
    free(c);
}

bool nd__col_isna(const nd__col *c, int64_t row) {
    switch (c->type) {
    case ND_COL_NUMBER:
        return isnan(c->num[row]);
    case ND_COL_BOOL:
        return nd__col_flag(c, row) == ND__BOOL_NA;
    case ND_COL_STRING:
        return c->codes[row] < 0;
    }
    return true;
}

double nd__col_number(const nd__col *c, int64_t row) {
    if (c->type == ND_COL_NUMBER) return c->num[row];
    if (c->type == ND_COL_BOOL) {
        uint8_t flag = nd__col_flag(c, row);
        return flag == ND__BOOL_NA ? NAN : flag;
    }
    return NAN;
}

nd__col *nd__col_indicator(nd__col *source, int32_t code) {
    nd__col *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    atomic_init(&c->refs, 1);
    c->type = ND_COL_BOOL;
    c->n = source->n;
    c->source = nd__col_retain(source);
    c->source_code = code;
    return c;
}

/* A new column of c's type for n rows, sharing nothing; the dictionary copied. */
static nd__col *col_like(const nd__col *c, int64_t n) {
    nd__col *out = nd__col_new(c->type, n);
    if (!out || c->type != ND_COL_STRING) return out;
    for (int32_t i = 0; i < c->dict.n; i++)
        if (nd__dict_intern(&out->dict, c->dict.strs[i], c->dict.lens[i]) != i) {
            nd__col_release(out);
            return NULL;
        }
    return out;
}

/* After a row subset: an int column stays int, a column left without missing
 * values does not become int again (pandas keeps float64). */
nd__col *nd__col_slice(const nd__col *c, int64_t r0, int64_t n, int64_t step) {
    nd__col *out = col_like(c, n);
    if (!out) return NULL;
    out->is_int = c->is_int;
    for (int64_t i = 0; i < n; i++) {
        int64_t r = r0 + i * step;
        if (c->num) out->num[i] = c->num[r];
        if (out->flag) out->flag[i] = nd__col_flag(c, r);
        if (c->codes) out->codes[i] = c->codes[r];
    }
    return out;
}

nd__col *nd__col_take(const nd__col *c, const int64_t *idx, int64_t n) {
    nd__col *out = col_like(c, n);
    if (!out) return NULL;
    out->is_int = c->is_int;
    for (int64_t i = 0; i < n; i++) {
        if (c->num) out->num[i] = c->num[idx[i]];
        if (out->flag) out->flag[i] = nd__col_flag(c, idx[i]);
        if (c->codes) out->codes[i] = c->codes[idx[i]];
    }
    return out;
}
