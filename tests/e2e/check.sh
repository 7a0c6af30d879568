#!/usr/bin/env bash
# wgate check end to end (wgate(8), CHECK): a client configured with the wrong
# gateway public key, one whose packets a firewall drops, one behind a router
# with a smaller MTU, and an AllowedIPs overlap made by wgate set and by a
# reload. Each is explained in one finding, on the side that can see it; a
# control (the healthy client) raises none of them.
#
#   A  healthy client (wgate)       va 192.168.71.2 -- ga 192.168.71.1 \
#   K  wrong gateway key (wgate)    vk 192.168.72.2 -- gk 192.168.72.1  GW (wgate, 10.71.0.1/24)
#   F  filtered (wgate)             vf 192.168.73.2 -- gf 192.168.73.1 /
#   M  behind R (wgate, MTU 1420)   vm 192.168.75.2 -- R -- 192.168.74.2 (MTU 1400) -- GW 192.168.74.1
source "$(dirname "$0")/hosts.bash"
umask 077

GW=wgc-gw-$$ A=wgc-a-$$ K=wgc-k-$$ F=wgc-f-$$ M=wgc-m-$$ R=wgc-r-$$
IF=cg$$ IF_A=ca$$ IF_K=ck$$ IF_F=cf$$ IF_M=cm$$
export WGATE_STATE_DIR=$TMP/state # the daemons' key ledger
interfaces_used "$IF" "$IF_A" "$IF_K" "$IF_F" "$IF_M"
ALL="$GW $A $K $F $M $R"
setup() {
	hosts_add $ALL || return 1
	veth "$GW" "$A" a 71 && veth "$GW" "$K" k 72 && veth "$GW" "$F" f 73 &&
		veth "$GW" "$R" r 74 1400 && veth "$R" "$M" m 75 || return 1
	# the router: M's traffic to the gateway goes through the 1400-byte link
	nsx "$R" sysctl -qw net.ipv4.ip_forward=1
	# and, as many middleboxes do, it drops fragments: what does not fit vanishes
	nsx "$R" nft -f - <<EOF
table inet wgc_router {
	chain forward {
		type filter hook forward priority 0;
		ip frag-off & 0x3fff != 0 drop;
	}
}
EOF
	ip -n "$M" route add default via 192.168.75.1
	ip -n "$GW" route add 192.168.75.0/24 via 192.168.74.2
}
setup_or_end setup

KEY_GW=$(wg genkey)
PUB_GW=$(wg pubkey <<<"$KEY_GW")
WRONG=$(wg genkey | wg pubkey)
declare -A KEY PUB
for c in A K F M; do KEY[$c]=$(wg genkey) && PUB[$c]=$(wg pubkey <<<"${KEY[$c]}"); done
PSK=$(wg genpsk)
{
	printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\nAddress = 10.71.0.1/24\n' "$KEY_GW"
	n=2
	for c in A K F M; do
		printf '\n[Peer]\nName = %s\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = 10.71.0.%d/32\n' \
			"client-$c" "${PUB[$c]}" "$PSK" "$n"
		n=$((n + 1))
	done
} >"$TMP/$IF.conf"
client_conf() { # NAME ADDRESS GATEWAY_KEY ENDPOINT
	printf '[Interface]\nPrivateKey = %s\nAddress = %s/24\n\n[Peer]\nPublicKey = %s\nPresharedKey = %s\n' \
		"${KEY[$1]}" "$2" "$3" "$PSK"
	printf 'Endpoint = %s:51820\nAllowedIPs = 10.71.0.0/24\nPersistentKeepalive = 25\n' "$4"
}
client_conf A 10.71.0.2 "$PUB_GW" 192.168.71.1 >"$TMP/$IF_A.conf"
client_conf K 10.71.0.3 "$WRONG" 192.168.72.1 >"$TMP/$IF_K.conf"
sed -i 's/^\[Peer\]$/MetricsAddress = 127.0.0.1:9586\n&/' "$TMP/$IF_K.conf"
client_conf F 10.71.0.4 "$PUB_GW" 192.168.73.1 >"$TMP/$IF_F.conf"
client_conf M 10.71.0.5 "$PUB_GW" 192.168.74.1 >"$TMP/$IF_M.conf"

