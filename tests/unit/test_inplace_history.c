/* In-place writes and the history around them (issue 16), against
 * tests/reference/inplace_history.py:
 * - a write whose source was computed from the tensor written: gradients and
 *   tangents as PyTorch's, and every tensor freed afterwards (the ops in the
 *   source's history that used the tensor must not hold it, or the write's
 *   node and they would hold each other forever);
 * - a view made before a write and used after it (plain, expanded,
 *   transposed): its history is regenerated, as PyTorch's grad_fn. */
#include "support.h"

#include "core/internal.h" /* the storage's reference count: what still holds it */

#include <stdlib.h>

static nd_tensor *slice0(nd_tensor *t, int64_t start, int64_t stop) {
    return nd_slice(t, 0, start, stop, 1);
}

/* The tensor whose Σ sin is the loss, for each case of inplace_history.py;
 * *written is set to the tensor written in place. */
static nd_tensor *history_case(const char *name, nd_tensor *x, nd_tensor **written) {
    nd_tensor *y = nd_mul_scalar(x, 2.0);
    *written = y;
    int rc = -1;
    if (!strcmp(name, "src_from_the_base")) {
        rc = nd_copy_(slice0(y, 0, 2), nd_exp(slice0(y, 1, 3)));
    } else if (!strcmp(name, "src_a_view_of_the_base")) {
        rc = nd_copy_(slice0(y, 0, 1), slice0(y, 2, 3));
    } else if (!strcmp(name, "src_from_a_buffer_without_gradient")) {
        y = *written = nd_full(ND_F64, ND_SHAPE(3, 2), 1.5);
        rc = nd_copy_(slice0(y, 0, 2), nd_mul(nd_exp(slice0(y, 1, 3)), slice0(x, 0, 2)));
    } else if (!strcmp(name, "view_used_before_and_after")) {
        nd_tensor *v = slice0(y, 0, 2), *z = nd_exp(v);
        rc = nd_mul_scalar_(y, 3.0);
        y = nd_cat(2, (nd_tensor *[]){z, nd_sin(v)}, 0);
    } else if (!strcmp(name, "view_written_from_itself")) {
        nd_tensor *v = nd_select(y, 1, 1);
        rc = nd_mul_scalar_(y, 3.0);
        rc |= nd_add_(nd_select(y, 1, 0), nd_exp(v));
        y = nd_mul(v, nd_select(y, 1, 0));
    } else if (!strcmp(name, "expanded_view_made_before_the_write")) {
        nd_tensor *e = nd_expand(slice0(y, 0, 1), ND_SHAPE(4, 2));
        rc = nd_mul_scalar_(y, 3.0);
        y = nd_mul(e, e);
    } else if (!strcmp(name, "expanded_transposed_view")) {
        nd_tensor *e = nd_expand(slice0(nd_t(y), 1, 2), ND_SHAPE(3, 3));
        rc = nd_mul_scalar_(slice0(y, 1, 3), -2.0);
        y = nd_mul(e, nd_reshape(nd_arange(1, 10, 1, ND_F64), ND_SHAPE(3, 3)));
    }
    cr_assert_eq(rc, 0, "%s: %s", name, nd_last_error());
    return y;
}

static const char *const CASES[] = {
    "src_from_the_base",          "src_a_view_of_the_base",   "src_from_a_buffer_without_gradient",
    "view_used_before_and_after", "view_written_from_itself", "expanded_view_made_before_the_write",
    "expanded_transposed_view"};
#define NCASES (sizeof CASES / sizeof CASES[0])

ND_TEST(inplace_history, gradients_match_pytorch) {
    for (size_t i = 0; i < NCASES; i++) {
        nd_tensor *x = nd_set_requires_grad(nd_clone(golden("inplace_history_x.npy")), true);
        nd_tensor *written;
        nd_tensor *loss = nd_sum(nd_sin(history_case(CASES[i], x, &written)), ND_ALL, false);
        nd_tensor *g = nd_gradient(loss, x, false);
        cr_assert(g, "%s: %s", CASES[i], nd_last_error());
        char name[96];
        snprintf(name, sizeof name, "inplace_history_%s_grad.npy", CASES[i]);
        assert_close(g, golden(name), 1e-12, 1e-14);
    }
}

ND_TEST(inplace_history, tangents_match_pytorch) {
    for (size_t i = 0; i < NCASES; i++) {
        nd_tensor *x =
            nd_make_dual(golden("inplace_history_x.npy"), golden("inplace_history_v.npy"));
        nd_tensor *written;
        nd_tensor *y = history_case(CASES[i], x, &written);
        char name[96];
        snprintf(name, sizeof name, "inplace_history_%s_tangent.npy", CASES[i]);
        cr_assert(nd_tangent(y), "%s: no tangent", CASES[i]);
        assert_close(nd_tangent(y), golden(name), 1e-12, 1e-14);
    }
}

/* Everything the case made is freed when its scope ends, backward run or
 * not: afterwards only the probe (a header over the same memory, kept
 * outside) holds the written tensor's storage. */
ND_TEST(inplace_history, every_tensor_is_freed) {
    for (size_t i = 0; i < NCASES; i++)
        for (int backward = 0; backward < 2; backward++) {
            nd_tensor *x = nd_set_requires_grad(nd_clone(golden("inplace_history_x.npy")), true);
            nd_tensor *probe = NULL;
            nd_scope_begin();
            nd_tensor *written;
            nd_tensor *loss = nd_sum(nd_sin(history_case(CASES[i], x, &written)), ND_ALL, false);
            probe = nd_keep(nd_detach(written));
            if (backward) cr_assert_eq(nd_backward(loss), 0, "%s: %s", CASES[i], nd_last_error());
            nd_scope_end();
            cr_assert_eq(atomic_load(&probe->storage->refcount), 1,
                         "%s (backward %d): the written tensor's memory is still held", CASES[i],
                         backward);
        }
}

/* Backward from a view made before a write runs through the write too. */
ND_TEST(inplace_history, backward_from_a_view_made_before_the_write) {
    nd_tensor *x = nd_set_requires_grad(nd_clone(golden("inplace_history_x.npy")), true);
    nd_tensor *y = nd_mul_scalar(x, 2.0);
    nd_tensor *corner = nd_select(nd_select(y, 0, 0), 0, 0);
    cr_assert_eq(nd_mul_scalar_(y, 3.0), 0, "%s", nd_last_error());
    cr_assert_eq(nd_backward(corner), 0, "%s", nd_last_error());
    assert_values(nd_grad(x), 0, 6, 0, 0, 0, 0, 0);
}
