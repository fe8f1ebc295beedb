/* nd_parse: Python-style nested lists to tensors, with torch.tensor's dtypes
 * (checked in PyTorch: [True, 2] is int64, [True, 2.5] float32, [] float32 (0,))
 * and errors that say where the text goes wrong. */
#include "support.h"

#include <stdlib.h>

ND_TEST(parse, matrix_of_floats) {
    nd_tensor *t = nd_parse("[[1, 2.5], [3, 4]]");
    assert_shape(t, ND_SHAPE(2, 2));
    cr_assert_eq(nd_type(t), ND_F32);
    assert_values(t, 0, 1, 2.5, 3, 4);
}

ND_TEST(parse, dtype_follows_the_values) {
    nd_tensor *i = nd_parse("[1, -2, 3]");
    cr_assert_eq(nd_type(i), ND_I64);
    assert_values(i, 0, 1, -2, 3);
    nd_tensor *b = nd_parse("[true, false, True, False]");
    cr_assert_eq(nd_type(b), ND_BOOL);
    assert_values(b, 0, 1, 0, 1, 0);
    nd_tensor *bi = nd_parse("[true, 2]");
    cr_assert_eq(nd_type(bi), ND_I64);
    assert_values(bi, 0, 1, 2);
    nd_tensor *bf = nd_parse("[true, 2.5]");
    cr_assert_eq(nd_type(bf), ND_F32);
    assert_values(bf, 0, 1, 2.5);
    cr_assert_eq(nd_type(nd_parse("[1, nan]")), ND_F32);
    cr_assert_eq(nd_type(nd_parse("[1e2]")), ND_F32);
}

ND_TEST(parse, number_forms) {
    nd_tensor *t = nd_parse("[1e3, -2.5E-2, +4, .5, 5., -0.0, 1e+2]");
    assert_values(t, 1e-7, 1000, -0.025, 4, 0.5, 5, 0, 100);
    nd_tensor *special = nd_parse("[inf, -inf, nan, Infinity, -NaN, +inf]");
    double v[6];
    cr_assert_eq(nd_read(special, ND_F64, v, sizeof v), 0);
    cr_assert(isinf(v[0]) && v[0] > 0);
    cr_assert(isinf(v[1]) && v[1] < 0);
    cr_assert(isnan(v[2]) && isinf(v[3]) && isnan(v[4]) && v[5] > 0 && isinf(v[5]));
    nd_tensor *big = nd_parse("[9223372036854775807, -9223372036854775808]");
    int64_t iv[2];
    cr_assert_eq(nd_read(big, ND_I64, iv, sizeof iv), 0);
    cr_assert_eq(iv[0], INT64_MAX);
    cr_assert_eq(iv[1], INT64_MIN);
}

ND_TEST(parse, bare_numbers_are_0d) {
    nd_tensor *f = nd_parse(" 3.5 ");
    assert_shape(f, 0, NULL);
    cr_assert_eq(nd_type(f), ND_F32);
    cr_assert_eq(nd_item(f), 3.5);
    nd_tensor *i = nd_parse("-7");
    cr_assert_eq(nd_type(i), ND_I64);
    cr_assert_eq(nd_item(i), -7);
    nd_tensor *b = nd_parse("true");
    cr_assert_eq(nd_type(b), ND_BOOL);
    assert_shape(b, 0, NULL);
}

ND_TEST(parse, empty_lists) {
    nd_tensor *e = nd_parse("[]");
    assert_shape(e, ND_SHAPE(0));
    cr_assert_eq(nd_type(e), ND_F32);
    assert_shape(nd_parse("[[]]"), ND_SHAPE(1, 0));
    assert_shape(nd_parse("[[], [], []]"), ND_SHAPE(3, 0));
    assert_shape(nd_parse("[[[]], [[]]]"), ND_SHAPE(2, 1, 0));
}

ND_TEST(parse, deeper_nesting_spacing_and_trailing_commas) {
    nd_tensor *t = nd_parse("[[[1],[2]],\n [[3],[4],],]");
    assert_shape(t, ND_SHAPE(2, 2, 1));
    assert_values(t, 0, 1, 2, 3, 4);
    char deep[64] = "";
    for (int i = 0; i < 16; i++) strcat(deep, "[");
    strcat(deep, "5");
    for (int i = 0; i < 16; i++) strcat(deep, "]");
    nd_tensor *d = nd_parse(deep);
    cr_assert_eq(nd_ndim(d), 16);
    cr_assert_eq(nd_item(d), 5);
}

