/* nd_errcode(): every failure sets a code with its message, so a program can
 * tell a shape mistake from a missing file without reading the text; a NULL
 * passed on keeps the first failure's code; and the functions whose result
 * cannot show failure (nd_item, nd_get, nd_allclose, nd_equal, nd_batches_next)
 * clear the error on entry, so an error after the call is the call's own.
 * (Out of memory is checked for every allocation by tests/faults/alloc_sweep.) */
#include "support.h"

#include <nd_frame.h>
#include <nd_image.h>

/* Asserts the thread's error has `code`, and a message. */
static void expect_code(nd_error_code code, const char *what) {
    cr_assert_not_null(nd_last_error(), "%s: no error", what);
    cr_assert_eq(nd_errcode(), code, "%s: code %s, want %s (%s)", what,
                 nd_errcode_name(nd_errcode()), nd_errcode_name(code), nd_last_error());
}

ND_TEST(errcode, none_and_cleared) {
    cr_assert_eq(nd_errcode(), ND_OK);
    cr_assert_null(nd_add(nd_ones(ND_F32, ND_SHAPE(2, 3)), nd_ones(ND_F32, ND_SHAPE(4))));
    expect_code(ND_ERR_SHAPE, "nd_add (2, 3) + (4,)");
    nd_clear_error();
    cr_assert_eq(nd_errcode(), ND_OK);
    cr_assert_null(nd_last_error());
    cr_assert_str_eq(nd_errcode_name(ND_ERR_SHAPE), "shape");
    cr_assert_str_eq(nd_errcode_name(ND_OK), "ok");
}

ND_TEST(errcode, shapes_dtypes_indices) {
    nd_tensor *m = nd_ones(ND_F32, ND_SHAPE(2, 3));
    cr_assert_null(nd_matmul(m, m));
    expect_code(ND_ERR_SHAPE, "nd_matmul (2, 3)·(2, 3)");
    cr_assert_null(nd_reshape(m, ND_SHAPE(4)));
    expect_code(ND_ERR_SHAPE, "nd_reshape to (4,)");
    cr_assert_null(nd_relu(nd_ones(ND_BOOL, ND_SHAPE(2))));
    expect_code(ND_ERR_DTYPE, "nd_relu of bool");
    cr_assert_null(nd_mean(nd_ones(ND_I64, ND_SHAPE(2)), ND_ALL, false));
    expect_code(ND_ERR_DTYPE, "nd_mean of int64");
    cr_assert_null(nd_mm(m, nd_ones(ND_F64, ND_SHAPE(3, 2))));
    expect_code(ND_ERR_DTYPE, "nd_mm f32·f64");
    cr_assert_null(nd_select(m, 0, 5));
    expect_code(ND_ERR_INDEX, "nd_select index 5 of 2");
    cr_assert_null(nd_sum(m, 7, false));
    expect_code(ND_ERR_INDEX, "nd_sum over dim 7");
    cr_assert_null(nd_arange(0, 1, 0, ND_F32));
    expect_code(ND_ERR_ARG, "nd_arange step 0");
}

ND_TEST(errcode, a_null_passed_on_keeps_the_first_code) {
    nd_tensor *bad = nd_select(nd_ones(ND_F32, ND_SHAPE(2)), 0, 9);
    expect_code(ND_ERR_INDEX, "nd_select");
    cr_assert_null(nd_exp(nd_add(bad, nd_ones(ND_F32, ND_SHAPE(2)))));
    expect_code(ND_ERR_INDEX, "the chain after nd_select");
    assert_error("nd_select");
    /* with no earlier error, a NULL input is a bad argument of its own */
    nd_clear_error();
    cr_assert_null(nd_exp(NULL));
    expect_code(ND_ERR_ARG, "nd_exp(NULL)");
}

ND_TEST(errcode, a_newer_error_replaces_an_older_one) {
    cr_assert_null(nd_relu(nd_ones(ND_BOOL, ND_SHAPE(2))));
    expect_code(ND_ERR_DTYPE, "nd_relu of bool");
    cr_assert_null(nd_add(nd_ones(ND_F32, ND_SHAPE(2)), nd_ones(ND_F32, ND_SHAPE(3))));
    expect_code(ND_ERR_SHAPE, "nd_add after it");
    assert_error("nd_add");
}

ND_TEST(errcode, files) {
    cr_assert_null(nd_load_npy("/nonexistent-nd-dir/x.npy"));
    expect_code(ND_ERR_IO, "nd_load_npy of a missing file");
    cr_assert_eq(nd_save_npy(nd_ones(ND_F32, ND_SHAPE(2)), "/nonexistent-nd-dir/x.npy"), -1);
    expect_code(ND_ERR_IO, "nd_save_npy into a missing folder");
    cr_assert_null(nd_load_safetensors("/nonexistent-nd-dir/x.safetensors", "w"));
    expect_code(ND_ERR_IO, "nd_load_safetensors of a missing file");
    cr_assert_null(nd_read_csv("/nonexistent-nd-dir/x.csv", NULL));
    expect_code(ND_ERR_IO, "nd_read_csv of a missing file");
    cr_assert_null(nd_image_read("/nonexistent-nd-dir/x.png"));
    expect_code(ND_ERR_IO, "nd_image_read of a missing file");

    static const char junk[] = "this is not a file of any format nd reads";
    cr_assert_null(nd_parse_npy(junk, sizeof junk));
    expect_code(ND_ERR_FORMAT, "nd_parse_npy of text");
    cr_assert_null(nd_parse_safetensors(junk, sizeof junk, "w"));
    expect_code(ND_ERR_FORMAT, "nd_parse_safetensors of text");
    cr_assert_null(nd_image_decode(junk, sizeof junk));
    expect_code(ND_ERR_FORMAT, "nd_image_decode of text");
    static const unsigned char png_start[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0};
    cr_assert_null(nd_image_decode(png_start, sizeof png_start));
    expect_code(ND_ERR_FORMAT, "nd_image_decode of a cut PNG");
    static const char csv[] = "a,b\n1,\"2\n";
    cr_assert_null(nd_parse_csv(csv, sizeof csv - 1, NULL));
    expect_code(ND_ERR_FORMAT, "nd_parse_csv with an open quote");
    cr_assert_null(nd_parse("[1, 2"));
    expect_code(ND_ERR_FORMAT, "nd_parse of an open bracket");
}

