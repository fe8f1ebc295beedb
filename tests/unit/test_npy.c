/* .npy files: nd reads what numpy.save wrote (every dtype, Fortran order,
 * big-endian, versions 1.0 to 3.0) and writes the very bytes numpy.save
 * writes. The files nd writes stay in <build>/npy_written/ for
 * `python3 tests/reference/core.py check <build>/npy_written` (numpy reads them). */
#include "support.h"

#include <stdlib.h>
#include <sys/stat.h>

static nd_tensor *load(const char *name) {
    char file[128];
    snprintf(file, sizeof file, "core_npy_%s.npy", name);
    return golden(file);
}

/* ------------------------------------------------------------- reading */

ND_TEST(npy, reads_every_dtype) {
    static const struct {
        const char *name;
        nd_dtype dtype;
    } files[] = {{"c_uint8", ND_U8},    {"c_int32", ND_I32},   {"c_int64", ND_I64},
                 {"c_float32", ND_F32}, {"c_float64", ND_F64}, {"big_f8", ND_F64},
                 {"big_f4", ND_F32},    {"big_i4", ND_I32},    {"big_i8", ND_I64},
                 {"v2", ND_F32},        {"v3", ND_I64}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        nd_tensor *t = load(files[i].name);
        cr_assert_eq(nd_type(t), files[i].dtype, "%s", files[i].name);
        assert_shape(t, ND_SHAPE(2, 3));
        assert_values(t, 0, 0, 1, 2, 3, 4, 5);
    }
    nd_tensor *b = load("c_bool");
    cr_assert_eq(nd_type(b), ND_BOOL);
    assert_values(b, 0, 1, 0, 1, 0, 1, 0);
}

ND_TEST(npy, reads_fortran_order) {
    nd_tensor *f = load("fortran_f64");
    assert_shape(f, ND_SHAPE(3, 4));
    cr_assert_eq(nd_type(f), ND_F64);
    assert_values(f, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    nd_tensor *g = load("fortran_3d_i32");
    assert_shape(g, ND_SHAPE(2, 3, 4));
    cr_assert_eq(nd_get(g, (int64_t[]){1, 2, 3}), 23);
    cr_assert_eq(nd_get(g, (int64_t[]){0, 1, 2}), 6);
    nd_tensor *h = load("big_fortran_f4");
    assert_shape(h, ND_SHAPE(2, 3));
    assert_values(h, 0, 0, 1, 2, 3, 4, 5);
}

ND_TEST(npy, reads_scalars_empties_and_big_sizes) {
    nd_tensor *s = load("c_scalar");
    assert_shape(s, 0, NULL);
    cr_assert_eq(nd_item(s), 3.5);
    assert_shape(load("c_empty"), ND_SHAPE(0));
    nd_tensor *e = load("c_empty_2d");
    assert_shape(e, ND_SHAPE(2, 0));
    cr_assert_eq(nd_type(e), ND_I64);
    nd_tensor *l = load("c_long_dim");
    int64_t v[3];
    cr_assert_eq(nd_read(l, ND_I64, v, sizeof v), 0);
    cr_assert_eq(v[2], INT64_C(12345678903));
}

ND_TEST(npy, unsupported_and_broken_files_name_the_file) {
    cr_assert_null(nd_load_npy(golden_path("core_npy_bad_complex.npy")));
    assert_error("core_npy_bad_complex.npy: unsupported dtype '<c8'");
    cr_assert_null(nd_load_npy(golden_path("core_npy_bad_object.npy")));
    assert_error("unsupported dtype '|O'");
    cr_assert_null(nd_load_npy(golden_path("core_npy_bad_int16.npy")));
    assert_error("unsupported dtype '<i2'");
    cr_assert_null(nd_load_npy(golden_path("core_npy_bad_truncated.npy")));
    assert_error("core_npy_bad_truncated.npy: truncated data: shape (2, 3) of float32 needs 24 "
                 "bytes, the file has 19");
    cr_assert_null(nd_load_npy("/nonexistent/x.npy"));
    assert_error("nd_load_npy: /nonexistent/x.npy: cannot open: No such file or directory");
    cr_assert_null(nd_load_npy(NULL));
    assert_error("nd_load_npy: NULL path");
    cr_assert_null(nd_load_npy(golden_path("core_format.txt")));
    assert_error("core_format.txt: not a .npy file");
}

static char *find_bytes(char *bytes, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(bytes + i, needle, n) == 0) return bytes + i;
    return NULL;
}

