/* Reading CSV: the tricky-files corpus against pandas' reading of each
 * (tests/reference/frame.py), parallel chunks against one thread, and errors. */
#include "support.h"

#include <nd_frame.h>
#include <stdlib.h>
#include <unistd.h>

static void put_escaped(FILE *out, const char *s) {
    for (; *s; s++) switch (*s) {
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            fputc(*s, out);
        }
}

/* The same text frame.py's dump() writes from pandas: names, dtypes, values. */
static char *dump_frame(const nd_frame *f) {
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    fprintf(out, "%d %lld\n", nd_frame_cols(f), (long long)nd_frame_rows(f));
    for (int c = 0; c < nd_frame_cols(f); c++) {
        put_escaped(out, nd_frame_name(f, c));
        fprintf(out, "\t%s\n", nd_frame_dtype_name(f, c));
        for (int64_t r = 0; r < nd_frame_rows(f); r++) {
            if (nd_frame_isna(f, r, c))
                fputs("<NA>", out);
            else if (nd_frame_type(f, c) == ND_COL_STRING)
                put_escaped(out, nd_frame_string(f, r, c));
            else if (nd_frame_type(f, c) == ND_COL_BOOL)
                fputs(nd_frame_number(f, r, c) ? "True" : "False", out);
            else if (strcmp(nd_frame_dtype_name(f, c), "int64") == 0)
                fprintf(out, "%lld", (long long)nd_frame_number(f, r, c));
            else
                fprintf(out, "%.17g", nd_frame_number(f, r, c));
            fputc('\n', out);
        }
    }
    fclose(out);
    return text;
}

static void check_against_pandas(const char *name) {
    char path[512], expected_name[512];
    snprintf(path, sizeof path, "%s/csv/%s.csv", ND_GOLDEN_DIR, name);
    snprintf(expected_name, sizeof expected_name, "frame_%s.txt", name);
    nd_frame *f = nd_read_csv(path, NULL);
    cr_assert(f, "%s: %s", name, nd_last_error());
    char *got = dump_frame(f);
    char *want = read_file(golden_path(expected_name), NULL);
    cr_assert_str_eq(got, want, "%s: nd read\n%s\npandas read\n%s", name, got, want);
    /* The same bytes from memory give the same frame. */
    size_t len;
    char *text = read_file(path, &len);
    nd_frame *g = nd_parse_csv(text, len, NULL);
    char *again = dump_frame(g);
    cr_assert_str_eq(again, want, "%s from memory", name);
    free(again);
    free(text);
    free(got);
    free(want);
    nd_frame_free(f);
    nd_frame_free(g);
}

