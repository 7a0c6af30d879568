#!/usr/bin/env bash
# The interop suite (interop.sh, quicker) again with each data path feature turned off
# in turn through WGATE_NO_OFFLOAD, so every fallback carries the same traffic
# with the same results; again with one and with two data path threads
# (WGATE_THREADS); and bad values of both are refused by name.
source "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

# interop_with LABEL VAR=VALUE: the interop suite with that setting, each result labelled
interop_with() {
	local label=$1 out status ran=0 failed=0 planned line
	# 10 MB transfers (plenty of batches for every path) and no wait for the protocol's
	# timers, which no offload changes: interop.sh runs them in full once
	out=$(env "$2" INTEROP_QUICK=1 INTEROP_MB=10 bash "$here/interop.sh" 2>&1)
	status=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "[$label] ${line#* - }"; ran=$((ran + 1)) ;;
		"not ok "*) not_ok "[$label] ${line#* - }"; ran=$((ran + 1)) failed=1 ;;
		"#"*) echo "$line" ;;
		esac
	done <<<"$out"
	planned=$(grep -oE '^1\.\.[0-9]+' <<<"$out" | cut -d. -f3)
	if [ "$failed" = 0 ] && { [ "$status" != 0 ] || [ "$ran" != "${planned:-x}" ]; }; then
		not_ok "[$label] interop.sh ended early (status $status, $ran of ${planned:-?})"
	fi
}

for off in tun tun-uso udp-gso udp-gro mmsg; do
	interop_with "$off off" WGATE_NO_OFFLOAD=$off
done
interop_with "1 thread" WGATE_THREADS=1
interop_with "2 threads" WGATE_THREADS=2

# refused VAR=VALUE TEXT: with that setting wgate stops before it creates anything, saying TEXT
refused() {
	local ns=wgt-off-$$ dir out status
	dir=$(mktemp -d)
	printf '[Interface]\nPrivateKey = %s\n' "$(wg genkey)" >"$dir/wgo$$.conf"
	chmod 600 "$dir/wgo$$.conf"
	ip netns add $ns || return 1
	out=$(env "$1" ip netns exec $ns "$WGATE" up "$dir/wgo$$.conf" 2>&1)
	status=$?
	ip netns pids $ns | xargs -r kill -9
	ip netns del $ns
	rm -rf "$dir"
	echo "$out"
	[ $status -ne 0 ] && grep -qF "$2" <<<"$out"
}
check "an unknown WGATE_NO_OFFLOAD word is an error naming it" \
	refused WGATE_NO_OFFLOAD=tun,gso "unknown offload 'gso'"
check "a bad WGATE_THREADS is an error naming it" \
	refused WGATE_THREADS=0 "WGATE_THREADS: '0' is not a thread count"

done_testing
