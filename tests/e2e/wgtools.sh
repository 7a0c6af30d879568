#!/usr/bin/env bash
# The stock wg(8) and wg-quick(8) driving wgate over the control socket, as
# they drive wireguard-go: show, showconf, set, setconf, addconf, syncconf,
# raw protocol requests, the socket's life cycle, and wg-quick up/down on the
# guide's two configs with WG_QUICK_USERSPACE_IMPLEMENTATION=wgated.
# Topology: netns.bash.
source "$(dirname "$0")/netns.bash"
WGATED=$(dirname "$WGATE")/wgated
fixtures=$(cd "$(dirname "$0")/../fixtures" && pwd)

if ! netns_setup; then
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
fi
wg_a() { ip netns exec "$NS_A" wg "$@"; }
sock=/var/run/wireguard/$IF_A.sock
# request TEXT: one raw exchange on the control socket.
request() { printf '%b' "$1" | ip netns exec "$NS_A" socat -t 2 - UNIX-CONNECT:"$sock"; }

check "wgated returns once its TUN and socket exist" bash -c "
	ip netns exec $NS_A '$WGATED' $IF_A && ip -n $NS_A link show $IF_A >/dev/null && [ -S $sock ]"
check "the socket is private (umask 077)" test "$(stat -c %a "$sock")" = 700

P1=$(wg genkey | wg pubkey) P2=$(wg genkey | wg pubkey) P3=$(wg genkey | wg pubkey)
cat >"$TMP/c1.conf" <<EOS
[Interface]
PrivateKey = $KEY_A
ListenPort = 40001
FwMark = 0x42

[Peer]
PublicKey = $P1
PresharedKey = $PSK
AllowedIPs = 10.9.1.0/24, fd09:1::/64
Endpoint = 192.168.241.2:51821
PersistentKeepalive = 25

[Peer]
PublicKey = $P2
AllowedIPs = 10.9.2.0/24
Endpoint = [fd00:241::2]:51822
EOS

# showconf of setconf: each key the same, as wg prints them
setconf_round_trip() {
	wg_a setconf "$IF_A" "$TMP/c1.conf" || return 1
	wg_a showconf "$IF_A" >"$TMP/shown" || return 1
	wg_a setconf "$IF_A" "$TMP/shown" || return 1
	wg_a showconf "$IF_A" >"$TMP/shown2" || return 1
	diff "$TMP/shown" "$TMP/shown2" || return 1
	for want in "ListenPort = 40001" "FwMark = 0x42" "PrivateKey = $KEY_A" "PublicKey = $P1" \
		"PresharedKey = $PSK" "AllowedIPs = 10.9.1.0/24, fd09:1::/64" \
		"Endpoint = 192.168.241.2:51821" "PersistentKeepalive = 25" "PublicKey = $P2" \
		"Endpoint = \[fd00:241::2\]:51822"; do
		grep -q "^$want\$" "$TMP/shown" || { echo "missing: $want"; cat "$TMP/shown"; return 1; }
	done
}
check "wg setconf then showconf round-trips every key" setconf_round_trip
check "wg show lists the interface as wg lists wireguard-go's" bash -c "
	ip netns exec $NS_A wg show $IF_A | grep -q '^interface: $IF_A' &&
	ip netns exec $NS_A wg show $IF_A | grep -q 'listening port: 40001' &&
	ip netns exec $NS_A wg show $IF_A | grep -q 'preshared key: (hidden)' &&
	ip netns exec $NS_A wg show $IF_A | grep -q 'persistent keepalive: every 25 seconds'"
check "the listen port is really bound, with the fwmark" bash -c "
	ip netns exec $NS_A ss -Hulne | grep -q ':40001 .*fwmark:0x42'"

