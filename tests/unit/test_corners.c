/* PyTorch's answers away from the well-travelled paths (issue 16): NaN in
 * threaded reductions, gradients at zero spread, in-place writes, promotion,
 * conventions at NaN and -0. Golden values from tests/reference/corners.py. */
#include "support.h"

#include <stdlib.h>

/* ------------------------------------------- NaN in threaded reductions */

#define NAN_N 98312 /* 8 rows of 12289: above ND_PARALLEL_MIN, split between threads */

/* ((i·37) mod 1001)/8 − 60 with a NaN at pos, as corners.py builds it. */
static nd_tensor *nan_data(int64_t pos, nd_dtype dtype) {
    double *v = malloc(NAN_N * sizeof *v);
    cr_assert(v);
    for (int64_t i = 0; i < NAN_N; i++) v[i] = (double)((i * 37) % 1001) / 8.0 - 60.0;
    v[pos] = NAN;
    nd_tensor *t = nd_to(nd_from(ND_F64, ND_SHAPE(NAN_N), v), dtype);
    free(v);
    return t;
}

static double item_as_double(nd_tensor *t) {
    cr_assert(t, "%s", nd_last_error());
    return nd_item(nd_to(t, ND_F64));
}

ND_TEST(nan, threaded_reductions_keep_a_nan_from_any_share) {
    nd_tensor *positions = golden("corners_nan_positions.npy");
    nd_tensor *want = golden("corners_nan_reductions.npy");
    for (int threads = 2; threads <= 4; threads++) {
        nd_set_num_threads(threads);
        for (int64_t k = 0; k < nd_numel(positions); k++) {
            int64_t pos = (int64_t)nd_item(nd_select(positions, 0, k));
            for (int f32 = 0; f32 < 2; f32++) {
                nd_scope_begin();
                nd_tensor *t = nan_data(pos, f32 ? ND_F32 : ND_F64);
                double got[] = {
                    item_as_double(nd_norm(t, INFINITY)),
                    item_as_double(nd_norm(t, 1)),
                    item_as_double(nd_norm(t, 2)),
                    item_as_double(nd_max(t, ND_ALL, false)),
                    item_as_double(nd_min(t, ND_ALL, false)),
                    item_as_double(nd_argmax(t, ND_ALL, false)),
                    item_as_double(nd_argmin(t, ND_ALL, false)),
                    item_as_double(nd_sum(t, ND_ALL, false)),
                    item_as_double(nd_mean(t, ND_ALL, false)),
                    item_as_double(nd_logsumexp(t, ND_ALL, false)),
                };
                nd_tensor *row = nd_from(ND_F64, ND_SHAPE(10), got);
                assert_close(row, nd_select(want, 0, k), 1e-6, 0);
                nd_tensor *rows = nd_reshape(t, ND_SHAPE(8, -1));
                char name[64];
                snprintf(name, sizeof name, "corners_nan_rows_max_%lld.npy", (long long)pos);
                assert_close(nd_max(rows, 1, false), golden(name), 0, 0);
                snprintf(name, sizeof name, "corners_nan_rows_argmin_%lld.npy", (long long)pos);
                assert_close(nd_argmin(rows, 1, false), golden(name), 0, 0);
                nd_scope_end();
            }
        }
    }
    nd_set_num_threads(0);
}

/* ------------------------------------------- std and var at zero spread */

ND_TEST(flat, std_and_var_gradients_where_the_spread_is_zero) {
    nd_tensor *x = golden("corners_flat_x.npy"), *w = golden("corners_flat_w.npy");
    nd_tensor *v = golden("corners_flat_v.npy");
    nd_tensor *(*fs[])(nd_tensor *, int, bool) = {nd_std, nd_var};
    const char *names[] = {"std", "var"};
    for (int k = 0; k < 2; k++)
        for (int dim = 0; dim < 2; dim++) {
            char name[64];
            nd_tensor *leaf = nd_set_requires_grad(nd_clone(x), true);
            nd_tensor *y = nd_sum(nd_mul(fs[k](leaf, dim, false), w), ND_ALL, false);
            snprintf(name, sizeof name, "corners_flat_%s%d_grad.npy", names[k], dim);
            assert_close(nd_gradient(y, leaf, false), golden(name), 1e-12, 1e-14);
            nd_tensor *dual = nd_make_dual(x, v);
            snprintf(name, sizeof name, "corners_flat_%s%d_tangent.npy", names[k], dim);
            assert_close(nd_tangent(fs[k](dual, dim, false)), golden(name), 1e-12, 1e-14);
        }
}

/* ------------------------------------------- in-place writes PyTorch refuses */

static nd_tensor *ints(void) {
    return nd_parse("[1, 2, 3]");
}
static nd_tensor *bools(void) {
    return nd_parse("[true, false, true]");
}
static nd_tensor *expanded(void) {
    return nd_expand(nd_zeros(ND_F32, ND_SHAPE(3)), ND_SHAPE(2, 3));
}

