/* Lab 1, N维数组 (N-dimensional arrays): what a tensor is, by its shape.
 * The student should see 0-d to 5-d tensors the course names (a class, a
 * feature vector, a sample-feature matrix, an RGB image, a batch of images, a
 * batch of videos), then d2l's data operations on X = arange(12).reshape(3, 4):
 * indexing and slicing, adding and removing dimensions, joining, broadcasting,
 * views against copies, elementwise arithmetic and reductions. */
#include "lab.h"

#include <math.h>
#include <nd_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The course's RGB image (C, H, W): the test card, or a synthetic gradient
 * when the file cannot be read. */
static nd_tensor *rgb_image(report *r) {
    nd_tensor *img = LAB_CALL(nd_image_read(lab_data_path("testcard.png")));
    if (img) return nd_image_to_float(img);
    report_para(r, "(data/testcard.png could not be read: %s; a synthetic image instead)",
                nd_last_error());
    nd_clear_error();
    nd_tensor *ramp = LAB_CALL(nd_linspace(0, 1, 48, ND_F32));
    nd_tensor *rows =
        LAB_CALL(nd_expand(nd_reshape(ramp, ND_SHAPE(1, 1, 48)), ND_SHAPE(3, 32, 48)));
    return nd_contiguous(rows);
}

static void dimensions(report *r) {
    report_heading(r, "几个常见特例 — common special cases, 0-d to 5-d");
    nd_tensor *scalar = LAB_CALL(nd_scalar(1.0, ND_F32));
    nd_tensor *vector = LAB_CALL(nd_parse("[1.0, 2.7, 3.4]"));
    nd_tensor *matrix = LAB_CALL(nd_parse("[[1.0, 2.7, 3.4], [5.0, 0.2, 4.6], [4.3, 8.5, 0.2]]"));
    LAB_TENSOR(r, "0-d (标量, a class)", scalar);
    LAB_TENSOR(r, "1-d (向量, a feature vector)", vector);
    LAB_TENSOR(r, "2-d (矩阵, a sample-feature matrix)", matrix);
    nd_tensor *image = rgb_image(r);
    nd_tensor *batch = LAB_CALL(nd_stack(4, (nd_tensor *const[]){image, image, image, image}, 0));
    /* a batch of 2 videos of 3 frames: frames are images, stacked on a time axis */
    nd_tensor *clip = LAB_CALL(nd_stack(3, (nd_tensor *const[]){image, image, image}, 0));
    nd_tensor *videos = LAB_CALL(nd_stack(2, (nd_tensor *const[]){clip, clip}, 0));
    const nd_tensor *examples[6] = {scalar, vector, matrix, image, batch, videos};
    /* short cells: the table is echoed to the terminal in 16-character columns */
    static const char *const kinds[6][2] = {{"0-d scalar", "()"},
                                            {"1-d vector", "(features,)"},
                                            {"2-d matrix", "(N, features)"},
                                            {"3-d RGB image", "(C, H, W)"},
                                            {"4-d image batch", "(N, C, H, W)"},
                                            {"5-d video batch", "(N, T, C, H, W)"}};
    char ndims[6][8], shapes[6][64];
    const char *cells[6 * 4];
    for (int i = 0; i < 6; i++) {
        char *shape = nd_shape_string(examples[i]);
        snprintf(ndims[i], sizeof ndims[i], "%d", nd_ndim(examples[i]));
        snprintf(shapes[i], sizeof shapes[i], "%s", shape ? shape : "?");
        free(shape);
        const char *row[4] = {kinds[i][0], kinds[i][1], ndims[i], shapes[i]};
        memcpy(cells + 4 * i, row, sizeof row);
    }
    report_table(r, 4, 6, (const char *const[]){"example", "layout", "ndim", "shape"}, cells);
    LAB_CHECK_CLOSE(r, "ndim of a batch of videos", nd_ndim(videos), 5, 0);
    LAB_CHECK_CLOSE(r, "channels of the RGB image", nd_size(image, 0), 3, 0);
}

static void indexing(report *r) {
    report_heading(r, "索引与切片 — indexing and slicing");
    nd_tensor *x = LAB_CALL(nd_reshape(nd_arange(0, 12, 1, ND_F32), ND_SHAPE(3, 4)));
    LAB_TENSOR(r, "X = arange(12).reshape(3, 4)", x);
    LAB_TENSOR(r, "X[-1]", nd_select(x, 0, -1));
    LAB_TENSOR(r, "X[1:3]", nd_slice(x, 0, 1, 3, 1));
    nd_fill_(nd_select(nd_select(x, 0, 1), 0, 2), 9); /* X[1, 2] = 9 */
    LAB_TENSOR(r, "X (after X[1, 2] = 9)", x);
    nd_fill_(nd_slice(x, 0, 0, 2, 1), 12); /* X[0:2, :] = 12: a view of two rows */
    LAB_TENSOR(r, "X (after X[0:2, :] = 12)", x);
    LAB_CHECK_CLOSE(r, "X[1, 2] after the writes", nd_get(x, (int64_t[]){1, 2}), 12, 0);
    LAB_CHECK_CLOSE(r, "X[2, 3]", nd_get(x, (int64_t[]){2, 3}), 11, 0);
}