/* Corruptions of a good file, made in memory. */
static nd_tensor *parse_edited(const char *find, const char *replace) {
    size_t len;
    char *bytes = read_file(golden_path("core_npy_c_float32.npy"), &len);
    char *at = find_bytes(bytes, len, find);
    cr_assert(at, "'%s' not in the file", find);
    cr_assert_eq(strlen(find), strlen(replace));
    memcpy(at, replace, strlen(replace));
    nd_tensor *t = nd_parse_npy(bytes, len);
    free(bytes);
    return t;
}

ND_TEST(npy, corrupt_headers_are_errors) {
    cr_assert_not_null(parse_edited("'<f4'", "'<f4'"));
    cr_assert_null(parse_edited("\x93NUMPY", "\x93NUMPZ"));
    assert_error("nd_parse_npy: not a .npy file");
    cr_assert_null(parse_edited("\x93NUMPY\x01", "\x93NUMPY\x04"));
    assert_error("unsupported .npy format version 4.0");
    cr_assert_null(parse_edited("(2, 3)", "(2, 4)"));
    assert_error("truncated data: shape (2, 4) of float32 needs 32 bytes, the file has 24");
    cr_assert_null(parse_edited("(2, 3)", "(1, 3)"));
    assert_error("extra bytes after the data");
    cr_assert_null(parse_edited("(2, 3)", "(2, x)"));
    assert_error("corrupt header: 'shape' holds something other than sizes");
    cr_assert_null(parse_edited("(2, 3)", "[2, 3]"));
    assert_error("'shape' is not a tuple");
    cr_assert_null(parse_edited("(2, 3),", "(6)   ,"));
    assert_error("'shape' (n) lacks its comma");
    cr_assert_null(parse_edited("False", "Maybe"));
    assert_error("'fortran_order' is neither True nor False");
    cr_assert_null(parse_edited("'descr'", "'dtype'"));
    assert_error("unknown key");
    cr_assert_null(parse_edited("'descr': '<f4', ", "                "));
    assert_error("missing 'descr'");
    cr_assert_null(parse_edited("{'descr'", "['descr'"));
    assert_error("corrupt header: not a dict");
    cr_assert_null(parse_edited("'<f4'", "'<f3'"));
    assert_error("unsupported dtype '<f3'");
    cr_assert_null(parse_edited("'<f4'", "\"<f4'"));
    assert_error("'descr' is not a string");
    cr_assert_null(parse_edited("}", "]"));
    assert_error("corrupt header: expected a quoted key");
    cr_assert_null(parse_edited("), }", ") x}"));
    assert_error("corrupt header: expected ',' or '}'");
}

ND_TEST(npy, truncated_prefixes_and_header_lengths) {
    size_t len;
    char *bytes = read_file(golden_path("core_npy_c_float32.npy"), &len);
    for (size_t cut = 0; cut < len; cut++) {
        cr_assert_null(nd_parse_npy(bytes, cut), "%zu bytes parsed", cut);
        cr_assert(strstr(nd_last_error(), "nd_parse_npy: "));
    }
    bytes[8] = (char)0xff; /* a header longer than the file */
    cr_assert_null(nd_parse_npy(bytes, len));
    assert_error("truncated header");
    free(bytes);
    cr_assert_null(nd_parse_npy(NULL, 10));
    assert_error("nd_parse_npy: NULL bytes");
}

