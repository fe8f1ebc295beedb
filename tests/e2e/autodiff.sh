#!/usr/bin/env bash
# `nd autodiff`: the course's example z = (<x, w> - y)^2 in both modes, the
# graph files, and the messages for bad input (a caret under the column).
set -u
nd="$1/nd"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/lib/check.sh"
course=("(dot(x,w)-y)^2" "x=[1,2,3]" "w=[0.5,-1,2]" "y=1")
# z = (4.5 - 1)^2 = 12.25; dz/dw = 2·3.5·x; dz/dx = 7·w; dz/dy = -7; the adjoints 2b = 7, 1, xᵀ
want="z = tensor(12.2500, grad_fn=<pow>)
v1 = dot(x, w) = tensor(4.5000
v2 = v1 - y = tensor(3.5000
z = v2 ^ 2 = tensor(12.2500
dz/dz = tensor(1.)
dz/dv2 = tensor(7.)
dz/dv1 = tensor(7.)
dz/dw = tensor([ 7., 14., 21.])
dz/dx = tensor([ 3.5000, -7.0000, 14.0000])
dz/dy = tensor(-7.)
dv2/dw = tensor([1., 2., 3.])
Forward accumulation gives the same for x, w, y." check course 0 "$nd" autodiff "${course[@]}"
want="Graph written" check graph 0 "$nd" autodiff "${course[@]}" --dot "$tmp/g.dot" --png "$tmp/g.png"
if ! grep -q 'label="z = pow' "$tmp/g.dot" || ! grep -q 'label="w' "$tmp/g.dot"; then
  echo "autodiff: the DOT file lacks the nodes z and w"; fail=1
fi
# the graph's nodes carry the values (up to 8 numbers) and the names of the text
for node in 'label="z = pow\n()\n12.25"' 'label="v2 = sub\n()\n3.5"' 'label="v1 = dot\n()\n4.5"' \
  'label="w\n(3,)\nrequires grad\n[0.5, -1, 2]"' 'label="y\n()\nrequires grad\n1"'; do
  grep -qF "$node" "$tmp/g.dot" || { echo "autodiff: the DOT file lacks $node"; cat "$tmp/g.dot"; fail=1; }
done
if "$nd" autodiff "sum(x)" "x=[1,2,3,4,5,6,7,8,9]" --dot - | grep -qF '[1, 2, 3'; then
  echo "autodiff: a 9-element tensor's values are in the graph (the limit is 8)"; fail=1
fi
# named intermediates, as the slide writes them: the names in the tables and in the graph
slide=("a = dot(x, w); b = a - y; z = b^2" "x=[1,2,3]" "w=[0.5,-1,2]" "y=1")
want="a = dot(x, w) = tensor(4.5000, grad_fn=<dot>)
b = a - y = tensor(3.5000, grad_fn=<sub>)
z = b ^ 2 = tensor(12.2500, grad_fn=<pow>)
da/dw = tensor([1., 2., 3.])
db/dy = tensor(-1.)
dz/db = tensor(7.)
dz/da = tensor(7.)
dz/dw = tensor([ 7., 14., 21.])
Forward accumulation gives the same for x, w, y." check intermediates 0 "$nd" autodiff "${slide[@]}"
out=$("$nd" autodiff "${slide[@]}" 2>&1)
if grep -qE '\bv[0-9]' <<< "$out"; then echo "autodiff: named steps still called vK"; echo "$out"; fail=1; fi
dot=$("$nd" autodiff "${slide[@]}" --no-grad x --dot - 2>&1)
for node in 'label="a = dot\n()\n4.5"' 'label="b = sub\n()\n3.5"' 'label="z = pow\n()\n12.25"' \
  'label="x\n(3,)\nno grad\n[1, 2, 3]"'; do
  grep -qF "$node" <<< "$dot" || { echo "autodiff: the slide's graph lacks $node"; echo "$dot"; fail=1; }
done
# a new line separates statements too; unnamed steps inside a statement are v1, v2, ...
# skipping a name the user took; a named output (L) is its last node's name
want="a = x * 2 = tensor(6.
z = a ^ 2 = tensor(36.
dz/da = tensor(12.)
dz/dx = tensor(24.)" check new-line 0 "$nd" autodiff $'a = x*2\nz = a^2' x=3
want="v1 = x * 2 = tensor(6.
v2 = v1 + 1 = tensor(7.
z = v2 ^ 2 = tensor(49." check user-v1 0 "$nd" autodiff "v1 = x*2; z = (v1+1)^2" x=3
want="h = relu(x) = tensor([1., 0., 3.]
v1 = sum(h) = tensor(4.
L = v1 / 4 = tensor(1.
dL/dh = tensor([0.2500, 0.2500, 0.2500])" check named-output-intermediate 0 "$nd" autodiff "h = relu(x); L = sum(h)/4" "x=[1,-2,3]"
want="z = 3 * x = tensor(6." check constant 0 "$nd" autodiff "c = 3; z = c*x" x=2
# mistakes in statements: a message and a caret, never a crash
want="'a' is used before it is defined: define it in an earlier statement (column 5)
  b = a - y; a = dot(x,w); z = b^2
      ^" check used-before-defined 2 "$nd" autodiff "b = a - y; a = dot(x,w); z = b^2" "x=[1,2,3]" "w=[0.5,-1,2]" y=1
want="'a' is computed but never used: the output is the last statement
  a = x*2; z = y^2
  ^" check unused-intermediate 2 "$nd" autodiff "a = x*2; z = y^2" x=1 y=2
want="'a' is already defined at column 1" check defined-twice 2 "$nd" autodiff "a = x*2; a = a+1" x=1
want="'x' is an input: give the intermediate another name" check input-as-intermediate 2 "$nd" autodiff "x = x*2; z = x" x=1
want="'sum' is a function" check function-as-intermediate 2 "$nd" autodiff "sum = x*2; z = sum" x=1
want="the output would be called z, like an intermediate" check output-clash 2 "$nd" autodiff "z = x*2; z*3" x=1
want="unexpected 'z =': put ';' between statements
  a = x*2 z = a
          ^" check missing-semicolon 2 "$nd" autodiff "a = x*2 z = a" x=1
want="expected a number, a name or '(' but found ';'" check empty-statement 2 "$nd" autodiff "a = ; z = a" x=1
# characters copied from the slides: named whole, with the ASCII to write
want="unexpected '−' (write -) (column 3)
  x − 2
    ^" check unicode-minus 2 "$nd" autodiff "x − 2" x=1
want="unexpected '²' (write ^2) (column 4)
  2*x²
     ^" check unicode-square 2 "$nd" autodiff "2*x²" x=1
want="for a product write 2*x" check implicit-product 2 "$nd" autodiff "2x" x=1
# an error on the second line shows that line only
want="  z = a^2 +
           ^" check second-line 2 "$nd" autodiff $'a = x*2\nz = a^2 +' x=1
# limits instead of a stack overflow
deep=$(printf '(%.0s' $(seq 1 5000))x$(printf ')%.0s' $(seq 1 5000))
want="nests too deeply" check deep-nesting 2 "$nd" autodiff "$deep" x=1
long=x$(printf '+x%.0s' $(seq 1 5000))
want="the expression is too long" check long-sum 2 "$nd" autodiff "$long" x=1
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
want="x: at character 5: expected ',' or ']'" check bad-value 2 "$nd" autodiff "x^2" "x=[1,2"
want="is not name=value" check no-equals 2 "$nd" autodiff "x^2" "x"
want="give an expression" check no-expression 2 "$nd" autodiff
want="unknown option '--bogus'" check bad-option 2 "$nd" autodiff "x" "x=1" --bogus
# a chain of signs is nesting too (found by fuzz/fuzz_expr.c); 99 levels still work
want="the expression nests too deeply (more than 100 levels)" check too-many-signs 2 "$nd" autodiff "0$(printf -- '-%.0s' {1..150})x" "x=1"
want="dz/dx = tensor(1.)" check deep-enough 0 "$nd" autodiff "$(printf '(%.0s' {1..99})x$(printf ')%.0s' {1..99})" "x=1"
# evaluation errors: nd's message (without the library's function name), the caret under the op that failed, exit 1
want="nd autodiff: shapes (3,) and (2,)
  (dot(x,w)-y)^2
   ^" check shape-mismatch 1 "$nd" autodiff "(dot(x,w)-y)^2" "x=[1,2,3]" "w=[0.5,-1]" "y=1"
want="wrap the expression in sum(...)" check not-scalar 1 "$nd" autodiff "x*2" "x=[1,2]"
exit $fail
