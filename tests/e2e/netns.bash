# shellcheck shell=bash
# Two hosts in network namespaces, joined by a veth pair, for end-to-end tests:
#
#   netns $NS_A                                  netns $NS_B
#   tunnel $IF_A  10.241.0.1/24  fd41::1/64      tunnel $IF_B  10.241.0.2/24  fd41::2/64
#   veth va  192.168.241.1/24  fd00:241::1/64 -- veth vb  192.168.241.2/24  fd00:241::2/64
#
# Everything is named after this shell's pid, so runs do not collide (the
# control socket directory /var/run/wireguard is shared by all namespaces),
# and everything is removed on exit, failure or interrupt.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

NS_A=wgt-a-$$ NS_B=wgt-b-$$
IF_A=wga$$ IF_B=wgb$$
TMP=$(mktemp -d)
chmod 700 "$TMP"

netns_cleanup() {
	for ns in "$NS_A" "$NS_B"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
	done
	sleep 0.3
	for ns in "$NS_A" "$NS_B"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -f /var/run/wireguard/"$IF_A".sock /var/run/wireguard/"$IF_B".sock
	rm -f /run/wgate/"$IF_A".pid /run/wgate/"$IF_B".pid /run/wgate/"$IF_A".reload /run/wgate/"$IF_B".reload
	rm -f /var/log/wgate/"$IF_A".log /var/log/wgate/"$IF_B".log
	rmdir /var/log/wgate 2>/dev/null
	rm -rf "$TMP"
}
trap netns_cleanup EXIT
trap 'exit 130' INT TERM

netns_setup() {
	ip netns add "$NS_A" && ip netns add "$NS_B" || return 1
	ip link add va netns "$NS_A" type veth peer name vb netns "$NS_B" || return 1
	ip -n "$NS_A" addr add 192.168.241.1/24 dev va
	ip -n "$NS_B" addr add 192.168.241.2/24 dev vb
	ip -n "$NS_A" addr add fd00:241::1/64 dev va nodad
	ip -n "$NS_B" addr add fd00:241::2/64 dev vb nodad
	for ns in "$NS_A" "$NS_B"; do ip -n "$ns" link set lo up; done
	ip -n "$NS_A" link set va up
	ip -n "$NS_B" link set vb up
}
in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

KEY_A=$(wg genkey) KEY_B=$(wg genkey) PSK=$(wg genpsk)
PUB_A=$(wg pubkey <<<"$KEY_A") PUB_B=$(wg pubkey <<<"$KEY_B")

# conf_for SIDE [PSK] [ENDPOINT-FAMILY]: a wg-quick config for side a or b.
conf_for() {
	local side=$1 psk=${2:-} family=${3:-4} key peer addr peer_addr port peer_port ep
	if [ "$side" = a ]; then
		key=$KEY_A peer=$PUB_B addr=1 peer_addr=2 port=51820 peer_port=51821
	else
		key=$KEY_B peer=$PUB_A addr=2 peer_addr=1 port=51821 peer_port=51820
	fi
	ep="192.168.241.$peer_addr:$peer_port"
	[ "$family" = 6 ] && ep="[fd00:241::$peer_addr]:$peer_port"
	echo "[Interface]"
	echo "PrivateKey = $key"
	echo "ListenPort = $port"
	echo "Address = 10.241.0.$addr/24, fd41::$addr/64"
	echo "[Peer]"
	echo "PublicKey = $peer"
	[ -n "$psk" ] && echo "PresharedKey = $psk"
	echo "AllowedIPs = 10.241.0.$peer_addr/32, fd41::$peer_addr/128"
	echo "Endpoint = $ep"
}

side_names() {
	if [ "$1" = a ]; then IFNAME=$IF_A NS=$NS_A; else IFNAME=$IF_B NS=$NS_B; fi
}

# start_wgate SIDE < CONFIG: runs wgate up in that side's namespace.
start_wgate() {
	side_names "$1"
	cat >"$TMP/$IFNAME.conf"
	ip netns exec "$NS" "$WGATE" up "$TMP/$IFNAME.conf" 2>"$TMP/$IFNAME.log" ||
		{ cat "$TMP/$IFNAME.log"; return 1; }
}