set_changes() {
	wg_a set "$IF_A" peer "$P3" allowed-ips 10.9.3.0/24 endpoint 192.168.241.2:3 || return 1
	[ "$(wg_a show "$IF_A" peers | wc -l)" = 3 ] || return 1
	wg_a set "$IF_A" peer "$P1" persistent-keepalive off || return 1
	[ "$(wg_a show "$IF_A" persistent-keepalive | grep "$P1" | awk '{print $2}')" = off ] || return 1
	wg_a set "$IF_A" peer "$P2" preshared-key <(echo "$PSK") || return 1
	wg_a show "$IF_A" preshared-keys | grep -q "$P2	$PSK" || return 1
	wg_a set "$IF_A" peer "$P2" remove || return 1
	! wg_a show "$IF_A" peers | grep -q "$P2" || return 1
	wg_a set "$IF_A" listen-port 40002 fwmark off || return 1
	[ "$(wg_a show "$IF_A" listen-port)" = 40002 ] && [ "$(wg_a show "$IF_A" fwmark)" = off ]
}
check "wg set adds, changes and removes peers, keepalive, PSK, port and fwmark" set_changes

moving_ips() {
	# 10.9.1.0/24 belongs to P1; giving it to P3 takes it from P1
	wg_a set "$IF_A" peer "$P3" allowed-ips 10.9.3.0/24,10.9.1.0/24 || return 1
	wg_a show "$IF_A" allowed-ips | grep "$P3" | grep -q "10.9.1.0/24" || return 1
	! wg_a show "$IF_A" allowed-ips | grep "$P1" | grep -q "10.9.1.0/24" || return 1
	wg_a show "$IF_A" allowed-ips | grep "$P1" | grep -q "fd09:1::/64"
}
check "an allowed IP given to another peer moves to it" moving_ips

syncconf() {
	cat >"$TMP/c2.conf" <<EOS
[Interface]
PrivateKey = $KEY_A
ListenPort = 40003

[Peer]
PublicKey = $P3
AllowedIPs = 10.9.33.0/24
EOS
	wg_a syncconf "$IF_A" "$TMP/c2.conf" || return 1
	[ "$(wg_a show "$IF_A" peers)" = "$P3" ] || { wg_a show "$IF_A" peers; return 1; }
	[ "$(wg_a show "$IF_A" allowed-ips | awk '{print $2}')" = "10.9.33.0/24" ] || return 1
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.9.44.0/24\n' "$P1" >"$TMP/c3.conf"
	wg_a addconf "$IF_A" "$TMP/c3.conf" || return 1
	[ "$(wg_a show "$IF_A" peers | wc -l)" = 2 ]
}
check "wg syncconf makes the peers match the file; addconf adds" syncconf

raw_protocol() {
	local before after out
	before=$(wg_a showconf "$IF_A")
	out=$(request "set=1\nbogus_key=1\n\n")
	[ "$out" = "errno=-71" ] || { echo "unknown key: $out"; return 1; }
	out=$(request "set=1\nlisten_port=99999\n\n")
	[ "$out" = "errno=-22" ] || { echo "bad port: $out"; return 1; }
	# a valid change followed by a bad line: nothing of it applies
	out=$(request "set=1\nlisten_port=40009\npublic_key=$(printf '%064d' 1)\nallowed_ip=10.0.0.0/33\n\n")
	[ "$out" = "errno=-22" ] || { echo "partial: $out"; return 1; }
	out=$(request "hello\n\n")
	[ "$out" = "errno=-71" ] || { echo "unknown op: $out"; return 1; }
	after=$(wg_a showconf "$IF_A")
	[ "$before" = "$after" ] || { echo "state changed"; return 1; }
	# several requests on one connection
	[ "$(request "get=1\n\nget=1\n\n" | grep -c '^errno=0$')" = 2 ] || return 1
	request "get=1\n\n" | grep -q '^protocol_version=1$'
}
check "malformed requests get an errno and change nothing; several per connection" raw_protocol

