/* libFuzzer target: nd's PNG reader on arbitrary bytes must return a tensor
 * or NULL with a message, never crash, leak or read out of bounds.
 * Seeds: fuzz/corpus/png/. */
#include <nd.h>
#include <nd_image.h>

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nd_scope_begin();
    nd_tensor *img = nd_image_decode(data, size);
    if (!img && !nd_last_error()) __builtin_trap(); /* a failure must say why */
    nd_scope_end();
    nd_clear_error();
    return 0;
}