static void reshaping(report *r) {
    report_heading(r, "增减维度与拼接 — adding and removing dimensions, concatenation, stacking");
    nd_tensor *x = LAB_CALL(nd_reshape(nd_arange(0, 12, 1, ND_F32), ND_SHAPE(3, 4)));
    nd_tensor *y = LAB_CALL(nd_parse("[[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]]"));
    nd_tensor *row = LAB_CALL(nd_unsqueeze(x, 0)), *col = LAB_CALL(nd_unsqueeze(x, -1));
    char *a = nd_shape_string(row), *b = nd_shape_string(col),
         *c = nd_shape_string(nd_squeeze(row, 0));
    report_pre(r, "X.unsqueeze(0): %s   X.unsqueeze(-1): %s   X.unsqueeze(0).squeeze(0): %s", a, b,
               c);
    free(a), free(b), free(c);
    nd_tensor *pair[2] = {x, y};
    LAB_TENSOR(r, "cat((X, Y), dim=0)", nd_cat(2, pair, 0));
    LAB_TENSOR(r, "cat((X, Y), dim=1)", nd_cat(2, pair, 1));
    nd_tensor *s0 = LAB_CALL(nd_stack(2, pair, 0)), *s1 = LAB_CALL(nd_stack(2, pair, 1));
    a = nd_shape_string(s0), b = nd_shape_string(s1);
    report_pre(r, "stack((X, Y), dim=0).shape = %s   stack((X, Y), dim=1).shape = %s", a, b);
    free(a), free(b);
    LAB_CHECK_CLOSE(r, "cat dim 0 rows", nd_size(nd_cat(2, pair, 0), 0), 6, 0);
    LAB_CHECK_CLOSE(r, "stack dim 1 size", nd_size(s1, 1), 2, 0);

    report_heading(r, "广播机制 — broadcasting (3, 1) + (1, 2)");
    nd_tensor *a3 = LAB_CALL(nd_reshape(nd_arange(0, 3, 1, ND_I64), ND_SHAPE(3, 1)));
    nd_tensor *b2 = LAB_CALL(nd_reshape(nd_arange(0, 2, 1, ND_I64), ND_SHAPE(1, 2)));
    LAB_TENSOR(r, "a", a3);
    LAB_TENSOR(r, "b", b2);
    nd_tensor *sum = LAB_CALL(nd_add(a3, b2));
    LAB_TENSOR(r, "a + b (both stretched to (3, 2))", sum);
    LAB_CHECK_CLOSE(r, "(a + b)[2, 1]", nd_get(sum, (int64_t[]){2, 1}), 3, 0);
}

static void views(report *r) {
    report_heading(r, "视图与副本 — views versus copies");
    nd_tensor *x = LAB_CALL(nd_reshape(nd_arange(0, 12, 1, ND_F32), ND_SHAPE(3, 4)));
    nd_tensor *view = nd_transpose(x, 0, 1);               /* shares X's memory */
    nd_tensor *copy = nd_clone(x);                         /* memory of its own */
    nd_fill_(nd_select(nd_select(view, 0, 0), 0, 0), 100); /* Xᵀ[0, 0] = 100 */
    nd_fill_(nd_select(nd_select(copy, 0, 2), 0, 3), -1);  /* copy[2, 3] = -1 */
    report_para(r,
                "V = X.T shares X's storage: %s; C = X.clone() does: %s. Writing V[0, 0] = 100 "
                "changes X[0, 0]; writing C[2, 3] = -1 leaves X alone:",
                nd_shares_storage(x, view) ? "yes" : "no",
                nd_shares_storage(x, copy) ? "yes" : "no");
    LAB_TENSOR(r, "X", x);
    LAB_CHECK_CLOSE(r, "X[0, 0] after writing through the view", nd_get(x, (int64_t[]){0, 0}), 100,
                    0);
    LAB_CHECK_CLOSE(r, "X[2, 3] after writing the clone", nd_get(x, (int64_t[]){2, 3}), 11, 0);
}

static void arithmetic(report *r) {
    report_heading(r, "运算符 — elementwise operations, comparison, sum");
    nd_tensor *x = LAB_CALL(nd_parse("[1.0, 2, 4, 8]")), *y = LAB_CALL(nd_parse("[2.0, 2, 2, 2]"));
    LAB_TENSOR(r, "x + y", nd_add(x, y));
    LAB_TENSOR(r, "x - y", nd_sub(x, y));
    LAB_TENSOR(r, "x * y", nd_mul(x, y));
    LAB_TENSOR(r, "x / y", nd_div(x, y));
    nd_tensor *power = LAB_CALL(nd_pow(x, y));
    LAB_TENSOR(r, "x ** y", power);
    LAB_TENSOR(r, "exp(x)", nd_exp(x));
    LAB_CHECK_CLOSE(r, "(x ** y)[3]", nd_get(power, (int64_t[]){3}), 64, 0);
    nd_tensor *X = LAB_CALL(nd_reshape(nd_arange(0, 12, 1, ND_F32), ND_SHAPE(3, 4)));
    nd_tensor *Y = LAB_CALL(nd_parse("[[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]]"));
    LAB_TENSOR(r, "X == Y", nd_eq(X, Y));
    nd_tensor *total = LAB_CALL(nd_sum(X, ND_ALL, false));
    LAB_TENSOR(r, "X.sum()", total);
    LAB_CHECK_CLOSE(r, "X.sum()", nd_item(total), 66, 0);
    LAB_CHECK_CLOSE(r, "(X == Y).sum()", nd_item(nd_sum(nd_eq(X, Y), ND_ALL, false)), 2, 0);
}

static int run(report *r) {
    report_section(r, "tensors", "N维数组 (N-dimensional arrays)",
                   "张量 tensor: shapes from 0-d to 5-d, indexing, joining, broadcasting, views");
    dimensions(r);
    indexing(r);
    reshaping(r);
    views(r);
    arithmetic(r);
    return nd_last_error() ? -1 : 0;
}

/* Listed in registry.c, in the chapter's order. */
const lab tensors_lab = {.name = "tensors",
                         .title = "N维数组",
                         .summary =
                             "tensors from 0-d to 5-d, indexing, slicing, joining, broadcasting, "
                             "views",
                         .run = run};
