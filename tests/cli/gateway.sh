#!/usr/bin/env bash
# wgate gateway prints an API gateway's config of the peers' names and groups,
# without root; each format is accepted by the gateway's own checker where it
# is installed (nginx -t, haproxy -c) and is well-formed JSON otherwise; bad
# arguments and bad GatewayConfig lines are refused with what was wrong.
source "$(dirname "$0")/../lib.sh"
dir=$(mktemp -d /tmp/wgate-gateway.XXXXXX)
chmod 755 "$dir"
trap 'rm -rf "$dir"' EXIT

{
	printf '[Interface]\nPrivateKey = %s\nManagementSources = 192.0.2.0/24\n' "$(wg genkey)"
	printf '[Group]\nName = orders\n[Group]\nName = ops.v2\n'
	printf '[Peer]\nName = partner-a\nGroups = orders, ops.v2\nPublicKey = %s\n' "$(wg genkey | wg pubkey)"
	printf 'AllowedIPs = 10.10.0.0/24, fd10::2/128\n'
	printf '[Peer]\n# friendly_name = Partner "B" $x\nPublicKey = %s\nAllowedIPs = 10.10.0.3/32\n' \
		"$(wg genkey | wg pubkey)"
} >"$dir/wg7.conf"
chmod 644 "$dir/wg7.conf" # for the unprivileged run below; the keys are throwaway

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
for f in nginx haproxy envoy kong; do
	check "an unprivileged user prints the $f config" \
		bash -c "$(declare -f as_nobody); as_nobody '$WGATE' gateway $f '$dir/wg7.conf' >'$dir/out.$f'"
done
check "nginx: a name from a comment is carried safely" grep -q '10.10.0.3/32 "Partner__B___x";' "$dir/out.nginx"
check "nginx: a group's variable, with . made _" grep -q '^geo \$wgate_group_ops_v2 {' "$dir/out.nginx"
cat >"$dir/nginx.conf" <<EOF
pid $dir/nginx.pid;
error_log stderr;
events {}
http {
	include $dir/out.nginx;
	server {
		listen 127.0.0.1:1;
		location / {
			if (\$wgate_group_orders = 0) { return 403; }
			proxy_set_header Wgate-Peer \$wgate_peer;
			return 200 "\$wgate_peer \$wgate_peer_groups";
		}
	}
}
EOF
check "nginx -t accepts it" nginx -t -q -c "$dir/nginx.conf"
cat >"$dir/haproxy.cfg" <<EOF
defaults
	mode http
	timeout connect 1s
	timeout client 1s
	timeout server 1s
frontend f
	bind 127.0.0.1:1
	http-request set-var(txn.wgate) src,map_ip($dir/out.haproxy)
	http-request deny unless { var(txn.wgate) -m sub ;,orders, }
	http-request set-header Wgate-Peer %[var(txn.wgate),field(1,;)]
	default_backend b
backend b
	server s 127.0.0.1:2
EOF
check "haproxy -c accepts the map it reads" haproxy -c -q -f "$dir/haproxy.cfg"
check "envoy: an RBAC filter, well-formed, with a policy per group and per peer" python3 -c "
import json
d = json.load(open('$dir/out.envoy'))
assert d['name'] == 'envoy.filters.http.rbac'
t = d['typed_config']
assert t['@type'].endswith('envoy.extensions.filters.http.rbac.v3.RBAC')
p = t['rules']['policies']
assert t['rules']['action'] == 'ALLOW'
assert set(p) == {'group:orders', 'group:ops.v2', 'peer:partner-a', 'peer:Partner__B___x'}, p.keys()
# 10.10.0.3 nests in partner-a's 10.10.0.0/24 and is not in orders: excluded
r = json.dumps(p['group:orders'])
assert 'not_id' in r and '10.10.0.3' in r"
check "kong: a declarative config 3.0, consumers and an ip-restriction" python3 -c "
import json
d = json.load(open('$dir/out.kong'))
assert d['_format_version'] == '3.0'
assert [c['username'] for c in d['consumers']] == ['partner-a', 'Partner__B___x']
assert d['consumers'][0]['tags'] == ['wgate:wg7', 'group:orders', 'group:ops.v2']
p = d['plugins'][0]
assert p['name'] == 'ip-restriction' and p['instance_name'] == 'wgate-wg7'
assert p['config']['allow'] == ['10.10.0.0/24', '10.10.0.3/32', 'fd10::2/128', '192.0.2.0/24']"

check "--help says what each format is, exit 0" bash -c "'$WGATE' gateway --help | grep -q 'map file for map_ip'"
check "an unknown format is named" bash -c "! '$WGATE' gateway apache '$dir/wg7.conf' 2>'$dir/err' &&
	grep -q \"wgate gateway: \\\`apache' is not nginx, haproxy, envoy or kong\" '$dir/err'"
check "a missing file is named" bash -c "! '$WGATE' gateway nginx '$dir/none.conf' 2>'$dir/err' && grep -q none.conf '$dir/err'"
check "no arguments: usage on stderr, exit 1" bash -c "! '$WGATE' gateway 2>'$dir/err' && grep -q '^Usage: wgate gateway' '$dir/err'"
sed 's|^ManagementSources.*|&\nGatewayConfig = nginx relative.conf|' "$dir/wg7.conf" >"$dir/wg8.conf"
check "a GatewayConfig with a relative path is refused with its line" bash -c "
	! '$WGATE' gateway nginx '$dir/wg8.conf' 2>'$dir/err' &&
	grep -q \"wg8.conf:4: GatewayConfig nginx needs one absolute path to write, not \\\`relative.conf'\" '$dir/err'"
done_testing
