#!/usr/bin/env bash
# Key rotation on a running gateway (wgate(8), PEERS): wgate peer rotate gives
# a peer a second key; a client (wgate, then wireguard-go) switches to its new
# private key in the middle of a TCP transfer and a ping loop; the transfer
# arrives intact, the pings lose no more than a handshake's worth, the config
# records the new key and the old one is refused from then on. A rotation whose
# client never switches is forced at its deadline; one for a peer that never
# handshakes too; a cancelled one gives back the file byte for byte.
#
#   W  wgate client        vw 192.168.95.2 -- gw 192.168.95.1 \
#                                                              GW (wgate 10.11.0.1/24)
#   G  wireguard-go client vg 192.168.96.2 -- gg 192.168.96.1 /
source "$(dirname "$0")/hosts.bash"
umask 077

GW=wgr-gw-$$ W=wgr-w-$$ G=wgr-g-$$
IF=rg$$ IF_W=rw$$ IF_G=rgo$$
export WGATE_STATE_DIR=$TMP/state # the daemon's key ledger
interfaces_used "$IF" "$IF_W" "$IF_G"
ALL="$GW $W $G"
setup() {
	hosts_add $ALL || return 1
	veth "$GW" "$W" w 95 && veth "$GW" "$G" g 96
	ip -n "$G" route add 192.168.95.0/24 via 192.168.96.1 # PublicEndpoint is on the first link
}
setup_or_end setup

KEY_GW=$(wg genkey)
PUB_GW=$(wg pubkey <<<"$KEY_GW")
cat >"$TMP/$IF.conf" <<EOF
# the gateway
[Interface]
PrivateKey = $KEY_GW
ListenPort = 51820
Address = 10.11.0.1/24
PublicEndpoint = 192.168.95.1:51820
EOF
chmod 600 "$TMP/$IF.conf"
logged() { grep -q -- "$1" "$TMP/gw.log" || { echo "not logged: $1"; tail -n 5 "$TMP/gw.log"; return 1; }; }
gateway_up() { up_logged "$GW" "$TMP/$IF.conf" "$TMP/gw.log"; } # in the foreground
check "the gateway comes up" gateway_up
check "two clients added" bash -c "
	ip netns exec $GW $WGATE peer add $IF cw >$TMP/cw.conf 2>$TMP/err &&
	ip netns exec $GW $WGATE peer add $IF cg >$TMP/cg.conf 2>>$TMP/err || { cat $TMP/err; exit 1; }"
check "a peer that never handshakes added" bash -c "ip netns exec $GW $WGATE peer add $IF ghost >/dev/null 2>$TMP/err || { cat $TMP/err; exit 1; }"
check "the wgate client comes up" bash -c "cp $TMP/cw.conf $TMP/$IF_W.conf && chmod 600 $TMP/$IF_W.conf && ip netns exec $W $WGATE up $TMP/$IF_W.conf"
start_go() {
	ip netns exec "$G" wireguard-go "$IF_G" >"$TMP/go.log" 2>&1 || return 1
	"$WGATE" strip "$TMP/cg.conf" >"$TMP/cg.plain" || return 1
	ip netns exec "$G" wg setconf "$IF_G" "$TMP/cg.plain" || return 1
	ip -n "$G" addr add "$(sed -n 's/^Address = //p' "$TMP/cg.conf")" dev "$IF_G"
	ip -n "$G" link set mtu 1420 up dev "$IF_G"
	ip -n "$G" route add 10.11.0.0/24 dev "$IF_G" 2>/dev/null || true
}
check "the wireguard-go client comes up" start_go
check "both reach the gateway" bash -c "ip netns exec $W ping -c 2 -W 3 10.11.0.1 >/dev/null && ip netns exec $G ping -c 2 -W 3 10.11.0.1 >/dev/null"

pub_of() { sed -n "/^Name = $1\$/,/^\[/s/^PublicKey = //p" "$TMP/$IF.conf"; }

# A paced TCP transfer to the gateway (about 24 MB over 6 s) from NS into recv.$2.
head -c 24M /dev/urandom >"$TMP/send"
cat >"$TMP/paced.py" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
data = open(sys.argv[3], 'rb').read()
step = 64 * 1024
for i in range(0, len(data), step):
    s.sendall(data[i:i + step])
    time.sleep(0.016)
