/* What `nd autodiff` does with an evaluated expression beyond the parser,
 * shared by the program (cli/autodiff.c) and the browser page
 * (web/nd_web_autodiff.c) so that both show the same: forward accumulation
 * (one forward-mode pass per element of an input, giving every node's
 * derivative with respect to it) and the finiteness check of a node. */
#include "expr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool expr_all_finite(nd_tensor *t) {
    nd_tensor *flat = nd_contiguous(nd_to(nd_detach(t), ND_F64));
    const double *v = flat ? nd_data(flat) : NULL;
    for (int64_t i = 0; v && i < nd_numel(flat); i++)
        if (!isfinite(v[i])) return false;
    return v != NULL;
}

int expr_forward_accumulation(const expr *e, int ninputs, const expr_input *inputs, int which,
                              const expr_trace *trace, nd_tensor **derivatives) {
    nd_tensor *input = inputs[which].value;
    int64_t n = nd_numel(input);
    nd_tensor **tangents = calloc((size_t)(trace->count * n) + 1, sizeof *tangents);
    expr_input *dual = malloc(sizeof *dual * (size_t)(ninputs ? ninputs : 1));
    expr_trace pass = {0};
    expr_error err;
    bool grad_mode = nd_set_grad_enabled(false); /* forward mode needs no graph */
    int rc = tangents && dual ? 0 : -1;
    if (dual) memcpy(dual, inputs, sizeof *dual * (size_t)ninputs);
    for (int64_t j = 0; j < n && rc == 0; j++) {
        nd_tensor *direction = nd_zeros_like(input); /* the j-th unit vector */
        nd_fill_(nd_select(nd_reshape(direction, 1, (int64_t[]){n}), 0, j), 1.0);
        dual[which].value = nd_make_dual(nd_detach(input), direction);
        if (!expr_eval(e, ninputs, dual, &pass, &err) || pass.count != trace->count) rc = -1;
        for (int k = 0; k < pass.count && rc == 0; k++) {
            nd_tensor *t = nd_tangent(pass.steps[k].value);
            tangents[k * n + j] = t ? t : nd_zeros_like(pass.steps[k].value);
        }
    }
    nd_set_grad_enabled(grad_mode);
    for (int k = 0; k < trace->count && rc == 0; k++) {
        nd_tensor *node = trace->steps[k].value;
        /* node shape + input shape (a 0-d input adds no dim) */
        int64_t shape[2 * ND_MAX_DIMS];
        int nn = nd_ndim(node), ni = nd_ndim(input);
        memcpy(shape, nd_shape(node), sizeof(int64_t) * (size_t)nn);
        memcpy(shape + nn, nd_shape(input), sizeof(int64_t) * (size_t)ni);
        nd_tensor *stacked = nd_stack((int)n, tangents + k * n, nn); /* node shape + (n,) */
        derivatives[k] = nd_reshape(stacked, nn + ni, shape);
        if (!derivatives[k]) rc = -1;
    }
    free(tangents);
    free(dual);
    expr_trace_free(&pass);
    return rc;
}
