/* PyTorch's affine_grid and grid_sample (2-D, bilinear, zeros padding), as
 * recorded ops: the differentiable warp.
 *
 * affine_grid is linear in theta, so its VJP is its transpose (an op of its
 * own, whose VJP is affine_grid again): derivatives of every order, both modes.
 * grid_sample is linear in the input: its input-VJP is the transposed sampling
 * (a scatter), again an op whose VJP is grid_sample. Its dependence on the grid
 * is not linear: the grid's gradient is a separate op, grid_sample_grid_grad,
 * whose own derivatives are not implemented — second derivatives through the
 * grid report an error (first derivatives are exact in both modes).
 *
 * The kernels compute in double; f32 tensors are converted in and out. */
#include "image.h"

#include <math.h>

/* ---------------------------------------------------------------- geometry */

/* Where the normalised coordinate g in [−1, 1] lands in pixels, and d(pixel)/dg. */
static double unnormalize(double g, int64_t size, bool align_corners, double *scale) {
    if (align_corners) {
        *scale = (double)(size - 1) / 2;
        return (g + 1) / 2 * (double)(size - 1);
    }
    *scale = (double)size / 2;
    return ((g + 1) * (double)size - 1) / 2;
}

/* The four neighbours of a sample point: flat indices into an (H, W) plane,
 * whether each lies inside, its bilinear weight, and the weight's derivative
 * with respect to the normalised grid coordinates gx and gy. */
typedef struct {
    int64_t index[4]; /* nw, ne, sw, se */
    bool inside[4];
    double weight[4], dweight_dgx[4], dweight_dgy[4];
} neighbours;

static void find_neighbours(double gx, double gy, int64_t h, int64_t w, bool align,
                            neighbours *nb) {
    double sx, sy;
    double ix = unnormalize(gx, w, align, &sx), iy = unnormalize(gy, h, align, &sy);
    double x0 = floor(ix), y0 = floor(iy);
    double ex = ix - x0, ey = iy - y0; /* distances from the north-west neighbour */
    const double wx[2] = {1 - ex, ex}, wy[2] = {1 - ey, ey};
    const double dwx[2] = {-1, 1}, dwy[2] = {-1, 1};
    for (int k = 0; k < 4; k++) {
        int dx = k & 1, dy = k >> 1;
        double cx = x0 + dx, cy = y0 + dy;
        nb->inside[k] = cx >= 0 && cx < (double)w && cy >= 0 && cy < (double)h;
        nb->index[k] = nb->inside[k] ? (int64_t)cy * w + (int64_t)cx : 0;
        nb->weight[k] = wx[dx] * wy[dy];
        nb->dweight_dgx[k] = dwx[dx] * wy[dy] * sx;
        nb->dweight_dgy[k] = wx[dx] * dwy[dy] * sy;
    }
}

/* ------------------------------------------------------------------ kernels */

typedef struct {
    int64_t n, c, h, w, out_h, out_w;
    bool align;
} sample_dims;

/* out[n, c, i] = Σ_k weight_k · in[n, c, neighbour_k] (with coefficient =
 * weight; or with d weight/dgx · tgx + d weight/dgy · tgy for the tangent
 * carried by a moving grid, when tgrid is given). */
static void sample(const sample_dims *d, const double *in, const double *grid, const double *tgrid,
                   double *out) {
    int64_t points = d->out_h * d->out_w;
#pragma omp parallel for num_threads(nd__threads_for(d->n *points * d->c * 8))
    for (int64_t np = 0; np < d->n * points; np++) {
        int64_t n = np / points, i = np % points;
        neighbours nb;
        find_neighbours(grid[2 * np], grid[2 * np + 1], d->h, d->w, d->align, &nb);
        double coefficient[4];
        for (int k = 0; k < 4; k++)
            coefficient[k] =
                !nb.inside[k] ? 0
                : tgrid ? nb.dweight_dgx[k] * tgrid[2 * np] + nb.dweight_dgy[k] * tgrid[2 * np + 1]
                        : nb.weight[k];
        for (int64_t c = 0; c < d->c; c++) {
            const double *plane = in + (n * d->c + c) * d->h * d->w;
            double v = 0;
            for (int k = 0; k < 4; k++) v += coefficient[k] * plane[nb.index[k]];
            out[(n * d->c + c) * points + i] = v;
        }
    }
}

