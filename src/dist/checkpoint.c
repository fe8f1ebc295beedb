/* Checkpoints of a data-parallel run: every rank holds the same parameters
 * and optimizer state, so one copy is enough. Rank 0 writes it (atomically,
 * nd_checkpoint_save), and every rank learns whether that worked before it
 * goes on, so that no rank trains past a checkpoint that was never written.
 * Loading is every rank reading the file (a path all machines see: a shared
 * file system, or the file copied to each), and every rank learns whether all
 * of them could. */
#include "dist_internal.h"

/* Whether every rank succeeded (ok on this rank): the minimum over the ranks. */
static int all_ok(const char *op, int ok) {
    nd_scope_begin();
    nd_tensor *flag = nd_scalar(ok, ND_I32);
    int rc = flag && nd_dist_allreduce(flag, ND_RED_MIN) == 0 ? 0 : -1;
    int32_t all = 0; /* nd_read, not nd_item: nd_item clears this rank's error */
    if (rc == 0 && (nd_read(flag, ND_I32, &all, sizeof all) != 0 || all != 1)) rc = -2;
    nd_scope_end();
    if (rc == -1) return -1; /* the allreduce's own error */
    if (rc == -2 && ok)
        return nd__fail_int("%s (rank %d of %d): another rank failed (its error says why)", op,
                            nd_dist_rank(), nd_dist_size());
    return ok ? 0 : -1; /* this rank's failure keeps its own message */
}

int nd_dist_save_checkpoint(const char *path, int n, const char *const *names,
                            nd_tensor *const *tensors, const nd_optim *opt) {
    const char *op = "nd_dist_save_checkpoint";
    if (nd_dist__need_init(op)) return -1;
    int ok = 1;
    if (nd_dist_rank() == 0) ok = nd_checkpoint_save(path, n, names, tensors, opt) == 0;
    return all_ok(op, ok);
}

int nd_dist_load_checkpoint(const char *path, int n, const char *const *names,
                            nd_tensor *const *tensors, nd_optim *opt) {
    const char *op = "nd_dist_load_checkpoint";
    if (nd_dist__need_init(op)) return -1;
    int ok = nd_checkpoint_load(path, n, names, tensors, opt) == 0;
    return all_ok(op, ok);
}
