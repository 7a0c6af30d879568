#!/usr/bin/env bash
# wgate reload: while a long TCP transfer runs between wgate (A) and
# wireguard-go (B), A's config changes (a peer added, one removed, AllowedIPs,
# an Address, the MTU) and is reloaded. The transfer must finish intact with
# no new handshake; every change must show. A broken config changes nothing.
# Topology: netns.bash.
source "$(dirname "$0")/netns.bash"

if ! netns_setup; then
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
fi
P_GONE=$(wg genkey | wg pubkey) P_NEW=$(wg genkey | wg pubkey)
conf_for b "" 4 | start_wggo b
{
	conf_for a "" 4
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.77.0.0/24\n' "$P_GONE"
} | start_wgate a
check "the session comes up" ping_ok in_a 10.241.0.2
hs_before=$(in_b wg show "$IF_B" latest-handshakes | awk '{print $2}')

# the changed config: one peer gone, one new, B gains a prefix, a new address, a new MTU
conf_for a "" 4 | sed -e 's|^Address = .*|&, 10.242.0.1/24|' \
	-e 's|^AllowedIPs = 10.241.0.2/32|AllowedIPs = 10.241.0.2/32, 10.88.0.0/16|' \
	-e '2a MTU = 1380' >"$TMP/next.conf"
printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.99.0.0/24\n' "$P_NEW" >>"$TMP/next.conf"

transfer_with_reload() {
	local port=24999 want got
	head -c 300M /dev/urandom >"$TMP/send"
	ip netns exec "$NS_B" socat -u TCP-LISTEN:$port,reuseaddr OPEN:"$TMP/recv",creat,trunc \
		</dev/null >/dev/null 2>&1 &
	local listener=$!
	for _ in $(seq 1 50); do
		ip netns exec "$NS_B" ss -Hltn "sport = :$port" | grep -q . && break
		sleep 0.1
	done
	ip netns exec "$NS_A" socat -u OPEN:"$TMP/send" TCP:10.241.0.2:$port &
	local sender=$!
	sleep 0.3
	cp "$TMP/next.conf" "$TMP/$IF_A.conf"
	"$WGATE" reload "$IF_A" || { kill $sender $listener; return 1; }
	kill -0 $sender 2>/dev/null || diag "the transfer ended before the reload; still checked"
	wait $sender || { kill $listener; return 1; }
	wait $listener
	want=$(sha256sum <"$TMP/send") got=$(sha256sum <"$TMP/recv")
	[ "$want" = "$got" ] || { echo "digest differs"; return 1; }
}
check "a 300 MB transfer survives a reload intact" transfer_with_reload
hs_after=$(in_b wg show "$IF_B" latest-handshakes | awk '{print $2}')
check "no new handshake for the unchanged peer ($hs_before = $hs_after)" test "$hs_before" = "$hs_after"
check "the removed peer is gone, the new one is there" bash -c "
	! ip netns exec $NS_A wg show $IF_A peers | grep -q '$P_GONE' &&
	ip netns exec $NS_A wg show $IF_A peers | grep -q '$P_NEW'"
check "AllowedIPs follow the file" bash -c "
	ip netns exec $NS_A wg show $IF_A allowed-ips | grep '$PUB_B' | grep -q 10.88.0.0/16"
check "routes follow: added for new prefixes, gone for removed ones" bash -c "
	ip netns exec $NS_A ip route | grep -q '10.88.0.0/16 dev $IF_A' &&
	ip netns exec $NS_A ip route | grep -q '10.99.0.0/24 dev $IF_A' &&
	! ip netns exec $NS_A ip route | grep -q '10.77.0.0/24'"
check "the new address is on the interface" bash -c "ip -n $NS_A addr show $IF_A | grep -q 10.242.0.1/24"
check "the MTU changed" test "$(in_a cat /sys/class/net/"$IF_A"/mtu)" = 1380
check "the tunnel still works" ping_ok in_a 10.241.0.2

