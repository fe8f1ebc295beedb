/* The expressions of `nd autodiff`: "(dot(x,w)-y)^2" parsed into a small tree,
 * then evaluated with nd ops, so that autograd records the graph. Every op that
 * makes a tensor is one step of the trace, in evaluation order.
 *
 * A text may be several statements, "a = dot(x, w); b = a - y; z = b^2" (';' or
 * a new line between them): each names an intermediate, and the last one is the
 * output. A statement's result takes its name; the steps inside it are v1, v2, ... */
#ifndef ND_EXPR_H
#define ND_EXPR_H

#include <nd.h>
#include <stdbool.h>

typedef enum { EXPR_NUMBER, EXPR_NAME, EXPR_NEGATE, EXPR_BINARY, EXPR_CALL } expr_kind;

typedef struct {
    expr_kind kind;
    int column;    /* 1-based: where the node starts (the operator, for a binary node) */
    double number; /* EXPR_NUMBER */
    char name[32]; /* EXPR_NAME: the input; EXPR_CALL: the function */
    char op;       /* EXPR_BINARY: '+', '-', '*', '/' or '^' */
    int nargs;
    int args[2]; /* indices of the operands in expr.nodes */
} expr_node;

/* One statement: "a = dot(x, w)" has the name "a" (column 1) and its tree's
 * root; its nodes are nodes[first_node .. the next statement's first_node). */
typedef struct {
    char name[32]; /* the output's name for the last statement ("z" by default) */
    int column;    /* where the statement starts */
    int root, first_node;
} expr_statement;

typedef struct {
    expr_node *nodes;
    int count, capacity;
    int root;        /* the last statement's: the output */
    char output[32]; /* "z" unless the last statement is "NAME = ..." */
    expr_statement *statements;
    int nstatements, statements_capacity;
} expr;

/* Where the text went wrong (column 1-based, 0 when no column applies) and why. */
typedef struct {
    int column;
    char message[512];
} expr_error;

/* 0, or -1 with err set. */
int expr_parse(const char *text, expr *e, expr_error *err);
void expr_free(expr *e);

typedef struct {
    const char *name;
    nd_tensor *value;
} expr_input;

/* 0 when every name in e is one of the inputs or an intermediate named before
 * it, and no intermediate takes an input's name; else -1 with err at the
 * leftmost problem. used[i] (optional) says whether input i appears. */
int expr_check_names(const expr *e, int ninputs, const expr_input *inputs, bool *used,
                     expr_error *err);

/* One op of the evaluation: its name ("a", or "v1" inside a statement), its
 * value (whose nd_name is the same, for the graph) and how it was computed,
 * e.g. "a - y". */
typedef struct {
    nd_tensor *value;
    char text[160];
    char name[32];
} expr_step;

typedef struct {
    expr_step *steps;
    int count, capacity;
} expr_trace;

/* Evaluates e with nd ops, naming each step's tensor (see expr_step); the result
 * (a new 0-d tensor when the expression is a number alone). NULL on failure:
 * err->column points at the op that failed and the message is nd's. */
nd_tensor *expr_eval(const expr *e, int ninputs, const expr_input *inputs, expr_trace *trace,
                     expr_error *err);
void expr_trace_free(expr_trace *t);

/* Whether every element of t is a finite number (cli/expr_passes.c). */
bool expr_all_finite(nd_tensor *t);

/* Forward accumulation (cli/expr_passes.c): one forward-mode pass per element
 * of input `which`; derivatives[k] is node k's derivative with respect to it,
 * in the tensor layout (node shape + input shape), for each of trace's
 * trace->count nodes. 0, or -1 + nd_last_error(). */
int expr_forward_accumulation(const expr *e, int ninputs, const expr_input *inputs, int which,
                              const expr_trace *trace, nd_tensor **derivatives);

#endif
