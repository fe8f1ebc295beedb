/* Checkpoints: a training run in one safetensors file, so that a run stopped
 * and resumed ends bit-identical to one that never stopped.
 *
 * What a run needs to go on exactly as before is more than its parameters:
 * the optimizer's buffers (SGD's momentum, Adam's two moments), its step
 * counts (Adam's bias correction, SGD's "first step" rule), its current
 * learning rate, and where the run is (the epoch, from which a schedule
 * computes the rate and nd_batches_set_epoch the batch order). The file holds
 *
 *     <name>                     each tensor the caller names (parameters, a 0-d epoch)
 *     optim.lr                   0-d float64
 *     optim.<name>.step          0-d int64, per optimizer parameter
 *     optim.<name>.momentum_buffer            SGD with momentum
 *     optim.<name>.exp_avg, .exp_avg_sq       Adam
 *
 * PyTorch's names for the same state, so that the file reads naturally there
 * too. An optimizer's parameter is named by the name of the same tensor among
 * those saved; a buffer not made yet (no step so far) is not written, and not
 * expected back. Loading checks every entry before changing anything, so a
 * file that does not fit leaves the run as it was. */
#include "optim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "optim."

/* The optimizer's buffer names, in state[] order. */
static const char *buffer_name(const nd_optim *o, int s) {
    if (o->nstate == 1) return "momentum_buffer";
    return s == 0 ? "exp_avg" : "exp_avg_sq";
}

/* Which of the n tensors is the optimizer's parameter i; -1 + error if none. */
static int param_slot(const char *op, const nd_optim *o, int i, int n, nd_tensor *const *tensors) {
    for (int k = 0; k < n; k++)
        if (tensors[k] == o->params[i]) return k;
    return nd__fail_int("%s: the optimizer's parameter %d (shape %s) is not among the %d tensors "
                        "given: pass it with a name",
                        op, i, nd__tshape(o->params[i]), n);
}

static int check_args(const char *op, const char *path, int n, const char *const *names,
                      nd_tensor *const *tensors) {
    if (!path) return nd__fail_int("%s: NULL path", op);
    if (n < 0 || (n > 0 && (!names || !tensors)))
        return nd__fail_int("%s: %s: %d tensors but no names or no tensors", op, path, n);
    for (int i = 0; i < n; i++) {
        if (!names[i] || !tensors[i])
            return nd__fail_int("%s: %s: %s %d is NULL", op, path, names[i] ? "tensor" : "name", i);
        if (!strncmp(names[i], PREFIX, strlen(PREFIX)))
            return nd__fail_int("%s: %s: the name '%s' starts with '" PREFIX
                                "', which is kept for the optimizer's state",
                                op, path, names[i]);
    }
    return 0;
}

/* A growing list of (name, tensor) pairs; the names are malloc'd. */
typedef struct {
    int n, cap;
    char **names;
    nd_tensor **tensors;
} entries;

static int add(entries *e, nd_tensor *t, const char *fmt, const char *a, const char *b) {
    if (!t) return -1;
    if (e->n == e->cap) {
        int cap = e->cap ? 2 * e->cap : 16;
        char **names = realloc(e->names, (size_t)cap * sizeof *names);
        if (names) e->names = names;
        nd_tensor **tensors = realloc(e->tensors, (size_t)cap * sizeof *tensors);
        if (tensors) e->tensors = tensors;
        if (!names || !tensors)
            return nd__fail_int_as(ND_ERR_NOMEM, "nd_checkpoint_save: out of memory");
        e->cap = cap;
    }
    int len = snprintf(NULL, 0, fmt, a, b);
    char *name = malloc((size_t)len + 1);
    if (!name) return nd__fail_int_as(ND_ERR_NOMEM, "nd_checkpoint_save: out of memory");
    snprintf(name, (size_t)len + 1, fmt, a, b);
    e->names[e->n] = name;
    e->tensors[e->n++] = t;
    return 0;
}

int nd_checkpoint_save(const char *path, int n, const char *const *names, nd_tensor *const *tensors,
                       const nd_optim *opt) {
    const char *op = "nd_checkpoint_save";
    if (check_args(op, path, n, names, tensors)) return -1;
    entries e = {0};
    int rc = 0;
    nd_scope_begin(); /* the 0-d tensors made here */
    for (int i = 0; i < n && rc == 0; i++) rc = add(&e, tensors[i], "%s%s", names[i], "");
    if (opt && rc == 0) rc = add(&e, nd_scalar(opt->lr, ND_F64), PREFIX "lr%s%s", "", "");
    for (int i = 0; opt && i < opt->n && rc == 0; i++) {
        int k = param_slot(op, opt, i, n, tensors);
        if (k < 0) {
            rc = -1;
            break;
        }
        nd_tensor *step = nd_from(ND_I64, 0, NULL, &opt->steps[i]);
        rc = add(&e, step, PREFIX "%s.step%s", names[k], "");
        for (int s = 0; s < opt->nstate && rc == 0; s++)
            if (opt->state[s][i])
                rc = add(&e, opt->state[s][i], PREFIX "%s.%s", names[k], buffer_name(opt, s));
    }
    if (rc == 0) rc = nd_save_safetensors(path, e.n, (const char *const *)e.names, e.tensors);
    nd_scope_end();
    for (int i = 0; i < e.n; i++) free(e.names[i]);
    free(e.names);
    free(e.tensors);
    return rc;
}

