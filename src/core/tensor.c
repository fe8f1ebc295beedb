/* The tensor: storage, layout, reference counts and scopes. */
#include "internal.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* -------------------------------------------------------------- dtypes */

static const size_t dtype_sizes[] = {1, 1, 4, 8, 4, 8};
static const char *const dtype_names[] = {"bool", "uint8", "int32", "int64", "float32", "float64"};

static bool dtype_valid(nd_dtype d) {
    return (unsigned)d <= ND_F64;
}

size_t nd_dtype_size(nd_dtype dtype) {
    return dtype_valid(dtype) ? dtype_sizes[dtype] : 0;
}
const char *nd_dtype_name(nd_dtype dtype) {
    return dtype_valid(dtype) ? dtype_names[dtype] : "invalid";
}
bool nd__is_float(nd_dtype dtype) {
    return dtype == ND_F32 || dtype == ND_F64;
}

/* PyTorch's promotion lattice for these six types: bool < u8 < i32 < i64 < f32 < f64,
 * except that u8 with a signed integer needs the signed type (i32/i64 already hold it). */
nd_dtype nd_promote_types(nd_dtype a, nd_dtype b) {
    return a > b ? a : b;
}

/* bool < integers < floats: the kinds of PyTorch's result_type. */
static int kind(nd_dtype dtype) {
    return dtype == ND_BOOL ? 0 : nd__is_float(dtype) ? 2 : 1;
}

nd_dtype nd__result_type_mixed(const nd_tensor *a, const nd_tensor *b) {
    bool a0 = a->ndim == 0, b0 = b->ndim == 0;
    if (a0 == b0) return nd_promote_types(a->dtype, b->dtype);
    const nd_tensor *dimensioned = a0 ? b : a, *zero_d = a0 ? a : b;
    return kind(zero_d->dtype) > kind(dimensioned->dtype) ? zero_d->dtype : dimensioned->dtype;
}

double nd__load(nd_dtype dtype, const void *p) {
    switch (dtype) {
    case ND_BOOL:
        return *(const bool *)p ? 1.0 : 0.0;
    case ND_U8:
        return *(const uint8_t *)p;
    case ND_I32:
        return *(const int32_t *)p;
    case ND_I64:
        return (double)*(const int64_t *)p;
    case ND_F32:
        return *(const float *)p;
    case ND_F64:
        return *(const double *)p;
    }
    return NAN;
}

void nd__store(nd_dtype dtype, void *p, double v) {
    switch (dtype) {
    case ND_BOOL:
        *(bool *)p = v != 0;
        break;
    case ND_U8:
        *(uint8_t *)p = (uint8_t)(nd__to_int64(v) & 0xff);
        break;
    case ND_I32:
        *(int32_t *)p = (int32_t)(uint32_t)(uint64_t)nd__to_int64(v);
        break;
    case ND_I64:
        *(int64_t *)p = nd__to_int64(v);
        break;
    case ND_F32:
        *(float *)p = (float)v;
        break;
    case ND_F64:
        *(double *)p = v;
        break;
    }
}

/* -------------------------------------------------------------- storage */

static nd_storage *storage_new(size_t nbytes) {
    nd_storage *s = nd__pool_alloc(sizeof *s);
    if (!s) return NULL;
    size_t alloc = nbytes ? nbytes : 1;
    void *data = alloc >= ND_LARGE_BLOCK ? nd__large_alloc(alloc) : nd__pool_alloc(alloc);
    if (!data) {
        nd__pool_free(s, sizeof *s);
        return NULL;
    }
    s->data = data;
    s->nbytes = nbytes;
    atomic_init(&s->refcount, 1);
    atomic_init(&s->version, 0);
    return s;
}

static void storage_release(nd_storage *s) {
    if (s && atomic_fetch_sub(&s->refcount, 1) == 1) {
        size_t alloc = s->nbytes ? s->nbytes : 1;
        if (alloc >= ND_LARGE_BLOCK)
            nd__large_free(s->data, alloc);
        else
            nd__pool_free(s->data, alloc);
        nd__pool_free(s, sizeof *s);
    }
}

/* --------------------------------------------------------------- layout */

