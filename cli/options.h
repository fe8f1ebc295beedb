/* Command-line options from a declarative table: each command or lab lists its
 * options once (name, type, default, help) and one parser reads argv, checks
 * the values' types, and writes --help, so no command hand-writes an argv loop. */
#ifndef ND_OPTIONS_H
#define ND_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    OPTION_NUMBER, /* a real number: --eta 0.3 */
    OPTION_INT,    /* a whole number: --steps 20 */
    OPTION_TEXT,   /* any text: --points "0,0 1,1", --image my.png */
} option_type;

typedef struct {
    const char *name; /* without the dashes: "eta" for --eta */
    option_type type;
    const char *fallback; /* the default, as it would be typed (the slide's value) */
    const char *help;
    const char *choices; /* for TEXT: the allowed values, "a|b|c"; NULL: any */
    double min, max;     /* for numbers: the range allowed, when min < max */
    /* a check of the value beyond its type (NULL: none): 0, or -1 with a message in error */
    int (*check)(const char *value, char *error, size_t size);
} option;

#define OPTIONS_MAX 24

/* The values of one table's options after parsing, as typed (defaults filled in). */
typedef struct {
    const option *table;
    int count;
    const char *value[OPTIONS_MAX];
    bool given[OPTIONS_MAX];
} option_values;

/* The number of options in a table ended by an entry whose name is NULL. */
int options_count(const option *table);

/* Parses argv[first..argc) against up to two tables (a command's own options and
 * those of what it runs; `more` may be NULL): "--name value" or "--name=value".
 * Arguments not starting with "--" go to positional (at most max_positional).
 * On a mistake (unknown option, a missing value, a value of the wrong type) says
 * so on stderr naming `command`, and returns -1; else 0. */
int options_parse(const char *command, int argc, char **argv, int first, option_values *own,
                  option_values *more, const char **positional, int max_positional,
                  int *positional_count);

void options_init(option_values *v, const option *table);
/* A value by name: as text, or converted (the parser has checked the type). */
const char *options_text(const option_values *v, const char *name);
double options_number(const option_values *v, const char *name);
int options_int(const option_values *v, const char *name);
/* The options whose value differs from the default, as typed ("--eta 0.3 --steps 20"),
 * into out; empty when none. */
void options_changed(const option_values *v, char *out, size_t size);
/* Writes the table as help lines: "  --eta NUMBER   the learning rate (default 0.2)". */
void options_help(FILE *f, const option *table);

#endif
