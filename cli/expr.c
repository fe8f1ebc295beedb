/* Parsing and evaluating `nd autodiff` expressions. The grammar, by recursive
 * descent (one function per precedence level, loosest first):
 *
 *   program   := statement ((';' | new line) statement)*     the last is the output
 *   statement := (NAME '=')? sum
 *   sum     := product (('+' | '-') product)*
 *   product := unary (('*' | '/') unary)*
 *   unary   := ('-' | '+') unary | power
 *   power   := primary (('^' | '**') unary)?     right-associative, as in Python:
 *   primary := NUMBER | NAME | NAME '(' args ')' | '(' sum ')'      -x^2 = -(x^2)
 */
#include "expr.h"
#include "text.h"

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
    int depth; /* of nested parentheses, unary signs and exponents */
} parser;

/* Limits that keep any text, however long or deeply nested, an error message
 * rather than a stack overflow (the parser and the evaluator recurse). */
#define EXPR_MAX_NODES 2000
#define EXPR_MAX_DEPTH 100

static const struct {
    const char *name;
    int nargs;
} functions[] = {
    {"dot", 2},  {"matmul", 2}, {"sum", 1}, {"mean", 1}, {"relu", 1}, {"sigmoid", 1},
    {"tanh", 1}, {"exp", 1},    {"log", 1}, {"sin", 1},  {"cos", 1},
};
#define NFUNCTIONS ((int)(sizeof functions / sizeof functions[0]))

static bool is_function(const char *name) {
    for (int i = 0; i < NFUNCTIONS; i++)
        if (!strcmp(functions[i].name, name)) return true;
    return false;
}

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