void nd__contiguous_strides(int ndim, const int64_t *shape, int64_t *strides) {
    int64_t stride = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = stride;
        stride *= shape[i] > 0 ? shape[i] : 1;
    }
}

void nd__finish_layout(nd_tensor *t) {
    int64_t n = 1, expected = 1;
    bool contiguous = true;
    for (int i = t->ndim - 1; i >= 0; i--) {
        n *= t->shape[i];
        if (t->shape[i] != 1 && t->strides[i] != expected) contiguous = false;
        expected *= t->shape[i];
    }
    t->numel = n;
    t->contiguous = contiguous || n == 0;
}

bool nd__check_ndim(const char *op, int ndim, const int64_t *shape) {
    if (ndim < 0 || ndim > ND_MAX_DIMS) {
        nd__set_error_as(ND_ERR_SHAPE, "%s: %d dims requested, at most %d are supported", op, ndim,
                         ND_MAX_DIMS);
        return false;
    }
    if (ndim > 0 && !shape) {
        nd__set_error("%s: NULL shape", op);
        return false;
    }
    return true;
}

bool nd__check_shape(const char *op, int ndim, const int64_t *shape) {
    if (!nd__check_ndim(op, ndim, shape)) return false;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            nd__set_error_as(ND_ERR_SHAPE, "%s: negative size %lld at dim %d of shape %s", op,
                             (long long)shape[i], i, nd__shape_str(ndim, shape));
            return false;
        }
        if (shape[i] && n > INT64_MAX / 16 / shape[i]) {
            nd__set_error_as(ND_ERR_SHAPE, "%s: shape %s has too many elements", op,
                             nd__shape_str(ndim, shape));
            return false;
        }
        n *= shape[i];
    }
    return true;
}

int nd__wrap_dim(const char *op, int dim, int ndim) {
    int n = ndim > 0 ? ndim : 1; /* a 0-d tensor accepts dim 0 and -1, as PyTorch */
    if (dim < -n || dim >= n) {
        nd__set_error_as(ND_ERR_INDEX,
                         "%s: dim %d out of range for a %d-d tensor (expected %d to %d)", op, dim,
                         ndim, -n, n - 1);
        return -1;
    }
    return dim < 0 ? dim + n : dim;
}

bool nd__same_shape(const nd_tensor *a, const nd_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

bool nd__broadcast_shape(const char *op, int na, const int64_t *sa, int nb, const int64_t *sb,
                         int *nout, int64_t *out) {
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int64_t da = i < na ? sa[na - 1 - i] : 1;
        int64_t db = i < nb ? sb[nb - 1 - i] : 1;
        if (da != db && da != 1 && db != 1) {
            nd__set_error_as(
                ND_ERR_SHAPE, "%s: shapes %s and %s do not broadcast at dim %d (%lld vs %lld)", op,
                nd__shape_str(na, sa), nd__shape_str(nb, sb), -1 - i, (long long)da, (long long)db);
            return false;
        }
        out[n - 1 - i] = da == 1 ? db : da;
    }
    *nout = n;
    return true;
}

void nd__broadcast_strides(const nd_tensor *t, int ndim, const int64_t *shape, int64_t *strides) {
    int lead = ndim - t->ndim;
    for (int i = 0; i < ndim; i++) {
        int j = i - lead;
        strides[i] = (j < 0 || (t->shape[j] == 1 && shape[i] != 1)) ? 0 : t->strides[j];
    }
}

/* ------------------------------------------------- scopes and lifetimes */

typedef struct scope {
    nd_tensor **items;
    size_t count, cap;
} scope;

static _Thread_local scope *scopes;   /* scopes[0] is the root scope */
static _Thread_local int scope_depth; /* number of open scopes above the root */
static _Thread_local int scope_cap;

static bool scopes_ready(void) {
    if (scopes) return true;
    scopes = calloc(8, sizeof *scopes);
    if (!scopes) return false;
    scope_cap = 8;
    return true;
}

/* A training loop without a scope per step keeps every step's tensors alive
 * until the program ends: memory grows until it runs out. A scope that grows
 * past `scope_warn_limit` live tensors says so once, on stderr. The check runs
 * only when a scope's list grows (doubles), so the hot path pays nothing. */
