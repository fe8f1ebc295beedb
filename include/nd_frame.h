/*
 * nd_frame.h — data frames: reading CSV files and preparing them for tensors,
 * the way pandas does (read_csv, iloc, fillna, get_dummies, to_numpy).
 *
 * Link with `pkg-config --cflags --libs nd_frame`.
 *
 * A frame is an immutable table of named, typed columns. Every operation
 * returns a NEW frame (columns that did not change are shared, not copied);
 * free each frame you get with nd_frame_free(). Frames are not tensors: they do
 * not belong to nd's scopes. nd_frame_to_tensor() returns a tensor that does
 * (it belongs to the innermost scope, like every tensor).
 *
 * Column types (what pandas calls dtypes):
 *  - ND_COL_NUMBER: double values, NaN where missing. When every cell is an
 *    integer and none is missing the column is "int64" in pandas' words
 *    (nd_frame_dtype_name); values are held as doubles, so integers beyond 2^53
 *    lose precision (pandas keeps them exact); integers from 2^63 to 2^64 make
 *    a float64 column (pandas: uint64).
 *  - ND_COL_BOOL: True/False (pandas' bool). Decision: a bool column WITH
 *    missing values stays ND_COL_BOOL here, with those cells missing; pandas
 *    makes it an "object" column holding True, False and NaN — the same values,
 *    and nd_frame_dtype_name() says "object" for it, as pandas does.
 *  - ND_COL_STRING: text (pandas' object), interned per column; missing cells
 *    have no string (NULL).
 * A column with nothing but missing values (or no rows) is a NUMBER column
 * (float64; pandas calls the columns of a header-only file "object").
 *
 * Errors are values, as everywhere in nd: NULL / -1 / NAN, and nd_last_error()
 * says why — for CSV input with the line (and column) number, counting file
 * lines from 1 with the header as line 1.
 */
#ifndef ND_FRAME_H
#define ND_FRAME_H

#include "nd.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nd_frame nd_frame;

typedef enum { ND_COL_NUMBER, ND_COL_STRING, ND_COL_BOOL } nd_coltype;

/* A column whose type is forced instead of inferred (pandas' dtype={...}). */
typedef struct {
    const char *name; /* the column's name after renaming ("a.1", "Unnamed: 2", "0") */
    nd_coltype type;  /* NUMBER: a cell that is not a number (or missing) is an error;
                         STRING: numbers stay text; BOOL: only True/False/missing */
} nd_csv_coltype;

typedef struct {
    char delimiter; /* ',' by default */
    char quote;     /* '"' by default; 0 turns quoting off */
    bool header;    /* the first non-blank record holds the names; else "0", "1", ... */
    /* Extra strings read as missing: a NULL-terminated list, added to pandas 2's
     * default list ("", "NA", "NaN", "null", "None", "N/A", "#N/A", "-nan", ...) unless
     * keep_default_na is false. A field is missing when its whole text (quotes
     * removed, spaces kept) equals one of them or a spelling pandas 1.5 adds for
     * a number ("-999" adds "-999.0", "-999.0" adds "-999", "0.10" adds "0.1",
     * "007" adds "7"); in a column of floats, also when its number equals one
     * ("-999.00", "-9.99e2"; a column of integers keeps "-0999"). */
    const char *const *na_values;
    bool keep_default_na;
    const nd_csv_coltype *types; /* ntypes forced column types (optional) */
    int ntypes;
    /* Threads for parsing a large input (0: nd_num_threads()). */
    int num_threads;
} nd_csv_opts;

#define ND_CSV_DEFAULTS                                                                            \
    ((nd_csv_opts){.delimiter = ',',                                                               \
                   .quote = '"',                                                                   \
                   .header = true,                                                                 \
                   .na_values = NULL,                                                              \
                   .keep_default_na = true,                                                        \
                   .types = NULL,                                                                  \
                   .ntypes = 0,                                                                    \
                   .num_threads = 0})

/* ----------------------------------------------------------------- reading
 *
 * What is read as pandas.read_csv reads it: RFC 4180 quoting (delimiters,
 * doubled quotes and newlines inside quotes), LF, CRLF or CR line ends, a UTF-8
 * byte-order mark, a missing final newline; blank lines (nothing or only spaces
 * and tabs) are skipped. Names: duplicates become "a", "a.1", ...; empty names
 * "Unnamed: N" (N the column's position). Types are inferred per column as
 * pandas does: numbers (1, -0, 1e3, .5, inf, -Infinity; spaces around a number
 * are allowed), True/TRUE/true and False/FALSE/false as booleans, text
 * otherwise (a column mixing numbers and text is text, numbers included).
 * A number that overflows (1e400) is text, as in pandas. Numbers are correctly
 * rounded (pandas' default parser can be one unit in the last place off; its
 * float_precision="round_trip" gives nd's values).
 *
 * Rows: a row with fewer fields than the header is padded with missing values
 * (as pandas); a row with MORE fields is an error ("line 5: expected 3 fields,
 * saw 4"), as pandas' default. An unterminated quote, an empty input, invalid
 * UTF-8 in the header, and a cell that does not fit a forced type are errors.
 */
/* Reads a CSV file into a new frame (NULL opts: defaults). */
ND_API nd_frame *nd_read_csv(const char *path, const nd_csv_opts *opts);
/* nd_read_csv from text in memory (len bytes; NULL opts: defaults). */
ND_API nd_frame *nd_parse_csv(const char *text, size_t len, const nd_csv_opts *opts);
/* Frees a frame (NULL is fine); frames that share its columns keep them. */
ND_API void nd_frame_free(nd_frame *f);