/* The nd call for each case of corners_inplace_refused.txt. */
static int refused_case(const char *name) {
    nd_tensor *ones = nd_ones(ND_F32, ND_SHAPE(2, 3));
    if (!strcmp(name, "mul_scalar_int_2.5")) return nd_mul_scalar_(ints(), 2.5);
    if (!strcmp(name, "add_int_float")) return nd_add_(ints(), nd_parse("[0.5, 1.0, 2.0]"));
    if (!strcmp(name, "axpy_int_0.5")) return nd_axpy_(ints(), 0.5, ints());
    if (!strcmp(name, "add_bool_int")) return nd_add_(bools(), ints());
    if (!strcmp(name, "mul_scalar_bool_2")) return nd_mul_scalar_(bools(), 2);
    if (!strcmp(name, "copy_expanded")) return nd_copy_(expanded(), ones);
    if (!strcmp(name, "add_expanded")) return nd_add_(expanded(), ones);
    if (!strcmp(name, "mul_scalar_expanded")) return nd_mul_scalar_(expanded(), 2);
    if (!strcmp(name, "axpy_expanded")) return nd_axpy_(expanded(), 0.5, ones);
    if (!strcmp(name, "init_uniform_expanded")) return nd_init_uniform_(expanded(), 0, 1);
    cr_assert_fail("no nd call for the case '%s'", name);
    return 0;
}

ND_TEST(inplace, refused_with_pytorchs_reason) {
    char *text = read_file(golden_path("corners_inplace_refused.txt"), NULL);
    int cases = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), cases++) {
        char *tab = strchr(line, '\t');
        cr_assert(tab);
        *tab = '\0';
        char *reason = tab + 1;
        size_t len = strlen(reason);
        if (len && reason[len - 1] == '.') reason[len - 1] = '\0'; /* nd's goes on */
        nd_clear_error();
        cr_assert_eq(refused_case(line), -1, "%s was accepted", line);
        assert_error(reason);
    }
    cr_assert_eq(cases, 10);
    free(text);
}

ND_TEST(inplace, allowed_where_pytorch_allows) {
    nd_tensor *t = ints();
    cr_assert_eq(nd_axpy_(t, 2, ints()), 0, "%s", nd_last_error());
    assert_close(t, golden("corners_inplace_axpy_int_2.npy"), 0, 0);
    t = nd_to(nd_parse("[1, -7]"), ND_I32);
    cr_assert_eq(nd_add_(t, nd_parse("[5, 3]")), 0, "%s", nd_last_error());
    assert_close(t, golden("corners_inplace_add_i32_i64.npy"), 0, 0);
    cr_assert_eq(nd_type(t), ND_I32);
    t = nd_to(nd_parse("[250, 3]"), ND_U8);
    cr_assert_eq(nd_add_(t, nd_scalar(10, ND_I64)), 0, "%s", nd_last_error());
    assert_close(t, golden("corners_inplace_add_u8_0d_i64.npy"), 0, 0);
    t = bools();
    cr_assert_eq(nd_add_(t, nd_parse("[false, false, true]")), 0, "%s", nd_last_error());
    assert_close(t, golden("corners_inplace_add_bool_bool.npy"), 0, 0);
    t = ints();
    cr_assert_eq(nd_fill_(t, 2.5), 0, "%s", nd_last_error());
    assert_close(t, golden("corners_inplace_fill_int_2.5.npy"), 0, 0);
    t = ints();
    cr_assert_eq(nd_copy_(t, nd_parse("[1.5, -2.5, 3.9]")), 0, "%s", nd_last_error());
    assert_close(t, golden("corners_inplace_copy_int_float.npy"), 0, 0);
    t = expanded(); /* one value everywhere: well defined */
    cr_assert_eq(nd_fill_(t, 1.5), 0, "%s", nd_last_error());
    assert_close(t, golden("corners_inplace_fill_expanded.npy"), 0, 0);
}

/* ------------------------------------------- backward saves only what it reads */

typedef struct {
    nd_tensor *x, *a, *w, *b;
} saved_inputs;

static nd_tensor *saved_loss(const char *name, saved_inputs *s) {
    if (!strcmp(name, "mul")) return nd_sum(nd_mul(s->x, s->a), ND_ALL, false);
    if (!strcmp(name, "div")) return nd_sum(nd_div(s->x, s->a), ND_ALL, false);
    if (!strcmp(name, "matmul")) return nd_sum(nd_sin(nd_matmul(s->x, nd_t(s->w))), ND_ALL, false);
    if (!strcmp(name, "relu")) return nd_sum(nd_mul(nd_relu(s->x), s->a), ND_ALL, false);
    return nd_sum(nd_sin(nd_linear(s->x, s->w, s->b)), ND_ALL, false);
}

static int saved_change(const char *name, saved_inputs *s) {
    if (!strcmp(name, "mul") || !strcmp(name, "div")) return nd_add_(s->x, nd_scalar(1, ND_F64));
    if (!strcmp(name, "matmul")) return nd_mul_scalar_(s->x, 2);
    if (!strcmp(name, "relu")) return nd_mul_scalar_(s->x, -1);
    return nd_add_(s->b, nd_scalar(5, ND_F64));
}

