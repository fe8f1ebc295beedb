/* A malloc that fails on request (see failing_malloc.h).
 *
 * This file defines malloc, free and the rest of the family in the sweep
 * program itself. The dynamic linker looks symbols up in the program before
 * any library, so every library of the process — libnd, libpng, libc's own
 * fopen — calls these, and they call the real allocator found next in line
 * (glibc's, or AddressSanitizer's, which then still sees every block).
 *
 * Whether an allocation is failable is decided by who asked for it: the
 * return address of the call to malloc lies in some library's code. The
 * libraries nd calls for a service — the C library, libpng, libjpeg, zlib,
 * LAPACKE (whose own allocations would print to stderr when they fail: nd
 * calls only its functions that allocate nothing), and the sanitizer runtime
 * wrapping libc — are looked through, by walking the
 * stack, to the code that called into them: the allocation is failable when
 * that is nd's (libnd*.so). Anything else allocates normally, also libpng
 * when cairo calls it for PLplot. */
#define _GNU_SOURCE
#include "failing_malloc.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------ the real allocator */

static struct {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*memalign)(size_t, size_t);
} real;

/* dlsym may allocate while it finds the real functions: those few blocks come
 * from here and are never freed. */
static _Alignas(64) char bootstrap[1 << 14];
static size_t bootstrap_used;
static bool resolving;

static void *bootstrap_alloc(size_t size) {
    size_t start = (bootstrap_used + 63) & ~(size_t)63;
    if (start + size > sizeof bootstrap) return NULL;
    bootstrap_used = start + size;
    return bootstrap + start;
}

static bool from_bootstrap(const void *p) {
    return (const char *)p >= bootstrap && (const char *)p < bootstrap + sizeof bootstrap;
}

/* The first call happens while the dynamic linker starts the program, before
 * any thread exists. */
static void resolve(void) {
    resolving = true;
    *(void **)&real.malloc = dlsym(RTLD_NEXT, "malloc");
    *(void **)&real.calloc = dlsym(RTLD_NEXT, "calloc");
    *(void **)&real.realloc = dlsym(RTLD_NEXT, "realloc");
    *(void **)&real.posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    *(void **)&real.memalign = dlsym(RTLD_NEXT, "memalign");
    *(void **)&real.free = dlsym(RTLD_NEXT, "free");
    resolving = false;
}

/* ------------------------------------------- who asked for the memory */

typedef enum { PLAIN, FAILABLE, LOOK_THROUGH } owner;

typedef struct {
    uintptr_t lo, hi; /* a library's code, [lo, hi) */
    owner kind;
} code_range;

static code_range ranges[512];
static int range_count;

static owner owner_of_library(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    static const char *const failable[] = {"libnd.so", "libnd_"};
    static const char *const look_through[] = {"libc.so", "libasan", "libubsan",  "libpng",
                                               "libjpeg", "libz.so", "liblapacke"};
    for (size_t i = 0; i < sizeof failable / sizeof *failable; i++)
        if (strncmp(base, failable[i], strlen(failable[i])) == 0) return FAILABLE;
    for (size_t i = 0; i < sizeof look_through / sizeof *look_through; i++)
        if (strncmp(base, look_through[i], strlen(look_through[i])) == 0) return LOOK_THROUGH;
    return PLAIN; /* this program, libgomp, OpenBLAS, PLplot, ... */
}

static int add_library(struct dl_phdr_info *info, size_t size, void *unused) {
    (void)size, (void)unused;
    owner kind = owner_of_library(info->dlpi_name ? info->dlpi_name : "");
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || kind == PLAIN) continue;
        if (range_count == (int)(sizeof ranges / sizeof *ranges)) return 1;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        ranges[range_count++] = (code_range){lo, lo + ph->p_memsz, kind};
    }
    return 0;
}

/* Code not in the table (this program, libraries loaded later) is PLAIN. */
static owner owner_of(const void *return_address) {
    uintptr_t a = (uintptr_t)return_address - 1; /* inside the call instruction */
    for (int i = 0; i < range_count; i++)
        if (a >= ranges[i].lo && a < ranges[i].hi) return ranges[i].kind;
    return PLAIN;
}

