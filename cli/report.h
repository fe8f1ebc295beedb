/* The HTML report of `nd labs`: one page, one section per lab, figures as
 * files beside it, readable from the file system with no network. Everything
 * written to the report is echoed to the terminal (text, not figures). */
#ifndef ND_REPORT_H
#define ND_REPORT_H

#include <nd.h>
#include <stdbool.h>

typedef struct report report;

/* format: "png", "svg" or "pdf": the figures' file type. Creates dir (and its parents) and
 * removes the files the previous report in dir wrote, nothing else. NULL on error (message on
 * stderr). */
report *report_open(const char *dir, const char *format);
/* Writes index.html and frees the report; 0 or -1. */
int report_close(report *r);
/* When false, nothing is echoed to stdout. */
void report_echo(report *r, bool on);

void report_section(report *r, const char *id, const char *title, const char *subtitle);
void report_heading(report *r, const char *text);
void report_para(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_pre(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "label =" followed by the tensor in PyTorch's printed form. */
void report_tensor(report *r, const char *label, const nd_tensor *t);
/* The path a figure called `name` should be saved to (DIR/name.FORMAT); valid until the next call.
 */
const char *report_figure_path(report *r, const char *name);
/* The same, always PNG (pictures written by nd_image_write). */
const char *report_png_path(report *r, const char *name);
/* The path of any other file the report writes (e.g. a generated CSV), named in full. */
const char *report_file_path(report *r, const char *file);
/* Shows the figure saved at report_figure_path(name) (or report_png_path when png). */
void report_figure(report *r, const char *name, const char *caption);
void report_picture(report *r, const char *name, const char *caption); /* a PNG picture */
/* Pictures side by side, each with its caption. */
void report_gallery(report *r, int n, const char *const *names, const char *const *captions);
void report_table(report *r, int ncols, int nrows, const char *const *headers,
                  const char *const *cells /* nrows × ncols */);
/* A table built after its numbers are computed, one row at a time: report_table_begin, then
 * report_table_row once per row, its cells separated by tabs in the formatted text
 * ("%s\t%.1e"), then report_table_end shows it as report_table does. */
void report_table_begin(report *r, int ncols, const char *const *headers);
void report_table_row(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_table_end(report *r);
/* Records an nd call (its C text) behind the next result: the calls recorded since the last
 * result are shown just before the next one (a paragraph, a block, a table or a figure), each
 * once. Labs record them with LAB_CALL, which also evaluates the call. */
void report_code(report *r, const char *call);
/* Records one check of a result against the course: what, the value expected (as text), the
 * value got, and whether it passed. Every check is listed, with its source, in a folded table at
 * the end of its section and echoed to the terminal; a failure is also shown in red where it
 * happens, printed in red on stderr and counted (nd labs then exits 1). */
void report_check(report *r, bool pass, const char *what, const char *expected, const char *got);
/* Where the expected values come from: the lab's source ("slide", "d2l 2.2") is set before the lab
 * runs, and each heading adds itself ("slide: 梯度下降"); report_source overrides it until the
 * next heading. */
void report_lab_source(report *r, const char *source);
void report_source(report *r, const char *source);
/* The lab's options that differ from the slide's ("--eta 0.3"), or NULL: said in the report, and a
 * check that differs is then shown as differing, not counted as a failure. */
void report_knobs(report *r, const char *changed);
/* Records a failure (a check that failed, or a step that could not run): shown in red in the
 * report and counted. */
void report_fail(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int report_failures(const report *r);
const char *report_dir(const report *r);
const char *report_format(const report *r);

#endif
