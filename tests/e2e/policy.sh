#!/usr/bin/env bash
# The access policy (wgate(8), GATEWAY KEYS) enforced on a gateway, every path
# probed both ways: each allowed path carries traffic, each denied one is
# dropped, and a control shows the probe can tell the difference.
#
#   A  partners peer (wireguard-go)  va 192.168.81.2 -- ga 192.168.81.1  \
#   B  admins peer (wgate)           vb 192.168.82.2 -- gb 192.168.82.1   GW (wgate, tunnel 10.10.0.1,
#   O  outsider, and peer C          vo 192.168.83.2 -- go 192.168.83.1   fd10::1; forwards)
#      (.3: a management source)                                         /
#   K  backend                       vk 10.20.0.2    -- gk 10.20.0.1   -
#   U  a second uplink               vu 192.168.60.2 -- gu 192.168.60.1 (O is the first: the default route)
# IPv6 alongside: fd00:8N::/64 on the links, fd20::/64 to the backend. 203.0.113.5
# is "the world", on both uplinks: O answers `one', U answers `two'.
source "$(dirname "$0")/hosts.bash"

GW=wgp-gw-$$ A=wgp-a-$$ B=wgp-b-$$ O=wgp-o-$$ K=wgp-k-$$ U=wgp-u-$$
IF=pg$$ IF_A=pa$$ IF_B=pb$$ IF_C=pc$$
interfaces_used "$IF" "$IF_A" "$IF_B" "$IF_C"
ALL="$GW $A $B $O $K $U"

setup() {
	hosts_add $ALL || return 1
	veth "$GW" "$A" a 81 && veth "$GW" "$B" b 82 && veth "$GW" "$O" o 83 && veth "$GW" "$U" u 60 || return 1
	ip -n "$GW" route add default via 192.168.83.2
	for ns in "$O" "$U"; do
		ip -n "$ns" addr add 203.0.113.5/32 dev lo
		nsx "$ns" sysctl -qw net.ipv4.ip_forward=1
	done
	ip -n "$O" route add 10.10.0.3/32 via 192.168.83.1 # B's answers: O's own tunnel keeps the /24
	ip -n "$U" route add 10.10.0.3/32 via 192.168.60.1
	ip -n "$O" addr add 192.168.83.3/24 dev vo
	ip -n "$O" addr add fd00:83::3/64 dev vo nodad
	ip link add gk netns "$GW" type veth peer name vk netns "$K" || return 1
	ip -n "$GW" addr add 10.20.0.1/24 dev gk
	ip -n "$GW" addr add fd20::1/64 dev gk nodad
	ip -n "$K" addr add 10.20.0.2/24 dev vk
	ip -n "$K" addr add fd20::2/64 dev vk nodad
	ip -n "$GW" link set gk up
	ip -n "$K" link set vk up
	ip -n "$K" route add default via 10.20.0.1
	ip -n "$K" -6 route add default via fd20::1
	nsx "$GW" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# another table in the gateway's ruleset, which wgate must never touch
	nsx "$GW" nft add table inet operators_own
}

setup_or_end setup

KEY_GW=$(wg genkey) KEY_A=$(wg genkey) KEY_B=$(wg genkey) KEY_C=$(wg genkey)
PUB_GW=$(wg pubkey <<<"$KEY_GW")

