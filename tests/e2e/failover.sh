#!/usr/bin/env bash
# A pool of two gateway nodes sharing one key and one address scheme, each
# with NGINX behind it (wgate(8), HIGH AVAILABLE): a client given both as
# endpoints by name, and a client that follows one name's DNS answer.
#
#   C  (both endpoints)   vc1 192.168.81.2 -- gc1 192.168.81.1  G1 (wgate 10.78.0.1, nginx "g1")
#                         vc2 192.168.82.2 -- gc2 192.168.82.1  G2 (wgate 10.78.0.1, nginx "g2")
#   D  (gw.test, DNS)     vd1 192.168.83.2 -- gd1 192.168.83.1  G1
#                         vd2 192.168.84.2 -- gd2 192.168.84.1  G2
#
# C requests http://10.78.0.1:8080/ every 50 ms throughout. G1 is killed: the
# requests go on through G2 (the gap is reported); G1 comes back: C moves
# back once, and stays. D's name moves from G1 to G2 in its hosts file (what
# `ip netns exec` mounts over /etc/hosts): D follows within ResolveInterval.
source "$(dirname "$0")/hosts.bash"
source "$(dirname "$0")/pool.bash"
umask 077

G1=wgf-g1-$$ G2=wgf-g2-$$ C=wgf-c-$$ D=wgf-d-$$
IF_G=fg$$ IF_C=fc$$ IF_D=fd$$ POOL_ADDR=10.78.0.1
# the two nodes' interfaces share a name (and so a control socket path): each
# node gets a mount namespace of its own for /var/run/wireguard and /run/wgate
interfaces_used "$IF_C" "$IF_D"
at_exit() {
	local f
	for f in "$TMP"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	rm -rf "/etc/netns/$C" "/etc/netns/$D"
}
setup() {
	hosts_add "$G1" "$G2" "$C" "$D" || return 1
	veth "$G1" "$C" c1 81 && veth "$G2" "$C" c2 82 && veth "$G1" "$D" d1 83 &&
		veth "$G2" "$D" d2 84 || return 1
	mkdir -p "/etc/netns/$C" "/etc/netns/$D" && pool_dirs || return 1
	printf '127.0.0.1 localhost\n192.168.81.1 g1.test\n192.168.82.1 g2.test\n' \
		>"/etc/netns/$C/hosts"
	printf '127.0.0.1 localhost\n192.168.83.1 gw.test\n' >"/etc/netns/$D/hosts"
}
setup_or_end setup

KEY_G=$(wg genkey) KEY_C=$(wg genkey) KEY_D=$(wg genkey)
PUB_G=$(wg pubkey <<<"$KEY_G") PUB_C=$(wg pubkey <<<"$KEY_C") PUB_D=$(wg pubkey <<<"$KEY_D")
# one config for both nodes: what a fleet shares
cat >"$TMP/$IF_G.conf" <<EOF
[Interface]
PrivateKey = $KEY_G
ListenPort = 51820
Address = 10.78.0.1/24

[Peer]
Name = client-c
PublicKey = $PUB_C
AllowedIPs = 10.78.0.10/32

[Peer]
Name = client-d
PublicKey = $PUB_D
AllowedIPs = 10.78.0.11/32
EOF
cat >"$TMP/$IF_C.conf" <<EOF
[Interface]
PrivateKey = $KEY_C
Address = 10.78.0.10/24
MetricsAddress = 127.0.0.1:9586

[Peer]
Name = gateways
PublicKey = $PUB_G
Endpoint = g1.test:51820, g2.test:51820
FailbackAfter = 5s
AllowedIPs = 10.78.0.0/24
EOF
cat >"$TMP/$IF_D.conf" <<EOF
[Interface]
PrivateKey = $KEY_D
Address = 10.78.0.11/24
ResolveInterval = 2s

[Peer]
PublicKey = $PUB_G
Endpoint = gw.test:51820
AllowedIPs = 10.78.0.0/24
EOF

check "gateway node 1 comes up with NGINX behind it" node_up 1
check "gateway node 2 comes up with the same config" node_up 2
check "client C comes up with both nodes as endpoints" up_logged "$C" "$TMP/$IF_C.conf" "$TMP/c.log"
check "client D comes up following gw.test" up_logged "$D" "$TMP/$IF_D.conf" "$TMP/d.log"
get_wgate() { # NS IF: the interface's get=wgate answer
	printf 'get=wgate\n\n' | ip netns exec "$1" socat -t 2 - "UNIX-CONNECT:/var/run/wireguard/$2.sock"
}
check "C's peer has both endpoints, by address" sh -c \
	"$(declare -f get_wgate); get_wgate $C $IF_C | grep -qx 'wgate_endpoints=192.168.81.1:51820,192.168.82.1:51820'"

request_loop "$C"
sleep 2
check "C's requests are answered by node 1, the preferred" answers_from g1 1

