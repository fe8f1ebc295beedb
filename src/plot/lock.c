/* The lock of lock.h, shared by figures (plot.c) and graphs (graph.c). */
#include "lock.h"

#include <pthread.h>

static pthread_mutex_t drawing = PTHREAD_MUTEX_INITIALIZER;

void nd__drawing_begin(void) {
    pthread_mutex_lock(&drawing);
}

void nd__drawing_end(void) {
    pthread_mutex_unlock(&drawing);
}
