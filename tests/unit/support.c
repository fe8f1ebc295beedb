#include "support.h"

#include <malloc.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

size_t bytes_in_use(void) {
#if defined(__SANITIZE_ADDRESS__)
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#endif
}

void nd_test_setup(void) {
    nd_clear_error();
    nd_manual_seed(0);
}

void nd_test_teardown(void) {
    nd_shutdown();
}

const char *golden_path(const char *name) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", ND_GOLDEN_DIR, name);
    return path;
}

const char *data_path(const char *name) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", ND_DATA_DIR, name);
    return path;
}

char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    cr_assert(text);
    cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n, "cannot read %s", path);
    text[n] = '\0';
    fclose(f);
    if (len) *len = (size_t)n;
    return text;
}

nd_tensor *golden(const char *name) {
    nd_tensor *t = nd_load_npy(golden_path(name));
    cr_assert(t, "golden file %s: %s", name, nd_last_error());
    return t;
}

void assert_shape_(const nd_tensor *t, int ndim, const int64_t *shape, const char *file, int line) {
    cr_assert(t, "%s:%d: tensor is NULL: %s", file, line, nd_last_error());
    char *got = nd_shape_string(t);
    cr_assert_eq(nd_ndim(t), ndim, "%s:%d: shape %s, expected %d dims", file, line, got, ndim);
    for (int i = 0; i < ndim; i++)
        cr_assert_eq(nd_shape(t)[i], shape[i], "%s:%d: shape %s differs at dim %d", file, line, got,
                     i);
    free(got);
}

static double *values_of(nd_tensor *t) {
    int64_t n = nd_numel(t);
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    cr_assert(v);
    cr_assert_eq(nd_read(t, ND_F64, v, (size_t)n * sizeof *v), 0, "nd_read: %s", nd_last_error());
    return v;
}

static bool close_enough(double got, double want, double rtol, double atol) {
    if (isnan(want)) return isnan(got);
    if (isinf(want)) return got == want;
    return fabs(got - want) <= atol + rtol * fabs(want);
}

void assert_close_(nd_tensor *t, nd_tensor *expected, double rtol, double atol, const char *file,
                   int line) {
    cr_assert(t, "%s:%d: tensor is NULL: %s", file, line, nd_last_error());
    cr_assert(expected, "%s:%d: expected tensor is NULL", file, line);
    assert_shape_(t, nd_ndim(expected), nd_shape(expected), file, line);
    double *got = values_of(t), *want = values_of(expected);
    for (int64_t i = 0; i < nd_numel(t); i++)
        cr_assert(close_enough(got[i], want[i], rtol, atol),
                  "%s:%d: element %lld is %.17g, expected %.17g", file, line, (long long)i, got[i],
                  want[i]);
    free(got);
    free(want);
}

void assert_values_(nd_tensor *t, int64_t n, const double *values, double tol, const char *file,
                    int line) {
    cr_assert(t, "%s:%d: tensor is NULL: %s", file, line, nd_last_error());
    cr_assert_eq(nd_numel(t), n, "%s:%d: %lld elements, expected %lld", file, line,
                 (long long)nd_numel(t), (long long)n);
    double *got = values_of(t);
    for (int64_t i = 0; i < n; i++)
        cr_assert(close_enough(got[i], values[i], tol, tol),
                  "%s:%d: element %lld is %.17g, expected %.17g", file, line, (long long)i, got[i],
                  values[i]);
    free(got);
}

void assert_error_(const char *needle, const char *file, int line) {
    const char *e = nd_last_error();
    cr_assert(e, "%s:%d: expected an error containing \"%s\", got none", file, line, needle);
    cr_assert(strstr(e, needle), "%s:%d: error \"%s\" does not contain \"%s\"", file, line, e,
              needle);
}

nd_tensor *jacobian_seed_by_seed(nd_fn f, void *ctx, nd_tensor *x, nd_ad_mode mode) {
    nd_tensor *y = f(x, ctx);
    cr_assert(y, "%s", nd_last_error());
    int64_t m = nd_numel(y), n = nd_numel(x);
    nd_tensor *jac = nd_zeros(ND_F64, ND_SHAPE(m, n));
    for (int64_t k = 0; k < (mode == ND_REVERSE ? m : n); k++) {
        nd_tensor *like = mode == ND_REVERSE ? y : x;
        nd_tensor *seed = nd_reshape(nd_select(nd_eye(nd_numel(like), ND_F64), 0, k), nd_ndim(like),
                                     nd_shape(like));
        nd_tensor *part =
            mode == ND_REVERSE ? nd_vjp(f, ctx, x, seed, NULL) : nd_jvp(f, ctx, x, seed, NULL);
        cr_assert(part, "%s", nd_last_error());
        nd_tensor *slot = mode == ND_REVERSE ? nd_select(jac, 0, k) : nd_select(jac, 1, k);
        cr_assert_eq(nd_copy_(slot, nd_reshape(part, ND_SHAPE(-1))), 0, "%s", nd_last_error());
    }
    return jac;
}
