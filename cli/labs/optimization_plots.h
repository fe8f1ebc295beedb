/* The figures of the optimization lab (lab 6): optimisation traces drawn over
 * the curve or the contours of the objective, and the landscapes of d2l 11.1
 * (risk versus empirical risk, local minima, saddle points). */
#ifndef ND_LAB_OPTIMIZATION_PLOTS_H
#define ND_LAB_OPTIMIZATION_PLOTS_H

#include "lab.h"

/* f (elementwise, one variable) on [−n, n], n = max |iterate| as in d2l's
 * show_trace, with the iterates (a 1-d tensor) drawn over it. */
int plot_trace_1d(report *r, const char *name, const char *title, nd_fn f, void *ctx,
                  nd_tensor *iterates, const char *caption);

/* Contours of f over box = {x1 min, x1 max, x2 min, x2 max}, and n traces
 * (each (steps + 1, 2)) drawn over them. f maps (..., 2) to (...). */
int plot_trace_2d(report *r, const char *name, const char *title, nd_fn f, void *ctx,
                  const double box[4], int n, nd_tensor *const *traces, const char *const *labels,
                  const char *caption);

/* d2l 11.1: empirical risk versus risk, local and global minima, saddle points. */
int optimization_landscapes(report *r);

#endif
