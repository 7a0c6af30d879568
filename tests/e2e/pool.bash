# shellcheck shell=bash
# A pool of two gateway nodes for end-to-end tests; source it after hosts.bash.
# The nodes live in namespaces $G1 and $G2 and share one interface name
# ($IF_G), one config ($TMP/$IF_G.conf) and one tunnel address ($POOL_ADDR):
# each gets a mount namespace of its own for /var/run/wireguard and /run/wgate
# (the paths a name decides) and its own WGATE_STATE_DIR, and NGINX on
# $POOL_ADDR:8080 answering its name (g1, g2).
#   pool_dirs              the nodes' private directories, under $TMP/g1 and $TMP/g2
#   node_in N CMD...       CMD in node N's namespaces
#   node_up N              wgate up (log in $TMP/gN.log), then NGINX
#   node_kill N            every process of the node, at once (kill -9)
#   request_loop NS        a client's requests every 50 ms (0.5 s timeout), one
#                          "ms node" line each ("ms -" failed) in $TMP/requests
#   answers_from NODE S    the last S seconds of requests all answered by NODE
#   failover_gap MS        "GAP LOST": seconds without an answer after the node 1
#                          answer before MS until node 2's, and the requests that failed
#   wait_for S CMD...      CMD until it succeeds, at most S seconds

pool_dirs() { mkdir -p "$TMP"/g{1,2}/{wireguard,wgate,state} /run/wgate; }

node_in() {
	local n=$1 ns=$G1
	shift
	[ "$n" = 2 ] && ns=$G2
	nsx "$ns" unshare -m sh -c \
		'mount --bind "$0/wireguard" /var/run/wireguard && mount --bind "$0/wgate" /run/wgate &&
		 WGATE_STATE_DIR="$0/state" exec "$@"' "$TMP/g$n" "$@"
}

node_up() {
	local n=$1
	node_in "$n" "$WGATE" up -f "$TMP/$IF_G.conf" </dev/null >/dev/null 2>>"$TMP/g$n.log" &
	for _ in $(seq 1 50); do [ -S "$TMP/g$n/wireguard/$IF_G.sock" ] && break; sleep 0.1; done
	[ -S "$TMP/g$n/wireguard/$IF_G.sock" ] || { cat "$TMP/g$n.log"; return 1; }
	cat >"$TMP/nginx-g$n.conf" <<EOF
worker_processes 1;
pid $TMP/nginx-g$n.pid;
error_log $TMP/nginx-g$n.err;
events { worker_connections 64; }
http { access_log off; server { listen $POOL_ADDR:8080; location / { return 200 "g$n\n"; } } }
EOF
	node_in "$n" nginx -c "$TMP/nginx-g$n.conf"
}

node_kill() {
	local ns=$G1
	[ "$1" = 2 ] && ns=$G2
	ip netns pids "$ns" | xargs -r kill -9
	rm -f "$TMP/g$1"/wireguard/* "$TMP/g$1"/wgate/* "$TMP/nginx-g$1.pid"
}

pool_loop() {
	while :; do
		local t r
		t=$(date +%s%3N)
		r=$(curl -s --max-time 0.5 "http://$1:8080/" 2>/dev/null) || r=-
		echo "$t ${r:--}"
		sleep 0.05
	done
}
request_loop() {
	nsx "$1" bash -c "$(declare -f pool_loop); pool_loop $POOL_ADDR" >"$TMP/requests" 2>/dev/null &
	echo $! >"$TMP/loop.pid"
}

answers_from() {
	local now
	now=$(date +%s%3N)
	awk -v since=$((now - $2 * 1000)) -v node="$1" \
		'$1 >= since { n++; if ($2 != node) bad++ } END { exit !(n > 0 && !bad) }' "$TMP/requests"
}

failover_gap() {
	awk -v k="$1" '
		$2 == "g1" && $1 <= k { last = $1 }
		$1 > k && $2 == "-" { lost++ }
		$1 > k && $2 == "g2" && !first { first = $1 }
		END { printf "%.1f %d\n", (first - last) / 1000, lost }' "$TMP/requests"
}

wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.2; done
}
