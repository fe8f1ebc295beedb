/* nd: the command-line program. Each command is a function; labs live in
 * cli/labs/, one file each. Exit codes: 0 success, 1 a failure while running
 * (or a failed check), 2 a usage error. */
#include "commands.h"
#include "labs/lab.h"
#include "options.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *usage =
    "nd — the foundations of deep learning, in C\n"
    "\n"
    "usage: nd <command> [options]\n"
    "\n"
    "commands:\n"
    "  labs [--out DIR] [--format png|svg|pdf]   run every lab, write DIR/index.html (default "
    "out/)\n"
    "  lab NAME [options] [--out DIR]            run one lab (nd lab NAME --help: its options)\n"
    "  list                                      the labs, one line each\n"
    "  fit \"x1,y1 x2,y2 ...\"                     a sum of ReLUs through the points\n"
    "  autodiff \"EXPR\" name=value ...            an expression's graph, forward and backward\n"
    "  train mlp --data FILE [options]           train an MLP, on one process or several "
    "(mpirun)\n"
    "  info                                      version, dtypes, threads, BLAS\n"
    "  demo                                      a short tour of the tensor API\n"
    "\n"
    "`nd <command> --help` says more about each.\n";

static bool wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return true;
    return false;
}

static int cmd_info(int argc, char **argv) {
    (void)argc, (void)argv;
    printf("nd %s\n", nd_version());
    printf("dtypes:  bool uint8 int32 int64 float32 float64\n");
    printf("dims:    up to %d\n", ND_MAX_DIMS);
    printf("threads: %d\n", nd_num_threads());
    printf("BLAS:    %s\n", nd_blas_info());
    printf("labs:    %d (nd list)\n", lab_count());
    return 0;
}

static void show(const char *label, nd_tensor *t) {
    char *s = nd_format(t);
    printf("%s = %s\n", label, s ? s : nd_last_error());
    free(s);
}

static int cmd_demo(int argc, char **argv) {
    (void)argc, (void)argv;
    nd_scope_begin();
    nd_tensor *x = nd_reshape(nd_arange(0, 12, 1, ND_F32), ND_SHAPE(3, 4));
    show("x = arange(12).reshape(3, 4)", x);
    show("x[-1]", nd_select(x, 0, -1));
    show("x[1:3]", nd_slice(x, 0, 1, 3, 1));
    show("x.sum(0)", nd_sum(x, 0, false));
    show("x + [[1], [2], [3]]", nd_add(x, nd_parse("[[1.0], [2.0], [3.0]]")));
    nd_tensor *w = nd_set_requires_grad(nd_arange(0, 4, 1, ND_F32), true);
    nd_tensor *y = nd_mul_scalar(nd_dot(w, w), 2);
    show("y = 2 * dot(w, w)", y);
    if (nd_backward(y) == 0) show("dy/dw", nd_grad(w));
    nd_scope_end();
    return nd_last_error() ? 1 : 0;
}

static int cmd_list(int argc, char **argv) {
    (void)argc, (void)argv;
    for (int i = 0; i < lab_count(); i++) printf("%-16s %s\n", lab_at(i)->name, lab_at(i)->summary);
    return 0;
}

/* The options every lab run takes, beside each lab's own. */
static const option report_options[] = {
    {.name = "out",
     .type = OPTION_TEXT,
     .fallback = "out",
     .help = "the folder of the report (nd lab: out/lab-NAME)"},
    {.name = "format",
     .type = OPTION_TEXT,
     .fallback = "png",
     .help = "the figures' file type",
     .choices = "png|svg|pdf"},
    {.name = NULL}, /* the end of the table */
};

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs every lab, or only `only` with its options `chosen` (the others at their defaults). */
static int run_labs(const char *out, const char *format, const lab *only,
                    const option_values *chosen) {
    report *r = report_open(out, format);
    if (!r) return 1;
    int broken = 0;
    double start = seconds();
    for (int i = 0; i < lab_count(); i++) {
        const lab *l = lab_at(i);
        if (only && l != only) continue;
        double t0 = seconds();
        nd_manual_seed(0); /* each lab's numbers do not depend on the others */
        nd_clear_error();
        nd_scope_begin();
        report_lab_source(r, l->source);
        option_values defaults;
        options_init(&defaults, l->options);
        const option_values *values = only && chosen ? chosen : &defaults;
        char changed[1024];
        options_changed(values, changed, sizeof changed);
        report_knobs(r, changed);
        lab_use_options(values);
        lab_use_report(r);
        int rc = l->run(r);
        lab_use_report(NULL);
        lab_use_options(NULL);
        nd_scope_end();
        if (rc != 0) {
            report_fail(r, "lab %s could not run: %s", l->name, text_user_error(nd_last_error()));
            broken++;
        }
        fprintf(stderr, "nd: lab %-15s %.2f s\n", l->name, seconds() - t0);
    }
    int failures = report_failures(r);
    char index[4096];
    snprintf(index, sizeof index, "%s/index.html", report_dir(r));
    if (report_close(r) != 0) return 1;
    printf("\nReport: %s  (%.1f s, %s)\n", index, seconds() - start,
           failures ? "some checks failed" : "every check passed");
    nd_shutdown();
    return failures || broken ? 1 : 0;
}

