/* What every optimizer shares: checking and owning the parameters, the step
 * loop (skip parameters without a gradient, update the rest in place), zeroing
 * gradients, the learning rate, and freeing. The update rules themselves are
 * in sgd.c and adam.c. */
#include "optim.h"

#include <math.h>
#include <stdlib.h>

static void optim_destroy(nd_optim *o) {
    if (!o) return;
    for (int i = 0; i < o->n; i++) {
        if (o->params) nd_release(o->params[i]);
        for (int s = 0; s < o->nstate; s++)
            if (o->state[s]) nd_release(o->state[s][i]);
    }
    free(o->params);
    free(o->state[0]);
    free(o->state[1]);
    free(o->steps);
    free(o);
}

static int check_params(const char *name, int n, nd_tensor *const *params) {
    if (n <= 0 || !params) return nd__fail_int("%s: got an empty parameter list", name);
    for (int i = 0; i < n; i++) {
        nd_tensor *p = params[i];
        if (!p) return nd__fail_int("%s: parameter %d is NULL", name, i);
        if (p->node)
            return nd__fail_int_as(ND_ERR_NOT_DIFFERENTIABLE,
                                   "%s: parameter %d (shape %s) is not a leaf (it was made by "
                                   "'%s'); optimize the tensors it was computed from",
                                   name, i, nd__tshape(p), p->node->op->name);
        if (!p->requires_grad)
            return nd__fail_int_as(ND_ERR_NOT_DIFFERENTIABLE,
                                   "%s: parameter %d (shape %s) does not require a gradient "
                                   "(call nd_set_requires_grad(p, true) first)",
                                   name, i, nd__tshape(p));
        for (int j = 0; j < i; j++)
            if (params[j] == p)
                return nd__fail_int("%s: parameter %d is the same tensor as parameter %d "
                                    "(it would be updated twice)",
                                    name, i, j);
    }
    return 0;
}

nd_optim *nd__optim_new(const char *name, int n, nd_tensor *const *params, int nstate,
                        nd_update_fn update) {
    if (check_params(name, n, params)) return NULL;
    nd_optim *o = calloc(1, sizeof *o);
    if (!o) {
        nd__set_error_as(ND_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    o->name = name;
    o->nstate = nstate;
    o->update = update;
    o->params = calloc((size_t)n, sizeof *o->params);
    o->steps = calloc((size_t)n, sizeof *o->steps);
    bool ok = o->params && o->steps;
    for (int s = 0; s < nstate && ok; s++) {
        o->state[s] = calloc((size_t)n, sizeof *o->state[s]);
        ok = o->state[s] != NULL;
    }
    if (!ok) {
        optim_destroy(o);
        nd__set_error_as(ND_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    o->n = n;
    for (int i = 0; i < n; i++) o->params[i] = nd_retain(params[i]);
    return o;
}

/* The gradient as the update loops read it: contiguous, in the parameter's dtype. */
static nd_tensor *usable_grad(nd_optim *o, nd_tensor *p) {
    nd_tensor *g = p->grad;
    if (g->numel != p->numel || !nd__same_shape(g, p))
        return nd__fail_as(ND_ERR_SHAPE,
                           "%s: the gradient of shape %s does not match its parameter of shape %s",
                           o->name, nd__tshape(g), nd__tshape(p));
    if (g->dtype != p->dtype) g = nd_to(g, p->dtype);
    if (g && !g->contiguous) g = nd_contiguous(g);
    return g;
}

static int step_one(nd_optim *o, int i) {
    nd_tensor *p = o->params[i];
    nd_tensor *g = usable_grad(o, p);
    if (!g) return -1;
    for (int s = 0; s < o->nstate; s++)
        if (!o->state[s][i]) {
            /* the scope's reference goes at its end; the optimizer keeps its own */
            nd_tensor *buffer = nd__zeros(p->dtype, p->ndim, p->shape);
            if (!buffer) return -1;
            o->state[s][i] = nd_retain(buffer);
        }
    /* A strided parameter (a view) is updated through a contiguous copy. */
    nd_tensor *work = p->contiguous ? p : nd_contiguous(p);
    if (!work) return -1;
    o->steps[i]++;
    o->update(o, i, p->dtype, p->numel, nd__ptr(work), nd__ptr(g),
              o->nstate > 0 ? nd__ptr(o->state[0][i]) : NULL,
              o->nstate > 1 ? nd__ptr(o->state[1][i]) : NULL);
    if (work != p && nd_copy_(p, work)) return -1;
    nd__bump_version(p);
    return 0;
}

int nd_optim_step(nd_optim *o) {
    if (!o) return nd__fail_int("nd_optim_step: NULL optimizer");
    int rc = 0;
    nd_scope_begin(); /* conversions and copies die here; the state is retained */
    bool previous = nd_set_grad_enabled(false);
    for (int i = 0; i < o->n && rc == 0; i++)
        if (o->params[i]->grad) rc = step_one(o, i); /* no gradient: skipped, as PyTorch */
    nd_set_grad_enabled(previous);
    nd_scope_end();
    return rc;
}

/* Zeros rather than freeing the gradients (PyTorch's set_to_none=False): a
 * gradient pointer the user still holds stays valid. */
void nd_optim_zero_grad(nd_optim *o) {
    if (!o) {
        nd__set_error("nd_optim_zero_grad: NULL optimizer");
        return;
    }
    for (int i = 0; i < o->n; i++) {
        nd_tensor *g = o->params[i]->grad;
        if (!g) continue;
        if (g->node || g->requires_grad) {
            /* a gradient made under create_graph is part of a graph: start a fresh one */
            nd_scope_begin();
            nd_tensor *zeros = nd__zeros(g->dtype, g->ndim, g->shape);
            if (zeros) {
                o->params[i]->grad = nd_retain(zeros);
                nd_release(g);
            }
            nd_scope_end();
        } else if (g->contiguous) {
            memset(nd__ptr(g), 0, (size_t)g->numel * nd_dtype_size(g->dtype));
            nd__bump_version(g);
        } else {
            nd_fill_(g, 0.0);
        }
    }
}

/* A zero rate is allowed here (a schedule may end at 0), a negative one is not. */
void nd_optim_set_lr(nd_optim *o, double lr) {
    if (!o) {
        nd__set_error("nd_optim_set_lr: NULL optimizer");
        return;
    }
    if (!(lr >= 0) || isinf(lr)) {
        nd__set_error("%s: invalid learning rate %g (must be >= 0 and finite); kept %g", o->name,
                      lr, o->lr);
        return;
    }
    o->lr = lr;
}

double nd_optim_lr(const nd_optim *o) {
    if (!o) return nd__fail_nan("nd_optim_lr: NULL optimizer");
    return o->lr;
}

void nd_optim_free(nd_optim *o) {
    optim_destroy(o);
}
