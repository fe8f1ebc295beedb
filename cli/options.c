/* The one parser of nd's options (see options.h). */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int options_count(const option *table) {
    int n = 0;
    while (table && table[n].name) n++;
    return n;
}

void options_init(option_values *v, const option *table) {
    memset(v, 0, sizeof *v);
    v->table = table;
    v->count = options_count(table);
    if (v->count > OPTIONS_MAX) v->count = OPTIONS_MAX;
    for (int i = 0; i < v->count; i++) v->value[i] = table[i].fallback;
}

static int find(const option_values *v, const char *name, size_t len) {
    for (int i = 0; v && i < v->count; i++)
        if (strlen(v->table[i].name) == len && !strncmp(v->table[i].name, name, len)) return i;
    return -1;
}

static bool is_number(const char *s, bool whole) {
    char *end;
    errno = 0;
    if (whole) {
        long n = strtol(s, &end, 10);
        return *s && !*end && errno == 0 && n >= -1000000000L && n <= 1000000000L;
    }
    double x = strtod(s, &end);
    return *s && !*end && errno == 0 && isfinite(x);
}

static bool allowed(const char *choices, const char *value) {
    if (!choices) return true;
    size_t len = strlen(value);
    for (const char *c = choices; *c;) {
        size_t n = strcspn(c, "|");
        if (n == len && !strncmp(c, value, n)) return true;
        c += n + (c[n] == '|');
    }
    return false;
}

static const char *type_word(option_type t) {
    return t == OPTION_NUMBER ? "a number" : t == OPTION_INT ? "a whole number" : "a value";
}

/* Checks and stores one value; -1 with a message when it does not fit. */
static int store(const char *command, option_values *v, int i, const char *value) {
    const option *o = &v->table[i];
    if ((o->type == OPTION_NUMBER || o->type == OPTION_INT) &&
        !is_number(value, o->type == OPTION_INT)) {
        fprintf(stderr, "nd %s: --%s wants %s, not '%s' (default %s)\n", command, o->name,
                type_word(o->type), value, o->fallback);
        return -1;
    }
    if (o->type != OPTION_TEXT && o->min < o->max &&
        !(strtod(value, NULL) >= o->min && strtod(value, NULL) <= o->max)) {
        fprintf(stderr, "nd %s: --%s is from %g to %g, not '%s'\n", command, o->name, o->min,
                o->max, value);
        return -1;
    }
    if (!allowed(o->choices, value)) {
        fprintf(stderr, "nd %s: --%s is one of %s, not '%s'\n", command, o->name, o->choices,
                value);
        return -1;
    }
    char error[256] = "";
    if (o->check && o->check(value, error, sizeof error)) {
        fprintf(stderr, "nd %s: --%s '%s': %s\n", command, o->name, value, error);
        return -1;
    }
    v->value[i] = value;
    v->given[i] = true;
    return 0;
}

int options_parse(const char *command, int argc, char **argv, int first, option_values *own,
                  option_values *more, const char **positional, int max_positional,
                  int *positional_count) {
    int npos = 0;
    for (int a = first; a < argc; a++) {
        const char *arg = argv[a];
        if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
            if (arg[0] == '-' && arg[1] && !(arg[1] >= '0' && arg[1] <= '9')) {
                fprintf(stderr, "nd %s: unknown option '%s' (nd %s --help lists the options)\n",
                        command, arg, command);
                return -1;
            }
            if (npos == max_positional) {
                fprintf(stderr, "nd %s: unexpected argument '%s' (see nd %s --help)\n", command,
                        arg, command);
                return -1;
            }
            positional[npos++] = arg;
            continue;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        option_values *v = own;
        int i = find(own, name, len);
        if (i < 0) v = more, i = find(more, name, len);
        if (i < 0) {
            fprintf(stderr, "nd %s: unknown option '%.*s' (nd %s --help lists the options)\n",
                    command, (int)len + 2, arg, command);
            return -1;
        }
        const char *value = eq ? eq + 1 : a + 1 < argc ? argv[++a] : NULL;
        if (!value) {
            fprintf(stderr, "nd %s: --%s needs a value (see nd %s --help)\n", command,
                    v->table[i].name, command);
            return -1;
        }
        if (store(command, v, i, value)) return -1;
    }
    if (positional_count) *positional_count = npos;
    return 0;
}

const char *options_text(const option_values *v, const char *name) {
    int i = find(v, name, strlen(name));
    return i < 0 ? NULL : v->value[i];
}

double options_number(const option_values *v, const char *name) {
    const char *s = options_text(v, name);
    return s ? strtod(s, NULL) : NAN;
}

int options_int(const option_values *v, const char *name) {
    const char *s = options_text(v, name);
    return s ? (int)strtol(s, NULL, 10) : 0;
}

/* "0.30" and "0.3" are the same number: numbers are compared by value. */
static bool same(const option *o, const char *a, const char *b) {
    if (o->type == OPTION_TEXT) return !strcmp(a, b);
    return strtod(a, NULL) == strtod(b, NULL);
}

void options_changed(const option_values *v, char *out, size_t size) {
    size_t used = 0;
    if (size) out[0] = '\0';
    for (int i = 0; i < v->count && used < size; i++) {
        if (!v->given[i] || same(&v->table[i], v->value[i], v->table[i].fallback)) continue;
        const char *quote = strchr(v->value[i], ' ') ? "\"" : "";
        int n = snprintf(out + used, size - used, "%s--%s %s%s%s", used ? " " : "",
                         v->table[i].name, quote, v->value[i], quote);
        if (n > 0) used += (size_t)n;
    }
}

void options_help(FILE *f, const option *table) {
    for (int i = 0; table && table[i].name; i++) {
        const option *o = &table[i];
        char head[64];
        snprintf(head, sizeof head, "--%s %s", o->name,
                 o->choices                 ? o->choices
                 : o->type == OPTION_NUMBER ? "NUMBER"
                 : o->type == OPTION_INT    ? "N"
                                            : "TEXT");
        fprintf(f, "  %-24s %s (default %s)\n", head, o->help,
                o->fallback[0] ? o->fallback : "none");
    }
}
