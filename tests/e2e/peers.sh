#!/usr/bin/env bash
# The peer lifecycle on a running gateway (wgate(8), PEERS): wgate peer add
# writes the peer into the config and prints a client config that works as
# printed; the running interface picks it up and the other peers' sessions are
# untouched; list shows it with its handshake; remove cuts it off at once and
# gives back the file byte for byte; adds run concurrently take distinct
# addresses; a refused edit changes neither the file nor the interface.
#
#   O  an existing peer (wgate)  vo 192.168.93.2 -- go 192.168.93.1 \
#                                                                   GW (wgate 10.10.0.1/24, fd10::1/64)
#   C  the new client (wgate)    vc 192.168.94.2 -- gc 192.168.94.1 /
source "$(dirname "$0")/hosts.bash"

GW=wgl-gw-$$ O=wgl-o-$$ C=wgl-c-$$
IF=lg$$ IF_O=lo$$ IF_C=lc$$
mkdir "$TMP/gw"
interfaces_used "$IF" "$IF_O" "$IF_C"
ALL="$GW $O $C"
setup() {
	hosts_add $ALL || return 1
	veth "$GW" "$O" o 93 && veth "$GW" "$C" c 94
	ip -n "$C" route add 192.168.93.0/24 via 192.168.94.1 # PublicEndpoint is on the first link
	nsx "$GW" sysctl -qw net.ipv4.ip_forward=1
}
setup_or_end setup

KEY_GW=$(wg genkey) KEY_O=$(wg genkey)
PUB_GW=$(wg pubkey <<<"$KEY_GW") PUB_O=$(wg pubkey <<<"$KEY_O")
cat >"$TMP/$IF.conf" <<EOF
# the gateway: comments, odd spacing and order must survive every edit
[Interface]
PrivateKey = $KEY_GW
ListenPort   = 51820
Address = 10.10.0.1/24, fd10::1/64 # the tunnel
PublicEndpoint = 192.168.93.1:51820
GatewayConfig = nginx $TMP/gw/gateway.conf

[Group]
Name = partners
Allow = gateway icmp, gateway tcp/8080

