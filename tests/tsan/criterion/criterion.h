/* The part of Criterion's interface that nd's unit tests use, for the
 * ThreadSanitizer build only (make test-tsan). Criterion itself cannot start
 * under TSan: its runner maps a shared arena at a random address in a range
 * that TSan reserves for its shadow memory, and gives up (Snaipe/Criterion
 * issue 274). Here the same test files run in one process, one test after
 * another, with the same assertions; runner.c has main(). */
#ifndef ND_TSAN_CRITERION_H
#define ND_TSAN_CRITERION_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct criterion_test {
    const char *suite_name, *test_name;
    void (*run)(void);
    void (*init)(void);
    void (*fini)(void);
    struct criterion_test *next;
};

void criterion_register(struct criterion_test *test);
/* A failed cr_assert ends the test (the runner goes on with the next one); a
 * failed cr_expect is reported and the test carries on, counted as failed. */
__attribute__((format(printf, 4, 5))) _Noreturn void
criterion_assert_failed(const char *file, int line, const char *what, const char *format, ...);
__attribute__((format(printf, 4, 5))) void
criterion_expect_failed(const char *file, int line, const char *what, const char *format, ...);

/* Test(suite, name, .init = f, .fini = g) { body } */
#define Test(suite, name, ...)                                                                     \
    static void suite##_##name##_run(void);                                                        \
    static struct criterion_test suite##_##name##_test = {                                         \
        .suite_name = #suite, .test_name = #name, .run = suite##_##name##_run, __VA_ARGS__};       \
    __attribute__((constructor)) static void suite##_##name##_register(void) {                     \
        criterion_register(&suite##_##name##_test);                                                \
    }                                                                                              \
    static void suite##_##name##_run(void)

/* The message is optional, as in Criterion: " " makes an absent one legal. */
#define CR_CHECK_(kind, cond, what, ...)                                                           \
    ((cond) ? (void)0 : criterion_##kind##_failed(__FILE__, __LINE__, (what), " " __VA_ARGS__))

#define cr_assert(c, ...)          CR_CHECK_(assert, (c), #c, __VA_ARGS__)
#define cr_assert_fail(...)        CR_CHECK_(assert, false, "cr_assert_fail", __VA_ARGS__)
#define cr_assert_eq(a, b, ...)    CR_CHECK_(assert, (a) == (b), #a " == " #b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...)    CR_CHECK_(assert, (a) < (b), #a " < " #b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...)   CR_CHECK_(assert, (a) <= (b), #a " <= " #b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...)    CR_CHECK_(assert, (a) > (b), #a " > " #b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...)   CR_CHECK_(assert, (a) >= (b), #a " >= " #b, __VA_ARGS__)
#define cr_assert_null(p, ...)     CR_CHECK_(assert, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...) CR_CHECK_(assert, (p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...)                                                                \
    CR_CHECK_(assert, strcmp((a), (b)) == 0, #a " equals " #b, __VA_ARGS__)
#define cr_expect_str_eq(a, b, ...)                                                                \
    CR_CHECK_(expect, strcmp((a), (b)) == 0, #a " equals " #b, __VA_ARGS__)
/* As Criterion: |a - b| <= eps, false for NaN. */
#define cr_assert_float_eq(a, b, eps, ...)                                                         \
    CR_CHECK_(assert, (b) - (a) <= (eps) && (a) - (b) <= (eps), #a " ≈ " #b, __VA_ARGS__)

#endif
