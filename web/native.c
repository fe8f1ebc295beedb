/* native.c — nd_web_native: the page's C functions (nd_web.h) run natively,
 * printing the JSON the page gets, so that tests/e2e/interactive.sh can hold
 * the page's numbers (nd compiled to WebAssembly, run by Chromium) against
 * native nd's for the same settings. One call per run:
 *   nd_web_native gd F METHOD X0 LR MOMENTUM STEPS
 *   nd_web_native gd2 METHOD A B X1 X2 LR MOMENTUM STEPS
 *   nd_web_native fit POINTS | autodiff EXPR INPUTS | activation NAME LO HI N | sin-relu N
 *   nd_web_native relu-net POINTS HIDDEN LR CHUNK... (start, then steps of each CHUNK)
 *   nd_web_native affine PICTURE LR CHUNK...   warp PICTURE M00 M01 M02 M10 M11 M12
 * Each result on a line of its own; exit status 1 (with nd's message) on failure. */
#include "nd_web.h"

#include <nd.h>
#include <nd_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print(const char *json) {
    if (!json) {
        fprintf(stderr, "nd_web_native: %s\n", nd_web_error());
        return 1;
    }
    puts(json);
    return 0;
}

/* The picture as RGBA bytes (the page gets them from a canvas); malloc'd. */
static uint8_t *rgba(const char *path, int *h, int *w) {
    nd_tensor *img = nd_image_read(path);
    if (!img) {
        fprintf(stderr, "nd_web_native: %s\n", nd_last_error());
        return NULL;
    }
    *h = (int)nd_size(img, 0), *w = (int)nd_size(img, 1);
    int64_t c = nd_ndim(img) == 3 ? nd_size(img, 2) : 1;
    uint8_t *out = malloc((size_t)*h * (size_t)*w * 4);
    nd_tensor *flat = nd_contiguous(img);
    const uint8_t *p = nd_data(flat);
    for (int64_t i = 0; out && i < (int64_t)*h * *w; i++)
        for (int k = 0; k < 4; k++)
            out[i * 4 + k] = k < 3 ? p[i * c + (c >= 3 ? k : 0)] : c == 4 ? p[i * c + 3] : 255;
    return out;
}

int main(int argc, char **argv) {
    const char *call = argc > 1 ? argv[1] : "";
    double a[10] = {0};
    for (int i = 2; i < argc && i < 12; i++) a[i - 2] = atof(argv[i]);
    int status = 2;
    if (!strcmp(call, "version") && argc == 2) {
        status = print(nd_web_version());
    } else if (!strcmp(call, "gd") && argc == 8) {
        status = print(nd_web_gd(argv[2], argv[3], a[2], a[3], a[4], (int)a[5]));
    } else if (!strcmp(call, "gd2") && argc == 10) {
        status = print(nd_web_gd2(argv[2], a[1], a[2], a[3], a[4], a[5], a[6], (int)a[7]));
    } else if (!strcmp(call, "fit") && argc == 3) {
        status = print(nd_web_fit(argv[2]));
    } else if (!strcmp(call, "autodiff") && argc == 4) {
        status = print(nd_web_autodiff(argv[2], argv[3]));
    } else if (!strcmp(call, "activation") && argc == 6) {
        status = print(nd_web_activation(argv[2], a[1], a[2], (int)a[3]));
    } else if (!strcmp(call, "sin-relu") && argc == 3) {
        status = print(nd_web_sin_relu((int)a[0]));
    } else if (!strcmp(call, "relu-net") && argc >= 5) {
        status = print(nd_web_relu_net_start(argv[2], (int)a[1], a[2]));
        for (int i = 5; i < argc && status == 0; i++)
            status = print(nd_web_relu_net_steps(atoi(argv[i])));
    } else if ((!strcmp(call, "affine") && argc >= 4) || (!strcmp(call, "warp") && argc == 9)) {
        int h, w;
        uint8_t *pixels = rgba(argv[2], &h, &w), *out = pixels ? malloc((size_t)h * w * 4) : NULL;
        status = 1;
        if (out && !strcmp(call, "warp")) {
            double m[6] = {a[1], a[2], a[3], a[4], a[5], a[6]};
            if (nd_web_warp(pixels, h, w, m, out) == 0) {
                printf("[");
                for (int i = 0; i < h * w * 4; i++) printf(i ? ",%d" : "%d", out[i]);
                printf("]\n");
                status = 0;
            } else {
                fprintf(stderr, "nd_web_native: %s\n", nd_web_error());
            }
        } else if (out) {
            status = print(nd_web_affine_start(pixels, h, w, a[1]));
            for (int i = 4; i < argc && status == 0; i++)
                status = print(nd_web_affine_steps(atoi(argv[i])));
        }
        free(pixels);
        free(out);
    } else {
        fprintf(stderr, "nd_web_native: unknown call or wrong arguments (see web/native.c)\n");
    }
    nd_shutdown();
    return status;
}