ND_TEST(npy, big_endian_bool_and_native_markers) {
    /* Any non-zero byte is True; '=' and '|' mean this machine's order. */
    size_t len;
    char *bytes = read_file(golden_path("core_npy_c_bool.npy"), &len);
    bytes[len - 1] = 7;
    nd_tensor *t = nd_parse_npy(bytes, len);
    free(bytes);
    assert_values(t, 0, 1, 0, 1, 0, 1, 1);
    cr_assert_not_null(parse_edited("'<f4'", "'=f4'"));
    cr_assert_not_null(parse_edited("'<f4'", "'|f4'"));
}

/* ------------------------------------------------------------- writing */

static const char *written(const char *name) {
    static char path[512];
    mkdir("npy_written", 0755);
    snprintf(path, sizeof path, "npy_written/%s", name);
    return path;
}

ND_TEST(npy, writes_the_bytes_numpy_writes) {
    static const char *const names[] = {"c_bool",     "c_uint8",   "c_int32",   "c_int64",
                                        "c_float32",  "c_float64", "c_scalar",  "c_empty",
                                        "c_empty_2d", "c_3d",      "c_long_dim"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char file[128];
        snprintf(file, sizeof file, "core_npy_%s.npy", names[i]);
        nd_tensor *t = golden(file);
        const char *out = written(file);
        cr_assert_eq(nd_save_npy(t, out), 0, "%s", nd_last_error());
        size_t a_len, b_len;
        char *ours = read_file(out, &a_len), *numpy = read_file(golden_path(file), &b_len);
        cr_assert_eq(a_len, b_len, "%s: %zu bytes, numpy wrote %zu", file, a_len, b_len);
        cr_assert(memcmp(ours, numpy, a_len) == 0, "%s differs from numpy's bytes", file);
        free(ours);
        free(numpy);
    }
}

ND_TEST(npy, round_trips_views_and_every_dtype) {
    /* A strided view with the values of the Fortran-order golden: written in C order. */
    nd_tensor *m = load("fortran_f64");
    nd_tensor *view = nd_transpose(nd_contiguous(nd_transpose(m, 0, 1)), 0, 1);
    cr_assert(!nd_is_contiguous(view));
    cr_assert_eq(nd_save_npy(view, written("core_npy_fortran_f64.npy")), 0, "%s", nd_last_error());
    assert_close(nd_load_npy(written("core_npy_fortran_f64.npy")), m, 0, 0);
    static const nd_dtype dtypes[] = {ND_BOOL, ND_U8, ND_I32, ND_I64, ND_F32, ND_F64};
    for (int d = 0; d < 6; d++) {
        nd_tensor *t = nd_to(nd_randn(ND_F64, ND_SHAPE(4, 5, 6)), dtypes[d]);
        cr_assert_eq(nd_save_npy(t, written("round_trip.npy")), 0);
        nd_tensor *r = nd_load_npy(written("round_trip.npy"));
        cr_assert_eq(nd_type(r), dtypes[d]);
        cr_assert(nd_equal(r, t), "%s", nd_dtype_name(dtypes[d]));
    }
    remove(written("round_trip.npy"));
}

ND_TEST(npy, write_errors_name_the_file) {
    nd_tensor *t = nd_zeros(ND_F32, ND_SHAPE(2));
    cr_assert_eq(nd_save_npy(t, "/nonexistent/dir/x.npy"), -1);
    assert_error("nd_save_npy: /nonexistent/dir/x.npy: cannot open for writing: No such file");
    cr_assert_eq(nd_save_npy(t, NULL), -1);
    assert_error("nd_save_npy: NULL path");
    nd_clear_error();
    cr_assert_eq(nd_save_npy(NULL, "x.npy"), -1);
    assert_error("nd_save_npy: NULL input");
}