#define SCOPE_WARN_DEFAULT ((size_t)100000)
#define SCOPE_WARN_UNSET   SIZE_MAX
static _Atomic size_t scope_warn_limit = SCOPE_WARN_UNSET;
static atomic_bool scope_warned;

void nd_set_scope_warning(size_t limit) {
    atomic_store(&scope_warn_limit, limit);
    atomic_store(&scope_warned, false);
}

/* The limit: nd_set_scope_warning's, else ND_SCOPE_WARNING from the environment
 * (0 silences it), else SCOPE_WARN_DEFAULT. */
static size_t scope_warning_limit(void) {
    size_t limit = atomic_load(&scope_warn_limit);
    if (limit != SCOPE_WARN_UNSET) return limit;
    const char *env = getenv("ND_SCOPE_WARNING");
    char *end = NULL;
    unsigned long long parsed = env ? strtoull(env, &end, 10) : 0;
    limit = env && end != env && *end == '\0' ? (size_t)parsed : SCOPE_WARN_DEFAULT;
    atomic_store(&scope_warn_limit, limit);
    return limit;
}

static void warn_scope_growth(size_t live) {
    size_t limit = scope_warning_limit();
    if (limit == 0 || live < limit || atomic_exchange(&scope_warned, true)) return;
    fprintf(stderr,
            "nd: warning: %zu tensors are alive in one scope (%s), and it keeps growing. In a "
            "loop, give each step its own scope: nd_scope_begin(); ... nd_scope_end(); frees "
            "that step's tensors (nd_keep(t) hands one to the enclosing scope). Silence this "
            "with ND_SCOPE_WARNING=0 or nd_set_scope_warning(0).\n",
            live,
            scope_depth == 0 ? "the outermost one: no nd_scope_begin is open"
                             : "the innermost nd_scope_begin");
}

bool nd__scope_add(nd_tensor *t) {
    if (!scopes_ready()) return false;
    scope *s = &scopes[scope_depth];
    if (s->count == s->cap) {
        warn_scope_growth(s->count);
        size_t cap = s->cap ? s->cap * 2 : 64;
        nd_tensor **items = realloc(s->items, cap * sizeof *items);
        if (!items) return false;
        s->items = items;
        s->cap = cap;
    }
    s->items[s->count++] = t;
    return true;
}

/* Scopes that could not open for want of memory: their nd_scope_end closes
 * nothing, and their tensors belong to the enclosing scope (a nested scope
 * opened after one of them closes one nd_scope_end late: later, never early). */
static _Thread_local int unopened_scopes;

static void scope_not_opened(void) {
    unopened_scopes++;
    nd__set_error_as(ND_ERR_NOMEM,
                     "nd_scope_begin: out of memory (tensors go to the enclosing scope)");
}

void nd_scope_begin(void) {
    if (!scopes_ready()) {
        scope_not_opened();
        return;
    }
    if (scope_depth + 1 == scope_cap) {
        scope *grown = realloc(scopes, (size_t)scope_cap * 2 * sizeof *grown);
        if (!grown) {
            scope_not_opened();
            return;
        }
        memset(grown + scope_cap, 0, (size_t)scope_cap * sizeof *grown);
        scopes = grown;
        scope_cap *= 2;
    }
    scope_depth++;
    scopes[scope_depth].count = 0;
}

static void scope_clear(scope *s) {
    /* Released in reverse order of creation: results before their inputs. */
    while (s->count > 0) nd_release(s->items[--s->count]);
}

void nd_scope_end(void) {
    if (unopened_scopes > 0) {
        unopened_scopes--;
        return;
    }
    if (!scopes || scope_depth == 0) return; /* nothing open: a harmless no-op */
    scope_clear(&scopes[scope_depth]);
    scope_depth--;
}

nd_tensor *nd_keep(nd_tensor *t) {
    if (!t || nd__bad_tensor("nd_keep", t)) return NULL;
    if (scope_depth == 0) return t; /* the root scope already outlives everything */
    scope_depth--;
    bool kept = nd__scope_add(nd_retain(t));
    scope_depth++;
    if (!kept) { /* t stays in the current scope, which frees it */
        atomic_fetch_sub(&t->refcount, 1);
        return nd__fail_as(ND_ERR_NOMEM, "nd_keep: out of memory");
    }
    return t;
}

