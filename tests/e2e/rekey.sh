#!/usr/bin/env bash
# A real rekey: wgate initiates to wireguard-go and keeps pinging for 130 s,
# past REKEY_AFTER_TIME (120 s). A new handshake must happen and no ping may
# be lost. Slow by nature (about two minutes). Topology: netns.bash.
source "$(dirname "$0")/netns.bash"

if ! netns_setup; then
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
fi
conf_for b "$PSK" 4 | start_wggo b
conf_for a "$PSK" 4 | start_wgate a
check "the session comes up" ping_ok in_a 10.241.0.2
first=$(in_b wg show "$IF_B" latest-handshakes | awk '{print $2}')
# 650 pings at 0.2 s: 130 s
in_a ping -c 650 -i 0.2 -W 1 10.241.0.2 >"$TMP/long" 2>&1
diag "$(tail -n 2 "$TMP/long")"
check "no ping lost across the rekey" grep -q " 0% packet loss" "$TMP/long"
last=$(in_b wg show "$IF_B" latest-handshakes | awk '{print $2}')
check "a new handshake happened after REKEY_AFTER_TIME ($first -> $last)" \
	test "$last" -ge $((first + 115))
done_testing
