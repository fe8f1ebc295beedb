/* Lab 3, 线性代数 (linear algebra): the geometry behind the operations. The
 * student should see the dot product measure similarity (cos θ), the
 * difference between the elementwise (Hadamard) and the matrix product, a 2×2
 * matrix bend the unit square into a parallelogram, the eigenvectors of
 * [[2, 1], [2, 3]] keep their direction (Av = λv on one line), the norms d2l
 * computes, and an affine map as one 3×3 matrix in homogeneous coordinates. */
#include "lab.h"

#include <math.h>
#include <nd_image.h>
#include <nd_plot.h>
#include <stdio.h>

/* Matrix products do not promote dtypes (as in PyTorch): the geometry is float64 throughout. */
static nd_tensor *f64(const char *text) {
    return nd_to(nd_parse(text), ND_F64);
}

/* --matrix must be a 2×2 matrix of numbers. */
static int two_by_two(const char *text, char *error, size_t size) {
    nd_scope_begin(); /* the parsed matrix goes when the check ends */
    nd_tensor *m = nd_parse(text);
    bool ok = m && nd_ndim(m) == 2 && nd_size(m, 0) == 2 && nd_size(m, 1) == 2;
    if (!ok) snprintf(error, size, "a 2×2 matrix such as \"[[2, 1], [2, 3]]\" is needed");
    nd_scope_end();
    nd_clear_error();
    return ok ? 0 : -1;
}

/* `nd lab linear-algebra --matrix "[[1, 1], [0, 2]]"`: the map of the plane and its eigenvectors.
 */
static const option options[] = {
    {.name = "matrix",
     .type = OPTION_TEXT,
     .fallback = "[[2, 1], [2, 3]]",
     .help = "the 2×2 matrix M that maps the plane",
     .check = two_by_two},
    {.name = NULL}, /* the end of the table */
};

static double cosine(nd_tensor *a, nd_tensor *b) {
    return nd_item(nd_dot(a, b)) / (nd_item(nd_norm(a, 2)) * nd_item(nd_norm(b, 2)));
}

/* 向量加法: 连接起点、终点 — b drawn from the end of a; a + b joins the start
 * of a to the end of b. */
static void addition(report *r) {
    report_heading(r, "向量加法: 连接起点、终点 — vector addition, head to tail");
    nd_tensor *a = f64("[3.0, 1]"), *b = f64("[1.0, 2]"), *sum = nd_add(a, b);
    nd_tensor *e1 = f64("[1.0, 0]"), *e2 = f64("[0.0, 1]");
    nd_tensor *combination = nd_add(nd_mul_scalar(e1, 3), nd_mul_scalar(e2, 1));
    double na = nd_item(nd_norm(a, 2)), nb = nd_item(nd_norm(b, 2));
    double ns = nd_item(nd_norm(sum, 2));
    report_pre(r,
               "a = [3, 1] = 3·e₁ + 1·e₂ (标准正交基的线性组合: a combination of the basis)\n"
               "b = [1, 2]\n"
               "a + b = nd_add(a, b) = [%g, %g]\n"
               "|a| + |b| = %.4f >= |a + b| = %.4f (the triangle inequality)",
               nd_get(sum, (int64_t[]){0}), nd_get(sum, (int64_t[]){1}), na + nb, ns);
    LAB_CHECK_CLOSE(r, "a + b, first coordinate", nd_get(sum, (int64_t[]){0}), 4, 0);
    LAB_CHECK_CLOSE(r, "a + b, second coordinate", nd_get(sum, (int64_t[]){1}), 3, 0);
    LAB_CHECK_CLOSE(r, "|3·e₁ + 1·e₂ − a|", nd_item(nd_norm(nd_sub(combination, a), 2)), 0, 0);
    LAB_CHECK_CLOSE(r, "|a + b| = 5", ns, 5, 1e-12);
    if (!(ns <= na + nb)) report_fail(r, "|a + b| = %f above |a| + |b| = %f", ns, na + nb);
    nd_plot *p = nd_plot_new("a + b: start of a to end of b", "x₁", "x₂");
    nd_plot_arrow(p, 0, 0, 3, 1, NULL);
    nd_plot_arrow(p, 3, 1, 4, 3, NULL);
    nd_plot_arrow(p, 0, 0, 4, 3, NULL);
    nd_plot_text(p, 1.6, 0.3, "a");
    nd_plot_text(p, 3.65, 1.75, "b");
    nd_plot_text(p, 1.6, 1.6, "a + b");
    nd_plot_range(p, -0.5, 4.5, -0.5, 3.5);
    nd_plot_equal_axes(p, true);
    if (lab_figure(r, p, "linalg_add", 460, 380,
                   "b starts where a ends; a + b joins the start of a to the end of b."))
        report_fail(r, "%s", nd_last_error());
}

