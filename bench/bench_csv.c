/* W7 of BENCHMARKS.md on nd's side: read a 1,000,000-row CSV, fill the
 * missing floats with their column's mean, one-hot encode `cat` (with a
 * column for missing values), and convert everything to an f32 tensor — what
 * bench/peers.py times pandas doing on the same file.
 * Usage: bench_csv THREADS [quick]
 * The file is $ND_W7_CSV or /tmp/nd_w7.csv, written by bench/make_w7_csv.py
 * (seed 0) when missing. Prints MB/s of file (a warm-up, then the median of
 * 5 repeats) and the process's peak resident memory. */
#include "bench.h"

#include <nd.h>
#include <nd_frame.h>

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#define REPEATS 5

/* The workload; frames are freed as soon as the next step has what it needs. */
static int run_once(const char *path) {
    nd_frame *raw = nd_read_csv(path, NULL);
    nd_frame *filled = nd_frame_fillna_mean(raw);
    nd_frame_free(raw);
    nd_frame *encoded = nd_frame_get_dummies(filled, true);
    nd_frame_free(filled);
    nd_scope_begin();
    nd_tensor *x = nd_frame_to_tensor(encoded, ND_F32);
    int ok = x && nd_size(x, 0) == 1000000 && nd_size(x, 1) == 16;
    nd_scope_end();
    nd_frame_free(encoded);
    if (!ok) fprintf(stderr, "bench_csv: %s\n", nd_last_error() ? nd_last_error() : "wrong shape");
    return ok ? 0 : -1;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    nd_set_num_threads(threads);
    const char *path = getenv("ND_W7_CSV") ? getenv("ND_W7_CSV") : "/tmp/nd_w7.csv";
    struct stat st;
    if (stat(path, &st) != 0) {
        char source[4096], command[8192];
        snprintf(source, sizeof source, "%s", __FILE__);
        snprintf(command, sizeof command, "/usr/bin/python3 '%s/make_w7_csv.py' '%s'",
                 dirname(source), path);
        if (system(command) != 0 || stat(path, &st) != 0) {
            fprintf(stderr, "bench_csv: could not write %s with %s\n", path, command);
            return 1;
        }
    }
    double mb = (double)st.st_size / 1e6, seconds[REPEATS];
    if (run_once(path) != 0) return 1; /* warm-up: the file in the page cache */
    for (int i = 0; i < REPEATS; i++) {
        double start = bench_now();
        if (run_once(path) != 0) return 1;
        seconds[i] = bench_now() - start;
    }
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    bench_report("W7_csv", threads, "MB_per_s", mb / bench_median(seconds, REPEATS), "MB/s");
    bench_report("W7_csv", threads, "peak_rss_MB", (double)usage.ru_maxrss / 1024.0, "MB");
    return 0;
}
