/* The report page: HTML assembled in memory, written once at the end. */
#include "report.h"
#include "interactive.h"
#include "text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct report {
    char *dir, *format;
    char *html;
    size_t len, cap;
    char path[4096];
    bool echo;
    int failures;
    char toc[8192];
    char **files; /* the names written into dir, for the next run to clear */
    int nfiles;
    /* The checks of the section being written, shown folded at its end. */
    char *checks;
    size_t checks_len, checks_cap;
    int passed, failed, differed; /* in that section */
    bool in_checks;               /* writing a check's row: it goes to checks, not html */
    char lab_source[256], source[512];
    char *knobs;     /* the options that differ from the slide's, or NULL */
    char code[2048]; /* the nd calls behind the next result, one a line (report_code) */
    /* The table being built row by row (report_table_begin .. report_table_end): its header
     * and rows, each one string with the cells separated by tabs. */
    char *table_header;
    char **table_rows;
    int table_cols, table_nrows;
};

/* The list of files a report wrote into its folder: the next report into the same
 * folder removes them first, so no figure of an older run is left behind, and
 * nothing else in the folder (a student's own files) is touched. */
static const char *manifest = ".nd-report-files";

static void remember(report *r, const char *name) {
    for (int i = 0; i < r->nfiles; i++)
        if (!strcmp(r->files[i], name)) return;
    char **grown = realloc(r->files, (size_t)(r->nfiles + 1) * sizeof *grown);
    if (!grown) return;
    r->files = grown;
    r->files[r->nfiles] = strdup(name);
    if (r->files[r->nfiles]) r->nfiles++;
}

/* Removes the files the last report in dir wrote (plain names only, never a path). */
static void clear_previous(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, manifest);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '.' || strchr(line, '/')) continue;
        char old[4096];
        snprintf(old, sizeof old, "%s/%s", dir, line);
        remove(old);
    }
    fclose(f);
}

static int write_manifest(report *r) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", r->dir, manifest);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "index.html\ninteractive.html\n");
    for (int i = 0; i < r->nfiles; i++) fprintf(f, "%s\n", r->files[i]);
    return fclose(f);
}

/* mkdir -p: out/lab-affine needs out/ first. */
static int make_folders(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static void append(char **text, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t grown_cap = (*cap + n + 1) * 2;
        char *grown = realloc(*text, grown_cap);
        if (!grown) return;
        *text = grown;
        *cap = grown_cap;
    }
    memcpy(*text + *len, s, n);
    *len += n;
    (*text)[*len] = '\0';
}

/* Everything goes to the page, except while a check's row is written (r->in_checks). */

static void raw(report *r, const char *s, size_t n) {
    if (r->in_checks)
        append(&r->checks, &r->checks_len, &r->checks_cap, s, n);
    else
        append(&r->html, &r->len, &r->cap, s, n);
}

static void put(report *r, const char *s) {
    raw(r, s, strlen(s));
}

/* Text into HTML: the five characters that mean something there are escaped. */
static void escaped(report *r, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<':
            put(r, "&lt;");
            break;
        case '>':
            put(r, "&gt;");
            break;
        case '&':
            put(r, "&amp;");
            break;
        case '"':
            put(r, "&quot;");
            break;
        case '\'':
            put(r, "&#39;");
            break;
        default:
            raw(r, s, 1);
        }
    }
}