static bool failable(void *caller) {
    owner who = owner_of(caller);
    if (who != LOOK_THROUGH) return who == FAILABLE;
    void *frames[64];
    int n = backtrace(frames, 64);
    int i = 0;
    while (i < n && frames[i] != caller) i++; /* skip this file's frames */
    for (; i < n; i++) {
        who = owner_of(frames[i]);
        if (who != LOOK_THROUGH) return who == FAILABLE;
    }
    return false;
}

/* ------------------------------------------ the failable blocks alive */

/* Which failable blocks are taken and not yet given back, so that a run's
 * leaks are counted exactly (the libraries that allocate normally keep caches
 * that grow and shrink from one run to the next). An open-addressing set of
 * pointers, linear probing, under a spin lock (a block may be freed on
 * another thread). */
#define LIVE_BITS  18
#define LIVE_SLOTS ((size_t)1 << LIVE_BITS)
static void *live_set[LIVE_SLOTS];
static long live_count;
static atomic_flag live_lock = ATOMIC_FLAG_INIT;

static size_t slot_of(const void *p) {
    return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> (64 - LIVE_BITS));
}

static void lock(void) {
    while (atomic_flag_test_and_set_explicit(&live_lock, memory_order_acquire)) continue;
}
static void unlock(void) {
    atomic_flag_clear_explicit(&live_lock, memory_order_release);
}

static void live_add(void *p) {
    lock();
    if (live_count < (long)LIVE_SLOTS / 2) { /* else: stop tracking rather than fill up */
        size_t i = slot_of(p);
        while (live_set[i]) i = (i + 1) & (LIVE_SLOTS - 1);
        live_set[i] = p;
        live_count++;
    }
    unlock();
}

/* Takes p out of the set; false when it was not in it. */
static bool live_remove(void *p) {
    lock();
    size_t i = slot_of(p);
    while (live_set[i] && live_set[i] != p) i = (i + 1) & (LIVE_SLOTS - 1);
    bool found = live_set[i] != NULL;
    if (found) {
        live_set[i] = NULL;
        live_count--;
        /* move later entries of the probe run into the hole, where they belong */
        for (size_t j = (i + 1) & (LIVE_SLOTS - 1); live_set[j]; j = (j + 1) & (LIVE_SLOTS - 1)) {
            size_t home = slot_of(live_set[j]);
            bool stays = i < j ? (home > i && home <= j) : (home > i || home <= j);
            if (!stays) {
                live_set[i] = live_set[j];
                live_set[j] = NULL;
                i = j;
            }
        }
    }
    unlock();
    return found;
}

/* ------------------------------------------------------------ counting */

static atomic_bool counting;       /* from the first fault_arm on */
static atomic_long seen;           /* failable allocations since fault_arm */
static atomic_long fail_at;        /* which one fails; 0: none */
static atomic_bool fired;          /* it did */
static _Thread_local bool in_hook; /* the stack walk may itself allocate */
static bool trace;                 /* ALLOC_SWEEP_TRACE set: print where one fails */

void fault_arm(long n) {
    if (!atomic_load(&counting)) {
        in_hook = true;
        dl_iterate_phdr(add_library, NULL);
        void *warm[4];
        backtrace(warm, 4); /* loads the unwinder now, not inside a counted call */
        in_hook = false;
        trace = getenv("ALLOC_SWEEP_TRACE") != NULL;
    }
    atomic_store(&fail_at, n);
    atomic_store(&seen, 0);
    atomic_store(&fired, false);
    atomic_store(&counting, true);
}

long fault_seen(void) {
    return atomic_load(&seen);
}
bool fault_fired(void) {
    return atomic_load(&fired);
}
long fault_live_blocks(void) {
    lock();
    long n = live_count;
    unlock();
    return n;
}

typedef enum { PASS = 0, TRACK = 1, FAIL = -1 } verdict;