gateway_conf() { # the gateway's config; $1 is the partners group's forwarded reach
	cat <<EOF
[Interface]
PrivateKey = $KEY_GW
ListenPort = 51820
Address = 10.10.0.1/24, fd10::1/64
MTU = 1320
MetricsAddress = 127.0.0.1:9586
ApiPorts = tcp/443, tcp/8000, udp/5353
ManagementSources = 192.168.83.3/32, fd00:83::3/128
ListenSources = 192.168.81.0/24, 192.168.82.0/24, fd00:81::/64, fd00:82::/64${LISTEN_MORE:-}
Egress = 10.20.0.0/16 tcp/5432, 10.20.0.0/16 tcp/6000, 10.20.0.0/16 udp/53, 10.20.0.0/16 icmp
Egress = fd20::/64 tcp/5432, fd20::/64 tcp/6000, fd20::/64 udp/53, fd20::/64 icmp
Egress = 203.0.113.0/24 tcp/80
${UPLINK:+Uplink = $UPLINK}

[Group]
Name = partners
Allow = gateway tcp/443, gateway udp/5353${1-, 10.20.0.0/16 tcp/6000, fd20::/64 tcp/6000}

[Group]
Name = admins
Allow = gateway tcp/443, gateway tcp/8000, gateway icmp
Allow = 10.20.0.0/16 tcp/5432, 10.20.0.0/16 udp/53, 10.20.0.0/16 icmp, 10.20.0.0/16 tcp/22
Allow = fd20::/64 tcp/5432, fd20::/64 udp/53, fd20::/64 icmp
Allow = 203.0.113.0/24 tcp/80

[Peer]
PublicKey = $(wg pubkey <<<"$KEY_A")
AllowedIPs = 10.10.0.2/32, fd10::2/128
Groups = partners

[Peer]
PublicKey = $(wg pubkey <<<"$KEY_B")
AllowedIPs = 10.10.0.3/32, fd10::3/128
Groups = admins

[Peer]
PublicKey = $(wg pubkey <<<"$KEY_C")
AllowedIPs = 10.10.0.4/32, fd10::4/128
EOF
}

peer_conf() { # peer_conf KEY N NET: a client of the gateway at 192.168.NET.1
	cat <<EOF
[Interface]
PrivateKey = $1
Address = 10.10.0.$2/24, fd10::$2/64
[Peer]
PublicKey = $PUB_GW
AllowedIPs = 10.10.0.0/24, 10.20.0.0/16, fd10::/64, fd20::/64, 203.0.113.0/24
Endpoint = 192.168.$3.1:51820
PersistentKeepalive = 1
EOF
}

gateway_conf >"$TMP/$IF.conf"
chmod 600 "$TMP/$IF.conf"
nsx "$GW" "$WGATE" up "$TMP/$IF.conf" 2>"$TMP/gw.log" || { cat "$TMP/gw.log"; exit 1; }

# A: wireguard-go, configured as wg-quick would
peer_conf "$KEY_A" 2 81 >"$TMP/$IF_A.conf"
nsx "$A" wireguard-go "$IF_A" >/dev/null 2>&1
"$WGATE" strip "$TMP/$IF_A.conf" >"$TMP/$IF_A.plain"
nsx "$A" wg setconf "$IF_A" "$TMP/$IF_A.plain"
ip -n "$A" addr add 10.10.0.2/24 dev "$IF_A"
ip -n "$A" addr add fd10::2/64 dev "$IF_A" nodad
ip -n "$A" link set mtu 1420 up dev "$IF_A"
ip -n "$A" route add 10.20.0.0/16 dev "$IF_A"
ip -n "$A" route add fd20::/64 dev "$IF_A"
# B and C: wgate
peer_conf "$KEY_B" 3 82 >"$TMP/$IF_B.conf"
peer_conf "$KEY_C" 4 83 >"$TMP/$IF_C.conf"
chmod 600 "$TMP/$IF_B.conf" "$TMP/$IF_C.conf"
nsx "$B" "$WGATE" up "$TMP/$IF_B.conf" 2>/dev/null
nsx "$O" "$WGATE" up "$TMP/$IF_C.conf" 2>/dev/null