/* The transpose of sampling: each output gradient spread back onto the four
 * neighbours it came from. Planes are independent, so they go in parallel. */
static void scatter(const sample_dims *d, const double *g, const double *grid, double *gin) {
    int64_t points = d->out_h * d->out_w;
    memset(gin, 0, sizeof(double) * (size_t)(d->n * d->c * d->h * d->w));
#pragma omp parallel for num_threads(nd__threads_for(d->n * d->c * points * 8))
    for (int64_t nc = 0; nc < d->n * d->c; nc++) {
        int64_t n = nc / d->c;
        double *plane = gin + nc * d->h * d->w;
        for (int64_t i = 0; i < points; i++) {
            const double *gp = grid + 2 * (n * points + i);
            neighbours nb;
            find_neighbours(gp[0], gp[1], d->h, d->w, d->align, &nb);
            double gi = g[nc * points + i];
            for (int k = 0; k < 4; k++)
                if (nb.inside[k]) plane[nb.index[k]] += nb.weight[k] * gi;
        }
    }
}

/* d(Σ g·out)/d grid: for each grid point, Σ over channels of g times the
 * derivative of the sampled value. */
static void grid_gradient(const sample_dims *d, const double *g, const double *in,
                          const double *grid, double *ggrid) {
    int64_t points = d->out_h * d->out_w;
#pragma omp parallel for num_threads(nd__threads_for(d->n *points * d->c * 8))
    for (int64_t np = 0; np < d->n * points; np++) {
        int64_t n = np / points, i = np % points;
        neighbours nb;
        find_neighbours(grid[2 * np], grid[2 * np + 1], d->h, d->w, d->align, &nb);
        double gx = 0, gy = 0;
        for (int64_t c = 0; c < d->c; c++) {
            const double *plane = in + (n * d->c + c) * d->h * d->w;
            double gi = g[(n * d->c + c) * points + i];
            for (int k = 0; k < 4; k++)
                if (nb.inside[k]) {
                    gx += nb.dweight_dgx[k] * plane[nb.index[k]] * gi;
                    gy += nb.dweight_dgy[k] * plane[nb.index[k]] * gi;
                }
        }
        ggrid[2 * np] = gx;
        ggrid[2 * np + 1] = gy;
    }
}

/* ------------------------------------------------------- dtype plumbing */

static nd_tensor *as_f64(nd_tensor *t) {
    return nd_contiguous(nd_to(nd_detach(t), ND_F64));
}
static double *data(nd_tensor *t) {
    return nd__ptr(t);
}

/* A new f64 tensor for a kernel's result, given back in dtype after the kernel. */
static nd_tensor *result(nd_tensor *f64, nd_dtype dtype) {
    if (!f64 || dtype == ND_F64) return f64;
    return nd_to(f64, dtype);
}

static sample_dims dims_of(const nd_tensor *input_like, const nd_tensor *grid, bool align) {
    return (sample_dims){input_like->shape[0],
                         input_like->shape[1],
                         input_like->shape[2],
                         input_like->shape[3],
                         grid->shape[1],
                         grid->shape[2],
                         align};
}

/* ------------------------------------------------- grid_sample's op family */

static nd_tensor *grid_sample_transpose(nd_tensor *g, nd_tensor *grid, int64_t h, int64_t w,
                                        bool align);
static nd_tensor *grid_sample_grid_grad(nd_tensor *g, nd_tensor *input, nd_tensor *grid,
                                        bool align);

/* The tangent that a moving grid gives the output (not recorded: JVP arithmetic). */
static nd_tensor *grid_tangent(nd_tensor *input, nd_tensor *grid, nd_tensor *tgrid, bool align) {
    sample_dims d = dims_of(input, grid, align);
    nd_tensor *in = as_f64(input), *gr = as_f64(grid), *tg = as_f64(tgrid);
    if (!in || !gr || !tg) return NULL;
    nd_tensor *out = nd__empty(ND_F64, 4, (const int64_t[]){d.n, d.c, d.out_h, d.out_w});
    if (!out) return NULL;
    sample(&d, data(in), data(gr), data(tg), data(out));
    return result(out, input->dtype);
}

/* The parameters of the four ops below, by name. pack and unpack are the
 * only places that know where they ride in the node's nd_params. */