ND_TEST(saved, changing_what_backward_does_not_read_is_allowed) {
    const char *names[] = {"mul", "div", "matmul", "relu", "linear"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        saved_inputs s = {nd_set_requires_grad(nd_clone(golden("corners_saved_x.npy")), true),
                          nd_clone(golden("corners_saved_a.npy")),
                          nd_clone(golden("corners_saved_w.npy")),
                          nd_clone(golden("corners_saved_b.npy"))};
        nd_tensor *y = saved_loss(names[i], &s);
        bool previous = nd_set_grad_enabled(false);
        cr_assert_eq(saved_change(names[i], &s), 0, "%s: %s", names[i], nd_last_error());
        nd_set_grad_enabled(previous);
        cr_assert_eq(nd_backward(y), 0, "%s: %s", names[i], nd_last_error());
        char name[64];
        snprintf(name, sizeof name, "corners_saved_%s_grad.npy", names[i]);
        assert_close(nd_grad(s.x), golden(name), 1e-12, 1e-14);
    }
}

ND_TEST(saved, changing_what_backward_reads_is_refused) {
    nd_tensor *x = nd_set_requires_grad(nd_clone(golden("corners_saved_x.npy")), true);
    nd_tensor *a = nd_clone(golden("corners_saved_a.npy"));
    nd_tensor *y = nd_sum(nd_mul(x, a), ND_ALL, false);
    cr_assert_eq(nd_add_(a, nd_scalar(1, ND_F64)), 0);
    cr_assert_eq(nd_backward(y), -1);
    assert_error("input 1 of 'mul'");
    nd_tensor *r = nd_relu(x);
    y = nd_sum(r, ND_ALL, false);
    cr_assert_eq(nd_fill_(r, 0), 0, "%s", nd_last_error()); /* allowed, and recorded */
    cr_assert_eq(nd_backward(y), -1);
    assert_error("the output of 'relu'");
}

/* ------------------------------------------- 0-d tensors in promotion */

static nd_tensor *promotion_case(const char *name) {
    nd_tensor *mask = bools();
    nd_tensor *i32 = nd_to(ints(), ND_I32), *f32 = nd_to(nd_parse("[1.5, 2.5, 3.5]"), ND_F32);
    if (!strcmp(name, "add_f32_0d_f64"))
        return nd_add(nd_to(nd_parse("[1.5, 2.0, -1.0]"), ND_F32), nd_scalar(2.25, ND_F64));
    if (!strcmp(name, "add_i32_0d_i64")) return nd_add(i32, nd_scalar(2147483648.0 + 5, ND_I64));
    if (!strcmp(name, "add_u8_0d_i64"))
        return nd_add(nd_to(nd_parse("[250, 3, 7]"), ND_U8), nd_scalar(10, ND_I64));
    if (!strcmp(name, "add_i32_0d_f64")) return nd_add(i32, nd_scalar(0.5, ND_F64));
    if (!strcmp(name, "add_bool_0d_i64")) return nd_add(mask, nd_scalar(3, ND_I64));
    if (!strcmp(name, "mul_0d_i32_0d_i64"))
        return nd_mul(nd_scalar(3, ND_I32), nd_scalar(4, ND_I64));
    if (!strcmp(name, "div_i32_0d_i64")) return nd_div(i32, nd_scalar(4, ND_I64));
    if (!strcmp(name, "where_i32_0d_i64")) return nd_where(mask, i32, nd_scalar(5, ND_I64));
    if (!strcmp(name, "where_f32_0d_f64"))
        return nd_where(mask, nd_to(nd_parse("[1.5, 2.5, 3.5]"), ND_F32), nd_scalar(5.5, ND_F64));
    if (!strcmp(name, "maximum_u8_0d_i64"))
        return nd_maximum(nd_to(nd_parse("[1, 2, 250]"), ND_U8), nd_scalar(300, ND_I64));
    if (!strcmp(name, "minimum_f32_0d_f64")) return nd_minimum(f32, nd_scalar(2.0, ND_F64));
    if (!strcmp(name, "pow_f32_0d_f64"))
        return nd_pow(nd_to(nd_parse("[1.5, 2.0, 3.0]"), ND_F32), nd_scalar(2.0, ND_F64));
    if (!strcmp(name, "eq_u8_0d_i64"))
        return nd_eq(nd_to(nd_parse("[255, 0, 1]"), ND_U8), nd_scalar(-1, ND_I64));
    cr_assert_fail("no nd call for '%s'", name);
    return NULL;
}

ND_TEST(promotion, a_0d_tensor_counts_only_when_of_a_higher_kind) {
    const char *names[] = {"add_f32_0d_f64",    "add_i32_0d_i64",     "add_u8_0d_i64",
                           "add_i32_0d_f64",    "add_bool_0d_i64",    "mul_0d_i32_0d_i64",
                           "div_i32_0d_i64",    "where_i32_0d_i64",   "where_f32_0d_f64",
                           "maximum_u8_0d_i64", "minimum_f32_0d_f64", "pow_f32_0d_f64",
                           "eq_u8_0d_i64"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[96];
        nd_tensor *got = promotion_case(names[i]);
        cr_assert(got, "%s: %s", names[i], nd_last_error());
        snprintf(path, sizeof path, "corners_promote_%s_dtype.npy", names[i]);
        cr_assert_eq((int)nd_type(got), (int)nd_item(golden(path)), "%s: dtype %s", names[i],
                     nd_dtype_name(nd_type(got)));
        snprintf(path, sizeof path, "corners_promote_%s.npy", names[i]);
        assert_close(got, golden(path), 0, 0);
    }
    /* the gradient still reaches the 0-d tensor, in its own dtype */
    nd_tensor *x = nd_set_requires_grad(nd_to(nd_parse("[1.5, 2.0]"), ND_F32), true);
    nd_tensor *s = nd_set_requires_grad(nd_scalar(2.0, ND_F64), true);
    cr_assert_eq(nd_backward(nd_sum(nd_mul(x, s), ND_ALL, false)), 0, "%s", nd_last_error());
    cr_assert_eq(nd_type(nd_grad(s)), ND_F64);
    assert_values(nd_grad(s), 0, 3.5);
}

