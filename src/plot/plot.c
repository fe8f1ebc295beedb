/* Plots through PLplot's cairo driver. A plot records its series and draws
 * them all when saved, so ranges can be fitted to everything at once. PLplot
 * keeps global state per stream: each save opens its own stream and ends it. */
#include "nd_plot.h"

#include "nd_ext.h"
#include "lock.h"

#include <errno.h>
#include <math.h>
#include <plplot.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    SERIES_LINE,
    SERIES_DASHED,
    SERIES_POINTS,
    SERIES_PATH,
    SERIES_CONTOUR,
    SERIES_ARROW,
    SERIES_TEXT
} series_kind;

typedef struct {
    series_kind kind;
    int n;         /* points, or nx for a contour */
    int ny;        /* contour rows */
    double *x, *y; /* n points; for a contour x = z values (ny·nx) */
    double box[4]; /* contour extent, or arrow ends (x0, y0, x1, y1), or text position */
    int levels;
    int color;
    char *label;
} series;

struct nd_plot {
    char *title, *xlabel, *ylabel;
    series *items;
    int count, cap;
    int next_color;
    bool fixed_range, equal_axes;
    double range[4];
};

/* A calm palette on white: dark grey for axes and text, then distinct series colours. */
static const int palette[][3] = {{255, 255, 255}, {37, 37, 37},    {31, 119, 180},  {214, 39, 40},
                                 {44, 160, 44},   {255, 127, 14},  {148, 103, 189}, {140, 86, 75},
                                 {227, 119, 194}, {127, 127, 127}, {188, 189, 34},  {23, 190, 207},
                                 {150, 150, 150}};
#define SERIES_COLORS 10 /* indices 2..11 */
#define GRID_COLOR    12

static char *copy(const char *s) {
    return s ? strdup(s) : NULL;
}

nd_plot *nd_plot_new(const char *title, const char *xlabel, const char *ylabel) {
    nd_plot *p = calloc(1, sizeof *p);
    if (!p) return (nd__set_error_as(ND_ERR_NOMEM, "nd_plot_new: out of memory"), NULL);
    p->title = copy(title ? title : "");
    p->xlabel = copy(xlabel ? xlabel : "");
    p->ylabel = copy(ylabel ? ylabel : "");
    if (!p->title || !p->xlabel || !p->ylabel) {
        nd_plot_free(p);
        return (nd__set_error_as(ND_ERR_NOMEM, "nd_plot_new: out of memory"), NULL);
    }
    return p;
}

void nd_plot_free(nd_plot *p) {
    if (!p) return;
    for (int i = 0; i < p->count; i++) {
        free(p->items[i].x);
        free(p->items[i].y);
        free(p->items[i].label);
    }
    free(p->items);
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
    free(p);
}

/* Adds a series made in full, with its label copied (label may be NULL); on
 * failure frees what the series holds, so a plot never keeps half a series. */
static int add_series(nd_plot *p, series s, const char *label, const char *op) {
    s.label = copy(label);
    if (label && !s.label) goto out_of_memory;
    if (p->count == p->cap) {
        int cap = p->cap ? p->cap * 2 : 8;
        series *grown = realloc(p->items, (size_t)cap * sizeof *grown);
        if (!grown) goto out_of_memory;
        p->items = grown;
        p->cap = cap;
    }
    p->items[p->count++] = s;
    return 0;
out_of_memory:
    free(s.x);
    free(s.y);
    free(s.label);
    return nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory", op);
}

/* A tensor's values as doubles (malloc'd); NULL with an error when that fails. */
static double *values(nd_tensor *t, const char *op) {
    int64_t n = nd_numel(t);
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) nd__set_error_as(ND_ERR_NOMEM, "%s: out of memory", op);
    if (v && nd_read(t, ND_F64, v, (size_t)n * sizeof *v) != 0) {
        free(v);
        v = NULL;
    }
    return v;
}

