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

/* --a, --b: a shape such as "3,1" (1 to 4 sizes from 1 to 100); its number of dims, or -1. */
static int read_shape(const char *text, int64_t *shape) {
    int n = 0;
    for (const char *c = text; *c;) {
        if (*c == ' ' || *c == ',') {
            c++;
            continue;
        }
        char *end;
        long v = strtol(c, &end, 10);
        if (end == c || n == 4 || v < 1 || v > 100) return -1;
        shape[n++] = v;
        c = end;
    }
    return n ? n : -1;
}
static int shape_ok(const char *text, char *error, size_t size) {
    int64_t shape[4];
    if (read_shape(text, shape) > 0) return 0;
    snprintf(error, size, "a shape of 1 to 4 sizes from 1 to 100, such as \"3,1\", is needed");
    return -1;
}

/* `nd lab tensors --batch 8 --frames 5 --videos 3 --a "2,3,1" --b "4"`: other shapes. */
static const option options[] = {
    {.name = "batch",
     .type = OPTION_INT,
     .fallback = "4",
     .help = "images N in the 4-d batch (N, C, H, W)",
     .min = 1,
     .max = 16},
    {.name = "frames",
     .type = OPTION_INT,
     .fallback = "3",
     .help = "frames T of each video in the 5-d batch (N, T, C, H, W)",
     .min = 1,
     .max = 16},
    {.name = "videos",
     .type = OPTION_INT,
     .fallback = "2",
     .help = "videos N in the 5-d batch",
     .min = 1,
     .max = 8},
    {.name = "a",
     .type = OPTION_TEXT,
     .fallback = "3,1",
     .help = "the shape of a = arange(...).reshape(shape), broadcast with b",
     .check = shape_ok},
    {.name = "b",
     .type = OPTION_TEXT,
     .fallback = "1,2",
     .help = "the shape of b, broadcast with a",
     .check = shape_ok},
    {.name = NULL}, /* the end of the table */
};

/* "(3, 1)": a shape as the course writes it. */
static void shape_text(int n, const int64_t *shape, char *out, size_t size) {
    int len = snprintf(out, size, "(");
    for (int i = 0; i < n && len < (int)size; i++)
        len +=
            snprintf(out + len, size - (size_t)len, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (len < (int)size) snprintf(out + len, size - (size_t)len, "%s)", n == 1 ? "," : "");
}

/* {t, t, ..., t}: the tensors nd_stack joins, here one image (or clip) many times. */
static nd_tensor *const *same(nd_tensor *t) {
    static nd_tensor *many[16];
    for (int i = 0; i < 16; i++) many[i] = t;
    return many;
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
    int nbatch = lab_int("batch"), nframes = lab_int("frames"), nvideos = lab_int("videos");
    nd_tensor *batch = LAB_CALL(nd_stack(nbatch, same(image), 0));
    /* a batch of videos: frames are images stacked on a time axis, videos stacked on those */
    nd_tensor *clip = LAB_CALL(nd_stack(nframes, same(image), 0));
    nd_tensor *videos = LAB_CALL(nd_stack(nvideos, same(clip), 0));
    const nd_tensor *examples[6] = {scalar, vector, matrix, image, batch, videos};
    /* short cells: the table is echoed to the terminal in 16-character columns */
    static const char *const kinds[6][2] = {{"0-d scalar", "()"},
                                            {"1-d vector", "(features,)"},
                                            {"2-d matrix", "(N, features)"},
                                            {"3-d RGB image", "(C, H, W)"},
                                            {"4-d image batch", "(N, C, H, W)"},
                                            {"5-d video batch", "(N, T, C, H, W)"}};
    report_table_begin(r, 4, (const char *const[]){"example", "layout", "ndim", "shape"});
    for (int i = 0; i < 6; i++) {
        char *shape = nd_shape_string(examples[i]);
        report_table_row(r, "%s\t%s\t%d\t%s", kinds[i][0], kinds[i][1], nd_ndim(examples[i]),
                         shape ? shape : "?");
        free(shape);
    }
    report_table_end(r);
    LAB_CHECK_CLOSE(r, "ndim of a batch of videos", nd_ndim(videos), 5, 0);
    LAB_CHECK_CLOSE(r, "images in the batch (N)", nd_size(batch, 0), nbatch, 0);
    LAB_CHECK_CLOSE(r, "frames of a video (T)", nd_size(videos, 1), nframes, 0);
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

    int64_t ashape[4], bshape[4];
    int an = read_shape(lab_text("a"), ashape), bn = read_shape(lab_text("b"), bshape);
    char as[64], bs[64], heading[192];
    shape_text(an, ashape, as, sizeof as), shape_text(bn, bshape, bs, sizeof bs);
    snprintf(heading, sizeof heading, "广播机制 — broadcasting %s + %s", as, bs);
    report_heading(r, heading);
    /* by the rule: align the shapes on the right; each pair of sizes is equal or one is 1 */
    int cn = an > bn ? an : bn;
    int64_t cshape[4];
    bool broadcasts = true;
    for (int i = 0; i < cn; i++) {
        int64_t sa = i < cn - an ? 1 : ashape[i - (cn - an)];
        int64_t sb = i < cn - bn ? 1 : bshape[i - (cn - bn)];
        broadcasts = broadcasts && (sa == sb || sa == 1 || sb == 1);
        cshape[i] = sa > sb ? sa : sb;
    }
    int64_t na = 1, nb = 1;
    for (int i = 0; i < an; i++) na *= ashape[i];
    for (int i = 0; i < bn; i++) nb *= bshape[i];
    nd_tensor *a3 = LAB_CALL(nd_reshape(nd_arange(0, (double)na, 1, ND_I64), an, ashape));
    nd_tensor *b2 = LAB_CALL(nd_reshape(nd_arange(0, (double)nb, 1, ND_I64), bn, bshape));
    LAB_TENSOR(r, "a", a3);
    LAB_TENSOR(r, "b", b2);
    nd_tensor *sum = LAB_CALL(nd_add(a3, b2));
    if (!broadcasts || !sum) {
        /* what the student asked for: shown as nd's message, not a failure of the lab */
        report_para(r,
                    "These shapes do not broadcast (a pair of sizes differs and neither is 1): %s",
                    nd_last_error() ? nd_last_error() : "nd_add did not refuse them");
        lab_check(r, !sum, "nd_add refuses shapes that do not broadcast", "an error", "%s",
                  sum ? "a result" : "an error");
        nd_clear_error();
        return;
    }
    char cs[64], got[64], label[128];
    shape_text(cn, cshape, cs, sizeof cs);
    shape_text(nd_ndim(sum), nd_shape(sum), got, sizeof got);
    snprintf(label, sizeof label, "a + b (both stretched to %s)", cs);
    LAB_TENSOR(r, label, sum);
    lab_check(r, !strcmp(got, cs), "shape of a + b by the broadcasting rule", cs, "%s", got);
    /* the last elements meet: (a + b)[-1, ..., -1] = (na − 1) + (nb − 1), the largest */
    LAB_CHECK_CLOSE(r, "(a + b)'s largest element, a's last + b's last",
                    nd_item(nd_max(sum, ND_ALL, false)), (double)(na + nb - 2), 0);
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
                         .options = options,
                         .run = run};
