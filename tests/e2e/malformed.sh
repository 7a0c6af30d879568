#!/usr/bin/env bash
# Hostile datagrams at a running daemon, over a real socket: every length from
# 0 to 200 bytes with every message type (and none), the exact sizes of each
# handshake message with random contents, and data messages for made-up
# sessions. The daemon must drop them all, stay up, and keep carrying the
# tunnel both ways. The control: its drop counters show the junk arrived.
# Topology: netns.bash; A runs wgate (metrics on 127.0.0.1:9586), B runs
# wireguard-go; the junk comes from B's namespace, from another port.
source "$(dirname "$0")/netns.bash"

if ! netns_setup; then
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
fi
conf_for a "$PSK" 4 | sed '2a MetricsAddress = 127.0.0.1:9586' | start_wgate a
conf_for b "$PSK" 4 | start_wggo b
pid=$(head -n1 /run/wgate/"$IF_A".pid)
drops() {
	ip netns exec "$NS_A" curl -sS --max-time 3 http://127.0.0.1:9586/metrics |
		awk '/^wgate_packets_dropped_total\{/ && /reason="(malformed|bad_mac|no_session)"/ {n += $NF} END {print n + 0}'
}

check "the tunnel carries traffic before the junk" ping_ok in_b 10.241.0.1
before=$(drops)

# junk FAMILY ADDR: every length 0..200 for each type byte 0..5 and 255, the
# handshake sizes, and data-shaped messages; the empty datagram comes first.
junk() {
	in_b python3 - "$1" "$2" <<'PY'
import os, socket, struct, sys
family = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
to = (sys.argv[2], 51820)
sent = 0
def send(b):
    global sent
    s.sendto(b, to)
    sent += 1
send(b"")
for kind in (0, 1, 2, 3, 4, 5, 255):
    for length in range(0, 201):
        body = os.urandom(length)
        if length:
            body = bytes([kind]) + body[1:]
        if length >= 4 and kind:
            body = body[:1] + b"\0\0\0" + body[4:]  # a well-formed header
        send(body)
for size in (148, 92, 64, 32, 48, 1500):
    for kind in (1, 2, 3, 4):
        for _ in range(20):
            send(bytes([kind, 0, 0, 0]) + os.urandom(size - 4))
for counter in range(50):  # data for sessions that do not exist, counters of every size
    send(struct.pack("<IIQ", 4, counter, 1 << (counter % 64)) + os.urandom(32))
print(sent)
PY
}
sent4=$(junk 4 192.168.241.1)
sent6=$(junk 6 fd00:241::1)
sleep 0.5
after=$(drops)
check "the daemon survives $sent4 IPv4 and $sent6 IPv6 malformed datagrams (an empty one first)" \
	bash -c "kill -0 $pid"
check "the junk reached it: malformed, bad_mac and no_session drops rose by most of it ($before -> $after)" \
	test $((after - before)) -ge $(((sent4 + sent6) * 9 / 10))
check "the tunnel still carries traffic B -> A" ping_ok in_b 10.241.0.1
check "and A -> B" ping_ok in_a 10.241.0.2
check "a TCP transfer A -> B completes intact" tcp_transfer a b 10.241.0.2 4
check "a TCP transfer B -> A over IPv6 completes intact" tcp_transfer b a fd41::1 4
check "the handshake still completes: wg show on A sees B's endpoint" bash -c \
	"'$WGATE' show '$IF_A' | grep -q 'endpoint: 192.168.241.2:51821'"
done_testing