broken() {
	local out before
	before=$(in_a wg showconf "$IF_A")
	printf '[Peer]\nPublicKey = nonsense\n' >>"$TMP/$IF_A.conf"
	out=$("$WGATE" reload "$IF_A" 2>&1) && { echo "reload succeeded: $out"; return 1; }
	grep -q "PublicKey \`nonsense' is not a valid key" <<<"$out" || { echo "$out"; return 1; }
	grep -q "nothing was changed" <<<"$out" || { echo "$out"; return 1; }
	diff <(echo "$before") <(in_a wg showconf "$IF_A") || return 1
	# wgate reload reads the report while the daemon writes the next one: never a stale answer
	for i in $(seq 1 40); do
		out=$("$WGATE" reload "$IF_A" 2>&1) && { echo "reload $i succeeded: $out"; return 1; }
		grep -q "nothing was changed" <<<"$out" || { echo "reload $i: $out"; return 1; }
	done
}
check "a broken config is refused with its error and changes nothing, every time" broken

sighup() {
	cp "$TMP/next.conf" "$TMP/$IF_A.conf"
	sed -i 's|^MTU = 1380|MTU = 1400|' "$TMP/$IF_A.conf"
	kill -HUP "$(head -n1 /run/wgate/"$IF_A".pid)"
	for _ in $(seq 1 30); do
		[ "$(in_a cat /sys/class/net/"$IF_A"/mtu)" = 1400 ] && return 0
		sleep 0.1
	done
	return 1
}
check "SIGHUP reloads too" sighup

# Reload makes the running interface match the file, whatever changed it since:
# a private key, preshared key and keepalive set with wg set are put back.
running_follows_file() {
	local psk key_file want_pub
	cp "$TMP/$IF_A.conf" "$TMP/before-set.conf"
	"$WGATE" reload "$IF_A" >/dev/null || return 1
	want_pub=$(in_a wg show "$IF_A" public-key)
	wg genkey >"$TMP/other.key"
	wg genpsk >"$TMP/other.psk"
	in_a wg set "$IF_A" private-key "$TMP/other.key" \
		peer "$P_NEW" preshared-key "$TMP/other.psk" persistent-keepalive 7 || return 1
	[ "$(in_a wg show "$IF_A" public-key)" != "$want_pub" ] || return 1
	"$WGATE" reload "$IF_A" >/dev/null || return 1
	[ "$(in_a wg show "$IF_A" public-key)" = "$want_pub" ] || { echo "private key not put back"; return 1; }
	in_a wg show "$IF_A" preshared-keys | grep "$P_NEW" | grep -q '(none)' ||
		{ echo "preshared key not put back"; return 1; }
	in_a wg show "$IF_A" persistent-keepalive | grep "$P_NEW" | grep -q 'off' ||
		{ echo "keepalive not put back"; return 1; }
}
check "reload puts back a private key, preshared key and keepalive changed with wg set" running_follows_file

# A peer added with wg set and then written to the file gets the file's preshared key.
psk_for_set_peer() {
	local key psk
	key=$(wg genkey | wg pubkey)
	psk=$(wg genpsk)
	in_a wg set "$IF_A" peer "$key" allowed-ips 10.123.0.0/24 || return 1
	printf '[Peer]\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = 10.123.0.0/24\n' \
		"$key" "$psk" >>"$TMP/$IF_A.conf"
	"$WGATE" reload "$IF_A" >/dev/null || return 1
	in_a wg show "$IF_A" preshared-keys | grep "$key" | grep -qF "$psk"
}
check "a peer first added with wg set gets the file's PresharedKey" psk_for_set_peer