static int add_xy(nd_plot *p, series_kind kind, nd_tensor *x, nd_tensor *y, const char *label,
                  const char *op) {
    if (!p) return nd__fail_int("%s: NULL plot", op);
    ND_CHECK_INT(op, x, y);
    if (nd_numel(x) != nd_numel(y))
        return nd__fail_int_as(ND_ERR_SHAPE, "%s: x has %lld values and y %lld", op,
                               (long long)nd_numel(x), (long long)nd_numel(y));
    if (nd_numel(x) > 10000000) return nd__fail_int("%s: too many points", op);
    series s = {.kind = kind, .n = (int)nd_numel(x), .x = values(x, op)};
    s.y = s.x ? values(y, op) : NULL;
    if (!s.y) {
        free(s.x);
        return -1;
    }
    s.color = 2 + p->next_color++ % SERIES_COLORS;
    return add_series(p, s, label, op);
}

int nd_plot_line(nd_plot *p, nd_tensor *x, nd_tensor *y, const char *label) {
    return add_xy(p, SERIES_LINE, x, y, label, "nd_plot_line");
}
int nd_plot_dashed(nd_plot *p, nd_tensor *x, nd_tensor *y, const char *label) {
    return add_xy(p, SERIES_DASHED, x, y, label, "nd_plot_dashed");
}
int nd_plot_points(nd_plot *p, nd_tensor *x, nd_tensor *y, const char *label) {
    return add_xy(p, SERIES_POINTS, x, y, label, "nd_plot_points");
}
int nd_plot_path(nd_plot *p, nd_tensor *x, nd_tensor *y, const char *label) {
    return add_xy(p, SERIES_PATH, x, y, label, "nd_plot_path");
}

int nd_plot_contour(nd_plot *p, nd_tensor *z, double x0, double x1, double y0, double y1,
                    int levels) {
    if (!p) return nd__fail_int("nd_plot_contour: NULL plot");
    ND_CHECK_INT("nd_plot_contour", z);
    if (nd_ndim(z) != 2 || nd_shape(z)[0] < 2 || nd_shape(z)[1] < 2)
        return nd__fail_int_as(
            ND_ERR_SHAPE, "nd_plot_contour: z must be a (ny, nx) grid with ny, nx >= 2, got %s",
            nd__tshape(z));
    if (levels <= 0 || !(x1 > x0) || !(y1 > y0))
        return nd__fail_int("nd_plot_contour: need levels > 0 and a non-empty extent");
    series s = {.kind = SERIES_CONTOUR,
                .ny = (int)nd_shape(z)[0],
                .n = (int)nd_shape(z)[1],
                .x = values(z, "nd_plot_contour"),
                .box = {x0, x1, y0, y1},
                .levels = levels,
                .color = GRID_COLOR};
    return s.x ? add_series(p, s, NULL, "nd_plot_contour") : -1;
}

int nd_plot_arrow(nd_plot *p, double x0, double y0, double x1, double y1, const char *label) {
    if (!p) return nd__fail_int("nd_plot_arrow: NULL plot");
    series s = {.kind = SERIES_ARROW,
                .box = {x0, y0, x1, y1},
                .color = 2 + p->next_color++ % SERIES_COLORS};
    return add_series(p, s, label, "nd_plot_arrow");
}

int nd_plot_text(nd_plot *p, double x, double y, const char *text) {
    if (!p || !text) return nd__fail_int("nd_plot_text: NULL plot or text");
    series s = {.kind = SERIES_TEXT, .box = {x, y}, .color = 1};
    return add_series(p, s, text, "nd_plot_text");
}

int nd_plot_range(nd_plot *p, double xmin, double xmax, double ymin, double ymax) {
    if (!p) return nd__fail_int("nd_plot_range: NULL plot");
    if (!(xmax > xmin) || !(ymax > ymin))
        return nd__fail_int("nd_plot_range: empty range [%g, %g] × [%g, %g]", xmin, xmax, ymin,
                            ymax);
    p->fixed_range = true;
    p->range[0] = xmin, p->range[1] = xmax, p->range[2] = ymin, p->range[3] = ymax;
    return 0;
}

