#!/usr/bin/env bash
# A thousand peers (a hundred under the sanitizers) added one by one to a
# running gateway with wgate peer add:
# every address distinct and on the running interface, the file still loading
# whole; three of them, picked at random, come up from their printed configs
# and reach the gateway; removed, they leave the rest (and, under the
# sanitizers, removing all gives the file back byte for byte).
source "$(dirname "$0")/../lib.sh"

GW=wgm-gw-$$ C=wgm-c-$$
IF=mg$$
TMP=$(mktemp -d)
chmod 700 "$TMP"
N=${PEERS_MANY:-1000}
case $WGATE in */build-san/*) N=${PEERS_MANY:-100} ;; esac # the same logic, under the sanitizers' cost
cleanup() {
	for ns in $GW $C; do ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null; done
	sleep 0.3
	for ns in $GW $C; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -f /var/run/wireguard/"$IF".sock /var/run/wireguard/mc*$$.sock /run/wgate/"$IF".* /run/wgate/mc*$$.*
	rm -f /var/log/wgate/"$IF".log /var/log/wgate/mc*$$.log
	rmdir /var/log/wgate 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! { ip netns add $GW && ip netns add $C; }; then
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
fi
ip link add g0 netns $GW type veth peer name c0 netns $C
ip -n $GW addr add 192.168.95.1/24 dev g0
ip -n $C addr add 192.168.95.2/24 dev c0
for ns in $GW $C; do ip -n $ns link set lo up; done
ip -n $GW link set g0 up
ip -n $C link set c0 up
cat >"$TMP/$IF.conf" <<EOF
# a gateway for many partners
[Interface]
PrivateKey = $(wg genkey)
ListenPort = 51820
Address = 10.30.0.1/22, fd30::1/64
PublicEndpoint = 192.168.95.1:51820
EOF
chmod 600 "$TMP/$IF.conf"
cp "$TMP/$IF.conf" "$TMP/original.conf"
check "the gateway comes up" ip netns exec $GW "$WGATE" up "$TMP/$IF.conf"
add_all() {
	local i
	for i in $(seq 1 "$N"); do
		ip netns exec $GW "$WGATE" peer add "$IF" "p$i" >"$TMP/p$i.conf" 2>"$TMP/err" ||
			{ echo "peer $i: $(cat "$TMP/err")"; return 1; }
	done
}
start=$(date +%s%N)
check "$N peers added one by one to the running gateway" add_all
diag "$N adds took $((($(date +%s%N) - start) / 1000000)) ms"
check "$N distinct IPv4 and IPv6 addresses" bash -c "
	[ \$(grep -h '^Address = ' $TMP/p*.conf | sort -u | wc -l) = $N ] &&
	[ \$(grep -h '^Address = ' $TMP/p*.conf | cut -d' ' -f3 | sort -u | wc -l) = $N ]"
check "none is the gateway's, the network's or the broadcast address" bash -c "
	! grep -h '^Address = ' $TMP/p*.conf | grep -E '= 10\\.30\\.0\\.(0|1)/|= 10\\.30\\.3\\.255/|fd30::1/'"
check "all $N on the running interface" bash -c "[ \$(ip netns exec $GW wg show $IF peers | wc -l) = $N ]"
check "the file still loads whole" "$WGATE" strip "$TMP/$IF.conf"
sample=$(shuf -i 1-"$N" -n 3)
for i in $sample; do
	cp "$TMP/p$i.conf" "$TMP/mc$i$$.conf"
	chmod 600 "$TMP/mc$i$$.conf"
	check "peer $i comes up from its printed config and reaches the gateway" bash -c "
		ip netns exec $C $WGATE up $TMP/mc$i$$.conf 2>$TMP/up.err && ip netns exec $C ping -c 1 -W 5 10.30.0.1 >/dev/null &&
		ip netns exec $C $WGATE down mc$i$$ 2>/dev/null"
done
# removing them one by one: all of them under the sanitizers (the file must come back byte
# for byte), the three sampled ones otherwise (a thousand more reloads prove nothing new)
targets=$(seq 1 "$N")
[ "$N" -gt 100 ] && targets=$sample
remove_them() {
	local i
	for i in $targets; do
		ip netns exec $GW "$WGATE" peer remove "$IF" "p$i" >/dev/null 2>"$TMP/err" ||
			{ echo "peer $i: $(cat "$TMP/err")"; return 1; }
	done
}
check "removed again: $(wc -w <<<"$targets") of them" remove_them
check "the running interface has the rest" bash -c "[ \$(ip netns exec $GW wg show $IF peers | wc -l) = $((N - $(wc -w <<<"$targets"))) ]"
if [ "$N" -le 100 ]; then
	check "the file is as it was, byte for byte" cmp "$TMP/$IF.conf" "$TMP/original.conf"
fi
done_testing
