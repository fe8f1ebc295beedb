/* The computation graph behind a tensor, as Graphviz DOT text: ops as boxes,
 * leaves as ellipses, edges from inputs to the ops that use them. Leaves that
 * need no gradient are drawn grey and dashed: the branches backward prunes.
 * Each node shows its name, op, shape and, when it has at most
 * GRAPH_MAX_VALUES elements, its values, as the slides' graphs do. */
#include "../core/internal.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    char *text;
    size_t len, cap;
    bool failed;
} buffer;

static void append(buffer *b, const char *fmt, ...) ND_PRINTF(2, 3);
static void append(buffer *b, const char *fmt, ...) {
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int need = vsnprintf(b->text + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (need < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)need < b->cap - b->len) {
            b->len += (size_t)need;
            return;
        }
        size_t cap = (b->cap + (size_t)need + 1) * 2;
        char *grown = realloc(b->text, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->text = grown;
        b->cap = cap;
    }
}

/* A DOT string literal body: quotes and backslashes escaped. */
static const char *escaped(const char *s) {
    static _Thread_local char out[256];
    size_t k = 0;
    for (; s && *s && k + 2 < sizeof out; s++) {
        if (*s == '"' || *s == '\\') out[k++] = '\\';
        out[k++] = *s;
    }
    out[k] = '\0';
    return out;
}

#define GRAPH_MAX_VALUES 8

/* "12.25", "[7, 14, 21]" or "[[1, 2], [3, 4]]": dimension dim onwards, from
 * the element at C-order index *next. */
static void append_values(buffer *b, const nd_tensor *t, int dim, int64_t *next) {
    if (dim == t->ndim) {
        append(b, "%.4g", nd__get_flat(t, (*next)++));
        return;
    }
    append(b, "[");
    for (int64_t i = 0; i < t->shape[dim]; i++) {
        if (i) append(b, ", ");
        append_values(b, t, dim + 1, next);
    }
    append(b, "]");
}

/* The values line of a node's label ("\n[7, 14, 21]"), or nothing for a big tensor. */
static void append_value_line(buffer *b, const nd_tensor *t) {
    if (t->numel > GRAPH_MAX_VALUES || !t->storage) return;
    int64_t next = 0;
    append(b, "\\n");
    append_values(b, t, 0, &next);
}

typedef struct {
    const nd_tensor **items;
    size_t count, cap;
} tensor_set;

static long index_of(const tensor_set *s, const nd_tensor *t) {
    for (size_t i = 0; i < s->count; i++)
        if (s->items[i] == t) return (long)i;
    return -1;
}

static long add(tensor_set *s, const nd_tensor *t) {
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        const nd_tensor **grown = realloc(s->items, cap * sizeof *grown);
        if (!grown) return -1;
        s->items = grown;
        s->cap = cap;
    }
    s->items[s->count] = t;
    return (long)s->count++;
}

static void describe(buffer *b, long id, const nd_tensor *t, bool is_root) {
    const char *shape = nd__tshape(t);
    if (t->node) {
        const char *name = t->name ? escaped(t->name) : "";
        append(b,
               "  t%ld [shape=box, style=\"rounded,filled\", fillcolor=\"%s\", "
               "label=\"%s%s%s\\n%s",
               id, is_root ? "#c6dbef" : "#deebf7", name, t->name ? " = " : "", t->node->op->name,
               shape);
    } else if (t->requires_grad) {
        append(b,
               "  t%ld [shape=ellipse, style=filled, fillcolor=\"#fdd0a2\", "
               "label=\"%s\\n%s\\nrequires grad",
               id, t->name ? escaped(t->name) : "leaf", shape);
    } else {
        append(b,
               "  t%ld [shape=ellipse, style=dashed, color=\"#969696\", fontcolor=\"#636363\", "
               "label=\"%s\\n%s\\nno grad",
               id, t->name ? escaped(t->name) : "const", shape);
    }
    append_value_line(b, t);
    append(b, "\"];\n");
}

char *nd_graph_dot(const nd_tensor *root) {
    if (!root) return (nd__null_input("nd_graph_dot"), NULL);
    buffer b = {0};
    tensor_set seen = {0};
    append(&b, "digraph nd {\n  rankdir=BT;\n  node [fontname=\"Helvetica\", fontsize=11];\n"
               "  edge [color=\"#525252\", arrowsize=0.7];\n");
    if (add(&seen, root) < 0) b.failed = true;
    /* breadth-first over tensors: the set doubles as the queue */
    for (size_t k = 0; k < seen.count && !b.failed; k++) {
        const nd_tensor *t = seen.items[k];
        describe(&b, (long)k, t, k == 0);
        if (!t->node) continue;
        for (int i = 0; i < t->node->nin; i++) {
            const nd_tensor *in = t->node->in[i];
            if (!in) continue;
            long id = index_of(&seen, in);
            if (id < 0) id = add(&seen, in);
            if (id < 0) {
                b.failed = true;
                break;
            }
            append(&b, "  t%ld -> t%ld%s;\n", id, (long)k,
                   in->requires_grad ? "" : " [style=dashed, color=\"#969696\"]");
        }
    }
    append(&b, "}\n");
    free(seen.items);
    if (b.failed) {
        free(b.text);
        nd__set_error_as(ND_ERR_NOMEM, "nd_graph_dot: out of memory");
        return NULL;
    }
    return b.text;
}
