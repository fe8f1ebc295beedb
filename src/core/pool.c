/* Recycling of small blocks per thread. A training step makes and frees the
 * same few hundred tensor headers, graph nodes and small buffers again and
 * again; handing them back to malloc each time costs more than the arithmetic
 * on small tensors (W4 of BENCHMARKS.md), and a fresh buffer of a few hundred
 * KiB costs page faults each time malloc returns it to the kernel. Blocks of up
 * to 1 MiB are kept on a per-thread stack per size class (powers of two) and
 * reused, up to 32 MiB in all per thread; everything else goes to malloc.
 * Sanitizer builds bypass the pool so use-after-free and leaks stay visible. */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define ND_POOL_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ND_POOL_DISABLED 1
#endif
#endif

#define POOL_CLASSES 15                 /* 64, 128, ..., 1 MiB */
#define POOL_BUDGET  ((size_t)32 << 20) /* bytes kept per thread at most */

typedef struct {
    void **items; /* grown as needed: a step may free thousands of headers at once */
    size_t count, cap;
} pool;

static _Thread_local pool pools[POOL_CLASSES];
static _Thread_local size_t pooled_bytes;

#ifndef ND_POOL_DISABLED
/* What a thread may keep: POOL_BUDGET, or nothing after nd__pool_keep(false). */
static size_t pool_budget = POOL_BUDGET;
#endif

static int class_of(size_t size) {
    size_t capacity = 64;
    for (int k = 0; k < POOL_CLASSES; k++, capacity <<= 1)
        if (size <= capacity) return k;
    return -1;
}

void *nd__pool_alloc(size_t size) {
    int k = class_of(size);
#ifndef ND_POOL_DISABLED
    if (k >= 0 && pools[k].count > 0) {
        pooled_bytes -= (size_t)64 << k;
        return pools[k].items[--pools[k].count];
    }
#endif
    size_t bytes = k >= 0 ? (size_t)64 << k : (size + 63) & ~(size_t)63;
    void *p = NULL;
    return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}

#ifndef ND_POOL_DISABLED
/* A thread that ends hands its cache back: the key's destructor runs at exit. */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static _Thread_local bool exit_registered;
static void trim_at_exit(void *unused) {
    (void)unused;
    nd__pool_trim();
}
static void make_exit_key(void) {
    pthread_key_create(&exit_key, trim_at_exit);
}

static void register_exit(void) {
    if (!exit_registered) {
        pthread_once(&exit_once, make_exit_key);
        pthread_setspecific(exit_key, &exit_registered);
        exit_registered = true;
    }
}

static bool make_room(pool *q) {
    register_exit();
    if (q->count < q->cap) return true;
    size_t cap = q->cap ? q->cap * 2 : 256;
    void **grown = realloc(q->items, cap * sizeof *grown);
    if (!grown) return false;
    q->items = grown;
    q->cap = cap;
    return true;
}

#endif

void nd__pool_free(void *p, size_t size) {
    if (!p) return;
#ifndef ND_POOL_DISABLED
    int k = class_of(size);
    if (k >= 0 && pooled_bytes + ((size_t)64 << k) <= pool_budget && make_room(&pools[k])) {
        pools[k].items[pools[k].count++] = p;
        pooled_bytes += (size_t)64 << k;
        return;
    }
#else
    (void)size;
#endif
    free(p);
}

/* ------------------------------------------------------- large blocks */

#define HUGE_PAGE ((size_t)2 << 20)
/* Large buffers freed recently are kept for the next one of the same size (a
 * training loop or a benchmark makes the same big result again and again): a
 * reused block costs no page faults, a fresh one faults in every page. At most
 * LARGE_CACHE_BYTES per thread; sanitizer builds keep nothing. */
#define LARGE_CACHE_SLOTS 4
#define LARGE_CACHE_BYTES ((size_t)128 << 20)
#ifndef ND_POOL_DISABLED
static size_t large_budget = LARGE_CACHE_BYTES; /* 0 after nd__pool_keep(false) */
#endif
typedef struct {
    void *data;
    size_t bytes;
} large_block;
static _Thread_local large_block large_cache[LARGE_CACHE_SLOTS];
static _Thread_local size_t large_cached_bytes;

static size_t huge_rounded(size_t bytes) {
    return (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
}

void *nd__large_alloc(size_t bytes) {
    size_t rounded = huge_rounded(bytes);
    for (int i = 0; i < LARGE_CACHE_SLOTS; i++)
        if (large_cache[i].data && large_cache[i].bytes == rounded) {
            void *data = large_cache[i].data;
            large_cache[i].data = NULL;
            large_cached_bytes -= rounded;
            return data;
        }
    void *data = NULL;
    if (posix_memalign(&data, HUGE_PAGE, rounded) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(data, rounded, MADV_HUGEPAGE);
#endif
    return data;
}

void nd__large_free(void *data, size_t bytes) {
#ifndef ND_POOL_DISABLED
    register_exit();
    size_t rounded = huge_rounded(bytes);
    if (rounded <= large_budget) {
        for (int i = 0; i < LARGE_CACHE_SLOTS; i++) /* make room: drop cached blocks */
            if (large_cache[i].data && large_cached_bytes + rounded > large_budget) {
                free(large_cache[i].data);
                large_cached_bytes -= large_cache[i].bytes;
                large_cache[i].data = NULL;
            }
        for (int i = 0; i < LARGE_CACHE_SLOTS; i++)
            if (!large_cache[i].data && large_cached_bytes + rounded <= large_budget) {
                large_cache[i] = (large_block){data, rounded};
                large_cached_bytes += rounded;
                return;
            }
    }
#else
    (void)bytes;
#endif
    free(data);
}

static void large_trim(void) {
    for (int i = 0; i < LARGE_CACHE_SLOTS; i++) {
        free(large_cache[i].data);
        large_cache[i].data = NULL;
    }
    large_cached_bytes = 0;
}

void nd__pool_trim(void) {
    large_trim();
    for (int k = 0; k < POOL_CLASSES; k++) {
        while (pools[k].count > 0) free(pools[k].items[--pools[k].count]);
        free(pools[k].items);
        pools[k].items = NULL;
        pools[k].cap = 0;
    }
    pooled_bytes = 0;
}

void nd__pool_keep(bool keep) {
#ifndef ND_POOL_DISABLED
    pool_budget = keep ? POOL_BUDGET : 0;
    large_budget = keep ? LARGE_CACHE_BYTES : 0;
#else
    (void)keep;
#endif
    nd__pool_trim();
}