# Services: on the gateway, TCP 443 and 8000 and UDP 5353; on the backend, TCP 5432,
# 22 and 6000 and UDP 53. Each answers `hi'.
serve() { # serve NS PROTO PORT
	if [ "$2" = tcp ]; then
		nsx "$1" socat TCP6-LISTEN:"$3",ipv6only=0,reuseaddr,fork SYSTEM:'echo hi' \
			</dev/null >/dev/null 2>&1 &
	else
		nsx "$1" socat UDP6-RECVFROM:"$3",ipv6only=0,reuseaddr,fork SYSTEM:'echo hi' \
			</dev/null >/dev/null 2>&1 &
	fi
}
serve "$GW" tcp 443
serve "$GW" tcp 8000
serve "$GW" udp 5353
serve "$GW" tcp 7070 # not an API port: for replies through the uplink a request came in on
serve "$K" tcp 5432
serve "$K" tcp 22
serve "$K" udp 53
nsx "$O" socat TCP-LISTEN:80,reuseaddr,fork SYSTEM:'echo one $SOCAT_PEERADDR' </dev/null >/dev/null 2>&1 &
nsx "$U" socat TCP-LISTEN:80,reuseaddr,fork SYSTEM:'echo two $SOCAT_PEERADDR' </dev/null >/dev/null 2>&1 &
for _ in $(seq 1 50); do
	[ "$(nsx "$GW" ss -Hltn | grep -c ':443 \|:8000 ')" = 2 ] &&
		[ "$(nsx "$K" ss -Hltn | grep -c ':5432 \|:22 ')" = 2 ] && break
	sleep 0.1
done

# reach NS PROTO ADDR PORT [SOURCE]: the service answered.
reach() {
	local addr=$3 bind=
	[[ $addr == *:* ]] && addr="[$addr]"
	[ -n "${5:-}" ] && bind=",bind=$5"
	[[ ${5:-} == *:* ]] && bind=",bind=[$5]"
	[ "$2" = tcp ] && nsx "$1" timeout 4 socat -T2 - "TCP:$addr:$4,connect-timeout=2$bind" \
		</dev/null 2>/dev/null | grep -q hi && return 0
	[ "$2" = udp ] && echo x | nsx "$1" timeout 4 socat -T2 - "UDP:$addr:$4$bind" \
		2>/dev/null | grep -q hi && return 0
	return 1
}
allowed() { reach "$@" || { echo "no answer: $*"; return 1; }; }
# eventually SECONDS CMD...: CMD succeeds within SECONDS (a new handshake may be due).
eventually() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || { "$@"; return 1; }
		sleep 0.5
	done
}
denied() { ! reach "$@" || { echo "answered: $*"; return 1; }; }
pings() { nsx "$1" ping -c 2 -W 2 -i 0.3 "$2" >/dev/null 2>&1; }

check "the tunnels come up (A, B and C reach the gateway's address)" bash -c "
	for i in \$(seq 1 50); do
		ip netns exec $A wg show $IF_A latest-handshakes | grep -qv '	0\$' &&
		ip netns exec $B wg show $IF_B latest-handshakes | grep -qv '	0\$' && exit 0
		sleep 0.2
	done
	exit 1"

for v in 4 6; do
	[ $v = 4 ] && gw=10.10.0.1 k=10.20.0.2 o_addr=192.168.83.2 m_addr=192.168.83.3 u=192.168.83.1
	[ $v = 6 ] && gw=fd10::1 k=fd20::2 o_addr=fd00:83::2 m_addr=fd00:83::3 u=fd00:83::1
	check "IPv$v: partners (A) reach the gateway's tcp/443" allowed "$A" tcp $gw 443
	check "IPv$v: admins (B) reach the gateway's tcp/8000" allowed "$B" tcp $gw 8000
	check "IPv$v: partners (A) do not reach tcp/8000, which only admins may" denied "$A" tcp $gw 8000
	check "IPv$v: partners (A) reach the gateway's udp/5353" allowed "$A" udp $gw 5353
	check "IPv$v: admins (B) do not reach udp/5353, which only partners may" denied "$B" udp $gw 5353
	check "IPv$v: admins (B) ping the gateway" pings "$B" $gw
	check "IPv$v: partners (A) do not" bash -c "! ip netns exec $A ping -c 2 -W 1 -i 0.3 $gw >/dev/null 2>&1"
	check "IPv$v: a management source reaches the API port from outside the tunnel" \
		allowed "$O" tcp $u 443 $m_addr
	check "IPv$v: an outsider does not" denied "$O" tcp $u 443 $o_addr
	check "IPv$v: admins (B) reach the backend's tcp/5432" allowed "$B" tcp $k 5432
	check "IPv$v: partners (A) do not" denied "$A" tcp $k 5432
	check "IPv$v: admins (B) reach the backend's udp/53" allowed "$B" udp $k 53
	check "IPv$v: partners (A) do not" denied "$A" udp $k 53
	check "IPv$v: admins (B) ping the backend" pings "$B" $k
	check "IPv$v: partners (A) do not" bash -c "! ip netns exec $A ping -c 2 -W 1 -i 0.3 $k >/dev/null 2>&1"
