#!/usr/bin/env bash
# wgate firewall prints the table a config's access policy makes, without root;
# a bad policy value is refused with its file, line and entry; --check has the
# kernel validate the table (in a namespace of the test's own) without applying it.
source "$(dirname "$0")/../lib.sh"
dir=$(mktemp -d /tmp/wgate-firewall.XXXXXX)
ns=wgf-$$
chmod 755 "$dir"
trap 'rm -rf "$dir"; ip netns del $ns 2>/dev/null' EXIT
ip netns add $ns

{
	printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\n' "$(wg genkey)"
	printf 'ApiPorts = tcp/443\nManagementSources = 192.0.2.0/24\n'
	printf 'Egress = 10.20.0.0/16 tcp/5432\n'
	printf '[Group]\nName = admins\nAllow = gateway tcp/443, 10.20.0.0/16 tcp/5432\n'
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.10.0.2/32\nGroups = admins\n' \
		"$(wg genkey | wg pubkey)"
} >"$dir/wg9.conf"
chmod 644 "$dir/wg9.conf" # for the unprivileged run below; the keys are throwaway

check "an unprivileged user prints the table" bash -c "
	setpriv --reuid=65534 --regid=65534 --clear-groups '$WGATE' firewall '$dir/wg9.conf' >'$dir/out' &&
	grep -q '^table inet wgate-wg9 {' '$dir/out' &&
	grep -q 'ip saddr vmap { 10.10.0.2/32 : jump peer_0_in }' '$dir/out' &&
	grep -q 'ip daddr 10.20.0.0/16 tcp dport 5432 accept' '$dir/out'"
check "nft itself accepts the printed table" ip netns exec $ns nft -c -f "$dir/out"
check "--check has the kernel validate it, and applies nothing" bash -c "
	ip netns exec $ns '$WGATE' firewall '$dir/wg9.conf' --check >/dev/null &&
	! ip netns exec $ns nft list tables | grep -q wgate-"
printf '[Interface]\nPrivateKey = %s\n' "$(wg genkey)" >"$dir/wg8.conf"
check "a config without a policy makes no table, and says so" bash -c "
	'$WGATE' firewall '$dir/wg8.conf' | grep -q 'no access policy and no full tunnel'"
sed 's|^Egress = .*|Egress = 10.20.0.0/16 tcp/99999|' "$dir/wg9.conf" >"$dir/bad.conf"
check "a bad entry is refused with file, line and the entry" bash -c "
	! '$WGATE' firewall '$dir/bad.conf' 2>'$dir/err' >/dev/null &&
	grep -q 'bad.conf:6: Egress entry .10.20.0.0/16 tcp/99999. has a bad port' '$dir/err'"
running() {
	local port
	printf '[Interface]\nPrivateKey = %s\nListenSources = 192.0.2.0/24\n' "$(wg genkey)" >"$dir/wgf$$.conf"
	chmod 600 "$dir/wgf$$.conf"
	ip netns exec $ns "$WGATE" up "$dir/wgf$$.conf" 2>/dev/null || return 1
	port=$(ip netns exec $ns wg show "wgf$$" listen-port)
	ip netns exec $ns "$WGATE" firewall "wgf$$" | grep -q "udp dport $port ip saddr != { 192.0.2.0/24 }"
	local r=$?
	"$WGATE" down "wgf$$"
	rm -f /var/log/wgate/"wgf$$".log
	rmdir /var/log/wgate 2>/dev/null
	return $r
}
check "an interface name stands for the config it runs, with the port it chose" running
check "--help describes it" bash -c "'$WGATE' firewall --help | grep -q 'Usage: wgate firewall'"
check "strip leaves none of the policy" bash -c "
	'$WGATE' strip '$dir/wg9.conf' >'$dir/plain' &&
	! grep -Eq 'ApiPorts|ManagementSources|Egress|Group|Allow =|Name =' '$dir/plain'"
if ip -n $ns link add wgf0 type wireguard 2>/dev/null; then
	check "wg setconf takes what strip leaves" ip netns exec $ns wg setconf wgf0 "$dir/plain"
else
	diag "no kernel WireGuard here: wg setconf of the stripped file not tried"
fi
done_testing
