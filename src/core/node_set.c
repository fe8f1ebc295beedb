/* A set of graph nodes, for walks over a graph (backward's topological sort,
 * an in-place write's look at its source's history): open addressing on the
 * node's address. Kept apart from the nodes, so that a walk leaves no mark
 * on a graph that other walks (another thread's backward) may share. */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>

static size_t slot_of(const nd_node *n, size_t cap) {
    uintptr_t h = (uintptr_t)n >> 6; /* nodes are 64-byte aligned (the pool) */
    h *= (uintptr_t)0x9e3779b97f4a7c15u;
    return (size_t)(h >> 7) & (cap - 1);
}

static bool grow_to(nd__node_set *s, size_t cap) {
    nd_node **slots = calloc(cap, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i < s->cap; i++) {
        nd_node *n = s->slots[i];
        if (!n) continue;
        size_t j = slot_of(n, cap);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = n;
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return true;
}

static bool grow(nd__node_set *s) {
    return grow_to(s, s->cap ? s->cap * 2 : 256);
}

bool nd__node_set_reserve(nd__node_set *s, size_t n) {
    size_t cap = 256;
    while (cap < 2 * n) cap *= 2;
    return cap <= s->cap || grow_to(s, cap);
}

int nd__node_set_add(nd__node_set *s, nd_node *n) {
    if (2 * (s->count + 1) > s->cap && !grow(s)) return -1; /* at most half full */
    size_t j = slot_of(n, s->cap);
    for (; s->slots[j]; j = (j + 1) & (s->cap - 1))
        if (s->slots[j] == n) return 0;
    s->slots[j] = n;
    s->count++;
    return 1;
}

void nd__node_set_free(nd__node_set *s) {
    free(s->slots);
    *s = (nd__node_set){0};
}
