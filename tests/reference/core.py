#!/usr/bin/python3
"""Golden data for the tensor core's tests (test_create, test_format, test_npy).

Run from the repository root with Debian's python3 (python3-numpy, python3-torch):

    /usr/bin/python3 tests/reference/core.py          # writes tests/golden/core_*
    /usr/bin/python3 tests/reference/core.py check DIR  # numpy reads the .npy files nd wrote

Writes:
  core_format.txt         torch's printed form of many tensors, with each tensor's
                          dtype, shape and values, for test_format.c to rebuild and print
  core_range_*.npy        torch.arange / linspace / eye results
  core_npy_*.npy          files written by numpy in every dtype, byte order, memory
                          order and format version, for test_npy.c to read (and, for the
                          plain ones, to compare nd_save_npy's bytes against)
  fuzz/corpus/npy/*       seeds for the .npy fuzz target
"""
import io
import math
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "golden")
CORPUS = os.path.join(ROOT, "fuzz", "corpus", "npy")

ND_NAMES = {
    torch.bool: "bool",
    torch.uint8: "uint8",
    torch.int32: "int32",
    torch.int64: "int64",
    torch.float32: "float32",
    torch.float64: "float64",
}


# ------------------------------------------------------------------ format

def format_cases():
    f32, f64, i64 = torch.float32, torch.float64, torch.int64
    t = torch.tensor
    cases = [
        ("matrix_int_valued", t([[1.0, 2.0], [3.0, 4.0]])),
        ("vector_decimals", t([1.5, 2.25, -3.125])),
        ("float32_not_exact", t([0.1, 0.2, 0.3])),
        ("mixed_int_and_fraction", t([1.0, 2.5])),
        ("sci_small", t([1e-5, 1.0])),
        ("sci_large", t([1e10, 1.0])),
        ("sci_over_1e8", t([123456789.0, 1.0])),
        ("sci_ratio", t([0.1, 1000.5])),
        ("int_mode_1e8", t([1e8])),
        ("int_mode_1e9", t([1e9])),
        ("int_mode_ratio", t([1.0, 5000.0])),
        ("zeros", torch.zeros(3)),
        ("negative_zero", t([-0.0, 1.5])),
        ("negative_zero_int_mode", t([-0.0, 1.0])),
        ("nan_and_number", t([float("nan"), 1.5])),
        ("nan_int_mode", t([1.0, float("nan")])),
        ("infinities", t([float("inf"), -float("inf"), 1.0])),
        ("nan_only", t([float("nan")])),
        ("nan_sci", t([float("nan"), 1e-7, 3.0])),
        ("tiny_and_huge_f64", t([1e300, 1e-300], dtype=f64)),
        ("negative_sci", t([-1e-5, 2.5e-6])),
        ("scalar_f32", t(3.5)),
        ("scalar_int_valued", t(2.0)),
        ("scalar_f64", t(2.0, dtype=f64)),
        ("scalar_i64", t(7)),
        ("scalar_bool", t(True)),
        ("scalar_nan", t(float("nan"))),
        ("scalar_sci", t(1.25e-7)),
        ("ints", t([1, 2, 3])),
        ("ints_widths", t([-100, 5, 20000])),
        ("int64_extremes", t([1, -9223372036854775807, 9223372036854775807])),
        ("int32_matrix", t([[1, -2], [3, 4]], dtype=torch.int32)),
        ("uint8", t([0, 255, 7], dtype=torch.uint8)),
        ("bool", t([True, False])),
        ("bool_matrix", t([[True, True], [False, True]])),
        ("f64_thirds", t([1 / 3, 2 / 3], dtype=f64)),
        ("f64_int_valued", t([1.0, -2.0], dtype=f64)),
        ("wrap_f32", torch.linspace(0, 1, 30)),
        ("wrap_i64", torch.arange(40)),
        ("wrap_sci", torch.arange(1, 20, dtype=f64) * 1.5e-5),
        ("matrix_wrap", torch.arange(60, dtype=f32).reshape(2, 30) / 7),
        ("three_d", torch.arange(24, dtype=f32).reshape(2, 3, 4)),
        ("four_d", torch.arange(16).reshape(2, 2, 2, 2)),
        ("summary_1d", torch.arange(2000)),
        ("summary_1d_f32", torch.arange(1001, dtype=f32) / 3),
        ("summary_2d", torch.arange(2000, dtype=f32).reshape(40, 50) / 7),
        ("summary_3d", torch.sin(torch.arange(2000, dtype=f64)).reshape(10, 10, 20)),
        ("summary_no_long_dim", torch.arange(3125).reshape(5, 5, 5, 5, 5)),
        ("summary_rows_only", torch.arange(3000, dtype=f32).reshape(1000, 3)),
        ("summary_bool", torch.arange(1200) % 3 == 0),
        ("summary_width_from_edges", torch.cat([torch.ones(3), torch.full((1000,), 1e6), torch.ones(3) * 2])),
        ("empty", torch.zeros(0)),
        ("empty_i64", torch.zeros(0, dtype=i64)),
        ("empty_2d", torch.zeros(2, 0)),
        ("empty_int32_2d", torch.zeros(0, 3, dtype=torch.int32)),
        ("empty_bool", torch.zeros(0, dtype=torch.bool)),
        ("requires_grad", t([1.0, 2.0], requires_grad=True)),
        ("requires_grad_f64", t([1.0, 2.0], dtype=f64, requires_grad=True)),
        ("requires_grad_scalar", t(1.5, requires_grad=True)),
        ("suffix_wraps", (torch.arange(1, 11, dtype=f64) * 1.5e-5).reshape(2, 5)),
        ("suffix_wraps_grad", (torch.arange(1, 11, dtype=f64) * 1.5e-5).reshape(2, 5).requires_grad_()),
        ("suffix_fits", torch.arange(1, 5, dtype=f64)),
    ]
    return cases