typedef struct {
    bool align_corners;
    int64_t h, w;     /* grid_sample_backward: the size of the input it scatters into */
    int64_t channels; /* affine_grid: the C of the (N, C, H, W) it was asked for */
} sampling_params;

static nd_params pack(sampling_params a) {
    return (nd_params){.i = {a.align_corners, a.h, a.w, a.channels}};
}
static sampling_params unpack(const nd_node *n) {
    return (sampling_params){
        .align_corners = n->p.i[0] != 0, .h = n->p.i[1], .w = n->p.i[2], .channels = n->p.i[3]};
}

static void grid_sample_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *input = n->in[0], *grid = n->in[1];
    bool align = unpack(n).align_corners;
    if (input->requires_grad)
        gin[0] = grid_sample_transpose(g, grid, input->shape[2], input->shape[3], align);
    if (grid->requires_grad) gin[1] = grid_sample_grid_grad(g, input, grid, align);
}
static nd_tensor *grid_sample_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    bool align = unpack(n).align_corners;
    nd_tensor *from_input = tin[0] ? nd_grid_sample(tin[0], n->in[1], align) : NULL;
    nd_tensor *from_grid = tin[1] ? grid_tangent(n->in[0], n->in[1], tin[1], align) : NULL;
    return nd__tangent_sum(from_input, from_grid);
}
static const nd_op GRID_SAMPLE = {
    .name = "grid_sample",
    .vjp = grid_sample_vjp,
    .jvp = grid_sample_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "gin = grid_sample_backward(g), ggrid = grid_sample_grid_backward(g)",
    .jvp_formula = "grid_sample(din, grid) + ∂out/∂grid·dgrid",
};

nd_tensor *nd_grid_sample(nd_tensor *input, nd_tensor *grid, bool align_corners) {
    ND_CHECK("nd_grid_sample", input, grid);
    if (input->ndim != 4 || grid->ndim != 4 || grid->shape[3] != 2 ||
        grid->shape[0] != input->shape[0])
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_grid_sample: expected input (N, C, H, W) and grid (N, H_out, W_out, "
                           "2) with the same N, got input %s and grid %s",
                           nd__tshape(input), nd__tshape(grid));
    if (!nd__is_float(input->dtype) || input->dtype != grid->dtype)
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_grid_sample: input and grid must have the same floating dtype, got "
                           "%s and %s",
                           nd_dtype_name(input->dtype), nd_dtype_name(grid->dtype));
    if (input->shape[2] == 0 || input->shape[3] == 0)
        return nd__fail_as(ND_ERR_SHAPE, "nd_grid_sample: the input of shape %s has no pixels",
                           nd__tshape(input));
    sample_dims d = dims_of(input, grid, align_corners);
    nd_scope_begin();
    nd_tensor *in = as_f64(input), *gr = as_f64(grid);
    nd_tensor *out =
        in && gr ? nd__empty(ND_F64, 4, (const int64_t[]){d.n, d.c, d.out_h, d.out_w}) : NULL;
    if (out) sample(&d, data(in), data(gr), NULL, data(out));
    out = nd_keep(result(out, input->dtype));
    nd_scope_end();
    nd_params p = pack((sampling_params){.align_corners = align_corners});
    return nd__record(&GRID_SAMPLE, out, 2, (nd_tensor *[]){input, grid}, &p);
}

/* The transposed sampling, linear in g: its VJP in g is grid_sample again. */
static void transpose_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    if (n->in[0]->requires_grad) gin[0] = nd_grid_sample(g, n->in[1], unpack(n).align_corners);
    if (n->in[1]->requires_grad)
        nd__set_error_as(ND_ERR_NOT_DIFFERENTIABLE,
                         "nd_grid_sample: second derivatives with respect to the grid are not "
                         "supported");
}
static nd_tensor *transpose_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    if (tin[1]) {
        nd__set_error_as(ND_ERR_NOT_DIFFERENTIABLE,
                         "nd_grid_sample: second derivatives with respect to the grid are not "
                         "supported");
        return NULL;
    }
    sampling_params a = unpack(n);
    return tin[0] ? grid_sample_transpose(tin[0], n->in[1], a.h, a.w, a.align_corners) : NULL;
}
static const nd_op GRID_SAMPLE_TRANSPOSE = {
    .name = "grid_sample_backward",
    .vjp = transpose_vjp,
    .jvp = transpose_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "grid_sample(gg, grid) (linear in g)",
    .jvp_formula = "grid_sample_backward(dg)",
};

