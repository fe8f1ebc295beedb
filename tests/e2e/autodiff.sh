#!/usr/bin/env bash
# `nd autodiff`: the course's example z = (<x, w> - y)^2 in both modes, the
# graph files, and the messages for bad input (a caret under the column).
set -u
nd="$1/nd"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # check NAME EXPECTED_STATUS COMMAND... ; the output must contain every line of $want
  # (a caret line exactly, so the caret's column is checked)
  local name=$1 expected=$2; shift 2
  local out status
  out=$("$@" 2>&1); status=$?
  if [ "$status" -ne "$expected" ]; then
    echo "autodiff: $name: exit $status, expected $expected"; echo "$out" | head -8; fail=1; return
  fi
  while IFS= read -r line; do
    local exact=""; [[ "$line" =~ ^\ +\^$ ]] && exact="-x" # a caret line must match whole
    if [ -n "$line" ] && ! grep -qF $exact -- "$line" <<< "$out"; then
      echo "autodiff: $name: output lacks '$line'"; echo "$out" | head -8; fail=1
    fi
  done <<< "${want:-}"
}
course=("(dot(x,w)-y)^2" "x=[1,2,3]" "w=[0.5,-1,2]" "y=1")
# z = (4.5 - 1)^2 = 12.25; dz/dw = 2·3.5·x; dz/dx = 7·w; dz/dy = -7; the adjoints 2b = 7, 1, xᵀ
want="z = tensor(12.2500, grad_fn=<pow>)
v1 = dot(x, w) = tensor(4.5000
v2 = v1 - y = tensor(3.5000
dz/dv2 = tensor(7.)
dz/dv1 = tensor(7.)
dz/dw = tensor([ 7., 14., 21.])
dz/dx = tensor([ 3.5000, -7.0000, 14.0000])
dz/dy = tensor(-7.)
dv3/dw = tensor([ 7., 14., 21.])
Forward accumulation gives the same for x, w, y." check course 0 "$nd" autodiff "${course[@]}"
want="Graph written" check graph 0 "$nd" autodiff "${course[@]}" --dot "$tmp/g.dot" --png "$tmp/g.png"
if ! grep -q 'label="z = pow' "$tmp/g.dot" || ! grep -q 'label="w' "$tmp/g.dot"; then
  echo "autodiff: the DOT file lacks the nodes z and w"; fail=1
fi
if [ "$(head -c 4 "$tmp/g.png" | tail -c 3)" != "PNG" ]; then echo "autodiff: no PNG drawn"; fail=1; fi
want="L = tensor(0., grad_fn=<add>)" check named-output 0 "$nd" autodiff "L = sum(relu(x))/2^2*-1 + 1" "x=[1,-2,3]"
want="dL/dx = tensor([-0.2500,  0.0000, -0.2500])" check named-output-grad 0 "$nd" autodiff "L = sum(relu(x))/2^2*-1 + 1" "x=[1,-2,3]"
want="dz/dA = tensor([[1., 2.]," check matmul 0 "$nd" autodiff "sum(matmul(A, x))" "A=[[1,2],[3,4]]" "x=[1,2]"
want="nd autodiff \"EXPR\"" check help 0 "$nd" autodiff --help
# parse errors: the message, then the expression and a caret under the column
want="expected ')' to close the '(' at column 1 but found the end of the expression (column 12)
  (dot(x,w)-y
             ^" check unclosed 2 "$nd" autodiff "(dot(x,w)-y" "x=[1,2,3]" "w=[0.5,-1,2]" "y=1"
want="unexpected '\$' (column 3)
  x \$ 2
    ^" check bad-char 2 "$nd" autodiff "x \$ 2" "x=1"
want="unknown name 'q'
  (dot(x,q)-y)^2
         ^" check unknown-name 2 "$nd" autodiff "(dot(x,q)-y)^2" "x=[1,2,3]" "y=1"
want="unknown function 'foo'" check unknown-function 2 "$nd" autodiff "foo(x)" "x=1"
want="dot takes 2 arguments, got 1" check arity 2 "$nd" autodiff "dot(x)" "x=[1,2]"
want="the name 'x' is given twice" check duplicate 2 "$nd" autodiff "x^2" "x=1" "x=2"
want="nd_parse" check bad-value 2 "$nd" autodiff "x^2" "x=[1,2"
want="is not name=value" check no-equals 2 "$nd" autodiff "x^2" "x"
want="give an expression" check no-expression 2 "$nd" autodiff
want="unknown option '--bogus'" check bad-option 2 "$nd" autodiff "x" "x=1" --bogus
# limits instead of a stack overflow (found by fuzz/fuzz_expr.c); 100 levels still work
deep=$(printf '(%.0s' {1..150})x$(printf ')%.0s' {1..150})
want="the expression nests deeper than 100 levels" check too-deep 2 "$nd" autodiff "$deep" "x=1"
want="the expression nests deeper than 100 levels" check too-many-signs 2 "$nd" autodiff "0$(printf -- '-%.0s' {1..150})x" "x=1"
want="the expression has more than 1000 parts" check too-long 2 "$nd" autodiff "$(printf 'x+%.0s' {1..600})x" "x=1"
want="dz/dx = tensor(1.)" check deep-enough 0 "$nd" autodiff "$(printf '(%.0s' {1..99})x$(printf ')%.0s' {1..99})" "x=1"
# evaluation errors: nd's message, the caret under the op that failed, exit 1
want="nd_dot: shapes (3,) and (2,)
  (dot(x,w)-y)^2
   ^" check shape-mismatch 1 "$nd" autodiff "(dot(x,w)-y)^2" "x=[1,2,3]" "w=[0.5,-1]" "y=1"
want="wrap the expression in sum(...)" check not-scalar 1 "$nd" autodiff "x*2" "x=[1,2]"
exit $fail
