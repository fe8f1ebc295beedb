/* libFuzzer target for the safetensors reader: any bytes must give tensors or
 * a clean error, never a crash, a leak or undefined behaviour. When the header
 * passes, every listed name is loaded (a tensor of a dtype nd lacks is a clean
 * error) and each tensor read back as doubles, so the data copy sees every
 * offset the checks let through. */
#include <nd.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nd_scope_begin();
    char **names = NULL;
    int n = nd_parse_safetensors_names(data, size, &names);
    for (int i = 0; i < n; i++) {
        nd_tensor *t = nd_parse_safetensors(data, size, names[i]);
        if (!t) continue;
        size_t bytes = (size_t)nd_numel(t) * sizeof(double);
        double *values = malloc(bytes ? bytes : 1);
        if (values && nd_read(t, ND_F64, values, bytes) != 0) abort();
        free(values);
    }
    if (n >= 0 && names[n]) abort(); /* the list is NULL-terminated */
    free(names);
    /* A name that is not there must be refused, whatever the file. */
    if (nd_parse_safetensors(data, size, "\x01 absent") != NULL) abort();
    nd_scope_end();
    nd_clear_error();
    return 0;
}
