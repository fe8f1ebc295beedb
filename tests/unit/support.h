/* Helpers shared by the unit tests: comparing tensors with expected values
 * (golden .npy files written by tests/reference/<area>.py) and checking errors. */
#ifndef ND_TEST_SUPPORT_H
#define ND_TEST_SUPPORT_H

#include <criterion/criterion.h>
#include <math.h>
#include <nd.h>
#include <stdio.h>
#include <string.h>

/* Each test starts with an empty error and ends with every tensor freed. */
void nd_test_setup(void);
void nd_test_teardown(void);
#define ND_TEST(suite, name, ...)                                                                  \
    Test(suite, name, .init = nd_test_setup, .fini = nd_test_teardown, ##__VA_ARGS__)

/* Loads tests/golden/<name> (a .npy file); fails the test when missing. */
nd_tensor *golden(const char *name);

/* Asserts that t has the given shape. */
void assert_shape_(const nd_tensor *t, int ndim, const int64_t *shape, const char *file, int line);
#define assert_shape(t, ...) assert_shape_((t), __VA_ARGS__, __FILE__, __LINE__)

/* Asserts |t - expected| <= atol + rtol·|expected| everywhere, same shapes. */
void assert_close_(nd_tensor *t, nd_tensor *expected, double rtol, double atol, const char *file,
                   int line);
#define assert_close(t, e, rtol, atol) assert_close_((t), (e), (rtol), (atol), __FILE__, __LINE__)

/* Asserts t equals the values of the C array (C order, converted to double). */
void assert_values_(nd_tensor *t, int64_t n, const double *values, double tol, const char *file,
                    int line);
#define assert_values(t, tol, ...)                                                                 \
    assert_values_((t), sizeof((double[]){__VA_ARGS__}) / sizeof(double),                          \
                   (const double[]){__VA_ARGS__}, (tol), __FILE__, __LINE__)

/* Asserts that the last error contains `needle`. */
void assert_error_(const char *needle, const char *file, int line);
#define assert_error(needle) assert_error_((needle), __FILE__, __LINE__)

/* Bytes the allocator has handed out and not had back (AddressSanitizer's own
 * count under ASan, whose quarantine makes resident memory grow regardless). */
size_t bytes_in_use(void);

/* A whole file in memory, NUL-terminated (malloc'd; the caller frees it); the
 * length in *len when len is not NULL. Fails the test when it cannot be read. */
char *read_file(const char *path, size_t *len);

/* The Jacobian of f at x as an (m, n) matrix, f64, built seed by seed with
 * the public one-seed transforms: rows uᵀ·J by nd_vjp (reverse), columns J·v
 * by nd_jvp (forward). The reference the batched paths are checked against. */
nd_tensor *jacobian_seed_by_seed(nd_fn f, void *ctx, nd_tensor *x, nd_ad_mode mode);

/* The path of a file under tests/golden or data/ (static buffer). */
const char *golden_path(const char *name);
const char *data_path(const char *name);

#endif
