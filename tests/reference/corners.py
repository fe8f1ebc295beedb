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


# 2. Reductions over sizes that nd splits between threads, with one NaN at a
# position in the first, a middle or the last share.
N = 3 * 2**15 + 8  # 98312 = 8 rows of 12289
NAN_POSITIONS = [0, N // 3, N // 2 + 7, N - 1]


def nan_data(pos):
    v = ((np.arange(N) * 37) % 1001) / 8.0 - 60.0
    v[pos] = np.nan
    return torch.tensor(v)


rows = []
for pos in NAN_POSITIONS:
    t = nan_data(pos)
    m = t.reshape(8, -1)
    rows.append([
        torch.linalg.vector_norm(t, float("inf")).item(),
        torch.linalg.vector_norm(t, 1).item(),
        torch.linalg.vector_norm(t, 2).item(),
        t.max().item(), t.min().item(),
        float(t.argmax().item()), float(t.argmin().item()),
        t.sum().item(), t.mean().item(), torch.logsumexp(t, 0).item(),
    ])
    save(f"nan_rows_max_{pos}", m.max(1).values.numpy())
    save(f"nan_rows_argmin_{pos}", m.argmin(1).numpy())
save("nan_positions", np.array(NAN_POSITIONS, dtype=np.int64))
save("nan_reductions", np.array(rows))


# 3. std and var where the spread is 0 (constant columns 0 and 2).
import torch.autograd.forward_ad as fwAD  # noqa: E402

x = torch.tensor([[1.0, 2.0, -1.0], [1.0, 3.0, -1.0], [1.0, 4.0, -1.0]], dtype=torch.float64)
w = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
v = torch.tensor([[1.0, 1.0, 0.5], [2.0, -1.0, 0.5], [1.0, 3.0, 0.5]], dtype=torch.float64)
save("flat_x", x.numpy())
save("flat_w", w.numpy())
save("flat_v", v.numpy())
for name, f in {"std": torch.std, "var": torch.var}.items():
    for dim in (0, 1):
        t = x.clone().requires_grad_(True)
        (f(t, dim) * w).sum().backward()
        save(f"flat_{name}{dim}_grad", t.grad.numpy())
        with fwAD.dual_level():
            tangent = fwAD.unpack_dual(f(fwAD.make_dual(x, v), dim)).tangent
        save(f"flat_{name}{dim}_tangent", tangent.numpy())


# 5, 6. In-place writes PyTorch refuses (its messages) and the close cases it allows.
def message(f):
    try:
        f()
    except RuntimeError as e:
        return str(e).split("\n")[0]
    raise AssertionError("torch accepted it")


ints = lambda: torch.tensor([1, 2, 3])
bools = lambda: torch.tensor([True, False, True])
expanded = lambda: torch.zeros(3).expand(2, 3)
REFUSED = {
    "mul_scalar_int_2.5": lambda: ints().mul_(2.5),
    "add_int_float": lambda: ints().add_(torch.tensor([0.5, 1.0, 2.0])),
    "axpy_int_0.5": lambda: ints().add_(ints(), alpha=0.5),
    "add_bool_int": lambda: bools().add_(ints()),
    "mul_scalar_bool_2": lambda: bools().mul_(2),
    "copy_expanded": lambda: expanded().copy_(torch.ones(2, 3)),
    "add_expanded": lambda: expanded().add_(torch.ones(2, 3)),
    "mul_scalar_expanded": lambda: expanded().mul_(2),
    "axpy_expanded": lambda: expanded().add_(torch.ones(2, 3), alpha=0.5),
    "init_uniform_expanded": lambda: expanded().uniform_(),
}
with open(os.path.join(OUT, "corners_inplace_refused.txt"), "w") as f:
    for name, op in REFUSED.items():
        f.write(f"{name}\t{message(op)}\n")
ALLOWED = {
    "axpy_int_2": ints().add_(ints(), alpha=2),
    "add_i32_i64": torch.tensor([1, -7], dtype=torch.int32).add_(torch.tensor([5, 3])),
    "add_u8_0d_i64": torch.tensor([250, 3], dtype=torch.uint8).add_(torch.tensor(10)),
    "add_bool_bool": bools().add_(torch.tensor([False, False, True])),
    "fill_int_2.5": ints().fill_(2.5),
    "copy_int_float": ints().copy_(torch.tensor([1.5, -2.5, 3.9])),
    "fill_expanded": expanded().fill_(1.5),
}
for name, t in ALLOWED.items():
    save(f"inplace_{name}", t.numpy())


# 15. Backward saves only what it reads: changing the other one in place
# (under no_grad) afterwards is allowed, and the gradient uses the new values
# of nothing it did not save.
x0 = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=torch.float64)
a0 = torch.tensor([[2.0, 3.0, -1.0], [0.5, -2.0, 4.0]], dtype=torch.float64)
w0 = torch.tensor([[1.0, -0.5, 0.25], [2.0, 1.0, -1.0]], dtype=torch.float64)
b0 = torch.tensor([0.1, -0.2], dtype=torch.float64)
save("saved_x", x0.numpy())
save("saved_a", a0.numpy())
save("saved_w", w0.numpy())
save("saved_b", b0.numpy())


