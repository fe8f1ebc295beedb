/* W8 of BENCHMARKS.md on nd's side: a 3840×2160 RGB u8 picture rotated by 30°
 * about its centre, bilinear, same size (cv2.warpAffine's job).
 * Usage: bench_warp THREADS
 * Prints `workload=W8_affine_warp impl=nd threads=<T> metric=Mpixel_per_s ...`:
 * a warm-up, then the median of 9 repeats. */
#include "bench.h"

#include <nd.h>
#include <nd_image.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define HEIGHT  2160
#define WIDTH   3840
#define REPEATS 9

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    nd_set_num_threads(threads);
    /* a picture with detail everywhere: values from a fixed pseudo-random sequence */
    uint8_t *pixels = malloc((size_t)HEIGHT * WIDTH * 3);
    if (!pixels) return 1;
    uint32_t state = 12345;
    for (size_t i = 0; i < (size_t)HEIGHT * WIDTH * 3; i++) {
        state = state * 1664525u + 1013904223u;
        pixels[i] = (uint8_t)(state >> 24);
    }
    nd_tensor *img = nd_from(ND_U8, ND_SHAPE(HEIGHT, WIDTH, 3), pixels);
    free(pixels);
    nd_tensor *m = nd_affine_rotate_about(30 * 3.14159265358979323846 / 180, (WIDTH - 1) / 2.0,
                                          (HEIGHT - 1) / 2.0);
    double t[REPEATS];
    for (int r = -1; r < REPEATS; r++) {
        nd_scope_begin();
        double start = bench_now();
        nd_tensor *out = nd_warp_affine(img, m, HEIGHT, WIDTH, ND_BILINEAR);
        double elapsed = bench_now() - start;
        nd_scope_end();
        if (!out) {
            fprintf(stderr, "bench_warp: %s\n", nd_last_error());
            return 1;
        }
        if (r >= 0) t[r] = elapsed;
    }
    bench_report("W8_affine_warp", threads, "Mpixel_per_s",
                 (double)HEIGHT * WIDTH / 1e6 / bench_median(t, REPEATS), "Mpixel/s");
    nd_shutdown();
    return 0;
}
