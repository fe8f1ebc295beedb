/* Parsing and evaluating `nd autodiff` expressions. The grammar, by recursive
 * descent (one function per precedence level, loosest first):
 *
 *   sum     := product (('+' | '-') product)*
 *   product := unary (('*' | '/') unary)*
 *   unary   := ('-' | '+') unary | power
 *   power   := primary (('^' | '**') unary)?     right-associative, as in Python:
 *   primary := NUMBER | NAME | NAME '(' args ')' | '(' sum ')'      -x^2 = -(x^2)
 */
#include "expr.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *text;
    const char *at;
    expr *e;
    expr_error *err;
    int depth; /* parse_unary calls under way */
} parser;

static const struct {
    const char *name;
    int nargs;
} functions[] = {
    {"dot", 2},  {"matmul", 2}, {"sum", 1}, {"mean", 1}, {"relu", 1}, {"sigmoid", 1},
    {"tanh", 1}, {"exp", 1},    {"log", 1}, {"sin", 1},  {"cos", 1},
};
#define NFUNCTIONS ((int)(sizeof functions / sizeof functions[0]))

/* Limits that keep the recursive parser and evaluator far from the end of the
 * stack, whatever the text: an expression on a command line needs neither. */
#define MAX_DEPTH 100 /* brackets, calls, signs and powers inside one another */
#define MAX_NODES 1000

static int column_of(const parser *p, const char *at) {
    return (int)(at - p->text) + 1;
}