nd_tensor *nd_retain(nd_tensor *t) {
    if (t && nd__bad_tensor("nd_retain", t)) return NULL;
    if (t) atomic_fetch_add(&t->refcount, 1);
    return t;
}

/* Freeing a long chain (10^5 recorded ops) must not recurse once per op: the
 * tensors whose count reached zero wait on an explicit stack, linked through
 * the tensors themselves so that freeing never needs memory. */
static _Thread_local nd_tensor *free_stack;
static _Thread_local bool freeing;

static void push_free(nd_tensor *t) {
    t->next_free = free_stack;
    free_stack = t;
}

static void drop(nd_tensor *t) {
    if (t && atomic_fetch_sub(&t->refcount, 1) == 1) push_free(t);
}

/* Nodes whose count reached zero wait on their own stack: a node may hold
 * another (an in-place write's view keeps its earlier node, ops/inplace.c),
 * and freeing one must not recurse. */
static _Thread_local nd_node *node_free_stack;

static void node_drop(nd_node *n) {
    if (!n || atomic_fetch_sub(&n->refcount, 1) != 1) return;
    n->next_free = node_free_stack;
    node_free_stack = n;
}

static void free_node(nd_node *n) {
    for (int i = 0; i < n->nin; i++) drop(n->in[i]);
    drop(n->out_data);
    drop(n->grad_acc);
    if (n->p.free_ptr) n->p.free_ptr(n->p.ptr);
    if (n->in != n->in_small) {
        free(n->in);
        free(n->in_node);
        free(n->in_version);
    }
    nd__pool_free(n, sizeof *n);
}

/* Debug builds keep the last QUARANTINE freed headers out of the pool, so a
 * tensor used after its scope ended still reads ND_TENSOR_DEAD (the pool hands
 * the latest freed block out first: without this, the next new tensor would
 * take the dead one's place and the mistake would go unseen). Release builds
 * check the same mark, which stays until the block is reused. */
#ifndef NDEBUG
#define QUARANTINE 1024
static _Thread_local nd_tensor **quarantine; /* a ring of QUARANTINE headers */
static _Thread_local size_t quarantine_next, quarantine_count;
static pthread_key_t quarantine_key;
static pthread_once_t quarantine_once = PTHREAD_ONCE_INIT;

static void quarantine_flush(void) {
    if (!quarantine) return;
    for (size_t i = 0; i < quarantine_count; i++) nd__pool_free(quarantine[i], sizeof(nd_tensor));
    pthread_setspecific(quarantine_key, NULL);
    free(quarantine);
    quarantine = NULL;
    quarantine_next = quarantine_count = 0;
}
/* At a thread's exit the pool may already be gone: free the headers themselves. */
static void quarantine_at_exit(void *ring) {
    for (size_t i = 0; i < quarantine_count; i++) free(quarantine[i]);
    free(ring);
    quarantine = NULL;
    quarantine_next = quarantine_count = 0;
}
static void make_quarantine_key(void) {
    pthread_key_create(&quarantine_key, quarantine_at_exit);
}

static void header_free(nd_tensor *t) {
    if (!quarantine) {
        quarantine = malloc(QUARANTINE * sizeof *quarantine);
        if (!quarantine) {
            nd__pool_free(t, sizeof *t);
            return;
        }
        pthread_once(&quarantine_once, make_quarantine_key);
        pthread_setspecific(quarantine_key, quarantine);
    }
    if (quarantine_count == QUARANTINE)
        nd__pool_free(quarantine[quarantine_next], sizeof *t);
    else
        quarantine_count++;
    quarantine[quarantine_next] = t;
    quarantine_next = (quarantine_next + 1) % QUARANTINE;
}
#else
static void quarantine_flush(void) {}
static void header_free(nd_tensor *t) {
    nd__pool_free(t, sizeof *t);
}
#endif

static void free_tensor(nd_tensor *t) {
    node_drop(t->node);
    drop(t->grad);
    drop(t->tangent);
    drop(t->base);
    storage_release(t->storage);
    free(t->name);
    t->live = ND_TENSOR_DEAD;
    header_free(t);
}

