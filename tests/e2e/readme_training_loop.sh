#!/usr/bin/env bash
# README's "Your first training loop" builds against an installed nd, trains
# (w = 2, b = 1 as its comment says) and prints no warning: the code the
# students copy is the code that is tested.
set -u
build="$1"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
awk '/^## Your first training loop/ {on = 1} on && /^```c$/ {code = 1; next} code && /^```$/ {exit} code' \
  README.md > "$prefix/loop.c"
grep -q 'nd_scope_begin' "$prefix/loop.c" || { echo "readme: no training loop found in README.md"; exit 1; }
cmake --install "$build" --prefix "$prefix" > "$prefix/install.log" 2>&1 || { cat "$prefix/install.log"; exit 1; }
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc -std=c11 -Wall -Wextra -Werror "$prefix/loop.c" $(pkg-config --cflags --libs nd) -o "$prefix/loop" || exit 1
out=$("$prefix/loop" 2> "$prefix/stderr") || { echo "readme: the loop failed: $(cat "$prefix/stderr")"; exit 1; }
[ ! -s "$prefix/stderr" ] || { echo "readme: the loop wrote to stderr: $(cat "$prefix/stderr")"; exit 1; }
grep -qx 'w = 2.0000, b = 1.0000' <<< "$out" || { echo "readme: the loop ended with '$(tail -1 <<< "$out")'"; exit 1; }
echo "readme: the training loop builds, trains to w = 2, b = 1, and warns about nothing"
