/* Lab 2, 数据预处理 (data preprocessing, the pandas lab): from a CSV file with
 * missing values to tensors, the way d2l does it with pandas. The student
 * should see the raw frame, the missing NumRooms filled with the column's
 * mean (3), the Alley column turned into indicator columns (Alley_Pave,
 * Alley_nan), and the tensors X and y that a model can learn from. The
 * exercise then drops the column with the most missing values of a larger table. */
#include "lab.h"

#include <math.h>
#include <nd_frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* `nd lab data --csv my.csv`: the exercise's table. */
static const option options[] = {
    {.name = "csv",
     .type = OPTION_TEXT,
     .fallback = "house_small.csv",
     .help = "the CSV table of the exercise (house_small.csv: the bundled one)"},
    {.name = NULL}, /* the end of the table */
};

static void show_frame(report *r, const char *label, const nd_frame *f) {
    char *text = nd_frame_format(f);
    report_pre(r, "%s:\n%s", label, text ? text : nd_last_error());
    free(text);
}

/* d2l 2.2: house_tiny.csv -> X (4, 3) and y (4,). */
static int tiny(report *r) {
    report_heading(r, "读取数据集 — reading the data set");
    nd_frame *data = LAB_CALL(nd_read_csv(lab_data_path("house_tiny.csv"), NULL));
    if (!data) return -1;
    show_frame(r, "data = read_csv('house_tiny.csv')", data);

    report_heading(r,
                   "处理缺失值 — missing values: fill numbers with the mean, text with indicators");
    nd_frame *inputs = LAB_CALL(nd_frame_iloc(data, 0, ND_END, 0, 2)); /* data.iloc[:, 0:2] */
    nd_frame *outputs = LAB_CALL(nd_frame_iloc(data, 0, ND_END, 2, 3));
    nd_frame *filled = LAB_CALL(nd_frame_fillna_mean(inputs));
    show_frame(r, "inputs = inputs.fillna(inputs.mean())", filled);
    nd_frame *dummies = LAB_CALL(nd_frame_get_dummies(filled, true));
    show_frame(r, "inputs = get_dummies(inputs, dummy_na=True)", dummies);

    report_heading(r, "转换为张量格式 — conversion to tensors");
    nd_tensor *X = LAB_CALL(nd_frame_to_tensor(dummies, ND_F64));
    nd_tensor *y = LAB_CALL(nd_frame_column_tensor(outputs, 0, ND_F64));
    LAB_TENSOR(r, "X", X);
    LAB_TENSOR(r, "y", y);
    nd_tensor *want_x = LAB_CALL(nd_parse("[[3.0, 1, 0], [2, 0, 1], [4, 0, 1], [3, 0, 1]]"));
    nd_tensor *want_y = LAB_CALL(nd_parse("[127500.0, 106000, 178100, 140000]"));
    lab_check(r, nd_allclose(X, nd_to(want_x, ND_F64), 0, 1e-12), "X",
              "[[3, 1, 0], [2, 0, 1], [4, 0, 1], [3, 0, 1]]", "%s", lab_values(X));
    lab_check(r, nd_allclose(y, nd_to(want_y, ND_F64), 0, 1e-9), "y",
              "[127500, 106000, 178100, 140000]", "%s", lab_values(y));
    LAB_CHECK_CLOSE(r, "NumRooms filled with the mean", nd_get(X, (int64_t[]){0, 0}), 3, 1e-12);
    nd_frame_free(data), nd_frame_free(inputs), nd_frame_free(outputs);
    nd_frame_free(filled), nd_frame_free(dummies);
    return X && y ? 0 : -1;
}

/* A table like house_small.csv when the data folder has none: 40 houses,
 * about a fifth of the cells missing, more of them in one column. */
