#!/usr/bin/python3
"""Golden values for tests/unit/test_jacobian_batched.c, from PyTorch.

Run with Debian's python3 (python3-numpy, python3-torch):
    /usr/bin/python3 tests/reference/jacobian_batched.py
Writes tests/golden/jacobian_batched_*.npy: seeded inputs and the Jacobians
that torch.autograd.functional.jacobian gives (float64, tensor layout
f(x).shape + x.shape).
"""
import os

import numpy as np
import torch
from torch.autograd.functional import jacobian

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")
rng = np.random.default_rng(10)


def save(name, array):
    np.save(os.path.join(OUT, f"jacobian_batched_{name}.npy"), np.array(array, order="C"))


# W10's map, small: tanh(W2·tanh(W1·x)).
w1, w2, x = rng.standard_normal((6, 5)), rng.standard_normal((4, 6)), rng.standard_normal(5)
W1, W2 = torch.tensor(w1), torch.tensor(w2)
save("w1", w1)
save("w2", w2)
save("x", x)
save("two_layer", jacobian(lambda v: torch.tanh(W2 @ torch.tanh(W1 @ v)), torch.tensor(x)))

# An elementwise chain where X (2, 3) broadcasts against a constant C (6, 1, 3):
# the batch of 6 seeds would silently pair with C's 6 without the engine's padding.
c, X = rng.uniform(0.5, 1.5, (6, 1, 3)), rng.uniform(-1, 1, (2, 3))
C = torch.tensor(c)
save("c", c)
save("chain_x", X)


def chain(v):
    t = C * v + 0.5
    y = torch.tanh(t) / (v * v + 1) - torch.pow(torch.abs(v) + 1, C * 0.1)
    y = y + torch.maximum(v, C - 1.2) * torch.sigmoid(v) + torch.relu(t - 0.9)
    return y + torch.log(torch.exp(v) + 1) - torch.clamp(v, -0.5, 0.5) ** 2


save("chain", jacobian(chain, torch.tensor(X)))

# A reduction in the middle: nd_sum takes no batch, so nd falls back seed by seed.
s = rng.standard_normal(4)
save("sum_x", s)
save("with_sum", jacobian(lambda v: torch.tanh(v) * v.sum(), torch.tensor(s)))
