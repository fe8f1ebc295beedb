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
    cr_assert_eq(nd_fill_(r, 0), -1); /* r requires a gradient */
    bool previous = nd_set_grad_enabled(false);
    cr_assert_eq(nd_fill_(r, 0), 0);
    nd_set_grad_enabled(previous);
    cr_assert_eq(nd_backward(y), -1);
    assert_error("the output of 'relu'");
}
