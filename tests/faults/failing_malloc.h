/* A malloc that fails on request, for the allocation-failure sweep.
 *
 * failing_malloc.c replaces malloc, calloc, realloc, free and the aligned
 * allocators of the whole process and passes every call on to the real
 * allocator (glibc's, or AddressSanitizer's in the sanitizer build). It counts
 * the allocations made on nd's behalf, and can make one of them fail.
 *
 * Which allocations count ("failable" ones): those asked for by nd's libraries
 * (libnd*.so), directly or through a library nd calls for a service and that
 * reports a failed allocation back to nd: the C library (fopen, strdup,
 * vasprintf), libpng, libjpeg and zlib. Everything else — the sweep program
 * itself, libgomp, OpenBLAS, PLplot, cairo, fontconfig, Graphviz, and libpng
 * when cairo calls it — allocates normally: those libraries end the process
 * on a failed allocation or ignore it, by their own policy
 * (README.md, "Out of memory"), so failing them would test them, not nd. */
#ifndef FAILING_MALLOC_H
#define FAILING_MALLOC_H

#include <stdbool.h>

/* Starts counting failable allocations from zero; the n-th one from now on
 * fails (returns NULL with errno ENOMEM). n = 0 fails none. */
void fault_arm(long n);
/* Failable allocations since the last fault_arm. */
long fault_seen(void);
/* Whether the armed failure happened. */
bool fault_fired(void);
/* Failable blocks allocated since the first fault_arm and not yet freed. */
long fault_live_blocks(void);

#endif
