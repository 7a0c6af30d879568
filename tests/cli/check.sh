#!/usr/bin/env bash
# wgate check on config files (no interface runs): the exit status a pipeline
# uses (0 clean, 1 an error or with --strict a warning, 2 unreadable), the
# text and JSON forms, and no key material in what it prints.
source "$(dirname "$0")/../lib.sh"
dir=$(mktemp -d /tmp/wgate-check.XXXXXX)
trap 'rm -rf "$dir"' EXIT
umask 077

KEY=$(wg genkey) PSK=$(wg genpsk)
good() {
	printf '[Interface]\nPrivateKey = %s\nAddress = 10.77.0.2/32\nMTU = 1280\n' "${1:-$KEY}"
	printf '[Peer]\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = 10.77.0.0/24\n' "$(wg genkey | wg pubkey)" "$PSK"
}
good >"$dir/cg1.conf"
check "a clean client config: exit 0, no error or warning" bash -c "
	$WGATE check $dir/cg1.conf --static >$dir/out && tail -n 1 $dir/out | grep -q '^cg1: 0 errors, 0 warnings'"
chmod 644 "$dir/cg1.conf"
check "world-readable: exit 1, the finding with its line and fix" bash -c "
	$WGATE check $dir/cg1.conf --static >$dir/out; [ \$? = 1 ] &&
	grep -q '^$dir/cg1.conf: error \[file-mode\] .* mode 0644' $dir/out && grep -q '^    fix: chmod 600 $dir/cg1.conf' $dir/out"
chmod 600 "$dir/cg1.conf"
{
	good "$(wg genkey)"
	printf '[Peer]\nName = twin\nPublicKey = %s\nAllowedIPs = 10.77.0.0/24\n' "$(wg genkey | wg pubkey)"
} >"$dir/cg2.conf"
check "the same AllowedIPs twice: an error on the later [Peer]'s line" bash -c "
	$WGATE check $dir/cg2.conf --static >$dir/out; [ \$? = 1 ] &&
	grep -q '^$dir/cg2.conf:9: error \[allowedips-same\] peer twin: AllowedIPs 10.77.0.0/24 is also' $dir/out"
check "a warning only: exit 0, with --strict exit 1" bash -c "
	sed -i '\$d' $dir/cg2.conf && echo 'AllowedIPs = 10.78.0.0/24' >>$dir/cg2.conf &&
	$WGATE check $dir/cg2.conf --static >/dev/null && ! $WGATE check $dir/cg2.conf --static --strict >/dev/null"
check "--json: schema, counts, each finding's fields" bash -c "
	$WGATE check $dir/cg2.conf --static --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d[\"schema\"] == \"wgate.check/1\" and d[\"running\"] is False, d
f = [x for x in d[\"findings\"] if x[\"code\"] == \"no-preshared-key\"]
assert f and f[0][\"severity\"] == \"warning\" and f[0][\"peer\"] == \"twin\" and f[0][\"line\"] == 9 and f[0][\"fix\"], f
assert d[\"counts\"][\"warning\"] >= 1 and d[\"counts\"][\"error\"] == 0, d[\"counts\"]'"
check "a config that does not load: exit 2, the parser's message" bash -c "
	printf '[Interface]\nListenPort = x\n' >$dir/cg3.conf; $WGATE check $dir/cg3.conf 2>$dir/err; [ \$? = 2 ] && grep -q 'cg3.conf:2' $dir/err"
check "no such file: exit 2" bash -c "$WGATE check $dir/none.conf 2>/dev/null; [ \$? = 2 ]"
check "--live on an interface that does not run: exit 2" bash -c "$WGATE check $dir/cg1.conf --live 2>$dir/err; [ \$? = 2 ] && grep -q 'not running' $dir/err"
check "an unknown option: exit 2" bash -c "$WGATE check $dir/cg1.conf --bogus 2>/dev/null; [ \$? = 2 ]"
cp "$dir/cg1.conf" "$dir/cg4.conf"
check "the same private key in a config beside it: an error naming that file" bash -c "
	$WGATE check $dir/cg4.conf --static >$dir/out; grep -q 'error \[shared-private-key\] the PrivateKey is also cg1.conf' $dir/out"
check "nothing printed holds key material" bash -c "
	$WGATE check $dir/cg4.conf --static --json >$dir/all; $WGATE check $dir/cg2.conf >>$dir/all;
	! grep -qF -e '$KEY' -e '$PSK' $dir/all"
check "check --help" bash -c "$WGATE check --help | grep -q '^Usage: wgate check'"
done_testing
