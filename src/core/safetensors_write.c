/* Writing safetensors files (the format and the reader are in safetensors.c):
 * the header's JSON, then each tensor's little-endian bytes, written to a
 * temporary file in the target's folder, flushed (fsync) and renamed over the
 * target, so that a failed write (a full disk, an unwritable folder) leaves
 * the old file as it was. */
#include "internal.h"
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void append_quoted(nd__text *b, const char *s) {
    nd__text_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            nd__text_put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            nd__text_put(b, esc, 6);
        } else {
            nd__text_put(b, s, 1);
        }
    }
    nd__text_put(b, "\"", 1);
}

/* write() until every byte is out: short writes and EINTR are not errors. */
static bool write_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n > 0) {
        ssize_t done = write(fd, p, n);
        if (done < 0 && errno == EINTR) continue;
        if (done <= 0) {
            if (done == 0) errno = EIO;
            return false;
        }
        p += done;
        n -= (size_t)done;
    }
    return true;
}

/* One tensor's bytes, little-endian, C order. */
static bool write_tensor(int fd, const nd_tensor *t) {
    size_t size = nd_dtype_size(t->dtype), bytes = (size_t)t->numel * size;
    if (bytes == 0) return true;
    if (t->contiguous && HOST_IS_LITTLE) return write_all(fd, nd__ptr(t), bytes);
    unsigned char *copy = malloc(bytes); /* strided, or big-endian: a C-order copy */
    if (!copy) {
        errno = ENOMEM;
        return false;
    }
    if (nd_read(t, t->dtype, copy, bytes) != 0) {
        free(copy);
        errno = EINVAL;
        return false;
    }
    if (!HOST_IS_LITTLE) nd__swap_bytes(copy, (int64_t)(bytes / size), size);
    bool ok = write_all(fd, copy, bytes);
    free(copy);
    return ok;
}

/* The header, with the data in the order of `order`; padded with spaces so
 * that the data area starts at a multiple of 8. */
static bool make_header(nd__text *b, int n, const char *const *names, nd_tensor *const *tensors,
                        const int *order) {
    uint64_t offset = 0;
    nd__text_puts(b, "{");
    for (int k = 0; k < n; k++) {
        int i = order[k];
        const nd_tensor *t = tensors[i];
        uint64_t bytes = (uint64_t)t->numel * nd_dtype_size(t->dtype);
        char numbers[64];
        if (k) nd__text_puts(b, ",");
        append_quoted(b, names[i]);
        nd__text_puts(b, ":{\"dtype\":\"");
        nd__text_puts(b, nd__safetensors_dtype_code(t->dtype));
        nd__text_puts(b, "\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            snprintf(numbers, sizeof numbers, "%s%lld", d ? "," : "", (long long)t->shape[d]);
            nd__text_puts(b, numbers);
        }
        snprintf(numbers, sizeof numbers, "],\"data_offsets\":[%llu,%llu]}",
                 (unsigned long long)offset, (unsigned long long)(offset + bytes));
        nd__text_puts(b, numbers);
        offset += bytes;
    }
    nd__text_puts(b, "}");
    while (!b->out_of_memory && (LENGTH_BYTES + b->length) % DATA_ALIGNMENT) nd__text_puts(b, " ");
    return !b->out_of_memory;
}

/* Checks the arguments: tensors alive, names present, distinct, not the
 * metadata key. */
static bool check_save_args(const char *path, int n, const char *const *names,
                            nd_tensor *const *tensors) {
    const char *op = "nd_save_safetensors";
    if (n < 0) {
        nd__set_error("%s: %s: negative count %d", op, path, n);
        return false;
    }
    if (n > 0 && (!names || !tensors)) {
        nd__set_error("%s: %s: NULL names or tensors", op, path);
        return false;
    }
    for (int i = 0; i < n; i++) {
        if (nd__bad_tensor(op, tensors[i])) return false;
        const char *problem = !names[i]                               ? "a NULL name"
                              : !names[i][0]                          ? "an empty name"
                              : strcmp(names[i], METADATA_KEY) == 0   ? "the reserved name"
                              : !nd__safetensors_valid_name(names[i]) ? "a name that is not UTF-8"
                                                                      : NULL;
        if (problem) {
            nd__set_error("%s: %s: tensor %d has %s", op, path, i, problem);
            return false;
        }
        for (int k = 0; k < i; k++)
            if (strcmp(names[k], names[i]) == 0) {
                nd__set_error("%s: %s: the name '%s' is given twice", op, path, names[i]);
                return false;
            }
    }
    return true;
}

int nd_save_safetensors(const char *path, int n, const char *const *names,
                        nd_tensor *const *tensors) {
    if (!path) return nd__fail_int("nd_save_safetensors: NULL path");
    if (!check_save_args(path, n, names, tensors)) return -1;
    /* Wider elements first (stable), as the reference writer does: every
     * tensor then starts at a multiple of its element size. */
    int *order = malloc((size_t)(n ? n : 1) * sizeof *order);
    if (!order)
        return nd__fail_int_as(ND_ERR_NOMEM, "nd_save_safetensors: %s: out of memory", path);
    int k = 0;
    for (size_t size = 8; size >= 1; size /= 2)
        for (int i = 0; i < n; i++)
            if (nd_dtype_size(tensors[i]->dtype) == size) order[k++] = i;
    nd__text b = {0};
    if (!make_header(&b, n, names, tensors, order)) {
        free(order);
        free(b.data);
        return nd__fail_int_as(ND_ERR_NOMEM, "nd_save_safetensors: %s: out of memory", path);
    }
    unsigned char length[LENGTH_BYTES];
    for (int i = 0; i < LENGTH_BYTES; i++) length[i] = (unsigned char)((uint64_t)b.length >> 8 * i);

    /* The temporary file sits beside the target, so that rename() is atomic. */
    size_t tmp_cap = strlen(path) + 64;
    char *tmp = malloc(tmp_cap);
    int fd = -1;
    for (int attempt = 0; tmp && fd < 0 && attempt < 100; attempt++) {
        snprintf(tmp, tmp_cap, "%s.tmp.%ld.%d", path, (long)getpid(), attempt);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    int err = tmp ? errno : ENOMEM;
    const char *step = "cannot create a temporary file beside it";
    bool ok = fd >= 0;
    if (ok) {
        step = "write failed";
        ok = write_all(fd, length, sizeof length) && write_all(fd, b.data, b.length);
        for (int i = 0; ok && i < n; i++) ok = write_tensor(fd, tensors[order[i]]);
        if (ok && fsync(fd) != 0) {
            step = "fsync failed";
            ok = false;
        }
        if (!ok) err = errno;
        if (close(fd) != 0 && ok) { /* NFS reports some write errors only here */
            step = "close failed";
            ok = false;
            err = errno;
        }
        if (ok && rename(tmp, path) != 0) {
            step = "cannot rename the temporary file over it";
            ok = false;
            err = errno;
        }
        if (!ok) unlink(tmp);
    }
    free(order);
    free(b.data);
    free(tmp);
    if (!ok)
        return nd__fail_int_as(nd__errno_code(err),
                               "nd_save_safetensors: %s: %s: %s (the old file, if any, is kept)",
                               path, step, nd__strerror(err));
    /* Flush the rename too. Best effort: the data are safe either way, and a
     * folder that cannot be opened for reading is not an error of the save. */
    char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
    int dir_fd = dir ? open(dir, O_RDONLY | O_DIRECTORY) : -1;
    if (dir_fd >= 0) {
        fsync(dir_fd);
        close(dir_fd);
    }
    free(dir);
    return 0;
}
