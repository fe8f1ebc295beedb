/* gen_ops_md — writes docs/OPS.md, the list of every op's rules, from the op
 * tables of the sources: each `static const nd_op NAME = {.name = ..., .flags =
 * ..., .vjp_formula = "...", .jvp_formula = "..."}` in src/<part>/<file>.c.
 *
 *   gen_ops_md ROOT OUT           write the list to OUT
 *   gen_ops_md --check ROOT FILE  exit 1 when FILE is not what would be written
 *
 * Both exit 1, naming the op, when a table lacks a formula or cannot be read.
 * It reads the tables as text rather than linking nd: they are static, spread
 * over several libraries (ops, autograd, image), and the designated
 * initializers make the text regular. Part of the build (cmake/nd_tools.cmake);
 * the ctest `ops_md_current` runs --check so the committed list stays current. */
#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ growing text */

typedef struct {
    char *data;
    size_t len, cap;
} text;

static void put(text *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n + 1) cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown) {
            fprintf(stderr, "gen_ops_md: out of memory\n");
            exit(1);
        }
        t->data = grown, t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}
static void puts_(text *t, const char *s) {
    put(t, s, strlen(s));
}

static char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    text t = {0};
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) put(&t, buf, n);
    fclose(f);
    if (!t.data) put(&t, "", 0);
    if (size) *size = t.len;
    return t.data;
}

/* ------------------------------------------------------------- one table */

typedef struct {
    char name[512], ident[64], file[512];
    char flags[512];
    char vjp[512], jvp[512];
} op_entry;

/* src into dst (cap bytes), cut short if it does not fit. */
static void copy_text(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int fail(const char *file, const char *ident, const char *why) {
    fprintf(stderr, "gen_ops_md: %s: op table %s: %s\n", file, ident, why);
    return -1;
}

/* Reads one initializer value at *p into out: adjacent string literals
 * joined (a backslash escape gives the character after it), or an expression up to
 * the next ',' or '}' with its spaces collapsed. */
static const char *read_value(const char *p, char *out, size_t cap) {
    size_t n = 0;
    while (isspace((unsigned char)*p)) p++;
    if (*p == '"') {
        while (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) p++;
                if (n + 1 < cap) out[n++] = *p;
            }
            if (*p) p++;
            while (isspace((unsigned char)*p)) p++;
        }
    } else {
        bool space = false;
        for (; *p && *p != ',' && *p != '}'; p++) {
            if (isspace((unsigned char)*p)) {
                space = n > 0;
                continue;
            }
            if (space && n + 1 < cap) out[n++] = ' ';
            space = false;
            if (n + 1 < cap) out[n++] = *p;
        }
    }
    out[n] = '\0';
    return p;
}

/* Parses the table whose body starts after '{' at p (up to the closing "};"). */
static int parse_table(const char *p, op_entry *e) {
    const char *end = strstr(p, "};");
    if (!end) return fail(e->file, e->ident, "no closing \"};\"");
    while (p < end) {
        const char *dot = strchr(p, '.');
        if (!dot || dot >= end) break;
        const char *eq = strchr(dot, '=');
        if (!eq || eq >= end) return fail(e->file, e->ident, "a field without '='");
        char field[32] = {0};
        size_t n = 0;
        for (const char *q = dot + 1; q < eq && n + 1 < sizeof field; q++)
            if (!isspace((unsigned char)*q)) field[n++] = *q;
        char value[512];
        p = read_value(eq + 1, value, sizeof value);
        if (!strcmp(field, "name"))
            copy_text(e->name, sizeof e->name, value);
        else if (!strcmp(field, "flags"))
            copy_text(e->flags, sizeof e->flags, value);
        else if (!strcmp(field, "vjp_formula"))
            copy_text(e->vjp, sizeof e->vjp, value);
        else if (!strcmp(field, "jvp_formula"))
            copy_text(e->jvp, sizeof e->jvp, value);
        if (*p == ',') p++;
    }
    if (!e->name[0]) return fail(e->file, e->ident, "no .name (use designated initializers)");
    if (!e->vjp[0]) return fail(e->file, e->ident, "no .vjp_formula");
    if (!e->jvp[0]) return fail(e->file, e->ident, "no .jvp_formula");
    return 0;
}

