/* The checks of the multi-process tests (tests/dist): a plain C program run
 * under mpirun, since Criterion forks each test and MPI does not survive that.
 * Every rank runs every check; each failed check prints its rank and line. */
#ifndef ND_TEST_DIST_CHECK_H
#define ND_TEST_DIST_CHECK_H

#include <nd.h>
#include <nd_dist.h>

#include <stdbool.h>

extern int checks_passed, checks_failed;
bool check_(bool ok, const char *what, const char *file, int line);
#define CHECK(cond) check_((cond), #cond, __FILE__, __LINE__)
/* t (any dtype, any layout) equals the doubles of expected, element by element
 * in C order, within tol (0: exactly). */
bool check_values_(nd_tensor *t, const double *expected, int64_t n, double tol, const char *file,
                   int line);
#define CHECK_VALUES(t, e, n, tol) check_values_((t), (e), (n), (tol), __FILE__, __LINE__)
/* The last error contains every one of the strings (a NULL-ended list). */
bool error_mentions(const char *first, ...);

void test_collectives(void);
void test_training(void);
void test_shards(void);
void test_checkpoints(void);

#endif
