/* What every lab shares (see lab.h): its data folder, figures, checks, and the
 * options and report of the lab now running. */
#include "lab.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *lab_data_path(const char *file) {
    static char path[4096];
    const char *dir = getenv("ND_DATA_DIR");
    if (!dir || !*dir) dir = ND_DATA_DIR; /* set by the build: the source tree's data/ */
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (access(path, R_OK) != 0 && access(ND_INSTALLED_DATA_DIR, R_OK) == 0)
        snprintf(path, sizeof path, "%s/%s", ND_INSTALLED_DATA_DIR, file);
    return path;
}

int lab_figure(report *r, nd_plot *p, const char *name, int w, int h, const char *caption) {
    int rc = nd_plot_save(p, report_figure_path(r, name), w, h);
    nd_plot_free(p);
    if (rc == 0) report_figure(r, name, caption);
    return rc;
}

void lab_check_close(report *r, const char *what, double got, double want, double tol) {
    char expected[96], found[64];
    if (tol > 0)
        snprintf(expected, sizeof expected, "%.10g ± %.3g", want, tol);
    else
        snprintf(expected, sizeof expected, "%.10g", want);
    snprintf(found, sizeof found, "%.10g", got);
    report_check(r, fabs(got - want) <= tol, what, expected, found);
}

void lab_check(report *r, bool pass, const char *what, const char *expected, const char *got_fmt,
               ...) {
    char got[512];
    va_list ap;
    va_start(ap, got_fmt);
    vsnprintf(got, sizeof got, got_fmt, ap);
    va_end(ap);
    report_check(r, pass, what, expected, got);
}

double max_abs_diff(nd_tensor *a, nd_tensor *b) {
    return nd_item(nd_max(nd_abs(nd_sub(a, b)), ND_ALL, false));
}

const char *lab_values(const nd_tensor *t) {
    static char line[512];
    char *text = nd_format(t);
    size_t n = 0;
    bool space = false;
    for (const char *c = text ? text : "?"; *c && n + 1 < sizeof line; c++) {
        bool blank = *c == ' ' || *c == '\n';
        if (blank && space) continue; /* the printed form's alignment, folded to one line */
        line[n++] = *c == '\n' ? ' ' : *c;
        space = blank;
    }
    line[n] = '\0';
    free(text);
    return line;
}

static const option_values *running; /* the options of the lab now running */

void lab_use_options(const option_values *v) {
    running = v;
}
double lab_number(const char *name) {
    return running ? options_number(running, name) : NAN;
}
int lab_int(const char *name) {
    return running ? options_int(running, name) : 0;
}
const char *lab_text(const char *name) {
    return running ? options_text(running, name) : NULL;
}

static report *running_report; /* the report of the lab now running */

void lab_use_report(report *r) {
    running_report = r;
}
report *lab_report(void) {
    return running_report;
}