/* A new node; its index, or -1 when out of memory. */
static int new_node(parser *p, expr_kind kind, const char *at) {
    expr *e = p->e;
    if (e->count >= EXPR_MAX_NODES)
        return fail_at(p->err, column_of(p, at),
                       "the expression is too long: more than %d numbers, names and ops",
                       EXPR_MAX_NODES);
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

/* Characters copied from the slides that mean a plain ASCII operator. */
static const struct {
    const char *utf8, *write;
} lookalikes[] = {
    {"\u2212", "-"}, {"\u00d7", "*"},  {"\u00b7", "*"},  {"\u22c5", "*"},
    {"\u00f7", "/"}, {"\u00b2", "^2"}, {"\u00b3", "^3"}, {"\uff08", "("},
    {"\uff09", ")"}, {"\uff0c", ","},  {"\uff1b", ";"},
};

/* What stands at the cursor, for a message: "'x'", "'−' (write -)" or "the end
 * of the expression". A UTF-8 character is shown whole, never a lone byte. */
static const char *describe(const parser *p) {
    static char what[64];
    const unsigned char *c = (const unsigned char *)p->at;
    if (!*c) return "the end of the expression";
    int n = 1; /* bytes of the character: its lead byte says how many follow */
    if (*c >= 0xc0) n = *c >= 0xf0 ? 4 : *c >= 0xe0 ? 3 : 2;
    for (int i = 1; i < n; i++)
        if ((c[i] & 0xc0) != 0x80) n = i; /* a cut or broken sequence */
    if (n == 1 && (*c < 0x20 || *c >= 0x7f)) {
        snprintf(what, sizeof what, "the byte 0x%02x", *c);
        return what;
    }
    for (size_t i = 0; i < sizeof lookalikes / sizeof lookalikes[0]; i++)
        if (!strncmp(p->at, lookalikes[i].utf8, (size_t)n) && lookalikes[i].utf8[n] == '\0') {
            snprintf(what, sizeof what, "'%.*s' (write %s)", n, p->at, lookalikes[i].write);
            return what;
        }
    snprintf(what, sizeof what, "'%.*s'", n, p->at);
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
            return fail_at(p->err, column_of(p, end),
                           "unexpected '%c' after the number %.*s (for a product write %.*s*%c)",
                           *end, (int)(end - start), start, (int)(end - start), start, *end);
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
        if (!is_call && is_function(name) &&
            (isalnum((unsigned char)*p->at) || *p->at == '_' || *p->at == '[' || *p->at == '.')) {
            /* "sin x": the argument needs parentheses */
            const char *arg = p->at;
            size_t n =
                strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.");
            return fail_at(p->err, column_of(p, start),
                           "%s is a function: its argument goes in parentheses, write %s(%.*s)",
                           name, name, n ? (int)n : 3, n ? arg : "...");
        }
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

/* Every nesting (parentheses, a sign, an exponent, a call's argument) passes
 * here, so the depth is counted once. */
static int parse_unary(parser *p) {
    if (p->depth >= EXPR_MAX_DEPTH)
        return fail_at(p->err, column_of(p, p->at),
                       "the expression nests too deeply (more than %d levels)", EXPR_MAX_DEPTH);
    p->depth++;
    int node = parse_signed(p);
    p->depth--;
    return node;
}

static int parse_signed(parser *p) {
    skip_spaces(p);
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

/* "a = ..." names the statement: the name into out, or out empty (the cursor
 * unmoved) when the statement has none. */
static void parse_statement_name(parser *p, char *out, size_t size) {
    out[0] = '\0';
    const char *s = p->at;
    while (isspace((unsigned char)*s)) s++;
    const char *name = s;
    if (!isalpha((unsigned char)*s) && *s != '_') return;
    while (isalnum((unsigned char)*s) || *s == '_') s++;
    size_t n = (size_t)(s - name);
    while (isspace((unsigned char)*s)) s++;
    if (*s != '=' || s[1] == '=' || n >= size) return;
    memcpy(out, name, n);
    out[n] = '\0';
    p->at = s + 1;
}

/* The index of the statement called name among the first `before`, or -1. */
static int statement_named(const expr *e, const char *name, int before) {
    for (int s = 0; s < before && s < e->nstatements; s++)
        if (!strcmp(e->statements[s].name, name)) return s;
    return -1;
}

static int add_statement(parser *p, const expr_statement *st) {
    expr *e = p->e;
    if (e->nstatements == e->statements_capacity) {
        int capacity = e->statements_capacity ? 2 * e->statements_capacity : 4;
        expr_statement *grown = realloc(e->statements, (size_t)capacity * sizeof *grown);
        if (!grown) return fail_at(p->err, 0, "out of memory");
        e->statements = grown;
        e->statements_capacity = capacity;
    }
    e->statements[e->nstatements++] = *st;
    return 0;
}

/* A name for an intermediate must not be a function's or an earlier one's. */
static int check_new_name(parser *p, const expr_statement *st) {
    if (is_function(st->name))
        return fail_at(p->err, st->column, "'%s' is a function: call the intermediate otherwise",
                       st->name);
    int earlier = statement_named(p->e, st->name, p->e->nstatements);
    if (earlier >= 0)
        return fail_at(p->err, st->column,
                       "'%s' is already defined at column %d: give each intermediate its own name",
                       st->name, p->e->statements[earlier].column);
    return 0;
}

/* After a statement: ';', the end, or a new line start the next one. */
static int end_statement(parser *p) {
    const char *end = p->at; /* parse_sum stopped here, past any spaces */
    for (const char *c = end; c > p->text && isspace((unsigned char)c[-1]); c--)
        if (c[-1] == '\n') return 0;
    if (!*end || *end == ';') return 0;
    char name[32];
    parser ahead = *p;
    parse_statement_name(&ahead, name, sizeof name);
    if (name[0]) /* "a = x*2 z = a" */
        return fail_at(p->err, column_of(p, end), "unexpected '%s =': put ';' between statements",
                       name);
    return fail_at(p->err, column_of(p, end), "unexpected %s", describe(p));
}

/* Every intermediate but the output must be used (a use before the definition
 * is told by expr_check_names, which knows the inputs). */
static int check_used(parser *p) {
    const expr *e = p->e;
    for (int s = 0; s + 1 < e->nstatements; s++) {
        bool used = false;
        for (int k = 0; k < e->count && !used; k++)
            used =
                e->nodes[k].kind == EXPR_NAME && !strcmp(e->nodes[k].name, e->statements[s].name);
        if (!used)
            return fail_at(p->err, e->statements[s].column,
                           "'%s' is computed but never used: the output is the last statement",
                           e->statements[s].name);
    }
    return 0;
}

static int parse_program(parser *p) {
    expr *e = p->e;
    for (;;) {
        while (isspace((unsigned char)*p->at) || *p->at == ';') p->at++;
        if (!*p->at && e->nstatements > 0) break;
        expr_statement st = {.column = column_of(p, p->at), .first_node = e->count};
        parse_statement_name(p, st.name, sizeof st.name);
        if (st.name[0] && check_new_name(p, &st)) return -1;
        st.root = parse_sum(p);
        if (st.root < 0 || add_statement(p, &st) || end_statement(p)) return -1;
    }
    expr_statement *last = &e->statements[e->nstatements - 1];
    if (last->name[0]) {
        strcpy(e->output, last->name);
    } else if (statement_named(e, e->output, e->nstatements) >= 0) {
        return fail_at(p->err, last->column,
                       "the output would be called %s, like an intermediate: name it, "
                       "e.g. \"L = ...\"",
                       e->output);
    } else {
        strcpy(last->name, e->output);
    }
    e->root = last->root;
    return check_used(p);
}

int expr_parse(const char *text, expr *e, expr_error *err) {
    *e = (expr){.root = -1};
    strcpy(e->output, "z");
    *err = (expr_error){0};
    parser p = {.text = text, .at = text, .e = e, .err = err};
    if (parse_program(&p)) {
        expr_free(e);
        e->root = -1;
        return -1;
    }
    return 0;
}

void expr_free(expr *e) {
    free(e->nodes);
    free(e->statements);
    e->nodes = NULL;
    e->statements = NULL;
    e->count = e->capacity = e->nstatements = e->statements_capacity = 0;
}

/* The statement node k belongs to. */
static int statement_of(const expr *e, int k) {
    int s = 0;
    while (s + 1 < e->nstatements && e->statements[s + 1].first_node <= k) s++;
    return s;
}

/* Keeps the leftmost problem in err; rc becomes -1. */
static void note(expr_error *err, int *rc, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void note(expr_error *err, int *rc, int column, const char *fmt, ...) {
    if (*rc && column >= err->column) return;
    *rc = -1;
    err->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static int input_named(int ninputs, const expr_input *inputs, const char *name) {
    for (int i = 0; i < ninputs; i++)
        if (!strcmp(inputs[i].name, name)) return i;
    return -1;
}

int expr_check_names(const expr *e, int ninputs, const expr_input *inputs, bool *used,
                     expr_error *err) {
    if (used) memset(used, 0, sizeof(bool) * (size_t)ninputs);
    int rc = 0;
    for (int k = 0; k < e->count; k++) {
        const expr_node *n = &e->nodes[k];
        if (n->kind != EXPR_NAME) continue;
        int found = input_named(ninputs, inputs, n->name);
        if (found >= 0 && used) used[found] = true;
        if (found >= 0) continue;
        int s = statement_of(e, k), defined = statement_named(e, n->name, e->nstatements);
        if (defined >= 0 && defined < s) continue;
        if (defined >= 0)
            note(err, &rc, n->column,
                 "'%s' is used before it is defined: define it in an earlier statement", n->name);
        else
            note(err, &rc, n->column, "unknown name '%s': give it a value, e.g. %s=[1,2,3]",
                 n->name, n->name);
    }
    for (int s = 0; s < e->nstatements; s++)
        if (input_named(ninputs, inputs, e->statements[s].name) >= 0)
            note(err, &rc, e->statements[s].column,
                 "'%s' is an input: give the intermediate another name", e->statements[s].name);
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
    operand *statements; /* the value of each statement evaluated so far */
    int statement;       /* the one being evaluated */
    int unnamed;         /* steps named vK so far */
} evaluator;

static bool name_taken(const evaluator *ev, const char *name) {
    return input_named(ev->ninputs, ev->inputs, name) >= 0 ||
           statement_named(ev->e, name, ev->e->nstatements) >= 0;
}

/* Records the op's result as the next step, called `name` (a statement's) or
 * else vK, the next K that no input or statement uses; or fails at the op's
 * column with nd's message. */
static int step(evaluator *ev, nd_tensor *t, int column, operand *out, const char *name,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int step(evaluator *ev, nd_tensor *t, int column, operand *out, const char *name,
                const char *fmt, ...) {
    if (!t) return fail_at(ev->err, column, "%s", text_user_error(nd_last_error()));
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
    if (name)
        snprintf(s->name, sizeof s->name, "%s", name);
    else
        do snprintf(s->name, sizeof s->name, "v%d", ++ev->unnamed);
        while (name_taken(ev, s->name));
    *out = (operand){.tensor = t};
    snprintf(out->label, sizeof out->label, "%s", s->name);
    nd_set_name(t, s->name); /* the graph (nd_graph_dot) shows the same names */
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

/* Evaluates node k into out; `name` names its step (a statement's root) or is NULL. */
static int eval_node(evaluator *ev, int k, operand *out, const char *name) {
    const expr_node *n = &ev->e->nodes[k];
    operand a = {0}, b = {0};
    for (int i = 0; i < n->nargs; i++)
        if (eval_node(ev, n->args[i], i == 0 ? &a : &b, NULL)) return -1;
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
        for (int s = 0; s < ev->statement; s++) /* an intermediate named before */
            if (!strcmp(ev->e->statements[s].name, n->name)) return *out = ev->statements[s], 0;
        return fail_at(ev->err, n->column, "unknown name '%s'", n->name);
    case EXPR_NEGATE:
        if (!a.tensor) return number_operand(out, -a.number), 0;
        return step(ev, nd_neg(a.tensor), n->column, out, name, "-%s", a.label);
    case EXPR_BINARY:
        if (!a.tensor && !b.tensor) return number_operand(out, fold(n->op, a.number, b.number)), 0;
        return step(ev, apply_binary(n->op, &a, &b), n->column, out, name, "%s %c %s", a.label,
                    n->op, b.label);
    case EXPR_CALL: {
        nd_tensor *t = apply_call(n->name, as_tensor(&a), n->nargs > 1 ? as_tensor(&b) : NULL);
        if (n->nargs > 1)
            return step(ev, t, n->column, out, name, "%s(%s, %s)", n->name, a.label, b.label);
        return step(ev, t, n->column, out, name, "%s(%s)", n->name, a.label);
    }
    }
    return -1;
}

nd_tensor *expr_eval(const expr *e, int ninputs, const expr_input *inputs, expr_trace *trace,
                     expr_error *err) {
    *err = (expr_error){0};
    trace->count = 0;
    if (e->nstatements < 1) return fail_at(err, 0, "no expression to evaluate"), NULL;
    operand *values = calloc((size_t)e->nstatements, sizeof *values);
    if (!values) return fail_at(err, 0, "out of memory"), NULL;
    evaluator ev = {.e = e,
                    .ninputs = ninputs,
                    .inputs = inputs,
                    .trace = trace,
                    .err = err,
                    .statements = values};
    for (; ev.statement < e->nstatements; ev.statement++) {
        const expr_statement *st = &e->statements[ev.statement];
        if (eval_node(&ev, st->root, &values[ev.statement], st->name)) break;
    }
    nd_tensor *result =
        ev.statement == e->nstatements ? as_tensor(&values[e->nstatements - 1]) : NULL;
    free(values);
    return result;
}

void expr_trace_free(expr_trace *t) {
    free(t->steps);
    *t = (expr_trace){0};
}