allowed_ip_removal() {
	local hex
	hex=$(base64 -d <<<"$P3" | od -An -tx1 | tr -d ' \n')
	[ "$(request "set=1\npublic_key=$hex\nallowed_ip=-10.9.33.0/24\n\n")" = "errno=0" ] || return 1
	! wg_a show "$IF_A" allowed-ips | grep -q 10.9.33.0/24
}
check "allowed_ip with a '-' prefix removes it" allowed_ip_removal

stale_and_live() {
	local out
	out=$(ip netns exec "$NS_A" "$WGATED" "$IF_A" 2>&1) && return 1
	grep -q "already controls" <<<"$out" || grep -q "Device or resource busy" <<<"$out" || { echo "$out"; return 1; }
	true
}
check "a second daemon for the same interface is refused" stale_and_live

socket_removed() {
	local pid
	pid=$(pgrep -o -f "wgated $IF_A\$") || { echo "no daemon found"; return 1; } # the monitor
	rm -f "$sock"
	wait_gone "$pid" && ! ip -n "$NS_A" link show "$IF_A" >/dev/null 2>&1
}
check "wgated exits when its socket file is removed" socket_removed

stale_socket() {
	# a socket file whose owner is gone is replaced
	ip netns exec "$NS_A" socat UNIX-LISTEN:"$sock" /dev/null </dev/null >/dev/null 2>&1 &
	local holder=$!
	sleep 0.3
	kill -9 $holder
	wait $holder 2>/dev/null
	[ -S "$sock" ] || return 1
	ip netns exec "$NS_A" "$WGATED" "$IF_A" || return 1
	wg_a show "$IF_A" >/dev/null
}
check "a stale socket file is replaced" stale_socket

# ---- wgate's own commands over the same socket ----
wgate_cmds() {
	local out
	wg_a setconf "$IF_A" "$TMP/c1.conf" || return 1
	diff <(wg_a showconf "$IF_A") <(in_a "$WGATE" showconf "$IF_A") || return 1
	out=$(in_a "$WGATE" show "$IF_A") || return 1
	grep -q "^interface: $IF_A" <<<"$out" && grep -q "listening port: 40001" <<<"$out" &&
		grep -q "allowed ips: 10.9.1.0/24, fd09:1::/64" <<<"$out" || { echo "$out"; return 1; }
	out=$(in_a "$WGATE" show "$IF_A" --json) || return 1
	grep -q '^{"schema":"wgate.show/1","interfaces":\[{"name":"'"$IF_A"'"' <<<"$out" &&
		grep -q '"allowed_ips":\["10.9.1.0/24","fd09:1::/64"\]' <<<"$out" || { echo "$out"; return 1; }
	if command -v python3 >/dev/null; then
		python3 -m json.tool <<<"$out" >/dev/null || { echo "invalid JSON: $out"; return 1; }
	fi
}
check "wgate showconf equals wg showconf; wgate show, text and JSON" wgate_cmds

show_fields() {
	local f
	for f in public-key private-key listen-port fwmark peers preshared-keys endpoints allowed-ips \
		latest-handshakes transfer persistent-keepalive dump; do
		diff <(wg_a show "$IF_A" $f) <(in_a "$WGATE" show "$IF_A" $f) || { echo "field $f differs"; return 1; }
	done
	for f in public-key listen-port peers allowed-ips; do # what no handshake changes meanwhile
		diff <(wg_a show all $f 2>/dev/null | grep "^$IF_A	") \
			<(in_a "$WGATE" show all $f 2>/dev/null | grep "^$IF_A	") || { echo "field $f (all) differs"; return 1; }
	done
	in_a wg set "$IF_A" peer "$(wg_a show "$IF_A" peers | head -n 1)" || return 1
	[ "$(in_a "$WGATE" show "$IF_A" names | wc -l)" = "$(wg_a show "$IF_A" peers | wc -l)" ] &&
		in_a "$WGATE" show "$IF_A" names | grep -q '	(none)$'
}
check "wgate show IF FIELD prints each field as wg show does (and all FIELD); names is wgate's" show_fields