ND_TEST(promotion, a_whole_number_beyond_int64_is_a_float) {
    nd_tensor *got = nd_mul_scalar(ints(), 1e20);
    cr_assert_eq(nd_type(got), ND_F32);
    nd_tensor *want = golden("corners_scalar_1e20.npy");
    assert_close(nd_mul_scalar(nd_parse("[1, -2, 3]"), 1e20), want, 1e-7, 0);
    cr_assert_eq(nd_type(nd_mul_scalar(ints(), 3e18)), ND_I64); /* still an int64 */
}

/* ------------------------------------------- conventions at NaN and -0 */

static nd_tensor *leaky01(nd_tensor *x) {
    return nd_leaky_relu(x, 0.1);
}
static nd_tensor *clamp_case(nd_tensor *x) {
    return nd_clamp(x, -1, 0.5);
}

ND_TEST(nan, conventions_at_nan_and_negative_zero) {
    nd_tensor *x = golden("corners_nan_x.npy");
    nd_tensor *sign = nd_sign(x);
    assert_close(sign, golden("corners_nan_sign.npy"), 0, 0);
    double s1;
    cr_assert_eq(nd_read(nd_select(sign, 0, 1), ND_F64, &s1, sizeof s1), 0);
    cr_assert(!signbit(s1), "sign(-0.0) is +0.0 in PyTorch");
    const struct {
        const char *name;
        nd_tensor *(*f)(nd_tensor *);
    } ops[] = {{"relu", nd_relu},
               {"abs", nd_abs},
               {"sign", nd_sign},
               {"leaky_relu", leaky01},
               {"clamp", clamp_case}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        char name[64];
        nd_tensor *leaf = nd_set_requires_grad(nd_clone(x), true);
        snprintf(name, sizeof name, "corners_nan_%s_grad.npy", ops[i].name);
        assert_close(nd_gradient(nd_sum(ops[i].f(leaf), ND_ALL, false), leaf, false), golden(name),
                     0, 0);
        snprintf(name, sizeof name, "corners_nan_%s_tangent.npy", ops[i].name);
        assert_close(nd_tangent(ops[i].f(nd_make_dual(x, nd_ones_like(x)))), golden(name), 0, 0);
    }
    nd_tensor *(*fs[])(nd_tensor *, nd_tensor *) = {nd_maximum, nd_minimum};
    const char *names[] = {"maximum", "minimum"};
    for (int k = 0; k < 2; k++) {
        nd_tensor *a = nd_set_requires_grad(nd_clone(golden("corners_nan_a.npy")), true);
        nd_tensor *b = nd_set_requires_grad(nd_clone(golden("corners_nan_b.npy")), true);
        nd_tensor *grads[2];
        cr_assert_eq(nd_gradients(nd_sum(fs[k](a, b), ND_ALL, false), 2, (nd_tensor *[]){a, b},
                                  grads, false),
                     0);
        char name[64];
        snprintf(name, sizeof name, "corners_nan_%s_grad_a.npy", names[k]);
        assert_close(grads[0], golden(name), 0, 0);
        snprintf(name, sizeof name, "corners_nan_%s_grad_b.npy", names[k]);
        assert_close(grads[1], golden(name), 0, 0);
        /* forward mode: the tangent of max(a, b) along (1, 1) is the sum of the shares */
        nd_tensor *ta = nd_tangent(fs[k](nd_make_dual(nd_detach(a), nd_ones_like(a)),
                                         nd_make_dual(nd_detach(b), nd_ones_like(b))));
        assert_close(ta, nd_add(grads[0], grads[1]), 0, 0);
    }
}

/* ------------------------------------------- integer linspace */

ND_TEST(ranges, integer_linspace_truncates_as_pytorch) {
    const struct {
        const char *name;
        double a, b;
        int64_t n;
        nd_dtype dtype;
    } cases[] = {{"i64_fraction", 0.5, 10.7, 5, ND_I64},
                 {"i64_negative", -3.7, 4.2, 7, ND_I64},
                 {"i32_down", 10.9, 0.2, 4, ND_I32},
                 {"i64_halves", -2.5, 2.5, 6, ND_I64},
                 {"u8", 0.9, 254.5, 7, ND_U8}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "corners_linspace_%s.npy", cases[i].name);
        nd_tensor *got = nd_linspace(cases[i].a, cases[i].b, cases[i].n, cases[i].dtype);
        cr_assert_eq(nd_type(got), cases[i].dtype);
        assert_close(got, golden(name), 0, 0);
    }
}

/* ------------------------------------------- subtraction with bool */

