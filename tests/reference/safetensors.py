#!/usr/bin/python3
"""Golden safetensors files for test_safetensors.c, written without nd's code.

Debian has no python3-safetensors and its torch (1.13) cannot write the
format, so this script writes the bytes itself with struct and json, following
the format's specification (https://github.com/huggingface/safetensors) and the
layout of the reference writer: 8-byte little-endian header length, compact
JSON with "__metadata__" first, tensors ordered by element size (largest
first) then name, header padded with spaces to a multiple of 8, raw
little-endian data. Run from the repository root:

    /usr/bin/python3 tests/reference/safetensors.py             # writes the files below
    /usr/bin/python3 tests/reference/safetensors.py check FILE  # reads a file nd wrote, prints it

Writes:
  tests/golden/core_safetensors_reference.safetensors  every dtype nd has, a 0-d and a
      size-0 tensor, a float16 tensor (nd lists it but cannot load it), a name with
      JSON escapes, metadata; the values are those test_safetensors.c expects
  tests/golden/core_safetensors_pretty.safetensors     the same kind of file as another
      writer might lay it out: indented JSON, keys in another order, header order
      different from data order, no padding
  fuzz/corpus/safetensors/*                            seeds for the fuzz target
"""
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "golden")
CORPUS = os.path.join(ROOT, "fuzz", "corpus", "safetensors")

# dtype code -> (struct format, element size)
FORMATS = {"F64": ("d", 8), "F32": ("f", 4), "F16": ("e", 2), "I64": ("q", 8),
           "I32": ("i", 4), "U8": ("B", 1), "BOOL": ("?", 1)}

NAME_WITH_ESCAPES = 'layer.0/weight "q" \u00e9\t'

# (name, dtype, shape, values in C order)
TENSORS = [
    ("f64", "F64", [2, 3], [0.5, -1.25, 3.0, 1e300, -0.0, 2.5]),
    ("f32", "F32", [3], [1.5, -2.0, 3.25]),
    ("i64", "I64", [2], [-1, 2**40]),
    ("i32", "I32", [2, 2], [1, -2, 3, -4]),
    ("u8", "U8", [4], [0, 1, 128, 255]),
    ("bool", "BOOL", [3], [True, False, True]),
    ("scalar", "F32", [], [7.5]),
    ("empty", "F32", [0, 3], []),
    ("half", "F16", [2], [1.0, -2.0]),
    (NAME_WITH_ESCAPES, "I32", [1], [42]),
]
METADATA = {"format": "pt", "note": 'caf\u00e9 "quoted"'}


def pack(dtype, values):
    fmt, _ = FORMATS[dtype]
    return struct.pack("<%d%s" % (len(values), fmt), *values)


def layout(tensors):
    """Data order of the reference writer: larger elements first, then by name."""
    return sorted(tensors, key=lambda t: (-FORMATS[t[1]][1], t[0]))


def reference_file(tensors, metadata):
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, values in layout(tensors):
        raw = pack(dtype, values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + data


def pretty_file(tensors):
    """Indented JSON, keys shuffled, header order reversed against data order."""
    header, data = {}, b""
    entries = {}
    for name, dtype, shape, values in tensors:  # data in the given order
        raw = pack(dtype, values)
        entries[name] = {"data_offsets": [len(data), len(data) + len(raw)],
                         "shape": shape, "dtype": dtype}
        data += raw
    for name in reversed(list(entries)):
        header[name] = entries[name]
    header["__metadata__"] = {}
    text = json.dumps(header, indent=2).encode()
    return struct.pack("<Q", len(text)) + text + data


def check(path):
    """An independent reader: prints name, dtype, shape and values of each tensor."""
    blob = open(path, "rb").read()
    (n,) = struct.unpack("<Q", blob[:8])
    assert (8 + n) % 8 == 0, "data area not 8-byte aligned"
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        fmt, size = FORMATS[info["dtype"]]
        count = 1
        for s in info["shape"]:
            count *= s
        assert end - begin == count * size, name
        assert begin % size == 0, "%s not aligned to its element size" % name
        spans.append((begin, end))
        values = struct.unpack("<%d%s" % (count, fmt), data[begin:end])
        print(name, info["dtype"], info["shape"], list(values))
    spans.sort()
    covered = 0
    for begin, end in spans:
        assert begin == covered, "hole or overlap at %d" % begin
        covered = end
    assert covered == len(data), "bytes after the last tensor"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
        return
    os.makedirs(CORPUS, exist_ok=True)
    files = {
        os.path.join(GOLDEN, "core_safetensors_reference.safetensors"):
            reference_file(TENSORS, METADATA),
        os.path.join(GOLDEN, "core_safetensors_pretty.safetensors"): pretty_file(TENSORS[:6]),
        os.path.join(CORPUS, "reference.safetensors"): reference_file(TENSORS, METADATA),
        os.path.join(CORPUS, "pretty.safetensors"): pretty_file(TENSORS[:6]),
        os.path.join(CORPUS, "empty.safetensors"): reference_file([], None),
        os.path.join(CORPUS, "scalar.safetensors"): reference_file([TENSORS[6]], {"a": "b"}),
    }
    for path, blob in files.items():
        with open(path, "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
