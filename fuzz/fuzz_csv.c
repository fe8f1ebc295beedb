/* libFuzzer target: any bytes given to nd_parse_csv must give a frame or an
 * error, never a crash, a leak or undefined behaviour. The first byte picks
 * options (header, delimiter, threads) so those paths are explored too; each
 * frame found is also pushed through the frame operations. */
#include <nd.h>
#include <nd_frame.h>

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nd_csv_opts o = ND_CSV_DEFAULTS;
    if (size > 0) {
        o.header = !(data[0] & 1);
        o.delimiter = (data[0] & 2) ? ';' : ',';
        o.keep_default_na = !(data[0] & 4);
        o.num_threads = (data[0] & 8) ? 2 : 1;
        data++;
        size--;
    }
    nd_frame *f = nd_parse_csv((const char *)data, size, &o);
    if (f) {
        nd_frame *filled = nd_frame_fillna_mean(f);
        nd_frame *encoded = nd_frame_get_dummies(filled, true);
        nd_frame *rows = nd_frame_iloc(encoded, 1, -1, 0, ND_END);
        nd_scope_begin();
        nd_frame_to_tensor(rows, ND_F32);
        nd_scope_end();
        free(nd_frame_format(f));
        free(nd_frame_to_csv(f, NULL));
        nd_frame_free(rows);
        nd_frame_free(encoded);
        nd_frame_free(filled);
        nd_frame_free(f);
    }
    nd_clear_error();
    return 0;
}