check "the gateway comes up" up_logged "$GW" "$TMP/$IF.conf" "$TMP/gw.log"
# F's datagrams never reach the gateway's port
check "a firewall drops F's packets to the gateway" nsx "$GW" nft -f - <<EOF
table inet wgc_filter {
	chain input {
		type filter hook input priority -10;
		ip saddr 192.168.73.2 udp dport 51820 drop;
	}
}
EOF
for c in A F M; do
	ns_var=$c if_var=IF_$c
	check "client $c comes up" nsx "${!ns_var}" "$WGATE" up "$TMP/${!if_var}.conf"
done
check "client K comes up" up_logged "$K" "$TMP/$IF_K.conf" "$TMP/k.log"
check "the healthy client reaches the gateway (the control)" nsx "$A" ping -c 2 -W 3 10.71.0.1
check "the client behind the router reaches it with small packets" nsx "$M" ping -c 2 -W 3 10.71.0.1
check "the wrong-key and filtered clients do not" bash -c "
	! ip netns exec $K ping -c 1 -W 2 10.71.0.1 >/dev/null && ! ip netns exec $F ping -c 1 -W 2 10.71.0.1 >/dev/null"
check "large packets from behind the router vanish (the MTU black hole)" bash -c "
	! ip netns exec $M ping -c 2 -W 2 -M do -s 1380 10.71.0.1 >/dev/null"
# three initiations, 5 s apart, make "no response" sure
sleep 11

findings() { # NS IF: the check's JSON
	nsx "$1" "$WGATE" check "$2" --live --json
}
has() { # JSON_FILE CODE [TEXT]: a finding of that code (whose message has TEXT)
	python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
hits = [f for f in d["findings"] if f["code"] == sys.argv[2] and (len(sys.argv) < 4 or sys.argv[3] in f["message"])]
if not hits:
    print("\n".join("%s: %s" % (f["code"], f["message"]) for f in d["findings"]))
    sys.exit(1)
PY
}
findings "$GW" "$IF" >"$TMP/gw.json"
findings "$K" "$IF_K" >"$TMP/k.json"
findings "$F" "$IF_F" >"$TMP/f.json"
findings "$A" "$IF_A" >"$TMP/a.json"
findings "$M" "$IF_M" >"$TMP/m.json"
check "wrong key, at the gateway: packets from K's address fail mac1, naming the right key" \
	has "$TMP/gw.json" handshake-bad-mac1 "packets from 192.168.72.2:"
check "... the key it names is the gateway's" has "$TMP/gw.json" handshake-bad-mac1 "is not $PUB_GW"
check "wrong key, at the client: initiations without a response" \
	has "$TMP/k.json" handshake-unanswered "(192.168.72.1:51820): "
check "filtered port, at the client: initiations without a response" \
	has "$TMP/f.json" handshake-unanswered "initiations sent since"
check "filtered, at the gateway: F never handshaked" has "$TMP/gw.json" never-handshaked
check "MTU black hole: the probe finds the 1400-byte path and the MTU that fits" \
	has "$TMP/m.json" mtu-path "the path to its endpoint carries 1400 bytes"
check "the healthy client has none of these (the control)" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
bad = ["%s: %s" % (f["code"], f["message"]) for f in d["findings"] if f["severity"] != "notice"]
print(bad)
sys.exit(1 if bad else 0)' "$TMP/a.json"
check "the gateway's log says why, at its default level" \
	grep -q "event=bad_mac1 source=192.168.72.2:[0-9]* count=[0-9]* msg=\"handshake messages from 192.168.72.2:[0-9]* fail mac1: the public key configured there for this interface is not $PUB_GW\"" "$TMP/gw.log"
check "the client's log says its initiations go unanswered" \
	grep -q "event=handshake_unanswered peer=$WRONG name=- endpoint=192.168.72.1:51820 initiations=3 " "$TMP/k.log"
