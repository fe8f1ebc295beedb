/* nd_web_autodiff.c — the page's Autodiff panel: `nd autodiff` in the browser.
 * The expression language is the CLI's own (cli/expr.c, compiled in); as
 * cli/autodiff.c does, inputs are parsed by nd_parse and taken as float32, the
 * forward accumulation is one dual-number pass per input element, and the
 * backward propagation one nd_gradients call for every node at once. */
#include "expr.h"
#include "json.h"
#include "nd_web.h"

#include <ctype.h>
#include <math.h>
#include <nd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#define WEB_EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define WEB_EXPORT
#endif

#define MAX_INPUTS         32
#define MAX_FORWARD_PASSES 64 /* as the CLI: beyond this forward mode is skipped */

/* "name=value" lines → inputs (float32, requiring a gradient); -1 after web_fail. */
static int parse_inputs(const char *text, expr_input *inputs, char names[][32], int *count) {
    *count = 0;
    for (const char *line = text; line && *line;) {
        const char *end = line + strcspn(line, "\n");
        while (line < end && isspace((unsigned char)*line)) line++;
        if (line == end) {
            line = *end ? end + 1 : end;
            continue;
        }
        const char *eq = memchr(line, '=', (size_t)(end - line));
        size_t n = eq ? (size_t)(eq - line) : 0;
        while (n > 0 && isspace((unsigned char)line[n - 1])) n--;
        bool ok = eq && n > 0 && n < 32 && (isalpha((unsigned char)line[0]) || line[0] == '_');
        for (size_t i = 1; ok && i < n; i++) ok = isalnum((unsigned char)line[i]) || line[i] == '_';
        if (!ok) {
            web_fail("nd autodiff: '%.*s' is not name=value (e.g. x=[1,2,3])", (int)(end - line),
                     line);
            return -1;
        }
        if (*count == MAX_INPUTS) {
            web_fail("nd autodiff: at most %d inputs", MAX_INPUTS);
            return -1;
        }
        memcpy(names[*count], line, n);
        names[*count][n] = '\0';
        for (int i = 0; i < *count; i++)
            if (!strcmp(names[i], names[*count])) {
                web_fail("nd autodiff: the name '%s' is given twice", names[i]);
                return -1;
            }
        char *value_text = strndup(eq + 1, (size_t)(end - eq - 1));
        nd_tensor *value = value_text ? nd_parse(value_text) : NULL;
        free(value_text);
        if (value && nd_type(value) != ND_F32 && nd_type(value) != ND_F64)
            value = nd_to(value, ND_F32); /* integers and booleans cannot carry gradients */
        if (!value) {
            web_fail_nd(names[*count]);
            return -1;
        }
        inputs[*count] = (expr_input){
            names[*count], nd_set_name(nd_set_requires_grad(value, true), names[*count])};
        ++*count;
        line = *end ? end + 1 : end;
    }
    return 0;
}

static void json_node(const char *name, const char *text, nd_tensor *value) {
    json_raw("{");
    json_key("name");
    json_string(name);
    if (text) {
        json_key("text");
        json_string(text);
    }
    json_key("shape");
    json_raw("[");
    for (int d = 0; d < nd_ndim(value); d++)
        json_raw(d ? ",%lld" : "%lld", (long long)nd_size(value, d));
    json_raw("]");
    json_key("value");
    json_tensor(value);
    json_raw("}");
}

/* Forward mode for input `which`: every node's tangent, one pass per element of
 * the input (node shape + input shape), computed as the program does
 * (cli/expr_passes.c) and written as JSON nodes named d<node>/d<input>. */
static int forward(const expr *e, int ninputs, const expr_input *inputs, int which,
                   const expr_trace *trace) {
    nd_tensor **derivatives = calloc((size_t)trace->count + 1, sizeof *derivatives);
    int rc =
        derivatives ? expr_forward_accumulation(e, ninputs, inputs, which, trace, derivatives) : -1;
    json_raw("[");
    for (int k = 0; k < trace->count && rc == 0; k++) {
        char name[96];
        snprintf(name, sizeof name, "d%s/d%s", trace->steps[k].name, inputs[which].name);
        if (k) json_raw(",");
        json_node(name, NULL, derivatives[k]);
    }
    json_raw("]");
    free(derivatives);
    return rc;
}

/* As the CLI without --allow-nan: a NaN or an infinity is an error naming the
 * first node that has one (almost always an input outside a function's domain). */
static bool non_finite(const expr_trace *trace) {
    for (int k = 0; k < trace->count; k++)
        if (!expr_all_finite(trace->steps[k].value)) {
            web_fail("nd autodiff: %s = %s is NaN or infinite (an input outside the function's "
                     "domain?)",
                     trace->steps[k].name, trace->steps[k].text);
            return true;
        }
    return false;
}

