/* `nd fit "x1,y1 x2,y2 ..."`: the piecewise-linear function through the points,
 * written exactly as a constant plus a sum of ReLUs:
 *   f(x) = y1 + m1·relu(x − x1) + Σ_{i>1} (m_i − m_{i−1})·relu(x − x_i)
 * where m_i is the slope after x_i. Each ReLU turns the line by the change of
 * slope at its kink; left of x1 the function is the constant y1 — the
 * construction of the relu-synthesis lab. */
#include "commands.h"
#include "relu_sum.h"
#include "text.h"

#include <nd.h>
#include <nd_plot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "nd fit \"x1,y1 x2,y2 ...\" [--png FILE] [--svg FILE]\n"
    "  Writes the piecewise-linear function through the points (at least two, distinct x)\n"
    "  as a sum of ReLUs, and checks it at every point. Example:\n"
    "    nd fit \"-10,-10 0,0 5,-5 10,20\"\n"
    "    f(x) = -10 + relu(x + 10) - 2 relu(x) + 6 relu(x - 5)\n"
    "  --png FILE, --svg FILE   also draw f and the points (a PNG or SVG figure)\n"
    "\n"
    "  Exit status: 0; 1 when a check or a figure fails; 2 for a usage error.\n";

/* f over the points' range (and a margin each side), with the points on it. */
static int draw(const relu_sum *f, const char *formula, const char *path) {
    nd_scope_begin();
    double lo = f->x[0], hi = f->x[f->n - 1], margin = 0.1 * (hi - lo);
    enum { SAMPLES = 401 };
    nd_tensor *xs = nd_linspace(lo - margin, hi + margin, SAMPLES, ND_F64);
    nd_tensor *ys = nd_empty(ND_F64, ND_SHAPE(SAMPLES));
    double *y = ys ? nd_data(ys) : NULL;
    for (int i = 0; y && xs && i < SAMPLES; i++)
        y[i] = relu_sum_eval(f, nd_get(xs, (int64_t[]){i}));
    nd_tensor *px = nd_from(ND_F64, ND_SHAPE(f->n), f->x);
    nd_tensor *py = nd_from(ND_F64, ND_SHAPE(f->n), f->y);
    char title[512];
    snprintf(title, sizeof title, "f(x) = %s", formula);
    nd_plot *p = nd_plot_new(title, "x", "f(x)");
    int rc = p && y && px && py ? 0 : -1;
    if (rc == 0) rc = nd_plot_line(p, xs, ys, "f: a sum of ReLUs");
    if (rc == 0) rc = nd_plot_points(p, px, py, "the points");
    if (rc == 0) rc = nd_plot_save(p, path, 640, 420);
    if (rc != 0)
        fprintf(stderr, "nd fit: cannot draw %s: %s\n", path, text_user_error(nd_last_error()));
    else
        printf("Figure written to %s\n", path);
    nd_plot_free(p);
    nd_scope_end();
    return rc;
}

/* A figure path for --png/--svg: its extension must match the option. */
static bool figure_path_fits(const char *option, const char *path) {
    const char *dot = strrchr(path, '.');
    const char *want = option + 1; /* "--png" -> "-png": compare after the dash */
    if (dot && !strcmp(dot + 1, want + 1)) return true;
    fprintf(stderr, "nd fit: %s wants a file ending in .%s, got '%s'\n", option, want + 1, path);
    return false;
}

int cmd_fit(int argc, char **argv) {
    const char *points = NULL, *figures[2] = {NULL, NULL};
    int nfigures = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return 0;
        }
        if (!strcmp(a, "--png") || !strcmp(a, "--svg")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nd fit: %s needs a file name, e.g. %s fit%s\n", a, a, a + 1);
                return 2;
            }
            if (!figure_path_fits(a, argv[i + 1])) return 2;
            if (nfigures < 2) figures[nfigures++] = argv[i + 1];
            i++;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "nd fit: unknown option '%s' (nd fit --help lists the options)\n", a);
            return 2;
        } else if (points) {
            fprintf(stderr,
                    "nd fit: give the points as one argument in quotes, e.g. nd fit \"0,0 1,2 "
                    "3,1\" (got '%s' and '%s')\n",
                    points, a);
            return 2;
        } else {
            points = a;
        }
    }
    if (!points) {
        fprintf(stderr, "nd fit: give the points as one argument, e.g. nd fit \"0,0 1,2 3,1\"\n");
        return 2;
    }
    relu_sum f;
    char error[512];
    if (relu_sum_parse(points, &f, error, sizeof error) != 0) {
        fprintf(stderr, "nd fit: %s\n", error);
        return 2;
    }
    char *formula = relu_sum_formula(&f);
    printf("f(x) = %s\n", formula);
    int bad = 0;
    for (int i = 0; i < f.n; i++) {
        double y = relu_sum_eval(&f, f.x[i]);
        printf("  f(%g) = %g%s\n", f.x[i], y, y == f.y[i] ? "" : "  (expected differently!)");
        bad += fabs(y - f.y[i]) > 1e-9 * (1 + fabs(f.y[i]));
    }
    for (int i = 0; i < nfigures; i++)
        if (draw(&f, formula ? formula : "", figures[i]) != 0) bad++;
    free(formula);
    relu_sum_free(&f);
    nd_shutdown();
    return bad ? 1 : 0;
}