# node 1 dies
killed=$(date +%s%3N)
node_kill 1
check "after node 1 is killed, node 2 answers C's requests" wait_for 15 answers_from g2 1
read -r gap lost < <(failover_gap "$killed")
diag "gap in C's requests when node 1 died: $gap s, $lost requests failed (one every 50 ms, 0.5 s timeout)"
check "the gap is under 5 s (FailoverAfter's default, 3 s)" awk -v g="$gap" 'BEGIN { exit !(g < 5) }'
check "C's log says it failed over to node 2" grep -q "event=endpoint_failover .*endpoint=192.168.82.1:51820 index=1 of=2" "$TMP/c.log"

# node 1 comes back: C returns to it once and stays
check "node 1 comes back" node_up 1
back=$(date +%s%3N)
check "C's requests go back to node 1 (FailbackAfter 5 s, doubled while it was down)" \
	wait_for 40 answers_from g1 1
diag "C was back on node 1 $(($(date +%s%3N) - back)) ms after it came up"
sleep 8
check "and stay there: 8 s of requests all answered by node 1" answers_from g1 8
check "C failed over once and back once: no flapping" sh -c \
	"[ \$(grep -c 'event=endpoint_failover ' '$TMP/c.log') = 1 ] && [ \$(grep -c 'event=endpoint_failback ' '$TMP/c.log') = 1 ]"
check "C's audit trail has both moves" sh -c \
	"grep -q 'event=audit via=failover action=endpoint_failover' '$TMP/c.log' && grep -q 'event=audit via=failback action=endpoint_failback' '$TMP/c.log'"
kill "$(cat "$TMP/loop.pid")" 2>/dev/null
nsx "$C" curl -s http://127.0.0.1:9586/metrics >"$TMP/metrics"
check "wgate show says which endpoint is in use and how often it moved" sh -c \
	"ip netns exec $C $WGATE show $IF_C | grep -qx '  endpoints: 192.168.81.1:51820 (in use), 192.168.82.1:51820; 1 failover, 1 failback'"
check "and its JSON too" sh -c "ip netns exec $C $WGATE show $IF_C --json | python3 -c '
import json, sys
p = json.load(sys.stdin)[\"interfaces\"][0][\"peers\"][0]
assert p[\"endpoints\"] == [\"192.168.81.1:51820\", \"192.168.82.1:51820\"], p
assert (p[\"endpoint_index\"], p[\"failovers\"], p[\"failbacks\"]) == (0, 1, 1), p
'"
check "C's metrics: one failover, one failback, the preferred endpoint in use" sh -c "
	grep -q '^wgate_peer_endpoint_failovers_total{interface=\"$IF_C\",public_key=\"$PUB_G\"} 1\$' '$TMP/metrics' &&
	grep -q '^wgate_peer_endpoint_failbacks_total{interface=\"$IF_C\",public_key=\"$PUB_G\"} 1\$' '$TMP/metrics' &&
	grep -q '^wgate_peer_endpoint_index{interface=\"$IF_C\",public_key=\"$PUB_G\"} 0\$' '$TMP/metrics'"

# D follows its name
check "D reaches node 1 through gw.test" sh -c "ip netns exec $D curl -s --max-time 2 http://10.78.0.1:8080/ | grep -qx g1"
printf '127.0.0.1 localhost\n192.168.84.1 gw.test\n' >"/etc/netns/$D/hosts"
moved=$(date +%s%3N)
d_reaches_g2() { ip netns exec "$D" curl -s --max-time 0.5 http://10.78.0.1:8080/ | grep -qx g2; }
check "after gw.test moves to node 2, D reaches node 2 (ResolveInterval 2 s)" wait_for 10 d_reaches_g2
diag "D followed the DNS change in $(($(date +%s%3N) - moved)) ms"
check "D's audit trail says the name resolved anew" \
	grep -q "event=audit via=resolver action=endpoint_resolved .*host=gw.test from=192.168.83.1:51820 to=192.168.84.1:51820" "$TMP/d.log"
# a name that stops resolving keeps its last address, and is counted
printf '127.0.0.1 localhost\n' >"/etc/netns/$D/hosts"
printf 'nameserver 127.0.0.1\n' >"/etc/netns/$D/resolv.conf"
check "when gw.test no longer resolves, the failure is logged" wait_for 10 grep -q "event=resolve_failed .*host=gw.test" "$TMP/d.log"
check "and D still reaches node 2 at its last address" d_reaches_g2
check "the failures are counted (get=wgate)" sh -c \
	"$(declare -f get_wgate); get_wgate $D $IF_D | grep -q '^wgate_resolve_failures=[1-9]'"

# a reload resolves the names again, even with the file unchanged (wg syncconf was the only way)
sed -i 's/^ResolveInterval = .*/ResolveInterval = off/' "$TMP/$IF_D.conf"
check "D reloads with ResolveInterval = off" ip netns exec "$D" "$WGATE" reload "$IF_D"
printf '127.0.0.1 localhost\n192.168.83.1 gw.test\n' >"/etc/netns/$D/hosts"
sleep 4
check "control: with no interval, D stays on node 2 after gw.test moves back to node 1" d_reaches_g2
d_reaches_g1() { ip netns exec "$D" curl -s --max-time 0.5 http://10.78.0.1:8080/ | grep -qx g1; }
check "wgate reload with the file unchanged resolves gw.test again" ip netns exec "$D" "$WGATE" reload "$IF_D"
check "and D reaches node 1" wait_for 5 d_reaches_g1
done_testing
