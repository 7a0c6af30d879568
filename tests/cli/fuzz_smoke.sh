#!/usr/bin/env bash
# A short libFuzzer run of every harness: a smoke test. For a long run:
#   make fuzz && build-fuzz/udp_receive_fuzz fuzz/corpus/udp_receive
source "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${FUZZ_RUNS:-200000}
seconds=${FUZZ_SECONDS:-12} # per harness: the HTTP and control ones run about 4000 a second
# The harnesses are built one way (clang, ASan+UBSan, libFuzzer) whichever pass runs this:
# the sanitizer pass of the suite would only repeat the plain pass's runs.
case $WGATE in
*/build-san/*)
	ok "# SKIP the fuzz harnesses are the same in both passes; the plain pass ran them"
	done_testing
	exit
	;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! make -s -j"$(nproc 2>/dev/null || echo 2)" -C "$top" fuzz >"$work/build.log" 2>&1; then
	not_ok "fuzz harnesses build with clang and libFuzzer"
	sed 's/^/# /' "$work/build.log"
	done_testing
	exit
fi
ok "fuzz harnesses build with clang and libFuzzer"
for harness in "$top"/build-fuzz/*_fuzz; do
	name=$(basename "$harness" _fuzz)
	mkdir -p "$work/$name"
	seeds=()
	[ -d "$top/fuzz/corpus/$name" ] && seeds=("$top/fuzz/corpus/$name")
	check "fuzz $name: $runs runs (or $seconds s) without a crash" \
		"$harness" -runs="$runs" -max_total_time="$seconds" -max_len=4096 -seed=1 \
		"$work/$name" "${seeds[@]}"
done
done_testing