static void similarity(report *r) {
    report_heading(r, "向量内积: 度量相似度 — the dot product measures similarity");
    nd_tensor *u = LAB_CALL(nd_parse("[1.0, 2, 3]")), *same = LAB_CALL(nd_parse("[2.0, 4, 6]"));
    nd_tensor *orth = LAB_CALL(nd_parse("[-3.0, 0, 1]")),
              *opposite = LAB_CALL(nd_parse("[-1.0, -2, -3]"));
    nd_tensor *e1 = LAB_CALL(nd_parse("[1.0, 0]")), *diag = LAB_CALL(nd_parse("[1.0, 1]"));
    double c_same = cosine(u, same), c_orth = cosine(u, orth), c_opp = cosine(u, opposite);
    double angle = acos(cosine(e1, diag)) * 180 / PI;
    report_pre(r,
               "a · b = |a| (|b| cos θ): the projection of b on a, times |a|\n"
               "u = [1, 2, 3]\n"
               "cos θ(u, [2, 4, 6])    = %.4f   same direction\n"
               "cos θ(u, [-3, 0, 1])   = %.4f   orthogonal: nothing in common\n"
               "cos θ(u, [-1, -2, -3]) = %.4f   opposite\n"
               "angle between [1, 0] and [1, 1] = %.1f degrees",
               c_same, c_orth, c_opp, angle);
    LAB_CHECK_CLOSE(r, "cos θ of parallel vectors", c_same, 1, 1e-6);
    LAB_CHECK_CLOSE(r, "cos θ of orthogonal vectors", c_orth, 0, 1e-6);
    LAB_CHECK_CLOSE(r, "cos θ of opposite vectors", c_opp, -1, 1e-6);
    LAB_CHECK_CLOSE(r, "angle between [1, 0] and [1, 1]", angle, 45, 1e-4);
    nd_tensor *x = LAB_CALL(nd_arange(0, 3, 1, ND_F32));
    nd_tensor *xy = LAB_CALL(nd_dot(x, nd_ones(ND_F32, ND_SHAPE(3))));
    LAB_TENSOR(r, "dot(arange(3), ones(3))", xy); /* d2l 2.3.8 */
    LAB_CHECK_CLOSE(r, "d2l's dot product", nd_item(xy), 3, 0);
}

static void products(report *r) {
    report_heading(r, "矩阵乘法 — the Hadamard product ⊙ (Python's *) versus the matrix product");
    nd_tensor *A = LAB_CALL(nd_reshape(nd_arange(0, 6, 1, ND_F32), ND_SHAPE(2, 3)));
    LAB_TENSOR(r, "A", A);
    nd_tensor *hadamard = LAB_CALL(nd_mul(A, A));
    LAB_TENSOR(r, "A ⊙ A (nd_mul, elementwise)", hadamard);
    nd_tensor *Ax = LAB_CALL(nd_matmul(A, nd_arange(0, 3, 1, ND_F32)));
    LAB_TENSOR(r, "A x, x = arange(3) (nd_matmul)", Ax);
    nd_tensor *AB = LAB_CALL(nd_matmul(A, nd_ones(ND_F32, ND_SHAPE(3, 4))));
    LAB_TENSOR(r, "A B, B = ones(3, 4)", AB);
    LAB_CHECK_CLOSE(r, "(A ⊙ A)[1, 2]", nd_get(hadamard, (int64_t[]){1, 2}), 25, 0);
    LAB_CHECK_CLOSE(r, "(A x)[0]", nd_get(Ax, (int64_t[]){0}), 5, 0);
    LAB_CHECK_CLOSE(r, "(A x)[1]", nd_get(Ax, (int64_t[]){1}), 14, 0);
    LAB_CHECK_CLOSE(r, "(A B)[1, 3]", nd_get(AB, (int64_t[]){1, 3}), 12, 0);
    /* 行列维数需要一致: (2, 3)·(2, 3) does not fit, and nd says why */
    nd_tensor *AA = LAB_CALL(nd_matmul(A, A));
    lab_check(r, !AA, "A·A with A (2, 3)", "an error (shapes do not match)", "%s",
              AA ? "a result" : "an error");
    report_pre(r, "A A: %s", nd_last_error() ? nd_last_error() : "?");
    nd_clear_error();
}

