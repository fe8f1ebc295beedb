/* safetensors files: nd reads files laid out as the reference writer lays them
 * out (tests/reference/safetensors.py writes them with struct and json, no nd
 * code), round-trips every dtype, refuses truncated and hostile files with a
 * message naming the file, and writes atomically: a failed save keeps the
 * old file. The files nd writes stay in <build>/safetensors_written/ for
 * `python3 tests/reference/safetensors.py check FILE`. */
#include "support.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_WITH_ESCAPES "layer.0/weight \"q\" \xc3\xa9\t"

static const char *written(const char *name) {
    static char path[512];
    mkdir("safetensors_written", 0755);
    snprintf(path, sizeof path, "safetensors_written/%s", name);
    return path;
}

static nd_tensor *load_reference(const char *name) {
    nd_tensor *t = nd_load_safetensors(golden_path("core_safetensors_reference.safetensors"), name);
    cr_assert_not_null(t, "%s: %s", name, nd_last_error());
    return t;
}

/* ------------------------------------------------------------- reading */

ND_TEST(safetensors, reads_the_reference_layout) {
    nd_tensor *f64 = load_reference("f64");
    cr_assert_eq(nd_type(f64), ND_F64);
    assert_shape(f64, ND_SHAPE(2, 3));
    assert_values(f64, 0, 0.5, -1.25, 3.0, 1e300, -0.0, 2.5);
    nd_tensor *f32 = load_reference("f32");
    cr_assert_eq(nd_type(f32), ND_F32);
    assert_values(f32, 0, 1.5, -2.0, 3.25);
    int64_t big[2];
    cr_assert_eq(nd_read(load_reference("i64"), ND_I64, big, sizeof big), 0);
    cr_assert(big[0] == -1 && big[1] == INT64_C(1) << 40);
    nd_tensor *i32 = load_reference("i32");
    cr_assert_eq(nd_type(i32), ND_I32);
    assert_shape(i32, ND_SHAPE(2, 2));
    assert_values(i32, 0, 1, -2, 3, -4);
    nd_tensor *u8 = load_reference("u8");
    cr_assert_eq(nd_type(u8), ND_U8);
    assert_values(u8, 0, 0, 1, 128, 255);
    nd_tensor *b = load_reference("bool");
    cr_assert_eq(nd_type(b), ND_BOOL);
    assert_values(b, 0, 1, 0, 1);
    nd_tensor *scalar = load_reference("scalar");
    assert_shape(scalar, 0, NULL);
    cr_assert_eq(nd_item(scalar), 7.5);
    assert_shape(load_reference("empty"), ND_SHAPE(0, 3));
    assert_values(load_reference(NAME_WITH_ESCAPES), 0, 42);
}

ND_TEST(safetensors, lists_names_in_header_order) {
    static const char *const expected[] = {
        "f64", "i64", "empty", "f32", "i32", NAME_WITH_ESCAPES, "scalar", "half", "bool", "u8"};
    char **names = NULL;
    int n = nd_safetensors_names(golden_path("core_safetensors_reference.safetensors"), &names);
    cr_assert_eq(n, 10, "%s", nd_last_error());
    for (int i = 0; i < n; i++) cr_assert_str_eq(names[i], expected[i]);
    cr_assert_null(names[n]);
    free(names);
}

ND_TEST(safetensors, absent_names_and_foreign_dtypes_are_errors) {
    const char *path = golden_path("core_safetensors_reference.safetensors");
    cr_assert_null(nd_load_safetensors(path, "fc1.weight"));
    assert_error("nd_load_safetensors: ");
    assert_error("core_safetensors_reference.safetensors: no tensor named 'fc1.weight' (the "
                 "file holds 10: 'f64', 'i64', 'empty', 'f32', 'i32', ...)");
    cr_assert_null(nd_load_safetensors(path, "half"));
    assert_error("tensor 'half' has dtype F16, which nd does not have");
    cr_assert_null(nd_load_safetensors("/nonexistent/x.safetensors", "w"));
    assert_error("nd_load_safetensors: /nonexistent/x.safetensors: cannot open: No such file");
    cr_assert_null(nd_load_safetensors(NULL, "w"));
    assert_error("nd_load_safetensors: NULL path");
    cr_assert_null(nd_load_safetensors(path, NULL));
    assert_error("NULL name");
    char **names;
    cr_assert_eq(nd_safetensors_names("/nonexistent/x.safetensors", &names), -1);
    assert_error("nd_safetensors_names: /nonexistent/x.safetensors: cannot open");
}

