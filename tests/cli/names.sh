#!/usr/bin/env bash
# Interface names reach paths (/var/run/wireguard/NAME.sock, /run/wgate/NAME.pid):
# a name that could leave those directories is refused before anything is built.
source "$(dirname "$0")/../lib.sh"
WGATED=${WGATED:-$(dirname "$WGATE")/wgated}
dir=$(mktemp -d /tmp/wgate-names.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# ../../tmp/x from /var/run/wireguard is /tmp/x: the socket would be /tmp/x.sock
rm -f /tmp/x.sock
for name in "../../tmp/x" ".." "." "a/b" "" "wg0 x" "abcdefghijklmnop"; do
	check "wgated refuses \`$name' and creates nothing" bash -c "
		! '$WGATED' '$name' 2>'$dir/err' && [ -z \"\$(ls '$dir' | grep -v '^err$')\" ] &&
		grep -q 'is not an interface name\|Usage' '$dir/err'"
done
check "nothing was created outside the socket directory" test ! -e /tmp/x.sock
check "wgate show refuses a name with ../" bash -c "! '$WGATE' show ../x 2>&1 | grep -q Usage"
check "wgate reload refuses a name with ../" bash -c "! '$WGATE' reload ../x >/dev/null 2>&1"
check "wgate set refuses a name with ../" bash -c "! '$WGATE' set ../x listen-port 1 2>/dev/null"
check "a name of wg-quick's characters is accepted as a name (wg0.x-y_z=+)" bash -c "
	'$WGATE' show wg0.x-y_z=+ 2>&1 | grep -q 'no such interface'"
done_testing