/* The unit square's outline (2, 5) and its image under M, with the basis vectors. */
static void plane_map(report *r, nd_tensor *M) {
    report_heading(r, "几何意义: 矩阵乘法是空间线性变形 — a matrix maps the plane");
    nd_tensor *square = f64("[[0.0, 1, 1, 0, 0], [0, 0, 1, 1, 0]]"); /* corners as columns */
    nd_tensor *image = LAB_CALL(nd_matmul(M, square));
    LAB_TENSOR(r, "M", M);
    LAB_TENSOR(r, "M · (corners of the unit square, as columns)", image);
    char title[128];
    snprintf(title, sizeof title, "M = %s maps the unit square", lab_text("matrix"));
    nd_plot *p = nd_plot_new(title, "x₁", "x₂");
    nd_plot_dashed(p, nd_select(square, 0, 0), nd_select(square, 0, 1), "unit square");
    nd_plot_line(p, nd_select(image, 0, 0), nd_select(image, 0, 1), "M · square");
    nd_plot_arrow(p, 0, 0, 1, 0, "e₁");
    nd_plot_arrow(p, 0, 0, 0, 1, "e₂");
    /* M e₁ and M e₂ are M's columns: where the coordinate axes go */
    nd_plot_arrow(p, 0, 0, nd_get(M, (int64_t[]){0, 0}), nd_get(M, (int64_t[]){1, 0}), "M e₁");
    nd_plot_arrow(p, 0, 0, nd_get(M, (int64_t[]){0, 1}), nd_get(M, (int64_t[]){1, 1}), "M e₂");
    nd_plot_range(p, -0.5, 4, -0.5, 5.5);
    nd_plot_equal_axes(p, true);
    if (lab_figure(r, p, "linalg_map", 560, 560,
                   "The unit square (dashed) and its image: M e₁ and M e₂ are M's columns"))
        report_fail(r, "%s", nd_last_error());
    LAB_CHECK_CLOSE(r, "area of the image (det M)", nd_item(nd_det(M)), 4, 1e-9);
}

static void eigenvectors(report *r, nd_tensor *M) {
    report_heading(r, "矩阵的特征向量: 不被此矩阵改变方向 — eigenvectors keep their direction");
    nd_tensor *values = NULL, *imag = NULL, *vectors = NULL;
    if (nd_eig(M, &values, &imag, &vectors, NULL)) return;
    LAB_TENSOR(r, "eigenvalues", values);
    LAB_TENSOR(r, "eigenvectors (columns)", vectors);
    nd_plot *p = nd_plot_new("Av = λv: eigenvectors stay on their line", "x₁", "x₂");
    for (int k = 0; k < 2; k++) {
        double lambda = nd_get(values, (int64_t[]){k});
        nd_tensor *v = nd_select(vectors, 1, k);
        if (nd_get(v, (int64_t[]){0}) < 0) v = nd_neg(v); /* -v is as good: point it right */
        nd_tensor *Av = nd_mv(M, v);
        double v0 = nd_get(v, (int64_t[]){0}), v1 = nd_get(v, (int64_t[]){1});
        /* the line the eigenvector spans: A maps it onto itself */
        nd_tensor *line = nd_mul(nd_parse("[[-4.0], [6]]"), nd_unsqueeze(nd_to(v, ND_F32), 0));
        char label[64];
        snprintf(label, sizeof label, "the line of v, λ = %g", lambda);
        nd_plot_dashed(p, nd_select(line, 1, 0), nd_select(line, 1, 1), label);
        /* labels beside the arrows, off the grid lines and the dashed lines */
        if (fabs(lambda - 1) < 1e-9) {
            nd_plot_arrow(p, 0, 0, v0, v1, NULL);
            nd_plot_text(p, v0 + 0.15, v1 + 0.1, "v = A v (λ = 1)");
            LAB_CHECK_CLOSE(r, "eigenvector of λ = 1 along [1, -1]", v0 + v1, 0, 1e-9);
        } else {
            snprintf(label, sizeof label, "A v = %g v", lambda);
            nd_plot_arrow(p, 0, 0, nd_get(Av, (int64_t[]){0}), nd_get(Av, (int64_t[]){1}), NULL);
            nd_plot_text(p, nd_get(Av, (int64_t[]){0}) + 0.15, nd_get(Av, (int64_t[]){1}) - 0.3,
                         label);
            nd_plot_arrow(p, 0, 0, v0, v1, NULL);
            nd_plot_text(p, v0 + 0.15, v1 - 0.2, "v");
            LAB_CHECK_CLOSE(r, "eigenvector of λ = 4 along [1, 2]", 2 * v0 - v1, 0, 1e-9);
        }
        LAB_CHECK_CLOSE(r, "|A v - λ v|", nd_item(nd_norm(nd_sub(Av, nd_mul_scalar(v, lambda)), 2)),
                        0, 1e-9);
    }
    double lo = fmin(nd_get(values, (int64_t[]){0}), nd_get(values, (int64_t[]){1}));
    double hi = fmax(nd_get(values, (int64_t[]){0}), nd_get(values, (int64_t[]){1}));
    LAB_CHECK_CLOSE(r, "smaller eigenvalue", lo, 1, 1e-9);
    LAB_CHECK_CLOSE(r, "larger eigenvalue", hi, 4, 1e-9);
    LAB_CHECK_CLOSE(r, "imaginary parts", nd_item(nd_norm(imag, 1)), 0, 1e-12);
    /* for contrast: a vector that is not an eigenvector turns */
    nd_plot_arrow(p, 0, 0, 1, 0, NULL);
    nd_plot_text(p, 1.1, 0.2, "u = e₁");
    nd_plot_arrow(p, 0, 0, 2, 2, NULL);
    nd_plot_text(p, 2.1, 1.7, "A u: turned");
    nd_plot_range(p, -1.5, 3.5, -1.5, 4);
    nd_plot_equal_axes(p, true);
    if (lab_figure(r, p, "linalg_eigen", 560, 560,
                   "Each eigenvector v and A v lie on one line (A v = λ v, λ = 1 and 4); "
                   "e₁ is not an eigenvector: A turns it"))
        report_fail(r, "%s", nd_last_error());
}

