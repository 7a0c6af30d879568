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
check "wgate down removes the rules" bash -c "
	'$WGATE' down $IF_B &&
	! ip netns exec $NS_B ip -4 rule | grep -q 51820 &&
	! ip netns exec $NS_B ip -6 rule | grep -q 51820 &&
	! ip netns exec $NS_B ip -4 rule | grep -q suppress_prefixlength"
check "and with it the route to the service" ping_fails in_b 10.99.0.1
done_testing
