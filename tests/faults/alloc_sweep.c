/* The allocation-failure sweep: for each workload, count the allocations one
 * run makes on nd's behalf, then run it once for every N from 1 to that count
 * with allocation N failing (the way SQLite tests itself). Each such run must
 *   - end in success with the right results (the failure was absorbed), or in
 *     an error whose message says what ran out ("... out of memory ...") and
 *     whose code (nd_errcode) is ND_ERR_NOMEM;
 *   - not crash or abort (a crash ends this program: the test fails);
 *   - print nothing (a library under nd that says "out of memory" on stdout
 *     or stderr would tell the user what nd's error value should);
 *   - give back every block it took (counted by failing_malloc.c; the ASan
 *     build's LeakSanitizer checks the same at exit);
 *   - leave nd working: the same workload, run again right after without any
 *     failure, succeeds with the same results.
 * Usage: alloc_sweep [workload [N]] — one workload, or one failing allocation
 * of it (for debugging); no arguments: all of them. */
#define _GNU_SOURCE
#include "failing_malloc.h"
#include "workloads.h"

#include "core/internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------- saying where a crash was */

static const char *current_workload = "startup";
static long current_n;
static struct sigaction previous[32];
static int crash_fd = 2; /* the real stderr while a run's is captured */

/* Says which run crashed, then lets the previous handler (AddressSanitizer's,
 * or the default) report it. */
static void on_crash(int sig) {
    char line[160];
    int len = snprintf(line, sizeof line,
                       "\nalloc_sweep: %s crashed (signal %d) with allocation %ld failing\n",
                       current_workload, sig, current_n);
    if (write(crash_fd, line, (size_t)len) < 0) _exit(3);
    dup2(crash_fd, 2); /* and the sanitizer's report goes there too */
    sigaction(sig, &previous[sig], NULL);
    raise(sig);
}

static void watch_crashes(void) {
    const int signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof signals / sizeof *signals; i++) {
        struct sigaction sa = {.sa_handler = on_crash, .sa_flags = SA_NODEFER};
        sigemptyset(&sa.sa_mask);
        sigaction(signals[i], &sa, &previous[signals[i]]);
    }
}

/* ------------------------------------------------------------ one run */

typedef struct {
    int rc;
    uint64_t digest;
    bool fired;         /* the armed allocation failed */
    long allocations;   /* failable allocations the run made */
    long leaked;        /* blocks not given back */
    long printed;       /* bytes written to stdout or stderr during the run */
    char error[1024];   /* nd_last_error() after a failed run */
    nd_error_code code; /* nd_errcode() after it */
} outcome;

/* Runs w with allocation n failing (0: none), then frees nd's thread state. */
static outcome run(const workload *w, long n) {
    outcome o = {.digest = 0xcbf29ce484222325ull};
    current_n = n;
    long live_before = fault_live_blocks();
    nd_clear_error();
    /* stdout and stderr go to a file during the run (set up before arming) */
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    FILE *capture = tmpfile();
    if (saved_out < 0 || saved_err < 0 || !capture || dup2(fileno(capture), 1) < 0 ||
        dup2(fileno(capture), 2) < 0) {
        fprintf(stderr, "alloc_sweep: cannot capture the output\n");
        exit(2);
    }
    crash_fd = saved_err;
    fault_arm(n);
    o.rc = w->run(&o.digest);
    o.fired = fault_fired();
    o.allocations = fault_seen();
    fault_arm(0);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    crash_fd = 2;
    close(saved_out);
    close(saved_err);
    fseek(capture, 0, SEEK_END); /* written through the descriptor, not the FILE */
    o.printed = ftell(capture);
    fclose(capture);
    const char *message = nd_last_error();
    snprintf(o.error, sizeof o.error, "%s", message ? message : "(no error message)");
    o.code = nd_errcode();
    nd_shutdown(); /* frees every tensor: what is still taken after it is lost */
    o.leaked = fault_live_blocks() - live_before;
    return o;
}

