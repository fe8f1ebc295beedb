#!/usr/bin/env bash
# Each lab takes the knobs its slide talks about, from one option table per lab:
# `nd lab NAME --help` lists them with the slide's defaults; a changed knob is
# said in the output and the course's numbers are then not failures; mistakes
# (unknown option, missing value, wrong type, out of range, bad choice) exit 2
# with a message naming the option.
set -u
nd="$1/nd"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
source "$(dirname "$0")/lib/check.sh"
# --help lists each lab's knobs with the slide's defaults
want="--eta NUMBER" check help-eta 0 "$nd" lab optimization --help
want="(default 0.2)" check help-eta-default 0 "$nd" lab optimization --help
want="--momentum NUMBER" check help-momentum 0 "$nd" lab optimization --help
want="--points TEXT" check help-points 0 "$nd" lab relu-synthesis --help
want="(default -10,-10 0,0 5,-5 10,20)" check help-points-default 0 "$nd" lab relu-synthesis --help
want="--hidden N" check help-hidden 0 "$nd" lab relu-synthesis --help
want="--rotate NUMBER" check help-rotate 0 "$nd" lab affine --help
want="--image TEXT" check help-image 0 "$nd" lab affine --help
want="--fn all|relu|sigmoid|tanh|leaky-relu|gelu" check help-fn 0 "$nd" lab activations --help
want="--out TEXT" check help-common 0 "$nd" lab tensors --help
want="nd lab NAME" check help-no-name 0 "$nd" lab --help

# the slide's example commands run, say what changed, and exit 0
want="Options changed from the slide's: --eta 0.3 --steps 20." \
  check optimization 0 "$nd" lab optimization --eta 0.3 --steps 20 --momentum 0.5 --out "$work/o"
want="eta = 0.3  epoch 20, x: 0.000000" check optimization-values 0 "$nd" lab optimization --eta 0.3 --steps 20 --out "$work/o"
want="≠ gradient descent on x²" check optimization-differs 0 "$nd" lab optimization --eta=0.3 --out "$work/o"
want="f(x) = 0 + relu(x + 5) - 2 relu(x)" \
  check relu 0 "$nd" lab relu-synthesis --points "-5,0 0,5 5,0" --hidden 64 --steps 300 --out "$work/r"
want="a 1-64-1 ReLU net" check relu-hidden 0 "$nd" lab relu-synthesis --hidden 64 --steps 300 --out "$work/r"
want="rotation θ = 45° = tensor([[ 0.7071,  0.7071,  0.0000]," \
  check affine 0 "$nd" lab affine --rotate 45 --image data/testcard.png --out "$work/a"
want="[figure $work/g/act_4.png]" check activations 0 "$nd" lab activations --fn gelu --out "$work/g"
[ -e "$work/g/act_0.png" ] && { echo "lab_options: --fn gelu drew ReLU too"; fail=1; }
want="2-4-4-2 with tanh" check geometry 0 "$nd" lab geometry --hidden 4 --steps 200 --noise 0.2 --points 50 --out "$work/geo"
want="--hidden N" check help-geometry 0 "$nd" lab geometry --help
printf 'Area,Alley,Price\n1,,10\n2,Pave,20\n,Grvl,30\n' > "$work/my.csv"
want="$work/my.csv: 3 rows, 3 columns." check data-csv 0 "$nd" lab data --csv "$work/my.csv" --out "$work/dc"
want="cannot open $work/none.csv" check data-missing-csv 1 "$nd" lab data --csv "$work/none.csv" --out "$work/dm"
want="∂z/∂w by forward accumulation = tensor([22., 44.], dtype=torch.float64)" \
  check autodiff 0 "$nd" lab autodiff --x "[1, 2]" --w "[3, 4]" --y 0 --out "$work/ad"
want="--x '[1,2': a vector" check autodiff-bad-x 2 "$nd" lab autodiff --x "[1,2"
want="≠ area of the image (det M): 2" check matrix 0 "$nd" lab linear-algebra --matrix "[[1, 1], [0, 2]]" --out "$work/la"
want="--matrix '[1, 2]': a 2×2 matrix" check matrix-shape 2 "$nd" lab linear-algebra --matrix "[1, 2]"
# calculus: the limit at another point and with other steps, the shapes for other sizes
want="--h TEXT" check help-calculus-h 0 "$nd" lab calculus --help
want="(default 0.1 0.01 0.001 0.0001 0.00001)" check help-calculus-h-default 0 "$nd" lab calculus --help
want="h = 0.5      (f(2 + h) − f(2)) / h = 9.50000" \
  check calculus-x 0 "$nd" lab calculus --x 2 --h "0.5,0.05" --out "$work/c"
