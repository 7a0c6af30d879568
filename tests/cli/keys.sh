#!/usr/bin/env bash
# wgate genkey/genpsk/pubkey against the stock wg(8): same keys, same contract.
source "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

same_both_ways() {
	local k i
	for i in $(seq 1 200); do
		k=$(wg genkey)
		[ "$("$WGATE" pubkey <<<"$k")" = "$(wg pubkey <<<"$k")" ] || { echo "wg genkey $k"; return 1; }
		k=$("$WGATE" genkey)
		[ "$("$WGATE" pubkey <<<"$k")" = "$(wg pubkey <<<"$k")" ] || { echo "wgate genkey $k"; return 1; }
	done
}
check "wgate pubkey equals wg pubkey on 200 keys from each generator" same_both_ways

clamped() {
	local i b
	for i in $(seq 1 50); do
		# first and last byte of the decoded key
		b=($("$WGATE" genkey | base64 -d | od -An -tu1 | tr -s ' \n' ' '))
		[ ${#b[@]} -eq 32 ] && [ $((b[0] & 7)) -eq 0 ] && [ $((b[31] & 192)) -eq 64 ] || return 1
	done
}
check "genkey output is a clamped 32-byte key" clamped

psk() {
	local a b
	a=$("$WGATE" genpsk) b=$("$WGATE" genpsk)
	[ "$a" != "$b" ] && [ "$(base64 -d <<<"$a" | wc -c)" -eq 32 ] && [ ${#a} -eq 44 ]
}
check "genpsk prints distinct 32-byte base64 keys" psk

# pubkey input handling: the same verdict as wg pubkey, for good and bad input
k=$(wg genkey)
pub=$(wg pubkey <<<"$k")
inputs=(
	"$k"                      # plain, with the newline the here-string adds
	"$k   "                   # trailing blanks
	$'\r\n'                   # nothing
	"${k:0:43}"               # too short
	"${k}x"                   # trailing garbage
	"${k:0:42}B="             # non-canonical padding
	"${k:0:10}!${k:11}"       # not base64
)
i=0
for input in "${inputs[@]}"; do
	i=$((i + 1))
	want_out=$(printf '%s' "$input" | wg pubkey 2>/dev/null); want=$?
	got_out=$(printf '%s' "$input" | "$WGATE" pubkey 2>/dev/null); got=$?
	check "pubkey input $i: exit $want and output as wg pubkey" \
		test "$want/$want_out" = "$got/$got_out"
done
check "pubkey of a correct key equals wg's" test "$(printf '%s\r\n' "$k" | "$WGATE" pubkey)" = "$pub"
check "pubkey names the problem" bash -c "echo abc | '$WGATE' pubkey 2>&1 | grep -q 'Key is not the correct length or format'"

world() {
	(umask 022; "$WGATE" genkey >"$tmp/open.key" 2>"$tmp/open.err")
	(umask 077; "$WGATE" genkey >"$tmp/closed.key" 2>"$tmp/closed.err")
	grep -q "writing to world accessible file" "$tmp/open.err" && [ ! -s "$tmp/closed.err" ] &&
		[ "$(stat -c %a "$tmp/closed.key")" = 600 ]
}
check "genkey warns when writing to a world-accessible file, not otherwise" world

for cmd in genkey genpsk pubkey strip; do
	check "wgate $cmd --help exits 0 with usage" bash -c "'$WGATE' $cmd --help | grep -q '^Usage: wgate $cmd'"
done
check "wgate --help lists the commands" bash -c "'$WGATE' --help | grep -q pubkey"
unknown() {
	local out
	out=$("$WGATE" frobnicate 2>&1) && return 1
	grep -q "unknown command \`frobnicate'" <<<"$out"
}
check "an unknown command fails and says so" unknown
check "genkey refuses arguments" bash -c "! '$WGATE' genkey extra 2>/dev/null"

done_testing
