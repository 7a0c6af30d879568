#!/usr/bin/env bash
# A fleet from one peer set in etcd (wgate(8), FLEETS): a three-member etcd
# cluster, two gateway nodes sharing one key with NGINX behind each, and a
# client with both nodes as endpoints making requests through the tunnel.
#
#   E (etcd 10.96.0.11-13) -- 192.168.101.0/24 -- G1 (wgate 10.80.0.1, nginx "g1") -- 192.168.103.0/24 -- C
#                          -- 192.168.102.0/24 -- G2 (wgate 10.80.0.1, nginx "g2") -- 192.168.104.0/24 -- C
#
# Peers added and removed through either node (wgate peer, writing to etcd)
# work through the other; a member killed, then all: the nodes keep serving;
# a change made while one node cannot reach etcd reaches it when it can again.
source "$(dirname "$0")/hosts.bash"
source "$(dirname "$0")/pool.bash"
umask 077

E=wge-e-$$ G1=wge-g1-$$ G2=wge-g2-$$ C=wge-c-$$
IF_G=eg$$ IF_C=ec$$ POOL_ADDR=10.80.0.1
interfaces_used "$IF_C"
MEMBERS="10.96.0.11 10.96.0.12 10.96.0.13"
ETCD_URLS="http://10.96.0.11:2379,http://10.96.0.12:2379,http://10.96.0.13:2379"
at_exit() {
	local f
	for f in "$TMP"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
}
setup() {
	hosts_add "$E" "$G1" "$G2" "$C" || return 1
	veth "$E" "$G1" e1 101 && veth "$E" "$G2" e2 102 && veth "$G1" "$C" c1 103 &&
		veth "$G2" "$C" c2 104 || return 1
	for m in $MEMBERS; do ip -n "$E" addr add "$m/32" dev lo || return 1; done
	ip -n "$G1" route add 10.96.0.0/24 via 192.168.101.1 &&
		ip -n "$G2" route add 10.96.0.0/24 via 192.168.102.1 &&
		pool_dirs
}
setup_or_end setup