want="the tangent at x = 2 is y = 8x − 12." check calculus-tangent 0 "$nd" lab calculus --x 2 --out "$work/c"
want="Y: (m, l)    (2, 1, 1)  [course (m, l)]" check calculus-sizes 0 "$nd" lab calculus --m 2 --l 1 --n 5 --k 2 --out "$work/c"
want="--h '0 1': 1 to 8 positive numbers" check calculus-bad-h 2 "$nd" lab calculus --h "0 1"
want="--m is from 1 to 8, not '9'" check calculus-m-range 2 "$nd" lab calculus --m 9
# tensors: the batch's and the broadcast's shapes
want="--batch N" check help-tensors 0 "$nd" lab tensors --help
want="(default 3,1)" check help-tensors-a 0 "$nd" lab tensors --help
want="5-d video batch  (N, T, C, H, W)  5     (2, 5, 3," check tensors-frames 0 "$nd" lab tensors --frames 5 --out "$work/t"
want="a + b (both stretched to (2, 3, 4))" check tensors-broadcast 0 "$nd" lab tensors --a "2,3,1" --b 4 --out "$work/t"
want="do not broadcast at dim -1 (3 vs 4)" check tensors-no-broadcast 0 "$nd" lab tensors --a "2,3" --b 4 --out "$work/t"
want="--a '2,x': a shape of 1 to 4 sizes" check tensors-bad-shape 2 "$nd" lab tensors --a "2,x"

# texts follow the knobs
want="gradient descent on x² (x after 20 steps)" check steps-label 0 "$nd" lab optimization --steps 20 --out "$work/o"
want= check momentum-caption 0 "$nd" lab optimization --momentum 0.3 --out "$work/om"
grep -qF "Momentum β = 0.3, η = 0.6:" "$work/om/index.html" || { echo "lab_options: the momentum caption does not follow --momentum"; fail=1; }
want="of linspace(-5, 5)" check relu-range 0 "$nd" lab relu-synthesis --points "-5,0 0,5 5,0" --steps 300 --out "$work/r"
want="--rotate, --shear and the other knobs change the basic transforms above, not this one" \
  check affine-recover-said 0 "$nd" lab affine --rotate 45 --out "$work/a"

# the defaults given explicitly are no change: checks apply and nothing is said
out=$("$nd" lab optimization --eta 0.20 --out "$work/d" 2>&1)
grep -q "Options changed" <<< "$out" && { echo "lab_options: --eta 0.20 (the default) counted as a change"; fail=1; }
grep -qF "✓ gradient descent on x² (x after 10 steps): 0.06046617" <<< "$out" || { echo "lab_options: the default run is not checked"; fail=1; }

# mistakes exit 2 and name the option
want="unknown option '--learning-rate'" check unknown 2 "$nd" lab optimization --learning-rate 0.3
want="--eta needs a value" check missing-value 2 "$nd" lab optimization --eta
want="--eta wants a number, not 'fast'" check not-number 2 "$nd" lab optimization --eta fast
want="--steps wants a whole number, not '2.5'" check not-whole 2 "$nd" lab optimization --steps 2.5
want="--steps is from 1 to 100000, not '0'" check range 2 "$nd" lab optimization --steps 0
want="--fn is one of all|relu|sigmoid|tanh|leaky-relu|gelu, not 'swish'" check choice 2 "$nd" lab activations --fn swish
want="--points '1,2': need at least two points" check points 2 "$nd" lab relu-synthesis --points "1,2"
want="unknown option '--eta'" check other-lab 2 "$nd" lab tensors --eta 0.3
want="unknown option '--eta'" check labs-no-knobs 2 "$nd" labs --eta 0.3
want="unexpected argument 'extra'" check extra 2 "$nd" lab tensors extra
want="cannot open 'nope.png'" check missing-image 1 "$nd" lab affine --image nope.png --out "$work/m"
exit $fail
