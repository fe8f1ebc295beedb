/* What the safetensors reader (safetensors.c) and writer (safetensors_write.c)
 * share: the layout's constants, the dtype codes and the rule for names. */
#ifndef ND_CORE_SAFETENSORS_H
#define ND_CORE_SAFETENSORS_H

#include "internal.h"

#define LENGTH_BYTES   8 /* the little-endian header length that opens a file */
#define METADATA_KEY   "__metadata__"
#define DATA_ALIGNMENT 8 /* the header is padded with spaces up to this */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_IS_LITTLE false
#else
#define HOST_IS_LITTLE true
#endif

/* The format's code of an nd dtype ("F32", ...). */
const char *nd__safetensors_dtype_code(nd_dtype d);

/* Whether a tensor name is valid UTF-8 (the writer refuses empty names itself). */
bool nd__safetensors_valid_name(const char *s);

#endif
