#!/usr/bin/env bash
# The layer check (issue 12): nd's layers call only downward,
#     core < ops < autograd < optim < frame, image, plot, dist < cli
# (src/<layer>/, cli/). Reads the symbols of each object file of a build
# (nm: what it defines, what it uses) and fails when an object uses a symbol
# defined in a higher layer, or in a sister library beside it (frame, image,
# plot and dist use only the layers under them). A call up is also the only
# way two files of different layers can use each other, so no circle across
# layers passes either.
#   scripts/check-layers.sh [BUILD_DIR]     (default: build, a Release build)
set -euo pipefail
build=${1:-build}
if [ ! -d "$build/CMakeFiles" ]; then
  echo "check-layers: no build in $build (run make build first)" >&2
  exit 2
fi

# The objects of libnd, its sister libraries and the CLI, each with its layer.
mapfile -t objects < <(find "$build/CMakeFiles" -name '*.o' \
  \( -path '*/src/*' -o -path '*/cli/*' \) | sort)
if [ ${#objects[@]} -eq 0 ]; then
  echo "check-layers: no object files under $build/CMakeFiles" >&2
  exit 2
fi

layer_of() { # the layer's name and rank of an object file's path
  case "$1" in
    */src/core/*) echo "core 0" ;;
    */src/ops/*) echo "ops 1" ;;
    */src/autograd/*) echo "autograd 2" ;;
    */src/optim/*) echo "optim 3" ;;
    */src/frame/*) echo "frame 4" ;;
    */src/image/*) echo "image 4" ;;
    */src/plot/*) echo "plot 4" ;;
    */src/dist/*) echo "dist 4" ;;
    */cli/*) echo "cli 5" ;;
    *) echo "? -1" ;;
  esac
}

defs=$(mktemp)
uses=$(mktemp)
trap 'rm -f "$defs" "$uses"' EXIT
for o in "${objects[@]}"; do
  read -r name rank < <(layer_of "$o")
  [ "$rank" -ge 0 ] || continue
  file=${o#*/CMakeFiles/*.dir/}
  file=${file%.o}
  # defined: global text, data, bss, read-only (nm's upper-case letters but U)
  nm -g --defined-only "$o" | awk -v f="$file" -v l="$name" -v r="$rank" \
    'NF >= 3 { print $3, f, l, r }' >> "$defs"
  nm -g --undefined-only "$o" | awk -v f="$file" -v l="$name" -v r="$rank" \
    '{ print $NF, f, l, r }' >> "$uses"
done

# A symbol defined in two layers' objects (e.g. the same helper built into the
# CLI and a library) is taken at its lowest layer.
# The tape (src/core/tape.c) computes a tangent at record time by calling the
# op's JVP rule through its function pointer (no symbol), and gives a view whose
# base was written in place its new history (nd__refresh_view, ops/inplace.c)
# when an op uses it. That is the call up it makes on purpose (see the top of
# tape.c).
allowed="src/core/tape.c nd__refresh_view"

violations=$(awk -v allowed="$allowed" '
  BEGIN { n = split(allowed, a, "\n"); for (i = 1; i <= n; i++) ok[a[i]] = 1 }
  NR == FNR { if (!($1 in rank) || $4 < rank[$1]) { rank[$1] = $4; layer[$1] = $3; file[$1] = $2 } next }
  ($1 in rank) && !(($2 " " $1) in ok) {
    up = rank[$1] > $4
    sister = rank[$1] == $4 && layer[$1] != $3
    if (up || sister)
      printf "  %s (%s) uses %s, defined in %s (%s)\n", $2, $3, $1, file[$1], layer[$1]
  }' "$defs" "$uses" | sort -u)

if [ -n "$violations" ]; then
  echo "check-layers: calls up the layers (core < ops < autograd < optim < frame/image/plot/dist < cli):" >&2
  echo "$violations" >&2
  exit 1
fi
echo "check-layers: ${#objects[@]} objects, every call goes down the layers"
