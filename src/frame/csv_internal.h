/*
 * csv_internal.h — the CSV reader's pieces: the tokenizer (csv_tokenize.c),
 * the per-cell type inference (csv_infer.c) and the driver that splits the
 * input into chunks parsed in parallel (csv_read.c).
 *
 * How a large file is read: one pass finds chunk boundaries at record starts
 * and counts the records of each chunk (in parallel when the file has no
 * quote character, sequentially otherwise, since a quote can hide a newline);
 * then every chunk parses its records straight into the final column arrays at
 * its own row offset, inferring each column's type as it goes; a last step
 * agrees on each column's type across chunks and merges the per-chunk string
 * dictionaries.
 */
#ifndef ND_CSV_INTERNAL_H
#define ND_CSV_INTERNAL_H

#include "frame_internal.h"

/* One field of a record: text (quotes removed) and its length. */
typedef struct {
    const char *ptr;
    size_t len;
    size_t scratch_off; /* where the unquoted copy lives, for quoted fields */
    bool in_scratch;
} csv_field;

/* The fields of the record being parsed, and room for unquoted copies. */
typedef struct {
    csv_field *fields;
    int nfields, cap;
    char *scratch;
    size_t scratch_len, scratch_cap;
    bool out_of_memory;
} csv_record;

typedef struct {
    char delim, quote;
    int ncols;
    const char **na; /* the strings read as missing (csv_na.c) */
    size_t *na_len;
    int nna;
    char **na_owned; /* those made here: "-999.0" for "-999", ... */
    int nowned;
    double *na_num; /* numbers missing in a float column (pandas' na_fvalues) */
    int nna_num;
    bool empty_is_na;
    bool na_first[256]; /* first bytes of the non-empty NA strings: a quick "no" */
    bool na_numeric;    /* some NA string reads as a number: check NA first */
    int *forced;        /* per column: -1 or an nd_coltype */
    char **names;
    bool release_input; /* the input is a file mapping: drop pages once parsed */
} csv_reader;

/* How a column looks within one chunk so far. */
typedef enum { MODE_EMPTY, MODE_NUMBER, MODE_BOOL, MODE_STRING } csv_mode;

typedef struct {
    csv_mode mode;
    bool all_int; /* every number so far an integer */
    bool any_na;
    nd__dict dict;  /* MODE_STRING: this chunk's texts */
    int32_t *codes; /* this chunk's rows of the column's codes (into dict), when text */
} csv_chunk_col;

typedef struct {
    const char *begin, *end; /* whole records */
    int64_t first_line;      /* file line of begin, from 1 */
    int64_t row0, nrows;     /* where its rows go, how many */
    csv_chunk_col *cols;
    csv_record rec, rescan; /* rescan: for re-reading earlier rows as text */
    int64_t error_line;     /* 0: no error */
    char error[320];
} csv_chunk;

/* Skips blank lines (nothing but spaces and tabs), counting them. */
const char *csv_skip_blank(const csv_reader *rd, const char *p, const char *end, int64_t *lines);
/* Splits the record at p into rec's fields; returns the start of the next
 * line, or NULL for a quote that never closes (rec->out_of_memory on no memory). */
const char *csv_tokenize(const csv_reader *rd, const char *p, const char *end, csv_record *rec,
                         int64_t *lines);
/* Skips one record in a text without quote characters. */
const char *csv_skip_plain(const char *p, const char *end, int64_t *lines);
void csv_record_free(csv_record *rec);
/* For a file mapping: gives back the pages wholly inside [from, to) (they are
 * read again from the page cache if needed), so a file's bytes never all sit
 * in memory beside the columns made of them. */
void csv_release(const csv_reader *rd, const char *from, const char *to);
#define CSV_RELEASE_STEP ((size_t)4 << 20)
/* The NA strings and numbers of the options (pandas' defaults and na_values
 * expanded as pandas does); false on no memory. csv_na_free frees them. */
bool csv_na_init(csv_reader *rd, const nd_csv_opts *o);
void csv_na_free(csv_reader *rd);
bool csv_is_na(const csv_reader *rd, const char *s, size_t len);
/* v equals a number of na_values: missing in a float column. */
bool csv_is_na_number(const csv_reader *rd, double v);
bool csv_parse_bool(const char *s, size_t len, bool *value);

/* Parses the chunk's records into num (ncols arrays of the whole frame's rows). */
void csv_parse_chunk(const csv_reader *rd, csv_chunk *ch, double *const *num);
/* Builds column col from every chunk's view of it, taking num and codes (the
 * arrays the chunks wrote numbers and text codes into); NULL on no memory. */
nd__col *csv_finish_column(const csv_reader *rd, csv_chunk *chunks, int nchunks, int col,
                           double *num, int32_t *codes, int64_t nrows, int threads);

#endif /* ND_CSV_INTERNAL_H */