ND_TEST(safetensors, reads_other_writers_layouts) {
    /* Indented JSON, keys in another order, header order unlike data order. */
    const char *path = golden_path("core_safetensors_pretty.safetensors");
    assert_values(nd_load_safetensors(path, "f64"), 0, 0.5, -1.25, 3.0, 1e300, -0.0, 2.5);
    assert_values(nd_load_safetensors(path, "u8"), 0, 0, 1, 128, 255);
    assert_values(nd_load_safetensors(path, "bool"), 0, 1, 0, 1);
    char **names;
    cr_assert_eq(nd_safetensors_names(path, &names), 6, "%s", nd_last_error());
    cr_assert_str_eq(names[0], "bool");
    free(names);
}

/* ------------------------------------------------- hostile and broken files */

/* A file from a header's text and data_len bytes of data (0, 1, 2, ...). */
static char *build(const char *header, size_t data_len, size_t *len) {
    size_t n = strlen(header);
    *len = 8 + n + data_len;
    char *bytes = malloc(*len);
    for (int i = 0; i < 8; i++) bytes[i] = (char)((uint64_t)n >> 8 * i);
    memcpy(bytes + 8, header, n);
    for (size_t i = 0; i < data_len; i++) bytes[8 + n + i] = (char)i;
    return bytes;
}

static nd_tensor *parse(const char *header, size_t data_len, const char *name) {
    size_t len;
    char *bytes = build(header, data_len, &len);
    nd_tensor *t = nd_parse_safetensors(bytes, len, name);
    free(bytes);
    return t;
}

/* The header is refused with `message`, both for loading and listing. */
static void assert_refused_(const char *header, size_t data_len, const char *message,
                            const char *file, int line) {
    size_t len;
    char *bytes = build(header, data_len, &len);
    cr_assert_null(nd_parse_safetensors(bytes, len, "a"), "%s:%d: accepted %s", file, line, header);
    assert_error_(message, file, line);
    assert_error_("nd_parse_safetensors: ", file, line);
    char **names;
    cr_assert_eq(nd_parse_safetensors_names(bytes, len, &names), -1, "%s:%d", file, line);
    assert_error_(message, file, line);
    free(bytes);
}
#define assert_refused(header, data_len, message)                                                  \
    assert_refused_((header), (data_len), (message), __FILE__, __LINE__)

#define A_F32 "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"

ND_TEST(safetensors, a_good_small_file_parses) {
    /* The baseline the hostile headers below are edits of. */
    float expected[2]; /* the data bytes 0, 1, ..., 7 read as little-endian floats */
    memcpy(expected, (const unsigned char[]){0, 1, 2, 3, 4, 5, 6, 7}, sizeof expected);
    assert_values(parse("{" A_F32 "}", 8, "a"), 0, expected[0], expected[1]);
    cr_assert_not_null(parse("{" A_F32 ",\"__metadata__\":{\"k\":\"v\"}}  ", 8, "a"));
    cr_assert_null(parse("{}", 0, "x"));
    assert_error("no tensor named 'x' (the file holds 0)");
    char **names;
    size_t len;
    char *bytes = build("{}", 0, &len);
    cr_assert_eq(nd_parse_safetensors_names(bytes, len, &names), 0);
    cr_assert_null(names[0]);
    free(names);
    free(bytes);
}

ND_TEST(safetensors, offsets_out_of_range_overlapping_or_with_holes) {
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
                   "tensor 'a' has data_offsets [0, 8] out of range: the data area has 4 bytes");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8,
                   "data_offsets [8, 0] that end before they begin");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}",
                   8, "tensors 'a' and 'b' overlap in the data area");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
                   "a hole in the data area: bytes 0 to 4 belong to no tensor");
    assert_refused("{" A_F32 "}", 9, "1 bytes after the last tensor's data");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
                   "tensor 'a': shape (3,) of F32 needs 12 bytes, its data_offsets [0, 8] hold 8");
    assert_refused("{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904,4],"
                   "\"data_offsets\":[0,8]}}",
                   8, "is too large");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                   "\"data_offsets\":[0,18446744073709551616]}}",
                   8, "an integer is too large");
}

