/*
 * reduce.h — what the reduction files share (reduce.c, reduce_minmax.c,
 * softmax.c, cumsum.c, norm.c): which dims an op reduces, the shapes that
 * follow from it, and the (outer, n, inner) view every kernel runs on.
 *
 * A contiguous tensor whose reduced dims are neighbours is, as far as a kernel
 * cares, a 3-d block (outer, n, inner): n elements are reduced, `inner` apart,
 * for each of the outer·inner outputs. inner = 1 is a reduction along rows
 * (axis 1 of a matrix), outer = 1 one across rows (axis 0). Anything else is
 * copied once into that form. Private to src/ops.
 */
#ifndef ND_REDUCE_H
#define ND_REDUCE_H

#include "elementwise.h" /* nd__copy_into */

typedef struct {
    int ndim;                        /* the input's dims */
    int64_t shape[ND_MAX_DIMS];      /* the input's shape */
    bool reduced[ND_MAX_DIMS];       /* which input dims are reduced */
    int nreduced;                    /* how many */
    bool keepdim;                    /* reduced dims stay as size 1 */
    int out_ndim;                    /* the result's dims */
    int64_t out_shape[ND_MAX_DIMS];  /* the result's shape */
    int64_t keep_shape[ND_MAX_DIMS]; /* the input shape with reduced dims as 1 */
    int64_t count;                   /* elements reduced into each output */
} nd_reduction;

/* Plans a reduction of t over dims[0..n) (negatives allowed; duplicates are an
 * error), or over every dim when dims is NULL. False, with an error naming op,
 * when a dim is out of range or repeated. */
bool nd__reduction_plan(const char *op, const nd_tensor *t, int n, const int *dims, bool keepdim,
                        nd_reduction *r);
/* The dims a plan reduces, as a list (returns how many). */
int nd__reduction_dims(const nd_reduction *r, int *dims);
/* Keeps a plan in an op's parameters and reads it back in its rules. */
void nd__reduction_save(const nd_reduction *r, nd_params *p);
void nd__reduction_load(const nd_params *p, nd_reduction *r);

/* The input laid out for a kernel: contiguous, with the reduced elements of each
 * output in one (outer, n, inner) block. Returns t itself when it already is,
 * else an unrecorded copy (the op records the original input). */
nd_tensor *nd__reduction_input(nd_tensor *t, const nd_reduction *r, int64_t *outer, int64_t *n,
                               int64_t *inner);

/* A gradient g shaped like the result, reshaped to keep_shape (reduced dims as
 * size 1) and, with expand, broadcast back to the input's shape: the way a
 * reduction's VJP hands each input element the gradient of its output. */
nd_tensor *nd__unreduce(nd_tensor *g, const nd_reduction *r, bool expand);

/* softmax.c's kernel, shared with nn.c's cross-entropy so that the two give
 * the same numbers: over x, a contiguous F32/F64 (outer, n, inner) block, each
 * of the outer·inner slices of n elements `inner` apart is max-shifted, then
 * exponentiated (f32 in float, summed in double). y is laid out like x, or
 * (outer, inner) for ND_LOGSUMEXP. */
typedef enum { ND_LOGSUMEXP, ND_SOFTMAX, ND_LOG_SOFTMAX } nd_softmax_mode;
void nd__softmax_slices(nd_tensor *x, int64_t outer, int64_t n, int64_t inner, nd_softmax_mode mode,
                        nd_tensor *y);

#endif /* ND_REDUCE_H */