wgate_set() {
	in_a "$WGATE" set "$IF_A" listen-port 40005 peer "$P3" allowed-ips 10.9.5.0/24,fd09:5::/64 \
		endpoint 192.168.241.2:5 persistent-keepalive 15 || return 1
	[ "$(wg_a show "$IF_A" listen-port)" = 40005 ] || return 1
	wg_a show "$IF_A" allowed-ips | grep "$P3" | grep -q "10.9.5.0/24 fd09:5::/64" || return 1
	wg_a show "$IF_A" endpoints | grep "$P3" | grep -q "192.168.241.2:5" || return 1
	in_a "$WGATE" set "$IF_A" peer "$P3" remove || return 1
	! wg_a show "$IF_A" peers | grep -q "$P3" || return 1
	# numbers as wg reads them: decimal even with a leading zero, hexadecimal after 0x
	in_a "$WGATE" set "$IF_A" fwmark 010 || return 1
	[ "$(wg_a show "$IF_A" fwmark)" = 0xa ] || return 1
	in_a "$WGATE" set "$IF_A" fwmark 0x20 || return 1
	[ "$(wg_a show "$IF_A" fwmark)" = 0x20 ] || return 1
	in_a "$WGATE" set "$IF_A" fwmark OFF || return 1
	[ "$(wg_a show "$IF_A" fwmark)" = off ]
}
check "wgate set changes what wg set changes" wgate_set

wgate_set_bad() {
	local before out
	before=$(wg_a showconf "$IF_A")
	out=$(in_a "$WGATE" set "$IF_A" listen-port 40006 peer "$P1" allowed-ips 10.9.0.0/33 2>&1) && return 1
	grep -q "allowed-ips entry \`10.9.0.0/33' is not IP/CIDR" <<<"$out" || { echo "$out"; return 1; }
	# a sign, a space or trailing text is refused, not read as a number
	for arg in "listen-port|+40006" "listen-port| 40006" "listen-port|65536" "fwmark|-1" \
		"fwmark|0x" "fwmark|0x100000000" "fwmark|12abc" "persistent-keepalive|+5"; do
		out=$(in_a "$WGATE" set "$IF_A" listen-port 40006 \
			$([ "${arg%%|*}" = persistent-keepalive ] && echo peer "$P1") \
			"${arg%%|*}" "${arg#*|}" 2>&1) && { echo "accepted: $arg"; return 1; }
		grep -q "${arg%%|*} \`${arg#*|}' is not" <<<"$out" || { echo "$out"; return 1; }
	done
	[ "$before" = "$(wg_a showconf "$IF_A")" ]
}
check "a bad wgate set argument is named and nothing changes" wgate_set_bad

wgate_syncconf() {
	# a wg-quick file is fine: its Address and the like are ignored here
	{ cat "$TMP/c2.conf"; printf '[Interface]\nAddress = 10.9.9.1/24\n'; } >"$TMP/c4.conf"
	in_a "$WGATE" syncconf "$IF_A" "$TMP/c4.conf" || return 1
	[ "$(wg_a show "$IF_A" peers)" = "$P3" ] || { wg_a show "$IF_A" peers; return 1; }
	[ "$(wg_a show "$IF_A" listen-port)" = 40003 ]
}
check "wgate syncconf makes the peers match, accepting a wg-quick file" wgate_syncconf
stop_side a

# ---- descriptors handed over by a supervisor, foreground ----
inherited_fds() {
	local pid
	ip netns exec "$NS_A" perl "$(dirname "$0")/fdpass.pl" "$IF_A" "$WGATED" 2>"$TMP/fd.log" &
	pid=$!
	for _ in $(seq 1 30); do
		wg_a show "$IF_A" >/dev/null 2>&1 && break
		sleep 0.1
	done
	wg_a set "$IF_A" listen-port 40011 || { cat "$TMP/fd.log"; return 1; }
	[ "$(wg_a show "$IF_A" listen-port)" = 40011 ] || return 1
	gone "$pid" && { echo "wgated did not stay in the foreground"; return 1; }
	kill -INT "$pid"
	wait "$pid" || { cat "$TMP/fd.log"; return 1; }
	! ip -n "$NS_A" link show "$IF_A" >/dev/null 2>&1 && [ ! -e "$sock" ]
}
check "WG_TUN_FD, WG_UAPI_FD and WG_PROCESS_FOREGROUND; SIGINT stops it cleanly" inherited_fds

