#!/usr/bin/python3
"""Golden values for tests/unit/test_inplace_history.c: in-place writes whose
source was computed from the tensor written (the graph must stay a graph, its
memory freed), and views made before a write and used after it (PyTorch
regenerates their grad_fn, so gradients see the write). Issue 16.

Run with Debian's python3 (python3-numpy, python3-torch):
    /usr/bin/python3 tests/reference/inplace_history.py
Writes tests/golden/inplace_history_*.npy.
"""
import os

import numpy as np
import torch
import torch.autograd.forward_ad as fwAD

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")
D = torch.float64


def save(name, array):
    np.save(os.path.join(OUT, f"inplace_history_{name}.npy"), np.array(array, order="C"))


X = torch.tensor([[0.3, -0.7], [1.1, -1.4], [0.5, 0.2]], dtype=D)
V = torch.tensor([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]], dtype=D)
save("x", X.numpy())
save("v", V.numpy())


def case(name, x):
    """The tensor whose Σ sin is the loss, for each case of the C test."""
    y = x * 2
    if name == "src_from_the_base":
        y[0:2].copy_(torch.exp(y[1:3]))
    elif name == "src_a_view_of_the_base":
        y[0:1].copy_(y[2:3])
    elif name == "src_from_a_buffer_without_gradient":
        y = torch.full((3, 2), 1.5, dtype=D)
        y[0:2].copy_(torch.exp(y[1:3]) * x[0:2])
    elif name == "view_used_before_and_after":
        v = y[0:2]
        z = torch.exp(v)
        y.mul_(3.0)
        y = torch.cat([z, torch.sin(v)])
    elif name == "view_written_from_itself":
        v = y.select(1, 1)
        y.mul_(3.0)
        y.select(1, 0).add_(torch.exp(v))
        y = v * y.select(1, 0)
    elif name == "expanded_view_made_before_the_write":
        e = y[0:1].expand(4, 2)
        y.mul_(3.0)
        y = e * e
    elif name == "expanded_transposed_view":
        e = y.t()[1:2].expand(3, 3)
        y[1:3].mul_(-2.0)
        y = e * torch.arange(1.0, 10.0, dtype=D).reshape(3, 3)
    return y


CASES = ["src_from_the_base", "src_a_view_of_the_base", "src_from_a_buffer_without_gradient",
         "view_used_before_and_after", "view_written_from_itself",
         "expanded_view_made_before_the_write", "expanded_transposed_view"]
for name in CASES:
    x = X.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(torch.sin(case(name, x)).sum(), x)
    save(f"{name}_grad", g.numpy())
    with fwAD.dual_level():
        y = case(name, fwAD.make_dual(X.clone(), V))
        save(f"{name}_tangent", fwAD.unpack_dual(y).tangent.numpy())