done
check "admins' tcp/22 on the backend is outside Egress: dropped" denied "$B" tcp 10.20.0.2 22
check "control: the backend's tcp/22 answers from the gateway itself" allowed "$GW" tcp 10.20.0.2 22

# What the policy dropped is in the metrics: by rule, and by peer and direction.
series() { grep "^$1{" "$TMP/metrics" | grep -- "$2" | awk '{print $NF}'; }
policy_metrics() {
	local key_a v
	sleep 5 # the monitor reads the counters at most every 5 s
	nsx "$GW" curl -s http://127.0.0.1:9586/metrics >"$TMP/metrics" || return 1
	key_a=$(wg pubkey <<<"$KEY_A")
	for v in "wgate_policy_dropped_packets_total rule=\"ApiPorts from outside the tunnel\"" \
		"wgate_policy_dropped_packets_total rule=\"outside Egress\"" \
		"wgate_peer_policy_dropped_packets_total public_key=\"$key_a\",direction=\"to_gateway\"" \
		"wgate_peer_policy_dropped_packets_total public_key=\"$key_a\",direction=\"forwarded\""; do
		[ "$(series ${v%% *} "${v#* }")" -gt 0 ] 2>/dev/null ||
			{ echo "no drops in ${v}:"; grep policy "$TMP/metrics"; return 1; }
	done
	! command -v promtool >/dev/null || promtool check metrics <"$TMP/metrics" >/dev/null 2>&1 ||
		promtool check metrics <"$TMP/metrics"
}
check "the metrics count the drops: outsiders, outside Egress, partners' to the gateway and forwarded" policy_metrics

# C's underlay address is not among the ListenSources: its handshakes never arrive.
check "peer C, whose underlay is not a ListenSource, cannot reach the gateway" \
	bash -c "! ip netns exec $O ping -c 3 -W 1 -i 0.3 10.10.0.1 >/dev/null 2>&1"
listen_control() {
	LISTEN_MORE=", 192.168.83.2/32" gateway_conf >"$TMP/$IF.conf"
	"$WGATE" reload "$IF" >/dev/null || return 1
	for _ in $(seq 1 10); do
		nsx "$O" ping -c 1 -W 1 10.10.0.1 >/dev/null 2>&1 && return 0
	done
	return 1
}
check "control: once its address is a ListenSource, C reaches it (by default: ping)" listen_control
check "C, a peer with neither Allow nor Groups, reaches the ApiPorts by default" allowed "$O" tcp 10.10.0.1 8000
check "C does not reach the backend" denied "$O" tcp 10.20.0.2 5432

# A claims B's tunnel address: cryptokey routing drops it before the policy sees it
# (tcp/443 is open to both, so only the source can stop it).
spoof() {
	ip -n "$A" addr add 10.10.0.3/32 dev "$IF_A" || return 1
	denied "$A" tcp 10.10.0.1 443 10.10.0.3
	local r=$?
	ip -n "$A" addr del 10.10.0.3/32 dev "$IF_A"
	return $r
}
check "A sending as B (from 10.10.0.3) is dropped, though both may reach tcp/443" spoof
check "control: A, binding its own address the same way, is answered" \
	allowed "$A" tcp 10.10.0.1 443 10.10.0.2

# MSS: B's tunnel MTU is 1420 (SYNs with MSS 1380); the gateway's is 1320, so its
# clamp is 1280 for IPv4.
mss() {
	nsx "$K" timeout 8 tcpdump -l -c 1 -nn -v -i vk 'tcp dst port 5432 and tcp[tcpflags] & tcp-syn != 0' \
		>"$TMP/k.cap" 2>/dev/null &
	local kcap=$!
	nsx "$B" timeout 8 tcpdump -l -c 1 -nn -v -i "$IF_B" 'tcp dst port 5432 and tcp[tcpflags] & tcp-syn != 0' \
		>"$TMP/b.cap" 2>/dev/null &
	local bcap=$!
	sleep 1
	allowed "$B" tcp 10.20.0.2 5432 || return 1
	wait $kcap $bcap
	grep -q 'mss 1380' "$TMP/b.cap" || { echo "B sent: $(cat "$TMP/b.cap")"; return 1; }
	grep -q 'mss 1280' "$TMP/k.cap" || { echo "the backend got: $(cat "$TMP/k.cap")"; return 1; }
}
check "a SYN through the tunnel leaves B with MSS 1380 and reaches the backend clamped to 1280" mss

# A reload that narrows partners' reach ends A's live connection; B's transfer goes on.
trickle() { # trickle NS ADDR PORT SECONDS: sends 1 KiB every 20 ms; prints what it sent
	nsx "$1" python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
sent = 0
end = time.time() + float(sys.argv[3])
try:
    while time.time() < end:
        s.sendall(b"x" * 1024)
        sent += 1024
        time.sleep(0.02)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
except OSError:
    pass
print(sent)' "$2" "$3" "$4"
}
narrowing() {
	nsx "$K" pkill -f "TCP6-LISTEN:5432" # the echo service makes way for a sink
	ip netns exec "$K" socat -u TCP-LISTEN:6000,reuseaddr OPEN:"$TMP/recv-a",creat,trunc \
		</dev/null >/dev/null 2>&1 &
	local la=$! lb ta tb at_reload got_a got_b sent_b
	ip netns exec "$K" socat -u TCP-LISTEN:5432,reuseaddr OPEN:"$TMP/recv-b",creat,trunc \
		</dev/null >/dev/null 2>&1 &
	lb=$!
	sleep 0.5
	trickle "$A" 10.20.0.2 6000 6 >"$TMP/sent-a" 2>/dev/null &
	ta=$!
	trickle "$B" 10.20.0.2 5432 4 >"$TMP/sent-b" 2>/dev/null &
	tb=$!
	sleep 1.5
	gateway_conf "" >"$TMP/$IF.conf" # partners lose tcp/6000
	"$WGATE" reload "$IF" >/dev/null || return 1
	sleep 0.5
	at_reload=$(stat -c %s "$TMP/recv-a")
	wait $tb
	sleep 0.5
	got_b=$(stat -c %s "$TMP/recv-b") sent_b=$(cat "$TMP/sent-b")
	got_a=$(stat -c %s "$TMP/recv-a")
	kill $la $lb 2>/dev/null
	wait $ta 2>/dev/null
	diag "A had delivered $at_reload bytes half a second after the reload and $got_a at the end; B sent $sent_b, the backend got $got_b"
	[ "$at_reload" -gt 0 ] || { echo "A's transfer never started"; return 1; }
	[ "$got_a" = "$at_reload" ] || { echo "A's connection went on after the reload"; return 1; }
	[ "$sent_b" -gt 100000 ] && [ "$got_b" = "$sent_b" ] || { echo "B's transfer was harmed"; return 1; }
}
check "a reload that takes tcp/6000 from partners cuts A's live transfer; B's finishes intact" narrowing
[ -s "$TMP/sent-b" ] && diag "B sent $(cat "$TMP/sent-b") bytes through the reload; A's connection stopped at $(stat -c %s "$TMP/recv-a") bytes"

# Policy routing (the guide's multi-homed gateway): with Uplink, what the tunnel sends
# toward the default route leaves through the second uplink; the rest is unchanged.
world() { nsx "$B" timeout 4 socat -T2 - TCP:203.0.113.5:80,connect-timeout=2 </dev/null 2>/dev/null; }
world_is() { # world_is UPLINK [SOURCE-SEEN]
	local got
	got=$(world)
	[ "${got%% *}" = "$1" ] && { [ -z "${2:-}" ] || [ "${got#* }" = "$2" ]; } ||
		{ echo "the world answered \`$got'"; return 1; }
}
check "control: without Uplink, B's request to the world leaves through the default route, from B's address" \
	world_is one 10.10.0.3
masquerade() {
	sed -i 's|^MTU = 1320$|&\nMasquerade = go|' "$TMP/$IF.conf"
	"$WGATE" reload "$IF" >/dev/null || return 1
	world_is one 192.168.83.1 || return 1
	gateway_conf "" >"$TMP/$IF.conf" # and without it again
	"$WGATE" reload "$IF" >/dev/null && world_is one 10.10.0.3
}
check "control: without Uplink, a request from the world through the second uplink gets no reply" \
	denied "$U" tcp 192.168.60.1 7070 203.0.113.5
check "Masquerade = go: the world sees the gateway's uplink address, and B's again once it is gone" masquerade
uplink_reload() {
	local out
	UPLINK="gu via 192.168.60.2 table 200" gateway_conf "" >"$TMP/$IF.conf"
	out=$("$WGATE" reload "$IF" 2>&1) && { echo "reload applied it: $out"; return 1; }
	grep -q "Uplink changed" <<<"$out" && grep -q "nothing was changed" <<<"$out" || { echo "$out"; return 1; }
	world_is one
}
check "reload refuses a change of Uplink and changes nothing" uplink_reload
uplink_up() {
	"$WGATE" down "$IF" || return 1
	nsx "$GW" "$WGATE" up "$TMP/$IF.conf" 2>/dev/null || return 1
	eventually 40 world_is two || return 1
	nsx "$GW" ip rule | grep -q 'fwmark 0xc8 lookup 200' || { nsx "$GW" ip rule; return 1; }
	allowed "$B" tcp 10.10.0.1 8000 && pings "$B" 10.20.0.2 &&
		allowed "$U" tcp 192.168.60.1 7070 203.0.113.5 # the reply leaves where the request came in
}
check "with Uplink, B's request leaves through the second uplink, replies follow requests in; the gateway and the backend as before" uplink_up

gw_tables() { nsx "$GW" nft list tables | grep -c "wgate-$IF"; }
check "the gateway has exactly one table of wgate's" test "$(gw_tables)" = 1
crash_restart() {
	local pids
	pids=$(pgrep -f "wgate up $TMP/$IF.conf")
	kill -9 $pids || return 1
	sleep 0.5
	ip -n "$GW" link del "$IF" 2>/dev/null
	rm -f /run/wgate/"$IF".pid /var/run/wireguard/"$IF".sock
	[ "$(gw_tables)" = 1 ] || { echo "the killed daemon's table should still be there"; return 1; }
	nsx "$GW" "$WGATE" up "$TMP/$IF.conf" 2>/dev/null || return 1
	[ "$(gw_tables)" = 1 ] || { echo "$(gw_tables) tables after up"; return 1; }
	eventually 40 allowed "$B" tcp 10.10.0.1 8000 && eventually 40 allowed "$A" tcp 10.10.0.1 443 &&
		denied "$A" tcp 10.10.0.1 8000
}
check "after kill -9 and up: one table, the policy as before" crash_restart
final_down() {
	"$WGATE" down "$IF" || return 1
	local tables rules routes
	tables=$(nsx "$GW" nft list tables) rules=$(nsx "$GW" ip rule) routes=$(nsx "$GW" ip route show table 200)
	! grep -q wgate- <<<"$tables" && grep -q operators_own <<<"$tables" &&
		! grep -q 'lookup 200' <<<"$rules" && ! grep -q suppress_prefixlength <<<"$rules" &&
		[ -z "$routes" ] || { printf '%s\n' "$tables" "$rules" "$routes"; return 1; }
}
check "down leaves no table of wgate's, no rule or route of the uplink's, and the operator's own table" final_down
done_testing
