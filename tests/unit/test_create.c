/* Creation: random tensors (determinism, ranges, moments), arange / linspace /
 * eye against torch (tests/golden/core_range_*.npy), and nd_read. */
#include "support.h"

#include "core/internal.h"
#include "core/random.h"

#include <stdlib.h>

/* ------------------------------------------------------------- random */

static double *values(nd_tensor *t) {
    int64_t n = nd_numel(t);
    double *v = malloc((size_t)n * sizeof *v);
    cr_assert(v);
    cr_assert_eq(nd_read(t, ND_F64, v, (size_t)n * sizeof *v), 0, "%s", nd_last_error());
    return v;
}

static void moments(nd_tensor *t, double *mean, double *std) {
    int64_t n = nd_numel(t);
    double *v = values(t), sum = 0, squares = 0;
    for (int64_t i = 0; i < n; i++) sum += v[i];
    *mean = sum / (double)n;
    for (int64_t i = 0; i < n; i++) squares += (v[i] - *mean) * (v[i] - *mean);
    *std = sqrt(squares / (double)(n - 1));
    free(v);
}

ND_TEST(random, same_seed_same_numbers) {
    nd_manual_seed(42);
    nd_tensor *a = nd_randn(ND_F32, ND_SHAPE(100));
    nd_tensor *b = nd_rand(ND_F64, ND_SHAPE(3, 4));
    nd_manual_seed(42);
    cr_assert(nd_equal(a, nd_randn(ND_F32, ND_SHAPE(100))));
    cr_assert(nd_equal(b, nd_rand(ND_F64, ND_SHAPE(3, 4))));
    nd_manual_seed(43);
    cr_assert(!nd_equal(a, nd_randn(ND_F32, ND_SHAPE(100))));
}

ND_TEST(random, numbers_are_fixed_run_after_run) {
    /* The stream itself is part of the contract (saved experiments reproduce):
     * these are xoshiro256** seeded by splitmix64 from 0. */
    nd_manual_seed(0);
    uint64_t first = nd__rand_u64();
    nd__rng rng;
    nd__rng_seed(&rng, 0);
    cr_assert_eq(first, nd__rng_u64(&rng));
    cr_assert_eq(first, UINT64_C(0x99ec5f36cb75f2b4), "first u64 is %llx",
                 (unsigned long long)first);
}

ND_TEST(random, rand_is_in_unit_interval_with_uniform_moments) {
    nd_tensor *u = nd_rand(ND_F32, ND_SHAPE(100000));
    double *v = values(u);
    for (int i = 0; i < 100000; i++) cr_assert(v[i] >= 0 && v[i] < 1, "%g", v[i]);
    free(v);
    double mean, std;
    moments(u, &mean, &std);
    cr_assert(fabs(mean - 0.5) < 0.005, "mean %g", mean);
    cr_assert(fabs(std - sqrt(1.0 / 12)) < 0.005, "std %g", std);
    moments(nd_rand(ND_F64, ND_SHAPE(100000)), &mean, &std);
    cr_assert(fabs(mean - 0.5) < 0.005, "mean %g", mean);
}

ND_TEST(random, randn_has_standard_normal_moments) {
    for (int d = 0; d < 2; d++) {
        nd_tensor *z = nd_randn(d ? ND_F64 : ND_F32, ND_SHAPE(100000));
        cr_assert_eq(nd_type(z), d ? ND_F64 : ND_F32);
        double mean, std;
        moments(z, &mean, &std);
        cr_assert(fabs(mean) < 0.01, "mean %g", mean);
        cr_assert(fabs(std - 1) < 0.01, "std %g", std);
        /* About 4.55% of a normal lies beyond 2 sigma. */
        double *v = values(z);
        int beyond = 0;
        for (int i = 0; i < 100000; i++) beyond += fabs(v[i]) > 2;
        free(v);
        cr_assert(beyond > 4200 && beyond < 4900, "%d beyond 2 sigma", beyond);
    }
}

ND_TEST(random, randint_covers_its_range_evenly) {
    nd_tensor *r = nd_randint(-3, 4, ND_SHAPE(70000));
    cr_assert_eq(nd_type(r), ND_I64);
    int64_t *v = malloc(70000 * sizeof *v);
    cr_assert_eq(nd_read(r, ND_I64, v, 70000 * sizeof *v), 0);
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) {
        cr_assert(v[i] >= -3 && v[i] < 4, "%lld", (long long)v[i]);
        counts[v[i] + 3]++;
    }
    free(v);
    for (int k = 0; k < 7; k++) cr_assert(abs(counts[k] - 10000) < 400, "count %d", counts[k]);
    /* A range wider than INT64_MAX does not overflow. */
    cr_assert_not_null(nd_randint(INT64_MIN / 2 - 5, INT64_MAX / 2 + 5, ND_SHAPE(10)));
}

