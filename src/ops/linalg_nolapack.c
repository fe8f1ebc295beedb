/* The decompositions in a build of nd without BLAS and LAPACK (ND_BLAS=OFF,
 * the browser build): compiled instead of linalg_decomp.c. Each one says in
 * its error that this build lacks LAPACK, so a program that needs them fails
 * with a message, never a link error. (A NULL input is passed on as always.) */
#include "../core/internal.h"

#define NO_LAPACK ": this build of nd has no LAPACK (it was configured with ND_BLAS=OFF)"

nd_tensor *nd_inv(nd_tensor *a) {
    ND_CHECK("nd_inv", a);
    return nd__fail_as(ND_ERR_UNSUPPORTED, "nd_inv" NO_LAPACK);
}

nd_tensor *nd_det(nd_tensor *a) {
    ND_CHECK("nd_det", a);
    return nd__fail_as(ND_ERR_UNSUPPORTED, "nd_det" NO_LAPACK);
}

nd_tensor *nd_solve(nd_tensor *a, nd_tensor *b) {
    ND_CHECK("nd_solve", a, b);
    return nd__fail_as(ND_ERR_UNSUPPORTED, "nd_solve" NO_LAPACK);
}

int nd_eigh(nd_tensor *a, nd_tensor **values, nd_tensor **vectors) {
    (void)values, (void)vectors;
    ND_CHECK_INT("nd_eigh", a);
    return nd__fail_int_as(ND_ERR_UNSUPPORTED, "nd_eigh" NO_LAPACK);
}

int nd_eig(nd_tensor *a, nd_tensor **values_re, nd_tensor **values_im, nd_tensor **vectors_re,
           nd_tensor **vectors_im) {
    (void)values_re, (void)values_im, (void)vectors_re, (void)vectors_im;
    ND_CHECK_INT("nd_eig", a);
    return nd__fail_int_as(ND_ERR_UNSUPPORTED, "nd_eig" NO_LAPACK);
}

int nd_svd(nd_tensor *a, nd_tensor **u, nd_tensor **s, nd_tensor **vt) {
    (void)u, (void)s, (void)vt;
    ND_CHECK_INT("nd_svd", a);
    return nd__fail_int_as(ND_ERR_UNSUPPORTED, "nd_svd" NO_LAPACK);
}
