#!/usr/bin/python3
"""Golden values for the one-pass tests of tests/unit/test_autograd.c
(backward_targets suite): torch.autograd.grad with an input given twice, and
with the output itself and an intermediate among the inputs (issue 12, item 3).

Run with Debian's python3 (python3-numpy, python3-torch):
    /usr/bin/python3 tests/reference/backward_targets.py
Writes tests/golden/backward_targets_*.npy.
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")


def save(name, t):
    np.save(os.path.join(OUT, f"backward_targets_{name}.npy"), t.detach().numpy())


x = torch.tensor([1.5, -2.0, 0.25], dtype=torch.float64, requires_grad=True)
save("x", x)
g1, g2 = torch.autograd.grad(torch.sin(x * x).sum(), [x, x])
save("twice_0", g1)
save("twice_1", g2)
z = x * x
w = torch.exp(z * 0.5).sum()
gw, gz, gx = torch.autograd.grad(w, [w, z, x])
save("with_output_w", gw)
save("with_output_z", gz)
save("with_output_x", gx)