def grad_after_change(f, change):
    x = x0.clone().requires_grad_(True)
    a, w, b = a0.clone(), w0.clone(), b0.clone()
    y = f(x, a, w, b)
    with torch.no_grad():
        change(x, a, w, b)
    y.backward()
    return x.grad.numpy()


SAVED_CASES = {
    "mul": (lambda x, a, w, b: (x * a).sum(), lambda x, a, w, b: x.add_(1)),
    "div": (lambda x, a, w, b: (x / a).sum(), lambda x, a, w, b: x.add_(1)),
    "matmul": (lambda x, a, w, b: (x @ w.T).sin().sum(), lambda x, a, w, b: x.mul_(2)),
    "relu": (lambda x, a, w, b: (torch.relu(x) * a).sum(), lambda x, a, w, b: x.mul_(-1)),
    "linear": (lambda x, a, w, b: torch.nn.functional.linear(x, w, b).sin().sum(),
               lambda x, a, w, b: b.add_(5)),
}
for name, (f, change) in SAVED_CASES.items():
    save(f"saved_{name}_grad", grad_after_change(f, change))


# 9. A 0-d tensor takes part in promotion only when it is of a higher kind.
t = torch.tensor
DTYPE_CODES = {torch.bool: 0, torch.uint8: 1, torch.int32: 2, torch.int64: 3,
               torch.float32: 4, torch.float64: 5}
mask = t([True, False, True])
PROMOTION_CASES = {
    "add_f32_0d_f64": lambda: t([1.5, 2.0, -1.0]) + t(2.25, dtype=torch.float64),
    "add_i32_0d_i64": lambda: t([1, 2, 3], dtype=torch.int32) + t(2**31 + 5),
    "add_u8_0d_i64": lambda: t([250, 3, 7], dtype=torch.uint8) + t(10),
    "add_i32_0d_f64": lambda: t([1, 2, 3], dtype=torch.int32) + t(0.5, dtype=torch.float64),
    "add_bool_0d_i64": lambda: t([True, False, True]) + t(3),
    "mul_0d_i32_0d_i64": lambda: t(3, dtype=torch.int32) * t(4),
    "div_i32_0d_i64": lambda: t([1, 2, 3], dtype=torch.int32) / t(4),
    "where_i32_0d_i64": lambda: torch.where(mask, t([1, 2, 3], dtype=torch.int32), t(5)),
    "where_f32_0d_f64": lambda: torch.where(mask, t([1.5, 2.5, 3.5]), t(5.5, dtype=torch.float64)),
    "maximum_u8_0d_i64": lambda: torch.maximum(t([1, 2, 250], dtype=torch.uint8), t(300)),
    "minimum_f32_0d_f64": lambda: torch.minimum(t([1.5, 2.5, 3.5]), t(2.0, dtype=torch.float64)),
    "pow_f32_0d_f64": lambda: torch.pow(t([1.5, 2.0, 3.0]), t(2.0, dtype=torch.float64)),
    "eq_u8_0d_i64": lambda: t([255, 0, 1], dtype=torch.uint8) == t(-1),
}
for name, f in PROMOTION_CASES.items():
    r = f()
    save(f"promote_{name}", r.numpy())
    save(f"promote_{name}_dtype", np.array(DTYPE_CODES[r.dtype], dtype=np.int64))