static nd_tensor *grid_sample_transpose(nd_tensor *g, nd_tensor *grid, int64_t h, int64_t w,
                                        bool align) {
    if (!g || !grid) return NULL;
    sample_dims d = {g->shape[0], g->shape[1], h, w, grid->shape[1], grid->shape[2], align};
    nd_scope_begin();
    nd_tensor *gg = as_f64(g), *gr = as_f64(grid);
    nd_tensor *out = gg && gr ? nd__empty(ND_F64, 4, (const int64_t[]){d.n, d.c, h, w}) : NULL;
    if (out) scatter(&d, data(gg), data(gr), data(out));
    out = nd_keep(result(out, g->dtype));
    nd_scope_end();
    nd_params p = pack((sampling_params){.align_corners = align, .h = h, .w = w});
    return nd__record(&GRID_SAMPLE_TRANSPOSE, out, 2, (nd_tensor *[]){g, grid}, &p);
}

static void grid_grad_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)n, (void)out, (void)g, (void)gin;
    nd__set_error_as(ND_ERR_NOT_DIFFERENTIABLE,
                     "nd_grid_sample: second derivatives with respect to the grid are not "
                     "supported");
}
static nd_tensor *grid_grad_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)n, (void)out, (void)tin;
    nd__set_error_as(ND_ERR_NOT_DIFFERENTIABLE,
                     "nd_grid_sample: second derivatives with respect to the grid are not "
                     "supported");
    return NULL;
}
static const nd_op GRID_SAMPLE_GRID_GRAD = {
    .name = "grid_sample_grid_backward",
    .vjp = grid_grad_vjp,
    .jvp = grid_grad_jvp,
    .flags = ND_SAVES_INPUTS,
    .vjp_formula = "through input, grid and g (itself nd ops)",
    .jvp_formula = "the same map applied to the tangents",
};

static nd_tensor *grid_sample_grid_grad(nd_tensor *g, nd_tensor *input, nd_tensor *grid,
                                        bool align) {
    if (!g) return NULL;
    sample_dims d = dims_of(input, grid, align);
    nd_scope_begin();
    nd_tensor *gg = as_f64(g), *in = as_f64(input), *gr = as_f64(grid);
    nd_tensor *out =
        gg && in && gr ? nd__empty(ND_F64, 4, (const int64_t[]){d.n, d.out_h, d.out_w, 2}) : NULL;
    if (out) grid_gradient(&d, data(gg), data(in), data(gr), data(out));
    out = nd_keep(result(out, grid->dtype));
    nd_scope_end();
    return nd__record(&GRID_SAMPLE_GRID_GRAD, out, 3, (nd_tensor *[]){g, input, grid}, NULL);
}

/* ------------------------------------------------------------ affine_grid */

/* torch's base coordinates: linspace(−1, 1, n), shrunk by (n − 1)/n without
 * align_corners so they fall on pixel centres; 0 for a single pixel. */
static double base_coordinate(int64_t i, int64_t n, bool align) {
    if (n <= 1) return 0;
    double v = -1 + 2 * (double)i / (double)(n - 1);
    return align ? v : v * (double)(n - 1) / (double)n;
}

static nd_tensor *affine_grid_transpose(nd_tensor *g, bool align);

static void affine_grid_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)n, (void)out;
    gin[0] = affine_grid_transpose(g, unpack(n).align_corners);
}
static nd_tensor *affine_grid_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    sampling_params a = unpack(n);
    return nd_affine_grid(tin[0], out->shape[0], a.channels, out->shape[1], out->shape[2],
                          a.align_corners);
}
static const nd_op AFFINE_GRID = {
    .name = "affine_grid",
    .vjp = affine_grid_vjp,
    .jvp = affine_grid_jvp,
    .flags = 0,
    .vjp_formula = "affine_grid_backward(g) = Σ_pixels g ⊗ (x, y, 1)",
    .jvp_formula = "affine_grid(dθ)",
};

