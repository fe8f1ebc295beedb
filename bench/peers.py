#!/usr/bin/python3
"""The peers' side of BENCHMARKS.md: NumPy, PyTorch, pandas and OpenCV on the
same workloads as bench/bench_*.c, printing the same line format:

    workload=<id> impl=<numpy|torch|pandas|opencv> threads=<T> metric=<m> value=<v> unit=<u>

Usage:
    peers.py run THREADS [quick]     measure every workload with THREADS threads
    peers.py table RESULTS_FILE      the nd/peer ratio table of a results file

Threads are set the same way as nd's: torch.set_num_threads, threadpoolctl for
the OpenBLAS that numpy and torch share (and OPENBLAS_NUM_THREADS from
scripts/bench.sh where threadpoolctl is missing), cv2.setNumThreads.
Timings: one warm-up, then the median of at least 5 repeats.
"""
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def emit(workload, impl, threads, metric, value, unit):
    print(f"workload={workload} impl={impl} threads={threads} metric={metric} "
          f"value={value:.6g} unit={unit}", flush=True)


def median_time(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(max(repeats, 5)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ----------------------------------------------------------- workloads

def core_workloads(T, quick):
    import numpy as np
    import torch
    rng = np.random.default_rng(0)
    for n in (256, 1024, 2048):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        repeats = 51 if n <= 256 else 15 if n <= 1024 else (5 if quick else 9)
        for impl, fn in (("numpy", lambda: a @ b), ("torch", lambda: torch.mm(ta, tb))):
            s = median_time(fn, repeats)
            emit(f"W1_sgemm_n{n}", impl, T, "GFLOPS", 2 * n**3 / s * 1e-9, "GFLOPS")

    n = 4096
    x = rng.standard_normal((n, n), dtype=np.float32)
    row = rng.standard_normal(n, dtype=np.float32)
    tx, trow = torch.from_numpy(x), torch.from_numpy(row)
    repeats = 5 if quick else 11
    for impl, add, s0, s1 in (
            ("numpy", lambda: x + row, lambda: x.sum(axis=0), lambda: x.sum(axis=1)),
            ("torch", lambda: tx + trow, lambda: tx.sum(dim=0), lambda: tx.sum(dim=1))):
        s = median_time(add, repeats)
        emit("W2_bcast_add", impl, T, "GB_per_s", (2 * n * n + n) * 4 / s * 1e-9, "GB/s")
        s = median_time(s0, repeats)
        emit("W3a_reduce_axis0", impl, T, "GB_per_s", n * n * 4 / s * 1e-9, "GB/s")
        s = median_time(s1, repeats)
        emit("W3b_reduce_axis1", impl, T, "GB_per_s", n * n * 4 / s * 1e-9, "GB/s")

    m = rng.standard_normal((512, 512))
    sym = m + m.T
    tsym = torch.from_numpy(sym)
    for impl, fn in (("numpy", lambda: np.linalg.eigh(sym)),
                     ("torch", lambda: torch.linalg.eigh(tsym))):
        emit("W9_eigh", impl, T, "ms", median_time(fn, 5 if quick else 9) * 1e3, "ms")


def autograd_workloads(T, quick):
    import torch

    def chain(shape):
        x = torch.ones(shape, requires_grad=True)
        y = x
        for _ in range(1000):
            y = y * 1.0001 + 0.5
        y.sum().backward()

    for workload, shape in (("W4_autograd_scalar", ()), ("W4_autograd_vec64", (64,))):
        s = median_time(lambda: chain(shape), 5 if quick else 11)
        emit(workload, "torch", T, "ns_per_op", s / 2000 * 1e9, "ns")

    torch.manual_seed(0)
    w1 = torch.randn(256, 256) / 16
    w2 = torch.randn(256, 256) / 16
    x = torch.randn(256)

    def f(v):
        return torch.tanh(w2 @ torch.tanh(w1 @ v))

    from torch.autograd.functional import jacobian
    for workload, strategy in (("W10_jacobian_rev", "reverse-mode"),
                               ("W10_jacobian_fwd", "forward-mode")):
        try:
            s = median_time(lambda: jacobian(f, x, vectorize=True, strategy=strategy),
                            5 if quick else 9)
            emit(workload, "torch", T, "ms", s * 1e3, "ms")
        except Exception as e:  # forward-mode needs functorch support in this torch
            print(f"# {workload} torch: {e}", file=sys.stderr)


def train_workloads(T, quick):
    import numpy as np
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xb = torch.randn(128, 784)
    yb = torch.randint(0, 10, (128,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()

    steps = 50 if quick else 200
    rates = []
    for _ in range(10):
        step()
    for _ in range(5):  # the median of 5 timed runs of `steps` steps
        start = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(steps / (time.perf_counter() - start))
    emit("W5_mlp_train", "torch", T, "steps_per_s", statistics.median(rates), "steps/s")

    if T != 1:
        return
    xs = np.linspace(-10, 10, 256)
    ys = np.interp(xs, [-10, 0, 5, 10], [-10, 0, -5, 20])
    tx = torch.tensor(xs, dtype=torch.float32).reshape(-1, 1)
    ty = torch.tensor(ys, dtype=torch.float32).reshape(-1, 1)
    total = 1000 if quick else 5000
    rates, final = [], 0.0
    for _ in range(5):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
        adam = torch.optim.Adam(net.parameters(), lr=0.01)
        start = time.perf_counter()
        for _ in range(total):
            adam.zero_grad()
            loss = torch.mean((net(tx) - ty) ** 2)
            loss.backward()
            adam.step()
        rates.append(total / (time.perf_counter() - start))
        final = loss.item()
    emit("W6_relu_fit", "torch", T, "steps_per_s", statistics.median(rates), "steps/s")
    emit("W6_relu_fit", "torch", T, "final_mse", final, "mse")


W7_CHILD = r"""
import resource, sys, time
import numpy as np, pandas as pd
path = sys.argv[1]
start = time.perf_counter()
df = pd.read_csv(path)
for c in "abcde":
    df[c] = df[c].fillna(df[c].mean())
df = pd.get_dummies(df, columns=["cat"], dummy_na=True)
x = df.to_numpy(dtype=np.float32)
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
"""


def _ddp_worker(rank, world, init_file, steps, rate_file):
    """One process of W11's peer: torch DDP (gloo), one thread, its own data."""
    import torch
    import torch.distributed as dist
    torch.set_num_threads(1)
    import datetime
    # a lost peer is an error after two minutes, not a hang
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world, timeout=datetime.timedelta(seconds=120))
    torch.manual_seed(0)  # DDP broadcasts rank 0's parameters anyway
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 10))
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    torch.manual_seed(1000 + rank)  # every rank its own data
    xb = torch.randn(128, 784)
    yb = torch.randint(0, 10, (128,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(ddp(xb), yb).backward()
        opt.step()

    for _ in range(10):
        step()
    rates = []
    for _ in range(5):  # the median of 5 timed runs, each timed to the slowest rank
        dist.barrier()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        elapsed = torch.tensor([time.perf_counter() - start], dtype=torch.float64)
        dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
        rates.append(steps / elapsed.item())
    if rank == 0:  # a file, not a multiprocessing queue (whose lock once hung here)
        with open(rate_file + ".part", "w") as f:
            f.write(repr(statistics.median(rates)))
        os.replace(rate_file + ".part", rate_file)
    dist.destroy_process_group()


def ddp_workload(T, quick):
    """W11: the W5 MLP under torch DDP (gloo), 2 processes x 1 thread."""
    if T != 1:
        return
    import tempfile
    import torch.multiprocessing as mp
    world = 2
    with tempfile.TemporaryDirectory() as tmp:
        rate_file = os.path.join(tmp, "rate")
        workers = mp.spawn(_ddp_worker, args=(world, os.path.join(tmp, "init"),
                                              50 if quick else 200, rate_file),
                           nprocs=world, join=False)
        # Bounded: a worker stuck after its work (seen once, at exit) must
        # not hang make bench; its number is kept when it was written.
        deadline = time.monotonic() + 600
        while not workers.join(timeout=1):
            if os.path.exists(rate_file):  # done: 30 s more to exit
                deadline = min(deadline, time.monotonic() + 30)
            if time.monotonic() > deadline:
                for p in workers.processes:
                    if p.is_alive():
                        p.terminate()
                print("# W11 torch DDP: a worker did not exit; ended it", file=sys.stderr)
                break
        if not os.path.exists(rate_file):
            print("# W11 torch DDP: no result (timed out)", file=sys.stderr)
            return
        with open(rate_file) as f:
            rate = float(f.read())
    emit("W11_ddp_mlp_train", "torch", 1, "steps_per_s", rate, "steps/s")


def csv_workload(T, quick):
    path = os.environ.get("ND_W7_CSV", "/tmp/nd_w7.csv")
    if not os.path.exists(path):
        maker = os.path.join(HERE, "make_w7_csv.py")
        if not os.path.exists(maker):
            print("# W7: bench/make_w7_csv.py is missing", file=sys.stderr)
            return
        subprocess.run([sys.executable, maker, path], check=True)
    size_mb = os.path.getsize(path) / 1e6
    runs = []
    for _ in range(5 if quick else 6):  # the first is the warm-up (page cache)
        out = subprocess.run([sys.executable, "-c", W7_CHILD, path], check=True,
                             capture_output=True, text=True).stdout.split()
        runs.append((float(out[0]), float(out[1])))
    runs = runs[1:]
    emit("W7_csv", "pandas", T, "MB_per_s", size_mb / statistics.median(r[0] for r in runs), "MB/s")
    emit("W7_csv", "pandas", T, "peak_rss_MB", statistics.median(r[1] for r in runs), "MB")


def warp_workload(T, quick):
    import cv2
    import numpy as np
    cv2.setNumThreads(T)
    h, w = 2160, 3840
    img = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), 30, 1.0)
    s = median_time(lambda: cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR),
                    5 if quick else 11)
    emit("W8_affine_warp", "opencv", T, "Mpixel_per_s", w * h / s * 1e-6, "Mpixel/s")


