#!/usr/bin/env bash
# The nd program's commands: help, exit codes, and messages for bad input.
set -u
nd="$1/nd"
fail=0
source "$(dirname "$0")/lib/check.sh"
want="usage: nd" check help 0 "$nd" --help
want="usage: nd" check no-args 2 "$nd"
want="unknown command 'frobnicate'" check unknown 2 "$nd" frobnicate
want="nd $(grep -o 'ND_VERSION_STRING "[^"]*"' include/nd.h | cut -d'"' -f2)" check info 0 "$nd" info
want="BLAS" check info-blas 0 "$nd" info
want="tensor([[ 0.,  1.,  2.,  3.]," check demo 0 "$nd" demo
want="-10 + relu(x + 10) - 2 relu(x) + 6 relu(x - 5)" check fit 0 "$nd" fit "-10,-10 0,0 5,-5 10,20"
want="same x" check fit-duplicate 2 "$nd" fit "0,0 0,1"
want="at least two points" check fit-one 2 "$nd" fit "1,2"
want="column" check fit-garbage 2 "$nd" fit "1,2 x,y"
want="nd fit" check fit-help 0 "$nd" fit --help
want="no lab called 'nope'" check unknown-lab 2 "$nd" lab nope
want="cannot" check unwritable 1 "$nd" labs --out /proc/nd-cannot-write-here
want="--format is one of png|svg|pdf, not 'gif'" check bad-format 2 "$nd" labs --format gif --out "$(mktemp -d)"
want="cannot open '/nonexistent-nd-data/testcard.png'" check missing-picture 1 env ND_DATA_DIR=/nonexistent-nd-data "$nd" lab affine --out "$(mktemp -d)"
want="every check passed" check one-lab 0 "$nd" lab relu-synthesis --out "$(mktemp -d)"
svg=$(mktemp -d)
want="every check passed" check svg-figures 0 "$nd" lab activations --format svg --out "$svg"
ls "$svg"/*.svg > /dev/null 2>&1 || { echo "cli: --format svg wrote no .svg figure"; fail=1; }
exit $fail