ND_TEST(promotion, subtraction_refuses_bool_tensors) {
    char *text = read_file(golden_path("corners_sub_bool.txt"), NULL);
    char *with_number = strtok(text, "\n");
    strtok(NULL, "\n");
    char *two_bools = strtok(NULL, "\n");
    /* PyTorch's reason up to its advice (nd names its own functions) */
    *strstr(with_number, " If you") = '\0';
    *strstr(two_bools, " Use") = '\0';
    cr_assert_null(nd_sub_scalar(bools(), 1));
    assert_error(with_number);
    cr_assert_null(nd_rsub_scalar(bools(), 1));
    assert_error(with_number);
    cr_assert_null(nd_sub(ints(), bools()));
    assert_error(with_number);
    cr_assert_null(nd_sub(bools(), bools()));
    assert_error(two_bools);
    free(text);
}

/* ------------------------------------------- LAPACK and BLAS never print */

#include <unistd.h>

/* Runs every decomposition and product on the corner shapes with fds 1 and 2
 * sent to a file (OpenBLAS's xerbla prints to stdout, LAPACKE's to stderr);
 * returns how many bytes were written there. */
static long output_bytes_during_corner_cases(void) {
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    FILE *capture = tmpfile();
    cr_assert(saved_out >= 0 && saved_err >= 0 && capture);
    dup2(fileno(capture), 1);
    dup2(fileno(capture), 2);
    const int64_t sizes[][2] = {{0, 0}, {1, 1}, {0, 3}, {3, 0}, {2, 2}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        nd_tensor *m = nd_zeros(ND_F64, 2, sizes[i]);
        nd_tensor *values, *vectors, *u, *s, *vt, *re, *im, *vre, *vim;
        nd_inv(m), nd_det(m), nd_eigh(m, &values, &vectors), nd_svd(m, &u, &s, &vt);
        nd_eig(m, &re, &im, &vre, &vim);
        nd_solve(m, nd_zeros(ND_F64, ND_SHAPE(sizes[i][0])));
        nd_solve(m, nd_zeros(ND_F64, ND_SHAPE(sizes[i][0], 0)));
        nd_solve(m, nd_zeros(ND_F64, ND_SHAPE(sizes[i][0], 2)));
        nd_tensor *f32 = nd_to(m, ND_F32);
        nd_inv(f32), nd_det(f32), nd_eigh(f32, &values, &vectors), nd_svd(f32, &u, &s, &vt);
        nd_matmul(m, nd_t(m)), nd_matmul(nd_t(m), m), nd_mm(f32, nd_t(f32));
        nd_mv(m, nd_zeros(ND_F64, ND_SHAPE(sizes[i][1])));
        nd_linear(m, m, NULL), nd_linear(f32, nd_zeros(ND_F32, ND_SHAPE(0, sizes[i][1])), NULL);
        nd_outer(nd_zeros(ND_F64, ND_SHAPE(sizes[i][0])), nd_zeros(ND_F64, ND_SHAPE(0)));
    }
    nd_inv(nd_zeros(ND_F64, ND_SHAPE(3, 3))); /* singular */
    nd_inv(nd_full(ND_F64, ND_SHAPE(2, 2), NAN));
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    fseek(capture, 0, SEEK_END); /* written through the descriptors, not the FILE */
    long bytes = ftell(capture);
    fclose(capture);
    return bytes;
}

ND_TEST(lapack, never_prints_and_empty_matrices_work) {
    nd_clear_error();
    cr_assert_eq(output_bytes_during_corner_cases(), 0, "a library printed");
    nd_tensor *empty = nd_zeros(ND_F64, ND_SHAPE(0, 0));
    assert_close(nd_inv(empty), golden("corners_empty_inv.npy"), 0, 0);
    assert_close(nd_det(empty), golden("corners_empty_det.npy"), 0, 0);
    assert_close(nd_solve(empty, nd_zeros(ND_F64, ND_SHAPE(0, 3))),
                 golden("corners_empty_solve.npy"), 0, 0);
    assert_close(nd_solve(nd_eye(2, ND_F64), nd_zeros(ND_F64, ND_SHAPE(2, 0))),
                 golden("corners_empty_solve_no_columns.npy"), 0, 0);
    /* and the empty inverse is differentiable like any other */
    nd_tensor *leaf = nd_set_requires_grad(nd_zeros(ND_F64, ND_SHAPE(0, 0)), true);
    nd_tensor *g = nd_gradient(nd_sum(nd_inv(leaf), ND_ALL, false), leaf, false);
    assert_shape(g, 2, (const int64_t[]){0, 0});
}

/* ------------------------------------------- eigh's gradient is symmetric */

ND_TEST(eigh, gradient_is_the_symmetric_part_as_pytorch) {
    nd_tensor *a = golden("corners_eigh_a.npy"), *wv = golden("corners_eigh_wv.npy");
    nd_tensor *ww = golden("corners_eigh_ww.npy");
    nd_tensor *leaf = nd_set_requires_grad(nd_clone(a), true);
    nd_tensor *values, *vectors;
    cr_assert_eq(nd_eigh(leaf, &values, &vectors), 0, "%s", nd_last_error());
    nd_tensor *loss = nd_add(nd_sum(nd_mul(nd_mul(vectors, vectors), wv), ND_ALL, false),
                             nd_sum(nd_mul(values, ww), ND_ALL, false));
    nd_tensor *g = nd_gradient(loss, leaf, false);
    assert_close(g, golden("corners_eigh_grad.npy"), 1e-10, 1e-12);
    assert_close(g, nd_t(g), 0, 0);
    /* forward mode takes a non-symmetric tangent as given, as PyTorch */
    nd_tensor *dual = nd_make_dual(a, golden("corners_eigh_tangent.npy"));
    cr_assert_eq(nd_eigh(dual, &values, &vectors), 0, "%s", nd_last_error());
    assert_close(nd_tangent(values), golden("corners_eigh_values_tangent.npy"), 1e-10, 1e-12);
    assert_close(nd_tangent(nd_mul(vectors, vectors)), golden("corners_eigh_squares_tangent.npy"),
                 1e-10, 1e-12);
}

