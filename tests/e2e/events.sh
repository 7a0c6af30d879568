#!/usr/bin/env bash
# The event log and the audit trail: one key=value line per event, for a
# handshake, a roam, a change through the control socket and a reload; and no
# key material in any line. A runs in the foreground with its log captured.
# Topology: netns.bash.
source "$(dirname "$0")/netns.bash"

if ! netns_setup; then
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
fi
conf_for a "$PSK" 4 >"$TMP/$IF_A.conf"
ip netns exec "$NS_A" env LOG_LEVEL=info "$WGATE" up -f "$TMP/$IF_A.conf" \
	</dev/null >/dev/null 2>"$TMP/a.log" &
for _ in $(seq 1 30); do in_a ip link show "$IF_A" >/dev/null 2>&1 && break; sleep 0.1; done
conf_for b "$PSK" 4 | start_wgate b
logged() { grep -q -- "$1" "$TMP/a.log" || { echo "not logged: $1"; tail -n 20 "$TMP/a.log"; return 1; }; }

check "the session comes up" ping_ok in_b 10.241.0.1
check "event=handshake_completed with the peer and its endpoint" \
	logged "info: event=handshake_completed peer=$PUB_B endpoint=192.168.241.2:51821"

roam() {
	# (deleting the primary address first: added second, .22 would go with it)
	in_b ip addr del 192.168.241.2/24 dev vb || return 1
	in_b ip addr add 192.168.241.22/24 dev vb || return 1
	ping_ok in_b 10.241.0.1 || return 1
	logged "event=endpoint_changed peer=$PUB_B endpoint=192.168.241.22:51821"
}
check "event=endpoint_changed when the peer roams" roam

P_NEW=$(wg genkey | wg pubkey)
control() {
	in_a wg set "$IF_A" peer "$P_NEW" allowed-ips 10.55.0.0/24 persistent-keepalive 0 || return 1
	logged "event=audit via=control_socket action=peer_added peer=$P_NEW fields=persistent_keepalive,allowed_ips"
}
check "a change through the control socket is audited: path, action, peer, fields" control

reload() {
	P_CONF=$(wg genkey | wg pubkey)
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.66.0.0/24\n' "$P_CONF" >>"$TMP/$IF_A.conf"
	"$WGATE" reload "$IF_A" >/dev/null || return 1
	logged "event=audit via=reload action=peer_added peer=$P_CONF" &&
		logged "event=audit via=reload action=peer_removed peer=$P_NEW" &&
		logged "event=config_reloaded path=$TMP/$IF_A.conf"
}
check "a reload is audited change by change, then summarised" reload

only_real() {
	local before after
	in_a wg showconf "$IF_A" >"$TMP/same.conf" || return 1
	before=$(grep -c 'event=audit' "$TMP/a.log")
	in_a wg syncconf "$IF_A" "$TMP/same.conf" || return 1
	sleep 0.2
	after=$(grep -c 'event=audit' "$TMP/a.log")
	[ "$before" = "$after" ] || { tail -n $((after - before)) "$TMP/a.log"; return 1; }
	in_a wg set "$IF_A" peer "$PUB_B" persistent-keepalive 7 || return 1
	logged "event=audit via=control_socket action=peer_changed peer=$PUB_B fields=persistent_keepalive uid=0 pid=[0-9]*\$"
}
check "the audit trail records only real changes: a syncconf of the running config says nothing; a change names its field, who asked, no stray comma" only_real

no_keys() {
	local hex_a psk_hex
	hex_a=$(base64 -d <<<"$KEY_A" | od -An -tx1 | tr -d ' \n')
	psk_hex=$(base64 -d <<<"$PSK" | od -An -tx1 | tr -d ' \n')
	! grep -q -e "$KEY_A" -e "$PSK" -e "$hex_a" -e "$psk_hex" "$TMP/a.log"
}
check "no private or preshared key appears in the log, in base64 or hex" no_keys
check "every log line is one event of key=value pairs (the [#] line is the status for a person)" bash -c "
	! grep -v '^\[#\]' '$TMP/a.log' | grep -v -E '^[0-9T:.-]+Z wgate\\[$IF_A\\] (info|error|debug): event=[a-z_]+( [a-z_]+=(\"[^\"]*\"|[^ \"]+))*$'"
done_testing
