#!/usr/bin/python3
"""Golden values for the shape ops (views, joining, indexing), from NumPy and
PyTorch. Run from anywhere: writes tests/golden/shape_*.npy and shape_*.csv.

    /usr/bin/python3 tests/reference/shape.py
"""
import os

import numpy as np
import torch

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")


def save(name, array):
    np.save(os.path.join(GOLDEN, "shape_" + name + ".npy"), np.ascontiguousarray(array))


# ---- d2l "Data manipulation" (2.1) and the course's N-d array lab
X = np.arange(12, dtype=np.float32).reshape(3, 4)
Y = np.array([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]], dtype=np.float32)
save("d2l_x", X)
save("d2l_y", Y)
save("d2l_cat0", np.concatenate((X, Y), axis=0))
save("d2l_cat1", np.concatenate((X, Y), axis=1))
save("d2l_last_row", X[-1])
save("d2l_rows_1_3", X[1:3])
X9 = X.copy()
X9[1, 2] = 9
save("d2l_set_9", X9)
X12 = X9.copy()
X12[0:2, :] = 12
save("d2l_set_12", X12)
for dim in (0, 1, 2, -1):
    save("stack%d" % dim if dim >= 0 else "stack_m1", np.stack((X, Y), axis=dim))

# ---- Python slice semantics on a 1-d tensor: every combination of bounds
# (None = ND_END) and steps, written as start,stop,step,values (';'-separated).
n = 7
base = np.arange(n)
bounds = [None, -10, -7, -3, -1, 0, 1, 3, 6, 7, 10]
steps = [None, 1, 2, 3, -1, -2, -3, 6, -6, 7, -7, 100, -100]
with open(os.path.join(GOLDEN, "shape_slices.csv"), "w") as f:
    f.write("start,stop,step,values\n")
    for start in bounds:
        for stop in bounds:
            for step in steps:
                got = base[slice(start, stop, step)]
                cell = lambda v: "end" if v is None else str(v)
                f.write("%s,%s,%s,%s\n" % (cell(start), cell(stop), cell(step),
                                           ";".join(str(v) for v in got)))

# ---- views of non-contiguous tensors (NumPy's results)
A = np.arange(120, dtype=np.float64).reshape(2, 3, 4, 5)
B = A.transpose(2, 0, 3, 1)            # (4, 2, 5, 3): nd_permute(2, 0, 3, 1)
C = B[:, ::-1, 1::2, :]                # (4, 2, 2, 3): negative and positive steps
D = C.reshape(8, 6)                    # not expressible with strides: a copy
E = C[-1, :, :, ::-2]                  # select then a negative step
F = np.squeeze(C[:, :, :1, :], axis=2)  # (4, 2, 3)
G = np.expand_dims(F, -1)              # (4, 2, 3, 1)
H = np.broadcast_to(G, (2, 4, 2, 3, 5))
save("permuted", B)
save("sliced", C)
save("sliced_reshaped", D)
save("selected_rev", E)
save("squeezed", F)
save("expanded", H)
save("transposed_reshaped", A.transpose(1, 0, 2, 3).reshape(3, 2, 20))
save("cat_strided", np.concatenate((B[:, :, 1:4, :], C), axis=2))

# ---- indexing (PyTorch's results and gradients)
T = torch.arange(24, dtype=torch.float64).reshape(2, 3, 4)
save("t", T.numpy())
save("index_select_1", torch.index_select(T, 1, torch.tensor([2, 0, 2])).numpy())
save("index_select_m1", torch.index_select(T, -1, torch.tensor([3, 1], dtype=torch.int32)).numpy())
gather_idx = torch.tensor([[[3, 0, 3], [1, 1, 2]], [[0, 0, 0], [2, 3, 1]]])  # (2, 2, 3)
save("gather_idx", gather_idx.numpy())
save("gather_2", torch.gather(T, 2, gather_idx).numpy())
gather_idx1 = torch.tensor([[[2, 0, 1, 2]] * 5, [[0, 0, 0, 1]] * 5])  # (2, 5, 4): dim 1 may grow
save("gather_idx1", gather_idx1.numpy())
save("gather_1", torch.gather(T, 1, gather_idx1).numpy())
save("masked_mod3", torch.masked_select(T, T.remainder(3) == 0).numpy())
row_mask = torch.tensor([True, False, True, True])
save("masked_rows", torch.masked_select(T, row_mask).numpy())

# gradients where indices repeat or a mask broadcasts the input
W = torch.linspace(-1, 1, 12, dtype=torch.float64).reshape(2, 2, 3)
x = T.clone().requires_grad_(True)
(torch.gather(x, 2, gather_idx) * W).sum().backward()
save("gather_grad", x.grad.numpy())
x = T.clone().requires_grad_(True)
(torch.index_select(x, 1, torch.tensor([2, 0, 2])).sum(dim=(0, 2)) *
 torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
save("index_select_grad", x.grad.numpy())
col = torch.arange(3, dtype=torch.float64).reshape(3, 1).requires_grad_(True)
grid_mask = torch.tensor([[True, False, True], [False, False, False], [True, True, True]])
picked = torch.masked_select(col, grid_mask)
save("masked_broadcast", picked.detach().numpy())
(picked * torch.arange(1, picked.numel() + 1, dtype=torch.float64)).sum().backward()
save("masked_broadcast_grad", col.grad.numpy())
