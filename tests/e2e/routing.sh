#!/usr/bin/env bash
# A full-tunnel client: AllowedIPs 0.0.0.0/0 and ::/0 routed as wg-quick does
# (own table, fwmark on the tunnel's sockets, suppress_prefixlength rule),
# reaching a service address behind the gateway that it has no other route
# to, while its own UDP still goes out over the underlay. Topology: netns.bash,
# plus 10.99.0.1 and fd99::1 on A's loopback as the service addresses.
source "$(dirname "$0")/netns.bash"

if ! netns_setup; then
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
fi
in_a ip addr add 10.99.0.1/32 dev lo
in_a ip addr add fd99::1/128 dev lo

conf_for a "" 4 | start_wgate a
# as if a daemon had been killed: its table is still there, to be replaced rather than added to
printf '%s\n' "add table inet wgate-$IF_B" \
	"add chain inet wgate-$IF_B premangle { type filter hook prerouting priority -150; }" \
	"add rule inet wgate-$IF_B premangle meta l4proto udp meta mark set ct mark" | in_b nft -f -
conf_for b "" 4 | sed 's|^AllowedIPs = .*|AllowedIPs = 0.0.0.0/0, ::/0|' | start_wgate b

check "without the tunnel's default route B could not reach 10.99.0.1" \
	bash -c "ip netns exec $NS_B ip route get 10.99.0.1 mark 51820 2>&1 | grep -q unreachable"
check "B reaches the service behind the gateway over IPv4" ping_ok in_b 10.99.0.1
check "B reaches the service behind the gateway over IPv6" ping_ok in_b fd99::1
check "policy rules as wg-quick sets them" bash -c "
	ip netns exec $NS_B ip -4 rule | grep -q 'not from all fwmark 0xca6c lookup 51820' &&
	ip netns exec $NS_B ip -4 rule | grep -q 'lookup main suppress_prefixlength 0' &&
	ip netns exec $NS_B ip -6 rule | grep -q 'not from all fwmark 0xca6c lookup 51820'"
check "the tunnel's own sockets carry the mark" \
	bash -c "ip netns exec $NS_B ss -Hulne | grep -q 'fwmark:0xca6c'"

# wg-quick's nft rules for a full tunnel, in wgate's one table (the one a killed daemon
# left was replaced): the tunnel's addresses reachable only through it, and the mark
# kept on the tunnel's UDP replies through conntrack (each rule once)
firewall() {
	local fam addr rules
	rules=$(in_b nft list table inet "wgate-$IF_B") || return 1
	[ "$(grep -c 'meta l4proto udp' <<<"$rules")" = 2 ] || { echo "$rules"; return 1; }
	grep -q 'meta l4proto udp meta mark 0x0000ca6c ct mark set meta mark' <<<"$rules" &&
		grep -q 'meta l4proto udp meta mark set ct mark' <<<"$rules" || { echo "$rules"; return 1; }
	for fam in ip ip6; do
		[ $fam = ip ] && addr=10.241.0.2 || addr=fd41::2
		grep -q "iifname != \"$IF_B\" $fam daddr $addr fib saddr type != local drop" <<<"$rules" ||
			{ echo "$rules"; return 1; }
	done
	[ "$(in_b nft list tables | grep -c "wgate-$IF_B")" = 1 ] || { echo "a table left over"; return 1; }
	# A, on the underlay, sends to B's tunnel address by way of B's veth: dropped; without
	# the rule B would answer (through the tunnel)
	in_a ip route replace 10.241.0.2/32 via 192.168.241.2 dev va || return 1
	ping_fails in_a 10.241.0.2 || return 1
	in_b nft flush chain inet "wgate-$IF_B" preraw || return 1
	ping_ok in_a 10.241.0.2 || { echo "the control failed: dropped even without the rule"; return 1; }
	in_a ip route replace 10.241.0.2/32 dev "$IF_A" || return 1
	ping_ok in_b 10.99.0.1 # the tunnel itself unharmed
}
check "nft rules as wg-quick sets them: the tunnel address answers only through the tunnel" firewall
check "wgate down removes the rules" bash -c "
	'$WGATE' down $IF_B &&
	! ip netns exec $NS_B ip -4 rule | grep -q 51820 &&
	! ip netns exec $NS_B ip -6 rule | grep -q 51820 &&
	! ip netns exec $NS_B ip -4 rule | grep -q suppress_prefixlength &&
	! ip netns exec $NS_B nft list tables 2>/dev/null | grep -q wgate-"
check "and with it the route to the service" ping_fails in_b 10.99.0.1

# without nft the full tunnel still comes up, and the log says what is missing
no_nft() {
	conf_for b "" 4 | sed 's|^AllowedIPs = .*|AllowedIPs = 0.0.0.0/0|' >"$TMP/$IF_B.conf"
	ip netns exec "$NS_B" env WGATE_NFT=off "$WGATE" up -f "$TMP/$IF_B.conf" \
		</dev/null >/dev/null 2>"$TMP/no-nft.log" &
	for _ in $(seq 1 30); do in_b ip link show "$IF_B" >/dev/null 2>&1 && break; sleep 0.1; done
	ping_ok in_b 10.99.0.1 || return 1
	grep -q 'event=firewall_skipped family=ip ' "$TMP/no-nft.log" || { cat "$TMP/no-nft.log"; return 1; }
	! in_b nft list tables | grep -q wgate- || return 1
	"$WGATE" down "$IF_B"
}
check "without nft a full tunnel comes up all the same, the missing rules logged" no_nft
done_testing