s.close()
PY
# rotate_under_load CLIENT_NS NAME SWITCH: SWITCH (a command) runs in the middle of the transfer
rotate_under_load() {
	local ns=$1 name=$2 switch=$3 port=$((20000 + RANDOM % 10000)) listener sender pinger
	nsx "$GW" socat -u TCP-LISTEN:$port,reuseaddr OPEN:"$TMP/recv.$name",creat,trunc </dev/null >/dev/null 2>&1 &
	listener=$!
	for _ in $(seq 1 50); do nsx "$GW" ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.1; done
	nsx "$ns" ping -i 0.1 -c 90 -W 1 10.11.0.1 >"$TMP/ping.$name" 2>&1 &
	pinger=$!
	nsx "$ns" python3 "$TMP/paced.py" 10.11.0.1 $port "$TMP/send" &
	sender=$!
	sleep 2
	$switch || echo "the switch failed" >>"$TMP/ping.$name"
	wait $sender || echo "the sender failed" >>"$TMP/ping.$name"
	timeout 20 tail --pid=$listener -f /dev/null
	wait $pinger
}
# Waits for the config to record the rotation (the reload that follows it).
recorded() { # NAME NEW_PUB
	for _ in $(seq 1 40); do
		[ "$(pub_of "$1")" = "$2" ] && ! grep -q '^NextPublicKey' "$TMP/$IF.conf" && return 0
		sleep 0.1
	done
	grep -A6 "^Name = $1" "$TMP/$IF.conf"
	return 1
}
lost() { # PING_FILE: pings not answered
	awk '/packets transmitted/ {print $1 - $4}' "$1"
}

# ---- the wgate client switches keys mid-transfer ----
OLD_W=$(pub_of cw)
cp "$TMP/$IF.conf" "$TMP/pre-rotate.conf"
check "peer rotate prints the client's new config" bash -c "
	ip netns exec $GW $WGATE peer rotate $IF cw >$TMP/cw.new 2>$TMP/err || { cat $TMP/err; exit 1; }
	grep -q '^PrivateKey = ' $TMP/cw.new && grep -q '^Address = 10.11.0.2/32\$' $TMP/cw.new &&
	grep -q \"^PresharedKey = \$(sed -n 's/^PresharedKey = //p' $TMP/cw.conf)\\\$\" $TMP/cw.new"
NEW_W=$(sed -n 's/^PrivateKey = //p' "$TMP/cw.new" | wg pubkey)
check "the config has NextPublicKey after PublicKey, the rest byte for byte" bash -c "
	grep -A1 '^PublicKey = $OLD_W\$' $TMP/$IF.conf | grep -q '^NextPublicKey = $NEW_W\$' &&
	diff <(grep -v '^NextPublicKey' $TMP/$IF.conf) $TMP/pre-rotate.conf"
check "peer list shows the next key" bash -c "ip netns exec $GW $WGATE peer list $IF --json | grep -q '\"next_public_key\":\"$NEW_W\"'"
check "the old key still carries traffic while the rotation waits" nsx "$W" ping -c 2 -W 2 10.11.0.1
switch_w() {
	sed -n 's/^PrivateKey = //p' "$TMP/cw.new" >"$TMP/w.key"
	nsx "$W" wg set "$IF_W" private-key "$TMP/w.key"
}
rotate_under_load "$W" cw switch_w
check "wgate client: the transfer arrives intact across the switch" cmp -s "$TMP/send" "$TMP/recv.cw"
check "wgate client: the ping loop lost at most 3 of 90" bash -c "cat $TMP/ping.cw | tail -n 3; [ \$(awk '/packets transmitted/ {print \$1 - \$4}' $TMP/ping.cw) -le 3 ]"
diag "wgate client: $(lost "$TMP/ping.cw") of 90 pings lost across the key switch"
check "the log says the key rotated (event and audit)" bash -c "
	grep -q 'event=key_rotated peer=$OLD_W next_key=$NEW_W name=cw' $TMP/gw.log &&
	grep -q 'event=audit via=handshake action=key_rotated peer=$OLD_W next_key=$NEW_W' $TMP/gw.log"
check "the config records the new key (PublicKey replaced, NextPublicKey gone)" recorded cw "$NEW_W"
check "the file is as before the rotation but for the key" bash -c "diff <(sed 's|$NEW_W|KEY|' $TMP/$IF.conf) <(sed 's|$OLD_W|KEY|' $TMP/pre-rotate.conf)"
ledger_has_new() {
	for _ in $(seq 1 20); do
		grep -q "^$NEW_W [0-9]*\$" "$TMP/state/$IF.keys" && ! grep -q "^$OLD_W " "$TMP/state/$IF.keys" &&
			grep -q ' self$' "$TMP/state/$IF.keys" && return 0
		sleep 0.1
	done
	cat "$TMP/state/$IF.keys"
	return 1
}
check "the key ledger has the new key since the switch, not the old one" ledger_has_new
check "the recording is audited" logged "action=key_rotation_recorded peer=$NEW_W previous_key=$OLD_W"
check "the running interface has the new key only" bash -c "
	ip netns exec $GW wg show $IF peers | grep -q '^$NEW_W\$' && ! ip netns exec $GW wg show $IF peers | grep -q '^$OLD_W\$'"