int nd_plot_equal_axes(nd_plot *p, bool on) {
    if (!p) return nd__fail_int("nd_plot_equal_axes: NULL plot");
    p->equal_axes = on;
    return 0;
}

/* The data's extent with a 5% margin; finite values only. */
static void fit_range(const nd_plot *p, double r[4]) {
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
#define SEE(axis, v)                                                                               \
    do {                                                                                           \
        if (isfinite(v)) {                                                                         \
            if ((v) < lo[axis]) lo[axis] = (v);                                                    \
            if ((v) > hi[axis]) hi[axis] = (v);                                                    \
        }                                                                                          \
    } while (0)
    for (int i = 0; i < p->count; i++) {
        const series *s = &p->items[i];
        if (s->kind == SERIES_CONTOUR) {
            SEE(0, s->box[0]);
            SEE(0, s->box[1]);
            SEE(1, s->box[2]);
            SEE(1, s->box[3]);
        } else if (s->kind == SERIES_ARROW) {
            SEE(0, s->box[0]);
            SEE(0, s->box[2]);
            SEE(1, s->box[1]);
            SEE(1, s->box[3]);
        } else if (s->kind == SERIES_TEXT) {
            SEE(0, s->box[0]);
            SEE(1, s->box[1]);
        } else {
            for (int k = 0; k < s->n; k++) {
                SEE(0, s->x[k]);
                SEE(1, s->y[k]);
            }
        }
    }
#undef SEE
    for (int a = 0; a < 2; a++) {
        if (!(hi[a] >= lo[a])) lo[a] = 0, hi[a] = 1;
        double span = hi[a] - lo[a];
        if (span == 0) span = fabs(hi[a]) > 0 ? fabs(hi[a]) : 1;
        r[2 * a] = lo[a] - 0.05 * span;
        r[2 * a + 1] = hi[a] + 0.05 * span;
    }
}

static const char *device_for(const char *path) {
    const char *dot = strrchr(path, '.');
    if (!dot) return NULL;
    if (!strcmp(dot, ".png")) return "pngcairo";
    if (!strcmp(dot, ".svg")) return "svgcairo";
    if (!strcmp(dot, ".pdf")) return "pdfcairo";
    return NULL;
}

/* ------------------------------------------------------------ drawing */

static void draw_arrow(const series *s, const double r[4]) {
    double x[2] = {s->box[0], s->box[2]}, y[2] = {s->box[1], s->box[3]};
    plwidth(2.0);
    plline(2, x, y);
    /* the head: two strokes at ±25° back from the tip, sized to the axes */
    double dx = (s->box[2] - s->box[0]) / (r[1] - r[0]),
           dy = (s->box[3] - s->box[1]) / (r[3] - r[2]);
    double len = hypot(dx, dy);
    if (len > 0) {
        double ux = dx / len, uy = dy / len, size = 0.03;
        for (int side = -1; side <= 1; side += 2) {
            double a = side * 0.45;
            double hx = -(ux * cos(a) - uy * sin(a)) * size,
                   hy = -(ux * sin(a) + uy * cos(a)) * size;
            double ex[2] = {s->box[2], s->box[2] + hx * (r[1] - r[0])};
            double ey[2] = {s->box[3], s->box[3] + hy * (r[3] - r[2])};
            plline(2, ex, ey);
        }
    }
    plwidth(1.0);
    if (s->label) plptex(s->box[2], s->box[3], 1, 0, -0.15, s->label);
}