ND_TEST(safetensors, headers_too_large_or_truncated) {
    size_t len;
    char *bytes = build("{" A_F32 "}", 8, &len);
    uint64_t huge = 200000000;
    for (int i = 0; i < 8; i++) bytes[i] = (char)(huge >> 8 * i);
    cr_assert_null(nd_parse_safetensors(bytes, len, "a"));
    assert_error("nd_parse_safetensors: header too large (200000000 bytes announced, at most "
                 "100000000)");
    memset(bytes, 0xff, 8);
    cr_assert_null(nd_parse_safetensors(bytes, len, "a"));
    assert_error("header too large");
    memset(bytes, 0, 8);
    bytes[0] = (char)(len - 7); /* one byte more than the file holds after the length */
    cr_assert_null(nd_parse_safetensors(bytes, len, "a"));
    assert_error("truncated header");
    free(bytes);
    /* Every prefix of a real file is refused. */
    char *file = read_file(golden_path("core_safetensors_reference.safetensors"), &len);
    for (size_t cut = 0; cut < len; cut++) {
        cr_assert_null(nd_parse_safetensors(file, cut, "f64"), "%zu bytes parsed", cut);
        cr_assert(strstr(nd_last_error(), "nd_parse_safetensors: "));
    }
    cr_assert_not_null(nd_parse_safetensors(file, len, "f64"));
    /* ... also on disk, where the message names the file. */
    FILE *f = fopen(written("cut.safetensors"), "wb");
    fwrite(file, 1, len - 3, f);
    fclose(f);
    cr_assert_null(nd_load_safetensors(written("cut.safetensors"), "f64"));
    assert_error("nd_load_safetensors: safetensors_written/cut.safetensors: tensor 'u8' has "
                 "data_offsets [107, 111] out of range: the data area has 108 bytes");
    free(file);
    cr_assert_null(nd_parse_safetensors("1234567", 7, "a"));
    assert_error("truncated file (7 bytes");
    cr_assert_null(nd_parse_safetensors(NULL, 3, "a"));
    assert_error("NULL bytes");
}

ND_TEST(safetensors, unknown_dtypes_and_bad_entries) {
    assert_refused("{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                   "tensor 'a' has an unknown dtype \"F33\"");
    assert_refused("{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                   "\"dtype\" is not a string");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8,
                   "unknown key in a tensor's entry");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8,
                   "tensor 'a' lacks \"dtype\", \"shape\" or \"data_offsets\"");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],"
                   "\"data_offsets\":[0,8]}}",
                   8, "a key repeated in a tensor's entry");
    assert_refused("{" A_F32 "," A_F32 "}", 8, "the name 'a' is given twice");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", 8,
                   "\"data_offsets\" needs exactly two integers");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8,
                   "\"data_offsets\" needs two integers");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8,
                   "\"shape\" is not an array");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
                   "expected a non-negative integer");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8,
                   "expected an integer, not a fraction");
    assert_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[02],\"data_offsets\":[0,8]}}", 8,
                   "an integer has a leading zero");
    assert_refused("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],"
                   "\"data_offsets\":[0,1]}}",
                   1, "tensor 'a' has more than 16 dims");
    assert_refused("{\"__metadata__\":{\"k\":1}}", 0, "a \"__metadata__\" value is not a string");
    assert_refused("{\"__metadata__\":[]}", 0, "\"__metadata__\" is not an object");
    assert_refused("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "given twice");
    assert_refused("{\"a\":[]}", 0, "a tensor's entry is not an object");
}

ND_TEST(safetensors, malformed_json_is_refused) {
    assert_refused("", 0, "corrupt header: it does not start with '{'");
    assert_refused(" {}", 0, "it does not start with '{'");
    assert_refused("[]", 0, "it does not start with '{'");
    assert_refused("{", 0, "expected a string");
    assert_refused("{" A_F32, 8, "expected ',' or '}'");
    assert_refused("{" A_F32 ",}", 8, "expected a string");
    assert_refused("{" A_F32 "}}", 8, "text after the header's object");
    assert_refused("{" A_F32 "}\n\tx", 8, "text after the header's object (at byte ");
    assert_refused("{\"a\" {}}", 0, "expected ':' after a key");
    assert_refused("{\"a", 0, "unterminated string");
    assert_refused("{'a':{}}", 0, "expected a string");
    assert_refused("{\"a\\x\":{}}", 0, "bad escape in a string");
    assert_refused("{\"a\\u12\":{}}", 0, "bad escape in a string");
    assert_refused("{\"a\\ud800\":{}}", 0, "unpaired surrogate in a string");
    assert_refused("{\"a\\udc00\":{}}", 0, "unpaired surrogate in a string");
    assert_refused("{\"a\\u0000\":{}}", 0, "\\u0000 in a string");
    assert_refused("{\"a\tb\":{}}", 0, "control character in a string");
    assert_refused("{\"a\xff\":{}}", 0, "a string is not valid UTF-8");
    assert_refused("{\"a\xc0\xaf\":{}}", 0, "a string is not valid UTF-8"); /* overlong '/' */
    assert_refused("{\"a\xed\xa0\x80\":{}}", 0, "not valid UTF-8");         /* a surrogate */
    /* Escapes that are fine: a surrogate pair, \/, \n. */
    cr_assert_not_null(parse("{\"\\ud83d\\ude00\\/\\n\":{\"dtype\":\"U8\",\"shape\":[],"
                             "\"data_offsets\":[0,1]}}",
                             1, "\xf0\x9f\x98\x80/\n"),
                       "%s", nd_last_error());
}