static char *vformat(const char *fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    char *s = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

report *report_open(const char *dir, const char *format) {
    if (!dir || !format) return NULL;
    if (strcmp(format, "png") && strcmp(format, "svg") && strcmp(format, "pdf")) {
        fprintf(stderr, "nd: unknown figure format '%s' (use png, svg or pdf)\n", format);
        return NULL;
    }
    if (make_folders(dir) != 0) {
        fprintf(stderr, "nd: cannot create the output folder %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/.nd-write-test", dir);
    FILE *f = fopen(probe, "w");
    if (!f) {
        fprintf(stderr, "nd: cannot write in the output folder %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    fclose(f);
    remove(probe);
    clear_previous(dir);
    report *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->dir = strdup(dir);
    r->format = strdup(format);
    r->echo = true;
    return r;
}

void report_echo(report *r, bool on) {
    r->echo = on;
}
const char *report_dir(const report *r) {
    return r->dir;
}
const char *report_format(const report *r) {
    return r->format;
}
int report_failures(const report *r) {
    return r->failures;
}

/* The section's checks, folded: one row each, expected beside got. */
static void flush_checks(report *r) {
    if (r->passed + r->failed + r->differed == 0) return;
    char summary[256];
    int n = snprintf(summary, sizeof summary, "Checks: %d passed", r->passed);
    if (r->failed) n += snprintf(summary + n, sizeof summary - (size_t)n, ", %d FAILED", r->failed);
    if (r->differed)
        snprintf(summary + n, sizeof summary - (size_t)n,
                 ", %d differ from the course (options changed)", r->differed);
    put(r, r->failed ? "<details class=\"checks fail\"><summary>"
                     : "<details class=\"checks\"><summary>");
    escaped(r, summary);
    put(r, "</summary>\n<table class=\"checks\">\n<tr><th></th><th>check</th><th>expected</th>"
           "<th>got</th><th>source</th></tr>\n");
    raw(r, r->checks ? r->checks : "", r->checks_len);
    put(r, "</table>\n</details>\n");
    r->checks_len = 0;
    r->passed = r->failed = r->differed = 0;
}

void report_lab_source(report *r, const char *source) {
    snprintf(r->lab_source, sizeof r->lab_source, "%s", source ? source : "slide");
    snprintf(r->source, sizeof r->source, "%s", r->lab_source);
}

void report_source(report *r, const char *source) {
    snprintf(r->source, sizeof r->source, "%s", source);
}

void report_knobs(report *r, const char *changed) {
    free(r->knobs);
    r->knobs = changed && *changed ? strdup(changed) : NULL;
}

static bool colour(FILE *f) {
    return isatty(fileno(f)) && !getenv("NO_COLOR");
}

void report_check(report *r, bool pass, const char *what, const char *expected, const char *got) {
    bool differs = !pass && r->knobs; /* the course's value is for the defaults only */
    const char *mark = pass ? "✓" : differs ? "≠" : "✗";
    r->in_checks = true;
    put(r, pass      ? "<tr class=\"pass\">"
           : differs ? "<tr class=\"differs\">"
                     : "<tr class=\"fail\">");
    put(r, "<td>");
    put(r, mark);
    put(r, "</td><td class=\"what\">");
    escaped(r, what);
    put(r, "</td><td class=\"expected\">");
    escaped(r, expected);
    put(r, "</td><td class=\"got\">");
    escaped(r, got);
    put(r, "</td><td class=\"source\">");
    escaped(r, r->source);
    put(r, "</td></tr>\n");
    r->in_checks = false;
    if (pass) {
        r->passed++;
        if (r->echo) printf("  %s %s: %s (expected %s)\n", mark, what, got, expected);
    } else if (differs) {
        r->differed++;
        if (r->echo)
            printf("  %s %s: %s (the course's %s, at the default options)\n", mark, what, got,
                   expected);
    } else {
        r->failed++;
        report_fail(r, "%s: got %s, expected %s (%s)", what, got, expected, r->source);
    }
}

void report_code(report *r, const char *call) {
    if (!r || !call) return;
    size_t n = strlen(call);
    if (strspn(call, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n)
        return; /* a bare variable: the call that made it was shown already */
    for (const char *at = r->code; (at = strstr(at, call)) != NULL; at += n)
        if ((at == r->code || at[-1] == '\n') && (at[n] == '\n' || !at[n]))
            return; /* the same call again (a loop): shown once */
    size_t used = strlen(r->code);
    if (used + n + 2 < sizeof r->code)
        snprintf(r->code + used, sizeof r->code - used, "%s%s", used ? "\n" : "", call);
}

/* The calls recorded since the last result, shown just before this one. */
static void flush_code(report *r) {
    if (!r->code[0]) return;
    put(r, "<pre class=\"code\"><code>");
    escaped(r, r->code);
    put(r, "</code></pre>\n");
    if (r->echo) {
        for (const char *line = r->code; *line;) {
            size_t n = strcspn(line, "\n");
            printf("  nd> %.*s\n", (int)n, line);
            line += n + (line[n] == '\n');
        }
    }
    r->code[0] = '\0';
}

void report_section(report *r, const char *id, const char *title, const char *subtitle) {
    flush_checks(r);
    r->code[0] = '\0'; /* calls of a section that showed nothing are not shown in the next */
    put(r, "</section>\n<section id=\"");
    escaped(r, id);
    put(r, "\">\n<h2>");
    escaped(r, title);
    put(r, "</h2>\n");
    /* every section links the page where the labs run live (interactive.c) */
    const char *panel = interactive_panel(id);
    put(r, "<p class=\"live\"><a href=\"interactive.html");
    if (panel) put(r, "#"), put(r, panel);
    put(r, panel ? "\">Try it live: this lab's panel in the browser</a> (nd compiled to "
                   "WebAssembly)</p>\n"
                 : "\">The labs live in the browser</a> (nd compiled to WebAssembly)</p>\n");
    if (subtitle) {
        put(r, "<p class=\"subtitle\">");
        escaped(r, subtitle);
        put(r, "</p>\n");
    }
    size_t used = strlen(r->toc);
    snprintf(r->toc + used, sizeof r->toc - used, "<li><a href=\"#%s\">%s</a></li>\n", id, title);
    if (r->echo) printf("\n== %s ==\n", title);
    if (r->knobs) /* said under the lab's title, before any number */
        report_para(r,
                    "Options changed from the slide's: %s. The course's numbers hold only at the "
                    "defaults, so a check that differs is shown (≠), not counted as a failure.",
                    r->knobs);
}

void report_heading(report *r, const char *text) {
    r->code[0] = '\0'; /* calls under the last heading that showed nothing stay there */
    put(r, "<h3>");
    escaped(r, text);
    put(r, "</h3>\n");
    if (r->echo) printf("\n-- %s --\n", text);
    /* the checks that follow compare with the numbers under this heading */
    snprintf(r->source, sizeof r->source, "%s: %s", r->lab_source[0] ? r->lab_source : "slide",
             text);
}

/* A paragraph or a preformatted block: the text escaped inside <tag>, and
 * echoed to the terminal when the report echoes. */
static void text_block(report *r, const char *tag, const char *fmt, va_list ap) {
    flush_code(r);
    char *s = vformat(fmt, ap);
    if (!s) return;
    put(r, "<");
    put(r, tag);
    put(r, ">");
    escaped(r, s);
    put(r, "</");
    put(r, tag);
    put(r, ">\n");
    if (r->echo) printf("%s\n", s);
    free(s);
}

void report_para(report *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    text_block(r, "p", fmt, ap);
    va_end(ap);
}

void report_pre(report *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    text_block(r, "pre", fmt, ap);
    va_end(ap);
}

void report_tensor(report *r, const char *label, const nd_tensor *t) {
    char *text = nd_format(t);
    if (!text) {
        report_fail(r, "%s: %s", label, nd_last_error() ? nd_last_error() : "no tensor");
        return;
    }
    report_pre(r, "%s = %s", label, text);
    free(text);
}

const char *report_figure_path(report *r, const char *name) {
    char file[512];
    snprintf(file, sizeof file, "%s.%s", name, r->format);
    remember(r, file);
    snprintf(r->path, sizeof r->path, "%s/%s", r->dir, file);
    return r->path;
}

const char *report_png_path(report *r, const char *name) {
    char file[512];
    snprintf(file, sizeof file, "%s.png", name);
    remember(r, file);
    snprintf(r->path, sizeof r->path, "%s/%s", r->dir, file);
    return r->path;
}

const char *report_file_path(report *r, const char *file) {
    remember(r, file);
    snprintf(r->path, sizeof r->path, "%s/%s", r->dir, file);
    return r->path;
}

static void figure(report *r, const char *file, const char *caption) {
    flush_code(r);
    put(r, "<figure>");
    if (strstr(file, ".pdf")) {
        put(r, "<a href=\"");
        escaped(r, file);
        put(r, "\">");
        escaped(r, file);
        put(r, " (PDF)</a>");
    } else {
        put(r, "<img src=\"");
        escaped(r, file);
        put(r, "\" alt=\"");
        escaped(r, caption ? caption : file);
        put(r, "\">");
    }
    if (caption) {
        put(r, "<figcaption>");
        escaped(r, caption);
        put(r, "</figcaption>");
    }
    put(r, "</figure>\n");
}

void report_figure(report *r, const char *name, const char *caption) {
    char file[512];
    snprintf(file, sizeof file, "%s.%s", name, r->format);
    figure(r, file, caption);
    if (r->echo) printf("[figure %s/%s]\n", r->dir, file);
}

void report_picture(report *r, const char *name, const char *caption) {
    char file[512];
    snprintf(file, sizeof file, "%s.png", name);
    figure(r, file, caption);
}

void report_gallery(report *r, int n, const char *const *names, const char *const *captions) {
    flush_code(r);
    put(r, "<div class=\"gallery\">\n");
    for (int i = 0; i < n; i++) report_picture(r, names[i], captions ? captions[i] : NULL);
    put(r, "</div>\n");
}

/* Each column as wide as its widest cell in terminal columns (not bytes: the
 * labs' tables mix Chinese, superscripts and math signs), two spaces between. */
static void echo_table(int ncols, int nrows, const char *const *headers, const char *const *cells) {
    int widths[64] = {0};
    if (ncols > 64) ncols = 64;
    for (int c = 0; c < ncols; c++) {
        widths[c] = text_width(headers[c]);
        for (int i = 0; i < nrows; i++) {
            int w = text_width(cells[i * ncols + c]);
            if (w > widths[c]) widths[c] = w;
        }
    }
    for (int i = -1; i < nrows; i++) {
        for (int c = 0; c < ncols; c++) {
            const char *cell = i < 0 ? headers[c] : cells[i * ncols + c];
            if (c + 1 < ncols)
                text_pad(stdout, cell, widths[c] + 2);
            else
                fputs(cell, stdout);
        }
        putchar('\n');
    }
}

void report_table(report *r, int ncols, int nrows, const char *const *headers,
                  const char *const *cells) {
    flush_code(r);
    put(r, "<table>\n<tr>");
    for (int c = 0; c < ncols; c++) {
        put(r, "<th>");
        escaped(r, headers[c]);
        put(r, "</th>");
    }
    put(r, "</tr>\n");
    for (int i = 0; i < nrows; i++) {
        put(r, "<tr>");
        for (int c = 0; c < ncols; c++) {
            put(r, "<td>");
            escaped(r, cells[i * ncols + c]);
            put(r, "</td>");
        }
        put(r, "</tr>\n");
    }
    put(r, "</table>\n");
    if (r->echo) echo_table(ncols, nrows, headers, cells);
}

/* The cells of `text`, separated by tabs, as exactly ncols strings into cells (missing ones
 * empty): the tabs become ends of strings and the cells point into `text`. */
static void split_cells(char *text, int ncols, const char **cells) {
    for (int c = 0; c < ncols; c++) {
        cells[c] = text;
        char *tab = strchr(text, '\t');
        if (tab && c + 1 < ncols)
            *tab = '\0', text = tab + 1;
        else if (!tab)
            text += strlen(text);
    }
}

static void table_clear(report *r) {
    for (int i = 0; i < r->table_nrows; i++) free(r->table_rows[i]);
    free(r->table_rows), free(r->table_header);
    r->table_rows = NULL, r->table_header = NULL, r->table_nrows = r->table_cols = 0;
}

void report_table_begin(report *r, int ncols, const char *const *headers) {
    table_clear(r);
    size_t len = 0;
    for (int c = 0; c < ncols; c++) len += strlen(headers[c]) + 1;
    if (!(r->table_header = malloc(len + 1))) return;
    r->table_header[0] = '\0';
    for (int c = 0; c < ncols; c++) {
        if (c) strcat(r->table_header, "\t");
        strcat(r->table_header, headers[c]);
    }
    r->table_cols = ncols;
}

void report_table_row(report *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *row = vformat(fmt, ap);
    va_end(ap);
    char **grown = row && r->table_header
                       ? realloc(r->table_rows, (size_t)(r->table_nrows + 1) * sizeof *grown)
                       : NULL;
    if (!grown) {
        free(row);
        return;
    }
    r->table_rows = grown;
    r->table_rows[r->table_nrows++] = row;
}

void report_table_end(report *r) {
    int ncols = r->table_cols, nrows = r->table_nrows;
    const char **headers = malloc(sizeof *headers * (size_t)(ncols + 1));
    const char **cells = malloc(sizeof *cells * (size_t)(ncols * nrows + 1));
    if (r->table_header && headers && cells) {
        split_cells(r->table_header, ncols, headers);
        for (int i = 0; i < nrows; i++) split_cells(r->table_rows[i], ncols, cells + i * ncols);
        report_table(r, ncols, nrows, headers, cells);
    }
    free(headers), free(cells);
    table_clear(r);
}

void report_fail(report *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    if (!s) return;
    r->failures++;
    put(r, "<p class=\"fail\">");
    escaped(r, s);
    put(r, "</p>\n");
    bool red = colour(stderr);
    fprintf(stderr, "%snd: check failed: %s%s\n", red ? "\033[1;31m" : "", s, red ? "\033[0m" : "");
    free(s);
}

static const char *style =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1100px;margin:2em "
    "auto;padding:0 1em;color:#222;line-height:1.45}"
    "h1{font-size:1.8em}h2{border-bottom:2px solid #3182bd;padding-bottom:.2em;margin-top:2em}"
    "h3{color:#08519c}.subtitle{color:#555;font-style:italic}"
    "pre{background:#f5f5f5;border:1px solid #ddd;padding:.6em;overflow-x:auto;font-size:.9em}"
    "figure{display:inline-block;margin:.5em;vertical-align:top;text-align:center}"
    "figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.9em;color:#444}"
    ".gallery figure img{max-width:320px}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em "
    ".6em;text-align:right}th{background:#eef}"
    ".fail{color:#b00;font-weight:bold}nav li{display:inline;margin-right:1em}"
    "details.checks{margin:1em 0;font-size:.9em}details.checks summary{color:#2a7;cursor:pointer}"
    "details.checks.fail summary{color:#b00;font-weight:bold}table.checks td{text-align:left}"
    "pre.code{background:#eef4fb;border-color:#c6dbef;color:#08306b;margin-bottom:0}"
    "pre.code+pre,pre.code+figure,pre.code+table{margin-top:0}"
    "tr.pass td:first-child{color:#2a7}tr.fail td{color:#b00}tr.differs td{color:#a60}";

int report_close(report *r) {
    if (!r) return -1;
    flush_checks(r);
    char path[4096];
    snprintf(path, sizeof path, "%s/index.html", r->dir);
    FILE *f = fopen(path, "w");
    int rc = -1;
    if (f) {
        fprintf(f,
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<title>nd labs: the foundations of deep learning</title>\n<style>%s</style>\n"
                "</head>\n<body>\n<h1>nd labs: the foundations of deep learning</h1>\n"
                "<p>Every experiment of the chapter, computed by nd %s. %s</p>\n"
                "<nav><ul>\n%s</ul></nav>\n<section>\n",
                style, nd_version(),
                r->failures ? "Some checks FAILED: see the red lines." : "Every check passed.",
                r->toc);
        fwrite(r->html ? r->html : "", 1, r->len, f);
        fprintf(f, "</section>\n</body>\n</html>\n");
        rc = fclose(f) == 0 ? 0 : -1;
    }
    if (rc != 0) fprintf(stderr, "nd: cannot write %s: %s\n", path, strerror(errno));
    if (rc == 0) rc = interactive_write(r->dir);
    if (rc == 0 && write_manifest(r) != 0) {
        fprintf(stderr, "nd: cannot write %s/%s: %s\n", r->dir, manifest, strerror(errno));
        rc = -1;
    }
    for (int i = 0; i < r->nfiles; i++) free(r->files[i]);
    free(r->files);
    free(r->checks);
    free(r->knobs);
    table_clear(r);
    free(r->html);
    free(r->dir);
    free(r->format);
    free(r);
    return rc;
}