static void drain(void) {
    if (freeing) return; /* an outer drain is running and will take these */
    freeing = true;
    while (free_stack || node_free_stack) {
        if (free_stack) {
            nd_tensor *t = free_stack;
            free_stack = t->next_free;
            free_tensor(t);
        } else {
            nd_node *n = node_free_stack;
            node_free_stack = n->next_free;
            free_node(n);
        }
    }
    freeing = false;
}

void nd_release(nd_tensor *t) {
    if (t && nd__bad_tensor("nd_release", t)) return; /* freed already: never twice */
    drop(t);
    drain();
}

void nd__node_release(nd_node *n) {
    node_drop(n);
    drain();
}

void nd_shutdown(void) {
    unopened_scopes = 0;
    if (!scopes) {
        nd__pool_trim();
        return;
    }
    for (int d = scope_depth; d >= 0; d--) {
        scope_clear(&scopes[d]);
        free(scopes[d].items);
    }
    /* Scopes closed earlier keep their item arrays for reuse: free those too. */
    for (int d = scope_depth + 1; d < scope_cap; d++) free(scopes[d].items);
    free(scopes);
    scopes = NULL;
    scope_depth = scope_cap = 0;
    quarantine_flush();
    nd__pool_trim();
    nd_clear_error();
}

/* ---------------------------------------------------------- construction */

static nd_tensor *header_new(nd_dtype dtype, int ndim, const int64_t *shape) {
    nd_tensor *t = nd__pool_alloc(sizeof *t);
    if (!t) return NULL;
    t->dtype = dtype;
    t->ndim = ndim;
    if (ndim) memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->offset = 0;
    t->storage = NULL;
    atomic_init(&t->refcount, 1);
    t->requires_grad = false;
    t->node = NULL;
    t->grad = NULL;
    t->tangent = NULL;
    t->base = NULL;
    t->base_version = 0;
    t->name = NULL;
    t->live = ND_TENSOR_LIVE;
    return t;
}

nd_tensor *nd__empty(nd_dtype dtype, int ndim, const int64_t *shape) {
    if (!dtype_valid(dtype))
        return nd__fail_as(ND_ERR_DTYPE, "nd_empty: invalid dtype %d", (int)dtype);
    if (!nd__check_shape("nd_empty", ndim, shape)) return NULL;
    nd_tensor *t = header_new(dtype, ndim, shape);
    if (!t) return nd__fail_as(ND_ERR_NOMEM, "nd_empty: out of memory");
    nd__contiguous_strides(ndim, shape, t->strides);
    nd__finish_layout(t);
    t->storage = storage_new((size_t)t->numel * dtype_sizes[dtype]);
    if (!t->storage) {
        size_t bytes = (size_t)t->numel * dtype_sizes[dtype];
        nd__pool_free(t, sizeof *t);
        return nd__fail_as(ND_ERR_NOMEM,
                           "nd_empty: out of memory allocating %zu bytes for shape %s", bytes,
                           nd__shape_str(ndim, shape));
    }
    if (!nd__scope_add(t)) {
        nd_release(t);
        return nd__fail_as(ND_ERR_NOMEM, "nd_empty: out of memory");
    }
    return t;
}

nd_tensor *nd__zeros(nd_dtype dtype, int ndim, const int64_t *shape) {
    nd_tensor *t = nd__empty(dtype, ndim, shape);
    if (t) memset(t->storage->data, 0, t->storage->nbytes);
    return t;
}

nd_tensor *nd__alias(const nd_tensor *base, int ndim, const int64_t *shape, const int64_t *strides,
                     int64_t offset) {
    nd_tensor *t = header_new(base->dtype, ndim, shape);
    if (!t) return nd__fail_as(ND_ERR_NOMEM, "nd_view: out of memory");
    if (ndim) memcpy(t->strides, strides, (size_t)ndim * sizeof *strides);
    t->offset = offset;
    t->storage = base->storage;
    atomic_fetch_add(&base->storage->refcount, 1);
    nd__finish_layout(t);
    if (!nd__scope_add(t)) {
        nd_release(t);
        return nd__fail_as(ND_ERR_NOMEM, "nd_view: out of memory");
    }
    return t;
}

