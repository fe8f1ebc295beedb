/* nd_read: a tensor's elements copied out in C order, converted to the dtype
 * the caller asks for — how tests, file writers and embedders get at values. */
#include "internal.h"

#include <math.h>

/* One row (the innermost dim): n elements `stride` elements apart in src,
 * written contiguously to dst. The common conversions have typed loops; the
 * rest go through double, which nd__store converts safely (no undefined
 * behaviour for NaN or out-of-range values). */
#define COPY_ROW(T)                                                                                \
    for (int64_t i = 0; i < n; i++) ((T *)dst)[i] = ((const T *)src)[i * stride]
#define WIDEN_ROW(SRC_T, DST_T)                                                                    \
    for (int64_t i = 0; i < n; i++) ((DST_T *)dst)[i] = (DST_T)((const SRC_T *)src)[i * stride]

static void convert_row(nd_dtype from, const char *src, int64_t stride, nd_dtype to, char *dst,
                        int64_t n) {
    if (from == to) {
        switch (nd_dtype_size(from)) {
        case 1:
            COPY_ROW(uint8_t);
            return;
        case 4:
            COPY_ROW(uint32_t);
            return;
        default:
            COPY_ROW(uint64_t);
            return;
        }
    }
    if (to == ND_F64) {
        switch (from) {
        case ND_F32:
            WIDEN_ROW(float, double);
            return;
        case ND_I32:
            WIDEN_ROW(int32_t, double);
            return;
        case ND_I64:
            WIDEN_ROW(int64_t, double);
            return;
        case ND_U8:
            WIDEN_ROW(uint8_t, double);
            return;
        default:
            break;
        }
    }
    if (to == ND_F32 && from == ND_F64) {
        WIDEN_ROW(double, float);
        return;
    }
    size_t from_size = nd_dtype_size(from), to_size = nd_dtype_size(to);
    for (int64_t i = 0; i < n; i++)
        nd__store(to, dst + (size_t)i * to_size,
                  nd__load(from, src + (ptrdiff_t)(i * stride) * (ptrdiff_t)from_size));
}

int nd_read(const nd_tensor *t, nd_dtype dtype, void *buf, size_t nbytes) {
    if (!t) return nd__null_input_int("nd_read");
    if ((unsigned)dtype > ND_F64)
        return nd__fail_int_as(ND_ERR_DTYPE, "nd_read: invalid dtype %d", (int)dtype);
    size_t need = (size_t)t->numel * nd_dtype_size(dtype);
    if (nbytes < need)
        return nd__fail_int_as(ND_ERR_SHAPE,
                               "nd_read: a buffer of %zu bytes is too small for the %lld %s "
                               "elements of a tensor of shape %s (%zu bytes)",
                               nbytes, (long long)t->numel, nd_dtype_name(dtype), nd__tshape(t),
                               need);
    if (need == 0) return 0;
    if (!buf) return nd__fail_int("nd_read: NULL buffer");
    const char *base = t->storage->data;
    size_t esize = nd_dtype_size(t->dtype);
    if (t->contiguous && t->dtype == dtype) {
        memcpy(buf, base + (size_t)t->offset * esize, need);
        return 0;
    }
    if (t->ndim == 0) {
        convert_row(t->dtype, base + (size_t)t->offset * esize, 1, dtype, buf, 1);
        return 0;
    }
    /* Row by row over the outer dims, an odometer carrying the element offset. */
    int last = t->ndim - 1;
    int64_t inner = t->shape[last], inner_stride = t->strides[last];
    int64_t rows = t->numel / inner;
    int64_t index[ND_MAX_DIMS] = {0};
    int64_t offset = t->offset;
    char *out = buf;
    size_t row_bytes = (size_t)inner * nd_dtype_size(dtype);
    for (int64_t r = 0; r < rows; r++) {
        convert_row(t->dtype, base + (size_t)offset * esize, inner_stride, dtype, out, inner);
        out += row_bytes;
        for (int d = last - 1; d >= 0; d--) {
            offset += t->strides[d];
            if (++index[d] < t->shape[d]) break;
            offset -= t->strides[d] * t->shape[d];
            index[d] = 0;
        }
    }
    return 0;
}
