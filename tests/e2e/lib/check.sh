# The one `check` the end-to-end scripts share (sourced; scripts/test-e2e.sh
# runs only tests/e2e/*.sh, not this folder).
#   want="TEXT" unwanted="REGEX" check NAME EXPECTED_STATUS COMMAND...
# runs COMMAND, and sets fail=1 (saying why) unless it exits EXPECTED_STATUS,
# its output holds every line of $want (a caret line "   ^" exactly, so the
# caret's column counts) and nothing that matches $unwanted.
fail=${fail:-0}
check_prefix=$(basename "$0" .sh)
check() {
  local name=$1 expected=$2; shift 2
  local out status
  out=$("$@" 2>&1); status=$?
  if [ "$status" -ne "$expected" ]; then
    echo "$check_prefix: $name: exit $status, expected $expected"; echo "$out" | head -8; fail=1; return
  fi
  while IFS= read -r line; do
    local exact=""; [[ "$line" =~ ^\ +\^$ ]] && exact="-x"
    if [ -n "$line" ] && ! grep -qF $exact -- "$line" <<< "$out"; then
      echo "$check_prefix: $name: output lacks '$line'"; echo "$out" | head -8; fail=1
    fi
  done <<< "${want:-}"
  if [ -n "${unwanted:-}" ] && grep -qE -- "$unwanted" <<< "$out"; then
    echo "$check_prefix: $name: output has '$unwanted'"; echo "$out" | head -8; fail=1
  fi
}