nd_tensor *nd__view(nd_tensor *of, int ndim, const int64_t *shape, const int64_t *strides,
                    int64_t offset) {
    nd_tensor *t = nd__alias(of, ndim, shape, strides, offset);
    if (!t) return NULL;
    t->base = nd_retain(of->base ? of->base : of);
    t->base_version = atomic_load(&of->storage->version);
    return t;
}

/* ---------------------------------------------------------- inspection */

int nd_ndim(const nd_tensor *t) {
    return nd__bad_tensor("nd_ndim", t) ? -1 : t->ndim;
}
const int64_t *nd_shape(const nd_tensor *t) {
    return nd__bad_tensor("nd_shape", t) ? NULL : t->shape;
}
const int64_t *nd_strides(const nd_tensor *t) {
    return nd__bad_tensor("nd_strides", t) ? NULL : t->strides;
}
int64_t nd_numel(const nd_tensor *t) {
    return nd__bad_tensor("nd_numel", t) ? -1 : t->numel;
}
nd_dtype nd_type(const nd_tensor *t) {
    return t ? t->dtype : ND_F32;
}
bool nd_is_contiguous(const nd_tensor *t) {
    return t && t->contiguous;
}
bool nd_shares_storage(const nd_tensor *a, const nd_tensor *b) {
    return a && b && a->storage == b->storage;
}

int64_t nd_size(const nd_tensor *t, int dim) {
    if (nd__bad_tensor("nd_size", t)) return -1;
    if (t->ndim == 0) return nd__fail_int_as(ND_ERR_SHAPE, "nd_size: a 0-d tensor has no dims");
    int d = nd__wrap_dim("nd_size", dim, t->ndim);
    return d < 0 ? -1 : t->shape[d];
}

double nd__get_flat(const nd_tensor *t, int64_t linear) {
    int64_t offset = t->offset;
    for (int i = t->ndim - 1; i >= 0; i--) {
        int64_t size = t->shape[i];
        offset += (linear % size) * t->strides[i];
        linear /= size;
    }
    return nd__load(t->dtype, (char *)t->storage->data + (size_t)offset * dtype_sizes[t->dtype]);
}

double nd_item(const nd_tensor *t) {
    if (nd__bad_tensor("nd_item", t)) return NAN;
    nd_clear_error(); /* NAN may be the value: an error set after this is this call's */
    if (t->numel != 1)
        return nd__fail_nan_as(ND_ERR_SHAPE,
                               "nd_item: a tensor of shape %s has %lld elements, not one",
                               nd__tshape(t), (long long)t->numel);
    return nd__get_flat(t, 0);
}

double nd_get(const nd_tensor *t, const int64_t *index) {
    if (nd__bad_tensor("nd_get", t)) return NAN;
    nd_clear_error(); /* NAN may be the value: an error set after this is this call's */
    if (t->ndim && !index) return nd__fail_nan("nd_get: NULL index");
    int64_t offset = t->offset;
    for (int i = 0; i < t->ndim; i++) {
        int64_t k = index[i] < 0 ? index[i] + t->shape[i] : index[i];
        if (k < 0 || k >= t->shape[i])
            return nd__fail_nan_as(ND_ERR_INDEX,
                                   "nd_get: index %lld out of range for dim %d of size %lld",
                                   (long long)index[i], i, (long long)t->shape[i]);
        offset += k * t->strides[i];
    }
    return nd__load(t->dtype, (char *)t->storage->data + (size_t)offset * dtype_sizes[t->dtype]);
}

void *nd_data(nd_tensor *t) {
    if (nd__bad_tensor("nd_data", t)) return NULL;
    if (!t->contiguous)
        return nd__fail("nd_data: tensor of shape %s is not contiguous (call nd_contiguous first)",
                        nd__tshape(t));
    return nd__ptr(t);
}

nd_tensor *nd_set_name(nd_tensor *t, const char *name) {
    if (nd__bad_tensor("nd_set_name", t)) return NULL;
    free(t->name);
    t->name = name ? strdup(name) : NULL;
    return t;
}

const char *nd_name(const nd_tensor *t) {
    return t ? t->name : NULL;
}

char *nd_shape_string(const nd_tensor *t) {
    if (nd__bad_tensor("nd_shape_string", t)) return NULL;
    return strdup(nd__tshape(t));
}