ND_TEST(random, randperm_is_a_permutation) {
    nd_tensor *p = nd_randperm(1000);
    assert_shape(p, ND_SHAPE(1000));
    int64_t v[1000];
    cr_assert_eq(nd_read(p, ND_I64, v, sizeof v), 0);
    bool seen[1000] = {false};
    int fixed = 0;
    for (int i = 0; i < 1000; i++) {
        cr_assert(v[i] >= 0 && v[i] < 1000 && !seen[v[i]]);
        seen[v[i]] = true;
        fixed += v[i] == i;
    }
    cr_assert_lt(fixed, 10, "%d fixed points: not shuffled", fixed);
    assert_shape(nd_randperm(0), ND_SHAPE(0));
}

ND_TEST(random, bad_arguments_are_errors) {
    cr_assert_null(nd_rand(ND_I64, ND_SHAPE(2)));
    assert_error("nd_rand: dtype int64 is not a floating-point type");
    cr_assert_null(nd_randn(ND_F32, ND_SHAPE(2, -1)));
    assert_error("nd_randn: negative size -1 at dim 1");
    cr_assert_null(nd_randint(5, 5, ND_SHAPE(2)));
    assert_error("nd_randint: empty range [5, 5)");
    cr_assert_null(nd_randperm(-1));
    assert_error("nd_randperm: n must be non-negative");
}

/* ------------------------------------------------------------- ranges */

/* torch fills float32 ranges with vectorised float32 arithmetic, a few ulp from
 * the exact values nd computes: long float32 ranges compare within atol. */
static void assert_golden(nd_tensor *t, const char *name, double rtol, double atol) {
    char file[128];
    snprintf(file, sizeof file, "core_range_%s.npy", name);
    nd_tensor *expected = golden(file);
    cr_assert(t, "%s: %s", name, nd_last_error());
    cr_assert_eq(nd_type(t), nd_type(expected), "%s: dtype %s, torch %s", name,
                 nd_dtype_name(nd_type(t)), nd_dtype_name(nd_type(expected)));
    assert_close(t, expected, rtol, atol);
}

ND_TEST(ranges, arange_matches_torch) {
    assert_golden(nd_arange(0, 1, 0.1, ND_F32), "arange_f32_tenths", 1e-7, 0);
    assert_golden(nd_arange(10, 0, -3, ND_F64), "arange_f64_down", 0, 0);
    assert_golden(nd_arange(-5, 5, 0.01, ND_F32), "arange_f32_long", 0, 2e-6);
    /* Integer ranges truncate their bounds, and count int64 from the truncated ones. */
    assert_golden(nd_arange(0.2, 3.9, 1, ND_I64), "arange_i64_truncated", 0, 0);
    assert_golden(nd_arange(0.2, 3.9, 1, ND_I32), "arange_i32_fraction", 0, 0);
    assert_golden(nd_arange(-1.5, 2.5, 1, ND_I32), "arange_i32_negative", 0, 0);
    assert_golden(nd_arange(0, 250, 7, ND_U8), "arange_u8", 0, 0);
    assert_golden(nd_arange(10, -10, -4, ND_I64), "arange_i64_down", 0, 0);
    assert_shape(nd_arange(1, 1, 1, ND_F32), ND_SHAPE(0));
}

ND_TEST(ranges, arange_rejects_what_torch_rejects) {
    cr_assert_null(nd_arange(0, 1, 0, ND_F32));
    assert_error("nd_arange: step must be nonzero");
    cr_assert_null(nd_arange(0, 3, 0.5, ND_I64)); /* the step truncates to 0 */
    assert_error("step must be nonzero");
    cr_assert_null(nd_arange(1, 0, 0.1, ND_F32));
    assert_error("inconsistent with step sign");
    cr_assert_null(nd_arange(0, INFINITY, 1, ND_F64));
    assert_error("unsupported range");
    cr_assert_null(nd_arange(0, 5, 1, ND_BOOL));
    assert_error("not implemented for dtype bool");
    cr_assert_null(nd_arange(0, 1e300, 1e-300, ND_F64));
    assert_error("too many elements");
}

ND_TEST(ranges, linspace_matches_torch_with_exact_end_points) {
    assert_golden(nd_linspace(0, 1, 7, ND_F32), "linspace_f32", 0, 0);
    assert_golden(nd_linspace(-3.3, 7.1, 1001, ND_F32), "linspace_f32_long", 0, 2e-6);
    assert_golden(nd_linspace(-3, 5, 50, ND_F64), "linspace_f64", 0, 1e-14);
    assert_golden(nd_linspace(0, 10, 4, ND_I64), "linspace_i64", 0, 0);
    assert_golden(nd_linspace(0, 255, 4, ND_U8), "linspace_u8", 0, 0);
    assert_golden(nd_linspace(1, -1, 5, ND_F32), "linspace_down", 0, 0);
    assert_golden(nd_linspace(2.5, 9, 1, ND_F32), "linspace_one", 0, 0);
    nd_tensor *t = nd_linspace(-3.3, 7.1, 1001, ND_F32);
    cr_assert_eq(nd_get(t, (int64_t[]){0}), (float)-3.3);
    cr_assert_eq(nd_get(t, (int64_t[]){-1}), (float)7.1);
    assert_shape(nd_linspace(0, 1, 0, ND_F32), ND_SHAPE(0));
    cr_assert_null(nd_linspace(0, 1, -1, ND_F32));
    assert_error("nd_linspace: number of steps must be non-negative");
    cr_assert_null(nd_linspace(0, NAN, 3, ND_F32));
    assert_error("nd_linspace: bounds must be finite");
}