# 10. A whole number beyond int64 is a float: int64 · 1e20 is float32.
save("scalar_1e20", (t([1, -2, 3]) * 1e20).numpy())

# 12. Conventions at NaN and -0.
nan = float("nan")
x = t([nan, -0.0, 0.0, 1.0, -2.0], dtype=torch.float64)
save("nan_x", x.numpy())
save("nan_sign", torch.sign(x).numpy())
for name, f in {"relu": torch.relu, "abs": torch.abs, "sign": torch.sign,
                "leaky_relu": lambda u: torch.nn.functional.leaky_relu(u, 0.1),
                "clamp": lambda u: torch.clamp(u, -1, 0.5)}.items():
    leaf = x.clone().requires_grad_(True)
    f(leaf).sum().backward()
    save(f"nan_{name}_grad", leaf.grad.numpy())
    with fwAD.dual_level():
        tangent = fwAD.unpack_dual(f(fwAD.make_dual(x, torch.ones_like(x)))).tangent
    save(f"nan_{name}_tangent", tangent.numpy())
a0 = t([nan, 1.0, 2.0, nan, 3.0], dtype=torch.float64)
b0 = t([1.0, nan, 2.0, nan, 1.0], dtype=torch.float64)
save("nan_a", a0.numpy())
save("nan_b", b0.numpy())
for name, f in {"maximum": torch.maximum, "minimum": torch.minimum}.items():
    a, b = a0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    f(a, b).sum().backward()
    save(f"nan_{name}_grad_a", a.grad.numpy())
    save(f"nan_{name}_grad_b", b.grad.numpy())

# 13. Integer linspace: bounds converted to the dtype, steps in double, truncated.
LINSPACE_CASES = {
    "i64_fraction": (0.5, 10.7, 5, torch.int64),
    "i64_negative": (-3.7, 4.2, 7, torch.int64),
    "i32_down": (10.9, 0.2, 4, torch.int32),
    "i64_halves": (-2.5, 2.5, 6, torch.int64),
    "u8": (0.9, 254.5, 7, torch.uint8),
}
for name, (a, b, n, dtype) in LINSPACE_CASES.items():
    save(f"linspace_{name}", torch.linspace(a, b, n, dtype=dtype).numpy())

# 14. Subtraction refuses bool tensors, numbers included.
with open(os.path.join(OUT, "corners_sub_bool.txt"), "w") as f:
    f.write(message(lambda: t([True]) - 1) + "\n")
    f.write(message(lambda: 1 - t([True])) + "\n")
    f.write(message(lambda: t([True]) - t([True])) + "\n")


# 11. Decompositions of empty matrices (nd must not let LAPACK print either).
empty = torch.zeros(0, 0, dtype=torch.float64)
save("empty_inv", torch.linalg.inv(empty).numpy())
save("empty_det", torch.linalg.det(empty).numpy())
save("empty_solve", torch.linalg.solve(empty, torch.zeros(0, 3, dtype=torch.float64)).numpy())
save("empty_solve_no_columns",
     torch.linalg.solve(torch.eye(2, dtype=torch.float64), torch.zeros(2, 0, dtype=torch.float64)).numpy())


# 8. eigh: the eigenvector gradient is symmetric (PyTorch returns the
# symmetric part); the JVP takes the tangent as given.
a = torch.tensor([[2.0, 0.5, -0.3], [0.5, 1.0, 0.2], [-0.3, 0.2, -1.5]], dtype=torch.float64)
wv = torch.tensor([[1.0, -2.0, 0.5], [0.3, 0.7, -1.1], [2.0, 0.1, 0.4]], dtype=torch.float64)
ww = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
tangent = torch.tensor([[0.1, 0.2, -0.3], [0.4, -0.5, 0.6], [0.7, 0.8, -0.9]], dtype=torch.float64)
save("eigh_a", a.numpy())
save("eigh_wv", wv.numpy())
save("eigh_ww", ww.numpy())
save("eigh_tangent", tangent.numpy())
leaf = a.clone().requires_grad_(True)
values, vectors = torch.linalg.eigh(leaf)
# squares: independent of each eigenvector's sign
((vectors * vectors * wv).sum() + (values * ww).sum()).backward()
save("eigh_grad", leaf.grad.numpy())
with fwAD.dual_level():
    values, vectors = torch.linalg.eigh(fwAD.make_dual(a, tangent))
    save("eigh_values_tangent", fwAD.unpack_dual(values).tangent.numpy())
    v, tv = fwAD.unpack_dual(vectors)
    save("eigh_squares_tangent", (2 * v * tv).numpy())


