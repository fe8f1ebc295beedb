#!/usr/bin/python3
"""Golden values for tests/unit/test_unary.c, test_binary.c and test_compare.c,
from PyTorch (the semantics nd follows) and NumPy.

Run with Debian's python3 (python3-numpy, python3-torch):
    /usr/bin/python3 tests/reference/math.py
Writes tests/golden/math_*.npy: the inputs, each op's values in float32 and
float64, and the gradients torch's autograd gives (float64).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")


def save(name, array):
    np.save(os.path.join(OUT, f"math_{name}.npy"), np.ascontiguousarray(array))


# ------------------------------------------------------------ unary functions

# Negatives, zeros, the softplus threshold, and magnitudes where a naive
# formula overflows (exp(1000), exp(1e30)).
WIDE = np.array([-1e30, -1000.0, -30.0, -20.5, -3.0, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.5,
                 1.0, 2.0, 3.0, 19.9, 20.0, 20.5, 30.0, 1000.0, 1e30])
# For trigonometric and hyperbolic functions: moderate arguments, where float32
# libraries agree to a few ulps.
MODERATE = np.array([-6.0, -3.0, -1.5, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 1.0, 1.5, 3.0, 6.0])
save("wide", WIDE)
save("moderate", MODERATE)

UNARY = {
    "neg": (torch.neg, WIDE),
    "abs": (torch.abs, WIDE),
    "sign": (torch.sign, WIDE),
    "exp": (torch.exp, WIDE),
    "log": (torch.log, WIDE),
    "sqrt": (torch.sqrt, WIDE),
    "square": (torch.square, WIDE),
    "tanh": (torch.tanh, WIDE),
    "sigmoid": (torch.sigmoid, WIDE),
    "relu": (torch.relu, WIDE),
    "softplus": (F.softplus, WIDE),
    "gelu": (F.gelu, WIDE),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.1), WIDE),
    "clamp": (lambda t: torch.clamp(t, -1.0, 2.0), WIDE),
    "clamp_lo": (lambda t: torch.clamp(t, min=-1.0), WIDE),
    "clamp_hi": (lambda t: torch.clamp(t, max=2.0), WIDE),
    "clamp_crossed": (lambda t: torch.clamp(t, 2.0, -1.0), WIDE),
    "erf": (torch.erf, WIDE),
    "pow2": (lambda t: torch.pow(t, 2), WIDE),
    "pow3": (lambda t: torch.pow(t, 3), MODERATE),
    "pow_half": (lambda t: torch.pow(t, 0.5), WIDE),
    "pow_m1": (lambda t: torch.pow(t, -1), MODERATE),
    "sin": (torch.sin, MODERATE),
    "cos": (torch.cos, MODERATE),
    "cosh": (torch.cosh, MODERATE),
}

for name, (fn, x) in UNARY.items():
    for dtype, suffix in ((torch.float32, "f32"), (torch.float64, "f64")):
        save(f"{name}_{suffix}", fn(torch.tensor(x, dtype=dtype)).numpy())
    # d/dx of sum(f(x)): the elementwise derivative, as torch's VJP gives it
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    fn(t).sum().backward()
    save(f"{name}_grad", t.grad.numpy())

# Integer inputs: float functions give float32, the others keep int64.
INTS = np.array([-3, -1, 0, 2, 5], dtype=np.int64)
save("ints", INTS)
ti = torch.tensor(INTS)
for name, fn in (("exp", torch.exp), ("sigmoid", torch.sigmoid), ("sqrt", torch.sqrt),
                 ("neg", torch.neg), ("abs", torch.abs), ("sign", torch.sign),
                 ("square", torch.square), ("relu", torch.relu),
                 ("clamp", lambda t: torch.clamp(t, -1, 2)),
                 ("clamp_frac", lambda t: torch.clamp(t, -0.5, 2.5)),
                 ("pow2", lambda t: torch.pow(t, 2))):
    out = fn(ti)
    save(f"ints_{name}", out.numpy())

# ------------------------------------------------------------ binary functions

# Broadcast (4, 1) against (1, 5); ties between a and b for maximum/minimum.
A41 = np.array([[-2.0], [0.5], [1.0], [3.0]])
B15 = np.array([[-2.0, 0.0, 1.0, 2.5, 3.0]])
save("a41", A41)
save("b15", B15)
for name, fn in (("maximum", torch.maximum), ("minimum", torch.minimum)):
    for dtype, suffix in ((torch.float32, "f32"), (torch.float64, "f64")):
        out = fn(torch.tensor(A41, dtype=dtype), torch.tensor(B15, dtype=dtype))
        save(f"{name}_{suffix}", out.numpy())
    ta = torch.tensor(A41, requires_grad=True)
    tb = torch.tensor(B15, requires_grad=True)
    fn(ta, tb).sum().backward()
    save(f"{name}_ga", ta.grad.numpy())
    save(f"{name}_gb", tb.grad.numpy())

# pow with positive bases, broadcast, and its gradients for a weighted sum.
PA = np.array([[0.5], [1.0], [2.0], [3.5]])
PB = np.array([[-1.5, -1.0, 0.0, 0.5, 2.0, 3.0]])
W = np.linspace(-1.0, 1.5, 24).reshape(4, 6)
save("pow_a", PA)
save("pow_b", PB)
save("pow_w", W)
for dtype, suffix in ((torch.float32, "f32"), (torch.float64, "f64")):
    save(f"pow_{suffix}", torch.pow(torch.tensor(PA, dtype=dtype),
                                    torch.tensor(PB, dtype=dtype)).numpy())
ta = torch.tensor(PA, requires_grad=True)
tb = torch.tensor(PB, requires_grad=True)
(torch.pow(ta, tb) * torch.tensor(W)).sum().backward()
save("pow_ga", ta.grad.numpy())
save("pow_gb", tb.grad.numpy())

# pow at zero bases, elementwise: PyTorch's masking of 0^0 and 0^b·log(0).
ZA = np.array([0.0, 0.0, 0.0, 0.0, 2.0, -2.0])
ZB = np.array([0.0, 1.0, -1.0, 2.5, 0.0, 2.0])
save("pow0_a", ZA)
save("pow0_b", ZB)
ta = torch.tensor(ZA, requires_grad=True)
tb = torch.tensor(ZB, requires_grad=True)
y = torch.pow(ta, tb)
y.sum().backward()
save("pow0", y.detach().numpy())
save("pow0_ga", ta.grad.numpy())
save("pow0_gb", tb.grad.numpy())

# Integer powers (wrapping and truncation as torch), int64.
IA = np.array([2, -3, 0, 1, -1, 7], dtype=np.int64)
IB = np.array([10, 3, 0, -2, -3, 2], dtype=np.int64)
save("ipow_a", IA)
save("ipow_b", IB)
save("ipow", torch.pow(torch.tensor(IA), torch.tensor(IB)).numpy())

# ------------------------------------------------------------- comparisons

CA = np.array([[1.0], [2.0], [np.nan]])
CB = np.array([[0.0, 2.0, np.nan, 3.0]])
save("ca", CA)
save("cb", CB)
for name, fn in (("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                 ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal)):
    save(f"cmp_{name}", fn(CA, CB))

# where(cond, a, b) over broadcast (3, 1), (1, 4), () and its gradients.
COND = np.array([[True], [False], [True]])
WA = np.array([[1.0, 2.0, 3.0, 4.0]])
WB = np.array(-1.5)
save("where_cond", COND)
save("where_a", WA)
save("where_b", WB)
ta = torch.tensor(WA, requires_grad=True)
tb = torch.tensor(WB, requires_grad=True)
y = torch.where(torch.tensor(COND), ta, tb)
(y * torch.arange(12.0, dtype=torch.float64).reshape(3, 4)).sum().backward()
save("where", y.detach().numpy())
save("where_ga", ta.grad.numpy())
save("where_gb", tb.grad.numpy())
