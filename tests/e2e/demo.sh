#!/usr/bin/env bash
# The README's main command, run as a newcomer runs it.
source "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
demo() {
	"$top/scripts/demo" >"$top/build/demo.log" 2>&1 || { tail -n 20 "$top/build/demo.log"; return 1; }
	grep -q '"status":"ok"' "$top/build/demo.log" && grep -q "HTTP 403" "$top/build/demo.log" &&
		grep -q "no answer (HTTP 000); wgate's table dropped [1-9]" "$top/build/demo.log"
}
check "scripts/demo: the client gets the API's answer through the tunnel; the outsider gets 403, then nothing once the policy is on" demo
leftovers() {
	! ip netns list | grep -q "^demo-" && ! ls /var/run/wireguard/wgdemo* >/dev/null 2>&1
}
check "the demo leaves no namespace or socket behind" leftovers
done_testing