check "the same peer carried on: its address and name" bash -c "
	ip netns exec $GW wg show $IF allowed-ips | grep -q '^$NEW_W	10.11.0.2/32\$' &&
	ip netns exec $GW $WGATE show $IF | grep -q 'name: cw'"
old_key_refused() { # NS IF OLD_PRIVATE_FILE NEW_PRIVATE_FILE
	nsx "$1" wg set "$2" private-key "$3"
	if nsx "$1" ping -c 2 -W 2 10.11.0.1 >/dev/null; then
		echo "the old key still reaches the gateway"
		return 1
	fi
	nsx "$1" wg set "$2" private-key "$4"
	nsx "$1" ping -c 1 -W 6 10.11.0.1 >/dev/null || { echo "the new key does not come back"; return 1; }
}
sed -n 's/^PrivateKey = //p' "$TMP/cw.conf" >"$TMP/w.old"
check "the old key cannot complete a handshake any more; the new one still can" old_key_refused "$W" "$IF_W" "$TMP/w.old" "$TMP/w.key"
check "a reload now changes nothing" bash -c "ip netns exec $GW $WGATE reload $IF >/dev/null && ip netns exec $W ping -c 1 -W 2 10.11.0.1 >/dev/null"

# ---- the wireguard-go client, with its own new key pair (--public-key) ----
OLD_G=$(pub_of cg)
wg genkey >"$TMP/g.key"
NEW_G=$(wg pubkey <"$TMP/g.key")
check "peer rotate --public-key (the client made its own key pair)" bash -c "
	ip netns exec $GW $WGATE peer rotate $IF cg --public-key $NEW_G >$TMP/out 2>$TMP/err && [ ! -s $TMP/out ] &&
	grep -q 'now accepts $NEW_G' $TMP/err"
switch_g() { nsx "$G" wg set "$IF_G" private-key "$TMP/g.key"; }
rotate_under_load "$G" cg switch_g
check "wireguard-go client: the transfer arrives intact across the switch" cmp -s "$TMP/send" "$TMP/recv.cg"
check "wireguard-go client: the ping loop lost at most 3 of 90" bash -c "tail -n 3 $TMP/ping.cg; [ \$(awk '/packets transmitted/ {print \$1 - \$4}' $TMP/ping.cg) -le 3 ]"
diag "wireguard-go client: $(lost "$TMP/ping.cg") of 90 pings lost across the key switch"
check "the config records its new key" recorded cg "$NEW_G"
sed -n 's/^PrivateKey = //p' "$TMP/cg.conf" >"$TMP/g.old"
check "wireguard-go: the old key is refused, the new one works" old_key_refused "$G" "$IF_G" "$TMP/g.old" "$TMP/g.key"

# ---- a rotation the client never follows: forced at its deadline ----
wg genkey >"$TMP/unused.key"
UNUSED=$(wg pubkey <"$TMP/unused.key")
when=$(date -u -d @$(($(date +%s) + 4)) +%Y-%m-%dT%H:%M:%SZ)
check "peer rotate --deadline in 4 s" bash -c "ip netns exec $GW $WGATE peer rotate $IF cg --public-key $UNUSED --deadline $when 2>$TMP/err || { cat $TMP/err; exit 1; }"
check "the config has the deadline" grep -q "^RotationDeadline = $when\$" "$TMP/$IF.conf"
check "until then the client keeps working" nsx "$G" ping -c 1 -W 2 10.11.0.1
sleep 5
check "at the deadline the change is forced, and logged" logged "event=key_rotation_forced peer=$NEW_G next_key=$UNUSED name=cg"
check "the client that did not switch is cut off" bash -c "! ip netns exec $G ping -c 2 -W 2 10.11.0.1 >/dev/null"
check "the config records the forced key" recorded cg "$UNUSED"

# ---- a peer that never handshakes: cancel, then a deadline ----
OLD_H=$(pub_of ghost)
cp "$TMP/$IF.conf" "$TMP/pre-ghost.conf"
check "peer rotate then --cancel gives back the file byte for byte" bash -c "
	ip netns exec $GW $WGATE peer rotate $IF ghost >/dev/null 2>&1 &&
	grep -q '^NextPublicKey' $TMP/$IF.conf &&
	ip netns exec $GW $WGATE peer rotate $IF ghost --cancel >/dev/null && cmp $TMP/$IF.conf $TMP/pre-ghost.conf"
