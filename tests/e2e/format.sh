#!/usr/bin/env bash
# Every C file is formatted as .clang-format says (run `make format` to fix).
set -u
command -v clang-format > /dev/null || { echo "format: clang-format is not installed"; exit 1; }
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || { echo "format: not a git checkout, nothing to check"; exit 0; }
bad=$(for f in $files; do clang-format --dry-run --Werror "$f" > /dev/null 2>&1 || echo "$f"; done)
if [ -n "$bad" ]; then echo "format: not clang-formatted:"; echo "$bad"; exit 1; fi
echo "format: every C file is clang-formatted"
