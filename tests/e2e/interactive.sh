#!/usr/bin/env bash
# out/interactive.html (issue 14): nd labs writes it beside index.html, every
# section of index.html links it, and in headless Chromium and headless
# Firefox, opened from file://, every panel computes what native nd computes
# for the same settings (tests/e2e/lib/interactive.mjs, one list of checks for
# both browsers; the native side is nd_web_native and the nd program), shows
# bad input as an error and keeps working, with no console error.
# Needs the WebAssembly build (scripts/build-wasm.sh; make test runs it), and
# chromium and firefox-esr (scripts/install-deps.sh installs both).
set -u
build="$1"
fail=0
source "$(dirname "$0")/lib/check.sh"
out=$(mktemp -d)
# The browsers are started by node, each in a process group of its own whose
# id lands in $out/browsers. Node ends them itself; should this script be
# stopped first (a signal, say a timeout's), its trap ends node and them.
# Their temporary profiles are made in $out (TMPDIR), removed with it.
driver=""
end_browsers() {
  local pid
  [ -n "$driver" ] && kill "$driver" 2>/dev/null
  [ -s "$out/browsers" ] && while read -r pid; do kill -KILL -- "-$pid" 2>/dev/null; done < "$out/browsers"
  rm -rf "$out"
}
trap end_browsers EXIT
trap "exit 1" INT TERM HUP
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
mkdir "$out/tmp"
for browser in chromium firefox; do
  case $browser in
    chromium) package=chromium command=$(command -v chromium || command -v chromium-browser || true) ;;
    firefox) package=firefox-esr command=$(command -v firefox-esr || command -v firefox || true) ;;
  esac
  if [ -z "$command" ]; then
    echo "interactive: $browser is not installed (scripts/install-deps.sh installs $package): the page is untested there"
    fail=1; continue
  fi
  # Every wait inside is bounded (30 s; the start 120 s, the two trainings
  # 180 s); timeout bounds the whole. In the background, so that a signal to
  # this script is handled at once, not once node is done.
  TMPDIR="$out/tmp" ND_BROWSER_PIDS="$out/browsers" timeout 600 \
    node "$(dirname "$0")/lib/interactive.mjs" "$build" "$page" "$browser" "$command" &
  driver=$!
  wait "$driver" || fail=1
  driver=""
done
exit $fail
