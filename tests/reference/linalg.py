#!/usr/bin/python3
"""Golden values for tests/unit/test_linalg*.c, from NumPy and PyTorch.

Run with Debian's python3 (python3-numpy, python3-torch):
    /usr/bin/python3 tests/reference/linalg.py
Writes tests/golden/linalg_*.npy: the inputs (seeded) and what torch/numpy give.
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")
rng = np.random.default_rng(0)


def save(name, array):
    np.save(os.path.join(OUT, f"linalg_{name}.npy"), np.array(array, order="C"))  # keeps 0-d arrays 0-d


# Every shape combination torch.matmul accepts, inputs and product (float64).
MATMUL_CASES = {
    "vv": ((3,), (3,)),
    "mv": ((2, 3), (3,)),
    "vm": ((3,), (3, 4)),
    "mm": ((2, 3), (3, 4)),
    "bmv": ((2, 3, 4), (4,)),
    "vbm": ((4,), (2, 4, 5)),
    "bmm": ((2, 3, 4), (2, 4, 5)),
    "bm_m": ((2, 3, 4), (4, 5)),
    "m_bm": ((3, 4), (2, 4, 5)),
    "bcast": ((2, 1, 3, 4), (5, 4, 2)),
}
for name, (sa, sb) in MATMUL_CASES.items():
    a = rng.standard_normal(sa)
    b = rng.standard_normal(sb)
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    out = torch.matmul(ta, tb)
    weights = torch.tensor(rng.standard_normal(tuple(out.shape)))
    (out * weights).sum().backward()
    save(f"matmul_{name}_a", a)
    save(f"matmul_{name}_b", b)
    save(f"matmul_{name}_out", out.detach().numpy())
    save(f"matmul_{name}_w", weights.numpy())
    save(f"matmul_{name}_ga", ta.grad.numpy())
    save(f"matmul_{name}_gb", tb.grad.numpy())

# Integer matmul (torch supports it on the CPU).
ia = np.arange(6, dtype=np.int64).reshape(2, 3) - 2
ib = np.arange(12, dtype=np.int64).reshape(3, 4) % 5
save("matmul_int_a", ia)
save("matmul_int_b", ib)
save("matmul_int_out", torch.matmul(torch.tensor(ia), torch.tensor(ib)).numpy())

# Decompositions of a well-conditioned matrix.
m = rng.standard_normal((5, 5)) + 5 * np.eye(5)
save("m", m)
save("inv", np.linalg.inv(m))
save("det", np.array(np.linalg.det(m)))
rhs_v = rng.standard_normal(5)
rhs_m = rng.standard_normal((5, 3))
save("rhs_v", rhs_v)
save("rhs_m", rhs_m)
save("solve_v", np.linalg.solve(m, rhs_v))
save("solve_m", np.linalg.solve(m, rhs_m))

s = rng.standard_normal((6, 6))
s = s + s.T
save("sym", s)
w, v = np.linalg.eigh(s)
save("eigh_values", w)
save("eigh_vectors", v)

r = rng.standard_normal((6, 4))
save("rect", r)
u, sv, vt = np.linalg.svd(r, full_matrices=False)
save("svd_s", sv)

# torch's gradients of det and inv (a second check next to finite differences).
tm = torch.tensor(m, requires_grad=True)
torch.linalg.det(tm).backward()
save("det_grad", tm.grad.numpy())