ND_TEST(errcode, autograd) {
    nd_tensor *x = nd_ones(ND_F32, ND_SHAPE(3));
    cr_assert_eq(nd_backward(nd_sum(x, ND_ALL, false)), -1);
    expect_code(ND_ERR_NOT_DIFFERENTIABLE, "nd_backward with nothing requiring a gradient");

    nd_tensor *w = nd_set_requires_grad(nd_ones(ND_F32, ND_SHAPE(3)), true);
    nd_tensor *h = nd_mul(w, nd_ones(ND_F32, ND_SHAPE(3)));
    nd_tensor *y = nd_sum(nd_mul(h, h), ND_ALL, false); /* saves h */
    cr_assert_eq(nd_fill_(h, 2.0), 0, "%s", nd_last_error());
    cr_assert_eq(nd_backward(y), -1);
    expect_code(ND_ERR_NOT_DIFFERENTIABLE, "nd_backward after h changed in place");
}

ND_TEST(errcode, used_after_its_scope) {
    nd_scope_begin();
    nd_tensor *t = nd_ones(ND_F32, ND_SHAPE(2));
    nd_scope_end();
    cr_assert_null(nd_exp(t));
    expect_code(ND_ERR_FREED, "a tensor used after its scope ended");
}

ND_TEST(errcode, singular_matrix) {
    /* (the build without LAPACK, build-noblas, runs only the matrix tests) */
    cr_assert_null(nd_inv(nd_zeros(ND_F64, ND_SHAPE(2, 2))));
    expect_code(ND_ERR_NUMERIC, "nd_inv of zeros");
}

/* An error left from before (nd_add of two shapes that do not broadcast). */
static void older_error(void) {
    cr_assert_null(nd_add(nd_ones(ND_F32, ND_SHAPE(2)), nd_ones(ND_F32, ND_SHAPE(3))));
    cr_assert_not_null(nd_last_error());
}

/* The functions whose result can be a value and an error at once start clean. */
ND_TEST(errcode, results_that_cannot_show_failure_clear_the_error) {
    nd_tensor *v = nd_from(ND_F64, ND_SHAPE(2), (double[]){NAN, 1.0});
    nd_tensor *one = nd_scalar(NAN, ND_F64);

    older_error();
    cr_assert(isnan(nd_item(one)));
    cr_assert_null(nd_last_error(), "nd_item kept an older error: %s", nd_last_error());
    cr_assert_eq(nd_errcode(), ND_OK);
    cr_assert(isnan(nd_item(v)));
    expect_code(ND_ERR_SHAPE, "nd_item of two elements");

    older_error();
    cr_assert(isnan(nd_get(v, (int64_t[]){0})));
    cr_assert_null(nd_last_error(), "nd_get kept an older error: %s", nd_last_error());
    cr_assert(isnan(nd_get(v, (int64_t[]){2})));
    expect_code(ND_ERR_INDEX, "nd_get past the end");

    older_error();
    cr_assert_not(nd_allclose(v, nd_ones(ND_F64, ND_SHAPE(2)), 0, 0));
    cr_assert_null(nd_last_error(), "nd_allclose kept an older error: %s", nd_last_error());
    cr_assert_not(nd_allclose(v, nd_ones(ND_F64, ND_SHAPE(3)), 0, 0));
    expect_code(ND_ERR_SHAPE, "nd_allclose (2,) and (3,)");

    older_error();
    cr_assert_not(nd_equal(v, nd_ones(ND_F64, ND_SHAPE(2))));
    cr_assert_null(nd_last_error(), "nd_equal kept an older error: %s", nd_last_error());

    nd_batches *b = nd_batches_new(nd_ones(ND_F32, ND_SHAPE(2, 1)), NULL, 2, false, false, 0);
    cr_assert_not_null(b, "%s", nd_last_error());
    nd_tensor *xb;
    cr_assert(nd_batches_next(b, &xb, NULL));
    older_error();
    cr_assert_not(nd_batches_next(b, &xb, NULL)); /* the end of the epoch, not a failure */
    cr_assert_null(nd_last_error(), "nd_batches_next kept an older error: %s", nd_last_error());
    nd_batches_free(b);

    /* a NULL input still passes the earlier error on */
    older_error();
    cr_assert(isnan(nd_item(NULL)));
    assert_error("nd_add");
}