# 4. In-place writes from tensors that require a gradient are recorded
# (CopySlices), into whole tensors and into views, in both modes.
xs = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=torch.float64)
ys = torch.tensor([[2.0, 3.0, -1.0], [0.5, -2.0, 4.0]], dtype=torch.float64)
W4 = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0], [0.25, -3.0, 1.0], [4.0, 1.0, -2.0]],
                  dtype=torch.float64)
save("write_x", xs.numpy())
save("write_y", ys.numpy())
save("write_w", W4.numpy())


def write_case(name):
    x = xs.clone().requires_grad_(True)
    y = ys.clone().requires_grad_(True)
    if name == "copy_into_slice":
        buf = torch.zeros(4, 3, dtype=torch.float64)
        buf[1:3].copy_(x * 2)
        loss = (torch.sin(buf) * W4).sum()
    elif name == "add_into_nonleaf":
        h = torch.cat([x * 2, y], 0)
        h.add_(torch.cat([y, x * x], 0))
        loss = (torch.sin(h) * W4).sum()
    elif name == "axpy_into_select":
        h = torch.cat([x, y], 0) * 1.5
        h[2].add_(x[0] * y[1], alpha=0.5)
        loss = (torch.sin(h) * W4).sum()
    elif name == "scale_a_view":
        h = torch.cat([x, y], 0) * 1.0
        h[:, 1].mul_(3.0)
        loss = (torch.sin(h) * W4).sum()
    elif name == "fill_a_view":
        h = torch.cat([x, y], 0) * 2.0
        h[1:3, 0:2].fill_(0.5)
        loss = (torch.sin(h) * W4).sum()
    elif name == "earlier_use_keeps_old_history":
        h = torch.cat([x, y], 0) * 2.0
        before = h.sum() * 3.0  # does not save h
        h.add_(torch.cat([y, x], 0))
        loss = before + (torch.sin(h) * W4).sum()
    if name == "view_made_before_the_write":
        h = torch.cat([x, y], 0) * 2.0
        column = h[:, 1]
        h[1:3].copy_(y * 3.0)
        loss = (torch.sin(h) * W4).sum() + (column * column).sum()
    loss.backward()
    return x.grad.numpy(), y.grad.numpy() if y.grad is not None else np.zeros((2, 3))


WRITE_CASES = ["copy_into_slice", "add_into_nonleaf", "axpy_into_select", "scale_a_view",
               "fill_a_view", "earlier_use_keeps_old_history", "view_made_before_the_write"]
for name in WRITE_CASES:
    gx, gy = write_case(name)
    save(f"write_{name}_gx", gx)
    save(f"write_{name}_gy", gy)
# forward mode: the tangent of the buffer after copying 2x into a slice
vx = torch.tensor([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]], dtype=torch.float64)
save("write_vx", vx.numpy())
with fwAD.dual_level():
    x = fwAD.make_dual(xs, vx)
    buf = torch.zeros(4, 3, dtype=torch.float64)
    buf[1:3].copy_(x * 2)
    buf[0].add_(x[1], alpha=0.5)
    save("write_tangent", fwAD.unpack_dual(buf).tangent.numpy())


