#!/usr/bin/env bash
# The README's main command, run as a newcomer runs it.
source "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
log=$top/build/demo.log
check "scripts/demo runs to the end" bash -c "'$top/scripts/demo' >'$log' 2>&1 || { tail -n 20 '$log'; exit 1; }"
has() { grep -qE -- "$1" "$log" || { echo "not in the demo's output: $1"; return 1; }; }
check "partner A calls /v1/orders as itself" has '^partner-a -> http://10.10.0.1:8080/v1/orders +\{"api":"/v1/orders","caller":"partner-a"\}'
check "partner A is refused /v1/status by NGINX" has '^partner-a -> http://10.10.0.1:8080/v1/status +HTTP 403'
check "partner B calls /v1/status as itself, refused /v1/orders" bash -c "$(declare -f has); log=$log
	has '^partner-b -> http://10.10.0.1:8080/v1/status +\\{\"api\":\"/v1/status\",\"caller\":\"partner-b\"\\}' &&
	has '^partner-b -> http://10.10.0.1:8080/v1/orders +HTTP 403'"
check "the admin reaches the admin API; partner A gets no answer there (firewall)" bash -c "$(declare -f has); log=$log
	has '^admin +-> http://10.10.0.1:8000/admin/peers +\\{\"api\":\"/admin/peers\",\"caller\":\"admin\"\\}' &&
	has '^partner-a -> http://10.10.0.1:8000/admin/peers +no answer'"
check "NGINX's access log names the callers, the refused ones too" bash -c "$(declare -f has); log=$log
	has '^  10.10.0.2 peer=partner-a \"GET /v1/orders HTTP/1.1\" 200' &&
	has '^  10.10.0.2 peer=partner-a \"GET /v1/status HTTP/1.1\" 403' &&
	has '^  10.10.0.4 peer=admin \"GET /admin/peers HTTP/1.1\" 200'"
check "the outsider gets nothing; the firewall counted its packets" bash -c "$(declare -f has); log=$log
	has '^outsider +-> http://192.168.50.1:8080/v1/status +no answer' &&
	has \"^wgate's table dropped [1-9][0-9]* packets\""
check "partner B, removed by a reload, gets nothing on its next request" bash -c "$(declare -f has); log=$log
	has '^partner-b -> http://10.10.0.1:8080/v1/status +no answer' &&
	has '^identity endpoint for 10.10.0.3: HTTP/1.1 403 unknown_address'"
check "wgate show names the peers" has '^  name: partner-a'
leftovers() {
	! ip netns list | grep -q "^demo-" && ! ls /var/run/wireguard/wgdemo* >/dev/null 2>&1 &&
		! ls /run/wgate/wgdemo* >/dev/null 2>&1
}
check "the demo leaves no namespace, socket or file behind" leftovers
done_testing
