/* A lab: one experiment of the chapter, in one file of cli/labs/. Each file
 * defines one `const lab`, listed in the chapter's order in registry.c, and uses
 * only nd's public API, so it doubles as example code. A lab computes its
 * numbers first, then writes them, its figures and its checks to the report. */
#ifndef ND_LAB_H
#define ND_LAB_H

#include "../options.h"
#include "../progress.h"
#include "../report.h"

#include <nd.h>
#include <nd_plot.h>

typedef struct lab {
    const char *name;    /* `nd lab NAME` */
    const char *title;   /* the slide's heading */
    const char *summary; /* one line for `nd list` */
    const char *source;  /* where its expected numbers come from; NULL: the slides */
    const option
        *options; /* the knobs its slide talks about, ended by {.name = NULL}; NULL: none */
    /* 0 on success; a failed check is reported with report_fail and still returns 0;
     * -1 when the lab could not run at all. */
    int (*run)(report *r);
} lab;

/* The labs, in the chapter's order (the table in registry.c). */
int lab_count(void);
const lab *lab_at(int i); /* NULL outside 0 .. lab_count() − 1 */
const lab *lab_find(const char *name);

/* The options of the lab now running (set by `nd lab` around its run): lab_number("eta") is
 * the value given on the command line or the table's default. */
void lab_use_options(const option_values *v);
double lab_number(const char *name);
int lab_int(const char *name);
const char *lab_text(const char *name);

/* The report of the lab now running (set by nd around its run). */
void lab_use_report(report *r);
report *lab_report(void);

/* LAB_CALL(expr) evaluates an nd call and records its C text (#expr) for the report, which shows
 * it beside the next result: the snippet is the code that ran, so the two cannot drift apart.
 * LAB_TENSOR(r, label, expr) shows a tensor with the call that computed it. */
#define LAB_CALL(...)             (report_code(lab_report(), #__VA_ARGS__), (__VA_ARGS__))
#define LAB_TENSOR(r, label, ...) report_tensor((r), (label), LAB_CALL(__VA_ARGS__))

/* Checks a value against the course's: |got − want| <= tol, listed in the report either way. */
#define LAB_CHECK_CLOSE(r, what, got, want, tol) lab_check_close((r), (what), (got), (want), (tol))
void lab_check_close(report *r, const char *what, double got, double want, double tol);
/* A check that is not a closeness: pass, what, the expected value in words, and the value got
 * (printf-style). */
void lab_check(report *r, bool pass, const char *what, const char *expected, const char *got_fmt,
               ...) __attribute__((format(printf, 5, 6)));

/* π, in C11 (M_PI is POSIX, not C). */
#define PI 3.14159265358979323846

/* max |a − b| over all elements (a and b broadcast): how far a result is from its formula. */
double max_abs_diff(nd_tensor *a, nd_tensor *b);

/* A tensor's values on one line, for a check's "got" (valid until the next call). */
const char *lab_values(const nd_tensor *t);

/* Saves plot p as the figure `name` (w × h pixels, in the report's format), frees
 * p, and shows it in the report with its caption. 0, or -1 when it could not be
 * saved (message in nd_last_error; nothing is shown). */
int lab_figure(report *r, nd_plot *p, const char *name, int w, int h, const char *caption);

/* The folder of the bundled data (data/ of the source tree, or the installed copy). */
const char *lab_data_path(const char *file);

#endif