static const char *report(const expr *e, nd_tensor *z, int ninputs, const expr_input *inputs,
                          const expr_trace *trace) {
    if (non_finite(trace)) return NULL;
    json_reset();
    json_raw("{");
    json_key("output");
    json_string(e->output);
    json_key("value");
    json_tensor(z);
    json_key("shape");
    json_raw("[");
    for (int d = 0; d < nd_ndim(z); d++) json_raw(d ? ",%lld" : "%lld", (long long)nd_size(z, d));
    json_raw("]");
    json_key("nodes");
    json_raw("[");
    for (int k = 0; k < trace->count; k++) {
        if (k) json_raw(",");
        json_node(trace->steps[k].name, trace->steps[k].text, trace->steps[k].value);
    }
    json_raw("]");
    bool differentiable = ninputs > 0 && nd_requires_grad(z);
    if (differentiable && nd_numel(z) != 1) {
        char *shape = nd_shape_string(z);
        web_fail("nd autodiff: %s has shape %s; backward propagation needs one element: wrap the "
                 "expression in sum(...)",
                 e->output, shape ? shape : "?");
        free(shape);
        return NULL;
    }
    json_key("forward");
    json_raw("{");
    for (int i = 0; i < ninputs && differentiable; i++) {
        if (nd_numel(inputs[i].value) > MAX_FORWARD_PASSES) continue;
        json_key(inputs[i].name);
        if (forward(e, ninputs, inputs, i, trace)) return web_fail_nd("nd autodiff: forward mode");
    }
    json_raw("}");
    /* reverse mode: the adjoint of every node and input from one backward pass */
    nd_tensor *targets[256 + MAX_INPUTS], *grads[256 + MAX_INPUTS];
    int step_of[256], n = 0;
    for (int k = trace->count - 1; k >= 0 && n < 256 && differentiable; k--)
        if (trace->steps[k].value != z && nd_requires_grad(trace->steps[k].value)) {
            step_of[n] = k;
            targets[n++] = trace->steps[k].value;
        }
    int nsteps = n;
    for (int i = 0; i < ninputs && differentiable; i++)
        if (inputs[i].value != z) targets[n++] = inputs[i].value;
    if (n > 0 && nd_gradients(z, n, targets, grads, false))
        return web_fail_nd("nd autodiff: backward propagation");
    json_key("backward");
    json_raw("[");
    char name[96];
    bool first = true;
    if (differentiable && trace->count && trace->steps[trace->count - 1].value == z) {
        snprintf(name, sizeof name, "d%s/d%s", e->output, trace->steps[trace->count - 1].name);
        json_node(name, NULL, nd_ones_like(z)); /* the seed dz/dz = 1 */
        first = false;
    }
    for (int m = 0; m < nsteps; m++) {
        snprintf(name, sizeof name, "d%s/d%s", e->output, trace->steps[step_of[m]].name);
        if (!first) json_raw(",");
        json_node(name, NULL, grads[m]);
        first = false;
    }
    json_raw("]");
    json_key("grads");
    json_raw("{");
    for (int i = 0, m = nsteps; i < ninputs && differentiable; i++) {
        json_key(inputs[i].name);
        json_tensor(inputs[i].value == z ? nd_ones_like(z) : grads[m++]);
    }
    json_raw("}");
    char *dot = nd_graph_dot(z);
    json_key("dot");
    json_string(dot ? dot : "");
    free(dot);
    json_raw("}");
    return json_text();
}

WEB_EXPORT const char *nd_web_autodiff(const char *text, const char *input_text) {
    expr_input inputs[MAX_INPUTS];
    char names[MAX_INPUTS][32];
    int ninputs = 0;
    const char *out = NULL;
    nd_scope_begin();
    if (parse_inputs(input_text, inputs, names, &ninputs)) {
        nd_scope_end();
        return NULL;
    }
    expr e;
    expr_error err;
    if (expr_parse(text ? text : "", &e, &err)) {
        nd_scope_end();
        return web_fail("nd autodiff: %s (column %d)", err.message, err.column);
    }
    expr_trace trace = {0};
    bool used[MAX_INPUTS];
    bool failed = false;
    for (int i = 0; i < ninputs && !failed; i++)
        if ((failed = !strcmp(inputs[i].name, e.output)))
            web_fail("nd autodiff: '%s' names both an input and the output; name the output "
                     "differently: \"L = ...\"",
                     e.output);
    nd_tensor *z = NULL;
    if (!failed && expr_check_names(&e, ninputs, inputs, used, &err))
        web_fail("nd autodiff: %s (column %d)", err.message, err.column);
    else if (!failed && !(z = expr_eval(&e, ninputs, inputs, &trace, &err)))
        web_fail("nd autodiff: %s (column %d)", err.message, err.column);
    if (z) out = report(&e, z, ninputs, inputs, &trace);
    expr_trace_free(&trace);
    expr_free(&e);
    nd_scope_end();
    return out;
}
