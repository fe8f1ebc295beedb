/* Frame operations: the course's house example exactly, d2l's exercise on a
 * larger table, describe, printing and writing — against pandas
 * (tests/reference/frame.py). */
#include "support.h"

#include <nd_frame.h>
#include <stdlib.h>
#include <unistd.h>

static nd_frame *read_data(const char *name) {
    nd_frame *f = nd_read_csv(data_path(name), NULL);
    cr_assert(f, "%s: %s", name, nd_last_error());
    return f;
}

ND_TEST(frame_ops, course_house_tiny) {
    nd_frame *data = read_data("house_tiny.csv");
    nd_frame *inputs = nd_frame_iloc(data, 0, ND_END, 0, 2);
    nd_frame *outputs = nd_frame_iloc(data, 0, ND_END, 2, ND_END);
    nd_frame *filled = nd_frame_fillna_mean(inputs);
    cr_assert_eq(nd_frame_number(filled, 0, 0), 3);
    cr_assert_eq(nd_frame_number(filled, 3, 0), 3);
    nd_frame *encoded = nd_frame_get_dummies(filled, true);
    cr_assert_eq(nd_frame_cols(encoded), 3);
    cr_assert_str_eq(nd_frame_name(encoded, 0), "NumRooms");
    cr_assert_str_eq(nd_frame_name(encoded, 1), "Alley_Pave");
    cr_assert_str_eq(nd_frame_name(encoded, 2), "Alley_nan");
    nd_tensor *x = nd_frame_to_tensor(encoded, ND_F32);
    nd_tensor *y = nd_frame_column_tensor(outputs, 0, ND_F32);
    assert_shape(x, ND_SHAPE(4, 3));
    cr_assert_eq(nd_type(x), ND_F32);
    assert_values(x, 0, 3, 1, 0, 2, 0, 1, 4, 0, 1, 3, 0, 1);
    assert_values(y, 0, 127500, 106000, 178100, 140000);
    nd_tensor *y2 = nd_frame_to_tensor(outputs, ND_F64);
    assert_shape(y2, ND_SHAPE(4, 1));
    /* The data frame is unchanged by the operations. */
    cr_assert(nd_frame_isna(data, 0, 0));
    nd_frame *frames[] = {data, inputs, outputs, filled, encoded};
    for (int i = 0; i < 5; i++) nd_frame_free(frames[i]);
}

ND_TEST(frame_ops, d2l_exercise_house_small) {
    nd_frame *data = read_data("house_small.csv");
    int worst = 0;
    for (int c = 1; c < nd_frame_cols(data); c++)
        if (nd_frame_na_count(data, c) > nd_frame_na_count(data, worst)) worst = c;
    cr_assert_str_eq(nd_frame_name(data, worst), "Alley");
    nd_frame *dropped = nd_frame_drop(data, nd_frame_name(data, worst));
    nd_frame *inputs = nd_frame_iloc(dropped, 0, ND_END, 0, -1);
    nd_frame *filled = nd_frame_fillna_mean(inputs);
    nd_frame *encoded = nd_frame_get_dummies(filled, true);
    char *names = read_file(golden_path("frame_house_small_names.txt"), NULL);
    char *line = names;
    for (int c = 0; c < nd_frame_cols(encoded); c++) {
        char *end = strchr(line, '\n');
        cr_assert(end);
        *end = '\0';
        cr_assert_str_eq(nd_frame_name(encoded, c), line);
        line = end + 1;
    }
    cr_assert_eq(*line, '\0', "pandas has more columns");
    free(names);
    assert_close(nd_frame_to_tensor(encoded, ND_F64), golden("frame_house_small_X.npy"), 1e-12, 0);
    nd_frame *price = nd_frame_select(data, 1, (const char *const[]){"Price"});
    assert_close(nd_flatten(nd_frame_to_tensor(price, ND_F64)), golden("frame_house_small_y.npy"),
                 0, 0);
    nd_frame *frames[] = {data, dropped, inputs, filled, encoded, price};
    for (int i = 0; i < 6; i++) nd_frame_free(frames[i]);
}

/* The NUMBER columns of f as a tensor. */
static nd_tensor *numbers_of(const nd_frame *f) {
    const char *names[16];
    int n = 0;
    for (int c = 0; c < nd_frame_cols(f); c++)
        if (nd_frame_type(f, c) == ND_COL_NUMBER) names[n++] = nd_frame_name(f, c);
    nd_frame *numbers = nd_frame_select(f, n, names);
    nd_tensor *t = nd_frame_to_tensor(numbers, ND_F64);
    nd_frame_free(numbers);
    return t;
}