/* ------------------------------------------- in-place writes are recorded */

static nd_tensor *write_loss(const char *name, nd_tensor *x, nd_tensor *y) {
    nd_tensor *w = golden("corners_write_w.npy"), *h = NULL, *before = NULL;
    nd_tensor *both = nd_cat(2, (nd_tensor *[]){x, y}, 0);
    int rc = -1;
    if (!strcmp(name, "copy_into_slice")) {
        h = nd_zeros(ND_F64, ND_SHAPE(4, 3));
        rc = nd_copy_(nd_slice(h, 0, 1, 3, 1), nd_mul_scalar(x, 2));
    } else if (!strcmp(name, "add_into_nonleaf")) {
        h = nd_cat(2, (nd_tensor *[]){nd_mul_scalar(x, 2), y}, 0);
        rc = nd_add_(h, nd_cat(2, (nd_tensor *[]){y, nd_mul(x, x)}, 0));
    } else if (!strcmp(name, "axpy_into_select")) {
        h = nd_mul_scalar(both, 1.5);
        rc = nd_axpy_(nd_select(h, 0, 2), 0.5, nd_mul(nd_select(x, 0, 0), nd_select(y, 0, 1)));
    } else if (!strcmp(name, "scale_a_view")) {
        h = nd_mul_scalar(both, 1.0);
        rc = nd_mul_scalar_(nd_select(h, 1, 1), 3.0);
    } else if (!strcmp(name, "fill_a_view")) {
        h = nd_mul_scalar(both, 2.0);
        rc = nd_fill_(nd_slice(nd_slice(h, 0, 1, 3, 1), 1, 0, 2, 1), 0.5);
    } else if (!strcmp(name, "view_made_before_the_write")) {
        h = nd_mul_scalar(both, 2.0);
        nd_tensor *column = nd_select(h, 1, 1);
        rc = nd_copy_(nd_slice(h, 0, 1, 3, 1), nd_mul_scalar(y, 3.0));
        before = nd_sum(nd_mul(column, column), ND_ALL, false); /* the column after the write */
    } else {
        h = nd_mul_scalar(both, 2.0);
        before = nd_mul_scalar(nd_sum(h, ND_ALL, false), 3.0); /* does not save h */
        rc = nd_add_(h, nd_cat(2, (nd_tensor *[]){y, x}, 0));
    }
    cr_assert_eq(rc, 0, "%s: %s", name, nd_last_error());
    nd_tensor *loss = nd_sum(nd_mul(nd_sin(h), w), ND_ALL, false);
    return before ? nd_add(before, loss) : loss;
}

ND_TEST(inplace, writes_from_tensors_that_require_a_gradient_are_recorded) {
    const char *names[] = {"copy_into_slice",
                           "add_into_nonleaf",
                           "axpy_into_select",
                           "scale_a_view",
                           "fill_a_view",
                           "earlier_use_keeps_old_history",
                           "view_made_before_the_write"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        nd_tensor *x = nd_set_requires_grad(nd_clone(golden("corners_write_x.npy")), true);
        nd_tensor *y = nd_set_requires_grad(nd_clone(golden("corners_write_y.npy")), true);
        nd_tensor *grads[2];
        cr_assert_eq(
            nd_gradients(write_loss(names[i], x, y), 2, (nd_tensor *[]){x, y}, grads, false), 0,
            "%s: %s", names[i], nd_last_error());
        char name[96];
        snprintf(name, sizeof name, "corners_write_%s_gx.npy", names[i]);
        assert_close(grads[0], golden(name), 1e-12, 1e-14);
        snprintf(name, sizeof name, "corners_write_%s_gy.npy", names[i]);
        assert_close(grads[1], golden(name), 1e-12, 1e-14);
    }
}

ND_TEST(inplace, writes_carry_tangents) {
    nd_tensor *x = nd_make_dual(golden("corners_write_x.npy"), golden("corners_write_vx.npy"));
    nd_tensor *buf = nd_zeros(ND_F64, ND_SHAPE(4, 3));
    cr_assert_eq(nd_copy_(nd_slice(buf, 0, 1, 3, 1), nd_mul_scalar(x, 2)), 0, "%s",
                 nd_last_error());
    cr_assert_eq(nd_axpy_(nd_select(buf, 0, 0), 0.5, nd_select(x, 0, 1)), 0, "%s", nd_last_error());
    assert_close(nd_tangent(buf), golden("corners_write_tangent.npy"), 1e-12, 1e-14);
}

/* Writes into a tensor laid out as a transpose (a root of shape (4, 3) with
 * strides (1, 4)), as in corners.py: both modes. */
