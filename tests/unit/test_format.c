/* nd_format / nd_print against torch's printed form: tests/golden/core_format.txt
 * (written by tests/reference/core.py) holds, for each case, the tensor's dtype,
 * shape and values and the text `repr(tensor)` gave in PyTorch. */
#include "support.h"

#include "core/internal.h"

#include <stdlib.h>

static const nd_dtype all_dtypes[] = {ND_BOOL, ND_U8, ND_I32, ND_I64, ND_F32, ND_F64};

static nd_dtype dtype_named(const char *name) {
    for (int i = 0; i < 6; i++)
        if (strcmp(nd_dtype_name(all_dtypes[i]), name) == 0) return all_dtypes[i];
    cr_assert_fail("unknown dtype %s in core_format.txt", name);
    return ND_F32;
}

/* The next line of *cursor (NUL-terminated in place). */
static char *next_line(char **cursor) {
    char *line = *cursor, *end = strchr(line, '\n');
    cr_assert(end, "core_format.txt ends in the middle of a case");
    *end = '\0';
    *cursor = end + 1;
    return line;
}

static const char *after(char *line, const char *key) {
    size_t n = strlen(key);
    cr_assert(strncmp(line, key, n) == 0, "expected '%s' in core_format.txt, got '%s'", key, line);
    return line + n;
}

/* The case's tensor, built from its listed values in its dtype. */
static nd_tensor *build_case(nd_dtype dtype, int ndim, const int64_t *shape, const char *values) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    size_t size = nd_dtype_size(dtype);
    char *data = malloc((size_t)(n > 0 ? n : 1) * size);
    cr_assert(data);
    const char *p = values;
    for (int64_t i = 0; i < n; i++) {
        char *end;
        void *at = data + (size_t)i * size;
        if (dtype == ND_F32 || dtype == ND_F64) {
            double v = strtod(p, &end);
            if (dtype == ND_F32)
                *(float *)at = (float)v;
            else
                *(double *)at = v;
        } else {
            long long v = strtoll(p, &end, 10);
            if (dtype == ND_I64) *(int64_t *)at = v;
            if (dtype == ND_I32) *(int32_t *)at = (int32_t)v;
            if (dtype == ND_U8) *(uint8_t *)at = (uint8_t)v;
            if (dtype == ND_BOOL) *(uint8_t *)at = v != 0;
        }
        cr_assert(end != p, "too few values in core_format.txt");
        p = end;
    }
    nd_tensor *t = nd_from(dtype, ndim, shape, data);
    free(data);
    return t;
}

ND_TEST(format, matches_torch_for_every_golden_case) {
    char *all = read_file(golden_path("core_format.txt"), NULL);
    char *cursor = all;
    int cases = 0;
    while (strncmp(cursor, "case ", 5) == 0) {
        char name[128];
        snprintf(name, sizeof name, "%s", after(next_line(&cursor), "case "));
        nd_dtype dtype = dtype_named(after(next_line(&cursor), "dtype "));
        const char *dims = after(next_line(&cursor), "shape");
        int64_t shape[ND_MAX_DIMS];
        int ndim = 0;
        for (char *end; *dims; dims = end) {
            shape[ndim] = strtoll(dims, &end, 10);
            if (end == dims) break;
            ndim++;
        }
        bool requires_grad = atoi(after(next_line(&cursor), "requires_grad ")) != 0;
        nd_tensor *t = build_case(dtype, ndim, shape, after(next_line(&cursor), "values"));
        cr_assert(t, "case %s: %s", name, nd_last_error());
        if (requires_grad) nd_set_requires_grad(t, true);
        int lines = atoi(after(next_line(&cursor), "expect "));
        char expected[65536] = "";
        for (int i = 0; i < lines; i++) {
            if (i) strcat(expected, "\n");
            strcat(expected, next_line(&cursor));
        }
        char *got = nd_format(t);
        cr_assert(got, "case %s: %s", name, nd_last_error());
        cr_expect_str_eq(got, expected, "case %s:\nnd:    %s\ntorch: %s", name, got, expected);
        free(got);
        cases++;
    }
    cr_assert_gt(cases, 50, "only %d cases read from core_format.txt", cases);
    free(all);
}

ND_TEST(format, tangent_as_torch_prints_a_dual_tensor) {
    char *all = read_file(golden_path("core_format.txt"), NULL);
    char *expected = strstr(all, "\ntangent ");
    cr_assert(expected);
    expected += strlen("\ntangent ");
    expected[strcspn(expected, "\n")] = '\0';
    nd_tensor *dual = nd_make_dual(nd_from(ND_F32, ND_SHAPE(2), (float[]){1, 2}),
                                   nd_from(ND_F32, ND_SHAPE(2), (float[]){0.5f, 1}));
    char *got = nd_format(dual);
    cr_assert_str_eq(got, expected);
    free(got);
    free(all);
}

ND_TEST(format, grad_fn_names_the_op) {
    nd_tensor *x = nd_set_requires_grad(nd_from(ND_F32, ND_SHAPE(2), (float[]){1, 2}), true);
    nd_tensor *y = nd_mul(x, nd_scalar(2, ND_F32));
    char *got = nd_format(y);
    cr_assert_str_eq(got, "tensor([2., 4.], grad_fn=<mul>)");
    free(got);
}

/* A transposed view prints its own element order, not its storage's. */
ND_TEST(format, strided_view_prints_in_its_own_order) {
    nd_tensor *m = nd_arange(0, 6, 1, ND_I64); /* [0 1 2 3 4 5] as a 2x3 matrix, transposed */
    nd_tensor *mt = nd__alias(m, 2, (const int64_t[]){3, 2}, (const int64_t[]){1, 3}, 0);
    char *got = nd_format(mt);
    cr_assert_str_eq(got, "tensor([[0, 3],\n        [1, 4],\n        [2, 5]])");
    free(got);
    nd_tensor *tail = nd__alias(m, 1, (const int64_t[]){2}, (const int64_t[]){2}, 1);
    got = nd_format(tail);
    cr_assert_str_eq(got, "tensor([1, 3])");
    free(got);
}

ND_TEST(format, print_writes_the_format_and_a_newline) {
    cr_assert_eq(nd_print(nd_scalar(1.5, ND_F32)), 0);
    cr_assert_eq(nd_print(NULL), -1);
}

ND_TEST(format, null_input_fails_cleanly) {
    cr_assert_null(nd_format(NULL));
    assert_error("nd_format: NULL input");
    nd_clear_error();
    /* A failure earlier in a chain keeps its own message. */
    cr_assert_null(nd_format(nd_eye(-1, ND_F32)));
    assert_error("nd_eye: n must be non-negative");
}
