# shellcheck shell=bash
# Several hosts for one end-to-end test, each a network namespace of its own.
# Source it instead of lib.sh; then:
#   hosts_add NS...        new namespaces, loopback up
#   interfaces_used IF...  interfaces whose control socket and run files to remove
#   veth NS_A NS_B DEV NET [MTU]
#                          a link: gDEV in NS_A with 192.168.NET.1/24 and
#                          fd00:NET::1/64, vDEV in NS_B with .2 and ::2, both up
#   nsx NS CMD...          CMD in NS
#   setup_or_end FN        FN (the test's set-up), or the plan ends there, saying why
#   up_logged NS CONFIG LOG
#                          wgate up -f CONFIG in NS, in the background, its log
#                          appended to LOG; returns once its control socket exists
# On exit, whatever happened: at_exit (when the test defines one) for what else
# it started, the namespaces' processes killed, the namespaces deleted, the
# interfaces' files removed, and TMP (a private directory) with them.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
HOSTS="" IFACES=""
TMP=$(mktemp -d)
chmod 700 "$TMP"

hosts_cleanup() {
	local ns i
	declare -F at_exit >/dev/null && at_exit
	for ns in $HOSTS; do ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null; done
	sleep 0.3
	for ns in $HOSTS; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	for i in $IFACES; do
		rm -f /var/run/wireguard/"$i".sock /run/wgate/"$i".pid /run/wgate/"$i".reload \
			/var/log/wgate/"$i".log
	done
	rmdir /var/log/wgate 2>/dev/null
	rm -rf "$TMP"
}
trap hosts_cleanup EXIT
trap 'exit 130' INT TERM

nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

hosts_add() {
	local ns
	for ns; do
		HOSTS="$HOSTS $ns"
		ip netns add "$ns" && ip -n "$ns" link set dev lo up || return 1
	done
}

interfaces_used() { IFACES="$IFACES $*"; }

veth() {
	ip link add "g$3" netns "$1" type veth peer name "v$3" netns "$2" || return 1
	ip -n "$1" addr add "192.168.$4.1/24" dev "g$3"
	ip -n "$1" addr add "fd00:$4::1/64" dev "g$3" nodad
	ip -n "$2" addr add "192.168.$4.2/24" dev "v$3"
	ip -n "$2" addr add "fd00:$4::2/64" dev "v$3" nodad
	if [ -n "${5:-}" ]; then
		ip -n "$1" link set dev "g$3" mtu "$5" && ip -n "$2" link set dev "v$3" mtu "$5" || return 1
	fi
	ip -n "$1" link set dev "g$3" up && ip -n "$2" link set dev "v$3" up
}

up_logged() {
	local name
	name=$(basename "$2" .conf)
	ip netns exec "$1" "$WGATE" up -f "$2" </dev/null >/dev/null 2>>"$3" &
	for _ in $(seq 1 50); do [ -S "/var/run/wireguard/$name.sock" ] && return 0; sleep 0.1; done
	cat "$3"
	return 1
}

setup_or_end() {
	"$1" && return 0
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
}