check "--cancel without a rotation says so" bash -c "! ip netns exec $GW $WGATE peer rotate $IF ghost --cancel 2>$TMP/err && grep -q 'has no key rotation to cancel' $TMP/err"
check "the cancel is audited" logged "action=key_rotation_cancelled peer=$OLD_H"
when=$(date -u -d @$(($(date +%s) + 3)) +%Y-%m-%dT%H:%M:%SZ)
check "a never-handshaking peer's rotation with a deadline" bash -c "ip netns exec $GW $WGATE peer rotate $IF ghost --deadline $when >$TMP/ghost.new 2>/dev/null"
NEW_H=$(sed -n 's/^PrivateKey = //p' "$TMP/ghost.new" | wg pubkey)
sleep 4
check "is forced at its deadline and recorded" recorded ghost "$NEW_H"
check "the running interface has only its new key" bash -c "
	ip netns exec $GW wg show $IF peers | grep -q '^$NEW_H\$' && ! ip netns exec $GW wg show $IF peers | grep -q '^$OLD_H\$'"

# ---- refusals ----
cp "$TMP/$IF.conf" "$TMP/before.conf"
check "a next key that another peer holds is refused, nothing changed" bash -c "
	! ip netns exec $GW $WGATE peer rotate $IF ghost --public-key $(pub_of cw) 2>$TMP/err &&
	grep -q 'would not load.*NextPublicKey is the PublicKey of the \[Peer\]' $TMP/err && cmp -s $TMP/$IF.conf $TMP/before.conf"
check "a bad --deadline is refused" bash -c "! ip netns exec $GW $WGATE peer rotate $IF ghost --deadline soon 2>$TMP/err && grep -q \"deadline \\\`soon' is not a date\" $TMP/err"
check "an unknown peer is refused" bash -c "! ip netns exec $GW $WGATE peer rotate $IF nobody 2>$TMP/err && grep -q 'has no peer named' $TMP/err"
hex() { base64 -d <<<"$1" | od -An -tx1 | tr -d ' \n'; }
check "the control socket refuses a next key another peer holds, changing nothing" bash -c "
	printf 'set=1\npublic_key=%s\nwgate_next_public_key=%s\n\n' $(hex "$(pub_of ghost)") $(hex "$(pub_of cw)") |
		ip netns exec $GW socat -t 2 - UNIX-CONNECT:/var/run/wireguard/$IF.sock | grep -q '^errno=-22\$' &&
	! printf 'get=wgate\n\n' | ip netns exec $GW socat -t 2 - UNIX-CONNECT:/var/run/wireguard/$IF.sock | grep -q wgate_next_public_key"
# ---- a restart in the middle of a rotation: it goes on ----
restart_mid_rotation() {
	ip netns exec "$GW" "$WGATE" peer rotate "$IF" cw --public-key "$1" >/dev/null 2>&1 || return 1
	ip netns exec "$GW" "$WGATE" down "$IF" >/dev/null 2>&1
	for _ in $(seq 1 50); do [ -S /var/run/wireguard/$IF.sock ] || break; sleep 0.1; done
	gateway_up || return 1
	printf 'get=wgate\n\n' | ip netns exec "$GW" socat -t 2 - UNIX-CONNECT:/var/run/wireguard/$IF.sock |
		grep -q "^wgate_next_public_key=$(hex "$1")\$" || { echo "no rotation after the restart"; return 1; }
	# the client, on its current key and started afresh (so that it handshakes at once), is let in
	ip netns exec "$W" "$WGATE" down "$IF_W" >/dev/null 2>&1
	cp "$TMP/cw.new" "$TMP/$IF_W.conf"
	ip netns exec "$W" "$WGATE" up "$TMP/$IF_W.conf" >/dev/null 2>&1 || return 1
	ip netns exec "$W" ping -c 1 -W 8 10.11.0.1 >/dev/null || { echo "the current key is refused"; return 1; }
}
wg genkey >"$TMP/later.key"
check "a restart mid-rotation keeps both keys" restart_mid_rotation "$(wg pubkey <"$TMP/later.key")"
check "no key material in the log" bash -c "! grep -qF -e \"\$(sed -n 's/^PrivateKey = //p' $TMP/cw.new)\" -e \"\$(cat $TMP/g.key)\" $TMP/gw.log"
done_testing