check "the metrics count them" bash -c "
	ip netns exec $K curl -s http://127.0.0.1:9586/metrics | grep -E '^wgate_peer_unanswered_initiations\{[^}]*\} ([3-9]|[1-9][0-9]+)\$'"
check "check exits 1 on these errors" bash -c "ip netns exec $K $WGATE check $IF_K --live >/dev/null; [ \$? = 1 ]"

check "the gateway's check names the same path for client M" has "$TMP/gw.json" mtu-path "carries 1400 bytes"
check "with the MTU the check gives on both sides, large packets pass" bash -c "
	ip -n $M link set dev $IF_M mtu 1340 && ip -n $GW link set dev $IF mtu 1340 && sleep 1.5 &&
	ip netns exec $M ping -c 2 -W 3 -M do -s 1312 10.71.0.1 >/dev/null"

ledger=$TMP/state/$IF.keys
check "the daemon records when each key came into use: the interface's and each peer's" bash -c "
	[ \$(wc -l <$ledger) = 5 ] && grep -q '^$PUB_GW [0-9]* self\$' $ledger && grep -q '^${PUB[A]} [0-9]*\$' $ledger"
# a hundred days later, as far as A's key is concerned
sed -i "s|^${PUB[A]} .*|${PUB[A]} $(($(date +%s) - 100 * 86400))|" "$ledger"
sed -i 's/^ListenPort = 51820$/&\nKeyMaxAge = 90d/' "$TMP/$IF.conf"
check "a reload keeps when each key came into use" bash -c "
	ip netns exec $GW $WGATE reload $IF >/dev/null && grep -q '^${PUB[A]} $(($(date +%s) - 100 * 86400))\$' $ledger"
check "a key past KeyMaxAge is a warning, with the rotation to run" bash -c "
	ip netns exec $GW $WGATE check $IF --static >$TMP/out;
	grep -q 'warning \[key-age\] peer client-A: its key has been in use for 100 days, past KeyMaxAge (90 days)' $TMP/out &&
	grep -q 'fix: wgate peer rotate client-A' $TMP/out && ! grep -q 'key-age.*client-F' $TMP/out"

# An overlap: wgate set gives F's address to A
check "wgate set that moves a prefix warns, naming the peer that loses it" bash -c "
	ip netns exec $GW $WGATE set $IF peer ${PUB[A]} allowed-ips 10.71.0.2/32,10.71.0.4/32 2>$TMP/err &&
	grep -q 'warning: 10.71.0.4/32 moves from peer client-F (${PUB[F]}) to ${PUB[A]}' $TMP/err"
check "the audit trail says which peer lost which prefix" bash -c "
	ip netns exec $GW $WGATE check $IF --live --json >$TMP/gw2.json
	grep -q 'event=audit via=control_socket action=allowed_ip_moved prefix=10.71.0.4/32 from=${PUB[F]} from_name=client-F to=${PUB[A]} to_name=client-A uid=0 pid=' $TMP/gw.log"
check "check sees the drift: F lost its address, A has one the file does not give it" bash -c "
	python3 - $TMP/gw2.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
msgs = [f['peer'] + ': ' + f['message'] for f in d['findings'] if f['code'] == 'allowedips-drift']
assert any(m.startswith('client-F: the config gives it 10.71.0.4/32') for m in msgs), msgs
assert any(m.startswith('client-A: the running interface gives it 10.71.0.4/32') for m in msgs), msgs
PY"
# An overlap written into the file: the reload warns, the static check says error
sed -i 's|^AllowedIPs = 10.71.0.5/32$|AllowedIPs = 10.71.0.4/32|' "$TMP/$IF.conf"
check "reload with the same prefix in two peers warns" bash -c "
	ip netns exec $GW $WGATE reload $IF 2>$TMP/err >/dev/null; grep -q 'warning: line [0-9]*: AllowedIPs 10.71.0.4/32 is also the \[Peer\] client-F' $TMP/err || { cat $TMP/err; exit 1; }"
check "the static check calls it an error" bash -c "
	ip netns exec $GW $WGATE check $IF --static >$TMP/out; [ \$? = 1 ] && grep -q 'error \[allowedips-same\] peer client-M' $TMP/out"
done_testing
