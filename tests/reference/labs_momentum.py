#!/usr/bin/python3
"""Golden values for the optimization lab's momentum runs, from torch.optim.SGD.

cli/labs/optimization.c states the final points of its gradient-descent and
momentum runs as course checks; tests/unit/test_train.c runs the same descents
with nd_sgd and compares them with these rows, so the lab's numbers are
PyTorch's and not copied from an earlier nd.

Writes tests/golden/labs_momentum.npy, one row per run (float64):
  problem, lr, momentum, steps, x0[0], x0[1], x[0], x[1]
problem: 0 = 0.1·x1² + 2·x2² (ill-conditioned valley), 1 = x1² + (x2² − 1)²/4
(saddle), 2 = x·cos(πx) (one variable; x0[1] and x[1] are 0).
Run with Debian's python3 (python3-torch): /usr/bin/python3 tests/reference/labs_momentum.py
"""
import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")


def valley(x):
    return 0.1 * x[0] ** 2 + 2 * x[1] ** 2


def saddle(x):
    return x[0] ** 2 + (x[1] ** 2 - 1) ** 2 / 4


def x_cos_pi_x(x):
    return x[0] * torch.cos(math.pi * x[0])


PROBLEMS = [valley, saddle, x_cos_pi_x]
RUNS = [  # problem, lr, momentum, steps, start
    (0, 0.4, 0.0, 20, (-5.0, -2.0)),
    (0, 0.6, 0.0, 20, (-5.0, -2.0)),
    (0, 0.6, 0.5, 20, (-5.0, -2.0)),
    (0, 0.6, 0.25, 20, (-5.0, -2.0)),
    (1, 0.1, 0.0, 30, (3.0, 0.001)),
    (1, 0.1, 0.9, 30, (3.0, 0.001)),
    (2, 0.05, 0.0, 100, (-1.0,)),
    (2, 0.05, 0.9, 100, (-1.0,)),
]

rows = []
for problem, lr, beta, steps, start in RUNS:
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=lr, momentum=beta)
    for _ in range(steps):
        opt.zero_grad()
        PROBLEMS[problem](x).backward()
        opt.step()
    end = x.detach().tolist() + [0.0] * (2 - len(start))
    rows.append([problem, lr, beta, steps] + list(start) + [0.0] * (2 - len(start)) + end)
np.save(os.path.join(OUT, "labs_momentum.npy"), np.array(rows, dtype=np.float64))
