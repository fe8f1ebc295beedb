#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then a program outside the tree
# compiled with pkg-config against the installed headers and libraries.
set -u
build="$1"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" > "$prefix/install.log" 2>&1 || { cat "$prefix/install.log"; exit 1; }
for f in include/nd.h lib/libnd.so lib/libnd.a lib/pkgconfig/nd.pc bin/nd; do
  [ -e "$prefix/$f" ] || { echo "install: $f is missing"; exit 1; }
done
cat > "$prefix/first.c" <<'C'
#include <nd.h>
#include <stdio.h>
int main(void) {
    nd_scope_begin();
    nd_tensor *x = nd_set_requires_grad(nd_arange(0, 4, 1, ND_F32), true);
    nd_tensor *y = nd_mul_scalar(nd_dot(x, x), 2);
    if (nd_backward(y) != 0) { fprintf(stderr, "%s\n", nd_last_error()); return 1; }
    nd_print(nd_grad(x));
    nd_scope_end();
    return 0;
}
C
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc -std=c11 -Wall -Wextra -Werror "$prefix/first.c" $(pkg-config --cflags --libs nd) -o "$prefix/first" || exit 1
out=$("$prefix/first")
[ "$out" = "tensor([ 0.,  4.,  8., 12.])" ] || { echo "install: the program printed '$out'"; exit 1; }
for lib in nd_frame nd_image nd_plot; do
  pkg-config --exists "$lib" || { echo "install: no pkg-config file for $lib"; exit 1; }
done
echo "install: a program outside the tree builds with pkg-config and runs"
