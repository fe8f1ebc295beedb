/* Strided, broadcast, threaded iteration for elementwise ops: one dispatch per
 * op call; the inner loops (elementwise.h) see runs of elements with constant
 * strides, which is what a compiler vectorises. */
#include "elementwise.h"

#include <math.h>

#define MAX_OPS 4 /* the output and up to three inputs (where's) */

typedef struct {
    int ndim;
    int64_t shape[ND_MAX_DIMS];
    int64_t stride[MAX_OPS][ND_MAX_DIMS]; /* in elements */
} iter;

/* Drops size-1 dims and merges neighbours that are one run in every operand,
 * so a contiguous tensor of any shape becomes one long run. */
static void collapse(iter *it, int nops) {
    int out = 0;
    for (int i = 0; i < it->ndim; i++) {
        if (it->shape[i] == 1) continue;
        if (out > 0) {
            bool merge = true;
            for (int k = 0; k < nops; k++)
                if (it->stride[k][out - 1] != it->stride[k][i] * it->shape[i]) merge = false;
            if (merge) {
                it->shape[out - 1] *= it->shape[i];
                for (int k = 0; k < nops; k++) it->stride[k][out - 1] = it->stride[k][i];
                continue;
            }
        }
        it->shape[out] = it->shape[i];
        for (int k = 0; k < nops; k++) it->stride[k][out] = it->stride[k][i];
        out++;
    }
    if (out == 0) { /* a single element */
        it->shape[0] = 1;
        for (int k = 0; k < nops; k++) it->stride[k][0] = 1;
        out = 1;
    }
    it->ndim = out;
}

typedef struct {
    const iter *it;
    char *base[MAX_OPS];
    size_t esize[MAX_OPS];
    int nops;
    nd_binary_loop binary; /* operands: 0 = out, 1 = a, 2 = b */
    nd_unary_loop unary;   /* operands: 0 = out, 1 = in */
    nd_loop any;           /* operands: 0 = out, then the inputs; with param */
    const void *param;
} job;

static void call_loop(const job *j, int64_t n, char *const *p, const int64_t *stride) {
    if (j->any)
        j->any(n, p, stride, j->param);
    else if (j->binary)
        j->binary(n, p[1], stride[1], p[2], stride[2], p[0], stride[0]);
    else
        j->unary(n, p[1], stride[1], p[0], stride[0]);
}

/* Runs rows [row0, row1) of the iteration (a row = the innermost dim), or, when
 * there is a single row, elements [row0, row1) of it. */
static void run_range(const job *j, int64_t row0, int64_t row1) {
    const iter *it = j->it;
    int last = it->ndim - 1;
    int64_t inner = it->shape[last];
    int64_t inner_stride[MAX_OPS];
    for (int k = 0; k < j->nops; k++) inner_stride[k] = it->stride[k][last];
    if (last == 0) { /* one row: split the elements themselves */
        char *p[MAX_OPS];
        for (int k = 0; k < j->nops; k++)
            p[k] = j->base[k] + (size_t)(row0 * inner_stride[k]) * j->esize[k];
        call_loop(j, row1 - row0, p, inner_stride);
        return;
    }
    int64_t index[ND_MAX_DIMS];
    int64_t rest = row0;
    for (int d = last - 1; d >= 0; d--) {
        index[d] = rest % it->shape[d];
        rest /= it->shape[d];
    }
    for (int64_t row = row0; row < row1; row++) {
        char *p[MAX_OPS];
        for (int k = 0; k < j->nops; k++) {
            int64_t offset = 0;
            for (int d = 0; d < last; d++) offset += index[d] * it->stride[k][d];
            p[k] = j->base[k] + offset * (int64_t)j->esize[k];
        }
        call_loop(j, inner, p, inner_stride);
        for (int d = last - 1; d >= 0; d--) {
            if (++index[d] < it->shape[d]) break;
            index[d] = 0;
        }
    }
}

static void run(const job *j, int64_t numel) {
    const iter *it = j->it;
    int64_t rows = it->ndim == 1 ? it->shape[0] : numel / it->shape[it->ndim - 1];
    int threads = nd__threads_for(numel);
    if (threads <= 1 || rows < 2) {
        run_range(j, 0, rows);
        return;
    }
    /* one contiguous share of rows per thread */
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; t++) {
        int64_t lo = rows * t / threads, hi = rows * (t + 1) / threads;
        if (lo < hi) run_range(j, lo, hi);
    }
}

