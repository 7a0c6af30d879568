#!/usr/bin/env bash
# The daemon's two servers against hostile clients: the metrics endpoint
# (HTTP) and the control socket (wg's protocol). Clients that hold connections
# open, send half a request, half-close and never read, or pipeline requests
# without reading, must not lock out a scrape or `wg show', spin the event
# loop, or grow the daemon's memory; a scrape of 10,000 peers streams whole.
# Topology: netns.bash; A runs wgate with metrics on 0.0.0.0:9586, B runs
# wireguard-go and is the outsider for the metrics port.
source "$(dirname "$0")/netns.bash"

if ! netns_setup; then
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
fi
conf_for a "" 4 | sed '2a MetricsAddress = 0.0.0.0:9586' | start_wgate a
conf_for b "" 4 | start_wggo b
pid=$(head -n1 /run/wgate/"$IF_A".pid)
scrape() { in_a curl -sS --max-time "${1:-3}" http://127.0.0.1:9586/metrics; }
cpu_ticks() { awk '{print $14 + $15}' /proc/"$pid"/stat; }
rss_kb() { awk '/^VmRSS/ {print $2}' /proc/"$pid"/status; }

# hold N HOST PORT SECONDS [PAYLOAD]: N connections opened and kept silent (or
# sending PAYLOAD once, then silent), in the background; prints nothing.
hold() {
	local n=$1 host=$2 port=$3 secs=$4 payload=${5:-}
	python3 - "$n" "$host" "$port" "$secs" "$payload" <<'PY' &
import socket, sys, time
n, host, port, secs, payload = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
held = []
for _ in range(n):
    try:
        s = socket.create_connection((host, port), timeout=2)
        if payload:
            s.sendall(payload.encode())
        held.append(s)
    except OSError:
        pass
time.sleep(secs)
PY
}

check "a scrape answers" bash -c "$(declare -f scrape in_a); NS_A=$NS_A; scrape | grep -q '^wgate_build_info'"

# 100 silent connections from the outsider's address; a scrape from elsewhere gets in at once.
in_b bash -c "$(declare -f hold); hold 100 192.168.241.1 9586 20" &
holder=$!
sleep 2
check "100 idle connections from one address do not lock out a scrape from another" \
	bash -c "$(declare -f scrape in_a); NS_A=$NS_A; scrape 2 | grep -q '^wgate_build_info'"
kill $holder 2>/dev/null; wait $holder 2>/dev/null
pkill -f "hold 100 192.168.241.1" 2>/dev/null

# 20 connections from 127.0.0.1 sending half a request: the address's 16 slots are
# taken, but the idle timeout (10 s) frees them: a scrape with retries gets in.
in_a bash -c "$(declare -f hold); hold 20 127.0.0.1 9586 30 'GET /metr'" &
holder=$!
sleep 2
start=$(date +%s)
check "half-sent requests from the scraper's own address are dropped at the idle timeout" \
	bash -c "ip netns exec $NS_A curl -sS --max-time 3 --retry 8 --retry-all-errors --retry-delay 2 \
		http://127.0.0.1:9586/metrics | grep -q '^wgate_build_info'"
diag "the scrape got through after $(($(date +%s) - start)) s"
kill $holder 2>/dev/null; wait $holder 2>/dev/null

# A request, then a half-close, and no reading: no busy loop (the old server spun ~150k/s).
spin_check() { # spin_check HOST PORT REQUEST
	local before after
	before=$(cpu_ticks)
	in_a python3 - "$@" <<'PY'
import socket, sys, time
host, port, req = sys.argv[1], sys.argv[2], sys.argv[3].encode().decode("unicode_escape").encode()
if host.startswith("/"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(host)
else:
    s = socket.create_connection((host, int(port)))
s.sendall(req)
s.shutdown(socket.SHUT_WR)
time.sleep(3)
PY
	after=$(cpu_ticks)
	diag "daemon CPU over 3 s with the client half-closed: $((after - before)) ticks"
	[ $((after - before)) -lt 30 ]
}
check "metrics: a half-closed client that never reads costs no CPU" \
	spin_check 127.0.0.1 9586 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'
check "control socket: a half-closed client that never reads costs no CPU" \
	spin_check /var/run/wireguard/"$IF_A".sock 0 'get=1\n\n'

# 10,000 peers: a scrape streams all their series, and promtool accepts it.
many_peers() {
	local i
	{
		for i in $(seq 1 10000); do
			printf 'public_key=%064x\nallowed_ip=10.%d.%d.0/24\n' "$i" $((100 + i / 256)) $((i % 256))
		done
	} >"$TMP/peers.uapi"
	python3 - "$TMP/peers.uapi" /var/run/wireguard/"$IF_A".sock <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[2])
s.sendall(b"set=1\n" + open(sys.argv[1], "rb").read() + b"\n")
reply = b""
while not reply.endswith(b"\n\n"):
    chunk = s.recv(4096)
    if not chunk: break
    reply += chunk
sys.exit(0 if reply.startswith(b"errno=0") else 1)
PY
}
check "10,000 peers added over the control socket" many_peers
big_scrape() {
	scrape 20 >"$TMP/big" || return 1
	local n
	n=$(grep -c '^wireguard_sent_bytes_total{' "$TMP/big")
	[ "$n" = 10001 ] || { echo "$n series"; return 1; }
	grep -q '^wgate_build_info' "$TMP/big" || return 1
	promtool check metrics <"$TMP/big"
}
check "a scrape of 10,001 peers streams every series and passes promtool" big_scrape

# Pipelined gets that are never read: one answer waits, the rest stay unread in the
# socket; the daemon's memory does not grow by what 2000 answers of 10,000 peers
# (about 2 GB) would take.
pipelined() {
	local before after
	before=$(rss_kb)
	in_a python3 - /var/run/wireguard/"$IF_A".sock <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])
s.setblocking(False)
sent = 0
req = b"get=1\n\n" * 2000
deadline = time.time() + 5
while sent < len(req) and time.time() < deadline:
    try:
        sent += s.send(req[sent:])
    except BlockingIOError:
        time.sleep(0.05)
time.sleep(2)
print(sent // 7, "requests sent", file=sys.stderr)
PY
	after=$(rss_kb)
	diag "daemon RSS before $before kB, after $after kB"
	[ $((after - before)) -lt 65536 ]
}
check "pipelined requests that are never read do not pile up answers" pipelined

# 100 silent control connections: wg show still answers (a full set gives up its idlest).
hold_unix() {
	python3 - "$1" "$2" <<'PY' &
import socket, sys, time
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[2]); held.append(s)
time.sleep(20)
PY
}
hold_unix 100 /var/run/wireguard/"$IF_A".sock
holder=$!
sleep 2
check "100 idle control connections do not lock out wg show" \
	timeout 5 wg show "$IF_A" latest-handshakes
kill $holder 2>/dev/null; wait $holder 2>/dev/null
check "the daemon is still running" kill -0 "$pid"
check "and the tunnel carries traffic" ping_ok in_b 10.241.0.1
done_testing
