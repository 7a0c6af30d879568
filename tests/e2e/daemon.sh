#!/usr/bin/env bash
# wgate up/down as a daemon: hooks with %i, DNS through resolvconf, and every
# way starting can fail (twice, port in use, no permission, bad hook) leaving
# nothing behind; the daemon stops when its TUN is deleted. Topology: netns.bash.
source "$(dirname "$0")/netns.bash"

if ! netns_setup; then
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
fi

# A resolvconf stand-in that records its calls, so the host's DNS is never touched.
cat >"$TMP/resolvconf" <<EOS
#!/bin/sh
echo "\$*" >>"$TMP/resolvconf.calls"
cat >>"$TMP/resolvconf.calls"
EOS
chmod +x "$TMP/resolvconf"
export WGATE_RESOLVCONF=$TMP/resolvconf

hooked_conf() {
	conf_for a "" 4
	cat <<EOS
[Interface]
DNS = 10.241.0.53, corp.example
PreUp = echo "preup %i" >>$TMP/hooks
PostUp = echo "postup %i" >>$TMP/hooks
PreDown = echo "predown %i" >>$TMP/hooks
PostDown = echo "postdown %i" >>$TMP/hooks
EOS
}

up_down_with_hooks() {
	hooked_conf | start_wgate a || return 1
	in_a ip link show "$IF_A" >/dev/null || return 1
	in_a ip addr show "$IF_A" | grep -q "10.241.0.1/24" || return 1
	in_a ip route | grep -q "10.241.0.2 dev $IF_A" || return 1
	[ "$(in_a cat /sys/class/net/"$IF_A"/mtu)" = 1420 ] || return 1
	"$WGATE" down "$IF_A" || return 1
	! in_a ip link show "$IF_A" >/dev/null 2>&1 || { echo "interface left behind"; return 1; }
	printf 'preup %s\npostup %s\npredown %s\npostdown %s\n' "$IF_A" "$IF_A" "$IF_A" "$IF_A" >"$TMP/want"
	diff "$TMP/want" "$TMP/hooks"
}
check "up and down run PreUp, PostUp, PreDown, PostDown in order with %i" up_down_with_hooks

dns_recorded() {
	grep -q "^-a tun.$IF_A -m 0 -x" "$TMP/resolvconf.calls" &&
		grep -q "^nameserver 10.241.0.53" "$TMP/resolvconf.calls" &&
		grep -q "^search corp.example" "$TMP/resolvconf.calls" &&
		grep -q "^-d tun.$IF_A -f" "$TMP/resolvconf.calls"
}
check "DNS is set through resolvconf on up and removed on down" dns_recorded

