/* libFuzzer target for the CSV reader with options other than the defaults:
 * the first bytes of the input choose them, the rest is the file.
 *   byte 0: header on/off, keep_default_na, quoting on/off (or '\'' as the
 *           quote), threads, and whether a column's type is forced;
 *   byte 1: the delimiter: one of , ; \t | space, or the byte itself (any
 *           byte, the line ends and the quote included: those must be refused);
 *   byte 2: how many na_values follow (0-3), each as a length byte (0-15) and
 *           that many bytes (any bytes: "-999", "1_000", " 7 ", "nan", ...);
 *   byte 3 (when a type is forced): which column name and type.
 * Any input must give a frame or an error, never a crash, a leak or undefined
 * behaviour; a frame is also printed and written back as CSV. */
#include <nd.h>
#include <nd_frame.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *at;
    size_t left;
} input;

static int next_byte(input *in) {
    if (in->left == 0) return 0;
    in->left--;
    return *in->at++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    input in = {data, size};
    int flags = next_byte(&in), delim = next_byte(&in);
    nd_csv_opts o = ND_CSV_DEFAULTS;
    o.header = flags & 1;
    o.keep_default_na = flags & 2;
    o.quote = (flags & 4) ? ((flags & 8) ? '\'' : 0) : '"';
    o.num_threads = (flags & 16) ? 2 : 1;
    static const char delimiters[] = ",;\t| ";
    o.delimiter = (delim & 0x80) ? (char)(delim & 0x7f) : delimiters[delim % 5];

    char na_text[3][16];
    const char *na_values[4] = {NULL};
    int nna = next_byte(&in) % 4;
    for (int i = 0; i < nna; i++) {
        size_t len = (size_t)next_byte(&in) % 16;
        if (len > in.left) len = in.left;
        memcpy(na_text[i], in.at, len);
        na_text[i][len] = '\0'; /* a NUL inside ends the entry early: C strings */
        in.at += len;
        in.left -= len;
        na_values[i] = na_text[i];
    }
    o.na_values = na_values;

    static const char *const names[] = {"0", "1", "a", "a.1", "Unnamed: 0", "x"};
    nd_csv_coltype forced;
    if (flags & 32) {
        int pick = next_byte(&in);
        forced = (nd_csv_coltype){names[pick % 6], (nd_coltype)((pick >> 3) % 3)};
        o.types = &forced;
        o.ntypes = 1;
    }

    nd_frame *f = nd_parse_csv((const char *)in.at, in.left, &o);
    if (f) {
        nd_frame *filled = nd_frame_fillna_mean(f);
        nd_frame *encoded = nd_frame_get_dummies(filled, true);
        nd_scope_begin();
        nd_frame_to_tensor(encoded, ND_F64);
        nd_scope_end();
        free(nd_frame_format(f));
        free(nd_frame_to_csv(f, NULL));
        nd_frame_free(encoded);
        nd_frame_free(filled);
        nd_frame_free(f);
    }
    nd_clear_error();
    return 0;
}