static void norms(report *r) {
    report_heading(r, "范数 — norms");
    nd_tensor *u = LAB_CALL(nd_parse("[3.0, -4]"));
    double l1 = nd_item(nd_norm(u, 1)), l2 = nd_item(nd_norm(u, 2));
    double frobenius = nd_item(nd_norm(nd_ones(ND_F32, ND_SHAPE(4, 9)), 2));
    report_pre(r, "‖[3, -4]‖₁ = %g   ‖[3, -4]‖₂ = %g   ‖ones(4, 9)‖_F = %g", l1, l2, frobenius);
    LAB_CHECK_CLOSE(r, "L1 norm of [3, -4]", l1, 7, 1e-6);
    LAB_CHECK_CLOSE(r, "L2 norm of [3, -4]", l2, 5, 1e-6);
    LAB_CHECK_CLOSE(r, "Frobenius norm of ones(4, 9)", frobenius, 6, 1e-6);
}

static void affine(report *r) {
    report_heading(r, "仿射变换 — an affine map in homogeneous coordinates");
    /* rotate first, then translate: the rightmost matrix applies first */
    double theta = PI / 6;
    nd_tensor *M = LAB_CALL(nd_matmul(nd_affine_translate(2, 1), nd_affine_rotate(theta)));
    LAB_TENSOR(r, "M = translate(2, 1) · rotate(π/6)", M);
    /* a house outline, points as columns (x, y, 1) */
    nd_tensor *house = f64("[[0.0, 1, 1, 0.5, 0, 0], [0, 0, 1, 1.5, 1, 0], [1, 1, 1, 1, 1, 1]]");
    nd_tensor *moved = LAB_CALL(nd_matmul(M, house));
    LAB_TENSOR(r, "M · points", moved);
    nd_plot *p = nd_plot_new("[[m00, m01, tx], [m10, m11, ty], [0, 0, 1]] · (x, y, 1)", "x", "y");
    nd_plot_dashed(p, nd_select(house, 0, 0), nd_select(house, 0, 1), "points");
    nd_plot_line(p, nd_select(moved, 0, 0), nd_select(moved, 0, 1), "M · points");
    nd_plot_arrow(p, 0, 0, 2, 1, "translation (2, 1)");
    nd_plot_range(p, -0.5, 4.5, -0.5, 2.5);
    nd_plot_equal_axes(p, true);
    if (lab_figure(r, p, "linalg_affine", 560, 480,
                   "nd_affine_rotate is the course's [[cos θ, sin θ], [−sin θ, cos θ]]: with y up "
                   "it turns clockwise (with image rows, y down, it looks counter-clockwise)"))
        report_fail(r, "%s", nd_last_error());
    /* the corner (1, 0) goes to (2 + cos θ, 1 − sin θ) */
    LAB_CHECK_CLOSE(r, "x of M (1, 0, 1)", nd_get(moved, (int64_t[]){0, 1}), 2 + cos(theta), 1e-6);
    LAB_CHECK_CLOSE(r, "y of M (1, 0, 1)", nd_get(moved, (int64_t[]){1, 1}), 1 - sin(theta), 1e-6);
}

static int run(report *r) {
    report_section(r, "linear-algebra", "线性代数 (linear algebra)",
                   "几何意义: vectors, products, matrices as maps of the plane, eigenvectors");
    addition(r);
    similarity(r);
    products(r);
    nd_tensor *M = f64(lab_text("matrix"));
    plane_map(r, M);
    eigenvectors(r, M);
    norms(r);
    affine(r);
    return nd_last_error() ? -1 : 0;
}

/* Listed in registry.c, in the chapter's order. */
const lab linear_algebra_lab = {.name = "linear-algebra",
                                .title = "线性代数",
                                .summary =
                                    "dot products, matrix maps of the plane, eigenvectors, norms, "
                                    "affine maps",
                                .options = options,
                                .run = run};