# ---- wg-quick up/down on the guide's configs, with wgated as the userspace implementation ----
fill() {
	sed -e "s|<gateway_private_key>|$KEY_A|" -e "s|<client_private_key>|$KEY_B|" \
		-e "s|<client_public_key>|$PUB_B|" -e "s|<gateway_public_key>|$PUB_A|" \
		-e "s|<psk_optional>|$PSK|" -e "s|api-gateway.example.com:51820|192.168.241.1:51820|" "$1"
}
mkdir -p "$TMP/bin"
if ! command -v resolvconf >/dev/null; then
	# wg-quick runs resolvconf for DNS =; this stand-in records instead of touching the host
	printf '#!/bin/sh\necho "$*" >>%s/resolvconf.calls\ncat >>%s/resolvconf.calls\n' "$TMP" "$TMP" >"$TMP/bin/resolvconf"
	chmod +x "$TMP/bin/resolvconf"
	dns_filter=cat
else
	dns_filter="grep -v ^DNS"
	diag "resolvconf is installed: the client's DNS line is left out so the host stays untouched"
fi
fill "$fixtures/seed-gateway.conf" >"$TMP/$IF_A.conf"
fill "$fixtures/seed-client.conf" | $dns_filter >"$TMP/$IF_B.conf"
wgquick() { ip netns exec "$1" env PATH="$TMP/bin:$PATH" WG_QUICK_USERSPACE_IMPLEMENTATION="$WGATED" wg-quick "${@:2}"; }

if ip netns exec "$NS_A" ip link add wgkprobe type wireguard 2>/dev/null; then
	ip netns exec "$NS_A" ip link del wgkprobe
	ok "wg-quick with wgated # SKIP the kernel has WireGuard, which wg-quick prefers"
else
	check "wg-quick up on the guide's gateway config (PostUp iptables included)" \
		wgquick "$NS_A" up "$TMP/$IF_A.conf"
	check "wg-quick up on the guide's client config (DNS included)" \
		wgquick "$NS_B" up "$TMP/$IF_B.conf"
	check "the client calls the gateway through the tunnel" ping_ok in_b 10.10.0.1
	check "PostUp ran with %i replaced" bash -c "ip netns exec $NS_A iptables -S FORWARD | grep -q -- '-i $IF_A -j ACCEPT'"
	check "wg show through wgated shows the handshake" bash -c "
		ip netns exec $NS_B wg show $IF_B latest-handshakes | awk '{exit !(\$2 > 0)}'"
	if [ -f "$TMP/resolvconf.calls" ] || [ "$dns_filter" = cat ]; then
		check "DNS went to resolvconf" grep -q "nameserver 10.10.0.5" "$TMP/resolvconf.calls"
	fi
	check "wg-quick down on both; PostDown ran; nothing left" bash -c "
		ip netns exec $NS_A env WG_QUICK_USERSPACE_IMPLEMENTATION='$WGATED' wg-quick down '$TMP/$IF_A.conf' &&
		ip netns exec $NS_B env PATH='$TMP/bin:$PATH' WG_QUICK_USERSPACE_IMPLEMENTATION='$WGATED' wg-quick down '$TMP/$IF_B.conf' &&
		! ip netns exec $NS_A iptables -S FORWARD | grep -q -- '-i $IF_A' &&
		! ip -n $NS_A link show $IF_A 2>/dev/null && ! ip -n $NS_B link show $IF_B 2>/dev/null"
	check "the daemons are gone" bash -c "sleep 1; ! pgrep -f 'wgated ($IF_A|$IF_B)\$'"
fi
done_testing