ND_TEST(frame_ops, missing_values) {
    nd_frame *data = read_data("house_small.csv");
    nd_frame *median = nd_frame_fillna_median(data);
    assert_close(numbers_of(median), golden("frame_fillna_median.npy"), 1e-12, 0);
    nd_frame *complete = nd_frame_dropna(data);
    assert_close(numbers_of(complete), golden("frame_dropna.npy"), 0, 0);
    nd_frame *zero = nd_frame_fillna_value(data, 0);
    cr_assert_eq(nd_frame_na_count(zero, 0), 0);
    cr_assert_eq(nd_frame_na_count(zero, 2), nd_frame_na_count(data, 2)); /* text unchanged */
    nd_frame *described = nd_frame_describe(data);
    assert_close(nd_frame_to_tensor(described, ND_F64), golden("frame_describe_house_small.npy"),
                 1e-12, 1e-9);
    cr_assert_str_eq(nd_frame_row_label(described, 2), "std");
    nd_frame *frames[] = {data, median, complete, zero, described};
    for (int i = 0; i < 5; i++) nd_frame_free(frames[i]);
}

ND_TEST(frame_ops, iloc_select_drop) {
    nd_frame *data = read_data("house_small.csv");
    nd_frame *tail = nd_frame_iloc(data, -3, ND_END, -2, ND_END);
    cr_assert_eq(nd_frame_rows(tail), 3);
    cr_assert_eq(nd_frame_cols(tail), 2);
    cr_assert_str_eq(nd_frame_name(tail, 1), "Price");
    cr_assert_eq(nd_frame_number(tail, 2, 1), nd_frame_number(data, 49, 5));
    nd_frame *none = nd_frame_iloc(data, 10, 5, 0, 100); /* clipped, empty */
    cr_assert_eq(nd_frame_rows(none), 0);
    cr_assert_eq(nd_frame_cols(none), 6);
    nd_frame *picked = nd_frame_select(data, 2, (const char *const[]){"Price", "Area"});
    cr_assert_str_eq(nd_frame_name(picked, 0), "Price");
    cr_assert_eq(nd_frame_col(picked, "Area"), 1);
    cr_assert_null(nd_frame_select(data, 1, (const char *const[]){"Nope"}));
    assert_error("no column is called \"Nope\"");
    cr_assert_null(nd_frame_drop(data, "Nope"));
    assert_error("\"Nope\"");
    cr_assert_eq(nd_frame_col(data, "Nope"), -1);
    nd_frame *frames[] = {data, tail, none, picked};
    for (int i = 0; i < 4; i++) nd_frame_free(frames[i]);
}

ND_TEST(frame_ops, errors_and_null) {
    nd_frame *data = read_data("house_tiny.csv");
    cr_assert_null(nd_frame_to_tensor(data, ND_F32));
    assert_error("column 1 (\"Alley\") holds text");
    cr_assert_null(nd_frame_to_tensor(nd_frame_iloc(NULL, 0, 1, 0, 1), ND_F32));
    cr_assert_null(nd_frame_to_tensor(data, ND_I64));
    assert_error("float32 or float64");
    cr_assert(isnan(nd_frame_number(data, 0, 1)));
    assert_error("holds text");
    cr_assert_null(nd_frame_string(data, 0, 0));
    assert_error("not text");
    cr_assert_str_eq(nd_frame_string(data, 0, 1), "Pave");
    cr_assert_null(nd_frame_string(data, 1, 1)); /* missing: NULL */
    cr_assert(nd_frame_isna(data, 1, 1));
    cr_assert_null(nd_frame_name(data, 3));
    assert_error("column 3 out of range");
    cr_assert(!nd_frame_isna(data, 4, 0));
    assert_error("row 4 out of range");
    nd_clear_error();
    cr_assert_eq(nd_frame_rows(NULL), -1);
    assert_error("NULL frame");
    cr_assert_null(nd_frame_fillna_mean(NULL));
    cr_assert_null(nd_frame_get_dummies(NULL, true));
    cr_assert_null(nd_frame_describe(NULL));
    cr_assert_eq(nd_frame_print(NULL), -1);
    cr_assert_eq(nd_frame_write_csv(NULL, "/tmp/x.csv"), -1);
    cr_assert_eq(nd_frame_write_csv(data, "/nonexistent/dir/x.csv"), -1);
    assert_error("No such file or directory");
    nd_frame *text_only = nd_frame_select(data, 1, (const char *const[]){"Alley"});
    cr_assert_null(nd_frame_describe(text_only));
    assert_error("no number columns");
    nd_frame_free(text_only);
    nd_frame_free(NULL);
    nd_frame_free(data);
}

