#!/usr/bin/python3
"""Golden values for nd's neural-network pieces and optimizers, from PyTorch.

Writes tests/golden/optim_*.npy:
  optim_x, optim_y, optim_w0, optim_b0   a tiny linear regression and its start
  optim_sgd_cases  (k, 6): lr, momentum, dampening, weight_decay, nesterov, halve_lr_at_50
  optim_sgd_f64 / _f32  (k, 8): final [w.flatten(), b] after 100 steps of each case
  optim_adam_cases (k, 7): lr, beta1, beta2, eps, weight_decay, decoupled, halve_lr_at_50
  optim_adam_f64 / _f32 (k, 8)
  optim_nn_*: cross-entropy, MSE and linear values, gradients and a second derivative

Each step: loss = mse_loss(linear(x, w, b), y); backward; opt.step(); zero_grad.
Run with Debian's python3 (python3-torch): /usr/bin/python3 tests/reference/optim.py
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")


def save(name, array):
    np.save(os.path.join(OUT, "optim_" + name + ".npy"), np.array(array, order="C"))


rng = np.random.default_rng(5)
X = rng.normal(size=(8, 3))
W_TRUE = np.array([[1.0, -2.0, 0.5], [0.3, 0.8, -1.2]])
Y = X @ W_TRUE.T + np.array([0.5, -0.25]) + 0.1 * rng.normal(size=(8, 2))
W0 = 0.5 * rng.normal(size=(2, 3))
B0 = 0.5 * rng.normal(size=(2,))
save("x", X)
save("y", Y)
save("w0", W0)
save("b0", B0)


def run(make_optimizer, halve, dtype):
    x = torch.tensor(X, dtype=dtype)
    y = torch.tensor(Y, dtype=dtype)
    w = torch.tensor(W0, dtype=dtype, requires_grad=True)
    b = torch.tensor(B0, dtype=dtype, requires_grad=True)
    opt = make_optimizer([w, b])
    for step in range(100):
        if halve and step == 50:
            for group in opt.param_groups:
                group["lr"] *= 0.5
        loss = torch.nn.functional.mse_loss(torch.nn.functional.linear(x, w, b), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
    return np.concatenate([w.detach().numpy().ravel(), b.detach().numpy()]).astype(np.float64)


sgd_cases = []
for momentum in (0.0, 0.9):
    for dampening in (0.0, 0.1):
        for nesterov in (False, True):
            if nesterov and (momentum == 0 or dampening != 0):
                continue
            for weight_decay in (0.0, 0.01):
                sgd_cases.append((0.05, momentum, dampening, weight_decay, float(nesterov), 0.0))
sgd_cases.append((0.1, 0.5, 0.0, 0.01, 1.0, 1.0))
for dtype, suffix in ((torch.float64, "f64"), (torch.float32, "f32")):
    finals = []
    for lr, momentum, dampening, wd, nesterov, halve in sgd_cases:
        finals.append(run(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=momentum,
                                                     dampening=dampening, weight_decay=wd,
                                                     nesterov=bool(nesterov)), halve, dtype))
    save("sgd_" + suffix, np.array(finals))
save("sgd_cases", np.array(sgd_cases))

adam_cases = []
for decoupled in (0.0, 1.0):
    for weight_decay in (0.0, 0.01):
        for lr, beta1, beta2 in ((0.01, 0.9, 0.999), (0.05, 0.8, 0.99)):
            adam_cases.append((lr, beta1, beta2, 1e-8, weight_decay, decoupled, 0.0))
adam_cases.append((0.02, 0.0, 0.5, 1e-3, 0.1, 1.0, 1.0))
adam_cases.append((0.02, 0.95, 0.9, 1e-3, 0.1, 0.0, 1.0))
for dtype, suffix in ((torch.float64, "f64"), (torch.float32, "f32")):
    finals = []
    for lr, beta1, beta2, eps, wd, decoupled, halve in adam_cases:
        cls = torch.optim.AdamW if decoupled else torch.optim.Adam
        finals.append(run(lambda ps: cls(ps, lr=lr, betas=(beta1, beta2), eps=eps,
                                         weight_decay=wd), halve, dtype))
    save("adam_" + suffix, np.array(finals))
save("adam_cases", np.array(adam_cases))

# ------------------------------------------------------------ nn pieces
logits = rng.normal(size=(5, 4)) * 3
logits[3] = [1000.0, -1000.0, 999.0, 0.0]  # stable at ±1000
labels = np.array([0, 3, 1, 2, 3], dtype=np.int64)
direction = rng.normal(size=(5, 4))
save("nn_logits", logits)
save("nn_labels", labels)
save("nn_direction", direction)
t = torch.tensor(logits, requires_grad=True)
loss = torch.nn.functional.cross_entropy(t, torch.tensor(labels))
(grad,) = torch.autograd.grad(loss, t, create_graph=True)
# the second derivative along `direction`: d/dlogits of <grad, direction>
(hvp,) = torch.autograd.grad((grad * torch.tensor(direction)).sum(), t)
save("nn_ce_loss", np.array(loss.item()))
save("nn_ce_grad", grad.detach().numpy())
save("nn_ce_hvp", hvp.numpy())

pred = rng.normal(size=(4, 3))
target = rng.normal(size=(4, 3))
save("nn_pred", pred)
save("nn_target", target)
p = torch.tensor(pred, requires_grad=True)
q = torch.tensor(target, requires_grad=True)
loss = torch.nn.functional.mse_loss(p, q)
loss.backward()
save("nn_mse_loss", np.array(loss.item()))
save("nn_mse_grad_pred", p.grad.numpy())
save("nn_mse_grad_target", q.grad.numpy())

x = rng.normal(size=(2, 3, 4))
w = rng.normal(size=(5, 4))
b = rng.normal(size=(5,))
r = rng.normal(size=(2, 3, 5))
save("nn_lin_x", x)
save("nn_lin_w", w)
save("nn_lin_b", b)
save("nn_lin_r", r)
tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
out = torch.nn.functional.linear(tx, tw, tb)
(out * torch.tensor(r)).sum().backward()
save("nn_lin_out", out.detach().numpy())
save("nn_lin_grad_x", tx.grad.numpy())
save("nn_lin_grad_w", tw.grad.numpy())
save("nn_lin_grad_b", tb.grad.numpy())
print("wrote", len([f for f in os.listdir(OUT) if f.startswith("optim_")]), "optim_* files")
