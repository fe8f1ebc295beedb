/* libFuzzer target for nd_parse, the tensor literals ("[[1, 2.5], [3, 4]]",
 * "true", "-inf"): any text must give a tensor or a clean error, never a
 * crash, a leak or undefined behaviour. A tensor that parses is printed, and
 * the printed text (when not summarised with "...") must parse back, to the
 * same values for integer and bool tensors (floats print rounded). */
#include <nd.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1); /* nd_parse reads a C string */
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    nd_scope_begin();
    nd_tensor *t = nd_parse(text);
    if (t) {
        char *shown = nd_format(t);
        if (!shown) abort(); /* formatting a valid tensor must not fail */
        /* nd_format writes "tensor([...])", "tensor([], size=(2, 0))" or "tensor(5)":
         * the literal runs from the '(' to the last ']', or to the ')' */
        char *open = strchr(shown, '('), *end = strrchr(shown, ']');
        end = end ? end + 1 : strrchr(shown, ')');
        if (open && end && end > open && !strstr(shown, "...")) {
            *end = '\0';
            nd_tensor *back = nd_parse(open + 1);
            if (!back) abort(); /* what nd prints, nd reads */
            if (nd_type(t) != ND_F32 && !(nd_type(back) == nd_type(t) && nd_equal(back, t)))
                abort();
        }
        free(shown);
    }
    nd_scope_end();
    nd_clear_error();
    free(text);
    return 0;
}