# start_wggo SIDE < CONFIG: runs Debian's wireguard-go, configured by wg setconf and ip.
start_wggo() {
	local a
	side_names "$1"
	cat >"$TMP/$IFNAME.conf"
	ip netns exec "$NS" wireguard-go "$IFNAME" >"$TMP/$IFNAME.log" 2>&1 || return 1
	"$WGATE" strip "$TMP/$IFNAME.conf" >"$TMP/$IFNAME.plain" || return 1
	ip netns exec "$NS" wg setconf "$IFNAME" "$TMP/$IFNAME.plain" || return 1
	for a in $(sed -n 's/^Address = //p' "$TMP/$IFNAME.conf" | tr -d ' ' | tr ',' ' '); do
		ip -n "$NS" addr add "$a" dev "$IFNAME" || return 1
	done
	ip -n "$NS" link set mtu 1420 up dev "$IFNAME"
}

# stop_side SIDE: ends whatever tunnel runs there.
stop_side() {
	side_names "$1"
	ip netns pids "$NS" | xargs -r kill
	for _ in $(seq 1 30); do
		[ -z "$(ip netns pids "$NS")" ] && break
		sleep 0.1
	done
	ip netns pids "$NS" | xargs -r kill -9 2>/dev/null
	ip -n "$NS" link del "$IFNAME" 2>/dev/null
	rm -f /var/run/wireguard/"$IFNAME".sock /run/wgate/"$IFNAME".pid
	true
}

# ping_ok RUN ADDR [COUNT]: replies arrive (the first may wait for a handshake).
ping_ok() {
	local run=$1 addr=$2 count=${3:-3}
	$run ping -c 1 -W 5 "$addr" >"$TMP/ping" 2>&1 || { cat "$TMP/ping"; return 1; }
	$run ping -c "$count" -W 1 -i 0.2 "$addr" >"$TMP/ping" 2>&1 || { cat "$TMP/ping"; return 1; }
}

# ping_fails RUN ADDR [ARGS]: no reply at all.
ping_fails() {
	local run=$1 addr=$2
	shift 2
	! $run ping -c 3 -W 1 -i 0.3 "$@" "$addr" >/dev/null 2>&1
}

# tcp_transfer FROM-SIDE TO-SIDE ADDR MB: sends MB megabytes of random data, compares digests.
tcp_transfer() {
	local from to addr=$3 mb=$4 port=$((20000 + RANDOM % 10000)) want got listener
	side_names "$1"
	from=$NS
	side_names "$2"
	to=$NS
	head -c "${mb}M" /dev/urandom >"$TMP/send"
	ip netns exec "$to" socat -u TCP6-LISTEN:$port,reuseaddr,ipv6only=0 \
		OPEN:"$TMP/recv",creat,trunc </dev/null >/dev/null 2>&1 &
	listener=$!
	for _ in $(seq 1 50); do
		ip netns exec "$to" ss -Hltn "sport = :$port" | grep -q . && break
		sleep 0.1
	done
	[[ $addr == *:* ]] && addr="[$addr]"
	if ! timeout 120 ip netns exec "$from" socat -u OPEN:"$TMP/send" TCP:"$addr":$port; then
		kill $listener 2>/dev/null
		wait $listener 2>/dev/null
		echo "the transfer of $mb MB did not complete"
		return 1
	fi
	wait $listener
	want=$(sha256sum <"$TMP/send") got=$(sha256sum <"$TMP/recv")
	[ "$want" = "$got" ] || { echo "digest differs after $mb MB"; return 1; }
}

# start_wgated SIDE: the daemon alone (wireguard-go's contract), configured later with wg.
start_wgated() {
	side_names "$1"
	ip netns exec "$NS" "${WGATED:-$(dirname "$WGATE")/wgated}" "$IFNAME" 2>"$TMP/$IFNAME.log" ||
		{ cat "$TMP/$IFNAME.log"; return 1; }
}

# gone PID: the process has exited (a zombie left for a non-reaping init counts as gone).
gone() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -z "$state" ] || [[ $state == Z* ]]
}

# wait_gone PID: up to 3 s for the process to exit.
wait_gone() {
	for _ in $(seq 1 30); do
		gone "$1" && return 0
		sleep 0.1
	done
	echo "process $1 still running"
	return 1
}
