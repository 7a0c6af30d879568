#!/usr/bin/env bash
# wgate against wgate and against Debian's wireguard-go, in network namespaces
# (topology in netns.bash): both roles, IPv4 and IPv6 inside and outside, with
# and without a preshared key; pings and 50 MB TCP transfers with digests;
# roaming, a spoofed inner source, a wrong key, and a peer that restarts.
# WGATE_NO_OFFLOAD passes through to wgate (offloads.sh runs this with each
# one off); the metrics then show exactly those offloads off, the rest batching.
source "$(dirname "$0")/netns.bash"
MB=${INTEROP_MB:-50} # the size of each TCP transfer

if ! netns_setup; then
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
fi

with_metrics() { sed '/^\[Interface\]/a MetricsAddress = 127.0.0.1:9586'; }

# offload_off NAME: whether WGATE_NO_OFFLOAD turns NAME off
offload_off() { [[ ${WGATE_NO_OFFLOAD:-} == all || ,${WGATE_NO_OFFLOAD:-}, == *,$1,* ]]; }

# whether wgate should have the TUN's UDP segmentation offload: asked for, and Linux >= 6.2
uso_expected() {
	local v
	offload_off tun || offload_off tun-uso && return 1
	IFS=. read -r -a v <<<"$(uname -r)"
	((v[0] > 6 || (v[0] == 6 && v[1] >= 2)))
}

# side A's metrics, into $METRICS
scrape() { METRICS=$(in_a curl -sf http://127.0.0.1:9586/metrics); }

# metric NAME [PATH]: side A's metric NAME (for data path place PATH), from $METRICS
metric() {
	awk -v name="$1" -v path="${2:+path=\"$2\"}" \
		'index($0, name "{") == 1 && (path == "" || index($0, path)) {print $2}' <<<"$METRICS"
}

# packets per batch on side A's PATH, from $METRICS
per_batch() {
	local b p
	b=$(metric wgate_datapath_batches_total "$1") p=$(metric wgate_datapath_packets_total "$1")
	echo $((b ? p / b : 0))
}

# A blast of 1000-byte datagrams from B to A's ADDR for 2 s (iperf3 numbers each): every one
# that arrives is in order, most arrive, and where A has tun-uso they reached its TUN
# several per write.
udp_burst() {
	local addr=$1 port=$((5201 + RANDOM % 1000)) out b0 p0 b1 p1 got lost disorder
	scrape || return 1
	b0=$(metric wgate_datapath_batches_total tun_write) p0=$(metric wgate_datapath_packets_total tun_write)
	in_a iperf3 -s -1 -D -p $port >/dev/null 2>&1 || return 1
	for _ in $(seq 1 50); do
		in_a ss -Hlun "sport = :$port" | grep -q . && break
		sleep 0.1
	done
	out=$(timeout 30 ip netns exec "$NS_B" iperf3 -c "$addr" -p $port -u -l 1000 -b 0 -t 2 -J) ||
		{ echo "iperf3 failed"; return 1; }
	scrape || return 1
	b1=$(metric wgate_datapath_batches_total tun_write) p1=$(metric wgate_datapath_packets_total tun_write)
	read -r got lost < <(grep -A12 '"sum":' <<<"$out" | tail -n 12 |
		awk -F'[:,]' '/"packets"/ {p=$2} /"lost_packets"/ {l=$2} END {print p + 0, l + 0}')
	disorder=$(awk -F'[:,]' '/"out_of_order"/ {n += $2} END {print n + 0}' <<<"$out")
	echo "datagrams sent $got, lost $lost, out of order $disorder;" \
		"TUN writes $((b1 - b0)) for $((p1 - p0)) packets"
	[ "$disorder" -eq 0 ] && [ $((got - lost)) -ge 1000 ] || return 1
	if uso_expected; then [ $((p1 - p0)) -ge $((2 * (b1 - b0))) ] || return 1; fi
	return 0
}

# After the TCP transfers both ways: each offload on or off as asked, and batching where on.
fast_path() {
	local f want
	scrape || return 1
	for f in tun udp-gso udp-gro mmsg tun-uso; do
		want=1
		offload_off $f && want=0
		[ $f = tun-uso ] && ! uso_expected && want=0
		grep -q "^wgate_offload_enabled{.*offload=\"$f\"} $want\$" <<<"$METRICS" ||
			{ echo "offload $f is not $want"; return 1; }
	done
	echo "packets per batch: tun_read $(per_batch tun_read) tun_write $(per_batch tun_write)" \
		"udp_send $(per_batch udp_send) udp_receive $(per_batch udp_receive)"
	if ! offload_off tun; then
		[ "$(per_batch tun_read)" -ge 4 ] && [ "$(per_batch tun_write)" -ge 4 ] || return 1
	fi
	if ! offload_off udp-gso; then
		[ "$(per_batch udp_send)" -ge 4 ] || return 1
		if ! offload_off udp-gro; then [ "$(per_batch udp_receive)" -ge 4 ] || return 1; fi
	fi
	# the threads asked for (WGATE_THREADS; auto is one less than the CPUs) run and share the work
	local threads shared
	threads=$(metric wgate_datapath_threads) shared=$(metric wgate_datapath_shared_batches_total)
	echo "data path threads $threads, batches shared among them $shared"
	case ${WGATE_THREADS:-auto} in
	auto) [ "$threads" = "$(($(nproc) > 2 ? ($(nproc) > 17 ? 16 : $(nproc) - 1) : 1))" ] || return 1 ;;
	*) [ "$threads" = "$WGATE_THREADS" ] || return 1 ;;
	esac
	if [ "$threads" -gt 1 ]; then [ "$shared" -gt 0 ] || return 1; else [ "$shared" = 0 ] || return 1; fi
	return 0
}

