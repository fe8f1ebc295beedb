/* One drawing at a time in the process. PLplot keeps its state in globals (the
 * current stream, the exit handler that nd_plot_save's error path relies on),
 * Graphviz too (the error callback, the one context and its font caches), and
 * both draw through cairo and pango: figures and graphs made from several
 * threads take turns. A figure takes milliseconds, so the wait is short. */
#ifndef ND_PLOT_LOCK_H
#define ND_PLOT_LOCK_H

void nd__drawing_begin(void);
void nd__drawing_end(void);

#endif