# 7. svd's gradients and tangents (thin), through functions that do not
# depend on the singular vectors' signs.
SVD_CASES = {
    "tall": torch.tensor([[2.0, 0.5], [-0.3, 1.0], [0.7, -1.2]], dtype=torch.float64),
    "wide": torch.tensor([[2.0, 0.5, -0.3], [1.0, 0.7, -1.2]], dtype=torch.float64),
    "square": torch.tensor([[2.0, 0.5, -0.3], [1.0, 0.7, -1.2], [0.4, -0.9, 1.5]],
                           dtype=torch.float64),
}
for name, a in SVD_CASES.items():
    m, n = a.shape
    k = min(m, n)
    gen = torch.Generator().manual_seed(len(name))
    wu = torch.randn(m, k, generator=gen, dtype=torch.float64)
    ws = torch.randn(k, generator=gen, dtype=torch.float64)
    wv = torch.randn(k, n, generator=gen, dtype=torch.float64)
    tangent = torch.randn(m, n, generator=gen, dtype=torch.float64)
    for part, arr in {"a": a, "wu": wu, "ws": ws, "wv": wv, "tangent": tangent}.items():
        save(f"svd_{name}_{part}", arr.numpy())
    leaf = a.clone().requires_grad_(True)
    u, s, vt = torch.linalg.svd(leaf, full_matrices=False)
    ((u * u * wu).sum() + (s * ws).sum() + (vt * vt * wv).sum()).backward()
    save(f"svd_{name}_grad", leaf.grad.numpy())
    with fwAD.dual_level():
        u, s, vt = torch.linalg.svd(fwAD.make_dual(a, tangent), full_matrices=False)
        save(f"svd_{name}_s_tangent", fwAD.unpack_dual(s).tangent.numpy())
        uu, tu = fwAD.unpack_dual(u)
        vv, tv = fwAD.unpack_dual(vt)
        save(f"svd_{name}_u2_tangent", (2 * uu * tu).numpy())
        save(f"svd_{name}_vt2_tangent", (2 * vv * tv).numpy())


# 7. eig's gradients and tangents for a non-symmetric matrix with distinct
# real eigenvalues (PyTorch returns complex tensors whose imaginary parts are
# 0 here), through functions that do not depend on the eigenvectors' signs.
a = torch.tensor([[2.0, 1.0, 0.5], [0.3, -1.0, 0.7], [0.2, 0.4, 3.0]], dtype=torch.float64)
gen = torch.Generator().manual_seed(7)
wl = torch.randn(3, generator=gen, dtype=torch.float64)
wv = torch.randn(3, 3, generator=gen, dtype=torch.float64)
tangent = torch.randn(3, 3, generator=gen, dtype=torch.float64)
for part, arr in {"a": a, "wl": wl, "wv": wv, "tangent": tangent}.items():
    save(f"eig_{part}", arr.numpy())
leaf = a.clone().requires_grad_(True)
values, vectors = torch.linalg.eig(leaf)
assert (values.imag == 0).all() and (vectors.imag == 0).all()
save("eig_values", values.real.detach().numpy())
((values.real * wl).sum() + (vectors.real ** 2 * wv).sum()).backward()
save("eig_grad", leaf.grad.numpy())
leaf.grad = None
values, vectors = torch.linalg.eig(leaf)
(values.real * wl).sum().backward()
save("eig_values_grad", leaf.grad.numpy())
with fwAD.dual_level():
    values, vectors = torch.linalg.eig(fwAD.make_dual(a, tangent))
    save("eig_values_tangent", fwAD.unpack_dual(values).tangent.real.numpy())
    vv, tv = fwAD.unpack_dual(vectors)
    assert (tv.imag == 0).all()
    save("eig_vectors2_tangent", (2 * vv * tv).real.numpy())


# 4. Writes into a tensor laid out as a transpose (shape (4, 3), strides
# (1, 4)): CopySlices lays the gradient out with the base's strides before
# taking the view's region.
def strided_writes(x):
    base = torch.empty_strided((4, 3), (1, 4), dtype=torch.float64)
    base.copy_(torch.cat([x, x * x]) * 2)  # the whole base
    base[1:3].mul_(3.0)  # rows: strided in memory
    base[:, 0].add_(torch.sin(x[0]).repeat(2)[:4], alpha=0.5)  # a column: one block
    base[3].copy_(torch.exp(x[1]))
    return base


leaf = xs.clone().requires_grad_(True)
(strided_writes(leaf) * W4).sum().backward()
save("write_strided_gx", leaf.grad.numpy())
with fwAD.dual_level():
    save("write_strided_tangent",
         fwAD.unpack_dual(strided_writes(fwAD.make_dual(xs, vx))).tangent.numpy())
