"""Writes W7's CSV file (BENCHMARKS.md), shared by bench_csv (nd) and peers.py (pandas).

1,000,000 rows: id (int), a..e (floats written as %.6f, 5% empty), cat (one of
8 strings, 5% empty), label (int 0..9); numpy's default_rng(0).
Usage: make_w7_csv.py PATH [ROWS]
"""
import sys

import numpy as np
import pandas as pd

path = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rng = np.random.default_rng(0)
frame = {"id": np.arange(rows)}
for name in "abcde":
    values = rng.standard_normal(rows)
    values[rng.random(rows) < 0.05] = np.nan
    frame[name] = values
categories = np.array(["red", "green", "blue", "cyan", "magenta", "yellow", "black", "white"],
                      dtype=object)
cat = categories[rng.integers(0, 8, rows)]
cat[rng.random(rows) < 0.05] = None
frame["cat"] = cat
frame["label"] = rng.integers(0, 10, rows)
pd.DataFrame(frame).to_csv(path, index=False, float_format="%.6f")
