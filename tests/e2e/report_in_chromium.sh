#!/usr/bin/env bash
# Runs every lab into a temporary folder, then opens the report in headless
# Chromium: every image must load, the page must log no error, every section
# must list its checks (folded) with an expected and a got value each, and show
# the nd calls (C snippets) behind its results.
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
  const sections = Array.from(doc.querySelectorAll('section[id]'));
  const unchecked = [], unfolded = [], incomplete = [], unsnipped = [];
  let checks = 0;
  for (const s of sections) {
    const lists = s.querySelectorAll('details.checks');
    const rows = s.querySelectorAll('details.checks tr.pass, details.checks tr.fail, details.checks tr.differs');
    if (lists.length === 0 || rows.length === 0) unchecked.push(s.id);
    const snippets = Array.from(s.querySelectorAll('pre.code code')).filter(c => /\bnd_\w+\(/.test(c.textContent));
    if (snippets.length === 0) unsnipped.push(s.id);
    for (const d of lists) if (d.open) unfolded.push(s.id);
    for (const row of rows) {
      const cell = c => (row.querySelector('td.' + c) || {}).textContent || '';
      if (!cell('what').trim() || !cell('expected').trim() || !cell('got').trim() || !cell('source').trim())
        incomplete.push(s.id + ':' + cell('what'));
    }
    checks += rows.length;
  }
  document.getElementById('result').textContent =
    'images=' + imgs.length + ' broken=' + broken.length + ' ' + broken.join(',') +
    ' sections=' + sections.length + ' checks=' + checks +
    ' unchecked=[' + unchecked.join(',') + '] unfolded=[' + unfolded.join(',') +
    '] incomplete=[' + incomplete.join(',') + '] unsnipped=[' + unsnipped.join(',') + ']';
});
</script></body></html>
HTML
dom=$(timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$out/profile" --allow-file-access-from-files --enable-logging=stderr --v=0 \
  --virtual-time-budget=10000 --dump-dom "file://$out/report/check.html" 2> "$out/console.log")
result=$(grep -o 'images=[0-9][^<]*' <<< "$dom" | head -1)
echo "report: $result"
case "$result" in
  images=0*|"") echo "report: no images found"; exit 1 ;;
  *" broken=0 "*) ;;
  *) echo "report: some images did not load"; exit 1 ;;
esac
case "$result" in
  *" sections=0 "*) echo "report: no sections"; exit 1 ;;
  *" checks=0 "*) echo "report: no checks listed"; exit 1 ;;
esac
case "$result" in
  *"unchecked=[] unfolded=[] incomplete=[] unsnipped=[]"*) ;;
  *) echo "report: some sections lack their checks (folded, with expected and got values) or their nd calls"; exit 1 ;;
esac
if grep -E 'CONSOLE|Uncaught|ERR_FILE_NOT_FOUND' "$out/console.log" | grep -v 'check.html' ; then
  echo "report: the page logged errors"; exit 1
fi
echo "report: every image loads, every section lists its checks and shows its nd calls, no console error"
