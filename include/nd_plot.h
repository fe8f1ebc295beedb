/*
 * nd_plot.h — figures for nd: line plots, scatter plots, contours with paths
 * drawn over them, arrows, a legend; written to PNG, SVG or PDF by PLplot's
 * cairo driver. And computation graphs (nd_graph_dot) drawn by Graphviz.
 * Link with `pkg-config --cflags --libs nd_plot`.
 *
 * A plot collects what to draw and renders it when saved:
 *
 *     nd_plot *p = nd_plot_new("Gradient descent", "x", "f(x)");
 *     nd_plot_line(p, xs, ys, "f(x) = x²");
 *     nd_plot_points(p, trace_x, trace_y, "iterates");
 *     nd_plot_save(p, "gd.png", 640, 480);
 *     nd_plot_free(p);
 */
#ifndef ND_PLOT_H
#define ND_PLOT_H

#include "nd.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nd_plot nd_plot;

/* A new figure with its title and axis labels; free it with nd_plot_free. */
ND_API nd_plot *nd_plot_new(const char *title, const char *xlabel, const char *ylabel);
/* Frees the figure (NULL is fine). */
ND_API void nd_plot_free(nd_plot *p);

/* x and y: 1-d tensors of equal length (any real dtype). label may be NULL (no legend entry). */
ND_API int nd_plot_line(nd_plot *p, nd_tensor *x, nd_tensor *y, const char *label);
/* Like nd_plot_line, dashed. */
ND_API int nd_plot_dashed(nd_plot *p, nd_tensor *x, nd_tensor *y, const char *label);
/* Points only (a scatter plot). */
ND_API int nd_plot_points(nd_plot *p, nd_tensor *x, nd_tensor *y, const char *label);
/* A line through the points with a marker at each: an optimisation trace. */
ND_API int nd_plot_path(nd_plot *p, nd_tensor *x, nd_tensor *y, const char *label);
/* Contour lines of z (ny, nx) sampled on [x0, x1] × [y0, y1]; levels > 0. */
ND_API int nd_plot_contour(nd_plot *p, nd_tensor *z, double x0, double x1, double y0, double y1,
                           int levels);
/* An arrow from (x0, y0) to (x1, y1), with an optional label at its head. */
ND_API int nd_plot_arrow(nd_plot *p, double x0, double y0, double x1, double y1, const char *label);
/* A text label at (x, y) in data coordinates. */
ND_API int nd_plot_text(nd_plot *p, double x, double y, const char *text);
/* Fixed axis ranges (otherwise fitted to the data with a margin). */
ND_API int nd_plot_range(nd_plot *p, double xmin, double xmax, double ymin, double ymax);
/* Same scale on both axes (for geometry). */
ND_API int nd_plot_equal_axes(nd_plot *p, bool on);
/* Renders to path; the format follows the extension: .png, .svg or .pdf.
 * Safe from several threads (each with its own nd_plot): PLplot and Graphviz
 * keep global state, so figures and graphs are drawn one at a time. */
ND_API int nd_plot_save(const nd_plot *p, const char *path, int width, int height);

/* Draws Graphviz DOT text (e.g. from nd_graph_dot) with the dot layout into path
 * (.png, .svg or .pdf). */
ND_API int nd_plot_graph(const char *dot, const char *path);

#ifdef __cplusplus
}
#endif
#endif