static int cmd_labs(int argc, char **argv) {
    option_values o;
    options_init(&o, report_options);
    if (options_parse("labs", argc, argv, 1, &o, NULL, NULL, 0, NULL)) return 2;
    if (lab_count() == 0) {
        fprintf(stderr, "nd labs: no labs are built into this program\n");
        return 1;
    }
    return run_labs(options_text(&o, "out"), options_text(&o, "format"), NULL, NULL);
}

/* The lab's name: the first argument that is not an option or an option's value. */
static const char *lab_name(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        bool value = i > 1 && !strncmp(argv[i - 1], "--", 2) && !strchr(argv[i - 1], '=') &&
                     strcmp(argv[i - 1], "--help");
        if (!value && argv[i][0] != '-') return argv[i];
    }
    return NULL;
}

static const lab *find_lab(const char *name) {
    const lab *l = lab_find(name);
    if (l) return l;
    const char **names = malloc(sizeof *names * (size_t)lab_count());
    for (int i = 0; names && i < lab_count(); i++) names[i] = lab_at(i)->name;
    const char *near = names ? text_nearest(name, lab_count(), names) : NULL;
    free(names);
    if (near)
        fprintf(stderr, "nd lab: no lab called '%s'; did you mean '%s'? (nd list shows them)\n",
                name, near);
    else
        fprintf(stderr, "nd lab: no lab called '%s' (nd list shows them)\n", name);
    return NULL;
}

static const char *lab_usage =
    "nd lab NAME [options] [--out DIR] [--format png|svg|pdf]\n  Runs one lab (nd list shows the "
    "names) into DIR/index.html (default out/lab-NAME/,\n  so the full report of nd labs in out/ "
    "is kept). `nd lab NAME --help` lists the lab's options;\n  their defaults are the slides' "
    "values, and the lab's checks against the course hold only there.\n";

static void lab_help(const lab *l) {
    printf("nd lab %s [options] — %s\n  %s\n\n", l->name, l->title, l->summary);
    if (options_count(l->options)) {
        printf("options (defaults: the slide's values):\n");
        options_help(stdout, l->options);
    } else {
        printf("This lab has no options of its own: it reproduces the slide as it is.\n");
    }
    printf("\nfor every lab:\n");
    options_help(stdout, report_options);
}

static int cmd_lab(int argc, char **argv) {
    const char *name = lab_name(argc, argv);
    bool help = wants_help(argc, argv);
    if (!name) {
        if (help) {
            fputs(lab_usage, stdout);
            return 0;
        }
        fprintf(stderr, "nd lab: which lab? (nd list shows them)\n");
        return 2;
    }
    const lab *l = find_lab(name);
    if (!l) return 2;
    if (help) {
        lab_help(l);
        return 0;
    }
    option_values common, own;
    options_init(&common, report_options);
    options_init(&own, l->options);
    char command[64];
    snprintf(command, sizeof command, "lab %s", l->name);
    const char *positional[1];
    if (options_parse(command, argc, argv, 1, &own, &common, positional, 1, NULL)) return 2;
    char folder[4096]; /* one lab's own folder: out/lab-NAME, beside the full report */
    const char *out = options_text(&common, "out");
    if (!common.given[0]) {
        snprintf(folder, sizeof folder, "%s/lab-%s", out, l->name);
        out = folder;
    }
    return run_labs(out, options_text(&common, "format"), l, &own);
}

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *help;
} commands[] = {
    {"info", cmd_info, "nd info: prints nd's version, dtypes, thread count and BLAS library.\n"},
    {"demo", cmd_demo, "nd demo: a few tensor operations and one gradient, printed.\n"},
    {"list", cmd_list, "nd list: the labs, with one line each.\n"},
    {"labs", cmd_labs,
     "nd labs [--out DIR] [--format png|svg|pdf]\n  Runs every lab of the chapter and writes "
     "DIR/index.html (default out/) with figures beside it.\n  Exit status 1 if a check fails.\n"},
    {"lab", cmd_lab, NULL}, /* its help depends on the lab: cmd_lab writes it */
    {"fit", cmd_fit, NULL},
    {"autodiff", cmd_autodiff, NULL},
    {"train", cmd_train, NULL},
};

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("nd %s\n", nd_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name)) continue;
        if (wants_help(argc - 1, argv + 1) && commands[i].help) {
            fputs(commands[i].help, stdout);
            return 0;
        }
        return commands[i].run(argc - 1, argv + 1);
    }
    const char *names[sizeof commands / sizeof commands[0]];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) names[i] = commands[i].name;
    const char *near = text_nearest(argv[1], (int)(sizeof names / sizeof names[0]), names);
    if (near)
        fprintf(stderr, "nd: unknown command '%s'; did you mean '%s'?\n\n%s", argv[1], near, usage);
    else
        fprintf(stderr, "nd: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
}