/* ------------------------------------------------------------- inspection */

/* The number of rows (-1 on error). */
ND_API int64_t nd_frame_rows(const nd_frame *f);
/* The number of columns (-1 on error). */
ND_API int nd_frame_cols(const nd_frame *f);
/* The name of column col [lent: valid while f lives]. */
ND_API const char *nd_frame_name(const nd_frame *f, int col);
/* The position of the column called name, or -1 (with an error) when none is. */
ND_API int nd_frame_col(const nd_frame *f, const char *name);
/* The type of column col. */
ND_API nd_coltype nd_frame_type(const nd_frame *f, int col);
/* pandas' dtype: "int64", "float64", "bool" or "object"; NULL on error. */
ND_API const char *nd_frame_dtype_name(const nd_frame *f, int col);
/* True when the cell is missing. */
ND_API bool nd_frame_isna(const nd_frame *f, int64_t row, int col);
/* The value of a NUMBER cell (NaN when missing), 1 or 0 for a BOOL cell; NAN
 * with an error for a STRING column. */
ND_API double nd_frame_number(const nd_frame *f, int64_t row, int col);
/* The text of a STRING cell; NULL when missing (no error) or when the column is
 * not a STRING column (an error). Valid while the frame lives. */
ND_API const char *nd_frame_string(const nd_frame *f, int64_t row, int col);
/* Missing cells in a column (pandas' isna().sum()); -1 on error. */
ND_API int64_t nd_frame_na_count(const nd_frame *f, int col);
/* The row label of a row: NULL for the default 0, 1, 2, ... index (describe()
 * gives "count", "mean", ...). */
ND_API const char *nd_frame_row_label(const nd_frame *f, int64_t row);

/* -------------------------------------------------------------- selection */

/* f.iloc[r0:r1, c0:c1] with Python slice bounds (negatives from the end, out of
 * range clipped, ND_END for an omitted bound). */
ND_API nd_frame *nd_frame_iloc(const nd_frame *f, int64_t r0, int64_t r1, int64_t c0, int64_t c1);
/* The named columns, in the order given (f[[names...]]). */
ND_API nd_frame *nd_frame_select(const nd_frame *f, int n, const char *const *names);
/* Every column but the named one (f.drop(columns=col)). */
ND_API nd_frame *nd_frame_drop(const nd_frame *f, const char *col);

/* ------------------------------------------------------------ missing data */

/* Rows without any missing cell (f.dropna()). */
ND_API nd_frame *nd_frame_dropna(const nd_frame *f);
/* Missing cells of NUMBER columns get the column's mean of present values
 * (f.fillna(f.mean(numeric_only=True))); other columns are unchanged. */
ND_API nd_frame *nd_frame_fillna_mean(const nd_frame *f);
/* The same with the column's median. */
ND_API nd_frame *nd_frame_fillna_median(const nd_frame *f);
/* Missing cells of NUMBER columns get value (STRING and BOOL columns unchanged). */
ND_API nd_frame *nd_frame_fillna_value(const nd_frame *f, double value);

/* ------------------------------------------------------------- conversion */

/* pd.get_dummies(f, dummy_na=...): every STRING column is replaced by one BOOL
 * column per distinct value, named "<column>_<value>", values sorted, plus
 * "<column>_nan" when dummy_na (always, as pandas). The other columns keep
 * their order and the indicator columns follow them, as pandas orders them.
 * BOOL columns are left as they are, even with missing values (pandas would
 * encode such an "object" column). The indicators are bool columns, as in
 * pandas 2 (pandas 1.5 makes uint8 ones); nd_frame_to_tensor turns them into 1/0. */
ND_API nd_frame *nd_frame_get_dummies(const nd_frame *f, bool dummy_na);
/* A (rows, cols) ND_F32 or ND_F64 tensor (f.to_numpy()): BOOL cells give 1/0,
 * missing cells NaN; a STRING column is an error naming it. [scope] */
ND_API nd_tensor *nd_frame_to_tensor(const nd_frame *f, nd_dtype dtype);
/* One column as a (rows,) tensor (f.iloc[:, col].to_numpy()). [scope] */
ND_API nd_tensor *nd_frame_column_tensor(const nd_frame *f, int col, nd_dtype dtype);

/* ------------------------------------------------------------- statistics */

/* f.describe(): count, mean, std, min, 25%, 50%, 75%, max (quantiles linearly
 * interpolated) of each NUMBER column, as a frame with those row labels. */
ND_API nd_frame *nd_frame_describe(const nd_frame *f);

/* ----------------------------------------------------------------- output */

/* pandas' repr: names over right-aligned columns, the index on the left,
 * missing values as NaN; more than 60 rows show the first and last 5 and
 * "[N rows x M columns]". malloc'd; the caller frees it. */
ND_API char *nd_frame_format(const nd_frame *f);
/* Prints nd_frame_format's text on stdout (0 or -1). */
ND_API int nd_frame_print(const nd_frame *f);
/* f.to_csv(path, index=False): the header, ',' between fields, quotes where
 * needed (a field holding ',', '"' or a line end), numbers in the shortest
 * form that reads back exactly, empty fields for missing values. nd_read_csv
 * reads the file back to the same frame — except text that itself reads as a
 * number, a bool or a missing value ("12", "True", "NA"), as with pandas. */
ND_API int nd_frame_write_csv(const nd_frame *f, const char *path);
/* The same text, malloc'd (the caller frees it); *len optional. */
ND_API char *nd_frame_to_csv(const nd_frame *f, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* ND_FRAME_H */