# What cannot be applied is named, and the command says so.
partial() {
	local out holder before routes
	# the port is taken in A's namespace by a listener of its own
	in_a python3 -c "import socket,time; s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM); s.bind(('::',51999)); time.sleep(30)" &
	holder=$!
	for _ in $(seq 1 50); do
		in_a ss -Hulnp 'sport = :51999' | grep -q python && break
		sleep 0.1
	done
	sed -i 's|^ListenPort = .*|ListenPort = 51999|' "$TMP/$IF_A.conf"
	cp "$TMP/$IF_A.conf" "$TMP/port.conf"
	# routes change while the daemon applies the peers: a refusal puts them back
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.66.0.0/24\n' "$(wg genkey | wg pubkey)" >>"$TMP/$IF_A.conf"
	before=$(in_a wg showconf "$IF_A")
	routes=$(ip -n "$NS_A" route show table all dev "$IF_A" | sort)
	out=$("$WGATE" reload "$IF_A" 2>&1) && { echo "reload said it applied everything: $out"; kill $holder; return 1; }
	kill $holder
	wait $holder 2>/dev/null
	grep -q "refused the change: Address already in use" <<<"$out" &&
		grep -q "nothing was changed" <<<"$out" || { echo "$out"; return 1; }
	[ "$before" = "$(in_a wg showconf "$IF_A")" ] || { echo "the interface changed"; return 1; }
	diff <(echo "$routes") <(ip -n "$NS_A" route show table all dev "$IF_A" | sort) ||
		{ echo "the routes changed"; return 1; }
	sed 's|^ListenPort = .*|ListenPort = 51820|' "$TMP/port.conf" >"$TMP/$IF_A.conf"
	"$WGATE" reload "$IF_A" >/dev/null
}
check "a reload whose port is taken says so and changes nothing" partial
check "the reload report is not readable by others" test "$(stat -c %a /run/wgate/"$IF_A".reload)" = 600