def run(T, quick):
    import torch
    torch.set_num_threads(T)
    try:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(limits=T)
    except ImportError:
        limits = None  # scripts/bench.sh sets OPENBLAS_NUM_THREADS for this process
    for part in (core_workloads, autograd_workloads, train_workloads, csv_workload,
                 warp_workload, ddp_workload):
        try:
            part(T, quick)
        except ImportError as e:
            print(f"# {part.__name__}: {e}", file=sys.stderr)
    del limits


# --------------------------------------------------------------- table

TARGETS = {"W1": 0.95, "W2": 1.2, "W3": 1.0, "W4": 10, "W5": 1.2, "W6": 5, "W7": 1.5,
           "W8": 1.0, "W9": 1.0, "W10": 2, "W11": 1.5, "W12": 20}
LOWER_IS_BETTER = {"ms", "ns", "s", "MB", "mse"}


def table(path):
    rows = {}
    notes = []  # "# W12 skipped: why" from bench/web/run.sh
    for line in open(path):
        if line.startswith("# W"):
            notes.append(line[2:].strip())
        if not line.startswith("workload="):
            continue
        f = dict(kv.split("=", 1) for kv in line.split())
        key = (f["workload"], int(f["threads"]), f["metric"], f["unit"])
        rows.setdefault(key, {})[f["impl"]] = float(f["value"])
    print(f"{'workload':<20} {'T':>2} {'metric':<15} {'nd':>10} {'best peer':>18} "
          f"{'ratio':>7} {'target':>7}")
    for (workload, T, metric, unit), impls in sorted(rows.items()):
        nd = impls.get("nd")
        peers = {k: v for k, v in impls.items() if k != "nd"}
        lower = unit in LOWER_IS_BETTER
        if not peers:
            print(f"{workload:<20} {T:>2} {metric:<15} {nd if nd is not None else '-':>10} "
                  f"{'(no peer)':>18}")
            continue
        best = (min if lower else max)(peers, key=peers.get)
        ratio = "-"
        if nd is not None and nd > 0 and peers[best] > 0:
            # higher is better for nd in every row: time-like metrics are inverted
            ratio = f"{(peers[best] / nd if lower else nd / peers[best]):.2f}"
        prefix = workload.split("_")[0].rstrip("ab")
        target = TARGETS.get(prefix, "")
        if workload == "W7_csv" and metric == "peak_rss_MB":
            target = 2.0  # ≤ 0.5× the peer's memory
        if workload in ("W6_relu_fit", "W12_browser_relu_fit") and metric == "final_mse":
            target = ""
        nd_text = f"{nd:.4g}" if nd is not None else "-"
        print(f"{workload:<20} {T:>2} {metric:<15} {nd_text:>10} "
              f"{best + ' ' + format(peers[best], '.4g'):>18} {ratio:>7} {target!s:>7}")
    for note in notes:
        print(note)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "run":
        run(int(sys.argv[2]), len(sys.argv) > 3 and sys.argv[3] == "quick")
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