def value_text(x, dtype):
    if dtype.is_floating_point:
        return repr(float(x))  # the exact value of the float32/float64 element
    return str(int(x))


def write_format_golden():
    lines = []
    for name, tensor in format_cases():
        flat = tensor.detach().reshape(-1).tolist()
        expected = repr(tensor).split("\n")
        lines.append("case " + name)
        lines.append("dtype " + ND_NAMES[tensor.dtype])
        lines.append("shape " + " ".join(str(s) for s in tensor.shape))
        lines.append("requires_grad %d" % int(tensor.requires_grad))
        lines.append("values " + " ".join(value_text(v, tensor.dtype) for v in flat))
        lines.append("expect %d" % len(expected))
        lines.extend(expected)
    # A dual tensor prints its tangent after it.
    import torch.autograd.forward_ad as fwAD
    with fwAD.dual_level():
        dual = fwAD.make_dual(torch.tensor([1.0, 2.0]), torch.tensor([0.5, 1.0]))
        lines.append("tangent " + repr(dual))
    with open(os.path.join(GOLDEN, "core_format.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ------------------------------------------------------------------ ranges

def write_range_goldens():
    ranges = {
        "arange_f32_tenths": torch.arange(0, 1, 0.1),
        "arange_f64_down": torch.arange(10, 0, -3, dtype=torch.float64),
        "arange_f32_long": torch.arange(-5, 5, 0.01),
        "arange_i64_truncated": torch.arange(0.2, 3.9, 1, dtype=torch.int64),
        "arange_i32_fraction": torch.arange(0.2, 3.9, 1, dtype=torch.int32),
        "arange_i32_negative": torch.arange(-1.5, 2.5, 1.0, dtype=torch.int32),
        "arange_u8": torch.arange(0, 250, 7, dtype=torch.uint8),
        "arange_i64_down": torch.arange(10, -10, -4, dtype=torch.int64),
        "linspace_f32": torch.linspace(0, 1, 7),
        "linspace_f32_long": torch.linspace(-3.3, 7.1, 1001),
        "linspace_f64": torch.linspace(-3, 5, 50, dtype=torch.float64),
        "linspace_i64": torch.linspace(0, 10, 4, dtype=torch.int64),
        "linspace_u8": torch.linspace(0, 255, 4, dtype=torch.uint8),
        "linspace_down": torch.linspace(1, -1, 5),
        "linspace_one": torch.linspace(2.5, 9, 1),
        "eye_f32": torch.eye(4),
        "eye_bool": torch.eye(3, dtype=torch.bool),
    }
    for name, tensor in ranges.items():
        np.save(os.path.join(GOLDEN, "core_range_%s.npy" % name), tensor.numpy())


# --------------------------------------------------------------------- npy

def sample(dtype):
    """[[0, 1, 2], [3, 4, 5]] in the dtype (bool: the even positions)."""
    a = np.arange(6).reshape(2, 3)
    if dtype == np.bool_:
        return a % 2 == 0
    return a.astype(dtype)


def write_with_version(path, array, version):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=version)


def write_npy_goldens():
    files = {}
    # numpy.save of C-ordered arrays: nd_save_npy must write these same bytes.
    for name, dtype in [("bool", np.bool_), ("uint8", np.uint8), ("int32", np.int32),
                        ("int64", np.int64), ("float32", np.float32), ("float64", np.float64)]:
        files["c_" + name] = sample(dtype)
    files["c_scalar"] = np.array(3.5, dtype=np.float32)
    files["c_empty"] = np.zeros(0, dtype=np.float32)
    files["c_empty_2d"] = np.zeros((2, 0), dtype=np.int64)
    files["c_3d"] = (np.arange(24, dtype=np.float64) / 8).reshape(2, 3, 4)
    files["c_long_dim"] = np.arange(12345678901, 12345678904, dtype=np.int64)
    # Read-only cases: Fortran order, big-endian.
    files["fortran_f64"] = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4))
    files["fortran_3d_i32"] = np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4))
    files["big_f8"] = sample(np.float64).astype(">f8")
    files["big_f4"] = sample(np.float32).astype(">f4")
    files["big_i4"] = sample(np.int32).astype(">i4")
    files["big_i8"] = sample(np.int64).astype(">i8")
    files["big_fortran_f4"] = np.asfortranarray(sample(np.float32).astype(">f4"))
    for name, array in files.items():
        np.save(os.path.join(GOLDEN, "core_npy_%s.npy" % name), array)
    write_with_version(os.path.join(GOLDEN, "core_npy_v2.npy"), sample(np.float32), (2, 0))
    write_with_version(os.path.join(GOLDEN, "core_npy_v3.npy"), sample(np.int64), (3, 0))
    # Files numpy refuses or nd does not support.
    np.save(os.path.join(GOLDEN, "core_npy_bad_complex.npy"), np.zeros(2, dtype=np.complex64))
    np.save(os.path.join(GOLDEN, "core_npy_bad_object.npy"),
            np.array([1, "a"], dtype=object), allow_pickle=True)
    np.save(os.path.join(GOLDEN, "core_npy_bad_int16.npy"), np.zeros(2, dtype=np.int16))
    good = open(os.path.join(GOLDEN, "core_npy_c_float32.npy"), "rb").read()
    with open(os.path.join(GOLDEN, "core_npy_bad_truncated.npy"), "wb") as f:
        f.write(good[:-5])

    os.makedirs(CORPUS, exist_ok=True)
    for name in ["c_bool", "c_uint8", "c_float64", "c_scalar", "c_empty_2d", "fortran_3d_i32",
                 "big_fortran_f4", "v2", "v3", "bad_complex"]:
        data = open(os.path.join(GOLDEN, "core_npy_%s.npy" % name), "rb").read()
        with open(os.path.join(CORPUS, name + ".npy"), "wb") as f:
            f.write(data)


# ------------------------------------------------------------------- check

def check(directory):
    """Reads every .npy that nd wrote into directory with numpy and compares it
    with the golden file of the same name (written by numpy)."""
    names = sorted(n for n in os.listdir(directory) if n.endswith(".npy"))
    if not names:
        sys.exit("check: no .npy files in " + directory)
    for name in names:
        ours = np.load(os.path.join(directory, name))
        theirs = np.load(os.path.join(GOLDEN, name))
        assert ours.dtype == theirs.dtype, (name, ours.dtype, theirs.dtype)
        assert ours.shape == theirs.shape, (name, ours.shape, theirs.shape)
        assert np.array_equal(ours, theirs), name
        print("check: %s: numpy reads nd's file: %s %s" % (name, ours.dtype, ours.shape))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
        return
    os.makedirs(GOLDEN, exist_ok=True)
    write_format_golden()
    write_range_goldens()
    write_npy_goldens()


if __name__ == "__main__":
    main()