# Changed hooks run again as down and up would run them; unchanged ones do not;
# and down runs the down hooks that match the up hooks that ran.
hooks() {
	local log="$TMP/hooks.log"
	: >"$log"
	sed -i "/^\[Interface\]/a PostUp = echo up-1 >>$log\nPostDown = echo down-1 >>$log" "$TMP/$IF_A.conf"
	"$WGATE" reload "$IF_A" >/dev/null || return 1
	[ "$(tr '\n' ' ' <"$log")" = "up-1 " ] || { echo "first reload ran: $(cat "$log")"; return 1; }
	"$WGATE" reload "$IF_A" >/dev/null || return 1
	[ "$(tr '\n' ' ' <"$log")" = "up-1 " ] || { echo "an unchanged reload ran: $(cat "$log")"; return 1; }
	sed -i -e 's|echo up-1|echo up-2|' -e 's|echo down-1|echo down-2|' "$TMP/$IF_A.conf"
	"$WGATE" reload "$IF_A" >/dev/null || return 1
	[ "$(tr '\n' ' ' <"$log")" = "up-1 down-1 up-2 " ] || { echo "the change ran: $(cat "$log")"; return 1; }
}
check "changed hooks run again with the down hooks that match; unchanged ones do not" hooks
# Two peers claim one prefix: the later takes it, at every reload, not one reload in two.
# A prefix written with host bits (10.56.0.1/31) is the device's 10.56.0.0/31: an
# unchanged reload changes nothing about it (nothing audited).
later_takes() {
	local p1 p2 p3 holder log=/var/log/wgate/$IF_A.log changes
	cp "$TMP/$IF_A.conf" "$TMP/before-claims.conf"
	p1=$(wg genkey | wg pubkey) p2=$(wg genkey | wg pubkey) p3=$(wg genkey | wg pubkey)
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.55.0.0/24\n' "$p1" "$p2" >>"$TMP/$IF_A.conf"
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.56.0.1/31\n' "$p3" >>"$TMP/$IF_A.conf"
	for round in 1 2 3; do
		"$WGATE" reload "$IF_A" >/dev/null 2>&1 || { echo "reload $round failed"; return 1; }
		holder=$(in_a wg show "$IF_A" allowed-ips | awk '/10\.55\.0\.0\/24/ {print $1}')
		[ "$holder" = "$p2" ] || { echo "round $round: held by ${holder:-nobody}, not the later peer"; return 1; }
		in_a wg show "$IF_A" allowed-ips | grep -q "^$p3	10.56.0.0/31$" ||
			{ echo "round $round: $p3 lacks 10.56.0.0/31"; return 1; }
		changes=$(grep -E "action=(peer_changed|allowed_ip_moved)" "$log" | grep -cF -e "$p1" -e "$p2" -e "$p3")
		[ "$changes" = 0 ] || { echo "round $round: $changes changes audited for an unchanged file"; return 1; }
	done
	grep -q "action=peer_added peer=$p3" "$log" || { echo "the log shows no peer_added"; return 1; }
	cp "$TMP/before-claims.conf" "$TMP/$IF_A.conf"
	"$WGATE" reload "$IF_A" >/dev/null
}
check "a prefix two peers claim stays with the later one, reload after reload" later_takes
# Peers with many AllowedIPs (compared through an index, not one by one):
# random rounds of prefixes dropped, added, moved between peers, claimed twice
# and written with host bits. After each reload the device and the routes hold
# exactly what the file says (the later peer takes a prefix two claim); the
# same file reloaded again changes nothing.
many_prefixes() {
	local keys=() round got want log=/var/log/wgate/$IF_A.log audited
	cp "$TMP/$IF_A.conf" "$TMP/before-many.conf"
	for _ in 1 2 3 4 5; do keys+=("$(wg genkey | wg pubkey)"); done
	for round in 1 2 3 4 5 6; do
		python3 - "$round" "$TMP/before-many.conf" "$TMP/$IF_A.conf" "$TMP/many" "${keys[@]}" <<'PY' || return 1
import ipaddress, random, sys
rnd, base, out, expected, keys = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
r = random.Random(rnd)
pool = [ipaddress.ip_network("10.57.%d.0/24" % i) for i in range(48)]
pool += [ipaddress.ip_network("fd57:%x::/64" % i) for i in range(16)]
holder, text = {}, open(base).read()
for k in keys:
    nets = r.sample(pool, r.choice([1, 3, 9, 12, 20, 30]))
    written = []
    for n in nets:
        holder[n] = k  # the later peer takes it
        # now and then with host bits: the device keeps the network
        written.append(str(n) if r.random() < 0.7 else "%s/%d" % (n.network_address + 5, n.prefixlen))
    text += "[Peer]\nPublicKey = %s\nAllowedIPs = %s\n" % (k, ", ".join(written))
open(out, "w").write(text)
with open(expected + ".ips", "w") as f:
    for n, k in sorted(holder.items(), key=lambda x: (x[1], x[0].version, x[0])):
        f.write("%s %s\n" % (k, n))
with open(expected + ".routes", "w") as f:
    for n in sorted(holder, key=lambda n: (n.version, n)):
        f.write("%s\n" % n)
PY
		"$WGATE" reload "$IF_A" >/dev/null 2>&1 || { echo "round $round: reload failed"; return 1; }
		for pass in 1 2; do
			got=$(in_a wg show "$IF_A" allowed-ips | grep -Ff <(printf '%s\n' "${keys[@]}") |
				awk '{for (i = 2; i <= NF; ++i) if ($i != "(none)") print $1, $i}' | python3 -c '
import ipaddress, sys
rows = [l.split() for l in sys.stdin if l.strip()]
n = lambda p: ipaddress.ip_network(p)
for k, p in sorted(rows, key=lambda r: (r[0], n(r[1]).version, n(r[1]))): print(k, p)')
			want=$(cat "$TMP/many.ips")
			[ "$got" = "$want" ] || { echo "round $round pass $pass: the device holds"; diff <(echo "$want") <(echo "$got") | head; return 1; }
			got=$( (ip -n "$NS_A" route show dev "$IF_A"; ip -n "$NS_A" -6 route show dev "$IF_A") |
				awk '$1 ~ /^(10\.57\.|fd57:)/ {print $1}' | python3 -c '
import ipaddress, sys
nets = [ipaddress.ip_network(l.strip()) for l in sys.stdin if l.strip()]
for n in sorted(nets, key=lambda n: (n.version, n)): print(n)')
			want=$(cat "$TMP/many.routes")
			[ "$got" = "$want" ] || { echo "round $round pass $pass: routes"; diff <(echo "$want") <(echo "$got") | head; return 1; }
			[ "$pass" = 2 ] && break
			# the same file again: nothing to change, nothing audited
			audited=$(grep -c "action=" "$log")
			"$WGATE" reload "$IF_A" >/dev/null 2>&1 || { echo "round $round: the same file failed"; return 1; }
			[ "$(grep -c "action=" "$log")" = "$audited" ] ||
				{ echo "round $round: the same file changed: $(grep "action=" "$log" | tail -n 3)"; return 1; }
		done
	done
	cp "$TMP/before-many.conf" "$TMP/$IF_A.conf"
	"$WGATE" reload "$IF_A" >/dev/null
}
check "peers with many AllowedIPs: device and routes follow the file, round after round" many_prefixes
# 100,000 peers: the file parses, reloads and diffs quickly, and the tunnel
# carries traffic through each reload (a ping every 20 ms, none lost).
timed_reload() {
	local what=$1 t0 t1 pinger lost
	ip netns exec "$NS_A" ping -q -i 0.02 -W 2 10.241.0.2 >"$TMP/during" 2>&1 &
	pinger=$!
	sleep 0.2
	t0=$(date +%s%N)
	local out
	out=$("$WGATE" reload "$IF_A" 2>&1) ||
		{ kill $pinger; echo "reload $what: $(grep -v 'warning: line' <<<"$out" | tail -n 5)"; return 1; }
	t1=$(date +%s%N)
	sleep 0.3
	kill -INT $pinger
	wait $pinger
	lost=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$TMP/during")
	echo "reload $what: $(((t1 - t0) / 1000000)) ms; ping during it: $(grep -o 'rtt.*' "$TMP/during"), ${lost}% lost" >>"$TMP/timings"
	grep config_reloaded /var/log/wgate/"$IF_A".log 2>/dev/null | tail -n1 |
		grep -o 'ms=.*' | sed 's/^/  phases: /' >>"$TMP/timings"
	[ "$lost" = 0 ] || { echo "ping lost ${lost}% during the reload"; return 1; }
}
big_reload() {
	python3 - "$TMP/$IF_A.conf" <<'PY'
import base64, os, sys
with open(sys.argv[1], "a") as f:
    for i in range(100000):
        f.write("[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.%d/32\n" % (
            base64.b64encode(os.urandom(32)).decode(), 160 + i // 65536, (i // 256) % 256, i % 256))
PY
	: >"$TMP/timings"
	timed_reload "adding 100,000 peers" || return 1
	sed -i '/^AllowedIPs = 10\.16[01]\./s|/32|/31|' "$TMP/$IF_A.conf"
	timed_reload "changing 100,000 peers' AllowedIPs" || return 1
	local peers
	peers=$(in_a wg show "$IF_A" peers | wc -l)
	[ "$peers" -ge 100000 ] || { echo "$peers peers run"; return 1; }
	ping_ok in_a 10.241.0.2 || { echo "no ping after the reloads"; return 1; }
}
check "100,000 peers reload and diff; the tunnel carries traffic through it" big_reload
[ -f "$TMP/timings" ] && diag "$(cat "$TMP/timings")"
check "down runs the PostDown matching the PostUp that ran, not the file's later edit" bash -c "
	sed -i -e 's|echo down-2|echo down-never-ran|' '$TMP/$IF_A.conf' &&
	'$WGATE' down $IF_A && [ \"\$(tr '\\n' ' ' <'$TMP/hooks.log')\" = 'up-1 down-1 up-2 down-2 ' ]"
done_testing
