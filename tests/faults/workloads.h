/* The workloads of the allocation-failure sweep: small runs through each part
 * of nd. Each returns 0 and a digest of everything it computed (a hash of the
 * results' bytes), or -1 with nd_last_error() saying why; on either path it
 * frees what it made (frames, optimizers, plots, strings) and closes the
 * scopes it opened. */
#ifndef WORKLOADS_H
#define WORKLOADS_H

#include <stdint.h>

typedef struct {
    const char *name;
    int (*run)(uint64_t *digest);
} workload;

/* Makes the input files the workloads read (a CSV file) in dir and remembers
 * dir for their output files. 0 or -1. */
int workloads_setup(const char *dir);
/* Removes dir and the files the workloads wrote there. */
void workloads_cleanup(void);

extern const workload workloads[];
extern const int workload_count;

#endif