/* ----------------------------------------------------------- the sources */

typedef struct {
    op_entry *items;
    int count, cap;
} op_list;

static int name_order(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every table of one file, in the order they appear. */
static int scan_file(const char *path, const char *shown, op_list *ops) {
    char *src = read_all(path, NULL);
    if (!src) return fprintf(stderr, "gen_ops_md: cannot read %s\n", path), -1;
    const char *key = "static const nd_op ";
    for (const char *p = strstr(src, key); p; p = strstr(p + 1, key)) {
        const char *id = p + strlen(key), *after = id;
        while (isupper((unsigned char)*after) || isdigit((unsigned char)*after) || *after == '_')
            after++;
        if (after == id || strncmp(after, " = {", 4)) continue; /* a prose mention */
        if (ops->count == ops->cap) {
            ops->cap = ops->cap ? 2 * ops->cap : 64;
            op_entry *grown = realloc(ops->items, (size_t)ops->cap * sizeof *grown);
            if (!grown) return free(src), fprintf(stderr, "gen_ops_md: out of memory\n"), -1;
            ops->items = grown;
        }
        op_entry *e = &ops->items[ops->count];
        memset(e, 0, sizeof *e);
        snprintf(e->ident, sizeof e->ident, "%.*s", (int)(after - id), id);
        copy_text(e->file, sizeof e->file, shown);
        if (parse_table(after + 4, e)) return free(src), -1;
        ops->count++;
    }
    free(src);
    return 0;
}

/* src/<part>/<file>.c for every part and file, in name order. */
static int scan_dir(const char *root, const char *rel, bool parts, op_list *ops) {
    char dir_path[4096];
    snprintf(dir_path, sizeof dir_path, "%s/%s", root, rel);
    DIR *dir = opendir(dir_path);
    if (!dir) return fprintf(stderr, "gen_ops_md: cannot list %s\n", dir_path), -1;
    char *names[1024];
    int n = 0;
    struct dirent *d;
    while ((d = readdir(dir)) && n < 1024) {
        size_t len = strlen(d->d_name);
        if (d->d_name[0] == '.') continue;
        if (!parts && (len < 3 || strcmp(d->d_name + len - 2, ".c"))) continue;
        names[n++] = strdup(d->d_name);
    }
    closedir(dir);
    qsort(names, (size_t)n, sizeof *names, name_order);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", rel, names[i]);
        if (!rc) {
            if (parts) {
                char full[8192];
                snprintf(full, sizeof full, "%s/%s", root, sub);
                DIR *is_dir = opendir(full);
                if (is_dir) closedir(is_dir), rc = scan_dir(root, sub, false, ops);
            } else {
                char full[8192];
                snprintf(full, sizeof full, "%s/%s", root, sub);
                rc = scan_file(full, sub, ops);
            }
        }
        free(names[i]);
    }
    return rc;
}

/* ---------------------------------------------------------------- output */

/* Markdown table cell: '|' would end the cell. */
static void cell(text *t, const char *s) {
    for (; *s; s++) {
        if (*s == '|') puts_(t, "\\");
        put(t, s, 1);
    }
}

static const struct {
    const char *flag, *shown;
} flag_names[] = {
    {"ND_SAVES_INPUTS", "saves inputs"},     {"ND_SAVES_OUTPUT", "saves output"},
    {"ND_READS_0_FOR_1", "reads 0 for 1"},   {"ND_READS_1_FOR_0", "reads 1 for 0"},
    {"ND_BATCHABLE", "batchable"},           {"ND_POINTWISE", "pointwise"},
    {"ND_MATRIX_PRODUCT", "matrix product"},
};

