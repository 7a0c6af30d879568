#!/usr/bin/env bash
# The interop suite (interop.sh) again with each data path feature turned off
# in turn through WGATE_NO_OFFLOAD, so every fallback carries the same traffic
# with the same results; and a bad WGATE_NO_OFFLOAD is refused by name.
source "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

for off in tun tun-uso udp-gso udp-gro mmsg; do
	out=$(WGATE_NO_OFFLOAD=$off bash "$here/interop.sh" 2>&1)
	status=$? ran=0 failed=0
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "[$off off] ${line#* - }"; ran=$((ran + 1)) ;;
		"not ok "*) not_ok "[$off off] ${line#* - }"; ran=$((ran + 1)) failed=1 ;;
		"#"*) echo "$line" ;;
		esac
	done <<<"$out"
	planned=$(grep -oE '^1\.\.[0-9]+' <<<"$out" | cut -d. -f3)
	if [ "$failed" = 0 ] && { [ "$status" != 0 ] || [ "$ran" != "${planned:-x}" ]; }; then
		not_ok "[$off off] interop.sh ended early (status $status, $ran of ${planned:-?})"
	fi
done

# A word WGATE_NO_OFFLOAD does not know stops wgate before it creates anything.
bad_word() {
	local ns=wgt-off-$$ dir out
	dir=$(mktemp -d)
	printf '[Interface]\nPrivateKey = %s\n' "$(wg genkey)" >"$dir/wgo$$.conf"
	chmod 600 "$dir/wgo$$.conf"
	ip netns add $ns || return 1
	out=$(WGATE_NO_OFFLOAD=tun,gso ip netns exec $ns "$WGATE" up "$dir/wgo$$.conf" 2>&1)
	local status=$?
	ip netns pids $ns | xargs -r kill -9
	ip netns del $ns
	rm -rf "$dir"
	echo "$out"
	[ $status -ne 0 ] && grep -q "unknown offload 'gso'" <<<"$out"
}
check "an unknown WGATE_NO_OFFLOAD word is an error naming it" bad_word

done_testing