nd_tensor *nd_affine_grid(nd_tensor *theta, int64_t n, int64_t c, int64_t h, int64_t w,
                          bool align_corners) {
    ND_CHECK("nd_affine_grid", theta);
    if (theta->ndim != 3 || theta->shape[1] != 2 || theta->shape[2] != 3 || theta->shape[0] != n ||
        !nd__is_float(theta->dtype))
        return nd__fail_as(ND_ERR_DTYPE,
                           "nd_affine_grid: theta must be floating point (N, 2, 3) with N = %lld, "
                           "got %s of shape %s",
                           (long long)n, nd_dtype_name(theta->dtype), nd__tshape(theta));
    if (c < 0 || h <= 0 || w <= 0 || h > ((int64_t)1 << 20) || w > ((int64_t)1 << 20) ||
        n * h * w > ((int64_t)1 << 30))
        return nd__fail_as(ND_ERR_SHAPE,
                           "nd_affine_grid: bad size (N, C, H, W) = (%lld, %lld, %lld, %lld)",
                           (long long)n, (long long)c, (long long)h, (long long)w);
    nd_scope_begin();
    nd_tensor *th = as_f64(theta);
    nd_tensor *out = th ? nd__empty(ND_F64, 4, (const int64_t[]){n, h, w, 2}) : NULL;
    if (out) {
        const double *t = data(th);
        double *o = data(out);
        for (int64_t b = 0; b < n; b++, t += 6)
            for (int64_t y = 0; y < h; y++)
                for (int64_t x = 0; x < w; x++, o += 2) {
                    double bx = base_coordinate(x, w, align_corners);
                    double by = base_coordinate(y, h, align_corners);
                    o[0] = t[0] * bx + t[1] * by + t[2];
                    o[1] = t[3] * bx + t[4] * by + t[5];
                }
    }
    out = nd_keep(result(out, theta->dtype));
    nd_scope_end();
    nd_params p = pack((sampling_params){.align_corners = align_corners, .channels = c});
    return nd__record(&AFFINE_GRID, out, 1, &theta, &p);
}

/* theta's gradient from the grid's: Σ over pixels of g ⊗ (x, y, 1). Linear in
 * g, so its VJP is affine_grid of the incoming gradient. */
static void transpose_grid_vjp(const nd_node *n, nd_tensor *out, nd_tensor *g, nd_tensor **gin) {
    (void)out;
    nd_tensor *grid = n->in[0];
    gin[0] = nd_affine_grid(g, grid->shape[0], 1, grid->shape[1], grid->shape[2],
                            unpack(n).align_corners);
}
static nd_tensor *transpose_grid_jvp(const nd_node *n, nd_tensor *out, nd_tensor *const *tin) {
    (void)out;
    return affine_grid_transpose(tin[0], unpack(n).align_corners);
}
static const nd_op AFFINE_GRID_TRANSPOSE = {
    .name = "affine_grid_backward",
    .vjp = transpose_grid_vjp,
    .jvp = transpose_grid_jvp,
    .flags = 0,
    .vjp_formula = "affine_grid(gg) (linear in g)",
    .jvp_formula = "affine_grid_backward(dg)",
};

static nd_tensor *affine_grid_transpose(nd_tensor *g, bool align) {
    if (!g) return NULL;
    int64_t n = g->shape[0], h = g->shape[1], w = g->shape[2];
    nd_scope_begin();
    nd_tensor *gg = as_f64(g);
    nd_tensor *out = gg ? nd__zeros(ND_F64, 3, (const int64_t[]){n, 2, 3}) : NULL;
    if (out) {
        const double *gp = data(gg);
        double *o = data(out);
        for (int64_t b = 0; b < n; b++, o += 6)
            for (int64_t y = 0; y < h; y++)
                for (int64_t x = 0; x < w; x++, gp += 2) {
                    double bx = base_coordinate(x, w, align), by = base_coordinate(y, h, align);
                    for (int i = 0; i < 2; i++) {
                        o[3 * i] += gp[i] * bx;
                        o[3 * i + 1] += gp[i] * by;
                        o[3 * i + 2] += gp[i];
                    }
                }
    }
    out = nd_keep(result(out, g->dtype));
    nd_scope_end();
    nd_params p = pack((sampling_params){.align_corners = align});
    return nd__record(&AFFINE_GRID_TRANSPOSE, out, 1, &g, &p);
}
