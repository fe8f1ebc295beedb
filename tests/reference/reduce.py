#!/usr/bin/python3
"""Golden values for tests/unit/test_reduce.c and test_softmax.c, from PyTorch.

Run from anywhere with Debian's python3 (numpy, torch):
    /usr/bin/python3 tests/reference/reduce.py
It writes tests/golden/reduce_*.npy: the inputs the tests load and what
PyTorch computes from them.
"""
import os

import numpy as np
import torch

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")
rng = np.random.default_rng(20240611)


def save(name, value):
    if isinstance(value, torch.Tensor):
        # A derivative that is identically zero may come back as torch's lazy
        # "zero tensor", whose .numpy() reads memory that is not zeros.
        if value._is_zerotensor():
            value = torch.zeros(value.shape, dtype=value.dtype)
        value = value.detach().numpy()
    np.save(os.path.join(GOLDEN, "reduce_" + name + ".npy"), np.array(value, order="C"))


def t(a):
    return torch.from_numpy(np.array(a))


# ---------------------------------------------------------------- inputs
x3 = rng.standard_normal((3, 4, 5)).astype(np.float32)          # f32, 3-d
x4 = rng.standard_normal((2, 3, 4, 5))                          # f64, 4-d
xi = rng.integers(-50, 50, size=(4, 5)).astype(np.int64)        # i64, 2-d
x1 = rng.standard_normal(7).astype(np.float32)                  # f32, 1-d
ties = np.array([[1, 3, 3, 0, -2, 3],
                 [5, 5, 4, -1, 5, 2],
                 [0, 0, 0, 0, 0, 0],
                 [-4, 2, 7, 7, 1, -4]], dtype=np.float32)       # max/min ties
grad_x = rng.standard_normal((3, 4))                            # f64, for gradients
for name, value in [("x3", x3), ("x4", x4), ("xi", xi), ("x1", x1), ("ties", ties),
                    ("gx", grad_x)]:
    save(name, value)

X3, X4, XI, X1, TIES = t(x3), t(x4), t(xi), t(x1), t(ties)

# ---------------------------------------------------------------- sums
save("x3_sum0", X3.sum(0))
save("x3_sum1", X3.sum(1))
save("x3_sum2", X3.sum(2))
save("x3_sum_m1_keep", X3.sum(-1, keepdim=True))
save("x3_sum_all", X3.sum())
save("x3_sum02", X3.sum((0, 2)))
save("x3_sum02_keep", X3.sum((0, 2), keepdim=True))
save("x4_sum1_keep", X4.sum(1, keepdim=True))
save("x4_sum13", X4.sum((1, 3)))
save("x4_sum_m4", X4.sum(-4))
save("xi_sum0", XI.sum(0))
save("xi_sum_all", XI.sum())
save("x1_sum", X1.sum(0))
# views: a permutation and a strided slice (non-contiguous inputs)
save("x3_perm_sum1", X3.permute(2, 0, 1).sum(1))
save("x3_perm_sum02", X3.permute(2, 0, 1).sum((0, 2)))
save("x3_step_sum0", X3[:, ::2, 1:].sum(0))
save("x3_step_sum2", X3[:, ::2, 1:].sum(2))
save("x3_t_max1", X3.transpose(0, 2).max(1).values)
save("x3_t_argmax1", X3.transpose(0, 2).argmax(1))
save("x3_t_softmax1", torch.softmax(X3.transpose(0, 2), 1))
save("x3_t_cumsum2", X3.transpose(0, 2).cumsum(2))

# ---------------------------------------------------------------- means, var, std
save("x3_mean1", X3.mean(1))
save("x3_mean_all", X3.mean())
save("x4_mean_m2_keep", X4.mean(-2, keepdim=True))
save("x4_var0", X4.var(0))
save("x4_var_all", X4.var())
save("x4_std3", X4.std(3))
save("x3_var2_keep", X3.var(2, keepdim=True))

# ---------------------------------------------------------------- max, min
for dim in (0, 1):
    save(f"ties_max{dim}", TIES.max(dim).values)
    save(f"ties_argmax{dim}", TIES.max(dim).indices)
    save(f"ties_min{dim}", TIES.min(dim).values)
    save(f"ties_argmin{dim}", TIES.min(dim).indices)
