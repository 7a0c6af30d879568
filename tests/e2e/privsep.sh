#!/usr/bin/env bash
# Privilege separation: the process that parses packets, control requests
# and HTTP runs as an unprivileged user with no capabilities, no_new_privs
# and a seccomp filter, not dumpable; its root monitor binds privileged ports
# and sets marks for it, reloads, and cleans up when it dies.
# Topology: netns.bash; A runs wgate (metrics on), B runs wireguard-go.
source "$(dirname "$0")/netns.bash"

if ! netns_setup; then
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
fi
conf_for a "" 4 | sed '2a MetricsAddress = 127.0.0.1:9586' | start_wgate a
conf_for b "" 4 | start_wggo b
monitor=$(head -n1 /run/wgate/"$IF_A".pid)
child_of() { cat /proc/"$1"/task/*/children 2>/dev/null | awk '{print $1}'; }
child=$(child_of "$monitor")
status_field() { awk -v f="$2:" '$1 == f {print $2}' /proc/"$1"/status; }
log_file=/var/log/wgate/"$IF_A".log

check "the monitor runs as root" test "$(status_field "$monitor" Uid)" = 0
check "the data path runs in a child as nobody" test "$(status_field "$child" Uid)" = 65534
check "with no capability, effective or permitted" bash -c "
	[ \"$(status_field "$child" CapEff)\" = 0000000000000000 ] &&
	[ \"$(status_field "$child" CapPrm)\" = 0000000000000000 ]"
check "with no_new_privs" test "$(status_field "$child" NoNewPrivs)" = 1
check "under a seccomp filter, on every thread" bash -c "
	for t in /proc/$child/task/*; do grep -q '^Seccomp:[[:space:]]*2' \$t/status || exit 1; done"
check "not dumpable: its /proc files belong to root" test "$(stat -c %U /proc/"$child"/mem)" = root
memory_locked() {
	local locked
	locked=$(status_field "$child" VmLck)
	if grep -q 'event=memory_not_locked' "$log_file" 2>/dev/null; then
		echo "# the memory-lock limit cannot be lifted here: $(grep -o 'limit_kb=[0-9]*' "$log_file")"
		return 0
	fi
	[ "${locked:-0}" -gt 0 ]
}
check "its memory is locked (or the log says why it cannot be)" memory_locked
check "the tunnel carries traffic" ping_ok in_b 10.241.0.1
check "metrics answer from the sandbox" bash -c "
	ip netns exec $NS_A curl -sS --max-time 3 http://127.0.0.1:9586/metrics | grep -q '^wgate_peers'"

# A privileged port and a mark need root: the monitor binds and marks for the child.
privileged_port() {
	in_a wg set "$IF_A" listen-port 500 fwmark 0x77 || return 1
	[ "$(in_a wg show "$IF_A" listen-port)" = 500 ] || return 1
	in_a ss -Hulne 'sport = :500' | grep -q 'fwmark:0x77' || { in_a ss -Hulne; return 1; }
	in_b wg set "$IF_B" peer "$PUB_A" endpoint 192.168.241.1:500 || return 1
	ping_ok in_b 10.241.0.1
}
check "wg set listen-port 500 fwmark 0x77: bound and marked by the monitor, traffic follows" privileged_port
mark_only() {
	in_a wg set "$IF_A" fwmark 0x78 || return 1
	in_a ss -Hulne 'sport = :500' | grep -q 'fwmark:0x78'
}
check "a new mark on the same port" mark_only
check "the monitor logged both requests" bash -c "
	grep -q 'event=privsep request=bind port=500 fwmark=119 result=0' '$log_file' &&
	grep -q 'event=privsep request=mark fwmark=120 result=0' '$log_file'"

reload_from_monitor() {
	sed -i 's|^AllowedIPs = 10.241.0.2/32|AllowedIPs = 10.241.0.2/32, 10.66.0.0/16|' "$TMP/$IF_A.conf"
	"$WGATE" reload "$IF_A" >/dev/null || return 1
	in_a wg show "$IF_A" allowed-ips | grep -q 10.66.0.0/16 || return 1
	grep -q "event=audit via=reload action=peer_changed peer=$PUB_B fields=allowed_ips uid=0 pid=$monitor" "$log_file" ||
		{ grep audit "$log_file"; return 1; }
}
check "reload: the monitor reads the file and hands the change to the child" reload_from_monitor
check "no system call was refused by the sandbox in all this" bash -c "! grep -q event=sandbox_denied '$log_file'"

# The child killed: the monitor notices, cleans up and leaves.
child_killed() {
	kill -9 "$child"
	wait_gone "$monitor" || return 1
	! in_a ip link show "$IF_A" >/dev/null 2>&1 || { echo "interface left"; return 1; }
	[ ! -e /var/run/wireguard/"$IF_A".sock ] || { echo "socket left"; return 1; }
	[ ! -e /run/wgate/"$IF_A".pid ] || { echo "pid file left"; return 1; }
	grep -q 'event=datapath_died signal=Killed' "$log_file"
}
check "kill -9 of the data path: the monitor logs it, removes the interface, socket and pid file" child_killed

# wgated, as wg-quick runs it, is sandboxed the same way.
wgated_sandboxed() {
	stop_side b
	start_wgated b || return 1
	local m c
	m=$(pgrep -o -f "wgated $IF_B")
	c=$(child_of "$m")
	[ -n "$c" ] && [ "$(status_field "$c" Uid)" = 65534 ] && [ "$(status_field "$c" Seccomp)" = 2 ] &&
		in_b wg set "$IF_B" listen-port 501 && [ "$(in_b wg show "$IF_B" listen-port)" = 501 ]
}
check "wgated: sandboxed child, privileged port through its monitor" wgated_sandboxed
done_testing
