"""Writes data/blobs.csv, the small data set `nd train mlp` trains on by
default: 800 rows of 16 features in 10 classes (Gaussian blobs around random
centres, overlapping enough that accuracy climbs over several epochs rather
than at once), the class in the last column, "label". Fixed seed: the file is
committed and this script only documents how it was made.

    python3 data/make_blobs.py > data/blobs.csv
"""
import random

rng = random.Random(2026)
classes, features, rows = 10, 16, 800
centres = [[rng.gauss(0.0, 1.0) for _ in range(features)] for _ in range(classes)]
print(",".join([f"x{i}" for i in range(features)] + ["label"]))
for _ in range(rows):
    label = rng.randrange(classes)
    row = [c + rng.gauss(0.0, 0.9) for c in centres[label]]
    print(",".join(f"{v:.4f}" for v in row) + f",{label}")
