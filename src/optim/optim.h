/*
 * optim.h — what SGD and Adam share: the optimizer object and the bookkeeping
 * around one in-place update (grad mode off, contiguous data, version bump).
 *
 * An optimizer owns its parameters and its state through nd_retain, never
 * through a scope, so a training step inside nd_scope_begin/end can create
 * state on the first step and keep it for the next ones.
 */
#ifndef ND_OPTIM_H
#define ND_OPTIM_H

#include "../core/internal.h"

/* One parameter's update over contiguous data of n elements: p and g point at
 * the values of the parameter and of its gradient (same dtype), state[0..1] at
 * the optimizer's buffers for it (NULL when the optimizer keeps none). */
typedef void (*nd_update_fn)(nd_optim *o, int index, nd_dtype dtype, int64_t n, void *p,
                             const void *g, void *state0, void *state1);

struct nd_optim {
    const char *name; /* "nd_sgd", "nd_adam": how messages name the optimizer */
    int n;
    nd_tensor **params; /* owned references */
    /* Per-parameter buffers (owned references), created zero on the first step
     * that sees a gradient: momentum for SGD, the two moments for Adam. */
    int nstate;
    nd_tensor **state[2];
    int64_t *steps; /* per-parameter step counts (Adam's bias correction) */
    double lr;
    nd_sgd_opts sgd;
    nd_adam_opts adam;
    nd_update_fn update;
};

/* Checks the parameters (non-NULL, leaves that require a gradient, distinct)
 * and builds the optimizer with nstate buffers per parameter; NULL and an error
 * naming `name` otherwise. */
nd_optim *nd__optim_new(const char *name, int n, nd_tensor *const *params, int nstate,
                        nd_update_fn update);

#endif
