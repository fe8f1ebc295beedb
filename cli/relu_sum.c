#include "relu_sum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void relu_sum_free(relu_sum *f) {
    free(f->x);
    free(f->y);
    free(f->weight);
    memset(f, 0, sizeof *f);
}

int relu_sum_build(relu_sum *f, int n, const double *x, const double *y) {
    memset(f, 0, sizeof *f);
    f->x = malloc((size_t)n * sizeof *f->x);
    f->y = malloc((size_t)n * sizeof *f->y);
    f->weight = calloc((size_t)n, sizeof *f->weight);
    if (!f->x || !f->y || !f->weight) {
        relu_sum_free(f);
        return -1;
    }
    f->n = n;
    memcpy(f->x, x, (size_t)n * sizeof *x);
    memcpy(f->y, y, (size_t)n * sizeof *y);
    f->bias = y[0];
    double previous_slope = 0;
    for (int i = 0; i + 1 < n; i++) {
        double slope = (y[i + 1] - y[i]) / (x[i + 1] - x[i]);
        f->weight[i] = slope - previous_slope; /* the turn at x[i] */
        previous_slope = slope;
    }
    return 0;
}

double relu_sum_eval(const relu_sum *f, double x) {
    double v = f->bias;
    for (int i = 0; i + 1 < f->n; i++) v += f->weight[i] * fmax(0.0, x - f->x[i]);
    return v;
}

static int by_x(const void *a, const void *b) {
    double d = ((const double *)a)[0] - ((const double *)b)[0];
    return (d > 0) - (d < 0);
}

int relu_sum_parse(const char *text, relu_sum *f, char *error, size_t error_size) {
    memset(f, 0, sizeof *f);
    size_t cap = 8, n = 0;
    double *points = malloc(cap * 2 * sizeof *points);
    const char *p = text;
    int rc = -1;
    if (!points) goto done;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ';') p++;
        if (!*p) break;
        char *end;
        double x = strtod(p, &end);
        if (end == p || *end != ',') {
            snprintf(error, error_size, "expected a point \"x,y\" at column %d of \"%s\"",
                     (int)(p - text) + 1, text);
            goto done;
        }
        p = end + 1;
        double y = strtod(p, &end);
        if (end != p && *end == ',') { /* "1,2,3": a third number where a space was due */
            const char *point = p;
            while (point > text && point[-1] != ' ' && point[-1] != '\t' && point[-1] != ';')
                point--;
            int length = (int)strcspn(point, " \t;");
            snprintf(error, error_size,
                     "point %zu \"%.*s\" has an extra field after y (column %d): a point is "
                     "\"x,y\", and points are separated by spaces, e.g. \"1,2 3,4\"",
                     n + 1, length, point, (int)(end - text) + 2);
            goto done;
        }
        if (end == p || (*end && *end != ' ' && *end != '\t' && *end != ';')) {
            snprintf(error, error_size, "expected a number for y at column %d of \"%s\"",
                     (int)(p - text) + 1, text);
            goto done;
        }
        if (!isfinite(x) || !isfinite(y)) {
            snprintf(error, error_size, "point %zu is not finite", n + 1);
            goto done;
        }
        p = end;
        if (n == cap) {
            double *grown = realloc(points, cap * 4 * sizeof *points);
            if (!grown) goto done;
            points = grown;
            cap *= 2;
        }
        points[2 * n] = x;
        points[2 * n + 1] = y;
        n++;
    }
    if (n < 2) {
        snprintf(error, error_size, "need at least two points, got %zu", n);
        goto done;
    }
    qsort(points, n, 2 * sizeof *points, by_x);
    for (size_t i = 1; i < n; i++)
        if (points[2 * i] == points[2 * i - 2]) {
            snprintf(error, error_size, "two points have the same x = %g", points[2 * i]);
            goto done;
        }
    double *xs = malloc(n * sizeof *xs), *ys = malloc(n * sizeof *ys);
    if (xs && ys) {
        for (size_t i = 0; i < n; i++) xs[i] = points[2 * i], ys[i] = points[2 * i + 1];
        rc = relu_sum_build(f, (int)n, xs, ys);
    }
    free(xs);
    free(ys);
done:
    free(points);
    return rc;
}

/* "%g" without a trailing noise: coefficients print as the course writes them. */
static void number(char *out, size_t size, double v) {
    snprintf(out, size, "%.6g", v);
}

char *relu_sum_formula(const relu_sum *f) {
    size_t cap = 64 + (size_t)f->n * 64;
    char *s = malloc(cap);
    if (!s) return NULL;
    char num[64];
    number(num, sizeof num, f->bias);
    size_t len = (size_t)snprintf(s, cap, "%s", num);
    for (int i = 0; i + 1 < f->n; i++) {
        double w = f->weight[i];
        if (w == 0) continue;
        char shift[96];
        double c = -f->x[i];
        if (c == 0)
            snprintf(shift, sizeof shift, "x");
        else {
            number(num, sizeof num, fabs(c));
            snprintf(shift, sizeof shift, "x %c %s", c > 0 ? '+' : '-', num);
        }
        char coef[80] = "";
        if (fabs(w) != 1) {
            number(num, sizeof num, fabs(w));
            snprintf(coef, sizeof coef, "%s ", num);
        }
        len +=
            (size_t)snprintf(s + len, cap - len, " %c %srelu(%s)", w < 0 ? '-' : '+', coef, shift);
    }
    return s;
}
