/* libFuzzer target for the expression language of `nd autodiff` (cli/expr.c,
 * compiled into this target): any text must parse or give an error with a
 * column, never a crash, a leak or undefined behaviour. An expression that
 * parses is then run as the program runs it: names checked against the inputs,
 * evaluated with nd ops, and differentiated when it gives one number. The
 * first byte picks the inputs' shapes, so shape errors are explored too. */
#include "expr.h"

#include <nd.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The inputs: x, w (vectors or matrices), y (a number or a vector). */
static int make_inputs(uint8_t pick, expr_input *inputs) {
    static const char *const literals[][3] = {
        {"[1, 2, 3]", "[0.5, -1, 2]", "2"},
        {"[[1, 2], [3, 4]]", "[[0.5], [-1]]", "[1, 0]"},
        {"[1.5]", "[[2, 0], [0, 2]]", "[-3, 3]"},
        {"[0.25, -0.5]", "[1, 1]", "0"},
    };
    static const char *const names[] = {"x", "w", "y"};
    const char *const *chosen = literals[pick % 4];
    for (int i = 0; i < 3; i++) {
        nd_tensor *t = nd_to(nd_parse(chosen[i]), ND_F32);
        inputs[i] = (expr_input){names[i], nd_set_name(nd_set_requires_grad(t, true), names[i])};
        if (!inputs[i].value) return -1;
    }
    return 3;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t pick = size > 0 ? data[0] : 0;
    if (size > 0) data++, size--;
    char *text = malloc(size + 1); /* expr_parse reads a C string */
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    expr e;
    expr_error err;
    if (expr_parse(text, &e, &err) == 0) {
        nd_scope_begin();
        expr_input inputs[3];
        bool used[3];
        expr_trace trace = {0};
        int n = make_inputs(pick, inputs);
        if (n < 0) abort(); /* the inputs are fixed and valid */
        if (expr_check_names(&e, n, inputs, used, &err) == 0) {
            nd_tensor *z = expr_eval(&e, n, inputs, &trace, &err);
            if (z && nd_numel(z) == 1 && nd_requires_grad(z) && nd_backward(z) == 0)
                for (int i = 0; i < n; i++) free(nd_format(nd_grad(inputs[i].value)));
            if (z) free(nd_format(z));
        }
        expr_trace_free(&trace);
        nd_scope_end();
        expr_free(&e);
    } else if (err.message[0] == '\0') {
        abort(); /* an error must say what is wrong */
    }
    nd_clear_error();
    free(text);
    return 0;
}