ND_TEST(ranges, eye_matches_torch) {
    assert_golden(nd_eye(4, ND_F32), "eye_f32", 0, 0);
    assert_golden(nd_eye(3, ND_BOOL), "eye_bool", 0, 0);
    assert_shape(nd_eye(0, ND_F64), ND_SHAPE(0, 0));
    cr_assert_null(nd_eye(-2, ND_F32));
    assert_error("nd_eye: n must be non-negative, got -2");
}

/* --------------------------------------------------------------- read */

ND_TEST(read, converts_every_dtype_pair) {
    static const nd_dtype dtypes[] = {ND_BOOL, ND_U8, ND_I32, ND_I64, ND_F32, ND_F64};
    for (int from = 0; from < 6; from++) {
        nd_tensor *t = nd_from(ND_F64, ND_SHAPE(4), (double[]){0, 1, 2, 7});
        t = nd_to(t, dtypes[from]);
        for (int to = 0; to < 6; to++) {
            double got[4];
            char buf[32];
            cr_assert_eq(nd_read(t, dtypes[to], buf, 4 * nd_dtype_size(dtypes[to])), 0);
            for (int i = 0; i < 4; i++)
                got[i] = nd__load(dtypes[to], buf + (size_t)i * nd_dtype_size(dtypes[to]));
            bool boolish = dtypes[from] == ND_BOOL || dtypes[to] == ND_BOOL;
            double want[4] = {0, 1, boolish ? 1 : 2, boolish ? 1 : 7};
            for (int i = 0; i < 4; i++)
                cr_assert_eq(got[i], want[i], "%s -> %s element %d: %g",
                             nd_dtype_name(dtypes[from]), nd_dtype_name(dtypes[to]), i, got[i]);
        }
    }
}

ND_TEST(read, float_to_int_truncates_and_never_overflows) {
    nd_tensor *t = nd_from(ND_F64, ND_SHAPE(5), (double[]){-2.7, 2.7, NAN, 1e300, -1e300});
    int64_t v[5];
    cr_assert_eq(nd_read(t, ND_I64, v, sizeof v), 0);
    cr_assert_eq(v[0], -2);
    cr_assert_eq(v[1], 2);
    cr_assert_eq(v[3], INT64_MAX);
    cr_assert_eq(v[4], INT64_MIN);
}

ND_TEST(read, strided_views_come_out_in_c_order) {
    nd_tensor *m = nd_arange(0, 24, 1, ND_I64); /* (2, 3, 4), then permuted to (4, 2, 3) */
    nd_tensor *p = nd__alias(m, 3, (const int64_t[]){4, 2, 3}, (const int64_t[]){1, 12, 4}, 0);
    int64_t v[24];
    cr_assert_eq(nd_read(p, ND_I64, v, sizeof v), 0);
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 3; c++) cr_assert_eq(v[a * 6 + b * 3 + c], b * 12 + c * 4 + a);
    float f[24];
    cr_assert_eq(nd_read(p, ND_F32, f, sizeof f), 0);
    cr_assert_eq(f[1], 4.0f);
    /* A 0-d view at an offset. */
    nd_tensor *one = nd__alias(m, 0, NULL, NULL, 17);
    double d;
    cr_assert_eq(nd_read(one, ND_F64, &d, sizeof d), 0);
    cr_assert_eq(d, 17.0);
}

ND_TEST(read, checks_the_buffer) {
    nd_tensor *t = nd_zeros(ND_F32, ND_SHAPE(2, 3));
    float small[5];
    cr_assert_eq(nd_read(t, ND_F32, small, sizeof small), -1);
    assert_error("nd_read: a buffer of 20 bytes is too small for the 6 float32 elements of a "
                 "tensor of shape (2, 3) (24 bytes)");
    cr_assert_eq(nd_read(t, ND_F32, NULL, 24), -1);
    assert_error("nd_read: NULL buffer");
    cr_assert_eq(nd_read(NULL, ND_F32, small, sizeof small), -1);
    cr_assert_eq(nd_read(t, (nd_dtype)9, small, sizeof small), -1);
    assert_error("invalid dtype");
    cr_assert_eq(nd_read(nd_zeros(ND_F32, ND_SHAPE(0)), ND_F32, NULL, 0), 0);
}
