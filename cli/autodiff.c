/* `nd autodiff "(dot(x,w)-y)^2" x=[1,2,3] w=[0.5,-1,2] y=1`: the course's
 * computation graph for any expression, or for named steps as the slide writes
 * them ("a = dot(x, w); b = a - y; z = b^2"). It evaluates them with nd ops
 * (every input requires a gradient unless --no-grad), prints each node's value
 * under its name (the graph's nodes carry the same names and values), then
 * the two ways of applying the chain rule:
 *  - forward accumulation: the derivative of every node with respect to one
 *    input, carried from the inputs to the output (forward mode, one pass per
 *    element of the input);
 *  - backward propagation: the adjoint dz/dv of every node, from the output
 *    back to the inputs (reverse mode: one backward pass gives all of them).
 * Exit status: 0, 1 when the evaluation fails (shapes that do not fit), 2 for
 * a usage or parse error. */
#include "commands.h"
#include "expr.h"
#include "text.h"

#include <ctype.h>
#include <math.h>
#include <nd.h>
#include <nd_plot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "nd autodiff \"EXPR\" name=value ... [--no-grad NAME] [--dot FILE] [--png FILE]\n"
    "  Evaluates EXPR with nd's tensors, prints every node of its computation graph\n"
    "  in evaluation order, the forward accumulation (d node / d input, from the\n"
    "  inputs on) and the backward propagation (d output / d node, from the output\n"
    "  back), and the gradient with respect to every input.\n"
    "\n"
    "  EXPR: numbers, names, + - * / ^ (or **), unary minus, parentheses and\n"
    "        dot, matmul, sum, mean, relu, sigmoid, tanh, exp, log, sin, cos.\n"
    "        \"L = EXPR\" names the output (default z). Statements separated by ';'\n"
    "        (or new lines) name intermediates; the last one is the output:\n"
    "          \"a = dot(x, w); b = a - y; z = b^2\"\n"
    "        Nodes without a name are called v1, v2, ...\n"
    "  name=value: a number or a bracketed list, e.g. x=[1,2,3] or A=[[1,2],[3,4]]\n"
    "        or y=1 (taken as float32; each requires a gradient unless --no-grad).\n"
    "  --no-grad NAME  NAME needs no gradient: its branch of the graph is pruned\n"
    "        (as on the slide, where x and y are data); may be repeated.\n"
    "  --dot FILE   writes the graph as Graphviz DOT text (- for standard output);\n"
    "        its nodes show the names above and their values (up to 8 numbers)\n"
    "  --png FILE   draws the graph (also .svg, .pdf)\n"
    "  --allow-nan  a NaN or infinite value is not an error (it is by default:\n"
    "        log(x) at x = -1 warns and exits with status 1)\n"
    "\n"
    "  Example (the course's z = (<x, w> - y)^2):\n"
    "    nd autodiff \"(dot(x,w)-y)^2\" x=[1,2,3] w=[0.5,-1,2] y=1\n"
    "    gives z = 12.25 and dz/dw = 2(<x, w> - y) x = [7, 14, 21].\n"
    "\n"
    "  Exit status: 0; 1 when the evaluation fails or gives NaN/infinity; 2 for a usage\n"
    "  or parse error.\n";

#define MAX_INPUTS 32
/* Forward mode needs one pass per element: beyond this the trace is skipped. */
#define MAX_FORWARD_PASSES 64

/* Prints "label = tensor(...)", continuation lines lined up under the first. */
static void show(const char *indent, const char *label, const nd_tensor *t) {
    char *text = nd_format(t);
    int width = printf("%s%s = ", indent, label);
    for (const char *line = text ? text : "?"; *line;) {
        const char *end = strchr(line, '\n');
        int n = end ? (int)(end - line) : (int)strlen(line);
        printf("%.*s\n", n, line);
        if (!end) break;
        line = end + 1;
        printf("%*s", width, "");
    }
    free(text);
}

