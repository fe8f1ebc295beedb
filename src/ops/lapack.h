/* What the LAPACK-backed ops (linalg_decomp.c: inv, det, solve, eigh;
 * linalg_eig_svd.c: eig, svd) share: checked column-major copies, leading
 * dimensions and workspace. Defined in linalg_decomp.c; not built without
 * BLAS (linalg_nolapack.c stands in for both files). */
#ifndef ND_OPS_LAPACK_H
#define ND_OPS_LAPACK_H

#include "../core/internal.h"

#include <lapacke.h>

/* A contiguous copy of a checked matrix that LAPACK may overwrite, all finite
 * (LAPACK's answer on NaN is undefined, so it is refused before the call). */
nd_tensor *nd__lapack_copy(const char *op, nd_tensor *a, bool square);

/* The contiguous m×n matrix t as a contiguous (n, m) tensor: column-major for
 * LAPACK, or a column-major result of LAPACK's turned back into nd's order. */
nd_tensor *nd__lapack_transposed_copy(const char *op, nd_tensor *t);

/* A leading dimension LAPACK accepts: at least 1, even for an empty matrix. */
lapack_int nd__lapack_ld(int64_t rows);

/* LAPACK's workspace for a size query's answer, or NULL and nd's
 * out-of-memory error naming op; *lwork receives the count. */
void *nd__lapack_workspace(const char *op, nd_dtype dtype, double query, lapack_int *lwork);

/* The last two dims swapped, differentiably. */
static inline nd_tensor *nd__mT(nd_tensor *t) {
    return nd_transpose(t, -2, -1);
}

#endif
