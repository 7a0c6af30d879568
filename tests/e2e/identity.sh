#!/usr/bin/env bash
# Peer identity for the API gateway (wgate(8), GATEWAY KEYS), against a real
# NGINX and HAProxy: names and groups in show, show --json and the metrics;
# the identity endpoint answering NGINX's auth_request, per group, with the
# peer's name reaching the upstream and the access log; spoofed headers
# overwritten; the answer following a removed peer, a moved AllowedIPs and a
# changed group. The generated gateway configs (GatewayConfig) for NGINX's geo
# and HAProxy's map_ip, followed at reload (GatewayReload). Readiness for
# systemd (Type=notify) only once the address and the policy are in place.
#
#   A  partner-a (wgate)           va 192.168.91.2 -- ga 192.168.91.1 \
#                                                                      GW (wgate 10.10.0.1, NGINX)
#   B  partner-b (wireguard-go)    vb 192.168.92.2 -- gb 192.168.92.1 /
source "$(dirname "$0")/hosts.bash"

GW=wgi-gw-$$ A=wgi-a-$$ B=wgi-b-$$
IF=ig$$ IF_A=ia$$ IF_B=ib$$
chmod 755 "$TMP"
SOCK=/run/wgate/$IF.identity
interfaces_used "$IF" "$IF_A" "$IF_B"
ALL="$GW $A $B"