static void check_repr(const nd_frame *f, const char *golden_name) {
    char *got = nd_frame_format(f);
    cr_assert(got, "%s", nd_last_error());
    char *want = read_file(golden_path(golden_name), NULL);
    want[strlen(want) - 1] = '\0'; /* frame.py added a newline */
    cr_assert_str_eq(got, want, "%s: nd prints\n%s\npandas prints\n%s", golden_name, got, want);
    free(got);
    free(want);
}

static nd_frame *read_golden_csv(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/csv/%s", ND_GOLDEN_DIR, name);
    nd_frame *f = nd_read_csv(path, NULL);
    cr_assert(f, "%s", nd_last_error());
    return f;
}

ND_TEST(frame_print, like_pandas) {
    nd_frame *tiny = read_data("house_tiny.csv");
    check_repr(tiny, "frame_repr_house_tiny.txt");
    nd_frame *inputs = nd_frame_iloc(tiny, 0, ND_END, 0, 2);
    nd_frame *filled = nd_frame_fillna_mean(inputs);
    nd_frame *dummies = nd_frame_get_dummies(filled, true);
    check_repr(dummies, "frame_repr_dummies.txt");
    nd_frame *small = read_data("house_small.csv");
    check_repr(small, "frame_repr_house_small.txt");
    nd_frame *described = nd_frame_describe(small);
    check_repr(described, "frame_repr_describe.txt");
    nd_frame *longer = read_golden_csv("long.csv");
    check_repr(longer, "frame_repr_long.txt");
    nd_frame *wide = read_golden_csv("wide.csv");
    check_repr(wide, "frame_repr_wide.txt");
    nd_frame *mixed = read_golden_csv("repr_mixed.csv");
    check_repr(mixed, "frame_repr_mixed.txt");
    const char *corpus[] = {"quoting", "tabs", "bools", "numbers"};
    for (int i = 0; i < 4; i++) {
        char csv[64], repr[64];
        snprintf(csv, sizeof csv, "%s.csv", corpus[i]);
        snprintf(repr, sizeof repr, "frame_repr_%s.txt", corpus[i]);
        nd_frame *f = read_golden_csv(csv);
        check_repr(f, repr);
        nd_frame_free(f);
    }
    nd_frame *empty = nd_frame_iloc(tiny, 0, 0, 0, ND_END);
    char *text = nd_frame_format(empty);
    cr_assert_str_eq(text, "Empty DataFrame\nColumns: [NumRooms, Alley, Price]\nIndex: []");
    free(text);
    nd_frame *frames[] = {tiny,      inputs, filled, dummies, small,
                          described, longer, wide,   mixed,   empty};
    for (int i = 0; i < 10; i++) nd_frame_free(frames[i]);
}

ND_TEST(frame_write, round_trips) {
    const char text[] = "name,value,flag,n\n"
                        "\"with, comma\",0.1,True,1\n"
                        "\"quote \"\" inside\",-0.0,False,2\n"
                        "\"two\nlines\",1e+300,,3\n"
                        ",,True,4\n"
                        "plain,3.0,False,5\n";
    nd_frame *f = nd_parse_csv(text, strlen(text), NULL);
    cr_assert(f, "%s", nd_last_error());
    size_t len;
    char *written = nd_frame_to_csv(f, &len);
    cr_assert_str_eq(written, "name,value,flag,n\n"
                              "\"with, comma\",0.1,True,1\n"
                              "\"quote \"\" inside\",-0.0,False,2\n"
                              "\"two\nlines\",1e+300,,3\n"
                              ",,True,4\n"
                              "plain,3.0,False,5\n");
    char path[] = "/tmp/nd_frame_write_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert_eq(nd_frame_write_csv(f, path), 0, "%s", nd_last_error());
    nd_frame *back = nd_read_csv(path, NULL);
    unlink(path);
    cr_assert(back, "%s", nd_last_error());
    char *again = nd_frame_to_csv(back, NULL);
    cr_assert_str_eq(again, written);
    cr_assert_eq(nd_frame_number(back, 0, 1), 0.1);
    cr_assert(signbit(nd_frame_number(back, 1, 1)));
    free(written);
    free(again);
    nd_frame_free(f);
    nd_frame_free(back);

    /* One column with a missing value: the empty row is written as "" so it is not skipped. */
    const char *one_column = "a\nx\n\"\"\ny\n";
    nd_frame *one = nd_parse_csv(one_column, strlen(one_column), NULL);
    char *out = nd_frame_to_csv(one, NULL);
    cr_assert_str_eq(out, "a\nx\n\"\"\ny\n");
    free(out);
    nd_frame_free(one);
}