ND_TEST(parse, ragged_lists_say_where) {
    cr_assert_null(nd_parse("[[1, 2], [3]]"));
    assert_error("nd_parse: at character 12: expected 2 elements like the first list at depth 2, "
                 "not 1 (ragged nesting), found ']'");
    cr_assert_null(nd_parse("[[1], [2, 3]]"));
    assert_error("nd_parse: at character 11: expected ']' after 1 elements, like the first list at "
                 "depth 2 (ragged nesting), found '3'");
    cr_assert_null(nd_parse("[[], [1]]"));
    assert_error("ragged nesting");
    cr_assert_null(nd_parse("[[[1]], []]"));
    assert_error(
        "at character 10: expected a list of lists (the first element is nested 3 deep, this "
        "empty list 2), found ']'");
}

ND_TEST(parse, mixed_depths_say_what_was_expected) {
    cr_assert_null(nd_parse("[1, [2]]"));
    assert_error("nd_parse: at character 5: expected a number (the first element is nested 1 "
                 "deep), found '['");
    cr_assert_null(nd_parse("[[1], 2]"));
    assert_error("nd_parse: at character 7: expected '[' (the first element is nested 2 deep, "
                 "this one 1), found '2'");
}

ND_TEST(parse, syntax_errors) {
    cr_assert_null(nd_parse("[1 2]"));
    assert_error("nd_parse: at character 4: expected ',' or ']', found '2'");
    cr_assert_null(nd_parse("[1, 2"));
    assert_error("at character 6: expected ',' or ']', found the end of the text");
    cr_assert_null(nd_parse("[1, abc]"));
    assert_error("at character 5: expected a number, true, false, inf or nan, found 'a'");
    cr_assert_null(nd_parse("[1, 2]]"));
    assert_error("at character 7: expected the end of the text after a complete value, found ']'");
    cr_assert_null(nd_parse("[1e]"));
    assert_error("at character 4: expected the digits of an exponent");
    cr_assert_null(nd_parse("[99999999999999999999]"));
    assert_error("at character 2: expected an integer that fits in int64");
    cr_assert_null(nd_parse(""));
    assert_error("at character 1: expected a number or '[', found the end of the text");
    cr_assert_null(nd_parse("[-true]"));
    assert_error("expected a number, true, false, inf or nan");
    cr_assert_null(nd_parse("[1,\n x]"));
    assert_error("nd_parse: at character 6 (line 2, column 2)");
    cr_assert_null(nd_parse("[1, \x01]"));
    assert_error("found byte 0x01");
    cr_assert_null(nd_parse("0x10"));
    assert_error("found 'x'");
}

ND_TEST(parse, limits_and_null) {
    char deep[64] = "";
    for (int i = 0; i < 17; i++) strcat(deep, "[");
    cr_assert_null(nd_parse(deep));
    assert_error("expected at most 16 nested lists");
    cr_assert_null(nd_parse(NULL));
    assert_error("nd_parse: NULL text");
}

ND_TEST(parse, long_numbers_and_long_lists) {
    /* A number longer than the parser's small buffer, and 10^5 elements. */
    char number[200] = "0.";
    for (int i = 0; i < 150; i++) strcat(number, "0");
    strcat(number, "5");
    nd_tensor *t = nd_parse(number);
    cr_assert_eq(nd_item(t), 0.0f);
    size_t cap = 100000 * 8 + 16;
    char *text = malloc(cap);
    size_t n = 0;
    text[n++] = '[';
    for (int i = 0; i < 100000; i++) n += (size_t)snprintf(text + n, cap - n, i ? ", %d" : "%d", i);
    text[n++] = ']';
    text[n] = '\0';
    nd_tensor *big = nd_parse(text);
    free(text);
    assert_shape(big, ND_SHAPE(100000));
    cr_assert_eq(nd_get(big, (int64_t[]){99999}), 99999);
}

/* What nd_format writes, nd_parse reads back (the values, not the "tensor(" wrapper). */
ND_TEST(parse, reads_what_format_writes) {
    nd_tensor *t = nd_parse("[[1.5, -2.25], [1e-3, 4]]");
    char *s = nd_format(t);
    char *open = strchr(s, '['), *close = strrchr(s, ']');
    close[1] = '\0';
    nd_tensor *back = nd_parse(open);
    free(s);
    assert_close(back, t, 1e-4, 0);
}