at_exit() {
	[ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null
	[ -f "$TMP/haproxy.pid" ] && kill "$(cat "$TMP/haproxy.pid")" 2>/dev/null
	rm -f "$SOCK"
}

setup() {
	hosts_add $ALL || return 1
	veth "$GW" "$A" a 91 && veth "$GW" "$B" b 92
}

setup_or_end setup

KEY_GW=$(wg genkey) KEY_A=$(wg genkey) KEY_B=$(wg genkey)
PUB_GW=$(wg pubkey <<<"$KEY_GW") PUB_A=$(wg pubkey <<<"$KEY_A") PUB_B=$(wg pubkey <<<"$KEY_B")

gateway_conf() { # $1: partner-a's groups
	cat <<EOF
[Interface]
PrivateKey = $KEY_GW
ListenPort = 51820
Address = 10.10.0.1/24
MetricsAddress = 127.0.0.1:9586
IdentityAddress = unix:$SOCK
ApiPorts = tcp/8080-8083
GatewayConfig = nginx $TMP/gw/wgate.nginx
GatewayConfig = haproxy $TMP/gw/wgate.map
GatewayReload = echo reload >>$TMP/gateway-reloads
GatewayReload = test ! -f $TMP/nginx.pid || kill -HUP \$(cat $TMP/nginx.pid)
GatewayReload = test ! -f $TMP/haproxy.pid || haproxy -D -p $TMP/haproxy.pid -f $TMP/haproxy.cfg -sf \$(cat $TMP/haproxy.pid)

[Group]
Name = orders
Allow = gateway tcp/8080-8083, gateway icmp

[Group]
Name = status
Allow = gateway tcp/8080-8083, gateway icmp

[Peer]
Name = partner-a
Groups = $1
PublicKey = $PUB_A
AllowedIPs = 10.10.0.2/32

[Peer]
# friendly_name = partner-b
Groups = status
PublicKey = $PUB_B
AllowedIPs = 10.10.0.3/32
EOF
}

peer_conf() { # KEY ADDR
	cat <<EOF
[Interface]
PrivateKey = $1
Address = $2/24

[Peer]
PublicKey = $PUB_GW
AllowedIPs = 10.10.0.0/24
Endpoint = 192.168.$3.1:51820
EOF
}

gateway_conf orders >"$TMP/$IF.conf"
peer_conf "$KEY_A" 10.10.0.2 91 >"$TMP/$IF_A.conf"
peer_conf "$KEY_B" 10.10.0.3 92 >"$TMP/$IF_B.conf"
mkdir "$TMP/gw"
# Type=notify: READY=1 comes once the address and the policy are in place.
python3 - "$TMP/notify" "$GW" "$IF" >"$TMP/notify.out" 2>&1 <<'PY' &
import socket, subprocess, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
msg = s.recv(4096).decode()
addr = subprocess.run(["ip", "-n", sys.argv[2], "-o", "addr", "show", "dev", sys.argv[3]],
                      capture_output=True, text=True).stdout
nft = subprocess.run(["ip", "netns", "exec", sys.argv[2], "nft", "list", "table", "inet",
                      "wgate-" + sys.argv[3]], capture_output=True).returncode
print(msg.replace("\n", " "), "|", addr.strip(), "| nft", nft)
PY
listener=$!
for _ in $(seq 1 50); do [ -S "$TMP/notify" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$TMP/notify ip netns exec "$GW" "$WGATE" up -f "$TMP/$IF.conf" 2>"$TMP/up.err" &
wait "$listener"
check "up --foreground says READY=1 to the service manager" grep -q "READY=1" "$TMP/notify.out"
check "by then the tunnel address is there (a gateway can bind to it)" grep -q "inet 10.10.0.1/24" "$TMP/notify.out"
check "and the policy's table" grep -q "| nft 0" "$TMP/notify.out"
for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
check "partner-a (wgate) comes up" nsx "$A" "$WGATE" up "$TMP/$IF_A.conf"
start_b() {
	nsx "$B" wireguard-go "$IF_B" >/dev/null 2>&1 &&
		"$WGATE" strip "$TMP/$IF_B.conf" >"$TMP/b.plain" &&
		nsx "$B" wg setconf "$IF_B" "$TMP/b.plain" &&
		ip -n "$B" addr add 10.10.0.3/24 dev "$IF_B" && ip -n "$B" link set "$IF_B" up
}
check "partner-b (wireguard-go) comes up" start_b
check "up wrote the NGINX config (GatewayConfig)" grep -q '^geo \$wgate_group_orders' "$TMP/gw/wgate.nginx"
check "and the HAProxy map" grep -q '^10.10.0.2/32 partner-a;,orders,$' "$TMP/gw/wgate.map"
check "and ran GatewayReload" test "$(cat "$TMP/gateway-reloads")" = reload
check "the identity socket exists, mode 0666 (the gateway's workers connect to it)" \
	test "$(stat -c %a "$SOCK")" = 666

ask() { # ask PATH XFF: the identity endpoint's status, headers in ask.head, as NGINX would get them
	nsx "$GW" curl -s -o "$TMP/ask.body" -D "$TMP/ask.head" -w '%{http_code}' \
		--unix-socket "$SOCK" ${2:+-H "X-Forwarded-For: $2"} "http://wgate$1"
}
ask_is() { # ask_is STATUS PATH XFF [HEADER-PATTERN]
	local got
	got=$(ask "$2" "$3")
	[ "$got" = "$1" ] || { echo "status $got, not $1"; cat "$TMP/ask.head" "$TMP/ask.body"; return 1; }
	[ -z "${4:-}" ] || grep -qiE "$4" "$TMP/ask.head" || { cat "$TMP/ask.head"; return 1; }
}

# Before any handshake: known, but no live session.
check "before a handshake: 403, Wgate-Result: no_session" ask_is 403 / 10.10.0.2 '^Wgate-Result: no_session'
check "a handshake from partner-a" nsx "$A" ping -c 2 -W 3 10.10.0.1
check "a handshake from partner-b" nsx "$B" ping -c 2 -W 3 10.10.0.1

check "live session: 200" ask_is 200 / 10.10.0.2
check "the name in Wgate-Peer" grep -q '^Wgate-Peer: partner-a' "$TMP/ask.head"
check "the public key in Wgate-Peer-Key" grep -qF "Wgate-Peer-Key: $PUB_A" "$TMP/ask.head"
check "the groups in Wgate-Peer-Groups" grep -q '^Wgate-Peer-Groups: orders' "$TMP/ask.head"
check "the JSON body says the same" grep -qF "\"peer\":\"partner-a\",\"public_key\":\"$PUB_A\",\"groups\":\"orders\"" "$TMP/ask.body"
check "a group the peer is in: 200" ask_is 200 /group/orders/v1/orders 10.10.0.2
check "a group it is not in: 403" ask_is 403 /group/status 10.10.0.2 '^Wgate-Result: not_in_group'
check "the refusal still names the caller, for the gateway's log" grep -q '^Wgate-Peer: partner-a' "$TMP/ask.head"
check "the friendly_name comment names partner-b" ask_is 200 / 10.10.0.3 '^Wgate-Peer: partner-b'
check "an address no peer holds: 403" ask_is 403 / 10.10.0.9 '^Wgate-Result: unknown_address'
check "no X-Forwarded-For: 400" ask_is 400 / ""

# show, show --json, metrics
nsx "$GW" "$WGATE" show "$IF" >"$TMP/show"
check "show prints the name and groups" grep -qzE "name: partner-a.  groups: orders" "$TMP/show"
nsx "$GW" "$WGATE" show "$IF" --json >"$TMP/show.json"
check "show --json carries name and groups" python3 -c "
import json,sys
d=json.load(open('$TMP/show.json'))
p={x['public_key']:x for x in d['interfaces'][0]['peers']}
assert p['$PUB_A']['name']=='partner-a' and p['$PUB_A']['groups']==['orders'], p
assert p['$PUB_B']['name']=='partner-b' and p['$PUB_B']['groups']==['status'], p"
check "wg show (the stock tool) is not disturbed by the names" \
	bash -c "ip netns exec $GW wg show $IF | grep -q 'peer: $PUB_A'"
nsx "$GW" curl -s http://127.0.0.1:9586/metrics >"$TMP/metrics"
check "metrics: wgate_peer_info carries name and groups" \
	grep -qF "wgate_peer_info{interface=\"$IF\",public_key=\"$PUB_A\",name=\"partner-a\",groups=\"orders\"} 1" "$TMP/metrics"
check "metrics: the exporter's friendly_name label" \
	grep -qF "friendly_name=\"partner-b\"" "$TMP/metrics"
check "metrics: the identity endpoint's answers by result" \
	grep -qE "^wgate_identity_answers_total\{interface=\"$IF\",result=\"not_in_group\"\} [1-9]" "$TMP/metrics"

# NGINX with auth_request, as wgate(8) documents it.
cat >"$TMP/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log;
events { worker_connections 64; }
http {
	access_log off;
	log_format wgate '\$remote_addr peer=\$wgate_caller "\$request" \$status';
	upstream wgate_identity { server unix:$SOCK; }
	include $TMP/gw/wgate.nginx;
	server { # static identity: the generated geo blocks
		listen 10.10.0.1:8081;
		location /v1/orders { if (\$wgate_group_orders = 0) { return 403; } include $TMP/static.conf; }
		location /v1/status { if (\$wgate_group_status = 0) { return 403; } include $TMP/static.conf; }
	}
	server { # the API behind the gateway: says who it was told called
		listen 127.0.0.1:9000;
		location / { return 200 "\$uri for \$http_wgate_peer (\$http_wgate_peer_groups)"; }
	}
	server {
		listen 10.10.0.1:8080;
		access_log $TMP/access.log wgate;
		location ~ ^/_wgate/(?<wgate_group>[a-z0-9_.-]+)\$ {
			internal;
			proxy_pass http://wgate_identity/group/\$wgate_group;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
			proxy_set_header X-Forwarded-For \$remote_addr;
		}
		location /v1/orders { auth_request /_wgate/orders; include $TMP/identity.conf; }
		location /v1/status { auth_request /_wgate/status; include $TMP/identity.conf; }
	}
}
EOF
cat >"$TMP/identity.conf" <<EOF
auth_request_set \$wgate_caller \$upstream_http_wgate_peer;
auth_request_set \$wgate_caller_groups \$upstream_http_wgate_peer_groups;
proxy_set_header Wgate-Peer \$wgate_caller;
proxy_set_header Wgate-Peer-Groups \$wgate_caller_groups;
proxy_pass http://127.0.0.1:9000;
EOF
cat >"$TMP/static.conf" <<EOF
proxy_set_header Wgate-Peer \$wgate_peer;
proxy_set_header Wgate-Peer-Groups \$wgate_peer_groups;
proxy_pass http://127.0.0.1:9000;
EOF
top=$(cd "$(dirname "$0")/../.." && pwd)
cat >"$TMP/haproxy.cfg" <<EOF
global
	lua-load $top/dist/haproxy/wgate-identity.lua
defaults
	mode http
	timeout connect 2s
	timeout client 5s
	timeout server 5s
frontend api
	bind 10.10.0.1:8082
	http-request set-var(txn.wgate) src,map_ip($TMP/gw/wgate.map)
	http-request deny deny_status 403 if { path_beg /v1/orders } !{ var(txn.wgate) -m sub ;,orders, }
	http-request deny deny_status 403 if { path_beg /v1/status } !{ var(txn.wgate) -m sub ;,status, }
	http-request set-header Wgate-Peer %[var(txn.wgate),field(1,;)]
	http-request set-header Wgate-Peer-Groups %[var(txn.wgate),field(2,;)]
	default_backend api
frontend live # live identity: HAProxy asks the endpoint (dist/haproxy/wgate-identity.lua)
	bind 10.10.0.1:8083
	http-request lua.wgate-identity unix@$SOCK orders if { path_beg /v1/orders }
	http-request lua.wgate-identity unix@$SOCK status if { path_beg /v1/status }
	http-request deny deny_status 403 if !{ var(txn.wgate_allowed) -m bool }
	http-request set-header Wgate-Peer %[var(txn.wgate_peer)]
	http-request set-header Wgate-Peer-Groups %[var(txn.wgate_groups)]
	default_backend api
backend api
	server api 127.0.0.1:9000
EOF
check "haproxy -c accepts the map_ip config" nsx "$GW" haproxy -c -q -f "$TMP/haproxy.cfg"
check "haproxy starts in the gateway's namespace" nsx "$GW" haproxy -D -p "$TMP/haproxy.pid" -f "$TMP/haproxy.cfg"
check "nginx -t accepts the documented auth_request config" nsx "$GW" nginx -t -c "$TMP/nginx.conf"
check "nginx starts in the gateway's namespace" nsx "$GW" nginx -c "$TMP/nginx.conf"

call() { # call NS PATH [curl args]: body and status
	local ns=$1 path=$2
	shift 2
	ip netns exec "$ns" curl -s -m 5 -w ' %{http_code}' "$@" "http://10.10.0.1:8080$path"
}
call_has() { # call_has NS PATH PATTERN [curl args]
	local ns=$1 path=$2 pattern=$3 out
	shift 3
	out=$(call "$ns" "$path" "$@")
	grep -qE "$pattern" <<<"$out" || { echo "got: $out"; return 1; }
}
check "partner-a calls /v1/orders: 200, the upstream is told partner-a" \
	call_has "$A" /v1/orders '^/v1/orders for partner-a \(orders\)'
check "partner-a calls /v1/status: 403 (not in group status)" call_has "$A" /v1/status ' 403$'
check "partner-b calls /v1/status: 200 as partner-b" \
	call_has "$B" /v1/status '^/v1/status for partner-b \(status\)'
check "partner-b calls /v1/orders: 403" call_has "$B" /v1/orders ' 403$'
check "a forged Wgate-Peer header is overwritten" \
	call_has "$B" /v1/status 'for partner-b' -H 'Wgate-Peer: partner-a'
check "a forged X-Forwarded-For does not borrow another peer's identity" \
	call_has "$B" /v1/orders ' 403$' -H 'X-Forwarded-For: 10.10.0.2'
check "NGINX's access log names the calling peer" \
	bash -c "grep -q '^10.10.0.2 peer=partner-a \"GET /v1/orders' $TMP/access.log && grep -q '^10.10.0.3 peer=partner-b \"GET /v1/status' $TMP/access.log"

call_port() { # call_port PORT NS PATH PATTERN
	local out
	out=$(ip netns exec "$2" curl -s -m 5 -w ' %{http_code}' "http://10.10.0.1:$1$3")
	grep -qE "$4" <<<"$out" || { echo "got: $out"; return 1; }
}
for port in 8081 8082 8083; do
	gw="NGINX, generated config"
	[ $port = 8082 ] && gw="HAProxy, generated map"
	[ $port = 8083 ] && gw="HAProxy, asking the endpoint (Lua)"
	check "$gw: partner-a calls /v1/orders as partner-a" \
		call_port $port "$A" /v1/orders '^/v1/orders for partner-a \(,?orders,?\) 200$'
	check "$gw: partner-a refused /v1/status" call_port $port "$A" /v1/status ' 403$'
	check "$gw: partner-b calls /v1/status as partner-b" \
		call_port $port "$B" /v1/status 'for partner-b \(,?status,?\) 200$'
	check "$gw: partner-b refused /v1/orders" call_port $port "$B" /v1/orders ' 403$'
done

# The answer follows the running interface, at once.
gateway_conf status >"$TMP/$IF.conf"
check "reload moves partner-a from group orders to status" nsx "$GW" "$WGATE" reload "$IF"
check "partner-a's next /v1/orders: 403" call_has "$A" /v1/orders ' 403$'
check "partner-a's next /v1/status: 200" call_has "$A" /v1/status 'for partner-a \(status\)'
check "reload rewrote the generated configs and ran GatewayReload again" \
	bash -c "grep -q '^10.10.0.2/32 partner-a;,status,\$' $TMP/gw/wgate.map && [ \$(wc -l <$TMP/gateway-reloads) = 2 ]"
sleep 1 # NGINX's and HAProxy's new workers
for port in 8081 8082 8083; do
	check "port $port follows: partner-a refused /v1/orders" call_port $port "$A" /v1/orders ' 403$'
	check "port $port follows: partner-a calls /v1/status" call_port $port "$A" /v1/status 'for partner-a \(,?status,?\) 200$'
done
check "a reload that changes nothing leaves the files and the gateway alone" \
	bash -c "ip netns exec $GW $WGATE reload $IF && [ \$(wc -l <$TMP/gateway-reloads) = 2 ]"
check "show follows the reload" bash -c "ip netns exec $GW $WGATE show $IF | grep -qzE 'name: partner-a.  groups: status'"
check "wg set moves 10.10.0.3 to partner-a" \
	nsx "$GW" wg set "$IF" peer "$PUB_A" allowed-ips 10.10.0.2/32,10.10.0.3/32
check "the endpoint names partner-a for 10.10.0.3 at once" ask_is 200 / 10.10.0.3 '^Wgate-Peer: partner-a'
check "wg set removes partner-a" nsx "$GW" wg set "$IF" peer "$PUB_A" remove
check "its address: 403 unknown_address at once" ask_is 403 / 10.10.0.2 '^Wgate-Result: unknown_address'
check "partner-a, removed, gets nothing through" \
	bash -c "! ip netns exec $A curl -s -m 3 http://10.10.0.1:8080/v1/status"
check "10.10.0.3 back to partner-b" nsx "$GW" wg set "$IF" peer "$PUB_B" allowed-ips 10.10.0.3/32
check "partner-b calls /v1/status again" call_has "$B" /v1/status 'for partner-b.* 200$'
check "IdentityAddress cannot change at reload" bash -c "
	sed 's|^IdentityAddress = .*|IdentityAddress = 127.0.0.1:9191|' $TMP/$IF.conf >$TMP/moved.conf && cp $TMP/moved.conf $TMP/$IF.conf &&
	! ip netns exec $GW $WGATE reload $IF 2>$TMP/reload.err && grep -q 'IdentityAddress changed' $TMP/reload.err"
check "down removes the identity socket" bash -c "ip netns exec $GW $WGATE down $IF && [ ! -e $SOCK ]"
done_testing