static void draw_contour(const series *s) {
    int nx = s->n, ny = s->ny;
    double zmin = INFINITY, zmax = -INFINITY;
    for (int k = 0; k < nx * ny; k++)
        if (isfinite(s->x[k])) zmin = fmin(zmin, s->x[k]), zmax = fmax(zmax, s->x[k]);
    if (!(zmax > zmin)) return;
    PLFLT **z = malloc((size_t)nx * sizeof *z);
    PLFLT *xg = malloc((size_t)nx * sizeof *xg), *yg = malloc((size_t)ny * sizeof *yg);
    PLFLT *clevel = malloc((size_t)s->levels * sizeof *clevel);
    if (z && xg && yg && clevel) {
        for (int i = 0; i < nx; i++) z[i] = malloc((size_t)ny * sizeof **z);
        bool ok = true;
        for (int i = 0; i < nx; i++) ok = ok && z[i];
        if (ok) {
            for (int i = 0; i < nx; i++)
                for (int j = 0; j < ny; j++) z[i][j] = s->x[j * nx + i]; /* PLplot is x-major */
            for (int i = 0; i < nx; i++) xg[i] = s->box[0] + (s->box[1] - s->box[0]) * i / (nx - 1);
            for (int j = 0; j < ny; j++) yg[j] = s->box[2] + (s->box[3] - s->box[2]) * j / (ny - 1);
            for (int k = 0; k < s->levels; k++)
                clevel[k] = zmin + (zmax - zmin) * (k + 0.5) / s->levels;
            PLcGrid grid = {xg, yg, NULL, nx, ny, 0};
            plcol0(GRID_COLOR);
            plcont((PLFLT_MATRIX)z, nx, ny, 1, nx, 1, ny, clevel, s->levels, pltr1, &grid);
        }
        for (int i = 0; i < nx; i++) free(z[i]);
    }
    free(z);
    free(xg);
    free(yg);
    free(clevel);
}

static void draw_legend(const nd_plot *p) {
    int n = 0;
    for (int i = 0; i < p->count; i++) n += p->items[i].label && p->items[i].kind <= SERIES_PATH;
    if (n == 0) return;
    PLINT opt[64], colors[64], styles[64], symbol_numbers[64];
    PLFLT widths[64], scales[64];
    const char *text[64], *symbols[64];
    int k = 0;
    for (int i = 0; i < p->count && k < 64; i++) {
        const series *s = &p->items[i];
        if (!s->label || s->kind > SERIES_PATH) continue;
        opt[k] = s->kind == SERIES_POINTS ? PL_LEGEND_SYMBOL
                 : s->kind == SERIES_PATH ? PL_LEGEND_LINE | PL_LEGEND_SYMBOL
                                          : PL_LEGEND_LINE;
        colors[k] = s->color;
        styles[k] = s->kind == SERIES_DASHED ? 2 : 1;
        widths[k] = 2.0;
        scales[k] = 0.8;
        symbol_numbers[k] = 1;
        symbols[k] = "#(728)";
        text[k] = s->label;
        k++;
    }
    PLFLT w, h;
    plscol0a(0, 255, 255, 255, 0.85);
    pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE, 0.02, 0.02, 0.08, 0, 9, 1, 0,
             0, k, opt, 1.0, 0.9, 1.8, 0.0, colors, text, NULL, NULL, NULL, NULL, colors, styles,
             widths, colors, scales, symbol_numbers, symbols);
}

