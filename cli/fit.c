/* `nd fit "x1,y1 x2,y2 ..."`: the piecewise-linear function through the points,
 * written exactly as a constant plus a sum of ReLUs:
 *   f(x) = y1 + m1·relu(x − x1) + Σ_{i>1} (m_i − m_{i−1})·relu(x − x_i)
 * where m_i is the slope after x_i. Each ReLU turns the line by the change of
 * slope at its kink; left of x1 the function is the constant y1 — the
 * construction of the relu-synthesis lab. */
#include "commands.h"
#include "relu_sum.h"

#include <nd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "nd fit \"x1,y1 x2,y2 ...\"\n"
    "  Writes the piecewise-linear function through the points (at least two, distinct x)\n"
    "  as a sum of ReLUs, and checks it at every point. Example:\n"
    "    nd fit \"-10,-10 0,0 5,-5 10,20\"\n"
    "    f(x) = -10 + relu(x + 10) - 2 relu(x) + 6 relu(x - 5)\n";

int cmd_fit(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(help, stdout);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "nd fit: give the points as one argument, e.g. nd fit \"0,0 1,2 3,1\"\n");
        return 2;
    }
    relu_sum f;
    char error[256];
    if (relu_sum_parse(argv[1], &f, error, sizeof error) != 0) {
        fprintf(stderr, "nd fit: %s\n", error);
        return 2;
    }
    char *formula = relu_sum_formula(&f);
    printf("f(x) = %s\n", formula);
    free(formula);
    int bad = 0;
    for (int i = 0; i < f.n; i++) {
        double y = relu_sum_eval(&f, f.x[i]);
        printf("  f(%g) = %g%s\n", f.x[i], y, y == f.y[i] ? "" : "  (expected differently!)");
        bad += fabs(y - f.y[i]) > 1e-9 * (1 + fabs(f.y[i]));
    }
    relu_sum_free(&f);
    return bad ? 1 : 0;
}
