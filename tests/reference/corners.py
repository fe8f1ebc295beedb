#!/usr/bin/python3
"""Golden values for tests/unit/test_forward_over_reverse.c and test_corners.c:
PyTorch's answers away from the well-travelled paths (issue 16).

Run with Debian's python3 (python3-numpy, python3-torch):
    /usr/bin/python3 tests/reference/corners.py
Writes tests/golden/corners_*.npy.
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")


def save(name, array):
    np.save(os.path.join(OUT, f"corners_{name}.npy"), np.array(array, order="C"))


# 1. Hessians of Σ sin(f(x)) for the ops whose backward reads their output.
x = torch.tensor([[0.3, -0.7, 1.1], [-1.4, 0.5, 0.2], [0.9, -0.1, -0.6]], dtype=torch.float64)
near = lambda t: t + 3 * torch.eye(3, dtype=torch.float64)
b = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
HESSIAN_CASES = {
    "sqrt": lambda t: torch.sqrt(t * t + 1),
    "exp": torch.exp,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "std": lambda t: torch.std(t, 0),
    "inv": lambda t: torch.linalg.inv(near(t)),
    "det": lambda t: torch.linalg.det(near(t)),
    "solve": lambda t: torch.linalg.solve(near(t), b),
}
save("hessian_x", x.numpy())
for name, f in HESSIAN_CASES.items():
    h = torch.autograd.functional.hessian(lambda t: torch.sin(f(t)).sum(), x)
    save(f"hessian_{name}", h.numpy())
