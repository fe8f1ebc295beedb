/* libFuzzer target for the .npy reader: any bytes must give a tensor or a clean
 * error, never a crash, a leak or undefined behaviour. A tensor that parses is
 * also printed and read back, so the formatter sees arbitrary values (NaN
 * payloads, huge and tiny floats, any bool bytes) and shapes. */
#include <nd.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nd_scope_begin();
    nd_tensor *t = nd_parse_npy(data, size);
    if (t) {
        char *text = nd_format(t);
        if (!text) abort(); /* formatting a valid tensor must not fail */
        free(text);
        size_t bytes = (size_t)nd_numel(t) * sizeof(double);
        double *values = malloc(bytes ? bytes : 1);
        if (values && nd_read(t, ND_F64, values, bytes) != 0) abort();
        free(values);
    }
    nd_scope_end();
    nd_clear_error();
    return 0;
}