static const char *generate_table(report *r) {
    static char path[4096];
    snprintf(path, sizeof path, "%s", report_file_path(r, "house_generated.csv"));
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    nd_tensor *u = LAB_CALL(nd_rand(ND_F64, ND_SHAPE(40, 5)));
    fprintf(f, "Area,NumRooms,Alley,YearBuilt,Price\n");
    for (int64_t i = 0; i < 40; i++) {
        double c[5];
        for (int j = 0; j < 5; j++) c[j] = nd_get(u, (int64_t[]){i, j});
        bool gap = c[4] < 0.15; /* a missing cell in the row, somewhere */
        if (gap && c[0] < 0.5)
            fprintf(f, ",");
        else
            fprintf(f, "%.1f,", 40 + 160 * c[0]);
        if (gap && c[0] >= 0.5)
            fprintf(f, ",");
        else
            fprintf(f, "%d,", 1 + (int)(5 * c[1]));
        fprintf(f, "%s,",
                c[2] < 0.5   ? ""
                : c[2] < 0.8 ? "Pave"
                             : "Grvl"); /* Alley: often missing */
        fprintf(f, "%d,%d\n", 1950 + (int)(70 * c[3]),
                60000 + (int)(200000 * c[1] * c[0] + 1000 * i));
    }
    fclose(f);
    return path;
}

static int exercise(report *r) {
    report_heading(r, "练习 — exercise: drop the column with the most missing values");
    const char *csv = lab_text("csv");
    bool bundled = !strcmp(csv, "house_small.csv");
    const char *path = bundled ? lab_data_path(csv) : csv;
    if (bundled && access(path, R_OK) != 0) path = generate_table(r); /* a student's file: as is */
    nd_frame *data = path ? nd_read_csv(path, NULL) : NULL;
    if (!data) return -1;
    report_para(r, "%s: %lld rows, %d columns.", path, (long long)nd_frame_rows(data),
                nd_frame_cols(data));
    int worst = 0;
    char counts[512] = "";
    for (int c = 0; c < nd_frame_cols(data); c++) {
        int64_t na = nd_frame_na_count(data, c);
        size_t used = strlen(counts);
        snprintf(counts + used, sizeof counts - used, "%-10s %lld\n", nd_frame_name(data, c),
                 (long long)na);
        if (na > nd_frame_na_count(data, worst)) worst = c;
    }
    report_pre(r, "missing values per column (data.isna().sum()):\n%s", counts);
    nd_frame *kept = LAB_CALL(nd_frame_drop(data, nd_frame_name(data, worst)));
    int last = nd_frame_cols(kept) - 1; /* the price, to predict */
    nd_frame *inputs = LAB_CALL(nd_frame_iloc(kept, 0, ND_END, 0, last));
    nd_frame *filled = LAB_CALL(nd_frame_fillna_mean(inputs));
    nd_frame *dummies = LAB_CALL(nd_frame_get_dummies(filled, true));
    nd_tensor *X = LAB_CALL(nd_frame_to_tensor(dummies, ND_F64));
    nd_tensor *y = LAB_CALL(nd_frame_column_tensor(kept, last, ND_F64));
    char *shape = nd_shape_string(X);
    report_para(r,
                "Dropped '%s' (%lld missing); filled the numbers with their means, turned text "
                "into indicators: X has shape %s, y has %lld prices.",
                nd_frame_name(data, worst), (long long)nd_frame_na_count(data, worst),
                shape ? shape : "?", (long long)nd_numel(y));
    free(shape);
    nd_frame *head = LAB_CALL(nd_frame_iloc(dummies, 0, 5, 0, ND_END));
    show_frame(r, "inputs.head()", head);
    nd_frame_free(head);
    /* every missing cell is gone: the sum of X is a number, not NaN */
    double total = nd_item(nd_sum(X, ND_ALL, false));
    lab_check(r, isfinite(total), "no missing value left: the sum of X", "a number (not NaN)", "%g",
              total);
    LAB_CHECK_CLOSE(r, "rows of X", nd_size(X, 0), nd_frame_rows(data), 0);
    nd_frame_free(data), nd_frame_free(kept), nd_frame_free(inputs);
    nd_frame_free(filled), nd_frame_free(dummies);
    return X && y ? 0 : -1;
}

static int run(report *r) {
    report_section(r, "data", "数据预处理 (data preprocessing)",
                   "pandas软件包: read a CSV file, fill missing values, indicators, tensors");
    if (tiny(r) || exercise(r)) return -1;
    return 0;
}

/* Listed in registry.c, in the chapter's order. */
const lab data_lab = {.name = "data",
                      .title = "数据预处理",
                      .summary =
                          "CSV with missing values to tensors: fillna, get_dummies (d2l 2.2)",
                      .source = "d2l 2.2",
                      .options = options,
                      .run = run};
