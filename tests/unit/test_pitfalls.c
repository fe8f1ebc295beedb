/* The classic C mistakes of a first training loop, each caught with a message
 * that says what happened and what to do: the slide's update `w = w - lr·grad`
 * that turns w into a non-leaf, a tensor used after its scope ended, and a loop
 * without a scope per step (a one-time warning on stderr). */
#include "support.h"

#include <stdlib.h>
#include <unistd.h>

/* z = sum((x·w - y)²) for the course's small regression, one step's loss. */
static nd_tensor *loss_of(nd_tensor *w) {
    nd_tensor *x = nd_arange(1, 4, 1, ND_F64), *y = nd_full(ND_F64, ND_SHAPE(3), 6.0);
    nd_tensor *r = nd_sub(nd_mul(x, w), y);
    return nd_sum(nd_mul(r, r), ND_ALL, false);
}

ND_TEST(pitfalls, replacing_a_parameter_makes_it_a_non_leaf) {
    nd_tensor *w = nd_set_requires_grad(nd_scalar(0.5, ND_F64), true);
    cr_assert_eq(nd_backward(loss_of(w)), 0, "%s", nd_last_error());
    cr_assert_not_null(nd_grad(w), "%s", nd_last_error());
    /* the update as the slide writes it */
    w = nd_sub(w, nd_mul_scalar(nd_grad(w), 0.01));
    cr_assert_not_null(w);
    cr_assert_eq(nd_backward(loss_of(w)), 0, "%s", nd_last_error());
    nd_clear_error();
    cr_assert_null(nd_grad(w));
    assert_error("nd_grad: this tensor is not a leaf");
    assert_error("'sub'");
    assert_error("nd_set_grad_enabled(false)");
    assert_error("nd_axpy_(w, -lr, nd_grad(w))");
    assert_error("optimizer");
}

ND_TEST(pitfalls, a_leaf_without_gradient_yet_is_not_an_error) {
    nd_tensor *w = nd_set_requires_grad(nd_scalar(0.5, ND_F64), true);
    cr_assert_null(nd_grad(w));
    cr_assert_null(nd_last_error(), "%s", nd_last_error());
    nd_tensor *plain = nd_scalar(1, ND_F64); /* made by no op, no gradient asked */
    cr_assert_null(nd_grad(plain));
    cr_assert_null(nd_last_error(), "%s", nd_last_error());
    /* a non-leaf that does not require a gradient: nothing to warn about */
    cr_assert_null(nd_grad(nd_add(plain, plain)));
    cr_assert_null(nd_last_error(), "%s", nd_last_error());
}

ND_TEST(pitfalls, the_suggested_update_trains) {
    /* what the message tells the student to write: in place, gradients off */
    nd_tensor *w = nd_set_requires_grad(nd_scalar(0.0, ND_F64), true);
    for (int step = 0; step < 200; step++) {
        nd_scope_begin();
        nd_zero_grad(w);
        cr_assert_eq(nd_backward(loss_of(w)), 0, "%s", nd_last_error());
        bool previous = nd_set_grad_enabled(false);
        cr_assert_eq(nd_axpy_(w, -0.02, nd_grad(w)), 0, "%s", nd_last_error());
        nd_set_grad_enabled(previous);
        nd_scope_end();
    }
    /* least squares of x·w = 6 for x = 1, 2, 3: w = 36/14 */
    cr_assert(nd_is_leaf(w));
    cr_assert_float_eq(nd_item(w), 36.0 / 14.0, 1e-9);
}

ND_TEST(pitfalls, use_after_scope_is_an_error_naming_the_rule) {
    nd_tensor *x = nd_arange(0, 4, 1, ND_F32);
    nd_scope_begin();
    nd_tensor *y = nd_mul(x, x);
    nd_scope_end(); /* y is freed here */
    cr_assert_null(nd_add(y, x));
    assert_error("nd_add: this tensor was already freed");
    assert_error("nd_scope_end");
    assert_error("nd_keep(t)");
    nd_clear_error();
    cr_assert(isnan(nd_item(nd_sum(y, ND_ALL, false))));
    assert_error("nd_sum: this tensor was already freed");
    nd_clear_error();
    cr_assert_eq(nd_backward(y), -1);
    assert_error("nd_backward: this tensor was already freed");
    nd_clear_error();
    cr_assert_eq(nd_numel(y), -1);
    assert_error("nd_numel: this tensor was already freed");
}