/* ------------------------------------------------------------- writing */

ND_TEST(safetensors, round_trips_every_dtype_scalars_empties_and_views) {
    static const nd_dtype dtypes[] = {ND_BOOL, ND_U8, ND_I32, ND_I64, ND_F32, ND_F64};
    enum { N = 6 + 3 };
    nd_tensor *tensors[N];
    const char *names[N] = {"bool", "u8", "i32", "i64", "f32", "f64", "scalar", "empty", "view"};
    for (int d = 0; d < 6; d++)
        tensors[d] = nd_to(nd_mul_scalar(nd_randn(ND_F64, ND_SHAPE(3, 5, 2)), 100), dtypes[d]);
    tensors[0] = nd_gt(nd_randn(ND_F64, ND_SHAPE(3, 5, 2)), nd_zeros(ND_F64, 0, NULL));
    tensors[6] = nd_full(ND_I64, 0, NULL, -7);
    tensors[7] = nd_zeros(ND_F32, ND_SHAPE(4, 0, 2));
    tensors[8] = nd_transpose(nd_randn(ND_F32, ND_SHAPE(3, 4)), 0, 1);
    cr_assert(!nd_is_contiguous(tensors[8]));
    const char *path = written("round_trip.safetensors");
    cr_assert_eq(nd_save_safetensors(path, N, names, tensors), 0, "%s", nd_last_error());
    for (int i = 0; i < N; i++) {
        nd_tensor *t = nd_load_safetensors(path, names[i]);
        cr_assert_not_null(t, "%s: %s", names[i], nd_last_error());
        cr_assert_eq(nd_type(t), nd_type(tensors[i]), "%s", names[i]);
        assert_shape(t, nd_ndim(tensors[i]), nd_shape(tensors[i]));
        cr_assert(nd_equal(t, tensors[i]), "%s", names[i]);
    }
    /* Names in header order, which is data order: widest elements first. */
    static const char *const order[] = {"i64",   "f64",  "scalar", "i32", "f32",
                                        "empty", "view", "bool",   "u8"};
    char **listed;
    cr_assert_eq(nd_safetensors_names(path, &listed), N);
    for (int i = 0; i < N; i++) cr_assert_str_eq(listed[i], order[i]);
    free(listed);
    /* The data area starts 8-byte aligned, as the format asks. */
    size_t len;
    char *bytes = read_file(path, &len);
    uint64_t header = 0;
    for (int i = 7; i >= 0; i--) header = header << 8 | (unsigned char)bytes[i];
    cr_assert_eq((8 + header) % 8, 0);
    cr_assert_eq(bytes[8], '{');
    free(bytes);
}

ND_TEST(safetensors, names_are_escaped_and_zero_tensors_allowed) {
    nd_tensor *t = nd_arange(0, 3, 1, ND_F32);
    const char *names[] = {"a\"b\\c\n\x01 \xc3\xa9"};
    const char *path = written("escaped.safetensors");
    cr_assert_eq(nd_save_safetensors(path, 1, names, &t), 0, "%s", nd_last_error());
    assert_values(nd_load_safetensors(path, names[0]), 0, 0, 1, 2);
    cr_assert_eq(nd_save_safetensors(written("none.safetensors"), 0, NULL, NULL), 0);
    char **listed;
    cr_assert_eq(nd_safetensors_names(written("none.safetensors"), &listed), 0);
    free(listed);
}

