#!/usr/bin/env bash
# wgate strip against `wg-quick strip`: the guide's configs and a generated corpus.
source "$(dirname "$0")/../lib.sh"
fixtures=$(cd "$(dirname "$0")/../fixtures" && pwd)
tmp=$(mktemp -d)
chmod 700 "$tmp"
trap 'rm -rf "$tmp"' EXIT

# fill FILE OUT: the guide's <placeholders> replaced by real keys.
fill() {
	sed -e "s|<gateway_private_key>|$(wg genkey)|" -e "s|<client_private_key>|$(wg genkey)|" \
		-e "s|<client_public_key>|$(wg genkey | wg pubkey)|" \
		-e "s|<gateway_public_key>|$(wg genkey | wg pubkey)|" \
		-e "s|<psk_optional>|$(wg genpsk)|" "$1" >"$2"
}

same_as_wg_quick() {
	local want got
	want=$(wg-quick strip "$1" 2>/dev/null; echo x) || return 1
	got=$("$WGATE" strip "$1" 2>/dev/null; echo x) || return 1
	[ "$want" = "$got" ] || { diff <(echo "$want") <(echo "$got"); return 1; }
}

for f in seed-gateway seed-client; do
	fill "$fixtures/$f.conf" "$tmp/${f#seed-}.conf"
	check "strip of the guide's $f config equals wg-quick strip" same_as_wg_quick "$tmp/${f#seed-}.conf"
done

# The stripped output is accepted by wg itself.
wg_accepts() {
	"$WGATE" strip "$tmp/gateway.conf" >"$tmp/plain.conf" &&
		grep -q '^PrivateKey' "$tmp/plain.conf" && ! grep -qi '^Address\|^PostUp\|^MTU' "$tmp/plain.conf"
}
check "stripped gateway config keeps wg keys and drops wg-quick keys" wg_accepts

# ---- a generated corpus of valid configs ----
RANDOM=4242
pick() { local a=("$@"); printf '%s' "${a[RANDOM % ${#a[@]}]}"; }
mixcase() {
	local s=$1 out="" c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		if ((RANDOM % 3 == 0)); then out+=${c^^}; elif ((RANDOM % 3 == 0)); then out+=${c,,}; else out+=$c; fi
	done
	printf '%s' "$out"
}
sp() { pick "" " " "  " $'\t' $' \t'; }
kv() { printf '%s%s%s=%s%s%s\n' "$(pick "" "" " " $'\t')" "$(mixcase "$1")" "$(sp)" "$(sp)" "$2" "$(pick "" "" " " "  # note")"; }
v4() { echo "10.$((RANDOM % 256)).$((RANDOM % 256)).$((RANDOM % 256))"; }
v6() { printf 'fd%02x::%x' $((RANDOM % 256)) $((RANDOM % 65536)); }
maybe() { ((RANDOM % 100 < $1)); }

interface_section() {
	echo "$(pick "[Interface]" "[interface]" "[INTERFACE]" "  [Interface]  # gw")"
	maybe 90 && kv PrivateKey "$(wg genkey)"
	maybe 50 && kv ListenPort $((RANDOM % 65536))
	maybe 20 && kv FwMark "$(pick off 0x$((RANDOM % 999)) $((RANDOM)))"
	maybe 70 && kv Address "$(v4)/$((8 + RANDOM % 25))$(maybe 50 && echo ", $(v6)/64")"
	maybe 20 && kv Address "$(v6)"
	maybe 40 && kv DNS "$(pick "10.10.0.5" "1.1.1.1, fd00::53" "10.0.0.53, corp.example")"
	maybe 40 && kv MTU $((1280 + RANDOM % 200))
	maybe 20 && kv Table "$(pick off auto 1234 main)"
	maybe 30 && kv PreUp "echo pre up %i = ok"
	maybe 40 && kv PostUp "iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE"
	maybe 30 && kv PreDown "logger down=%i"
	maybe 40 && kv PostDown "iptables -D FORWARD -i %i -j ACCEPT"
	maybe 20 && kv SaveConfig "$(pick true false TRUE)"
	maybe 30 && echo "# a comment line with Address = 1.2.3.4"
	maybe 30 && echo
	true
}
peer_section() {
	echo "$(pick "[Peer]" "[peer]" "[Peer] # partner")"
	maybe 30 && echo "# friendly_name = partner-$RANDOM"
	kv PublicKey "$(wg genkey | wg pubkey)"
	maybe 40 && kv PresharedKey "$(wg genpsk)"
	maybe 90 && kv AllowedIPs "$(v4)/32$(maybe 50 && echo ", $(v4)/24")$(maybe 30 && echo ", $(v6)/128")"
	maybe 20 && kv AllowedIPs "$(v6)/64"
	maybe 50 && kv Endpoint "$(pick "$(v4):51820" "[$(v6)]:$((1 + RANDOM % 65535))" "gw$RANDOM.example.com:51820")"
	maybe 50 && kv PersistentKeepalive "$(pick 25 off 0 $((RANDOM % 65536)))"
	true
}
gen_config() {
	interface_section
	local n=$((RANDOM % 4)) i
	for ((i = 0; i < n; i++)); do peer_section; done
	maybe 10 && { echo "[Interface]"; kv PostUp "echo second interface section"; }
	maybe 50 && printf '%s' "[Peer]"$'\n'"PublicKey = $(wg genkey | wg pubkey)"  # no final newline
	true
}

corpus() {
	local i f bad=0
	for i in $(seq 1 "${STRIP_CONFIGS:-100}"); do
		f="$tmp/g$i.conf"
		gen_config >"$f"
		# a config that wgate rejects must not count as a pass
		"$WGATE" strip "$f" >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; cat "$f"; return 1; }
		same_as_wg_quick "$f" || { echo "differs on:"; cat "$f"; bad=1; break; }
	done
	return $bad
}
check "strip equals wg-quick strip on ${STRIP_CONFIGS:-100} generated valid configs" corpus

# ---- errors ----
printf '[Interface]\nListenPort = 99999\n' >"$tmp/bad.conf"
bad_config() {
	local out
	out=$("$WGATE" strip "$tmp/bad.conf" 2>&1) && return 1
	[ "$out" = "wgate strip: $tmp/bad.conf:2: ListenPort \`99999' is not a number from 0 to 65535" ] || { echo "$out"; return 1; }
}
check "an invalid config is refused with file, line and token" bad_config
missing() {
	local out
	out=$("$WGATE" strip wgnosuch0 2>&1) && return 1
	grep -q "/etc/wireguard/wgnosuch0.conf: cannot open: No such file or directory" <<<"$out"
}
check "an interface name stands for /etc/wireguard/NAME.conf" missing
world() {
	fill "$fixtures/seed-client.conf" "$tmp/open.conf"
	chmod 644 "$tmp/open.conf"
	chmod 755 "$tmp"
	"$WGATE" strip "$tmp/open.conf" 2>&1 >/dev/null | grep -q "is world accessible"
	local r=$?
	chmod 700 "$tmp"
	return $r
}
check "a world-readable config draws a warning" world

done_testing