save("ties_argmax_all", TIES.argmax())
save("ties_argmin_all", TIES.argmin())
save("x4_max2_keep", X4.max(2, keepdim=True).values)
save("x4_argmin_m1", X4.argmin(-1))
save("xi_max1", XI.max(1).values)
save("xi_argmin0", XI.argmin(0))

# ---------------------------------------------------------------- softmax family
save("x4_logsumexp1", torch.logsumexp(X4, 1))
save("x4_logsumexp_all", torch.logsumexp(X4.reshape(-1), 0))
save("x3_logsumexp_m1_keep", torch.logsumexp(X3, -1, keepdim=True))
save("x3_softmax_m1", torch.softmax(X3, -1))
save("x3_softmax0", torch.softmax(X3, 0))
save("x4_softmax2", torch.softmax(X4, 2))
save("x3_log_softmax1", torch.log_softmax(X3, 1))
save("x4_log_softmax_m1", torch.log_softmax(X4, -1))
save("xi_logsumexp1", torch.logsumexp(XI, 1))
big = t(np.array([[1000.0, 0.0], [-1000.0, 0.0], [1000.0, 1000.0]]))
save("big", big)
save("big_softmax1", torch.softmax(big, 1))
save("big_log_softmax1", torch.log_softmax(big, 1))
save("big_logsumexp1", torch.logsumexp(big, 1))

# ---------------------------------------------------------------- cumsum, norm
save("x3_cumsum0", X3.cumsum(0))
save("x3_cumsum_m1", X3.cumsum(-1))
save("x4_cumsum2", X4.cumsum(2))
save("xi_cumsum1", XI.cumsum(1))
save("x3_norm1", torch.linalg.vector_norm(X3, 1))
save("x3_norm2", torch.linalg.vector_norm(X3, 2))
save("x3_norminf", torch.linalg.vector_norm(X3, float("inf")))
save("x4_norm2", torch.linalg.vector_norm(X4, 2))

# ---------------------------------------------------------------- gradients (f64)
# Each case is f(x) = Σ w ⊙ op(x) with fixed weights w, differentiated at gx.
G = t(grad_x)
ops = {
    "sum1": lambda x: x.sum(1),
    "sum_all_keep": lambda x: x.sum((0, 1), keepdim=True),
    "mean0_keep": lambda x: x.mean(0, keepdim=True),
    "var1": lambda x: x.var(1),
    "std0": lambda x: x.std(0),
    "max1": lambda x: x.max(1).values,
    "min0": lambda x: x.min(0).values,
    "logsumexp1": lambda x: torch.logsumexp(x, 1),
    "softmax0": lambda x: torch.softmax(x, 0),
    "log_softmax1": lambda x: torch.log_softmax(x, 1),
    "cumsum1": lambda x: x.cumsum(1),
    "cumsum0": lambda x: x.cumsum(0),
    "norm1": lambda x: torch.linalg.vector_norm(x, 1),
    "norm2": lambda x: torch.linalg.vector_norm(x, 2),
    "norminf": lambda x: torch.linalg.vector_norm(x, float("inf")),
}
for name, op in ops.items():
    x = G.clone().requires_grad_(True)
    y = op(x)
    w = torch.from_numpy(np.linspace(-1.0, 2.0, y.numel()).reshape(y.shape))
    (grad,) = torch.autograd.grad((w * y).sum(), x, create_graph=True)
    save("grad_" + name, grad)
    # A second derivative: the Hessian of f times v = (1, 2, ..., 12) / 12.
    v = torch.arange(1.0, 13.0, dtype=torch.float64).reshape(3, 4) / 12
    if grad.requires_grad:
        (hv,) = torch.autograd.grad((grad * v).sum(), x)
    else:
        hv = torch.zeros_like(x)
    save("hvp_" + name, hv)

# max over every dim with ties: the gradient is shared evenly (torch.max(t))
x = TIES.double().requires_grad_(True)
x.max().backward()
save("grad_ties_max_all", x.grad)
x = TIES.double().requires_grad_(True)
x.max(1).values.sum().backward()
save("grad_ties_max1", x.grad)
x = TIES.double().requires_grad_(True)
torch.linalg.vector_norm(x, float("inf")).backward()
save("grad_ties_norminf", x.grad)
