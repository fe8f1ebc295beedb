/* libnd_plot: figures in every format, graphs through Graphviz, and the errors
 * (a bad path or format must not end the process, as PLplot would). */
#include "support.h"

#include <nd_plot.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *temp_path(const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "/tmp/nd_test_plot_%d_%s", (int)getpid(), name);
    return path;
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static bool starts_with(const char *path, const char *magic) {
    FILE *f = fopen(path, "rb");
    char head[16] = {0};
    size_t n = f ? fread(head, 1, strlen(magic), f) : 0;
    if (f) fclose(f);
    return n == strlen(magic) && memcmp(head, magic, n) == 0;
}

ND_TEST(plot, every_series_kind_in_every_format) {
    nd_tensor *x = nd_linspace(-3, 3, 61, ND_F64);
    nd_plot *p = nd_plot_new("f(x) = x² and its tangent", "x", "f(x)");
    cr_assert_eq(nd_plot_line(p, x, nd_square(x), "x²"), 0);
    cr_assert_eq(nd_plot_dashed(p, x, nd_mul_scalar(x, 2), "2x"), 0);
    cr_assert_eq(nd_plot_points(p, nd_parse("[0.0, 1.0]"), nd_parse("[0.0, 1.0]"), "points"), 0);
    cr_assert_eq(nd_plot_path(p, nd_parse("[-2.0, -1.0, 0.0]"), nd_parse("[4.0, 1.0, 0.0]"), NULL),
                 0);
    cr_assert_eq(nd_plot_arrow(p, 0, 0, 1, 2, "v"), 0);
    cr_assert_eq(nd_plot_text(p, -2, 6, "note"), 0);
    const char *formats[] = {"png", "svg", "pdf"};
    const char *magic[] = {"\x89PNG", "<?xml", "%PDF"};
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "figure.%s", formats[i]);
        char *path = temp_path(name);
        cr_assert_eq(nd_plot_save(p, path, 480, 360), 0, "%s", nd_last_error());
        cr_assert(file_size(path) > 500, "%s is too small", path);
        cr_assert(starts_with(path, magic[i]), "%s is not a %s file", path, formats[i]);
        remove(path);
    }
    nd_plot_free(p);
}

ND_TEST(plot, contours_and_ranges) {
    nd_tensor *g = nd_linspace(-2, 2, 21, ND_F64);
    nd_tensor *z = nd_add(nd_square(nd_unsqueeze(g, 1)), nd_mul_scalar(nd_square(g), 2));
    nd_plot *p = nd_plot_new("x² + 2y²", "x", "y");
    cr_assert_eq(nd_plot_contour(p, z, -2, 2, -2, 2, 8), 0);
    cr_assert_eq(nd_plot_range(p, -2, 2, -2, 2), 0);
    cr_assert_eq(nd_plot_equal_axes(p, true), 0);
    char *path = temp_path("contour.png");
    cr_assert_eq(nd_plot_save(p, path, 400, 400), 0, "%s", nd_last_error());
    cr_assert(file_size(path) > 1000);
    remove(path);
    nd_plot_free(p);
}

ND_TEST(plot, errors) {
    nd_plot *p = nd_plot_new("t", "x", "y");
    cr_assert_eq(nd_plot_line(p, nd_ones(ND_F32, ND_SHAPE(3)), nd_ones(ND_F32, ND_SHAPE(4)), NULL),
                 -1);
    assert_error("x has 3 values and y 4");
    cr_assert_eq(nd_plot_line(p, NULL, nd_ones(ND_F32, ND_SHAPE(4)), NULL), -1);
    cr_assert_eq(nd_plot_contour(p, nd_ones(ND_F32, ND_SHAPE(3)), 0, 1, 0, 1, 5), -1);
    assert_error("(ny, nx) grid");
    cr_assert_eq(nd_plot_range(p, 1, 0, 0, 1), -1);
    assert_error("empty range");
    cr_assert_eq(nd_plot_save(p, temp_path("figure.gif"), 100, 100), -1);
    assert_error("unsupported format");
    cr_assert_eq(nd_plot_save(p, "/nonexistent-folder/figure.png", 100, 100), -1);
    assert_error("cannot write");
    cr_assert_eq(nd_plot_save(p, temp_path("tiny.png"), 2, 2), -1);
    assert_error("out of range");
    cr_assert_eq(nd_plot_save(NULL, temp_path("x.png"), 100, 100), -1);
    nd_plot_free(p);
    nd_plot_free(NULL);
}

ND_TEST(plot, graph_of_a_computation) {
    nd_tensor *w = nd_set_name(nd_set_requires_grad(nd_parse("[1.0, 2.0]"), true), "w");
    nd_tensor *z = nd_set_name(nd_sum(nd_square(w), ND_ALL, false), "z");
    char *dot = nd_graph_dot(z);
    cr_assert(dot);
    for (int i = 0; i < 2; i++) { /* twice: one Graphviz context serves every graph */
        char *path = temp_path(i ? "graph.svg" : "graph.png");
        cr_assert_eq(nd_plot_graph(dot, path), 0, "%s", nd_last_error());
        cr_assert(file_size(path) > 500);
        remove(path);
    }
    free(dot);
    cr_assert_eq(nd_plot_graph("digraph {", temp_path("bad.png")), -1);
    assert_error("could not parse");
    cr_assert_eq(nd_plot_graph("digraph { a -> b }", temp_path("bad.gif")), -1);
    assert_error("unsupported format");
}

/* PLplot and Graphviz keep their state in globals: nd draws one figure at a
 * time, so threads saving figures and graphs at once all get whole files. */
typedef struct {
    int id;
    char error[256];
} drawer;

static void *draw_from_a_thread(void *arg) {
    drawer *d = arg;
    for (int i = 0; i < 3 && !d->error[0]; i++) {
        nd_scope_begin();
        char name[64];
        snprintf(name, sizeof name, "thread%d_%d.%s", d->id, i, d->id % 2 ? "svg" : "png");
        char path[512];
        snprintf(path, sizeof path, "/tmp/nd_test_plot_%d_%s", (int)getpid(), name);
        nd_tensor *x = nd_linspace(-3, 3, 31, ND_F64);
        nd_plot *p = nd_plot_new("thread", "x", "y");
        int rc = nd_plot_line(p, x, nd_mul_scalar(x, d->id), "line");
        if (rc == 0) rc = nd_plot_save(p, path, 200, 150);
        nd_plot_free(p);
        if (rc == 0 && file_size(path) < 500) rc = -1;
        remove(path);
        if (rc == 0) {
            snprintf(path, sizeof path, "/tmp/nd_test_plot_%d_graph_%s", (int)getpid(), name);
            rc = nd_plot_graph("digraph { a -> b -> c }", path);
            if (rc == 0 && file_size(path) < 200) rc = -1;
            remove(path);
        }
        if (rc) snprintf(d->error, sizeof d->error, "%s", nd_last_error() ? nd_last_error() : "?");
        nd_scope_end();
    }
    nd_shutdown();
    return NULL;
}

ND_TEST(plot, figures_from_several_threads) {
    pthread_t threads[4];
    drawer drawers[4];
    for (int i = 0; i < 4; i++) {
        drawers[i] = (drawer){.id = i};
        cr_assert_eq(pthread_create(&threads[i], NULL, draw_from_a_thread, &drawers[i]), 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);
    for (int i = 0; i < 4; i++)
        cr_assert(!drawers[i].error[0], "thread %d: %s", i, drawers[i].error);
}