# Hooks run as a shell would: nothing blocked, SIGPIPE not ignored (the daemon's own settings).
hooks_get_default_signals() {
	{
		conf_for a "" 4
		printf '[Interface]\nPreDown = grep -E "^Sig(Blk|Ign)" /proc/self/status >%s\n' "$TMP/sigs"
	} | start_wgate a || return 1
	"$WGATE" down "$IF_A" || return 1
	grep -q '^SigBlk:[[:space:]]*0*$' "$TMP/sigs" || { cat "$TMP/sigs"; return 1; }
	# SIGPIPE is signal 13: bit 12 of the ignored mask
	(( (16#$(awk '/^SigIgn/ {print $2}' "$TMP/sigs") & 0x1000) == 0 )) || { cat "$TMP/sigs"; return 1; }
}
check "hooks start with no signal blocked and SIGPIPE at its default" hooks_get_default_signals

# A hook that carries a key inline is logged with the key hidden (foreground: the log is stderr).
hook_secret_hidden() {
	local key pid
	key=$(wg genkey)
	{
		conf_for a "" 4
		printf '[Interface]\nPostUp = echo %s >/dev/null\nPostDown = false %s\n' "$key" "$key"
	} >"$TMP/$IF_A.conf"
	ip netns exec "$NS_A" "$WGATE" up -f "$TMP/$IF_A.conf" </dev/null >/dev/null 2>"$TMP/fg.log" &
	pid=$!
	for _ in $(seq 1 30); do
		in_a ip link show "$IF_A" >/dev/null 2>&1 && break
		sleep 0.1
	done
	kill -TERM $pid
	wait $pid
	grep -q 'event=hook command="echo (hidden) >/dev/null"' "$TMP/fg.log" &&
		grep -q "hook \`false (hidden)' failed" "$TMP/fg.log" || { cat "$TMP/fg.log"; return 1; }
	! grep -qF "${key:0:12}" "$TMP/fg.log"
}
check "a key written inline in a hook is hidden in the log" hook_secret_hidden


# a reload that changes any DNS entry, not only the first, hands the new list to resolvconf
dns_conf() { conf_for a "" 4; printf '[Interface]\nDNS = %s\n' "$1"; }
dns_follows_reload() {
	local list
	dns_conf "10.241.0.53, 10.241.0.54" | start_wgate a || return 1
	for list in "10.241.0.53, 10.241.0.55" "10.241.0.53, 10.241.0.55, corp.example" \
		"10.241.0.53, 10.241.0.55, other.example"; do
		: >"$TMP/resolvconf.calls"
		dns_conf "$list" >"$TMP/$IF_A.conf"
		"$WGATE" reload "$IF_A" >/dev/null || return 1
		# the entry that changed is the last one
		grep -qE "^(nameserver|search) ${list##*, }\$" "$TMP/resolvconf.calls" ||
			{ echo "after DNS = $list:"; cat "$TMP/resolvconf.calls"; return 1; }
	done
	# the same list again leaves resolvconf alone
	: >"$TMP/resolvconf.calls"
	"$WGATE" reload "$IF_A" >/dev/null || return 1
	[ ! -s "$TMP/resolvconf.calls" ] || { cat "$TMP/resolvconf.calls"; return 1; }
}
check "a reload that changes any DNS server or search domain updates resolvconf" dns_follows_reload
stop_side a

twice() {
	local out
	conf_for a "" 4 | start_wgate a || return 1
	out=$(in_a "$WGATE" up "$TMP/$IF_A.conf" 2>&1) && return 1
	grep -q "interface \`$IF_A' already exists" <<<"$out" || { echo "$out"; return 1; }
	conf_for b "" 4 | start_wgate b || return 1
	ping_ok in_a 10.241.0.2 # the first instance is unharmed
}
check "starting twice is refused with a clear message; the first keeps working" twice
stop_side a
stop_side b

port_in_use() {
	local out holder
	ip netns exec "$NS_A" socat -u UDP4-RECV:51820 /dev/null </dev/null >/dev/null 2>&1 &
	holder=$!
	sleep 0.3
	conf_for a "" 4 >"$TMP/$IF_A.conf"
	out=$(in_a "$WGATE" up "$TMP/$IF_A.conf" 2>&1)
	local status=$?
	kill $holder
	[ $status -ne 0 ] || return 1
	grep -q "cannot listen on UDP port 51820: Address already in use" <<<"$out" || { echo "$out"; return 1; }
	! in_a ip link show "$IF_A" >/dev/null 2>&1
}
check "a port in use is reported and nothing is left behind" port_in_use

# refused STATUS OUTPUT PATTERN: wgate up failed, said PATTERN, and left no interface behind.
refused() {
	[ "$1" -ne 0 ] || { echo "wgate up succeeded"; return 1; }
	grep -q "$3" <<<"$2" || { echo "$2"; return 1; }
	! in_a ip link show "$IF_A" >/dev/null 2>&1
}

no_permission() {
	local out dir
	dir=$(mktemp -d)
	chmod 755 "$dir"
	conf_for a "" 4 >"$dir/$IF_A.conf"
	chmod 644 "$dir/$IF_A.conf"
	out=$(in_a setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		"$WGATE" up "$dir/$IF_A.conf" 2>&1)
	local status=$?
	rm -rf "$dir"
	refused $status "$out" "run as root or with CAP_NET_ADMIN"
}
check "without CAP_NET_ADMIN: a clear message, nothing created" no_permission

failing_hook() {
	local out
	{ conf_for a "" 4; printf '[Interface]\nPostUp = exit 3\n'; } >"$TMP/$IF_A.conf"
	out=$(in_a "$WGATE" up "$TMP/$IF_A.conf" 2>&1)
	refused $? "$out" "PostUp: hook \`exit 3' failed with status 3"
}
check "a failing PostUp aborts and removes the interface" failing_hook

bad_config() {
	local out
	printf '[Interface]\nPrivateKey = %s\nAddress = 10.241.0.1/33\n' "$KEY_A" >"$TMP/$IF_A.conf"
	out=$(in_a "$WGATE" up "$TMP/$IF_A.conf" 2>&1)
	refused $? "$out" "$IF_A.conf:3: Address \`10.241.0.1/33'"
}
check "a bad config is refused before anything is created" bad_config

tun_vanishes() {
	local pid
	conf_for a "" 4 | start_wgate a || return 1
	pid=$(cat /run/wgate/"$IF_A".pid)
	in_a ip link del "$IF_A" || return 1
	wait_gone "$pid" && [ ! -e /run/wgate/"$IF_A".pid ]
}
check "the daemon exits when its TUN is deleted" tun_vanishes

foreground() {
	conf_for a "" 4 >"$TMP/$IF_A.conf"
	ip netns exec "$NS_A" "$WGATE" up -f "$TMP/$IF_A.conf" </dev/null >/dev/null 2>"$TMP/fg.log" &
	local pid=$!
	for _ in $(seq 1 30); do
		in_a ip link show "$IF_A" >/dev/null 2>&1 && break
		sleep 0.1
	done
	kill -TERM $pid
	wait $pid || { cat "$TMP/fg.log"; return 1; }
	grep -q "event=stopping signal=Terminated" "$TMP/fg.log" || { cat "$TMP/fg.log"; return 1; }
	! in_a ip link show "$IF_A" >/dev/null 2>&1
}
check "in the foreground, logs go to stderr and SIGTERM stops it cleanly" foreground

# In the background without a syslog at /dev/log, no line is lost: a file of its own.
log_without_syslog() {
	[ -S /dev/log ] && { echo "# syslog present: the fallback is not used here"; return 0; }
	conf_for a "" 4 | start_wgate a || return 1
	"$WGATE" down "$IF_A" || return 1
	local f=/var/log/wgate/"$IF_A".log
	[ "$(stat -c %a "$f")" = 600 ] || return 1
	grep -q 'event=log_fallback' "$f" && grep -q 'event=up ' "$f" && grep -q 'event=down' "$f" ||
		{ cat "$f"; return 1; }
}
check "without syslog, a background daemon logs to /var/log/wgate/IF.log (0600)" log_without_syslog

random_port_and_fwmark() {
	conf_for a "" 4 | grep -v ListenPort | sed '2a FwMark = 0x1234' | start_wgate a || return 1
	in_a ss -Hulne >"$TMP/ss" 2>/dev/null
	local v4 v6
	v4=$(awk '$4 ~ /^0\.0\.0\.0:/ {sub(/.*:/, "", $4); print $4}' "$TMP/ss")
	v6=$(awk '$4 ~ /^\[::\]:/ {sub(/.*:/, "", $4); print $4}' "$TMP/ss")
	[ -n "$v4" ] && [ "$v4" = "$v6" ] || { cat "$TMP/ss"; return 1; }
	[ "$(grep -c 'fwmark:0x1234' "$TMP/ss")" = 2 ] || { cat "$TMP/ss"; return 1; }
}
check "without ListenPort: one random port for IPv4 and IPv6; FwMark on both sockets" random_port_and_fwmark
stop_side a

# A gateway with 300 peers configured, one of them real.
many_peers() {
	local i start end
	{
		conf_for a "" 4
		for i in $(seq 1 299); do
			printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.0/24\n' \
				"$(wg genkey | wg pubkey)" $((100 + i / 200)) $((i % 200))
		done
	} >"$TMP/many"
	start=$(date +%s%N)
	start_wgate a <"$TMP/many" || return 1
	end=$(date +%s%N)
	diag "wgate up with 300 peers and 302 routes took $(((end - start) / 1000000)) ms"
	grep -q "300 peers" "$TMP/$IF_A.log" || { cat "$TMP/$IF_A.log"; return 1; }
	conf_for b "" 4 | start_wgate b || return 1
	ping_ok in_b 10.241.0.1 && ping_ok in_a 10.241.0.2
}
check "a gateway with 300 peers brings up a session with the real one" many_peers
stop_side a
stop_side b

short_path() {
	local out
	out=$("$WGATE" up /nonexist0.conf 2>&1) && return 1
	grep -q "/nonexist0.conf: cannot open: No such file" <<<"$out" || { echo "$out"; return 1; }
}
check "a short config path is a path, not an interface name" short_path

down_unknown() {
	local out
	out=$("$WGATE" down wgnosuch0 2>&1) && return 1
	grep -q "\`wgnosuch0' is not run by wgate" <<<"$out" || { echo "$out"; return 1; }
}
check "wgate down on an interface it does not run says so" down_unknown

done_testing
