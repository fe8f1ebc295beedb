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