nd_dtype nd__weak_scalar_dtype(nd_dtype t, double s) {
    if (nd__is_float(t)) return t;
    /* A whole number beyond int64 (1e20) counts as a float: PyTorch takes no
     * Python int that large, so it can only have been a Python float. */
    bool integral = isfinite(s) && s == nearbyint(s) && s >= -0x1p63 && s < 0x1p63;
    if (!integral) return ND_F32;
    return t == ND_BOOL ? ND_I64 : t;
}

static nd_tensor *converted(nd_tensor *t, nd_dtype dtype) {
    return t->dtype == dtype ? t : nd_to(t, dtype);
}

nd_tensor *nd__binary_apply(const char *op, nd_tensor *a, nd_tensor *b, nd_dtype compute,
                            nd_dtype out_dtype, const nd_binary_loops *loops) {
    ND_CHECK(op, a, b);
    if (!loops->loop[compute])
        return nd__fail_as(ND_ERR_DTYPE, "%s: not defined for %s tensors", op,
                           nd_dtype_name(compute));
    int ndim;
    int64_t shape[ND_MAX_DIMS];
    if (!nd__broadcast_shape(op, a->ndim, a->shape, b->ndim, b->shape, &ndim, shape)) return NULL;
    if (ndim > ND_MAX_DIMS)
        return nd__fail_as(ND_ERR_SHAPE, "%s: result would have more than %d dims", op,
                           ND_MAX_DIMS);
    a = converted(a, compute);
    b = converted(b, compute);
    nd_tensor *out = nd__empty(out_dtype, ndim, shape);
    if (!a || !b || !out) return NULL;
    if (out->numel == 0) return out;
    iter it; /* not zeroed: every field read is set below (this is per op call) */
    it.ndim = ndim;
    memcpy(it.shape, shape, sizeof(int64_t) * (size_t)ndim);
    memcpy(it.stride[0], out->strides, sizeof(int64_t) * (size_t)ndim);
    nd__broadcast_strides(a, ndim, shape, it.stride[1]);
    nd__broadcast_strides(b, ndim, shape, it.stride[2]);
    collapse(&it, 3);
    job j = {.it = &it,
             .base = {nd__ptr(out), nd__ptr(a), nd__ptr(b)},
             .esize = {nd_dtype_size(out_dtype), nd_dtype_size(compute), nd_dtype_size(compute)},
             .nops = 3,
             .binary = loops->loop[compute]};
    run(&j, out->numel);
    return out;
}

