/* A piecewise-linear function through points, as a constant plus a sum of
 * ReLUs (used by `nd fit` and the relu-synthesis lab). */
#ifndef ND_RELU_SUM_H
#define ND_RELU_SUM_H

#include <math.h>
#include <stddef.h>

typedef struct {
    int n;         /* points, sorted by x */
    double *x, *y; /* the points */
    double bias;   /* f = bias + Σ weight[i]·relu(x − x[i]), i < n − 1 */
    double *weight;
} relu_sum;

/* Parses "x1,y1 x2,y2 ..." (any order; x distinct; at least two points). 0, or -1
 * with a message in error. */
int relu_sum_parse(const char *text, relu_sum *f, char *error, size_t error_size);
/* The construction from points already sorted by x and distinct. */
int relu_sum_build(relu_sum *f, int n, const double *x, const double *y);
double relu_sum_eval(const relu_sum *f, double x);
/* "-10 + relu(x + 10) - 2 relu(x) + 6 relu(x - 5)"; malloc'd. */
char *relu_sum_formula(const relu_sum *f);
void relu_sum_free(relu_sum *f);

#endif