static nd_tensor *strided_writes(nd_tensor *x) {
    nd_tensor *base = nd_detach(nd_t(nd_zeros(ND_F64, ND_SHAPE(3, 4))));
    cr_assert(!nd_is_contiguous(base) && nd_strides(base)[0] == 1);
    nd_tensor *sin0 = nd_sin(nd_select(x, 0, 0));
    int rc = nd_copy_(base, nd_mul_scalar(nd_cat(2, (nd_tensor *[]){x, nd_mul(x, x)}, 0), 2));
    rc |= nd_mul_scalar_(nd_slice(base, 0, 1, 3, 1), 3.0);
    rc |= nd_axpy_(nd_select(base, 1, 0), 0.5,
                   nd_slice(nd_cat(2, (nd_tensor *[]){sin0, sin0}, 0), 0, 0, 4, 1));
    rc |= nd_copy_(nd_select(base, 0, 3), nd_exp(nd_select(x, 0, 1)));
    cr_assert_eq(rc, 0, "%s", nd_last_error());
    return base;
}

ND_TEST(inplace, writes_into_a_non_contiguous_base_both_modes) {
    nd_tensor *x = nd_set_requires_grad(nd_clone(golden("corners_write_x.npy")), true);
    nd_tensor *loss =
        nd_sum(nd_mul(strided_writes(x), golden("corners_write_w.npy")), ND_ALL, false);
    nd_tensor *g = nd_gradient(loss, x, false);
    cr_assert(g, "%s", nd_last_error());
    assert_close(g, golden("corners_write_strided_gx.npy"), 1e-12, 1e-14);
    nd_tensor *dual = nd_make_dual(golden("corners_write_x.npy"), golden("corners_write_vx.npy"));
    assert_close(nd_tangent(strided_writes(dual)), golden("corners_write_strided_tangent.npy"),
                 1e-12, 1e-14);
}

ND_TEST(inplace, a_leaf_that_requires_a_gradient_is_not_written) {
    nd_tensor *x = nd_set_requires_grad(nd_zeros(ND_F64, ND_SHAPE(2, 3)), true);
    cr_assert_eq(nd_fill_(x, 1), -1);
    assert_error("a leaf tensor that requires a gradient");
    cr_assert_eq(nd_copy_(nd_select(x, 0, 1), nd_ones(ND_F64, ND_SHAPE(3))), -1);
    assert_error("or a view of one");
    bool previous = nd_set_grad_enabled(false); /* e.g. an optimizer step */
    cr_assert_eq(nd_fill_(x, 1), 0);
    nd_set_grad_enabled(previous);
    cr_assert(nd_is_leaf(x));
}

/* ------------------------------------------- svd and eig gradients */

ND_TEST(svd, gradients_and_tangents_match_pytorch) {
    const char *names[] = {"tall", "wide", "square"};
    for (size_t i = 0; i < 3; i++) {
        char path[96];
#define SVD_GOLDEN(part)                                                                           \
    (snprintf(path, sizeof path, "corners_svd_%s_%s.npy", names[i], part), golden(path))
        nd_tensor *a = SVD_GOLDEN("a"), *wu = SVD_GOLDEN("wu"), *ws = SVD_GOLDEN("ws");
        nd_tensor *wv = SVD_GOLDEN("wv"), *tangent = SVD_GOLDEN("tangent");
        nd_tensor *leaf = nd_set_requires_grad(nd_clone(a), true), *u, *s, *vt;
        cr_assert_eq(nd_svd(leaf, &u, &s, &vt), 0, "%s", nd_last_error());
        nd_tensor *loss = nd_add(nd_add(nd_sum(nd_mul(nd_mul(u, u), wu), ND_ALL, false),
                                        nd_sum(nd_mul(s, ws), ND_ALL, false)),
                                 nd_sum(nd_mul(nd_mul(vt, vt), wv), ND_ALL, false));
        nd_tensor *g = nd_gradient(loss, leaf, false);
        cr_assert(g, "%s: %s", names[i], nd_last_error());
        assert_close(g, SVD_GOLDEN("grad"), 1e-9, 1e-11);
        cr_assert_eq(nd_svd(nd_make_dual(a, tangent), &u, &s, &vt), 0, "%s", nd_last_error());
        assert_close(nd_tangent(s), SVD_GOLDEN("s_tangent"), 1e-9, 1e-11);
        assert_close(nd_tangent(nd_mul(u, u)), SVD_GOLDEN("u2_tangent"), 1e-9, 1e-11);
        assert_close(nd_tangent(nd_mul(vt, vt)), SVD_GOLDEN("vt2_tangent"), 1e-9, 1e-11);
#undef SVD_GOLDEN
    }
}

ND_TEST(svd, undefined_gradients_are_errors_not_nan) {
    nd_tensor *leaf = nd_set_requires_grad(nd_eye(2, ND_F64), true), *u, *s, *vt;
    cr_assert_eq(nd_svd(leaf, &u, &s, &vt), 0);
    cr_assert_null(nd_gradient(nd_sum(u, ND_ALL, false), leaf, false));
    assert_error("repeated singular values");
    /* the singular values alone are fine */
    assert_close(nd_gradient(nd_sum(s, ND_ALL, false), leaf, false), nd_eye(2, ND_F64), 0, 1e-15);
}

/* Σ L∘wl + Σ V²∘wv (independent of the eigenvectors' signs), as in corners.py */
static nd_tensor *eig_loss(nd_tensor *a, nd_tensor *wl, nd_tensor *wv) {
    nd_tensor *values, *vectors;
    if (nd_eig(a, &values, NULL, &vectors, NULL)) return NULL;
    return nd_add(nd_sum(nd_mul(values, wl), ND_ALL, false),
                  nd_sum(nd_mul(nd_square(vectors), wv), ND_ALL, false));
}

