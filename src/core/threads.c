/* One thread count for nd's OpenMP kernels and OpenBLAS together, so the two
 * never oversubscribe the cores against each other. The count is the
 * process's (OpenBLAS has only one): user threads read it while one of them
 * may set it, hence an atomic. */
#include "internal.h"

#ifndef ND_NO_BLAS
#include <cblas.h>
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static atomic_int configured_threads; /* 0: the default, the number of cores */

static int core_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void nd_set_num_threads(int n) {
    atomic_store_explicit(&configured_threads, n > 0 ? n : 0, memory_order_relaxed);
    int threads = nd_num_threads();
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
#ifndef ND_NO_BLAS
    openblas_set_num_threads(threads);
#endif
    (void)threads; /* unused in a build with neither OpenMP nor BLAS (the browser's) */
}

int nd_num_threads(void) {
    int n = atomic_load_explicit(&configured_threads, memory_order_relaxed);
    return n > 0 ? n : core_count();
}

int nd__threads_for(int64_t work) {
    if (work < ND_PARALLEL_MIN) return 1;
    int threads = nd_num_threads();
    int64_t most = work / (ND_PARALLEL_MIN / 2); /* each thread gets a worthwhile share */
    return most < threads ? (int)(most > 1 ? most : 1) : threads;
}

const char *nd_version(void) {
    return ND_VERSION_STRING;
}

#ifdef ND_NO_BLAS
const char *nd_blas_info(void) {
    return "none: nd's own matrix kernel (src/ops/gemm_kernel.c), no LAPACK";
}
#else
const char *nd_blas_info(void) {
    static _Thread_local char info[256]; /* one per thread: two may ask at once */
    const char *config = openblas_get_config();
    snprintf(info, sizeof info, "OpenBLAS (%s), %d threads", config ? config : "unknown",
             openblas_get_num_threads());
    return info;
}
#endif
