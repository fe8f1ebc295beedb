/* Errors are values: the thread's last message, set where the error happens. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char error_message[1024];
static _Thread_local bool has_error;
static _Thread_local nd_error_code error_code;  /* ND_OK while has_error is false */
static _Thread_local unsigned long error_count; /* errors raised on this thread so far */

unsigned long nd__error_count(void) {
    return error_count;
}

const char *nd_last_error(void) {
    return has_error ? error_message : NULL;
}

nd_error_code nd_errcode(void) {
    return has_error ? error_code : ND_OK;
}

const char *nd_errcode_name(nd_error_code code) {
    switch (code) {
    case ND_OK:
        return "ok";
    case ND_ERR_ARG:
        return "bad argument";
    case ND_ERR_SHAPE:
        return "shape";
    case ND_ERR_DTYPE:
        return "dtype";
    case ND_ERR_INDEX:
        return "index";
    case ND_ERR_NOMEM:
        return "out of memory";
    case ND_ERR_IO:
        return "I/O";
    case ND_ERR_FORMAT:
        return "format";
    case ND_ERR_NOT_DIFFERENTIABLE:
        return "not differentiable";
    case ND_ERR_NUMERIC:
        return "numeric";
    case ND_ERR_UNSUPPORTED:
        return "unsupported";
    case ND_ERR_EXTERNAL:
        return "external library";
    case ND_ERR_FREED:
        return "freed tensor";
    }
    return "unknown";
}

void nd_clear_error(void) {
    has_error = false;
    error_code = ND_OK;
    error_message[0] = '\0';
}

/* Every error passes here: the message and its code are set together, replacing
 * any earlier error (only nd__null_input keeps one, see there). */
void nd__set_errorv_as(nd_error_code code, const char *fmt, va_list ap) {
    vsnprintf(error_message, sizeof error_message, fmt, ap);
    has_error = true;
    error_code = code == ND_OK ? ND_ERR_ARG : code; /* an error is never "ok" */
    error_count++;
}

void nd__set_error_as(nd_error_code code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    nd__set_errorv_as(code, fmt, ap);
    va_end(ap);
}

const char *nd__strerror(int err) {
    return err == ENOMEM ? "out of memory" : strerror(err);
}

nd_error_code nd__errno_code(int err) {
    return err == ENOMEM ? ND_ERR_NOMEM : ND_ERR_IO;
}

nd_tensor *nd__fail_as(nd_error_code code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    nd__set_errorv_as(code, fmt, ap);
    va_end(ap);
    return NULL;
}

int nd__fail_int_as(nd_error_code code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    nd__set_errorv_as(code, fmt, ap);
    va_end(ap);
    return -1;
}

double nd__fail_nan_as(nd_error_code code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    nd__set_errorv_as(code, fmt, ap);
    va_end(ap);
    return NAN;
}

/* A NULL input is usually an earlier failure being passed on: keep its message
 * and its code, which say what went wrong first. */
nd_tensor *nd__null_input(const char *op) {
    if (!has_error)
        nd__set_error("%s: NULL input", op);
    else
        error_count++; /* still a failure here, keeping the first message */
    return NULL;
}

int nd__null_input_int(const char *op) {
    nd__null_input(op);
    return -1;
}

/* A freed tensor is always the caller's bug, never an earlier error passed on:
 * its message replaces any other. */
bool nd__report_bad_tensor(const char *op, const nd_tensor *t) {
    if (!t) {
        nd__null_input(op);
        return true;
    }
    nd__set_error_as(
        ND_ERR_FREED,
        "%s: this tensor was already freed: it was used after the nd_scope_end of the "
        "scope it was made in (or after its last nd_release). A tensor made between "
        "nd_scope_begin() and nd_scope_end() lives until that nd_scope_end(); to use it "
        "afterwards, pass it to nd_keep(t) before nd_scope_end()",
        op);
    return true;
}

bool nd__any_null(const char *op, int n, nd_tensor *const *ts) {
    for (int i = 0; i < n; i++)
        if (nd__bad_tensor(op, ts[i])) return true;
    return false;
}

const char *nd__shape_str(int ndim, const int64_t *shape) {
    static _Thread_local char buffers[8][ND_MAX_DIMS * 22 + 8];
    static _Thread_local int next;
    char *b = buffers[next];
    next = (next + 1) % 8;
    size_t used = 0, cap = sizeof buffers[0];
    used += (size_t)snprintf(b + used, cap - used, "(");
    for (int i = 0; i < ndim && used < cap; i++)
        used += (size_t)snprintf(b + used, cap - used, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (used < cap) snprintf(b + used, cap - used, ndim == 1 ? ",)" : ")");
    return b;
}

const char *nd__tshape(const nd_tensor *t) {
    return t ? nd__shape_str(t->ndim, t->shape) : "(NULL)";
}
