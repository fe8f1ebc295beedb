#!/usr/bin/env bash
# out/interactive.html (issue 14): nd labs writes it beside index.html, every
# section of index.html links it, and in headless Chromium, opened from
# file://, every panel computes what native nd computes for the same settings
# (tests/e2e/lib/interactive.mjs; the native side is nd_web_native and the nd
# program), shows bad input as an error and keeps working, with no console
# error. Needs the WebAssembly build (scripts/build-wasm.sh; make test runs it).
set -u
build="$1"
fail=0
source "$(dirname "$0")/lib/check.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
[ -x "$build/nd_web_native" ] || { echo "interactive: $build/nd_web_native is missing"; exit 1; }
[ -s build-wasm/interactive.html ] || { echo "interactive: no build-wasm/interactive.html (run scripts/build-wasm.sh)"; exit 1; }
check "nd lab activations writes the page" 0 "$build/nd" lab activations --out "$out/report"
page="$out/report/interactive.html"
cmp -s "$page" build-wasm/interactive.html || { echo "interactive: $page is not the page build-wasm.sh made"; fail=1; }
grep -q 'href="interactive.html#act"' "$out/report/index.html" ||
  { echo "interactive: index.html's activations section does not link its panel"; fail=1; }
grep -qx 'interactive.html' "$out/report/.nd-report-files" ||
  { echo "interactive: the report's list of its files lacks interactive.html"; fail=1; }
# Without the page (nd built without Emscripten), the report still links one that says why.
ND_INTERACTIVE_PAGE=/nonexistent check "without the page" 0 "$build/nd" lab activations --out "$out/bare"
if [ -e /usr/local/share/nd/interactive.html ]; then :; else
  grep -q "built without its WebAssembly page" "$out/bare/interactive.html" ||
    { echo "interactive: the page that says what is missing was not written"; fail=1; }
fi
node "$(dirname "$0")/lib/interactive.mjs" "$build" "$page" || fail=1
exit $fail