ND_TEST(eig, gradients_and_tangents_match_pytorch) {
    nd_tensor *a = golden("corners_eig_a.npy"), *wl = golden("corners_eig_wl.npy");
    nd_tensor *wv = golden("corners_eig_wv.npy"), *tangent = golden("corners_eig_tangent.npy");
    nd_tensor *leaf = nd_set_requires_grad(nd_clone(a), true), *values, *vectors;
    nd_tensor *g = nd_gradient(eig_loss(leaf, wl, wv), leaf, false);
    cr_assert(g, "%s", nd_last_error());
    assert_close(g, golden("corners_eig_grad.npy"), 1e-10, 1e-12);
    /* the eigenvalues alone: no vectors asked for, still computed for the rule */
    cr_assert_eq(nd_eig(leaf, &values, NULL, NULL, NULL), 0, "%s", nd_last_error());
    assert_close(values, golden("corners_eig_values.npy"), 1e-12, 1e-12);
    g = nd_gradient(nd_sum(nd_mul(values, wl), ND_ALL, false), leaf, false);
    assert_close(g, golden("corners_eig_values_grad.npy"), 1e-10, 1e-12);
    nd_tensor *values_im, *vectors_im;
    cr_assert_eq(nd_eig(nd_make_dual(a, tangent), &values, &values_im, &vectors, &vectors_im), 0);
    assert_close(nd_tangent(values), golden("corners_eig_values_tangent.npy"), 1e-10, 1e-12);
    assert_close(nd_tangent(nd_square(vectors)), golden("corners_eig_vectors2_tangent.npy"), 1e-10,
                 1e-12);
    assert_close(nd_tangent(values_im), nd_zeros(ND_F64, ND_SHAPE(3)), 0, 0);
    assert_close(nd_tangent(vectors_im), nd_zeros(ND_F64, ND_SHAPE(3, 3)), 0, 0);
}

static nd_tensor *eig_weighted(nd_tensor *x, void *ctx) {
    return eig_loss(x, golden("corners_eig_wl.npy"), ctx);
}
static nd_tensor *eig_vectors_of(nd_tensor *x, void *ctx) {
    (void)ctx;
    nd_tensor *vectors;
    return nd_eig(x, NULL, NULL, &vectors, NULL) ? NULL : vectors;
}

ND_TEST(eig, gradcheck_both_modes) {
    nd_tensor *a = golden("corners_eig_a.npy");
    cr_assert_eq(nd_gradcheck(eig_weighted, golden("corners_eig_wv.npy"), a, 1e-6, 1e-7, 1e-6), 0,
                 "%s", nd_last_error());
    cr_assert_eq(nd_gradcheck(eig_vectors_of, NULL, a, 1e-6, 1e-7, 1e-6), 0, "%s", nd_last_error());
}

ND_TEST(eig, undefined_gradients_are_errors_not_zeros) {
    nd_tensor *values, *values_im, *vectors, *vectors_im;
    /* complex eigenvalues ±i */
    nd_tensor *rot =
        nd_set_requires_grad(nd_to(nd_parse("[[0.0, -1.0], [1.0, 0.0]]"), ND_F64), true);
    cr_assert_eq(nd_eig(rot, &values, NULL, NULL, NULL), 0);
    cr_assert_null(nd_gradient(nd_sum(values, ND_ALL, false), rot, false));
    assert_error("nd_eig: the gradient through the eigenvalues is supported for real eigenvalues");
    cr_assert_null(nd_jvp(eig_vectors_of, NULL, rot, nd_ones_like(rot), NULL));
    assert_error("nd_eig: the gradient through the eigenvectors is supported for real");
    /* a repeated eigenvalue: the eigenvectors are not unique */
    nd_tensor *eye = nd_set_requires_grad(nd_eye(2, ND_F64), true);
    cr_assert_eq(nd_eig(eye, &values, NULL, &vectors, NULL), 0);
    cr_assert_null(nd_gradient(nd_sum(vectors, ND_ALL, false), eye, false));
    assert_error("nd_eig: the gradient through the eigenvectors is not defined for repeated");
    /* (the eigenvalues' gradient is: I, as PyTorch) */
    assert_close(nd_gradient(nd_sum(values, ND_ALL, false), eye, false), nd_eye(2, ND_F64), 0,
                 1e-15);
    /* real eigenvalues: the imaginary parts are 0 nearby, so is their gradient,
     * but the eigenvectors' phase is refused as PyTorch refuses it */
    nd_tensor *a = nd_set_requires_grad(nd_clone(golden("corners_eig_a.npy")), true);
    cr_assert_eq(nd_eig(a, NULL, &values_im, NULL, &vectors_im), 0);
    assert_close(nd_gradient(nd_sum(values_im, ND_ALL, false), a, false),
                 nd_zeros(ND_F64, ND_SHAPE(3, 3)), 0, 0);
    nd_tensor *w = nd_reshape(nd_arange(0, 9, 1, ND_F64), ND_SHAPE(3, 3));
    cr_assert_null(nd_gradient(nd_sum(nd_mul(vectors_im, w), ND_ALL, false), a, false));
    assert_error("depends on the eigenvectors' phase");
}