# ---- wgate with wgate, PSK, IPv4 underlay ----
conf_for a "$PSK" 4 | with_metrics | start_wgate a
conf_for b "$PSK" 4 | start_wgate b
check "wgate-wgate: ping over IPv4 inside" ping_ok in_a 10.241.0.2
check "wgate-wgate: ping over IPv6 inside, other direction" ping_ok in_b fd41::1
check "wgate-wgate: $MB MB TCP transfer arrives intact" tcp_transfer a b 10.241.0.2 $MB
check "wgate-wgate: $MB MB over IPv6 inside, other direction" tcp_transfer b a fd41::1 $MB
check "wgate-wgate: offloads as configured (${WGATE_NO_OFFLOAD:-all on}), batching where on" fast_path
check "wgate-wgate: a UDP blast arrives in order (IPv4 inside)" udp_burst 10.241.0.1
check "wgate-wgate: a UDP blast arrives in order (IPv6 inside)" udp_burst fd41::1

# an address on the tunnel's subnet that no peer holds: refused at once, as the kernel
# driver refuses it, rather than left to time out
unreachable() {
	local out
	out=$(in_a ping -c 1 -W 3 10.241.0.77 2>&1) && return 1
	grep -q 'From 10.241.0.77 .*Destination Host Unreachable' <<<"$out" || { echo "$out"; return 1; }
	out=$(in_a ping -c 1 -W 3 fd41::77 2>&1) && return 1
	grep -q 'From fd41::77 .*Address unreachable' <<<"$out" || { echo "$out"; return 1; }
	# a TCP connect fails at once with "No route to host" (a timeout would take a minute)
	out=$(in_a timeout 5 bash -c 'exec 3<>/dev/tcp/10.241.0.77/80' 2>&1) && return 1
	grep -q 'No route to host' <<<"$out" || { echo "$out"; return 1; }
	scrape || return 1
	[ "$(metric wgate_icmp_unreachable_sent_total)" -ge 3 ]
}
check "wgate: a destination no peer holds is unreachable at once (ICMP), IPv4 and IPv6" unreachable
stop_side a
stop_side b

# ---- wgate initiates to wireguard-go, no PSK, IPv6 underlay ----
conf_for b "" 6 | start_wggo b
conf_for a "" 6 | start_wgate a
check "wgate->wireguard-go: ping (wgate initiates, IPv6 outside)" ping_ok in_a 10.241.0.2
check "wgate->wireguard-go: wg sees the handshake" \
	bash -c "ip netns exec $NS_B wg show $IF_B latest-handshakes | awk '{exit !(\$2 > 0)}'"
check "wgate->wireguard-go: $MB MB TCP transfer arrives intact" tcp_transfer a b 10.241.0.2 $MB
check "wgate->wireguard-go: $MB MB back the other way" tcp_transfer b a fd41::1 $MB

# roaming: A moves to a new underlay address; B follows the new source
roam() {
	in_a ip addr add 192.168.241.11/24 dev va || return 1
	in_a ip addr del 192.168.241.1/24 dev va || return 1
	in_a ip -6 addr del fd00:241::1/64 dev va
	in_a ip -6 addr add fd00:241::11/64 dev va nodad
	ping_ok in_a 10.241.0.2 || return 1
	in_b wg show "$IF_B" endpoints | grep -q 'fd00:241::11' || { in_b wg show "$IF_B" endpoints; return 1; }
	ping_ok in_b 10.241.0.1
}
check "roaming: after A changes address, B answers at the new one" roam