static void draw(const nd_plot *p, const double r[4]) {
    pladv(0);
    plschr(0, 0.9);
    if (p->equal_axes) {
        plvpas(0.12, 0.95, 0.12, 0.9, 0.0);
        plwind(r[0], r[1], r[2], r[3]);
        plvasp((r[3] - r[2]) / (r[1] - r[0]));
    } else {
        plvpor(0.12, 0.95, 0.12, 0.9);
    }
    plwind(r[0], r[1], r[2], r[3]);
    plcol0(GRID_COLOR);
    pllsty(3);
    plbox("g", 0, 0, "g", 0, 0); /* a light grid under the data */
    pllsty(1);
    plcol0(1);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    pllab(p->xlabel, p->ylabel, p->title);
    for (int i = 0; i < p->count; i++) {
        const series *s = &p->items[i];
        plcol0(s->color);
        switch (s->kind) {
        case SERIES_LINE:
        case SERIES_DASHED:
            pllsty(s->kind == SERIES_DASHED ? 2 : 1);
            plwidth(2.0);
            plline(s->n, s->x, s->y);
            plwidth(1.0);
            pllsty(1);
            break;
        case SERIES_PATH:
            plwidth(1.5);
            plline(s->n, s->x, s->y);
            plwidth(1.0);
            plssym(0, 0.8);
            plstring(s->n, s->x, s->y, "#(728)"); /* markers at the iterates */
            break;
        case SERIES_POINTS:
            plssym(0, 0.8);
            plstring(s->n, s->x, s->y, "#(728)");
            break;
        case SERIES_CONTOUR:
            draw_contour(s);
            break;
        case SERIES_ARROW:
            draw_arrow(s, r);
            break;
        case SERIES_TEXT:
            plptex(s->box[0], s->box[1], 1, 0, 0, s->label);
            break;
        }
    }
    draw_legend(p);
}

/* PLplot ends the process on a fatal error unless its exit handler does not
 * return: ours jumps back into nd_plot_save, which reports the error instead.
 * One jump target for the process is enough: figures are drawn one at a time
 * (lock.h). */
static jmp_buf plot_failed;
static char plot_failure[256];
static int on_plplot_exit(PLCHAR_VECTOR message) {
    snprintf(plot_failure, sizeof plot_failure, "%s", message ? message : "unknown error");
    longjmp(plot_failed, 1);
}

/* The PLplot calls, apart so that nothing here lives across the setjmp but
 * its arguments. */
__attribute__((noinline)) static int render(const nd_plot *p, const char *path, const char *device,
                                            const char *geometry, const double range[4]) {
    volatile PLINT previous;
    PLINT current, stream;
    plgstrm(&current);
    previous = current;
    plsexit(on_plplot_exit);
    if (setjmp(plot_failed)) {
        plsstrm(previous);
        return nd__fail_int_as(ND_ERR_EXTERNAL, "nd_plot_save: %s: PLplot failed: %s", path,
                               plot_failure);
    }
    plmkstrm(&stream);
    plsdev(device);
    plsfnam(path);
    plsetopt("geometry", geometry);
    plscmap0n((PLINT)(sizeof palette / sizeof palette[0]));
    for (int i = 0; i < (int)(sizeof palette / sizeof palette[0]); i++)
        plscol0(i, palette[i][0], palette[i][1], palette[i][2]);
    plinit();
    draw(p, range);
    plend1();
    plsstrm(previous);
    return 0;
}

int nd_plot_save(const nd_plot *p, const char *path, int width, int height) {
    if (!p || !path) return nd__fail_int("nd_plot_save: NULL plot or path");
    const char *device = device_for(path);
    if (!device)
        return nd__fail_int("nd_plot_save: %s: unsupported format (use .png, .svg or .pdf)", path);
    if (width < 16 || height < 16 || width > 8192 || height > 8192)
        return nd__fail_int("nd_plot_save: size %dx%d out of range (16 to 8192)", width, height);
    FILE *probe = fopen(path, "wb"); /* PLplot would exit() on an unwritable file */
    if (!probe)
        return nd__fail_int_as(nd__errno_code(errno), "nd_plot_save: %s: cannot write: %s", path,
                               nd__strerror(errno));
    fclose(probe);
    double range[4];
    if (p->fixed_range)
        memcpy(range, p->range, sizeof range);
    else
        fit_range(p, range);
    char geometry[32];
    snprintf(geometry, sizeof geometry, "%dx%d", width, height);
    nd__drawing_begin();
    int rc = render(p, path, device, geometry, range);
    nd__drawing_end();
    return rc;
}