/* What to do with an allocation: pass it on (not failable, or before any
 * fault_arm), pass it on and track the block (failable), or fail it. */
static verdict judge(void *caller) {
    if (!atomic_load_explicit(&counting, memory_order_relaxed) || in_hook) return PASS;
    in_hook = true;
    bool counted = failable(caller);
    in_hook = false;
    if (!counted) return PASS;
    if (atomic_fetch_add(&seen, 1) + 1 != atomic_load(&fail_at)) return TRACK;
    atomic_store(&fired, true);
    if (trace) { /* for debugging: the stack of the failing call, on stderr */
        void *frames[32];
        in_hook = true;
        backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
        in_hook = false;
    }
    errno = ENOMEM;
    return FAIL;
}

static void *track(verdict v, void *p) {
    if (p && v == TRACK) live_add(p);
    return p;
}

/* ------------------------------------------- the replaced functions */

static void *allocate(void *caller, size_t size) {
    if (!real.malloc) {
        if (resolving) return bootstrap_alloc(size);
        resolve();
    }
    verdict v = judge(caller);
    return v == FAIL ? NULL : track(v, real.malloc(size));
}

void *malloc(size_t size) {
    return allocate(__builtin_return_address(0), size);
}

void *calloc(size_t n, size_t size) {
    if (!real.calloc) {
        if (resolving) return bootstrap_alloc(n * size); /* static memory is zero */
        resolve();
    }
    verdict v = judge(__builtin_return_address(0));
    return v == FAIL ? NULL : track(v, real.calloc(n, size));
}

static void *reallocate(void *caller, void *p, size_t size) {
    if (!p) return allocate(caller, size);
    if (from_bootstrap(p)) { /* rare: grow a dlsym block into real memory */
        void *q = allocate(caller, size);
        size_t left = (size_t)(bootstrap + sizeof bootstrap - (char *)p);
        if (q) memcpy(q, p, size < left ? size : left);
        return q;
    }
    if (size == 0) { /* frees, as glibc's realloc does */
        free(p);
        return NULL;
    }
    verdict v = judge(caller);
    if (v == FAIL) return NULL;
    bool tracked = live_remove(p);
    void *q = real.realloc(p, size);
    if (q || tracked) track(tracked ? TRACK : v, q ? q : p);
    return q;
}

void *realloc(void *p, size_t size) {
    return reallocate(__builtin_return_address(0), p, size);
}

void *reallocarray(void *p, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return reallocate(__builtin_return_address(0), p, n * size);
}

void free(void *p) {
    if (!p || from_bootstrap(p)) return;
    if (!real.free) resolve();
    live_remove(p);
    real.free(p);
}

static void *aligned(void *caller, size_t alignment, size_t size) {
    if (!real.memalign) resolve();
    verdict v = judge(caller);
    return v == FAIL ? NULL : track(v, real.memalign(alignment, size));
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (!real.posix_memalign) resolve();
    verdict v = judge(__builtin_return_address(0));
    if (v == FAIL) return ENOMEM;
    int rc = real.posix_memalign(out, alignment, size);
    if (rc == 0) track(v, *out);
    return rc;
}

void *aligned_alloc(size_t alignment, size_t size) {
    return aligned(__builtin_return_address(0), alignment, size);
}
void *memalign(size_t alignment, size_t size) {
    return aligned(__builtin_return_address(0), alignment, size);
}
void *valloc(size_t size) {
    return aligned(__builtin_return_address(0), (size_t)sysconf(_SC_PAGESIZE), size);
}
void *pvalloc(size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return aligned(__builtin_return_address(0), page, (size + page - 1) / page * page);
}

/* The sanitizer runtime has its own strdup that would bypass the functions
 * above; these keep every block on one count. */
char *strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = allocate(__builtin_return_address(0), n);
    return copy ? memcpy(copy, s, n) : NULL;
}

char *strndup(const char *s, size_t max) {
    size_t n = strnlen(s, max);
    char *copy = allocate(__builtin_return_address(0), n + 1);
    if (!copy) return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}
