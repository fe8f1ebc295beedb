/* The transport's alpha and beta for docs/SCALING.md: the time of a message
 * of n bytes is modelled as T(n) = alpha + n·beta (alpha: the latency of one
 * message, beta: seconds per byte, 1/bandwidth). Measured by ping-pong between
 * ranks 0 and 1 (half a round trip, the median) at sizes from 8 bytes to 8 MiB;
 * alpha is the time of the smallest message, beta the least-squares slope
 * over 64 KiB to 2 MiB, where the bandwidth term dominates. (Larger messages
 * travel in many fragments, each a chance for a process that polls and yields
 * to lose its core for a scheduler tick on a machine shared with other work:
 * there the times measure the machine's load, not the transport.) Then the
 * allreduce of n bytes of float32, as MPI_Allreduce and as nd's non-blocking
 * allreduce (nd_dist_allreduce_start + wait, what the DDP buckets use),
 * beside the ring model's prediction 2(p-1)·alpha + 2(p-1)/p·n·beta.
 *
 *   mpirun -np 2 --mca btl self,vader bench_allreduce   (shared memory)
 *   mpirun -np 2 --mca btl self,tcp   bench_allreduce   (TCP, over loopback)
 *
 * Prints one line per size on rank 0, then alpha and beta. */
#include "bench.h"

#include <nd.h>
#include <nd_dist.h>
#include <mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MIN_LOG2 = 3, MAX_LOG2 = 23, FIT_FROM_LOG2 = 16, FIT_TO_LOG2 = 21 };

/* Repetitions: enough for ~0.2 s of traffic per size, at least 5. */
static int reps_for(size_t bytes) {
    double guess = 5e-6 + (double)bytes * 2e-10;
    int reps = (int)(0.2 / guess);
    return reps < 5 ? 5 : reps > 2000 ? 2000 : reps;
}

/* Half the median round trip between ranks 0 and 1 (others wait). */
static double ping_pong(char *buf, size_t bytes, int reps) {
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    double *times = malloc(sizeof(double) * (size_t)reps);
    for (int r = -2; r < reps; r++) { /* two warm-up trips */
        MPI_Barrier(MPI_COMM_WORLD);
        double start = bench_now();
        if (rank == 0) {
            MPI_Send(buf, (int)bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
            MPI_Recv(buf, (int)bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else if (rank == 1) {
            MPI_Recv(buf, (int)bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(buf, (int)bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
        }
        if (r >= 0) times[r] = (bench_now() - start) / 2;
    }
    double t = bench_median(times, reps);
    free(times);
    return t;
}

/* The median time of an allreduce of n floats (the slowest rank's). */
static double allreduce_time(float *buf, nd_tensor *t, int64_t n, int reps, bool nd_path) {
    double *times = malloc(sizeof(double) * (size_t)reps);
    for (int r = -2; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double start = bench_now();
        if (nd_path) {
            nd_dist_work *w = nd_dist_allreduce_start(t, ND_RED_SUM);
            if (!w || nd_dist_wait(w)) fprintf(stderr, "bench_allreduce: %s\n", nd_last_error());
        } else {
            MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        }
        double mine = bench_now() - start, slowest;
        MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        if (r >= 0) times[r] = slowest;
    }
    double time = bench_median(times, reps);
    free(times);
    return time;
}

int main(int argc, char **argv) {
    if (nd_dist_init(&argc, &argv)) {
        fprintf(stderr, "bench_allreduce: %s\n", nd_last_error());
        return 1;
    }
    int rank = nd_dist_rank(), p = nd_dist_size();
    if (p < 2) {
        fprintf(stderr, "bench_allreduce: run it under mpirun -np 2 (or more)\n");
        nd_dist_finalize();
        return 2;
    }
    nd_set_num_threads(1);
    nd_dist_set_checked(false); /* the transport, not nd's shape check */
    size_t max_bytes = (size_t)1 << MAX_LOG2;
    char *buf = calloc(max_bytes, 1);
    double sizes[MAX_LOG2 + 1], pp[MAX_LOG2 + 1];
    int count = 0;
    if (rank == 0) printf("%12s %14s\n", "bytes", "one_way_us");
    for (int lg = MIN_LOG2; lg <= MAX_LOG2; lg++) {
        size_t bytes = (size_t)1 << lg;
        sizes[count] = (double)bytes;
        pp[count] = ping_pong(buf, bytes, reps_for(bytes));
        if (rank == 0) printf("%12zu %14.2f\n", bytes, pp[count] * 1e6);
        count++;
    }
    /* alpha: the smallest message; beta: least squares over the large ones */
    double alpha = pp[0], sx = 0, sy = 0, sxx = 0, sxy = 0;
    int m = 0;
    for (int i = 0; i < count; i++)
        if (sizes[i] >= (double)((size_t)1 << FIT_FROM_LOG2) &&
            sizes[i] <= (double)((size_t)1 << FIT_TO_LOG2)) {
            sx += sizes[i], sy += pp[i], sxx += sizes[i] * sizes[i], sxy += sizes[i] * pp[i];
            m++;
        }
    double beta = (m * sxy - sx * sy) / (m * sxx - sx * sx);
    if (rank == 0) {
        printf("alpha_us=%.3f beta_ns_per_byte=%.5f bandwidth_GB_s=%.2f\n", alpha * 1e6, beta * 1e9,
               1e-9 / beta);
        printf("\n%12s %16s %16s %16s\n", "bytes", "MPI_Allreduce_us", "nd_allreduce_us",
               "ring_model_us");
    }
    for (int lg = 11; lg <= MAX_LOG2; lg += 2) {
        int64_t n = ((int64_t)1 << lg) / 4;
        nd_scope_begin();
        nd_tensor *t = nd_zeros(ND_F32, ND_SHAPE(n));
        int reps = reps_for((size_t)n * 4) / 2 + 3;
        double mpi = allreduce_time((float *)buf, t, n, reps, false);
        double ndt = allreduce_time(NULL, t, n, reps, true);
        double model = 2.0 * (p - 1) * alpha + 2.0 * (p - 1) / p * (double)(n * 4) * beta;
        if (rank == 0)
            printf("%12lld %16.2f %16.2f %16.2f\n", (long long)n * 4, mpi * 1e6, ndt * 1e6,
                   model * 1e6);
        nd_scope_end();
    }
    free(buf);
    nd_dist_finalize();
    nd_shutdown();
    return 0;
}
