#!/usr/bin/env bash
# Runs every lab into a temporary folder, then opens the report in headless
# Chromium: every image must load and the page must log no error.
set -u
build="$1"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if ! "$build/nd" labs --out "$out/report" > "$out/labs.log" 2>&1; then
  echo "report: nd labs failed"; tail -30 "$out/labs.log"; exit 1
fi
[ -s "$out/report/index.html" ] || { echo "report: no index.html"; exit 1; }
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || { echo "report: chromium is not installed (scripts/install-deps.sh installs it)"; exit 1; }
# A page beside the report loads it in a frame and checks every image there.
cat > "$out/report/check.html" <<'HTML'
<!DOCTYPE html><html><body><pre id="result">pending</pre>
<iframe id="r" src="index.html" style="width:1200px;height:800px"></iframe>
<script>
window.addEventListener('load', () => {
  const doc = document.getElementById('r').contentDocument;
  const imgs = Array.from(doc.images);
  const broken = imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'));
  document.getElementById('result').textContent =
    'images=' + imgs.length + ' broken=' + broken.length + ' ' + broken.join(',') +
    ' sections=' + doc.querySelectorAll('section[id]').length;
});
</script></body></html>
HTML
dom=$(timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$out/profile" --allow-file-access-from-files --enable-logging=stderr --v=0 \
  --virtual-time-budget=10000 --dump-dom "file://$out/report/check.html" 2> "$out/console.log")
result=$(grep -o 'images=[^<]*' <<< "$dom")
echo "report: $result"
case "$result" in
  images=0*|"") echo "report: no images found"; exit 1 ;;
  *" broken=0 "*) ;;
  *) echo "report: some images did not load"; exit 1 ;;
esac
if grep -E 'CONSOLE|Uncaught|ERR_FILE_NOT_FOUND' "$out/console.log" | grep -v 'check.html' ; then
  echo "report: the page logged errors"; exit 1
fi
echo "report: every image loads, no console error"