ND_TEST(pitfalls, use_after_scope_replaces_an_earlier_error) {
    nd_tensor *x = nd_arange(0, 4, 1, ND_F32);
    nd_scope_begin();
    nd_tensor *y = nd_exp(x);
    nd_scope_end();
    cr_assert_null(nd_reshape(x, ND_SHAPE(3))); /* an unrelated earlier failure */
    cr_assert_null(nd_mul(y, x));
    assert_error("nd_mul: this tensor was already freed");
}

ND_TEST(pitfalls, releasing_twice_is_caught_not_a_double_free) {
    nd_scope_begin();
    nd_tensor *t = nd_ones(ND_F32, ND_SHAPE(2));
    nd_release(t);  /* the scope owned it: now it is freed */
    nd_scope_end(); /* the scope's own release finds it freed */
    assert_error("nd_release: this tensor was already freed");
}

ND_TEST(pitfalls, use_after_scope_is_caught_after_new_tensors_in_debug_builds) {
#ifdef NDEBUG
    cr_skip_test("release builds check the freed mark only until the header is reused");
#else
    nd_tensor *x = nd_arange(0, 4, 1, ND_F32);
    nd_scope_begin();
    nd_tensor *y = nd_mul(x, x);
    nd_scope_end();
    for (int i = 0; i < 100; i++) nd_add_scalar(x, i); /* new tensors do not take y's place */
    cr_assert_null(nd_add(y, x));
    assert_error("nd_add: this tensor was already freed");
#endif
}

/* Runs fn with stderr sent to a file; returns what it printed (malloc'd). */
static char *stderr_of(void (*fn)(void)) {
    char path[] = "/tmp/nd_pitfalls_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    char *text = read_file(path, NULL);
    unlink(path);
    return text;
}

static int count_of(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* 300 steps of a loop that keeps every step's tensors (no scope per step). */
static void loop_without_scope(void) {
    nd_tensor *w = nd_set_requires_grad(nd_scalar(0.0, ND_F64), true);
    for (int step = 0; step < 300; step++) nd_backward(loss_of(w));
}

/* The same loop written as README shows: a scope per step. */
static void loop_with_scope(void) {
    nd_tensor *w = nd_set_requires_grad(nd_scalar(0.0, ND_F64), true);
    for (int step = 0; step < 300; step++) {
        nd_scope_begin();
        nd_backward(loss_of(w));
        nd_scope_end();
    }
}

ND_TEST(pitfalls, a_growing_scope_warns_once) {
    nd_set_scope_warning(1000);
    char *text = stderr_of(loop_without_scope);
    cr_assert_eq(count_of(text, "nd: warning:"), 1, "%s", text);
    cr_assert(strstr(text, "tensors are alive in one scope"), "%s", text);
    cr_assert(strstr(text, "nd_scope_begin(); ... nd_scope_end();"), "%s", text);
    cr_assert(strstr(text, "ND_SCOPE_WARNING=0"), "%s", text);
    free(text);
    text = stderr_of(loop_without_scope); /* once only */
    cr_assert_str_empty(text);
    free(text);
}

ND_TEST(pitfalls, a_scope_per_step_does_not_warn) {
    nd_set_scope_warning(1000);
    char *text = stderr_of(loop_with_scope);
    cr_assert_str_empty(text);
    free(text);
}

ND_TEST(pitfalls, the_warning_can_be_silenced) {
    nd_set_scope_warning(0);
    char *text = stderr_of(loop_without_scope);
    cr_assert_str_empty(text);
    free(text);
}

ND_TEST(pitfalls, the_environment_sets_the_limit) {
    setenv("ND_SCOPE_WARNING", "0", 1);
    char *text = stderr_of(loop_without_scope);
    cr_assert_str_empty(text);
    free(text);
}

ND_TEST(pitfalls, the_environment_sets_a_number) {
    setenv("ND_SCOPE_WARNING", "1000", 1);
    char *text = stderr_of(loop_without_scope);
    cr_assert_eq(count_of(text, "nd: warning:"), 1, "%s", text);
    free(text);
}

ND_TEST(pitfalls, the_default_limit_is_large) {
    char *text = stderr_of(loop_without_scope); /* ~10^4 tensors: far below the default */
    cr_assert_str_empty(text);
    free(text);
}