# the etcd cluster: three members, one namespace, an address each
cluster=""
for i in 1 2 3; do cluster="$cluster${cluster:+,}m$i=http://10.96.0.1$i:2380"; done
member_up() { # N
	local ip=10.96.0.1$1
	( # not a job of this shell: its end is not announced
		ip netns exec "$E" etcd --name "m$1" --data-dir "$TMP/etcd-m$1" \
			--listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
			--listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
			--initial-cluster "$cluster" --initial-cluster-state "${2:-new}" \
			--initial-cluster-token "wge-$$" >>"$TMP/etcd-m$1.log" 2>&1 &
		echo $! >"$TMP/etcd-m$1.pid"
	)
}
member_kill() { kill -9 "$(cat "$TMP/etcd-m$1.pid")" 2>/dev/null; rm -f "$TMP/etcd-m$1.pid"; }
etcdctl_() { nsx "$E" env ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URLS" --dial-timeout 2s "$@"; }
for i in 1 2 3; do member_up "$i"; done
healthy() { etcdctl_ endpoint health >/dev/null 2>&1; }
answers() { etcdctl_ get --prefix /wgate >/dev/null 2>&1; } # the cluster, with a quorum
check "a three-member etcd cluster comes up" wait_for 30 healthy

KEY_G=$(wg genkey) KEY_C=$(wg genkey) KEY_C2=$(wg genkey)
PUB_G=$(wg pubkey <<<"$KEY_G") PUB_C=$(wg pubkey <<<"$KEY_C") PUB_C2=$(wg pubkey <<<"$KEY_C2")
cat >"$TMP/$IF_G.conf" <<EOF
[Interface]
PrivateKey = $KEY_G
ListenPort = 51820
Address = 10.80.0.1/24
PublicEndpoint = gw.example.net:51820
EtcdEndpoints = ${ETCD_URLS//,/, }
EOF
PREFIX=/wgate/$IF_G/peers/

runs() { # N NAME: node N's interface runs a peer named NAME
	node_in "$1" "$WGATE" show "$IF_G" --json 2>/dev/null | grep -q "\"$2\""
}

check "gateway node 1 comes up from etcd's (empty) peer set" node_up 1
check "gateway node 2 comes up with the same config" node_up 2
check "both nodes follow etcd" sh -c "grep -q 'event=etcd_connected prefix=$PREFIX' '$TMP/g1.log' && grep -q 'event=etcd_connected prefix=$PREFIX' '$TMP/g2.log'"

# a peer added through node 1: written to etcd, running on node 2 within a second
start=$(date +%s%3N)
peer_add() { # NODE NAME KEY: wgate peer add on the node, the client's config in TMP/NAME.out
	node_in "$1" "$WGATE" peer add "$IF_G" "$2" --public-key "$3" >"$TMP/$2.out"
}
check "wgate peer add on node 1 writes the peer to etcd" peer_add 1 client-c "$PUB_C"
in_etcd() { etcdctl_ get --print-value-only "$PREFIX$1" | grep -qF "PublicKey = $2"; }
check "the peer is in etcd under the interface's prefix" in_etcd client-c "$PUB_C"
check "node 2 runs it within a second" wait_for 1 runs 2 client-c
diag "node 2 ran the peer $(($(date +%s%3N) - start)) ms after wgate peer add on node 1 began"
check "node 1 runs it too" wait_for 2 runs 1 client-c

# the client's config as wgate peer add printed it, with its key and both nodes
diag "client-c's address, chosen by wgate peer add: $(sed -n 's/^Address = //p' "$TMP/client-c.out")"
sed -e "s|^# PrivateKey = .*|PrivateKey = $KEY_C|" \
	-e 's|^Endpoint = .*|Endpoint = 192.168.103.1:51820, 192.168.104.1:51820\nFailbackAfter = 5s|' \
	-e 's|^AllowedIPs = .*|AllowedIPs = 10.80.0.0/24|' -e '/^DNS/d' "$TMP/client-c.out" >"$TMP/$IF_C.conf"
check "the client comes up with both nodes as endpoints" up_logged "$C" "$TMP/$IF_C.conf" "$TMP/c.log"
request_loop "$C"
check "the client's requests are answered by node 1" wait_for 10 answers_from g1 1

# a key rotation through node 2: the next key in etcd, the client moves to it, node 1 (which it
# talks to) records the end in etcd, and node 2 follows
KEY_C_NEXT=$(wg genkey)
PUB_C_NEXT=$(wg pubkey <<<"$KEY_C_NEXT")
check "wgate peer rotate on node 2 writes the next key to etcd" \
	node_in 2 "$WGATE" peer rotate "$IF_G" client-c --public-key "$PUB_C_NEXT"
etcd_text() { etcdctl_ get --print-value-only "$PREFIX$1"; }
has_next() { etcd_text client-c | grep -qx "NextPublicKey = $PUB_C_NEXT"; }
check "etcd's text has the next key" has_next
node_accepts_next() { # N
	printf 'get=wgate\n\n' | node_in "$1" socat -t 2 - "UNIX-CONNECT:/var/run/wireguard/$IF_G.sock" |
		grep -q "^wgate_next_public_key="
}
check "node 1 accepts both keys" wait_for 5 node_accepts_next 1
ip netns exec "$C" "$WGATE" down "$IF_C"
sed -i "s|^PrivateKey = .*|PrivateKey = $KEY_C_NEXT|" "$TMP/$IF_C.conf"
check "the client comes back up on its new key" up_logged "$C" "$TMP/$IF_C.conf" "$TMP/c.log"
check "node 1 answers the client on its new key" wait_for 15 answers_from g1 1
rotated() { etcd_text client-c | grep -qx "PublicKey = $PUB_C_NEXT" && ! etcd_text client-c | grep -q NextPublicKey; }
check "node 1 recorded the end of the rotation in etcd: the new key is the only one" wait_for 10 rotated
check "node 1's audit trail says so" grep -q "action=key_rotation_recorded peer=$PUB_C_NEXT previous_key=$PUB_C path=etcd" "$TMP/g1.log"
new_key_alone() { # N
	[ "$(node_in "$1" "$WGATE" show "$IF_G" peers | grep -c -e "^$PUB_C\$" -e "^$PUB_C_NEXT\$")" = 1 ] &&
		node_in "$1" "$WGATE" show "$IF_G" peers | grep -qx "$PUB_C_NEXT" && ! node_accepts_next "$1"
}
check "node 2 follows: it runs the peer under the new key alone" wait_for 5 new_key_alone 2

# etcd members die: the nodes keep serving from their copies
member_kill 1
check "one member killed: the cluster still answers" wait_for 10 answers
check "a peer added through node 2 with a member down" peer_add 2 client-d "$PUB_C2"
check "node 1 runs it" wait_for 5 runs 1 client-d
member_kill 2
member_kill 3
check "all members killed: node 1 says etcd is unreachable" wait_for 20 grep -q "event=etcd_unreachable prefix=$PREFIX" "$TMP/g1.log"
sleep 2
check "and the client's requests are still answered (2 s)" answers_from g1 2
refused_add() { ! peer_add 1 nobody "$(wg genkey | wg pubkey)" 2>"$TMP/add.err" && grep -q 'etcd is unreachable' "$TMP/add.err"; }
check "wgate peer add says etcd is unreachable, and changes nothing" refused_add

# node 1 restarts while etcd is down: its copy serves
killed=$(date +%s%3N)
node_kill 1
check "node 1 killed: the client's requests go on through node 2" wait_for 15 answers_from g2 1
read -r gap lost < <(failover_gap "$killed")
diag "gap when node 1 died: $gap s, $lost requests failed (one every 50 ms, 0.5 s timeout)"
check "the gap is under 5 s" awk -v g="$gap" 'BEGIN { exit !(g < 5) }'
check "node 1 restarted while etcd is down comes up from its copy" node_up 1
both() { runs 1 client-c && runs 1 client-d; }
check "and runs both peers" both
check "up warned that etcd was unreachable" grep -q "etcd is unreachable" "$TMP/g1.log"
check "the client moves back to node 1" wait_for 40 answers_from g1 1
check "once: one failover, one failback" sh -c \
	"[ \$(grep -c 'event=endpoint_failover ' '$TMP/c.log') = 1 ] && [ \$(grep -c 'event=endpoint_failback ' '$TMP/c.log') = 1 ]"

# etcd comes back; node 1 cannot reach it for a while; a change made meanwhile converges
for i in 1 2 3; do member_up "$i" existing; done
check "etcd comes back" wait_for 30 healthy
check "node 2 follows it again" wait_for 20 sh -c "[ \$(grep -c 'event=etcd_connected' '$TMP/g2.log') -ge 2 ]"
check "node 1 follows it again" wait_for 20 sh -c "tail -n 1 \$(ls -t '$TMP/g1.log') >/dev/null; grep 'event=etcd_' '$TMP/g1.log' | tail -n 1 | grep -q etcd_connected"
lost_before=$(grep -c 'event=etcd_unreachable' "$TMP/g1.log")
# a partition: node 1's packets to the cluster vanish
nsx "$G1" nft -f - <<EOF
table inet wge_cut {
	chain out {
		type filter hook output priority 0;
		ip daddr 10.96.0.0/24 drop;
	}
}
EOF
check "node 1 loses etcd (a partition: its packets to the cluster dropped)" wait_for 30 sh -c "[ \$(grep -c 'event=etcd_unreachable' '$TMP/g1.log') -gt $lost_before ]"
check "client-d removed through node 2 while node 1 cannot see etcd" node_in 2 "$WGATE" peer remove "$IF_G" client-d
not_runs() { ! runs "$@"; }
check "node 2 no longer runs client-d" wait_for 5 not_runs 2 client-d
check "node 1 still does (it cannot know)" runs 1 client-d
nsx "$G1" nft delete table inet wge_cut
check "node 1 reaches etcd again and converges: client-d is gone" wait_for 30 not_runs 1 client-d
check "and client-c stays" runs 1 client-c
kill "$(cat "$TMP/loop.pid")" 2>/dev/null
done_testing