static int fail_at(expr_error *err, int column, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(expr_error *err, int column, const char *fmt, ...) {
    err->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

static void skip_spaces(parser *p) {
    while (isspace((unsigned char)*p->at)) p->at++;
}

/* A new node; its index, or -1 when out of memory or past MAX_NODES. */
static int new_node(parser *p, expr_kind kind, const char *at) {
    expr *e = p->e;
    if (e->count == MAX_NODES)
        return fail_at(p->err, column_of(p, at), "the expression has more than %d parts",
                       MAX_NODES);
    if (e->count == e->capacity) {
        int capacity = e->capacity ? 2 * e->capacity : 16;
        expr_node *grown = realloc(e->nodes, (size_t)capacity * sizeof *grown);
        if (!grown) return fail_at(p->err, 0, "out of memory");
        e->nodes = grown;
        e->capacity = capacity;
    }
    e->nodes[e->count] = (expr_node){.kind = kind, .column = column_of(p, at)};
    return e->count++;
}

static int parse_sum(parser *p);

/* What stands at the cursor, for a message: "'x'" or "the end of the expression". */
static const char *describe(const parser *p) {
    static char what[32];
    if (!*p->at) return "the end of the expression";
    snprintf(what, sizeof what, "'%c'", *p->at);
    return what;
}

static int read_identifier(parser *p, char *out, size_t size) {
    const char *start = p->at;
    while (isalnum((unsigned char)*p->at) || *p->at == '_') p->at++;
    size_t n = (size_t)(p->at - start);
    if (n >= size)
        return fail_at(p->err, column_of(p, start), "the name '%.*s' is too long", (int)n, start);
    memcpy(out, start, n);
    out[n] = '\0';
    return 0;
}

static int parse_call(parser *p, int node, const char *start) {
    expr_node *call = &p->e->nodes[node];
    int want = -1;
    for (int i = 0; i < NFUNCTIONS; i++)
        if (!strcmp(functions[i].name, call->name)) want = functions[i].nargs;
    if (want < 0)
        return fail_at(p->err, column_of(p, start),
                       "unknown function '%s' (known: dot, matmul, sum, mean, relu, sigmoid, tanh, "
                       "exp, log, sin, cos)",
                       call->name);
    p->at++; /* '(' */
    int args[2], nargs = 0;
    skip_spaces(p);
    if (*p->at != ')')
        for (;;) {
            int arg = parse_sum(p);
            if (arg < 0) return -1;
            if (nargs < 2) args[nargs] = arg;
            nargs++;
            skip_spaces(p);
            if (*p->at != ',') break;
            p->at++;
        }
    if (*p->at != ')')
        return fail_at(p->err, column_of(p, p->at), "expected ',' or ')' but found %s",
                       describe(p));
    p->at++;
    if (nargs != want)
        return fail_at(p->err, column_of(p, start), "%s takes %d argument%s, got %d",
                       p->e->nodes[node].name, want, want == 1 ? "" : "s", nargs);
    call = &p->e->nodes[node]; /* the array may have moved */
    call->nargs = nargs;
    memcpy(call->args, args, sizeof(int) * (size_t)nargs);
    return node;
}

static int parse_primary(parser *p) {
    skip_spaces(p);
    const char *start = p->at;
    if (isdigit((unsigned char)*p->at) || (*p->at == '.' && isdigit((unsigned char)p->at[1]))) {
        char *end;
        double v = strtod(p->at, &end);
        if (isalpha((unsigned char)*end) || *end == '_')
            return fail_at(p->err, column_of(p, end), "unexpected '%c' after the number %.*s", *end,
                           (int)(end - start), start);
        p->at = end;
        int node = new_node(p, EXPR_NUMBER, start);
        if (node >= 0) p->e->nodes[node].number = v;
        return node;
    }
    if (isalpha((unsigned char)*p->at) || *p->at == '_') {
        char name[32];
        if (read_identifier(p, name, sizeof name)) return -1;
        skip_spaces(p);
        bool is_call = *p->at == '(';
        int node = new_node(p, is_call ? EXPR_CALL : EXPR_NAME, start);
        if (node < 0) return -1;
        strcpy(p->e->nodes[node].name, name);
        return is_call ? parse_call(p, node, start) : node;
    }
    if (*p->at == '(') {
        p->at++;
        int inner = parse_sum(p);
        if (inner < 0) return -1;
        skip_spaces(p);
        if (*p->at != ')')
            return fail_at(p->err, column_of(p, p->at),
                           "expected ')' to close the '(' at column %d but found %s",
                           column_of(p, start), describe(p));
        p->at++;
        return inner;
    }
    return fail_at(p->err, column_of(p, p->at), "expected a number, a name or '(' but found %s",
                   describe(p));
}

static int binary(parser *p, char op, const char *at, int left, int right) {
    int node = new_node(p, EXPR_BINARY, at);
    if (node < 0) return -1;
    expr_node *n = &p->e->nodes[node];
    n->op = op;
    n->nargs = 2;
    n->args[0] = left;
    n->args[1] = right;
    return node;
}

static int parse_unary(parser *p);

static int parse_power(parser *p) {
    int base = parse_primary(p);
    if (base < 0) return -1;
    skip_spaces(p);
    const char *at = p->at;
    if (*at == '^' || (at[0] == '*' && at[1] == '*')) {
        p->at += *at == '^' ? 1 : 2;
        int exponent = parse_unary(p); /* right-associative: 2^3^2 = 2^(3^2) */
        if (exponent < 0) return -1;
        return binary(p, '^', at, base, exponent);
    }
    return base;
}

static int parse_signed(parser *p);

/* Every level of nesting (a bracket, a call's argument, a sign, an exponent)
 * comes through here: one deeper than MAX_DEPTH is an error. */
static int parse_unary(parser *p) {
    skip_spaces(p);
    if (p->depth == MAX_DEPTH)
        return fail_at(p->err, column_of(p, p->at), "the expression nests deeper than %d levels",
                       MAX_DEPTH);
    p->depth++;
    int node = parse_signed(p);
    p->depth--;
    return node;
}

static int parse_signed(parser *p) {
    const char *at = p->at;
    if (*at == '+') {
        p->at++;
        return parse_unary(p);
    }
    if (*at == '-') {
        p->at++;
        int operand = parse_unary(p);
        if (operand < 0) return -1;
        int node = new_node(p, EXPR_NEGATE, at);
        if (node < 0) return -1;
        p->e->nodes[node].nargs = 1;
        p->e->nodes[node].args[0] = operand;
        return node;
    }
    return parse_power(p);
}

static int parse_product(parser *p) {
    int left = parse_unary(p);
    for (;;) {
        if (left < 0) return -1;
        skip_spaces(p);
        const char *at = p->at;
        if ((*at != '*' && *at != '/') || at[1] == '*') return left;
        p->at++;
        int right = parse_unary(p);
        if (right < 0) return -1;
        left = binary(p, *at, at, left, right);
    }
}

static int parse_sum(parser *p) {
    int left = parse_product(p);
    for (;;) {
        if (left < 0) return -1;
        skip_spaces(p);
        const char *at = p->at;
        if (*at != '+' && *at != '-') return left;
        p->at++;
        int right = parse_product(p);
        if (right < 0) return -1;
        left = binary(p, *at, at, left, right);
    }
}

/* "L = ..." names the output; "z" otherwise. */
static void parse_output_name(parser *p) {
    const char *s = p->at;
    while (isspace((unsigned char)*s)) s++;
    const char *name = s;
    if (!isalpha((unsigned char)*s) && *s != '_') return;
    while (isalnum((unsigned char)*s) || *s == '_') s++;
    size_t n = (size_t)(s - name);
    while (isspace((unsigned char)*s)) s++;
    if (*s != '=' || s[1] == '=' || n >= sizeof p->e->output) return;
    memcpy(p->e->output, name, n);
    p->e->output[n] = '\0';
    p->at = s + 1;
}

int expr_parse(const char *text, expr *e, expr_error *err) {
    *e = (expr){.root = -1};
    strcpy(e->output, "z");
    *err = (expr_error){0};
    parser p = {.text = text, .at = text, .e = e, .err = err};
    parse_output_name(&p);
    e->root = parse_sum(&p);
    if (e->root >= 0) {
        skip_spaces(&p);
        if (*p.at) e->root = fail_at(err, column_of(&p, p.at), "unexpected %s", describe(&p));
    }
    if (e->root < 0) {
        expr_free(e);
        return -1;
    }
    return 0;
}

void expr_free(expr *e) {
    free(e->nodes);
    e->nodes = NULL;
    e->count = e->capacity = 0;
}

int expr_check_names(const expr *e, int ninputs, const expr_input *inputs, bool *used,
                     expr_error *err) {
    if (used) memset(used, 0, sizeof(bool) * (size_t)ninputs);
    int rc = 0;
    for (int k = 0; k < e->count; k++) {
        const expr_node *n = &e->nodes[k];
        if (n->kind != EXPR_NAME) continue;
        int found = -1;
        for (int i = 0; i < ninputs; i++)
            if (!strcmp(inputs[i].name, n->name)) found = i;
        if (found >= 0 && used) used[found] = true;
        if (found < 0 && rc == 0) /* the leftmost unknown name */
            rc = fail_at(err, n->column, "unknown name '%s': give it a value, e.g. %s=[1,2,3]",
                         n->name, n->name);
        else if (found < 0 && n->column < err->column)
            fail_at(err, n->column, "unknown name '%s': give it a value, e.g. %s=[1,2,3]", n->name,
                    n->name);
    }
    return rc;
}

/* ------------------------------------------------------------- evaluation */

/* An operand: a tensor (an input or a step) or a plain number, and how the
 * trace calls it ("x", "v2", "3"). */
typedef struct {
    nd_tensor *tensor;
    double number;
    char label[40];
} operand;

typedef struct {
    const expr *e;
    int ninputs;
    const expr_input *inputs;
    expr_trace *trace;
    expr_error *err;
} evaluator;

/* Records the op's result as the next step vK, or fails at the op's column with nd's message. */
static int step(evaluator *ev, nd_tensor *t, int column, operand *out, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int step(evaluator *ev, nd_tensor *t, int column, operand *out, const char *fmt, ...) {
    if (!t) return fail_at(ev->err, column, "%s", nd_last_error() ? nd_last_error() : "failed");
    expr_trace *tr = ev->trace;
    if (tr->count == tr->capacity) {
        int capacity = tr->capacity ? 2 * tr->capacity : 16;
        expr_step *grown = realloc(tr->steps, (size_t)capacity * sizeof *grown);
        if (!grown) return fail_at(ev->err, column, "out of memory");
        tr->steps = grown;
        tr->capacity = capacity;
    }
    expr_step *s = &tr->steps[tr->count++];
    s->value = t;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->text, sizeof s->text, fmt, ap);
    va_end(ap);
    *out = (operand){.tensor = t};
    snprintf(out->label, sizeof out->label, "v%d", tr->count);
    nd_set_name(t, out->label); /* the graph (nd_graph_dot) shows the same names */
    return 0;
}

static void number_operand(operand *out, double v) {
    *out = (operand){.number = v};
    snprintf(out->label, sizeof out->label, "%g", v);
}

/* A number where an op needs a tensor: a 0-d float32 constant. */
static nd_tensor *as_tensor(const operand *o) {
    return o->tensor ? o->tensor : nd_scalar(o->number, ND_F32);
}

static double fold(char op, double a, double b) {
    switch (op) {
    case '+':
        return a + b;
    case '-':
        return a - b;
    case '*':
        return a * b;
    case '/':
        return a / b;
    default:
        return pow(a, b);
    }
}

/* Number operands go to the scalar forms (nd_add_scalar, ...): weak scalars, as
 * Python numbers are in PyTorch, so x^2 stays float32 and the graph stays small. */
static nd_tensor *apply_binary(char op, const operand *a, const operand *b) {
    if (a->tensor && b->tensor) switch (op) {
        case '+':
            return nd_add(a->tensor, b->tensor);
        case '-':
            return nd_sub(a->tensor, b->tensor);
        case '*':
            return nd_mul(a->tensor, b->tensor);
        case '/':
            return nd_div(a->tensor, b->tensor);
        default:
            return nd_pow(a->tensor, b->tensor);
        }
    if (a->tensor) switch (op) {
        case '+':
            return nd_add_scalar(a->tensor, b->number);
        case '-':
            return nd_sub_scalar(a->tensor, b->number);
        case '*':
            return nd_mul_scalar(a->tensor, b->number);
        case '/':
            return nd_div_scalar(a->tensor, b->number);
        default:
            return nd_pow_scalar(a->tensor, b->number);
        }
    switch (op) {
    case '+':
        return nd_add_scalar(b->tensor, a->number);
    case '-':
        return nd_rsub_scalar(b->tensor, a->number);
    case '*':
        return nd_mul_scalar(b->tensor, a->number);
    case '/':
        return nd_rdiv_scalar(b->tensor, a->number);
    default:
        return nd_pow(nd_scalar(a->number, nd_type(b->tensor)), b->tensor);
    }
}

static nd_tensor *apply_call(const char *name, nd_tensor *a, nd_tensor *b) {
    if (!strcmp(name, "dot")) return nd_dot(a, b);
    if (!strcmp(name, "matmul")) return nd_matmul(a, b);
    if (!strcmp(name, "sum")) return nd_sum(a, ND_ALL, false);
    if (!strcmp(name, "mean")) return nd_mean(a, ND_ALL, false);
    if (!strcmp(name, "relu")) return nd_relu(a);
    if (!strcmp(name, "sigmoid")) return nd_sigmoid(a);
    if (!strcmp(name, "tanh")) return nd_tanh(a);
    if (!strcmp(name, "exp")) return nd_exp(a);
    if (!strcmp(name, "log")) return nd_log(a);
    if (!strcmp(name, "sin")) return nd_sin(a);
    return nd_cos(a);
}

static int eval_node(evaluator *ev, int k, operand *out) {
    const expr_node *n = &ev->e->nodes[k];
    operand a = {0}, b = {0};
    for (int i = 0; i < n->nargs; i++)
        if (eval_node(ev, n->args[i], i == 0 ? &a : &b)) return -1;
    switch (n->kind) {
    case EXPR_NUMBER:
        number_operand(out, n->number);
        return 0;
    case EXPR_NAME:
        for (int i = 0; i < ev->ninputs; i++)
            if (!strcmp(ev->inputs[i].name, n->name)) {
                *out = (operand){.tensor = ev->inputs[i].value};
                snprintf(out->label, sizeof out->label, "%s", n->name);
                return 0;
            }
        return fail_at(ev->err, n->column, "unknown name '%s'", n->name);
    case EXPR_NEGATE:
        if (!a.tensor) return number_operand(out, -a.number), 0;
        return step(ev, nd_neg(a.tensor), n->column, out, "-%s", a.label);
    case EXPR_BINARY:
        if (!a.tensor && !b.tensor) return number_operand(out, fold(n->op, a.number, b.number)), 0;
        return step(ev, apply_binary(n->op, &a, &b), n->column, out, "%s %c %s", a.label, n->op,
                    b.label);
    case EXPR_CALL: {
        nd_tensor *t = apply_call(n->name, as_tensor(&a), n->nargs > 1 ? as_tensor(&b) : NULL);
        if (n->nargs > 1)
            return step(ev, t, n->column, out, "%s(%s, %s)", n->name, a.label, b.label);
        return step(ev, t, n->column, out, "%s(%s)", n->name, a.label);
    }
    }
    return -1;
}

nd_tensor *expr_eval(const expr *e, int ninputs, const expr_input *inputs, expr_trace *trace,
                     expr_error *err) {
    *err = (expr_error){0};
    trace->count = 0;
    evaluator ev = {.e = e, .ninputs = ninputs, .inputs = inputs, .trace = trace, .err = err};
    operand result;
    if (eval_node(&ev, e->root, &result)) return NULL;
    return as_tensor(&result);
}

void expr_trace_free(expr_trace *t) {
    free(t->steps);
    *t = (expr_trace){0};
}