static int flags_cell(text *t, const op_entry *e) {
    bool first = true;
    char copy[512];
    snprintf(copy, sizeof copy, "%s", e->flags);
    for (char *tok = strtok(copy, "| "); tok; tok = strtok(NULL, "| ")) {
        if (!strcmp(tok, "0")) continue;
        size_t i = 0;
        while (i < sizeof flag_names / sizeof flag_names[0] && strcmp(flag_names[i].flag, tok)) i++;
        if (i == sizeof flag_names / sizeof flag_names[0])
            return fail(e->file, e->ident, "a flag that is not one of nd_op's (spell it out)");
        puts_(t, first ? "" : ", ");
        puts_(t, flag_names[i].shown);
        first = false;
    }
    if (first) puts_(t, "—");
    return 0;
}

static int render(const op_list *ops, text *t) {
    puts_(t, "# Every op's rules\n\n"
             "<!-- Generated by tools/gen_ops_md.c from the op tables in src/: do not edit.\n"
             "     `cmake --build BUILD --target ops_md` rewrites it; the ctest\n"
             "     `ops_md_current` fails when it is stale or an op has no formula. -->\n\n"
             "Each op that autograd records, with its two rules as written in its table\n"
             "(`static const nd_op` beside the op's kernel), like PyTorch's derivatives.yaml.\n"
             "Reverse mode (VJP): the input gradients from `g`, the output's gradient\n"
             "(`ga`, `gb`, `gx`: the gradients of inputs a, b, x; `gg` the gradient of an op\n"
             "whose input is itself a gradient). Forward mode (JVP): the output's tangent\n"
             "from the inputs' tangents `da`, `db`, `dx`. `y` is the output. Every rule is\n"
             "written with nd ops, or as an op that has rules of its own, so it can be\n"
             "differentiated again (Hessians, forward over reverse).\n\n"
             "Flags: *saves inputs* (the VJP reads input values: an in-place change of them\n"
             "afterwards is an error), *saves output* (it reads the output), *reads 0 for 1*\n"
             "/ *reads 1 for 0* (a product: each factor is read only for the other's\n"
             "gradient), *batchable* (the rules take leading batch dims, for nd_jacobian's\n"
             "one-pass Jacobians), *pointwise* (elementwise: the Jacobian to an input of\n"
             "the output's shape is diagonal), *matrix product* (out = a·b as matmul); the\n"
             "last three are read only by nd_jacobian's batching (src/autograd/batch.c).\n\n"
             "| op | VJP | JVP | flags | table |\n"
             "|---|---|---|---|---|\n");
    for (int i = 0; i < ops->count; i++) {
        const op_entry *e = &ops->items[i];
        puts_(t, "| `");
        cell(t, e->name);
        puts_(t, "` | ");
        cell(t, e->vjp);
        puts_(t, " | ");
        cell(t, e->jvp);
        puts_(t, " | ");
        if (flags_cell(t, e)) return -1;
        puts_(t, " | ");
        cell(t, e->file);
        puts_(t, " `");
        cell(t, e->ident);
        puts_(t, "` |\n");
    }
    char count[64];
    snprintf(count, sizeof count, "\n%d op tables.\n", ops->count);
    puts_(t, count);
    return 0;
}

int main(int argc, char **argv) {
    bool check = argc == 4 && !strcmp(argv[1], "--check");
    if (argc != 3 && !check) {
        fprintf(stderr, "usage: gen_ops_md ROOT OUT | gen_ops_md --check ROOT FILE\n");
        return 2;
    }
    const char *root = argv[check ? 2 : 1], *path = argv[check ? 3 : 2];
    op_list ops = {0};
    text t = {0};
    if (scan_dir(root, "src", true, &ops) || render(&ops, &t)) return 1;
    if (ops.count == 0) return fprintf(stderr, "gen_ops_md: no op tables under %s/src\n", root), 1;
    if (check) {
        size_t size;
        char *old = read_all(path, &size);
        if (!old || size != t.len || memcmp(old, t.data, size)) {
            fprintf(stderr,
                    "gen_ops_md: %s is not what the op tables give: rewrite it with "
                    "`cmake --build BUILD --target ops_md` and commit it\n",
                    path);
            return 1;
        }
        free(old);
    } else {
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(t.data, 1, t.len, f) != t.len || fclose(f)) {
            fprintf(stderr, "gen_ops_md: cannot write %s\n", path);
            return 1;
        }
    }
    free(t.data);
    free(ops.items);
    return 0;
}