ND_TEST(safetensors, bad_arguments_to_save) {
    nd_tensor *t[2] = {nd_zeros(ND_F32, ND_SHAPE(2)), nd_ones(ND_F32, ND_SHAPE(2))};
    const char *path = written("args.safetensors");
    cr_assert_eq(nd_save_safetensors(path, 2, (const char *[]){"w", "w"}, t), -1);
    assert_error("nd_save_safetensors: safetensors_written/args.safetensors: the name 'w' is "
                 "given twice");
    cr_assert_eq(nd_save_safetensors(path, 1, (const char *[]){"__metadata__"}, t), -1);
    assert_error("tensor 0 has the reserved name");
    cr_assert_eq(nd_save_safetensors(path, 2, (const char *[]){"w", ""}, t), -1);
    assert_error("tensor 1 has an empty name");
    cr_assert_eq(nd_save_safetensors(path, 1, (const char *[]){NULL}, t), -1);
    assert_error("tensor 0 has a NULL name");
    cr_assert_eq(nd_save_safetensors(path, 1, (const char *[]){"\xff"}, t), -1);
    assert_error("tensor 0 has a name that is not UTF-8");
    cr_assert_eq(nd_save_safetensors(path, -1, NULL, NULL), -1);
    assert_error("negative count -1");
    cr_assert_eq(nd_save_safetensors(NULL, 1, (const char *[]){"w"}, t), -1);
    assert_error("nd_save_safetensors: NULL path");
    nd_clear_error();
    cr_assert_eq(nd_save_safetensors(path, 1, (const char *[]){"w"}, (nd_tensor *[]){NULL}), -1);
    assert_error("nd_save_safetensors: NULL input");
    struct stat st;
    cr_assert_neq(stat(path, &st), 0, "a refused save created the file");
}

/* ----------------------------------------------------- atomic writing */

/* Files in the folder whose names start with prefix. */
static int count_files(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static void save_old(const char *path) {
    nd_tensor *old = nd_full(ND_F64, ND_SHAPE(3), 1.5);
    cr_assert_eq(nd_save_safetensors(path, 1, (const char *[]){"w"}, &old), 0, "%s",
                 nd_last_error());
}

static void assert_old_kept(const char *path) {
    assert_values(nd_load_safetensors(path, "w"), 0, 1.5, 1.5, 1.5);
}

ND_TEST(safetensors, a_failed_write_keeps_the_old_file) {
    /* A disk that fills up mid-write, made with a file size limit: write()
     * fails with EFBIG (SIGXFSZ ignored) once the temporary file reaches it. */
    mkdir(written("full"), 0755);
    const char *path = "safetensors_written/full/ckpt.safetensors";
    save_old(path);
    nd_tensor *big = nd_zeros(ND_F32, ND_SHAPE(1 << 16));
    struct rlimit saved, small;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    small = saved;
    small.rlim_cur = 4096;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = nd_save_safetensors(path, 1, (const char *[]){"w"}, &big);
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, old_handler);
    cr_assert_eq(rc, -1);
    assert_error("ckpt.safetensors: write failed: File too large (the old file, if any, is kept)");
    assert_old_kept(path);
    cr_assert_eq(count_files(written("full"), "ckpt.safetensors.tmp"), 0, "temporary file left");
    /* The same save without the limit replaces the file. */
    cr_assert_eq(nd_save_safetensors(path, 1, (const char *[]){"w"}, &big), 0);
    assert_shape(nd_load_safetensors(path, "w"), ND_SHAPE(1 << 16));
}

ND_TEST(safetensors, an_unwritable_folder_keeps_the_old_file) {
    mkdir(written("locked"), 0755);
    const char *path = "safetensors_written/locked/ckpt.safetensors";
    save_old(path);
    nd_tensor *t = nd_zeros(ND_F32, ND_SHAPE(2));
    /* A folder that does not exist. */
    cr_assert_eq(nd_save_safetensors("safetensors_written/no/such/dir/x.safetensors", 1,
                                     (const char *[]){"w"}, &t),
                 -1);
    assert_error("no/such/dir/x.safetensors: cannot create a temporary file beside it: No such "
                 "file or directory");
    /* A read-only folder: root writes there anyway, so only checked as a user. */
    if (geteuid() != 0) {
        cr_assert_eq(chmod(written("locked"), 0555), 0);
        int rc = nd_save_safetensors(path, 1, (const char *[]){"w"}, &t);
        chmod(written("locked"), 0755);
        cr_assert_eq(rc, -1);
        assert_error("cannot create a temporary file beside it: Permission denied");
        assert_old_kept(path);
    }
    /* A target that is a folder: the rename fails, nothing is left behind. */
    mkdir(written("locked/dir.safetensors"), 0755);
    const char *dir_target = "safetensors_written/locked/dir.safetensors";
    cr_assert_eq(nd_save_safetensors(dir_target, 1, (const char *[]){"w"}, &t), -1);
    assert_error("cannot rename the temporary file over it");
    cr_assert_eq(count_files(written("locked"), "dir.safetensors.tmp"), 0);
    assert_old_kept(path);
}