/* One entry of the file, checked against the tensor it goes into. */
static nd_tensor *load_like(const char *path, const char *name, const nd_tensor *like) {
    nd_tensor *t = nd_load_safetensors(path, name);
    if (!t) return NULL;
    if (t->dtype != like->dtype || !nd__same_shape(t, like))
        return nd__fail_as(t->dtype != like->dtype ? ND_ERR_DTYPE : ND_ERR_SHAPE,
                           "nd_checkpoint_load: %s: '%s' is %s of shape %s in the file, but the "
                           "tensor it goes into is %s of shape %s",
                           path, name, nd_dtype_name(t->dtype), nd__tshape(t),
                           nd_dtype_name(like->dtype), nd__tshape(like));
    return t;
}

/* Whether the file has an entry called name. */
static bool listed(char **list, int count, const char *name) {
    for (int i = 0; i < count; i++)
        if (!strcmp(list[i], name)) return true;
    return false;
}

/* The optimizer's entries the file must have (and may have), loaded into
 * pending[] (steps, buffers) before anything changes. */
typedef struct {
    double lr;
    int64_t *steps;
    nd_tensor **buffers[2];
} optim_state;

static int read_optim(const char *path, int n, const char *const *names, nd_tensor *const *tensors,
                      const nd_optim *o, char **list, int count, optim_state *st) {
    const char *op = "nd_checkpoint_load";
    char key[1024];
    nd_tensor *lr = nd_load_safetensors(path, PREFIX "lr");
    if (!lr || nd_numel(lr) != 1) {
        if (lr) nd__set_error("%s: %s: '" PREFIX "lr' is not one number", op, path);
        return -1;
    }
    st->lr = nd_item(lr);
    /* an entry of another optimizer's kind: the file was written by that one */
    for (int i = 0; i < count; i++) {
        const char *dot = strrchr(list[i], '.');
        if (strncmp(list[i], PREFIX, strlen(PREFIX)) || !dot) continue;
        bool known = !strcmp(dot + 1, "step") || !strcmp(list[i], PREFIX "lr");
        for (int s = 0; s < o->nstate; s++) known = known || !strcmp(dot + 1, buffer_name(o, s));
        if (!known)
            return nd__fail_int("%s: %s: the entry '%s' is not part of %s's state (was the file "
                                "written with another optimizer, or other options?)",
                                op, path, list[i], o->name);
    }
    for (int i = 0; i < o->n; i++) {
        int k = param_slot(op, o, i, n, tensors);
        if (k < 0) return -1;
        snprintf(key, sizeof key, PREFIX "%s.step", names[k]);
        nd_tensor *step = nd_load_safetensors(path, key);
        if (!step || step->dtype != ND_I64 || nd_numel(step) != 1) {
            if (step) nd__set_error("%s: %s: '%s' is not one int64", op, path, key);
            return -1;
        }
        if (nd_read(step, ND_I64, &st->steps[i], sizeof st->steps[i])) return -1;
        if (st->steps[i] < 0)
            return nd__fail_int("%s: %s: '%s' is a negative step count", op, path, key);
        for (int s = 0; s < o->nstate; s++) {
            snprintf(key, sizeof key, PREFIX "%s.%s", names[k], buffer_name(o, s));
            if (!listed(list, count, key)) {
                if (st->steps[i] == 0) continue; /* no step yet: no buffer yet */
                return nd__fail_int("%s: %s: '%s' is missing (the parameter has taken %lld "
                                    "steps)",
                                    op, path, key, (long long)st->steps[i]);
            }
            if (!(st->buffers[s][i] = load_like(path, key, o->params[i]))) return -1;
        }
    }
    return 0;
}

int nd_checkpoint_load(const char *path, int n, const char *const *names, nd_tensor *const *tensors,
                       nd_optim *opt) {
    const char *op = "nd_checkpoint_load";
    if (check_args(op, path, n, names, tensors)) return -1;
    char **list = NULL;
    int count = nd_safetensors_names(path, &list); /* checks the whole file once */
    if (count < 0) return -1;
    int rc = 0;
    optim_state st = {0};
    nd_tensor **loaded = calloc((size_t)(n > 0 ? n : 1), sizeof *loaded);
    if (opt) {
        st.steps = calloc((size_t)opt->n, sizeof *st.steps);
        for (int s = 0; s < opt->nstate; s++)
            st.buffers[s] = calloc((size_t)opt->n, sizeof *st.buffers[s]);
        if (!st.steps || (opt->nstate > 0 && !st.buffers[0]) || (opt->nstate > 1 && !st.buffers[1]))
            rc = nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory", op);
    }
    if (!loaded) rc = nd__fail_int_as(ND_ERR_NOMEM, "%s: out of memory", op);
    nd_scope_begin(); /* what is read dies here; the optimizer retains its buffers */
    for (int i = 0; i < n && rc == 0; i++)
        if (!(loaded[i] = load_like(path, names[i], tensors[i]))) rc = -1;
    if (opt && rc == 0) rc = read_optim(path, n, names, tensors, opt, list, count, &st);
    /* everything read and checked: now the run takes it */
    bool previous = nd_set_grad_enabled(false);
    for (int i = 0; i < n && rc == 0; i++) {
        rc = nd_copy_(tensors[i], loaded[i]);
        nd__bump_version(tensors[i]);
    }
    for (int i = 0; opt && i < opt->n && rc == 0; i++) {
        opt->steps[i] = st.steps[i];
        for (int s = 0; s < opt->nstate; s++) {
            nd_release(opt->state[s][i]);
            opt->state[s][i] = st.buffers[s][i] ? nd_retain(st.buffers[s][i]) : NULL;
        }
    }
    if (opt && rc == 0) opt->lr = st.lr;
    nd_set_grad_enabled(previous);
    nd_scope_end();
    free(loaded);
    free(st.steps);
    free(st.buffers[0]);
    free(st.buffers[1]);
    free(list);
    return rc;
}
