# shellcheck shell=bash
# TAP helpers for wgate's shell tests. Source it; then call `check DESC CMD...`.
# WGATE is the binary under test (set by `make check`).
set -u
: "${WGATE:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/wgate}"
T_N=0
T_FAILED=0

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
# check DESC CMD...: runs CMD; ok when it succeeds. Its output is shown only on failure.
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	fi
}
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
done_testing() { echo "1..$T_N"; [ "$T_FAILED" -eq 0 ]; }