nd_tensor *nd__unary_apply(const char *op, nd_tensor *t, nd_dtype compute, nd_dtype out_dtype,
                           const nd_unary_loops *loops) {
    ND_CHECK(op, t);
    if (!loops->loop[compute])
        return nd__fail_as(ND_ERR_DTYPE, "%s: not defined for %s tensors", op,
                           nd_dtype_name(compute));
    t = converted(t, compute);
    if (!t) return NULL;
    nd_tensor *out = nd__empty(out_dtype, t->ndim, t->shape);
    if (!out) return NULL;
    if (out->numel == 0) return out;
    iter it; /* not zeroed: every field read is set below (this is per op call) */
    it.ndim = t->ndim;
    memcpy(it.shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    memcpy(it.stride[0], out->strides, sizeof(int64_t) * (size_t)t->ndim);
    memcpy(it.stride[1], t->strides, sizeof(int64_t) * (size_t)t->ndim);
    collapse(&it, 2);
    job j = {.it = &it,
             .base = {nd__ptr(out), nd__ptr(t)},
             .esize = {nd_dtype_size(out_dtype), nd_dtype_size(compute)},
             .nops = 2,
             .unary = loops->loop[compute]};
    run(&j, out->numel);
    return out;
}

void nd__apply_into(nd_tensor *out, int nin, nd_tensor *const *in, nd_loop loop,
                    const void *param) {
    if (out->numel == 0) return;
    iter it; /* not zeroed: every field read is set below (this is per op call) */
    it.ndim = out->ndim;
    job j = {.it = &it, .nops = 1 + nin, .any = loop, .param = param};
    memcpy(it.shape, out->shape, sizeof(int64_t) * (size_t)out->ndim);
    memcpy(it.stride[0], out->strides, sizeof(int64_t) * (size_t)out->ndim);
    j.base[0] = nd__ptr(out);
    j.esize[0] = nd_dtype_size(out->dtype);
    for (int k = 0; k < nin; k++) {
        nd__broadcast_strides(in[k], out->ndim, out->shape, it.stride[1 + k]);
        j.base[1 + k] = nd__ptr(in[k]);
        j.esize[1 + k] = nd_dtype_size(in[k]->dtype);
    }
    collapse(&it, 1 + nin);
    run(&j, out->numel);
}

static bool broadcasts_into(const char *op, const nd_tensor *dst, const nd_tensor *src) {
    int ndim;
    int64_t shape[ND_MAX_DIMS];
    if (src->ndim > dst->ndim ||
        !nd__broadcast_shape(op, dst->ndim, dst->shape, src->ndim, src->shape, &ndim, shape) ||
        ndim != dst->ndim || memcmp(shape, dst->shape, sizeof(int64_t) * (size_t)ndim) != 0) {
        nd__set_error_as(ND_ERR_SHAPE, "%s: a tensor of shape %s cannot be broadcast into shape %s",
                         op, nd__tshape(src), nd__tshape(dst));
        return false;
    }
    return true;
}

/* An in-place write must not read what it already overwrote: when src shares
 * dst's storage, src is copied first. */
static nd_tensor *safe_source(nd_tensor *dst, nd_tensor *src, nd_dtype dtype) {
    if (src->storage == dst->storage) return nd_to(nd_clone(src), dtype);
    return converted(src, dtype);
}

int nd__binary_inplace(const char *op, nd_tensor *dst, nd_tensor *src,
                       const nd_binary_loops *loops) {
    ND_CHECK_INT(op, dst, src);
    if (!loops->loop[dst->dtype])
        return nd__fail_int_as(ND_ERR_DTYPE, "%s: not defined for %s tensors", op,
                               nd_dtype_name(dst->dtype));
    if (!broadcasts_into(op, dst, src)) return -1;
    src = safe_source(dst, src, dst->dtype);
    if (!src) return -1;
    if (dst->numel == 0) return 0;
    iter it; /* not zeroed: every field read is set below (this is per op call) */
    it.ndim = dst->ndim;
    memcpy(it.shape, dst->shape, sizeof(int64_t) * (size_t)dst->ndim);
    memcpy(it.stride[0], dst->strides, sizeof(int64_t) * (size_t)dst->ndim);
    memcpy(it.stride[1], dst->strides, sizeof(int64_t) * (size_t)dst->ndim);
    nd__broadcast_strides(src, dst->ndim, dst->shape, it.stride[2]);
    collapse(&it, 3);
    size_t es = nd_dtype_size(dst->dtype);
    job j = {.it = &it,
             .base = {nd__ptr(dst), nd__ptr(dst), nd__ptr(src)},
             .esize = {es, es, es},
             .nops = 3,
             .binary = loops->loop[dst->dtype]};
    run(&j, dst->numel);
    nd__bump_version(dst);
    return 0;
}

int nd__unary_into(const char *op, nd_tensor *dst, nd_tensor *src, nd_unary_loop loop) {
    if (!broadcasts_into(op, dst, src)) return -1;
    if (dst->numel == 0) return 0;
    iter it; /* not zeroed: every field read is set below (this is per op call) */
    it.ndim = dst->ndim;
    memcpy(it.shape, dst->shape, sizeof(int64_t) * (size_t)dst->ndim);
    memcpy(it.stride[0], dst->strides, sizeof(int64_t) * (size_t)dst->ndim);
    nd__broadcast_strides(src, dst->ndim, dst->shape, it.stride[1]);
    collapse(&it, 2);
    job j = {.it = &it,
             .base = {nd__ptr(dst), nd__ptr(src)},
             .esize = {nd_dtype_size(dst->dtype), nd_dtype_size(src->dtype)},
             .nops = 2,
             .unary = loop};
    run(&j, dst->numel);
    return 0;
}
