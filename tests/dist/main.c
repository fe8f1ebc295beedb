/* The multi-process tests: `mpirun -np N test_dist` (N = 2, 3), and once
 * without mpirun (one process). Prints "N passed, M failed" per rank and
 * exits non-zero when any check failed on any rank. */
#include "check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int checks_passed, checks_failed;

bool check_(bool ok, const char *what, const char *file, int line) {
    if (ok) {
        checks_passed++;
        return true;
    }
    checks_failed++;
    const char *err = nd_last_error();
    fprintf(stderr, "rank %d: %s:%d: failed: %s (last error: %s)\n", nd_dist_rank(), file, line,
            what, err && *err ? err : "none");
    return false;
}

bool check_values_(nd_tensor *t, const double *expected, int64_t n, double tol, const char *file,
                   int line) {
    if (!t || nd_numel(t) != n) return check_(false, "a tensor of the expected size", file, line);
    double *got = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    bool ok = got && nd_read(t, ND_F64, got, sizeof(double) * (size_t)n) == 0;
    int64_t bad = -1;
    for (int64_t i = 0; ok && i < n && bad < 0; i++)
        if (!(fabs(got[i] - expected[i]) <= tol * (1 + fabs(expected[i])))) bad = i;
    if (ok && bad >= 0) {
        fprintf(stderr, "rank %d: %s:%d: element %lld is %.9g, expected %.9g\n", nd_dist_rank(),
                file, line, (long long)bad, got[bad], expected[bad]);
        ok = false;
    }
    free(got);
    return check_(ok, "values equal the expected ones", file, line);
}

bool error_mentions(const char *first, ...) {
    const char *err = nd_last_error();
    bool ok = err != NULL;
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s && ok; s = va_arg(ap, const char *))
        if (!strstr(err, s)) {
            fprintf(stderr, "rank %d: the error \"%s\" does not mention \"%s\"\n", nd_dist_rank(),
                    err, s);
            ok = false;
        }
    va_end(ap);
    return ok;
}

int main(int argc, char **argv) {
    if (nd_dist_init(&argc, &argv)) {
        fprintf(stderr, "test_dist: %s\n", nd_last_error());
        return 1;
    }
    CHECK(nd_dist_size() >= 1 && nd_dist_rank() >= 0 && nd_dist_rank() < nd_dist_size());
    CHECK(nd_dist_local_rank() >= 0 && nd_dist_local_rank() <= nd_dist_rank());
    test_collectives();
    /* training waits by polling against a deadline that is never reached */
    CHECK(nd_dist_set_timeout(-1) == -1 && error_mentions("nd_dist_set_timeout", NULL));
    CHECK(nd_dist_set_timeout(60) == 0);
    test_training();
    CHECK(nd_dist_set_timeout(0) == 60);
    test_shards();
    test_checkpoints();
    /* every rank learns whether any rank failed */
    int failed_anywhere = checks_failed;
    nd_tensor *f = nd_scalar(checks_failed, ND_I32);
    if (nd_dist_allreduce(f, ND_RED_SUM) == 0) failed_anywhere = (int)nd_item(f);
    printf("rank %d of %d: %d passed, %d failed\n", nd_dist_rank(), nd_dist_size(), checks_passed,
           checks_failed);
    nd_dist_finalize();
    return failed_anywhere || checks_failed ? 1 : 0;
}
