#!/usr/bin/env bash
# The Prometheus endpoint: a real scrape after traffic, checked for the
# exporter-compatible series, counters that moved by the right amounts, a
# friendly name from the config (quotes escaped), and promtool's approval.
# Topology: netns.bash; metrics on 127.0.0.1:9586 inside A's namespace.
source "$(dirname "$0")/netns.bash"

if ! netns_setup; then
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
fi
{
	conf_for a "" 4 | sed '2a MetricsAddress = 127.0.0.1:9586'
} | sed 's|^\[Peer\]|[Peer]\n# friendly_name = partner "east"|' | start_wgate a
# B serves its metrics on its tunnel address, which exists only once it is up
conf_for b "" 4 | sed '2a MetricsAddress = 10.241.0.2:9586' | start_wgate b
scrape() { ip netns exec "$NS_A" curl -sS --max-time 3 http://127.0.0.1:9586/metrics; }
value() { grep "^$1{" <<<"$2" | grep -- "$3" | awk '{print $NF}'; }

check "the config's MetricsAddress is wgate's own: strip removes it" bash -c "
	! '$WGATE' strip '$TMP/$IF_A.conf' | grep -q MetricsAddress"
before=$(scrape)
check "the endpoint answers before any traffic" grep -q '^wgate_build_info{version="' <<<"$before"
check "1 MB through the tunnel" tcp_transfer b a 10.241.0.1 1
check "MetricsAddress on the tunnel's own address: scraped through the tunnel" bash -c "
	ip netns exec $NS_A curl -sS --max-time 3 http://10.241.0.2:9586/metrics | grep -q '^wgate_peers{interface=\"$IF_B\"} 1'"
after=$(scrape)
rx_before=$(value wireguard_received_bytes_total "$before" "$PUB_B")
rx_after=$(value wireguard_received_bytes_total "$after" "$PUB_B")
check "wireguard_received_bytes_total grew by at least the megabyte ($rx_before -> $rx_after)" \
	test $((rx_after - rx_before)) -ge 1048576
check "and by no more than what the tunnel adds (< 10%)" test $((rx_after - rx_before)) -lt 1153434
check "wireguard_latest_handshake_seconds is a recent Unix time" \
	test $(($(date +%s) - $(value wireguard_latest_handshake_seconds "$after" "$PUB_B"))) -lt 60
check "exporter labels: interface, public_key, allowed_ips, friendly_name (quotes escaped)" \
	grep -q "^wireguard_sent_bytes_total{interface=\"$IF_A\",public_key=\"$PUB_B\",allowed_ips=\"10.241.0.2/32,fd41::2/128\",friendly_name=\"partner \\\\\"east\\\\\"\"} [0-9]" <<<"$after"
check "the same time under Prometheus' timestamp convention" test \
	"$(value wgate_latest_handshake_timestamp_seconds "$after" "$PUB_B")" = \
	"$(value wireguard_latest_handshake_seconds "$after" "$PUB_B")"
check "handshakes completed counted" test "$(value wgate_handshakes_completed_total "$after" "$PUB_B")" -ge 1
check "drops by reason are exposed" grep -q '^wgate_packets_dropped_total{interface="'"$IF_A"'",reason="replay"} 0' <<<"$after"
if command -v promtool >/dev/null; then
	printf '%s\n' "$after" >"$TMP/scrape"
	check "promtool check metrics passes on a real scrape" bash -c "promtool check metrics <'$TMP/scrape'"
else
	not_ok "promtool is installed (scripts/install-deps installs prometheus)"
fi
check "other paths get 404" bash -c "
	[ \"\$(ip netns exec $NS_A curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9586/)\" = 404 ]"
busy() {
	local out
	out=$(conf_for b "" 4 | sed '2a MetricsAddress = 127.0.0.1:9586' | sed 's/51821/51831/' >"$TMP/busy.conf"
		ip netns exec "$NS_A" "$WGATE" up -f "$TMP/busy.conf" 2>&1) && return 1
	grep -q "cannot serve metrics on 127.0.0.1:9586: Address already in use" <<<"$out" || { echo "$out"; return 1; }
}
check "a metrics address in use is reported at up" busy

under_wg_quick() {
	stop_side b
	WGATE_METRICS=127.0.0.1:9587 start_wgated b || return 1
	ip netns exec "$NS_B" curl -sS --max-time 3 http://127.0.0.1:9587/metrics |
		grep -q '^wgate_peers{interface="'"$IF_B"'"} 0'
}
check "wgated (as wg-quick runs it) serves metrics from WGATE_METRICS" under_wg_quick
done_testing