# a spoofed inner source is dropped by wgate: B sends from an address A does not allow it
rx_packets() { in_a cat /sys/class/net/"$IF_A"/statistics/rx_packets; }
spoof() {
	local before after
	in_b ip addr add 10.241.0.99/24 dev "$IF_B" || return 1
	ping_ok in_b 10.241.0.1 || return 1
	# nothing from the spoofed source may reach A's tunnel interface
	before=$(rx_packets)
	ping_fails in_b 10.241.0.1 -I 10.241.0.99 || return 1
	after=$(rx_packets)
	[ "$before" = "$after" ] || { echo "rx_packets went from $before to $after"; return 1; }
	ping_ok in_b 10.241.0.1 || return 1 # the legitimate source still works
	[ "$(rx_packets)" -gt "$after" ]
}
check "a packet whose inner source is not in AllowedIPs is dropped" spoof

# a peer that restarts (with its keys and config) is reconnected
restart() {
	stop_side b
	conf_for b "" 6 | start_wggo b || return 1
	in_b wg set "$IF_B" peer "$PUB_A" endpoint "[fd00:241::11]:51820" || return 1
	# wgate still holds the old session; after KEEPALIVE + REKEY_TIMEOUT it rehandshakes
	for _ in $(seq 1 40); do
		in_a ping -c 1 -W 1 10.241.0.2 >/dev/null 2>&1 && return 0
	done
	return 1
}
# (the offload variants, offloads.sh, leave out this wait for the protocol's timers)
[ -z "${INTEROP_QUICK:-}" ] && check "a wireguard-go peer that restarts is reconnected" restart
stop_side a
stop_side b
in_a ip addr add 192.168.241.1/24 dev va
in_a ip -6 addr add fd00:241::1/64 dev va nodad

# ---- wireguard-go initiates to wgate, PSK, IPv4 underlay ----
conf_for a "$PSK" 4 | with_metrics | start_wgate a
conf_for b "$PSK" 4 | start_wggo b
check "wireguard-go->wgate: ping (wgate responds)" ping_ok in_b 10.241.0.1
check "wireguard-go->wgate: ping over IPv6 inside" ping_ok in_b fd41::1
check "wireguard-go->wgate: $MB MB TCP transfer arrives intact" tcp_transfer b a 10.241.0.1 $MB

# second_address ADDR ENDPOINT...: A gains ADDR, B is pointed at each ENDPOINT in turn (A's
# addresses); A answers from it, so B's endpoint stays there. Answered from the address the
# routing table prefers, wireguard-go would move to that one: so both of A's are tried.
second_address() {
	local ep
	if [[ $1 == *:* ]]; then
		in_a ip addr add "$1" dev va nodad || return 1
	else
		in_a ip addr add "$1" dev va || return 1
	fi
	shift
	for ep in "$@"; do
		in_b wg set "$IF_B" peer "$PUB_A" endpoint "$ep" || return 1
		ping_ok in_b 10.241.0.1 || return 1
		ping_ok in_a 10.241.0.2 || return 1
		in_b wg show "$IF_B" endpoints | grep -qF "$ep" || { in_b wg show "$IF_B" endpoints; return 1; }
	done
}
check "wgate answers from the IPv6 address it was reached at, whichever of two" \
	second_address fd00:241::5/64 "[fd00:241::5]:51820" "[fd00:241::1]:51820"
check "wgate answers from the IPv4 address it was reached at, whichever of two" \
	second_address 192.168.241.5/24 192.168.241.1:51820 192.168.241.5:51820

# that address goes: wgate sends from its first one instead, and the peer follows
source_gone() {
	local before
	scrape || return 1
	before=$(metric wgate_datapath_sources_gone_total)
	in_a ip addr del 192.168.241.5/24 dev va || return 1
	ping_ok in_a 10.241.0.2 || return 1
	in_b wg show "$IF_B" endpoints | grep -qF 192.168.241.1:51820 || { in_b wg show "$IF_B" endpoints; return 1; }
	scrape || return 1
	[ "$(metric wgate_datapath_sources_gone_total)" -gt "$before" ] ||
		{ echo "sources gone: $before, then $(metric wgate_datapath_sources_gone_total)"; return 1; }
}
check "when that address goes, wgate answers from another and the peer follows" source_gone
in_a ip -6 addr del fd00:241::5/64 dev va
stop_side a
stop_side b

# ---- a wrong key never completes a handshake ----
wrong_key() {
	local other
	other=$(wg genkey | wg pubkey)
	conf_for a "" 4 | sed "s|^PublicKey = .*|PublicKey = $other|" | start_wgate a || return 1
	conf_for b "" 4 | start_wggo b || return 1
	ping_fails in_a 10.241.0.2 || return 1
	ping_fails in_b 10.241.0.1 || return 1
	[ "$(in_b wg show "$IF_B" latest-handshakes | awk '{print $2}')" = 0 ]
}
check "a wrong public key never completes a handshake, either way" wrong_key
stop_side a
stop_side b

done_testing