# the partner that was there first
[Peer]
Name = old
PublicKey = $PUB_O
AllowedIPs = 10.10.0.2/32
EOF
cat >"$TMP/$IF_O.conf" <<EOF
[Interface]
PrivateKey = $KEY_O
Address = 10.10.0.2/24
[Peer]
PublicKey = $PUB_GW
AllowedIPs = 10.10.0.0/24
Endpoint = 192.168.93.1:51820
PersistentKeepalive = 25
EOF
chmod 600 "$TMP"/*.conf
cp "$TMP/$IF.conf" "$TMP/original.conf"
logged() { grep -q -- "$1" "$TMP/gw.log" || { echo "not logged: $1"; tail -n 5 "$TMP/gw.log"; return 1; }; }
check "the gateway comes up" up_logged "$GW" "$TMP/$IF.conf" "$TMP/gw.log"
check "the old peer comes up and reaches it" bash -c "ip netns exec $O $WGATE up $TMP/$IF_O.conf && ip netns exec $O ping -c 2 -W 3 10.10.0.1 >/dev/null"
old_handshake=$(nsx "$GW" wg show "$IF" latest-handshakes | awk -v k="$PUB_O" '$1 == k {print $2}')
nsx "$O" ping -i 0.05 -w 8 10.10.0.1 >"$TMP/old.ping" 2>&1 &
pinger=$!

check "peer add prints a client config (running interface)" \
	bash -c "ip netns exec $GW $WGATE peer add $IF partner-c --groups partners >$TMP/client.conf 2>$TMP/add.err || { cat $TMP/add.err; exit 1; }"
check "the client config has its key, the next free addresses, the endpoint and the routes" bash -c "
	grep -q '^PrivateKey = ' $TMP/client.conf && grep -q '^Address = 10.10.0.3/32, fd10::2/128\$' $TMP/client.conf &&
	grep -q '^PublicKey = $PUB_GW\$' $TMP/client.conf && grep -q '^PresharedKey = ' $TMP/client.conf &&
	grep -q '^Endpoint = 192.168.93.1:51820\$' $TMP/client.conf &&
	grep -q '^AllowedIPs = 10.10.0.0/24, fd10::/64\$' $TMP/client.conf"
check "the file is 0600, with the previous version kept as .bak" bash -c "
	[ \$(stat -c %a $TMP/$IF.conf) = 600 ] && cmp -s $TMP/$IF.conf.bak $TMP/original.conf"
check "the file keeps every line it had; the new [Peer] comes after them" bash -c "
	head -c \$(stat -c %s $TMP/original.conf) $TMP/$IF.conf | cmp -s - $TMP/original.conf &&
	tail -n +\$((\$(wc -l <$TMP/original.conf) + 1)) $TMP/$IF.conf | grep -q '^Name = partner-c\$'"
check "the running interface has the new peer" bash -c "ip netns exec $GW wg show $IF allowed-ips | grep -q '10.10.0.3/32 fd10::2/128'"
check "the client comes up with the printed config as it is" bash -c "
	cp $TMP/client.conf $TMP/$IF_C.conf && chmod 600 $TMP/$IF_C.conf && ip netns exec $C $WGATE up $TMP/$IF_C.conf"
check "the client reaches the gateway through the tunnel" nsx "$C" ping -c 2 -W 3 10.10.0.1
check "peer list shows it with its handshake" bash -c "
	ip netns exec $GW $WGATE peer list $IF | grep -E '^partner-c +[^ ]+ +10.10.0.3/32,fd10::2/128 +partners +[0-9]+s ago'"
check "peer list --json" bash -c "ip netns exec $GW $WGATE peer list $IF --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d[\"schema\"] == \"wgate.peers/1\" and d[\"running\"]
p = {x[\"name\"]: x for x in d[\"peers\"]}
assert p[\"partner-c\"][\"groups\"] == [\"partners\"] and p[\"partner-c\"][\"latest_handshake\"] > 0, p
assert p[\"old\"][\"allowed_ips\"] == [\"10.10.0.2/32\"]'"
wait "$pinger"
check "the old peer's session was untouched: no new handshake, no ping lost" bash -c "
	[ \"\$(ip netns exec $GW wg show $IF latest-handshakes | awk -v k=$PUB_O '\$1 == k {print \$2}')\" = '$old_handshake' ] &&
	grep -q ' 0% packet loss' $TMP/old.ping"

check "a second peer of the same name is refused" bash -c "! ip netns exec $GW $WGATE peer add $IF partner-c 2>$TMP/err && grep -q \"already has a peer named \\\`partner-c'\" $TMP/err"
cp "$TMP/$IF.conf" "$TMP/before.conf"
check "a group no [Group] defines is refused, the file and interface unchanged" bash -c "
	! ip netns exec $GW $WGATE peer add $IF partner-x --groups nosuch 2>$TMP/err &&
	grep -q 'would not load.*nosuch' $TMP/err && cmp -s $TMP/$IF.conf $TMP/before.conf &&
	! ip netns exec $GW wg show $IF allowed-ips | grep -q 10.10.0.4/"
peers_before=$(nsx "$GW" wg show "$IF" peers | wc -l)
# the gateway's config cannot be written (a file where its directory was): the reload falls short
mv "$TMP/gw" "$TMP/gw.away" && touch "$TMP/gw"
check "an add whose reload falls short is undone: the file and the interface as they were" bash -c "
	! ip netns exec $GW $WGATE peer add $IF partner-y >/dev/null 2>$TMP/err &&
	grep -q 'is as it was' $TMP/err && cmp -s $TMP/$IF.conf $TMP/before.conf &&
	[ \$(ip netns exec $GW wg show $IF peers | wc -l) = $peers_before ] || { cat $TMP/err; exit 1; }"
rm "$TMP/gw" && mv "$TMP/gw.away" "$TMP/gw"
check "peer remove cuts the client off at once" bash -c "
	ip netns exec $GW $WGATE peer remove $IF partner-c >/dev/null && ! ip netns exec $C ping -c 2 -W 1 10.10.0.1 >/dev/null"
check "and gives back the file byte for byte" cmp "$TMP/$IF.conf" "$TMP/original.conf"
check "removing a peer that is not there says so" bash -c "! ip netns exec $GW $WGATE peer remove $IF partner-c 2>$TMP/err && grep -q 'has no peer named' $TMP/err"

# Ten adds at once: the lock makes them take turns; every address differs.
for i in $(seq 1 10); do
	nsx "$GW" "$WGATE" peer add "$IF" "batch-$i" >"$TMP/batch-$i.conf" 2>"$TMP/batch-$i.err" &
done
wait
check "ten concurrent adds all succeed" bash -c "[ \$(grep -l '^Address = ' $TMP/batch-*.conf | wc -l) = 10 ]"
check "with ten distinct addresses" bash -c "[ \$(grep -h '^Address = ' $TMP/batch-*.conf | sort -u | wc -l) = 10 ]"
check "all ten on the running interface, with the first two" bash -c "[ \$(ip netns exec $GW wg show $IF peers | wc -l) = 11 ]"
for i in $(seq 1 10); do nsx "$GW" "$WGATE" peer remove "$IF" "batch-$i" >/dev/null; done
check "removed again, the file is as it was" cmp "$TMP/$IF.conf" "$TMP/original.conf"
check "no PublicEndpoint and no --endpoint: refused, naming both" bash -c "
	sed '/^PublicEndpoint/d' $TMP/original.conf >$TMP/noep.conf && chmod 600 $TMP/noep.conf &&
	! $WGATE peer add $TMP/noep.conf x 2>$TMP/err && grep -q 'set PublicEndpoint = HOST:PORT in \[Interface\], or give --endpoint' $TMP/err"
# QR codes for mobile clients: both decode to exactly the printed config.
cp "$TMP/original.conf" "$TMP/qr.conf"
check "peer add --qr --png (a config file, no interface)" bash -c "
	$WGATE peer add $TMP/qr.conf phone --qr --png $TMP/phone.png >$TMP/phone.out 2>$TMP/err || { cat $TMP/err; exit 1; }"
awk 'f; /^PersistentKeepalive/ {getline; f = 1}' "$TMP/phone.out" >"$TMP/phone.art"
check "the PNG is mode 0600 (it holds the private key)" test "$(stat -c %a "$TMP/phone.png")" = 600
check "the PNG decodes (zbarimg) to exactly the printed config" bash -c "
	zbarimg --raw -q $TMP/phone.png 2>/dev/null | head -c -1 | cmp - <(head -n \$(grep -n '^PersistentKeepalive' $TMP/phone.out | cut -d: -f1) $TMP/phone.out)"
check "the terminal's QR code decodes to it too" bash -c "
	python3 - $TMP/phone.art $TMP/art.pgm <<'PY'
import sys
rows = []
for line in open(sys.argv[1]).read().split('\\n'):
    if not line:
        continue
    rows.append([255 if c in '\u2588\u2580' else 0 for c in line])
    rows.append([255 if c in '\u2588\u2584' else 0 for c in line])
with open(sys.argv[2], 'wb') as f:
    f.write(b'P5 %d %d 255\\n' % (len(rows[0]) * 4, len(rows) * 4))
    for r in rows:
        line = bytes(v for v in r for _ in range(4))
        f.write(line * 4)
PY
	zbarimg --raw -q $TMP/art.pgm 2>/dev/null | head -c -1 | cmp - <(head -n \$(grep -n '^PersistentKeepalive' $TMP/phone.out | cut -d: -f1) $TMP/phone.out)"
# Expiry: the old peer, pinging all along, is cut off when its moment comes.
cp "$TMP/$IF.conf" "$TMP/pre-expiry.conf"
when=$(date -u -d @$(($(date +%s) + 4)) +%Y-%m-%dT%H:%M:%SZ)
sed -i "s|^Name = old\$|&\nExpires = $when|" "$TMP/$IF.conf"
check "reload gives the old peer an expiry 4 s from now" nsx "$GW" "$WGATE" reload "$IF"
check "show says when it expires" bash -c "ip netns exec $GW $WGATE show $IF | grep -q '^  expires: '"
check "until then it reaches the gateway" nsx "$O" ping -c 1 -W 2 10.10.0.1
nsx "$O" ping -i 0.2 -w 8 10.10.0.1 >"$TMP/expiry.ping" 2>&1
check "past its expiry its pings stop being answered" bash -c "
	grep -q 'icmp_seq=' $TMP/expiry.ping && ! grep -qE 'icmp_seq=(3[0-9]|4[0-9]) ' $TMP/expiry.ping"
check "the log says it expired" logged "event=peer_expired peer=$PUB_O name=old"
# a fresh start, so that it initiates at once (rather than after its session's timers)
nsx "$O" "$WGATE" down "$IF_O" >/dev/null 2>&1
check "the old peer starts again" nsx "$O" "$WGATE" up "$TMP/$IF_O.conf"
check "and gets no answer" bash -c "! ip netns exec $O ping -c 2 -W 2 10.10.0.1 >/dev/null"
check "its new handshakes are refused, and logged" logged "event=handshake_refused peer=$PUB_O name=old .*reason=expired"
check "list --json shows the expiry" bash -c "ip netns exec $GW $WGATE peer list $IF --json | grep -q '\"expires\":$(date -d "$when" +%s)'"
cp "$TMP/pre-expiry.conf" "$TMP/$IF.conf"
check "a reload without Expires lets it back" bash -c "
	ip netns exec $GW $WGATE reload $IF >/dev/null && ip netns exec $O ping -c 1 -W 12 10.10.0.1 >/dev/null"
check "peer --help" bash -c "$WGATE peer --help | grep -q '^Usage: wgate peer add'"
done_testing