/* The line of the text that holds the byte at `column` (1-based), and a caret
 * under it, counted in display columns so that a '−' or a Chinese character
 * before it does not shift it. */
static void point_at(const char *text, int column) {
    size_t at = column > 0 ? strnlen(text, (size_t)column - 1) : 0;
    size_t start = at;
    while (start > 0 && text[start - 1] != '\n') start--;
    size_t end = start + strcspn(text + start, "\n");
    fprintf(stderr, "  %.*s\n", (int)(end - start), text + start);
    if (column <= 0) return;
    char *before = strndup(text + start, at - start);
    fprintf(stderr, "  %*s^\n", before ? text_width(before) : (int)(at - start), "");
    free(before);
}

static bool is_identifier(const char *s, size_t n) {
    if (n == 0 || n >= 32 || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') return false;
    return true;
}

/* name=value: 0, or -1 after saying why. */
static int parse_input(const char *arg, expr_input *inputs, int n, char names[][32]) {
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : 0;
    if (!eq || !is_identifier(arg, len)) {
        fprintf(stderr, "nd autodiff: '%s' is not name=value (e.g. x=[1,2,3])\n", arg);
        return -1;
    }
    memcpy(names[n], arg, len);
    names[n][len] = '\0';
    for (int i = 0; i < n; i++)
        if (!strcmp(inputs[i].name, names[n])) {
            fprintf(stderr, "nd autodiff: the name '%s' is given twice\n", names[n]);
            return -1;
        }
    nd_tensor *value = nd_parse(eq + 1);
    if (value && nd_type(value) != ND_F32 && nd_type(value) != ND_F64)
        value = nd_to(value, ND_F32); /* integers and booleans cannot carry gradients */
    if (!value) {
        fprintf(stderr, "nd autodiff: %s: %s\n", names[n], text_user_error(nd_last_error()));
        return -1;
    }
    inputs[n] = (expr_input){names[n], nd_set_name(nd_set_requires_grad(value, true), names[n])};
    return 0;
}

/* Prints the forward accumulation; final[i] receives d output / d input i
 * by forward mode (NULL where skipped). */
static void print_forward(const expr *e, int ninputs, const expr_input *inputs,
                          const expr_trace *trace, nd_tensor **final) {
    printf("\nForward accumulation: d(node)/d(input), carried from the inputs towards %s\n"
           "(forward mode: one pass per element of the input, each node's tangent)\n",
           e->output);
    nd_tensor **derivatives = calloc((size_t)trace->count + 1, sizeof *derivatives);
    for (int i = 0; i < ninputs && derivatives; i++) {
        final[i] = NULL;
        if (!nd_requires_grad(inputs[i].value)) continue; /* --no-grad: no derivative asked */
        int64_t n = nd_numel(inputs[i].value);
        printf("  with respect to %s (%lld pass%s):\n", inputs[i].name, (long long)n,
               n == 1 ? "" : "es");
        if (n > MAX_FORWARD_PASSES) {
            printf("    (skipped: more than %d passes)\n", MAX_FORWARD_PASSES);
            continue;
        }
        if (expr_forward_accumulation(e, ninputs, inputs, i, trace, derivatives)) {
            printf("    (failed: %s)\n", text_user_error(nd_last_error()));
            continue;
        }
        char label[96];
        for (int k = 0; k < trace->count; k++) {
            snprintf(label, sizeof label, "d%s/d%s", trace->steps[k].name, inputs[i].name);
            show("    ", label, derivatives[k]);
        }
        if (trace->count) final[i] = derivatives[trace->count - 1];
    }
    free(derivatives);
}

/* Reverse mode: one backward pass from the output gives the adjoint of every
 * intermediate and every input (nd_gradients with all of them as targets). */
static int backward_propagation(const expr *e, nd_tensor *z, int ninputs, const expr_input *inputs,
                                const expr_trace *trace, nd_tensor **gradients) {
    printf("\nBackward propagation: the adjoint d%s/d(node), from %s back to the inputs\n"
           "(reverse mode: one backward pass gives the adjoint of every node at once)\n",
           e->output, e->output);
    int last = trace->count && trace->steps[trace->count - 1].value == z ? trace->count - 1 : -1;
    nd_tensor *targets[256 + MAX_INPUTS], *grads[256 + MAX_INPUTS];
    int step_of[256 + MAX_INPUTS], n = 0;
    for (int k = trace->count - 1; k >= 0 && n < 256; k--)
        if (k != last && nd_requires_grad(trace->steps[k].value)) {
            step_of[n] = k;
            targets[n++] = trace->steps[k].value;
        }
    int nsteps = n;
    for (int i = 0; i < ninputs; i++)
        if (inputs[i].value != z && nd_requires_grad(inputs[i].value))
            targets[n++] = inputs[i].value;
    if (n > 0 && nd_gradients(z, n, targets, grads, false)) return -1;
    char label[96];
    if (last >= 0) { /* the seed: dz/dz = 1 */
        snprintf(label, sizeof label, "d%s/d%s", e->output, trace->steps[last].name);
        show("  ", label, nd_ones_like(z));
    }
    for (int m = 0; m < nsteps; m++) {
        snprintf(label, sizeof label, "d%s/d%s", e->output, trace->steps[step_of[m]].name);
        show("  ", label, grads[m]);
    }
    for (int k = 0; k < trace->count; k++)
        if (!nd_requires_grad(trace->steps[k].value))
            printf("  (%s = %s is pruned: it depends on no input that needs a gradient)\n",
                   trace->steps[k].name, trace->steps[k].text);
    for (int i = 0, m = nsteps; i < ninputs; i++) {
        if (!nd_requires_grad(inputs[i].value)) {
            printf("  (%s: --no-grad, no gradient computed)\n", inputs[i].name);
            continue;
        }
        gradients[i] = inputs[i].value == z ? nd_ones_like(z) : grads[m++];
        snprintf(label, sizeof label, "d%s/d%s", e->output, inputs[i].name);
        show("  ", label, gradients[i]);
    }
    return 0;
}

/* The gradients, and whether forward mode found the same. */
static void print_gradients(const expr *e, int ninputs, const expr_input *inputs,
                            nd_tensor **gradients, nd_tensor **forward) {
    printf("\nGradients\n");
    char label[96], same[512] = "", different[512] = "";
    for (int i = 0; i < ninputs; i++) {
        if (!gradients[i]) continue; /* --no-grad */
        snprintf(label, sizeof label, "d%s/d%s", e->output, inputs[i].name);
        show("  ", label, gradients[i]);
        if (!forward[i]) continue;
        nd_tensor *f = nd_reshape(forward[i], nd_ndim(gradients[i]), nd_shape(gradients[i]));
        char *list = nd_allclose(f, gradients[i], 1e-5, 1e-6) ? same : different;
        size_t used = strlen(list);
        snprintf(list + used, 512 - used, "%s%s", used ? ", " : "", inputs[i].name);
    }
    if (*same) printf("Forward accumulation gives the same for %s.\n", same);
    if (*different) printf("Forward accumulation DIFFERS for %s!\n", different);
}

static int write_graph(nd_tensor *z, const char *dot_path, const char *png_path) {
    char *dot = nd_graph_dot(z);
    int rc = dot ? 0 : -1;
    bool to_stdout = dot_path && !strcmp(dot_path, "-");
    if (dot && dot_path) {
        FILE *f = to_stdout ? stdout : fopen(dot_path, "w");
        if (to_stdout) printf("\n");
        if (!f || fputs(dot, f) < 0) {
            fprintf(stderr, "nd autodiff: cannot write %s\n", dot_path);
            rc = -1;
        }
        if (f && !to_stdout) fclose(f);
    }
    if (dot && png_path && nd_plot_graph(dot, png_path) != 0) {
        fprintf(stderr, "nd autodiff: %s\n", text_user_error(nd_last_error()));
        rc = -1;
    }
    const char *file = to_stdout ? NULL : dot_path; /* standard output needs no notice */
    if (rc == 0 && (file || png_path))
        printf("\nGraph written to %s%s%s\n", file ? file : "", file && png_path ? " and " : "",
               png_path ? png_path : "");
    free(dot);
    return rc;
}

/* A NaN or an infinity is almost always a value outside a function's domain
 * (log(x) at x = -1): the first such node is named, with a warning. */
static bool warn_non_finite(const expr_trace *trace, nd_tensor *const *gradients, int ninputs,
                            const expr_input *inputs, const char *output) {
    for (int k = 0; k < trace->count; k++)
        if (!expr_all_finite(trace->steps[k].value)) {
            fprintf(stderr,
                    "nd autodiff: warning: %s = %s is NaN or infinite (an input outside the "
                    "function's domain?); --allow-nan accepts it\n",
                    trace->steps[k].name, trace->steps[k].text);
            return true;
        }
    for (int i = 0; i < ninputs; i++)
        if (gradients[i] && !expr_all_finite(gradients[i])) {
            fprintf(stderr,
                    "nd autodiff: warning: d%s/d%s is NaN or infinite; --allow-nan accepts it\n",
                    output, inputs[i].name);
            return true;
        }
    return false;
}

static int run(const char *text, int ninputs, const expr_input *inputs, const char *dot_path,
               const char *png_path, bool allow_nan) {
    expr e;
    expr_error err;
    if (expr_parse(text, &e, &err)) {
        fprintf(stderr, "nd autodiff: %s (column %d)\n", err.message, err.column);
        point_at(text, err.column);
        return 2;
    }
    bool used[MAX_INPUTS];
    int status = 0;
    expr_trace trace = {0};
    nd_tensor *z = NULL;
    for (int i = 0; i < ninputs && !status; i++)
        if (!strcmp(inputs[i].name, e.output)) {
            fprintf(stderr,
                    "nd autodiff: '%s' names both an input and the output; name the "
                    "output differently: \"L = ...\"\n",
                    e.output);
            status = 2;
        }
    if (!status && expr_check_names(&e, ninputs, inputs, used, &err)) {
        fprintf(stderr, "nd autodiff: %s (column %d)\n", err.message, err.column);
        point_at(text, err.column);
        status = 2;
    }
    for (int i = 0; i < ninputs && !status; i++)
        if (!used[i]) fprintf(stderr, "nd autodiff: warning: %s is not used\n", inputs[i].name);
    if (!status && !(z = expr_eval(&e, ninputs, inputs, &trace, &err))) {
        fprintf(stderr, "nd autodiff: %s\n", err.message);
        point_at(text, err.column);
        status = 1;
    }
    if (!status) {
        printf("Expression: %s\n\nInputs\n", text);
        for (int i = 0; i < ninputs; i++) {
            char label[64];
            snprintf(label, sizeof label, "%s", inputs[i].name);
            show("  ", label, inputs[i].value);
            if (!nd_requires_grad(inputs[i].value))
                printf("    (--no-grad: needs no gradient, its branch is pruned)\n");
        }
        printf("\nNodes, in evaluation order (forward: run the graph, keep every value)\n");
        char label[200];
        for (int k = 0; k < trace.count; k++) {
            snprintf(label, sizeof label, "%s = %s", trace.steps[k].name, trace.steps[k].text);
            show("  ", label, trace.steps[k].value);
        }
        show("\n", e.output, z);
    }
    nd_tensor *gradients[MAX_INPUTS] = {0};
    if (!status && ninputs > 0 && nd_requires_grad(z)) {
        if (nd_numel(z) != 1) {
            nd_tensor *forward[MAX_INPUTS];
            print_forward(&e, ninputs, inputs, &trace, forward);
            char *shape = nd_shape_string(z);
            fprintf(stderr,
                    "nd autodiff: %s has shape %s; backward propagation needs one "
                    "element: wrap the expression in sum(...)\n",
                    e.output, shape ? shape : "?");
            free(shape);
            status = 1;
        } else {
            nd_tensor *forward[MAX_INPUTS] = {0};
            print_forward(&e, ninputs, inputs, &trace, forward);
            if (backward_propagation(&e, z, ninputs, inputs, &trace, gradients)) {
                fprintf(stderr, "nd autodiff: %s\n", text_user_error(nd_last_error()));
                status = 1;
            } else {
                print_gradients(&e, ninputs, inputs, gradients, forward);
            }
        }
    } else if (!status) {
        printf("\n%s depends on no input: nothing to differentiate\n", e.output);
    }
    if (!status && (dot_path || png_path) && write_graph(z, dot_path, png_path)) status = 1;
    if (!status && !allow_nan && warn_non_finite(&trace, gradients, ninputs, inputs, e.output))
        status = 1;
    expr_trace_free(&trace);
    expr_free(&e);
    return status;
}

int cmd_autodiff(int argc, char **argv) {
    const char *text = NULL, *dot_path = NULL, *png_path = NULL, *no_grad[MAX_INPUTS];
    expr_input inputs[MAX_INPUTS];
    char names[MAX_INPUTS][32];
    int ninputs = 0, nno_grad = 0, status = 0;
    bool allow_nan = false;
    nd_scope_begin();
    for (int i = 1; i < argc && !status; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(help, stdout);
            nd_scope_end();
            return 0;
        }
        bool takes_value =
            !strcmp(argv[i], "--dot") || !strcmp(argv[i], "--png") || !strcmp(argv[i], "--no-grad");
        if (takes_value && i + 1 >= argc) {
            fprintf(stderr, "nd autodiff: %s needs a value (see nd autodiff --help)\n", argv[i]);
            status = 2;
        } else if (!strcmp(argv[i], "--no-grad")) {
            if (nno_grad < MAX_INPUTS) no_grad[nno_grad++] = argv[i + 1];
            i++;
        } else if (takes_value) {
            *(argv[i][2] == 'd' ? &dot_path : &png_path) = argv[i + 1];
            i++;
        } else if (!strcmp(argv[i], "--allow-nan")) {
            allow_nan = true;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "nd autodiff: unknown option '%s' (see nd autodiff --help)\n", argv[i]);
            status = 2;
        } else if (!text) {
            text = argv[i];
        } else if (ninputs == MAX_INPUTS) {
            fprintf(stderr, "nd autodiff: at most %d inputs\n", MAX_INPUTS);
            status = 2;
        } else if (parse_input(argv[i], inputs, ninputs, names) == 0) {
            ninputs++;
        } else {
            status = 2;
        }
    }
    if (!status && !text) {
        fprintf(stderr, "nd autodiff: give an expression, e.g. nd autodiff \"(dot(x,w)-y)^2\" "
                        "x=[1,2,3] w=[0.5,-1,2] y=1 (see --help)\n");
        status = 2;
    }
    for (int k = 0; k < nno_grad && !status; k++) { /* after every input is known */
        int i = 0;
        while (i < ninputs && strcmp(inputs[i].name, no_grad[k])) i++;
        if (i == ninputs) {
            fprintf(stderr, "nd autodiff: --no-grad %s: no input is called '%s'\n", no_grad[k],
                    no_grad[k]);
            status = 2;
        } else {
            nd_set_requires_grad(inputs[i].value, false);
        }
    }
    if (!status) status = run(text, ninputs, inputs, dot_path, png_path, allow_nan);
    nd_scope_end();
    nd_shutdown();
    return status;
}
