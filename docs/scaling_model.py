"""The tables of docs/SCALING.md: the alpha-beta model of ring allreduce
applied to the W5 MLP and to a 100M-parameter model on 1 to 512 machines.

    python3 docs/scaling_model.py ALPHA_TCP_US COMPUTE_W5_MS GFLOPS

ALPHA_TCP_US: the TCP software latency measured here (bench_allreduce over
loopback); COMPUTE_W5_MS: one W5 step on one process, measured here
(bench_ddp, one process); GFLOPS: the training rate that implies
(6 · parameters · rows per step / step time), used for the 100M model.
Everything else in the tables is predicted by the model:

    T_allreduce(p, n) = 2(p-1)·alpha + 2(p-1)/p · n · beta
    T_step(p) = T_compute + T_allreduce(p, gradient bytes)   (no overlap)
    efficiency(p) = T_compute / T_step(p)                    (weak scaling)
"""
import sys

alpha_tcp_us = float(sys.argv[1])
compute_w5_ms = float(sys.argv[2])
gflops = float(sys.argv[3])
WIRE_US = 10.0  # assumed: NIC, cable and one switch hop, added to the software latency
alpha = (alpha_tcp_us + WIRE_US) * 1e-6
networks = [(10, "10 Gb/s"), (25, "25 Gb/s"), (100, "100 Gb/s")]
machines = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
BATCH = 128
models = [
    ("W5 MLP 784-256-256-10", 269_322, compute_w5_ms * 1e-3),
    ("100M-parameter model", 100_000_000, 6 * 100e6 * BATCH / (gflops * 1e9)),
]


def allreduce(p, nbytes, beta):
    if p == 1:
        return 0.0
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes * beta


for name, params, compute in models:
    nbytes = 4 * params
    print(f"\n{name}: {params:,} parameters, {nbytes / 1e6:.2f} MB of float32 gradients, "
          f"compute {compute * 1e3:.4g} ms per step (batch {BATCH} per machine)\n")
    head = "| machines |" + "|".join(f" step, {label} | efficiency " for _, label in networks) + "|"
    print(head)
    print("|---:|" + "---:|---:|" * len(networks))
    for p in machines:
        cells = []
        for gbits, _ in networks:
            beta = 8 / (gbits * 1e9)
            step = compute + allreduce(p, nbytes, beta)
            shown = f"{step * 1e3:.2f} ms" if step < 1 else f"{step:.3f} s"
            cells.append(f" {shown} | {compute / step:.2f} ")
        print(f"| {p} |" + "|".join(cells) + "|")
