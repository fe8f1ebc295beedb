#!/usr/bin/env bash
# `nd train mlp`: trains on the bundled data set in one process and in two
# (mpirun, shared memory and TCP), writes checkpoints, and a run stopped and
# resumed from its checkpoint prints the same last epoch, to the digit, as the
# run that never stopped. Skipped (passing) where nd was built without MPI.
set -u
nd="$1/nd"
fail=0
source "$(dirname "$0")/lib/check.sh"
data=data/blobs.csv
if "$nd" train mlp --data "$data" --epochs 1 2>&1 | grep -q "built without MPI"; then
  echo "train: nd was built without MPI; skipped"; exit 0
fi
# CI runs as root, which Open MPI refuses unless told (here only, in the test).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
mpirun=(mpirun --oversubscribe --mca btl self,vader --mca oob_tcp_if_include lo)
mpirun_tcp=(mpirun --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
last() { grep "^epoch $1/" "$dir/$2" | tail -1; }

want="--resume" check help 0 "$nd" train --help
want="the model to train is 'mlp'" check no-model 2 "$nd" train --data "$data"
want="give the data" check no-data 2 "$nd" train mlp
want="has no column 'class'" check no-label 2 "$nd" train mlp --data "$data" --label class
want="cannot open" check missing-file 1 "$nd" train mlp --data "$dir/none.csv"

# One process: 6 epochs at once, and 3 + 3 through a checkpoint.
"$nd" train mlp --data "$data" --epochs 6 > "$dir/one.txt" 2>&1 || { cat "$dir/one.txt"; fail=1; }
want="800 rows, 16 features, 10 classes; 1 process × batch 128
epoch 1/3  loss
checkpoint $dir/one.safetensors (epoch 3)" check one-first 0 "$nd" train mlp --data "$data" --epochs 3 --checkpoint "$dir/one.safetensors"
"$nd" train mlp --data "$data" --epochs 6 --resume "$dir/one.safetensors" > "$dir/one_resumed.txt" 2>&1
grep -q "resumed from $dir/one.safetensors at epoch 3" "$dir/one_resumed.txt" || { echo "train: no resume line"; cat "$dir/one_resumed.txt"; fail=1; }
[ -n "$(last 6 one.txt)" ] && [ "$(last 6 one.txt)" = "$(last 6 one_resumed.txt)" ] ||
  { echo "train: resumed '$(last 6 one_resumed.txt)' differs from '$(last 6 one.txt)'"; fail=1; }
# it learns: the last epoch's accuracy is above 80% (10 classes: chance is 10%)
acc=$(last 6 one.txt | sed -n 's/.*accuracy \([0-9]*\)\..*/\1/p')
[ "${acc:-0}" -ge 80 ] || { echo "train: accuracy ${acc:-?}% after 6 epochs"; fail=1; }

# Two processes over shared memory: the same, checkpoints every 2 epochs.
"${mpirun[@]}" -np 2 "$nd" train mlp --data "$data" --epochs 6 > "$dir/two.txt" 2>&1 || { cat "$dir/two.txt"; fail=1; }
want="2 processes × batch 128
checkpoint $dir/two.safetensors (epoch 2)
checkpoint $dir/two.safetensors (epoch 4)" check two-first 0 "${mpirun[@]}" -np 2 "$nd" train mlp --data "$data" --epochs 4 --every 2 --checkpoint "$dir/two.safetensors"
# rank 0 alone prints
[ "$(grep -c '^epoch 2/4' <<< "$("${mpirun[@]}" -np 2 "$nd" train mlp --data "$data" --epochs 4 2>&1)")" = 1 ] ||
  { echo "train: more than one rank printed the epoch lines"; fail=1; }
"${mpirun[@]}" -np 2 "$nd" train mlp --data "$data" --epochs 6 --resume "$dir/two.safetensors" > "$dir/two_resumed.txt" 2>&1
[ -n "$(last 6 two.txt)" ] && [ "$(last 6 two.txt)" = "$(last 6 two_resumed.txt)" ] ||
  { echo "train: 2 processes resumed '$(last 6 two_resumed.txt)' differs from '$(last 6 two.txt)'"; fail=1; }
# over TCP (as between machines): the same numbers as over shared memory
"${mpirun_tcp[@]}" -np 2 "$nd" train mlp --data "$data" --epochs 6 > "$dir/tcp.txt" 2>&1
[ "$(last 6 two.txt)" = "$(last 6 tcp.txt)" ] ||
  { echo "train: TCP '$(last 6 tcp.txt)' differs from shared memory '$(last 6 two.txt)'"; fail=1; }
# a checkpoint cut short is refused
head -c 300 "$dir/two.safetensors" > "$dir/cut.safetensors"
want="cut.safetensors" check cut-checkpoint 1 "${mpirun[@]}" -np 2 "$nd" train mlp --data "$data" --epochs 6 --resume "$dir/cut.safetensors"
# .npy data: the same rows as the CSV (written here with Python's standard
# library), the same numbers
python3 - "$data" "$dir" <<'PY'
import csv, struct, sys
rows = list(csv.reader(open(sys.argv[1])))[1:]
def npy(path, descr, shape, fmt, values):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))
npy(sys.argv[2] + "/x.npy", "<f4", "(%d, %d)" % (len(rows), len(rows[0]) - 1), "f",
    [float(v) for r in rows for v in r[:-1]])
npy(sys.argv[2] + "/y.npy", "<i8", "(%d,)" % len(rows), "q", [int(r[-1]) for r in rows])
PY
"$nd" train mlp --data "$dir/x.npy" --labels "$dir/y.npy" --epochs 6 > "$dir/npy.txt" 2>&1
[ -n "$(last 6 npy.txt)" ] && [ "$(last 6 npy.txt)" = "$(last 6 one.txt)" ] ||
  { echo "train: .npy data gave '$(last 6 npy.txt)', the CSV '$(last 6 one.txt)'"; head -3 "$dir/npy.txt"; fail=1; }
want="needs its classes too" check npy-without-labels 2 "$nd" train mlp --data "$dir/x.npy"

# a rank that cannot read its data stops every rank, rather than leaving them waiting
want="another rank could not start" check one-rank-without-data 1 timeout 120 "${mpirun[@]}" -np 2 \
  sh -c '[ "$OMPI_COMM_WORLD_RANK" = 0 ] && d="$1" || d="$2"; exec "$0" train mlp --data "$d" --epochs 1' \
  "$nd" "$data" "$dir/missing.csv"
exit $fail