/* "nd_matmul: out of memory ...": an op's name, a colon, and what ran out. */
static bool says_out_of_memory(const char *message) {
    size_t name = strspn(message, "abcdefghijklmnopqrstuvwxyz_0123456789");
    if (name == 0 || message[name] != ':') return false;
    for (const char *p = message; *p; p++)
        if (strncasecmp(p, "out of memory", 13) == 0) return true;
    return false;
}

/* Checks one failing run and the clean run after it; NULL when all is well,
 * else what went wrong. */
static const char *check(const workload *w, long n, uint64_t want, outcome *o) {
    *o = run(w, n);
    if (!o->fired) return "the allocation never happened (allocation counts differ between runs)";
    if (o->rc == 0 && o->digest != want) return "succeeded with wrong results";
    if (o->printed) return "printed";
    if (o->rc != 0 && !says_out_of_memory(o->error)) return "failed with a wrong message";
    if (o->rc != 0 && o->code != ND_ERR_NOMEM) return "failed with a code other than ND_ERR_NOMEM";
    if (o->leaked) return "leaked memory";
    outcome after = run(w, 0);
    if (after.rc != 0) return "the run after it failed";
    if (after.digest != want) return "the run after it gave wrong results";
    if (after.leaked) return "the run after it leaked memory";
    if (after.printed) return "the run after it printed";
    return NULL;
}

/* Sweeps one workload (or only allocation `only` of it); the number of failures. */
static int sweep(const workload *w, long only) {
    current_workload = w->name;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    outcome first = run(w, 0); /* libraries make their lazy state here, once */
    outcome clean = run(w, 0);
    if (first.rc != 0 || clean.rc != 0) {
        printf("%s: fails without any allocation failing: %s\n", w->name, clean.error);
        return 1;
    }
    if (clean.digest != first.digest || clean.leaked) {
        printf("%s: two clean runs differ (digest or %ld blocks kept)\n", w->name, clean.leaked);
        return 1;
    }
    long count = clean.allocations, handled = 0, absorbed = 0, failures = 0;
    for (long n = only ? only : 1; n <= (only ? only : count); n++) {
        outcome o;
        const char *problem = check(w, n, clean.digest, &o);
        bool verbose = getenv("ALLOC_SWEEP_ALL") != NULL; /* every case, for debugging */
        if (!problem) {
            handled++;
            absorbed += o.rc == 0;
            if (verbose)
                printf("%s: allocation %ld: %s\n", w->name, n, o.rc ? o.error : "absorbed");
        } else if (++failures <= (verbose ? count : 10)) {
            printf("%s: allocation %ld of %ld: %s (rc %d, %ld blocks leaked, error: %s)\n", w->name,
                   n, count, problem, o.rc, o.leaked, o.rc ? o.error : "none");
        }
    }
    long tried = only ? 1 : count;
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("%s: %ld/%ld allocation failures handled (%ld reported as errors, %ld absorbed) in "
           "%.1f s\n",
           w->name, handled, tried, handled - absorbed, absorbed,
           (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) * 1e-9);
    fflush(stdout);
    return (int)failures + (count == 0); /* a workload nd never allocates for tests nothing */
}

/* LeakSanitizer reads this: what the libraries under PLplot keep to the end of
 * the process on purpose — fontconfig's font caches (made once, whatever the
 * number of figures) and the link maps of the plugins loaded with dlopen. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:libfontconfig.so\nleak:_dl_map_object_deps\n";
}

int main(int argc, char **argv) {
    watch_crashes();
    nd_set_num_threads(1); /* the same allocations in the same order on every run */
    nd__pool_keep(false);  /* a block from the pool cannot fail: every one comes from malloc */
    char dir[] = "alloc_sweep.XXXXXX";
    if (!mkdtemp(dir) || workloads_setup(dir) != 0) {
        perror("alloc_sweep: cannot make its folder for files");
        return 2;
    }
    int failures = 0, matched = 0;
    for (int i = 0; i < workload_count; i++) {
        if (argc > 1 && strcmp(argv[1], workloads[i].name) != 0) continue;
        matched++;
        failures += sweep(&workloads[i], argc > 2 ? atol(argv[2]) : 0);
    }
    workloads_cleanup();
    if (!matched) fprintf(stderr, "alloc_sweep: no workload called %s\n", argv[1]);
    return failures || !matched ? 1 : 0;
}
