#!/usr/bin/env bash
# What a student reads when something is wrong: the real problem named, unknown
# options called unknown options, no library function names, "did you mean",
# sin x -> sin(x), NaN results as errors; and nd fit's --png/--svg, nd
# autodiff's --no-grad and --dot - (standard output).
set -u
nd="$(cd "$1" && pwd)/nd"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# check NAME STATUS COMMAND...: exit status, output (stdout and stderr) holds
# $want and, when $unwanted is set, lacks it.
source "$(dirname "$0")/lib/check.sh"
unwanted='nd_[a-z_]+:'  # a library function's name, meaningless to a CLI user

# nd fit
want='point 1 "1,2,3" has an extra field after y' check fit-extra-field 2 "$nd" fit "1,2,3 4,5"
want="unknown option '--bogus'" check fit-unknown-option 2 "$nd" fit --bogus "1,2 3,4"
want="unknown option '--bogus'" check fit-unknown-option-after 2 "$nd" fit "1,2 3,4" --bogus
want="--png wants a file ending in .png" check fit-png-extension 2 "$nd" fit "0,0 1,1" --png "$tmp/f.svg"
want="--svg needs a file name" check fit-svg-no-file 2 "$nd" fit "0,0 1,1" --svg
want="--png FILE, --svg FILE" check fit-help 0 "$nd" fit --help
want="Figure written to $tmp/f.png" check fit-png 0 "$nd" fit "-10,-10 0,0 5,-5 10,20" --png "$tmp/f.png"
[ "$(head -c 8 "$tmp/f.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
  || { echo "messages: fit --png wrote no PNG"; fail=1; }
want="Figure written to $tmp/f.svg" check fit-svg 0 "$nd" fit "0,0 1,2 3,1" --svg "$tmp/f.svg"
grep -q '<svg' "$tmp/f.svg" 2> /dev/null || { echo "messages: fit --svg wrote no SVG"; fail=1; }

# nd lab / labs / commands
want="no lab called 'relu'; did you mean 'relu-synthesis'?" check lab-nearest-prefix 2 "$nd" lab relu
want="did you mean 'optimization'?" check lab-nearest-typo 2 "$nd" lab optimisation
want="no lab called 'zzzz' (nd list" check lab-nothing-near 2 "$nd" lab zzzz
want="unknown option '--bogus'" check lab-unknown-option 2 "$nd" lab calculus --bogus
want="--out needs a value" check labs-missing-value 2 "$nd" labs --out
want="did you mean 'fit'?" check command-nearest 2 "$nd" fitt

# nd autodiff
want="sin is a function: its argument goes in parentheses, write sin(x)" \
  check sin-without-parentheses 2 "$nd" autodiff "sin x" x=1
want="write exp(2)" check exp-without-parentheses 2 "$nd" autodiff "exp 2 + x" x=1
want="x: at character 5: expected ',' or ']'" check bad-value 2 "$nd" autodiff "x^2" "x=[1,2"
want="shapes (3,) and (2,)" check eval-error 1 "$nd" autodiff "dot(x,w)" "x=[1,2,3]" "w=[1,2]"
want="z = log(x) is NaN or infinite" check nan-is-an-error 1 "$nd" autodiff "log(x)" x=-1
want="dz/dx = tensor(-1.)" check allow-nan 0 "$nd" autodiff "log(x)" x=-1 --allow-nan
want="z = x / y is NaN or infinite" check infinity-is-an-error 1 "$nd" autodiff "x/y" x=1 y=0
unwanted=
want="--dot needs a value" check dot-no-file 2 "$nd" autodiff "x^2" x=1 --dot
want="no input is called 'q'" check no-grad-unknown 2 "$nd" autodiff "x^2" x=1 --no-grad q
# --dot - : the DOT text on standard output, no file called "-"
out=$(cd "$tmp" && "$nd" autodiff "x*y" x=1 y=2 --dot - 2> /dev/null)
grep -q '^digraph nd {' <<< "$out" || { echo "messages: --dot - did not print the graph"; fail=1; }
[ ! -e "$tmp/-" ] || { echo "messages: --dot - wrote a file called '-'"; fail=1; }
! grep -q 'Graph written to -' <<< "$out" || { echo "messages: --dot - announced a file '-'"; fail=1; }
# --no-grad: the slide's pruning, only w's gradient
out=$("$nd" autodiff "(dot(x,w)-y)^2" "x=[1,2,3]" "w=[0.5,-1,2]" y=1 --no-grad x --no-grad y 2>&1)
grep -qF 'dz/dw = tensor([ 7., 14., 21.])' <<< "$out" || { echo "messages: --no-grad lost dz/dw"; fail=1; }
! grep -qE 'dz/d[xy] =' <<< "$out" || { echo "messages: --no-grad still gave dz/dx or dz/dy"; echo "$out"; fail=1; }
grep -qF '(x: --no-grad, no gradient computed)' <<< "$out" || { echo "messages: --no-grad x not said"; fail=1; }
grep -qF 'label="x\n(3,)\nno grad\n[1, 2, 3]"' <<< "$("$nd" autodiff "(dot(x,w)-y)^2" "x=[1,2,3]" "w=[0.5,-1,2]" y=1 --no-grad x --dot - 2>&1)" \
  || { echo "messages: --no-grad x is not grey in the graph"; fail=1; }
out=$("$nd" autodiff "x*2 + y*3" x=1 y=2 --no-grad y 2>&1)
grep -qF '(v2 = y * 3 is pruned' <<< "$out" || { echo "messages: y's branch is not shown pruned"; echo "$out"; fail=1; }
# the reverse-mode line says one pass, not one per node
! grep -q 'one pass for every node' <<< "$out" || { echo "messages: misleading reverse-mode line"; fail=1; }
grep -q 'one backward pass gives the adjoint of every node at once' <<< "$out" \
  || { echo "messages: reverse-mode line missing"; fail=1; }
exit $fail