#define CORPUS_TEST(name)                                                                          \
    ND_TEST(frame_corpus, name) {                                                                  \
        check_against_pandas(#name);                                                               \
    }
CORPUS_TEST(quoting)
CORPUS_TEST(crlf)
CORPUS_TEST(cr_only)
CORPUS_TEST(bom)
CORPUS_TEST(no_final_newline)
CORPUS_TEST(blank_lines)
CORPUS_TEST(empty_fields)
CORPUS_TEST(numbers)
CORPUS_TEST(precision)
CORPUS_TEST(na_values)
CORPUS_TEST(all_na)
CORPUS_TEST(bools)
CORPUS_TEST(dup_names)
CORPUS_TEST(leading_spaces)
CORPUS_TEST(mixed)
CORPUS_TEST(short_rows)
CORPUS_TEST(unicode)
CORPUS_TEST(quoted_numbers)
CORPUS_TEST(quote_after)
CORPUS_TEST(overflow)
CORPUS_TEST(tabs)
CORPUS_TEST(house_tiny)
CORPUS_TEST(unnamed_taken)
CORPUS_TEST(dup_suffix_taken)

/* Files read with na_values, as frame.py's NA_FILES reads them with pandas. */
static void check_na_file(const char *name, const char *const *na_values, bool keep_default_na) {
    char path[512], expected_name[512];
    snprintf(path, sizeof path, "%s/csv/%s.csv", ND_GOLDEN_DIR, name);
    snprintf(expected_name, sizeof expected_name, "frame_%s.txt", name);
    nd_csv_opts o = ND_CSV_DEFAULTS;
    o.na_values = na_values;
    o.keep_default_na = keep_default_na;
    nd_frame *f = nd_read_csv(path, &o);
    cr_assert(f, "%s: %s", name, nd_last_error());
    char *got = dump_frame(f);
    char *want = read_file(golden_path(expected_name), NULL);
    cr_assert_str_eq(got, want, "%s: nd read\n%s\npandas read\n%s", name, got, want);
    free(got);
    free(want);
    nd_frame_free(f);
}

ND_TEST(frame_corpus, na_numbers) {
    check_na_file("na_numbers", (const char *const[]){"-999", NULL}, true);
}

ND_TEST(frame_corpus, na_spellings) {
    check_na_file("na_spellings", (const char *const[]){"0.10", "007", "1_000", "inf", "-0", NULL},
                  false);
}

ND_TEST(frame_csv, na_values_match_as_pandas_expands_them) {
    /* "-999.0" given: "-999" is missing in a column of integers (pandas adds
     * the integer's spelling); "1e-5" given: repr 1e-05 is missing as text. */
    nd_csv_opts o = ND_CSV_DEFAULTS;
    o.na_values = (const char *const[]){"-999.0", "1e-5", "abc", NULL};
    const char text[] = "i,s,f\n1,1e-05,1.5\n-999,x,-999\n2,0.00001,1e-5\n";
    nd_frame *f = nd_parse_csv(text, strlen(text), &o);
    cr_assert(f, "%s", nd_last_error());
    cr_assert(nd_frame_isna(f, 1, 0));
    cr_assert_str_eq(nd_frame_dtype_name(f, 0), "float64");
    cr_assert(nd_frame_isna(f, 0, 1));
    cr_assert_str_eq(nd_frame_string(f, 2, 1), "0.00001"); /* text: only spellings match */
    cr_assert(nd_frame_isna(f, 1, 2) && nd_frame_isna(f, 2, 2));
    cr_assert_eq(nd_frame_number(f, 0, 2), 1.5);
    nd_frame_free(f);
}

ND_TEST(frame_csv, options) {
    const char text[] = "x;y;z\n1;-;a\n2;3;b\n";
    nd_csv_opts o = ND_CSV_DEFAULTS;
    o.delimiter = ';';
    o.na_values = (const char *const[]){"-", NULL};
    o.types = (const nd_csv_coltype[]){{"x", ND_COL_STRING}};
    o.ntypes = 1;
    nd_frame *f = nd_parse_csv(text, strlen(text), &o);
    cr_assert(f, "%s", nd_last_error());
    cr_assert_eq(nd_frame_cols(f), 3);
    cr_assert_eq(nd_frame_type(f, 0), ND_COL_STRING);
    cr_assert_str_eq(nd_frame_string(f, 1, 0), "2");
    cr_assert(nd_frame_isna(f, 0, 1));
    cr_assert_eq(nd_frame_number(f, 1, 1), 3);
    cr_assert_str_eq(nd_frame_dtype_name(f, 1), "float64");
    cr_assert_eq(nd_frame_na_count(f, 1), 1);
    nd_frame_free(f);

    /* Without a header: names "0", "1"; without the default NA list, "NA" is text. */
    o = ND_CSV_DEFAULTS;
    o.header = false;
    o.keep_default_na = false;
    f = nd_parse_csv("NA,1\nb,\n", 8, &o);
    cr_assert(f, "%s", nd_last_error());
    cr_assert_str_eq(nd_frame_name(f, 0), "0");
    cr_assert_str_eq(nd_frame_name(f, 1), "1");
    cr_assert_eq(nd_frame_rows(f), 2);
    cr_assert_str_eq(nd_frame_string(f, 0, 0), "NA");
    cr_assert_str_eq(nd_frame_dtype_name(f, 1), "object"); /* "" is text without the NA list */
    nd_frame_free(f);

    /* Integers near and beyond int64's range: a float column (pandas: uint64). */
    const char *big = "x,y\n9223372036854775807,-9223372036854775808\n9999999999999999990,1\n";
    f = nd_parse_csv(big, strlen(big), NULL);
    cr_assert(f, "%s", nd_last_error());
    cr_assert_str_eq(nd_frame_dtype_name(f, 0), "float64");
    cr_assert_str_eq(nd_frame_dtype_name(f, 1), "int64");
    cr_assert_eq(nd_frame_number(f, 0, 1), -9223372036854775807.0 - 1);
    char *shown = nd_frame_format(f), *written = nd_frame_to_csv(f, NULL);
    cr_assert(shown && written);
    cr_assert(strstr(written, "-9223372036854775808\n"), "%s", written);
    free(shown);
    free(written);
    nd_frame_free(f);

    /* Header only: no rows. */
    f = nd_parse_csv("a,b\n", 4, NULL);
    cr_assert(f);
    cr_assert_eq(nd_frame_rows(f), 0);
    cr_assert_eq(nd_frame_cols(f), 2);
    nd_frame_free(f);
}

ND_TEST(frame_csv, forced_number_type) {
    nd_csv_opts o = ND_CSV_DEFAULTS;
    o.types = (const nd_csv_coltype[]){{"b", ND_COL_NUMBER}};
    o.ntypes = 1;
    const char ok[] = "a,b\nx,1\ny,NA\n";
    nd_frame *f = nd_parse_csv(ok, strlen(ok), &o);
    cr_assert(f, "%s", nd_last_error());
    cr_assert_eq(nd_frame_type(f, 1), ND_COL_NUMBER);
    nd_frame_free(f);
    const char bad[] = "a,b\nx,1\ny,2\nz,oops\n";
    cr_assert_null(nd_parse_csv(bad, strlen(bad), &o));
    assert_error("line 4, column 2");
    assert_error("\"oops\"");
    o.types = (const nd_csv_coltype[]){{"nope", ND_COL_NUMBER}};
    cr_assert_null(nd_parse_csv(ok, strlen(ok), &o));
    assert_error("\"nope\"");
}

ND_TEST(frame_csv, errors) {
    const char *too_many = "a,b\n1,2\n\n3,4,5\n";
    cr_assert_null(nd_parse_csv(too_many, strlen(too_many), NULL));
    assert_error("line 4: expected 2 fields, saw 3");
    const char *unterminated = "a,b\n1,\"x\n2,3\n";
    cr_assert_null(nd_parse_csv(unterminated, strlen(unterminated), NULL));
    assert_error("line 2: a quoted field never ends");
    cr_assert_null(nd_parse_csv("", 0, NULL));
    assert_error("empty");
    cr_assert_null(nd_parse_csv("\n  \n\r\n", 6, NULL));
    assert_error("empty");
    cr_assert_null(nd_parse_csv("ok,b\xff\xfe\n1,2\n", 12, NULL));
    assert_error("line 1, column 2: the name is not valid UTF-8");
    cr_assert_null(nd_read_csv("/nonexistent/dir/x.csv", NULL));
    assert_error("No such file or directory");
    cr_assert_null(nd_read_csv(ND_GOLDEN_DIR, NULL));
    assert_error("Is a directory");
    cr_assert_null(nd_read_csv("/dev/null", NULL));
    assert_error("empty");
    cr_assert_null(nd_read_csv(NULL, NULL));
    assert_error("NULL path");
    cr_assert_null(nd_parse_csv(NULL, 3, NULL));
    nd_csv_opts o = ND_CSV_DEFAULTS;
    o.delimiter = '"';
    cr_assert_null(nd_parse_csv("a\n", 2, &o));
    assert_error("delimiter");
}

ND_TEST(frame_csv, error_lines_count_file_lines) {
    /* A quoted newline and blank lines still count as file lines. */
    const char *text = "a,b\n1,\"x\ny\"\n\n2,3\n4,5,6\n";
    cr_assert_null(nd_parse_csv(text, strlen(text), NULL));
    assert_error("line 6: expected 2 fields, saw 3");
    char path[] = "/tmp/nd_frame_error_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    cr_assert_null(nd_read_csv(path, NULL));
    assert_error("line 6");
    assert_error(path);
    unlink(path);
}

/* A large table (several chunks): numbers, a text column whose first text is
 * late, bools, quoted fields with newlines — threads must agree with one. */
static char *big_table(bool quotes, size_t *len) {
    size_t cap = 8 << 20, n = 0;
    char *text = malloc(cap);
    cr_assert(text);
    n += (size_t)sprintf(text, "id,x,late,flag,q\n");
    for (int i = 0; i < 60000; i++) {
        char q[64];
        if (quotes && i % 1000 == 7)
            sprintf(q, "\"line\nbreak, %d\"", i);
        else
            sprintf(q, "q%d", i % 13);
        n += (size_t)sprintf(text + n, "%d,%s,%s,%s,%s\n", i, i % 17 == 3 ? "" : "0.25",
                             i == 55555 ? "word"
                             : i % 5    ? "7"
                                        : "NA",
                             i % 3 ? "True" : "false", q);
        if (i % 10000 == 5) n += (size_t)sprintf(text + n, "\n");
    }
    *len = n;
    return text;
}

static void check_threads_agree(bool quotes) {
    size_t len;
    char *text = big_table(quotes, &len);
    nd_csv_opts one = ND_CSV_DEFAULTS, many = ND_CSV_DEFAULTS;
    one.num_threads = 1;
    many.num_threads = 4;
    nd_frame *a = nd_parse_csv(text, len, &one), *b = nd_parse_csv(text, len, &many);
    cr_assert(a && b, "%s", nd_last_error());
    cr_assert_eq(nd_frame_rows(a), 60000);
    char *da = dump_frame(a), *db = dump_frame(b);
    cr_assert(strcmp(da, db) == 0, "threads disagree");
    cr_assert_eq(nd_frame_type(a, 2), ND_COL_STRING); /* "word" near the end */
    cr_assert_str_eq(nd_frame_string(a, 1, 2), "7");
    cr_assert_str_eq(nd_frame_string(a, 55555, 2), "word");
    cr_assert_eq(nd_frame_type(a, 3), ND_COL_BOOL);
    cr_assert_str_eq(nd_frame_dtype_name(a, 0), "int64");
    cr_assert_eq(nd_frame_number(a, 59999, 0), 59999);
    cr_assert_eq(nd_frame_na_count(a, 1), 60000 / 17 + (60000 % 17 > 3));
    if (quotes) cr_assert_str_eq(nd_frame_string(b, 7, 4), "line\nbreak, 7");
    /* An error deep in a later chunk names its line. */
    text[len - 2] = ',';
    cr_assert_null(nd_parse_csv(text, len, &many));
    assert_error("expected 5 fields, saw 6");
    free(da);
    free(db);
    free(text);
    nd_frame_free(a);
    nd_frame_free(b);
}

ND_TEST(frame_csv, threads_agree_plain) {
    check_threads_agree(false);
}
ND_TEST(frame_csv, threads_agree_quoted) {
    check_threads_agree(true);
}

ND_TEST(frame_csv, number_parser_is_correctly_rounded) {
    /* Digits beyond the fast path go to strtod: every value must equal strtod's. */
    const char *values[] = {"0.1",
                            "123456789012345678901234567890.5",
                            "9007199254740993",
                            "2.2250738585072011e-308",
                            "4.9e-324",
                            "1.7976931348623157e308",
                            "0.000001234567890123456789",
                            "7.038531e-26",
                            "1e22",
                            "1e23",
                            "-3.14159265358979323846264338327950288"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "x\n%s\n", values[i]);
        nd_frame *f = nd_parse_csv(text, strlen(text), NULL);
        cr_assert(f, "%s", nd_last_error());
        cr_assert_eq(nd_frame_number(f, 0, 0), strtod(values[i], NULL), "%s", values[i]);
        nd_frame_free(f);
    }
}
