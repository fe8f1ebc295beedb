/* Recycling of small blocks per thread. A training step makes and frees the
 * same few hundred tensor headers, graph nodes and small buffers again and
 * again; handing them back to malloc each time costs more than the arithmetic
 * on small tensors (W4 of BENCHMARKS.md). Blocks of up to 8 KiB are kept on a
 * per-thread stack per size class and reused; everything else goes to malloc.
 * Sanitizer builds bypass the pool so use-after-free and leaks stay visible. */
#include "internal.h"

#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define ND_POOL_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ND_POOL_DISABLED 1
#endif
#endif

#define POOL_CLASSES 8 /* 64, 128, ..., 8192 bytes */
#define POOL_DEPTH 512 /* blocks kept per class */

typedef struct {
    void *items[POOL_DEPTH];
    int count;
} pool;

static _Thread_local pool pools[POOL_CLASSES];

static int class_of(size_t size) {
    size_t capacity = 64;
    for (int k = 0; k < POOL_CLASSES; k++, capacity <<= 1)
        if (size <= capacity) return k;
    return -1;
}

void *nd__pool_alloc(size_t size) {
    int k = class_of(size);
#ifndef ND_POOL_DISABLED
    if (k >= 0 && pools[k].count > 0) return pools[k].items[--pools[k].count];
#endif
    size_t bytes = k >= 0 ? (size_t)64 << k : (size + 63) & ~(size_t)63;
    void *p = NULL;
    return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}

void nd__pool_free(void *p, size_t size) {
    if (!p) return;
#ifndef ND_POOL_DISABLED
    int k = class_of(size);
    if (k >= 0 && pools[k].count < POOL_DEPTH) {
        pools[k].items[pools[k].count++] = p;
        return;
    }
#else
    (void)size;
#endif
    free(p);
}

void nd__pool_trim(void) {
    for (int k = 0; k < POOL_CLASSES; k++) {
        while (pools[k].count > 0) free(pools[k].items[--pools[k].count]);
    }
}
